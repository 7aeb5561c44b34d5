//! Community assets (MODEL.md §6.6): groups, charities and advice services with a fixed number
//! of places; attendance, completion, closure and opening.

use rand::Rng;

use crate::params::{NEED_COUNT, Params};
use crate::rng::{EntityKind, Key, Purpose, unit_f64};

/// A connected patient's place at an asset.
#[derive(Clone, Copy, Debug)]
pub struct Occupant {
    pub patient: u32,
    /// Attendance draws still to come, counting this week's.
    pub weeks_left: u32,
}

#[derive(Clone, Debug)]
pub struct Asset {
    /// The need type this asset addresses.
    pub category: u8,
    /// Places.
    pub capacity: u32,
    /// Occupants in order of connection.
    pub occupants: Vec<Occupant>,
    /// Closed assets never reopen.
    pub open: bool,
}

impl Asset {
    pub fn free_places(&self) -> u32 {
        self.capacity.saturating_sub(self.occupants.len() as u32)
    }

    pub fn is_full(&self) -> bool {
        self.occupants.len() as u32 >= self.capacity
    }

    /// Gives the patient a place for `attend_weeks` weeks of attendance draws.
    pub fn admit(&mut self, patient: u32, attend_weeks: u32) {
        debug_assert!(self.free_places() > 0);
        self.occupants.push(Occupant {
            patient,
            weeks_left: attend_weeks,
        });
    }
}

/// A capacity drawn uniformly from `asset_capacity_min..=asset_capacity_max`.
pub fn draw_capacity(u: f64, p: &Params) -> u32 {
    let span = p.asset_capacity_max - p.asset_capacity_min + 1;
    p.asset_capacity_min + ((u * f64::from(span)) as u32).min(span - 1)
}

/// Registered patients of the reference PCN that `asset_count` describes (MODEL.md §5, v1.1).
pub const REFERENCE_PCN_PATIENTS: f64 = 48_000.0;

/// Assets of one category in a PCN of `patients` registered patients:
/// `round(asset_count·N/48,000)`, half away from zero (MODEL.md §5, v1.1), so a PCN of 48,000
/// has exactly `asset_count`, and community resources grow with the population they serve.
pub fn scaled_asset_count(count: u32, patients: u64) -> u32 {
    // `f64::round` rounds half away from zero; the product is exact for any realistic PCN.
    (f64::from(count) * patients as f64 / REFERENCE_PCN_PATIENTS).round() as u32
}

/// Each category's assets in a PCN of `patients` (see [`scaled_asset_count`]).
pub fn scaled_asset_counts(p: &Params, patients: u64) -> [u32; NEED_COUNT] {
    p.asset_count
        .map(|count| scaled_asset_count(count, patients))
}

/// The PCN's assets at the start of the service: `counts[k]` of each category (the PCN's
/// scaled `asset_count`), in category order, each with its own capacity draw.
pub fn initial_assets(pcn: Key, counts: &[u32; NEED_COUNT], p: &Params) -> Vec<Asset> {
    let mut assets = Vec::new();
    for (k, &count) in counts.iter().enumerate() {
        for _ in 0..count {
            let index = assets.len() as u64;
            let mut rng = pcn
                .entity(EntityKind::Asset, index)
                .stream(Purpose::AssetInit, 0);
            assets.push(Asset {
                category: k as u8,
                capacity: draw_capacity(unit_f64(rng.next_u64()), p),
                occupants: Vec::new(),
                open: true,
            });
        }
    }
    assets
}

/// The link worker's candidate for a need: the open asset of that category with the most free
/// places (at least one), the lower index winning ties. `None` records a *no capacity* event.
pub fn find_asset(assets: &[Asset], category: usize) -> Option<usize> {
    let mut best: Option<(usize, u32)> = None;
    for (i, a) in assets.iter().enumerate() {
        if !a.open || usize::from(a.category) != category {
            continue;
        }
        let free = a.free_places();
        if free >= 1 && best.is_none_or(|(_, f)| free > f) {
            best = Some((i, free));
        }
    }
    best.map(|(i, _)| i)
}

/// Indices of the assets of each category, ascending: where a link worker looks for one.
pub type ByCategory = [Vec<u32>; NEED_COUNT];

/// The [`ByCategory`] index of `assets`.
pub fn by_category(assets: &[Asset]) -> ByCategory {
    let mut index = ByCategory::default();
    for (i, asset) in assets.iter().enumerate() {
        index[usize::from(asset.category)].push(i as u32);
    }
    index
}

/// [`find_asset`] among `candidates`, the ascending indices of every asset of the category
/// ([`ByCategory`]): the same candidate, without looking at the other categories' assets.
pub fn find_asset_among(assets: &[Asset], candidates: &[u32]) -> Option<usize> {
    let mut best: Option<(usize, u32)> = None;
    for &i in candidates {
        let a = &assets[i as usize];
        if !a.open {
            continue;
        }
        let free = a.free_places();
        if free >= 1 && best.is_none_or(|(_, f)| free > f) {
            best = Some((i as usize, free));
        }
    }
    best.map(|(i, _)| i)
}

