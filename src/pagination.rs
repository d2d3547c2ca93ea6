//! One way to page through a list, used by every paged list (cases, the
//! audit log, staff accounts): keyset pagination over a stable order.
//!
//! - A [`Cursor`] is where the next page starts: the sort key and id of the
//!   last row of the page before. Clients see it as opaque text (URL-safe
//!   base64 of `key|id`) and give it back as `cursor=`; anything this server
//!   did not issue is a 422 naming `cursor`.
//! - A [`PageRequest`] is a page size (already cut to the `pagination`
//!   settings) and an optional cursor; a store fetches
//!   [`PageRequest::fetch`] rows (one more than the page) after the cursor.
//! - [`PageRequest::cut`] keeps the page and makes the next cursor, if there
//!   is a next page; a [`Page`] is what the client gets.

use std::borrow::Cow;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::NaiveDateTime;
use serde::Serialize;
use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, Schema, SchemaType, Type};
use utoipa::openapi::{Ref, RefOr};
use utoipa::{PartialSchema, ToSchema};
use uuid::Uuid;

use crate::error::ApiError;

/// A sort key a cursor can carry.
pub trait CursorKey: Sized {
    fn encode(&self) -> String;
    fn decode(text: &str) -> Option<Self>;
}

/// A time, as microseconds since the epoch (what both backends store).
impl CursorKey for NaiveDateTime {
    fn encode(&self) -> String {
        self.and_utc().timestamp_micros().to_string()
    }

    fn decode(text: &str) -> Option<NaiveDateTime> {
        let micros = text.parse::<i64>().ok()?;
        chrono::DateTime::from_timestamp_micros(micros).map(|at| at.naive_utc())
    }
}

/// A text key, such as a username.
impl CursorKey for String {
    fn encode(&self) -> String {
        self.clone()
    }

    fn decode(text: &str) -> Option<String> {
        Some(text.to_string())
    }
}

/// Where the next page starts: the key and id of the last row shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor<K> {
    pub key: K,
    pub id: Uuid,
}

impl<K: CursorKey> Cursor<K> {
    pub fn new(key: K, id: impl Into<Uuid>) -> Cursor<K> {
        Cursor { key, id: id.into() }
    }

    /// The text a client gets as `next_cursor`.
    pub fn encode(&self) -> String {
        URL_SAFE_NO_PAD.encode(format!("{}|{}", self.key.encode(), self.id.hyphenated()))
    }

    /// A cursor this server issued; anything else is a 422 on `cursor`.
    pub fn parse(text: &str) -> Result<Cursor<K>, ApiError> {
        let invalid = || ApiError::field("cursor", "is not a cursor this server issued");
        let bytes = URL_SAFE_NO_PAD.decode(text).map_err(|_| invalid())?;
        let text = String::from_utf8(bytes).map_err(|_| invalid())?;
        // The id is last and holds no `|`; a text key may.
        let (key, id) = text.rsplit_once('|').ok_or_else(invalid)?;
        Ok(Cursor {
            key: K::decode(key).ok_or_else(invalid)?,
            id: Uuid::parse_str(id).map_err(|_| invalid())?,
        })
    }
}

/// A page size and where the page starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageRequest<K> {
    size: u32,
    pub after: Option<Cursor<K>>,
}

impl<K: CursorKey> PageRequest<K> {
    /// `size` is already cut to the settings (and at least 1); `cursor` is
    /// what the client sent.
    pub fn new(size: u32, cursor: Option<&str>) -> Result<PageRequest<K>, ApiError> {
        Ok(PageRequest {
            size: size.max(1),
            after: cursor.map(Cursor::parse).transpose()?,
        })
    }

    /// How many rows to fetch: one more than the page, to tell whether
    /// there is a next one.
    pub fn fetch(&self) -> i64 {
        i64::from(self.size) + 1
    }

    /// The page out of rows fetched with [`PageRequest::fetch`], and the
    /// cursor of the next page when there is one.
    pub fn cut<R>(
        &self,
        mut rows: Vec<R>,
        position: impl Fn(&R) -> Cursor<K>,
    ) -> (Vec<R>, Option<String>) {
        let size = self.size as usize;
        if rows.len() <= size {
            return (rows, None);
        }
        rows.truncate(size);
        let next = rows.last().map(|last| position(last).encode());
        (rows, next)
    }
}

/// What a paged list answers.
#[derive(Debug, Serialize)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

