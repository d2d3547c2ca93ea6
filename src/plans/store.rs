//! Queries on `plans`, `plan_goals` and `plan_actions`: drafted, submitted,
//! approved or returned, revised into a new version, actions moved along,
//! moved with the case. Goal and action text is sealed with the person's
//! key, bound to the goal's or action's id and the case's city.

use std::collections::HashMap;

use diesel::prelude::*;

use crate::audit::Entity;
use crate::auth::guard::CityRow;
use crate::cases::data_keys;
use crate::cases::lifecycle::reseal_text;
use crate::cases::row::CaseRow;
use crate::cases::sealing::{open, open_opt};
use crate::crypto::{Keyring, PersonKeys, Sealed};
use crate::db::schema::{plan_actions, plan_goals, plans, referrals};
use crate::db::{AnyConnection, lock_row_and_case};
use crate::domain::{
    ActionStatus, CaseId, CaseStatus, CityId, NonBlank, PlanActionId, PlanGoalId, PlanId,
    PlanStatus, UserId, time,
};
use crate::error::{ApiError, FieldError};

use super::model::{ActionRow, GoalRow, NewGoal, Plan, PlanAction, PlanGoal, PlanRow};

pub const TABLE: &str = "plans";
const GOALS: &str = "plan_goals";
const ACTIONS: &str = "plan_actions";

/// A plan version is held in its case's city; its lock takes the case
/// first.
impl CityRow for PlanRow {
    type Id = PlanId;
    const ENTITY: Entity = Entity::Plan;

    fn find_for_update(conn: &mut AnyConnection, id: PlanId) -> Result<Option<PlanRow>, ApiError> {
        lock_row_and_case(conn, TABLE, id.into())?;
        find(conn, id)
    }

    fn id(&self) -> PlanId {
        self.id
    }

    fn city(&self) -> CityId {
        self.city_id
    }
}

pub fn find(conn: &mut AnyConnection, id: PlanId) -> Result<Option<PlanRow>, ApiError> {
    Ok(plans::table
        .find(id)
        .select(plans::all_columns)
        .first(conn)
        .optional()?)
}

fn keys(conn: &mut AnyConnection, keyring: &Keyring, case: CaseId) -> Result<PersonKeys, ApiError> {
    data_keys::load_live(conn, keyring, case)
}

/// A goal or action whose text passed its checks.
struct Checked {
    goals: Vec<(NewGoal, NonBlank, Vec<NonBlank>)>,
}

fn check(conn: &mut AnyConnection, case: CaseId, goals: Vec<NewGoal>) -> Result<Checked, ApiError> {
    let mut errors = Vec::new();
    let mut checked = Vec::new();
    for (g, goal) in goals.into_iter().enumerate() {
        let text = NonBlank::parse(goal.text.clone())
            .map_err(|e| errors.push(e.at(format!("goals[{g}].text"))))
            .ok();
        let mut actions = Vec::new();
        for (a, action) in goal.actions.iter().enumerate() {
            match NonBlank::parse(action.text.clone()) {
                Ok(text) => actions.push(text),
                Err(e) => errors.push(e.at(format!("goals[{g}].actions[{a}].text"))),
            }
            if let Some(referral) = action.referral_id {
                let of_case: i64 = referrals::table
                    .filter(referrals::id.eq(referral))
                    .filter(referrals::case_id.eq(case))
                    .count()
                    .get_result(conn)?;
                if of_case == 0 {
                    errors.push(FieldError::new(
                        format!("goals[{g}].actions[{a}].referral_id"),
                        "is not a referral of this case",
                    ));
                }
            }
        }
        if let Some(text) = text {
            checked.push((goal, text, actions));
        }
    }
    match errors.is_empty() {
        true => Ok(Checked { goals: checked }),
        false => Err(ApiError::Validation(errors)),
    }
}

/// The version being written or reviewed, if any.
fn open_version(conn: &mut AnyConnection, case: CaseId) -> Result<Option<PlanId>, ApiError> {
    Ok(plans::table
        .filter(plans::case_id.eq(case))
        .filter(plans::status.eq_any([PlanStatus::Draft, PlanStatus::Submitted]))
        .select(plans::id)
        .first(conn)
        .optional()?)
}

fn next_version(conn: &mut AnyConnection, case: CaseId) -> Result<i32, ApiError> {
    let latest: Option<i32> = plans::table
        .filter(plans::case_id.eq(case))
        .select(diesel::dsl::max(plans::version))
        .first(conn)?;
    Ok(latest.unwrap_or(0) + 1)
}

