//! `sprx run --report` and `sprx report`: the HTML report is one self-contained file with every
//! chart, no external URL, and — where chromium is installed (`SPRX_CHROMIUM`, or on the PATH) —
//! renders in a real browser without console errors. The run directory, the DOM and a
//! screenshot are kept under the cargo target directory as a CI artefact.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use sprx::report::{CHARTS, escape};

use crate::{ok, read, sprx, stderr};

const SCENARIO: &str = "tests/data/report.toml";

/// Where the report test keeps its run: kept after the test for inspection (CI artefact).
fn artefact_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("report-test");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir)
        .unwrap_or_else(|e| panic!("cannot create {}: {e}", dir.display()));
    dir
}

/// The `<svg …>…</svg>` element with the given id, if present.
fn svg_element<'a>(html: &'a str, id: &str) -> Option<&'a str> {
    let marker = format!("id=\"svg-{id}\"");
    let at = html.find(&marker)?;
    let start = html[..at].rfind("<svg")?;
    let end = html[at..].find("</svg>")? + at + "</svg>".len();
    Some(&html[start..end])
}

/// Checks every chart: an `<svg>` with its title and drawn content.
fn check_charts(html: &str, what: &str) {
    for (id, title) in CHARTS {
        let svg = svg_element(html, id).unwrap_or_else(|| panic!("{what}: chart {id} missing"));
        // The file escapes the apostrophe; a browser's DOM dump writes it back raw.
        assert!(
            svg.contains(&format!("{}</title>", escape(title)))
                || svg.contains(&format!("{title}</title>")),
            "{what}: chart {id} has no title {title:?}"
        );
        let drawn = ["<path", "<rect", "<polyline", "<polygon", "<line"]
            .iter()
            .map(|t| svg.matches(t).count())
            .sum::<usize>();
        assert!(
            drawn > 10 && svg.contains("<text"),
            "{what}: chart {id} is empty:\n{svg:.400}"
        );
    }
}

#[test]
fn run_report_is_one_self_contained_file_with_every_chart() {
    let dir = artefact_dir();
    let out = dir.to_string_lossy().into_owned();
    let table = ok(&["run", SCENARIO, "--out", &out, "--report", "--quiet"]);
    assert!(table.contains("Evaluation lens"), "{table}");
    let path = dir.join("report.html");
    let html = read(&path);
    let size = html.len();
    assert!(
        (30_000..20_000_000).contains(&size),
        "report.html is {size} bytes"
    );
    assert!(html.starts_with("<!DOCTYPE html>") && html.trim_end().ends_with("</html>"));
    assert_eq!(html.matches("<svg").count(), html.matches("</svg>").count());
    assert_eq!(html.matches("<figure").count(), CHARTS.len());
    check_charts(&html, "report.html");
    for external in [
        "src=\"http",
        "href=\"http",
        "src='http",
        "href='http",
        "url(http",
        "<script",
        "<link",
    ] {
        assert!(!html.contains(external), "report.html contains {external}");
    }
    // The narrative, escaped; the journeys; the parameters with their sources; provenance.
    assert!(html.contains("Report test &lt;narrative&gt; &amp; friends"));
    assert!(html.contains("id=\"journeys\"") && html.contains("Patient "));
    assert!(html.contains("MODEL.md §6.5"), "parameter sources missing");
    assert!(html.contains("scenario_sha256"));
    assert!(html.contains("the service itself changed GP use by"));

    // `sprx report DIR` regenerates the same file from the run directory alone (no journeys).
    let again = ok(&["report", &out]);
    assert!(again.is_empty());
    check_charts(&read(&path), "sprx report");

    browser_check(&dir, &path);
}

#[test]
fn report_of_a_directory_that_is_not_a_run_is_bad_input() {
    let dir = crate::tempdir();
    let out = sprx(&["report", &dir.path().to_string_lossy()]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("manifest.json"));
}

/// The chromium binary: `SPRX_CHROMIUM`, else a chromium on the PATH.
fn chromium() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("SPRX_CHROMIUM").map(PathBuf::from) {
        return p.is_file().then_some(p);
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .flat_map(|d| ["chromium", "chromium-browser"].map(|n| d.join(n)))
        .find(|p| p.is_file())
}

