//! Assessments over HTTP: the whole path from baseline to a reviewed
//! follow-up with scores computed by the server, wrong answers named by
//! item, who may see and review, immutable instruments, answers never in
//! plaintext, and assessments moving with their case.

use sanad::domain::{OrganisationKind, Role};
use serde_json::{Value, json};

use crate::helpers::{
    TestApp, assert_problem, contains, create, database_bytes, id_of, new_case, refer, spawn_app,
    step,
};

/// An answer as the sealed JSON would hold it: an item's key beside its
/// answer, which the published instrument never writes so.
const CANARY: &str = r#""debt":"more_than_income""#;

async fn default_instrument(app: &TestApp, token: &str) -> String {
    let list: Value = app
        .get_as(token, "/api/v1/instruments")
        .await
        .json()
        .await
        .unwrap();
    let first = &list.as_array().unwrap()[0];
    assert_eq!(first["code"], "sanad-reintegration");
    assert_eq!(first["version"], 1);
    id_of(first).to_string()
}

/// Answers that score economic 0.0, social 0.3, psychosocial 0.3.
fn hard_start() -> Value {
    json!({
        "income_work": "none", "debt": "more_than_income", "food": "often",
        "housing": "insecure", "documents": "none", "services_health": "with_difficulty",
        "participation": "never", "support_network": "one_person", "discrimination": "often",
        "distress": "most_days", "safety": "somewhat", "wish_to_stay": "wish_to_stay"
    })
}

/// Answers that score economic 0.7, social 0.8, psychosocial 0.7.
fn better() -> Value {
    json!({
        "income_work": "regular", "debt": "about_income", "food": "sometimes",
        "housing": "secure", "documents": "some", "services_health": "yes",
        "participation": "never", "support_network": "one_person", "discrimination": "never",
        "distress": "some_days", "safety": "yes", "wish_to_stay": "wish_to_stay"
    })
}

