//! What `GET /tasks` answers.

use chrono::NaiveDate;
use serde::Serialize;
use utoipa::ToSchema;

use crate::domain::{CaseId, CityId, HouseholdId, UserId};

/// Where a task comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TaskSource {
    /// A scheduled follow-up; `detail` is its kind.
    FollowUp,
    /// A transfer into one of the caller's cities, waiting for a decision.
    Transfer,
    /// An open referral whose `due_by` falls this week or has passed;
    /// `detail` is its state.
    Referral,
    /// A follow-up assessment that falls due (`assessments.follow_up_days`
    /// after the latest scored assessment).
    Assessment,
}

impl TaskSource {
    pub const ALL: [TaskSource; 4] = [
        TaskSource::FollowUp,
        TaskSource::Transfer,
        TaskSource::Referral,
        TaskSource::Assessment,
    ];

    /// The name the API gives it.
    pub fn as_str(self) -> &'static str {
        match self {
            TaskSource::FollowUp => "follow_up",
            TaskSource::Transfer => "transfer",
            TaskSource::Referral => "referral",
            TaskSource::Assessment => "assessment",
        }
    }
}

/// One thing to do. Names the case by id and number only.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({
    "source": "follow_up",
    "id": "5a6b7c8d-9e0f-4a1b-8c2d-3e4f5a6b7c8d",
    "case_id": "1c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f",
    "case_number": "MOS-2026-000042",
    "city_id": "2d3e4f5a-6b7c-4d8e-9f0a-1b2c3d4e5f6a",
    "due_on": "2026-11-28",
    "overdue": true,
    "detail": "home_visit",
    "worker_id": "3e4f5a6b-7c8d-4e9f-0a1b-2c3d4e5f6a7b"
}))]
pub struct Task {
    pub source: TaskSource,
    /// The follow-up, transfer, referral or (for an assessment) case id.
    #[schema(value_type = String, format = Uuid)]
    pub id: uuid::Uuid,
    #[schema(value_type = String, format = Uuid)]
    pub case_id: CaseId,
    pub case_number: String,
    #[schema(value_type = String, format = Uuid)]
    pub city_id: CityId,
    pub due_on: NaiveDate,
    pub overdue: bool,
    /// A closed value: the follow-up's kind, the referral's state, or
    /// `pending` / `due`.
    pub detail: String,
    /// Who it falls to: the follow-up's assignee, otherwise the case's
    /// assigned worker (`null` when none).
    #[schema(value_type = Option<String>, format = Uuid, required = true)]
    pub worker_id: Option<UserId>,
}

/// One worker's part of a supervisor's queue.
#[derive(Debug, Serialize, ToSchema)]
pub struct WorkerTasks {
    /// `null`: tasks that fall to no one yet.
    #[schema(value_type = Option<String>, format = Uuid, required = true)]
    pub worker_id: Option<UserId>,
    pub tasks: Vec<Task>,
}

/// A household no member of which has been contacted (a note, or a
/// follow-up done) for the quiet period.
#[derive(Debug, Serialize, ToSchema)]
pub struct QuietHousehold {
    #[schema(value_type = String, format = Uuid)]
    pub household_id: HouseholdId,
    #[schema(value_type = String, format = Uuid)]
    pub city_id: CityId,
    /// The last contact with any member (`null`: never).
    #[schema(required = true)]
    pub last_contact: Option<NaiveDate>,
}

/// The caller's day: `tasks` overdue first, then by due date, up to the
/// end of `week_ends`; `by_worker` for supervisors (empty otherwise).
#[derive(Debug, Serialize, ToSchema)]
pub struct Tasks {
    pub today: NaiveDate,
    pub week_ends: NaiveDate,
    pub tasks: Vec<Task>,
    pub by_worker: Vec<WorkerTasks>,
    pub quiet_households: Vec<QuietHousehold>,
}
