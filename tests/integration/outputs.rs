//! `sprx run --out`: the five files, their columns and shape, and the determinism contract
//! (byte-identical results at any thread count).

use std::path::Path;

use sprx::metrics::summary::SUMMARY_METRICS;
use sprx::metrics::weekly::WEEKLY_COLUMNS;

use crate::{ok, read, tempdir};

const SMALL: &str = "tests/data/small.toml";
const ARMS: [&str; 3] = ["no_sp", "bolted_on", "belonging"];
const REPLICATES: usize = 4;
const WEEKS: usize = 60;
const DETERMINISTIC: [&str; 4] = [
    "summary.json",
    "summary.csv",
    "replicates.csv",
    "weekly.csv",
];

fn run_into(dir: &Path, extra: &[&str]) -> String {
    let out = dir.to_string_lossy().into_owned();
    let mut args = vec!["run", SMALL, "--out", out.as_str(), "--quiet"];
    args.extend_from_slice(extra);
    ok(&args)
}

fn header(text: &str) -> Vec<&str> {
    text.lines()
        .next()
        .map(|l| l.split(',').collect())
        .unwrap_or_default()
}

#[test]
fn run_prints_the_comparison_and_writes_its_files() {
    let dir = tempdir();
    let table = run_into(dir.path(), &[]);
    assert!(table.contains("scenario small"), "{table}");
    assert!(table.contains("Paired difference arm − no_sp"), "{table}");
    assert!(table.contains("GP consultations /1,000/yr"), "{table}");

    let mut names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap_or_else(|e| panic!("{e}"))
        .filter_map(|e| e.ok().map(|e| e.file_name().to_string_lossy().into_owned()))
        .collect();
    names.sort();
    assert_eq!(
        names,
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

    let weekly = read(&dir.path().join("weekly.csv"));
    let expected: Vec<&str> = ["arm", "replicate", "week"]
        .into_iter()
        .chain(WEEKLY_COLUMNS.iter().map(|c| c.name))
        .collect();
    assert_eq!(header(&weekly), expected);
    assert_eq!(weekly.lines().count(), 1 + ARMS.len() * REPLICATES * WEEKS);

    let replicates = read(&dir.path().join("replicates.csv"));
    let expected: Vec<&str> = ["arm", "replicate"]
        .into_iter()
        .chain(SUMMARY_METRICS.iter().map(|m| m.name))
        .collect();
    assert_eq!(header(&replicates), expected);
    assert_eq!(replicates.lines().count(), 1 + ARMS.len() * REPLICATES);
    // Undefined metrics are empty cells: no_sp has no referrals, so no waits.
    let wait = SUMMARY_METRICS
        .iter()
        .position(|m| m.name == "wait_weeks_mean")
        .unwrap_or(0)
        + 2;
    let no_sp_row: Vec<&str> = replicates
        .lines()
        .nth(1)
        .map(|l| l.split(',').collect())
        .unwrap_or_default();
    assert_eq!(no_sp_row[..2], ["no_sp", "0"]);
    assert_eq!(no_sp_row[wait], "");

    let summary_csv = read(&dir.path().join("summary.csv"));
    assert_eq!(
        header(&summary_csv),
        ["arm", "comparison", "metric", "statistic", "value"]
    );
    // Three arms' values and two arms' paired differences, five statistics each.
    assert_eq!(
        summary_csv.lines().count(),
        1 + (ARMS.len() + ARMS.len() - 1) * SUMMARY_METRICS.len() * 5
    );
    assert!(
        summary_csv
            .contains("\nbolted_on,paired_vs_baseline,gp_consults_per_1000_per_year,ci95_lo,")
    );
}

#[test]
fn summary_json_has_arms_in_order_with_paired_differences_and_the_resolved_scenario() {
    let dir = tempdir();
    run_into(dir.path(), &[]);
    let text = read(&dir.path().join("summary.json"));
    let json: serde_json::Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(json["baseline"], "no_sp");
    assert_eq!(json["replicates"], REPLICATES);
    assert_eq!(json["seed"], 42);
    assert_eq!(json["sprx_version"], env!("CARGO_PKG_VERSION"));
    let gp = &json["arms"]["bolted_on"]["metrics"]["gp_consults_per_1000_per_year"];
    assert!(gp["mean"].is_f64() && gp["sd"].is_f64(), "{gp}");
    assert_eq!(gp["n"], REPLICATES);
    assert_eq!(gp["ci95"].as_array().map(Vec::len), Some(2));
    assert!(json["arms"]["no_sp"].get("paired_vs_baseline").is_none());
    let paired =
        &json["arms"]["belonging"]["paired_vs_baseline"]["referrals_accepted_per_1000_per_year"];
    assert!(paired["mean"].as_f64().is_some_and(|m| m > 0.0), "{paired}");
    // Undefined: no waits without referrals.
    assert!(json["arms"]["no_sp"]["metrics"]["wait_weeks_mean"]["mean"].is_null());
    assert_eq!(json["scenario"]["arms"][2]["params"]["lw_per_pcn"], 1);
    assert_eq!(json["scenario"]["arms"][2]["overrides"]["lw_per_pcn"], 1);
    assert_eq!(
        json["scenario"]["population"]["patients_per_practice"],
        2000
    );
    // Declaration order, not alphabetical: the top-level keys and the arms as in the scenario.
    let at = |key: &str| text.find(key).unwrap_or(usize::MAX);
    assert!(at("\"arms\"") < at("\"baseline\"") && at("\"baseline\"") < at("\"scenario\""));
    assert!(at("\"no_sp\"") < at("\"bolted_on\"") && at("\"bolted_on\"") < at("\"belonging\""));
}

#[test]
fn manifest_records_provenance() {
    let dir = tempdir();
    run_into(dir.path(), &["--threads", "1"]);
    let json: serde_json::Value = serde_json::from_str(&read(&dir.path().join("manifest.json")))
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(json["scenario"], SMALL);
    assert_eq!(
        json["scenario_sha256"],
        sprx::scenario::sha256_hex(&read(&crate::repo(SMALL)))
    );
    assert_eq!(json["threads"], 1);
    assert_eq!(json["replicates"], REPLICATES);
    let command: Vec<&str> = json["command_line"]
        .as_array()
        .map(|a| a.iter().filter_map(|v| v.as_str()).collect())
        .unwrap_or_default();
    assert_eq!(command[1..3], ["run", SMALL]);
    assert_eq!(command[command.len() - 2..], ["--threads", "1"]);
    for key in [
        "sprx_version",
        "git_commit",
        "started",
        "finished",
        "elapsed_seconds",
        "hostname",
    ] {
        assert!(json.get(key).is_some(), "{key}");
    }
    assert!(chrono::DateTime::parse_from_rfc3339(json["started"].as_str().unwrap_or("")).is_ok());
}

#[test]
fn outputs_are_byte_identical_at_any_thread_count() {
    let one = tempdir();
    let two = tempdir();
    run_into(one.path(), &["--threads", "1"]);
    run_into(two.path(), &["--threads", "2"]);
    for file in DETERMINISTIC {
        assert!(
            read(&one.path().join(file)) == read(&two.path().join(file)),
            "{file} differs between 1 and 2 threads"
        );
    }
}

#[test]
fn replicates_and_seed_flags_override_the_scenario() {
    let base = tempdir();
    let other = tempdir();
    run_into(base.path(), &["--replicates", "2"]);
    run_into(other.path(), &["--replicates", "2", "--seed", "43"]);
    let replicates = read(&base.path().join("replicates.csv"));
    assert_eq!(replicates.lines().count(), 1 + ARMS.len() * 2);
    let summary: serde_json::Value =
        serde_json::from_str(&read(&other.path().join("summary.json")))
            .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(summary["seed"], 43);
    assert_ne!(
        replicates,
        read(&other.path().join("replicates.csv")),
        "another seed, other draws"
    );
}

#[test]
fn no_temporary_files_are_left_behind() {
    let dir = tempdir();
    run_into(dir.path(), &[]);
    let leftovers: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap_or_else(|e| panic!("{e}"))
        .filter_map(|e| e.ok().map(|e| e.file_name().to_string_lossy().into_owned()))
        .filter(|n| n.starts_with('.'))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}
