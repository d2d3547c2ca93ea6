//! The typed field API that models and stores use, built so that misuse is
//! hard:
//!
//! - An encrypted column has the Rust type [`Sealed`]. A `Sealed` can only
//!   be made by sealing a value through a [`FieldCipher`], or by reading the
//!   column back from the database ([`Sealed::from_stored`], which does not
//!   decrypt). A `String` cannot be written into such a column by accident.
//! - A [`FieldCipher`] is one person's keys bound to one row and city, so
//!   every value is sealed with the AAD `table ‖ column ‖ row id ‖ city id`
//!   under that person's column key.
//!
//! Erasure: a person whose data key was deleted (crypto-shredded) is
//! represented by [`PersonKeys::erased`]. Opening any of their fields gives
//! [`Opened::Erased`], a normal outcome the view shows as "erased", not an
//! error; sealing for them is [`CryptoError::Erased`], since writing data
//! for an erased person is a bug. Tampered or misplaced ciphertext is still
//! [`CryptoError::Integrity`], distinct from erasure.

use chrono::NaiveDate;
use diesel::backend::Backend;
use diesel::deserialize::{self, FromSql, FromSqlRow};
use diesel::expression::AsExpression;
use diesel::serialize::{self, Output, ToSql};
use diesel::sql_types::Binary;
use ring::rand::SystemRandom;
use zeroize::Zeroize;

use super::envelope::{self, Aad};
use super::wrapping::{self, DataKey, WrappedDataKey};
use super::{CryptoError, Keyring};

/// An encrypted value as stored in a `Binary` column.
#[derive(Clone, PartialEq, Eq, AsExpression, FromSqlRow)]
#[diesel(sql_type = Binary)]
pub struct Sealed(Vec<u8>);

impl Sealed {
    /// Wraps bytes read from an encrypted column. Nothing is checked here;
    /// opening does that.
    pub fn from_stored(bytes: Vec<u8>) -> Sealed {
        Sealed(bytes)
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    pub fn into_stored(self) -> Vec<u8> {
        self.0
    }
}

impl std::fmt::Debug for Sealed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Sealed(<{} bytes>)", self.0.len())
    }
}

impl<DB> FromSql<Binary, DB> for Sealed
where
    DB: Backend,
    Vec<u8>: FromSql<Binary, DB>,
{
    fn from_sql(bytes: DB::RawValue<'_>) -> deserialize::Result<Self> {
        Vec::<u8>::from_sql(bytes).map(Sealed)
    }
}

impl<DB> ToSql<Binary, DB> for Sealed
where
    DB: Backend,
    [u8]: ToSql<Binary, DB>,
{
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, DB>) -> serialize::Result {
        <[u8] as ToSql<Binary, DB>>::to_sql(self.0.as_slice(), out)
    }
}

/// The result of opening a field: its value, or the fact that the person
/// was erased.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Opened<T> {
    Value(T),
    Erased,
}

impl<T> Opened<T> {
    /// The value, or `None` for an erased person.
    pub fn value(self) -> Option<T> {
        match self {
            Opened::Value(value) => Some(value),
            Opened::Erased => None,
        }
    }

    pub fn is_erased(&self) -> bool {
        matches!(self, Opened::Erased)
    }
}

/// One person's data key, or the fact that it was erased.
pub struct PersonKeys {
    dek: Option<DataKey>,
    rng: SystemRandom,
}

impl PersonKeys {
    /// Keys for a person whose data key is at hand (e.g. just generated).
    pub fn new(dek: DataKey) -> PersonKeys {
        PersonKeys {
            dek: Some(dek),
            rng: SystemRandom::new(),
        }
    }

    /// A person whose data key was deleted: every field opens as
    /// [`Opened::Erased`].
    pub fn erased() -> PersonKeys {
        PersonKeys {
            dek: None,
            rng: SystemRandom::new(),
        }
    }

    /// Keys from the stored wrapped data key; `None` (the key column is
    /// NULL after erasure) gives [`PersonKeys::erased`].
    pub fn from_stored(
        keyring: &Keyring,
        wrapped: Option<&WrappedDataKey>,
        subject_id: &str,
    ) -> Result<PersonKeys, CryptoError> {
        match wrapped {
            Some(wrapped) => wrapping::unwrap(keyring, wrapped, subject_id).map(PersonKeys::new),
            None => Ok(PersonKeys::erased()),
        }
    }

