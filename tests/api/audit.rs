//! The audit log's storage layer on a real database (both backends): append,
//! the sequencer, verification, and what someone with database access but
//! not the keyring can do to it (every change is named).

use chrono::{TimeZone, Utc};
use diesel::prelude::*;
use sanad::audit::legacy;
use sanad::audit::{
    Action, AuditFilter, Event, NewEvent, Outcome, SubjectRow, append, append_with, list,
    sequence_pending, verify,
};
use sanad::crypto::audit_keys;
use sanad::db::AnyConnection;
use sanad::db::schema::audit_events::dsl;
use sanad::db::schema::audit_subjects;
use sanad::error::ApiError;
use sanad::pagination::PageRequest;
use uuid::Uuid;

use crate::helpers::TestDatabase;
use crate::helpers::audit::{
    bypass_triggers, chained_log, connect, event, event_at, fresh_keys, id_at, refused,
};

#[test]
fn appended_events_are_sealed_sequenced_and_verify() {
    let db = TestDatabase::create();
    let mut conn = connect(&db);
    let keys = fresh_keys();
    let first = event(1).showing([Uuid::new_v4()]);
    audit_keys::scope(&keys, || {
        append(&mut conn, &first)?;
        append(
            &mut conn,
            &NewEvent::new(Action::AuthLoginFailed, Outcome::Failure),
        )?;
        append(&mut conn, &event(3))
    })
    .unwrap();

    let page = PageRequest::new(10, None).unwrap();
    let unchained = list(&mut conn, &AuditFilter::default(), &page).unwrap();
    assert!(unchained.iter().all(|e| e.seq.is_none() && e.mac.is_some()));
    assert_eq!(sequence_pending(&mut conn, &keys, 100).unwrap(), 3);
    assert_eq!(sequence_pending(&mut conn, &keys, 100).unwrap(), 0);
    let report = verify(&mut conn, &keys).unwrap();

    assert!(report.ok, "{report:?}");
    assert_eq!((report.events, report.broken), (3, 0));
    let (head_seq, head_hash) = report.head.expect("a head");
    assert_eq!((head_seq, head_hash.len()), (3, 64));
    let chained = event_at(&mut conn, 1);
    assert_eq!(chained.id, first.id().to_string());
    assert_eq!(chained.prev_hash.as_deref(), Some(&[0u8; 32][..]));
    assert_eq!(chained.key_id.as_deref(), Some(keys.active()));
    assert_eq!(chained.chain_key_id.as_deref(), Some(keys.active()));
    assert_eq!(chained.detail.as_deref(), Some("test event 1"));
}

#[test]
fn with_no_audit_key_in_scope_nothing_is_appended() {
    let db = TestDatabase::create();
    let mut conn = connect(&db);

    let err = append(&mut conn, &event(1)).unwrap_err();

    assert!(matches!(err, ApiError::Internal(_)), "{err:?}");
    let count: i64 = dsl::audit_events.count().get_result(&mut conn).unwrap();
    assert_eq!(count, 0);
}

#[test]
fn verify_chains_what_is_pending_first() {
    let db = TestDatabase::create();
    let mut conn = connect(&db);
    let keys = fresh_keys();
    assert_eq!(verify(&mut conn, &keys).unwrap().events, 0);
    for i in 0..3 {
        append_with(&mut conn, &keys, &event(i)).unwrap();
    }

    let report = verify(&mut conn, &keys).unwrap();

    assert!(report.ok);
    assert_eq!(report.events, 3);
}

