//! GP appointments when capacity is short (MODEL.md §9.2): per arm, the appointments requested,
//! delivered and left unmet, the wait, their differences from the baseline and the backlog week
//! by week. Shown only when some arm limits GP capacity (`gp_capacity_per_1000` > 0).

use std::fmt::Write as _;

use plotters::style::RGBColor;

use super::bands::{arm_bands, bar_of};
use super::format::{excludes_zero, signed_ci};
use super::sections::arm_table;
use super::{Report, band_figure, figure, spec};
use crate::metrics::stats::Estimate;
use crate::report::charts::{Bar, PALETTE, bar_chart};
use crate::report::data::{ReportError, RunDir};
use crate::report::escape;

/// The parameter that switches GP capacity on.
const CAPACITY: &str = "gp_capacity_per_1000";

/// Requested (all GP consultations: demand), delivered and unmet, per 1,000 per year.
const FLOWS: [(&str, &str); 3] = [
    ("gp_consults_per_1000_per_year", "requested"),
    ("gp_delivered_per_1000_per_year", "delivered"),
    ("gp_unmet_per_1000_per_year", "unmet (gave up)"),
];

const WAIT: (&str, &str) = ("gp_wait_weeks_mean", "wait for an appointment (weeks)");

pub(super) fn shown(report: &Report) -> bool {
    report.some_arm_sets(&report.colours, CAPACITY)
}

pub(super) fn gp_access(report: &Report, out: &mut String) -> Result<(), ReportError> {
    why_appointments_saved_misleads(out);
    access_tables(report, out);
    for (arm, _) in &report.compared {
        if let Some(text) = access_sentence(report, arm) {
            let _ = write!(out, "<p>{text}</p>");
        }
    }
    access_charts(report, out)
}

fn why_appointments_saved_misleads(out: &mut String) {
    out.push_str(
        "<p>Here each practice can give only so many GP appointments a week \
         (<code>gp_capacity_per_1000</code> a year per 1,000 registered patients). Requests beyond \
         that wait in a backlog, and each week a share of those still waiting \
         (<code>gp_giveup</code>) give up: unmet demand. When appointments are short, an \
         appointment that social prescribing frees is not left empty — the next person in the \
         queue takes it. So the number of appointments <em>delivered</em> does not fall; what \
         falls is the queue: the wait, and the requests that are never met. “Appointments saved” \
         is therefore not a fall in GP workload or cost: the practice is as busy as before, and \
         any gain goes to other patients, as shorter waits. (In this version unmet demand does not \
         feed back on anyone's needs or wellbeing: MODEL.md §9.2.)</p>",
    );
}

/// The arms' levels (with each arm's capacity) and their differences from the baseline.
fn access_tables(report: &Report, out: &mut String) {
    let Report {
        run,
        arms,
        compared,
        ..
    } = report;
    out.push_str("<table><thead><tr><th>GP capacity, per 1,000 patients per year</th>");
    for a in arms {
        let _ = write!(out, "<th>{}</th>", escape(a));
    }
    out.push_str("</tr></thead><tbody><tr><td>appointments a practice can give</td>");
    for a in arms {
        let capacity = match report.param(a, CAPACITY) {
            Some(c) if c > 0.0 => format!("{c:.0}"),
            Some(_) => "unlimited".to_string(),
            None => "—".to_string(),
        };
        let _ = write!(out, "<td>{capacity}</td>");
    }
    out.push_str("</tbody></table>\n");
    let columns: Vec<(&str, &str)> = FLOWS.iter().copied().chain([WAIT]).collect();
    arm_table(
        out,
        run,
        arms,
        "GP appointments per 1,000 per year, mean [95% CI]",
        &columns,
        false,
    );
    let compared: Vec<String> = compared.iter().map(|(a, _)| a.clone()).collect();
    arm_table(
        out,
        run,
        &compared,
        &format!("difference from {}", report.baseline),
        &columns,
        true,
    );
}

