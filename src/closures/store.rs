//! Queries on `closure_requests`: asked, approved (the case closes) or
//! returned, recorded as self-approved for a supervisor's direct close,
//! moved with the case. The note and the reason for returning are sealed
//! with the person's key, bound to the request's id and the case's city.

use diesel::prelude::*;

use crate::audit::Entity;
use crate::auth::guard::CityRow;
use crate::cases::data_keys;
use crate::cases::lifecycle::{self, reseal_text};
use crate::cases::row::{self as cases, CaseRow};
use crate::cases::sealing::open_opt;
use crate::crypto::{Keyring, PersonKeys, Sealed};
use crate::db::schema::closure_requests;
use crate::db::{AnyConnection, lock_row_and_case};
use crate::domain::{
    CaseId, CaseStatus, CityId, ClosureReason, ClosureRequestId, ClosureStatus, NonBlank, UserId,
    time,
};
use crate::error::ApiError;

use super::model::{ClosureRequest, ClosureRequestRow};

pub const TABLE: &str = "closure_requests";

/// A closure request is held in its case's city; its lock takes the case
/// first, like every writer of both.
impl CityRow for ClosureRequestRow {
    type Id = ClosureRequestId;
    const ENTITY: Entity = Entity::ClosureRequest;

    fn find_for_update(
        conn: &mut AnyConnection,
        id: ClosureRequestId,
    ) -> Result<Option<ClosureRequestRow>, ApiError> {
        lock_row_and_case(conn, TABLE, id.into())?;
        find(conn, id)
    }

    fn id(&self) -> ClosureRequestId {
        self.id
    }

    fn city(&self) -> CityId {
        self.city_id
    }
}

pub fn find(
    conn: &mut AnyConnection,
    id: ClosureRequestId,
) -> Result<Option<ClosureRequestRow>, ApiError> {
    Ok(closure_requests::table
        .find(id)
        .select(closure_requests::all_columns)
        .first(conn)
        .optional()?)
}

fn keys(conn: &mut AnyConnection, keyring: &Keyring, case: CaseId) -> Result<PersonKeys, ApiError> {
    data_keys::load_live(conn, keyring, case)
}

/// A social worker's request to close `case`: refused (409) when the case
/// is closed, a request already waits, or the case has open referrals.
pub fn request(
    conn: &mut AnyConnection,
    keyring: &Keyring,
    case: &CaseRow,
    reason: ClosureReason,
    note: Option<&NonBlank>,
    by: UserId,
) -> Result<ClosureRequestRow, ApiError> {
    if case.status == CaseStatus::Closed {
        return Err(ApiError::Conflict("The case is already closed.".into()));
    }
    lifecycle::refuse_while_open(conn, case.id)?;
    if pending_of(conn, case.id)?.is_some() {
        return Err(ApiError::Conflict(
            "A closure request for this case is already waiting for a supervisor.".into(),
        ));
    }
    let person = keys(conn, keyring, case.id)?;
    let id = ClosureRequestId::new();
    let cipher = person.row(id, case.city_id);
    let note_enc = note
        .map(|n| cipher.seal_text(TABLE, "note", n.trimmed()))
        .transpose()
        .map_err(ApiError::internal)?;
    let row = ClosureRequestRow {
        id,
        case_id: case.id,
        city_id: case.city_id,
        reason,
        note_enc,
        status: ClosureStatus::Pending,
        requested_by: by,
        requested_at: time::now(),
        decided_by: None,
        decided_at: None,
        return_reason_enc: None,
        version: 1,
    };
    diesel::insert_into(closure_requests::table)
        .values(&row)
        .execute(conn)?;
    Ok(row)
}

/// The request waiting on `case`, if any.
fn pending_of(
    conn: &mut AnyConnection,
    case: CaseId,
) -> Result<Option<ClosureRequestId>, ApiError> {
    Ok(closure_requests::table
        .filter(closure_requests::case_id.eq(case))
        .filter(closure_requests::status.eq(ClosureStatus::Pending))
        .select(closure_requests::id)
        .first(conn)
        .optional()?)
}

fn not_pending(row: &ClosureRequestRow) -> ApiError {
    let state = row.status.as_str();
    ApiError::Conflict(format!(
        "The closure request is {state}: only a pending one can be decided."
    ))
}

/// Approves a pending request and closes its case (409 while the case has
/// open referrals). The case's closure reason is the request's reason and
/// note.
pub fn approve(
    conn: &mut AnyConnection,
    keyring: &Keyring,
    row: &ClosureRequestRow,
    by: UserId,
) -> Result<ClosureRequestRow, ApiError> {
    if row.status != ClosureStatus::Pending {
        return Err(not_pending(row));
    }
    let case = cases::find(conn, row.case_id)?.ok_or(ApiError::NotFound)?;
    let person = keys(conn, keyring, row.case_id)?;
    let note = open_opt(
        &person.row(row.id, row.city_id),
        TABLE,
        "note",
        row.note_enc.as_ref(),
        row.id,
    )?;
    let text = match note {
        Some(note) => format!("{}: {note}", row.reason.as_str()),
        None => row.reason.as_str().to_string(),
    };
    let text = NonBlank::parse(text).map_err(|_| ApiError::internal(anyhow::anyhow!("blank")))?;
    lifecycle::close(conn, keyring, &case, &text)?;
    decide(conn, row, ClosureStatus::Approved, by, None)
}

/// Returns a pending request to the worker, with a reason (sealed).
pub fn send_back(
    conn: &mut AnyConnection,
    keyring: &Keyring,
    row: &ClosureRequestRow,
    by: UserId,
    reason: &NonBlank,
) -> Result<ClosureRequestRow, ApiError> {
    if row.status != ClosureStatus::Pending {
        return Err(not_pending(row));
    }
    let person = keys(conn, keyring, row.case_id)?;
    let sealed = person
        .row(row.id, row.city_id)
        .seal_text(TABLE, "return_reason", reason.trimmed())
        .map_err(ApiError::internal)?;
    decide(conn, row, ClosureStatus::Returned, by, Some(sealed))
}

