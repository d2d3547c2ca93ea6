//! The OpenAPI 3 document, collected from the `#[utoipa::path]` attributes of
//! the handlers that [`crate::web::routes::configure`] registers, so a route
//! cannot be served without being documented. [`super::docs`] serves it.

use std::collections::BTreeMap;

use actix_web::http::StatusCode;
use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::path::{Operation, ParameterIn, PathItem};
use utoipa::openapi::schema::{
    AdditionalProperties, ArrayItems, ObjectBuilder, Schema, SchemaType, Type,
};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ContentBuilder, OpenApi as Document, Ref, RefOr, Response, ResponseBuilder};
use utoipa::{Modify, OpenApi};
use utoipa_actix_web::AppExt;

use crate::auth::policy;
use crate::error::{FieldError, PROBLEM_JSON, Problem};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Sanad",
        description = "Case management for the reintegration of returnees. Errors are application/problem+json (RFC 9457).",
    ),
    components(schemas(Problem, FieldError)),
    modifiers(&BearerAuth),
    tags(
        (name = "service", description = "Health, metrics and documentation"),
    )
)]
struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut Document) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
    }
}

/// The whole document, built from the same route table the server uses,
/// then completed by [`complete`].
pub fn document() -> Document {
    let (_, mut api) = actix_web::App::new()
        .into_utoipa_app()
        .openapi(ApiDoc::openapi())
        .configure(crate::web::routes::configure)
        .split_for_parts();
    complete(&mut api);
    api
}

/// Every operation of a path, with its lower-case method name.
fn operations_mut(item: &mut PathItem) -> impl Iterator<Item = (&'static str, &mut Operation)> {
    [
        ("get", item.get.as_mut()),
        ("put", item.put.as_mut()),
        ("post", item.post.as_mut()),
        ("delete", item.delete.as_mut()),
        ("options", item.options.as_mut()),
        ("head", item.head.as_mut()),
        ("patch", item.patch.as_mut()),
        ("trace", item.trace.as_mut()),
    ]
    .into_iter()
    .filter_map(|(method, op)| op.map(|op| (method, op)))
}

/// A route pattern as the document spells it: `{id:regex}` becomes `{id}`.
pub fn document_path(pattern: &str) -> String {
    let mut out = String::with_capacity(pattern.len());
    let mut in_regex = false;
    let mut depth = 0usize;
    for c in pattern.chars() {
        match c {
            '{' => {
                depth += 1;
                if depth == 1 {
                    in_regex = false;
                }
                if !in_regex {
                    out.push(c);
                }
            }
            '}' => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    in_regex = false;
                    out.push(c);
                } else if !in_regex {
                    out.push(c);
                }
            }
            ':' if depth == 1 => in_regex = true,
            _ if !in_regex => out.push(c),
            _ => {}
        }
    }
    out
}

/// The methods each path pattern is served with, upper case and comma
/// separated, for the `Allow` header of a 405.
pub fn allowed_methods(doc: &Document) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut paths = doc.paths.paths.clone();
    for (path, item) in paths.iter_mut() {
        let methods: Vec<String> = operations_mut(item)
            .map(|(method, _)| method.to_ascii_uppercase())
            .collect();
        out.insert(path.clone(), methods.join(", "));
    }
    out
}

