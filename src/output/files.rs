//! The files of a run directory. A run's files are written into a hidden staging directory
//! inside the run directory and then renamed into place, `manifest.json` last: the manifest is
//! the completion marker. It lists every other file with its size and SHA-256, and it is removed
//! before the first new file lands, so a directory whose manifest is present and matches its
//! files is complete ([`verify_run_dir`]), whatever was interrupted when. Everything but the
//! manifest depends only on the scenario and seed, so it is byte-identical at any thread count.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::fs::File;
use std::io::{self, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use serde::ser::{SerializeMap, Serializer};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::places::{self, PLACE_FILES, QuintileSummary, quintile_summaries};
use super::results::{ArmResults, RunResults};
use crate::engine::runner::ReplicateOutcome;
use crate::metrics::stats::Estimate;
use crate::metrics::summary::SUMMARY_METRICS;
use crate::metrics::weekly::WEEKLY_COLUMNS;
use crate::scenario::Scenario;

/// The files of a run directory, in the order they are written.
pub const RUN_FILES: [&str; 5] = [
    "summary.json",
    "summary.csv",
    "replicates.csv",
    "weekly.csv",
    "manifest.json",
];

/// The completion marker of a run directory, written last.
pub const MANIFEST_FILE: &str = "manifest.json";

/// Files a run directory may also hold (results by place for runs over several PCNs, listed in
/// the manifest; `report.html` with `--report`); a run that does not write them removes old
/// ones, which would describe another run.
pub const OPTIONAL_RUN_FILES: [&str; 3] = ["pcns.csv", "icbs.csv", "report.html"];

/// The lock file of a run directory (see [`super::lock`]).
pub const RUN_LOCK_FILE: &str = ".sprx.lock";

/// Prefix of the staging directory inside a run directory.
const STAGING_PREFIX: &str = ".sprx-staging-";

/// The statistics of `summary.csv`, in row order.
pub const SUMMARY_STATISTICS: [&str; 5] = ["mean", "sd", "ci95_lo", "ci95_hi", "n"];

#[derive(Debug, thiserror::Error)]
pub enum OutputError {
    #[error("cannot write {}: {source}", path.display())]
    Write { path: PathBuf, source: io::Error },
}

/// Why a run directory cannot be used: incomplete, damaged or not a run directory at all.
#[derive(Debug, thiserror::Error)]
pub enum RunDirError {
    #[error(
        "{}: not a complete sprx run directory: {MANIFEST_FILE} is missing (the run did not finish, or this is not a run directory); write one with `sprx run --out DIR`",
        dir.display()
    )]
    NoManifest { dir: PathBuf },
    #[error("{}: the run directory is damaged: {message}; run `sprx run --out DIR` again", path.display())]
    Damaged { path: PathBuf, message: String },
    #[error("{}: the run directory is incomplete: {name} is missing; run `sprx run --out DIR` again", dir.display())]
    Missing { dir: PathBuf, name: String },
    #[error("cannot read {}: {source}", path.display())]
    Read { path: PathBuf, source: io::Error },
}

/// Size and SHA-256 of one file of a run directory, as the manifest records them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileRecord {
    pub bytes: u64,
    pub sha256: String,
}

impl FileRecord {
    /// Reads and hashes a file.
    pub fn of(path: &Path) -> io::Result<FileRecord> {
        let mut file = File::open(path)?;
        let mut hasher = Sha256::new();
        let mut buf = vec![0; 1 << 16];
        let mut bytes = 0u64;
        loop {
            let n = file.read(&mut buf)?;
            if n == 0 {
                break;
            }
            hasher.update(&buf[..n]);
            bytes += n as u64;
        }
        Ok(FileRecord {
            bytes,
            sha256: hex::encode(hasher.finalize()),
        })
    }
}

/// Provenance of a run, `manifest.json`.
#[derive(Clone, Debug, Serialize)]
pub struct Manifest {
    pub sprx_version: String,
    /// The commit sprx was built from, if it was built from a git checkout.
    pub git_commit: Option<String>,
    /// Scenario path as given, or `embedded:default`.
    pub scenario: String,
    pub scenario_sha256: String,
    /// The scenario the file overrides (`embedded:default` or a path), if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scenario_base: Option<String>,
    /// The real places run, with the data version and what had to be filled in.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub places: Option<places::PlacesRecord>,
    pub seed: u64,
    pub replicates: u32,
    /// How patients' own processes were stepped: `fast` (the default) or `reference`.
    pub engine: &'static str,
    pub threads: usize,
    pub command_line: Vec<String>,
    /// RFC 3339.
    pub started: String,
    pub finished: String,
    pub elapsed_seconds: f64,
    pub hostname: Option<String>,
    /// The memory the run was estimated to need before it started, and what it used.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub memory: Option<MemoryRecord>,
    /// The run's other files with their size and SHA-256 (filled in when they are written).
    /// Written last, the manifest marks the directory complete when these match.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub files: BTreeMap<String, FileRecord>,
}

