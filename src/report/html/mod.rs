//! The report: one self-contained HTML file (inline CSS and SVG, no script, no network) built
//! from a run directory, for people who will not open a CSV — trainers, commissioners, analysts.
//! It opens with the scenario's narrative, then the evaluation lens (the point of sprx), then
//! the charts system by system, and ends with the scenario, its parameters and provenance.
//!
//! The page is a list of [`SECTIONS`], each a short function in [`sections`] from the run (a
//! [`Report`]) to its HTML; chart data come from [`bands`] and numbers are written by [`format`].

mod access;
mod bands;
mod format;
mod places;
mod routes;
mod sections;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use plotters::style::RGBColor;
use serde_json::Value;

use super::charts::{Band, ChartSpec, band_chart};
use super::data::{ReportError, RunDir};
use super::escape;
use super::trace::Journey;
use crate::output::write_atomically;
use crate::params::fmt_num;

/// The report's file name inside the run directory.
pub const REPORT_FILE: &str = "report.html";

/// Every chart the report can hold: (id, title). The report test checks each one rendered.
pub const CHARTS: [(&str, &str); 30] = [
    (
        "eval-gp",
        "Evaluation lens: change in referred patients' GP use",
    ),
    (
        "eval-wellbeing",
        "Evaluation lens: change in referred patients' wellbeing",
    ),
    (
        "eval-wellbeing-followup",
        "Evaluation lens: referred patients' wellbeing from referral to follow-up",
    ),
    ("gp-demand", "GP consultations per 1,000 patients per week"),
    (
        "gp-demand-diff",
        "GP consultations per 1,000 patients per week: difference from the baseline",
    ),
    (
        "gp-access",
        "GP appointments per 1,000 patients per year: requested, delivered, unmet",
    ),
    (
        "gp-access-diff",
        "GP appointments per 1,000 patients per year: difference from the baseline",
    ),
    (
        "gp-backlog",
        "GP requests waiting for an appointment per 1,000 patients",
    ),
    (
        "wellbeing-mean",
        "Mean wellbeing (WEMWBS) of the registered population",
    ),
    ("wellbeing-low", "Share of patients with low wellbeing"),
    ("funnel", "Referral funnel per 1,000 patients per year"),
    ("routes", "Accepted referrals by route"),
    (
        "routes-quintile",
        "Accepted referrals by route and deprivation quintile",
    ),
    ("lw-queue", "Patients waiting for a link worker"),
    (
        "lw-waits",
        "Wait from acceptance to the first link-worker session",
    ),
    ("lw-stress", "Mean link-worker stress"),
    ("lw-vacancies", "Link-worker posts vacant"),
    ("asset-occupancy", "Occupancy of community assets"),
    ("asset-open", "Community assets open"),
    ("asset-closures", "Community asset closures, cumulative"),
    (
        "equity-wellbeing",
        "Wellbeing by deprivation quintile: difference from the baseline",
    ),
    (
        "equity-gp",
        "GP use by deprivation quintile: difference from the baseline",
    ),
    (
        "equity-referrals",
        "Accepted referrals by deprivation quintile",
    ),
    (
        "equity-connections",
        "Connections to assets by deprivation quintile",
    ),
    (
        "equity-conversion",
        "Share of accepted referrals that connect, by deprivation quintile",
    ),
    ("costs", "Cost per year: difference from the baseline"),
    (
        "places-posts-imd",
        "Link-worker posts per 10,000 patients against PCN deprivation",
    ),
    (
        "places-waits-ranked",
        "Wait for a link worker by PCN, ranked",
    ),
    (
        "places-connected-ranked",
        "Share of accepted referrals connected, by PCN, ranked",
    ),
    (
        "places-allocation-posts",
        "Link-worker posts per 10,000 patients by fifth of PCNs by deprivation",
    ),
];

fn title_of(id: &str) -> &'static str {
    CHARTS.iter().find(|(i, _)| *i == id).map_or("", |(_, t)| t)
}

