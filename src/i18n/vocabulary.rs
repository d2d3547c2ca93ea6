//! Every closed list of the API, each value with its label in every
//! language (`vocabulary.<list>.<value>` in the catalogs), for
//! `GET /api/v1/vocabularies`. The values come from the enums' own `ALL`
//! lists, so a new value without a label fails
//! `every_value_of_every_list_has_a_label_in_every_language`.

use serde::Serialize;
use utoipa::ToSchema;

use super::Lang;
use super::catalog::catalog;
use crate::audit::vocabulary as audit;
use crate::domain::account::{Approval, Approver, RequestKind, RequestStatus};
use crate::domain::closure::{ClosureReason, ClosureStatus};
use crate::domain::follow_up::{FollowUpKind, FollowUpStatus};
use crate::domain::plan::{ActionStatus, PlanDimension, PlanStatus};
use crate::domain::referral::Outcome;
use crate::domain::{
    AssessmentState, CaseStatus, ConsentGiver, Need, OrganisationKind, OriginKind, ReferralState,
    Role, ScoreDimension, Sex, Stage, TransferStatus, Transition, VulnerabilityFlag,
};
use crate::stats::design::{self, Dimension};
use crate::tasks::model::TaskSource;
use crate::transfers::model::Direction;

fn of<T: Copy>(all: &[T], name: fn(T) -> &'static str) -> Vec<&'static str> {
    all.iter().map(|v| name(*v)).collect()
}

/// Every closed list: its name and its values, in the order the code
/// declares them.
pub fn lists() -> Vec<(&'static str, Vec<&'static str>)> {
    vec![
        ("role", of(&Role::ALL, Role::as_str)),
        ("sex", of(Sex::ALL, Sex::as_str)),
        ("origin_kind", of(OriginKind::ALL, OriginKind::as_str)),
        (
            "vulnerability_flag",
            of(VulnerabilityFlag::ALL, VulnerabilityFlag::as_str),
        ),
        ("case_status", of(CaseStatus::ALL, CaseStatus::as_str)),
        ("consent_giver", of(ConsentGiver::ALL, ConsentGiver::as_str)),
        (
            "organisation_kind",
            of(OrganisationKind::ALL, OrganisationKind::as_str),
        ),
        (
            "referral_state",
            of(ReferralState::ALL, ReferralState::as_str),
        ),
        (
            "referral_transition",
            of(Transition::ALL, Transition::as_str),
        ),
        ("referral_outcome", of(Outcome::ALL, Outcome::as_str)),
        ("need", of(Need::ALL, Need::as_str)),
        (
            "closure_reason",
            of(ClosureReason::ALL, ClosureReason::as_str),
        ),
        (
            "closure_status",
            of(ClosureStatus::ALL, ClosureStatus::as_str),
        ),
        (
            "follow_up_kind",
            of(FollowUpKind::ALL, FollowUpKind::as_str),
        ),
        (
            "follow_up_status",
            of(FollowUpStatus::ALL, FollowUpStatus::as_str),
        ),
        ("task_source", of(&TaskSource::ALL, TaskSource::as_str)),
        (
            "plan_dimension",
            of(PlanDimension::ALL, PlanDimension::as_str),
        ),
        ("plan_status", of(PlanStatus::ALL, PlanStatus::as_str)),
        (
            "plan_action_status",
            of(ActionStatus::ALL, ActionStatus::as_str),
        ),
        (
            "transfer_status",
            of(TransferStatus::ALL, TransferStatus::as_str),
        ),
        ("transfer_direction", of(&Direction::ALL, Direction::as_str)),
        ("assessment_stage", of(Stage::ALL, Stage::as_str)),
        (
            "assessment_state",
            of(AssessmentState::ALL, AssessmentState::as_str),
        ),
        (
            "score_dimension",
            of(ScoreDimension::ALL, ScoreDimension::as_str),
        ),
        ("account_approval", of(Approval::ALL, Approval::as_str)),
        (
            "grant_request_kind",
            of(RequestKind::ALL, RequestKind::as_str),
        ),
        (
            "grant_request_status",
            of(RequestStatus::ALL, RequestStatus::as_str),
        ),
        ("approver", of(Approver::ALL, Approver::as_str)),
        ("age_band", design::AGE_BANDS.to_vec()),
        ("score_band", design::SCORE_BANDS.to_vec()),
        ("score_change", design::CHANGES.to_vec()),
        ("stats_dimension", of(&Dimension::ALL, Dimension::name)),
        (
            "audit_action",
            of(audit::Action::ALL, audit::Action::as_str),
        ),
        (
            "audit_outcome",
            of(audit::Outcome::ALL, audit::Outcome::as_str),
        ),
        (
            "audit_entity",
            of(audit::Entity::ALL, audit::Entity::as_str),
        ),
        (
            "audit_subject_kind",
            of(audit::SubjectKind::ALL, audit::SubjectKind::as_str),
        ),
    ]
}

/// Every closed list of the API, labelled.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "language": "ar",
    "languages": ["en", "ar", "ckb"],
    "lists": [{
        "name": "sex",
        "values": [
            {"value": "female", "label": "أنثى", "labels": {"en": "Female", "ar": "أنثى", "ckb": "مێ"}},
            {"value": "male", "label": "ذكر", "labels": {"en": "Male", "ar": "ذكر", "ckb": "نێر"}}
        ]
    }]
}))]
pub struct Vocabularies {
    /// The language of every `label` (from `Accept-Language`).
    pub language: Lang,
    /// Every language the API answers in.
    pub languages: Vec<Lang>,
    pub lists: Vec<Vocabulary>,
}

