//! Same plan and seed ⇒ identical results whatever the thread count.

use sprx::engine::runner::{run_replicates, with_threads};

use super::{default_arms, small};

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
    for (a, b) in one.iter().zip(&two) {
        assert_eq!(a.replicate, b.replicate);
        for (x, y) in a.arms.iter().zip(&b.arms) {
            assert_eq!(x.weekly, y.weekly);
            assert_eq!(x.eval, y.eval);
            assert_eq!(x.pathway.wait_sum, y.pathway.wait_sum);
        }
    }
}

#[test]
fn a_replicate_does_not_depend_on_which_other_replicates_run() {
    let plan = small(default_arms(), 3);
    let all = run_replicates(&plan, &[0, 1, 2], &|| {}).expect("runs");
    let alone = run_replicates(&plan, &[2], &|| {}).expect("runs");
    assert_eq!(all[2].arms[3].weekly, alone[0].arms[3].weekly);
    assert_ne!(
        all[0].arms[3].weekly, all[1].arms[3].weekly,
        "replicates differ"
    );
}
