//! The report's sections, each a function from the run to its HTML. [`super::SECTIONS`] lists
//! them in order with their anchors and headings.

use std::fmt::Write as _;
use std::path::Path;

use plotters::style::RGBColor;
use serde_json::Value;

use super::bands::{
    arm_bands, bar_of, col, cumulative_closures, quintile_bars, quintile_rate, total,
};
use super::format::{excludes_zero, moved, signed_ci, thousands};
use super::{Report, band_figure, figure, spec};
use crate::output::HEADLINE_METRICS;
use crate::params::{REGISTRY, fmt_num};
use crate::report::charts::{Bar, PALETTE, bar_chart};
use crate::report::data::{ReportError, RunDir};
use crate::report::escape;
use crate::report::lens::{Source, shown_rows, shows_selection};
use crate::scenario::Labelled;

/// The headline table: every arm's mean, then each arm's paired difference from the baseline.
pub(super) fn headline(report: &Report, out: &mut String) -> Result<(), ReportError> {
    let Report {
        run,
        arms,
        baseline,
        compared,
        replicates,
        ..
    } = report;
    let _ = write!(
        out,
        "<p>Mean [95% confidence interval] over {replicates} replicates; the second table gives \
         each arm's difference from <strong>{}</strong>, replicate by replicate (common random \
         numbers: the same patients live the same lives in every arm).</p>",
        escape(baseline)
    );
    headline_table(out, run, arms, false);
    headline_table(
        out,
        run,
        &compared.iter().map(|(a, _)| a.clone()).collect::<Vec<_>>(),
        true,
    );
    Ok(())
}

/// The evaluation lens: naive before/after against the no_sp twins, in words, charts and a table.
pub(super) fn evaluation(report: &Report, out: &mut String) -> Result<(), ReportError> {
    let Report { run, service, .. } = report;
    out.push_str(
        "<p>An uncontrolled before/after evaluation compares referred patients' GP use in the \
         year after referral with the year before. Patients are referred at a peak of need, so \
         their GP use would fall anyway: regression to the mean. sprx also follows each referred \
         patient's <em>no_sp twin</em> — the same person, with the same luck, in a world without \
         social prescribing. The difference between the two changes is what the service did.</p>\n",
    );
    let selection = shows_selection(&shown_rows(|m| report.at_work(m)));
    if selection {
        selection_intro(report, out);
    }
    out.push_str("<div class=\"lens\">");
    for (arm, _) in service.iter() {
        if let Some(s) = lens_sentence(run, arm) {
            let follow_up = follow_up_sentence(report, arm).unwrap_or_default();
            let who = if selection {
                selection_sentence(report, arm).unwrap_or_default()
            } else {
                String::new()
            };
            let _ = write!(out, "<p>{s}</p>");
            for more in [follow_up, who].iter().filter(|t| !t.is_empty()) {
                let _ = write!(out, "<p>{more}</p>");
            }
        }
    }
    out.push_str("</div>\n");
    if !service.is_empty() {
        let groups: Vec<String> = service.iter().map(|(a, _)| a.clone()).collect();
        lens_charts(run, &groups, out)?;
        lens_table(out, report, &groups);
    }
    Ok(())
}

/// Why the referred cohort would have recovered anyway, when MODEL.md §9.1 is on.
fn selection_intro(report: &Report, out: &mut String) {
    let crises = if report.at_work("in_crisis_share") {
        ", and many referrals follow a crisis — a bereavement, an eviction notice, a debt — \
         that raises GP contact for a few months and then passes"
    } else {
        ""
    };
    let _ = writeln!(
        out,
        "<p>In this run GPs refer the patients they keep seeing{crises} (MODEL.md §9.1). Such \
         patients' GP use would fall, and their wellbeing recover, without any service: the \
         twins' change shows by how much.</p>"
    );
}

/// The lens's three charts: GP use, wellbeing over the year, wellbeing at follow-up.
fn lens_charts(run: &RunDir, groups: &[String], out: &mut String) -> Result<(), ReportError> {
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
    let charts = [
        (
            "eval-gp",
            "change in GP consultations (%)",
            [
                "eval_naive_change_pct",
                "eval_counterfactual_change_pct",
                "eval_effect_pct",
            ],
            "Year after vs year before the first accepted referral, for patients referred in weeks 52..=weeks−53. Error bars: 95% intervals across replicates. The causal effect is the naive change minus the twins' change.",
        ),
        (
            "eval-wellbeing",
            "change in wellbeing (WEMWBS points)",
            [
                "eval_wellbeing_naive_change",
                "eval_wellbeing_counterfactual_change",
                "eval_wellbeing_effect",
            ],
            "Mean weekly wellbeing in the year from referral minus the year before, same cohort and twins.",
        ),
        (
            "eval-wellbeing-followup",
            "change in wellbeing (WEMWBS points)",
            [
                "eval_wellbeing_followup_naive_change",
                "eval_wellbeing_followup_counterfactual_change",
                "eval_wellbeing_followup_effect",
            ],
            "Wellbeing at follow-up (eval_followup_weeks after the referral week) minus wellbeing in the referral week, as evaluations record it, for the cohort patients whose follow-up falls in the service weeks.",
        ),
    ];
    for (id, y_desc, metrics, caption) in charts {
        let svg = bar_chart(
            &spec(id, "arm", y_desc),
            groups,
            &names,
            &lens_series(metrics),
        )?;
        figure(out, id, &svg, caption);
    }
    Ok(())
}

