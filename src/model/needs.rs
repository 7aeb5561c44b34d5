//! Non-medical needs (MODEL.md §6.1): the six need types, their weekly onset and resolution,
//! and the per-need sums the wellbeing and consultation rules use.

use crate::params::{NEED_COUNT, Params};
use crate::rng::normal::Ziggurat;
use crate::rng::{Key, Purpose, geometric_wait, ln_stay, open_unit_f64, threshold_u32, unit_f64};

pub const LONELINESS: usize = 0;
pub const HOUSING: usize = 3;
pub const WORK: usize = 4;

/// A set of needs as a bit mask (bit k = need k present).
pub type NeedSet = u8;

/// Housing and work are structural: link workers and assets can do little about them (seed 003).
pub const STRUCTURAL: NeedSet = (1 << HOUSING) | (1 << WORK);

/// Iterates the needs present in a set, in the fixed order: one step per need present, not
/// per need.
#[inline(always)]
pub fn present(needs: NeedSet) -> impl Iterator<Item = usize> {
    let mut bits = needs & ((1 << NEED_COUNT) - 1);
    std::iter::from_fn(move || {
        (bits != 0).then(|| {
            let k = bits.trailing_zeros() as usize;
            bits &= bits - 1;
            k
        })
    })
}

/// Quantities of the need process derived once per arm from the parameters, so that the weekly
/// patient loop does table look-ups instead of arithmetic.
#[derive(Clone, Debug)]
pub struct NeedTables {
    /// Onset threshold (32-bit) by quintile and need: `h_k = m_k[q]·π_k/((1−π_k)·D_k)`.
    pub onset: [[u64; NEED_COUNT]; 5],
    /// Resolution hazard `r_k = 1/D_k` and its 32-bit threshold.
    pub resolve: [f64; NEED_COUNT],
    pub resolve_threshold: [u64; NEED_COUNT],
    /// Equilibrium prevalence `h/(h+r)` by quintile and need, for initialisation.
    pub equilibrium: [[f64; NEED_COUNT]; 5],
    /// Σ d_k over the needs in each of the 64 possible sets.
    pub penalty: [f64; 64],
    /// Σ u_k over the needs in each of the 64 possible sets.
    pub uplift: [f64; 64],
    /// Weekly crisis onset probability by quintile, `crisis_rate·m_crisis[q]` clamped to
    /// [0, 1] (MODEL.md §9.1); all 0 when crises are off.
    pub crisis_onset: [f64; 5],
    /// Whether crises can happen at all (`crisis_rate` > 0).
    pub crises: bool,
    /// Whether patients keep the history `n_recent` is read from: some arm sharing the
    /// population has `recency_gain` > 0, or crises are on (MODEL.md §9.1). Without either,
    /// the weekly patient step is v1.0's, compiled without a trace of §9.1.
    pub recency: bool,
    /// For the fast engine's waiting times ([`geometric_wait`]): `ln(1 − h)` of each onset
    /// hazard by quintile and need, `ln(1 − r)` of each resolution hazard, and `ln(1 − h)` of
    /// the crisis onset probability by quintile.
    pub onset_log: [[f64; NEED_COUNT]; 5],
    pub resolve_log: [f64; NEED_COUNT],
    pub crisis_log: [f64; 5],
    /// The fast engine's normal draws.
    pub noise: Ziggurat,
}

/// A week an event never comes in (the fast engine's schedules are `i16` weeks: runs span
/// at most −5,200..5,200).
pub const NEVER: i16 = i16::MAX;

/// `week + wait` as a schedule entry, [`NEVER`] beyond the range.
#[inline]
pub fn week_after(week: i32, wait: u32) -> i16 {
    i16::try_from(i64::from(week) + i64::from(wait)).unwrap_or(NEVER)
}

impl NeedTables {
    /// Whether the weekly patient step runs MODEL.md §9.1's rules.
    #[inline(always)]
    pub fn trap(&self) -> bool {
        self.crises || self.recency
    }
}

