//! What the page draws from the replicates finished so far: weekly series with their 95%
//! bands (the `weekly.csv` columns, banded across replicates as the report does), bars with
//! intervals from the summary metrics (`RunResults`, the same numbers as `summary.json`), and a
//! headline strip of paired differences against the baseline, in words.

use serde::Serialize;

use crate::engine::Plan;
use crate::engine::runner::ReplicateOutcome;
use crate::metrics::stats::Estimate;
use crate::metrics::summary::SUMMARY_METRICS;
use crate::metrics::weekly::WEEKLY_COLUMNS;
use crate::model::observe::WeekRecord;
use crate::output::RunResults;

/// Which arms a chart shows.
#[derive(Clone, Copy, PartialEq)]
enum Arms {
    All,
    /// Arms with a link-worker service (no_sp has no queue, no link workers).
    Service,
}

/// A weekly chart: one `weekly.csv` column per arm, banded across replicates.
struct WeeklyChart {
    id: &'static str,
    title: &'static str,
    y: &'static str,
    column: &'static str,
    arms: Arms,
    /// Drawn as the arm minus the baseline, replicate by replicate (paired).
    minus_baseline: bool,
    /// Trailing rolling mean over this many weeks, within each replicate.
    smooth: usize,
    /// Weekly counts shown per 1,000 registered patients per year.
    per_1000_per_year: bool,
}

const WEEKLY_CHARTS: [WeeklyChart; 7] = [
    WeeklyChart {
        id: "gp",
        title: "GP demand: consultations against the baseline",
        y: "per 1,000 patients a year (13-wk mean)",
        column: "new_consults",
        arms: Arms::Service,
        minus_baseline: true,
        smooth: 13,
        per_1000_per_year: true,
    },
    WeeklyChart {
        id: "queue",
        title: "The queue: patients waiting for a link worker",
        y: "patients waiting",
        column: "n_waiting",
        arms: Arms::Service,
        minus_baseline: false,
        smooth: 1,
        per_1000_per_year: false,
    },
    WeeklyChart {
        id: "stress",
        title: "Link-worker stress",
        y: "mean stress (0-1)",
        column: "mean_lw_stress",
        arms: Arms::Service,
        minus_baseline: false,
        smooth: 4,
        per_1000_per_year: false,
    },
    WeeklyChart {
        id: "vacant",
        title: "Link-worker posts vacant",
        y: "posts vacant (4-week mean)",
        column: "n_lw_vacant",
        arms: Arms::Service,
        minus_baseline: false,
        smooth: 4,
        per_1000_per_year: false,
    },
    WeeklyChart {
        id: "assets_open",
        title: "Community assets open",
        y: "assets open",
        column: "n_assets_open",
        arms: Arms::All,
        minus_baseline: false,
        smooth: 1,
        per_1000_per_year: false,
    },
    WeeklyChart {
        id: "occupancy",
        title: "Community assets full: places occupied",
        y: "share of places occupied",
        column: "share_asset_occupancy",
        arms: Arms::All,
        minus_baseline: false,
        smooth: 1,
        per_1000_per_year: false,
    },
    WeeklyChart {
        id: "wellbeing",
        title: "Wellbeing against the baseline",
        y: "difference (WEMWBS points)",
        column: "mean_wellbeing",
        arms: Arms::Service,
        minus_baseline: true,
        smooth: 1,
        per_1000_per_year: false,
    },
];

/// A bar chart of summary metrics, one group of bars per metric, one bar per service arm.
struct BarChart {
    id: &'static str,
    title: &'static str,
    y: &'static str,
    /// Group label and how a replicate's value is formed from its summary metrics.
    groups: &'static [(&'static str, Value)],
    /// Paired against the baseline (arm − baseline), or the arm's own value.
    paired: bool,
}

