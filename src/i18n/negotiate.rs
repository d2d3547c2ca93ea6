//! `Accept-Language` (RFC 9110 §12.5.4) to one of our languages: the
//! acceptable range with the highest quality wins (the first of equals);
//! `ar`, `ar-*` are Arabic; `ckb`, `ckb-*`, `ku`, `ku-*` Central Kurdish
//! (Sorani, the Kurdish of the governorates we serve); anything else, or
//! no header, English.

use super::Lang;

/// The language to answer a request in.
pub fn negotiate(header: Option<&str>) -> Lang {
    let Some(header) = header else {
        return Lang::En;
    };
    let mut best: Option<(u16, Lang)> = None;
    for range in header.split(',') {
        let mut parts = range.split(';');
        let tag = parts.next().unwrap_or_default().trim();
        let quality = parts
            .filter_map(|p| p.trim().strip_prefix("q=").or(p.trim().strip_prefix("Q=")))
            .map(parse_quality)
            .next()
            .unwrap_or(Some(1000));
        let (Some(quality), Some(lang)) = (quality, language_of(tag)) else {
            continue;
        };
        if quality > 0 && best.is_none_or(|(q, _)| quality > q) {
            best = Some((quality, lang));
        }
    }
    best.map_or(Lang::En, |(_, lang)| lang)
}

/// Our language for a language range, if we have one for it.
fn language_of(tag: &str) -> Option<Lang> {
    let primary = tag.split('-').next().unwrap_or_default();
    if primary.eq_ignore_ascii_case("ar") {
        Some(Lang::Ar)
    } else if primary.eq_ignore_ascii_case("ckb") || primary.eq_ignore_ascii_case("ku") {
        Some(Lang::Ckb)
    } else if primary.eq_ignore_ascii_case("en") || primary == "*" {
        Some(Lang::En)
    } else {
        None
    }
}

/// A quality value in thousandths (`0`, `0.5`, `1.000`); `None` when it is
/// not one.
fn parse_quality(text: &str) -> Option<u16> {
    let text = text.trim();
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    if fraction.len() > 3 || !fraction.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let padded = format!("{fraction:0<3}");
    let thousandths: u16 = padded.parse().ok()?;
    match whole {
        "0" => Some(thousandths),
        "1" if thousandths == 0 => Some(1000),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_header_or_unknown_languages_are_english() {
        assert_eq!(negotiate(None), Lang::En);
        assert_eq!(negotiate(Some("")), Lang::En);
        assert_eq!(negotiate(Some("fr-FR, de;q=0.9")), Lang::En);
        assert_eq!(negotiate(Some("garbage;;;q=x")), Lang::En);
    }

    #[test]
    fn arabic_and_kurdish_with_their_regions() {
        assert_eq!(negotiate(Some("ar")), Lang::Ar);
        assert_eq!(negotiate(Some("ar-IQ")), Lang::Ar);
        assert_eq!(negotiate(Some("AR-iq")), Lang::Ar);
        assert_eq!(negotiate(Some("ckb")), Lang::Ckb);
        assert_eq!(negotiate(Some("ckb-IQ")), Lang::Ckb);
        assert_eq!(negotiate(Some("ku")), Lang::Ckb);
        assert_eq!(negotiate(Some("ku-Arab-IQ")), Lang::Ckb);
        assert_eq!(negotiate(Some("en-GB")), Lang::En);
    }

    #[test]
    fn quality_values_decide() {
        assert_eq!(negotiate(Some("en;q=0.5, ar;q=0.9")), Lang::Ar);
        assert_eq!(negotiate(Some("ar;q=0.8, ckb")), Lang::Ckb);
        assert_eq!(negotiate(Some("fr, ckb-IQ;q=0.7, en;q=0.3")), Lang::Ckb);
        // Equal qualities: the first listed.
        assert_eq!(negotiate(Some("ckb, ar")), Lang::Ckb);
        // q=0 means "not acceptable".
        assert_eq!(negotiate(Some("ar;q=0, ckb;q=0.1")), Lang::Ckb);
        assert_eq!(negotiate(Some("ar;q=0")), Lang::En);
        // A malformed quality makes the range unusable, not the header.
        assert_eq!(negotiate(Some("ar;q=2, ckb;q=0.2")), Lang::Ckb);
        assert_eq!(negotiate(Some("ar;q=0.1234")), Lang::En);
    }
}
