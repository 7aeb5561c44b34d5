//! Referral routes beyond the GP (MODEL.md §9.3): accepted referrals by route in each service
//! arm and by deprivation quintile, and who each route reaches, in words no stronger than the
//! intervals allow. Shown only when some service arm opens a route other than the GP
//! (`self_referral` or `agency_referral` > 0).

use std::fmt::Write as _;

use plotters::style::RGBColor;

use super::bands::bar_of;
use super::sections::arm_table;
use super::{Report, figure, spec};
use crate::metrics::stats::Estimate;
use crate::output::format_estimate;
use crate::report::charts::{Bar, PALETTE, bar_chart};
use crate::report::data::{ReportError, RunDir};
use crate::report::escape;

/// A referral route: its key in the metric names, its name in prose, the parameter that opens
/// it (`None`: always open), its colour.
struct Route {
    key: &'static str,
    name: &'static str,
    opened_by: Option<&'static str>,
    colour: RGBColor,
}

const ROUTES: [Route; 3] = [
    Route {
        key: "gp",
        name: "GP",
        opened_by: None,
        colour: PALETTE[0],
    },
    Route {
        key: "self",
        name: "self-referral",
        opened_by: Some("self_referral"),
        colour: PALETTE[3],
    },
    Route {
        key: "agency",
        name: "other agencies",
        opened_by: Some("agency_referral"),
        colour: PALETTE[2],
    },
];

const QUINTILES: [&str; 5] = ["q1 (most deprived)", "q2", "q3", "q4", "q5 (least)"];

/// Accepted referrals of a route per 1,000 patients per year, of quintile `q` (1..=5) if given.
fn accepted(route: &Route, q: Option<usize>) -> String {
    let rate = format!("referrals_accepted_{}_per_1000_per_year", route.key);
    q.map_or_else(|| rate.clone(), |q| format!("{rate}_q{q}"))
}

impl Route {
    fn open_in(&self, report: &Report, arm: &str) -> bool {
        self.opened_by
            .is_none_or(|p| report.param(arm, p).is_some_and(|v| v > 0.0))
    }
}

/// Service arms that open a route other than the GP.
fn arms_with_routes(report: &Report) -> Vec<(String, RGBColor)> {
    report
        .service
        .iter()
        .filter(|(a, _)| {
            ROUTES
                .iter()
                .any(|r| r.opened_by.is_some() && r.open_in(report, a))
        })
        .cloned()
        .collect()
}

pub(super) fn shown(report: &Report) -> bool {
    !arms_with_routes(report).is_empty()
}

pub(super) fn routes(report: &Report, out: &mut String) -> Result<(), ReportError> {
    out.push_str(
        "<p>Besides the GP, patients can refer themselves (<code>self_referral</code>, more \
         likely the more they trust services and the more activated they are) or be referred by \
         another agency, such as a housing officer or a job centre (<code>agency_referral</code>, \
         for patients with a housing or work need, who accept as they would a GP's offer). \
         Neither route is a GP consultation. Routes reach different people: rates by quintile \
         are per 1,000 patients <em>of the quintile</em>, so they compare reach per head \
         (MODEL.md §9.3).</p>",
    );
    let with_routes = arms_with_routes(report);
    route_table(report, out);
    routes_chart(report, out)?;
    if let Some((arm, _)) = with_routes.first() {
        quintile_chart(report, arm, out)?;
    }
    quintile_table(report, &with_routes, out);
    for (arm, _) in &with_routes {
        for route in ROUTES.iter().filter(|r| r.open_in(report, arm)) {
            if let Some(text) = reach_sentence(report.run, arm, route) {
                let _ = write!(out, "<p>{text}</p>");
            }
        }
    }
    Ok(())
}

fn route_table(report: &Report, out: &mut String) {
    let names: Vec<String> = ROUTES.iter().map(|r| accepted(r, None)).collect();
    let mut columns: Vec<(&str, &str)> = names
        .iter()
        .zip(&ROUTES)
        .map(|(m, r)| (m.as_str(), r.name))
        .collect();
    columns.push(("referrals_accepted_per_1000_per_year", "all routes"));
    let arms: Vec<String> = report.service.iter().map(|(a, _)| a.clone()).collect();
    arm_table(
        out,
        report.run,
        &arms,
        "accepted referrals per 1,000 per year, mean [95% CI]",
        &columns,
        false,
    );
}

