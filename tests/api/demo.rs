//! `sanad demo seed`: the data it makes is usable through the API exactly
//! like data typed in by a social worker, and never stored in plaintext.

use diesel::prelude::*;
use serde_json::{Value, json};

use sanad::db::schema::{audit_events, case_search_index, cases, cities, data_keys, referrals};
use sanad::demo::{SeedOptions, SeedReport, seed};
use sanad::settings::Environment;

use crate::helpers::{TestApp, contains, database_bytes, spawn_app, test_settings};

async fn run_seed(
    app: &TestApp,
    cases: u64,
    environment: Environment,
) -> anyhow::Result<SeedReport> {
    let mut settings = test_settings(&app.db, &app.keyring_path);
    settings.environment = environment;
    tokio::task::spawn_blocking(move || {
        seed(
            &settings,
            &SeedOptions {
                cases,
                seed: 7,
                workers: 2,
                batch: 150,
            },
            &mut |_| {},
        )
    })
    .await
    .expect("the seed task ends")
}

/// Signs in as a demo account with the password the seed printed.
async fn token_of(app: &TestApp, report: &SeedReport, username: &str) -> String {
    let password = report
        .users
        .iter()
        .find(|u| u.username == username)
        .and_then(|u| u.password.clone())
        .expect("a new demo account has its password");
    let login: Value = app.login(username, &password).await.json().await.unwrap();
    login["access_token"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn seeded_people_are_encrypted_findable_and_scoped_like_any_other() {
    let app = spawn_app().await;
    let report = run_seed(&app, 600, Environment::Local).await.unwrap();
    assert_eq!(report.cases, 600);
    assert!(report.households > 60, "{}", report.households);
    assert!(report.referrals > 100, "{}", report.referrals);
    // Referrals of every kind, the livelihoods ones included.
    let kinds: Vec<String> = referrals::table
        .select(referrals::kind)
        .distinct()
        .load(&mut app.conn())
        .unwrap();
    for kind in sanad::domain::OrganisationKind::ALL {
        assert!(
            kinds.iter().any(|k| k == kind.as_str()),
            "{kind:?}: {kinds:?}"
        );
    }

    let mut conn = app.conn();
    let stored: i64 = cases::table.count().get_result(&mut conn).unwrap();
    assert_eq!(stored, 600);
    // Every case has its own data key and blind indexes.
    let keyed: i64 = data_keys::table
        .inner_join(cases::table.on(cases::id.eq(data_keys::subject_id)))
        .count()
        .get_result(&mut conn)
        .unwrap();
    assert_eq!(keyed, 600);
    let indexed: i64 = case_search_index::table
        .count()
        .get_result(&mut conn)
        .unwrap();
    assert!(indexed > 600 * 4, "{indexed}");
    // Baselines and follow-ups, improving on the whole; more so where a
    // referral ended well.
    assert!(report.assessments > 150, "{}", report.assessments);
    {
        use sanad::db::schema::assessments as a;
        let stages: Vec<String> = a::table
            .select(a::stage)
            .distinct()
            .load(&mut conn)
            .unwrap();
        assert!(
            stages.contains(&"baseline".to_string()) && stages.contains(&"follow_up".to_string()),
            "{stages:?}"
        );
        let rows: Vec<(String, String, Option<i16>)> = a::table
            .select((a::case_id, a::stage, a::score_composite))
            .load(&mut conn)
            .unwrap();
        let score = |case: &str, stage: &str| {
            rows.iter()
                .find(|r| r.0 == case && r.1 == stage)
                .and_then(|r| r.2)
        };
        let changes: Vec<i16> = rows
            .iter()
            .filter(|r| r.1 == "follow_up")
            .filter_map(|r| Some(r.2? - score(&r.0, "baseline")?))
            .collect();
        assert!(changes.len() > 20, "{}", changes.len());
        let mean = changes.iter().map(|c| f64::from(*c)).sum::<f64>() / changes.len() as f64;
        assert!(
            mean > 0.0 && mean < 5.0,
            "a plausible mean change in tenths: {mean}"
        );
    }
    // Referrals in every state of the machine.
    let mut states: Vec<String> = referrals::table
        .select(referrals::state)
        .distinct()
        .load(&mut conn)
        .unwrap();
    states.sort();
    assert_eq!(
        states,
        [
            "accepted",
            "cancelled",
            "completed",
            "declined",
            "in_progress",
            "pending"
        ]
    );
    // Case numbers are unique per city and year (a constraint), and the
    // run is in the audit log.
    let seeded: i64 = audit_events::table
        .filter(audit_events::action.eq("demo.seed"))
        .count()
        .get_result(&mut conn)
        .unwrap();
    assert_eq!(seeded, 1);

    // A social worker of Mosul signs in with the printed password and sees
    // Mosul's cases, decrypted.
    let worker = token_of(&app, &report, "sw-mos").await;
    let mosul: String = cities::table
        .filter(cities::code.eq("MOS"))
        .select(cities::id)
        .first(&mut conn)
        .unwrap();
    let page: Value = app
        .get_as(&worker, &format!("/api/v1/cases?city_id={mosul}&limit=100"))
        .await
        .json()
        .await
        .unwrap();
    let items = page["items"].as_array().unwrap();
    assert!(!items.is_empty());
    let mut found_by_id = false;
    for item in items {
        assert_eq!(item["city_id"], mosul.as_str());
        let case: Value = app
            .get_as(
                &worker,
                &format!("/api/v1/cases/{}", item["id"].as_str().unwrap()),
            )
            .await
            .json()
            .await
            .unwrap();
        assert!(case["case_number"].as_str().unwrap().starts_with("MOS-"));
        if let Some(nid) = case["subject"]["national_id"].as_str() {
            let found: Value = app
                .post_as(
                    &worker,
                    "/api/v1/cases/search",
                    &json!({ "national_id": nid }),
                )
                .await
                .json()
                .await
                .unwrap();
            assert!(
                found["items"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|c| c["id"] == case["id"])
            );
            found_by_id = true;
            break;
        }
    }
    assert!(
        found_by_id,
        "no Mosul case with a national id in the first page"
    );
    // Casework: the worker's day has overdue follow-ups; plans, most of
    // them approved, open through the API with their goals.
    let day: Value = app
        .get_as(&worker, "/api/v1/tasks")
        .await
        .json()
        .await
        .unwrap();
    let tasks = day["tasks"].as_array().unwrap();
    assert!(
        tasks
            .iter()
            .any(|t| t["source"] == "follow_up" && t["overdue"] == true),
        "{day}"
    );
    {
        use sanad::db::schema::{follow_ups as f, plans as p};
        let statuses: Vec<String> = p::table
            .select(p::status)
            .distinct()
            .load(&mut conn)
            .unwrap();
        assert!(statuses.contains(&"approved".to_string()), "{statuses:?}");
        let kinds: Vec<String> = f::table.select(f::kind).distinct().load(&mut conn).unwrap();
        assert!(
            kinds.contains(&"referral_check".to_string())
                && kinds.contains(&"home_visit".to_string()),
            "{kinds:?}"
        );
        let planned: String = p::table
            .filter(p::city_id.eq(&mosul))
            .select(p::case_id)
            .first(&mut conn)
            .unwrap();
        let plans: Value = app
            .get_as(&worker, &format!("/api/v1/cases/{planned}/plans"))
            .await
            .json()
            .await
            .unwrap();
        let text = plans.to_string();
        assert!(
            text.contains("goals") && !text.contains("\"text\":\"\""),
            "{plans}"
        );
    }
    // Another city's case is out of scope: 404.
    let elsewhere: String = cases::table
        .filter(cases::city_id.ne(&mosul))
        .select(cases::id)
        .first(&mut conn)
        .unwrap();
    let response = app
        .get_as(&worker, &format!("/api/v1/cases/{elsewhere}"))
        .await;
    assert_eq!(response.status(), 404);

    // The ministry gets national figures, once a release is made; a
    // provider its inbox.
    let ministry = token_of(&app, &report, "demo-ministry").await;
    crate::stats::release_at(&app, &crate::stats::stats_settings(&app), "2026-12-01").unwrap();
    let response = app
        .get_as(&ministry, "/api/v1/stats/cases?group_by=governorate")
        .await;
    assert_eq!(response.status(), 200);
    let provider = token_of(&app, &report, "psy-mos").await;
    let response = app.get_as(&provider, "/api/v1/referrals").await;
    assert_eq!(response.status(), 200);

    // No name, note or reason from the vocabulary is stored in plaintext.
    drop(conn);
    let bytes = database_bytes(&app.db);
    for plain in [
        "الجبوري",
        "الدليمي",
        "فاطمة",
        "Al-Jubouri",
        "مخيم الهول",
        "حي الزهور",
        "تدريب مهني",
    ] {
        assert!(!contains(&bytes, plain), "{plain} is stored in plaintext");
    }
}

#[tokio::test]
async fn seeding_again_adds_cases_and_keeps_accounts_and_places() {
    let app = spawn_app().await;
    run_seed(&app, 50, Environment::Local).await.unwrap();
    let again = run_seed(&app, 30, Environment::Local).await.unwrap();
    assert_eq!(again.cases, 30);
    assert!(again.users.iter().all(|u| u.password.is_none()));
    let mut conn = app.conn();
    let stored: i64 = cases::table.count().get_result(&mut conn).unwrap();
    assert_eq!(stored, 80);
    let mosuls: i64 = cities::table
        .filter(cities::code.eq("MOS"))
        .count()
        .get_result(&mut conn)
        .unwrap();
    assert_eq!(mosuls, 1);
}

#[tokio::test]
async fn demo_data_is_refused_in_production() {
    let app = spawn_app().await;
    let err = run_seed(&app, 10, Environment::Production)
        .await
        .err()
        .expect("refused");
    assert!(err.to_string().contains("production"));
    let stored: i64 = cases::table.count().get_result(&mut app.conn()).unwrap();
    assert_eq!(stored, 0);
}
