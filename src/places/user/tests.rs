//! The user's-table parser: defaults for left-out columns, PCN-level values given once, every
//! mistake reported by row and column, and deprivation ranked against England.

use super::*;
use crate::places::deprivation::mix_at_rank;

fn england() -> &'static Places {
    Places::england().unwrap_or_else(|e| panic!("{e}"))
}

fn places(text: &str) -> Places {
    parse("my.csv", text.as_bytes(), england()).unwrap_or_else(|errors| {
        let lines: Vec<String> = errors.iter().map(ToString::to_string).collect();
        panic!("unexpected errors:\n{}", lines.join("\n"))
    })
}

/// The errors of a table that must be refused, as displayed.
fn errors(bytes: &[u8]) -> Vec<String> {
    match parse("my.csv", bytes, england()) {
        Ok(_) => panic!("a broken table was accepted"),
        Err(errors) => errors.iter().map(ToString::to_string).collect(),
    }
}

#[test]
fn a_table_of_pcn_codes_and_patients_takes_defaults_for_everything_else() {
    let p = places("pcn_code,patients\nU2,500\nU1,1200.5\nU1,800\n");
    assert_eq!(p.pcns.len(), 2);
    let codes: Vec<&str> = p.practices.iter().map(|x| x.code.as_str()).collect();
    assert_eq!(codes, ["U1-1", "U1-2", "U2-1"]);
    let first = &p.practices[0];
    assert_eq!(first.patients, 1200.5);
    assert_eq!(
        first.weighted_patients, 1200.5,
        "weighted defaults to registered"
    );
    assert_eq!(first.rurality, Rurality::Urban);
    assert_eq!(first.imd_2019, None);
    assert_eq!(first.name, "U1-1");
    assert_eq!(
        (p.pcns[0].code.as_str(), p.pcns[0].name.as_str()),
        ("U1", "U1")
    );
    assert_eq!(p.pcns[0].lw_fte, None);
    assert_eq!(p.pcns[0].practices, [0, 1]);
    assert_eq!(p.icbs.len(), 1);
    assert_eq!(
        (p.icbs[0].code.as_str(), p.icbs[0].name.as_str()),
        ("", NO_NAME)
    );
    assert_eq!(p.regions[0].name, NO_NAME);
    // No score anywhere in the PCN: the national mix.
    assert_eq!(p.practice_mix(0), [0.2; 5]);
}

#[test]
fn pcn_columns_given_on_one_row_describe_the_whole_pcn() {
    let p = places(
        "pcn_code,pcn_name,icb_code,icb_name,region,lw_fte,patients,rurality\n\
         U1,,,,,,100,rural\n\
         U1,Riverside PCN,Q1,NHS Somewhere ICB,Midlands,1.5,200,Urban\n\
         U2,Hillside PCN,Q1,,,,300,\n",
    );
    let riverside = &p.pcns[0];
    assert_eq!(riverside.name, "Riverside PCN");
    assert_eq!(riverside.lw_fte, Some(1.5));
    assert_eq!(p.icbs.len(), 1, "U2 names the same ICB by code");
    assert_eq!(p.icbs[0].name, "NHS Somewhere ICB");
    assert_eq!(p.regions[p.icbs[0].region].name, "Midlands");
    assert_eq!(p.pcns[1].icb, riverside.icb);
    assert_eq!(p.practices[0].rurality, Rurality::Rural);
}

#[test]
fn scores_are_ranked_against_england_not_against_the_tables_own_practices() {
    // One practice cannot calibrate national quintiles: calibrated on itself, it would sit at
    // the middle rank whatever its score.
    let p = places("pcn_code,patients,imd_2019\nU1,5000,45\nU1,5000,\n");
    let national = england().deprivation().mix(45.0);
    assert_eq!(p.practice_mix(0), national);
    assert!(
        national[0] > 0.5,
        "a score of 45 is among England's most deprived"
    );
    assert_ne!(p.practice_mix(0), mix_at_rank(0.5));
    // A practice without a score takes its PCN's mean.
    assert_eq!(p.practice_mix(1), national);
}

