//! The seeding run: places, providers and demo users first (one
//! transaction), then cases in batches made by parallel workers. Each batch
//! is made up, sealed and indexed by the store code the API uses, then
//! stored in one transaction of multi-row INSERTs; a failure stops every
//! worker and leaves only whole batches behind.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use chrono::{Datelike, NaiveDateTime};
use diesel::prelude::*;
use validator::Validate;

use crate::audit::{self, NewEvent, Outcome};
use crate::auth::password;
use crate::cases::checks;
use crate::cases::data_keys::NewDataKey;
use crate::cases::sealing::{self, SealedCase};
use crate::cases::store::{self as cases};
use crate::cli::commands::connect;
use crate::crypto::Crypto;
use crate::crypto::{BlindIndexer, Keyring, PersonKeys};
use crate::db::schema::{cities, governorates};
use crate::db::{AnyConnection, migrations, write_transaction};
use crate::domain::NonBlank;
use crate::domain::referral::Outcome as ReferralOutcome;
use crate::domain::{
    CaseId, CaseStatus, CityId, HouseholdId, OrganisationId, OrganisationKind, Role, UserId, time,
};
use crate::domain::{Need, ReferralState};
use crate::error::ApiError;
use crate::households::store::{self as households, HouseholdRow};
use crate::places::model::{CreateCity, CreateOrganisation};
use crate::places::store as places;
use crate::referrals::model::{NewReferral, ReferralRow};
use crate::referrals::store as referrals;
use crate::settings::{Environment, Settings};
use crate::users::store::{self as users, NewUser};

use super::data;
use super::people::{self, Family, Member, Office};
use super::rng::Rng;

pub struct SeedOptions {
    /// How many cases (people) to add.
    pub cases: u64,
    /// Makes the made-up people repeatable.
    pub seed: u64,
    /// Threads making and storing batches (each with its own connection).
    pub workers: usize,
    /// Cases per batch (one transaction each).
    pub batch: usize,
}

#[derive(Debug, Clone, Copy)]
pub struct Progress {
    pub done: u64,
    pub total: u64,
    pub elapsed: Duration,
}

/// A demo account. `password` is `None` when the account already existed
/// (its password is not changed, and was printed when it was made).
pub struct DemoUser {
    pub username: String,
    pub role: Role,
    pub city: Option<&'static str>,
    pub password: Option<String>,
}

pub struct SeedReport {
    pub cases: u64,
    pub households: u64,
    pub referrals: u64,
    pub users: Vec<DemoUser>,
    pub elapsed: Duration,
}

/// A city of the data set with its office: the worker who opens its cases
/// and its three providers.
struct CityOffice {
    id: CityId,
    code: &'static str,
    name_ar: &'static str,
    weight: u32,
    worker: UserId,
    psychosocial: OrganisationId,
    education: OrganisationId,
    vocational: OrganisationId,
}

struct Run<'a> {
    settings: &'a Settings,
    keyring: &'a Keyring,
    indexer: &'a BlindIndexer,
    offices: &'a [CityOffice],
    options: &'a SeedOptions,
    batches: u64,
    next: AtomicU64,
    done: AtomicU64,
    households: AtomicU64,
    referrals: AtomicU64,
    failed: AtomicBool,
    now: NaiveDateTime,
}

/// Seeds `options.cases` cases; `progress` is called about twice a second.
pub fn seed(
    settings: &Settings,
    options: &SeedOptions,
    progress: &mut dyn FnMut(Progress),
) -> anyhow::Result<SeedReport> {
    if settings.environment == Environment::Production {
        anyhow::bail!("demo data is never seeded in production (SANAD_ENV=production)");
    }
    if options.batch == 0 || options.workers == 0 {
        anyhow::bail!("--batch and --workers must be at least 1");
    }
    let keyring = Keyring::load(&settings.crypto, settings.environment)?;
    let indexer = BlindIndexer::new(&keyring)?;
    let mut conn = connect(settings)?;
    migrations::run(&mut conn)?;
    let (offices, users) = prepare(&mut conn)?;

    let started = Instant::now();
    let batch = options.batch as u64;
    let run = Run {
        settings,
        keyring: &keyring,
        indexer: &indexer,
        offices: &offices,
        options,
        batches: options.cases.div_ceil(batch),
        next: AtomicU64::new(0),
        done: AtomicU64::new(0),
        households: AtomicU64::new(0),
        referrals: AtomicU64::new(0),
        failed: AtomicBool::new(false),
        now: time::now(),
    };
    let results: Vec<anyhow::Result<()>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..options.workers)
            .map(|_| scope.spawn(|| work(&run)))
            .collect();
        while !handles.iter().all(|h| h.is_finished()) {
            std::thread::sleep(Duration::from_millis(500));
            progress(Progress {
                done: run.done.load(Ordering::Relaxed),
                total: options.cases,
                elapsed: started.elapsed(),
            });
        }
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err(anyhow::anyhow!("a seeding worker panicked")))
            })
            .collect()
    });
    for result in results {
        result?;
    }
    let report = SeedReport {
        cases: run.done.load(Ordering::Relaxed),
        households: run.households.load(Ordering::Relaxed),
        referrals: run.referrals.load(Ordering::Relaxed),
        users,
        elapsed: started.elapsed(),
    };
    audit::append(
        &mut conn,
        &NewEvent::new(audit::Action::DemoSeed, Outcome::Success).detail(format!(
            "{} cases, {} households, {} referrals of demo data",
            report.cases, report.households, report.referrals
        )),
    )?;
    Ok(report)
}

