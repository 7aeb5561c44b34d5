//! Invariants, checked after every week of randomly parameterised runs (proptest): patients are
//! conserved across pathway states; caseloads, queues and asset places never go negative or over
//! cap; wellbeing stays in [14, 70]; activation, trust, knowledge and buy-in stay in [0, 1].
//!
//! And every probability of MODEL.md, checked where the model forms it, before any clamp, over
//! the whole of the parameter registry's valid ranges and every valid state (proptest):
//!
//! - within [0, 1] by construction, so the clamp is never needed: the GP's offers (§6.4),
//!   giving up while waiting (§6.4), session drop-out, uncovered needs, uptake (readiness) and
//!   the anchor (§6.5), need resolution without an asset (§6.1), the initial need prevalence
//!   (§5), and every parameter used as a probability;
//! - at least 0 but above 1 for some valid parameters or states, where MODEL.md §3's "all
//!   probabilities are clamped to [0, 1]" is part of the rule: the consultation probabilities
//!   (§6.3, capped at `consult_p_max`), need onset and boosted resolution (§6.1), attendance,
//!   closure and opening of assets (§6.6) and link-worker turnover (§6.7). For each, a test
//!   below shows valid values beyond 1 and that the clamp then makes the event certain;
//! - acceptance (§6.4), `accept_base + accept_trust·(τ − 0.5)`, leaves [0, 1] on both sides
//!   (above 1 with the defaults once τ > 0.9): its clamp is tested at both ends.

use proptest::prelude::*;
use sprx::engine::replicate::run_pcn_observed;
use sprx::model::asset::{
    attendance_probability, closure_probability, opening_probability, raw_attendance_probability,
    raw_closure_probability, raw_opening_probability,
};
use sprx::model::link_worker::{
    LinkWorker, anchor_probability, raw_readiness, raw_session_dropout_probability,
    raw_uncover_probability, readiness,
};
use sprx::model::needs::{NeedTables, onset_hazard, raw_resolution_hazard, update_needs};
use sprx::model::patient::{Consultation, NO_REFERRAL, Pathway, Patient};
use sprx::model::referral::{
    accept_referral, acceptance_probability, give_up_probability, offer_referral,
    raw_acceptance_probability, raw_give_up_probability, raw_offer_probability,
};
use sprx::params::{Kind, NEED_COUNT, Params, Preset, REGISTRY};

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
            sprx::engine::ArmPlan { name: "stressed".into(), service: true, params, allocation: Default::default() },
        ];
        let mut plan = small(arms, 1);
        plan.seed = seed;
        plan.weeks = 60;
        plan.warmup_weeks = 4;
        plan.pcns = sprx::engine::Plan::synthetic_pcns(1, &sprx::model::pcn::Layout::uniform(2, 600));
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

}

/// Every parameter at a unit-interval position of its range, element by element, then repaired
/// to satisfy the rules that span several parameters.
fn registry_params(u: &[f64]) -> Params {
    let mut p = Params::default();
    let mut next = u.iter().copied();
    for def in REGISTRY {
        let slots: Vec<f64> = (0..def.shape.slot_count())
            .map(|_| {
                let v = def.min + next.next().expect("a position per slot") * (def.max - def.min);
                if def.kind == Kind::Integer {
                    v.round()
                } else {
                    v
                }
            })
            .collect();
        (def.set)(&mut p, &slots);
    }
    let total: f64 = p.deprivation_shares.iter().sum();
    p.deprivation_shares = if total > 0.0 {
        p.deprivation_shares.map(|s| s / total)
    } else {
        [0.2; 5]
    };
    if p.asset_capacity_min > p.asset_capacity_max {
        std::mem::swap(&mut p.asset_capacity_min, &mut p.asset_capacity_max);
    }
    p.anchor_sessions_max = p.anchor_sessions_max.max(p.sessions_max);
    if p.consult_activation_slope > p.consult_activation_intercept {
        std::mem::swap(
            &mut p.consult_activation_slope,
            &mut p.consult_activation_intercept,
        );
    }
    p
}

/// The number of parameter slots in the registry.
fn registry_slots() -> usize {
    REGISTRY.iter().map(|d| d.shape.slot_count()).sum()
}

/// A position in [0, 1], with the ends (where bounds are reached) drawn often.
fn position() -> impl Strategy<Value = f64> {
    prop_oneof![1 => Just(0.0), 1 => Just(1.0), 4 => 0.0f64..=1.0]
}

