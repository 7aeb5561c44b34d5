//! The Places section, for a run over several PCNs: link-worker posts against PCN deprivation,
//! waits and connections by PCN ranked, tables by ICB and region, and the allocation rules
//! compared by fifth of England's PCNs by deprivation. Read from `pcns.csv`, `icbs.csv` and
//! `summary.json`'s `by_pcn_imd_quintile`.

use std::fmt::Write as _;

use plotters::style::RGBColor;
use serde_json::Value;

use super::format::{signed_ci, thousands};
use super::{Report, figure, spec};
use crate::metrics::stats::Estimate;
use crate::output::format_estimate;
use crate::report::charts::{
    Bar, Points, RANKED_LABELS_MAX, Ranked, bar_chart, ranked_chart, scatter_chart,
};
use crate::report::data::{PlaceRow, PlaceTable, PlaceTables, ReportError};
use crate::report::escape;

const WAIT: &str = "wait_weeks_mean";
const CONNECTED: &str = "connected_share";
const GP: &str = "gp_consults_per_1000_per_year";
const POSTS: &str = "lw_posts_per_10k_patients";

/// PCNs listed in full below this many; beyond, only the longest and shortest waits.
const PCNS_LISTED_MAX: usize = 20;
/// How many of the longest and of the shortest waits the table lists for many PCNs.
const EXTREMES: usize = 10;

/// Whether the run has results by place (`pcns.csv`).
pub(super) fn shown(report: &Report) -> bool {
    report.run.places.is_some()
}

/// The Places section.
pub(super) fn places(report: &Report, out: &mut String) -> Result<(), ReportError> {
    let Some(tables) = &report.run.places else {
        return Ok(());
    };
    introduction(report, tables, out);
    posts_against_deprivation(report, &tables.pcns, out)?;
    ranked_pcns(report, &tables.pcns, out)?;
    area_tables(report, &tables.areas, out);
    allocation_compared(report, out)?;
    Ok(())
}

/// How many PCNs, ICBs and patients the run covers, and where the full figures are.
fn introduction(report: &Report, tables: &PlaceTables, out: &mut String) {
    let first = report.arms.first().map_or("", String::as_str);
    let pcns = tables.pcns.rows_of(first, None).count();
    let icbs = tables.areas.rows_of(first, Some("icb")).count();
    let patients = tables
        .areas
        .rows_of(first, Some("all"))
        .find_map(|r| tables.areas.number(r, "patients"));
    let _ = write!(
        out,
        "<p>This run covers {pcns} PCNs{}{}. Each figure below is a mean over replicates with \
         its 95% interval; <code>pcns.csv</code> and <code>icbs.csv</code> in the run directory \
         hold every figure by PCN, ICB and region, with more measures. Small PCNs have few \
         referrals, so their figures are noisier than an ICB's: read the intervals before the \
         ranks.</p>",
        if icbs > 0 {
            format!(" in {icbs} ICB{}", if icbs == 1 { "" } else { "s" })
        } else {
            String::new()
        },
        patients.map_or_else(String::new, |p| format!(
            " with {} registered patients",
            thousands(p)
        )),
    );
}

/// The service arms whose posts are worth plotting: the arms that differ in allocation if
/// there are some, else every service arm.
fn arms_with_posts(report: &Report) -> Vec<(String, RGBColor)> {
    let allocation = allocation_arms(report);
    if allocation.is_empty() {
        report.service.clone()
    } else {
        allocation.into_iter().map(|(a, _, c)| (a, c)).collect()
    }
}

