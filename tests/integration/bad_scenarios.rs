//! Every file of `tests/data/bad/` is refused with exit code 2 by `validate` and by `run`, with
//! an error naming the file, a line and column, and every substring its leading `# expect:`
//! lines name (a file with several mistakes expects each of them, reported in one go); and
//! `run --out` creates nothing.

use std::path::PathBuf;

use crate::{read, repo, sprx, stderr, tempdir};

fn corpus() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(repo("tests/data/bad"))
        .unwrap_or_else(|e| panic!("cannot list tests/data/bad: {e}"))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    files
}

/// Whether `text` contains `file:LINE:COL:` with numbers for LINE and COL.
fn names_file_line_column(text: &str, file: &str) -> bool {
    text.match_indices(file).any(|(i, _)| {
        let mut parts = text[i + file.len()..].splitn(4, ':');
        parts.next() == Some("")
            && (0..2).all(|_| {
                parts
                    .next()
                    .is_some_and(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()))
            })
    })
}

#[test]
fn the_corpus_covers_at_least_fifteen_mistakes() {
    assert!(corpus().len() >= 15, "{} files", corpus().len());
}

#[test]
fn each_bad_scenario_is_refused_with_its_expected_message_and_position() {
    for path in corpus() {
        let text = read(&path);
        let expected: Vec<&str> = text
            .lines()
            .map_while(|l| l.strip_prefix("# expect: "))
            .collect();
        assert!(
            !expected.is_empty(),
            "{} lacks a `# expect:` first line",
            path.display()
        );
        let file = format!(
            "tests/data/bad/{}",
            path.file_name()
                .map_or_else(String::new, |n| n.to_string_lossy().into_owned())
        );
        let out_dir = tempdir();
        let target = out_dir.path().join("out");
        let target_arg = target.to_string_lossy().into_owned();
        for args in [
            vec!["validate", file.as_str()],
            vec![
                "run",
                file.as_str(),
                "--out",
                target_arg.as_str(),
                "--quiet",
            ],
        ] {
            let out = sprx(&args);
            let err = stderr(&out);
            assert_eq!(out.status.code(), Some(2), "sprx {args:?}:\n{err}");
            for expected in &expected {
                assert!(
                    err.contains(expected),
                    "sprx {args:?}: expected `{expected}` in:\n{err}"
                );
            }
            assert!(
                names_file_line_column(&err, &file),
                "sprx {args:?}: no {file}:line:col in:\n{err}"
            );
            assert!(out.stdout.is_empty(), "sprx {args:?} printed on stdout");
        }
        assert!(
            !target.exists(),
            "{}: run created its output directory",
            path.display()
        );
    }
}

#[test]
fn position_check_needs_numbers() {
    assert!(names_file_line_column("error: a.toml:3:14: x", "a.toml"));
    assert!(!names_file_line_column("error: a.toml: x", "a.toml"));
    assert!(!names_file_line_column("error: a.toml:3: x", "a.toml"));
}