/// What capacity does to one arm's change against the baseline, in words; `None` unless the
/// arm and the baseline have the same limited capacity (otherwise the comparison mixes two
/// things).
fn access_sentence(report: &Report, arm: &str) -> Option<String> {
    let capacity = report.param(arm, CAPACITY).filter(|c| *c > 0.0)?;
    if report.param(&report.baseline, CAPACITY) != Some(capacity) {
        return None;
    }
    let run = report.run;
    let [requested, delivered, unmet] = FLOWS.map(|(m, _)| run.estimate(arm, m, true));
    let (requested, delivered, unmet) = (requested?, delivered?, unmet?);
    let wait = run.estimate(arm, WAIT.0, true)?;
    let mut text = format!(
        "Against <strong>{}</strong>, <strong>{}</strong> changes the GP appointments requested \
         by {} per 1,000 patients per year{}, those delivered {}{}, the requests that go \
         unmet by {}{} and the wait by {} weeks{}.",
        escape(&report.baseline),
        escape(arm),
        signed_ci(&requested, 1),
        tell_apart(&requested),
        change_in_delivered(&delivered),
        tell_apart(&delivered),
        signed_ci(&unmet, 1),
        tell_apart(&unmet),
        signed_ci(&wait, 3),
        tell_apart(&wait),
    );
    let delivered_unchanged = excludes_zero(&delivered) != Some(true);
    match requested.mean {
        Some(m) if m < 0.0 && delivered_unchanged => text.push_str(
            " The appointments it frees are taken by the queue: delivered appointments do not \
             fall, and what it saves shows up as the wait and unmet demand.",
        ),
        Some(m) if m > 0.0 && delivered_unchanged => text.push_str(
            " The extra requests find no free appointment: delivered appointments do not rise, \
             the queue does, and with it the wait and unmet demand.",
        ),
        _ => {}
    }
    Some(text)
}

/// "by −1.2 [−2.0, −0.4]", or "not at all" when every replicate delivered the same.
fn change_in_delivered(e: &Estimate) -> String {
    match (e.mean, e.ci95) {
        (Some(m), [Some(lo), Some(hi)]) if m == 0.0 && lo == 0.0 && hi == 0.0 => {
            "not at all".to_string()
        }
        _ => format!("by {}", signed_ci(e, 1)),
    }
}

/// A note after a difference whose interval includes zero.
fn tell_apart(e: &Estimate) -> &'static str {
    match (excludes_zero(e), e.mean) {
        (Some(false), Some(m)) if m != 0.0 => " (the replicates cannot tell this from none)",
        _ => "",
    }
}

fn access_charts(report: &Report, out: &mut String) -> Result<(), ReportError> {
    let Report {
        run,
        arms,
        baseline,
        colours,
        compared,
        ..
    } = report;
    let series: Vec<(String, RGBColor)> = FLOWS
        .iter()
        .zip([PALETTE[0], PALETTE[2], PALETTE[1]])
        .map(|((_, label), colour)| (label.to_string(), colour))
        .collect();
    let svg = bar_chart(
        &spec("gp-access", "arm", "appointments per 1,000 per year"),
        arms,
        &series,
        &flow_bars(run, arms, false),
    )?;
    figure(
        out,
        "gp-access",
        &svg,
        "Requested: every GP consultation the patients seek (medical, social and generated by the pathway). Delivered: those given, at most the capacity. Unmet: requests abandoned after waiting. Error bars: 95% intervals across replicates.",
    );
    let groups: Vec<String> = compared.iter().map(|(a, _)| a.clone()).collect();
    let svg = bar_chart(
        &spec("gp-access-diff", "arm", "difference per 1,000 per year"),
        &groups,
        &series,
        &flow_bars(run, &groups, true),
    )?;
    figure(
        out,
        "gp-access-diff",
        &svg,
        &format!(
            "Arm minus {}, replicate by replicate, with 95% intervals. With capacity binding, fewer requests leave delivered appointments where they were and shorten the queue instead.",
            escape(baseline)
        ),
    );
    let backlog = |get: &dyn Fn(&str) -> f64| 1000.0 * get("n_gp_backlog") / get("n_patients");
    let bands = arm_bands(run, colours, None, &backlog, 4);
    band_figure(
        out,
        "gp-backlog",
        "requests waiting per 1,000 patients",
        &bands,
        false,
        "GP requests carried into the next week, per 1,000 registered patients, 4-week rolling mean; shaded: 95% interval across replicates. Divided by the weekly capacity, this is the wait in weeks.",
    )?;
    Ok(())
}

/// Requested, delivered and unmet for each arm (or its difference from the baseline).
fn flow_bars(run: &RunDir, arms: &[String], paired: bool) -> Vec<Vec<Option<Bar>>> {
    arms.iter()
        .map(|a| {
            FLOWS
                .iter()
                .map(|(m, _)| bar_of(run.estimate(a, m, paired)))
                .collect()
        })
        .collect()
}
