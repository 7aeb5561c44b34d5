//! The shared-population engine (arms copy a patient only when they first offer a referral)
//! gives the same results as the straightforward engine where every arm simulates every patient.

use sprx::engine::replicate::{Storage, run_pcn_with};
use sprx::params::Preset;

use super::{arm, small};

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0)
}

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
    let plan = small(arms, 1);
    let shared = run_pcn_with(&plan, 0, 0, Storage::Shared, &mut |_, _, _| {}).expect("runs");
    let dense = run_pcn_with(&plan, 0, 0, Storage::Dense, &mut |_, _, _| {}).expect("runs");
    for (a, (s, d)) in shared.iter().zip(&dense).enumerate() {
        assert!(
            s.pathway.accepted > 100 || a == 0,
            "arm {a} touched few patients"
        );
        for (week, (ws, wd)) in s.weekly.iter().zip(&d.weekly).enumerate() {
            let (mut ws, mut wd) = (ws.clone(), wd.clone());
            // Float sums are formed in a different order; everything else must match exactly.
            assert!(
                close(ws.wellbeing_sum, wd.wellbeing_sum),
                "arm {a} week {week}"
            );
            assert!(
                close(ws.activation_sum, wd.activation_sum),
                "arm {a} week {week}"
            );
            for q in 0..5 {
                assert!(close(ws.q_wellbeing_sum[q], wd.q_wellbeing_sum[q]));
            }
            ws.wellbeing_sum = 0.0;
            wd.wellbeing_sum = 0.0;
            ws.activation_sum = 0.0;
            wd.activation_sum = 0.0;
            ws.q_wellbeing_sum = [0.0; 5];
            wd.q_wellbeing_sum = [0.0; 5];
            assert_eq!(ws, wd, "arm {a} week {week}");
        }
        assert_eq!(s.pathway.accepted, d.pathway.accepted);
        assert_eq!(s.pathway.connected, d.pathway.connected);
        assert_eq!(s.pathway.wait_sum, d.pathway.wait_sum);
        match (&s.eval, &d.eval) {
            (Some(se), Some(de)) => {
                assert!(se.cohort > 0);
                assert_eq!(
                    (se.cohort, se.consults_before, se.consults_after),
                    (de.cohort, de.consults_before, de.consults_after)
                );
                assert_eq!(se.twin_consults_after, de.twin_consults_after);
                assert!(close(se.wellbeing_after, de.wellbeing_after));
            }
            (None, None) => assert_eq!(a, 0),
            _ => panic!("arm {a}: evaluation present in one storage only"),
        }
    }
}
