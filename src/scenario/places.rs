//! `[population]` on real places: `source = "england"` with optional `region`, `icb` and `pcn`
//! filters, checked against the embedded places table, and the selected PCNs turned into the
//! engine's PCN plans.

use sha2::{Digest, Sha256};

use super::PlaceSelection;
use super::input::{Diagnostics, nearest_name};
use super::raw::{At, RawPopulation};
use crate::engine::{PcnIdentity, PcnPlan};
use crate::model::pcn::Layout;
use crate::places::{Level, Places, stats};

/// The one built-in source.
const ENGLAND: &str = "england";

/// Checks `source` and the filters; `None` (with diagnostics) if anything is wrong.
pub(crate) fn resolve_places(
    raw: &RawPopulation,
    synthetic_keys: bool,
    sink: &mut Diagnostics,
) -> Option<PlaceSelection> {
    let filters = [
        ("region", &raw.region, Level::Region),
        ("icb", &raw.icb, Level::Icb),
        ("pcn", &raw.pcn, Level::Pcn),
    ];
    let Some(source) = &raw.source else {
        for (key, values, _) in &filters {
            if let Some(first) = values.as_ref().and_then(|v| v.first()) {
                sink.error(
                    &first.span,
                    &format!("population.{key}"),
                    "filters real places: add `source = \"england\"`",
                );
            }
        }
        return None;
    };
    let path = "population.source";
    if synthetic_keys {
        sink.error(
            &source.span,
            path,
            "`source` cannot be mixed with pcns, practices_per_pcn or patients_per_practice: \
             real places bring their own PCNs and practices",
        );
    }
    if !source.value.trim().eq_ignore_ascii_case(ENGLAND) {
        let message = if source.value.to_ascii_lowercase().ends_with(".csv") {
            format!(
                "`{}`: own places tables are not supported yet; use source = \"england\"",
                source.value
            )
        } else {
            format!("unknown source `{}`: expected \"england\"", source.value)
        };
        sink.error(&source.span, path, message);
        return None;
    }
    let places = match Places::england() {
        Ok(places) => places,
        Err(e) => {
            sink.error(
                &source.span,
                path,
                format!("cannot read the places table: {e}"),
            );
            return None;
        }
    };
    let mut chosen: Vec<Option<Vec<usize>>> = Vec::new();
    let mut ok = !synthetic_keys;
    for (key, values, level) in filters {
        let Some(values) = values else {
            chosen.push(None);
            continue;
        };
        let mut found = Vec::new();
        for (i, At { value, span }) in values.iter().enumerate() {
            match places.find(level, value) {
                Some(index) => found.push(index),
                None => {
                    ok = false;
                    let mut message = format!("no {} is called `{value}`", noun(level));
                    let names = places.names(level);
                    if let Some(near) = nearest_name(value, names.iter().copied()) {
                        message.push_str(&format!(", did you mean `{near}`?"));
                    }
                    message.push_str(" (`sprx places --search` finds codes and names)");
                    sink.error(span, &format!("population.{key}[{i}]"), message);
                }
            }
        }
        chosen.push(Some(found));
    }
    if !ok {
        return None;
    }
    let indices = select(places, &chosen);
    if indices.is_empty() {
        sink.error(
            &source.span,
            path,
            "the filters together select no PCN (a PCN must match every filter given)",
        );
        return None;
    }
    let texts = |v: &Option<Vec<At<String>>>| {
        v.iter()
            .flatten()
            .map(|a| a.value.clone())
            .collect::<Vec<_>>()
    };
    Some(PlaceSelection {
        source: ENGLAND.to_string(),
        region: texts(&raw.region),
        icb: texts(&raw.icb),
        pcn: texts(&raw.pcn),
        indices,
    })
}

fn noun(level: Level) -> &'static str {
    match level {
        Level::Region => "region",
        Level::Icb => "ICB",
        Level::Pcn => "PCN",
    }
}

/// PCNs matching every filter given (any of the values within a filter), in table order.
fn select(places: &Places, chosen: &[Option<Vec<usize>>]) -> Vec<usize> {
    let matches = |filter: Option<&Option<Vec<usize>>>, value: Option<usize>| match filter {
        Some(Some(wanted)) => value.is_some_and(|v| wanted.contains(&v)),
        _ => true,
    };
    (0..places.pcns.len())
        .filter(|&i| {
            matches(chosen.first(), places.pcn_region(i))
                && matches(chosen.get(1), places.pcns.get(i).map(|p| p.icb))
                && matches(chosen.get(2), Some(i))
        })
        .filter(|&i| {
            places.pcns[i]
                .practices
                .iter()
                .any(|&p| places.practices[p].patients >= 0.5)
        })
        .collect()
}

/// The engine's plans of the PCNs at `indices` of the embedded table.
pub(crate) fn plan_pcns(indices: &[usize]) -> Vec<PcnPlan> {
    let Ok(places) = Places::england() else {
        return Vec::new();
    };
    indices
        .iter()
        .filter_map(|&i| pcn_plan(places, i))
        .collect()
}

/// One real PCN: its practices' list sizes (the 2022/23 averages rounded to whole patients)
/// and quintile mixes, its stream label and what allocation rules weigh it by.
fn pcn_plan(places: &Places, index: usize) -> Option<PcnPlan> {
    let pcn = places.pcns.get(index)?;
    let practices: Vec<usize> = pcn.practices.clone();
    let list_sizes = practices
        .iter()
        .map(|&p| places.practices[p].patients.round().max(0.0) as u32)
        .collect();
    let mixes = practices.iter().map(|&p| places.practice_mix(p)).collect();
    let totals = stats::pcn(places, index);
    let icb = places.icbs.get(pcn.icb)?;
    let region = places.regions.get(icb.region)?;
    Some(PcnPlan {
        stream: stream_label(&pcn.code),
        layout: Layout::new(list_sizes, Some(mixes)),
        weighted_patients: totals.weighted_patients,
        lw_fte_2022: Some(places.lw_fte_as_is(index)),
        identity: Some(PcnIdentity {
            code: pcn.code.clone(),
            name: pcn.name.clone(),
            icb_code: icb.code.clone(),
            icb_name: icb.name.clone(),
            region: region.name.clone(),
            imd_score: totals.mean_imd,
            imd_quintile: totals.mean_imd.and_then(Places::england_pcn_quintile),
            lw_fte_reported: pcn.lw_fte,
        }),
    })
}

/// A real PCN's stream label: a hash of its code, stable whatever else is selected and
/// whatever row the PCN has in a later edition of the table.
pub fn stream_label(code: &str) -> u64 {
    let digest = Sha256::digest(format!("pcn:{}", code.trim().to_ascii_uppercase()).as_bytes());
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    u64::from_le_bytes(first)
}
