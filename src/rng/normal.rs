//! Standard normal draws for the fast engine's weekly loop: Marsaglia and Tsang's ziggurat in
//! Doornik's formulation (ZIGNOR, 2005: the block index drawn from bits apart from the
//! uniform, which removes the correlation of the original), with Marsaglia and Tsang's 256
//! blocks.
//!
//! Why not `rand_distr::StandardNormal`? It needs a generator to pull words from, and a
//! patient-week of the fast engine has exactly one 64-bit word ([`super::Key::draw`]). Here
//! 32 of its bits give the normal in 98.5% of weeks ([`Ziggurat::fast`]): 8 choose the block,
//! 1 the sign and 23 the uniform. The other weeks continue the same algorithm with words from a
//! stream of their own ([`Ziggurat::finish`]), so the draw is exactly normal; only the 23-bit
//! uniform of the first attempt limits the resolution (steps of at most 4.4·10⁻⁷).

use super::{Stream, open_unit_f64};
use rand::Rng;

/// Blocks of the ziggurat, and the bits that choose one.
const BLOCKS: usize = 256;
const BLOCK_BITS: u32 = 8;
/// Start of the tail, `R`, and the area of each block, `V` (Marsaglia & Tsang 2000).
const R: f64 = 3.654_152_885_361_009;
const V: f64 = 4.928_673_233_99e-3;
/// 2⁻²³: the weight of one step of the 23-bit uniform.
const STEP: f64 = 1.0 / (1u64 << 23) as f64;

/// The ziggurat's tables, built once per run.
#[derive(Clone, Debug)]
pub struct Ziggurat {
    /// Right edge of each block, `x[0] = V/f(R)` (the base block with the tail), `x[1] = R`,
    /// …, `x[256] = 0`.
    x: [f64; BLOCKS + 1],
    /// `x[i]·2⁻²³`: a 23-bit uniform times this is the draw's magnitude in block `i`.
    scaled: [f64; BLOCKS],
    /// A 23-bit uniform below this lies in block `i`'s rectangle under the curve,
    /// `ceil(x[i+1]/x[i]·2²³)`: then the draw is accepted at once.
    inner: [u32; BLOCKS],
}

impl Default for Ziggurat {
    fn default() -> Self {
        Ziggurat::new()
    }
}

/// The unnormalised density `exp(−x²/2)`.
fn density(x: f64) -> f64 {
    (-0.5 * x * x).exp()
}

impl Ziggurat {
    pub fn new() -> Ziggurat {
        let mut x = [0.0; BLOCKS + 1];
        let mut f = density(R);
        x[0] = V / f;
        x[1] = R;
        for i in 2..BLOCKS {
            x[i] = (-2.0 * (V / x[i - 1] + f).ln()).sqrt();
            f = density(x[i]);
        }
        x[BLOCKS] = 0.0;
        let scaled = std::array::from_fn(|i| x[i] * STEP);
        let inner = std::array::from_fn(|i| (x[i + 1] / x[i] / STEP).ceil() as u32);
        Ziggurat { x, scaled, inner }
    }

    /// The normal from 32 random bits, if they fall inside a rectangle (98.5% of draws);
    /// otherwise `Err` with what [`Ziggurat::finish`] needs to go on.
    #[inline(always)]
    pub fn fast(&self, bits: u32) -> Result<f64, Attempt> {
        match self.lane(bits) {
            (z, true) => Ok(z),
            (_, false) => Err(Attempt::of(bits)),
        }
    }

    /// [`Ziggurat::fast`] without a branch, for loops the compiler turns into vector code:
    /// the candidate draw and whether it is accepted. A candidate that is not accepted is
    /// meaningless; [`Attempt::of`] the same bits goes on from there.
    #[inline(always)]
    pub fn lane(&self, bits: u32) -> (f64, bool) {
        let block = (bits & 0xFF) as usize;
        let uniform = bits >> (BLOCK_BITS + 1);
        let magnitude = f64::from(uniform) * self.scaled[block];
        // The sign bit set from the random bit without a branch: a branch on it would be
        // mispredicted every other draw.
        let sign = u64::from(bits & 0x100) << (63 - 8);
        let z = f64::from_bits(magnitude.to_bits() | sign);
        (z, uniform < self.inner[block])
    }

    /// The rest of the ziggurat after a first attempt that was not accepted at once: the
    /// tail or the wedge test, and further attempts if needed, with words from `more`.
    #[cold]
    pub fn finish(&self, attempt: Attempt, more: &mut Stream) -> f64 {
        let Attempt {
            mut block,
            mut negative,
            uniform,
        } = attempt;
        let mut magnitude = f64::from(uniform) * self.scaled[block];
        loop {
            if block == 0 {
                return self.tail(negative, more);
            }
            if self.in_wedge(block, magnitude, open_unit_f64(more.next_u64())) {
                return if negative { -magnitude } else { magnitude };
            }
            // A new attempt, with a full-precision uniform.
            let word = more.next_u64();
            block = (word & 0xFF) as usize;
            negative = word & 0x100 != 0;
            let u = super::unit_f64(word);
            magnitude = u * self.x[block];
            if magnitude < self.x[block + 1] {
                return if negative { -magnitude } else { magnitude };
            }
        }
    }

