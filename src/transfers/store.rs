//! Queries on `transfers`, and the move itself.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::audit::Entity;
use crate::auth::guard::CityRow;
use crate::auth::policy::{Action, Resource};
use crate::cases::data_keys;
use crate::cases::lifecycle;
use crate::cases::row::{self as cases, CaseRow};
use crate::cases::sealing::open_opt;
use crate::crypto::{Keyring, PersonKeys};
use crate::db::schema::{cities, transfers};
use crate::db::{AnyConnection, lock_household_members, lock_row_and_case};
use crate::domain::{CaseId, CityId, HouseholdId, TransferId, TransferStatus, UserId, time};
use crate::error::{ApiError, FieldError};
use crate::households::store as households;
use crate::pagination::{Cursor, PageRequest};
use crate::referrals::store as referrals;

use super::model::{Direction, NewTransfer, Transfer, TransferRow};

const TABLE: &str = "transfers";

/// A transfer is filed under the sending city; the receiving city decides
/// it (accept, reject) and the sending city may cancel it.
impl CityRow for TransferRow {
    type Id = TransferId;
    const ENTITY: Entity = Entity::Transfer;

    /// Locks the case first, then the transfer (the order every writer of
    /// both takes).
    fn find_for_update(
        conn: &mut AnyConnection,
        id: TransferId,
    ) -> Result<Option<TransferRow>, ApiError> {
        lock_row_and_case(conn, "transfers", id.into())?;
        find(conn, id)
    }

    fn id(&self) -> TransferId {
        self.id
    }

    fn city(&self) -> CityId {
        self.from_city_id
    }

    fn resource(&self, action: Action) -> Resource {
        match action {
            Action::TransferDecide => Resource::City(self.to_city_id),
            _ => Resource::City(self.from_city_id),
        }
    }
}

pub fn find(conn: &mut AnyConnection, id: TransferId) -> Result<Option<TransferRow>, ApiError> {
    Ok(transfers::table
        .find(id)
        .select(transfers::all_columns)
        .first(conn)
        .optional()?)
}

/// Asks to move `case` to `to`. One pending transfer per case.
pub fn create(
    conn: &mut AnyConnection,
    keyring: &Keyring,
    case: &CaseRow,
    transfer: &NewTransfer,
    by: UserId,
) -> Result<TransferRow, ApiError> {
    let NewTransfer {
        to_city_id: to,
        reason,
        with_household,
    } = transfer;
    let (to, with_household) = (*to, *with_household);
    let mut errors = Vec::new();
    let exists: i64 = cities::table.find(to).count().get_result(conn)?;
    if exists == 0 {
        errors.push(FieldError::new("to_city_id", "does not exist"));
    } else if to == case.city_id {
        errors.push(FieldError::new("to_city_id", "is the case's own city"));
    }
    if with_household && case.household_id.is_none() {
        errors.push(FieldError::new(
            "with_household",
            "the case has no household",
        ));
    }
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let pending: i64 = transfers::table
        .filter(transfers::case_id.eq(case.id))
        .filter(transfers::status.eq(TransferStatus::Pending))
        .count()
        .get_result(conn)?;
    if pending > 0 {
        return Err(ApiError::Conflict(
            "The case already has a pending transfer.".into(),
        ));
    }
    let id = TransferId::new();
    let person = data_keys::load(conn, keyring, case.id)?;
    let row = TransferRow {
        id,
        case_id: case.id,
        from_city_id: case.city_id,
        to_city_id: to,
        with_household,
        status: TransferStatus::Pending,
        reason_enc: person
            .row(id, case.city_id)
            .seal_text(TABLE, "reason", reason.trimmed())
            .map_err(ApiError::internal)?,
        decision_reason_enc: None,
        requested_by: by,
        requested_at: time::now(),
        decided_by: None,
        decided_at: None,
    };
    diesel::insert_into(transfers::table)
        .values(&row)
        .execute(conn)?;
    Ok(row)
}

/// A page of the transfers touching `cities` in the given direction (both
/// when `None`), newest first, after the page's cursor.
pub fn list(
    conn: &mut AnyConnection,
    cities: &[CityId],
    direction: Option<Direction>,
    status: Option<TransferStatus>,
    page: &PageRequest<NaiveDateTime>,
) -> Result<Vec<TransferRow>, ApiError> {
    let mut query = transfers::table
        .select(transfers::all_columns)
        .order((transfers::requested_at.desc(), transfers::id.desc()))
        .limit(page.fetch())
        .into_boxed();
    query = match direction {
        Some(Direction::Incoming) => query.filter(transfers::to_city_id.eq_any(cities.to_vec())),
        Some(Direction::Outgoing) => query.filter(transfers::from_city_id.eq_any(cities.to_vec())),
        None => query.filter(
            transfers::to_city_id
                .eq_any(cities.to_vec())
                .or(transfers::from_city_id.eq_any(cities.to_vec())),
        ),
    };
    if let Some(status) = status {
        query = query.filter(transfers::status.eq(status));
    }
    if let Some(Cursor { key: at, id }) = &page.after {
        let id = TransferId::from(*id);
        query = query.filter(
            transfers::requested_at
                .lt(*at)
                .or(transfers::requested_at.eq(*at).and(transfers::id.lt(id))),
        );
    }
    Ok(query.load(conn)?)
}

/// Where the next page starts after this row.
pub fn position(row: &TransferRow) -> Cursor<NaiveDateTime> {
    Cursor::new(row.requested_at, row.id)
}

