//! Queries on `follow_ups`: scheduled by a worker or by the system (a
//! referral check after a referral is completed or declined), ended once
//! as done (with a sealed note), missed or cancelled, rescheduled while
//! scheduled, moved with the case.

use chrono::NaiveDate;
use diesel::prelude::*;

use crate::audit::Entity;
use crate::auth::guard::CityRow;
use crate::cases::data_keys;
use crate::cases::lifecycle::reseal_text;
use crate::cases::row::CaseRow;
use crate::cases::sealing::open_opt;
use crate::crypto::{Keyring, PersonKeys, Sealed};
use crate::db::schema::{follow_ups, user_cities, users};
use crate::db::{AnyConnection, lock_row_and_case};
use crate::domain::{
    CaseId, CaseStatus, CityId, FollowUpId, FollowUpKind, FollowUpStatus, NonBlank, ReferralId,
    Role, UserId, time,
};
use crate::error::{ApiError, FieldError};

use super::model::{FollowUp, FollowUpRow};

pub const TABLE: &str = "follow_ups";

/// A follow-up is held in its case's city; its lock takes the case first.
impl CityRow for FollowUpRow {
    type Id = FollowUpId;
    const ENTITY: Entity = Entity::FollowUp;

    fn find_for_update(
        conn: &mut AnyConnection,
        id: FollowUpId,
    ) -> Result<Option<FollowUpRow>, ApiError> {
        lock_row_and_case(conn, TABLE, id.into())?;
        find(conn, id)
    }

    fn id(&self) -> FollowUpId {
        self.id
    }

    fn city(&self) -> CityId {
        self.city_id
    }
}

pub fn find(conn: &mut AnyConnection, id: FollowUpId) -> Result<Option<FollowUpRow>, ApiError> {
    Ok(follow_ups::table
        .find(id)
        .select(follow_ups::all_columns)
        .first(conn)
        .optional()?)
}

fn keys(conn: &mut AnyConnection, keyring: &Keyring, case: CaseId) -> Result<PersonKeys, ApiError> {
    data_keys::load_live(conn, keyring, case)
}

/// Whether `user` is an active social worker or supervisor of `city`.
fn works_in(conn: &mut AnyConnection, user: UserId, city: CityId) -> Result<bool, ApiError> {
    let found: i64 = users::table
        .inner_join(user_cities::table.on(user_cities::user_id.eq(users::id)))
        .filter(users::id.eq(user))
        .filter(users::active.eq(true))
        .filter(users::role.eq_any([Role::SocialWorker, Role::CitySupervisor]))
        .filter(user_cities::city_id.eq(city))
        .count()
        .get_result(conn)?;
    Ok(found > 0)
}

fn check_assignee(conn: &mut AnyConnection, user: UserId, city: CityId) -> Result<(), ApiError> {
    match works_in(conn, user, city)? {
        true => Ok(()),
        false => Err(ApiError::Validation(vec![FieldError::new(
            "assigned_to",
            "is not an active social worker or supervisor of the case's city",
        )])),
    }
}

fn check_due(due_on: NaiveDate) -> Result<(), ApiError> {
    match due_on < time::today() {
        true => Err(ApiError::Validation(vec![FieldError::new(
            "due_on",
            "must not be in the past",
        )])),
        false => Ok(()),
    }
}

/// Schedules a follow-up of `case` (409 when the case is closed).
pub fn schedule(
    conn: &mut AnyConnection,
    case: &CaseRow,
    kind: FollowUpKind,
    due_on: NaiveDate,
    assigned_to: UserId,
    by: UserId,
) -> Result<FollowUpRow, ApiError> {
    check_due(due_on)?;
    check_assignee(conn, assigned_to, case.city_id)?;
    if case.status == CaseStatus::Closed {
        return Err(ApiError::Conflict(
            "The case is closed; reopen it before scheduling.".into(),
        ));
    }
    if case.status == CaseStatus::Erased {
        return Err(ApiError::Gone);
    }
    insert(
        conn,
        case.id,
        case.city_id,
        kind,
        due_on,
        assigned_to,
        None,
        Some(by),
    )
}

