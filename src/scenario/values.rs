//! Parameter values as written in a scenario, read generically over the registry's [`Shape`]:
//! a number for a scalar; for each dimension (need, quintile) either an array with one entry per
//! label or a table keyed by labels that overrides only the entries it names.

use std::ops::Range;

use serde::Serialize;
use toml::Spanned;
use toml::de::DeValue;

use super::input::{Diagnostics, nearest_name, number, type_name};
use crate::params::{Kind, NEED_NAMES, ParamDef, Params, QUINTILE_NAMES, slot_label};

/// The slots one scenario key sets for one parameter.
#[derive(Clone)]
pub struct Override {
    pub def: &'static ParamDef,
    /// Slot index and value, in the order they appear in the file.
    pub slots: Vec<(usize, f64)>,
    /// Where the key is written, for errors found once every override is applied.
    pub(crate) key_path: String,
    pub(crate) key_span: Range<usize>,
}

impl std::fmt::Debug for Override {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Override")
            .field("name", &self.def.name)
            .field("slots", &self.slots)
            .field("key_path", &self.key_path)
            .finish()
    }
}

impl Override {
    pub fn apply(&self, params: &mut Params) {
        let mut slots = (self.def.get)(params);
        for &(i, v) in &self.slots {
            slots[i] = v;
        }
        (self.def.set)(params, &slots);
    }
}

/// A list of overrides, serialised as `{"name": value, "name.label": value, ...}`.
#[derive(Clone, Debug, Default)]
pub struct Overrides(pub Vec<Override>);

impl Overrides {
    pub fn apply(&self, params: &mut Params) {
        for o in &self.0 {
            o.apply(params);
        }
    }

    /// The override of the named parameter, if any.
    pub(crate) fn find(&self, name: &str) -> Option<&Override> {
        self.0.iter().find(|o| o.def.name == name)
    }

    /// These overrides followed by `later`'s, without the slots `later` sets again: applying the
    /// result is applying both in turn, and each slot is listed once.
    pub(crate) fn then(&self, later: &Overrides) -> Overrides {
        let set_later = |def: &ParamDef, slot: usize| {
            later
                .0
                .iter()
                .any(|o| std::ptr::eq(o.def, def) && o.slots.iter().any(|&(i, _)| i == slot))
        };
        let mut merged: Vec<Override> = self
            .0
            .iter()
            .map(|o| Override {
                slots: o
                    .slots
                    .iter()
                    .copied()
                    .filter(|&(i, _)| !set_later(o.def, i))
                    .collect(),
                ..o.clone()
            })
            .filter(|o| !o.slots.is_empty())
            .collect();
        merged.extend(later.0.iter().cloned());
        Overrides(merged)
    }
}

impl Serialize for Overrides {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = serializer.serialize_map(None)?;
        for o in &self.0 {
            for &(i, v) in &o.slots {
                let label = slot_label(o.def.shape, i);
                let key = if label.is_empty() {
                    o.def.name.to_string()
                } else {
                    format!("{}.{label}", o.def.name)
                };
                map.serialize_entry(&key, &Number(o.def.kind, v))?;
            }
        }
        map.end()
    }
}

/// A parameter value serialised with the labels of its shape, e.g.
/// `{"loneliness": 0.07, "mental": 0.15, ...}`; whole numbers for integer parameters.
pub struct Labelled<'a> {
    pub def: &'static ParamDef,
    pub dims: &'static [&'static [&'static str]],
    pub slots: &'a [f64],
}

impl Serialize for Labelled<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let Some((labels, inner)) = self.dims.split_first() else {
            return Number(
                self.def.kind,
                self.slots.first().copied().unwrap_or(f64::NAN),
            )
            .serialize(serializer);
        };
        let stride = self.slots.len() / labels.len();
        let mut map = serializer.serialize_map(Some(labels.len()))?;
        for (label, chunk) in labels.iter().zip(self.slots.chunks(stride)) {
            let value = Labelled {
                def: self.def,
                dims: inner,
                slots: chunk,
            };
            map.serialize_entry(label, &value)?;
        }
        map.end()
    }
}