/// Drafts a new version of `case`'s plan (409 when the case is closed or a
/// version is already being written or reviewed).
pub fn draft(
    conn: &mut AnyConnection,
    keyring: &Keyring,
    case: &CaseRow,
    goals: Vec<NewGoal>,
    previous: Option<PlanId>,
    by: UserId,
) -> Result<PlanRow, ApiError> {
    if case.status == CaseStatus::Closed {
        return Err(ApiError::Conflict("The case is closed.".into()));
    }
    if let Some(open) = open_version(conn, case.id)? {
        return Err(ApiError::Conflict(format!(
            "Plan {open} of this case is still a draft or under review."
        )));
    }
    let checked = check(conn, case.id, goals)?;
    let person = keys(conn, keyring, case.id)?;
    let now = time::now();
    let row = PlanRow {
        id: PlanId::new(),
        case_id: case.id,
        city_id: case.city_id,
        version: next_version(conn, case.id)?,
        status: PlanStatus::Draft,
        previous_id: previous,
        author_id: by,
        created_at: now,
        submitted_at: None,
        decided_by: None,
        decided_at: None,
        return_reason_enc: None,
        row_version: 1,
    };
    diesel::insert_into(plans::table)
        .values(&row)
        .execute(conn)?;
    for (g, (goal, text, actions)) in checked.goals.iter().enumerate() {
        let goal_id = PlanGoalId::new();
        let goal_row = GoalRow {
            id: goal_id,
            plan_id: row.id,
            case_id: case.id,
            city_id: case.city_id,
            dimension: goal.dimension,
            text_enc: seal(&person, goal_id, case.city_id, GOALS, text.as_str())?,
            position: i32::try_from(g).unwrap_or(i32::MAX),
        };
        diesel::insert_into(plan_goals::table)
            .values(&goal_row)
            .execute(conn)?;
        for (a, (action, text)) in goal.actions.iter().zip(actions).enumerate() {
            let action_id = PlanActionId::new();
            let action_row = ActionRow {
                id: action_id,
                plan_id: row.id,
                goal_id,
                case_id: case.id,
                city_id: case.city_id,
                text_enc: seal(&person, action_id, case.city_id, ACTIONS, text.as_str())?,
                referral_id: action.referral_id,
                target_date: action.target_date,
                status: ActionStatus::Planned,
                position: i32::try_from(a).unwrap_or(i32::MAX),
                updated_at: now,
            };
            diesel::insert_into(plan_actions::table)
                .values(&action_row)
                .execute(conn)?;
        }
    }
    Ok(row)
}

fn seal(
    person: &PersonKeys,
    id: impl std::fmt::Display,
    city: CityId,
    table: &str,
    text: &str,
) -> Result<Sealed, ApiError> {
    person
        .row(id, city)
        .seal_text(table, "text", text.trim())
        .map_err(ApiError::internal)
}

/// The goals of `row` as written, to draft a revision from.
pub fn goals_of(
    conn: &mut AnyConnection,
    keyring: &Keyring,
    row: &PlanRow,
) -> Result<Vec<NewGoal>, ApiError> {
    let plan = view(conn, keyring, row)?;
    Ok(plan
        .goals
        .into_iter()
        .map(|g| NewGoal {
            dimension: g.dimension,
            text: g.text,
            actions: g
                .actions
                .into_iter()
                .map(|a| super::model::NewAction {
                    text: a.text,
                    referral_id: a.referral_id,
                    target_date: a.target_date,
                })
                .collect(),
        })
        .collect())
}

/// What was asked of a plan its state does not allow.
#[derive(Clone, Copy)]
enum Step {
    Change,
    Submit,
    Approve,
    Return,
    Act,
}

fn conflict(row: &PlanRow, step: Step) -> ApiError {
    let state = row.status.as_str();
    match step {
        Step::Change => {
            ApiError::Conflict(format!("The plan is {state}: it cannot be changed now."))
        }
        Step::Submit => {
            ApiError::Conflict(format!("The plan is {state}: it cannot be submitted now."))
        }
        Step::Approve => {
            ApiError::Conflict(format!("The plan is {state}: it cannot be approved now."))
        }
        Step::Return => {
            ApiError::Conflict(format!("The plan is {state}: it cannot be returned now."))
        }
        Step::Act => ApiError::Conflict(format!(
            "The plan is {state}: only the active plan's actions move."
        )),
    }
}

