//! The fate of an arm's accepted referrals (MODEL.md §7): how many reached a link worker,
//! connected, gave up or bounced, and how long they waited. Additive across PCNs.

use hdrhistogram::Histogram;

use crate::model::referral::{Attendance, Outcome, Referral};

/// Largest wait the histogram tracks exactly [weeks]; longer waits are clamped to it.
const MAX_WAIT_WEEKS: u64 = 10_000;

/// The fate of the accepted referrals of an arm; additive across PCNs.
#[derive(Clone, Debug)]
pub struct PathwayTally {
    pub accepted: u64,
    pub reached: u64,
    pub bounced: u64,
    pub gave_up: u64,
    pub dropped_out: u64,
    pub connected: u64,
    pub completed: u64,
    pub asset_closed: u64,
    pub discharged_unconnected: u64,
    pub pending: u64,
    /// Sessions of ended, non-bounced referrals that reached a link worker, and their count.
    pub contacts: u64,
    pub contacted_clients: u64,
    /// Weeks from acceptance to first session.
    pub waits: Histogram<u64>,
    pub wait_sum: u64,
}

impl Default for PathwayTally {
    fn default() -> Self {
        PathwayTally {
            accepted: 0,
            reached: 0,
            bounced: 0,
            gave_up: 0,
            dropped_out: 0,
            connected: 0,
            completed: 0,
            asset_closed: 0,
            discharged_unconnected: 0,
            pending: 0,
            contacts: 0,
            contacted_clients: 0,
            // Bounds are constants that hdrhistogram accepts; this cannot fail.
            waits: Histogram::new_with_max(MAX_WAIT_WEEKS, 3).expect("valid histogram bounds"),
            wait_sum: 0,
        }
    }
}

impl PathwayTally {
    /// Follows each accepted referral to its outcome at the end of the run.
    pub fn from_referrals(referrals: &[Referral]) -> PathwayTally {
        let mut t = PathwayTally::default();
        for r in referrals {
            t.accepted += 1;
            if let Some(first) = r.first_session_week {
                t.reached += 1;
                let wait = u64::try_from(first - r.accepted_week).unwrap_or(0);
                t.waits.saturating_record(wait.min(MAX_WAIT_WEEKS));
                t.wait_sum += wait;
            }
            match r.outcome {
                Outcome::Pending => t.pending += 1,
                Outcome::GaveUp => t.gave_up += 1,
                Outcome::Bounced => t.bounced += 1,
                Outcome::DroppedOut => t.dropped_out += 1,
                Outcome::DischargedUnconnected => t.discharged_unconnected += 1,
                Outcome::Connected => t.connected += 1,
            }
            match r.attendance {
                Attendance::Completed => t.completed += 1,
                Attendance::AssetClosed => t.asset_closed += 1,
                Attendance::NotConnected | Attendance::Attending => {}
            }
            let ended = r.outcome != Outcome::Pending;
            if ended && r.outcome != Outcome::Bounced && r.reached_link_worker() {
                t.contacts += u64::from(r.sessions);
                t.contacted_clients += 1;
            }
        }
        t
    }

    pub fn add(&mut self, o: &PathwayTally) {
        self.accepted += o.accepted;
        self.reached += o.reached;
        self.bounced += o.bounced;
        self.gave_up += o.gave_up;
        self.dropped_out += o.dropped_out;
        self.connected += o.connected;
        self.completed += o.completed;
        self.asset_closed += o.asset_closed;
        self.discharged_unconnected += o.discharged_unconnected;
        self.pending += o.pending;
        self.contacts += o.contacts;
        self.contacted_clients += o.contacted_clients;
        // Both histograms share bounds, so adding cannot fail.
        let _ = self.waits.add(&o.waits);
        self.wait_sum += o.wait_sum;
    }
}
