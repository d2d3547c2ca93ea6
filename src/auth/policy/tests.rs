//! The grant table, checked against an independently written copy, and
//! the rules on staff accounts.

use super::*;
use crate::domain::UserId;

/// The expected table, written out independently of `grant`: for each
/// action, per role in the order SW CS PS MO AU AD:
/// `A` anything, `C` own cities, `O` own organisation's open referrals,
/// `-` never.
const EXPECTED: [(Action, [char; 6]); 45] = [
    (Action::SelfService, ['A', 'A', 'A', 'A', 'A', 'A']),
    (Action::PlaceRead, ['A', 'A', 'A', 'A', 'A', 'A']),
    (Action::PlaceWrite, ['-', '-', '-', '-', '-', 'A']),
    (Action::UserRead, ['-', 'C', '-', '-', '-', 'A']),
    (Action::UserWrite, ['-', '-', '-', '-', '-', 'A']),
    (Action::UserApprove, ['-', 'C', '-', '-', '-', 'A']),
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
    (Action::ReferralProgress, ['-', '-', 'O', '-', '-', '-']),
    (Action::ClosureRequest, ['C', 'C', '-', '-', '-', '-']),
    (Action::ClosureRead, ['C', 'C', '-', '-', '-', '-']),
    (Action::ClosureDecide, ['-', 'C', '-', '-', '-', '-']),
    (Action::FollowUpWrite, ['C', 'C', '-', '-', '-', '-']),
    (Action::FollowUpRead, ['C', 'C', '-', '-', '-', '-']),
    (Action::TaskRead, ['C', 'C', '-', '-', '-', '-']),
    (Action::PlanWrite, ['C', 'C', '-', '-', '-', '-']),
    (Action::PlanRead, ['C', 'C', '-', '-', '-', '-']),
    (Action::PlanDecide, ['-', 'C', '-', '-', '-', '-']),
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
        totp_enabled: false,
        second_factor_missing: false,
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
        totp_enabled: false,
        second_factor_missing: false,
    };
    assert!(is_not_found(authorize(
        &p,
        Action::CaseRead,
        Resource::City(CityId::new())
    )));
    assert_eq!(scope(&p, Action::CaseList), Scope::Cities(Vec::new()));
}

#[test]
fn without_its_second_factor_an_account_may_do_only_what_every_role_may() {
    let w = World {
        home: CityId::new(),
        away: CityId::new(),
        org: OrganisationId::new(),
        other_org: OrganisationId::new(),
    };
    for role in Role::ALL {
        let mut p = principal(role, &w);
        p.second_factor_missing = true;
        for action in Action::ALL {
            let answer = authorize(&p, action, Resource::Collection);
            if denied_to_some_role(action) {
                assert!(
                    matches!(
                        answer,
                        Err(ApiError::SecondFactorRequired | ApiError::Forbidden)
                    ),
                    "{role:?} × {action:?}"
                );
                assert_eq!(scope(&p, action), Scope::Nothing, "{role:?} × {action:?}");
            } else {
                assert!(answer.is_ok(), "{role:?} × {action:?}");
            }
        }
    }
}

fn pending(
    requested_by: UserId,
    approver: Approver,
    cities: &[CityId],
) -> Option<PendingGrant<'_>> {
    Some(PendingGrant {
        requested_by,
        approver,
        cities,
    })
}

#[test]
fn nobody_administers_their_own_account() {
    let w = World {
        home: CityId::new(),
        away: CityId::new(),
        org: OrganisationId::new(),
        other_org: OrganisationId::new(),
    };
    let admin = principal(Role::Admin, &w);
    let own = Account {
        id: admin.user_id,
        pending: None,
    };
    for action in [Action::UserWrite, Action::UserApprove] {
        assert!(
            is_forbidden(authorize_account(&admin, action, &own)),
            "{action:?}"
        );
    }
    assert!(authorize_account(&admin, Action::UserRead, &own).is_ok());
    let other = Account {
        id: UserId::new(),
        pending: None,
    };
    assert!(authorize_account(&admin, Action::UserWrite, &other).is_ok());
    // A supervisor deciding a grant to their own account, even one they
    // could otherwise decide.
    let supervisor = principal(Role::CitySupervisor, &w);
    let cities = [w.home];
    let own = Account {
        id: supervisor.user_id,
        pending: pending(admin.user_id, Approver::CitySupervisor, &cities),
    };
    assert!(is_forbidden(authorize_account(
        &supervisor,
        Action::UserApprove,
        &own
    )));
}

#[test]
fn a_grant_is_decided_by_a_supervisor_of_every_city_or_another_admin() {
    let w = World {
        home: CityId::new(),
        away: CityId::new(),
        org: OrganisationId::new(),
        other_org: OrganisationId::new(),
    };
    let admin = principal(Role::Admin, &w);
    let other_admin = principal(Role::Admin, &w);
    let supervisor = principal(Role::CitySupervisor, &w);
    let home = [w.home];
    let both = [w.home, w.away];
    let account = |pending| Account {
        id: UserId::new(),
        pending,
    };
    let decide = |p: &Principal, a: &Account<'_>| authorize_account(p, Action::UserApprove, a);
    let read = |p: &Principal, a: &Account<'_>| authorize_account(p, Action::UserRead, a);

    let in_home = account(pending(admin.user_id, Approver::CitySupervisor, &home));
    assert!(decide(&supervisor, &in_home).is_ok());
    assert!(read(&supervisor, &in_home).is_ok());
    assert!(
        is_forbidden(decide(&other_admin, &in_home)),
        "not an admin's to decide"
    );
    assert!(read(&other_admin, &in_home).is_ok());

    let in_both = account(pending(admin.user_id, Approver::CitySupervisor, &both));
    assert!(
        is_not_found(decide(&supervisor, &in_both)),
        "a city not theirs"
    );
    assert!(is_not_found(read(&supervisor, &in_both)));

    let provider = account(pending(admin.user_id, Approver::Admin, &[]));
    assert!(decide(&other_admin, &provider).is_ok());
    assert!(is_forbidden(decide(&admin, &provider)), "the requester");
    assert!(is_not_found(decide(&supervisor, &provider)));

    let settled = account(None);
    assert!(is_not_found(read(&supervisor, &settled)));
    assert!(
        decide(&admin, &settled).is_ok(),
        "then: nothing pending, a 422"
    );
    for role in [Role::SocialWorker, Role::ProviderStaff, Role::Auditor] {
        assert!(
            is_forbidden(decide(&principal(role, &w), &in_home)),
            "{role:?}"
        );
    }
}

#[test]
fn no_one_decides_what_they_wrote_or_asked_for() {
    let w = World {
        home: CityId::new(),
        away: CityId::new(),
        org: OrganisationId::new(),
        other_org: OrganisationId::new(),
    };
    let supervisor = principal(Role::CitySupervisor, &w);
    assert!(is_forbidden(authorize_second_person(
        &supervisor,
        supervisor.user_id
    )));
    assert!(authorize_second_person(&supervisor, UserId::new()).is_ok());
}
