//! Typed identifiers. Each is a UUID stored as canonical lower-case text
//! (its `Display` form, which is also what goes into an AAD); a `CityId`
//! cannot be passed where a `UserId` is wanted. Rows hold them typed: the
//! column conversions are `db::column`'s.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
            diesel::AsExpression, diesel::FromSqlRow,
        )]
        #[serde(transparent)]
        #[diesel(sql_type = diesel::sql_types::Text)]
        pub struct $name(Uuid);

        impl $name {
            pub fn new() -> $name {
                $name(Uuid::new_v4())
            }

            pub fn as_uuid(&self) -> Uuid {
                self.0
            }

            /// The stored text: canonical, hyphenated, lower case.
            pub fn to_db(&self) -> String {
                self.0.hyphenated().to_string()
            }
        }

        impl $crate::db::column::TextColumn for $name {
            fn to_text(&self) -> std::borrow::Cow<'_, str> {
                std::borrow::Cow::Owned(self.to_db())
            }

            fn from_text(text: &str) -> Option<$name> {
                Uuid::parse_str(text).ok().map($name)
            }
        }

        $crate::text_column!($name);

        impl Default for $name {
            fn default() -> $name {
                $name::new()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.hyphenated().fmt(f)
            }
        }

        impl FromStr for $name {
            type Err = uuid::Error;

            fn from_str(s: &str) -> Result<$name, uuid::Error> {
                Uuid::parse_str(s).map($name)
            }
        }

        impl From<Uuid> for $name {
            fn from(value: Uuid) -> $name {
                $name(value)
            }
        }

        impl From<$name> for Uuid {
            fn from(value: $name) -> Uuid {
                value.0
            }
        }
    };
}

id_type!(
    /// A user account.
    UserId
);
id_type!(
    /// One of Iraq's governorates.
    GovernorateId
);
id_type!(
    /// A city (or district) where cases are held.
    CityId
);
id_type!(
    /// A provider organisation (psychosocial, education, employment, …).
    OrganisationId
);

id_type!(
    /// A case: one person followed by a city.
    CaseId
);
id_type!(
    /// A household: a mother and her children, each a case.
    HouseholdId
);
id_type!(
    /// A note on a case (a home visit, a follow-up).
    NoteId
);
id_type!(
    /// A referral of a case to a provider organisation.
    ReferralId
);
id_type!(
    /// A request to move a case (or its household) to another city.
    TransferId
);
id_type!(
    /// Whose data key: a case (the person), a household (its label) or a
    /// staff account (its second factor's secret).
    SubjectId
);
id_type!(
    /// A grant waiting for a second person: a new account, a wider reach,
    /// or a reset.
    GrantRequestId
);
id_type!(
    /// A published version of an assessment instrument.
    InstrumentId
);
id_type!(
    /// An assessment of a case with an instrument.
    AssessmentId
);
id_type!(
    /// A provider's progress note on a referral in progress.
    ReferralUpdateId
);
id_type!(
    /// A social worker's request that a case be closed.
    ClosureRequestId
);
id_type!(
    /// A scheduled contact with a person.
    FollowUpId
);
id_type!(
    /// One version of a case's reintegration plan.
    PlanId
);
id_type!(
    /// A goal of a plan version.
    PlanGoalId
);
id_type!(
    /// An action under a plan's goal.
    PlanActionId
);

impl From<CaseId> for SubjectId {
    fn from(id: CaseId) -> SubjectId {
        SubjectId(id.0)
    }
}

/// A staff account's data key seals its second factor's secret.
impl From<UserId> for SubjectId {
    fn from(id: UserId) -> SubjectId {
        SubjectId(id.0)
    }
}

impl From<HouseholdId> for SubjectId {
    fn from(id: HouseholdId) -> SubjectId {
        SubjectId(id.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_through_text() {
        use crate::db::column::TextColumn;
        let id = CityId::new();
        assert_eq!(CityId::from_text(&id.to_text()), Some(id));
        assert_eq!(id.to_db(), id.to_string());
        assert_eq!(id.to_db(), id.to_db().to_lowercase());
        assert!(CityId::from_text("not-a-uuid").is_none());
    }
}
