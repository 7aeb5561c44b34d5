//! The evaluation lens printed after `sprx run`'s comparison table: for each service arm, what
//! a before/after evaluation of referred patients would report, what their no_sp twins did over
//! the same weeks, and the difference between the two (the causal effect); then what the arm
//! changes for the whole registered population against the baseline. Putting the naive and the
//! counterfactual figures side by side is the point: the naive fall is mostly regression to the
//! mean (MODEL.md §1).

use crate::metrics::stats::Estimate;
use crate::metrics::summary::metric_index;
use crate::output::{ArmResults, RunResults, format_estimate};

/// Where a row's estimate comes from.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Source {
    /// The arm's own estimate of the metric.
    Arm,
    /// The paired difference arm − baseline.
    Paired,
}

/// A row of the lens: label (with unit), metric (`None` = a group heading), source, and the
/// metric whose being at work (a defined, non-zero mean in some arm) shows the row; `None` =
/// always shown. A heading is shown when a row of its group is.
pub(crate) struct LensRow {
    pub label: &'static str,
    pub metric: Option<&'static str>,
    pub source: Source,
    pub when: Option<&'static str>,
}

const fn heading(label: &'static str) -> LensRow {
    LensRow {
        label,
        metric: None,
        source: Source::Arm,
        when: None,
    }
}

const fn row(label: &'static str, metric: &'static str, source: Source) -> LensRow {
    LensRow {
        label,
        metric: Some(metric),
        source,
        when: None,
    }
}

/// Crises are at work in the run (MODEL.md §9.1): some patient-weeks are in crisis.
const CRISES_ON: &str = "in_crisis_share";
/// Selection on the recent past is recorded (MODEL.md §9.1 on for the population).
const RECENCY_RECORDED: &str = "eval_n_recent_mean";

pub(crate) const ROWS: [LensRow; 20] = [
    heading("GP use of the referred cohort"),
    row(
        "  naive before/after change (%)",
        "eval_naive_change_pct",
        Source::Arm,
    ),
    row(
        "  no_sp twins' change (%)",
        "eval_counterfactual_change_pct",
        Source::Arm,
    ),
    row(
        "  causal effect (% of before)",
        "eval_effect_pct",
        Source::Arm,
    ),
    row(
        "  causal effect (consults/patient/yr)",
        "eval_effect_per_patient_year",
        Source::Arm,
    ),
    row("  cohort size (patients)", "eval_cohort_n", Source::Arm),
    heading("Who was referred (MODEL.md §9.1)"),
    LensRow {
        when: Some(CRISES_ON),
        ..row(
            "  in crisis in the referral week (share)",
            "eval_in_crisis_share",
            Source::Arm,
        )
    },
    LensRow {
        when: Some(RECENCY_RECORDED),
        ..row(
            "  recent social consults (mean n_recent)",
            "eval_n_recent_mean",
            Source::Arm,
        )
    },
    heading("Wellbeing of the referred cohort"),
    row(
        "  naive change (WEMWBS points)",
        "eval_wellbeing_naive_change",
        Source::Arm,
    ),
    row(
        "  no_sp twins' change (WEMWBS points)",
        "eval_wellbeing_counterfactual_change",
        Source::Arm,
    ),
    row(
        "  causal effect (WEMWBS points)",
        "eval_wellbeing_effect",
        Source::Arm,
    ),
    heading("Wellbeing from referral to follow-up"),
    row(
        "  naive change (WEMWBS points)",
        "eval_wellbeing_followup_naive_change",
        Source::Arm,
    ),
    row(
        "  no_sp twins' change (WEMWBS points)",
        "eval_wellbeing_followup_counterfactual_change",
        Source::Arm,
    ),
    row(
        "  causal effect (WEMWBS points)",
        "eval_wellbeing_followup_effect",
        Source::Arm,
    ),
    heading("Whole population, vs baseline"),
    row(
        "  GP appts added(+)/freed(−) /1,000/yr",
        "gp_consults_per_1000_per_year",
        Source::Paired,
    ),
    row(
        "  net cost (GBP/yr)",
        "total_cost_gbp_per_year",
        Source::Paired,
    ),
];

const UNDEFINED: &str = "—";

/// The rows this run shows, given whether a trigger metric is at work in some arm: every row
/// without a trigger, the others only when theirs is at work, and a heading only when a row of
/// its group is shown.
pub(crate) fn shown_rows(at_work: impl Fn(&str) -> bool) -> Vec<&'static LensRow> {
    let shown = |r: &LensRow| r.when.is_none_or(&at_work);
    let mut rows: Vec<&'static LensRow> = Vec::with_capacity(ROWS.len());
    for (i, r) in ROWS.iter().enumerate() {
        let keep = match r.metric {
            Some(_) => shown(r),
            None => ROWS[i + 1..]
                .iter()
                .take_while(|next| next.metric.is_some())
                .any(shown),
        };
        if keep {
            rows.push(r);
        }
    }
    rows
}

