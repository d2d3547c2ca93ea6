//! Notes on a case — home visits, follow-ups — sealed with the person's key
//! and bound to the note's own id and the case's city.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use crate::crypto::{Keyring, Opened, Sealed};
use crate::db::AnyConnection;
use crate::db::schema::case_notes;
use crate::domain::{UserId, time};
use crate::error::ApiError;

use super::data_keys;
use super::model::{CreateNote, Note};
use super::store::{CaseRow, integrity, mark_active};

/// Adds a note, sealed with the person's key, and marks the case active.
pub fn add_note(
    conn: &mut AnyConnection,
    keyring: &Keyring,
    row: &CaseRow,
    author: UserId,
    input: &CreateNote,
) -> Result<Note, ApiError> {
    let person = data_keys::load(conn, keyring, &row.id)?;
    if person.is_erased() {
        return Err(ApiError::Gone);
    }
    let id = uuid::Uuid::new_v4().to_string();
    let sealed = person
        .row(&id, &row.city_id)
        .seal_text("case_notes", "body", &input.body)
        .map_err(ApiError::internal)?;
    let now = time::now();
    diesel::insert_into(case_notes::table)
        .values((
            case_notes::id.eq(&id),
            case_notes::case_id.eq(&row.id),
            case_notes::city_id.eq(&row.city_id),
            case_notes::author_id.eq(author.to_db()),
            case_notes::visit_date.eq(input.visit_date),
            case_notes::body_enc.eq(sealed),
            case_notes::created_at.eq(now),
        ))
        .execute(conn)?;
    mark_active(conn, row.case_id()?)?;
    Ok(Note {
        id,
        case_id: row.case_id()?,
        author_id: author.to_db(),
        body: input.body.clone(),
        visit_date: input.visit_date,
        created_at: time::to_utc(now),
    })
}

/// A case's notes, newest first, decrypted.
pub fn notes(
    conn: &mut AnyConnection,
    keyring: &Keyring,
    row: &CaseRow,
) -> Result<Vec<Note>, ApiError> {
    let person = data_keys::load(conn, keyring, &row.id)?;
    if person.is_erased() {
        return Err(ApiError::Gone);
    }
    let rows: Vec<(String, String, Option<NaiveDate>, Sealed, NaiveDateTime)> = case_notes::table
        .filter(case_notes::case_id.eq(&row.id))
        .select((
            case_notes::id,
            case_notes::author_id,
            case_notes::visit_date,
            case_notes::body_enc,
            case_notes::created_at,
        ))
        .order((case_notes::created_at.desc(), case_notes::id.desc()))
        .load(conn)?;
    let case_id = row.case_id()?;
    rows.into_iter()
        .map(|(id, author_id, visit_date, sealed, created_at)| {
            let body = match person
                .row(&id, &row.city_id)
                .open_text("case_notes", "body", &sealed)
            {
                Ok(Opened::Value(body)) => body,
                Ok(Opened::Erased) => return Err(ApiError::Gone),
                Err(err) => return Err(integrity(err, "case_notes", &id)),
            };
            Ok(Note {
                id,
                case_id,
                author_id,
                body,
                visit_date,
                created_at: time::to_utc(created_at),
            })
        })
        .collect()
}
