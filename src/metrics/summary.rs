//! Summary metrics of one arm of one replicate (MODEL.md §7), declared once with their unit and
//! meaning. Rates are per 1,000 registered patients per year over service weeks 0..weeks;
//! counts of assets and costs are totals for the whole simulated system.

use crate::engine::ArmOutcome;
use crate::model::observe::WeekRecord;

/// What a metric needs besides the arm's outcome.
pub struct MetricContext {
    pub patients: u64,
    pub weeks: u32,
    pub gp_cost: f64,
    pub lw_cost: f64,
}

impl MetricContext {
    fn years(&self) -> f64 {
        f64::from(self.weeks) / 52.0
    }

    fn per_1000_per_year(&self, count: f64) -> f64 {
        ratio(count * 1000.0, self.patients as f64 * self.years())
    }
}

/// The inputs of every metric, computed once per arm outcome.
pub struct MetricInputs<'a> {
    pub outcome: &'a ArmOutcome,
    pub totals: WeekRecord,
    pub last: WeekRecord,
    pub ctx: &'a MetricContext,
}

pub struct SummaryMetric {
    pub name: &'static str,
    pub unit: &'static str,
    pub doc: &'static str,
    pub value: fn(&MetricInputs) -> f64,
}

fn ratio(num: f64, den: f64) -> f64 {
    if den > 0.0 { num / den } else { f64::NAN }
}

fn pct_change(before: u64, after: u64) -> f64 {
    ratio(100.0 * (after as f64 - before as f64), before as f64)
}

macro_rules! metrics {
    ($( $name:literal, $unit:literal, $doc:literal, |$m:ident| $e:expr; )*) => {
        &[ $( SummaryMetric { name: $name, unit: $unit, doc: $doc, value: |$m: &MetricInputs| $e }, )* ]
    };
}