struct Number(Kind, f64);

impl Serialize for Number {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            // Integer parameters hold whole numbers within u32 (checked on input).
            Kind::Integer => serializer.serialize_u64(self.1 as u64),
            Kind::Real => serializer.serialize_f64(self.1),
        }
    }
}

/// What the kind of dimension a label list is, for messages.
fn dimension_noun(labels: &[&str]) -> &'static str {
    if labels == NEED_NAMES.as_slice() {
        "need"
    } else if labels == QUINTILE_NAMES.as_slice() {
        "quintile"
    } else {
        "label"
    }
}

/// What a value of the given dimensions must look like.
fn expected_form(dims: &[&[&str]]) -> String {
    match dims {
        [] => "a number".to_string(),
        [labels, inner @ ..] => {
            let what = if inner.is_empty() {
                "numbers"
            } else {
                "arrays"
            };
            format!(
                "an array of {} {what} or a table keyed by {} ({})",
                labels.len(),
                dimension_noun(labels),
                labels.join(", ")
            )
        }
    }
}

/// Reads the value of parameter `def` written at `key_path`; errors go to `sink`.
pub(crate) fn read_override(
    def: &'static ParamDef,
    key_path: String,
    key_span: Range<usize>,
    value: &Spanned<DeValue>,
    sink: &mut Diagnostics,
) -> Option<Override> {
    let mut slots = Vec::new();
    let before = sink.len();
    read_slots(def, def.shape.dims(), 0, &key_path, value, sink, &mut slots);
    (sink.len() == before).then_some(Override {
        def,
        slots,
        key_path,
        key_span,
    })
}

/// Reads a value of the given dimensions whose first slot is `first`.
fn read_slots(
    def: &'static ParamDef,
    dims: &[&[&str]],
    first: usize,
    path: &str,
    value: &Spanned<DeValue>,
    sink: &mut Diagnostics,
    out: &mut Vec<(usize, f64)>,
) {
    let Some((labels, inner)) = dims.split_first() else {
        match number(value.get_ref()).and_then(|v| def.check_element(v).map(|()| v)) {
            Ok(v) => out.push((first, v)),
            Err(message) => sink.error(&value.span(), path, message),
        }
        return;
    };
    let stride: usize = inner.iter().map(|d| d.len()).product();
    match value.get_ref() {
        DeValue::Array(items) if items.len() == labels.len() => {
            for (i, (item, label)) in items.iter().zip(labels.iter()).enumerate() {
                let path = format!("{path}.{label}");
                read_slots(def, inner, first + i * stride, &path, item, sink, out);
            }
        }
        DeValue::Array(items) => sink.error(
            &value.span(),
            path,
            format!(
                "expected {} entries (one per {}: {}), got {}",
                labels.len(),
                dimension_noun(labels),
                labels.join(", "),
                items.len()
            ),
        ),
        DeValue::Table(table) => {
            for (key, item) in table.iter() {
                let label = key.get_ref().as_ref();
                let path = format!("{path}.{label}");
                match labels.iter().position(|l| *l == label) {
                    Some(i) => read_slots(def, inner, first + i * stride, &path, item, sink, out),
                    None => sink.error(&key.span(), &path, unknown_label(labels, label)),
                }
            }
        }
        other => sink.error(
            &value.span(),
            path,
            format!("expected {}, got {}", expected_form(dims), type_name(other)),
        ),
    }
}

fn unknown_label(labels: &[&str], label: &str) -> String {
    let noun = dimension_noun(labels);
    let mut message = format!(
        "unknown {noun} `{label}`: expected one of {}",
        labels.join(", ")
    );
    if let Some(near) = nearest_name(label, labels.iter().copied()) {
        message.push_str(&format!(" (did you mean `{near}`?)"));
    }
    message
}
