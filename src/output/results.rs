//! Summary metrics of every arm and replicate, and their statistics across replicates: the
//! estimates per arm and the paired differences against the baseline arm.

use crate::engine::Plan;
use crate::engine::replicate::staffing;
use crate::engine::runner::ReplicateOutcome;
use crate::metrics::places::{PlaceLevel, PlaceResults, groups, place_results};
use crate::metrics::stats::Estimate;
use crate::metrics::summary::{MetricContext, SUMMARY_METRICS, summarize};

/// The results of a run, arms in scenario order.
#[derive(Clone, Debug)]
pub struct RunResults {
    pub arms: Vec<ArmResults>,
    /// Index of the baseline arm.
    pub baseline: usize,
    /// Replicate numbers, ascending, in the order of each arm's `values`.
    pub replicates: Vec<u32>,
    /// Results by place, for runs over more than one PCN.
    pub places: Option<PlaceOutputs>,
}

/// Results by place: what `pcns.csv`, `icbs.csv` and `summary.json`'s `by_pcn_imd_quintile`
/// are written from.
#[derive(Clone, Debug)]
pub struct PlaceOutputs {
    /// Each PCN, in plan order.
    pub pcns: Vec<PlaceResults>,
    /// ICBs, then regions, then all PCNs together (real places; only the last for synthetic).
    pub areas: Vec<PlaceResults>,
    /// Fifths of England's PCNs by IMD score, those present in the run.
    pub quintiles: Vec<PlaceResults>,
}

impl PlaceOutputs {
    /// Results by place of a run over more than one PCN; `None` for a single PCN, whose
    /// results by place would repeat the run's.
    pub fn new(plan: &Plan, outcomes: &[ReplicateOutcome]) -> Option<PlaceOutputs> {
        if plan.pcns.len() < 2 {
            return None;
        }
        let staffing = staffing(plan);
        let results = |levels: &[PlaceLevel]| {
            let chosen = levels.iter().flat_map(|&l| groups(plan, l)).collect();
            place_results(plan, &staffing, outcomes, chosen)
        };
        Some(PlaceOutputs {
            pcns: results(&[PlaceLevel::Pcn]),
            areas: results(&[PlaceLevel::Icb, PlaceLevel::Region, PlaceLevel::All]),
            quintiles: results(&[PlaceLevel::DeprivationQuintile]),
        })
    }
}

#[derive(Clone, Debug)]
pub struct ArmResults {
    pub name: String,
    /// Per replicate, every summary metric in [`SUMMARY_METRICS`] order (NaN where undefined).
    pub values: Vec<Vec<f64>>,
    /// Per metric, across replicates.
    pub estimates: Vec<Estimate>,
    /// Per metric, the paired difference arm − baseline; `None` for the baseline itself.
    pub paired: Option<Vec<Estimate>>,
}

impl RunResults {
    /// Summarises the outcomes of `plan`'s replicates (in the order the runner returns them).
    pub fn new(plan: &Plan, outcomes: &[ReplicateOutcome]) -> RunResults {
        let mut arms: Vec<ArmResults> = plan
            .arms
            .iter()
            .enumerate()
            .map(|(a, arm)| {
                let ctx = MetricContext {
                    patients: plan.patients(),
                    weeks: plan.weeks,
                    gp_cost: arm.params.gp_cost,
                    lw_cost: arm.params.lw_cost,
                };
                let values: Vec<Vec<f64>> = outcomes
                    .iter()
                    .filter_map(|r| r.arms.get(a))
                    .map(|o| summarize(o, &ctx))
                    .collect();
                let estimates = (0..SUMMARY_METRICS.len())
                    .map(|m| Estimate::from_samples(column(&values, m)))
                    .collect();
                ArmResults {
                    name: arm.name.clone(),
                    values,
                    estimates,
                    paired: None,
                }
            })
            .collect();
        let baseline: Vec<Vec<f64>> = arms
            .get(plan.baseline)
            .map(|b| b.values.clone())
            .unwrap_or_default();
        for (a, arm) in arms.iter_mut().enumerate() {
            if a != plan.baseline {
                arm.paired = Some(
                    (0..SUMMARY_METRICS.len())
                        .map(|m| Estimate::paired(&column(&arm.values, m), &column(&baseline, m)))
                        .collect(),
                );
            }
        }
        RunResults {
            arms,
            baseline: plan.baseline,
            replicates: outcomes.iter().map(|r| r.replicate).collect(),
            places: PlaceOutputs::new(plan, outcomes),
        }
    }

    pub fn baseline_name(&self) -> &str {
        self.arms.get(self.baseline).map_or("", |a| a.name.as_str())
    }
}

/// One metric's values over replicates.
fn column(values: &[Vec<f64>], metric: usize) -> Vec<f64> {
    values.iter().map(|v| v[metric]).collect()
}
