//! Sweep files: a base scenario, the parameters to vary, a sampling design and the metrics of
//! interest. The TOML is read with its positions kept, so that every error names the file, the
//! line and column, the key and what is allowed, like scenario errors do.
//!
//! ```toml
//! base = "scenarios/default.toml"        # relative to this file; or an inline [base] table
//! metrics = ["belonging - no_sp : gp_consults_per_1000_per_year", "belonging : wellbeing_mean"]
//!
//! [design]
//! kind = "morris"          # grid | lhs | morris | sobol
//! trajectories = 10        # grid: levels; lhs: points; morris: trajectories (+ levels);
//! replicates = 4           # sobol: base_samples
//! seed = 1                 # default: the base scenario's seed
//!
//! [[parameter]]
//! name = "arm.belonging.lw_per_pcn"   # arm prefix optional; element suffix optional
//! range = [1, 6]                      # default: the registry's valid range; or values = [...]
//! ```
//!
//! A bare metric name (`"wellbeing_mean"`) stands for that metric in every arm, in scenario
//! order. A parameter without an arm prefix is set in every arm (presets included); without an
//! element suffix, every element of a vector parameter takes the value.

use std::ops::Range;
use std::path::Path;

use toml::Spanned;
use toml::de::{DeArray, DeTable, DeValue};

use super::SweepError;
use super::design::Design;
use crate::metrics::summary::{SUMMARY_METRICS, metric_index};
use crate::params::{Kind, ParamDef, REGISTRY, element_slots, find, fmt_num, slot_label};
use crate::scenario::input::{Diagnostics, nearest_name, number, type_name, unknown_key, whole};
use crate::scenario::{Scenario, ScenarioError, sha256_hex};

const TOP_KEYS: [&str; 4] = ["base", "metrics", "design", "parameter"];
const DESIGN_KEYS: [&str; 9] = [
    "kind",
    "levels",
    "points",
    "trajectories",
    "base_samples",
    "replicates",
    "seed",
    "bootstrap",
    "top",
];
const PARAMETER_KEYS: [&str; 3] = ["name", "range", "values"];
const KINDS: [&str; 4] = ["grid", "lhs", "morris", "sobol"];

/// Default number of bootstrap resamples for sensitivity intervals.
pub const DEFAULT_BOOTSTRAP: usize = 1000;
/// Default number of Morris grid levels.
pub const DEFAULT_MORRIS_LEVELS: usize = 4;
/// Largest number of replicates per point.
pub const MAX_REPLICATES: u32 = 100_000;

/// A validated sweep.
#[derive(Clone, Debug)]
pub struct Sweep {
    /// The sweep file as named by the user.
    pub origin: String,
    /// SHA-256 of the sweep file text, followed by the base file's text if it is separate.
    pub sha256: String,
    pub base: Scenario,
    pub params: Vec<SweepParam>,
    pub design: Design,
    /// Replicates per point, numbered 0..replicates at every point (common random numbers).
    pub replicates: u32,
    pub seed: u64,
    pub bootstrap: usize,
    pub metrics: Vec<MetricSpec>,
}

/// One varied parameter.
#[derive(Clone)]
pub struct SweepParam {
    /// As written canonically, e.g. `arm.belonging.need_prevalence.money`.
    pub label: String,
    pub def: &'static ParamDef,
    /// Slots of the parameter the value is written to.
    pub slots: Range<usize>,
    /// Arm index, or `None` for every arm.
    pub arm: Option<usize>,
    pub domain: Domain,
}

/// Where a parameter's values come from.
#[derive(Clone, Debug, PartialEq)]
pub enum Domain {
    /// A closed interval; integer parameters take whole numbers inside it.
    Range { lo: f64, hi: f64 },
    /// An explicit list.
    Values(Vec<f64>),
}

impl std::fmt::Debug for SweepParam {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SweepParam")
            .field("label", &self.label)
            .field("slots", &self.slots)
            .field("arm", &self.arm)
            .field("domain", &self.domain)
            .finish()
    }
}

