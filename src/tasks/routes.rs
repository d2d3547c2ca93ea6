//! `GET /tasks`.

use actix_web::{HttpResponse, get, web};

use crate::audit;
use crate::auth::policy::Action;
use crate::domain::{Role, time};
use crate::error::ApiError;
use crate::settings::{AssessmentSettings, FollowUpSettings};
use crate::web::context::Context;

use super::model::Tasks;
use super::store::{self, Asker};

/// The caller's day (social workers and supervisors): overdue first, then
/// what falls due in the next six days, across their scheduled follow-ups,
/// transfers waiting to come into their cities, open referrals they made
/// whose `due_by` falls due, and follow-up assessments due
/// (`assessments.follow_up_days` after the latest scored one). A
/// supervisor sees every worker's tasks in their cities, also grouped by
/// worker (`by_worker`). `quiet_households` flags households no member of
/// which has been contacted (a note, a follow-up done) for
/// `follow_ups.quiet_household_days` (60). Tasks name case ids and case
/// numbers, never names; the read is recorded naming every case listed.
#[utoipa::path(
    tag = "follow-ups",
    security(("bearer" = [])),
    responses((status = 200, body = Tasks))
)]
#[get("/tasks")]
pub async fn list_tasks(
    ctx: Context,
    follow_ups: web::Data<FollowUpSettings>,
    assessments: web::Data<AssessmentSettings>,
) -> Result<HttpResponse, ApiError> {
    let (assessment_days, quiet_days) =
        (assessments.follow_up_days, follow_ups.quiet_household_days);
    let tasks = ctx
        .on_collection(Action::TaskRead, Ok(()), move |tx, scope, ()| {
            let asker = Asker {
                user: tx.principal.user_id,
                cities: scope.cities().unwrap_or_default().to_vec(),
                supervisor: tx.principal.role == Role::CitySupervisor,
                assessment_days,
                quiet_days,
            };
            let tasks = store::tasks(tx.conn, &asker, time::today())?;
            let event = tx
                .event(audit::Action::TaskList)
                .showing(tasks.tasks.iter().map(|t| t.case_id))
                .detail(format!(
                    "{} tasks, {} quiet households",
                    tasks.tasks.len(),
                    tasks.quiet_households.len()
                ));
            Ok((tasks, Some(event)))
        })
        .await?;
    Ok(HttpResponse::Ok().json(tasks))
}
