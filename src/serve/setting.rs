//! What the page sends: a scenario id and `key = value` pairs whose keys are the scenario
//! file's own key paths (`params.lw_per_pcn`, `params.need_prevalence.money`,
//! `arm.belonging.preset`, `run.replicates`, `population.patients_per_practice`). The same pairs
//! make the page's URL, so a setting can be bookmarked. A setting becomes scenario TOML (the
//! shipped text with the pairs written in), which is parsed and validated by the same code as
//! a file: a bad value gets the message `sprx validate` would give. That TOML is also what the
//! page downloads.

use serde::Serialize;
use toml::{Table, Value};

use super::catalog::{Catalog, Entry};
use crate::params::find;
use crate::scenario::{Scenario, ScenarioError};

/// More pairs than every slot of every parameter of every arm: a client sending more is not
/// the page.
pub const MAX_PAIRS: usize = 2000;

/// Replicates of a live run when the setting does not say (the page always does).
pub const LIVE_REPLICATES: u32 = 10;

/// What a live run may cost, shown in the page. Larger runs are for `sprx run`.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct Bounds {
    /// Registered patients over all PCNs.
    pub patients: u64,
    pub replicates: u32,
    /// Service weeks.
    pub weeks: u32,
    pub warmup_weeks: u32,
}

impl Default for Bounds {
    /// Two default PCNs, a room's patience in replicates, ten years.
    fn default() -> Bounds {
        Bounds {
            patients: 100_000,
            replicates: 40,
            weeks: 520,
            warmup_weeks: 104,
        }
    }
}

/// A setting as the page sends it.
#[derive(Clone, Debug, Default)]
pub struct Setting {
    pub scenario: String,
    /// Key path and value as typed, in the order given.
    pub pairs: Vec<(String, String)>,
}

/// Why a setting cannot run: each maps to an HTTP status and a JSON message.
#[derive(Debug)]
pub enum SettingError {
    /// No such scenario id (404).
    UnknownScenario { id: String, known: Vec<String> },
    /// A key the page never sends, or a malformed request (400).
    BadRequest(String),
    /// The scenario text with the setting is invalid: the validator's own diagnostics (400).
    Invalid(ScenarioError),
    /// Valid, but beyond what a live run may cost (422).
    TooLarge(String),
}

impl SettingError {
    pub fn message(&self) -> String {
        match self {
            SettingError::UnknownScenario { id, known } => {
                format!(
                    "unknown scenario `{id}`; the page offers: {}",
                    known.join(", ")
                )
            }
            SettingError::BadRequest(m) | SettingError::TooLarge(m) => m.clone(),
            SettingError::Invalid(e) => e.to_string(),
        }
    }
}

impl Setting {
    /// Reads query pairs: `s` names the scenario; `client` (the page's own id) is not part of
    /// the setting; every other key is a scenario key path.
    pub fn from_pairs(pairs: Vec<(String, String)>) -> Result<Setting, SettingError> {
        if pairs.len() > MAX_PAIRS {
            return Err(SettingError::BadRequest(format!(
                "too many settings ({}; at most {MAX_PAIRS})",
                pairs.len()
            )));
        }
        let mut setting = Setting::default();
        for (key, value) in pairs {
            match key.as_str() {
                "s" => setting.scenario = value,
                "client" => {}
                _ => setting.pairs.push((key, value)),
            }
        }
        if setting.scenario.is_empty() {
            return Err(SettingError::BadRequest(
                "no scenario: the setting needs s=<scenario id>".to_string(),
            ));
        }
        Ok(setting)
    }
}

/// A setting made into a scenario: its TOML text and the validated scenario.
pub struct Composed {
    pub entry_id: String,
    /// File name for the download.
    pub file_name: String,
    pub toml: String,
    pub scenario: Scenario,
}

/// Writes the setting into its scenario's text and validates the result as a file.
pub fn compose(catalog: &Catalog, setting: &Setting) -> Result<Composed, SettingError> {
    let entry = catalog
        .get(&setting.scenario)
        .ok_or_else(|| SettingError::UnknownScenario {
            id: setting.scenario.clone(),
            known: catalog.entries.iter().map(|e| e.id.clone()).collect(),
        })?;
    let toml = scenario_text(entry, setting)?;
    let scenario = Scenario::parse(&toml, &entry.origin).map_err(SettingError::Invalid)?;
    Ok(Composed {
        entry_id: entry.id.clone(),
        file_name: file_name(&entry.origin),
        toml,
        scenario,
    })
}

