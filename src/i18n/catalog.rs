//! The translation catalogs: `locales/en.toml`, `ar.toml` and `ckb.toml`,
//! embedded in the binary and read once. Keys are stable ids
//! (`problem.not_found.title`, `field.does_not_exist`,
//! `vocabulary.sex.female`); values are texts in which `{name}` marks a
//! part that is filled in where the message arises (a number, a list of
//! names) and is carried over into the translation unchanged.
//!
//! A message is translated by finding its English text among the English
//! templates: exactly, or with each `{name}` standing for some text.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::LazyLock;

use super::Lang;

/// Keys under this prefix are labels of closed lists, not messages.
pub const VOCABULARY: &str = "vocabulary.";
/// Keys under this prefix are CSV column labels, not messages.
pub const CSV: &str = "csv.";

/// The catalogs, parsed on first use. A catalog that does not parse (a
/// test stops that from being shipped) leaves its language in English.
static CATALOG: LazyLock<Catalog> = LazyLock::new(|| match Catalog::load() {
    Ok(catalog) => catalog,
    Err(err) => {
        tracing::error!(error = %err, "a translation catalog does not parse; answering in English");
        Catalog::default()
    }
});

pub fn catalog() -> &'static Catalog {
    &CATALOG
}

#[derive(Debug, Default)]
pub struct Catalog {
    /// Per language: key → text.
    texts: HashMap<Lang, BTreeMap<String, String>>,
    /// English text without placeholders → key.
    exact: HashMap<String, String>,
    /// English templates with placeholders, most literal text first.
    templates: Vec<(String, Vec<Segment>)>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Segment {
    Text(String),
    Placeholder(String),
}

impl Catalog {
    /// Parses the three embedded catalogs.
    pub fn load() -> Result<Catalog, String> {
        Catalog::from_sources(Lang::ALL.map(|lang| (lang, lang.source())))
    }

    /// Parses catalogs from their TOML texts.
    pub fn from_sources(sources: [(Lang, &str); 3]) -> Result<Catalog, String> {
        let mut texts = HashMap::new();
        for (lang, source) in sources {
            texts.insert(
                lang,
                parse(source).map_err(|e| format!("{}: {e}", lang.tag()))?,
            );
        }
        let mut exact = HashMap::new();
        let mut templates = Vec::new();
        for (key, text) in texts.get(&Lang::En).into_iter().flatten() {
            if key.starts_with(VOCABULARY) || key.starts_with(CSV) {
                continue;
            }
            let segments = segments(text);
            if segments
                .iter()
                .any(|s| matches!(s, Segment::Placeholder(_)))
            {
                templates.push((key.clone(), segments));
            } else {
                exact.insert(text.clone(), key.clone());
            }
        }
        let literal = |segments: &[Segment]| -> usize {
            segments
                .iter()
                .map(|s| match s {
                    Segment::Text(t) => t.len(),
                    Segment::Placeholder(_) => 0,
                })
                .sum()
        };
        templates
            .sort_by_key(|(key, segments)| (std::cmp::Reverse(literal(segments)), key.clone()));
        Ok(Catalog {
            texts,
            exact,
            templates,
        })
    }

    /// What keeps the catalogs from being shipped: a key English has and
    /// another language lacks (or the reverse), a blank text, a
    /// translation whose `{parts}` differ from the English.
    pub fn defects(&self) -> Vec<String> {
        let mut out = Vec::new();
        let english = self.keys(Lang::En);
        for lang in Lang::ALL {
            let keys = self.keys(lang);
            for key in english.difference(&keys) {
                out.push(format!("{}: {key} is missing", lang.tag()));
            }
            for key in keys.difference(&english) {
                out.push(format!("{}: {key} is not in English", lang.tag()));
            }
            for key in english.intersection(&keys) {
                let en = self.text(Lang::En, key).unwrap_or_default();
                let text = self.text(lang, key).unwrap_or_default();
                if text.trim().is_empty() {
                    out.push(format!("{}: {key} is blank", lang.tag()));
                } else if placeholders(en) != placeholders(text) {
                    out.push(format!(
                        "{}: {key} has other placeholders than English",
                        lang.tag()
                    ));
                }
            }
        }
        out
    }

