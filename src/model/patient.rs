//! Patients: their initial characteristics (MODEL.md §5) and their own weekly processes — needs,
//! wellbeing, activation drift and the GP consultation draw (§6.1-6.3).
//!
//! Patients are stored as a flat `Vec<Patient>` of plain `Copy` records: no per-patient heap
//! allocation, one pass over contiguous memory per week.

use rand::Rng;
use rand_distr::{Beta, Distribution, Gamma, Normal, StandardNormal};
use std::ops::{BitAnd, BitOr, Not};

use super::ModelError;
use super::needs::{
    NEVER, NeedSet, NeedTables, initial_need_schedule, need_events, update_needs, week_after,
};
use crate::params::NEED_COUNT;
use crate::params::Params;
use crate::rng::{Key, Purpose, geometric_wait, open_unit_f64, threshold_u32, unit_f64};

/// Where a patient is on the social-prescribing pathway (MODEL.md §2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Pathway {
    Idle,
    /// In the PCN's first-in, first-out queue for a link worker.
    Waiting,
    /// On a link worker's caseload.
    Supported,
    /// Attending a community asset.
    Connected,
}

/// The outcome of a patient's weekly consultation draw.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Consultation {
    None,
    Medical,
    Social,
}

/// Marker for "no referral" in [`Patient::referral`].
pub const NO_REFERRAL: u32 = u32::MAX;

/// A patient's record. Its fields are laid out by hand: `#[repr(C)]` keeps the order, and
/// the alignment starts each record on a cache line. The first line holds everything the
/// population's events read and write of an untouched patient (its key, needs and their
/// schedule, crisis, and what the wellbeing target and consultation rates are made of), so an
/// event costs one line of memory, not the two or three a record straddling lines would. The
/// second line holds what only the arms' own weeks and the reference engine read (the fast
/// engine keeps wellbeing and the consultation history of its untouched patients apart).
#[derive(Clone, Copy, Debug)]
#[repr(C, align(64))]
pub struct Patient {
    // First cache line: the events' fields.
    /// Root of this patient's random streams; the same in every arm (common random numbers).
    pub key: Key,
    /// Frailty `f`: consultation propensity, mean 1.
    pub frailty: f64,
    /// `f·p_med0·g[q]`, fixed for life, kept so the weekly draw does not recompute it.
    pub p_med: f64,
    /// Baseline wellbeing `w_base` [WEMWBS points].
    pub w_base: f64,
    /// Activation `a`, 0-1.
    pub activation: f64,
    /// Fast engine only: the week of each need's next change ([`super::needs::need_events`]).
    pub next_change: [i16; NEED_COUNT],
    /// Fast engine only: the week the next crisis starts, [`NEVER`] while one is under way.
    pub next_crisis: i16,
    /// Weeks of crisis still to run, 0 = none (MODEL.md §9.1 `crisis_left`).
    pub crisis_left: u16,
    pub needs: NeedSet,
    /// Deprivation quintile, 0-based (0 = q1, most deprived).
    pub q: u8,
    pub pathway: Pathway,
    /// Category + 1 of the asset attended last week, 0 if none (MODEL.md §6.6 `attended` flag).
    pub attended: u8,
    /// Index of the patient's current or last referral, or [`NO_REFERRAL`].
    pub referral: u32,
    // Second cache line.
    /// Capacity `c` (time, money, caring duties, transport), 0-1.
    pub capacity: f64,
    /// Wellbeing `w` [WEMWBS points, 14-70].
    pub wellbeing: f64,
    /// Baseline activation `a0`, 0-1.
    pub a0: f64,
    /// Trust in the service `τ`, 0-1.
    pub trust: f64,
    /// The patient's own social consultations, one bit per week, bit 0 = the week last lived
    /// (MODEL.md §9.1: `n_recent` is read from it; generated consultations never enter it).
    pub recent_social: u64,
    /// First week in which a new referral may be offered.
    pub cooldown_until: i32,
}

/// The bytes of a [`Patient`] the population's events touch: its first cache line.
pub const EVENT_BYTES: usize = std::mem::offset_of!(Patient, capacity);
const _: () = assert!(EVENT_BYTES <= 64 && size_of::<Patient>() == 128);

/// A week's consultation probabilities of a patient before the low-wellbeing term (MODEL.md
/// §6.3), in the fast engine: they change only when needs, crises or activation do, so the
/// population keeps them between events.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ConsultRates {
    /// `f·p_med0·g[q]·factor`.
    pub p_med: f64,
    /// `f·(Σ u_k + crisis uplift)·factor`.
    pub p_soc: f64,
    /// `u_low·factor`, added to `p_soc` in a week of low wellbeing.
    pub p_low: f64,
}

