//! `sprx report DIR`: the self-contained HTML report of a finished run, and the journeys it
//! may include (also used by `sprx run --report`).

use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::Args;
use serde_json::Value;
use sprx::report::{Journey, TraceRequest, Who, trace, write_report};
use sprx::scenario::{DEFAULT_ORIGIN, Scenario};

use super::BadInput;

/// Write DIR/report.html from a run directory written by `sprx run --out DIR`.
#[derive(Args)]
pub struct ReportArgs {
    /// The run directory (with summary.json, weekly.csv and manifest.json).
    dir: PathBuf,
    /// Add N traced patient journeys per service arm (replicate 0, PCN 0). Re-runs those
    /// patients from the scenario file named in manifest.json, which must be unchanged.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(0..=50))]
    trace_sample: Option<u16>,
}

pub fn run(args: ReportArgs) -> anyhow::Result<()> {
    // An interrupted, damaged or hand-edited run directory is refused here, before the report
    // draws conclusions from it.
    sprx::output::verify_run_dir(&args.dir).map_err(|e| BadInput(e.to_string()))?;
    let journeys = match args.trace_sample.filter(|&n| n > 0) {
        Some(n) => {
            let scenario = scenario_of_run(&args.dir)?;
            journeys(&scenario, usize::from(n))?
        }
        None => Vec::new(),
    };
    let path = write_report(&args.dir, &journeys)?;
    eprintln!("wrote {}", path.display());
    Ok(())
}

/// `n` journeys per service arm of a scenario, replicate 0, PCN 0.
pub fn journeys(scenario: &Scenario, n: usize) -> anyhow::Result<Vec<Journey>> {
    let plan = scenario.plan();
    let mut all = Vec::new();
    for arm in plan.arms.iter().filter(|a| a.service) {
        let request = TraceRequest {
            arm: arm.name.clone(),
            replicate: 0,
            pcn: 0,
            who: Who::Sample(n),
        };
        // An arm that referred nobody in replicate 0 simply has no journeys to show.
        if let Ok(j) = trace(&plan, &request) {
            all.extend(j);
        }
    }
    Ok(all)
}

/// The scenario a run directory was made from, as its manifest names it, checked unchanged.
fn scenario_of_run(dir: &Path) -> anyhow::Result<Scenario> {
    let text = std::fs::read_to_string(dir.join("manifest.json"))
        .with_context(|| format!("cannot read {}", dir.join("manifest.json").display()))?;
    let manifest: Value = serde_json::from_str(&text).map_err(|e| {
        BadInput(format!(
            "{}: manifest.json is not valid JSON: {e}",
            dir.display()
        ))
    })?;
    let origin = manifest["scenario"].as_str().unwrap_or(DEFAULT_ORIGIN);
    let mut scenario = if origin == DEFAULT_ORIGIN {
        Scenario::default_embedded()?
    } else {
        Scenario::load(Path::new(origin))?
    };
    if manifest["scenario_sha256"].as_str() != Some(scenario.sha256.as_str()) {
        return Err(BadInput(format!(
            "--trace-sample: the scenario {origin} has changed since the run; its journeys would not match the results"
        ))
        .into());
    }
    if let Some(seed) = manifest["seed"].as_u64() {
        scenario.run.seed = seed;
    }
    Ok(scenario)
}