/// A bar's value from one replicate's summary metrics.
#[derive(Clone, Copy)]
enum Value {
    Metric(&'static str),
    /// Referrals accepted per 1,000 per year times a share of accepted referrals.
    AcceptedTimes(&'static str),
}

const BAR_CHARTS: [BarChart; 3] = [
    BarChart {
        id: "funnel",
        title: "The referral funnel",
        y: "referrals per 1,000 patients per year",
        groups: &[
            (
                "offered",
                Value::Metric("referrals_offered_per_1000_per_year"),
            ),
            (
                "accepted",
                Value::Metric("referrals_accepted_per_1000_per_year"),
            ),
            ("reached LW", Value::AcceptedTimes("reached_lw_share")),
            ("connected", Value::AcceptedTimes("connected_share")),
            ("completed", Value::AcceptedTimes("completed_share")),
        ],
        paired: false,
    },
    BarChart {
        id: "equity",
        title: "Equity: wellbeing gain by deprivation quintile",
        y: "difference (WEMWBS points)",
        groups: &[
            ("q1 most deprived", Value::Metric("wellbeing_mean_q1")),
            ("q2", Value::Metric("wellbeing_mean_q2")),
            ("q3", Value::Metric("wellbeing_mean_q3")),
            ("q4", Value::Metric("wellbeing_mean_q4")),
            ("q5 least deprived", Value::Metric("wellbeing_mean_q5")),
        ],
        paired: true,
    },
    BarChart {
        id: "lens",
        title: "The evaluation lens: naive before/after against the causal effect",
        y: "change in GP use (%)",
        groups: &[
            ("naive before/after", Value::Metric("eval_naive_change_pct")),
            (
                "without the service",
                Value::Metric("eval_counterfactual_change_pct"),
            ),
            ("causal effect", Value::Metric("eval_effect_pct")),
        ],
        paired: false,
    },
];

/// A headline metric: its name, what it is in words, its unit in words, whether it is paired
/// against the baseline, and the factor it is shown with (shares as percentages).
struct HeadlineMetric {
    metric: &'static str,
    what: &'static str,
    unit: &'static str,
    paired: bool,
    scale: f64,
}

const HEADLINE: [HeadlineMetric; 5] = [
    HeadlineMetric {
        metric: "gp_consults_per_1000_per_year",
        what: "GP consultations",
        unit: "per 1,000 patients a year",
        paired: true,
        scale: 1.0,
    },
    HeadlineMetric {
        metric: "wellbeing_mean",
        what: "mean wellbeing",
        unit: "WEMWBS points",
        paired: true,
        scale: 1.0,
    },
    HeadlineMetric {
        metric: "wait_weeks_mean",
        what: "wait for a first link-worker session",
        unit: "weeks",
        paired: false,
        scale: 1.0,
    },
    HeadlineMetric {
        metric: "connected_share",
        what: "accepted referrals connected to an asset",
        unit: "%",
        paired: false,
        scale: 100.0,
    },
    HeadlineMetric {
        metric: "eval_effect_pct",
        what: "causal effect on referred patients' GP use",
        unit: "%",
        paired: false,
        scale: 1.0,
    },
];

/// A number rounded to four significant digits, `None` if undefined: the page draws, it does
/// not need sixteen digits, and the stream stays small.
fn round(v: f64) -> Option<f64> {
    if !v.is_finite() {
        return None;
    }
    if v == 0.0 {
        return Some(0.0);
    }
    let digits = 3 - v.abs().log10().floor() as i32;
    let scale = 10f64.powi(digits.clamp(-10, 12));
    Some((v * scale).round() / scale)
}

#[derive(Serialize)]
pub struct View {
    /// Replicates finished and planned.
    pub replicates: usize,
    pub of: u32,
    pub weeks: u32,
    pub baseline: String,
    pub headline: Vec<Headline>,
    pub charts: Vec<Chart>,
}

#[derive(Serialize)]
pub struct Headline {
    pub arm: String,
    pub sentences: Vec<String>,
}

#[derive(Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Chart {
    Band {
        id: &'static str,
        title: &'static str,
        y: &'static str,
        series: Vec<BandSeries>,
    },
    Bars {
        id: &'static str,
        title: &'static str,
        y: &'static str,
        groups: Vec<&'static str>,
        series: Vec<BarSeries>,
    },
}

#[derive(Serialize)]
pub struct BandSeries {
    pub arm: String,
    pub mean: Vec<Option<f64>>,
    pub lo: Vec<Option<f64>>,
    pub hi: Vec<Option<f64>>,
}

#[derive(Serialize)]
pub struct BarSeries {
    pub arm: String,
    /// Per group: mean, low and high ends of the 95% interval.
    pub bars: Vec<[Option<f64>; 3]>,
}

/// The view of `outcomes`, in replicate order (as the runner returns them; the live run sorts
/// its batches, so that the view does not depend on the order replicates finished in).
pub fn view(plan: &Plan, outcomes: &[ReplicateOutcome]) -> View {
    let results = RunResults::new(plan, outcomes);
    let mut charts: Vec<Chart> = WEEKLY_CHARTS
        .iter()
        .map(|c| weekly_chart(plan, outcomes, c))
        .collect();
    charts.extend(BAR_CHARTS.iter().map(|c| bar_chart(plan, &results, c)));
    View {
        replicates: outcomes.len(),
        of: plan.replicates,
        weeks: plan.weeks,
        baseline: results.baseline_name().to_string(),
        headline: headline(plan, &results),
        charts,
    }
}

/// The arms a chart shows, by index.
fn shown_arms(plan: &Plan, which: Arms) -> Vec<usize> {
    (0..plan.arms.len())
        .filter(|&a| which == Arms::All || (plan.arms[a].service && a != plan.baseline))
        .collect()
}

fn weekly_chart(plan: &Plan, outcomes: &[ReplicateOutcome], c: &WeeklyChart) -> Chart {
    let value = WEEKLY_COLUMNS
        .iter()
        .find(|col| col.name == c.column)
        .map(|col| col.value);
    let scale = if c.per_1000_per_year {
        52.0 * 1000.0 / plan.patients().max(1) as f64
    } else {
        1.0
    };
    let series_of = |weekly: &[WeekRecord]| -> Vec<f64> {
        weekly
            .iter()
            .map(|w| value.map_or(f64::NAN, |f| f(w)) * scale)
            .collect()
    };
    let series = shown_arms(plan, c.arms)
        .into_iter()
        .map(|a| {
            let reps: Vec<Vec<f64>> = outcomes
                .iter()
                .filter_map(|o| {
                    let mut s = series_of(&o.arms.get(a)?.weekly);
                    if c.minus_baseline {
                        let base = series_of(&o.arms.get(plan.baseline)?.weekly);
                        for (x, b) in s.iter_mut().zip(base) {
                            *x -= b;
                        }
                    }
                    Some(rolling_mean(&s, c.smooth))
                })
                .collect();
            band(&plan.arms[a].name, &reps, plan.weeks as usize)
        })
        .collect();
    Chart::Band {
        id: c.id,
        title: c.title,
        y: c.y,
        series,
    }
}

/// A trailing rolling mean over `weeks` weeks (fewer at the start).
fn rolling_mean(s: &[f64], weeks: usize) -> Vec<f64> {
    if weeks <= 1 {
        return s.to_vec();
    }
    (0..s.len())
        .map(|w| {
            let from = (w + 1).saturating_sub(weeks);
            s[from..=w].iter().sum::<f64>() / (w + 1 - from) as f64
        })
        .collect()
}

/// Per week, the mean and 95% interval across replicates (the statistics of `summary.json`).
fn band(arm: &str, reps: &[Vec<f64>], weeks: usize) -> BandSeries {
    let mut s = BandSeries {
        arm: arm.to_string(),
        mean: Vec::with_capacity(weeks),
        lo: Vec::with_capacity(weeks),
        hi: Vec::with_capacity(weeks),
    };
    for w in 0..weeks {
        let e = Estimate::from_samples(reps.iter().filter_map(|r| r.get(w).copied()));
        s.mean.push(e.mean.and_then(round));
        s.lo.push(e.ci95[0].and_then(round));
        s.hi.push(e.ci95[1].and_then(round));
    }
    s
}

fn metric_index(name: &str) -> Option<usize> {
    SUMMARY_METRICS.iter().position(|m| m.name == name)
}

fn bar_chart(plan: &Plan, results: &RunResults, c: &BarChart) -> Chart {
    let per_replicate = |arm: usize, value: Value| -> Vec<f64> {
        let Some(values) = results.arms.get(arm).map(|a| &a.values) else {
            return Vec::new();
        };
        let get = |v: &Vec<f64>, name: &str| {
            metric_index(name)
                .and_then(|i| v.get(i).copied())
                .unwrap_or(f64::NAN)
        };
        values
            .iter()
            .map(|v| match value {
                Value::Metric(name) => get(v, name),
                Value::AcceptedTimes(share) => {
                    get(v, "referrals_accepted_per_1000_per_year") * get(v, share)
                }
            })
            .collect()
    };
    let series = shown_arms(plan, Arms::Service)
        .into_iter()
        .map(|a| {
            let bars = c
                .groups
                .iter()
                .map(|&(_, value)| {
                    let own = per_replicate(a, value);
                    let e = if c.paired {
                        Estimate::paired(&own, &per_replicate(plan.baseline, value))
                    } else {
                        Estimate::from_samples(own)
                    };
                    [e.mean, e.ci95[0], e.ci95[1]].map(|v| v.and_then(round))
                })
                .collect();
            BarSeries {
                arm: plan.arms[a].name.clone(),
                bars,
            }
        })
        .collect();
    Chart::Bars {
        id: c.id,
        title: c.title,
        y: c.y,
        groups: c.groups.iter().map(|(g, _)| *g).collect(),
        series,
    }
}

/// The headline strip: for each service arm, its paired differences against the baseline and
/// its own pathway numbers, each as a sentence with the 95% interval.
fn headline(plan: &Plan, results: &RunResults) -> Vec<Headline> {
    let baseline = results.baseline_name();
    shown_arms(plan, Arms::Service)
        .into_iter()
        .filter_map(|a| {
            let arm = results.arms.get(a)?;
            let sentences = HEADLINE
                .iter()
                .filter_map(|h| {
                    let i = metric_index(h.metric)?;
                    let e = if h.paired {
                        arm.paired.as_ref()?.get(i)?
                    } else {
                        arm.estimates.get(i)?
                    };
                    let e = scaled(e, h.scale);
                    Some(if h.paired {
                        difference_in_words(&e, h.what, h.unit, baseline)
                    } else {
                        level_in_words(&e, h.what, h.unit)
                    })
                })
                .collect();
            Some(Headline {
                arm: arm.name.clone(),
                sentences,
            })
        })
        .collect()
}

/// "12 more GP consultations per 1,000 patients a year than no_sp (95% interval 5 to 19)", or
/// "no clear difference" when the interval includes 0.
pub fn difference_in_words(e: &Estimate, what: &str, unit: &str, baseline: &str) -> String {
    let Some(mean) = e.mean else {
        return format!("{what}: not defined yet");
    };
    let interval = match e.ci95 {
        [Some(lo), Some(hi)] => format!(" (95% interval {} to {})", num(lo), num(hi)),
        _ => " (one replicate: no interval yet)".to_string(),
    };
    let clear = matches!(e.ci95, [Some(lo), Some(hi)] if lo > 0.0 || hi < 0.0);
    if !clear {
        return format!(
            "no clear difference in {what} from {baseline}: {} {unit}{interval}",
            num(mean)
        );
    }
    let direction = if mean > 0.0 { "higher" } else { "lower" };
    format!(
        "{what} {direction} than {baseline} by {} {unit}{interval}",
        num(mean.abs())
    )
}

/// An estimate times `factor` (shares shown as percentages).
fn scaled(e: &Estimate, factor: f64) -> Estimate {
    let times = |v: Option<f64>| v.map(|v| v * factor);
    Estimate {
        mean: times(e.mean),
        sd: times(e.sd),
        ci95: [times(e.ci95[0]), times(e.ci95[1])],
        n: e.n,
    }
}

/// "wait for a first link-worker session: 3.2 weeks (95% interval 2.9 to 3.5)".
pub fn level_in_words(e: &Estimate, what: &str, unit: &str) -> String {
    let Some(mean) = e.mean else {
        return format!("{what}: not defined");
    };
    let interval = match e.ci95 {
        [Some(lo), Some(hi)] => format!(" (95% interval {} to {})", num(lo), num(hi)),
        _ => String::new(),
    };
    format!("{what}: {} {unit}{interval}", num(mean))
}

/// A number for a sentence: three significant digits, no needless decimals.
fn num(v: f64) -> String {
    if !v.is_finite() || v == 0.0 {
        return "0".to_string();
    }
    let decimals = (2 - v.abs().log10().floor() as i32).clamp(0, 8) as usize;
    format!("{v:.decimals$}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_chart_reads_an_existing_column_or_metric() {
        for c in &WEEKLY_CHARTS {
            assert!(
                WEEKLY_COLUMNS.iter().any(|col| col.name == c.column),
                "{}",
                c.column
            );
        }
        let metrics = BAR_CHARTS
            .iter()
            .flat_map(|c| c.groups.iter())
            .map(|(_, v)| match v {
                Value::Metric(m) | Value::AcceptedTimes(m) => *m,
            });
        for m in metrics.chain(HEADLINE.iter().map(|h| h.metric)) {
            assert!(metric_index(m).is_some(), "{m}");
        }
    }

    #[test]
    fn differences_read_as_words() {
        let e = Estimate::paired(&[10.0, 12.0, 14.0], &[0.0, 0.0, 0.0]);
        let s = difference_in_words(&e, "GP consultations", "per 1,000", "no_sp");
        assert!(
            s.starts_with("GP consultations higher than no_sp by 12.0"),
            "{s}"
        );
        let e = Estimate::paired(&[-1.0, 1.0, 0.5], &[0.0, 0.0, 0.0]);
        let s = difference_in_words(&e, "wellbeing", "points", "no_sp");
        assert!(s.starts_with("no clear difference in wellbeing"), "{s}");
    }
}