/// Chart 1: posts per 10,000 patients against the PCN's IMD score, one series per arm.
fn posts_against_deprivation(
    report: &Report,
    pcns: &PlaceTable,
    out: &mut String,
) -> Result<(), ReportError> {
    let series: Vec<Points> = arms_with_posts(report)
        .into_iter()
        .map(|(arm, colour)| Points {
            points: pcns
                .rows_of(&arm, None)
                .filter_map(|r| Some((pcns.number(r, "imd_score")?, pcns.number(r, POSTS)?)))
                .collect(),
            name: arm,
            colour,
        })
        .filter(|s| !s.points.is_empty())
        .collect();
    if series.is_empty() {
        out.push_str(
            "<p class=\"note\">These PCNs have no deprivation score (synthetic PCNs, or no \
             service arm), so link-worker posts are not plotted against deprivation.</p>",
        );
        return Ok(());
    }
    let svg = scatter_chart(
        &spec(
            "places-posts-imd",
            "PCN deprivation: IMD 2019 score (higher = more deprived)",
            "link-worker posts per 10,000 patients",
        ),
        &series,
    )?;
    figure(
        out,
        "places-posts-imd",
        &svg,
        "Each dot is one PCN under one arm: across, the PCN's IMD 2019 score, the patient-weighted \
         mean of its practices' scores (higher = more deprived); up, the link-worker posts (FTE) \
         the arm gives it per 10,000 registered patients. A flat band means posts follow list \
         size; a band rising to the right means the more deprived PCNs get more posts per head; \
         scattered dots mean posts follow neither, as in the posts PCNs reported in 2022.",
    );
    Ok(())
}

/// The arm whose PCNs are ranked: of the service arms other than the baseline (or all of them
/// if the baseline is the only one), the first with a wait in the most PCNs, so that PCNs an
/// arm gives no link worker do not shorten the ranking.
fn ranked_arm(report: &Report, pcns: &PlaceTable) -> Option<(String, RGBColor)> {
    let service = &report.service;
    let compared: Vec<&(String, RGBColor)> = service
        .iter()
        .filter(|(a, _)| *a != report.baseline)
        .collect();
    let candidates = if compared.is_empty() {
        service.iter().collect()
    } else {
        compared
    };
    let with_wait = |arm: &str| {
        pcns.rows_of(arm, None)
            .filter(|r| pcns.number(r, WAIT).is_some_and(f64::is_finite))
            .count()
    };
    let most = candidates.iter().map(|(a, _)| with_wait(a)).max()?;
    candidates
        .into_iter()
        .find(|(a, _)| with_wait(a) == most)
        .cloned()
}

/// A PCN's label: its name, or its code if it has none.
fn pcn_label(pcns: &PlaceTable, row: &PlaceRow) -> String {
    let name = pcns.text(row, "pcn_name");
    if name.is_empty() {
        pcns.text(row, "pcn_code").to_string()
    } else {
        name.to_string()
    }
}

/// One arm's PCNs with a value of `metric` (times `scale`), largest first.
fn ranked_values<'t>(
    pcns: &'t PlaceTable,
    arm: &'t str,
    metric: &str,
    scale: f64,
) -> Vec<(&'t PlaceRow, Ranked)> {
    let mut ranked: Vec<(&PlaceRow, Ranked)> = pcns
        .rows_of(arm, None)
        .filter_map(|r| {
            let e = pcns.estimate(r, metric, false);
            let value = e.mean.filter(|v| v.is_finite())? * scale;
            let ci = match e.ci95 {
                [Some(lo), Some(hi)] => Some((lo * scale, hi * scale)),
                _ => None,
            };
            Some((
                r,
                Ranked {
                    label: pcn_label(pcns, r),
                    value,
                    ci,
                },
            ))
        })
        .collect();
    ranked.sort_by(|a, b| b.1.value.total_cmp(&a.1.value));
    ranked
}

