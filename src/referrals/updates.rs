//! Progress updates on a referral: while a referral is in progress its
//! provider posts short notes on how it is going (sessions attended, an
//! interview arranged). Each note is sealed with the person's data key,
//! bound to the update's own id and the case's city; the referring city
//! and the provider (while the referral is open) read them. They move,
//! re-sealed, with their case on a transfer and are deleted on erasure.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use validator::Validate;

use crate::cases::data_keys;
use crate::cases::lifecycle::reseal_text;
use crate::cases::sealing::open;
use crate::crypto::{Keyring, PersonKeys, Sealed};
use crate::db::AnyConnection;
use crate::db::schema::referral_updates;
use crate::domain::{
    CaseId, CityId, NonBlank, ReferralId, ReferralState, ReferralUpdateId, UserId, time,
};
use crate::error::ApiError;

use super::model::ReferralRow;

pub const TABLE: &str = "referral_updates";

/// `POST /referrals/{id}/updates`.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"note": "Attended four of six sessions; interview with a bakery on Sunday."}))]
pub struct CreateReferralUpdate {
    /// Kept encrypted with the case; not blank.
    #[validate(length(min = 1, max = 2000))]
    #[schema(
        min_length = 1,
        max_length = 2000,
        pattern = r"^[^\x00]*[^\x00\t\n\x0b\x0c\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000][^\x00]*$"
    )]
    pub note: String,
}

/// A progress update, decrypted.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "0b7e8a52-5f0c-4d5e-9c1e-2f1c3c1d9a10",
    "referral_id": "6f2d3c4b-1a2b-4c3d-8e9f-0a1b2c3d4e5f",
    "note": "Attended four of six sessions; interview with a bakery on Sunday.",
    "created_by": "4c1d2e3f-5a6b-4c7d-8e9f-0a1b2c3d4e5f",
    "created_at": "2026-12-01T09:30:00Z"
}))]
pub struct ReferralUpdate {
    #[schema(value_type = String, format = Uuid)]
    pub id: ReferralUpdateId,
    #[schema(value_type = String, format = Uuid)]
    pub referral_id: ReferralId,
    pub note: String,
    #[schema(value_type = String, format = Uuid)]
    pub created_by: UserId,
    pub created_at: DateTime<Utc>,
}

/// One row of `referral_updates`.
#[derive(Debug, Clone, diesel::Queryable, diesel::Insertable)]
#[diesel(table_name = referral_updates)]
pub struct UpdateRow {
    pub id: ReferralUpdateId,
    pub referral_id: ReferralId,
    pub case_id: CaseId,
    pub city_id: CityId,
    pub note_enc: Sealed,
    pub created_by: UserId,
    pub created_at: NaiveDateTime,
}

/// Adds a progress update to `referral`, which must be in progress (409
/// otherwise) and its person not erased (410).
pub fn add(
    conn: &mut AnyConnection,
    keyring: &Keyring,
    referral: &ReferralRow,
    note: &NonBlank,
    by: UserId,
) -> Result<ReferralUpdate, ApiError> {
    if referral.state != ReferralState::InProgress {
        let state = referral.state.as_str();
        return Err(ApiError::Conflict(format!(
            "The referral is {state}: progress is posted only while it is in progress."
        )));
    }
    let person = data_keys::load(conn, keyring, referral.case_id)?;
    if person.is_erased() {
        return Err(ApiError::Gone);
    }
    let id = ReferralUpdateId::new();
    let row = UpdateRow {
        id,
        referral_id: referral.id,
        case_id: referral.case_id,
        city_id: referral.city_id,
        note_enc: person
            .row(id, referral.city_id)
            .seal_text(TABLE, "note", note.as_str())
            .map_err(ApiError::internal)?,
        created_by: by,
        created_at: time::now(),
    };
    diesel::insert_into(referral_updates::table)
        .values(&row)
        .execute(conn)?;
    opened(&person, &row)
}

/// A referral's updates, oldest first, decrypted; `Gone` once its person
/// is erased.
pub fn list(
    conn: &mut AnyConnection,
    keyring: &Keyring,
    referral: &ReferralRow,
) -> Result<Vec<ReferralUpdate>, ApiError> {
    let person = data_keys::load(conn, keyring, referral.case_id)?;
    if person.is_erased() {
        return Err(ApiError::Gone);
    }
    let rows: Vec<UpdateRow> = referral_updates::table
        .filter(referral_updates::referral_id.eq(referral.id))
        .select(referral_updates::all_columns)
        .order((
            referral_updates::created_at.asc(),
            referral_updates::id.asc(),
        ))
        .load(conn)?;
    rows.iter().map(|row| opened(&person, row)).collect()
}

fn opened(person: &PersonKeys, row: &UpdateRow) -> Result<ReferralUpdate, ApiError> {
    let cipher = person.row(row.id, row.city_id);
    let note = open(&cipher, TABLE, "note", &row.note_enc, row.id)?.ok_or(ApiError::Gone)?;
    Ok(ReferralUpdate {
        id: row.id,
        referral_id: row.referral_id,
        note,
        created_by: row.created_by,
        created_at: time::to_utc(row.created_at),
    })
}

/// Re-seals every update of `case` for `city` (a transfer), with the
/// person's keys already loaded.
pub fn move_to_city(
    conn: &mut AnyConnection,
    person: &PersonKeys,
    case: CaseId,
    city: CityId,
) -> Result<usize, ApiError> {
    let rows: Vec<UpdateRow> = referral_updates::table
        .filter(referral_updates::case_id.eq(case))
        .select(referral_updates::all_columns)
        .load(conn)?;
    for row in &rows {
        let (from, to) = (person.row(row.id, row.city_id), person.row(row.id, city));
        let note = reseal_text(&from, &to, TABLE, "note", &row.note_enc, row.id)?;
        diesel::update(referral_updates::table.find(row.id))
            .set((
                referral_updates::city_id.eq(city),
                referral_updates::note_enc.eq(note),
            ))
            .execute(conn)?;
    }
    Ok(rows.len())
}
