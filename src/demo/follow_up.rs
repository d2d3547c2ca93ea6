//! What happened to a made-up case after it was opened: perhaps a
//! referral, played along its state machine as far as time allows, perhaps
//! closure.

use chrono::NaiveDateTime;

use crate::cases::sealing::SealedCase;
use crate::crypto::PersonKeys;
use crate::domain::referral::Outcome as ReferralOutcome;
use crate::domain::{
    CaseStatus, Need, NonBlank, OrganisationId, OrganisationKind, ReferralState, VulnerabilityFlag,
};
use crate::error::ApiError;
use crate::referrals::model::{NewReferral, ReferralRow};
use crate::referrals::store as referrals;

use super::data;
use super::people::Member;
use super::rng::Rng;
use super::setup::CityOffice;

/// What happened after the case was opened: perhaps a referral (in any
/// state of its machine, as far as time allows), perhaps closure.
pub(super) fn follow_up(
    rng: &mut Rng,
    now: NaiveDateTime,
    office: &CityOffice,
    member: &Member,
    case: &mut SealedCase,
    referrals_out: &mut Vec<ReferralRow>,
) -> anyhow::Result<()> {
    let opened = member.created_at;
    let mut last_change = opened;
    let mut open_referral = false;
    if member.input.consent.share_with_providers && rng.chance(0.45) {
        let (kind, organisation_id, needs) = referral_kind(rng, office, member)?;
        let created = before_now(now, opened + chrono::Duration::days(rng.range(1, 30)));
        let reason = NonBlank::parse(*rng.pick(data::REFERRAL_REASONS))
            .map_err(|_| anyhow::anyhow!("generated a blank referral reason"))?;
        let input = NewReferral {
            kind,
            organisation_id,
            reason,
            needs,
            due_by: rng
                .chance(0.7)
                .then(|| created.date() + chrono::Duration::days(30)),
        };
        let mut row = referrals::seal_new(
            &case.person,
            case.row.id,
            case.row.city_id,
            &input,
            office.worker,
            created,
        )?;
        last_change = play_referral(rng, now, &case.person, &mut row)?;
        open_referral = row.state.is_open();
        referrals_out.push(row);
        case.row.status = CaseStatus::Active;
    }
    if !open_referral && rng.chance(0.06) {
        let closed = opened + chrono::Duration::days(rng.range(60, 400));
        if closed < now {
            case.row.status = CaseStatus::Closed;
            case.row.closed_at = Some(closed);
            case.row.closure_reason_enc = Some(
                case.person
                    .row(case.row.id, case.row.city_id)
                    .seal_text(
                        crate::cases::row::TABLE,
                        "closure_reason",
                        rng.pick::<&str>(data::CLOSURE_REASONS),
                    )
                    .map_err(ApiError::internal)?,
            );
            case.row.version += 1;
            last_change = last_change.max(closed);
        }
    }
    case.row.updated_at = last_change;
    Ok(())
}

fn before_now(now: NaiveDateTime, at: NaiveDateTime) -> NaiveDateTime {
    if at >= now {
        now - chrono::Duration::minutes(5)
    } else {
        at
    }
}

fn referral_kind(
    rng: &mut Rng,
    office: &CityOffice,
    member: &Member,
) -> anyhow::Result<(OrganisationKind, OrganisationId, Vec<Need>)> {
    use OrganisationKind as K;
    let school_age = !member.mother && (6..18).contains(&member.age);
    let flags = &member.input.vulnerability_flags;
    let (kind, needs): (OrganisationKind, &[Need]) =
        if flags.contains(&VulnerabilityFlag::LacksCivilDocuments) && rng.chance(0.5) {
            if rng.chance(0.7) {
                (K::CivilDocumentation, &[Need::CivilDocuments])
            } else {
                (K::LegalAid, &[Need::LegalAdvice, Need::CivilDocuments])
            }
        } else if member.mother && rng.chance(0.6) {
            match rng.weighted(&[40, 30, 30]) {
                0 => (
                    K::VocationalTraining,
                    &[Need::SkillsTraining, Need::Literacy],
                ),
                1 => (K::Employment, &[Need::JobPlacement]),
                _ => (
                    K::BusinessSupport,
                    &[Need::SmallBusiness, Need::StartUpGrant],
                ),
            }
        } else if school_age && rng.chance(0.6) {
            (K::Education, &[Need::SchoolEnrolment, Need::CatchUpClasses])
        } else if (flags.contains(&VulnerabilityFlag::ChronicIllness)
            || flags.contains(&VulnerabilityFlag::Disability))
            && rng.chance(0.5)
            || rng.chance(0.08)
        {
            (K::Health, &[Need::HealthCare, Need::MentalHealthCare])
        } else if rng.chance(0.15) {
            (K::Community, &[Need::CommunityActivities])
        } else {
            (
                K::Psychosocial,
                &[Need::Counselling, Need::TraumaSupport, Need::FamilySupport],
            )
        };
    Ok((kind, office.provider(kind)?, vec![*rng.pick(needs)]))
}

