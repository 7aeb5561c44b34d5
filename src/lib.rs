//! # sprx — a simulator of social prescribing systems
//!
//! In English primary care, GPs refer patients with non-medical needs (loneliness, debt,
//! housing, low mood, inactivity) to *link workers*, who connect them to community *assets*.
//! sprx is an agent-based model of that system (MODEL.md in the project's `shared/` folder is
//! its specification) with Monte Carlo runs that compare integration levels of link workers
//! into general practice against a counterfactual with no social prescribing.
//!
//! A tour of the crate:
//! - [`params`]: the parameter registry — every model parameter declared once.
//! - [`model`]: the domain — patients, needs, practices, link workers, assets, the PCN schedule.
//! - [`engine`]: random streams, replicates, parallelism; the determinism contract.
//! - [`metrics`]: weekly records, summary metrics, the evaluation lens, statistics.
//! - [`places`]: England's practices, PCNs, ICBs and regions from NHS data, embedded.
//! - [`scenario`]: TOML scenarios, validated into a [`engine::Plan`], with precise errors.
//! - [`output`]: the files a run writes, atomically, and the terminal comparison table.
//! - [`report`]: the evaluation lens, the self-contained HTML report and patient journeys.
//! - [`sweep`]: parameter sweeps, sensitivity analysis, shards and Slurm job arrays.
//! - [`serve`]: `sprx serve`, the live workshop page: levers, streamed runs, compare.

pub mod engine;
pub mod metrics;
pub mod model;
pub mod output;
pub mod params;
pub mod places;
pub mod report;
pub mod rng;
pub mod scenario;
pub mod serve;
pub mod sweep;
