//! The audit trail beyond one chain: listing by entity and subject,
//! concurrency, the background sequencer and the PostgreSQL grants
//! (`audit_history`: anchors and the re-chain).

use std::time::{Duration, Instant};

use chrono::{TimeZone, Utc};
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use sanad::audit::{
    self, Action, AuditFilter, Entity, Event, NewEvent, Outcome, append_with, list,
    sequence_pending, verify,
};
use sanad::db::AnyConnection;
use sanad::db::schema::audit_events::dsl;
use sanad::error::ApiError;
use sanad::pagination::PageRequest;
use uuid::Uuid;

use crate::helpers::audit::{connect, connect_again, event, event_at, fresh_keys, id_at};
use crate::helpers::{TestDatabase, spawn_app};

/// Every page of a filtered list, two events at a time.
fn all(conn: &mut AnyConnection, filter: &AuditFilter) -> Vec<Event> {
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let page = PageRequest::new(2, cursor.as_deref()).unwrap();
        let (events, next) = page.cut(list(conn, filter, &page).unwrap(), audit::store::position);
        assert!(events.len() <= 2);
        seen.extend(events);
        match next {
            Some(next) => cursor = Some(next),
            None => return seen,
        }
    }
}

#[test]
fn list_filters_and_pages_newest_first_and_finds_a_person_among_subjects() {
    let db = TestDatabase::create();
    let mut conn = connect(&db);
    let keys = fresh_keys();
    let (actor, case, other) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
    let at = |minute| Utc.with_ymd_and_hms(2026, 11, 22, 8, minute, 0).unwrap();
    let mut append = |event: NewEvent| append_with(&mut conn, &keys, &event).unwrap();
    for minute in 0..5 {
        append(
            NewEvent::new(Action::CaseRead, Outcome::Success)
                .actor(actor, "social_worker")
                .entity(Entity::Case, case)
                .occurred_at(at(minute)),
        );
    }
    append(
        NewEvent::new(Action::AuthLogin, Outcome::Success)
            .actor(Uuid::new_v4(), "auditor")
            .occurred_at(at(2)),
    );
    // Two at the same instant: the id breaks the tie, stably.
    append(
        NewEvent::new(Action::CaseUpdate, Outcome::Denied)
            .actor(actor, "social_worker")
            .entity(Entity::Case, case)
            .occurred_at(at(4)),
    );
    // Lists that showed the person, and one that did not.
    for minute in [1, 3, 4] {
        append(
            NewEvent::new(Action::CaseList, Outcome::Success)
                .actor(actor, "social_worker")
                .showing([other, case])
                .occurred_at(at(minute)),
        );
    }
    append(NewEvent::new(Action::CaseList, Outcome::Success).showing([other]));

    let everything = all(&mut conn, &AuditFilter::default());
    assert_eq!(everything.len(), 11);
    assert!(
        everything
            .windows(2)
            .all(|w| (w[0].occurred_at, &w[0].id) > (w[1].occurred_at, &w[1].id))
    );
    let by_actor = AuditFilter {
        actor_id: Some(actor),
        ..AuditFilter::default()
    };
    assert_eq!(all(&mut conn, &by_actor).len(), 9);
    let about_case = AuditFilter {
        entity_id: Some(case.to_string()),
        ..AuditFilter::default()
    };
    let found = all(&mut conn, &about_case);
    assert_eq!(
        found.len(),
        9,
        "6 about the case and 3 lists that showed it"
    );
    assert!(
        found
            .windows(2)
            .all(|w| (w[0].occurred_at, &w[0].id) > (w[1].occurred_at, &w[1].id))
    );
    let listed = AuditFilter {
        entity_id: Some(case.to_string()),
        action: Some(Action::CaseList),
        from: Some(at(2)),
        ..AuditFilter::default()
    };
    assert_eq!(all(&mut conn, &listed).len(), 2);
    let window = AuditFilter {
        from: Some(at(1)),
        to: Some(at(3)),
        ..AuditFilter::default()
    };
    let in_window = all(&mut conn, &window);
    assert_eq!(in_window.len(), 4);
}

#[test]
fn an_event_committed_late_with_an_earlier_queue_number_is_chained() {
    let db = TestDatabase::create();
    if !db.is_postgres() {
        // SQLite has one writer at a time: queue order is commit order.
        return;
    }
    let keys = fresh_keys();
    let mut slow = connect(&db);
    let mut fast = connect_again(&db);
    let mut sequencer = connect_again(&db);
    let late = event(1);
    let early = event(2);

    slow.transaction(|slow| {
        append_with(slow, &keys, &late)?;
        append_with(&mut fast, &keys, &early)?;
        // Only `early` is visible: it is chained first, `late` is not lost.
        assert_eq!(sequence_pending(&mut sequencer, &keys, 10)?, 1);
        Ok::<(), ApiError>(())
    })
    .unwrap();
    assert_eq!(sequence_pending(&mut sequencer, &keys, 10).unwrap(), 1);

    let report = verify(&mut sequencer, &keys).unwrap();
    assert!(report.ok);
    assert_eq!(report.events, 2);
    assert_eq!(id_at(&mut sequencer, 1), early.id().to_string());
    assert_eq!(id_at(&mut sequencer, 2), late.id().to_string());
    let queue = |conn: &mut AnyConnection, seq| event_at(conn, seq).queue_no;
    assert!(queue(&mut sequencer, 2) < queue(&mut sequencer, 1));
}

