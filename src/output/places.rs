//! Results by place: `pcns.csv` (one row per arm and PCN), `icbs.csv` (per arm and ICB, region
//! and all PCNs together) and `summary.json`'s `by_pcn_imd_quintile`. Rows carry the codes NHS
//! data use, so that they join back to other tables.

use std::io::{self, Write};

use serde::Serialize;
use serde::ser::{SerializeMap, Serializer};

use super::results::{PlaceOutputs, RunResults};
use crate::engine::{PcnIdentity, Plan};
use crate::metrics::places::{PLACE_METRICS, PlaceArm, PlaceGroup, PlaceResults};
use crate::metrics::stats::Estimate;
use crate::places::TABLES_SHA256;

/// The files by place a run over several PCNs adds to its directory.
pub const PLACE_FILES: [&str; 2] = ["pcns.csv", "icbs.csv"];

/// The columns of each place metric: its mean and 95% interval, then the paired difference
/// against the baseline arm with its interval.
fn metric_columns() -> Vec<String> {
    let value = PLACE_METRICS.iter().flat_map(|m| {
        [
            m.name.to_string(),
            format!("{}_ci95_lo", m.name),
            format!("{}_ci95_hi", m.name),
        ]
    });
    let diff = PLACE_METRICS.iter().flat_map(|m| {
        [
            format!("{}_diff", m.name),
            format!("{}_diff_ci95_lo", m.name),
            format!("{}_diff_ci95_hi", m.name),
        ]
    });
    value.chain(diff).collect()
}

/// Identity columns of `pcns.csv`, before the metrics.
const PCN_COLUMNS: [&str; 13] = [
    "arm",
    "pcn_code",
    "pcn_name",
    "icb_code",
    "icb_name",
    "region",
    "imd_score",
    "pcn_imd_quintile",
    "patients",
    "weighted_patients",
    "lw_fte_2022_reported",
    "lw_posts",
    "lw_posts_per_10k_patients",
];

/// Identity columns of `icbs.csv`, before the metrics.
const AREA_COLUMNS: [&str; 11] = [
    "arm",
    "level",
    "code",
    "name",
    "region",
    "pcns",
    "patients",
    "weighted_patients",
    "imd_score",
    "lw_posts",
    "lw_posts_per_10k_patients",
];

/// Cells of numbers: shortest round-trip form, empty where undefined.
struct Cells(Vec<String>);

impl Cells {
    fn new() -> Cells {
        Cells(Vec::new())
    }

    fn text(&mut self, t: &str) {
        self.0.push(t.to_string());
    }

    fn number(&mut self, v: Option<f64>) {
        self.0.push(match v {
            Some(v) if v.is_finite() => format!("{v}"),
            _ => String::new(),
        });
    }

    fn estimate(&mut self, e: Option<&Estimate>) {
        self.number(e.and_then(|e| e.mean));
        self.number(e.and_then(|e| e.ci95[0]));
        self.number(e.and_then(|e| e.ci95[1]));
    }

    /// The metric columns of one arm: estimates, then paired differences (empty for the
    /// baseline).
    fn metrics(&mut self, arm: &PlaceArm) {
        for e in &arm.estimates {
            self.estimate(Some(e));
        }
        for m in 0..PLACE_METRICS.len() {
            self.estimate(arm.paired.as_ref().and_then(|p| p.get(m)));
        }
    }
}

