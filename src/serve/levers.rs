//! The page's levers and its advanced panel, generated from the parameter registry (the
//! declarations behind `sprx params`): each lever's meaning, unit, range and default are the
//! registry's. Only the choice of which parameters are levers, and the few run settings that
//! are not model parameters, are written here.

use serde::Serialize;
use serde_json::{Value, json};

use super::catalog::{Catalog, Entry};
use super::setting::{Bounds, LIVE_REPLICATES};
use crate::params::{PRESET_PARAMS, Preset, REGISTRY, Stage, fmt_num};
use crate::report::charts::{BASELINE_COLOUR, PALETTE};

/// The model parameters the workshop moves, in the order the page shows them, each with the
/// short title the room sees (the list: posts, GP buy-in, inappropriate referrals,
/// funding follows the referral, readiness, caseload cap, supervision, the deprivation mix).
/// Meaning, unit and range come from the registry.
pub const LEVERS: [(&str, &str); 8] = [
    ("lw_per_pcn", "link-worker posts"),
    ("buy_in0", "GP buy-in"),
    ("inappropriate", "inappropriate referrals"),
    ("funding_follows", "funding follows the referral"),
    ("readiness_scale", "readiness"),
    ("caseload_max", "caseload cap"),
    ("supervision", "supervision"),
    ("deprivation_shares", "deprivation mix"),
];

/// Named deprivation mixes for the `deprivation_shares` lever (shares of patients in
/// quintiles 1, most deprived, to 5), so that one control keeps the shares summing to 1.
pub const DEPRIVATION_MIXES: [(&str, [f64; 5]); 4] = [
    ("England's average: a fifth in each quintile", [0.2; 5]),
    (
        "deprived: 40% in the most deprived quintile",
        [0.4, 0.25, 0.15, 0.12, 0.08],
    ),
    (
        "very deprived: 60% in the most deprived quintile",
        [0.6, 0.2, 0.1, 0.06, 0.04],
    ),
    (
        "affluent: 40% in the least deprived quintile",
        [0.08, 0.12, 0.15, 0.25, 0.4],
    ),
];

/// A run setting that is not a model parameter but a lever all the same.
#[derive(Serialize)]
struct RunLever {
    key: &'static str,
    label: &'static str,
    doc: &'static str,
    unit: &'static str,
    min: u64,
    max: u64,
    step: u64,
}

/// The run-setting levers; their upper limits are the live bounds.
fn run_levers(bounds: &Bounds) -> Vec<RunLever> {
    vec![
        RunLever {
            key: "run.replicates",
            label: "replicates",
            doc: "independent replicates: more narrow the bands, and take longer",
            unit: "replicates",
            min: 2,
            max: bounds.replicates.into(),
            step: 1,
        },
        RunLever {
            key: "population.patients_per_practice",
            label: "PCN size",
            doc: "registered patients per practice (synthetic PCNs)",
            unit: "patients per practice",
            min: 1000,
            max: 20_000,
            step: 200,
        },
        RunLever {
            key: "run.weeks",
            label: "service weeks",
            doc: "weeks of service reported, after the warm-up",
            unit: "weeks",
            min: 52,
            max: bounds.weeks.into(),
            step: 52,
        },
    ]
}

/// Every registry entry, as the page needs it for levers and the advanced panel.
fn registry() -> Vec<Value> {
    REGISTRY
        .iter()
        .map(|d| {
            json!({
                "name": d.name,
                "doc": d.doc.trim(),
                "unit": d.unit,
                "min": d.min,
                "max": d.max,
                "range": d.range_text(),
                "integer": d.kind == crate::params::Kind::Integer,
                "dims": d.shape.dims(),
                "default": d.default_slots(),
                "service": d.stage == Stage::Service,
                "preset": PRESET_PARAMS.contains(&d.name),
            })
        })
        .collect()
}

/// One scenario as the page lists it: narrative, arms with their resolved values (so that the
/// page can tell a lever that is equal in every arm from one that differs by arm), and size.
fn scenario_json(e: &Entry) -> Value {
    let s = &e.scenario;
    let narrative = s.narrative.clone().unwrap_or_default();
    let mut next = 0;
    let arms: Vec<Value> = s
        .arms
        .iter()
        .map(|a| {
            let colour = if a.name == s.baseline {
                BASELINE_COLOUR
            } else {
                next += 1;
                PALETTE[(next - 1) % PALETTE.len()]
            };
            let values: serde_json::Map<String, Value> = REGISTRY
                .iter()
                .map(|d| (d.name.to_string(), json!((d.get)(&a.params))))
                .collect();
            json!({
                "name": a.name,
                "description": a.description,
                "preset": a.preset.name(),
                "service": a.preset.has_service(),
                "colour": format!("#{:02x}{:02x}{:02x}", colour.0, colour.1, colour.2),
                "values": values,
            })
        })
        .collect();
    json!({
        "id": e.id,
        "shipped": e.shipped,
        "title": narrative.title.clone().or_else(|| s.name.clone()).unwrap_or_else(|| e.id.clone()),
        "description": s.description,
        "question": narrative.question,
        "show": narrative.show,
        "expect": narrative.expect,
        "baseline": s.baseline,
        "arms": arms,
        "patients": s.patients(),
        "real_places": s.population.places.is_some(),
        "run": {
            "replicates": s.run.replicates.min(LIVE_REPLICATES),
            "weeks": s.run.weeks,
            "warmup_weeks": s.run.warmup_weeks,
            "seed": s.run.seed,
        },
        "population": {
            "pcns": s.population.pcns,
            "practices_per_pcn": s.population.practices_per_pcn,
            "patients_per_practice": s.population.patients_per_practice,
        },
    })
}

/// Everything the page is built from: scenarios, registry, levers, presets, bounds.
pub fn catalog_json(catalog: &Catalog, bounds: &Bounds) -> Value {
    json!({
        "version": crate::output::VERSION,
        "scenarios": catalog.entries.iter().map(scenario_json).collect::<Vec<_>>(),
        "registry": registry(),
        "levers": LEVERS
            .iter()
            .map(|(name, title)| json!({ "name": name, "title": title }))
            .collect::<Vec<_>>(),
        "run_levers": run_levers(bounds),
        "deprivation_mixes": DEPRIVATION_MIXES
            .iter()
            .map(|(label, shares)| json!({
                "label": label,
                "value": format!("[{}]", shares.map(fmt_num).join(", ")),
            }))
            .collect::<Vec<_>>(),
        "presets": Preset::ALL.iter().filter(|p| p.has_service()).map(|p| p.name()).collect::<Vec<_>>(),
        "bounds": bounds,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_lever_is_a_registered_parameter() {
        for (name, _) in LEVERS {
            assert!(crate::params::find(name).is_some(), "{name}");
        }
        let shares = crate::params::find("deprivation_shares").expect("registered");
        for (label, mix) in DEPRIVATION_MIXES {
            assert!((mix.iter().sum::<f64>() - 1.0).abs() < 1e-9, "{label}");
            assert!(
                mix.iter().all(|&v| shares.check_element(v).is_ok()),
                "{label}"
            );
        }
    }
}