#[test]
fn concurrent_appenders_and_sequencers_make_one_valid_chain() {
    const APPENDERS: u32 = 8;
    const EACH: u32 = 50;
    let db = TestDatabase::create();
    drop(connect(&db));
    let keys = fresh_keys();
    let done = std::sync::atomic::AtomicBool::new(false);

    std::thread::scope(|scope| {
        let sequencers: Vec<_> = (0..2)
            .map(|_| {
                let (mut conn, keys, done) = (connect_again(&db), &keys, &done);
                scope.spawn(move || {
                    while !done.load(std::sync::atomic::Ordering::SeqCst) {
                        sequence_pending(&mut conn, keys, 37).expect("sequence");
                        std::thread::sleep(Duration::from_millis(2));
                    }
                })
            })
            .collect();
        let appenders: Vec<_> = (0..APPENDERS)
            .map(|t| {
                let (mut conn, keys) = (connect_again(&db), &keys);
                scope.spawn(move || {
                    for i in 0..EACH {
                        let shown = event(t * 1000 + i).showing([Uuid::new_v4()]);
                        conn.transaction(|conn| append_with(conn, keys, &shown))
                            .expect("append");
                    }
                })
            })
            .collect();
        for appender in appenders {
            appender.join().expect("appender");
        }
        done.store(true, std::sync::atomic::Ordering::SeqCst);
        for sequencer in sequencers {
            sequencer.join().expect("sequencer");
        }
    });
    let mut conn = connect_again(&db);
    let report = verify(&mut conn, &keys).unwrap();

    assert!(report.ok, "{report:?}");
    assert_eq!(report.events, u64::from(APPENDERS * EACH));
}

#[tokio::test]
async fn the_running_service_chains_events_in_the_background() {
    let app = spawn_app().await;
    let (url, keys) = (app.db.url().to_string(), app.audit_keys());
    let new = event(1);
    let id = new.id().to_string();

    let chained = tokio::task::spawn_blocking(move || {
        let mut conn = sanad::db::ConnectionManager::new(&url, 5000)
            .unwrap()
            .establish()
            .unwrap();
        append_with(&mut conn, &keys, &new).unwrap();
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(10) {
            let seq: Option<i64> = dsl::audit_events
                .filter(dsl::id.eq(&id))
                .select(dsl::seq)
                .first(&mut conn)
                .unwrap();
            if seq.is_some() {
                return seq;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    })
    .await
    .unwrap();

    assert_eq!(chained, Some(1));
}

/// The grants docs/operations.md gives the service role are enough to append,
/// sequence and verify, and refuse everything else.
#[test]
fn the_documented_postgres_grants_suffice_and_refuse_the_rest() {
    let db = TestDatabase::create();
    if !db.is_postgres() {
        return;
    }
    let mut owner = connect(&db);
    let keys = fresh_keys();
    let role = format!("sanad_app_{}", Uuid::new_v4().simple());
    owner
        .batch_execute(&format!(
            "CREATE ROLE {role} LOGIN;
             REVOKE ALL ON audit_events, audit_subjects, audit_rechain FROM PUBLIC;
             REVOKE ALL ON audit_events, audit_subjects, audit_rechain FROM {role};
             GRANT SELECT, INSERT ON audit_events, audit_subjects TO {role};
             GRANT UPDATE (seq, prev_hash, hash, chain_key_id, key_id, mac) ON audit_events TO {role};
             GRANT SELECT, UPDATE (done_at) ON audit_rechain TO {role};"
        ))
        .unwrap();
    let mut url = url::Url::parse(db.url()).unwrap();
    url.set_username(&role).unwrap();
    let outcome = std::panic::catch_unwind(|| {
        let mut app = sanad::db::ConnectionManager::new(url.as_str(), 5000)
            .unwrap()
            .establish()
            .unwrap();
        assert!(audit::rechain::run_once(&mut app, &keys).unwrap().is_none());
        for i in 0..3 {
            let shown = event(i).showing([Uuid::new_v4()]);
            append_with(&mut app, &keys, &shown).unwrap();
        }
        let report = verify(&mut app, &keys).unwrap();
        assert!(report.ok);
        assert_eq!(report.events, 3);
        let denied = |result: Result<usize, diesel::result::Error>| {
            let text = result.expect_err("refused").to_string();
            assert!(
                text.contains("permission denied") || text.contains("must be owner"),
                "{text}"
            );
        };
        denied(diesel::delete(dsl::audit_events).execute(&mut app));
        denied(
            diesel::update(dsl::audit_events)
                .set(dsl::detail.eq("x"))
                .execute(&mut app),
        );
        denied(diesel::sql_query("DELETE FROM audit_subjects").execute(&mut app));
        denied(diesel::sql_query("TRUNCATE audit_events").execute(&mut app));
        denied(diesel::sql_query("ALTER TABLE audit_events DISABLE TRIGGER ALL").execute(&mut app));
        denied(diesel::sql_query("DELETE FROM audit_rechain").execute(&mut app));
    });
    // Roles belong to the cluster, not to the test database: drop it.
    owner
        .batch_execute(&format!(
            "REVOKE ALL ON audit_events, audit_subjects, audit_rechain FROM {role}; DROP ROLE {role};"
        ))
        .unwrap();
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
}
