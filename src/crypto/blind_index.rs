//! Blind indexes: keyed, truncated HMAC-SHA256 of a normalised value, stored
//! beside the encrypted column so exact-match lookups (national ID, phone,
//! name tokens) work without decrypting every row.
//!
//! Each field has its own key, `HKDF(blind-index root, "sanad/bidx/<field>")`,
//! so equal values in different fields do not produce equal indexes. The
//! root is one per deployment: duplicates are found across cities (results
//! are still filtered by the caller's scope).
//!
//! An index is 8 bytes (64 bits). At one million distinct values a lookup
//! expects about 5.4e-14 false matches, so candidates are almost always
//! true; callers still decrypt every candidate and drop the ones whose
//! plaintext differs (see `docs/security.md`).

use ring::hmac;
use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

use super::{CryptoError, Keyring};

/// Bytes kept of the HMAC-SHA256 output.
pub const INDEX_LEN: usize = 8;

const FIELD_NATIONAL_ID: &str = "national_id";
const FIELD_PHONE: &str = "phone";
const FIELD_NAME: &str = "name";

/// A truncated keyed hash, stored as lower-case hex text.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct BlindIndex([u8; INDEX_LEN]);

impl BlindIndex {
    /// Lower-case hex, the form stored in the database.
    pub fn as_hex(&self) -> String {
        self.0.iter().map(|b| format!("{b:02x}")).collect()
    }

    pub fn as_bytes(&self) -> &[u8; INDEX_LEN] {
        &self.0
    }
}

impl std::fmt::Debug for BlindIndex {
    // An index is not the value, but it links rows of one person; keep it
    // out of logs.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("BlindIndex(<redacted>)")
    }
}

/// Computes blind indexes with the per-field keys derived from the keyring.
pub struct BlindIndexer {
    national_id: hmac::Key,
    phone: hmac::Key,
    name: hmac::Key,
}

impl BlindIndexer {
    pub fn new(keyring: &Keyring) -> Result<BlindIndexer, CryptoError> {
        let key = |field: &str| -> Result<hmac::Key, CryptoError> {
            let derived = keyring
                .blind_index_root()
                .derive(format!("sanad/bidx/{field}").as_bytes())?;
            Ok(hmac::Key::new(hmac::HMAC_SHA256, derived.expose()))
        };
        Ok(BlindIndexer {
            national_id: key(FIELD_NATIONAL_ID)?,
            phone: key(FIELD_PHONE)?,
            name: key(FIELD_NAME)?,
        })
    }

    /// `None` when the input holds no digit.
    pub fn national_id(&self, raw: &str) -> Option<BlindIndex> {
        normalise_national_id(raw).map(|id| index(&self.national_id, &id))
    }

    /// `None` when the input is not plausibly a phone number.
    pub fn phone(&self, raw: &str) -> Option<BlindIndex> {
        normalise_phone(raw).map(|e164| index(&self.phone, &e164))
    }

    /// One index per distinct name token, in first-seen order.
    pub fn name_tokens(&self, raw: &str) -> Vec<BlindIndex> {
        let mut out: Vec<BlindIndex> = Vec::new();
        for token in name_tokens(raw) {
            let idx = index(&self.name, &token);
            if !out.contains(&idx) {
                out.push(idx);
            }
        }
        out
    }
}

impl std::fmt::Debug for BlindIndexer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("BlindIndexer(<redacted>)")
    }
}

fn index(key: &hmac::Key, normalised: &str) -> BlindIndex {
    let tag = hmac::sign(key, normalised.as_bytes());
    let mut out = [0u8; INDEX_LEN];
    out.copy_from_slice(&tag.as_ref()[..INDEX_LEN]);
    BlindIndex(out)
}

/// ASCII digit for an ASCII, Arabic-Indic (U+0660–0669) or Persian
/// (U+06F0–06F9) digit.
fn ascii_digit(c: char) -> Option<char> {
    let zero = match c {
        '0'..='9' => '0',
        '\u{0660}'..='\u{0669}' => '\u{0660}',
        '\u{06F0}'..='\u{06F9}' => '\u{06F0}',
        _ => return None,
    };
    char::from_digit(u32::from(c) - u32::from(zero), 10)
}

/// Digits only, in ASCII; `None` if there are none. Document numbers are
/// typed with spaces, dashes and either digit script.
pub fn normalise_national_id(raw: &str) -> Option<String> {
    let digits: String = raw.chars().filter_map(ascii_digit).collect();
    (!digits.is_empty()).then_some(digits)
}

