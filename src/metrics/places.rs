//! Results by place: the metrics of each PCN, and of PCNs grouped by ICB, region and PCN
//! deprivation quintile, from the engine's per-PCN tallies ([`PlaceTally`]).
//!
//! A group's metrics are formed from the *sum* of its PCNs' tallies, replicate by replicate,
//! then summarised across replicates, so that ratios are ratios of totals (an ICB's wait is
//! its referrals' mean wait, not a mean of PCN means). Metrics marked `additive` are totals
//! per year: a group's value is the sum of its PCNs', and all PCNs together give the run's
//! figure in `summary.json`.

use std::collections::BTreeMap;

use super::stats::Estimate;
use crate::engine::replicate::Staffing;
use crate::engine::runner::ReplicateOutcome;
use crate::engine::{PcnIdentity, PlaceTally, Plan};

/// What a place metric needs besides its tally.
pub struct PlaceContext {
    /// Registered patients of the place.
    pub patients: f64,
    pub weeks: u32,
    pub gp_cost: f64,
    pub lw_cost: f64,
}

impl PlaceContext {
    fn years(&self) -> f64 {
        f64::from(self.weeks) / 52.0
    }

    fn per_year(&self, count: f64) -> f64 {
        count / self.years()
    }

    fn per_1000_per_year(&self, count: f64) -> f64 {
        ratio(count * 1000.0, self.patients * self.years())
    }

    fn lw_cost_per_year(&self, t: &PlaceTally) -> f64 {
        self.per_year(t.lw_fte_weeks * self.lw_cost / 52.0)
    }
}

/// One metric of a place, declared once with its unit and meaning.
pub struct PlaceMetric {
    pub name: &'static str,
    pub unit: &'static str,
    pub doc: &'static str,
    /// A total per year: places add up to their group, and all places to the run.
    pub additive: bool,
    pub value: fn(&PlaceTally, &PlaceContext) -> f64,
}

fn ratio(num: f64, den: f64) -> f64 {
    if den > 0.0 { num / den } else { f64::NAN }
}

macro_rules! place_metrics {
    ($( $name:literal, $unit:literal, $additive:literal, $doc:literal, |$t:ident, $c:ident| $e:expr; )*) => {
        &[ $( PlaceMetric { name: $name, unit: $unit, doc: $doc, additive: $additive, value: |$t: &PlaceTally, $c: &PlaceContext| $e }, )* ]
    };
}

