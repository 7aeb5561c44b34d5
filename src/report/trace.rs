//! `sprx trace`: one referred patient's journey, week by week, in an arm and — beside it — in
//! the world without social prescribing. The shared population *is* the no_sp twin (common
//! random numbers), so both columns come from one run of the engine: after every week the
//! engine's observer shows the population and the arm's PCN, and the journey is the difference
//! between this week's state and last week's. Nothing in the model is instrumented for this.

use std::fmt::Write as _;

use crate::engine::Plan;
use crate::engine::replicate::run_pcn_observed;
use crate::model::needs::{NeedSet, present};
use crate::model::observe::{ArmTrace, Trace, in_cohort};
use crate::model::patient::{Consultation, Pathway, Patient};
use crate::model::pcn::Pcn;
use crate::model::population::{MEDICAL, NO_CONSULT, Population};
use crate::model::referral::{Attendance, Outcome, Referral};
use crate::params::NEED_NAMES;
use crate::params::Params;

use super::escape;

/// Marker the engine uses for a patient the arm never touched.
const NO_SLOT: u32 = u32::MAX;

/// Which patients to follow, where.
#[derive(Clone, Debug)]
pub struct TraceRequest {
    /// Arm name (must run the service).
    pub arm: String,
    pub replicate: u32,
    pub pcn: u32,
    pub who: Who,
}

#[derive(Clone, Debug)]
pub enum Who {
    /// These patient ids (within the PCN).
    Patients(Vec<u32>),
    /// `n` referred patients picked deterministically, varied by outcome.
    Sample(usize),
}

/// One week in which something happened, on either side.
#[derive(Clone, Debug)]
pub struct Step {
    pub week: i32,
    pub arm: Vec<String>,
    pub twin: Vec<String>,
    pub wellbeing_arm: f64,
    pub wellbeing_twin: f64,
}

/// Shown for the twin when its week was the same as the arm's, so divergence stands out.
const SAME: &str = "(same)";

impl Step {
    /// Whether the twin's week read the same as the arm's.
    pub fn same(&self) -> bool {
        self.arm == self.twin
    }
}

/// A patient's journey in an arm and in the no_sp world.
#[derive(Clone, Debug)]
pub struct Journey {
    pub arm: String,
    pub replicate: u32,
    pub pcn: u32,
    pub patient: u32,
    /// Who the patient is: quintile, frailty, capacity, baseline wellbeing and activation.
    pub profile: String,
    pub steps: Vec<Step>,
    /// GP consultations over the service weeks, generated ones included: arm, twin.
    pub consults: (u32, u32),
    /// Mean wellbeing over the service weeks: arm, twin.
    pub wellbeing: (f64, f64),
    /// How the referrals ended, one line each.
    pub outcomes: Vec<String>,
}

/// What the tracer remembers about a followed patient between weeks.
struct Follow {
    id: u32,
    prev_arm: Patient,
    prev_twin: Patient,
    touched: bool,
    steps: Vec<Step>,
    consults: (u32, u32),
    wellbeing: (f64, f64),
    /// Referral outcomes already reported, by referral index.
    reported: Vec<(usize, Outcome, Attendance)>,
    /// Link worker (0-based) and sessions held at the end of last week, while supported.
    case: Option<(usize, u32)>,
}

/// One session's line: the session number, the link worker, trust before and after.
fn session_text(n: u32, lw: usize, before: &Patient, after: &Patient, holding: bool) -> String {
    format!(
        "session {n}, link worker {}: trust {:.2}→{:.2}, activation {:.2}{}",
        lw + 1,
        before.trust,
        after.trust,
        after.activation,
        if holding { "; held as anchor" } else { "" }
    )
}

fn needs_diff(before: NeedSet, after: NeedSet, out: &mut Vec<String>) {
    for k in present(after & !before) {
        out.push(format!("{} need arises", NEED_NAMES[k]));
    }
    for k in present(before & !after) {
        out.push(format!("{} need resolves", NEED_NAMES[k]));
    }
}

fn consultation_text(c: Consultation) -> Option<&'static str> {
    match c {
        Consultation::Medical => Some("GP consultation (medical)"),
        Consultation::Social => Some("GP consultation (non-medical needs)"),
        Consultation::None => None,
    }
}

