//! Replicates in parallel (rayon). Each (replicate, PCN) is an independent unit of work; results
//! are merged in PCN order whatever thread ran them, so the output does not depend on the thread
//! count. A [`Cancel`] token is checked before each unit, so an interrupted run stops after the
//! units in progress.

use rayon::prelude::*;

use super::cancel::Cancel;
use super::replicate::{Storage, run_pcn_staffed, staffing};
use super::{ArmOutcome, PlaceTally};
use super::{EngineError, Plan};

/// All arms of one replicate, merged over the PCNs, and each PCN's place tallies.
#[derive(Clone, Debug)]
pub struct ReplicateOutcome {
    pub replicate: u32,
    pub arms: Vec<ArmOutcome>,
    /// Per PCN in plan order, per arm: what outputs by place need (a PCN's tallies add up
    /// to its arm's totals in `arms`).
    pub places: Vec<Vec<PlaceTally>>,
}

/// Why a run stopped without results.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum RunError {
    #[error("interrupted")]
    Cancelled,
    #[error(transparent)]
    Failed(#[from] EngineError),
}

/// Runs the given replicates of a plan on the current rayon pool. `tick` is called with the
/// PCN's index once per finished (replicate, PCN) unit, from any thread, for progress reporting.
pub fn run_replicates(
    plan: &Plan,
    replicates: &[u32],
    tick: &(dyn Fn(u32) + Sync),
) -> Result<Vec<ReplicateOutcome>, RunError> {
    run_replicates_cancellable(plan, replicates, tick, &Cancel::new())
}

/// [`run_replicates`] that stops with [`RunError::Cancelled`] once `cancel` is set: units not
/// yet started are skipped, units in progress finish, and their results are dropped.
pub fn run_replicates_cancellable(
    plan: &Plan,
    replicates: &[u32],
    tick: &(dyn Fn(u32) + Sync),
    cancel: &Cancel,
) -> Result<Vec<ReplicateOutcome>, RunError> {
    let staffing = staffing(plan);
    let pcns: Vec<u32> = (0..plan.pcn_count()).collect();
    replicates
        .par_iter()
        .map(|&replicate| {
            // PCNs run in parallel a chunk at a time and are added in PCN order as each chunk
            // ends: the sums are formed in the same order as collecting them all first, so
            // results are unchanged, but only a chunk's outcomes are held at once (all England
            // would otherwise hold 1,266 PCNs' weekly records per arm).
            let mut merged: Option<Vec<ArmOutcome>> = None;
            let mut places = Vec::with_capacity(pcns.len());
            for chunk in pcns.chunks(MERGE_CHUNK) {
                let outcomes: Vec<Vec<ArmOutcome>> = chunk
                    .par_iter()
                    .map(|&pcn| {
                        if cancel.is_cancelled() {
                            return Err(RunError::Cancelled);
                        }
                        let unit = (replicate, pcn);
                        let out = run_pcn_staffed(
                            plan,
                            &staffing,
                            unit,
                            Storage::Shared,
                            None,
                            &mut |_, _, _| {},
                        )
                        .map(|(outcomes, _)| outcomes)
                        .map_err(RunError::Failed);
                        tick(pcn);
                        out
                    })
                    .collect::<Result<_, _>>()?;
                for pcn in outcomes {
                    places.push(pcn.iter().map(ArmOutcome::place_tally).collect());
                    match merged.as_mut() {
                        None => merged = Some(pcn),
                        Some(arms) => {
                            for (a, b) in arms.iter_mut().zip(&pcn) {
                                a.add(b);
                            }
                        }
                    }
                }
            }
            let arms = merged.ok_or(RunError::Failed(EngineError::NoPcn))?;
            Ok(ReplicateOutcome {
                replicate,
                arms,
                places,
            })
        })
        .collect()
}

/// PCNs of a replicate whose outcomes are held at once before they are added to the total.
pub const MERGE_CHUNK: usize = 64;

/// Runs `f` on a pool of `threads` threads (all cores if `None`).
pub fn with_threads<T: Send>(
    threads: Option<usize>,
    f: impl FnOnce() -> T + Send,
) -> Result<T, EngineError> {
    let mut builder = rayon::ThreadPoolBuilder::new();
    if let Some(n) = threads {
        builder = builder.num_threads(n);
    }
    let pool = builder.build().map_err(|e| EngineError::Threads {
        threads: threads.map_or_else(|| "all".to_string(), |n| n.to_string()),
        detail: e.to_string(),
    })?;
    Ok(pool.install(f))
}
