//! GP appointment capacity (MODEL.md §9.2): each practice delivers at most `C` appointments a
//! week; requests beyond it wait in a backlog, of which a share `gp_giveup` is abandoned each
//! week. This layer counts access (delivered, unmet, waiting) without changing any patient's
//! trajectory: v1.1 lets unmet demand feed back into nothing. No draws.

use crate::params::Params;

/// One practice-week of the backlog recursion.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BacklogWeek {
    /// Appointments delivered, `S_t = min(C, B_t + D_t)`.
    pub delivered: f64,
    /// Requests abandoned, `U_t = gp_giveup·L_t` with `L_t = B_t + D_t − S_t`.
    pub unmet: f64,
    /// The backlog carried into next week, `B_{t+1} = L_t − U_t`.
    pub next: f64,
}

/// MODEL.md §9.2 for one practice and one week: capacity `C`, backlog `B_t`, demand `D_t`.
pub fn backlog_week(capacity: f64, backlog: f64, demand: f64, giveup: f64) -> BacklogWeek {
    let requests = backlog + demand;
    let delivered = capacity.min(requests);
    let left = requests - delivered;
    let unmet = giveup * left;
    BacklogWeek {
        delivered,
        unmet,
        next: left - unmet,
    }
}

/// A practice's weekly capacity `C = gp_capacity_per_1000·list_size/1000/52`.
pub fn weekly_capacity(list_size: u32, p: &Params) -> f64 {
    p.gp_capacity_per_1000 * f64::from(list_size) / 1000.0 / 52.0
}

/// The week's access totals over a PCN's practices.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct AccessWeek {
    pub delivered: f64,
    pub unmet: f64,
    /// Σ `B_t`: the backlog at the start of the week.
    pub backlog_start: f64,
    /// Σ `B_{t+1}`: the backlog carried out of the week.
    pub backlog_end: f64,
    /// Σ `C`.
    pub capacity: f64,
}

/// The GP access state of one PCN in one arm: each practice's capacity and backlog, and this
/// week's demand as the week's rules add it up.
#[derive(Clone, Debug)]
pub struct GpAccess {
    capacity: Vec<f64>,
    backlog: Vec<f64>,
    /// This week's GP consultations of each practice's patients: medical, social, generated.
    demand: Vec<i64>,
    giveup: f64,
}

impl GpAccess {
    /// Practices with the given list sizes, the backlog at 0 at the start of the warm-up and
    /// brought to week 0 through the warm-up's demand (`warmup_demand`: one row per warm-up
    /// week, one count per practice).
    pub fn new(list_sizes: &[u32], warmup_demand: &[Vec<u32>], p: &Params) -> GpAccess {
        let mut access = GpAccess {
            capacity: list_sizes.iter().map(|&n| weekly_capacity(n, p)).collect(),
            backlog: vec![0.0; list_sizes.len()],
            demand: vec![0; list_sizes.len()],
            giveup: p.gp_giveup,
        };
        for week in warmup_demand {
            for (d, &n) in access.demand.iter_mut().zip(week) {
                *d = i64::from(n);
            }
            access.close_week();
        }
        access
    }

    /// Starts a week with each practice's consultations as the population made them.
    pub fn begin_week(&mut self, base_demand: &[u32]) {
        for (d, &n) in self.demand.iter_mut().zip(base_demand) {
            *d = i64::from(n);
        }
    }

    /// Adds (or, for an arm's patient who replaces the population's, removes) consultations.
    pub fn add(&mut self, practice: usize, n: i64) {
        if let Some(d) = self.demand.get_mut(practice) {
            *d += n;
        }
    }

    /// Runs the week's recursion for every practice and returns the totals.
    pub fn close_week(&mut self) -> AccessWeek {
        let mut week = AccessWeek::default();
        for ((b, &c), d) in self
            .backlog
            .iter_mut()
            .zip(&self.capacity)
            .zip(&self.demand)
        {
            let step = backlog_week(c, *b, *d as f64, self.giveup);
            week.delivered += step.delivered;
            week.unmet += step.unmet;
            week.backlog_start += *b;
            week.backlog_end += step.next;
            week.capacity += c;
            *b = step.next;
        }
        week
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_backlog_recursion_by_hand() {
        // C = 10, give-up 0.3. Week 1: D = 14 ⇒ S = 10, L = 4, U = 1.2, B = 2.8.
        let w1 = backlog_week(10.0, 0.0, 14.0, 0.3);
        assert_eq!(w1.delivered, 10.0);
        assert!((w1.unmet - 1.2).abs() < 1e-12);
        assert!((w1.next - 2.8).abs() < 1e-12);
        // Week 2: D = 9 ⇒ B + D = 11.8, S = 10, L = 1.8, U = 0.54, B = 1.26.
        let w2 = backlog_week(10.0, w1.next, 9.0, 0.3);
        assert_eq!(w2.delivered, 10.0);
        assert!((w2.unmet - 0.54).abs() < 1e-12);
        assert!((w2.next - 1.26).abs() < 1e-12);
        // Week 3: D = 5 ⇒ everything is delivered, the backlog clears.
        let w3 = backlog_week(10.0, w2.next, 5.0, 0.3);
        assert!((w3.delivered - 6.26).abs() < 1e-12);
        assert_eq!((w3.unmet, w3.next), (0.0, 0.0));
    }

    #[test]
    fn capacity_far_above_demand_leaves_no_backlog() {
        let p = Params {
            gp_capacity_per_1000: 100_000.0,
            ..Params::default()
        };
        let warmup = vec![vec![40, 60]; 10];
        let mut access = GpAccess::new(&[1000, 2000], &warmup, &p);
        access.begin_week(&[50, 70]);
        access.add(1, 3);
        let week = access.close_week();
        assert_eq!(week.delivered, 123.0);
        assert_eq!(
            (week.unmet, week.backlog_start, week.backlog_end),
            (0.0, 0.0, 0.0)
        );
    }

    #[test]
    fn the_warm_up_fills_the_backlog() {
        // 1,000 patients at 520 a year: C = 10 a week. Ten weeks of 12 requests.
        let p = Params {
            gp_capacity_per_1000: 520.0,
            gp_giveup: 0.5,
            ..Params::default()
        };
        let access = GpAccess::new(&[1000], &vec![vec![12]; 10], &p);
        // B ← (B + 2)/2 converges to 2 from 0.
        assert!(access.backlog[0] > 1.99 && access.backlog[0] < 2.0);
    }
}
