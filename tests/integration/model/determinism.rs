//! Same plan and seed ⇒ identical results whatever the thread count.

use sprx::engine::runner::{run_replicates, with_threads};

use super::{PatientSums, assert_outcomes_equal, default_arms, small};

#[test]
fn results_do_not_depend_on_the_thread_count() {
    let plan = small(default_arms(), 4);
    let reps: Vec<u32> = (0..4).collect();
    let run = |threads| {
        with_threads(Some(threads), || run_replicates(&plan, &reps, &|| {}))
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
    let all = run_replicates(&plan, &[0, 1, 2], &|| {}).expect("runs");
    let alone = run_replicates(&plan, &[2], &|| {}).expect("runs");
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