/// GP demand over the service weeks, and each arm's paired difference from the baseline.
pub(super) fn gp(report: &Report, out: &mut String) -> Result<(), ReportError> {
    let Report {
        run,
        baseline,
        colours,
        compared,
        ..
    } = report;
    let per_1000 = |get: &dyn Fn(&str) -> f64| 1000.0 * get("new_consults") / get("n_patients");
    let bands = arm_bands(run, colours, None, &per_1000, 4);
    band_figure(
        out,
        "gp-demand",
        "consultations per 1,000 per week",
        &bands,
        false,
        "All GP consultations (medical, social and generated by the pathway), 4-week rolling mean; shaded: 95% interval across replicates. Arms differ by far less than the seasonless week-to-week noise: see the difference below.",
    )?;
    let bands = arm_bands(run, compared, Some(baseline.as_str()), &per_1000, 13);
    band_figure(
        out,
        "gp-demand-diff",
        "difference per 1,000 per week",
        &bands,
        true,
        &format!(
            "Arm minus {}, replicate by replicate, 13-week rolling mean; above zero the arm adds GP appointments, below zero it frees them.",
            escape(baseline)
        ),
    )?;
    Ok(())
}

/// Population wellbeing: the mean and the share with low wellbeing.
pub(super) fn wellbeing(report: &Report, out: &mut String) -> Result<(), ReportError> {
    let Report { run, colours, .. } = report;
    let bands = arm_bands(run, colours, None, &col("mean_wellbeing"), 1);
    band_figure(
        out,
        "wellbeing-mean",
        "WEMWBS points (14–70)",
        &bands,
        false,
        "Mean over all registered patients. With 1–2% of the list referred each year, population wellbeing barely moves; the evaluation lens shows the referred cohort.",
    )?;
    let bands = arm_bands(
        run,
        colours,
        None,
        &|g: &dyn Fn(&str) -> f64| 100.0 * g("share_low_wellbeing"),
        1,
    );
    band_figure(
        out,
        "wellbeing-low",
        "% of patients with WEMWBS ≤ 40",
        &bands,
        false,
        "Share of registered patients at or below the low-wellbeing threshold (the WEMWBS “probable depression” band).",
    )?;
    Ok(())
}

/// The referral funnel, from offer to completed connection.
pub(super) fn pathway(report: &Report, out: &mut String) -> Result<(), ReportError> {
    let Report { run, service, .. } = report;
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
            service,
            &values,
        )?;
        figure(
            out,
            "funnel",
            &svg,
            "Means over replicates. Later stages are shares of the referrals accepted during the service weeks, each followed to its outcome by the end of the run; a bounced inappropriate referral counts as having reached a link worker.",
        );
        pathway_table(out, run, service);
    }
    Ok(())
}

/// Link workers: the queue, waits, stress and vacancies.
pub(super) fn link_workers(report: &Report, out: &mut String) -> Result<(), ReportError> {
    let Report { run, service, .. } = report;
    if !service.is_empty() {
        let bands = arm_bands(run, service, None, &col("n_waiting"), 1);
        band_figure(
            out,
            "lw-queue",
            "patients in the queue",
            &bands,
            false,
            "Accepted referrals waiting for a place on a link-worker caseload, whole system, end of each week.",
        )?;
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
            service,
            &values,
        )?;
        figure(
            out,
            "lw-waits",
            &svg,
            "Weeks from acceptance to the first session, for referrals that reached a link worker. Error bars: 95% intervals across replicates.",
        );
        let bands = arm_bands(run, service, None, &col("mean_lw_stress"), 1);
        band_figure(
            out,
            "lw-stress",
            "stress (0 = none)",
            &bands,
            false,
            "Stress rises when the queue exceeds a quarter of the caseload places and falls with supervision; it lowers session quality and drives turnover.",
        )?;
        let bands = arm_bands(run, service, None, &col("n_lw_vacant"), 1);
        band_figure(
            out,
            "lw-vacancies",
            "vacant posts",
            &bands,
            false,
            "Posts left vacant after a link worker leaves (the caseload goes back to the head of the queue).",
        )?;
    }
    Ok(())
}

