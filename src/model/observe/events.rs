//! Events of followed patients (MODEL.md §7, for `sprx trace`): what happened to a handful of
//! patients, emitted by the model at the point where it counts the same thing into the
//! [`WeekRecord`](super::WeekRecord), so that each rule of the model lives in one place and a
//! journey is read off the events instead of being reconstructed from state.
//!
//! The log is optional and off by default: the population and each arm hold an
//! `Option<EventLog>`, and every emit point checks it before building anything, so a run that
//! follows nobody pays one predictable branch at a few places and no allocation.

use super::super::needs::{NeedSet, present};
use super::super::patient::{Consultation, Patient};
use super::super::referral::Route;

/// How a referral ended, as the trace reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ending {
    /// Gave up while waiting for a link worker.
    GaveUp,
    /// Inappropriate: sent back to the GP at assessment.
    Bounced,
    DroppedOut,
    DischargedUnconnected,
    /// Connected, and attended the asset for all its weeks.
    Completed,
    /// Connected, but the asset closed while the patient held a place.
    AssetClosed,
}

/// What happened to a patient.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum EventKind {
    /// A need (index into `NEED_NAMES`) appeared this week.
    NeedArises {
        need: u8,
    },
    NeedResolves {
        need: u8,
    },
    /// The patient's own GP consultation of the week (medical or social, never `None`).
    Consulted(Consultation),
    /// The week is lived; wellbeing as it stands after it. Not a line of a journey, but its
    /// wellbeing column, so that the trace never has to read a patient's state.
    Lived {
        wellbeing: f64,
    },
    /// A crisis began this week and will last `weeks` weeks (MODEL.md §9.1).
    CrisisStarts {
        weeks: u16,
    },
    /// The patient's crisis has run its course: this is the first week out of it.
    CrisisEnds,
    /// A referral was offered by `route` (the GP, the patient, another agency); an answer
    /// ([`EventKind::Accepted`] or [`EventKind::Declined`]) always follows.
    Offered {
        inappropriate: bool,
        route: Route,
    },
    /// The offer was accepted with this trust; the patient joins the back of the queue.
    Accepted {
        trust: f64,
    },
    /// The offer was declined; no new offer before `cooldown_until`.
    Declined {
        cooldown_until: i32,
    },
    /// Waiting for a link worker at the end of the week: 0-based position, queue length.
    Waiting {
        position: u32,
        length: u32,
    },
    /// A session with link worker `link_worker` (0-based index in the PCN); `number` counts the
    /// sessions with this link worker, restarting after turnover. Activation is after the session.
    Session {
        number: u32,
        link_worker: u32,
        trust_before: f64,
        trust_after: f64,
        activation: f64,
        holding: bool,
    },
    /// The patient's link worker left: back to the head of the queue with this trust.
    LinkWorkerLeft {
        link_worker: u32,
        trust: f64,
    },
    /// Connected to an asset of this category (a need index).
    Connected {
        category: u8,
    },
    /// This week's attendance draw at the asset; `weeks_left` after it (0: the stay is over).
    Attendance {
        category: u8,
        attended: bool,
        weeks_left: u32,
    },
    /// The referral ended.
    Ended(Ending),
    /// GP consultations caused by the pathway (a bounce, an uncovered need, an asset closure).
    Generated {
        consultations: u32,
    },
}

/// One event of one patient in one week.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Event {
    pub week: i32,
    pub patient: u32,
    pub kind: EventKind,
}

/// The events of a fixed set of followed patients, in the order they happened.
#[derive(Clone, Debug, Default)]
pub struct EventLog {
    /// Followed patient ids, ascending and distinct (a binary search per emit point).
    followed: Vec<u32>,
    events: Vec<Event>,
}

impl EventLog {
    /// A log following `patients` (in any order, repeats ignored).
    pub fn following(patients: &[u32]) -> EventLog {
        let mut followed = patients.to_vec();
        followed.sort_unstable();
        followed.dedup();
        EventLog {
            followed,
            events: Vec::new(),
        }
    }

