//! A case's search index: its national ID, phone and name tokens kept as
//! blind indexes (keyed HMACs) in `case_search_index`, and the candidates
//! they give for a search. A candidate is only that: `search` opens it and
//! decides on the plaintext.

use std::collections::{BTreeMap, BTreeSet};

use diesel::prelude::*;

use crate::crypto::BlindIndexer;
use crate::db::AnyConnection;
use crate::db::schema::case_search_index;
use crate::domain::{CaseId, CityId};
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

/// Candidate cases for a search, with their city, from blind indexes.
/// Every given criterion must match, and for a name every token.
pub fn candidates(
    conn: &mut AnyConnection,
    indexer: &BlindIndexer,
    query: &SearchRequest,
) -> Result<Vec<(CaseId, CityId)>, ApiError> {
    let mut wanted: Vec<(&str, Vec<String>)> = Vec::new();
    if let Some(v) = &query.national_id {
        let index = indexer.national_id(v).map(|b| b.as_hex());
        wanted.push(("national_id", index.into_iter().collect()));
    }
    if let Some(v) = &query.phone {
        let index = indexer.phone(v).map(|b| b.as_hex());
        wanted.push(("phone", index.into_iter().collect()));
    }
    if let Some(v) = &query.name {
        let mut tokens: Vec<String> = indexer.name_tokens(v).iter().map(|b| b.as_hex()).collect();
        tokens.sort();
        tokens.dedup();
        wanted.push(("name", tokens));
    }
    let mut result: Option<BTreeMap<CaseId, CityId>> = None;
    for (kind, values) in wanted {
        if values.is_empty() {
            return Ok(Vec::new());
        }
        let rows: Vec<(CaseId, String, CityId)> = case_search_index::table
            .filter(case_search_index::kind.eq(kind))
            .filter(case_search_index::value.eq_any(&values))
            .select((
                case_search_index::case_id,
                case_search_index::value,
                case_search_index::city_id,
            ))
            .load(conn)?;
        let mut per_case: BTreeMap<CaseId, (CityId, BTreeSet<String>)> = BTreeMap::new();
        for (case, value, city) in rows {
            per_case
                .entry(case)
                .or_insert_with(|| (city, BTreeSet::new()))
                .1
                .insert(value);
        }
        let matched: BTreeMap<CaseId, CityId> = per_case
            .into_iter()
            .filter(|(_, (_, found))| found.len() == values.len())
            .map(|(case, (city, _))| (case, city))
            .collect();
        result = Some(match result {
            None => matched,
            Some(previous) => previous
                .into_iter()
                .filter(|(case, _)| matched.contains_key(case))
                .collect(),
        });
    }
    Ok(result.unwrap_or_default().into_iter().collect())
}
