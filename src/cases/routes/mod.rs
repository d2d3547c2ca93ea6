//! `/cases`, `/cases/{id}`, `/cases/search`; notes and status changes are
//! in the submodules.
//!
//! Each handler parses what it was sent and makes one guarded call
//! (`web::context`): the role, the row and the policy are checked, the work
//! runs and its audit event is appended, in one transaction.

use actix_web::http::header::{ETAG, IF_MATCH, LOCATION};
use actix_web::{HttpRequest, HttpResponse, get, patch, post, web};

use crate::audit::{self, Entity};
use crate::auth::guard::{Done, Tx};
use crate::auth::policy::Action;
use crate::domain::{CaseId, time};
use crate::error::{ApiError, FieldError, Problem};
use crate::pagination::{Page, PageRequest};
use crate::web::context::Context;
use crate::web::extract::{self, ApiJson};

use super::checks::{self, NewCase, all_or_nothing};
use super::model::{
    CaseListQuery, CasePage, CaseView, CreateCase, SEARCH_PAGE_DEFAULT, SEARCH_PAGE_MAX,
    SearchRequest, SearchResult, UpdateCase,
};
use super::row::{self, CaseRow};
use super::store::{self, ListFilter};
use super::{ending, sealing, search};

pub mod notes;
pub mod status;

/// A case with its version as the ETag, for `If-Match`.
pub(crate) fn with_etag(
    mut answer: actix_web::HttpResponseBuilder,
    view: CaseView,
) -> HttpResponse {
    answer
        .insert_header((ETAG, format!("\"{}\"", view.version)))
        .json(view)
}

/// `If-Match`: 428 without one; inside, the version it names, or 412 for
/// one this server did not issue (answered once the body is checked).
fn if_match(req: &HttpRequest) -> Result<Result<i64, ApiError>, ApiError> {
    let value = req
        .headers()
        .get(IF_MATCH)
        .ok_or(ApiError::PreconditionRequired)?;
    Ok(value
        .to_str()
        .ok()
        .and_then(|v| {
            v.trim()
                .trim_start_matches("W/")
                .trim_matches('"')
                .parse::<i64>()
                .ok()
        })
        .ok_or(ApiError::PreconditionFailed))
}

