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
use super::patient::{
    ConsultThresholds, Consultation, Patient, PatientDistributions, next_wellbeing, quintile_cdf,
    weekly_noise, weekly_uniform,
};
use super::pcn::Layout;
use crate::params::Params;
use crate::rng::{EntityKind, Key, Purpose, offset};

/// How patients' own processes are stepped. Both follow MODEL.md's rules; they draw their
/// random numbers differently, so they agree in distribution, not draw for draw (the docking
/// test in `tests/integration/model/docking.rs` checks that they agree).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Engine {
    /// Needs and crises change at scheduled events (geometric waits); a patient-week is one
    /// hash, one normal and one comparison, over structure-of-arrays state.
    #[default]
    Fast,
    /// Every rule drawn week by week for every patient, as MODEL.md states it: the plain
    /// implementation the fast engine is checked against.
    Reference,
}

impl Engine {
    pub const ALL: [Engine; 2] = [Engine::Fast, Engine::Reference];

    pub fn name(self) -> &'static str {
        match self {
            Engine::Fast => "fast",
            Engine::Reference => "reference",
        }
    }

    pub fn parse(name: &str) -> Option<Engine> {
        Engine::ALL.into_iter().find(|e| e.name() == name)
    }
}

/// The fast engine's per-patient state of the weekly loop: what a patient-week reads and
/// writes when no event is due, in one record so that the loop walks one array. Everything
/// else stays in the patient's record, brought up to date at events.
#[derive(Clone, Copy, Debug)]
struct Hot {
    key: Key,
    wellbeing: f64,
    /// The wellbeing target (MODEL.md §6.2) for the current needs and crisis.
    target: f64,
    /// The consultation thresholds of an untouched patient (never on a caseload).
    consult: ConsultThresholds,
    /// First week something of the patient's own processes is due.
    next_event: i16,
    q: u8,
}

/// Bytes a population holds per patient (the consultation list at its largest, every
/// patient, included), besides the evaluation's history: for memory estimates.
pub fn bytes_per_patient(engine: Engine) -> usize {
    let common = size_of::<Patient>() + size_of::<u8>() + size_of::<u32>();
    match engine {
        // The loop record and MODEL.md §9.1's history (counted whether kept or not).
        Engine::Fast => common + size_of::<Hot>() + size_of::<u64>(),
        Engine::Reference => common,
    }
}

/// The fast engine's patient `patient` with its loop state `hot` (and MODEL.md §9.1 history
/// `recent`, if kept) put back.
fn with_hot(mut patient: Patient, hot: &Hot, recent: Option<u64>) -> Patient {
    patient.wellbeing = hot.wellbeing;
    if let Some(recent) = recent {
        patient.recent_social = recent;
    }
    patient
}

