//! The parameter registry: every model parameter is declared exactly once, below, with its
//! documentation, unit, valid range, default and source. The typed [`Params`] struct the model
//! reads, scenario validation, `sprx params`, the scenario template and the parameter tables in
//! `docs/` are all generated from this one declaration.

mod labels;
mod presets;
mod value;

pub use labels::{NEED_COUNT, NEED_NAMES, QUINTILE_COUNT, QUINTILE_NAMES};
pub use presets::{PRESET_PARAMS, Preset};
pub use value::{Kind, ParamValue, Shape, element_slots, slot_label};

/// Whether a parameter acts before the service starts (initialisation and the warm-up patient
/// processes) or only once social prescribing runs. Arms whose population-stage values are equal
/// share one warm-up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stage {
    Population,
    Service,
}

/// One registry entry.
pub struct ParamDef {
    pub name: &'static str,
    /// The symbol used in MODEL.md, for readers comparing the two.
    pub symbol: &'static str,
    pub doc: &'static str,
    pub unit: &'static str,
    pub shape: Shape,
    pub kind: Kind,
    /// Inclusive bounds that apply to every element.
    pub min: f64,
    pub max: f64,
    pub source: &'static str,
    pub stage: Stage,
    pub get: fn(&Params) -> Vec<f64>,
    pub set: fn(&mut Params, &[f64]),
}

impl ParamDef {
    /// Default value as slots.
    pub fn default_slots(&self) -> Vec<f64> {
        (self.get)(&Params::default())
    }

    /// Checks one element against kind and range; the error says what is allowed.
    pub fn check_element(&self, v: f64) -> Result<(), String> {
        if !v.is_finite() {
            return Err(format!("expected a finite number, got {v}"));
        }
        if self.kind == Kind::Integer && v.fract() != 0.0 {
            return Err(format!("expected a whole number, got {v}"));
        }
        if v < self.min || v > self.max {
            return Err(format!(
                "{v} is out of range: allowed {}",
                format_range(self.min, self.max)
            ));
        }
        Ok(())
    }

    /// The valid range as text, e.g. `0 ..= 1`.
    pub fn range_text(&self) -> String {
        format_range(self.min, self.max)
    }
}

fn format_range(min: f64, max: f64) -> String {
    format!("{} ..= {}", fmt_num(min), fmt_num(max))
}

/// Formats a number the way a user would type it (no trailing `.0` on whole numbers).
pub fn fmt_num(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        format!("{v}")
    }
}

/// Looks a parameter up by name.
pub fn find(name: &str) -> Option<&'static ParamDef> {
    REGISTRY.iter().find(|d| d.name == name)
}

/// The registered name closest to `name`, for "did you mean" messages.
pub fn nearest(name: &str) -> Option<&'static str> {
    nearest_name(name, REGISTRY.iter().map(|d| d.name))
}

/// The candidate closest to `name` by edit distance, if it is close enough to be a likely typo.
pub fn nearest_name<'a>(name: &str, candidates: impl Iterator<Item = &'a str>) -> Option<&'a str> {
    candidates
        .map(|c| (strsim::damerau_levenshtein(name, c), c))
        .filter(|(d, c)| *d <= (c.len().max(name.len()) / 3).max(2))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

