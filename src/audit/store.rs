//! Appending and reading audit events. Appending is a plain INSERT of the
//! event, sealed with its MAC, and one multi-row INSERT of its subjects, with
//! no lock, made inside the caller's transaction so that the event and the
//! change it records commit (or roll back) together; the chain columns are
//! filled later by the sequencer (`super::chain`).

use std::collections::HashMap;

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use super::mac::{self, Sealed};
use super::model::{Action, Event, NewEvent, NewEventRow, SubjectKind, SubjectRow};
use crate::crypto::AuditKeys;
use crate::crypto::audit_keys;
use crate::db::schema::{audit_events, audit_subjects};
use crate::db::{AnyConnection, MAX_BIND_PARAMS};
use crate::error::ApiError;
use crate::pagination::{Cursor, PageRequest};

/// Largest page [`list`] returns whatever it is asked for; routes ask for
/// the `pagination` settings' page size, which is never larger.
pub const MAX_PAGE: u32 = crate::settings::PAGE_SIZE_CEILING;

/// Appends one event, sealed with the audit keys in scope
/// (`crypto::audit_keys::scope`; every `Database::run` has them). Call it
/// inside the transaction of the change it records; it takes no lock, so it
/// never waits on other appenders. With no keys in scope it appends nothing
/// and fails: an unsealed event would read as forged.
pub fn append(conn: &mut AnyConnection, event: &NewEvent) -> Result<(), ApiError> {
    let keys = audit_keys::in_scope().ok_or_else(|| {
        ApiError::internal(anyhow::anyhow!(
            "an audit event was appended with no audit key in scope"
        ))
    })?;
    append_with(conn, &keys, event)
}

/// [`append`] with the keys given.
pub fn append_with(
    conn: &mut AnyConnection,
    keys: &AuditKeys,
    event: &NewEvent,
) -> Result<(), ApiError> {
    let key_id = keys.active();
    let subjects = event.subject_rows();
    let unsealed = event.row(key_id, None);
    let tag = mac::event_mac(keys, &Sealed::of_row(&unsealed, key_id, &subjects))
        .ok_or_else(|| ApiError::internal(anyhow::anyhow!("the active audit key is missing")))?;
    let row = NewEventRow {
        mac: Some(tag.to_vec()),
        ..unsealed
    };
    diesel::insert_into(audit_events::table)
        .values(&row)
        .execute(conn)?;
    insert_subjects(conn, &subjects)
}

/// The subject rows in one multi-row INSERT (MultiConnection cannot batch,
/// so this matches on the backend).
fn insert_subjects(conn: &mut AnyConnection, rows: &[SubjectRow]) -> Result<(), ApiError> {
    for chunk in rows.chunks(MAX_BIND_PARAMS / 4) {
        match conn {
            AnyConnection::Postgresql(pg) => diesel::insert_into(audit_subjects::table)
                .values(chunk)
                .execute(pg)?,
            AnyConnection::Sqlite(lite) => diesel::insert_into(audit_subjects::table)
                .values(chunk)
                .execute(lite)?,
        };
    }
    Ok(())
}

/// The subject rows of these events, by event id.
pub fn subjects_of(
    conn: &mut AnyConnection,
    events: &[&str],
) -> Result<HashMap<String, Vec<SubjectRow>>, ApiError> {
    let mut by_event: HashMap<String, Vec<SubjectRow>> = HashMap::new();
    if events.is_empty() {
        return Ok(by_event);
    }
    let rows: Vec<SubjectRow> = audit_subjects::table
        .filter(audit_subjects::event_id.eq_any(events))
        .select((
            audit_subjects::subject_id,
            audit_subjects::occurred_at,
            audit_subjects::event_id,
            audit_subjects::kind,
        ))
        .load(conn)?;
    for row in rows {
        by_event.entry(row.event_id.clone()).or_default().push(row);
    }
    Ok(by_event)
}

/// Which events to list. Every filter given must match; `from` is inclusive,
/// `to` exclusive. `entity_id` matches an event about that entity, and an
/// event that lists it as a subject (a list, a search, a household, an
/// inbox that showed the person; a referral it ended).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditFilter {
    pub actor_id: Option<Uuid>,
    pub entity_id: Option<String>,
    pub action: Option<Action>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
}

