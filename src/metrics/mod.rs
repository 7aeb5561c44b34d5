//! Metrics (MODEL.md §7): the summary metrics derived from what the engine produced, the
//! columns of `weekly.csv`, and the statistics across replicates. What the model records while
//! it runs (weekly records, referral fates, the evaluation tallies) lives in
//! [`crate::model::observe`].

pub mod places;
pub mod stats;
pub mod summary;
pub mod weekly;