/// Estimated and measured peak memory of a run, in bytes.
#[derive(Clone, Debug, Serialize)]
pub struct MemoryRecord {
    /// The estimate the size check compared with the memory budget.
    pub estimate_bytes: u64,
    /// Peak resident memory of the process when the results were summarised (`VmHWM`), where
    /// the OS reports it.
    pub peak_rss_bytes: Option<u64>,
}

/// Everything a run directory is written from.
pub struct RunRecord<'a> {
    pub scenario: &'a Scenario,
    pub outcomes: &'a [ReplicateOutcome],
    pub results: &'a RunResults,
    pub manifest: &'a Manifest,
}

/// Writes every file of [`RUN_FILES`] into `dir`, which must exist: [`stage_run`], then
/// [`StagedRun::commit`].
pub fn write_run(dir: &Path, run: &RunRecord) -> Result<(), OutputError> {
    stage_run(dir, run)?.commit()
}

/// A run's files, complete in a staging directory inside the run directory, waiting to be
/// moved into place. Dropped without [`StagedRun::commit`], it is removed and the run directory
/// is left as it was.
pub struct StagedRun {
    dir: PathBuf,
    staging: tempfile::TempDir,
}

/// Writes every file of [`RUN_FILES`] into a new staging directory inside `dir` (the same file
/// system, so that committing is a rename), the manifest with every file's size and SHA-256.
pub fn stage_run(dir: &Path, run: &RunRecord) -> Result<StagedRun, OutputError> {
    let staging = tempfile::Builder::new()
        .prefix(STAGING_PREFIX)
        .tempdir_in(dir)
        .map_err(|source| OutputError::Write {
            path: dir.to_path_buf(),
            source,
        })?;
    let at = staging.path();
    write_atomically(at, "summary.json", |w| write_summary_json(w, run))?;
    write_atomically(at, "summary.csv", |w| write_summary_csv(w, run.results))?;
    write_atomically(at, "replicates.csv", |w| {
        write_replicates_csv(w, run.results)
    })?;
    write_atomically(at, "weekly.csv", |w| write_weekly_csv(w, run))?;
    if let Some(places) = &run.results.places {
        write_atomically(at, "pcns.csv", |w| {
            places::write_pcns_csv(w, run.results, places)
        })?;
        write_atomically(at, "icbs.csv", |w| {
            places::write_icbs_csv(w, run.results, places)
        })?;
    }
    let mut manifest = run.manifest.clone();
    let place_files = PLACE_FILES.iter().filter(|_| run.results.places.is_some());
    for name in RUN_FILES
        .iter()
        .filter(|&&n| n != MANIFEST_FILE)
        .chain(place_files)
    {
        let path = at.join(name);
        let record = FileRecord::of(&path).map_err(|source| OutputError::Write { path, source })?;
        manifest.files.insert(name.to_string(), record);
    }
    write_atomically(at, MANIFEST_FILE, |w| {
        serde_json::to_writer_pretty(&mut *w, &manifest)?;
        w.write_all(b"\n")
    })?;
    Ok(StagedRun {
        dir: dir.to_path_buf(),
        staging,
    })
}

impl StagedRun {
    /// The staging directory: a complete run directory, for the report to be made from.
    pub fn path(&self) -> &Path {
        self.staging.path()
    }

    /// Moves the staged files into the run directory: first removes the old manifest, so that
    /// it never vouches for a mix of old and new files, then renames each file into place, the
    /// manifest last. Optional files not staged (an old `report.html`) are removed.
    pub fn commit(self) -> Result<(), OutputError> {
        let fail = |path: &Path| {
            let path = path.to_path_buf();
            move |source| OutputError::Write { path, source }
        };
        remove_if_present(&self.dir.join(MANIFEST_FILE)).map_err(fail(&self.dir))?;
        let data = RUN_FILES.iter().filter(|&&n| n != MANIFEST_FILE);
        for name in data.chain(&OPTIONAL_RUN_FILES) {
            let (from, to) = (self.staging.path().join(name), self.dir.join(name));
            if from.exists() {
                std::fs::rename(&from, &to).map_err(fail(&to))?;
            } else {
                remove_if_present(&to).map_err(fail(&to))?;
            }
        }
        let to = self.dir.join(MANIFEST_FILE);
        std::fs::rename(self.staging.path().join(MANIFEST_FILE), &to).map_err(fail(&to))?;
        sync_dir(&self.dir);
        Ok(())
    }
}

