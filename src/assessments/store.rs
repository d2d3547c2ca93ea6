//! Assessments in the database: answers sealed with the person's key and
//! bound to the assessment's id and city, scores computed here on
//! submission and kept in tenths, the life cycle as conditional updates.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use crate::audit::Entity;
use crate::auth::guard::CityRow;
use crate::cases::data_keys;
use crate::cases::lifecycle::reseal_text;
use crate::cases::row::CaseRow;
use crate::cases::sealing::open;
use crate::crypto::{FieldCipher, Keyring, PersonKeys, Sealed};
use crate::db::schema::assessments;
use crate::db::{AnyConnection, lock_row_and_case};
use crate::domain::{
    AssessmentId, AssessmentState, CaseId, CaseStatus, CityId, InstrumentId, NonBlank, Stage,
    UserId, time,
};
use crate::error::ApiError;

use super::instrument::Scores;
use super::instruments;
use super::model::{Answers, AssessmentList, AssessmentView, ScoreView};

pub const TABLE: &str = "assessments";

/// One row of `assessments`.
#[derive(Debug, Clone, Queryable, Insertable)]
#[diesel(table_name = assessments, treat_none_as_default_value = false)]
pub struct AssessmentRow {
    pub id: AssessmentId,
    pub case_id: CaseId,
    pub city_id: CityId,
    pub instrument_id: InstrumentId,
    pub stage: Stage,
    pub state: AssessmentState,
    pub answers_enc: Sealed,
    pub score_economic: Option<i16>,
    pub score_social: Option<i16>,
    pub score_psychosocial: Option<i16>,
    pub score_composite: Option<i16>,
    pub void_reason_enc: Option<Sealed>,
    pub author_id: UserId,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub submitted_at: Option<NaiveDateTime>,
    pub reviewed_by: Option<UserId>,
    pub reviewed_at: Option<NaiveDateTime>,
    pub voided_by: Option<UserId>,
    pub voided_at: Option<NaiveDateTime>,
    pub version: i64,
}

impl AssessmentRow {
    pub fn scores(&self) -> Option<Scores> {
        Some(Scores {
            economic: self.score_economic?,
            social: self.score_social?,
            psychosocial: self.score_psychosocial?,
            composite: self.score_composite?,
        })
    }
}

/// An assessment is held in its case's city; its case is locked first.
impl CityRow for AssessmentRow {
    type Id = AssessmentId;
    const ENTITY: Entity = Entity::Assessment;

    fn find_for_update(
        conn: &mut AnyConnection,
        id: AssessmentId,
    ) -> Result<Option<AssessmentRow>, ApiError> {
        lock_row_and_case(conn, TABLE, id.into())?;
        find(conn, id)
    }

    fn id(&self) -> AssessmentId {
        self.id
    }

    fn city(&self) -> CityId {
        self.city_id
    }
}

pub fn find(conn: &mut AnyConnection, id: AssessmentId) -> Result<Option<AssessmentRow>, ApiError> {
    Ok(assessments::table
        .find(id)
        .select(assessments::all_columns)
        .first(conn)
        .optional()?)
}

fn keys(conn: &mut AnyConnection, keyring: &Keyring, case: CaseId) -> Result<PersonKeys, ApiError> {
    data_keys::load_live(conn, keyring, case)
}

fn seal_answers(cipher: &FieldCipher<'_>, answers: &Answers) -> Result<Sealed, ApiError> {
    let text = serde_json::to_string(answers).map_err(ApiError::internal)?;
    cipher
        .seal_text(TABLE, "answers", &text)
        .map_err(ApiError::internal)
}

fn open_answers(person: &PersonKeys, row: &AssessmentRow) -> Result<Answers, ApiError> {
    let cipher = person.row(row.id, row.city_id);
    let text = open(&cipher, TABLE, "answers", &row.answers_enc, row.id)?.ok_or(ApiError::Gone)?;
    serde_json::from_str(&text).map_err(|_| {
        ApiError::internal(anyhow::anyhow!(
            "assessment {} holds unreadable answers",
            row.id
        ))
    })
}

