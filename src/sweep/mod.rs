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
//! clusters, [`sensitivity`] computes Morris and Sobol indices, and [`cli`] is the command line.

pub mod cli;
pub mod design;
pub mod exec;
pub mod merge;
pub mod sensitivity;
pub mod slurm;
pub mod spec;

use std::path::PathBuf;

pub use spec::{Domain, MetricSpec, Sweep, SweepParam};

use crate::scenario::ScenarioError;

/// Why a sweep could not be run. [`SweepError::exit_code`] separates bad input (2) from
/// failures while running (1).
#[derive(Debug, thiserror::Error)]
pub enum SweepError {
    #[error("error: cannot read sweep file {}: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    /// Positioned diagnostics, `file:line:col: key: message`.
    #[error("{}", render(.0))]
    Invalid(Vec<String>),
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

fn render(lines: &[String]) -> String {
    let mut out: Vec<String> = lines.iter().map(|l| format!("error: {l}")).collect();
    if lines.len() > 1 {
        out.push(format!("{} errors in the sweep file", lines.len()));
    }
    out.join("\n")
}

impl SweepError {
    /// 2 for bad input (file, flags, directory), 1 for failures while running, 130 when
    /// interrupted.
    pub fn exit_code(&self) -> u8 {
        match self {
            SweepError::Runtime(_) => 1,
            SweepError::Interrupted(_) => crate::interrupt::EXIT_INTERRUPTED,
            _ => 2,
        }
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
