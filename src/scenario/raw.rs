//! The "low" form of a scenario: the TOML document checked for its structure (known keys, value
//! types), with the position of everything kept for later messages. Ranges, names and the rules
//! that span several parameters are checked in [`super::resolve`].

use std::ops::Range;

use toml::Spanned;
use toml::de::{DeTable, DeValue};

use super::Narrative;
use super::input::{Diagnostics, integer, nearest_name, type_name, unknown_key};
use super::values::{Override, Overrides, read_override};
use crate::params::{REGISTRY, find};

const TOP_KEYS: [&str; 9] = [
    "base",
    "name",
    "description",
    "baseline",
    "run",
    "population",
    "params",
    "arm",
    "narrative",
];
const RUN_KEYS: [&str; 4] = ["seed", "replicates", "weeks", "warmup_weeks"];
const POPULATION_KEYS: [&str; 7] = [
    "pcns",
    "practices_per_pcn",
    "patients_per_practice",
    "source",
    "region",
    "icb",
    "pcn",
];
const ARM_KEYS: [&str; 4] = ["name", "preset", "description", "lw_allocation"];
const NARRATIVE_KEYS: [&str; 4] = ["title", "show", "expect", "question"];

/// A value with the byte range it was written at.
pub(crate) struct At<T> {
    pub value: T,
    pub span: Range<usize>,
}

/// An integer run setting as written (range checked later).
pub(crate) type Count = Option<At<i128>>;

pub(crate) struct RawScenario {
    /// `base = "default"` or a path: the scenario this file overrides.
    pub base: Option<At<String>>,
    pub name: Option<At<String>>,
    pub description: Option<At<String>>,
    pub baseline: Option<At<String>>,
    pub run: RawRun,
    pub population: RawPopulation,
    pub params: Overrides,
    pub arms: Vec<RawArm>,
    /// Where `[[arm]]` is written (or the document start if it is missing).
    pub arms_span: Range<usize>,
    pub narrative: Option<Narrative>,
}

#[derive(Default)]
pub(crate) struct RawRun {
    pub span: Range<usize>,
    pub seed: Count,
    pub replicates: Count,
    pub weeks: Count,
    pub warmup_weeks: Count,
}

#[derive(Default)]
pub(crate) struct RawPopulation {
    /// Where `[population]` is written.
    pub span: Range<usize>,
    pub pcns: Count,
    pub practices_per_pcn: Count,
    pub patients_per_practice: Count,
    /// Real places: `"england"` (the embedded table).
    pub source: Option<At<String>>,
    /// Filters of real places, each a list of codes or names.
    pub region: Option<Vec<At<String>>>,
    pub icb: Option<Vec<At<String>>>,
    pub pcn: Option<Vec<At<String>>>,
}

pub(crate) struct RawArm {
    /// The `[[arm]]` header.
    pub span: Range<usize>,
    pub name: Option<At<String>>,
    pub preset: Option<At<String>>,
    pub description: Option<At<String>>,
    pub lw_allocation: Option<At<String>>,
    pub overrides: Overrides,
}

/// Reads the document; structural errors go to `sink` and the offending entries are left out.
/// `doc` is the scenario's table, written at `span` (the whole file, or a sweep's `[base]`).
pub(crate) fn read(doc: &DeTable, span: Range<usize>, sink: &mut Diagnostics) -> RawScenario {
    let mut raw = RawScenario {
        base: None,
        name: None,
        description: None,
        baseline: None,
        run: RawRun::default(),
        population: RawPopulation::default(),
        params: Overrides::default(),
        arms: Vec::new(),
        arms_span: span,
        narrative: None,
    };
    for (key, value) in doc.iter() {
        let name = key.get_ref().as_ref();
        match name {
            "base" => raw.base = string(name, value, sink),
            "name" => raw.name = string(name, value, sink),
            "description" => raw.description = string(name, value, sink),
            "baseline" => raw.baseline = string(name, value, sink),
            "run" => {
                if let Some(table) = table(name, value, sink) {
                    raw.run = read_run(table, value.span(), sink);
                }
            }
            "population" => {
                if let Some(table) = table(name, value, sink) {
                    raw.population = read_population(table, sink);
                }
            }
            "params" => {
                if let Some(table) = table(name, value, sink) {
                    raw.params = read_params(table, "params", sink);
                }
            }
            "arm" => {
                raw.arms_span = value.span();
                raw.arms = read_arms(value, sink);
            }
            "narrative" => {
                if let Some(table) = table(name, value, sink) {
                    raw.narrative = Some(read_narrative(table, sink));
                }
            }
            _ => sink.error(&key.span(), name, unknown_top_level_key(name)),
        }
    }
    raw
}

