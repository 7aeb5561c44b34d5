//! Results by place: `pcns.csv` and `icbs.csv` after a run over several real PCNs, their
//! figures adding up to the run's, and `summary.json`'s results by PCN deprivation quintile.

use std::collections::BTreeMap;
use std::path::Path;

use crate::{ok, read, tempdir};

/// Three PCNs of one ICB (Bedfordshire, Luton and Milton Keynes), a no_sp arm and two
/// allocations of fitting in, long enough for an evaluation cohort.
const THREE_PCNS: &str = r#"
name = "three PCNs"
[run]
seed = 11
replicates = 2
weeks = 110
warmup_weeks = 10
[population]
source = "england"
pcn = ["U91286", "IVEL VALLEY NORTH PCN", "u62122"]
[[arm]]
name = "no_sp"
[[arm]]
name = "as_is"
preset = "fitting_in"
lw_allocation = "as_is"
[[arm]]
name = "need"
preset = "fitting_in"
lw_allocation = "need"
"#;

/// Rows of a CSV file as maps from header to cell.
fn rows(path: &Path) -> Vec<BTreeMap<String, String>> {
    let mut reader = csv::Reader::from_path(path).unwrap_or_else(|e| panic!("{e}"));
    let headers = reader.headers().unwrap_or_else(|e| panic!("{e}")).clone();
    reader
        .records()
        .map(|r| {
            let r = r.unwrap_or_else(|e| panic!("{e}"));
            headers
                .iter()
                .map(String::from)
                .zip(r.iter().map(String::from))
                .collect()
        })
        .collect()
}

fn number(row: &BTreeMap<String, String>, column: &str) -> f64 {
    row.get(column)
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no number in `{column}` of {row:?}"))
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0)
}

fn run_three_pcns() -> tempfile::TempDir {
    let dir = tempdir();
    let scenario = dir.path().join("three.toml");
    std::fs::write(&scenario, THREE_PCNS).unwrap_or_else(|e| panic!("{e}"));
    let out = dir.path().join("out");
    ok(&[
        "run",
        &scenario.to_string_lossy(),
        "--quiet",
        "--out",
        &out.to_string_lossy(),
    ]);
    dir
}

#[test]
fn pcns_csv_has_a_row_per_arm_and_pcn_that_add_up_to_the_run() {
    let dir = run_three_pcns();
    let out = dir.path().join("out");
    let pcns = rows(&out.join("pcns.csv"));
    assert_eq!(pcns.len(), 3 * 3, "three arms × three PCNs");
    let codes: Vec<&str> = pcns
        .iter()
        .take(3)
        .map(|r| r["pcn_code"].as_str())
        .collect();
    assert_eq!(codes, ["U50130", "U62122", "U91286"], "PCNs in table order");
    for row in &pcns {
        assert_eq!(row["icb_code"], "QHG");
        assert_eq!(row["region"], "East of England");
        assert!(!row["pcn_name"].is_empty() && !row["imd_score"].is_empty());
        let q = number(row, "pcn_imd_quintile");
        assert!((1.0..=5.0).contains(&q));
    }
    let summary: serde_json::Value =
        serde_json::from_str(&read(&out.join("summary.json"))).unwrap_or_else(|e| panic!("{e}"));
    let areas = rows(&out.join("icbs.csv"));
    for arm in ["no_sp", "as_is", "need"] {
        let mine: Vec<_> = pcns.iter().filter(|r| r["arm"] == arm).collect();
        let all = areas
            .iter()
            .find(|r| r["arm"] == arm && r["level"] == "all")
            .unwrap_or_else(|| panic!("no `all` row for {arm}"));
        let icb = areas
            .iter()
            .find(|r| r["arm"] == arm && r["level"] == "icb")
            .unwrap_or_else(|| panic!("no ICB row for {arm}"));
        for column in [
            "patients",
            "lw_posts",
            "gp_consults_per_year",
            "referrals_accepted_per_year",
            "connected_per_year",
            "lw_cost_gbp_per_year",
            "gp_cost_gbp_per_year",
        ] {
            let sum: f64 = mine.iter().map(|r| number(r, column)).sum();
            assert!(
                close(sum, number(all, column)),
                "{arm} {column}: {sum} vs all"
            );
            assert!(
                close(sum, number(icb, column)),
                "{arm} {column}: {sum} vs ICB"
            );
        }
        // The `all` row is the run's summary.
        for metric in [
            "gp_consults_per_1000_per_year",
            "lw_cost_gbp_per_year",
            "connected_share",
        ] {
            match summary["arms"][arm]["metrics"][metric]["mean"].as_f64() {
                Some(mean) => assert!(close(mean, number(all, metric)), "{arm} {metric}"),
                // Undefined in the run (no referrals without the service): empty here too.
                None => assert_eq!(all[metric], "", "{arm} {metric}"),
            }
        }
    }
    // The baseline's differences are empty; the others' are there.
    let diff = "connected_per_year_diff";
    assert!(
        pcns.iter()
            .filter(|r| r["arm"] == "no_sp")
            .all(|r| r[diff].is_empty())
    );
    assert!(
        pcns.iter()
            .filter(|r| r["arm"] == "need")
            .all(|r| !r[diff].is_empty())
    );
}

