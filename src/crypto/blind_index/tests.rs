use proptest::prelude::*;
use ring::hmac;

use super::*;

fn indexer() -> BlindIndexer {
    BlindIndexer::new(&Keyring::generate().unwrap()).unwrap()
}

#[test]
fn arabic_letter_variants_fold() {
    assert_eq!(name_tokens("أحمد"), name_tokens("احمد"));
    assert_eq!(name_tokens("إبراهيم"), vec!["ابراهيم"]);
    assert_eq!(name_tokens("فاطمة"), name_tokens("فاطمه"));
    assert_eq!(name_tokens("مصطفى"), name_tokens("مصطفي"));
    assert_eq!(name_tokens("مُحَمَّد"), name_tokens("محمد"));
    assert_eq!(name_tokens("محـــمد"), name_tokens("محمد"));
    assert_eq!(name_tokens("رؤى"), name_tokens("روي"));
    assert_eq!(name_tokens("هانئ"), name_tokens("هاني"));
    assert_eq!(name_tokens("علی"), name_tokens("علي"));
}

#[test]
fn latin_case_and_diacritics_fold() {
    let expected = vec!["fatimah".to_string()];
    assert_eq!(name_tokens("Fatimah"), expected);
    assert_eq!(name_tokens("FATIMAH"), expected);
    assert_eq!(name_tokens("Fátimah"), expected);
    assert_eq!(name_tokens("ＦＡＴＩＭＡＨ"), expected);
}

#[test]
fn names_split_into_tokens() {
    assert_eq!(
        name_tokens("  Fatimah  Al-Hassan,  فاطمة\u{200F} "),
        vec!["fatimah", "al", "hassan", "فاطمه"]
    );
    assert_eq!(name_tokens("٣ Ali"), vec!["3", "ali"]);
    assert!(name_tokens(" - ,. ").is_empty());
    assert!(name_tokens("").is_empty());
}

#[test]
fn national_id_keeps_ascii_digits() {
    assert_eq!(
        normalise_national_id("1990 1234-5678"),
        Some("199012345678".into())
    );
    assert_eq!(normalise_national_id("١٩٩٠١٢٣٤"), Some("19901234".into()));
    assert_eq!(normalise_national_id("۱۹۹۰"), Some("1990".into()));
    assert_eq!(normalise_national_id("no digits"), None);
}

#[test]
fn iraqi_phone_forms_normalise_to_e164() {
    for raw in [
        "0770 123 4567",
        "07701234567",
        "+964 770 123 4567",
        "+964 (0)770-123-4567",
        "009647701234567",
        "9647701234567",
        "770 123 4567",
        "٠٧٧٠١٢٣٤٥٦٧",
        "۰۷۷۰ ۱۲۳ ۴۵۶۷",
    ] {
        assert_eq!(
            normalise_phone(raw).as_deref(),
            Some("+9647701234567"),
            "{raw}"
        );
    }
    // Baghdad landline: area code 1, 7-digit subscriber.
    assert_eq!(
        normalise_phone("01 717 1234").as_deref(),
        Some("+96417171234")
    );
    // Another country.
    assert_eq!(
        normalise_phone("+49 30 1234567").as_deref(),
        Some("+49301234567")
    );
}

#[test]
fn implausible_phones_are_refused() {
    for raw in [
        "",
        "hello",
        "0770 123 456x",
        "077012345",    // mobile one digit short
        "077012345678", // one digit long
        "12345",
        "+0123456789",
        "+12",
        "0770+1234567",
        "+9641234",
    ] {
        assert_eq!(normalise_phone(raw), None, "{raw}");
    }
}

#[test]
fn phone_forms_give_one_index() {
    let idx = indexer();
    let expected = idx.phone("0770 123 4567").unwrap();
    for raw in ["+964 770 123 4567", "009647701234567", "٠٧٧٠١٢٣٤٥٦٧"] {
        assert_eq!(idx.phone(raw), Some(expected), "{raw}");
    }
    assert_ne!(idx.phone("0770 123 4568"), Some(expected));
}

#[test]
fn name_indexes_match_across_spellings_and_dedupe() {
    let idx = indexer();
    assert_eq!(idx.name_tokens("أحمد"), idx.name_tokens("احمد"));
    assert_eq!(idx.name_tokens("Fátimah"), idx.name_tokens("FATIMAH"));
    assert_eq!(idx.name_tokens("Ali Ali ALI").len(), 1);
}

