//! A PCN's patients living their own lives without social prescribing (MODEL.md §5, §6.1-6.3):
//! initialisation, warm-up, and each week's needs, wellbeing, activation and consultation draw.
//!
//! This trajectory is shared by every arm with the same population parameters. Because every
//! draw is keyed by patient, purpose and week (common random numbers), a patient whom an arm has
//! never offered a referral is in exactly the state this population gives, so an arm only keeps
//! its own copy of the patients it has touched ([`super::pcn::Pcn`]). It is also the no_sp twin
//! the evaluation compares each referred patient with.

mod lanes;

use super::needs::NeedTables;
use super::observe::{EventLog, History, WeekRecord, history_cell};
use super::patient::{Consultation, EVENT_BYTES, Patient, PatientDistributions, quintile_cdf};
use super::pcn::Layout;
use super::{ModelError, prefetch, prefetch_bytes};
use crate::params::Params;
use crate::rng::{EntityKind, Key, Purpose, offset};
use lanes::{Lanes, Records, Scheduled, Step};

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

/// Bytes a population holds per patient (the consultation list at its largest, every
/// patient, included), besides the evaluation's history: for memory estimates.
pub fn bytes_per_patient(engine: Engine) -> usize {
    let common = size_of::<Patient>() + size_of::<u8>() + size_of::<u32>();
    match engine {
        // The loop record and MODEL.md §9.1's history (counted whether kept or not).
        Engine::Fast => common + lanes::LANE_BYTES + size_of::<u64>(),
        Engine::Reference => common,
    }
}

/// The fast engine's patient `patient` with its loop state (`wellbeing`, and MODEL.md §9.1
/// history `recent`, if kept) put back.
fn with_lanes(mut patient: Patient, wellbeing: f64, recent: Option<u64>) -> Patient {
    patient.wellbeing = wellbeing;
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
    week: i32,
    in_crisis: &mut u64,
    p: &Params,
    tables: &NeedTables,
) -> Scheduled {
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
    scheduled::<TRAP>(patient, week, p, tables)
}

/// The patients' records as the fast engine's loop sees them in `week`: events brought up
/// to date, and the full thresholds read.
struct WeekRecords<'r, const TRAP: bool> {
    patients: &'r mut [Patient],
    week: i32,
    /// Patients in crisis, kept up to date by the events.
    in_crisis: &'r mut u64,
    p: &'r Params,
    tables: &'r NeedTables,
}

impl<const TRAP: bool> Records for WeekRecords<'_, TRAP> {
    /// The events due in the week of the patients `due` (ascending ids), and the loop state
    /// they change.
    fn events_due(&mut self, due: &[u32], lanes: &mut Lanes) {
        // The due patients' records are scattered through memory; asking for all of them
        // first lets the processor fetch them together rather than one miss after another.
        // The events read only the record's first line ([`EVENT_BYTES`]).
        for &i in due {
            if let Some(patient) = self.patients.get(i as usize) {
                prefetch_bytes(patient, EVENT_BYTES);
            }
        }
        let (week, p, tables) = (self.week, self.p, self.tables);
        for &i in due {
            let i = i as usize;
            let s = catch_up::<TRAP>(&mut self.patients[i], week, self.in_crisis, p, tables);
            lanes.set(i, s);
        }
    }

    fn thresholds(&self, i: usize) -> super::patient::ConsultThresholds {
        scheduled::<TRAP>(&self.patients[i], self.week, self.p, self.tables).consult
    }
}

