//! Referrals (MODEL.md §6.4): the GP's offer, the patient's acceptance, giving up while
//! waiting, and the record that follows each accepted referral to its outcome; the routes
//! beyond the GP, self-referral and referral by another agency (MODEL.md §9.3).

use super::needs::{NeedSet, STRUCTURAL};
use super::patient::{Consultation, Patient};
use crate::params::Params;

/// Who made a referral (MODEL.md §9.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Route {
    /// The GP, after a consultation (§6.4).
    Gp,
    /// The patient, who chose it: no acceptance draw.
    SelfReferral,
    /// Another agency (housing officer, job centre, social care), for a structural need.
    Agency,
}

impl Route {
    /// Every route, in output order.
    pub const ALL: [Route; 3] = [Route::Gp, Route::SelfReferral, Route::Agency];

    /// The route's name in outputs (`gp`, `self`, `agency`).
    pub fn name(self) -> &'static str {
        match self {
            Route::Gp => "gp",
            Route::SelfReferral => "self",
            Route::Agency => "agency",
        }
    }
}

/// How an accepted referral ended (or not yet).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    Pending,
    /// Gave up while waiting for a link worker.
    GaveUp,
    /// Inappropriate: sent back to the GP at assessment.
    Bounced,
    /// Dropped out during link-worker support.
    DroppedOut,
    /// Reached the session limit without a connection.
    DischargedUnconnected,
    /// Connected to an asset (the asset stay may still be running).
    Connected,
}

/// How a connection ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Attendance {
    NotConnected,
    Attending,
    Completed,
    AssetClosed,
}

/// One accepted referral, followed to its outcome.
#[derive(Clone, Debug)]
pub struct Referral {
    pub patient: u32,
    pub accepted_week: i32,
    pub inappropriate: bool,
    pub route: Route,
    /// The patient was in crisis in the week of acceptance (MODEL.md §9.1).
    pub in_crisis: bool,
    /// The patient's `n_recent` in the week of acceptance (MODEL.md §9.1), if the arm runs
    /// §9.1 (otherwise the history it is read from is not kept).
    pub n_recent: Option<u32>,
    /// The patient's first accepted referral: the one the evaluation follows (MODEL.md §7).
    pub first_of_patient: bool,
    /// Week of the first session with a link worker, if any.
    pub first_session_week: Option<i32>,
    /// Sessions held, across link workers.
    pub sessions: u32,
    pub outcome: Outcome,
    pub attendance: Attendance,
}

impl Referral {
    pub fn reached_link_worker(&self) -> bool {
        self.first_session_week.is_some()
    }
}

/// Probability of the GP's offer after a consultation (MODEL.md §6.4 and §9.1), before the
/// clamp: `b·(1 + recency_gain·n_recent)` after a social consultation,
/// `b·inappropriate·(1 + recency_gain·n_recent)` after a medical one, 0 otherwise. Within
/// [0, 1] for `b` and `inappropriate` in [0, 1] when `recency_gain` is 0 (v1.0); above 1 for a
/// frequent attender with a high gain, where the clamp is MODEL.md's `min(1, ·)`.
pub fn raw_offer_probability(
    consultation: Consultation,
    buy_in: f64,
    n_recent: u32,
    p: &Params,
) -> f64 {
    let b = buy_in * offer_share(consultation, p);
    // With recency_gain = 0 the factor is exactly 1, so v1.0's probabilities are unchanged.
    b * (1.0 + p.recency_gain * f64::from(n_recent))
}

/// The share of the GP's buy-in that makes an offer after each kind of consultation (MODEL.md
/// §6.4): all of it after a social consultation, `inappropriate` after a medical one, none
/// without a consultation. Read from a table rather than matched: the week's consultations
/// come social and medical in no order a processor can guess, and a wrong guess costs more
/// than the rest of the offer.
#[inline(always)]
fn offer_share(consultation: Consultation, p: &Params) -> f64 {
    [0.0, p.inappropriate, 1.0][consultation as usize]
}

