//! What a demo data set starts from, in one transaction: the places of
//! `data`, each city's providers (one of every kind), and an account of every role (with
//! a password shown once).

use diesel::prelude::*;

use crate::auth::password;
use crate::db::schema::{cities, governorates};
use crate::db::{AnyConnection, write_transaction};
use crate::domain::{CityId, OrganisationId, OrganisationKind, Role, UserId};
use crate::error::ApiError;
use crate::places::model::{CreateCity, CreateOrganisation};
use crate::places::store as places;
use crate::users::store::{self as users, NewUser};

use super::data;

/// A demo account. `password` is `None` when the account already existed
/// (its password is not changed, and was printed when it was made).
pub struct DemoUser {
    pub username: String,
    pub role: Role,
    pub city: Option<&'static str>,
    pub password: Option<String>,
}

/// A city of the data set with its office: the worker who opens its cases
/// and its providers, one of every kind.
pub(super) struct CityOffice {
    pub(super) id: CityId,
    pub(super) code: &'static str,
    pub(super) name_ar: &'static str,
    pub(super) weight: u32,
    pub(super) worker: UserId,
    /// The city's demo supervisor: reviews the demo assessments.
    pub(super) supervisor: UserId,
    /// One provider of each kind, in the order of `OrganisationKind::ALL`.
    pub(super) providers: Vec<(OrganisationKind, OrganisationId)>,
}

impl CityOffice {
    /// The city's provider of `kind`.
    pub(super) fn provider(&self, kind: OrganisationKind) -> anyhow::Result<OrganisationId> {
        self.providers
            .iter()
            .find(|(k, _)| *k == kind)
            .map(|(_, id)| *id)
            .ok_or_else(|| anyhow::anyhow!("the demo city has no {} provider", kind.as_str()))
    }
}

/// Cities, providers and demo accounts, made once and found again on later
/// runs.
pub(super) fn prepare(
    conn: &mut AnyConnection,
) -> anyhow::Result<(Vec<CityOffice>, Vec<DemoUser>)> {
    // Hashing passwords is slow on purpose: do it before the transaction.
    let mut accounts: Vec<(
        String,
        Role,
        Option<&'static data::Place>,
        Option<OrganisationKind>,
    )> = vec![
        ("demo-admin".into(), Role::Admin, None, None),
        ("demo-ministry".into(), Role::MinistryOfficial, None, None),
        ("demo-auditor".into(), Role::Auditor, None, None),
    ];
    for place in data::PLACES {
        let code = place.code.to_lowercase();
        accounts.push((format!("sw-{code}"), Role::SocialWorker, Some(place), None));
        accounts.push((
            format!("sup-{code}"),
            Role::CitySupervisor,
            Some(place),
            None,
        ));
    }
    for place in &data::PLACES[..3] {
        let code = place.code.to_lowercase();
        for (prefix, kind) in [
            ("psy", OrganisationKind::Psychosocial),
            ("edu", OrganisationKind::Education),
            ("voc", OrganisationKind::VocationalTraining),
            ("job", OrganisationKind::Employment),
        ] {
            accounts.push((
                format!("{prefix}-{code}"),
                Role::ProviderStaff,
                Some(place),
                Some(kind),
            ));
        }
    }

    let hashed: Vec<_> = {
        let existing: Vec<bool> = accounts
            .iter()
            .map(|(name, ..)| Ok(users::find_by_username(conn, name)?.is_some()))
            .collect::<Result<_, ApiError>>()?;
        accounts
            .into_iter()
            .zip(existing)
            .map(|(account, exists)| {
                if exists {
                    return Ok((account, None));
                }
                let secret = new_password()?;
                let hash = password::hash(&secret).map_err(|e| anyhow::anyhow!("{e}"))?;
                Ok((account, Some((secret, hash))))
            })
            .collect::<anyhow::Result<_>>()?
    };

    Ok(write_transaction(conn, |conn| {
        let mut offices = Vec::new();
        for place in data::PLACES {
            let city = ensure_city(conn, place)?;
            let mut providers = Vec::new();
            for &kind in OrganisationKind::ALL {
                let name = format!("{} — {}", data::provider_name(kind), place.name_en);
                providers.push((kind, ensure_organisation(conn, city, kind, &name)?));
            }
            offices.push(CityOffice {
                id: city,
                code: place.code,
                name_ar: place.name_ar,
                weight: place.weight,
                worker: UserId::new(),
                supervisor: UserId::new(),
                providers,
            });
        }
        let mut report = Vec::new();
        for ((username, role, place, kind), secret) in hashed {
            let office = place.and_then(|p| offices.iter().find(|o| o.code == p.code));
            let id = match &secret {
                Some((_, hash)) => {
                    let city_ids: Vec<CityId> = match (role, office) {
                        (Role::SocialWorker | Role::CitySupervisor, Some(o)) => vec![o.id],
                        _ => Vec::new(),
                    };
                    let organisation_id = match (kind, office) {
                        (Some(kind), Some(o)) => o
                            .providers
                            .iter()
                            .find(|(k, _)| *k == kind)
                            .map(|(_, id)| *id),
                        _ => None,
                    };
                    let row = users::create(
                        conn,
                        NewUser {
                            username: &username,
                            display_name: &username,
                            password_hash: hash,
                            role,
                            city_ids: &city_ids,
                            organisation_id,
                        },
                    )?;
                    row.id
                }
                None => {
                    let row =
                        users::find_by_username(conn, &username)?.ok_or(ApiError::NotFound)?;
                    row.id
                }
            };
            if let Some(code) = place.map(|p| p.code)
                && let Some(office) = offices.iter_mut().find(|o| o.code == code)
            {
                match role {
                    Role::SocialWorker => office.worker = id,
                    Role::CitySupervisor => office.supervisor = id,
                    _ => {}
                }
            }
            report.push(DemoUser {
                username,
                role,
                city: place.map(|p| p.code),
                password: secret.map(|(s, _)| s),
            });
        }
        Ok((offices, report))
    })?)
}