/// Whether the selection rows of MODEL.md §9.1 are among `rows`.
pub(crate) fn shows_selection(rows: &[&LensRow]) -> bool {
    rows.iter().any(|r| r.when.is_some())
}

/// Whether `metric` has a defined, non-zero mean in some arm of the results.
fn at_work(results: &RunResults, metric: &str) -> bool {
    metric_index(metric).is_some_and(|m| {
        results.arms.iter().any(|a| {
            a.estimates
                .get(m)
                .and_then(|e| e.mean)
                .is_some_and(|v| v != 0.0)
        })
    })
}

/// Whether an arm has an evaluated cohort, i.e. runs the service.
pub fn is_service_arm(arm: &ArmResults) -> bool {
    metric_index("eval_cohort_n")
        .and_then(|m| arm.estimates.get(m))
        .is_some_and(|e| e.mean.is_some())
}

/// The estimate behind one row for one arm, if defined.
fn row_estimate<'a>(arm: &'a ArmResults, metric: &str, source: Source) -> Option<&'a Estimate> {
    let m = metric_index(metric)?;
    match source {
        Source::Arm => arm.estimates.get(m),
        Source::Paired => arm.paired.as_ref()?.get(m),
    }
}

/// The lens as text: a column per service arm, each cell `mean [95% CI]` across replicates.
/// Empty if no arm runs the service.
pub fn evaluation_lens(results: &RunResults) -> String {
    let arms: Vec<&ArmResults> = results.arms.iter().filter(|a| is_service_arm(a)).collect();
    if arms.is_empty() {
        return String::new();
    }
    let rows = shown_rows(|m| at_work(results, m));
    let cells: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            arms.iter()
                .map(|arm| match r.metric {
                    None => String::new(),
                    Some(metric) => row_estimate(arm, metric, r.source)
                        .map_or_else(|| UNDEFINED.to_string(), format_estimate),
                })
                .collect()
        })
        .collect();
    let label_width = rows
        .iter()
        .map(|r| r.label.chars().count())
        .max()
        .unwrap_or(0);
    let widths: Vec<usize> = arms
        .iter()
        .enumerate()
        .map(|(c, arm)| {
            cells
                .iter()
                .map(|row| row[c].chars().count())
                .chain([arm.name.chars().count()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = format!(
        "\nEvaluation lens: referred patients (first referral in weeks 52..=weeks−53) against their \
         no_sp twins; mean [95% CI] over {} replicates\n",
        results.replicates.len()
    );
    out.push_str(&format!("{:label_width$}", ""));
    for (arm, w) in arms.iter().zip(&widths) {
        out.push_str(&format!("  {:>w$}", arm.name));
    }
    out.push('\n');
    for (r, row) in rows.iter().zip(&cells) {
        out.push_str(&format!("{:label_width$}", r.label));
        for (cell, w) in row.iter().zip(&widths) {
            out.push_str(&format!("  {cell:>w$}"));
        }
        out.push('\n');
    }
    out.push_str(&format!(
        "Baseline for the population rows: {}. The causal effect is the naive change minus \
         the twins' change; the twins' change is regression to the mean.\n",
        results.baseline_name()
    ));
    out.push_str(FOLLOW_UP_NOTE);
    if shows_selection(&rows) {
        out.push_str(SELECTION_NOTE);
    }
    out
}

/// What the follow-up rows measure.
pub(crate) const FOLLOW_UP_NOTE: &str = "Follow-up: wellbeing in the referral week and \
    eval_followup_weeks later, as evaluations record it (cohort patients whose follow-up falls \
    in the service weeks).\n";

/// Why the naive changes mislead when GPs refer after a crisis or frequent attendance.
pub(crate) const SELECTION_NOTE: &str = "Referral follows a crisis or a run of social GP \
    consultations, which pass on their own: the twins' change is what would have happened \
    anyway.\n";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_lens_metric_exists() {
        for r in &ROWS {
            for metric in r.metric.iter().chain(&r.when) {
                assert!(metric_index(metric).is_some(), "{}: {metric}", r.label);
            }
        }
    }

    #[test]
    fn selection_rows_and_their_heading_show_only_when_at_work() {
        let labels = |rows: Vec<&LensRow>| -> Vec<&str> { rows.iter().map(|r| r.label).collect() };
        let off = labels(shown_rows(|_| false));
        assert_eq!(off.len(), ROWS.len() - 3, "{off:?}");
        assert!(
            !off.iter()
                .any(|l| l.contains("§9.1") || l.contains("crisis"))
        );
        assert!(off.iter().any(|l| l.contains("follow-up")));
        let recency_only = labels(shown_rows(|m| m == RECENCY_RECORDED));
        assert_eq!(recency_only.len(), ROWS.len() - 1, "{recency_only:?}");
        assert!(!recency_only.iter().any(|l| l.contains("crisis")));
        assert_eq!(shown_rows(|_| true).len(), ROWS.len());
    }
}