/// The GP's offer after a consultation by an idle patient out of cooldown with `n_recent`
/// recent social consultations: w.p. `b` after a social consultation; w.p. `b·inappropriate`
/// (an inappropriate referral) after a medical one; both × `(1 + recency_gain·n_recent)`,
/// capped at 1. Returns `Some(inappropriate)` if an offer is made.
pub fn offer_referral(
    consultation: Consultation,
    buy_in: f64,
    n_recent: u32,
    u: f64,
    p: &Params,
) -> Option<bool> {
    // Without a consultation the probability is 0, and no uniform is below it.
    let offered = u < raw_offer_probability(consultation, buy_in, n_recent, p).clamp(0.0, 1.0);
    offered.then_some(consultation == Consultation::Medical)
}

/// Acceptance probability before the clamp: `accept_base + accept_trust·(τ − 0.5)`. It leaves
/// [0, 1] for valid parameters (with the defaults, above 1 once τ > 0.9), so MODEL.md §3's clamp
/// is part of the rule: acceptance is certain above 1 and impossible below 0.
pub fn raw_acceptance_probability(trust: f64, p: &Params) -> f64 {
    p.accept_base + p.accept_trust * (trust - 0.5)
}

/// Probability of a self-referral this week, `self_referral·τ·a` (MODEL.md §9.3): within
/// [0, 1] for values in their ranges.
pub fn self_referral_probability(trust: f64, activation: f64, p: &Params) -> f64 {
    (p.self_referral * trust * activation).clamp(0.0, 1.0)
}

/// Whether a referral route beyond the GP can refer the patient this week (MODEL.md §9.3): an
/// idle patient out of cooldown, with no GP consultation this week and a present need.
pub fn eligible_for_other_routes(patient: &Patient, consultation: Consultation, week: i32) -> bool {
    consultation == Consultation::None && patient.needs != 0 && patient.can_be_referred(week)
}

/// The route beyond the GP that refers an eligible patient this week, if any (MODEL.md §9.3),
/// for the patient's needs, trust `τ` and activation `a` in the arm: one uniform `u` decides
/// both, a self-referral below `p_self = self_referral·τ·a`, an agency referral (only with a
/// present structural need) in the next `agency_referral`.
pub fn other_route(
    needs: NeedSet,
    trust: f64,
    activation: f64,
    u: f64,
    p: &Params,
) -> Option<Route> {
    let p_self = self_referral_probability(trust, activation, p);
    if u < p_self {
        Some(Route::SelfReferral)
    } else if needs & STRUCTURAL != 0 && u < p_self + p.agency_referral {
        Some(Route::Agency)
    } else {
        None
    }
}

/// Probability that the patient accepts an offer: `accept_base + accept_trust·(τ − 0.5)`,
/// clamped to [0, 1].
pub fn acceptance_probability(trust: f64, p: &Params) -> f64 {
    raw_acceptance_probability(trust, p).clamp(0.0, 1.0)
}

/// The patient accepts the offer.
pub fn accept_referral(patient: &Patient, u: f64, p: &Params) -> bool {
    u < acceptance_probability(patient.trust, p)
}

/// Weekly probability that a waiting patient gives up, before the clamp: `wait_dropout·(1 − τ)`,
/// within [0, 1] for `wait_dropout` and `τ` in [0, 1].
pub fn raw_give_up_probability(trust: f64, p: &Params) -> f64 {
    p.wait_dropout * (1.0 - trust)
}

