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
mod tests {
    use diesel::{Connection, RunQueryDsl};
    use proptest::prelude::*;

    use super::*;

    const T: &str = "persons";
    const C: &str = "full_name";

    fn person() -> PersonKeys {
        PersonKeys::new(DataKey::generate().unwrap())
    }

    #[test]
    fn text_round_trip() {
        let keys = person();
        let cipher = keys.row("row-1", "city-1");
        let sealed = cipher.seal_text(T, C, "فاطمة علي").unwrap();
        assert_eq!(
            cipher.open_text(T, C, &sealed).unwrap(),
            Opened::Value("فاطمة علي".to_string())
        );
    }

    #[test]
    fn date_round_trip_and_fixed_length() {
        let keys = person();
        let cipher = keys.row("row-1", "city-1");
        let a = NaiveDate::from_ymd_opt(1990, 2, 28).unwrap();
        let b = NaiveDate::from_ymd_opt(2019, 12, 1).unwrap();
        let sa = cipher.seal_date(T, "date_of_birth", a).unwrap();
        let sb = cipher.seal_date(T, "date_of_birth", b).unwrap();
        assert_eq!(sa.as_bytes().len(), sb.as_bytes().len());
        assert_eq!(
            cipher.open_date(T, "date_of_birth", &sa).unwrap(),
            Opened::Value(a)
        );
    }

    #[test]
    fn moving_a_value_to_another_place_fails_as_integrity() {
        let keys = person();
        let sealed = keys
            .row("row-1", "city-1")
            .seal_text(T, C, "Fatimah")
            .unwrap();
        let moved = [
            (keys.row("row-2", "city-1"), T, C),
            (keys.row("row-1", "city-2"), T, C),
            (keys.row("row-1", "city-1"), "households", C),
            (keys.row("row-1", "city-1"), T, "phone"),
        ];
        for (cipher, table, column) in moved {
            assert_eq!(
                cipher.open_text(table, column, &sealed),
                Err(CryptoError::Integrity)
            );
        }
        // Another person's key, same place.
        let other = person();
        assert_eq!(
            other.row("row-1", "city-1").open_text(T, C, &sealed),
            Err(CryptoError::Integrity)
        );
    }

    #[test]
    fn erased_person_opens_as_erased_and_cannot_be_sealed_for() {
        let keys = person();
        let sealed = keys.row("r", "c").seal_text(T, C, "x").unwrap();
        let erased = PersonKeys::erased();
        assert!(erased.is_erased());
        assert_eq!(
            erased.row("r", "c").open_text(T, C, &sealed).unwrap(),
            Opened::Erased
        );
        assert_eq!(
            erased.row("r", "c").open_date(T, C, &sealed).unwrap(),
            Opened::Erased
        );
        assert_eq!(
            erased.row("r", "c").seal_text(T, C, "x"),
            Err(CryptoError::Erased)
        );
        assert_eq!(format!("{erased:?}"), "PersonKeys(erased)");
    }

    #[test]
    fn from_stored_unwraps_or_reports_erasure() {
        let keyring = Keyring::generate().unwrap();
        let dek = DataKey::generate().unwrap();
        let wrapped = wrapping::wrap(&keyring, &dek, "p1").unwrap();
        let sealed = PersonKeys::new(dek)
            .row("r", "c")
            .seal_text(T, C, "x")
            .unwrap();
        let keys = PersonKeys::from_stored(&keyring, Some(&wrapped), "p1").unwrap();
        assert_eq!(
            keys.row("r", "c").open_text(T, C, &sealed).unwrap(),
            Opened::Value("x".into())
        );
        let gone = PersonKeys::from_stored(&keyring, None, "p1").unwrap();
        assert!(gone.is_erased());
    }

    #[test]
    fn a_date_column_does_not_open_as_text_of_another_type() {
        let keys = person();
        let cipher = keys.row("r", "c");
        let sealed = cipher.seal_text(T, C, "not a date").unwrap();
        assert_eq!(cipher.open_date(T, C, &sealed), Err(CryptoError::Decode));
    }

    #[test]
    fn debug_of_sealed_shows_only_its_length() {
        let keys = person();
        let sealed = keys.row("r", "c").seal_text(T, C, "secret").unwrap();
        assert_eq!(format!("{sealed:?}"), "Sealed(<36 bytes>)");
    }

    #[test]
    fn sealed_is_stored_and_read_as_binary() {
        let mut conn = diesel::SqliteConnection::establish(":memory:").unwrap();
        let keys = person();
        let sealed = keys.row("r", "c").seal_text(T, C, "Fatimah").unwrap();
        let back: Sealed = diesel::select(AsExpression::<Binary>::as_expression(sealed.clone()))
            .get_result(&mut conn)
            .unwrap();
        assert_eq!(back, sealed);
    }