/// The transfer, its reasons opened (`null` once the person is erased).
pub fn view(
    conn: &mut AnyConnection,
    keyring: &Keyring,
    row: &TransferRow,
) -> Result<Transfer, ApiError> {
    let person = data_keys::load(conn, keyring, row.case_id)?;
    opened(row, &person)
}

/// [`view`] of a page of transfers, with one query for the people's keys.
pub fn views(
    conn: &mut AnyConnection,
    keyring: &Keyring,
    rows: &[TransferRow],
) -> Result<Vec<Transfer>, ApiError> {
    let ids: Vec<CaseId> = rows.iter().map(|r| r.case_id).collect();
    let people = data_keys::load_many(conn, keyring, &ids)?;
    let erased = PersonKeys::erased();
    rows.iter()
        .map(|row| opened(row, people.get(&row.case_id.into()).unwrap_or(&erased)))
        .collect()
}

fn opened(row: &TransferRow, person: &PersonKeys) -> Result<Transfer, ApiError> {
    let cipher = person.row(row.id, row.from_city_id);
    let open = |column, sealed| open_opt(&cipher, TABLE, column, sealed, row.id);
    Ok(Transfer {
        id: row.id,
        case_id: row.case_id,
        from_city_id: row.from_city_id,
        to_city_id: row.to_city_id,
        with_household: row.with_household,
        status: row.status,
        reason: open("reason", Some(&row.reason_enc))?,
        decision_reason: open("decision_reason", row.decision_reason_enc.as_ref())?,
        requested_by: row.requested_by,
        requested_at: time::to_utc(row.requested_at),
        decided_by: row.decided_by,
        decided_at: row.decided_at.map(time::to_utc),
    })
}

/// Ends a pending transfer. Only a pending one can be decided: the update
/// is conditional, so of two concurrent decisions exactly one wins (409).
pub fn decide(
    conn: &mut AnyConnection,
    keyring: &Keyring,
    row: &TransferRow,
    to: TransferStatus,
    by: UserId,
    reason: Option<&str>,
) -> Result<(), ApiError> {
    let no_longer_pending = || ApiError::Conflict("The transfer is no longer pending.".into());
    if row.status != TransferStatus::Pending {
        return Err(no_longer_pending());
    }
    let person = data_keys::load(conn, keyring, row.case_id)?;
    // Erasure cancels a case's pending transfer; one left pending from
    // before that rule can only be cancelled: there is no one to move, and
    // no key to seal a reason with.
    if person.is_erased() && to != TransferStatus::Cancelled {
        return Err(ApiError::Gone);
    }
    let sealed = match reason {
        Some(reason) => Some(
            person
                .row(row.id, row.from_city_id)
                .seal_text(TABLE, "decision_reason", reason.trim())
                .map_err(ApiError::internal)?,
        ),
        None => None,
    };
    let updated = diesel::update(
        transfers::table
            .filter(transfers::id.eq(row.id))
            .filter(transfers::status.eq(TransferStatus::Pending)),
    )
    .set((
        transfers::status.eq(to),
        transfers::decision_reason_enc.eq(sealed),
        transfers::decided_by.eq(Some(by)),
        transfers::decided_at.eq(Some(time::now())),
    ))
    .execute(conn)?;
    if updated == 1 {
        Ok(())
    } else {
        Err(no_longer_pending())
    }
}

/// Moves the case — and, for a household transfer, the household and every
/// member — to the receiving city. Returns the ids of the moved cases.
pub fn carry_out(
    conn: &mut AnyConnection,
    keyring: &Keyring,
    row: &TransferRow,
) -> Result<Vec<CaseId>, ApiError> {
    let case = cases::find(conn, row.case_id)?.ok_or(ApiError::NotFound)?;
    if case.city_id != row.from_city_id {
        return Err(ApiError::Conflict(
            "The case is no longer in the sending city.".into(),
        ));
    }
    let (from, to) = (row.from_city_id, row.to_city_id);
    match (row.with_household, case.household_id) {
        (true, Some(household)) => {
            // Read locked: a member changed by its city meanwhile (a note,
            // a PATCH, an erasure) is moved as it now is, or waits for the
            // move and then finds it in the new city.
            lock_household_members(conn, household.into())?;
            let members = cases::members(conn, household)?;
            households::move_to_city(conn, keyring, household, from, to)?;
            let mut moved = Vec::new();
            for member in members.iter().filter(|m| m.city_id == from) {
                move_person(conn, keyring, member, to, Some(household))?;
                moved.push(member.id);
            }
            Ok(moved)
        }
        _ => {
            // Alone, the person leaves a household that stays behind.
            move_person(conn, keyring, &case, to, None)?;
            Ok(vec![case.id])
        }
    }
}

/// One person and everything held about them — the case and its notes,
/// referrals, assessments, closure requests, follow-ups, plans — re-sealed
/// for `to`.
fn move_person(
    conn: &mut AnyConnection,
    keyring: &Keyring,
    case: &CaseRow,
    to: CityId,
    household: Option<HouseholdId>,
) -> Result<(), ApiError> {
    lifecycle::move_to_city(conn, keyring, case, to, household)?;
    referrals::move_to_city(conn, keyring, case, to)?;
    crate::assessments::store::move_to_city(conn, keyring, case, to)?;
    crate::closures::store::move_to_city(conn, keyring, case.id, to)?;
    crate::follow_ups::store::move_to_city(conn, keyring, case.id, to)?;
    crate::plans::store::move_to_city(conn, keyring, case.id, to)?;
    Ok(())
}