fn outcome_text(r: &Referral) -> &'static str {
    match (r.outcome, r.attendance) {
        (Outcome::Pending, _) => "still open at the end of the run",
        (Outcome::GaveUp, _) => "gave up waiting for a link worker",
        (Outcome::Bounced, _) => "bounced back to the GP at assessment (inappropriate referral)",
        (Outcome::DroppedOut, _) => "dropped out of link-worker support",
        (Outcome::DischargedUnconnected, _) => {
            "discharged at the session limit without a connection"
        }
        (Outcome::Connected, Attendance::Completed) => {
            "connected to an asset and completed its weeks"
        }
        (Outcome::Connected, Attendance::AssetClosed) => "connected, but the asset closed",
        (Outcome::Connected, _) => "connected to an asset (still attending)",
    }
}

/// Follows the given patients of one arm through one (replicate, PCN).
fn follow(
    plan: &Plan,
    arm: usize,
    replicate: u32,
    pcn: u32,
    ids: &[u32],
) -> Result<(Vec<Follow>, Vec<Referral>), String> {
    let params: &Params = &plan.arms[arm].params;
    let mut one = plan.clone();
    // Only the traced arm is simulated: its no-service population is the no_sp twin.
    one.arms = vec![plan.arms[arm].clone()];
    one.baseline = 0;
    let mut follows: Vec<Follow> = Vec::new();
    let mut referrals: Vec<Referral> = Vec::new();
    let last_week = plan.weeks as i32 - 1;
    let mut observe = |week: i32, population: &Population, arms: &[Pcn]| {
        let Some(pcn) = arms.first() else { return };
        if follows.is_empty() {
            // Week 0: remember the state the service started from (this week's changes are
            // diffed from the population's state before it lived week 0, approximated by now).
            follows = ids
                .iter()
                .map(|&id| {
                    let p = population.patients[id as usize];
                    Follow {
                        id,
                        prev_arm: p,
                        prev_twin: p,
                        touched: false,
                        steps: Vec::new(),
                        consults: (0, 0),
                        wellbeing: (0.0, 0.0),
                        reported: Vec::new(),
                        case: None,
                    }
                })
                .collect();
        }
        for f in follows.iter_mut() {
            record_week(f, week, population, pcn, params);
        }
        if week == last_week {
            referrals = pcn.referrals.clone();
        }
    };
    run_pcn_observed(&one, replicate, pcn, &mut observe).map_err(|e| e.to_string())?;
    Ok((follows, referrals))
}

