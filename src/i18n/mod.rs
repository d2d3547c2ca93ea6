//! Languages: which one a request asks for (`negotiate`), the translation
//! catalogs (`catalog`, data files under `locales/`), the middleware that
//! answers every problem in that language (`localise`), and the labels of
//! every closed list of the API (`vocabulary`, `GET /api/v1/vocabularies`).
//!
//! English stays the language of the code: messages are written in English
//! where they arise and translated on the way out, by matching them against
//! the English catalog. Field names, `type` URIs, codes and personal data are
//! never translated.

pub mod catalog;
#[cfg(test)]
mod coverage;
pub mod localise;
pub mod negotiate;
pub mod routes;
pub mod vocabulary;

use serde::Serialize;
use utoipa::ToSchema;

pub use catalog::Catalog;
pub use negotiate::negotiate;

/// A language the API answers in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Lang {
    /// English, the default.
    En,
    /// Arabic (Modern Standard, Iraqi usage).
    Ar,
    /// Central Kurdish (Sorani), in Arabic script.
    Ckb,
}

impl Lang {
    pub const ALL: [Lang; 3] = [Lang::En, Lang::Ar, Lang::Ckb];

    /// The BCP 47 tag, as sent in `Content-Language`.
    pub fn tag(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Ar => "ar",
            Lang::Ckb => "ckb",
        }
    }

    /// The catalog's source text (`locales/<tag>.toml`), embedded.
    fn source(self) -> &'static str {
        match self {
            Lang::En => include_str!("../../locales/en.toml"),
            Lang::Ar => include_str!("../../locales/ar.toml"),
            Lang::Ckb => include_str!("../../locales/ckb.toml"),
        }
    }
}
