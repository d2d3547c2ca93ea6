//! Finding a person before opening a case: the candidates the blind
//! indexes give (`index`), opened and confirmed on their plaintext when
//! they are in the caller's cities, only counted when they are not.

use chrono::NaiveDate;

use crate::auth::policy::Scope;
use crate::crypto::Crypto;
use crate::crypto::blind_index::{name_tokens, normalise_national_id, normalise_phone};
use crate::db::AnyConnection;
use crate::domain::{CaseId, CaseStatus, SubjectId};
use crate::error::ApiError;

use super::model::{CaseSummary, CaseView, SearchRequest, SearchResult};
use super::{data_keys, index, row, sealing};

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

/// A search: candidates from the blind indexes; those held in `cities`
/// opened, confirmed on their plaintext and listed, the others only
/// counted. One query for the rows and one for their keys, however many
/// candidates there are.
pub fn search(
    conn: &mut AnyConnection,
    crypto: Crypto<'_>,
    scope: Scope,
    query: &SearchRequest,
    today: NaiveDate,
) -> Result<SearchResult, ApiError> {
    let Scope::Cities(cities) = scope else {
        return Err(ApiError::Forbidden);
    };
    let (here, elsewhere): (Vec<_>, Vec<_>) = index::candidates(conn, crypto.indexer, query)?
        .into_iter()
        .partition(|(_, city)| cities.contains(city));
    let ids: Vec<CaseId> = here.into_iter().map(|(case, _)| case).collect();
    let rows = row::find_many(conn, &ids)?;
    let found: Vec<CaseId> = rows.iter().map(|r| r.id).collect();
    let mut people = data_keys::load_many(conn, crypto.keyring, &found)?;
    let mut items: Vec<CaseSummary> = Vec::new();
    for row in rows.iter().filter(|r| r.status != CaseStatus::Erased) {
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
    Ok(SearchResult {
        items,
        elsewhere: elsewhere.len() as u64,
    })
}
