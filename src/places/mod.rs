//! England as it is: every open GP practice in a primary care network (PCN), with its ICB and
//! NHS England region, list size, rurality and IMD 2019 deprivation score, and each PCN's
//! link-worker FTE as reported in September 2022.
//!
//! The tables in `data/places/` are derived from three official files (see [`SOURCES`]) by
//! [`derive`], committed, and embedded in the binary, so that `sprx` knows England without the
//! raw files. [`TABLES_SHA256`] identifies them for run manifests. `docs/places.md` describes the
//! columns, which practices are kept, and the deprivation-mix assumption of [`deprivation`].

pub mod deprivation;
pub mod derive;
mod error;
pub mod provenance;
mod sheet;
pub mod stats;
pub mod table;
pub mod user;

use std::collections::BTreeMap;
use std::sync::OnceLock;

pub use deprivation::DeprivationModel;
pub use error::PlacesError;
pub use provenance::{ATTRIBUTION, Derivation, SOURCES, Source, TABLES_SHA256};

use crate::params::QUINTILE_COUNT;

/// Urban or rural, as NHS England classifies the practice.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rurality {
    Urban,
    Rural,
}

impl Rurality {
    pub fn as_str(self) -> &'static str {
        match self {
            Rurality::Urban => "Urban",
            Rurality::Rural => "Rural",
        }
    }

    pub fn parse(text: &str) -> Option<Rurality> {
        match text {
            "Urban" => Some(Rurality::Urban),
            "Rural" => Some(Rurality::Rural),
            _ => None,
        }
    }
}

/// A GP practice.
#[derive(Clone, Debug, PartialEq)]
pub struct Practice {
    pub code: String,
    pub name: String,
    /// Index into [`Places::pcns`].
    pub pcn: usize,
    /// Index into [`Places::icbs`]: the ICB of the practice's own sub-ICB location, which for a
    /// few PCNs differs from the PCN's ICB.
    pub icb: usize,
    /// Registered patients: a quarterly average over 2022/23, so it can be fractional.
    pub patients: f64,
    /// Patients weighted by the Carr-Hill formula, the base of capitation payments.
    pub weighted_patients: f64,
    pub rurality: Rurality,
    /// IMD 2019 score of the practice's patients (higher = more deprived); `None` when the
    /// practice is not in the Fingertips file (mostly practices opened since 2019).
    pub imd_2019: Option<f64>,
}

/// A primary care network.
#[derive(Clone, Debug, PartialEq)]
pub struct Pcn {
    pub code: String,
    pub name: String,
    /// Index into [`Places::icbs`]: the ICB holding most of the PCN's patients.
    pub icb: usize,
    /// Social prescribing link-worker FTE employed by or through the PCN, 30 September 2022.
    /// `None` when the PCN made no workforce return: unknown, which is not zero.
    pub lw_fte: Option<f64>,
    /// Indices into [`Places::practices`], in table order.
    pub practices: Vec<usize>,
}

/// An integrated care board.
#[derive(Clone, Debug, PartialEq)]
pub struct Icb {
    pub code: String,
    pub name: String,
    /// Index into [`Places::regions`].
    pub region: usize,
}

/// An NHS England commissioning region, under its short name ("London").
#[derive(Clone, Debug, PartialEq)]
pub struct Region {
    pub code: String,
    pub name: String,
}

/// The places table, with the links between its levels resolved.
#[derive(Clone, Debug, PartialEq)]
pub struct Places {
    pub practices: Vec<Practice>,
    pub pcns: Vec<Pcn>,
    pub icbs: Vec<Icb>,
    pub regions: Vec<Region>,
    deprivation: DeprivationModel,
    /// Link-worker FTE per registered patient for a PCN of unknown FTE when no PCN of this
    /// table reported: England's rate for a user's table; `None` for England itself.
    fallback_lw_fte_per_patient: Option<f64>,
}

impl Places {
    /// Links practices to their PCNs and calibrates the deprivation model on the practices'
    /// scores (England's table: its practices are the nation). The PCNs' practice lists are
    /// rebuilt here.
    pub fn new(
        practices: Vec<Practice>,
        pcns: Vec<Pcn>,
        icbs: Vec<Icb>,
        regions: Vec<Region>,
    ) -> Places {
        let deprivation = DeprivationModel::calibrate(
            practices
                .iter()
                .filter_map(|p| p.imd_2019.map(|score| (score, p.patients))),
        );
        Places::with_deprivation(practices, pcns, icbs, regions, deprivation)
    }

    /// Links practices to their PCNs, ranking their IMD scores with `deprivation`. A user's
    /// few practices cannot say where England's quintiles fall (MODEL.md's quintiles are
    /// national), so their table takes England's model: `Places::england()?.deprivation()`.
    pub fn with_deprivation(
        practices: Vec<Practice>,
        mut pcns: Vec<Pcn>,
        icbs: Vec<Icb>,
        regions: Vec<Region>,
        deprivation: DeprivationModel,
    ) -> Places {
        for pcn in &mut pcns {
            pcn.practices.clear();
        }
        for (i, practice) in practices.iter().enumerate() {
            if let Some(pcn) = pcns.get_mut(practice.pcn) {
                pcn.practices.push(i);
            }
        }
        Places {
            practices,
            pcns,
            icbs,
            regions,
            deprivation,
            fallback_lw_fte_per_patient: None,
        }
    }

