//! The `sprx sweep` command line: run a sweep (or one shard of it), merge shards, write Slurm
//! scripts. Errors carry their exit code: 1 for failures while running, 2 for bad input (sweep
//! file, flags, output directory).

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use std::sync::atomic::{AtomicUsize, Ordering};

use clap::{Args, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};

use super::args::{MemoryArgs, parse_threads};
use sprx::sweep::SweepError;
use sprx::sweep::exec::{RunOptions, Shard, ShardProgress, design_points, prepare_dir, run_shard};
use sprx::sweep::merge::merge;
use sprx::sweep::slurm::{SlurmOptions, write_scripts};
use sprx::sweep::spec::Sweep;

/// `sprx sweep SWEEP.toml --out DIR`, `sprx sweep merge DIR`, `sprx sweep slurm …`.
#[derive(Args, Debug, Clone)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct SweepArgs {
    #[command(subcommand)]
    pub command: Option<SweepCommand>,
    #[command(flatten)]
    pub run: SweepRunArgs,
}

/// Runs a sweep, or one shard of it, locally.
#[derive(Args, Debug, Clone)]
pub struct SweepRunArgs {
    /// The sweep file (TOML: base scenario, [[parameter]]s, [design], metrics).
    #[arg(required = true, value_name = "SWEEP.toml")]
    pub sweep: Option<PathBuf>,
    /// Output directory (created if missing).
    #[arg(long, required = true, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Worker threads (default: all cores). The results do not depend on it.
    #[arg(long, value_name = "N", value_parser = parse_threads)]
    pub threads: Option<usize>,
    /// Continue an interrupted sweep in DIR: finished points are kept, the rest run.
    #[arg(long)]
    pub resume: bool,
    /// Run only shard K of N (0 ≤ K < N; point p belongs to shard p mod N), for clusters;
    /// merge the shards with `sprx sweep merge DIR`.
    #[arg(long, value_name = "K/N", value_parser = parse_shard)]
    pub shard: Option<Shard>,
    /// No progress bar and no messages on success.
    #[arg(long, short)]
    pub quiet: bool,
    #[command(flatten)]
    pub memory: MemoryArgs,
}

#[derive(Subcommand, Debug, Clone)]
pub enum SweepCommand {
    /// Checks that every point is in the shard files exactly once and writes the final outputs.
    Merge {
        /// The sweep's output directory.
        dir: PathBuf,
    },
    /// Writes Slurm scripts (job array + merge) and submit.sh into DIR.
    Slurm(SlurmArgs),
}

#[derive(Args, Debug, Clone)]
pub struct SlurmArgs {
    /// The sweep file.
    #[arg(value_name = "SWEEP.toml")]
    pub sweep: PathBuf,
    /// Number of shards = array tasks.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub shards: u32,
    /// Output directory of the sweep; the scripts and logs/ go there too.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Slurm partition (default: the cluster's default).
    #[arg(long)]
    pub partition: Option<String>,
    /// Time limit per task, e.g. 02:00:00.
    #[arg(long)]
    pub time: Option<String>,
    /// Memory per task, e.g. 4G.
    #[arg(long)]
    pub mem: Option<String>,
    /// Array tasks running at once.
    #[arg(long, value_name = "J", value_parser = clap::value_parser!(u32).range(1..))]
    pub max_parallel: Option<u32>,
    /// CPUs (threads) per task.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=4096))]
    pub cpus_per_task: u32,
}

fn parse_shard(text: &str) -> Result<Shard, String> {
    let (k, n) = text
        .split_once('/')
        .ok_or_else(|| format!("expected K/N (e.g. 3/8), got `{text}`"))?;
    let index: u32 = k
        .trim()
        .parse()
        .map_err(|_| format!("`{k}` is not a shard number"))?;
    let count: u32 = n
        .trim()
        .parse()
        .map_err(|_| format!("`{n}` is not a shard count"))?;
    if count == 0 || index >= count {
        return Err(format!("expected 0 <= K < N, got {index}/{count}"));
    }
    Ok(Shard { index, count })
}

fn absolute(p: &Path) -> Result<PathBuf, SweepError> {
    std::path::absolute(p)
        .map_err(|e| SweepError::Usage(format!("cannot resolve {}: {e}", p.display())))
}

