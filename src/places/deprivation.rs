//! The deprivation mix of a practice's patients: the share in each *national population*
//! quintile of IMD 2019 (q1 = the most deprived fifth of England's residents … q5 = the least),
//! as MODEL.md's patient quintile needs, from the one number the data give per practice, its
//! IMD score (an average over its patients' neighbourhoods).
//!
//! The assumption (documented in `docs/places.md`): place every patient on a latent national
//! deprivation scale `z`, standard normal over England's population, higher = more deprived.
//! Quintile `k` is the band of `z` between normal quantiles, so each holds a fifth of England.
//! A practice's patients are spread around a centre given by the practice's own position:
//!
//! ```text
//! r = the practice's patient-weighted mid-rank among practices by score, in (0, 1)
//! z ~ Normal(ρ·Φ⁻¹(r), 1 − ρ²)        ρ = PRACTICE_CORRELATION
//! ```
//!
//! Over all practices `Φ⁻¹(r)` is (nearly) standard normal, so the mixture of the practices'
//! `z` is standard normal for any ρ: England as a whole comes out at (nearly) 20% per quintile
//! by construction. The share in q1 rises with `r`, and `r` with the score, so a more deprived
//! practice never has a smaller q1 share. ρ says how much of the national spread of deprivation
//! lies between practices rather than within them: ρ = 1 would put every patient of a practice
//! in one quintile, ρ = 0 would give every practice the national mix.

use statrs::distribution::{ContinuousCDF, Normal};

use crate::params::QUINTILE_COUNT;

/// ρ: the correlation between a patient's position on the national deprivation scale and their
/// practice's. With 0.8, 64% of the variance lies between practices and 36% within them; a
/// practice at the middle of the most deprived fifth of practices has about 60% of its patients
/// in q1, which matches the common experience that even deprived practices serve a mix.
pub const PRACTICE_CORRELATION: f64 = 0.8;

/// Practice IMD scores with their national patient-weighted ranks, calibrated on a set of
/// practices (for England, every practice with a score).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct DeprivationModel {
    /// `(score, mid-rank)` for each distinct score, ascending in both.
    points: Vec<(f64, f64)>,
}

impl DeprivationModel {
    /// Ranks the practices' scores, each weighted by its registered patients. Practices with no
    /// patients or a non-finite score carry no weight and are ignored.
    pub fn calibrate(practices: impl Iterator<Item = (f64, f64)>) -> DeprivationModel {
        let mut weighted: Vec<(f64, f64)> = practices
            .filter(|(score, patients)| {
                score.is_finite() && patients.is_finite() && *patients > 0.0
            })
            .collect();
        weighted.sort_by(|a, b| a.0.total_cmp(&b.0));
        let total: f64 = weighted.iter().map(|(_, w)| w).sum();
        let mut points: Vec<(f64, f64)> = Vec::new();
        let mut below = 0.0;
        for group in weighted.chunk_by(|a, b| a.0 == b.0) {
            let weight: f64 = group.iter().map(|(_, w)| w).sum();
            points.push((group[0].0, (below + weight / 2.0) / total));
            below += weight;
        }
        DeprivationModel { points }
    }

    /// The patient-weighted mid-rank of `score` among the calibration practices, in (0, 1):
    /// interpolated between their scores, and held at the extremes beyond them, so that it
    /// never decreases as the score rises. An uncalibrated model ranks every score at 0.5.
    pub fn national_rank(&self, score: f64) -> f64 {
        let Some((&(low_score, low_rank), &(high_score, high_rank))) =
            self.points.first().zip(self.points.last())
        else {
            return 0.5;
        };
        if score.is_nan() {
            return 0.5;
        }
        if score <= low_score {
            return low_rank;
        }
        if score >= high_score {
            return high_rank;
        }
        // The first point above `score` exists and is not the first point.
        let above = self.points.partition_point(|(s, _)| *s <= score);
        let (s0, r0) = self.points[above - 1];
        let (s1, r1) = self.points[above];
        r0 + (r1 - r0) * (score - s0) / (s1 - s0)
    }

    /// The share of the practice's patients in each national quintile, q1 (most deprived)
    /// first; the shares sum to 1.
    pub fn mix(&self, score: f64) -> [f64; QUINTILE_COUNT] {
        mix_at_rank(self.national_rank(score))
    }
}

