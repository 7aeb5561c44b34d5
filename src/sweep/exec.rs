//! Running a sweep or one shard of it. Points run in parallel (rayon, points × replicates ×
//! PCNs); each finished point's rows are appended to the shard file in one write, flushed and
//! fsynced, so that after any interruption the file holds whole points plus at most one partial
//! tail, which `--resume` cuts off before running the points that are missing.
//!
//! Files in the output directory: `sweep-plan.json` (what the merge needs: design, parameters,
//! metrics and the sweep's hash, checked on resume), `shards/shard-KKKK-of-NNNN.csv` (rows of
//! the shard's points, in the order they finished) and `shards/shard-KKKK-of-NNNN.json` (when
//! and how the shard ran).

use std::collections::BTreeSet;
use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Instant;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::SweepError;
use super::design::{Design, Sample, generate};
use super::spec::{Sweep, fmt_value, values_at};
use crate::engine::Plan;
use crate::engine::budget::{self, Job, MemoryBudget};
use crate::engine::cancel::Cancel;
use crate::engine::runner::{ReplicateOutcome, RunError, run_replicates_cancellable, with_threads};
use crate::metrics::summary::{MetricContext, summarize};
use crate::output::files::write_atomically;
use crate::output::lock::{Lock, LockError};

/// Name of the plan file in the output directory.
pub const PLAN_FILE: &str = "sweep-plan.json";
/// Folder of the shard files.
pub const SHARD_DIR: &str = "shards";

/// The design as recorded in `sweep-plan.json` and `manifest.json`.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum DesignRecord {
    Grid { levels: Vec<usize> },
    Lhs { points: usize },
    Morris { trajectories: usize, levels: usize },
    Sobol { base_samples: usize },
}

impl From<&Design> for DesignRecord {
    fn from(d: &Design) -> Self {
        match d {
            Design::Grid { levels } => DesignRecord::Grid {
                levels: levels.clone(),
            },
            Design::Lhs { points } => DesignRecord::Lhs { points: *points },
            Design::Morris {
                trajectories,
                levels,
            } => DesignRecord::Morris {
                trajectories: *trajectories,
                levels: *levels,
            },
            Design::Sobol { base_samples } => DesignRecord::Sobol {
                base_samples: *base_samples,
            },
        }
    }
}

impl From<&DesignRecord> for Design {
    fn from(d: &DesignRecord) -> Self {
        match d {
            DesignRecord::Grid { levels } => Design::Grid {
                levels: levels.clone(),
            },
            DesignRecord::Lhs { points } => Design::Lhs { points: *points },
            DesignRecord::Morris {
                trajectories,
                levels,
            } => Design::Morris {
                trajectories: *trajectories,
                levels: *levels,
            },
            DesignRecord::Sobol { base_samples } => Design::Sobol {
                base_samples: *base_samples,
            },
        }
    }
}

/// `sweep-plan.json`: everything `sprx sweep merge DIR` needs, without the sweep file.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct PlanFile {
    pub sprx_version: String,
    /// The sweep file, absolute.
    pub sweep: String,
    pub sweep_sha256: String,
    pub seed: u64,
    pub replicates: u32,
    pub bootstrap: usize,
    pub design: DesignRecord,
    pub points: usize,
    pub parameters: Vec<String>,
    pub metrics: Vec<String>,
}

impl PlanFile {
    pub fn new(sweep: &Sweep, sweep_path: &Path, points: usize) -> PlanFile {
        PlanFile {
            sprx_version: env!("CARGO_PKG_VERSION").to_string(),
            sweep: sweep_path.display().to_string(),
            sweep_sha256: sweep.sha256.clone(),
            seed: sweep.seed,
            replicates: sweep.replicates,
            bootstrap: sweep.bootstrap,
            design: DesignRecord::from(&sweep.design),
            points,
            parameters: sweep.params.iter().map(|p| p.label.clone()).collect(),
            metrics: sweep.metrics.iter().map(|m| m.label.clone()).collect(),
        }
    }

