//! Merging shard files into the final outputs: `runs.csv` (one row per point × replicate),
//! `points.csv` (statistics per point), for Morris and Sobol designs `sensitivity.csv` and
//! `ranking.txt`, then `manifest.json`. Every file is written to a temporary file and renamed;
//! all but the manifest depend only on the rows, sorted by point and replicate, so they are the
//! same bytes whatever the shard layout or thread count that produced the rows.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::SweepError;
use super::design::Structure;
use super::exec::{DesignRecord, PlanFile, SHARD_DIR, ShardRecord, complete_points, shard_files};
use super::sensitivity::{Indices, morris, ranking, sobol};
use super::spec::fmt_value;
use crate::metrics::stats::Estimate;
use crate::output::files::write_atomically;

/// Files the merge writes, in order (sensitivity files only for Morris and Sobol designs).
pub const MERGED_FILES: [&str; 5] = [
    "runs.csv",
    "points.csv",
    "sensitivity.csv",
    "ranking.txt",
    "manifest.json",
];

/// Parameters listed per metric in `ranking.txt`.
const RANKING_TOP: usize = 10;

/// `manifest.json` of a merged sweep.
#[derive(Serialize)]
struct Manifest<'a> {
    sprx_version: &'a str,
    git_commit: Option<&'a str>,
    sweep: &'a str,
    sweep_sha256: &'a str,
    seed: u64,
    replicates: u32,
    bootstrap: usize,
    design: &'a DesignRecord,
    points: usize,
    parameters: &'a [String],
    metrics: &'a [String],
    shards: Vec<ShardEntry>,
    command_line: Vec<String>,
    merged: String,
    hostname: Option<String>,
}

#[derive(Serialize)]
struct ShardEntry {
    file: String,
    rows: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    record: Option<ShardRecord>,
}

/// One point's rows, by replicate.
struct PointRows {
    lines: Vec<String>,
    metrics: Vec<Vec<f64>>,
    file: usize,
}

/// Compresses sorted point numbers into `0-3, 7, 9-11`.
fn ranges(points: &[usize]) -> String {
    let mut out: Vec<String> = Vec::new();
    let mut i = 0;
    while i < points.len() {
        let mut j = i;
        while j + 1 < points.len() && points[j + 1] == points[j] + 1 {
            j += 1;
        }
        out.push(if i == j {
            points[i].to_string()
        } else {
            format!("{}-{}", points[i], points[j])
        });
        i = j + 1;
    }
    out.join(", ")
}

