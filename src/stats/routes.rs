//! `GET /stats/cases`: counts for ministry officials (national) and city
//! supervisors (their cities), small cells hidden, as JSON or as CSV with an
//! HXL hashtag row.

use actix_web::http::header::{ACCEPT, CONTENT_TYPE};
use actix_web::{HttpRequest, HttpResponse, get, web};
use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::audit::{self, Entity, Outcome};
use crate::auth::Principal;
use crate::auth::policy::{self, Action, Resource, Scope};
use crate::auth::trail;
use crate::db::{Database, write_transaction};
use crate::domain::time;
use crate::error::{ApiError, Problem};
use crate::extract;
use crate::telemetry::RequestId;

use super::store::{self, CaseDimension};
use super::suppress::{Cell, suppress};

/// The threshold k: cells from 1 to k−1 are hidden. From settings.
#[derive(Debug, Clone, Copy)]
pub struct SmallCell(pub u64);

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct CaseStatsQuery {
    /// Comma-separated: governorate, city, sex, age_band, status,
    /// origin_kind, vulnerability. Empty: one total.
    pub group_by: Option<String>,
    /// Return date from (inclusive).
    pub from: Option<NaiveDate>,
    /// Return date to (exclusive).
    pub to: Option<NaiveDate>,
}

/// A published table. Each cell has one member per dimension, `count`
/// (null when suppressed) and `suppressed`.
#[derive(Debug, Serialize, ToSchema)]
pub struct StatsTable {
    pub k: u64,
    pub dimensions: Vec<String>,
    #[schema(value_type = Vec<Object>)]
    pub cells: Vec<serde_json::Map<String, serde_json::Value>>,
}

fn parse_dimensions(text: Option<&str>) -> Result<Vec<CaseDimension>, ApiError> {
    let mut out: Vec<CaseDimension> = Vec::new();
    for part in text
        .unwrap_or("")
        .split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
    {
        let d = CaseDimension::parse(part).ok_or_else(|| {
            ApiError::field(
                "group_by",
                "must list only governorate, city, sex, age_band, status, origin_kind, vulnerability",
            )
        })?;
        if out.contains(&d) {
            return Err(ApiError::field("group_by", "names a dimension twice"));
        }
        out.push(d);
    }
    Ok(out)
}

fn table(k: u64, dimensions: &[CaseDimension], cells: &[Cell]) -> StatsTable {
    StatsTable {
        k,
        dimensions: dimensions.iter().map(|d| d.name().to_string()).collect(),
        cells: cells
            .iter()
            .map(|cell| {
                let mut map = serde_json::Map::new();
                for (d, value) in dimensions.iter().zip(&cell.key) {
                    map.insert(d.name().into(), value.clone().into());
                }
                map.insert(
                    "count".into(),
                    if cell.suppressed {
                        serde_json::Value::Null
                    } else {
                        cell.count.into()
                    },
                );
                map.insert("suppressed".into(), cell.suppressed.into());
                map
            })
            .collect(),
    }
}

fn csv_field(value: &str) -> String {
    if value.contains([',', '"', '\n']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value.to_string()
    }
}

/// CSV with the header, an HXL hashtag row under it, then one row a cell
/// (an empty count where suppressed).
fn csv(dimensions: &[CaseDimension], cells: &[Cell]) -> String {
    let mut out = String::new();
    let names: Vec<&str> = dimensions
        .iter()
        .map(|d| d.name())
        .chain(["count"])
        .collect();
    out.push_str(&names.join(","));
    out.push('\n');
    let tags: Vec<&str> = dimensions
        .iter()
        .map(|d| d.hxl())
        .chain(["#affected+num"])
        .collect();
    out.push_str(&tags.join(","));
    out.push('\n');
    for cell in cells {
        let mut row: Vec<String> = cell.key.iter().map(|v| csv_field(v)).collect();
        row.push(if cell.suppressed {
            String::new()
        } else {
            cell.count.to_string()
        });
        out.push_str(&row.join(","));
        out.push('\n');
    }
    out
}

/// Counts of cases, anonymised. National for ministry officials, the
/// caller's cities for city supervisors.
#[utoipa::path(
    tag = "stats",
    params(CaseStatsQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, body = StatsTable, content_type = "application/json"),
        (status = 200, description = "The same table as CSV, with an HXL hashtag row under the header", body = String, content_type = "text/csv"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/stats/cases")]
pub async fn case_stats(
    req: HttpRequest,
    principal: Principal,
    request: RequestId,
    db: web::Data<Database>,
    k: web::Data<SmallCell>,
) -> Result<HttpResponse, ApiError> {
    policy::authorize(&principal, Action::StatsRead, Resource::Collection)?;
    let query: CaseStatsQuery = extract::parse_query(&req)?;
    let dimensions = parse_dimensions(query.group_by.as_deref())?;
    if let (Some(from), Some(to)) = (query.from, query.to)
        && from >= to
    {
        return Err(ApiError::field("to", "must be after from"));
    }
    let cities = match policy::scope(&principal, Action::StatsRead) {
        Scope::National => None,
        Scope::Cities(cities) => Some(cities),
        Scope::Organisation(_) | Scope::Nothing => return Err(ApiError::Forbidden),
    };
    let wants_csv = req
        .headers()
        .get(ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("text/csv"));
    let k = k.0;
    let dims = dimensions.clone();
    let cells = db
        .run(move |conn| {
            write_transaction(conn, |conn| {
                let mut cells = store::case_counts(
                    conn,
                    &dims,
                    cities.as_deref(),
                    query.from,
                    query.to,
                    time::now().date().year(),
                )?;
                suppress(&mut cells, dims.len(), k);
                let names: Vec<&str> = dims.iter().map(|d| d.name()).collect();
                audit::append(
                    conn,
                    &trail::event(
                        &principal,
                        &request,
                        audit::Action::StatsExport,
                        Outcome::Success,
                    )
                    .entity(Entity::Stats, uuid::Uuid::nil())
                    .detail(format!(
                        "cases by [{}], {} cells, {} suppressed",
                        names.join(","),
                        cells.len(),
                        cells.iter().filter(|c| c.suppressed).count()
                    )),
                )?;
                Ok(cells)
            })
        })
        .await?;
    if wants_csv {
        return Ok(HttpResponse::Ok()
            .insert_header((CONTENT_TYPE, "text/csv; charset=utf-8"))
            .body(csv(&dimensions, &cells)));
    }
    Ok(HttpResponse::Ok().json(table(k, &dimensions, &cells)))
}
