//! `sprx places`: the committed table is what the raw files give, byte for byte; the command
//! finds PCNs by name, filters by ICB, suggests names for typos, and its summary carries the
//! raw files' known totals.

use std::path::{Path, PathBuf};

use crate::{cannot_run, ok, read, repo, sprx, stderr, stdout, tempdir};

/// The raw NHS files, beside the repository as CI and the workspace lay them out.
fn raw_dir() -> PathBuf {
    repo("../shared/data/england")
}

const TABLE_FILES: [&str; 5] = [
    "practices.csv",
    "pcns.csv",
    "icbs.csv",
    "derivation.json",
    "tables.sha256",
];

#[test]
fn rebuilding_from_the_raw_files_gives_the_committed_table_byte_for_byte() {
    let raw = raw_dir();
    if !raw.join("SHA256SUMS").is_file() {
        cannot_run(&format!("no raw data at {}", raw.display()));
        return;
    }
    let out = tempdir();
    let text = ok(&[
        "places",
        "build",
        "--from",
        &raw.to_string_lossy(),
        "--out",
        &out.path().to_string_lossy(),
    ]);
    assert!(text.contains("1266 PCNs"), "{text}");
    for file in TABLE_FILES {
        let built = std::fs::read(out.path().join(file)).unwrap_or_else(|e| panic!("{e}"));
        let committed =
            std::fs::read(repo("data/places").join(file)).unwrap_or_else(|e| panic!("{e}"));
        assert!(
            built == committed,
            "data/places/{file} differs from a rebuild; regenerate with\n    \
             cargo run -- places build --from ../shared/data/england --out data/places"
        );
    }
}

/// Copies the raw files to a temporary folder, changing one byte of `damage` if given.
fn raw_copy(dir: &Path, damage: Option<&str>) {
    for entry in std::fs::read_dir(raw_dir()).unwrap_or_else(|e| panic!("{e}")) {
        let path = entry.unwrap_or_else(|e| panic!("{e}")).path();
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
        let Some(name) = name else { continue };
        let mut bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{e}"));
        if damage == Some(name.as_str()) {
            let last = bytes.len() - 2;
            bytes[last] ^= 1;
        }
        std::fs::write(dir.join(&name), bytes).unwrap_or_else(|e| panic!("{e}"));
    }
}

