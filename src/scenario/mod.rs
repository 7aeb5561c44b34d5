//! Scenario files: run settings (seed, replicates, weeks, population) apart from model
//! parameters, and the arms to compare, each a preset plus overrides. A TOML file is read into a
//! low form that mirrors it ([`raw`]), then validated into a [`Scenario`] ([`resolve`]) that
//! turns into an engine [`Plan`]. Every error names the file, line and column, the key path and
//! what is allowed; see `docs/cli.md` for the file format.

mod error;
pub(crate) mod input;
mod places;
mod raw;
mod resolve;
mod values;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::{Serialize, Serializer};
use sha2::{Digest, Sha256};
use toml::de::DeTable;

pub use error::{Diagnostic, MAX_DIAGNOSTICS, ScenarioError};
pub use values::{Labelled, Override, Overrides};

use crate::engine::{Allocation, ArmPlan, PcnPlan, Plan};
use crate::model::pcn::Layout;
use crate::params::{Params, Preset, REGISTRY};
use crate::places::Places;
use input::Diagnostics;

/// The default scenario: the four arms of MODEL.md on one PCN of 48,000 patients.
pub const DEFAULT_SCENARIO: &str = include_str!("../../scenarios/default.toml");

/// How the embedded default scenario is named in messages and the manifest.
pub const DEFAULT_ORIGIN: &str = "embedded:default";

/// Limits and defaults of the run settings. The limits keep runs within what the engine's
/// integer types hold and catch typos (an extra zero) before hours of computing.
pub mod limits {
    use std::ops::RangeInclusive;

    pub const REPLICATES: RangeInclusive<u32> = 1..=1_000_000;
    pub const WEEKS: RangeInclusive<u32> = 1..=5200;
    pub const WARMUP_WEEKS: RangeInclusive<u32> = 0..=5200;
    pub const PCNS: RangeInclusive<u32> = 1..=100_000;
    pub const PRACTICES_PER_PCN: RangeInclusive<u32> = 1..=1000;
    pub const PATIENTS_PER_PRACTICE: RangeInclusive<u32> = 1..=1_000_000;

    // The engine indexes a PCN's patients by u32.
    const _: () = assert!(
        *PRACTICES_PER_PCN.end() as u64 * *PATIENTS_PER_PRACTICE.end() as u64 <= u32::MAX as u64
    );

    pub const DEFAULT_REPLICATES: u32 = 100;
    pub const DEFAULT_WEEKS: u32 = 260;
    pub const DEFAULT_WARMUP_WEEKS: u32 = 52;
    pub const DEFAULT_PCNS: u32 = 1;
    pub const DEFAULT_PRACTICES_PER_PCN: u32 = 5;
    pub const DEFAULT_PATIENTS_PER_PRACTICE: u32 = 9600;
}

