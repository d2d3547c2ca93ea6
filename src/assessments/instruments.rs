//! Published instrument versions in the database. A version is inserted
//! once and never updated or deleted: an assessment made with it can be
//! scored and read for as long as it is kept.

use std::str::FromStr;

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::AnyConnection;
use crate::db::schema::instruments;
use crate::domain::{InstrumentId, UserId, time};
use crate::error::ApiError;

use super::instrument::{self, Definition};
use super::model::{InstrumentSummary, InstrumentView};

/// The built-in instrument's id, the same in every deployment.
pub const DEFAULT_ID: &str = "5a4d1b2e-7c3f-4e8a-9b61-0d2f7e9a1c01";

#[derive(Debug, Clone, Queryable)]
pub struct InstrumentRow {
    pub id: InstrumentId,
    pub code: String,
    pub version: i32,
    pub definition: String,
    pub published_by: Option<UserId>,
    pub published_at: NaiveDateTime,
}

impl InstrumentRow {
    pub fn definition(&self) -> Result<Definition, ApiError> {
        serde_json::from_str(&self.definition).map_err(|e| {
            ApiError::internal(anyhow::anyhow!(
                "instrument {} is not readable: {e}",
                self.id
            ))
        })
    }

    pub fn summary(&self) -> Result<InstrumentSummary, ApiError> {
        Ok(InstrumentSummary {
            id: self.id,
            code: self.code.clone(),
            version: self.version,
            title: self.definition()?.title,
            published_at: time::to_utc(self.published_at),
        })
    }

    pub fn view(&self) -> Result<InstrumentView, ApiError> {
        let definition = self.definition()?;
        Ok(InstrumentView {
            id: self.id,
            version: self.version,
            published_at: time::to_utc(self.published_at),
            published_by: self.published_by,
            code: definition.code,
            title: definition.title,
            description: definition.description,
            dimensions: definition.dimensions,
        })
    }
}

/// Stores the built-in instrument as version 1 of its code, once.
pub fn ensure_default(conn: &mut AnyConnection) -> Result<(), ApiError> {
    let id = InstrumentId::from_str(DEFAULT_ID).map_err(ApiError::internal)?;
    if find(conn, id)?.is_some() {
        return Ok(());
    }
    let definition = instrument::default_definition().map_err(ApiError::internal)?;
    diesel::insert_into(instruments::table)
        .values((
            instruments::id.eq(id),
            instruments::code.eq(&definition.code),
            instruments::version.eq(1),
            instruments::definition.eq(instrument::DEFAULT.trim()),
            instruments::published_by.eq(None::<UserId>),
            instruments::published_at.eq(time::now()),
        ))
        .execute(conn)?;
    Ok(())
}

pub fn find(conn: &mut AnyConnection, id: InstrumentId) -> Result<Option<InstrumentRow>, ApiError> {
    Ok(instruments::table
        .find(id)
        .select(instruments::all_columns)
        .first(conn)
        .optional()?)
}

/// Every version, by code and then newest first (a handful in all).
pub fn all(conn: &mut AnyConnection) -> Result<Vec<InstrumentRow>, ApiError> {
    Ok(instruments::table
        .order((instruments::code, instruments::version.desc()))
        .select(instruments::all_columns)
        .load(conn)?)
}

/// Publishes `definition` (checked already) as the next version of its
/// code. Two publications of one code at once: the second is a 409.
pub fn publish(
    conn: &mut AnyConnection,
    definition: &Definition,
    by: UserId,
) -> Result<InstrumentRow, ApiError> {
    let latest: Option<i32> = instruments::table
        .filter(instruments::code.eq(&definition.code))
        .select(diesel::dsl::max(instruments::version))
        .first(conn)?;
    let text = serde_json::to_string(definition).map_err(ApiError::internal)?;
    let row = InstrumentRow {
        id: InstrumentId::new(),
        code: definition.code.clone(),
        version: latest.unwrap_or(0) + 1,
        definition: text,
        published_by: Some(by),
        published_at: time::now(),
    };
    diesel::insert_into(instruments::table)
        .values((
            instruments::id.eq(row.id),
            instruments::code.eq(&row.code),
            instruments::version.eq(row.version),
            instruments::definition.eq(&row.definition),
            instruments::published_by.eq(row.published_by),
            instruments::published_at.eq(row.published_at),
        ))
        .execute(conn)?;
    Ok(row)
}
