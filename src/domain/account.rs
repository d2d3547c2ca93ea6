//! A staff account's standing, and the requests that change what it may
//! reach: the words of the two-person rule (`docs/security.md`, "Accounts").

use super::{CityId, OrganisationId, Role};

text_enum!(
    /// Whether a second person has let the account be used.
    Approval {
        Pending => "pending",
        Approved => "approved",
        Rejected => "rejected",
    }
);

text_enum!(
    /// What a grant request asks: a new account, a wider reach for an
    /// existing one, or a new enrolment code after a reset.
    RequestKind {
        Create => "create",
        Change => "change",
        Reset => "reset",
    }
);

text_enum!(
    /// Where a grant request stands.
    RequestStatus {
        Pending => "pending",
        Approved => "approved",
        Rejected => "rejected",
    }
);

text_enum!(
    /// Who may decide a grant request: a city supervisor of every city it
    /// concerns, or an admin (for provider staff).
    Approver {
        CitySupervisor => "city_supervisor",
        Admin => "admin",
    }
);

impl Role {
    /// Roles that can see people: every account of one of these is granted
    /// by two persons.
    pub fn sees_people(self) -> bool {
        matches!(
            self,
            Role::SocialWorker | Role::CitySupervisor | Role::ProviderStaff
        )
    }
}

/// What an account may reach: its role, its cities (sorted, no repeats) and
/// its organisation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reach {
    pub role: Role,
    pub cities: Vec<CityId>,
    pub organisation: Option<OrganisationId>,
}

impl Reach {
    pub fn new(role: Role, cities: &[CityId], organisation: Option<OrganisationId>) -> Reach {
        let mut cities = cities.to_vec();
        cities.sort();
        cities.dedup();
        Reach {
            role,
            cities,
            organisation,
        }
    }
}

/// Who must approve a grant before it applies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Needed {
    /// Nobody: it applies at once (it gives no access to people, or only
    /// takes access away).
    Nobody,
    /// A city supervisor of every one of these cities.
    Supervisors(Vec<CityId>),
    /// Another admin.
    Admin,
}

impl Needed {
    /// The approver and the cities concerned, when someone must approve.
    pub fn approver(&self) -> Option<(Approver, &[CityId])> {
        match self {
            Needed::Nobody => None,
            Needed::Supervisors(cities) => Some((Approver::CitySupervisor, cities)),
            Needed::Admin => Some((Approver::Admin, &[])),
        }
    }
}

/// What a new account of this reach needs: every account that can see
/// people is approved by a second person.
pub fn needed_for_new(reach: &Reach) -> Needed {
    match reach.role {
        Role::SocialWorker | Role::CitySupervisor => Needed::Supervisors(reach.cities.clone()),
        Role::ProviderStaff => Needed::Admin,
        Role::MinistryOfficial | Role::Auditor | Role::Admin => Needed::Nobody,
    }
}

/// What a change from `before` to `after` needs. A widening of an account
/// that sees people waits for a second person: a supervisor of every city
/// where the account gains (all of its cities when its role gains), or an
/// admin for a provider's organisation. `None`: the change is refused,
/// because an account never moves between the roles that see people and
/// the roles that do not.
pub fn needed_for_change(before: &Reach, after: &Reach) -> Option<Needed> {
    if before.role.sees_people() != after.role.sees_people() {
        return None;
    }
    Some(match after.role {
        Role::ProviderStaff
            if before.role != Role::ProviderStaff || before.organisation != after.organisation =>
        {
            Needed::Admin
        }
        Role::SocialWorker | Role::CitySupervisor => {
            let role_gains = before.role == Role::ProviderStaff
                || (before.role == Role::SocialWorker && after.role == Role::CitySupervisor);
            let gained: Vec<CityId> = if role_gains {
                after.cities.clone()
            } else {
                after
                    .cities
                    .iter()
                    .filter(|c| !before.cities.contains(c))
                    .copied()
                    .collect()
            };
            if gained.is_empty() {
                Needed::Nobody
            } else {
                Needed::Supervisors(gained)
            }
        }
        _ => Needed::Nobody,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reach(role: Role, cities: &[CityId]) -> Reach {
        let org = (role == Role::ProviderStaff).then(OrganisationId::new);
        Reach::new(role, cities, org)
    }

    #[test]
    fn every_new_account_that_sees_people_needs_a_second_person() {
        let (a, b) = (CityId::new(), CityId::new());
        let mut ab = vec![a, b];
        ab.sort();
        assert_eq!(
            needed_for_new(&reach(Role::SocialWorker, &[b, a, a])),
            Needed::Supervisors(ab)
        );
        assert_eq!(
            needed_for_new(&reach(Role::ProviderStaff, &[])),
            Needed::Admin
        );
        for role in [Role::MinistryOfficial, Role::Auditor, Role::Admin] {
            assert_eq!(needed_for_new(&reach(role, &[])), Needed::Nobody);
        }
    }

    #[test]
    fn widenings_wait_and_narrowings_apply() {
        let (a, b) = (CityId::new(), CityId::new());
        let worker_a = reach(Role::SocialWorker, &[a]);
        // A city added: its supervisor decides.
        assert_eq!(
            needed_for_change(&worker_a, &reach(Role::SocialWorker, &[a, b])),
            Some(Needed::Supervisors(vec![b]))
        );
        // A city taken away, a supervisor made a worker: at once.
        let both = reach(Role::SocialWorker, &[a, b]);
        assert_eq!(needed_for_change(&both, &worker_a), Some(Needed::Nobody));
        let supervisor = reach(Role::CitySupervisor, &[a]);
        assert_eq!(
            needed_for_change(&supervisor, &worker_a),
            Some(Needed::Nobody)
        );
        // A worker made a supervisor gains in every city.
        assert_eq!(
            needed_for_change(&worker_a, &supervisor),
            Some(Needed::Supervisors(vec![a]))
        );
        // A provider's organisation changed, or a worker made a provider.
        let provider = reach(Role::ProviderStaff, &[]);
        assert_eq!(
            needed_for_change(&provider, &reach(Role::ProviderStaff, &[])),
            Some(Needed::Admin)
        );
        assert_eq!(
            needed_for_change(&provider, &provider),
            Some(Needed::Nobody)
        );
        assert_eq!(needed_for_change(&worker_a, &provider), Some(Needed::Admin));
        assert_eq!(
            needed_for_change(&provider, &worker_a),
            Some(Needed::Supervisors(vec![a]))
        );
    }

    #[test]
    fn no_account_moves_between_seeing_people_and_not() {
        let worker = reach(Role::SocialWorker, &[CityId::new()]);
        for other in [Role::MinistryOfficial, Role::Auditor, Role::Admin] {
            assert_eq!(needed_for_change(&worker, &reach(other, &[])), None);
            assert_eq!(needed_for_change(&reach(other, &[]), &worker), None);
        }
        assert_eq!(
            needed_for_change(&reach(Role::Admin, &[]), &reach(Role::Auditor, &[])),
            Some(Needed::Nobody)
        );
    }
}
