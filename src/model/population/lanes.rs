//! The fast engine's weekly loop over a population, in blocks of patients and in passes the
//! compiler can turn into vector code (several patients per instruction).
//!
//! A patient-week with no event is the same few steps for every patient: hash the week's word,
//! turn 32 bits of it into a normal, step wellbeing, compare the other 32 bits with the
//! consultation thresholds. Written patient by patient with its rare branches (an event due, a
//! ziggurat draw outside the rectangles), the loop runs one patient at a time. Here each block
//! first handles its events, then draws every patient's noise without a branch, finishes the
//! rare rejected draws, and steps every patient. Each patient's values are computed by the
//! same IEEE operations as patient by patient, and the week's sums are formed in integers
//! (exact, whatever the order of addition), so every instruction set gives the same bits.

// The passes index several arrays of the same length by patient; sliced to that length first,
// the indexing is unchecked and reads as the rule does.
#![allow(clippy::needless_range_loop)]

use super::super::observe::history_cell;
use super::super::patient::{
    ConsultThresholds, WELLBEING_MAX, next_wellbeing, threshold_code, weekly_uniform,
};
use super::{MEDICAL, NO_CONSULT, SOCIAL};
use crate::params::Params;
use crate::rng::normal::{Attempt, Ziggurat};
use crate::rng::{Key, Purpose, threshold_u32};

/// Patients per block: large enough for the vector passes, small enough that a block's
/// buffers stay in the first-level cache.
pub const BLOCK: usize = 256;

/// The fast engine's per-patient state of the weekly loop, one array per field: what a
/// patient-week reads and writes when no event is due. Everything else stays in the patient's
/// record, brought up to date at events.
#[derive(Clone, Debug, Default)]
pub struct Lanes {
    pub key: Vec<Key>,
    pub wellbeing: Vec<f64>,
    /// The wellbeing target (MODEL.md §6.2) for the current needs and crisis.
    pub target: Vec<f64>,
    /// The consultation thresholds of an untouched patient (never on a caseload), by field,
    /// in 32 bits ([`narrow`]).
    pub medical: Vec<u32>,
    pub any: Vec<u32>,
    pub any_low: Vec<u32>,
    /// First week something of the patient's own processes is due.
    pub next_event: Vec<i16>,
    pub q: Vec<u8>,
}

/// Bytes [`Lanes`] holds per patient.
pub const LANE_BYTES: usize =
    size_of::<Key>() + 2 * size_of::<f64>() + 3 * size_of::<u32>() + size_of::<i16>() + 1;

impl Lanes {
    pub fn with_capacity(n: usize) -> Lanes {
        Lanes {
            key: Vec::with_capacity(n),
            wellbeing: Vec::with_capacity(n),
            target: Vec::with_capacity(n),
            medical: Vec::with_capacity(n),
            any: Vec::with_capacity(n),
            any_low: Vec::with_capacity(n),
            next_event: Vec::with_capacity(n),
            q: Vec::with_capacity(n),
        }
    }

    pub fn len(&self) -> usize {
        self.key.len()
    }

    pub fn push(&mut self, key: Key, wellbeing: f64, q: u8, scheduled: Scheduled) {
        self.key.push(key);
        self.wellbeing.push(wellbeing);
        self.q.push(q);
        self.target.push(0.0);
        self.medical.push(0);
        self.any.push(0);
        self.any_low.push(0);
        self.next_event.push(0);
        self.set(self.len() - 1, scheduled);
    }

    /// Patient `i`'s state after its events: target, thresholds and next event.
    #[inline]
    pub fn set(&mut self, i: usize, s: Scheduled) {
        self.target[i] = s.target;
        self.medical[i] = narrow(s.consult.medical);
        self.any[i] = narrow(s.consult.any);
        self.any_low[i] = narrow(s.consult.any_low);
        self.next_event[i] = s.next_event;
    }
}

/// A consultation threshold (at most 2³²) in the 32 bits the loop keeps: 2³² becomes 2³² − 1.
///
/// Half the bytes of a 64-bit threshold, read by every patient-week, and compared in 32-bit
/// vector lanes. The comparison `u < t` of the week's 32-bit uniform `u` is unchanged except
/// for `u` = 2³² − 1 and `t` = 2³², which only a cap `consult_p_max` of 1 (within 2⁻³²) allows:
/// [`Step::saturating`] says so, and those patient-weeks (one in 2³²) are done again exactly.
#[inline]
pub fn narrow(threshold: u64) -> u32 {
    u32::try_from(threshold).unwrap_or(u32::MAX)
}

