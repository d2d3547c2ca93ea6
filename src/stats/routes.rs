//! `GET /stats/cases` and `GET /stats/referrals`: counts for ministry officials (national) and city
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
use crate::web::extract;
use crate::web::telemetry::RequestId;

use super::store::{self, CaseDimension, ReferralDimension};
use super::suppress::{Cell, suppress};

/// The threshold k: cells from 1 to k−1 are hidden. From settings.
#[derive(Debug, Clone, Copy)]
pub struct SmallCell(pub u64);

#[derive(Debug, Deserialize, validator::Validate, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct CaseStatsQuery {
    /// Comma-separated, each at most once: governorate, city, sex,
    /// age_band, status, origin_kind, vulnerability. Empty: one total.
    #[param(schema_with = case_dimensions, style = Form, explode = false, required = false)]
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

/// `group_by` as the document states it: a comma-separated list of
/// distinct dimension names.
fn dimensions_schema(names: &[&str]) -> utoipa::openapi::schema::Array {
    use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, Type};
    ArrayBuilder::new()
        .items(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .enum_values(Some(names.iter().copied())),
        )
        .unique_items(true)
        .build()
}

fn case_dimensions() -> utoipa::openapi::schema::Array {
    dimensions_schema(&[
        "governorate",
        "city",
        "sex",
        "age_band",
        "status",
        "origin_kind",
        "vulnerability",
    ])
}

fn referral_dimensions() -> utoipa::openapi::schema::Array {
    dimensions_schema(&["governorate", "city", "kind", "state", "outcome", "month"])
}

/// Parses `group_by`: empty (or absent) for one total, else names
/// separated by commas, exactly as spelled, each at most once.
fn parse_dimensions<D: PartialEq>(
    text: Option<&str>,
    parse: fn(&str) -> Option<D>,
    allowed: &'static str,
) -> Result<Vec<D>, ApiError> {
    let mut out: Vec<D> = Vec::new();
    let text = text.unwrap_or("");
    if text.is_empty() {
        return Ok(out);
    }
    for part in text.split(',') {
        let d = parse(part).ok_or_else(|| ApiError::field("group_by", allowed))?;
        if out.contains(&d) {
            return Err(ApiError::field("group_by", "names a dimension twice"));
        }
        out.push(d);
    }
    Ok(out)
}

