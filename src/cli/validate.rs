//! `sprx validate`: checks a scenario without running it.

use std::path::PathBuf;

use clap::Args;

/// Check a scenario file without running it; print a summary or every error.
#[derive(Args)]
pub struct ValidateArgs {
    /// Scenario file (TOML).
    scenario: PathBuf,
}

pub fn validate(args: ValidateArgs) -> anyhow::Result<()> {
    let s = super::load_scenario(Some(&args.scenario))?;
    let arms: Vec<&str> = s.arms.iter().map(|a| a.name.as_str()).collect();
    super::print(&format!(
        "ok: {}: {} arms ({}; baseline {}), {} patients ({}), {} replicates, {}+{} weeks, seed {}\n",
        s.origin,
        arms.len(),
        arms.join(", "),
        s.baseline,
        s.patients(),
        population(&s),
        s.run.replicates,
        s.run.warmup_weeks,
        s.run.weeks,
        s.run.seed,
    ))
}

/// The population in a few words: real places by source, synthetic PCNs by their shape.
fn population(s: &sprx::scenario::Scenario) -> String {
    let p = &s.population;
    match &p.places {
        Some(places) => {
            let n = places.indices.len();
            let plural = if n == 1 { "" } else { "s" };
            format!("{n} PCN{plural} from {}", places.source)
        }
        None => format!(
            "{} PCN × {} practices × {}",
            p.pcns, p.practices_per_pcn, p.patients_per_practice
        ),
    }
}