impl ConsultRates {
    /// The thresholds the week's 32-bit consultation draw is compared with (MODEL.md §6.3,
    /// with the cap `consult_p_max` and, for a patient on a caseload, the holding relief).
    #[inline(always)]
    pub fn thresholds(self, supported: bool, p: &Params) -> ConsultThresholds {
        let relief = |x: f64| {
            if supported {
                x * (1.0 - p.holding_relief)
            } else {
                x
            }
        };
        let cap = p.consult_p_max;
        let capped = |x: f64| threshold_u32(if x < cap { x } else { cap });
        ConsultThresholds {
            medical: capped(self.p_med),
            any: capped(self.p_med + relief(self.p_soc)),
            any_low: capped(self.p_med + relief(self.p_soc + self.p_low)),
        }
    }
}

impl ConsultRates {
    /// The week's consultation for the 32-bit uniform `u`, exactly as the thresholds give it
    /// (`self.thresholds(supported, p).code(u, low)`), for rates that change every week (an
    /// arm's patient whose activation drifts) so that building thresholds does not pay:
    /// `u < threshold_u32(x)` is exactly `u·2⁻³² < x` (the threshold is `⌈x·2³²⌉` for x in
    /// [0, 1], u is an integer, and scaling by 2³² is exact), so the probabilities are compared
    /// with the uniform scaled instead, and only the social one of the week's wellbeing.
    #[inline(always)]
    pub fn consultation(self, u: u64, supported: bool, low: bool, p: &Params) -> Consultation {
        let relief = |x: f64| {
            if supported {
                x * (1.0 - p.holding_relief)
            } else {
                x
            }
        };
        let cap = p.consult_p_max;
        let capped = |x: f64| if x < cap { x } else { cap };
        let u = u as f64 * (1.0 / 4_294_967_296.0);
        let p_soc = if low {
            self.p_soc + self.p_low
        } else {
            self.p_soc
        };
        let below_medical = u8::from(u < capped(self.p_med));
        let below_any = u8::from(u < capped(self.p_med + relief(p_soc)));
        super::population::consultation(below_any * (2 - below_medical))
    }
}

/// A week's consultation thresholds for a 32-bit uniform `u`: medical if `u < medical`,
/// otherwise social if `u < any` (`any_low` in a week of low wellbeing). `u < t` is exactly
/// `u/2³² < p` for `t` = [`threshold_u32`]`(p)`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ConsultThresholds {
    pub medical: u64,
    pub any: u64,
    pub any_low: u64,
}

impl ConsultThresholds {
    /// The consultation code ([`super::population::MEDICAL`], `SOCIAL` or `NO_CONSULT`)
    /// for the uniform `u`, without a branch: `medical ≤ any` always, so a medical draw is
    /// also below `any`.
    #[inline(always)]
    pub fn code(self, u: u64, low: bool) -> u8 {
        let low = u64::from(low).wrapping_neg();
        threshold_code(self.medical, self.any, self.any_low, u, low)
    }
}

/// [`ConsultThresholds::code`] for thresholds and a uniform of any unsigned width (the fast
/// engine's loop keeps them in 32 bits), with `low` all ones in a week of low wellbeing and
/// zero otherwise.
#[inline(always)]
pub fn threshold_code<T>(medical: T, any: T, any_low: T, u: T, low: T) -> u8
where
    T: Copy + PartialOrd + BitAnd<Output = T> + BitOr<Output = T> + Not<Output = T>,
{
    // A select by mask rather than `if low`: over arrays of thresholds, the compiler turns
    // the `if` into a gather from one array or the other, which costs far more than loading
    // both.
    let any = (any & !low) | (any_low & low);
    let below_medical = u8::from(u < medical);
    let below_any = u8::from(u < any);
    below_any * (2 - below_medical)
}

/// WEMWBS bounds.
pub const WELLBEING_MIN: f64 = 14.0;
pub const WELLBEING_MAX: f64 = 70.0;

/// Distributions of the initial characteristics, built once per population.
pub struct PatientDistributions {
    frailty: Gamma<f64>,
    capacity: [Beta<f64>; 5],
    activation: [Beta<f64>; 5],
    w_base: Normal<f64>,
    w_init: Normal<f64>,
    /// Cumulative `deprivation_shares`, for patients of practices without a mix of their own.
    pub quintile_cdf: [f64; 5],
}

/// Cumulative quintile shares, normalised to end at exactly 1, for the quintile draw.
pub fn quintile_cdf(shares: &[f64; 5]) -> [f64; 5] {
    let mut cdf = [0.0; 5];
    let total: f64 = shares.iter().sum();
    let mut acc = 0.0;
    for (c, share) in cdf.iter_mut().zip(shares) {
        acc += share / total;
        *c = acc;
    }
    cdf[4] = 1.0;
    cdf
}