/// The baseline of a case that still counts (not voided), if any.
fn baseline(conn: &mut AnyConnection, case: CaseId) -> Result<Option<AssessmentRow>, ApiError> {
    Ok(assessments::table
        .filter(assessments::case_id.eq(case))
        .filter(assessments::stage.eq(Stage::Baseline))
        .filter(assessments::state.ne(AssessmentState::Voided))
        .select(assessments::all_columns)
        .first(conn)
        .optional()?)
}

/// A new draft. A case has one baseline; a follow-up or exit needs it
/// first; a closed case takes none (409). The answers are checked against
/// the instrument (422 naming the item).
pub fn create(
    conn: &mut AnyConnection,
    keyring: &Keyring,
    case: &CaseRow,
    instrument: InstrumentId,
    stage: Stage,
    answers: &Answers,
    author: UserId,
) -> Result<AssessmentRow, ApiError> {
    if case.status == CaseStatus::Closed {
        return Err(ApiError::Conflict(
            "The case is closed; reopen it first.".into(),
        ));
    }
    let definition = instruments::find(conn, instrument)?
        .ok_or_else(|| ApiError::field("instrument_id", "is not a published instrument"))?
        .definition()?;
    definition
        .check_answers(answers)
        .map_err(ApiError::Validation)?;
    match (stage, baseline(conn, case.id)?) {
        (Stage::Baseline, Some(_)) => {
            return Err(ApiError::Conflict(
                "The case has a baseline already; void it to make another.".into(),
            ));
        }
        (Stage::FollowUp | Stage::Exit, None) => {
            return Err(ApiError::Conflict(
                "A follow-up or exit assessment needs the case's baseline first.".into(),
            ));
        }
        // The change since the baseline compares like with like.
        (Stage::FollowUp | Stage::Exit, Some(base)) if base.instrument_id != instrument => {
            return Err(ApiError::field(
                "instrument_id",
                "must be the instrument of the case's baseline",
            ));
        }
        _ => {}
    }
    let person = keys(conn, keyring, case.id)?;
    let id = AssessmentId::new();
    let now = time::now();
    let row = AssessmentRow {
        id,
        case_id: case.id,
        city_id: case.city_id,
        instrument_id: instrument,
        stage,
        state: AssessmentState::Draft,
        answers_enc: seal_answers(&person.row(id, case.city_id), answers)?,
        score_economic: None,
        score_social: None,
        score_psychosocial: None,
        score_composite: None,
        void_reason_enc: None,
        author_id: author,
        created_at: now,
        updated_at: now,
        submitted_at: None,
        reviewed_by: None,
        reviewed_at: None,
        voided_by: None,
        voided_at: None,
        version: 1,
    };
    diesel::insert_into(assessments::table)
        .values(&row)
        .execute(conn)?;
    Ok(row)
}

/// `Err` with the state the assessment is in, when that is not `state`.
fn only_in(row: &AssessmentRow, state: AssessmentState) -> Result<(), &'static str> {
    if row.state == state {
        Ok(())
    } else {
        Err(row.state.as_str())
    }
}

/// Replaces a draft's answers.
pub fn update_answers(
    conn: &mut AnyConnection,
    keyring: &Keyring,
    row: &AssessmentRow,
    answers: &Answers,
) -> Result<AssessmentRow, ApiError> {
    only_in(row, AssessmentState::Draft).map_err(|state| {
        ApiError::Conflict(format!(
            "The assessment is {state}; only a draft's answers can change."
        ))
    })?;
    let definition = instruments::find(conn, row.instrument_id)?
        .ok_or(ApiError::NotFound)?
        .definition()?;
    definition
        .check_answers(answers)
        .map_err(ApiError::Validation)?;
    let person = keys(conn, keyring, row.case_id)?;
    let sealed = seal_answers(&person.row(row.id, row.city_id), answers)?;
    diesel::update(assessments::table.find(row.id))
        .set((
            assessments::answers_enc.eq(sealed),
            assessments::updated_at.eq(time::now()),
            assessments::version.eq(assessments::version + 1),
        ))
        .execute(conn)?;
    find(conn, row.id)?.ok_or(ApiError::NotFound)
}

