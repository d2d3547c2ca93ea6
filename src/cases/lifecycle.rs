//! A case's life after creation: closing, reopening, and moving to another
//! city (re-sealing every field for the new city, since the AAD names it).
//! Erasure is `erasure`.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::crypto::{FieldCipher, Keyring, Opened, Sealed};
use crate::db::AnyConnection;
use crate::db::schema::{case_notes, case_search_index, cases, plan_actions, plans, referrals};
use crate::domain::{
    ActionStatus, CaseId, CaseStatus, CityId, HouseholdId, NonBlank, NoteId, PlanStatus,
    ReferralId, ReferralState, time,
};
use crate::error::ApiError;

use super::data_keys;
use super::row::{CaseRow, TABLE};
use super::sealing::integrity;

/// Refuses (409) while the case has open referrals (pending, accepted or
/// in progress) or an active plan with actions not done or dropped, naming
/// them by id so they can be resolved first; nothing
/// about the person is in the message. Run with the case locked, in the
/// transaction that closes or asks to close.
pub fn refuse_while_open(conn: &mut AnyConnection, case: CaseId) -> Result<(), ApiError> {
    let open: Vec<ReferralId> = referrals::table
        .filter(referrals::case_id.eq(case))
        .filter(referrals::state.eq_any(ReferralState::OPEN))
        .select(referrals::id)
        .order(referrals::id.asc())
        .load(conn)?;
    let active: Option<String> = plans::table
        .inner_join(plan_actions::table.on(plan_actions::plan_id.eq(plans::id)))
        .filter(plans::case_id.eq(case))
        .filter(plans::status.eq(PlanStatus::Approved))
        .filter(plan_actions::status.eq_any([ActionStatus::Planned, ActionStatus::InProgress]))
        .select(plans::id)
        .first(conn)
        .optional()?;
    let ids: Vec<String> = open.iter().map(ReferralId::to_string).collect();
    let ids = ids.join(", ");
    match (ids.is_empty(), active) {
        (true, None) => Ok(()),
        (false, None) => Err(ApiError::Conflict(format!(
            "The case has open referrals; complete, decline or cancel them before closing: {ids}."
        ))),
        (true, Some(plan)) => Err(ApiError::Conflict(format!(
            "The case has an active plan with actions not done or dropped; finish or drop them before closing: {plan}."
        ))),
        (false, Some(plan)) => Err(ApiError::Conflict(format!(
            "The case has open referrals ({ids}) and an active plan with actions not done or dropped ({plan}); resolve them before closing."
        ))),
    }
}

/// Closes a case, keeping the reason sealed with the person's key; refused
/// (409) while it has open referrals.
pub fn close(
    conn: &mut AnyConnection,
    keyring: &Keyring,
    row: &CaseRow,
    reason: &NonBlank,
) -> Result<(), ApiError> {
    if row.status == CaseStatus::Closed {
        return Err(ApiError::Conflict("The case is already closed.".into()));
    }
    refuse_while_open(conn, row.id)?;
    let person = data_keys::load(conn, keyring, row.id)?;
    let sealed = person
        .row(row.id, row.city_id)
        .seal_text(TABLE, "closure_reason", reason.trimmed())
        .map_err(ApiError::internal)?;
    let now = time::now();
    diesel::update(cases::table.find(row.id))
        .set((
            cases::status.eq(CaseStatus::Closed),
            cases::closure_reason_enc.eq(Some(sealed)),
            cases::closed_at.eq(Some(now)),
            cases::version.eq(cases::version + 1),
            cases::updated_at.eq(now),
        ))
        .execute(conn)?;
    Ok(())
}

/// Reopens a closed case as active.
pub fn reopen(conn: &mut AnyConnection, row: &CaseRow) -> Result<(), ApiError> {
    if row.status != CaseStatus::Closed {
        return Err(ApiError::Conflict(
            "Only a closed case can be reopened.".into(),
        ));
    }
    diesel::update(cases::table.find(row.id))
        .set((
            cases::status.eq(CaseStatus::Active),
            cases::closure_reason_enc.eq(None::<Sealed>),
            cases::closed_at.eq(None::<NaiveDateTime>),
            cases::version.eq(cases::version + 1),
            cases::updated_at.eq(time::now()),
        ))
        .execute(conn)?;
    Ok(())
}

