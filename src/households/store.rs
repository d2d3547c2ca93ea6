//! Household rows: the label sealed with the household's own data key, the
//! members (their cases), and moving a household to another city.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::cases::data_keys;
use crate::cases::store::{self as cases, CaseRow};
use crate::crypto::{Keyring, Opened, Sealed};
use crate::db::AnyConnection;
use crate::db::schema::{cases as case_rows, data_keys as key_rows, households};
use crate::domain::{CaseStatus, CityId, HouseholdId, UserId, time};
use crate::error::ApiError;

use super::model::Household;

const TABLE: &str = "households";

pub fn city_of(conn: &mut AnyConnection, id: HouseholdId) -> Result<Option<CityId>, ApiError> {
    let city: Option<String> = households::table
        .find(id.to_db())
        .select(households::city_id)
        .first(conn)
        .optional()?;
    city.map(|c| CityId::from_db(&c).map_err(|_| cases::corrupt("households.city_id")))
        .transpose()
}

pub fn view(
    conn: &mut AnyConnection,
    keyring: &Keyring,
    id: HouseholdId,
    city: CityId,
) -> Result<Household, ApiError> {
    let label: Option<Sealed> = households::table
        .find(id.to_db())
        .select(households::label_enc)
        .first(conn)?;
    let label = match label {
        Some(sealed) => {
            let keys = data_keys::load(conn, keyring, &id.to_db())?;
            match keys
                .row(&id.to_db(), &city.to_db())
                .open_text(TABLE, "label", &sealed)
            {
                Ok(Opened::Value(v)) => Some(v),
                Ok(Opened::Erased) => None,
                Err(err) => return Err(cases::integrity(err, TABLE, &id.to_db())),
            }
        }
        None => None,
    };
    let rows: Vec<CaseRow> = case_rows::table
        .filter(case_rows::household_id.eq(id.to_db()))
        .filter(case_rows::status.ne(CaseStatus::Erased.as_str()))
        .select(case_rows::all_columns)
        .order((case_rows::created_at.asc(), case_rows::id.asc()))
        .load(conn)?;
    let members = cases::summaries(conn, keyring, &rows, time::today())?;
    Ok(Household {
        id,
        city_id: city,
        label,
        members,
    })
}

/// A new row of `households`.
#[derive(Debug, diesel::Insertable)]
#[diesel(table_name = households, treat_none_as_default_value = false)]
pub struct NewHousehold {
    pub id: String,
    pub city_id: String,
    pub label_enc: Option<Sealed>,
    pub created_by: String,
    pub created_at: NaiveDateTime,
}

/// A new household, its label (if any) sealed under a data key of its own;
/// nothing is stored. The key row is `None` when there is no label.
pub fn seal_new(
    keyring: &Keyring,
    id: HouseholdId,
    city: CityId,
    label: Option<&str>,
    author: UserId,
    now: NaiveDateTime,
) -> Result<(Option<data_keys::NewDataKey>, NewHousehold), ApiError> {
    let (key, label_enc) = match label {
        Some(label) => {
            let (key, person) = data_keys::generate(keyring, &id.to_db(), now)?;
            let sealed = person
                .row(&id.to_db(), &city.to_db())
                .seal_text(TABLE, "label", label)
                .map_err(ApiError::internal)?;
            (Some(key), Some(sealed))
        }
        None => (None, None),
    };
    let row = NewHousehold {
        id: id.to_db(),
        city_id: city.to_db(),
        label_enc,
        created_by: author.to_db(),
        created_at: now,
    };
    Ok((key, row))
}

/// Stores households and their label keys in multi-row INSERTs.
pub fn insert_many(
    conn: &mut AnyConnection,
    batch: &[(Option<data_keys::NewDataKey>, NewHousehold)],
) -> Result<(), ApiError> {
    let keys: Vec<&data_keys::NewDataKey> = batch.iter().filter_map(|(k, _)| k.as_ref()).collect();
    let rows: Vec<&NewHousehold> = batch.iter().map(|(_, h)| h).collect();
    crate::insert_batches!(conn, key_rows::table, keys, 4);
    crate::insert_batches!(conn, households::table, rows, 5);
    Ok(())
}

/// Moves a household to another city, re-sealing its label for the new
/// city. Its members are moved by the caller.
pub fn move_to_city(
    conn: &mut AnyConnection,
    keyring: &Keyring,
    id: HouseholdId,
    from: CityId,
    to: CityId,
) -> Result<(), ApiError> {
    let label: Option<Sealed> = households::table
        .find(id.to_db())
        .select(households::label_enc)
        .first(conn)?;
    let resealed = match label {
        Some(sealed) => {
            let keys = data_keys::load(conn, keyring, &id.to_db())?;
            let subject = id.to_db();
            match keys
                .row(&subject, &from.to_db())
                .open_text(TABLE, "label", &sealed)
            {
                Ok(Opened::Value(text)) => Some(
                    keys.row(&subject, &to.to_db())
                        .seal_text(TABLE, "label", &text)
                        .map_err(ApiError::internal)?,
                ),
                Ok(Opened::Erased) => None,
                Err(err) => return Err(cases::integrity(err, TABLE, &subject)),
            }
        }
        None => None,
    };
    diesel::update(households::table.find(id.to_db()))
        .set((
            households::city_id.eq(to.to_db()),
            households::label_enc.eq(resealed),
        ))
        .execute(conn)?;
    Ok(())
}

/// The cases of a household that are not erased.
pub fn members(conn: &mut AnyConnection, id: HouseholdId) -> Result<Vec<CaseRow>, ApiError> {
    Ok(case_rows::table
        .filter(case_rows::household_id.eq(id.to_db()))
        .filter(case_rows::status.ne(CaseStatus::Erased.as_str()))
        .select(case_rows::all_columns)
        .order((case_rows::created_at.asc(), case_rows::id.asc()))
        .load(conn)?)
}
