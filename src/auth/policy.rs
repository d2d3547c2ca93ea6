//! Every access decision is made here, and nowhere else.
//!
//! `authorize(principal, action, resource)` answers whether the caller may do
//! `action` on `resource`: an action the role may never do is 403
//! (`Forbidden`); an object outside the caller's reach is 404 (`NotFound`),
//! the same as one that does not exist. `scope(principal)` gives the filter
//! every list query starts from. `authorize_account` decides on staff
//! accounts (separation of duties, the two-person rule). Anything not
//! granted below is denied, and an account that must sign in with a second
//! factor and has none may do only what every role may.

use crate::domain::{Approver, CityId, OrganisationId, Role, UserId};
use crate::error::ApiError;

use super::Principal;

/// Everything a caller can ask to do. Each route names exactly one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    /// Read one's own account, change one's own password, log out.
    SelfService,
    /// Read governorates, cities and organisations.
    PlaceRead,
    /// Create governorates, cities and organisations; update organisations.
    PlaceWrite,
    /// Read staff accounts (a city supervisor: only those whose pending
    /// grant they may decide).
    UserRead,
    /// Create, change and reset staff accounts.
    UserWrite,
    /// Approve or reject a grant waiting for a second person.
    UserApprove,
    CaseCreate,
    CaseRead,
    CaseList,
    CaseUpdate,
    CaseSearch,
    CaseClose,
    CaseReopen,
    CaseErase,
    NoteCreate,
    NoteRead,
    HouseholdCreate,
    HouseholdRead,
    TransferCreate,
    TransferList,
    /// Accept or reject an incoming transfer (the receiving city's supervisor).
    TransferDecide,
    TransferCancel,
    ReferralCreate,
    ReferralList,
    ReferralRead,
    /// Accept, decline, start or complete a referral (the provider).
    ReferralRespond,
    /// Cancel a referral (the referring city).
    ReferralCancel,
    /// Post a progress update on a referral in progress (the provider).
    ReferralProgress,
    /// Ask for a case to be closed.
    ClosureRequest,
    /// Read a case's closure requests.
    ClosureRead,
    /// Approve or return a closure request (never one's own).
    ClosureDecide,
    /// Schedule, end or reschedule a follow-up.
    FollowUpWrite,
    /// Read a case's follow-ups.
    FollowUpRead,
    /// Read one's work queue (`GET /tasks`).
    TaskRead,
    /// Draft, submit and revise plans; move their actions along.
    PlanWrite,
    PlanRead,
    /// Approve or return a plan (never one's own).
    PlanDecide,
    StatsRead,
    AuditRead,
    /// Read published assessment instruments.
    InstrumentRead,
    /// Publish a new instrument version.
    InstrumentPublish,
    /// Start an assessment, change a draft's answers, submit it.
    AssessmentWrite,
    AssessmentRead,
    /// Review or void an assessment (never one's own).
    AssessmentReview,
    /// Ask which events searched for a term (the auditor types a national
    /// ID, a phone number or a name into the system).
    AuditLookup,
}

impl Action {
    pub const ALL: [Action; 45] = [
        Action::SelfService,
        Action::PlaceRead,
        Action::PlaceWrite,
        Action::UserRead,
        Action::UserWrite,
        Action::UserApprove,
        Action::CaseCreate,
        Action::CaseRead,
        Action::CaseList,
        Action::CaseUpdate,
        Action::CaseSearch,
        Action::CaseClose,
        Action::CaseReopen,
        Action::CaseErase,
        Action::NoteCreate,
        Action::NoteRead,
        Action::HouseholdCreate,
        Action::HouseholdRead,
        Action::TransferCreate,
        Action::TransferList,
        Action::TransferDecide,
        Action::TransferCancel,
        Action::ReferralCreate,
        Action::ReferralList,
        Action::ReferralRead,
        Action::ReferralRespond,
        Action::ReferralCancel,
        Action::ReferralProgress,
        Action::ClosureRequest,
        Action::ClosureRead,
        Action::ClosureDecide,
        Action::FollowUpWrite,
        Action::FollowUpRead,
        Action::TaskRead,
        Action::PlanWrite,
        Action::PlanRead,
        Action::PlanDecide,
        Action::StatsRead,
        Action::AuditRead,
        Action::InstrumentRead,
        Action::InstrumentPublish,
        Action::AssessmentWrite,
        Action::AssessmentRead,
        Action::AssessmentReview,
        Action::AuditLookup,
    ];