fn ensure_city(conn: &mut AnyConnection, place: &data::Place) -> Result<CityId, ApiError> {
    let found: Option<CityId> = cities::table
        .filter(cities::code.eq(place.code))
        .select(cities::id)
        .first(conn)
        .optional()?;
    if let Some(id) = found {
        return Ok(id);
    }
    let governorate = governorates::table
        .filter(governorates::code.eq(place.governorate))
        .select(governorates::id)
        .first(conn)?;
    let city = places::create_city(
        conn,
        &CreateCity {
            code: place.code.to_string(),
            name_en: place.name_en.to_string(),
            name_ar: place.name_ar.to_string(),
            governorate_id: governorate,
        },
    )?;
    Ok(city.id)
}

fn ensure_organisation(
    conn: &mut AnyConnection,
    city: CityId,
    kind: OrganisationKind,
    name: &str,
) -> Result<OrganisationId, ApiError> {
    let existing = places::organisations(conn, Some(kind), Some(city))?;
    let org = match existing.into_iter().find(|o| o.active) {
        Some(org) => org,
        None => places::create_organisation(
            conn,
            &CreateOrganisation {
                name: name.to_string(),
                kind,
                city_id: city,
            },
        )?,
    };
    Ok(org.id)
}

/// A password for a demo account, from the operating system's generator:
/// 20 letters and digits in groups of five, without look-alikes.
fn new_password() -> anyhow::Result<String> {
    use ring::rand::{SecureRandom, SystemRandom};
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";
    let mut bytes = [0u8; 20];
    SystemRandom::new()
        .fill(&mut bytes)
        .map_err(|_| anyhow::anyhow!("the system random generator failed"))?;
    let chars: Vec<char> = bytes
        .iter()
        .map(|b| char::from(ALPHABET[usize::from(*b) % ALPHABET.len()]))
        .collect();
    Ok(chars
        .chunks(5)
        .map(|c| c.iter().collect::<String>())
        .collect::<Vec<_>>()
        .join("-"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_passwords_pass_the_password_policy() {
        for _ in 0..50 {
            let secret = new_password().unwrap();
            assert_eq!(secret.len(), 23);
            assert!(password::weakness(&secret, "demo-admin", 12).is_none());
        }
    }
}
