//! Link-worker allocation: how an arm's FTE is shared among the PCNs of a plan (issue 8).
//! Each PCN's FTE then becomes posts as MODEL.md §5 (v1.1) says: whole posts plus at most one
//! fractional post ([`crate::model::link_worker::posts`]).
//!
//! - `per_pcn`: `lw_per_pcn` posts in every PCN (v1.0, the default);
//! - `as_is`: the PCN's September 2022 FTE (unknown values imputed by the places layer; a
//!   synthetic PCN has `lw_per_pcn`);
//! - `capitation`: `lw_total` shared in proportion to weighted (Carr-Hill) patients;
//! - `need`: `lw_total` shared in proportion to expected need, the PCN's expected
//!   non-medical GP consultations from needs under the arm's own need parameters and the PCN's
//!   deprivation mix ([`crate::model::needs::expected_need_consultations`]).
//!
//! `lw_total` = 0 means the selection's 2022 total (the sum of the `as_is` FTE), so the three
//! real-world rules share the same number of posts unless a scenario says otherwise.

use super::{ArmPlan, PcnPlan};
use crate::model::needs::{NeedTables, expected_need_consultations};
use crate::params::Params;

/// An arm's rule for sharing link-worker FTE among PCNs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Allocation {
    #[default]
    PerPcn,
    AsIs,
    Capitation,
    Need,
}

impl Allocation {
    pub const ALL: [Allocation; 4] = [
        Allocation::PerPcn,
        Allocation::AsIs,
        Allocation::Capitation,
        Allocation::Need,
    ];

    /// The name scenarios use.
    pub fn name(self) -> &'static str {
        match self {
            Allocation::PerPcn => "per_pcn",
            Allocation::AsIs => "as_is",
            Allocation::Capitation => "capitation",
            Allocation::Need => "need",
        }
    }

    pub fn parse(name: &str) -> Option<Allocation> {
        Allocation::ALL
            .into_iter()
            .find(|a| a.name().eq_ignore_ascii_case(name.trim()))
    }
}

/// The link-worker FTE of each PCN (in plan order) under the arm's allocation.
pub fn arm_fte(pcns: &[PcnPlan], arm: &ArmPlan) -> Vec<f64> {
    let p = &arm.params;
    match arm.allocation {
        Allocation::PerPcn => vec![f64::from(p.lw_per_pcn); pcns.len()],
        Allocation::AsIs => pcns.iter().map(|pcn| as_is_fte(pcn, p)).collect(),
        Allocation::Capitation => {
            let weights: Vec<f64> = pcns.iter().map(|pcn| pcn.weighted_patients).collect();
            share(total_fte(pcns, p), &weights)
        }
        Allocation::Need => {
            let tables = NeedTables::new(p);
            let weights: Vec<f64> = pcns
                .iter()
                .map(|pcn| expected_need(pcn, &tables, p))
                .collect();
            share(total_fte(pcns, p), &weights)
        }
    }
}

/// The PCN's 2022 FTE, or `lw_per_pcn` for a synthetic PCN.
fn as_is_fte(pcn: &PcnPlan, p: &Params) -> f64 {
    pcn.lw_fte_2022.unwrap_or(f64::from(p.lw_per_pcn))
}

/// The FTE a shared allocation distributes: `lw_total`, or with `lw_total` = 0 the
/// selection's 2022 total.
pub fn total_fte(pcns: &[PcnPlan], p: &Params) -> f64 {
    if p.lw_total > 0.0 {
        p.lw_total
    } else {
        pcns.iter().map(|pcn| as_is_fte(pcn, p)).sum()
    }
}

/// Expected non-medical GP consultations per week from the PCN's patients' needs.
fn expected_need(pcn: &PcnPlan, tables: &NeedTables, p: &Params) -> f64 {
    let layout = &pcn.layout;
    layout
        .list_sizes
        .iter()
        .enumerate()
        .map(|(practice, &size)| {
            let mix = layout.mix(practice).unwrap_or(&p.deprivation_shares);
            f64::from(size) * expected_need_consultations(tables, p, mix)
        })
        .sum()
}

/// `total` shared in proportion to `weights`; equally if no PCN has any weight.
fn share(total: f64, weights: &[f64]) -> Vec<f64> {
    let sum: f64 = weights.iter().sum();
    if sum > 0.0 {
        weights.iter().map(|w| total * w / sum).collect()
    } else {
        vec![total / weights.len().max(1) as f64; weights.len()]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::pcn::Layout;

    fn pcn(sizes: Vec<u32>, mix: [f64; 5], weighted: f64, fte: Option<f64>) -> PcnPlan {
        let practices = sizes.len();
        PcnPlan {
            stream: 0,
            layout: Layout::new(sizes, Some(vec![mix; practices])),
            weighted_patients: weighted,
            lw_fte_2022: fte,
            identity: None,
        }
    }

    fn arm(allocation: Allocation, lw_total: f64) -> ArmPlan {
        let params = Params {
            lw_total,
            ..Params::default()
        };
        ArmPlan {
            name: "a".into(),
            service: true,
            params,
            allocation,
        }
    }

    fn pcns() -> Vec<PcnPlan> {
        let deprived = [0.6, 0.2, 0.1, 0.05, 0.05];
        let affluent = [0.05, 0.05, 0.1, 0.2, 0.6];
        vec![
            pcn(vec![10_000, 20_000], deprived, 33_000.0, Some(2.5)),
            pcn(vec![30_000], affluent, 27_000.0, Some(3.0)),
            pcn(vec![5_000, 5_000], [0.2; 5], 10_000.0, Some(0.0)),
        ]
    }

    #[test]
    fn allocation_names_round_trip() {
        for a in Allocation::ALL {
            assert_eq!(Allocation::parse(a.name()), Some(a));
        }
        assert_eq!(Allocation::parse("As_Is"), Some(Allocation::AsIs));
        assert_eq!(Allocation::parse("fair"), None);
    }

    #[test]
    fn as_is_reproduces_the_table_and_per_pcn_gives_every_pcn_lw_per_pcn() {
        assert_eq!(
            arm_fte(&pcns(), &arm(Allocation::AsIs, 0.0)),
            [2.5, 3.0, 0.0]
        );
        assert_eq!(arm_fte(&pcns(), &arm(Allocation::PerPcn, 0.0)), [3.0; 3]);
    }

    #[test]
    fn shared_allocations_sum_to_lw_total_or_the_2022_total() {
        for allocation in [Allocation::Capitation, Allocation::Need] {
            for (lw_total, expected) in [(0.0, 5.5), (12.0, 12.0)] {
                let fte = arm_fte(&pcns(), &arm(allocation, lw_total));
                let sum: f64 = fte.iter().sum();
                assert!((sum - expected).abs() < 1e-9, "{allocation:?}: {sum}");
                assert!(fte.iter().all(|&f| f >= 0.0));
            }
        }
    }

    #[test]
    fn capitation_follows_weighted_patients_and_need_follows_deprivation() {
        let cap = arm_fte(&pcns(), &arm(Allocation::Capitation, 14.0));
        assert!((cap[0] - 14.0 * 33.0 / 70.0).abs() < 1e-9);
        let need = arm_fte(&pcns(), &arm(Allocation::Need, 14.0));
        // Equal registered lists (30,000 each): the deprived PCN's need is higher.
        assert!(need[0] > need[1], "{need:?}");
    }

    #[test]
    fn no_weight_at_all_shares_equally() {
        assert_eq!(share(6.0, &[0.0, 0.0, 0.0]), [2.0; 3]);
        assert!(share(6.0, &[]).is_empty());
    }
}
