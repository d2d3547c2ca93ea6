//! Roles and organisation kinds, as the contract spells them.

use std::fmt;
use std::str::FromStr;

use std::borrow::Cow;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::db::column::TextColumn;

#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    Serialize,
    Deserialize,
    ToSchema,
    diesel::AsExpression,
    diesel::FromSqlRow,
)]
#[serde(rename_all = "snake_case")]
#[diesel(sql_type = diesel::sql_types::Text)]
pub enum Role {
    SocialWorker,
    CitySupervisor,
    ProviderStaff,
    MinistryOfficial,
    Auditor,
    Admin,
}

impl Role {
    pub const ALL: [Role; 6] = [
        Role::SocialWorker,
        Role::CitySupervisor,
        Role::ProviderStaff,
        Role::MinistryOfficial,
        Role::Auditor,
        Role::Admin,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::SocialWorker => "social_worker",
            Role::CitySupervisor => "city_supervisor",
            Role::ProviderStaff => "provider_staff",
            Role::MinistryOfficial => "ministry_official",
            Role::Auditor => "auditor",
            Role::Admin => "admin",
        }
    }

    /// Roles whose scope is a set of cities on the account.
    pub fn is_city_scoped(self) -> bool {
        matches!(self, Role::SocialWorker | Role::CitySupervisor)
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, thiserror::Error)]
#[error("unknown role")]
pub struct UnknownRole;

impl FromStr for Role {
    type Err = UnknownRole;

    fn from_str(s: &str) -> Result<Role, UnknownRole> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or(UnknownRole)
    }
}

// What a provider organisation offers; a referral's kind. Employment is job
// placement, community is community-based programmes. (No doc comment:
// it would become the schema's description in the OpenAPI document.)
text_enum!(
    OrganisationKind {
        Psychosocial => "psychosocial",
        Education => "education",
        VocationalTraining => "vocational_training",
        Employment => "employment",
        BusinessSupport => "business_support",
        CivilDocumentation => "civil_documentation",
        Health => "health",
        LegalAid => "legal_aid",
        Community => "community",
    }
);

impl TextColumn for Role {
    fn to_text(&self) -> Cow<'_, str> {
        Cow::Borrowed(self.as_str())
    }

    fn from_text(text: &str) -> Option<Role> {
        text.parse().ok()
    }
}

crate::text_column!(Role);

impl FromStr for OrganisationKind {
    type Err = UnknownRole;

    fn from_str(s: &str) -> Result<OrganisationKind, UnknownRole> {
        OrganisationKind::from_db(s).ok_or(UnknownRole)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_round_trip_and_match_serde() {
        for role in Role::ALL {
            assert_eq!(role.as_str().parse::<Role>().unwrap(), role);
            let json = serde_json::to_string(&role).unwrap();
            assert_eq!(json, format!("\"{}\"", role.as_str()));
        }
        assert!("root".parse::<Role>().is_err());
    }
}
