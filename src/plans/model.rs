//! What the plan routes take and give, and the stored rows.

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use validator::Validate;

use crate::crypto::Sealed;
use crate::domain::{
    ActionStatus, CaseId, CityId, PlanActionId, PlanDimension, PlanGoalId, PlanId, PlanStatus,
    ReferralId, UserId,
};

/// An action under a goal, as written.
#[derive(Debug, Clone, Serialize, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewAction {
    /// Kept encrypted with the case; not blank.
    #[validate(length(min = 1, max = 1000))]
    #[schema(
        min_length = 1,
        max_length = 1000,
        pattern = r"^[^\x00]*[^\x00\t\n\x0b\x0c\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000][^\x00]*$"
    )]
    pub text: String,
    /// A referral of the same case this action goes through.
    #[schema(value_type = Option<String>, format = Uuid)]
    pub referral_id: Option<ReferralId>,
    pub target_date: Option<NaiveDate>,
}

/// A goal, as written.
#[derive(Debug, Clone, Serialize, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewGoal {
    pub dimension: PlanDimension,
    /// Kept encrypted with the case; not blank.
    #[validate(length(min = 1, max = 1000))]
    #[schema(
        min_length = 1,
        max_length = 1000,
        pattern = r"^[^\x00]*[^\x00\t\n\x0b\x0c\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000][^\x00]*$"
    )]
    pub text: String,
    #[serde(default)]
    #[validate(length(max = 20), nested)]
    #[schema(max_items = 20)]
    pub actions: Vec<NewAction>,
}

/// `POST /cases/{id}/plans`: a draft.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"goals": [{
    "dimension": "economic",
    "text": "A regular income within six months",
    "actions": [{"text": "Tailoring course", "target_date": "2027-03-01"}]
}]}))]
pub struct CreatePlan {
    #[validate(length(min = 1, max = 20), nested)]
    #[schema(min_items = 1, max_items = 20)]
    pub goals: Vec<NewGoal>,
}

/// `POST /plans/{id}/return`.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReturnPlan {
    /// Kept encrypted with the case; not blank.
    #[validate(length(min = 1, max = 1000))]
    #[schema(min_length = 1, max_length = 1000)]
    pub reason: String,
}

/// `PATCH /plans/{id}/actions/{action_id}`.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"status": "in_progress"}))]
pub struct UpdateAction {
    pub status: ActionStatus,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PlanAction {
    #[schema(value_type = String, format = Uuid)]
    pub id: PlanActionId,
    pub text: String,
    #[schema(value_type = Option<String>, format = Uuid, required = true)]
    pub referral_id: Option<ReferralId>,
    #[schema(required = true)]
    pub target_date: Option<NaiveDate>,
    pub status: ActionStatus,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PlanGoal {
    #[schema(value_type = String, format = Uuid)]
    pub id: PlanGoalId,
    pub dimension: PlanDimension,
    pub text: String,
    pub actions: Vec<PlanAction>,
}

/// One version of a plan, decrypted. `status`: `draft` → `submitted` →
/// `approved` (active) | `returned`; `superseded` once a revision is
/// approved.
#[derive(Debug, Serialize, ToSchema)]
pub struct Plan {
    #[schema(value_type = String, format = Uuid)]
    pub id: PlanId,
    #[schema(value_type = String, format = Uuid)]
    pub case_id: CaseId,
    #[schema(value_type = String, format = Uuid)]
    pub city_id: CityId,
    pub version: i32,
    pub status: PlanStatus,
    /// The version this one revises.
    #[schema(value_type = Option<String>, format = Uuid, required = true)]
    pub previous_id: Option<PlanId>,
    #[schema(value_type = String, format = Uuid)]
    pub author_id: UserId,
    pub created_at: DateTime<Utc>,
    #[schema(required = true)]
    pub submitted_at: Option<DateTime<Utc>>,
    /// Who approved or returned it.
    #[schema(value_type = Option<String>, format = Uuid, required = true)]
    pub decided_by: Option<UserId>,
    #[schema(required = true)]
    pub decided_at: Option<DateTime<Utc>>,
    #[schema(required = true)]
    pub return_reason: Option<String>,
    pub goals: Vec<PlanGoal>,
}

#[derive(Debug, Clone, diesel::Queryable, diesel::Insertable)]
#[diesel(table_name = crate::db::schema::plans, treat_none_as_default_value = false)]
pub struct PlanRow {
    pub id: PlanId,
    pub case_id: CaseId,
    pub city_id: CityId,
    pub version: i32,
    pub status: PlanStatus,
    pub previous_id: Option<PlanId>,
    pub author_id: UserId,
    pub created_at: NaiveDateTime,
    pub submitted_at: Option<NaiveDateTime>,
    pub decided_by: Option<UserId>,
    pub decided_at: Option<NaiveDateTime>,
    pub return_reason_enc: Option<Sealed>,
    pub row_version: i64,
}

#[derive(Debug, Clone, diesel::Queryable, diesel::Insertable)]
#[diesel(table_name = crate::db::schema::plan_goals, treat_none_as_default_value = false)]
pub struct GoalRow {
    pub id: PlanGoalId,
    pub plan_id: PlanId,
    pub case_id: CaseId,
    pub city_id: CityId,
    pub dimension: PlanDimension,
    pub text_enc: Sealed,
    pub position: i32,
}

#[derive(Debug, Clone, diesel::Queryable, diesel::Insertable)]
#[diesel(table_name = crate::db::schema::plan_actions, treat_none_as_default_value = false)]
pub struct ActionRow {
    pub id: PlanActionId,
    pub plan_id: PlanId,
    pub goal_id: PlanGoalId,
    pub case_id: CaseId,
    pub city_id: CityId,
    pub text_enc: Sealed,
    pub referral_id: Option<ReferralId>,
    pub target_date: Option<NaiveDate>,
    pub status: ActionStatus,
    pub position: i32,
    pub updated_at: NaiveDateTime,
}
