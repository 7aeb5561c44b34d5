//! `sprx init`: writes a commented scenario generated from the registry. Documentation lines
//! start with `##` and settings that are off with `#`, so uncommenting any one line (removing
//! one `#`) leaves a valid scenario.

use std::io::Write as _;
use std::path::PathBuf;

use anyhow::Context;
use clap::Args;
use sprx::params::{Preset, REGISTRY};
use sprx::scenario::limits;

use super::BadInput;
use super::params::{toml_doc, toml_line};

/// Write a commented scenario with every parameter listed at its default.
#[derive(Args)]
pub struct InitArgs {
    /// Where to write the scenario.
    #[arg(default_value = "scenario.toml")]
    path: PathBuf,
    /// Overwrite the file if it exists.
    #[arg(long)]
    force: bool,
}

pub fn init(args: InitArgs) -> anyhow::Result<()> {
    if args.path.exists() && !args.force {
        return Err(BadInput(format!(
            "{} exists; use --force to overwrite it",
            args.path.display()
        ))
        .into());
    }
    let dir = match args.path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = args
        .path
        .file_name()
        .and_then(|n| n.to_str())
        .with_context(|| format!("{} is not a file name", args.path.display()))?;
    sprx::output::write_atomically(&dir, name, |w| w.write_all(template().as_bytes()))?;
    eprintln!(
        "wrote {}; check it with `sprx validate {0}`",
        args.path.display()
    );
    Ok(())
}

/// The scenario `sprx init` writes.
pub fn template() -> String {
    let mut out = format!(
        r#"## A sprx scenario, written by `sprx init` (sprx {version}).
## Check it with `sprx validate FILE`; run it with `sprx run FILE --out DIR`.
## Lines starting with `##` are documentation; lines starting with `#` are settings left at
## their default: remove the `#` to change one.

name = "my_scenario"
description = "Four integration levels of link workers against no social prescribing"
## The arm paired differences are taken against (default: no_sp if an arm has that name,
## else the first arm).
# baseline = "no_sp"

[run]
## Fixes every random draw: the same scenario and seed give identical outputs.
seed = 1
## Independent replicates, {replicates_min} ..= {replicates_max}.
replicates = {replicates}
## Service weeks that are output ({weeks_min} ..= {weeks_max}), after warm-up weeks in which
## only patients' own processes run ({warmup_min} ..= {warmup_max}).
weeks = {weeks}
warmup_weeks = {warmup}

[population]
## Primary care networks, practices in each, patients in each practice. Or, instead of these
## three, real PCNs: source = "england" (with icb = [...], region = [...] or pcn = [...]), or
## your own places table, source = "my_pcns.csv" (docs/places.md).
pcns = {pcns}
practices_per_pcn = {practices}
patients_per_practice = {patients}

## Text for training scenarios and reports; sprx does not interpret it.
[narrative]
# title = "A short title"
# show = "What the scenario shows"
# expect = "What to expect in the results"
# question = "A question to discuss"

## Model parameters for every arm (after each arm's preset, before the arm's own overrides).
## Per-need and per-quintile values take an array or a table of the labels to change, e.g.
## `need_prevalence = {{ money = 0.2 }}`. `sprx params` lists every parameter.
[params]
"#,
        version = sprx::output::VERSION,
        replicates = limits::DEFAULT_REPLICATES,
        replicates_min = limits::REPLICATES.start(),
        replicates_max = limits::REPLICATES.end(),
        weeks = limits::DEFAULT_WEEKS,
        weeks_min = limits::WEEKS.start(),
        weeks_max = limits::WEEKS.end(),
        warmup = limits::DEFAULT_WARMUP_WEEKS,
        warmup_min = limits::WARMUP_WEEKS.start(),
        warmup_max = limits::WARMUP_WEEKS.end(),
        pcns = limits::DEFAULT_PCNS,
        practices = limits::DEFAULT_PRACTICES_PER_PCN,
        patients = limits::DEFAULT_PATIENTS_PER_PRACTICE,
    );
    for def in REGISTRY {
        out.push_str(&format!("\n{}# {}\n", toml_doc(def), toml_line(def)));
    }
    out.push_str(
        "\n## The arms to compare. An arm whose name is not a preset needs `preset = ...`, one of\n\
         ## no_sp, bolted_on, fitting_in, belonging. Parameters set in an arm apply to it alone.\n",
    );
    for preset in Preset::ALL {
        out.push_str(&format!("\n[[arm]]\nname = \"{}\"\n", preset.name()));
        if preset.has_service() {
            out.push_str("# lw_per_pcn = 3\n");
        }
    }
    out
}
