//! MODEL.md §9 (v1.1): frequent attenders and crises, GP appointment capacity, referral routes
//! beyond the GP. Each mechanism is off by default (the regression baseline pins that v1.0 is
//! unchanged); here: common random numbers with crises on, shared and dense storage agreeing
//! with every mechanism on, and the extreme values of each.

use sprx::engine::ArmOutcome;
use sprx::engine::replicate::{Storage, run_pcn_observed, run_pcn_with};
use sprx::model::observe::WeekRecord;
use sprx::params::{Params, Preset};

use super::{PatientSums, arm, assert_outcomes_equal, small};

/// Every §9 mechanism on, strongly enough to matter in a small plan.
fn all_on(p: &mut Params) {
    p.recency_gain = 0.5;
    p.crisis_rate = 0.01;
    p.gp_capacity_per_1000 = 2_400.0;
    p.self_referral = 0.01;
    p.agency_referral = 0.01;
}

fn run(arms: Vec<sprx::engine::ArmPlan>) -> Vec<ArmOutcome> {
    let plan = small(arms, 1);
    sprx::engine::replicate::run_pcn(&plan, 0, 0).expect("runs")
}

#[test]
fn a_crisis_history_is_the_same_in_every_arm() {
    let crises = |p: &mut Params| {
        p.crisis_rate = 0.02;
        p.recency_gain = 1.0;
    };
    let arms = vec![
        arm("no_sp", Preset::NoSp, crises),
        arm("belonging", Preset::Belonging, |p| {
            crises(p);
            p.buy_in0 = 0.3;
            p.self_referral = 0.02;
        }),
        arm("bolted_on", Preset::BoltedOn, |p| {
            crises(p);
            p.buy_in0 = 0.2;
            p.agency_referral = 0.05;
        }),
    ];
    let plan = small(arms, 1);
    let mut compared = 0u64;
    let mut ever_in_crisis = 0u64;
    run_pcn_observed(&plan, 0, 0, &mut |week, population, pcns| {
        for pcn in pcns {
            for (i, &slot) in pcn.slot_of.iter().enumerate() {
                if slot == u32::MAX {
                    continue;
                }
                let own = pcn.touched[slot as usize].crisis_left;
                let twin = population.twin(i).crisis_left;
                assert_eq!(
                    own, twin,
                    "week {week}, patient {i}: crisis differs from the twin"
                );
                compared += 1;
                ever_in_crisis += u64::from(own > 0);
            }
        }
    })
    .expect("runs");
    assert!(compared > 10_000, "few touched patient-weeks compared");
    assert!(ever_in_crisis > 100, "crises too rare to test");
}

#[test]
fn crises_are_counted_alike_in_every_arm_and_raise_social_consultations() {
    let on = |p: &mut Params| p.crisis_rate = 0.02;
    let outcomes = run(vec![
        arm("no_sp", Preset::NoSp, on),
        arm("belonging", Preset::Belonging, on),
        arm("no_sp_v1", Preset::NoSp, |_| {}),
    ]);
    let crisis: Vec<u64> = outcomes[0].weekly.iter().map(|w| w.in_crisis).collect();
    let same: Vec<u64> = outcomes[1].weekly.iter().map(|w| w.in_crisis).collect();
    assert_eq!(crisis, same);
    // Stationary share h·L/(1 + h·L), h = 0.02·m_crisis[q] (mean 1.06), L = 12: about 20%.
    let t = outcomes[0].totals();
    let share = t.in_crisis as f64 / t.patients as f64;
    assert!(share > 0.15 && share < 0.25, "share in crisis {share}");
    assert!(
        t.social > outcomes[2].totals().social,
        "crises add social consultations"
    );
    assert_eq!(outcomes[2].totals().in_crisis, 0);
}

#[test]
fn an_arm_without_link_workers_consults_exactly_like_no_sp_with_every_mechanism_on() {
    let outcomes = run(vec![
        arm("no_sp", Preset::NoSp, all_on),
        arm("no_link_workers", Preset::Belonging, |p| {
            all_on(p);
            p.lw_per_pcn = 0;
        }),
    ]);
    let (no_sp, none) = (&outcomes[0], &outcomes[1]);
    assert!(none.pathway.accepted > 0, "referrals were made");
    let t = none.totals();
    assert!(
        t.route_accepted[1] > 0 && t.route_accepted[2] > 0,
        "non-GP routes were used"
    );
    for (a, b) in no_sp.weekly.iter().zip(&none.weekly) {
        assert_eq!(
            (a.medical, a.social, a.generated, a.q_consults, a.in_crisis),
            (b.medical, b.social, b.generated, b.q_consults, b.in_crisis)
        );
        assert_eq!(
            (a.gp_delivered, a.gp_unmet, a.gp_backlog),
            (b.gp_delivered, b.gp_unmet, b.gp_backlog)
        );
    }
    // Nobody is helped, so follow-up wellbeing changes as the twins' does: no effect.
    let eval = none.eval.as_ref().expect("evaluated");
    assert!(eval.followup > 0);
    assert_eq!(
        eval.followup_wellbeing_start,
        eval.twin_followup_wellbeing_start
    );
    assert_eq!(
        eval.followup_wellbeing_end,
        eval.twin_followup_wellbeing_end
    );
}

