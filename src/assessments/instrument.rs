//! An assessment instrument: items grouped by the three dimensions of
//! reintegration, each item with its answer scale and the value (0 to 1)
//! of each answer, and the weights that combine items into a dimension
//! score and dimensions into a composite. A published version never
//! changes; `score` is the one place answers become scores.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::domain::ScoreDimension;
use crate::error::FieldError;

/// How far a set of weights may be from summing to one.
const WEIGHT_TOLERANCE: f64 = 1e-6;

/// A text in each language of the deployment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Labels {
    /// English
    pub en: String,
    /// Arabic
    pub ar: String,
    /// Kurdish (Sorani)
    pub ckb: String,
}

/// One answer of an item's scale.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AnswerOption {
    /// The answer as sent in an assessment, e.g. `regular`.
    #[schema(example = "regular")]
    pub key: String,
    /// Its value in the item's score, from 0 (worst) to 1 (best).
    pub value: f64,
    pub label: Labels,
}

/// One question.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Item {
    /// Unique within the instrument, e.g. `income_work`.
    #[schema(example = "income_work")]
    pub key: String,
    pub label: Labels,
    /// Its weight within its dimension; a dimension's weights sum to one.
    pub weight: f64,
    /// An optional item may be left unanswered (not applicable); the
    /// dimension's score is then over the items answered.
    #[serde(default = "required_by_default")]
    pub required: bool,
    /// At least two.
    pub answers: Vec<AnswerOption>,
}

fn required_by_default() -> bool {
    true
}

/// One dimension of reintegration and its items.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DimensionDefinition {
    pub key: ScoreDimension,
    pub label: Labels,
    /// Its weight in the composite; the three sum to one.
    pub weight: f64,
    pub items: Vec<Item>,
}

/// What an administrator publishes: a new version of an instrument. Its
/// rules are in [`Definition::check`] (they span fields).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema, validator::Validate)]
#[serde(deny_unknown_fields)]
pub struct Definition {
    /// Names the instrument across its versions, e.g. `sanad-reintegration`.
    #[schema(example = "sanad-reintegration", pattern = "^[a-z0-9][a-z0-9-]{2,39}$")]
    pub code: String,
    pub title: Labels,
    pub description: Labels,
    /// Exactly the three dimensions: economic, social, psychosocial.
    pub dimensions: Vec<DimensionDefinition>,
}

/// The default instrument, compiled into the binary.
pub const DEFAULT: &str = include_str!("default_instrument.json");

/// Scores of one assessment, in tenths (0 to 10): what is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Scores {
    pub economic: i16,
    pub social: i16,
    pub psychosocial: i16,
    pub composite: i16,
}

impl Scores {
    pub fn of(&self, dimension: ScoreDimension) -> i16 {
        match dimension {
            ScoreDimension::Economic => self.economic,
            ScoreDimension::Social => self.social,
            ScoreDimension::Psychosocial => self.psychosocial,
        }
    }
}