/// Every place metric, in output order. Names shared with `summary.json`'s metrics have the
/// same definition, so the run's row equals the run's summary.
pub static PLACE_METRICS: &[PlaceMetric] = place_metrics! {
    "gp_consults_per_1000_per_year", "per 1,000 patients per year", false, "GP consultations of all kinds, generated ones included",
        |t, c| c.per_1000_per_year(t.consults as f64);
    "social_per_1000_per_year", "per 1,000 patients per year", false, "GP consultations driven mainly by non-medical needs",
        |t, c| c.per_1000_per_year(t.social as f64);
    "generated_per_1000_per_year", "per 1,000 patients per year", false, "GP consultations caused by the pathway",
        |t, c| c.per_1000_per_year(t.generated as f64);
    "referrals_accepted_per_1000_per_year", "per 1,000 patients per year", false, "referrals accepted by the patient",
        |t, c| c.per_1000_per_year(t.accepted as f64);
    "reached_lw_share", "share of accepted referrals", false, "referrals that had a first link-worker session",
        |t, _c| ratio(t.reached as f64, t.accepted as f64);
    "connected_share", "share of accepted referrals", false, "referrals that led to a connection with an asset",
        |t, _c| ratio(t.connected as f64, t.accepted as f64);
    "gave_up_share", "share of accepted referrals", false, "referrals whose patient gave up while waiting",
        |t, _c| ratio(t.gave_up as f64, t.accepted as f64);
    "wait_weeks_mean", "weeks", false, "wait from acceptance to first session, referrals that reached a link worker",
        |t, _c| ratio(t.wait_sum as f64, t.reached as f64);
    "vacancy_share", "share of post-weeks", false, "link-worker post-weeks vacant",
        |t, _c| ratio(t.lw_vacant as f64, (t.lw_vacant + t.lw_active) as f64);
    "wellbeing_mean", "WEMWBS points", false, "mean wellbeing over patients and weeks",
        |t, _c| ratio(t.wellbeing_sum, t.patient_weeks as f64);
    "low_wellbeing_share", "share of patient-weeks", false, "wellbeing at or below the low threshold",
        |t, _c| ratio(t.low_wellbeing as f64, t.patient_weeks as f64);
    "eval_effect_per_patient_year", "consultations per referred patient per year", false, "causal effect on GP consultations: change in the arm minus change in no_sp, per cohort patient",
        |t, _c| t.eval.as_ref().map_or(f64::NAN, |e| {
            let change = e.consults_after as f64 - e.consults_before as f64;
            let twin = e.twin_consults_after as f64 - e.twin_consults_before as f64;
            ratio(change - twin, e.cohort as f64)
        });
    "eval_wellbeing_effect", "WEMWBS points", false, "causal effect on the cohort's wellbeing",
        |t, _c| t.eval.as_ref().map_or(f64::NAN, |e| {
            ratio((e.wellbeing_after - e.wellbeing_before) - (e.twin_wellbeing_after - e.twin_wellbeing_before), e.cohort as f64)
        });
    "lw_cost_per_connected_gbp", "GBP per connected referral", false, "link-worker cost / referrals connected to an asset",
        |t, c| ratio(t.lw_fte_weeks * c.lw_cost / 52.0, t.connected as f64);
    "gp_consults_per_year", "consultations per year", true, "GP consultations of all kinds",
        |t, c| c.per_year(t.consults as f64);
    "referrals_accepted_per_year", "referrals per year", true, "referrals accepted by the patient",
        |t, c| c.per_year(t.accepted as f64);
    "connected_per_year", "referrals per year", true, "accepted referrals (by week of acceptance) that led to a connection",
        |t, c| c.per_year(t.connected as f64);
    "lw_cost_gbp_per_year", "GBP per year", true, "link-worker cost: filled post-weeks × FTE × lw_cost / 52",
        |t, c| c.lw_cost_per_year(t);
    "gp_cost_gbp_per_year", "GBP per year", true, "every GP consultation at gp_cost",
        |t, c| c.per_year(t.consults as f64 * c.gp_cost);
};

/// Index of a place metric by name.
pub fn place_metric_index(name: &str) -> Option<usize> {
    PLACE_METRICS.iter().position(|m| m.name == name)
}

/// How places are grouped.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum PlaceLevel {
    Pcn,
    Icb,
    Region,
    /// Fifths of England's PCNs by IMD score (1 = most deprived), see
    /// [`crate::engine::PcnIdentity::imd_quintile`].
    DeprivationQuintile,
    /// Every PCN of the run.
    All,
}

impl PlaceLevel {
    pub fn as_str(self) -> &'static str {
        match self {
            PlaceLevel::Pcn => "pcn",
            PlaceLevel::Icb => "icb",
            PlaceLevel::Region => "region",
            PlaceLevel::DeprivationQuintile => "pcn_imd_quintile",
            PlaceLevel::All => "all",
        }
    }
}

/// A set of the plan's PCNs reported together.
#[derive(Clone, Debug)]
pub struct PlaceGroup {
    pub level: PlaceLevel,
    pub code: String,
    pub name: String,
    /// The region of a PCN or ICB (empty otherwise).
    pub region: String,
    /// Indices into the plan's PCNs.
    pub pcns: Vec<usize>,
    pub patients: u64,
    pub weighted_patients: f64,
    /// Patient-weighted mean IMD score over PCNs with one.
    pub imd_score: Option<f64>,
    /// Who the PCN is, for a real PCN's own group.
    pub identity: Option<PcnIdentity>,
}

