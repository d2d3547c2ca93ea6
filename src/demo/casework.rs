//! A made-up case's casework after it was opened: the contacts its worker
//! scheduled (some done, some still due, some overdue), the referral
//! checks the system schedules after a referral is completed or declined,
//! and for some people a reintegration plan (mostly approved and active,
//! some still a draft or waiting for the supervisor). Texts are sealed
//! with the person's key as the API seals them.

use chrono::{Duration, NaiveDate, NaiveDateTime};

use crate::cases::sealing::SealedCase;
use crate::crypto::Sealed;
use crate::domain::follow_up::{FollowUpKind, FollowUpStatus};
use crate::domain::plan::{ActionStatus, PlanDimension, PlanStatus};
use crate::domain::{
    CaseStatus, FollowUpId, PlanActionId, PlanGoalId, PlanId, ReferralState, UserId,
};
use crate::error::ApiError;
use crate::follow_ups::model::FollowUpRow;
use crate::plans::model::{ActionRow, GoalRow, PlanRow};
use crate::referrals::model::ReferralRow;

use super::rng::Rng;
use super::setup::CityOffice;

/// The follow-ups and plans of a batch.
#[derive(Default)]
pub(super) struct Casework {
    pub follow_ups: Vec<FollowUpRow>,
    pub plans: Vec<PlanRow>,
    pub goals: Vec<GoalRow>,
    pub actions: Vec<ActionRow>,
}

/// What a worker writes after a contact.
const NOTES: [&str; 5] = [
    "زيارة منزلية: العائلة مستقرة عند أقارب، والأطفال يذهبون إلى المدرسة.",
    "Phone call: she has started the course and asks about transport.",
    "زيارة منزلية: تحتاج الأم إلى تجديد البطاقة الوطنية.",
    "Home visit: the eldest son found day work in the market.",
    "اتصال هاتفي: لم تحضر جلسة الدعم النفسي الأخيرة بسبب المرض.",
];

/// Goals and their actions, by dimension.
const GOALS: [(PlanDimension, &str, [&str; 2]); 5] = [
    (
        PlanDimension::Economic,
        "دخل ثابت للأسرة خلال ستة أشهر",
        [
            "Enrol in the tailoring course at the vocational centre",
            "التقديم على منحة مشروع صغير",
        ],
    ),
    (
        PlanDimension::Social,
        "Reconnect with the extended family and neighbours",
        [
            "حضور لقاءات النساء في المركز المجتمعي",
            "Mediated visit to the family in the old neighbourhood",
        ],
    ),
    (
        PlanDimension::Psychosocial,
        "تخفيف الكوابيس والقلق منذ العودة من المخيم",
        ["Eight counselling sessions", "متابعة مع طبيب المركز الصحي"],
    ),
    (
        PlanDimension::Education,
        "All school-age children back in school",
        [
            "تسجيل الأطفال في المدرسة القريبة",
            "Catch-up classes for the eldest",
        ],
    ),
    (
        PlanDimension::Protection,
        "وثائق مدنية لكل أفراد الأسرة",
        [
            "Civil ID renewal at the civil status office",
            "استخراج شهادات ميلاد الأطفال المولودين في المخيم",
        ],
    ),
];

fn seal(
    case: &SealedCase,
    id: impl std::fmt::Display,
    table: &str,
    column: &str,
    text: &str,
) -> Result<Sealed, ApiError> {
    case.person
        .row(id, case.row.city_id)
        .seal_text(table, column, text)
        .map_err(ApiError::internal)
}

/// A day `days` from `at`.
fn day(at: NaiveDateTime, days: i64) -> NaiveDate {
    (at + Duration::days(days)).date()
}

/// The casework of one made-up person, appended to `out`.
pub(super) fn casework(
    rng: &mut Rng,
    now: NaiveDateTime,
    office: &CityOffice,
    case: &SealedCase,
    referrals: &[ReferralRow],
    out: &mut Casework,
) -> anyhow::Result<()> {
    let open = matches!(case.row.status, CaseStatus::Open | CaseStatus::Active);
    let opened = case.row.created_at;
    // A contact done in the past, with its note.
    if rng.chance(0.5) && opened + Duration::days(10) < now {
        let done_at = opened + Duration::days(rng.range(3, 10));
        let kind = *rng.pick(&[FollowUpKind::HomeVisit, FollowUpKind::PhoneCall]);
        let note = *rng.pick(&NOTES);
        contact(
            out,
            case,
            office.worker,
            kind,
            done_at,
            FollowUpStatus::Done,
            Some(note),
            None,
        )?;
    }
    // The next contact: due within three weeks either side of today, so
    // some are overdue.
    if open && rng.chance(0.6) {
        let due = now + Duration::days(rng.range(-21, 21));
        let kind = *rng.pick(&[FollowUpKind::HomeVisit, FollowUpKind::PhoneCall]);
        contact(
            out,
            case,
            office.worker,
            kind,
            due.max(opened),
            FollowUpStatus::Scheduled,
            None,
            None,
        )?;
    }
    // The system's referral checks, 14 days after a referral ended.
    for referral in referrals.iter().filter(|r| r.case_id == case.row.id) {
        let ended = match referral.state {
            ReferralState::Completed => referral.completed_at,
            ReferralState::Declined => referral.declined_at,
            _ => None,
        };
        let Some(ended) = ended else { continue };
        let due = ended + Duration::days(14);
        let status = if due + Duration::days(7) < now && rng.chance(0.8) {
            FollowUpStatus::Done
        } else {
            FollowUpStatus::Scheduled
        };
        let row = contact(
            out,
            case,
            office.worker,
            FollowUpKind::ReferralCheck,
            due,
            status,
            None,
            Some(referral),
        )?;
        row.created_by = None;
    }
    if open && opened + Duration::days(14) < now && rng.chance(0.35) {
        plan(rng, now, office, case, referrals, out)?;
    }
    Ok(())
}