/// Merges the shard files of `dir` and writes the final outputs.
pub fn merge(dir: &Path, command_line: &[String]) -> Result<(), SweepError> {
    let plan = PlanFile::read(dir)?;
    let header = plan.runs_header();
    let files = shard_files(dir)?;
    if files.is_empty() {
        return Err(SweepError::Usage(format!(
            "no shard files in {}: run the sweep (or its shards) first",
            dir.join(SHARD_DIR).display()
        )));
    }
    let k = plan.parameters.len();
    let mut points: BTreeMap<usize, PointRows> = BTreeMap::new();
    let mut duplicates: BTreeMap<usize, Vec<String>> = BTreeMap::new();
    let mut entries = Vec::new();
    for (f, path) in files.iter().enumerate() {
        let text = std::fs::read_to_string(path)
            .map_err(|e| SweepError::io(format!("cannot read {}", path.display()), e))?;
        let (done, keep) = complete_points(&text, &header, plan.replicates, path)?;
        let mut rows = 0;
        for line in text.get(header.len().min(keep)..keep).unwrap_or("").lines() {
            rows += 1;
            let fields: Vec<&str> = line.split(',').collect();
            let bad = || SweepError::Runtime(format!("{}: bad line `{line}`", path.display()));
            let point: usize = fields
                .first()
                .and_then(|f| f.parse().ok())
                .ok_or_else(bad)?;
            if fields.len() != 2 + k + plan.metrics.len() || point >= plan.points {
                return Err(bad());
            }
            let metrics: Vec<f64> = fields[2 + k..]
                .iter()
                .map(|f| f.parse::<f64>())
                .collect::<Result<_, _>>()
                .map_err(|_| bad())?;
            let entry = points.entry(point).or_insert_with(|| PointRows {
                lines: Vec::new(),
                metrics: Vec::new(),
                file: f,
            });
            if entry.file != f {
                if fields[1] == "0" {
                    duplicates
                        .entry(point)
                        .or_insert_with(|| vec![files[entry.file].display().to_string()])
                        .push(path.display().to_string());
                }
                continue;
            }
            entry.lines.push(format!("{line}\n"));
            entry.metrics.push(metrics);
        }
        debug_assert_eq!(rows, done.len() * plan.replicates as usize);
        let record = std::fs::read_to_string(path.with_extension("json"))
            .ok()
            .and_then(|t| serde_json::from_str(&t).ok());
        entries.push(ShardEntry {
            file: path.strip_prefix(dir).unwrap_or(path).display().to_string(),
            rows,
            record,
        });
    }
    let missing: Vec<usize> = (0..plan.points)
        .filter(|p| !points.contains_key(p))
        .collect();
    if !missing.is_empty() || !duplicates.is_empty() {
        let mut msg = String::from("the shards do not hold every point exactly once:");
        if !missing.is_empty() {
            let _ = write!(
                msg,
                "\n  missing {} of {} points: {}",
                missing.len(),
                plan.points,
                ranges(&missing)
            );
            // With one shard layout, name the shards to run again.
            let layouts: std::collections::BTreeSet<usize> = files
                .iter()
                .filter_map(|p| {
                    let name = p.file_stem()?.to_string_lossy().to_string();
                    name.rsplit_once("-of-")?.1.parse().ok()
                })
                .collect();
            if let (1, Some(&n)) = (layouts.len(), layouts.first()) {
                let mut by_shard: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
                for &p in &missing {
                    by_shard.entry(p % n.max(1)).or_default().push(p);
                }
                for (k, pts) in by_shard {
                    let _ = write!(msg, "\n  shard {k}/{n}: {}", ranges(&pts));
                }
            }
            let _ = write!(
                msg,
                "\n  (run the shards that hold them again with --resume; point p is in shard p mod N)"
            );
        }
        for (p, in_files) in &duplicates {
            let _ = write!(msg, "\n  point {p} is in {}", in_files.join(" and "));
        }
        if !duplicates.is_empty() {
            let _ = write!(
                msg,
                "\n  (shard files of different layouts share {}; keep one layout)",
                dir.join(SHARD_DIR).display()
            );
        }
        return Err(SweepError::Runtime(msg));
    }

    let fail = |e: crate::output::files::OutputError| SweepError::Runtime(e.to_string());
    write_atomically(dir, "runs.csv", |w| {
        w.write_all(header.as_bytes())?;
        for rows in points.values() {
            for line in &rows.lines {
                w.write_all(line.as_bytes())?;
            }
        }
        Ok(())
    })
    .map_err(fail)?;

    // Statistics per point and metric; the point's parameter values come from its first row.
    let estimates: Vec<Vec<Estimate>> = points
        .values()
        .map(|rows| {
            (0..plan.metrics.len())
                .map(|m| Estimate::from_samples(rows.metrics.iter().map(|r| r[m])))
                .collect()
        })
        .collect();
    write_atomically(dir, "points.csv", |w| {
        let mut cols = vec!["point".to_string()];
        cols.extend(plan.parameters.iter().cloned());
        for m in &plan.metrics {
            for stat in ["mean", "sd", "ci95_lo", "ci95_hi", "n"] {
                cols.push(format!("{m}.{stat}"));
            }
        }
        writeln!(w, "{}", cols.join(","))?;
        let opt = |v: Option<f64>| v.map(fmt_value).unwrap_or_default();
        for ((p, rows), est) in points.iter().zip(&estimates) {
            let first = rows.lines.first().map_or("", |l| l.trim_end());
            let params: Vec<&str> = first.split(',').skip(2).take(k).collect();
            let mut line = format!("{p},{}", params.join(","));
            for e in est {
                let _ = write!(
                    line,
                    ",{},{},{},{},{}",
                    opt(e.mean),
                    opt(e.sd),
                    opt(e.ci95[0]),
                    opt(e.ci95[1]),
                    e.n
                );
            }
            writeln!(w, "{line}")?;
        }
        Ok(())
    })
    .map_err(fail)?;

    if matches!(
        plan.design,
        DesignRecord::Morris { .. } | DesignRecord::Sobol { .. }
    ) {
        let (csv, text) = analyse(&plan, &estimates)?;
        write_atomically(dir, "sensitivity.csv", |w| w.write_all(csv.as_bytes())).map_err(fail)?;
        write_atomically(dir, "ranking.txt", |w| w.write_all(text.as_bytes())).map_err(fail)?;
    }

    let manifest = Manifest {
        sprx_version: env!("CARGO_PKG_VERSION"),
        git_commit: option_env!("SPRX_GIT_COMMIT"),
        sweep: &plan.sweep,
        sweep_sha256: &plan.sweep_sha256,
        seed: plan.seed,
        replicates: plan.replicates,
        bootstrap: plan.bootstrap,
        design: &plan.design,
        points: plan.points,
        parameters: &plan.parameters,
        metrics: &plan.metrics,
        shards: entries,
        command_line: command_line.to_vec(),
        merged: chrono::Utc::now().to_rfc3339(),
        hostname: crate::output::hostname(),
    };
    write_atomically(dir, "manifest.json", |w| {
        serde_json::to_writer_pretty(&mut *w, &manifest)?;
        w.write_all(b"\n")
    })
    .map_err(fail)
}