/// Iraq's country calling code.
const IRAQ: &str = "964";

/// A phone number in E.164 (`+9647701234567`), or `None` if the input is not
/// plausibly one. Accepts Iraqi local forms (`0770 123 4567`), `9647…`,
/// `009647…`, `+964 7…` (also with the trunk 0 kept, `+964 0770…`), a bare
/// mobile number `770 123 4567`, other countries in `+`/`00` form, spaces,
/// dashes, dots and parentheses, and Arabic-Indic or Persian digits.
pub fn normalise_phone(raw: &str) -> Option<String> {
    let mut digits = String::new();
    let mut plus = false;
    for c in raw.trim().chars() {
        if let Some(d) = ascii_digit(c) {
            digits.push(d);
        } else if c == '+' && digits.is_empty() && !plus {
            plus = true;
        } else if !matches!(c, ' ' | '-' | '.' | '(' | ')' | '\u{00A0}') {
            return None;
        }
    }
    let international = if plus {
        Some(digits.as_str())
    } else {
        digits.strip_prefix("00")
    };
    let national = match international {
        Some(number) => match number.strip_prefix(IRAQ) {
            Some(rest) => rest.strip_prefix('0').unwrap_or(rest),
            None => return plausible_foreign(number),
        },
        None => match digits.strip_prefix('0') {
            Some(rest) => rest,
            // `9647701234567`: the country code without `+`, the length of
            // an Iraqi mobile number in international form.
            None if digits.len() == 13 => digits.strip_prefix(IRAQ)?,
            // `7701234567`: a mobile number without its trunk 0.
            None if digits.len() == 10 && digits.starts_with('7') => &digits,
            None => return None,
        },
    };
    plausible_iraqi(national).then(|| format!("+{IRAQ}{national}"))
}

/// Iraqi national significant numbers: mobiles are `7` + 9 digits, fixed
/// lines 8 or 9 digits (area code + subscriber), never starting with 0.
fn plausible_iraqi(national: &str) -> bool {
    let len_ok = if national.starts_with('7') {
        national.len() == 10
    } else {
        (8..=9).contains(&national.len())
    };
    len_ok && !national.starts_with('0')
}

/// E.164 allows at most 15 digits; shorter than 8 is no real number.
fn plausible_foreign(number: &str) -> Option<String> {
    let ok = (8..=15).contains(&number.len()) && !number.starts_with('0');
    ok.then(|| format!("+{number}"))
}

/// Arabic letter variants that people (and keyboards) use interchangeably
/// in names, folded to one form.
fn fold_arabic(c: char) -> Option<char> {
    Some(match c {
        // Tashkeel (harakat, tanwin, shadda, sukun, …) and superscript alef.
        '\u{064B}'..='\u{065F}' | '\u{0670}' => return None,
        // Tatweel: stretching only.
        '\u{0640}' => return None,
        // Alef with hamza above/below, madda, wasla.
        'أ' | 'إ' | 'آ' | 'ٱ' => 'ا',
        'ى' => 'ي',
        'ة' => 'ه',
        'ؤ' => 'و',
        'ئ' => 'ي',
        // Persian/Kurdish keyboard forms of yeh and kaf.
        '\u{06CC}' => 'ي',
        '\u{06A9}' => 'ك',
        // Zero-width and bidi controls: invisible, and they would split or
        // change tokens.
        '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' => {
            return None;
        }
        '\u{061C}' | '\u{FEFF}' => return None,
        other => ascii_digit(other).unwrap_or(other),
    })
}

/// Normalised tokens of a name, for blind indexing: NFKC; Arabic tashkeel,
/// tatweel and invisible controls removed, letter variants folded; digits to
/// ASCII; lower case; Latin diacritics removed (NFD, combining marks
/// dropped); split on anything not a letter or digit; empty tokens dropped.
pub fn name_tokens(raw: &str) -> Vec<String> {
    let folded: String = raw.nfkc().filter_map(fold_arabic).collect();
    let plain: String = folded
        .to_lowercase()
        .nfd()
        .filter(|c| !is_combining_mark(*c))
        .nfc()
        .collect();
    plain
        .split(|c: char| !c.is_alphanumeric())
        .filter(|t| !t.is_empty())
        .map(str::to_string)
        .collect()
}

#[cfg(test)]
mod tests;
