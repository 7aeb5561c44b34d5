//! What running a plan will cost, estimated from its dimensions before anything is allocated:
//! peak memory and work. The run-setting limits keep each number within the engine's integer
//! types, but not their product: 100,000 PCNs of a billion patients is a valid scenario that
//! would need terabytes. The command line compares this estimate with the machine's memory and
//! refuses such a run up front, instead of letting an allocation abort it hours in.
//!
//! The estimate follows what the engine allocates (`replicate.rs`, `runner.rs`):
//! - a (replicate, PCN) unit in flight holds one population at a time (every patient, this
//!   week's consultations and, when a service arm is evaluated, the no_sp history of every
//!   patient over the last 53 weeks) and, for each arm, its slot table, its copies of the
//!   patients it has touched with their week for the evaluation, its referrals with the
//!   evaluation's cohort, and its weekly records;
//! - a replicate collects its PCNs' outcomes a chunk at a time ([`super::runner::MERGE_CHUNK`])
//!   before adding them to its total;
//! - every replicate's merged outcome (weekly records per arm) is kept until the output is
//!   written.
//!
//! PCNs may differ in size (real places): a unit is estimated at the largest PCN, since any
//! `threads` units may run at once, and the work at the sum of their patients.
//!
//! Units run `threads` at a time. The estimate aims to be a little on the high side;
//! [`TOUCHED_PER_PATIENT_YEAR`] and [`REFERRALS_PER_PATIENT_YEAR`] bound what depends on the
//! model's behaviour. Every run's manifest records the estimate beside the measured peak RSS,
//! and `tests/integration/sizes.rs` keeps them within 25% of each other on runs of several
//! shapes (measured: 1.07 to 1.16 times the peak on one thread).

use std::mem::size_of;

use super::ArmOutcome;
use super::{Plan, same_population};
use crate::model::observe::{COHORT_ENTRY_BYTES, HISTORY_WEEKS, PathwayTally, WeekRecord};
use crate::model::patient::Patient;
use crate::model::population::bytes_per_patient;
use crate::model::practice::Practice;
use crate::model::referral::Referral;

/// Share of a PCN's patients an arm first touches (offers a referral) per year, generously:
/// about 0.018 under `belonging` with the defaults (9% of patients in five years), more with
/// the higher buy-in a sweep may explore. The touched share grows linearly until it saturates.
/// (It was 0.04 while the evaluation kept the whole run's no_sp history, which dominated
/// the estimate; without it, 0.04 overestimated the default scenario's peak by 1.4 to 1.5
/// times.)
pub const TOUCHED_PER_PATIENT_YEAR: f64 = 0.022;

/// Accepted referrals per patient per year, generously (about 0.018 under `belonging`).
pub const REFERRALS_PER_PATIENT_YEAR: f64 = 0.03;

/// Allocator overhead on the results kept for output (many blocks of about 120 KB): measured
/// peak RSS per replicate is 1.2 times the bytes of its records.
const RESULTS_OVERHEAD: f64 = 1.3;

/// The no_sp history kept per patient and week for the evaluation (the last
/// [`HISTORY_WEEKS`] service weeks): an f32.
const BASE_HISTORY_BYTES: f64 = 4.0;
/// An arm's week of a touched patient for the evaluation: a u8 and an f32.
const TOUCHED_WEEK_BYTES: f64 = 5.0;

/// Allocator and vector overhead per heap block, and small per-arm structures (link workers,
/// assets, the queue), counted generously.
const SMALL_ALLOCATIONS: f64 = 64.0 * 1024.0;

/// How many of the largest PCNs' unit sizes a [`Cost`] keeps: units beyond them are counted
/// at the smallest kept, which is at least their size.
const LARGEST_KEPT: usize = 8;

