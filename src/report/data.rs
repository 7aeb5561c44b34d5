//! Reading a run directory back for the report: `summary.json` (estimates per arm and the
//! resolved scenario), `weekly.csv` (one row per arm, replicate and week), `manifest.json`
//! (provenance) and, for a run over several PCNs, `pcns.csv` and `icbs.csv` (results by place).
//! The report is built only from these files, so it can be regenerated from any finished run
//! without running the model again.

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde_json::Value;

use crate::metrics::stats::Estimate;

#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("cannot read {}: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}: {message}", path.display())]
    Format { path: PathBuf, message: String },
    #[error("cannot draw chart `{chart}`: {message}")]
    Chart { chart: String, message: String },
    #[error("cannot write {}: {message}", path.display())]
    Write { path: PathBuf, message: String },
    #[error("{0}")]
    Trace(String),
}

/// One arm's weekly rows: `[replicate][week][column]`.
pub struct ArmWeeks {
    pub name: String,
    pub replicates: Vec<Vec<Vec<f64>>>,
}

/// `weekly.csv`, by arm in file order.
pub struct Weekly {
    pub columns: HashMap<String, usize>,
    pub arms: Vec<ArmWeeks>,
    pub weeks: usize,
    /// Every column the report has asked for, so a test can check each one exists.
    columns_read: Mutex<BTreeSet<String>>,
}

/// A run directory, read.
pub struct RunDir {
    pub dir: PathBuf,
    pub summary: Value,
    pub manifest: Value,
    pub weekly: Weekly,
    /// Results by place, for a run over several PCNs (`pcns.csv` present).
    pub places: Option<PlaceTables>,
    /// Every summary metric the report has asked for, so a test can check each one exists in
    /// `summary.json` (a misspelt name would otherwise show as a silent "—").
    metrics_read: Mutex<BTreeSet<String>>,
}

fn read_text(path: &Path) -> Result<String, ReportError> {
    std::fs::read_to_string(path).map_err(|source| ReportError::Read {
        path: path.to_path_buf(),
        source,
    })
}

fn read_json(path: &Path) -> Result<Value, ReportError> {
    serde_json::from_str(&read_text(path)?).map_err(|e| ReportError::Format {
        path: path.to_path_buf(),
        message: format!("not valid JSON: {e}"),
    })
}

impl RunDir {
    /// Reads the files the report needs. `manifest.json` is written last by `sprx run`, so its
    /// absence means the run did not finish.
    pub fn read(dir: &Path) -> Result<RunDir, ReportError> {
        let manifest_path = dir.join("manifest.json");
        if !manifest_path.is_file() {
            return Err(ReportError::Format {
                path: dir.to_path_buf(),
                message: "no manifest.json: not a finished sprx run directory".to_string(),
            });
        }
        Ok(RunDir {
            dir: dir.to_path_buf(),
            summary: read_json(&dir.join("summary.json"))?,
            manifest: read_json(&manifest_path)?,
            weekly: Weekly::read(&dir.join("weekly.csv"))?,
            places: PlaceTables::read(dir)?,
            metrics_read: Mutex::default(),
        })
    }