/// The scenario's TOML with the setting written in, and a header saying where it came from.
pub fn scenario_text(entry: &Entry, setting: &Setting) -> Result<String, SettingError> {
    let mut doc: Table = entry.text.parse().map_err(|e| {
        SettingError::BadRequest(format!("the scenario `{}` cannot be edited: {e}", entry.id))
    })?;
    let mut pairs = setting.pairs.clone();
    if !pairs.iter().any(|(k, _)| k == "run.replicates") {
        let live = entry.scenario.run.replicates.min(LIVE_REPLICATES);
        pairs.push(("run.replicates".to_string(), live.to_string()));
    }
    for (key, value) in &pairs {
        apply(&mut doc, key, value)?;
    }
    let body = toml::to_string(&doc)
        .map_err(|e| SettingError::BadRequest(format!("cannot write the scenario: {e}")))?;
    Ok(format!(
        "# From `sprx serve`: scenario `{}` with the page's settings. Run it with\n\
         # `sprx run {}`, or check it with `sprx validate`.\n\n{body}",
        entry.id,
        file_name(&entry.origin)
    ))
}

/// Writes one pair into the document.
fn apply(doc: &mut Table, key: &str, text: &str) -> Result<(), SettingError> {
    let parts: Vec<&str> = key.split('.').collect();
    let value = value_of(text);
    match parts.as_slice() {
        ["run" | "population", name] => {
            table_at(doc, parts[0])?.insert((*name).to_string(), value);
            Ok(())
        }
        ["params", name, labels @ ..] => {
            // A lever for all arms must reach every arm: an arm's own value would win.
            if let Some(Value::Array(arms)) = doc.get_mut("arm") {
                for arm in arms.iter_mut().filter_map(Value::as_table_mut) {
                    arm.remove(*name);
                }
            }
            let params = table_at(doc, "params")?;
            set_param(params, name, labels, value)
        }
        ["arm", arm, name, labels @ ..] => {
            let table = arm_table(doc, arm)?;
            if find(name).is_some() {
                set_param(table, name, labels, value)
            } else {
                // `preset`, `lw_allocation`, `description`: the validator checks them.
                table.insert((*name).to_string(), value);
                Ok(())
            }
        }
        _ => Err(SettingError::BadRequest(format!(
            "unknown setting `{key}`: expected run.*, population.*, params.<parameter> or \
             arm.<arm name>.<key>"
        ))),
    }
}

/// The table under `key`, created if absent.
fn table_at<'a>(doc: &'a mut Table, key: &str) -> Result<&'a mut Table, SettingError> {
    doc.entry(key.to_string())
        .or_insert_with(|| Value::Table(Table::new()))
        .as_table_mut()
        .ok_or_else(|| SettingError::BadRequest(format!("`{key}` is not a table in the scenario")))
}

/// The `[[arm]]` table named `name`.
fn arm_table<'a>(doc: &'a mut Table, name: &str) -> Result<&'a mut Table, SettingError> {
    let Some(Value::Array(arms)) = doc.get_mut("arm") else {
        return Err(SettingError::BadRequest(format!(
            "this scenario takes its arms from its base: arm `{name}` cannot be set here"
        )));
    };
    let names: Vec<String> = arms
        .iter()
        .filter_map(|a| a.get("name").and_then(Value::as_str).map(str::to_string))
        .collect();
    arms.iter_mut()
        .filter_map(Value::as_table_mut)
        .find(|a| a.get("name").and_then(Value::as_str) == Some(name))
        .ok_or_else(|| {
            SettingError::BadRequest(format!(
                "unknown arm `{name}`; the scenario's arms are: {}",
                names.join(", ")
            ))
        })
}

