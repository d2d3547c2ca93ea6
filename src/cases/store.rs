//! Queries on `cases`: listing, creating, changing. Every function takes
//! the caller's transaction. The row itself is `row`; sealing and opening
//! its fields is `sealing`; its blind indexes are `index`; input checks
//! are `checks`.

use chrono::{Datelike, NaiveDateTime};
use diesel::prelude::*;

use crate::auth::policy::Scope;
use crate::crypto::{Crypto, PersonKeys};
use crate::db::column::TextSet;
use crate::db::schema::{cases, cities};
use crate::db::{AnyConnection, Backend, MultiBackend};
use crate::domain::{CaseId, CaseStatus, CityId, HouseholdId, UserId, time};
use crate::error::ApiError;
use crate::pagination::{Cursor, PageRequest};

use super::checks::{Merged, NewCase};
use super::model::CaseListQuery;
use super::row::CaseRow;
use super::sealing::{self, SealedCase, seal_new};
use super::{data_keys, index};

/// Reserves `count` consecutive case numbers of a city for a year in
/// `case_counters` and returns the first, e.g. 123 for `MOS-2026-000123`.
pub fn reserve_case_numbers(
    conn: &mut AnyConnection,
    city: CityId,
    year: i32,
    count: i64,
) -> Result<i64, ApiError> {
    use diesel::sql_types::{BigInt, Integer, Text};

    #[derive(diesel::QueryableByName)]
    struct Last {
        #[diesel(sql_type = BigInt)]
        last_number: i64,
    }
    // An upsert that returns the new last number; the row lock it takes
    // serialises concurrent creations in one city and year.
    let sql = match conn.backend() {
        Backend::Postgres => {
            "INSERT INTO case_counters (city_id, year, last_number) VALUES ($1, $2, $3) \
             ON CONFLICT (city_id, year) DO UPDATE SET last_number = case_counters.last_number + $3 \
             RETURNING last_number"
        }
        Backend::Sqlite => {
            "INSERT INTO case_counters (city_id, year, last_number) VALUES (?1, ?2, ?3) \
             ON CONFLICT (city_id, year) DO UPDATE SET last_number = case_counters.last_number + ?3 \
             RETURNING last_number"
        }
    };
    let last: Last = diesel::sql_query(sql)
        .bind::<Text, _>(city)
        .bind::<Integer, _>(year)
        .bind::<BigInt, _>(count)
        .get_result(conn)?;
    Ok(last.last_number - count + 1)
}

/// A case number as shown to people: city code, year, six digits.
pub fn case_number(city_code: &str, year: i32, number: i64) -> String {
    format!("{city_code}-{year}-{number:06}")
}

/// A case number reserved for a case about to be made: its year and
/// number (`reserve`).
#[derive(Debug, Clone, Copy)]
pub struct Reserved {
    pub year: i32,
    pub number: i64,
}

/// Reserves this year's next case number of `city`; run it in a
/// transaction of its own (`db::counter_transaction`), before the case's.
pub fn reserve(conn: &mut AnyConnection, city: CityId) -> Result<Reserved, ApiError> {
    let year = time::now().year();
    let number = reserve_case_numbers(conn, city, year, 1)?;
    Ok(Reserved { year, number })
}

/// Creates a case under a number reserved for it: a new data key, every
/// sensitive field sealed, blind indexes. Returns the row as stored and the
/// person's keys, so that the answer needs no second read of either (every
/// column is written whole; times are already cut to microseconds, as
/// both databases keep them).
pub fn create(
    conn: &mut AnyConnection,
    crypto: Crypto<'_>,
    author: UserId,
    case: &NewCase,
    number: Reserved,
) -> Result<(CaseRow, PersonKeys), ApiError> {
    let id = CaseId::new();
    let now = time::now();
    let code: String = cities::table
        .find(case.city_id)
        .select(cities::code)
        .first(conn)?;
    let sealed = seal_new(
        crypto,
        id,
        author,
        case,
        case_number(&code, number.year, number.number),
        now,
    )?;
    insert_sealed(conn, std::slice::from_ref(&sealed))?;
    Ok((sealed.row, sealed.person))
}

/// Stores sealed cases: data keys, then rows, then blind indexes. On
/// PostgreSQL and SQLite alike each table gets multi-row INSERTs (diesel's
/// MultiConnection cannot batch, so this matches on the backend).
pub fn insert_sealed(conn: &mut AnyConnection, batch: &[SealedCase]) -> Result<(), ApiError> {
    let keys: Vec<&data_keys::NewDataKey> = batch.iter().map(|c| &c.key).collect();
    let rows: Vec<&CaseRow> = batch.iter().map(|c| &c.row).collect();
    let index: Vec<&index::NewIndexEntry> = batch.iter().flat_map(|c| &c.index).collect();
    crate::insert_batches!(conn, crate::db::schema::data_keys::table, keys, 4);
    crate::insert_batches!(conn, cases::table, rows, 29);
    crate::insert_batches!(conn, crate::db::schema::case_search_index::table, index, 4);
    Ok(())
}

/// Filters of a case list, already narrowed to the caller's scope.
pub struct ListFilter {
    pub cities: Vec<CityId>,
    pub status: Option<CaseStatus>,
    pub assigned_to: Option<UserId>,
    pub household_id: Option<HouseholdId>,
}

