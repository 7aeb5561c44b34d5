//! `sprx trace`: a patient's journey through the service, week by week, beside their no_sp twin.

use std::path::PathBuf;

use super::args::MemoryArgs;
use clap::Args;
use sprx::engine::budget::{self, Job};
use sprx::report::{TraceRequest, Who, trace};

use super::BadInput;

/// Follow referred patients week by week in one arm, beside their no_sp twin.
#[derive(Args)]
#[command(group = clap::ArgGroup::new("who").required(true).args(["patient", "sample"]))]
pub struct TraceArgs {
    /// Scenario file (TOML).
    scenario: PathBuf,
    /// The arm to follow (an arm with social prescribing).
    #[arg(long, value_name = "NAME")]
    arm: String,
    /// Patient id within the PCN (0-based); repeat for several patients.
    #[arg(long, value_name = "ID")]
    patient: Vec<u32>,
    /// Instead of --patient: N referred patients picked deterministically, varied by outcome.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=1000))]
    sample: Option<u16>,
    /// Replicate number.
    #[arg(long, value_name = "R", default_value_t = 0)]
    replicate: u32,
    /// PCN number (0-based).
    #[arg(long, value_name = "P", default_value_t = 0)]
    pcn: u32,
    /// Seed, instead of the scenario's [run] seed.
    #[arg(long, value_name = "S")]
    seed: Option<u64>,
    #[command(flatten)]
    memory: MemoryArgs,
}

pub fn run(args: TraceArgs) -> anyhow::Result<()> {
    let mut scenario = super::load_scenario(Some(&args.scenario))?;
    if let Some(seed) = args.seed {
        scenario.run.seed = seed;
    }
    let who = match args.sample {
        Some(n) => Who::Sample(usize::from(n)),
        None => Who::Patients(args.patient),
    };
    let request = TraceRequest {
        arm: args.arm,
        replicate: args.replicate,
        pcn: args.pcn,
        who,
    };
    let plan = scenario.plan();
    // A trace simulates one (replicate, PCN) unit on this thread.
    let mut one = plan.clone();
    one.replicates = 1;
    // The traced PCN alone, or the largest if the number is out of range (trace says so).
    one.pcns = plan
        .pcns
        .get(args.pcn as usize)
        .or(plan.largest_pcn())
        .cloned()
        .into_iter()
        .collect();
    let job = Job {
        what: "this trace",
        threads: 1,
        runs: 1,
    };
    budget::check_memory(&one.cost(), &job, 0.0, &args.memory.budget()).map_err(BadInput)?;
    let journeys = trace(&plan, &request).map_err(BadInput)?;
    let text: Vec<String> = journeys.iter().map(|j| j.to_text()).collect();
    super::print(&text.join("\n"))
}
