use crate::helpers::spawn_app;

#[tokio::test]
async fn the_openapi_document_describes_the_served_routes() {
    let app = spawn_app().await;

    let response = app.get("/api/v1/openapi.json").await;

    assert_eq!(response.status().as_u16(), 200);
    let doc: serde_json::Value = response.json().await.unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."), "{doc}");
    for path in [
        "/health/live",
        "/health/ready",
        "/metrics",
        "/api/v1/openapi.json",
        "/api/v1/vocabularies",
    ] {
        assert!(doc["paths"][path].is_object(), "{path} missing from {doc}");
    }
    assert!(doc["components"]["schemas"]["Problem"].is_object());
    // The vocabularies are public, and say which language they are in.
    let vocabularies = &doc["paths"]["/api/v1/vocabularies"]["get"];
    assert!(vocabularies.get("security").is_none(), "{vocabularies}");
    assert!(
        vocabularies["responses"]["200"]["headers"]["Content-Language"].is_object(),
        "{vocabularies}"
    );
    assert!(doc["components"]["schemas"]["Vocabularies"]["example"].is_object());
}

#[tokio::test]
async fn human_docs_are_served_without_any_download() {
    let app = spawn_app().await;

    let page = app.get("/docs/").await;

    assert_eq!(page.status().as_u16(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("swagger"), "{html}");
    let config = app.get("/docs/swagger-initializer.js").await;
    assert_eq!(config.status().as_u16(), 200);
    assert!(
        config
            .text()
            .await
            .unwrap()
            .contains("/api/v1/openapi.json")
    );
}

#[tokio::test]
async fn every_answer_carries_security_headers_and_api_answers_are_not_stored() {
    let app = spawn_app().await;

    for path in [
        "/health/live",
        "/api/v1/openapi.json",
        "/api/v1/no-such-route",
    ] {
        let response = app.get(path).await;
        let h = response.headers();
        assert_eq!(h["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(h["x-frame-options"], "DENY", "{path}");
        assert_eq!(h["cache-control"], "no-store", "{path}");
        assert_eq!(
            h["content-security-policy"], "default-src 'none'; frame-ancestors 'none'",
            "{path}"
        );
    }
    let docs = app.get("/docs/").await;
    let csp = docs.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        csp.contains("script-src 'self'") && !csp.contains("unsafe-eval"),
        "{csp}"
    );
    let html = docs.text().await.unwrap();
    // The strict script-src holds only if the page has no inline script.
    for tag in html.split("<script").skip(1) {
        assert!(
            tag.trim_start().starts_with("src="),
            "inline script in /docs: {tag}"
        );
    }
}