async fn post(app: &TestApp, token: &str, path: &str, body: &Value) -> (u16, Value) {
    let response = app.post_as(token, path, body).await;
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn baseline_referral_follow_up_and_review_with_scores_the_server_computes() {
    let s = spawn_app()
        .with_city("MOS")
        .signed_in(Role::SocialWorker)
        .await;
    let (app, worker) = (&s.app, &s.token);
    let instrument = default_instrument(app, worker).await;
    let case = id_of(&create(app, worker, &new_case(s.city, "فاطمة أحمد")).await).to_string();
    let path = format!("/api/v1/cases/{case}/assessments");

    // A follow-up before any baseline is refused.
    let (status, _) = post(
        app,
        worker,
        &path,
        &json!({"instrument_id": instrument, "stage": "follow_up"}),
    )
    .await;
    assert_eq!(status, 409);

    // Baseline: a draft saved half answered, completed, then submitted.
    let (status, draft) = post(
        app,
        worker,
        &path,
        &json!({"instrument_id": instrument, "stage": "baseline", "answers": {"income_work": "none"}}),
    )
    .await;
    assert_eq!(status, 201, "{draft}");
    assert_eq!(draft["state"], "draft");
    assert!(draft["scores"].is_null());
    let baseline = id_of(&draft).to_string();
    let missing = assert_problem(
        app.post_as(
            worker,
            &format!("/api/v1/assessments/{baseline}/submit"),
            &json!({}),
        )
        .await,
        422,
    )
    .await;
    let fields: Vec<&str> = missing["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert!(
        fields.contains(&"answers.food") && !fields.contains(&"answers.children_schooling"),
        "{fields:?}"
    );
    let response = app
        .patch_as(
            worker,
            &format!("/api/v1/assessments/{baseline}"),
            &json!({"answers": hard_start()}),
        )
        .await;
    assert_eq!(response.status().as_u16(), 200);
    let (status, submitted) = post(
        app,
        worker,
        &format!("/api/v1/assessments/{baseline}/submit"),
        &json!({}),
    )
    .await;
    assert_eq!(status, 200, "{submitted}");
    // By hand: economic (0 + 0 + 0)/3 = 0.0; social (0.5 + 0 + 0.5)/3
    // = 0.33 → 0.3 (schooling not answered); psychosocial (0 + 0.5 + 0 +
    // 0 + 0.5 + 1)/6 = 0.33 → 0.3; composite (0 + 1/3 + 1/3)/3 = 0.22 → 0.2.
    assert_eq!(
        submitted["scores"],
        json!({"economic": 0.0, "social": 0.3, "psychosocial": 0.3, "composite": 0.2})
    );
    let (status, _) = post(
        app,
        worker,
        &path,
        &json!({"instrument_id": instrument, "stage": "baseline"}),
    )
    .await;
    assert_eq!(status, 409, "one baseline a case");

    // A referral completed, then a follow-up.
    let org = app.organisation(OrganisationKind::Psychosocial, s.city);
    let provider = app.signed_in(Role::ProviderStaff, &[], Some(org)).await;
    let referral = id_of(&refer(app, worker, &case, org).await).to_string();
    for name in ["accept", "start"] {
        assert_eq!(
            step(app, &provider, &referral, name, &json!({}))
                .await
                .status(),
            200
        );
    }
    let done = step(
        app,
        &provider,
        &referral,
        "complete",
        &json!({"outcome": "completed_successfully"}),
    )
    .await;
    assert_eq!(done.status(), 200);
    let (status, follow_up) = post(
        app,
        worker,
        &path,
        &json!({"instrument_id": instrument, "stage": "follow_up", "answers": better()}),
    )
    .await;
    assert_eq!(status, 201);
    let follow_up_id = id_of(&follow_up).to_string();
    let (_, scored) = post(
        app,
        worker,
        &format!("/api/v1/assessments/{follow_up_id}/submit"),
        &json!({}),
    )
    .await;
    // By hand (see instrument tests): 0.7, 0.8, 0.7, composite 0.7.
    assert_eq!(
        scored["scores"],
        json!({"economic": 0.7, "social": 0.8, "psychosocial": 0.7, "composite": 0.7})
    );
    assert_eq!(
        scored["change_since_baseline"],
        json!({"economic": 0.7, "social": 0.5, "psychosocial": 0.4, "composite": 0.5})
    );

    // Review: never by its author; by another supervisor, yes.
    let author_supervisor = app.signed_in(Role::CitySupervisor, &[s.city], None).await;
    let (status, own) = post(
        app,
        &author_supervisor,
        &path,
        &json!({"instrument_id": instrument, "stage": "exit", "answers": better()}),
    )
    .await;
    assert_eq!(status, 201);
    let own_id = id_of(&own).to_string();
    post(
        app,
        &author_supervisor,
        &format!("/api/v1/assessments/{own_id}/submit"),
        &json!({}),
    )
    .await;
    assert_problem(
        app.post_as(
            &author_supervisor,
            &format!("/api/v1/assessments/{own_id}/review"),
            &json!({}),
        )
        .await,
        403,
    )
    .await;
    assert_problem(
        app.post_as(
            &author_supervisor,
            &format!("/api/v1/assessments/{own_id}/void"),
            &json!({"reason": "mine"}),
        )
        .await,
        403,
    )
    .await;
    let denied = app.audit_events("access.denied").await;
    assert!(
        denied.iter().any(|e| e["entity_id"] == own_id.as_str()),
        "refusal recorded"
    );
    let (status, reviewed) = post(
        app,
        &author_supervisor,
        &format!("/api/v1/assessments/{follow_up_id}/review"),
        &json!({}),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(reviewed["state"], "reviewed");
    assert_problem(
        app.post_as(
            worker,
            &format!("/api/v1/assessments/{follow_up_id}/review"),
            &json!({}),
        )
        .await,
        403,
    )
    .await;

    let list: Value = app.get_as(worker, &path).await.json().await.unwrap();
    let items = list["items"].as_array().unwrap();
    assert_eq!(items.len(), 3);
    assert!(
        items.iter().all(|i| i["answers"].is_null()),
        "lists carry no answers"
    );
    assert!(
        list["next_due"].is_null(),
        "an exit assessment was scored: nothing more is due"
    );
    let whole: Value = app
        .get_as(worker, &format!("/api/v1/assessments/{follow_up_id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(whole["answers"]["housing"], "secure");
    // Every look at the assessments is found under the person.
    let auditor = app.signed_in(Role::Auditor, &[], None).await;
    let about: Value = app
        .get_as(
            &auditor,
            &format!("/api/v1/audit?entity_id={case}&limit=100"),
        )
        .await
        .json()
        .await
        .unwrap();
    let actions: Vec<&str> = about["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    for action in ["assessment.read", "assessment.list", "assessment.submit"] {
        assert!(
            actions.contains(&action),
            "{action} under the case: {actions:?}"
        );
    }
    for action in [
        "assessment.create",
        "assessment.submit",
        "assessment.review",
        "assessment.read",
        "assessment.list",
    ] {
        assert!(!app.audit_events(action).await.is_empty(), "{action}");
    }
}

#[tokio::test]
async fn wrong_answers_are_named_by_item_and_others_cannot_reach_assessments() {
    let s = spawn_app()
        .with_city("MOS")
        .signed_in(Role::SocialWorker)
        .await;
    let (app, worker) = (&s.app, &s.token);
    let instrument = default_instrument(app, worker).await;
    let case = id_of(&create(app, worker, &new_case(s.city, "مريم")).await).to_string();
    let path = format!("/api/v1/cases/{case}/assessments");
    let problem = assert_problem(
        app.post_as(
            worker,
            &path,
            &json!({"instrument_id": instrument, "stage": "baseline",
                    "answers": {"food": "always", "tribe": "x"}}),
        )
        .await,
        422,
    )
    .await;
    let fields: Vec<&str> = problem["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, vec!["answers.food", "answers.tribe"]);
    let unknown = assert_problem(
        app.post_as(
            worker,
            &path,
            &json!({"instrument_id": "7b0e5c1e-9b1a-4d3e-8f00-000000000000", "stage": "baseline"}),
        )
        .await,
        422,
    )
    .await;
    assert_eq!(unknown["errors"][0]["field"], "instrument_id");

    let (_, draft) = post(
        app,
        worker,
        &path,
        &json!({"instrument_id": instrument, "stage": "baseline", "answers": hard_start()}),
    )
    .await;
    let id = id_of(&draft).to_string();
    let elsewhere = app.city("TAF");
    let other_city = app.signed_in(Role::SocialWorker, &[elsewhere], None).await;
    let org = app.organisation(OrganisationKind::Psychosocial, s.city);
    let provider = app.signed_in(Role::ProviderStaff, &[], Some(org)).await;
    for token in [&other_city] {
        assert_problem(
            app.get_as(token, &format!("/api/v1/assessments/{id}"))
                .await,
            404,
        )
        .await;
        assert_problem(app.get_as(token, &path).await, 404).await;
    }
    for token in [&provider] {
        assert_problem(
            app.get_as(token, &format!("/api/v1/assessments/{id}"))
                .await,
            403,
        )
        .await;
        assert_problem(app.get_as(token, &path).await, 403).await;
    }
    let ministry = app.signed_in(Role::MinistryOfficial, &[], None).await;
    assert_problem(
        app.get_as(&ministry, &format!("/api/v1/assessments/{id}"))
            .await,
        403,
    )
    .await;

    // No answer in plaintext anywhere in the database (the answer keys
    // themselves are public vocabulary, in the instrument).
    let bytes = database_bytes(&app.db);
    assert!(!contains(&bytes, CANARY), "an answer in plaintext");
    assert!(!contains(&bytes, r#""food":"often""#));
}

#[tokio::test]
async fn instruments_are_published_whole_and_never_change() {
    let s = spawn_app().with_city("MOS").signed_in(Role::Admin).await;
    let (app, admin) = (&s.app, &s.token);
    let id = default_instrument(app, admin).await;
    let mut definition: Value = app
        .get_as(admin, &format!("/api/v1/instruments/{id}"))
        .await
        .json()
        .await
        .unwrap();
    for key in ["id", "version", "published_at", "published_by"] {
        definition.as_object_mut().unwrap().remove(key);
    }
    // Weights that do not sum to one, a value outside 0..1: refused, named.
    let mut bad = definition.clone();
    bad["dimensions"][0]["items"][0]["weight"] = json!(0.9);
    bad["dimensions"][1]["items"][0]["answers"][0]["value"] = json!(2);
    let problem = assert_problem(app.post_as(admin, "/api/v1/instruments", &bad).await, 422).await;
    let fields: Vec<&str> = problem["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert!(fields.contains(&"dimensions[0].items"), "{fields:?}");
    assert!(
        fields.contains(&"dimensions[1].items[0].answers[0].value"),
        "{fields:?}"
    );

    definition["dimensions"][0]["items"][0]["answers"][1]["value"] = json!(0.4);
    let published = app.post_as(admin, "/api/v1/instruments", &definition).await;
    assert_eq!(published.status().as_u16(), 201);
    let published: Value = published.json().await.unwrap();
    assert_eq!(published["version"], 2);
    assert_eq!(
        published["dimensions"][0]["items"][0]["answers"][1]["value"],
        0.4
    );
    let old: Value = app
        .get_as(admin, &format!("/api/v1/instruments/{id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        old["dimensions"][0]["items"][0]["answers"][1]["value"], 0.5,
        "version 1 unchanged"
    );
    // No route changes a published version.
    for method in [
        reqwest::Method::PUT,
        reqwest::Method::PATCH,
        reqwest::Method::DELETE,
    ] {
        let response = app
            .client
            .request(method, app.url(&format!("/api/v1/instruments/{id}")))
            .bearer_auth(admin)
            .json(&definition)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 405);
    }
    let worker = app.signed_in(Role::SocialWorker, &[s.city], None).await;
    assert_problem(
        app.post_as(&worker, "/api/v1/instruments", &definition)
            .await,
        403,
    )
    .await;
}

#[tokio::test]
async fn assessments_move_with_their_case_and_a_voided_baseline_can_be_replaced() {
    let s = spawn_app()
        .with_city("MOS")
        .signed_in(Role::SocialWorker)
        .await;
    let (app, worker) = (&s.app, &s.token);
    let instrument = default_instrument(app, worker).await;
    let case = id_of(&create(app, worker, &new_case(s.city, "زينب")).await).to_string();
    let path = format!("/api/v1/cases/{case}/assessments");
    let (_, draft) = post(
        app,
        worker,
        &path,
        &json!({"instrument_id": instrument, "stage": "baseline", "answers": hard_start()}),
    )
    .await;
    let id = id_of(&draft).to_string();
    post(
        app,
        worker,
        &format!("/api/v1/assessments/{id}/submit"),
        &json!({}),
    )
    .await;

    let supervisor = app.signed_in(Role::CitySupervisor, &[s.city], None).await;
    let (status, voided) = post(
        app,
        &supervisor,
        &format!("/api/v1/assessments/{id}/void"),
        &json!({"reason": "Wrong person interviewed"}),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(voided["void_reason"], "Wrong person interviewed");
    let (status, replacement) = post(
        app,
        worker,
        &path,
        &json!({"instrument_id": instrument, "stage": "baseline", "answers": hard_start()}),
    )
    .await;
    assert_eq!(status, 201, "a voided baseline makes room for another");

    // The case moves to Tal Afar: its assessments go with it, re-sealed.
    let tal_afar = app.city("TAF");
    let response = app
        .post_as(
            worker,
            &format!("/api/v1/cases/{case}/transfers"),
            &json!({"to_city_id": tal_afar, "reason": "Moved to family"}),
        )
        .await;
    assert_eq!(response.status().as_u16(), 201);
    let transfer: Value = response.json().await.unwrap();
    let receiving = app.signed_in(Role::CitySupervisor, &[tal_afar], None).await;
    let accepted = app
        .post_as(
            &receiving,
            &format!("/api/v1/transfers/{}/accept", id_of(&transfer)),
            &json!({}),
        )
        .await;
    assert_eq!(accepted.status().as_u16(), 200);
    let moved: Value = app
        .get_as(
            &receiving,
            &format!("/api/v1/assessments/{}", id_of(&replacement)),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        moved["answers"]["housing"], "insecure",
        "opened under the new city"
    );
    let old_void: Value = app
        .get_as(&receiving, &format!("/api/v1/assessments/{id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(old_void["void_reason"], "Wrong person interviewed");
    assert_problem(
        app.get_as(worker, &format!("/api/v1/assessments/{id}"))
            .await,
        404,
    )
    .await;
}

#[tokio::test]
async fn outcomes_are_figures_exact_for_supervisors_and_released_for_the_ministry() {
    let s = spawn_app()
        .with_city("MOS")
        .signed_in(Role::SocialWorker)
        .await;
    let (app, worker) = (&s.app, &s.token);
    let instrument = default_instrument(app, worker).await;
    let org = app.organisation(OrganisationKind::Psychosocial, s.city);
    let provider = app.signed_in(Role::ProviderStaff, &[], Some(org)).await;
    let scored = |case: String, stage: &'static str, answers: Value| {
        let instrument = instrument.clone();
        async move {
            let (_, draft) = post(
                app,
                worker,
                &format!("/api/v1/cases/{case}/assessments"),
                &json!({"instrument_id": instrument, "stage": stage, "answers": answers}),
            )
            .await;
            let (status, _) = post(
                app,
                worker,
                &format!("/api/v1/assessments/{}/submit", id_of(&draft)),
                &json!({}),
            )
            .await;
            assert_eq!(status, 200);
        }
    };
    // Helped: baseline, a completed psychosocial referral, a better follow-up.
    let helped = id_of(&create(app, worker, &new_case(s.city, "هدى")).await).to_string();
    scored(helped.clone(), "baseline", hard_start()).await;
    let referral = id_of(&refer(app, worker, &helped, org).await).to_string();
    for name in ["accept", "start"] {
        step(app, &provider, &referral, name, &json!({})).await;
    }
    step(
        app,
        &provider,
        &referral,
        "complete",
        &json!({"outcome": "completed_successfully"}),
    )
    .await;
    scored(helped, "follow_up", better()).await;
    // Not yet followed up.
    let waiting = id_of(&create(app, worker, &new_case(s.city, "سلمى")).await).to_string();
    scored(waiting, "baseline", hard_start()).await;

    let supervisor = app.signed_in(Role::CitySupervisor, &[s.city], None).await;
    let count = |table: &Value, pick: &dyn Fn(&Value) -> bool| -> i64 {
        table["cells"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| pick(c))
            .map(|c| c["count"].as_i64().unwrap())
            .sum()
    };
    let by_change: Value = app
        .get_as(
            &supervisor,
            "/api/v1/stats/assessments?group_by=support,change",
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        count(&by_change, &|c| c["support"] == "psychosocial"
            && c["change"] == "much_better"),
        1
    );
    assert_eq!(
        count(&by_change, &|c| c["support"] == "none"
            && c["change"] == "no_follow_up"),
        1
    );
    assert_eq!(count(&by_change, &|_| true), 2);
    let scores: Value = app
        .get_as(
            &supervisor,
            "/api/v1/stats/assessments?group_by=dimension,score",
        )
        .await
        .json()
        .await
        .unwrap();
    // Latest economic scores: 0.7 (helped) and 0.0 (waiting).
    assert_eq!(
        count(&scores, &|c| c["dimension"] == "economic"
            && c["score"] == "0.6-0.7"),
        1
    );
    assert_eq!(
        count(&scores, &|c| c["dimension"] == "economic"
            && c["score"] == "0.0-0.1"),
        1
    );
    assert_eq!(count(&scores, &|c| c["dimension"] == "composite"), 2);
    let lone = assert_problem(
        app.get_as(&supervisor, "/api/v1/stats/assessments?group_by=score")
            .await,
        422,
    )
    .await;
    assert_eq!(lone["errors"][0]["field"], "group_by");

    // The ministry: from a release made once this month has settled.
    let ministry = app.signed_in(Role::MinistryOfficial, &[], None).await;
    let now = chrono::Utc::now().date_naive() + chrono::Months::new(2);
    crate::stats::release_at(app, &crate::stats::stats_settings(app), &now.to_string()).unwrap();
    let released: Value = app
        .get_as(&ministry, "/api/v1/stats/assessments?group_by=change")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(released["table"], "assessments.city_change");
    assert_eq!(
        released["cells"].as_array().unwrap().len(),
        5,
        "every change band"
    );
    let by_support: Value = app
        .get_as(
            &ministry,
            "/api/v1/stats/assessments?group_by=support,change",
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        by_support["table"],
        "assessments.governorate_support_change"
    );
}