/// Scores a complete draft (422 naming each required item unanswered) and
/// submits it.
pub fn submit(
    conn: &mut AnyConnection,
    keyring: &Keyring,
    row: &AssessmentRow,
) -> Result<AssessmentRow, ApiError> {
    only_in(row, AssessmentState::Draft).map_err(|state| {
        ApiError::Conflict(format!(
            "The assessment is {state}; only a draft can be submitted."
        ))
    })?;
    let definition = instruments::find(conn, row.instrument_id)?
        .ok_or(ApiError::NotFound)?
        .definition()?;
    let person = keys(conn, keyring, row.case_id)?;
    let scores = definition
        .score(&open_answers(&person, row)?)
        .map_err(ApiError::Validation)?;
    let now = time::now();
    diesel::update(assessments::table.find(row.id))
        .set((
            assessments::state.eq(AssessmentState::Submitted),
            assessments::score_economic.eq(scores.economic),
            assessments::score_social.eq(scores.social),
            assessments::score_psychosocial.eq(scores.psychosocial),
            assessments::score_composite.eq(scores.composite),
            assessments::submitted_at.eq(now),
            assessments::updated_at.eq(now),
            assessments::version.eq(assessments::version + 1),
        ))
        .execute(conn)?;
    find(conn, row.id)?.ok_or(ApiError::NotFound)
}

/// A submitted assessment reviewed by a supervisor who did not write it.
pub fn review(
    conn: &mut AnyConnection,
    row: &AssessmentRow,
    reviewer: UserId,
) -> Result<AssessmentRow, ApiError> {
    only_in(row, AssessmentState::Submitted).map_err(|state| {
        ApiError::Conflict(format!(
            "The assessment is {state}; only a submitted one can be reviewed."
        ))
    })?;
    let now = time::now();
    diesel::update(assessments::table.find(row.id))
        .set((
            assessments::state.eq(AssessmentState::Reviewed),
            assessments::reviewed_by.eq(reviewer),
            assessments::reviewed_at.eq(now),
            assessments::updated_at.eq(now),
            assessments::version.eq(assessments::version + 1),
        ))
        .execute(conn)?;
    find(conn, row.id)?.ok_or(ApiError::NotFound)
}

/// Voids an assessment (any state but voided), with a sealed reason.
pub fn void(
    conn: &mut AnyConnection,
    keyring: &Keyring,
    row: &AssessmentRow,
    by: UserId,
    reason: &NonBlank,
) -> Result<AssessmentRow, ApiError> {
    if row.state == AssessmentState::Voided {
        return Err(ApiError::Conflict(
            "The assessment is voided already.".into(),
        ));
    }
    let person = keys(conn, keyring, row.case_id)?;
    let sealed = person
        .row(row.id, row.city_id)
        .seal_text(TABLE, "void_reason", reason.trimmed())
        .map_err(ApiError::internal)?;
    let now = time::now();
    diesel::update(assessments::table.find(row.id))
        .set((
            assessments::state.eq(AssessmentState::Voided),
            assessments::void_reason_enc.eq(Some(sealed)),
            assessments::voided_by.eq(by),
            assessments::voided_at.eq(now),
            assessments::updated_at.eq(now),
            assessments::version.eq(assessments::version + 1),
        ))
        .execute(conn)?;
    find(conn, row.id)?.ok_or(ApiError::NotFound)
}

fn view(row: &AssessmentRow, baseline: Option<&AssessmentRow>) -> AssessmentView {
    let scores = row.scores();
    let change = match (row.stage, scores, baseline.and_then(AssessmentRow::scores)) {
        (Stage::FollowUp | Stage::Exit, Some(now), Some(base)) if row.state.is_scored() => {
            Some(ScoreView::change(&base, &now))
        }
        _ => None,
    };
    AssessmentView {
        id: row.id,
        case_id: row.case_id,
        instrument_id: row.instrument_id,
        stage: row.stage,
        state: row.state,
        scores: scores.as_ref().map(ScoreView::of),
        change_since_baseline: change,
        author_id: row.author_id,
        created_at: time::to_utc(row.created_at),
        submitted_at: row.submitted_at.map(time::to_utc),
        reviewed_by: row.reviewed_by,
        reviewed_at: row.reviewed_at.map(time::to_utc),
        voided_at: row.voided_at.map(time::to_utc),
        version: row.version,
        answers: None,
        void_reason: None,
    }
}

