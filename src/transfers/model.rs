//! Transfer requests and views.

use chrono::{DateTime, NaiveDateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use validator::Validate;

use crate::domain::{CityId, TransferStatus};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// Into the caller's cities.
    Incoming,
    /// Out of the caller's cities.
    Outgoing,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateTransfer {
    #[schema(value_type = String, format = Uuid)]
    pub to_city_id: CityId,
    /// Kept encrypted with the case; not blank.
    #[validate(length(min = 1, max = 1000))]
    #[schema(
        min_length = 1,
        max_length = 1000,
        pattern = r"^[^\x00]*[^\x00\t\n\x0b\x0c\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000][^\x00]*$"
    )]
    pub reason: String,
    /// Move every member of the case's household, and the household itself.
    #[serde(default)]
    pub with_household: bool,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RejectTransfer {
    #[validate(length(min = 1, max = 1000))]
    #[schema(min_length = 1, max_length = 1000)]
    pub reason: String,
}

#[derive(Debug, Deserialize, Validate, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct TransferQuery {
    /// Default: both directions.
    #[param(inline)]
    pub direction: Option<Direction>,
    pub status: Option<TransferStatus>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Transfer {
    #[schema(format = Uuid)]
    pub id: String,
    #[schema(format = Uuid)]
    pub case_id: String,
    #[schema(format = Uuid)]
    pub from_city_id: String,
    #[schema(format = Uuid)]
    pub to_city_id: String,
    pub with_household: bool,
    pub status: TransferStatus,
    #[schema(required = true)]
    pub reason: Option<String>,
    #[schema(required = true)]
    pub decision_reason: Option<String>,
    #[schema(format = Uuid)]
    pub requested_by: String,
    pub requested_at: DateTime<Utc>,
    #[schema(required = true)]
    pub decided_by: Option<String>,
    #[schema(required = true)]
    pub decided_at: Option<DateTime<Utc>>,
}

/// One row of `transfers`.
#[derive(Debug, Clone, diesel::Queryable)]
pub struct TransferRow {
    pub id: String,
    pub case_id: String,
    pub from_city_id: String,
    pub to_city_id: String,
    pub with_household: bool,
    pub status: String,
    pub reason_enc: crate::crypto::Sealed,
    pub decision_reason_enc: Option<crate::crypto::Sealed>,
    pub requested_by: String,
    pub requested_at: NaiveDateTime,
    pub decided_by: Option<String>,
    pub decided_at: Option<NaiveDateTime>,
}