fn unknown_top_level_key(name: &str) -> String {
    if find(name).is_some() {
        return format!(
            "unknown key: `{name}` is a model parameter; set it under [params] (all arms) or in an [[arm]]"
        );
    }
    unknown_key(name, &TOP_KEYS)
}

fn string(path: &str, value: &Spanned<DeValue>, sink: &mut Diagnostics) -> Option<At<String>> {
    match value.get_ref() {
        DeValue::String(s) => Some(At {
            value: s.to_string(),
            span: value.span(),
        }),
        other => {
            sink.error(
                &value.span(),
                path,
                format!("expected a string, got {}", type_name(other)),
            );
            None
        }
    }
}

/// A list of strings; a single string is taken as a list of one.
fn strings(
    path: &str,
    value: &Spanned<DeValue>,
    sink: &mut Diagnostics,
) -> Option<Vec<At<String>>> {
    match value.get_ref() {
        DeValue::String(_) => string(path, value, sink).map(|s| vec![s]),
        DeValue::Array(items) => {
            let mut out = Vec::with_capacity(items.len());
            for (i, item) in items.iter().enumerate() {
                out.extend(string(&format!("{path}[{i}]"), item, sink));
            }
            Some(out)
        }
        other => {
            sink.error(
                &value.span(),
                path,
                format!(
                    "expected a list of codes or names, got {}",
                    type_name(other)
                ),
            );
            None
        }
    }
}

fn table<'a, 'i>(
    path: &str,
    value: &'a Spanned<DeValue<'i>>,
    sink: &mut Diagnostics,
) -> Option<&'a DeTable<'i>> {
    match value.get_ref() {
        DeValue::Table(t) => Some(t),
        other => {
            sink.error(
                &value.span(),
                path,
                format!("expected a table ([{path}]), got {}", type_name(other)),
            );
            None
        }
    }
}

fn count(path: &str, value: &Spanned<DeValue>, sink: &mut Diagnostics) -> Count {
    let found = match value.get_ref() {
        DeValue::Integer(i) => integer(i).ok_or_else(|| format!("{i} is too large")),
        DeValue::Float(f) => Err(format!("expected a whole number, got {}", f.as_str())),
        other => Err(format!("expected a whole number, got {}", type_name(other))),
    };
    match found {
        Ok(v) => Some(At {
            value: v,
            span: value.span(),
        }),
        Err(message) => {
            sink.error(&value.span(), path, message);
            None
        }
    }
}

fn read_run(table: &DeTable, span: Range<usize>, sink: &mut Diagnostics) -> RawRun {
    let mut run = RawRun {
        span,
        ..RawRun::default()
    };
    for (key, value) in table.iter() {
        let name = key.get_ref().as_ref();
        let path = format!("run.{name}");
        let slot = match name {
            "seed" => &mut run.seed,
            "replicates" => &mut run.replicates,
            "weeks" => &mut run.weeks,
            "warmup_weeks" => &mut run.warmup_weeks,
            _ => {
                sink.error(&key.span(), &path, unknown_key(name, &RUN_KEYS));
                continue;
            }
        };
        *slot = count(&path, value, sink);
    }
    run
}