/// Writes `dir/report.html` from the run directory `dir`, with patient journeys if given.
pub fn write_report(dir: &Path, journeys: &[Journey]) -> Result<PathBuf, ReportError> {
    let run = RunDir::read(dir)?;
    let html = render(&run, journeys)?;
    write_atomically(dir, REPORT_FILE, |w| {
        std::io::Write::write_all(w, html.as_bytes())
    })
    .map_err(|e| ReportError::Write {
        path: dir.join(REPORT_FILE),
        message: e.to_string(),
    })?;
    Ok(dir.join(REPORT_FILE))
}

/// What every section reads: the run, the journeys asked for, and the arms grouped the way the
/// charts compare them.
pub(super) struct Report<'a> {
    run: &'a RunDir,
    journeys: &'a [Journey],
    /// Every arm, in scenario order.
    arms: Vec<String>,
    baseline: String,
    /// Every arm with its colour.
    colours: Vec<(String, RGBColor)>,
    /// Arms that run the link-worker service.
    service: Vec<(String, RGBColor)>,
    /// Arms other than the baseline.
    compared: Vec<(String, RGBColor)>,
    /// The scenario as resolved, from `summary.json`.
    scenario: &'a Value,
    replicates: u64,
}

impl<'a> Report<'a> {
    fn new(run: &'a RunDir, journeys: &'a [Journey]) -> Report<'a> {
        let arms = run.arm_names();
        let baseline = run.baseline();
        let colours = bands::arm_colours(&arms, &baseline);
        let service = colours
            .iter()
            .filter(|(a, _)| run.is_service_arm(a))
            .cloned()
            .collect();
        let compared = colours
            .iter()
            .filter(|(a, _)| *a != baseline)
            .cloned()
            .collect();
        Report {
            run,
            journeys,
            arms,
            baseline,
            colours,
            service,
            compared,
            scenario: &run.summary["scenario"],
            replicates: run.summary["replicates"].as_u64().unwrap_or(0),
        }
    }

    /// An arm's resolved value of a model parameter, from the scenario in `summary.json`.
    fn param(&self, arm: &str, name: &str) -> Option<f64> {
        self.scenario["arms"]
            .as_array()?
            .iter()
            .find(|a| a["name"].as_str() == Some(arm))?["params"][name]
            .as_f64()
    }

    /// Whether some arm sets the parameter above 0 (a §9 mechanism switched on).
    fn some_arm_sets(&self, arms: &[(String, RGBColor)], name: &str) -> bool {
        arms.iter()
            .any(|(a, _)| self.param(a, name).is_some_and(|v| v > 0.0))
    }

    /// Whether a summary metric has a defined, non-zero mean in some arm.
    fn at_work(&self, metric: &str) -> bool {
        self.arms
            .iter()
            .any(|a| self.run.mean(a, metric).is_some_and(|v| v != 0.0))
    }
}

/// One section of the page: its anchor, its heading, whether this run has it, and its body.
struct Section {
    id: &'static str,
    heading: &'static str,
    shown: fn(&Report) -> bool,
    body: fn(&Report, &mut String) -> Result<(), ReportError>,
}

fn always(_: &Report) -> bool {
    true
}