    /// Whether the action only reads the row it is on (its audit event is
    /// its one write): the guarded action then reads the row without
    /// locking it (`auth::guard`), so reads of one row never queue.
    pub fn reads_only(self) -> bool {
        matches!(
            self,
            Action::CaseRead
                | Action::NoteRead
                | Action::PlanRead
                | Action::ClosureRead
                | Action::ReferralRead
        )
    }
}

/// What an action is done to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resource {
    /// No single object: a list, a search, a creation outside any city, the
    /// caller's own account. The scope filter restricts what it returns.
    Collection,
    /// An object held in a city: a case, a note, a household, a transfer end.
    City(CityId),
    /// A referral: held by the referring city, addressed to an organisation,
    /// and `open` while pending, accepted or in progress.
    Referral {
        city: CityId,
        organisation: OrganisationId,
        open: bool,
    },
}

/// How far a grant reaches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Reach {
    /// Any object.
    Anything,
    /// Objects in the caller's cities.
    OwnCities,
    /// Open referrals addressed to the caller's organisation.
    OwnOrganisation,
}

use Reach::{Anything, OwnCities, OwnOrganisation};

/// The grant table: who may do what, and how far. Absent means denied.
fn grant(role: Role, action: Action) -> Option<Reach> {
    use Action as A;
    use Role as R;
    match (role, action) {
        (_, A::SelfService) => Some(Anything),
        (_, A::PlaceRead | A::InstrumentRead) => Some(Anything),
        (R::Admin, A::InstrumentPublish) => Some(Anything),
        (R::SocialWorker | R::CitySupervisor, A::AssessmentWrite | A::AssessmentRead) => {
            Some(OwnCities)
        }
        (R::CitySupervisor, A::AssessmentReview) => Some(OwnCities),
        (R::SocialWorker | R::CitySupervisor, A::ClosureRequest | A::ClosureRead) => {
            Some(OwnCities)
        }
        (R::CitySupervisor, A::ClosureDecide | A::PlanDecide) => Some(OwnCities),
        (R::SocialWorker | R::CitySupervisor, A::PlanWrite | A::PlanRead) => Some(OwnCities),
        (R::SocialWorker | R::CitySupervisor, A::FollowUpWrite | A::FollowUpRead | A::TaskRead) => {
            Some(OwnCities)
        }
        (R::Admin, A::PlaceWrite | A::UserRead | A::UserWrite | A::UserApprove) => Some(Anything),
        (R::CitySupervisor, A::UserRead | A::UserApprove) => Some(OwnCities),

        (
            R::SocialWorker | R::CitySupervisor,
            A::CaseCreate
            | A::CaseRead
            | A::CaseList
            | A::CaseUpdate
            | A::CaseSearch
            | A::NoteCreate
            | A::NoteRead
            | A::HouseholdCreate
            | A::HouseholdRead
            | A::TransferCreate
            | A::TransferList
            | A::TransferCancel
            | A::ReferralCreate
            | A::ReferralCancel,
        ) => Some(OwnCities),
        (R::CitySupervisor, A::CaseClose | A::CaseReopen | A::CaseErase | A::TransferDecide) => {
            Some(OwnCities)
        }
        (R::SocialWorker | R::CitySupervisor, A::ReferralList | A::ReferralRead) => Some(OwnCities),
        (
            R::ProviderStaff,
            A::ReferralList | A::ReferralRead | A::ReferralRespond | A::ReferralProgress,
        ) => Some(OwnOrganisation),

        (R::CitySupervisor, A::StatsRead) => Some(OwnCities),
        (R::MinistryOfficial, A::StatsRead) => Some(Anything),
        (R::Auditor, A::AuditRead | A::AuditLookup) => Some(Anything),
        _ => None,
    }
}

/// How far the principal's grant for `action` reaches: `Forbidden` when the
/// role may never do it, `SecondFactorRequired` when the account must first
/// enrol a second factor (it may then do only what every role may).
fn reach_of(principal: &Principal, action: Action) -> Result<Reach, ApiError> {
    let reach = grant(principal.role, action).ok_or(ApiError::Forbidden)?;
    if principal.second_factor_missing && denied_to_some_role(action) {
        return Err(ApiError::SecondFactorRequired);
    }
    Ok(reach)
}

/// Whether some role may never do `action` (and so the route answers 403
/// to it). The OpenAPI document lists 403 on exactly those routes.
pub fn denied_to_some_role(action: Action) -> bool {
    Role::ALL.iter().any(|&role| grant(role, action).is_none())
}

