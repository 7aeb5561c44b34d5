//! Random streams keyed by (seed, replicate, entity, purpose, week).
//!
//! Every draw in sprx comes from a stream whose key is a hash of what the draw is *about*, never
//! of the order in which work happens. Two consequences follow: outputs are identical whatever
//! the thread count or shard layout, and two arms run with the same seed see the same population
//! and the same exogenous draws (common random numbers), so their difference is the policy's
//! effect rather than luck.
//!
//! The hash is the SplitMix64 finaliser (Steele, Lea & Flood 2014); a keyed stream is a
//! `rand_xoshiro::SplitMix64` generator started at the hashed key. Both are fixed, portable
//! algorithms, so a key means the same raw numbers on every platform. The distributions drawn
//! from them (`rand_distr`'s normal, for example) promise no value stability across versions of
//! that crate, so results are pinned by the locked dependency versions (`Cargo.lock`) and
//! guarded by the regression baseline in `tests/data/regression/`.

use rand::SeedableRng;
use rand_xoshiro::SplitMix64;

pub mod normal;

/// The generator type every stream uses.
pub type Stream = SplitMix64;

const GOLDEN_GAMMA: u64 = 0x9E37_79B9_7F4A_7C15;

/// The SplitMix64 output function: a bijective 64-bit mixer.
#[inline(always)]
pub fn mix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// What a draw is for. The discriminant is part of the key, so never reorder or reuse values:
/// doing so would change every stream and every published result.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u64)]
pub enum Purpose {
    /// A patient's initial characteristics (§5).
    PatientInit = 1,
    /// A patient's weekly exogenous draws: needs, wellbeing noise, consultation (§6.1-6.3).
    PatientWeek = 2,
    /// Referral offer and acceptance (§6.4).
    Referral = 3,
    /// Giving up while waiting (§6.4).
    Waiting = 4,
    /// A link-worker session with the patient (§6.5).
    Session = 5,
    /// Attendance at an asset (§6.6).
    Attendance = 6,
    /// Return to the GP after an asset closes (§6.6).
    ClosureReturn = 7,
    /// An asset's capacity at initialisation (§5).
    AssetInit = 8,
    /// An asset's weekly closure draw (§6.6).
    AssetClosure = 9,
    /// A category's weekly opening draw and the new asset's capacity (§6.6).
    AssetOpening = 10,
    /// A link worker's weekly turnover draw (§6.7).
    Turnover = 11,
    /// Feedback of connections to a practice (§6.7).
    Feedback = 12,
    /// A patient's weekly crisis onset draw (MODEL.md §9.1). Crises are exogenous: the stream
    /// depends on the patient and the week only, so a crisis history is the same in every arm.
    Crisis = 13,
    /// Whether a patient starts the run in crisis, and how far into it (MODEL.md §9.1).
    CrisisInit = 14,
    /// The weekly draw that decides a self- or agency referral, and the answer to an agency
    /// referral (MODEL.md §9.3).
    Route = 15,
    /// The fast engine's weekly draw of a patient: one 64-bit word, the wellbeing noise from
    /// its high half and the consultation uniform from its low half (MODEL.md §6.2-6.3).
    WeekDraw = 16,
    /// The rare wellbeing noise the week's word cannot give on its own (the ziggurat's tail
    /// and wedges, [`normal`]).
    NoiseTail = 17,
    /// The fast engine's waiting time to a need's next onset or resolution, drawn in the week
    /// the need last changed; word `k` is need `k`'s (MODEL.md §6.1).
    NeedEvent = 18,
    /// The fast engine's waiting time to a patient's next crisis, drawn in the week the last
    /// one ended (MODEL.md §9.1).
    CrisisEvent = 19,
    /// The fast engine's extra resolution draw of a need while attending an asset; word `k`
    /// is need `k`'s (MODEL.md §6.1 `boost_k`).
    Boost = 20,
}

/// Kinds of entity; part of an entity's key so that patient 3 and asset 3 differ.
#[derive(Clone, Copy, Debug)]
#[repr(u64)]
pub enum EntityKind {
    Patient = 1,
    LinkWorker = 2,
    Asset = 3,
    Practice = 4,
    AssetCategory = 5,
}

/// A key at some level of the hierarchy seed → replicate → PCN → entity.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Key(u64);

impl Key {
    /// The root key of a run.
    pub fn root(seed: u64) -> Key {
        Key(mix64(seed ^ 0x7370_7278_5F76_3100)) // "sprx_v1\0": a version tag of the key scheme
    }

    /// A child key: hash of the parent and a label.
    #[inline]
    pub fn child(self, label: u64) -> Key {
        Key(mix64(self.0 ^ mix64(label.wrapping_add(GOLDEN_GAMMA))))
    }