macro_rules! declare_params {
    ($(
        $(#[doc = $doc:literal])+
        $name:ident : $ty:ty = $default:expr ;
            symbol $sym:literal, unit $unit:literal, range $min:literal ..= $max:literal,
            stage $stage:ident, source $src:literal ;
    )*) => {
        /// Every model parameter, typed. Built from the registry defaults, then presets and
        /// scenario overrides (see the `scenario` module). Field docs give unit and meaning.
        #[derive(Clone, Debug, PartialEq)]
        pub struct Params {
            $( $(#[doc = $doc])+ pub $name: $ty, )*
        }

        impl Default for Params {
            fn default() -> Self {
                Params { $( $name: $default, )* }
            }
        }

        /// The registry, in declaration order.
        pub static REGISTRY: &[ParamDef] = &[
            $( ParamDef {
                name: stringify!($name),
                symbol: $sym,
                doc: concat!($($doc, " "),+),
                unit: $unit,
                shape: <$ty as ParamValue>::SHAPE,
                kind: <$ty as ParamValue>::KIND,
                min: $min as f64,
                max: $max as f64,
                source: $src,
                stage: Stage::$stage,
                get: |p: &Params| p.$name.to_slots(),
                set: |p: &mut Params, s: &[f64]| p.$name = <$ty as ParamValue>::from_slots(s),
            }, )*
        ];
    };
}

declare_params! {
    // ---- Population (§5 initialisation) -------------------------------------------------
    /// Share of patients in each deprivation quintile (must sum to 1).
    deprivation_shares: [f64; 5] = [0.2; 5];
        symbol "deprivation_shares", unit "share", range 0 ..= 1,
        stage Population, source "MODEL.md §5: national quintiles, equal shares";
    /// Shape of the Gamma distribution of frailty (consultation propensity, mean 1).
    frailty_shape: f64 = 1.5;
        symbol "frailty_shape", unit "Gamma shape", range 0.05 ..= 100,
        stage Population, source "MODEL.md §5 (assumed)";
    /// Mean capacity (time, money, caring duties, transport) by quintile; Beta-distributed.
    capacity_mean: [f64; 5] = [0.45, 0.55, 0.65, 0.72, 0.80];
        symbol "capacity_mean[q]", unit "0-1 scale", range 0.01 ..= 0.99,
        stage Population, source "MODEL.md §5 (assumed gradient)";
    /// Concentration (α+β) of the Beta distribution of capacity.
    capacity_concentration: f64 = 6.0;
        symbol "concentration 6", unit "Beta α+β", range 0.1 ..= 1000,
        stage Population, source "MODEL.md §5 (assumed)";
    /// Mean baseline activation (patient activation, 0-1) by quintile; Beta-distributed.
    activation_mean: [f64; 5] = [0.42, 0.47, 0.52, 0.56, 0.60];
        symbol "activation_mean[q]", unit "0-1 scale", range 0.01 ..= 0.99,
        stage Population, source "MODEL.md §5 (assumed gradient)";
    /// Concentration (α+β) of the Beta distribution of baseline activation.
    activation_concentration: f64 = 5.0;
        symbol "concentration 5", unit "Beta α+β", range 0.1 ..= 1000,
        stage Population, source "MODEL.md §5 (assumed)";
    /// Mean of the baseline wellbeing distribution (before needs).
    wellbeing_base_mean: f64 = 53.0;
        symbol "wellbeing_base_mean", unit "WEMWBS points", range 14 ..= 70,
        stage Population, source "MODEL.md §5; Health Survey for England 2016";
    /// Standard deviation of baseline wellbeing.
    wellbeing_base_sd: f64 = 7.0;
        symbol "wellbeing_base_sd", unit "WEMWBS points", range 0 ..= 30,
        stage Population, source "MODEL.md §5; Health Survey for England 2016";
    /// Standard deviation of the initial deviation of wellbeing from its target.
    wellbeing_init_sd: f64 = 3.0;
        symbol "Normal(0, 3)", unit "WEMWBS points", range 0 ..= 30,
        stage Population, source "MODEL.md §5 (assumed)";

    // ---- Needs (§6.1) -------------------------------------------------------------------
    /// Population prevalence π of each need type.
    need_prevalence: [f64; 6] = [0.07, 0.15, 0.12, 0.05, 0.06, 0.25];
        symbol "π", unit "share of patients", range 0 ..= 0.95,
        stage Population, source "MODEL.md §6.1: loneliness Community Life Survey; others assumed";
    /// Mean duration D of an episode of each need type.
    need_duration_weeks: [f64; 6] = [52.0, 26.0, 39.0, 78.0, 52.0, 104.0];
        symbol "D", unit "weeks", range 1 ..= 5200,
        stage Population, source "MODEL.md §6.1 (assumed)";
    /// Deprivation multiplier m[q] of each need's onset hazard.
    need_deprivation_multiplier: [[f64; 5]; 6] = [
        [1.4, 1.2, 1.0, 0.8, 0.6],
        [1.4, 1.2, 1.0, 0.85, 0.7],
        [2.2, 1.5, 1.0, 0.6, 0.3],
        [2.0, 1.4, 1.0, 0.6, 0.4],
        [1.8, 1.3, 1.0, 0.7, 0.5],
        [1.3, 1.1, 1.0, 0.9, 0.8],
    ];
        symbol "m[q]", unit "multiplier", range 0 ..= 20,
        stage Population, source "MODEL.md §6.1: money gradient FCA Financial Lives; others assumed";
    /// Wellbeing penalty d while a need is present.
    need_wellbeing_penalty: [f64; 6] = [5.0, 7.0, 4.0, 4.0, 3.0, 2.0];
        symbol "d", unit "WEMWBS points", range 0 ..= 56,
        stage Population, source "MODEL.md §6.1 (assumed)";
    /// Weekly probability u that a present need causes a social GP consultation (× frailty).
    need_gp_uplift: [f64; 6] = [0.012, 0.030, 0.010, 0.010, 0.006, 0.004];
        symbol "u", unit "per week", range 0 ..= 1,
        stage Population, source "MODEL.md §6.1 (assumed; checked against the ≈20% social share)";
    /// Extra weekly resolution hazard e of a need while attending an asset of its category (× capacity).
    asset_effect: [f64; 6] = [0.06, 0.05, 0.08, 0.01, 0.015, 0.05];
        symbol "e", unit "per week", range 0 ..= 1,
        stage Service, source "MODEL.md §6.1 (assumed; structural needs low, seed 003)";
    /// Extra weekly resolution hazard of loneliness while attending any asset.
    e_social: f64 = 0.02;
        symbol "e_social", unit "per week", range 0 ..= 1,
        stage Service, source "MODEL.md §6.1 (assumed)";

    // ---- Wellbeing and activation (§6.2) -----------------------------------------------
    /// Wellbeing bonus while attending an asset.
    g_att: f64 = 3.0;
        symbol "g_att", unit "WEMWBS points", range 0 ..= 56,
        stage Service, source "MODEL.md §6.2 (assumed)";
    /// Weekly rate at which wellbeing moves towards its target.
    lambda_w: f64 = 0.1;
        symbol "λ_w", unit "per week", range 0 ..= 1,
        stage Population, source "MODEL.md §6.2 (assumed)";
    /// Weekly noise in wellbeing.
    sigma_w: f64 = 1.5;
        symbol "σ_w", unit "WEMWBS points", range 0 ..= 20,
        stage Population, source "MODEL.md §6.2 (assumed)";
    /// Wellbeing at or below which a patient counts as low wellbeing.
    low_wellbeing_threshold: f64 = 40.0;
        symbol "w ≤ 40", unit "WEMWBS points", range 14 ..= 70,
        stage Population, source "MODEL.md §6.2: WEMWBS probable-depression band";
    /// Weekly rate at which activation drifts back to the patient's baseline.
    activation_drift: f64 = 0.01;
        symbol "activation_drift", unit "per week", range 0 ..= 1,
        stage Population, source "MODEL.md §6.2 (assumed)";

    // ---- GP consultations (§6.3) -------------------------------------------------------
    /// Weekly probability of a medical GP consultation for frailty 1 in quintile 3.
    p_med0: f64 = 2.1 / 52.0;
        symbol "p_med0", unit "per week", range 0 ..= 0.95,
        stage Population, source "MODEL.md §6.3: NHS appointment data 2024 (≈2.6 GP-led per patient-year)";
    /// Deprivation gradient g[q] of medical consultations.
    p_med_gradient: [f64; 5] = [1.15, 1.08, 1.0, 0.93, 0.88];
        symbol "g[q]", unit "multiplier", range 0 ..= 10,
        stage Population, source "MODEL.md §6.3 (assumed)";
    /// Weekly probability of a social consultation from low wellbeing (not × frailty).
    u_low: f64 = 0.01;
        symbol "u_low", unit "per week", range 0 ..= 1,
        stage Population, source "MODEL.md §6.3 (assumed)";
    /// Consultation multiplier at activation 0; the factor is (intercept − slope·a).
    consult_activation_intercept: f64 = 1.1;
        symbol "1.1 − 0.2·a", unit "multiplier", range 0 ..= 5,
        stage Population, source "MODEL.md §6.3; Barker et al. 2018";
    /// Fall of the consultation multiplier from activation 0 to 1.
    consult_activation_slope: f64 = 0.2;
        symbol "1.1 − 0.2·a", unit "multiplier", range 0 ..= 5,
        stage Population, source "MODEL.md §6.3; Barker et al. 2018 (18% fewer GP contacts)";
    /// Cap on the weekly probability of a GP consultation.
    consult_p_max: f64 = 0.95;
        symbol "0.95", unit "probability", range 0 ..= 1,
        stage Population, source "MODEL.md §6.3";
    /// Relative fall in social consultations while a link worker supports the patient.
    holding_relief: f64 = 0.3;
        symbol "holding_relief", unit "share", range 0 ..= 1,
        stage Service, source "MODEL.md §6.3; seed 003 (link worker as anchor point)";

    // ---- Referral and acceptance (§6.4) ------------------------------------------------
    /// Initial GP buy-in: probability that a social consultation leads to a referral offer.
    buy_in0: f64 = 0.025;
        symbol "buy_in0", unit "probability", range 0 ..= 1,
        stage Service, source "MODEL.md §6.8 preset (assumed; seed 002)";
    /// Inappropriate-referral factor: offers on medical consultations w.p. b·inappropriate.
    inappropriate: f64 = 0.03;
        symbol "inappropriate", unit "multiplier", range 0 ..= 1,
        stage Service, source "MODEL.md §6.8 preset (assumed; seed 001)";
    /// Initial trust in the service (role clarity).
    trust0: f64 = 0.5;
        symbol "trust0", unit "0-1 scale", range 0 ..= 1,
        stage Service, source "MODEL.md §6.8 preset (assumed; seed 002)";
    /// Acceptance probability of an offer at trust 0.5.
    accept_base: f64 = 0.88;
        symbol "accept_base", unit "probability", range 0 ..= 1,
        stage Service, source "MODEL.md §6.4; Bu et al. 2025 (≈12% declined)";
    /// Change in acceptance probability per unit of trust.
    accept_trust: f64 = 0.3;
        symbol "accept_trust", unit "per unit trust", range 0 ..= 2,
        stage Service, source "MODEL.md §6.4 (assumed)";
    /// Weekly probability that a waiting patient with no trust gives up (× (1 − τ)).
    wait_dropout: f64 = 0.15;
        symbol "wait_dropout", unit "per week", range 0 ..= 1,
        stage Service, source "MODEL.md §6.4 (assumed; Bu et al. 2024 ≈90% reach)";
    /// Weeks after leaving the pathway (or declining) before a new offer is possible.
    cooldown_weeks: u32 = 26;
        symbol "cooldown_weeks", unit "weeks", range 0 ..= 520,
        stage Service, source "MODEL.md §2 (assumed)";

    // ---- Link workers and sessions (§6.5) ----------------------------------------------
    /// Link-worker posts per PCN.
    lw_per_pcn: u32 = 3;
        symbol "lw_per_pcn", unit "posts", range 0 ..= 100,
        stage Service, source "MODEL.md §5: ≈2.2 funded FTE per PCN in 2024 (2,781 FTE / 1,250 PCNs)";
    /// Link-worker FTE shared among the PCNs by an arm's `capitation` or `need` allocation
    /// (`lw_allocation`); 0 means the places' September 2022 total (`lw_per_pcn` per synthetic PCN).
    lw_total: f64 = 0.0;
        symbol "lw_total", unit "FTE", range 0 ..= 100000,
        stage Service, source "issue 8: NHS PCN workforce return, 30 September 2022, for the places selected";
    /// Caseload a link worker could hold with no other duties.
    caseload_max: u32 = 48;
        symbol "caseload_max", unit "patients", range 1 ..= 500,
        stage Service, source "MODEL.md §6.5; NHS England guidance (30-40 active)";
    /// Share of link-worker time lost to other tasks (role drift); caps the caseload.
    admin_share: f64 = 0.25;
        symbol "admin_share", unit "share", range 0 ..= 0.95,
        stage Service, source "MODEL.md §6.8 preset (assumed; seed 002)";
    /// Session quality of an unstressed link worker; quality is quality0/(1 + s).
    quality0: f64 = 0.8;
        symbol "quality0", unit "0-1 scale", range 0 ..= 1,
        stage Service, source "MODEL.md §6.5 (assumed)";
    /// Stress added to a link worker by each bounced inappropriate referral.
    bounce_stress: f64 = 0.02;
        symbol "bounce_stress", unit "stress units", range 0 ..= 10,
        stage Service, source "MODEL.md §6.5 (assumed; seed 001)";
    /// Relative fall in the practice's buy-in for each bounced referral.
    bounce_penalty: f64 = 0.005;
        symbol "bounce_penalty", unit "share", range 0 ..= 1,
        stage Service, source "MODEL.md §6.5 (assumed)";
    /// Trust gained per session, × quality × (1 − τ).
    trust_gain: f64 = 0.25;
        symbol "trust_gain", unit "share", range 0 ..= 1,
        stage Service, source "MODEL.md §6.5 (assumed)";
    /// Activation gained per session, × quality × τ × (1 − a).
    activation_gain: f64 = 0.03;
        symbol "activation_gain", unit "share", range 0 ..= 1,
        stage Service, source "MODEL.md §6.5 (assumed)";
    /// Probability per session of uncovering a medical need that costs a GP consultation.
    uncover: f64 = 0.03;
        symbol "uncover", unit "per session", range 0 ..= 1,
        stage Service, source "MODEL.md §6.5; seed 000 (unintended rise in GP demand)";
    /// Share of uncovered needs handled in the multidisciplinary team without a GP slot.
    mdt_share: f64 = 0.3;
        symbol "mdt_share", unit "share", range 0 ..= 1,
        stage Service, source "MODEL.md §6.8 preset (assumed)";
    /// Probability per session that a patient with no trust drops out (× (1 − τ)).
    session_dropout: f64 = 0.10;
        symbol "session_dropout", unit "per session", range 0 ..= 1,
        stage Service, source "MODEL.md §6.5 (assumed)";
    /// Scale of the uptake probability readiness = scale·τ·(floor + (1 − floor)·a)·c.
    readiness_scale: f64 = 0.2;
        symbol "readiness_scale", unit "probability", range 0 ..= 1,
        stage Service, source "MODEL.md §6.5; seed 003 (motivation × capacity); checked against ≈38% connected (Bu et al. 2024)";
    /// Part of readiness that does not depend on activation.
    readiness_activation_floor: f64 = 0.3;
        symbol "0.3 + 0.7·a", unit "share", range 0 ..= 1,
        stage Service, source "MODEL.md §6.5 (assumed)";
    /// Sessions after which an unconnected patient is discharged (unless held).
    sessions_max: u32 = 16;
        symbol "sessions_max", unit "sessions", range 1 ..= 200,
        stage Service, source "MODEL.md §6.5; NHS England guidance (6-12 contacts)";
    /// Probability that a link worker keeps holding an unconnected patient with a structural need.
    anchor: f64 = 0.3;
        symbol "anchor", unit "probability", range 0 ..= 1,
        stage Service, source "MODEL.md §6.8 preset (assumed; seed 003)";
    /// Maximum sessions in all for a held patient.
    anchor_sessions_max: u32 = 24;
        symbol "anchor_sessions_max", unit "sessions", range 1 ..= 500,
        stage Service, source "MODEL.md §6.5 (assumed)";

    // ---- Assets (§6.6) -----------------------------------------------------------------
    /// Community assets of each category per PCN at the start of the service.
    asset_count: [u32; 6] = [15, 8, 3, 2, 2, 10];
        symbol "asset_count[k]", unit "assets per PCN", range 0 ..= 1000,
        stage Service, source "MODEL.md §6.1 (assumed)";
    /// Smallest number of places of an asset.
    asset_capacity_min: u32 = 10;
        symbol "asset_capacity_min", unit "places", range 1 ..= 10000,
        stage Service, source "MODEL.md §5 (assumed)";
    /// Largest number of places of an asset.
    asset_capacity_max: u32 = 30;
        symbol "asset_capacity_max", unit "places", range 1 ..= 10000,
        stage Service, source "MODEL.md §5 (assumed)";
    /// Weeks a connected patient attends an asset.
    attend_weeks: u32 = 12;
        symbol "attend_weeks", unit "weeks", range 1 ..= 520,
        stage Service, source "MODEL.md §6.5 (assumed)";
    /// Weekly attendance probability at activation 0; it is base + slope·a.
    attend_prob_base: f64 = 0.5;
        symbol "0.5 + 0.4·a", unit "probability", range 0 ..= 1,
        stage Service, source "MODEL.md §6.6 (assumed)";
    /// Rise in weekly attendance probability from activation 0 to 1.
    attend_prob_activation: f64 = 0.4;
        symbol "0.5 + 0.4·a", unit "probability", range 0 ..= 1,
        stage Service, source "MODEL.md §6.6 (assumed)";
    /// Activation gained per week of attendance, × (1 − a).
    attend_activation: f64 = 0.02;
        symbol "attend_activation", unit "share", range 0 ..= 1,
        stage Service, source "MODEL.md §6.6 (assumed)";
    /// Weekly closure probability of an asset (and, × asset_count, the opening rate).
    close_rate: f64 = 0.025 / 52.0;
        symbol "close_rate", unit "per week", range 0 ..= 1,
        stage Service, source "MODEL.md §6.6: Charity Commission (≈2.5% of charities leave the register a year)";
    /// Relative rise in the closure hazard of a full asset.
    overload_factor: f64 = 4.0;
        symbol "overload_factor", unit "multiplier", range 0 ..= 100,
        stage Service, source "MODEL.md §6.6 (assumed; seed 001)";
    /// Share of the closure hazard removed because funding follows the referral.
    funding_follows: f64 = 0.0;
        symbol "funding_follows", unit "share", range 0 ..= 1,
        stage Service, source "MODEL.md §6.6: seed 001, Skivington 2018 (no money follows the referral)";
    /// Probability that an occupant of a closing asset returns to the GP.
    closure_return: f64 = 0.3;
        symbol "closure_return", unit "probability", range 0 ..= 1,
        stage Service, source "MODEL.md §6.6 (assumed)";
    /// Facilitative infrastructure (asset mapping, community links): raises openings and learning.
    infra: f64 = 0.5;
        symbol "infra", unit "0-1 scale", range 0 ..= 1,
        stage Service, source "MODEL.md §6.8 preset (assumed; seed 002)";

    // ---- Link-worker wellbeing, turnover, knowledge; GP buy-in (§6.7) --------------------
    /// Queue pressure above which link-worker stress builds.
    stress_threshold: f64 = 0.25;
        symbol "P − 0.25", unit "queue per place", range 0 ..= 100,
        stage Service, source "MODEL.md §6.7 (assumed)";
    /// Weekly stress increase per unit of pressure above the threshold.
    stress_up: f64 = 0.05;
        symbol "stress_up", unit "stress units per week", range 0 ..= 10,
        stage Service, source "MODEL.md §6.7 (assumed)";
    /// Weekly relative stress recovery at full supervision.
    stress_down: f64 = 0.1;
        symbol "stress_down", unit "per week", range 0 ..= 1,
        stage Service, source "MODEL.md §6.7 (assumed)";
    /// Supervision and peer support (multiplies stress recovery).
    supervision: f64 = 0.5;
        symbol "supervision", unit "0-1 scale", range 0 ..= 1,
        stage Service, source "MODEL.md §6.8 preset (assumed; seed 002)";
    /// Weekly probability that an unstressed link worker leaves.
    turnover_base: f64 = 0.15 / 52.0;
        symbol "turnover_base", unit "per week", range 0 ..= 1,
        stage Service, source "MODEL.md §6.7 (assumed; ≈15% a year)";
    /// Extra weekly leaving probability per unit of stress.
    turnover_stress: f64 = 0.01;
        symbol "turnover_stress", unit "per week per stress unit", range 0 ..= 1,
        stage Service, source "MODEL.md §6.7 (assumed)";
    /// Weeks a post stays vacant after its link worker leaves.
    vacancy_weeks: u32 = 16;
        symbol "vacancy_weeks", unit "weeks", range 0 ..= 520,
        stage Service, source "MODEL.md §6.7 (assumed)";
    /// Share of the caseload's trust kept when a patient changes link worker.
    turnover_trust_retained: f64 = 0.7;
        symbol "τ ← 0.7·τ", unit "share", range 0 ..= 1,
        stage Service, source "MODEL.md §6.7 (assumed: continuity lost)";
    /// Knowledge of local assets of a new link worker (probability of finding a suitable asset).
    knowledge0: f64 = 0.5;
        symbol "knowledge0", unit "probability", range 0 ..= 1,
        stage Service, source "MODEL.md §5 (assumed)";
    /// Weekly knowledge growth, × (1 + infra) × (1 − κ).
    knowledge_gain: f64 = 0.01;
        symbol "knowledge_gain", unit "per week", range 0 ..= 1,
        stage Service, source "MODEL.md §6.7 (assumed)";
    /// Probability that a successful connection is fed back to the referring practice.
    feedback: f64 = 0.5;
        symbol "feedback", unit "probability", range 0 ..= 1,
        stage Service, source "MODEL.md §6.8 preset (assumed; seed 002: demonstrating effect)";
    /// Buy-in gain per fed-back connection, per 1,000 listed patients, × (1 − b).
    buy_in_gain: f64 = 0.001;
        symbol "buy_in_gain", unit "per connection per 1,000 listed", range 0 ..= 1,
        stage Service, source "MODEL.md §6.7 (assumed)";
    /// Weekly drift of buy-in back to buy_in0.
    buy_in_drift: f64 = 0.01;
        symbol "buy_in_drift", unit "per week", range 0 ..= 1,
        stage Service, source "MODEL.md §6.7 (assumed)";

    // ---- Costs (§7) ----------------------------------------------------------------------
    /// Cost of one GP consultation.
    gp_cost: f64 = 45.0;
        symbol "gp_cost", unit "GBP", range 0 ..= 10000,
        stage Service, source "MODEL.md §7: PSSRU unit costs (dated figure)";
    /// Cost of one filled link-worker post for a year.
    lw_cost: f64 = 38000.0;
        symbol "lw_cost", unit "GBP per post-year", range 0 ..= 1000000,
        stage Service, source "MODEL.md §7";

    // ---- §9.1 Frequent attenders and crises (v1.1; off by default) ------------------------
    /// Rise in the GP's offer probability per social consultation in the previous
    /// `recency_weeks` weeks: offers are made w.p. min(1, b·(1 + recency_gain·n_recent))
    /// (GPs refer the patients they keep seeing). 0 = off (v1.0).
    recency_gain: f64 = 0.0;
        symbol "recency_gain", unit "per recent social consultation", range 0 ..= 100,
        stage Service, source "MODEL.md §9.1 (assumed)";
    /// Weeks before this one in which social consultations count towards `n_recent`.
    recency_weeks: u32 = 12;
        symbol "recency_weeks", unit "weeks", range 1 ..= 63,
        stage Service, source "MODEL.md §9.1 (assumed)";
    /// Weekly probability that a patient not in crisis starts one (life events: bereavement,
    /// eviction notice, debt demand, job loss), × `m_crisis[q]`. 0 = off (v1.0).
    crisis_rate: f64 = 0.0;
        symbol "crisis_rate", unit "per week", range 0 ..= 1,
        stage Population, source "MODEL.md §9.1 (assumed)";
    /// Deprivation multiplier of the crisis onset probability.
    m_crisis: [f64; 5] = [1.6, 1.3, 1.0, 0.8, 0.6];
        symbol "m_crisis[q]", unit "multiplier", range 0 ..= 20,
        stage Population, source "MODEL.md §9.1 (assumed)";
    /// Length of every crisis: life events have a course, not a constant chance of ending.
    crisis_weeks: u32 = 12;
        symbol "crisis_weeks", unit "weeks", range 1 ..= 520,
        stage Population, source "MODEL.md §9.1 (assumed)";
    /// Fall in the wellbeing target while in crisis.
    crisis_penalty: f64 = 8.0;
        symbol "crisis_penalty", unit "WEMWBS points", range 0 ..= 56,
        stage Population, source "MODEL.md §9.1 (assumed)";
    /// Weekly probability of a social GP consultation added by a crisis (× frailty), before
    /// the activation factor and the holding relief.
    crisis_uplift: f64 = 0.06;
        symbol "crisis_uplift", unit "per week", range 0 ..= 1,
        stage Population, source "MODEL.md §9.1 (assumed)";
    /// Weeks from referral to the follow-up wellbeing measurement of evaluations (WEMWBS at
    /// first contact and at follow-up).
    eval_followup_weeks: u32 = 26;
        symbol "eval_followup_weeks", unit "weeks", range 1 ..= 520,
        stage Service, source "MODEL.md §9.1";

    // ---- §9.2 GP appointment capacity (v1.1; off by default) ----------------------------
    /// GP appointments each practice can deliver a year per 1,000 registered patients; 0 =
    /// unlimited (v1.0: demand is counted, not access). A binding value is about 2,550.
    gp_capacity_per_1000: f64 = 0.0;
        symbol "gp_capacity_per_1000", unit "appointments per 1,000 patients per year", range 0 ..= 100000,
        stage Service, source "MODEL.md §9.2 (assumed)";
    /// Share of the requests left over in a week that are abandoned (unmet demand) rather
    /// than carried into next week's backlog.
    gp_giveup: f64 = 0.3;
        symbol "gp_giveup", unit "share per week", range 0 ..= 1,
        stage Service, source "MODEL.md §9.2 (assumed)";

    // ---- §9.3 Referral routes beyond the GP (v1.1; off by default) ----------------------
    /// Weekly probability of a self-referral at full trust and activation (× τ·a), for an
    /// idle patient out of cooldown with a need and no GP consultation this week. 0 = off.
    self_referral: f64 = 0.0;
        symbol "self_referral", unit "per week", range 0 ..= 1,
        stage Service, source "MODEL.md §9.3 (assumed; Bu et al. 2024)";
    /// Weekly probability that another agency (housing officer, job centre, social care)
    /// refers an idle patient out of cooldown with a structural need and no GP consultation
    /// this week; the patient accepts as a GP referral. 0 = off.
    agency_referral: f64 = 0.0;
        symbol "agency_referral", unit "per week", range 0 ..= 1,
        stage Service, source "MODEL.md §9.3 (assumed; Bu et al. 2024)";
}

impl Params {
    /// Checks the rules that span several parameters. Each error names the keys involved.
    pub fn check_consistency(&self) -> Result<(), Vec<(&'static str, String)>> {
        let mut errors = Vec::new();
        let share_sum: f64 = self.deprivation_shares.iter().sum();
        if (share_sum - 1.0).abs() > 1e-6 {
            errors.push((
                "deprivation_shares",
                format!(
                    "the 5 shares must sum to 1, they sum to {}",
                    fmt_num((share_sum * 1e9).round() / 1e9)
                ),
            ));
        }
        if self.asset_capacity_min > self.asset_capacity_max {
            errors.push((
                "asset_capacity_min",
                format!(
                    "must not exceed asset_capacity_max ({} > {})",
                    self.asset_capacity_min, self.asset_capacity_max
                ),
            ));
        }
        if self.anchor_sessions_max < self.sessions_max {
            errors.push((
                "anchor_sessions_max",
                format!(
                    "must be at least sessions_max ({} < {})",
                    self.anchor_sessions_max, self.sessions_max
                ),
            ));
        }
        if self.consult_activation_slope > self.consult_activation_intercept {
            errors.push((
                "consult_activation_slope",
                "must not exceed consult_activation_intercept (the factor would go negative)"
                    .to_string(),
            ));
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }

    /// Whether GP appointments are limited (MODEL.md §9.2).
    pub fn gp_capacity_limited(&self) -> bool {
        self.gp_capacity_per_1000 > 0.0
    }

    /// Whether a referral route beyond the GP is open (MODEL.md §9.3).
    pub fn other_routes_open(&self) -> bool {
        self.self_referral > 0.0 || self.agency_referral > 0.0
    }

    /// The caseload cap of an active link worker, `floor(caseload_max·(1 − admin_share))`.
    pub fn caseload_cap(&self) -> usize {
        (f64::from(self.caseload_max) * (1.0 - self.admin_share)).floor() as usize
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_parameter_is_documented_with_unit_source_and_a_default_in_range() {
        let mut names = std::collections::HashSet::new();
        for def in REGISTRY {
            assert!(names.insert(def.name), "{} declared twice", def.name);
            assert!(!def.doc.trim().is_empty(), "{} has no doc", def.name);
            assert!(!def.unit.trim().is_empty(), "{} has no unit", def.name);
            assert!(!def.source.trim().is_empty(), "{} has no source", def.name);
            assert!(def.min <= def.max, "{} has an empty range", def.name);
            let slots = def.default_slots();
            assert_eq!(slots.len(), def.shape.slot_count(), "{}", def.name);
            for v in slots {
                def.check_element(v)
                    .unwrap_or_else(|e| panic!("default of {}: {e}", def.name));
            }
        }
        Params::default()
            .check_consistency()
            .expect("defaults are consistent");
    }

    #[test]
    fn set_then_get_round_trips_every_parameter() {
        for def in REGISTRY {
            let mut p = Params::default();
            let mut slots = def.default_slots();
            slots[0] = def.max;
            (def.set)(&mut p, &slots);
            assert_eq!((def.get)(&p), slots, "{}", def.name);
        }
    }
}
