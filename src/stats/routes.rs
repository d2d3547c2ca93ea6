//! `GET /stats/cases`, `GET /stats/referrals` and `GET /stats/releases`.
//! Ministry officials are answered from a statistical release only; city
//! supervisors get exact live counts of their own cities. Both are held to
//! at most three dimensions and to periods of a year, a quarter or a
//! month, and to a few requests in flight per user.

use actix_web::http::header::{ACCEPT, CONTENT_TYPE};
use actix_web::{HttpRequest, HttpResponse, get, web};
use serde::Deserialize;
use uuid::Uuid;

use crate::audit::{self, Entity, Outcome};
use crate::auth::policy::{self, Action, Scope};
use crate::auth::trail;
use crate::db::write_transaction;
use crate::domain::Period;
use crate::error::{ApiError, Problem};
use crate::web::context::Context;
use crate::web::extract;

use super::answer::{self, Query, ReleaseSummary};
use super::design::{Dimension, Subject};
use super::gate::StatsGate;
use super::store;
use super::view::{self, LedgerLine, ReleaseEntry, ReleaseList, StatsTable};

#[derive(Debug, Deserialize, validator::Validate, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct StatsQuery {
    /// Comma-separated, at most three, each at most once (see the
    /// operation for the dimensions of each subject). Ministry officials:
    /// all from one released table. Empty: one total.
    #[param(value_type = Option<String>, required = false, example = "sex,age_band")]
    pub group_by: Option<String>,
    /// A year (`2026`), a quarter (`2026-Q2`) or a month (`2026-05`);
    /// every month the release covers when absent. Day ranges are not
    /// periods.
    #[param(
        pattern = r"^[1-9][0-9]{3}(-Q[1-4]|-(0[1-9]|1[0-2]))?$",
        required = false
    )]
    pub period: Option<String>,
    /// Ministry officials: the release to answer from (its id, from
    /// `GET /stats/releases`); the latest when absent.
    #[param(value_type = Option<String>, format = Uuid, required = false)]
    pub release: Option<Uuid>,
}

/// Parses `group_by`: empty (or absent) for one total, else at most three
/// names separated by commas, each at most once.
fn parse_dimensions(subject: Subject, text: Option<&str>) -> Result<Vec<Dimension>, ApiError> {
    let text = text.unwrap_or("");
    let mut out: Vec<Dimension> = Vec::new();
    if text.is_empty() {
        return Ok(out);
    }
    let names: Vec<&str> = subject.dimensions().iter().map(|d| d.name()).collect();
    for part in text.split(',') {
        let dim = Dimension::parse(subject, part).ok_or_else(|| {
            ApiError::field(
                "group_by",
                format!("must list only {names}", names = names.join(", ")),
            )
        })?;
        if out.contains(&dim) {
            return Err(ApiError::field("group_by", "names a dimension twice"));
        }
        out.push(dim);
    }
    if out.len() > 3 {
        return Err(ApiError::field(
            "group_by",
            "may name at most three dimensions",
        ));
    }
    // A score is always the score of a dimension.
    if out.contains(&Dimension::Score) && !out.contains(&Dimension::ScoreDimension) {
        return Err(ApiError::field("group_by", "names score without dimension"));
    }
    Ok(out)
}

fn parse(subject: Subject, req: &HttpRequest) -> Result<Query, ApiError> {
    let raw: StatsQuery = extract::parse_query(req)?;
    let dims = parse_dimensions(subject, raw.group_by.as_deref())?;
    let period = raw
        .period
        .as_deref()
        .map(|p| {
            Period::parse(p).ok_or_else(|| {
                ApiError::field(
                    "period",
                    "must be a year (2026), a quarter (2026-Q2) or a month (2026-05)",
                )
            })
        })
        .transpose()?;
    Ok(Query {
        subject,
        dims,
        period,
        release: raw.release,
    })
}