#[test]
fn unknown_link_worker_fte_is_imputed_from_the_table_else_from_england() {
    let p = places("pcn_code,icb_code,patients,lw_fte\nU1,Q1,10000,2\nU2,Q1,5000,\nU3,Q2,1000,\n");
    // U2 takes its ICB's rate (2 FTE per 10,000); U3's ICB has no return: the table's rate.
    assert!((p.lw_fte_as_is(1) - 1.0).abs() < 1e-12);
    assert!((p.lw_fte_as_is(2) - 0.2).abs() < 1e-12);
    // No PCN of the table reported: England's rate, never 0.
    let p = places("pcn_code,patients\nU1,10000\n");
    let england_rate = england().lw_fte_per_patient().unwrap_or(0.0);
    assert!(england_rate > 0.0);
    assert!((p.lw_fte_as_is(0) - 10000.0 * england_rate).abs() < 1e-9);
}

#[test]
fn row_order_does_not_change_the_places() {
    let a = places("practice_code,pcn_code,patients\nB,U2,10\nA,U1,20\nC,U1,30\n");
    let b = places("practice_code,pcn_code,patients\nC,U1,30\nB,U2,10\nA,U1,20\n");
    assert_eq!(a, b);
}

#[test]
fn england_rows_copied_give_englands_pcn() {
    let england = england();
    let pcn = england
        .find(crate::places::Level::Pcn, "U00070")
        .unwrap_or_else(|| panic!("U00070 is in England's table"));
    let mut text = String::from(
        "practice_code,practice_name,pcn_code,icb_code,patients,weighted_patients,rurality,imd_2019,lw_fte\n",
    );
    for &i in &england.pcns[pcn].practices {
        let p = &england.practices[i];
        text.push_str(&format!(
            "{},{},U00070,QWE,{},{},{},{},{}\n",
            p.code,
            p.name,
            p.patients,
            p.weighted_patients,
            p.rurality.as_str(),
            p.imd_2019.map_or(String::new(), |s| s.to_string()),
            england.pcns[pcn]
                .lw_fte
                .map_or(String::new(), |f| f.to_string()),
        ));
    }
    let mine = places(&text);
    for (k, &i) in england.pcns[pcn].practices.iter().enumerate() {
        assert_eq!(
            mine.practices[k],
            Practice {
                pcn: 0,
                icb: 0,
                ..england.practices[i].clone()
            }
        );
        assert_eq!(mine.practice_mix(k), england.practice_mix(i));
    }
    assert_eq!(mine.lw_fte_as_is(0), england.lw_fte_as_is(pcn));
}

#[test]
fn every_mistake_in_the_file_is_reported_at_once_by_row_and_column() {
    let found = errors(
        b"pcn_code,patients,rurality,imd_2019,lw_fte,pcn_name,practice_code\n\
          U1,9600,Urban,20,1,One,A\n\
          U1,abc,Rurl,x,-1,Uno,A\n\
          U1,-5,,,2,,B\n\
          U2,NaN,,,,,C\n\
          U2,0.4,,,,,\n\
          U2,5\n\
          ,100,,,,,\n\
          u1,100,,,,,Z\n",
    );
    let expected = [
        "my.csv, row 3, column `patients`: `abc` is not a number: expected the practice's registered patients, 1 or more",
        "my.csv, row 3, column `rurality`: `Rurl` is neither `Urban` nor `Rural` (empty means Urban)",
        "my.csv, row 3, column `imd_2019`: `x` is not a number: expected an IMD 2019 score, 0 or more, or empty if unknown",
        "my.csv, row 3, column `lw_fte`: -1 is negative: expected the PCN's link-worker FTE, 0 or more, or empty if unknown",
        "my.csv, row 3, column `pcn_name`: PCN U1: `Uno` here but `One` on row 2: all its rows must give the same pcn_name, or leave it empty",
        "my.csv, row 3, column `practice_code`: `A` is also on row 2: practice codes must be unique",
        "my.csv, row 4, column `patients`: -5 is negative: expected the practice's registered patients, 1 or more",
        "my.csv, row 4, column `lw_fte`: PCN U1: `2` here but `1` on row 2: all its rows must give the same lw_fte, or leave it empty",
        "my.csv, row 5, column `patients`: `NaN` is not a number: expected the practice's registered patients, 1 or more",
        "my.csv, row 6, column `patients`: 0.4 is less than 1: a practice needs at least one registered patient (leave out practices whose list is empty)",
        "my.csv, row 7: has 2 fields, but the header has 7 columns",
        "my.csv, row 8, column `pcn_code`: is empty: every practice belongs to a PCN, the unit sprx runs",
        "my.csv, row 9, column `pcn_code`: `u1` differs from `U1` on row 2 only in case: PCN codes are compared without case, so write one PCN's code one way",
    ];
    assert_eq!(found, expected);
}

