//! Fixtures for the audit log: an app's keys and events as an auditor reads
//! them; for the storage tests, a database holding a chain, the events at
//! given positions, and what an attacker with the table owner's rights can
//! do.

use std::sync::Arc;

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use sanad::audit::{Action, Entity, Event, NewEvent, Outcome, append_with, sequence_pending};
use sanad::crypto::{AuditKeys, Keyring};
use sanad::db::AnyConnection;
use sanad::db::schema::audit_events::dsl;
use sanad::domain::Role;
use serde_json::Value;
use uuid::Uuid;

use super::{TestApp, TestDatabase};

/// The audit keys of a new keyring.
pub fn fresh_keys() -> Arc<AuditKeys> {
    Arc::new(AuditKeys::from_keyring(&Keyring::generate().expect("keyring")).expect("keys"))
}

/// A connection to the test database, migrated.
pub fn connect(db: &TestDatabase) -> AnyConnection {
    let mut conn = connect_again(db);
    sanad::db::migrations::run(&mut conn).expect("migrate");
    conn
}

/// Another connection to the same database.
pub fn connect_again(db: &TestDatabase) -> AnyConnection {
    sanad::db::ConnectionManager::new(db.url(), 5000)
        .expect("database url")
        .establish()
        .expect("connect")
}

/// A case read by a made-up worker.
pub fn event(n: u32) -> NewEvent {
    NewEvent::new(Action::CaseRead, Outcome::Success)
        .actor(Uuid::new_v4(), "social_worker")
        .entity(Entity::Case, Uuid::new_v4())
        .city(Uuid::new_v4())
        .detail(format!("test event {n}"))
}

/// A fresh, migrated database holding `n` chained events, each of which
/// showed two people.
pub fn chained_log(n: u32) -> (TestDatabase, AnyConnection, Arc<AuditKeys>) {
    let db = TestDatabase::create();
    let mut conn = connect(&db);
    let keys = fresh_keys();
    for i in 0..n {
        let shown = event(i).showing([Uuid::new_v4(), Uuid::new_v4()]);
        append_with(&mut conn, &keys, &shown).expect("append");
    }
    assert_eq!(
        sequence_pending(&mut conn, &keys, 1000).expect("sequence"),
        n as usize
    );
    (db, conn, keys)
}

pub fn id_at(conn: &mut AnyConnection, seq: i64) -> String {
    event_at(conn, seq).id
}

pub fn event_at(conn: &mut AnyConnection, seq: i64) -> Event {
    dsl::audit_events
        .filter(dsl::seq.eq(seq))
        .select(Event::as_select())
        .first(conn)
        .expect("event at seq")
}

/// What an attacker with the table owner's rights (or a superuser) can do.
pub fn bypass_triggers(conn: &mut AnyConnection) {
    match conn {
        AnyConnection::Postgresql(pg) => pg
            .batch_execute("SET session_replication_role = replica")
            .expect("disable triggers"),
        AnyConnection::Sqlite(lite) => lite
            .batch_execute(
                "DROP TRIGGER audit_events_no_update;
                 DROP TRIGGER audit_events_no_delete;
                 DROP TRIGGER audit_events_insert_unchained;
                 DROP TRIGGER audit_subjects_no_update;
                 DROP TRIGGER audit_subjects_no_delete;",
            )
            .expect("drop triggers"),
    }
}

/// Asserts that the audit tables refused a statement.
pub fn refused(result: Result<usize, diesel::result::Error>) -> String {
    let err = result.expect_err("the audit table must refuse this");
    let text = err.to_string();
    assert!(
        text.contains("append-only") || text.contains("runs once"),
        "{text}"
    );
    text
}

impl TestApp {
    /// The keyring the app runs with.
    pub fn keyring(&self) -> sanad::crypto::Keyring {
        let text = std::fs::read_to_string(&self.keyring_path).expect("keyring file");
        sanad::crypto::Keyring::from_json(&text).expect("keyring")
    }

    /// The app's audit keys, to append, sequence and verify beside it.
    pub fn audit_keys(&self) -> std::sync::Arc<sanad::crypto::AuditKeys> {
        let keys = sanad::crypto::AuditKeys::from_keyring(&self.keyring()).expect("audit keys");
        std::sync::Arc::new(keys)
    }

    /// The audit events of one action, as an auditor reads them.
    pub async fn audit_events(&self, action: &str) -> Vec<Value> {
        let auditor = self.signed_in(Role::Auditor, &[], None).await;
        let page: Value = self
            .get_as(
                &auditor,
                &format!("/api/v1/audit?action={action}&limit=100"),
            )
            .await
            .json()
            .await
            .unwrap();
        page["items"].as_array().cloned().unwrap_or_default()
    }
}
