//! The `sprx` binary: parses the command line and maps failures to exit codes (see
//! [`cli::EXIT_CODES`]); the commands live in `cli/`.

mod cli;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let args = cli::Cli::parse();
    match cli::execute(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            cli::report(&err);
            ExitCode::from(cli::exit_code(&err))
        }
    }
}
