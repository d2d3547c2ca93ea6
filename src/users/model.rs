//! User rows and the API's views of them. The password hash, the
//! enrolment code's hash and the second factor's secret never leave the
//! store: views are built without them.

use chrono::{DateTime, NaiveDateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use validator::Validate;

use crate::crypto::Sealed;
use crate::domain::{
    Approval, Approver, CityId, GrantRequestId, OrganisationId, RequestKind, Role, UserId,
};
use crate::pagination::{Listed, Page};

/// One row of `users`. `password_hash` is empty until the person enrols.
#[derive(Debug, Clone, diesel::Queryable)]
pub struct UserRow {
    pub id: UserId,
    pub username: String,
    pub display_name: String,
    pub password_hash: String,
    pub role: Role,
    pub organisation_id: Option<OrganisationId>,
    pub active: bool,
    pub token_version: i64,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub approval: Approval,
    pub enrolment_code_hash: Option<String>,
    pub enrolment_expires_at: Option<NaiveDateTime>,
    pub totp_secret_enc: Option<Sealed>,
    pub totp_enabled_at: Option<NaiveDateTime>,
    pub totp_last_step: Option<i64>,
}

impl UserRow {
    /// Whether the person has set a password.
    pub fn enrolled(&self) -> bool {
        !self.password_hash.is_empty()
    }

    /// Whether a password may be checked for this account at all: approved,
    /// active and enrolled. Any other account is checked against a dummy
    /// hash, at the same cost.
    pub fn can_sign_in(&self) -> bool {
        self.active && self.approval == Approval::Approved && self.enrolled()
    }

    pub fn totp_enabled(&self) -> bool {
        self.totp_enabled_at.is_some()
    }
}

/// A grant waiting for a second person, as admins and approvers see it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PendingGrant {
    /// Name it in `POST /users/{id}/approve` or `/reject`.
    #[schema(value_type = String, format = Uuid)]
    pub id: GrantRequestId,
    pub kind: RequestKind,
    /// The role the account will have once approved.
    pub role: Role,
    /// The cities the account will have once approved.
    #[schema(value_type = Vec<uuid::Uuid>)]
    pub city_ids: Vec<CityId>,
    #[schema(value_type = Option<uuid::Uuid>, required = true)]
    pub organisation_id: Option<OrganisationId>,
    /// Who may decide: a city supervisor of every one of
    /// `concerned_city_ids`, or an admin (never the requester).
    pub approver: Approver,
    #[schema(value_type = Vec<uuid::Uuid>)]
    pub concerned_city_ids: Vec<CityId>,
    #[schema(value_type = String, format = Uuid)]
    pub requested_by: UserId,
    pub requested_at: DateTime<Utc>,
}

/// A user as admins (and the user themself) see it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct User {
    #[schema(value_type = String, format = Uuid)]
    pub id: UserId,
    pub username: String,
    pub display_name: String,
    pub role: Role,
    #[schema(value_type = Vec<uuid::Uuid>)]
    pub city_ids: Vec<CityId>,
    #[schema(value_type = Option<uuid::Uuid>, required = true)]
    pub organisation_id: Option<OrganisationId>,
    pub active: bool,
    /// `pending` until a second person approves an account that can see
    /// people; a `rejected` account can never sign in.
    pub approval: Approval,
    /// Whether the person has set their password with an enrolment code.
    pub enrolled: bool,
    /// Whether the account signs in with a second factor.
    pub totp_enabled: bool,
    /// A grant waiting for a second person, if any.
    #[schema(required = true)]
    pub pending_grant: Option<PendingGrant>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A new account (`POST /users`), or one approved or reset: the enrolment
/// code is shown here once and never again. It is `null` while the account
/// waits for a second person: the approver is then given the code.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Enrolment {
    pub user: User,
    /// Give it to the person, who sets their own password with it
    /// (`POST /auth/enrol`).
    #[schema(
        required = true,
        min_length = 32,
        max_length = 32,
        pattern = "^[0-9a-f]{32}$"
    )]
    pub enrolment_code: Option<String>,
    #[schema(required = true)]
    pub expires_at: Option<DateTime<Utc>>,
}

/// The caller's own account (`GET /me`).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Me {
    #[schema(value_type = String, format = Uuid)]
    pub id: UserId,
    pub username: String,
    pub display_name: String,
    pub role: Role,
    #[schema(value_type = Vec<uuid::Uuid>)]
    pub city_ids: Vec<CityId>,
    #[schema(value_type = Option<uuid::Uuid>, required = true)]
    pub organisation_id: Option<OrganisationId>,
    /// Whether the account signs in with a second factor.
    pub totp_enabled: bool,
    /// Whether the role must (`auth.totp_required_roles`): until it has
    /// one, the account may only enrol it.
    pub totp_required: bool,
}