    /// Arm names in scenario order (JSON objects do not keep the order; the scenario's list does).
    pub fn arm_names(&self) -> Vec<String> {
        self.summary["scenario"]["arms"]
            .as_array()
            .map(|arms| {
                arms.iter()
                    .filter_map(|a| a["name"].as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    }

    pub fn baseline(&self) -> String {
        self.summary["baseline"].as_str().unwrap_or("").to_string()
    }

    /// An arm's estimate of a metric; `paired` for the difference against the baseline.
    pub fn estimate(&self, arm: &str, metric: &str, paired: bool) -> Option<Estimate> {
        if let Ok(mut read) = self.metrics_read.lock()
            && !read.contains(metric)
        {
            read.insert(metric.to_string());
        }
        let group = if paired {
            "paired_vs_baseline"
        } else {
            "metrics"
        };
        let e = &self.summary["arms"][arm][group][metric];
        if e.is_null() {
            return None;
        }
        let ci = |i: usize| e["ci95"].get(i).and_then(Value::as_f64);
        Some(Estimate {
            mean: e["mean"].as_f64(),
            sd: e["sd"].as_f64(),
            ci95: [ci(0), ci(1)],
            n: e["n"].as_u64().unwrap_or(0) as usize,
        })
    }

    /// [`RunDir::estimate`] as a table cell: mean [95% CI], or "—" where the run has none.
    pub fn estimate_cell(&self, arm: &str, metric: &str, paired: bool) -> String {
        self.estimate(arm, metric, paired)
            .map_or_else(|| "—".to_string(), |e| crate::output::format_estimate(&e))
    }

    /// The names of the summary metrics asked for so far, in order.
    pub fn metrics_read(&self) -> Vec<String> {
        self.metrics_read
            .lock()
            .map(|read| read.iter().cloned().collect())
            .unwrap_or_default()
    }

    /// An arm's mean of a metric.
    pub fn mean(&self, arm: &str, metric: &str) -> Option<f64> {
        self.estimate(arm, metric, false).and_then(|e| e.mean)
    }

    /// Whether an arm runs the service (it has an evaluation cohort).
    pub fn is_service_arm(&self, arm: &str) -> bool {
        self.mean(arm, "eval_cohort_n").is_some()
    }
}

impl Weekly {
    fn read(path: &Path) -> Result<Weekly, ReportError> {
        let format = |message: String| ReportError::Format {
            path: path.to_path_buf(),
            message,
        };
        let mut reader = csv::Reader::from_path(path).map_err(|e| format(e.to_string()))?;
        let header = reader.headers().map_err(|e| format(e.to_string()))?.clone();
        if header.get(0) != Some("arm")
            || header.get(1) != Some("replicate")
            || header.get(2) != Some("week")
        {
            return Err(format(
                "expected columns arm, replicate, week first".to_string(),
            ));
        }
        let columns: HashMap<String, usize> = header
            .iter()
            .skip(3)
            .enumerate()
            .map(|(i, c)| (c.to_string(), i))
            .collect();
        let mut arms: Vec<ArmWeeks> = Vec::new();
        let mut replicate_index: Vec<HashMap<String, usize>> = Vec::new();
        let mut weeks = 0;
        for (line, record) in reader.records().enumerate() {
            let record = record.map_err(|e| format(e.to_string()))?;
            let arm = record.get(0).unwrap_or("");
            let replicate = record.get(1).unwrap_or("").to_string();
            let a = match arms.iter().position(|x| x.name == arm) {
                Some(a) => a,
                None => {
                    arms.push(ArmWeeks {
                        name: arm.to_string(),
                        replicates: Vec::new(),
                    });
                    replicate_index.push(HashMap::new());
                    arms.len() - 1
                }
            };
            let next = arms[a].replicates.len();
            let r = *replicate_index[a].entry(replicate).or_insert(next);
            if r == next {
                arms[a].replicates.push(Vec::new());
            }
            let row: Vec<f64> = record
                .iter()
                .skip(3)
                .map(|cell| {
                    if cell.is_empty() {
                        Ok(f64::NAN)
                    } else {
                        cell.parse::<f64>()
                    }
                })
                .collect::<Result<_, _>>()
                .map_err(|e| format(format!("line {}: {e}", line + 2)))?;
            arms[a].replicates[r].push(row);
            weeks = weeks.max(arms[a].replicates[r].len());
        }
        Ok(Weekly {
            columns,
            arms,
            weeks,
            columns_read: Mutex::default(),
        })
    }

    pub fn arm(&self, name: &str) -> Option<&ArmWeeks> {
        self.arms.iter().find(|a| a.name == name)
    }

    pub fn column(&self, name: &str) -> Option<usize> {
        if let Ok(mut read) = self.columns_read.lock()
            && !read.contains(name)
        {
            read.insert(name.to_string());
        }
        self.columns.get(name).copied()
    }

    /// The names of the columns asked for so far, in order.
    pub fn columns_read(&self) -> Vec<String> {
        self.columns_read
            .lock()
            .map(|read| read.iter().cloned().collect())
            .unwrap_or_default()
    }
}

/// The place metrics the report shows: `pcns.csv` and `icbs.csv` must have each one's mean,
/// interval and paired difference.
pub const PLACE_METRICS_SHOWN: [&str; 3] = [
    "wait_weeks_mean",
    "connected_share",
    "gp_consults_per_1000_per_year",
];

/// Text columns of `pcns.csv`; every other column is a number (empty when undefined).
const PCN_TEXT_COLUMNS: [&str; 6] = [
    "arm", "pcn_code", "pcn_name", "icb_code", "icb_name", "region",
];

/// Text columns of `icbs.csv`.
const AREA_TEXT_COLUMNS: [&str; 5] = ["arm", "level", "code", "name", "region"];

/// Number columns the report reads from both files, besides the metrics.
const PLACE_NUMBER_COLUMNS: [&str; 3] = ["patients", "imd_score", "lw_posts_per_10k_patients"];

/// `pcns.csv` (one row per arm and PCN) and `icbs.csv` (per arm and ICB, region and all).
pub struct PlaceTables {
    pub pcns: PlaceTable,
    pub areas: PlaceTable,
}

impl PlaceTables {
    /// Reads both files when the run wrote results by place; `None` when it did not.
    fn read(dir: &Path) -> Result<Option<PlaceTables>, ReportError> {
        let pcns = dir.join("pcns.csv");
        if !pcns.is_file() {
            return Ok(None);
        }
        Ok(Some(PlaceTables {
            pcns: PlaceTable::read(&pcns, &PCN_TEXT_COLUMNS)?,
            areas: PlaceTable::read(&dir.join("icbs.csv"), &AREA_TEXT_COLUMNS)?,
        }))
    }
}

/// One row of a table by place: its text cells by column and its numbers.
pub struct PlaceRow {
    text: Vec<String>,
    numbers: Vec<Option<f64>>,
}

/// A table by place, with its columns by name.
pub struct PlaceTable {
    text_columns: HashMap<String, usize>,
    number_columns: HashMap<String, usize>,
    pub rows: Vec<PlaceRow>,
}

/// Every column the report needs in a table by place.
fn required_place_columns(text: &[&str]) -> Vec<String> {
    let metrics = PLACE_METRICS_SHOWN.iter().flat_map(|m| {
        [
            "",
            "_ci95_lo",
            "_ci95_hi",
            "_diff",
            "_diff_ci95_lo",
            "_diff_ci95_hi",
        ]
        .map(|suffix| format!("{m}{suffix}"))
    });
    text.iter()
        .chain(&PLACE_NUMBER_COLUMNS)
        .map(|c| c.to_string())
        .chain(metrics)
        .collect()
}

impl PlaceTable {
    fn read(path: &Path, text: &[&str]) -> Result<PlaceTable, ReportError> {
        let format = |message: String| ReportError::Format {
            path: path.to_path_buf(),
            message,
        };
        let content = read_text(path)?;
        let mut reader = csv::Reader::from_reader(content.as_bytes());
        let header = reader.headers().map_err(|e| format(e.to_string()))?.clone();
        let missing: Vec<String> = required_place_columns(text)
            .into_iter()
            .filter(|c| !header.iter().any(|h| h == c))
            .collect();
        if !missing.is_empty() {
            return Err(format(format!(
                "not a table by place that this report can read: no column {}",
                missing.join(", ")
            )));
        }
        let (mut text_columns, mut number_columns) = (HashMap::new(), HashMap::new());
        for name in header.iter() {
            let columns = if text.contains(&name) {
                &mut text_columns
            } else {
                &mut number_columns
            };
            let next = columns.len();
            columns.insert(name.to_string(), next);
        }
        let mut rows = Vec::new();
        for (line, record) in reader.records().enumerate() {
            let record = record.map_err(|e| format(e.to_string()))?;
            let mut row = PlaceRow {
                text: Vec::with_capacity(text_columns.len()),
                numbers: Vec::with_capacity(number_columns.len()),
            };
            for (name, cell) in header.iter().zip(record.iter()) {
                if text.contains(&name) {
                    row.text.push(cell.to_string());
                } else {
                    row.numbers.push(place_number(cell).ok_or_else(|| {
                        format(format!(
                            "line {}, column `{name}`: `{cell}` is not a number",
                            line + 2
                        ))
                    })?);
                }
            }
            rows.push(row);
        }
        Ok(PlaceTable {
            text_columns,
            number_columns,
            rows,
        })
    }

    /// A text cell (empty if the column is absent).
    pub fn text<'r>(&self, row: &'r PlaceRow, column: &str) -> &'r str {
        self.text_columns
            .get(column)
            .and_then(|&i| row.text.get(i))
            .map_or("", String::as_str)
    }

    /// A number cell; `None` if empty or absent.
    pub fn number(&self, row: &PlaceRow, column: &str) -> Option<f64> {
        self.number_columns
            .get(column)
            .and_then(|&i| row.numbers.get(i).copied().flatten())
    }

    /// A place metric's estimate: its mean and interval, or with `paired` its difference from
    /// the baseline arm. `sd` and `n` are not in the files.
    pub fn estimate(&self, row: &PlaceRow, metric: &str, paired: bool) -> Estimate {
        let name = if paired {
            format!("{metric}_diff")
        } else {
            metric.to_string()
        };
        Estimate {
            mean: self.number(row, &name),
            sd: None,
            ci95: [
                self.number(row, &format!("{name}_ci95_lo")),
                self.number(row, &format!("{name}_ci95_hi")),
            ],
            n: 0,
        }
    }

    /// The rows of one arm (and, for `icbs.csv`, one level), in file order.
    pub fn rows_of<'t>(
        &'t self,
        arm: &'t str,
        level: Option<&'t str>,
    ) -> impl Iterator<Item = &'t PlaceRow> + 't {
        self.rows.iter().filter(move |r| {
            self.text(r, "arm") == arm && level.is_none_or(|l| self.text(r, "level") == l)
        })
    }
}

/// A number cell: empty is undefined, anything else must parse.
fn place_number(cell: &str) -> Option<Option<f64>> {
    if cell.is_empty() {
        return Some(None);
    }
    cell.parse::<f64>().ok().map(Some)
}
