//! Referral requests and views. The state machine is `domain::referral`.

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use validator::Validate;

use crate::domain::referral::Outcome;
use crate::domain::{Need, OrganisationId, OrganisationKind, ReferralState, Sex};

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateReferral {
    pub kind: OrganisationKind,
    #[schema(value_type = String, format = Uuid)]
    pub organisation_id: OrganisationId,
    /// Kept encrypted with the case; not blank.
    #[validate(length(min = 1, max = 2000))]
    #[schema(
        min_length = 1,
        max_length = 2000,
        pattern = r"^[^\x00]*[^\x00\t\n\x0b\x0c\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000][^\x00]*$"
    )]
    pub reason: String,
    #[serde(default)]
    #[validate(length(max = 20))]
    #[schema(max_items = 20)]
    pub needs: Vec<Need>,
    /// Today or later.
    pub due_by: Option<NaiveDate>,
}

/// Why a referral is declined or cancelled; kept encrypted.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DecisionReason {
    #[validate(length(min = 1, max = 1000))]
    #[schema(min_length = 1, max_length = 1000)]
    pub reason: Option<String>,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CompleteReferral {
    pub outcome: Outcome,
    /// Kept encrypted with the case.
    #[validate(length(min = 1, max = 2000))]
    #[schema(min_length = 1, max_length = 2000)]
    pub note: Option<String>,
}

#[derive(Debug, Deserialize, Validate, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ReferralQuery {
    pub status: Option<ReferralState>,
    pub kind: Option<OrganisationKind>,
    #[param(value_type = Option<String>, format = Uuid)]
    pub organisation_id: Option<OrganisationId>,
    /// Only open referrals whose `due_by` has passed.
    pub overdue: Option<bool>,
}

/// A whole referral, decrypted: for the referring city.
#[derive(Debug, Serialize, ToSchema)]
pub struct Referral {
    #[schema(format = Uuid)]
    pub id: String,
    #[schema(format = Uuid)]
    pub case_id: String,
    #[schema(format = Uuid)]
    pub city_id: String,
    #[schema(format = Uuid)]
    pub organisation_id: String,
    pub kind: OrganisationKind,
    pub state: ReferralState,
    /// `null` once the person is erased.
    #[schema(required = true)]
    pub reason: Option<String>,
    pub needs: Vec<Need>,
    #[schema(required = true)]
    pub due_by: Option<NaiveDate>,
    #[schema(required = true)]
    pub outcome: Option<Outcome>,
    #[schema(required = true)]
    pub outcome_note: Option<String>,
    /// Why it was declined or cancelled.
    #[schema(required = true)]
    pub decision_reason: Option<String>,
    #[schema(format = Uuid)]
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    #[schema(required = true)]
    pub accepted_at: Option<DateTime<Utc>>,
    #[schema(required = true)]
    pub started_at: Option<DateTime<Utc>>,
    #[schema(required = true)]
    pub completed_at: Option<DateTime<Utc>>,
    #[schema(required = true)]
    pub declined_at: Option<DateTime<Utc>>,
    #[schema(required = true)]
    pub cancelled_at: Option<DateTime<Utc>>,
    #[schema(format = Uuid)]
    pub updated_by: String,
    pub updated_at: DateTime<Utc>,
    pub version: i64,
}

/// The person as a provider sees them: no more than the service needs.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReferredPerson {
    /// The first word of the full name; `null` once erased.
    #[schema(required = true)]
    pub given_name: Option<String>,
    pub sex: Sex,
    /// `null` once erased.
    #[schema(required = true)]
    pub age: Option<u32>,
    /// Only when the person consented to share with providers.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
}

/// A referral as its provider sees it.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProviderReferral {
    #[schema(format = Uuid)]
    pub id: String,
    pub kind: OrganisationKind,
    pub state: ReferralState,
    #[schema(required = true)]
    pub reason: Option<String>,
    pub needs: Vec<Need>,
    #[schema(required = true)]
    pub due_by: Option<NaiveDate>,
    pub person: ReferredPerson,
}

/// What a provider gets back once it has declined or completed a referral:
/// its access to the person has ended, so no person.
#[derive(Debug, Serialize, ToSchema)]
pub struct ClosedReferral {
    #[schema(format = Uuid)]
    pub id: String,
    pub kind: OrganisationKind,
    pub state: ReferralState,
}

/// The view the caller is allowed: whole for the city, minimal for the
/// provider while the referral is open, and no more than its state after.
#[derive(Debug, Serialize, ToSchema)]
#[serde(untagged)]
pub enum ReferralView {
    Full(Referral),
    Minimal(ProviderReferral),
    Closed(ClosedReferral),
}

/// One row of `referrals`.
#[derive(Debug, Clone, diesel::Queryable)]
pub struct ReferralRow {
    pub id: String,
    pub case_id: String,
    pub city_id: String,
    pub organisation_id: String,
    pub kind: String,
    pub state: String,
    pub reason_enc: crate::crypto::Sealed,
    pub needs: String,
    pub due_by: Option<NaiveDate>,
    pub outcome: Option<String>,
    pub outcome_note_enc: Option<crate::crypto::Sealed>,
    pub decision_reason_enc: Option<crate::crypto::Sealed>,
    pub created_by: String,
    pub created_at: NaiveDateTime,
    pub accepted_at: Option<NaiveDateTime>,
    pub started_at: Option<NaiveDateTime>,
    pub completed_at: Option<NaiveDateTime>,
    pub declined_at: Option<NaiveDateTime>,
    pub cancelled_at: Option<NaiveDateTime>,
    pub updated_by: String,
    pub updated_at: NaiveDateTime,
    pub version: i64,
}
