//! The model's domain (MODEL.md §2, §5, §6): patients and their needs, GP practices, link
//! workers, community assets, referrals, and the PCN that holds them and runs the weekly
//! schedule, and what it records as it runs ([`observe`]). A rule of the model lives in the module named after the entity it concerns.

pub mod access;
pub mod asset;
pub mod link_worker;
pub mod needs;
pub mod observe;
pub mod patient;
pub mod pcn;
pub mod population;
pub mod practice;
pub mod referral;

/// Why the model could not set up a population from a parameter set.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum ModelError {
    /// Validated parameters still describe a distribution that cannot be drawn from (for
    /// example a Beta whose shape parameters round to zero).
    #[error("{parameter}: cannot build {distribution}: {detail}")]
    Distribution {
        parameter: &'static str,
        distribution: String,
        detail: String,
    },
}