    /// These places with `rate` (FTE per registered patient) imputing unknown link-worker FTE
    /// when none of their PCNs reported: a user's table passes England's
    /// [`Places::lw_fte_per_patient`], so an unknown is never counted as 0.
    pub fn with_fallback_lw_fte_per_patient(mut self, rate: Option<f64>) -> Places {
        self.fallback_lw_fte_per_patient = rate;
        self
    }

    /// England, from the tables embedded in the binary (parsed once).
    pub fn england() -> Result<&'static Places, PlacesError> {
        static ENGLAND: OnceLock<Result<Places, PlacesError>> = OnceLock::new();
        ENGLAND
            .get_or_init(|| table::read(&table::TableFiles::embedded()))
            .as_ref()
            .map_err(Clone::clone)
    }

    /// The fifth of England's PCNs (1 = most deprived) a PCN with this mean IMD score is in;
    /// `None` if the embedded table cannot be read.
    pub fn england_pcn_quintile(score: f64) -> Option<u8> {
        static CUTS: OnceLock<Option<stats::PcnQuintiles>> = OnceLock::new();
        CUTS.get_or_init(|| Places::england().ok().and_then(stats::PcnQuintiles::of))
            .as_ref()
            .map(|q| q.quintile(score))
    }

    /// The national deprivation model calibrated on these practices.
    pub fn deprivation(&self) -> &DeprivationModel {
        &self.deprivation
    }

    /// The quintile mix of a practice's patients (q1 most deprived … q5): from its IMD score,
    /// or, without one, from its PCN's patient-weighted mean score; an even mix when the PCN
    /// has no score either (see `docs/places.md`).
    pub fn practice_mix(&self, practice: usize) -> [f64; QUINTILE_COUNT] {
        let score = self
            .practices
            .get(practice)
            .and_then(|p| p.imd_2019.or_else(|| stats::pcn(self, p.pcn).mean_imd));
        match score {
            Some(score) => self.deprivation.mix(score),
            None => [1.0 / QUINTILE_COUNT as f64; QUINTILE_COUNT],
        }
    }

    /// The index of each PCN by code.
    pub fn pcn_index(&self) -> BTreeMap<&str, usize> {
        self.pcns
            .iter()
            .enumerate()
            .map(|(i, p)| (p.code.as_str(), i))
            .collect()
    }
}

/// Levels of the places table a scenario can select by.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Level {
    Region,
    Icb,
    Pcn,
}

impl Places {
    /// The index at `level` whose code or name is `text`, ignoring case and surrounding space.
    pub fn find(&self, level: Level, text: &str) -> Option<usize> {
        let wanted = text.trim();
        let same = |code: &str, name: &str| {
            code.eq_ignore_ascii_case(wanted) || name.eq_ignore_ascii_case(wanted)
        };
        match level {
            Level::Region => self.regions.iter().position(|r| same(&r.code, &r.name)),
            Level::Icb => self.icbs.iter().position(|i| same(&i.code, &i.name)),
            Level::Pcn => self.pcns.iter().position(|p| same(&p.code, &p.name)),
        }
    }

    /// Every code and name at `level`, for "did you mean" suggestions.
    pub fn names(&self, level: Level) -> Vec<&str> {
        match level {
            Level::Region => self
                .regions
                .iter()
                .flat_map(|r| [r.code.as_str(), r.name.as_str()])
                .collect(),
            Level::Icb => self
                .icbs
                .iter()
                .flat_map(|i| [i.code.as_str(), i.name.as_str()])
                .collect(),
            Level::Pcn => self
                .pcns
                .iter()
                .flat_map(|p| [p.code.as_str(), p.name.as_str()])
                .collect(),
        }
    }

    /// The region of a PCN (through its ICB).
    pub fn pcn_region(&self, pcn: usize) -> Option<usize> {
        let icb = self.pcns.get(pcn)?.icb;
        self.icbs.get(icb).map(|i| i.region)
    }

    /// A PCN's link-worker FTE for the `as_is` allocation: as reported in September 2022, or,
    /// for a PCN that made no return, its patients times the FTE per patient of the reporting
    /// PCNs of its ICB (of the whole table if none in its ICB reported; of England if none in
    /// a user's table did). Imputing at the ICB's rate
    /// keeps local commissioning patterns and never counts an unknown as 0; it depends only on
    /// the national table, so a PCN gets the same FTE whatever else is selected.
    pub fn lw_fte_as_is(&self, pcn: usize) -> f64 {
        let Some(this) = self.pcns.get(pcn) else {
            return 0.0;
        };
        if let Some(fte) = this.lw_fte {
            return fte;
        }
        let patients = stats::pcn(self, pcn).patients;
        let rate = self
            .reporting_rate(|p| p.icb == this.icb)
            .or_else(|| self.lw_fte_per_patient())
            .or(self.fallback_lw_fte_per_patient);
        patients * rate.unwrap_or(0.0)
    }

    /// Link-worker FTE per registered patient over the PCNs that reported; `None` if none did.
    pub fn lw_fte_per_patient(&self) -> Option<f64> {
        self.reporting_rate(|_| true)
    }

    /// FTE per registered patient over the reporting PCNs for which `in_scope` holds.
    fn reporting_rate(&self, in_scope: impl Fn(&Pcn) -> bool) -> Option<f64> {
        let reporting = self
            .pcns
            .iter()
            .enumerate()
            .filter(|(_, p)| p.lw_fte.is_some() && in_scope(p))
            .map(|(i, _)| i);
        let totals = stats::over(self, reporting);
        (totals.patients > 0.0).then(|| totals.lw_fte_reported / totals.patients)
    }
}