fn remove_if_present(path: &Path) -> io::Result<()> {
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

/// Makes the renames durable where the platform allows it; failure only weakens durability.
fn sync_dir(dir: &Path) {
    #[cfg(unix)]
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
    #[cfg(not(unix))]
    let _ = dir;
}

/// Checks that `dir` is a complete run directory: its manifest is present and valid, and every
/// file it lists is there with the recorded size and SHA-256. Returns the manifest. A manifest
/// written before sprx recorded the files is accepted when the files are all present.
pub fn verify_run_dir(dir: &Path) -> Result<serde_json::Value, RunDirError> {
    let path = dir.join(MANIFEST_FILE);
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            return Err(RunDirError::NoManifest {
                dir: dir.to_path_buf(),
            });
        }
        Err(source) => return Err(RunDirError::Read { path, source }),
    };
    let damaged = |path: &Path, message: String| RunDirError::Damaged {
        path: path.to_path_buf(),
        message,
    };
    let manifest: serde_json::Value = serde_json::from_str(&text)
        .map_err(|e| damaged(&path, format!("{MANIFEST_FILE} is not valid JSON ({e})")))?;
    let files: BTreeMap<String, FileRecord> = match manifest.get("files") {
        Some(v) => serde_json::from_value(v.clone())
            .map_err(|e| damaged(&path, format!("its `files` entry is not readable ({e})")))?,
        None => BTreeMap::new(),
    };
    for name in RUN_FILES.iter().filter(|&&n| n != MANIFEST_FILE) {
        if !files.is_empty() && !files.contains_key(*name) {
            return Err(damaged(
                &path,
                format!("{MANIFEST_FILE} does not list {name}"),
            ));
        }
        if !dir.join(name).is_file() {
            return Err(RunDirError::Missing {
                dir: dir.to_path_buf(),
                name: name.to_string(),
            });
        }
    }
    for (name, recorded) in &files {
        let file = dir.join(name);
        let actual = match FileRecord::of(&file) {
            Ok(r) => r,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return Err(RunDirError::Missing {
                    dir: dir.to_path_buf(),
                    name: name.clone(),
                });
            }
            Err(source) => return Err(RunDirError::Read { path: file, source }),
        };
        if actual.bytes != recorded.bytes {
            return Err(damaged(
                &file,
                format!(
                    "{name} has {} bytes where {MANIFEST_FILE} records {} (truncated or changed since the run)",
                    actual.bytes, recorded.bytes
                ),
            ));
        }
        if actual.sha256 != recorded.sha256 {
            return Err(damaged(
                &file,
                format!(
                    "{name} has changed since the run (its SHA-256 differs from {MANIFEST_FILE})"
                ),
            ));
        }
    }
    Ok(manifest)
}

/// Writes `dir/name` through a temporary file renamed into place.
pub fn write_atomically(
    dir: &Path,
    name: &str,
    write: impl FnOnce(&mut BufWriter<&File>) -> io::Result<()>,
) -> Result<(), OutputError> {
    let path = dir.join(name);
    let fail = |source| OutputError::Write {
        path: path.clone(),
        source,
    };
    let mut builder = tempfile::Builder::new();
    builder.prefix(".sprx-").suffix(".tmp");
    #[cfg(unix)]
    {
        // tempfile's 0600 would make results unreadable to colleagues sharing a directory.
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(std::fs::Permissions::from_mode(0o644));
    }
    let tmp = builder.tempfile_in(dir).map_err(fail)?;
    {
        let mut w = BufWriter::with_capacity(1 << 16, tmp.as_file());
        write(&mut w).map_err(fail)?;
        w.flush().map_err(fail)?;
    }
    tmp.as_file().sync_all().map_err(fail)?;
    tmp.persist(&path).map_err(|e| fail(e.error))?;
    Ok(())
}

/// Estimates keyed by metric name, in [`SUMMARY_METRICS`] order.
struct Metrics<'a>(&'a [Estimate]);

impl Serialize for Metrics<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(self.0.len()))?;
        for (metric, estimate) in SUMMARY_METRICS.iter().zip(self.0) {
            map.serialize_entry(metric.name, estimate)?;
        }
        map.end()
    }
}

#[derive(Serialize)]
struct ArmSummary<'a> {
    metrics: Metrics<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    paired_vs_baseline: Option<Metrics<'a>>,
}

