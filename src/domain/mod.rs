//! Domain types: identifiers that cannot be mixed up, roles, and the small
//! parsed values the rest of the code relies on.

/// A closed set of values stored and sent as snake_case text: the enum, its
/// serde, OpenAPI and database (`Text` column) forms, `ALL`, `as_str` and
/// `from_db` from one list, so the names cannot drift apart.
#[macro_export]
macro_rules! text_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident => $text:literal,)+ }) => {
        $(#[$meta])*
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize,
            serde::Deserialize, utoipa::ToSchema, diesel::AsExpression, diesel::FromSqlRow,
        )]
        #[serde(rename_all = "snake_case")]
        #[diesel(sql_type = diesel::sql_types::Text)]
        pub enum $name {
            $($(#[$vmeta])* $variant,)+
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant,)+];

            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text,)+
                }
            }

            /// Reads a stored value; `None` is a corrupt row.
            pub fn from_db(text: &str) -> Option<$name> {
                match text {
                    $($text => Some($name::$variant),)+
                    _ => None,
                }
            }
        }

        impl $crate::db::column::TextColumn for $name {
            fn to_text(&self) -> std::borrow::Cow<'_, str> {
                std::borrow::Cow::Borrowed(self.as_str())
            }

            fn from_text(text: &str) -> Option<$name> {
                $name::from_db(text)
            }
        }

        $crate::text_column!($name);
    };
}

pub mod account;
pub mod assessment;
pub mod case;
pub mod closure;
pub mod follow_up;
pub mod ids;
pub mod month;
pub mod plan;
pub mod referral;
pub mod role;
pub mod text;
pub mod time;
pub mod transfer;

pub use account::{
    Approval, Approver, Needed, Reach, RequestKind, RequestStatus, needed_for_change,
    needed_for_new,
};
pub use assessment::{AssessmentState, ScoreDimension, Stage};
pub use case::{CaseStatus, ConsentGiver, OriginKind, Sex, VulnerabilityFlag};
pub use closure::{ClosureReason, ClosureStatus};
pub use follow_up::{FollowUpKind, FollowUpStatus};
pub use ids::{
    AssessmentId, CaseId, CityId, ClosureRequestId, FollowUpId, GovernorateId, GrantRequestId,
    HouseholdId, InstrumentId, NoteId, OrganisationId, PlanActionId, PlanGoalId, PlanId,
    ReferralId, ReferralUpdateId, SubjectId, TransferId, UserId,
};
pub use month::{Month, Period};
pub use plan::{ActionStatus, PlanDimension, PlanStatus};
pub use referral::{Need, ReferralState, Transition};
pub use role::{OrganisationKind, Role};
pub use text::{Invalid, NationalId, NonBlank, Phone};
pub use transfer::TransferStatus;