#[test]
fn a_raw_file_that_fails_its_checksum_is_refused_by_name() {
    if !raw_dir().join("SHA256SUMS").is_file() {
        cannot_run(&format!("no raw data at {}", raw_dir().display()));
        return;
    }
    let dir = tempdir();
    let file = "practice-imd-fingertips-93553.csv";
    raw_copy(dir.path(), Some(file));
    let out_dir = dir.path().join("out");
    let out = sprx(&[
        "places",
        "build",
        "--from",
        &dir.path().to_string_lossy(),
        "--out",
        &out_dir.to_string_lossy(),
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains(file), "{}", stderr(&out));
    assert!(stderr(&out).contains("SHA256SUMS"), "{}", stderr(&out));
    assert!(!out_dir.exists(), "nothing is written from a damaged file");
}

#[test]
fn a_build_without_checksums_names_the_missing_file() {
    let dir = tempdir();
    let out = sprx(&[
        "places",
        "build",
        "--from",
        &dir.path().to_string_lossy(),
        "--out",
        &dir.path().join("out").to_string_lossy(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("SHA256SUMS"), "{}", stderr(&out));
}

#[test]
fn search_finds_a_pcn_by_part_of_its_name_in_any_case() {
    let text = ok(&["places", "--search", "sefton"]);
    assert!(text.contains("SOUTH SEFTON PCN"), "{text}");
    assert!(text.contains("NHS Cheshire and Merseyside ICB"), "{text}");
    assert!(text.contains("North West"), "{text}");
    assert!(!text.contains("BARNSLEY PCN"), "{text}");
}

#[test]
fn search_by_practice_shows_the_practice_under_its_pcn() {
    let text = ok(&["places", "--search", "densham"]);
    let pcn = text.find("STOCKTON PCN");
    let practice = text.find("A81001  THE DENSHAM SURGERY");
    assert!(pcn.is_some() && practice > pcn, "{text}");
}

/// The PCN lines of a listing (indented four spaces, code `U…`).
fn pcn_lines(text: &str) -> Vec<&str> {
    text.lines().filter(|l| l.starts_with("    U")).collect()
}

#[test]
fn the_icb_filter_takes_a_code_or_a_name_and_keeps_only_that_icb() {
    let by_code = ok(&["places", "--icb", "QJK"]);
    assert_eq!(ok(&["places", "--icb", "nhs devon icb"]), by_code);
    assert_eq!(ok(&["places", "--icb", "Devon"]), by_code);
    let icbs: Vec<&str> = by_code.lines().filter(|l| l.starts_with("  Q")).collect();
    assert_eq!(icbs.len(), 1, "{by_code}");
    assert!(icbs[0].contains("NHS Devon ICB"), "{by_code}");
    let pcns = pcn_lines(&by_code);
    assert!(pcns.len() > 20, "{by_code}");
    assert!(
        by_code.contains(&format!("{} PCNs", pcns.len())),
        "{by_code}"
    );
    // Search within the ICB.
    let text = ok(&["places", "--icb", "QJK", "--search", "barnstaple"]);
    assert_eq!(pcn_lines(&text).len(), 1, "{text}");
}

#[test]
fn the_region_filter_takes_the_short_name() {
    let text = ok(&["places", "--region", "north east and yorkshire"]);
    let regions: Vec<&str> = text.lines().filter(|l| l.starts_with("Y")).collect();
    assert_eq!(regions.len(), 1, "{text}");
    assert!(regions[0].contains("North East and Yorkshire"), "{text}");
}

#[test]
fn unknown_link_worker_fte_is_shown_as_unknown_not_zero() {
    let text = ok(&["places"]);
    let unknown = pcn_lines(&text)
        .into_iter()
        .filter(|l| l.ends_with("unknown"))
        .count();
    let zero = pcn_lines(&text)
        .into_iter()
        .filter(|l| l.ends_with(" 0.00"))
        .count();
    assert_eq!(unknown, 165, "PCNs with no workforce return");
    assert!(zero > 100, "PCNs that returned no link worker: {zero}");
    assert_eq!(pcn_lines(&text).len(), 1266);
}

#[test]
fn a_typo_in_a_filter_exits_2_with_the_nearest_names() {
    let out = sprx(&["places", "--icb", "Devn"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("NHS Devon ICB (QJK)"),
        "{}",
        stderr(&out)
    );
    assert!(stdout(&out).is_empty());

    let out = sprx(&["places", "--region", "Londn"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("Did you mean London?"),
        "{}",
        stderr(&out)
    );

    let out = sprx(&["places", "--search", "barnsly"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("BARNSLEY PCN"), "{}", stderr(&out));
}

/// The value after a summary line's label.
fn summary_value<'a>(text: &'a str, section: &str, label: &str) -> &'a str {
    let start = text
        .find(section)
        .unwrap_or_else(|| panic!("no section {section}:\n{text}"));
    text[start..]
        .lines()
        .find_map(|l| l.trim_start().strip_prefix(label))
        .map(str::trim)
        .unwrap_or_else(|| panic!("no `{label}` under {section}:\n{text}"))
}

#[test]
fn the_summary_matches_the_raw_files_known_totals() {
    let text = ok(&["places", "--summary"]);
    let raw = "Raw files, before drops (England)";
    // The raw data's README: 62.13 million patients in 1,272 PCNs, 42 ICBs, 7 regions;
    // 2,259 link workers, 2,047 FTE in 886 PCNs, 1,105 PCNs in the workforce file.
    assert_eq!(summary_value(&text, raw, "practices"), "6,669");
    assert_eq!(
        summary_value(&text, raw, "registered patients"),
        "62,134,645"
    );
    assert!(summary_value(&text, raw, "PCNs").starts_with("1,272 (+ 178 practices"));
    assert_eq!(summary_value(&text, raw, "ICBs"), "42");
    assert_eq!(summary_value(&text, raw, "regions"), "7");
    assert_eq!(
        summary_value(&text, raw, "PCNs with a workforce return"),
        "1,105"
    );
    assert_eq!(
        summary_value(&text, raw, "link workers (rows; FTE; PCNs with FTE > 0)"),
        "2,259; 2,047.0 FTE; 886 PCNs"
    );
    let dropped = "Dropped practices";
    assert_eq!(
        summary_value(&text, dropped, "closed (a close date is set)"),
        "176 (162 patients)"
    );
    assert!(summary_value(&text, dropped, "in no PCN").ends_with("178 (793,346 patients)"));
    let kept = "Kept (England)";
    assert_eq!(summary_value(&text, kept, "PCNs"), "1,266");
    assert_eq!(summary_value(&text, kept, "ICBs"), "42");
    assert_eq!(summary_value(&text, kept, "regions"), "7");
    let unmatched = "Not matched (England)";
    assert!(
        summary_value(&text, unmatched, "practices without an IMD 2019 score").starts_with("16 ")
    );
    assert!(
        summary_value(
            &text,
            unmatched,
            "PCNs without workforce data (FTE unknown)"
        )
        .starts_with("165 of 1,266")
    );
    assert!(text.contains(
        "Contains public sector information licensed under the Open Government Licence v3.0"
    ));
}

#[test]
fn the_summary_of_a_selection_counts_only_it() {
    let text = ok(&["places", "--summary", "--icb", "QJK"]);
    assert_eq!(summary_value(&text, "Kept (selection)", "ICBs"), "1");
    assert_eq!(summary_value(&text, "Kept (selection)", "regions"), "1");
}

#[test]
fn the_committed_table_reads_without_the_raw_files() {
    // The embedded copy is the committed one: the binary needs nothing beside it.
    let embedded = sprx::places::table::TableFiles::embedded();
    assert_eq!(embedded.practices, read(&repo("data/places/practices.csv")));
    assert_eq!(
        sprx::places::TABLES_SHA256,
        read(&repo("data/places/tables.sha256"))
    );
}