/// Community assets: occupancy, assets open and closures.
pub(super) fn assets(report: &Report, out: &mut String) -> Result<(), ReportError> {
    let Report { run, colours, .. } = report;
    let bands = arm_bands(
        run,
        colours,
        None,
        &|g: &dyn Fn(&str) -> f64| 100.0 * g("share_asset_occupancy"),
        1,
    );
    band_figure(
        out,
        "asset-occupancy",
        "% of places taken",
        &bands,
        false,
        "Places taken by connected patients over places at open assets. A full asset is more likely to close (overload).",
    )?;
    let bands = arm_bands(run, colours, None, &col("n_assets_open"), 1);
    band_figure(
        out,
        "asset-open",
        "assets open",
        &bands,
        false,
        "Open community assets, whole system.",
    )?;
    let cumulative = cumulative_closures(run, colours);
    band_figure(
        out,
        "asset-closures",
        "assets closed since week 0",
        &cumulative,
        false,
        "Closed assets never reopen; new ones open at a rate set by the initial count and the infrastructure.",
    )?;
    Ok(())
}

/// Equity by deprivation quintile: differences in wellbeing and GP use, referrals, connections and conversion.
pub(super) fn equity(report: &Report, out: &mut String) -> Result<(), ReportError> {
    let Report {
        run,
        arms,
        baseline,
        service,
        compared,
        ..
    } = report;
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
        compared,
        &by_q("wellbeing_mean"),
    )?;
    figure(
        out,
        "equity-wellbeing",
        &svg,
        &format!(
            "Mean wellbeing over all patients of the quintile and all weeks, arm minus {}, with 95% intervals.",
            escape(baseline)
        ),
    );
    let svg = bar_chart(
        &spec(
            "equity-gp",
            "deprivation quintile",
            "difference per 1,000 per year",
        ),
        &quintiles,
        compared,
        &by_q("gp_consults_per_1000_per_year"),
    )?;
    figure(
        out,
        "equity-gp",
        &svg,
        &format!(
            "GP consultations per 1,000 patients of the quintile per year, arm minus {}.",
            escape(baseline)
        ),
    );
    let referrals = quintile_bars(run, service, &|q, rows| {
        quintile_rate(run, "new_accepted", q, rows)
    });
    let svg = bar_chart(
        &spec(
            "equity-referrals",
            "deprivation quintile",
            "per 1,000 patients of the quintile per year",
        ),
        &quintiles,
        service,
        &referrals,
    )?;
    figure(
        out,
        "equity-referrals",
        &svg,
        "Accepted referrals per 1,000 patients of each quintile per year: need, and so referral, is highest in the most deprived quintile.",
    );
    let connections = quintile_bars(run, service, &|q, rows| {
        quintile_rate(run, "new_connections", q, rows)
    });
    let svg = bar_chart(
        &spec(
            "equity-connections",
            "deprivation quintile",
            "per 1,000 patients of the quintile per year",
        ),
        &quintiles,
        service,
        &connections,
    )?;
    figure(
        out,
        "equity-connections",
        &svg,
        "Connections to community assets per 1,000 patients of each quintile per year.",
    );
    let conversion = quintile_bars(run, service, &|q, rows| {
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
        service,
        &conversion,
    )?;
    figure(
        out,
        "equity-conversion",
        &svg,
        "Connections made during the service weeks per 100 referrals accepted in them, by quintile. The inverse care law: need is highest in q1, but capacity and activation — what it takes to take a connection up — are lowest there.",
    );
    equity_table(out, run, arms);
    Ok(())
}

/// Costs per year against the baseline.
pub(super) fn costs(report: &Report, out: &mut String) -> Result<(), ReportError> {
    let Report { run, compared, .. } = report;
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
        out,
        "costs",
        &svg,
        "GP consultations at gp_cost each (generated ones included) and filled link-worker posts at lw_cost per year; no discounting. Bars are differences from the baseline arm.",
    );
    Ok(())
}

/// Patient journeys traced beside their no_sp twins (only when journeys were asked for).
pub(super) fn journeys(report: &Report, out: &mut String) -> Result<(), ReportError> {
    out.push_str("<p>Individual referred patients, week by week, in the arm and in the no_sp world (their twin). Quiet weeks are left out.</p>");
    for j in report.journeys {
        out.push_str(&j.to_html());
    }
    Ok(())
}

/// The scenario as resolved: run settings, arms and every parameter with its source.
pub(super) fn scenario(report: &Report, out: &mut String) -> Result<(), ReportError> {
    scenario_section(out, report.scenario, &report.arms);
    Ok(())
}

