//! Erasure leaves nothing to find: no wrapped data key in the database
//! files (the SQLite file and its WAL, a pg_dump, PostgreSQL's table file
//! after `sanad vacuum`), no link to the household, no label naming the
//! person, nothing but the coarse categories the statistics count.

use chrono::Datelike;
use diesel::prelude::*;
use sanad::db::schema::{
    audit_events, case_notes, case_search_index, cases, data_keys, referrals, transfers,
};
use sanad::domain::Role;
use serde_json::{Value, json};

use crate::helpers::{
    TestApp, TestDatabase, contains_bytes, create, database_bytes, id_of, new_case, refer,
    spawn_app,
};

/// The wrapped data key stored for a subject (a case or a household).
fn wrapped_key(app: &TestApp, subject: &str) -> Option<Vec<u8>> {
    data_keys::table
        .find(subject)
        .select(data_keys::wrapped_key)
        .first(&mut app.conn())
        .expect("a data key row")
}

async fn erase(app: &TestApp, token: &str, case: &str) {
    let erased = app
        .post_as(
            token,
            &format!("/api/v1/cases/{case}/erase"),
            &json!({"reason": "Asked to be forgotten"}),
        )
        .await;
    assert_eq!(erased.status().as_u16(), 204);
}

/// PostgreSQL's own file of `data_keys`, when this process can read the
/// cluster's data directory (a test server on this machine).
fn data_keys_file(app: &TestApp) -> Option<Vec<u8>> {
    #[derive(QueryableByName)]
    struct Path {
        #[diesel(sql_type = diesel::sql_types::Text)]
        path: String,
    }
    let mut conn = app.conn();
    let sql = "SELECT current_setting('data_directory') || '/' || pg_relation_filepath('data_keys') AS path";
    let path: Path = diesel::sql_query(sql).get_result(&mut conn).ok()?;
    std::fs::read(path.path).ok()
}

#[tokio::test]
async fn no_wrapped_key_of_an_erased_person_is_left_in_the_database_files() {
    let s = spawn_app()
        .with_city("MOS")
        .signed_in(Role::CitySupervisor)
        .await;
    let app = &s.app;
    let household: Value = app
        .post_as(
            &s.token,
            "/api/v1/households",
            &json!({"city_id": s.city, "label": "عائلة وداد"}),
        )
        .await
        .json()
        .await
        .unwrap();
    let mut body = new_case(s.city, "وداد حسن");
    body["household_id"] = household["id"].clone();
    let case = id_of(&create(app, &s.token, &body).await).to_string();
    let keys = [
        wrapped_key(app, &case).unwrap(),
        wrapped_key(app, id_of(&household)).unwrap(),
    ];
    let before = database_bytes(&app.db);
    for key in &keys {
        assert!(
            contains_bytes(&before, key),
            "the search must find a live key"
        );
    }

    erase(app, &s.token, &case).await;

    assert_eq!(wrapped_key(app, &case), None);
    assert_eq!(wrapped_key(app, id_of(&household)), None, "the last member");
    let after = database_bytes(&app.db);
    for key in &keys {
        assert!(
            !contains_bytes(&after, key),
            "a wrapped key survived the erasure"
        );
    }
    if app.db.is_postgres() {
        // Until a vacuum the old row versions are in the table's file; the
        // operator's `sanad vacuum` rewrites it.
        let mut conn = app.conn();
        let done =
            sanad::db::erasure::vacuum(&mut conn, std::time::Duration::from_secs(120)).unwrap();
        assert_eq!(done.steps, ["VACUUM FULL data_keys", "CHECKPOINT"]);
        if let Some(file) = data_keys_file(app) {
            for key in &keys {
                assert!(
                    !contains_bytes(&file, key),
                    "a wrapped key is still on disk"
                );
            }
        }
    }
}