/// Weighted patients to the table's two decimals: summing fractional PCN figures leaves
/// float noise (976547.0800000001) that a spreadsheet user should not see.
fn two_decimals(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

fn per_10k(posts: f64, patients: u64) -> Option<f64> {
    (patients > 0).then(|| posts * 10_000.0 / patients as f64)
}

/// `pcns.csv`: one row per arm and PCN, arms in scenario order, PCNs in plan order.
pub fn write_pcns_csv(
    w: &mut impl Write,
    results: &RunResults,
    places: &PlaceOutputs,
) -> io::Result<()> {
    write_place_rows(w, results, &PCN_COLUMNS, &places.pcns, pcn_identity)
}

/// `icbs.csv`: one row per arm and ICB, region and all PCNs together (`level`).
pub fn write_icbs_csv(
    w: &mut impl Write,
    results: &RunResults,
    places: &PlaceOutputs,
) -> io::Result<()> {
    write_place_rows(w, results, &AREA_COLUMNS, &places.areas, area_identity)
}

/// A table by place: for each arm, a row per place of its identity columns (`identity`, the
/// columns of `columns` after `arm` and before the posts), its posts and the place metrics.
fn write_place_rows(
    w: &mut impl Write,
    results: &RunResults,
    columns: &[&str],
    places: &[PlaceResults],
    identity: fn(&mut Cells, &PlaceGroup),
) -> io::Result<()> {
    let mut csv = csv::Writer::from_writer(w);
    csv.write_record(
        columns
            .iter()
            .map(|c| c.to_string())
            .chain(metric_columns()),
    )?;
    for (a, arm) in results.arms.iter().enumerate() {
        for place in places {
            let Some(results) = place.arms.get(a) else {
                continue;
            };
            let mut row = Cells::new();
            row.text(&arm.name);
            identity(&mut row, &place.group);
            row.number(Some(results.lw_posts));
            row.number(per_10k(results.lw_posts, place.group.patients));
            row.metrics(results);
            csv.write_record(&row.0)?;
        }
    }
    csv.flush()
}

fn pcn_identity(row: &mut Cells, group: &PlaceGroup) {
    let identity = group.identity.as_ref();
    row.text(&group.code);
    row.text(&group.name);
    row.text(identity.map_or("", |p| p.icb_code.as_str()));
    row.text(identity.map_or("", |p| p.icb_name.as_str()));
    row.text(&group.region);
    row.number(group.imd_score);
    row.number(identity.and_then(|p| p.imd_quintile).map(f64::from));
    row.number(Some(group.patients as f64));
    row.number(Some(two_decimals(group.weighted_patients)));
    row.number(identity.and_then(|p| p.lw_fte_reported));
}

fn area_identity(row: &mut Cells, group: &PlaceGroup) {
    row.text(group.level.as_str());
    row.text(&group.code);
    row.text(&group.name);
    row.text(&group.region);
    row.number(Some(group.pcns.len() as f64));
    row.number(Some(group.patients as f64));
    row.number(Some(two_decimals(group.weighted_patients)));
    row.number(group.imd_score);
}

/// Place metrics keyed by name.
struct PlaceMetrics<'a>(&'a [Estimate]);

impl Serialize for PlaceMetrics<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(self.0.len()))?;
        for (metric, estimate) in PLACE_METRICS.iter().zip(self.0) {
            map.serialize_entry(metric.name, estimate)?;
        }
        map.end()
    }
}

#[derive(Serialize)]
struct QuintileArm<'a> {
    lw_posts: f64,
    lw_posts_per_10k_patients: Option<f64>,
    metrics: PlaceMetrics<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    paired_vs_baseline: Option<PlaceMetrics<'a>>,
}

/// Arms of one quintile keyed by name.
struct QuintileArms<'a> {
    names: Vec<&'a str>,
    quintile: &'a PlaceResults,
}

impl Serialize for QuintileArms<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(self.names.len()))?;
        for (name, arm) in self.names.iter().zip(&self.quintile.arms) {
            let entry = QuintileArm {
                lw_posts: arm.lw_posts,
                lw_posts_per_10k_patients: per_10k(arm.lw_posts, self.quintile.group.patients),
                metrics: PlaceMetrics(&arm.estimates),
                paired_vs_baseline: arm.paired.as_deref().map(PlaceMetrics),
            };
            map.serialize_entry(name, &entry)?;
        }
        map.end()
    }
}

/// One entry of `summary.json`'s `by_pcn_imd_quintile`.
#[derive(Serialize)]
pub struct QuintileSummary<'a> {
    quintile: &'a str,
    name: &'a str,
    pcns: usize,
    patients: u64,
    imd_score: Option<f64>,
    arms: QuintileArms<'a>,
}