    /// The text of `key` in `lang`.
    pub fn text(&self, lang: Lang, key: &str) -> Option<&str> {
        self.texts.get(&lang)?.get(key).map(String::as_str)
    }

    /// Every key of `lang`'s catalog.
    pub fn keys(&self, lang: Lang) -> BTreeSet<&str> {
        self.texts
            .get(&lang)
            .map(|texts| texts.keys().map(String::as_str).collect())
            .unwrap_or_default()
    }

    /// The label of `value` of the closed list `list`.
    pub fn label(&self, lang: Lang, list: &str, value: &str) -> Option<&str> {
        self.text(lang, &format!("{VOCABULARY}{list}.{value}"))
    }

    /// The key of an English message and the values of its placeholders.
    pub fn recognise(&self, english: &str) -> Option<(&str, Vec<(String, String)>)> {
        if let Some(key) = self.exact.get(english) {
            return Some((key.as_str(), Vec::new()));
        }
        self.templates.iter().find_map(|(key, segments)| {
            matches(segments, english).map(|values| (key.as_str(), values))
        })
    }

    /// An English message in `lang`; unchanged when it is English or
    /// not in the catalog.
    pub fn translate<'a>(&self, lang: Lang, english: &'a str) -> Cow<'a, str> {
        if lang == Lang::En {
            return Cow::Borrowed(english);
        }
        let Some((key, values)) = self.recognise(english) else {
            tracing::debug!(text = english, "no translation for a message");
            return Cow::Borrowed(english);
        };
        let Some(template) = self.text(lang, key) else {
            return Cow::Borrowed(english);
        };
        let mut out = String::with_capacity(template.len() + 16);
        for segment in segments(template) {
            match segment {
                Segment::Text(text) => out.push_str(&text),
                Segment::Placeholder(name) => {
                    let value = values
                        .iter()
                        .find(|(n, _)| *n == name)
                        .map(|(_, v)| v.as_str());
                    out.push_str(value.unwrap_or_default());
                }
            }
        }
        Cow::Owned(out)
    }
}

/// A catalog's keys and texts, nested tables flattened to dotted keys.
fn parse(source: &str) -> Result<BTreeMap<String, String>, String> {
    fn flatten(
        prefix: &str,
        table: &toml::Table,
        out: &mut BTreeMap<String, String>,
    ) -> Result<(), String> {
        for (name, value) in table {
            let key = if prefix.is_empty() {
                name.clone()
            } else {
                format!("{prefix}.{name}")
            };
            match value {
                toml::Value::String(text) => {
                    out.insert(key, text.clone());
                }
                toml::Value::Table(inner) => flatten(&key, inner, out)?,
                _ => return Err(format!("{key} is neither a text nor a table")),
            }
        }
        Ok(())
    }
    let table: toml::Table = toml::from_str(source).map_err(|e| e.to_string())?;
    let mut out = BTreeMap::new();
    flatten("", &table, &mut out)?;
    Ok(out)
}

/// A text cut into literal text and `{name}` placeholders. A brace that
/// does not enclose a name (`{`, `{1 2}`) is literal text.
pub fn segments(text: &str) -> Vec<Segment> {
    let mut out = Vec::new();
    let mut literal = String::new();
    let mut rest = text;
    while let Some(open) = rest.find('{') {
        let after = &rest[open + 1..];
        let name = after.find('}').map(|close| &after[..close]).filter(|name| {
            !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
        });
        match name {
            Some(name) => {
                literal.push_str(&rest[..open]);
                if !literal.is_empty() {
                    out.push(Segment::Text(std::mem::take(&mut literal)));
                }
                out.push(Segment::Placeholder(name.to_string()));
                rest = &after[name.len() + 1..];
            }
            None => {
                literal.push_str(&rest[..=open]);
                rest = after;
            }
        }
    }
    literal.push_str(rest);
    if !literal.is_empty() {
        out.push(Segment::Text(literal));
    }
    out
}

