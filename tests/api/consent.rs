//! Consent is live: withdrawing consent to share with providers cancels the
//! person's open referrals at once (the provider's next request is a 404),
//! with the reason, named in the event; giving it again revives none.

use sanad::domain::{OrganisationId, Role};
use serde_json::{Value, json};

use crate::helpers::{assert_problem, create, id_of, new_case, refer, spawn_app, step};

struct World {
    worker: String,
    org: OrganisationId,
    provider: String,
    case: String,
}

#[tokio::test]
async fn withdrawn_consent_cancels_every_open_referral_at_once_and_for_good() {
    let s = spawn_app()
        .with_city("MOS")
        .signed_in(Role::ProviderStaff)
        .await;
    let app = &s.app;
    let worker = app.signed_in(Role::SocialWorker, &[s.city], None).await;
    let case = id_of(&create(app, &worker, &new_case(s.city, "فاطمة أحمد")).await).to_string();
    let w = World {
        worker,
        org: s.org.unwrap(),
        provider: s.token.clone(),
        case,
    };
    let pending = id_of(&refer(app, &w.worker, &w.case, w.org).await).to_string();
    let started = id_of(&refer(app, &w.worker, &w.case, w.org).await).to_string();
    let done = id_of(&refer(app, &w.worker, &w.case, w.org).await).to_string();
    for (id, steps) in [
        (&started, &["accept", "start"][..]),
        (&done, &["accept", "start"]),
    ] {
        for name in steps {
            assert_eq!(
                step(app, &w.provider, id, name, &json!({})).await.status(),
                200
            );
        }
    }
    let completed = step(
        app,
        &w.provider,
        &done,
        "complete",
        &json!({"outcome": "completed_successfully"}),
    )
    .await;
    assert_eq!(completed.status(), 200);

    assert_eq!(app.set_consent(&w.worker, &w.case, false).await, 200);

    for id in [&pending, &started] {
        let path = format!("/api/v1/referrals/{id}");
        assert_problem(app.get_as(&w.provider, &path).await, 404).await;
        let city: Value = app.get_as(&w.worker, &path).await.json().await.unwrap();
        assert_eq!(city["state"], "cancelled", "{city}");
        assert!(
            city["decision_reason"]
                .as_str()
                .unwrap()
                .contains("withdrew consent")
        );
    }
    let finished: Value = app
        .get_as(&w.worker, &format!("/api/v1/referrals/{done}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(finished["state"], "completed");
    let updates = app.audit_events("case.update").await;
    let ended: Vec<&str> = updates[0]["subjects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap())
        .collect();
    assert_eq!(ended.len(), 2);
    assert!(ended.contains(&pending.as_str()) && ended.contains(&started.as_str()));
    assert!(
        updates[0]["detail"]
            .as_str()
            .unwrap()
            .contains("2 open referral(s) cancelled")
    );

    // Consent given again revives nothing; a new referral is a new one.
    assert_eq!(app.set_consent(&w.worker, &w.case, true).await, 200);
    assert_problem(
        app.get_as(&w.provider, &format!("/api/v1/referrals/{pending}"))
            .await,
        404,
    )
    .await;
    assert_problem(
        step(
            app,
            &w.provider,
            &started,
            "complete",
            &json!({"outcome": "other"}),
        )
        .await,
        404,
    )
    .await;
    let again = refer(app, &w.worker, &w.case, w.org).await;
    let inbox = app.all_items(&w.provider, "/api/v1/referrals").await;
    assert_eq!(inbox.as_array().unwrap().len(), 1);
    assert_eq!(inbox[0]["id"], again["id"]);
}
