//! Tests of the reference model and the engine, below the command line: equivalence of the
//! shared-population engine with the straightforward one, determinism, common random numbers,
//! invariants (proptest), extreme values and the MODEL.md §1 patterns.

mod crn;
mod determinism;
mod equivalence;
mod extremes;
mod invariants;
mod patterns;

use sprx::engine::{ArmPlan, Plan};
use sprx::metrics::summary::{MetricContext, metric_index, summarize};
use sprx::model::pcn::Layout;
use sprx::params::{Params, Preset};

/// An arm from a preset, with changes on top.
pub fn arm(name: &str, preset: Preset, change: impl Fn(&mut Params)) -> ArmPlan {
    let mut params = Params::default();
    preset.apply(&mut params);
    change(&mut params);
    ArmPlan {
        name: name.to_string(),
        service: preset.has_service(),
        params,
    }
}

/// The four default arms.
pub fn default_arms() -> Vec<ArmPlan> {
    Preset::ALL
        .iter()
        .map(|&p| arm(p.name(), p, |_| {}))
        .collect()
}

/// A plan over `arms`; the first arm is the baseline.
pub fn plan(
    arms: Vec<ArmPlan>,
    replicates: u32,
    weeks: u32,
    practices: u32,
    per_practice: u32,
) -> Plan {
    Plan {
        seed: 20_240_101,
        replicates,
        weeks,
        warmup_weeks: 52,
        pcns: 1,
        layout: Layout {
            practices,
            patients_per_practice: per_practice,
        },
        arms,
        baseline: 0,
    }
}

/// A small plan for fast tests.
pub fn small(arms: Vec<ArmPlan>, replicates: u32) -> Plan {
    plan(arms, replicates, 160, 2, 2_000)
}

/// The default scenario's population and horizon with fewer replicates.
pub fn reference(replicates: u32) -> Plan {
    plan(default_arms(), replicates, 260, 5, 9_600)
}

/// Runs a plan; per replicate, per arm, every summary metric.
pub fn run(plan: &Plan) -> Vec<Vec<Vec<f64>>> {
    let replicates: Vec<u32> = (0..plan.replicates).collect();
    let outcomes =
        sprx::engine::runner::run_replicates(plan, &replicates, &|| {}).expect("the plan runs");
    outcomes
        .iter()
        .map(|r| {
            r.arms
                .iter()
                .zip(&plan.arms)
                .map(|(o, a)| summarize(o, &context(plan, a)))
                .collect()
        })
        .collect()
}

pub fn context(plan: &Plan, arm: &ArmPlan) -> MetricContext {
    MetricContext {
        patients: plan.patients(),
        weeks: plan.weeks,
        gp_cost: arm.params.gp_cost,
        lw_cost: arm.params.lw_cost,
    }
}

/// One metric of one arm across replicates.
pub fn metric(results: &[Vec<Vec<f64>>], arm: usize, name: &str) -> Vec<f64> {
    let m = metric_index(name).unwrap_or_else(|| panic!("unknown metric {name}"));
    results.iter().map(|r| r[arm][m]).collect()
}
