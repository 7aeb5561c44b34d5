//! Baseline regression: the outputs of a small fixed scenario are pinned in
//! `tests/data/regression/` (the fast engine) and `tests/data/regression/reference/` (the
//! reference engine, `--engine reference`, whose outputs have not changed since it was the
//! only engine). Any change to the model, the random streams or the output format shows up
//! here as a diff to review. When a change is intended, update the pinned files deliberately
//! with
//!
//! ```sh
//! SPRX_UPDATE_BASELINE=1 cargo test regression
//! ```
//!
//! and commit them with the change that explains them.

use sha2::{Digest, Sha256};

use super::{ok, read, repo, tempdir};

const PINNED: [&str; 4] = ["summary.json", "replicates.csv", "pcns.csv", "icbs.csv"];
const WEEKLY_HASH: &str = "weekly.csv.sha256";

#[test]
fn outputs_match_the_pinned_baseline() {
    check_baseline("fast", "tests/data/regression");
}

#[test]
fn reference_engine_outputs_match_their_pinned_baseline() {
    check_baseline("reference", "tests/data/regression/reference");
}

/// Runs the regression scenario with `--engine engine` and compares its outputs with the
/// files pinned in `dir` (or updates them).
fn check_baseline(engine: &str, dir: &str) {
    let out = tempdir();
    ok(&[
        "run",
        "tests/data/regression/scenario.toml",
        "--quiet",
        "--engine",
        engine,
        "--out",
        &out.path().to_string_lossy(),
    ]);
    let pinned = repo(dir);
    let weekly = read(&out.path().join("weekly.csv"));
    let weekly_hash = hex::encode(Sha256::digest(weekly.as_bytes())) + "\n";
    if std::env::var_os("SPRX_UPDATE_BASELINE").is_some() {
        for file in PINNED {
            std::fs::copy(out.path().join(file), pinned.join(file))
                .unwrap_or_else(|e| panic!("cannot update {file}: {e}"));
        }
        std::fs::write(pinned.join(WEEKLY_HASH), &weekly_hash)
            .unwrap_or_else(|e| panic!("cannot update {WEEKLY_HASH}: {e}"));
        eprintln!("updated the pinned baseline in tests/data/regression/");
        return;
    }
    let update = "if the change is intended, run `SPRX_UPDATE_BASELINE=1 cargo test regression` \
                  and commit the updated files in tests/data/regression/";
    for file in PINNED {
        let expected = read(&pinned.join(file));
        let actual = read(&out.path().join(file));
        if expected != actual {
            let line = expected
                .lines()
                .zip(actual.lines())
                .position(|(a, b)| a != b)
                .map_or(0, |i| i + 1);
            panic!(
                "{engine} engine: {file} differs from the pinned baseline (first at line {line}); {update}"
            );
        }
    }
    assert_eq!(
        read(&pinned.join(WEEKLY_HASH)),
        weekly_hash,
        "{engine} engine: weekly.csv differs from the pinned baseline; {update}"
    );
}