impl NeedTables {
    pub fn new(p: &Params) -> NeedTables {
        let mut onset = [[0; NEED_COUNT]; 5];
        let mut equilibrium = [[0.0; NEED_COUNT]; 5];
        let resolve: [f64; NEED_COUNT] = std::array::from_fn(|k| 1.0 / p.need_duration_weeks[k]);
        for q in 0..5 {
            for k in 0..NEED_COUNT {
                let h = onset_hazard(p, k, q);
                onset[q][k] = threshold_u32(h);
                equilibrium[q][k] = if h + resolve[k] > 0.0 {
                    h / (h + resolve[k])
                } else {
                    0.0
                };
            }
        }
        let sum_over = |values: &[f64; NEED_COUNT]| -> [f64; 64] {
            std::array::from_fn(|mask| present(mask as NeedSet).map(|k| values[k]).sum())
        };
        let hazards: [[f64; NEED_COUNT]; 5] =
            std::array::from_fn(|q| std::array::from_fn(|k| onset_hazard(p, k, q)));
        let crisis_onset: [f64; 5] =
            std::array::from_fn(|q| (p.crisis_rate * p.m_crisis[q]).clamp(0.0, 1.0));
        NeedTables {
            onset_log: hazards.map(|row| row.map(ln_stay)),
            resolve_log: resolve.map(ln_stay),
            crisis_log: crisis_onset.map(ln_stay),
            noise: Ziggurat::new(),
            onset,
            resolve,
            resolve_threshold: resolve.map(threshold_u32),
            equilibrium,
            penalty: sum_over(&p.need_wellbeing_penalty),
            uplift: sum_over(&p.need_gp_uplift),
            crisis_onset,
            crises: p.crisis_rate > 0.0,
            recency: p.recency_gain > 0.0,
        }
    }
}

/// Expected non-medical GP consultations per patient-week caused by needs, in a population
/// with deprivation quintile shares `mix`: `Σ_q mix_q · Σ_k prevalence[q][k] · u_k`, at the
/// needs' equilibrium prevalence and mean frailty 1 (MODEL.md §6.1, §6.3, before the activation
/// factor and the low-wellbeing term). The weight of the `need` link-worker allocation.
pub fn expected_need_consultations(tables: &NeedTables, p: &Params, mix: &[f64; 5]) -> f64 {
    let total: f64 = mix.iter().sum();
    if total <= 0.0 {
        return 0.0;
    }
    (0..5)
        .map(|q| {
            let per_patient: f64 = (0..NEED_COUNT)
                .map(|k| tables.equilibrium[q][k] * p.need_gp_uplift[k])
                .sum();
            mix[q] / total * per_patient
        })
        .sum()
}

/// Weekly onset hazard of need `k` in quintile `q`, chosen so that without assets the need's
/// long-run prevalence is `m·π/(m·π + 1 − π)` (π itself when m = 1). This is the value before
/// the clamp: valid parameters allow it to exceed 1 (e.g. m = 20, π = 0.95, D = 1), and the
/// draw's threshold ([`threshold_u32`]) clamps it, so the need then starts surely.
pub fn onset_hazard(p: &Params, k: usize, q: usize) -> f64 {
    let pi = p.need_prevalence[k];
    p.need_deprivation_multiplier[k][q] * pi / ((1.0 - pi) * p.need_duration_weeks[k])
}

/// Extra resolution hazard of need `k` for a patient of capacity `c` who attended an asset of
/// category `attended` last week (MODEL.md §6.1 `boost_k`).
#[inline]
pub fn attendance_boost(p: &Params, k: usize, attended: usize, capacity: f64) -> f64 {
    let own = if attended == k {
        p.asset_effect[k] * capacity
    } else {
        0.0
    };
    let social = if k == LONELINESS { p.e_social } else { 0.0 };
    own + social
}

/// Weekly resolution hazard of present need `k` before the clamp: `r_k = 1/D_k`, plus
/// `boost_k` if the patient attended an asset of category `attended` last week. `r_k` alone is
/// within (0, 1] (D ≥ 1); with the boost valid parameters allow up to 3, and the draw's
/// threshold ([`threshold_u32`]) clamps it, so the need then resolves surely.
#[inline]
pub fn raw_resolution_hazard(
    tables: &NeedTables,
    p: &Params,
    k: usize,
    attended: Option<usize>,
    capacity: f64,
) -> f64 {
    match attended {
        None => tables.resolve[k],
        Some(category) => tables.resolve[k] + attendance_boost(p, k, category, capacity),
    }
}

