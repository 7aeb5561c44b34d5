//! One live run: the replicates in batches of one per core, a snapshot of the results
//! published after each batch, so that the page's bands narrow as replicates arrive. The first
//! replicate of a one-PCN scenario also reports its queue week by week while it runs, so the
//! page moves within a fraction of a second of pressing run. A [`Cancel`] token stops the run
//! between units of work; the engine's units are checked by the runner itself.

use std::time::Instant;

use serde_json::json;

use super::view::view;
use crate::engine::Plan;
use crate::engine::cancel::Cancel;
use crate::engine::replicate::run_pcn_observed;
use crate::engine::runner::{self, ReplicateOutcome, RunError};
use crate::model::pcn::Pcn;
use crate::model::population::Population;

/// What a published snapshot is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Accepted, waiting for this client's previous run to stop.
    Queued,
    /// The first replicate's weekly queue so far.
    Partial,
    /// Results over the replicates finished so far.
    Update,
    /// All replicates finished; the data is the final update.
    Done,
    Cancelled,
    Failed,
}

impl Kind {
    /// The server-sent event's name.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Queued => "queued",
            Kind::Partial => "partial",
            Kind::Update => "update",
            Kind::Done => "done",
            Kind::Cancelled => "cancelled",
            Kind::Failed => "failed",
        }
    }

    /// Whether the run has ended.
    pub fn is_final(self) -> bool {
        matches!(self, Kind::Done | Kind::Cancelled | Kind::Failed)
    }
}

/// Weeks between two partial snapshots of the first replicate.
const PARTIAL_EVERY_WEEKS: i32 = 4;

/// Runs `plan`, calling `publish` with each snapshot (JSON text); returns when the run has
/// ended, after publishing a final kind.
pub fn run(plan: &Plan, cancel: &Cancel, publish: &mut (dyn FnMut(Kind, String) + Send)) {
    let clock = Instant::now();
    let elapsed_ms = || clock.elapsed().as_millis() as u64;
    let threads = rayon::current_num_threads().max(1);
    let replicates: Vec<u32> = (0..plan.replicates).collect();
    let mut outcomes: Vec<ReplicateOutcome> = Vec::with_capacity(replicates.len());
    for (b, batch) in replicates.chunks(threads).enumerate() {
        let result = if b == 0 && plan.pcn_count() == 1 {
            first_batch(plan, batch, cancel, &mut |week, queues| {
                let data = json!({ "week": week, "of": plan.weeks, "queues": queues,
                                   "elapsed_ms": elapsed_ms() });
                publish(Kind::Partial, data.to_string());
            })
        } else {
            runner::run_replicates_cancellable(plan, batch, &|_| {}, cancel)
        };
        match result {
            Ok(done) => {
                outcomes.extend(done);
                outcomes.sort_by_key(|o| o.replicate);
            }
            Err(RunError::Cancelled) => {
                publish(
                    Kind::Cancelled,
                    json!({ "elapsed_ms": elapsed_ms() }).to_string(),
                );
                return;
            }
            Err(RunError::Failed(e)) => {
                let message = format!("the simulation failed: {e}");
                publish(Kind::Failed, json!({ "error": message }).to_string());
                return;
            }
        }
        let last = outcomes.len() == replicates.len();
        let data = json!({ "elapsed_ms": elapsed_ms(), "view": view(plan, &outcomes) });
        publish(
            if last { Kind::Done } else { Kind::Update },
            data.to_string(),
        );
    }
}

/// Each arm's queue per week so far, in arm order (`None` where the arm's PCN is not seen).
type Queues = Vec<Option<Vec<u32>>>;

/// The first batch: replicate `batch[0]` watched week by week (its queue reported through
/// `partial`), the rest of the batch beside it on the pool.
fn first_batch(
    plan: &Plan,
    batch: &[u32],
    cancel: &Cancel,
    partial: &mut (dyn FnMut(i32, &Queues) + Send),
) -> Result<Vec<ReplicateOutcome>, RunError> {
    let (first, rest) = batch.split_first().map_or((0, &[][..]), |(f, r)| (*f, r));
    let (watched, others) = rayon::join(
        || watched_replicate(plan, first, cancel, partial),
        || runner::run_replicates_cancellable(plan, rest, &|_| {}, cancel),
    );
    let mut all = vec![watched?];
    all.extend(others?);
    Ok(all)
}

