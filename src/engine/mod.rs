//! The engine: what to simulate (a [`Plan`]), one PCN of one replicate with all its arms
//! ([`replicate`]), and many replicates in parallel ([`runner`]).
//!
//! Determinism contract: the outputs of a plan depend only on the plan (scenario and seed),
//! never on the thread count or on how the work is split. Every random draw is keyed by what it
//! is about (see [`crate::rng`]); replicates and PCNs are independent units whose results are merged
//! in a fixed order.

pub mod allocation;
pub mod budget;
pub mod cancel;
pub mod cost;
mod outcome;
pub mod replicate;
pub mod runner;

pub use crate::model::population::Engine;
pub use allocation::Allocation;
pub use outcome::{ArmOutcome, PlaceTally};

/// Why the engine could not run a plan.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum EngineError {
    /// An arm's parameters could not set up its population.
    #[error("arm {arm}: {source}")]
    Model {
        arm: String,
        source: crate::model::ModelError,
    },
    /// An arm's link-worker allocation cannot be made.
    #[error("arm {arm}: {detail}")]
    Allocation { arm: String, detail: String },
    /// A plan without PCNs has nothing to run.
    #[error("a run needs at least one PCN")]
    NoPcn,
    /// The worker threads could not be started.
    #[error("cannot start {threads} worker threads: {detail}")]
    Threads { threads: String, detail: String },
}

use crate::model::pcn::Layout;
use crate::params::{Params, REGISTRY, Stage};

/// One arm, ready to simulate.
#[derive(Clone, Debug)]
pub struct ArmPlan {
    pub name: String,
    /// Whether the arm runs the link-worker service (false for the no_sp counterfactual).
    pub service: bool,
    pub params: Params,
    /// How the arm's link-worker FTE is shared among the PCNs (with `lw_per_pcn` or `lw_total`
    /// from `params`, read when the run starts, so a sweep over them takes effect).
    pub allocation: Allocation,
}

/// One PCN: its practices, what link-worker allocation rules weigh it by, and, for a real
/// PCN, who it is (for outputs by place).
#[derive(Clone, Debug)]
pub struct PcnPlan {
    /// Label of the PCN's random streams under the replicate's key. Synthetic PCNs use their
    /// position; real PCNs a hash of their code, so a PCN sees the same draws whatever else is
    /// selected with it (alone, in its ICB or in all England).
    pub stream: u64,
    pub layout: Layout,
    /// Patients weighted by the Carr-Hill formula (capitation allocation); registered patients
    /// for a synthetic PCN.
    pub weighted_patients: f64,
    /// Link-worker FTE in September 2022 (the `as_is` allocation), with unknown values already
    /// imputed (see `docs/places.md`); `None` for a synthetic PCN, which then has `lw_per_pcn`.
    pub lw_fte_2022: Option<f64>,
    /// Who the PCN is; `None` for a synthetic PCN.
    pub identity: Option<PcnIdentity>,
}

/// A real PCN's identity, carried for outputs by PCN, ICB and region.
#[derive(Clone, Debug, PartialEq)]
pub struct PcnIdentity {
    pub code: String,
    pub name: String,
    pub icb_code: String,
    pub icb_name: String,
    pub region: String,
    /// Patient-weighted mean IMD 2019 score of its practices, if any has one.
    pub imd_score: Option<f64>,
    /// The fifth of England's PCNs by mean IMD score it falls in (1 = most deprived), for
    /// results by PCN deprivation quintile; `None` without a score.
    pub imd_quintile: Option<u8>,
    /// FTE as reported in September 2022; `None` when the PCN made no return (imputed in
    /// [`PcnPlan::lw_fte_2022`]).
    pub lw_fte_reported: Option<f64>,
}

impl PcnPlan {
    /// The `index`-th synthetic PCN: `layout`'s practices, streams keyed by its position
    /// (as in every run before real places, so synthetic results are unchanged).
    pub fn synthetic(index: u32, layout: Layout) -> PcnPlan {
        PcnPlan {
            stream: u64::from(index),
            weighted_patients: layout.patients() as f64,
            layout,
            lw_fte_2022: None,
            identity: None,
        }
    }

    pub fn patients(&self) -> u64 {
        self.layout.patients() as u64
    }
}

/// Everything the engine needs to run a scenario.
#[derive(Clone, Debug)]
pub struct Plan {
    pub seed: u64,
    pub replicates: u32,
    /// Service weeks (0..weeks are output).
    pub weeks: u32,
    pub warmup_weeks: u32,
    /// The PCNs, in output (merge) order.
    pub pcns: Vec<PcnPlan>,
    pub arms: Vec<ArmPlan>,
    /// Index of the arm paired differences are taken against.
    pub baseline: usize,
    /// How patients' own processes are stepped ([`Engine::Fast`] unless asked otherwise).
    pub engine: Engine,
}

impl Plan {
    /// The reference plan of benches and tests: MODEL.md's defaults for the four presets
    /// (no_sp, bolted_on, fitting_in, belonging) on one synthetic PCN of 5 practices × 9,600
    /// patients, 52 warm-up and 260 service weeks, seed 1.
    pub fn reference(replicates: u32) -> Plan {
        let arms = crate::params::Preset::ALL
            .iter()
            .map(|&preset| {
                let mut params = Params::default();
                preset.apply(&mut params);
                ArmPlan {
                    name: preset.name().to_string(),
                    service: preset.has_service(),
                    params,
                    allocation: Allocation::PerPcn,
                }
            })
            .collect();
        Plan {
            seed: 1,
            replicates,
            weeks: 260,
            warmup_weeks: 52,
            pcns: Plan::synthetic_pcns(1, &Layout::uniform(5, 9_600)),
            arms,
            baseline: 0,
            engine: Engine::default(),
        }
    }

    /// Registered patients in the whole system.
    pub fn patients(&self) -> u64 {
        self.pcns.iter().map(PcnPlan::patients).sum()
    }

    /// `count` identical synthetic PCNs of `layout`.
    pub fn synthetic_pcns(count: u32, layout: &Layout) -> Vec<PcnPlan> {
        (0..count)
            .map(|i| PcnPlan::synthetic(i, layout.clone()))
            .collect()
    }

    /// Number of PCNs, as the engine's unit index type.
    pub fn pcn_count(&self) -> u32 {
        u32::try_from(self.pcns.len()).unwrap_or(u32::MAX)
    }

    /// The largest PCN by registered patients (what one unit of work holds at most).
    pub fn largest_pcn(&self) -> Option<&PcnPlan> {
        self.pcns.iter().max_by_key(|p| p.patients())
    }
}

/// Whether two parameter sets agree on everything that acts before the service starts, so
/// that arms using them can share one initialisation and warm-up.
pub fn same_population(a: &Params, b: &Params) -> bool {
    REGISTRY
        .iter()
        .filter(|d| d.stage == Stage::Population)
        .all(|d| (d.get)(a) == (d.get)(b))
}
