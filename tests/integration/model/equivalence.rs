//! The shared-population engine (arms copy a patient only when they first offer a referral)
//! gives the same results as the straightforward engine where every arm simulates every patient.

use sprx::engine::Engine;
use sprx::engine::replicate::{Storage, run_pcn_with};
use sprx::params::Preset;

use super::{PatientSums, arm, assert_outcomes_equal, small};

#[test]
fn shared_and_dense_storage_agree_week_by_week() {
    // High buy-in so that many patients are touched, and turnover so caseloads move.
    let arms = vec![
        arm("no_sp", Preset::NoSp, |_| {}),
        arm("belonging", Preset::Belonging, |p| {
            p.buy_in0 = 0.3;
            p.turnover_base = 0.01;
        }),
        arm("bolted_on", Preset::BoltedOn, |p| p.buy_in0 = 0.2),
    ];
    // Both engines: a touched patient must step exactly as its engine steps the population.
    for engine in Engine::ALL {
        let mut plan = small(arms.clone(), 1);
        plan.engine = engine;
        shared_equals_dense(&plan, engine.name());
    }
}

fn shared_equals_dense(plan: &sprx::engine::Plan, engine: &str) {
    let shared = run_pcn_with(plan, 0, 0, Storage::Shared, &mut |_, _, _| {}).expect("runs");
    let dense = run_pcn_with(plan, 0, 0, Storage::Dense, &mut |_, _, _| {}).expect("runs");
    assert_eq!(shared.len(), plan.arms.len(), "shared: one outcome per arm");
    assert_eq!(dense.len(), plan.arms.len(), "dense: one outcome per arm");
    for (a, (s, d)) in shared.iter().zip(&dense).enumerate() {
        assert_eq!(s.weekly.len(), plan.weeks as usize, "arm {a}: weeks");
        if a > 0 {
            assert!(s.pathway.accepted > 100, "arm {a} touched few patients");
            let cohort = s.eval.as_ref().map_or(0, |e| e.cohort);
            assert!(cohort > 0, "arm {a}: no evaluation cohort");
        }
        // Float sums over patients are formed in a different order; everything else must
        // match exactly.
        assert_outcomes_equal(
            s,
            d,
            PatientSums::Close,
            &format!("{engine} engine, arm {a}"),
        );
    }
}
