//! Arm presets: the counterfactual with no social prescribing and the three integration levels
//! of link workers into general practice (MODEL.md §6.8: bolted on, fitting in, belonging).

use super::Params;

/// The parameters an integration-level preset sets (MODEL.md §6.8).
pub const PRESET_PARAMS: [&str; 9] = [
    "buy_in0",
    "inappropriate",
    "trust0",
    "feedback",
    "admin_share",
    "supervision",
    "mdt_share",
    "anchor",
    "infra",
];

/// A named starting point for an arm.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Preset {
    /// No link-worker service at all: no referrals, no link workers, assets as initialised.
    NoSp,
    BoltedOn,
    FittingIn,
    Belonging,
}

impl Preset {
    pub const ALL: [Preset; 4] = [
        Preset::NoSp,
        Preset::BoltedOn,
        Preset::FittingIn,
        Preset::Belonging,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Preset::NoSp => "no_sp",
            Preset::BoltedOn => "bolted_on",
            Preset::FittingIn => "fitting_in",
            Preset::Belonging => "belonging",
        }
    }

    pub fn from_name(name: &str) -> Option<Preset> {
        Preset::ALL.into_iter().find(|p| p.name() == name)
    }

    /// Whether arms with this preset run the link-worker service.
    pub fn has_service(self) -> bool {
        self != Preset::NoSp
    }

    /// Values of [`PRESET_PARAMS`], in that order; `None` for no_sp, which keeps the defaults
    /// (they are never used, as the arm has no service).
    pub fn values(self) -> Option<[f64; 9]> {
        match self {
            Preset::NoSp => None,
            Preset::BoltedOn => Some([0.02, 0.06, 0.35, 0.0, 0.10, 0.2, 0.0, 0.1, 0.0]),
            Preset::FittingIn => Some([0.025, 0.03, 0.50, 0.5, 0.25, 0.5, 0.3, 0.3, 0.5]),
            Preset::Belonging => Some([0.03, 0.01, 0.65, 1.0, 0.10, 1.0, 0.6, 0.5, 1.0]),
        }
    }

    /// Writes the preset's values into `params`.
    pub fn apply(self, params: &mut Params) {
        if let Some(values) = self.values() {
            for (name, value) in PRESET_PARAMS.iter().zip(values) {
                if let Some(def) = super::find(name) {
                    (def.set)(params, &[value]);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fitting_in_is_the_registry_default() {
        let mut p = Params::default();
        Preset::FittingIn.apply(&mut p);
        assert_eq!(p, Params::default());
    }

    #[test]
    fn preset_params_are_registered_scalars_and_values_in_range() {
        for preset in Preset::ALL {
            let Some(values) = preset.values() else {
                continue;
            };
            for (name, v) in PRESET_PARAMS.iter().zip(values) {
                let def = super::super::find(name).expect("preset parameter registered");
                assert_eq!(def.shape.slot_count(), 1);
                def.check_element(v).expect("preset value in range");
            }
        }
    }
}