/// Answers from a release (national scope) or live (the caller's cities),
/// then records the request. Counting holds no write lock, so the role is
/// checked (and a refusal recorded) first, and the request's event is
/// written in a short transaction of its own after the figures are read.
async fn respond(
    req: HttpRequest,
    subject: Subject,
    ctx: Context,
    gate: web::Data<StatsGate>,
) -> Result<HttpResponse, ApiError> {
    let principal = ctx.may(Action::StatsRead).await?;
    let query = parse(subject, &req)?;
    let cities = match policy::scope(&principal, Action::StatsRead) {
        Scope::National => None,
        Scope::Cities(cities) => {
            if query.release.is_some() {
                return Err(ApiError::field(
                    "release",
                    "releases hold national figures; city supervisors get live figures of their own cities",
                ));
            }
            Some(cities.iter().map(|c| c.to_db()).collect::<Vec<_>>())
        }
        Scope::Organisation(_) | Scope::Nothing => return Err(ApiError::Forbidden),
    };
    let _pass = gate.enter(principal.user_id)?;
    let request = ctx.request.clone();
    let answer = ctx
        .database()
        .run(move |conn| {
            let answer = match &cities {
                None => answer::from_release(conn, &query)?,
                Some(cities) => answer::live(conn, &query, cities)?,
            };
            let names: Vec<&str> = query.dims.iter().map(|d| d.name()).collect();
            let release_id = answer
                .release
                .as_ref()
                .and_then(|r| r.id.parse::<Uuid>().ok())
                .unwrap_or(Uuid::nil());
            let event = trail::event(
                &principal,
                &request,
                audit::Action::StatsExport,
                Outcome::Success,
            )
            .entity(Entity::Stats, release_id)
            .detail(format!(
                "{} by [{}], period {}, {}, {} cells",
                subject.name(),
                names.join(","),
                query.period.map_or("all".into(), |p| p.to_string()),
                answer
                    .table
                    .map_or("live".into(), |t| format!("release table {t}")),
                answer.figures.len(),
            ));
            write_transaction(conn, |conn| audit::append(conn, &event))?;
            Ok(answer)
        })
        .await?;
    let wants_csv = req
        .headers()
        .get(ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("text/csv"));
    Ok(if wants_csv {
        HttpResponse::Ok()
            .insert_header((CONTENT_TYPE, "text/csv; charset=utf-8"))
            .body(view::csv(&answer, crate::i18n::localise::language_of(&req)))
    } else {
        HttpResponse::Ok().json(view::json(answer))
    })
}

