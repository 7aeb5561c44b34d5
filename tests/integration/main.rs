//! Integration tests of the `sprx` binary, one module per behaviour, in one test binary to keep
//! link times low.

mod bad_scenarios;
mod by_place;
mod cli;
mod docs;
mod interrupt;
mod layers;
mod model;
mod outputs;
mod own_places;
mod places;
mod regression;
mod report;
mod run_dir;
mod serve;
mod shipped;
mod sizes;
mod sweep;
mod training;
mod two_writers;

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

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

/// Starts `sprx args` in the background, stdout discarded, stderr captured. Callers give it
/// minutes of work, so it cannot finish before the test acts on it; it runs at normal priority,
/// so that on a busy machine it still finishes its unit of work promptly once interrupted.
pub fn spawn(args: &[&str]) -> Child {
    let mut command = Command::new(env!("CARGO_BIN_EXE_sprx"));
    command.args(args).current_dir(env!("CARGO_MANIFEST_DIR"));
    // A process started in the background by a shell without job control inherits SIGINT as
    // ignored; give sprx the default disposition so that SIGINT really reaches its handler.
    // SAFETY: `signal` is async-signal-safe, as `pre_exec` requires.
    unsafe {
        command.pre_exec(|| {
            libc::signal(libc::SIGINT, libc::SIG_DFL);
            Ok(())
        });
    }
    command
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start sprx: {e}"))
}

/// Sends SIGINT, as Ctrl-C in a terminal does.
pub fn interrupt(child: &Child) {
    let pid = libc::pid_t::try_from(child.id()).unwrap_or_else(|e| panic!("pid: {e}"));
    // SAFETY: kill has no memory-safety preconditions.
    let rc = unsafe { libc::kill(pid, libc::SIGINT) };
    assert_eq!(rc, 0, "kill -INT {pid} failed");
}

/// Waits until `ready` holds, polling; panics after `timeout`.
pub fn wait_until(what: &str, timeout: Duration, mut ready: impl FnMut() -> bool) {
    let start = Instant::now();
    while !ready() {
        assert!(start.elapsed() < timeout, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Waits for a spawned sprx to exit, at most `timeout` (then kills it and panics).
pub fn finish(mut child: Child, timeout: Duration) -> Output {
    let start = Instant::now();
    loop {
        match child.try_wait() {
            Ok(Some(_)) => break,
            Ok(None) if start.elapsed() > timeout => {
                let _ = child.kill();
                let _ = child.wait();
                panic!("sprx did not exit within {timeout:?}");
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(20)),
            Err(e) => panic!("wait: {e}"),
        }
    }
    child
        .wait_with_output()
        .unwrap_or_else(|e| panic!("wait: {e}"))
}

/// The run directory's file names, hidden ones included, sorted.
pub fn listing(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.file_name().to_string_lossy().into_owned()))
        .collect();
    names.sort();
    names
}
