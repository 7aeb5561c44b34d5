//! Same plan and seed ⇒ identical results whatever the thread count.

use sprx::engine::runner::{run_replicates, with_threads};

use super::{PatientSums, assert_outcomes_equal, default_arms, small};

#[test]
fn results_do_not_depend_on_the_thread_count() {
    let plan = small(default_arms(), 4);
    let reps: Vec<u32> = (0..4).collect();
    let run = |threads| {
        with_threads(Some(threads), || run_replicates(&plan, &reps, &|_| {}))
            .expect("pool starts")
            .expect("plan runs")
    };
    let one = run(1);
    let two = run(2);
    assert_eq!(one.len(), reps.len(), "1 thread: one outcome per replicate");
    assert_eq!(
        two.len(),
        reps.len(),
        "2 threads: one outcome per replicate"
    );
    for (a, b) in one.iter().zip(&two) {
        assert_eq!(a.replicate, b.replicate);
        assert_eq!(a.arms.len(), plan.arms.len());
        assert_eq!(b.arms.len(), plan.arms.len());
        for (arm, (x, y)) in a.arms.iter().zip(&b.arms).enumerate() {
            let what = format!("replicate {} arm {arm}", a.replicate);
            assert_outcomes_equal(x, y, PatientSums::Exact, &what);
        }
    }
}

#[test]
fn a_replicate_does_not_depend_on_which_other_replicates_run() {
    let plan = small(default_arms(), 3);
    let all = run_replicates(&plan, &[0, 1, 2], &|_| {}).expect("runs");
    let alone = run_replicates(&plan, &[2], &|_| {}).expect("runs");
    assert_eq!((all.len(), alone.len()), (3, 1));
    assert_eq!((all[2].replicate, alone[0].replicate), (2, 2));
    assert_eq!(all[2].arms.len(), alone[0].arms.len());
    for (arm, (x, y)) in all[2].arms.iter().zip(&alone[0].arms).enumerate() {
        assert_outcomes_equal(x, y, PatientSums::Exact, &format!("arm {arm}"));
    }
    assert_ne!(
        all[0].arms[3].weekly, all[1].arms[3].weekly,
        "replicates differ"
    );
}

/// Two unequal real-like PCNs, each with its own practices, mixes and stream label.
fn places_plan() -> sprx::engine::Plan {
    use sprx::engine::{PcnPlan, Plan};
    use sprx::model::pcn::Layout;
    let deprived = [0.5, 0.2, 0.15, 0.1, 0.05];
    let mut plan = small(default_arms(), 1);
    plan.weeks = 80;
    let pcn = |stream: u64, sizes: Vec<u32>, mix: [f64; 5], fte: f64| PcnPlan {
        stream,
        weighted_patients: f64::from(sizes.iter().sum::<u32>()),
        layout: Layout::new(sizes.clone(), Some(vec![mix; sizes.len()])),
        lw_fte_2022: Some(fte),
        identity: None,
    };
    plan.pcns = vec![
        pcn(0xA11CE, vec![1_200, 2_500], deprived, 1.5),
        pcn(0xB0B, vec![3_000], [0.2; 5], 0.6),
    ];
    assert_eq!(Plan::patients(&plan), 6_700);
    for arm in &mut plan.arms {
        arm.allocation = sprx::engine::Allocation::AsIs;
    }
    plan
}

#[test]
fn a_real_pcn_sees_the_same_draws_alone_or_among_others() {
    use sprx::engine::replicate::run_pcn;
    let both = places_plan();
    let mut alone = both.clone();
    alone.pcns.remove(0);
    let in_selection = run_pcn(&both, 0, 1).expect("runs");
    let by_itself = run_pcn(&alone, 0, 0).expect("runs");
    for (arm, (x, y)) in in_selection.iter().zip(&by_itself).enumerate() {
        assert_outcomes_equal(x, y, PatientSums::Exact, &format!("arm {arm}"));
    }
}

#[test]
fn unequal_pcns_merge_into_the_sum_of_their_own_runs() {
    use sprx::engine::replicate::run_pcn;
    let plan = places_plan();
    let merged = run_replicates(&plan, &[0], &|_| {})
        .expect("runs")
        .remove(0);
    let first = run_pcn(&plan, 0, 0).expect("runs");
    let second = run_pcn(&plan, 0, 1).expect("runs");
    for (arm, outcome) in merged.arms.iter().enumerate() {
        let week = &outcome.weekly[0];
        assert_eq!(week.patients, 6_700);
        let sum = first[arm].weekly[0].accepted + second[arm].weekly[0].accepted;
        assert_eq!(week.accepted, sum);
    }
    // as_is: 1.5 FTE is one whole and one half post; 0.6 FTE one fractional post.
    let service = &merged.arms[1].weekly[0];
    assert_eq!(service.lw_active + service.lw_vacant, 3);
    assert!((service.lw_fte_active - 2.1).abs() < 1e-9 || service.lw_vacant > 0);
}
