//! Common random numbers: arms run with the same seed share the population and its exogenous
//! draws, so their difference is the policy's effect, not luck.

use sprx::metrics::stats::{Estimate, t_975};
use sprx::params::Preset;

use super::{arm, default_arms, metric, run, small};

#[test]
fn an_arm_without_link_workers_consults_exactly_like_no_sp() {
    // Referrals are offered and accepted, but nobody is ever seen: consultations cannot change.
    let arms = vec![
        arm("no_sp", Preset::NoSp, |_| {}),
        arm("no_link_workers", Preset::Belonging, |p| p.lw_per_pcn = 0),
    ];
    let plan = small(arms, 2);
    let outcomes =
        sprx::engine::runner::run_replicates(&plan, &[0, 1], &|_| {}).expect("plan runs");
    assert_eq!(outcomes.len(), 2, "one outcome per replicate");
    for r in &outcomes {
        let (no_sp, none) = (&r.arms[0], &r.arms[1]);
        assert!(none.pathway.accepted > 0, "referrals were made");
        assert_eq!(no_sp.weekly.len(), plan.weeks as usize, "no_sp: weeks");
        assert_eq!(
            none.weekly.len(),
            plan.weeks as usize,
            "no_link_workers: weeks"
        );
        for (a, b) in no_sp.weekly.iter().zip(&none.weekly) {
            assert_eq!(
                (a.medical, a.social, a.generated),
                (b.medical, b.social, b.generated)
            );
            assert_eq!(a.q_consults, b.q_consults);
        }
    }
}

#[test]
fn paired_intervals_are_narrower_than_unpaired_ones() {
    let plan = small(default_arms(), 10);
    let results = run(&plan);
    let name = "gp_consults_per_1000_per_year";
    let base = metric(&results, 0, name);
    for a in 1..plan.arms.len() {
        let arm = metric(&results, a, name);
        let paired = Estimate::paired(&arm, &base).half_width().expect("defined");
        let (ea, eb) = (
            Estimate::from_samples(arm.clone()),
            Estimate::from_samples(base.clone()),
        );
        let (sa, sb) = (ea.se().expect("se"), eb.se().expect("se"));
        let unpaired = t_975(arm.len() - 1) * (sa * sa + sb * sb).sqrt();
        assert!(
            paired < unpaired / 2.0,
            "{}: paired ±{paired:.3} vs unpaired ±{unpaired:.3}",
            plan.arms[a].name
        );
    }
}
