//! Referring several members of a household at once to one organisation:
//! each member named gets their own referral (the provider's minimal view
//! stays per person), all in the caller's one transaction. Every member is
//! checked as if referred alone — in the caller's reach (the policy, 404),
//! a member of this household (422), not closed (409), consented to share
//! with providers: members without consent are named in a 409 and nothing
//! is made, unless the caller asked to skip them.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use validator::Validate;

use crate::auth::Principal;
use crate::auth::policy::{self, Action, Resource};
use crate::cases::row::{self as cases, CaseRow};
use crate::crypto::Keyring;
use crate::db::AnyConnection;
use crate::domain::{CaseId, CaseStatus, Need, OrganisationId, OrganisationKind, UserId, time};
use crate::error::{ApiError, FieldError};
use crate::referrals::model::{CreateReferral, Referral, ReferralRow};
use crate::referrals::store as referrals;
use crate::referrals::views::view;

use super::store::HouseholdRow;

/// `POST /households/{id}/referrals`.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "organisation_id": "6f2d3c4b-1a2b-4c3d-8e9f-0a1b2c3d4e5f",
    "kind": "education",
    "reason": "Out of school since the camp",
    "needs": ["school_enrolment"],
    "due_by": "2027-01-31",
    "case_ids": ["1c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f", "2d3e4f5a-6b7c-4d8e-9f0a-1b2c3d4e5f6a"],
    "skip_without_consent": false
}))]
pub struct CreateHouseholdReferral {
    pub kind: OrganisationKind,
    #[schema(value_type = String, format = Uuid)]
    pub organisation_id: OrganisationId,
    /// The same reason for each member, kept encrypted with each person.
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
    pub due_by: Option<chrono::NaiveDate>,
    /// The members to refer: 1 to 20 cases of this household.
    #[validate(length(min = 1, max = 20))]
    #[schema(min_items = 1, max_items = 20, value_type = Vec<uuid::Uuid>)]
    pub case_ids: Vec<CaseId>,
    /// Refer those who consented and leave out the others (listed in
    /// `skipped`), instead of refusing the whole request (409).
    #[serde(default)]
    pub skip_without_consent: bool,
}

/// The referrals made, one per member, and the members left out for want
/// of consent.
#[derive(Debug, Serialize, ToSchema)]
pub struct HouseholdReferrals {
    pub referrals: Vec<Referral>,
    #[schema(value_type = Vec<String>)]
    pub skipped: Vec<CaseId>,
}

/// The members named, locked in id order and each authorised by the
/// policy inside the caller's transaction. `Ok(Err(case))`: a member out
/// of the caller's reach (answered 404, as if it did not exist, and
/// recorded as a refusal); a case that does not exist is a plain 404.
pub fn members_in_reach(
    conn: &mut AnyConnection,
    principal: &Principal,
    case_ids: &[CaseId],
) -> Result<Result<Vec<CaseRow>, CaseRow>, ApiError> {
    let mut ids = case_ids.to_vec();
    ids.sort();
    ids.dedup();
    if ids.len() != case_ids.len() {
        return Err(ApiError::Validation(vec![FieldError::new(
            "case_ids",
            "names a case twice",
        )]));
    }
    let mut members: Vec<CaseRow> = Vec::with_capacity(ids.len());
    for id in &ids {
        crate::db::lock_row(conn, "cases", (*id).into())?;
        let case = cases::find(conn, *id)?.ok_or(ApiError::NotFound)?;
        let resource = Resource::City(case.city_id);
        if policy::authorize(principal, Action::ReferralCreate, resource).is_err() {
            return Ok(Err(case));
        }
        if case.status == CaseStatus::Erased {
            return Err(ApiError::Gone);
        }
        members.push(case);
    }
    Ok(Ok(members))
}

/// Refers `members` (from [`members_in_reach`]) as `input` says (see the
/// module documentation). Returns the view and the rows made, for the
/// audit event.
pub fn refer_members(
    conn: &mut AnyConnection,
    keyring: &Keyring,
    household: &HouseholdRow,
    members: Vec<CaseRow>,
    input: CreateHouseholdReferral,
    by: UserId,
) -> Result<(HouseholdReferrals, Vec<ReferralRow>), ApiError> {
    let skip = input.skip_without_consent;
    let referral = referrals::parse(
        conn,
        CreateReferral {
            kind: input.kind,
            organisation_id: input.organisation_id,
            reason: input.reason,
            needs: input.needs,
            due_by: input.due_by,
        },
        time::today(),
    )?;
    let strangers: Vec<String> = members
        .iter()
        .filter(|c| c.household_id != Some(household.id))
        .map(|c| c.id.to_string())
        .collect();
    if !strangers.is_empty() {
        let ids = strangers.join(", ");
        return Err(ApiError::Validation(vec![FieldError::new(
            "case_ids",
            format!("not members of this household: {ids}"),
        )]));
    }
    let closed: Vec<String> = members
        .iter()
        .filter(|c| c.status == CaseStatus::Closed)
        .map(|c| c.id.to_string())
        .collect();
    if !closed.is_empty() {
        let ids = closed.join(", ");
        return Err(ApiError::Conflict(format!(
            "These members' cases are closed; reopen them before referring: {ids}."
        )));
    }
    let (consented, without): (Vec<CaseRow>, Vec<CaseRow>) =
        members.into_iter().partition(|c| c.consent_share);
    if !without.is_empty() && !skip {
        let named: Vec<String> = without.iter().map(|c| c.id.to_string()).collect();
        let ids = named.join(", ");
        return Err(ApiError::Conflict(format!(
            "These members have not consented to sharing with providers: {ids}. Nothing was \
             referred; refer the others with skip_without_consent."
        )));
    }
    if consented.is_empty() {
        return Err(ApiError::Conflict(
            "No member named has consented to sharing with providers.".into(),
        ));
    }
    let mut rows = Vec::with_capacity(consented.len());
    let mut views = Vec::with_capacity(consented.len());
    for case in &consented {
        let row = referrals::create(conn, keyring, case, &referral, by)?;
        views.push(view(conn, keyring, &row)?);
        rows.push(row);
    }
    Ok((
        HouseholdReferrals {
            referrals: views,
            skipped: without.iter().map(|c| c.id).collect(),
        },
        rows,
    ))
}
