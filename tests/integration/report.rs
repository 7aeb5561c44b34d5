//! `sprx run --report` and `sprx report`: the HTML report is one self-contained file in which
//! every chart draws data, every summary metric it reads exists in `summary.json`, and no URL is
//! external. Where chromium is installed (`SPRX_CHROMIUM`, or on the PATH) it also renders in a
//! real browser without console errors; without chromium the browser check is skipped loudly,
//! and fails when `CI` is set. The run directory, the DOM and a screenshot are kept under the
//! cargo target directory as a CI artefact.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use sprx::report::{CHARTS, RunDir, escape, render};

use crate::{ok, read, sprx, stderr};

const SCENARIO: &str = "tests/data/report.toml";

/// Where the report test keeps its run: kept after the test for inspection (CI artefact).
fn artefact_dir() -> PathBuf {
    artefact_dir_named("report-test")
}

fn artefact_dir_named(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
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

/// The opening tags `<name …>` in an SVG, as written by plotters (`/>`) or by a browser's DOM
/// dump (`>`).
fn tags<'a>(svg: &'a str, name: &str) -> Vec<&'a str> {
    let open = format!("<{name} ");
    svg.match_indices(&open)
        .filter_map(|(at, _)| svg[at..].find('>').map(|end| &svg[at..at + end]))
        .collect()
}

/// An attribute's value in an opening tag.
fn attr<'a>(tag: &'a str, name: &str) -> Option<&'a str> {
    let key = format!(" {name}=\"");
    let start = tag.find(&key)? + key.len();
    let len = tag[start..].find('"')?;
    Some(&tag[start..start + len])
}

fn point_count(tag: &str) -> usize {
    attr(tag, "points").map_or(0, |p| p.split_whitespace().count())
}

/// A chart's data marks per series: series are told by their legend keys (a thick two-point line
/// for line charts, a filled swatch for bar charts), and each series' marks are the points of its
/// lines of three points or more, or its filled bars beyond the legend swatch. Axes, grid lines,
/// tick marks, error bars and the legend itself count for nothing, so a chart drawn with axes
/// and a legend but no data has no marks. Dots (scatters, ranked charts) count for the series
/// of their colour. Returns (series colour, marks) pairs.
fn data_marks(svg: &str) -> Vec<(String, usize)> {
    let polylines = tags(svg, "polyline");
    let rects = tags(svg, "rect");
    let line_keys: Vec<&str> = polylines
        .iter()
        .filter(|t| attr(t, "stroke-width") == Some("4") && point_count(t) == 2)
        .filter_map(|t| attr(t, "stroke"))
        .collect();
    if !line_keys.is_empty() {
        return line_keys
            .iter()
            .map(|colour| {
                let points = polylines
                    .iter()
                    .filter(|t| attr(t, "stroke") == Some(colour) && point_count(t) >= 3)
                    .map(|t| point_count(t))
                    .sum();
                (colour.to_string(), points)
            })
            .collect();
    }
    let filled: Vec<&str> = rects
        .iter()
        .filter_map(|t| attr(t, "fill"))
        .filter(|f| !f.eq_ignore_ascii_case("none") && !f.eq_ignore_ascii_case("#FFFFFF"))
        .collect();
    let dots: Vec<&str> = tags(svg, "circle")
        .iter()
        .filter_map(|t| attr(t, "fill"))
        .collect();
    let mut colours: Vec<&str> = filled.clone();
    colours.sort_unstable();
    colours.dedup();
    colours
        .into_iter()
        .map(|c| {
            let bars = filled.iter().filter(|f| **f == c).count() - 1;
            let points = dots.iter().filter(|f| f.eq_ignore_ascii_case(c)).count();
            (c.to_string(), bars + points)
        })
        .collect()
}

/// Whether a chart belongs to the Places section, drawn only for runs over several PCNs.
fn is_place_chart(id: &str) -> bool {
    id.starts_with("places-")
}

/// Whether a chart belongs to the GP access section, drawn only when GP capacity is limited.
fn is_gp_access_chart(id: &str) -> bool {
    id.starts_with("gp-access") || id == "gp-backlog"
}

/// Whether a chart belongs to the referral routes section, drawn only when a route other than
/// the GP is open.
fn is_route_chart(id: &str) -> bool {
    id.starts_with("routes")
}

