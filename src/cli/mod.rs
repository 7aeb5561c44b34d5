//! The command line: one module per command. Errors are `anyhow` here; a [`BadInput`] or a
//! [`ScenarioError`] anywhere in the chain means exit code 2, anything else 1.

mod args;
mod docs;
mod init;
mod interrupt;
mod params;
mod places;
mod report;
mod run;
mod serve;
mod sweep;
mod trace;
mod validate;

use std::io::Write;
use std::path::Path;

use clap::{Parser, Subcommand};
use sprx::scenario::{Scenario, ScenarioError};

/// Exit codes, for `--help` and `docs/cli.md`.
pub const EXIT_CODES: [(u8, &str); 4] = [
    (0, "success"),
    (1, "the run failed: simulation or file-system error"),
    (
        2,
        "bad input: invalid scenario or command line, a run too large for this machine, or an output directory in use; nothing is written",
    ),
    (
        130,
        "interrupted (Ctrl-C): nothing half-written; a sweep keeps its finished points for --resume",
    ),
];

const AFTER_HELP: &str = "Exit status:
  0    success
  1    the run failed: simulation or file-system error
  2    bad input: invalid scenario or command line, a run too large for this machine, or an output directory in use; nothing is written
  130  interrupted (Ctrl-C): nothing half-written; a sweep keeps its finished points for --resume

`sprx init` writes a commented scenario; `sprx params` lists the model parameters.";

/// Agent-based simulator of social prescribing in English primary care.
#[derive(Parser)]
#[command(name = "sprx", version, about, after_help = AFTER_HELP)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    Run(run::RunArgs),
    Validate(validate::ValidateArgs),
    Params(params::ParamsArgs),
    Init(init::InitArgs),
    Places(places::PlacesArgs),
    Report(report::ReportArgs),
    Trace(trace::TraceArgs),
    /// Run a parameter sweep or sensitivity analysis, merge its shards, or write Slurm scripts.
    Sweep(sweep::SweepArgs),
    Serve(serve::ServeArgs),
    /// Print docs/cli.md, generated from the metric and column declarations.
    #[command(hide = true)]
    Docs,
}

/// An error in what the user asked for (exit code 2).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct BadInput(pub String);

/// The command was interrupted (Ctrl-C): exit code 130, and this one line.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Interrupted(pub String);

pub fn execute(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Run(args) => run::run(args),
        Command::Validate(args) => validate::validate(args),
        Command::Params(args) => params::params(args),
        Command::Init(args) => init::init(args),
        Command::Places(args) => places::run(args),
        Command::Report(args) => report::run(args),
        Command::Trace(args) => trace::run(args),
        Command::Serve(args) => serve::run(args),
        Command::Docs => print(&docs::cli_markdown()),
        Command::Sweep(args) => sweep::execute(args).map_err(|e| match e {
            sprx::sweep::SweepError::Scenario(e) => e.into(),
            sprx::sweep::SweepError::Interrupted(m) => Interrupted(m).into(),
            e if e.is_bad_input() => BadInput(e.message()).into(),
            e => anyhow::anyhow!(e.message()),
        }),
    }
}

pub fn exit_code(err: &anyhow::Error) -> u8 {
    if err.chain().any(|e| e.is::<Interrupted>()) {
        return interrupt::EXIT_INTERRUPTED;
    }
    let bad_input = err
        .chain()
        .any(|e| e.is::<BadInput>() || e.is::<ScenarioError>());
    if bad_input { 2 } else { 1 }
}

/// Prints an error on stderr; scenario errors already read like compiler diagnostics, and an
/// interruption is one plain line.
pub fn report(err: &anyhow::Error) {
    if let Some(e) = err.downcast_ref::<ScenarioError>() {
        eprintln!("{e}");
    } else if let Some(e) = err.downcast_ref::<Interrupted>() {
        eprintln!("{e}");
    } else {
        eprintln!("error: {err:#}");
    }
}

/// The scenario file, or the embedded default.
fn load_scenario(path: Option<&Path>) -> Result<Scenario, ScenarioError> {
    match path {
        Some(path) => Scenario::load(path),
        None => Scenario::default_embedded(),
    }
}

/// Writes to stdout; a closed pipe (`sprx params | head`) is not an error.
fn print(text: &str) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(e.into()),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn help_lists_every_exit_code() {
        for (code, meaning) in EXIT_CODES {
            assert!(
                AFTER_HELP.contains(&format!("{code:<5}{meaning}")),
                "{code}"
            );
        }
    }
}
