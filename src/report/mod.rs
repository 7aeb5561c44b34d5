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

/// Escapes text for HTML element content and attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}
