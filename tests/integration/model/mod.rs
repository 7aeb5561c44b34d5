//! Tests of the reference model and the engine, below the command line: equivalence of the
//! shared-population engine with the straightforward one, determinism, common random numbers,
//! invariants (proptest), extreme values and the MODEL.md §1 patterns.

mod crn;
mod determinism;
mod docking;
mod equivalence;
mod events;
mod extensions;
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
        allocation: sprx::engine::Allocation::PerPcn,
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
        pcns: Plan::synthetic_pcns(1, &Layout::uniform(practices, per_practice)),
        arms,
        baseline: 0,
        engine: sprx::engine::Engine::default(),
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
        sprx::engine::runner::run_replicates(plan, &replicates, &|_| {}).expect("the plan runs");
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

/// How float sums over patients are compared: exactly (same plan, same engine), or to a relative
/// 1e-9 where the two runs add the same terms in a different order (shared vs dense storage).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum PatientSums {
    Exact,
    Close,
}

fn same_float(a: f64, b: f64, sums: PatientSums) -> bool {
    match sums {
        PatientSums::Exact => a.to_bits() == b.to_bits(),
        PatientSums::Close => (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0),
    }
}

/// Asserts two arm outcomes equal in every field. Each struct is destructured without `..`, so a
/// field added to `ArmOutcome`, `WeekRecord`, `PathwayTally` or `EvalTally` fails to compile here
/// until the comparison covers it.
pub fn assert_outcomes_equal(
    a: &sprx::engine::ArmOutcome,
    b: &sprx::engine::ArmOutcome,
    sums: PatientSums,
    what: &str,
) {
    let sprx::engine::ArmOutcome {
        weekly,
        pathway,
        eval,
    } = a;
    assert_eq!(
        weekly.len(),
        b.weekly.len(),
        "{what}: numbers of weeks differ"
    );
    assert!(!weekly.is_empty(), "{what}: no weeks recorded");
    for (week, (x, y)) in weekly.iter().zip(&b.weekly).enumerate() {
        assert_weeks_equal(x, y, sums, &format!("{what}, week {week}"));
    }
    assert_pathways_equal(pathway, &b.pathway, what);
    match (eval, &b.eval) {
        (Some(x), Some(y)) => assert_evals_equal(x, y, sums, what),
        (None, None) => {}
        _ => panic!("{what}: an evaluation on one side only"),
    }
}

/// Every field of a week's record; float sums over patients as `sums` says, the rest exactly.
pub fn assert_weeks_equal(
    a: &sprx::model::observe::WeekRecord,
    b: &sprx::model::observe::WeekRecord,
    sums: PatientSums,
    what: &str,
) {
    let sprx::model::observe::WeekRecord {
        medical,
        social,
        generated,
        offered,
        offered_inappropriate,
        declined,
        accepted,
        gave_up,
        first_intakes,
        sessions,
        bounced,
        connections,
        dropped_out,
        discharged_unconnected,
        no_capacity,
        lw_leavers,
        completed,
        asset_closures,
        asset_openings,
        patients,
        waiting,
        supported,
        connected,
        lw_active,
        lw_fte_active,
        lw_vacant,
        assets_open,
        asset_places,
        asset_occupied,
        practices,
        wellbeing_sum,
        low_wellbeing,
        activation_sum,
        lw_stress_sum,
        buy_in_sum,
        q_patients,
        q_wellbeing_sum,
        q_consults,
        q_accepted,
        q_connections,
        in_crisis,
        gp_delivered,
        gp_unmet,
        gp_backlog_start,
        gp_backlog,
        gp_capacity,
        route_offered,
        route_accepted,
        q_route_offered,
        q_route_accepted,
    } = a;
    macro_rules! exact {
        ($($f:ident),*) => {
            $( assert_eq!(*$f, b.$f, "{what}: {}", stringify!($f)); )*
        };
    }
    exact!(
        medical,
        social,
        generated,
        offered,
        offered_inappropriate,
        declined,
        accepted,
        gave_up,
        first_intakes,
        sessions,
        bounced,
        connections,
        dropped_out,
        discharged_unconnected,
        no_capacity,
        lw_leavers,
        completed,
        asset_closures,
        asset_openings,
        patients,
        waiting,
        supported,
        connected,
        lw_active,
        lw_vacant,
        assets_open,
        asset_places,
        asset_occupied,
        practices,
        low_wellbeing,
        q_patients,
        q_consults,
        q_accepted,
        q_connections,
        in_crisis,
        route_offered,
        route_accepted,
        q_route_offered,
        q_route_accepted
    );
    // GP access is worked out per practice in practice order by either engine: exact.
    for (name, x, y) in [
        ("gp_delivered", *gp_delivered, b.gp_delivered),
        ("gp_unmet", *gp_unmet, b.gp_unmet),
        ("gp_backlog_start", *gp_backlog_start, b.gp_backlog_start),
        ("gp_backlog", *gp_backlog, b.gp_backlog),
        ("gp_capacity", *gp_capacity, b.gp_capacity),
    ] {
        assert_eq!(x.to_bits(), y.to_bits(), "{what}: {name} {x} vs {y}");
    }
    // Link-worker and practice sums are formed in index order by either engine: exact.
    assert_eq!(
        lw_fte_active.to_bits(),
        b.lw_fte_active.to_bits(),
        "{what}: lw_fte_active"
    );
    assert_eq!(
        lw_stress_sum.to_bits(),
        b.lw_stress_sum.to_bits(),
        "{what}: lw_stress_sum"
    );
    assert_eq!(
        buy_in_sum.to_bits(),
        b.buy_in_sum.to_bits(),
        "{what}: buy_in_sum"
    );
    // Sums over patients.
    let floats = [
        ("wellbeing_sum", *wellbeing_sum, b.wellbeing_sum),
        ("activation_sum", *activation_sum, b.activation_sum),
    ];
    let quintiles = (0..5).map(|q| ("q_wellbeing_sum", q_wellbeing_sum[q], b.q_wellbeing_sum[q]));
    for (name, x, y) in floats.into_iter().chain(quintiles) {
        assert!(same_float(x, y, sums), "{what}: {name} {x} vs {y}");
    }
}