/// Chart 2: waits and connected shares by PCN for one service arm, ranked, with the longest
/// and shortest waits listed.
fn ranked_pcns(report: &Report, pcns: &PlaceTable, out: &mut String) -> Result<(), ReportError> {
    let Some((arm, colour)) = ranked_arm(report, pcns) else {
        return Ok(());
    };
    let all = pcns.rows_of(&arm, None).count();
    let waits = ranked_values(pcns, &arm, WAIT, 1.0);
    if waits.is_empty() {
        return Ok(());
    }
    let left_out = all - waits.len();
    let labels = if waits.len() <= RANKED_LABELS_MAX {
        "each PCN is named on the left"
    } else {
        "PCNs are numbered by rank, 1 the longest wait; the table below names the extremes"
    };
    let items: Vec<Ranked> = waits.iter().map(|(_, r)| r.clone()).collect();
    let svg = ranked_chart(
        &spec("places-waits-ranked", "weeks", "PCN"),
        (&arm, colour),
        &items,
    )?;
    figure(
        out,
        "places-waits-ranked",
        &svg,
        &format!(
            "Arm <strong>{}</strong>. Each row is a PCN: the dot is its mean wait from acceptance \
             to the first link-worker session, over the replicates; the bar is its 95% interval. \
             Longest wait at the top; {labels}.{} Where two PCNs' bars overlap, the replicates \
             cannot tell their waits apart.",
            escape(&arm),
            omitted(left_out, "no referral reached a link worker"),
        ),
    );
    let connected = ranked_values(pcns, &arm, CONNECTED, 100.0);
    let items: Vec<Ranked> = connected.iter().map(|(_, r)| r.clone()).collect();
    let svg = ranked_chart(
        &spec(
            "places-connected-ranked",
            "% of accepted referrals connected",
            "PCN",
        ),
        (&arm, colour),
        &items,
    )?;
    figure(
        out,
        "places-connected-ranked",
        &svg,
        &format!(
            "Arm <strong>{}</strong>. The share of each PCN's accepted referrals that led to a \
             connection with a community asset, highest at the top, with its 95% interval.{}",
            escape(&arm),
            omitted(all - connected.len(), "no referral was accepted"),
        ),
    );
    wait_extremes_table(pcns, &arm, &waits, out);
    Ok(())
}

fn omitted(count: usize, why: &str) -> String {
    match count {
        0 => String::new(),
        1 => format!(" One PCN where {why} is left out."),
        n => format!(" {n} PCNs where {why} are left out."),
    }
}

/// Every PCN ranked by wait when there are few, else the longest and the shortest waits.
fn wait_extremes_table(
    pcns: &PlaceTable,
    arm: &str,
    waits: &[(&PlaceRow, Ranked)],
    out: &mut String,
) {
    let n = waits.len();
    let (title, ranks): (String, Vec<usize>) = if n <= PCNS_LISTED_MAX {
        (
            format!("PCNs by wait under {arm}, longest first"),
            (0..n).collect(),
        )
    } else {
        (
            format!(
                "The {EXTREMES} longest and {EXTREMES} shortest waits under {arm}, of {n} PCNs"
            ),
            (0..EXTREMES).chain(n - EXTREMES..n).collect(),
        )
    };
    let _ = write!(
        out,
        "<h3>{}</h3><div class=\"wide\"><table class=\"places\"><thead><tr><th>rank</th>\
         <th class=\"text\">PCN</th><th class=\"text\">name</th><th class=\"text\">ICB</th>\
         <th>IMD score</th><th>posts per 10,000</th><th>wait, weeks</th>\
         <th>connected, %</th></tr></thead><tbody>",
        escape(&title)
    );
    for rank in ranks {
        let Some((row, _)) = waits.get(rank) else {
            continue;
        };
        if n > PCNS_LISTED_MAX && rank == n - EXTREMES {
            out.push_str("<tr class=\"group\"><td colspan=\"8\">…</td></tr>");
        }
        let _ = write!(
            out,
            "<tr><td>{}</td><td class=\"text\"><code>{}</code></td><td class=\"text\">{}</td>\
             <td class=\"text\">{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            rank + 1,
            escape(pcns.text(row, "pcn_code")),
            escape(pcns.text(row, "pcn_name")),
            escape(pcns.text(row, "icb_name")),
            fixed(pcns.number(row, "imd_score"), 1),
            fixed(pcns.number(row, POSTS), 2),
            escape(&format_estimate(&pcns.estimate(row, WAIT, false))),
            escape(&format_estimate(&percent(
                pcns.estimate(row, CONNECTED, false)
            ))),
        );
    }
    out.push_str("</tbody></table></div>\n");
}

/// A number to fixed decimals, or a dash.
fn fixed(v: Option<f64>, decimals: usize) -> String {
    v.filter(|v| v.is_finite())
        .map_or_else(|| "—".to_string(), |v| format!("{v:.decimals$}"))
}