/// The charts of a run over one PCN with MODEL.md §9 off: every chart but those of the Places,
/// GP access and referral routes sections.
fn one_pcn_charts() -> Vec<(&'static str, &'static str)> {
    CHARTS
        .into_iter()
        .filter(|(id, _)| !is_place_chart(id) && !is_gp_access_chart(id) && !is_route_chart(id))
        .collect()
}

fn charts_where(keep: fn(&str) -> bool) -> Vec<(&'static str, &'static str)> {
    CHARTS.into_iter().filter(|(id, _)| keep(id)).collect()
}

/// The Places section's charts.
fn place_charts() -> Vec<(&'static str, &'static str)> {
    charts_where(is_place_chart)
}

/// Checks the given charts: each an `<svg>` with its title and data drawn for every series.
fn check_charts(html: &str, what: &str, charts: &[(&str, &str)]) {
    for &(id, title) in charts {
        let svg = svg_element(html, id).unwrap_or_else(|| panic!("{what}: chart {id} missing"));
        // The file escapes the apostrophe; a browser's DOM dump writes it back raw.
        assert!(
            svg.contains(&format!("{}</title>", escape(title)))
                || svg.contains(&format!("{title}</title>")),
            "{what}: chart {id} has no title {title:?}"
        );
        assert!(svg.contains("<text"), "{what}: chart {id} has no text");
        let marks = data_marks(svg);
        assert!(
            !marks.is_empty() && marks.iter().all(|(_, n)| *n > 0),
            "{what}: chart {id} has a series without data (colour, marks: {marks:?}):\n{svg:.600}"
        );
    }
}

/// Every summary metric the report reads exists in `summary.json` for every arm (and in the
/// paired comparison of every arm but the baseline), and every weekly column it reads exists in
/// `weekly.csv`: a misspelt name would otherwise show as a silent "—" or an empty line.
fn check_names_the_report_reads(dir: &Path) {
    let run = RunDir::read(dir).unwrap_or_else(|e| panic!("cannot read the run: {e}"));
    render(&run, &[]).unwrap_or_else(|e| panic!("cannot render: {e}"));
    let metrics = run.metrics_read();
    for expected in [
        "eval_effect_pct",
        "gp_consults_per_1000_per_year",
        "wellbeing_mean_q1",
    ] {
        assert!(
            metrics.iter().any(|m| m == expected),
            "the report no longer reads {expected}; read: {metrics:?}"
        );
    }
    let summary: serde_json::Value = serde_json::from_str(&read(&dir.join("summary.json")))
        .unwrap_or_else(|e| panic!("summary.json: {e}"));
    let baseline = summary["baseline"].as_str().expect("a baseline");
    let arms = summary["arms"].as_object().expect("arms");
    assert_eq!(arms.len(), 3, "arms in summary.json");
    for (arm, groups) in arms {
        let mut tables = vec!["metrics"];
        if arm != baseline {
            tables.push("paired_vs_baseline");
        }
        for table in tables {
            let names = groups[table]
                .as_object()
                .unwrap_or_else(|| panic!("{arm}: no {table}"));
            let missing: Vec<&String> =
                metrics.iter().filter(|m| !names.contains_key(*m)).collect();
            assert!(
                missing.is_empty(),
                "the report reads metrics that summary.json does not have ({arm}, {table}): {missing:?}"
            );
        }
    }
    let columns = run.weekly.columns_read();
    assert!(columns.iter().any(|c| c == "mean_wellbeing"), "{columns:?}");
    let missing: Vec<&String> = columns
        .iter()
        .filter(|c| run.weekly.column(c).is_none())
        .collect();
    assert!(
        missing.is_empty(),
        "the report reads columns that weekly.csv does not have: {missing:?}"
    );
}