/// Weekly probability that a waiting patient gives up: `wait_dropout·(1 − τ)`.
pub fn give_up_probability(trust: f64, p: &Params) -> f64 {
    raw_give_up_probability(trust, p).clamp(0.0, 1.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::needs::{NeedTables, STRUCTURAL};
    use crate::model::patient::{Pathway, PatientDistributions};
    use crate::rng::Key;

    fn patient(needs: NeedSet) -> Patient {
        let p = Params::default();
        let tables = NeedTables::new(&p);
        let dist = PatientDistributions::new(&p).expect("default distributions");
        let mut pt = Patient::new(Key::root(5), &p, &tables, &dist, &dist.quintile_cdf);
        pt.needs = needs;
        pt
    }

    #[test]
    fn other_routes_need_an_idle_patient_out_of_cooldown_without_a_consultation_and_with_a_need() {
        let lonely = patient(1);
        assert!(eligible_for_other_routes(&lonely, Consultation::None, 0));
        assert!(!eligible_for_other_routes(&lonely, Consultation::Social, 0));
        assert!(!eligible_for_other_routes(
            &lonely,
            Consultation::Medical,
            0
        ));
        assert!(!eligible_for_other_routes(
            &patient(0),
            Consultation::None,
            0
        ));
        let mut cooling = patient(1);
        cooling.cooldown_until = 10;
        assert!(!eligible_for_other_routes(&cooling, Consultation::None, 9));
        assert!(eligible_for_other_routes(&cooling, Consultation::None, 10));
        let mut waiting = patient(1);
        waiting.pathway = Pathway::Waiting;
        assert!(!eligible_for_other_routes(&waiting, Consultation::None, 0));
    }

    #[test]
    fn one_uniform_decides_the_route_and_agencies_refer_only_structural_needs() {
        let p = Params {
            self_referral: 0.4,
            agency_referral: 0.3,
            ..Params::default()
        };
        // p_self = 0.4 · τ 0.5 · a 0.5 = 0.1; agency in [0.1, 0.4) with a structural need.
        let (trust, activation) = (0.5, 0.5);
        let route = |needs, u| other_route(needs, trust, activation, u, &p);
        assert_eq!(route(STRUCTURAL, 0.09), Some(Route::SelfReferral));
        assert_eq!(route(STRUCTURAL, 0.1), Some(Route::Agency));
        assert_eq!(route(STRUCTURAL, 0.39), Some(Route::Agency));
        assert_eq!(route(STRUCTURAL, 0.4), None);
        let lonely = 1;
        assert_eq!(route(lonely, 0.09), Some(Route::SelfReferral));
        assert_eq!(
            route(lonely, 0.2),
            None,
            "no agency referral without a structural need"
        );
        // Both routes off: nothing, whatever the draw.
        let off = Params::default();
        assert_eq!(other_route(STRUCTURAL, 1.0, 1.0, 0.0, &off), None);
    }

    #[test]
    fn frequent_attenders_are_offered_more_and_the_offer_is_capped_at_one() {
        let p = Params {
            recency_gain: 0.5,
            ..Params::default()
        };
        let b = 0.2;
        assert_eq!(raw_offer_probability(Consultation::Social, b, 0, &p), b);
        assert!((raw_offer_probability(Consultation::Social, b, 4, &p) - 0.6).abs() < 1e-12);
        let medical = raw_offer_probability(Consultation::Medical, b, 2, &p);
        assert!((medical - b * p.inappropriate * 2.0).abs() < 1e-12);
        // min(1, ·): certain for the largest uniform below 1.
        assert_eq!(
            offer_referral(Consultation::Social, b, 100, 1.0 - f64::EPSILON, &p),
            Some(false)
        );
        // Without the gain, v1.0's probability exactly.
        let off = Params::default();
        assert_eq!(raw_offer_probability(Consultation::Social, b, 9, &off), b);
    }

    #[test]
    fn each_kind_of_consultation_gets_its_share_of_the_offer() {
        let p = Params::default();
        let b = 0.3;
        assert_eq!(raw_offer_probability(Consultation::Social, b, 0, &p), b);
        assert_eq!(
            raw_offer_probability(Consultation::Medical, b, 0, &p),
            b * p.inappropriate
        );
        assert_eq!(raw_offer_probability(Consultation::None, b, 0, &p), 0.0);
        let u = 0.5 * b * p.inappropriate;
        assert_eq!(
            offer_referral(Consultation::Social, b, 0, u, &p),
            Some(false)
        );
        assert_eq!(
            offer_referral(Consultation::Medical, b, 0, u, &p),
            Some(true)
        );
        assert_eq!(offer_referral(Consultation::None, b, 0, 0.0, &p), None);
        // Above the medical share but below buy-in: only a social consultation is offered.
        let u = 0.5 * (b + b * p.inappropriate);
        assert_eq!(
            offer_referral(Consultation::Social, b, 0, u, &p),
            Some(false)
        );
        assert_eq!(offer_referral(Consultation::Medical, b, 0, u, &p), None);
    }
}
