//! Releases, their ledger and their cells in the database. Nothing here
//! reads a case or a referral: this is what was published.

use std::collections::BTreeMap;

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};

use crate::db::AnyConnection;
use crate::db::schema::{stats_cells, stats_frozen_months, stats_ledger, stats_releases};
use crate::domain::Month;
use crate::error::ApiError;

use super::design::{Dimension, TableDesign, Timing};

/// One release as stored.
#[derive(Debug, Clone, PartialEq, Queryable, Insertable)]
#[diesel(table_name = stats_releases)]
pub struct ReleaseRow {
    pub seq: i64,
    pub id: String,
    pub created_at: NaiveDateTime,
    pub trigger_kind: String,
    pub first_month: String,
    pub last_month: String,
    pub ledger_year: i32,
    pub rho: String,
    pub rho_year_total: String,
    pub rho_year_limit: String,
    pub epsilon_at_delta: String,
    pub small_cell_k: i32,
    pub referrals_per_person: i32,
}

/// One line of the ledger: a table measured by a release.
#[derive(Debug, Clone, PartialEq, Queryable, Insertable)]
#[diesel(table_name = stats_ledger, treat_none_as_default_value = false)]
pub struct LedgerRow {
    pub release_seq: i64,
    pub table_name: String,
    pub first_month: String,
    pub last_month: String,
    pub measurements: i32,
    pub d_in: i32,
    pub scale: String,
    pub rho: String,
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = stats_frozen_months, treat_none_as_default_value = false)]
pub struct FrozenMonth {
    pub table_name: String,
    pub month: String,
    pub release_seq: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Insertable, Queryable)]
#[diesel(table_name = stats_cells, treat_none_as_default_value = false)]
pub struct CellRow {
    pub table_name: String,
    pub release_seq: i64,
    pub month: String,
    pub governorate: String,
    pub d1: String,
    pub d2: String,
    pub d3: String,
    pub value: i64,
}

/// A number stored as decimal text (no portable floating column type).
pub fn number(text: &str) -> Result<f64, ApiError> {
    text.parse::<f64>()
        .ok()
        .filter(|v| v.is_finite())
        .ok_or_else(|| ApiError::internal(anyhow::anyhow!("a stored figure is not a number")))
}

pub fn latest(conn: &mut AnyConnection) -> Result<Option<ReleaseRow>, ApiError> {
    Ok(stats_releases::table
        .order(stats_releases::seq.desc())
        .select(stats_releases::all_columns)
        .first(conn)
        .optional()?)
}

pub fn by_id(conn: &mut AnyConnection, id: &str) -> Result<Option<ReleaseRow>, ApiError> {
    Ok(stats_releases::table
        .filter(stats_releases::id.eq(id))
        .select(stats_releases::all_columns)
        .first(conn)
        .optional()?)
}

/// Every release, newest first (a handful a year).
pub fn all(conn: &mut AnyConnection) -> Result<Vec<ReleaseRow>, ApiError> {
    Ok(stats_releases::table
        .order(stats_releases::seq.desc())
        .select(stats_releases::all_columns)
        .load(conn)?)
}

/// The ρ of every release counted against `year`.
pub fn spent_in(conn: &mut AnyConnection, year: i32) -> Result<Vec<f64>, ApiError> {
    stats_releases::table
        .filter(stats_releases::ledger_year.eq(year))
        .select(stats_releases::rho)
        .load::<String>(conn)?
        .iter()
        .map(|r| number(r))
        .collect()
}

pub fn next_seq(conn: &mut AnyConnection) -> Result<i64, ApiError> {
    let max: Option<i64> = stats_releases::table
        .select(diesel::dsl::max(stats_releases::seq))
        .first(conn)?;
    Ok(max.unwrap_or(0) + 1)
}

/// Ledger lines of these releases, by release and table.
pub fn ledger(conn: &mut AnyConnection, seqs: &[i64]) -> Result<Vec<LedgerRow>, ApiError> {
    Ok(stats_ledger::table
        .filter(stats_ledger::release_seq.eq_any(seqs))
        .order((stats_ledger::release_seq, stats_ledger::table_name))
        .select(stats_ledger::all_columns)
        .load(conn)?)
}

