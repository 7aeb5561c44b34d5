//! Unit tests of scenario parsing: value forms, resolution order and error positions.

use super::*;

const HEAD: &str = "[run]\nseed = 1\n";

fn parse(body: &str) -> Result<Scenario, ScenarioError> {
    Scenario::parse(&format!("{HEAD}{body}"), "t.toml")
}

fn arm_params(body: &str) -> Params {
    match parse(body) {
        Ok(s) => s.arms[0].params.clone(),
        Err(e) => panic!("unexpected errors:\n{e}"),
    }
}

fn errors(body: &str) -> Vec<String> {
    match parse(body) {
        Ok(_) => panic!("expected errors"),
        Err(ScenarioError::Invalid { diagnostics, .. }) => {
            diagnostics.iter().map(|d| d.to_string()).collect()
        }
        Err(e) => panic!("unexpected error {e}"),
    }
}

#[test]
fn per_need_value_as_array_partial_table_and_dotted_keys() {
    let full = arm_params(
        "[params]\nneed_prevalence = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6]\n[[arm]]\nname = \"no_sp\"\n",
    );
    assert_eq!(full.need_prevalence, [0.1, 0.2, 0.3, 0.4, 0.5, 0.6]);

    let mut expected = Params::default().need_prevalence;
    expected[2] = 0.2;
    let inline =
        arm_params("[params]\nneed_prevalence = { money = 0.2 }\n[[arm]]\nname = \"no_sp\"\n");
    let dotted = arm_params("[params]\nneed_prevalence.money = 0.2\n[[arm]]\nname = \"no_sp\"\n");
    assert_eq!(inline.need_prevalence, expected);
    assert_eq!(dotted.need_prevalence, expected);
}

#[test]
fn need_by_quintile_matrix_forms() {
    let rows: Vec<String> = (0..6)
        .map(|k| format!("[{k}, {k}, {k}, {k}, {k}]"))
        .collect();
    let full = arm_params(&format!(
        "[params]\nneed_deprivation_multiplier = [{}]\n[[arm]]\nname = \"no_sp\"\n",
        rows.join(", ")
    ));
    assert_eq!(full.need_deprivation_multiplier[3], [3.0; 5]);

    let row = arm_params(
        "[params]\nneed_deprivation_multiplier.money = [5, 4, 3, 2, 1]\n[[arm]]\nname = \"no_sp\"\n",
    );
    assert_eq!(
        row.need_deprivation_multiplier[2],
        [5.0, 4.0, 3.0, 2.0, 1.0]
    );
    assert_eq!(
        row.need_deprivation_multiplier[0],
        Params::default().need_deprivation_multiplier[0]
    );

    let cell = arm_params(
        "[params]\nneed_deprivation_multiplier = { housing = { q5 = 9 } }\n[[arm]]\nname = \"no_sp\"\n",
    );
    let mut expected = Params::default().need_deprivation_multiplier;
    expected[3][4] = 9.0;
    assert_eq!(cell.need_deprivation_multiplier, expected);
}

