//! What the case routes accept and answer. Inputs are parsed and validated
//! here; the plaintext they carry goes only to the store, which seals it.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use validator::Validate;

use crate::domain::{
    CaseId, CaseStatus, CityId, ConsentGiver, HouseholdId, NoteId, OriginKind, Sex, UserId,
    VulnerabilityFlag,
};
use crate::pagination::{Listed, Page};

/// Tells "absent" (`None`) from "null" (`Some(None)`) in a PATCH.
pub fn double_option<'de, D, T>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
}

#[derive(Debug, Clone, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SubjectInput {
    /// The name in Arabic (or Kurdish) script, as the person gives it; not
    /// blank.
    #[validate(length(min = 1, max = 200))]
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = r"^[^\x00]*[^\x00\t\n\x0b\x0c\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000][^\x00]*$"
    )]
    pub full_name: String,
    #[validate(length(min = 1, max = 200))]
    #[schema(min_length = 1, max_length = 200)]
    pub full_name_latin: Option<String>,
    pub sex: Sex,
    /// From 1900 to today.
    pub date_of_birth: NaiveDate,
    /// Must hold at least one digit.
    #[validate(length(min = 1, max = 64))]
    #[schema(
        min_length = 1,
        max_length = 64,
        pattern = r"^[^\x00]*[0-9\u0660-\u0669\u06f0-\u06f9][^\x00]*$"
    )]
    pub national_id: Option<String>,
    /// A plausible phone number: Iraqi local or international form.
    #[validate(length(min = 1, max = 32))]
    #[schema(min_length = 1, max_length = 32)]
    pub phone: Option<String>,
    #[validate(length(min = 1, max = 500))]
    #[schema(min_length = 1, max_length = 500)]
    pub address: Option<String>,
}

#[derive(Debug, Clone, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OriginInput {
    pub kind: OriginKind,
    #[validate(length(min = 1, max = 200))]
    #[schema(min_length = 1, max_length = 200)]
    pub place: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Consent {
    pub share_with_providers: bool,
    pub given_by: ConsentGiver,
    pub given_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateCase {
    #[schema(value_type = String, format = Uuid)]
    pub city_id: CityId,
    #[schema(value_type = Option<String>, format = Uuid)]
    pub household_id: Option<HouseholdId>,
    #[validate(nested)]
    pub subject: SubjectInput,
    #[validate(nested)]
    pub origin: OriginInput,
    /// From 2003 to a year from today.
    pub return_date: NaiveDate,
    #[serde(default)]
    #[validate(length(max = 20))]
    #[schema(max_items = 20)]
    pub vulnerability_flags: Vec<VulnerabilityFlag>,
    #[validate(length(min = 1, max = 4000))]
    #[schema(min_length = 1, max_length = 4000)]
    pub vulnerability_notes: Option<String>,
    pub consent: Consent,
    #[schema(value_type = Option<String>, format = Uuid)]
    pub assigned_to: Option<UserId>,
}

#[derive(Debug, Clone, Default, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SubjectPatch {
    #[validate(length(min = 1, max = 200))]
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = r"^[^\x00]*[^\x00\t\n\x0b\x0c\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000][^\x00]*$"
    )]
    pub full_name: Option<String>,
    #[serde(default, deserialize_with = "double_option")]
    #[validate(length(min = 1, max = 200))]
    #[schema(value_type = Option<String>, min_length = 1, max_length = 200)]
    pub full_name_latin: Option<Option<String>>,
    pub sex: Option<Sex>,
    pub date_of_birth: Option<NaiveDate>,
    #[serde(default, deserialize_with = "double_option")]
    #[validate(length(min = 1, max = 64))]
    #[schema(value_type = Option<String>, min_length = 1, max_length = 64, pattern = r"^[^\x00]*[0-9\u0660-\u0669\u06f0-\u06f9][^\x00]*$")]
    pub national_id: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[validate(length(min = 1, max = 32))]
    #[schema(value_type = Option<String>, min_length = 1, max_length = 32)]
    pub phone: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[validate(length(min = 1, max = 500))]
    #[schema(value_type = Option<String>, min_length = 1, max_length = 500)]
    pub address: Option<Option<String>>,
}