/// A share as a percentage.
fn percent(e: Estimate) -> Estimate {
    let scale = |v: Option<f64>| v.map(|v| 100.0 * v);
    Estimate {
        mean: scale(e.mean),
        sd: scale(e.sd),
        ci95: [scale(e.ci95[0]), scale(e.ci95[1])],
        n: e.n,
    }
}

/// A column of the tables by area: its heading and its cell for one row.
struct AreaColumn {
    heading: &'static str,
    cell: fn(&PlaceTable, &PlaceRow) -> String,
}

const AREA_COLUMNS: [AreaColumn; 7] = [
    AreaColumn {
        heading: "posts per 10,000 patients",
        cell: |t, r| fixed(t.number(r, POSTS), 2),
    },
    AreaColumn {
        heading: "wait, weeks",
        cell: |t, r| format_estimate(&t.estimate(r, WAIT, false)),
    },
    AreaColumn {
        heading: "connected, % of accepted",
        cell: |t, r| format_estimate(&percent(t.estimate(r, CONNECTED, false))),
    },
    AreaColumn {
        heading: "GP consultations per 1,000 per year",
        cell: |t, r| format_estimate(&t.estimate(r, GP, false)),
    },
    AreaColumn {
        heading: "GP consultations: difference from the baseline",
        cell: |t, r| signed_ci(&t.estimate(r, GP, true), 1),
    },
    AreaColumn {
        heading: "wait: difference, weeks",
        cell: |t, r| signed_ci(&t.estimate(r, WAIT, true), 2),
    },
    AreaColumn {
        heading: "connected: difference, points",
        cell: |t, r| signed_ci(&percent(t.estimate(r, CONNECTED, true)), 1),
    },
];

/// Chart 3: tables by ICB, by region when there are several, and for the whole run.
fn area_tables(report: &Report, areas: &PlaceTable, out: &mut String) {
    let first = report.arms.first().map_or("", String::as_str);
    let icbs = areas.rows_of(first, Some("icb")).count();
    let regions = areas.rows_of(first, Some("region")).count();
    out.push_str(
        "<h3>By ICB</h3><p>Each ICB's figures are those of its PCNs added together (a wait is \
         the mean over all its referrals, not a mean of PCN means). The first rows give the ICB; \
         below, one row per arm. Differences are paired, replicate by replicate, against the \
         baseline arm: an interval that excludes zero is a difference the replicates support.</p>",
    );
    if icbs == 0 {
        out.push_str(
            "<p class=\"note\">These PCNs belong to no ICB (synthetic PCNs): the table covers \
             the run as a whole.</p>",
        );
    }
    let mut levels = vec![("icb", "ICB")];
    if regions > 1 {
        levels.push(("region", "region"));
    }
    levels.push(("all", "the run"));
    for (level, what) in levels {
        area_table(report, areas, level, what, out);
    }
}

/// One table by area: a group row per area, then one row per arm.
fn area_table(report: &Report, areas: &PlaceTable, level: &str, what: &str, out: &mut String) {
    let first = report.arms.first().map_or("", String::as_str);
    let codes: Vec<&str> = areas
        .rows_of(first, Some(level))
        .map(|r| areas.text(r, "code"))
        .collect();
    if codes.is_empty() {
        return;
    }
    let rows_of = |code: &str| -> Vec<(&String, &PlaceRow)> {
        report
            .arms
            .iter()
            .filter_map(|a| {
                let row = areas
                    .rows_of(a, Some(level))
                    .find(|r| areas.text(r, "code") == code)?;
                Some((a, row))
            })
            .collect()
    };
    let all_rows: Vec<(&String, &PlaceRow)> = codes.iter().flat_map(|c| rows_of(c)).collect();
    let columns: Vec<&AreaColumn> = AREA_COLUMNS
        .iter()
        .filter(|c| all_rows.iter().any(|(_, r)| (c.cell)(areas, r) != "—"))
        .collect();
    let _ = write!(
        out,
        "<div class=\"wide\"><table class=\"places\"><thead><tr><th>{}</th>",
        escape(&format!("by {what}: arm"))
    );
    for c in &columns {
        let _ = write!(out, "<th>{}</th>", escape(c.heading));
    }
    out.push_str("</tr></thead><tbody>");
    for code in codes {
        let rows = rows_of(code);
        if let Some((_, row)) = rows.first() {
            area_heading(areas, row, columns.len() + 1, out);
        }
        for (arm, row) in rows {
            let _ = write!(out, "<tr><td>{}</td>", escape(arm));
            for c in &columns {
                let _ = write!(out, "<td>{}</td>", escape(&(c.cell)(areas, row)));
            }
            out.push_str("</tr>");
        }
    }
    out.push_str("</tbody></table></div>\n");
}

