//! Observation (MODEL.md §7): what the model records as its rules fire. The weekly record of
//! each arm, the fate of its referrals, and the patient histories the evaluation lens compares
//! with their no_sp twins. Everything here is additive across PCNs, so the engine can merge
//! units of work in any grouping and get the same totals.

pub mod evaluation;
pub mod events;
pub mod pathway;
pub mod week;

pub use evaluation::{
    ArmWeek, COHORT_ENTRY_BYTES, Cohort, EvalTally, HISTORY_WEEKS, History, TouchedWeek, Trace,
    evaluate, history_cell, in_cohort,
};
pub use events::{Ending, Event, EventKind, EventLog, EventSink};
pub use pathway::PathwayTally;
pub use week::WeekRecord;