#[allow(clippy::too_many_arguments)]
fn insert(
    conn: &mut AnyConnection,
    case: CaseId,
    city: CityId,
    kind: FollowUpKind,
    due_on: NaiveDate,
    assigned_to: UserId,
    referral: Option<ReferralId>,
    by: Option<UserId>,
) -> Result<FollowUpRow, ApiError> {
    let now = time::now();
    let row = FollowUpRow {
        id: FollowUpId::new(),
        case_id: case,
        city_id: city,
        kind,
        due_on,
        assigned_to,
        status: FollowUpStatus::Scheduled,
        referral_id: referral,
        note_enc: None,
        created_by: by,
        created_at: now,
        ended_by: None,
        ended_at: None,
        updated_at: now,
        version: 1,
    };
    diesel::insert_into(follow_ups::table)
        .values(&row)
        .execute(conn)?;
    Ok(row)
}

/// The system's `referral_check`, `days` after a referral of `case` was
/// completed or declined, for the case's assigned worker (or, when none,
/// the referral's author).
pub fn schedule_referral_check(
    conn: &mut AnyConnection,
    case: &CaseRow,
    referral: ReferralId,
    author: UserId,
    days: u32,
) -> Result<FollowUpRow, ApiError> {
    let due_on = time::today() + chrono::Duration::days(i64::from(days));
    let assignee = case.assigned_to.unwrap_or(author);
    insert(
        conn,
        case.id,
        case.city_id,
        FollowUpKind::ReferralCheck,
        due_on,
        assignee,
        Some(referral),
        None,
    )
}

/// What a PATCH asks, parsed.
#[derive(Debug)]
pub struct Change {
    pub status: Option<FollowUpStatus>,
    pub note: Option<NonBlank>,
    pub due_on: Option<NaiveDate>,
    pub assigned_to: Option<UserId>,
}

/// Ends or reschedules a scheduled follow-up (409 once ended), as one
/// conditional update.
pub fn change(
    conn: &mut AnyConnection,
    keyring: &Keyring,
    row: &FollowUpRow,
    change: &Change,
    by: UserId,
) -> Result<FollowUpRow, ApiError> {
    if change.note.is_some() && change.status != Some(FollowUpStatus::Done) {
        return Err(ApiError::Validation(vec![FieldError::new(
            "note",
            "is recorded only with status done",
        )]));
    }
    if change.status == Some(FollowUpStatus::Scheduled) {
        return Err(ApiError::Validation(vec![FieldError::new(
            "status",
            "must be done, missed or cancelled",
        )]));
    }
    if let Some(due_on) = change.due_on {
        check_due(due_on)?;
    }
    if let Some(user) = change.assigned_to {
        check_assignee(conn, user, row.city_id)?;
    }
    if row.status != FollowUpStatus::Scheduled {
        let state = row.status.as_str();
        return Err(ApiError::Conflict(format!(
            "The follow-up is {state}: only a scheduled one changes."
        )));
    }
    let note_enc: Option<Sealed> = match &change.note {
        Some(note) => {
            let person = keys(conn, keyring, row.case_id)?;
            Some(
                person
                    .row(row.id, row.city_id)
                    .seal_text(TABLE, "note", note.trimmed())
                    .map_err(ApiError::internal)?,
            )
        }
        None => None,
    };
    let now = time::now();
    let ended = change.status.map(|_| now);
    let updated = diesel::update(
        follow_ups::table
            .filter(follow_ups::id.eq(row.id))
            .filter(follow_ups::version.eq(row.version))
            .filter(follow_ups::status.eq(FollowUpStatus::Scheduled)),
    )
    .set((
        follow_ups::status.eq(change.status.unwrap_or(row.status)),
        follow_ups::note_enc.eq(note_enc),
        follow_ups::due_on.eq(change.due_on.unwrap_or(row.due_on)),
        follow_ups::assigned_to.eq(change.assigned_to.unwrap_or(row.assigned_to)),
        follow_ups::ended_at.eq(ended),
        follow_ups::ended_by.eq(ended.map(|_| by)),
        follow_ups::updated_at.eq(now),
        follow_ups::version.eq(follow_ups::version + 1),
    ))
    .execute(conn)?;
    if updated != 1 {
        return Err(ApiError::Conflict(
            "The follow-up changed meanwhile; read it again.".into(),
        ));
    }
    find(conn, row.id)?.ok_or(ApiError::NotFound)
}

