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

/// The GP's offer after a consultation by an idle patient out of cooldown: w.p. `b` after a
/// social consultation; w.p. `b·inappropriate` (an inappropriate referral) after a medical one.
/// Returns `Some(inappropriate)` if an offer is made.
pub fn offer_referral(consultation: Consultation, buy_in: f64, u: f64, p: &Params) -> Option<bool> {
    match consultation {
        Consultation::Social if u < buy_in.clamp(0.0, 1.0) => Some(false),
        Consultation::Medical if u < (buy_in * p.inappropriate).clamp(0.0, 1.0) => Some(true),
        _ => None,
    }
}

/// Probability that the patient accepts an offer: `accept_base + accept_trust·(τ − 0.5)`.
pub fn acceptance_probability(trust: f64, p: &Params) -> f64 {
    (p.accept_base + p.accept_trust * (trust - 0.5)).clamp(0.0, 1.0)
}

/// The patient accepts the offer.
pub fn accept_referral(patient: &Patient, u: f64, p: &Params) -> bool {
    u < acceptance_probability(patient.trust, p)
}

/// Weekly probability that a waiting patient gives up: `wait_dropout·(1 − τ)`.
pub fn give_up_probability(trust: f64, p: &Params) -> f64 {
    (p.wait_dropout * (1.0 - trust)).clamp(0.0, 1.0)
}
