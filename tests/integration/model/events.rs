//! The event log of followed patients agrees with what the model records: following every
//! patient of a small plan, each week's events add up to the arm's weekly record, each patient's
//! consultation events to the arm's consultation history, and each ending to the referrals. A
//! missing or misplaced emit point fails here. Following patients changes no result.

use sprx::engine::replicate::{run_pcn, run_pcn_following};
use sprx::model::observe::{ArmWeek, Ending, Event, EventKind, WeekRecord};
use sprx::model::patient::Consultation;
use sprx::params::{NEED_COUNT, Preset};

use super::{PatientSums, arm, assert_outcomes_equal, plan};

/// Busy arms: many referrals, turnover (patients handed back), closures (asset-closed endings,
/// generated consultations) and inappropriate referrals (bounces).
fn busy_plan() -> sprx::engine::Plan {
    let arms = vec![
        arm("no_sp", Preset::NoSp, |_| {}),
        arm("belonging", Preset::Belonging, |p| {
            p.buy_in0 = 0.4;
            p.turnover_base = 0.02;
            p.close_rate = 0.02;
        }),
        arm("bolted_on", Preset::BoltedOn, |p| {
            p.buy_in0 = 0.3;
            p.inappropriate = 0.3;
        }),
    ];
    plan(arms, 1, 120, 2, 800)
}

/// The week's record as the events of every patient count it.
fn tally(events: &[Event], week: i32) -> WeekRecord {
    let mut r = WeekRecord::default();
    for e in events.iter().filter(|e| e.week == week) {
        match e.kind {
            EventKind::Consulted(Consultation::Medical) => r.medical += 1,
            EventKind::Consulted(_) => r.social += 1,
            EventKind::Generated { consultations } => r.generated += u64::from(consultations),
            EventKind::Lived { wellbeing } => {
                r.patients += 1;
                r.wellbeing_sum += wellbeing;
            }
            EventKind::Offered { inappropriate, .. } => {
                r.offered += 1;
                r.offered_inappropriate += u64::from(inappropriate);
            }
            EventKind::Declined { .. } => r.declined += 1,
            EventKind::Accepted { .. } => r.accepted += 1,
            EventKind::Waiting { .. } => r.waiting += 1,
            EventKind::Session { .. } => r.sessions += 1,
            EventKind::Connected { .. } => r.connections += 1,
            EventKind::Ended(Ending::GaveUp) => r.gave_up += 1,
            EventKind::Ended(Ending::Bounced) => r.bounced += 1,
            EventKind::Ended(Ending::DroppedOut) => r.dropped_out += 1,
            EventKind::Ended(Ending::DischargedUnconnected) => r.discharged_unconnected += 1,
            EventKind::Ended(Ending::Completed) => r.completed += 1,
            // Attendance draws are taken by every occupant before completions and closures.
            EventKind::Attendance { .. } => r.asset_occupied += 1,
            EventKind::Ended(Ending::AssetClosed) => r.asset_closures += 1,
            EventKind::NeedArises { .. }
            | EventKind::NeedResolves { .. }
            | EventKind::LinkWorkerLeft { .. }
            | EventKind::CrisisStarts { .. }
            | EventKind::CrisisEnds => {}
        }
    }
    r
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0)
}

