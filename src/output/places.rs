//! Results by place: `pcns.csv` (one row per arm and PCN), `icbs.csv` (per arm and ICB, region
//! and all PCNs together) and `summary.json`'s `by_pcn_imd_quintile`. Rows carry the codes NHS
//! data use, so that they join back to other tables.

use std::io::{self, Write};

use serde::Serialize;
use serde::ser::{SerializeMap, Serializer};

use super::results::{PlaceOutputs, RunResults};
use crate::metrics::places::{PLACE_METRICS, PlaceArm, PlaceGroup, PlaceResults};
use crate::metrics::stats::Estimate;

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
    let mut csv = csv::Writer::from_writer(w);
    csv.write_record(
        PCN_COLUMNS
            .iter()
            .map(|c| c.to_string())
            .chain(metric_columns()),
    )?;
    for (a, arm) in results.arms.iter().enumerate() {
        for pcn in &places.pcns {
            let Some(place) = pcn.arms.get(a) else {
                continue;
            };
            let mut row = Cells::new();
            row.text(&arm.name);
            pcn_identity(&mut row, &pcn.group);
            row.number(Some(place.lw_posts));
            row.number(per_10k(place.lw_posts, pcn.group.patients));
            row.metrics(place);
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

/// `icbs.csv`: one row per arm and ICB, region and all PCNs together (`level`).
pub fn write_icbs_csv(
    w: &mut impl Write,
    results: &RunResults,
    places: &PlaceOutputs,
) -> io::Result<()> {
    let mut csv = csv::Writer::from_writer(w);
    csv.write_record(
        AREA_COLUMNS
            .iter()
            .map(|c| c.to_string())
            .chain(metric_columns()),
    )?;
    for (a, arm) in results.arms.iter().enumerate() {
        for area in &places.areas {
            let Some(place) = area.arms.get(a) else {
                continue;
            };
            let g = &area.group;
            let mut row = Cells::new();
            row.text(&arm.name);
            row.text(g.level.as_str());
            row.text(&g.code);
            row.text(&g.name);
            row.text(&g.region);
            row.number(Some(g.pcns.len() as f64));
            row.number(Some(g.patients as f64));
            row.number(Some(two_decimals(g.weighted_patients)));
            row.number(g.imd_score);
            row.number(Some(place.lw_posts));
            row.number(per_10k(place.lw_posts, g.patients));
            row.metrics(place);
            csv.write_record(&row.0)?;
        }
    }
    csv.flush()
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
