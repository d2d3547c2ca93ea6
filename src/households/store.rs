//! Household rows: the label sealed with the household's own data key, the
//! members (their cases), a member's erasure, and moving a household to
//! another city.

use std::collections::BTreeSet;

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::audit::Entity;
use crate::auth::guard::CityRow;
use crate::cases::sealing::{open, summaries};
use crate::cases::{data_keys, row as cases};
use crate::crypto::blind_index::name_tokens;
use crate::crypto::{Keyring, Sealed};
use crate::db::schema::{data_keys as key_rows, households};
use crate::db::{AnyConnection, lock_row};
use crate::domain::{CaseId, CityId, HouseholdId, UserId, time};
use crate::error::ApiError;

use super::model::Household;

const TABLE: &str = "households";

/// One row of `households`.
#[derive(Debug, Clone, diesel::Queryable, diesel::Insertable)]
#[diesel(table_name = households, treat_none_as_default_value = false)]
pub struct HouseholdRow {
    pub id: HouseholdId,
    pub city_id: CityId,
    pub label_enc: Option<Sealed>,
    pub created_by: UserId,
    pub created_at: NaiveDateTime,
}

impl CityRow for HouseholdRow {
    type Id = HouseholdId;
    const ENTITY: Entity = Entity::Household;

    fn find_for_update(
        conn: &mut AnyConnection,
        id: HouseholdId,
    ) -> Result<Option<HouseholdRow>, ApiError> {
        lock_row(conn, "households", id.into())?;
        Ok(households::table
            .find(id)
            .select(households::all_columns)
            .first(conn)
            .optional()?)
    }

    fn id(&self) -> HouseholdId {
        self.id
    }

    fn city(&self) -> CityId {
        self.city_id
    }
}

/// The household's label, opened.
fn label(
    conn: &mut AnyConnection,
    keyring: &Keyring,
    row: &HouseholdRow,
) -> Result<Option<String>, ApiError> {
    let Some(sealed) = &row.label_enc else {
        return Ok(None);
    };
    let keys = data_keys::load(conn, keyring, row.id)?;
    open(
        &keys.row(row.id, row.city_id),
        TABLE,
        "label",
        sealed,
        row.id,
    )
}

/// The household with its label opened and its members listed.
pub fn view(
    conn: &mut AnyConnection,
    keyring: &Keyring,
    row: &HouseholdRow,
) -> Result<Household, ApiError> {
    let label = label(conn, keyring, row)?;
    let members = cases::members(conn, row.id)?;
    let members = summaries(conn, keyring, &members, time::today())?;
    Ok(Household {
        id: row.id,
        city_id: row.city_id,
        label,
        members,
    })
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
) -> Result<(Option<data_keys::NewDataKey>, HouseholdRow), ApiError> {
    let (key, label_enc) = match label {
        Some(label) => {
            let (key, person) = data_keys::generate(keyring, id, now)?;
            let sealed = person
                .row(id, city)
                .seal_text(TABLE, "label", label)
                .map_err(ApiError::internal)?;
            (Some(key), Some(sealed))
        }
        None => (None, None),
    };
    let row = HouseholdRow {
        id,
        city_id: city,
        label_enc,
        created_by: author,
        created_at: now,
    };
    Ok((key, row))
}

/// Creates a household in `city`; a label that is only spaces is no label.
pub fn create(
    conn: &mut AnyConnection,
    keyring: &Keyring,
    city: CityId,
    label: Option<&str>,
    author: UserId,
) -> Result<HouseholdRow, ApiError> {
    let label = label.map(str::trim).filter(|l| !l.is_empty());
    let (key, row) = seal_new(
        keyring,
        HouseholdId::new(),
        city,
        label,
        author,
        time::now(),
    )?;
    if let Some(key) = key {
        diesel::insert_into(key_rows::table)
            .values(&key)
            .execute(conn)?;
    }
    diesel::insert_into(households::table)
        .values(&row)
        .execute(conn)?;
    Ok(row)
}

