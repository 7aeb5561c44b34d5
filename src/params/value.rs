//! Shapes of parameter values (scalar, per need, per quintile, need × quintile) and their
//! conversion to and from flat "slots", the representation the registry, scenarios and sweeps share.

use super::labels::{NEED_COUNT, NEED_NAMES, QUINTILE_NAMES};

/// How a parameter's value is laid out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shape {
    Scalar,
    /// One value per need type, in the fixed need order.
    PerNeed,
    /// One value per deprivation quintile, q1 (most deprived) first.
    PerQuintile,
    /// One row per need type, one column per quintile.
    NeedByQuintile,
}

impl Shape {
    /// The label lists of each dimension, outermost first (empty for a scalar).
    pub fn dims(self) -> &'static [&'static [&'static str]] {
        match self {
            Shape::Scalar => &[],
            Shape::PerNeed => &[&NEED_NAMES],
            Shape::PerQuintile => &[&QUINTILE_NAMES],
            Shape::NeedByQuintile => &[&NEED_NAMES, &QUINTILE_NAMES],
        }
    }

    /// Number of scalar slots the value occupies.
    pub fn slot_count(self) -> usize {
        self.dims().iter().map(|d| d.len()).product()
    }

    /// A short human description used in messages and docs.
    pub fn describe(self) -> &'static str {
        match self {
            Shape::Scalar => "a number",
            Shape::PerNeed => {
                "6 numbers, one per need (loneliness, mental, money, housing, work, inactivity)"
            }
            Shape::PerQuintile => "5 numbers, one per deprivation quintile (q1 most deprived)",
            Shape::NeedByQuintile => "6 rows (one per need) of 5 numbers (one per quintile)",
        }
    }
}

/// Whether a parameter takes any real number in its range or only whole numbers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Real,
    Integer,
}

/// A Rust type that can hold a parameter value, and its flat slot form.
pub trait ParamValue: Copy {
    const SHAPE: Shape;
    const KIND: Kind;
    fn to_slots(&self) -> Vec<f64>;
    /// Builds the value from exactly `SHAPE.slot_count()` slots already checked for range and kind.
    fn from_slots(slots: &[f64]) -> Self;
}

impl ParamValue for f64 {
    const SHAPE: Shape = Shape::Scalar;
    const KIND: Kind = Kind::Real;
    fn to_slots(&self) -> Vec<f64> {
        vec![*self]
    }
    fn from_slots(slots: &[f64]) -> Self {
        slots[0]
    }
}

impl ParamValue for u32 {
    const SHAPE: Shape = Shape::Scalar;
    const KIND: Kind = Kind::Integer;
    fn to_slots(&self) -> Vec<f64> {
        vec![f64::from(*self)]
    }
    fn from_slots(slots: &[f64]) -> Self {
        slots[0] as u32
    }
}

impl ParamValue for [f64; NEED_COUNT] {
    const SHAPE: Shape = Shape::PerNeed;
    const KIND: Kind = Kind::Real;
    fn to_slots(&self) -> Vec<f64> {
        self.to_vec()
    }
    fn from_slots(slots: &[f64]) -> Self {
        std::array::from_fn(|i| slots[i])
    }
}

impl ParamValue for [u32; NEED_COUNT] {
    const SHAPE: Shape = Shape::PerNeed;
    const KIND: Kind = Kind::Integer;
    fn to_slots(&self) -> Vec<f64> {
        self.iter().map(|&v| f64::from(v)).collect()
    }
    fn from_slots(slots: &[f64]) -> Self {
        std::array::from_fn(|i| slots[i] as u32)
    }
}

impl ParamValue for [f64; 5] {
    const SHAPE: Shape = Shape::PerQuintile;
    const KIND: Kind = Kind::Real;
    fn to_slots(&self) -> Vec<f64> {
        self.to_vec()
    }
    fn from_slots(slots: &[f64]) -> Self {
        std::array::from_fn(|i| slots[i])
    }
}

impl ParamValue for [[f64; 5]; NEED_COUNT] {
    const SHAPE: Shape = Shape::NeedByQuintile;
    const KIND: Kind = Kind::Real;
    fn to_slots(&self) -> Vec<f64> {
        self.iter().flatten().copied().collect()
    }
    fn from_slots(slots: &[f64]) -> Self {
        std::array::from_fn(|k| std::array::from_fn(|q| slots[k * 5 + q]))
    }
}

/// Resolves a dotted element path (e.g. `["money", "q1"]`) to the range of slots it covers.
/// Returns `None` if a label is unknown or the path is deeper than the shape.
pub fn element_slots(shape: Shape, path: &[&str]) -> Option<std::ops::Range<usize>> {
    let dims = shape.dims();
    if path.len() > dims.len() {
        return None;
    }
    let mut start = 0;
    let mut stride = shape.slot_count();
    for (labels, label) in dims.iter().zip(path) {
        stride /= labels.len();
        let i = labels.iter().position(|l| l == label)?;
        start += i * stride;
    }
    Some(start..start + stride)
}

/// The label of slot `i` of a shape, e.g. `money.q1`; empty for a scalar.
pub fn slot_label(shape: Shape, mut i: usize) -> String {
    let dims = shape.dims();
    let mut stride = shape.slot_count();
    let mut parts = Vec::with_capacity(dims.len());
    for labels in dims {
        stride /= labels.len();
        parts.push(labels[i / stride]);
        i %= stride;
    }
    parts.join(".")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn element_paths_cover_the_right_slots() {
        assert_eq!(element_slots(Shape::Scalar, &[]), Some(0..1));
        assert_eq!(element_slots(Shape::PerNeed, &["money"]), Some(2..3));
        assert_eq!(
            element_slots(Shape::NeedByQuintile, &["money"]),
            Some(10..15)
        );
        assert_eq!(
            element_slots(Shape::NeedByQuintile, &["money", "q2"]),
            Some(11..12)
        );
        assert_eq!(element_slots(Shape::PerNeed, &["debt"]), None);
        assert_eq!(element_slots(Shape::PerNeed, &["money", "q1"]), None);
        assert_eq!(slot_label(Shape::NeedByQuintile, 11), "money.q2");
        assert_eq!(slot_label(Shape::Scalar, 0), "");
    }
}