/// Sets parameter `name` (or one labelled element of it) in `table`. A labelled element of a
/// parameter written as a full array turns the array into a table of labels first.
fn set_param(
    table: &mut Table,
    name: &str,
    labels: &[&str],
    value: Value,
) -> Result<(), SettingError> {
    let Some((first, rest)) = labels.split_first() else {
        table.insert(name.to_string(), value);
        return Ok(());
    };
    let dims = find(name).map_or(&[][..], |d| d.shape.dims());
    let slot = table
        .entry(name.to_string())
        .or_insert_with(|| Value::Table(Table::new()));
    if let (Value::Array(items), Some(names)) = (&*slot, dims.first()) {
        let labelled: Table = names
            .iter()
            .zip(items)
            .map(|(n, v)| ((*n).to_string(), v.clone()))
            .collect();
        *slot = Value::Table(labelled);
    }
    match slot {
        Value::Table(inner) => set_param(inner, first, rest, value),
        _ => {
            // A number where labels are given: the validator will say what is expected.
            *slot = Value::Table(Table::new());
            set_param(table, name, labels, value)
        }
    }
}

/// A value as typed in the page: a TOML value (number, boolean, array, quoted string), or else
/// a bare word taken as a string (preset names).
fn value_of(text: &str) -> Value {
    let text = text.trim();
    format!("v = {text}")
        .parse::<Table>()
        .ok()
        .and_then(|mut t| t.remove("v"))
        .unwrap_or_else(|| Value::String(text.to_string()))
}

/// The file name of an origin, for downloads.
fn file_name(origin: &str) -> String {
    std::path::Path::new(origin).file_name().map_or_else(
        || "scenario.toml".to_string(),
        |n| n.to_string_lossy().into_owned(),
    )
}

/// Refuses a valid scenario that is too large for a live run; the message gives the bound.
pub fn check_bounds(scenario: &Scenario, bounds: &Bounds) -> Result<(), SettingError> {
    let run = &scenario.run;
    let patients = scenario.patients();
    let over = |what: &str, value: u64, max: u64| {
        SettingError::TooLarge(format!(
            "{what} {value} is more than a live run allows ({max}); run it with `sprx run` \
             (download the scenario)"
        ))
    };
    if patients > bounds.patients {
        return Err(over("patients", patients, bounds.patients));
    }
    if run.replicates > bounds.replicates {
        return Err(over(
            "replicates",
            run.replicates.into(),
            bounds.replicates.into(),
        ));
    }
    if run.weeks > bounds.weeks {
        return Err(over("run.weeks", run.weeks.into(), bounds.weeks.into()));
    }
    if run.warmup_weeks > bounds.warmup_weeks {
        return Err(over(
            "run.warmup_weeks",
            run.warmup_weeks.into(),
            bounds.warmup_weeks.into(),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn setting(pairs: &[(&str, &str)]) -> Setting {
        Setting::from_pairs(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        )
        .expect("setting")
    }

    #[test]
    fn a_lever_for_all_arms_overrides_the_arms_own_values() {
        let catalog = Catalog::new(None).expect("catalog");
        let s = setting(&[("s", "success_breeds_demand"), ("params.lw_per_pcn", "5")]);
        let composed = compose(&catalog, &s).expect("valid");
        for arm in &composed.scenario.arms {
            assert_eq!(arm.params.lw_per_pcn, 5, "{}", arm.name);
        }
        assert_eq!(composed.scenario.run.replicates, LIVE_REPLICATES);
    }

    #[test]
    fn one_arm_and_one_label_can_be_set() {
        let catalog = Catalog::new(None).expect("catalog");
        let s = setting(&[
            ("s", "success_breeds_demand"),
            ("arm.belonging_2lw.lw_per_pcn", "4"),
            ("arm.bolted_on_2lw.preset", "fitting_in"),
            ("params.need_prevalence.money", "0.2"),
        ]);
        let c = compose(&catalog, &s).expect("valid");
        let arm = |n: &str| c.scenario.arms.iter().find(|a| a.name == n).expect(n);
        assert_eq!(arm("belonging_2lw").params.lw_per_pcn, 4);
        assert_eq!(arm("belonging_3lw").params.lw_per_pcn, 3);
        assert_eq!(arm("bolted_on_2lw").preset.name(), "fitting_in");
        assert_eq!(arm("no_sp").params.need_prevalence[2], 0.2);
    }

    #[test]
    fn a_bad_value_gets_the_validators_message() {
        let catalog = Catalog::new(None).expect("catalog");
        let s = setting(&[("s", "success_breeds_demand"), ("params.lw_per_pcm", "4")]);
        let Err(SettingError::Invalid(e)) = compose(&catalog, &s) else {
            panic!("expected invalid");
        };
        assert!(e.to_string().contains("did you mean `lw_per_pcn`"), "{e}");
    }
}
