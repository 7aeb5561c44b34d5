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

/// A row of the lens: label (with unit), metric, source. `None` metric = a section heading.
pub(crate) const ROWS: [(&str, Option<&str>, Source); 13] = [
    ("GP use of the referred cohort", None, Source::Arm),
    (
        "  naive before/after change (%)",
        Some("eval_naive_change_pct"),
        Source::Arm,
    ),
    (
        "  no_sp twins' change (%)",
        Some("eval_counterfactual_change_pct"),
        Source::Arm,
    ),
    (
        "  causal effect (% of before)",
        Some("eval_effect_pct"),
        Source::Arm,
    ),
    (
        "  causal effect (consults/patient/yr)",
        Some("eval_effect_per_patient_year"),
        Source::Arm,
    ),
    (
        "  cohort size (patients)",
        Some("eval_cohort_n"),
        Source::Arm,
    ),
    ("Wellbeing of the referred cohort", None, Source::Arm),
    (
        "  naive change (WEMWBS points)",
        Some("eval_wellbeing_naive_change"),
        Source::Arm,
    ),
    (
        "  no_sp twins' change (WEMWBS points)",
        Some("eval_wellbeing_counterfactual_change"),
        Source::Arm,
    ),
    (
        "  causal effect (WEMWBS points)",
        Some("eval_wellbeing_effect"),
        Source::Arm,
    ),
    ("Whole population, vs baseline", None, Source::Paired),
    (
        "  GP appts added(+)/freed(−) /1,000/yr",
        Some("gp_consults_per_1000_per_year"),
        Source::Paired,
    ),
    (
        "  net cost (GBP/yr)",
        Some("total_cost_gbp_per_year"),
        Source::Paired,
    ),
];

const UNDEFINED: &str = "—";

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
    let cells: Vec<Vec<String>> = ROWS
        .iter()
        .map(|(_, metric, source)| {
            arms.iter()
                .map(|arm| match metric {
                    None => String::new(),
                    Some(metric) => row_estimate(arm, metric, *source)
                        .map_or_else(|| UNDEFINED.to_string(), format_estimate),
                })
                .collect()
        })
        .collect();
    let label_width = ROWS
        .iter()
        .map(|(l, _, _)| l.chars().count())
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
    for ((label, _, _), row) in ROWS.iter().zip(&cells) {
        out.push_str(&format!("{label:label_width$}"));
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
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_lens_metric_exists() {
        for (label, metric, _) in ROWS {
            if let Some(metric) = metric {
                assert!(metric_index(metric).is_some(), "{label}: {metric}");
            }
        }
    }
}