/// The estimated cost of running a [`Plan`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Cost {
    /// Bytes a unit of each of the largest PCNs holds, largest first (0 past the last PCN):
    /// units running at once are counted as the largest ones, which bounds the peak without
    /// counting every unit as the largest PCN (all England's largest is 5.5 times its mean).
    pub largest_units: [f64; LARGEST_KEPT],
    /// Bytes of one PCN's outcome (every arm), held until its replicate is merged.
    pub pcn_outcome_bytes: f64,
    /// Bytes of one replicate's merged outcome, kept until the output is written.
    pub replicate_bytes: f64,
    pub replicates: u64,
    pub pcns: u64,
    pub arms: u64,
    /// Service weeks.
    pub weeks: u64,
    /// Patients of the largest PCN.
    pub patients_per_pcn: u64,
    /// Patient-weeks simulated (warm-up included, each population once), all replicates.
    pub patient_weeks: f64,
    /// Rows of `weekly.csv`: arms × replicates × weeks.
    pub weekly_rows: u64,
}

impl Cost {
    /// Peak memory when `runs` plans of this size run at once on `threads` threads (a sweep runs
    /// several points at once, a run one).
    pub fn peak_memory(&self, threads: u64, runs: u64) -> f64 {
        self.units_memory(threads, runs) + self.results_memory(threads, runs)
    }

    /// Bytes one (replicate, PCN) unit of the largest PCN holds while it runs.
    pub fn unit_bytes(&self) -> f64 {
        self.largest_units[0]
    }

    /// Memory of the (replicate, PCN) units running at once, at most: the largest units, each
    /// PCN's as many times as there are replicates (and runs) that may run it at once.
    pub fn units_memory(&self, threads: u64, runs: u64) -> f64 {
        let mut left = self.units_at_once(threads, runs);
        let copies = self.replicates.saturating_mul(runs.max(1)).max(1);
        let mut total = 0.0;
        let mut smallest = self.unit_bytes();
        for &bytes in self.largest_units.iter().take_while(|&&b| b > 0.0) {
            let n = left.min(copies);
            total += n as f64 * bytes;
            left -= n;
            smallest = bytes;
        }
        total + left as f64 * smallest
    }

    /// Memory of the outcomes held: every replicate's merged outcome, and the per-PCN outcomes
    /// of the replicates being merged.
    pub fn results_memory(&self, threads: u64, runs: u64) -> f64 {
        let replicates = self.replicates.saturating_mul(runs.max(1));
        let merging = replicates.min(threads.max(1)) as f64;
        let per_pcn = if self.pcns > 1 {
            let held = self.pcns.min(super::runner::MERGE_CHUNK as u64);
            merging * held as f64 * self.pcn_outcome_bytes
        } else {
            0.0
        };
        per_pcn + replicates as f64 * self.replicate_bytes
    }

    /// How many (replicate, PCN) units run at once.
    pub fn units_at_once(&self, threads: u64, runs: u64) -> u64 {
        let units = self
            .replicates
            .saturating_mul(self.pcns)
            .saturating_mul(runs.max(1));
        units.min(threads.max(1))
    }
}

impl Plan {
    /// The estimated cost of running this plan.
    pub fn cost(&self) -> Cost {
        let largest = self.largest_pcn();
        let patients = largest.map_or(0, |p| p.patients()) as f64;
        let weeks = f64::from(self.weeks);
        let mut sizes: Vec<f64> = self.pcns.iter().map(|pcn| self.unit_bytes(pcn)).collect();
        sizes.sort_by(|a, b| b.total_cmp(a));
        let mut largest_units = [0.0; LARGEST_KEPT];
        for (kept, size) in largest_units.iter_mut().zip(sizes) {
            *kept = size;
        }
        let weekly = weeks * size_of::<WeekRecord>() as f64;
        let outcome =
            RESULTS_OVERHEAD * (weekly + size_of::<ArmOutcome>() as f64 + histogram_bytes());
        let arm_count = self.arms.len() as f64;
        let groups = population_groups(self) as f64;
        let replicates = u64::from(self.replicates);
        Cost {
            // Populations are built one group at a time; the largest is what counts, and all
            // groups have the same size.
            largest_units,
            pcn_outcome_bytes: arm_count * outcome,
            // The merged outcome, and every PCN's place tallies (kept for results by place).
            replicate_bytes: arm_count
                * (outcome + self.pcns.len() as f64 * size_of::<super::PlaceTally>() as f64),
            replicates,
            pcns: self.pcns.len() as u64,
            arms: self.arms.len() as u64,
            weeks: u64::from(self.weeks),
            patients_per_pcn: patients as u64,
            patient_weeks: self.patients() as f64
                * replicates as f64
                * groups
                * (weeks + f64::from(self.warmup_weeks)),
            weekly_rows: (self.arms.len() as u64)
                .saturating_mul(replicates)
                .saturating_mul(u64::from(self.weeks)),
        }
    }