#[test]
fn fields_and_keyrings_are_separated() {
    let idx = indexer();
    // The same digits as national id and as phone index differently.
    let as_id = idx.national_id("07701234567").unwrap();
    let as_phone_digits = idx.phone("07701234567").unwrap();
    assert_ne!(as_id, as_phone_digits);
    assert_ne!(idx.national_id("123456"), indexer().national_id("123456"));
}

#[test]
fn index_is_lower_hex_of_8_bytes() {
    let hex = indexer().national_id("123").unwrap().as_hex();
    assert_eq!(hex.len(), 16);
    assert!(hex.chars().all(|c| matches!(c, '0'..='9' | 'a'..='f')));
    assert_eq!(
        format!("{:?}", indexer().national_id("1").unwrap()),
        "BlindIndex(<redacted>)"
    );
}

fn hmac_hex(key: &[u8], data: &[u8]) -> String {
    let tag = hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, key), data);
    tag.as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

/// RFC 4231 §4.2 and §4.3, through ring::hmac directly.
#[test]
fn hmac_sha256_rfc4231_test_cases_1_and_2() {
    assert_eq!(
        hmac_hex(&[0x0b; 20], b"Hi There"),
        "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"
    );
    assert_eq!(
        hmac_hex(b"Jefe", b"what do ya want for nothing?"),
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
    );
}

proptest! {
    #[test]
    fn normalisers_never_panic(raw in "\\PC*") {
        let _ = normalise_national_id(&raw);
        let _ = normalise_phone(&raw);
        let tokens = name_tokens(&raw);
        prop_assert!(tokens.iter().all(|t| !t.is_empty()));
    }

    #[test]
    fn normalisers_never_panic_on_any_chars(raw in proptest::collection::vec(any::<char>(), 0..64)) {
        let raw: String = raw.into_iter().collect();
        let _ = normalise_phone(&raw);
        let _ = name_tokens(&raw);
        let idx = indexer();
        let _ = idx.name_tokens(&raw);
        let _ = idx.phone(&raw);
        let _ = idx.national_id(&raw);
    }

    /// A number typed in Arabic-Indic or Persian digits, with any of
    /// the separators people use, is the same number.
    #[test]
    fn digit_scripts_and_separators_do_not_matter(
        digits in "[0-9]{1,20}",
        seps in proptest::collection::vec(prop_oneof![Just(""), Just(" "), Just("-")], 20),
        script in 0u32..3,
    ) {
        let zero = ['0', '\u{0660}', '\u{06F0}'][script as usize];
        let typed: String = digits
            .chars()
            .zip(seps.iter().cycle())
            .map(|(d, sep)| {
                let d = char::from_u32(u32::from(zero) + d.to_digit(10).unwrap_or(0)).unwrap_or(d);
                format!("{d}{sep}")
            })
            .collect();
        prop_assert_eq!(normalise_national_id(&typed), Some(digits.clone()));
        prop_assert_eq!(normalise_phone(&typed), normalise_phone(&digits));
    }

    /// An Iraqi mobile number normalises to one E.164 form whichever way
    /// it is written.
    #[test]
    fn an_iraqi_mobile_has_one_form(rest in "7[0-9]{9}", style in 0usize..6) {
        let written = match style {
            0 => format!("0{rest}"),
            1 => format!("+964{rest}"),
            2 => format!("00964{rest}"),
            3 => format!("964{rest}"),
            4 => format!("+964 0{} {} {}", &rest[..3], &rest[3..6], &rest[6..]),
            _ => rest.clone(),
        };
        prop_assert_eq!(normalise_phone(&written), Some(format!("+964{rest}")));
    }

    #[test]
    fn normalising_is_idempotent(raw in "\\PC*") {
        let once = name_tokens(&raw);
        let twice: Vec<String> = once.iter().flat_map(|t| name_tokens(t)).collect();
        prop_assert_eq!(once, twice);
        if let Some(phone) = normalise_phone(&raw) {
            prop_assert_eq!(normalise_phone(&phone), Some(phone));
        }
    }
}