impl PatientDistributions {
    /// Fails only if validated parameters still describe an impossible distribution.
    pub fn new(p: &Params) -> Result<PatientDistributions, ModelError> {
        let beta = |mean: f64, conc: f64, parameter: &'static str| {
            Beta::new(mean * conc, (1.0 - mean) * conc).map_err(|e| {
                invalid(
                    parameter,
                    format!("a Beta with mean {mean} and concentration {conc}"),
                    e,
                )
            })
        };
        let mut capacity = Vec::with_capacity(5);
        let mut activation = Vec::with_capacity(5);
        for q in 0..5 {
            capacity.push(beta(
                p.capacity_mean[q],
                p.capacity_concentration,
                "capacity_mean",
            )?);
            activation.push(beta(
                p.activation_mean[q],
                p.activation_concentration,
                "activation_mean",
            )?);
        }
        let quintile_cdf = quintile_cdf(&p.deprivation_shares);
        Ok(PatientDistributions {
            frailty: Gamma::new(p.frailty_shape, 1.0 / p.frailty_shape)
                .map_err(|e| invalid("frailty_shape", "a Gamma with mean 1".into(), e))?,
            capacity: capacity
                .try_into()
                .map_err(|_| invalid("capacity_mean", "one Beta per quintile".into(), "not 5"))?,
            activation: activation
                .try_into()
                .map_err(|_| invalid("activation_mean", "one Beta per quintile".into(), "not 5"))?,
            w_base: Normal::new(p.wellbeing_base_mean, p.wellbeing_base_sd)
                .map_err(|e| invalid("wellbeing_base_sd", "a Normal".into(), e))?,
            w_init: Normal::new(0.0, p.wellbeing_init_sd)
                .map_err(|e| invalid("wellbeing_init_sd", "a Normal".into(), e))?,
            quintile_cdf,
        })
    }
}

fn invalid(
    parameter: &'static str,
    distribution: String,
    detail: impl std::fmt::Display,
) -> ModelError {
    ModelError::Distribution {
        parameter,
        distribution,
        detail: detail.to_string(),
    }
}

impl Patient {
    /// Draws a patient's initial state (MODEL.md §5), the quintile from `quintile_cdf` (see
    /// [`quintile_cdf`]). Trust is set per arm at week 0.
    pub fn new(
        key: Key,
        p: &Params,
        tables: &NeedTables,
        dist: &PatientDistributions,
        quintile_cdf: &[f64; 5],
    ) -> Patient {
        let mut rng = key.stream(Purpose::PatientInit, 0);
        let u = unit_f64(rng.next_u64());
        let q = quintile_cdf.iter().position(|&c| u < c).unwrap_or(4);
        let frailty = dist.frailty.sample(&mut rng);
        let capacity = dist.capacity[q].sample(&mut rng);
        let a0 = dist.activation[q].sample(&mut rng);
        let w_base = dist.w_base.sample(&mut rng);
        let mut needs: NeedSet = 0;
        for k in 0..NEED_COUNT {
            if unit_f64(rng.next_u64()) < tables.equilibrium[q][k] {
                needs |= 1 << k;
            }
        }
        let noise = dist.w_init.sample(&mut rng);
        let crisis_left = initial_crisis(key, tables.crisis_onset[q], p.crisis_weeks);
        let target = w_base - tables.penalty[needs as usize];
        let target = if crisis_left > 0 {
            target - p.crisis_penalty
        } else {
            target
        };
        let wellbeing = clamp_wellbeing(target + noise);
        Patient {
            key,
            frailty,
            p_med: frailty * p.p_med0 * p.p_med_gradient[q],
            capacity,
            w_base,
            wellbeing,
            a0,
            activation: a0,
            trust: p.trust0,
            cooldown_until: i32::MIN,
            referral: NO_REFERRAL,
            q: q as u8,
            needs,
            pathway: Pathway::Idle,
            attended: 0,
            crisis_left,
            recent_social: 0,
            next_change: [NEVER; NEED_COUNT],
            next_crisis: NEVER,
        }
    }

    /// Draws the fast engine's schedules: each need's next change and the next crisis, as
    /// seen from the week before `start`, the first week lived.
    pub fn schedule_events(&mut self, start: i32, tables: &NeedTables) {
        let q = usize::from(self.q);
        self.next_change = initial_need_schedule(self.key, self.needs, q, start, tables);
        self.next_crisis = if self.crisis_left > 0 {
            NEVER
        } else {
            next_crisis_onset(self.key, start - 1, q, tables)
        };
    }

