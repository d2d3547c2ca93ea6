//! Finding a person before opening a case, a page at a time: the cases the
//! blind indexes give (`index::matching`), in the caller's cities newest
//! first; only the page's data keys are unwrapped and only its people
//! opened and confirmed on their plaintext. Matches after the page in the
//! caller's cities, and matches held elsewhere, are counted, never read.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use crate::audit::SubjectKind;
use crate::auth::policy::Scope;
use crate::crypto::blind_index::{name_tokens, normalise_national_id, normalise_phone};
use crate::crypto::{BlindIndex, Crypto};
use crate::db::AnyConnection;
use crate::db::schema::cases;
use crate::domain::{CaseId, SubjectId};
use crate::error::ApiError;
use crate::pagination::PageRequest;

use super::model::{CaseSummary, CaseView, SearchRequest, SearchResult};
use super::row::CaseRow;
use super::{data_keys, index, sealing, store};

/// Does this decrypted case really match? Blind indexes are truncated, so a
/// candidate can be a false positive; the plaintext decides.
pub fn really_matches(view: &CaseView, query: &SearchRequest) -> bool {
    let id_ok = query.national_id.as_deref().is_none_or(|wanted| {
        let stored = view
            .subject
            .national_id
            .as_deref()
            .and_then(normalise_national_id);
        stored.is_some() && stored == normalise_national_id(wanted)
    });
    let phone_ok = query.phone.as_deref().is_none_or(|wanted| {
        let stored = view.subject.phone.as_deref().and_then(normalise_phone);
        stored.is_some() && stored == normalise_phone(wanted)
    });
    let name_ok = query.name.as_deref().is_none_or(|wanted| {
        let mut have = name_tokens(&view.subject.full_name);
        if let Some(latin) = &view.subject.full_name_latin {
            have.extend(name_tokens(latin));
        }
        let wanted = name_tokens(wanted);
        !wanted.is_empty() && wanted.iter().all(|t| have.contains(t))
    });
    id_ok && phone_ok && name_ok
}

/// A page of a search, and the blind indexes it looked for (what its audit
/// event records instead of the terms).
pub struct Found {
    pub result: SearchResult,
    pub terms: Vec<(SubjectKind, BlindIndex)>,
}

/// A search in the caller's cities (`scope`), one page after the page's
/// cursor: four queries however many people match (the page, how many more
/// here, how many elsewhere, the page's data keys).
pub fn search(
    conn: &mut AnyConnection,
    crypto: Crypto<'_>,
    scope: Scope,
    query: &SearchRequest,
    page: &PageRequest<NaiveDateTime>,
    today: NaiveDate,
) -> Result<Found, ApiError> {
    let Scope::Cities(cities) = scope else {
        return Err(ApiError::Forbidden);
    };
    let wanted = index::wanted(crypto.indexer, query);
    let terms = wanted
        .iter()
        .flat_map(|(kind, indexes)| indexes.iter().map(|index| (*kind, *index)))
        .collect();
    if wanted.iter().any(|(_, indexes)| indexes.is_empty()) {
        let result = SearchResult {
            items: Vec::new(),
            next_cursor: None,
            remaining: 0,
            elsewhere: 0,
        };
        return Ok(Found { result, terms });
    }
    let here = || index::matching(&wanted).filter(cases::city_id.eq_any(cities.clone()));
    let mut rows = here()
        .order((cases::created_at.desc(), cases::id.desc()))
        .limit(page.fetch());
    if let Some(cursor) = &page.after {
        rows = store::after(rows, cursor);
    }
    let (rows, next_cursor) = page.cut(rows.load::<CaseRow>(conn)?, store::position);
    let remaining: i64 = match (&next_cursor, rows.last()) {
        (Some(_), Some(last)) => store::after(here(), &store::position(last))
            .count()
            .get_result(conn)?,
        _ => 0,
    };
    let elsewhere: i64 = index::matching(&wanted)
        .filter(cases::city_id.ne_all(cities.clone()))
        .count()
        .get_result(conn)?;
    let items = confirmed(conn, crypto, &rows, query, today)?;
    let result = SearchResult {
        items,
        next_cursor,
        remaining: u64::try_from(remaining).unwrap_or(0),
        elsewhere: u64::try_from(elsewhere).unwrap_or(0),
    };
    Ok(Found { result, terms })
}

/// The page's people, opened (one query for their keys) and kept only when
/// their plaintext matches.
fn confirmed(
    conn: &mut AnyConnection,
    crypto: Crypto<'_>,
    rows: &[CaseRow],
    query: &SearchRequest,
    today: NaiveDate,
) -> Result<Vec<CaseSummary>, ApiError> {
    let ids: Vec<CaseId> = rows.iter().map(|r| r.id).collect();
    let mut people = data_keys::load_many(conn, crypto.keyring, &ids)?;
    let mut items = Vec::with_capacity(rows.len());
    for row in rows {
        let Some(person) = people.remove(&SubjectId::from(row.id)) else {
            continue;
        };
        let view = sealing::view(row, &person, today)?;
        if really_matches(&view, query)
            && let Some(line) = sealing::summary(row, &person, today)?
        {
            items.push(line);
        }
    }
    Ok(items)
}
