//! Answering a statistics request. A ministry official's answer is
//! post-processing of one stored release and nothing else: the first
//! designed table that holds the dimensions asked for, its cells summed
//! over the period's months and over the dimensions not asked for, each
//! sum with the 95 % margin of its noise, and sums below k shown as
//! suppressed. The same request on the same release always gives the same
//! answer. A city supervisor's answer is an exact count over their own
//! cities, read live.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::db::AnyConnection;
use crate::domain::{Month, Period, time};
use crate::error::ApiError;

use super::design::{self, Dimension, Subject, TABLES};
use super::mechanism;
use super::source::{self, CaseColumns, Places};
use super::store::{self, ReleaseRow};
use super::tables::{Counted, product};

/// What was asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Query {
    pub subject: Subject,
    pub dims: Vec<Dimension>,
    pub period: Option<Period>,
    pub release: Option<Uuid>,
}

/// One figure of an answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Figure {
    /// One value per dimension asked for.
    pub key: Vec<String>,
    /// `None` when suppressed.
    pub count: Option<i64>,
    pub margin_95: u64,
    pub suppressed: bool,
}

/// The months an answer covers, both included.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MonthRange {
    /// YYYY-MM
    pub first: String,
    /// YYYY-MM
    pub last: String,
}

/// The privacy loss behind a release, as the ledger recorded it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Privacy {
    /// zero-concentrated differential privacy ρ of this release
    pub rho: f64,
    /// ρ of every release of `ledger_year` up to and including this one
    pub rho_year_total: f64,
    /// the yearly limit in force when it was made
    pub rho_year_limit: f64,
    pub ledger_year: i32,
    /// the release's ρ stated as (ε, δ)-differential privacy
    pub epsilon: f64,
    pub delta: f64,
    /// referrals counted per person in one measurement
    pub referrals_per_person: i32,
}

/// A release, as a ministry reader sees it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ReleaseSummary {
    #[schema(value_type = String, format = Uuid)]
    pub id: String,
    pub seq: i64,
    /// When it was made: figures are as the data stood then.
    pub created_at: DateTime<Utc>,
    /// `scheduled` (the server, after a month settled) or `operator`
    pub trigger: String,
    pub months: MonthRange,
    /// Released counts below k are shown as suppressed.
    pub k: i32,
    pub privacy: Privacy,
}

impl ReleaseSummary {
    pub fn of(row: &ReleaseRow) -> Result<ReleaseSummary, ApiError> {
        Ok(ReleaseSummary {
            id: row.id.clone(),
            seq: row.seq,
            created_at: time::to_utc(row.created_at),
            trigger: row.trigger_kind.clone(),
            months: MonthRange {
                first: row.first_month.clone(),
                last: row.last_month.clone(),
            },
            k: row.small_cell_k,
            privacy: Privacy {
                rho: store::number(&row.rho)?,
                rho_year_total: store::number(&row.rho_year_total)?,
                rho_year_limit: store::number(&row.rho_year_limit)?,
                ledger_year: row.ledger_year,
                epsilon: store::number(&row.epsilon_at_delta)?,
                delta: mechanism::DELTA,
                referrals_per_person: row.referrals_per_person,
            },
        })
    }
}

/// An answer before it is rendered as JSON or CSV.
#[derive(Debug, Clone)]
pub struct Answer {
    /// `release` or `live`.
    pub source: &'static str,
    pub release: Option<ReleaseSummary>,
    pub table: Option<&'static str>,
    pub period: Option<Period>,
    /// The months covered; `None` for a live count of all time.
    pub months: Option<(Month, Month)>,
    pub dims: Vec<Dimension>,
    pub figures: Vec<Figure>,
}

