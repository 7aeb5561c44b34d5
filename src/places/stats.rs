//! Totals over a set of PCNs (one PCN, an ICB, a region, a selection): patients, the
//! patient-weighted mean IMD score, and link-worker FTE with the PCNs whose FTE is unknown
//! counted apart, never added in as zero.

use super::Places;

/// Totals over a set of PCNs.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Totals {
    pub pcns: usize,
    pub practices: usize,
    pub patients: f64,
    pub weighted_patients: f64,
    /// Mean IMD 2019 score weighted by registered patients, over practices with a score.
    pub mean_imd: Option<f64>,
    /// Practices without an IMD score, and their patients.
    pub practices_without_imd: usize,
    pub patients_without_imd: f64,
    /// Link-worker FTE summed over the PCNs that reported.
    pub lw_fte_reported: f64,
    /// PCNs with no workforce return: their FTE is unknown.
    pub pcns_lw_unknown: usize,
}

impl Totals {
    /// The link-worker FTE if every PCN reported; `None` if any is unknown.
    pub fn lw_fte(&self) -> Option<f64> {
        (self.pcns_lw_unknown == 0).then_some(self.lw_fte_reported)
    }
}

/// Totals over the PCNs at `indices` into [`Places::pcns`] (an index out of range is skipped).
pub fn over(places: &Places, indices: impl IntoIterator<Item = usize>) -> Totals {
    let mut totals = Totals::default();
    let mut imd_weighted = 0.0;
    let mut imd_patients = 0.0;
    for pcn in indices.into_iter().filter_map(|i| places.pcns.get(i)) {
        totals.pcns += 1;
        match pcn.lw_fte {
            Some(fte) => totals.lw_fte_reported += fte,
            None => totals.pcns_lw_unknown += 1,
        }
        for practice in pcn
            .practices
            .iter()
            .filter_map(|&i| places.practices.get(i))
        {
            totals.practices += 1;
            totals.patients += practice.patients;
            totals.weighted_patients += practice.weighted_patients;
            match practice.imd_2019 {
                Some(score) => {
                    imd_weighted += score * practice.patients;
                    imd_patients += practice.patients;
                }
                None => {
                    totals.practices_without_imd += 1;
                    totals.patients_without_imd += practice.patients;
                }
            }
        }
    }
    totals.mean_imd = (imd_patients > 0.0).then(|| imd_weighted / imd_patients);
    totals
}

/// Totals for one PCN.
pub fn pcn(places: &Places, index: usize) -> Totals {
    over(places, [index])
}

/// The fifths of a set of PCNs by mean IMD score: the lowest score of each of the four most
/// deprived fifths (by count of PCNs with a score, most deprived first).
#[derive(Clone, Debug, PartialEq)]
pub struct PcnQuintiles {
    cuts: [f64; 4],
}

impl PcnQuintiles {
    /// The fifths of `places`' PCNs (England's, for runs: a PCN's quintile must not depend on
    /// what else is selected). `None` without five scored PCNs.
    pub fn of(places: &Places) -> Option<PcnQuintiles> {
        let mut scores: Vec<f64> = (0..places.pcns.len())
            .filter_map(|i| pcn(places, i).mean_imd)
            .collect();
        if scores.len() < 5 {
            return None;
        }
        scores.sort_by(|a, b| b.total_cmp(a));
        let n = scores.len();
        let cut = |k: usize| scores[(k * n).div_ceil(5) - 1];
        Some(PcnQuintiles {
            cuts: [cut(1), cut(2), cut(3), cut(4)],
        })
    }

    /// The fifth (1 = most deprived … 5) a PCN with this mean score falls in.
    pub fn quintile(&self, score: f64) -> u8 {
        let above = self.cuts.iter().take_while(|&&cut| score < cut).count();
        above as u8 + 1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn englands_pcns_fall_in_five_equal_fifths_by_score() {
        let Ok(england) = Places::england() else {
            panic!("the embedded table reads");
        };
        let quintiles = PcnQuintiles::of(england).expect("England has scored PCNs");
        let mut counts = [0usize; 5];
        let mut scored = Vec::new();
        for i in 0..england.pcns.len() {
            if let Some(score) = pcn(england, i).mean_imd {
                let q = quintiles.quintile(score);
                counts[usize::from(q) - 1] += 1;
                scored.push((score, q));
            }
        }
        let n: usize = counts.iter().sum();
        for c in counts {
            // A fifth of the PCNs each, give or take ties at a cut.
            assert!(c.abs_diff(n / 5) <= 2, "{counts:?} of {n}");
        }
        // A more deprived PCN (higher score) is never in a less deprived fifth.
        scored.sort_by(|a, b| b.0.total_cmp(&a.0));
        assert!(scored.windows(2).all(|w| w[0].1 <= w[1].1));
        assert_eq!(Places::england_pcn_quintile(1000.0), Some(1));
        assert_eq!(Places::england_pcn_quintile(0.0), Some(5));
    }
}
