//! Transfer requests and views.

use chrono::{DateTime, NaiveDateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use validator::Validate;

use crate::crypto::Sealed;
use crate::domain::{CaseId, CityId, NonBlank, TransferId, TransferStatus, UserId};
use crate::error::ApiError;
use crate::pagination::{Listed, Page};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// Into the caller's cities.
    Incoming,
    /// Out of the caller's cities.
    Outgoing,
}

impl Direction {
    pub const ALL: [Direction; 2] = [Direction::Incoming, Direction::Outgoing];

    /// The spelling in the query string.
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::Incoming => "incoming",
            Direction::Outgoing => "outgoing",
        }
    }
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

/// A transfer request whose reason is not blank.
#[derive(Debug, Clone)]
pub struct NewTransfer {
    pub to_city_id: CityId,
    pub reason: NonBlank,
    pub with_household: bool,
}

impl CreateTransfer {
    /// The request, parsed (a blank reason is a 422 on `reason`).
    pub fn parse(self) -> Result<NewTransfer, ApiError> {
        Ok(NewTransfer {
            to_city_id: self.to_city_id,
            reason: NonBlank::parse(self.reason).map_err(|e| e.at("reason"))?,
            with_household: self.with_household,
        })
    }
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
    /// 1 to `pagination.max_page_size` (100 unless configured); default
    /// `pagination.default_page_size` (50). Any larger value is cut to the
    /// maximum, 0 to 1; a value that is not a u32 is a 422.
    #[param(format = Int64, minimum = 0, maximum = 4294967295_u64)]
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Transfer {
    #[schema(value_type = String, format = Uuid)]
    pub id: TransferId,
    #[schema(value_type = String, format = Uuid)]
    pub case_id: CaseId,
    #[schema(value_type = String, format = Uuid)]
    pub from_city_id: CityId,
    #[schema(value_type = String, format = Uuid)]
    pub to_city_id: CityId,
    pub with_household: bool,
    pub status: TransferStatus,
    #[schema(required = true)]
    pub reason: Option<String>,
    #[schema(required = true)]
    pub decision_reason: Option<String>,
    #[schema(value_type = String, format = Uuid)]
    pub requested_by: UserId,
    pub requested_at: DateTime<Utc>,
    #[schema(value_type = Option<String>, required = true)]
    pub decided_by: Option<UserId>,
    #[schema(required = true)]
    pub decided_at: Option<DateTime<Utc>>,
}

/// A page of transfers.
pub type TransferPage = Page<Transfer>;

impl Listed for Transfer {
    const PAGE: &'static str = "TransferPage";
}

/// One row of `transfers`; a new one is inserted whole.
#[derive(Debug, Clone, diesel::Queryable, diesel::Insertable)]
#[diesel(table_name = crate::db::schema::transfers, treat_none_as_default_value = false)]
pub struct TransferRow {
    pub id: TransferId,
    pub case_id: CaseId,
    pub from_city_id: CityId,
    pub to_city_id: CityId,
    pub with_household: bool,
    pub status: TransferStatus,
    pub reason_enc: Sealed,
    pub decision_reason_enc: Option<Sealed>,
    pub requested_by: UserId,
    pub requested_at: NaiveDateTime,
    pub decided_by: Option<UserId>,
    pub decided_at: Option<NaiveDateTime>,
}
