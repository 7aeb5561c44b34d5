//! The MODEL.md §1 patterns, with the default parameters on the default population (fewer
//! replicates). Each check allows for Monte Carlo error: a pattern's band is widened by three
//! standard errors of the replicate mean, so a failure means the model, not the noise, is off.

use std::sync::OnceLock;

use sprx::metrics::stats::Estimate;

use super::{metric, reference, run};

const NO_SP: usize = 0;
const BOLTED_ON: usize = 1;
const FITTING_IN: usize = 2;
const BELONGING: usize = 3;

fn results() -> &'static Vec<Vec<Vec<f64>>> {
    static RESULTS: OnceLock<Vec<Vec<Vec<f64>>>> = OnceLock::new();
    RESULTS.get_or_init(|| run(&reference(16)))
}

fn estimate(arm: usize, name: &str) -> Estimate {
    Estimate::from_samples(metric(results(), arm, name))
}

/// The replicate mean lies in [lo, hi] widened by three standard errors.
fn check_band(arm: usize, name: &str, lo: f64, hi: f64) {
    let e = estimate(arm, name);
    let (mean, se) = (e.mean.expect("defined"), e.se().expect("defined"));
    assert!(
        mean >= lo - 3.0 * se && mean <= hi + 3.0 * se,
        "arm {arm} {name}: {mean:.4} ± {se:.4} (se) outside [{lo}, {hi}]"
    );
}

#[test]
fn gp_consultations_per_patient_year_are_about_2_6() {
    for arm in 0..4 {
        check_band(arm, "gp_consults_per_1000_per_year", 2_450.0, 2_750.0);
    }
}

#[test]
fn one_in_five_gp_consultations_is_driven_by_non_medical_needs() {
    check_band(NO_SP, "social_share", 0.17, 0.23);
}

#[test]
fn one_to_two_percent_of_the_list_is_referred_each_year() {
    for arm in [BOLTED_ON, FITTING_IN, BELONGING] {
        check_band(arm, "referrals_offered_per_1000_per_year", 10.0, 20.0);
    }
}

#[test]
fn about_12_percent_of_referrals_are_declined() {
    check_band(FITTING_IN, "declined_share", 0.09, 0.15);
}

#[test]
fn about_90_percent_of_accepted_referrals_reach_a_link_worker() {
    check_band(FITTING_IN, "reached_lw_share", 0.85, 0.95);
    check_band(BOLTED_ON, "reached_lw_share", 0.85, 0.95);
}

#[test]
fn about_38_percent_of_referrals_lead_to_a_connection() {
    check_band(FITTING_IN, "connected_share", 0.33, 0.43);
}

#[test]
fn link_worker_caseloads_intakes_and_contacts_match_the_guidance() {
    check_band(BELONGING, "lw_caseload_mean", 30.0, 40.0);
    check_band(BELONGING, "lw_new_clients_per_lw_year", 200.0, 250.0);
    for arm in [BOLTED_ON, FITTING_IN, BELONGING] {
        check_band(arm, "lw_contacts_per_client", 6.0, 12.0);
    }
}

#[test]
fn wellbeing_is_about_50_with_a_deprivation_gradient() {
    check_band(NO_SP, "wellbeing_mean", 49.0, 51.0);
    check_band(NO_SP, "wellbeing_mean_q1", 47.0, 49.0);
    check_band(NO_SP, "wellbeing_mean_q5", 50.0, 52.0);
}

#[test]
fn naive_before_after_evaluations_show_a_clear_fall() {
    for arm in [BOLTED_ON, FITTING_IN, BELONGING] {
        check_band(arm, "eval_naive_change_pct", -100.0, -10.0);
    }
}

#[test]
fn the_controlled_effect_is_small_and_bolted_on_raises_gp_use() {
    check_band(FITTING_IN, "eval_effect_pct", -3.0, 3.0);
    check_band(BELONGING, "eval_effect_pct", -3.0, 3.0);
    let bolted = estimate(BOLTED_ON, "eval_effect_pct");
    assert!(
        bolted.ci95[0].expect("defined") > 0.0,
        "bolted on: {bolted:?}"
    );
}

#[test]
fn belonging_beats_bolted_on_for_wellbeing_and_appropriate_referrals() {
    let paired = |name| {
        Estimate::paired(
            &metric(results(), BELONGING, name),
            &metric(results(), BOLTED_ON, name),
        )
    };
    let wellbeing = paired("eval_wellbeing_effect");
    assert!(wellbeing.ci95[0].expect("defined") > 0.0, "{wellbeing:?}");
    let inappropriate = paired("inappropriate_share");
    assert!(
        inappropriate.ci95[1].expect("defined") < 0.0,
        "{inappropriate:?}"
    );
}