/// One arm's results for a place group.
#[derive(Clone, Debug)]
pub struct PlaceArm {
    /// Link-worker FTE the arm's allocation gives the group's PCNs.
    pub lw_posts: f64,
    /// Per replicate, every [`PLACE_METRICS`] value.
    pub values: Vec<Vec<f64>>,
    pub estimates: Vec<Estimate>,
    /// arm − baseline, replicate by replicate; `None` for the baseline.
    pub paired: Option<Vec<Estimate>>,
}

/// A group with every arm's results, arms in plan order.
#[derive(Clone, Debug)]
pub struct PlaceResults {
    pub group: PlaceGroup,
    pub arms: Vec<PlaceArm>,
}

/// The PCNs of `plan` grouped at `level`, in order of first appearance (PCNs in plan order;
/// quintiles 1..=5). PCNs without an ICB, region or quintile (synthetic ones) are left out of
/// those levels.
pub fn groups(plan: &Plan, level: PlaceLevel) -> Vec<PlaceGroup> {
    let mut order: Vec<String> = Vec::new();
    let mut members: BTreeMap<String, (String, String, Vec<usize>)> = BTreeMap::new();
    for (i, pcn) in plan.pcns.iter().enumerate() {
        let id = pcn.identity.as_ref();
        let key = match level {
            PlaceLevel::Pcn => Some((
                id.map_or_else(|| format!("synthetic-{}", i + 1), |p| p.code.clone()),
                id.map_or_else(String::new, |p| p.name.clone()),
                id.map_or_else(String::new, |p| p.region.clone()),
            )),
            PlaceLevel::Icb => {
                id.map(|p| (p.icb_code.clone(), p.icb_name.clone(), p.region.clone()))
            }
            PlaceLevel::Region => id.map(|p| (p.region.clone(), p.region.clone(), String::new())),
            PlaceLevel::DeprivationQuintile => id
                .and_then(|p| p.imd_quintile)
                .map(|q| (q.to_string(), quintile_name(q).to_string(), String::new())),
            PlaceLevel::All => Some(("all".to_string(), "all PCNs".to_string(), String::new())),
        };
        let Some((code, name, region)) = key else {
            continue;
        };
        let entry = members.entry(code.clone()).or_insert_with(|| {
            order.push(code.clone());
            (name, region, Vec::new())
        });
        entry.2.push(i);
    }
    if level == PlaceLevel::DeprivationQuintile {
        order.sort();
    }
    order
        .into_iter()
        .filter_map(|code| {
            let (name, region, pcns) = members.remove(&code)?;
            Some(group(plan, level, code, name, region, pcns))
        })
        .collect()
}

fn group(
    plan: &Plan,
    level: PlaceLevel,
    code: String,
    name: String,
    region: String,
    pcns: Vec<usize>,
) -> PlaceGroup {
    let members = || pcns.iter().filter_map(|&i| plan.pcns.get(i));
    let patients = members().map(|p| p.patients()).sum();
    let weighted_patients = members().map(|p| p.weighted_patients).sum();
    let (score_sum, scored) = members()
        .filter_map(|p| Some((p.identity.as_ref()?.imd_score?, p.patients() as f64)))
        .fold((0.0, 0.0), |(s, w), (x, n)| (s + x * n, w + n));
    PlaceGroup {
        level,
        code,
        name,
        region,
        patients,
        weighted_patients,
        imd_score: (scored > 0.0).then(|| score_sum / scored),
        identity: match (level, pcns.as_slice()) {
            (PlaceLevel::Pcn, [only]) => plan.pcns.get(*only).and_then(|p| p.identity.clone()),
            _ => None,
        },
        pcns,
    }
}

/// "most deprived fifth" … "least deprived fifth".
pub fn quintile_name(q: u8) -> &'static str {
    match q {
        1 => "most deprived fifth of PCNs",
        2 => "second most deprived fifth",
        3 => "middle fifth",
        4 => "second least deprived fifth",
        _ => "least deprived fifth of PCNs",
    }
}