/// The 32-bit uniform of need `k`: each 64-bit word of the patient's weekly draws serves two
/// needs, low half first.
#[inline(always)]
fn need_uniform(draws: [u64; 3], k: usize) -> u64 {
    let word = draws[k / 2];
    if k.is_multiple_of(2) {
        word & 0xFFFF_FFFF
    } else {
        word >> 32
    }
}

/// One week of the need process for one patient: one 32-bit uniform per need, from `draws`
/// (three 64-bit words, two uniforms each). `attended` is the asset category attended last
/// week, if any.
#[inline(always)]
pub fn update_needs(
    needs: NeedSet,
    q: usize,
    draws: [u64; 3],
    attended: Option<usize>,
    capacity: f64,
    tables: &NeedTables,
    p: &Params,
) -> NeedSet {
    match attended {
        // The common case, branch-free: a need flips (starts or resolves) when its uniform is
        // below the threshold that applies to its current state.
        None => {
            let mut flips: NeedSet = 0;
            for k in 0..NEED_COUNT {
                let u = need_uniform(draws, k);
                let present = needs & (1 << k) != 0;
                let threshold = if present {
                    tables.resolve_threshold[k]
                } else {
                    tables.onset[q][k]
                };
                flips |= u8::from(u < threshold) << k;
            }
            needs ^ flips
        }
        Some(category) => {
            let mut next = needs;
            for k in 0..NEED_COUNT {
                let u = need_uniform(draws, k);
                let bit = 1 << k;
                if needs & bit == 0 {
                    if u < tables.onset[q][k] {
                        next |= bit;
                    }
                } else {
                    let hazard = raw_resolution_hazard(tables, p, k, Some(category), capacity);
                    if u < threshold_u32(hazard) {
                        next &= !bit;
                    }
                }
            }
            next
        }
    }
}

/// The fast engine's need process (MODEL.md §6.1 as events): each need of a patient changes
/// in the week its schedule says, and the week of its next change is drawn then. A need's
/// weekly hazard is constant while it keeps its state, so the wait is geometric: exact in
/// distribution for the weekly Bernoulli draws of the rule. Drawn in `week` for need `k`,
/// `present` after the change, for a patient of quintile `q`.
#[inline]
pub fn next_need_change(
    key: Key,
    k: usize,
    week: i32,
    present: bool,
    q: usize,
    tables: &NeedTables,
) -> i16 {
    let ln_q = if present {
        tables.resolve_log[k]
    } else {
        tables.onset_log[q][k]
    };
    let u = open_unit_f64(key.word(Purpose::NeedEvent, i64::from(week), k as u64));
    week_after(week, geometric_wait(u, ln_q))
}

/// The fast engine's week of the need process for one patient: needs whose change is due in
/// `week` flip and draw their next change. A patient who attended an asset of category
/// `attended` last week also has, for each present need with a boost `b`, an extra chance to
/// resolve, `b/(1 − r)`, drawn independently of the need's own schedule: together the weekly
/// resolution probability is exactly `r + b` (capped at 1), and the need keeps the resolution
/// week its twin in the population has, so common random numbers hold. Returns the new set.
#[allow(clippy::too_many_arguments)] // the patient's need state, spelled out for both engines
#[inline]
pub fn need_events(
    key: Key,
    needs: NeedSet,
    next_change: &mut [i16; NEED_COUNT],
    q: usize,
    week: i32,
    attended: Option<usize>,
    capacity: f64,
    tables: &NeedTables,
    p: &Params,
) -> NeedSet {
    // The needs due, as a set formed without a branch: which of them falls due is a
    // different need from one event to the next, and a branch per need would be guessed
    // wrong about once an event. Every draw below is keyed by need and week, so the order in
    // which the needs are handled changes nothing.
    let mut changes: NeedSet = 0;
    for (k, &change) in next_change.iter().enumerate() {
        changes |= NeedSet::from(i32::from(change) <= week) << k;
    }
    if let Some(category) = attended {
        for k in present(needs & !changes) {
            if resolves_by_attendance(key, k, week, category, capacity, tables, p) {
                changes |= 1 << k;
            }
        }
    }
    for k in present(changes) {
        let present = needs & (1 << k) != 0;
        next_change[k] = next_need_change(key, k, week, !present, q, tables);
    }
    needs ^ changes
}

