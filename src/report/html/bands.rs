//! Chart data from a run: weekly bands across replicates, per-quintile bars, arm colours.

use plotters::style::RGBColor;

use crate::metrics::stats::{Estimate, t_975};
use crate::report::charts::{BASELINE_COLOUR, Band, Bar, PALETTE};
use crate::report::data::RunDir;

/// A weekly quantity computed from a row of `weekly.csv`, given a column getter.
pub(super) type WeekValue = dyn Fn(&dyn Fn(&str) -> f64) -> f64;

/// One band per arm: `value` each week (minus the baseline's when `minus` names it), as a rolling
/// mean over `smooth` weeks, in the arm's colour.
pub(super) fn arm_bands(
    run: &RunDir,
    arms: &[(String, RGBColor)],
    minus: Option<&str>,
    value: &WeekValue,
    smooth: usize,
) -> Vec<Band> {
    arms.iter()
        .filter_map(|(a, c)| band(run, a, minus, value, smooth, a, *c))
        .collect()
}

/// Per-week mean and 95% band across replicates of `value(row)`, after a trailing rolling mean
/// of `smooth` weeks within each replicate. `minus` subtracts another arm replicate by
/// replicate (paired difference).
pub(super) fn band(
    run: &RunDir,
    arm: &str,
    minus: Option<&str>,
    value: &WeekValue,
    smooth: usize,
    name: &str,
    colour: RGBColor,
) -> Option<Band> {
    let weekly = &run.weekly;
    let series = |arm: &str| -> Option<Vec<Vec<f64>>> {
        let weeks = weekly.arm(arm)?;
        Some(
            weeks
                .replicates
                .iter()
                .map(|rows| {
                    rows.iter()
                        .map(|row| {
                            let get = |c: &str| weekly.column(c).map_or(f64::NAN, |i| row[i]);
                            value(&get)
                        })
                        .collect()
                })
                .collect(),
        )
    };
    let mut reps = series(arm)?;
    if let Some(other) = minus {
        let base = series(other)?;
        for (r, b) in reps.iter_mut().zip(&base) {
            for (x, y) in r.iter_mut().zip(b) {
                *x -= y;
            }
        }
    }
    if smooth > 1 {
        for r in reps.iter_mut() {
            let raw = r.clone();
            for (w, x) in r.iter_mut().enumerate() {
                let from = (w + 1).saturating_sub(smooth);
                *x = raw[from..=w].iter().sum::<f64>() / (w + 1 - from) as f64;
            }
        }
    }
    let n = reps.len();
    let t = if n > 1 { t_975(n - 1) } else { f64::NAN };
    let weeks = weekly.weeks;
    let (mut mean, mut lo, mut hi) = (
        vec![f64::NAN; weeks],
        vec![f64::NAN; weeks],
        vec![f64::NAN; weeks],
    );
    for w in 0..weeks {
        let xs: Vec<f64> = reps
            .iter()
            .filter_map(|r| r.get(w).copied())
            .filter(|x| x.is_finite())
            .collect();
        if xs.is_empty() {
            continue;
        }
        let m = xs.iter().sum::<f64>() / xs.len() as f64;
        mean[w] = m;
        if xs.len() > 1 {
            let var = xs.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (xs.len() - 1) as f64;
            let half = t * (var / xs.len() as f64).sqrt();
            lo[w] = m - half;
            hi[w] = m + half;
        }
    }
    Some(Band {
        name: name.to_string(),
        colour,
        mean,
        lo,
        hi,
    })
}

/// The report's colour for each arm: the baseline near-black, the others from the palette.
pub(super) fn arm_colours(arms: &[String], baseline: &str) -> Vec<(String, RGBColor)> {
    let mut next = 0;
    arms.iter()
        .map(|a| {
            if a == baseline {
                (a.clone(), BASELINE_COLOUR)
            } else {
                let c = PALETTE[next % PALETTE.len()];
                next += 1;
                (a.clone(), c)
            }
        })
        .collect()
}