/// Moves `row` from `from` to `to`, conditionally, so of two concurrent
/// changes one wins.
fn set_status(
    conn: &mut AnyConnection,
    row: &PlanRow,
    to: PlanStatus,
    decided_by: Option<UserId>,
    return_reason: Option<Sealed>,
) -> Result<PlanRow, ApiError> {
    let now = time::now();
    let (submitted_at, decided_at) = match to {
        PlanStatus::Submitted => (Some(now), None),
        _ => (row.submitted_at, Some(now)),
    };
    let updated = diesel::update(
        plans::table
            .filter(plans::id.eq(row.id))
            .filter(plans::row_version.eq(row.row_version)),
    )
    .set((
        plans::status.eq(to),
        plans::submitted_at.eq(submitted_at),
        plans::decided_by.eq(decided_by),
        plans::decided_at.eq(decided_at),
        plans::return_reason_enc.eq(return_reason),
        plans::row_version.eq(plans::row_version + 1),
    ))
    .execute(conn)?;
    if updated != 1 {
        return Err(conflict(row, Step::Change));
    }
    find(conn, row.id)?.ok_or(ApiError::NotFound)
}

pub fn submit(conn: &mut AnyConnection, row: &PlanRow) -> Result<PlanRow, ApiError> {
    if row.status != PlanStatus::Draft {
        return Err(conflict(row, Step::Submit));
    }
    set_status(conn, row, PlanStatus::Submitted, None, None)
}

/// Approves a submitted version: it becomes the active plan, and the one
/// active before it is superseded (kept read-only).
pub fn approve(conn: &mut AnyConnection, row: &PlanRow, by: UserId) -> Result<PlanRow, ApiError> {
    if row.status != PlanStatus::Submitted {
        return Err(conflict(row, Step::Approve));
    }
    diesel::update(
        plans::table
            .filter(plans::case_id.eq(row.case_id))
            .filter(plans::status.eq(PlanStatus::Approved)),
    )
    .set((
        plans::status.eq(PlanStatus::Superseded),
        plans::row_version.eq(plans::row_version + 1),
    ))
    .execute(conn)?;
    set_status(conn, row, PlanStatus::Approved, Some(by), None)
}

pub fn send_back(
    conn: &mut AnyConnection,
    keyring: &Keyring,
    row: &PlanRow,
    by: UserId,
    reason: &NonBlank,
) -> Result<PlanRow, ApiError> {
    if row.status != PlanStatus::Submitted {
        return Err(conflict(row, Step::Return));
    }
    let person = keys(conn, keyring, row.case_id)?;
    let sealed = person
        .row(row.id, row.city_id)
        .seal_text(TABLE, "return_reason", reason.trimmed())
        .map_err(ApiError::internal)?;
    set_status(conn, row, PlanStatus::Returned, Some(by), Some(sealed))
}

/// Moves one action of the active plan along its states.
pub fn move_action(
    conn: &mut AnyConnection,
    row: &PlanRow,
    action: PlanActionId,
    to: ActionStatus,
) -> Result<(), ApiError> {
    if row.status != PlanStatus::Approved {
        return Err(conflict(row, Step::Act));
    }
    let from: ActionStatus = plan_actions::table
        .filter(plan_actions::id.eq(action))
        .filter(plan_actions::plan_id.eq(row.id))
        .select(plan_actions::status)
        .first(conn)
        .optional()?
        .ok_or(ApiError::NotFound)?;
    if !from.may_become(to) {
        let (state, next) = (from.as_str(), to.as_str());
        return Err(ApiError::Conflict(format!(
            "The action is {state}: it cannot become {next}."
        )));
    }
    diesel::update(
        plan_actions::table
            .filter(plan_actions::id.eq(action))
            .filter(plan_actions::status.eq(from)),
    )
    .set((
        plan_actions::status.eq(to),
        plan_actions::updated_at.eq(time::now()),
    ))
    .execute(conn)?;
    Ok(())
}

/// A case's plan versions, newest first, decrypted.
pub fn list(
    conn: &mut AnyConnection,
    keyring: &Keyring,
    case: &CaseRow,
) -> Result<Vec<Plan>, ApiError> {
    let person = keys(conn, keyring, case.id)?;
    let rows: Vec<PlanRow> = plans::table
        .filter(plans::case_id.eq(case.id))
        .select(plans::all_columns)
        .order(plans::version.desc())
        .load(conn)?;
    rows.iter().map(|r| opened(conn, &person, r)).collect()
}

pub fn view(conn: &mut AnyConnection, keyring: &Keyring, row: &PlanRow) -> Result<Plan, ApiError> {
    let person = keys(conn, keyring, row.case_id)?;
    opened(conn, &person, row)
}