/// The quintile mix of a practice at national mid-rank `rank` (1 = most deprived), under
/// [`PRACTICE_CORRELATION`].
pub fn mix_at_rank(rank: f64) -> [f64; QUINTILE_COUNT] {
    let normal = Normal::standard();
    let rank = rank.clamp(1e-9, 1.0 - 1e-9);
    let centre = PRACTICE_CORRELATION * normal.inverse_cdf(rank);
    let spread = (1.0 - PRACTICE_CORRELATION * PRACTICE_CORRELATION).sqrt();
    // below[k]: the share of the practice's patients less deprived than the (k+1)-th national
    // quintile boundary, counted from the least deprived end.
    let below: [f64; QUINTILE_COUNT - 1] = std::array::from_fn(|k| {
        let boundary = normal.inverse_cdf((k + 1) as f64 / QUINTILE_COUNT as f64);
        normal.cdf((boundary - centre) / spread)
    });
    let mut mix = [0.0; QUINTILE_COUNT];
    let mut previous = 0.0;
    // q5 is the band lowest on the scale; q1 the highest.
    for (k, &b) in below.iter().chain(std::iter::once(&1.0)).enumerate() {
        mix[QUINTILE_COUNT - 1 - k] = (b - previous).max(0.0);
        previous = b;
    }
    mix
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// England's practices: each practice's mix, weighted by its patients, summed.
    fn national_shares(places: &crate::places::Places) -> [f64; QUINTILE_COUNT] {
        let mut total = [0.0; QUINTILE_COUNT];
        let mut patients = 0.0;
        for (i, practice) in places.practices.iter().enumerate() {
            for (t, share) in total.iter_mut().zip(places.practice_mix(i)) {
                *t += share * practice.patients;
            }
            patients += practice.patients;
        }
        total.map(|t| t / patients)
    }

    #[test]
    fn england_as_a_whole_is_within_one_point_of_a_fifth_per_quintile() {
        let places = crate::places::Places::england().unwrap_or_else(|e| panic!("{e}"));
        let shares = national_shares(places);
        eprintln!("England's patients by quintile, q1..q5: {shares:?}");
        for rank in [0.1, 0.3, 0.5, 0.7, 0.9] {
            eprintln!("mix at national rank {rank}: {:?}", mix_at_rank(rank));
        }
        for (q, share) in shares.iter().enumerate() {
            assert!(
                (share - 0.2).abs() <= 0.01,
                "q{} holds {:.2}% of England's patients: {shares:?}",
                q + 1,
                share * 100.0
            );
        }
    }

    #[test]
    fn mixes_sum_to_one_and_the_middle_practice_is_centred() {
        let mix = mix_at_rank(0.5);
        assert!((mix.iter().sum::<f64>() - 1.0).abs() < 1e-12);
        assert!((mix[0] - mix[4]).abs() < 1e-12 && (mix[1] - mix[3]).abs() < 1e-12);
        assert!(mix[2] > mix[1] && mix[1] > mix[0]);
    }

    #[test]
    fn ranks_are_patient_weighted_mid_ranks() {
        let model = DeprivationModel::calibrate([(10.0, 100.0), (20.0, 300.0)].into_iter());
        assert_eq!(model.national_rank(10.0), 0.125);
        assert_eq!(model.national_rank(20.0), 0.625);
        assert_eq!(model.national_rank(15.0), 0.375);
        assert_eq!(model.national_rank(0.0), 0.125);
        assert_eq!(DeprivationModel::default().national_rank(3.0), 0.5);
    }

    proptest! {
        /// A more deprived practice (higher score) never has a smaller share in q1, on
        /// England's calibration, for any pair of scores including ones beyond the data.
        #[test]
        fn a_higher_score_never_has_a_smaller_q1_share(a in -10.0f64..120.0, b in -10.0f64..120.0) {
            let places = crate::places::Places::england().unwrap_or_else(|e| panic!("{e}"));
            let model = places.deprivation();
            let (low, high) = if a <= b { (a, b) } else { (b, a) };
            let (q1_low, q1_high) = (model.mix(low)[0], model.mix(high)[0]);
            prop_assert!(q1_high >= q1_low, "score {high}: q1 {q1_high} < score {low}: q1 {q1_low}");
        }

        #[test]
        fn every_mix_is_a_distribution(rank in 0.0f64..=1.0) {
            let mix = mix_at_rank(rank);
            prop_assert!(mix.iter().all(|s| (0.0..=1.0).contains(s)));
            prop_assert!((mix.iter().sum::<f64>() - 1.0).abs() < 1e-9);
        }
    }
}