/// Every field of the pathway tally, exactly (the wait histograms included).
pub fn assert_pathways_equal(
    a: &sprx::model::observe::PathwayTally,
    b: &sprx::model::observe::PathwayTally,
    what: &str,
) {
    let sprx::model::observe::PathwayTally {
        accepted,
        reached,
        bounced,
        gave_up,
        dropped_out,
        connected,
        completed,
        asset_closed,
        discharged_unconnected,
        pending,
        contacts,
        contacted_clients,
        waits,
        wait_sum,
    } = a;
    macro_rules! exact {
        ($($f:ident),*) => {
            $( assert_eq!(*$f, b.$f, "{what}: pathway {}", stringify!($f)); )*
        };
    }
    exact!(
        accepted,
        reached,
        bounced,
        gave_up,
        dropped_out,
        connected,
        completed,
        asset_closed,
        discharged_unconnected,
        pending,
        contacts,
        contacted_clients,
        wait_sum
    );
    assert!(*waits == b.waits, "{what}: pathway wait histograms differ");
}

/// Every field of the evaluation tally: counts exactly, wellbeing sums as `sums` says.
pub fn assert_evals_equal(
    a: &sprx::model::observe::EvalTally,
    b: &sprx::model::observe::EvalTally,
    sums: PatientSums,
    what: &str,
) {
    let sprx::model::observe::EvalTally {
        cohort,
        consults_before,
        consults_after,
        twin_consults_before,
        twin_consults_after,
        wellbeing_before,
        wellbeing_after,
        twin_wellbeing_before,
        twin_wellbeing_after,
        in_crisis,
        n_recent_sum,
        n_recent_known,
        followup,
        followup_wellbeing_start,
        followup_wellbeing_end,
        twin_followup_wellbeing_start,
        twin_followup_wellbeing_end,
    } = a;
    macro_rules! exact {
        ($($f:ident),*) => {
            $( assert_eq!(*$f, b.$f, "{what}: eval {}", stringify!($f)); )*
        };
    }
    exact!(
        cohort,
        consults_before,
        consults_after,
        twin_consults_before,
        twin_consults_after,
        in_crisis,
        n_recent_sum,
        n_recent_known,
        followup
    );
    for (name, x, y) in [
        ("wellbeing_before", *wellbeing_before, b.wellbeing_before),
        ("wellbeing_after", *wellbeing_after, b.wellbeing_after),
        (
            "twin_wellbeing_before",
            *twin_wellbeing_before,
            b.twin_wellbeing_before,
        ),
        (
            "twin_wellbeing_after",
            *twin_wellbeing_after,
            b.twin_wellbeing_after,
        ),
        (
            "followup_wellbeing_start",
            *followup_wellbeing_start,
            b.followup_wellbeing_start,
        ),
        (
            "followup_wellbeing_end",
            *followup_wellbeing_end,
            b.followup_wellbeing_end,
        ),
        (
            "twin_followup_wellbeing_start",
            *twin_followup_wellbeing_start,
            b.twin_followup_wellbeing_start,
        ),
        (
            "twin_followup_wellbeing_end",
            *twin_followup_wellbeing_end,
            b.twin_followup_wellbeing_end,
        ),
    ] {
        assert!(same_float(x, y, sums), "{what}: eval {name} {x} vs {y}");
    }
}