impl SweepParam {
    /// Maps a unit coordinate to a value. Reals: `lo + u (hi − lo)`. Whole numbers and value
    /// lists: the interval is cut into one equal-width bin per value, so each value is equally
    /// likely under LHS, Morris and Sobol, and a grid of `n` levels over `n` values hits each.
    pub fn value(&self, u: f64) -> f64 {
        let u = u.clamp(0.0, 1.0);
        let bin = |n: usize| ((u * n as f64).floor() as usize).min(n.saturating_sub(1));
        match &self.domain {
            Domain::Values(v) => v[bin(v.len())],
            Domain::Range { lo, hi } if self.def.kind == Kind::Integer => {
                let n = (hi - lo) as usize + 1;
                lo + bin(n) as f64
            }
            Domain::Range { lo, hi } => lo + u * (hi - lo),
        }
    }

    /// How many distinct values the parameter can take, if finite.
    fn distinct(&self) -> Option<usize> {
        match &self.domain {
            Domain::Values(v) => Some(v.len()),
            Domain::Range { lo, hi } if self.def.kind == Kind::Integer => {
                Some((hi - lo) as usize + 1)
            }
            Domain::Range { .. } => None,
        }
    }
}

/// A metric of interest: one arm's summary metric, or a paired difference between two arms.
#[derive(Clone, Debug, PartialEq)]
pub struct MetricSpec {
    /// `arm:metric` or `arm-other:metric`.
    pub label: String,
    /// Index in [`SUMMARY_METRICS`].
    pub metric: usize,
    pub arm: usize,
    /// Paired difference against this arm, replicate by replicate.
    pub minus: Option<usize>,
}

/// The diagnostics collected while reading a sweep file, as an error.
fn sweep_error(sink: Diagnostics) -> SweepError {
    let (diagnostics, omitted) = sink.into_sorted();
    SweepError::Invalid {
        diagnostics,
        omitted,
    }
}

