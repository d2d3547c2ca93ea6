//! The OpenAPI 3 document, collected from the `#[utoipa::path]` attributes of
//! the handlers that [`crate::web::routes::configure`] registers, so a route
//! cannot be served without being documented. [`super::docs`] serves it.

use std::collections::BTreeMap;

use actix_web::http::StatusCode;
use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::path::{Operation, ParameterIn, PathItem};
use utoipa::openapi::schema::{
    AdditionalProperties, ArrayItems, Object, ObjectBuilder, Schema, SchemaType, Type,
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
    describe_tags(&mut api);
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

/// Each tag's description; the state machines of the things it holds are
/// written here, the referral's from the machine itself.
fn describe_tags(doc: &mut Document) {
    use crate::domain::ReferralState;
    use crate::domain::referral::{allowed, next};
    let mut referral = String::from(
        "A referral of one person to one organisation. Its state machine \
         (`POST /referrals/{id}/{transition}`; any other step answers 409 naming \
         the steps allowed now):\n\n| state | transition | next state |\n|---|---|---|\n",
    );
    for state in ReferralState::ALL {
        let steps = allowed(*state);
        if steps.is_empty() {
            referral.push_str(&format!("| `{}` | (final) | |\n", state.as_str()));
        }
        for step in steps {
            if let Some(to) = next(*state, step) {
                referral.push_str(&format!(
                    "| `{}` | `{}` | `{}` |\n",
                    state.as_str(),
                    step.as_str(),
                    to.as_str()
                ));
            }
        }
    }
    referral.push_str(
        "\nProviders accept, decline, start and complete (with an `outcome`); \
         the referring city cancels. Provider staff see a referral only while it \
         is open and its person consents to sharing.",
    );
    let described: [(&str, String); 14] = [
        ("service", "Health, metrics and documentation.".into()),
        ("auth", "Signing in, refreshing and ending sessions, enrolling with a one-time code, and the second factor.".into()),
        ("users", "Staff accounts. An account that can see people starts `pending` and becomes `approved` or `rejected` by a second person (a supervisor of its cities, a second admin for provider staff); only then can it enrol.".into()),
        ("places", "Governorates, cities and organisations (admin writes; every signed-in user reads).".into()),
        ("cases", "A case is one person, in one city. Status: `open` when made, `active` from its first note or referral, `closed` by `POST /cases/{id}/close` (from `open` or `active`), back to `active` by `POST /cases/{id}/reopen` (supervisors), and `erased` for good by `POST /cases/{id}/erase` (answers 410 after).".into()),
        ("households", "A household groups the cases of one family.".into()),
        ("transfers", "Moving a case to another city: `pending` when asked, then `accepted` (by a social worker or supervisor of the receiving city: the case moves, re-sealed), `rejected` (by the receiving city) or `cancelled` (by the sending city). Only a pending transfer can change.".into()),
        ("referrals", referral),
        ("assessments", "Scored assessments of a person's situation with a versioned instrument: `draft` (editable by its author) → `submitted` (scored and counted) → `reviewed` (by a supervisor who did not write it); `draft`, `submitted` or `reviewed` → `voided` (with a reason). Review and void are a supervisor's, never the author's. The first assessment of a case is its `baseline`; follow-ups use the baseline's instrument.".into()),
        ("closure", "Closing a case takes a second pair of eyes. A closure request (`services_completed`, `moved_abroad`, `deceased`, `lost_contact`, `declined_services` or `other`, with a sealed note) goes `pending` → `approved` (the case closes) | `returned` (with a reason; the worker may ask again), decided by a city supervisor of the case's city who did not ask. A supervisor's direct close is recorded as `self_approved`. A case with an open referral cannot close (409 naming them).".into()),
        ("follow-ups", "Scheduled contacts (`home_visit`, `phone_call`, `referral_check`, `assessment_due`): `scheduled` → `done` (with an optional sealed note) | `missed` | `cancelled`; only a scheduled one changes. The system schedules a `referral_check` after a referral is completed or declined. `GET /tasks` is the caller's day: overdue first, then the coming days, across follow-ups, incoming transfers, referrals due and assessments due; supervisors see their cities' queue by worker.".into()),
        ("plans", "A reintegration plan: goals by dimension (`economic`, `social`, `psychosocial`, `education`, `protection`), each with actions (a target date, perhaps a referral) whose texts are sealed. A plan goes `draft` → `submitted` → `approved` (the case's one active plan) | `returned` (with a reason), decided by a city supervisor of the case's city who is not its author; revising an approved or returned plan makes a new draft version, and the old one becomes `superseded` once the new one is approved, kept read-only with who approved it. Actions: `planned` → `in_progress` → `done` | `dropped`.".into()),
        ("stats", "Figures. Ministry officials get national figures only from statistical releases made with differential privacy; city supervisors get exact figures for their own cities.".into()),
        ("audit", "The audit trail: who did what to whom, chained and sealed; auditors read it.".into()),
    ];
    let tags = doc.tags.get_or_insert_with(Vec::new);
    for (name, description) in described {
        match tags.iter_mut().find(|t| t.name == name) {
            Some(tag) => tag.description = Some(description),
            None => {
                let mut tag = utoipa::openapi::tag::Tag::new(name);
                tag.description = Some(description);
                tags.push(tag);
            }
        }
    }
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
                "The request timed out, the database cannot be reached, or the transaction met another on the same records and was undone; send it again after Retry-After",
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
        for (name, schema) in components.schemas.iter_mut() {
            give_examples(name, schema);
        }
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

/// A realistic example for a text property without one, by its name (and,
/// where the name alone is ambiguous, its schema's): Swagger UI would
/// otherwise make one up from the property's pattern. The people are
/// made up; the places are real.
fn example_for(schema: &str, property: &str) -> Option<&'static str> {
    Some(match (schema, property) {
        (s, "code") if s.contains("Governorate") => "NIN",
        (s, "code") if s.contains("City") => "MOS",
        (_, "code") => "MOS",
        (s, "name") if s.contains("Organisation") => "Al-Amal Psychosocial Centre, Mosul",
        (s, "name_en") if s.contains("Governorate") => "Nineveh",
        (s, "name_ar") if s.contains("Governorate") => "نينوى",
        (_, "name_en") => "Mosul",
        (_, "name_ar") => "الموصل",
        (_, "full_name") => "فاطمة حسن الجبوري",
        (_, "full_name_latin") => "Fatima Hasan al-Jubouri",
        (_, "given_name") => "فاطمة",
        (_, "case_number") => "MOS-2026-000123",
        (_, "national_id") => "199012345678",
        (_, "phone") => "+9647701234567",
        (_, "address") => "حي الزهراء، الموصل",
        (_, "place") => "Al-Hol camp",
        (_, "username") => "s.worker.mosul",
        (_, "display_name") => "Noor Khalil",
        (_, "password") | (_, "new_password") => "a long passphrase of your own",
        (_, "totp_code") => "492039",
        (_, "enrolment_code") => "4f9c2a7e1b6d8035c3e9a1f27b4d6e80",
        (_, "current_password") => "the passphrase you have now",
        (_, "outcome_note") => "Finished the twelve-week tailoring course",
        (s, "name") if s.contains("Search") => "فاطمة",
        (_, "secret") => "JBSWY3DPEHPK3PXP",
        (_, "otpauth_uri") => {
            "otpauth://totp/Sanad:s.worker.mosul?secret=JBSWY3DPEHPK3PXP&issuer=Sanad"
        }
        ("Problem", "title") => "Invalid request",
        ("Problem", "detail") => "One or more fields are invalid; see errors.",
        (_, "field") => "subject.date_of_birth",
        (_, "message") => "is required",
        (_, "token_type") => "Bearer",
        (_, "actor_role") => "social_worker",
        (_, "entity") => "case",
        (_, "action") => "case.read",
        (_, "reason") | (_, "decision_reason") => "Needs counselling after return from Al-Hol",
        (_, "void_reason") => "Entered for the wrong person",
        (_, "vulnerability_notes") => "Mother of three; the youngest has no birth certificate",
        (_, "note") | (_, "body") => "Home visit: the family has moved in with relatives",
        (_, "cursor") | (_, "next_cursor") => "eyJrIjoiMjAyNi0wNS0xNCJ9",
        (_, "month") | (_, "first_month") | (_, "first") => "2026-01",
        (_, "last_month") | (_, "last") => "2026-05",
        (_, "dimensions") => "sex",
        (_, "period") => "2026-Q2",
        (_, "label") => "Mosul",
        (_, "refresh_token") => "rt_5b0f2c6e9a7d4e1b8c3f",
        (_, "access_token") => "eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiIuLi4ifQ.c2lnbmF0dXJl",
        _ => return None,
    })
}

fn give_examples(schema_name: &str, schema: &mut RefOr<Schema>) {
    let RefOr::T(Schema::Object(object)) = schema else {
        return;
    };
    for (property, value) in object.properties.iter_mut() {
        give_example(schema_name, property, value);
    }
}

/// The example of one property, looking into inline objects, arrays and
/// alternatives (an array's items take its property's name).
fn give_example(schema_name: &str, property: &str, value: &mut RefOr<Schema>) {
    let RefOr::T(schema) = value else {
        return;
    };
    match schema {
        Schema::Object(field) => {
            if is_text(field)
                && field.example.is_none()
                && field.examples.is_empty()
                && field.enum_values.is_none()
                && let Some(example) = example_for(schema_name, property)
            {
                field.examples = vec![serde_json::Value::from(example)];
            }
            for (inner, value) in field.properties.iter_mut() {
                give_example(schema_name, inner, value);
            }
        }
        Schema::Array(array) => {
            if let ArrayItems::RefOrSchema(items) = &mut array.items {
                give_example(schema_name, property, items);
            }
        }
        Schema::OneOf(one) => {
            for item in one.items.iter_mut() {
                give_example(schema_name, property, item);
            }
        }
        Schema::AllOf(all) => {
            for item in all.items.iter_mut() {
                give_example(schema_name, property, item);
            }
        }
        _ => {}
    }
}

/// A string schema, or one that may be a string or null.
fn is_text(object: &Object) -> bool {
    match &object.schema_type {
        SchemaType::Type(Type::String) => true,
        SchemaType::Array(types) => types.contains(&Type::String),
        _ => false,
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
            if is_text(object)
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