/// Answers a ministry official from one release.
pub fn from_release(conn: &mut AnyConnection, query: &Query) -> Result<Answer, ApiError> {
    let release = match query.release {
        Some(id) => store::by_id(conn, &id.to_string())?.ok_or_else(|| {
            ApiError::field(
                "release",
                "is not a release; GET /stats/releases lists them",
            )
        })?,
        None => store::latest(conn)?.ok_or_else(|| {
            ApiError::field("release", "no statistical release has been made yet")
        })?,
    };
    let table = TABLES
        .iter()
        .find(|t| t.answers(query.subject, &query.dims))
        .ok_or_else(|| ApiError::field("group_by", design::available(query.subject)))?;
    let covered = (
        source::month(&release.first_month)?,
        source::month(&release.last_month)?,
    );
    let (first, last) = within(query.period, covered).ok_or_else(|| {
        ApiError::field(
            "period",
            format!(
                "is outside release {release}, which covers {first} to {last}",
                release = release.seq,
                first = covered.0,
                last = covered.1
            ),
        )
    })?;
    let sums = store::sums(conn, table, release.seq, first, last, &query.dims)?;
    let seqs: Vec<i64> = sums
        .iter()
        .map(|s| s.release_seq)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let scales = store::scales(conn, table.name, &seqs)?;
    let mut cells: BTreeMap<Vec<String>, (i64, f64)> = BTreeMap::new();
    for sum in sums {
        let scale = scales.get(&sum.release_seq).copied().ok_or_else(|| {
            ApiError::internal(anyhow::anyhow!("a release's ledger line is missing"))
        })?;
        let cell = cells.entry(sum.key).or_default();
        cell.0 += sum.total;
        cell.1 += sum.cells as f64 * scale * scale;
    }
    let k = i64::from(release.small_cell_k);
    let mut figures = Vec::with_capacity(cells.len());
    for (key, (total, variance)) in cells {
        let suppressed = total < k;
        figures.push(Figure {
            key,
            count: (!suppressed).then_some(total),
            margin_95: mechanism::margin_95(variance).map_err(ApiError::internal)?,
            suppressed,
        });
    }
    sort(&mut figures, &query.dims);
    Ok(Answer {
        source: "release",
        release: Some(ReleaseSummary::of(&release)?),
        table: Some(table.name),
        period: query.period,
        months: Some((first, last)),
        dims: query.dims.clone(),
        figures,
    })
}

/// The months of `period` a release covering `covered` can answer for.
fn within(period: Option<Period>, covered: (Month, Month)) -> Option<(Month, Month)> {
    let (first, last) = match period {
        Some(p) => (p.first().max(covered.0), p.last().min(covered.1)),
        None => covered,
    };
    (first <= last).then_some((first, last))
}

/// Answers a city supervisor with exact counts over `cities` (ids), live.
pub fn live(
    conn: &mut AnyConnection,
    query: &Query,
    cities: &[String],
) -> Result<Answer, ApiError> {
    let (first, last) = match query.period {
        Some(p) => (p.first(), p.last()),
        None => (
            Month::new(1, 1).unwrap_or(Month::of(time::now().date())),
            Month::of(time::now().date()),
        ),
    };
    let places = Places::load(conn)?;
    let wanted = |d| query.dims.contains(&d);
    let counts = match query.subject {
        Subject::Cases => {
            let groups = source::case_groups(
                conn,
                first,
                last,
                Some(cities),
                CaseColumns {
                    sex: wanted(Dimension::Sex),
                    birth_year: wanted(Dimension::AgeBand),
                    status: wanted(Dimension::Status),
                    origin_kind: wanted(Dimension::OriginKind),
                    flags: wanted(Dimension::Vulnerability),
                },
            )?;
            roll_up(&groups, &query.dims, &places)?
        }
        Subject::Referrals => {
            let groups = source::referral_groups(conn, first, last, Some(cities), u32::MAX)?;
            roll_up(&groups, &query.dims, &places)?
        }
        Subject::Assessments => {
            let groups = source::assessment_groups(conn, first, last, Some(cities))?;
            roll_up(&groups, &query.dims, &places)?
        }
    };
    // The grid: every value of each dimension within the caller's reach,
    // so a zero is shown as zero.
    let own: Vec<&source::City> = places
        .cities
        .iter()
        .filter(|c| cities.contains(&c.id))
        .collect();
    let seen_months: BTreeSet<String> = counts
        .keys()
        .filter_map(|k| {
            query
                .dims
                .iter()
                .position(|d| *d == Dimension::Month)
                .map(|i| k[i].clone())
        })
        .collect();
    let axes: Vec<Vec<String>> = query
        .dims
        .iter()
        .map(|d| match d {
            Dimension::Governorate => own
                .iter()
                .map(|c| c.governorate.clone())
                .collect::<BTreeSet<_>>()
                .into_iter()
                .collect(),
            Dimension::City => own.iter().map(|c| c.code.clone()).collect(),
            Dimension::Month => match query.period {
                Some(_) => first.through(last).map(|m| m.to_string()).collect(),
                None => seen_months.iter().cloned().collect(),
            },
            other => other.values().into_iter().map(str::to_string).collect(),
        })
        .collect();
    let mut figures: Vec<Figure> = product(&axes)
        .into_iter()
        .map(|key| Figure {
            count: Some(counts.get(&key).copied().unwrap_or(0)),
            key,
            margin_95: 0,
            suppressed: false,
        })
        .collect();
    sort(&mut figures, &query.dims);
    Ok(Answer {
        source: "live",
        release: None,
        table: None,
        period: query.period,
        months: query.period.map(|_| (first, last)),
        dims: query.dims.clone(),
        figures,
    })
}

