//! Replicates in parallel (rayon). Each (replicate, PCN) is an independent unit of work; results
//! are merged in PCN order whatever thread ran them, so the output does not depend on the thread
//! count.

use rayon::prelude::*;

use super::ArmOutcome;
use super::Plan;
use super::replicate::run_pcn;

/// All arms of one replicate, merged over the PCNs.
#[derive(Clone, Debug)]
pub struct ReplicateOutcome {
    pub replicate: u32,
    pub arms: Vec<ArmOutcome>,
}

/// Runs the given replicates of a plan on the current rayon pool. `tick` is called once per
/// finished (replicate, PCN) unit, from any thread, for progress reporting.
pub fn run_replicates(
    plan: &Plan,
    replicates: &[u32],
    tick: &(dyn Fn() + Sync),
) -> Result<Vec<ReplicateOutcome>, String> {
    replicates
        .par_iter()
        .map(|&replicate| {
            let per_pcn: Vec<Vec<ArmOutcome>> = (0..plan.pcns)
                .into_par_iter()
                .map(|pcn| {
                    let out = run_pcn(plan, replicate, pcn);
                    tick();
                    out
                })
                .collect::<Result<_, _>>()?;
            let mut iter = per_pcn.into_iter();
            let mut arms = iter
                .next()
                .ok_or_else(|| "a run needs at least one PCN".to_string())?;
            for pcn in iter {
                for (a, b) in arms.iter_mut().zip(&pcn) {
                    a.add(b);
                }
            }
            Ok(ReplicateOutcome { replicate, arms })
        })
        .collect()
}

/// Runs `f` on a pool of `threads` threads (all cores if `None`).
pub fn with_threads<T: Send>(
    threads: Option<usize>,
    f: impl FnOnce() -> T + Send,
) -> Result<T, String> {
    let mut builder = rayon::ThreadPoolBuilder::new();
    if let Some(n) = threads {
        builder = builder.num_threads(n);
    }
    let pool = builder
        .build()
        .map_err(|e| format!("cannot start {threads:?} threads: {e}"))?;
    Ok(pool.install(f))
}
