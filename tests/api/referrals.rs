//! Referrals over HTTP: the state machine, the provider's minimal view and
//! its end, consent gating, a race of two transitions, and a referral that
//! follows its case on a transfer.

use sanad::domain::{CityId, OrganisationId, OrganisationKind, Role};
use serde_json::{Value, json};

use crate::helpers::{TestApp, assert_problem, create, id_of, new_case, refer, spawn_app, step};

const NAME: &str = "فاطمة أحمد";

fn sorted_keys(value: &Value) -> Vec<String> {
    let mut keys: Vec<String> = value.as_object().unwrap().keys().cloned().collect();
    keys.sort();
    keys
}

struct World {
    app: TestApp,
    city: CityId,
    worker: String,
    org: OrganisationId,
    provider: String,
    case: String,
}

async fn world() -> World {
    let s = spawn_app()
        .with_city("MOS")
        .signed_in(Role::ProviderStaff)
        .await;
    let worker = s.app.signed_in(Role::SocialWorker, &[s.city], None).await;
    let case = id_of(&create(&s.app, &worker, &new_case(s.city, NAME)).await).to_string();
    World {
        org: s.org.unwrap(),
        app: s.app,
        city: s.city,
        worker,
        provider: s.token,
        case,
    }
}

#[tokio::test]
async fn the_whole_state_machine_and_every_illegal_transition() {
    let w = world().await;
    let app = &w.app;
    let referral = refer(app, &w.worker, &w.case, w.org).await;
    assert_eq!(referral["state"], "pending");
    assert_eq!(
        referral["reason"],
        "Nightmares since the camp; wants counselling"
    );
    assert_eq!(referral["needs"], json!(["counselling", "trauma_support"]));
    let case: Value = app
        .get_as(&w.worker, &format!("/api/v1/cases/{}", w.case))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(case["status"], "active");
    let id = referral["id"].as_str().unwrap();
    let done = json!({"outcome": "completed_successfully", "note": "Twelve sessions"});

    // Pending: start and complete are not allowed; the worker may not respond.
    assert_problem(step(app, &w.provider, id, "start", &json!({})).await, 409).await;
    assert_problem(step(app, &w.provider, id, "complete", &done).await, 409).await;
    assert_problem(step(app, &w.worker, id, "accept", &json!({})).await, 403).await;
    assert_problem(step(app, &w.provider, id, "cancel", &json!({})).await, 403).await;

    let accepted = step(app, &w.provider, id, "accept", &json!({})).await;
    assert_eq!(accepted.status().as_u16(), 200);
    // Accept takes no body at all.
    let again = app
        .client
        .post(app.url(&format!("/api/v1/referrals/{id}/accept")))
        .bearer_auth(&w.provider)
        .send()
        .await
        .unwrap();
    assert_problem(again, 409).await;
    assert_problem(step(app, &w.provider, id, "decline", &json!({})).await, 409).await;
    assert_problem(step(app, &w.provider, id, "complete", &done).await, 409).await;

    let started = app
        .client
        .post(app.url(&format!("/api/v1/referrals/{id}/start")))
        .bearer_auth(&w.provider)
        .send()
        .await
        .unwrap();
    assert_eq!(started.status().as_u16(), 200);
    let started: Value = started.json().await.unwrap();
    assert_eq!(started["state"], "in_progress");
    assert_eq!(started["person"]["given_name"], "فاطمة");
    assert_problem(step(app, &w.provider, id, "start", &json!({})).await, 409).await;
    assert_problem(step(app, &w.provider, id, "accept", &json!({})).await, 409).await;
    let bad_outcome = step(
        app,
        &w.provider,
        id,
        "complete",
        &json!({"outcome": "great"}),
    )
    .await;
    assert_eq!(
        assert_problem(bad_outcome, 422).await["errors"][0]["field"],
        "outcome"
    );

    let completed = step(app, &w.provider, id, "complete", &done).await;
    assert_eq!(completed.status().as_u16(), 200);
    // The answer that closes it no longer shows the person.
    let completed: Value = completed.json().await.unwrap();
    assert_eq!(sorted_keys(&completed), ["id", "kind", "state"]);
    assert_eq!(completed["state"], "completed");

    // The provider's access ends with completion.
    assert_problem(
        app.get_as(&w.provider, &format!("/api/v1/referrals/{id}"))
            .await,
        404,
    )
    .await;
    assert_problem(step(app, &w.provider, id, "start", &json!({})).await, 404).await;
    let inbox: Value = app.all_items(&w.provider, "/api/v1/referrals").await;
    assert_eq!(inbox, json!([]));

    let full: Value = app
        .get_as(&w.worker, &format!("/api/v1/referrals/{id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(full["state"], "completed");
    assert_eq!(full["outcome"], "completed_successfully");
    assert_eq!(full["outcome_note"], "Twelve sessions");
    assert_eq!(full["version"], 4);
    for at in ["accepted_at", "started_at", "completed_at"] {
        assert!(full[at].is_string(), "{at}: {full}");
    }
    assert!(full["declined_at"].is_null() && full["cancelled_at"].is_null());
    assert_problem(step(app, &w.worker, id, "cancel", &json!({})).await, 409).await;

    // Pending → declined, with a reason the city can read.
    let second = refer(app, &w.worker, &w.case, w.org).await;
    let second = second["id"].as_str().unwrap();
    let declined = step(
        app,
        &w.provider,
        second,
        "decline",
        &json!({"reason": "No places until spring"}),
    )
    .await;
    assert_eq!(declined.status().as_u16(), 200);
    let declined: Value = declined.json().await.unwrap();
    assert_eq!(sorted_keys(&declined), ["id", "kind", "state"]);
    assert_problem(
        app.get_as(&w.provider, &format!("/api/v1/referrals/{second}"))
            .await,
        404,
    )
    .await;
    let read: Value = app
        .get_as(&w.worker, &format!("/api/v1/referrals/{second}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(read["state"], "declined");
    assert_eq!(read["decision_reason"], "No places until spring");
    assert_problem(
        step(app, &w.worker, second, "cancel", &json!({})).await,
        409,
    )
    .await;

    // Accepted, and in progress, can be cancelled by the referring city.
    for steps in [vec!["accept"], vec!["accept", "start"]] {
        let third = refer(app, &w.worker, &w.case, w.org).await;
        let third = third["id"].as_str().unwrap();
        for s in steps {
            assert_eq!(
                step(app, &w.provider, third, s, &json!({})).await.status(),
                200
            );
        }
        let cancelled: Value = step(app, &w.worker, third, "cancel", &json!({}))
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(cancelled["state"], "cancelled");
        assert!(cancelled["decision_reason"].is_null());
        assert!(cancelled["cancelled_at"].is_string());
        assert_problem(
            app.get_as(&w.provider, &format!("/api/v1/referrals/{third}"))
                .await,
            404,
        )
        .await;
        assert_problem(step(app, &w.worker, third, "cancel", &json!({})).await, 409).await;
    }

    // Every transition was audited, naming the transition only.
    let auditor = app.signed_in(Role::Auditor, &[], None).await;
    let events: Value = app
        .get_as(&auditor, "/api/v1/audit?action=referral.transition")
        .await
        .json()
        .await
        .unwrap();
    let text = events.to_string();
    assert!(text.contains("accept -> accepted"), "{text}");
    assert!(!text.contains("No places until spring"));
    assert!(!text.contains("Twelve sessions"));
}

#[tokio::test]
async fn the_provider_sees_only_the_minimal_view_of_its_own_open_referrals() {
    let w = world().await;
    let app = &w.app;
    let referral = refer(app, &w.worker, &w.case, w.org).await;
    let id = referral["id"].as_str().unwrap();

    let response = app
        .get_as(&w.provider, &format!("/api/v1/referrals/{id}"))
        .await;
    assert_eq!(response.status().as_u16(), 200);
    let text = response.text().await.unwrap();
    let view: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(
        sorted_keys(&view),
        ["due_by", "id", "kind", "needs", "person", "reason", "state"]
    );
    assert_eq!(
        sorted_keys(&view["person"]),
        ["age", "given_name", "phone", "sex"]
    );
    assert_eq!(view["person"]["given_name"], "فاطمة");
    assert_eq!(view["person"]["sex"], "female");
    assert_eq!(view["person"]["phone"], "0770 123 4567");
    assert!(view["person"]["age"].as_u64().unwrap() >= 36);
    assert_eq!(view["due_by"], "2099-01-31");
    for secret in [
        "1990 1234 5678",
        "Hay al-Tanak",
        "al-Hol",
        "civil ID",
        "Fatima Ahmed",
        "أحمد",
        "1990-04-12",
        &w.case,
    ] {
        assert!(!text.contains(secret), "{secret} leaked: {text}");
    }

    // Lists give the same minimal view.
    let inbox: Value = app.all_items(&w.provider, "/api/v1/referrals").await;
    assert_eq!(inbox.as_array().unwrap().len(), 1);
    assert_eq!(inbox[0], view);

    // Another organisation's staff: as if it did not exist.
    let other_org = app.organisation(OrganisationKind::Psychosocial, w.city);
    let other = app
        .signed_in(Role::ProviderStaff, &[], Some(other_org))
        .await;
    assert_problem(
        app.get_as(&other, &format!("/api/v1/referrals/{id}")).await,
        404,
    )
    .await;
    assert_problem(step(app, &other, id, "accept", &json!({})).await, 404).await;
    let theirs: Value = app.all_items(&other, "/api/v1/referrals").await;
    assert_eq!(theirs, json!([]));
    // Other roles: never.
    let official = app.signed_in(Role::MinistryOfficial, &[], None).await;
    assert_problem(
        app.get_as(&official, &format!("/api/v1/referrals/{id}"))
            .await,
        403,
    )
    .await;

    // Consent withdrawn: the provider loses the referral at once.
    assert_eq!(app.set_consent(&w.worker, &w.case, false).await, 200);
    assert_problem(
        app.get_as(&w.provider, &format!("/api/v1/referrals/{id}"))
            .await,
        404,
    )
    .await;
    assert_eq!(
        app.all_items(&w.provider, "/api/v1/referrals").await,
        json!([])
    );

    // The city sees the whole referral.
    let full: Value = app
        .get_as(&w.worker, &format!("/api/v1/referrals/{id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(full["case_id"], w.case.as_str());
    assert_eq!(
        full["reason"],
        "Nightmares since the camp; wants counselling"
    );
    // ...but a worker of another city does not.
    let outsider = app
        .signed_in(Role::SocialWorker, &[app.city("SIN")], None)
        .await;
    assert_problem(
        app.get_as(&outsider, &format!("/api/v1/referrals/{id}"))
            .await,
        404,
    )
    .await;
    let theirs: Value = app.all_items(&outsider, "/api/v1/referrals").await;
    assert_eq!(theirs, json!([]));
}

#[tokio::test]
async fn creation_needs_consent_and_an_active_organisation_of_the_kind() {
    let w = world().await;
    let app = &w.app;
    let path = format!("/api/v1/cases/{}/referrals", w.case);
    let body = |org: Value, kind: &str| json!({"kind": kind, "organisation_id": org, "reason": "Wants to finish school"});

    let school = app.organisation(OrganisationKind::Education, w.city);
    let mismatch = app
        .post_as(&w.worker, &path, &body(json!(w.org), "education"))
        .await;
    assert_eq!(
        assert_problem(mismatch, 422).await["errors"][0]["field"],
        "organisation_id"
    );
    let missing = app
        .post_as(
            &w.worker,
            &path,
            &body(json!(uuid::Uuid::new_v4()), "education"),
        )
        .await;
    assert_eq!(
        assert_problem(missing, 422).await["errors"][0]["field"],
        "organisation_id"
    );
    let past = app
        .post_as(
            &w.worker,
            &path,
            &json!({"kind": "education", "organisation_id": school, "reason": "x", "due_by": "2001-01-01"}),
        )
        .await;
    assert_eq!(
        assert_problem(past, 422).await["errors"][0]["field"],
        "due_by"
    );
    let ok = app
        .post_as(&w.worker, &path, &body(json!(school), "education"))
        .await;
    assert_eq!(ok.status().as_u16(), 201);

    // No consent to share with providers: 409.
    let mut private = new_case(w.city, "زينب علي");
    private["consent"]["share_with_providers"] = json!(false);
    let private = create(app, &w.worker, &private).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let refused = app
        .post_as(
            &w.worker,
            &format!("/api/v1/cases/{private}/referrals"),
            &body(json!(w.org), "psychosocial"),
        )
        .await;
    assert_problem(refused, 409).await;

    // Out of the worker's cities: 404; a provider may not refer: 403.
    let outsider = app
        .signed_in(Role::SocialWorker, &[app.city("SIN")], None)
        .await;
    assert_problem(
        app.post_as(&outsider, &path, &body(json!(w.org), "psychosocial"))
            .await,
        404,
    )
    .await;
    assert_problem(
        app.post_as(&w.provider, &path, &body(json!(w.org), "psychosocial"))
            .await,
        403,
    )
    .await;

    // Erased: 410, and the erased person's referral fields read as null.
    let referral = refer(app, &w.worker, &w.case, w.org).await;
    let supervisor = app.signed_in(Role::CitySupervisor, &[w.city], None).await;
    let erased = app
        .post_as(
            &supervisor,
            &format!("/api/v1/cases/{}/erase", w.case),
            &json!({"reason": "Asked to be forgotten"}),
        )
        .await;
    assert_eq!(erased.status().as_u16(), 204);
    assert_problem(
        app.post_as(&w.worker, &path, &body(json!(w.org), "psychosocial"))
            .await,
        410,
    )
    .await;
    let read: Value = app
        .get_as(
            &w.worker,
            &format!("/api/v1/referrals/{}", referral["id"].as_str().unwrap()),
        )
        .await
        .json()
        .await
        .unwrap();
    assert!(read["reason"].is_null(), "{read}");
}

#[tokio::test]
async fn of_two_concurrent_accepts_exactly_one_wins() {
    let w = world().await;
    let app = &w.app;
    let referral = refer(app, &w.worker, &w.case, w.org).await;
    let id = referral["id"].as_str().unwrap();
    let colleague = app.signed_in(Role::ProviderStaff, &[], Some(w.org)).await;
    let empty = json!({});
    let (a, b) = tokio::join!(
        step(app, &w.provider, id, "accept", &empty),
        step(app, &colleague, id, "accept", &empty),
    );
    let mut statuses = [a.status().as_u16(), b.status().as_u16()];
    statuses.sort();
    assert_eq!(statuses, [200, 409]);
    let read: Value = app
        .get_as(&w.worker, &format!("/api/v1/referrals/{id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(read["version"], 2);
}

#[tokio::test]
async fn lists_filter_and_a_providers_inbox_puts_pending_first() {
    let w = world().await;
    let app = &w.app;
    let first = refer(app, &w.worker, &w.case, w.org).await;
    let second = refer(app, &w.worker, &w.case, w.org).await;
    let third = refer(app, &w.worker, &w.case, w.org).await;
    let id = |v: &Value| v["id"].as_str().unwrap().to_string();
    step(app, &w.provider, &id(&first), "accept", &json!({})).await;
    step(app, &w.provider, &id(&third), "decline", &json!({})).await;

    let inbox: Value = app.all_items(&w.provider, "/api/v1/referrals").await;
    let ids: Vec<&str> = inbox
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [id(&second), id(&first)]);

    let city: Value = app.all_items(&w.worker, "/api/v1/referrals").await;
    assert_eq!(city.as_array().unwrap().len(), 3);
    assert!(city[0]["case_id"].is_string());
    let declined: Value = app
        .all_items(
            &w.worker,
            "/api/v1/referrals?status=declined&kind=psychosocial",
        )
        .await;
    assert_eq!(declined.as_array().unwrap().len(), 1);
    assert_eq!(declined[0]["id"], id(&third).as_str());
    let other_kind: Value = app
        .all_items(&w.worker, "/api/v1/referrals?kind=education")
        .await;
    assert_eq!(other_kind, json!([]));
    assert_problem(
        app.get_as(&w.worker, "/api/v1/referrals?status=lost").await,
        422,
    )
    .await;

    // Overdue: open, and due before today.
    {
        use diesel::prelude::*;
        use sanad::db::schema::referrals;
        let past = chrono::NaiveDate::from_ymd_opt(2020, 1, 1).unwrap();
        diesel::update(referrals::table)
            .set(referrals::due_by.eq(Some(past)))
            .execute(&mut app.conn())
            .unwrap();
    }
    let overdue: Value = app
        .all_items(&w.worker, "/api/v1/referrals?overdue=true")
        .await;
    let mut ids: Vec<&str> = overdue
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    ids.sort();
    let mut expected = vec![id(&first), id(&second)];
    expected.sort();
    assert_eq!(ids, expected);
}

#[tokio::test]
async fn an_accepted_transfer_carries_an_open_referral_to_the_new_city() {
    let w = world().await;
    let app = &w.app;
    let telafar = app.city("TAF");
    let receiver = app.signed_in(Role::CitySupervisor, &[telafar], None).await;
    let receiver_worker = app.signed_in(Role::SocialWorker, &[telafar], None).await;
    let referral = refer(app, &w.worker, &w.case, w.org).await;
    let id = referral["id"].as_str().unwrap();
    step(app, &w.provider, id, "accept", &json!({})).await;

    let transfer: Value = app
        .post_as(
            &w.worker,
            &format!("/api/v1/cases/{}/transfers", w.case),
            &json!({"to_city_id": telafar, "reason": "Family moved"}),
        )
        .await
        .json()
        .await
        .unwrap();
    let accepted = app
        .post_as(
            &receiver,
            &format!(
                "/api/v1/transfers/{}/accept",
                transfer["id"].as_str().unwrap()
            ),
            &json!({}),
        )
        .await;
    assert_eq!(accepted.status().as_u16(), 200);

    let read: Value = app
        .get_as(&receiver_worker, &format!("/api/v1/referrals/{id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(read["city_id"], telafar.to_string());
    assert_eq!(read["state"], "accepted");
    assert_eq!(
        read["reason"],
        "Nightmares since the camp; wants counselling"
    );
    assert_problem(
        app.get_as(&w.worker, &format!("/api/v1/referrals/{id}"))
            .await,
        404,
    )
    .await;
    assert_problem(step(app, &w.worker, id, "cancel", &json!({})).await, 404).await;
    let theirs: Value = app.all_items(&w.worker, "/api/v1/referrals").await;
    assert_eq!(theirs, json!([]));
    // The provider keeps serving the person.
    let view: Value = app
        .get_as(&w.provider, &format!("/api/v1/referrals/{id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(view["person"]["given_name"], "فاطمة");
    let started = step(app, &w.provider, id, "start", &json!({})).await;
    assert_eq!(started.status().as_u16(), 200);
    let cancelled: Value = step(
        app,
        &receiver_worker,
        id,
        "cancel",
        &json!({"reason": "Moved on"}),
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(cancelled["decision_reason"], "Moved on");
}

#[tokio::test]
async fn a_household_transfer_carries_every_members_referrals() {
    let w = world().await;
    let app = &w.app;
    let telafar = app.city("TAF");
    let receiver = app.signed_in(Role::CitySupervisor, &[telafar], None).await;
    let household: Value = app
        .post_as(&w.worker, "/api/v1/households", &json!({"city_id": w.city}))
        .await
        .json()
        .await
        .unwrap();
    let mut referrals = Vec::new();
    let mut first_case = String::new();
    for name in ["أم خالد", "خالد"] {
        let mut body = new_case(w.city, name);
        body["household_id"] = household["id"].clone();
        let case = create(app, &w.worker, &body).await["id"]
            .as_str()
            .unwrap()
            .to_string();
        let referral = refer(app, &w.worker, &case, w.org).await;
        referrals.push(referral["id"].as_str().unwrap().to_string());
        if first_case.is_empty() {
            first_case = case;
        }
    }
    let transfer: Value = app
        .post_as(
            &w.worker,
            &format!("/api/v1/cases/{first_case}/transfers"),
            &json!({"to_city_id": telafar, "reason": "Family moved", "with_household": true}),
        )
        .await
        .json()
        .await
        .unwrap();
    let accepted = app
        .post_as(
            &receiver,
            &format!(
                "/api/v1/transfers/{}/accept",
                transfer["id"].as_str().unwrap()
            ),
            &json!({}),
        )
        .await;
    assert_eq!(accepted.status().as_u16(), 200);
    let listed: Value = app.all_items(&receiver, "/api/v1/referrals").await;
    assert_eq!(listed.as_array().unwrap().len(), 2);
    for id in &referrals {
        let read: Value = app
            .get_as(&receiver, &format!("/api/v1/referrals/{id}"))
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(read["city_id"], telafar.to_string());
        assert_eq!(
            read["reason"],
            "Nightmares since the camp; wants counselling"
        );
        assert_problem(
            app.get_as(&w.worker, &format!("/api/v1/referrals/{id}"))
                .await,
            404,
        )
        .await;
    }
}

#[tokio::test]
async fn erasing_a_person_ends_their_open_referrals_and_a_closed_case_is_not_referred() {
    let w = world().await;
    let app = &w.app;
    let supervisor = app.signed_in(Role::CitySupervisor, &[w.city], None).await;
    let referral = refer(app, &w.worker, &w.case, w.org).await;
    let id = referral["id"].as_str().unwrap();
    assert_eq!(
        app.get_as(&w.provider, &format!("/api/v1/referrals/{id}"))
            .await
            .status()
            .as_u16(),
        200
    );

    let erased = app
        .post_as(
            &supervisor,
            &format!("/api/v1/cases/{}/erase", w.case),
            &json!({"reason": "asked"}),
        )
        .await;
    assert_eq!(erased.status().as_u16(), 204);

    assert_problem(
        app.get_as(&w.provider, &format!("/api/v1/referrals/{id}"))
            .await,
        404,
    )
    .await;
    let inbox: Value = app.all_items(&w.provider, "/api/v1/referrals").await;
    assert!(inbox.as_array().unwrap().is_empty(), "{inbox}");

    let other = create(app, &w.worker, &new_case(w.city, "سلمى")).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    app.post_as(
        &supervisor,
        &format!("/api/v1/cases/{other}/close"),
        &json!({"reason": "done"}),
    )
    .await;
    let refused = app
        .post_as(
            &w.worker,
            &format!("/api/v1/cases/{other}/referrals"),
            &json!({"kind": "psychosocial", "organisation_id": w.org, "reason": "x"}),
        )
        .await;
    assert_problem(refused, 409).await;
}