/// Moves a pending request to `to`, conditionally on its status and
/// version, so of two concurrent decisions exactly one wins (409).
fn decide(
    conn: &mut AnyConnection,
    row: &ClosureRequestRow,
    to: ClosureStatus,
    by: UserId,
    return_reason: Option<Sealed>,
) -> Result<ClosureRequestRow, ApiError> {
    let now = time::now();
    let updated = diesel::update(
        closure_requests::table
            .filter(closure_requests::id.eq(row.id))
            .filter(closure_requests::status.eq(ClosureStatus::Pending))
            .filter(closure_requests::version.eq(row.version)),
    )
    .set((
        closure_requests::status.eq(to),
        closure_requests::decided_by.eq(Some(by)),
        closure_requests::decided_at.eq(Some(now)),
        closure_requests::return_reason_enc.eq(return_reason),
        closure_requests::version.eq(closure_requests::version + 1),
    ))
    .execute(conn)?;
    if updated != 1 {
        return Err(not_pending(row));
    }
    find(conn, row.id)?.ok_or(ApiError::NotFound)
}

/// A supervisor's direct close, kept as a request they approved
/// themselves (reason `other`: the free-text reason is the case's sealed
/// closure reason). A request waiting on the case is approved with it.
pub fn record_self_approved(
    conn: &mut AnyConnection,
    case: &CaseRow,
    by: UserId,
) -> Result<ClosureRequestId, ApiError> {
    let now = time::now();
    diesel::update(
        closure_requests::table
            .filter(closure_requests::case_id.eq(case.id))
            .filter(closure_requests::status.eq(ClosureStatus::Pending)),
    )
    .set((
        closure_requests::status.eq(ClosureStatus::Approved),
        closure_requests::decided_by.eq(Some(by)),
        closure_requests::decided_at.eq(Some(now)),
        closure_requests::version.eq(closure_requests::version + 1),
    ))
    .execute(conn)?;
    let id = ClosureRequestId::new();
    let row = ClosureRequestRow {
        id,
        case_id: case.id,
        city_id: case.city_id,
        reason: ClosureReason::Other,
        note_enc: None,
        status: ClosureStatus::SelfApproved,
        requested_by: by,
        requested_at: now,
        decided_by: Some(by),
        decided_at: Some(now),
        return_reason_enc: None,
        version: 1,
    };
    diesel::insert_into(closure_requests::table)
        .values(&row)
        .execute(conn)?;
    Ok(id)
}

/// A case's closure requests, newest first, decrypted.
pub fn list(
    conn: &mut AnyConnection,
    keyring: &Keyring,
    case: &CaseRow,
) -> Result<Vec<ClosureRequest>, ApiError> {
    let person = keys(conn, keyring, case.id)?;
    let rows: Vec<ClosureRequestRow> = closure_requests::table
        .filter(closure_requests::case_id.eq(case.id))
        .select(closure_requests::all_columns)
        .order((
            closure_requests::requested_at.desc(),
            closure_requests::id.desc(),
        ))
        .load(conn)?;
    rows.iter().map(|row| opened(&person, row)).collect()
}

/// One request, decrypted.
pub fn view(
    conn: &mut AnyConnection,
    keyring: &Keyring,
    row: &ClosureRequestRow,
) -> Result<ClosureRequest, ApiError> {
    let person = keys(conn, keyring, row.case_id)?;
    opened(&person, row)
}

fn opened(person: &PersonKeys, row: &ClosureRequestRow) -> Result<ClosureRequest, ApiError> {
    let cipher = person.row(row.id, row.city_id);
    let open = |column, sealed: Option<&Sealed>| open_opt(&cipher, TABLE, column, sealed, row.id);
    Ok(ClosureRequest {
        id: row.id,
        case_id: row.case_id,
        city_id: row.city_id,
        reason: row.reason,
        note: open("note", row.note_enc.as_ref())?,
        status: row.status,
        requested_by: row.requested_by,
        requested_at: time::to_utc(row.requested_at),
        decided_by: row.decided_by,
        decided_at: row.decided_at.map(time::to_utc),
        return_reason: open("return_reason", row.return_reason_enc.as_ref())?,
        version: row.version,
    })
}

/// Re-seals every closure request of `case` for `city` (a transfer).
pub fn move_to_city(
    conn: &mut AnyConnection,
    keyring: &Keyring,
    case: CaseId,
    city: CityId,
) -> Result<usize, ApiError> {
    let rows: Vec<ClosureRequestRow> = closure_requests::table
        .filter(closure_requests::case_id.eq(case))
        .select(closure_requests::all_columns)
        .load(conn)?;
    if rows.is_empty() {
        return Ok(0);
    }
    let person = keys(conn, keyring, case)?;
    for row in &rows {
        let (from, to) = (person.row(row.id, row.city_id), person.row(row.id, city));
        let reseal = |column: &str, sealed: &Option<Sealed>| {
            sealed
                .as_ref()
                .map(|s| reseal_text(&from, &to, TABLE, column, s, row.id))
                .transpose()
        };
        diesel::update(closure_requests::table.find(row.id))
            .set((
                closure_requests::city_id.eq(city),
                closure_requests::note_enc.eq(reseal("note", &row.note_enc)?),
                closure_requests::return_reason_enc
                    .eq(reseal("return_reason", &row.return_reason_enc)?),
                closure_requests::version.eq(closure_requests::version + 1),
            ))
            .execute(conn)?;
    }
    Ok(rows.len())
}
