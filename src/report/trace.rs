//! `sprx trace`: one referred patient's journey, week by week, in an arm and — beside it — in
//! the world without social prescribing. The shared population *is* the no_sp twin (common
//! random numbers), so both columns come from one run of the engine following the chosen
//! patients: the model logs their events where it counts them ([`crate::model::observe::events`]),
//! the arm's PCN on the arm side and the population on the twin side, and the journey prints
//! those events. Nothing here reads the model's internals or replays a rule.

use std::fmt::Write as _;

use crate::engine::Plan;
use crate::engine::replicate::run_pcn_following;
use crate::model::observe::{Ending, Event, EventKind, EventLog, in_cohort};
use crate::model::patient::{Consultation, Patient};
use crate::model::pcn::Pcn;
use crate::model::population::Population;
use crate::model::referral::{Attendance, Outcome, Referral, Route};
use crate::params::NEED_NAMES;

use super::escape;

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

/// What one run following some patients leaves behind.
struct Followed {
    /// Their events in the arm.
    arm: EventLog,
    /// Their events in the population: the no_sp twins.
    twin: EventLog,
    /// The arm's referrals at the end of the run (for the sample and the footers).
    referrals: Vec<Referral>,
    /// The followed patients as the population holds them at the end, for their profiles.
    patients: Vec<Patient>,
}

/// Runs the traced arm alone on one (replicate, PCN), following `ids`.
fn follow(
    plan: &Plan,
    arm: usize,
    replicate: u32,
    pcn: u32,
    ids: &[u32],
) -> Result<Followed, String> {
    let mut one = plan.clone();
    // Only the traced arm is simulated: its no-service population is the no_sp twin.
    one.arms = vec![plan.arms[arm].clone()];
    one.baseline = 0;
    let last_week = plan.weeks as i32 - 1;
    let mut referrals: Vec<Referral> = Vec::new();
    let mut patients: Vec<Patient> = Vec::new();
    let mut observe = |week: i32, population: &Population, arms: &[Pcn]| {
        if week != last_week {
            return;
        }
        if let Some(pcn) = arms.first() {
            referrals = pcn.referrals.clone();
        }
        patients = ids
            .iter()
            .filter(|&&id| (id as usize) < population.len())
            .map(|&id| population.twin(id as usize))
            .collect();
    };
    let (_, logs) =
        run_pcn_following(&one, replicate, pcn, ids, &mut observe).map_err(|e| e.to_string())?;
    let (arm, twin) = logs
        .into_iter()
        .next()
        .flatten()
        .ok_or_else(|| "internal error: the traced arm kept no events".to_string())?;
    Ok(Followed {
        arm,
        twin,
        referrals,
        patients,
    })
}

/// One side's week of a journey, as read off the events.
#[derive(Clone, Debug, Default)]
struct Week {
    lines: Vec<String>,
    /// The patient's own GP consultation (0 or 1).
    consults: u32,
    /// GP consultations caused by the pathway.
    generated: u32,
    /// Wellbeing at the end of the week.
    wellbeing: f64,
}

/// A patient's service weeks on one side, from that side's events of the patient.
fn weeks_of<'e>(events: impl Iterator<Item = &'e Event>, weeks: u32) -> Vec<Week> {
    let mut out = vec![Week::default(); weeks as usize];
    // An offer is printed with its answer, which always follows it.
    let mut offer: Option<(bool, Route)> = None;
    for e in events {
        if let Some(week) = usize::try_from(e.week).ok().and_then(|w| out.get_mut(w)) {
            describe(e.kind, &mut offer, week);
        }
    }
    for week in &mut out {
        if week.generated > 0 {
            let n = week.generated;
            week.lines.push(format!(
                "{n} GP consultation{} caused by the pathway",
                if n == 1 { "" } else { "s" }
            ));
        }
    }
    out
}

