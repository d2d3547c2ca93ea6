//! Text a person typed, parsed once where it comes in: stores and routes
//! take these types, so a blank reason or a national ID without digits
//! cannot reach a store. Each keeps the text as it was given (the store
//! seals what it sealed before: names and reasons trimmed, a note's body as
//! typed); parsing only decides whether it is acceptable.
//!
//! A refusal is an [`Invalid`] carrying a message that never repeats the
//! text, to be attached to the field it came from ([`Invalid::at`]).

use std::fmt;

use crate::crypto::blind_index::{normalise_national_id, normalise_phone};
use crate::error::FieldError;

/// Why a text was refused; the message names no part of the text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Invalid(pub &'static str);

impl Invalid {
    /// The refusal as an error on `field`.
    pub fn at(self, field: impl Into<String>) -> FieldError {
        FieldError::new(field, self.0)
    }
}

impl fmt::Display for Invalid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

/// Text with at least one character that is not white space.
#[derive(Clone, PartialEq, Eq)]
pub struct NonBlank(String);

impl NonBlank {
    pub fn parse(text: impl Into<String>) -> Result<NonBlank, Invalid> {
        let text = text.into();
        if text.trim().is_empty() {
            Err(Invalid("must not be blank"))
        } else {
            Ok(NonBlank(text))
        }
    }

    /// As given.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Without surrounding white space.
    pub fn trimmed(&self) -> &str {
        self.0.trim()
    }
}

/// A national ID (or another document number): text holding at least one
/// digit (ASCII, Arabic-Indic or Persian), which is what its blind index is
/// made of.
#[derive(Clone, PartialEq, Eq)]
pub struct NationalId(String);

impl NationalId {
    pub fn parse(text: impl Into<String>) -> Result<NationalId, Invalid> {
        let text = text.into();
        match normalise_national_id(&text) {
            Some(_) => Ok(NationalId(text)),
            None => Err(Invalid("must contain digits")),
        }
    }

    /// As given.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A phone number in a form that normalises to E.164 (Iraqi local and
/// international forms, or another country's in `+`/`00` form).
#[derive(Clone, PartialEq, Eq)]
pub struct Phone(String);

impl Phone {
    pub fn parse(text: impl Into<String>) -> Result<Phone, Invalid> {
        let text = text.into();
        match normalise_phone(&text) {
            Some(_) => Ok(Phone(text)),
            None => Err(Invalid("is not a phone number")),
        }
    }

    /// As given.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Person's data: the `Debug` of these types never shows the text.
macro_rules! redacted_debug {
    ($($name:ident),+) => {
        $(impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!(stringify!($name), "(<{} chars>)"), self.0.chars().count())
            }
        })+
    };
}

redacted_debug!(NonBlank, NationalId, Phone);

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn blank_text_is_refused_and_other_text_kept_as_given() {
        for blank in ["", " ", "\t\n", "\u{3000}\u{a0}"] {
            assert_eq!(NonBlank::parse(blank), Err(Invalid("must not be blank")));
        }
        let text = NonBlank::parse("  فاطمة  ").unwrap();
        assert_eq!(text.as_str(), "  فاطمة  ");
        assert_eq!(text.trimmed(), "فاطمة");
    }

    #[test]
    fn a_national_id_needs_a_digit_in_any_script() {
        for good in ["1234", "A-19 77", "١٢٣٤", "۱۲۳۴"] {
            assert_eq!(NationalId::parse(good).unwrap().as_str(), good);
        }
        for bad in ["", "ABC", "--"] {
            assert_eq!(
                NationalId::parse(bad),
                Err(Invalid("must contain digits")),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn a_phone_must_normalise() {
        for good in ["0770 123 4567", "+964 770 123 4567", "009647701234567"] {
            assert_eq!(Phone::parse(good).unwrap().as_str(), good);
        }
        for bad in ["", "12", "call me", "0770 123 4567 ext 9"] {
            assert_eq!(
                Phone::parse(bad),
                Err(Invalid("is not a phone number")),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn refusals_name_the_field_and_not_the_text() {
        let err = Phone::parse("Canary 12").unwrap_err().at("subject.phone");
        assert_eq!(err.field, "subject.phone");
        assert!(!err.message.contains("Canary"));
        assert_eq!(
            format!("{:?}", NonBlank::parse("Canary").unwrap()),
            "NonBlank(<6 chars>)"
        );
    }

    proptest! {
        /// Parsing any text answers, never panics, and keeps what it accepts.
        #[test]
        fn any_text_parses_or_is_refused(text in "\\PC{0,40}") {
            if let Ok(t) = NonBlank::parse(text.clone()) {
                prop_assert_eq!(t.as_str(), text.as_str());
            }
            if let Ok(t) = NationalId::parse(text.clone()) {
                prop_assert_eq!(t.as_str(), text.as_str());
            }
            if let Ok(t) = Phone::parse(text.clone()) {
                prop_assert_eq!(t.as_str(), text.as_str());
            }
        }
    }
}