/// A validated scenario. Serialises as "the scenario as resolved" in `summary.json`.
#[derive(Clone, Debug, Serialize)]
pub struct Scenario {
    pub name: Option<String>,
    pub description: Option<String>,
    /// The arm paired differences are taken against.
    pub baseline: String,
    pub run: RunSettings,
    pub population: Population,
    /// Overrides from `[params]`, applied to every arm.
    pub params: Overrides,
    pub arms: Vec<Arm>,
    pub narrative: Option<Narrative>,
    /// The scenario this one overrides (its origin): the embedded default unless the file names
    /// another with `base = …`; `None` only for the embedded default itself.
    #[serde(skip)]
    pub base: Option<String>,
    /// The file as named by the user, or [`DEFAULT_ORIGIN`].
    #[serde(skip)]
    pub origin: String,
    /// SHA-256 of the file text, hex.
    #[serde(skip)]
    pub sha256: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct RunSettings {
    pub seed: u64,
    pub replicates: u32,
    /// Service weeks, after the warm-up.
    pub weeks: u32,
    pub warmup_weeks: u32,
}

#[derive(Clone, Debug, Serialize)]
pub struct Population {
    /// Synthetic PCNs (ignored when `places` is given).
    pub pcns: u32,
    pub practices_per_pcn: u32,
    pub patients_per_practice: u32,
    /// Real places instead of synthetic PCNs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub places: Option<PlaceSelection>,
}

/// Real PCNs from a places table, as the scenario selected them.
#[derive(Clone, Debug, Serialize)]
pub struct PlaceSelection {
    /// `"england"` (the embedded table), or the path of a user's table as the scenario wrote
    /// it (relative to the scenario file).
    pub source: String,
    /// A user's table: its path as the run resolved it (recorded in the run's manifest, not
    /// in `summary.json`, whose bytes must not depend on the working directory), and the
    /// SHA-256 of its bytes, so that `summary.json` says exactly which table was run. Absent
    /// for England, whose table is part of the sprx version.
    #[serde(skip)]
    pub path: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    pub region: Vec<String>,
    pub icb: Vec<String>,
    pub pcn: Vec<String>,
    /// Indices of the selected PCNs in the table, in table order.
    #[serde(skip)]
    pub indices: Vec<usize>,
    /// A user's table, read when the scenario was; `None` for England.
    #[serde(skip)]
    pub table: Option<Arc<Places>>,
}

/// Text for training scenarios and reports; sprx itself does not interpret it.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Narrative {
    pub title: Option<String>,
    pub show: Option<String>,
    pub expect: Option<String>,
    pub question: Option<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Arm {
    pub name: String,
    pub description: Option<String>,
    #[serde(serialize_with = "preset_name")]
    pub preset: Preset,
    /// How the arm's link-worker FTE is shared among PCNs (`lw_allocation`).
    #[serde(serialize_with = "allocation_name", skip_serializing_if = "is_per_pcn")]
    pub lw_allocation: Allocation,
    /// This arm's own overrides (after the preset and `[params]`).
    pub overrides: Overrides,
    /// Every parameter, resolved.
    #[serde(serialize_with = "resolved_params")]
    pub params: Params,
}

fn allocation_name<S: Serializer>(a: &Allocation, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(a.name())
}

/// The default allocation is left out of `summary.json`, as before allocations existed.
fn is_per_pcn(a: &Allocation) -> bool {
    *a == Allocation::PerPcn
}

fn preset_name<S: Serializer>(preset: &Preset, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(preset.name())
}

/// Every parameter by name, in registry order, with labelled arrays.
fn resolved_params<S: Serializer>(params: &Params, s: S) -> Result<S::Ok, S::Error> {
    use serde::ser::SerializeMap;
    let mut map = s.serialize_map(Some(REGISTRY.len()))?;
    for def in REGISTRY {
        let slots = (def.get)(params);
        let value = Labelled {
            def,
            dims: def.shape.dims(),
            slots: &slots,
        };
        map.serialize_entry(def.name, &value)?;
    }
    map.end()
}

impl Scenario {
    /// Parses and validates scenario text; `origin` names it in errors.
    pub fn parse(source: &str, origin: &str) -> Result<Scenario, ScenarioError> {
        let dir = Path::new(origin).parent().unwrap_or(Path::new("."));
        let chain: Vec<PathBuf> = std::fs::canonicalize(origin).into_iter().collect();
        Scenario::parse_in(source, origin, dir, &chain)
    }

    /// [`Scenario::parse`] with `dir` for a relative `base = "path"`, and the files whose bases
    /// are being read (`chain`, canonical paths), so that a cycle of bases is an error.
    fn parse_in(
        source: &str,
        origin: &str,
        dir: &Path,
        chain: &[PathBuf],
    ) -> Result<Scenario, ScenarioError> {
        let mut sink = Diagnostics::new(origin, source);
        let (doc, syntax_errors) = DeTable::parse_recoverable(source);
        if !syntax_errors.is_empty() {
            // What the parser recovered would only add confusing follow-on errors.
            for e in syntax_errors {
                let span = e.span().unwrap_or(0..0);
                sink.error(&span, "", format!("invalid TOML: {}", e.message()));
            }
            return Err(sink.into_error());
        }
        let scenario = Scenario::read_table(
            doc.get_ref(),
            doc.span(),
            origin,
            source,
            dir,
            chain,
            &mut sink,
        );
        scenario.ok_or_else(|| sink.into_error())
    }

    /// Reads and validates a scenario written as a TOML table (`table`, at `span` of the text
    /// `sink` reports against): a whole file, or a table embedded in another file such as a
    /// sweep's inline `[base]`. Errors go to `sink`; `hashed` is the text the scenario's
    /// SHA-256 is taken of.
    pub(crate) fn from_table(
        table: &DeTable,
        span: std::ops::Range<usize>,
        origin: &str,
        hashed: &str,
        dir: &Path,
        sink: &mut Diagnostics,
    ) -> Option<Scenario> {
        Scenario::read_table(table, span, origin, hashed, dir, &[], sink)
    }

