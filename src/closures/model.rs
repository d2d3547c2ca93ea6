//! What the closure routes take and give, and the stored row.

use chrono::{DateTime, NaiveDateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use validator::Validate;

use crate::crypto::Sealed;
use crate::domain::{CaseId, CityId, ClosureReason, ClosureRequestId, ClosureStatus, UserId};

/// `POST /cases/{id}/closure-requests`.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"reason": "services_completed", "note": "Working at the bakery; children at school."}))]
pub struct CreateClosureRequest {
    pub reason: ClosureReason,
    /// Kept encrypted with the case; not blank when given.
    #[validate(length(min = 1, max = 2000))]
    #[schema(
        min_length = 1,
        max_length = 2000,
        pattern = r"^[^\x00]*[^\x00\t\n\x0b\x0c\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000][^\x00]*$"
    )]
    pub note: Option<String>,
}

/// `POST /closure-requests/{id}/return`: why the case should stay open.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"reason": "The son's school enrolment is still pending."}))]
pub struct ReturnClosure {
    /// Kept encrypted with the case; not blank.
    #[validate(length(min = 1, max = 1000))]
    #[schema(
        min_length = 1,
        max_length = 1000,
        pattern = r"^[^\x00]*[^\x00\t\n\x0b\x0c\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000][^\x00]*$"
    )]
    pub reason: String,
}

/// A closure request, decrypted. `status`: `pending` → `approved` (the
/// case closed) | `returned`; `self_approved` for a supervisor's direct
/// close.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d",
    "case_id": "1c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f",
    "city_id": "2d3e4f5a-6b7c-4d8e-9f0a-1b2c3d4e5f6a",
    "reason": "services_completed",
    "note": "Working at the bakery; children at school.",
    "status": "pending",
    "requested_by": "3e4f5a6b-7c8d-4e9f-0a1b-2c3d4e5f6a7b",
    "requested_at": "2026-12-01T09:30:00Z",
    "decided_by": null,
    "decided_at": null,
    "return_reason": null,
    "version": 1
}))]
pub struct ClosureRequest {
    #[schema(value_type = String, format = Uuid)]
    pub id: ClosureRequestId,
    #[schema(value_type = String, format = Uuid)]
    pub case_id: CaseId,
    #[schema(value_type = String, format = Uuid)]
    pub city_id: CityId,
    pub reason: ClosureReason,
    #[schema(required = true)]
    pub note: Option<String>,
    pub status: ClosureStatus,
    #[schema(value_type = String, format = Uuid)]
    pub requested_by: UserId,
    pub requested_at: DateTime<Utc>,
    #[schema(value_type = Option<String>, format = Uuid, required = true)]
    pub decided_by: Option<UserId>,
    #[schema(required = true)]
    pub decided_at: Option<DateTime<Utc>>,
    /// Why it was returned.
    #[schema(required = true)]
    pub return_reason: Option<String>,
    pub version: i64,
}

/// One row of `closure_requests`; a new one is inserted whole.
#[derive(Debug, Clone, diesel::Queryable, diesel::Insertable)]
#[diesel(table_name = crate::db::schema::closure_requests, treat_none_as_default_value = false)]
pub struct ClosureRequestRow {
    pub id: ClosureRequestId,
    pub case_id: CaseId,
    pub city_id: CityId,
    pub reason: ClosureReason,
    pub note_enc: Option<Sealed>,
    pub status: ClosureStatus,
    pub requested_by: UserId,
    pub requested_at: NaiveDateTime,
    pub decided_by: Option<UserId>,
    pub decided_at: Option<NaiveDateTime>,
    pub return_reason_enc: Option<Sealed>,
    pub version: i64,
}
