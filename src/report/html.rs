//! The report: one self-contained HTML file (inline CSS and SVG, no script, no network) built
//! from a run directory, for people who will not open a CSV — trainers, commissioners, analysts.
//! It opens with the scenario's narrative, then the evaluation lens (the point of sprx), then
//! the charts system by system, and ends with the scenario, its parameters and provenance.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use plotters::style::RGBColor;
use serde_json::Value;

use super::charts::{BASELINE_COLOUR, Band, Bar, ChartSpec, PALETTE, band_chart, bar_chart};
use super::data::{ReportError, RunDir};
use super::escape;
use super::lens::{ROWS, Source};
use super::trace::Journey;
use crate::metrics::stats::{Estimate, t_975};
use crate::output::{HEADLINE_METRICS, format_estimate, write_atomically};
use crate::params::{REGISTRY, fmt_num};
use crate::scenario::Labelled;

/// The report's file name inside the run directory.
pub const REPORT_FILE: &str = "report.html";

/// Every chart the report can hold: (id, title). The report test checks each one rendered.
pub const CHARTS: [(&str, &str); 20] = [
    (
        "eval-gp",
        "Evaluation lens: change in referred patients' GP use",
    ),
    (
        "eval-wellbeing",
        "Evaluation lens: change in referred patients' wellbeing",
    ),
    ("gp-demand", "GP consultations per 1,000 patients per week"),
    (
        "gp-demand-diff",
        "GP consultations per 1,000 patients per week: difference from the baseline",
    ),
    (
        "wellbeing-mean",
        "Mean wellbeing (WEMWBS) of the registered population",
    ),
    ("wellbeing-low", "Share of patients with low wellbeing"),
    ("funnel", "Referral funnel per 1,000 patients per year"),
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

/// A signed number with a true minus sign.
fn signed(v: f64, decimals: usize) -> String {
    let text = format!("{:+.decimals$}", v);
    if text[1..].chars().all(|c| c == '0' || c == '.') {
        return text[1..].to_string();
    }
    text.replacen('-', "−", 1)
}

fn unsigned(v: f64, decimals: usize) -> String {
    format!("{:.decimals$}", v.abs())
}

/// `+1.5 [−0.9, +3.9]` with signs, or `+1.5` without an interval.
fn signed_ci(e: &Estimate, decimals: usize) -> String {
    let Some(mean) = e.mean else {
        return "—".to_string();
    };
    match e.ci95 {
        [Some(lo), Some(hi)] => format!(
            "{} [{}, {}]",
            signed(mean, decimals),
            signed(lo, decimals),
            signed(hi, decimals)
        ),
        _ => signed(mean, decimals),
    }
}

fn excludes_zero(e: &Estimate) -> Option<bool> {
    match e.ci95 {
        [Some(lo), Some(hi)] => Some(lo > 0.0 || hi < 0.0),
        _ => None,
    }
}

/// A whole number with thousands separators and a true minus sign.
fn thousands(v: f64) -> String {
    let digits = format!("{:.0}", v.abs());
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    if v < -0.5 { format!("−{out}") } else { out }
}

/// "fell by 16.3%" / "rose by 2.0%".
fn moved(v: f64, unit: &str, decimals: usize) -> String {
    let verb = if v < 0.0 { "fell" } else { "rose" };
    format!("{verb} by {}{unit}", unsigned(v, decimals))
}

/// The evaluation lens of one arm as plain English.
fn lens_sentence(run: &RunDir, arm: &str) -> Option<String> {
    let naive = run.mean(arm, "eval_naive_change_pct")?;
    let twins = run.mean(arm, "eval_counterfactual_change_pct")?;
    let effect = run.estimate(arm, "eval_effect_pct", false)?;
    let per_patient = run.estimate(arm, "eval_effect_per_patient_year", false)?;
    let cohort = run.mean(arm, "eval_cohort_n").unwrap_or(0.0);
    let verdict = match excludes_zero(&effect) {
        Some(true) => "",
        Some(false) => " — an effect the replicates cannot tell apart from none",
        None => "",
    };
    let mut text = format!(
        "<strong>{}</strong>: before/after, referred patients' GP use {} — but their no_sp twins' {}: \
         the service itself changed GP use by {}%{verdict} ({} consultations per referred patient \
         per year; {} patients followed per replicate).",
        escape(arm),
        moved(naive, "%", 1),
        moved(twins, "%", 1),
        signed_ci(&effect, 1),
        signed_ci(&per_patient, 2),
        fmt_num(cohort.round()),
    );
    if let (Some(w_naive), Some(w_twins), Some(w_effect)) = (
        run.mean(arm, "eval_wellbeing_naive_change"),
        run.mean(arm, "eval_wellbeing_counterfactual_change"),
        run.estimate(arm, "eval_wellbeing_effect", false),
    ) {
        let _ = write!(
            text,
            " Their wellbeing {}, their twins' {}: the service added {} WEMWBS points.",
            moved(w_naive, " points", 2),
            moved(w_twins, " points", 2),
            signed_ci(&w_effect, 2),
        );
    }
    if let (Some(gp), Some(cost)) = (
        run.estimate(arm, "gp_consults_per_1000_per_year", true),
        run.estimate(arm, "total_cost_gbp_per_year", true),
    ) {
        let net = cost.mean.unwrap_or(0.0);
        let _ = write!(
            text,
            " Across the whole list, GP consultations changed by {} per 1,000 patients per year \
             against {}, at a net {} of £{} per year (95% interval £{}).",
            signed_ci(&gp, 1),
            escape(&run.baseline()),
            if net >= 0.0 { "cost" } else { "saving" },
            thousands(net.abs()),
            match cost.ci95 {
                [Some(lo), Some(hi)] => format!("{} to {}", thousands(lo), thousands(hi)),
                _ => "—".to_string(),
            }
        );
    }
    Some(text)
}

/// A weekly quantity computed from a row of `weekly.csv`, given a column getter.
type WeekValue = dyn Fn(&dyn Fn(&str) -> f64) -> f64;

/// One band per arm: `value` each week (minus the baseline's when `minus` names it), as a rolling
/// mean over `smooth` weeks, in the arm's colour.
fn arm_bands(
    run: &RunDir,
    arms: &[(String, RGBColor)],
    minus: Option<&str>,
    value: &WeekValue,
    smooth: usize,
) -> Vec<Band> {
    arms.iter()
        .filter_map(|(a, c)| band(run, a, minus, value, smooth, a, *c))
        .collect()
}

/// Per-week mean and 95% band across replicates of `value(row)`, after a trailing rolling mean
/// of `smooth` weeks within each replicate. `minus` subtracts another arm replicate by
/// replicate (paired difference).
fn band(
    run: &RunDir,
    arm: &str,
    minus: Option<&str>,
    value: &WeekValue,
    smooth: usize,
    name: &str,
    colour: RGBColor,
) -> Option<Band> {
    let weekly = &run.weekly;
    let series = |arm: &str| -> Option<Vec<Vec<f64>>> {
        let weeks = weekly.arm(arm)?;
        Some(
            weeks
                .replicates
                .iter()
                .map(|rows| {
                    rows.iter()
                        .map(|row| {
                            let get = |c: &str| weekly.column(c).map_or(f64::NAN, |i| row[i]);
                            value(&get)
                        })
                        .collect()
                })
                .collect(),
        )
    };
    let mut reps = series(arm)?;
    if let Some(other) = minus {
        let base = series(other)?;
        for (r, b) in reps.iter_mut().zip(&base) {
            for (x, y) in r.iter_mut().zip(b) {
                *x -= y;
            }
        }
    }
    if smooth > 1 {
        for r in reps.iter_mut() {
            let raw = r.clone();
            for (w, x) in r.iter_mut().enumerate() {
                let from = (w + 1).saturating_sub(smooth);
                *x = raw[from..=w].iter().sum::<f64>() / (w + 1 - from) as f64;
            }
        }
    }
    let n = reps.len();
    let t = if n > 1 { t_975(n - 1) } else { f64::NAN };
    let weeks = weekly.weeks;
    let (mut mean, mut lo, mut hi) = (
        vec![f64::NAN; weeks],
        vec![f64::NAN; weeks],
        vec![f64::NAN; weeks],
    );
    for w in 0..weeks {
        let xs: Vec<f64> = reps
            .iter()
            .filter_map(|r| r.get(w).copied())
            .filter(|x| x.is_finite())
            .collect();
        if xs.is_empty() {
            continue;
        }
        let m = xs.iter().sum::<f64>() / xs.len() as f64;
        mean[w] = m;
        if xs.len() > 1 {
            let var = xs.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (xs.len() - 1) as f64;
            let half = t * (var / xs.len() as f64).sqrt();
            lo[w] = m - half;
            hi[w] = m + half;
        }
    }
    Some(Band {
        name: name.to_string(),
        colour,
        mean,
        lo,
        hi,
    })
}

/// The report's colour for each arm: the baseline near-black, the others from the palette.
fn arm_colours(arms: &[String], baseline: &str) -> Vec<(String, RGBColor)> {
    let mut next = 0;
    arms.iter()
        .map(|a| {
            if a == baseline {
                (a.clone(), BASELINE_COLOUR)
            } else {
                let c = PALETTE[next % PALETTE.len()];
                next += 1;
                (a.clone(), c)
            }
        })
        .collect()
}

fn spec<'a>(id: &'a str, x_desc: &'a str, y_desc: &'a str) -> ChartSpec<'a> {
    ChartSpec {
        id,
        title: title_of(id),
        x_desc,
        y_desc,
    }
}

