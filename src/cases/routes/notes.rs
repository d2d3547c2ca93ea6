//! `POST` and `GET /cases/{id}/notes`.

use actix_web::{HttpResponse, get, post, web};

use crate::audit;
use crate::auth::policy::Action;
use crate::cases::model::{CreateNote, Note};
use crate::cases::notes;
use crate::cases::row::CaseRow;
use crate::domain::{CaseId, NonBlank};
use crate::error::{ApiError, Problem};
use crate::web::context::Context;
use crate::web::extract::ApiJson;

/// Record a visit or follow-up; the first note makes an open case active.
#[utoipa::path(
    tag = "cases",
    params(("id" = String, Path, format = Uuid)),
    request_body = CreateNote,
    security(("bearer" = [])),
    responses(
        (status = 201, body = Note),
        (status = 410, body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/cases/{id}/notes")]
pub async fn add_note(
    ctx: Context,
    id: web::Path<CaseId>,
    body: ApiJson<CreateNote>,
) -> Result<HttpResponse, ApiError> {
    let CreateNote { body, visit_date } = body.0;
    let body = NonBlank::parse(body).map_err(|e| e.at("body").into());
    let note = ctx
        .act_with(
            Action::NoteCreate,
            id.into_inner(),
            body,
            move |tx, case: CaseRow, body| {
                let author = tx.principal.user_id;
                let note = notes::add_note(tx.conn, tx.keyring, &case, author, &body, visit_date)?;
                Ok((note, Some(tx.event_on(audit::Action::NoteCreate, &case))))
            },
        )
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
        (status = 410, body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/cases/{id}/notes")]
pub async fn list_notes(ctx: Context, id: web::Path<CaseId>) -> Result<HttpResponse, ApiError> {
    let notes = ctx
        .act(Action::NoteRead, id.into_inner(), |tx, case: CaseRow| {
            let notes = notes::notes(tx.conn, tx.keyring, &case)?;
            Ok((notes, Some(tx.event_on(audit::Action::NoteList, &case))))
        })
        .await?;
    Ok(HttpResponse::Ok().json(notes))
}
