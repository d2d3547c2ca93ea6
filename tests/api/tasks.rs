//! `GET /tasks`: a worker's day and a supervisor's queue by worker, overdue
//! first, naming cases by id and number only; quiet households flagged.

use diesel::prelude::*;
use sanad::db::schema::{cases, follow_ups};
use sanad::domain::{OrganisationKind, Role};
use serde_json::{Value, json};

use crate::helpers::{assert_problem, create, id_of, new_case, spawn_app};

fn in_days(days: i64) -> chrono::NaiveDate {
    chrono::Utc::now().date_naive() + chrono::Duration::days(days)
}

#[tokio::test]
async fn a_workers_day_puts_overdue_first_and_a_supervisor_sees_it_by_worker() {
    let app = spawn_app().await;
    let city = app.city("MOS");
    let worker = app.user(Role::SocialWorker, &[city], None);
    let worker_token = app.token(&worker).await;
    let colleague = app.signed_in(Role::SocialWorker, &[city], None).await;
    let supervisor = app.signed_in(Role::CitySupervisor, &[city], None).await;
    let case = create(&app, &worker_token, &new_case(city, "سلمى ناصر")).await;
    let other = create(&app, &colleague, &new_case(city, "آمنة كريم")).await;
    let schedule = |token: String, case: String, due: i64| {
        let app = &app;
        async move {
            let made = app
                .post_as(
                    &token,
                    &format!("/api/v1/cases/{case}/follow-ups"),
                    &json!({"kind": "phone_call", "due_on": in_days(due)}),
                )
                .await;
            assert_eq!(made.status().as_u16(), 201);
            let made: Value = made.json().await.unwrap();
            id_of(&made).to_string()
        }
    };
    let soon = schedule(worker_token.clone(), id_of(&case).into(), 3).await;
    let late = schedule(worker_token.clone(), id_of(&case).into(), 1).await;
    let far = schedule(worker_token.clone(), id_of(&case).into(), 30).await;
    let theirs = schedule(colleague.clone(), id_of(&other).into(), 2).await;
    // Made overdue straight in the database (the API takes no past date).
    diesel::update(follow_ups::table.filter(follow_ups::id.eq(&late)))
        .set(follow_ups::due_on.eq(in_days(-2)))
        .execute(&mut app.conn())
        .unwrap();

    // An open referral the worker made, due in two days.
    let org = app.organisation(OrganisationKind::Health, city);
    let referral = app
        .post_as(
            &worker_token,
            &format!("/api/v1/cases/{}/referrals", id_of(&case)),
            &json!({
                "kind": "health", "organisation_id": org, "reason": "Check-up",
                "due_by": in_days(2)
            }),
        )
        .await;
    assert_eq!(referral.status().as_u16(), 201);
    let referral: Value = referral.json().await.unwrap();

    let day: Value = app
        .get_as(&worker_token, "/api/v1/tasks")
        .await
        .json()
        .await
        .unwrap();
    let ids: Vec<&str> = day["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        [late.as_str(), id_of(&referral), soon.as_str()],
        "{day}"
    );
    assert_eq!(day["tasks"][1]["source"], "referral");
    assert_eq!(day["tasks"][1]["detail"], "pending");
    assert!(!ids.contains(&far.as_str()) && !ids.contains(&theirs.as_str()));
    assert_eq!(day["tasks"][0]["overdue"], true);
    assert_eq!(day["tasks"][0]["case_number"], case["case_number"]);
    assert_eq!(day["by_worker"], json!([]));
    // No names anywhere in the answer.
    let text = day.to_string();
    assert!(!text.contains("سلمى") && !text.contains("آمنة"));

    let queue: Value = app
        .get_as(&supervisor, "/api/v1/tasks")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(queue["tasks"].as_array().unwrap().len(), 4);
    let groups = queue["by_worker"].as_array().unwrap();
    assert_eq!(groups.len(), 2);
    let mine = groups
        .iter()
        .find(|g| g["worker_id"] == worker.id.as_str())
        .unwrap();
    assert_eq!(mine["tasks"].as_array().unwrap().len(), 3);

    // The read is recorded naming the cases it listed.
    let auditor = app.signed_in(Role::Auditor, &[], None).await;
    let about: Value = app
        .get_as(
            &auditor,
            &format!("/api/v1/audit?entity_id={}", id_of(&case)),
        )
        .await
        .json()
        .await
        .unwrap();
    assert!(
        about["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["action"] == "task.list"),
        "{about}"
    );
    for role in [Role::MinistryOfficial, Role::Auditor, Role::Admin] {
        let token = app.signed_in(role, &[], None).await;
        assert_problem(app.get_as(&token, "/api/v1/tasks").await, 403).await;
    }
    let provider = app.signed_in(Role::ProviderStaff, &[], Some(org)).await;
    assert_problem(app.get_as(&provider, "/api/v1/tasks").await, 403).await;
}

#[tokio::test]
async fn incoming_transfers_and_quiet_households_show_and_other_cities_do_not() {
    let app = spawn_app().await;
    let mosul = app.city("MOS");
    let basra = app.city("BAS");
    let sender = app.signed_in(Role::SocialWorker, &[basra], None).await;
    let supervisor = app.signed_in(Role::CitySupervisor, &[mosul], None).await;
    let elsewhere = app.signed_in(Role::CitySupervisor, &[basra], None).await;
    let moving = create(&app, &sender, &new_case(basra, "زهراء علي")).await;
    let transfer = app
        .post_as(
            &sender,
            &format!("/api/v1/cases/{}/transfers", id_of(&moving)),
            &json!({"to_city_id": mosul, "reason": "Family moved"}),
        )
        .await;
    assert_eq!(transfer.status().as_u16(), 201);
    let transfer: Value = transfer.json().await.unwrap();

    let household: Value = app
        .post_as(
            &supervisor,
            "/api/v1/households",
            &json!({"city_id": mosul}),
        )
        .await
        .json()
        .await
        .unwrap();
    let mut member = new_case(mosul, "خديجة حسن");
    member["household_id"] = json!(id_of(&household));
    let member = create(&app, &supervisor, &member).await;
    // Opened 90 days ago and never contacted since.
    let long_ago = chrono::Utc::now().naive_utc() - chrono::Duration::days(90);
    diesel::update(cases::table.filter(cases::id.eq(id_of(&member))))
        .set(cases::created_at.eq(long_ago))
        .execute(&mut app.conn())
        .unwrap();

    let queue: Value = app
        .get_as(&supervisor, "/api/v1/tasks")
        .await
        .json()
        .await
        .unwrap();
    let incoming: Vec<&Value> = queue["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["source"] == "transfer")
        .collect();
    assert_eq!(incoming.len(), 1, "{queue}");
    assert_eq!(incoming[0]["id"], transfer["id"]);
    assert_eq!(incoming[0]["case_id"], moving["id"]);
    let quiet = queue["quiet_households"].as_array().unwrap();
    assert_eq!(quiet.len(), 1, "{queue}");
    assert_eq!(quiet[0]["household_id"], household["id"]);
    assert_eq!(quiet[0]["last_contact"], Value::Null);

    // A note is a contact: the household is no longer quiet.
    let note = app
        .post_as(
            &supervisor,
            &format!("/api/v1/cases/{}/notes", id_of(&member)),
            &json!({"body": "Visited"}),
        )
        .await;
    assert_eq!(note.status().as_u16(), 201);
    let queue: Value = app
        .get_as(&supervisor, "/api/v1/tasks")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(queue["quiet_households"], json!([]));

    let theirs: Value = app
        .get_as(&elsewhere, "/api/v1/tasks")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(theirs["quiet_households"], json!([]));
}

#[tokio::test]
async fn a_follow_up_assessment_falls_due_after_the_latest_scored_one() {
    use sanad::db::schema::{assessments, instruments};
    let app = spawn_app().await;
    let city = app.city("MOS");
    let worker = app.user(Role::SocialWorker, &[city], None);
    let token = app.token(&worker).await;
    let supervisor = app.signed_in(Role::CitySupervisor, &[city], None).await;
    let case = create(&app, &token, &new_case(city, "ليلى محمود")).await;
    // A baseline scored 100 days ago, arranged straight in the database
    // (the queue reads only plaintext columns).
    let mut conn = app.conn();
    let instrument: String = instruments::table
        .select(instruments::id)
        .first(&mut conn)
        .unwrap();
    let then = chrono::Utc::now().naive_utc() - chrono::Duration::days(100);
    diesel::insert_into(assessments::table)
        .values((
            assessments::id.eq(uuid::Uuid::new_v4().to_string()),
            assessments::case_id.eq(id_of(&case)),
            assessments::city_id.eq(city.to_string()),
            assessments::instrument_id.eq(instrument),
            assessments::stage.eq("baseline"),
            assessments::state.eq("submitted"),
            assessments::answers_enc.eq(vec![0u8]),
            assessments::score_economic.eq(Some(5i16)),
            assessments::score_social.eq(Some(5i16)),
            assessments::score_psychosocial.eq(Some(5i16)),
            assessments::score_composite.eq(Some(5i16)),
            assessments::author_id.eq(worker.id.clone()),
            assessments::created_at.eq(then),
            assessments::updated_at.eq(then),
            assessments::submitted_at.eq(Some(then)),
            assessments::version.eq(2i64),
        ))
        .execute(&mut conn)
        .unwrap();

    let queue: Value = app
        .get_as(&supervisor, "/api/v1/tasks")
        .await
        .json()
        .await
        .unwrap();
    let due: Vec<&Value> = queue["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["source"] == "assessment")
        .collect();
    assert_eq!(due.len(), 1, "{queue}");
    assert_eq!(due[0]["case_id"], case["id"]);
    assert_eq!(due[0]["overdue"], true, "due 90 days after, 10 days ago");
    assert_eq!(due[0]["detail"], "due");
}
