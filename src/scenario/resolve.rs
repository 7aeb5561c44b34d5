//! From the low form to a validated [`Scenario`]: run settings within their limits, arm names,
//! presets and the baseline, then each arm's parameters resolved (registry defaults → preset →
//! the base's `[params]` → this file's `[params]` → arm overrides) and checked for the rules that
//! span several parameters.
//!
//! A file overrides a base scenario (the embedded default unless it names another with
//! `base = …`): what it leaves out comes from the base — run settings and population key by key,
//! the arms as a whole, `[params]` merged with its own taking precedence. Its name, description
//! and narrative are its own.

use std::ops::{Range, RangeInclusive};
use std::path::Path;

use super::input::{Diagnostics, nearest_name};
use super::raw::{At, Count, RawArm, RawScenario};
use super::values::Overrides;
use super::{Arm, Population, RunSettings, Scenario, limits};
use crate::engine::Allocation;
use crate::params::{Params, Preset};

/// Validates `raw`; returns the scenario only if no error was found in it (`errors_before` is
/// how many the sink held before this scenario was read: a sweep file's own mistakes do not make
/// its inline base invalid).
pub(crate) fn resolve(
    raw: RawScenario,
    base: Option<&Scenario>,
    file: FileContext,
    errors_before: usize,
    sink: &mut Diagnostics,
) -> Option<Scenario> {
    let run = resolve_run(&raw, base.map(|b| &b.run), sink);
    let population = resolve_population(&raw, base.map(|b| &b.population), file.dir, sink);
    let inherits_arms = raw.arms.is_empty() && base.is_some();
    let arms = match base {
        Some(base) if inherits_arms => inherit_arms(base, &raw, sink),
        _ => resolve_arms(&raw, base.map(|b| &b.params), sink),
    };
    let baseline = match base {
        Some(base) if inherits_arms && raw.baseline.is_none() => Some(base.baseline.clone()),
        _ => resolve_baseline(&raw, &arms, inherits_arms, sink),
    };
    if sink.len() > errors_before {
        return None;
    }
    let params = match base {
        Some(base) => base.params.then(&raw.params),
        None => raw.params,
    };
    // The name, description and narrative describe this file, not its base: a variant of a
    // training scenario should not repeat claims its changes may have undone.
    Some(Scenario {
        name: raw.name.map(|n| n.value),
        description: raw.description.map(|d| d.value),
        baseline: baseline?,
        run: run?,
        population: population?,
        params,
        arms,
        narrative: raw.narrative,
        base: base.map(|b| b.origin.clone()),
        origin: file.origin.to_string(),
        sha256: file.sha256,
    })
}

/// Where the scenario being resolved comes from.
pub(crate) struct FileContext<'a> {
    /// The file as the user named it, or [`super::DEFAULT_ORIGIN`].
    pub origin: &'a str,
    /// SHA-256 of its text.
    pub sha256: String,
    /// Its directory, against which the paths it names (a user's places table) are resolved.
    pub dir: &'a Path,
}

/// A count within `range`, or `default` if absent.
fn setting(
    count: &Count,
    path: &str,
    default: u32,
    range: RangeInclusive<u32>,
    sink: &mut Diagnostics,
) -> Option<u32> {
    let Some(At { value, span }) = count else {
        return Some(default);
    };
    match u32::try_from(*value) {
        Ok(v) if range.contains(&v) => Some(v),
        _ => {
            sink.error(
                span,
                path,
                format!(
                    "{value} is out of range: allowed {} ..= {}",
                    range.start(),
                    range.end()
                ),
            );
            None
        }
    }
}

fn resolve_run(
    raw: &RawScenario,
    base: Option<&RunSettings>,
    sink: &mut Diagnostics,
) -> Option<RunSettings> {
    let seed = match &raw.run.seed {
        None if base.is_some() => base.map(|b| b.seed),
        None => {
            sink.error(
                &raw.run.span,
                "run.seed",
                "missing: a scenario fixes its seed so that its runs can be replayed (e.g. `seed = 1` under [run])",
            );
            None
        }
        Some(At { value, span }) => match u64::try_from(*value) {
            Ok(seed) => Some(seed),
            Err(_) => {
                sink.error(
                    span,
                    "run.seed",
                    format!("{value} is out of range: allowed 0 ..= {}", u64::MAX),
                );
                None
            }
        },
    };
    let r = &raw.run;
    let replicates = setting(
        &r.replicates,
        "run.replicates",
        base.map_or(limits::DEFAULT_REPLICATES, |b| b.replicates),
        limits::REPLICATES,
        sink,
    );
    let weeks = setting(
        &r.weeks,
        "run.weeks",
        base.map_or(limits::DEFAULT_WEEKS, |b| b.weeks),
        limits::WEEKS,
        sink,
    );
    let warmup_weeks = setting(
        &r.warmup_weeks,
        "run.warmup_weeks",
        base.map_or(limits::DEFAULT_WARMUP_WEEKS, |b| b.warmup_weeks),
        limits::WARMUP_WEEKS,
        sink,
    );
    Some(RunSettings {
        seed: seed?,
        replicates: replicates?,
        weeks: weeks?,
        warmup_weeks: warmup_weeks?,
    })
}