/// Open a case for one person.
#[utoipa::path(
    tag = "cases",
    request_body = CreateCase,
    security(("bearer" = [])),
    responses(
        (status = 201, body = CaseView, headers(("Location" = String), ("ETag" = String))),
        (status = 404, description = "The city is not one of the caller's", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/cases")]
pub async fn create_case(
    ctx: Context,
    body: ApiJson<CreateCase>,
) -> Result<HttpResponse, ApiError> {
    let input = body.0;
    let city = input.city_id;
    // Parsed once, here: a case number is reserved only for input that
    // parses, so that a refused request leaves no gap in the numbers.
    let parsed = checks::parse_case(&input, time::today());
    let parses = parsed.is_ok();
    let view = ctx
        .create_numbered_in(
            Action::CaseCreate,
            Entity::Case,
            city,
            move |conn| parses.then(|| store::reserve(conn, city)).transpose(),
            move |tx, number| open(tx, &input, parsed, number),
        )
        .await?;
    let mut answer = HttpResponse::Created();
    answer.insert_header((LOCATION, format!("/api/v1/cases/{}", view.id)));
    Ok(with_etag(answer, view))
}

/// Opens a case under its reserved number: its parsed fields and its links
/// to other rows checked together, then sealed and stored.
fn open(
    tx: &mut Tx<'_>,
    input: &CreateCase,
    parsed: Result<NewCase, Vec<FieldError>>,
    number: Option<store::Reserved>,
) -> Result<Done<CaseView>, ApiError> {
    let (household, assignee) = (input.household_id, input.assigned_to);
    let links = checks::check_links(tx.conn, input.city_id, household, assignee)?;
    let case = all_or_nothing(parsed, links)?;
    let number = number.ok_or_else(|| {
        ApiError::internal(anyhow::anyhow!(
            "no case number reserved for a case that parses"
        ))
    })?;
    let (row, person) = store::create(tx.conn, tx.crypto(), tx.principal.user_id, &case, number)?;
    let view = sealing::view(&row, &person, time::today())?;
    Ok((view, Some(tx.event_on(audit::Action::CaseCreate, &row))))
}

/// The case as it now is, and the event that records what was done to it.
pub(crate) fn answer(
    tx: &mut Tx<'_>,
    id: CaseId,
    event: audit::Action,
) -> Result<Done<CaseView>, ApiError> {
    let row = row::find(tx.conn, id)?.ok_or(ApiError::NotFound)?;
    let view = sealing::load_view(tx.conn, tx.keyring, &row)?;
    Ok((view, Some(tx.event_on(event, &row))))
}

/// Cases in the caller's cities, newest first, a page at a time.
#[utoipa::path(
    tag = "cases",
    params(CaseListQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, body = CasePage),
        (status = 404, description = "The city is not one of the caller's", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/cases")]
pub async fn list_cases(req: HttpRequest, ctx: Context) -> Result<HttpResponse, ApiError> {
    let query = extract::parse_query::<CaseListQuery>(&req);
    let size = ctx.page_size(query.as_ref().ok().and_then(|q| q.limit));
    let page = ctx
        .on_collection(Action::CaseList, query, move |tx, scope, query| {
            let filter = ListFilter::within(scope, &query)?;
            let page = PageRequest::new(size, query.cursor.as_deref())?;
            let (rows, next_cursor) =
                page.cut(store::list(tx.conn, &filter, &page)?, store::position);
            let items = sealing::summaries(tx.conn, tx.keyring, &rows, time::today())?;
            let event = tx
                .event(audit::Action::CaseList)
                .showing(items.iter().map(|c| c.id))
                .detail(format!("{} cases", items.len()));
            Ok((Page { items, next_cursor }, Some(event)))
        })
        .await?;
    Ok(HttpResponse::Ok().json(page))
}

/// One case, whole and decrypted.
#[utoipa::path(
    tag = "cases",
    params(("id" = String, Path, format = Uuid)),
    security(("bearer" = [])),
    responses(
        (status = 200, body = CaseView, headers(("ETag" = String))),
        (status = 410, description = "Erased", body = Problem, content_type = "application/problem+json"),
    )
)]
// Hex digits and hyphens only: `/cases/search` with another method than
// POST is a 405, not a case id that does not parse.
#[get("/cases/{id:[0-9a-fA-F-]+}")]
pub async fn get_case(ctx: Context, id: web::Path<CaseId>) -> Result<HttpResponse, ApiError> {
    let view = ctx
        .act(Action::CaseRead, id.into_inner(), |tx, case: CaseRow| {
            let view = sealing::load_view(tx.conn, tx.keyring, &case)?;
            Ok((view, Some(tx.event_on(audit::Action::CaseRead, &case))))
        })
        .await?;
    Ok(with_etag(HttpResponse::Ok(), view))
}

/// Change a case. Needs `If-Match` with the ETag last read.
#[utoipa::path(
    tag = "cases",
    params(
        ("id" = String, Path, format = Uuid),
        ("If-Match" = String, Header, description = "The ETag of the version being changed"),
    ),
    request_body = UpdateCase,
    security(("bearer" = [])),
    responses(
        (status = 200, body = CaseView, headers(("ETag" = String))),
        (status = 410, body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "Changed since read", body = Problem, content_type = "application/problem+json"),
        (status = 428, description = "If-Match missing", body = Problem, content_type = "application/problem+json"),
    )
)]
#[patch("/cases/{id:[0-9a-fA-F-]+}")]
pub async fn update_case(
    req: HttpRequest,
    ctx: Context,
    id: web::Path<CaseId>,
    body: ApiJson<UpdateCase>,
) -> Result<HttpResponse, ApiError> {
    let patch = body.0;
    let version = if_match(&req);
    let view = ctx
        .act_with(
            Action::CaseUpdate,
            id.into_inner(),
            version,
            move |tx, case, version| change(tx, case, &patch, version),
        )
        .await?;
    Ok(with_etag(HttpResponse::Ok(), view))
}

