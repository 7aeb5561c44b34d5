//! Link workers (MODEL.md §6.5 and §6.7): vacancies, caseloads, the weekly session with each
//! patient, stress, turnover and knowledge of local assets.

use super::asset::{Asset, ByCategory, find_asset_among};
use super::needs::{NeedSet, STRUCTURAL, present};
use super::patient::{Pathway, Patient, saturating_gain};
use crate::params::Params;
use crate::rng::{Purpose, stream_word, unit_f64};

/// A patient on a link worker's caseload.
#[derive(Clone, Copy, Debug)]
pub struct CaseEntry {
    pub patient: u32,
    /// Sessions with this link worker (restarts after turnover: the next link worker assesses again).
    pub sessions: u32,
    /// Kept beyond `sessions_max` because of a structural need (MODEL.md §6.5 step 6).
    pub holding: bool,
}

#[derive(Clone, Debug)]
pub struct LinkWorker {
    /// Full-time equivalent of the post, in (0, 1]: a fractional post has a smaller caseload
    /// and costs less (MODEL.md §5, v1.1); whoever fills the post has the same FTE.
    pub fte: f64,
    pub active: bool,
    /// While vacant, the week from whose step 3 the post is filled again.
    pub vacant_until: i32,
    pub caseload: Vec<CaseEntry>,
    /// Stress `s` ≥ 0.
    pub stress: f64,
    /// Knowledge of local assets `κ`: probability of finding a suitable asset for a need.
    pub knowledge: f64,
}

impl LinkWorker {
    /// A newly filled post of `fte` full-time equivalents.
    pub fn new(fte: f64, p: &Params) -> LinkWorker {
        LinkWorker {
            fte,
            active: true,
            vacant_until: 0,
            caseload: Vec::new(),
            stress: 0.0,
            knowledge: p.knowledge0,
        }
    }

    /// Fills a vacant post whose vacancy has run out: a new link worker, unstressed, with the
    /// starting knowledge.
    pub fn fill_vacancy(&mut self, week: i32, p: &Params) {
        if !self.active && week >= self.vacant_until {
            *self = LinkWorker::new(self.fte, p);
        }
    }

    /// This post's caseload cap (see [`caseload_cap`]).
    pub fn cap(&self, p: &Params) -> usize {
        caseload_cap(self.fte, p)
    }

    /// Session quality `Q = quality0/(1 + s)`, with stress as it stands now.
    pub fn quality(&self, p: &Params) -> f64 {
        p.quality0 / (1.0 + self.stress)
    }

    /// Weekly stress update (MODEL.md §6.7) under queue pressure `pressure`.
    pub fn update_stress(&mut self, pressure: f64, p: &Params) {
        let up = p.stress_up * (pressure - p.stress_threshold).max(0.0);
        let down = p.stress_down * p.supervision * self.stress;
        self.stress = (self.stress + up - down).max(0.0);
    }

    /// Weekly probability of leaving before the clamp: `turnover_base + turnover_stress·s`.
    /// Stress has no upper bound, so this exceeds 1 under enough pressure: the clamp makes
    /// leaving certain there.
    pub fn raw_turnover_probability(&self, p: &Params) -> f64 {
        p.turnover_base + p.turnover_stress * self.stress
    }

    /// Weekly probability of leaving, with the updated stress.
    pub fn turnover_probability(&self, p: &Params) -> f64 {
        self.raw_turnover_probability(p).clamp(0.0, 1.0)
    }

    /// The link worker leaves: the post is vacant for `vacancy_weeks`; the caseload is handed
    /// back (to the head of the queue, by the caller).
    pub fn leave(&mut self, week: i32, p: &Params) -> Vec<CaseEntry> {
        self.active = false;
        self.vacant_until = week.saturating_add(p.vacancy_weeks as i32);
        self.stress = 0.0;
        std::mem::take(&mut self.caseload)
    }

    /// Weekly growth of knowledge of local assets.
    pub fn learn(&mut self, p: &Params) {
        self.knowledge = saturating_gain(self.knowledge, p.knowledge_gain * (1.0 + p.infra));
    }
}