/// Exact counts of `groups` by `dims`.
fn roll_up<G: Counted>(
    groups: &[G],
    dims: &[Dimension],
    places: &Places,
) -> Result<BTreeMap<Vec<String>, i64>, ApiError> {
    let mut counts: BTreeMap<Vec<String>, i64> = BTreeMap::new();
    for group in groups {
        let month = source::month(group.month())?;
        let city = places
            .city(group.city_id())
            .ok_or_else(|| ApiError::internal(anyhow::anyhow!("a case in no known city")))?;
        let place = |dim| match dim {
            Dimension::Governorate => Some(city.governorate.clone()),
            Dimension::City => Some(city.code.clone()),
            Dimension::Month => Some(month.to_string()),
            _ => None,
        };
        let keys = group.keys(dims, &place, month);
        for key in keys {
            *counts.entry(key).or_default() += group.n();
        }
    }
    Ok(counts)
}

/// Orders figures the way people read them: closed lists in their own
/// order (age bands youngest first), places and months as text.
fn sort(figures: &mut [Figure], dims: &[Dimension]) {
    let orders: Vec<Vec<&'static str>> = dims.iter().map(|d| d.values()).collect();
    figures.sort_by_cached_key(|f| {
        f.key
            .iter()
            .zip(&orders)
            .map(|(value, order)| {
                let rank = order.iter().position(|v| v == value).unwrap_or(usize::MAX);
                (rank, value.clone())
            })
            .collect::<Vec<_>>()
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periods_are_cut_to_what_a_release_covers() {
        let m = |t: &str| Month::parse(t).unwrap();
        let covered = (m("2019-01"), m("2026-10"));
        assert_eq!(
            within(Period::parse("2026"), covered),
            Some((m("2026-01"), m("2026-10")))
        );
        assert_eq!(
            within(Period::parse("2026-Q2"), covered),
            Some((m("2026-04"), m("2026-06")))
        );
        assert_eq!(within(Period::parse("2026-11"), covered), None);
        assert_eq!(within(Period::parse("2018"), covered), None);
        assert_eq!(within(None, covered), Some(covered));
    }

    #[test]
    fn figures_read_in_the_lists_own_order() {
        let figure = |band: &str| Figure {
            key: vec!["MOS".into(), band.into()],
            count: Some(0),
            margin_95: 0,
            suppressed: false,
        };
        let mut figures = vec![
            figure("60+"),
            figure("5-11"),
            figure("0-4"),
            figure("12-17"),
        ];
        sort(&mut figures, &[Dimension::City, Dimension::AgeBand]);
        let bands: Vec<&str> = figures.iter().map(|f| f.key[1].as_str()).collect();
        assert_eq!(bands, vec!["0-4", "5-11", "12-17", "60+"]);
    }
}
