//! Languages: `Accept-Language` picks English, Arabic or Central Kurdish
//! for every problem's title, detail and field messages (never the field
//! names, `type` or codes), `GET /api/v1/vocabularies` labels every closed
//! list, and the CSV header follows the language while the HXL row does not.

use sanad::domain::Role;
use sanad::i18n::Lang;
use sanad::i18n::catalog::catalog;
use serde_json::{Value, json};

use crate::helpers::{assert_problem, create, new_case, spawn_app};
use crate::stats::{release_at, stats_settings};

fn text(lang: Lang, key: &str) -> &'static str {
    catalog()
        .text(lang, key)
        .unwrap_or_else(|| panic!("{key} is in the {} catalog", lang.tag()))
}

fn header(response: &reqwest::Response, name: &str) -> String {
    response
        .headers()
        .get_all(name)
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

/// One request's problem, asked for in `accept_language`.
async fn problem_in(
    request: reqwest::RequestBuilder,
    accept_language: &str,
    status: u16,
    lang: Lang,
) -> Value {
    let response = request
        .header("accept-language", accept_language)
        .send()
        .await
        .unwrap();
    assert_eq!(header(&response, "content-language"), lang.tag());
    assert!(
        header(&response, "vary").contains("accept-language"),
        "{:?}",
        response.headers()
    );
    assert_problem(response, status).await
}

#[tokio::test]
async fn a_404_in_each_language() {
    let app = spawn_app().await;
    for (asked, lang) in [
        ("", Lang::En),
        ("ar-IQ", Lang::Ar),
        ("ku;q=0.9, en;q=0.1", Lang::Ckb),
    ] {
        let request = app.client.get(app.url("/api/v1/no-such-thing"));
        let body = problem_in(request, asked, 404, lang).await;
        assert_eq!(body["type"], "urn:sanad:problem:not-found");
        assert_eq!(body["title"], text(lang, "problem.not_found.title"));
        assert_eq!(body["detail"], text(lang, "problem.not_found.detail"));
    }
}

#[tokio::test]
async fn a_validation_error_in_each_language_keeps_its_field_names() {
    let session = spawn_app()
        .with_city("MOS")
        .signed_in(Role::SocialWorker)
        .await;
    let app = &session.app;
    let mut body = new_case(session.city, "فاطمة أحمد");
    body["subject"]["date_of_birth"] = json!("2999-01-01");
    for (asked, lang) in [("en", Lang::En), ("ar", Lang::Ar), ("ckb-IQ", Lang::Ckb)] {
        let request = app
            .client
            .post(app.url("/api/v1/cases"))
            .bearer_auth(&session.token)
            .json(&body);
        let problem = problem_in(request, asked, 422, lang).await;
        assert_eq!(problem["type"], "urn:sanad:problem:validation");
        assert_eq!(problem["title"], text(lang, "problem.validation.title"));
        assert_eq!(problem["detail"], text(lang, "problem.validation.detail"));
        assert_eq!(
            problem["errors"],
            json!([{
                "field": "subject.date_of_birth",
                "message": text(lang, "field.case.future"),
            }]),
            "{problem}"
        );
    }
    // Right-to-left text arrives as written, not escaped or reordered.
    let response = app
        .client
        .post(app.url("/api/v1/cases"))
        .bearer_auth(&session.token)
        .header("accept-language", "ar")
        .json(&body)
        .send()
        .await
        .unwrap();
    let raw = response.text().await.unwrap();
    assert!(raw.contains("يجب ألا يكون في المستقبل"), "{raw}");
}

#[tokio::test]
async fn values_in_a_message_survive_translation() {
    let app = spawn_app().await;
    let request = app
        .client
        .post(app.url("/api/v1/auth/login"))
        .header("content-type", "application/json")
        .body("{\n  \"username\": ");
    let problem = problem_in(request, "ckb", 400, Lang::Ckb).await;
    assert_eq!(problem["type"], "urn:sanad:problem:malformed-request");
    let detail = problem["detail"].as_str().unwrap();
    // The line and column are filled into the Kurdish sentence.
    let template = text(Lang::Ckb, "malformed.syntax");
    let (before, _) = template.split_once("{line}").unwrap();
    let (_, after) = template.split_once("{column}").unwrap();
    assert!(
        detail.starts_with(before) && detail.ends_with(after),
        "{detail}"
    );
    let middle = &detail[before.len()..detail.len() - after.len()];
    assert!(
        middle.starts_with('2') && middle.chars().any(|c| c.is_ascii_digit()),
        "{detail}"
    );
    assert!(!detail.contains('{'), "{detail}");
}

#[tokio::test]
async fn vocabularies_label_every_value_of_every_closed_list_in_three_languages() {
    let app = spawn_app().await;
    for (asked, lang) in [("en-GB", Lang::En), ("ar", Lang::Ar), ("ckb", Lang::Ckb)] {
        // Public: no token.
        let response = app
            .client
            .get(app.url("/api/v1/vocabularies"))
            .header("accept-language", asked)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 200);
        assert_eq!(header(&response, "content-language"), lang.tag());
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["language"], lang.tag());
        assert_eq!(body["languages"], json!(["en", "ar", "ckb"]));
        let lists = body["lists"].as_array().unwrap();
        // The lists as the code enumerates them (each enum's `ALL`).
        let expected = sanad::i18n::vocabulary::lists();
        assert_eq!(lists.len(), expected.len());
        for (name, values) in expected {
            let list = lists
                .iter()
                .find(|l| l["name"] == name)
                .unwrap_or_else(|| panic!("{name} is listed"));
            let got: Vec<&str> = list["values"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v["value"].as_str().unwrap())
                .collect();
            assert_eq!(got, values, "{name}");
            for term in list["values"].as_array().unwrap() {
                let value = term["value"].as_str().unwrap();
                let label = catalog().label(lang, name, value).unwrap();
                assert_eq!(term["label"], label, "{name}.{value}");
                for other in Lang::ALL {
                    assert_eq!(
                        term["labels"][other.tag()],
                        catalog().label(other, name, value).unwrap(),
                        "{name}.{value}"
                    );
                }
            }
        }
    }
    let sex = |body: &Value| {
        body["lists"]
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["name"] == "sex")
            .cloned()
            .unwrap()
    };
    let ar: Value = app
        .client
        .get(app.url("/api/v1/vocabularies"))
        .header("accept-language", "ar")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(sex(&ar)["values"][0]["value"], "female");
    assert_eq!(sex(&ar)["values"][0]["label"], "أنثى");
}

