//! What the assessment routes take and give.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use validator::Validate;

use crate::domain::{
    AssessmentId, AssessmentState, CaseId, InstrumentId, ScoreDimension, Stage, UserId,
};

use super::instrument::{DimensionDefinition, Labels, Scores};

/// Answers: item key → answer key, e.g. `{"income_work": "regular"}`.
pub type Answers = BTreeMap<String, String>;

fn answers_valid(answers: &Answers) -> Result<(), validator::ValidationError> {
    let short = |s: &String| !s.is_empty() && s.chars().count() <= 40;
    if answers.len() <= 100 && answers.iter().all(|(k, v)| short(k) && short(v)) {
        Ok(())
    } else {
        Err(validator::ValidationError::new("answers").with_message(
            "must be at most 100 answers, each key and answer 1 to 40 characters".into(),
        ))
    }
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateAssessment {
    #[schema(value_type = String, format = Uuid)]
    pub instrument_id: InstrumentId,
    pub stage: Stage,
    /// What is known so far; a draft may be saved half answered.
    #[serde(default)]
    #[validate(custom(function = "answers_valid"))]
    #[schema(value_type = Object, example = json!({"income_work": "irregular", "food": "sometimes"}))]
    pub answers: Answers,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateAnswers {
    /// The draft's answers, replaced whole.
    #[validate(custom(function = "answers_valid"))]
    #[schema(value_type = Object, example = json!({"income_work": "regular", "debt": "about_income"}))]
    pub answers: Answers,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VoidAssessment {
    /// Why it no longer counts; kept encrypted with the case.
    #[validate(length(min = 1, max = 2000))]
    #[schema(
        min_length = 1,
        max_length = 2000,
        pattern = r"^[^\x00]*[^\x00\t\n\x0b\x0c\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000][^\x00]*$"
    )]
    pub reason: String,
}

/// Scores from 0 to 1, to one decimal.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, ToSchema)]
pub struct ScoreView {
    pub economic: f64,
    pub social: f64,
    pub psychosocial: f64,
    pub composite: f64,
}

impl ScoreView {
    pub fn of(scores: &Scores) -> ScoreView {
        let d = |tenths: i16| f64::from(tenths) / 10.0;
        ScoreView {
            economic: d(scores.economic),
            social: d(scores.social),
            psychosocial: d(scores.psychosocial),
            composite: d(scores.composite),
        }
    }

    /// `later` less `earlier`, dimension by dimension.
    pub fn change(earlier: &Scores, later: &Scores) -> ScoreView {
        let d = |dimension| f64::from(later.of(dimension) - earlier.of(dimension)) / 10.0;
        ScoreView {
            economic: d(ScoreDimension::Economic),
            social: d(ScoreDimension::Social),
            psychosocial: d(ScoreDimension::Psychosocial),
            composite: f64::from(later.composite - earlier.composite) / 10.0,
        }
    }
}

/// An assessment. Lists leave out its answers and void reason (null);
/// `GET /assessments/{id}` and the writes give them, decrypted.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AssessmentView {
    #[schema(value_type = String, format = Uuid)]
    pub id: AssessmentId,
    #[schema(value_type = String, format = Uuid)]
    pub case_id: CaseId,
    #[schema(value_type = String, format = Uuid)]
    pub instrument_id: InstrumentId,
    pub stage: Stage,
    pub state: AssessmentState,
    /// Computed by the server on submission; null for a draft.
    pub scores: Option<ScoreView>,
    /// Scores less the baseline's, for a scored follow-up or exit.
    pub change_since_baseline: Option<ScoreView>,
    #[schema(value_type = String, format = Uuid)]
    pub author_id: UserId,
    pub created_at: DateTime<Utc>,
    pub submitted_at: Option<DateTime<Utc>>,
    #[schema(value_type = Option<String>, format = Uuid)]
    pub reviewed_by: Option<UserId>,
    pub reviewed_at: Option<DateTime<Utc>>,
    pub voided_at: Option<DateTime<Utc>>,
    pub version: i64,
    #[schema(value_type = Option<Object>)]
    pub answers: Option<Answers>,
    /// Why it was voided, if it was (and only where answers are shown).
    pub void_reason: Option<String>,
}

/// A case's assessments, newest first, and when the next is due.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AssessmentList {
    pub items: Vec<AssessmentView>,
    /// When the next follow-up falls due (after the baseline, or the latest
    /// follow-up), while the case is open and has no exit assessment.
    pub next_due: Option<NaiveDate>,
    pub overdue: bool,
}

/// A published instrument version, without its items.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct InstrumentSummary {
    #[schema(value_type = String, format = Uuid)]
    pub id: InstrumentId,
    pub code: String,
    pub version: i32,
    pub title: Labels,
    pub published_at: DateTime<Utc>,
}

/// A published instrument version, whole.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct InstrumentView {
    #[schema(value_type = String, format = Uuid)]
    pub id: InstrumentId,
    pub version: i32,
    pub published_at: DateTime<Utc>,
    /// Null for the instrument built into Sanad.
    #[schema(value_type = Option<String>, format = Uuid)]
    pub published_by: Option<UserId>,
    pub code: String,
    pub title: Labels,
    pub description: Labels,
    pub dimensions: Vec<DimensionDefinition>,
}