/// One follow-up; `at` is its due day (and, when done, when it was done).
#[allow(clippy::too_many_arguments)]
fn contact<'a>(
    out: &'a mut Casework,
    case: &SealedCase,
    worker: UserId,
    kind: FollowUpKind,
    at: NaiveDateTime,
    status: FollowUpStatus,
    note: Option<&str>,
    referral: Option<&ReferralRow>,
) -> anyhow::Result<&'a mut FollowUpRow> {
    let id = FollowUpId::new();
    let note_enc = note
        .map(|text| seal(case, id, crate::follow_ups::store::TABLE, "note", text))
        .transpose()?;
    let done = status == FollowUpStatus::Done;
    out.follow_ups.push(FollowUpRow {
        id,
        case_id: case.row.id,
        city_id: case.row.city_id,
        kind,
        due_on: at.date(),
        assigned_to: worker,
        status,
        referral_id: referral.map(|r| r.id),
        note_enc,
        created_by: Some(worker),
        created_at: case.row.created_at.min(at),
        ended_by: done.then_some(worker),
        ended_at: done.then_some(at),
        updated_at: at,
        version: if done { 2 } else { 1 },
    });
    out.follow_ups
        .last_mut()
        .ok_or_else(|| anyhow::anyhow!("a follow-up was just added"))
}

/// A first plan version: one to three goals, each with its two actions;
/// approved by the city's supervisor three times in four.
fn plan(
    rng: &mut Rng,
    now: NaiveDateTime,
    office: &CityOffice,
    case: &SealedCase,
    referrals: &[ReferralRow],
    out: &mut Casework,
) -> anyhow::Result<()> {
    let id = PlanId::new();
    let written = case.row.created_at + Duration::days(rng.range(7, 14));
    let status = match rng.range(0, 8) {
        0 => PlanStatus::Draft,
        1 => PlanStatus::Submitted,
        _ => PlanStatus::Approved,
    };
    let submitted_at = (status != PlanStatus::Draft).then(|| written + Duration::days(1));
    let decided_at = (status == PlanStatus::Approved).then(|| written + Duration::days(3));
    out.plans.push(PlanRow {
        id,
        case_id: case.row.id,
        city_id: case.row.city_id,
        version: 1,
        status,
        previous_id: None,
        author_id: office.worker,
        created_at: written,
        submitted_at,
        decided_by: decided_at.map(|_| office.supervisor),
        decided_at,
        return_reason_enc: None,
        row_version: 1 + i64::from(submitted_at.is_some()) + i64::from(decided_at.is_some()),
    });
    let mut referral = referrals
        .iter()
        .find(|r| r.case_id == case.row.id)
        .map(|r| r.id);
    let first = rng.range(0, GOALS.len() as i64) as usize;
    let count = rng.range(1, 4) as usize;
    for position in 0..count {
        let (dimension, goal_text, action_texts) = GOALS[(first + position) % GOALS.len()];
        let goal_id = PlanGoalId::new();
        out.goals.push(GoalRow {
            id: goal_id,
            plan_id: id,
            case_id: case.row.id,
            city_id: case.row.city_id,
            dimension,
            text_enc: seal(case, goal_id, "plan_goals", "text", goal_text)?,
            position: position as i32,
        });
        for (a, text) in action_texts.iter().enumerate() {
            let action_id = PlanActionId::new();
            let target = day(written, rng.range(30, 180));
            let action_status = if status != PlanStatus::Approved {
                ActionStatus::Planned
            } else if target < now.date() {
                *rng.pick(&[
                    ActionStatus::Done,
                    ActionStatus::Done,
                    ActionStatus::Dropped,
                ])
            } else {
                *rng.pick(&[ActionStatus::Planned, ActionStatus::InProgress])
            };
            out.actions.push(ActionRow {
                id: action_id,
                plan_id: id,
                goal_id,
                case_id: case.row.id,
                city_id: case.row.city_id,
                text_enc: seal(case, action_id, "plan_actions", "text", text)?,
                referral_id: referral.take(),
                target_date: Some(target),
                status: action_status,
                position: a as i32,
                updated_at: decided_at.unwrap_or(written),
            });
        }
    }
    Ok(())
}