/// The chart check itself: a chart drawn from no data (axes, grid and legend only) has no data
/// marks, and one with data has them for every series.
#[test]
fn charts_without_data_have_no_data_marks() {
    use sprx::report::charts::{Band, Bar, ChartSpec, PALETTE, band_chart, bar_chart};
    let spec = ChartSpec {
        id: "t",
        title: "test",
        x_desc: "x",
        y_desc: "y",
    };
    let band = |values: Vec<f64>, colour| Band {
        name: format!("series {colour}"),
        colour: PALETTE[colour],
        mean: values.clone(),
        lo: values.iter().map(|v| v - 1.0).collect(),
        hi: values.iter().map(|v| v + 1.0).collect(),
    };
    let empty = band_chart(
        &spec,
        &[band(vec![f64::NAN; 50], 0), band(vec![f64::NAN; 50], 1)],
        true,
    )
    .expect("draws");
    let marks = data_marks(&empty);
    assert_eq!(marks.len(), 2, "{marks:?}");
    assert!(marks.iter().all(|(_, n)| *n == 0), "{marks:?}");
    let half = (0..50)
        .map(|w| if w < 25 { f64::from(w) } else { f64::NAN })
        .collect();
    let one =
        band_chart(&spec, &[band(half, 0), band(vec![f64::NAN; 50], 1)], true).expect("draws");
    let marks = data_marks(&one);
    assert_eq!(
        marks.iter().map(|(_, n)| *n).collect::<Vec<_>>(),
        [25, 0],
        "{marks:?}"
    );

    let groups = vec!["a".to_string(), "b".to_string()];
    let series = vec![
        ("s0".to_string(), PALETTE[0]),
        ("s1".to_string(), PALETTE[1]),
    ];
    let bar = |v: f64| {
        Some(Bar {
            value: v,
            ci: Some((v - 1.0, v + 1.0)),
        })
    };
    let empty = bar_chart(
        &spec,
        &groups,
        &series,
        &[vec![None, None], vec![None, None]],
    )
    .expect("draws");
    let marks = data_marks(&empty);
    assert_eq!(marks.len(), 2, "{marks:?}");
    assert!(marks.iter().all(|(_, n)| *n == 0), "{marks:?}");
    let some = bar_chart(
        &spec,
        &groups,
        &series,
        &[vec![bar(3.0), None], vec![bar(2.0), None]],
    )
    .expect("draws");
    let marks = data_marks(&some);
    assert_eq!(
        marks.iter().map(|(_, n)| *n).collect::<Vec<_>>(),
        [2, 0],
        "{marks:?}"
    );
}

#[test]
fn run_report_is_one_self_contained_file_with_every_chart() {
    let dir = artefact_dir();
    let out = dir.to_string_lossy().into_owned();
    let table = ok(&["run", SCENARIO, "--out", &out, "--report", "--quiet"]);
    assert!(table.contains("Evaluation lens"), "{table}");
    check_lens_rows(&table, false);
    let path = dir.join("report.html");
    let html = read(&path);
    let size = html.len();
    assert!(
        (30_000..20_000_000).contains(&size),
        "report.html is {size} bytes"
    );
    assert!(html.starts_with("<!DOCTYPE html>") && html.trim_end().ends_with("</html>"));
    assert_eq!(html.matches("<svg").count(), html.matches("</svg>").count());
    assert_eq!(html.matches("<figure").count(), one_pcn_charts().len());
    check_charts(&html, "report.html", &one_pcn_charts());
    // One synthetic PCN: no results by place, so no Places section and none of its charts.
    assert!(!dir.join("pcns.csv").exists());
    assert!(!html.contains("<section id=\"places\""));
    for (id, _) in place_charts() {
        assert!(svg_element(&html, id).is_none(), "{id} drawn for one PCN");
    }
    // MODEL.md §9 off: no GP access or routes section, no crisis in the lens, but follow-up.
    for id in ["gp-access-section", "routes-section"] {
        assert!(
            !html.contains(&format!("<section id=\"{id}\"")),
            "{id} shown"
        );
    }
    for (id, _) in charts_where(is_gp_access_chart)
        .into_iter()
        .chain(charts_where(is_route_chart))
    {
        assert!(svg_element(&html, id).is_none(), "{id} drawn with §9 off");
    }
    let lens = section(&html, "evaluation");
    assert!(
        lens.contains(
            "Measured as evaluations measure it, from the referral week to 26 weeks later"
        )
    );
    assert!(
        !lens.contains("in crisis") && !lens.contains("§9.1"),
        "selection shown with §9.1 off"
    );
    check_names_the_report_reads(&dir);
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
    check_charts(&read(&path), "sprx report", &one_pcn_charts());

    browser_check(&dir, &path, &one_pcn_charts());
}

