//! Scenarios within the run-setting limits whose product is absurd are refused up front, with
//! an estimate (exit 2, nothing written), instead of aborting on a failed allocation: runs,
//! traces and sweeps, for memory and for output size.

use std::path::{Path, PathBuf};

use crate::{sprx, stderr, tempdir};

/// 100,000 PCNs × 1,000 practices × 1,000,000 patients: every setting within its limits.
const ABSURD: &str = r#"
[run]
seed = 1
[population]
pcns = 100000
practices_per_pcn = 1000
patients_per_practice = 1000000
[[arm]]
name = "no_sp"
[[arm]]
name = "belonging"
"#;

/// One patient, a million replicates of 5,200 weeks: cheap to simulate per unit, but its
/// weekly.csv would have 10.4 billion rows.
const LONG_AND_MANY: &str = r#"
[run]
seed = 1
replicates = 1000000
weeks = 5200
warmup_weeks = 0
[population]
pcns = 1
practices_per_pcn = 1
patients_per_practice = 1
[[arm]]
name = "no_sp"
[[arm]]
name = "belonging"
"#;

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap_or_else(|e| panic!("cannot write {name}: {e}"));
    path
}

fn s(p: &Path) -> String {
    p.to_string_lossy().into_owned()
}

/// Asserts exit 2 with a memory estimate in the message.
fn assert_refused_for_memory(args: &[&str]) -> String {
    let out = sprx(args);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "sprx {args:?}:\n{err}");
    assert!(err.contains("needs about"), "{err}");
    assert!(err.contains("of memory"), "{err}");
    assert!(err.contains("the limit is"), "{err}");
    assert!(!err.contains("allocation"), "{err}");
    assert_eq!(err.lines().count(), 1, "one line: {err}");
    err
}

#[test]
fn an_absurd_run_is_refused_with_a_memory_estimate_and_writes_nothing() {
    let tmp = tempdir();
    let scenario = write(tmp.path(), "absurd.toml", ABSURD);
    let out = tmp.path().join("out");
    let err = assert_refused_for_memory(&["run", &s(&scenario), "--out", &s(&out)]);
    assert!(err.contains("1,000,000,000 patients"), "{err}");
    // A billion patients in a PCN: most of a kilobyte each over the run, hundreds of GiB.
    let gib = err
        .split_once("needs about ")
        .and_then(|(_, rest)| rest.split_once(" GiB of memory"))
        .and_then(|(n, _)| n.replace(',', "").parse::<f64>().ok());
    assert!(gib.is_some_and(|g| (400.0..2000.0).contains(&g)), "{err}");
    assert!(err.contains("practices_per_pcn"), "{err}");
    assert!(!out.exists(), "a refused run created its directory");
    assert_refused_for_memory(&["run", &s(&scenario)]);
    assert_refused_for_memory(&[
        "trace",
        &s(&scenario),
        "--arm",
        "belonging",
        "--sample",
        "1",
    ]);
}