/// What the raw `[design]` table says.
#[derive(Default)]
struct RawDesign {
    span: Range<usize>,
    kind: Option<Spanned<String>>,
    levels: Option<(Vec<usize>, bool, Range<usize>)>,
    points: Option<usize>,
    trajectories: Option<usize>,
    base_samples: Option<usize>,
    replicates: Option<u32>,
    seed: Option<u64>,
    bootstrap: Option<usize>,
    /// Sizes given with their key, to tell the user which ones the chosen kind ignores.
    sizes: Vec<(&'static str, Range<usize>)>,
}

impl Sweep {
    /// Reads and validates a sweep file.
    pub fn load(path: &Path) -> Result<Sweep, SweepError> {
        let source = std::fs::read_to_string(path).map_err(|source| SweepError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let dir = path.parent().unwrap_or(Path::new("."));
        Sweep::parse(&source, &path.display().to_string(), dir)
    }

    /// Parses and validates sweep text; `origin` names it in errors and `dir` is where a
    /// `base = "…"` path is relative to.
    pub fn parse(source: &str, origin: &str, dir: &Path) -> Result<Sweep, SweepError> {
        let mut sink = Diagnostics::new(origin, source);
        let (doc, syntax) = DeTable::parse_recoverable(source);
        if !syntax.is_empty() {
            for e in syntax {
                let span = e.span().unwrap_or(0..0);
                sink.error(&span, "", format!("invalid TOML: {}", e.message()));
            }
            return Err(sweep_error(sink));
        }
        let mut base: Option<(Scenario, String)> = None;
        let mut base_error: Option<ScenarioError> = None;
        let mut base_seen = false;
        let mut metrics_raw: Option<&Spanned<DeValue>> = None;
        let mut params_raw: Option<&Spanned<DeValue>> = None;
        let mut design = RawDesign {
            span: 0..0,
            ..RawDesign::default()
        };
        let mut design_seen = false;
        for (key, value) in doc.get_ref().iter() {
            let name = key.get_ref().as_ref();
            match name {
                "base" => {
                    base_seen = true;
                    match value.get_ref() {
                        DeValue::String(p) => {
                            let file = dir.join(p.as_ref());
                            match std::fs::read_to_string(&file) {
                                Ok(text) => {
                                    match Scenario::parse(&text, &file.display().to_string()) {
                                        Ok(s) => base = Some((s, text)),
                                        Err(e) => base_error = Some(e),
                                    }
                                }
                                Err(e) => sink.error(
                                    &value.span(),
                                    "base",
                                    format!("cannot read base scenario {}: {e}", file.display()),
                                ),
                            }
                        }
                        DeValue::Table(t) => {
                            // Read in place: errors point into the sweep file, keys as `base.…`.
                            let scenario = sink.with_key_prefix("base.", |sink| {
                                Scenario::from_table(
                                    t,
                                    value.span(),
                                    &format!("{origin} [base]"),
                                    source,
                                    dir,
                                    sink,
                                )
                            });
                            if let Some(s) = scenario {
                                base = Some((s, String::new()));
                            }
                        }
                        other => sink.error(
                            &value.span(),
                            "base",
                            format!(
                                "expected a scenario path (a string) or a [base] table, got {}",
                                type_name(other)
                            ),
                        ),
                    }
                }
                "metrics" => metrics_raw = Some(value),
                "parameter" => params_raw = Some(value),
                "design" => {
                    design_seen = true;
                    design.span = key.span();
                    match value.get_ref() {
                        DeValue::Table(t) => read_design(t, &mut design, &mut sink),
                        other => sink.error(
                            &value.span(),
                            "design",
                            format!("expected a table ([design]), got {}", type_name(other)),
                        ),
                    }
                }
                _ => {
                    let message = if DESIGN_KEYS.contains(&name) {
                        format!("unknown key: `{name}` belongs in [design]")
                    } else if find(name).is_some() {
                        format!(
                            "unknown key: `{name}` is a model parameter; vary it in a [[parameter]] table or set it in the base scenario"
                        )
                    } else {
                        unknown_key(name, &TOP_KEYS)
                    };
                    sink.error(&key.span(), name, message);
                }
            }
        }
        if !base_seen {
            sink.error(
                &(0..0),
                "base",
                "missing key: a base scenario, `base = \"path.toml\"` or a [base] table",
            );
        }
        if !design_seen {
            sink.error(
                &(0..0),
                "design",
                "missing table [design] (kind = \"grid\" | \"lhs\" | \"morris\" | \"sobol\")",
            );
        }
        if let Some(e) = base_error {
            // A separate base file has its own diagnostics; the sweep file's follow them.
            return Err(match e {
                ScenarioError::Invalid {
                    mut diagnostics,
                    omitted,
                } if !sink.is_empty() => {
                    let (mine, also_omitted) = sink.into_sorted();
                    diagnostics.extend(mine);
                    SweepError::Invalid {
                        diagnostics,
                        omitted: omitted + also_omitted,
                    }
                }
                e => SweepError::Scenario(e),
            });
        }
        let Some((base, base_text)) = base else {
            return Err(sweep_error(sink));
        };
        let arm_names: Vec<&str> = base.arms.iter().map(|a| a.name.as_str()).collect();
        let params = match params_raw {
            Some(v) => read_parameters(v, &arm_names, &mut sink),
            None => {
                sink.error(
                    &(0..0),
                    "parameter",
                    "missing [[parameter]] tables: name at least one parameter to vary",
                );
                Vec::new()
            }
        };
        let metrics = match metrics_raw {
            Some(v) => read_metrics(v, &arm_names, &mut sink),
            None => {
                sink.error(
                    &(0..0),
                    "metrics",
                    "missing key: metrics = [\"ARM : metric\", \"ARM - OTHER : metric\", ...]",
                );
                Vec::new()
            }
        };
        let built = if design_seen {
            build_design(&design, &params, &mut sink)
        } else {
            None
        };
        if !sink.is_empty() {
            return Err(sweep_error(sink));
        }
        let Some(built) = built else {
            return Err(sweep_error(sink));
        };
        let mut hashed = source.to_string();
        hashed.push_str(&base_text);
        Ok(Sweep {
            origin: origin.to_string(),
            sha256: sha256_hex(&hashed),
            replicates: design.replicates.unwrap_or(base.run.replicates),
            seed: design.seed.unwrap_or(base.run.seed),
            bootstrap: design.bootstrap.unwrap_or(DEFAULT_BOOTSTRAP),
            base,
            params,
            design: built,
            metrics,
        })
    }
}

fn read_design(table: &DeTable, d: &mut RawDesign, sink: &mut Diagnostics) {
    for (key, value) in table.iter() {
        let name = key.get_ref().as_ref();
        let path = format!("design.{name}");
        let v = value.get_ref();
        let span = value.span();
        let size = |sink: &mut Diagnostics, max: u64| match whole(v, 1, max) {
            Ok(n) => Some(n as usize),
            Err(m) => {
                sink.error(&span, &path, m);
                None
            }
        };
        match name {
            "kind" => match v {
                DeValue::String(s) if KINDS.contains(&s.as_ref()) => {
                    d.kind = Some(Spanned::new(span.clone(), s.to_string()));
                }
                DeValue::String(s) => {
                    let mut m =
                        format!("unknown design `{s}`: expected one of {}", KINDS.join(", "));
                    if let Some(n) = nearest_name(s, KINDS.iter().copied()) {
                        m.push_str(&format!(" (did you mean `{n}`?)"));
                    }
                    sink.error(&span, &path, m);
                }
                other => sink.error(
                    &span,
                    &path,
                    format!("expected a string, got {}", type_name(other)),
                ),
            },
            "levels" => {
                d.sizes.push(("levels", span.clone()));
                match v {
                    DeValue::Array(items) => {
                        let mut out = Vec::new();
                        for item in items.iter() {
                            match whole(item.get_ref(), 1, 1 << 20) {
                                Ok(n) => out.push(n as usize),
                                Err(m) => sink.error(&item.span(), &path, m),
                            }
                        }
                        d.levels = Some((out, true, span.clone()));
                    }
                    _ => {
                        if let Some(n) = size(sink, 1 << 20) {
                            d.levels = Some((vec![n], false, span.clone()));
                        }
                    }
                }
            }
            "points" => {
                d.sizes.push(("points", span.clone()));
                d.points = size(sink, 1 << 24);
            }
            "trajectories" => {
                d.sizes.push(("trajectories", span.clone()));
                d.trajectories = size(sink, 1 << 24);
            }
            "base_samples" => {
                d.sizes.push(("base_samples", span.clone()));
                d.base_samples = size(sink, 1 << 16);
            }
            "replicates" => d.replicates = size(sink, u64::from(MAX_REPLICATES)).map(|n| n as u32),
            "bootstrap" => match whole(v, 0, 1_000_000) {
                Ok(n) => d.bootstrap = Some(n as usize),
                Err(m) => sink.error(&span, &path, m),
            },
            "seed" => match v {
                DeValue::Integer(i) => match i128::from_str_radix(i.as_str(), i.radix()) {
                    Ok(s) if (0..=i128::from(u64::MAX)).contains(&s) => d.seed = Some(s as u64),
                    _ => sink.error(&span, &path, "expected a whole number in 0 ..= 2^64-1"),
                },
                other => sink.error(
                    &span,
                    &path,
                    format!("expected a whole number, got {}", type_name(other)),
                ),
            },
            _ => sink.error(&key.span(), &path, unknown_key(name, &DESIGN_KEYS)),
        }
    }
}

/// Which size key each kind reads.
fn size_key(kind: &str) -> &'static str {
    match kind {
        "grid" => "levels",
        "lhs" => "points",
        "morris" => "trajectories",
        _ => "base_samples",
    }
}

fn build_design(d: &RawDesign, params: &[SweepParam], sink: &mut Diagnostics) -> Option<Design> {
    let Some(kind) = &d.kind else {
        sink.error(
            &d.span,
            "design.kind",
            format!("missing key: expected one of {}", KINDS.join(", ")),
        );
        return None;
    };
    let kind_name = kind.get_ref().as_str();
    for (key, span) in &d.sizes {
        let allowed = *key == size_key(kind_name) || (kind_name == "morris" && *key == "levels");
        if !allowed {
            sink.error(
                span,
                &format!("design.{key}"),
                format!(
                    "not used by a {kind_name} design, whose size is `{}`",
                    size_key(kind_name)
                ),
            );
        }
    }
    let missing = |sink: &mut Diagnostics| {
        sink.error(
            &kind.span(),
            &format!("design.{}", size_key(kind_name)),
            format!(
                "missing key: a {kind_name} design needs `{}`",
                size_key(kind_name)
            ),
        );
        None
    };
    let k = params.len();
    match kind_name {
        "grid" => {
            let levels = match &d.levels {
                Some((l, true, span)) => {
                    if l.len() != k && k > 0 {
                        sink.error(
                            span,
                            "design.levels",
                            format!(
                                "expected one level count per [[parameter]] ({k}), got {}",
                                l.len()
                            ),
                        );
                        return None;
                    }
                    l.clone()
                }
                Some((l, false, _)) => vec![l[0]; k],
                None => {
                    // Without levels, a grid over finite sets takes every value.
                    let all: Option<Vec<usize>> = params.iter().map(|p| p.distinct()).collect();
                    match all {
                        Some(l) if k > 0 => l,
                        _ => return missing(sink),
                    }
                }
            };
            Some(Design::Grid { levels })
        }
        "lhs" => match d.points {
            Some(points) => Some(Design::Lhs { points }),
            None => missing(sink),
        },
        "morris" => {
            let levels = match &d.levels {
                Some((l, false, _)) => l[0],
                Some((_, true, span)) => {
                    sink.error(
                        span,
                        "design.levels",
                        "a Morris design takes one level count (an even number, default 4)",
                    );
                    return None;
                }
                None => DEFAULT_MORRIS_LEVELS,
            };
            if levels < 2 || levels % 2 == 1 {
                let span = d.levels.as_ref().map_or(kind.span(), |l| l.2.clone());
                sink.error(
                    &span,
                    "design.levels",
                    format!("Morris levels must be even and at least 2, got {levels}"),
                );
                return None;
            }
            match d.trajectories {
                Some(t) if t < 2 => {
                    sink.error(
                        &kind.span(),
                        "design.trajectories",
                        "a Morris design needs at least 2 trajectories",
                    );
                    None
                }
                Some(trajectories) => Some(Design::Morris {
                    trajectories,
                    levels,
                }),
                None => missing(sink),
            }
        }
        _ => match d.base_samples {
            Some(n) if n < 2 => {
                sink.error(
                    &kind.span(),
                    "design.base_samples",
                    "a Sobol design needs at least 2 base samples",
                );
                None
            }
            Some(base_samples) => Some(Design::Sobol { base_samples }),
            None => missing(sink),
        },
    }
}

fn read_parameters(
    value: &Spanned<DeValue>,
    arms: &[&str],
    sink: &mut Diagnostics,
) -> Vec<SweepParam> {
    let DeValue::Array(items) = value.get_ref() else {
        sink.error(
            &value.span(),
            "parameter",
            "expected [[parameter]] tables (an array of tables)",
        );
        return Vec::new();
    };
    let mut out: Vec<SweepParam> = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let path = format!("parameter[{i}]");
        let DeValue::Table(t) = item.get_ref() else {
            sink.error(&item.span(), &path, "expected a table");
            continue;
        };
        if let Some(p) = read_parameter(t, item.span(), &path, arms, sink) {
            if let Some(j) = out.iter().position(|q| q.label == p.label) {
                sink.error(
                    &item.span(),
                    &format!("{path}.name"),
                    format!("`{}` is varied twice: parameter[{j}] names it too", p.label),
                );
            } else {
                out.push(p);
            }
        }
    }
    out
}