/// One replicate of a one-PCN plan, its queues reported every few weeks.
fn watched_replicate(
    plan: &Plan,
    replicate: u32,
    cancel: &Cancel,
    partial: &mut (dyn FnMut(i32, &Queues) + Send),
) -> Result<ReplicateOutcome, RunError> {
    if cancel.is_cancelled() {
        return Err(RunError::Cancelled);
    }
    let mut queues: Queues = vec![None; plan.arms.len()];
    let groups = population_groups(plan);
    let mut group = 0;
    let mut observe = |week: i32, _: &Population, arms: &[Pcn]| {
        // The engine runs arms that share a population together, group after group; a new
        // group starts again at week 0.
        if week == 0 && queues.iter().flatten().any(|q| !q.is_empty()) {
            group += 1;
        }
        let Some(members) = groups.get(group) else {
            return;
        };
        for (&arm, pcn) in members.iter().zip(arms) {
            if let Some(q) = queues.get_mut(arm) {
                q.get_or_insert_with(Vec::new)
                    .push(u32::try_from(pcn.queue.len()).unwrap_or(u32::MAX));
            }
        }
        if (week + 1) % PARTIAL_EVERY_WEEKS == 0 && !cancel.is_cancelled() {
            partial(week, &queues);
        }
    };
    let arms = run_pcn_observed(plan, replicate, 0, &mut observe).map_err(RunError::Failed)?;
    let places = vec![arms.iter().map(|a| a.place_tally()).collect()];
    Ok(ReplicateOutcome {
        replicate,
        arms,
        places,
    })
}

/// The arms (by plan index) that share a population, in the order the engine runs them:
/// groups of equal population parameters, in order of first appearance.
fn population_groups(plan: &Plan) -> Vec<Vec<usize>> {
    let mut groups: Vec<Vec<usize>> = Vec::new();
    for (i, arm) in plan.arms.iter().enumerate() {
        let same = groups
            .iter_mut()
            .find(|g| crate::engine::same_population(&plan.arms[g[0]].params, &arm.params));
        match same {
            Some(g) => g.push(i),
            None => groups.push(vec![i]),
        }
    }
    groups
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::Scenario;

    /// A small plan of the default scenario's four arms.
    fn plan(replicates: u32) -> Plan {
        let text = format!(
            "[run]\nreplicates = {replicates}\nweeks = 40\nwarmup_weeks = 10\n\
             [population]\npatients_per_practice = 600\n"
        );
        Scenario::parse(&text, "small.toml").expect("valid").plan()
    }

    #[test]
    fn a_live_run_ends_with_the_results_of_all_replicates_run_at_once() {
        let plan = plan(5);
        let mut last = None;
        let mut partials = 0;
        run(&plan, &Cancel::new(), &mut |kind, data| {
            if kind == Kind::Partial {
                partials += 1;
            }
            last = Some((kind, data));
        });
        let (kind, data) = last.expect("published");
        assert_eq!(kind, Kind::Done);
        assert!(partials > 0, "the first replicate streams its weeks");
        let all: Vec<u32> = (0..5).collect();
        let outcomes = runner::run_replicates(&plan, &all, &|_| {}).expect("runs");
        let expected = serde_json::to_value(view(&plan, &outcomes)).expect("json");
        let got: serde_json::Value = serde_json::from_str(&data).expect("json");
        assert_eq!(got["view"], expected);
    }

    #[test]
    fn a_cancelled_run_says_so() {
        let cancel = Cancel::new();
        cancel.cancel();
        let mut kinds = Vec::new();
        run(&plan(3), &cancel, &mut |kind, _| kinds.push(kind));
        assert_eq!(kinds, vec![Kind::Cancelled]);
    }
}