/// The extra resolution draw of present need `k` for a patient who attended an asset of
/// category `category` last week: succeeds w.p. `b/(1 − r)` (see [`need_events`]).
fn resolves_by_attendance(
    key: Key,
    k: usize,
    week: i32,
    category: usize,
    capacity: f64,
    tables: &NeedTables,
    p: &Params,
) -> bool {
    let boost = attendance_boost(p, k, category, capacity);
    if boost <= 0.0 {
        return false;
    }
    let base = tables.resolve[k];
    if base >= 1.0 {
        // The need resolves this week anyway (its schedule says so).
        return false;
    }
    let extra = boost / (1.0 - base);
    unit_f64(key.word(Purpose::Boost, i64::from(week), k as u64)) < extra
}

/// The schedule of a patient's needs drawn at the start of a run, in the week before the
/// first lived week (`start − 1`), as if each need had just taken its initial state.
pub fn initial_need_schedule(
    key: Key,
    needs: NeedSet,
    q: usize,
    start: i32,
    tables: &NeedTables,
) -> [i16; NEED_COUNT] {
    std::array::from_fn(|k| next_need_change(key, k, start - 1, needs & (1 << k) != 0, q, tables))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expected_need_consultations_rise_with_deprivation_and_weigh_the_mix() {
        let p = Params::default();
        let t = NeedTables::new(&p);
        let q1 = expected_need_consultations(&t, &p, &[1.0, 0.0, 0.0, 0.0, 0.0]);
        let q5 = expected_need_consultations(&t, &p, &[0.0, 0.0, 0.0, 0.0, 1.0]);
        assert!(q1 > q5, "{q1} vs {q5}");
        let even = expected_need_consultations(&t, &p, &[0.2; 5]);
        let halves = expected_need_consultations(&t, &p, &[0.5, 0.0, 0.0, 0.0, 0.5]);
        assert!((halves - (q1 + q5) / 2.0).abs() < 1e-15);
        assert!(even > 0.0);
        // At q3 (multiplier 1) each need is at its prevalence π: Σ π_k·u_k.
        let q3 = expected_need_consultations(&t, &p, &[0.0, 0.0, 1.0, 0.0, 0.0]);
        let direct: f64 = (0..NEED_COUNT)
            .map(|k| p.need_prevalence[k] * p.need_gp_uplift[k])
            .sum();
        assert!((q3 - direct).abs() < 1e-12, "{q3} vs {direct}");
        assert_eq!(expected_need_consultations(&t, &p, &[0.0; 5]), 0.0);
    }

    #[test]
    fn equilibrium_prevalence_matches_pi_for_the_middle_quintile() {
        let p = Params::default();
        let t = NeedTables::new(&p);
        for k in 0..NEED_COUNT {
            assert!((t.equilibrium[2][k] - p.need_prevalence[k]).abs() < 1e-12);
        }
    }

    #[test]
    fn present_needs_come_in_ascending_order_and_only_real_needs() {
        let all: Vec<usize> = present(0xFF).collect();
        assert_eq!(all, (0..NEED_COUNT).collect::<Vec<_>>());
        assert_eq!(present(0b10100).collect::<Vec<_>>(), [2, 4]);
        assert_eq!(present(0).count(), 0);
    }

    #[test]
    fn set_sums_add_the_present_needs() {
        let p = Params::default();
        let t = NeedTables::new(&p);
        assert_eq!(t.penalty[0], 0.0);
        assert_eq!(t.penalty[0b11], 5.0 + 7.0);
        assert!((t.uplift[0b100000] - 0.004).abs() < 1e-15);
    }

    #[test]
    fn certain_draws_flip_every_need() {
        let p = Params::default();
        let t = NeedTables::new(&p);
        // u = 0 is below every positive threshold: absent needs start, present ones resolve.
        assert_eq!(update_needs(0, 0, [0; 3], None, 0.5, &t, &p), 0b111111);
        assert_eq!(update_needs(0b111111, 0, [0; 3], None, 0.5, &t, &p), 0);
        // u = 2³²−1 is above every threshold below 1: nothing changes.
        let high = [u64::MAX; 3];
        assert_eq!(update_needs(0b101010, 0, high, None, 0.5, &t, &p), 0b101010);
    }
}