/// Weekly attendance probability before the clamp: `attend_prob_base + attend_prob_activation·a`
/// (MODEL.md §6.6: 0.5 + 0.4·a). Valid parameters allow up to 2: the clamp makes attendance
/// certain there.
pub fn raw_attendance_probability(activation: f64, p: &Params) -> f64 {
    p.attend_prob_base + p.attend_prob_activation * activation
}

/// Weekly probability that a connected patient with activation `a` attends.
pub fn attendance_probability(activation: f64, p: &Params) -> f64 {
    raw_attendance_probability(activation, p).clamp(0.0, 1.0)
}

/// Weekly closure probability before the clamp:
/// `close_rate·(1 + overload_factor·[full])·(1 − funding_follows)`. Valid parameters allow up
/// to 101 (a full asset at `close_rate` 1): the clamp makes closure certain there.
pub fn raw_closure_probability(full: bool, p: &Params) -> f64 {
    let overload = if full { 1.0 + p.overload_factor } else { 1.0 };
    p.close_rate * overload * (1.0 - p.funding_follows)
}

/// Weekly closure probability: `close_rate·(1 + overload_factor·[full])·(1 − funding_follows)`.
pub fn closure_probability(full: bool, p: &Params) -> f64 {
    raw_closure_probability(full, p).clamp(0.0, 1.0)
}

/// Weekly opening probability of an asset of a category of which the PCN started with `count`
/// (its scaled `asset_count[k]`), before the clamp: `count·close_rate·(1 + infra)`, so openings
/// balance closures at the PCN's own size. It exceeds 1 for valid parameters (many assets, a
/// high closure rate): the clamp makes an opening certain there.
pub fn raw_opening_probability(count: u32, p: &Params) -> f64 {
    f64::from(count) * p.close_rate * (1.0 + p.infra)
}

/// Weekly probability that a new asset opens in a category the PCN started with `count` of:
/// `count·close_rate·(1 + infra)`.
pub fn opening_probability(count: u32, p: &Params) -> f64 {
    raw_opening_probability(count, p).clamp(0.0, 1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn asset(category: u8, capacity: u32, occupied: u32, open: bool) -> Asset {
        Asset {
            category,
            capacity,
            occupants: (0..occupied)
                .map(|i| Occupant {
                    patient: i,
                    weeks_left: 1,
                })
                .collect(),
            open,
        }
    }

    #[test]
    fn the_candidate_has_most_free_places_and_ties_go_to_the_lower_index() {
        let assets = vec![
            asset(1, 10, 5, true),
            asset(2, 30, 0, true),
            asset(1, 12, 7, true),
            asset(1, 20, 15, true),
            asset(1, 40, 0, false),
        ];
        assert_eq!(find_asset(&assets, 1), Some(0));
        assert_eq!(find_asset(&assets, 2), Some(1));
        assert_eq!(find_asset(&assets, 3), None);
        let full = vec![asset(0, 10, 10, true)];
        assert_eq!(find_asset(&full, 0), None);
    }

    #[test]
    fn looking_among_a_category_finds_what_looking_everywhere_finds() {
        let assets: Vec<Asset> = (0..60u32)
            .map(|i| asset((i * 7 % 6) as u8, 5 + i % 4, i % 5, i % 9 != 3))
            .collect();
        let index = by_category(&assets);
        for (k, candidates) in index.iter().enumerate() {
            assert!(candidates.windows(2).all(|w| w[0] < w[1]));
            assert_eq!(
                find_asset_among(&assets, candidates),
                find_asset(&assets, k)
            );
        }
    }

    #[test]
    fn assets_scale_with_registered_patients_rounding_half_away_from_zero() {
        let p = Params::default();
        assert_eq!(scaled_asset_counts(&p, 48_000), p.asset_count);
        assert_eq!(
            scaled_asset_counts(&p, 96_000),
            p.asset_count.map(|c| 2 * c)
        );
        // 15 × 8,000 / 48,000 = 2.5 → 3; 3 × 8,000 / 48,000 = 0.5 → 1; 2 × 8,000 / 48,000 = 0.33 → 0.
        assert_eq!(scaled_asset_count(15, 8_000), 3);
        assert_eq!(scaled_asset_count(3, 8_000), 1);
        assert_eq!(scaled_asset_count(2, 8_000), 0);
        assert_eq!(scaled_asset_count(10, 0), 0);
    }

    #[test]
    fn the_opening_rate_uses_the_pcn_own_count() {
        let p = Params::default();
        let reference = raw_opening_probability(p.asset_count[0], &p);
        let double = raw_opening_probability(scaled_asset_count(p.asset_count[0], 96_000), &p);
        assert!((double - 2.0 * reference).abs() < 1e-15);
        assert_eq!(opening_probability(0, &p), 0.0);
    }

    #[test]
    fn capacity_draws_cover_the_range() {
        let p = Params::default();
        assert_eq!(draw_capacity(0.0, &p), 10);
        assert_eq!(draw_capacity(0.999_999, &p), 30);
        let mut seen = std::collections::BTreeSet::new();
        for i in 0..1000 {
            seen.insert(draw_capacity(f64::from(i) / 1000.0, &p));
        }
        assert_eq!(seen.len(), 21);
    }
}
