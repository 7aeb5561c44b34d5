//! One PCN of one replicate, all arms together, week by week. Arms with the same population
//! parameters share one [`Population`]: it is drawn, warmed up and lived once per week, and each
//! arm then runs its service on top of it. Running the arms of a replicate together is what makes
//! paired differences and the counterfactual evaluation possible.

use super::ArmOutcome;
use super::{EngineError, Plan, allocation, same_population};
use crate::model::link_worker;
use crate::model::needs::NeedTables;
use crate::model::observe::{EventLog, PathwayTally, WeekRecord, evaluate};
use crate::model::pcn::Pcn;
use crate::model::population::Population;
use crate::rng::Key;

/// Arms (by index in the plan) that share a population.
struct Group {
    arms: Vec<usize>,
    tables: NeedTables,
}

/// Groups arms by equal population parameters, in order of first appearance.
fn group_arms(plan: &Plan) -> Vec<Group> {
    let mut groups: Vec<Group> = Vec::new();
    for (i, arm) in plan.arms.iter().enumerate() {
        match groups
            .iter_mut()
            .find(|g| same_population(&plan.arms[g.arms[0]].params, &arm.params))
        {
            Some(g) => {
                g.arms.push(i);
                // n_recent is kept for the whole population if any of its arms reads it.
                g.tables.recency |= arm.params.recency_gain > 0.0;
            }
            None => groups.push(Group {
                arms: vec![i],
                tables: NeedTables::new(&arm.params),
            }),
        }
    }
    groups
}

/// How arms hold their patients.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Storage {
    /// An arm keeps its own copy only of the patients it has touched (the fast default).
    Shared,
    /// Every arm simulates every patient itself: the reference for tests.
    Dense,
}

/// Runs every arm of `plan` on PCN `pcn` of replicate `replicate`; outcomes in arm order.
/// `observe` sees every arm's PCN after each week (for invariant checks, traces).
pub fn run_pcn_observed(
    plan: &Plan,
    replicate: u32,
    pcn: u32,
    observe: &mut dyn FnMut(i32, &Population, &[Pcn]),
) -> Result<Vec<ArmOutcome>, EngineError> {
    run_pcn_with(plan, replicate, pcn, Storage::Shared, observe)
}

/// [`run_pcn_observed`] with a choice of [`Storage`].
pub fn run_pcn_with(
    plan: &Plan,
    replicate: u32,
    pcn: u32,
    storage: Storage,
    observe: &mut dyn FnMut(i32, &Population, &[Pcn]),
) -> Result<Vec<ArmOutcome>, EngineError> {
    run_pcn_full(plan, replicate, pcn, storage, None, observe).map(|(outcomes, _)| outcomes)
}

/// The events of followed patients in one arm: the arm's own log, and its population's (the
/// no_sp twin's).
pub type FollowedEvents = (EventLog, EventLog);

/// [`run_pcn_observed`] following the patients `follow` (ids within the PCN): besides the
/// outcomes, each arm's events of those patients and its population's, in arm order. Following
/// changes no draw and no result.
pub fn run_pcn_following(
    plan: &Plan,
    replicate: u32,
    pcn: u32,
    follow: &[u32],
    observe: &mut dyn FnMut(i32, &Population, &[Pcn]),
) -> Result<Run, EngineError> {
    run_pcn_full(plan, replicate, pcn, Storage::Shared, Some(follow), observe)
}

/// Outcomes and followed events of every arm, in arm order.
pub type Run = (Vec<ArmOutcome>, Vec<Option<FollowedEvents>>);

/// Each arm's link-worker FTE for each PCN (arm-major), worked out once per run.
pub type Staffing = Vec<Vec<f64>>;

/// The link-worker FTE of every arm in every PCN of `plan` (see [`super::allocation`]).
pub fn staffing(plan: &Plan) -> Staffing {
    plan.arms
        .iter()
        .map(|arm| allocation::arm_fte(&plan.pcns, arm))
        .collect()
}

