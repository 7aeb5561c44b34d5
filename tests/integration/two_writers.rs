//! Two processes writing one run directory, or one sweep shard: the second is refused at once
//! (exit 2), and the message names the first (its pid), instead of their files interleaving.

use std::path::Path;
use std::time::Duration;

use crate::{finish, interrupt, spawn, sprx, stderr, tempdir, wait_until};

fn s(p: &Path) -> String {
    p.to_string_lossy().into_owned()
}

fn holds(lock: &Path) -> bool {
    std::fs::read_to_string(lock).is_ok_and(|t| t.contains("pid "))
}

/// Asserts that the second process was refused, naming the first.
fn assert_refused_naming(out: &std::process::Output, pid: u32) {
    let err = stderr(out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("in use by another sprx process"), "{err}");
    assert!(err.contains(&format!("pid {pid} on ")), "{err}");
}

#[test]
fn a_second_run_into_the_same_directory_is_refused_naming_the_first() {
    let tmp = tempdir();
    let dir = tmp.path().join("run");
    let first = spawn(&[
        "run",
        "--replicates",
        "1000",
        "--threads",
        "1",
        "--out",
        &s(&dir),
        "--quiet",
    ]);
    wait_until("the first run to lock", Duration::from_secs(120), || {
        holds(&dir.join(".sprx.lock"))
    });
    let second = sprx(&["run", "tests/data/small.toml", "--out", &s(&dir), "--quiet"]);
    assert_refused_naming(&second, first.id());
    assert!(
        !dir.join("summary.json").exists(),
        "the second run wrote into the first's directory"
    );
    interrupt(&first);
    let out = finish(first, Duration::from_secs(180));
    assert_eq!(out.status.code(), Some(130), "{}", stderr(&out));
}

#[test]
fn a_second_process_on_the_same_sweep_shard_is_refused_naming_the_first() {
    let tmp = tempdir();
    let sweep = tmp.path().join("sweep.toml");
    std::fs::write(&sweep, super::interrupt::SWEEP).unwrap_or_else(|e| panic!("{e}"));
    let out_dir = tmp.path().join("out");
    let args = [
        "sweep",
        &s(&sweep),
        "--out",
        &s(&out_dir),
        "--threads",
        "1",
        "--shard",
        "0/2",
    ];
    let first = spawn(&args);
    wait_until("the first sweep to lock", Duration::from_secs(120), || {
        holds(&out_dir.join("shards").join("shard-0000-of-0002.lock"))
    });
    // With --resume the second would otherwise pass the check for existing data and append
    // to the same shard file.
    let mut again = args.to_vec();
    again.push("--resume");
    let second = sprx(&again);
    assert_refused_naming(&second, first.id());
    // Another shard of the same sweep may run beside it.
    let other = sprx(&[
        "sweep",
        &s(&sweep),
        "--out",
        &s(&out_dir),
        "--threads",
        "1",
        "--shard",
        "1/2",
        "--quiet",
    ]);
    assert_eq!(other.status.code(), Some(0), "{}", stderr(&other));
    interrupt(&first);
    let out = finish(first, Duration::from_secs(180));
    assert!(
        matches!(out.status.code(), Some(130 | 0)),
        "{}",
        stderr(&out)
    );
}
