use serde_json::Value;

use super::*;

fn doc() -> Value {
    serde_json::to_value(document()).unwrap()
}

fn operations(doc: &Value) -> Vec<(String, String, Value)> {
    let mut out = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            out.push((method.clone(), path.clone(), op.clone()));
        }
    }
    out
}

#[test]
fn every_operation_documents_the_answers_of_the_shared_layers() {
    let doc = doc();
    for (method, path, op) in operations(&doc) {
        let responses = op["responses"].as_object().unwrap();
        let has = |status: &str| responses.contains_key(status);
        let label = format!("{method} {path}");
        assert!(has("503"), "{label}");
        if op.get("security").is_some() {
            assert!(has("401"), "{label}");
            assert!(
                responses["401"]["headers"]["WWW-Authenticate"].is_object(),
                "{label}"
            );
        }
        if op.get("requestBody").is_some() {
            for status in ["400", "413", "415", "422"] {
                assert!(has(status), "{label} {status}");
            }
        }
        let params = op["parameters"].as_array().cloned().unwrap_or_default();
        if params.iter().any(|p| p["in"] == "path") {
            assert!(has("404"), "{label}");
        }
        if params.iter().any(|p| p["in"] == "query") {
            assert!(has("422"), "{label}");
        }
        for (status, response) in responses {
            assert!(
                response["description"]
                    .as_str()
                    .is_some_and(|d| !d.is_empty()),
                "{label} {status} has no description"
            );
            if status.starts_with('4') || status.starts_with('5') {
                assert!(
                    response["content"][PROBLEM_JSON].is_object(),
                    "{label} {status} is not problem+json"
                );
            }
        }
    }
}

#[test]
fn a_403_is_documented_exactly_where_some_role_is_refused() {
    let doc = doc();
    for (method, path, action) in crate::web::routes::ACCESS {
        let op = &doc["paths"][*path][*method];
        let documented = op["responses"]["403"].is_object();
        let expected = action.is_some_and(policy::denied_to_some_role);
        assert_eq!(documented, expected, "{method} {path}");
    }
}

#[test]
fn object_schemas_are_closed_and_free_text_excludes_nul() {
    let doc = doc();
    for (name, schema) in doc["components"]["schemas"].as_object().unwrap() {
        if schema.get("properties").is_some() {
            assert_eq!(schema["additionalProperties"], false, "{name}");
        }
    }
    let login = &doc["components"]["schemas"]["LoginRequest"]["properties"];
    assert_eq!(login["username"]["pattern"], NO_NUL);
    assert_eq!(login["username"]["maxLength"], 64);
}

#[test]
fn allow_lists_the_methods_of_each_pattern() {
    let allowed = allowed_methods(&document());
    assert_eq!(allowed["/api/v1/cases/{id}"], "GET, PATCH");
    assert_eq!(allowed["/api/v1/cases/search"], "POST");
    assert_eq!(allowed["/health/live"], "GET");
    assert_eq!(
        document_path("/api/v1/cases/{id:[0-9a-f]{8}-[0-9a-f-]+}/notes"),
        "/api/v1/cases/{id}/notes"
    );
    assert_eq!(document_path("/users/{id}"), "/users/{id}");
}