/// The outcome of a completed referral of `kind`: the one its service aims
/// at, most often, or one of the general outcomes.
fn outcome(rng: &mut Rng, kind: OrganisationKind) -> ReferralOutcome {
    let achieved = match kind {
        OrganisationKind::Employment => ReferralOutcome::Employed,
        OrganisationKind::Education => ReferralOutcome::Enrolled,
        OrganisationKind::VocationalTraining => ReferralOutcome::Certified,
        OrganisationKind::CivilDocumentation | OrganisationKind::LegalAid => {
            ReferralOutcome::DocumentsIssued
        }
        _ => ReferralOutcome::CompletedSuccessfully,
    };
    match rng.weighted(&[50, 15, 20, 5, 10]) {
        0 => achieved,
        1 => ReferralOutcome::CompletedSuccessfully,
        2 => ReferralOutcome::DroppedOut,
        3 => ReferralOutcome::NotEligible,
        _ => ReferralOutcome::Other,
    }
}

/// Moves a new referral along its state machine as far as chance and the
/// clock allow; returns when it last changed.
fn play_referral(
    rng: &mut Rng,
    now: NaiveDateTime,
    person: &PersonKeys,
    row: &mut ReferralRow,
) -> anyhow::Result<NaiveDateTime> {
    let days = |rng: &mut Rng, low, high| chrono::Duration::days(rng.range(low, high));
    let (id, city) = (row.id, row.city_id);
    let seal = |column: &str, value: &str| referrals::seal(person, id, city, column, value);
    let mut at = row.created_at;
    // pending 20%, declined 8%, cancelled 7%, accepted 15%, in progress 20%,
    // completed 30%.
    let target = rng.weighted(&[20, 8, 7, 15, 20, 30]);
    let created = row.created_at;
    match target {
        0 => {}
        1 => {
            let when = created + days(rng, 1, 10);
            if when < now {
                row.decision_reason_enc = Some(seal(
                    "decision_reason",
                    rng.pick::<&str>(data::DECLINE_REASONS),
                )?);
                row.state = ReferralState::Declined;
                row.declined_at = Some(when);
                row.version += 1;
                at = when;
            }
        }
        2 => {
            let when = created + days(rng, 3, 60);
            if when < now {
                row.state = ReferralState::Cancelled;
                row.cancelled_at = Some(when);
                row.version += 1;
                at = when;
            }
        }
        _ => {
            let accepted = created + days(rng, 1, 14);
            let started = accepted + days(rng, 1, 10);
            let completed = started + days(rng, 20, 120);
            if accepted < now {
                row.state = ReferralState::Accepted;
                row.accepted_at = Some(accepted);
                row.version += 1;
                at = accepted;
            }
            if target >= 4 && started < now {
                row.state = ReferralState::InProgress;
                row.started_at = Some(started);
                row.version += 1;
                at = started;
            }
            if target == 5 && completed < now && row.started_at.is_some() {
                let outcome = outcome(rng, row.kind);
                row.state = ReferralState::Completed;
                row.outcome = Some(outcome);
                if rng.chance(0.5) {
                    row.outcome_note_enc =
                        Some(seal("outcome_note", rng.pick::<&str>(data::OUTCOME_NOTES))?);
                }
                row.completed_at = Some(completed);
                row.version += 1;
                at = completed;
            }
        }
    }
    row.updated_at = at;
    Ok(at)
}
