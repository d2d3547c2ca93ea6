//! Referring several members of a household at once: one referral each,
//! consent checked for every member, all or nothing unless the caller asks
//! to skip those without consent, every member in reach.

use sanad::domain::{CityId, OrganisationId, OrganisationKind, Role};
use serde_json::{Value, json};

use crate::helpers::{TestApp, assert_problem, create, id_of, new_case, spawn_app};

struct World {
    app: TestApp,
    city: CityId,
    worker: String,
    org: OrganisationId,
    provider: String,
    household: String,
    mother: String,
    son: String,
    daughter: String,
}

/// A household of three in Mosul; the daughter has not consented.
async fn world() -> World {
    let app = spawn_app().await;
    let city = app.city("MOS");
    let org = app.organisation(OrganisationKind::Education, city);
    let provider = app.signed_in(Role::ProviderStaff, &[], Some(org)).await;
    let worker = app.signed_in(Role::SocialWorker, &[city], None).await;
    let household: Value = app
        .post_as(&worker, "/api/v1/households", &json!({"city_id": city}))
        .await
        .json()
        .await
        .unwrap();
    let household = id_of(&household).to_string();
    let member = |name: &str, consent: bool| {
        let mut body = new_case(city, name);
        body["household_id"] = json!(household);
        body["consent"]["share_with_providers"] = json!(consent);
        body
    };
    let mother = id_of(&create(&app, &worker, &member("هدى سالم", true)).await).to_string();
    let son = id_of(&create(&app, &worker, &member("علي سالم", true)).await).to_string();
    let daughter = id_of(&create(&app, &worker, &member("نور سالم", false)).await).to_string();
    World {
        app,
        city,
        worker,
        org,
        provider,
        household,
        mother,
        son,
        daughter,
    }
}

fn body(w: &World, cases: &[&str], skip: bool) -> Value {
    json!({
        "organisation_id": w.org,
        "kind": "education",
        "reason": "Out of school since the camp",
        "needs": ["school_enrolment"],
        "case_ids": cases,
        "skip_without_consent": skip
    })
}

async fn refer(w: &World, token: &str, body: &Value) -> reqwest::Response {
    w.app
        .post_as(
            token,
            &format!("/api/v1/households/{}/referrals", w.household),
            body,
        )
        .await
}

async fn referral_count(w: &World) -> usize {
    w.app
        .all_items(&w.worker, "/api/v1/referrals")
        .await
        .as_array()
        .map(Vec::len)
        .unwrap_or(0)
}

#[tokio::test]
async fn each_consenting_member_gets_their_own_referral() {
    let w = world().await;
    let app = &w.app;
    let made = refer(&w, &w.worker, &body(&w, &[&w.son, &w.mother], false)).await;
    assert_eq!(made.status().as_u16(), 201);
    let made: Value = made.json().await.unwrap();
    let referrals = made["referrals"].as_array().unwrap();
    assert_eq!(referrals.len(), 2);
    assert_eq!(made["skipped"], json!([]));
    let mut cases: Vec<&str> = referrals
        .iter()
        .map(|r| r["case_id"].as_str().unwrap())
        .collect();
    cases.sort();
    let mut expected = vec![w.son.as_str(), w.mother.as_str()];
    expected.sort();
    assert_eq!(cases, expected);
    assert!(referrals.iter().all(|r| r["state"] == "pending"));

    // The provider sees each person on their own, in the minimal view.
    let inbox = app.all_items(&w.provider, "/api/v1/referrals").await;
    let inbox = inbox.as_array().unwrap();
    assert_eq!(inbox.len(), 2);
    let mut names: Vec<&str> = inbox
        .iter()
        .map(|r| r["person"]["given_name"].as_str().unwrap())
        .collect();
    names.sort();
    assert_eq!(names, ["علي", "هدى"]);
    assert!(inbox.iter().all(|r| r.get("case_id").is_none()));

    // Found under each person in the audit log.
    let auditor = app.signed_in(Role::Auditor, &[], None).await;
    for case in [&w.son, &w.mother] {
        let about: Value = app
            .get_as(&auditor, &format!("/api/v1/audit?entity_id={case}"))
            .await
            .json()
            .await
            .unwrap();
        assert!(
            about["items"]
                .as_array()
                .unwrap()
                .iter()
                .any(|e| e["action"] == "household.refer"),
            "{about}"
        );
    }
}

