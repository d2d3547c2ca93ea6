//! A case's search index: its national ID, phone and name tokens kept as
//! blind indexes (keyed HMACs) in `case_search_index`, and the cases they
//! give for a search. Such a case is a candidate only: `search` opens it
//! and decides on the plaintext.

use diesel::prelude::*;

use crate::audit::SubjectKind;
use crate::crypto::{BlindIndex, BlindIndexer};
use crate::db::schema::{case_search_index, cases};
use crate::db::{AnyConnection, MultiBackend};
use crate::domain::{CaseId, CaseStatus, CityId};
use crate::error::ApiError;

use super::checks::NewSubject;
use super::model::SearchRequest;

/// One row of `case_search_index`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, diesel::Insertable)]
#[diesel(table_name = case_search_index, treat_none_as_default_value = false)]
pub struct NewIndexEntry {
    pub case_id: CaseId,
    pub kind: &'static str,
    pub value: String,
    pub city_id: CityId,
}

/// The blind-index rows of a case, from its plaintext subject.
pub fn index_entries(
    indexer: &BlindIndexer,
    case: CaseId,
    city: CityId,
    subject: &NewSubject,
) -> Vec<NewIndexEntry> {
    let mut pairs: Vec<(&'static str, String)> = Vec::new();
    let latin = subject.full_name_latin.as_deref();
    for token in indexer
        .name_tokens(subject.full_name.as_str())
        .into_iter()
        .chain(latin.map(|n| indexer.name_tokens(n)).unwrap_or_default())
    {
        pairs.push(("name", token.as_hex()));
    }
    if let Some(bi) = subject
        .national_id
        .as_ref()
        .and_then(|v| indexer.national_id(v.as_str()))
    {
        pairs.push(("national_id", bi.as_hex()));
    }
    if let Some(bi) = subject
        .phone
        .as_ref()
        .and_then(|v| indexer.phone(v.as_str()))
    {
        pairs.push(("phone", bi.as_hex()));
    }
    pairs.sort();
    pairs.dedup();
    pairs
        .into_iter()
        .map(|(kind, value)| NewIndexEntry {
            case_id: case,
            kind,
            value,
            city_id: city,
        })
        .collect()
}

/// Rewrites a case's blind indexes from its plaintext subject.
pub fn reindex(
    conn: &mut AnyConnection,
    indexer: &BlindIndexer,
    case: CaseId,
    city: CityId,
    subject: &NewSubject,
) -> Result<(), ApiError> {
    diesel::delete(case_search_index::table.filter(case_search_index::case_id.eq(case)))
        .execute(conn)?;
    // MultiConnection cannot batch-insert; a person has a handful of tokens.
    for entry in index_entries(indexer, case, city, subject) {
        diesel::insert_into(case_search_index::table)
            .values(&entry)
            .execute(conn)?;
    }
    Ok(())
}

/// What a search was given, as blind indexes: per kind of term, every
/// index a case must have (one for a national ID or a phone, one per token
/// of a name). A term that gives no index (a national ID with no digit) has
/// none, and then nothing can match.
pub fn wanted(
    indexer: &BlindIndexer,
    query: &SearchRequest,
) -> Vec<(SubjectKind, Vec<BlindIndex>)> {
    let mut wanted = Vec::new();
    if let Some(v) = &query.national_id {
        wanted.push((
            SubjectKind::NationalId,
            indexer.national_id(v).into_iter().collect(),
        ));
    }
    if let Some(v) = &query.phone {
        wanted.push((SubjectKind::Phone, indexer.phone(v).into_iter().collect()));
    }
    if let Some(v) = &query.name {
        wanted.push((SubjectKind::Name, indexer.name_tokens(v)));
    }
    wanted
}

/// The cases, not erased, that hold every wanted index: one subquery per
/// kind of term on `case_search_index (kind, value)`, so the database finds
/// them without a row being read, let alone opened. The caller adds the
/// scope, the order and the page.
pub fn matching(
    wanted: &[(SubjectKind, Vec<BlindIndex>)],
) -> cases::BoxedQuery<'static, MultiBackend> {
    let mut query = cases::table
        .filter(cases::status.ne(CaseStatus::Erased))
        .into_boxed();
    for (kind, indexes) in wanted {
        let values: Vec<String> = indexes.iter().map(BlindIndex::as_hex).collect();
        let count = i64::try_from(values.len()).unwrap_or(i64::MAX);
        let holding = case_search_index::table
            .filter(case_search_index::kind.eq(kind.as_str()))
            .filter(case_search_index::value.eq_any(values))
            .group_by(case_search_index::case_id)
            .having(diesel::dsl::count_star().eq(count))
            .select(case_search_index::case_id);
        query = query.filter(cases::id.eq_any(holding));
    }
    query
}
