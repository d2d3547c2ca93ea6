//! The `data_keys` table: one data key per subject (a case, or a household
//! for its label), wrapped by a key-encryption key. Erasing a subject deletes
//! its wrapped key: every field sealed with it becomes unreadable for good.

use std::collections::HashMap;

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::crypto::{DataKey, Keyring, PersonKeys, WrappedDataKey, wrap};
use crate::db::AnyConnection;
use crate::db::schema::data_keys;
use crate::domain::{SubjectId, time};
use crate::error::ApiError;

/// A wrapped data key ready to insert.
#[derive(Debug, diesel::Insertable)]
#[diesel(table_name = data_keys, treat_none_as_default_value = false)]
pub struct NewDataKey {
    pub subject_id: SubjectId,
    pub kek_version: Option<i32>,
    pub wrapped_key: Option<Vec<u8>>,
    pub created_at: NaiveDateTime,
}

/// Makes and wraps a new data key for `subject`, without storing it: the
/// row to insert, and the keys to seal the subject's fields with.
pub fn generate(
    keyring: &Keyring,
    subject: impl Into<SubjectId>,
    now: NaiveDateTime,
) -> Result<(NewDataKey, PersonKeys), ApiError> {
    let subject = subject.into();
    let dek = DataKey::generate().map_err(ApiError::internal)?;
    let wrapped = wrap(keyring, &dek, &subject.to_db()).map_err(ApiError::internal)?;
    let row = NewDataKey {
        subject_id: subject,
        kek_version: Some(i32::from(wrapped.kek_version)),
        wrapped_key: Some(wrapped.bytes),
        created_at: now,
    };
    Ok((row, PersonKeys::new(dek)))
}

/// Makes, wraps and stores a new data key for `subject`.
pub fn create(
    conn: &mut AnyConnection,
    keyring: &Keyring,
    subject: impl Into<SubjectId>,
) -> Result<PersonKeys, ApiError> {
    let (row, keys) = generate(keyring, subject, time::now())?;
    diesel::insert_into(data_keys::table)
        .values(&row)
        .execute(conn)?;
    Ok(keys)
}

fn unwrap_row(
    keyring: &Keyring,
    subject: SubjectId,
    version: Option<i32>,
    bytes: Option<Vec<u8>>,
) -> Result<PersonKeys, ApiError> {
    let wrapped = match (version, bytes) {
        (Some(version), Some(bytes)) => Some(WrappedDataKey {
            kek_version: u8::try_from(version).map_err(|_| {
                ApiError::internal(anyhow::anyhow!("corrupt data_keys.kek_version"))
            })?,
            bytes,
        }),
        _ => None,
    };
    PersonKeys::from_stored(keyring, wrapped.as_ref(), &subject.to_db()).map_err(|err| {
        tracing::error!(subject_id = %subject, error = %err, "a data key failed to unwrap");
        ApiError::internal(err)
    })
}

/// The subject's keys; erased (or never made) keys give `PersonKeys::erased`.
pub fn load(
    conn: &mut AnyConnection,
    keyring: &Keyring,
    subject: impl Into<SubjectId>,
) -> Result<PersonKeys, ApiError> {
    let subject = subject.into();
    let row: Option<(Option<i32>, Option<Vec<u8>>)> = data_keys::table
        .find(subject)
        .select((data_keys::kek_version, data_keys::wrapped_key))
        .first(conn)
        .optional()?;
    match row {
        Some((version, bytes)) => unwrap_row(keyring, subject, version, bytes),
        None => Ok(PersonKeys::erased()),
    }
}

/// The subject's keys, made and stored on first use (a staff account's,
/// when it first enrols a second factor).
/// The person's keys for a write that needs them: 410 once the person is
/// erased.
pub fn load_live(
    conn: &mut AnyConnection,
    keyring: &Keyring,
    subject: impl Into<SubjectId>,
) -> Result<PersonKeys, ApiError> {
    let person = load(conn, keyring, subject)?;
    if person.is_erased() {
        return Err(ApiError::Gone);
    }
    Ok(person)
}

pub fn load_or_create(
    conn: &mut AnyConnection,
    keyring: &Keyring,
    subject: impl Into<SubjectId>,
) -> Result<PersonKeys, ApiError> {
    let subject = subject.into();
    let stored: i64 = data_keys::table.find(subject).count().get_result(conn)?;
    if stored == 0 {
        create(conn, keyring, subject)
    } else {
        load(conn, keyring, subject)
    }
}

/// Keys of several subjects in one query.
pub fn load_many<S: Into<SubjectId> + Copy>(
    conn: &mut AnyConnection,
    keyring: &Keyring,
    subjects: &[S],
) -> Result<HashMap<SubjectId, PersonKeys>, ApiError> {
    let subjects: Vec<SubjectId> = subjects.iter().map(|&s| s.into()).collect();
    let rows: Vec<(SubjectId, Option<i32>, Option<Vec<u8>>)> = data_keys::table
        .filter(data_keys::subject_id.eq_any(subjects))
        .select((
            data_keys::subject_id,
            data_keys::kek_version,
            data_keys::wrapped_key,
        ))
        .load(conn)?;
    rows.into_iter()
        .map(|(subject, version, bytes)| {
            let keys = unwrap_row(keyring, subject, version, bytes)?;
            Ok((subject, keys))
        })
        .collect()
}

/// Replaces a subject's data key with a new one (`generate`): the old
/// wrapped key is overwritten, and whatever was sealed under it can no
/// longer be opened.
pub fn replace(conn: &mut AnyConnection, key: &NewDataKey) -> Result<(), ApiError> {
    diesel::update(data_keys::table.find(key.subject_id))
        .set((
            data_keys::kek_version.eq(key.kek_version),
            data_keys::wrapped_key.eq(key.wrapped_key.clone()),
            data_keys::created_at.eq(key.created_at),
            data_keys::erased_at.eq(None::<NaiveDateTime>),
        ))
        .execute(conn)?;
    Ok(())
}

/// Crypto-shredding: the wrapped key is deleted, the row kept as a marker.
pub fn erase(conn: &mut AnyConnection, subject: impl Into<SubjectId>) -> Result<(), ApiError> {
    diesel::update(data_keys::table.find(subject.into()))
        .set((
            data_keys::kek_version.eq(None::<i32>),
            data_keys::wrapped_key.eq(None::<Vec<u8>>),
            data_keys::erased_at.eq(Some(time::now())),
        ))
        .execute(conn)?;
    Ok(())
}