/// Diffs one followed patient's week.
fn record_week(f: &mut Follow, week: i32, population: &Population, pcn: &Pcn, p: &Params) {
    let i = f.id as usize;
    let twin = population.patients[i];
    let slot = pcn.slot_of[i];
    let arm_now = if slot == NO_SLOT {
        twin
    } else {
        pcn.touched[slot as usize]
    };
    let mut arm_ev = Vec::new();
    let mut twin_ev = Vec::new();

    // The twin: the population's own week.
    needs_diff(f.prev_twin.needs, twin.needs, &mut twin_ev);
    let twin_code = population.consults[i];
    let twin_consult = match twin_code {
        NO_CONSULT => Consultation::None,
        MEDICAL => Consultation::Medical,
        _ => Consultation::Social,
    };
    twin_ev.extend(consultation_text(twin_consult).map(str::to_string));

    // The arm: the consultation of a patient touched before this week is redrawn from last
    // week's state (the draws are keyed by patient and week, so this is the arm's own draw).
    let arm_consult = if f.touched {
        let mut replay = f.prev_arm;
        replay.live_week(i64::from(week), p, population.tables())
    } else {
        twin_consult
    };
    needs_diff(f.prev_arm.needs, arm_now.needs, &mut arm_ev);
    arm_ev.extend(consultation_text(arm_consult).map(str::to_string));
    let (own, generated) = match (&pcn.history, &population.history) {
        (Some(touched), Some(base)) => ArmTrace {
            touched,
            base,
            slot_of: &pcn.slot_of,
        }
        .consults(week, i),
        _ => (u32::from(arm_consult != Consultation::None), 0),
    };
    // The replayed draw must agree with what the arm recorded; if it did not, the trace would
    // be telling a different story from the run.
    debug_assert_eq!(
        own,
        u32::from(arm_consult != Consultation::None),
        "patient {} week {week}: replayed consultation differs from the arm's record",
        f.id
    );

    // Referrals accepted this week, and a declined offer (cooldown set while idle).
    let mine: Vec<(usize, &Referral)> = pcn
        .referrals
        .iter()
        .enumerate()
        .filter(|(_, r)| r.patient == f.id)
        .collect();
    let accepted_now = mine.iter().any(|(_, r)| r.accepted_week == week);
    for (_, r) in mine.iter().filter(|(_, r)| r.accepted_week == week) {
        arm_ev.push(format!(
            "GP offers a referral{} — accepted (trust {:.2})",
            if r.inappropriate {
                " (inappropriate: a clinical need)"
            } else {
                ""
            },
            arm_now.trust
        ));
    }
    if !accepted_now
        && slot != NO_SLOT
        && arm_now.pathway == Pathway::Idle
        && f.prev_arm.pathway == Pathway::Idle
        && arm_now.cooldown_until != f.prev_arm.cooldown_until
        && arm_consult != Consultation::None
    {
        arm_ev.push(format!(
            "GP offers a referral — declined (no new offer before week {})",
            arm_now.cooldown_until
        ));
    }

    // A session that ended support this week (a connection, a drop-out, a discharge) leaves
    // no caseload entry to read: it is the one after last week's.
    if f.prev_arm.pathway == Pathway::Supported
        && matches!(arm_now.pathway, Pathway::Idle | Pathway::Connected)
    {
        if let Some((l, n)) = f.case.take() {
            arm_ev.push(session_text(n + 1, l, &f.prev_arm, &arm_now, false));
        }
    }

    // Where the patient is on the pathway.
    match arm_now.pathway {
        Pathway::Waiting => {
            if let Some(pos) = pcn.queue.iter().position(|&q| q == f.id) {
                if f.prev_arm.pathway == Pathway::Supported {
                    arm_ev.push(format!(
                        "link worker leaves: back to the queue, trust falls to {:.2}",
                        arm_now.trust
                    ));
                }
                arm_ev.push(format!(
                    "waiting for a link worker ({} of {} in the queue)",
                    pos + 1,
                    pcn.queue.len()
                ));
            }
        }
        Pathway::Supported => {
            f.case = None;
            for (l, lw) in pcn.link_workers.iter().enumerate() {
                if let Some(case) = lw.caseload.iter().find(|c| c.patient == f.id) {
                    arm_ev.push(session_text(
                        case.sessions,
                        l,
                        &f.prev_arm,
                        &arm_now,
                        case.holding,
                    ));
                    f.case = Some((l, case.sessions));
                }
            }
        }
        Pathway::Connected => {
            for asset in &pcn.assets {
                if let Some(o) = asset.occupants.iter().find(|o| o.patient == f.id) {
                    let name = NEED_NAMES.get(usize::from(asset.category)).unwrap_or(&"?");
                    if f.prev_arm.pathway != Pathway::Connected {
                        let article = if name.starts_with(['a', 'e', 'i', 'o', 'u']) {
                            "an"
                        } else {
                            "a"
                        };
                        arm_ev.push(format!("connected to {article} {name} asset"));
                    }
                    arm_ev.push(format!(
                        "{} the {name} asset ({} left)",
                        if arm_now.attended != 0 {
                            "attends"
                        } else {
                            "misses"
                        },
                        weeks(o.weeks_left)
                    ));
                }
            }
        }
        Pathway::Idle => {}
    }

    // Referrals that ended (or whose asset stay ended) this week.
    for (index, r) in &mine {
        let state = (*index, r.outcome, r.attendance);
        let known = f.reported.contains(&state);
        let ended = r.outcome != Outcome::Pending && r.attendance != Attendance::Attending;
        if ended && !known {
            if r.outcome == Outcome::Connected && r.attendance == Attendance::NotConnected {
                continue;
            }
            if r.outcome == Outcome::Connected && f.prev_arm.pathway == Pathway::Connected {
                if let Some(last) = arm_ev
                    .iter()
                    .position(|e| e.starts_with("attends") || e.starts_with("misses"))
                {
                    arm_ev.remove(last);
                }
                if arm_now.attended != 0 {
                    arm_ev.push("attends the asset for the last time".to_string());
                }
            }
            arm_ev.push(format!("outcome: {}", outcome_text(r)));
            f.reported.push(state);
        }
    }
    if generated > 0 {
        arm_ev.push(format!(
            "{generated} GP consultation{} caused by the pathway",
            if generated == 1 { "" } else { "s" }
        ));
    }

    let arm_consults = u32::from(arm_consult != Consultation::None) + generated;
    f.consults.0 += arm_consults;
    f.consults.1 += u32::from(twin_consult != Consultation::None);
    f.wellbeing.0 += arm_now.wellbeing;
    f.wellbeing.1 += twin.wellbeing;
    if !arm_ev.is_empty() || !twin_ev.is_empty() {
        f.steps.push(Step {
            week,
            arm: arm_ev,
            twin: twin_ev,
            wellbeing_arm: arm_now.wellbeing,
            wellbeing_twin: twin.wellbeing,
        });
    }
    f.touched = slot != NO_SLOT;
    f.prev_arm = arm_now;
    f.prev_twin = twin;
}