/// Applies a PATCH: its own fields and links checked (422), then the
/// version it was made against (412), then the merged case parsed again.
/// Consent to share withdrawn cancels the person's open referrals in the
/// same transaction, each with the reason, and the event names them.
fn change(
    tx: &mut Tx<'_>,
    case: CaseRow,
    patch: &UpdateCase,
    version: Result<i64, ApiError>,
) -> Result<Done<CaseView>, ApiError> {
    let today = time::today();
    let (household, assignee) = (patch.household_id.flatten(), patch.assigned_to.flatten());
    let links = checks::check_links(tx.conn, case.city_id, household, assignee)?;
    all_or_nothing(Ok(()), [checks::check_patch(patch, today), links].concat())?;
    if case.version != version? {
        return Err(ApiError::PreconditionFailed);
    }
    let current = sealing::load_view(tx.conn, tx.keyring, &case)?;
    let merged = checks::merge(&current, patch, today)?;
    store::update(tx.conn, tx.crypto(), &case, case.version, &merged)?;
    let withdrawn = case.consent_share && !merged.consent.share_with_providers;
    if !withdrawn {
        return answer(tx, case.id, audit::Action::CaseUpdate);
    }
    let by = tx.principal.user_id;
    let reason = Some(ending::CONSENT_WITHDRAWN);
    let ended = ending::cancel_open_referrals(tx.conn, tx.keyring, &case, by, reason)?;
    let (view, event) = answer(tx, case.id, audit::Action::CaseUpdate)?;
    let event = event.map(|event| {
        event
            .subjects(audit::SubjectKind::Referral, ended.iter().copied())
            .detail(format!(
                "consent to share withdrawn: {} open referral(s) cancelled",
                ended.len()
            ))
    });
    Ok((view, event))
}

/// Find a person before opening a case: matches in the caller's cities, a
/// page at a time (`limit`, default 20, at most 100; `cursor`), how many
/// more there are, and a count of matches held elsewhere (so a transfer can
/// be asked for). The search is recorded with the people it showed and the
/// blind index of each term, never the terms.
#[utoipa::path(
    tag = "cases",
    request_body = SearchRequest,
    security(("bearer" = [])),
    responses((status = 200, body = SearchResult))
)]
#[post("/cases/search")]
pub async fn search_cases(
    ctx: Context,
    body: ApiJson<SearchRequest>,
) -> Result<HttpResponse, ApiError> {
    let limit = body.0.limit.unwrap_or(SEARCH_PAGE_DEFAULT);
    let size = ctx.page_size(Some(limit)).min(SEARCH_PAGE_MAX);
    let input = body.0.given().and_then(|query| {
        let page = PageRequest::new(size, query.cursor.as_deref())?;
        Ok((query, page))
    });
    let result = ctx
        .on_collection(Action::CaseSearch, input, |tx, scope, (query, page)| {
            let found = search::search(tx.conn, tx.crypto(), scope, &query, &page, time::today())?;
            let result = found.result;
            let detail = format!(
                "{} here, {} more here, {} elsewhere",
                result.items.len(),
                result.remaining,
                result.elsewhere
            );
            let mut event = tx
                .event(audit::Action::CaseSearch)
                .showing(result.items.iter().map(|c| c.id))
                .detail(detail);
            for (kind, index) in &found.terms {
                event = event.term(*kind, index);
            }
            Ok((result, Some(event)))
        })
        .await?;
    Ok(HttpResponse::Ok().json(result))
}