/// What the handlers' own annotations leave implicit, added the same way to
/// every operation so that no route can forget it:
///
/// - the answers the shared layers give: 401 from the bearer-token
///   extractor (secured routes), 403 where some role may never take the
///   route's policy action, 404 for a path id that does not parse or names
///   nothing in reach, 400/413/415/422 from the JSON body extractor, 422
///   from the query-string parser, and 503 from the request timeout and the
///   database pool (every route);
/// - a description on every response (OpenAPI requires one);
/// - closed object schemas: no request accepts, and no answer carries, a
///   member its schema does not name.
fn complete(doc: &mut Document) {
    let access: BTreeMap<(&str, &str), Option<crate::auth::Action>> = crate::web::routes::ACCESS
        .iter()
        .map(|(method, path, action)| ((*method, *path), *action))
        .collect();
    for (path, item) in doc.paths.paths.iter_mut() {
        for (method, op) in operations_mut(item) {
            let action = access.get(&(method, path.as_str())).copied().flatten();
            let has_body = op.request_body.is_some();
            let params = op.parameters.as_deref().unwrap_or_default();
            let in_path = params.iter().any(|p| match p {
                RefOr::T(p) => p.parameter_in == ParameterIn::Path,
                RefOr::Ref(_) => false,
            });
            let in_query = params.iter().any(|p| match p {
                RefOr::T(p) => p.parameter_in == ParameterIn::Query,
                RefOr::Ref(_) => false,
            });
            if action.is_some() {
                problem(
                    op,
                    401,
                    "No valid bearer token (missing, expired, forged or issued before an account change)",
                );
            }
            if action.is_some_and(policy::denied_to_some_role) {
                problem(op, 403, "The caller's role may never do this");
            }
            if in_path {
                problem(op, 404, "No such resource, or not in the caller's reach");
            }
            if has_body {
                problem(op, 400, "The body is not JSON");
                problem(op, 413, "The body exceeds the size limit");
                problem(op, 415, "The body is not sent as application/json");
            }
            if has_body || in_query {
                problem(op, 422, "A field is invalid; `errors` names each one");
            }
            problem(
                op,
                503,
                "The request timed out or the database cannot be reached; retry after Retry-After",
            );
            for (status, response) in op.responses.responses.iter_mut() {
                let RefOr::T(response) = response else {
                    continue;
                };
                error_headers(status, response);
                if response.description.is_empty() {
                    response.description = status
                        .parse::<u16>()
                        .ok()
                        .and_then(|s| StatusCode::from_u16(s).ok())
                        .and_then(|s| s.canonical_reason())
                        .unwrap_or("Answer")
                        .to_string();
                }
            }
        }
    }
    for item in doc.paths.paths.values_mut() {
        for (_, op) in operations_mut(item) {
            for param in op.parameters.iter_mut().flatten() {
                if let RefOr::T(param) = param
                    && let Some(schema) = param.schema.as_mut()
                {
                    forbid_nul(schema);
                }
            }
        }
    }
    if let Some(components) = doc.components.as_mut() {
        for schema in components.schemas.values_mut() {
            if let RefOr::T(Schema::Object(object)) = schema
                && !object.properties.is_empty()
                && object.additional_properties.is_none()
            {
                object.additional_properties =
                    Some(Box::new(AdditionalProperties::FreeForm(false)));
            }
            forbid_nul(schema);
        }
    }
}

/// No text the API takes or gives holds U+0000 (`extract` answers 422 for
/// one: PostgreSQL cannot store it). Free strings say so with a pattern;
/// the handwritten patterns already exclude it.
const NO_NUL: &str = r"^[^\x00]*$";

fn forbid_nul(schema: &mut RefOr<Schema>) {
    let RefOr::T(schema) = schema else {
        return;
    };
    match schema {
        Schema::Object(object) => {
            let text = match &object.schema_type {
                SchemaType::Type(Type::String) => true,
                SchemaType::Array(types) => types.contains(&Type::String),
                _ => false,
            };
            if text
                && object.pattern.is_none()
                && object.format.is_none()
                && object.enum_values.is_none()
            {
                object.pattern = Some(NO_NUL.to_string());
            }
            for property in object.properties.values_mut() {
                forbid_nul(property);
            }
        }
        Schema::Array(array) => {
            if let ArrayItems::RefOrSchema(items) = &mut array.items {
                forbid_nul(items);
            }
        }
        Schema::OneOf(one) => one.items.iter_mut().for_each(forbid_nul),
        Schema::AllOf(all) => all.items.iter_mut().for_each(forbid_nul),
        Schema::AnyOf(any) => any.items.iter_mut().for_each(forbid_nul),
        _ => {}
    }
}

/// Adds a problem+json answer with this status unless the handler already
/// documents one.
fn problem(op: &mut Operation, status: u16, description: &str) {
    op.responses
        .responses
        .entry(status.to_string())
        .or_insert_with(|| {
            ResponseBuilder::new()
                .description(description)
                .content(
                    PROBLEM_JSON,
                    ContentBuilder::new()
                        .schema(Some(Ref::from_schema_name("Problem")))
                        .build(),
                )
                .into()
        });
}

/// The headers the error layer sets on these statuses (see
/// `ApiError::error_response`).
fn error_headers(status: &str, response: &mut Response) {
    let (name, description, schema) = match status {
        "401" => (
            "WWW-Authenticate",
            "Always `Bearer`",
            ObjectBuilder::new().schema_type(Type::String),
        ),
        "429" | "503" => (
            "Retry-After",
            "Seconds to wait before trying again",
            ObjectBuilder::new()
                .schema_type(Type::Integer)
                .minimum(Some(0)),
        ),
        _ => return,
    };
    response.headers.entry(name.to_string()).or_insert_with(|| {
        HeaderBuilder::new()
            .schema(Some(schema))
            .description(Some(description))
            .build()
            .into()
    });
}

/// The `Allow` header of each path pattern, from the document.
pub struct AllowedMethods(pub BTreeMap<String, String>);

#[cfg(test)]
mod tests;