/// A case's follow-ups, soonest due first, decrypted.
pub fn list(
    conn: &mut AnyConnection,
    keyring: &Keyring,
    case: &CaseRow,
) -> Result<Vec<FollowUp>, ApiError> {
    let person = keys(conn, keyring, case.id)?;
    let rows: Vec<FollowUpRow> = follow_ups::table
        .filter(follow_ups::case_id.eq(case.id))
        .select(follow_ups::all_columns)
        .order((follow_ups::due_on.asc(), follow_ups::id.asc()))
        .load(conn)?;
    let today = time::today();
    rows.iter().map(|row| opened(&person, row, today)).collect()
}

/// One follow-up, decrypted.
pub fn view(
    conn: &mut AnyConnection,
    keyring: &Keyring,
    row: &FollowUpRow,
) -> Result<FollowUp, ApiError> {
    let person = keys(conn, keyring, row.case_id)?;
    opened(&person, row, time::today())
}

fn opened(person: &PersonKeys, row: &FollowUpRow, today: NaiveDate) -> Result<FollowUp, ApiError> {
    let cipher = person.row(row.id, row.city_id);
    Ok(FollowUp {
        id: row.id,
        case_id: row.case_id,
        city_id: row.city_id,
        kind: row.kind,
        due_on: row.due_on,
        overdue: row.status == FollowUpStatus::Scheduled && row.due_on < today,
        assigned_to: row.assigned_to,
        status: row.status,
        referral_id: row.referral_id,
        note: open_opt(&cipher, TABLE, "note", row.note_enc.as_ref(), row.id)?,
        created_by: row.created_by,
        created_at: time::to_utc(row.created_at),
        ended_at: row.ended_at.map(time::to_utc),
        version: row.version,
    })
}

/// Re-seals every follow-up of `case` for `city` (a transfer). Who is
/// assigned stays; the receiving city's supervisor reassigns.
pub fn move_to_city(
    conn: &mut AnyConnection,
    keyring: &Keyring,
    case: CaseId,
    city: CityId,
) -> Result<usize, ApiError> {
    let rows: Vec<FollowUpRow> = follow_ups::table
        .filter(follow_ups::case_id.eq(case))
        .select(follow_ups::all_columns)
        .load(conn)?;
    if rows.is_empty() {
        return Ok(0);
    }
    let person = keys(conn, keyring, case)?;
    for row in &rows {
        let (from, to) = (person.row(row.id, row.city_id), person.row(row.id, city));
        let note = row
            .note_enc
            .as_ref()
            .map(|s| reseal_text(&from, &to, TABLE, "note", s, row.id))
            .transpose()?;
        diesel::update(follow_ups::table.find(row.id))
            .set((
                follow_ups::city_id.eq(city),
                follow_ups::note_enc.eq(note),
                follow_ups::version.eq(follow_ups::version + 1),
            ))
            .execute(conn)?;
    }
    Ok(rows.len())
}

/// Stores made-up follow-ups in batches (the demo seed).
pub fn insert_many(conn: &mut AnyConnection, rows: &[FollowUpRow]) -> Result<(), ApiError> {
    let rows: Vec<&FollowUpRow> = rows.iter().collect();
    crate::insert_batches!(conn, follow_ups::table, rows, 15);
    Ok(())
}
