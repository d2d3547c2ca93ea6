//! A case's fields sealed on the way in and opened on the way out.
//!
//! A person's fields are sealed with their own data key, bound (by the AAD)
//! to the table, column, row id and city: a value copied elsewhere fails to
//! open, and that failure is an integrity error, never a plaintext.

use chrono::{Datelike, NaiveDate, NaiveDateTime};

use crate::crypto::{Crypto, CryptoError, FieldCipher, Keyring, Opened, PersonKeys, Sealed};
use crate::db::AnyConnection;
use crate::db::column::TextSet;
use crate::db::schema::cases;
use crate::domain::{CaseId, CaseStatus, UserId, time};
use crate::error::ApiError;

use super::checks::{Merged, NewCase, NewSubject};
use super::data_keys;
use super::index::{self, NewIndexEntry};
use super::model::{CaseSummary, CaseView, Consent, Origin, Subject, age_on};
use super::row::{CaseRow, TABLE};

/// A failure to open is a security event: logged (without any value) and
/// answered as an internal error.
pub fn integrity(err: CryptoError, table: &str, row: impl std::fmt::Display) -> ApiError {
    tracing::error!(table, row_id = %row, error = %err, "a sealed field failed to open");
    ApiError::internal(anyhow::anyhow!("{err}"))
}

/// The sealed columns a worker's description of the person fills.
#[derive(Debug, diesel::AsChangeset)]
#[diesel(table_name = cases, treat_none_as_null = true)]
pub struct SealedSubject {
    pub full_name_enc: Sealed,
    pub full_name_latin_enc: Option<Sealed>,
    pub date_of_birth_enc: Sealed,
    pub national_id_enc: Option<Sealed>,
    pub phone_enc: Option<Sealed>,
    pub address_enc: Option<Sealed>,
    pub origin_place_enc: Option<Sealed>,
    pub vulnerability_notes_enc: Option<Sealed>,
}

fn seal_subject(
    cipher: &FieldCipher<'_>,
    subject: &NewSubject,
    origin_place: Option<&str>,
    notes: Option<&str>,
) -> Result<SealedSubject, ApiError> {
    let text = |column: &str, value: &str| {
        cipher
            .seal_text(TABLE, column, value.trim())
            .map_err(ApiError::internal)
    };
    let opt = |column: &str, value: Option<&str>| value.map(|v| text(column, v)).transpose();
    Ok(SealedSubject {
        full_name_enc: text("full_name", subject.full_name.as_str())?,
        full_name_latin_enc: opt("full_name_latin", subject.full_name_latin.as_deref())?,
        date_of_birth_enc: cipher
            .seal_date(TABLE, "date_of_birth", subject.date_of_birth)
            .map_err(ApiError::internal)?,
        national_id_enc: opt(
            "national_id",
            subject.national_id.as_ref().map(|n| n.as_str()),
        )?,
        phone_enc: opt("phone", subject.phone.as_ref().map(|p| p.as_str()))?,
        address_enc: opt("address", subject.address.as_deref())?,
        origin_place_enc: opt("origin_place", origin_place)?,
        vulnerability_notes_enc: opt("vulnerability_notes", notes)?,
    })
}

/// The sealed columns of a merged PATCH, under the person's key.
pub fn seal_merged(
    person: &PersonKeys,
    row: &CaseRow,
    case: &Merged,
) -> Result<SealedSubject, ApiError> {
    seal_subject(
        &person.row(row.id, row.city_id),
        &case.subject,
        case.origin_place.as_deref(),
        case.vulnerability_notes.as_deref(),
    )
}

/// A case sealed and indexed, not yet stored: its data key, its row and
/// its blind-index rows, and the person's keys for sealing more. The API
/// stores one at a time; `sanad demo seed` stores them in batches.
pub struct SealedCase {
    pub key: data_keys::NewDataKey,
    pub row: CaseRow,
    pub index: Vec<NewIndexEntry>,
    pub person: PersonKeys,
}

/// Seals a new case under a new data key, without touching the database.
/// `case_number` is filled in by the caller, who reserves it.
pub fn seal_new(
    crypto: Crypto<'_>,
    id: CaseId,
    author: UserId,
    case: &NewCase,
    case_number: String,
    now: NaiveDateTime,
) -> Result<SealedCase, ApiError> {
    let (key, person) = data_keys::generate(crypto.keyring, id, now)?;
    let s = &case.subject;
    let sealed = seal_subject(
        &person.row(id, case.city_id),
        s,
        case.origin.place.as_deref(),
        case.vulnerability_notes.as_deref(),
    )?;
    let row = CaseRow {
        id,
        case_number,
        city_id: case.city_id,
        household_id: case.household_id,
        status: CaseStatus::Open,
        sex: s.sex,
        birth_year: s.date_of_birth.year(),
        origin_kind: case.origin.kind,
        return_date: case.return_date,
        vulnerability_flags: TextSet::new(&case.vulnerability_flags),
        consent_share: case.consent.share_with_providers,
        consent_given_by: case.consent.given_by,
        consent_given_at: time::truncate(case.consent.given_at.naive_utc()),
        assigned_to: case.assigned_to,
        full_name_enc: sealed.full_name_enc,
        full_name_latin_enc: sealed.full_name_latin_enc,
        date_of_birth_enc: sealed.date_of_birth_enc,
        national_id_enc: sealed.national_id_enc,
        phone_enc: sealed.phone_enc,
        address_enc: sealed.address_enc,
        origin_place_enc: sealed.origin_place_enc,
        vulnerability_notes_enc: sealed.vulnerability_notes_enc,
        closure_reason_enc: None,
        version: 1,
        created_by: author,
        created_at: now,
        updated_at: now,
        closed_at: None,
        erased_at: None,
    };
    let index = index::index_entries(crypto.indexer, id, case.city_id, s);
    Ok(SealedCase {
        key,
        row,
        index,
        person,
    })
}

