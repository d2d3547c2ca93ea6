//! The seeding run: places, providers and demo users first (one
//! transaction), then cases in batches made by parallel workers. Each batch
//! is made up, sealed and indexed by the store code the API uses, then
//! stored in one transaction of multi-row INSERTs; a failure stops every
//! worker and leaves only whole batches behind.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use chrono::{Datelike, NaiveDateTime};
use validator::Validate;

use crate::assessments::store::AssessmentRow;
use crate::audit::{self, NewEvent, Outcome};
use crate::cases::checks;
use crate::cases::data_keys::NewDataKey;
use crate::cases::sealing::{self, SealedCase};
use crate::cases::store as cases;
use crate::cli::commands::connect;
use crate::crypto::{BlindIndexer, Crypto, Keyring};
use crate::db::{AnyConnection, migrations, write_transaction};
use crate::domain::{CaseId, HouseholdId, time};
use crate::error::ApiError;
use crate::households::store::{self as households, HouseholdRow};
use crate::referrals::model::ReferralRow;
use crate::referrals::store as referrals;
use crate::settings::{Environment, Settings};

use super::assessments::{Instrument, assess};
use super::casework::{Casework, casework};
use super::follow_up::follow_up;
use super::people::{self, Family, Member, Office};
use super::rng::Rng;
use super::setup::{CityOffice, DemoUser, prepare};

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

pub struct SeedReport {
    pub cases: u64,
    pub households: u64,
    pub referrals: u64,
    pub assessments: u64,
    pub users: Vec<DemoUser>,
    pub elapsed: Duration,
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
    assessments: AtomicU64,
    instrument: Instrument,
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
    crate::assessments::instruments::ensure_default(&mut conn)?;
    let instrument = Instrument {
        id: crate::assessments::instruments::DEFAULT_ID.parse()?,
        definition: crate::assessments::instrument::default_definition()?,
    };

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
        assessments: AtomicU64::new(0),
        instrument,
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
        assessments: run.assessments.load(Ordering::Relaxed),
        users,
        elapsed: started.elapsed(),
    };
    audit::append_with(
        &mut conn,
        &crate::crypto::AuditKeys::from_keyring(&keyring)?,
        &NewEvent::new(audit::Action::DemoSeed, Outcome::Success).detail(format!(
            "{} cases, {} households, {} referrals, {} assessments of demo data",
            report.cases, report.households, report.referrals, report.assessments
        )),
    )?;
    Ok(report)
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
            run.assessments
                .fetch_add(made.assessments.len() as u64, Ordering::Relaxed);
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
    assessments: Vec<AssessmentRow>,
    casework: Casework,
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
        assessments: Vec::new(),
        casework: Casework::default(),
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
                run.now,
                office,
                &member,
                &mut sealed,
                &mut batch.referrals,
            )?;
            assess(
                &mut rng,
                run.now,
                &run.instrument,
                office,
                &member,
                &sealed,
                &batch.referrals,
                &mut batch.assessments,
            )?;
            casework(
                &mut rng,
                run.now,
                office,
                &sealed,
                &batch.referrals,
                &mut batch.casework,
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
    crate::assessments::store::insert_many(conn, &batch.assessments)?;
    let work = &batch.casework;
    crate::follow_ups::store::insert_many(conn, &work.follow_ups)?;
    crate::plans::store::insert_many(conn, &work.plans, &work.goals, &work.actions)?;
    Ok(())
}