    /// The patient's own processes for one week, in MODEL.md's order: needs, wellbeing (with
    /// this week's needs), activation drift, then the consultation draw (with this week's `w`
    /// and `a`). Clears the `attended` flag once it has been used.
    #[inline(always)]
    pub fn live_week(&mut self, week: i64, p: &Params, tables: &NeedTables) -> Consultation {
        if tables.trap() {
            self.live_week_with::<true>(week, p, tables)
        } else {
            self.live_week_with::<false>(week, p, tables)
        }
    }

    /// [`Patient::live_week`], with MODEL.md §9.1's rules (crises, the `n_recent` history) if
    /// `TRAP` ([`NeedTables::trap`]). Compiled twice, so that loops over every patient pick
    /// the variant once and v1.0's step carries none of §9.1.
    #[inline(always)]
    pub fn live_week_with<const TRAP: bool>(
        &mut self,
        week: i64,
        p: &Params,
        tables: &NeedTables,
    ) -> Consultation {
        if TRAP {
            self.update_crisis(week, tables, p);
        }
        let mut rng = self.key.stream(Purpose::PatientWeek, week);
        let draws = [rng.next_u64(), rng.next_u64(), rng.next_u64()];
        let attended = self.attended.checked_sub(1).map(usize::from);
        self.attended = 0;

        self.needs = update_needs(
            self.needs,
            usize::from(self.q),
            draws,
            attended,
            self.capacity,
            tables,
            p,
        );

        let bonus = if attended.is_some() { p.g_att } else { 0.0 };
        let target = self.wellbeing_target::<TRAP>(bonus, p, tables);
        let noise: f64 = StandardNormal.sample(&mut rng);
        self.wellbeing = next_wellbeing(self.wellbeing, target, noise, p);

        self.activation += p.activation_drift * (self.a0 - self.activation);

        let u = unit_f64(rng.next_u64());
        let consultation = self.consultation_with::<TRAP>(u, p, tables);
        if TRAP {
            self.recent_social =
                (self.recent_social << 1) | u64::from(consultation == Consultation::Social);
        }
        consultation
    }

    /// The fast engine's week of the patient's own processes: the rules of
    /// [`Patient::live_week_with`], with needs and crises changing at scheduled events and
    /// one 64-bit draw for the wellbeing noise and the consultation. The population's loop
    /// ([`super::population::Population`]) runs the same steps through the same functions on
    /// its untouched patients, so a touched patient stays draw for draw its twin until the
    /// service changes something.
    #[inline]
    pub fn live_week_fast<const TRAP: bool>(
        &mut self,
        week: i32,
        p: &Params,
        tables: &NeedTables,
    ) -> Consultation {
        if TRAP {
            self.crisis_events(week, tables, p);
        }
        let attended = self.attended.checked_sub(1).map(usize::from);
        self.attended = 0;
        // Without an attendance the need process does nothing unless a change is due.
        if attended.is_some() || self.need_change_due(week) {
            self.needs = need_events(
                self.key,
                self.needs,
                &mut self.next_change,
                usize::from(self.q),
                week,
                attended,
                self.capacity,
                tables,
                p,
            );
        }
        let bonus = if attended.is_some() { p.g_att } else { 0.0 };
        let target = self.wellbeing_target::<TRAP>(bonus, p, tables);
        let word = self.key.draw(Purpose::WeekDraw, i64::from(week));
        let noise = weekly_noise(self.key, week, word, tables);
        self.wellbeing = next_wellbeing(self.wellbeing, target, noise, p);
        self.activation += p.activation_drift * (self.a0 - self.activation);
        let supported = self.pathway == Pathway::Supported;
        let low = self.wellbeing <= p.low_wellbeing_threshold;
        let consultation = self.consult_rates::<TRAP>(p, tables).consultation(
            weekly_uniform(word),
            supported,
            low,
            p,
        );
        if TRAP {
            self.recent_social =
                (self.recent_social << 1) | u64::from(consultation == Consultation::Social);
        }
        consultation
    }