/// A patient in a given state.
#[allow(clippy::too_many_arguments)]
fn patient(
    p: &Params,
    q: usize,
    frailty: f64,
    capacity: f64,
    wellbeing: f64,
    activation: f64,
    trust: f64,
    needs: u8,
    pathway: Pathway,
) -> Patient {
    Patient {
        key: sprx::rng::Key::root(0),
        frailty,
        p_med: frailty * p.p_med0 * p.p_med_gradient[q],
        capacity,
        w_base: 50.0,
        wellbeing,
        a0: activation,
        activation,
        trust,
        cooldown_until: 0,
        referral: NO_REFERRAL,
        q: q as u8,
        needs,
        pathway,
        attended: 0,
        crisis_left: 0,
        recent_social: 0,
        next_change: [sprx::model::needs::NEVER; 6],
        next_crisis: sprx::model::needs::NEVER,
    }
}

fn in_unit(x: f64) -> bool {
    (0.0..=1.0).contains(&x)
}

/// Non-negative and finite: a probability before a clamp that MODEL.md intends.
fn non_negative(x: f64) -> bool {
    x.is_finite() && x >= 0.0
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn raw_probabilities_over_the_valid_ranges(
        u in proptest::collection::vec(position(), registry_slots()),
        state in proptest::collection::vec(position(), 5),
        frailty in prop_oneof![Just(0.0), 0.0f64..50.0],
        wellbeing in 14.0f64..=70.0,
        stress in prop_oneof![Just(0.0), 0.0f64..1e6],
        q in 0usize..5,
        needs in 0u8..64,
        category in 0usize..NEED_COUNT,
        supported in any::<bool>(),
    ) {
        let p = registry_params(&u);
        prop_assert!(
            p.check_consistency().is_ok(),
            "registry_params must repair every cross-parameter rule: {:?}",
            p.check_consistency()
        );
        let (trust, activation, capacity, buy_in) = (state[0], state[1], state[2], state[3]);
        let full = state[4] < 0.5;
        let pathway = if supported { Pathway::Supported } else { Pathway::Idle };
        let patient = patient(&p, q, frailty, capacity, wellbeing, activation, trust, needs, pathway);
        let tables = NeedTables::new(&p);

        // Within [0, 1] by construction.
        for c in [Consultation::Social, Consultation::Medical] {
            let raw = raw_offer_probability(c, buy_in, 0, &p);
            prop_assert!(in_unit(raw), "offer after {c:?}: {raw}");
        }
        let unit = [
            ("give up", raw_give_up_probability(trust, &p)),
            ("session drop-out", raw_session_dropout_probability(trust, &p)),
            ("uncover", raw_uncover_probability(&p)),
            ("anchor", anchor_probability(&p)),
            ("readiness", raw_readiness(&patient, &p)),
        ];
        for (what, raw) in unit {
            prop_assert!(in_unit(raw), "{what}: {raw}");
        }
        prop_assert_eq!(give_up_probability(trust, &p), unit[0].1);
        prop_assert_eq!(readiness(&patient, &p), unit[4].1);
        for k in 0..NEED_COUNT {
            let r = raw_resolution_hazard(&tables, &p, k, None, capacity);
            prop_assert!(r > 0.0 && r <= 1.0, "resolution of need {k}: {r}");
            let e = tables.equilibrium[q][k];
            prop_assert!(in_unit(e), "initial prevalence of need {k}: {e}");
        }

        // At least 0; above 1 the clamp (or the consultation cap) applies.
        let (p_med, p_any) = patient.raw_consult_probabilities(&p, &tables);
        prop_assert!(non_negative(p_med) && p_any >= p_med && p_any.is_finite(),
            "consultation: p_med {p_med}, p_med + p_soc {p_any}");
        for k in 0..NEED_COUNT {
            let h = onset_hazard(&p, k, q);
            prop_assert!(non_negative(h), "onset of need {k}: {h}");
            let r = raw_resolution_hazard(&tables, &p, k, Some(category), capacity);
            prop_assert!(non_negative(r) && r >= tables.resolve[k], "boosted resolution of need {k}: {r}");
            let o = raw_opening_probability(p.asset_count[k], &p);
            prop_assert!(non_negative(o), "opening of category {k}: {o}");
            prop_assert_eq!(opening_probability(p.asset_count[k], &p), o.min(1.0));
        }
        let attend = raw_attendance_probability(activation, &p);
        prop_assert!(non_negative(attend), "attendance: {attend}");
        prop_assert_eq!(attendance_probability(activation, &p), attend.min(1.0));
        let close = raw_closure_probability(full, &p);
        prop_assert!(non_negative(close), "closure: {close}");
        prop_assert_eq!(closure_probability(full, &p), close.min(1.0));
        let mut lw = LinkWorker::new(1.0, &p);
        lw.stress = stress;
        let leave = lw.raw_turnover_probability(&p);
        prop_assert!(non_negative(leave), "turnover: {leave}");
        prop_assert_eq!(lw.turnover_probability(&p), leave.min(1.0));

        // Acceptance leaves [0, 1] on either side, within accept_base ± accept_trust/2.
        let accept = raw_acceptance_probability(trust, &p);
        let half = p.accept_trust / 2.0;
        prop_assert!(accept.is_finite() && (p.accept_base - half..=p.accept_base + half).contains(&accept),
            "acceptance: {accept}");
        prop_assert_eq!(acceptance_probability(trust, &p), accept.clamp(0.0, 1.0));
    }
}

