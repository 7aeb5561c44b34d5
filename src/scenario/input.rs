//! The toolkit every TOML input of sprx is read with (scenarios, sweep files): a sink that
//! collects positioned diagnostics, value readers that say what they expected, and "did you mean"
//! suggestions. Inputs keep the byte span of everything they read, so that every error names the
//! file, the line and column and the key, and all of a file's mistakes are reported at once.

use std::ops::Range;

use toml::de::DeValue;

use super::error::{Diagnostic, MAX_DIAGNOSTICS, ScenarioError};
pub use crate::params::nearest_name;

/// Collects diagnostics against one source text, turning byte spans into lines and columns.
pub struct Diagnostics<'s> {
    file: &'s str,
    source: &'s str,
    line_starts: Vec<usize>,
    found: Vec<Diagnostic>,
    omitted: usize,
    /// Prepended to every key path: `base.` while reading a sweep file's inline `[base]`.
    key_prefix: String,
}

impl<'s> Diagnostics<'s> {
    pub fn new(file: &'s str, source: &'s str) -> Self {
        let line_starts = std::iter::once(0)
            .chain(source.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        Diagnostics {
            file,
            source,
            line_starts,
            found: Vec::new(),
            omitted: 0,
            key_prefix: String::new(),
        }
    }

    /// Runs `read` with `prefix` prepended to the key paths it reports, for a table embedded
    /// in a larger file (a sweep's inline `[base]` scenario is reported as `base.run.seed`).
    pub fn with_key_prefix<R>(&mut self, prefix: &str, read: impl FnOnce(&mut Self) -> R) -> R {
        let inner = format!("{}{prefix}", self.key_prefix);
        let outer = std::mem::replace(&mut self.key_prefix, inner);
        let result = read(self);
        self.key_prefix = outer;
        result
    }

    /// Records an error at the start of `span`.
    pub fn error(&mut self, span: &Range<usize>, key: &str, message: impl Into<String>) {
        let (line, column) = self.line_column(span.start);
        let diagnostic = Diagnostic {
            file: self.file.to_string(),
            line,
            column,
            key: if key.is_empty() {
                String::new()
            } else {
                format!("{}{key}", self.key_prefix)
            },
            message: message.into(),
            offset: span.start,
        };
        // Rules that span several parameters are checked per arm; one mistake in [params]
        // would otherwise be reported once per arm.
        if self.found.contains(&diagnostic) {
            return;
        }
        if self.found.len() < MAX_DIAGNOSTICS {
            self.found.push(diagnostic);
        } else {
            self.omitted += 1;
        }
    }

    /// Diagnostics recorded so far, omitted ones included.
    pub fn len(&self) -> usize {
        self.found.len() + self.omitted
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// 1-based line and character column of a byte offset.
    pub fn line_column(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.source.len());
        let line = self.line_starts.partition_point(|&start| start <= offset);
        let start = self.line_starts[line - 1];
        let column = match self.source.get(start..offset) {
            Some(text) => text.chars().count(),
            // Spans from the parser fall on character boundaries; count bytes if one does not.
            None => offset - start,
        };
        (line, column + 1)
    }

    /// The collected diagnostics in file order, and how many were past [`MAX_DIAGNOSTICS`].
    pub fn into_sorted(mut self) -> (Vec<Diagnostic>, usize) {
        self.found.sort_by_key(|d| d.offset);
        (self.found, self.omitted)
    }

    /// The collected diagnostics in file order, as an error.
    pub fn into_error(self) -> ScenarioError {
        let (diagnostics, omitted) = self.into_sorted();
        ScenarioError::Invalid {
            diagnostics,
            omitted,
        }
    }
}

/// A TOML value's type, for messages.
pub fn type_name(value: &DeValue) -> &'static str {
    match value {
        DeValue::String(_) => "a string",
        DeValue::Integer(_) => "an integer",
        DeValue::Float(_) => "a float",
        DeValue::Boolean(_) => "a boolean",
        DeValue::Datetime(_) => "a date-time",
        DeValue::Array(_) => "an array",
        DeValue::Table(_) => "a table",
    }
}

/// The integer written, whatever its radix; `None` if it does not fit in 128 bits.
pub fn integer(value: &toml::de::DeInteger) -> Option<i128> {
    i128::from_str_radix(value.as_str(), value.radix()).ok()
}

/// A number from an integer or float.
pub fn number(value: &DeValue) -> Result<f64, String> {
    match value {
        DeValue::Integer(i) => integer(i)
            .map(|i| i as f64)
            .ok_or_else(|| format!("{i} is too large")),
        DeValue::Float(f) => f
            .as_str()
            .parse::<f64>()
            .map_err(|_| format!("{} is not a number", f.as_str())),
        other => Err(format!("expected a number, got {}", type_name(other))),
    }
}

/// A whole number within `min ..= max`.
pub fn whole(value: &DeValue, min: u64, max: u64) -> Result<u64, String> {
    match value {
        DeValue::Integer(i) => match integer(i) {
            Some(v) if v >= i128::from(min) && v <= i128::from(max) => Ok(v as u64),
            _ => Err(format!(
                "expected a whole number in {min} ..= {max}, got {}",
                i.as_str()
            )),
        },
        other => Err(format!("expected a whole number, got {}", type_name(other))),
    }
}

/// "unknown key" with the nearest valid key, or the list of valid keys if none is near.
pub fn unknown_key(name: &str, valid: &[&str]) -> String {
    match nearest_name(name, valid.iter().copied()) {
        Some(near) => format!("unknown key, did you mean `{near}`?"),
        None => format!("unknown key: expected one of {}", valid.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_map_to_one_based_lines_and_character_columns() {
        let source = "a = 1\nλ = 2\n\nlast";
        let d = Diagnostics::new("x.toml", source);
        assert_eq!(d.line_column(0), (1, 1));
        assert_eq!(d.line_column(4), (1, 5));
        assert_eq!(d.line_column(6), (2, 1));
        // `λ` is two bytes but one column.
        assert_eq!(d.line_column(9), (2, 3));
        assert_eq!(d.line_column(13), (3, 1));
        assert_eq!(d.line_column(14), (4, 1));
        assert_eq!(d.line_column(source.len()), (4, 5));
        assert_eq!(d.line_column(source.len() + 10), (4, 5));
    }

    #[test]
    fn diagnostics_are_listed_in_file_order_without_repeats() {
        let mut d = Diagnostics::new("x.toml", "a = 1\nb = 2\n");
        d.error(&(6..7), "b", "second");
        d.error(&(0..1), "a", "first");
        d.error(&(6..7), "b", "second");
        let ScenarioError::Invalid { diagnostics, .. } = d.into_error() else {
            panic!("expected diagnostics");
        };
        let lines: Vec<String> = diagnostics.iter().map(|d| d.to_string()).collect();
        assert_eq!(lines, ["x.toml:1:1: a: first", "x.toml:2:1: b: second"]);
    }
}