    /// The week of a patient whose own processes are, draw for draw, those of `twin` (the
    /// population's record, already stepped this week, with its wellbeing `wellbeing` and, if
    /// the population keeps it apart, its consultation history `recent`): its needs, crisis,
    /// wellbeing and consultation history become the twin's. What the service changes (trust,
    /// pathway, cooldown, referral) stays the patient's own; activation and the attendance flag
    /// are equal to the twin's as long as the patient has never been on a caseload.
    ///
    /// Without `recent` the history is left as it is: the fast engine then keeps no history
    /// (nothing reads it), and the copy's is the twin's initial one, as neither changes it.
    /// So of the twin's record only the first cache line is read ([`EVENT_BYTES`]).
    #[inline]
    pub fn live_as_twin(&mut self, twin: &Patient, wellbeing: f64, recent: Option<u64>) {
        debug_assert!(self.activation == twin.activation && self.attended == twin.attended);
        debug_assert!(recent.is_some() || self.recent_social == twin.recent_social);
        self.wellbeing = wellbeing;
        self.needs = twin.needs;
        self.crisis_left = twin.crisis_left;
        if let Some(recent) = recent {
            self.recent_social = recent;
        }
        self.next_change = twin.next_change;
        self.next_crisis = twin.next_crisis;
    }

    /// The fast engine: whether some need's change is due in `week` (or overdue).
    #[inline(always)]
    fn need_change_due(&self, week: i32) -> bool {
        self.next_change
            .iter()
            .any(|&change| i32::from(change) <= week)
    }

    /// The wellbeing target of the week (MODEL.md §6.2): `w_base − Σ d_k + bonus`, less the
    /// crisis penalty in a crisis.
    #[inline(always)]
    pub fn wellbeing_target<const TRAP: bool>(
        &self,
        bonus: f64,
        p: &Params,
        tables: &NeedTables,
    ) -> f64 {
        let target = self.w_base - tables.penalty[usize::from(self.needs)] + bonus;
        if TRAP && self.in_crisis() {
            target - p.crisis_penalty
        } else {
            target
        }
    }

    /// The fast engine's [`ConsultRates`] for the patient's state.
    #[inline(always)]
    pub fn consult_rates<const CRISES: bool>(
        &self,
        p: &Params,
        tables: &NeedTables,
    ) -> ConsultRates {
        let factor = p.consult_activation_intercept - p.consult_activation_slope * self.activation;
        let uplift = tables.uplift[usize::from(self.needs)];
        let uplift = if CRISES && self.in_crisis() {
            uplift + p.crisis_uplift
        } else {
            uplift
        };
        ConsultRates {
            p_med: self.p_med * factor,
            p_soc: self.frailty * uplift * factor,
            p_low: p.u_low * factor,
        }
    }

    /// The fast engine's crisis step (MODEL.md §9.1, first thing in the week): a crisis under
    /// way counts down, and when it ends the wait to the next one is drawn; otherwise one
    /// starts in the week its schedule says. The wait is geometric, exact for the rule's
    /// weekly onset draw, and depends on nothing an arm can change.
    #[inline]
    pub fn crisis_events(&mut self, week: i32, tables: &NeedTables, p: &Params) {
        if self.crisis_left > 0 {
            self.crisis_left -= 1;
            if self.crisis_left == 0 {
                self.next_crisis = next_crisis_onset(self.key, week, usize::from(self.q), tables);
            }
        } else if i32::from(self.next_crisis) <= week {
            self.crisis_left = crisis_length(p.crisis_weeks);
            self.next_crisis = NEVER;
        }
    }

    /// The fast engine: the first week in which something of the patient's own processes is
    /// due (a need's change, or with MODEL.md §9.1 a crisis's start or a week of one).
    #[inline]
    pub fn next_event<const TRAP: bool>(&self, week: i32) -> i16 {
        let needs = self.next_change.iter().copied().min().unwrap_or(NEVER);
        if !TRAP {
            needs
        } else if self.in_crisis() {
            week_after(week, 1)
        } else {
            needs.min(self.next_crisis)
        }
    }

    /// MODEL.md §9.1, first thing in the patient's step: a crisis under way counts down by one
    /// week; otherwise one starts w.p. `crisis_rate·m_crisis[q]` and lasts `crisis_weeks`.
    /// The draw has a purpose of its own and depends on nothing an arm can change, so crises
    /// are the same in every arm; with crises off nothing is drawn.
    #[inline(always)]
    pub fn update_crisis(&mut self, week: i64, tables: &NeedTables, p: &Params) {
        if self.crisis_left > 0 {
            self.crisis_left -= 1;
            return;
        }
        let onset = tables.crisis_onset[usize::from(self.q)];
        if onset > 0.0 && unit_f64(self.key.stream(Purpose::Crisis, week).next_u64()) < onset {
            self.crisis_left = crisis_length(p.crisis_weeks);
        }
    }

    /// In crisis this week (after this week's countdown or start).
    #[inline(always)]
    pub fn in_crisis(&self) -> bool {
        self.crisis_left > 0
    }

    /// `n_recent`: the patient's own social consultations in the `weeks` weeks before the week
    /// last lived, that week excluded (MODEL.md §9.1). `weeks` is at most 63.
    pub fn n_recent(&self, weeks: u32) -> u32 {
        recent_count(self.recent_social, weeks)
    }