/// Counts of people (cases) by month of return. Ministry officials: noisy
/// figures from a statistical release, each with its 95 % margin, those
/// below the release's k suppressed. City supervisors: exact, live counts
/// of their own cities. Dimensions: governorate, city, sex, age_band,
/// status, origin_kind, vulnerability, month.
#[utoipa::path(
    tag = "stats",
    params(StatsQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The table; with `Accept: text/csv`, the same table as CSV with an HXL hashtag row under the header", content(
            (StatsTable = "application/json"),
            (String = "text/csv"),
        )),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
        (status = 429, body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/stats/cases")]
pub async fn case_stats(
    req: HttpRequest,
    ctx: Context,
    gate: web::Data<StatsGate>,
) -> Result<HttpResponse, ApiError> {
    respond(req, Subject::Cases, ctx, gate).await
}

/// Counts of referrals by month made. Ministry officials: from a
/// statistical release, as for cases; city supervisors: exact and live.
/// Dimensions: governorate, city, kind, state, outcome, month.
#[utoipa::path(
    tag = "stats",
    params(StatsQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The table; with `Accept: text/csv`, the same table as CSV with an HXL hashtag row under the header", content(
            (StatsTable = "application/json"),
            (String = "text/csv"),
        )),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
        (status = 429, body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/stats/referrals")]
pub async fn referral_stats(
    req: HttpRequest,
    ctx: Context,
    gate: web::Data<StatsGate>,
) -> Result<HttpResponse, ApiError> {
    respond(req, Subject::Referrals, ctx, gate).await
}

/// People followed by assessments, by month of their baseline: the band of
/// their latest score in each dimension, and how their composite score
/// changed since the baseline, by city, sex, age band and the kinds of
/// referral they completed. Ministry officials: from a statistical
/// release; city supervisors: exact and live. Dimensions: governorate,
/// city, sex, age_band, dimension, score (with dimension), change,
/// support, month.
#[utoipa::path(
    tag = "stats",
    params(StatsQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The table; with `Accept: text/csv`, the same table as CSV with an HXL hashtag row under the header", content(
            (StatsTable = "application/json"),
            (String = "text/csv"),
        )),
        (status = 429, body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/stats/assessments")]
pub async fn assessment_stats(
    req: HttpRequest,
    ctx: Context,
    gate: web::Data<StatsGate>,
) -> Result<HttpResponse, ApiError> {
    respond(req, Subject::Assessments, ctx, gate).await
}

/// Every statistical release, newest first, with the privacy loss each
/// spent and its ledger: the tables it measured, their noise and cost.
#[utoipa::path(
    tag = "stats",
    security(("bearer" = [])),
    responses(
        (status = 200, body = ReleaseList),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/stats/releases")]
pub async fn releases(ctx: Context) -> Result<web::Json<ReleaseList>, ApiError> {
    ctx.may(Action::StatsRead).await?;
    let items = ctx
        .database()
        .run(|conn| {
            let rows = store::all(conn)?;
            let seqs: Vec<i64> = rows.iter().map(|r| r.seq).collect();
            let ledger = store::ledger(conn, &seqs)?;
            rows.iter()
                .map(|row| {
                    Ok(ReleaseEntry {
                        release: ReleaseSummary::of(row)?,
                        ledger: ledger
                            .iter()
                            .filter(|l| l.release_seq == row.seq)
                            .map(|l| {
                                Ok(LedgerLine {
                                    table: l.table_name.clone(),
                                    first_month: l.first_month.clone(),
                                    last_month: l.last_month.clone(),
                                    measurements: l.measurements,
                                    d_in: l.d_in,
                                    scale: store::number(&l.scale)?,
                                    rho: store::number(&l.rho)?,
                                })
                            })
                            .collect::<Result<_, ApiError>>()?,
                    })
                })
                .collect::<Result<Vec<_>, ApiError>>()
        })
        .await?;
    Ok(web::Json(ReleaseList { items }))
}

#[cfg(test)]
mod properties {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        /// Any `group_by` text is at most three distinct dimensions or a
        /// 422 on `group_by` whose message is one of a fixed few (so it
        /// never repeats what was sent).
        #[test]
        fn any_group_by_is_dimensions_or_a_field_error(
            text in "\\PC{0,60}|((governorate|city|sex|age_band|status|kind|state|month|x)[, ]{0,2}){0,8}",
        ) {
            for subject in [Subject::Cases, Subject::Referrals, Subject::Assessments] {
                match parse_dimensions(subject, Some(&text)) {
                    Ok(dims) => {
                        prop_assert!(dims.len() <= 3);
                        for (i, d) in dims.iter().enumerate() {
                            prop_assert!(!dims[..i].contains(d));
                        }
                    }
                    Err(ApiError::Validation(f)) => {
                        prop_assert_eq!(f[0].field.as_str(), "group_by");
                        let names: Vec<&str> = subject.dimensions().iter().map(|d| d.name()).collect();
                        let fixed = [
                            format!("must list only {}", names.join(", ")),
                            "names a dimension twice".to_string(),
                            "may name at most three dimensions".to_string(),
                            "names score without dimension".to_string(),
                        ];
                        prop_assert!(fixed.contains(&f[0].message), "{}", f[0].message);
                    }
                    Err(other) => prop_assert!(false, "unexpected {other:?}"),
                }
            }
        }
    }
}
