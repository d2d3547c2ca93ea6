//! Livelihoods: the kinds of provider beyond psychosocial support,
//! education and vocational training, the outcomes that say what a service
//! achieved, and a provider's progress updates on a referral in progress —
//! sealed, audited under the person, out of reach across cities and
//! organisations, moved with a transfer and destroyed by an erasure.

use diesel::prelude::*;
use sanad::db::schema::referral_updates;
use sanad::domain::{CityId, OrganisationId, OrganisationKind, Role};
use serde_json::{Value, json};

use crate::helpers::{
    TestApp, assert_problem, contains, create, database_bytes, id_of, new_case, spawn_app, step,
};

const NAME: &str = "زينب حسين";
const NOTE: &str = "حضرت أربع جلسات من ست؛ مقابلة عمل في مخبز يوم الأحد";

struct World {
    app: TestApp,
    city: CityId,
    worker: String,
    org: OrganisationId,
    provider: String,
    case: String,
}

/// A case in Mosul, a job placement office there and one of its staff.
async fn world() -> World {
    let app = spawn_app().await;
    let city = app.city("MOS");
    let org = app.organisation(OrganisationKind::Employment, city);
    let provider = app.signed_in(Role::ProviderStaff, &[], Some(org)).await;
    let worker = app.signed_in(Role::SocialWorker, &[city], None).await;
    let case = id_of(&create(&app, &worker, &new_case(city, NAME)).await).to_string();
    World {
        app,
        city,
        worker,
        org,
        provider,
        case,
    }
}

async fn refer(w: &World, kind: &str, org: OrganisationId) -> reqwest::Response {
    w.app
        .post_as(
            &w.worker,
            &format!("/api/v1/cases/{}/referrals", w.case),
            &json!({
                "kind": kind,
                "organisation_id": org,
                "reason": "Wants work near home",
                "needs": ["job_placement"]
            }),
        )
        .await
}

/// A referral to the job placement office, accepted and started.
async fn started(w: &World) -> String {
    let response = refer(w, "employment", w.org).await;
    assert_eq!(response.status().as_u16(), 201);
    let referral: Value = response.json().await.unwrap();
    let id = id_of(&referral).to_string();
    for name in ["accept", "start"] {
        let response = step(&w.app, &w.provider, &id, name, &json!({})).await;
        assert_eq!(response.status().as_u16(), 200, "{name}");
    }
    id
}

async fn post_update(w: &World, token: &str, id: &str, note: &str) -> reqwest::Response {
    w.app
        .post_as(
            token,
            &format!("/api/v1/referrals/{id}/updates"),
            &json!({ "note": note }),
        )
        .await
}

#[tokio::test]
async fn every_new_kind_refers_to_an_organisation_of_that_kind_and_every_outcome_completes() {
    let w = world().await;
    let app = &w.app;
    let admin = app.signed_in(Role::Admin, &[], None).await;
    for kind in [
        "employment",
        "business_support",
        "civil_documentation",
        "health",
        "legal_aid",
        "community",
    ] {
        let response = app
            .post_as(
                &admin,
                "/api/v1/organisations",
                &json!({"name": format!("Centre {kind}"), "kind": kind, "city_id": w.city}),
            )
            .await;
        assert_eq!(response.status().as_u16(), 201, "{kind}");
        let org: Value = response.json().await.unwrap();
        let org: OrganisationId = org["id"].as_str().unwrap().parse().unwrap();
        let referral = refer(&w, kind, org).await;
        assert_eq!(referral.status().as_u16(), 201, "{kind}");
        let referral: Value = referral.json().await.unwrap();
        assert_eq!(referral["kind"], kind);
    }
    // The kind must still match the organisation's.
    let mismatch = refer(&w, "legal_aid", w.org).await;
    let problem = assert_problem(mismatch, 422).await;
    assert_eq!(problem["errors"][0]["field"], "organisation_id");
    let listed: Value = app
        .get_as(&w.worker, "/api/v1/organisations?kind=civil_documentation")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(listed.as_array().map(Vec::len), Some(1));

    for outcome in ["employed", "enrolled", "certified", "documents_issued"] {
        let id = started(&w).await;
        let done = step(
            app,
            &w.provider,
            &id,
            "complete",
            &json!({"outcome": outcome}),
        )
        .await;
        assert_eq!(done.status().as_u16(), 200, "{outcome}");
        let read: Value = app
            .get_as(&w.worker, &format!("/api/v1/referrals/{id}"))
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(read["outcome"], outcome);
    }

    // A supervisor's live figures have every kind and outcome, zeros too.
    let supervisor = app.signed_in(Role::CitySupervisor, &[w.city], None).await;
    let figures: Value = app
        .get_as(&supervisor, "/api/v1/stats/referrals?group_by=kind,outcome")
        .await
        .json()
        .await
        .unwrap();
    let cells = figures["cells"].as_array().unwrap();
    assert_eq!(cells.len(), 9 * 9, "9 kinds × (8 outcomes and none)");
    let count = |kind: &str, outcome: &str| {
        cells
            .iter()
            .find(|c| c["kind"] == kind && c["outcome"] == outcome)
            .map(|c| c["count"].clone())
    };
    assert_eq!(count("employment", "employed"), Some(json!(1)));
    assert_eq!(count("employment", "documents_issued"), Some(json!(1)));
    assert_eq!(count("legal_aid", "none"), Some(json!(1)));
    assert_eq!(count("health", "certified"), Some(json!(0)));
}

