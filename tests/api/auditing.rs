//! The audit log over HTTP: auditors read and verify it, nobody else can,
//! and the trail of a person's case holds ids only.

use sanad::domain::Role;
use serde_json::Value;

use crate::helpers::{assert_problem, create, id_of, new_case, spawn_app};

#[tokio::test]
async fn auditors_read_and_verify_the_log_and_no_other_role_can() {
    let app = spawn_app().await;
    let city = app.city("MOS");
    let worker = app.signed_in(Role::SocialWorker, &[city], None).await;
    let case = create(&app, &worker, &new_case(city, "رقية كناري")).await;
    let id = case["id"].as_str().unwrap();
    app.get_as(&worker, &format!("/api/v1/cases/{id}")).await;
    let auditor = app.signed_in(Role::Auditor, &[], None).await;

    let page: Value = app
        .get_as(&auditor, &format!("/api/v1/audit?entity_id={id}"))
        .await
        .json()
        .await
        .unwrap();
    let actions: Vec<&str> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, vec!["case.read", "case.create"], "newest first");
    assert!(!page.to_string().contains("رقية"), "{page}");

    let filtered: Value = app
        .get_as(&auditor, "/api/v1/audit?action=auth.login&limit=1")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(filtered["items"].as_array().unwrap().len(), 1);
    let next = filtered["next_cursor"]
        .as_str()
        .expect("more logins than one");
    let second: Value = app
        .get_as(
            &auditor,
            &format!("/api/v1/audit?action=auth.login&limit=1&cursor={next}"),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_ne!(second["items"][0]["id"], filtered["items"][0]["id"]);
    assert_problem(
        app.get_as(&auditor, "/api/v1/audit?action=nonsense").await,
        422,
    )
    .await;
    assert_problem(
        app.get_as(&auditor, "/api/v1/audit?cursor=garbage").await,
        422,
    )
    .await;

    let verified: Value = app
        .get_as(&auditor, "/api/v1/audit/verify")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(verified["ok"], true, "{verified}");
    assert!(verified["events"].as_u64().unwrap() >= 5);

    for role in [
        Role::SocialWorker,
        Role::CitySupervisor,
        Role::MinistryOfficial,
        Role::Admin,
    ] {
        let cities = if role.is_city_scoped() {
            vec![city]
        } else {
            vec![]
        };
        let token = app.signed_in(role, &cities, None).await;
        assert_problem(app.get_as(&token, "/api/v1/audit").await, 403).await;
        assert_problem(app.get_as(&token, "/api/v1/audit/verify").await, 403).await;
    }
}

#[tokio::test]
async fn a_denied_attempt_is_audited_and_a_failed_request_leaves_no_success_event() {
    let app = spawn_app().await;
    let mosul = app.city("MOS");
    let telafar = app.city("TAF");
    let owner = app.signed_in(Role::SocialWorker, &[mosul], None).await;
    let case = create(&app, &owner, &new_case(mosul, "x")).await;
    let id = case["id"].as_str().unwrap();
    let stranger = app.signed_in(Role::SocialWorker, &[telafar], None).await;
    assert_problem(
        app.get_as(&stranger, &format!("/api/v1/cases/{id}")).await,
        404,
    )
    .await;
    let stale = app
        .client
        .patch(app.url(&format!("/api/v1/cases/{id}")))
        .bearer_auth(&owner)
        .header("if-match", "\"7\"")
        .json(&serde_json::json!({"return_date": "2026-03-05"}))
        .send()
        .await
        .unwrap();
    assert_problem(stale, 412).await;
    let auditor = app.signed_in(Role::Auditor, &[], None).await;

    let page: Value = app
        .get_as(&auditor, &format!("/api/v1/audit?entity_id={id}"))
        .await
        .json()
        .await
        .unwrap();

    let events: Vec<(&str, &str)> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["action"].as_str().unwrap(),
                e["outcome"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        events,
        vec![("access.denied", "denied"), ("case.create", "success")]
    );
}