    /// MODEL.md §6.3 before the cap: `(p_med, p_med + p_soc)` for this week's state, with the
    /// activation factor and the holding relief applied. Both are ≥ 0 for valid parameters
    /// (the factor `intercept − slope·a` is ≥ 0 because `check_consistency` keeps the slope
    /// below the intercept), but frailty is unbounded, so they can exceed 1: the cap
    /// `consult_p_max` (≤ 1) is part of MODEL.md's rule.
    #[inline(always)]
    pub fn raw_consult_probabilities(&self, p: &Params, tables: &NeedTables) -> (f64, f64) {
        self.raw_consult_probabilities_with::<true>(p, tables)
    }

    /// [`Patient::raw_consult_probabilities`], ignoring crises unless `CRISES` (a patient is
    /// never in crisis when crises are off).
    #[inline(always)]
    fn raw_consult_probabilities_with<const CRISES: bool>(
        &self,
        p: &Params,
        tables: &NeedTables,
    ) -> (f64, f64) {
        let factor = p.consult_activation_intercept - p.consult_activation_slope * self.activation;
        let p_med = self.p_med * factor;
        let low = if self.wellbeing <= p.low_wellbeing_threshold {
            p.u_low
        } else {
            0.0
        };
        let uplift = tables.uplift[usize::from(self.needs)];
        // A crisis adds f·crisis_uplift before the activation factor and the holding relief.
        let uplift = if CRISES && self.in_crisis() {
            uplift + p.crisis_uplift
        } else {
            uplift
        };
        let mut p_soc = (self.frailty * uplift + low) * factor;
        if self.pathway == Pathway::Supported {
            p_soc *= 1.0 - p.holding_relief;
        }
        (p_med, p_med + p_soc)
    }

    /// MODEL.md §6.3: one uniform `u` decides between a medical, a social or no consultation:
    /// medical if `u < min(p_med, cap)`, else social if `u < min(p_med + p_soc, cap)`.
    #[inline(always)]
    pub fn consultation(&self, u: f64, p: &Params, tables: &NeedTables) -> Consultation {
        self.consultation_with::<true>(u, p, tables)
    }

    #[inline(always)]
    fn consultation_with<const CRISES: bool>(
        &self,
        u: f64,
        p: &Params,
        tables: &NeedTables,
    ) -> Consultation {
        let (p_med, p_any) = self.raw_consult_probabilities_with::<CRISES>(p, tables);
        let cap = p.consult_p_max;
        if u < if p_med < cap { p_med } else { cap } {
            Consultation::Medical
        } else if u < if p_any < cap { p_any } else { cap } {
            Consultation::Social
        } else {
            Consultation::None
        }
    }

    /// Whether a new referral may be offered this week (MODEL.md §6.4).
    pub fn can_be_referred(&self, week: i32) -> bool {
        self.pathway == Pathway::Idle && week >= self.cooldown_until
    }

    /// Leaves the pathway by any route: back to `Idle`, and no new offer for `cooldown` weeks.
    pub fn leave_pathway(&mut self, week: i32, cooldown_weeks: u32) {
        self.pathway = Pathway::Idle;
        self.cooldown_until = week.saturating_add(cooldown_weeks as i32);
    }
}

/// The fast engine's wellbeing noise of the week: the standard normal from the high half of
/// the week's word (`word`), continued from a stream of its own in the rare weeks the word is
/// not enough.
#[inline(always)]
pub fn weekly_noise(key: Key, week: i32, word: u64, tables: &NeedTables) -> f64 {
    match tables.noise.fast((word >> 32) as u32) {
        Ok(z) => z,
        Err(attempt) => tables.noise.finish(
            attempt,
            &mut key.stream(Purpose::NoiseTail, i64::from(week)),
        ),
    }
}

/// The consultation uniform of the week, 32 bits from the low half of the week's word.
#[inline(always)]
pub fn weekly_uniform(word: u64) -> u64 {
    word & 0xFFFF_FFFF
}

/// MODEL.md §6.2: `w + λ_w·(target − w) + σ_w·ε`, within the WEMWBS range.
#[inline(always)]
pub fn next_wellbeing(w: f64, target: f64, noise: f64, p: &Params) -> f64 {
    clamp_wellbeing(w + p.lambda_w * (target - w) + p.sigma_w * noise)
}

/// The fast engine: the week of the next crisis onset, drawn in `week` (when the last one
/// ended, or before the run's first week) for a patient of quintile `q`.
pub fn next_crisis_onset(key: Key, week: i32, q: usize, tables: &NeedTables) -> i16 {
    let u = open_unit_f64(key.draw(Purpose::CrisisEvent, i64::from(week)));
    week_after(week, geometric_wait(u, tables.crisis_log[q]))
}

