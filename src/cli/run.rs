//! `sprx run`: simulates a scenario, prints the comparison table and, with `--out`, writes the
//! run directory.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, anyhow};
use clap::Args;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use sprx::engine::runner;
use sprx::output::{self, Manifest, RunRecord, RunResults};
use sprx::scenario::{Scenario, limits};

/// Run a scenario (the embedded default if none is given) and compare its arms.
#[derive(Args)]
pub struct RunArgs {
    /// Scenario file (TOML); the embedded default scenario if omitted.
    scenario: Option<PathBuf>,
    /// Write summary.json, summary.csv, replicates.csv, weekly.csv and manifest.json into DIR
    /// (created if needed).
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Number of replicates, instead of the scenario's [run] replicates.
    #[arg(long, value_name = "N",
          value_parser = clap::value_parser!(u32).range(i64::from(*limits::REPLICATES.start())..=i64::from(*limits::REPLICATES.end())))]
    replicates: Option<u32>,
    /// Seed, instead of the scenario's [run] seed.
    #[arg(long, value_name = "S")]
    seed: Option<u64>,
    /// Worker threads (default: all cores). The results do not depend on it.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    threads: Option<u16>,
    /// No progress bar.
    #[arg(long, short)]
    quiet: bool,
    /// Also write DIR/report.html (needs --out), with two traced journeys per service arm.
    #[arg(long, requires = "out")]
    report: bool,
}

pub fn run(args: RunArgs) -> anyhow::Result<()> {
    let mut scenario = super::load_scenario(args.scenario.as_deref())?;
    if let Some(n) = args.replicates {
        scenario.run.replicates = n;
    }
    if let Some(seed) = args.seed {
        scenario.run.seed = seed;
    }
    // Fail on an unusable directory now, not after the simulation.
    if let Some(dir) = &args.out {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("cannot create output directory {}", dir.display()))?;
    }
    let plan = scenario.plan();
    let replicates: Vec<u32> = (0..plan.replicates).collect();
    let bar = progress_bar(
        u64::from(plan.replicates) * u64::from(plan.pcns),
        args.quiet,
    );
    let started = chrono::Local::now();
    let clock = Instant::now();
    let (outcomes, threads) = runner::with_threads(args.threads.map(usize::from), || {
        let tick = || bar.inc(1);
        let outcomes = runner::run_replicates(&plan, &replicates, &tick);
        (outcomes, rayon::current_num_threads())
    })
    .map_err(|e| anyhow!(e))?;
    let outcomes = outcomes.map_err(|e| anyhow!("the simulation failed: {e}"))?;
    bar.finish_and_clear();
    let elapsed = clock.elapsed();
    let finished = chrono::Local::now();

    let results = RunResults::new(&plan, &outcomes);
    let header = header(&scenario, elapsed, threads);
    super::print(&output::comparison_table(&results, &header))?;
    super::print(&sprx::report::evaluation_lens(&results))?;

    if let Some(dir) = &args.out {
        let manifest = Manifest {
            sprx_version: output::VERSION.to_string(),
            git_commit: output::GIT_COMMIT.map(str::to_string),
            scenario: scenario.origin.clone(),
            scenario_sha256: scenario.sha256.clone(),
            seed: scenario.run.seed,
            replicates: scenario.run.replicates,
            threads,
            command_line: std::env::args().collect(),
            started: started.to_rfc3339(),
            finished: finished.to_rfc3339(),
            elapsed_seconds: elapsed.as_secs_f64(),
            hostname: hostname(),
        };
        let record = RunRecord {
            scenario: &scenario,
            outcomes: &outcomes,
            results: &results,
            manifest: &manifest,
        };
        output::write_run(dir, &record)?;
        if args.report {
            let journeys = super::report::journeys(&scenario, 2)?;
            sprx::report::write_report(dir, &journeys)?;
        }
        if !args.quiet {
            eprintln!("wrote {}", describe_dir(dir));
        }
    }
    Ok(())
}

/// Units are (replicate, PCN) pairs, the runner's unit of work.
fn progress_bar(units: u64, quiet: bool) -> ProgressBar {
    if quiet || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(Some(units), ProgressDrawTarget::stderr());
    let style = ProgressStyle::with_template(
        "{elapsed_precise} [{bar:40}] {pos}/{len} replicate-PCNs  {per_sec}  ETA {eta}",
    )
    .map(|s| s.progress_chars("=> "));
    if let Ok(style) = style {
        bar.set_style(style);
    }
    bar
}

fn header(s: &Scenario, elapsed: Duration, threads: usize) -> String {
    format!(
        "sprx {}: scenario {} ({}), {} arms, {} patients, {} replicates, seed {}, {}+{} weeks; {:.1} s on {} thread{}",
        output::VERSION,
        s.name.as_deref().unwrap_or("unnamed"),
        s.origin,
        s.arms.len(),
        s.patients(),
        s.run.replicates,
        s.run.seed,
        s.run.warmup_weeks,
        s.run.weeks,
        elapsed.as_secs_f64(),
        threads,
        if threads == 1 { "" } else { "s" },
    )
}

fn describe_dir(dir: &Path) -> String {
    format!("{}/{{{}}}", dir.display(), output::RUN_FILES.join(","))
}

/// The machine's name, where the OS offers it without a system call crate.
fn hostname() -> Option<String> {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
}
