//! Place and organisation rows and views.

use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use validator::Validate;

use crate::domain::{CityId, GovernorateId, OrganisationId, OrganisationKind};

#[derive(Debug, Clone, diesel::Queryable)]
pub struct GovernorateRow {
    pub id: GovernorateId,
    pub code: String,
    pub name_en: String,
    pub name_ar: String,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone, diesel::Queryable)]
pub struct CityRow {
    pub id: CityId,
    pub code: String,
    pub name_en: String,
    pub name_ar: String,
    pub governorate_id: GovernorateId,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone, diesel::Queryable)]
pub struct OrganisationRow {
    pub id: OrganisationId,
    pub name: String,
    pub kind: OrganisationKind,
    pub city_id: CityId,
    pub active: bool,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Governorate {
    #[schema(value_type = String, format = Uuid)]
    pub id: GovernorateId,
    pub code: String,
    pub name_en: String,
    pub name_ar: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct City {
    #[schema(value_type = String, format = Uuid)]
    pub id: CityId,
    pub code: String,
    pub name_en: String,
    pub name_ar: String,
    #[schema(value_type = String, format = Uuid)]
    pub governorate_id: GovernorateId,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Organisation {
    #[schema(value_type = String, format = Uuid)]
    pub id: OrganisationId,
    pub name: String,
    pub kind: OrganisationKind,
    #[schema(value_type = String, format = Uuid)]
    pub city_id: CityId,
    pub active: bool,
}

fn code_chars(code: &str) -> Result<(), validator::ValidationError> {
    if code
        .chars()
        .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '-')
    {
        Ok(())
    } else {
        let mut err = validator::ValidationError::new("code");
        err.message = Some("may hold only A-Z, 0-9 and '-'".into());
        Err(err)
    }
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateGovernorate {
    /// ISO 3166-2 style, e.g. `IQ-NI`.
    #[validate(length(min = 2, max = 16), custom(function = "code_chars"))]
    #[schema(min_length = 2, max_length = 16, pattern = "^[A-Z0-9-]+$")]
    pub code: String,
    #[validate(length(min = 1, max = 120))]
    #[schema(min_length = 1, max_length = 120)]
    pub name_en: String,
    #[validate(length(min = 1, max = 120))]
    #[schema(min_length = 1, max_length = 120)]
    pub name_ar: String,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateCity {
    /// Short code used in case numbers, e.g. `MOS`.
    #[validate(length(min = 2, max = 8), custom(function = "code_chars"))]
    #[schema(min_length = 2, max_length = 8, pattern = "^[A-Z0-9-]+$")]
    pub code: String,
    #[validate(length(min = 1, max = 120))]
    #[schema(min_length = 1, max_length = 120)]
    pub name_en: String,
    #[validate(length(min = 1, max = 120))]
    #[schema(min_length = 1, max_length = 120)]
    pub name_ar: String,
    /// A governorate that exists.
    #[schema(value_type = String, format = Uuid)]
    pub governorate_id: GovernorateId,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateOrganisation {
    #[validate(length(min = 1, max = 200))]
    #[schema(min_length = 1, max_length = 200)]
    pub name: String,
    pub kind: OrganisationKind,
    /// A city that exists.
    #[schema(value_type = String, format = Uuid)]
    pub city_id: CityId,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateOrganisation {
    #[validate(length(min = 1, max = 200))]
    #[schema(min_length = 1, max_length = 200)]
    pub name: Option<String>,
    pub active: Option<bool>,
}

#[derive(Debug, Deserialize, Validate, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct OrganisationQuery {
    pub kind: Option<OrganisationKind>,
    #[param(value_type = Option<String>, format = Uuid)]
    pub city_id: Option<CityId>,
}

impl From<GovernorateRow> for Governorate {
    fn from(r: GovernorateRow) -> Governorate {
        Governorate {
            id: r.id,
            code: r.code,
            name_en: r.name_en,
            name_ar: r.name_ar,
        }
    }
}

impl From<CityRow> for City {
    fn from(r: CityRow) -> City {
        City {
            id: r.id,
            code: r.code,
            name_en: r.name_en,
            name_ar: r.name_ar,
            governorate_id: r.governorate_id,
        }
    }
}

#[cfg(test)]
mod properties {
    use proptest::prelude::*;

    use super::*;
    use crate::error::ApiError;
    use crate::web::extract::parse_json;

    proptest! {
        /// City codes and names of any text: a city or named fields.
        #[test]
        fn any_city_input_is_a_city_or_named_fields(
            code in "\\PC{0,12}|[A-Z0-9-]{0,10}",
            name_en in "\\PC{0,130}",
            name_ar in "[\\u0621-\\u064A ]{0,130}",
        ) {
            let body = serde_json::json!({
                "code": code, "name_en": name_en, "name_ar": name_ar,
                "governorate_id": "6f0c3a52-1b7e-4c2d-9a8f-0e1d2c3b4a59",
            });
            match parse_json::<CreateCity>(body.to_string().as_bytes()) {
                Ok(city) => prop_assert!(city.code.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '-')),
                Err(ApiError::Validation(errors)) => {
                    for e in errors {
                        prop_assert!(["code", "name_en", "name_ar"].contains(&e.field.as_str()), "{}", e.field);
                    }
                }
                Err(other) => prop_assert!(false, "unexpected {other:?}"),
            }
        }
    }
}