    /// Whether the patient is followed.
    #[inline]
    pub fn follows(&self, patient: u32) -> bool {
        self.followed.binary_search(&patient).is_ok()
    }

    pub fn followed(&self) -> &[u32] {
        &self.followed
    }

    pub fn events(&self) -> &[Event] {
        &self.events
    }

    /// The events of one patient, in order.
    pub fn of(&self, patient: u32) -> impl Iterator<Item = &Event> {
        self.events.iter().filter(move |e| e.patient == patient)
    }

    /// The events of `week` so far: a week's events are the tail of the log while it runs.
    pub fn this_week(&self, week: i32) -> &[Event] {
        let start = self
            .events
            .iter()
            .rposition(|e| e.week != week)
            .map_or(0, |i| i + 1);
        &self.events[start..]
    }

    /// Appends an event of a followed patient; others are ignored.
    #[inline]
    pub fn emit(&mut self, week: i32, patient: u32, kind: EventKind) {
        if self.follows(patient) {
            self.events.push(Event {
                week,
                patient,
                kind,
            });
        }
    }

    /// A patient's own week (MODEL.md §6.1-6.3, §9.1): a crisis that started or ended, needs
    /// that arose and resolved, the consultation, the wellbeing it ended with. `before` is the
    /// need set and `crisis_left` before the week. Called from the weekly patient loops, so it
    /// returns at once for a patient not followed.
    #[inline]
    pub fn lived(
        &mut self,
        week: i32,
        patient: u32,
        before: (NeedSet, u16),
        after: &Patient,
        consultation: Consultation,
    ) {
        if self.follows(patient) {
            self.push_lived(week, patient, before, after, consultation);
        }
    }

    #[cold]
    fn push_lived(
        &mut self,
        week: i32,
        patient: u32,
        (needs_before, crisis_before): (NeedSet, u16),
        after: &Patient,
        consultation: Consultation,
    ) {
        let mut push = |kind| {
            self.events.push(Event {
                week,
                patient,
                kind,
            })
        };
        if crisis_before == 0 && after.crisis_left > 0 {
            push(EventKind::CrisisStarts {
                weeks: after.crisis_left,
            });
        } else if crisis_before == 1 && after.crisis_left == 0 {
            push(EventKind::CrisisEnds);
        }
        for k in present(after.needs & !needs_before) {
            push(EventKind::NeedArises { need: k as u8 });
        }
        for k in present(needs_before & !after.needs) {
            push(EventKind::NeedResolves { need: k as u8 });
        }
        if consultation != Consultation::None {
            push(EventKind::Consulted(consultation));
        }
        push(EventKind::Lived {
            wellbeing: after.wellbeing,
        });
    }
}

/// An optional event log, as the model holds it: emitting builds the event only when the log
/// is on and follows the patient, so emit points cost a branch when tracing is off.
pub trait EventSink {
    fn record(&mut self, week: i32, patient: u32, kind: impl FnOnce() -> EventKind);
}

impl EventSink for Option<EventLog> {
    #[inline(always)]
    fn record(&mut self, week: i32, patient: u32, kind: impl FnOnce() -> EventKind) {
        if let Some(log) = self
            && log.follows(patient)
        {
            log.events.push(Event {
                week,
                patient,
                kind: kind(),
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_followed_patients_are_logged() {
        let mut log = Some(EventLog::following(&[7, 3, 7]));
        log.record(0, 3, || EventKind::Consulted(Consultation::Medical));
        log.record(0, 4, || unreachable!("patient 4 is not followed"));
        log.record(1, 7, || EventKind::Ended(Ending::GaveUp));
        let log = log.unwrap_or_default();
        assert_eq!(log.followed(), &[3, 7]);
        assert_eq!(log.events().len(), 2);
        assert_eq!(log.of(7).count(), 1);
        assert_eq!(log.this_week(1).len(), 1);
        assert_eq!(log.this_week(2).len(), 0);
    }

    #[test]
    fn no_log_builds_no_event() {
        let mut off: Option<EventLog> = None;
        off.record(0, 1, || unreachable!("no event is built without a log"));
    }
}
