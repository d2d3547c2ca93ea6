//! Queries on `transfers`, and the move itself.

use diesel::prelude::*;

use crate::cases::data_keys;
use crate::cases::store::{self as cases, CaseRow};
use crate::crypto::{Keyring, Opened, Sealed};
use crate::db::AnyConnection;
use crate::db::schema::{cities, transfers};
use crate::domain::{CityId, HouseholdId, TransferStatus, UserId, time};
use crate::error::{ApiError, FieldError};
use crate::households::store as households;
use crate::referrals::store as referrals;

use super::model::{Direction, Transfer, TransferRow};

const TABLE: &str = "transfers";

pub fn find(conn: &mut AnyConnection, id: &str) -> Result<Option<TransferRow>, ApiError> {
    Ok(transfers::table
        .find(id)
        .select(transfers::all_columns)
        .first(conn)
        .optional()?)
}

pub fn status(row: &TransferRow) -> Result<TransferStatus, ApiError> {
    TransferStatus::from_db(&row.status).ok_or_else(|| cases::corrupt("transfers.status"))
}

pub fn city(text: &str) -> Result<CityId, ApiError> {
    CityId::from_db(text).map_err(|_| cases::corrupt("transfers city"))
}

/// Asks to move `case` to `to`. One pending transfer per case.
pub fn create(
    conn: &mut AnyConnection,
    keyring: &Keyring,
    case: &CaseRow,
    to: CityId,
    with_household: bool,
    reason: &str,
    by: UserId,
) -> Result<String, ApiError> {
    let mut errors = Vec::new();
    let exists: i64 = cities::table.find(to.to_db()).count().get_result(conn)?;
    if exists == 0 {
        errors.push(FieldError::new("to_city_id", "does not exist"));
    } else if to.to_db() == case.city_id {
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
        .filter(transfers::case_id.eq(&case.id))
        .filter(transfers::status.eq(TransferStatus::Pending.as_str()))
        .count()
        .get_result(conn)?;
    if pending > 0 {
        return Err(ApiError::Conflict(
            "The case already has a pending transfer.".into(),
        ));
    }
    let id = uuid::Uuid::new_v4().to_string();
    let person = data_keys::load(conn, keyring, &case.id)?;
    let sealed = person
        .row(&id, &case.city_id)
        .seal_text(TABLE, "reason", reason.trim())
        .map_err(ApiError::internal)?;
    diesel::insert_into(transfers::table)
        .values((
            transfers::id.eq(&id),
            transfers::case_id.eq(&case.id),
            transfers::from_city_id.eq(&case.city_id),
            transfers::to_city_id.eq(to.to_db()),
            transfers::with_household.eq(with_household),
            transfers::status.eq(TransferStatus::Pending.as_str()),
            transfers::reason_enc.eq(sealed),
            transfers::requested_by.eq(by.to_db()),
            transfers::requested_at.eq(time::now()),
        ))
        .execute(conn)?;
    Ok(id)
}

/// Transfers touching `cities` in the given direction (both when `None`),
/// newest first.
pub fn list(
    conn: &mut AnyConnection,
    cities: &[CityId],
    direction: Option<Direction>,
    status: Option<TransferStatus>,
) -> Result<Vec<TransferRow>, ApiError> {
    let ids: Vec<String> = cities.iter().map(CityId::to_db).collect();
    let mut query = transfers::table
        .select(transfers::all_columns)
        .order((transfers::requested_at.desc(), transfers::id.desc()))
        .limit(500)
        .into_boxed();
    query = match direction {
        Some(Direction::Incoming) => query.filter(transfers::to_city_id.eq_any(ids)),
        Some(Direction::Outgoing) => query.filter(transfers::from_city_id.eq_any(ids)),
        None => query.filter(
            transfers::to_city_id
                .eq_any(ids.clone())
                .or(transfers::from_city_id.eq_any(ids)),
        ),
    };
    if let Some(status) = status {
        query = query.filter(transfers::status.eq(status.as_str()));
    }
    Ok(query.load(conn)?)
}

fn open(
    conn: &mut AnyConnection,
    keyring: &Keyring,
    row: &TransferRow,
    column: &str,
    sealed: &Sealed,
) -> Result<Option<String>, ApiError> {
    let person = data_keys::load(conn, keyring, &row.case_id)?;
    match person
        .row(&row.id, &row.from_city_id)
        .open_text(TABLE, column, sealed)
    {
        Ok(Opened::Value(v)) => Ok(Some(v)),
        Ok(Opened::Erased) => Ok(None),
        Err(err) => Err(cases::integrity(err, TABLE, &row.id)),
    }
}

pub fn view(
    conn: &mut AnyConnection,
    keyring: &Keyring,
    row: &TransferRow,
) -> Result<Transfer, ApiError> {
    let reason = open(conn, keyring, row, "reason", &row.reason_enc)?;
    let decision_reason = match &row.decision_reason_enc {
        Some(sealed) => open(conn, keyring, row, "decision_reason", sealed)?,
        None => None,
    };
    Ok(Transfer {
        id: row.id.clone(),
        case_id: row.case_id.clone(),
        from_city_id: row.from_city_id.clone(),
        to_city_id: row.to_city_id.clone(),
        with_household: row.with_household,
        status: status(row)?,
        reason,
        decision_reason,
        requested_by: row.requested_by.clone(),
        requested_at: time::to_utc(row.requested_at),
        decided_by: row.decided_by.clone(),
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
    if status(row)? != TransferStatus::Pending {
        return Err(no_longer_pending());
    }
    let person = data_keys::load(conn, keyring, &row.case_id)?;
    // Erasure cancels a case's pending transfer; one left pending from
    // before that rule can only be cancelled: there is no one to move, and
    // no key to seal a reason with.
    if person.is_erased() && to != TransferStatus::Cancelled {
        return Err(ApiError::Gone);
    }
    let sealed = match reason {
        Some(reason) => Some(
            person
                .row(&row.id, &row.from_city_id)
                .seal_text(TABLE, "decision_reason", reason.trim())
                .map_err(ApiError::internal)?,
        ),
        None => None,
    };
    let updated = diesel::update(
        transfers::table
            .filter(transfers::id.eq(&row.id))
            .filter(transfers::status.eq(TransferStatus::Pending.as_str())),
    )
    .set((
        transfers::status.eq(to.as_str()),
        transfers::decision_reason_enc.eq(sealed),
        transfers::decided_by.eq(Some(by.to_db())),
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
) -> Result<Vec<String>, ApiError> {
    let case_id = crate::domain::CaseId::from_db(&row.case_id)
        .map_err(|_| cases::corrupt("transfers.case_id"))?;
    let case = cases::find(conn, case_id)?.ok_or(ApiError::NotFound)?;
    if case.city_id != row.from_city_id {
        return Err(ApiError::Conflict(
            "The case is no longer in the sending city.".into(),
        ));
    }
    let from = city(&row.from_city_id)?;
    let to = city(&row.to_city_id)?;
    let household = case
        .household_id
        .as_deref()
        .map(|h| HouseholdId::from_db(h).map_err(|_| cases::corrupt("cases.household_id")))
        .transpose()?;
    match (row.with_household, household) {
        (true, Some(household)) => {
            let members = households::members(conn, household)?;
            households::move_to_city(conn, keyring, household, from, to)?;
            let mut moved = Vec::new();
            for member in members.iter().filter(|m| m.city_id == row.from_city_id) {
                crate::cases::lifecycle::move_to_city(conn, keyring, member, to, Some(household))?;
                referrals::move_to_city(conn, keyring, member, to)?;
                moved.push(member.id.clone());
            }
            Ok(moved)
        }
        _ => {
            // Alone, the person leaves a household that stays behind.
            crate::cases::lifecycle::move_to_city(conn, keyring, &case, to, None)?;
            referrals::move_to_city(conn, keyring, &case, to)?;
            Ok(vec![case.id.clone()])
        }
    }
}