#[test]
fn resolution_order_is_defaults_preset_params_then_arm() {
    let s = parse(
        "[params]\nbuy_in0 = 0.5\nlw_per_pcn = 4\n\
         [[arm]]\nname = \"belonging\"\n\
         [[arm]]\nname = \"more\"\npreset = \"bolted_on\"\nlw_per_pcn = 6\n",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    // [params] beats the preset's buy_in0; the arm beats [params].
    assert_eq!(s.arms[0].params.buy_in0, 0.5);
    assert_eq!(s.arms[0].params.lw_per_pcn, 4);
    assert_eq!(s.arms[1].params.lw_per_pcn, 6);
    // Preset values not overridden survive.
    assert_eq!(s.arms[1].params.inappropriate, 0.06);
    assert_eq!(s.baseline, "belonging", "first arm when there is no no_sp");
    assert_eq!(s.plan().arms[1].name, "more");
}

#[test]
fn errors_carry_file_line_column_key_and_suggestion() {
    let e = errors("[[arm]]\nname = \"no_sp\"\nlw_per_pnc = 6\n");
    assert_eq!(
        e,
        ["t.toml:5:1: arm[0].lw_per_pnc: unknown key, did you mean `lw_per_pcn`?"]
    );
    let e = errors("[params]\nneed_prevalence.mony = 0.2\n[[arm]]\nname = \"no_sp\"\n");
    assert_eq!(e.len(), 1);
    assert!(e[0].starts_with("t.toml:4:17: params.need_prevalence.mony: unknown need `mony`"));
    assert!(e[0].ends_with("(did you mean `money`?)"), "{}", e[0]);
}

#[test]
fn range_kind_and_length_errors_name_what_is_allowed() {
    let e = errors(
        "[params]\nlw_per_pcn = 250\ncaseload_max = 2.5\nneed_prevalence = [0.1]\n\
         need_deprivation_multiplier = { money = 1 }\n[[arm]]\nname = \"no_sp\"\n",
    );
    assert_eq!(e.len(), 4, "{e:#?}");
    assert!(e[0].contains("params.lw_per_pcn: 250 is out of range: allowed 0 ..= 100"));
    assert!(e[1].contains("params.caseload_max: expected a whole number, got 2.5"));
    assert!(e[2].contains("params.need_prevalence: expected 6 entries"));
    assert!(
        e[3].contains("params.need_deprivation_multiplier.money: expected an array of 5 numbers")
    );
}

#[test]
fn every_error_is_reported_not_just_the_first() {
    let e = errors(
        "sede = 2\n[[arm]]\nname = \"x y\"\n[[arm]]\nname = \"no_sp\"\npreset = \"belongs\"\n",
    );
    assert_eq!(e.len(), 3, "{e:#?}");
    assert!(e[0].contains("t.toml:3:1: run.sede: unknown key, did you mean `seed`?"));
    assert!(e[1].contains("arm[0].name: `x y` is not a valid arm name"));
    assert!(e[2].contains("did you mean `belonging`?"));
}

#[test]
fn syntax_errors_point_into_the_file() {
    let e = errors("[[arm]\nname = \"no_sp\"\n");
    assert!(e[0].starts_with("t.toml:3:"), "{e:?}");
    assert!(e[0].contains("invalid TOML"));
}

#[test]
fn resolved_scenario_serialises_with_labels_and_overrides() {
    let s =
        parse("[params]\nneed_prevalence.money = 0.2\n[[arm]]\nname = \"no_sp\"\nlw_per_pcn = 5\n")
            .unwrap_or_else(|e| panic!("{e}"));
    let json = serde_json::to_value(&s).unwrap_or_default();
    assert_eq!(json["params"]["need_prevalence.money"], 0.2);
    assert_eq!(json["arms"][0]["overrides"]["lw_per_pcn"], 5);
    assert_eq!(json["arms"][0]["preset"], "no_sp");
    assert_eq!(json["arms"][0]["params"]["lw_per_pcn"], 5);
    assert_eq!(json["arms"][0]["params"]["need_prevalence"]["money"], 0.2);
    assert_eq!(json["arms"][0]["params"]["capacity_mean"]["q1"], 0.45);
    assert_eq!(json["run"]["weeks"], 260);
}

#[test]
fn the_embedded_default_is_valid_and_has_the_four_presets() {
    let s = Scenario::default_embedded().unwrap_or_else(|e| panic!("{e}"));
    let names: Vec<&str> = s.arms.iter().map(|a| a.name.as_str()).collect();
    assert_eq!(names, ["no_sp", "bolted_on", "fitting_in", "belonging"]);
    assert_eq!(s.baseline, "no_sp");
    assert_eq!(s.patients(), 48_000);
    assert_eq!(s.sha256, sha256_hex(DEFAULT_SCENARIO));
}

#[test]
fn a_file_with_only_params_runs_the_default_scenario_with_them() {
    let only = Scenario::parse("[params]\nlw_per_pcn = 6\n", "t.toml")
        .unwrap_or_else(|e| panic!("unexpected errors:\n{e}"));
    let default = Scenario::default_embedded().unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(only.base.as_deref(), Some(DEFAULT_ORIGIN));
    assert_eq!(default.base, None);
    assert_eq!(only.run.seed, default.run.seed);
    assert_eq!(only.run.replicates, default.run.replicates);
    assert_eq!(only.population.pcns, default.population.pcns);
    assert_eq!(only.baseline, default.baseline);
    let names: Vec<&str> = only.arms.iter().map(|a| a.name.as_str()).collect();
    let default_names: Vec<&str> = default.arms.iter().map(|a| a.name.as_str()).collect();
    assert_eq!(names, default_names);
    for (arm, base_arm) in only.arms.iter().zip(&default.arms) {
        assert_eq!(arm.params.lw_per_pcn, 6, "{}", arm.name);
        let mut expected = base_arm.params.clone();
        expected.lw_per_pcn = 6;
        assert_eq!(arm.params, expected, "{}", arm.name);
    }
}

#[test]
fn a_named_base_is_overridden_key_by_key_and_params_merge() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let base = "[run]\nseed = 7\nreplicates = 3\nweeks = 30\n[params]\nlw_per_pcn = 2\ngp_cost = 50\n\
                [[arm]]\nname = \"no_sp\"\n[[arm]]\nname = \"belonging\"\n";
    std::fs::write(dir.path().join("base.toml"), base).unwrap_or_else(|e| panic!("{e}"));
    let child = "base = \"base.toml\"\n[run]\nreplicates = 5\n[params]\nlw_per_pcn = 4\n";
    let path = dir.path().join("child.toml");
    std::fs::write(&path, child).unwrap_or_else(|e| panic!("{e}"));
    let s = Scenario::load(&path).unwrap_or_else(|e| panic!("unexpected errors:\n{e}"));
    assert_eq!((s.run.seed, s.run.replicates, s.run.weeks), (7, 5, 30));
    assert_eq!(s.arms.len(), 2);
    let belonging = &s.arms[1].params;
    assert_eq!((belonging.lw_per_pcn, belonging.gp_cost), (4, 50.0));
    // Each parameter is listed once in the scenario as resolved, with the child's value.
    let json = serde_json::to_value(&s).unwrap_or_default();
    assert_eq!(json["params"]["lw_per_pcn"], 4);
    assert_eq!(json["params"]["gp_cost"], 50.0);
    assert_eq!(json["params"].as_object().map(|m| m.len()), Some(2));
}