/// Picks `n` referred patients: first referrals inside the evaluation window, spread over
/// outcomes (connected first) so that a small sample shows the different paths, then by week.
fn pick(referrals: &[Referral], weeks: u32, n: usize) -> Vec<u32> {
    let order = |r: &Referral| match (r.outcome, r.attendance) {
        (Outcome::Connected, Attendance::Completed) => 0,
        (Outcome::DischargedUnconnected, _) => 1,
        (Outcome::DroppedOut, _) => 2,
        (Outcome::GaveUp, _) => 3,
        (Outcome::Bounced, _) => 4,
        (Outcome::Connected, _) => 5,
        (Outcome::Pending, _) => 6,
    };
    let mut pool: Vec<&Referral> = referrals
        .iter()
        .filter(|r| r.first_of_patient && in_cohort(r.accepted_week, weeks))
        .collect();
    if pool.is_empty() {
        pool = referrals.iter().filter(|r| r.first_of_patient).collect();
    }
    let mut groups: Vec<Vec<&Referral>> = vec![Vec::new(); 7];
    for r in pool {
        groups[order(r)].push(r);
    }
    let mut chosen = Vec::new();
    let mut round = 0;
    while chosen.len() < n && groups.iter().any(|g| g.len() > round) {
        for g in &groups {
            if chosen.len() >= n {
                break;
            }
            if let Some(r) = g
                .get((round * 7 + g.len() / 2) % g.len().max(1))
                .filter(|_| g.len() > round)
            {
                if !chosen.contains(&r.patient) {
                    chosen.push(r.patient);
                }
            }
        }
        round += 1;
    }
    chosen
}

/// Runs the trace. Errors name the bad argument.
pub fn trace(plan: &Plan, req: &TraceRequest) -> Result<Vec<Journey>, String> {
    let arm = plan
        .arms
        .iter()
        .position(|a| a.name == req.arm)
        .ok_or_else(|| {
            let names: Vec<&str> = plan.arms.iter().map(|a| a.name.as_str()).collect();
            format!(
                "--arm {}: no such arm; the scenario has {}",
                req.arm,
                names.join(", ")
            )
        })?;
    if !plan.arms[arm].service {
        return Err(format!(
            "--arm {}: this arm has no social prescribing, so there is no journey to trace; \
             its patients are the twins shown beside every traced arm",
            req.arm
        ));
    }
    if req.replicate >= plan.replicates {
        return Err(format!(
            "--replicate {}: the scenario has {} replicate(s), numbered from 0",
            req.replicate, plan.replicates
        ));
    }
    if req.pcn >= plan.pcns {
        return Err(format!(
            "--pcn {}: the scenario has {} PCN(s), numbered from 0",
            req.pcn, plan.pcns
        ));
    }
    let patients = plan.layout.patients() as u64;
    let ids = match &req.who {
        Who::Patients(ids) => {
            if let Some(bad) = ids.iter().find(|&&i| u64::from(i) >= patients) {
                return Err(format!(
                    "--patient {bad}: a PCN has {patients} patients, numbered from 0"
                ));
            }
            ids.clone()
        }
        Who::Sample(n) => {
            let (_, referrals) = follow(plan, arm, req.replicate, req.pcn, &[])?;
            let ids = pick(&referrals, plan.weeks, *n);
            if ids.is_empty() {
                return Err(format!(
                    "arm {} referred nobody in replicate {}, PCN {}",
                    req.arm, req.replicate, req.pcn
                ));
            }
            ids
        }
    };
    let (follows, referrals) = follow(plan, arm, req.replicate, req.pcn, &ids)?;
    let weeks = f64::from(plan.weeks.max(1));
    Ok(follows
        .into_iter()
        .map(|f| {
            let p = f.prev_twin;
            let outcomes = referrals
                .iter()
                .filter(|r| r.patient == f.id)
                .map(|r| {
                    format!(
                        "referral accepted in week {}: {}{}",
                        r.accepted_week,
                        outcome_text(r),
                        r.first_session_week
                            .map(|s| format!(
                                " (waited {} weeks, {} sessions)",
                                s - r.accepted_week,
                                r.sessions
                            ))
                            .unwrap_or_default()
                    )
                })
                .collect();
            Journey {
                arm: req.arm.clone(),
                replicate: req.replicate,
                pcn: req.pcn,
                patient: f.id,
                profile: format!(
                    "deprivation q{}{}, frailty {:.2}, capacity {:.2}, baseline wellbeing {:.1}, baseline activation {:.2}",
                    p.q + 1,
                    match p.q {
                        0 => " (most deprived)",
                        4 => " (least deprived)",
                        _ => "",
                    },
                    p.frailty,
                    p.capacity,
                    p.w_base,
                    p.a0
                ),
                steps: f.steps,
                consults: f.consults,
                wellbeing: (f.wellbeing.0 / weeks, f.wellbeing.1 / weeks),
                outcomes,
            }
        })
        .collect())
}

