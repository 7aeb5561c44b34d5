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