/// One assessment with its answers (and void reason), decrypted.
pub fn view_whole(
    conn: &mut AnyConnection,
    keyring: &Keyring,
    row: &AssessmentRow,
) -> Result<AssessmentView, ApiError> {
    let person = keys(conn, keyring, row.case_id)?;
    let base = baseline(conn, row.case_id)?;
    let mut whole = view(row, base.as_ref());
    whole.answers = Some(open_answers(&person, row)?);
    whole.void_reason = match &row.void_reason_enc {
        Some(sealed) => open(
            &person.row(row.id, row.city_id),
            TABLE,
            "void_reason",
            sealed,
            row.id,
        )?,
        None => None,
    };
    Ok(whole)
}

/// A case's assessments, newest first, and when the next follow-up falls
/// due: `follow_up_days` after the baseline or latest follow-up was
/// submitted, while the case is open and has no scored exit.
pub fn list(
    conn: &mut AnyConnection,
    case: &CaseRow,
    follow_up_days: u32,
    today: NaiveDate,
) -> Result<AssessmentList, ApiError> {
    let rows: Vec<AssessmentRow> = assessments::table
        .filter(assessments::case_id.eq(case.id))
        .order((assessments::created_at.desc(), assessments::id.desc()))
        .select(assessments::all_columns)
        .load(conn)?;
    let base = rows
        .iter()
        .find(|r| r.stage == Stage::Baseline && r.state != AssessmentState::Voided);
    let scored = |r: &&AssessmentRow| r.state.is_scored();
    let exited = rows.iter().filter(scored).any(|r| r.stage == Stage::Exit);
    let last = rows
        .iter()
        .filter(scored)
        .filter(|r| r.stage != Stage::Exit)
        .filter_map(|r| r.submitted_at)
        .max();
    let next_due = match (last, exited, case.status) {
        (Some(at), false, CaseStatus::Open | CaseStatus::Active) => {
            Some(at.date() + chrono::Duration::days(i64::from(follow_up_days)))
        }
        _ => None,
    };
    Ok(AssessmentList {
        items: rows.iter().map(|r| view(r, base)).collect(),
        overdue: next_due.is_some_and(|due| due < today),
        next_due,
    })
}

/// Stores many rows at once (the demo seed), in as few statements as the
/// backend allows.
pub fn insert_many(conn: &mut AnyConnection, rows: &[AssessmentRow]) -> Result<(), ApiError> {
    let rows: Vec<&AssessmentRow> = rows.iter().collect();
    crate::insert_batches!(conn, assessments::table, rows, 21);
    Ok(())
}

/// Moves a case's assessments to another city with the case, re-sealing
/// what is sealed. Runs inside the transfer's transaction.
pub fn move_to_city(
    conn: &mut AnyConnection,
    keyring: &Keyring,
    case: &CaseRow,
    city: CityId,
) -> Result<usize, ApiError> {
    let rows: Vec<AssessmentRow> = assessments::table
        .filter(assessments::case_id.eq(case.id))
        .select(assessments::all_columns)
        .load(conn)?;
    if rows.is_empty() {
        return Ok(0);
    }
    let person = keys(conn, keyring, case.id)?;
    for row in &rows {
        let (from, to) = (person.row(row.id, row.city_id), person.row(row.id, city));
        let void_reason = row
            .void_reason_enc
            .as_ref()
            .map(|s| reseal_text(&from, &to, TABLE, "void_reason", s, row.id))
            .transpose()?;
        diesel::update(assessments::table.find(row.id))
            .set((
                assessments::city_id.eq(city),
                assessments::answers_enc.eq(reseal_text(
                    &from,
                    &to,
                    TABLE,
                    "answers",
                    &row.answers_enc,
                    row.id,
                )?),
                assessments::void_reason_enc.eq(void_reason),
                assessments::version.eq(assessments::version + 1),
            ))
            .execute(conn)?;
    }
    Ok(rows.len())
}