/// Whether some consultation threshold can be 2³² ([`narrow`]): only if the cap lets a
/// probability reach 1 after rounding up to a multiple of 2⁻³².
pub fn saturating(p: &Params) -> bool {
    threshold_u32(p.consult_p_max) > u64::from(u32::MAX)
}

/// What a patient's events leave for the loop until the next one.
#[derive(Clone, Copy, Debug)]
pub struct Scheduled {
    pub target: f64,
    pub consult: ConsultThresholds,
    pub next_event: i16,
}

/// The parameters of a patient-week's step, read once per week.
#[derive(Clone, Copy, Debug)]
pub struct Step<'a> {
    /// The week's part of every patient's word ([`crate::rng::offset`]).
    pub draw: u64,
    pub week: i32,
    /// Whether a threshold can be 2³² ([`saturating`]), so that the loop looks for the week's
    /// uniforms of 2³² − 1.
    pub saturating: bool,
    pub noise: &'a Ziggurat,
    pub p: &'a Params,
}

/// A block's scratch: each patient's noise, consultation uniform and whether the ziggurat
/// accepted the first attempt.
pub struct Scratch {
    noise: [f64; BLOCK],
    uniform: [u32; BLOCK],
    accepted: [bool; BLOCK],
}

impl Scratch {
    pub fn new() -> Box<Scratch> {
        Box::new(Scratch {
            noise: [0.0; BLOCK],
            uniform: [0; BLOCK],
            accepted: [true; BLOCK],
        })
    }
}

/// Units of wellbeing in the week's sums: 2⁻²⁴ WEMWBS points.
///
/// The sums are formed in integers, each patient's wellbeing rounded to the nearest unit
/// (an error of at most 3·10⁻⁸ points per patient). Integer sums do not depend on the order
/// of the additions, so the vector passes may add several patients at once and every
/// instruction set gives the same bits.
const WELLBEING_UNITS: f64 = (1u64 << 24) as f64;

/// 1.5·2⁵²: added to a number of magnitude below 2⁵¹, it leaves the number rounded to the
/// nearest integer in the low bits of the sum's mantissa.
const ROUNDING: f64 = 6_755_399_441_055_744.0;

/// A patient's wellbeing in the units of the week's sums, rounded to the nearest unit.
#[inline(always)]
fn wellbeing_units(w: f64) -> i64 {
    // Rather than `as i64`, whose saturating conversion the compiler cannot do in vector
    // registers: w·2²⁴ ≤ 70·2²⁴ is far below 2⁵¹, so the sum is exact but for the rounding.
    (w * WELLBEING_UNITS + ROUNDING).to_bits() as i64 - ROUNDING.to_bits() as i64
}

/// What a block adds to the week's sums and counts; all integers, whose order of addition
/// does not matter, so the vector pass forms them.
#[derive(Clone, Copy, Debug, Default)]
pub struct Counts {
    pub low: u64,
    pub medical: u64,
    pub q_consults: [u64; 5],
    /// Σ wellbeing of each quintile's patients, in [`WELLBEING_UNITS`].
    pub q_wellbeing: [i64; 5],
}

impl Counts {
    pub fn add(&mut self, other: &Counts) {
        self.low += other.low;
        self.medical += other.medical;
        for k in 0..5 {
            self.q_consults[k] += other.q_consults[k];
            self.q_wellbeing[k] += other.q_wellbeing[k];
        }
    }

    /// Σ wellbeing of each quintile's patients, in WEMWBS points.
    pub fn q_wellbeing_sum(&self) -> [f64; 5] {
        self.q_wellbeing.map(|x| x as f64 / WELLBEING_UNITS)
    }

    /// Σ wellbeing of every patient, in WEMWBS points.
    pub fn wellbeing_sum(&self) -> f64 {
        self.q_wellbeing.iter().sum::<i64>() as f64 / WELLBEING_UNITS
    }
}