/// Every arm's results for each group: tallies summed over the group's PCNs replicate by
/// replicate, metrics of the sums, statistics across replicates, paired differences against
/// the plan's baseline arm.
pub fn place_results(
    plan: &Plan,
    staffing: &Staffing,
    outcomes: &[ReplicateOutcome],
    groups: Vec<PlaceGroup>,
) -> Vec<PlaceResults> {
    groups
        .into_iter()
        .map(|group| {
            let mut arms: Vec<PlaceArm> = plan
                .arms
                .iter()
                .enumerate()
                .map(|(a, arm)| {
                    let ctx = PlaceContext {
                        patients: group.patients as f64,
                        weeks: plan.weeks,
                        gp_cost: arm.params.gp_cost,
                        lw_cost: arm.params.lw_cost,
                    };
                    let values: Vec<Vec<f64>> = outcomes
                        .iter()
                        .map(|r| {
                            let tally = group_tally(r, a, &group.pcns);
                            PLACE_METRICS
                                .iter()
                                .map(|m| (m.value)(&tally, &ctx))
                                .collect()
                        })
                        .collect();
                    // An arm without the service has no posts, whatever its allocation says.
                    let lw_posts = match staffing.get(a) {
                        Some(fte) if arm.service => {
                            group.pcns.iter().filter_map(|&i| fte.get(i)).sum()
                        }
                        _ => 0.0,
                    };
                    PlaceArm {
                        lw_posts,
                        estimates: estimates(&values),
                        values,
                        paired: None,
                    }
                })
                .collect();
            pair_with_baseline(&mut arms, plan.baseline);
            PlaceResults { group, arms }
        })
        .collect()
}

/// One arm's tallies of one replicate summed over `pcns`, in PCN order.
fn group_tally(outcome: &ReplicateOutcome, arm: usize, pcns: &[usize]) -> PlaceTally {
    let mut sum = PlaceTally::default();
    for tally in pcns
        .iter()
        .filter_map(|&i| outcome.places.get(i).and_then(|arms| arms.get(arm)))
    {
        sum.add(tally);
    }
    sum
}

fn estimates(values: &[Vec<f64>]) -> Vec<Estimate> {
    (0..PLACE_METRICS.len())
        .map(|m| Estimate::from_samples(values.iter().map(|v| v[m])))
        .collect()
}