    /// The header line of shard files and `runs.csv`.
    pub fn runs_header(&self) -> String {
        let mut cols = vec!["point".to_string(), "replicate".to_string()];
        cols.extend(self.parameters.iter().cloned());
        cols.extend(self.metrics.iter().cloned());
        cols.join(",") + "\n"
    }

    /// Regenerates the design's unit-cube sample.
    pub fn sample(&self) -> Result<Sample, SweepError> {
        generate(
            &Design::from(&self.design),
            self.parameters.len(),
            self.seed,
        )
        .map_err(|e| SweepError::Usage(format!("design: {e}")))
    }

    pub fn read(dir: &Path) -> Result<PlanFile, SweepError> {
        let path = dir.join(PLAN_FILE);
        let text = std::fs::read_to_string(&path).map_err(|e| {
            SweepError::Usage(format!(
                "{} is not a sweep output directory: cannot read {}: {e}",
                dir.display(),
                path.display()
            ))
        })?;
        serde_json::from_str(&text)
            .map_err(|e| SweepError::Usage(format!("{} is damaged: {e}", path.display())))
    }

    pub fn write(&self, dir: &Path) -> Result<(), SweepError> {
        write_atomically(dir, PLAN_FILE, |w| {
            serde_json::to_writer_pretty(&mut *w, self)?;
            w.write_all(b"\n")
        })
        .map_err(|e| SweepError::Runtime(e.to_string()))
    }
}

/// Which part of the sweep to run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shard {
    pub index: u32,
    pub count: u32,
}

impl Shard {
    pub const ALL: Shard = Shard { index: 0, count: 1 };

    /// Whether point `p` belongs to this shard.
    pub fn holds(&self, p: usize) -> bool {
        p % self.count as usize == self.index as usize
    }

    pub fn file_stem(&self) -> String {
        format!("shard-{:04}-of-{:04}", self.index, self.count)
    }
}

/// How to run.
#[derive(Clone, Debug)]
pub struct RunOptions {
    pub out: PathBuf,
    pub threads: Option<usize>,
    pub resume: bool,
    pub shard: Shard,
    pub command_line: Vec<String>,
    /// The memory the shard may use; a shard whose estimate exceeds it is refused.
    pub memory: MemoryBudget,
    /// Set by Ctrl-C: the shard stops after the units in progress, keeping finished points.
    pub cancel: Cancel,
}

/// What a shard reports while it runs, for the command line to show (a progress bar); the
/// library itself prints nothing.
pub trait ShardProgress: Sync {
    /// The shard starts: `points` points to run, each of `replicates` × `pcns` units of work.
    fn start(&self, points: usize, replicates: u32, pcns: u32);
    /// One (replicate, PCN) unit finished, on any thread.
    fn unit_done(&self);
    /// `done` of the shard's points to run are saved.
    fn point_saved(&self, done: usize);
    /// The shard stopped (finished, failed or interrupted).
    fn finish(&self);
}

/// `shards/shard-KKKK-of-NNNN.json`: when and how a shard ran (its last session).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ShardRecord {
    pub shard: u32,
    pub of: u32,
    pub points: usize,
    /// Points found complete in the shard file when this session started.
    pub points_resumed: usize,
    pub threads: usize,
    pub command_line: Vec<String>,
    pub started: String,
    pub finished: String,
    pub elapsed_seconds: f64,
    pub hostname: Option<String>,
}

/// The unit sample and the parameter values of every point, checked against the registry's
/// cross-parameter rules in every arm.
pub fn design_points(sweep: &Sweep) -> Result<(Sample, Vec<Vec<f64>>), SweepError> {
    let sample = generate(&sweep.design, sweep.params.len(), sweep.seed)
        .map_err(|e| SweepError::Usage(format!("{}: design: {e}", sweep.origin)))?;
    let values: Vec<Vec<f64>> = sample
        .points
        .iter()
        .map(|u| values_at(&sweep.params, u))
        .collect();
    let base = sweep.base.plan();
    for (p, v) in values.iter().enumerate() {
        point_plan(sweep, &base, v).map_err(|e| {
            SweepError::Usage(format!(
                "{}: point {p} is not a valid scenario: {e}",
                sweep.origin
            ))
        })?;
    }
    Ok((sample, values))
}

