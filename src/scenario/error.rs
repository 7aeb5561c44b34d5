//! Scenario errors: each one names the file, the line and column, the key path and what was
//! expected, and all of them are collected so that one run of `sprx validate` shows every problem.

use std::fmt;
use std::ops::Range;
use std::path::PathBuf;

/// Errors beyond this number are counted, not listed: past it, they are usually one mistake
/// repeated.
pub const MAX_DIAGNOSTICS: usize = 50;

/// One problem in a scenario file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    /// The file as the user named it, or `embedded:default`.
    pub file: String,
    /// 1-based line.
    pub line: usize,
    /// 1-based column, in characters.
    pub column: usize,
    /// Where in the scenario, e.g. `arm[1].lw_per_pcn` or `params.need_prevalence.money`; empty
    /// for TOML syntax errors.
    pub key: String,
    pub message: String,
    /// Byte offset, to list the diagnostics in file order.
    offset: usize,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}: ", self.file, self.line, self.column)?;
        if !self.key.is_empty() {
            write!(f, "{}: ", self.key)?;
        }
        f.write_str(&self.message)
    }
}

/// Why a scenario could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    #[error("error: cannot read scenario {}: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    /// The file was read; its content is wrong. `omitted` counts diagnostics past
    /// [`MAX_DIAGNOSTICS`].
    #[error("{}", render(diagnostics, *omitted))]
    Invalid {
        diagnostics: Vec<Diagnostic>,
        omitted: usize,
    },
}

fn render(diagnostics: &[Diagnostic], omitted: usize) -> String {
    let mut lines: Vec<String> = diagnostics.iter().map(|d| format!("error: {d}")).collect();
    if omitted > 0 {
        lines.push(format!("error: … and {omitted} more errors"));
    }
    let total = diagnostics.len() + omitted;
    if total > 1 {
        lines.push(format!("{total} errors in the scenario"));
    }
    lines.join("\n")
}

/// Collects diagnostics against one source text, turning byte spans into lines and columns.
pub(crate) struct Diagnostics<'s> {
    file: &'s str,
    source: &'s str,
    line_starts: Vec<usize>,
    found: Vec<Diagnostic>,
    omitted: usize,
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
        }
    }

    /// Records an error at the start of `span`.
    pub fn error(&mut self, span: &Range<usize>, key: &str, message: impl Into<String>) {
        let (line, column) = self.line_column(span.start);
        let diagnostic = Diagnostic {
            file: self.file.to_string(),
            line,
            column,
            key: key.to_string(),
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

    /// The collected diagnostics in file order, as an error.
    pub fn into_error(mut self) -> ScenarioError {
        self.found.sort_by_key(|d| d.offset);
        ScenarioError::Invalid {
            diagnostics: self.found,
            omitted: self.omitted,
        }
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
