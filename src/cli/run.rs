//! `sprx run`: simulates a scenario, prints the comparison table and, with `--out`, writes the
//! run directory.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use super::args::{MemoryArgs, parse_threads};
use anyhow::{Context, anyhow};
use clap::Args;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use sprx::engine::budget::{self, Job, REPORT_ROW_BYTES};
use sprx::engine::runner::{self, RunError};
use sprx::engine::{Engine, Plan};
use sprx::output::files::MemoryRecord;
use sprx::output::{self, Lock, Manifest, PlacesRecord, RUN_LOCK_FILE, RunRecord, RunResults};
use sprx::scenario::{Scenario, limits};

use super::{BadInput, Interrupted};

/// Run a scenario (the embedded default if none is given) and compare its arms.
#[derive(Args)]
pub struct RunArgs {
    /// Scenario file (TOML); the embedded default scenario if omitted.
    scenario: Option<PathBuf>,
    /// Write summary.json, summary.csv, replicates.csv, weekly.csv and manifest.json into DIR
    /// (created if needed), and pcns.csv and icbs.csv for a run over several PCNs.
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
    #[arg(long, value_name = "N", value_parser = parse_threads)]
    threads: Option<usize>,
    /// How patients' own processes are stepped: `fast` (the default: needs and crises change
    /// at scheduled events) or `reference` (every rule drawn week by week, as MODEL.md states
    /// it; twice as slow on the default scenario). They agree in distribution, not draw
    /// for draw.
    #[arg(long, value_name = "ENGINE", default_value = "fast", value_parser = parse_engine)]
    engine: Engine,
    /// No progress bar.
    #[arg(long, short)]
    quiet: bool,
    /// Also write DIR/report.html (needs --out), with two traced journeys per service arm.
    #[arg(long, requires = "out")]
    report: bool,
    #[command(flatten)]
    memory: MemoryArgs,
}

/// `--engine NAME`: one of [`Engine::ALL`].
fn parse_engine(text: &str) -> Result<Engine, String> {
    Engine::parse(text).ok_or_else(|| {
        let names: Vec<&str> = Engine::ALL.iter().map(|e| e.name()).collect();
        format!("`{text}` is not an engine: {}", names.join(" or "))
    })
}