#[test]
fn shared_and_dense_storage_agree_with_every_mechanism_on() {
    let arms = vec![
        arm("no_sp", Preset::NoSp, all_on),
        arm("belonging", Preset::Belonging, |p| {
            all_on(p);
            p.buy_in0 = 0.2;
            p.turnover_base = 0.01;
        }),
        arm("bolted_on", Preset::BoltedOn, |p| {
            all_on(p);
            p.agency_referral = 0.05;
        }),
    ];
    let plan = small(arms, 1);
    let shared = run_pcn_with(&plan, 0, 0, Storage::Shared, &mut |_, _, _| {}).expect("runs");
    let dense = run_pcn_with(&plan, 0, 0, Storage::Dense, &mut |_, _, _| {}).expect("runs");
    for (a, (s, d)) in shared.iter().zip(&dense).enumerate() {
        if a > 0 {
            let t = s.totals();
            assert!(t.route_accepted.iter().all(|&n| n > 0), "arm {a}: {t:?}");
            assert!(t.gp_unmet > 0.0, "arm {a}: capacity does not bind");
        }
        assert_outcomes_equal(s, d, PatientSums::Close, &format!("arm {a}"));
    }
}

/// The record without its GP access fields, to compare runs that differ only in capacity.
fn without_access(w: &WeekRecord) -> WeekRecord {
    WeekRecord {
        gp_delivered: 0.0,
        gp_unmet: 0.0,
        gp_backlog_start: 0.0,
        gp_backlog: 0.0,
        gp_capacity: 0.0,
        ..w.clone()
    }
}

#[test]
fn capacity_far_above_demand_leaves_no_backlog_and_delivers_the_demand() {
    let unlimited = run(vec![arm("belonging", Preset::Belonging, |_| {})]);
    let ample = run(vec![arm("belonging", Preset::Belonging, |p| {
        p.gp_capacity_per_1000 = 100_000.0;
    })]);
    for (u, a) in unlimited[0].weekly.iter().zip(&ample[0].weekly) {
        assert_eq!(
            without_access(u),
            without_access(a),
            "capacity changes no patient"
        );
        assert_eq!((u.gp_unmet, u.gp_backlog, u.gp_capacity), (0.0, 0.0, 0.0));
        assert_eq!(
            u.gp_delivered,
            u.consults() as f64,
            "unlimited: delivered = demand"
        );
        assert_eq!(
            a.gp_delivered,
            a.consults() as f64,
            "ample: delivered = demand"
        );
        assert_eq!(
            (a.gp_unmet, a.gp_backlog, a.gp_backlog_start),
            (0.0, 0.0, 0.0)
        );
        assert!(a.gp_capacity > 0.0);
    }
}

#[test]
fn binding_capacity_delivers_at_most_capacity_and_accounts_for_every_request() {
    let outcomes = run(vec![arm("fitting_in", Preset::FittingIn, |p| {
        p.gp_capacity_per_1000 = 2_000.0;
    })]);
    for w in &outcomes[0].weekly {
        assert!(w.gp_delivered <= w.gp_capacity + 1e-9);
        // Conservation: what came in (backlog + demand) is delivered, abandoned or carried.
        let balance =
            w.gp_backlog_start + w.consults() as f64 - (w.gp_delivered + w.gp_unmet + w.gp_backlog);
        assert!(balance.abs() < 1e-6, "{balance}");
    }
    let t = outcomes[0].totals();
    assert!(
        t.gp_unmet > 0.0 && t.gp_backlog_start > 0.0,
        "capacity binds"
    );
    // The warm-up already filled the backlog: week 0 starts with one.
    assert!(outcomes[0].weekly[0].gp_backlog_start > 0.0);
}

#[test]
fn self_referrals_skip_the_answer_and_declined_agency_referrals_cool_down() {
    let outcomes = run(vec![
        arm("self", Preset::Belonging, |p| {
            // No GP route: no buy-in, and no feedback to raise it.
            p.buy_in0 = 0.0;
            p.feedback = 0.0;
            p.self_referral = 0.05;
        }),
        arm("agency_declined", Preset::Belonging, |p| {
            p.buy_in0 = 0.0;
            p.feedback = 0.0;
            p.agency_referral = 0.05;
            p.accept_base = 0.0;
            p.accept_trust = 0.0;
        }),
    ]);
    let s = outcomes[0].totals();
    assert!(s.route_offered[1] > 0);
    assert_eq!(
        s.route_offered[1], s.route_accepted[1],
        "a self-referral is accepted"
    );
    assert_eq!(
        (s.declined, s.route_offered[0], s.route_offered[2]),
        (0, 0, 0)
    );
    assert_eq!(s.offered_inappropriate, 0);
    let a = outcomes[1].totals();
    assert!(a.route_offered[2] > 0);
    assert_eq!((a.accepted, a.declined), (0, a.route_offered[2]));
    // A declined patient is in cooldown for 26 weeks: over 160 weeks, no one is referred
    // more than ⌈160/26⌉ = 7 times; and quintile counts add up to the totals.
    for t in [&s, &a] {
        for r in 0..3 {
            assert_eq!(t.q_route_offered[r].iter().sum::<u64>(), t.route_offered[r]);
            assert_eq!(
                t.q_route_accepted[r].iter().sum::<u64>(),
                t.route_accepted[r]
            );
        }
        assert_eq!(t.route_offered.iter().sum::<u64>(), t.offered);
        assert_eq!(t.route_accepted.iter().sum::<u64>(), t.accepted);
    }
    assert!(a.route_offered[2] < 7 * small(Vec::new(), 1).patients());
}

