//! The columns of `weekly.csv`, derived from the model's weekly record
//! ([`WeekRecord`], MODEL.md §7).
//!
//! Column naming: `new_*` are flows during the week, `n_*` are stocks at the end of the week
//! (step 7), `mean_*` and `share_*` are averages over the stock they name.

use crate::model::observe::WeekRecord;

fn ratio(num: f64, den: f64) -> f64 {
    if den > 0.0 { num / den } else { f64::NAN }
}

/// A column of `weekly.csv`: name, meaning, and how it is computed from the record.
pub struct WeeklyColumn {
    pub name: &'static str,
    pub doc: &'static str,
    pub value: fn(&WeekRecord) -> f64,
}

macro_rules! columns {
    ($( $name:literal, $doc:literal, |$r:ident| $e:expr; )*) => {
        &[ $( WeeklyColumn { name: $name, doc: $doc, value: |$r: &WeekRecord| $e }, )* ]
    };
}

/// The weekly metric columns, in file order (after `arm`, `replicate`, `week`).
pub static WEEKLY_COLUMNS: &[WeeklyColumn] = columns! {
    "new_consults", "GP consultations of all kinds", |r| r.consults() as f64;
    "new_medical", "medical GP consultations", |r| r.medical as f64;
    "new_social", "GP consultations driven mainly by non-medical needs", |r| r.social as f64;
    "new_generated", "GP consultations caused by the pathway (bounces, uncovered needs, closures)", |r| r.generated as f64;
    "new_offered", "referral offers (appropriate and inappropriate)", |r| r.offered as f64;
    "new_offered_inappropriate", "inappropriate referral offers (after a medical consultation)", |r| r.offered_inappropriate as f64;
    "new_declined", "offers declined by the patient", |r| r.declined as f64;
    "new_accepted", "referrals accepted (patient joins the queue)", |r| r.accepted as f64;
    "new_gave_up", "waiting patients who gave up", |r| r.gave_up as f64;
    "new_first_intakes", "referrals taken on by a link worker for the first time", |r| r.first_intakes as f64;
    "new_sessions", "link-worker sessions held", |r| r.sessions as f64;
    "new_bounced", "inappropriate referrals sent back to the GP at assessment", |r| r.bounced as f64;
    "new_connections", "patients connected to an asset", |r| r.connections as f64;
    "new_dropped_out", "patients who dropped out of link-worker support", |r| r.dropped_out as f64;
    "new_discharged_unconnected", "patients discharged at the session limit without a connection", |r| r.discharged_unconnected as f64;
    "new_no_capacity", "needs for which no asset of the category had a free place", |r| r.no_capacity as f64;
    "new_completed", "patients who completed their weeks at an asset", |r| r.completed as f64;
    "new_asset_closures", "assets closed", |r| r.asset_closures as f64;
    "new_asset_openings", "assets opened", |r| r.asset_openings as f64;
    "new_lw_leavers", "link workers who left", |r| r.lw_leavers as f64;
    "n_patients", "registered patients", |r| r.patients as f64;
    "n_waiting", "patients in the queue for a link worker", |r| r.waiting as f64;
    "n_supported", "patients on a link-worker caseload", |r| r.supported as f64;
    "n_connected", "patients attending an asset", |r| r.connected as f64;
    "n_lw_active", "link-worker posts filled", |r| r.lw_active as f64;
    "n_lw_vacant", "link-worker posts vacant", |r| r.lw_vacant as f64;
    "n_assets_open", "assets open", |r| r.assets_open as f64;
    "share_asset_occupancy", "occupied places / places, over open assets", |r| ratio(r.asset_occupied as f64, r.asset_places as f64);
    "mean_lw_caseload", "patients per active link worker", |r| ratio(r.supported as f64, r.lw_active as f64);
    "mean_lw_stress", "stress of active link workers", |r| ratio(r.lw_stress_sum, r.lw_active as f64);
    "mean_wellbeing", "wellbeing (WEMWBS, 14-70)", |r| ratio(r.wellbeing_sum, r.patients as f64);
    "share_low_wellbeing", "share of patients with wellbeing at or below the low threshold", |r| ratio(r.low_wellbeing as f64, r.patients as f64);
    "mean_activation", "activation (0-1)", |r| ratio(r.activation_sum, r.patients as f64);
    "mean_gp_buy_in", "GP buy-in over practices", |r| ratio(r.buy_in_sum, r.practices as f64);
    "n_patients_q1", "registered patients, most deprived quintile", |r| r.q_patients[0] as f64;
    "n_patients_q2", "registered patients, quintile 2", |r| r.q_patients[1] as f64;
    "n_patients_q3", "registered patients, quintile 3", |r| r.q_patients[2] as f64;
    "n_patients_q4", "registered patients, quintile 4", |r| r.q_patients[3] as f64;
    "n_patients_q5", "registered patients, least deprived quintile", |r| r.q_patients[4] as f64;
    "mean_wellbeing_q1", "wellbeing, most deprived quintile", |r| ratio(r.q_wellbeing_sum[0], r.q_patients[0] as f64);
    "mean_wellbeing_q2", "wellbeing, quintile 2", |r| ratio(r.q_wellbeing_sum[1], r.q_patients[1] as f64);
    "mean_wellbeing_q3", "wellbeing, quintile 3", |r| ratio(r.q_wellbeing_sum[2], r.q_patients[2] as f64);
    "mean_wellbeing_q4", "wellbeing, quintile 4", |r| ratio(r.q_wellbeing_sum[3], r.q_patients[3] as f64);
    "mean_wellbeing_q5", "wellbeing, least deprived quintile", |r| ratio(r.q_wellbeing_sum[4], r.q_patients[4] as f64);
    "new_consults_q1", "GP consultations (all kinds), most deprived quintile", |r| r.q_consults[0] as f64;
    "new_consults_q2", "GP consultations, quintile 2", |r| r.q_consults[1] as f64;
    "new_consults_q3", "GP consultations, quintile 3", |r| r.q_consults[2] as f64;
    "new_consults_q4", "GP consultations, quintile 4", |r| r.q_consults[3] as f64;
    "new_consults_q5", "GP consultations, least deprived quintile", |r| r.q_consults[4] as f64;
    "new_accepted_q1", "referrals accepted, most deprived quintile", |r| r.q_accepted[0] as f64;
    "new_accepted_q2", "referrals accepted, quintile 2", |r| r.q_accepted[1] as f64;
    "new_accepted_q3", "referrals accepted, quintile 3", |r| r.q_accepted[2] as f64;
    "new_accepted_q4", "referrals accepted, quintile 4", |r| r.q_accepted[3] as f64;
    "new_accepted_q5", "referrals accepted, least deprived quintile", |r| r.q_accepted[4] as f64;
    "new_connections_q1", "connections, most deprived quintile", |r| r.q_connections[0] as f64;
    "new_connections_q2", "connections, quintile 2", |r| r.q_connections[1] as f64;
    "new_connections_q3", "connections, quintile 3", |r| r.q_connections[2] as f64;
    "new_connections_q4", "connections, quintile 4", |r| r.q_connections[3] as f64;
    "new_connections_q5", "connections, least deprived quintile", |r| r.q_connections[4] as f64;    "n_in_crisis", "patients in crisis (MODEL.md §9.1)", |r| r.in_crisis as f64;
    "new_gp_delivered", "GP appointments delivered (MODEL.md §9.2; all consultations when capacity is unlimited)", |r| r.gp_delivered;
    "new_gp_unmet", "GP requests abandoned unmet (MODEL.md §9.2; 0 when capacity is unlimited)", |r| r.gp_unmet;
    "n_gp_backlog", "GP requests waiting for an appointment, carried into next week (MODEL.md §9.2)", |r| r.gp_backlog;
    "new_offered_gp", "referrals offered by the GP (MODEL.md §9.3)", |r| r.route_offered[0] as f64;
    "new_accepted_gp", "referrals by the GP accepted", |r| r.route_accepted[0] as f64;
    "new_offered_self", "referrals offered by self-referral (MODEL.md §9.3; a self-referral counts as offered and accepted)", |r| r.route_offered[1] as f64;
    "new_accepted_self", "referrals by self-referral accepted", |r| r.route_accepted[1] as f64;
    "new_offered_agency", "referrals offered by another agency (MODEL.md §9.3)", |r| r.route_offered[2] as f64;
    "new_accepted_agency", "referrals by another agency accepted", |r| r.route_accepted[2] as f64;
    "new_offered_gp_q1", "referrals offered by the GP, most deprived quintile", |r| r.q_route_offered[0][0] as f64;
    "new_offered_gp_q2", "referrals offered by the GP, quintile 2", |r| r.q_route_offered[0][1] as f64;
    "new_offered_gp_q3", "referrals offered by the GP, quintile 3", |r| r.q_route_offered[0][2] as f64;
    "new_offered_gp_q4", "referrals offered by the GP, quintile 4", |r| r.q_route_offered[0][3] as f64;
    "new_offered_gp_q5", "referrals offered by the GP, least deprived quintile", |r| r.q_route_offered[0][4] as f64;
    "new_accepted_gp_q1", "referrals by the GP accepted, most deprived quintile", |r| r.q_route_accepted[0][0] as f64;
    "new_accepted_gp_q2", "referrals by the GP accepted, quintile 2", |r| r.q_route_accepted[0][1] as f64;
    "new_accepted_gp_q3", "referrals by the GP accepted, quintile 3", |r| r.q_route_accepted[0][2] as f64;
    "new_accepted_gp_q4", "referrals by the GP accepted, quintile 4", |r| r.q_route_accepted[0][3] as f64;
    "new_accepted_gp_q5", "referrals by the GP accepted, least deprived quintile", |r| r.q_route_accepted[0][4] as f64;
    "new_offered_self_q1", "referrals offered by self-referral, most deprived quintile", |r| r.q_route_offered[1][0] as f64;
    "new_offered_self_q2", "referrals offered by self-referral, quintile 2", |r| r.q_route_offered[1][1] as f64;
    "new_offered_self_q3", "referrals offered by self-referral, quintile 3", |r| r.q_route_offered[1][2] as f64;
    "new_offered_self_q4", "referrals offered by self-referral, quintile 4", |r| r.q_route_offered[1][3] as f64;
    "new_offered_self_q5", "referrals offered by self-referral, least deprived quintile", |r| r.q_route_offered[1][4] as f64;
    "new_accepted_self_q1", "referrals by self-referral accepted, most deprived quintile", |r| r.q_route_accepted[1][0] as f64;
    "new_accepted_self_q2", "referrals by self-referral accepted, quintile 2", |r| r.q_route_accepted[1][1] as f64;
    "new_accepted_self_q3", "referrals by self-referral accepted, quintile 3", |r| r.q_route_accepted[1][2] as f64;
    "new_accepted_self_q4", "referrals by self-referral accepted, quintile 4", |r| r.q_route_accepted[1][3] as f64;
    "new_accepted_self_q5", "referrals by self-referral accepted, least deprived quintile", |r| r.q_route_accepted[1][4] as f64;
    "new_offered_agency_q1", "referrals offered by another agency, most deprived quintile", |r| r.q_route_offered[2][0] as f64;
    "new_offered_agency_q2", "referrals offered by another agency, quintile 2", |r| r.q_route_offered[2][1] as f64;
    "new_offered_agency_q3", "referrals offered by another agency, quintile 3", |r| r.q_route_offered[2][2] as f64;
    "new_offered_agency_q4", "referrals offered by another agency, quintile 4", |r| r.q_route_offered[2][3] as f64;
    "new_offered_agency_q5", "referrals offered by another agency, least deprived quintile", |r| r.q_route_offered[2][4] as f64;
    "new_accepted_agency_q1", "referrals by another agency accepted, most deprived quintile", |r| r.q_route_accepted[2][0] as f64;
    "new_accepted_agency_q2", "referrals by another agency accepted, quintile 2", |r| r.q_route_accepted[2][1] as f64;
    "new_accepted_agency_q3", "referrals by another agency accepted, quintile 3", |r| r.q_route_accepted[2][2] as f64;
    "new_accepted_agency_q4", "referrals by another agency accepted, quintile 4", |r| r.q_route_accepted[2][3] as f64;
    "new_accepted_agency_q5", "referrals by another agency accepted, least deprived quintile", |r| r.q_route_accepted[2][4] as f64;
};
