//! The queries behind `GET /tasks`: plaintext columns only (kinds, states,
//! dates, ids, case numbers), nothing opened, every one filtered to the
//! caller's cities.

use std::collections::{BTreeMap, HashMap};

use chrono::{NaiveDate, NaiveDateTime};
use diesel::dsl::max;
use diesel::prelude::*;

use crate::db::AnyConnection;
use crate::db::schema::{
    assessments, case_notes, cases, follow_ups, households, referrals, transfers,
};
use crate::domain::{
    AssessmentState, CaseId, CaseStatus, CityId, FollowUpId, FollowUpKind, FollowUpStatus,
    HouseholdId, ReferralId, ReferralState, Stage, TransferId, TransferStatus, UserId,
};
use crate::error::ApiError;

use super::model::{QuietHousehold, Task, TaskSource, Tasks, WorkerTasks};

/// Who asks, and the settings that say when things fall due.
#[derive(Debug, Clone)]
pub struct Asker {
    pub user: UserId,
    pub cities: Vec<CityId>,
    /// A supervisor sees every worker's tasks in their cities, grouped.
    pub supervisor: bool,
    pub assessment_days: u32,
    pub quiet_days: u32,
}

struct Pending {
    source: TaskSource,
    id: uuid::Uuid,
    case_id: CaseId,
    due_on: NaiveDate,
    detail: String,
    worker: Option<UserId>,
}

const OPEN_CASE: [CaseStatus; 2] = [CaseStatus::Open, CaseStatus::Active];

/// The caller's queue as of `today`: due up to six days ahead.
pub fn tasks(conn: &mut AnyConnection, asker: &Asker, today: NaiveDate) -> Result<Tasks, ApiError> {
    let week_ends = today + chrono::Duration::days(6);
    let cities = &asker.cities;
    let mut pending: Vec<Pending> = Vec::new();

    let mut due_follow_ups = follow_ups::table
        .filter(follow_ups::city_id.eq_any(cities))
        .filter(follow_ups::status.eq(FollowUpStatus::Scheduled))
        .filter(follow_ups::due_on.le(week_ends))
        .select((
            follow_ups::id,
            follow_ups::case_id,
            follow_ups::kind,
            follow_ups::due_on,
            follow_ups::assigned_to,
        ))
        .into_boxed();
    if !asker.supervisor {
        due_follow_ups = due_follow_ups.filter(follow_ups::assigned_to.eq(asker.user));
    }
    let rows: Vec<(FollowUpId, CaseId, FollowUpKind, NaiveDate, UserId)> =
        due_follow_ups.load(conn)?;
    pending.extend(
        rows.into_iter()
            .map(|(id, case_id, kind, due_on, to)| Pending {
                source: TaskSource::FollowUp,
                id: id.into(),
                case_id,
                due_on,
                detail: kind.as_str().into(),
                worker: Some(to),
            }),
    );

    let incoming: Vec<(TransferId, CaseId, NaiveDateTime)> = transfers::table
        .filter(transfers::to_city_id.eq_any(cities))
        .filter(transfers::status.eq(TransferStatus::Pending))
        .select((transfers::id, transfers::case_id, transfers::requested_at))
        .load(conn)?;
    pending.extend(incoming.into_iter().map(|(id, case_id, at)| Pending {
        source: TaskSource::Transfer,
        id: id.into(),
        case_id,
        due_on: at.date(),
        detail: TransferStatus::Pending.as_str().into(),
        worker: None,
    }));

    let mut due_referrals = referrals::table
        .filter(referrals::city_id.eq_any(cities))
        .filter(referrals::state.eq_any(ReferralState::OPEN))
        .filter(referrals::due_by.le(week_ends))
        .select((
            referrals::id,
            referrals::case_id,
            referrals::state,
            referrals::due_by,
            referrals::created_by,
        ))
        .into_boxed();
    if !asker.supervisor {
        due_referrals = due_referrals.filter(referrals::created_by.eq(asker.user));
    }
    let rows: Vec<(ReferralId, CaseId, ReferralState, Option<NaiveDate>, UserId)> =
        due_referrals.load(conn)?;
    pending.extend(
        rows.into_iter()
            .filter_map(|(id, case_id, state, due, by)| {
                due.map(|due_on| Pending {
                    source: TaskSource::Referral,
                    id: id.into(),
                    case_id,
                    due_on,
                    detail: state.as_str().into(),
                    worker: Some(by),
                })
            }),
    );

    let scored = [AssessmentState::Submitted, AssessmentState::Reviewed];
    let latest: Vec<(CaseId, Option<NaiveDateTime>)> = assessments::table
        .filter(assessments::city_id.eq_any(cities))
        .filter(assessments::state.eq_any(scored))
        .group_by(assessments::case_id)
        .select((assessments::case_id, max(assessments::submitted_at)))
        .load(conn)?;
    let exited: Vec<CaseId> = assessments::table
        .filter(assessments::city_id.eq_any(cities))
        .filter(assessments::state.eq_any(scored))
        .filter(assessments::stage.eq(Stage::Exit))
        .select(assessments::case_id)
        .load(conn)?;
    let days = chrono::Duration::days(i64::from(asker.assessment_days));
    pending.extend(latest.into_iter().filter_map(|(case_id, at)| {
        let due_on = at?.date() + days;
        (due_on <= week_ends && !exited.contains(&case_id)).then(|| Pending {
            source: TaskSource::Assessment,
            id: case_id.into(),
            case_id,
            due_on,
            detail: "due".into(),
            worker: None,
        })
    }));

    // The cases named: open ones only, with their numbers and workers.
    // Every row above was found in the caller's cities (a transfer by the
    // city it comes into: its case is still held by the sender's).
    let mut ids: Vec<CaseId> = pending.iter().map(|p| p.case_id).collect();
    ids.sort();
    ids.dedup();
    // In chunks: a queue may name more cases than a statement may bind.
    let mut by_id: HashMap<CaseId, (String, CityId, Option<UserId>)> = HashMap::new();
    for chunk in ids.chunks(crate::db::MAX_BIND_PARAMS / 2) {
        let found: Vec<(CaseId, String, CityId, Option<UserId>)> = cases::table
            .filter(cases::id.eq_any(chunk))
            .filter(cases::status.eq_any(OPEN_CASE))
            .select((
                cases::id,
                cases::case_number,
                cases::city_id,
                cases::assigned_to,
            ))
            .load(conn)?;
        by_id.extend(
            found
                .into_iter()
                .map(|(id, number, city, to)| (id, (number, city, to))),
        );
    }
    let mut list: Vec<Task> = Vec::new();
    for p in pending {
        let Some((number, city, assigned)) = by_id.get(&p.case_id) else {
            continue;
        };
        let worker = match p.source {
            TaskSource::FollowUp => p.worker,
            _ => assigned.or(p.worker),
        };
        // A worker's own day: what falls to them (transfers come to
        // everyone in the city: the supervisor decides, the worker knows).
        if !asker.supervisor && p.source == TaskSource::Assessment && worker != Some(asker.user) {
            continue;
        }
        list.push(Task {
            source: p.source,
            id: p.id,
            case_id: p.case_id,
            case_number: number.clone(),
            city_id: *city,
            due_on: p.due_on,
            overdue: p.due_on < today,
            detail: p.detail,
            worker_id: worker,
        });
    }
    list.sort_by(|a, b| {
        (!a.overdue, a.due_on, a.source, a.id).cmp(&(!b.overdue, b.due_on, b.source, b.id))
    });
    let by_worker = match asker.supervisor {
        true => group(&list),
        false => Vec::new(),
    };
    Ok(Tasks {
        today,
        week_ends,
        quiet_households: quiet(conn, cities, asker.quiet_days, today)?,
        tasks: list,
        by_worker,
    })
}