/// What the loop asks of the patients' records, which it does not read itself.
pub trait Records {
    /// Brings the patients `due` (ids, ascending), whose events fall due this week, up to
    /// date in their records and in `lanes`.
    fn events_due(&mut self, due: &[u32], lanes: &mut Lanes);
    /// Patient `i`'s consultation thresholds in full, as its record gives them now.
    fn thresholds(&self, i: usize) -> ConsultThresholds;
}

/// What a block's week needs besides the population's arrays: where the block starts, its
/// consultation codes (out) and the list of consulting patients (appended to), and the
/// records of the week kept for the block's patients, if any: MODEL.md §9.1's history of
/// social consultations ([`record_social`]) and the evaluation's history of the week
/// ([`record_history`]).
///
/// The records are written here, by the loop compiled for the processor's widest vectors,
/// rather than by the caller, whose code is compiled for the baseline instruction set.
pub struct Block<'a> {
    pub start: usize,
    pub codes: &'a mut [u8],
    pub consulting: &'a mut Vec<u32>,
    pub recent: Option<&'a mut [u64]>,
    pub history: Option<&'a mut [f32]>,
}

/// A block of patients' week (`start..start + codes.len()` of `lanes`): the events due,
/// handed to `records` (which brings their loop state up to date), then noise, wellbeing and
/// the consultation code into `codes`, and the consulting patients' ids. Returns the block's
/// counts.
///
/// On x86-64 the passes are compiled three times, for AVX-512, for AVX2 and for the baseline
/// instruction set, and the widest the processor has is chosen at run time. Every version
/// performs the same IEEE operations on each patient (Rust never fuses or reorders
/// floating-point arithmetic), so all three give the same bits.
pub fn step_block(
    step: Step,
    lanes: &mut Lanes,
    block: Block,
    scratch: &mut Scratch,
    records: &mut impl Records,
) -> Counts {
    match widest_vectors() {
        #[cfg(target_arch = "x86_64")]
        // SAFETY: the processor has every feature the function is compiled for.
        Vectors::Avx512 => unsafe { step_block_avx512(step, lanes, block, scratch, records) },
        #[cfg(target_arch = "x86_64")]
        // SAFETY: as above.
        Vectors::Avx2 => unsafe { step_block_avx2(step, lanes, block, scratch, records) },
        _ => step_block_with(step, lanes, block, scratch, records),
    }
}

/// The vector instruction sets the passes are compiled for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Vectors {
    Avx512,
    Avx2,
    Baseline,
}

