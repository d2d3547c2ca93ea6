//! Aggregates over HTTP: who sees which figures, small cells hidden, the
//! numbers equal to a direct count, and the CSV with its HXL row.

use diesel::prelude::*;
use sanad::domain::Role;
use serde_json::{Value, json};

use crate::helpers::{assert_problem, create, new_case, spawn_app};

#[tokio::test]
async fn ministry_sees_national_figures_supervisors_their_cities_and_small_cells_are_hidden() {
    let app = spawn_app().await;
    let mosul = app.city("MOS");
    let telafar = app.city("TAF");
    let mosul_worker = app.signed_in(Role::SocialWorker, &[mosul], None).await;
    let telafar_worker = app.signed_in(Role::SocialWorker, &[telafar], None).await;
    for i in 0..12 {
        create(&app, &mosul_worker, &new_case(mosul, &format!("أ {i}"))).await;
    }
    for i in 0..3 {
        let mut body = new_case(telafar, &format!("ب {i}"));
        body["subject"]["sex"] = json!("male");
        create(&app, &telafar_worker, &body).await;
    }
    let ministry = app.signed_in(Role::MinistryOfficial, &[], None).await;
    let supervisor = app.signed_in(Role::CitySupervisor, &[mosul], None).await;

    let national: Value = app
        .get_as(&ministry, "/api/v1/stats/cases?group_by=city,sex")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(national["k"], 11);
    assert_eq!(national["dimensions"], json!(["city", "sex"]));
    let cell = |table: &Value, city: &str, sex: &str| {
        table["cells"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["city"] == city && c["sex"] == sex)
            .cloned()
            .unwrap()
    };
    assert_eq!(cell(&national, "MOS", "female")["count"], 12);
    assert_eq!(
        cell(&national, "MOS", "male")["count"],
        0,
        "zero stays zero"
    );
    let small = cell(&national, "TAF", "male");
    assert_eq!(small["suppressed"], true);
    assert!(small["count"].is_null());
    for c in national["cells"].as_array().unwrap() {
        if let Some(n) = c["count"].as_u64() {
            assert!(n == 0 || n >= 11, "{c}");
        }
    }

    let own: Value = app
        .get_as(&supervisor, "/api/v1/stats/cases?group_by=city")
        .await
        .json()
        .await
        .unwrap();
    let cities: Vec<&str> = own["cells"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["city"].as_str().unwrap())
        .collect();
    assert_eq!(cities, vec!["MOS"]);

    // Twelve women and three men: hiding the 3 alone would let the national
    // total give it away, so its complement is hidden too.
    let by_sex: Value = app
        .get_as(&ministry, "/api/v1/stats/cases?group_by=sex")
        .await
        .json()
        .await
        .unwrap();
    for c in by_sex["cells"].as_array().unwrap() {
        assert_eq!(c["suppressed"], true, "{c}");
    }

    for role in [Role::SocialWorker, Role::Auditor, Role::Admin] {
        let cities = if role.is_city_scoped() {
            vec![mosul]
        } else {
            vec![]
        };
        let token = app.signed_in(role, &cities, None).await;
        assert_problem(app.get_as(&token, "/api/v1/stats/cases").await, 403).await;
    }
    assert_problem(
        app.get_as(&ministry, "/api/v1/stats/cases?group_by=tribe")
            .await,
        422,
    )
    .await;
}