fn plain_key(key: &str, max: usize) -> bool {
    let mut bytes = key.bytes();
    bytes.next().is_some_and(|b| b.is_ascii_lowercase())
        && key.len() <= max
        && bytes.all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

fn check_labels(labels: &Labels, at: &str, max: usize, errors: &mut Vec<FieldError>) {
    for (lang, text) in [("en", &labels.en), ("ar", &labels.ar), ("ckb", &labels.ckb)] {
        let chars = text.chars().count();
        if text.trim().is_empty() {
            errors.push(FieldError::new(format!("{at}.{lang}"), "must not be blank"));
        } else if chars > max {
            errors.push(FieldError::new(
                format!("{at}.{lang}"),
                format!("must be at most {max} characters"),
            ));
        } else if text.contains('\0') {
            errors.push(FieldError::new(
                format!("{at}.{lang}"),
                "must not contain U+0000",
            ));
        }
    }
}

fn sums_to_one(weights: impl Iterator<Item = f64>) -> bool {
    (weights.sum::<f64>() - 1.0).abs() <= WEIGHT_TOLERANCE
}

impl Definition {
    /// Every rule a published version must meet, each failure named by its
    /// path (`dimensions[1].items[0].weight`): the three dimensions once
    /// each; at least one required item in each; keys plain and unique;
    /// every item scored (two answers or more, each valued 0 to 1, keys
    /// unique); weights positive, within a dimension and across dimensions
    /// summing to one; every label in the three languages.
    pub fn check(&self) -> Result<(), Vec<FieldError>> {
        let mut errors = Vec::new();
        let code_ok = self.code.len() >= 3
            && self.code.len() <= 40
            && self
                .code
                .bytes()
                .next()
                .is_some_and(|b| b.is_ascii_alphanumeric())
            && self
                .code
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if !code_ok {
            errors.push(FieldError::new(
                "code",
                "must be 3 to 40 lower-case letters, digits and dashes",
            ));
        }
        check_labels(&self.title, "title", 200, &mut errors);
        check_labels(&self.description, "description", 2000, &mut errors);
        let keys: Vec<ScoreDimension> = self.dimensions.iter().map(|d| d.key).collect();
        let distinct: BTreeSet<ScoreDimension> = keys.iter().copied().collect();
        if keys.len() != ScoreDimension::ALL.len() || distinct.len() != keys.len() {
            errors.push(FieldError::new(
                "dimensions",
                "must be economic, social and psychosocial, once each",
            ));
        }
        if !sums_to_one(self.dimensions.iter().map(|d| d.weight)) {
            errors.push(FieldError::new("dimensions", "weights must sum to one"));
        }
        let mut item_keys = BTreeSet::new();
        for (d, dimension) in self.dimensions.iter().enumerate() {
            let at = format!("dimensions[{d}]");
            check_labels(&dimension.label, &format!("{at}.label"), 200, &mut errors);
            if !(dimension.weight > 0.0 && dimension.weight <= 1.0) {
                errors.push(FieldError::new(
                    format!("{at}.weight"),
                    "must be above 0 and at most 1",
                ));
            }
            if !dimension.items.iter().any(|i| i.required) {
                errors.push(FieldError::new(
                    format!("{at}.items"),
                    "must hold a required item",
                ));
            }
            if !sums_to_one(dimension.items.iter().map(|i| i.weight)) {
                errors.push(FieldError::new(
                    format!("{at}.items"),
                    "weights must sum to one",
                ));
            }
            for (i, item) in dimension.items.iter().enumerate() {
                let at = format!("{at}.items[{i}]");
                if !plain_key(&item.key, 40) {
                    errors.push(FieldError::new(
                        format!("{at}.key"),
                        "must be up to 40 lower-case letters, digits and underscores, starting with a letter",
                    ));
                } else if !item_keys.insert(item.key.clone()) {
                    errors.push(FieldError::new(
                        format!("{at}.key"),
                        "is used by another item",
                    ));
                }
                check_labels(&item.label, &format!("{at}.label"), 500, &mut errors);
                if !(item.weight > 0.0 && item.weight <= 1.0) {
                    errors.push(FieldError::new(
                        format!("{at}.weight"),
                        "must be above 0 and at most 1",
                    ));
                }
                if item.answers.len() < 2 || item.answers.len() > 20 {
                    errors.push(FieldError::new(
                        format!("{at}.answers"),
                        "must be 2 to 20 answers",
                    ));
                }
                let mut answer_keys = BTreeSet::new();
                for (a, answer) in item.answers.iter().enumerate() {
                    let at = format!("{at}.answers[{a}]");
                    if !plain_key(&answer.key, 40) {
                        errors.push(FieldError::new(
                            format!("{at}.key"),
                            "must be up to 40 lower-case letters, digits and underscores, starting with a letter",
                        ));
                    } else if !answer_keys.insert(answer.key.clone()) {
                        errors.push(FieldError::new(
                            format!("{at}.key"),
                            "is used by another answer",
                        ));
                    }
                    if !(0.0..=1.0).contains(&answer.value) {
                        errors.push(FieldError::new(
                            format!("{at}.value"),
                            "must be from 0 to 1",
                        ));
                    }
                    check_labels(&answer.label, &format!("{at}.label"), 200, &mut errors);
                }
            }
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }

    fn item(&self, key: &str) -> Option<&Item> {
        self.dimensions
            .iter()
            .flat_map(|d| d.items.iter())
            .find(|i| i.key == key)
    }

    /// Answers as a draft may hold them: each names an item of this
    /// instrument and one of its answers. Missing items are not checked
    /// here (see [`Definition::score`]). Errors are on `answers.<item>`,
    /// or `answers` for an item key that is not a plain name.
    pub fn check_answers(&self, answers: &BTreeMap<String, String>) -> Result<(), Vec<FieldError>> {
        let mut errors = Vec::new();
        for (key, answer) in answers {
            let field = if plain_key(key, 40) {
                format!("answers.{key}")
            } else {
                "answers".to_string()
            };
            match self.item(key) {
                None => errors.push(FieldError::new(field, "is not an item of this instrument")),
                Some(item) if !item.answers.iter().any(|a| &a.key == answer) => {
                    let keys: Vec<&str> = item.answers.iter().map(|a| a.key.as_str()).collect();
                    errors.push(FieldError::new(
                        field,
                        format!("must be one of {keys}", keys = keys.join(", ")),
                    ));
                }
                Some(_) => {}
            }
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }

    /// The scores of complete answers. Each dimension's score is the
    /// weighted mean of its answered items' values (weights renormalised
    /// over the items answered, so an optional item left unanswered does
    /// not count as zero); the composite is the weighted sum of the
    /// dimension scores; each is rounded to one decimal (stored in tenths).
    /// A required item unanswered is an error on `answers.<item>`.
    pub fn score(&self, answers: &BTreeMap<String, String>) -> Result<Scores, Vec<FieldError>> {
        self.check_answers(answers)?;
        let mut errors = Vec::new();
        let mut by_dimension: BTreeMap<ScoreDimension, f64> = BTreeMap::new();
        for dimension in &self.dimensions {
            let (mut sum, mut weights) = (0.0, 0.0);
            for item in &dimension.items {
                match answers.get(&item.key) {
                    Some(answer) => {
                        let value = item
                            .answers
                            .iter()
                            .find(|a| &a.key == answer)
                            .map_or(0.0, |a| a.value);
                        sum += item.weight * value;
                        weights += item.weight;
                    }
                    None if item.required => errors.push(FieldError::new(
                        format!("answers.{}", item.key),
                        "is required",
                    )),
                    None => {}
                }
            }
            by_dimension.insert(
                dimension.key,
                if weights > 0.0 { sum / weights } else { 0.0 },
            );
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        let composite: f64 = self
            .dimensions
            .iter()
            .map(|d| d.weight * by_dimension.get(&d.key).copied().unwrap_or(0.0))
            .sum();
        let tenths = |x: f64| (x * 10.0).round().clamp(0.0, 10.0) as i16;
        let of = |d| tenths(by_dimension.get(&d).copied().unwrap_or(0.0));
        Ok(Scores {
            economic: of(ScoreDimension::Economic),
            social: of(ScoreDimension::Social),
            psychosocial: of(ScoreDimension::Psychosocial),
            composite: tenths(composite),
        })
    }
}

/// The default instrument's definition.
pub fn default_definition() -> Result<Definition, serde_json::Error> {
    serde_json::from_str(DEFAULT)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answers(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn the_default_instrument_meets_every_rule() {
        let definition = default_definition().unwrap();
        definition.check().unwrap();
        assert!(
            definition
                .description
                .en
                .contains("not IOM's official instrument")
        );
        let items: usize = definition.dimensions.iter().map(|d| d.items.len()).sum();
        assert_eq!(items, 13);
    }

    #[test]
    fn scores_are_weighted_means_rounded_to_tenths() {
        let definition = default_definition().unwrap();
        // Economic: regular (1), about_income (0.5), sometimes (0.5) → 2/3.
        // Social, schooling not applicable: secure (1), some (0.5),
        // yes (1) over three equal weights → 5/6.
        // Psychosocial: 0, 0.5, 1, 0.5, 1, 1 over six → 4/6.
        // Composite: (2/3 + 5/6 + 4/6) / 3 = 13/18 = 0.722…
        let scores = definition
            .score(&answers(&[
                ("income_work", "regular"),
                ("debt", "about_income"),
                ("food", "sometimes"),
                ("housing", "secure"),
                ("documents", "some"),
                ("services_health", "yes"),
                ("participation", "never"),
                ("support_network", "one_person"),
                ("discrimination", "never"),
                ("distress", "some_days"),
                ("safety", "yes"),
                ("wish_to_stay", "wish_to_stay"),
            ]))
            .unwrap();
        assert_eq!(
            scores,
            Scores {
                economic: 7,
                social: 8,
                psychosocial: 7,
                composite: 7
            }
        );
    }

    #[test]
    fn wrong_answers_are_named_by_item() {
        let definition = default_definition().unwrap();
        let unknown = definition
            .check_answers(&answers(&[("tribe", "x"), ("food", "always")]))
            .unwrap_err();
        let fields: Vec<&str> = unknown.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, vec!["answers.food", "answers.tribe"]);
        assert!(unknown[0].message.contains("often, sometimes, never"));
        let missing = definition
            .score(&answers(&[("food", "never")]))
            .unwrap_err();
        assert!(
            missing
                .iter()
                .any(|e| e.field == "answers.income_work" && e.message == "is required")
        );
        assert!(
            !missing
                .iter()
                .any(|e| e.field == "answers.children_schooling"),
            "optional"
        );
        let odd = definition
            .check_answers(&answers(&[("Fatima Ahmed", "x")]))
            .unwrap_err();
        assert_eq!(
            odd[0].field, "answers",
            "a key that is not a plain name is not echoed"
        );
    }

    #[test]
    fn a_definition_that_breaks_a_rule_is_refused_naming_the_path() {
        let mut definition = default_definition().unwrap();
        definition.dimensions[1].items[0].weight = 0.5;
        definition.dimensions[2].items[3].answers[1].value = 1.5;
        definition.dimensions[0].items[1].key = "income_work".into();
        definition.dimensions[0].label.ckb = " ".into();
        let errors = definition.check().unwrap_err();
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        for expected in [
            "dimensions[1].items",
            "dimensions[2].items[3].answers[1].value",
            "dimensions[0].items[1].key",
            "dimensions[0].label.ckb",
        ] {
            assert!(fields.contains(&expected), "{expected} in {fields:?}");
        }
        let mut two = default_definition().unwrap();
        two.dimensions.pop();
        assert!(
            two.check()
                .unwrap_err()
                .iter()
                .any(|e| e.field == "dimensions")
        );
    }
}
