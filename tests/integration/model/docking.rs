//! Docking the fast engine against the reference one (Axtell et al.'s "docking": two
//! implementations of one model checked against each other). They draw their random numbers
//! differently, so they agree in distribution only: on the default scenario, every headline
//! metric of every arm, and every arm's paired difference from no_sp, must agree within 3
//! combined standard errors, `|mean_fast − mean_reference| ≤ 3·√(se_fast² + se_reference²)`.
//!
//! Both runs use the scenario's seed: they share what both engines draw alike (the initial
//! population, the referral and session draws), which only makes them closer; the test is
//! about the patients' own processes, which the engines draw differently.

use sprx::engine::runner::{run_replicates, with_threads};
use sprx::engine::{Engine, Plan};
use sprx::metrics::stats::Estimate;
use sprx::metrics::summary::metric_index;
use sprx::output::{HEADLINE_METRICS, RunResults};
use sprx::scenario::Scenario;

fn results(plan: &Plan, engine: Engine) -> RunResults {
    let mut plan = plan.clone();
    plan.engine = engine;
    let replicates: Vec<u32> = (0..plan.replicates).collect();
    let outcomes = with_threads(None, || run_replicates(&plan, &replicates, &|_| {}))
        .unwrap_or_else(|e| panic!("{e}"))
        .unwrap_or_else(|e| panic!("{e}"));
    RunResults::new(&plan, &outcomes)
}

/// `(z, line)`: the standardised difference of two estimates and a line for the table.
fn compare(what: &str, fast: &Estimate, reference: &Estimate) -> Option<(f64, String)> {
    let (se_f, se_r) = (fast.se()?, reference.se()?);
    let (mean_f, mean_r) = (fast.mean?, reference.mean?);
    let combined = (se_f * se_f + se_r * se_r).sqrt();
    let diff = mean_f - mean_r;
    let z = if combined > 0.0 {
        diff / combined
    } else if diff == 0.0 {
        0.0
    } else {
        f64::INFINITY
    };
    let line = format!("{what:<62} fast {mean_f:>12.4} reference {mean_r:>12.4} z {z:>6.2}");
    Some((z, line))
}

#[test]
fn the_fast_engine_docks_with_the_reference_on_the_default_scenario() {
    let scenario = Scenario::default_embedded().unwrap_or_else(|e| panic!("{e}"));
    let plan = scenario.plan();
    assert_eq!(plan.replicates, 100, "the default scenario's replicates");
    let fast = results(&plan, Engine::Fast);
    let reference = results(&plan, Engine::Reference);
    let mut lines = Vec::new();
    let mut failures = Vec::new();
    let mut compared = 0;
    for (metric, _) in HEADLINE_METRICS {
        let m = metric_index(metric).unwrap_or_else(|| panic!("no metric {metric}"));
        for (f, r) in fast.arms.iter().zip(&reference.arms) {
            let mut pairs = vec![(
                format!("{} {metric}", f.name),
                &f.estimates[m],
                &r.estimates[m],
            )];
            if let (Some(pf), Some(pr)) = (&f.paired, &r.paired) {
                pairs.push((format!("{} − no_sp {metric}", f.name), &pf[m], &pr[m]));
            }
            for (what, ef, er) in pairs {
                // Undefined for this arm (no_sp has no referrals): nothing to compare.
                let Some((z, line)) = compare(&what, ef, er) else {
                    continue;
                };
                compared += 1;
                if z.abs() > 3.0 {
                    failures.push(line.clone());
                }
                lines.push(line);
            }
        }
    }
    println!("{}", lines.join("\n"));
    assert!(compared >= 60, "only {compared} comparisons");
    assert!(
        failures.is_empty(),
        "the engines disagree beyond 3 combined standard errors:\n{}",
        failures.join("\n")
    );
}