/// The group row naming an area: name, code, region, PCNs, patients, IMD.
fn area_heading(areas: &PlaceTable, row: &PlaceRow, span: usize, out: &mut String) {
    let (code, name, region) = (
        areas.text(row, "code"),
        areas.text(row, "name"),
        areas.text(row, "region"),
    );
    let mut facts = Vec::new();
    if !region.is_empty() {
        facts.push(region.to_string());
    }
    if let Some(p) = areas.number(row, "pcns") {
        facts.push(format!("{} PCNs", thousands(p)));
    }
    if let Some(p) = areas.number(row, "patients") {
        facts.push(format!("{} patients", thousands(p)));
    }
    if let Some(imd) = areas.number(row, "imd_score") {
        facts.push(format!("IMD score {imd:.1}"));
    }
    let label = if code == "all" {
        "All PCNs of the run".to_string()
    } else if name.is_empty() || name == code {
        name.to_string()
    } else {
        format!("{name} ({code})")
    };
    let _ = write!(
        out,
        "<tr class=\"group\"><td class=\"text\" colspan=\"{span}\">{} <span class=\"note\">{}</span></td></tr>",
        escape(&label),
        escape(&facts.join(" · "))
    );
}

/// The service arms that differ only in `lw_allocation`: the first set of arms with the same
/// preset and parameters and at least two allocation rules, as (arm, rule, colour).
pub(super) fn allocation_arms(report: &Report) -> Vec<(String, String, RGBColor)> {
    let scenario_arms = report.scenario["arms"].as_array();
    let arm_entry = |name: &str| -> Option<&Value> {
        scenario_arms?
            .iter()
            .find(|a| a["name"].as_str() == Some(name))
    };
    let rule = |entry: &Value| {
        entry["lw_allocation"]
            .as_str()
            .unwrap_or("per_pcn")
            .to_string()
    };
    for (arm, _) in &report.service {
        let Some(entry) = arm_entry(arm) else {
            continue;
        };
        let same: Vec<(String, String, RGBColor)> = report
            .service
            .iter()
            .filter_map(|(a, c)| {
                let other = arm_entry(a)?;
                (other["params"] == entry["params"] && other["preset"] == entry["preset"])
                    .then(|| (a.clone(), rule(other), *c))
            })
            .collect();
        let first_rule = same.first().map(|(_, r, _)| r.clone());
        if same.iter().any(|(_, r, _)| Some(r) != first_rule.as_ref()) {
            return same;
        }
    }
    Vec::new()
}

/// An arm with its allocation rule, unless its name says it: `by_need (need)`, `need`.
fn arm_and_rule(arm: &str, rule: &str) -> String {
    if arm == rule {
        arm.to_string()
    } else {
        format!("{arm} ({rule})")
    }
}

/// One fifth of England's PCNs by deprivation, as `summary.json` gives it.
struct Fifth<'a> {
    code: String,
    name: String,
    entry: &'a Value,
}