#[test]
fn header_mistakes_name_the_column_and_the_nearest_valid_one() {
    let found = errors(b"pcn_code,patient,Rurality,pcn_code,\nU1,100,Urban,U1,\n");
    assert_eq!(
        found,
        [
            "my.csv, row 1, column `patient`: unknown column, did you mean `patients`?",
            "my.csv, row 1, column `Rurality`: unknown column, did you mean `rurality`?",
            "my.csv, row 1, column `pcn_code`: is the header of columns 1 and 4",
            "my.csv, row 1: column 5 has no name: expected one of practice_code, practice_name, pcn_code, pcn_name, icb_code, icb_name, region_code, region, patients, weighted_patients, rurality, imd_2019, lw_fte",
            "my.csv, row 1, column `patients`: missing from the header: every practice needs its registered patients",
        ]
    );
    let found = errors(b"pcn_code;patients\nU1;100\n");
    assert!(
        found[0]
            .contains("the header looks separated by ';', but the table must be comma-separated"),
        "{found:?}"
    );
    let found = errors(b"practice,patients\nA,100\n");
    assert!(
        found
            .iter()
            .any(|e| e.contains("column `pcn_code`: missing from the header")),
        "{found:?}"
    );
}

#[test]
fn icbs_and_regions_must_agree_across_their_pcns() {
    let found = errors(
        b"pcn_code,icb_code,icb_name,region_code,region,patients\n\
          U1,Q1,NHS One ICB,Y1,London,100\n\
          U2,Q1,NHS Uno ICB,Y1,London,100\n\
          U3,Q2,NHS Two ICB,Y1,Midlands,100\n",
    );
    assert_eq!(
        found,
        [
            "my.csv, row 3, column `icb_name`: ICB Q1: `NHS Uno ICB` here but `NHS One ICB` on row 2: all its rows must give the same icb_name, or leave it empty",
            "my.csv, row 4, column `region`: region Y1: `Midlands` here but `London` on row 2: all its rows must give the same region, or leave it empty",
        ]
    );
}

#[test]
fn a_file_that_is_not_utf8_empty_or_without_rows_is_refused_by_name() {
    assert_eq!(
        errors(b"pcn_code,patients\nU1,100\nCAF\xc9,1\n"),
        [
            "my.csv, row 3: is not UTF-8 text (byte 29 of the file is 0xC9): save the table as \"CSV UTF-8\""
        ]
    );
    assert_eq!(
        errors(b""),
        ["my.csv: is empty: expected a header row, then one row per practice"]
    );
    assert_eq!(
        errors(b"pcn_code,patients\n,,\n"),
        ["my.csv: has no practice rows: expected one row per practice below the header"]
    );
}

#[test]
fn a_byte_order_mark_and_blank_rows_are_ignored() {
    let p = places("\u{feff}pcn_code,patients\r\nU1,100\r\n,\r\nU1,200\r\n");
    assert_eq!(p.practices.len(), 2);
}

#[test]
fn a_missing_file_is_named_by_its_resolved_path() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let path = dir.path().join("nowhere.csv");
    let Err(found) = load(&path, england()) else {
        panic!("a missing file was read");
    };
    let text = found[0].to_string();
    assert!(
        text.starts_with(&format!("{}: cannot read the places table", path.display())),
        "{text}"
    );
    assert!(text.contains("relative to the scenario file"), "{text}");
}

#[test]
fn a_loaded_table_carries_the_sha256_of_its_bytes() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let path = dir.path().join("mine.csv");
    std::fs::write(&path, "pcn_code,patients\nU1,100\n").unwrap_or_else(|e| panic!("{e}"));
    let table = load(&path, england()).unwrap_or_else(|e| panic!("{e:?}"));
    // sha256sum of the text above.
    let expected = hex::encode(Sha256::digest(b"pcn_code,patients\nU1,100\n"));
    assert_eq!(table.sha256, expected);
    assert_eq!(table.sha256.len(), 64);
}