/// The forgery the SHA-256 chain let through: a row INSERTed with the
/// application's own privilege, backdated and falsely attributed, which
/// the sequencer then chained like any other.
#[test]
fn an_event_inserted_without_the_key_is_named() {
    let (_db, mut conn, keys) = chained_log(3);
    let forged = Uuid::new_v4().to_string();
    let at = Utc
        .with_ymd_and_hms(2026, 1, 5, 9, 0, 0)
        .unwrap()
        .naive_utc();
    diesel::insert_into(dsl::audit_events)
        .values((
            dsl::id.eq(&forged),
            dsl::occurred_at.eq(at),
            dsl::actor_id.eq(Uuid::new_v4().to_string()),
            dsl::actor_role.eq("city_supervisor"),
            dsl::action.eq("case.erase"),
            dsl::outcome.eq("success"),
        ))
        .execute(&mut conn)
        .unwrap();
    // A second try with a MAC lifted from a real event.
    let lifted = event_at(&mut conn, 2);
    let copied = Uuid::new_v4().to_string();
    diesel::insert_into(dsl::audit_events)
        .values((
            dsl::id.eq(&copied),
            dsl::occurred_at.eq(lifted.occurred_at),
            dsl::action.eq("case.read"),
            dsl::outcome.eq("success"),
            dsl::key_id.eq(lifted.key_id.clone()),
            dsl::mac.eq(lifted.mac.clone()),
        ))
        .execute(&mut conn)
        .unwrap();

    let report = verify(&mut conn, &keys).unwrap();

    assert!(!report.ok);
    assert_eq!(report.first_broken_id.as_deref(), Some(forged.as_str()));
    assert_eq!((report.events, report.broken), (3, 2));
    assert_eq!(id_at(&mut conn, 5), copied, "chained, and named");
}

#[test]
fn an_edited_event_is_named() {
    let (_db, mut conn, keys) = chained_log(5);
    let edited = id_at(&mut conn, 3);
    bypass_triggers(&mut conn);

    diesel::update(dsl::audit_events.filter(dsl::id.eq(&edited)))
        .set(dsl::actor_role.eq("city_supervisor"))
        .execute(&mut conn)
        .unwrap();
    let report = verify(&mut conn, &keys).unwrap();

    assert!(!report.ok);
    assert_eq!(report.first_broken_id.as_deref(), Some(edited.as_str()));
    assert_eq!((report.events, report.broken), (2, 1));
}

#[test]
fn a_removed_or_added_subject_is_named() {
    let (_db, mut conn, keys) = chained_log(5);
    let (thinned, padded) = (id_at(&mut conn, 2), id_at(&mut conn, 4));
    bypass_triggers(&mut conn);
    let one: SubjectRow = audit_subjects::table
        .filter(audit_subjects::event_id.eq(&thinned))
        .select((
            audit_subjects::subject_id,
            audit_subjects::occurred_at,
            audit_subjects::event_id,
            audit_subjects::kind,
        ))
        .first(&mut conn)
        .unwrap();

    diesel::delete(
        audit_subjects::table
            .filter(audit_subjects::event_id.eq(&thinned))
            .filter(audit_subjects::subject_id.eq(&one.subject_id)),
    )
    .execute(&mut conn)
    .unwrap();
    let added = SubjectRow {
        event_id: padded.clone(),
        occurred_at: event_at(&mut conn, 4).occurred_at,
        ..one
    };
    diesel::insert_into(audit_subjects::table)
        .values(&added)
        .execute(&mut conn)
        .unwrap();
    let report = verify(&mut conn, &keys).unwrap();

    assert!(!report.ok);
    assert_eq!(report.first_broken_id.as_deref(), Some(thinned.as_str()));
    assert_eq!((report.events, report.broken), (1, 2));
}

#[test]
fn a_deleted_event_is_caught_at_the_one_that_followed_it() {
    let (_db, mut conn, keys) = chained_log(5);
    let deleted = id_at(&mut conn, 3);
    let follower = id_at(&mut conn, 4);
    bypass_triggers(&mut conn);

    diesel::delete(audit_subjects::table.filter(audit_subjects::event_id.eq(&deleted)))
        .execute(&mut conn)
        .unwrap();
    diesel::delete(dsl::audit_events.filter(dsl::id.eq(&deleted)))
        .execute(&mut conn)
        .unwrap();
    let report = verify(&mut conn, &keys).unwrap();

    assert!(!report.ok);
    assert_eq!(report.first_broken_id.as_deref(), Some(follower.as_str()));
    assert_eq!((report.events, report.broken), (2, 1));
}

