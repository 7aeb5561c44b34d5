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