/// Parameters that MODEL.md uses as probabilities, or as factors of one, directly: their valid
/// ranges must lie in [0, 1], or the "by construction" cases above would need a clamp.
#[test]
fn parameters_used_as_probabilities_have_ranges_in_the_unit_interval() {
    let factors = [
        "buy_in0",
        "inappropriate",
        "trust0",
        "accept_base",
        "wait_dropout",
        "uncover",
        "mdt_share",
        "session_dropout",
        "readiness_scale",
        "readiness_activation_floor",
        "anchor",
        "consult_p_max",
        "holding_relief",
        "attend_prob_base",
        "attend_prob_activation",
        "funding_follows",
        "closure_return",
        "knowledge0",
        "feedback",
        "quality0",
    ];
    let by_unit = REGISTRY.iter().filter(|d| d.unit == "probability");
    let named = factors
        .iter()
        .map(|n| sprx::params::find(n).unwrap_or_else(|| panic!("{n}")));
    let mut checked = 0;
    for def in by_unit.chain(named) {
        assert!(
            def.min >= 0.0 && def.max <= 1.0,
            "{}: range {} is not within [0, 1]",
            def.name,
            def.range_text()
        );
        checked += 1;
    }
    assert!(
        checked > factors.len(),
        "no parameter has the unit \"probability\""
    );
}

/// Parameters with one or more fields changed from the defaults.
fn with(change: impl Fn(&mut Params)) -> Params {
    let mut p = Params::default();
    change(&mut p);
    assert!(p.check_consistency().is_ok(), "test parameters are valid");
    for def in REGISTRY {
        for v in (def.get)(&p) {
            def.check_element(v)
                .unwrap_or_else(|e| panic!("test parameters are in range: {}: {e}", def.name));
        }
    }
    p
}

/// The largest uniform a 32-bit need draw can give.
const LAST_U32: [u64; 3] = [u64::MAX; 3];

#[test]
fn consultation_cap_binds_above_consult_p_max() {
    let p = Params::default();
    let tables = NeedTables::new(&p);
    // A very frail patient: p_med is far above 1 before the cap.
    let frail = patient(&p, 0, 100.0, 0.5, 50.0, 0.0, 0.5, 0, Pathway::Idle);
    let (p_med, _) = frail.raw_consult_probabilities(&p, &tables);
    assert!(p_med > 1.0, "p_med {p_med}");
    let cap = p.consult_p_max;
    assert_eq!(
        frail.consultation(cap - 1e-9, &p, &tables),
        Consultation::Medical
    );
    assert_eq!(frail.consultation(cap, &p, &tables), Consultation::None);
    // p_med below the cap, p_med + p_soc above it: social up to the cap, none from it.
    let social = patient(&p, 2, 12.0, 0.5, 20.0, 0.0, 0.5, 0b111111, Pathway::Idle);
    let (p_med, p_any) = social.raw_consult_probabilities(&p, &tables);
    assert!(p_med < cap && p_any > 1.0, "p_med {p_med}, p_any {p_any}");
    assert_eq!(
        social.consultation(cap - 1e-9, &p, &tables),
        Consultation::Social
    );
    assert_eq!(social.consultation(cap, &p, &tables), Consultation::None);
    // With the cap at 1, a probability above 1 makes the consultation certain.
    let p1 = with(|p| p.consult_p_max = 1.0);
    let u_max = 1.0 - f64::EPSILON;
    assert_eq!(
        frail.consultation(u_max, &p1, &tables),
        Consultation::Medical
    );
}

