//! The comparison table `sprx run` prints: headline metrics per arm, then the paired
//! differences against the baseline, each as `mean [95% CI]`.

use super::results::RunResults;
use crate::metrics::stats::Estimate;
use crate::metrics::summary::metric_index;

/// The metrics shown on the terminal, with their row labels (unit included).
pub const HEADLINE_METRICS: [(&str, &str); 13] = [
    (
        "gp_consults_per_1000_per_year",
        "GP consultations /1,000/yr",
    ),
    (
        "social_per_1000_per_year",
        "social GP consultations /1,000/yr",
    ),
    (
        "generated_per_1000_per_year",
        "pathway-generated GP cons. /1,000/yr",
    ),
    (
        "referrals_accepted_per_1000_per_year",
        "referrals accepted /1,000/yr",
    ),
    ("connected_share", "connected (share of accepted)"),
    ("wait_weeks_mean", "wait for first session (weeks)"),
    ("lw_caseload_mean", "link-worker caseload (patients)"),
    ("wellbeing_mean", "wellbeing (WEMWBS points)"),
    ("low_wellbeing_share", "low wellbeing (share of pt-weeks)"),
    (
        "eval_naive_change_pct",
        "evaluation: naive GP-use change (%)",
    ),
    ("eval_effect_pct", "evaluation: causal GP-use effect (%)"),
    ("lw_cost_gbp_per_year", "link-worker cost (GBP/yr)"),
    ("total_cost_gbp_per_year", "total cost (GBP/yr)"),
];

/// Rows of the MODEL.md §9 mechanisms (metric, label, trigger): each is shown only if some
/// arm's mean of its trigger metric is defined and not 0, i.e. the mechanism is at work in
/// the run. With §9 off the table is v1.0's.
pub const EXTENSION_METRICS: [(&str, &str, &str); 8] = [
    (
        "gp_delivered_per_1000_per_year",
        "GP appointments delivered /1,000/yr",
        "gp_wait_weeks_mean",
    ),
    (
        "gp_unmet_per_1000_per_year",
        "GP requests unmet /1,000/yr",
        "gp_wait_weeks_mean",
    ),
    (
        "gp_wait_weeks_mean",
        "wait for a GP appointment (weeks)",
        "gp_wait_weeks_mean",
    ),
    (
        "referrals_accepted_self_per_1000_per_year",
        "self-referrals accepted /1,000/yr",
        "referrals_accepted_self_per_1000_per_year",
    ),
    (
        "referrals_accepted_agency_per_1000_per_year",
        "agency referrals accepted /1,000/yr",
        "referrals_offered_agency_per_1000_per_year",
    ),
    (
        "in_crisis_share",
        "in crisis (share of pt-weeks)",
        "in_crisis_share",
    ),
    (
        "eval_in_crisis_share",
        "evaluation: in crisis at referral",
        "in_crisis_share",
    ),
    (
        "eval_wellbeing_followup_naive_change",
        "evaluation: naive follow-up WEMWBS",
        "in_crisis_share",
    ),
];

const UNDEFINED: &str = "—";

/// The rows of the table for these results: the headline metrics, then the §9 rows whose
/// mechanism is at work in some arm.
fn rows(results: &RunResults) -> Vec<(&'static str, &'static str)> {
    let at_work = |trigger: &str| {
        metric_index(trigger).is_some_and(|m| {
            results.arms.iter().any(|a| {
                a.estimates
                    .get(m)
                    .and_then(|e| e.mean)
                    .is_some_and(|v| v != 0.0)
            })
        })
    };
    HEADLINE_METRICS
        .into_iter()
        .chain(
            EXTENSION_METRICS
                .into_iter()
                .filter(|(_, _, trigger)| at_work(trigger))
                .map(|(metric, label, _)| (metric, label)),
        )
        .collect()
}

/// Both tables, preceded by `header`.
pub fn comparison_table(results: &RunResults, header: &str) -> String {
    let rows = rows(results);
    let label_width = rows
        .iter()
        .map(|(_, l)| l.chars().count())
        .max()
        .unwrap_or(0);
    let mut out = format!("{header}\n\n");
    let columns: Vec<(&str, &[crate::metrics::stats::Estimate])> = results
        .arms
        .iter()
        .map(|a| (a.name.as_str(), a.estimates.as_slice()))
        .collect();
    out.push_str(&format!(
        "Mean [95% CI] over {} replicates\n",
        results.replicates.len()
    ));
    out.push_str(&grid(&rows, &columns, label_width));
    let paired: Vec<(&str, &[Estimate])> = results
        .arms
        .iter()
        .filter_map(|a| a.paired.as_deref().map(|p| (a.name.as_str(), p)))
        .collect();
    if !paired.is_empty() {
        let base = results.baseline_name();
        out.push_str(&format!(
            "\nPaired difference arm − {base} [95% CI], replicate by replicate\n"
        ));
        out.push_str(&grid(&rows, &paired, label_width));
    }
    out
}