fn bar_of(e: Option<Estimate>) -> Option<Bar> {
    let e = e?;
    Some(Bar {
        value: e.mean?,
        ci: match e.ci95 {
            [Some(lo), Some(hi)] => Some((lo, hi)),
            _ => None,
        },
    })
}

/// A figure: heading, chart, caption.
fn figure(out: &mut String, id: &str, svg: &str, caption: &str) {
    let _ = write!(
        out,
        "<figure id=\"{id}\"><h3>{}</h3>{svg}<figcaption>{caption}</figcaption></figure>",
        escape(title_of(id))
    );
}

/// The report's sections, in order: (anchor, heading).
const SECTIONS: [(&str, &str); 12] = [
    ("headline", "Headline results"),
    ("evaluation", "The evaluation lens"),
    ("gp", "GP demand"),
    ("wellbeing", "Wellbeing"),
    ("pathway", "The referral pathway"),
    ("link-workers", "Link workers"),
    ("assets", "Community assets"),
    ("equity", "Equity"),
    ("costs-section", "Costs"),
    ("journeys", "Patient journeys"),
    ("scenario", "Scenario and parameters"),
    ("provenance", "Provenance"),
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
"#;

/// The whole report as HTML.
pub fn render(run: &RunDir, journeys: &[Journey]) -> Result<String, ReportError> {
    let arms = run.arm_names();
    let baseline = run.baseline();
    let colours = arm_colours(&arms, &baseline);
    let service: Vec<(String, RGBColor)> = colours
        .iter()
        .filter(|(a, _)| run.is_service_arm(a))
        .cloned()
        .collect();
    let compared: Vec<(String, RGBColor)> = colours
        .iter()
        .filter(|(a, _)| *a != baseline)
        .cloned()
        .collect();
    let scenario = &run.summary["scenario"];
    let name = scenario["name"].as_str().unwrap_or("unnamed scenario");
    let replicates = run.summary["replicates"].as_u64().unwrap_or(0);

    let mut out = String::with_capacity(1 << 20);
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
        fmt_num(patients(scenario) as f64),
        replicates,
        run.weekly.weeks,
        escape(&baseline)
    );
    narrative(&mut out, &scenario["narrative"]);

    out.push_str("<nav class=\"toc\" aria-label=\"Contents\"><strong>Contents</strong><ol>");
    for (id, heading) in SECTIONS {
        if id == "journeys" && journeys.is_empty() {
            continue;
        }
        let _ = write!(out, "<li><a href=\"#{id}\">{heading}</a></li>");
    }
    out.push_str("</ol></nav>\n");

    // Headline table.
    section(&mut out, "headline");
    let _ = write!(
        out,
        "<p>Mean [95% confidence interval] over {replicates} replicates; the second table gives \
         each arm's difference from <strong>{}</strong>, replicate by replicate (common random \
         numbers: the same patients live the same lives in every arm).</p>",
        escape(&baseline)
    );
    headline_table(&mut out, run, &arms, false);
    headline_table(
        &mut out,
        run,
        &compared.iter().map(|(a, _)| a.clone()).collect::<Vec<_>>(),
        true,
    );

    // Evaluation lens.
    section(&mut out, "evaluation");
    out.push_str(
        "<p>An uncontrolled before/after evaluation compares referred patients' GP use in the \
         year after referral with the year before. Patients are referred at a peak of need, so \
         their GP use would fall anyway: regression to the mean. sprx also follows each referred \
         patient's <em>no_sp twin</em> — the same person, with the same luck, in a world without \
         social prescribing. The difference between the two changes is what the service did.</p>\n<div class=\"lens\">",
    );
    for (arm, _) in &service {
        if let Some(s) = lens_sentence(run, arm) {
            let _ = write!(out, "<p>{s}</p>");
        }
    }
    out.push_str("</div>\n");
    if !service.is_empty() {
        let groups: Vec<String> = service.iter().map(|(a, _)| a.clone()).collect();
        let lens_series = |metrics: [&str; 3]| -> Vec<Vec<Option<Bar>>> {
            groups
                .iter()
                .map(|a| {
                    metrics
                        .iter()
                        .map(|m| bar_of(run.estimate(a, m, false)))
                        .collect()
                })
                .collect()
        };
        let names = vec![
            ("naive before/after".to_string(), PALETTE[3]),
            ("no_sp twins".to_string(), RGBColor(120, 120, 120)),
            ("causal effect".to_string(), PALETTE[0]),
        ];
        let svg = bar_chart(
            &spec("eval-gp", "arm", "change in GP consultations (%)"),
            &groups,
            &names,
            &lens_series([
                "eval_naive_change_pct",
                "eval_counterfactual_change_pct",
                "eval_effect_pct",
            ]),
        )?;
        figure(
            &mut out,
            "eval-gp",
            &svg,
            "Year after vs year before the first accepted referral, for patients referred in weeks 52..=weeks−53. Error bars: 95% intervals across replicates. The causal effect is the naive change minus the twins' change.",
        );
        let svg = bar_chart(
            &spec(
                "eval-wellbeing",
                "arm",
                "change in wellbeing (WEMWBS points)",
            ),
            &groups,
            &names,
            &lens_series([
                "eval_wellbeing_naive_change",
                "eval_wellbeing_counterfactual_change",
                "eval_wellbeing_effect",
            ]),
        )?;
        figure(
            &mut out,
            "eval-wellbeing",
            &svg,
            "Mean weekly wellbeing in the year from referral minus the year before, same cohort and twins.",
        );
        lens_table(&mut out, run, &groups);
    }

    // GP demand.
    section(&mut out, "gp");
    let per_1000 = |get: &dyn Fn(&str) -> f64| 1000.0 * get("new_consults") / get("n_patients");
    let bands = arm_bands(run, &colours, None, &per_1000, 4);
    let svg = band_chart(
        &spec(
            "gp-demand",
            "service week",
            "consultations per 1,000 per week",
        ),
        &bands,
        false,
    )?;
    figure(
        &mut out,
        "gp-demand",
        &svg,
        "All GP consultations (medical, social and generated by the pathway), 4-week rolling mean; shaded: 95% interval across replicates. Arms differ by far less than the seasonless week-to-week noise: see the difference below.",
    );
    let bands = arm_bands(run, &compared, Some(&baseline), &per_1000, 13);
    let svg = band_chart(
        &spec(
            "gp-demand-diff",
            "service week",
            "difference per 1,000 per week",
        ),
        &bands,
        true,
    )?;
    figure(
        &mut out,
        "gp-demand-diff",
        &svg,
        &format!(
            "Arm minus {}, replicate by replicate, 13-week rolling mean; above zero the arm adds GP appointments, below zero it frees them.",
            escape(&baseline)
        ),
    );

    // Wellbeing.
    section(&mut out, "wellbeing");
    let col = |name: &'static str| move |get: &dyn Fn(&str) -> f64| get(name);
    let bands = arm_bands(run, &colours, None, &col("mean_wellbeing"), 1);
    let svg = band_chart(
        &spec("wellbeing-mean", "service week", "WEMWBS points (14–70)"),
        &bands,
        false,
    )?;
    figure(
        &mut out,
        "wellbeing-mean",
        &svg,
        "Mean over all registered patients. With 1–2% of the list referred each year, population wellbeing barely moves; the evaluation lens shows the referred cohort.",
    );
    let bands = arm_bands(
        run,
        &colours,
        None,
        &|g: &dyn Fn(&str) -> f64| 100.0 * g("share_low_wellbeing"),
        1,
    );
    let svg = band_chart(
        &spec(
            "wellbeing-low",
            "service week",
            "% of patients with WEMWBS ≤ 40",
        ),
        &bands,
        false,
    )?;
    figure(
        &mut out,
        "wellbeing-low",
        &svg,
        "Share of registered patients at or below the low-wellbeing threshold (the WEMWBS “probable depression” band).",
    );

    // Pathway.
    section(&mut out, "pathway");
    if !service.is_empty() {
        let stages = [
            "offered",
            "accepted",
            "reached a link worker",
            "connected",
            "completed",
        ];
        let values: Vec<Vec<Option<Bar>>> = stages
            .iter()
            .map(|stage| {
                service
                    .iter()
                    .map(|(a, _)| {
                        let accepted = run.mean(a, "referrals_accepted_per_1000_per_year")?;
                        let value = match *stage {
                            "offered" => run.mean(a, "referrals_offered_per_1000_per_year")?,
                            "accepted" => accepted,
                            "reached a link worker" => {
                                accepted * run.mean(a, "reached_lw_share")?
                            }
                            "connected" => accepted * run.mean(a, "connected_share")?,
                            _ => accepted * run.mean(a, "completed_share")?,
                        };
                        Some(Bar { value, ci: None })
                    })
                    .collect()
            })
            .collect();
        let svg = bar_chart(
            &spec("funnel", "stage", "referrals per 1,000 patients per year"),
            &stages.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
            &service,
            &values,
        )?;
        figure(
            &mut out,
            "funnel",
            &svg,
            "Means over replicates. Later stages are shares of the referrals accepted during the service weeks, each followed to its outcome by the end of the run; a bounced inappropriate referral counts as having reached a link worker.",
        );
        pathway_table(&mut out, run, &service);
    }

    // Link workers.
    section(&mut out, "link-workers");
    if !service.is_empty() {
        let bands = arm_bands(run, &service, None, &col("n_waiting"), 1);
        let svg = band_chart(
            &spec("lw-queue", "service week", "patients in the queue"),
            &bands,
            false,
        )?;
        figure(
            &mut out,
            "lw-queue",
            &svg,
            "Accepted referrals waiting for a place on a link-worker caseload, whole system, end of each week.",
        );
        let groups: Vec<String> = ["mean", "median", "90th percentile"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let values: Vec<Vec<Option<Bar>>> = ["wait_weeks_mean", "wait_weeks_p50", "wait_weeks_p90"]
            .iter()
            .map(|m| {
                service
                    .iter()
                    .map(|(a, _)| bar_of(run.estimate(a, m, false)))
                    .collect()
            })
            .collect();
        let svg = bar_chart(
            &spec("lw-waits", "statistic of the wait", "weeks"),
            &groups,
            &service,
            &values,
        )?;
        figure(
            &mut out,
            "lw-waits",
            &svg,
            "Weeks from acceptance to the first session, for referrals that reached a link worker. Error bars: 95% intervals across replicates.",
        );
        let bands = arm_bands(run, &service, None, &col("mean_lw_stress"), 1);
        let svg = band_chart(
            &spec("lw-stress", "service week", "stress (0 = none)"),
            &bands,
            false,
        )?;
        figure(
            &mut out,
            "lw-stress",
            &svg,
            "Stress rises when the queue exceeds a quarter of the caseload places and falls with supervision; it lowers session quality and drives turnover.",
        );
        let bands = arm_bands(run, &service, None, &col("n_lw_vacant"), 1);
        let svg = band_chart(
            &spec("lw-vacancies", "service week", "vacant posts"),
            &bands,
            false,
        )?;
        figure(
            &mut out,
            "lw-vacancies",
            &svg,
            "Posts left vacant after a link worker leaves (the caseload goes back to the head of the queue).",
        );
    }

    // Assets.
    section(&mut out, "assets");
    let bands = arm_bands(
        run,
        &colours,
        None,
        &|g: &dyn Fn(&str) -> f64| 100.0 * g("share_asset_occupancy"),
        1,
    );
    let svg = band_chart(
        &spec("asset-occupancy", "service week", "% of places taken"),
        &bands,
        false,
    )?;
    figure(
        &mut out,
        "asset-occupancy",
        &svg,
        "Places taken by connected patients over places at open assets. A full asset is more likely to close (overload).",
    );
    let bands = arm_bands(run, &colours, None, &col("n_assets_open"), 1);
    let svg = band_chart(
        &spec("asset-open", "service week", "assets open"),
        &bands,
        false,
    )?;
    figure(
        &mut out,
        "asset-open",
        &svg,
        "Open community assets, whole system.",
    );
    let cumulative = cumulative_closures(run, &colours);
    let svg = band_chart(
        &spec(
            "asset-closures",
            "service week",
            "assets closed since week 0",
        ),
        &cumulative,
        false,
    )?;
    figure(
        &mut out,
        "asset-closures",
        &svg,
        "Closed assets never reopen; new ones open at a rate set by the initial count and the infrastructure.",
    );

    // Equity.
    section(&mut out, "equity");
    let quintiles: Vec<String> = ["q1 (most deprived)", "q2", "q3", "q4", "q5 (least)"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let by_q = |metric: &str| -> Vec<Vec<Option<Bar>>> {
        (1..=5)
            .map(|q| {
                compared
                    .iter()
                    .map(|(a, _)| bar_of(run.estimate(a, &format!("{metric}_q{q}"), true)))
                    .collect()
            })
            .collect()
    };
    let svg = bar_chart(
        &spec(
            "equity-wellbeing",
            "deprivation quintile",
            "difference in mean wellbeing (WEMWBS)",
        ),
        &quintiles,
        &compared,
        &by_q("wellbeing_mean"),
    )?;
    figure(
        &mut out,
        "equity-wellbeing",
        &svg,
        &format!(
            "Mean wellbeing over all patients of the quintile and all weeks, arm minus {}, with 95% intervals.",
            escape(&baseline)
        ),
    );
    let svg = bar_chart(
        &spec(
            "equity-gp",
            "deprivation quintile",
            "difference per 1,000 per year",
        ),
        &quintiles,
        &compared,
        &by_q("gp_consults_per_1000_per_year"),
    )?;
    figure(
        &mut out,
        "equity-gp",
        &svg,
        &format!(
            "GP consultations per 1,000 patients of the quintile per year, arm minus {}.",
            escape(&baseline)
        ),
    );
    let referrals = quintile_bars(run, &service, &|q, rows| {
        quintile_rate(run, "new_accepted", q, rows)
    });
    let svg = bar_chart(
        &spec(
            "equity-referrals",
            "deprivation quintile",
            "per 1,000 patients of the quintile per year",
        ),
        &quintiles,
        &service,
        &referrals,
    )?;
    figure(
        &mut out,
        "equity-referrals",
        &svg,
        "Accepted referrals per 1,000 patients of each quintile per year: need, and so referral, is highest in the most deprived quintile.",
    );
    let connections = quintile_bars(run, &service, &|q, rows| {
        quintile_rate(run, "new_connections", q, rows)
    });
    let svg = bar_chart(
        &spec(
            "equity-connections",
            "deprivation quintile",
            "per 1,000 patients of the quintile per year",
        ),
        &quintiles,
        &service,
        &connections,
    )?;
    figure(
        &mut out,
        "equity-connections",
        &svg,
        "Connections to community assets per 1,000 patients of each quintile per year.",
    );
    let conversion = quintile_bars(run, &service, &|q, rows| {
        let accepted = total(run, rows, &format!("new_accepted_q{}", q + 1))?;
        let connected = total(run, rows, &format!("new_connections_q{}", q + 1))?;
        (accepted > 0.0).then(|| 100.0 * connected / accepted)
    });
    let svg = bar_chart(
        &spec(
            "equity-conversion",
            "deprivation quintile",
            "connections per 100 accepted referrals",
        ),
        &quintiles,
        &service,
        &conversion,
    )?;
    figure(
        &mut out,
        "equity-conversion",
        &svg,
        "Connections made during the service weeks per 100 referrals accepted in them, by quintile. The inverse care law: need is highest in q1, but capacity and activation — what it takes to take a connection up — are lowest there.",
    );
    equity_table(&mut out, run, &arms);

    // Costs.
    section(&mut out, "costs-section");
    let cost_groups: Vec<String> = compared.iter().map(|(a, _)| a.clone()).collect();
    let cost_series = vec![
        ("GP consultations".to_string(), PALETTE[1]),
        ("link workers".to_string(), PALETTE[0]),
        ("net".to_string(), RGBColor(60, 60, 60)),
    ];
    let cost_values: Vec<Vec<Option<Bar>>> = cost_groups
        .iter()
        .map(|a| {
            [
                "gp_cost_gbp_per_year",
                "lw_cost_gbp_per_year",
                "total_cost_gbp_per_year",
            ]
            .iter()
            .map(|m| bar_of(run.estimate(a, m, true)))
            .collect()
        })
        .collect();
    let svg = bar_chart(
        &spec("costs", "arm", "GBP per year vs the baseline"),
        &cost_groups,
        &cost_series,
        &cost_values,
    )?;
    figure(
        &mut out,
        "costs",
        &svg,
        "GP consultations at gp_cost each (generated ones included) and filled link-worker posts at lw_cost per year; no discounting. Bars are differences from the baseline arm.",
    );

    if !journeys.is_empty() {
        section(&mut out, "journeys");
        out.push_str("<p>Individual referred patients, week by week, in the arm and in the no_sp world (their twin). Quiet weeks are left out.</p>");
        for j in journeys {
            out.push_str(&j.to_html());
        }
    }

    section(&mut out, "scenario");
    scenario_section(&mut out, scenario, &arms);
    section(&mut out, "provenance");
    provenance(&mut out, &run.manifest, &run.dir);
    out.push_str("</main>\n</body>\n</html>\n");
    Ok(out)
}

fn section(out: &mut String, id: &str) {
    let heading = SECTIONS
        .iter()
        .find(|(i, _)| *i == id)
        .map_or("", |(_, h)| h);
    let _ = write!(out, "\n<section id=\"{id}\"><h2>{heading}</h2></section>\n");
}

fn patients(scenario: &Value) -> u64 {
    let p = &scenario["population"];
    ["pcns", "practices_per_pcn", "patients_per_practice"]
        .iter()
        .map(|k| p[k].as_u64().unwrap_or(0))
        .product()
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

fn headline_table(out: &mut String, run: &RunDir, arms: &[String], paired: bool) {
    if arms.is_empty() {
        return;
    }
    out.push_str("<table><thead><tr><th>");
    out.push_str(if paired {
        "difference from the baseline"
    } else {
        "metric"
    });
    out.push_str("</th>");
    for a in arms {
        let _ = write!(out, "<th>{}</th>", escape(a));
    }
    out.push_str("</tr></thead><tbody>");
    for (metric, label) in HEADLINE_METRICS {
        let _ = write!(out, "<tr><td>{}</td>", escape(label));
        for a in arms {
            let cell = run
                .estimate(a, metric, paired)
                .map_or_else(|| "—".to_string(), |e| format_estimate(&e));
            let _ = write!(out, "<td>{}</td>", escape(&cell));
        }
        out.push_str("</tr>");
    }
    out.push_str("</tbody></table>\n");
}

fn lens_table(out: &mut String, run: &RunDir, arms: &[String]) {
    out.push_str("<table><thead><tr><th>evaluation lens, mean [95% CI]</th>");
    for a in arms {
        let _ = write!(out, "<th>{}</th>", escape(a));
    }
    out.push_str("</tr></thead><tbody>");
    for (label, metric, source) in ROWS {
        match metric {
            None => {
                let _ = write!(
                    out,
                    "<tr class=\"group\"><td colspan=\"{}\">{}</td></tr>",
                    arms.len() + 1,
                    escape(label.trim())
                );
            }
            Some(metric) => {
                let _ = write!(out, "<tr><td>{}</td>", escape(label.trim()));
                for a in arms {
                    let cell = run
                        .estimate(a, metric, source == Source::Paired)
                        .map_or_else(|| "—".to_string(), |e| format_estimate(&e));
                    let _ = write!(out, "<td>{}</td>", escape(&cell));
                }
                out.push_str("</tr>");
            }
        }
    }
    out.push_str("</tbody></table>\n");
}

fn pathway_table(out: &mut String, run: &RunDir, arms: &[(String, RGBColor)]) {
    const ROWS: [(&str, &str); 10] = [
        ("declined_share", "offers declined (share of offers)"),
        (
            "inappropriate_share",
            "inappropriate offers (share of offers)",
        ),
        ("gave_up_share", "gave up waiting"),
        ("bounced_share", "bounced back to the GP"),
        ("dropped_out_share", "dropped out of support"),
        ("discharged_unconnected_share", "discharged unconnected"),
        ("connected_share", "connected"),
        ("lw_caseload_mean", "link-worker caseload (patients)"),
        (
            "lw_new_clients_per_lw_year",
            "new clients per link-worker year",
        ),
        ("lw_contacts_per_client", "sessions per client"),
    ];
    out.push_str("<table><thead><tr><th>share of accepted referrals unless stated</th>");
    for (a, _) in arms {
        let _ = write!(out, "<th>{}</th>", escape(a));
    }
    out.push_str("</tr></thead><tbody>");
    for (metric, label) in ROWS {
        let _ = write!(out, "<tr><td>{label}</td>");
        for (a, _) in arms {
            let cell = run
                .estimate(a, metric, false)
                .map_or_else(|| "—".to_string(), |e| format_estimate(&e));
            let _ = write!(out, "<td>{}</td>", escape(&cell));
        }
        out.push_str("</tr>");
    }
    out.push_str("</tbody></table>\n");
}

fn equity_table(out: &mut String, run: &RunDir, arms: &[String]) {
    out.push_str(
        "<table><thead><tr><th>mean wellbeing (WEMWBS) / GP consultations per 1,000 per year</th>",
    );
    for q in 1..=5 {
        let _ = write!(out, "<th>q{q}</th>");
    }
    out.push_str("</tr></thead><tbody>");
    for a in arms {
        let _ = write!(out, "<tr><td>{}</td>", escape(a));
        for q in 1..=5 {
            let w = run.mean(a, &format!("wellbeing_mean_q{q}"));
            let g = run.mean(a, &format!("gp_consults_per_1000_per_year_q{q}"));
            let text = match (w, g) {
                (Some(w), Some(g)) => format!("{w:.2} / {g:.0}"),
                _ => "—".to_string(),
            };
            let _ = write!(out, "<td>{text}</td>");
        }
        out.push_str("</tr>");
    }
    out.push_str("</tbody></table>\n");
}

/// Cumulative closures per arm, with bands across replicates.
fn cumulative_closures(run: &RunDir, colours: &[(String, RGBColor)]) -> Vec<Band> {
    let Some(c) = run.weekly.column("new_asset_closures") else {
        return Vec::new();
    };
    colours
        .iter()
        .filter_map(|(a, colour)| {
            let weeks = run.weekly.arm(a)?;
            let reps: Vec<Vec<f64>> = weeks
                .replicates
                .iter()
                .map(|rows| {
                    rows.iter()
                        .scan(0.0, |acc, row| {
                            *acc += row[c];
                            Some(*acc)
                        })
                        .collect()
                })
                .collect();
            Some(bands_from(reps, a, *colour))
        })
        .collect()
}

/// Mean and 95% band per week from per-replicate series.
fn bands_from(reps: Vec<Vec<f64>>, name: &str, colour: RGBColor) -> Band {
    let weeks = reps.iter().map(Vec::len).max().unwrap_or(0);
    let mut b = Band {
        name: name.to_string(),
        colour,
        mean: vec![f64::NAN; weeks],
        lo: vec![f64::NAN; weeks],
        hi: vec![f64::NAN; weeks],
    };
    for w in 0..weeks {
        let e = Estimate::from_samples(reps.iter().filter_map(|r| r.get(w).copied()));
        b.mean[w] = e.mean.unwrap_or(f64::NAN);
        b.lo[w] = e.ci95[0].unwrap_or(f64::NAN);
        b.hi[w] = e.ci95[1].unwrap_or(f64::NAN);
    }
    b
}

/// A quantity of quintile `q` from one replicate's weekly rows.
type QuintileValue<'a> = dyn Fn(usize, &[Vec<f64>]) -> Option<f64> + 'a;

/// A per-quintile quantity per arm, with 95% intervals across replicates: `value(q, rows)`
/// computes it from one replicate's weekly rows.
fn quintile_bars(
    run: &RunDir,
    arms: &[(String, RGBColor)],
    value: &QuintileValue<'_>,
) -> Vec<Vec<Option<Bar>>> {
    (0..5)
        .map(|q| {
            arms.iter()
                .map(|(a, _)| {
                    let weeks = run.weekly.arm(a)?;
                    let per_rep = weeks
                        .replicates
                        .iter()
                        .map(|rows| value(q, rows).unwrap_or(f64::NAN));
                    bar_of(Some(Estimate::from_samples(per_rep)))
                })
                .collect()
        })
        .collect()
}

/// Sum over a replicate's weeks of a weekly column.
fn total(run: &RunDir, rows: &[Vec<f64>], column: &str) -> Option<f64> {
    let c = run.weekly.column(column)?;
    Some(rows.iter().map(|r| r[c]).sum())
}

/// Events per 1,000 patients of the quintile per year, from a `*_qN` weekly column and the
/// quintile's patient-weeks (`n_patients_qN`).
fn quintile_rate(run: &RunDir, prefix: &str, q: usize, rows: &[Vec<f64>]) -> Option<f64> {
    let events = total(run, rows, &format!("{prefix}_q{}", q + 1))?;
    let patient_weeks = total(run, rows, &format!("n_patients_q{}", q + 1))?;
    Some(1000.0 * 52.0 * events / patient_weeks)
}

/// A JSON value as compact text (numbers as typed, labelled arrays as `label: value`).
fn value_text(v: &Value) -> String {
    match v {
        Value::Number(n) => n.as_f64().map_or_else(|| n.to_string(), fmt_num),
        Value::Object(m) => m
            .iter()
            .map(|(k, v)| format!("{k}: {}", value_text(v)))
            .collect::<Vec<_>>()
            .join(", "),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn scenario_section(out: &mut String, scenario: &Value, arms: &[String]) {
    let run = &scenario["run"];
    let pop = &scenario["population"];
    let _ = write!(
        out,
        "<table><tbody><tr><td>seed</td><td class=\"text\">{}</td></tr><tr><td>replicates</td><td class=\"text\">{}</td></tr>\
         <tr><td>service weeks / warm-up weeks</td><td class=\"text\">{} / {}</td></tr>\
         <tr><td>PCNs × practices × patients per practice</td><td class=\"text\">{} × {} × {}</td></tr></tbody></table>",
        value_text(&run["seed"]),
        value_text(&run["replicates"]),
        value_text(&run["weeks"]),
        value_text(&run["warmup_weeks"]),
        value_text(&pop["pcns"]),
        value_text(&pop["practices_per_pcn"]),
        value_text(&pop["patients_per_practice"]),
    );
    out.push_str("<table><thead><tr><th>arm</th><th class=\"text\">preset</th><th class=\"text\">description</th><th class=\"text\">overrides</th></tr></thead><tbody>");
    let empty = Vec::new();
    let arm_list = scenario["arms"].as_array().unwrap_or(&empty);
    for a in arm_list {
        let overrides = a["overrides"]
            .as_object()
            .map(|m| {
                m.iter()
                    .map(|(k, v)| format!("{k} = {}", value_text(v)))
                    .collect::<Vec<_>>()
                    .join("; ")
            })
            .unwrap_or_default();
        let _ = write!(
            out,
            "<tr><td>{}</td><td class=\"text\">{}</td><td class=\"text\">{}</td><td class=\"text\">{}</td></tr>",
            escape(a["name"].as_str().unwrap_or("")),
            escape(a["preset"].as_str().unwrap_or("")),
            escape(a["description"].as_str().unwrap_or("")),
            escape(&overrides)
        );
    }
    out.push_str("</tbody></table>");
    if let Some(common) = scenario["params"].as_object().filter(|m| !m.is_empty()) {
        let text = common
            .iter()
            .map(|(k, v)| format!("{k} = {}", value_text(v)))
            .collect::<Vec<_>>()
            .join("; ");
        let _ = write!(
            out,
            "<p>Overrides for every arm (<code>[params]</code>): <code>{}</code></p>",
            escape(&text)
        );
    }
    out.push_str(
        "<h3>Parameter values used</h3><p class=\"note\">Every model parameter as resolved for each \
         arm (registry default, then the arm's preset, then the scenario's overrides). Values that \
         differ from the registry default are <span class=\"changed\">highlighted</span>. Sources \
         marked <em>assumed</em> have no direct empirical source.</p>",
    );
    out.push_str(
        "<div class=\"wide\"><table><thead><tr><th>parameter</th><th class=\"text\">unit</th>",
    );
    for a in arms {
        let _ = write!(out, "<th class=\"text\">{}</th>", escape(a));
    }
    out.push_str("<th class=\"text\">source</th></tr></thead><tbody>");
    for def in REGISTRY {
        let slots = def.default_slots();
        let default = serde_json::to_value(Labelled {
            def,
            dims: def.shape.dims(),
            slots: &slots,
        })
        .unwrap_or(Value::Null);
        let _ = write!(
            out,
            "<tr><td><abbr title=\"{}\">{}</abbr></td><td class=\"text\">{}</td>",
            escape(def.doc.trim()),
            escape(def.name),
            escape(def.unit)
        );
        for a in arms {
            let v = arm_list
                .iter()
                .find(|x| x["name"].as_str() == Some(a))
                .map_or(Value::Null, |x| x["params"][def.name].clone());
            let class = if v != default && !v.is_null() {
                " changed"
            } else {
                ""
            };
            let _ = write!(
                out,
                "<td class=\"text{class}\">{}</td>",
                escape(&value_text(&v))
            );
        }
        let _ = write!(out, "<td class=\"text\">{}</td></tr>", escape(def.source));
    }
    out.push_str("</tbody></table></div>\n");
}

fn provenance(out: &mut String, manifest: &Value, dir: &Path) {
    out.push_str("<table><tbody>");
    let _ = write!(
        out,
        "<tr><td>run directory</td><td class=\"text\"><code>{}</code></td></tr>",
        escape(&dir.display().to_string())
    );
    if let Some(m) = manifest.as_object() {
        for (k, v) in m {
            let text = match v {
                Value::Array(items) => items
                    .iter()
                    .map(|i| i.as_str().map_or_else(|| i.to_string(), str::to_string))
                    .collect::<Vec<_>>()
                    .join(" "),
                Value::Null => "—".to_string(),
                other => value_text(other),
            };
            let _ = write!(
                out,
                "<tr><td>{}</td><td class=\"text\"><code>{}</code></td></tr>",
                escape(k),
                escape(&text)
            );
        }
    }
    out.push_str("</tbody></table>\n<p class=\"note\">Generated by sprx from summary.json, weekly.csv and manifest.json; the same scenario and seed reproduce every figure.</p>\n");
}
