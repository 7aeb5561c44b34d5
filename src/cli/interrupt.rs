//! Ctrl-C during `sprx run` and `sprx sweep`. The first SIGINT (or SIGTERM, which Slurm sends
//! at a job's time limit) sets the [`Cancel`] token that the engine checks between units of
//! work: the command stops within a unit, writes nothing half-done, and exits 130 with one line.
//! A second signal exits at once, for a user who will not wait for the unit to finish.

use std::sync::OnceLock;

use sprx::engine::cancel::Cancel;

/// The exit code of an interrupted command (128 + SIGINT, as shells report it).
pub const EXIT_INTERRUPTED: u8 = 130;

static TOKEN: OnceLock<Result<Cancel, String>> = OnceLock::new();

/// The process's interrupt token; the first call installs the signal handler.
pub fn token() -> Result<Cancel, String> {
    TOKEN
        .get_or_init(|| {
            let token = Cancel::new();
            let flag = token.clone();
            ctrlc::set_handler(move || {
                if flag.is_cancelled() {
                    eprintln!("interrupted");
                    std::process::exit(i32::from(EXIT_INTERRUPTED));
                }
                flag.cancel();
            })
            .map_err(|e| format!("cannot install the Ctrl-C handler: {e}"))?;
            Ok(token)
        })
        .clone()
}