fn read_parameter(
    t: &DeTable,
    span: Range<usize>,
    path: &str,
    arms: &[&str],
    sink: &mut Diagnostics,
) -> Option<SweepParam> {
    let mut name: Option<(String, Range<usize>)> = None;
    let mut range: Option<(&DeArray, Range<usize>)> = None;
    let mut values: Option<(&DeArray, Range<usize>)> = None;
    for (key, value) in t.iter() {
        let k = key.get_ref().as_ref();
        let kpath = format!("{path}.{k}");
        match (k, value.get_ref()) {
            ("name", DeValue::String(s)) => name = Some((s.to_string(), value.span())),
            ("range", DeValue::Array(a)) => range = Some((a, value.span())),
            ("values", DeValue::Array(a)) => values = Some((a, value.span())),
            ("name", other) => sink.error(
                &value.span(),
                &kpath,
                format!(
                    "expected a parameter name (a string), got {}",
                    type_name(other)
                ),
            ),
            ("range" | "values", other) => sink.error(
                &value.span(),
                &kpath,
                format!("expected an array of numbers, got {}", type_name(other)),
            ),
            _ => sink.error(&key.span(), &kpath, unknown_key(k, &PARAMETER_KEYS)),
        }
    }
    let Some((name, name_span)) = name else {
        sink.error(
            &span,
            &format!("{path}.name"),
            "missing key: the parameter to vary",
        );
        return None;
    };
    let npath = format!("{path}.name");
    let mut parts: Vec<&str> = name.split('.').collect();
    let mut arm = None;
    if parts.first() == Some(&"arm") {
        let Some(a) = parts.get(1) else {
            sink.error(&name_span, &npath, "expected `arm.ARM.parameter`");
            return None;
        };
        match arms.iter().position(|n| n == a) {
            Some(i) => arm = Some(i),
            None => {
                let mut m = format!("unknown arm `{a}`: the base has {}", arms.join(", "));
                if let Some(n) = nearest_name(a, arms.iter().copied()) {
                    m.push_str(&format!(" (did you mean `{n}`?)"));
                }
                sink.error(&name_span, &npath, m);
                return None;
            }
        }
        parts.drain(..2);
    }
    let Some((pname, element)) = parts.split_first() else {
        sink.error(
            &name_span,
            &npath,
            "expected a parameter name after the arm",
        );
        return None;
    };
    let Some(def) = find(pname) else {
        let mut m = format!("unknown parameter `{pname}`");
        match nearest_name(pname, REGISTRY.iter().map(|d| d.name)) {
            Some(n) => m.push_str(&format!(", did you mean `{n}`?")),
            None => m.push_str(" (`sprx params` lists them)"),
        }
        sink.error(&name_span, &npath, m);
        return None;
    };
    let Some(slots) = element_slots(def.shape, element) else {
        let written = element.join(".");
        let mut m = format!(
            "`{written}` is not an element of `{pname}`, which is {}",
            def.shape.describe()
        );
        // Every element path: whole rows (`money`) and single slots (`money.q1`).
        let mut paths: Vec<String> = (0..def.shape.slot_count())
            .map(|i| slot_label(def.shape, i))
            .collect();
        let rows: Vec<String> = paths
            .iter()
            .filter_map(|p| p.split_once('.').map(|(r, _)| r.to_string()))
            .collect();
        paths.extend(rows);
        if let Some(n) = nearest_name(&written, paths.iter().map(String::as_str)) {
            m.push_str(&format!("; did you mean `{pname}.{n}`?"));
        }
        sink.error(&name_span, &npath, m);
        return None;
    };
    let domain = match (range, values) {
        (Some(_), Some((_, s))) => {
            sink.error(
                &s,
                &format!("{path}.values"),
                format!("`{name}`: give either `range` or `values`, not both"),
            );
            return None;
        }
        (Some((a, s)), None) => {
            let rpath = format!("{path}.range");
            let nums = numbers(a, def, &name, &rpath, sink)?;
            if nums.len() != 2 || nums[0] > nums[1] {
                sink.error(
                    &s,
                    &rpath,
                    format!(
                        "`{name}`: expected [lo, hi] with lo <= hi inside {}",
                        def.range_text()
                    ),
                );
                return None;
            }
            Domain::Range {
                lo: nums[0],
                hi: nums[1],
            }
        }
        (None, Some((a, s))) => {
            let vpath = format!("{path}.values");
            let nums = numbers(a, def, &name, &vpath, sink)?;
            if nums.is_empty() {
                sink.error(&s, &vpath, format!("`{name}`: expected at least one value"));
                return None;
            }
            Domain::Values(nums)
        }
        (None, None) => Domain::Range {
            lo: def.min,
            hi: def.max,
        },
    };
    let label = match arm {
        Some(a) => format!("arm.{}.{}", arms[a], parts.join(".")),
        None => parts.join("."),
    };
    Some(SweepParam {
        label,
        def,
        slots,
        arm,
        domain,
    })
}

