//! The weekly record (MODEL.md §7): counts and sums for one week of one arm, written by the
//! model as the week's rules fire. `metrics::weekly` derives the `weekly.csv` columns from it.

/// Counts and sums for one week. Everything is additive, so PCNs (and shards) merge by adding.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct WeekRecord {
    // GP consultations.
    pub medical: u64,
    pub social: u64,
    /// Consultations caused by the pathway (bounces, uncovered needs, asset closures).
    pub generated: u64,
    // Referrals.
    pub offered: u64,
    pub offered_inappropriate: u64,
    pub declined: u64,
    pub accepted: u64,
    pub gave_up: u64,
    // Link-worker work.
    pub first_intakes: u64,
    pub sessions: u64,
    pub bounced: u64,
    pub connections: u64,
    pub dropped_out: u64,
    pub discharged_unconnected: u64,
    pub no_capacity: u64,
    pub lw_leavers: u64,
    // Assets.
    pub completed: u64,
    pub asset_closures: u64,
    pub asset_openings: u64,
    // Stocks at step 7.
    pub patients: u64,
    pub waiting: u64,
    pub supported: u64,
    pub connected: u64,
    pub lw_active: u64,
    /// FTE of the filled posts: what link workers cost (a fractional post costs its share).
    pub lw_fte_active: f64,
    pub lw_vacant: u64,
    pub assets_open: u64,
    pub asset_places: u64,
    pub asset_occupied: u64,
    pub practices: u64,
    // Sums for means.
    pub wellbeing_sum: f64,
    pub low_wellbeing: u64,
    pub activation_sum: f64,
    pub lw_stress_sum: f64,
    pub buy_in_sum: f64,
    // By deprivation quintile.
    pub q_patients: [u64; 5],
    pub q_wellbeing_sum: [f64; 5],
    /// All GP consultations, generated ones included.
    pub q_consults: [u64; 5],
    pub q_accepted: [u64; 5],
    pub q_connections: [u64; 5],
    // MODEL.md §9.1: patients in crisis at step 7.
    pub in_crisis: u64,
    // MODEL.md §9.2: GP access, summed over practices. Without a capacity limit every request
    // is delivered in its week: delivered = consultations, nothing unmet, no backlog.
    pub gp_delivered: f64,
    pub gp_unmet: f64,
    /// Σ backlog `B_t` at the start of the week.
    pub gp_backlog_start: f64,
    /// Σ backlog `B_{t+1}` carried out of the week (the stock at step 7).
    pub gp_backlog: f64,
    /// Σ weekly capacity `C` (0 = unlimited).
    pub gp_capacity: f64,
    // MODEL.md §9.3: referrals by route (gp, self, agency; `Route::ALL` order), in total and
    // by quintile. A self-referral counts as offered and accepted.
    pub route_offered: [u64; 3],
    pub route_accepted: [u64; 3],
    pub q_route_offered: [[u64; 5]; 3],
    pub q_route_accepted: [[u64; 5]; 3],
}

impl WeekRecord {
    pub fn consults(&self) -> u64 {
        self.medical + self.social + self.generated
    }

    /// Adds another PCN's record of the same week.
    pub fn add(&mut self, o: &WeekRecord) {
        macro_rules! add {
            ($($f:ident),*) => { $( self.$f += o.$f; )* };
        }
        add!(
            medical,
            social,
            generated,
            offered,
            offered_inappropriate,
            declined,
            accepted,
            gave_up,
            first_intakes,
            sessions,
            bounced,
            connections,
            dropped_out,
            discharged_unconnected,
            no_capacity,
            lw_leavers,
            completed,
            asset_closures,
            asset_openings,
            patients,
            waiting,
            supported,
            connected,
            lw_active,
            lw_fte_active,
            lw_vacant,
            assets_open,
            asset_places,
            asset_occupied,
            practices,
            wellbeing_sum,
            low_wellbeing,
            activation_sum,
            lw_stress_sum,
            buy_in_sum,
            in_crisis,
            gp_delivered,
            gp_unmet,
            gp_backlog_start,
            gp_backlog,
            gp_capacity
        );
        for route in 0..3 {
            self.route_offered[route] += o.route_offered[route];
            self.route_accepted[route] += o.route_accepted[route];
            for q in 0..5 {
                self.q_route_offered[route][q] += o.q_route_offered[route][q];
                self.q_route_accepted[route][q] += o.q_route_accepted[route][q];
            }
        }
        for q in 0..5 {
            self.q_patients[q] += o.q_patients[q];
            self.q_wellbeing_sum[q] += o.q_wellbeing_sum[q];
            self.q_consults[q] += o.q_consults[q];
            self.q_accepted[q] += o.q_accepted[q];
            self.q_connections[q] += o.q_connections[q];
        }
    }
}