/// Accepted referrals by route, a group per service arm.
fn routes_chart(report: &Report, out: &mut String) -> Result<(), ReportError> {
    let arms: Vec<String> = report.service.iter().map(|(a, _)| a.clone()).collect();
    let routes: Vec<&Route> = ROUTES
        .iter()
        .filter(|r| arms.iter().any(|a| r.open_in(report, a)))
        .collect();
    let series: Vec<(String, RGBColor)> = routes
        .iter()
        .map(|r| (r.name.to_string(), r.colour))
        .collect();
    let values: Vec<Vec<Option<Bar>>> = arms
        .iter()
        .map(|a| {
            routes
                .iter()
                .map(|r| bar_of(report.run.estimate(a, &accepted(r, None), false)))
                .collect()
        })
        .collect();
    let svg = bar_chart(
        &spec("routes", "arm", "accepted referrals per 1,000 per year"),
        &arms,
        &series,
        &values,
    )?;
    figure(
        out,
        "routes",
        &svg,
        "Referrals accepted during the service weeks, by who made them; a self-referral counts as offered and accepted. Error bars: 95% intervals across replicates.",
    );
    Ok(())
}

/// One arm's accepted referrals by route and quintile.
fn quintile_chart(report: &Report, arm: &str, out: &mut String) -> Result<(), ReportError> {
    let routes: Vec<&Route> = ROUTES.iter().filter(|r| r.open_in(report, arm)).collect();
    let series: Vec<(String, RGBColor)> = routes
        .iter()
        .map(|r| (r.name.to_string(), r.colour))
        .collect();
    let values: Vec<Vec<Option<Bar>>> = (1..=5)
        .map(|q| {
            routes
                .iter()
                .map(|r| bar_of(report.run.estimate(arm, &accepted(r, Some(q)), false)))
                .collect()
        })
        .collect();
    let quintiles: Vec<String> = QUINTILES.iter().map(|q| q.to_string()).collect();
    let svg = bar_chart(
        &spec(
            "routes-quintile",
            "deprivation quintile",
            "per 1,000 patients of the quintile per year",
        ),
        &quintiles,
        &series,
        &values,
    )?;
    figure(
        out,
        "routes-quintile",
        &svg,
        &format!(
            "Arm <strong>{}</strong>: referrals accepted per 1,000 patients of each quintile per year, by route, with 95% intervals. The table below has every arm with a route other than the GP.",
            escape(arm)
        ),
    );
    Ok(())
}

/// Every (arm, open route): accepted per 1,000 of each quintile per year.
fn quintile_table(report: &Report, arms: &[(String, RGBColor)], out: &mut String) {
    out.push_str(
        "<table><thead><tr><th>arm: route, accepted per 1,000 of the quintile per year</th>",
    );
    for q in QUINTILES {
        let _ = write!(out, "<th>{}</th>", escape(q));
    }
    out.push_str("</tr></thead><tbody>");
    for (arm, _) in arms {
        for route in ROUTES.iter().filter(|r| r.open_in(report, arm)) {
            let _ = write!(out, "<tr><td>{}: {}</td>", escape(arm), route.name);
            for q in 1..=5 {
                let cell = report
                    .run
                    .estimate_cell(arm, &accepted(route, Some(q)), false);
                let _ = write!(out, "<td>{}</td>", escape(&cell));
            }
            out.push_str("</tr>");
        }
    }
    out.push_str("</tbody></table>\n");
}

/// Who a route reaches in one arm: its share of accepted referrals, and the most against the
/// least deprived quintile per head, called different only when the 95% intervals do not
/// overlap.
fn reach_sentence(run: &RunDir, arm: &str, route: &Route) -> Option<String> {
    let rate = run.mean(arm, &accepted(route, None))?;
    let all = run.mean(arm, "referrals_accepted_per_1000_per_year")?;
    let q1 = run.estimate(arm, &accepted(route, Some(1)), false)?;
    let q5 = run.estimate(arm, &accepted(route, Some(5)), false)?;
    let share = if all > 0.0 { 100.0 * rate / all } else { 0.0 };
    Some(format!(
        "<strong>{}</strong>, {}: {share:.0}% of the arm's accepted referrals; {} per 1,000 \
         patients a year in the most deprived quintile against {} in the least deprived: {}.",
        escape(arm),
        route.name,
        escape(&format_estimate(&q1)),
        escape(&format_estimate(&q5)),
        reach_verdict(&q1, &q5),
    ))
}

/// Which end of deprivation a route reaches more per head, if the intervals say so.
fn reach_verdict(q1: &Estimate, q5: &Estimate) -> &'static str {
    match (q1.ci95, q5.ci95) {
        ([Some(lo1), Some(hi1)], [Some(lo5), Some(hi5)]) => {
            if lo1 > hi5 {
                "it reaches the most deprived quintile more, per head (the 95% intervals do not overlap)"
            } else if lo5 > hi1 {
                "it reaches the least deprived quintile more, per head (the 95% intervals do not overlap)"
            } else {
                "the 95% intervals overlap, so these replicates cannot say which of the two it reaches more"
            }
        }
        _ => "without intervals (one replicate) the two cannot be compared",
    }
}