    pub fn is_erased(&self) -> bool {
        self.dek.is_none()
    }

    /// A cipher for the fields of one row of this person in one city. The
    /// row and city go into the AAD as their `Display` text: for a typed id,
    /// the canonical text it is stored as.
    pub fn row(
        &self,
        row_id: impl std::fmt::Display,
        city_id: impl std::fmt::Display,
    ) -> FieldCipher<'_> {
        FieldCipher {
            keys: self,
            row_id: row_id.to_string(),
            city_id: city_id.to_string(),
        }
    }
}

impl std::fmt::Debug for PersonKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = if self.is_erased() {
            "erased"
        } else {
            "<redacted>"
        };
        write!(f, "PersonKeys({state})")
    }
}

/// Seals and opens the fields of one row. Made by [`PersonKeys::row`].
#[derive(Debug, Clone)]
pub struct FieldCipher<'a> {
    keys: &'a PersonKeys,
    row_id: String,
    city_id: String,
}

impl FieldCipher<'_> {
    pub fn seal_text(&self, table: &str, column: &str, value: &str) -> Result<Sealed, CryptoError> {
        self.seal_bytes(table, column, value.as_bytes())
    }

    pub fn open_text(
        &self,
        table: &str,
        column: &str,
        sealed: &Sealed,
    ) -> Result<Opened<String>, CryptoError> {
        Ok(match self.open_bytes(table, column, sealed)? {
            Opened::Erased => Opened::Erased,
            Opened::Value(bytes) => Opened::Value(String::from_utf8(bytes).map_err(|err| {
                // The bytes are plaintext even if not UTF-8: wipe them.
                err.into_bytes().zeroize();
                CryptoError::Decode
            })?),
        })
    }

    /// Dates are sealed as the big-endian `i32` count of days from 0001-01-01
    /// (chrono's `num_days_from_ce`): every date seals to the same length.
    pub fn seal_date(
        &self,
        table: &str,
        column: &str,
        value: NaiveDate,
    ) -> Result<Sealed, CryptoError> {
        use chrono::Datelike;
        self.seal_bytes(table, column, &value.num_days_from_ce().to_be_bytes())
    }

    pub fn open_date(
        &self,
        table: &str,
        column: &str,
        sealed: &Sealed,
    ) -> Result<Opened<NaiveDate>, CryptoError> {
        Ok(match self.open_bytes(table, column, sealed)? {
            Opened::Erased => Opened::Erased,
            Opened::Value(mut bytes) => {
                let days = <[u8; 4]>::try_from(bytes.as_slice())
                    .ok()
                    .map(i32::from_be_bytes)
                    .and_then(NaiveDate::from_num_days_from_ce_opt);
                bytes.zeroize();
                Opened::Value(days.ok_or(CryptoError::Decode)?)
            }
        })
    }

    fn seal_bytes(&self, table: &str, column: &str, value: &[u8]) -> Result<Sealed, CryptoError> {
        let dek = self.keys.dek.as_ref().ok_or(CryptoError::Erased)?;
        let key = dek.column_key(table, column)?;
        envelope::seal_with(&self.keys.rng, &key, &self.aad(table, column), value).map(Sealed)
    }

    fn open_bytes(
        &self,
        table: &str,
        column: &str,
        sealed: &Sealed,
    ) -> Result<Opened<Vec<u8>>, CryptoError> {
        let Some(dek) = self.keys.dek.as_ref() else {
            return Ok(Opened::Erased);
        };
        let key = dek.column_key(table, column)?;
        envelope::open(&key, &self.aad(table, column), &sealed.0)
            .map(Opened::Value)
            .inspect_err(|_| {
                // A value that fails to open was tampered with or moved: a
                // security event. Table and column only; the caller's audit
                // entry names the row.
                tracing::warn!(table, column, "encrypted field failed its integrity check");
            })
    }

    fn aad(&self, table: &str, column: &str) -> Aad {
        Aad::new(table, column, &self.row_id, &self.city_id)
    }
}

#[cfg(test)]
mod tests;