pub fn run(args: RunArgs) -> anyhow::Result<()> {
    let mut scenario = super::load_scenario(args.scenario.as_deref())?;
    if let Some(n) = args.replicates {
        scenario.run.replicates = n;
    }
    if let Some(seed) = args.seed {
        scenario.run.seed = seed;
    }
    let mut plan = scenario.plan();
    plan.engine = args.engine;
    let threads = args.threads.unwrap_or_else(rayon::current_num_threads);
    let memory_estimate = check_size(&plan, threads, &args)?;
    let places = places_record(&scenario, &plan);
    if !args.quiet {
        for line in places.iter().flat_map(PlacesRecord::log_lines) {
            eprintln!("{line}");
        }
    }
    let interrupt = super::interrupt::token().map_err(|e| anyhow!(e))?;
    // Fail on an unusable or busy directory now, not after the simulation.
    let mut out = args.out.as_deref().map(OutDir::open).transpose()?;
    let replicates: Vec<u32> = (0..plan.replicates).collect();
    let progress = Progress::new(&plan, args.quiet);
    let started = chrono::Local::now();
    let clock = Instant::now();
    let (outcomes, threads) = runner::with_threads(Some(threads), || {
        let tick = |pcn| progress.unit_done(pcn);
        let outcomes = runner::run_replicates_cancellable(&plan, &replicates, &tick, &interrupt);
        (outcomes, rayon::current_num_threads())
    })
    .map_err(|e| anyhow!(e))?;
    progress.bar.finish_and_clear();
    let outcomes = match outcomes {
        Ok(o) => o,
        Err(RunError::Cancelled) => return Err(interrupted(out.as_ref()).into()),
        Err(RunError::Failed(e)) => return Err(anyhow!("the simulation failed: {e}")),
    };
    let elapsed = clock.elapsed();
    let finished = chrono::Local::now();

    let results = RunResults::new(&plan, &outcomes);
    let header = header(&scenario, elapsed, threads);
    super::print(&output::comparison_table(&results, &header))?;
    super::print(&sprx::report::evaluation_lens(&results))?;

    if let Some(dir) = out.as_mut() {
        let manifest = Manifest {
            sprx_version: output::VERSION.to_string(),
            git_commit: output::GIT_COMMIT.map(str::to_string),
            scenario: scenario.origin.clone(),
            scenario_sha256: scenario.sha256.clone(),
            scenario_base: scenario.base.clone(),
            places: places.clone(),
            seed: scenario.run.seed,
            replicates: scenario.run.replicates,
            engine: plan.engine.name(),
            threads,
            command_line: std::env::args().collect(),
            started: started.to_rfc3339(),
            finished: finished.to_rfc3339(),
            elapsed_seconds: elapsed.as_secs_f64(),
            hostname: output::hostname(),
            memory: Some(MemoryRecord {
                estimate_bytes: memory_estimate as u64,
                peak_rss_bytes: output::peak_rss_bytes(),
            }),
            files: Default::default(),
        };
        let record = RunRecord {
            scenario: &scenario,
            outcomes: &outcomes,
            results: &results,
            manifest: &manifest,
        };
        // Everything is written into a staging directory first and moved into place at the
        // end, so an interruption or a failure leaves DIR as it was.
        let staged = output::stage_run(&dir.path, &record)?;
        if args.report {
            let journeys = super::report::journeys(&scenario, 2)?;
            sprx::report::write_report(staged.path(), &journeys)?;
        }
        if interrupt.is_cancelled() {
            return Err(interrupted(Some(dir)).into());
        }
        staged.commit()?;
        dir.committed = true;
        if !args.quiet {
            eprintln!(
                "wrote {}",
                describe_dir(&dir.path, results.places.is_some())
            );
        }
    }
    Ok(())
}

/// What the run log and manifest say of the real places a scenario runs, if any.
fn places_record(scenario: &Scenario, plan: &Plan) -> Option<PlacesRecord> {
    let selection = scenario.population.places.as_ref()?;
    let table = match &selection.table {
        Some(own) => Some(own.as_ref()),
        None => sprx::places::Places::england().ok(),
    };
    let practices_without_imd = table.map_or(0, |places| {
        sprx::places::stats::over(places, selection.indices.iter().copied()).practices_without_imd
    });
    let mut record = PlacesRecord::of(plan, &selection.source, practices_without_imd)?;
    // A user's table is its own data version.
    if let Some(sha256) = &selection.sha256 {
        record.data_version.clone_from(sha256);
    }
    record.path.clone_from(&selection.path);
    Some(record)
}

/// Refuses, before anything is written, a run that would not fit in memory or whose run
/// directory would be too large (exit 2, with the estimate). Returns the estimated peak
/// memory of the simulation, for the manifest.
fn check_size(plan: &Plan, threads: usize, args: &RunArgs) -> anyhow::Result<f64> {
    let cost = plan.cost();
    let job = Job {
        what: "this run",
        threads: threads as u64,
        runs: 1,
    };
    let report = if args.report {
        cost.weekly_rows as f64 * REPORT_ROW_BYTES as f64
    } else {
        0.0
    };
    budget::check_memory(&cost, &job, report, &args.memory.budget()).map_err(BadInput)?;
    if let Some(dir) = &args.out {
        budget::check_run_dir(&cost, dir).map_err(BadInput)?;
    }
    Ok(budget::memory_estimate(&cost, &job, 0.0))
}

/// The output directory of a run, locked against other sprx processes from before the
/// simulation until its files are in place. A directory this run created and did not fill is
/// removed again, so an interrupted or failed run leaves nothing behind.
struct OutDir {
    path: PathBuf,
    lock: Option<Lock>,
    created: bool,
    committed: bool,
}

