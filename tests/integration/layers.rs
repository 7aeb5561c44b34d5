//! The architecture's one-way imports: each top-level module of `src/` may use only the modules
//! below it in [`LAYERS`], so the import graph between them has no cycles. The test reads the
//! source: every `crate::x` / `sprx::x` path (and `super::x` from a module's root file, which
//! names the crate root) counts, in code and in doc links alike.

use std::collections::BTreeSet;
use std::fs;
use std::path::Path;

use super::repo;

/// Lowest first. A module may import any module listed before it, never one after it.
const LAYERS: &[&str] = &[
    "params", "rng", "model", "engine", "metrics", "places", "scenario", "output", "report",
    "sweep", "serve", "cli",
];

/// The top-level modules a source tree's files refer to.
fn references(dir: &Path, found: &mut BTreeSet<String>) {
    let entries = fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            references(&path, found);
            continue;
        }
        if path.extension().is_none_or(|e| e != "rs") {
            continue;
        }
        let text = fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let is_root = path.file_name().is_some_and(|n| n == "mod.rs");
        let mut prefixes = vec!["crate::", "sprx::"];
        if is_root {
            prefixes.push("super::");
        }
        for prefix in prefixes {
            for (at, _) in text.match_indices(prefix) {
                // `foo_crate::x` or `a.super::x` are not paths into this crate.
                let before = text[..at].chars().next_back();
                if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
                    continue;
                }
                let name: String = text[at + prefix.len()..]
                    .chars()
                    .take_while(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '_')
                    .collect();
                if !name.is_empty() {
                    found.insert(name);
                }
            }
        }
    }
}

#[test]
fn top_level_modules_import_only_lower_layers() {
    let src = repo("src");
    // Top-level modules are folders: a file module beside lib.rs would escape the check.
    let mut on_disk: Vec<String> = fs::read_dir(&src)
        .expect("src/")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|name| name != "lib.rs" && name != "main.rs")
        .collect();
    on_disk.sort();
    let mut listed: Vec<String> = LAYERS.iter().map(|s| s.to_string()).collect();
    listed.sort();
    assert_eq!(
        on_disk, listed,
        "every module of src/ must be a folder with its place in LAYERS"
    );

    let mut violations = Vec::new();
    for (rank, layer) in LAYERS.iter().enumerate() {
        let mut used = BTreeSet::new();
        references(&src.join(layer), &mut used);
        for name in used {
            match LAYERS.iter().position(|l| *l == name) {
                Some(r) if r >= rank && name != *layer => {
                    violations.push(format!("{layer} imports {name}, a layer above it"))
                }
                _ => {}
            }
        }
    }
    assert!(violations.is_empty(), "{}", violations.join("\n"));
}

/// The check itself must be able to fail: an upward path in a source file is found.
#[test]
fn an_upward_import_is_detected() {
    let dir = std::env::temp_dir().join(format!("sprx-layers-{}", std::process::id()));
    fs::create_dir_all(dir.join("inner")).expect("temp dir");
    fs::write(dir.join("inner/x.rs"), "use crate::report::escape;\n").expect("write");
    fs::write(
        dir.join("mod.rs"),
        "//! see [`super::sweep`]\nuse foo_crate::cli;\n",
    )
    .expect("write");
    let mut found = BTreeSet::new();
    references(&dir, &mut found);
    let _ = fs::remove_dir_all(&dir);
    let found: Vec<&str> = found.iter().map(String::as_str).collect();
    assert_eq!(found, ["report", "sweep"]);
}
