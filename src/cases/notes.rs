//! Notes on a case — home visits, follow-ups — sealed with the person's key
//! and bound to the note's own id and the case's city.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use crate::crypto::{Keyring, Opened, Sealed};
use crate::db::AnyConnection;
use crate::db::schema::case_notes;
use crate::domain::{NonBlank, NoteId, UserId, time};
use crate::error::ApiError;

use super::data_keys;
use super::model::Note;
use super::row::CaseRow;
use super::sealing::integrity;
use super::store::mark_active;

const TABLE: &str = "case_notes";

/// Adds a note, sealed with the person's key, and marks the case active.
pub fn add_note(
    conn: &mut AnyConnection,
    keyring: &Keyring,
    row: &CaseRow,
    author: UserId,
    body: &NonBlank,
    visit_date: Option<NaiveDate>,
) -> Result<Note, ApiError> {
    let person = data_keys::load(conn, keyring, row.id)?;
    if person.is_erased() {
        return Err(ApiError::Gone);
    }
    let id = NoteId::new();
    let sealed = person
        .row(id, row.city_id)
        .seal_text(TABLE, "body", body.as_str())
        .map_err(ApiError::internal)?;
    let now = time::now();
    diesel::insert_into(case_notes::table)
        .values((
            case_notes::id.eq(id),
            case_notes::case_id.eq(row.id),
            case_notes::city_id.eq(row.city_id),
            case_notes::author_id.eq(author),
            case_notes::visit_date.eq(visit_date),
            case_notes::body_enc.eq(sealed),
            case_notes::created_at.eq(now),
        ))
        .execute(conn)?;
    mark_active(conn, row.id)?;
    Ok(Note {
        id,
        case_id: row.id,
        author_id: author,
        body: body.as_str().to_string(),
        visit_date,
        created_at: time::to_utc(now),
    })
}

/// A case's notes, newest first, decrypted.
pub fn notes(
    conn: &mut AnyConnection,
    keyring: &Keyring,
    row: &CaseRow,
) -> Result<Vec<Note>, ApiError> {
    let person = data_keys::load(conn, keyring, row.id)?;
    if person.is_erased() {
        return Err(ApiError::Gone);
    }
    let rows: Vec<(NoteId, UserId, Option<NaiveDate>, Sealed, NaiveDateTime)> = case_notes::table
        .filter(case_notes::case_id.eq(row.id))
        .select((
            case_notes::id,
            case_notes::author_id,
            case_notes::visit_date,
            case_notes::body_enc,
            case_notes::created_at,
        ))
        .order((case_notes::created_at.desc(), case_notes::id.desc()))
        .load(conn)?;
    rows.into_iter()
        .map(|(id, author_id, visit_date, sealed, created_at)| {
            let body = match person
                .row(id, row.city_id)
                .open_text(TABLE, "body", &sealed)
            {
                Ok(Opened::Value(body)) => body,
                Ok(Opened::Erased) => return Err(ApiError::Gone),
                Err(err) => return Err(integrity(err, TABLE, id)),
            };
            Ok(Note {
                id,
                case_id: row.id,
                author_id,
                body,
                visit_date,
                created_at: time::to_utc(created_at),
            })
        })
        .collect()
}
