//! Commands other than `run`: validation of the shipped scenarios, `init`, `params`, and exit
//! codes for bad usage and failures.

use sprx::params::REGISTRY;
use sprx::scenario::{DEFAULT_SCENARIO, Scenario};

use crate::{ok, read, repo, sprx, stderr, tempdir};

#[test]
fn every_shipped_scenario_validates() {
    let mut checked = 0;
    for entry in std::fs::read_dir(repo("scenarios")).unwrap_or_else(|e| panic!("{e}")) {
        let path = entry.unwrap_or_else(|e| panic!("{e}")).path();
        if path.extension().is_some_and(|x| x == "toml") {
            let text = ok(&["validate", &path.to_string_lossy()]);
            assert!(text.starts_with("ok: "), "{text}");
            checked += 1;
        }
    }
    assert!(checked >= 4, "only {checked} scenarios");
}

#[test]
fn the_embedded_default_is_scenarios_default_toml_and_valid() {
    assert_eq!(DEFAULT_SCENARIO, read(&repo("scenarios/default.toml")));
    let s = Scenario::default_embedded().unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(s.origin, "embedded:default");
    assert_eq!(s.run.replicates, 100);
    assert_eq!((s.run.warmup_weeks, s.run.weeks), (52, 260));
}

#[test]
fn init_writes_a_scenario_that_validates_as_is_and_with_any_line_uncommented() {
    let dir = tempdir();
    let path = dir.path().join("new.toml");
    let path_arg = path.to_string_lossy().into_owned();
    ok(&["init", &path_arg]);
    ok(&["validate", &path_arg]);
    let text = read(&path);
    let lines: Vec<&str> = text.lines().collect();
    let mut uncommented = 0;
    for (i, line) in lines.iter().enumerate() {
        let Some(rest) = line.strip_prefix('#') else {
            continue;
        };
        let mut variant = lines.clone();
        let rest = rest.strip_prefix(' ').unwrap_or(rest);
        variant[i] = rest;
        if let Err(e) = Scenario::parse(&variant.join("\n"), "variant.toml") {
            panic!("uncommenting line {} (`{line}`) gives:\n{e}", i + 1);
        }
        uncommented += 1;
    }
    // Every parameter is listed, commented out.
    for def in REGISTRY {
        assert!(
            text.contains(&format!("\n# {} = ", def.name)),
            "{}",
            def.name
        );
    }
    assert!(uncommented > REGISTRY.len());
}

#[test]
fn init_refuses_to_overwrite_without_force() {
    let dir = tempdir();
    let path = dir.path().join("s.toml");
    std::fs::write(&path, "keep me").unwrap_or_else(|e| panic!("{e}"));
    let path_arg = path.to_string_lossy().into_owned();
    let out = sprx(&["init", &path_arg]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("--force"));
    assert_eq!(read(&path), "keep me");
    ok(&["init", &path_arg, "--force"]);
    ok(&["validate", &path_arg]);
}

#[test]
fn params_json_lists_every_registry_entry_in_order() {
    let json: serde_json::Value = serde_json::from_str(&ok(&["params", "--format", "json"]))
        .unwrap_or_else(|e| panic!("{e}"));
    let names: Vec<&str> = json["parameters"]
        .as_array()
        .map(|a| a.iter().filter_map(|p| p["name"].as_str()).collect())
        .unwrap_or_default();
    let registered: Vec<&str> = REGISTRY.iter().map(|d| d.name).collect();
    assert_eq!(names, registered);
    assert_eq!(json["parameters"][0]["default"]["q1"], 0.2);
    assert_eq!(json["presets"]["belonging"]["feedback"], 1.0);
}

#[test]
fn params_toml_is_a_valid_params_table() {
    let text = ok(&["params", "--format", "toml"]);
    let scenario = format!("[run]\nseed = 1\n[[arm]]\nname = \"no_sp\"\n{text}");
    let s = Scenario::parse(&scenario, "params.toml").unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(s.params.0.len(), REGISTRY.len());
}

#[test]
fn bad_usage_exits_2_and_runtime_failures_exit_1() {
    assert_eq!(sprx(&["run", "--threads", "0"]).status.code(), Some(2));
    assert_eq!(sprx(&["frobnicate"]).status.code(), Some(2));
    assert_eq!(
        sprx(&["validate", "tests/data/none.toml"]).status.code(),
        Some(2)
    );
    // The output directory cannot be created: a file is in the way.
    let dir = tempdir();
    let blocker = dir.path().join("file");
    std::fs::write(&blocker, "").unwrap_or_else(|e| panic!("{e}"));
    let out_arg = blocker.join("out").to_string_lossy().into_owned();
    let out = sprx(&["run", "tests/data/small.toml", "--out", &out_arg, "--quiet"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).starts_with("error: cannot create output directory"));
}

#[test]
fn threads_0_is_refused_alike_by_run_and_sweep() {
    let run = sprx(&["run", "tests/data/small.toml", "--threads", "0"]);
    let sweep = sprx(&["sweep", "no-such.toml", "--out", "never", "--threads", "0"]);
    for out in [&run, &sweep] {
        assert_eq!(out.status.code(), Some(2), "{}", stderr(out));
        assert!(
            stderr(out).contains("invalid value '0' for '--threads <N>': at least 1 thread"),
            "{}",
            stderr(out)
        );
    }
    assert!(
        !std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("never")
            .exists()
    );
}

#[test]
fn trace_refuses_a_replicate_the_scenario_does_not_have() {
    // tests/data/small.toml has 4 replicates, numbered 0-3.
    ok(&[
        "trace",
        "tests/data/small.toml",
        "--arm",
        "belonging",
        "--sample",
        "1",
        "--replicate",
        "3",
    ]);
    let out = sprx(&[
        "trace",
        "tests/data/small.toml",
        "--arm",
        "belonging",
        "--sample",
        "1",
        "--replicate",
        "4",
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("--replicate 4: the scenario has 4 replicate(s), numbered from 0"),
        "{}",
        stderr(&out)
    );
}
