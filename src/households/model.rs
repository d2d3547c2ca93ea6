//! What the household routes accept and answer.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use validator::Validate;

use crate::cases::model::CaseSummary;
use crate::domain::{CityId, HouseholdId};

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateHousehold {
    #[schema(value_type = String, format = Uuid)]
    pub city_id: CityId,
    /// A worker's label for the household; encrypted.
    #[validate(length(min = 1, max = 200))]
    #[schema(min_length = 1, max_length = 200)]
    pub label: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Household {
    #[schema(value_type = String, format = Uuid)]
    pub id: HouseholdId,
    #[schema(value_type = String, format = Uuid)]
    pub city_id: CityId,
    #[schema(required = true)]
    pub label: Option<String>,
    pub members: Vec<CaseSummary>,
}
