//! A primary care network in one arm and its weekly schedule (MODEL.md §3): practices, the
//! queue, link workers and assets of one PCN, stepped one week at a time, on top of the
//! population's own trajectory ([`Population`]). PCNs never interact, so a run is a set of
//! independent PCNs.
//!
//! The arm keeps its own copy of a patient from the week it first offers them a referral; until
//! then the patient is, draw for draw, the population's patient (common random numbers), so
//! nothing is copied or recomputed for the great majority who are never referred.

use std::collections::VecDeque;

use rand::Rng;

use super::access::GpAccess;
use super::asset::{
    Asset, ByCategory, attendance_probability, by_category, closure_probability, draw_capacity,
    initial_assets, opening_probability, scaled_asset_counts,
};
use super::link_worker::{CaseEntry, LinkWorker, SessionDraws, SessionEnd, pressure, session};
use super::observe::{Cohort, Ending, EventKind, EventLog, EventSink, TouchedWeek, WeekRecord};
use super::patient::{Consultation, NO_REFERRAL, Pathway, Patient, recent_count, saturating_gain};
use super::population::{NO_CONSULT, Population, consultation};
use super::practice::Practice;
use super::referral::{
    Attendance, Outcome, Referral, Route, accept_referral, eligible_for_other_routes,
    give_up_probability, offer_referral, other_route,
};
use crate::params::Params;
use crate::params::{NEED_COUNT, QUINTILE_COUNT};
use crate::rng::{EntityKind, Key, Purpose, stream_word, unit_f64};

/// How the PCN's patients are split into practices, and where each practice's patients sit
/// on the deprivation scale. Practices are contiguous blocks of patient ids, in order.
#[derive(Clone, Debug, PartialEq)]
pub struct Layout {
    /// Registered patients of each practice.
    pub list_sizes: Vec<u32>,
    /// Each practice's deprivation quintile shares (q1 most deprived … q5), or `None`: every
    /// patient is drawn from the `deprivation_shares` parameter (the synthetic PCN of v1.0).
    pub mixes: Option<Vec<[f64; QUINTILE_COUNT]>>,
    /// First patient id of each practice (derived from `list_sizes`).
    starts: Vec<u32>,
}

impl Layout {
    /// `practices` practices of `list_size` patients each, drawn from `deprivation_shares`.
    pub fn uniform(practices: u32, list_size: u32) -> Layout {
        Layout::new(vec![list_size; practices as usize], None)
    }

    /// Practices of the given list sizes, each with its own quintile mix if `mixes` is given
    /// (one per practice).
    pub fn new(list_sizes: Vec<u32>, mixes: Option<Vec<[f64; QUINTILE_COUNT]>>) -> Layout {
        let mut starts = Vec::with_capacity(list_sizes.len());
        let mut next = 0u32;
        for &size in &list_sizes {
            starts.push(next);
            next = next.saturating_add(size);
        }
        Layout {
            list_sizes,
            mixes,
            starts,
        }
    }

    /// Registered patients of the PCN.
    pub fn patients(&self) -> usize {
        self.list_sizes.iter().map(|&n| n as usize).sum()
    }

    pub fn practices(&self) -> usize {
        self.list_sizes.len()
    }

    /// The practice of a patient id (ids are contiguous blocks per practice).
    pub fn practice_of(&self, patient: u32) -> usize {
        self.starts
            .partition_point(|&start| start <= patient)
            .saturating_sub(1)
    }

    /// The quintile shares patients of practice `practice` are drawn from, if it has its own.
    pub fn mix(&self, practice: usize) -> Option<&[f64; QUINTILE_COUNT]> {
        self.mixes.as_ref().and_then(|m| m.get(practice))
    }
}

/// Marker for a patient the arm has never touched.
const NO_SLOT: u32 = u32::MAX;

/// Which patients an arm has touched, a bit each: what [`Pcn::slot_of`] says with 32 bits, in
/// memory small enough (6 KB for 48,000 patients) to stay in the first-level cache while the
/// week's consultations are searched for offers ([`Pcn::find_untouched_offers`]).
struct TouchedSet {
    words: Vec<u64>,
}

impl TouchedSet {
    fn new(patients: usize) -> TouchedSet {
        TouchedSet {
            words: vec![0; patients.div_ceil(64)],
        }
    }

    fn insert(&mut self, i: usize) {
        self.words[i / 64] |= 1 << (i % 64);
    }

    #[inline(always)]
    fn contains(&self, i: usize) -> bool {
        self.words[i / 64] >> (i % 64) & 1 == 1
    }
}

/// One PCN in one arm, from week 0 of the service.
pub struct Pcn<'a> {
    key: Key,
    p: &'a Params,
    /// Whether this arm runs the link-worker service at all (false for no_sp).
    service: bool,
    layout: Layout,
    /// The arm's own copies of the patients it has touched, by slot (order of touching).
    pub touched: Vec<Patient>,
    /// Whether the patient in each slot still lives exactly its twin's own processes (needs,
    /// crises, wellbeing, consultations): true from touching until the patient first joins a
    /// caseload, the first thing that can change them (sessions move activation and lead to
    /// attendance; a caseload brings the holding relief). Until then step 1 copies the
    /// population's week instead of living it again.
    follows_twin: Vec<bool>,
    /// Slot in `touched` of each patient, [`NO_SLOT`] if never offered a referral.
    pub slot_of: Vec<u32>,
    /// The patients with a slot.
    touched_set: TouchedSet,
    /// The touched patients, by ascending id: the order in which step 1 visits them.
    touched_ids: Vec<TouchedId>,
    /// The touched patients' consultations and wellbeing of the week, for the evaluation.
    pub this_week: Option<TouchedWeek>,
    /// The evaluation's cohort, followed week by week (kept with `this_week`).
    pub cohort: Option<Cohort>,
    pub practices: Vec<Practice>,
    pub queue: VecDeque<u32>,
    pub link_workers: Vec<LinkWorker>,
    pub assets: Vec<Asset>,
    /// The assets of each category, for the link workers' search.
    assets_by_category: ByCategory,
    /// Assets of each category the PCN started with: `asset_count` scaled to its patients
    /// (MODEL.md §5, v1.1); the opening rate uses them.
    asset_counts: [u32; NEED_COUNT],
    /// Every accepted referral, in order of acceptance.
    pub referrals: Vec<Referral>,
    quintile_sizes: [u64; 5],
    /// Events of followed patients, for traces (`None`, the default, follows nobody). Each is
    /// emitted where the week's record counts the same thing.
    pub events: Option<EventLog>,
    /// Each practice's GP appointment capacity and backlog, if limited (MODEL.md §9.2).
    access: Option<GpAccess>,
    /// Scratch: this week's consultations per practice as the population made them.
    practice_demand: Vec<u32>,
    /// Scratch: this week's GP offers to untouched patients ([`Pcn::find_untouched_offers`]).
    untouched_offers: Vec<UntouchedOffer>,
}