#[tokio::test]
async fn an_erased_mother_leaves_her_household_and_its_label_and_only_categories_stay() {
    let s = spawn_app()
        .with_city("MOS")
        .signed_in(Role::CitySupervisor)
        .await;
    let (app, token) = (&s.app, &s.token);
    let telafar = app.city("TAF");
    let org = app.organisation(sanad::domain::OrganisationKind::Psychosocial, s.city);
    let household: Value = app
        .post_as(
            token,
            "/api/v1/households",
            &json!({"city_id": s.city, "label": "عائلة فاطمة، الطابق الثاني"}),
        )
        .await
        .json()
        .await
        .unwrap();
    let household_id = id_of(&household).to_string();
    let member = |name: &str| {
        let mut body = new_case(s.city, name);
        body["household_id"] = json!(household_id);
        body["assigned_to"] = json!(s.user.id);
        body["return_date"] = json!("2025-07-19");
        body
    };
    let mother = id_of(&create(app, token, &member("فاطمة أحمد")).await).to_string();
    let child = id_of(&create(app, token, &member("علي حسين")).await).to_string();
    let note = app
        .post_as(
            token,
            &format!("/api/v1/cases/{mother}/notes"),
            &json!({"body": "Visited at home", "visit_date": "2025-08-01"}),
        )
        .await;
    assert_eq!(note.status().as_u16(), 201);
    let referral = id_of(&refer(app, token, &mother, org).await).to_string();
    let asked = app
        .post_as(
            token,
            &format!("/api/v1/cases/{mother}/transfers"),
            &json!({"to_city_id": telafar, "reason": "Going to her brother"}),
        )
        .await;
    assert_eq!(asked.status().as_u16(), 201);
    let label_key = wrapped_key(app, &household_id).unwrap();

    erase(app, token, &mother).await;

    // The household: the child stays, the label loses her name, sealed
    // again under a new key.
    let read: Value = app
        .get_as(token, &format!("/api/v1/households/{household_id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(read["label"], "عائلة الطابق الثاني");
    let members: Vec<&str> = read["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap())
        .collect();
    assert_eq!(members, [child.as_str()]);
    let new_key = wrapped_key(app, &household_id).unwrap();
    assert_ne!(new_key, label_key);
    // The row: categories only.
    let mut conn = app.conn();
    let row: sanad::cases::row::CaseRow = cases::table
        .find(&mother)
        .select(cases::all_columns)
        .first(&mut conn)
        .unwrap();
    assert_eq!(row.status.as_str(), "erased");
    assert_eq!(row.case_number, mother);
    assert_eq!((row.household_id, row.assigned_to), (None, None));
    assert_eq!(row.return_date.to_string(), "2025-07-01");
    assert_eq!((row.birth_year, row.sex.as_str()), (1990, "female"));
    assert_eq!(row.city_id, s.city);
    assert!(row.full_name_enc.as_bytes().is_empty() && row.date_of_birth_enc.as_bytes().is_empty());
    assert!(row.phone_enc.is_none() && row.national_id_enc.is_none() && row.address_enc.is_none());
    assert_eq!(row.created_at.day(), 1);
    assert!(!row.consent_share);
    let notes: i64 = case_notes::table
        .filter(case_notes::case_id.eq(&mother))
        .count()
        .get_result(&mut conn)
        .unwrap();
    let moves: i64 = transfers::table
        .filter(transfers::case_id.eq(&mother))
        .count()
        .get_result(&mut conn)
        .unwrap();
    let indexed: i64 = case_search_index::table
        .filter(case_search_index::case_id.eq(&mother))
        .count()
        .get_result(&mut conn)
        .unwrap();
    assert_eq!((notes, moves, indexed), (0, 0, 0));
    // Her referral: cancelled, what the statistics count and nothing more.
    let (state, reason, due, city): (String, Vec<u8>, Option<chrono::NaiveDate>, String) =
        referrals::table
            .find(&referral)
            .select((
                referrals::state,
                referrals::reason_enc,
                referrals::due_by,
                referrals::city_id,
            ))
            .first(&mut conn)
            .unwrap();
    assert_eq!((state.as_str(), reason.len(), due), ("cancelled", 0, None));
    assert_eq!(city, s.city.to_string());
    // The event names what the erasure ended, and nobody's name.
    let erased: Value = app.audit_events("case.erase").await[0].clone();
    assert!(
        erased["detail"]
            .as_str()
            .unwrap()
            .contains("household label resealed")
    );
    assert_eq!(erased["subjects"][0]["id"], referral.as_str());
    assert!(!erased.to_string().contains("فاطمة"));

    // The last member erased: the label and its key go too.
    erase(app, token, &child).await;
    assert_eq!(wrapped_key(app, &household_id), None);
    let label: Option<Vec<u8>> = sanad::db::schema::households::table
        .find(&household_id)
        .select(sanad::db::schema::households::label_enc)
        .first(&mut conn)
        .unwrap();
    assert_eq!(label, None);
    let erasures: i64 = audit_events::table
        .filter(audit_events::action.eq("case.erase"))
        .count()
        .get_result(&mut conn)
        .unwrap();
    assert_eq!(erasures, 2);
}

#[test]
fn the_vacuum_runs_on_either_backend() {
    let db = TestDatabase::create();
    let mut conn = crate::helpers::audit::connect(&db);
    let done = sanad::db::erasure::vacuum(&mut conn, std::time::Duration::from_secs(120)).unwrap();
    assert!(!done.steps.is_empty());
}