/// The base plan with the point's values set.
pub fn point_plan(sweep: &Sweep, base: &Plan, values: &[f64]) -> Result<Plan, String> {
    let mut plan = base.clone();
    plan.seed = sweep.seed;
    plan.replicates = sweep.replicates;
    for (param, &v) in sweep.params.iter().zip(values) {
        for (a, arm) in plan.arms.iter_mut().enumerate() {
            if param.arm.is_some_and(|only| only != a) {
                continue;
            }
            let mut slots = (param.def.get)(&arm.params);
            for s in param.slots.clone() {
                slots[s] = v;
            }
            (param.def.set)(&mut arm.params, &slots);
        }
    }
    for arm in &plan.arms {
        if let Err(errors) = arm.params.check_consistency() {
            let text: Vec<String> = errors.iter().map(|(k, m)| format!("{k}: {m}")).collect();
            return Err(format!("arm {}: {}", arm.name, text.join("; ")));
        }
    }
    Ok(plan)
}

/// The metric values of one replicate, in the sweep's metric order.
fn metric_values(sweep: &Sweep, plan: &Plan, outcome: &ReplicateOutcome) -> Vec<f64> {
    let summaries: Vec<Vec<f64>> = plan
        .arms
        .iter()
        .zip(&outcome.arms)
        .map(|(arm, o)| {
            let ctx = MetricContext {
                patients: plan.patients(),
                weeks: plan.weeks,
                gp_cost: arm.params.gp_cost,
                lw_cost: arm.params.lw_cost,
            };
            summarize(o, &ctx)
        })
        .collect();
    let get = |a: usize, m: usize| summaries.get(a).map_or(f64::NAN, |s| s[m]);
    sweep
        .metrics
        .iter()
        .map(|m| match m.minus {
            Some(b) => get(m.arm, m.metric) - get(b, m.metric),
            None => get(m.arm, m.metric),
        })
        .collect()
}

/// One line of a shard file / `runs.csv`.
pub fn row(point: usize, replicate: u32, values: &[f64], metrics: &[f64]) -> String {
    let mut line = format!("{point},{replicate}");
    for v in values.iter().chain(metrics) {
        line.push(',');
        line.push_str(&fmt_value(*v));
    }
    line.push('\n');
    line
}

/// A shard file opened for appending, after its complete points were read.
struct ShardFile {
    file: File,
    path: PathBuf,
}

impl ShardFile {
    fn append(&mut self, text: &str) -> Result<(), SweepError> {
        let fail = |e| SweepError::io(format!("cannot write {}", self.path.display()), e);
        self.file.write_all(text.as_bytes()).map_err(fail)?;
        self.file.flush().map_err(fail)?;
        self.file.sync_data().map_err(fail)
    }
}