/// What an untouched patient's state leaves for the loop, as seen after `week`.
#[inline]
fn scheduled<const TRAP: bool>(
    patient: &Patient,
    week: i32,
    p: &Params,
    tables: &NeedTables,
) -> Scheduled {
    Scheduled {
        // An untouched patient never attends an asset, so there is no attendance bonus.
        target: patient.wellbeing_target::<TRAP>(0.0, p, tables),
        consult: patient
            .consult_rates::<TRAP>(p, tables)
            .thresholds(false, p),
        next_event: patient.next_event::<TRAP>(week),
    }
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

/// The consultation of a consult code. A table rather than a match, for the same reason as
/// the offer's ([`super::referral`]): medical and social codes come in no predictable order.
#[inline]
pub fn consultation(code: u8) -> Consultation {
    const BY_CODE: [Consultation; 3] = [
        Consultation::None,
        Consultation::Medical,
        Consultation::Social,
    ];
    BY_CODE
        .get(usize::from(code))
        .copied()
        .unwrap_or(Consultation::None)
}

pub struct Population<'a> {
    p: &'a Params,
    tables: &'a NeedTables,
    engine: Engine,
    /// Every patient's state. With the fast engine, wellbeing and the `n_recent` history are
    /// kept in [`Lanes`] instead and only brought back by [`Population::twin`].
    patients: Vec<Patient>,
    lanes: Lanes,
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
    /// The seed of each consulting patient's referral stream this service week
    /// (`key.draw(Purpose::Referral, week)`), in the order of `consulting`; empty in warm-up
    /// weeks, when there are no arms. Every arm's GP offer to an untouched patient starts from
    /// it: hashed once here, while the patient's key is in cache, rather than by each arm from
    /// the patient's record.
    pub referral_seeds: Vec<u64>,
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
            lanes: Lanes::default(),
            recent: Vec::new(),
            activation_total: patients.iter().map(|pt| pt.activation).sum(),
            in_crisis: patients.iter().map(|pt| u64::from(pt.in_crisis())).sum(),
            patients,
            consults: vec![NO_CONSULT; n],
            consulting: Vec::new(),
            referral_seeds: Vec::new(),
            record: WeekRecord::default(),
            history: keep_history.then(|| History::new(n, weeks)),
            quintile_sizes,
            events: None,
            warmup_demand: Vec::with_capacity(warmup_weeks as usize),
        };
        if engine == Engine::Fast {
            population.lanes = population.lane_state(start);
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
    fn lane_state(&self, start: i32) -> Lanes {
        let (p, tables) = (self.p, self.tables);
        let mut lanes = Lanes::with_capacity(self.patients.len());
        for pt in &self.patients {
            let scheduled = if tables.trap() {
                scheduled::<true>(pt, start - 1, p, tables)
            } else {
                scheduled::<false>(pt, start - 1, p, tables)
            };
            lanes.push(pt.key, pt.wellbeing, pt.q, scheduled);
        }
        lanes
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
        match self.lanes.wellbeing.get(i) {
            Some(&w) => with_lanes(self.patients[i], w, self.recent.get(i).copied()),
            None => self.patients[i],
        }
    }

    /// Brings an arm's copy of patient `i` that still follows its twin to the twin's state
    /// after this week ([`Patient::live_as_twin`]), reading only what the week changed.
    #[inline]
    pub fn follow_twin(&self, i: usize, patient: &mut Patient) {
        let twin = &self.patients[i];
        match self.lanes.wellbeing.get(i) {
            Some(&w) => patient.live_as_twin(twin, w, self.recent.get(i).copied()),
            None => patient.live_as_twin(twin, twin.wellbeing, Some(twin.recent_social)),
        }
    }

    /// MODEL.md §9.1's `n_recent` of an untouched patient `i` over `weeks` weeks, for the GP's
    /// referral offer (§6.4), without copying the whole patient. Nothing is read when no week
    /// is counted.
    #[inline]
    pub fn recent_social(&self, i: usize, weeks: u32) -> u32 {
        if weeks == 0 {
            return 0;
        }
        let recent = match self.recent.get(i) {
            Some(&recent) => recent,
            None => self.patients[i].recent_social,
        };
        super::patient::recent_count(recent, weeks)
    }

    /// Asks for what an arm reads of patient `i`'s twin to be brought into cache: its week's
    /// consultation and wellbeing, and the first line of its record if the arm's copy still
    /// follows it (`whole`; [`Population::follow_twin`] reads no more). The arm visits its
    /// touched patients in id order, scattered through the population.
    #[inline(always)]
    pub fn prefetch_twin(&self, i: usize, whole: bool) {
        if let Some(code) = self.consults.get(i) {
            prefetch(code);
        }
        if let Some(w) = self.lanes.wellbeing.get(i) {
            prefetch(w);
        }
        if whole && let Some(patient) = self.patients.get(i) {
            prefetch_bytes(patient, EVENT_BYTES);
        }
    }

    /// Patient `i`'s wellbeing as the population has it now: what an arm replaces in the
    /// week's sums by its own copy's. (The twin's activation, the other such sum, is its
    /// baseline `a0`, which the arm's copy holds too: an untouched patient's activation starts
    /// at `a0` and its drift towards `a0` leaves it there exactly.)
    #[inline]
    pub fn twin_wellbeing(&self, i: usize) -> f64 {
        match self.lanes.wellbeing.get(i) {
            Some(&w) => w,
            None => self.patients[i].wellbeing,
        }
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
        self.referral_seeds.clear();
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
            if let Some(cells) = history.as_mut() {
                cells[i] = history_cell(code != NO_CONSULT, w);
            }
            if code != NO_CONSULT {
                self.consulting.push(i as u32);
                self.referral_seeds
                    .push(patient.key.draw(Purpose::Referral, i64::from(week)));
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

    /// [`Population::live_fast`], block by block ([`lanes`]): the events due (rarely), then
    /// the week's wellbeing and consultation from one word per patient, exactly as
    /// [`Patient::live_week_fast`] does, and the week's sums and records.
    #[inline(always)]
    fn live_fast_with<const FOLLOW: bool, const TRAP: bool>(&mut self, week: i32, service: bool) {
        let (p, tables) = (self.p, self.tables);
        let step = Step {
            draw: offset(Purpose::WeekDraw, i64::from(week)),
            week,
            saturating: lanes::saturating(p),
            noise: &tables.noise,
            p,
        };
        let mut scratch = lanes::Scratch::new();
        let mut counts = lanes::Counts::default();
        let mut in_crisis = self.in_crisis;
        let referral = offset(Purpose::Referral, i64::from(week));
        let n = self.lanes.len();
        // With §9.1 every patient has a history to shift, or a block would skip its own.
        debug_assert!(!TRAP || self.recent.len() == n);
        self.consulting.clear();
        self.referral_seeds.clear();
        let mut before = Vec::new();
        let mut start = 0;
        while start < n {
            let end = (start + lanes::BLOCK).min(n);
            if FOLLOW {
                before.clear();
                before.extend(
                    self.patients[start..end]
                        .iter()
                        .map(|pt| (pt.needs, pt.crisis_left)),
                );
            }
            let block = lanes::Block {
                start,
                codes: &mut self.consults[start..end],
                consulting: &mut self.consulting,
                recent: self.recent.get_mut(start..end).filter(|_| TRAP),
                history: match self.history.as_mut() {
                    Some(h) if service => Some(&mut h.week_mut(week)[start..end]),
                    _ => None,
                },
            };
            let mut records = WeekRecords::<TRAP> {
                patients: &mut self.patients,
                week,
                in_crisis: &mut in_crisis,
                p,
                tables,
            };
            counts.add(&lanes::step_block(
                step,
                &mut self.lanes,
                block,
                &mut scratch,
                &mut records,
            ));
            // Only service weeks have arms to make offers.
            if service {
                let keys = &self.lanes.key;
                let new = &self.consulting[self.referral_seeds.len()..];
                self.referral_seeds
                    .extend(new.iter().map(|&i| keys[i as usize].draw_at(referral)));
            }
            if FOLLOW {
                self.log_block(week, start, end, &before);
            }
            start = end;
        }
        self.in_crisis = in_crisis;
        self.record = WeekRecord {
            medical: counts.medical,
            social: self.consulting.len() as u64 - counts.medical,
            q_consults: counts.q_consults,
            wellbeing_sum: counts.wellbeing_sum(),
            q_wellbeing_sum: counts.q_wellbeing_sum(),
            activation_sum: self.activation_total,
            low_wellbeing: counts.low,
            in_crisis,
            ..WeekRecord::default()
        };
    }

    /// The week of the followed patients of a block, with their needs and crisis `before`
    /// the week's events, into the event log.
    #[cold]
    fn log_block(&mut self, week: i32, start: usize, end: usize, before: &[(u8, u16)]) {
        let Some(log) = self.events.as_mut() else {
            return;
        };
        for i in start..end {
            if log.follows(i as u32) {
                let twin = with_lanes(
                    self.patients[i],
                    self.lanes.wellbeing[i],
                    self.recent.get(i).copied(),
                );
                let code = self.consults[i];
                log.lived(week, i as u32, before[i - start], &twin, consultation(code));
            }
        }
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
    fn consult_codes_and_consultations_map_one_to_one() {
        for c in [
            Consultation::None,
            Consultation::Medical,
            Consultation::Social,
        ] {
            assert_eq!(consultation(consult_code(c)), c);
        }
        for code in [NO_CONSULT, MEDICAL, SOCIAL] {
            assert_eq!(consult_code(consultation(code)), code);
        }
        assert_eq!(consultation(7), Consultation::None);
    }

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