    fn read_table(
        table: &DeTable,
        span: std::ops::Range<usize>,
        origin: &str,
        hashed: &str,
        dir: &Path,
        chain: &[PathBuf],
        sink: &mut Diagnostics,
    ) -> Option<Scenario> {
        let before = sink.len();
        let raw = raw::read(table, span, sink);
        // The embedded default is the root of every chain of bases.
        let base = if origin == DEFAULT_ORIGIN {
            None
        } else {
            Some(Scenario::base_of(&raw, dir, chain, sink)?)
        };
        let file = resolve::FileContext {
            origin,
            sha256: sha256_hex(hashed),
            dir,
        };
        resolve::resolve(raw, base.as_ref(), file, before, sink)
    }

    /// The scenario a file overrides: the one its `base` names (`"default"` or a path relative
    /// to the file), else the embedded default. A base that cannot be read or is invalid is an
    /// error at the `base` key.
    fn base_of(
        raw: &raw::RawScenario,
        dir: &Path,
        chain: &[PathBuf],
        sink: &mut Diagnostics,
    ) -> Option<Scenario> {
        let Some(base) = &raw.base else {
            return Scenario::default_embedded().ok();
        };
        if base.value == "default" {
            return Scenario::default_embedded().ok();
        }
        let path = dir.join(&base.value);
        let loaded = std::fs::read_to_string(&path)
            .map_err(|e| format!("cannot read base scenario {}: {e}", path.display()))
            .and_then(|text| {
                let canonical = std::fs::canonicalize(&path).unwrap_or_else(|_| path.clone());
                if chain.contains(&canonical) {
                    return Err(format!(
                        "{} is this file or one of its bases: a cycle of bases",
                        path.display()
                    ));
                }
                let mut longer = chain.to_vec();
                longer.push(canonical);
                let here = path.parent().unwrap_or(Path::new("."));
                Scenario::parse_in(&text, &path.display().to_string(), here, &longer)
                    .map_err(|e| format!("the base scenario is invalid:\n{e}"))
            });
        match loaded {
            Ok(scenario) => Some(scenario),
            Err(message) => {
                sink.error(&base.span, "base", message);
                None
            }
        }
    }

    /// Reads and validates a scenario file.
    pub fn load(path: &Path) -> Result<Scenario, ScenarioError> {
        let source = std::fs::read_to_string(path).map_err(|source| ScenarioError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Scenario::parse(&source, &path.display().to_string())
    }

    /// The embedded default scenario ([`DEFAULT_SCENARIO`]).
    pub fn default_embedded() -> Result<Scenario, ScenarioError> {
        Scenario::parse(DEFAULT_SCENARIO, DEFAULT_ORIGIN)
    }

    /// Index of the baseline arm.
    pub fn baseline_index(&self) -> usize {
        // Validation guarantees the baseline names an arm.
        self.arms
            .iter()
            .position(|a| a.name == self.baseline)
            .unwrap_or(0)
    }

    /// Registered patients in the whole system.
    pub fn patients(&self) -> u64 {
        let p = &self.population;
        if p.places.is_some() {
            return self.plan_pcns().iter().map(|pcn| pcn.patients()).sum();
        }
        u64::from(p.pcns) * u64::from(p.practices_per_pcn) * u64::from(p.patients_per_practice)
    }

    /// The PCNs the engine runs: the selected real places, or identical synthetic PCNs.
    fn plan_pcns(&self) -> Vec<PcnPlan> {
        let p = &self.population;
        match &p.places {
            // Validation loaded the table, so it is there (a failure here leaves no PCN, which
            // the engine reports).
            Some(selection) => places::plan_pcns(selection),
            None => Plan::synthetic_pcns(
                p.pcns,
                &Layout::uniform(p.practices_per_pcn, p.patients_per_practice),
            ),
        }
    }

    /// What the engine runs.
    pub fn plan(&self) -> Plan {
        Plan {
            seed: self.run.seed,
            replicates: self.run.replicates,
            weeks: self.run.weeks,
            warmup_weeks: self.run.warmup_weeks,
            pcns: self.plan_pcns(),
            arms: self
                .arms
                .iter()
                .map(|a| ArmPlan {
                    name: a.name.clone(),
                    service: a.preset.has_service(),
                    params: a.params.clone(),
                    allocation: a.lw_allocation,
                })
                .collect(),
            baseline: self.baseline_index(),
            engine: crate::engine::Engine::default(),
        }
    }
}

/// SHA-256 of a text, as lowercase hex.
pub fn sha256_hex(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

#[cfg(test)]
mod tests;