impl Fifth<'_> {
    fn posts(&self, arm: &str) -> Option<f64> {
        self.entry["arms"][arm]["lw_posts_per_10k_patients"].as_f64()
    }

    fn estimate(&self, arm: &str, metric: &str) -> Estimate {
        let e = &self.entry["arms"][arm]["metrics"][metric];
        let ci = |i: usize| e["ci95"].get(i).and_then(Value::as_f64);
        Estimate {
            mean: e["mean"].as_f64(),
            sd: e["sd"].as_f64(),
            ci95: [ci(0), ci(1)],
            n: e["n"].as_u64().unwrap_or(0) as usize,
        }
    }

    /// "q1, the most deprived fifth of PCNs".
    fn label(&self) -> String {
        format!("q{}, the {}", self.code, self.name)
    }

    /// "the PCNs of q1 (the most deprived fifth of PCNs)".
    fn pcns(&self) -> String {
        format!("the PCNs of q{} (the {})", self.code, self.name)
    }
}

fn fifths(summary: &Value) -> Vec<Fifth<'_>> {
    summary["by_pcn_imd_quintile"]
        .as_array()
        .map(|list| {
            list.iter()
                .map(|entry| Fifth {
                    code: value_text(&entry["quintile"]),
                    name: entry["name"].as_str().unwrap_or("").to_string(),
                    entry,
                })
                .collect()
        })
        .unwrap_or_default()
}

fn value_text(v: &Value) -> String {
    v.as_str().map_or_else(|| v.to_string(), str::to_string)
}

/// Chart 4: the allocation rules compared by fifth of PCNs by deprivation.
fn allocation_compared(report: &Report, out: &mut String) -> Result<(), ReportError> {
    let arms = allocation_arms(report);
    if arms.is_empty() {
        return Ok(());
    }
    out.push_str(
        "<h3>The allocation rules compared</h3><p>These arms are the same service with the \
         link-worker posts shared among PCNs by different rules (<code>lw_allocation</code>): \
         <em>as_is</em> keeps the posts PCNs reported in 2022, <em>capitation</em> shares them \
         by weighted list size, <em>need</em> by list size weighted by deprivation. The rows \
         group PCNs by fifth of England's PCNs by IMD score, so they show whether a rule moves \
         posts, and with them waits and connections, toward the more deprived PCNs.</p>",
    );
    let fifths = fifths(&report.run.summary);
    if fifths.is_empty() {
        out.push_str(
            "<p class=\"note\">These PCNs have no deprivation score, so the rules cannot be \
             compared by deprivation.</p>",
        );
        return Ok(());
    }
    if let Some(text) = allocation_reading(&arms, &fifths) {
        let _ = write!(out, "<p class=\"lens\">{text}</p>");
    }
    allocation_posts_chart(&arms, &fifths, out)?;
    allocation_table(&arms, &fifths, out);
    Ok(())
}

/// Posts per 10,000 patients by fifth, one bar per arm.
fn allocation_posts_chart(
    arms: &[(String, String, RGBColor)],
    fifths: &[Fifth],
    out: &mut String,
) -> Result<(), ReportError> {
    let groups: Vec<String> = fifths.iter().map(|f| format!("q{}", f.code)).collect();
    let series: Vec<(String, RGBColor)> = arms
        .iter()
        .map(|(a, rule, c)| (arm_and_rule(a, rule), *c))
        .collect();
    let values: Vec<Vec<Option<Bar>>> = fifths
        .iter()
        .map(|f| {
            arms.iter()
                .map(|(a, _, _)| f.posts(a).map(|value| Bar { value, ci: None }))
                .collect()
        })
        .collect();
    let svg = bar_chart(
        &spec(
            "places-allocation-posts",
            "fifth of England's PCNs by IMD score (q1 = most deprived)",
            "link-worker posts per 10,000 patients",
        ),
        &groups,
        &series,
        &values,
    )?;
    figure(
        out,
        "places-allocation-posts",
        &svg,
        "The posts each rule gives the PCNs of this run in each fifth, per 10,000 of their \
         registered patients. Posts are set by the rule, not drawn at random, so they have no \
         interval. Fifths with none of this run's PCNs are left out.",
    );
    Ok(())
}