#[test]
fn a_cycle_of_bases_is_an_error_at_the_base_key() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let path = dir.path().join("loop.toml");
    std::fs::write(&path, "base = \"loop.toml\"\n").unwrap_or_else(|e| panic!("{e}"));
    let Err(e) = Scenario::load(&path) else {
        panic!("a cycle of bases was accepted");
    };
    let text = e.to_string();
    assert!(text.contains("loop.toml:1:8: base:"), "{text}");
    assert!(text.contains("a cycle of bases"), "{text}");
    assert_eq!(text.lines().count(), 1, "{text}");
}

const ARMS: &str =
    "[[arm]]\nname = \"no_sp\"\n[[arm]]\nname = \"fitting_in\"\nlw_allocation = \"as_is\"\n";

#[test]
fn real_places_are_selected_by_region_icb_or_pcn_code_or_name_in_any_case() {
    let by_code = parse(&format!(
        "[population]\nsource = \"england\"\nicb = [\"qhg\"]\n{ARMS}"
    ))
    .expect("valid");
    let by_name = parse(&format!(
        "[population]\nsource = \"England\"\nicb = [\"NHS Bedfordshire, Luton and Milton Keynes ICB\"]\n{ARMS}"
    ))
    .expect("valid");
    let plan = by_code.plan();
    assert_eq!(plan.pcns.len(), 24);
    assert_eq!(by_name.plan().pcns.len(), 24);
    let pcn = plan.pcns[0].identity.as_ref().expect("a real PCN");
    assert_eq!(pcn.icb_code, "QHG");
    assert_eq!(pcn.region, "East of England");
    assert_eq!(by_code.arms[1].lw_allocation, Allocation::AsIs);
    // A PCN inside the ICB, alone: same identity and the same stream label.
    let alone = parse(&format!(
        "[population]\nsource = \"england\"\npcn = [\"{}\"]\n{ARMS}",
        pcn.code.to_lowercase()
    ))
    .expect("valid")
    .plan();
    assert_eq!(alone.pcns.len(), 1);
    assert_eq!(alone.pcns[0].stream, plan.pcns[0].stream);
    assert_eq!(alone.pcns[0].layout, plan.pcns[0].layout);
    let london = parse(&format!(
        "[population]\nsource = \"england\"\nregion = [\"london\"]\n{ARMS}"
    ))
    .expect("valid");
    assert!(london.plan().pcns.len() > 100);
}