/// `n_recent` from a history of social consultations (bit 0 = the week last lived, which is
/// excluded): see [`Patient::n_recent`].
pub fn recent_count(recent_social: u64, weeks: u32) -> u32 {
    let window = (1u64 << weeks.min(63)) - 1;
    ((recent_social >> 1) & window).count_ones()
}

/// `crisis_weeks` as stored in `crisis_left` (the registry caps it at 520).
fn crisis_length(crisis_weeks: u32) -> u16 {
    u16::try_from(crisis_weeks).unwrap_or(u16::MAX)
}

/// MODEL.md §9.1 initialisation: with `onset` the patient's weekly onset probability `h`, in
/// crisis w.p. `h·crisis_weeks/(1 + h·crisis_weeks)` (the stationary share of a crisis of fixed
/// length followed by a geometric wait), with `crisis_left` uniform on 1..=`crisis_weeks`.
/// Its own stream, so the other initial draws do not move.
pub fn initial_crisis(key: Key, onset: f64, crisis_weeks: u32) -> u16 {
    if onset <= 0.0 {
        return 0;
    }
    let mut rng = key.stream(Purpose::CrisisInit, 0);
    let length = f64::from(crisis_weeks);
    let share = onset * length / (1.0 + onset * length);
    if unit_f64(rng.next_u64()) >= share {
        return 0;
    }
    let left = 1 + (unit_f64(rng.next_u64()) * length) as u32;
    crisis_length(left.min(crisis_weeks))
}

/// Clamps to the WEMWBS range. Written with plain comparisons rather than `f64::clamp`, whose
/// NaN handling costs measurably in the weekly loop (wellbeing is never NaN).
#[inline(always)]
pub fn clamp_wellbeing(w: f64) -> f64 {
    let w = if w < WELLBEING_MIN { WELLBEING_MIN } else { w };
    if w > WELLBEING_MAX { WELLBEING_MAX } else { w }
}