/// Adds one event to its week: a line, a count or the wellbeing.
fn describe(kind: EventKind, offer: &mut Option<(bool, Route)>, week: &mut Week) {
    let line = match kind {
        EventKind::NeedArises { need } => format!("{} need arises", need_name(need)),
        EventKind::NeedResolves { need } => format!("{} need resolves", need_name(need)),
        EventKind::Consulted(c) => {
            week.consults += 1;
            match consultation_text(c) {
                Some(text) => text.to_string(),
                None => return,
            }
        }
        EventKind::Lived { wellbeing } => {
            week.wellbeing = wellbeing;
            return;
        }
        EventKind::CrisisStarts { weeks: n } => format!(
            "a crisis begins (a life event, for {})",
            weeks(u32::from(n))
        ),
        EventKind::CrisisEnds => "the crisis has run its course".to_string(),
        EventKind::Offered {
            inappropriate,
            route,
        } => {
            *offer = Some((inappropriate, route));
            return;
        }
        EventKind::Accepted { trust } => {
            format!("{} — accepted (trust {trust:.2})", offer_text(offer.take()))
        }
        EventKind::Declined { cooldown_until } => format!(
            "{} — declined (no new offer before week {cooldown_until})",
            offer_text(offer.take())
        ),
        EventKind::Waiting { position, length } => format!(
            "waiting for a link worker ({} of {length} in the queue)",
            position + 1
        ),
        EventKind::Session {
            number,
            link_worker,
            trust_before,
            trust_after,
            activation,
            holding,
        } => format!(
            "session {number}, link worker {}: trust {trust_before:.2}→{trust_after:.2}, activation {activation:.2}{}",
            link_worker + 1,
            if holding { "; held as anchor" } else { "" }
        ),
        EventKind::LinkWorkerLeft { trust, .. } => {
            format!("link worker leaves: back to the queue, trust falls to {trust:.2}")
        }
        EventKind::Connected { category } => {
            let name = need_name(category);
            let article = if name.starts_with(['a', 'e', 'i', 'o', 'u']) {
                "an"
            } else {
                "a"
            };
            format!("connected to {article} {name} asset")
        }
        EventKind::Attendance {
            category,
            attended,
            weeks_left,
        } => match (weeks_left, attended) {
            (0, true) => "attends the asset for the last time".to_string(),
            // A missed last week shows only as the completion that follows.
            (0, false) => return,
            (n, _) => format!(
                "{} the {} asset ({} left)",
                if attended { "attends" } else { "misses" },
                need_name(category),
                weeks(n)
            ),
        },
        EventKind::Ended(ending) => format!("outcome: {}", ending_text(ending)),
        EventKind::Generated { consultations } => {
            week.generated += consultations;
            return;
        }
    };
    week.lines.push(line);
}

fn need_name(need: u8) -> &'static str {
    NEED_NAMES.get(usize::from(need)).copied().unwrap_or("?")
}

/// How an offer is described: by its route (MODEL.md §9.3), and for the GP's, appropriate or
/// inappropriate (after a medical consultation).
fn offer_text(offer: Option<(bool, Route)>) -> &'static str {
    match offer {
        Some((true, Route::Gp)) => "GP offers a referral (inappropriate: a clinical need)",
        Some((false, Route::Gp)) | None => "GP offers a referral",
        Some((_, Route::SelfReferral)) => "refers themselves to social prescribing",
        Some((_, Route::Agency)) => "another agency (housing, work) refers them",
    }
}

fn consultation_text(c: Consultation) -> Option<&'static str> {
    match c {
        Consultation::Medical => Some("GP consultation (medical)"),
        Consultation::Social => Some("GP consultation (non-medical needs)"),
        Consultation::None => None,
    }
}

fn ending_text(ending: Ending) -> &'static str {
    match ending {
        Ending::GaveUp => "gave up waiting for a link worker",
        Ending::Bounced => "bounced back to the GP at assessment (inappropriate referral)",
        Ending::DroppedOut => "dropped out of link-worker support",
        Ending::DischargedUnconnected => "discharged at the session limit without a connection",
        Ending::Completed => "connected to an asset and completed its weeks",
        Ending::AssetClosed => "connected, but the asset closed",
    }
}

