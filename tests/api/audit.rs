//! The audit log's storage layer on a real database (both backends): append,
//! the sequencer, verification, tampering, the append-only triggers.

use std::time::{Duration, Instant};

use chrono::{TimeZone, Utc};
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use sanad::audit::chain::event_hash;
use sanad::audit::{
    self, Action, Anchor, AnchorCheck, AuditFilter, Entity, Event, NewEvent, Outcome, append,
    check_anchor, list, sequence_pending, verify,
};
use sanad::db::AnyConnection;
use sanad::db::schema::audit_events::dsl;
use sanad::error::ApiError;
use sanad::pagination::PageRequest;
use uuid::Uuid;

use crate::helpers::{TestDatabase, spawn_app};

/// One page of the log as a route shows it: `size` events after `cursor`,
/// and the cursor of the next page.
fn page_of(
    conn: &mut AnyConnection,
    filter: &AuditFilter,
    size: u32,
    cursor: Option<&str>,
) -> (Vec<Event>, Option<String>) {
    let page = PageRequest::new(size, cursor).unwrap();
    page.cut(list(conn, filter, &page).unwrap(), audit::store::position)
}

fn connect(db: &TestDatabase) -> AnyConnection {
    let mut conn = sanad::db::ConnectionManager::new(db.url(), 5000)
        .expect("database url")
        .establish()
        .expect("connect");
    sanad::db::migrations::run(&mut conn).expect("migrate");
    conn
}

fn connect_again(db: &TestDatabase) -> AnyConnection {
    sanad::db::ConnectionManager::new(db.url(), 5000)
        .expect("database url")
        .establish()
        .expect("connect")
}

fn event(n: u32) -> NewEvent {
    NewEvent::new(Action::CaseRead, Outcome::Success)
        .actor(Uuid::new_v4(), "social_worker")
        .entity(Entity::Case, Uuid::new_v4())
        .city(Uuid::new_v4())
        .detail(format!("test event {n}"))
}

/// A fresh, migrated database holding `n` chained events.
fn chained_log(n: u32) -> (TestDatabase, AnyConnection) {
    let db = TestDatabase::create();
    let mut conn = connect(&db);
    for i in 0..n {
        append(&mut conn, &event(i)).expect("append");
    }
    assert_eq!(
        sequence_pending(&mut conn, 1000).expect("sequence"),
        n as usize
    );
    (db, conn)
}

fn id_at(conn: &mut AnyConnection, seq: i64) -> String {
    dsl::audit_events
        .filter(dsl::seq.eq(seq))
        .select(dsl::id)
        .first(conn)
        .expect("event at seq")
}

fn event_at(conn: &mut AnyConnection, seq: i64) -> Event {
    dsl::audit_events
        .filter(dsl::seq.eq(seq))
        .select(Event::as_select())
        .first(conn)
        .expect("event at seq")
}

/// What an attacker with the table owner's rights (or a superuser) can do.
fn bypass_triggers(conn: &mut AnyConnection) {
    match conn {
        AnyConnection::Postgresql(pg) => pg
            .batch_execute("SET session_replication_role = replica")
            .expect("disable triggers"),
        AnyConnection::Sqlite(lite) => lite
            .batch_execute(
                "DROP TRIGGER audit_events_no_update;
                 DROP TRIGGER audit_events_no_delete;
                 DROP TRIGGER audit_events_insert_unchained;",
            )
            .expect("drop triggers"),
    }
}

fn refused(result: Result<usize, diesel::result::Error>) -> String {
    let err = result.expect_err("the audit table must refuse this");
    let text = err.to_string();
    assert!(text.contains("append-only"), "{text}");
    text
}