    /// Bytes one (replicate, PCN) unit of `pcn` holds while it runs: its population (with
    /// the evaluation's history if an arm is evaluated) and every arm's own state.
    fn unit_bytes(&self, pcn: &super::PcnPlan) -> f64 {
        let patients = pcn.patients() as f64;
        let practices = pcn.layout.practices() as f64;
        let weeks = f64::from(self.weeks);
        let evaluated = self.arms.iter().any(|a| a.service);
        let population = patients * bytes_per_patient(self.engine) as f64
            + if evaluated {
                patients * weeks.min(HISTORY_WEEKS as f64) * BASE_HISTORY_BYTES
            } else {
                0.0
            };
        let weekly = weeks * size_of::<WeekRecord>() as f64;
        let arms: f64 = self
            .arms
            .iter()
            .map(|arm| {
                let practices = practices * size_of::<Practice>() as f64;
                let slots = patients * 4.0;
                let service = if arm.service {
                    let touched = touched_patients(patients, weeks);
                    let referrals = patients * REFERRALS_PER_PATIENT_YEAR * weeks / 52.0;
                    touched * (size_of::<Patient>() as f64 + 4.0 + TOUCHED_WEEK_BYTES)
                        + referrals * (size_of::<Referral>() + COHORT_ENTRY_BYTES) as f64
                } else {
                    0.0
                };
                practices + slots + service + weekly + SMALL_ALLOCATIONS
            })
            .sum();
        population + arms
    }
}

/// Patients an arm has touched by the end of `weeks`: linear growth at
/// [`TOUCHED_PER_PATIENT_YEAR`] until every patient is touched.
fn touched_patients(patients: f64, weeks: f64) -> f64 {
    patients * (TOUCHED_PER_PATIENT_YEAR / 52.0 * weeks).min(1.0)
}

/// The wait histogram every arm outcome carries.
fn histogram_bytes() -> f64 {
    (PathwayTally::default().waits.distinct_values() * size_of::<u64>()) as f64
}

/// How many populations a unit simulates: arms with equal population parameters share one.
fn population_groups(plan: &Plan) -> usize {
    let mut firsts: Vec<usize> = Vec::new();
    for (i, arm) in plan.arms.iter().enumerate() {
        if !firsts
            .iter()
            .any(|&f| same_population(&plan.arms[f].params, &arm.params))
        {
            firsts.push(i);
        }
    }
    firsts.len()
}

#[cfg(test)]
mod tests {
    use crate::engine::{PcnPlan, Plan};
    use crate::model::pcn::Layout;

    /// The default scenario's plan: four arms on one PCN of 5 × 9,600 patients, 100 replicates.
    fn default_plan() -> Plan {
        Plan::reference(100)
    }

    #[test]
    fn the_default_scenario_is_cheap_and_an_absurd_one_is_not() {
        let mut plan = default_plan();
        let cost = plan.cost();
        assert_eq!(cost.weekly_rows, 4 * 100 * 260);
        let peak = cost.peak_memory(2, 1);
        assert!(peak > 50e6 && peak < 2e9, "{peak}");

        plan.pcns = Plan::synthetic_pcns(100_000, &Layout::uniform(1000, 1_000_000));
        let peak = plan.cost().peak_memory(2, 1);
        assert!(peak > 1e12, "{peak}");
    }

