//! One PCN of one replicate, all arms together: the population is drawn and warmed up once per
//! group of arms that share population parameters, then each arm runs the service weeks from
//! a copy of it. Running the arms of a replicate together is what makes paired differences and
//! the counterfactual evaluation possible.

use super::rng::Key;
use super::{Plan, PreparedArm, same_population};
use crate::metrics::evaluation::{History, evaluate};
use crate::metrics::{ArmOutcome, PathwayTally};
use crate::model::needs::NeedTables;
use crate::model::patient::Patient;
use crate::model::pcn::{Pcn, populate, warm_up};

/// Runs every arm of `plan` on PCN `pcn` of replicate `replicate`; outcomes in arm order.
pub fn run_pcn(plan: &Plan, replicate: u32, pcn: u32) -> Result<Vec<ArmOutcome>, String> {
    let key = Key::root(plan.seed)
        .replicate(u64::from(replicate))
        .pcn(u64::from(pcn));
    let arms: Vec<PreparedArm> = plan
        .arms
        .iter()
        .map(|a| PreparedArm {
            plan: a,
            tables: NeedTables::new(&a.params),
        })
        .collect();

    // One warmed-up population per group of arms with equal population parameters.
    let mut groups: Vec<(usize, Vec<Patient>)> = Vec::new();
    let mut group_of = Vec::with_capacity(arms.len());
    for (i, arm) in arms.iter().enumerate() {
        let found = groups
            .iter()
            .position(|(first, _)| same_population(&arms[*first].plan.params, &arm.plan.params));
        let g = match found {
            Some(g) => g,
            None => {
                let mut patients = populate(key, plan.layout, &arm.plan.params, &arm.tables)?;
                warm_up(&mut patients, plan.warmup_weeks, &arm.plan.params, &arm.tables);
                groups.push((i, patients));
                groups.len() - 1
            }
        };
        group_of.push(g);
    }

    // The twin runs first so that each evaluated arm can be compared with it at once.
    let twin = plan.twin();
    let evaluated = |i: usize| twin.is_some_and(|t| t != i && group_of[t] == group_of[i]);
    let record = |i: usize| evaluated(i) || Some(i) == twin;
    let mut order: Vec<usize> = (0..arms.len()).collect();
    if let Some(t) = twin {
        order.retain(|&i| i != t);
        order.insert(0, t);
    }

    let mut outcomes: Vec<Option<ArmOutcome>> = vec![None; arms.len()];
    let mut twin_history: Option<History> = None;
    for i in order {
        let arm = &arms[i];
        let patients = groups[group_of[i]].1.clone();
        let mut history = record(i).then(|| History::new(patients.len(), plan.weeks));
        let mut pcn_state = Pcn::start(
            key,
            patients,
            plan.layout,
            arm.plan.service,
            &arm.plan.params,
            &arm.tables,
        );
        let weekly = (0..plan.weeks as i32)
            .map(|week| pcn_state.step(week, history.as_mut()))
            .collect();
        let eval = match (&history, &twin_history) {
            (Some(h), Some(t)) if evaluated(i) => {
                Some(evaluate(&pcn_state.referrals, h, t, plan.weeks))
            }
            _ => None,
        };
        outcomes[i] = Some(ArmOutcome {
            weekly,
            pathway: PathwayTally::from_referrals(&pcn_state.referrals),
            eval,
        });
        if Some(i) == twin {
            twin_history = history;
        }
    }
    outcomes
        .into_iter()
        .map(|o| o.ok_or_else(|| "internal error: an arm was not run".to_string()))
        .collect()
}