/// An item of a paged list, and how its page is named in the OpenAPI
/// document (`CasePage` for `CaseSummary`).
pub trait Listed: ToSchema {
    const PAGE: &'static str;
    /// The description of the page's `next_cursor`.
    const NEXT_CURSOR_DOC: Option<&'static str> = Some("`null` on the last page.");
}

impl<T: Listed> PartialSchema for Page<T> {
    fn schema() -> RefOr<Schema> {
        let items = ArrayBuilder::new().items(Ref::from_schema_name(T::name()));
        let next_cursor = ObjectBuilder::new()
            .schema_type(SchemaType::from_iter([Type::String, Type::Null]))
            .description(T::NEXT_CURSOR_DOC);
        ObjectBuilder::new()
            .schema_type(Type::Object)
            .property("items", items)
            .property("next_cursor", next_cursor)
            .required("items")
            .required("next_cursor")
            .into()
    }
}

impl<T: Listed> ToSchema for Page<T> {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed(T::PAGE)
    }

    fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
        schemas.push((T::name().into(), T::schema()));
        T::schemas(schemas);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn cursors_round_trip() {
        let at = chrono::NaiveDate::from_ymd_opt(2026, 5, 1)
            .unwrap()
            .and_hms_micro_opt(8, 30, 0, 123_456)
            .unwrap();
        let cursor = Cursor::new(at, Uuid::new_v4());
        assert_eq!(Cursor::parse(&cursor.encode()).unwrap(), cursor);
        let named = Cursor::new("ali|hassan".to_string(), Uuid::new_v4());
        assert_eq!(Cursor::parse(&named.encode()).unwrap(), named);
    }

    #[test]
    fn strangers_are_refused() {
        for bad in [
            "",
            "!!",
            "garbage",
            "MTIz",
            "fHg",
            "bm90IGEgY3Vyc29y",
            &URL_SAFE_NO_PAD.encode("12|x"),
            &URL_SAFE_NO_PAD.encode("12|not-a-uuid"),
        ] {
            let err = Cursor::<NaiveDateTime>::parse(bad).unwrap_err();
            assert!(
                matches!(&err, ApiError::Validation(f) if f[0].field == "cursor"),
                "{bad}"
            );
        }
    }

    #[test]
    fn a_page_is_cut_and_the_next_starts_after_its_last_row() {
        let page: PageRequest<String> = PageRequest::new(2, None).unwrap();
        assert_eq!(page.fetch(), 3);
        let ids = [Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4()];
        let position = |(name, id): &(&str, Uuid)| Cursor::new(name.to_string(), *id);
        let (rows, next) = page.cut(vec![("a", ids[0]), ("b", ids[1]), ("c", ids[2])], position);
        assert_eq!(rows.len(), 2);
        let next = Cursor::<String>::parse(&next.unwrap()).unwrap();
        assert_eq!((next.key.as_str(), next.id), ("b", ids[1]));
        let (rows, next) = page.cut(vec![("a", ids[0])], position);
        assert_eq!((rows.len(), next), (1, None));
    }

    proptest! {
        /// Any text a client sends as a cursor is a cursor or a 422 on
        /// `cursor`; never a panic.
        #[test]
        fn made_up_cursors_are_field_errors(text in "\\PC{0,80}|[A-Za-z0-9_-]{0,80}") {
            if let Err(err) = Cursor::<NaiveDateTime>::parse(&text) {
                prop_assert!(matches!(&err, ApiError::Validation(f) if f[0].field == "cursor"), "{err:?}");
            }
            let _ = Cursor::<String>::parse(&text);
        }

        /// Well-formed base64 of nonsense too (the decoded text is parsed).
        #[test]
        fn encoded_nonsense_is_refused(micros in "\\PC{0,24}", id in "\\PC{0,40}") {
            let text = URL_SAFE_NO_PAD.encode(format!("{micros}|{id}"));
            if let Ok(cursor) = Cursor::<NaiveDateTime>::parse(&text) {
                prop_assert_eq!(Cursor::parse(&cursor.encode()).ok(), Some(cursor));
            }
        }

        /// Every cursor this service makes parses back to itself.
        #[test]
        fn issued_cursors_round_trip(micros in -8_000_000_000_000_000i64..8_000_000_000_000_000, id in any::<u128>()) {
            if let Some(at) = chrono::DateTime::from_timestamp_micros(micros) {
                let cursor = Cursor::new(at.naive_utc(), Uuid::from_u128(id));
                prop_assert_eq!(Cursor::parse(&cursor.encode()).unwrap(), cursor);
            }
        }
    }
}