#[test]
fn appended_events_are_sequenced_and_verify() {
    let db = TestDatabase::create();
    let mut conn = connect(&db);
    let first = event(1);
    append(&mut conn, &first).unwrap();
    append(
        &mut conn,
        &NewEvent::new(Action::AuthLoginFailed, Outcome::Failure),
    )
    .unwrap();
    append(&mut conn, &event(3)).unwrap();

    let unchained = page_of(&mut conn, &AuditFilter::default(), 10, None).0;
    assert!(unchained.iter().all(|e| e.seq.is_none()));
    assert_eq!(sequence_pending(&mut conn, 100).unwrap(), 3);
    assert_eq!(sequence_pending(&mut conn, 100).unwrap(), 0);
    let report = verify(&mut conn).unwrap();

    assert!(report.ok, "{report:?}");
    assert_eq!(report.events, 3);
    assert_eq!(report.first_broken_id, None);
    let (head_seq, head_hash) = report.head.expect("a head");
    assert_eq!(head_seq, 3);
    assert_eq!(head_hash.len(), 64);
    let chained = event_at(&mut conn, 1);
    assert_eq!(chained.id, first.id().to_string());
    assert_eq!(chained.prev_hash.as_deref(), Some(&[0u8; 32][..]));
    assert_eq!(chained.actor_role.as_deref(), Some("social_worker"));
    assert_eq!(chained.detail.as_deref(), Some("test event 1"));
}

#[test]
fn verify_chains_what_is_pending_first() {
    let db = TestDatabase::create();
    let mut conn = connect(&db);
    assert_eq!(verify(&mut conn).unwrap().events, 0);
    for i in 0..3 {
        append(&mut conn, &event(i)).unwrap();
    }

    let report = verify(&mut conn).unwrap();

    assert!(report.ok);
    assert_eq!(report.events, 3);
}

#[test]
fn an_edited_event_is_named() {
    let (_db, mut conn) = chained_log(5);
    let edited = id_at(&mut conn, 3);
    bypass_triggers(&mut conn);

    diesel::update(dsl::audit_events.filter(dsl::id.eq(&edited)))
        .set(dsl::actor_role.eq("city_supervisor"))
        .execute(&mut conn)
        .unwrap();
    let report = verify(&mut conn).unwrap();

    assert!(!report.ok);
    assert_eq!(report.first_broken_id.as_deref(), Some(edited.as_str()));
    assert_eq!(report.events, 2);
}

#[test]
fn a_deleted_event_is_caught_at_the_one_that_followed_it() {
    let (_db, mut conn) = chained_log(5);
    let deleted = id_at(&mut conn, 3);
    let follower = id_at(&mut conn, 4);
    bypass_triggers(&mut conn);

    diesel::delete(dsl::audit_events.filter(dsl::id.eq(&deleted)))
        .execute(&mut conn)
        .unwrap();
    let report = verify(&mut conn).unwrap();

    assert!(!report.ok);
    assert_eq!(report.first_broken_id.as_deref(), Some(follower.as_str()));
    assert_eq!(report.events, 2);
}

#[test]
fn a_forged_event_in_the_middle_is_caught() {
    let (_db, mut conn) = chained_log(5);
    let displaced = id_at(&mut conn, 3);
    let before = event_at(&mut conn, 2);
    bypass_triggers(&mut conn);
    // Make room at seq 3 (in two steps: UNIQUE(seq) is checked per row).
    for shift in ["seq + 1000", "seq - 999"] {
        diesel::sql_query(format!(
            "UPDATE audit_events SET seq = {shift} WHERE seq >= 3"
        ))
        .execute(&mut conn)
        .unwrap();
    }
    // The strongest forger: a well-formed event whose own hash and link
    // are right, since SHA-256 needs no key.
    let forged_id = Uuid::new_v4().to_string();
    let at = Utc
        .with_ymd_and_hms(2026, 11, 22, 9, 0, 0)
        .unwrap()
        .naive_utc();
    let prev: [u8; 32] = before.hash.clone().unwrap().try_into().unwrap();
    let forged = Event {
        id: forged_id.clone(),
        queue_no: 0,
        occurred_at: at,
        actor_id: None,
        actor_role: None,
        action: "case.read".into(),
        entity: None,
        entity_id: None,
        city_id: None,
        outcome: "success".into(),
        request_id: None,
        detail: None,
        seq: Some(3),
        prev_hash: None,
        hash: None,
    };
    let hash = event_hash(&prev, &forged);
    diesel::insert_into(dsl::audit_events)
        .values((
            dsl::id.eq(&forged_id),
            dsl::occurred_at.eq(at),
            dsl::action.eq("case.read"),
            dsl::outcome.eq("success"),
            dsl::seq.eq(3),
            dsl::prev_hash.eq(prev.to_vec()),
            dsl::hash.eq(hash.to_vec()),
        ))
        .execute(&mut conn)
        .unwrap();

    let report = verify(&mut conn).unwrap();

    // The forgery itself links correctly; the event it pushed aside no
    // longer does, and is named.
    assert!(!report.ok);
    assert_eq!(report.first_broken_id.as_deref(), Some(displaced.as_str()));
    assert_eq!(report.events, 3);
}

