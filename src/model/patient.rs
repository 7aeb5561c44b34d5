//! Patients: their initial characteristics (MODEL.md §5) and their own weekly processes — needs,
//! wellbeing, activation drift and the GP consultation draw (§6.1-6.3).
//!
//! Patients are stored as a flat `Vec<Patient>` of plain `Copy` records: no per-patient heap
//! allocation, one pass over contiguous memory per week.

use rand::Rng;
use rand_distr::{Beta, Distribution, Gamma, Normal, StandardNormal};

use super::ModelError;
use super::needs::{NeedSet, NeedTables, update_needs};
use crate::params::NEED_COUNT;
use crate::params::Params;
use crate::rng::{Key, Purpose, unit_f64};

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

#[derive(Clone, Copy, Debug)]
pub struct Patient {
    /// Root of this patient's random streams; the same in every arm (common random numbers).
    pub key: Key,
    /// Frailty `f`: consultation propensity, mean 1.
    pub frailty: f64,
    /// `f·p_med0·g[q]`, fixed for life, kept so the weekly draw does not recompute it.
    pub p_med: f64,
    /// Capacity `c` (time, money, caring duties, transport), 0-1.
    pub capacity: f64,
    /// Baseline wellbeing `w_base` [WEMWBS points].
    pub w_base: f64,
    /// Wellbeing `w` [WEMWBS points, 14-70].
    pub wellbeing: f64,
    /// Baseline activation `a0`, 0-1.
    pub a0: f64,
    /// Activation `a`, 0-1.
    pub activation: f64,
    /// Trust in the service `τ`, 0-1.
    pub trust: f64,
    /// First week in which a new referral may be offered.
    pub cooldown_until: i32,
    /// Index of the patient's current or last referral, or [`NO_REFERRAL`].
    pub referral: u32,
    /// Deprivation quintile, 0-based (0 = q1, most deprived).
    pub q: u8,
    pub needs: NeedSet,
    pub pathway: Pathway,
    /// Category + 1 of the asset attended last week, 0 if none (MODEL.md §6.6 `attended` flag).
    pub attended: u8,
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
        let wellbeing = clamp_wellbeing(w_base - tables.penalty[needs as usize] + noise);
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
        }
    }

    /// The patient's own processes for one week, in MODEL.md's order: needs, wellbeing (with
    /// this week's needs), activation drift, then the consultation draw (with this week's `w`
    /// and `a`). Clears the `attended` flag once it has been used.
    #[inline(always)]
    pub fn live_week(&mut self, week: i64, p: &Params, tables: &NeedTables) -> Consultation {
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
        let target = self.w_base - tables.penalty[usize::from(self.needs)] + bonus;
        let noise: f64 = StandardNormal.sample(&mut rng);
        self.wellbeing = clamp_wellbeing(
            self.wellbeing + p.lambda_w * (target - self.wellbeing) + p.sigma_w * noise,
        );

        self.activation += p.activation_drift * (self.a0 - self.activation);

        let u = unit_f64(rng.next_u64());
        self.consultation(u, p, tables)
    }

    /// MODEL.md §6.3 before the cap: `(p_med, p_med + p_soc)` for this week's state, with the
    /// activation factor and the holding relief applied. Both are ≥ 0 for valid parameters
    /// (the factor `intercept − slope·a` is ≥ 0 because `check_consistency` keeps the slope
    /// below the intercept), but frailty is unbounded, so they can exceed 1: the cap
    /// `consult_p_max` (≤ 1) is part of MODEL.md's rule.
    #[inline(always)]
    pub fn raw_consult_probabilities(&self, p: &Params, tables: &NeedTables) -> (f64, f64) {
        let factor = p.consult_activation_intercept - p.consult_activation_slope * self.activation;
        let p_med = self.p_med * factor;
        let low = if self.wellbeing <= p.low_wellbeing_threshold {
            p.u_low
        } else {
            0.0
        };
        let mut p_soc = (self.frailty * tables.uplift[usize::from(self.needs)] + low) * factor;
        if self.pathway == Pathway::Supported {
            p_soc *= 1.0 - p.holding_relief;
        }
        (p_med, p_med + p_soc)
    }

    /// MODEL.md §6.3: one uniform `u` decides between a medical, a social or no consultation:
    /// medical if `u < min(p_med, cap)`, else social if `u < min(p_med + p_soc, cap)`.
    #[inline(always)]
    pub fn consultation(&self, u: f64, p: &Params, tables: &NeedTables) -> Consultation {
        let (p_med, p_any) = self.raw_consult_probabilities(p, tables);
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
