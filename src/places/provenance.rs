//! Where the places data come from: the raw files and their publishers, the licence
//! attribution, the version of the committed tables, and the facts of the derivation (what was
//! dropped and why) that the tables alone cannot tell.

use serde::{Deserialize, Serialize};

use super::error::PlacesError;

/// One raw file the tables are derived from.
#[derive(Clone, Copy, Debug)]
pub struct Source {
    /// The file's name in the raw data folder (and in its `SHA256SUMS`).
    pub file: &'static str,
    pub publisher: &'static str,
    pub title: &'static str,
    /// SHA-256 of the edition the derivation was written and checked against.
    pub sha256: &'static str,
}

pub const PAYMENTS: Source = Source {
    file: "payments-to-general-practice-2022-23.csv",
    publisher: "NHS England (NHS Digital)",
    title: "NHS Payments to General Practice, England, 2022-23",
    sha256: "f0b637ea5e606616911ce58a95d1e4e2aeea26c0768694976499df85ebf771de",
};

pub const WORKFORCE: Source = Source {
    file: "pcn-workforce-2022-09-individual-level.csv",
    publisher: "NHS England (NHS Digital)",
    title: "Primary Care Network Workforce, 30 September 2022 (individual-level CSV)",
    sha256: "62a81ae936e5a8ab003770bc50fdb4320ea2e0d383f97f92979886b93ce3caef",
};

pub const IMD: Source = Source {
    file: "practice-imd-fingertips-93553.csv",
    publisher: "Office for Health Improvement and Disparities",
    title: "Fingertips indicator 93553, Deprivation score (IMD 2019), GP practices",
    sha256: "43444b8cf9caa82a587e9f1bd5e33159c9bc0235f77c3d205edd9440c9cce78f",
};

/// The three raw files, in the order they are read.
pub const SOURCES: [Source; 3] = [PAYMENTS, WORKFORCE, IMD];

/// The Open Government Licence asks for this statement with the publishers and titles.
pub const ATTRIBUTION: &str =
    "Contains public sector information licensed under the Open Government Licence v3.0.";

/// SHA-256 (hex) of the committed tables, in [`super::table::TABLE_FILES`] order, concatenated:
/// the data version to record in run manifests. A test checks it against the embedded bytes.
pub const TABLES_SHA256: &str = include_str!("../../data/places/tables.sha256");

/// The derivation's facts as committed beside the tables.
pub const DERIVATION_JSON: &str = include_str!("../../data/places/derivation.json");

/// What the raw files held and what the derivation left out, for `sprx places --summary` and
/// run logs: never silently dropped.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Derivation {
    /// The payments file before any practice is dropped.
    pub raw: RawTotals,
    /// Practices left out, by reason (a practice may have several reasons).
    pub dropped: Dropped,
    /// The workforce file, before it is joined to the practices.
    pub workforce: Workforce,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RawTotals {
    pub practices: u64,
    pub registered_patients: f64,
    /// PCNs with a code (the "Unknown or no PCN" group is not one).
    pub pcns: u64,
    pub practices_without_pcn: u64,
    pub icbs: u64,
    pub regions: u64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Dropped {
    /// Practices dropped for any reason.
    pub practices: u64,
    pub registered_patients: f64,
    /// PCNs left with no practice, so not in the table.
    pub pcns: Vec<String>,
    pub reasons: Vec<DropReason>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DropReason {
    pub reason: String,
    pub practices: u64,
    pub registered_patients: f64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Workforce {
    /// PCNs with any row in the file (a workforce return).
    pub pcns: u64,
    /// Rows with `DETAILED_STAFF_ROLE = Social Prescribing Link Worker`.
    pub lw_rows: u64,
    pub lw_fte: f64,
    /// PCNs with link-worker FTE above 0.
    pub lw_pcns: u64,
    /// PCN codes in the workforce file but not in the payments file; their staff are lost.
    pub pcns_not_in_payments: Vec<String>,
    pub lw_fte_not_in_payments: f64,
}

impl Derivation {
    /// The facts committed with the embedded tables.
    pub fn embedded() -> Result<Derivation, PlacesError> {
        Derivation::parse(DERIVATION_JSON)
    }

    pub fn parse(text: &str) -> Result<Derivation, PlacesError> {
        serde_json::from_str(text).map_err(|e| {
            PlacesError::file(
                "data/places/derivation.json",
                format!("line {}, column {}: {e}", e.line(), e.column()),
            )
        })
    }
}
