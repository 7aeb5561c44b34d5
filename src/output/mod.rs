//! Output of a run: the statistics across replicates ([`results`]), the comparison table printed
//! on the terminal ([`table`]) and the files of a run directory, written atomically ([`files`]),
//! with the results by place of runs over several PCNs ([`places`]).
//! `docs/cli.md` describes each file and its columns.

pub mod files;
pub mod lock;
pub mod places;
pub mod results;
pub mod table;

pub use files::{
    FileRecord, MANIFEST_FILE, Manifest, OutputError, RUN_FILES, RUN_LOCK_FILE, RunDirError,
    RunRecord, StagedRun, stage_run, verify_run_dir, write_atomically, write_run,
};
pub use lock::{Lock, LockError};
pub use places::{PLACE_FILES, PlacesRecord};
pub use results::{ArmResults, PlaceOutputs, RunResults};
pub use table::{HEADLINE_METRICS, comparison_table, format_estimate};

/// The version of sprx, as in Cargo.toml.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// The commit sprx was built from (set by `build.rs`), if it was built from a git checkout.
pub const GIT_COMMIT: Option<&str> = option_env!("SPRX_GIT_COMMIT");

/// The machine's name for provenance (manifests, lock files), where the OS offers it without a
/// system-call crate.
pub fn hostname() -> Option<String> {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
}

/// Peak resident memory of this process so far (`VmHWM` in `/proc/self/status`), where the OS
/// reports it; for the manifest, beside the estimate the run was checked against.
pub fn peak_rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}
