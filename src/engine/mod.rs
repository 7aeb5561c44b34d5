//! The engine: what to simulate (a [`Plan`]), one PCN of one replicate with all its arms
//! ([`replicate`]), and many replicates in parallel ([`runner`]).
//!
//! Determinism contract: the outputs of a plan depend only on the plan (scenario and seed),
//! never on the thread count or on how the work is split. Every random draw is keyed by what it
//! is about (see [`crate::rng`]); replicates and PCNs are independent units whose results are merged
//! in a fixed order.

pub mod budget;
pub mod cancel;
pub mod cost;
mod outcome;
pub mod replicate;
pub mod runner;

pub use outcome::ArmOutcome;

/// Why the engine could not run a plan.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum EngineError {
    /// An arm's parameters could not set up its population.
    #[error("arm {arm}: {source}")]
    Model {
        arm: String,
        source: crate::model::ModelError,
    },
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
}

/// Everything the engine needs to run a scenario.
#[derive(Clone, Debug)]
pub struct Plan {
    pub seed: u64,
    pub replicates: u32,
    /// Service weeks (0..weeks are output).
    pub weeks: u32,
    pub warmup_weeks: u32,
    pub pcns: u32,
    pub layout: Layout,
    pub arms: Vec<ArmPlan>,
    /// Index of the arm paired differences are taken against.
    pub baseline: usize,
}

impl Plan {
    /// Registered patients in the whole system.
    pub fn patients(&self) -> u64 {
        u64::from(self.pcns) * self.layout.patients() as u64
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
