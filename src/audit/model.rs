//! What an audit event says, typed so that no field can carry a person's data:
//! actions, outcomes, entity and subject kinds are closed sets
//! (`vocabulary`), ids are UUIDs or blind indexes, and the one free-text
//! field, `detail`, is documented as never holding personal data.

use chrono::{DateTime, NaiveDateTime, Timelike, Utc};
use uuid::Uuid;

use crate::crypto::BlindIndex;
use crate::db::schema::{audit_events, audit_subjects};
use crate::web::telemetry::RequestId;

pub use super::vocabulary::{Action, Entity, Outcome, SubjectKind};

/// Longest `detail` kept, in characters; longer text is cut.
pub const DETAIL_MAX_CHARS: usize = 200;

/// An event to append. Built with [`NewEvent::new`] and the setters; the id
/// and the time (truncated to microseconds, which both backends keep) are
/// set at construction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewEvent {
    id: Uuid,
    occurred_at: NaiveDateTime,
    actor_id: Option<Uuid>,
    actor_role: Option<&'static str>,
    action: Action,
    entity: Option<Entity>,
    entity_id: Option<String>,
    city_id: Option<Uuid>,
    outcome: Outcome,
    request_id: Option<String>,
    detail: Option<String>,
    subjects: Vec<(SubjectKind, String)>,
}

impl NewEvent {
    pub fn new(action: Action, outcome: Outcome) -> NewEvent {
        NewEvent {
            id: Uuid::new_v4(),
            occurred_at: to_micros(Utc::now()),
            actor_id: None,
            actor_role: None,
            action,
            entity: None,
            entity_id: None,
            city_id: None,
            outcome,
            request_id: None,
            detail: None,
            subjects: Vec::new(),
        }
    }

    /// Who acted: the user's id and their role's stored name (a `'static`
    /// string such as `"social_worker"`, so it cannot be built from input).
    pub fn actor(mut self, user_id: Uuid, role: &'static str) -> NewEvent {
        self.actor_id = Some(user_id);
        self.actor_role = Some(role);
        self
    }

    /// What the event is about.
    pub fn entity(mut self, kind: Entity, id: Uuid) -> NewEvent {
        self.entity = Some(kind);
        self.entity_id = Some(id.hyphenated().to_string());
        self
    }

    /// What the event is about, for things numbered rather than given a UUID
    /// (a key's version).
    pub fn entity_number(mut self, kind: Entity, number: u64) -> NewEvent {
        self.entity = Some(kind);
        self.entity_id = Some(number.to_string());
        self
    }

    /// The city whose data was touched: scopes the event for auditors.
    pub fn city(mut self, city_id: Uuid) -> NewEvent {
        self.city_id = Some(city_id);
        self
    }

    pub fn request(mut self, request_id: &RequestId) -> NewEvent {
        self.request_id = Some(request_id.0.clone());
        self
    }

    /// A short technical remark such as `"token expired"` or `"412 stale
    /// version"`. **Never personal data**: no name, number, address, note
    /// text, username or anything typed by a user about a person. Audit
    /// events are read by auditors, kept for years and never erased, so a
    /// person's data here would survive their case's erasure. Cut to
    /// [`DETAIL_MAX_CHARS`] characters.
    pub fn detail(mut self, detail: impl Into<String>) -> NewEvent {
        let detail: String = detail.into();
        self.detail = Some(detail.chars().take(DETAIL_MAX_CHARS).collect());
        self
    }

    /// The people (cases) the answer showed: `GET /audit?entity_id=` finds
    /// the event under each of them.
    pub fn showing<I: Into<Uuid>>(self, cases: impl IntoIterator<Item = I>) -> NewEvent {
        self.subjects(SubjectKind::Case, cases)
    }

    /// Further subjects of one kind (referrals the action ended).
    pub fn subjects<I: Into<Uuid>>(
        mut self,
        kind: SubjectKind,
        ids: impl IntoIterator<Item = I>,
    ) -> NewEvent {
        for id in ids {
            let id = id.into().hyphenated().to_string();
            if !self.subjects.iter().any(|(k, s)| *k == kind && *s == id) {
                self.subjects.push((kind, id));
            }
        }
        self
    }

    /// A term a search looked for, as its blind index (never the term).
    pub fn term(mut self, kind: SubjectKind, index: &BlindIndex) -> NewEvent {
        let hex = index.as_hex();
        if !self.subjects.iter().any(|(k, s)| *k == kind && *s == hex) {
            self.subjects.push((kind, hex));
        }
        self
    }

    /// Overrides the time (imports, tests). Truncated to microseconds.
    pub fn occurred_at(mut self, at: DateTime<Utc>) -> NewEvent {
        self.occurred_at = to_micros(at);
        self
    }

    pub fn id(&self) -> Uuid {
        self.id
    }