fn resolve_population(
    raw: &RawScenario,
    base: Option<&Population>,
    dir: &Path,
    sink: &mut Diagnostics,
) -> Option<Population> {
    let p = &raw.population;
    let synthetic_keys =
        p.pcns.is_some() || p.practices_per_pcn.is_some() || p.patients_per_practice.is_some();
    let real = p.source.is_some() || p.region.is_some() || p.icb.is_some() || p.pcn.is_some();
    if !synthetic_keys && !real {
        // A file silent about its population runs its base's, real places included.
        if let Some(base) = base {
            return Some(base.clone());
        }
    }
    // Synthetic keys left out come from a synthetic base; a base on real places has none.
    let base = base.filter(|b| b.places.is_none());
    let pcns = setting(
        &p.pcns,
        "population.pcns",
        base.map_or(limits::DEFAULT_PCNS, |b| b.pcns),
        limits::PCNS,
        sink,
    );
    let practices = setting(
        &p.practices_per_pcn,
        "population.practices_per_pcn",
        base.map_or(limits::DEFAULT_PRACTICES_PER_PCN, |b| b.practices_per_pcn),
        limits::PRACTICES_PER_PCN,
        sink,
    );
    let patients = setting(
        &p.patients_per_practice,
        "population.patients_per_practice",
        base.map_or(limits::DEFAULT_PATIENTS_PER_PRACTICE, |b| {
            b.patients_per_practice
        }),
        limits::PATIENTS_PER_PRACTICE,
        sink,
    );
    let places = if real {
        Some(super::places::resolve_places(p, synthetic_keys, dir, sink)?)
    } else {
        None
    };
    Some(Population {
        pcns: match &places {
            Some(selection) => u32::try_from(selection.indices.len()).unwrap_or(u32::MAX),
            None => pcns?,
        },
        practices_per_pcn: practices?,
        patients_per_practice: patients?,
        places,
    })
}

/// The file's own arms. `inherited` is the base's `[params]`, applied before the file's.
fn resolve_arms(
    raw: &RawScenario,
    inherited: Option<&Overrides>,
    sink: &mut Diagnostics,
) -> Vec<Arm> {
    if raw.arms.is_empty() {
        sink.error(
            &raw.arms_span,
            "arm",
            "no arms: add at least one [[arm]] table, e.g. `[[arm]]` then `name = \"no_sp\"`",
        );
        // Without an arm, `[params]` would go unchecked; check it on the defaults so that its
        // mistakes are reported in the same pass.
        let mut params = Params::default();
        if let Some(inherited) = inherited {
            inherited.apply(&mut params);
        }
        raw.params.apply(&mut params);
        check_consistency(&params, None, "params", &raw.params, sink);
    }
    let mut arms = Vec::new();
    for (i, arm) in raw.arms.iter().enumerate() {
        let prefix = format!("arm[{i}]");
        let name = arm_name(arm, &prefix, &raw.arms[..i], sink);
        let preset = arm_preset(arm, &prefix, name, sink);
        // An arm with a broken name or preset still has its parameters checked (on the
        // preset's values if it has one, else on the defaults), so one run of `validate` shows
        // every mistake.
        let mut params = Params::default();
        if let Some(preset) = preset {
            preset.apply(&mut params);
        }
        if let Some(inherited) = inherited {
            inherited.apply(&mut params);
        }
        raw.params.apply(&mut params);
        arm.overrides.apply(&mut params);
        check_consistency(&params, Some(arm), &prefix, &raw.params, sink);
        let allocation = arm_allocation(arm, &prefix, sink);
        if let (Some(name), Some(preset), Some(lw_allocation)) = (name, preset, allocation) {
            arms.push(Arm {
                name: name.to_string(),
                description: arm.description.as_ref().map(|d| d.value.clone()),
                preset,
                lw_allocation,
                overrides: arm.overrides.clone(),
                params,
            });
        }
    }
    arms
}

/// The base's arms, re-resolved with this file's `[params]` on top of the base's; a broken
/// cross-parameter rule is reported at this file's override of the key (or its start).
fn inherit_arms(base: &Scenario, raw: &RawScenario, sink: &mut Diagnostics) -> Vec<Arm> {
    base.arms
        .iter()
        .map(|arm| {
            let mut params = Params::default();
            arm.preset.apply(&mut params);
            base.params.apply(&mut params);
            raw.params.apply(&mut params);
            arm.overrides.apply(&mut params);
            check_consistency(
                &params,
                None,
                &format!("params ({})", arm.name),
                &raw.params,
                sink,
            );
            Arm {
                params,
                ..arm.clone()
            }
        })
        .collect()
}