#[test]
fn max_memory_sets_the_budget_by_flag_or_environment() {
    let err = assert_refused_for_memory(&["run", "tests/data/small.toml", "--max-memory", "1M"]);
    assert!(err.contains("1.0 MiB"), "{err}");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_sprx"))
        .args(["run", "tests/data/small.toml", "--quiet"])
        .env("SPRX_MAX_MEMORY", "1M")
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap_or_else(|e| panic!("cannot start sprx: {e}"));
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("needs about"), "{}", stderr(&out));
    let bad = sprx(&["run", "tests/data/small.toml", "--max-memory", "lots"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(stderr(&bad).contains("--max-memory"), "{}", stderr(&bad));
}

#[test]
fn a_run_directory_too_large_to_write_is_refused_with_its_size() {
    let tmp = tempdir();
    let scenario = write(tmp.path(), "long.toml", LONG_AND_MANY);
    let out_dir = tmp.path().join("out");
    // Lift the memory budget so that the output check is the one that refuses.
    let out = sprx(&[
        "run",
        &s(&scenario),
        "--out",
        &s(&out_dir),
        "--max-memory",
        "1000T",
    ]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains(
            "weekly.csv: 10,400,000,000 rows = 2 arms × 1,000,000 replicates × 5,200 weeks"
        ),
        "{err}"
    );
    assert!(err.contains("would take about"), "{err}");
    assert!(err.contains("Reduce run.replicates or run.weeks"), "{err}");
    assert!(!out_dir.exists());
    // Without --max-memory, the results kept in memory are what is too large.
    let err = assert_refused_for_memory(&["run", &s(&scenario), "--out", &s(&out_dir)]);
    assert!(err.contains("Reduce run.replicates"), "{err}");
}

#[test]
fn sweeps_are_refused_for_their_largest_point_and_their_outputs() {
    let tmp = tempdir();
    let base = write(tmp.path(), "absurd.toml", ABSURD);
    let sweep = |base: &str, points: u32, replicates: u32| {
        format!(
            "base = \"{base}\"\nmetrics = [\"belonging : wellbeing_mean\"]\n\
             [design]\nkind = \"lhs\"\npoints = {points}\nreplicates = {replicates}\nseed = 1\n\
             [[parameter]]\nname = \"arm.belonging.lw_per_pcn\"\nrange = [0, 3]\n"
        )
    };
    let file = write(tmp.path(), "sweep.toml", &sweep(&s(&base), 4, 2));
    let out_dir = tmp.path().join("out");
    let err = assert_refused_for_memory(&["sweep", &s(&file), "--out", &s(&out_dir)]);
    assert!(err.contains("this sweep"), "{err}");
    assert!(!out_dir.exists(), "a refused sweep created its directory");

    let small = crate::repo("tests/data/small.toml");
    let file = write(tmp.path(), "big.toml", &sweep(&s(&small), 100_000, 100_000));
    let out = sprx(&[
        "sweep",
        &s(&file),
        "--out",
        &s(&out_dir),
        "--max-memory",
        "1000T",
    ]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("runs.csv and shard files (10,000,000,000 rows each"),
        "{err}"
    );
    assert!(!out_dir.exists());
}

/// Runs a scenario (or the default) with extra arguments and returns the manifest's memory
/// record: (estimate, measured peak RSS) in bytes.
fn estimate_and_peak(dir: &Path, scenario: Option<&str>, extra: &[&str]) -> (f64, f64) {
    let out = dir.join("out");
    let _ = std::fs::remove_dir_all(&out);
    let mut args = vec!["run"];
    if let Some(file) = scenario {
        args.push(file);
    }
    let out_arg = s(&out);
    args.extend_from_slice(&["--quiet", "--out", &out_arg]);
    args.extend_from_slice(extra);
    crate::ok(&args);
    let manifest: serde_json::Value =
        serde_json::from_str(&crate::read(&out.join("manifest.json")))
            .unwrap_or_else(|e| panic!("{e}"));
    let memory = &manifest["memory"];
    let number = |key: &str| {
        memory[key]
            .as_f64()
            .unwrap_or_else(|| panic!("no memory.{key} in {manifest}"))
    };
    (number("estimate_bytes"), number("peak_rss_bytes"))
}

/// The memory estimate that refuses oversized runs stays true: within 25% of the measured
/// peak on runs of different shapes on one thread (one unit; results of several replicates
/// kept; several PCNs; a large PCN), where the peak is deterministic. On two threads the peak
/// depends on scheduling: the estimate assumes both units in memory at once, but on a loaded
/// machine (CI runs tests in parallel) one unit may finish before the other starts, and the
/// peak was measured at 137 to 169 MB for the same run. There the estimate must not fall below
/// the peak, and stay within 1.5 times it.
#[test]
fn the_memory_estimate_is_within_a_quarter_of_the_measured_peak() {
    if !Path::new("/proc/self/status").exists() {
        crate::cannot_run("no /proc/self/status to measure peak memory");
        return;
    }
    let dir = tempdir();
    let four_pcns = write(
        dir.path(),
        "four.toml",
        "[run]\nreplicates = 2\n[population]\npcns = 4\npractices_per_pcn = 2\npatients_per_practice = 10000\n",
    );
    let large = write(
        dir.path(),
        "large.toml",
        "[run]\nreplicates = 1\nweeks = 156\n[population]\npcns = 1\npractices_per_pcn = 10\npatients_per_practice = 15000\n",
    );
    let one_thread = 0.75..=1.25;
    let two_threads = 1.0..=1.5;
    let cases: [(&str, Option<&Path>, &[&str], _); 5] = [
        (
            "default, 1 replicate, 1 thread",
            None,
            &["--replicates", "1", "--threads", "1"],
            &one_thread,
        ),
        (
            "default, 4 replicates, 1 thread",
            None,
            &["--replicates", "4", "--threads", "1"],
            &one_thread,
        ),
        (
            "4 PCNs, 2 replicates, 1 thread",
            Some(&four_pcns),
            &["--threads", "1"],
            &one_thread,
        ),
        (
            "150,000 patients in one PCN",
            Some(&large),
            &["--threads", "1"],
            &one_thread,
        ),
        (
            "default, 4 replicates, 2 threads",
            None,
            &["--replicates", "4", "--threads", "2"],
            &two_threads,
        ),
    ];
    for (what, scenario, extra, allowed) in cases {
        let file = scenario.map(s);
        let (estimate, peak) = estimate_and_peak(dir.path(), file.as_deref(), extra);
        let ratio = estimate / peak;
        assert!(
            allowed.contains(&ratio),
            "{what}: estimated {estimate:.0} bytes, measured peak {peak:.0} ({ratio:.2}×, allowed {allowed:?})"
        );
    }
}