fn outcome_text(r: &Referral) -> &'static str {
    match (r.outcome, r.attendance) {
        (Outcome::Pending, _) => "still open at the end of the run",
        (Outcome::GaveUp, _) => ending_text(Ending::GaveUp),
        (Outcome::Bounced, _) => ending_text(Ending::Bounced),
        (Outcome::DroppedOut, _) => ending_text(Ending::DroppedOut),
        (Outcome::DischargedUnconnected, _) => ending_text(Ending::DischargedUnconnected),
        (Outcome::Connected, Attendance::Completed) => ending_text(Ending::Completed),
        (Outcome::Connected, Attendance::AssetClosed) => ending_text(Ending::AssetClosed),
        (Outcome::Connected, _) => "connected to an asset (still attending)",
    }
}

/// A followed patient's steps and totals from both sides' events.
fn steps_of(id: u32, run: &Followed, weeks: u32) -> (Vec<Step>, (u32, u32), (f64, f64)) {
    let arm = weeks_of(run.arm.of(id), weeks);
    let twin = weeks_of(run.twin.of(id), weeks);
    let mut steps = Vec::new();
    let (mut consults, mut wellbeing) = ((0, 0), (0.0, 0.0));
    for (w, (a, t)) in arm.into_iter().zip(twin).enumerate() {
        consults.0 += a.consults + a.generated;
        consults.1 += t.consults + t.generated;
        wellbeing.0 += a.wellbeing;
        wellbeing.1 += t.wellbeing;
        if !a.lines.is_empty() || !t.lines.is_empty() {
            steps.push(Step {
                week: w as i32,
                arm: a.lines,
                twin: t.lines,
                wellbeing_arm: a.wellbeing,
                wellbeing_twin: t.wellbeing,
            });
        }
    }
    (steps, consults, wellbeing)
}

fn profile(p: &Patient) -> String {
    format!(
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
    )
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
                && !chosen.contains(&r.patient)
            {
                chosen.push(r.patient);
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
    let Some(pcn) = plan.pcns.get(req.pcn as usize) else {
        return Err(format!(
            "--pcn {}: the scenario has {} PCN(s), numbered from 0",
            req.pcn,
            plan.pcns.len()
        ));
    };
    let patients = pcn.patients();
    let ids = match &req.who {
        Who::Patients(ids) => {
            if let Some(bad) = ids.iter().find(|&&i| u64::from(i) >= patients) {
                return Err(format!(
                    "--patient {bad}: PCN {} has {patients} patients, numbered from 0",
                    req.pcn
                ));
            }
            ids.clone()
        }
        Who::Sample(n) => {
            let run = follow(plan, arm, req.replicate, req.pcn, &[])?;
            let ids = pick(&run.referrals, plan.weeks, *n);
            if ids.is_empty() {
                return Err(format!(
                    "arm {} referred nobody in replicate {}, PCN {}",
                    req.arm, req.replicate, req.pcn
                ));
            }
            ids
        }
    };
    let run = follow(plan, arm, req.replicate, req.pcn, &ids)?;
    let weeks = f64::from(plan.weeks.max(1));
    Ok(ids
        .iter()
        .zip(&run.patients)
        .map(|(&id, patient)| {
            let (steps, consults, wellbeing) = steps_of(id, &run, plan.weeks);
            Journey {
                arm: req.arm.clone(),
                replicate: req.replicate,
                pcn: req.pcn,
                patient: id,
                profile: profile(patient),
                steps,
                consults,
                wellbeing: (wellbeing.0 / weeks, wellbeing.1 / weeks),
                outcomes: referral_lines(&run.referrals, id),
            }
        })
        .collect())
}

/// How each of the patient's referrals ended, with its wait and sessions.
fn referral_lines(referrals: &[Referral], id: u32) -> Vec<String> {
    referrals
        .iter()
        .filter(|r| r.patient == id)
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
        .collect()
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
