//! Every access decision is made here, and nowhere else.
//!
//! `authorize(principal, action, resource)` answers whether the caller may do
//! `action` on `resource`: an action the role may never do is 403
//! (`Forbidden`); an object outside the caller's reach is 404 (`NotFound`),
//! the same as one that does not exist. `scope(principal)` gives the filter
//! every list query starts from. Anything not granted below is denied.

use crate::domain::{CityId, OrganisationId, Role};
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
    UserRead,
    UserWrite,
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
    pub const ALL: [Action; 34] = [
        Action::SelfService,
        Action::PlaceRead,
        Action::PlaceWrite,
        Action::UserRead,
        Action::UserWrite,
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
        Action::StatsRead,
        Action::AuditRead,
        Action::InstrumentRead,
        Action::InstrumentPublish,
        Action::AssessmentWrite,
        Action::AssessmentRead,
        Action::AssessmentReview,
        Action::AuditLookup,
    ];
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
        (R::Admin, A::PlaceWrite | A::UserRead | A::UserWrite) => Some(Anything),

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
        (R::ProviderStaff, A::ReferralList | A::ReferralRead | A::ReferralRespond) => {
            Some(OwnOrganisation)
        }

        (R::CitySupervisor, A::StatsRead) => Some(OwnCities),
        (R::MinistryOfficial, A::StatsRead) => Some(Anything),
        (R::Auditor, A::AuditRead | A::AuditLookup) => Some(Anything),
        _ => None,
    }
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
    let Some(reach) = grant(principal.role, action) else {
        return Err(ApiError::Forbidden);
    };
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
    match grant(principal.role, action) {
        None => Scope::Nothing,
        Some(Anything) => Scope::National,
        Some(OwnCities) => Scope::Cities(principal.city_ids.clone()),
        Some(OwnOrganisation) => match principal.organisation_id {
            Some(org) => Scope::Organisation(org),
            None => Scope::Nothing,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::UserId;

    /// The expected table, written out independently of `grant`: for each
    /// action, per role in the order SW CS PS MO AU AD:
    /// `A` anything, `C` own cities, `O` own organisation's open referrals,
    /// `-` never.
    const EXPECTED: [(Action, [char; 6]); 34] = [
        (Action::SelfService, ['A', 'A', 'A', 'A', 'A', 'A']),
        (Action::PlaceRead, ['A', 'A', 'A', 'A', 'A', 'A']),
        (Action::PlaceWrite, ['-', '-', '-', '-', '-', 'A']),
        (Action::UserRead, ['-', '-', '-', '-', '-', 'A']),
        (Action::UserWrite, ['-', '-', '-', '-', '-', 'A']),
        (Action::CaseCreate, ['C', 'C', '-', '-', '-', '-']),
        (Action::CaseRead, ['C', 'C', '-', '-', '-', '-']),
        (Action::CaseList, ['C', 'C', '-', '-', '-', '-']),
        (Action::CaseUpdate, ['C', 'C', '-', '-', '-', '-']),
        (Action::CaseSearch, ['C', 'C', '-', '-', '-', '-']),
        (Action::CaseClose, ['-', 'C', '-', '-', '-', '-']),
        (Action::CaseReopen, ['-', 'C', '-', '-', '-', '-']),
        (Action::CaseErase, ['-', 'C', '-', '-', '-', '-']),
        (Action::NoteCreate, ['C', 'C', '-', '-', '-', '-']),
        (Action::NoteRead, ['C', 'C', '-', '-', '-', '-']),
        (Action::HouseholdCreate, ['C', 'C', '-', '-', '-', '-']),
        (Action::HouseholdRead, ['C', 'C', '-', '-', '-', '-']),
        (Action::TransferCreate, ['C', 'C', '-', '-', '-', '-']),
        (Action::TransferList, ['C', 'C', '-', '-', '-', '-']),
        (Action::TransferDecide, ['-', 'C', '-', '-', '-', '-']),
        (Action::TransferCancel, ['C', 'C', '-', '-', '-', '-']),
        (Action::ReferralCreate, ['C', 'C', '-', '-', '-', '-']),
        (Action::ReferralList, ['C', 'C', 'O', '-', '-', '-']),
        (Action::ReferralRead, ['C', 'C', 'O', '-', '-', '-']),
        (Action::ReferralRespond, ['-', '-', 'O', '-', '-', '-']),
        (Action::ReferralCancel, ['C', 'C', '-', '-', '-', '-']),
        (Action::StatsRead, ['-', 'C', '-', 'A', '-', '-']),
        (Action::AuditRead, ['-', '-', '-', '-', 'A', '-']),
        (Action::InstrumentRead, ['A', 'A', 'A', 'A', 'A', 'A']),
        (Action::InstrumentPublish, ['-', '-', '-', '-', '-', 'A']),
        (Action::AssessmentWrite, ['C', 'C', '-', '-', '-', '-']),
        (Action::AssessmentRead, ['C', 'C', '-', '-', '-', '-']),
        (Action::AssessmentReview, ['-', 'C', '-', '-', '-', '-']),
        (Action::AuditLookup, ['-', '-', '-', '-', 'A', '-']),
    ];

    struct World {
        home: CityId,
        away: CityId,
        org: OrganisationId,
        other_org: OrganisationId,
    }

    fn principal(role: Role, world: &World) -> Principal {
        Principal {
            user_id: UserId::new(),
            username: "tester".into(),
            role,
            city_ids: if role.is_city_scoped() {
                vec![world.home]
            } else {
                Vec::new()
            },
            organisation_id: (role == Role::ProviderStaff).then_some(world.org),
            token_version: 1,
        }
    }

    fn is_forbidden(r: Result<(), ApiError>) -> bool {
        matches!(r, Err(ApiError::Forbidden))
    }

    fn is_not_found(r: Result<(), ApiError>) -> bool {
        matches!(r, Err(ApiError::NotFound))
    }

    #[test]
    fn every_action_is_in_the_expected_table_once() {
        for action in Action::ALL {
            let rows = EXPECTED.iter().filter(|(a, _)| *a == action).count();
            assert_eq!(rows, 1, "{action:?}");
        }
    }

    #[test]
    fn every_role_times_every_action_in_and_out_of_scope() {
        let w = World {
            home: CityId::new(),
            away: CityId::new(),
            org: OrganisationId::new(),
            other_org: OrganisationId::new(),
        };
        let in_city = Resource::City(w.home);
        let out_city = Resource::City(w.away);
        let own_open = Resource::Referral {
            city: w.away,
            organisation: w.org,
            open: true,
        };
        let own_closed = Resource::Referral {
            city: w.away,
            organisation: w.org,
            open: false,
        };
        let other_org = Resource::Referral {
            city: w.away,
            organisation: w.other_org,
            open: true,
        };
        let home_referral = Resource::Referral {
            city: w.home,
            organisation: w.other_org,
            open: false,
        };
        for (action, per_role) in EXPECTED {
            for (role, expected) in Role::ALL.into_iter().zip(per_role) {
                let p = principal(role, &w);
                let case = format!("{role:?} × {action:?}");
                match expected {
                    '-' => {
                        for r in [Resource::Collection, in_city, out_city, own_open] {
                            assert!(is_forbidden(authorize(&p, action, r)), "{case} {r:?}");
                        }
                        assert_eq!(scope(&p, action), Scope::Nothing, "{case}");
                    }
                    'A' => {
                        for r in [Resource::Collection, in_city, out_city, own_open] {
                            assert!(authorize(&p, action, r).is_ok(), "{case} {r:?}");
                        }
                        assert_eq!(scope(&p, action), Scope::National, "{case}");
                    }
                    'C' => {
                        assert!(authorize(&p, action, in_city).is_ok(), "{case}");
                        assert!(authorize(&p, action, home_referral).is_ok(), "{case}");
                        assert!(is_not_found(authorize(&p, action, out_city)), "{case}");
                        assert!(is_not_found(authorize(&p, action, own_open)), "{case}");
                        assert_eq!(scope(&p, action), Scope::Cities(vec![w.home]), "{case}");
                    }
                    'O' => {
                        assert!(authorize(&p, action, own_open).is_ok(), "{case}");
                        assert!(is_not_found(authorize(&p, action, own_closed)), "{case}");
                        assert!(is_not_found(authorize(&p, action, other_org)), "{case}");
                        assert!(is_not_found(authorize(&p, action, in_city)), "{case}");
                        assert_eq!(scope(&p, action), Scope::Organisation(w.org), "{case}");
                    }
                    other => panic!("bad table entry {other}"),
                }
            }
        }
    }

    #[test]
    fn a_city_scoped_user_with_no_cities_reaches_nothing() {
        let p = Principal {
            user_id: UserId::new(),
            username: "x".into(),
            role: Role::SocialWorker,
            city_ids: Vec::new(),
            organisation_id: None,
            token_version: 1,
        };
        assert!(is_not_found(authorize(
            &p,
            Action::CaseRead,
            Resource::City(CityId::new())
        )));
        assert_eq!(scope(&p, Action::CaseList), Scope::Cities(Vec::new()));
    }
}