/// The report's sections, in page order.
const SECTIONS: [Section; 15] = [
    Section {
        id: "headline",
        heading: "Headline results",
        shown: always,
        body: sections::headline,
    },
    Section {
        id: "evaluation",
        heading: "The evaluation lens",
        shown: always,
        body: sections::evaluation,
    },
    Section {
        id: "gp",
        heading: "GP demand",
        shown: always,
        body: sections::gp,
    },
    Section {
        id: "gp-access-section",
        heading: "GP appointments: access",
        shown: access::shown,
        body: access::gp_access,
    },
    Section {
        id: "wellbeing",
        heading: "Wellbeing",
        shown: always,
        body: sections::wellbeing,
    },
    Section {
        id: "pathway",
        heading: "The referral pathway",
        shown: always,
        body: sections::pathway,
    },
    Section {
        id: "routes-section",
        heading: "Referral routes",
        shown: routes::shown,
        body: routes::routes,
    },
    Section {
        id: "link-workers",
        heading: "Link workers",
        shown: always,
        body: sections::link_workers,
    },
    Section {
        id: "assets",
        heading: "Community assets",
        shown: always,
        body: sections::assets,
    },
    Section {
        id: "equity",
        heading: "Equity",
        shown: always,
        body: sections::equity,
    },
    Section {
        id: "places",
        heading: "Places",
        shown: places::shown,
        body: places::places,
    },
    Section {
        id: "costs-section",
        heading: "Costs",
        shown: always,
        body: sections::costs,
    },
    Section {
        id: "journeys",
        heading: "Patient journeys",
        shown: |r| !r.journeys.is_empty(),
        body: sections::journeys,
    },
    Section {
        id: "scenario",
        heading: "Scenario and parameters",
        shown: always,
        body: sections::scenario,
    },
    Section {
        id: "provenance",
        heading: "Provenance",
        shown: always,
        body: sections::provenance,
    },
];

const STYLE: &str = r#"
:root { --ink: #1a1a1a; --muted: #555; --line: #d0d0d0; --accent: #0b5394; --paper: #fff; --soft: #f4f6f8; }
* { box-sizing: border-box; }
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
  font-size: 17px; line-height: 1.55; color: var(--ink); background: var(--paper); margin: 0; }
main { max-width: 1040px; margin: 0 auto; padding: 1.5rem 1.25rem 4rem; }
h1 { font-size: 2rem; margin: 0.2rem 0 0.3rem; }
h2 { font-size: 1.45rem; margin-top: 2.6rem; border-bottom: 2px solid var(--accent); padding-bottom: 0.2rem; }
h3 { font-size: 1.12rem; margin: 0 0 0.4rem; }
a { color: var(--accent); }
.sub { color: var(--muted); margin-top: 0; }
.narrative { background: #fff8e6; border-left: 6px solid #e69f00; padding: 0.9rem 1.2rem; margin: 1.2rem 0; }
.narrative h2 { border: none; margin: 0 0 0.5rem; font-size: 1.35rem; }
.narrative dt { font-weight: 700; margin-top: 0.5rem; }
.narrative dd { margin: 0.1rem 0 0 0; }
nav.toc { background: var(--soft); padding: 0.7rem 1.2rem; border-radius: 6px; }
nav.toc ol { margin: 0.3rem 0; padding-left: 1.4rem; columns: 2; }
figure { margin: 1.4rem 0; padding: 0.8rem; border: 1px solid var(--line); border-radius: 6px; }
figure svg { width: 100%; height: auto; display: block; }
figcaption { color: var(--muted); font-size: 0.95rem; margin-top: 0.4rem; }
table { border-collapse: collapse; margin: 0.8rem 0; font-size: 0.92rem; width: 100%; }
th, td { border-bottom: 1px solid var(--line); padding: 0.3rem 0.5rem; text-align: right; vertical-align: top; }
th:first-child, td:first-child { text-align: left; }
td.text, th.text { text-align: left; }
thead th { background: var(--soft); }
tr.group td { font-weight: 700; background: #fafafa; }
.lens p { margin: 0.6rem 0; }
.changed { font-weight: 700; color: #8a3b00; }
.journey { font-size: 0.9rem; }
.journey td, .journey th { text-align: left; }
.wide { overflow-x: auto; }
code, pre { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace; font-size: 0.88rem; }
.note { color: var(--muted); font-size: 0.95rem; }
table.places td { white-space: nowrap; }
table.places td.text { white-space: normal; }
"#;

/// The whole report as HTML.
pub fn render(run: &RunDir, journeys: &[Journey]) -> Result<String, ReportError> {
    let report = Report::new(run, journeys);
    let mut out = String::with_capacity(1 << 20);
    header(&report, &mut out);
    let shown: Vec<&Section> = SECTIONS.iter().filter(|s| (s.shown)(&report)).collect();
    out.push_str("<nav class=\"toc\" aria-label=\"Contents\"><strong>Contents</strong><ol>");
    for s in &shown {
        let _ = write!(out, "<li><a href=\"#{}\">{}</a></li>", s.id, s.heading);
    }
    out.push_str("</ol></nav>\n");
    for s in shown {
        let _ = write!(
            out,
            "\n<section id=\"{}\"><h2>{}</h2></section>\n",
            s.id, s.heading
        );
        (s.body)(&report, &mut out)?;
    }
    out.push_str("</main>\n</body>\n</html>\n");
    Ok(out)
}

/// The document head, the title block and the scenario's narrative.
fn header(report: &Report, out: &mut String) {
    let scenario = report.scenario;
    let name = scenario["name"].as_str().unwrap_or("unnamed scenario");
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>sprx report: {}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<main>\n",
        escape(name)
    );
    let _ = write!(
        out,
        "<header><p class=\"sub\">sprx social prescribing simulation — report</p><h1>{}</h1>",
        escape(name)
    );
    if let Some(d) = scenario["description"].as_str() {
        let _ = write!(out, "<p class=\"sub\">{}</p>", escape(d));
    }
    let _ = write!(
        out,
        "<p class=\"sub\">{} patients · {} replicates · {} service weeks · baseline arm <strong>{}</strong></p></header>",
        fmt_num(patients(report.run)),
        report.replicates,
        report.run.weekly.weeks,
        escape(&report.baseline)
    );
    narrative(out, &scenario["narrative"]);
}

pub(super) fn spec<'a>(id: &'a str, x_desc: &'a str, y_desc: &'a str) -> ChartSpec<'a> {
    ChartSpec {
        id,
        title: title_of(id),
        x_desc,
        y_desc,
    }
}

