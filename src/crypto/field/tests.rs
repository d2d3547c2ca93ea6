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