/// `x + rate·(1 − x)`: the saturating gain used for trust, activation, knowledge and buy-in.
/// Stays in [0, 1] for x and rate in [0, 1].
#[inline]
pub fn saturating_gain(x: f64, rate: f64) -> f64 {
    (x + rate.clamp(0.0, 1.0) * (1.0 - x)).clamp(0.0, 1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn patient(p: &Params) -> (Patient, NeedTables) {
        let tables = NeedTables::new(p);
        let dist = PatientDistributions::new(p).expect("default distributions");
        let patient = Patient::new(Key::root(3), p, &tables, &dist, &dist.quintile_cdf);
        (patient, tables)
    }

    #[test]
    fn consultations_from_rates_are_those_of_the_thresholds() {
        let p = Params::default();
        let tight = Params {
            consult_p_max: 0.3,
            ..Params::default()
        };
        // Probabilities on and beside 32-bit steps, outside [0, 1], and the cap.
        let step = 1.0 / 4_294_967_296.0;
        let mut probabilities = vec![0.0, -0.0, -0.1, 1.0, 1.5, f64::NAN, f64::INFINITY, 0.3];
        for k in [1.0, 2.0, 12_345.0, 2_147_483_648.0, 4_294_967_295.0] {
            probabilities.extend([k * step, (k + 0.5) * step, k * step * (1.0 + 1e-15)]);
        }
        let mut rng = Key::root(11).stream(Purpose::PatientWeek, 0);
        probabilities.extend((0..40).map(|_| unit_f64(rng.next_u64()) * 0.2));
        let uniforms: Vec<u64> = probabilities
            .iter()
            .filter(|x| x.is_finite() && (0.0..=1.0).contains(*x))
            .flat_map(|&x| {
                let u = (x * 4_294_967_296.0) as u64;
                [u.saturating_sub(1), u, u + 1]
            })
            .chain([0, 1, u64::from(u32::MAX)])
            .filter(|&u| u <= u64::from(u32::MAX))
            .collect();
        for params in [&p, &tight] {
            for &p_med in &probabilities {
                for &p_soc in &probabilities {
                    let rates = ConsultRates {
                        p_med,
                        p_soc,
                        p_low: 0.05,
                    };
                    for (supported, low) in
                        [(false, false), (true, false), (false, true), (true, true)]
                    {
                        let thresholds = rates.thresholds(supported, params);
                        for &u in &uniforms {
                            let expected =
                                super::super::population::consultation(thresholds.code(u, low));
                            assert_eq!(
                                rates.consultation(u, supported, low, params),
                                expected,
                                "u {u}, rates {rates:?}, supported {supported}, low {low}"
                            );
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn n_recent_counts_social_consultations_of_the_window_before_this_week() {
        let (mut pt, _) = patient(&Params::default());
        // Weeks lived, oldest first: social, none, social, social (this week, bit 0).
        pt.recent_social = 0b1011;
        // This week is excluded: the window is the weeks before it.
        assert_eq!(pt.n_recent(1), 1);
        assert_eq!(pt.n_recent(2), 1);
        assert_eq!(pt.n_recent(3), 2);
        assert_eq!(pt.n_recent(12), 2);
        // A social consultation 13 weeks before this week falls out of a 12-week window.
        pt.recent_social = 1 << 13;
        assert_eq!(pt.n_recent(12), 0);
        assert_eq!(pt.n_recent(13), 1);
        pt.recent_social = u64::MAX;
        assert_eq!(pt.n_recent(63), 63);
    }

    #[test]
    fn only_the_patients_own_social_consultations_enter_n_recent() {
        let p = Params::default();
        let (mut pt, tables) = patient(&p);
        let mut socials = Vec::new();
        for week in 0..40 {
            let c = pt.live_week(week, &p, &tables);
            socials.push(c == Consultation::Social);
            // The bit of the week just lived is its own consultation, social ones only.
            assert_eq!(pt.recent_social & 1 == 1, c == Consultation::Social);
        }
        let expected = socials[40 - 13..40 - 1].iter().filter(|&&s| s).count() as u32;
        assert_eq!(pt.n_recent(12), expected);
    }

    #[test]
    fn a_crisis_starts_counts_down_first_thing_and_lasts_exactly_crisis_weeks() {
        let p = Params {
            crisis_rate: 1.0,
            m_crisis: [1.0; 5],
            crisis_weeks: 3,
            ..Params::default()
        };
        let (mut pt, tables) = patient(&p);
        pt.crisis_left = 0;
        let mut in_crisis = Vec::new();
        for week in 0..9 {
            pt.update_crisis(week, &tables, &p);
            in_crisis.push(pt.crisis_left);
        }
        // Certain onset: 3 weeks in crisis, the week the countdown reaches 0 out of it (a
        // patient starts only from crisis_left = 0 at the start of the step), then again.
        assert_eq!(in_crisis, [3, 2, 1, 0, 3, 2, 1, 0, 3]);
    }

    #[test]
    fn crises_lower_the_wellbeing_target_and_raise_social_consultations() {
        let p = Params {
            crisis_rate: 0.5,
            ..Params::default()
        };
        let (mut pt, tables) = patient(&p);
        pt.crisis_left = 0;
        let (med, any) = pt.raw_consult_probabilities(&p, &tables);
        pt.crisis_left = 5;
        let (med_c, any_c) = pt.raw_consult_probabilities(&p, &tables);
        let factor = p.consult_activation_intercept - p.consult_activation_slope * pt.activation;
        assert_eq!(med, med_c);
        let uplift = pt.frailty * p.crisis_uplift * factor;
        assert!(((any_c - any) - uplift).abs() < 1e-12);
        // Holding relief applies to the crisis uplift too: it comes after.
        pt.pathway = Pathway::Supported;
        let (_, held) = pt.raw_consult_probabilities(&p, &tables);
        assert!(((held - med) - (any_c - med) * (1.0 - p.holding_relief)).abs() < 1e-12);
    }

    #[test]
    fn no_crisis_rate_means_no_crisis_and_no_draw() {
        let p = Params::default();
        let (mut pt, tables) = patient(&p);
        assert_eq!(pt.crisis_left, 0);
        for week in -52..100 {
            pt.live_week(week, &p, &tables);
            assert_eq!(pt.crisis_left, 0);
        }
    }

    #[test]
    fn the_initial_share_in_crisis_is_the_stationary_one() {
        let (h, weeks) = (0.01, 12);
        let n = 40_000;
        let mut in_crisis = 0;
        let mut lengths = [0u32; 13];
        for i in 0..n {
            let left = initial_crisis(Key::root(9).child(i), h, weeks);
            if left > 0 {
                in_crisis += 1;
                lengths[usize::from(left)] += 1;
            }
        }
        let share = h * 12.0 / (1.0 + h * 12.0);
        let se = (share * (1.0 - share) / n as f64).sqrt();
        let got = f64::from(in_crisis) / n as f64;
        assert!((got - share).abs() < 4.0 * se, "{got} vs {share}");
        assert_eq!(lengths[0], 0);
        assert!(lengths[1..].iter().all(|&c| c > 0), "{lengths:?}");
    }
}