/// Stores a release whole: the release, its ledger, the months it froze
/// and its cells. Call inside one write transaction.
pub fn insert(
    conn: &mut AnyConnection,
    release: &ReleaseRow,
    ledger: &[LedgerRow],
    frozen: &[FrozenMonth],
    cells: &[CellRow],
) -> Result<(), ApiError> {
    diesel::insert_into(stats_releases::table)
        .values(release)
        .execute(conn)?;
    let ledger: Vec<&LedgerRow> = ledger.iter().collect();
    crate::insert_batches!(conn, stats_ledger::table, ledger, 8);
    let frozen: Vec<&FrozenMonth> = frozen.iter().collect();
    crate::insert_batches!(conn, stats_frozen_months::table, frozen, 3);
    let cells: Vec<&CellRow> = cells.iter().collect();
    crate::insert_batches!(conn, stats_cells::table, cells, 8);
    Ok(())
}

/// One summed group of stored cells: the values of the dimensions asked
/// for, the release that measured them, the sum and how many cells.
#[derive(Debug, QueryableByName)]
struct SummedRow {
    #[diesel(sql_type = Text)]
    k0: String,
    #[diesel(sql_type = Text)]
    k1: String,
    #[diesel(sql_type = Text)]
    k2: String,
    #[diesel(sql_type = BigInt)]
    release_seq: i64,
    #[diesel(sql_type = BigInt)]
    total: i64,
    #[diesel(sql_type = BigInt)]
    cells: i64,
}

/// A sum of stored cells: the values of the dimensions asked for, the
/// release that measured the cells, their sum and how many there were.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sum {
    pub key: Vec<String>,
    pub release_seq: i64,
    pub total: i64,
    pub cells: u64,
}

/// Sums of released cells of `table` over `first..=last` as release `seq`
/// holds them, grouped by `dims` (at most three), and by the release that
/// measured each (their noise scales may differ). The database does the
/// summing; what comes back is one line per answer cell and release.
pub fn sums(
    conn: &mut AnyConnection,
    table: &TableDesign,
    seq: i64,
    first: Month,
    last: Month,
    dims: &[Dimension],
) -> Result<Vec<Sum>, ApiError> {
    const D: [&str; 3] = ["d1", "d2", "d3"];
    let mut keys: Vec<&str> = Vec::new();
    for dim in dims {
        let column = match dim {
            Dimension::Governorate => "governorate",
            Dimension::Month => "month",
            other => table
                .position(*other)
                .map(|p| D[p])
                .ok_or_else(|| ApiError::internal(anyhow::anyhow!("dimension not in table")))?,
        };
        keys.push(column);
    }
    let select: Vec<String> = (0..3)
        .map(|i| match keys.get(i) {
            Some(column) => format!("{column} AS k{i}"),
            None => format!("'' AS k{i}"),
        })
        .collect();
    let mut group: Vec<&str> = keys.clone();
    group.push("release_seq");
    let releases = match table.timing {
        Timing::Monthly => "release_seq <= $4",
        Timing::Snapshot => "release_seq = $4",
    };
    let sql = format!(
        "SELECT {}, release_seq, CAST(SUM(value) AS BIGINT) AS total, COUNT(*) AS cells FROM stats_cells \
         WHERE table_name = $1 AND month >= $2 AND month <= $3 AND {releases} GROUP BY {}",
        select.join(", "),
        group.join(", ")
    );
    let rows: Vec<SummedRow> = diesel::sql_query(sql)
        .bind::<Text, _>(table.name)
        .bind::<Text, _>(first.to_string())
        .bind::<Text, _>(last.to_string())
        .bind::<BigInt, _>(seq)
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|r| Sum {
            key: [r.k0, r.k1, r.k2].into_iter().take(dims.len()).collect(),
            release_seq: r.release_seq,
            total: r.total,
            cells: u64::try_from(r.cells).unwrap_or(0),
        })
        .collect())
}

/// Noise scale by release, for one table.
pub fn scales(
    conn: &mut AnyConnection,
    table: &str,
    seqs: &[i64],
) -> Result<BTreeMap<i64, f64>, ApiError> {
    stats_ledger::table
        .filter(stats_ledger::table_name.eq(table))
        .filter(stats_ledger::release_seq.eq_any(seqs))
        .select((stats_ledger::release_seq, stats_ledger::scale))
        .load::<(i64, String)>(conn)?
        .into_iter()
        .map(|(seq, scale)| Ok((seq, number(&scale)?)))
        .collect()
}