#[test]
fn two_events_swapped_are_named() {
    let (_db, mut conn, keys) = chained_log(5);
    let (second, third) = (event_at(&mut conn, 2), event_at(&mut conn, 3));
    bypass_triggers(&mut conn);
    // Every chain column moves with its event's new place, as a forger
    // without the key would have to leave them.
    for (event, seq) in [(&second, 1003), (&third, 2), (&second, 3)] {
        diesel::update(dsl::audit_events.filter(dsl::id.eq(&event.id)))
            .set(dsl::seq.eq(seq))
            .execute(&mut conn)
            .unwrap();
    }

    let report = verify(&mut conn, &keys).unwrap();

    assert!(!report.ok);
    assert_eq!(report.first_broken_id.as_deref(), Some(third.id.as_str()));
    assert_eq!(report.events, 1);
}

#[test]
fn a_forged_event_in_the_middle_is_named_itself() {
    let (_db, mut conn, keys) = chained_log(5);
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
    // The best a forger without the key can do: a well-formed event whose
    // link points at the event before, hashed as the old chain was.
    let forged_id = Uuid::new_v4().to_string();
    let at = Utc.with_ymd_and_hms(2026, 11, 22, 9, 0, 0).unwrap();
    let prev = before.hash.clone().unwrap();
    let forged = Event {
        id: forged_id.clone(),
        seq: Some(3),
        occurred_at: at.naive_utc(),
        ..before.clone()
    };
    let hash = legacy::event_hash(&prev, &forged);
    diesel::insert_into(dsl::audit_events)
        .values((
            dsl::id.eq(&forged_id),
            dsl::occurred_at.eq(at.naive_utc()),
            dsl::action.eq("case.read"),
            dsl::outcome.eq("success"),
            dsl::seq.eq(3),
            dsl::prev_hash.eq(prev),
            dsl::hash.eq(hash.to_vec()),
            dsl::key_id.eq(before.key_id.clone()),
            dsl::mac.eq(before.mac.clone()),
            dsl::chain_key_id.eq(before.chain_key_id.clone()),
        ))
        .execute(&mut conn)
        .unwrap();

    let report = verify(&mut conn, &keys).unwrap();

    // Its own MACs do not hold; the event it pushed aside no longer links,
    // and those after it are no longer at the seq their links name.
    assert!(!report.ok);
    assert_eq!(report.first_broken_id.as_deref(), Some(forged_id.as_str()));
    assert_eq!((report.events, report.broken), (2, 4));
    assert_ne!(displaced, forged_id);
}

#[test]
fn a_chain_recomputed_without_the_key_is_named() {
    let (_db, mut conn, keys) = chained_log(5);
    bypass_triggers(&mut conn);
    let edited = id_at(&mut conn, 3);
    diesel::update(dsl::audit_events.filter(dsl::seq.eq(3)))
        .set(dsl::outcome.eq("denied"))
        .execute(&mut conn)
        .unwrap();
    // Every hash from there on recomputed, as SHA-256 allowed before.
    let mut prev = event_at(&mut conn, 2).hash.unwrap();
    for seq in 3..=5 {
        let hash = legacy::event_hash(&prev, &event_at(&mut conn, seq)).to_vec();
        diesel::update(dsl::audit_events.filter(dsl::seq.eq(seq)))
            .set((dsl::prev_hash.eq(prev.clone()), dsl::hash.eq(hash.clone())))
            .execute(&mut conn)
            .unwrap();
        prev = hash;
    }

    let report = verify(&mut conn, &keys).unwrap();

    assert!(!report.ok);
    assert_eq!(report.first_broken_id.as_deref(), Some(edited.as_str()));
    assert_eq!((report.events, report.broken), (2, 3));
}

