//! Typed identifiers. Each is a UUID stored as canonical lower-case text; a
//! `CityId` cannot be passed where a `UserId` is wanted.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(Uuid);

        impl $name {
            pub fn new() -> $name {
                $name(Uuid::new_v4())
            }

            pub fn as_uuid(&self) -> Uuid {
                self.0
            }

            /// Reads an id back from a database column; a malformed value is
            /// a corrupt row, reported as an internal error by the caller.
            pub fn from_db(text: &str) -> Result<$name, uuid::Error> {
                Uuid::parse_str(text).map($name)
            }

            pub fn to_db(&self) -> String {
                self.0.hyphenated().to_string()
            }
        }

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
    /// A provider organisation: psychosocial, education or vocational training.
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_through_text() {
        let id = CityId::new();
        assert_eq!(CityId::from_db(&id.to_db()).unwrap(), id);
        assert_eq!(id.to_db(), id.to_string());
        assert!(CityId::from_db("not-a-uuid").is_err());
    }
}
