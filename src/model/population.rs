//! A PCN's patients living their own lives without social prescribing (MODEL.md §5, §6.1-6.3):
//! initialisation, warm-up, and each week's needs, wellbeing, activation and consultation draw.
//!
//! This trajectory is shared by every arm with the same population parameters. Because every
//! draw is keyed by patient, purpose and week (common random numbers), a patient whom an arm has
//! never offered a referral is in exactly the state this population gives, so an arm only keeps
//! its own copy of the patients it has touched ([`super::pcn::Pcn`]). It is also the no_sp twin
//! the evaluation compares each referred patient with.

use super::ModelError;
use super::needs::NeedTables;
use super::observe::{EventLog, History, WeekRecord};
use super::patient::{Consultation, Patient, PatientDistributions, quintile_cdf};
use super::pcn::Layout;
use crate::params::Params;
use crate::rng::{EntityKind, Key};

/// Codes of a week's consultation, as stored per patient.
pub const NO_CONSULT: u8 = 0;
pub const MEDICAL: u8 = 1;
pub const SOCIAL: u8 = 2;

pub fn consult_code(c: Consultation) -> u8 {
    match c {
        Consultation::None => NO_CONSULT,
        Consultation::Medical => MEDICAL,
        Consultation::Social => SOCIAL,
    }
}

pub fn consultation(code: u8) -> Consultation {
    match code {
        MEDICAL => Consultation::Medical,
        SOCIAL => Consultation::Social,
        _ => Consultation::None,
    }
}

pub struct Population<'a> {
    p: &'a Params,
    tables: &'a NeedTables,
    pub patients: Vec<Patient>,
    /// This week's consultation of each patient (a consult code).
    pub consults: Vec<u8>,
    /// Ids of the patients who consulted this week, ascending.
    pub consulting: Vec<u32>,
    /// This week's patient-level sums (consultations, wellbeing, activation).
    pub record: WeekRecord,
    /// Weekly consultations and wellbeing of every patient, kept when an arm is evaluated.
    pub history: Option<History>,
    pub quintile_sizes: [u64; 5],
    /// Events of followed patients, for traces (`None`, the default, follows nobody).
    pub events: Option<EventLog>,
    /// GP consultations of each practice's patients in each warm-up week (week-major), from
    /// which an arm with limited GP capacity brings its backlog to week 0 (MODEL.md §9.2).
    pub warmup_demand: Vec<Vec<u32>>,
}

/// Every patient of the PCN, practice by practice: a practice with its own quintile mix draws
/// its patients' quintiles from it, otherwise from `deprivation_shares` (MODEL.md §5). A
/// patient's key depends only on its id within the PCN, so the mix changes nothing else.
fn draw_patients(
    pcn: Key,
    layout: &Layout,
    p: &Params,
    tables: &NeedTables,
    dist: &PatientDistributions,
) -> Vec<Patient> {
    let mut patients = Vec::with_capacity(layout.patients());
    for (practice, &size) in layout.list_sizes.iter().enumerate() {
        let cdf = layout.mix(practice).map(quintile_cdf);
        let cdf = cdf.as_ref().unwrap_or(&dist.quintile_cdf);
        for _ in 0..size {
            let key = pcn.entity(EntityKind::Patient, patients.len() as u64);
            patients.push(Patient::new(key, p, tables, dist, cdf));
        }
    }
    patients
}

