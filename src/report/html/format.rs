//! Numbers as the report writes them: true minus signs, thousands separators, intervals.

use crate::metrics::stats::Estimate;

/// A signed number with a true minus sign.
pub(super) fn signed(v: f64, decimals: usize) -> String {
    let text = format!("{:+.decimals$}", v);
    if text[1..].chars().all(|c| c == '0' || c == '.') {
        return text[1..].to_string();
    }
    text.replacen('-', "−", 1)
}

pub(super) fn unsigned(v: f64, decimals: usize) -> String {
    format!("{:.decimals$}", v.abs())
}

/// `+1.5 [−0.9, +3.9]` with signs, or `+1.5` without an interval.
pub(super) fn signed_ci(e: &Estimate, decimals: usize) -> String {
    let Some(mean) = e.mean else {
        return "—".to_string();
    };
    match e.ci95 {
        [Some(lo), Some(hi)] => format!(
            "{} [{}, {}]",
            signed(mean, decimals),
            signed(lo, decimals),
            signed(hi, decimals)
        ),
        _ => signed(mean, decimals),
    }
}

pub(super) fn excludes_zero(e: &Estimate) -> Option<bool> {
    match e.ci95 {
        [Some(lo), Some(hi)] => Some(lo > 0.0 || hi < 0.0),
        _ => None,
    }
}

/// A whole number with thousands separators and a true minus sign.
pub(super) fn thousands(v: f64) -> String {
    let digits = format!("{:.0}", v.abs());
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    if v < -0.5 { format!("−{out}") } else { out }
}

/// "fell by 16.3%" / "rose by 2.0%".
pub(super) fn moved(v: f64, unit: &str, decimals: usize) -> String {
    let verb = if v < 0.0 { "fell" } else { "rose" };
    format!("{verb} by {}{unit}", unsigned(v, decimals))
}