    #[test]
    fn sealed_goes_through_the_multi_backend_connection() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}/t.db", dir.path().display());
        let mut conn = crate::db::ConnectionManager::new(&url, 1000)
            .unwrap()
            .establish()
            .unwrap();
        let keys = person();
        let sealed = keys.row("r", "c").seal_text(T, C, "فاطمة").unwrap();
        let back: Sealed = diesel::select(AsExpression::<Binary>::as_expression(sealed.clone()))
            .get_result(&mut conn)
            .unwrap();
        assert_eq!(
            keys.row("r", "c").open_text(T, C, &back).unwrap(),
            Opened::Value("فاطمة".into())
        );
    }

    proptest! {
        #[test]
        fn any_text_round_trips(text in "\\PC*", row in ".{0,40}", city in ".{0,40}") {
            let keys = person();
            let cipher = keys.row(&row, &city);
            let sealed = cipher.seal_text(T, C, &text).unwrap();
            prop_assert_eq!(cipher.open_text(T, C, &sealed).unwrap(), Opened::Value(text));
        }

        #[test]
        fn any_date_round_trips(days in -100_000i32..3_000_000) {
            let date = NaiveDate::from_num_days_from_ce_opt(days).unwrap();
            let keys = person();
            let cipher = keys.row("r", "c");
            let sealed = cipher.seal_date(T, "date_of_birth", date).unwrap();
            prop_assert_eq!(
                cipher.open_date(T, "date_of_birth", &sealed).unwrap(),
                Opened::Value(date)
            );
        }

        /// Any change to a sealed value — a flipped bit anywhere in its
        /// header, nonce, ciphertext or tag, or a cut — fails its integrity
        /// check; it never opens to another value.
        #[test]
        fn every_corruption_is_refused(
            text in "\\PC{0,40}",
            bit in any::<usize>(),
            cut in any::<usize>(),
        ) {
            let keys = person();
            let cipher = keys.row("r", "c");
            let sealed = cipher.seal_text(T, C, &text).unwrap().into_stored();
            let mut flipped = sealed.clone();
            let bit = bit % (flipped.len() * 8);
            flipped[bit / 8] ^= 1 << (bit % 8);
            prop_assert_eq!(
                cipher.open_text(T, C, &Sealed::from_stored(flipped)),
                Err(CryptoError::Integrity)
            );
            let cut = cut % sealed.len();
            prop_assert_eq!(
                cipher.open_text(T, C, &Sealed::from_stored(sealed[..cut].to_vec())),
                Err(CryptoError::Integrity)
            );
        }

        /// A well-formed header followed by anything: refused, not parsed.
        #[test]
        fn a_valid_header_before_garbage_is_refused(rest in proptest::collection::vec(any::<u8>(), 0..96)) {
            let keys = person();
            let cipher = keys.row("r", "c");
            let mut bytes = cipher.seal_text(T, C, "x").unwrap().into_stored()[..2].to_vec();
            bytes.extend(rest);
            let sealed = Sealed::from_stored(bytes);
            prop_assert!(cipher.open_text(T, C, &sealed).is_err());
            prop_assert!(cipher.open_date(T, C, &sealed).is_err());
        }

        /// A date column whose (authentic) plaintext is not a date — wrong
        /// length, or a day count chrono cannot represent — is a decode
        /// error, not a panic.
        #[test]
        fn authentic_bytes_that_are_no_date_are_a_decode_error(
            bytes in proptest::collection::vec(any::<u8>(), 0..9),
        ) {
            let keys = person();
            let cipher = keys.row("r", "c");
            let sealed = cipher.seal_bytes(T, C, &bytes).unwrap();
            match cipher.open_date(T, C, &sealed) {
                Ok(Opened::Value(date)) => {
                    prop_assert_eq!(bytes.len(), 4);
                    use chrono::Datelike;
                    prop_assert_eq!(&date.num_days_from_ce().to_be_bytes().to_vec(), &bytes);
                }
                other => prop_assert_eq!(other, Err(CryptoError::Decode)),
            }
            if std::str::from_utf8(&bytes).is_err() {
                prop_assert_eq!(cipher.open_text(T, C, &sealed), Err(CryptoError::Decode));
            }
        }

        #[test]
        fn opening_arbitrary_bytes_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..100)) {
            let keys = person();
            let cipher = keys.row("r", "c");
            let sealed = Sealed::from_stored(bytes);
            prop_assert!(cipher.open_text(T, C, &sealed).is_err());
            prop_assert!(cipher.open_date(T, C, &sealed).is_err());
        }
    }
}