    /// A PCN of 5,000 patients and one of 80,000 in two practices.
    fn small_and_large() -> (PcnPlan, PcnPlan) {
        (
            PcnPlan::synthetic(0, Layout::new(vec![5_000], None)),
            PcnPlan::synthetic(1, Layout::new(vec![40_000, 40_000], None)),
        )
    }

    #[test]
    fn unequal_pcns_cost_their_largest_unit_and_their_summed_work() {
        let mut plan = default_plan();
        plan.replicates = 1;
        let (small, large) = small_and_large();
        plan.pcns = vec![small.clone(), large.clone()];
        let both = plan.cost();
        plan.pcns = vec![large];
        let large_only = plan.cost();
        plan.pcns = vec![small];
        let small_only = plan.cost();
        assert_eq!(both.patients_per_pcn, 80_000);
        assert_eq!(both.unit_bytes(), large_only.unit_bytes());
        assert!(small_only.unit_bytes() < large_only.unit_bytes());
        let work = large_only.patient_weeks + small_only.patient_weeks;
        assert!((both.patient_weeks - work).abs() < 1e-6 * work);
    }

    #[test]
    fn units_at_once_are_counted_as_the_largest_units_not_all_as_the_largest() {
        let mut plan = default_plan();
        plan.replicates = 1;
        let (small, large) = small_and_large();
        plan.pcns = vec![small.clone(), large.clone(), small.clone()];
        let cost = plan.cost();
        let (big, little) = (cost.largest_units[0], cost.largest_units[1]);
        assert!(big > 5.0 * little, "{big} vs {little}");
        assert_eq!(cost.largest_units[2], little);
        assert_eq!(cost.largest_units[3], 0.0);
        assert_eq!(cost.units_memory(1, 1), big);
        // Two threads: the large PCN and a small one, never the large one twice.
        assert_eq!(cost.units_memory(2, 1), big + little);
        assert_eq!(cost.units_memory(64, 1), big + 2.0 * little);
        // With two replicates both threads may be on the large PCN at once.
        plan.replicates = 2;
        let cost = plan.cost();
        assert_eq!(cost.units_memory(2, 1), 2.0 * big);
        assert_eq!(cost.units_memory(3, 1), 2.0 * big + little);
        // Beyond the kept sizes, units count as the smallest kept.
        plan.replicates = 1;
        plan.pcns = (0..20)
            .map(|i| PcnPlan::synthetic(i, Layout::new(vec![1_000 + 100 * i], None)))
            .collect();
        let cost = plan.cost();
        let kept: f64 = cost.largest_units.iter().sum();
        let smallest_kept = cost.largest_units[super::LARGEST_KEPT - 1];
        assert_eq!(cost.units_memory(10, 1), kept + 2.0 * smallest_kept);
    }

    #[test]
    fn touched_patients_grow_then_saturate() {
        let a_year = 1000.0 * super::TOUCHED_PER_PATIENT_YEAR;
        assert!((super::touched_patients(1000.0, 52.0) - a_year).abs() < 1e-9);
        assert!((super::touched_patients(1000.0, 104.0) - 2.0 * a_year).abs() < 1e-9);
        // Saturated long before the end: 45 years at 0.022 a year.
        assert_eq!(super::touched_patients(1000.0, 52.0 * 200.0), 1000.0);
    }

    #[test]
    fn memory_grows_with_threads_and_runs_at_once() {
        let plan = default_plan();
        let cost = plan.cost();
        assert!(cost.peak_memory(2, 1) > cost.peak_memory(1, 1));
        assert!(cost.peak_memory(4, 4) > cost.peak_memory(4, 1));
        assert_eq!(cost.units_at_once(64, 1), 64);
        assert_eq!(cost.units_at_once(1000, 1), 100);
    }
}