/// Every summary metric, in output order.
pub static SUMMARY_METRICS: &[SummaryMetric] = metrics! {
    "gp_consults_per_1000_per_year", "per 1,000 patients per year", "GP consultations of all kinds, generated ones included",
        |m| m.ctx.per_1000_per_year(m.totals.consults() as f64);
    "medical_per_1000_per_year", "per 1,000 patients per year", "medical GP consultations",
        |m| m.ctx.per_1000_per_year(m.totals.medical as f64);
    "social_per_1000_per_year", "per 1,000 patients per year", "GP consultations driven mainly by non-medical needs",
        |m| m.ctx.per_1000_per_year(m.totals.social as f64);
    "generated_per_1000_per_year", "per 1,000 patients per year", "GP consultations caused by the pathway (bounces, uncovered needs, asset closures)",
        |m| m.ctx.per_1000_per_year(m.totals.generated as f64);
    "social_share", "share", "social consultations / all GP consultations",
        |m| ratio(m.totals.social as f64, m.totals.consults() as f64);
    "referrals_offered_per_1000_per_year", "per 1,000 patients per year", "referral offers, appropriate and inappropriate",
        |m| m.ctx.per_1000_per_year(m.totals.offered as f64);
    "referrals_accepted_per_1000_per_year", "per 1,000 patients per year", "referrals accepted by the patient",
        |m| m.ctx.per_1000_per_year(m.totals.accepted as f64);
    "declined_share", "share of offers", "offers declined by the patient",
        |m| ratio(m.totals.declined as f64, m.totals.offered as f64);
    "inappropriate_share", "share of offers", "offers made after a medical consultation (inappropriate referrals)",
        |m| ratio(m.totals.offered_inappropriate as f64, m.totals.offered as f64);
    "reached_lw_share", "share of accepted referrals", "referrals that had a first link-worker session (a bounce counts)",
        |m| ratio(m.outcome.pathway.reached as f64, m.outcome.pathway.accepted as f64);
    "connected_share", "share of accepted referrals", "referrals that led to a connection with an asset",
        |m| ratio(m.outcome.pathway.connected as f64, m.outcome.pathway.accepted as f64);
    "completed_share", "share of accepted referrals", "referrals whose patient completed the weeks at an asset",
        |m| ratio(m.outcome.pathway.completed as f64, m.outcome.pathway.accepted as f64);
    "discharged_unconnected_share", "share of accepted referrals", "referrals discharged at the session limit without a connection",
        |m| ratio(m.outcome.pathway.discharged_unconnected as f64, m.outcome.pathway.accepted as f64);
    "gave_up_share", "share of accepted referrals", "referrals whose patient gave up while waiting",
        |m| ratio(m.outcome.pathway.gave_up as f64, m.outcome.pathway.accepted as f64);
    "dropped_out_share", "share of accepted referrals", "referrals whose patient dropped out of link-worker support",
        |m| ratio(m.outcome.pathway.dropped_out as f64, m.outcome.pathway.accepted as f64);
    "bounced_share", "share of accepted referrals", "inappropriate referrals sent back to the GP at assessment",
        |m| ratio(m.outcome.pathway.bounced as f64, m.outcome.pathway.accepted as f64);
    "wait_weeks_mean", "weeks", "wait from acceptance to first session, referrals that reached a link worker",
        |m| ratio(m.outcome.pathway.wait_sum as f64, m.outcome.pathway.reached as f64);
    "wait_weeks_p50", "weeks", "median wait (hdrhistogram)",
        |m| wait_quantile(m, 0.5);
    "wait_weeks_p90", "weeks", "90th percentile of the wait (hdrhistogram)",
        |m| wait_quantile(m, 0.9);
    "lw_caseload_mean", "patients", "patients per active link worker, over active link-worker weeks (step 7)",
        |m| ratio(m.totals.supported as f64, m.totals.lw_active as f64);
    "lw_new_clients_per_lw_year", "per link-worker year", "first intakes of a referral per active link-worker year",
        |m| ratio(m.totals.first_intakes as f64 * 52.0, m.totals.lw_active as f64);
    "lw_contacts_per_client", "sessions", "sessions of each ended, non-bounced referral that reached a link worker",
        |m| ratio(m.outcome.pathway.contacts as f64, m.outcome.pathway.contacted_clients as f64);
    "lw_leavers_per_lw_year", "per link-worker year", "link workers leaving per active link-worker year",
        |m| ratio(m.totals.lw_leavers as f64 * 52.0, m.totals.lw_active as f64);
    "vacancy_share", "share of post-weeks", "link-worker post-weeks vacant",
        |m| ratio(m.totals.lw_vacant as f64, (m.totals.lw_vacant + m.totals.lw_active) as f64);
    "asset_occupancy_share", "share of places", "occupied places / places of open assets, over weeks",
        |m| ratio(m.totals.asset_occupied as f64, m.totals.asset_places as f64);
    "asset_closures_per_year", "assets per year", "asset closures, whole system",
        |m| m.totals.asset_closures as f64 / m.ctx.years();
    "assets_open_end", "assets", "assets open at the end of the run, whole system",
        |m| m.last.assets_open as f64;
    "wellbeing_mean", "WEMWBS points", "mean wellbeing over patients and weeks",
        |m| ratio(m.totals.wellbeing_sum, m.totals.patients as f64);
    "wellbeing_mean_end", "WEMWBS points", "mean wellbeing in the last week",
        |m| ratio(m.last.wellbeing_sum, m.last.patients as f64);
    "low_wellbeing_share", "share of patient-weeks", "wellbeing at or below the low threshold",
        |m| ratio(m.totals.low_wellbeing as f64, m.totals.patients as f64);
    "activation_mean", "0-1 scale", "mean activation over patients and weeks",
        |m| ratio(m.totals.activation_sum, m.totals.patients as f64);
    "wellbeing_mean_q1", "WEMWBS points", "mean wellbeing, most deprived quintile", |m| q_wellbeing(m, 0);
    "wellbeing_mean_q2", "WEMWBS points", "mean wellbeing, quintile 2", |m| q_wellbeing(m, 1);
    "wellbeing_mean_q3", "WEMWBS points", "mean wellbeing, quintile 3", |m| q_wellbeing(m, 2);
    "wellbeing_mean_q4", "WEMWBS points", "mean wellbeing, quintile 4", |m| q_wellbeing(m, 3);
    "wellbeing_mean_q5", "WEMWBS points", "mean wellbeing, least deprived quintile", |m| q_wellbeing(m, 4);
    "gp_consults_per_1000_per_year_q1", "per 1,000 patients per year", "GP consultations, most deprived quintile", |m| q_consults(m, 0);
    "gp_consults_per_1000_per_year_q2", "per 1,000 patients per year", "GP consultations, quintile 2", |m| q_consults(m, 1);
    "gp_consults_per_1000_per_year_q3", "per 1,000 patients per year", "GP consultations, quintile 3", |m| q_consults(m, 2);
    "gp_consults_per_1000_per_year_q4", "per 1,000 patients per year", "GP consultations, quintile 4", |m| q_consults(m, 3);
    "gp_consults_per_1000_per_year_q5", "per 1,000 patients per year", "GP consultations, least deprived quintile", |m| q_consults(m, 4);
    "gp_buy_in_mean_end", "probability", "GP buy-in averaged over practices, last week (none without the service)",
        |m| ratio(m.last.buy_in_sum, m.last.practices as f64);
    "lw_cost_gbp_per_year", "GBP per year", "link-worker cost: filled post-weeks × FTE × lw_cost / 52",
        |m| m.totals.lw_fte_active * m.ctx.lw_cost / 52.0 / m.ctx.years();
    "gp_cost_gbp_per_year", "GBP per year", "every GP consultation, generated ones included, at gp_cost",
        |m| m.totals.consults() as f64 * m.ctx.gp_cost / m.ctx.years();
    "total_cost_gbp_per_year", "GBP per year", "link-worker and GP cost",
        |m| (m.totals.lw_fte_active * m.ctx.lw_cost / 52.0 + m.totals.consults() as f64 * m.ctx.gp_cost) / m.ctx.years();
    "eval_cohort_n", "patients", "patients whose first accepted referral falls in weeks 52..=weeks-53",
        |m| m.outcome.eval.as_ref().map_or(f64::NAN, |e| e.cohort as f64);
    "eval_naive_change_pct", "%", "change in GP consultations of the cohort, year after vs year before referral",
        |m| m.outcome.eval.as_ref().map_or(f64::NAN, |e| pct_change(e.consults_before, e.consults_after));
    "eval_counterfactual_change_pct", "%", "the same change for the same patients and windows in the no_sp arm",
        |m| m.outcome.eval.as_ref().map_or(f64::NAN, |e| pct_change(e.twin_consults_before, e.twin_consults_after));
    "eval_effect_pct", "% of consultations before", "causal effect: naive minus counterfactual change",
        |m| m.outcome.eval.as_ref().map_or(f64::NAN, |e| {
            pct_change(e.consults_before, e.consults_after) - pct_change(e.twin_consults_before, e.twin_consults_after)
        });
    "eval_effect_per_patient_year", "consultations per referred patient per year", "causal effect: change in the arm minus change in no_sp, per cohort patient",
        |m| m.outcome.eval.as_ref().map_or(f64::NAN, |e| {
            let change = e.consults_after as f64 - e.consults_before as f64;
            let twin = e.twin_consults_after as f64 - e.twin_consults_before as f64;
            ratio(change - twin, e.cohort as f64)
        });
    "eval_wellbeing_naive_change", "WEMWBS points", "change in the cohort's mean wellbeing, year after vs year before referral",
        |m| m.outcome.eval.as_ref().map_or(f64::NAN, |e| ratio(e.wellbeing_after - e.wellbeing_before, e.cohort as f64));
    "eval_wellbeing_counterfactual_change", "WEMWBS points", "the same change for the same patients in the no_sp arm",
        |m| m.outcome.eval.as_ref().map_or(f64::NAN, |e| ratio(e.twin_wellbeing_after - e.twin_wellbeing_before, e.cohort as f64));
    "eval_wellbeing_effect", "WEMWBS points", "causal effect on wellbeing: naive minus counterfactual change",
        |m| m.outcome.eval.as_ref().map_or(f64::NAN, |e| {
            ratio((e.wellbeing_after - e.wellbeing_before) - (e.twin_wellbeing_after - e.twin_wellbeing_before), e.cohort as f64)
        });    "eval_wellbeing_followup_naive_change", "WEMWBS points", "change in the cohort's wellbeing from the referral week to eval_followup_weeks later, as evaluations measure it (MODEL.md §9.1)",
        |m| m.outcome.eval.as_ref().map_or(f64::NAN, |e| ratio(e.followup_wellbeing_end - e.followup_wellbeing_start, e.followup as f64));
    "eval_wellbeing_followup_counterfactual_change", "WEMWBS points", "the same follow-up change for the same patients in the no_sp arm",
        |m| m.outcome.eval.as_ref().map_or(f64::NAN, |e| ratio(e.twin_followup_wellbeing_end - e.twin_followup_wellbeing_start, e.followup as f64));
    "eval_wellbeing_followup_effect", "WEMWBS points", "causal effect on follow-up wellbeing: naive minus counterfactual follow-up change",
        |m| m.outcome.eval.as_ref().map_or(f64::NAN, |e| {
            ratio((e.followup_wellbeing_end - e.followup_wellbeing_start) - (e.twin_followup_wellbeing_end - e.twin_followup_wellbeing_start), e.followup as f64)
        });
    "eval_in_crisis_share", "share of the cohort", "cohort patients in crisis in their referral week (MODEL.md §9.1)",
        |m| m.outcome.eval.as_ref().map_or(f64::NAN, |e| ratio(e.in_crisis as f64, e.cohort as f64));
    "eval_n_recent_mean", "social consultations", "mean n_recent at referral over the cohort: social consultations in the recency_weeks before the referral week (MODEL.md §9.1; empty unless recency_gain or crisis_rate > 0)",
        |m| m.outcome.eval.as_ref().map_or(f64::NAN, |e| ratio(e.n_recent_sum as f64, e.n_recent_known as f64));
    "in_crisis_share", "share of patient-weeks", "patients in crisis (MODEL.md §9.1)",
        |m| ratio(m.totals.in_crisis as f64, m.totals.patients as f64);
    "gp_delivered_per_1000_per_year", "per 1,000 patients per year", "GP appointments delivered (MODEL.md §9.2); every consultation when capacity is unlimited",
        |m| m.ctx.per_1000_per_year(m.totals.gp_delivered);
    "gp_unmet_per_1000_per_year", "per 1,000 patients per year", "GP requests abandoned unmet (MODEL.md §9.2); 0 when capacity is unlimited",
        |m| m.ctx.per_1000_per_year(m.totals.gp_unmet);
    "gp_wait_weeks_mean", "weeks", "mean over service weeks of backlog / weekly capacity over the arm's practices (Little's law; MODEL.md §9.2); 0 when capacity is unlimited",
        |m| gp_wait_weeks(&m.totals);
    "referrals_offered_gp_per_1000_per_year", "per 1,000 patients per year", "referrals offered by the GP (MODEL.md §9.3)",
        |m| m.ctx.per_1000_per_year(m.totals.route_offered[0] as f64);
    "referrals_accepted_gp_per_1000_per_year", "per 1,000 patients per year", "referrals by the GP accepted",
        |m| m.ctx.per_1000_per_year(m.totals.route_accepted[0] as f64);
    "referrals_offered_self_per_1000_per_year", "per 1,000 patients per year", "referrals offered by self-referral (MODEL.md §9.3; a self-referral counts as offered and accepted)",
        |m| m.ctx.per_1000_per_year(m.totals.route_offered[1] as f64);
    "referrals_accepted_self_per_1000_per_year", "per 1,000 patients per year", "referrals by self-referral accepted",
        |m| m.ctx.per_1000_per_year(m.totals.route_accepted[1] as f64);
    "referrals_offered_agency_per_1000_per_year", "per 1,000 patients per year", "referrals offered by another agency (MODEL.md §9.3)",
        |m| m.ctx.per_1000_per_year(m.totals.route_offered[2] as f64);
    "referrals_accepted_agency_per_1000_per_year", "per 1,000 patients per year", "referrals by another agency accepted",
        |m| m.ctx.per_1000_per_year(m.totals.route_accepted[2] as f64);
    "referrals_offered_gp_per_1000_per_year_q1", "per 1,000 patients of the quintile per year", "referrals offered by the GP, most deprived quintile", |m| q_rate(m, m.totals.q_route_offered[0][0], 0);
    "referrals_offered_gp_per_1000_per_year_q2", "per 1,000 patients of the quintile per year", "referrals offered by the GP, quintile 2", |m| q_rate(m, m.totals.q_route_offered[0][1], 1);
    "referrals_offered_gp_per_1000_per_year_q3", "per 1,000 patients of the quintile per year", "referrals offered by the GP, quintile 3", |m| q_rate(m, m.totals.q_route_offered[0][2], 2);
    "referrals_offered_gp_per_1000_per_year_q4", "per 1,000 patients of the quintile per year", "referrals offered by the GP, quintile 4", |m| q_rate(m, m.totals.q_route_offered[0][3], 3);
    "referrals_offered_gp_per_1000_per_year_q5", "per 1,000 patients of the quintile per year", "referrals offered by the GP, least deprived quintile", |m| q_rate(m, m.totals.q_route_offered[0][4], 4);
    "referrals_accepted_gp_per_1000_per_year_q1", "per 1,000 patients of the quintile per year", "referrals by the GP accepted, most deprived quintile", |m| q_rate(m, m.totals.q_route_accepted[0][0], 0);
    "referrals_accepted_gp_per_1000_per_year_q2", "per 1,000 patients of the quintile per year", "referrals by the GP accepted, quintile 2", |m| q_rate(m, m.totals.q_route_accepted[0][1], 1);
    "referrals_accepted_gp_per_1000_per_year_q3", "per 1,000 patients of the quintile per year", "referrals by the GP accepted, quintile 3", |m| q_rate(m, m.totals.q_route_accepted[0][2], 2);
    "referrals_accepted_gp_per_1000_per_year_q4", "per 1,000 patients of the quintile per year", "referrals by the GP accepted, quintile 4", |m| q_rate(m, m.totals.q_route_accepted[0][3], 3);
    "referrals_accepted_gp_per_1000_per_year_q5", "per 1,000 patients of the quintile per year", "referrals by the GP accepted, least deprived quintile", |m| q_rate(m, m.totals.q_route_accepted[0][4], 4);
    "referrals_offered_self_per_1000_per_year_q1", "per 1,000 patients of the quintile per year", "referrals offered by self-referral, most deprived quintile", |m| q_rate(m, m.totals.q_route_offered[1][0], 0);
    "referrals_offered_self_per_1000_per_year_q2", "per 1,000 patients of the quintile per year", "referrals offered by self-referral, quintile 2", |m| q_rate(m, m.totals.q_route_offered[1][1], 1);
    "referrals_offered_self_per_1000_per_year_q3", "per 1,000 patients of the quintile per year", "referrals offered by self-referral, quintile 3", |m| q_rate(m, m.totals.q_route_offered[1][2], 2);
    "referrals_offered_self_per_1000_per_year_q4", "per 1,000 patients of the quintile per year", "referrals offered by self-referral, quintile 4", |m| q_rate(m, m.totals.q_route_offered[1][3], 3);
    "referrals_offered_self_per_1000_per_year_q5", "per 1,000 patients of the quintile per year", "referrals offered by self-referral, least deprived quintile", |m| q_rate(m, m.totals.q_route_offered[1][4], 4);
    "referrals_accepted_self_per_1000_per_year_q1", "per 1,000 patients of the quintile per year", "referrals by self-referral accepted, most deprived quintile", |m| q_rate(m, m.totals.q_route_accepted[1][0], 0);
    "referrals_accepted_self_per_1000_per_year_q2", "per 1,000 patients of the quintile per year", "referrals by self-referral accepted, quintile 2", |m| q_rate(m, m.totals.q_route_accepted[1][1], 1);
    "referrals_accepted_self_per_1000_per_year_q3", "per 1,000 patients of the quintile per year", "referrals by self-referral accepted, quintile 3", |m| q_rate(m, m.totals.q_route_accepted[1][2], 2);
    "referrals_accepted_self_per_1000_per_year_q4", "per 1,000 patients of the quintile per year", "referrals by self-referral accepted, quintile 4", |m| q_rate(m, m.totals.q_route_accepted[1][3], 3);
    "referrals_accepted_self_per_1000_per_year_q5", "per 1,000 patients of the quintile per year", "referrals by self-referral accepted, least deprived quintile", |m| q_rate(m, m.totals.q_route_accepted[1][4], 4);
    "referrals_offered_agency_per_1000_per_year_q1", "per 1,000 patients of the quintile per year", "referrals offered by another agency, most deprived quintile", |m| q_rate(m, m.totals.q_route_offered[2][0], 0);
    "referrals_offered_agency_per_1000_per_year_q2", "per 1,000 patients of the quintile per year", "referrals offered by another agency, quintile 2", |m| q_rate(m, m.totals.q_route_offered[2][1], 1);
    "referrals_offered_agency_per_1000_per_year_q3", "per 1,000 patients of the quintile per year", "referrals offered by another agency, quintile 3", |m| q_rate(m, m.totals.q_route_offered[2][2], 2);
    "referrals_offered_agency_per_1000_per_year_q4", "per 1,000 patients of the quintile per year", "referrals offered by another agency, quintile 4", |m| q_rate(m, m.totals.q_route_offered[2][3], 3);
    "referrals_offered_agency_per_1000_per_year_q5", "per 1,000 patients of the quintile per year", "referrals offered by another agency, least deprived quintile", |m| q_rate(m, m.totals.q_route_offered[2][4], 4);
    "referrals_accepted_agency_per_1000_per_year_q1", "per 1,000 patients of the quintile per year", "referrals by another agency accepted, most deprived quintile", |m| q_rate(m, m.totals.q_route_accepted[2][0], 0);
    "referrals_accepted_agency_per_1000_per_year_q2", "per 1,000 patients of the quintile per year", "referrals by another agency accepted, quintile 2", |m| q_rate(m, m.totals.q_route_accepted[2][1], 1);
    "referrals_accepted_agency_per_1000_per_year_q3", "per 1,000 patients of the quintile per year", "referrals by another agency accepted, quintile 3", |m| q_rate(m, m.totals.q_route_accepted[2][2], 2);
    "referrals_accepted_agency_per_1000_per_year_q4", "per 1,000 patients of the quintile per year", "referrals by another agency accepted, quintile 4", |m| q_rate(m, m.totals.q_route_accepted[2][3], 3);
    "referrals_accepted_agency_per_1000_per_year_q5", "per 1,000 patients of the quintile per year", "referrals by another agency accepted, least deprived quintile", |m| q_rate(m, m.totals.q_route_accepted[2][4], 4);
};

