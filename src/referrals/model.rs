//! Referral requests, views and the state machine.

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use validator::Validate;

use crate::domain::{OrganisationId, OrganisationKind, Sex};
use crate::text_enum;

text_enum!(
    /// Where a referral stands.
    ReferralState {
        Pending => "pending",
        Accepted => "accepted",
        InProgress => "in_progress",
        Completed => "completed",
        Declined => "declined",
        Cancelled => "cancelled",
    }
);

impl ReferralState {
    /// Pending, accepted or in progress: the provider may still see it.
    pub const OPEN: [ReferralState; 3] = [
        ReferralState::Pending,
        ReferralState::Accepted,
        ReferralState::InProgress,
    ];

    pub fn is_open(self) -> bool {
        ReferralState::OPEN.contains(&self)
    }
}

text_enum!(
    /// What can be done to a referral.
    Transition {
        Accept => "accept",
        Decline => "decline",
        Start => "start",
        Complete => "complete",
        Cancel => "cancel",
    }
);

/// The state machine: the state `transition` leads to from `state`, or
/// `None` when it is not allowed (409).
pub fn next(state: ReferralState, transition: Transition) -> Option<ReferralState> {
    use ReferralState as S;
    use Transition as T;
    match (state, transition) {
        (S::Pending, T::Accept) => Some(S::Accepted),
        (S::Pending, T::Decline) => Some(S::Declined),
        (S::Accepted, T::Start) => Some(S::InProgress),
        (S::InProgress, T::Complete) => Some(S::Completed),
        (S::Pending | S::Accepted | S::InProgress, T::Cancel) => Some(S::Cancelled),
        _ => None,
    }
}

text_enum!(
    /// How a completed referral ended.
    Outcome {
        CompletedSuccessfully => "completed_successfully",
        DroppedOut => "dropped_out",
        NotEligible => "not_eligible",
        Other => "other",
    }
);

text_enum!(
    /// What the person needs from the provider: a closed set, so no free
    /// text about the person is kept in plaintext.
    Need {
        Counselling => "counselling",
        TraumaSupport => "trauma_support",
        FamilySupport => "family_support",
        SchoolEnrolment => "school_enrolment",
        CatchUpClasses => "catch_up_classes",
        Literacy => "literacy",
        SkillsTraining => "skills_training",
        JobPlacement => "job_placement",
        SmallBusiness => "small_business",
    }
);

/// Needs as stored: sorted, de-duplicated, comma-separated.
pub fn needs_to_db(needs: &[Need]) -> String {
    let mut sorted = needs.to_vec();
    sorted.sort();
    sorted.dedup();
    sorted
        .iter()
        .map(|n| n.as_str())
        .collect::<Vec<_>>()
        .join(",")
}

pub fn needs_from_db(text: &str) -> Option<Vec<Need>> {
    text.split(',')
        .filter(|s| !s.is_empty())
        .map(Need::from_db)
        .collect()
}

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_state_times_every_transition() {
        use ReferralState as S;
        use Transition as T;
        let allowed = [
            (S::Pending, T::Accept, S::Accepted),
            (S::Pending, T::Decline, S::Declined),
            (S::Pending, T::Cancel, S::Cancelled),
            (S::Accepted, T::Start, S::InProgress),
            (S::Accepted, T::Cancel, S::Cancelled),
            (S::InProgress, T::Complete, S::Completed),
            (S::InProgress, T::Cancel, S::Cancelled),
        ];
        for &state in S::ALL {
            for &transition in T::ALL {
                let expected = allowed
                    .iter()
                    .find(|(s, t, _)| *s == state && *t == transition)
                    .map(|(_, _, to)| *to);
                assert_eq!(
                    next(state, transition),
                    expected,
                    "{state:?} × {transition:?}"
                );
            }
        }
        for state in [S::Completed, S::Declined, S::Cancelled] {
            assert!(!state.is_open());
        }
    }

    #[test]
    fn stored_names_match_serde_and_needs_round_trip() {
        for state in ReferralState::ALL {
            let json = serde_json::to_string(state).unwrap();
            assert_eq!(json, format!("\"{}\"", state.as_str()));
        }
        for outcome in Outcome::ALL {
            let json = serde_json::to_string(outcome).unwrap();
            assert_eq!(json, format!("\"{}\"", outcome.as_str()));
        }
        let needs = vec![Need::Literacy, Need::Counselling, Need::Literacy];
        let stored = needs_to_db(&needs);
        assert_eq!(stored, "counselling,literacy");
        assert_eq!(
            needs_from_db(&stored),
            Some(vec![Need::Counselling, Need::Literacy])
        );
        assert_eq!(needs_from_db(""), Some(Vec::new()));
        assert_eq!(needs_from_db("bogus"), None);
    }
}
