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

/// Every example the document gives fits its own schema (pattern and
/// length), so that Swagger UI's Try-it-out and schemathesis send what the
/// server accepts; and the free-text fields people type have one, so that
/// Swagger UI does not make one up from the pattern.
#[tokio::test]
async fn every_example_fits_its_schema_and_free_text_has_one() {
    let app = spawn_app().await;
    let doc: serde_json::Value = app.get("/api/v1/openapi.json").await.json().await.unwrap();
    let schemas = doc["components"]["schemas"].as_object().unwrap();
    let mut checked = 0;
    for (name, schema) in schemas {
        let Some(properties) = schema["properties"].as_object() else {
            continue;
        };
        for (property, field) in properties {
            for example in field["examples"].as_array().into_iter().flatten() {
                let Some(text) = example.as_str() else {
                    continue;
                };
                let chars = text.chars().count() as u64;
                if let Some(max) = field["maxLength"].as_u64() {
                    assert!(chars <= max, "{name}.{property}: {text:?} over {max}");
                }
                if let Some(min) = field["minLength"].as_u64() {
                    assert!(chars >= min, "{name}.{property}: {text:?} under {min}");
                }
                if let Some(pattern) = field["pattern"].as_str() {
                    let re = regex::Regex::new(pattern).unwrap();
                    assert!(
                        re.is_match(text),
                        "{name}.{property}: {text:?} !~ {pattern}"
                    );
                }
                checked += 1;
            }
        }
    }
    assert!(checked > 50, "only {checked} examples");
    for (schema, property) in [
        ("CreateCase", "vulnerability_notes"),
        ("SubjectInput", "full_name"),
        ("SubjectInput", "full_name_latin"),
        ("LoginRequest", "password"),
        ("CreateReferral", "reason"),
    ] {
        let field = &schemas
            .get(schema)
            .unwrap_or_else(|| panic!("no schema {schema}"))["properties"][property];
        assert!(field["examples"].is_array(), "{schema}.{property}: {field}");
    }
}