#[test]
fn events_of_every_patient_add_up_to_the_weekly_records_and_histories() {
    let plan = busy_plan();
    let everyone: Vec<u32> = (0..plan.patients() as u32).collect();
    // The arm's consultations per patient and week (own + generated), read at the end of
    // each week from the arm's week (touched patients) and the population's (the others).
    let mut consults: Vec<Vec<Vec<u32>>> = vec![Vec::new(); plan.arms.len()];
    let (outcomes, logs) = run_pcn_following(&plan, 0, 0, &everyone, &mut |_, pop, arms| {
        let Some(base) = pop.history.as_ref() else {
            return;
        };
        for (pcn, weeks) in arms.iter().zip(&mut consults) {
            let Some(touched) = pcn.this_week.as_ref() else {
                continue;
            };
            let arm = ArmWeek {
                touched,
                base,
                slot_of: &pcn.slot_of,
            };
            let of_week = (0..everyone.len()).map(|i| {
                let (own, generated) = arm.consults(i);
                own + generated
            });
            weeks.push(of_week.collect());
        }
    })
    .expect("runs");
    let twin_weeks = &outcomes[0].weekly;
    for a in 1..plan.arms.len() {
        let Some((own, twin)) = logs[a].as_ref() else {
            panic!("arm {a}: no events kept");
        };
        let outcome = &outcomes[a];
        for (w, rec) in outcome.weekly.iter().enumerate() {
            let week = w as i32;
            let got = tally(own.events(), week);
            let what = format!("arm {a}, week {w}");
            macro_rules! same {
                ($($f:ident),*) => {
                    $( assert_eq!(got.$f, rec.$f, "{what}: {} events", stringify!($f)); )*
                };
            }
            same!(
                medical,
                social,
                generated,
                offered,
                offered_inappropriate,
                declined,
                accepted,
                waiting,
                sessions,
                connections,
                gave_up,
                bounced,
                dropped_out,
                discharged_unconnected,
                completed,
                patients
            );
            assert!(
                close(got.wellbeing_sum, rec.wellbeing_sum),
                "{what}: wellbeing of the lived weeks {} vs {}",
                got.wellbeing_sum,
                rec.wellbeing_sum
            );
            assert_eq!(
                got.asset_occupied,
                rec.asset_occupied + rec.completed + got.asset_closures,
                "{what}: attendance draws = occupants left + completed + closed out"
            );
            // The twin's log is the population's: the no_sp arm's record.
            let twin_got = tally(twin.events(), week);
            let twin_rec = &twin_weeks[w];
            assert_eq!(twin_got.medical, twin_rec.medical, "{what}: twin medical");
            assert_eq!(twin_got.social, twin_rec.social, "{what}: twin social");
            assert!(close(twin_got.wellbeing_sum, twin_rec.wellbeing_sum));
        }
        // Endings against the referrals' fates at the end of the run.
        let count = |ending| {
            own.events()
                .iter()
                .filter(|e| e.kind == EventKind::Ended(ending))
                .count() as u64
        };
        let t = &outcome.pathway;
        assert_eq!(
            count(Ending::AssetClosed),
            t.asset_closed,
            "arm {a}: closed"
        );
        assert_eq!(count(Ending::Completed), t.completed, "arm {a}: completed");
        assert_eq!(count(Ending::GaveUp), t.gave_up, "arm {a}: gave up");
        let connections = own
            .events()
            .iter()
            .filter(|e| matches!(e.kind, EventKind::Connected { .. }))
            .count() as u64;
        assert_eq!(connections, t.connected, "arm {a}: connections");
        let handed_back = assert_handed_back_patients_wait(own.events(), &format!("arm {a}"));
        // The belonging arm has turnover and closures, bolted on has bounces: every kind of
        // event above is exercised.
        if a == 1 {
            assert!(t.asset_closed > 0, "arm {a}: no asset closed on anyone");
            assert!(handed_back > 0, "arm {a}: no link worker left a patient");
        } else {
            assert!(t.bounced > 0, "arm {a}: no bounce");
        }
        // Each patient's consultation events against the arm's consultation history.
        let mut by_patient = vec![vec![0u32; plan.weeks as usize]; everyone.len()];
        for e in own.events() {
            let n = match e.kind {
                EventKind::Consulted(_) => 1,
                EventKind::Generated { consultations } => consultations,
                _ => 0,
            };
            by_patient[e.patient as usize][e.week as usize] += n;
        }
        for (i, weeks) in by_patient.iter().enumerate() {
            for (w, &n) in weeks.iter().enumerate() {
                assert_eq!(n, consults[a][w][i], "arm {a}, patient {i}, week {w}");
            }
        }
        assert_needs_alternate(own.events(), &format!("arm {a}"));
    }
}

/// A need arises only when absent and resolves only when present.
fn assert_needs_alternate(events: &[Event], what: &str) {
    let mut present: std::collections::HashMap<(u32, u8), bool> = Default::default();
    for e in events {
        let (need, arises) = match e.kind {
            EventKind::NeedArises { need } => (need, true),
            EventKind::NeedResolves { need } => (need, false),
            _ => continue,
        };
        assert!(usize::from(need) < NEED_COUNT, "{what}: need {need}");
        let was = present.insert((e.patient, need), arises);
        assert_ne!(
            was,
            Some(arises),
            "{what}: patient {} week {}: need {need} twice {}",
            e.patient,
            e.week,
            if arises { "arises" } else { "resolves" }
        );
    }
}

/// A patient whose link worker leaves is waiting at the end of that week. Returns how many
/// were handed back.
fn assert_handed_back_patients_wait(events: &[Event], what: &str) -> usize {
    let left: Vec<&Event> = events
        .iter()
        .filter(|e| matches!(e.kind, EventKind::LinkWorkerLeft { .. }))
        .collect();
    for &l in &left {
        assert!(
            events.iter().any(|e| e.patient == l.patient
                && e.week == l.week
                && matches!(e.kind, EventKind::Waiting { .. })),
            "{what}: patient {} handed back in week {} but not waiting",
            l.patient,
            l.week
        );
    }
    left.len()
}

#[test]
fn following_patients_changes_no_result() {
    let plan = busy_plan();
    let plain = run_pcn(&plan, 0, 0).expect("runs");
    let (followed, _) =
        run_pcn_following(&plan, 0, 0, &[3, 99, 512], &mut |_, _, _| {}).expect("runs");
    for (a, (x, y)) in plain.iter().zip(&followed).enumerate() {
        assert_outcomes_equal(x, y, PatientSums::Exact, &format!("arm {a}"));
    }
}
