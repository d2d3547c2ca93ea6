//! Making a statistical release: which months are due, reading one
//! consistent snapshot (without the write lock), measuring every designed
//! table through the [`Mechanism`], checking the yearly privacy ledger, and
//! storing the release whole in one short write transaction.
//!
//! Each month of a monthly table is measured once, by the first release
//! after it settled (`release_lag_months` after it ended), and carried
//! unchanged into every later release; only the new months and the
//! snapshot tables get fresh noise. The first release, which reaches back
//! to `series_start`, is always the operator's (`sanad stats release`):
//! the server releases each later month on its own once a first exists.

use std::rc::Rc;

use chrono::{Datelike, NaiveDate, NaiveDateTime};
use diesel::Connection;
use diesel::RunQueryDsl;
use uuid::Uuid;

use super::settings::StatsSettings;
use crate::audit::{self, Entity, NewEvent, Outcome};
use crate::db::{AnyConnection, write_transaction};
use crate::domain::Month;
use crate::error::ApiError;

use super::design::{Subject, TABLES, Timing, total_shares};
use super::mechanism::{self, Mechanism};
use super::source::{self, CaseColumns, Places};
use super::store::{self, CellRow, FrozenMonth, LedgerRow, ReleaseRow};
use super::tables::{self, MeasuredTable, TableError};

/// Who asked for a release.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trigger {
    /// The server, after a month settled.
    Scheduled,
    /// The operator, with `sanad stats release`.
    Operator,
}