/// One closed list, e.g. `sex` or `referral_state`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Vocabulary {
    /// The list's name.
    #[schema(example = "sex")]
    pub name: &'static str,
    pub values: Vec<Term>,
}

/// One value of a list, as the API sends and accepts it, with its labels.
#[derive(Debug, Serialize, ToSchema)]
pub struct Term {
    /// The value itself; never translated.
    #[schema(example = "female")]
    pub value: &'static str,
    /// The label in the answer's language.
    #[schema(example = "Female")]
    pub label: String,
    pub labels: Labels,
}

/// A value's label in every language.
#[derive(Debug, Serialize, ToSchema)]
pub struct Labels {
    #[schema(example = "Female")]
    pub en: String,
    #[schema(example = "أنثى")]
    pub ar: String,
    #[schema(example = "مێ")]
    pub ckb: String,
}

/// The labelled lists in `lang`. A label missing from a catalog (a test
/// stops that from being shipped) falls back to the value itself.
pub fn vocabularies(lang: Lang) -> Vocabularies {
    let c = catalog();
    let label = |lang: Lang, list: &str, value: &str| {
        c.label(lang, list, value)
            .or_else(|| c.label(Lang::En, list, value))
            .unwrap_or(value)
            .to_string()
    };
    Vocabularies {
        language: lang,
        languages: Lang::ALL.to_vec(),
        lists: lists()
            .into_iter()
            .map(|(name, values)| Vocabulary {
                name,
                values: values
                    .into_iter()
                    .map(|value| Term {
                        value,
                        label: label(lang, name, value),
                        labels: Labels {
                            en: label(Lang::En, name, value),
                            ar: label(Lang::Ar, name, value),
                            ckb: label(Lang::Ckb, name, value),
                        },
                    })
                    .collect(),
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    #[test]
    fn every_value_of_every_list_has_a_label_in_every_language() {
        let c = catalog();
        let mut missing = Vec::new();
        let mut labelled = BTreeSet::new();
        for (list, values) in lists() {
            assert!(!values.is_empty(), "{list} is empty");
            for value in values {
                labelled.insert(format!(
                    "{}{list}.{value}",
                    super::super::catalog::VOCABULARY
                ));
                for lang in Lang::ALL {
                    if c.label(lang, list, value).is_none() {
                        missing.push(format!("{}: vocabulary.{list}.{value}", lang.tag()));
                    }
                }
            }
        }
        assert!(missing.is_empty(), "labels missing: {missing:#?}");
        // And no label for a value that no longer exists.
        let stale: Vec<_> = c
            .keys(Lang::En)
            .into_iter()
            .filter(|k| k.starts_with(super::super::catalog::VOCABULARY))
            .filter(|k| !labelled.contains(*k))
            .collect();
        assert!(stale.is_empty(), "labels of no value: {stale:?}");
    }
}