/// The numbers of a `range` or `values` array, each checked against the parameter's valid
/// range; errors name the parameter (`name`, as the sweep file wrote it).
fn numbers(
    a: &DeArray,
    def: &ParamDef,
    name: &str,
    path: &str,
    sink: &mut Diagnostics,
) -> Option<Vec<f64>> {
    let mut out = Vec::new();
    let mut ok = true;
    for item in a.iter() {
        match number(item.get_ref()).and_then(|v| def.check_element(v).map(|()| v)) {
            Ok(v) => out.push(v),
            Err(m) => {
                sink.error(&item.span(), path, format!("`{name}`: {m}"));
                ok = false;
            }
        }
    }
    ok.then_some(out)
}

fn read_metrics(
    value: &Spanned<DeValue>,
    arms: &[&str],
    sink: &mut Diagnostics,
) -> Vec<MetricSpec> {
    let DeValue::Array(items) = value.get_ref() else {
        sink.error(
            &value.span(),
            "metrics",
            format!(
                "expected an array of strings, got {}",
                type_name(value.get_ref())
            ),
        );
        return Vec::new();
    };
    if items.is_empty() {
        sink.error(&value.span(), "metrics", "expected at least one metric");
    }
    let mut out: Vec<MetricSpec> = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let path = format!("metrics[{i}]");
        let DeValue::String(s) = item.get_ref() else {
            sink.error(
                &item.span(),
                &path,
                format!("expected a string, got {}", type_name(item.get_ref())),
            );
            continue;
        };
        match parse_metric(s, arms) {
            Ok(specs) => {
                for m in specs {
                    if !out.contains(&m) {
                        out.push(m);
                    }
                }
            }
            Err(m) => sink.error(&item.span(), &path, m),
        }
    }
    out
}