/// Opens a sealed text of `row` in `table`: its value, or `None` once the
/// person is erased. A failure to open is an integrity error.
pub fn open(
    cipher: &FieldCipher<'_>,
    table: &str,
    column: &str,
    sealed: &Sealed,
    row: impl std::fmt::Display,
) -> Result<Option<String>, ApiError> {
    match cipher.open_text(table, column, sealed) {
        Ok(Opened::Value(v)) => Ok(Some(v)),
        Ok(Opened::Erased) => Ok(None),
        Err(err) => Err(integrity(err, table, row)),
    }
}

/// [`open`] for a column that may be empty.
pub fn open_opt(
    cipher: &FieldCipher<'_>,
    table: &str,
    column: &str,
    sealed: Option<&Sealed>,
    row: impl std::fmt::Display,
) -> Result<Option<String>, ApiError> {
    sealed.map_or(Ok(None), |sealed| open(cipher, table, column, sealed, row))
}

fn open_dob(cipher: &FieldCipher<'_>, row: &CaseRow) -> Result<Option<NaiveDate>, ApiError> {
    match cipher.open_date(TABLE, "date_of_birth", &row.date_of_birth_enc) {
        Ok(Opened::Value(v)) => Ok(Some(v)),
        Ok(Opened::Erased) => Ok(None),
        Err(err) => Err(integrity(err, TABLE, row.id)),
    }
}

/// The whole case, decrypted. An erased case is `Gone`.
pub fn view(row: &CaseRow, person: &PersonKeys, today: NaiveDate) -> Result<CaseView, ApiError> {
    if row.status == CaseStatus::Erased || person.is_erased() {
        return Err(ApiError::Gone);
    }
    let cipher = person.row(row.id, row.city_id);
    let opt =
        |column, sealed: &Option<Sealed>| open_opt(&cipher, TABLE, column, sealed.as_ref(), row.id);
    let full_name =
        open(&cipher, TABLE, "full_name", &row.full_name_enc, row.id)?.ok_or(ApiError::Gone)?;
    let date_of_birth = open_dob(&cipher, row)?.ok_or(ApiError::Gone)?;
    Ok(CaseView {
        id: row.id,
        case_number: row.case_number.clone(),
        version: row.version,
        city_id: row.city_id,
        household_id: row.household_id,
        status: row.status,
        subject: Subject {
            full_name,
            full_name_latin: opt("full_name_latin", &row.full_name_latin_enc)?,
            sex: row.sex,
            date_of_birth,
            age: age_on(date_of_birth, today),
            national_id: opt("national_id", &row.national_id_enc)?,
            phone: opt("phone", &row.phone_enc)?,
            address: opt("address", &row.address_enc)?,
        },
        origin: Origin {
            kind: row.origin_kind,
            place: opt("origin_place", &row.origin_place_enc)?,
        },
        return_date: row.return_date,
        vulnerability_flags: row.vulnerability_flags.as_slice().to_vec(),
        vulnerability_notes: opt("vulnerability_notes", &row.vulnerability_notes_enc)?,
        consent: Consent {
            share_with_providers: row.consent_share,
            given_by: row.consent_given_by,
            given_at: time::to_utc(row.consent_given_at),
        },
        assigned_to: row.assigned_to,
        created_at: time::to_utc(row.created_at),
        updated_at: time::to_utc(row.updated_at),
    })
}

/// The whole case of `row`, with its data key read.
pub fn load_view(
    conn: &mut AnyConnection,
    keyring: &Keyring,
    row: &CaseRow,
) -> Result<CaseView, ApiError> {
    let person = data_keys::load(conn, keyring, row.id)?;
    view(row, &person, time::today())
}

/// A list line: only the name and date of birth are opened.
pub fn summary(
    row: &CaseRow,
    person: &PersonKeys,
    today: NaiveDate,
) -> Result<Option<CaseSummary>, ApiError> {
    if row.status == CaseStatus::Erased || person.is_erased() {
        return Ok(None);
    }
    let cipher = person.row(row.id, row.city_id);
    let (Some(full_name), Some(dob)) = (
        open(&cipher, TABLE, "full_name", &row.full_name_enc, row.id)?,
        open_dob(&cipher, row)?,
    ) else {
        return Ok(None);
    };
    Ok(Some(CaseSummary {
        id: row.id,
        case_number: row.case_number.clone(),
        city_id: row.city_id,
        status: row.status,
        full_name,
        sex: row.sex,
        age: age_on(dob, today),
        household_id: row.household_id,
        assigned_to: row.assigned_to,
        updated_at: time::to_utc(row.updated_at),
    }))
}

/// Summaries of rows, opening each person's key once.
pub fn summaries(
    conn: &mut AnyConnection,
    keyring: &Keyring,
    rows: &[CaseRow],
    today: NaiveDate,
) -> Result<Vec<CaseSummary>, ApiError> {
    let ids: Vec<CaseId> = rows.iter().map(|r| r.id).collect();
    let mut people = data_keys::load_many(conn, keyring, &ids)?;
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let person = people
            .remove(&row.id.into())
            .unwrap_or_else(PersonKeys::erased);
        if let Some(line) = summary(row, &person, today)? {
            out.push(line);
        }
    }
    Ok(out)
}