/// Caseload cap of a post of `fte` full-time equivalents (MODEL.md §5, v1.1):
/// `floor(e·caseload_max·(1 − admin_share))`. A whole post (`e` = 1) has v1.0's cap exactly:
/// `1·caseload_max` is exact, so the floor sees the same number.
pub fn caseload_cap(fte: f64, p: &Params) -> usize {
    (fte * f64::from(p.caseload_max) * (1.0 - p.admin_share)).floor() as usize
}

/// A PCN's posts for `fte` full-time equivalents in all: its whole posts, then at most one
/// fractional post for the rest (MODEL.md §5, v1.1). Reported FTE carry rounding noise (2.9999
/// or 3.0001 for three posts), so a remainder within [`FTE_TOLERANCE`] of 0 or 1 is noise.
pub fn posts(fte: f64) -> Vec<f64> {
    if fte.is_nan() || fte <= FTE_TOLERANCE {
        return Vec::new();
    }
    let mut whole = fte.floor();
    let mut rest = fte - whole;
    if rest > 1.0 - FTE_TOLERANCE {
        whole += 1.0;
        rest = 0.0;
    }
    let mut posts = vec![1.0; whole as usize];
    if rest > FTE_TOLERANCE {
        posts.push(rest);
    }
    posts
}

/// FTE below which a remainder is rounding noise rather than a post.
pub const FTE_TOLERANCE: f64 = 1e-6;

/// Pressure on the PCN's link workers: queue length per caseload place of the active posts
/// (0 with no places). With posts of unequal FTE, MODEL.md's `active_LWs · cap` is the sum of
/// their caps.
pub fn pressure(queue_len: usize, places: usize) -> f64 {
    if places == 0 {
        0.0
    } else {
        queue_len as f64 / places as f64
    }
}

/// How a session ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SessionEnd {
    /// Still on the caseload.
    Continue,
    /// Inappropriate referral sent back to the GP at assessment.
    Bounced,
    DroppedOut,
    /// Connected to the asset with this index.
    Connected(usize),
    DischargedUnconnected,
}

/// What a session did, beyond the changes it made to the patient, link worker and assets.
#[derive(Clone, Copy, Debug)]
pub struct SessionReport {
    pub end: SessionEnd,
    /// GP consultations the session caused (a bounce, an uncovered medical need).
    pub generated: u32,
    /// Needs for which a suitable asset was sought and none had a free place.
    pub no_capacity: u32,
}

/// Positions of the session's draws in its stream: fixed, so that the same draw serves the
/// same purpose whatever happened before it.
const DRAW_UNCOVER: usize = 0;
const DRAW_DROPOUT: usize = 1;
const DRAW_NEEDS: usize = 2; // find at 2 + 2k, take-up at 3 + 2k
const DRAW_ANCHOR: usize = 14;
const SESSION_DRAWS: usize = 15;

/// The uniforms of a patient's session in a week: word `i` of its session stream, drawn only
/// when the session uses it (one hash each) rather than all [`SESSION_DRAWS`] up front.
#[derive(Clone, Copy, Debug)]
pub struct SessionDraws {
    seed: u64,
}

impl SessionDraws {
    /// The session draws of a patient for a week.
    #[inline]
    pub fn new(patient: &Patient, week: i32) -> SessionDraws {
        SessionDraws {
            seed: patient.key.draw(Purpose::Session, i64::from(week)),
        }
    }

    /// Draw `index` in [0, 1): `unit_f64` of the stream's `index + 1`-th `next_u64`.
    #[inline(always)]
    fn unit(self, index: usize) -> f64 {
        debug_assert!(index < SESSION_DRAWS);
        unit_f64(stream_word(self.seed, index as u64))
    }
}

/// Uptake probability before the clamp: `readiness_scale·τ·(floor + (1 − floor)·a)·c`
/// (seed 003: motivation × capacity). A product of numbers in [0, 1], so within [0, 1].
pub fn raw_readiness(patient: &Patient, p: &Params) -> f64 {
    let floor = p.readiness_activation_floor;
    p.readiness_scale
        * patient.trust
        * (floor + (1.0 - floor) * patient.activation)
        * patient.capacity
}