fn wait_quantile(m: &MetricInputs, q: f64) -> f64 {
    if m.outcome.pathway.waits.is_empty() {
        f64::NAN
    } else {
        m.outcome.pathway.waits.value_at_quantile(q) as f64
    }
}

fn q_wellbeing(m: &MetricInputs, q: usize) -> f64 {
    ratio(m.totals.q_wellbeing_sum[q], m.totals.q_patients[q] as f64)
}

/// A count of quintile `q` per 1,000 of the quintile's patients per year.
fn q_rate(m: &MetricInputs, count: u64, q: usize) -> f64 {
    ratio(count as f64 * 52.0 * 1000.0, m.totals.q_patients[q] as f64)
}

/// MODEL.md §9.2: the mean over service weeks of `ΣB_t / ΣC`. Capacity is the same every
/// week, so it is the weeks' total backlog over their total capacity; 0 without a limit.
fn gp_wait_weeks(totals: &WeekRecord) -> f64 {
    if totals.gp_capacity > 0.0 {
        totals.gp_backlog_start / totals.gp_capacity
    } else {
        0.0
    }
}

fn q_consults(m: &MetricInputs, q: usize) -> f64 {
    // q_patients summed over weeks is patient-weeks; × 52 / 1000 turns it into thousands of patient-years.
    ratio(
        m.totals.q_consults[q] as f64 * 52.0 * 1000.0,
        m.totals.q_patients[q] as f64,
    )
}

/// Every summary metric of an arm outcome, in [`SUMMARY_METRICS`] order (NaN where undefined,
/// e.g. shares of referrals in an arm without referrals).
pub fn summarize(outcome: &ArmOutcome, ctx: &MetricContext) -> Vec<f64> {
    let inputs = MetricInputs {
        outcome,
        totals: outcome.totals(),
        last: outcome.weekly.last().cloned().unwrap_or_default(),
        ctx,
    };
    SUMMARY_METRICS.iter().map(|m| (m.value)(&inputs)).collect()
}

/// Index of a metric by name.
pub fn metric_index(name: &str) -> Option<usize> {
    SUMMARY_METRICS.iter().position(|m| m.name == name)
}
