//! The derivation of the places tables from the three raw files (`sprx places build`). Which
//! practices are kept:
//!
//! - a practice with a close date is dropped (it closed during or before 2022/23);
//! - a practice with fewer than one registered patient is dropped (206 have 0; a few have a
//!   fraction of one, the quarterly average of a list that emptied);
//! - a practice outside any PCN (`Unknown or no PCN`) is dropped: the simulation's unit is the
//!   PCN, and a link worker is a PCN post.
//!
//! Every drop is counted by reason in `derivation.json`. A PCN is kept if any practice of it is;
//! its ICB is the one holding most of its kept patients. Link-worker FTE is the sum of FTE over
//! the workforce rows with `DETAILED_STAFF_ROLE = Social Prescribing Link Worker`: 0 for a PCN
//! that made a return without one, unknown (empty) for a PCN that made no return. ICB codes
//! and NHS England's short region names come from the workforce file, matched by ICB name.

pub mod raw;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use super::error::PlacesError;
use super::provenance::{
    Derivation, DropReason, Dropped, PAYMENTS, RawTotals, WORKFORCE, Workforce,
};
use super::table::{self, TableFiles};
use super::{Icb, Pcn, Places, Practice, Region, Rurality};
use raw::{PaymentsPractice, Raw};

/// Why a practice is left out, in the order they are listed.
pub const DROP_REASONS: [(&str, &str); 3] = [
    ("closed", "closed (a close date is set)"),
    ("no_patients", "fewer than one registered patient"),
    ("no_pcn", "in no PCN (`Unknown or no PCN`)"),
];

/// Decimals kept: IMD scores to 0.01 (the precision they mean anything at), FTE to 0.001.
const IMD_DECIMALS: i32 = 2;
const FTE_DECIMALS: i32 = 3;

/// The tables derived from the raw files in `dir`.
pub fn from_dir(dir: &Path) -> Result<TableFiles, PlacesError> {
    let raw = raw::read(dir)?;
    let places = places(&raw)?;
    table::write(&places, &derivation(&raw, &places))
}

fn round(value: f64, decimals: i32) -> f64 {
    let scale = 10f64.powi(decimals);
    (value * scale).round() / scale
}

/// The reasons (keys of [`DROP_REASONS`]) to leave a practice out; empty if it is kept.
pub fn drop_reasons(practice: &PaymentsPractice) -> Vec<&'static str> {
    let applies = [
        practice.closed,
        practice.patients < 1.0,
        practice.pcn.is_none(),
    ];
    DROP_REASONS
        .iter()
        .zip(applies)
        .filter(|(_, applies)| *applies)
        .map(|((key, _), _)| *key)
        .collect()
}

fn kept(raw: &Raw) -> impl Iterator<Item = &PaymentsPractice> {
    raw.practices.iter().filter(|p| drop_reasons(p).is_empty())
}

/// The ICBs and regions of the kept practices, sorted by code, with each practice's ICB index.
fn icbs_and_regions(raw: &Raw) -> Result<(Vec<Icb>, Vec<Region>), PlacesError> {
    let mut icbs: BTreeMap<String, (String, String)> = BTreeMap::new();
    for practice in kept(raw) {
        let icb = workforce_icb(raw, practice)?;
        icbs.insert(
            icb.code.clone(),
            (icb.name.clone(), icb.region_code.clone()),
        );
    }
    let mut regions: Vec<Region> = Vec::new();
    let mut list = Vec::with_capacity(icbs.len());
    for (code, (name, region_code)) in icbs {
        let region = match regions.iter().position(|r| r.code == region_code) {
            Some(i) => i,
            None => {
                let name = raw.workforce.regions.get(&region_code).ok_or_else(|| {
                    PlacesError::file(WORKFORCE.file, format!("no name for region {region_code}"))
                })?;
                regions.push(Region {
                    code: region_code.clone(),
                    name: name.clone(),
                });
                regions.len() - 1
            }
        };
        list.push(Icb { code, name, region });
    }
    Ok((list, regions))
}

/// The workforce file's ICB for a practice's ICB name, checked to be in the same region.
fn workforce_icb<'r>(
    raw: &'r Raw,
    practice: &PaymentsPractice,
) -> Result<&'r raw::WorkforceIcb, PlacesError> {
    let icb = raw
        .workforce
        .icbs
        .get(&practice.icb_name.to_lowercase())
        .ok_or_else(|| {
            PlacesError::cell(
                PAYMENTS.file,
                practice.row,
                "Sub ICB NAME",
                format!(
                    "ICB `{}` is not in the workforce file, so its code is unknown",
                    practice.icb_name
                ),
            )
        })?;
    if icb.region_code != practice.region_code {
        return Err(PlacesError::cell(
            PAYMENTS.file,
            practice.row,
            "NHS England (Region) code",
            format!(
                "region {} differs from the workforce file's {} for ICB {}",
                practice.region_code, icb.region_code, icb.code
            ),
        ));
    }
    Ok(icb)
}

