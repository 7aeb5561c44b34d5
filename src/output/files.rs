//! The files of a run directory. Each is written to a temporary file in the directory and
//! renamed into place, so a reader never sees a partial file; `manifest.json` comes last, so its
//! presence means the run's files are complete. Everything but the manifest depends only on the
//! scenario and seed, so it is byte-identical at any thread count.

use std::fmt::Write as _;
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use serde::Serialize;
use serde::ser::{SerializeMap, Serializer};

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

/// The statistics of `summary.csv`, in row order.
pub const SUMMARY_STATISTICS: [&str; 5] = ["mean", "sd", "ci95_lo", "ci95_hi", "n"];

#[derive(Debug, thiserror::Error)]
pub enum OutputError {
    #[error("cannot write {}: {source}", path.display())]
    Write { path: PathBuf, source: io::Error },
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
    pub seed: u64,
    pub replicates: u32,
    pub threads: usize,
    pub command_line: Vec<String>,
    /// RFC 3339.
    pub started: String,
    pub finished: String,
    pub elapsed_seconds: f64,
    pub hostname: Option<String>,
}

/// Everything a run directory is written from.
pub struct RunRecord<'a> {
    pub scenario: &'a Scenario,
    pub outcomes: &'a [ReplicateOutcome],
    pub results: &'a RunResults,
    pub manifest: &'a Manifest,
}

/// Writes every file of [`RUN_FILES`] into `dir`, which must exist.
pub fn write_run(dir: &Path, run: &RunRecord) -> Result<(), OutputError> {
    write_atomically(dir, "summary.json", |w| write_summary_json(w, run))?;
    write_atomically(dir, "summary.csv", |w| write_summary_csv(w, run.results))?;
    write_atomically(dir, "replicates.csv", |w| {
        write_replicates_csv(w, run.results)
    })?;
    write_atomically(dir, "weekly.csv", |w| write_weekly_csv(w, run))?;
    write_atomically(dir, "manifest.json", |w| {
        serde_json::to_writer_pretty(&mut *w, run.manifest)?;
        w.write_all(b"\n")
    })
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
}

fn write_summary_json(w: &mut impl Write, run: &RunRecord) -> io::Result<()> {
    let summary = Summary {
        arms: Arms(&run.results.arms),
        baseline: run.results.baseline_name(),
        scenario: run.scenario,
        sprx_version: super::VERSION,
        replicates: run.results.replicates.len(),
        seed: run.scenario.run.seed,
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