#[tokio::test]
async fn members_without_consent_are_named_and_nothing_is_made_unless_skipped() {
    let w = world().await;
    let all = [w.mother.as_str(), w.son.as_str(), w.daughter.as_str()];
    let refused = assert_problem(refer(&w, &w.worker, &body(&w, &all, false)).await, 409).await;
    let detail = refused["detail"].as_str().unwrap();
    assert!(detail.contains(&w.daughter), "{detail}");
    assert!(!detail.contains(&w.son), "{detail}");
    assert_eq!(referral_count(&w).await, 0);

    let made = refer(&w, &w.worker, &body(&w, &all, true)).await;
    assert_eq!(made.status().as_u16(), 201);
    let made: Value = made.json().await.unwrap();
    assert_eq!(made["referrals"].as_array().unwrap().len(), 2);
    assert_eq!(made["skipped"], json!([w.daughter]));
    assert_eq!(referral_count(&w).await, 2);

    // Only the one without consent: nothing to make.
    let alone = refer(&w, &w.worker, &body(&w, &[&w.daughter], true)).await;
    assert_problem(alone, 409).await;
}

#[tokio::test]
async fn every_member_must_be_in_reach_and_in_the_household() {
    let w = world().await;
    let app = &w.app;
    // Someone else's case, in the same city but not of this household.
    let stranger = id_of(&create(app, &w.worker, &new_case(w.city, "سعاد جاسم")).await).to_string();
    let problem = assert_problem(
        refer(&w, &w.worker, &body(&w, &[&w.son, &stranger], false)).await,
        422,
    )
    .await;
    assert_eq!(problem["errors"][0]["field"], "case_ids");
    // A case that does not exist, or twice the same member.
    let nobody = uuid::Uuid::new_v4().to_string();
    assert_problem(
        refer(&w, &w.worker, &body(&w, &[&nobody], false)).await,
        404,
    )
    .await;
    let twice = refer(&w, &w.worker, &body(&w, &[&w.son, &w.son], false)).await;
    assert_problem(twice, 422).await;
    // A worker of another city finds no household; a provider may not refer.
    let basra = app.city("BAS");
    let elsewhere = app.signed_in(Role::SocialWorker, &[basra], None).await;
    assert_problem(
        refer(&w, &elsewhere, &body(&w, &[&w.son], false)).await,
        404,
    )
    .await;
    assert_problem(
        refer(&w, &w.provider, &body(&w, &[&w.son], false)).await,
        403,
    )
    .await;
    assert_eq!(referral_count(&w).await, 0);
}

#[tokio::test]
async fn a_member_held_in_another_city_is_not_found_and_the_refusal_recorded() {
    use diesel::prelude::*;
    use sanad::db::schema::cases;
    let w = world().await;
    let app = &w.app;
    // Arranged straight in the database: a member held in a city the
    // worker does not have (the API moves a household whole).
    let basra = app.city("BAS");
    diesel::update(cases::table.filter(cases::id.eq(&w.son)))
        .set(cases::city_id.eq(basra.to_string()))
        .execute(&mut app.conn())
        .unwrap();
    let refused = refer(&w, &w.worker, &body(&w, &[&w.mother, &w.son], false)).await;
    assert_problem(refused, 404).await;
    assert_eq!(referral_count(&w).await, 0);
    let denied = app.audit_events("access.denied").await;
    assert!(
        denied.iter().any(|e| e["entity_id"] == w.son.as_str()),
        "{denied:?}"
    );
}
