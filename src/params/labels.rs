//! The labels of the model's dimensions, in the fixed order every per-need and per-quintile
//! parameter, output column and report uses. They live with the parameters because parameter
//! values are laid out by them; the model imports them from here.

/// Number of need types.
pub const NEED_COUNT: usize = 6;

/// Need types in the fixed order every per-need parameter uses (MODEL.md §6.1).
pub const NEED_NAMES: [&str; NEED_COUNT] = [
    "loneliness",
    "mental",
    "money",
    "housing",
    "work",
    "inactivity",
];

/// Number of deprivation quintiles.
pub const QUINTILE_COUNT: usize = 5;

/// Labels of the deprivation quintiles, 1 = most deprived.
pub const QUINTILE_NAMES: [&str; QUINTILE_COUNT] = ["q1", "q2", "q3", "q4", "q5"];