fn read_population(table: &DeTable, sink: &mut Diagnostics) -> RawPopulation {
    let mut population = RawPopulation::default();
    for (key, value) in table.iter() {
        let name = key.get_ref().as_ref();
        let path = format!("population.{name}");
        if population.span.is_empty() {
            population.span = key.span();
        }
        match name {
            "source" => {
                population.source = string(&path, value, sink);
                continue;
            }
            "region" => {
                population.region = strings(&path, value, sink);
                continue;
            }
            "icb" => {
                population.icb = strings(&path, value, sink);
                continue;
            }
            "pcn" => {
                population.pcn = strings(&path, value, sink);
                continue;
            }
            _ => {}
        }
        let slot = match name {
            "pcns" => &mut population.pcns,
            "practices_per_pcn" => &mut population.practices_per_pcn,
            "patients_per_practice" => &mut population.patients_per_practice,
            _ => {
                sink.error(&key.span(), &path, unknown_key(name, &POPULATION_KEYS));
                continue;
            }
        };
        *slot = count(&path, value, sink);
    }
    population
}

/// Reads every key of `table` as a parameter override; `prefix` starts each key path.
fn read_params(table: &DeTable, prefix: &str, sink: &mut Diagnostics) -> Overrides {
    let mut overrides = Vec::new();
    for (key, value) in table.iter() {
        let name = key.get_ref().as_ref();
        let path = format!("{prefix}.{name}");
        match find(name) {
            Some(def) => overrides.extend(read_override(def, path, key.span(), value, sink)),
            None => sink.error(&key.span(), &path, unknown_parameter(name)),
        }
    }
    Overrides(overrides)
}

fn unknown_parameter(name: &str) -> String {
    let names = REGISTRY.iter().map(|d| d.name);
    match nearest_name(name, names) {
        Some(near) => format!("unknown parameter, did you mean `{near}`?"),
        None => "unknown parameter (`sprx params` lists them all)".to_string(),
    }
}

fn read_arms(value: &Spanned<DeValue>, sink: &mut Diagnostics) -> Vec<RawArm> {
    let DeValue::Array(items) = value.get_ref() else {
        sink.error(
            &value.span(),
            "arm",
            format!(
                "expected an array of tables ([[arm]]), got {}",
                type_name(value.get_ref())
            ),
        );
        return Vec::new();
    };
    let mut arms = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let prefix = format!("arm[{i}]");
        match item.get_ref() {
            DeValue::Table(table) => arms.push(read_arm(table, item.span(), &prefix, sink)),
            other => sink.error(
                &item.span(),
                &prefix,
                format!("expected a table, got {}", type_name(other)),
            ),
        }
    }
    arms
}

fn read_arm(table: &DeTable, span: Range<usize>, prefix: &str, sink: &mut Diagnostics) -> RawArm {
    let mut arm = RawArm {
        span,
        name: None,
        preset: None,
        description: None,
        lw_allocation: None,
        overrides: Overrides::default(),
    };
    let mut overrides: Vec<Override> = Vec::new();
    for (key, value) in table.iter() {
        let name = key.get_ref().as_ref();
        let path = format!("{prefix}.{name}");
        match name {
            "name" => arm.name = string(&path, value, sink),
            "preset" => arm.preset = string(&path, value, sink),
            "description" => arm.description = string(&path, value, sink),
            "lw_allocation" => arm.lw_allocation = string(&path, value, sink),
            _ => match find(name) {
                Some(def) => overrides.extend(read_override(def, path, key.span(), value, sink)),
                None => {
                    let valid = ARM_KEYS
                        .iter()
                        .copied()
                        .chain(REGISTRY.iter().map(|d| d.name));
                    let message = match nearest_name(name, valid) {
                        Some(near) => format!("unknown key, did you mean `{near}`?"),
                        None => "unknown key: expected name, preset, description, lw_allocation or a model parameter (`sprx params` lists them)".to_string(),
                    };
                    sink.error(&key.span(), &path, message);
                }
            },
        }
    }
    arm.overrides = Overrides(overrides);
    arm
}

fn read_narrative(table: &DeTable, sink: &mut Diagnostics) -> Narrative {
    let mut narrative = Narrative::default();
    for (key, value) in table.iter() {
        let name = key.get_ref().as_ref();
        let path = format!("narrative.{name}");
        let slot = match name {
            "title" => &mut narrative.title,
            "show" => &mut narrative.show,
            "expect" => &mut narrative.expect,
            "question" => &mut narrative.question,
            _ => {
                sink.error(&key.span(), &path, unknown_key(name, &NARRATIVE_KEYS));
                continue;
            }
        };
        *slot = string(&path, value, sink).map(|s| s.value);
    }
    narrative
}
