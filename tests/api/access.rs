//! The role matrix over HTTP for the identity routes, and admin rules.

use sanad::domain::{OrganisationKind, Role};
use serde_json::{Value, json};

use crate::helpers::{assert_problem, spawn_app};

#[tokio::test]
async fn only_admins_manage_places_and_users_while_everyone_reads_places() {
    let app = spawn_app().await;
    let city = app.city("MOS");
    let org = app.organisation(OrganisationKind::VocationalTraining, city);
    let mut tokens = Vec::new();
    for role in Role::ALL {
        let cities = if role.is_city_scoped() {
            vec![city]
        } else {
            vec![]
        };
        let org = (role == Role::ProviderStaff).then_some(org);
        tokens.push((role, app.signed_in(role, &cities, org).await));
    }
    let governorate: Value = app
        .get_as(&tokens[0].1, "/api/v1/governorates")
        .await
        .json()
        .await
        .unwrap();
    let governorate_id = governorate[0]["id"].as_str().unwrap().to_string();

    for (i, (role, token)) in tokens.iter().enumerate() {
        let admin = *role == Role::Admin;
        for path in [
            "/api/v1/governorates",
            "/api/v1/cities",
            "/api/v1/organisations",
        ] {
            assert_eq!(
                app.get_as(token, path).await.status().as_u16(),
                200,
                "{role:?} GET {path}"
            );
        }
        let new_city = app
            .post_as(token, "/api/v1/cities", &json!({"code": format!("C{i}X"), "name_en": "Tal Afar", "name_ar": "تلعفر", "governorate_id": governorate_id}))
            .await;
        assert_eq!(
            new_city.status().as_u16(),
            if admin { 201 } else { 403 },
            "{role:?} POST /cities"
        );
        // A city supervisor reads the accounts whose grant it may decide.
        let reads_users = admin || *role == Role::CitySupervisor;
        let users = app.get_as(token, "/api/v1/users").await;
        assert_eq!(
            users.status().as_u16(),
            if reads_users { 200 } else { 403 },
            "{role:?} GET /users"
        );
        if !reads_users {
            assert_problem(users, 403).await;
        }
    }
}

#[tokio::test]
async fn admins_create_users_with_the_rules_of_each_role() {
    let app = spawn_app().await;
    let city = app.city("MOS");
    let org = app.organisation(OrganisationKind::Education, city);
    let admin = app.signed_in(Role::Admin, &[], None).await;

    let created = app
        .post_as(&admin, "/api/v1/users", &json!({"username": "amina.k", "display_name": "Amina K.", "role": "social_worker", "city_ids": [city]}))
        .await;
    assert_eq!(created.status().as_u16(), 201);
    let body: Value = created.json().await.unwrap();
    let user = &body["user"];
    assert!(user.get("password_hash").is_none() && user.get("enrolment_code_hash").is_none());
    assert_eq!(user["approval"], "pending");

    let taken = app
        .post_as(
            &admin,
            "/api/v1/users",
            &json!({"username": "amina.k", "display_name": "Another", "role": "auditor"}),
        )
        .await;
    assert_problem(taken, 409).await;

    let no_org = app
        .post_as(
            &admin,
            "/api/v1/users",
            &json!({"username": "clerk", "display_name": "Clerk", "role": "provider_staff"}),
        )
        .await;
    assert_eq!(
        assert_problem(no_org, 422).await["errors"][0]["field"],
        "organisation_id"
    );
    let no_city = app
        .post_as(
            &admin,
            "/api/v1/users",
            &json!({"username": "clerk", "display_name": "Clerk", "role": "city_supervisor"}),
        )
        .await;
    assert_eq!(
        assert_problem(no_city, 422).await["errors"][0]["field"],
        "city_ids"
    );

    let with_org = app
        .post_as(&admin, "/api/v1/users", &json!({"username": "clerk", "display_name": "Clerk", "role": "provider_staff", "organisation_id": org}))
        .await;
    assert_eq!(with_org.status().as_u16(), 201);
    let ministry: Value = app
        .post_as(
            &admin,
            "/api/v1/users",
            &json!({"username": "ministry.one", "display_name": "M", "role": "ministry_official"}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(ministry["user"]["approval"], "approved");
    assert!(ministry["enrolment_code"].is_string());
}