fn pair_with_baseline(arms: &mut [PlaceArm], baseline: usize) {
    let Some(base) = arms.get(baseline).map(|b| b.values.clone()) else {
        return;
    };
    for (a, arm) in arms.iter_mut().enumerate() {
        if a == baseline {
            continue;
        }
        arm.paired = Some(
            (0..PLACE_METRICS.len())
                .map(|m| {
                    let mine: Vec<f64> = arm.values.iter().map(|v| v[m]).collect();
                    let theirs: Vec<f64> = base.iter().map(|v| v[m]).collect();
                    Estimate::paired(&mine, &theirs)
                })
                .collect(),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::PcnPlan;
    use crate::engine::runner::run_replicates;
    use crate::metrics::summary::{MetricContext, metric_index, summarize};
    use crate::model::pcn::Layout;

    /// The reference arms on three synthetic PCNs of different sizes, long enough for an
    /// evaluation cohort, with 32 × the assets (per 48,000 patients) so that PCNs this small
    /// have some to connect to.
    fn uneven_plan() -> Plan {
        let mut plan = Plan::reference(2);
        for arm in &mut plan.arms {
            for count in &mut arm.params.asset_count {
                *count *= 32;
            }
        }
        plan.weeks = 110;
        plan.warmup_weeks = 10;
        plan.pcns = vec![
            PcnPlan::synthetic(0, Layout::uniform(2, 400)),
            PcnPlan::synthetic(1, Layout::uniform(1, 900)),
            PcnPlan::synthetic(2, Layout::uniform(3, 250)),
        ];
        plan
    }

    fn close(a: f64, b: f64) -> bool {
        (a.is_nan() && b.is_nan()) || (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0)
    }

    #[test]
    fn pcns_add_up_to_the_run_and_the_run_row_is_the_summary() {
        let plan = uneven_plan();
        let outcomes = run_replicates(&plan, &[0, 1], &|_| {}).expect("the plan runs");
        let staffing = crate::engine::replicate::staffing(&plan);
        let pcns = place_results(&plan, &staffing, &outcomes, groups(&plan, PlaceLevel::Pcn));
        let all = place_results(&plan, &staffing, &outcomes, groups(&plan, PlaceLevel::All));
        assert_eq!(pcns.len(), 3);
        assert_eq!(all.len(), 1);
        assert_eq!(all[0].group.patients, 800 + 900 + 750);
        for (a, arm) in plan.arms.iter().enumerate() {
            for (m, metric) in PLACE_METRICS.iter().enumerate() {
                for (r, outcome) in outcomes.iter().enumerate() {
                    let run_value = all[0].arms[a].values[r][m];
                    if metric.additive {
                        let sum: f64 = pcns.iter().map(|p| p.arms[a].values[r][m]).sum();
                        assert!(
                            close(sum, run_value),
                            "{} {}: {sum} vs {run_value}",
                            arm.name,
                            metric.name
                        );
                    }
                    // A metric of the same name in summary.json is the same figure.
                    if let Some(s) = metric_index(metric.name) {
                        let ctx = MetricContext {
                            patients: plan.patients(),
                            weeks: plan.weeks,
                            gp_cost: arm.params.gp_cost,
                            lw_cost: arm.params.lw_cost,
                        };
                        let summary = summarize(&outcome.arms[a], &ctx)[s];
                        assert!(
                            close(summary, run_value),
                            "{} {}: {summary} vs {run_value}",
                            arm.name,
                            metric.name
                        );
                    }
                }
            }
        }
        // The service arms refer and connect, so the sums above were not all of zeros.
        let connected = place_metric_index("connected_per_year").unwrap_or(0);
        assert!(all[0].arms[3].estimates[connected].mean.unwrap_or(0.0) > 0.0);
    }

    #[test]
    fn posts_follow_the_allocation_and_no_sp_has_none() {
        let plan = uneven_plan();
        let outcomes = run_replicates(&plan, &[0], &|_| {}).expect("the plan runs");
        let staffing = crate::engine::replicate::staffing(&plan);
        let pcns = place_results(&plan, &staffing, &outcomes, groups(&plan, PlaceLevel::Pcn));
        for pcn in &pcns {
            assert_eq!(pcn.arms[0].lw_posts, 0.0, "no_sp");
            assert_eq!(
                pcn.arms[1].lw_posts,
                f64::from(plan.arms[1].params.lw_per_pcn)
            );
            assert!(pcn.arms[0].paired.is_none());
            assert!(pcn.arms[1].paired.is_some());
        }
        assert_eq!(pcns[1].group.code, "synthetic-2");
        // Synthetic PCNs have no ICB, region or deprivation quintile.
        assert!(groups(&plan, PlaceLevel::Icb).is_empty());
        assert!(groups(&plan, PlaceLevel::DeprivationQuintile).is_empty());
    }

    #[test]
    fn a_group_ratio_is_a_ratio_of_sums() {
        let mut a = PlaceTally {
            accepted: 10,
            reached: 10,
            wait_sum: 10,
            ..PlaceTally::default()
        };
        let b = PlaceTally {
            accepted: 30,
            reached: 30,
            wait_sum: 90,
            ..PlaceTally::default()
        };
        a.add(&b);
        let ctx = PlaceContext {
            patients: 1.0,
            weeks: 52,
            gp_cost: 0.0,
            lw_cost: 0.0,
        };
        let wait = place_metric_index("wait_weeks_mean").unwrap_or(0);
        // (10 + 90) / (10 + 30) = 2.5, not the mean of the means (1 + 3) / 2.
        assert_eq!((PLACE_METRICS[wait].value)(&a, &ctx), 2.5);
    }
}