impl<'a> Population<'a> {
    /// Draws the patients (MODEL.md §5) and runs the warm-up.
    pub fn new(
        pcn: Key,
        layout: &Layout,
        warmup_weeks: u32,
        weeks: u32,
        keep_history: bool,
        p: &'a Params,
        tables: &'a NeedTables,
    ) -> Result<Population<'a>, ModelError> {
        let dist = PatientDistributions::new(p)?;
        let patients = draw_patients(pcn, layout, p, tables, &dist);
        let mut quintile_sizes = [0; 5];
        for patient in &patients {
            quintile_sizes[usize::from(patient.q)] += 1;
        }
        let n = patients.len();
        let mut population = Population {
            p,
            tables,
            patients,
            consults: vec![NO_CONSULT; n],
            consulting: Vec::new(),
            record: WeekRecord::default(),
            history: keep_history.then(|| History::new(n, weeks)),
            quintile_sizes,
            events: None,
            warmup_demand: Vec::with_capacity(warmup_weeks as usize),
        };
        population.warm_up(warmup_weeks, &layout.list_sizes);
        Ok(population)
    }

    /// Weeks −warmup..−1: only the patients' own processes run; nothing is recorded but each
    /// practice's consultations (for GP capacity, MODEL.md §9.2).
    fn warm_up(&mut self, warmup_weeks: u32, list_sizes: &[u32]) {
        if self.tables.trap() {
            self.warm_up_with::<true>(warmup_weeks, list_sizes);
        } else {
            self.warm_up_with::<false>(warmup_weeks, list_sizes);
        }
    }

    /// [`Population::warm_up`], with MODEL.md §9.1 if `TRAP`.
    fn warm_up_with<const TRAP: bool>(&mut self, warmup_weeks: u32, list_sizes: &[u32]) {
        for week in -i64::from(warmup_weeks)..0 {
            let mut demand = Vec::with_capacity(list_sizes.len());
            let mut rest = self.patients.as_mut_slice();
            for &size in list_sizes {
                let (practice, tail) = rest.split_at_mut((size as usize).min(rest.len()));
                rest = tail;
                let mut consults = 0u32;
                for patient in practice {
                    let c = patient.live_week_with::<TRAP>(week, self.p, self.tables);
                    consults += u32::from(c != Consultation::None);
                }
                demand.push(consults);
            }
            self.warmup_demand.push(demand);
        }
    }

    /// This week's GP consultations of each practice's patients (MODEL.md §9.2 demand before
    /// an arm's own changes), into `out`.
    pub fn practice_demand(&self, layout: &Layout, out: &mut Vec<u32>) {
        out.clear();
        out.resize(layout.practices(), 0);
        for &i in &self.consulting {
            out[layout.practice_of(i)] += 1;
        }
    }

    pub fn tables(&self) -> &'a NeedTables {
        self.tables
    }

    /// One service week of every patient's own processes, with the week's sums.
    pub fn live_week(&mut self, week: i32) {
        // The loop is compiled twice so that a run following nobody runs exactly the loop it
        // would without an event log: no check, no saved need set, per patient.
        // So is MODEL.md §9.1's step, so that v1.0's carries none of it.
        match (self.events.is_some(), self.tables.trap()) {
            (true, true) => self.live_patients::<true, true>(week),
            (true, false) => self.live_patients::<true, false>(week),
            (false, true) => self.live_patients::<false, true>(week),
            (false, false) => self.live_patients::<false, false>(week),
        }
    }

    /// [`Population::live_week`], logging the followed patients' weeks if `FOLLOW`, with
    /// MODEL.md §9.1 if `TRAP`.
    #[inline(always)]
    fn live_patients<const FOLLOW: bool, const TRAP: bool>(&mut self, week: i32) {
        let (p, tables) = (self.p, self.tables);
        let mut rec = WeekRecord::default();
        let mut wellbeing_sum = 0.0;
        let mut activation_sum = 0.0;
        let mut low = 0;
        self.consulting.clear();
        let mut history = self.history.as_mut().map(|h| h.week_mut(week));
        let mut events = if FOLLOW { self.events.as_mut() } else { None };
        for (i, patient) in self.patients.iter_mut().enumerate() {
            let needs_before = patient.needs;
            let crisis_before = patient.crisis_left;
            let consultation = patient.live_week_with::<TRAP>(i64::from(week), p, tables);
            let code = consult_code(consultation);
            let q = usize::from(patient.q);
            let w = patient.wellbeing;
            wellbeing_sum += w;
            activation_sum += patient.activation;
            rec.q_wellbeing_sum[q] += w;
            low += u64::from(w <= p.low_wellbeing_threshold);
            if TRAP {
                rec.in_crisis += u64::from(patient.in_crisis());
            }
            self.consults[i] = code;
            if let Some((consults, wellbeing)) = history.as_mut() {
                consults[i] = u8::from(code != NO_CONSULT);
                wellbeing[i] = w as f32;
            }
            if code != NO_CONSULT {
                self.consulting.push(i as u32);
                rec.q_consults[q] += 1;
                if code == MEDICAL {
                    rec.medical += 1;
                } else {
                    rec.social += 1;
                }
            }
            if FOLLOW && let Some(log) = events.as_deref_mut() {
                log.lived(
                    week,
                    i as u32,
                    (needs_before, crisis_before),
                    patient,
                    consultation,
                );
            }
        }
        rec.wellbeing_sum = wellbeing_sum;
        rec.activation_sum = activation_sum;
        rec.low_wellbeing = low;
        self.record = rec;
    }

    /// Checks every patient's state variables are inside their ranges (property tests).
    pub fn check_invariants(&self) -> Result<(), String> {
        for (i, patient) in self.patients.iter().enumerate() {
            super::pcn::check_patient_ranges(patient).map_err(|e| format!("patient {i}: {e}"))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Key;

    #[test]
    fn each_practice_draws_its_patients_quintiles_from_its_own_mix() {
        let p = Params::default();
        let tables = NeedTables::new(&p);
        let dist = PatientDistributions::new(&p).expect("default distributions");
        let q1 = [1.0, 0.0, 0.0, 0.0, 0.0];
        let q5 = [0.0, 0.0, 0.0, 0.0, 1.0];
        let layout = Layout::new(vec![50, 70], Some(vec![q1, q5]));
        let patients = draw_patients(Key::root(1), &layout, &p, &tables, &dist);
        assert_eq!(patients.len(), 120);
        assert!(patients[..50].iter().all(|pt| pt.q == 0));
        assert!(patients[50..].iter().all(|pt| pt.q == 4));
        // Without mixes, the draw is v1.0's: deprivation_shares for everyone.
        let uniform = draw_patients(Key::root(1), &Layout::uniform(2, 60), &p, &tables, &dist);
        let seen: std::collections::BTreeSet<u8> = uniform.iter().map(|pt| pt.q).collect();
        assert_eq!(seen.len(), 5);
        // A patient's other draws depend on its id only, not on its practice's mix.
        assert_eq!(patients[60].frailty, uniform[60].frailty);
    }
}