#[test]
fn summary_json_gives_the_run_by_pcn_deprivation_quintile() {
    let dir = run_three_pcns();
    let out = dir.path().join("out");
    let summary: serde_json::Value =
        serde_json::from_str(&read(&out.join("summary.json"))).unwrap_or_else(|e| panic!("{e}"));
    let quintiles = summary["by_pcn_imd_quintile"]
        .as_array()
        .unwrap_or_else(|| panic!("no by_pcn_imd_quintile in summary.json"));
    let pcns: u64 = quintiles.iter().filter_map(|q| q["pcns"].as_u64()).sum();
    assert_eq!(pcns, 3);
    let patients: u64 = quintiles
        .iter()
        .filter_map(|q| q["patients"].as_u64())
        .sum();
    let listed: f64 = rows(&out.join("pcns.csv"))
        .iter()
        .filter(|r| r["arm"] == "no_sp")
        .map(|r| number(r, "patients"))
        .sum();
    assert_eq!(patients as f64, listed);
    for q in quintiles {
        assert!(
            q["arms"]["need"]["metrics"]["connected_share"]["mean"].is_number(),
            "{q}"
        );
        assert!(q["arms"]["need"]["paired_vs_baseline"].is_object());
        assert_eq!(q["arms"]["no_sp"]["lw_posts"].as_f64(), Some(0.0));
    }
    // The manifest vouches for the files by place.
    let manifest: serde_json::Value =
        serde_json::from_str(&read(&out.join("manifest.json"))).unwrap_or_else(|e| panic!("{e}"));
    for file in ["pcns.csv", "icbs.csv"] {
        assert!(
            manifest["files"][file]["sha256"].is_string(),
            "{file} in the manifest"
        );
    }
    // And records the data version and what the data could not say.
    let places = &manifest["places"];
    assert_eq!(places["data_version"], sprx::places::TABLES_SHA256);
    assert_eq!(places["source"], "england");
    assert_eq!(
        places["pcns_without_workforce_return"],
        serde_json::json!(["U50130", "U62122"])
    );
}

#[test]
fn the_run_log_names_the_pcns_whose_link_workers_are_unknown() {
    let dir = tempdir();
    let scenario = dir.path().join("three.toml");
    std::fs::write(&scenario, THREE_PCNS.replace("weeks = 110", "weeks = 5"))
        .unwrap_or_else(|e| panic!("{e}"));
    let out = crate::sprx(&["run", &scenario.to_string_lossy()]);
    assert!(out.status.success());
    let log = crate::stderr(&out);
    assert!(log.contains("places: england (3 PCNs"), "{log}");
    assert!(
        log.contains("2 PCNs made no workforce return in September 2022 (U50130, U62122)"),
        "{log}"
    );
}

#[test]
fn a_run_over_one_pcn_writes_no_files_by_place() {
    let dir = tempdir();
    let scenario = dir.path().join("one.toml");
    let one = THREE_PCNS.replace(
        r#"pcn = ["U91286", "IVEL VALLEY NORTH PCN", "u62122"]"#,
        r#"pcn = ["U91286"]"#,
    );
    std::fs::write(&scenario, one.replace("weeks = 110", "weeks = 20"))
        .unwrap_or_else(|e| panic!("{e}"));
    let out = dir.path().join("out");
    // An old run's files by place would describe another run: they go.
    std::fs::create_dir_all(&out).unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(out.join("pcns.csv"), "stale").unwrap_or_else(|e| panic!("{e}"));
    ok(&[
        "run",
        &scenario.to_string_lossy(),
        "--quiet",
        "--out",
        &out.to_string_lossy(),
    ]);
    assert!(!out.join("pcns.csv").exists());
    assert!(!out.join("icbs.csv").exists());
}
