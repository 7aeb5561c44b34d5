//! Integration tests of the `sprx` binary, one module per behaviour, in one test binary to keep
//! link times low.

mod bad_scenarios;
mod cli;
mod docs;
mod layers;
mod model;
mod outputs;
mod places;
mod regression;
mod report;
mod sweep;
mod training;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The repository root, for scenario and doc files.
pub fn repo(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

/// Runs `sprx` with `args` from the repository root.
pub fn sprx(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sprx"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap_or_else(|e| panic!("cannot start sprx: {e}"))
}

pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Asserts success and returns stdout.
pub fn ok(args: &[&str]) -> String {
    let out = sprx(args);
    assert!(
        out.status.success(),
        "sprx {args:?} failed ({:?}):\n{}",
        out.status.code(),
        stderr(&out)
    );
    stdout(&out)
}

pub fn tempdir() -> tempfile::TempDir {
    tempfile::tempdir().unwrap_or_else(|e| panic!("cannot create a temporary directory: {e}"))
}

pub fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

/// Whether the tests run in CI: the `CI` environment variable is set to anything but empty,
/// `0` or `false` (CI services set `CI=true`; `.ci/run` exports it).
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| {
        let v = v.trim();
        !v.is_empty() && v != "0" && !v.eq_ignore_ascii_case("false")
    })
}

/// A check that cannot run on this machine: skipped loudly on a developer's machine, but a
/// failure in CI, so that a broken install step cannot pass as a skip.
pub fn cannot_run(reason: &str) {
    assert!(
        !in_ci(),
        "{reason}; CI is set, so this check must run here: fix the CI machine's set-up"
    );
    eprintln!("\n*** SKIPPED: {reason} ***\n");
}