#[test]
fn zero_recency_gain_and_crisis_rate_are_v1() {
    // Setting the §9.1 switches to 0 explicitly changes nothing, draw for draw.
    let v1 = run(vec![
        arm("no_sp", Preset::NoSp, |_| {}),
        arm("fitting_in", Preset::FittingIn, |_| {}),
    ]);
    let zero = run(vec![
        arm("no_sp", Preset::NoSp, |p| p.crisis_rate = 0.0),
        arm("fitting_in", Preset::FittingIn, |p| {
            p.recency_gain = 0.0;
            p.crisis_rate = 0.0;
            p.crisis_penalty = 20.0;
            p.crisis_uplift = 0.5;
        }),
    ]);
    for (a, (x, y)) in v1.iter().zip(&zero).enumerate() {
        assert_outcomes_equal(x, y, PatientSums::Exact, &format!("arm {a}"));
    }
}

#[test]
fn frequent_attenders_are_referred_with_more_recent_social_consultations() {
    // The arms share one population, which keeps the n_recent history because one of them
    // reads it; the v1 arm does not report it.
    let outcomes = run(vec![
        arm("no_sp", Preset::NoSp, |_| {}),
        arm("v1", Preset::FittingIn, |_| {}),
        arm("recency", Preset::FittingIn, |p| p.recency_gain = 1.0),
        arm("tiny_gain", Preset::FittingIn, |p| p.recency_gain = 1e-9),
    ]);
    let v1_eval = outcomes[1].eval.as_ref().expect("evaluated");
    assert_eq!((v1_eval.n_recent_known, v1_eval.n_recent_sum), (0, 0));
    let mean = |o: &ArmOutcome| {
        let e = o.eval.as_ref().expect("evaluated");
        assert_eq!(e.n_recent_known, e.cohort);
        e.n_recent_sum as f64 / e.cohort as f64
    };
    let (v1, recency) = (mean(&outcomes[3]), mean(&outcomes[2]));
    assert!(recency > v1, "n_recent at referral {recency} vs {v1}");
    assert!(outcomes[2].totals().offered > outcomes[1].totals().offered);
}

#[test]
fn traces_show_crises_of_fixed_length_and_the_route_of_each_offer() {
    use sprx::engine::replicate::run_pcn_following;
    use sprx::model::observe::EventKind;
    use sprx::model::referral::Route;
    let arms = vec![
        arm("no_sp", Preset::NoSp, all_on),
        arm("belonging", Preset::Belonging, |p| {
            all_on(p);
            p.crisis_weeks = 9;
        }),
    ];
    // Crises are population-stage: the arms differ in crisis_weeks, so each has its own.
    let plan = small(arms, 1);
    let everyone: Vec<u32> = (0..plan.patients() as u32).collect();
    let (outcomes, logs) =
        run_pcn_following(&plan, 0, 0, &everyone, &mut |_, _, _| {}).expect("runs");
    let Some((own, _)) = logs[1].as_ref() else {
        panic!("no events kept");
    };
    let mut started: std::collections::HashMap<u32, i32> = Default::default();
    let mut crises = 0;
    let mut by_route = [0u64; 3];
    for e in own.events() {
        match e.kind {
            EventKind::CrisisStarts { weeks } => {
                assert_eq!(weeks, 9);
                assert!(
                    started.insert(e.patient, e.week).is_none(),
                    "crisis within a crisis"
                );
            }
            EventKind::CrisisEnds => {
                // A crisis that began in the warm-up or before the trace ends without a start.
                if let Some(start) = started.remove(&e.patient) {
                    assert_eq!(e.week - start, 9, "patient {}", e.patient);
                    crises += 1;
                }
            }
            EventKind::Offered { route, .. } => {
                by_route[route as usize] += 1;
                if route != Route::Gp {
                    assert!(!matches!(
                        e.kind,
                        EventKind::Offered {
                            inappropriate: true,
                            ..
                        }
                    ));
                }
            }
            _ => {}
        }
    }
    assert!(crises > 20, "{crises} complete crises");
    assert_eq!(by_route, outcomes[1].totals().route_offered);
    assert!(by_route.iter().all(|&n| n > 0), "{by_route:?}");
}