/// Three real PCNs of one ICB (Bedfordshire, Luton and Milton Keynes) under the three
/// real-world allocation rules of the same service: short, since only places are checked.
const THREE_PCNS: &str = r#"
name = "three PCNs & their <posts>"
[run]
seed = 5
replicates = 3
weeks = 60
warmup_weeks = 10
[population]
source = "england"
pcn = ["U91286", "U50130", "U62122"]
[[arm]]
name = "no_sp"
[[arm]]
name = "as_is"
preset = "fitting_in"
lw_allocation = "as_is"
[[arm]]
name = "capitation"
preset = "fitting_in"
lw_allocation = "capitation"
[[arm]]
name = "need"
preset = "fitting_in"
lw_allocation = "need"
"#;

/// Three synthetic PCNs with one service: results by place, but no ICB or deprivation.
const THREE_SYNTHETIC_PCNS: &str = r#"
name = "three synthetic PCNs"
[run]
seed = 5
replicates = 2
weeks = 40
warmup_weeks = 10
[population]
pcns = 3
practices_per_pcn = 1
patients_per_practice = 3000
[[arm]]
name = "no_sp"
[[arm]]
name = "bolted_on"
"#;

/// Runs a scenario given as text with `--report` into `dir/out`; returns the report's text.
fn run_with_report(dir: &Path, scenario: &str) -> String {
    run_reporting(dir, scenario).0
}

/// Runs a scenario given as text with `--report` into `dir/out`; returns the report's text and
/// what `sprx run` printed (the comparison table and the evaluation lens).
fn run_reporting(dir: &Path, scenario: &str) -> (String, String) {
    let file = dir.join("scenario.toml");
    std::fs::write(&file, scenario).unwrap_or_else(|e| panic!("{e}"));
    let out = dir.join("out");
    let printed = ok(&[
        "run",
        &file.to_string_lossy(),
        "--out",
        &out.to_string_lossy(),
        "--report",
        "--quiet",
    ]);
    (read(&out.join("report.html")), printed)
}

/// The evaluation lens as `sprx run` prints it: from its title to the end of the output.
fn printed_lens(printed: &str) -> &str {
    let start = printed
        .find("Evaluation lens:")
        .unwrap_or_else(|| panic!("no evaluation lens in\n{printed}"));
    &printed[start..]
}

/// The lens's labels, in order: every row of the table (a heading or an indented row), up to
/// the first run of two spaces after its indent.
fn lens_labels(lens: &str) -> Vec<String> {
    lens.lines()
        .skip(2)
        .take_while(|l| !l.starts_with("Baseline for"))
        .map(|l| {
            let indent = if l.starts_with("  ") { 2 } else { 0 };
            let end = l[indent..].find("  ").map_or(l.len(), |e| indent + e);
            l[..end].to_string()
        })
        .collect()
}

/// The lens rows every run prints (MODEL.md §9 off), then the §9.1 rows when selection is on.
const LENS_ROWS: [&str; 17] = [
    "GP use of the referred cohort",
    "  naive before/after change (%)",
    "  no_sp twins' change (%)",
    "  causal effect (% of before)",
    "  causal effect (consults/patient/yr)",
    "  cohort size (patients)",
    "Wellbeing of the referred cohort",
    "  naive change (WEMWBS points)",
    "  no_sp twins' change (WEMWBS points)",
    "  causal effect (WEMWBS points)",
    "Wellbeing from referral to follow-up",
    "  naive change (WEMWBS points)",
    "  no_sp twins' change (WEMWBS points)",
    "  causal effect (WEMWBS points)",
    "Whole population, vs baseline",
    "  GP appts added(+)/freed(−) /1,000/yr",
    "  net cost (GBP/yr)",
];

const SELECTION_ROWS: [&str; 3] = [
    "Who was referred (MODEL.md §9.1)",
    "  in crisis in the referral week (share)",
    "  recent social consults (mean n_recent)",
];