#[tokio::test]
async fn an_admins_read_of_a_case_is_refused_and_the_refusal_audited() {
    let s = spawn_app().with_city("MOS").signed_in(Role::Admin).await;
    let worker = s.app.signed_in(Role::SocialWorker, &[s.city], None).await;
    let case = create(&s.app, &worker, &new_case(s.city, "نادية كناري")).await;
    let id = id_of(&case);

    let read = s.app.get_as(&s.token, &format!("/api/v1/cases/{id}")).await;

    let body = assert_problem(read, 403).await;
    assert!(!body.to_string().contains("نادية"), "{body}");
    let denied = s.app.audit_events("access.denied").await;
    assert_eq!(denied.len(), 1, "{denied:?}");
    let event = &denied[0];
    assert_eq!(event["outcome"], "denied");
    assert_eq!(event["actor_id"], s.user.id.as_str());
    assert_eq!(event["actor_role"], "admin");
    assert_eq!(event["entity"], "case");
    assert_eq!(event["entity_id"], id);
    assert_eq!(event["city_id"], s.city.to_string());
    assert_eq!(event["detail"], "CaseRead");
    assert!(s.app.audit_events("case.read").await.is_empty());
}

/// A body each route parses, so that what answers is the policy.
fn valid_body(method: &str, path: &str, city: sanad::domain::CityId) -> Value {
    let id = uuid::Uuid::new_v4();
    match (method, path) {
        ("post", "/api/v1/governorates") => {
            serde_json::json!({"code": "IQ-ZZ", "name_en": "Z", "name_ar": "ز"})
        }
        ("post", "/api/v1/cities") => {
            serde_json::json!({"code": "ZZZ", "name_en": "Z", "name_ar": "ز", "governorate_id": id})
        }
        ("post", "/api/v1/organisations") => {
            serde_json::json!({"name": "Centre", "kind": "psychosocial", "city_id": city})
        }
        ("post", "/api/v1/users") => serde_json::json!({
            "username": "someone", "display_name": "S", "role": "auditor"
        }),
        ("post", "/api/v1/users/{id}/approve") | ("post", "/api/v1/users/{id}/reject") => {
            serde_json::json!({"request_id": id})
        }
        ("post", "/api/v1/cases") => new_case(city, "x"),
        ("post", "/api/v1/cases/search") | ("post", "/api/v1/audit/lookups") => {
            serde_json::json!({"name": "x"})
        }
        ("post", "/api/v1/cases/{id}/notes") => serde_json::json!({"body": "x"}),
        ("post", "/api/v1/cases/{id}/close")
        | ("post", "/api/v1/cases/{id}/erase")
        | ("post", "/api/v1/transfers/{id}/reject") => serde_json::json!({"reason": "x"}),
        ("post", "/api/v1/households") => serde_json::json!({"city_id": city}),
        ("post", "/api/v1/cases/{id}/transfers") => {
            serde_json::json!({"to_city_id": id, "reason": "x"})
        }
        ("post", "/api/v1/cases/{id}/referrals") => serde_json::json!({
            "kind": "psychosocial", "organisation_id": id, "reason": "x"
        }),
        ("post", "/api/v1/referrals/{id}/complete") => serde_json::json!({"outcome": "other"}),
        ("post", "/api/v1/referrals/{id}/updates") => serde_json::json!({"note": "x"}),
        ("post", "/api/v1/households/{id}/referrals") => serde_json::json!({
            "kind": "psychosocial", "organisation_id": id, "reason": "x", "case_ids": [id]
        }),
        ("post", "/api/v1/cases/{id}/follow-ups") => {
            serde_json::json!({"kind": "home_visit", "due_on": "2099-01-01"})
        }
        ("patch", "/api/v1/follow-ups/{id}") => serde_json::json!({"status": "cancelled"}),
        ("post", "/api/v1/cases/{id}/plans") => serde_json::json!({
            "goals": [{"dimension": "economic", "text": "x"}]
        }),
        ("post", "/api/v1/plans/{id}/return") => serde_json::json!({"reason": "x"}),
        ("patch", "/api/v1/plans/{id}/actions/{action_id}") => {
            serde_json::json!({"status": "done"})
        }
        ("post", "/api/v1/cases/{id}/closure-requests") => serde_json::json!({"reason": "other"}),
        ("post", "/api/v1/closure-requests/{id}/return") => serde_json::json!({"reason": "x"}),
        ("post", "/api/v1/instruments") => {
            let mut definition: Value =
                serde_json::from_str(sanad::assessments::instrument::DEFAULT).unwrap();
            definition["code"] = serde_json::json!("another-instrument");
            definition
        }
        ("post", "/api/v1/cases/{id}/assessments") => {
            serde_json::json!({"instrument_id": id, "stage": "baseline"})
        }
        ("patch", "/api/v1/assessments/{id}") => serde_json::json!({"answers": {}}),
        ("post", "/api/v1/assessments/{id}/void") => serde_json::json!({"reason": "x"}),
        ("patch", "/api/v1/organisations/{id}") => serde_json::json!({"active": true}),
        ("patch", "/api/v1/users/{id}") => serde_json::json!({"display_name": "S"}),
        _ => serde_json::json!({}),
    }
}

