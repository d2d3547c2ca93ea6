//! Made-up assessments: a baseline for about half the people, a follow-up
//! three to five months later for most of those whose baseline is old
//! enough, and an exit when a case was closed. Answers follow a person's
//! made-up wellbeing, which starts low and improves more after a referral
//! completed successfully; the scores are the instrument's own, computed
//! as on submission through the API.

use std::collections::BTreeMap;

use chrono::{Duration, NaiveDateTime};

use crate::assessments::instrument::Definition;
use crate::assessments::store::{AssessmentRow, TABLE};
use crate::cases::sealing::SealedCase;
use crate::domain::referral::Outcome;
use crate::domain::{AssessmentId, AssessmentState, CaseStatus, InstrumentId, Stage};
use crate::error::ApiError;
use crate::referrals::model::ReferralRow;

use super::people::Member;
use super::rng::Rng;
use super::setup::CityOffice;

/// The instrument demo assessments are made with.
pub(super) struct Instrument {
    pub id: InstrumentId,
    pub definition: Definition,
}

/// Answers for someone whose wellbeing is about `level` (0 to 1): for each
/// item, the answer whose value is nearest a noisy draw around it. An
/// optional item is answered only when `optional` says so.
fn answers(
    rng: &mut Rng,
    definition: &Definition,
    level: f64,
    optional: bool,
) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for item in definition.dimensions.iter().flat_map(|d| d.items.iter()) {
        if !item.required && !optional {
            continue;
        }
        let target = (level + (rng.range(-30, 30) as f64) / 100.0).clamp(0.0, 1.0);
        let nearest = item.answers.iter().min_by(|a, b| {
            (a.value - target)
                .abs()
                .partial_cmp(&(b.value - target).abs())
                .unwrap_or(std::cmp::Ordering::Equal)
        });
        if let Some(answer) = nearest {
            out.insert(item.key.clone(), answer.key.clone());
        }
    }
    out
}

fn before(now: NaiveDateTime, at: NaiveDateTime) -> Option<NaiveDateTime> {
    (at < now).then_some(at)
}

/// The assessments of one made-up person, appended to `out`.
#[allow(clippy::too_many_arguments)]
pub(super) fn assess(
    rng: &mut Rng,
    now: NaiveDateTime,
    instrument: &Instrument,
    office: &CityOffice,
    member: &Member,
    case: &SealedCase,
    referrals: &[ReferralRow],
    out: &mut Vec<AssessmentRow>,
) -> anyhow::Result<()> {
    if !rng.chance(0.55) {
        return Ok(());
    }
    let Some(baseline_at) = before(now, member.created_at + Duration::days(rng.range(1, 20)))
    else {
        return Ok(());
    };
    let schooling = member.mother && rng.chance(0.7);
    let start = (rng.range(15, 50) as f64) / 100.0;
    let mut push = |rng: &mut Rng,
                    stage: Stage,
                    at: NaiveDateTime,
                    level: f64,
                    reviewed: bool|
     -> anyhow::Result<()> {
        let answers = answers(rng, &instrument.definition, level, schooling);
        let scores = instrument
            .definition
            .score(&answers)
            .map_err(|_| anyhow::anyhow!("the demo answered an instrument incompletely"))?;
        let id = AssessmentId::new();
        let text = serde_json::to_string(&answers)?;
        let sealed = case
            .person
            .row(id, case.row.city_id)
            .seal_text(TABLE, "answers", &text)
            .map_err(ApiError::internal)?;
        let reviewed_at = reviewed
            .then(|| at + Duration::days(rng.range(1, 10)))
            .filter(|r| *r < now);
        out.push(AssessmentRow {
            id,
            case_id: case.row.id,
            city_id: case.row.city_id,
            instrument_id: instrument.id,
            stage,
            state: if reviewed_at.is_some() {
                AssessmentState::Reviewed
            } else {
                AssessmentState::Submitted
            },
            answers_enc: sealed,
            score_economic: Some(scores.economic),
            score_social: Some(scores.social),
            score_psychosocial: Some(scores.psychosocial),
            score_composite: Some(scores.composite),
            void_reason_enc: None,
            author_id: office.worker,
            created_at: at,
            updated_at: reviewed_at.unwrap_or(at),
            submitted_at: Some(at),
            reviewed_by: reviewed_at.map(|_| office.supervisor),
            reviewed_at,
            voided_by: None,
            voided_at: None,
            version: if reviewed_at.is_some() { 3 } else { 2 },
        });
        Ok(())
    };
    let reviewed = rng.chance(0.6);
    push(rng, Stage::Baseline, baseline_at, start, reviewed)?;
    // Support that ended well lifts a person more than time alone.
    let helped = referrals
        .iter()
        .any(|r| r.case_id == case.row.id && r.outcome.is_some_and(Outcome::is_success));
    let gain = if helped { 0.25 } else { 0.05 } + (rng.range(-10, 10) as f64) / 100.0;
    let mut last = baseline_at;
    if rng.chance(0.65)
        && let Some(at) = before(now, baseline_at + Duration::days(rng.range(90, 150)))
    {
        let reviewed = rng.chance(0.5);
        push(rng, Stage::FollowUp, at, start + gain, reviewed)?;
        last = at;
    }
    if case.row.status == CaseStatus::Closed
        && let Some(closed) = case.row.closed_at
        && closed > last
    {
        push(
            rng,
            Stage::Exit,
            closed - Duration::hours(1),
            start + gain * 1.2,
            false,
        )?;
    }
    Ok(())
}
