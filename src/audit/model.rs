//! What an audit event says, typed so that no field can carry a person's data:
//! actions, outcomes and entity kinds are closed sets, ids are UUIDs, and the
//! one free-text field, `detail`, is documented as never holding personal data.

use chrono::{DateTime, NaiveDateTime, Timelike, Utc};
use uuid::Uuid;

use crate::db::schema::audit_events;
use crate::web::telemetry::RequestId;

/// Longest `detail` kept, in characters; longer text is cut.
pub const DETAIL_MAX_CHARS: usize = 200;

macro_rules! closed_set {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident => $text:literal,)+ }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name {
            $($(#[$vmeta])* $variant,)+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant,)+];

            /// The stored spelling.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text,)+
                }
            }

            /// The value with this stored spelling, if any.
            pub fn parse(text: &str) -> Option<$name> {
                match text {
                    $($text => Some($name::$variant),)+
                    _ => None,
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

closed_set! {
    /// What was done. The stored text is `<capability>.<verb>`.
    Action {
        AuthLogin => "auth.login",
        AuthLoginFailed => "auth.login_failed",
        AuthRefresh => "auth.refresh",
        AuthLogout => "auth.logout",
        AuthPasswordChange => "auth.password_change",
        /// A person set their own password with an enrolment code.
        AuthEnrol => "auth.enrol",
        /// A second factor's secret made (not yet in use).
        AuthTotpEnrol => "auth.totp_enrol",
        /// A second factor confirmed with its first code: now required.
        AuthTotpConfirm => "auth.totp_confirm",
        UserCreate => "user.create",
        /// A change of name or active flag.
        UserUpdate => "user.update",
        /// A change of role, cities or organisation: applied at once, or
        /// pending a second person's approval (the detail says which).
        UserGrant => "user.grant",
        /// A grant request approved by a second person (or the operator).
        UserApprove => "user.approve",
        /// A grant request rejected.
        UserReject => "user.reject",
        /// An account's password and second factor cleared, its sessions
        /// ended, a new enrolment code issued or requested.
        UserReset => "user.reset",
        PlaceCreate => "place.create",
        OrganisationCreate => "organisation.create",
        OrganisationUpdate => "organisation.update",
        CaseCreate => "case.create",
        CaseRead => "case.read",
        CaseList => "case.list",
        CaseUpdate => "case.update",
        CaseSearch => "case.search",
        CaseClose => "case.close",
        CaseReopen => "case.reopen",
        CaseErase => "case.erase",
        NoteCreate => "note.create",
        NoteList => "note.list",
        HouseholdCreate => "household.create",
        HouseholdRead => "household.read",
        TransferCreate => "transfer.create",
        TransferAccept => "transfer.accept",
        TransferReject => "transfer.reject",
        TransferCancel => "transfer.cancel",
        ReferralCreate => "referral.create",
        ReferralRead => "referral.read",
        ReferralList => "referral.list",
        ReferralTransition => "referral.transition",
        StatsExport => "stats.export",
        /// A statistical release made (by the server or the operator).
        StatsRelease => "stats.release",
        InstrumentPublish => "instrument.publish",
        AssessmentCreate => "assessment.create",
        AssessmentRead => "assessment.read",
        AssessmentList => "assessment.list",
        AssessmentUpdate => "assessment.update",
        AssessmentSubmit => "assessment.submit",
        AssessmentReview => "assessment.review",
        AssessmentVoid => "assessment.void",
        AuditRead => "audit.read",
        AuditVerify => "audit.verify",
        KeysGenerate => "keys.generate",
        KeysRotate => "keys.rotate",
        DemoSeed => "demo.seed",
        /// A request refused by policy before any action was taken.
        AccessDenied => "access.denied",
    }
}

closed_set! {
    /// How it ended.
    Outcome {
        Success => "success",
        /// Refused by policy (403/404 for scope).
        Denied => "denied",
        /// Attempted and failed (wrong password, conflict, error).
        Failure => "failure",
    }
}

closed_set! {
    /// The kind of thing an event is about.
    Entity {
        Case => "case",
        Note => "note",
        Household => "household",
        Transfer => "transfer",
        Referral => "referral",
        User => "user",
        Session => "session",
        Governorate => "governorate",
        City => "city",
        Organisation => "organisation",
        Key => "key",
        AuditLog => "audit_log",
        Stats => "stats",
        Instrument => "instrument",
        Assessment => "assessment",
    }
}

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

    /// Overrides the time (imports, tests). Truncated to microseconds.
    pub fn occurred_at(mut self, at: DateTime<Utc>) -> NewEvent {
        self.occurred_at = to_micros(at);
        self
    }

    pub fn id(&self) -> Uuid {
        self.id
    }

    pub(crate) fn row(&self) -> NewEventRow<'_> {
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
        }
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
    id: String,
    occurred_at: NaiveDateTime,
    actor_id: Option<String>,
    actor_role: Option<&'a str>,
    action: &'a str,
    entity: Option<&'a str>,
    entity_id: Option<&'a str>,
    city_id: Option<String>,
    outcome: &'a str,
    request_id: Option<&'a str>,
    detail: Option<&'a str>,
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
    pub hash: Option<Vec<u8>>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_action_round_trips_and_is_unique() {
        let mut seen = std::collections::HashSet::new();
        for action in Action::ALL {
            assert_eq!(Action::parse(action.as_str()), Some(*action));
            assert!(seen.insert(action.as_str()), "{action} twice");
        }
        for required in [
            "auth.login",
            "auth.login_failed",
            "auth.refresh",
            "auth.logout",
            "auth.password_change",
            "case.read",
            "case.erase",
            "referral.transition",
            "audit.verify",
            "keys.rotate",
            "access.denied",
        ] {
            assert!(Action::parse(required).is_some(), "{required}");
        }
        assert_eq!(Action::ALL.len(), 53);
    }

    #[test]
    fn outcomes_are_the_three_the_table_accepts() {
        let names: Vec<_> = Outcome::ALL.iter().map(|o| o.as_str()).collect();
        assert_eq!(names, ["success", "denied", "failure"]);
    }

    #[test]
    fn times_are_kept_to_the_microsecond() {
        let at = DateTime::parse_from_rfc3339("2026-11-22T10:00:00.123456789Z")
            .unwrap()
            .with_timezone(&Utc);
        let event = NewEvent::new(Action::CaseRead, Outcome::Success).occurred_at(at);
        assert_eq!(event.row().occurred_at.nanosecond(), 123_456_000);
    }

    #[test]
    fn detail_is_cut_by_characters_not_bytes() {
        let event = NewEvent::new(Action::CaseRead, Outcome::Failure)
            .detail("ع".repeat(DETAIL_MAX_CHARS + 5));
        assert_eq!(
            event.row().detail.unwrap().chars().count(),
            DETAIL_MAX_CHARS
        );
    }
}
