//! A primary care network and its weekly schedule (MODEL.md §3): patients, practices, the
//! queue, link workers and assets of one PCN, stepped one week at a time. PCNs never interact,
//! so a run is a set of independent PCNs.

use std::collections::VecDeque;

use rand::Rng;

use super::asset::{
    Asset, attendance_probability, closure_probability, draw_capacity, initial_assets,
    opening_probability,
};
use super::link_worker::{CaseEntry, LinkWorker, SessionEnd, pressure, session, session_stream};
use super::needs::{NEED_COUNT, NeedTables};
use super::patient::{Consultation, NO_REFERRAL, Patient, Pathway, saturating_gain};
use super::practice::Practice;
use super::referral::{
    Attendance, Outcome, Referral, accept_referral, give_up_probability, offer_referral,
};
use crate::engine::rng::{EntityKind, Key, Purpose, unit_f64};
use crate::metrics::evaluation::History;
use crate::metrics::weekly::WeekRecord;
use crate::params::Params;

/// How the PCN's patients are split into practices.
#[derive(Clone, Copy, Debug)]
pub struct Layout {
    pub practices: u32,
    pub patients_per_practice: u32,
}

impl Layout {
    pub fn patients(&self) -> usize {
        self.practices as usize * self.patients_per_practice as usize
    }
}

/// Draws a PCN's patients (MODEL.md §5). Arms share them: the draws depend only on the key.
pub fn populate(
    pcn: Key,
    layout: Layout,
    p: &Params,
    tables: &NeedTables,
) -> Result<Vec<Patient>, String> {
    let dist = super::patient::PatientDistributions::new(p)?;
    Ok((0..layout.patients())
        .map(|i| Patient::new(pcn.entity(EntityKind::Patient, i as u64), p, tables, &dist))
        .collect())
}

/// The warm-up (weeks −warmup..−1): only the patients' own processes run, no referrals.
pub fn warm_up(patients: &mut [Patient], warmup_weeks: u32, p: &Params, tables: &NeedTables) {
    for week in -i64::from(warmup_weeks)..0 {
        for patient in patients.iter_mut() {
            patient.live_week(week, p, tables);
        }
    }
}

/// One PCN in one arm, from week 0 of the service.
pub struct Pcn<'a> {
    key: Key,
    p: &'a Params,
    tables: &'a NeedTables,
    /// Whether this arm runs the link-worker service at all (false for no_sp).
    service: bool,
    layout: Layout,
    pub patients: Vec<Patient>,
    pub practices: Vec<Practice>,
    pub queue: VecDeque<u32>,
    pub link_workers: Vec<LinkWorker>,
    pub assets: Vec<Asset>,
    /// Every accepted referral, in order of acceptance.
    pub referrals: Vec<Referral>,
    quintile_sizes: [u64; 5],
}

