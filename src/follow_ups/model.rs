//! What the follow-up routes take and give, and the stored row.

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use validator::Validate;

use crate::crypto::Sealed;
use crate::domain::{CaseId, CityId, FollowUpId, FollowUpKind, FollowUpStatus, ReferralId, UserId};

/// `POST /cases/{id}/follow-ups`.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"kind": "home_visit", "due_on": "2027-01-15"}))]
pub struct CreateFollowUp {
    pub kind: FollowUpKind,
    /// Today or later.
    pub due_on: NaiveDate,
    /// A social worker or supervisor of the case's city; the caller when
    /// absent.
    #[schema(value_type = Option<String>, format = Uuid)]
    pub assigned_to: Option<UserId>,
}

/// `PATCH /follow-ups/{id}`: record how it went, or reschedule.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"status": "done", "note": "Visited; the children are at school."}))]
pub struct UpdateFollowUp {
    /// `done`, `missed` or `cancelled`: only from `scheduled` (409).
    pub status: Option<FollowUpStatus>,
    /// Only with `status: done`; kept encrypted with the case.
    #[validate(length(min = 1, max = 2000))]
    #[schema(
        min_length = 1,
        max_length = 2000,
        pattern = r"^[^\x00]*[^\x00\t\n\x0b\x0c\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000][^\x00]*$"
    )]
    pub note: Option<String>,
    /// A new due date (today or later), while scheduled.
    pub due_on: Option<NaiveDate>,
    /// Another worker of the case's city, while scheduled.
    #[schema(value_type = Option<String>, format = Uuid)]
    pub assigned_to: Option<UserId>,
}

/// A follow-up, decrypted. `status`: `scheduled` → `done` | `missed` |
/// `cancelled`.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "5a6b7c8d-9e0f-4a1b-8c2d-3e4f5a6b7c8d",
    "case_id": "1c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f",
    "city_id": "2d3e4f5a-6b7c-4d8e-9f0a-1b2c3d4e5f6a",
    "kind": "referral_check",
    "due_on": "2027-01-15",
    "overdue": false,
    "assigned_to": "3e4f5a6b-7c8d-4e9f-0a1b-2c3d4e5f6a7b",
    "status": "scheduled",
    "referral_id": "6f2d3c4b-1a2b-4c3d-8e9f-0a1b2c3d4e5f",
    "note": null,
    "created_by": null,
    "created_at": "2027-01-01T09:30:00Z",
    "ended_at": null,
    "version": 1
}))]
pub struct FollowUp {
    #[schema(value_type = String, format = Uuid)]
    pub id: FollowUpId,
    #[schema(value_type = String, format = Uuid)]
    pub case_id: CaseId,
    #[schema(value_type = String, format = Uuid)]
    pub city_id: CityId,
    pub kind: FollowUpKind,
    pub due_on: NaiveDate,
    /// Scheduled and past its due date.
    pub overdue: bool,
    #[schema(value_type = String, format = Uuid)]
    pub assigned_to: UserId,
    pub status: FollowUpStatus,
    /// The referral a `referral_check` follows.
    #[schema(value_type = Option<String>, format = Uuid, required = true)]
    pub referral_id: Option<ReferralId>,
    #[schema(required = true)]
    pub note: Option<String>,
    /// `null` when the system scheduled it.
    #[schema(value_type = Option<String>, format = Uuid, required = true)]
    pub created_by: Option<UserId>,
    pub created_at: DateTime<Utc>,
    #[schema(required = true)]
    pub ended_at: Option<DateTime<Utc>>,
    pub version: i64,
}

/// One row of `follow_ups`; a new one is inserted whole.
#[derive(Debug, Clone, diesel::Queryable, diesel::Insertable)]
#[diesel(table_name = crate::db::schema::follow_ups, treat_none_as_default_value = false)]
pub struct FollowUpRow {
    pub id: FollowUpId,
    pub case_id: CaseId,
    pub city_id: CityId,
    pub kind: FollowUpKind,
    pub due_on: NaiveDate,
    pub assigned_to: UserId,
    pub status: FollowUpStatus,
    pub referral_id: Option<ReferralId>,
    pub note_enc: Option<Sealed>,
    pub created_by: Option<UserId>,
    pub created_at: NaiveDateTime,
    pub ended_by: Option<UserId>,
    pub ended_at: Option<NaiveDateTime>,
    pub updated_at: NaiveDateTime,
    pub version: i64,
}