#[tokio::test]
async fn csv_carries_an_hxl_row_and_every_export_is_audited() {
    let app = spawn_app().await;
    let mosul = app.city("MOS");
    let worker = app.signed_in(Role::SocialWorker, &[mosul], None).await;
    for i in 0..11 {
        create(&app, &worker, &new_case(mosul, &format!("ج {i}"))).await;
    }
    let ministry = app.signed_in(Role::MinistryOfficial, &[], None).await;

    let response = app
        .client
        .get(app.url("/api/v1/stats/cases?group_by=governorate,city,sex,age_band"))
        .bearer_auth(&ministry)
        .header("accept", "text/csv")
        .send()
        .await
        .unwrap();

    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    let text = response.text().await.unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "governorate,city,sex,age_band,count");
    assert_eq!(
        lines[1],
        "#adm1+code,#adm2+code,#gender,#age+group,#affected+num"
    );
    assert!(lines.contains(&"IQ-NI,MOS,female,25-59,11"), "{text}");

    // Equal to a direct count in the database.
    let direct: i64 = {
        use sanad::db::schema::cases::dsl::*;
        cases
            .filter(sex.eq("female"))
            .count()
            .get_result(&mut app.conn())
            .unwrap()
    };
    let by_sex: Value = app
        .get_as(&ministry, "/api/v1/stats/cases?group_by=sex")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(by_sex["cells"][0]["sex"], "female");
    assert_eq!(by_sex["cells"][0]["count"].as_i64().unwrap(), direct);

    let auditor = app.signed_in(Role::Auditor, &[], None).await;
    let events: Value = app
        .get_as(&auditor, "/api/v1/audit?action=stats.export")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(events["items"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn referral_figures_carry_medians_only_where_the_count_is_published() {
    let app = spawn_app().await;
    let mosul = app.city("MOS");
    let org = app.organisation(sanad::domain::OrganisationKind::Psychosocial, mosul);
    let worker = app.signed_in(Role::SocialWorker, &[mosul], None).await;
    let provider = app.signed_in(Role::ProviderStaff, &[], Some(org)).await;
    for i in 0..24 {
        let case = create(&app, &worker, &new_case(mosul, &format!("د {i}"))).await;
        let referral: Value = app
            .post_as(
                &worker,
                &format!("/api/v1/cases/{}/referrals", case["id"].as_str().unwrap()),
                &json!({"kind": "psychosocial", "organisation_id": org, "reason": "support"}),
            )
            .await
            .json()
            .await
            .unwrap();
        if i < 12 {
            let id = referral["id"].as_str().unwrap();
            let accepted = app
                .post_as(
                    &provider,
                    &format!("/api/v1/referrals/{id}/accept"),
                    &json!({}),
                )
                .await;
            assert_eq!(accepted.status().as_u16(), 200);
        }
    }
    let ministry = app.signed_in(Role::MinistryOfficial, &[], None).await;

    let table: Value = app
        .get_as(&ministry, "/api/v1/stats/referrals?group_by=kind,state")
        .await
        .json()
        .await
        .unwrap();

    let cells = table["cells"].as_array().unwrap();
    let accepted = cells.iter().find(|c| c["state"] == "accepted").unwrap();
    assert_eq!(accepted["count"], 12);
    assert_eq!(accepted["median_days_to_accept"], 0.0);
    let pending = cells.iter().find(|c| c["state"] == "pending").unwrap();
    assert_eq!(pending["count"], 12);
    assert!(
        pending["median_days_to_accept"].is_null(),
        "none accepted yet"
    );

    // Narrowed to one kind and state with two referrals: hidden, medians too.
    let supervisor = app.signed_in(Role::CitySupervisor, &[mosul], None).await;
    let small: Value = app
        .get_as(
            &supervisor,
            "/api/v1/stats/referrals?group_by=state&from=2000-01-01&to=2000-02-01",
        )
        .await
        .json()
        .await
        .unwrap();
    assert!(
        small["cells"].as_array().unwrap().is_empty() || small["cells"][0]["count"] == 0,
        "{small}"
    );

    let csv = app
        .client
        .get(app.url("/api/v1/stats/referrals?group_by=month"))
        .bearer_auth(&ministry)
        .header("accept", "text/csv")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(
        lines[0],
        "month,count,median_days_to_accept,median_days_to_complete"
    );
    assert_eq!(
        lines[1],
        "#date+month,#affected+num,#indicator+days+accept,#indicator+days+complete"
    );
    assert!(lines[2].ends_with(",24,0,"), "{csv}");
}