impl<'a> Pcn<'a> {
    /// Starts the service at week 0 with the warmed-up patients: trust set to the arm's
    /// `trust0`, practices at `buy_in0`, `lw_per_pcn` link workers, the initial assets.
    pub fn start(
        key: Key,
        mut patients: Vec<Patient>,
        layout: Layout,
        service: bool,
        p: &'a Params,
        tables: &'a NeedTables,
    ) -> Pcn<'a> {
        let mut quintile_sizes = [0; 5];
        for patient in &mut patients {
            patient.trust = p.trust0;
            quintile_sizes[usize::from(patient.q)] += 1;
        }
        let link_workers = if service {
            (0..p.lw_per_pcn).map(|_| LinkWorker::new(p)).collect()
        } else {
            Vec::new()
        };
        Pcn {
            key,
            p,
            tables,
            service,
            layout,
            patients,
            practices: (0..layout.practices)
                .map(|_| Practice::new(layout.patients_per_practice, p))
                .collect(),
            queue: VecDeque::new(),
            link_workers,
            assets: initial_assets(key, p),
            referrals: Vec::new(),
            quintile_sizes,
        }
    }

    fn practice_of(&self, patient: u32) -> usize {
        (patient / self.layout.patients_per_practice) as usize
    }

    /// One week of the schedule (MODEL.md §3). `history`, if given, receives each patient's
    /// consultations and wellbeing for the evaluation.
    pub fn step(&mut self, week: i32, mut history: Option<&mut History>) -> WeekRecord {
        let mut rec = WeekRecord::default();
        self.patients_week(week, &mut rec, history.as_deref_mut());
        if self.service {
            self.queue_week(week, &mut rec);
            self.link_workers_week(week, &mut rec, history.as_deref_mut());
            self.assets_week(week, &mut rec, history.as_deref_mut());
            self.staff_week(week, &mut rec);
            self.practices_week(week);
        }
        self.record_stocks(&mut rec);
        rec
    }

    /// Step 1: each patient's needs, wellbeing, activation and consultation, then a possible
    /// referral offer and the patient's answer.
    fn patients_week(&mut self, week: i32, rec: &mut WeekRecord, history: Option<&mut History>) {
        let p = self.p;
        let tables = self.tables;
        let (mut h_consults, mut h_wellbeing) = match history {
            Some(h) => {
                let (c, w) = h.week_mut(week);
                (Some(c), Some(w))
            }
            None => (None, None),
        };
        let mut wellbeing_sum = 0.0;
        let mut activation_sum = 0.0;
        let mut low = 0;
        let mut q_wellbeing = [0.0; 5];
        for i in 0..self.patients.len() {
            let patient = &mut self.patients[i];
            let consultation = patient.live_week(i64::from(week), p, tables);
            let q = usize::from(patient.q);
            let w = patient.wellbeing;
            wellbeing_sum += w;
            q_wellbeing[q] += w;
            activation_sum += patient.activation;
            low += u64::from(w <= p.low_wellbeing_threshold);
            if let Some(h) = h_wellbeing.as_deref_mut() {
                h[i] = w as f32;
            }
            if consultation == Consultation::None {
                if let Some(h) = h_consults.as_deref_mut() {
                    h[i] = 0;
                }
                continue;
            }
            if let Some(h) = h_consults.as_deref_mut() {
                h[i] = 1;
            }
            rec.q_consults[q] += 1;
            match consultation {
                Consultation::Medical => rec.medical += 1,
                _ => rec.social += 1,
            }
            if self.service && week >= 0 && self.patients[i].can_be_referred(week) {
                self.offer(i as u32, consultation, week, rec);
            }
        }
        rec.wellbeing_sum = wellbeing_sum;
        rec.activation_sum = activation_sum;
        rec.low_wellbeing = low;
        rec.q_wellbeing_sum = q_wellbeing;
    }

    /// Step 1, after a consultation: the GP's offer and the patient's acceptance (§6.4).
    fn offer(&mut self, i: u32, consultation: Consultation, week: i32, rec: &mut WeekRecord) {
        let p = self.p;
        let buy_in = self.practices[self.practice_of(i)].buy_in;
        let patient = &mut self.patients[i as usize];
        let mut rng = patient.key.stream(Purpose::Referral, i64::from(week));
        let (u_offer, u_accept) = (unit_f64(rng.next_u64()), unit_f64(rng.next_u64()));
        let Some(inappropriate) = offer_referral(consultation, buy_in, u_offer, p) else {
            return;
        };
        rec.offered += 1;
        rec.offered_inappropriate += u64::from(inappropriate);
        if !accept_referral(patient, u_accept, p) {
            rec.declined += 1;
            patient.cooldown_until = week.saturating_add(p.cooldown_weeks as i32);
            return;
        }
        rec.accepted += 1;
        rec.q_accepted[usize::from(patient.q)] += 1;
        let first_of_patient = patient.referral == NO_REFERRAL;
        patient.referral = self.referrals.len() as u32;
        patient.pathway = Pathway::Waiting;
        self.referrals.push(Referral {
            patient: i,
            accepted_week: week,
            inappropriate,
            first_of_patient,
            first_session_week: None,
            sessions: 0,
            outcome: Outcome::Pending,
            attendance: Attendance::NotConnected,
        });
        self.queue.push_back(i);
    }

    /// Step 2: waiting patients may give up.
    fn queue_week(&mut self, week: i32, rec: &mut WeekRecord) {
        let p = self.p;
        let Pcn {
            queue,
            patients,
            referrals,
            ..
        } = self;
        queue.retain(|&i| {
            let patient = &mut patients[i as usize];
            let u = unit_f64(
                patient
                    .key
                    .stream(Purpose::Waiting, i64::from(week))
                    .next_u64(),
            );
            if u < give_up_probability(patient.trust, p) {
                patient.leave_pathway(week, p.cooldown_weeks);
                referrals[patient.referral as usize].outcome = Outcome::GaveUp;
                rec.gave_up += 1;
                false
            } else {
                true
            }
        });
    }

    /// Step 3: in index order, each link worker's vacancy is filled if due, free places are
    /// filled from the head of the queue, then each patient on the caseload has a session.
    fn link_workers_week(&mut self, week: i32, rec: &mut WeekRecord, mut history: Option<&mut History>) {
        let p = self.p;
        let cap = p.caseload_cap();
        let per_practice = self.layout.patients_per_practice;
        let Pcn {
            queue,
            patients,
            referrals,
            link_workers,
            practices,
            assets,
            ..
        } = self;
        for lw in link_workers.iter_mut() {
            lw.fill_vacancy(week, p);
            if !lw.active {
                continue;
            }
            while lw.caseload.len() < cap {
                let Some(i) = queue.pop_front() else { break };
                patients[i as usize].pathway = Pathway::Supported;
                lw.caseload.push(CaseEntry {
                    patient: i,
                    sessions: 0,
                    holding: false,
                });
            }
            let mut caseload = std::mem::take(&mut lw.caseload);
            caseload.retain_mut(|case| {
                let i = case.patient as usize;
                let patient = &mut patients[i];
                let referral = &mut referrals[patient.referral as usize];
                if referral.first_session_week.is_none() {
                    referral.first_session_week = Some(week);
                    rec.first_intakes += 1;
                }
                let practice = &mut practices[(case.patient / per_practice) as usize];
                let activation_before = patient.activation;
                let rng = session_stream(patient, week);
                let report = session(
                    lw,
                    case,
                    patient,
                    referral.inappropriate,
                    &mut practice.buy_in,
                    assets,
                    rng,
                    week,
                    p,
                );
                rec.activation_sum += patient.activation - activation_before;
                referral.sessions += 1;
                rec.sessions += 1;
                rec.no_capacity += u64::from(report.no_capacity);
                if report.generated > 0 {
                    count_generated(rec, history.as_deref_mut(), patient, i, week, report.generated);
                }
                match report.end {
                    SessionEnd::Continue => return true,
                    SessionEnd::Bounced => {
                        referral.outcome = Outcome::Bounced;
                        rec.bounced += 1;
                    }
                    SessionEnd::DroppedOut => {
                        referral.outcome = Outcome::DroppedOut;
                        rec.dropped_out += 1;
                    }
                    SessionEnd::DischargedUnconnected => {
                        referral.outcome = Outcome::DischargedUnconnected;
                        rec.discharged_unconnected += 1;
                    }
                    SessionEnd::Connected(_) => {
                        referral.outcome = Outcome::Connected;
                        referral.attendance = Attendance::Attending;
                        rec.connections += 1;
                        rec.q_connections[usize::from(patient.q)] += 1;
                        practice.connections_this_week += 1;
                    }
                }
                false
            });
            lw.caseload = caseload;
        }
    }

    /// Step 4: attendance of connected patients, completions, closures, openings.
    fn assets_week(&mut self, week: i32, rec: &mut WeekRecord, mut history: Option<&mut History>) {
        let p = self.p;
        let key = self.key;
        let Pcn {
            patients,
            referrals,
            assets,
            ..
        } = self;
        for asset in assets.iter_mut().filter(|a| a.open) {
            let category = asset.category;
            asset.occupants.retain_mut(|occupant| {
                let patient = &mut patients[occupant.patient as usize];
                let u = unit_f64(
                    patient
                        .key
                        .stream(Purpose::Attendance, i64::from(week))
                        .next_u64(),
                );
                if u < attendance_probability(patient.activation, p) {
                    let before = patient.activation;
                    patient.activation = saturating_gain(patient.activation, p.attend_activation);
                    rec.activation_sum += patient.activation - before;
                    patient.attended = category + 1;
                }
                occupant.weeks_left -= 1;
                if occupant.weeks_left > 0 {
                    return true;
                }
                patient.leave_pathway(week, p.cooldown_weeks);
                referrals[patient.referral as usize].attendance = Attendance::Completed;
                rec.completed += 1;
                false
            });
        }
        for (index, asset) in assets.iter_mut().enumerate() {
            if !asset.open {
                continue;
            }
            let u = unit_f64(
                key.entity(EntityKind::Asset, index as u64)
                    .stream(Purpose::AssetClosure, i64::from(week))
                    .next_u64(),
            );
            if u < closure_probability(asset.is_full(), p) {
                close_asset(asset, patients, referrals, week, rec, history.as_deref_mut(), p);
            }
        }
        for k in 0..NEED_COUNT {
            let mut rng = key
                .entity(EntityKind::AssetCategory, k as u64)
                .stream(Purpose::AssetOpening, i64::from(week));
            if unit_f64(rng.next_u64()) < opening_probability(k, p) {
                assets.push(Asset {
                    category: k as u8,
                    capacity: draw_capacity(unit_f64(rng.next_u64()), p),
                    occupants: Vec::new(),
                    open: true,
                });
                rec.asset_openings += 1;
            }
        }
    }

    /// Step 5: link-worker stress under queue pressure, turnover, and knowledge growth.
    fn staff_week(&mut self, week: i32, rec: &mut WeekRecord) {
        let p = self.p;
        let active = self.link_workers.iter().filter(|l| l.active).count();
        let pressure = pressure(self.queue.len(), active, p.caseload_cap());
        let mut handed_back: Vec<CaseEntry> = Vec::new();
        for (index, lw) in self.link_workers.iter_mut().enumerate() {
            if !lw.active {
                continue;
            }
            lw.update_stress(pressure, p);
            let u = unit_f64(
                self.key
                    .entity(EntityKind::LinkWorker, index as u64)
                    .stream(Purpose::Turnover, i64::from(week))
                    .next_u64(),
            );
            if u < lw.turnover_probability(p) {
                rec.lw_leavers += 1;
                handed_back.extend(lw.leave(week, p));
            } else {
                lw.learn(p);
            }
        }
        // The lowest-index leaver's caseload ends up at the head of the queue, in caseload order.
        for case in handed_back.iter().rev() {
            let patient = &mut self.patients[case.patient as usize];
            patient.pathway = Pathway::Waiting;
            patient.trust *= p.turnover_trust_retained;
            self.queue.push_front(case.patient);
        }
    }

    /// Step 6: GP buy-in per practice.
    fn practices_week(&mut self, week: i32) {
        let p = self.p;
        for (index, practice) in self.practices.iter_mut().enumerate() {
            let mut rng = self
                .key
                .entity(EntityKind::Practice, index as u64)
                .stream(Purpose::Feedback, i64::from(week));
            practice.update_buy_in(|| unit_f64(rng.next_u64()), p);
        }
    }

    /// Step 7: the week's stocks.
    fn record_stocks(&self, rec: &mut WeekRecord) {
        rec.patients = self.patients.len() as u64;
        rec.q_patients = self.quintile_sizes;
        rec.waiting = self.queue.len() as u64;
        for lw in &self.link_workers {
            if lw.active {
                rec.lw_active += 1;
                rec.supported += lw.caseload.len() as u64;
                rec.lw_stress_sum += lw.stress;
            } else {
                rec.lw_vacant += 1;
            }
        }
        for asset in self.assets.iter().filter(|a| a.open) {
            rec.assets_open += 1;
            rec.asset_places += u64::from(asset.capacity);
            rec.asset_occupied += asset.occupants.len() as u64;
        }
        rec.connected = rec.asset_occupied;
        if self.service {
            rec.practices = self.practices.len() as u64;
            rec.buy_in_sum = self.practices.iter().map(|pr| pr.buy_in).sum();
        }
    }

    /// Checks the model's invariants; used by property tests after every week.
    pub fn check_invariants(&self) -> Result<(), String> {
        let p = self.p;
        let mut counts = [0usize; 4];
        for (i, patient) in self.patients.iter().enumerate() {
            counts[patient.pathway as usize] += 1;
            let in_unit = |x: f64| (0.0..=1.0).contains(&x);
            if !(14.0..=70.0).contains(&patient.wellbeing) {
                return Err(format!("patient {i}: wellbeing {} outside [14, 70]", patient.wellbeing));
            }
            if !in_unit(patient.activation) || !in_unit(patient.trust) {
                return Err(format!("patient {i}: activation or trust outside [0, 1]"));
            }
        }
        let supported: usize = self.link_workers.iter().map(|l| l.caseload.len()).sum();
        let connected: usize = self.assets.iter().map(|a| a.occupants.len()).sum();
        let expected = [
            self.patients.len() - self.queue.len() - supported - connected,
            self.queue.len(),
            supported,
            connected,
        ];
        if counts != expected {
            return Err(format!(
                "pathway counts {counts:?} (idle, waiting, supported, connected) do not match the structures {expected:?}"
            ));
        }
        for i in &self.queue {
            if self.patients[*i as usize].pathway != Pathway::Waiting {
                return Err(format!("patient {i} is queued but not waiting"));
            }
        }
        let cap = p.caseload_cap();
        for (l, lw) in self.link_workers.iter().enumerate() {
            if lw.caseload.len() > cap || (!lw.active && !lw.caseload.is_empty()) {
                return Err(format!("link worker {l}: caseload {} over cap {cap}", lw.caseload.len()));
            }
            if lw.stress < 0.0 || !(0.0..=1.0).contains(&lw.knowledge) {
                return Err(format!("link worker {l}: stress {} or knowledge {} invalid", lw.stress, lw.knowledge));
            }
            for case in &lw.caseload {
                if self.patients[case.patient as usize].pathway != Pathway::Supported {
                    return Err(format!("patient {} on a caseload but not supported", case.patient));
                }
            }
        }
        for (a, asset) in self.assets.iter().enumerate() {
            if asset.occupants.len() as u32 > asset.capacity || (!asset.open && !asset.occupants.is_empty()) {
                return Err(format!("asset {a}: {} occupants for {} places", asset.occupants.len(), asset.capacity));
            }
            for occupant in &asset.occupants {
                if self.patients[occupant.patient as usize].pathway != Pathway::Connected {
                    return Err(format!("patient {} at an asset but not connected", occupant.patient));
                }
            }
        }
        for (j, practice) in self.practices.iter().enumerate() {
            if !(0.0..=1.0).contains(&practice.buy_in) {
                return Err(format!("practice {j}: buy-in {} outside [0, 1]", practice.buy_in));
            }
        }
        Ok(())
    }
}