/// `metric`, `ARM : metric` or `ARM - OTHER : metric`.
fn parse_metric(text: &str, arms: &[&str]) -> Result<Vec<MetricSpec>, String> {
    let (lhs, metric_name) = match text.rsplit_once(':') {
        Some((l, m)) => (Some(l.trim()), m.trim()),
        None => (None, text.trim()),
    };
    let Some(metric) = metric_index(metric_name) else {
        let mut m = format!("unknown metric `{metric_name}`");
        match nearest_name(metric_name, SUMMARY_METRICS.iter().map(|m| m.name)) {
            Some(n) => m.push_str(&format!(", did you mean `{n}`?")),
            None => m.push_str(" (see summary.csv of `sprx run` for the names)"),
        }
        return Err(m);
    };
    let arm = |name: &str| arms.iter().position(|a| *a == name);
    let spec = |a: usize, minus: Option<usize>| MetricSpec {
        label: match minus {
            Some(b) => format!("{}-{}:{metric_name}", arms[a], arms[b]),
            None => format!("{}:{metric_name}", arms[a]),
        },
        metric,
        arm: a,
        minus,
    };
    let Some(lhs) = lhs else {
        return Ok((0..arms.len()).map(|a| spec(a, None)).collect());
    };
    if let Some(a) = arm(lhs) {
        return Ok(vec![spec(a, None)]);
    }
    // Arm names may contain `-`: try every split.
    for (i, _) in lhs.match_indices('-') {
        if let (Some(a), Some(b)) = (arm(lhs[..i].trim()), arm(lhs[i + 1..].trim())) {
            if a == b {
                return Err(format!("`{lhs}` is an arm minus itself"));
            }
            return Ok(vec![spec(a, Some(b))]);
        }
    }
    let first = lhs.split('-').next().unwrap_or(lhs).trim();
    let mut m = format!(
        "`{lhs}` is not an arm or a difference `ARM - OTHER` of arms ({})",
        arms.join(", ")
    );
    if let Some(n) = nearest_name(first, arms.iter().copied()) {
        m.push_str(&format!("; did you mean `{n}`?"));
    }
    Err(m)
}