    pub fn replicate(self, replicate: u64) -> Key {
        self.child(replicate)
    }

    pub fn pcn(self, pcn: u64) -> Key {
        self.child(pcn)
    }

    pub fn entity(self, kind: EntityKind, index: u64) -> Key {
        self.child(((kind as u64) << 48) ^ index)
    }

    /// The stream for (purpose, week) of this entity. One hash: this is in the weekly loop.
    #[inline(always)]
    pub fn stream(self, purpose: Purpose, week: i64) -> Stream {
        SplitMix64::seed_from_u64(self.draw_at(offset(purpose, week)))
    }

    /// One 64-bit draw for (purpose, week): the seed of that stream, itself a SplitMix64
    /// output. One hash, for loops that need a single word per entity and week.
    #[inline(always)]
    pub fn draw(self, purpose: Purpose, week: i64) -> u64 {
        self.draw_at(offset(purpose, week))
    }

    /// [`Key::draw`] with the (purpose, week) part worked out once by [`offset`], for a loop
    /// over many entities in the same week.
    #[inline(always)]
    pub fn draw_at(self, offset: u64) -> u64 {
        mix64(self.0.wrapping_add(offset))
    }

    /// Word `index` of the stream for (purpose, week): what the stream's `index + 1`-th
    /// `next_u64` returns, in two hashes whatever the index.
    #[inline]
    pub fn word(self, purpose: Purpose, week: i64, index: u64) -> u64 {
        stream_word(self.draw(purpose, week), index)
    }
}

/// Word `index` of the stream whose seed is `seed` ([`Key::draw`]): for a caller that reads
/// several words of one stream, out of order or not all of them, at one hash per word.
#[inline(always)]
pub fn stream_word(seed: u64, index: u64) -> u64 {
    mix64(seed.wrapping_add(index.wrapping_add(1).wrapping_mul(GOLDEN_GAMMA)))
}

/// The part of a stream's seed that depends on (purpose, week) only.
#[inline(always)]
pub fn offset(purpose: Purpose, week: i64) -> u64 {
    let counter = (week as u64).wrapping_mul(64).wrapping_add(purpose as u64);
    counter.wrapping_mul(GOLDEN_GAMMA)
}

/// The waiting time in weeks (at least 1) to the first success of independent weekly trials
/// that fail with probability `q`, given `ln_q = ln q` and a uniform `u` in (0, 1): the
/// inverse of the geometric distribution, `1 + ⌊ln u / ln q⌋`, exact in distribution. A
/// certain success (`ln_q = −∞`) waits 1 week; an impossible one (`ln_q = 0`) waits
/// `u32::MAX`, as do waits beyond it.
#[inline]
pub fn geometric_wait(u: f64, ln_q: f64) -> u32 {
    if ln_q == 0.0 {
        return u32::MAX;
    }
    // Both logarithms are negative, so the ratio is ≥ 0 and the cast is its floor (`floor`
    // itself is a libm call on the baseline x86-64 target).
    let extra = u.ln() / ln_q;
    if extra >= f64::from(u32::MAX - 1) {
        u32::MAX
    } else {
        1 + extra as u32
    }
}

/// `ln(1 − p)` for a weekly probability `p` (clamped to [0, 1]): the `ln_q` of
/// [`geometric_wait`].
pub fn ln_stay(p: f64) -> f64 {
    (1.0 - p.clamp(0.0, 1.0)).ln()
}

/// A uniform draw in (0, 1), never 0 or 1, with 52 random bits: for logarithms.
#[inline(always)]
pub fn open_unit_f64(x: u64) -> f64 {
    (((x >> 12) as i64) as f64 + 0.5) * (1.0 / (1u64 << 52) as f64)
}

/// A uniform draw in [0, 1) with 53 random bits.
#[inline(always)]
pub fn unit_f64(x: u64) -> f64 {
    // 53 bits convert exactly through i64, in one instruction on the baseline target.
    ((x >> 11) as i64) as f64 * (1.0 / (1u64 << 53) as f64)
}