/// May this principal do `action` on `resource`? `Forbidden` when the role
/// may never do it, `NotFound` when the object is out of the caller's reach.
pub fn authorize(
    principal: &Principal,
    action: Action,
    resource: Resource,
) -> Result<(), ApiError> {
    let reach = reach_of(principal, action)?;
    let within = match (reach, resource) {
        (Anything, _) | (_, Resource::Collection) => true,
        (OwnCities, Resource::City(city)) | (OwnCities, Resource::Referral { city, .. }) => {
            principal.city_ids.contains(&city)
        }
        (
            OwnOrganisation,
            Resource::Referral {
                organisation, open, ..
            },
        ) => open && principal.organisation_id == Some(organisation),
        (OwnOrganisation, Resource::City(_)) => false,
    };
    if within {
        Ok(())
    } else {
        Err(ApiError::NotFound)
    }
}

/// The second pair of eyes: a decision on something a person wrote or
/// asked for (reviewing or voiding an assessment, approving or returning a
/// plan or a closure request) is never theirs to take (403, recorded by
/// the caller as a refusal). Checked after [`authorize`], on the row
/// locked in the transaction that decides.
pub fn authorize_second_person(principal: &Principal, author: UserId) -> Result<(), ApiError> {
    if author == principal.user_id {
        Err(ApiError::Forbidden)
    } else {
        Ok(())
    }
}

/// The filter every list query starts from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// Every row (ministry officials' aggregates, auditors' log, admins' users).
    National,
    /// Rows held in these cities.
    Cities(Vec<CityId>),
    /// Referrals addressed to this organisation.
    Organisation(OrganisationId),
    /// No row at all.
    Nothing,
}

impl Scope {
    /// The city ids a city-scoped query may touch, or `None` when the scope
    /// is not a city filter (national: no filter; others: see the variant).
    pub fn cities(&self) -> Option<&[CityId]> {
        match self {
            Scope::Cities(ids) => Some(ids),
            _ => None,
        }
    }
}

/// The scope of `action` for this principal: the rows a list may return.
pub fn scope(principal: &Principal, action: Action) -> Scope {
    match reach_of(principal, action) {
        Err(_) => Scope::Nothing,
        Ok(Anything) => Scope::National,
        Ok(OwnCities) => Scope::Cities(principal.city_ids.clone()),
        Ok(OwnOrganisation) => match principal.organisation_id {
            Some(org) => Scope::Organisation(org),
            None => Scope::Nothing,
        },
    }
}

/// A staff account as the policy decides on it: whose it is, and the grant
/// waiting on it for a second person, if any.
#[derive(Debug, Clone, Copy)]
pub struct Account<'a> {
    pub id: UserId,
    pub pending: Option<PendingGrant<'a>>,
}

/// Who asked for a pending grant, who may decide it, and the cities it
/// concerns.
#[derive(Debug, Clone, Copy)]
pub struct PendingGrant<'a> {
    pub requested_by: UserId,
    pub approver: Approver,
    pub cities: &'a [CityId],
}

/// May this principal do `action` (`UserRead`, `UserWrite`, `UserApprove`)
/// on this staff account?
///
/// - Nobody administers their own account (403): no one changes their own
///   role, cities, organisation or active flag, resets themself, or
///   decides a grant to themself.
/// - The approver is never the requester (403).
/// - A grant for an account held in cities is decided by a city supervisor
///   of every city it concerns (a supervisor lacking one: 404, as for
///   anything outside their cities; an admin: 403); a provider's, by an
///   admin (a supervisor: 404).
/// - A city supervisor reads only the accounts whose pending grant they may
///   decide (404 otherwise).
pub fn authorize_account(
    principal: &Principal,
    action: Action,
    account: &Account<'_>,
) -> Result<(), ApiError> {
    let reach = reach_of(principal, action)?;
    let administers = matches!(action, Action::UserWrite | Action::UserApprove);
    if administers && account.id == principal.user_id {
        return Err(ApiError::Forbidden);
    }
    let deciding = action == Action::UserApprove;
    if let Some(grant) = account.pending
        && deciding
        && grant.requested_by == principal.user_id
    {
        return Err(ApiError::Forbidden);
    }
    let supervisor_may = |grant: &PendingGrant<'_>| {
        grant.approver == Approver::CitySupervisor
            && grant.cities.iter().all(|c| principal.city_ids.contains(c))
    };
    match (reach, account.pending) {
        (Anything, Some(grant)) if deciding && grant.approver != Approver::Admin => {
            Err(ApiError::Forbidden)
        }
        (Anything, _) => Ok(()),
        (OwnCities, Some(grant)) if supervisor_may(&grant) => Ok(()),
        (OwnCities | OwnOrganisation, _) => Err(ApiError::NotFound),
    }
}

#[cfg(test)]
mod tests;
