//! Referral requests and views. The state machine is `domain::referral`.

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use validator::Validate;

use crate::crypto::Sealed;
use crate::db::column::TextSet;
use crate::domain::referral::Outcome;
use crate::domain::{
    CaseId, CityId, Need, NonBlank, OrganisationId, OrganisationKind, ReferralId, ReferralState,
    Sex, UserId,
};
use crate::pagination::{Listed, Page};

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

/// A referral whose input passed every check: what the store seals.
#[derive(Debug, Clone)]
pub struct NewReferral {
    pub kind: OrganisationKind,
    pub organisation_id: OrganisationId,
    pub reason: NonBlank,
    pub needs: Vec<Need>,
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
    /// 1 to `pagination.max_page_size` (100 unless configured); default
    /// `pagination.default_page_size` (50). Any larger value is cut to the
    /// maximum, 0 to 1; a value that is not a u32 is a 422.
    #[param(format = Int64, minimum = 0, maximum = 4294967295_u64)]
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// A whole referral, decrypted: for the referring city.
#[derive(Debug, Serialize, ToSchema)]
pub struct Referral {
    #[schema(value_type = String, format = Uuid)]
    pub id: ReferralId,
    #[schema(value_type = String, format = Uuid)]
    pub case_id: CaseId,
    #[schema(value_type = String, format = Uuid)]
    pub city_id: CityId,
    #[schema(value_type = String, format = Uuid)]
    pub organisation_id: OrganisationId,
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
    #[schema(value_type = String, format = Uuid)]
    pub created_by: UserId,
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
    #[schema(value_type = String, format = Uuid)]
    pub updated_by: UserId,
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
    #[schema(value_type = String, format = Uuid)]
    pub id: ReferralId,
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
    #[schema(value_type = String, format = Uuid)]
    pub id: ReferralId,
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

/// A page of referrals.
pub type ReferralPage = Page<ReferralView>;

impl Listed for ReferralView {
    const PAGE: &'static str = "ReferralPage";
}

/// One row of `referrals`; a new one is inserted whole.
#[derive(Debug, Clone, diesel::Queryable, diesel::Insertable)]
#[diesel(table_name = crate::db::schema::referrals, treat_none_as_default_value = false)]
pub struct ReferralRow {
    pub id: ReferralId,
    pub case_id: CaseId,
    pub city_id: CityId,
    pub organisation_id: OrganisationId,
    pub kind: OrganisationKind,
    pub state: ReferralState,
    pub reason_enc: Sealed,
    pub needs: TextSet<Need>,
    pub due_by: Option<NaiveDate>,
    pub outcome: Option<Outcome>,
    pub outcome_note_enc: Option<Sealed>,
    pub decision_reason_enc: Option<Sealed>,
    pub created_by: UserId,
    pub created_at: NaiveDateTime,
    pub accepted_at: Option<NaiveDateTime>,
    pub started_at: Option<NaiveDateTime>,
    pub completed_at: Option<NaiveDateTime>,
    pub declined_at: Option<NaiveDateTime>,
    pub cancelled_at: Option<NaiveDateTime>,
    pub updated_by: UserId,
    pub updated_at: NaiveDateTime,
    pub version: i64,
}