/// What became of a household's label when one of its members was erased.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LabelAfter {
    /// No label, or one that does not name the person: left as it was.
    Kept,
    /// The label named the person: sealed again without their names, under
    /// a new data key (the old one destroyed).
    Resealed,
    /// The last member was erased, or nothing was left of the label once
    /// their names were taken out: the label and its key are erased.
    Erased,
}

/// A member, `erased`, is being erased (`cases::erasure`): the household
/// loses them. `names` are the normalised tokens of their names. Runs in
/// the caller's transaction; the household is locked.
pub fn forget_member(
    conn: &mut AnyConnection,
    keyring: &Keyring,
    household: HouseholdId,
    erased: CaseId,
    names: &BTreeSet<String>,
) -> Result<LabelAfter, ApiError> {
    let Some(row) = HouseholdRow::find_for_update(conn, household)? else {
        return Ok(LabelAfter::Kept);
    };
    let Some(sealed) = &row.label_enc else {
        return Ok(LabelAfter::Kept);
    };
    let others = cases::members(conn, household)?
        .iter()
        .any(|member| member.id != erased);
    let keys = data_keys::load(conn, keyring, household)?;
    let label = open(
        &keys.row(household, row.city_id),
        TABLE,
        "label",
        sealed,
        household,
    )?;
    let kept = label.as_deref().map(|label| without_names(label, names));
    let words = |text: &str| text.split_whitespace().count();
    match (others, kept, label.as_deref()) {
        (true, Some(kept), Some(label)) if words(&kept) == words(label) => Ok(LabelAfter::Kept),
        (true, Some(kept), _) if !kept.is_empty() => {
            let (key, fresh) = data_keys::generate(keyring, household, time::now())?;
            let resealed = fresh
                .row(household, row.city_id)
                .seal_text(TABLE, "label", &kept)
                .map_err(ApiError::internal)?;
            data_keys::replace(conn, &key)?;
            diesel::update(households::table.find(household))
                .set(households::label_enc.eq(Some(resealed)))
                .execute(conn)?;
            Ok(LabelAfter::Resealed)
        }
        _ => {
            diesel::update(households::table.find(household))
                .set(households::label_enc.eq(None::<Sealed>))
                .execute(conn)?;
            data_keys::erase(conn, household)?;
            Ok(LabelAfter::Erased)
        }
    }
}

/// The label's words, but those holding a token of `names`.
fn without_names(label: &str, names: &BTreeSet<String>) -> String {
    label
        .split_whitespace()
        .filter(|word| !name_tokens(word).iter().any(|token| names.contains(token)))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Stores households and their label keys in multi-row INSERTs.
pub fn insert_many(
    conn: &mut AnyConnection,
    batch: &[(Option<data_keys::NewDataKey>, HouseholdRow)],
) -> Result<(), ApiError> {
    let keys: Vec<&data_keys::NewDataKey> = batch.iter().filter_map(|(k, _)| k.as_ref()).collect();
    let rows: Vec<&HouseholdRow> = batch.iter().map(|(_, h)| h).collect();
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
        .find(id)
        .select(households::label_enc)
        .first(conn)?;
    let resealed = match label {
        Some(sealed) => {
            let keys = data_keys::load(conn, keyring, id)?;
            open(&keys.row(id, from), TABLE, "label", &sealed, id)?
                .map(|text| keys.row(id, to).seal_text(TABLE, "label", &text))
                .transpose()
                .map_err(ApiError::internal)?
        }
        None => None,
    };
    diesel::update(households::table.find(id))
        .set((
            households::city_id.eq(to),
            households::label_enc.eq(resealed),
        ))
        .execute(conn)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(of: &str) -> BTreeSet<String> {
        name_tokens(of).into_iter().collect()
    }

    #[test]
    fn a_label_loses_the_words_that_hold_the_persons_names() {
        let fatima = names("فاطمة أحمد Fatima Ahmed");
        assert_eq!(without_names("عائلة فاطمة", &fatima), "عائلة");
        assert_eq!(without_names("Fatima Ahmed's family", &fatima), "family");
        assert_eq!(without_names("عائلة فاطمه", &fatima), "عائلة", "normalised");
        assert_eq!(without_names("الطابق الثاني", &fatima), "الطابق الثاني");
        assert_eq!(without_names("Fatima", &fatima), "");
    }
}