    /// The row to insert, sealed under `key_id` with `mac`.
    pub(crate) fn row<'a>(&'a self, key_id: &'a str, mac: Option<Vec<u8>>) -> NewEventRow<'a> {
        NewEventRow {
            id: self.id.hyphenated().to_string(),
            occurred_at: self.occurred_at,
            actor_id: self.actor_id.map(|id| id.hyphenated().to_string()),
            actor_role: self.actor_role,
            action: self.action.as_str(),
            entity: self.entity.map(Entity::as_str),
            entity_id: self.entity_id.as_deref(),
            city_id: self.city_id.map(|id| id.hyphenated().to_string()),
            outcome: self.outcome.as_str(),
            request_id: self.request_id.as_deref(),
            detail: self.detail.as_deref(),
            key_id: Some(key_id),
            mac,
        }
    }

    /// The subject rows to insert.
    pub(crate) fn subject_rows(&self) -> Vec<SubjectRow> {
        let event_id = self.id.hyphenated().to_string();
        self.subjects
            .iter()
            .map(|(kind, id)| SubjectRow {
                subject_id: id.clone(),
                occurred_at: self.occurred_at,
                event_id: event_id.clone(),
                kind: kind.as_str().to_string(),
            })
            .collect()
    }
}

fn to_micros(at: DateTime<Utc>) -> NaiveDateTime {
    let at = at.naive_utc();
    let micros = at.nanosecond() / 1_000 * 1_000;
    at.with_nanosecond(micros).unwrap_or(at)
}

/// The INSERT: every column but `queue_no` (the database numbers it) and
/// the chain columns (the sequencer fills them).
#[derive(Debug, diesel::Insertable)]
#[diesel(table_name = audit_events)]
pub(crate) struct NewEventRow<'a> {
    pub id: String,
    pub occurred_at: NaiveDateTime,
    pub actor_id: Option<String>,
    pub actor_role: Option<&'a str>,
    pub action: &'a str,
    pub entity: Option<&'a str>,
    pub entity_id: Option<&'a str>,
    pub city_id: Option<String>,
    pub outcome: &'a str,
    pub request_id: Option<&'a str>,
    pub detail: Option<&'a str>,
    pub key_id: Option<&'a str>,
    pub mac: Option<Vec<u8>>,
}

/// One row of `audit_subjects`.
#[derive(Debug, Clone, PartialEq, Eq, diesel::Insertable, diesel::Queryable)]
#[diesel(table_name = audit_subjects)]
pub struct SubjectRow {
    pub subject_id: String,
    pub occurred_at: NaiveDateTime,
    pub event_id: String,
    pub kind: String,
}

/// A stored event, as read back. Text fields hold what was stored (an action
/// name written by an older version stays readable).
#[derive(Debug, Clone, PartialEq, Eq, diesel::Queryable, diesel::Selectable)]
#[diesel(table_name = audit_events)]
pub struct Event {
    pub id: String,
    pub queue_no: i64,
    pub occurred_at: NaiveDateTime,
    pub actor_id: Option<String>,
    pub actor_role: Option<String>,
    pub action: String,
    pub entity: Option<String>,
    pub entity_id: Option<String>,
    pub city_id: Option<String>,
    pub outcome: String,
    pub request_id: Option<String>,
    pub detail: Option<String>,
    /// Position in the chain, from 1; `None` until the sequencer reaches it.
    pub seq: Option<i64>,
    pub prev_hash: Option<Vec<u8>>,
    /// The chain MAC (a SHA-256 hash for an event not yet re-chained).
    pub hash: Option<Vec<u8>>,
    /// The audit key the event was sealed with, and its MAC.
    pub key_id: Option<String>,
    pub mac: Option<Vec<u8>>,
    /// The audit key the sequencer linked it with.
    pub chain_key_id: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_kept_to_the_microsecond() {
        let at = DateTime::parse_from_rfc3339("2026-11-22T10:00:00.123456789Z")
            .unwrap()
            .with_timezone(&Utc);
        let event = NewEvent::new(Action::CaseRead, Outcome::Success).occurred_at(at);
        assert_eq!(event.row("k", None).occurred_at.nanosecond(), 123_456_000);
    }

    #[test]
    fn detail_is_cut_by_characters_not_bytes() {
        let event = NewEvent::new(Action::CaseRead, Outcome::Failure)
            .detail("ع".repeat(DETAIL_MAX_CHARS + 5));
        assert_eq!(
            event.row("k", None).detail.unwrap().chars().count(),
            DETAIL_MAX_CHARS
        );
    }

    #[test]
    fn subjects_are_listed_once_each_with_the_events_time() {
        let case = Uuid::new_v4();
        let event = NewEvent::new(Action::CaseList, Outcome::Success)
            .showing([case, case])
            .subjects(SubjectKind::Referral, [case]);
        let rows = event.subject_rows();
        assert_eq!(rows.len(), 2);
        assert!(rows.iter().all(|r| r.occurred_at == event.occurred_at
            && r.event_id == event.id().to_string()
            && r.subject_id == case.to_string()));
    }
}