/// Every route a role may never use answers it 403, and every such 403 is
/// a committed `access.denied` event naming the action.
#[tokio::test]
async fn every_role_forbidden_attempt_on_every_route_is_recorded() {
    use diesel::prelude::*;
    use sanad::auth::policy::{self, Resource};
    use sanad::db::schema::audit_events;

    let app = spawn_app().await;
    let city = app.city("MOS");
    let org = app.organisation(sanad::domain::OrganisationKind::Psychosocial, city);
    let mut tokens = std::collections::HashMap::new();
    for role in Role::ALL {
        let (cities, organisation) = match role {
            Role::ProviderStaff => (vec![], Some(org)),
            role if role.is_city_scoped() => (vec![city], None),
            _ => (vec![], None),
        };
        let user = app.user(role, &cities, organisation);
        tokens.insert(role, (app.token(&user).await, user));
    }
    let mut expected: std::collections::BTreeMap<String, usize> = Default::default();
    for (method, path, action) in sanad::web::routes::ACCESS {
        let Some(action) = *action else { continue };
        let refused = Role::ALL.into_iter().find(|&role| {
            let (_, user) = &tokens[&role];
            let principal = sanad::auth::Principal {
                user_id: user.id.parse().unwrap(),
                username: user.username.clone(),
                role,
                city_ids: vec![],
                organisation_id: None,
                token_version: 1,
                totp_enabled: false,
                second_factor_missing: false,
            };
            policy::authorize(&principal, action, Resource::Collection).is_err()
        });
        let Some(role) = refused else { continue };
        let url = path
            .replace("{id}", &uuid::Uuid::new_v4().to_string())
            .replace("{action_id}", &uuid::Uuid::new_v4().to_string());
        let body = valid_body(method, path, city);
        let request = match *method {
            "get" => app.client.get(app.url(&url)),
            "post" => app.client.post(app.url(&url)).json(&body),
            "patch" => app.client.patch(app.url(&url)).json(&body),
            other => panic!("no {other} routes"),
        };
        let response = request.bearer_auth(&tokens[&role].0).send().await.unwrap();
        assert_eq!(response.status().as_u16(), 403, "{role:?} {method} {path}");
        *expected.entry(format!("{action:?}")).or_default() += 1;
    }

    let recorded: Vec<Option<String>> = audit_events::table
        .filter(audit_events::action.eq("access.denied"))
        .select(audit_events::detail)
        .load(&mut app.conn())
        .unwrap();
    let mut counted: std::collections::BTreeMap<String, usize> = Default::default();
    for detail in recorded.into_iter().flatten() {
        *counted.entry(detail).or_default() += 1;
    }
    assert!(expected.len() > 20, "{expected:?}");
    assert_eq!(counted, expected);
}