/// The points complete in a shard file's text, and the length of the text that holds exactly
/// them (a partial last line, or a last point with missing replicates, lies past it).
pub fn complete_points(
    text: &str,
    header: &str,
    replicates: u32,
    path: &Path,
) -> Result<(BTreeSet<usize>, usize), SweepError> {
    let damaged = |why: String| {
        SweepError::Runtime(format!(
            "{} is damaged ({why}); move it away to recompute its points",
            path.display()
        ))
    };
    if text.is_empty() || !text.contains('\n') {
        return Ok((BTreeSet::new(), 0));
    }
    if !text.starts_with(header) {
        return Err(SweepError::Usage(format!(
            "{} was written by a different sweep (its columns differ)",
            path.display()
        )));
    }
    let mut done = BTreeSet::new();
    let mut keep = header.len();
    let mut offset = header.len();
    // The current block: point, replicates seen.
    let mut block: Option<(usize, u32)> = None;
    for line in text[header.len()..].split_inclusive('\n') {
        if !line.ends_with('\n') {
            break;
        }
        offset += line.len();
        let mut fields = line.trim_end().splitn(3, ',');
        let point: usize = fields
            .next()
            .and_then(|f| f.parse().ok())
            .ok_or_else(|| damaged(format!("bad line `{}`", line.trim_end())))?;
        let rep: u32 = fields
            .next()
            .and_then(|f| f.parse().ok())
            .ok_or_else(|| damaged(format!("bad line `{}`", line.trim_end())))?;
        let expected = match block {
            Some((p, seen)) if p == point => seen,
            Some((p, seen)) => {
                return Err(damaged(format!(
                    "point {p} has {seen} of {replicates} replicates before point {point}"
                )));
            }
            None => 0,
        };
        if rep != expected {
            return Err(damaged(format!(
                "point {point}: replicate {rep} where {expected} was expected"
            )));
        }
        if rep + 1 == replicates {
            if !done.insert(point) {
                return Err(damaged(format!("point {point} is there twice")));
            }
            keep = offset;
            block = None;
        } else {
            block = Some((point, rep + 1));
        }
    }
    Ok((done, keep))
}

/// Opens (or creates) the shard file; on resume, cuts any partial tail and returns the points
/// already complete.
fn open_shard_file(
    path: &Path,
    header: &str,
    replicates: u32,
) -> Result<(ShardFile, BTreeSet<usize>), SweepError> {
    let fail = |e| SweepError::io(format!("cannot open {}", path.display()), e);
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(path)
        .map_err(fail)?;
    let mut text = String::new();
    file.read_to_string(&mut text).map_err(fail)?;
    let (done, keep) = complete_points(&text, header, replicates, path)?;
    if keep == 0 {
        file.set_len(0).map_err(fail)?;
        file.seek(SeekFrom::Start(0)).map_err(fail)?;
        file.write_all(header.as_bytes()).map_err(fail)?;
    } else if keep < text.len() {
        file.set_len(keep as u64).map_err(fail)?;
        file.seek(SeekFrom::Start(keep as u64)).map_err(fail)?;
    } else {
        file.seek(SeekFrom::End(0)).map_err(fail)?;
    }
    file.sync_all().map_err(fail)?;
    Ok((
        ShardFile {
            file,
            path: path.to_path_buf(),
        },
        done,
    ))
}

/// Shard files already in `dir`.
pub fn shard_files(dir: &Path) -> Result<Vec<PathBuf>, SweepError> {
    let shards = dir.join(SHARD_DIR);
    let mut files = Vec::new();
    let entries = match std::fs::read_dir(&shards) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(files),
        Err(e) => {
            return Err(SweepError::io(
                format!("cannot list {}", shards.display()),
                e,
            ));
        }
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().to_string();
        if name.starts_with("shard-") && name.ends_with(".csv") {
            files.push(entry.path());
        }
    }
    files.sort();
    Ok(files)
}

