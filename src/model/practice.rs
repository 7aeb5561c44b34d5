//! GP practices and their buy-in to social prescribing (MODEL.md §6.7): the probability that a
//! social consultation leads to a referral offer, raised by fed-back connections ("demonstrating
//! effect", seed 002), lowered by bounced referrals, drifting back to its starting level.

use super::patient::saturating_gain;
use crate::params::Params;

#[derive(Clone, Debug)]
pub struct Practice {
    /// Buy-in `b`, 0-1.
    pub buy_in: f64,
    /// Registered patients (a contiguous block of patient ids).
    pub list_size: u32,
    /// Connections of this practice's patients this week, fed back in step 6.
    pub connections_this_week: u32,
}

impl Practice {
    pub fn new(list_size: u32, p: &Params) -> Practice {
        Practice {
            buy_in: p.buy_in0,
            list_size,
            connections_this_week: 0,
        }
    }

    /// Step 6: each connection this week is fed back w.p. `feedback` and raises buy-in by
    /// `buy_in_gain` per 1,000 listed patients (so the loop's strength does not depend on how
    /// a PCN is split into practices); then buy-in drifts back towards `buy_in0`.
    /// `feedback_draws` yields one uniform per connection.
    pub fn update_buy_in(&mut self, mut feedback_draws: impl FnMut() -> f64, p: &Params) {
        let gain = p.buy_in_gain * 1000.0 / f64::from(self.list_size.max(1));
        for _ in 0..self.connections_this_week {
            if feedback_draws() < p.feedback {
                self.buy_in = saturating_gain(self.buy_in, gain);
            }
        }
        self.connections_this_week = 0;
        self.buy_in = (self.buy_in + p.buy_in_drift * (p.buy_in0 - self.buy_in)).clamp(0.0, 1.0);
    }
}
