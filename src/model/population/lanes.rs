//! The fast engine's weekly loop over a population, in blocks of patients and in passes the
//! compiler can turn into vector code (several patients per instruction).
//!
//! A patient-week with no event is the same few steps for every patient: hash the week's word,
//! turn 32 bits of it into a normal, step wellbeing, compare the other 32 bits with the
//! consultation thresholds. Written patient by patient with its rare branches (an event due, a
//! ziggurat draw outside the rectangles), the loop runs one patient at a time. Here each block
//! first handles its events, then draws every patient's noise without a branch, finishes the
//! rare rejected draws, steps every patient, and only then forms the week's sums. Each value is
//! computed by the same operations as patient by patient, and the floating-point sums are
//! formed in patient order as before, so the results are identical to the bit whichever
//! instruction set runs them.

// The passes index several arrays of the same length by patient; sliced to that length first,
// the indexing is unchecked and reads as the rule does.
#![allow(clippy::needless_range_loop)]

use super::super::patient::{ConsultThresholds, next_wellbeing, weekly_uniform};
use super::{MEDICAL, NO_CONSULT, SOCIAL};
use crate::params::Params;
use crate::rng::normal::{Attempt, Ziggurat};
use crate::rng::{Key, Purpose};

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
    /// The consultation thresholds of an untouched patient (never on a caseload), by field.
    pub medical: Vec<u64>,
    pub any: Vec<u64>,
    pub any_low: Vec<u64>,
    /// First week something of the patient's own processes is due.
    pub next_event: Vec<i16>,
    pub q: Vec<u8>,
}

/// Bytes [`Lanes`] holds per patient.
pub const LANE_BYTES: usize = size_of::<Key>() + 5 * size_of::<f64>() + size_of::<i16>() + 1;

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
        self.medical[i] = s.consult.medical;
        self.any[i] = s.consult.any;
        self.any_low[i] = s.consult.any_low;
        self.next_event[i] = s.next_event;
    }
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

/// What a block adds to the week's counts; order does not matter for integers, so the
/// vector pass forms them.
#[derive(Clone, Copy, Debug, Default)]
pub struct Counts {
    pub low: u64,
    pub medical: u64,
    pub q_consults: [u64; 5],
}

/// A block of patients' week (`start..start + len` of `lanes`), once their events are done:
/// noise, wellbeing and the consultation code into `codes`. Returns the block's counts.
///
/// On x86-64 the passes are compiled three times, for AVX-512, for AVX2 and for the baseline
/// instruction set, and the widest the processor has is chosen at run time. Every version
/// performs the same IEEE operations on each patient (Rust never fuses or reorders
/// floating-point arithmetic), so all three give the same bits.
pub fn step_block(
    step: Step,
    lanes: &mut Lanes,
    start: usize,
    codes: &mut [u8],
    scratch: &mut Scratch,
) -> Counts {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx512f")
            && std::arch::is_x86_feature_detected!("avx512dq")
            && std::arch::is_x86_feature_detected!("avx512vl")
            && std::arch::is_x86_feature_detected!("avx512bw")
        {
            // SAFETY: the processor has every feature the function is compiled for.
            return unsafe { step_block_avx512(step, lanes, start, codes, scratch) };
        }
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: as above.
            return unsafe { step_block_avx2(step, lanes, start, codes, scratch) };
        }
    }
    step_block_with(step, lanes, start, codes, scratch)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512dq,avx512vl,avx512bw,avx2,bmi1,bmi2,popcnt")]
fn step_block_avx512(
    step: Step,
    lanes: &mut Lanes,
    start: usize,
    codes: &mut [u8],
    scratch: &mut Scratch,
) -> Counts {
    step_block_with(step, lanes, start, codes, scratch)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,bmi1,bmi2,popcnt")]
fn step_block_avx2(
    step: Step,
    lanes: &mut Lanes,
    start: usize,
    codes: &mut [u8],
    scratch: &mut Scratch,
) -> Counts {
    step_block_with(step, lanes, start, codes, scratch)
}

#[inline(always)]
fn step_block_with(
    step: Step,
    lanes: &mut Lanes,
    start: usize,
    codes: &mut [u8],
    scratch: &mut Scratch,
) -> Counts {
    let len = codes.len().min(BLOCK);
    let end = start + len;
    draw_noise(step, &lanes.key[start..end], scratch);
    finish_rejected(step, &lanes.key[start..end], scratch);
    step_wellbeing(step, lanes, start, codes, scratch)
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

/// The 1.5% of draws the ziggurat did not accept at once, finished from the patient's own
/// stream, as [`super::super::patient::weekly_noise`] does.
#[inline(always)]
fn finish_rejected(step: Step, keys: &[Key], scratch: &mut Scratch) {
    let len = keys.len();
    for i in 0..len {
        if !scratch.accepted[i] {
            scratch.noise[i] = finish(step, keys[i]);
        }
    }
}

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
    for i in 0..len {
        let w = next_wellbeing(wellbeing[i], target[i], noise[i], p);
        wellbeing[i] = w;
        let low = w <= threshold;
        let thresholds = ConsultThresholds {
            medical: medical[i],
            any: any[i],
            any_low: any_low[i],
        };
        let code = thresholds.code(u64::from(uniform[i]), low);
        codes[i] = code;
        counts.low += u64::from(low);
        counts.medical += u64::from(code == MEDICAL);
        let consulted = u64::from(code != NO_CONSULT);
        for (k, count) in counts.q_consults.iter_mut().enumerate() {
            *count += consulted * u64::from(usize::from(q[i]) == k);
        }
    }
    counts
}

/// The week's wellbeing sums over a block, in patient order (so that they are the sums a
/// patient-by-patient loop forms, to the bit), and the block's consulting patients, whose ids
/// start at `start`, appended to `consulting`.
#[inline(always)]
pub fn sum_block(
    wellbeing: &[f64],
    q: &[u8],
    codes: &[u8],
    start: usize,
    sums: &mut (f64, [f64; 5]),
    consulting: &mut Vec<u32>,
) {
    let (total, by_quintile) = sums;
    let mut ids = [0u32; BLOCK];
    let mut found = 0;
    for i in 0..codes.len().min(BLOCK) {
        let w = wellbeing[i];
        *total += w;
        // Adding +0.0 to a sum of wellbeing (≥ 14) leaves it unchanged, so every quintile's
        // sum takes its patients' values in order without a store to a computed address.
        for (k, sum) in by_quintile.iter_mut().enumerate() {
            *sum += if usize::from(q[i]) == k { w } else { 0.0 };
        }
        ids[found] = (start + i) as u32;
        found += usize::from(codes[i] != NO_CONSULT);
    }
    consulting.extend_from_slice(&ids[..found]);
}

/// MODEL.md §9.1's history of social consultations, one bit per week.
#[inline(always)]
pub fn record_social(recent: &mut [u64], codes: &[u8]) {
    for (r, &code) in recent.iter_mut().zip(codes) {
        *r = (*r << 1) | u64::from(code == SOCIAL);
    }
}

/// The evaluation's history of the week: consulted or not, and wellbeing.
#[inline(always)]
pub fn record_history(consulted: &mut [u8], wellbeing_out: &mut [f32], codes: &[u8], w: &[f64]) {
    for i in 0..codes.len().min(consulted.len()).min(wellbeing_out.len()) {
        consulted[i] = u8::from(codes[i] != NO_CONSULT);
        wellbeing_out[i] = w[i] as f32;
    }
}
