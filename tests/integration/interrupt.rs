//! Ctrl-C (SIGINT) during `sprx run` and `sprx sweep`: exit 130 with one line, no half-written
//! file; an earlier run in the directory is left as it was, and a sweep resumes.

use std::path::Path;
use std::time::Duration;

use crate::{finish, interrupt, listing, ok, read, spawn, stderr, tempdir, wait_until};

fn s(p: &Path) -> String {
    p.to_string_lossy().into_owned()
}

/// Whether the run holding `dir` has started simulating: its lock names it.
fn running_in(dir: &Path) -> bool {
    std::fs::read_to_string(dir.join(".sprx.lock")).is_ok_and(|t| t.contains("pid "))
}

/// The default scenario with 1,000 replicates on one thread: minutes of work, in units of
/// well under a second, so an interruption is seen quickly.
fn long_run(dir: &Path) -> std::process::Child {
    spawn(&[
        "run",
        "--replicates",
        "1000",
        "--threads",
        "1",
        "--out",
        &s(dir),
        "--quiet",
    ])
}

fn assert_interrupted(out: &std::process::Output) -> String {
    let err = stderr(out);
    assert_eq!(out.status.code(), Some(130), "{err}");
    assert_eq!(err.lines().count(), 1, "one line: {err}");
    assert!(err.starts_with("interrupted"), "{err}");
    err
}

#[test]
fn ctrl_c_stops_a_run_with_130_and_writes_nothing() {
    let tmp = tempdir();
    let dir = tmp.path().join("new");
    let child = long_run(&dir);
    wait_until("the run to start", Duration::from_secs(120), || {
        running_in(&dir)
    });
    std::thread::sleep(Duration::from_millis(300));
    interrupt(&child);
    let out = finish(child, Duration::from_secs(180));
    let err = assert_interrupted(&out);
    assert!(err.contains("nothing was written"), "{err}");
    assert!(
        !dir.exists(),
        "the interrupted run left {:?}",
        listing(&dir)
    );
}

#[test]
fn ctrl_c_leaves_an_earlier_run_in_the_directory_as_it_was() {
    let tmp = tempdir();
    let dir = tmp.path().join("run");
    ok(&["run", "tests/data/small.toml", "--out", &s(&dir), "--quiet"]);
    let before: Vec<(String, String)> = listing(&dir)
        .into_iter()
        .map(|n| (read(&dir.join(&n)), n))
        .collect();
    let child = long_run(&dir);
    wait_until("the run to start", Duration::from_secs(120), || {
        running_in(&dir)
    });
    interrupt(&child);
    let out = finish(child, Duration::from_secs(180));
    let err = assert_interrupted(&out);
    assert!(err.contains("is as it was"), "{err}");
    let after: Vec<(String, String)> = listing(&dir)
        .into_iter()
        .map(|n| (read(&dir.join(&n)), n))
        .collect();
    assert!(
        before == after,
        "the earlier run changed: {:?}",
        listing(&dir)
    );
    ok(&["report", &s(&dir)]);
}

/// 100 points of 2 replicates of 20,000 patients over 200 weeks: a fraction of a second per
/// point on one thread, many seconds in all, so the test has time to interrupt it.
pub(crate) const SWEEP: &str = r#"metrics = ["belonging : wellbeing_mean"]

[base]
baseline = "no_sp"
[base.run]
seed = 3
weeks = 200
warmup_weeks = 10
[base.population]
pcns = 1
practices_per_pcn = 2
patients_per_practice = 10000
[[base.arm]]
name = "no_sp"
[[base.arm]]
name = "belonging"

[design]
kind = "lhs"
points = 100
replicates = 2
seed = 1

[[parameter]]
name = "arm.belonging.lw_per_pcn"
range = [0, 3]
"#;

#[test]
fn ctrl_c_stops_a_sweep_with_130_and_it_resumes() {
    let tmp = tempdir();
    let sweep = tmp.path().join("sweep.toml");
    std::fs::write(&sweep, SWEEP).unwrap_or_else(|e| panic!("{e}"));
    let out_dir = tmp.path().join("out");
    let child = spawn(&["sweep", &s(&sweep), "--out", &s(&out_dir), "--threads", "1"]);
    let shard = out_dir.join("shards").join("shard-0000-of-0001.csv");
    // Header + one point × 2 replicates.
    wait_until("a finished point", Duration::from_secs(120), || {
        std::fs::read_to_string(&shard).is_ok_and(|t| t.lines().count() >= 3)
    });
    interrupt(&child);
    let out = finish(child, Duration::from_secs(180));
    let err = assert_interrupted(&out);
    assert!(err.contains("of 100 points are saved"), "{err}");
    assert!(err.contains("--resume"), "{err}");
    assert!(!out_dir.join("points.csv").exists());
    let text = read(&shard);
    assert!(text.ends_with('\n'), "a partial line in the shard file");
    assert!(
        text.lines().count() < 1 + 200,
        "the sweep was not interrupted"
    );
    assert!(
        !listing(&out_dir.join("shards"))
            .iter()
            .any(|n| n.ends_with(".lock")),
        "the lock file was left behind"
    );

    ok(&[
        "sweep",
        &s(&sweep),
        "--out",
        &s(&out_dir),
        "--resume",
        "--quiet",
    ]);
    assert_eq!(read(&out_dir.join("points.csv")).lines().count(), 1 + 100);
}