/// Closes an asset: occupants leave the pathway and each may return to the GP.
fn close_asset(
    asset: &mut Asset,
    patients: &mut [Patient],
    referrals: &mut [Referral],
    week: i32,
    rec: &mut WeekRecord,
    mut history: Option<&mut History>,
    p: &Params,
) {
    asset.open = false;
    rec.asset_closures += 1;
    for occupant in asset.occupants.drain(..) {
        let i = occupant.patient as usize;
        let patient = &mut patients[i];
        patient.leave_pathway(week, p.cooldown_weeks);
        referrals[patient.referral as usize].attendance = Attendance::AssetClosed;
        let u = unit_f64(
            patient
                .key
                .stream(Purpose::ClosureReturn, i64::from(week))
                .next_u64(),
        );
        if u < p.closure_return {
            count_generated(rec, history.as_deref_mut(), patient, i, week, 1);
        }
    }
}

/// Counts GP consultations caused by the pathway.
fn count_generated(
    rec: &mut WeekRecord,
    history: Option<&mut History>,
    patient: &Patient,
    index: usize,
    week: i32,
    n: u32,
) {
    rec.generated += u64::from(n);
    rec.q_consults[usize::from(patient.q)] += u64::from(n);
    if let Some(h) = history {
        h.add_generated(week, index, n);
    }
}