/// Arms keyed by name, in scenario order.
struct Arms<'a>(&'a [ArmResults]);

impl Serialize for Arms<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(self.0.len()))?;
        for arm in self.0 {
            let summary = ArmSummary {
                metrics: Metrics(&arm.estimates),
                paired_vs_baseline: arm.paired.as_deref().map(Metrics),
            };
            map.serialize_entry(&arm.name, &summary)?;
        }
        map.end()
    }
}

#[derive(Serialize)]
struct Summary<'a> {
    arms: Arms<'a>,
    baseline: &'a str,
    scenario: &'a Scenario,
    sprx_version: &'a str,
    replicates: usize,
    seed: u64,
    /// Results by fifth of England's PCNs by IMD score (runs over several real PCNs).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    by_pcn_imd_quintile: Vec<QuintileSummary<'a>>,
}

fn write_summary_json(w: &mut impl Write, run: &RunRecord) -> io::Result<()> {
    let summary = Summary {
        arms: Arms(&run.results.arms),
        baseline: run.results.baseline_name(),
        scenario: run.scenario,
        sprx_version: super::VERSION,
        replicates: run.results.replicates.len(),
        seed: run.scenario.run.seed,
        by_pcn_imd_quintile: quintile_summaries(run.results),
    };
    serde_json::to_writer_pretty(&mut *w, &summary)?;
    w.write_all(b"\n")
}

/// A number in its shortest round-trip form; an empty cell where undefined.
fn push_number(buf: &mut String, v: f64) {
    buf.clear();
    if v.is_finite() {
        // Writing to a String cannot fail.
        let _ = write!(buf, "{v}");
    }
}

fn write_summary_csv(w: &mut impl Write, results: &RunResults) -> io::Result<()> {
    let mut csv = csv::Writer::from_writer(w);
    csv.write_record(["arm", "comparison", "metric", "statistic", "value"])?;
    let mut cell = String::new();
    for arm in &results.arms {
        let comparisons = std::iter::once(("value", Some(&arm.estimates)))
            .chain([("paired_vs_baseline", arm.paired.as_ref())])
            .filter_map(|(c, e)| e.map(|e| (c, e)));
        for (comparison, estimates) in comparisons {
            for (metric, e) in SUMMARY_METRICS.iter().zip(estimates) {
                let stats = [e.mean, e.sd, e.ci95[0], e.ci95[1], Some(e.n as f64)];
                for (statistic, value) in SUMMARY_STATISTICS.iter().zip(stats) {
                    push_number(&mut cell, value.unwrap_or(f64::NAN));
                    csv.write_record([&arm.name, comparison, metric.name, statistic, &cell])?;
                }
            }
        }
    }
    csv.flush()
}

fn write_replicates_csv(w: &mut impl Write, results: &RunResults) -> io::Result<()> {
    let mut csv = csv::Writer::from_writer(w);
    let header = ["arm", "replicate"]
        .into_iter()
        .chain(SUMMARY_METRICS.iter().map(|m| m.name));
    csv.write_record(header)?;
    let mut cell = String::new();
    for arm in &results.arms {
        for (replicate, values) in results.replicates.iter().zip(&arm.values) {
            csv.write_field(&arm.name)?;
            csv.write_field(replicate.to_string())?;
            for &v in values {
                push_number(&mut cell, v);
                csv.write_field(&cell)?;
            }
            csv.write_record(None::<&[u8]>)?;
        }
    }
    csv.flush()
}

fn write_weekly_csv(w: &mut impl Write, run: &RunRecord) -> io::Result<()> {
    let mut csv = csv::Writer::from_writer(w);
    let header = ["arm", "replicate", "week"]
        .into_iter()
        .chain(WEEKLY_COLUMNS.iter().map(|c| c.name));
    csv.write_record(header)?;
    let mut cell = String::new();
    for (a, arm) in run.results.arms.iter().enumerate() {
        for outcome in run.outcomes {
            let Some(arm_outcome) = outcome.arms.get(a) else {
                continue;
            };
            let replicate = outcome.replicate.to_string();
            for (week, record) in arm_outcome.weekly.iter().enumerate() {
                csv.write_field(&arm.name)?;
                csv.write_field(&replicate)?;
                csv.write_field(week.to_string())?;
                for column in WEEKLY_COLUMNS {
                    push_number(&mut cell, (column.value)(record));
                    csv.write_field(&cell)?;
                }
                csv.write_record(None::<&[u8]>)?;
            }
        }
    }
    csv.flush()
}
