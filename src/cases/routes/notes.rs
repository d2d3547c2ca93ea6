//! `POST` and `GET /cases/{id}/notes`.

use actix_web::{HttpResponse, get, post, web};

use crate::audit;
use crate::auth::Principal;
use crate::auth::policy::{self, Action, Resource};
use crate::cases::model::{CreateNote, Note};
use crate::cases::notes;
use crate::cases::store;
use crate::crypto::Keyring;
use crate::db::Database;
use crate::domain::CaseId;
use crate::error::{ApiError, Problem};
use crate::web::extract::ApiJson;
use crate::web::telemetry::RequestId;

use super::{case_event, load_authorized};

/// Record a visit or follow-up; the first note makes an open case active.
#[utoipa::path(
    tag = "cases",
    params(("id" = String, Path, format = Uuid)),
    request_body = CreateNote,
    security(("bearer" = [])),
    responses(
        (status = 201, body = Note),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 410, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/cases/{id}/notes")]
pub async fn add_note(
    principal: Principal,
    request: RequestId,
    id: web::Path<CaseId>,
    body: ApiJson<CreateNote>,
    db: web::Data<Database>,
    keyring: web::Data<Keyring>,
) -> Result<HttpResponse, ApiError> {
    policy::authorize(&principal, Action::NoteCreate, Resource::Collection)?;
    let id = id.into_inner();
    let input = body.0;
    if input.body.trim().is_empty() {
        return Err(ApiError::field("body", "must not be blank"));
    }
    let note = db
        .run(move |conn| {
            load_authorized(conn, &principal, &request, id, Action::NoteCreate)?;
            crate::db::write_transaction(conn, |conn| {
                let row = store::find(conn, id)?.ok_or(ApiError::NotFound)?;
                let note = notes::add_note(conn, &keyring, &row, principal.user_id, &input)?;
                audit::append(
                    conn,
                    &case_event(&principal, &request, audit::Action::NoteCreate, &row)?,
                )?;
                Ok(note)
            })
        })
        .await?;
    Ok(HttpResponse::Created().json(note))
}

/// A case's notes, newest first.
#[utoipa::path(
    tag = "cases",
    params(("id" = String, Path, format = Uuid)),
    security(("bearer" = [])),
    responses(
        (status = 200, body = Vec<Note>),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 410, body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/cases/{id}/notes")]
pub async fn list_notes(
    principal: Principal,
    request: RequestId,
    id: web::Path<CaseId>,
    db: web::Data<Database>,
    keyring: web::Data<Keyring>,
) -> Result<HttpResponse, ApiError> {
    policy::authorize(&principal, Action::NoteRead, Resource::Collection)?;
    let id = id.into_inner();
    let notes = db
        .run(move |conn| {
            load_authorized(conn, &principal, &request, id, Action::NoteRead)?;
            crate::db::write_transaction(conn, |conn| {
                let row = store::find(conn, id)?.ok_or(ApiError::NotFound)?;
                let notes = notes::notes(conn, &keyring, &row)?;
                audit::append(
                    conn,
                    &case_event(&principal, &request, audit::Action::NoteList, &row)?,
                )?;
                Ok(notes)
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(notes))
}
