//! Domain values in `Text` columns, the same on both backends: ids as
//! canonical lower-case UUID text, closed sets as their snake_case names,
//! sets of them comma-separated. A row struct holds the typed value; a
//! stored text that is not one is a corrupt row, reported here, once, as a
//! deserialisation error (an internal error that names the type, never the
//! value).
//!
//! `Sealed` (`crypto::field`) does the same for `Binary` columns.

use std::borrow::Cow;

/// A value kept in a `Text` column. [`text_column!`](crate::text_column)
/// implements diesel's `FromSql` and `ToSql` for it on PostgreSQL, SQLite
/// and [`super::AnyConnection`]'s backend.
pub trait TextColumn: Sized {
    /// The stored text.
    fn to_text(&self) -> Cow<'_, str>;
    /// The value of a stored text; `None` is a corrupt row.
    fn from_text(text: &str) -> Option<Self>;
}

/// A stored text that is no value of its type: the row is corrupt.
#[derive(Debug, thiserror::Error)]
#[error("corrupt row: a stored {0} is not one")]
pub struct Corrupt(pub &'static str);

/// Implements `FromSql<Text>` and `ToSql<Text>` for a [`TextColumn`] type
/// on every backend. The type must also derive `diesel::AsExpression` and
/// `diesel::FromSqlRow` with `#[diesel(sql_type = diesel::sql_types::Text)]`.
#[macro_export]
macro_rules! text_column {
    ($name:ty) => {
        impl<DB> diesel::deserialize::FromSql<diesel::sql_types::Text, DB> for $name
        where
            DB: diesel::backend::Backend,
            String: diesel::deserialize::FromSql<diesel::sql_types::Text, DB>,
        {
            fn from_sql(bytes: DB::RawValue<'_>) -> diesel::deserialize::Result<Self> {
                let text = String::from_sql(bytes)?;
                <$name as $crate::db::column::TextColumn>::from_text(&text).ok_or_else(|| {
                    Box::new($crate::db::column::Corrupt(stringify!($name))) as Box<_>
                })
            }
        }

        impl diesel::serialize::ToSql<diesel::sql_types::Text, diesel::pg::Pg> for $name {
            fn to_sql<'b>(
                &'b self,
                out: &mut diesel::serialize::Output<'b, '_, diesel::pg::Pg>,
            ) -> diesel::serialize::Result {
                use std::io::Write;
                let text = $crate::db::column::TextColumn::to_text(self);
                out.write_all(text.as_bytes())?;
                Ok(diesel::serialize::IsNull::No)
            }
        }

        impl diesel::serialize::ToSql<diesel::sql_types::Text, diesel::sqlite::Sqlite> for $name {
            fn to_sql<'b>(
                &'b self,
                out: &mut diesel::serialize::Output<'b, '_, diesel::sqlite::Sqlite>,
            ) -> diesel::serialize::Result {
                match $crate::db::column::TextColumn::to_text(self) {
                    std::borrow::Cow::Borrowed(text) => out.set_value(text),
                    std::borrow::Cow::Owned(text) => out.set_value(text),
                }
                Ok(diesel::serialize::IsNull::No)
            }
        }

        impl diesel::serialize::ToSql<diesel::sql_types::Text, $crate::db::MultiBackend> for $name {
            fn to_sql<'b>(
                &'b self,
                out: &mut diesel::serialize::Output<'b, '_, $crate::db::MultiBackend>,
            ) -> diesel::serialize::Result {
                // The connection's own backend serialises it, by the impls above.
                out.set_value((diesel::sql_types::Text, self));
                Ok(diesel::serialize::IsNull::No)
            }
        }
    };
}

/// A set of closed-set values in one `Text` column: sorted, without
/// repeats, comma-separated (`"disability,unemployed"`; empty for none).
#[derive(Debug, Clone, PartialEq, Eq, Default, diesel::AsExpression, diesel::FromSqlRow)]
#[diesel(sql_type = diesel::sql_types::Text)]
pub struct TextSet<T>(Vec<T>);

impl<T: Ord + Clone> TextSet<T> {
    pub fn new(values: &[T]) -> TextSet<T> {
        let mut values = values.to_vec();
        values.sort();
        values.dedup();
        TextSet(values)
    }
}

impl<T> TextSet<T> {
    pub fn as_slice(&self) -> &[T] {
        &self.0
    }

    pub fn into_vec(self) -> Vec<T> {
        self.0
    }
}

impl<T: TextColumn + Ord + Clone> TextColumn for TextSet<T> {
    fn to_text(&self) -> Cow<'_, str> {
        let parts: Vec<Cow<'_, str>> = self.0.iter().map(TextColumn::to_text).collect();
        Cow::Owned(parts.join(","))
    }

    fn from_text(text: &str) -> Option<TextSet<T>> {
        let values = text
            .split(',')
            .filter(|part| !part.is_empty())
            .map(T::from_text)
            .collect::<Option<Vec<T>>>()?;
        Some(TextSet::new(&values))
    }
}

impl<T, DB> diesel::deserialize::FromSql<diesel::sql_types::Text, DB> for TextSet<T>
where
    T: TextColumn + Ord + Clone,
    DB: diesel::backend::Backend,
    String: diesel::deserialize::FromSql<diesel::sql_types::Text, DB>,
{
    fn from_sql(bytes: DB::RawValue<'_>) -> diesel::deserialize::Result<Self> {
        let text = String::from_sql(bytes)?;
        TextSet::from_text(&text).ok_or_else(|| Box::new(Corrupt("set of values")) as Box<_>)
    }
}

impl<T> diesel::serialize::ToSql<diesel::sql_types::Text, diesel::pg::Pg> for TextSet<T>
where
    T: TextColumn + Ord + Clone + std::fmt::Debug,
{
    fn to_sql<'b>(
        &'b self,
        out: &mut diesel::serialize::Output<'b, '_, diesel::pg::Pg>,
    ) -> diesel::serialize::Result {
        use std::io::Write;
        out.write_all(self.to_text().as_bytes())?;
        Ok(diesel::serialize::IsNull::No)
    }
}

impl<T> diesel::serialize::ToSql<diesel::sql_types::Text, diesel::sqlite::Sqlite> for TextSet<T>
where
    T: TextColumn + Ord + Clone + std::fmt::Debug,
{
    fn to_sql<'b>(
        &'b self,
        out: &mut diesel::serialize::Output<'b, '_, diesel::sqlite::Sqlite>,
    ) -> diesel::serialize::Result {
        out.set_value(self.to_text().into_owned());
        Ok(diesel::serialize::IsNull::No)
    }
}

impl<T> diesel::serialize::ToSql<diesel::sql_types::Text, super::MultiBackend> for TextSet<T>
where
    T: TextColumn + Ord + Clone + std::fmt::Debug + Send + Sync + 'static,
{
    fn to_sql<'b>(
        &'b self,
        out: &mut diesel::serialize::Output<'b, '_, super::MultiBackend>,
    ) -> diesel::serialize::Result {
        out.set_value((diesel::sql_types::Text, self));
        Ok(diesel::serialize::IsNull::No)
    }
}