/// A probability threshold for comparison against a 32-bit uniform: `U < p` with
/// `U = u / 2³²` is exactly `u < threshold_u32(p)` (rounding up keeps `p = 1` certain).
#[inline(always)]
pub fn threshold_u32(p: f64) -> u64 {
    // `ceil` by hand: without SSE4.1 (the baseline x86-64 target) `f64::ceil` is a call to
    // libm, and the fast engine computes thresholds at every need event.
    // Through i64: the baseline target converts f64 to and from i64 in one instruction, but
    // not u64. x is within [0, 2³²], so nothing is lost.
    let x = p.clamp(0.0, 1.0) * 4_294_967_296.0;
    let t = x as i64;
    (if (t as f64) < x { t + 1 } else { t }) as u64
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::Rng;

    #[test]
    fn streams_depend_on_every_part_of_the_key() {
        let root = Key::root(42);
        let p = root.replicate(0).pcn(0).entity(EntityKind::Patient, 7);
        let base = p.stream(Purpose::PatientWeek, 3).next_u64();
        assert_eq!(base, p.stream(Purpose::PatientWeek, 3).next_u64());
        assert_ne!(base, p.stream(Purpose::PatientWeek, 4).next_u64());
        assert_ne!(base, p.stream(Purpose::Referral, 3).next_u64());
        let q = root.replicate(1).pcn(0).entity(EntityKind::Patient, 7);
        assert_ne!(base, q.stream(Purpose::PatientWeek, 3).next_u64());
        let a = root.replicate(0).pcn(0).entity(EntityKind::Asset, 7);
        assert_ne!(base, a.stream(Purpose::PatientWeek, 3).next_u64());
        assert_ne!(
            Key::root(1).stream(Purpose::PatientWeek, -1).next_u64(),
            Key::root(1).stream(Purpose::PatientWeek, 1).next_u64()
        );
    }

    #[test]
    fn the_key_scheme_is_pinned() {
        // Changing this number changes every result sprx has ever produced for a seed: only do
        // it deliberately, with a note in the changelog.
        let key = Key::root(1)
            .replicate(0)
            .pcn(0)
            .entity(EntityKind::Patient, 0);
        assert_eq!(
            key.stream(Purpose::PatientWeek, 0).next_u64(),
            11_421_510_172_193_250_691
        );
    }

    #[test]
    fn words_and_draws_are_the_streams_own() {
        let key = Key::root(5).entity(EntityKind::Patient, 11);
        let mut stream = key.stream(Purpose::NeedEvent, -3);
        for index in 0..6 {
            assert_eq!(key.word(Purpose::NeedEvent, -3, index), stream.next_u64());
        }
        let seed = key.draw(Purpose::WeekDraw, 7);
        assert_eq!(seed, key.draw_at(offset(Purpose::WeekDraw, 7)));
        assert_eq!(
            SplitMix64::seed_from_u64(seed).next_u64(),
            key.stream(Purpose::WeekDraw, 7).next_u64()
        );
        assert!(open_unit_f64(0) > 0.0 && open_unit_f64(u64::MAX) < 1.0);
    }

    #[test]
    fn geometric_waits_have_the_geometric_distribution() {
        assert_eq!(geometric_wait(0.3, ln_stay(1.0)), 1);
        assert_eq!(geometric_wait(0.3, ln_stay(0.0)), u32::MAX);
        assert_eq!(geometric_wait(1e-300, ln_stay(1e-12)), u32::MAX);
        let p = 0.07;
        let n = 200_000;
        let root = Key::root(8);
        let waits: Vec<u32> = (0..n)
            .map(|i| {
                geometric_wait(
                    open_unit_f64(root.word(Purpose::NeedEvent, 0, i)),
                    ln_stay(p),
                )
            })
            .collect();
        // P(N = 1) = p, P(N > 10) = (1 − p)¹⁰, mean 1/p: within 4 standard errors.
        let nf = n as f64;
        let share = |f: &dyn Fn(u32) -> bool| waits.iter().filter(|&&w| f(w)).count() as f64 / nf;
        for (got, want) in [
            (share(&|w| w == 1), p),
            (share(&|w| w > 10), (1.0 - p).powi(10)),
        ] {
            let se = (want * (1.0 - want) / nf).sqrt();
            assert!((got - want).abs() < 4.0 * se, "{got} vs {want}");
        }
        let mean = waits.iter().map(|&w| f64::from(w)).sum::<f64>() / nf;
        let se = ((1.0 - p) / (p * p) / nf).sqrt();
        assert!((mean - 1.0 / p).abs() < 4.0 * se, "mean {mean}");
    }

    #[test]
    fn uniform_and_threshold_agree() {
        for p in [
            0.3_f64,
            1e-9,
            0.5,
            0.999_999_999,
            0.25,
            1.0 / 3.0,
            2.5,
            -1.0,
        ] {
            let exact = (p.clamp(0.0, 1.0) * 4_294_967_296.0_f64).ceil() as u64;
            assert_eq!(threshold_u32(p), exact, "{p}");
        }
        assert_eq!(threshold_u32(0.0), 0);
        assert_eq!(threshold_u32(1.0), 1 << 32);
        assert!(unit_f64(u64::MAX) < 1.0);
        assert_eq!(unit_f64(0), 0.0);
    }
}
