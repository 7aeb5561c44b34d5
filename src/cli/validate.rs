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
        "ok: {}: {} arms ({}; baseline {}), {} patients ({} PCN × {} practices × {}), {} replicates, {}+{} weeks, seed {}\n",
        s.origin,
        arms.len(),
        arms.join(", "),
        s.baseline,
        s.patients(),
        s.population.pcns,
        s.population.practices_per_pcn,
        s.population.patients_per_practice,
        s.run.replicates,
        s.run.warmup_weeks,
        s.run.weeks,
        s.run.seed,
    ))
}