    /// Whether `magnitude` in block `block` lies under the curve, given a uniform `u`.
    fn in_wedge(&self, block: usize, magnitude: f64, u: f64) -> bool {
        let (outer, inner) = (self.x[block], self.x[block + 1]);
        let f0 = (-0.5 * (outer * outer - magnitude * magnitude)).exp();
        let f1 = (-0.5 * (inner * inner - magnitude * magnitude)).exp();
        f1 + u * (f0 - f1) < 1.0
    }

    /// A draw from the tail beyond `R` (Marsaglia 1964).
    fn tail(&self, negative: bool, more: &mut Stream) -> f64 {
        loop {
            let x = open_unit_f64(more.next_u64()).ln() / R;
            let y = open_unit_f64(more.next_u64()).ln();
            if -2.0 * y >= x * x {
                return if negative { x - R } else { R - x };
            }
        }
    }
}

/// A first attempt of the ziggurat that was not accepted at once.
#[derive(Clone, Copy, Debug)]
pub struct Attempt {
    block: usize,
    negative: bool,
    uniform: u32,
}

impl Attempt {
    /// The first attempt made of 32 random bits (block, sign, uniform), as
    /// [`Ziggurat::fast`] reads them.
    #[inline]
    pub fn of(bits: u32) -> Attempt {
        Attempt {
            block: (bits & 0xFF) as usize,
            negative: bits & 0x100 != 0,
            uniform: bits >> (BLOCK_BITS + 1),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::{Key, Purpose};

    fn draw(z: &Ziggurat, key: Key, week: i64) -> f64 {
        let bits = (key.draw(Purpose::WeekDraw, week) >> 32) as u32;
        z.fast(bits)
            .unwrap_or_else(|a| z.finish(a, &mut key.stream(Purpose::NoiseTail, week)))
    }

    #[test]
    fn every_block_has_the_same_area() {
        let z = Ziggurat::new();
        for i in 1..BLOCKS {
            let area = z.x[i] * (density(z.x[i + 1]) - density(z.x[i]));
            assert!((area - V).abs() < 1e-10, "block {i}: {area}");
        }
        // The base block: the rectangle under f(R) plus the tail beyond R.
        assert!((z.x[0] * density(R) - V).abs() < 1e-15);
    }

    #[test]
    fn draws_have_the_moments_and_quantiles_of_a_standard_normal() {
        let z = Ziggurat::new();
        let n = 400_000;
        let draws: Vec<f64> = (0..n)
            .map(|i| draw(&z, Key::root(17).child(i), i as i64 % 300))
            .collect();
        let nf = n as f64;
        let mean = draws.iter().sum::<f64>() / nf;
        let var = draws.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / nf;
        let kurt = draws.iter().map(|x| (x - mean).powi(4)).sum::<f64>() / nf / (var * var);
        // Standard errors: mean 1/√n, variance √(2/n), kurtosis √(24/n); 4 of them.
        assert!(mean.abs() < 4.0 / nf.sqrt(), "mean {mean}");
        assert!(
            (var - 1.0).abs() < 4.0 * (2.0 / nf).sqrt(),
            "variance {var}"
        );
        assert!(
            (kurt - 3.0).abs() < 4.0 * (24.0 / nf).sqrt(),
            "kurtosis {kurt}"
        );
        // Tail shares, including beyond R, where only the tail algorithm reaches.
        for (cut, share) in [(1.0, 0.158_655), (2.0, 0.022_750), (3.442_62, 2.88e-4)] {
            let got = draws.iter().filter(|&&x| x > cut).count() as f64 / nf;
            let se = (share * (1.0 - share) / nf).sqrt();
            assert!(
                (got - share).abs() < 4.0 * se,
                "P(Z > {cut}) = {got}, not {share}"
            );
            let low = draws.iter().filter(|&&x| x < -cut).count() as f64 / nf;
            assert!((low - share).abs() < 4.0 * se, "P(Z < -{cut}) = {low}");
        }
    }

    #[test]
    fn the_fast_path_takes_nearly_every_draw() {
        let z = Ziggurat::new();
        let n = 100_000u64;
        let fast = (0..n)
            .filter(|&i| {
                let bits = (Key::root(3).child(i).draw(Purpose::WeekDraw, 0) >> 32) as u32;
                z.fast(bits).is_ok()
            })
            .count();
        // The share of first attempts inside the rectangles: the mean of x[i+1]/x[i].
        let expected = z.inner.iter().map(|&t| f64::from(t) * STEP).sum::<f64>() / BLOCKS as f64;
        assert!((expected - 0.9851).abs() < 1e-4, "{expected}");
        let got = fast as f64 / n as f64;
        let se = (expected * (1.0 - expected) / n as f64).sqrt();
        assert!((got - expected).abs() < 4.0 * se, "{got} vs {expected}");
    }
}