/// A figure: heading, chart, caption.
/// A figure of weekly bands over the service weeks: [`band_chart`] under `id`, captioned.
pub(super) fn band_figure(
    out: &mut String,
    id: &str,
    y_desc: &str,
    bands: &[Band],
    with_zero: bool,
    caption: &str,
) -> Result<(), ReportError> {
    let svg = band_chart(&spec(id, "service week", y_desc), bands, with_zero)?;
    figure(out, id, &svg, caption);
    Ok(())
}

pub(super) fn figure(out: &mut String, id: &str, svg: &str, caption: &str) {
    let _ = write!(
        out,
        "<figure id=\"{id}\"><h3>{}</h3>{svg}<figcaption>{caption}</figcaption></figure>",
        escape(title_of(id))
    );
}

/// Registered patients of the run: from `icbs.csv` for real places (their lists are the
/// places table's), else the synthetic population's size.
fn patients(run: &RunDir) -> f64 {
    let from_places = run.places.as_ref().and_then(|t| {
        let all = t
            .areas
            .rows
            .iter()
            .find(|r| t.areas.text(r, "level") == "all")?;
        t.areas.number(all, "patients")
    });
    from_places.unwrap_or_else(|| {
        let p = &run.summary["scenario"]["population"];
        ["pcns", "practices_per_pcn", "patients_per_practice"]
            .iter()
            .map(|k| p[k].as_u64().unwrap_or(0) as f64)
            .product()
    })
}

fn narrative(out: &mut String, n: &Value) {
    if !n.is_object() {
        return;
    }
    out.push_str("<aside class=\"narrative\" aria-label=\"Scenario narrative\">");
    if let Some(t) = n["title"].as_str() {
        let _ = write!(out, "<h2>{}</h2>", escape(t));
    }
    out.push_str("<dl>");
    for (key, label) in [
        ("show", "What to show"),
        ("expect", "What to expect"),
        ("question", "The question to ask the room"),
    ] {
        if let Some(text) = n[key].as_str() {
            let _ = write!(out, "<dt>{label}</dt><dd>{}</dd>", escape(text));
        }
    }
    out.push_str("</dl></aside>\n");
}