/// `sensitivity.csv` and `ranking.txt` from the per-point means.
fn analyse(plan: &PlanFile, estimates: &[Vec<Estimate>]) -> Result<(String, String), SweepError> {
    let sample = plan.sample()?;
    let mut csv = String::new();
    let mut text = String::new();
    let is_morris = matches!(sample.structure, Structure::Morris { .. });
    csv.push_str(if is_morris {
        "metric,parameter,mu,mu_star,sigma,mu_star_ci95_lo,mu_star_ci95_hi\n"
    } else {
        "metric,parameter,S1,S1_ci95_lo,S1_ci95_hi,ST,ST_ci95_lo,ST_ci95_hi\n"
    });
    let v = |x: f64| fmt_value(x);
    for (m, metric) in plan.metrics.iter().enumerate() {
        let y: Vec<f64> = estimates
            .iter()
            .map(|e| e[m].mean.unwrap_or(f64::NAN))
            .collect();
        let _ = writeln!(
            text,
            "{metric} ({}):",
            if is_morris {
                "Morris, by mu*"
            } else {
                "Sobol, by ST"
            }
        );
        let result = if is_morris {
            morris(&sample, &y, plan.seed, plan.bootstrap).and_then(|idx| {
                for (name, i) in plan.parameters.iter().zip(&idx) {
                    let _ = writeln!(
                        csv,
                        "{metric},{name},{},{},{},{},{}",
                        v(i.mu),
                        v(i.mu_star),
                        v(i.sigma),
                        v(i.mu_star_ci95[0]),
                        v(i.mu_star_ci95[1])
                    );
                }
                ranking(&plan.parameters, Indices::Morris(&idx), Some(RANKING_TOP))
            })
        } else {
            sobol(&sample, &y, plan.seed, plan.bootstrap).and_then(|idx| {
                for (name, i) in plan.parameters.iter().zip(&idx) {
                    let _ = writeln!(
                        csv,
                        "{metric},{name},{},{},{},{},{},{}",
                        v(i.s1),
                        v(i.s1_ci95[0]),
                        v(i.s1_ci95[1]),
                        v(i.st),
                        v(i.st_ci95[0]),
                        v(i.st_ci95[1])
                    );
                }
                ranking(&plan.parameters, Indices::Sobol(&idx), Some(RANKING_TOP))
            })
        };
        match result {
            Ok(r) => {
                for line in r.lines() {
                    let _ = writeln!(text, "  {line}");
                }
            }
            Err(e) => {
                let _ = writeln!(text, "  not analysed: {e}");
            }
        }
        text.push('\n');
    }
    Ok((csv, text))
}

/// The paths of the merged files present in `dir`.
pub fn merged_paths(dir: &Path) -> Vec<PathBuf> {
    MERGED_FILES
        .iter()
        .map(|f| dir.join(f))
        .filter(|p| p.exists())
        .collect()
}