/// Provenance from the manifest.
pub(super) fn provenance(report: &Report, out: &mut String) -> Result<(), ReportError> {
    provenance_table(out, &report.run.manifest, &report.run.dir);
    Ok(())
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

/// One arm's follow-up wellbeing, as evaluations record it, in words (any run: MODEL.md §9.1).
fn follow_up_sentence(report: &Report, arm: &str) -> Option<String> {
    let run = report.run;
    let naive = run.mean(arm, "eval_wellbeing_followup_naive_change")?;
    let twins = run.mean(arm, "eval_wellbeing_followup_counterfactual_change")?;
    let effect = run.estimate(arm, "eval_wellbeing_followup_effect", false)?;
    let weeks = report
        .param(arm, "eval_followup_weeks")
        .map_or_else(|| "eval_followup_weeks".to_string(), |w| format!("{w:.0}"));
    Some(format!(
        "Measured as evaluations measure it, from the referral week to {weeks} weeks later, \
         their wellbeing {}, their twins' {}: the service added {} WEMWBS points.",
        moved(naive, " points", 2),
        moved(twins, " points", 2),
        signed_ci(&effect, 2),
    ))
}

/// Who the arm's GPs referred (MODEL.md §9.1): in crisis, and after how many recent social
/// consultations.
fn selection_sentence(report: &Report, arm: &str) -> Option<String> {
    let run = report.run;
    let recent = run.mean(arm, "eval_n_recent_mean")?;
    let weeks = report
        .param(arm, "recency_weeks")
        .map_or_else(|| "recency_weeks".to_string(), |w| format!("{w:.0}"));
    let in_crisis = run
        .mean(arm, "eval_in_crisis_share")
        .filter(|_| report.at_work("in_crisis_share"));
    let mut text = "When referred, ".to_string();
    if let Some(share) = in_crisis {
        let _ = write!(text, "{:.0}% of them were in crisis and ", 100.0 * share);
    }
    let _ = write!(
        text,
        "they had made {recent:.2} social GP consultations on average in the {weeks} weeks \
         before: referral follows a crisis or frequent attendance, which pass on their own, and \
         the twins' change shows how much would have changed anyway."
    );
    Some(text)
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
            let cell = run.estimate_cell(a, metric, paired);
            let _ = write!(out, "<td>{}</td>", escape(&cell));
        }
        out.push_str("</tr>");
    }
    out.push_str("</tbody></table>\n");
}

/// A table with a row per arm and a column per (metric, label), each cell `mean [95% CI]` (or
/// the paired difference from the baseline); `corner` heads the arm column.
pub(super) fn arm_table(
    out: &mut String,
    run: &RunDir,
    arms: &[String],
    corner: &str,
    columns: &[(&str, &str)],
    paired: bool,
) {
    if arms.is_empty() {
        return;
    }
    let _ = write!(out, "<table><thead><tr><th>{}</th>", escape(corner));
    for (_, label) in columns {
        let _ = write!(out, "<th>{}</th>", escape(label));
    }
    out.push_str("</tr></thead><tbody>");
    for a in arms {
        let _ = write!(out, "<tr><td>{}</td>", escape(a));
        for (metric, _) in columns {
            let cell = run.estimate_cell(a, metric, paired);
            let _ = write!(out, "<td>{}</td>", escape(&cell));
        }
        out.push_str("</tr>");
    }
    out.push_str("</tbody></table>\n");
}

fn lens_table(out: &mut String, report: &Report, arms: &[String]) {
    let run = report.run;
    out.push_str("<table><thead><tr><th>evaluation lens, mean [95% CI]</th>");
    for a in arms {
        let _ = write!(out, "<th>{}</th>", escape(a));
    }
    out.push_str("</tr></thead><tbody>");
    for row in shown_rows(|m| report.at_work(m)) {
        let label = escape(row.label.trim());
        match row.metric {
            None => {
                let _ = write!(
                    out,
                    "<tr class=\"group\"><td colspan=\"{}\">{label}</td></tr>",
                    arms.len() + 1,
                );
            }
            Some(metric) => {
                let _ = write!(out, "<tr><td>{label}</td>");
                for a in arms {
                    let cell = run.estimate_cell(a, metric, row.source == Source::Paired);
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
            let cell = run.estimate_cell(a, metric, false);
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

fn provenance_table(out: &mut String, manifest: &Value, dir: &Path) {
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
    out.push_str("</tbody></table>\n<p class=\"note\">Generated by sprx from summary.json, weekly.csv and manifest.json (and pcns.csv and icbs.csv for a run over several PCNs); the same scenario and seed reproduce every figure.</p>\n");
}
