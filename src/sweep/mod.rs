//! Parameter sweeps and global sensitivity analysis (`sprx sweep`).
//!
//! A sweep file ([`spec`]) names a base scenario, the parameters to vary and a sampling design
//! ([`design`]: grid, Latin hypercube, Morris trajectories, Saltelli/Sobol). Each design point is
//! the base scenario with those parameters set, run for the same replicates `0..R` with the same
//! seed (common random numbers: differences between points are not luck).
//!
//! Points are split into shards (`point p` belongs to shard `p mod N`); a shard appends each
//! finished point's rows to its own file, durably, so an interrupted shard resumes where it
//! stopped ([`exec`]). [`merge`] checks that every point is there exactly once and writes the
//! final files; an unsharded run goes through the same merge, so the outputs are byte-identical
//! whatever the thread count or the number of shards. [`slurm`] writes job-array scripts for
//! clusters and [`sensitivity`] computes Morris and Sobol indices. The command line (`sprx sweep`,
//! its progress bar and messages) lives in the binary's `cli/sweep.rs`.

pub mod design;
pub mod exec;
pub mod merge;
pub mod sensitivity;
pub mod slurm;
pub mod spec;

use std::path::PathBuf;

pub use spec::{Domain, MetricSpec, Sweep, SweepParam};

use crate::scenario::{Diagnostic, ScenarioError};

/// Why a sweep could not be run. [`SweepError::is_bad_input`] separates bad input (exit 2) from
/// failures while running (1).
#[derive(Debug, thiserror::Error)]
pub enum SweepError {
    #[error("error: cannot read sweep file {}: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    /// Positioned diagnostics, `file:line:col: key: message`, in file order; `omitted` counts
    /// those past [`crate::scenario::MAX_DIAGNOSTICS`].
    #[error("{}", render(diagnostics, *omitted))]
    Invalid {
        diagnostics: Vec<Diagnostic>,
        omitted: usize,
    },
    #[error("{0}")]
    Scenario(#[from] ScenarioError),
    /// The command line or the output directory does not fit the request.
    #[error("error: {0}")]
    Usage(String),
    /// Something failed while running or writing.
    #[error("error: {0}")]
    Runtime(String),
    /// Ctrl-C: finished points are saved, the message says how to resume.
    #[error("{0}")]
    Interrupted(String),
}

fn render(diagnostics: &[Diagnostic], omitted: usize) -> String {
    let mut out: Vec<String> = diagnostics.iter().map(|d| format!("error: {d}")).collect();
    if omitted > 0 {
        out.push(format!("error: … and {omitted} more errors"));
    }
    let total = diagnostics.len() + omitted;
    if total > 1 {
        out.push(format!("{total} errors in the sweep file"));
    }
    out.join("\n")
}

impl SweepError {
    /// Whether the sweep was refused for its input (file, flags, directory, size) rather than
    /// failing or being interrupted while it ran; the command line maps this to exit code 2.
    pub fn is_bad_input(&self) -> bool {
        !matches!(self, SweepError::Runtime(_) | SweepError::Interrupted(_))
    }

    /// The message without its leading `error: `, for callers that add their own.
    pub fn message(&self) -> String {
        let text = self.to_string();
        text.strip_prefix("error: ").unwrap_or(&text).to_string()
    }

    pub(crate) fn io(what: impl std::fmt::Display, e: impl std::fmt::Display) -> SweepError {
        SweepError::Runtime(format!("{what}: {e}"))
    }
}