/// Every field optional; `null` clears an optional field. `city_id` cannot
/// change here: a case moves by transfer.
#[derive(Debug, Clone, Default, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateCase {
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>, format = Uuid)]
    pub household_id: Option<Option<HouseholdId>>,
    #[validate(nested)]
    pub subject: Option<SubjectPatch>,
    #[validate(nested)]
    pub origin: Option<OriginInput>,
    pub return_date: Option<NaiveDate>,
    #[validate(length(max = 20))]
    #[schema(max_items = 20)]
    pub vulnerability_flags: Option<Vec<VulnerabilityFlag>>,
    #[serde(default, deserialize_with = "double_option")]
    #[validate(length(min = 1, max = 4000))]
    #[schema(value_type = Option<String>, min_length = 1, max_length = 4000)]
    pub vulnerability_notes: Option<Option<String>>,
    pub consent: Option<Consent>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>, format = Uuid)]
    pub assigned_to: Option<Option<UserId>>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Subject {
    pub full_name: String,
    #[schema(required = true)]
    pub full_name_latin: Option<String>,
    pub sex: Sex,
    pub date_of_birth: NaiveDate,
    /// Whole years, computed from the date of birth.
    pub age: u32,
    #[schema(required = true)]
    pub national_id: Option<String>,
    #[schema(required = true)]
    pub phone: Option<String>,
    #[schema(required = true)]
    pub address: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Origin {
    pub kind: OriginKind,
    #[schema(required = true)]
    pub place: Option<String>,
}

/// A whole case, decrypted.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CaseView {
    #[schema(value_type = String, format = Uuid)]
    pub id: CaseId,
    /// Readable number per city and year, e.g. `MOS-2026-000123`.
    pub case_number: String,
    /// Increases with every change; the ETag is built from it.
    pub version: i64,
    #[schema(value_type = String, format = Uuid)]
    pub city_id: CityId,
    #[schema(value_type = Option<String>, format = Uuid, required = true)]
    pub household_id: Option<HouseholdId>,
    pub status: CaseStatus,
    pub subject: Subject,
    pub origin: Origin,
    pub return_date: NaiveDate,
    pub vulnerability_flags: Vec<VulnerabilityFlag>,
    #[schema(required = true)]
    pub vulnerability_notes: Option<String>,
    pub consent: Consent,
    #[schema(value_type = Option<String>, format = Uuid, required = true)]
    pub assigned_to: Option<UserId>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// One line of a case list.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CaseSummary {
    #[schema(value_type = String, format = Uuid)]
    pub id: CaseId,
    pub case_number: String,
    #[schema(value_type = String, format = Uuid)]
    pub city_id: CityId,
    pub status: CaseStatus,
    pub full_name: String,
    pub sex: Sex,
    pub age: u32,
    #[schema(value_type = Option<String>, format = Uuid, required = true)]
    pub household_id: Option<HouseholdId>,
    #[schema(value_type = Option<String>, format = Uuid, required = true)]
    pub assigned_to: Option<UserId>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Deserialize, Validate, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct CaseListQuery {
    /// One of the caller's cities; default all of them.
    #[param(value_type = Option<String>, format = Uuid)]
    pub city_id: Option<CityId>,
    pub status: Option<CaseStatus>,
    #[param(value_type = Option<String>, format = Uuid)]
    pub assigned_to: Option<UserId>,
    #[param(value_type = Option<String>, format = Uuid)]
    pub household_id: Option<HouseholdId>,
    /// 1 to `pagination.max_page_size` (100 unless configured); default
    /// `pagination.default_page_size` (50). Any larger value is cut to the
    /// maximum, 0 to 1; a value that is not a u32 is a 422.
    #[param(format = Int64, minimum = 0, maximum = 4294967295_u64)]
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// A page of a case list.
pub type CasePage = Page<CaseSummary>;

impl Listed for CaseSummary {
    const PAGE: &'static str = "CasePage";
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SearchRequest {
    #[validate(length(min = 1, max = 64))]
    #[schema(min_length = 1, max_length = 64)]
    pub national_id: Option<String>,
    #[validate(length(min = 1, max = 32))]
    #[schema(min_length = 1, max_length = 32)]
    pub phone: Option<String>,
    /// Any part of the name, in Arabic or Latin script; every word must match.
    #[validate(length(min = 1, max = 200))]
    #[schema(min_length = 1, max_length = 200)]
    pub name: Option<String>,
    /// 1 to 100; default 20. Any larger value is cut to 100, 0 to 1.
    #[schema(format = Int64, minimum = 0, maximum = 4294967295_u64)]
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page (with the same terms).
    pub cursor: Option<String>,
}

impl SearchRequest {
    /// The request, if it gives at least one criterion (else a 422).
    pub fn given(self) -> Result<SearchRequest, crate::error::ApiError> {
        match (&self.national_id, &self.phone, &self.name) {
            (None, None, None) => Err(crate::error::ApiError::field(
                "body",
                "give at least one of national_id, phone, name",
            )),
            _ => Ok(self),
        }
    }
}

/// Search pages are smaller than list pages: each line is a person opened.
pub const SEARCH_PAGE_DEFAULT: u32 = 20;
pub const SEARCH_PAGE_MAX: u32 = 100;

#[derive(Debug, Serialize, ToSchema)]
pub struct SearchResult {
    /// Matches in the caller's cities, newest first, one page.
    pub items: Vec<CaseSummary>,
    /// Give it back as `cursor` for the next page; `null` on the last.
    #[schema(required = true)]
    pub next_cursor: Option<String>,
    /// How many more matches the caller's cities hold after this page.
    pub remaining: u64,
    /// How many matches are held by other cities (no details).
    pub elsewhere: u64,
}

/// Why a case is closed or erased.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Reason {
    /// Not blank.
    #[validate(length(min = 1, max = 1000))]
    #[schema(
        min_length = 1,
        max_length = 1000,
        pattern = r"^[^\x00]*[^\x00\t\n\x0b\x0c\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000][^\x00]*$"
    )]
    pub reason: String,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateNote {
    /// Not blank.
    #[validate(length(min = 1, max = 10000))]
    #[schema(
        min_length = 1,
        max_length = 10000,
        pattern = r"^[^\x00]*[^\x00\t\n\x0b\x0c\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000][^\x00]*$"
    )]
    pub body: String,
    pub visit_date: Option<NaiveDate>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Note {
    #[schema(value_type = String, format = Uuid)]
    pub id: NoteId,
    #[schema(value_type = String, format = Uuid)]
    pub case_id: CaseId,
    #[schema(value_type = String, format = Uuid)]
    pub author_id: UserId,
    pub body: String,
    #[schema(required = true)]
    pub visit_date: Option<NaiveDate>,
    pub created_at: DateTime<Utc>,
}

/// Whole years between a date of birth and a day.
pub fn age_on(date_of_birth: NaiveDate, day: NaiveDate) -> u32 {
    day.years_since(date_of_birth).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn age_counts_whole_years() {
        let dob = NaiveDate::from_ymd_opt(2015, 6, 15).unwrap();
        assert_eq!(
            age_on(dob, NaiveDate::from_ymd_opt(2026, 6, 14).unwrap()),
            10
        );
        assert_eq!(
            age_on(dob, NaiveDate::from_ymd_opt(2026, 6, 15).unwrap()),
            11
        );
        assert_eq!(age_on(dob, NaiveDate::from_ymd_opt(2010, 1, 1).unwrap()), 0);
    }
}