/// A touched patient's id and its slot in [`Pcn::touched`], kept together so that step 1
/// knows the slots of the patients it will visit next (and asks for their records early).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct TouchedId {
    id: u32,
    slot: u32,
}

/// The GP's offer to an untouched patient who consulted this week, found before step 1
/// visits the patient ([`Pcn::find_untouched_offers`]).
#[derive(Clone, Copy, Debug)]
struct UntouchedOffer {
    id: u32,
    offer: Offer,
    /// The uniform of the patient's answer.
    u_accept: f64,
}

/// How many touched patients ahead step 1 asks for records: enough for the misses to
/// overlap, few enough that the records are still in cache when visited.
const PREFETCH_AHEAD: usize = 8;

/// A referral as it is made: who made it, and whether it is inappropriate (GP route only).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Offer {
    route: Route,
    inappropriate: bool,
}

impl<'a> Pcn<'a> {
    /// Starts the service at week 0 over the warmed-up population: practices at `buy_in0`,
    /// one active link worker per post (`posts` holds each post's FTE; see
    /// [`super::link_worker::posts`]), the initial assets scaled to the PCN's patients.
    /// Untouched patients have the arm's `trust0`.
    pub fn start(
        key: Key,
        layout: &Layout,
        posts: &[f64],
        (service, keep_history): (bool, bool),
        p: &'a Params,
        population: &Population,
    ) -> Pcn<'a> {
        let link_workers = if service {
            posts.iter().map(|&fte| LinkWorker::new(fte, p)).collect()
        } else {
            Vec::new()
        };
        let asset_counts = scaled_asset_counts(p, layout.patients() as u64);
        let assets = initial_assets(key, &asset_counts, p);
        Pcn {
            key,
            p,
            service,
            layout: layout.clone(),
            touched: Vec::new(),
            follows_twin: Vec::new(),
            slot_of: vec![NO_SLOT; layout.patients()],
            touched_set: TouchedSet::new(layout.patients()),
            touched_ids: Vec::new(),
            this_week: (service && keep_history).then(TouchedWeek::default),
            cohort: (service && keep_history).then(Cohort::default),
            practices: layout
                .list_sizes
                .iter()
                .map(|&size| Practice::new(size, p))
                .collect(),
            queue: VecDeque::new(),
            link_workers,
            assets_by_category: by_category(&assets),
            assets,
            asset_counts,
            referrals: Vec::new(),
            quintile_sizes: population.quintile_sizes,
            events: None,
            access: p
                .gp_capacity_limited()
                .then(|| GpAccess::new(&layout.list_sizes, &population.warmup_demand, p)),
            practice_demand: Vec::new(),
            untouched_offers: Vec::new(),
        }
    }

    /// Gives the arm its own copy of every patient, as if each had already been offered a
    /// referral. The arm then simulates every patient itself, none following its twin: the
    /// straightforward reference the tests compare the shared-population optimisations against.
    pub fn touch_everyone(&mut self, population: &Population) {
        if !self.service {
            return;
        }
        for i in 0..population.len() {
            if self.slot_of[i] == NO_SLOT {
                self.take_copy(i, &population.twin(i), false);
            }
        }
        self.touched_ids = (0..population.len() as u32)
            .map(|id| TouchedId {
                id,
                slot: self.slot_of[id as usize],
            })
            .collect();
    }

    /// One week of the schedule (MODEL.md §3), after the population has lived the week. Kept
    /// out of line (it runs once per arm and week) so that profiles show the arms' own cost.
    #[inline(never)]
    pub fn step(&mut self, week: i32, population: &Population) -> WeekRecord {
        let mut rec = WeekRecord::default();
        if let Some(access) = self.access.as_mut() {
            population.practice_demand(&self.layout, &mut self.practice_demand);
            access.begin_week(&self.practice_demand);
        }
        let accepted_before = self.referrals.len();
        self.patients_week(week, population, &mut rec);
        if self.service {
            self.queue_week(week, &mut rec);
            self.link_workers_week(week, &mut rec);
            self.assets_week(week, &mut rec);
            self.staff_week(week, &mut rec);
            self.practices_week(week);
        }
        self.follow_cohort(week, accepted_before, population);
        self.record_access(&mut rec);
        self.record_stocks(&mut rec);
        self.log_waiting(week);
        rec
    }

    /// The evaluation's cohort at the end of the week (MODEL.md §7), when every consultation
    /// the week generated is counted: the patients whose first referral was accepted this week
    /// (in step 1: referrals from `accepted_before` on) join it, and the week is added for
    /// those already in it, the arm's and the twin's. The twins' weeks are read from the
    /// population's history while it still has them.
    fn follow_cohort(&mut self, week: i32, accepted_before: usize, population: &Population) {
        let (Some(cohort), Some(arm), Some(twin)) = (
            self.cohort.as_mut(),
            self.this_week.as_ref(),
            population.history.as_ref(),
        ) else {
            return;
        };
        for (k, r) in self.referrals.iter().enumerate().skip(accepted_before) {
            if r.first_of_patient {
                let slot = self.slot_of[r.patient as usize];
                cohort.open((k as u32, r), slot, arm, twin);
            }
        }
        cohort.week(week, arm, twin, self.p.eval_followup_weeks);
    }

    /// MODEL.md §9.2 after the week's consultations are all made: each practice's backlog
    /// recursion. Without a limit, every consultation is an appointment delivered that week.
    fn record_access(&mut self, rec: &mut WeekRecord) {
        match self.access.as_mut() {
            Some(access) => {
                let week = access.close_week();
                rec.gp_delivered = week.delivered;
                rec.gp_unmet = week.unmet;
                rec.gp_backlog_start = week.backlog_start;
                rec.gp_backlog = week.backlog_end;
                rec.gp_capacity = week.capacity;
            }
            None => rec.gp_delivered = rec.consults() as f64,
        }
    }

    /// Step 1, in patient id order: touched patients live their own week; a consultation by an
    /// idle patient out of cooldown may lead to a referral offer and the patient's answer.
    /// Untouched patients are the population's: their week is already lived and summed.
    fn patients_week(&mut self, week: i32, population: &Population, rec: &mut WeekRecord) {
        let base = &population.record;
        rec.medical = base.medical;
        rec.social = base.social;
        rec.q_consults = base.q_consults;
        rec.wellbeing_sum = base.wellbeing_sum;
        rec.q_wellbeing_sum = base.q_wellbeing_sum;
        rec.low_wellbeing = base.low_wellbeing;
        rec.activation_sum = base.activation_sum;
        // Crises are exogenous: the population's count is every arm's (tested).
        rec.in_crisis = base.in_crisis;
        self.log_untouched_weeks(week, population);
        if !self.service {
            return;
        }
        if let Some(h) = self.this_week.as_mut() {
            h.begin_week(self.touched.len());
        }
        if self.p.other_routes_open() {
            self.every_patient_week(week, population, rec);
            return;
        }
        let touched_ids = std::mem::take(&mut self.touched_ids);
        let mut offers = std::mem::take(&mut self.untouched_offers);
        self.find_untouched_offers(population, &mut offers);
        let mut newly_touched = Vec::with_capacity(offers.len());
        let mut practices = PracticeCursor::new(&self.layout);
        let (mut a, mut b) = (0, 0);
        loop {
            let touched_first = match (touched_ids.get(a), offers.get(b)) {
                (None, None) => break,
                (Some(t), Some(o)) => t.id < o.id,
                (Some(_), None) => true,
                (None, Some(_)) => false,
            };
            if touched_first {
                let t = touched_ids[a];
                if let Some(&ahead) = touched_ids.get(a + PREFETCH_AHEAD) {
                    self.prefetch_touched(ahead, population);
                }
                a += 1;
                let practice = practices.of(&self.layout, t.id);
                self.live_touched(t, practice, week, population, rec);
            } else {
                let o = offers[b];
                b += 1;
                self.refer_untouched(o.id, (o.offer, o.u_accept), week, population, rec);
                newly_touched.push(self.touched_id(o.id));
            }
        }
        self.untouched_offers = offers;
        self.touched_ids = merge_sorted(touched_ids, &newly_touched);
    }

    /// Step 1 when referral routes beyond the GP are open (MODEL.md §9.3): any idle patient
    /// with a need may be referred without consulting, so every patient is visited, in id
    /// order. Only then: with the GP as the only route, the consulting patients suffice.
    fn every_patient_week(&mut self, week: i32, population: &Population, rec: &mut WeekRecord) {
        let touched_ids = std::mem::take(&mut self.touched_ids);
        let mut newly_touched = Vec::new();
        let mut practices = PracticeCursor::new(&self.layout);
        // The index in `population.consulting` (and its referral seeds) of the next patient who
        // consulted: patients are visited in id order, as that list is.
        let mut consulting = 0;
        for i in 0..population.len() as u32 {
            let practice = practices.of(&self.layout, i);
            let consulted = population.consults[i as usize] != NO_CONSULT;
            let index = consulting;
            if consulted {
                debug_assert_eq!(population.consulting.get(index), Some(&i));
                consulting += 1;
            }
            let referred = if self.slot_of[i as usize] != NO_SLOT {
                self.live_touched(self.touched_id(i), practice, week, population, rec);
                false
            } else if consulted {
                let seed = population.referral_seeds[index];
                self.consider_untouched(i, seed, practice, week, population, rec)
            } else {
                self.consider_other_routes_untouched(i, week, population, rec)
            };
            if referred {
                newly_touched.push(self.touched_id(i));
            }
        }
        self.touched_ids = merge_sorted(touched_ids, &newly_touched);
    }

    /// An untouched patient who did not consult may be referred by a route beyond the GP
    /// (MODEL.md §9.3), which touches the patient. Returns whether it did.
    fn consider_other_routes_untouched(
        &mut self,
        i: u32,
        week: i32,
        population: &Population,
        rec: &mut WeekRecord,
    ) -> bool {
        let twin = population.twin(i as usize);
        if !eligible_for_other_routes(&twin, Consultation::None, week) {
            return false;
        }
        // Untouched, the patient has the arm's trust0 and otherwise the population's state.
        let Some((offer, u_accept)) = other_route_offer(&twin, self.p.trust0, week, self.p) else {
            return false;
        };
        self.touch(i, &twin, false);
        self.respond(i, offer, u_accept, week, rec);
        true
    }

    /// Touched patient `i`, with its slot.
    fn touched_id(&self, i: u32) -> TouchedId {
        TouchedId {
            id: i,
            slot: self.slot_of[i as usize],
        }
    }

    /// Asks for what step 1 will read of touched patient `t` to be brought into cache: its
    /// record in the arm, and its twin's if it still follows it.
    #[inline(always)]
    fn prefetch_touched(&self, t: TouchedId, population: &Population) {
        let slot = t.slot as usize;
        if let Some(patient) = self.touched.get(slot) {
            super::prefetch(patient);
        }
        population.prefetch_twin(t.id as usize, self.follows_twin.get(slot) == Some(&true));
    }

    /// Gives the arm its own copy of a patient it has not touched yet, with the arm's trust0.
    fn touch(&mut self, i: u32, twin: &Patient, consulted: bool) {
        self.take_copy(i as usize, twin, true);
        if let Some(h) = self.this_week.as_mut() {
            h.push(consulted, twin.wellbeing);
        }
    }

    /// Puts the arm's own copy of patient `i` in the next slot: its twin with the arm's
    /// trust0, following the twin's processes or not ([`Pcn::follows_twin`]).
    fn take_copy(&mut self, i: usize, twin: &Patient, follows_twin: bool) {
        let mut patient = *twin;
        patient.trust = self.p.trust0;
        self.slot_of[i] = self.touched.len() as u32;
        self.touched_set.insert(i);
        self.touched.push(patient);
        self.follows_twin.push(follows_twin);
    }

    /// The week of a patient the arm has not touched is the population's, sums and events
    /// alike: a followed one's events of the week are copied from the population's log.
    fn log_untouched_weeks(&mut self, week: i32, population: &Population) {
        let (Some(log), Some(base)) = (self.events.as_mut(), population.events.as_ref()) else {
            return;
        };
        for e in base.this_week(week) {
            if self.slot_of[e.patient as usize] == NO_SLOT {
                log.emit(e.week, e.patient, e.kind);
            }
        }
    }

    /// A touched patient's own week, replacing the population's patient in the week's sums.
    /// A patient who still follows its twin ([`Pcn::follows_twin`]) has had the twin's week:
    /// it is copied, and the sums and GP demand are the population's already.
    #[inline]
    fn live_touched(
        &mut self,
        TouchedId { id: i, slot }: TouchedId,
        practice: usize,
        week: i32,
        population: &Population,
        rec: &mut WeekRecord,
    ) {
        let p = self.p;
        let slot = slot as usize;
        let patient = &mut self.touched[slot];
        let before = (patient.needs, patient.crisis_left);
        let twin_code = population.consults[i as usize];
        let consultation = if self.follows_twin[slot] {
            population.follow_twin(i as usize, patient);
            consultation(twin_code)
        } else {
            debug_assert!(population.twin(i as usize).activation == patient.a0);
            let twin = (population.twin_wellbeing(i as usize), patient.a0);
            let consultation = population.live_own(patient, week);
            replace_in_sums(rec, twin, twin_code, patient, consultation, p);
            if let Some(access) = self.access.as_mut() {
                let own = i64::from(consultation != Consultation::None);
                access.add(practice, own - i64::from(twin_code != NO_CONSULT));
            }
            consultation
        };
        if let Some(log) = self.events.as_mut() {
            log.lived(week, i, before, patient, consultation);
        }
        if let Some(h) = self.this_week.as_mut() {
            h.set(slot, consultation != Consultation::None, patient.wellbeing);
        }
        if !patient.can_be_referred(week) {
            return;
        }
        let offer = if consultation != Consultation::None {
            let who = (
                patient.key.draw(Purpose::Referral, i64::from(week)),
                recent_count(patient.recent_social, offer_weeks(p)),
            );
            self.gp_offer(practice, consultation, who)
        } else if p.other_routes_open() && eligible_for_other_routes(patient, consultation, week) {
            other_route_offer(patient, patient.trust, week, p)
        } else {
            None
        };
        if let Some((offer, u_accept)) = offer {
            self.respond(i, offer, u_accept, week, rec);
        }
    }

    /// Step 1's GP offers to untouched patients this week, ascending by id, into `out`.
    ///
    /// Whether the GP offers an untouched patient a referral depends on the consultation, the
    /// practice's buy-in (which step 1 does not change) and the patient's own draws, not on
    /// any other patient's week. So one pass over the week's consultations finds the few
    /// offers, and step 1 merges only those with the touched patients, in id order as MODEL.md
    /// §3 has it. Merging every consultation instead costs a branch the processor guesses
    /// wrong about every other time.
    fn find_untouched_offers(&self, population: &Population, out: &mut Vec<UntouchedOffer>) {
        out.clear();
        let mut practices = PracticeCursor::new(&self.layout);
        debug_assert_eq!(population.consulting.len(), population.referral_seeds.len());
        for (&i, &seed) in population.consulting.iter().zip(&population.referral_seeds) {
            if self.touched_set.contains(i as usize) {
                continue;
            }
            let practice = practices.of(&self.layout, i);
            if let Some((offer, u_accept)) = self.untouched_gp_offer(i, seed, practice, population)
            {
                out.push(UntouchedOffer {
                    id: i,
                    offer,
                    u_accept,
                });
            }
        }
    }

    /// An untouched patient consulted: the GP may offer a referral, which touches the patient.
    /// Returns whether it did. `seed` is the patient's referral seed of the week
    /// ([`Population::referral_seeds`]).
    #[inline(always)]
    fn consider_untouched(
        &mut self,
        i: u32,
        seed: u64,
        practice: usize,
        week: i32,
        population: &Population,
        rec: &mut WeekRecord,
    ) -> bool {
        let Some(offer) = self.untouched_gp_offer(i, seed, practice, population) else {
            return false;
        };
        self.refer_untouched(i, offer, week, population, rec);
        true
    }

    /// The GP's offer, if any, to untouched patient `i` after this week's consultation (by a
    /// GP of practice `practice`; `seed` is the patient's referral seed of the week), with the
    /// uniform for the answer.
    #[inline(always)]
    fn untouched_gp_offer(
        &self,
        i: u32,
        seed: u64,
        practice: usize,
        population: &Population,
    ) -> Option<(Offer, f64)> {
        let consultation = consultation(population.consults[i as usize]);
        let n_recent = population.recent_social(i as usize, offer_weeks(self.p));
        self.gp_offer(practice, consultation, (seed, n_recent))
    }

    /// The GP offered an untouched patient a referral: the arm takes its own copy of the
    /// patient, who answers. Out of line: few consultations lead to an offer.
    #[inline(never)]
    fn refer_untouched(
        &mut self,
        i: u32,
        (offer, u_accept): (Offer, f64),
        week: i32,
        population: &Population,
        rec: &mut WeekRecord,
    ) {
        self.touch(i, &population.twin(i as usize), true);
        self.respond(i, offer, u_accept, week, rec);
    }

    /// The GP's offer after a consultation (§6.4, with §9.1's frequent attenders), by a GP of
    /// practice `practice`, to a patient whose referral stream of the week has seed `seed`
    /// (`key.draw(Purpose::Referral, week)`) and who made `n_recent` recent social
    /// consultations. Returns the offer and the uniform for the patient's answer, if an offer
    /// is made.
    #[inline(always)]
    fn gp_offer(
        &self,
        practice: usize,
        consultation: Consultation,
        (seed, n_recent): (u64, u32),
    ) -> Option<(Offer, f64)> {
        let buy_in = self.practices[practice].buy_in;
        let u_offer = unit_f64(stream_word(seed, 0));
        let inappropriate = offer_referral(consultation, buy_in, n_recent, u_offer, self.p)?;
        // The answer's uniform is the stream's next word, drawn only once an offer is made.
        let u_accept = unit_f64(stream_word(seed, 1));
        let offer = Offer {
            route: Route::Gp,
            inappropriate,
        };
        Some((offer, u_accept))
    }

    /// The patient's answer to an offer: decline (cooldown) or accept (join the queue). A
    /// self-referral is the patient's own choice: accepted without a draw (MODEL.md §9.3).
    fn respond(&mut self, i: u32, offer: Offer, u_accept: f64, week: i32, rec: &mut WeekRecord) {
        let p = self.p;
        let Offer {
            route,
            inappropriate,
        } = offer;
        rec.offered += 1;
        rec.offered_inappropriate += u64::from(inappropriate);
        let patient = &mut self.touched[self.slot_of[i as usize] as usize];
        let q = usize::from(patient.q);
        rec.route_offered[route as usize] += 1;
        rec.q_route_offered[route as usize][q] += 1;
        self.events.record(week, i, || EventKind::Offered {
            inappropriate,
            route,
        });
        let accepted = route == Route::SelfReferral || accept_referral(patient, u_accept, p);
        if !accepted {
            rec.declined += 1;
            patient.cooldown_until = week.saturating_add(p.cooldown_weeks as i32);
            self.events.record(week, i, || EventKind::Declined {
                cooldown_until: patient.cooldown_until,
            });
            return;
        }
        rec.accepted += 1;
        self.events.record(week, i, || EventKind::Accepted {
            trust: patient.trust,
        });
        rec.q_accepted[q] += 1;
        rec.route_accepted[route as usize] += 1;
        rec.q_route_accepted[route as usize][q] += 1;
        let first_of_patient = patient.referral == NO_REFERRAL;
        patient.referral = self.referrals.len() as u32;
        patient.pathway = Pathway::Waiting;
        self.referrals.push(Referral {
            patient: i,
            accepted_week: week,
            inappropriate,
            route,
            in_crisis: patient.in_crisis(),
            n_recent: (p.recency_gain > 0.0 || p.crisis_rate > 0.0)
                .then(|| patient.n_recent(p.recency_weeks)),
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
            touched,
            slot_of,
            referrals,
            events,
            ..
        } = self;
        queue.retain(|&i| {
            let patient = &mut touched[slot_of[i as usize] as usize];
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
                events.record(week, i, || EventKind::Ended(Ending::GaveUp));
                false
            } else {
                true
            }
        });
    }

    /// Step 3: in index order, each link worker's vacancy is filled if due, free places are
    /// filled from the head of the queue, then each patient on the caseload has a session.
    fn link_workers_week(&mut self, week: i32, rec: &mut WeekRecord) {
        let p = self.p;
        let Pcn {
            layout,
            queue,
            touched,
            follows_twin,
            slot_of,
            this_week,
            referrals,
            link_workers,
            practices,
            assets,
            assets_by_category,
            events,
            access,
            ..
        } = self;
        for (index, lw) in link_workers.iter_mut().enumerate() {
            let link_worker = index as u32;
            lw.fill_vacancy(week, p);
            if !lw.active {
                continue;
            }
            let cap = lw.cap(p);
            while lw.caseload.len() < cap {
                let Some(i) = queue.pop_front() else { break };
                let slot = slot_of[i as usize] as usize;
                touched[slot].pathway = Pathway::Supported;
                // From here on the patient's own processes may differ from its twin's.
                follows_twin[slot] = false;
                lw.caseload.push(CaseEntry {
                    patient: i,
                    sessions: 0,
                    holding: false,
                });
            }
            let mut caseload = std::mem::take(&mut lw.caseload);
            caseload.retain_mut(|case| {
                let slot = slot_of[case.patient as usize] as usize;
                let patient = &mut touched[slot];
                let referral = &mut referrals[patient.referral as usize];
                if referral.first_session_week.is_none() {
                    referral.first_session_week = Some(week);
                    rec.first_intakes += 1;
                }
                let practice = &mut practices[layout.practice_of(case.patient)];
                let activation_before = patient.activation;
                let trust_before = patient.trust;
                let draws = SessionDraws::new(patient, week);
                let report = session(
                    lw,
                    case,
                    patient,
                    referral.inappropriate,
                    &mut practice.buy_in,
                    (assets, assets_by_category),
                    draws,
                    week,
                    p,
                );
                rec.activation_sum += patient.activation - activation_before;
                referral.sessions += 1;
                rec.sessions += 1;
                events.record(week, case.patient, || EventKind::Session {
                    number: case.sessions,
                    link_worker,
                    trust_before,
                    trust_after: patient.trust,
                    activation: patient.activation,
                    holding: case.holding,
                });
                rec.no_capacity += u64::from(report.no_capacity);
                if report.generated > 0 {
                    let who = (week, case.patient, slot);
                    let generated = report.generated;
                    let gp = access
                        .as_mut()
                        .map(|a| (a, layout.practice_of(case.patient)));
                    let this_week = this_week.as_mut();
                    count_generated(rec, this_week, events, who, patient, generated, gp);
                }
                let ending = match report.end {
                    SessionEnd::Continue => return true,
                    SessionEnd::Bounced => {
                        referral.outcome = Outcome::Bounced;
                        rec.bounced += 1;
                        Ending::Bounced
                    }
                    SessionEnd::DroppedOut => {
                        referral.outcome = Outcome::DroppedOut;
                        rec.dropped_out += 1;
                        Ending::DroppedOut
                    }
                    SessionEnd::DischargedUnconnected => {
                        referral.outcome = Outcome::DischargedUnconnected;
                        rec.discharged_unconnected += 1;
                        Ending::DischargedUnconnected
                    }
                    SessionEnd::Connected(asset) => {
                        referral.outcome = Outcome::Connected;
                        referral.attendance = Attendance::Attending;
                        rec.connections += 1;
                        rec.q_connections[usize::from(patient.q)] += 1;
                        practice.connections_this_week += 1;
                        let category = assets[asset].category;
                        events.record(week, case.patient, || EventKind::Connected { category });
                        return false;
                    }
                };
                events.record(week, case.patient, || EventKind::Ended(ending));
                false
            });
            lw.caseload = caseload;
        }
    }

    /// Step 4: attendance of connected patients, completions, closures, openings.
    fn assets_week(&mut self, week: i32, rec: &mut WeekRecord) {
        let p = self.p;
        let key = self.key;
        let Pcn {
            touched,
            slot_of,
            this_week,
            referrals,
            assets,
            assets_by_category,
            asset_counts,
            events,
            access,
            layout,
            ..
        } = self;
        for asset in assets.iter_mut().filter(|a| a.open) {
            let category = asset.category;
            asset.occupants.retain_mut(|occupant| {
                let patient = &mut touched[slot_of[occupant.patient as usize] as usize];
                let u = unit_f64(
                    patient
                        .key
                        .stream(Purpose::Attendance, i64::from(week))
                        .next_u64(),
                );
                let attended = u < attendance_probability(patient.activation, p);
                if attended {
                    let before = patient.activation;
                    patient.activation = saturating_gain(patient.activation, p.attend_activation);
                    rec.activation_sum += patient.activation - before;
                    patient.attended = category + 1;
                }
                occupant.weeks_left -= 1;
                events.record(week, occupant.patient, || EventKind::Attendance {
                    category,
                    attended,
                    weeks_left: occupant.weeks_left,
                });
                if occupant.weeks_left > 0 {
                    return true;
                }
                patient.leave_pathway(week, p.cooldown_weeks);
                referrals[patient.referral as usize].attendance = Attendance::Completed;
                rec.completed += 1;
                events.record(week, occupant.patient, || {
                    EventKind::Ended(Ending::Completed)
                });
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
                let mut occupants = close_asset(asset, rec);
                for occupant in occupants.drain(..) {
                    let slot = slot_of[occupant.patient as usize] as usize;
                    let patient = &mut touched[slot];
                    patient.leave_pathway(week, p.cooldown_weeks);
                    referrals[patient.referral as usize].attendance = Attendance::AssetClosed;
                    let id = occupant.patient;
                    events.record(week, id, || EventKind::Ended(Ending::AssetClosed));
                    if returns_to_gp(patient, week, p) {
                        let gp = access.as_mut().map(|a| (a, layout.practice_of(id)));
                        count_generated(
                            rec,
                            this_week.as_mut(),
                            events,
                            (week, id, slot),
                            patient,
                            1,
                            gp,
                        );
                    }
                }
            }
        }
        for (k, &count) in asset_counts.iter().enumerate() {
            let mut rng = key
                .entity(EntityKind::AssetCategory, k as u64)
                .stream(Purpose::AssetOpening, i64::from(week));
            if unit_f64(rng.next_u64()) < opening_probability(count, p) {
                assets_by_category[k].push(assets.len() as u32);
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
        let places: usize = self
            .link_workers
            .iter()
            .filter(|l| l.active)
            .map(|l| l.cap(p))
            .sum();
        let pressure = pressure(self.queue.len(), places);
        // Each case handed back with the index of the link worker who left it.
        let mut handed_back: Vec<(u32, CaseEntry)> = Vec::new();
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
                let leaver = index as u32;
                handed_back.extend(lw.leave(week, p).into_iter().map(|case| (leaver, case)));
            } else {
                lw.learn(p);
            }
        }
        // The lowest-index leaver's caseload ends up at the head of the queue, in caseload order.
        for &(link_worker, case) in handed_back.iter().rev() {
            let patient = &mut self.touched[self.slot_of[case.patient as usize] as usize];
            patient.pathway = Pathway::Waiting;
            patient.trust *= p.turnover_trust_retained;
            self.events
                .record(week, case.patient, || EventKind::LinkWorkerLeft {
                    link_worker,
                    trust: patient.trust,
                });
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
        rec.patients = self.layout.patients() as u64;
        rec.q_patients = self.quintile_sizes;
        rec.waiting = self.queue.len() as u64;
        for lw in &self.link_workers {
            if lw.active {
                rec.lw_active += 1;
                rec.lw_fte_active += lw.fte;
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

    /// Step 7 for followed patients: where each one still waiting stands in the queue, as
    /// `rec.waiting` counts the queue.
    fn log_waiting(&mut self, week: i32) {
        let Some(log) = self.events.as_mut() else {
            return;
        };
        let length = self.queue.len() as u32;
        for (position, &i) in self.queue.iter().enumerate() {
            let position = position as u32;
            log.emit(week, i, EventKind::Waiting { position, length });
        }
    }

    /// Checks the model's invariants; used by property tests after every week. Untouched
    /// patients are idle by construction; the population checks its own ranges.
    pub fn check_invariants(&self) -> Result<(), String> {
        let p = self.p;
        let mut counts = [0usize; 4];
        for patient in &self.touched {
            counts[patient.pathway as usize] += 1;
            check_patient_ranges(patient)?;
        }
        counts[Pathway::Idle as usize] += self.layout.patients() - self.touched.len();
        let supported: usize = self.link_workers.iter().map(|l| l.caseload.len()).sum();
        let connected: usize = self.assets.iter().map(|a| a.occupants.len()).sum();
        let expected = [
            self.layout.patients() - self.queue.len() - supported - connected,
            self.queue.len(),
            supported,
            connected,
        ];
        if counts != expected {
            return Err(format!(
                "pathway counts {counts:?} (idle, waiting, supported, connected) do not match the structures {expected:?}"
            ));
        }
        if let Some(i) = (0..self.slot_of.len())
            .find(|&i| self.touched_set.contains(i) != (self.slot_of[i] != NO_SLOT))
        {
            return Err(format!(
                "patient {i}: the touched set and the slots disagree"
            ));
        }
        let state_of = |i: u32| {
            let slot = self.slot_of[i as usize];
            (slot != NO_SLOT).then(|| self.touched[slot as usize].pathway)
        };
        for &i in &self.queue {
            if state_of(i) != Some(Pathway::Waiting) {
                return Err(format!("patient {i} is queued but not waiting"));
            }
        }
        for (l, lw) in self.link_workers.iter().enumerate() {
            let cap = lw.cap(p);
            if lw.caseload.len() > cap || (!lw.active && !lw.caseload.is_empty()) {
                return Err(format!(
                    "link worker {l}: caseload {} over cap {cap}",
                    lw.caseload.len()
                ));
            }
            if lw.stress < 0.0 || !(0.0..=1.0).contains(&lw.knowledge) {
                return Err(format!(
                    "link worker {l}: stress {} or knowledge {} invalid",
                    lw.stress, lw.knowledge
                ));
            }
            if let Some(case) = lw
                .caseload
                .iter()
                .find(|c| state_of(c.patient) != Some(Pathway::Supported))
            {
                return Err(format!(
                    "patient {} on a caseload but not supported",
                    case.patient
                ));
            }
        }
        for (a, asset) in self.assets.iter().enumerate() {
            if asset.occupants.len() as u32 > asset.capacity
                || (!asset.open && !asset.occupants.is_empty())
            {
                return Err(format!(
                    "asset {a}: {} occupants for {} places",
                    asset.occupants.len(),
                    asset.capacity
                ));
            }
            if let Some(o) = asset
                .occupants
                .iter()
                .find(|o| state_of(o.patient) != Some(Pathway::Connected))
            {
                return Err(format!(
                    "patient {} at an asset but not connected",
                    o.patient
                ));
            }
        }
        for (j, practice) in self.practices.iter().enumerate() {
            if !(0.0..=1.0).contains(&practice.buy_in) {
                return Err(format!(
                    "practice {j}: buy-in {} outside [0, 1]",
                    practice.buy_in
                ));
            }
        }
        Ok(())
    }
}

/// A patient's state variables are inside their ranges.
pub fn check_patient_ranges(patient: &Patient) -> Result<(), String> {
    let in_unit = |x: f64| (0.0..=1.0).contains(&x);
    if !(14.0..=70.0).contains(&patient.wellbeing) {
        return Err(format!("wellbeing {} outside [14, 70]", patient.wellbeing));
    }
    if !in_unit(patient.activation) || !in_unit(patient.trust) || !in_unit(patient.capacity) {
        return Err(format!(
            "activation {}, trust {} or capacity {} outside [0, 1]",
            patient.activation, patient.trust, patient.capacity
        ));
    }
    Ok(())
}

/// Replaces the population's patient by the arm's own in the week's patient-level sums.
/// `twin` is the population's patient's `(wellbeing, activation)` ([`Population::twin_sums`]).
fn replace_in_sums(
    rec: &mut WeekRecord,
    (twin_wellbeing, twin_activation): (f64, f64),
    twin_code: u8,
    own: &Patient,
    own_consultation: Consultation,
    p: &Params,
) {
    let q = usize::from(own.q);
    rec.wellbeing_sum += own.wellbeing - twin_wellbeing;
    rec.q_wellbeing_sum[q] += own.wellbeing - twin_wellbeing;
    rec.activation_sum += own.activation - twin_activation;
    let low = |w: f64| u64::from(w <= p.low_wellbeing_threshold);
    rec.low_wellbeing = rec.low_wellbeing - low(twin_wellbeing) + low(own.wellbeing);
    match consultation(twin_code) {
        Consultation::Medical => rec.medical -= 1,
        Consultation::Social => rec.social -= 1,
        Consultation::None => {}
    }
    match own_consultation {
        Consultation::Medical => rec.medical += 1,
        Consultation::Social => rec.social += 1,
        Consultation::None => {}
    }
    rec.q_consults[q] = rec.q_consults[q] - u64::from(twin_code != NO_CONSULT)
        + u64::from(own_consultation != Consultation::None);
}

/// The week's draw of the routes beyond the GP for an eligible patient with trust `trust`:
/// the route, if any, and the uniform for the answer to an agency referral.
fn other_route_offer(patient: &Patient, trust: f64, week: i32, p: &Params) -> Option<(Offer, f64)> {
    let mut rng = patient.key.stream(Purpose::Route, i64::from(week));
    let (u_route, u_accept) = (unit_f64(rng.next_u64()), unit_f64(rng.next_u64()));
    let route = other_route(patient.needs, trust, patient.activation, u_route, p)?;
    let offer = Offer {
        route,
        inappropriate: false,
    };
    Some((offer, u_accept))
}

/// The weeks of social consultations the GP's offer counts as `n_recent` (MODEL.md §9.1).
/// Without a recency gain the offer's factor `1 + recency_gain·n_recent` is exactly 1 whatever
/// `n_recent` is, so none are counted.
fn offer_weeks(p: &Params) -> u32 {
    if p.recency_gain > 0.0 {
        p.recency_weeks
    } else {
        0
    }
}

/// The practice of each patient of an ascending sequence of ids, without a search: step 1
/// visits patients in id order, and practices are contiguous blocks of ids.
struct PracticeCursor {
    practice: usize,
    /// First id of the practice after `practice`.
    next_start: u32,
}

impl PracticeCursor {
    fn new(layout: &Layout) -> PracticeCursor {
        PracticeCursor {
            practice: 0,
            next_start: start_after(layout, 0),
        }
    }

    /// The practice of `patient`, at least as high an id as the last one asked about: the last
    /// practice starting at or before it, as [`Layout::practice_of`] finds it.
    #[inline]
    fn of(&mut self, layout: &Layout, patient: u32) -> usize {
        while patient >= self.next_start {
            self.practice += 1;
            self.next_start = start_after(layout, self.practice);
        }
        self.practice
    }
}

/// First id of the practice after `practice` (beyond every id after the last practice).
fn start_after(layout: &Layout, practice: usize) -> u32 {
    layout.starts.get(practice + 1).copied().unwrap_or(u32::MAX)
}

/// Closes an asset (closed assets never reopen) and hands back its occupants.
fn close_asset(asset: &mut Asset, rec: &mut WeekRecord) -> Vec<super::asset::Occupant> {
    asset.open = false;
    rec.asset_closures += 1;
    std::mem::take(&mut asset.occupants)
}

/// Whether an occupant of a closing asset goes back to the GP (w.p. `closure_return`).
fn returns_to_gp(patient: &Patient, week: i32, p: &Params) -> bool {
    let u = unit_f64(
        patient
            .key
            .stream(Purpose::ClosureReturn, i64::from(week))
            .next_u64(),
    );
    u < p.closure_return
}

/// Counts GP consultations caused by the pathway, for patient `id` in touched slot `slot`;
/// with limited GP capacity, `access` holds the patient's practice's demand (MODEL.md §9.2).
fn count_generated(
    rec: &mut WeekRecord,
    this_week: Option<&mut TouchedWeek>,
    events: &mut Option<EventLog>,
    (week, id, slot): (i32, u32, usize),
    patient: &Patient,
    n: u32,
    access: Option<(&mut GpAccess, usize)>,
) {
    if let Some((access, practice)) = access {
        access.add(practice, i64::from(n));
    }
    rec.generated += u64::from(n);
    events.record(week, id, || EventKind::Generated { consultations: n });
    rec.q_consults[usize::from(patient.q)] += u64::from(n);
    if let Some(h) = this_week {
        h.add_generated(slot, n);
    }
}

/// Merges two lists of touched patients ascending by id, in place in `a`: the touched are
/// many and the week's newly touched few, so each of those is put in place from the back,
/// moving only the entries above it (by block copies) rather than every entry.
fn merge_sorted(mut a: Vec<TouchedId>, b: &[TouchedId]) -> Vec<TouchedId> {
    let mut end = a.len();
    let filler = TouchedId { id: 0, slot: 0 };
    a.resize(a.len() + b.len(), filler);
    for (j, &t) in b.iter().enumerate().rev() {
        let at = a[..end].partition_point(|x| x.id < t.id);
        a.copy_within(at..end, at + j + 1);
        a[at + j] = t;
        end = at;
    }
    a
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn practices_are_contiguous_blocks_of_their_list_sizes() {
        let layout = Layout::new(vec![3, 1, 4], None);
        assert_eq!(layout.patients(), 8);
        assert_eq!(layout.practices(), 3);
        let practice: Vec<usize> = (0..8).map(|i| layout.practice_of(i)).collect();
        assert_eq!(practice, [0, 0, 0, 1, 2, 2, 2, 2]);
        let uniform = Layout::uniform(5, 9600);
        assert_eq!(uniform.patients(), 48_000);
        assert_eq!(uniform.practice_of(9599), 0);
        assert_eq!(uniform.practice_of(9600), 1);
        assert_eq!(uniform.practice_of(47_999), 4);
        assert_eq!(uniform.mix(0), None);
    }

    #[test]
    fn an_empty_practice_holds_no_patient() {
        let layout = Layout::new(vec![2, 0, 2], None);
        let practice: Vec<usize> = (0..4).map(|i| layout.practice_of(i)).collect();
        assert_eq!(practice, [0, 0, 2, 2]);
    }

    #[test]
    fn merging_keeps_every_id_in_ascending_order() {
        let cases: [(&[u32], &[u32]); 6] = [
            (&[], &[]),
            (&[1, 5, 9], &[]),
            (&[], &[2, 3]),
            (&[1, 5, 9], &[0, 6, 10]),
            (&[4, 5, 6], &[1, 2]),
            (&[1, 2, 8], &[3, 4, 5, 9, 12]),
        ];
        // Slots tell the entries apart: each id's slot is ten times it.
        let entries = |ids: &[u32]| -> Vec<TouchedId> {
            ids.iter()
                .map(|&id| TouchedId { id, slot: 10 * id })
                .collect()
        };
        for (a, b) in cases {
            let mut expected = [a, b].concat();
            expected.sort_unstable();
            let merged = merge_sorted(entries(a), &entries(b));
            assert_eq!(merged, entries(&expected), "{a:?} + {b:?}");
        }
    }

    #[test]
    fn the_practice_cursor_finds_what_the_search_finds() {
        for sizes in [vec![3, 1, 4], vec![2, 0, 2], vec![0, 0, 5, 0, 1], vec![7]] {
            let layout = Layout::new(sizes, None);
            let mut cursor = PracticeCursor::new(&layout);
            // Ascending ids with gaps, as step 1 visits them.
            for i in (0..layout.patients() as u32).filter(|i| i % 3 != 1) {
                assert_eq!(cursor.of(&layout, i), layout.practice_of(i), "patient {i}");
            }
        }
    }
}
