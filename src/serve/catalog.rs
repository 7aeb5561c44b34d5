//! The scenarios the page offers, by id: the shipped training scenarios (embedded in the
//! binary, so the page works wherever the binary is copied), the embedded default, and the
//! scenario given on the command line. The page names a scenario by its id only: no path from a
//! client reaches the file system.

use crate::scenario::{DEFAULT_SCENARIO, Scenario, ScenarioError};

/// The shipped training scenarios, in workshop order.
pub const TRAINING: [(&str, &str); 7] = [
    (
        "1_evaluation_that_fooled_us",
        include_str!("../../scenarios/training/1_evaluation_that_fooled_us.toml"),
    ),
    (
        "2_success_breeds_demand",
        include_str!("../../scenarios/training/2_success_breeds_demand.toml"),
    ),
    (
        "3_referrals_without_funding",
        include_str!("../../scenarios/training/3_referrals_without_funding.toml"),
    ),
    (
        "4_inverse_care_law",
        include_str!("../../scenarios/training/4_inverse_care_law.toml"),
    ),
    (
        "5_structural_barriers",
        include_str!("../../scenarios/training/5_structural_barriers.toml"),
    ),
    (
        "6_fair_shares",
        include_str!("../../scenarios/training/6_fair_shares.toml"),
    ),
    (
        "7_appointments_saved",
        include_str!("../../scenarios/training/7_appointments_saved.toml"),
    ),
];

/// One scenario the page can start from.
#[derive(Clone, Debug)]
pub struct Entry {
    /// What the page and the URL call it: the scenario's `name`, or the file's stem.
    pub id: String,
    /// The scenario's TOML text, the starting point of every setting.
    pub text: String,
    /// What a setting built from it is parsed as: messages name it, and a relative `base` in
    /// the given scenario is found beside its file. The downloaded file has this file name.
    pub origin: String,
    /// The scenario as shipped, validated.
    pub scenario: Scenario,
    /// Shipped with sprx (training or default) rather than given on the command line.
    pub shipped: bool,
}

/// Every scenario the page offers, in the order it lists them.
#[derive(Clone, Debug, Default)]
pub struct Catalog {
    pub entries: Vec<Entry>,
}

impl Catalog {
    /// The shipped scenarios, after `given` (the command line's scenario: its text and path).
    pub fn new(given: Option<(String, String)>) -> Result<Catalog, ScenarioError> {
        let mut entries = Vec::new();
        if let Some((text, path)) = given {
            let scenario = Scenario::parse(&text, &path)?;
            let id = scenario.name.clone().unwrap_or_else(|| stem(&path));
            entries.push(Entry {
                id,
                text,
                origin: path,
                scenario,
                shipped: false,
            });
        }
        let shipped = TRAINING
            .iter()
            .copied()
            .chain(std::iter::once(("default", DEFAULT_SCENARIO)));
        for (file, text) in shipped {
            let origin = format!("{file}.toml");
            let scenario = Scenario::parse(text, &origin)?;
            let id = scenario.name.clone().unwrap_or_else(|| file.to_string());
            // A given scenario of the same name comes first and keeps its id.
            if entries.iter().any(|e: &Entry| e.id == id) {
                continue;
            }
            entries.push(Entry {
                id,
                text: text.to_string(),
                origin,
                scenario,
                shipped: true,
            });
        }
        Ok(Catalog { entries })
    }

    pub fn get(&self, id: &str) -> Option<&Entry> {
        self.entries.iter().find(|e| e.id == id)
    }

    /// The scenario the page opens with: the given one, else the first training scenario.
    pub fn first(&self) -> Option<&Entry> {
        self.entries.first()
    }
}

/// A file name without its folders and extension.
fn stem(path: &str) -> String {
    std::path::Path::new(path).file_stem().map_or_else(
        || "scenario".to_string(),
        |s| s.to_string_lossy().into_owned(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_training_scenario_file_is_embedded() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/training");
        let mut files: Vec<String> = std::fs::read_dir(&dir)
            .expect("scenarios/training")
            .flatten()
            .filter_map(|e| {
                e.file_name()
                    .to_str()?
                    .strip_suffix(".toml")
                    .map(str::to_string)
            })
            .collect();
        files.sort();
        let embedded: Vec<String> = TRAINING.iter().map(|(f, _)| f.to_string()).collect();
        assert_eq!(files, embedded);
    }

    #[test]
    fn every_shipped_scenario_is_valid_and_has_a_narrative() {
        let catalog = Catalog::new(None).expect("shipped scenarios are valid");
        assert_eq!(catalog.entries.len(), TRAINING.len() + 1);
        for e in catalog.entries.iter().filter(|e| e.id != "default") {
            assert!(e.scenario.narrative.is_some(), "{}", e.id);
        }
    }
}
