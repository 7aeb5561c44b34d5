//! Referrals (MODEL.md §6.4): the GP's offer, the patient's acceptance, giving up while
//! waiting, and the record that follows each accepted referral to its outcome.

use super::patient::{Consultation, Patient};
use crate::params::Params;

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

/// Probability of the GP's offer after a consultation (MODEL.md §6.4), before the clamp:
/// `b` after a social consultation, `b·inappropriate` after a medical one, 0 otherwise. Within
/// [0, 1] for `b` and `inappropriate` in [0, 1], so the clamp is never needed.
pub fn raw_offer_probability(consultation: Consultation, buy_in: f64, p: &Params) -> f64 {
    match consultation {
        Consultation::Social => buy_in,
        Consultation::Medical => buy_in * p.inappropriate,
        Consultation::None => 0.0,
    }
}

/// The GP's offer after a consultation by an idle patient out of cooldown: w.p. `b` after a
/// social consultation; w.p. `b·inappropriate` (an inappropriate referral) after a medical one.
/// Returns `Some(inappropriate)` if an offer is made.
pub fn offer_referral(consultation: Consultation, buy_in: f64, u: f64, p: &Params) -> Option<bool> {
    let offered = u < raw_offer_probability(consultation, buy_in, p).clamp(0.0, 1.0);
    match consultation {
        Consultation::Social if offered => Some(false),
        Consultation::Medical if offered => Some(true),
        _ => None,
    }
}

/// Acceptance probability before the clamp: `accept_base + accept_trust·(τ − 0.5)`. It leaves
/// [0, 1] for valid parameters (with the defaults, above 1 once τ > 0.9), so MODEL.md §3's clamp
/// is part of the rule: acceptance is certain above 1 and impossible below 0.
pub fn raw_acceptance_probability(trust: f64, p: &Params) -> f64 {
    p.accept_base + p.accept_trust * (trust - 0.5)
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
