//! `[population] source = "my_pcns.csv"`: a user's own places table runs, is recorded in
//! `summary.json` by path and SHA-256, is filtered like England's, and England's rows copied
//! into it give England's run byte for byte. (Its mistakes are in the bad-scenario corpus,
//! `tests/data/bad/own_places_*.toml`.)

use std::path::Path;

use sha2::{Digest, Sha256};

use crate::{ok, read, repo, tempdir};

/// A short run: enough weeks for referrals to flow, few enough to stay quick.
const SHORT_RUN: &str = "[run]\nseed = 5\nreplicates = 2\nweeks = 8\nwarmup_weeks = 2\n";

/// Arms that use every column of a table: `as_is` reads the link-worker FTE.
const ARMS: &str = "[[arm]]\nname = \"no_sp\"\n\n[[arm]]\nname = \"as_is\"\npreset = \"fitting_in\"\nlw_allocation = \"as_is\"\n";

fn write(path: &Path, text: &str) {
    std::fs::write(path, text).unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
}

/// Runs `scenario` into `out` and returns the output directory's `file`.
fn run_file(scenario: &Path, out: &Path, file: &str) -> Vec<u8> {
    ok(&[
        "run",
        &scenario.to_string_lossy(),
        "--out",
        &out.to_string_lossy(),
        "--quiet",
    ]);
    std::fs::read(out.join(file)).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn the_shipped_example_table_runs_and_is_recorded_by_path_and_sha256() {
    let dir = tempdir();
    let example = repo("scenarios/my_pcns.toml");
    // A variant in another folder: the table stays relative to the file that names it.
    let short = dir.path().join("short.toml");
    write(
        &short,
        &format!("base = {:?}\n{SHORT_RUN}", example.to_string_lossy()),
    );
    let out = dir.path().join("out");
    let summary = run_file(&short, &out, "summary.json");
    let summary: serde_json::Value =
        serde_json::from_slice(&summary).unwrap_or_else(|e| panic!("{e}"));
    let places = &summary["scenario"]["population"]["places"];
    assert_eq!(places["source"], "my_pcns.csv", "{places}");
    // summary.json must not depend on the working directory: the resolved path is in the
    // manifest, with the table's SHA-256 as the data version.
    assert!(places.get("path").is_none(), "{places}");
    let bytes = std::fs::read(repo("scenarios/my_pcns.csv")).unwrap_or_else(|e| panic!("{e}"));
    let sha256 = hex::encode(Sha256::digest(&bytes));
    assert_eq!(places["sha256"], sha256, "{places}");
    assert_eq!(summary["scenario"]["population"]["pcns"], 2);
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("manifest.json")).unwrap_or_default())
            .unwrap_or_else(|e| panic!("{e}"));
    let recorded = &manifest["places"];
    let path = recorded["path"].as_str().unwrap_or_default();
    assert!(path.ends_with("scenarios/my_pcns.csv"), "{recorded}");
    assert_eq!(recorded["data_version"], sha256, "{recorded}");
    assert_eq!(recorded["source"], "my_pcns.csv", "{recorded}");
}

#[test]
fn filters_select_from_a_users_table_by_code_or_name_in_any_case() {
    let dir = tempdir();
    std::fs::copy(repo("scenarios/my_pcns.csv"), dir.path().join("mine.csv"))
        .unwrap_or_else(|e| panic!("{e}"));
    let scenario = dir.path().join("hillside.toml");
    for filter in ["pcn = [\"hillside pcn (invented)\"]", "pcn = [\"zz902\"]"] {
        write(
            &scenario,
            &format!("[population]\nsource = \"mine.csv\"\n{filter}\n{ARMS}"),
        );
        let text = ok(&["validate", &scenario.to_string_lossy()]);
        // Hillside's two practices: 9,800 + 4,300 patients.
        assert!(text.contains(" 14100 patients (1 PCN"), "{filter}: {text}");
    }
    write(
        &scenario,
        &format!(
            "[population]\nsource = \"mine.csv\"\nicb = [\"zz9\"]\nregion = [\"MIDLANDS\"]\n{ARMS}"
        ),
    );
    let text = ok(&["validate", &scenario.to_string_lossy()]);
    assert!(text.contains(" 39850 patients (2 PCN"), "{text}");
}

/// A user's table holding England's rows for `pcn` (from the committed tables), with the
/// PCN's link-worker FTE on every row.
fn england_rows(pcn: &str) -> String {
    let fte = csv_rows(&repo("data/places/pcns.csv"))
        .into_iter()
        .find(|r| r[0] == pcn)
        .map(|r| r[3].clone())
        .unwrap_or_else(|| panic!("{pcn} is not in pcns.csv"));
    let mut out = csv::Writer::from_writer(Vec::new());
    let header = [
        "practice_code",
        "practice_name",
        "pcn_code",
        "icb_code",
        "patients",
        "weighted_patients",
        "rurality",
        "imd_2019",
        "lw_fte",
    ];
    out.write_record(header).unwrap_or_else(|e| panic!("{e}"));
    for mut row in csv_rows(&repo("data/places/practices.csv")) {
        if row[2] == pcn {
            row.push(fte.clone());
            out.write_record(&row).unwrap_or_else(|e| panic!("{e}"));
        }
    }
    String::from_utf8(out.into_inner().unwrap_or_else(|e| panic!("{e}")))
        .unwrap_or_else(|e| panic!("{e}"))
}

fn csv_rows(path: &Path) -> Vec<Vec<String>> {
    let text = read(path);
    csv::Reader::from_reader(text.as_bytes())
        .records()
        .map(|r| {
            r.unwrap_or_else(|e| panic!("{e}"))
                .iter()
                .map(str::to_string)
                .collect()
        })
        .collect()
}

#[test]
fn englands_rows_copied_into_a_users_table_run_byte_for_byte_as_england() {
    // U00070 (WEST MERTON PCN): two practices, link-worker FTE reported (0.667).
    let pcn = "U00070";
    let dir = tempdir();
    let table = england_rows(pcn);
    assert_eq!(table.lines().count(), 3, "{table}");
    write(&dir.path().join("copy.csv"), &table);
    let mine = dir.path().join("mine.toml");
    write(
        &mine,
        &format!("{SHORT_RUN}[population]\nsource = \"copy.csv\"\n{ARMS}"),
    );
    let england = dir.path().join("england.toml");
    write(
        &england,
        &format!("{SHORT_RUN}[population]\nsource = \"england\"\npcn = [\"{pcn}\"]\n{ARMS}"),
    );
    run_file(&mine, &dir.path().join("mine"), "manifest.json");
    run_file(&england, &dir.path().join("england"), "manifest.json");
    let output = |run: &str, file: &str| {
        std::fs::read(dir.path().join(run).join(file)).unwrap_or_else(|e| panic!("{e}"))
    };
    for file in ["replicates.csv", "weekly.csv"] {
        assert!(
            output("mine", file) == output("england", file),
            "{file} differs between the copied rows and England's"
        );
    }
    // The comparison can fail: one practice's IMD score changed changes the run.
    let first_score = table
        .lines()
        .nth(1)
        .and_then(|l| l.split(',').nth(7))
        .unwrap_or_else(|| panic!("{table}"))
        .to_string();
    write(
        &dir.path().join("copy.csv"),
        &table.replacen(&format!(",{first_score},"), ",60,", 1),
    );
    let changed = run_file(&mine, &dir.path().join("changed"), "replicates.csv");
    let england_run = output("england", "replicates.csv");
    assert!(
        changed != england_run,
        "a changed score left the run unchanged"
    );
}