impl Trigger {
    fn as_str(self) -> &'static str {
        match self {
            Trigger::Scheduled => "scheduled",
            Trigger::Operator => "operator",
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ReleaseError {
    #[error("no month has settled since the series start ({0}); nothing to release yet")]
    NothingSettled(Month),
    #[error(
        "the release would spend rho {planned:.4}, and {spent:.4} of this year's {limit:.4} is spent: refused"
    )]
    OverBudget {
        planned: f64,
        spent: f64,
        limit: f64,
    },
    #[error("another release was made at the same time; run it again")]
    Raced,
    #[error(transparent)]
    Table(#[from] TableError),
    #[error(transparent)]
    Mechanism(#[from] mechanism::MechanismError),
    #[error(transparent)]
    Database(#[from] ApiError),
}

impl From<diesel::result::Error> for ReleaseError {
    fn from(e: diesel::result::Error) -> ReleaseError {
        ReleaseError::Database(e.into())
    }
}

/// What a release covers, decided before anything is counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Plan {
    /// Months measured for the first time (monthly tables), if any.
    pub new_months: Option<(Month, Month)>,
    /// Every month the release answers for.
    pub first: Month,
    pub last: Month,
}

/// The newest month that has settled by `today`: it ended `lag` whole
/// months or more ago.
pub fn last_settled(today: NaiveDate, lag: u32) -> Month {
    let mut month = Month::of(today);
    for _ in 0..=lag {
        month = month.previous();
    }
    month
}

/// The months a release made `today` covers, after the release `previous`
/// (whose last month is given).
pub fn plan(
    settings: &StatsSettings,
    previous: Option<Month>,
    today: NaiveDate,
) -> Result<Plan, ReleaseError> {
    let settled = last_settled(today, settings.release_lag_months);
    let start = settings.series_start;
    if settled < start && previous.is_none() {
        return Err(ReleaseError::NothingSettled(start));
    }
    let new_months = match previous {
        None => Some((start, settled)),
        Some(last) if last < settled => Some((last.plus(1), settled)),
        Some(_) => None,
    };
    Ok(Plan {
        new_months,
        first: start,
        last: previous.map_or(settled, |p| p.max(settled)),
    })
}

/// The snapshot read for a release: places and grouped rows, all from one
/// transaction that only reads (PostgreSQL: REPEATABLE READ READ ONLY;
/// SQLite: a read transaction on the WAL, which never waits for writers
/// and never blocks them).
fn read_snapshot<T>(
    conn: &mut AnyConnection,
    read: impl FnOnce(&mut AnyConnection) -> Result<T, ApiError>,
) -> Result<T, ApiError> {
    conn.transaction(|conn| {
        if let AnyConnection::Postgresql(_) = conn {
            diesel::sql_query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
                .execute(conn)?;
        }
        read(conn)
    })
}

/// What a table is measured over, read from the snapshot.
enum Rows {
    Cases(Vec<source::CaseGroup>),
    Referrals(Vec<source::ReferralGroup>),
    Assessments(Assessed),
}

/// Shared: every assessment table of the same months counts the same
/// groups (`source::assessment_groups` takes no column choice).
type Assessed = Rc<[source::AssessmentGroup]>;

/// A summary of a release made.
#[derive(Debug, Clone, PartialEq)]
pub struct Made {
    pub seq: i64,
    pub id: Uuid,
    pub plan: Plan,
    pub rho: f64,
    pub rho_year_total: f64,
    pub rho_year_limit: f64,
    pub cells: usize,
}

/// Makes a release as of `now`, reporting progress to `progress`.
/// `Ok(None)` when a scheduled run finds nothing due (or no first release).
pub fn make(
    conn: &mut AnyConnection,
    settings: &StatsSettings,
    trigger: Trigger,
    now: NaiveDateTime,
    mechanism: &dyn Mechanism,
    progress: &mut dyn FnMut(&str),
) -> Result<Option<Made>, ReleaseError> {
    let today = now.date();
    let year = today.year();
    let shares = f64::from(total_shares());
    let previous = store::latest(conn)?;
    let previous_last = previous
        .as_ref()
        .map(|p| source::month(&p.last_month))
        .transpose()?;
    if trigger == Trigger::Scheduled && previous.is_none() {
        return Ok(None);
    }
    let plan = plan(settings, previous_last, today)?;
    if trigger == Trigger::Scheduled && plan.new_months.is_none() {
        return Ok(None);
    }
    let measured_tables: Vec<_> = TABLES
        .iter()
        .filter(|t| t.timing == Timing::Snapshot || plan.new_months.is_some())
        .collect();
    let planned = settings.rho_per_release
        * f64::from(measured_tables.iter().map(|t| t.share).sum::<u32>())
        / shares;
    let limit = settings.rho_per_year;
    let spent = mechanism::compose(store::spent_in(conn, year)?)?;
    if spent + planned > limit {
        return Err(ReleaseError::OverBudget {
            planned,
            spent,
            limit,
        });
    }

    progress("reading one snapshot of cases and referrals");
    let cap = settings.referrals_per_person;
    let (places, rows) = read_snapshot(conn, |conn| {
        let places = Places::load(conn)?;
        let mut rows = Vec::new();
        // The assessment groups of the months last read, read once for
        // all the tables that count them (the query is the costliest of a
        // release: a window over every assessment and a look at each
        // person's referrals).
        let mut assessed: Option<((Month, Month), Assessed)> = None;
        for table in &measured_tables {
            let (first, last) = months_of(table.timing, &plan);
            let wanted = |d| table.dims.contains(&d);
            use super::design::Dimension as D;
            rows.push(match table.subject {
                Subject::Cases => Rows::Cases(source::case_groups(
                    conn,
                    first,
                    last,
                    None,
                    CaseColumns {
                        sex: wanted(D::Sex),
                        birth_year: wanted(D::AgeBand),
                        status: wanted(D::Status),
                        origin_kind: wanted(D::OriginKind),
                        flags: wanted(D::Vulnerability),
                    },
                )?),
                Subject::Referrals => {
                    Rows::Referrals(source::referral_groups(conn, first, last, None, cap)?)
                }
                Subject::Assessments => Rows::Assessments(match &assessed {
                    Some((months, groups)) if *months == (first, last) => Rc::clone(groups),
                    _ => {
                        let groups: Assessed =
                            source::assessment_groups(conn, first, last, None)?.into();
                        assessed = Some(((first, last), Rc::clone(&groups)));
                        groups
                    }
                }),
            });
        }
        Ok((places, rows))
    })?;

    let mut measured: Vec<MeasuredTable> = Vec::new();
    for (i, (table, rows)) in measured_tables.iter().zip(rows).enumerate() {
        progress(&format!(
            "measuring {} ({} of {})",
            table.name,
            i + 1,
            measured_tables.len()
        ));
        let (first, last) = months_of(table.timing, &plan);
        let rho = settings.rho_per_release * f64::from(table.share) / shares;
        measured.push(match rows {
            Rows::Cases(groups) => {
                tables::measure(table, &places, first, last, &groups, 1, rho, mechanism)?
            }
            Rows::Referrals(groups) => {
                tables::measure(table, &places, first, last, &groups, cap, rho, mechanism)?
            }
            // One baseline a person: one row in each measurement.
            Rows::Assessments(groups) => {
                tables::measure(table, &places, first, last, &groups[..], 1, rho, mechanism)?
            }
        });
    }
    let rho = mechanism::compose(measured.iter().map(|t| t.rho).collect())?;
    let cells: usize = measured.iter().map(|t| t.cells.len()).sum();
    progress(&format!("storing {cells} cells"));

    let id = Uuid::new_v4();
    let made = write_transaction(conn, |conn| {
        // Checked again where it is written: a release made meanwhile
        // counts, and takes the seq this one would have.
        let spent = mechanism::compose(store::spent_in(conn, year)?).map_err(ApiError::internal)?;
        if spent + rho > limit {
            return Ok(Err(ReleaseError::OverBudget {
                planned: rho,
                spent,
                limit,
            }));
        }
        let seq = store::next_seq(conn)?;
        let total = spent + rho;
        let release = ReleaseRow {
            seq,
            id: id.to_string(),
            created_at: now,
            trigger_kind: trigger.as_str().into(),
            first_month: plan.first.to_string(),
            last_month: plan.last.to_string(),
            ledger_year: year,
            rho: rho.to_string(),
            rho_year_total: total.to_string(),
            rho_year_limit: limit.to_string(),
            epsilon_at_delta: mechanism::epsilon(rho)
                .map_err(ApiError::internal)?
                .to_string(),
            small_cell_k: i32::try_from(settings.k).unwrap_or(i32::MAX),
            referrals_per_person: i32::try_from(cap).unwrap_or(i32::MAX),
        };
        let (ledger, frozen, cell_rows) = rows_of(seq, &measured);
        store::insert(conn, &release, &ledger, &frozen, &cell_rows)?;
        audit::append(
            conn,
            &NewEvent::new(audit::Action::StatsRelease, Outcome::Success)
                .entity(Entity::Stats, id)
                .detail(format!(
                    "release {seq} ({}): months {} to {}, new {}, rho {rho:.6}, year {year} total {total:.6} of {limit}",
                    trigger.as_str(),
                    plan.first,
                    plan.last,
                    plan.new_months
                        .map_or("none".into(), |(a, b)| format!("{a} to {b}")),
                )),
        )?;
        Ok(Ok(Made {
            seq,
            id,
            plan,
            rho,
            rho_year_total: total,
            rho_year_limit: limit,
            cells,
        }))
    });
    match made {
        Ok(result) => result.map(Some),
        Err(ApiError::Conflict(_)) => Err(ReleaseError::Raced),
        Err(other) => Err(other.into()),
    }
}

fn months_of(timing: Timing, plan: &Plan) -> (Month, Month) {
    match (timing, plan.new_months) {
        (Timing::Monthly, Some(new)) => new,
        _ => (plan.first, plan.last),
    }
}

/// The stored rows of measured tables.
fn rows_of(
    seq: i64,
    measured: &[MeasuredTable],
) -> (Vec<LedgerRow>, Vec<FrozenMonth>, Vec<CellRow>) {
    let mut ledger = Vec::new();
    let mut frozen = Vec::new();
    let mut cells = Vec::new();
    for table in measured {
        ledger.push(LedgerRow {
            release_seq: seq,
            table_name: table.design.name.into(),
            first_month: table.first.to_string(),
            last_month: table.last.to_string(),
            measurements: i32::try_from(table.measurements).unwrap_or(i32::MAX),
            d_in: i32::try_from(table.d_in).unwrap_or(i32::MAX),
            scale: table.scale.to_string(),
            rho: table.rho.to_string(),
        });
        if table.design.timing == Timing::Monthly {
            frozen.extend(table.first.through(table.last).map(|month| FrozenMonth {
                table_name: table.design.name.into(),
                month: month.to_string(),
                release_seq: seq,
            }));
        }
        for (key, value) in &table.cells {
            let part = |i: usize| key.parts.get(i).cloned().unwrap_or_default();
            cells.push(CellRow {
                table_name: table.design.name.into(),
                release_seq: seq,
                month: key.month.to_string(),
                governorate: key.governorate.clone(),
                d1: part(0),
                d2: part(1),
                d3: part(2),
                value: *value,
            });
        }
    }
    (ledger, frozen, cells)
}
