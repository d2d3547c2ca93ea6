//! One row of `cases`: what the store reads, and how the guarded action
//! finds, locks and judges it.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use crate::audit::Entity;
use crate::auth::guard::CityRow;
use crate::crypto::Sealed;
use crate::db::column::TextSet;
use crate::db::schema::cases;
use crate::db::{AnyConnection, lock_row};
use crate::domain::{
    CaseId, CaseStatus, CityId, ConsentGiver, HouseholdId, OriginKind, Sex, UserId,
    VulnerabilityFlag,
};
use crate::error::ApiError;

pub const TABLE: &str = "cases";

/// One row of `cases`; a new one is inserted whole.
#[derive(Debug, Clone, diesel::Queryable, diesel::Insertable)]
#[diesel(table_name = cases, treat_none_as_default_value = false)]
pub struct CaseRow {
    pub id: CaseId,
    pub case_number: String,
    pub city_id: CityId,
    pub household_id: Option<HouseholdId>,
    pub status: CaseStatus,
    pub sex: Sex,
    pub birth_year: i32,
    pub origin_kind: OriginKind,
    pub return_date: NaiveDate,
    pub vulnerability_flags: TextSet<VulnerabilityFlag>,
    pub consent_share: bool,
    pub consent_given_by: ConsentGiver,
    pub consent_given_at: NaiveDateTime,
    pub assigned_to: Option<UserId>,
    pub full_name_enc: Sealed,
    pub full_name_latin_enc: Option<Sealed>,
    pub date_of_birth_enc: Sealed,
    pub national_id_enc: Option<Sealed>,
    pub phone_enc: Option<Sealed>,
    pub address_enc: Option<Sealed>,
    pub origin_place_enc: Option<Sealed>,
    pub vulnerability_notes_enc: Option<Sealed>,
    pub closure_reason_enc: Option<Sealed>,
    pub version: i64,
    pub created_by: UserId,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub closed_at: Option<NaiveDateTime>,
    pub erased_at: Option<NaiveDateTime>,
}

/// A case is held in its city; once erased it answers 410 to anyone who
/// could reach it.
impl CityRow for CaseRow {
    type Id = CaseId;
    const ENTITY: Entity = Entity::Case;

    fn find_for_update(conn: &mut AnyConnection, id: CaseId) -> Result<Option<CaseRow>, ApiError> {
        lock_row(conn, "cases", id.into())?;
        find(conn, id)
    }

    fn find_to_read(conn: &mut AnyConnection, id: CaseId) -> Result<Option<CaseRow>, ApiError> {
        find(conn, id)
    }

    fn id(&self) -> CaseId {
        self.id
    }

    fn city(&self) -> CityId {
        self.city_id
    }

    fn usable(&self) -> Result<(), ApiError> {
        match self.status {
            CaseStatus::Erased => Err(ApiError::Gone),
            _ => Ok(()),
        }
    }
}

pub fn find(conn: &mut AnyConnection, id: CaseId) -> Result<Option<CaseRow>, ApiError> {
    Ok(cases::table
        .find(id)
        .select(cases::all_columns)
        .first::<CaseRow>(conn)
        .optional()?)
}

/// The rows of these cases, in creation order.
pub fn find_many(conn: &mut AnyConnection, ids: &[CaseId]) -> Result<Vec<CaseRow>, ApiError> {
    Ok(cases::table
        .filter(cases::id.eq_any(ids))
        .select(cases::all_columns)
        .order((cases::created_at.asc(), cases::id.asc()))
        .load(conn)?)
}

/// The cases of a household that are not erased, oldest first.
pub fn members(conn: &mut AnyConnection, household: HouseholdId) -> Result<Vec<CaseRow>, ApiError> {
    Ok(cases::table
        .filter(cases::household_id.eq(household))
        .filter(cases::status.ne(CaseStatus::Erased))
        .select(cases::all_columns)
        .order((cases::created_at.asc(), cases::id.asc()))
        .load(conn)?)
}
