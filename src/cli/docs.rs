//! `sprx docs` (hidden): prints `docs/cli.md`, the prose in `cli.md` with the tables generated
//! from the declarations of metrics, columns, run-setting limits and exit codes, so that the
//! documentation cannot drift from the code.

use sprx::metrics::places::PLACE_METRICS;
use sprx::metrics::summary::SUMMARY_METRICS;
use sprx::metrics::weekly::WEEKLY_COLUMNS;
use sprx::output::HEADLINE_METRICS;
use sprx::output::files::SUMMARY_STATISTICS;
use sprx::scenario::limits;

const TEMPLATE: &str = include_str!("cli.md");

pub fn cli_markdown() -> String {
    TEMPLATE
        .replace("{{settings}}", &settings())
        .replace("{{headline}}", &headline())
        .replace("{{statistics}}", &statistics())
        .replace("{{summary_metrics}}", &summary_metrics())
        .replace("{{weekly_columns}}", &weekly_columns())
        .replace("{{place_metrics}}", &place_metrics())
        .replace("{{exit_codes}}", &exit_codes())
}

fn settings() -> String {
    let rows: [(&str, &str, String, &std::ops::RangeInclusive<u32>); 6] = [
        (
            "run.replicates",
            "independent replicates",
            limits::DEFAULT_REPLICATES.to_string(),
            &limits::REPLICATES,
        ),
        (
            "run.weeks",
            "service weeks that are output",
            limits::DEFAULT_WEEKS.to_string(),
            &limits::WEEKS,
        ),
        (
            "run.warmup_weeks",
            "weeks before the service starts, patients' own processes only",
            limits::DEFAULT_WARMUP_WEEKS.to_string(),
            &limits::WARMUP_WEEKS,
        ),
        (
            "population.pcns",
            "primary care networks",
            limits::DEFAULT_PCNS.to_string(),
            &limits::PCNS,
        ),
        (
            "population.practices_per_pcn",
            "practices in each PCN",
            limits::DEFAULT_PRACTICES_PER_PCN.to_string(),
            &limits::PRACTICES_PER_PCN,
        ),
        (
            "population.patients_per_practice",
            "registered patients in each practice",
            limits::DEFAULT_PATIENTS_PER_PRACTICE.to_string(),
            &limits::PATIENTS_PER_PRACTICE,
        ),
    ];
    let seed = sprx::scenario::Scenario::default_embedded()
        .map_or_else(|_| "the base's".to_string(), |s| s.run.seed.to_string());
    let mut out =
        format!("| `run.seed` | fixes every random draw | {seed} | 0 ..= 18446744073709551615 |\n");
    for (key, meaning, default, range) in rows {
        out.push_str(&format!(
            "| `{key}` | {meaning} | {default} | {} ..= {} |\n",
            range.start(),
            range.end()
        ));
    }
    out.trim_end().to_string()
}

fn headline() -> String {
    HEADLINE_METRICS
        .iter()
        .map(|(metric, label)| format!("- {label}: `{metric}`"))
        .collect::<Vec<_>>()
        .join("\n")
}

fn statistics() -> String {
    SUMMARY_STATISTICS
        .iter()
        .map(|s| format!("`{s}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn summary_metrics() -> String {
    SUMMARY_METRICS
        .iter()
        .map(|m| format!("| `{}` | {} | {} |", m.name, m.unit, m.doc))
        .collect::<Vec<_>>()
        .join("\n")
}

fn place_metrics() -> String {
    PLACE_METRICS
        .iter()
        .map(|m| {
            let adds = if m.additive { "yes" } else { "" };
            format!("| `{}` | {} | {adds} | {} |", m.name, m.unit, m.doc)
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn weekly_columns() -> String {
    WEEKLY_COLUMNS
        .iter()
        .map(|c| format!("| `{}` | {} |", c.name, c.doc))
        .collect::<Vec<_>>()
        .join("\n")
}

fn exit_codes() -> String {
    super::EXIT_CODES
        .iter()
        .map(|(code, meaning)| format!("| {code} | {meaning} |"))
        .collect::<Vec<_>>()
        .join("\n")
}