/// The placeholder names of a text.
pub fn placeholders(text: &str) -> BTreeSet<String> {
    segments(text)
        .into_iter()
        .filter_map(|s| match s {
            Segment::Placeholder(name) => Some(name),
            Segment::Text(_) => None,
        })
        .collect()
}

/// Whether `text` is an instance of the template, and the values its
/// placeholders took (each at least one character; a placeholder followed
/// by text takes the shortest value that lets the rest match).
fn matches(segments: &[Segment], text: &str) -> Option<Vec<(String, String)>> {
    match segments.split_first() {
        None => text.is_empty().then(Vec::new),
        Some((Segment::Text(literal), rest)) => matches(rest, text.strip_prefix(literal.as_str())?),
        Some((Segment::Placeholder(name), rest)) => {
            if rest.is_empty() {
                return (!text.is_empty()).then(|| vec![(name.clone(), text.to_string())]);
            }
            let next = match &rest[0] {
                Segment::Text(literal) => literal.as_str(),
                // Two placeholders side by side cannot be told apart.
                Segment::Placeholder(_) => return None,
            };
            // The value is at least one character long.
            let mut from = text.chars().next()?.len_utf8();
            while let Some(found) = text[from..].find(next) {
                let at = from + found;
                if let Some(mut values) = matches(rest, &text[at..]) {
                    values.insert(0, (name.clone(), text[..at].to_string()));
                    return Some(values);
                }
                from = at + text[at..].chars().next()?.len_utf8();
            }
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_capture_their_placeholders() {
        let t = segments("must be at most {max} characters");
        assert_eq!(
            matches(&t, "must be at most 200 characters"),
            Some(vec![("max".into(), "200".into())])
        );
        assert_eq!(matches(&t, "must be at most  characters"), None);
        assert_eq!(matches(&t, "must be at most 200 chars"), None);
        let t = segments("(line {line}, column {column}).");
        assert_eq!(
            matches(&t, "(line 1, column 12)."),
            Some(vec![
                ("line".into(), "1".into()),
                ("column".into(), "12".into())
            ])
        );
        assert_eq!(
            segments("a {not a name} {"),
            vec![Segment::Text("a {not a name} {".into())]
        );
    }

    #[test]
    fn messages_are_translated_with_their_values_and_unknown_ones_kept() {
        let c = catalog();
        assert_eq!(
            c.translate(Lang::Ar, "No such resource."),
            "المورد المطلوب غير موجود."
        );
        let nested = c.translate(
            Lang::Ckb,
            "The request body nests arrays and objects deeper than 32 levels.",
        );
        assert!(nested.contains("32"), "{nested}");
        assert!(!nested.contains("deeper"), "{nested}");
        assert_eq!(
            c.translate(Lang::Ar, "no such message, ever"),
            "no such message, ever"
        );
        assert_eq!(
            c.translate(Lang::En, "No such resource."),
            "No such resource."
        );
    }

    #[test]
    fn every_catalog_has_the_same_keys_and_placeholders_as_english() {
        let c = Catalog::load().expect("every catalog parses");
        assert!(
            c.keys(Lang::En).len() > 100,
            "the English catalog looks empty"
        );
        let defects = c.defects();
        assert!(defects.is_empty(), "{defects:#?}");
    }

    #[test]
    fn a_missing_key_a_blank_text_or_a_lost_placeholder_is_a_defect() {
        let c = Catalog::from_sources([
            (
                Lang::En,
                "[a]\nx = \"is {n} long\"\ny = \"why\"\nz = \"ok\"",
            ),
            (Lang::Ar, "[a]\nx = \"طوله\"\ny = \" \"\nz = \"نعم\""),
            (
                Lang::Ckb,
                "[a]\nx = \"{n}\"\nz = \"باشە\"\nextra = \"زیادە\"",
            ),
        ])
        .expect("they parse");
        let defects = c.defects();
        assert_eq!(
            defects,
            vec![
                "ar: a.x has other placeholders than English",
                "ar: a.y is blank",
                "ckb: a.y is missing",
                "ckb: a.extra is not in English",
            ],
        );
        assert!(
            Catalog::from_sources([(Lang::En, "x = 1"), (Lang::Ar, ""), (Lang::Ckb, "")]).is_err()
        );
    }
}