/// The widest of [`Vectors`] this processor has (the check is cached by the standard library).
#[inline]
fn widest_vectors() -> Vectors {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::is_x86_feature_detected as has;
        if has!("avx512f") && has!("avx512dq") && has!("avx512vl") && has!("avx512bw") {
            return Vectors::Avx512;
        }
        if has!("avx2") {
            return Vectors::Avx2;
        }
    }
    Vectors::Baseline
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512dq,avx512vl,avx512bw,avx2,bmi1,bmi2,popcnt")]
fn step_block_avx512(
    step: Step,
    lanes: &mut Lanes,
    block: Block,
    scratch: &mut Scratch,
    records: &mut impl Records,
) -> Counts {
    step_block_with(step, lanes, block, scratch, records)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,bmi1,bmi2,popcnt")]
fn step_block_avx2(
    step: Step,
    lanes: &mut Lanes,
    block: Block,
    scratch: &mut Scratch,
    records: &mut impl Records,
) -> Counts {
    step_block_with(step, lanes, block, scratch, records)
}

#[inline(always)]
fn step_block_with(
    step: Step,
    lanes: &mut Lanes,
    block: Block,
    scratch: &mut Scratch,
    records: &mut impl Records,
) -> Counts {
    let Block {
        start,
        codes,
        consulting,
        recent,
        history,
    } = block;
    let len = codes.len().min(BLOCK);
    let end = start + len;
    let codes = &mut codes[..len];
    // Weeks lie well inside i16 (the run's length is bounded), where `next_event` lives.
    let week = step.week.clamp(i32::from(i16::MIN), i32::from(i16::MAX)) as i16;
    let due = block_set(&lanes.next_event[start..end], |next| next <= week);
    if due.iter().any(|&word| word != 0) {
        let mut ids = [0u32; BLOCK];
        let mut found = 0;
        for_each_member(&due, |j| {
            ids[found] = (start + j) as u32;
            found += 1;
        });
        records.events_due(&ids[..found], lanes);
    }
    draw_noise(step, &lanes.key[start..end], scratch);
    let rejected = block_set(&scratch.accepted[..len], |accepted| !accepted);
    for_each_member(&rejected, |j| {
        scratch.noise[j] = finish(step, lanes.key[start + j]);
    });
    let mut counts = step_wellbeing(step, lanes, start, codes, scratch);
    if step.saturating {
        redo_saturated(step, lanes, start, codes, scratch, records, &mut counts);
    }
    let consulted = block_set(codes, |code| code != NO_CONSULT);
    for_each_member(&consulted, |j| consulting.push((start + j) as u32));
    if let Some(recent) = recent {
        record_social(recent, codes);
    }
    if let Some(cells) = history {
        record_history(cells, codes, &lanes.wellbeing[start..end]);
    }
    counts
}

/// A set of a block's patients, one bit each: bit `j` of word `w` is patient `64·w + j`.
type BlockSet = [u64; BLOCK / 64];

/// The patients of a block for whom `flag` holds, formed without a branch: on processors
/// with vector compares, a few instructions per 64 patients. Events, rejected draws and
/// consultations are each a few patients in a hundred, so the block then visits only them.
#[inline(always)]
fn block_set<T: Copy>(values: &[T], flag: impl Fn(T) -> bool) -> BlockSet {
    let mut set = [0; BLOCK / 64];
    let mut chunks = values.chunks_exact(64);
    for (word, chunk) in set.iter_mut().zip(&mut chunks) {
        if let Ok(chunk) = <&[T; 64]>::try_from(chunk) {
            for (j, &value) in chunk.iter().enumerate() {
                *word |= u64::from(flag(value)) << j;
            }
        }
    }
    let full = values.len() / 64;
    if let Some(word) = set.get_mut(full) {
        for (j, &value) in chunks.remainder().iter().enumerate() {
            *word |= u64::from(flag(value)) << j;
        }
    }
    set
}

/// Calls `f` with each member of `set` (its index in the block), in ascending order.
#[inline(always)]
fn for_each_member(set: &BlockSet, mut f: impl FnMut(usize)) {
    for (w, &word) in set.iter().enumerate() {
        let mut bits = word;
        while bits != 0 {
            f(64 * w + bits.trailing_zeros() as usize);
            bits &= bits - 1;
        }
    }
}

/// Every patient's word of the week: the consultation uniform and the ziggurat's first
/// attempt, without a branch.
#[inline(always)]
fn draw_noise(step: Step, keys: &[Key], scratch: &mut Scratch) {
    let len = keys.len();
    let (noise, uniform, accepted) = (
        &mut scratch.noise[..len],
        &mut scratch.uniform[..len],
        &mut scratch.accepted[..len],
    );
    for i in 0..len {
        let word = keys[i].draw_at(step.draw);
        let (z, ok) = step.noise.lane((word >> 32) as u32);
        noise[i] = z;
        accepted[i] = ok;
        uniform[i] = weekly_uniform(word) as u32;
    }
}

/// A draw the ziggurat did not accept at once (1.5% of them), finished from the patient's
/// own stream, as [`super::super::patient::weekly_noise`] does.
#[cold]
#[inline(never)]
fn finish(step: Step, key: Key) -> f64 {
    let word = key.draw_at(step.draw);
    let attempt = Attempt::of((word >> 32) as u32);
    step.noise.finish(
        attempt,
        &mut key.stream(Purpose::NoiseTail, i64::from(step.week)),
    )
}

/// The patient-weeks of a block whose uniform is 2³² − 1, when a threshold can be 2³²
/// ([`narrow`]): the 32-bit comparison said no consultation, and the full thresholds say
/// which. About one patient-week in 2³², but every one counts for bit-for-bit results.
#[cold]
#[inline(never)]
fn redo_saturated(
    step: Step,
    lanes: &Lanes,
    start: usize,
    codes: &mut [u8],
    scratch: &Scratch,
    records: &impl Records,
    counts: &mut Counts,
) {
    let saturated = block_set(&scratch.uniform[..codes.len()], |u| u == u32::MAX);
    for_each_member(&saturated, |j| {
        let i = start + j;
        let low = lanes.wellbeing[i] <= step.p.low_wellbeing_threshold;
        let code = records.thresholds(i).code(u64::from(u32::MAX), low);
        // No narrowed threshold exceeds 2³² − 1, so the loop found no consultation.
        debug_assert_eq!(codes[j], NO_CONSULT);
        codes[j] = code;
        counts.medical += u64::from(code == MEDICAL);
        counts.q_consults[usize::from(lanes.q[i])] += u64::from(code != NO_CONSULT);
    });
}

/// A patient's consultation code from its narrowed thresholds: [`ConsultThresholds::code`]
/// in 32 bits.
#[inline(always)]
fn narrow_code(medical: u32, any: u32, any_low: u32, u: u32, low: bool) -> u8 {
    threshold_code(medical, any, any_low, u, u32::from(low).wrapping_neg())
}

/// Every patient's wellbeing step and consultation code, without a branch.
#[inline(always)]
fn step_wellbeing(
    step: Step,
    lanes: &mut Lanes,
    start: usize,
    codes: &mut [u8],
    scratch: &Scratch,
) -> Counts {
    let len = codes.len();
    let end = start + len;
    let p = step.p;
    let threshold = p.low_wellbeing_threshold;
    let wellbeing = &mut lanes.wellbeing[start..end];
    let target = &lanes.target[start..end];
    let (medical, any, any_low) = (
        &lanes.medical[start..end],
        &lanes.any[start..end],
        &lanes.any_low[start..end],
    );
    let q = &lanes.q[start..end];
    let noise = &scratch.noise[..len];
    let uniform = &scratch.uniform[..len];
    let mut counts = Counts::default();
    let mut by_quintile = [0u64; 5];
    for i in 0..len {
        let w = next_wellbeing(wellbeing[i], target[i], noise[i], p);
        wellbeing[i] = w;
        let low = w <= threshold;
        let code = narrow_code(medical[i], any[i], any_low[i], uniform[i], low);
        codes[i] = code;
        counts.low += u64::from(low);
        counts.medical += u64::from(code == MEDICAL);
        let both = QuintileSums::of(code != NO_CONSULT, w);
        for k in 0..5 {
            // All ones for the patient's quintile, zero for the others.
            let mine = u64::from(q[i] == k as u8).wrapping_neg();
            by_quintile[k] += both & mine;
        }
    }
    for (k, &both) in by_quintile.iter().enumerate() {
        counts.q_consults[k] = QuintileSums::consultations(both);
        counts.q_wellbeing[k] = QuintileSums::wellbeing(both);
    }
    counts
}

/// A block's consultations and wellbeing of one quintile, summed in one 64-bit integer: the
/// consultations in the top 16 bits, the wellbeing units ([`WELLBEING_UNITS`]) below. One sum
/// instead of two for each of the five quintiles of every patient-week.
struct QuintileSums;

impl QuintileSums {
    const SHIFT: u32 = 48;

    /// One patient-week's part.
    #[inline(always)]
    fn of(consulted: bool, w: f64) -> u64 {
        // Wellbeing is at least 14 points, so its units are positive.
        (u64::from(consulted) << Self::SHIFT) | wellbeing_units(w) as u64
    }

    fn consultations(sum: u64) -> u64 {
        sum >> Self::SHIFT
    }

    fn wellbeing(sum: u64) -> i64 {
        (sum & ((1 << Self::SHIFT) - 1)) as i64
    }
}

// A block's wellbeing units stay below 2⁴⁸ and its consultations below 2¹⁶, so neither
// part of a sum spills into the other.
const _: () = assert!(
    (BLOCK as f64) * WELLBEING_MAX * WELLBEING_UNITS < (1u64 << QuintileSums::SHIFT) as f64
        && BLOCK < 1 << (64 - QuintileSums::SHIFT)
);

/// MODEL.md §9.1's history of social consultations, one bit per week.
#[inline(always)]
fn record_social(recent: &mut [u64], codes: &[u8]) {
    for (r, &code) in recent.iter_mut().zip(codes) {
        *r = (*r << 1) | u64::from(code == SOCIAL);
    }
}

/// The evaluation's history of the week ([`history_cell`]): consulted or not, and wellbeing.
#[inline(always)]
fn record_history(cells: &mut [f32], codes: &[u8], w: &[f64]) {
    for i in 0..codes.len().min(cells.len()).min(w.len()) {
        cells[i] = history_cell(codes[i] != NO_CONSULT, w[i]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::offset;

    #[test]
    fn wellbeing_units_round_to_the_nearest_unit() {
        let unit = 1.0 / WELLBEING_UNITS;
        assert_eq!(wellbeing_units(14.0), 14 << 24);
        assert_eq!(wellbeing_units(70.0), 70 << 24);
        assert_eq!(wellbeing_units(50.0 + 0.4 * unit), 50 << 24);
        assert_eq!(wellbeing_units(50.0 + 0.6 * unit), (50 << 24) + 1);
        for i in 0..1000 {
            let w = 14.0 + 56.0 * f64::from(i) / 999.0;
            let exact = (w * WELLBEING_UNITS).round() as i64;
            assert!((wellbeing_units(w) - exact).abs() <= 1, "{w}");
        }
    }

    /// A stand-in for the patients' records: each patient's full thresholds, and (if
    /// `events`) for the events due, a new target and a next event far away.
    struct StandIn {
        thresholds: Vec<ConsultThresholds>,
        events: bool,
    }

    impl Records for StandIn {
        fn events_due(&mut self, due: &[u32], lanes: &mut Lanes) {
            assert!(self.events || due.is_empty());
            for &i in due {
                let i = i as usize;
                lanes.target[i] = 30.0 + f64::from(i as u32 % 7);
                lanes.next_event[i] = i16::MAX;
            }
        }

        fn thresholds(&self, i: usize) -> ConsultThresholds {
            self.thresholds[i]
        }
    }

    /// A block of patients in varied states, with their records' thresholds.
    fn block(n: usize) -> (Lanes, StandIn, Params, Ziggurat) {
        let p = Params::default();
        let mut lanes = Lanes::with_capacity(n);
        let mut thresholds = Vec::with_capacity(n);
        let root = Key::root(9);
        for i in 0..n {
            let key = root.child(i as u64);
            let r = key.draw(Purpose::PatientInit, 0);
            let frac = |shift: u32| ((r >> shift) & 0xFFFF) as f64 / 65536.0;
            let medical = (frac(0) * 0.2 * 4_294_967_296.0) as u64;
            let any = medical + (frac(16) * 0.3 * 4_294_967_296.0) as u64;
            let scheduled = Scheduled {
                target: 20.0 + 45.0 * frac(32),
                consult: ConsultThresholds {
                    medical,
                    any,
                    any_low: any + (1 << 28),
                },
                next_event: i16::MAX,
            };
            lanes.push(key, 14.0 + 56.0 * frac(48), (i % 5) as u8, scheduled);
            thresholds.push(scheduled.consult);
        }
        let records = StandIn {
            thresholds,
            events: false,
        };
        (lanes, records, p, Ziggurat::new())
    }

    /// The step of week `week`, as the population builds it.
    fn week_step<'a>(week: i32, saturating: bool, noise: &'a Ziggurat, p: &'a Params) -> Step<'a> {
        Step {
            draw: offset(Purpose::WeekDraw, i64::from(week)),
            week,
            saturating,
            noise,
            p,
        }
    }

    #[test]
    fn a_block_gives_what_each_patient_would_alone() {
        let n = BLOCK - 3;
        let (mut lanes, mut records, p, zig) = block(n);
        let before = lanes.clone();
        let week = 17;
        let step = week_step(week, false, &zig, &p);
        let mut codes = vec![9; n];
        let mut consulting = Vec::new();
        let block = Block {
            start: 0,
            codes: &mut codes,
            consulting: &mut consulting,
            recent: None,
            history: None,
        };
        let counts = step_block(step, &mut lanes, block, &mut Scratch::new(), &mut records);
        let mut expected = Counts::default();
        let mut expected_consulting = Vec::new();
        for i in 0..n {
            let key = before.key[i];
            let word = key.draw(Purpose::WeekDraw, i64::from(week));
            let noise = zig
                .fast((word >> 32) as u32)
                .unwrap_or_else(|a| zig.finish(a, &mut key.stream(Purpose::NoiseTail, 17)));
            let w = next_wellbeing(before.wellbeing[i], before.target[i], noise, &p);
            assert_eq!(lanes.wellbeing[i].to_bits(), w.to_bits(), "patient {i}");
            let low = w <= p.low_wellbeing_threshold;
            let code = records.thresholds[i].code(weekly_uniform(word), low);
            assert_eq!(codes[i], code, "patient {i}");
            let q = usize::from(before.q[i]);
            expected.low += u64::from(low);
            expected.medical += u64::from(code == MEDICAL);
            expected.q_consults[q] += u64::from(code != NO_CONSULT);
            expected.q_wellbeing[q] += wellbeing_units(w);
            if code != NO_CONSULT {
                expected_consulting.push(i as u32);
            }
        }
        assert_eq!(consulting, expected_consulting);
        assert_eq!(counts.low, expected.low);
        assert_eq!(counts.medical, expected.medical);
        assert_eq!(counts.q_consults, expected.q_consults);
        assert_eq!(counts.q_wellbeing, expected.q_wellbeing);
        assert!(counts.medical > 0 && counts.q_consults.iter().sum::<u64>() > counts.medical);
    }

    #[test]
    fn a_block_writes_the_weeks_records_it_is_given() {
        let n = BLOCK - 5;
        let (mut lanes, mut records, p, zig) = block(n);
        let week = 23;
        let step = week_step(week, false, &zig, &p);
        let before: Vec<u64> = (0..n as u64).map(|i| i.wrapping_mul(0x9E37_79B9)).collect();
        let mut recent = before.clone();
        let mut cells = vec![f32::NAN; n];
        let mut codes = vec![9; n];
        let block = Block {
            start: 0,
            codes: &mut codes,
            consulting: &mut Vec::new(),
            recent: Some(&mut recent),
            history: Some(&mut cells),
        };
        step_block(step, &mut lanes, block, &mut Scratch::new(), &mut records);
        for i in 0..n {
            let social = u64::from(codes[i] == SOCIAL);
            assert_eq!(recent[i], (before[i] << 1) | social, "patient {i}");
            let cell = history_cell(codes[i] != NO_CONSULT, lanes.wellbeing[i]);
            assert_eq!(cells[i].to_bits(), cell.to_bits(), "patient {i}");
        }
        // The week has consultations of both kinds and patients who did not consult.
        assert!(codes.contains(&SOCIAL) && codes.contains(&MEDICAL));
        assert!(codes.contains(&NO_CONSULT));
    }

    /// One of the compiled versions of [`step_block`], with the week's step and the events
    /// bound.
    type BlockStep<'a> = dyn Fn(&mut Lanes, Block, &mut Scratch, &mut StandIn) -> Counts + 'a;

    #[test]
    fn every_instruction_set_gives_the_same_bits() {
        let n = 2 * BLOCK;
        let (lanes, records, p, zig) = block(n);
        // The search for saturated uniforms runs too (and finds none).
        let step = week_step(3, true, &zig, &p);
        let records = StandIn {
            events: true,
            ..records
        };
        let mut lanes = lanes;
        for i in (0..n).step_by(37) {
            lanes.next_event[i] = 3 - (i % 3) as i16;
        }
        let run = |f: &BlockStep| {
            let mut lanes = lanes.clone();
            let mut codes = vec![0; n];
            let mut consulting = Vec::new();
            let mut counts = Counts::default();
            let mut records = StandIn {
                thresholds: records.thresholds.clone(),
                events: true,
            };
            for start in (0..n).step_by(BLOCK) {
                let end = (start + BLOCK).min(n);
                let block = Block {
                    start,
                    codes: &mut codes[start..end],
                    consulting: &mut consulting,
                    recent: None,
                    history: None,
                };
                counts.add(&f(&mut lanes, block, &mut Scratch::new(), &mut records));
            }
            let q_wellbeing = counts.q_wellbeing;
            (
                lanes.wellbeing,
                lanes.target,
                codes,
                consulting,
                q_wellbeing,
            )
        };
        let plain = run(&|l, b, sc, r| step_block_with(step, l, b, sc, r));
        // The events were all handled: every patient's next event is now after the week.
        let (_, targets, ..) = &plain;
        assert!((0..n).step_by(37).all(|i| targets[i] < 37.0));
        #[cfg(target_arch = "x86_64")]
        {
            let widest = widest_vectors();
            if widest != Vectors::Baseline {
                // SAFETY: the processor has AVX2 (it has AVX-512 or AVX2).
                let avx2 = run(&|l, b, sc, r| unsafe { step_block_avx2(step, l, b, sc, r) });
                assert!(plain == avx2, "AVX2 differs");
            }
            if widest == Vectors::Avx512 {
                // SAFETY: the processor has the features (checked).
                let avx512 = run(&|l, b, sc, r| unsafe { step_block_avx512(step, l, b, sc, r) });
                assert!(plain == avx512, "AVX-512 differs");
            }
        }
    }

    /// Thresholds from the edges of their range and between, as `ConsultThresholds`.
    fn edge_thresholds() -> Vec<u64> {
        let top = 1u64 << 32;
        let mut t = vec![0, 1, 2, top / 2, top - 2, top - 1, top];
        let root = Key::root(4);
        t.extend((0..40).map(|k| root.draw(Purpose::PatientInit, k) % (top + 1)));
        t
    }

    #[test]
    fn narrowed_thresholds_give_the_full_ones_codes_but_at_the_very_top() {
        let top = 1u64 << 32;
        let t = edge_thresholds();
        let uniforms = t
            .iter()
            .map(|&x| x.min(top - 1) as u32)
            .chain([0, 1, u32::MAX]);
        for u in uniforms {
            for &medical in &t {
                for &any in t.iter().filter(|&&any| any >= medical) {
                    let full = ConsultThresholds {
                        medical,
                        any,
                        any_low: top,
                    };
                    for low in [false, true] {
                        let narrowed =
                            narrow_code(narrow(medical), narrow(any), narrow(top), u, low);
                        let exact = full.code(u64::from(u), low);
                        // Only a uniform of 2³² − 1 under a threshold of 2³² differs.
                        let saturated = u == u32::MAX && (exact != NO_CONSULT);
                        assert_eq!(narrowed == exact, !saturated, "{u} {full:?} {low}");
                    }
                }
            }
        }
    }

    #[test]
    fn only_a_cap_of_one_lets_a_threshold_reach_the_top() {
        let with_cap = |cap: f64| {
            saturating(&Params {
                consult_p_max: cap,
                ..Params::default()
            })
        };
        assert!(!with_cap(0.95));
        assert!(!with_cap(1.0 - 1.0 / 4_294_967_296.0));
        assert!(with_cap(1.0 - 0.4 / 4_294_967_296.0));
        assert!(with_cap(1.0));
    }

    #[test]
    fn saturated_uniforms_are_redone_with_the_full_thresholds() {
        let n = 300;
        let (lanes, mut records, p, zig) = block(n);
        let top = 1u64 << 32;
        // Patient 3 always consults a GP, 70 always consults; 200 not at the top.
        records.thresholds[3].medical = top;
        records.thresholds[3].any = top;
        records.thresholds[3].any_low = top;
        records.thresholds[70].any = top;
        records.thresholds[70].any_low = top;
        let step = Step {
            draw: 0,
            week: 0,
            saturating: true,
            noise: &zig,
            p: &p,
        };
        let mut scratch = Scratch::new();
        for j in [3, 70, 200] {
            scratch.uniform[j] = u32::MAX;
        }
        let mut codes = vec![NO_CONSULT; n.min(BLOCK)];
        let mut counts = Counts::default();
        redo_saturated(step, &lanes, 0, &mut codes, &scratch, &records, &mut counts);
        assert_eq!(
            (codes[3], codes[70], codes[200]),
            (MEDICAL, SOCIAL, NO_CONSULT)
        );
        assert_eq!(codes.iter().filter(|&&c| c != NO_CONSULT).count(), 2);
        assert_eq!(counts.medical, 1);
        // Patient 3 is of quintile 3, patient 70 of quintile 0 (`i % 5`).
        assert_eq!(counts.q_consults, [1, 0, 0, 1, 0]);
    }
}
