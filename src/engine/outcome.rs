//! What the engine produces for one arm of one replicate: the model's observations of every
//! PCN, merged in PCN order.

use crate::model::observe::{EvalTally, PathwayTally, WeekRecord};

/// Everything one arm of one replicate produced; PCNs merge by [`ArmOutcome::add`].
#[derive(Clone, Debug)]
pub struct ArmOutcome {
    /// One record per service week, 0..weeks.
    pub weekly: Vec<WeekRecord>,
    pub pathway: PathwayTally,
    /// Present for arms evaluated against a no_sp twin.
    pub eval: Option<EvalTally>,
}

impl ArmOutcome {
    pub fn add(&mut self, o: &ArmOutcome) {
        for (a, b) in self.weekly.iter_mut().zip(&o.weekly) {
            a.add(b);
        }
        self.pathway.add(&o.pathway);
        match (&mut self.eval, &o.eval) {
            (Some(a), Some(b)) => a.add(b),
            (None, Some(b)) => self.eval = Some(b.clone()),
            _ => {}
        }
    }

    /// Totals over all service weeks.
    pub fn totals(&self) -> WeekRecord {
        let mut t = WeekRecord::default();
        for w in &self.weekly {
            t.add(w);
        }
        t
    }
}

/// What outputs by place need of one arm in one PCN: the additive counts and sums behind the
/// place metrics (`metrics::places`), so that PCNs add up to ICBs, regions, deprivation
/// quintiles and the run, and ratios are formed only after adding. Small enough to keep for
/// every PCN of all England (a few hundred bytes each), unlike the weekly records.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PlaceTally {
    /// GP consultations of all kinds over the service weeks, generated ones included.
    pub consults: u64,
    pub social: u64,
    pub generated: u64,
    pub offered: u64,
    /// Accepted referrals, followed to their outcome.
    pub accepted: u64,
    pub reached: u64,
    pub connected: u64,
    pub completed: u64,
    pub gave_up: u64,
    /// Weeks from acceptance to first session, summed over referrals that reached a link worker.
    pub wait_sum: u64,
    /// FTE of filled posts summed over service weeks (what link workers cost).
    pub lw_fte_weeks: f64,
    pub lw_active: u64,
    pub lw_vacant: u64,
    /// Patients summed over service weeks, and their wellbeing.
    pub patient_weeks: u64,
    pub wellbeing_sum: f64,
    pub low_wellbeing: u64,
    /// The evaluation cohort's sums, for arms evaluated against a no_sp twin.
    pub eval: Option<EvalTally>,
}

impl PlaceTally {
    /// Adds another place's tally of the same arm.
    pub fn add(&mut self, o: &PlaceTally) {
        self.consults += o.consults;
        self.social += o.social;
        self.generated += o.generated;
        self.offered += o.offered;
        self.accepted += o.accepted;
        self.reached += o.reached;
        self.connected += o.connected;
        self.completed += o.completed;
        self.gave_up += o.gave_up;
        self.wait_sum += o.wait_sum;
        self.lw_fte_weeks += o.lw_fte_weeks;
        self.lw_active += o.lw_active;
        self.lw_vacant += o.lw_vacant;
        self.patient_weeks += o.patient_weeks;
        self.wellbeing_sum += o.wellbeing_sum;
        self.low_wellbeing += o.low_wellbeing;
        match (&mut self.eval, &o.eval) {
            (Some(a), Some(b)) => a.add(b),
            (None, Some(b)) => self.eval = Some(b.clone()),
            _ => {}
        }
    }
}

impl ArmOutcome {
    /// The place tally of this outcome (one arm of one PCN, or of several merged).
    pub fn place_tally(&self) -> PlaceTally {
        let t = self.totals();
        let p = &self.pathway;
        PlaceTally {
            consults: t.consults(),
            social: t.social,
            generated: t.generated,
            offered: t.offered,
            accepted: p.accepted,
            reached: p.reached,
            connected: p.connected,
            completed: p.completed,
            gave_up: p.gave_up,
            wait_sum: p.wait_sum,
            lw_fte_weeks: t.lw_fte_active,
            lw_active: t.lw_active,
            lw_vacant: t.lw_vacant,
            patient_weeks: t.patients,
            wellbeing_sum: t.wellbeing_sum,
            low_wellbeing: t.low_wellbeing,
            eval: self.eval.clone(),
        }
    }
}