#[tokio::test]
async fn a_provider_posts_progress_while_in_progress_and_the_city_reads_it() {
    let w = world().await;
    let app = &w.app;
    let response = refer(&w, "employment", w.org).await;
    let referral: Value = response.json().await.unwrap();
    let id = id_of(&referral).to_string();

    // Pending and accepted referrals take no progress.
    assert_problem(post_update(&w, &w.provider, &id, NOTE).await, 409).await;
    step(app, &w.provider, &id, "accept", &json!({})).await;
    assert_problem(post_update(&w, &w.provider, &id, NOTE).await, 409).await;
    step(app, &w.provider, &id, "start", &json!({})).await;

    // Only the provider posts; a blank note is a 422 naming the field.
    assert_problem(post_update(&w, &w.worker, &id, NOTE).await, 403).await;
    let blank = assert_problem(post_update(&w, &w.provider, &id, "   ").await, 422).await;
    assert_eq!(blank["errors"][0]["field"], "note");
    let posted = post_update(&w, &w.provider, &id, NOTE).await;
    assert_eq!(posted.status().as_u16(), 201);
    let posted: Value = posted.json().await.unwrap();
    assert_eq!(posted["note"], NOTE);
    assert_eq!(posted["referral_id"], id.as_str());
    let second = post_update(&w, &w.provider, &id, "Started at the bakery").await;
    assert_eq!(second.status().as_u16(), 201);

    let path = format!("/api/v1/referrals/{id}/updates");
    for token in [&w.worker, &w.provider] {
        let read = app.get_as(token, &path).await;
        assert_eq!(read.status().as_u16(), 200);
        let read: Value = read.json().await.unwrap();
        let notes: Vec<&str> = read
            .as_array()
            .unwrap()
            .iter()
            .map(|u| u["note"].as_str().unwrap())
            .collect();
        assert_eq!(notes, [NOTE, "Started at the bakery"]);
    }

    // The note is sealed: not in the database's bytes.
    assert!(!contains(&database_bytes(&app.db), NOTE));

    // Every read and write is found under the person.
    let auditor = app.signed_in(Role::Auditor, &[], None).await;
    let about: Value = app
        .get_as(
            &auditor,
            &format!("/api/v1/audit?entity_id={}&limit=100", w.case),
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
    for action in ["referral.progress", "referral.progress_list"] {
        assert!(actions.contains(&action), "{action}: {actions:?}");
    }
    let events = app.audit_events("referral.progress").await;
    assert!(events.iter().all(|e| !e.to_string().contains(NOTE)));

    // Completion ends the provider's access to the updates; the city keeps them.
    let done = step(
        app,
        &w.provider,
        &id,
        "complete",
        &json!({"outcome": "employed"}),
    )
    .await;
    assert_eq!(done.status().as_u16(), 200);
    assert_problem(app.get_as(&w.provider, &path).await, 404).await;
    assert_problem(post_update(&w, &w.provider, &id, NOTE).await, 404).await;
    let kept: Value = app.get_as(&w.worker, &path).await.json().await.unwrap();
    assert_eq!(kept.as_array().map(Vec::len), Some(2));
}

#[tokio::test]
async fn other_cities_and_other_organisations_find_no_updates() {
    let w = world().await;
    let app = &w.app;
    let id = started(&w).await;
    post_update(&w, &w.provider, &id, NOTE).await;
    let path = format!("/api/v1/referrals/{id}/updates");

    let elsewhere = app.city("BAS");
    let stranger = app.signed_in(Role::SocialWorker, &[elsewhere], None).await;
    let other_org = app.organisation(OrganisationKind::Employment, w.city);
    let other_provider = app
        .signed_in(Role::ProviderStaff, &[], Some(other_org))
        .await;
    for token in [&stranger, &other_provider] {
        assert_problem(app.get_as(token, &path).await, 404).await;
    }
    assert_problem(post_update(&w, &other_provider, &id, NOTE).await, 404).await;
    for role in [Role::MinistryOfficial, Role::Auditor, Role::Admin] {
        let token = app.signed_in(role, &[], None).await;
        assert_problem(app.get_as(&token, &path).await, 403).await;
    }
    let denied = app.audit_events("access.denied").await;
    assert!(denied.iter().any(|e| e["entity_id"] == id.as_str()));
}

#[tokio::test]
async fn updates_move_resealed_with_a_transfer_and_go_with_an_erasure() {
    let w = world().await;
    let app = &w.app;
    let id = started(&w).await;
    post_update(&w, &w.provider, &id, NOTE).await;

    let telafar = app.city("TAF");
    let receiver = app.signed_in(Role::CitySupervisor, &[telafar], None).await;
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
            &format!("/api/v1/transfers/{}/accept", id_of(&transfer)),
            &json!({}),
        )
        .await;
    assert_eq!(accepted.status().as_u16(), 200);

    let path = format!("/api/v1/referrals/{id}/updates");
    let read: Value = app.get_as(&receiver, &path).await.json().await.unwrap();
    assert_eq!(read[0]["note"], NOTE);
    assert_problem(app.get_as(&w.worker, &path).await, 404).await;
    let city: String = referral_updates::table
        .select(referral_updates::city_id)
        .first(&mut app.conn())
        .unwrap();
    assert_eq!(city, telafar.to_string());

    let erased = app
        .post_as(
            &receiver,
            &format!("/api/v1/cases/{}/erase", w.case),
            &json!({"reason": "Asked to be forgotten"}),
        )
        .await;
    assert_eq!(erased.status().as_u16(), 204);
    let left: i64 = referral_updates::table
        .count()
        .get_result(&mut app.conn())
        .unwrap();
    assert_eq!(left, 0);
    assert_problem(app.get_as(&receiver, &path).await, 410).await;
}