#[test]
fn a_truncated_tail_is_only_visible_against_a_recorded_head() {
    let (_db, mut conn) = chained_log(5);
    let anchored = verify(&mut conn).unwrap().head.expect("a head");
    bypass_triggers(&mut conn);

    diesel::delete(dsl::audit_events.filter(dsl::seq.ge(4)))
        .execute(&mut conn)
        .unwrap();
    let report = verify(&mut conn).unwrap();

    // What is left is a valid, shorter chain: verify cannot know more was
    // there. The head it reports differs from the one recorded earlier,
    // which is how an operator who anchors heads elsewhere sees it.
    assert!(report.ok);
    assert_eq!(report.events, 3);
    let head = report.head.expect("a head");
    assert_eq!(head.0, 3);
    assert_ne!(head, anchored);
    let anchor = Anchor {
        seq: anchored.0,
        hash: anchored.1,
    };
    assert_eq!(
        check_anchor(&mut conn, &anchor).unwrap(),
        AnchorCheck::Missing
    );
}

#[test]
fn a_rewritten_chain_is_only_visible_against_a_recorded_head() {
    let (_db, mut conn) = chained_log(5);
    let (seq, hash) = verify(&mut conn).unwrap().head.expect("a head");
    let anchor = Anchor { seq, hash };
    assert_eq!(
        check_anchor(&mut conn, &anchor).unwrap(),
        AnchorCheck::Holds
    );
    bypass_triggers(&mut conn);

    // Edit event 3, then recompute every hash from there on: SHA-256 has no
    // key, so the result is a consistent chain.
    diesel::update(dsl::audit_events.filter(dsl::seq.eq(3)))
        .set(dsl::outcome.eq("denied"))
        .execute(&mut conn)
        .unwrap();
    let mut prev: [u8; 32] = event_at(&mut conn, 2).hash.unwrap().try_into().unwrap();
    for seq in 3..=5 {
        let event = event_at(&mut conn, seq);
        let hash = event_hash(&prev, &event);
        diesel::update(dsl::audit_events.filter(dsl::seq.eq(seq)))
            .set((
                dsl::prev_hash.eq(prev.to_vec()),
                dsl::hash.eq(hash.to_vec()),
            ))
            .execute(&mut conn)
            .unwrap();
        prev = hash;
    }

    assert!(verify(&mut conn).unwrap().ok);
    assert_eq!(
        check_anchor(&mut conn, &anchor).unwrap(),
        AnchorCheck::Differs
    );
}

#[test]
fn the_table_refuses_updates_and_deletes() {
    let (_db, mut conn) = chained_log(2);
    let id = id_at(&mut conn, 1);
    let target = || dsl::audit_events.filter(dsl::id.eq(id.clone()));

    refused(
        diesel::update(target())
            .set(dsl::action.eq("case.update"))
            .execute(&mut conn),
    );
    refused(diesel::delete(target()).execute(&mut conn));
    refused(diesel::delete(dsl::audit_events).execute(&mut conn));
    // A chained event cannot be chained again…
    refused(
        diesel::update(target())
            .set((
                dsl::seq.eq(9),
                dsl::prev_hash.eq(vec![0u8; 32]),
                dsl::hash.eq(vec![0u8; 32]),
            ))
            .execute(&mut conn),
    );
    // …and an event cannot arrive already chained.
    refused(
        diesel::insert_into(dsl::audit_events)
            .values((
                dsl::id.eq(Uuid::new_v4().to_string()),
                dsl::occurred_at.eq(Utc::now().naive_utc()),
                dsl::action.eq("case.read"),
                dsl::outcome.eq("success"),
                dsl::seq.eq(3),
                dsl::prev_hash.eq(vec![0u8; 32]),
                dsl::hash.eq(vec![0u8; 32]),
            ))
            .execute(&mut conn),
    );
    if let AnyConnection::Postgresql(pg) = &mut conn {
        refused(diesel::sql_query("TRUNCATE audit_events").execute(pg));
    }
    assert!(verify(&mut conn).unwrap().ok);
}