/// The values of every parameter at a unit-cube point.
pub fn values_at(params: &[SweepParam], unit: &[f64]) -> Vec<f64> {
    params.iter().zip(unit).map(|(p, &u)| p.value(u)).collect()
}

/// A number as written in sweep outputs: shortest text that reads back to the same `f64`.
pub fn fmt_value(v: f64) -> String {
    if v.is_finite() && v.fract() == 0.0 && v.abs() < 1e15 {
        fmt_num(v)
    } else {
        // Debug is the shortest text that reads back exactly, with an exponent when long.
        format!("{v:?}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn param(name: &str, domain: Domain) -> SweepParam {
        let def = find(name).unwrap_or_else(|| panic!("{name} is registered"));
        SweepParam {
            label: name.to_string(),
            def,
            slots: 0..1,
            arm: None,
            domain,
        }
    }

    #[test]
    fn integer_ranges_give_every_whole_number_an_equal_bin() {
        let p = param("lw_per_pcn", Domain::Range { lo: 1.0, hi: 4.0 });
        let got: Vec<f64> = [0.0, 0.24, 0.25, 0.5, 0.74, 0.75, 1.0]
            .iter()
            .map(|&u| p.value(u))
            .collect();
        assert_eq!(got, [1.0, 1.0, 2.0, 3.0, 3.0, 4.0, 4.0]);
        // A 4-level grid (0, 1/3, 2/3, 1) hits each of the 4 values once.
        let grid: Vec<f64> = (0..4).map(|i| p.value(f64::from(i) / 3.0)).collect();
        assert_eq!(grid, [1.0, 2.0, 3.0, 4.0]);
        let real = param("buy_in0", Domain::Range { lo: 0.0, hi: 0.5 });
        assert_eq!(real.value(0.5), 0.25);
        let listed = param("buy_in0", Domain::Values(vec![0.1, 0.2, 0.4]));
        assert_eq!(listed.value(0.5), 0.2);
        assert_eq!(listed.value(1.0), 0.4);
    }

    #[test]
    fn metrics_name_an_arm_a_difference_or_every_arm() {
        let arms = ["no_sp", "bolted-on", "belonging"];
        let one = parse_metric("belonging : wellbeing_mean", &arms).unwrap_or_default();
        assert_eq!(one[0].label, "belonging:wellbeing_mean");
        let diff = parse_metric("bolted-on - no_sp:wellbeing_mean", &arms).unwrap_or_default();
        assert_eq!((diff[0].arm, diff[0].minus), (1, Some(0)));
        assert_eq!(diff[0].label, "bolted-on-no_sp:wellbeing_mean");
        assert_eq!(
            parse_metric("wellbeing_mean", &arms).map(|m| m.len()),
            Ok(3)
        );
        assert!(parse_metric("belonging : wellbeing", &arms).is_err());
        assert!(parse_metric("nobody : wellbeing_mean", &arms).is_err());
    }

    const INLINE: &str = "metrics = [\"no_sp : wellbeing_mean\"]\nbase.name = \"dotted\"\nbase.baseline = \"no_sp\"\n[base.run]\nseed = 1\nweeks = WEEKS\n[design]\nkind = \"lhs\"\npoints = 2\n[[base.arm]]\nname = \"no_sp\"\n[[parameter]]\nname = \"lw_per_pcn\"\n";

    #[test]
    fn inline_base_is_read_in_place_with_dotted_keys() {
        let text = INLINE.replace("WEEKS", "10");
        let sweep = Sweep::parse(&text, "s.toml", Path::new("."))
            .unwrap_or_else(|e| panic!("unexpected errors:\n{e}"));
        assert_eq!(sweep.base.name.as_deref(), Some("dotted"));
        assert_eq!(sweep.base.run.weeks, 10);
        assert_eq!(sweep.base.origin, "s.toml [base]");
    }

    #[test]
    fn inline_base_errors_point_into_the_sweep_file_with_their_key() {
        let text = INLINE
            .replace("WEEKS", "0")
            .replace("points = 2", "points = 0");
        let Err(e) = Sweep::parse(&text, "s.toml", Path::new(".")) else {
            panic!("expected errors");
        };
        let lines: Vec<String> = e.to_string().lines().map(str::to_string).collect();
        assert_eq!(
            lines,
            [
                "error: s.toml:6:9: base.run.weeks: 0 is out of range: allowed 1 ..= 5200",
                "error: s.toml:9:10: design.points: expected a whole number in 1 ..= 16777216, got 0",
                "2 errors in the sweep file",
            ]
        );
    }
}