/// Re-seals one sealed value for another city (the AAD names the city).
pub(crate) fn reseal_text(
    from: &FieldCipher<'_>,
    to: &FieldCipher<'_>,
    table: &str,
    column: &str,
    sealed: &Sealed,
    row_id: impl std::fmt::Display,
) -> Result<Sealed, ApiError> {
    match from.open_text(table, column, sealed) {
        Ok(Opened::Value(plain)) => to
            .seal_text(table, column, &plain)
            .map_err(ApiError::internal),
        Ok(Opened::Erased) => Err(ApiError::Gone),
        Err(err) => Err(integrity(err, table, row_id)),
    }
}

fn reseal_opt(
    from: &FieldCipher<'_>,
    to: &FieldCipher<'_>,
    column: &str,
    sealed: &Option<Sealed>,
    row_id: CaseId,
) -> Result<Option<Sealed>, ApiError> {
    sealed
        .as_ref()
        .map(|s| reseal_text(from, to, TABLE, column, s, row_id))
        .transpose()
}

/// Moves a case to another city: every sealed field of the case and of its
/// notes is opened under the old city and sealed under the new one, and the
/// blind indexes follow. `household` is the household it belongs to after
/// the move. Runs inside the caller's transaction.
pub fn move_to_city(
    conn: &mut AnyConnection,
    keyring: &Keyring,
    row: &CaseRow,
    city: CityId,
    household: Option<HouseholdId>,
) -> Result<(), ApiError> {
    let person = data_keys::load(conn, keyring, row.id)?;
    if person.is_erased() {
        return Err(ApiError::Gone);
    }
    let id = row.id;
    let from = person.row(id, row.city_id);
    let to = person.row(id, city);
    let dob = match from.open_date(TABLE, "date_of_birth", &row.date_of_birth_enc) {
        Ok(Opened::Value(d)) => to
            .seal_date(TABLE, "date_of_birth", d)
            .map_err(ApiError::internal)?,
        Ok(Opened::Erased) => return Err(ApiError::Gone),
        Err(err) => return Err(integrity(err, TABLE, id)),
    };
    let reseal = |column: &str, sealed: &Option<Sealed>| reseal_opt(&from, &to, column, sealed, id);
    let full_name = reseal_text(&from, &to, TABLE, "full_name", &row.full_name_enc, id)?;
    diesel::update(cases::table.find(id))
        .set((
            cases::city_id.eq(city),
            cases::household_id.eq(household),
            cases::full_name_enc.eq(full_name),
            cases::full_name_latin_enc.eq(reseal("full_name_latin", &row.full_name_latin_enc)?),
            cases::date_of_birth_enc.eq(dob),
            cases::national_id_enc.eq(reseal("national_id", &row.national_id_enc)?),
            cases::phone_enc.eq(reseal("phone", &row.phone_enc)?),
            cases::address_enc.eq(reseal("address", &row.address_enc)?),
            cases::origin_place_enc.eq(reseal("origin_place", &row.origin_place_enc)?),
            cases::vulnerability_notes_enc
                .eq(reseal("vulnerability_notes", &row.vulnerability_notes_enc)?),
            cases::closure_reason_enc.eq(reseal("closure_reason", &row.closure_reason_enc)?),
            cases::version.eq(cases::version + 1),
            cases::updated_at.eq(time::now()),
        ))
        .execute(conn)?;
    let notes: Vec<(NoteId, Sealed)> = case_notes::table
        .filter(case_notes::case_id.eq(id))
        .select((case_notes::id, case_notes::body_enc))
        .load(conn)?;
    for (note, body) in notes {
        let resealed = reseal_text(
            &person.row(note, row.city_id),
            &person.row(note, city),
            "case_notes",
            "body",
            &body,
            note,
        )?;
        diesel::update(case_notes::table.find(note))
            .set((
                case_notes::body_enc.eq(resealed),
                case_notes::city_id.eq(city),
            ))
            .execute(conn)?;
    }
    diesel::update(case_search_index::table.filter(case_search_index::case_id.eq(id)))
        .set(case_search_index::city_id.eq(city))
        .execute(conn)?;
    Ok(())
}
