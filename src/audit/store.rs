//! Appending and reading audit events. Appending is a plain INSERT with no
//! lock, made inside the caller's transaction so that the event and the change
//! it records commit (or roll back) together; the chain columns are filled
//! later by the sequencer (`super::chain`).

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use super::model::{Action, Event, NewEvent};
use crate::db::AnyConnection;
use crate::db::schema::audit_events;
use crate::error::ApiError;
use crate::pagination::{Cursor, PageRequest};

/// Largest page [`list`] returns whatever it is asked for; routes ask for
/// the `pagination` settings' page size, which is never larger.
pub const MAX_PAGE: u32 = crate::settings::PAGE_SIZE_CEILING;

/// Appends one event. Call it inside the transaction of the change it
/// records; it takes no lock, so it never waits on other appenders.
pub fn append(conn: &mut AnyConnection, event: &NewEvent) -> Result<(), ApiError> {
    diesel::insert_into(audit_events::table)
        .values(event.row())
        .execute(conn)?;
    Ok(())
}

/// Which events to list. Every filter given must match; `from` is inclusive,
/// `to` exclusive.
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
pub fn list(
    conn: &mut AnyConnection,
    filter: &AuditFilter,
    page: &PageRequest<NaiveDateTime>,
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
    let limit = page.fetch().min(i64::from(MAX_PAGE) + 1);
    Ok(query
        .order((dsl::occurred_at.desc(), dsl::id.desc()))
        .limit(limit)
        .load(conn)?)
}

/// Where the next page starts after this event.
pub fn position(event: &Event) -> Cursor<NaiveDateTime> {
    let id = Uuid::parse_str(&event.id).unwrap_or_default();
    Cursor::new(event.occurred_at, id)
}

/// An arbitrary constant naming the sequencer's PostgreSQL advisory lock.
const SEQUENCER_LOCK: i64 = 0x7361_6e61_6461_7564; // "sanadaud"

/// Makes the current transaction the only sequencer until it ends. Call it
/// first inside the transaction.
///
/// PostgreSQL: a transaction-scoped advisory lock, released at commit or
/// rollback; appenders never take it.
/// SQLite: diesel begins a deferred transaction, so a first SELECT would read
/// a snapshot that a concurrent sequencer could make stale (and the later
/// UPDATE would then fail). A no-op UPDATE as the first statement takes the
/// database's write lock at once, waiting up to `busy_timeout`, which is what
/// `BEGIN IMMEDIATE` would do. It matches no row, so no trigger fires.
pub(crate) fn lock_sequencer(conn: &mut AnyConnection) -> Result<(), ApiError> {
    match conn {
        AnyConnection::Postgresql(pg) => {
            diesel::sql_query("SELECT pg_advisory_xact_lock($1)")
                .bind::<diesel::sql_types::BigInt, _>(SEQUENCER_LOCK)
                .execute(pg)?;
        }
        AnyConnection::Sqlite(lite) => {
            diesel::sql_query("UPDATE audit_events SET seq = seq WHERE 0").execute(lite)?;
        }
    }
    Ok(())
}

/// The last chained event's position and hash.
#[derive(Debug, diesel::Queryable)]
pub(crate) struct ChainHead {
    pub seq: i64,
    pub hash: Option<Vec<u8>>,
}

/// The last chained event, if any.
pub(crate) fn chain_head(conn: &mut AnyConnection) -> Result<Option<ChainHead>, ApiError> {
    use audit_events::dsl;
    let head = dsl::audit_events
        .filter(dsl::seq.is_not_null())
        .order(dsl::seq.desc())
        .select((dsl::seq.assume_not_null(), dsl::hash))
        .first::<ChainHead>(conn)
        .optional()?;
    Ok(head)
}

/// Whether any committed event waits to be chained: a cheap look (the partial
/// index) so an idle sequencer takes no lock.
pub(crate) fn has_unchained(conn: &mut AnyConnection) -> Result<bool, ApiError> {
    use audit_events::dsl;
    Ok(diesel::select(diesel::dsl::exists(
        dsl::audit_events.filter(dsl::seq.is_null()),
    ))
    .get_result(conn)?)
}

/// Up to `batch` committed, unchained events, in queue order.
pub(crate) fn unchained(conn: &mut AnyConnection, batch: i64) -> Result<Vec<Event>, ApiError> {
    use audit_events::dsl;
    Ok(dsl::audit_events
        .filter(dsl::seq.is_null())
        .order(dsl::queue_no.asc())
        .limit(batch)
        .select(Event::as_select())
        .load(conn)?)
}

/// Fills the chain columns of one unchained event (the one update the
/// table's triggers allow). False when the event was already chained.
pub(crate) fn set_chain(
    conn: &mut AnyConnection,
    id: &str,
    seq: i64,
    prev_hash: &[u8],
    hash: &[u8],
) -> Result<bool, ApiError> {
    use audit_events::dsl;
    let updated = diesel::update(
        dsl::audit_events
            .filter(dsl::id.eq(id))
            .filter(dsl::seq.is_null()),
    )
    .set((
        dsl::seq.eq(seq),
        dsl::prev_hash.eq(prev_hash),
        dsl::hash.eq(hash),
    ))
    .execute(conn)?;
    Ok(updated == 1)
}

/// Up to `limit` chained events with `seq` greater than `after`, by seq.
pub(crate) fn chained_after(
    conn: &mut AnyConnection,
    after: i64,
    limit: i64,
) -> Result<Vec<Event>, ApiError> {
    use audit_events::dsl;
    Ok(dsl::audit_events
        .filter(dsl::seq.gt(after))
        .order(dsl::seq.asc())
        .limit(limit)
        .select(Event::as_select())
        .load(conn)?)
}