pub(super) fn bar_of(e: Option<Estimate>) -> Option<Bar> {
    let e = e?;
    Some(Bar {
        value: e.mean?,
        ci: match e.ci95 {
            [Some(lo), Some(hi)] => Some((lo, hi)),
            _ => None,
        },
    })
}

/// Cumulative closures per arm, with bands across replicates.
pub(super) fn cumulative_closures(run: &RunDir, colours: &[(String, RGBColor)]) -> Vec<Band> {
    let Some(c) = run.weekly.column("new_asset_closures") else {
        return Vec::new();
    };
    colours
        .iter()
        .filter_map(|(a, colour)| {
            let weeks = run.weekly.arm(a)?;
            let reps: Vec<Vec<f64>> = weeks
                .replicates
                .iter()
                .map(|rows| {
                    rows.iter()
                        .scan(0.0, |acc, row| {
                            *acc += row[c];
                            Some(*acc)
                        })
                        .collect()
                })
                .collect();
            Some(bands_from(reps, a, *colour))
        })
        .collect()
}

/// Mean and 95% band per week from per-replicate series.
pub(super) fn bands_from(reps: Vec<Vec<f64>>, name: &str, colour: RGBColor) -> Band {
    let weeks = reps.iter().map(Vec::len).max().unwrap_or(0);
    let mut b = Band {
        name: name.to_string(),
        colour,
        mean: vec![f64::NAN; weeks],
        lo: vec![f64::NAN; weeks],
        hi: vec![f64::NAN; weeks],
    };
    for w in 0..weeks {
        let e = Estimate::from_samples(reps.iter().filter_map(|r| r.get(w).copied()));
        b.mean[w] = e.mean.unwrap_or(f64::NAN);
        b.lo[w] = e.ci95[0].unwrap_or(f64::NAN);
        b.hi[w] = e.ci95[1].unwrap_or(f64::NAN);
    }
    b
}

/// A per-quintile quantity per arm, with 95% intervals across replicates: `value(q, rows)`
/// computes it from one replicate's weekly rows.
/// A quantity of quintile `q` from one replicate's weekly rows.
pub(super) type QuintileValue<'a> = dyn Fn(usize, &[Vec<f64>]) -> Option<f64> + 'a;

pub(super) fn quintile_bars(
    run: &RunDir,
    arms: &[(String, RGBColor)],
    value: &QuintileValue<'_>,
) -> Vec<Vec<Option<Bar>>> {
    (0..5)
        .map(|q| {
            arms.iter()
                .map(|(a, _)| {
                    let weeks = run.weekly.arm(a)?;
                    let per_rep = weeks
                        .replicates
                        .iter()
                        .map(|rows| value(q, rows).unwrap_or(f64::NAN));
                    bar_of(Some(Estimate::from_samples(per_rep)))
                })
                .collect()
        })
        .collect()
}

/// Sum over a replicate's weeks of a weekly column.
pub(super) fn total(run: &RunDir, rows: &[Vec<f64>], column: &str) -> Option<f64> {
    let c = run.weekly.column(column)?;
    Some(rows.iter().map(|r| r[c]).sum())
}

/// Events per 1,000 patients of the quintile per year, from a `*_qN` weekly column and the
/// quintile's patient-weeks (`n_patients_qN`).
pub(super) fn quintile_rate(
    run: &RunDir,
    prefix: &str,
    q: usize,
    rows: &[Vec<f64>],
) -> Option<f64> {
    let events = total(run, rows, &format!("{prefix}_q{}", q + 1))?;
    let patient_weeks = total(run, rows, &format!("n_patients_q{}", q + 1))?;
    Some(1000.0 * 52.0 * events / patient_weeks)
}

/// A weekly value that is one column of `weekly.csv`.
pub(super) fn col(name: &'static str) -> impl Fn(&dyn Fn(&str) -> f64) -> f64 {
    move |get: &dyn Fn(&str) -> f64| get(name)
}