/// The fast engine: the events due in `week` of a patient (crisis, then needs, as
/// [`Patient::live_week_fast`] runs them), and the loop state they change. `in_crisis`
/// counts the population's patients in crisis.
#[cold]
#[inline(never)]
fn catch_up<const TRAP: bool>(
    patient: &mut Patient,
    hot: &mut Hot,
    week: i32,
    in_crisis: &mut u64,
    p: &Params,
    tables: &NeedTables,
) {
    if TRAP {
        let was = u64::from(patient.in_crisis());
        patient.crisis_events(week, tables, p);
        *in_crisis = *in_crisis - was + u64::from(patient.in_crisis());
    }
    patient.needs = super::needs::need_events(
        patient.key,
        patient.needs,
        &mut patient.next_change,
        usize::from(patient.q),
        week,
        None,
        patient.capacity,
        tables,
        p,
    );
    hot.target = patient.wellbeing_target::<TRAP>(0.0, p, tables);
    hot.consult = patient
        .consult_rates::<TRAP>(p, tables)
        .thresholds(false, p);
    hot.next_event = patient.next_event::<TRAP>(week);
}

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
    engine: Engine,
    /// Every patient's state. With the fast engine, wellbeing and the `n_recent` history are
    /// kept in [`Hot`] instead and only brought back by [`Population::twin`].
    patients: Vec<Patient>,
    hot: Vec<Hot>,
    /// MODEL.md §9.1's consultation history of each patient (fast engine, when the step has
    /// §9.1).
    recent: Vec<u64>,
    /// Σ activation over the patients: constant, as no untouched patient's activation moves
    /// from its baseline (fast engine).
    activation_total: f64,
    /// Patients in crisis now (fast engine, MODEL.md §9.1).
    in_crisis: u64,
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
    #[allow(clippy::too_many_arguments)] // the run's shape, spelled out
    pub fn new(
        pcn: Key,
        layout: &Layout,
        warmup_weeks: u32,
        weeks: u32,
        keep_history: bool,
        engine: Engine,
        p: &'a Params,
        tables: &'a NeedTables,
    ) -> Result<Population<'a>, ModelError> {
        let dist = PatientDistributions::new(p)?;
        let mut patients = draw_patients(pcn, layout, p, tables, &dist);
        let start = -(warmup_weeks as i32);
        if engine == Engine::Fast {
            for patient in &mut patients {
                patient.schedule_events(start, tables);
            }
        }
        let mut quintile_sizes = [0; 5];
        for patient in &patients {
            quintile_sizes[usize::from(patient.q)] += 1;
        }
        let n = patients.len();
        let mut population = Population {
            p,
            tables,
            engine,
            hot: Vec::new(),
            recent: Vec::new(),
            activation_total: patients.iter().map(|pt| pt.activation).sum(),
            in_crisis: patients.iter().map(|pt| u64::from(pt.in_crisis())).sum(),
            patients,
            consults: vec![NO_CONSULT; n],
            consulting: Vec::new(),
            record: WeekRecord::default(),
            history: keep_history.then(|| History::new(n, weeks)),
            quintile_sizes,
            events: None,
            warmup_demand: Vec::with_capacity(warmup_weeks as usize),
        };
        if engine == Engine::Fast {
            population.hot = population.hot_state(start);
            if tables.trap() {
                population.recent = population
                    .patients
                    .iter()
                    .map(|pt| pt.recent_social)
                    .collect();
            }
        }
        population.warm_up(warmup_weeks, layout);
        Ok(population)
    }

    /// The fast engine's loop state of every patient at the start.
    fn hot_state(&self, start: i32) -> Vec<Hot> {
        let trap = self.tables.trap();
        self.patients
            .iter()
            .map(|pt| Hot {
                key: pt.key,
                wellbeing: pt.wellbeing,
                target: self.target_of(pt),
                consult: self.rates_of(pt),
                next_event: if trap {
                    pt.next_event::<true>(start - 1)
                } else {
                    pt.next_event::<false>(start - 1)
                },
                q: pt.q,
            })
            .collect()
    }

    /// The wellbeing target of an untouched patient (no attendance bonus).
    fn target_of(&self, patient: &Patient) -> f64 {
        if self.tables.trap() {
            patient.wellbeing_target::<true>(0.0, self.p, self.tables)
        } else {
            patient.wellbeing_target::<false>(0.0, self.p, self.tables)
        }
    }

    fn rates_of(&self, patient: &Patient) -> ConsultThresholds {
        let rates = if self.tables.trap() {
            patient.consult_rates::<true>(self.p, self.tables)
        } else {
            patient.consult_rates::<false>(self.p, self.tables)
        };
        rates.thresholds(false, self.p)
    }

    pub fn engine(&self) -> Engine {
        self.engine
    }

    /// Registered patients.
    pub fn len(&self) -> usize {
        self.patients.len()
    }

    pub fn is_empty(&self) -> bool {
        self.patients.is_empty()
    }

    /// Patient `i` as the population has it now: the twin an arm copies when it first touches
    /// the patient, and compares its own copy with.
    #[inline]
    pub fn twin(&self, i: usize) -> Patient {
        match self.hot.get(i) {
            Some(hot) => with_hot(self.patients[i], hot, self.recent.get(i).copied()),
            None => self.patients[i],
        }
    }

    /// What the GP's referral offer reads of an untouched patient `i`: its key and `n_recent`
    /// over `weeks` weeks (MODEL.md §6.4, §9.1), without copying the whole patient.
    #[inline]
    pub fn offer_inputs(&self, i: usize, weeks: u32) -> (Key, u32) {
        let patient = &self.patients[i];
        let recent = self.recent.get(i).copied().unwrap_or(patient.recent_social);
        (patient.key, super::patient::recent_count(recent, weeks))
    }

    /// Patient `i`'s wellbeing and activation as the population has them now: what an arm
    /// replaces in the week's sums by its own copy's.
    #[inline]
    pub fn twin_sums(&self, i: usize) -> (f64, f64) {
        let wellbeing = match self.hot.get(i) {
            Some(hot) => hot.wellbeing,
            None => self.patients[i].wellbeing,
        };
        (wellbeing, self.patients[i].activation)
    }

    /// One week of a touched patient's own processes, stepped as this population steps its
    /// own: an arm's copy of a patient follows the same engine as its twin.
    #[inline]
    pub fn live_own(&self, patient: &mut Patient, week: i32) -> Consultation {
        match (self.engine, self.tables.trap()) {
            (Engine::Fast, true) => patient.live_week_fast::<true>(week, self.p, self.tables),
            (Engine::Fast, false) => patient.live_week_fast::<false>(week, self.p, self.tables),
            (Engine::Reference, _) => patient.live_week(i64::from(week), self.p, self.tables),
        }
    }

    /// Weeks −warmup..−1: only the patients' own processes run; nothing is recorded but each
    /// practice's consultations (for GP capacity, MODEL.md §9.2).
    fn warm_up(&mut self, warmup_weeks: u32, layout: &Layout) {
        if self.engine == Engine::Fast {
            for week in -(warmup_weeks as i32)..0 {
                self.live_fast(week, false);
                let mut demand = Vec::new();
                self.practice_demand(layout, &mut demand);
                self.warmup_demand.push(demand);
            }
            return;
        }
        let list_sizes = &layout.list_sizes;
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
        if self.engine == Engine::Fast {
            self.live_fast(week, true);
            return;
        }
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

    /// The fast engine's week: the loop is compiled for each combination of following
    /// patients (traces) and MODEL.md §9.1, as the reference's is. `service` weeks are
    /// recorded (sums, history); warm-up weeks only leave the week's consultations.
    fn live_fast(&mut self, week: i32, service: bool) {
        match (self.events.is_some(), self.tables.trap()) {
            (true, true) => self.live_fast_with::<true, true>(week, service),
            (true, false) => self.live_fast_with::<true, false>(week, service),
            (false, true) => self.live_fast_with::<false, true>(week, service),
            (false, false) => self.live_fast_with::<false, false>(week, service),
        }
    }

    /// [`Population::live_fast`]: for each patient, the events due (rarely), then the week's
    /// wellbeing and consultation from one word, exactly as [`Patient::live_week_fast`] does.
    #[inline(always)]
    fn live_fast_with<const FOLLOW: bool, const TRAP: bool>(&mut self, week: i32, service: bool) {
        let (p, tables) = (self.p, self.tables);
        let draw = offset(Purpose::WeekDraw, i64::from(week));
        let mut rec = WeekRecord::default();
        let mut wellbeing_sum = 0.0;
        let mut low_count = 0;
        let mut medical = 0;
        let mut in_crisis = self.in_crisis;
        // Every array re-sliced to the same length, so that indexing by `i` is not checked.
        let n = self.hot.len();
        let patients = &mut self.patients[..n];
        let consults = &mut self.consults[..n];
        let recent = if TRAP {
            &mut self.recent[..n]
        } else {
            &mut [][..]
        };
        let consulting = &mut self.consulting;
        consulting.clear();
        let mut history = match (service, self.history.as_mut()) {
            (true, Some(h)) => {
                let (c, w) = h.week_mut(week);
                Some((&mut c[..n], &mut w[..n]))
            }
            _ => None,
        };
        let mut events = if FOLLOW { self.events.as_mut() } else { None };
        for (i, hot) in self.hot.iter_mut().enumerate() {
            let before = FOLLOW.then(|| (patients[i].needs, patients[i].crisis_left));
            if i32::from(hot.next_event) <= week {
                catch_up::<TRAP>(&mut patients[i], hot, week, &mut in_crisis, p, tables);
            }
            let word = hot.key.draw_at(draw);
            let noise = weekly_noise(hot.key, week, word, tables);
            let w = next_wellbeing(hot.wellbeing, hot.target, noise, p);
            hot.wellbeing = w;
            let low = w <= p.low_wellbeing_threshold;
            let code = hot.consult.code(weekly_uniform(word), low);
            if TRAP {
                recent[i] = (recent[i] << 1) | u64::from(code == SOCIAL);
            }
            let q = usize::from(hot.q);
            wellbeing_sum += w;
            rec.q_wellbeing_sum[q] += w;
            low_count += u64::from(low);
            consults[i] = code;
            let consulted = code != NO_CONSULT;
            if let Some((consults, wellbeing)) = history.as_mut() {
                consults[i] = u8::from(consulted);
                wellbeing[i] = w as f32;
            }
            rec.q_consults[q] += u64::from(consulted);
            medical += u64::from(code == MEDICAL);
            if consulted {
                consulting.push(i as u32);
            }
            if FOLLOW
                && let (Some(before), Some(log)) = (before, events.as_deref_mut())
                && log.follows(i as u32)
            {
                let twin = with_hot(patients[i], hot, recent.get(i).copied());
                log.lived(week, i as u32, before, &twin, consultation(code));
            }
        }
        rec.medical = medical;
        rec.social = consulting.len() as u64 - medical;
        rec.wellbeing_sum = wellbeing_sum;
        rec.activation_sum = self.activation_total;
        rec.low_wellbeing = low_count;
        rec.in_crisis = in_crisis;
        self.in_crisis = in_crisis;
        self.record = rec;
    }

    /// Checks every patient's state variables are inside their ranges (property tests).
    pub fn check_invariants(&self) -> Result<(), String> {
        for i in 0..self.patients.len() {
            super::pcn::check_patient_ranges(&self.twin(i))
                .map_err(|e| format!("patient {i}: {e}"))?;
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
