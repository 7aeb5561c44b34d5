//! Invariants, checked after every week of randomly parameterised runs (proptest): patients are
//! conserved across pathway states; caseloads, queues and asset places never go negative or over
//! cap; wellbeing stays in [14, 70]; activation, trust, knowledge and buy-in stay in [0, 1]; and
//! every probability the model forms stays in [0, 1].

use proptest::prelude::*;
use sprx::engine::replicate::run_pcn_observed;
use sprx::model::asset::{attendance_probability, closure_probability, opening_probability};
use sprx::model::link_worker::{LinkWorker, readiness};
use sprx::model::patient::{NO_REFERRAL, Pathway, Patient};
use sprx::model::referral::{acceptance_probability, give_up_probability};
use sprx::params::{Params, Preset, REGISTRY};

use super::{arm, small};

/// A value inside a parameter's range, at a unit-interval position.
fn at(name: &str, u: f64) -> f64 {
    let def = sprx::params::find(name).expect("registered");
    let v = def.min + u * (def.max - def.min);
    if def.kind == sprx::params::Kind::Integer {
        v.round()
    } else {
        v
    }
}

fn stressed_params(u: &[f64]) -> Params {
    let mut p = Params::default();
    Preset::Belonging.apply(&mut p);
    p.buy_in0 = at("buy_in0", u[0]);
    p.inappropriate = at("inappropriate", u[1]);
    p.trust0 = at("trust0", u[2]);
    p.lw_per_pcn = (u[3] * 6.0).round() as u32;
    p.caseload_max = 1 + (u[4] * 60.0) as u32;
    p.admin_share = at("admin_share", u[5]);
    p.turnover_base = u[6] * 0.05;
    p.vacancy_weeks = (u[7] * 20.0) as u32;
    p.close_rate = u[8] * 0.05;
    p.asset_capacity_min = 1 + (u[9] * 5.0) as u32;
    p.asset_capacity_max = p.asset_capacity_min + (u[10] * 10.0) as u32;
    p.sessions_max = 1 + (u[11] * 20.0) as u32;
    p.anchor_sessions_max = p.sessions_max + (u[12] * 10.0) as u32;
    p.anchor = u[13];
    p.sigma_w = at("sigma_w", u[14]);
    p.stress_up = u[15] * 2.0;
    p.readiness_scale = u[16];
    p.cooldown_weeks = (u[17] * 30.0) as u32;
    p
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn invariants_hold_every_week(u in proptest::collection::vec(0.0f64..=1.0, 18), seed in any::<u64>()) {
        let params = stressed_params(&u);
        prop_assume!(params.check_consistency().is_ok());
        let arms = vec![
            arm("no_sp", Preset::NoSp, |_| {}),
            sprx::engine::ArmPlan { name: "stressed".into(), service: true, params },
        ];
        let mut plan = small(arms, 1);
        plan.seed = seed;
        plan.weeks = 60;
        plan.warmup_weeks = 4;
        plan.layout.patients_per_practice = 600;
        let mut failure = None;
        let outcomes = run_pcn_observed(&plan, 0, 0, &mut |week, population, pcns| {
            if failure.is_some() {
                return;
            }
            let checks = std::iter::once(population.check_invariants())
                .chain(pcns.iter().map(|p| p.check_invariants()));
            for check in checks {
                if let Err(e) = check {
                    failure = Some(format!("week {week}: {e}"));
                }
            }
        }).expect("runs");
        prop_assert!(failure.is_none(), "{}", failure.unwrap_or_default());
        // Every accepted referral is accounted for by exactly one outcome.
        let t = &outcomes[1].pathway;
        prop_assert_eq!(
            t.accepted,
            t.pending + t.gave_up + t.bounced + t.dropped_out + t.discharged_unconnected + t.connected
        );
    }

    #[test]
    fn probabilities_stay_in_the_unit_interval(
        slots in proptest::collection::vec(0.0f64..=1.0, REGISTRY.len()),
        state in proptest::collection::vec(0.0f64..=1.0, 4),
        stress in 0.0f64..1e6,
    ) {
        // Any parameter set within the registry's ranges.
        let mut p = Params::default();
        for (def, u) in REGISTRY.iter().zip(&slots) {
            let v = def.min + u * (def.max - def.min);
            let v = if def.kind == sprx::params::Kind::Integer { v.round() } else { v };
            (def.set)(&mut p, &vec![v; def.shape.slot_count()]);
        }
        let in_unit = |x: f64| (0.0..=1.0).contains(&x);
        let (trust, activation, capacity) = (state[0], state[1], state[2]);
        prop_assert!(in_unit(acceptance_probability(trust, &p)));
        prop_assert!(in_unit(give_up_probability(trust, &p)));
        prop_assert!(in_unit(attendance_probability(activation, &p)));
        prop_assert!(in_unit(closure_probability(state[3] < 0.5, &p)));
        for k in 0..6 {
            prop_assert!(in_unit(opening_probability(k, &p)));
        }
        let mut lw = LinkWorker::new(&p);
        lw.stress = stress;
        prop_assert!(in_unit(lw.turnover_probability(&p)));
        let patient = Patient {
            key: sprx::rng::Key::root(0),
            frailty: 1.0,
            p_med: 0.04,
            capacity,
            w_base: 50.0,
            wellbeing: 50.0,
            a0: activation,
            activation,
            trust,
            cooldown_until: 0,
            referral: NO_REFERRAL,
            q: 0,
            needs: 0,
            pathway: Pathway::Idle,
            attended: 0,
        };
        prop_assert!(in_unit(readiness(&patient, &p)));
    }
}
