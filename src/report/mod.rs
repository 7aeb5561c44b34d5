//! For trainers and analysts: the evaluation lens printed after a run ([`lens`]), the
//! self-contained HTML report built from a run directory ([`html`], from [`data`] and
//! [`charts`]), and patient journeys traced week by week against their no_sp twin ([`trace`]).

pub mod charts;
pub mod data;
pub mod html;
pub mod lens;
pub mod trace;

pub use data::{ReportError, RunDir};
pub use html::{CHARTS, REPORT_FILE, render, write_report};
pub use lens::evaluation_lens;
pub use trace::{Journey, TraceRequest, Who, trace};