#[tokio::test]
async fn the_csv_header_follows_the_language_and_the_hxl_row_does_not() {
    let app = spawn_app().await;
    let mosul = app.city("MOS");
    let worker = app.signed_in(Role::SocialWorker, &[mosul], None).await;
    let mut body = new_case(mosul, "سارة علي");
    body["return_date"] = json!("2025-02-02");
    body["consent"]["given_at"] = json!("2025-02-02T09:00:00Z");
    create(&app, &worker, &body).await;
    let ministry = app.signed_in(Role::MinistryOfficial, &[], None).await;
    release_at(&app, &stats_settings(&app), "2026-12-01").unwrap();
    let response = app
        .client
        .get(app.url("/api/v1/stats/cases?group_by=governorate,sex&period=2025-Q1"))
        .bearer_auth(&ministry)
        .header("accept", "text/csv")
        .header("accept-language", "ar-IQ")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    assert_eq!(header(&response, "content-language"), "ar");
    let body = response.text().await.unwrap();
    let mut lines = body.lines();
    assert_eq!(
        lines.next(),
        Some("المحافظة,الجنس,العدد,هامش الخطأ (95٪),محجوب")
    );
    assert_eq!(
        lines.next(),
        Some("#adm1+code,#gender,#affected+num,#affected+num+margin95,#meta+suppressed")
    );
    // The values are codes, in every language.
    assert!(
        body.lines()
            .skip(2)
            .all(|l| l.contains(",female,") || l.contains(",male,")),
        "{body}"
    );
}

async fn explode() -> actix_web::HttpResponse {
    panic!("a canary that must not reach the client")
}

/// A panic below the middleware is an `Err`, rendered by the dispatcher:
/// it too arrives translated, with its language named.
#[tokio::test]
async fn a_panic_is_answered_in_the_asked_language() {
    use actix_web::middleware::from_fn;
    use actix_web::{App, test, web};
    use sanad::web::middleware::catch_panic;

    let app = test::init_service(
        App::new()
            .route("/explode", web::get().to(explode))
            .wrap(from_fn(catch_panic))
            .wrap(from_fn(sanad::i18n::localise::localise)),
    )
    .await;
    let request = test::TestRequest::get()
        .uri("/explode")
        .insert_header(("accept-language", "ar"))
        .to_request();
    let response = match test::try_call_service(&app, request).await {
        Ok(response) => response.map_into_boxed_body().into_parts().1,
        Err(error) => error.error_response(),
    };
    assert_eq!(response.status().as_u16(), 500);
    assert_eq!(
        response
            .headers()
            .get("content-language")
            .unwrap()
            .to_str()
            .unwrap(),
        "ar"
    );
    let bytes = actix_web::body::to_bytes(response.into_body())
        .await
        .unwrap();
    let body: Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(body["type"], "urn:sanad:problem:internal");
    assert_eq!(body["title"], text(Lang::Ar, "problem.internal.title"));
    assert_eq!(body["detail"], text(Lang::Ar, "problem.internal.detail"));
    assert!(!String::from_utf8_lossy(&bytes).contains("canary"));
}
