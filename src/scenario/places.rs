//! `[population]` on real places: `source = "england"` (the embedded places table) or
//! `source = "my_pcns.csv"` (a user's own table, relative to the scenario file), with optional
//! `region`, `icb` and `pcn` filters checked against the table, and the selected PCNs turned into
//! the engine's PCN plans.

use std::path::Path;
use std::sync::Arc;

use sha2::{Digest, Sha256};

use super::PlaceSelection;
use super::input::{Diagnostics, nearest_name};
use super::raw::{At, RawPopulation};
use crate::engine::{PcnIdentity, PcnPlan};
use crate::model::pcn::Layout;
use crate::places::{Level, Places, stats, user};

/// The one built-in source.
const ENGLAND: &str = "england";

/// The key every problem with the source, or with the table it names, is reported under.
const SOURCE_KEY: &str = "population.source";

/// The table a source names.
enum Source {
    England(&'static Places),
    /// A user's table: `path` as resolved against the scenario's directory.
    User {
        table: Arc<Places>,
        path: String,
        sha256: String,
    },
}

impl Source {
    fn places(&self) -> &Places {
        match self {
            Source::England(places) => places,
            Source::User { table, .. } => table,
        }
    }

    /// Where to look up codes and names, for "no such place" messages.
    fn finder(&self) -> String {
        match self {
            Source::England(_) => "`sprx places --search` finds codes and names".to_string(),
            Source::User { path, .. } => format!("codes and names are those of {path}"),
        }
    }
}

/// Checks `source` and the filters; `None` (with diagnostics) if anything is wrong. `dir` is
/// the scenario file's directory, which a user's table is relative to.
pub(crate) fn resolve_places(
    raw: &RawPopulation,
    synthetic_keys: bool,
    dir: &Path,
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
                    "filters real places: add `source = \"england\"` or `source = \"my_pcns.csv\"`",
                );
            }
        }
        return None;
    };
    if synthetic_keys {
        sink.error(
            &source.span,
            SOURCE_KEY,
            "`source` cannot be mixed with pcns, practices_per_pcn or patients_per_practice: \
             real places bring their own PCNs and practices",
        );
    }
    let table = open_source(source, dir, sink)?;
    let places = table.places();
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
                    message.push_str(&format!(" ({})", table.finder()));
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
            SOURCE_KEY,
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
    let (source, path, sha256, table) = match table {
        Source::England(_) => (ENGLAND.to_string(), None, None, None),
        Source::User {
            table,
            path,
            sha256,
        } => (
            source.value.trim().to_string(),
            Some(path),
            Some(sha256),
            Some(table),
        ),
    };
    Some(PlaceSelection {
        source,
        path,
        sha256,
        region: texts(&raw.region),
        icb: texts(&raw.icb),
        pcn: texts(&raw.pcn),
        indices,
        table,
    })
}

/// England's table, or the user's `.csv` table the source names (every mistake in it reported
/// at the `source` key); `None` if neither can be had.
fn open_source(source: &At<String>, dir: &Path, sink: &mut Diagnostics) -> Option<Source> {
    let name = source.value.trim();
    let is_table = Path::new(name)
        .extension()
        .is_some_and(|x| x.eq_ignore_ascii_case("csv"));
    if !name.eq_ignore_ascii_case(ENGLAND) && !is_table {
        sink.error(
            &source.span,
            SOURCE_KEY,
            format!(
                "unknown source `{}`: expected \"england\" or the path of your own places \
                 table, a .csv file (see docs/places.md)",
                source.value
            ),
        );
        return None;
    }
    // A user's table is placed in England too: its deprivation quintiles are national.
    let england = match Places::england() {
        Ok(places) => places,
        Err(e) => {
            sink.error(
                &source.span,
                SOURCE_KEY,
                format!("cannot read the places table: {e}"),
            );
            return None;
        }
    };
    if !is_table {
        return Some(Source::England(england));
    }
    let path = dir.join(name);
    match user::load(&path, england) {
        Ok(table) => Some(Source::User {
            table: Arc::new(table.places),
            path: path.display().to_string(),
            sha256: table.sha256,
        }),
        Err(errors) => {
            for e in errors {
                sink.error(&source.span, SOURCE_KEY, e.to_string());
            }
            None
        }
    }
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

/// The engine's plans of the selected PCNs, from the user's table or the embedded one.
pub(crate) fn plan_pcns(selection: &PlaceSelection) -> Vec<PcnPlan> {
    let places = match &selection.table {
        Some(table) => table.as_ref(),
        None => match Places::england() {
            Ok(places) => places,
            Err(_) => return Vec::new(),
        },
    };
    selection
        .indices
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

/// A real PCN's stream label: a hash of its code, stable whatever else is selected, whatever
/// row the PCN has in a later edition of the table, and whether it comes from England's table
/// or a user's.
pub fn stream_label(code: &str) -> u64 {
    let digest = Sha256::digest(format!("pcn:{}", code.trim().to_ascii_uppercase()).as_bytes());
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    u64::from_le_bytes(first)
}