/// Checks the output directory and records the plan: a fresh run refuses a directory holding
/// this shard's data or data of another shard layout, a resumed one a directory of another
/// sweep.
pub fn prepare_dir(
    sweep: &Sweep,
    sweep_path: &Path,
    points: usize,
    out: &Path,
    shard: Shard,
    resume: bool,
) -> Result<PlanFile, SweepError> {
    let plan = PlanFile::new(sweep, sweep_path, points);
    std::fs::create_dir_all(out.join(SHARD_DIR))
        .map_err(|e| SweepError::io(format!("cannot create {}", out.display()), e))?;
    // Other shards of the same layout are expected next to this one; anything else is data
    // this run would mix with.
    let suffix = format!("-of-{:04}.csv", shard.count);
    let own = format!("{}.csv", shard.file_stem());
    let existing: Vec<PathBuf> = shard_files(out)?
        .into_iter()
        .filter(|p| {
            let name = p.file_name().map(|n| n.to_string_lossy().to_string());
            let name = name.unwrap_or_default();
            name == own || !name.ends_with(&suffix)
        })
        .filter(|p| std::fs::metadata(p).is_ok_and(|m| m.len() > 0))
        .collect();
    if !resume && !existing.is_empty() {
        return Err(SweepError::Usage(format!(
            "{} already holds sweep data ({}); add --resume to continue that sweep, or choose another --out",
            out.display(),
            existing
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    if out.join(PLAN_FILE).exists() {
        let old = PlanFile::read(out)?;
        if resume && old.sweep_sha256 != plan.sweep_sha256 {
            return Err(SweepError::Usage(format!(
                "cannot resume: {} holds a sweep of another sweep file (sha256 {} in {}, now {}); use another --out",
                out.display(),
                old.sweep_sha256,
                PLAN_FILE,
                plan.sweep_sha256
            )));
        }
        if old == plan {
            return Ok(plan);
        }
    }
    plan.write(out)?;
    Ok(plan)
}

/// Refuses, before anything is written, a shard whose largest point would not fit in memory
/// with as many points at once as threads, or whose outputs would be too large.
fn check_size(
    sweep: &Sweep,
    values: &[Vec<f64>],
    points_here: usize,
    threads: usize,
    opts: &RunOptions,
) -> Result<(), SweepError> {
    let base = sweep.base.plan();
    let mut largest = base.cost();
    for v in values {
        let cost = point_plan(sweep, &base, v)
            .map_err(SweepError::Usage)?
            .cost();
        if cost.peak_memory(1, 1) > largest.peak_memory(1, 1) {
            largest = cost;
        }
    }
    let at_once = points_here.clamp(1, threads.max(1));
    let what = format!(
        "this sweep ({at_once} point{} at once, each of {} replicates)",
        if at_once == 1 { "" } else { "s" },
        sweep.replicates
    );
    let job = Job {
        what: &what,
        threads: threads as u64,
        runs: at_once as u64,
    };
    budget::check_memory(&largest, &job, 0.0, &opts.memory).map_err(SweepError::Usage)?;
    let columns = sweep.params.len() + sweep.metrics.len() + 2;
    budget::check_sweep_outputs(values.len(), sweep.replicates, columns, &opts.out)
        .map_err(SweepError::Usage)
}

/// Locks the shard against another process running it into the same directory.
fn lock_shard(opts: &RunOptions) -> Result<Lock, SweepError> {
    let shards = opts.out.join(SHARD_DIR);
    std::fs::create_dir_all(&shards)
        .map_err(|e| SweepError::io(format!("cannot create {}", shards.display()), e))?;
    let path = shards.join(format!("{}.lock", opts.shard.file_stem()));
    let what = format!(
        "shard {}/{} of {}",
        opts.shard.index,
        opts.shard.count,
        opts.out.display()
    );
    Lock::acquire(&path, &what).map_err(|e| match e {
        e @ LockError::Busy { .. } => SweepError::Usage(e.to_string()),
        e => SweepError::Runtime(e.to_string()),
    })
}

/// The one line an interrupted shard ends with: what is saved and how to go on.
fn interrupted(sweep_path: &Path, opts: &RunOptions, saved: usize, mine: usize) -> SweepError {
    let shard = if opts.shard == Shard::ALL {
        String::new()
    } else {
        format!(" --shard {}/{}", opts.shard.index, opts.shard.count)
    };
    SweepError::Interrupted(format!(
        "interrupted: {saved} of {mine} points are saved in {}; continue with `sprx sweep {} --out {}{shard} --resume`",
        opts.out.display(),
        sweep_path.display(),
        opts.out.display()
    ))
}

/// Runs the options' shard of the sweep; returns the shard file's record.
pub fn run_shard(
    sweep: &Sweep,
    sweep_path: &Path,
    opts: &RunOptions,
    progress: &dyn ShardProgress,
) -> Result<ShardRecord, SweepError> {
    let started = chrono::Utc::now();
    let clock = Instant::now();
    let (_, values) = design_points(sweep)?;
    let points_here = (0..values.len()).filter(|&p| opts.shard.holds(p)).count();
    let threads = opts.threads.unwrap_or_else(rayon::current_num_threads);
    check_size(sweep, &values, points_here, threads, opts)?;
    let _lock = lock_shard(opts)?;
    let planfile = prepare_dir(
        sweep,
        sweep_path,
        values.len(),
        &opts.out,
        opts.shard,
        opts.resume,
    )?;
    let stem = opts.shard.file_stem();
    let path = opts.out.join(SHARD_DIR).join(format!("{stem}.csv"));
    let (file, done) = open_shard_file(&path, &planfile.runs_header(), sweep.replicates)?;
    if let Some(&p) = done.iter().find(|&&p| !opts.shard.holds(p)) {
        return Err(SweepError::Runtime(format!(
            "{} holds point {p}, which is not in shard {}/{}",
            path.display(),
            opts.shard.index,
            opts.shard.count
        )));
    }
    let mine: Vec<usize> = (0..values.len()).filter(|&p| opts.shard.holds(p)).collect();
    let todo: Vec<usize> = mine.iter().copied().filter(|p| !done.contains(p)).collect();
    let replicates: Vec<u32> = (0..sweep.replicates).collect();
    let base = sweep.base.plan();

    progress.start(todo.len(), sweep.replicates, base.pcn_count());
    let points_done = std::sync::atomic::AtomicUsize::new(0);
    let file = Mutex::new(file);
    let result = with_threads(Some(threads), || {
        let result = todo.par_iter().try_for_each(|&p| {
            let plan = point_plan(sweep, &base, &values[p]).map_err(SweepError::Runtime)?;
            let tick = |_| progress.unit_done();
            let outcomes = run_replicates_cancellable(&plan, &replicates, &tick, &opts.cancel)
                .map_err(|e| match e {
                    RunError::Cancelled => SweepError::Interrupted(String::new()),
                    RunError::Failed(e) => SweepError::Runtime(format!("point {p}: {e}")),
                })?;
            let mut text = String::new();
            for o in &outcomes {
                text.push_str(&row(
                    p,
                    o.replicate,
                    &values[p],
                    &metric_values(sweep, &plan, o),
                ));
            }
            file.lock()
                .map_err(|_| SweepError::Runtime("a writer thread failed".into()))?
                .append(&text)?;
            let n = points_done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
            progress.point_saved(n);
            Ok::<(), SweepError>(())
        });
        result.map(|()| rayon::current_num_threads())
    })
    .map_err(|e| SweepError::Runtime(e.to_string()))?;
    progress.finish();
    let threads = match result {
        Err(SweepError::Interrupted(_)) => {
            let saved = done.len() + points_done.load(std::sync::atomic::Ordering::SeqCst);
            return Err(interrupted(sweep_path, opts, saved, mine.len()));
        }
        other => other?,
    };
    let record = ShardRecord {
        shard: opts.shard.index,
        of: opts.shard.count,
        points: mine.len(),
        points_resumed: done.len(),
        threads,
        command_line: opts.command_line.clone(),
        started: started.to_rfc3339(),
        finished: chrono::Utc::now().to_rfc3339(),
        elapsed_seconds: clock.elapsed().as_secs_f64(),
        hostname: crate::output::hostname(),
    };
    write_atomically(&opts.out.join(SHARD_DIR), &format!("{stem}.json"), |w| {
        serde_json::to_writer_pretty(&mut *w, &record)?;
        w.write_all(b"\n")
    })
    .map_err(|e| SweepError::Runtime(e.to_string()))?;
    Ok(record)
}
