//! Scenario errors: each one names the file, the line and column, the key path and what was
//! expected, and all of them are collected (by [`super::input::Diagnostics`]) so that one run of
//! `sprx validate` shows every problem.

use std::fmt;
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
    pub(crate) offset: usize,
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