#[test]
fn need_hazards_above_one_make_the_change_certain() {
    // Onset: m·π/((1 − π)·D) = 20·0.95/(0.05·1) = 380 with valid values.
    let p = with(|p| {
        p.need_prevalence = [0.95; NEED_COUNT];
        p.need_duration_weeks = [1.0; NEED_COUNT];
        p.need_deprivation_multiplier = [[20.0; 5]; NEED_COUNT];
    });
    assert!(onset_hazard(&p, 0, 0) > 1.0);
    let tables = NeedTables::new(&p);
    assert_eq!(
        update_needs(0, 0, LAST_U32, None, 0.5, &tables, &p),
        0b111111
    );
    // Resolution: 1/D + e·c + e_social = 0.5 + 1 + 1 for loneliness at a loneliness asset.
    let p = with(|p| {
        p.need_duration_weeks = [2.0; NEED_COUNT];
        p.asset_effect = [1.0; NEED_COUNT];
        p.e_social = 1.0;
    });
    let tables = NeedTables::new(&p);
    for k in 0..NEED_COUNT {
        assert!(raw_resolution_hazard(&tables, &p, k, Some(k), 1.0) > 1.0);
    }
    let all = 0b111111;
    // Without the asset, r = 0.5: the last uniform resolves nothing.
    assert_eq!(update_needs(all, 2, LAST_U32, None, 1.0, &tables, &p), all);
    // At a money asset (category 2): money resolves surely, and loneliness (e_social = 1).
    assert_eq!(
        update_needs(all, 2, LAST_U32, Some(2), 1.0, &tables, &p),
        all & !(1 << 2) & !1
    );
}

#[test]
fn acceptance_is_clamped_at_both_ends() {
    let p = Params::default();
    let trusting = patient(&p, 0, 1.0, 0.5, 50.0, 0.5, 1.0, 0, Pathway::Idle);
    // Defaults: 0.88 + 0.3·(1 − 0.5) = 1.03.
    assert!(raw_acceptance_probability(1.0, &p) > 1.0);
    assert_eq!(acceptance_probability(1.0, &p), 1.0);
    assert!(accept_referral(&trusting, 1.0 - f64::EPSILON, &p));
    let p = with(|p| {
        p.accept_base = 0.0;
        p.accept_trust = 2.0;
    });
    let wary = Patient {
        trust: 0.0,
        ..trusting
    };
    assert!(raw_acceptance_probability(0.0, &p) < 0.0);
    assert_eq!(acceptance_probability(0.0, &p), 0.0);
    assert!(!accept_referral(&wary, 0.0, &p));
}

#[test]
fn asset_and_turnover_probabilities_above_one_are_certain() {
    let p = with(|p| {
        p.attend_prob_base = 1.0;
        p.attend_prob_activation = 1.0;
        p.close_rate = 1.0;
        p.overload_factor = 100.0;
        p.asset_count = [1000; NEED_COUNT];
    });
    assert_eq!(raw_attendance_probability(1.0, &p), 2.0);
    assert_eq!(attendance_probability(1.0, &p), 1.0);
    assert_eq!(raw_closure_probability(true, &p), 101.0);
    assert_eq!(closure_probability(true, &p), 1.0);
    assert!(raw_opening_probability(p.asset_count[0], &p) > 1.0);
    assert_eq!(opening_probability(p.asset_count[0], &p), 1.0);
    // Funding that follows the referral removes the closure hazard entirely.
    let funded = with(|p| p.funding_follows = 1.0);
    assert_eq!(closure_probability(true, &funded), 0.0);
    let p = Params::default();
    let mut lw = LinkWorker::new(1.0, &p);
    lw.stress = 1e3;
    assert!(lw.raw_turnover_probability(&p) > 1.0);
    assert_eq!(lw.turnover_probability(&p), 1.0);
}

#[test]
fn offers_follow_buy_in_exactly() {
    let p = Params::default();
    // Certain at b = 1 (the largest uniform still below), impossible at b = 0.
    let u_max = 1.0 - f64::EPSILON;
    assert_eq!(
        offer_referral(Consultation::Social, 1.0, 0, u_max, &p),
        Some(false)
    );
    assert_eq!(offer_referral(Consultation::Social, 0.0, 0, 0.0, &p), None);
    let b = 0.5;
    let inappropriate = b * p.inappropriate;
    assert_eq!(
        raw_offer_probability(Consultation::Medical, b, 0, &p),
        inappropriate
    );
    assert_eq!(
        offer_referral(Consultation::Medical, b, 0, inappropriate * 0.999, &p),
        Some(true)
    );
    assert_eq!(
        offer_referral(Consultation::Medical, b, 0, inappropriate, &p),
        None
    );
    assert_eq!(offer_referral(Consultation::None, 1.0, 0, 0.0, &p), None);
}