fn run_pcn_full(
    plan: &Plan,
    replicate: u32,
    pcn: u32,
    storage: Storage,
    follow: Option<&[u32]>,
    observe: &mut dyn FnMut(i32, &Population, &[Pcn]),
) -> Result<Run, EngineError> {
    run_pcn_staffed(
        plan,
        &staffing(plan),
        (replicate, pcn),
        storage,
        follow,
        observe,
    )
}

/// [`run_pcn_full`] with the staffing worked out beforehand (the runner does it once per run).
pub fn run_pcn_staffed(
    plan: &Plan,
    staffing: &Staffing,
    (replicate, pcn): (u32, u32),
    storage: Storage,
    follow: Option<&[u32]>,
    observe: &mut dyn FnMut(i32, &Population, &[Pcn]),
) -> Result<Run, EngineError> {
    let pcn_plan = plan.pcns.get(pcn as usize).ok_or(EngineError::NoPcn)?;
    let layout = &pcn_plan.layout;
    let key = Key::root(plan.seed)
        .replicate(u64::from(replicate))
        .pcn(pcn_plan.stream);
    // Every arm is in exactly one group; results are put back in arm order at the end.
    let mut results: Vec<(usize, ArmOutcome, Option<FollowedEvents>)> =
        Vec::with_capacity(plan.arms.len());
    for group in group_arms(plan) {
        let first = &plan.arms[group.arms[0]].params;
        let evaluated = group.arms.iter().any(|&i| plan.arms[i].service);
        let mut population = Population::new(
            key,
            layout,
            plan.warmup_weeks,
            plan.weeks,
            evaluated,
            plan.engine,
            first,
            &group.tables,
        )
        .map_err(|source| EngineError::Model {
            arm: plan.arms[group.arms[0]].name.clone(),
            source,
        })?;
        population.events = follow.map(EventLog::following);
        let mut arms: Vec<Pcn> = group
            .arms
            .iter()
            .map(|&i| {
                let arm = &plan.arms[i];
                let fte = staffing
                    .get(i)
                    .and_then(|arm| arm.get(pcn as usize))
                    .copied()
                    .unwrap_or(0.0);
                let posts = link_worker::posts(fte);
                let mut pcn = Pcn::start(
                    key,
                    layout,
                    &posts,
                    (arm.service, evaluated),
                    &arm.params,
                    &population,
                );
                if storage == Storage::Dense {
                    pcn.touch_everyone(&population);
                }
                pcn.events = follow.map(EventLog::following);
                pcn
            })
            .collect();
        let mut weekly: Vec<Vec<WeekRecord>> =
            vec![Vec::with_capacity(plan.weeks as usize); arms.len()];
        for week in 0..plan.weeks as i32 {
            population.live_week(week);
            for (arm, records) in arms.iter_mut().zip(&mut weekly) {
                records.push(arm.step(week, &population));
            }
            observe(week, &population, &arms);
        }
        for ((&i, arm), weekly) in group.arms.iter().zip(&mut arms).zip(weekly) {
            let followed = match (arm.events.take(), population.events.as_ref()) {
                (Some(own), Some(twin)) => Some((own, twin.clone())),
                _ => None,
            };
            let eval = arm.cohort.as_ref().map(|cohort| {
                let followup = plan.arms[i].params.eval_followup_weeks;
                evaluate(&arm.referrals, cohort, plan.weeks, followup)
            });
            let outcome = ArmOutcome {
                weekly,
                pathway: PathwayTally::from_referrals(&arm.referrals),
                eval,
            };
            results.push((i, outcome, followed));
        }
        if let Some(history) = population.history.take() {
            history.recycle();
        }
    }
    results.sort_by_key(|(i, _, _)| *i);
    Ok(results.into_iter().map(|(_, o, f)| (o, f)).unzip())
}

/// Runs every arm of `plan` on one PCN of one replicate.
pub fn run_pcn(plan: &Plan, replicate: u32, pcn: u32) -> Result<Vec<ArmOutcome>, EngineError> {
    run_pcn_observed(plan, replicate, pcn, &mut |_, _, _| {})
}