/// Runs headless chromium with `extra` flags on `page`; returns (stdout, stderr).
fn headless(chromium: &Path, profile: &Path, page: &Path, extra: &[&str]) -> (String, String) {
    let url = format!("file://{}", page.display());
    let mut child = Command::new(chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--enable-logging=stderr",
            "--v=0",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(extra)
        .arg(&url)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", chromium.display()));
    // Read both pipes on threads so a chatty browser cannot block on a full pipe.
    let mut out_pipe = child.stdout.take();
    let mut err_pipe = child.stderr.take();
    let out = std::thread::spawn(move || {
        let mut s = String::new();
        if let Some(p) = out_pipe.as_mut() {
            let _ = std::io::Read::read_to_string(p, &mut s);
        }
        s
    });
    let err = std::thread::spawn(move || {
        let mut s = String::new();
        if let Some(p) = err_pipe.as_mut() {
            let _ = std::io::Read::read_to_string(p, &mut s);
        }
        s
    });
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        match child.try_wait() {
            Ok(Some(_)) => break,
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(100)),
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                panic!("chromium did not finish within 120 s");
            }
        }
    }
    (
        out.join().unwrap_or_default(),
        err.join().unwrap_or_default(),
    )
}

/// Console errors and uncaught exceptions in chromium's log.
fn console_errors(log: &str) -> Vec<&str> {
    log.lines()
        .filter(|l| (l.contains("CONSOLE") && l.contains(":ERROR:")) || l.contains("Uncaught"))
        .collect()
}

fn browser_check(dir: &Path, page: &Path) {
    let Some(chromium) = chromium() else {
        eprintln!(
            "\n*** SKIPPED: chromium not installed (set SPRX_CHROMIUM) — browser rendering not checked ***\n"
        );
        return;
    };
    let profile = dir.join("chromium-profile");
    let (dom, log) = headless(&chromium, &profile, page, &["--dump-dom"]);
    std::fs::write(dir.join("report.dom.html"), &dom)
        .unwrap_or_else(|e| panic!("cannot keep the DOM: {e}"));
    assert!(dom.contains("</html>"), "no DOM from chromium; log:\n{log}");
    check_charts(&dom, "chromium DOM");
    let errors = console_errors(&log);
    assert!(errors.is_empty(), "console errors:\n{}", errors.join("\n"));

    let shot = dir.join("report.png");
    let (_, log) = headless(
        &chromium,
        &profile,
        page,
        &[
            &format!("--screenshot={}", shot.display()),
            "--window-size=1280,4000",
        ],
    );
    let errors = console_errors(&log);
    assert!(errors.is_empty(), "console errors:\n{}", errors.join("\n"));
    let png = std::fs::read(&shot)
        .unwrap_or_else(|e| panic!("no screenshot {}: {e}\n{log}", shot.display()));
    assert!(
        png.starts_with(b"\x89PNG") && png.len() > 50_000,
        "screenshot is {} bytes",
        png.len()
    );
    let _ = std::fs::remove_dir_all(&profile);
    eprintln!("report screenshot: {}", shot.display());
}

#[test]
fn trace_follows_sampled_patients_deterministically_beside_their_twin() {
    let args = ["trace", SCENARIO, "--arm", "belonging", "--sample", "3"];
    let text = ok(&args);
    assert_eq!(text, ok(&args), "the same trace twice differs");
    assert_eq!(
        text.matches("\nPatient ").count() + usize::from(text.starts_with("Patient ")),
        3
    );
    for expected in [
        "(same)",
        "GP offers a referral",
        "referral accepted in week",
        "no_sp twin",
    ] {
        assert!(text.contains(expected), "no {expected:?} in\n{text}");
    }
    // A patient traced alone reads exactly as in the sample.
    let first = text.split("\n\nPatient ").next().unwrap_or_default();
    let id = first
        .strip_prefix("Patient ")
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("no patient id in\n{first}"));
    let alone = ok(&["trace", SCENARIO, "--arm", "belonging", "--patient", id]);
    assert_eq!(alone.trim_end(), first.trim_end());
}

#[test]
fn trace_of_a_bad_arm_or_patient_is_bad_input() {
    let cases: [&[&str]; 4] = [
        &["trace", SCENARIO, "--arm", "no_sp", "--patient", "1"],
        &["trace", SCENARIO, "--arm", "nope", "--patient", "1"],
        &["trace", SCENARIO, "--arm", "belonging", "--patient", "6000"],
        &[
            "trace",
            SCENARIO,
            "--arm",
            "belonging",
            "--pcn",
            "1",
            "--sample",
            "1",
        ],
    ];
    for args in cases {
        let out = sprx(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        assert!(
            stderr(&out).contains("error: --"),
            "{args:?}: {}",
            stderr(&out)
        );
    }
}
