//! "Who looked up this national ID?": a search event records the kind of
//! each term it was given and the term's blind index (never the term). An
//! auditor gives the term; the server computes its index with the same key
//! and finds the events that searched for it. A name matches the events
//! that searched for every one of its tokens.

use std::borrow::Cow;

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Deserialize;
use utoipa::openapi::schema::{AdditionalProperties, ObjectBuilder, OneOfBuilder, Schema, Type};
use utoipa::openapi::{RefOr, schema::SchemaType};
use utoipa::{PartialSchema, ToSchema};
use validator::Validate;

use super::model::{Event, SubjectKind};
use crate::crypto::{BlindIndex, BlindIndexer};
use crate::db::AnyConnection;
use crate::db::schema::{audit_events, audit_subjects};
use crate::error::ApiError;
use crate::pagination::{Cursor, PageRequest};

/// `POST /audit/lookups`: exactly one term, and the page wanted.
#[derive(Debug, Deserialize, Validate)]
#[serde(deny_unknown_fields)]
pub struct LookupRequest {
    #[validate(length(min = 1, max = 64))]
    pub national_id: Option<String>,
    #[validate(length(min = 1, max = 32))]
    pub phone: Option<String>,
    #[validate(length(min = 1, max = 200))]
    pub name: Option<String>,
    /// As `GET /audit`'s.
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

/// The term's kind and its blind indexes (one; one per name token).
#[derive(Debug, Clone)]
pub struct Term {
    pub kind: SubjectKind,
    pub indexes: Vec<BlindIndex>,
}

impl LookupRequest {
    /// The term, indexed as the search indexed it: 422 naming the field
    /// when there is not exactly one, or when it cannot be indexed (a
    /// national ID with no digit, an implausible phone, a name with no
    /// letter or digit), since it could then match nothing.
    pub fn term(&self, indexer: &BlindIndexer) -> Result<Term, ApiError> {
        let given = [&self.national_id, &self.phone, &self.name];
        if given.iter().filter(|t| t.is_some()).count() != 1 {
            return Err(ApiError::field(
                "body",
                "give exactly one of national_id, phone, name",
            ));
        }
        let (kind, indexes, field, why) = if let Some(id) = &self.national_id {
            let index = indexer.national_id(id).into_iter().collect();
            (
                SubjectKind::NationalId,
                index,
                "national_id",
                "holds no digit",
            )
        } else if let Some(phone) = &self.phone {
            let index = indexer.phone(phone).into_iter().collect();
            (SubjectKind::Phone, index, "phone", "is not a phone number")
        } else {
            let name = self.name.as_deref().unwrap_or_default();
            let tokens = indexer.name_tokens(name);
            (
                SubjectKind::Name,
                tokens,
                "name",
                "holds no letter or digit",
            )
        };
        if indexes.is_empty() {
            return Err(ApiError::field(field, why));
        }
        Ok(Term { kind, indexes })
    }
}

impl PartialSchema for LookupRequest {
    /// One of three closed objects, each with its one term.
    fn schema() -> RefOr<Schema> {
        let text = |max: usize| {
            ObjectBuilder::new()
                .schema_type(Type::String)
                .min_length(Some(1))
                .max_length(Some(max))
        };
        let variant = |field: &str, max: usize, what: &str| {
            ObjectBuilder::new()
                .schema_type(Type::Object)
                .property(field, text(max).description(Some(what)))
                .required(field)
                .property(
                    "limit",
                    ObjectBuilder::new()
                        .schema_type(SchemaType::from_iter([Type::Integer, Type::Null]))
                        .minimum(Some(0))
                        .maximum(Some(u32::MAX))
                        .description(Some("As `GET /audit`'s `limit`.")),
                )
                .property(
                    "cursor",
                    ObjectBuilder::new()
                        .schema_type(SchemaType::from_iter([Type::String, Type::Null]))
                        .description(Some("The `next_cursor` of the previous page.")),
                )
                .additional_properties(Some(AdditionalProperties::FreeForm(false)))
        };
        OneOfBuilder::new()
            .item(variant(
                "national_id",
                64,
                "Events that searched for this national ID.",
            ))
            .item(variant(
                "phone",
                32,
                "Events that searched for this phone number.",
            ))
            .item(variant(
                "name",
                200,
                "Events that searched for every word of this name.",
            ))
            .description(Some("Exactly one term."))
            .into()
    }
}

impl ToSchema for LookupRequest {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("LookupRequest")
    }
}

/// A page of the events that searched for `term`, newest first, after the
/// page's cursor: the subjects' key `(subject_id, occurred_at, event_id,
/// kind)` finds them; events of a name search must list every token.
pub fn searched_for(
    conn: &mut AnyConnection,
    term: &Term,
    page: &PageRequest<NaiveDateTime>,
) -> Result<Vec<Event>, ApiError> {
    use audit_subjects::dsl as s;

    let values: Vec<String> = term.indexes.iter().map(BlindIndex::as_hex).collect();
    let wanted = i64::try_from(values.len()).unwrap_or(i64::MAX);
    let mut query = s::audit_subjects
        .filter(s::kind.eq(term.kind.as_str()))
        .filter(s::subject_id.eq_any(values))
        .group_by((s::occurred_at, s::event_id))
        .having(diesel::dsl::count_star().eq(wanted))
        .select((s::occurred_at, s::event_id))
        .order((s::occurred_at.desc(), s::event_id.desc()))
        .limit(page.fetch())
        .into_boxed();
    if let Some(Cursor { key: at, id }) = &page.after {
        let id = id.hyphenated().to_string();
        query = query.filter(
            s::occurred_at
                .lt(*at)
                .or(s::occurred_at.eq(*at).and(s::event_id.lt(id))),
        );
    }
    let found: Vec<(NaiveDateTime, String)> = query.load(conn)?;
    let ids: Vec<&str> = found.iter().map(|(_, id)| id.as_str()).collect();
    let mut events: Vec<Event> = audit_events::table
        .filter(audit_events::id.eq_any(&ids))
        .select(Event::as_select())
        .load(conn)?;
    events.sort_by(|a, b| (b.occurred_at, &b.id).cmp(&(a.occurred_at, &a.id)));
    Ok(events)
}
