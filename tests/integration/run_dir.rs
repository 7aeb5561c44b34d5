//! Run directories are complete or absent: an unwritable directory fails before the
//! simulation, a run replaces an earlier one whole, and `sprx report` refuses a directory that
//! is incomplete or damaged.

use std::path::Path;
use std::time::{Duration, Instant};

use crate::{listing, ok, read, sprx, stderr, tempdir};

const SMALL: &str = "tests/data/small.toml";

fn s(p: &Path) -> String {
    p.to_string_lossy().into_owned()
}

#[test]
fn an_unwritable_output_directory_fails_before_the_simulation() {
    // /proc exists and no one, root included, can create files in it. The default scenario
    // with 1,000 replicates would take minutes to simulate before failing to write.
    let start = Instant::now();
    let out = sprx(&["run", "--replicates", "1000", "--out", "/proc", "--quiet"]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("cannot write to output directory /proc"),
        "{err}"
    );
    assert!(
        start.elapsed() < Duration::from_secs(30),
        "failed only after {:?}",
        start.elapsed()
    );
}

#[test]
fn a_run_replaces_an_earlier_run_whole_and_leaves_only_its_files() {
    let tmp = tempdir();
    let dir = tmp.path().join("run");
    ok(&[
        "run",
        SMALL,
        "--out",
        &s(&dir),
        "--quiet",
        "--report",
        "--replicates",
        "2",
    ]);
    assert!(listing(&dir).contains(&"report.html".to_string()));
    ok(&["run", SMALL, "--out", &s(&dir), "--quiet", "--seed", "7"]);
    // The old report described the other run: it is gone, and nothing else is left behind.
    assert_eq!(
        listing(&dir),
        [
            "icbs.csv",
            "manifest.json",
            "pcns.csv",
            "replicates.csv",
            "summary.csv",
            "summary.json",
            "weekly.csv"
        ]
    );
    let manifest: serde_json::Value =
        serde_json::from_str(&read(&dir.join("manifest.json"))).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(manifest["seed"], 7);
    let files = manifest["files"]
        .as_object()
        .unwrap_or_else(|| panic!("no files in {manifest}"));
    assert_eq!(files.len(), 6, "every file but the manifest");
    let weekly = &files["weekly.csv"];
    assert_eq!(
        weekly["bytes"].as_u64(),
        std::fs::metadata(dir.join("weekly.csv"))
            .ok()
            .map(|m| m.len())
    );
    assert_eq!(weekly["sha256"].as_str().map(str::len), Some(64));
    ok(&["report", &s(&dir)]);
}

/// A way to spoil a finished run directory, and what the refusal must say.
type Damage = (&'static str, fn(&Path), &'static [&'static str]);

const DAMAGES: [Damage; 6] = [
    (
        "a deleted data file",
        |d| remove(&d.join("weekly.csv")),
        &["incomplete", "weekly.csv is missing"],
    ),
    (
        "a truncated summary.json",
        |d| truncate(&d.join("summary.json")),
        &[
            "damaged",
            "summary.json has",
            "bytes where manifest.json records",
        ],
    ),
    (
        "a changed byte",
        |d| flip_last_digit(&d.join("replicates.csv")),
        &["damaged", "replicates.csv has changed since the run"],
    ),
    (
        "no manifest",
        |d| remove(&d.join("manifest.json")),
        &[
            "not a complete sprx run directory",
            "manifest.json is missing",
        ],
    ),
    (
        "a truncated manifest",
        |d| truncate(&d.join("manifest.json")),
        &["damaged", "manifest.json is not valid JSON"],
    ),
    (
        "a manifest without a file",
        |d| {
            let path = d.join("manifest.json");
            let text = read(&path).replace("\"summary.csv\"", "\"other.csv\"");
            std::fs::write(&path, text).unwrap_or_else(|e| panic!("{e}"));
        },
        &["damaged", "does not list summary.csv"],
    ),
];

fn remove(path: &Path) {
    std::fs::remove_file(path).unwrap_or_else(|e| panic!("rm {}: {e}", path.display()));
}

fn truncate(path: &Path) {
    let text = read(path);
    std::fs::write(path, &text[..text.len() / 2]).unwrap_or_else(|e| panic!("{e}"));
}

/// Changes one digit, keeping the size: only the checksum can tell.
fn flip_last_digit(path: &Path) {
    let mut bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{e}"));
    let i = bytes
        .iter()
        .rposition(u8::is_ascii_digit)
        .unwrap_or_else(|| panic!("no digit in {}", path.display()));
    bytes[i] = if bytes[i] == b'1' { b'2' } else { b'1' };
    std::fs::write(path, bytes).unwrap_or_else(|e| panic!("{e}"));
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap_or_else(|e| panic!("{e}"));
    for name in listing(from) {
        std::fs::copy(from.join(&name), to.join(&name)).unwrap_or_else(|e| panic!("{e}"));
    }
}

#[test]
fn report_refuses_an_incomplete_or_damaged_run_directory() {
    let tmp = tempdir();
    let good = tmp.path().join("good");
    ok(&[
        "run",
        SMALL,
        "--out",
        &s(&good),
        "--quiet",
        "--replicates",
        "2",
    ]);
    for (i, (what, damage, expected)) in DAMAGES.iter().enumerate() {
        let dir = tmp.path().join(format!("damaged-{i}"));
        copy_dir(&good, &dir);
        damage(&dir);
        let out = sprx(&["report", &s(&dir)]);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{what}: {err}");
        for e in *expected {
            assert!(err.contains(e), "{what}: expected `{e}` in:\n{err}");
        }
        assert!(
            err.contains(&s(&dir)),
            "{what}: the message names the directory: {err}"
        );
        assert!(
            !dir.join("report.html").exists(),
            "{what}: a report was written"
        );
    }
}