/// Runs `sprx sweep …`. Errors say whether they are bad input ([`SweepError::is_bad_input`]).
pub fn execute(args: SweepArgs) -> Result<(), SweepError> {
    let command_line: Vec<String> = std::env::args().collect();
    match args.command {
        Some(SweepCommand::Merge { dir }) => {
            merge(&dir, &command_line)?;
            eprintln!("merged into {}", dir.display());
            Ok(())
        }
        Some(SweepCommand::Slurm(a)) => slurm(a),
        None => {
            let (Some(sweep_path), Some(out)) = (args.run.sweep, args.run.out) else {
                return Err(SweepError::Usage(
                    "usage: sprx sweep SWEEP.toml --out DIR".into(),
                ));
            };
            let sweep = Sweep::load(&sweep_path)?;
            let quiet = args.run.quiet;
            let sharded = args.run.shard.is_some();
            let shard = args.run.shard.unwrap_or(Shard::ALL);
            let opts = RunOptions {
                out: out.clone(),
                threads: args.run.threads,
                resume: args.run.resume,
                shard,
                command_line: command_line.clone(),
                memory: args.run.memory.budget(),
                cancel: super::interrupt::token().map_err(SweepError::Runtime)?,
            };
            let bar = SweepBar::new(!quiet && std::io::stderr().is_terminal());
            let record = run_shard(&sweep, &absolute(&sweep_path)?, &opts, &bar)?;
            let say = |text: String| {
                if !quiet {
                    eprintln!("{text}");
                }
            };
            say(format!(
                "shard {}/{}: {} points ({} resumed) in {:.1} s on {} threads",
                record.shard,
                record.of,
                record.points,
                record.points_resumed,
                record.elapsed_seconds,
                record.threads
            ));
            if sharded {
                say(format!(
                    "when every shard is done: sprx sweep merge {}",
                    out.display()
                ));
                Ok(())
            } else {
                merge(&out, &command_line)?;
                say(format!("outputs in {}", out.display()));
                Ok(())
            }
        }
    }
}

fn slurm(a: SlurmArgs) -> Result<(), SweepError> {
    let sweep = Sweep::load(&a.sweep)?;
    let (_, values) = design_points(&sweep)?;
    let out = absolute(&a.out)?;
    let sweep_path = absolute(&a.sweep)?;
    // Records the plan now, so that a directory of another sweep is refused before submitting.
    prepare_dir(&sweep, &sweep_path, values.len(), &out, Shard::ALL, true)?;
    let sprx = std::env::current_exe()
        .map_err(|e| SweepError::Runtime(format!("cannot find the sprx binary: {e}")))?;
    let o = SlurmOptions {
        sprx,
        sweep: sweep_path,
        out: out.clone(),
        shards: a.shards,
        partition: a.partition,
        time: a.time,
        mem: a.mem,
        max_parallel: a.max_parallel,
        cpus_per_task: a.cpus_per_task,
    };
    write_scripts(&o)?;
    println!(
        "{} points in {} shards; submit with {}",
        values.len(),
        a.shards,
        out.join("submit.sh").display()
    );
    Ok(())
}

/// The sweep's progress bar on stderr: (replicate, PCN) units, with the points saved so far.
struct SweepBar {
    bar: ProgressBar,
    points: AtomicUsize,
}

impl SweepBar {
    fn new(shown: bool) -> SweepBar {
        SweepBar {
            bar: if shown {
                ProgressBar::new(0)
            } else {
                ProgressBar::hidden()
            },
            points: AtomicUsize::new(0),
        }
    }
}

impl ShardProgress for SweepBar {
    fn start(&self, points: usize, replicates: u32, pcns: u32) {
        self.points.store(points, Ordering::Relaxed);
        self.bar
            .set_length(points as u64 * u64::from(replicates) * u64::from(pcns));
        // The runner ticks once per (replicate, PCN).
        let unit = if pcns == 1 {
            "replicates"
        } else {
            "replicate-PCNs"
        };
        self.bar.set_style(
            ProgressStyle::with_template(&format!(
                "{{spinner}} {{msg}} [{{elapsed_precise}}] {{wide_bar}} {unit} {{per_sec}} (ETA {{eta}})"
            ))
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        self.point_saved(0);
    }

    fn unit_done(&self) {
        self.bar.inc(1);
    }

    fn point_saved(&self, done: usize) {
        let of = self.points.load(Ordering::Relaxed);
        self.bar.set_message(format!("points {done}/{of}"));
    }

    fn finish(&self) {
        self.bar.finish_and_clear();
    }
}