fn opened(conn: &mut AnyConnection, person: &PersonKeys, row: &PlanRow) -> Result<Plan, ApiError> {
    let goals: Vec<GoalRow> = plan_goals::table
        .filter(plan_goals::plan_id.eq(row.id))
        .select(plan_goals::all_columns)
        .order(plan_goals::position.asc())
        .load(conn)?;
    let actions: Vec<ActionRow> = plan_actions::table
        .filter(plan_actions::plan_id.eq(row.id))
        .select(plan_actions::all_columns)
        .order(plan_actions::position.asc())
        .load(conn)?;
    let mut by_goal: HashMap<PlanGoalId, Vec<PlanAction>> = HashMap::new();
    for a in &actions {
        let text = open(
            &person.row(a.id, a.city_id),
            ACTIONS,
            "text",
            &a.text_enc,
            a.id,
        )?
        .ok_or(ApiError::Gone)?;
        by_goal.entry(a.goal_id).or_default().push(PlanAction {
            id: a.id,
            text,
            referral_id: a.referral_id,
            target_date: a.target_date,
            status: a.status,
        });
    }
    let mut out = Vec::with_capacity(goals.len());
    for g in goals {
        let text = open(
            &person.row(g.id, g.city_id),
            GOALS,
            "text",
            &g.text_enc,
            g.id,
        )?
        .ok_or(ApiError::Gone)?;
        out.push(PlanGoal {
            id: g.id,
            dimension: g.dimension,
            text,
            actions: by_goal.remove(&g.id).unwrap_or_default(),
        });
    }
    Ok(Plan {
        id: row.id,
        case_id: row.case_id,
        city_id: row.city_id,
        version: row.version,
        status: row.status,
        previous_id: row.previous_id,
        author_id: row.author_id,
        created_at: time::to_utc(row.created_at),
        submitted_at: row.submitted_at.map(time::to_utc),
        decided_by: row.decided_by,
        decided_at: row.decided_at.map(time::to_utc),
        return_reason: open_opt(
            &person.row(row.id, row.city_id),
            TABLE,
            "return_reason",
            row.return_reason_enc.as_ref(),
            row.id,
        )?,
        goals: out,
    })
}

/// Re-seals every plan version of `case` for `city` (a transfer).
pub fn move_to_city(
    conn: &mut AnyConnection,
    keyring: &Keyring,
    case: CaseId,
    city: CityId,
) -> Result<usize, ApiError> {
    let rows: Vec<PlanRow> = plans::table
        .filter(plans::case_id.eq(case))
        .select(plans::all_columns)
        .load(conn)?;
    if rows.is_empty() {
        return Ok(0);
    }
    let person = keys(conn, keyring, case)?;
    for row in &rows {
        let (from, to) = (person.row(row.id, row.city_id), person.row(row.id, city));
        let reason = row
            .return_reason_enc
            .as_ref()
            .map(|s| reseal_text(&from, &to, TABLE, "return_reason", s, row.id))
            .transpose()?;
        diesel::update(plans::table.find(row.id))
            .set((
                plans::city_id.eq(city),
                plans::return_reason_enc.eq(reason),
                plans::row_version.eq(plans::row_version + 1),
            ))
            .execute(conn)?;
    }
    let goals: Vec<GoalRow> = plan_goals::table
        .filter(plan_goals::case_id.eq(case))
        .select(plan_goals::all_columns)
        .load(conn)?;
    for g in &goals {
        let (from, to) = (person.row(g.id, g.city_id), person.row(g.id, city));
        let text = reseal_text(&from, &to, GOALS, "text", &g.text_enc, g.id)?;
        diesel::update(plan_goals::table.find(g.id))
            .set((plan_goals::city_id.eq(city), plan_goals::text_enc.eq(text)))
            .execute(conn)?;
    }
    let actions: Vec<ActionRow> = plan_actions::table
        .filter(plan_actions::case_id.eq(case))
        .select(plan_actions::all_columns)
        .load(conn)?;
    for a in &actions {
        let (from, to) = (person.row(a.id, a.city_id), person.row(a.id, city));
        let text = reseal_text(&from, &to, ACTIONS, "text", &a.text_enc, a.id)?;
        diesel::update(plan_actions::table.find(a.id))
            .set((
                plan_actions::city_id.eq(city),
                plan_actions::text_enc.eq(text),
            ))
            .execute(conn)?;
    }
    Ok(rows.len())
}

/// Stores made-up plans, their goals and actions in batches (the demo
/// seed), parents first.
pub fn insert_many(
    conn: &mut AnyConnection,
    plans: &[PlanRow],
    goals: &[GoalRow],
    actions: &[ActionRow],
) -> Result<(), ApiError> {
    let rows: Vec<&PlanRow> = plans.iter().collect();
    crate::insert_batches!(conn, plans::table, rows, 13);
    let rows: Vec<&GoalRow> = goals.iter().collect();
    crate::insert_batches!(conn, plan_goals::table, rows, 7);
    let rows: Vec<&ActionRow> = actions.iter().collect();
    crate::insert_batches!(conn, plan_actions::table, rows, 11);
    Ok(())
}