#[test]
fn as_is_reproduces_the_table_and_fills_unknowns_at_the_icb_rate() {
    let places = crate::places::Places::england().expect("embedded table");
    let s = parse(&format!(
        "[population]\nsource = \"england\"\nicb = [\"QHG\"]\n{ARMS}"
    ))
    .expect("valid");
    let plan = s.plan();
    let fte = crate::engine::allocation::arm_fte(&plan.pcns, &plan.arms[1]);
    let mut reported_rate = (0.0, 0.0);
    for (pcn, fte) in plan.pcns.iter().zip(&fte) {
        let identity = pcn.identity.as_ref().expect("real");
        if let Some(reported) = identity.lw_fte_reported {
            assert_eq!(*fte, reported, "{}", identity.code);
            reported_rate.0 += reported;
            reported_rate.1 += crate::places::stats::over(
                places,
                [places
                    .find(crate::places::Level::Pcn, &identity.code)
                    .expect("found")],
            )
            .patients;
        }
    }
    let rate = reported_rate.0 / reported_rate.1;
    for (pcn, fte) in plan.pcns.iter().zip(&fte) {
        let identity = pcn.identity.as_ref().expect("real");
        if identity.lw_fte_reported.is_none() {
            let index = places
                .find(crate::places::Level::Pcn, &identity.code)
                .expect("found");
            let patients = crate::places::stats::pcn(places, index).patients;
            assert!((fte - patients * rate).abs() < 1e-9, "{}", identity.code);
            assert!(*fte > 0.0);
        }
    }
}

#[test]
fn place_mistakes_are_positioned_with_the_nearest_names() {
    let e = errors(&format!(
        "[population]\nsource = \"england\"\nregion = [\"Londn\"]\nicb = [\"QHG\", \"QHX9\"]\n{ARMS}"
    ));
    assert!(
        e[0].starts_with(
            "t.toml:5:11: population.region[0]: no region is called `Londn`, did you mean `London`?"
        ),
        "{e:?}"
    );
    assert!(
        e[1].contains("population.icb[1]: no ICB is called `QHX9`"),
        "{e:?}"
    );
    let mixed = errors(&format!(
        "[population]\nsource = \"england\"\npcns = 3\n{ARMS}"
    ));
    assert!(
        mixed[0].contains("population.source: `source` cannot be mixed with pcns"),
        "{mixed:?}"
    );
    let no_source = errors(&format!("[population]\nicb = [\"QHG\"]\n{ARMS}"));
    assert!(
        no_source[0].contains("population.icb: filters real places: add `source = \"england\"`"),
        "{no_source:?}"
    );
    let bad_source = errors(&format!("[population]\nsource = \"wales\"\n{ARMS}"));
    assert!(
        bad_source[0].contains("unknown source `wales`"),
        "{bad_source:?}"
    );
    let bad_rule = errors("[[arm]]\nname = \"fitting_in\"\nlw_allocation = \"capitaton\"\n");
    assert!(bad_rule[0].contains("arm[0].lw_allocation: unknown allocation `capitaton`: expected one of per_pcn, as_is, capitation, need (did you mean `capitation`?)"), "{bad_rule:?}");
}

#[test]
fn a_file_silent_about_its_population_runs_its_bases_places() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let base = "[population]\nsource = \"england\"\nicb = [\"QHG\"]\n";
    std::fs::write(dir.path().join("icb.toml"), base).unwrap_or_else(|e| panic!("{e}"));
    let child = dir.path().join("more_posts.toml");
    std::fs::write(&child, "base = \"icb.toml\"\n[params]\nlw_per_pcn = 5\n")
        .unwrap_or_else(|e| panic!("{e}"));
    let s = Scenario::load(&child).unwrap_or_else(|e| panic!("unexpected errors:\n{e}"));
    let places = s.population.places.as_ref().map(|p| p.indices.len());
    assert!(places.is_some_and(|n| n > 1), "{places:?}");
    assert_eq!(s.population.pcns as usize, places.unwrap_or(0));
    // Synthetic keys instead start from the synthetic defaults, not the base's selection.
    std::fs::write(
        &child,
        "base = \"icb.toml\"\n[population]\npractices_per_pcn = 2\n",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let s = Scenario::load(&child).unwrap_or_else(|e| panic!("unexpected errors:\n{e}"));
    assert!(s.population.places.is_none());
    assert_eq!((s.population.pcns, s.population.practices_per_pcn), (1, 2));
}

#[test]
fn a_file_may_choose_another_baseline_among_its_bases_arms() {
    let s = Scenario::parse("baseline = \"bolted_on\"\n", "t.toml")
        .unwrap_or_else(|e| panic!("unexpected errors:\n{e}"));
    assert_eq!(s.baseline, "bolted_on");
    assert_eq!(s.arms.len(), 4);
    let Err(e) = Scenario::parse("baseline = \"bolted\"\n", "t.toml") else {
        panic!("an unknown baseline was accepted");
    };
    assert!(e.to_string().contains("did you mean `bolted_on`?"), "{e}");
}