impl OutDir {
    fn open(path: &Path) -> anyhow::Result<OutDir> {
        let created = !path.exists();
        std::fs::create_dir_all(path)
            .with_context(|| format!("cannot create output directory {}", path.display()))?;
        let mut dir = OutDir {
            path: path.to_path_buf(),
            lock: None,
            created,
            committed: false,
        };
        let lock =
            Lock::acquire(&path.join(RUN_LOCK_FILE), &path.display().to_string()).map_err(|e| {
                match e {
                    e @ output::LockError::Busy { .. } => {
                        anyhow::Error::from(BadInput(e.to_string()))
                    }
                    e => anyhow!("cannot write to output directory {}: {e}", path.display()),
                }
            })?;
        dir.lock = Some(lock);
        // The lock file may be left from an earlier run: check that a new file can be made.
        tempfile::Builder::new()
            .prefix(".sprx-probe-")
            .tempfile_in(path)
            .with_context(|| format!("cannot write to output directory {}", path.display()))?;
        Ok(dir)
    }
}

impl Drop for OutDir {
    fn drop(&mut self) {
        drop(self.lock.take());
        if self.created && !self.committed {
            // Only succeeds if empty: never removes anything but what this run made.
            let _ = std::fs::remove_dir(&self.path);
        }
    }
}

/// The one line an interrupted run ends with.
fn interrupted(out: Option<&OutDir>) -> Interrupted {
    Interrupted(match out {
        None => "interrupted".to_string(),
        Some(dir) if dir.created => {
            format!(
                "interrupted: nothing was written ({} not created)",
                dir.path.display()
            )
        }
        Some(dir) => format!(
            "interrupted: nothing was written; {} is as it was",
            dir.path.display()
        ),
    })
}

/// The progress of a run: population patient-weeks simulated (the bar, its rate and ETA,
/// so that PCNs of different sizes count for what they cost) and (replicate, PCN) units done
/// of the total (the message).
struct Progress {
    bar: ProgressBar,
    /// Population patient-weeks of one unit of each PCN: patients × (warm-up + service weeks).
    unit_weeks: Vec<u64>,
    units: u64,
    done: AtomicU64,
}

impl Progress {
    fn new(plan: &Plan, quiet: bool) -> Progress {
        let weeks = u64::from(plan.warmup_weeks) + u64::from(plan.weeks);
        let unit_weeks: Vec<u64> = plan.pcns.iter().map(|p| p.patients() * weeks).collect();
        let replicates = u64::from(plan.replicates);
        let total = unit_weeks.iter().sum::<u64>().saturating_mul(replicates);
        let units = replicates.saturating_mul(plan.pcns.len() as u64);
        let bar = if quiet || !std::io::stderr().is_terminal() {
            ProgressBar::hidden()
        } else {
            let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
            let style = ProgressStyle::with_template(
                "{elapsed_precise} [{bar:40}] {msg}  patient-weeks {per_sec:0}  ETA {eta}",
            )
            .map(|s| s.progress_chars("=> "));
            if let Ok(style) = style {
                bar.set_style(style);
            }
            bar
        };
        let progress = Progress {
            bar,
            unit_weeks,
            units,
            done: AtomicU64::new(0),
        };
        progress.bar.set_message(progress.message(0));
        progress
    }

    fn message(&self, done: u64) -> String {
        if self.unit_weeks.len() > 1 {
            format!("{done}/{} PCN runs", self.units)
        } else {
            format!("{done}/{} replicates", self.units)
        }
    }

    /// One (replicate, PCN) unit finished, on any thread.
    fn unit_done(&self, pcn: u32) {
        let done = self.done.fetch_add(1, Ordering::Relaxed) + 1;
        let weeks = self.unit_weeks.get(pcn as usize).copied().unwrap_or(0);
        self.bar.inc(weeks);
        self.bar.set_message(self.message(done));
    }
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

fn describe_dir(dir: &Path, by_place: bool) -> String {
    let place_files = output::PLACE_FILES.iter().filter(|_| by_place);
    let files: Vec<&str> = output::RUN_FILES
        .iter()
        .chain(place_files)
        .copied()
        .collect();
    format!("{}/{{{}}}", dir.display(), files.join(","))
}