/// The places table: kept practices sorted by code, their PCNs and ICBs sorted by code.
pub fn places(raw: &Raw) -> Result<Places, PlacesError> {
    let (icbs, regions) = icbs_and_regions(raw)?;
    let icb_index: BTreeMap<&str, usize> = icbs
        .iter()
        .enumerate()
        .map(|(i, icb)| (icb.code.as_str(), i))
        .collect();
    let mut kept: Vec<&PaymentsPractice> = kept(raw).collect();
    kept.sort_by(|a, b| a.code.cmp(&b.code));
    let pcns = pcns(raw, &kept, &icb_index)?;
    let pcn_index: BTreeMap<&str, usize> = pcns
        .iter()
        .enumerate()
        .map(|(i, p)| (p.code.as_str(), i))
        .collect();
    let mut practices = Vec::with_capacity(kept.len());
    let mut seen = BTreeSet::new();
    for p in kept {
        if !seen.insert(p.code.as_str()) {
            return Err(cell(
                p,
                "Practice Code",
                format!("`{}` is repeated", p.code),
            ));
        }
        practices.push(practice(raw, p, &pcn_index, &icb_index)?);
    }
    Ok(Places::new(practices, pcns, icbs, regions))
}

fn cell(practice: &PaymentsPractice, column: &str, message: String) -> PlacesError {
    PlacesError::cell(PAYMENTS.file, practice.row, column, message)
}

fn practice(
    raw: &Raw,
    p: &PaymentsPractice,
    pcn_index: &BTreeMap<&str, usize>,
    icb_index: &BTreeMap<&str, usize>,
) -> Result<Practice, PlacesError> {
    let pcn_code = p.pcn.as_ref().map_or("", |(code, _)| code.as_str());
    let icb_code = workforce_icb(raw, p)?.code.as_str();
    Ok(Practice {
        code: p.code.clone(),
        name: p.name.clone(),
        pcn: pcn_index
            .get(pcn_code)
            .copied()
            .ok_or_else(|| cell(p, "Code", format!("PCN `{pcn_code}` was not built")))?,
        icb: icb_index
            .get(icb_code)
            .copied()
            .ok_or_else(|| cell(p, "Sub ICB NAME", format!("ICB `{icb_code}` was not built")))?,
        patients: p.patients,
        weighted_patients: p.weighted_patients,
        rurality: Rurality::parse(&p.rurality).ok_or_else(|| {
            cell(
                p,
                "Practice Rurality",
                format!("`{}` is neither `Urban` nor `Rural`", p.rurality),
            )
        })?,
        imd_2019: raw.imd.get(&p.code).map(|&s| round(s, IMD_DECIMALS)),
    })
}

/// The PCNs of the kept practices, sorted by code, each in the ICB with most of its patients.
fn pcns(
    raw: &Raw,
    kept: &[&PaymentsPractice],
    icb_index: &BTreeMap<&str, usize>,
) -> Result<Vec<Pcn>, PlacesError> {
    // PCN code → (name, ICB code → patients).
    let mut found: BTreeMap<&str, (&str, BTreeMap<&str, f64>)> = BTreeMap::new();
    for p in kept {
        let Some((code, name)) = &p.pcn else { continue };
        let entry = found
            .entry(code.as_str())
            .or_insert_with(|| (name.as_str(), BTreeMap::new()));
        if entry.0 != name {
            return Err(cell(
                p,
                "CCG NAME",
                format!("PCN {code} is `{}` on an earlier row", entry.0),
            ));
        }
        *entry
            .1
            .entry(workforce_icb(raw, p)?.code.as_str())
            .or_insert(0.0) += p.patients;
    }
    let mut pcns = Vec::with_capacity(found.len());
    for (code, (name, by_icb)) in found {
        // Most patients; on a tie the lower code (the map's order) wins.
        let home = by_icb
            .iter()
            .fold(None, |best: Option<(&str, f64)>, (&icb, &n)| match best {
                Some((_, most)) if most >= n => best,
                _ => Some((icb, n)),
            })
            .map(|(icb, _)| icb)
            .and_then(|icb| icb_index.get(icb).copied());
        let Some(icb) = home else {
            return Err(PlacesError::file(
                PAYMENTS.file,
                format!("PCN {code} has no ICB"),
            ));
        };
        pcns.push(Pcn {
            code: code.to_string(),
            name: name.to_string(),
            icb,
            lw_fte: raw
                .workforce
                .lw_fte
                .get(code)
                .map(|&fte| round(fte, FTE_DECIMALS)),
            practices: Vec::new(),
        });
    }
    Ok(pcns)
}