/// Probability that the patient takes up an asset the link worker found:
/// `readiness_scale·τ·(floor + (1 − floor)·a)·c` (seed 003: motivation × capacity).
pub fn readiness(patient: &Patient, p: &Params) -> f64 {
    raw_readiness(patient, p).clamp(0.0, 1.0)
}

/// Per-session probability that an uncovered medical need costs a GP consultation, before the
/// clamp: `uncover·(1 − mdt_share)`, within [0, 1] for both in [0, 1].
pub fn raw_uncover_probability(p: &Params) -> f64 {
    p.uncover * (1.0 - p.mdt_share)
}

/// Per-session probability of a drop-out before the clamp: `session_dropout·(1 − τ)`, within
/// [0, 1] for both in [0, 1].
pub fn raw_session_dropout_probability(trust: f64, p: &Params) -> f64 {
    p.session_dropout * (1.0 - trust)
}

/// Probability that a link worker keeps holding an unconnected patient with a structural need
/// at the session limit: the parameter `anchor` itself, used unclamped.
pub fn anchor_probability(p: &Params) -> f64 {
    p.anchor
}

/// One weekly session (MODEL.md §6.5, steps 1-6). `buy_in` is the referring practice's
/// buy-in, lowered at once by a bounce. The caller moves the patient between structures
/// according to the returned [`SessionEnd`].
#[allow(clippy::too_many_arguments)]
pub fn session(
    lw: &mut LinkWorker,
    case: &mut CaseEntry,
    patient: &mut Patient,
    inappropriate: bool,
    buy_in: &mut f64,
    (assets, by_category): (&mut [Asset], &ByCategory),
    draws: SessionDraws,
    week: i32,
    p: &Params,
) -> SessionReport {
    case.sessions += 1;
    let n = case.sessions;
    let quality = lw.quality(p);
    let mut report = SessionReport {
        end: SessionEnd::Continue,
        generated: 0,
        no_capacity: 0,
    };

    // 1. Assessment: an inappropriate referral goes straight back to the GP.
    if n == 1 && inappropriate {
        lw.stress += p.bounce_stress;
        *buy_in *= 1.0 - p.bounce_penalty;
        patient.leave_pathway(week, p.cooldown_weeks);
        report.generated = 1;
        report.end = SessionEnd::Bounced;
        return report;
    }
    // 2. Trust, then activation with the updated trust.
    patient.trust = saturating_gain(patient.trust, p.trust_gain * quality);
    patient.activation = saturating_gain(
        patient.activation,
        p.activation_gain * quality * patient.trust,
    );

    // 3. An uncovered medical need costs a GP consultation unless the team absorbs it.
    if draws.unit(DRAW_UNCOVER) < raw_uncover_probability(p).clamp(0.0, 1.0) {
        report.generated += 1;
    }

    // 4. Drop-out, less likely the more the patient trusts the service.
    if draws.unit(DRAW_DROPOUT) < raw_session_dropout_probability(patient.trust, p).clamp(0.0, 1.0)
    {
        patient.leave_pathway(week, p.cooldown_weeks);
        report.end = SessionEnd::DroppedOut;
        return report;
    }

    // 5. From the second session: look for an asset for each need, at most one connection.
    if n >= 2
        && let Some(asset) = connect(lw, patient, (assets, by_category), draws, &mut report, p)
    {
        patient.pathway = Pathway::Connected;
        assets[asset].admit(case.patient, p.attend_weeks);
        report.end = SessionEnd::Connected(asset);
        return report;
    }

    // 6. Discharge at the session limit, unless held as an anchor for a structural need.
    if n == p.sessions_max && !case.holding {
        case.holding =
            has_structural_need(patient.needs) && draws.unit(DRAW_ANCHOR) < anchor_probability(p);
    }
    if n >= p.sessions_max && (!case.holding || n >= p.anchor_sessions_max) {
        patient.leave_pathway(week, p.cooldown_weeks);
        report.end = SessionEnd::DischargedUnconnected;
    }
    report
}