/// `summary.json`'s results by PCN deprivation quintile (empty for synthetic PCNs).
pub fn quintile_summaries(results: &RunResults) -> Vec<QuintileSummary<'_>> {
    let names: Vec<&str> = results.arms.iter().map(|a| a.name.as_str()).collect();
    results
        .places
        .iter()
        .flat_map(|p| &p.quintiles)
        .map(|q| QuintileSummary {
            quintile: &q.group.code,
            name: &q.group.name,
            pcns: q.group.pcns.len(),
            patients: q.group.patients,
            imd_score: q.group.imd_score,
            arms: QuintileArms {
                names: names.clone(),
                quintile: q,
            },
        })
        .collect()
}

/// What a run over real places records of them in its manifest and log: the data version and
/// what the data could not say, so that nothing is filled in silently.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct PlacesRecord {
    /// `england` (the embedded table) or the user's table as the scenario names it.
    pub source: String,
    /// A user's table as this run found it (relative to the working directory or absolute).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// The data version: SHA-256 of the embedded places tables (`sprx::places::TABLES_SHA256`),
    /// or of the bytes of a user's table.
    pub data_version: String,
    pub pcns: usize,
    pub patients: u64,
    /// PCNs that made no September 2022 workforce return: their `as_is` FTE is imputed.
    pub pcns_without_workforce_return: Vec<String>,
    /// PCNs none of whose practices has an IMD score: an even quintile mix, no quintile.
    pub pcns_without_imd: Vec<String>,
    /// Practices without an IMD score (they take their PCN's mean score).
    pub practices_without_imd: usize,
}

impl PlacesRecord {
    /// The record of a plan over real places; `None` for synthetic PCNs.
    pub fn of(plan: &Plan, source: &str, practices_without_imd: usize) -> Option<PlacesRecord> {
        let identities: Vec<&PcnIdentity> = plan
            .pcns
            .iter()
            .filter_map(|p| p.identity.as_ref())
            .collect();
        if identities.is_empty() {
            return None;
        }
        let codes = |missing: fn(&PcnIdentity) -> bool| {
            identities
                .iter()
                .filter(|p| missing(p))
                .map(|p| p.code.clone())
                .collect()
        };
        Some(PlacesRecord {
            source: source.to_string(),
            path: None,
            data_version: TABLES_SHA256.to_string(),
            pcns: plan.pcns.len(),
            patients: plan.patients(),
            pcns_without_workforce_return: codes(|p| p.lw_fte_reported.is_none()),
            pcns_without_imd: codes(|p| p.imd_score.is_none()),
            practices_without_imd,
        })
    }

    /// The run-log lines: what was selected and what had to be filled in.
    pub fn log_lines(&self) -> Vec<String> {
        let mut lines = vec![format!(
            "places: {} ({} PCNs, {} patients), data version {}",
            self.source,
            self.pcns,
            self.patients,
            &self.data_version[..self.data_version.len().min(12)]
        )];
        let n = self.pcns_without_workforce_return.len();
        if n > 0 {
            lines.push(format!(
                "places: {n} PCN{} made no workforce return in September 2022 ({}); an `as_is` \
                 allocation gives {} the FTE per patient of the reporting PCNs of {} ICB",
                plural(n),
                list(&self.pcns_without_workforce_return),
                if n == 1 { "it" } else { "them" },
                if n == 1 { "its" } else { "their" },
            ));
        }
        if self.practices_without_imd > 0 {
            lines.push(format!(
                "places: {} practice{} without an IMD 2019 score take{} {} PCN's mean score",
                self.practices_without_imd,
                plural(self.practices_without_imd),
                if self.practices_without_imd == 1 {
                    "s"
                } else {
                    ""
                },
                if self.practices_without_imd == 1 {
                    "its"
                } else {
                    "their"
                },
            ));
        }
        let n = self.pcns_without_imd.len();
        if n > 0 {
            lines.push(format!(
                "places: {n} PCN{} without any IMD score ({}) get{} an even deprivation mix and \
                 no PCN deprivation quintile",
                plural(n),
                list(&self.pcns_without_imd),
                if n == 1 { "s" } else { "" },
            ));
        }
        lines
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// Up to five codes, then how many more.
fn list(codes: &[String]) -> String {
    let shown: Vec<&str> = codes.iter().take(5).map(String::as_str).collect();
    match codes.len().saturating_sub(shown.len()) {
        0 => shown.join(", "),
        more => format!("{}, and {more} more", shown.join(", ")),
    }
}