/// The printed lens has exactly the expected rows: the follow-up rows always, the crisis and
/// recent-attendance rows (after the cohort size) only with crises on, and says why.
fn check_lens_rows(printed: &str, crises: bool) {
    let lens = printed_lens(printed);
    let mut expected: Vec<&str> = LENS_ROWS.to_vec();
    if crises {
        expected.splice(6..6, SELECTION_ROWS);
    }
    assert_eq!(lens_labels(lens), expected, "{lens}");
    assert!(
        lens.contains("Follow-up: wellbeing in the referral week"),
        "{lens}"
    );
    assert_eq!(
        lens.contains("Referral follows a crisis or a run of social GP consultations"),
        crises,
        "{lens}"
    );
}

/// GP capacity binding just under demand; everything else of MODEL.md §9 off.
const GP_CAPACITY: &str = r#"
name = "GP capacity on"
[run]
seed = 11
replicates = 3
weeks = 110
warmup_weeks = 20
[population]
pcns = 1
practices_per_pcn = 1
patients_per_practice = 3000
[params]
gp_capacity_per_1000 = 2500
[[arm]]
name = "no_sp"
[[arm]]
name = "bolted_on"
[[arm]]
name = "belonging"
"#;

/// Self-referral, agency referral and crises on; GP capacity unlimited.
const ROUTES_AND_CRISES: &str = r#"
name = "routes & crises on"
[run]
seed = 11
replicates = 3
weeks = 110
warmup_weeks = 20
[population]
pcns = 1
practices_per_pcn = 1
patients_per_practice = 3000
[params]
self_referral = 0.003
agency_referral = 0.003
crisis_rate = 0.004
recency_gain = 0.3
[[arm]]
name = "no_sp"
[[arm]]
name = "bolted_on"
[[arm]]
name = "belonging"
"#;

#[test]
fn gp_capacity_on_shows_the_gp_access_section_and_nothing_else_of_model_9() {
    let dir = artefact_dir_named("report-gp-access-test");
    let (html, printed) = run_reporting(&dir, GP_CAPACITY);
    assert!(html.contains("<a href=\"#gp-access-section\">GP appointments: access</a>"));
    let access = section(&html, "gp-access-section");
    check_charts(access, "GP access", &charts_where(is_gp_access_chart));
    assert!(access.contains("the next person in the queue takes it"));
    assert!(access.contains("<td>appointments a practice can give</td><td>2500</td>"));
    assert!(access.contains("<th>difference from no_sp</th><th>requested</th><th>delivered</th>"));
    assert!(
        access.contains("Against <strong>no_sp</strong>, <strong>belonging</strong> changes"),
        "no reading of the differences"
    );
    assert!(!html.contains("<section id=\"routes-section\""));
    for (id, _) in charts_where(is_route_chart) {
        assert!(
            svg_element(&html, id).is_none(),
            "{id} drawn with routes off"
        );
    }
    check_lens_rows(&printed, false);
    check_names_the_report_reads(&dir.join("out"));
}

#[test]
fn routes_and_crises_on_show_the_routes_section_and_the_selection_in_the_lens() {
    let dir = artefact_dir_named("report-routes-test");
    let (html, printed) = run_reporting(&dir, ROUTES_AND_CRISES);
    assert!(html.contains("<a href=\"#routes-section\">Referral routes</a>"));
    let routes = section(&html, "routes-section");
    let route_charts = charts_where(is_route_chart);
    check_charts(routes, "routes", &route_charts);
    // Three routes, each drawn for both service arms.
    let by_arm = svg_element(routes, "routes").unwrap_or_default();
    assert_eq!(
        data_marks(by_arm)
            .iter()
            .map(|(_, n)| *n)
            .collect::<Vec<_>>(),
        [2, 2, 2]
    );
    for route in ["GP", "self-referral", "other agencies"] {
        assert!(
            routes.contains(&format!("<strong>belonging</strong>, {route}: ")),
            "no reading of {route}"
        );
    }
    assert!(
        routes.contains("do not overlap") || routes.contains("cannot say which"),
        "the reading does not weigh the intervals"
    );
    assert!(!html.contains("<section id=\"gp-access-section\""));
    for (id, _) in charts_where(is_gp_access_chart) {
        assert!(
            svg_element(&html, id).is_none(),
            "{id} drawn with capacity unlimited"
        );
    }
    let lens = section(&html, "evaluation");
    assert!(lens.contains("many referrals follow a crisis"));
    assert!(lens.contains("of them were in crisis and they had made"));
    assert!(lens.contains("<td>in crisis in the referral week (share)</td>"));
    check_lens_rows(&printed, true);
    check_names_the_report_reads(&dir.join("out"));
    browser_check(&dir, &dir.join("out/report.html"), &route_charts);
}