/// Extra figures of a cell (the referral medians), shown only when the
/// cell's count is.
type Extras<'a> = &'a dyn Fn(&Cell) -> Vec<(&'static str, Option<f64>)>;

fn table(k: u64, names: &[&str], cells: &[Cell], extras: Extras<'_>) -> StatsTable {
    StatsTable {
        k,
        dimensions: names.iter().map(|d| d.to_string()).collect(),
        cells: cells
            .iter()
            .map(|cell| {
                let mut map = serde_json::Map::new();
                for (name, value) in names.iter().zip(&cell.key) {
                    map.insert((*name).into(), value.clone().into());
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
                for (name, value) in extras(cell) {
                    let shown = value.filter(|_| !cell.suppressed);
                    map.insert(
                        name.into(),
                        shown.map_or(serde_json::Value::Null, Into::into),
                    );
                }
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
/// (empty figures where suppressed).
fn csv(names: &[&str], tags: &[&str], cells: &[Cell], extras: Extras<'_>) -> String {
    let extra_names: Vec<(&str, &str)> = match cells.first() {
        Some(cell) => extras(cell)
            .into_iter()
            .map(|(name, _)| {
                (
                    name,
                    if name.contains("accept") {
                        "#indicator+days+accept"
                    } else {
                        "#indicator+days+complete"
                    },
                )
            })
            .collect(),
        None => Vec::new(),
    };
    let mut out = String::new();
    let header: Vec<&str> = names
        .iter()
        .copied()
        .chain(["count"])
        .chain(extra_names.iter().map(|e| e.0))
        .collect();
    out.push_str(&header.join(","));
    out.push('\n');
    let hxl: Vec<&str> = tags
        .iter()
        .copied()
        .chain(["#affected+num"])
        .chain(extra_names.iter().map(|e| e.1))
        .collect();
    out.push_str(&hxl.join(","));
    out.push('\n');
    for cell in cells {
        let mut row: Vec<String> = cell.key.iter().map(|v| csv_field(v)).collect();
        row.push(if cell.suppressed {
            String::new()
        } else {
            cell.count.to_string()
        });
        for (_, value) in extras(cell) {
            row.push(
                value
                    .filter(|_| !cell.suppressed)
                    .map(|v| v.to_string())
                    .unwrap_or_default(),
            );
        }
        out.push_str(&row.join(","));
        out.push('\n');
    }
    out
}

fn wants_csv(req: &HttpRequest) -> bool {
    req.headers()
        .get(ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("text/csv"))
}

fn stats_scope(principal: &Principal) -> Result<Option<Vec<crate::domain::CityId>>, ApiError> {
    match policy::scope(principal, Action::StatsRead) {
        Scope::National => Ok(None),
        Scope::Cities(cities) => Ok(Some(cities)),
        Scope::Organisation(_) | Scope::Nothing => Err(ApiError::Forbidden),
    }
}

fn check_range(from: Option<NaiveDate>, to: Option<NaiveDate>) -> Result<(), ApiError> {
    match (from, to) {
        (Some(from), Some(to)) if from >= to => Err(ApiError::field("to", "must be after from")),
        _ => Ok(()),
    }
}

fn export_event(
    principal: &Principal,
    request: &RequestId,
    what: &str,
    names: &[&str],
    cells: &[Cell],
) -> audit::NewEvent {
    trail::event(
        principal,
        request,
        audit::Action::StatsExport,
        Outcome::Success,
    )
    .entity(Entity::Stats, uuid::Uuid::nil())
    .detail(format!(
        "{what} by [{}], {} cells, {} suppressed",
        names.join(","),
        cells.len(),
        cells.iter().filter(|c| c.suppressed).count()
    ))
}

fn answer(
    req: &HttpRequest,
    k: u64,
    names: &[&str],
    tags: &[&str],
    cells: &[Cell],
    extras: Extras<'_>,
) -> HttpResponse {
    if wants_csv(req) {
        HttpResponse::Ok()
            .insert_header((CONTENT_TYPE, "text/csv; charset=utf-8"))
            .body(csv(names, tags, cells, extras))
    } else {
        HttpResponse::Ok().json(table(k, names, cells, extras))
    }
}

/// Counts of cases, anonymised. National for ministry officials, the
/// caller's cities for city supervisors.
#[utoipa::path(
    tag = "stats",
    params(CaseStatsQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The table; with `Accept: text/csv`, the same table as CSV with an HXL hashtag row under the header", content(
            (StatsTable = "application/json"),
            (String = "text/csv"),
        )),
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
    let dimensions = parse_dimensions(
        query.group_by.as_deref(),
        CaseDimension::parse,
        CASE_DIMENSIONS,
    )?;
    check_range(query.from, query.to)?;
    let cities = stats_scope(&principal)?;
    let k = k.0;
    let names: Vec<&'static str> = dimensions.iter().map(|d| d.name()).collect();
    let tags: Vec<&'static str> = dimensions.iter().map(|d| d.hxl()).collect();
    let audit_names = names.clone();
    let cells = db
        .run(move |conn| {
            write_transaction(conn, |conn| {
                let mut cells = store::case_counts(
                    conn,
                    &dimensions,
                    cities.as_deref(),
                    query.from,
                    query.to,
                    time::now().date().year(),
                )?;
                suppress(&mut cells, dimensions.len(), k);
                audit::append(
                    conn,
                    &export_event(&principal, &request, "cases", &audit_names, &cells),
                )?;
                Ok(cells)
            })
        })
        .await?;
    Ok(answer(&req, k, &names, &tags, &cells, &|_| Vec::new()))
}

const CASE_DIMENSIONS: &str =
    "must list only governorate, city, sex, age_band, status, origin_kind, vulnerability";
const REFERRAL_DIMENSIONS: &str = "must list only governorate, city, kind, state, outcome, month";

#[derive(Debug, Deserialize, validator::Validate, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ReferralStatsQuery {
    /// Comma-separated, each at most once: governorate, city, kind, state,
    /// outcome, month. Empty: one total.
    #[param(schema_with = referral_dimensions, style = Form, explode = false, required = false)]
    pub group_by: Option<String>,
    /// Referral date from (inclusive).
    pub from: Option<NaiveDate>,
    /// Referral date to (exclusive).
    pub to: Option<NaiveDate>,
}

/// Counts of referrals, anonymised, with the median days to acceptance and
/// to completion of each published cell.
#[utoipa::path(
    tag = "stats",
    params(ReferralStatsQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The table; with `Accept: text/csv`, the same table as CSV with an HXL hashtag row under the header", content(
            (StatsTable = "application/json"),
            (String = "text/csv"),
        )),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/stats/referrals")]
pub async fn referral_stats(
    req: HttpRequest,
    principal: Principal,
    request: RequestId,
    db: web::Data<Database>,
    k: web::Data<SmallCell>,
) -> Result<HttpResponse, ApiError> {
    policy::authorize(&principal, Action::StatsRead, Resource::Collection)?;
    let query: ReferralStatsQuery = extract::parse_query(&req)?;
    let dimensions = parse_dimensions(
        query.group_by.as_deref(),
        ReferralDimension::parse,
        REFERRAL_DIMENSIONS,
    )?;
    check_range(query.from, query.to)?;
    let cities = stats_scope(&principal)?;
    let k = k.0;
    let names: Vec<&'static str> = dimensions.iter().map(|d| d.name()).collect();
    let tags: Vec<&'static str> = dimensions.iter().map(|d| d.hxl()).collect();
    let audit_names = names.clone();
    let (cells, days) = db
        .run(move |conn| {
            write_transaction(conn, |conn| {
                let (mut cells, days) = store::referral_counts(
                    conn,
                    &dimensions,
                    cities.as_deref(),
                    query.from,
                    query.to,
                )?;
                suppress(&mut cells, dimensions.len(), k);
                audit::append(
                    conn,
                    &export_event(&principal, &request, "referrals", &audit_names, &cells),
                )?;
                Ok((cells, days))
            })
        })
        .await?;
    let extras = |cell: &Cell| {
        let (accept, complete) = days.get(&cell.key).cloned().unwrap_or_default();
        vec![
            ("median_days_to_accept", store::median(&accept)),
            ("median_days_to_complete", store::median(&complete)),
        ]
    };
    Ok(answer(&req, k, &names, &tags, &cells, &extras))
}

#[cfg(test)]
mod properties {
    use proptest::prelude::*;

    use super::*;
    use crate::stats::store::{CaseDimension, ReferralDimension};

    proptest! {
        /// Any `group_by` text is a list of distinct dimensions or a 422 on
        /// `group_by` that does not repeat it.
        #[test]
        fn any_group_by_is_dimensions_or_a_field_error(
            text in "\\PC{0,60}|((governorate|city|sex|age_band|status|kind|state|month|x)[, ]{0,2}){0,8}",
        ) {
            match parse_dimensions(Some(&text), CaseDimension::parse, "must name case dimensions") {
                Ok(dims) => {
                    for (i, d) in dims.iter().enumerate() {
                        prop_assert!(!dims[..i].contains(d));
                    }
                }
                Err(ApiError::Validation(f)) => {
                    prop_assert_eq!(f[0].field.as_str(), "group_by");
                    prop_assert!(text.trim().len() < 4 || !f[0].message.contains(text.trim()));
                }
                Err(other) => prop_assert!(false, "unexpected {other:?}"),
            }
            let _ = parse_dimensions(Some(&text), ReferralDimension::parse, "must name referral dimensions");
        }
    }
}