/// Cities, providers and demo accounts, made once and found again on later
/// runs.
fn prepare(conn: &mut AnyConnection) -> anyhow::Result<(Vec<CityOffice>, Vec<DemoUser>)> {
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
            let org = |conn: &mut AnyConnection, kind, name: &str| {
                ensure_organisation(conn, city, kind, &format!("{name} — {}", place.name_en))
            };
            offices.push(CityOffice {
                id: city,
                code: place.code,
                name_ar: place.name_ar,
                weight: place.weight,
                worker: UserId::new(),
                psychosocial: org(
                    conn,
                    OrganisationKind::Psychosocial,
                    data::PSYCHOSOCIAL_CENTRE,
                )?,
                education: org(conn, OrganisationKind::Education, data::SCHOOL_OFFICE)?,
                vocational: org(
                    conn,
                    OrganisationKind::VocationalTraining,
                    data::VOCATIONAL_CENTRE,
                )?,
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
                        (Some(OrganisationKind::Psychosocial), Some(o)) => Some(o.psychosocial),
                        (Some(OrganisationKind::Education), Some(o)) => Some(o.education),
                        (Some(OrganisationKind::VocationalTraining), Some(o)) => Some(o.vocational),
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
            if role == Role::SocialWorker
                && let Some(code) = place.map(|p| p.code)
                && let Some(office) = offices.iter_mut().find(|o| o.code == code)
            {
                office.worker = id;
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

/// One worker: takes batches until there are none left or another failed.
fn work(run: &Run<'_>) -> anyhow::Result<()> {
    let result = (|| {
        let mut conn = connect(run.settings)?;
        loop {
            if run.failed.load(Ordering::Relaxed) {
                return Ok(());
            }
            let index = run.next.fetch_add(1, Ordering::Relaxed);
            if index >= run.batches {
                return Ok(());
            }
            let batch = run.options.batch as u64;
            let size = batch.min(run.options.cases - index * batch);
            let mut made = make_batch(run, index, usize::try_from(size)?)?;
            // Case numbers in a short transaction of their own: the counter
            // rows are shared by every worker, and holding their locks for a
            // whole batch would make the workers take turns. A batch that
            // then fails leaves a gap in the numbers, nothing else.
            write_transaction(&mut conn, |conn| number_batch(conn, run, &mut made))?;
            write_transaction(&mut conn, |conn| store_batch(conn, &made))?;
            run.done.fetch_add(size, Ordering::Relaxed);
            run.households
                .fetch_add(made.households.len() as u64, Ordering::Relaxed);
            run.referrals
                .fetch_add(made.referrals.len() as u64, Ordering::Relaxed);
        }
    })();
    if result.is_err() {
        run.failed.store(true, Ordering::Relaxed);
    }
    result
}

/// A batch made and sealed, waiting for its case numbers and transaction.
struct Batch {
    households: Vec<(Option<NewDataKey>, HouseholdRow)>,
    cases: Vec<SealedCase>,
    /// Which office each case belongs to, for its case number.
    offices: Vec<usize>,
    referrals: Vec<ReferralRow>,
}

fn make_batch(run: &Run<'_>, index: u64, size: usize) -> anyhow::Result<Batch> {
    let mut rng = Rng::new(run.options.seed, index);
    let crypto = Crypto {
        keyring: run.keyring,
        indexer: run.indexer,
    };
    let weights: Vec<u32> = run.offices.iter().map(|o| o.weight).collect();
    let mut batch = Batch {
        households: Vec::new(),
        cases: Vec::with_capacity(size),
        offices: Vec::with_capacity(size),
        referrals: Vec::new(),
    };
    while batch.cases.len() < size {
        let which = rng.weighted(&weights);
        let office = &run.offices[which];
        let desk = Office {
            city_id: office.id,
            name_ar: office.name_ar,
            worker: office.worker,
        };
        let Family {
            household,
            label,
            members,
        } = people::family(&mut rng, &desk, run.now, size - batch.cases.len());
        let household_id = if household {
            let id = HouseholdId::new();
            let opened = members.first().map_or(run.now, |m| m.created_at);
            batch.households.push(households::seal_new(
                run.keyring,
                id,
                office.id,
                label.as_deref(),
                office.worker,
                opened,
            )?);
            Some(id)
        } else {
            None
        };
        for mut member in members {
            member.input.household_id = household_id;
            let mut sealed = seal_member(crypto, office, &member)?;
            follow_up(
                &mut rng,
                run,
                office,
                &member,
                &mut sealed,
                &mut batch.referrals,
            )?;
            batch.cases.push(sealed);
            batch.offices.push(which);
        }
    }
    Ok(batch)
}

/// Seals one person through the API's own path, after checking them with the
/// API's own validation (a failure is a bug in the generator).
fn seal_member(
    crypto: Crypto<'_>,
    office: &CityOffice,
    member: &Member,
) -> anyhow::Result<SealedCase> {
    // Field names only: validator's own message carries the values, and
    // made-up people are still people-shaped data that stays out of logs.
    if let Err(err) = member.input.validate() {
        let fields: Vec<String> = err.errors().keys().map(|k| k.to_string()).collect();
        anyhow::bail!("generated an invalid case: {}", fields.join(", "));
    }
    let case = checks::parse_case(&member.input, member.created_at.date()).map_err(|problems| {
        let fields: Vec<&str> = problems.iter().map(|p| p.field.as_str()).collect();
        anyhow::anyhow!("generated an invalid case: {}", fields.join(", "))
    })?;
    Ok(sealing::seal_new(
        crypto,
        CaseId::new(),
        office.worker,
        &case,
        String::new(),
        member.created_at,
    )?)
}

/// What happened after the case was opened: perhaps a referral (in any
/// state of its machine, as far as time allows), perhaps closure.
fn follow_up(
    rng: &mut Rng,
    run: &Run<'_>,
    office: &CityOffice,
    member: &Member,
    case: &mut SealedCase,
    referrals_out: &mut Vec<ReferralRow>,
) -> anyhow::Result<()> {
    let opened = member.created_at;
    let mut last_change = opened;
    let mut open_referral = false;
    if member.input.consent.share_with_providers && rng.chance(0.45) {
        let (kind, organisation_id, needs) = referral_kind(rng, office, member);
        let created = before_now(run.now, opened + chrono::Duration::days(rng.range(1, 30)));
        let reason = NonBlank::parse(*rng.pick(data::REFERRAL_REASONS))
            .map_err(|_| anyhow::anyhow!("generated a blank referral reason"))?;
        let input = NewReferral {
            kind,
            organisation_id,
            reason,
            needs,
            due_by: rng
                .chance(0.7)
                .then(|| created.date() + chrono::Duration::days(30)),
        };
        let mut row = referrals::seal_new(
            &case.person,
            case.row.id,
            case.row.city_id,
            &input,
            office.worker,
            created,
        )?;
        last_change = play_referral(rng, run.now, &case.person, &mut row)?;
        open_referral = row.state.is_open();
        referrals_out.push(row);
        case.row.status = CaseStatus::Active;
    }
    if !open_referral && rng.chance(0.06) {
        let closed = opened + chrono::Duration::days(rng.range(60, 400));
        if closed < run.now {
            case.row.status = CaseStatus::Closed;
            case.row.closed_at = Some(closed);
            case.row.closure_reason_enc = Some(
                case.person
                    .row(case.row.id, case.row.city_id)
                    .seal_text(
                        cases::TABLE,
                        "closure_reason",
                        rng.pick::<&str>(data::CLOSURE_REASONS),
                    )
                    .map_err(ApiError::internal)?,
            );
            case.row.version += 1;
            last_change = last_change.max(closed);
        }
    }
    case.row.updated_at = last_change;
    Ok(())
}

fn before_now(now: NaiveDateTime, at: NaiveDateTime) -> NaiveDateTime {
    if at >= now {
        now - chrono::Duration::minutes(5)
    } else {
        at
    }
}

fn referral_kind(
    rng: &mut Rng,
    office: &CityOffice,
    member: &Member,
) -> (OrganisationKind, OrganisationId, Vec<Need>) {
    let school_age = !member.mother && (6..18).contains(&member.age);
    let psychosocial = (
        OrganisationKind::Psychosocial,
        office.psychosocial,
        vec![*rng.pick(&[Need::Counselling, Need::TraumaSupport, Need::FamilySupport])],
    );
    if member.mother && rng.chance(0.6) {
        let need = *rng.pick(&[
            Need::SkillsTraining,
            Need::Literacy,
            Need::SmallBusiness,
            Need::JobPlacement,
        ]);
        (
            OrganisationKind::VocationalTraining,
            office.vocational,
            vec![need],
        )
    } else if school_age && rng.chance(0.6) {
        let need = *rng.pick(&[Need::SchoolEnrolment, Need::CatchUpClasses]);
        (OrganisationKind::Education, office.education, vec![need])
    } else {
        psychosocial
    }
}

/// Moves a new referral along its state machine as far as chance and the
/// clock allow; returns when it last changed.
fn play_referral(
    rng: &mut Rng,
    now: NaiveDateTime,
    person: &PersonKeys,
    row: &mut ReferralRow,
) -> anyhow::Result<NaiveDateTime> {
    let days = |rng: &mut Rng, low, high| chrono::Duration::days(rng.range(low, high));
    let (id, city) = (row.id, row.city_id);
    let seal = |column: &str, value: &str| referrals::seal(person, id, city, column, value);
    let mut at = row.created_at;
    // pending 20%, declined 8%, cancelled 7%, accepted 15%, in progress 20%,
    // completed 30%.
    let target = rng.weighted(&[20, 8, 7, 15, 20, 30]);
    let created = row.created_at;
    match target {
        0 => {}
        1 => {
            let when = created + days(rng, 1, 10);
            if when < now {
                row.decision_reason_enc = Some(seal(
                    "decision_reason",
                    rng.pick::<&str>(data::DECLINE_REASONS),
                )?);
                row.state = ReferralState::Declined;
                row.declined_at = Some(when);
                row.version += 1;
                at = when;
            }
        }
        2 => {
            let when = created + days(rng, 3, 60);
            if when < now {
                row.state = ReferralState::Cancelled;
                row.cancelled_at = Some(when);
                row.version += 1;
                at = when;
            }
        }
        _ => {
            let accepted = created + days(rng, 1, 14);
            let started = accepted + days(rng, 1, 10);
            let completed = started + days(rng, 20, 120);
            if accepted < now {
                row.state = ReferralState::Accepted;
                row.accepted_at = Some(accepted);
                row.version += 1;
                at = accepted;
            }
            if target >= 4 && started < now {
                row.state = ReferralState::InProgress;
                row.started_at = Some(started);
                row.version += 1;
                at = started;
            }
            if target == 5 && completed < now && row.started_at.is_some() {
                let outcome = match rng.weighted(&[65, 20, 5, 10]) {
                    0 => ReferralOutcome::CompletedSuccessfully,
                    1 => ReferralOutcome::DroppedOut,
                    2 => ReferralOutcome::NotEligible,
                    _ => ReferralOutcome::Other,
                };
                row.state = ReferralState::Completed;
                row.outcome = Some(outcome);
                if rng.chance(0.5) {
                    row.outcome_note_enc =
                        Some(seal("outcome_note", rng.pick::<&str>(data::OUTCOME_NOTES))?);
                }
                row.completed_at = Some(completed);
                row.version += 1;
                at = completed;
            }
        }
    }
    row.updated_at = at;
    Ok(at)
}

/// Reserves the batch's case numbers: per city and year of opening, in the
/// order the cases were opened, taking the counters in one fixed order.
fn number_batch(
    conn: &mut AnyConnection,
    run: &Run<'_>,
    batch: &mut Batch,
) -> Result<(), ApiError> {
    let mut groups: BTreeMap<(usize, i32), Vec<usize>> = BTreeMap::new();
    for (i, case) in batch.cases.iter().enumerate() {
        groups
            .entry((batch.offices[i], case.row.created_at.year()))
            .or_default()
            .push(i);
    }
    for ((office, year), mut members) in groups {
        members.sort_by_key(|&i| batch.cases[i].row.created_at);
        let office = &run.offices[office];
        let first = cases::reserve_case_numbers(conn, office.id, year, members.len() as i64)?;
        for (n, i) in members.into_iter().enumerate() {
            batch.cases[i].row.case_number =
                cases::case_number(office.code, year, first + n as i64);
        }
    }
    Ok(())
}

/// Stores a numbered batch: households, cases with their keys and indexes,
/// referrals.
fn store_batch(conn: &mut AnyConnection, batch: &Batch) -> Result<(), ApiError> {
    households::insert_many(conn, &batch.households)?;
    cases::insert_sealed(conn, &batch.cases)?;
    referrals::insert_many(conn, &batch.referrals)?;
    Ok(())
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
