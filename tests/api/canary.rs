//! Canary values written through the API must never appear in plaintext in
//! the database — the SQLite file and its WAL, or a `pg_dump` — nor in the
//! audit log.

use diesel::prelude::*;
use sanad::domain::{OrganisationKind, Role};
use serde_json::json;

use crate::helpers::{contains, create, database_bytes, new_case, spawn_app};

const CANARIES: [&str; 9] = [
    "CanaryZainab",
    "زينبكناري",
    "77319955",
    "07705550199",
    "CanaryStreet",
    "CanaryNoteBody",
    "CanaryReferralReason",
    "CanaryOutcomeNote",
    "CanaryDeclineReason",
];

#[tokio::test]
async fn canaries_written_through_the_api_are_never_stored_in_plaintext() {
    let app = spawn_app().await;
    let city = app.city("MOS");
    let worker = app.signed_in(Role::SocialWorker, &[city], None).await;
    let mut body = new_case(city, "زينبكناري CanaryZainab");
    body["subject"]["full_name_latin"] = json!("CanaryZainab");
    body["subject"]["national_id"] = json!("77319955");
    body["subject"]["phone"] = json!("07705550199");
    body["subject"]["address"] = json!("CanaryStreet 5");
    let case = create(&app, &worker, &body).await;
    let id = case["id"].as_str().unwrap();
    let note = app
        .post_as(
            &worker,
            &format!("/api/v1/cases/{id}/notes"),
            &json!({"body": "CanaryNoteBody"}),
        )
        .await;
    assert_eq!(note.status().as_u16(), 201);
    let org = app.organisation(OrganisationKind::Psychosocial, city);
    let provider = app.signed_in(Role::ProviderStaff, &[], Some(org)).await;
    let mut referrals = Vec::new();
    for _ in 0..2 {
        let referral: serde_json::Value = app
            .post_as(
                &worker,
                &format!("/api/v1/cases/{id}/referrals"),
                &json!({"kind": "psychosocial", "organisation_id": org, "reason": "CanaryReferralReason"}),
            )
            .await
            .json()
            .await
            .unwrap();
        referrals.push(referral["id"].as_str().unwrap().to_string());
    }
    for (step, body) in [
        ("accept", json!({})),
        ("start", json!({})),
        (
            "complete",
            json!({"outcome": "other", "note": "CanaryOutcomeNote"}),
        ),
    ] {
        let response = app
            .post_as(
                &provider,
                &format!("/api/v1/referrals/{}/{step}", referrals[0]),
                &body,
            )
            .await;
        assert_eq!(response.status().as_u16(), 200, "{step}");
    }
    let declined = app
        .post_as(
            &provider,
            &format!("/api/v1/referrals/{}/decline", referrals[1]),
            &json!({"reason": "CanaryDeclineReason"}),
        )
        .await;
    assert_eq!(declined.status().as_u16(), 200);
    let read: serde_json::Value = app
        .get_as(&worker, &format!("/api/v1/cases/{id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        read["subject"]["national_id"], "77319955",
        "the value round-trips"
    );
    let search = app
        .post_as(
            &worker,
            "/api/v1/cases/search",
            &json!({"name": "CanaryZainab"}),
        )
        .await;
    assert_eq!(search.status().as_u16(), 200);

    // Let SQLite's WAL settle into what a copy of the files would hold.
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    let stored = database_bytes(&app.db);
    assert!(stored.len() > 1000, "the dump is not empty");
    for canary in CANARIES {
        assert!(
            !contains(&stored, canary),
            "{canary} found in the stored database"
        );
    }

    let events: Vec<(String, Option<String>, Option<String>)> = {
        use sanad::db::schema::audit_events::dsl::*;
        audit_events
            .select((action, entity_id, detail))
            .load(&mut app.conn())
            .unwrap()
    };
    let actions: Vec<&str> = events.iter().map(|e| e.0.as_str()).collect();
    for wanted in [
        "auth.login",
        "case.create",
        "note.create",
        "case.read",
        "case.search",
        "referral.create",
        "referral.transition",
    ] {
        assert!(
            actions.contains(&wanted),
            "{wanted} not audited: {actions:?}"
        );
    }
    let text = format!("{events:?}");
    for canary in CANARIES {
        assert!(!text.contains(canary), "{canary} in the audit log");
    }
}