fn username_chars(username: &str) -> Result<(), validator::ValidationError> {
    let ok = username
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    if ok {
        Ok(())
    } else {
        let mut err = validator::ValidationError::new("username");
        err.message = Some("may hold only letters a-z, digits, '.', '_' and '-'".into());
        Err(err)
    }
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateUser {
    #[validate(length(min = 3, max = 64), custom(function = "username_chars"))]
    #[schema(min_length = 3, max_length = 64, pattern = "^[A-Za-z0-9._-]+$")]
    pub username: String,
    #[validate(length(min = 1, max = 120))]
    #[schema(min_length = 1, max_length = 120)]
    pub display_name: String,
    pub role: Role,
    /// Cities that exist; required for social workers and city supervisors.
    #[serde(default)]
    #[schema(value_type = Vec<uuid::Uuid>)]
    pub city_ids: Vec<CityId>,
    #[schema(value_type = Option<String>, format = Uuid)]
    pub organisation_id: Option<OrganisationId>,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateUser {
    #[validate(length(min = 1, max = 120))]
    #[schema(min_length = 1, max_length = 120)]
    pub display_name: Option<String>,
    pub role: Option<Role>,
    #[schema(value_type = Option<Vec<uuid::Uuid>>)]
    pub city_ids: Option<Vec<CityId>>,
    /// `null` removes the organisation.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>, format = Uuid)]
    pub organisation_id: Option<Option<OrganisationId>>,
    pub active: Option<bool>,
}

/// Tells "absent" (`None`) from "null" (`Some(None)`).
fn double_option<'de, D, T>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangePassword {
    #[validate(length(min = 1, max = 256))]
    #[schema(min_length = 1, max_length = 256)]
    pub current_password: String,
    /// At least `auth.password_min_chars` characters (12 unless raised),
    /// at least 5 different ones, not a common password and not containing
    /// the username.
    #[validate(length(min = 1, max = 256))]
    #[schema(min_length = 12, max_length = 256)]
    pub new_password: String,
}

/// A decision on an account's pending grant: the request decided, as read
/// in `pending_grant.id`, so that what was reviewed is what is decided.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Decision {
    #[schema(value_type = String, format = Uuid)]
    pub request_id: GrantRequestId,
}

#[derive(Debug, Deserialize, Validate, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct UserListQuery {
    /// Only accounts with a grant waiting for a second person. A city
    /// supervisor sees only those (the ones they may decide), whatever
    /// this says.
    pub pending: Option<bool>,
    /// 1 to `pagination.max_page_size` (100 unless configured); default
    /// `pagination.default_page_size` (50). Any larger value is cut to the
    /// maximum, 0 to 1; a value that is not a u32 is a 422.
    #[param(format = Int64, minimum = 0, maximum = 4294967295_u64)]
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// A page of the staff list.
pub type UserPage = Page<User>;

impl Listed for User {
    const PAGE: &'static str = "UserPage";
}

#[cfg(test)]
mod properties {
    use proptest::prelude::*;

    use super::*;
    use crate::error::ApiError;
    use crate::web::extract::parse_json;

    proptest! {
        /// Any username, display name (Arabic included) and role text is a
        /// user or field errors naming those fields, never echoing them.
        #[test]
        fn any_user_input_is_a_user_or_named_fields(
            username in "\\PC{0,80}",
            display_name in "\\PC{0,130}",
            role in "\\PC{0,20}|social_worker|admin",
        ) {
            let body = serde_json::json!({
                "username": username, "display_name": display_name, "role": role,
            });
            match parse_json::<CreateUser>(body.to_string().as_bytes()) {
                Ok(user) => {
                    prop_assert!(user.username.chars().all(|c| c.is_ascii_alphanumeric() || ".-_".contains(c)));
                    prop_assert!((3..=64).contains(&user.username.chars().count()));
                }
                Err(ApiError::Validation(errors)) => {
                    for e in errors {
                        prop_assert!(["username", "display_name", "role"].contains(&e.field.as_str()), "{}", e.field);
                        if username.chars().count() > 3 {
                            prop_assert!(!e.message.contains(username.as_str()));
                        }
                    }
                }
                Err(other) => prop_assert!(false, "unexpected {other:?}"),
            }
        }

        /// A password of any text is judged without panic, and the reason
        /// never repeats it.
        #[test]
        fn any_password_is_judged_without_echo(password in "\\PC{0,300}", username in "[a-z]{0,10}") {
            if let Some(reason) = crate::auth::password::weakness(&password, &username, 12) {
                prop_assert!(password.chars().count() < 4 || !reason.contains(password.as_str()));
            }
        }
    }
}