/// The HTML of one section, from its heading to the next section.
fn section<'a>(html: &'a str, id: &str) -> &'a str {
    let marker = format!("<section id=\"{id}\">");
    let start = html
        .find(&marker)
        .unwrap_or_else(|| panic!("no section {id}"));
    let end = html[start + marker.len()..]
        .find("<section id=")
        .map_or(html.len(), |e| start + marker.len() + e);
    &html[start..end]
}

#[test]
fn a_run_over_real_pcns_has_a_places_section_with_its_charts_tables_and_reading() {
    let dir = artefact_dir_named("report-places-test");
    let html = run_with_report(&dir, THREE_PCNS);
    let places = section(&html, "places");
    assert!(
        html.contains("<a href=\"#places\">Places</a>"),
        "not in the contents"
    );
    check_charts(places, "places", &place_charts());
    // Three service arms, each with a dot per PCN, in the scatter against deprivation.
    let scatter = svg_element(places, "places-posts-imd").unwrap_or_default();
    let marks = data_marks(scatter);
    assert_eq!(
        marks.iter().map(|(_, n)| *n).collect::<Vec<_>>(),
        [3, 3, 3],
        "{marks:?}"
    );
    // Ranked by wait and by connected share: one dot per PCN, each PCN named. LEA VALE PCN
    // reported no link worker, so as_is refers nobody there: the ranked arm is capitation, the
    // first with a wait in every PCN.
    for id in ["places-waits-ranked", "places-connected-ranked"] {
        let svg = svg_element(places, id).unwrap_or_default();
        assert_eq!(data_marks(svg), [("#D55E00".to_string(), 3)], "{id}");
        assert!(
            svg.contains(">\nLEA VALE PCN\n<"),
            "{id}: LEA VALE PCN not named"
        );
    }
    assert!(places.contains("PCNs by wait under capitation, longest first"));
    for code in ["U91286", "U50130", "U62122"] {
        assert!(places.contains(code), "PCN {code} not listed");
    }
    // The ICB table: the ICB with its PCNs, then a row per arm, and the whole run.
    assert!(places.contains("(QHG)"), "no ICB row");
    assert!(places.contains("3 PCNs"), "no PCN count");
    assert!(places.contains("<th>GP consultations: difference from the baseline</th>"));
    assert!(
        !places.contains("by region"),
        "one region needs no region table"
    );
    assert!(places.contains("by the run: arm"));
    // The allocation rules compared by fifth of England's PCNs, with a reading in words.
    assert!(places.contains("The allocation rules compared"));
    assert!(
        places.contains("<th>fifth of PCNs: arm (rule)</th>"),
        "no table by fifth"
    );
    assert!(places.contains(" deprived fifth"), "no fifth named");
    assert!(
        places.contains("Under <strong>need</strong>, the PCNs of q"),
        "no reading of the comparison"
    );
    assert!(places.contains("posts per 10,000 patients against"));
    assert!(
        places.contains("do not overlap") || places.contains("cannot tell these waits apart"),
        "the reading does not weigh the intervals"
    );
    // The escaped scenario name, and the header counts the real patients.
    assert!(html.contains("three PCNs &amp; their &lt;posts&gt;"));
    assert!(
        !html.contains("<p class=\"sub\">0 patients"),
        "patients not counted"
    );
    browser_check(&dir, &dir.join("out/report.html"), &place_charts());
}

#[test]
fn synthetic_pcns_have_places_without_deprivation_or_allocation() {
    let dir = crate::tempdir();
    let html = run_with_report(dir.path(), THREE_SYNTHETIC_PCNS);
    let places = section(&html, "places");
    // No IMD: no scatter against deprivation, but a note saying why.
    assert!(svg_element(places, "places-posts-imd").is_none());
    assert!(places.contains("have no deprivation score"));
    let ranked: Vec<(&str, &str)> = place_charts()
        .into_iter()
        .filter(|(id, _)| id.ends_with("-ranked"))
        .collect();
    check_charts(places, "synthetic places", &ranked);
    assert!(places.contains("belong to no ICB"));
    assert!(places.contains("by the run: arm"));
    // One service arm: nothing to compare.
    assert!(!places.contains("The allocation rules compared"));
    assert!(svg_element(places, "places-allocation-posts").is_none());
}