/// Step 5 of a session: for each present need in order, the link worker finds a suitable asset
/// w.p. `κ`; the patient takes it up w.p. `readiness`. Returns the asset taken up, if any.
fn connect(
    lw: &LinkWorker,
    patient: &Patient,
    (assets, by_category): (&[Asset], &ByCategory),
    draws: SessionDraws,
    report: &mut SessionReport,
    p: &Params,
) -> Option<usize> {
    let ready = readiness(patient, p);
    for k in present(patient.needs) {
        if draws.unit(DRAW_NEEDS + 2 * k) >= lw.knowledge {
            continue;
        }
        let Some(asset) = find_asset_among(assets, &by_category[k]) else {
            report.no_capacity += 1;
            continue;
        };
        if draws.unit(DRAW_NEEDS + 2 * k + 1) < ready {
            return Some(asset);
        }
    }
    None
}

fn has_structural_need(needs: NeedSet) -> bool {
    needs & STRUCTURAL != 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_draws_are_the_words_of_the_session_stream() {
        use crate::rng::{EntityKind, Key};
        use rand::Rng;
        let key = Key::root(3).entity(EntityKind::Patient, 17);
        for week in [-2, 0, 41] {
            let draws = SessionDraws {
                seed: key.draw(Purpose::Session, i64::from(week)),
            };
            let mut stream = key.stream(Purpose::Session, i64::from(week));
            for index in 0..SESSION_DRAWS {
                let word = stream.next_u64();
                assert_eq!(
                    word,
                    key.word(Purpose::Session, i64::from(week), index as u64)
                );
                assert_eq!(draws.unit(index).to_bits(), unit_f64(word).to_bits());
            }
        }
    }

    #[test]
    fn a_whole_post_has_the_v1_cap_and_a_fractional_post_a_floored_share() {
        let p = Params::default();
        assert_eq!(caseload_cap(1.0, &p), p.caseload_cap());
        assert_eq!(caseload_cap(1.0, &p), 36); // floor(48 × 0.75)
        assert_eq!(caseload_cap(0.5, &p), 18);
        assert_eq!(caseload_cap(0.3, &p), 10); // floor(10.8)
        assert_eq!(caseload_cap(0.01, &p), 0);
    }

    #[test]
    fn posts_are_whole_posts_plus_at_most_one_fractional_post() {
        assert_eq!(posts(3.0), vec![1.0, 1.0, 1.0]);
        assert_eq!(posts(0.0), Vec::<f64>::new());
        assert_eq!(posts(-1.0), Vec::<f64>::new());
        assert_eq!(posts(f64::NAN), Vec::<f64>::new());
        let two_and_a_bit = posts(2.4);
        assert_eq!(two_and_a_bit.len(), 3);
        assert_eq!(&two_and_a_bit[..2], &[1.0, 1.0]);
        assert!((two_and_a_bit[2] - 0.4).abs() < 1e-12);
        assert_eq!(posts(0.6), vec![0.6]);
        // Rounding noise in reported FTE is not a post.
        assert_eq!(posts(2.999_999_9), vec![1.0, 1.0, 1.0]);
        assert_eq!(posts(3.000_000_1), vec![1.0, 1.0, 1.0]);
        let total: f64 = posts(7.25).iter().sum();
        assert!((total - 7.25).abs() < 1e-12);
    }

    #[test]
    fn pressure_is_queue_per_place_of_the_active_posts() {
        assert_eq!(pressure(10, 0), 0.0);
        assert_eq!(pressure(54, 36 + 18), 1.0);
    }

    #[test]
    fn a_filled_vacancy_keeps_the_post_fte() {
        let p = Params::default();
        let mut lw = LinkWorker::new(0.5, &p);
        lw.leave(0, &p);
        lw.fill_vacancy(i32::MAX, &p);
        assert!(lw.active);
        assert_eq!(lw.fte, 0.5);
        assert_eq!(lw.cap(&p), 18);
    }
}