impl ListFilter {
    /// The filters of a list query within the caller's scope: their cities,
    /// or the one of them the query names (another city is 404).
    pub fn within(scope: Scope, query: &CaseListQuery) -> Result<ListFilter, ApiError> {
        let Scope::Cities(mut cities) = scope else {
            return Err(ApiError::Forbidden);
        };
        if let Some(city) = query.city_id {
            if !cities.contains(&city) {
                return Err(ApiError::NotFound);
            }
            cities = vec![city];
        }
        Ok(ListFilter {
            cities,
            status: query.status,
            assigned_to: query.assigned_to,
            household_id: query.household_id,
        })
    }
}

/// A page of cases, newest first, after the page's cursor
/// `(created_at, id)`. Ordering by creation keeps pages stable while cases
/// are added or edited. Erased cases are left out.
pub fn list(
    conn: &mut AnyConnection,
    filter: &ListFilter,
    page: &PageRequest<NaiveDateTime>,
) -> Result<Vec<CaseRow>, ApiError> {
    let mut query = cases::table
        .filter(cases::status.ne(CaseStatus::Erased))
        .order((cases::created_at.desc(), cases::id.desc()))
        .limit(page.fetch())
        .into_boxed();
    // One city (the usual page) as `=`: PostgreSQL plans `= ANY(array)`
    // as a bitmap scan of the whole city and a sort, not as a walk of the
    // index in page order.
    query = match filter.cities.as_slice() {
        [one] => query.filter(cases::city_id.eq(*one)),
        many => query.filter(cases::city_id.eq_any(many.to_vec())),
    };
    if let Some(status) = filter.status {
        query = query.filter(cases::status.eq(status));
    }
    if let Some(user) = filter.assigned_to {
        query = query.filter(cases::assigned_to.eq(user));
    }
    if let Some(household) = filter.household_id {
        query = query.filter(cases::household_id.eq(household));
    }
    if let Some(cursor) = &page.after {
        query = after(query, cursor);
    }
    Ok(query.load(conn)?)
}

/// The cases after `cursor` in list order (newest first).
pub fn after(
    query: cases::BoxedQuery<'static, MultiBackend>,
    cursor: &Cursor<NaiveDateTime>,
) -> cases::BoxedQuery<'static, MultiBackend> {
    let (at, id) = (cursor.key, CaseId::from(cursor.id));
    // `created_at <= at` is implied by the rest, but it is what lets
    // either database seek the index (city_id, created_at, id) to the
    // cursor instead of walking every newer case of the city: at a
    // million cases that was most of the time of a page.
    query.filter(cases::created_at.le(at)).filter(
        cases::created_at
            .lt(at)
            .or(cases::created_at.eq(at).and(cases::id.lt(id))),
    )
}

/// Where the next page starts after this row.
pub fn position(row: &CaseRow) -> Cursor<NaiveDateTime> {
    Cursor::new(row.created_at, row.id)
}

/// Writes a merged case when `expected_version` is still current;
/// otherwise 412. The version check and the write are one conditional
/// UPDATE, so of two concurrent writers with the same version exactly one
/// wins. The blind indexes follow.
pub fn update(
    conn: &mut AnyConnection,
    crypto: Crypto<'_>,
    row: &CaseRow,
    expected_version: i64,
    case: &Merged,
) -> Result<(), ApiError> {
    let person = data_keys::load(conn, crypto.keyring, row.id)?;
    let sealed = sealing::seal_merged(&person, row, case)?;
    let s = &case.subject;
    let updated = diesel::update(
        cases::table
            .filter(cases::id.eq(row.id))
            .filter(cases::version.eq(expected_version)),
    )
    .set((
        cases::household_id.eq(case.household_id),
        cases::sex.eq(s.sex),
        cases::birth_year.eq(s.date_of_birth.year()),
        cases::origin_kind.eq(case.origin_kind),
        cases::return_date.eq(case.return_date),
        cases::vulnerability_flags.eq(TextSet::new(&case.vulnerability_flags)),
        cases::consent_share.eq(case.consent.share_with_providers),
        cases::consent_given_by.eq(case.consent.given_by),
        cases::consent_given_at.eq(time::truncate(case.consent.given_at.naive_utc())),
        cases::assigned_to.eq(case.assigned_to),
        sealed,
        cases::version.eq(expected_version + 1),
        cases::updated_at.eq(time::now()),
    ))
    .execute(conn)?;
    if updated != 1 {
        return Err(ApiError::PreconditionFailed);
    }
    index::reindex(conn, crypto.indexer, row.id, row.city_id, s)
}

/// Marks an open case active (its first note or referral).
pub fn mark_active(conn: &mut AnyConnection, id: CaseId) -> Result<(), ApiError> {
    diesel::update(
        cases::table
            .filter(cases::id.eq(id))
            .filter(cases::status.eq(CaseStatus::Open)),
    )
    .set((
        cases::status.eq(CaseStatus::Active),
        cases::version.eq(cases::version + 1),
        cases::updated_at.eq(time::now()),
    ))
    .execute(conn)?;
    Ok(())
}