/// The table by fifth: a group row per fifth, then one row per arm.
fn allocation_table(arms: &[(String, String, RGBColor)], fifths: &[Fifth], out: &mut String) {
    out.push_str(
        "<div class=\"wide\"><table class=\"places\"><thead><tr><th>fifth of PCNs: arm (rule)</th>\
         <th>posts per 10,000 patients</th><th>wait, weeks</th><th>connected, % of accepted</th>\
         <th>GP consultations per 1,000 per year</th></tr></thead><tbody>",
    );
    for f in fifths {
        let mut facts = vec![format!(
            "{} PCNs",
            f.entry["pcns"].as_u64().unwrap_or_default()
        )];
        if let Some(p) = f.entry["patients"].as_f64() {
            facts.push(format!("{} patients", thousands(p)));
        }
        if let Some(imd) = f.entry["imd_score"].as_f64() {
            facts.push(format!("IMD score {imd:.1}"));
        }
        let _ = write!(
            out,
            "<tr class=\"group\"><td class=\"text\" colspan=\"5\">{} <span class=\"note\">{}</span></td></tr>",
            escape(&f.label()),
            escape(&facts.join(" · "))
        );
        for (arm, rule, _) in arms {
            let _ = write!(
                out,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                escape(&arm_and_rule(arm, rule)),
                fixed(f.posts(arm), 2),
                escape(&format_estimate(&f.estimate(arm, WAIT))),
                escape(&format_estimate(&percent(f.estimate(arm, CONNECTED)))),
                escape(&format_estimate(&f.estimate(arm, GP))),
            );
        }
    }
    out.push_str("</tbody></table></div>\n");
}

/// Whether two intervals are apart: `Some(true)` if they do not overlap, `None` without both.
fn intervals_apart(a: &Estimate, b: &Estimate) -> Option<bool> {
    match (a.ci95, b.ci95) {
        ([Some(a_lo), Some(a_hi)], [Some(b_lo), Some(b_hi)]) => Some(a_hi < b_lo || b_hi < a_lo),
        _ => None,
    }
}

/// The reading of the comparison in words: posts and waits of the most deprived fifth under
/// each rule against the reference rule (`as_is` if an arm has it), no stronger than the
/// intervals allow.
fn allocation_reading(arms: &[(String, String, RGBColor)], fifths: &[Fifth]) -> Option<String> {
    let reference = arms
        .iter()
        .find(|(_, rule, _)| rule == "as_is")
        .or_else(|| arms.first())?;
    let (most, least) = (fifths.first()?, fifths.last()?);
    let mut sentences = Vec::new();
    for (arm, rule, _) in arms.iter().filter(|a| a.0 != reference.0) {
        let (Some(posts), Some(reference_posts)) = (most.posts(arm), most.posts(&reference.0))
        else {
            continue;
        };
        let mut text = format!(
            "Under <strong>{}</strong>, {} get {posts:.2} link-worker posts per 10,000 \
             patients against {reference_posts:.2} under <strong>{}</strong>",
            escape(&arm_and_rule(arm, rule)),
            escape(&most.pcns()),
            escape(&arm_and_rule(&reference.0, &reference.1)),
        );
        if fifths.len() > 1
            && let (Some(p), Some(rp)) = (least.posts(arm), least.posts(&reference.0))
        {
            let _ = write!(
                text,
                ", and {} get {p:.2} against {rp:.2}",
                escape(&least.pcns())
            );
        }
        let (wait, reference_wait) = (most.estimate(arm, WAIT), most.estimate(&reference.0, WAIT));
        if wait.mean.is_some() && reference_wait.mean.is_some() {
            let verdict = match intervals_apart(&wait, &reference_wait) {
                Some(true) => {
                    if wait.mean < reference_wait.mean {
                        "shorter, and the intervals do not overlap"
                    } else {
                        "longer, and the intervals do not overlap"
                    }
                }
                Some(false) => {
                    "the intervals overlap, so the replicates cannot tell these waits apart"
                }
                None => "too few replicates to give intervals",
            };
            let _ = write!(
                text,
                ". In q{} the mean wait is {} weeks against {} under {}: {verdict}",
                escape(&most.code),
                escape(&format_estimate(&wait)),
                escape(&format_estimate(&reference_wait)),
                escape(&reference.0),
            );
        }
        text.push('.');
        sentences.push(text);
    }
    (!sentences.is_empty()).then(|| sentences.join(" "))
}