/// One table: a row per (metric, label), a column per (name, estimates).
fn grid(rows: &[(&str, &str)], columns: &[(&str, &[Estimate])], label_width: usize) -> String {
    let cells: Vec<Vec<String>> = rows
        .iter()
        .map(|(metric, _)| {
            columns
                .iter()
                .map(|(_, estimates)| {
                    metric_index(metric)
                        .and_then(|m| estimates.get(m))
                        .map_or_else(|| UNDEFINED.to_string(), format_estimate)
                })
                .collect()
        })
        .collect();
    let widths: Vec<usize> = columns
        .iter()
        .enumerate()
        .map(|(c, (name, _))| {
            cells
                .iter()
                .map(|row| row[c].chars().count())
                .chain([name.chars().count()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = format!("{:label_width$}", "");
    for ((name, _), w) in columns.iter().zip(&widths) {
        out.push_str(&format!("  {name:>w$}"));
    }
    out.push('\n');
    for ((_, label), row) in rows.iter().zip(&cells) {
        out.push_str(&format!("{label:label_width$}"));
        for (cell, w) in row.iter().zip(&widths) {
            out.push_str(&format!("  {cell:>w$}"));
        }
        out.push('\n');
    }
    out
}

/// `mean [lo, hi]`, all three to the same precision; `—` where undefined.
pub fn format_estimate(e: &Estimate) -> String {
    let Some(mean) = e.mean else {
        return UNDEFINED.to_string();
    };
    let [lo, hi] = e.ci95;
    let scale = [Some(mean), lo, hi]
        .iter()
        .flatten()
        .fold(0.0f64, |m, v| m.max(v.abs()));
    let decimals = decimals_for(scale);
    match (lo, hi) {
        (Some(lo), Some(hi)) => format!(
            "{} [{}, {}]",
            format_number(mean, decimals),
            format_number(lo, decimals),
            format_number(hi, decimals)
        ),
        _ => format!("{} [{UNDEFINED}]", format_number(mean, decimals)),
    }
}

/// Decimals that show about three significant digits of the largest value in a cell.
fn decimals_for(scale: f64) -> usize {
    if scale == 0.0 || !scale.is_finite() {
        return 0;
    }
    (2 - scale.log10().floor() as i64).clamp(0, 6) as usize
}

/// A number with thousands separators from 10,000 up.
fn format_number(v: f64, decimals: usize) -> String {
    let text = format!("{v:.decimals$}");
    // "-0.00" reads as a sign where there is none.
    let text = if text
        .trim_start_matches('-')
        .chars()
        .all(|c| c == '0' || c == '.')
    {
        text.trim_start_matches('-').to_string()
    } else {
        text
    };
    if v.abs() < 10_000.0 {
        return text;
    }
    let (sign, rest) = text.split_at(usize::from(text.starts_with('-')));
    let (int, frac) = rest.split_at(rest.find('.').unwrap_or(rest.len()));
    let mut grouped = String::new();
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(c);
    }
    format!("{sign}{grouped}{frac}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_headline_metric_exists() {
        for (metric, _) in HEADLINE_METRICS {
            assert!(metric_index(metric).is_some(), "{metric}");
        }
        for (metric, _, trigger) in EXTENSION_METRICS {
            assert!(metric_index(metric).is_some(), "{metric}");
            assert!(metric_index(trigger).is_some(), "{trigger}");
        }
    }

    #[test]
    fn numbers_keep_about_three_significant_digits() {
        let e = |mean, lo, hi| Estimate {
            mean: Some(mean),
            sd: Some(1.0),
            ci95: [Some(lo), Some(hi)],
            n: 4,
        };
        assert_eq!(
            format_estimate(&e(2612.34, 2598.1, 2627.9)),
            "2612 [2598, 2628]"
        );
        assert_eq!(
            format_estimate(&e(114_000.0, 113_500.0, 114_500.4)),
            "114,000 [113,500, 114,500]"
        );
        assert_eq!(
            format_estimate(&e(0.3812, 0.37, 0.39)),
            "0.381 [0.370, 0.390]"
        );
        assert_eq!(
            format_estimate(&e(-1.934, -4.21, 0.5)),
            "-1.93 [-4.21, 0.50]"
        );
        assert_eq!(format_estimate(&e(0.0, 0.0, 0.0)), "0 [0, 0]");
        let no_ci = Estimate {
            mean: Some(3.0),
            sd: None,
            ci95: [None, None],
            n: 1,
        };
        assert_eq!(format_estimate(&no_ci), "3.00 [—]");
        let undefined = Estimate {
            mean: None,
            sd: None,
            ci95: [None, None],
            n: 0,
        };
        assert_eq!(format_estimate(&undefined), "—");
    }
}