impl Journey {
    fn heading(&self) -> String {
        format!(
            "Patient {} — arm {}, replicate {}, PCN {}",
            self.patient, self.arm, self.replicate, self.pcn
        )
    }

    fn footer(&self) -> Vec<String> {
        let mut lines = self.outcomes.clone();
        if lines.is_empty() {
            lines.push("never referred in this arm".to_string());
        }
        lines.push(format!(
            "over the service weeks: {} GP consultations in {} vs {} for the no_sp twin; mean wellbeing {:.1} vs {:.1}",
            self.consults.0, self.arm, self.consults.1, self.wellbeing.0, self.wellbeing.1
        ));
        lines
    }

    /// A readable timeline for the terminal.
    pub fn to_text(&self) -> String {
        const ARM_WIDTH: usize = 72;
        let mut out = format!("{}\n{}\n\n", self.heading(), self.profile);
        let _ = writeln!(
            out,
            "{:>5}  {:ARM_WIDTH$}  {:36}  {:>11}",
            "week", self.arm, "no_sp twin", "wellbeing"
        );
        for s in &self.steps {
            let rows = s.arm.len().max(s.twin.len()).max(1);
            for r in 0..rows {
                let week = if r == 0 {
                    s.week.to_string()
                } else {
                    String::new()
                };
                let wb = if r == 0 {
                    format!("{:.1} / {:.1}", s.wellbeing_arm, s.wellbeing_twin)
                } else {
                    String::new()
                };
                let twin = if s.same() {
                    if r == 0 { SAME } else { "" }
                } else {
                    s.twin.get(r).map_or("", String::as_str)
                };
                let _ = writeln!(
                    out,
                    "{week:>5}  {:ARM_WIDTH$}  {twin:36}  {wb:>11}",
                    s.arm.get(r).map_or("", String::as_str),
                );
            }
        }
        out.push('\n');
        for line in self.footer() {
            let _ = writeln!(out, "{line}");
        }
        out
    }

    /// The same timeline as an HTML table, for the report.
    pub fn to_html(&self) -> String {
        let mut out = format!(
            "<div class=\"journey\"><h3>{}</h3><p>{}</p><table><thead><tr><th>week</th><th>{}</th><th>no_sp twin</th><th>wellbeing (arm / twin)</th></tr></thead><tbody>",
            escape(&self.heading()),
            escape(&self.profile),
            escape(&self.arm)
        );
        for s in &self.steps {
            let _ = write!(
                out,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{:.1} / {:.1}</td></tr>",
                s.week,
                s.arm
                    .iter()
                    .map(|e| escape(e))
                    .collect::<Vec<_>>()
                    .join("<br>"),
                if s.same() {
                    SAME.to_string()
                } else {
                    s.twin
                        .iter()
                        .map(|e| escape(e))
                        .collect::<Vec<_>>()
                        .join("<br>")
                },
                s.wellbeing_arm,
                s.wellbeing_twin
            );
        }
        out.push_str("</tbody></table><ul>");
        for line in self.footer() {
            let _ = write!(out, "<li>{}</li>", escape(&line));
        }
        out.push_str("</ul></div>\n");
        out
    }
}

/// "1 week", "3 weeks".
fn weeks(n: u32) -> String {
    if n == 1 {
        "1 week".to_string()
    } else {
        format!("{n} weeks")
    }
}