fn arm_name<'a>(
    arm: &'a RawArm,
    prefix: &str,
    earlier: &[RawArm],
    sink: &mut Diagnostics,
) -> Option<&'a str> {
    let path = format!("{prefix}.name");
    let Some(At { value: name, span }) = &arm.name else {
        sink.error(&arm.span, &path, "missing: every arm needs a name");
        return None;
    };
    let valid = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if !valid {
        sink.error(
            span,
            &path,
            format!("`{name}` is not a valid arm name: use letters, digits, `_` and `-`"),
        );
        return None;
    }
    if let Some(j) = earlier
        .iter()
        .position(|a| a.name.as_ref().is_some_and(|n| n.value == *name))
    {
        sink.error(
            span,
            &path,
            format!("duplicate arm name `{name}`: arm[{j}] has the same name"),
        );
        return None;
    }
    Some(name)
}

/// The arm's link-worker allocation, `per_pcn` unless it says otherwise.
fn arm_allocation(arm: &RawArm, prefix: &str, sink: &mut Diagnostics) -> Option<Allocation> {
    let Some(At { value, span }) = &arm.lw_allocation else {
        return Some(Allocation::PerPcn);
    };
    let allocation = Allocation::parse(value);
    if allocation.is_none() {
        let names = Allocation::ALL.map(Allocation::name);
        let mut message = format!(
            "unknown allocation `{value}`: expected one of {}",
            names.join(", ")
        );
        if let Some(near) = nearest_name(value, names.into_iter()) {
            message.push_str(&format!(" (did you mean `{near}`?)"));
        }
        sink.error(span, &format!("{prefix}.lw_allocation"), message);
    }
    allocation
}

fn preset_names() -> String {
    Preset::ALL.map(Preset::name).join(", ")
}

/// The arm's preset: the one it names, else the one its name is (an arm without a usable name
/// has no preset to infer, and its name error is already reported).
fn arm_preset(
    arm: &RawArm,
    prefix: &str,
    name: Option<&str>,
    sink: &mut Diagnostics,
) -> Option<Preset> {
    let path = format!("{prefix}.preset");
    match &arm.preset {
        Some(At { value, span }) => {
            let preset = Preset::from_name(value);
            if preset.is_none() {
                let mut message = format!(
                    "unknown preset `{value}`: expected one of {}",
                    preset_names()
                );
                if let Some(near) = nearest_name(value, Preset::ALL.iter().map(|p| p.name())) {
                    message.push_str(&format!(" (did you mean `{near}`?)"));
                }
                sink.error(span, &path, message);
            }
            preset
        }
        None => {
            let name = name?;
            let preset = Preset::from_name(name);
            if preset.is_none() {
                let span = arm
                    .name
                    .as_ref()
                    .map_or(arm.span.clone(), |n| n.span.clone());
                sink.error(
                    &span,
                    &path,
                    format!(
                        "missing: `{name}` is not a preset name, so the arm needs `preset = ...` (one of {})",
                        preset_names()
                    ),
                );
            }
            preset
        }
    }
}

/// Reports a broken cross-parameter rule where the user can fix it: at the arm's override of
/// the key, else at the `[params]` override, else at the arm (or the file's start when there is
/// no arm).
fn check_consistency(
    params: &Params,
    arm: Option<&RawArm>,
    prefix: &str,
    shared: &Overrides,
    sink: &mut Diagnostics,
) {
    let Err(broken) = params.check_consistency() else {
        return;
    };
    for (key, message) in broken {
        let own = arm.and_then(|a| a.overrides.find(key));
        let (path, span): (String, Range<usize>) = match own.or_else(|| shared.find(key)) {
            Some(o) => (o.key_path.clone(), o.key_span.clone()),
            None => (
                format!("{prefix}.{key}"),
                arm.map_or(0..0, |a| {
                    a.name.as_ref().map_or(a.span.clone(), |n| n.span.clone())
                }),
            ),
        };
        sink.error(&span, &path, message);
    }
}

/// The baseline arm: the one named, else `no_sp` if an arm has that name, else the first. Names
/// are checked against the file's arms as written (so an arm with another mistake does not also
/// make the baseline wrong), or against the base's arms when the file inherits them.
fn resolve_baseline(
    raw: &RawScenario,
    arms: &[Arm],
    inherited: bool,
    sink: &mut Diagnostics,
) -> Option<String> {
    let names: Vec<&str> = if inherited {
        arms.iter().map(|a| a.name.as_str()).collect()
    } else {
        raw.arms
            .iter()
            .filter_map(|a| a.name.as_ref().map(|n| n.value.as_str()))
            .collect()
    };
    match &raw.baseline {
        Some(At { value, span }) => {
            if names.contains(&value.as_str()) {
                return Some(value.clone());
            }
            let mut message = format!(
                "no arm is named `{value}`: the baseline must be one of the arms ({})",
                names.join(", ")
            );
            if let Some(near) = nearest_name(value, names.iter().copied()) {
                message.push_str(&format!(" (did you mean `{near}`?)"));
            }
            sink.error(span, "baseline", message);
            None
        }
        None if names.contains(&"no_sp") => Some("no_sp".to_string()),
        None => arms.first().map(|a| a.name.clone()),
    }
}