/// One page of events, newest first (by time, then id, so the order is
/// stable and a cursor never skips or repeats an event already visible),
/// after the page's cursor; [`PageRequest::cut`] makes the page.
///
/// With `entity_id`, two walks of an index, each in page order, merged: the
/// events about the entity, and those that list it as a subject.
pub fn list(
    conn: &mut AnyConnection,
    filter: &AuditFilter,
    page: &PageRequest<NaiveDateTime>,
) -> Result<Vec<Event>, ApiError> {
    let limit = page.fetch().min(i64::from(MAX_PAGE) + 1);
    let mut events = about(conn, filter, page, limit)?;
    if let Some(entity) = &filter.entity_id {
        events.extend(listing(conn, entity, filter, page, limit)?);
        events.sort_by(|a, b| (b.occurred_at, &b.id).cmp(&(a.occurred_at, &a.id)));
        events.dedup_by(|a, b| a.id == b.id);
        events.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
    }
    Ok(events)
}

/// Events whose own fields match the filter.
fn about(
    conn: &mut AnyConnection,
    filter: &AuditFilter,
    page: &PageRequest<NaiveDateTime>,
    limit: i64,
) -> Result<Vec<Event>, ApiError> {
    use audit_events::dsl;

    let mut query = dsl::audit_events.select(Event::as_select()).into_boxed();
    if let Some(actor_id) = filter.actor_id {
        query = query.filter(dsl::actor_id.eq(actor_id.hyphenated().to_string()));
    }
    if let Some(entity_id) = &filter.entity_id {
        query = query.filter(dsl::entity_id.eq(entity_id.clone()));
    }
    if let Some(action) = filter.action {
        query = query.filter(dsl::action.eq(action.as_str()));
    }
    if let Some(from) = filter.from {
        query = query.filter(dsl::occurred_at.ge(from.naive_utc()));
    }
    if let Some(to) = filter.to {
        query = query.filter(dsl::occurred_at.lt(to.naive_utc()));
    }
    if let Some(Cursor { key: at, id }) = &page.after {
        let id = id.hyphenated().to_string();
        query = query.filter(
            dsl::occurred_at
                .lt(*at)
                .or(dsl::occurred_at.eq(*at).and(dsl::id.lt(id))),
        );
    }
    Ok(query
        .order((dsl::occurred_at.desc(), dsl::id.desc()))
        .limit(limit)
        .load(conn)?)
}

/// Events that list `entity` as a subject, through `audit_subjects`' key
/// `(subject_id, occurred_at, event_id, kind)`.
fn listing(
    conn: &mut AnyConnection,
    entity: &str,
    filter: &AuditFilter,
    page: &PageRequest<NaiveDateTime>,
    limit: i64,
) -> Result<Vec<Event>, ApiError> {
    use audit_events::dsl;
    use audit_subjects::dsl as subject;

    let kinds: Vec<&str> = SubjectKind::ENTITIES.iter().map(|k| k.as_str()).collect();
    let mut query = subject::audit_subjects
        .inner_join(dsl::audit_events)
        .filter(subject::subject_id.eq(entity.to_string()))
        .filter(subject::kind.eq_any(kinds))
        .select(Event::as_select())
        .into_boxed();
    if let Some(actor_id) = filter.actor_id {
        query = query.filter(dsl::actor_id.eq(actor_id.hyphenated().to_string()));
    }
    if let Some(action) = filter.action {
        query = query.filter(dsl::action.eq(action.as_str()));
    }
    if let Some(from) = filter.from {
        query = query.filter(subject::occurred_at.ge(from.naive_utc()));
    }
    if let Some(to) = filter.to {
        query = query.filter(subject::occurred_at.lt(to.naive_utc()));
    }
    if let Some(Cursor { key: at, id }) = &page.after {
        let id = id.hyphenated().to_string();
        query = query.filter(
            subject::occurred_at
                .lt(*at)
                .or(subject::occurred_at.eq(*at).and(subject::event_id.lt(id))),
        );
    }
    Ok(query
        .order((subject::occurred_at.desc(), subject::event_id.desc()))
        .limit(limit)
        .load(conn)?)
}

/// Where the next page starts after this event.
pub fn position(event: &Event) -> Cursor<NaiveDateTime> {
    let id = Uuid::parse_str(&event.id).unwrap_or_default();
    Cursor::new(event.occurred_at, id)
}