#[test]
fn a_garbled_or_missing_table_by_place_is_a_clear_error() {
    let dir = crate::tempdir();
    run_with_report(dir.path(), THREE_SYNTHETIC_PCNS);
    let out = dir.path().join("out");
    let pcns = out.join("pcns.csv");
    let text = read(&pcns);
    let garbled = text.replacen(",3000,", ",three thousand,", 1);
    assert_ne!(garbled, text, "no patients cell to garble in\n{text:.400}");
    std::fs::write(&pcns, garbled).unwrap_or_else(|e| panic!("{e}"));
    let error = match RunDir::read(&out) {
        Ok(_) => panic!("a garbled pcns.csv was read"),
        Err(e) => e.to_string(),
    };
    assert!(
        error.contains("pcns.csv") && error.contains("`three thousand` is not a number"),
        "{error}"
    );
    // `sprx report` refuses it before reading: the manifest's checksum no longer matches.
    let refused = sprx(&["report", &out.to_string_lossy()]);
    assert_eq!(refused.status.code(), Some(2), "{}", stderr(&refused));
    assert!(
        stderr(&refused).contains("pcns.csv"),
        "{}",
        stderr(&refused)
    );

    std::fs::write(&pcns, text.replace("lw_posts_per_10k_patients", "posts"))
        .unwrap_or_else(|e| panic!("{e}"));
    let error = RunDir::read(&out)
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(
        error.contains("no column lw_posts_per_10k_patients"),
        "{error}"
    );

    std::fs::write(&pcns, &text).unwrap_or_else(|e| panic!("{e}"));
    std::fs::remove_file(out.join("icbs.csv")).unwrap_or_else(|e| panic!("{e}"));
    let error = RunDir::read(&out)
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(
        error.contains("cannot read") && error.contains("icbs.csv"),
        "{error}"
    );
}

/// The ranked chart keeps a thousand PCNs legible: no label per PCN, a dot for each.
#[test]
fn a_ranked_chart_of_many_places_has_a_dot_each_and_no_names() {
    use sprx::report::charts::{ChartSpec, PALETTE, RANKED_LABELS_MAX, Ranked, ranked_chart};
    let spec = ChartSpec {
        id: "t",
        title: "test",
        x_desc: "weeks",
        y_desc: "PCN",
    };
    let items = |n: usize| -> Vec<Ranked> {
        (0..n)
            .map(|i| Ranked {
                label: format!("PCN NUMBER {i}"),
                value: (n - i) as f64,
                ci: Some(((n - i) as f64 - 1.0, (n - i) as f64 + 1.0)),
            })
            .collect()
    };
    let many = ranked_chart(&spec, ("arm", PALETTE[0]), &items(1266)).expect("draws");
    assert_eq!(data_marks(&many), [("#0072B2".to_string(), 1266)]);
    assert!(
        !many.contains("PCN NUMBER"),
        "names on a chart of 1,266 PCNs"
    );
    let few = ranked_chart(&spec, ("arm", PALETTE[0]), &items(RANKED_LABELS_MAX)).expect("draws");
    assert_eq!(
        data_marks(&few),
        [("#0072B2".to_string(), RANKED_LABELS_MAX)]
    );
    for i in [0, RANKED_LABELS_MAX - 1] {
        assert!(
            few.contains(&format!(">\nPCN NUMBER {i}\n<")),
            "PCN {i} not named"
        );
    }
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

fn browser_check(dir: &Path, page: &Path, charts: &[(&str, &str)]) {
    let Some(chromium) = chromium() else {
        crate::cannot_run(
            "chromium not installed (set SPRX_CHROMIUM) — browser rendering not checked",
        );
        return;
    };
    let profile = dir.join("chromium-profile");
    let (dom, log) = headless(&chromium, &profile, page, &["--dump-dom"]);
    std::fs::write(dir.join("report.dom.html"), &dom)
        .unwrap_or_else(|e| panic!("cannot keep the DOM: {e}"));
    assert!(dom.contains("</html>"), "no DOM from chromium; log:\n{log}");
    check_charts(&dom, "chromium DOM", charts);
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