#[test]
fn filling_the_chain_columns_with_another_change_is_refused() {
    let db = TestDatabase::create();
    let mut conn = connect(&db);
    let new = event(1);
    append(&mut conn, &new).unwrap();

    refused(
        diesel::update(dsl::audit_events.filter(dsl::id.eq(new.id().to_string())))
            .set((
                dsl::seq.eq(1),
                dsl::prev_hash.eq(vec![0u8; 32]),
                dsl::hash.eq(vec![0u8; 32]),
                dsl::detail.eq("rewritten"),
            ))
            .execute(&mut conn),
    );
}

#[test]
fn an_event_in_a_rolled_back_transaction_leaves_nothing() {
    let db = TestDatabase::create();
    let mut conn = connect(&db);

    let result = conn.transaction(|conn| {
        append(conn, &event(1))?;
        Err::<(), ApiError>(ApiError::Conflict("the change failed".into()))
    });

    assert!(result.is_err());
    let (events, next) = page_of(&mut conn, &AuditFilter::default(), 10, None);
    assert!(events.is_empty());
    assert!(next.is_none());
    assert_eq!(sequence_pending(&mut conn, 10).unwrap(), 0);
    assert_eq!(verify(&mut conn).unwrap().events, 0);
}

#[test]
fn an_event_committed_late_with_an_earlier_queue_number_is_chained() {
    let db = TestDatabase::create();
    if !db.is_postgres() {
        // SQLite has one writer at a time: queue order is commit order.
        return;
    }
    let mut slow = connect(&db);
    let mut fast = connect_again(&db);
    let mut sequencer = connect_again(&db);
    let late = event(1);
    let early = event(2);

    slow.transaction(|slow| {
        append(slow, &late)?;
        append(&mut fast, &early)?;
        // Only `early` is visible: it is chained first, `late` is not lost.
        assert_eq!(sequence_pending(&mut sequencer, 10)?, 1);
        Ok::<(), ApiError>(())
    })
    .unwrap();
    assert_eq!(sequence_pending(&mut sequencer, 10).unwrap(), 1);

    let report = verify(&mut sequencer).unwrap();
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
    let done = std::sync::atomic::AtomicBool::new(false);

    std::thread::scope(|scope| {
        let sequencers: Vec<_> = (0..2)
            .map(|_| {
                let mut conn = connect_again(&db);
                let done = &done;
                scope.spawn(move || {
                    while !done.load(std::sync::atomic::Ordering::SeqCst) {
                        sequence_pending(&mut conn, 37).expect("sequence");
                        std::thread::sleep(Duration::from_millis(2));
                    }
                })
            })
            .collect();
        let appenders: Vec<_> = (0..APPENDERS)
            .map(|t| {
                let mut conn = connect_again(&db);
                scope.spawn(move || {
                    for i in 0..EACH {
                        conn.transaction(|conn| append(conn, &event(t * 1000 + i)))
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
    let report = verify(&mut conn).unwrap();

    assert!(report.ok, "{report:?}");
    assert_eq!(report.events, u64::from(APPENDERS * EACH));
    let unchained: i64 = dsl::audit_events
        .filter(dsl::seq.is_null())
        .count()
        .get_result(&mut conn)
        .unwrap();
    assert_eq!(unchained, 0);
}

#[test]
fn list_filters_and_pages_newest_first() {
    let db = TestDatabase::create();
    let mut conn = connect(&db);
    let actor = Uuid::new_v4();
    let case = Uuid::new_v4();
    let at = |minute| Utc.with_ymd_and_hms(2026, 11, 22, 8, minute, 0).unwrap();
    for minute in 0..5 {
        append(
            &mut conn,
            &NewEvent::new(Action::CaseRead, Outcome::Success)
                .actor(actor, "social_worker")
                .entity(Entity::Case, case)
                .occurred_at(at(minute)),
        )
        .unwrap();
    }
    append(
        &mut conn,
        &NewEvent::new(Action::AuthLogin, Outcome::Success)
            .actor(Uuid::new_v4(), "auditor")
            .occurred_at(at(2)),
    )
    .unwrap();
    // Two at the same instant: the id breaks the tie, stably.
    append(
        &mut conn,
        &NewEvent::new(Action::CaseUpdate, Outcome::Denied)
            .actor(actor, "social_worker")
            .entity(Entity::Case, case)
            .occurred_at(at(4)),
    )
    .unwrap();

    let all = |filter: AuditFilter, conn: &mut AnyConnection| {
        let mut seen = Vec::new();
        let mut cursor = None;
        loop {
            let (page, next) = page_of(conn, &filter, 2, cursor.as_deref());
            assert!(page.len() <= 2);
            seen.extend(page);
            match next {
                Some(next) => cursor = Some(next),
                None => break seen,
            }
        }
    };
    let everything = all(AuditFilter::default(), &mut conn);
    assert_eq!(everything.len(), 7);
    assert!(
        everything
            .windows(2)
            .all(|w| (w[0].occurred_at, &w[0].id) > (w[1].occurred_at, &w[1].id))
    );

    let by_actor = AuditFilter {
        actor_id: Some(actor),
        ..AuditFilter::default()
    };
    assert_eq!(all(by_actor, &mut conn).len(), 6);
    let by_entity = AuditFilter {
        entity_id: Some(case.to_string()),
        action: Some(Action::CaseRead),
        ..AuditFilter::default()
    };
    assert_eq!(all(by_entity, &mut conn).len(), 5);
    let window = AuditFilter {
        from: Some(at(1)),
        to: Some(at(3)),
        ..AuditFilter::default()
    };
    let in_window = all(window, &mut conn);
    assert_eq!(in_window.len(), 3);
    assert!(
        in_window
            .iter()
            .all(|e| e.occurred_at >= at(1).naive_utc() && e.occurred_at < at(3).naive_utc())
    );
}

#[tokio::test]
async fn the_running_service_chains_events_in_the_background() {
    let app = spawn_app().await;
    let url = app.db.url().to_string();
    let new = event(1);
    let id = new.id().to_string();

    let chained = tokio::task::spawn_blocking(move || {
        let mut conn = sanad::db::ConnectionManager::new(&url, 5000)
            .unwrap()
            .establish()
            .unwrap();
        append(&mut conn, &new).unwrap();
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
    let role = format!("sanad_app_{}", Uuid::new_v4().simple());
    owner
        .batch_execute(&format!(
            "CREATE ROLE {role} LOGIN;
             REVOKE ALL ON audit_events FROM PUBLIC;
             REVOKE ALL ON audit_events FROM {role};
             GRANT SELECT, INSERT ON audit_events TO {role};
             GRANT UPDATE (seq, prev_hash, hash) ON audit_events TO {role};"
        ))
        .unwrap();
    let mut url = url::Url::parse(db.url()).unwrap();
    url.set_username(&role).unwrap();
    let outcome = std::panic::catch_unwind(|| {
        let mut app = sanad::db::ConnectionManager::new(url.as_str(), 5000)
            .unwrap()
            .establish()
            .unwrap();
        for i in 0..3 {
            append(&mut app, &event(i)).unwrap();
        }
        let report = verify(&mut app).unwrap();
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
        denied(diesel::sql_query("TRUNCATE audit_events").execute(&mut app));
        denied(diesel::sql_query("ALTER TABLE audit_events DISABLE TRIGGER ALL").execute(&mut app));
    });
    // Roles belong to the cluster, not to the test database: drop it.
    owner
        .batch_execute(&format!(
            "REVOKE ALL ON audit_events FROM {role}; DROP ROLE {role};"
        ))
        .unwrap();
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
}