/// The facts the tables cannot tell: the raw totals and what was dropped.
pub fn derivation(raw: &Raw, places: &Places) -> Derivation {
    let all_pcns: BTreeSet<&str> = raw
        .practices
        .iter()
        .filter_map(|p| p.pcn.as_ref().map(|(code, _)| code.as_str()))
        .collect();
    let icbs: BTreeSet<&str> = raw.practices.iter().map(|p| p.icb_name.as_str()).collect();
    let regions: BTreeSet<&str> = raw
        .practices
        .iter()
        .map(|p| p.region_code.as_str())
        .collect();
    let dropped: Vec<&PaymentsPractice> = raw
        .practices
        .iter()
        .filter(|p| !drop_reasons(p).is_empty())
        .collect();
    let kept_pcns: BTreeSet<&str> = places.pcns.iter().map(|p| p.code.as_str()).collect();
    let reasons = DROP_REASONS
        .iter()
        .map(|(key, _)| {
            let with: Vec<_> = dropped
                .iter()
                .filter(|p| drop_reasons(p).contains(key))
                .collect();
            DropReason {
                reason: key.to_string(),
                practices: with.len() as u64,
                registered_patients: with.iter().map(|p| p.patients).sum(),
            }
        })
        .collect();
    let not_in_payments: Vec<(&String, &f64)> = raw
        .workforce
        .lw_fte
        .iter()
        .filter(|(code, _)| !all_pcns.contains(code.as_str()))
        .collect();
    Derivation {
        raw: RawTotals {
            practices: raw.practices.len() as u64,
            registered_patients: raw.practices.iter().map(|p| p.patients).sum(),
            pcns: all_pcns.len() as u64,
            practices_without_pcn: raw.practices.iter().filter(|p| p.pcn.is_none()).count() as u64,
            icbs: icbs.len() as u64,
            regions: regions.len() as u64,
        },
        dropped: Dropped {
            practices: dropped.len() as u64,
            registered_patients: dropped.iter().map(|p| p.patients).sum(),
            pcns: all_pcns
                .difference(&kept_pcns)
                .map(|c| c.to_string())
                .collect(),
            reasons,
        },
        workforce: Workforce {
            pcns: raw.workforce.lw_fte.len() as u64,
            lw_rows: raw.workforce.lw_rows,
            lw_fte: round(raw.workforce.lw_fte.values().sum(), FTE_DECIMALS),
            lw_pcns: raw.workforce.lw_fte.values().filter(|&&f| f > 0.0).count() as u64,
            pcns_not_in_payments: not_in_payments.iter().map(|(c, _)| c.to_string()).collect(),
            lw_fte_not_in_payments: round(
                not_in_payments.iter().map(|(_, f)| **f).sum(),
                FTE_DECIMALS,
            ),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn practice(closed: bool, patients: f64, pcn: bool) -> PaymentsPractice {
        PaymentsPractice {
            row: 2,
            region_code: "Y56".into(),
            icb_name: "NHS NORTH CENTRAL LONDON ICB".into(),
            pcn: pcn.then(|| ("U1".to_string(), "ONE PCN".to_string())),
            code: "A1".into(),
            name: "ONE".into(),
            closed,
            rurality: "Urban".into(),
            patients,
            weighted_patients: patients,
        }
    }

    #[test]
    fn every_reason_to_drop_a_practice_is_counted() {
        assert!(drop_reasons(&practice(false, 5000.0, true)).is_empty());
        assert!(drop_reasons(&practice(false, 1.0, true)).is_empty());
        assert_eq!(drop_reasons(&practice(false, 0.75, true)), ["no_patients"]);
        assert_eq!(
            drop_reasons(&practice(true, 0.0, false)),
            ["closed", "no_patients", "no_pcn"]
        );
    }

    #[test]
    fn rounding_keeps_the_stated_decimals() {
        assert_eq!(round(32.36093926, IMD_DECIMALS), 32.36);
        assert_eq!(round(0.133333333 * 5.0, FTE_DECIMALS), 0.667);
    }
}
