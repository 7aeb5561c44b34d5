//! Extreme values: switching a mechanism off must switch its consequences off.

use sprx::params::Preset;

use super::{arm, small};

fn outcomes(change: impl Fn(&mut sprx::params::Params)) -> Vec<sprx::engine::ArmOutcome> {
    let plan = small(vec![arm("belonging", Preset::Belonging, change)], 1);
    sprx::engine::runner::run_replicates(&plan, &[0], &|_| {})
        .expect("runs")
        .remove(0)
        .arms
}

/// Registered patients of the small plan's PCN.
fn plan_patients() -> u64 {
    small(Vec::new(), 1).patients()
}

#[test]
fn no_buy_in_means_no_referrals() {
    let arms = outcomes(|p| p.buy_in0 = 0.0);
    let t = arms[0].totals();
    assert_eq!((t.offered, t.accepted, t.sessions), (0, 0, 0));
    assert!(t.social > 0, "social consultations still happen");
}

#[test]
fn no_assets_means_no_connections() {
    let arms = outcomes(|p| {
        p.asset_count = [0; 6];
        p.buy_in0 = 0.2;
    });
    let t = arms[0].totals();
    assert!(t.sessions > 0, "link workers still see patients");
    assert_eq!(t.connections, 0);
    assert!(
        t.no_capacity > 0,
        "link workers looked for assets and found none"
    );
    assert_eq!(arms[0].pathway.connected, 0);
}

#[test]
fn no_closures_and_no_openings_keep_asset_counts_constant() {
    // Openings are proportional to close_rate, so close_rate = 0 stops both.
    let arms = outcomes(|p| {
        p.close_rate = 0.0;
        p.buy_in0 = 0.2;
    });
    // The small plan's PCN has 4,000 patients: asset_count scaled to it (MODEL.md §5, v1.1).
    let patients = plan_patients();
    let p = sprx::params::Params::default();
    let expected: u32 = sprx::model::asset::scaled_asset_counts(&p, patients)
        .iter()
        .sum();
    assert!(expected > 0);
    for w in &arms[0].weekly {
        assert_eq!(w.assets_open, u64::from(expected));
        assert_eq!((w.asset_closures, w.asset_openings), (0, 0));
    }
    assert!(arms[0].totals().connections > 0);
}

#[test]
fn certain_closure_empties_the_asset_map_in_the_first_week() {
    let arms = outcomes(|p| {
        p.close_rate = 1.0;
        // One asset of each category in the small plan's PCN once scaled (MODEL.md §5, v1.1).
        p.asset_count = [(48_000 / plan_patients()) as u32; 6];
        p.infra = 0.0;
    });
    // Every asset closes in week 0 and each category opens one (rate 1·1·(1+0) = 1) every week,
    // which closes the next week.
    assert_eq!(arms[0].weekly[0].asset_closures, 6);
    assert!(arms[0].weekly.iter().all(|w| w.assets_open == 6));
}