fn group(list: &[Task]) -> Vec<WorkerTasks> {
    let mut groups: BTreeMap<Option<UserId>, Vec<Task>> = BTreeMap::new();
    for task in list {
        groups.entry(task.worker_id).or_default().push(task.clone());
    }
    groups
        .into_iter()
        .map(|(worker_id, tasks)| WorkerTasks { worker_id, tasks })
        .collect()
}

/// Households in `cities` with an open member, none of whom has been
/// contacted (a note, a follow-up done) — nor opened — for `days`.
fn quiet(
    conn: &mut AnyConnection,
    cities: &[CityId],
    days: u32,
    today: NaiveDate,
) -> Result<Vec<QuietHousehold>, ApiError> {
    let members: Vec<(CaseId, Option<HouseholdId>, NaiveDateTime, CityId)> = cases::table
        .inner_join(households::table)
        .filter(households::city_id.eq_any(cities))
        .filter(cases::status.eq_any(OPEN_CASE))
        .select((
            cases::id,
            cases::household_id,
            cases::created_at,
            households::city_id,
        ))
        .load(conn)?;
    if members.is_empty() {
        return Ok(Vec::new());
    }
    // The same members as a subquery, not as a list of ids: a city's
    // households may hold more members than a statement may bind.
    let open_members = || {
        cases::table
            .inner_join(households::table)
            .filter(households::city_id.eq_any(cities))
            .filter(cases::status.eq_any(OPEN_CASE))
            .select(cases::id)
    };
    let notes: Vec<(CaseId, Option<NaiveDateTime>)> = case_notes::table
        .filter(case_notes::case_id.eq_any(open_members()))
        .group_by(case_notes::case_id)
        .select((case_notes::case_id, max(case_notes::created_at)))
        .load(conn)?;
    let visits: Vec<(CaseId, Option<NaiveDateTime>)> = follow_ups::table
        .filter(follow_ups::case_id.eq_any(open_members()))
        .filter(follow_ups::status.eq(FollowUpStatus::Done))
        .group_by(follow_ups::case_id)
        .select((follow_ups::case_id, max(follow_ups::ended_at)))
        .load(conn)?;
    let mut contact: HashMap<CaseId, NaiveDate> = HashMap::new();
    for (case, at) in notes.into_iter().chain(visits) {
        if let Some(at) = at {
            let day = contact.entry(case).or_insert(at.date());
            *day = (*day).max(at.date());
        }
    }
    let mut city_of: HashMap<HouseholdId, CityId> = HashMap::new();
    // Per household: the last contact, and the last sign of life (a
    // contact, or a member opened).
    let mut seen: BTreeMap<HouseholdId, (Option<NaiveDate>, NaiveDate)> = BTreeMap::new();
    for (case, household, created, city) in members {
        let Some(household) = household else { continue };
        city_of.insert(household, city);
        let last = contact.get(&case).copied();
        let alive = last.map_or(created.date(), |d| d.max(created.date()));
        let entry = seen.entry(household).or_insert((last, alive));
        entry.0 = entry.0.max(last);
        entry.1 = entry.1.max(alive);
    }
    let since = today - chrono::Duration::days(i64::from(days));
    Ok(seen
        .into_iter()
        .filter(|(_, (_, alive))| *alive < since)
        .filter_map(|(household_id, (last_contact, _))| {
            city_of.get(&household_id).map(|city| QuietHousehold {
                household_id,
                city_id: *city,
                last_contact,
            })
        })
        .collect())
}