#[test]
fn the_tables_refuse_updates_and_deletes() {
    let (_db, mut conn, keys) = chained_log(2);
    let id = id_at(&mut conn, 1);
    let target = || dsl::audit_events.filter(dsl::id.eq(id.clone()));

    refused(
        diesel::update(target())
            .set(dsl::action.eq("case.update"))
            .execute(&mut conn),
    );
    refused(
        diesel::update(target())
            .set(dsl::mac.eq(vec![0u8; 32]))
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
                dsl::chain_key_id.eq("k"),
            ))
            .execute(&mut conn),
    );
    // …an event cannot arrive already chained…
    refused(
        diesel::insert_into(dsl::audit_events)
            .values((
                dsl::id.eq(Uuid::new_v4().to_string()),
                dsl::occurred_at.eq(Utc::now().naive_utc()),
                dsl::action.eq("case.read"),
                dsl::outcome.eq("success"),
                dsl::chain_key_id.eq("k"),
            ))
            .execute(&mut conn),
    );
    // …and its subjects stay as they were.
    refused(diesel::delete(audit_subjects::table).execute(&mut conn));
    refused(
        diesel::update(audit_subjects::table)
            .set(audit_subjects::kind.eq("referral"))
            .execute(&mut conn),
    );
    if let AnyConnection::Postgresql(pg) = &mut conn {
        // TRUNCATE fires the tables' statement triggers, alone or together.
        refused(diesel::sql_query("TRUNCATE audit_events").execute(pg));
        refused(diesel::sql_query("TRUNCATE audit_events CASCADE").execute(pg));
        refused(diesel::sql_query("TRUNCATE audit_events, audit_subjects").execute(pg));
        refused(diesel::sql_query("TRUNCATE audit_subjects").execute(pg));
    }
    assert!(verify(&mut conn, &keys).unwrap().ok);
}

#[test]
fn filling_the_chain_columns_with_another_change_is_refused() {
    let db = TestDatabase::create();
    let mut conn = connect(&db);
    let new = event(1);
    append_with(&mut conn, &fresh_keys(), &new).unwrap();
    let target = || dsl::audit_events.filter(dsl::id.eq(new.id().to_string()));
    let chain = (
        dsl::seq.eq(1),
        dsl::prev_hash.eq(vec![0u8; 32]),
        dsl::hash.eq(vec![0u8; 32]),
        dsl::chain_key_id.eq("k"),
    );

    refused(
        diesel::update(target())
            .set((chain.clone(), dsl::detail.eq("rewritten")))
            .execute(&mut conn),
    );
    refused(
        diesel::update(target())
            .set((chain, dsl::mac.eq(vec![1u8; 32])))
            .execute(&mut conn),
    );
    // The one re-chain's update, long after it ran.
    refused(
        diesel::update(target())
            .set((dsl::key_id.eq("k"), dsl::mac.eq(vec![1u8; 32])))
            .execute(&mut conn),
    );
}

#[test]
fn an_event_in_a_rolled_back_transaction_leaves_nothing() {
    let db = TestDatabase::create();
    let mut conn = connect(&db);
    let keys = fresh_keys();

    let result = conn.transaction(|conn| {
        append_with(conn, &keys, &event(1).showing([Uuid::new_v4()]))?;
        Err::<(), ApiError>(ApiError::Conflict("the change failed".into()))
    });

    assert!(result.is_err());
    let subjects: i64 = audit_subjects::table.count().get_result(&mut conn).unwrap();
    assert_eq!(subjects, 0);
    assert_eq!(sequence_pending(&mut conn, &keys, 10).unwrap(), 0);
    assert_eq!(verify(&mut conn, &keys).unwrap().events, 0);
}
