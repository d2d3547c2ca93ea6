//! The counts behind `GET /stats/cases`: one GROUP BY over the plaintext
//! columns of `cases` (never a decrypted field) that the dimensions asked
//! for need, rolled up in memory to those dimensions.

use std::collections::{BTreeMap, BTreeSet};

use chrono::NaiveDate;
use diesel::prelude::*;

use crate::db::AnyConnection;
use crate::db::schema::{cities, governorates};
use crate::domain::CityId;
use crate::domain::case::flags_from_db;
use crate::error::ApiError;

use super::suppress::Cell;

/// What a case table can be grouped by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum CaseDimension {
    Governorate,
    City,
    Sex,
    AgeBand,
    Status,
    OriginKind,
    Vulnerability,
}

impl CaseDimension {
    pub fn parse(text: &str) -> Option<CaseDimension> {
        Some(match text {
            "governorate" => CaseDimension::Governorate,
            "city" => CaseDimension::City,
            "sex" => CaseDimension::Sex,
            "age_band" => CaseDimension::AgeBand,
            "status" => CaseDimension::Status,
            "origin_kind" => CaseDimension::OriginKind,
            "vulnerability" => CaseDimension::Vulnerability,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            CaseDimension::Governorate => "governorate",
            CaseDimension::City => "city",
            CaseDimension::Sex => "sex",
            CaseDimension::AgeBand => "age_band",
            CaseDimension::Status => "status",
            CaseDimension::OriginKind => "origin_kind",
            CaseDimension::Vulnerability => "vulnerability",
        }
    }

    /// The HXL hashtag of the column.
    pub fn hxl(self) -> &'static str {
        match self {
            CaseDimension::Governorate => "#adm1+code",
            CaseDimension::City => "#adm2+code",
            CaseDimension::Sex => "#gender",
            CaseDimension::AgeBand => "#age+group",
            CaseDimension::Status => "#status",
            CaseDimension::OriginKind => "#indicator+origin",
            CaseDimension::Vulnerability => "#indicator+vulnerability",
        }
    }
}

/// Age bands of the contract, from an age in whole years.
pub fn age_band(age: i32) -> &'static str {
    match age {
        i32::MIN..=4 => "0-4",
        5..=11 => "5-11",
        12..=17 => "12-17",
        18..=24 => "18-24",
        25..=59 => "25-59",
        _ => "60+",
    }
}

type Group = (String, String, String, i32, String, String, String, i64);

/// One line of the GROUP BY: the columns asked for, constants for the rest.
#[derive(diesel::QueryableByName)]
struct GroupRow {
    #[diesel(sql_type = diesel::sql_types::Text)]
    city_id: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    sex: String,
    #[diesel(sql_type = diesel::sql_types::Integer)]
    birth_year: i32,
    #[diesel(sql_type = diesel::sql_types::Text)]
    status: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    origin_kind: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    vulnerability_flags: String,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

/// Counts grouped by only the columns the dimensions need, so the database
/// returns a line per cell of the answer rather than per distinct person
/// profile (at a million cases, that is thousands of lines, not most of
/// a million). Column names come from this fixed list, never from the
/// request; every value is a bound parameter (`$n`, which SQLite accepts
/// too, numbered in order of appearance).
fn grouped_rows(
    conn: &mut AnyConnection,
    dimensions: &[CaseDimension],
    cities: Option<&[CityId]>,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
) -> Result<Vec<GroupRow>, ApiError> {
    use diesel::sql_types::{Date, Text};

    let wants = |ds: &[CaseDimension]| ds.iter().any(|d| dimensions.contains(d));
    let columns = [
        (
            wants(&[CaseDimension::Governorate, CaseDimension::City]),
            "city_id",
            "''",
        ),
        (wants(&[CaseDimension::Sex]), "sex", "''"),
        (wants(&[CaseDimension::AgeBand]), "birth_year", "0"),
        (wants(&[CaseDimension::Status]), "status", "''"),
        (wants(&[CaseDimension::OriginKind]), "origin_kind", "''"),
        (
            wants(&[CaseDimension::Vulnerability]),
            "vulnerability_flags",
            "''",
        ),
    ];
    let select: Vec<String> = columns
        .iter()
        .map(|(wanted, name, constant)| {
            if *wanted {
                (*name).to_string()
            } else {
                format!("{constant} AS {name}")
            }
        })
        .collect();
    let group: Vec<&str> = columns
        .iter()
        .filter(|(wanted, ..)| *wanted)
        .map(|(_, name, _)| *name)
        .collect();
    let mut conditions = Vec::new();
    let mut next = 0;
    let mut placeholder = || {
        next += 1;
        format!("${next}")
    };
    if let Some(cities) = cities {
        if cities.is_empty() {
            conditions.push("1 = 0".to_string());
        } else {
            let marks: Vec<String> = cities.iter().map(|_| placeholder()).collect();
            conditions.push(format!("city_id IN ({})", marks.join(", ")));
        }
    }
    if from.is_some() {
        conditions.push(format!("return_date >= {}", placeholder()));
    }
    if to.is_some() {
        conditions.push(format!("return_date < {}", placeholder()));
    }
    let mut sql = format!("SELECT {}, COUNT(*) AS n FROM cases", select.join(", "));
    if !conditions.is_empty() {
        sql.push_str(&format!(" WHERE {}", conditions.join(" AND ")));
    }
    if !group.is_empty() {
        sql.push_str(&format!(" GROUP BY {}", group.join(", ")));
    }
    let mut query = diesel::sql_query(sql).into_boxed();
    for city in cities.unwrap_or_default() {
        query = query.bind::<Text, _>(city.to_db());
    }
    if let Some(from) = from {
        query = query.bind::<Date, _>(from);
    }
    if let Some(to) = to {
        query = query.bind::<Date, _>(to);
    }
    let rows: Vec<GroupRow> = query.load(conn)?;
    // COUNT(*) over no rows still gives one line without GROUP BY.
    Ok(rows.into_iter().filter(|r| r.n > 0).collect())
}

/// The grid of counts by `dimensions`: every combination of the values seen
/// in each dimension, zeros included. `cities` narrows to those cities
/// (`None` is national); `from`/`to` bound the return date (inclusive,
/// exclusive). Age bands come from the birth year (the exact date of birth
/// is encrypted), so a band may be one year off near a birthday.
pub fn case_counts(
    conn: &mut AnyConnection,
    dimensions: &[CaseDimension],
    cities: Option<&[CityId]>,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
    this_year: i32,
) -> Result<Vec<Cell>, ApiError> {
    let rows = grouped_rows(conn, dimensions, cities, from, to)?;
    // City and governorate codes, one small query for the whole table.
    let places: BTreeMap<String, (String, String)> = cities::table
        .inner_join(governorates::table)
        .select((cities::id, cities::code, governorates::code))
        .load::<(String, String, String)>(conn)?
        .into_iter()
        .map(|(id, city, governorate)| (id, (city, governorate)))
        .collect();
    let groups: Vec<Group> = rows
        .into_iter()
        .map(|r| {
            let (city, governorate) = places.get(&r.city_id).cloned().unwrap_or_default();
            (
                governorate,
                city,
                r.sex,
                r.birth_year,
                r.status,
                r.origin_kind,
                r.vulnerability_flags,
                r.n,
            )
        })
        .collect();
    Ok(roll_up(&groups, dimensions, this_year))
}

fn roll_up(groups: &[Group], dimensions: &[CaseDimension], this_year: i32) -> Vec<Cell> {
    let mut counts: BTreeMap<Vec<String>, u64> = BTreeMap::new();
    let mut seen: Vec<BTreeSet<String>> = vec![BTreeSet::new(); dimensions.len()];
    for (governorate, city, sex, birth_year, status, origin, flags, count) in groups {
        // A case counts once per vulnerability flag when grouped by them.
        let flag_values: Vec<String> = if dimensions.contains(&CaseDimension::Vulnerability) {
            let parsed = flags_from_db(flags).unwrap_or_default();
            if parsed.is_empty() {
                vec!["none".to_string()]
            } else {
                parsed.iter().map(|f| f.as_str().to_string()).collect()
            }
        } else {
            vec![String::new()]
        };
        for flag in flag_values {
            let key: Vec<String> = dimensions
                .iter()
                .map(|d| match d {
                    CaseDimension::Governorate => governorate.clone(),
                    CaseDimension::City => city.clone(),
                    CaseDimension::Sex => sex.clone(),
                    CaseDimension::AgeBand => age_band(this_year - birth_year).to_string(),
                    CaseDimension::Status => status.clone(),
                    CaseDimension::OriginKind => origin.clone(),
                    CaseDimension::Vulnerability => flag.clone(),
                })
                .collect();
            for (i, value) in key.iter().enumerate() {
                seen[i].insert(value.clone());
            }
            *counts.entry(key).or_default() += u64::try_from(*count).unwrap_or(0);
        }
    }
    // The full grid, so a zero is published as zero.
    grid(&seen, &counts, dimensions.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn medians_of_odd_and_even_counts() {
        assert_eq!(median(&[]), None);
        assert_eq!(median(&[7, 1, 3]), Some(3.0));
        assert_eq!(median(&[4, 1, 3, 2]), Some(2.5));
    }

    #[test]
    fn bands_follow_the_contract() {
        let got: Vec<&str> = [0, 4, 5, 11, 12, 17, 18, 24, 25, 59, 60, 90]
            .iter()
            .map(|&a| age_band(a))
            .collect();
        assert_eq!(
            got,
            vec![
                "0-4", "0-4", "5-11", "5-11", "12-17", "12-17", "18-24", "18-24", "25-59", "25-59",
                "60+", "60+"
            ]
        );
    }

    #[test]
    fn groups_roll_up_to_a_full_grid_with_zeros() {
        let g = |city: &str, sex: &str, n: i64| -> Group {
            (
                "IQ-NI".into(),
                city.into(),
                sex.into(),
                1990,
                "open".into(),
                "camp".into(),
                "disability,unemployed".into(),
                n,
            )
        };
        let cells = roll_up(
            &[
                g("MOS", "female", 30),
                g("MOS", "female", 5),
                g("TAF", "male", 12),
            ],
            &[CaseDimension::City, CaseDimension::Sex],
            2026,
        );
        let got: Vec<(Vec<String>, u64)> = cells.into_iter().map(|c| (c.key, c.count)).collect();
        assert_eq!(
            got,
            vec![
                (vec!["MOS".into(), "female".into()], 35),
                (vec!["MOS".into(), "male".into()], 0),
                (vec!["TAF".into(), "female".into()], 0),
                (vec!["TAF".into(), "male".into()], 12),
            ]
        );
        let flags = roll_up(
            &[g("MOS", "female", 30)],
            &[CaseDimension::Vulnerability],
            2026,
        );
        assert_eq!(flags.len(), 2, "one cell per flag");
    }
}

/// What a referral table can be grouped by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ReferralDimension {
    Governorate,
    City,
    Kind,
    State,
    Outcome,
    Month,
}

impl ReferralDimension {
    pub fn parse(text: &str) -> Option<ReferralDimension> {
        Some(match text {
            "governorate" => ReferralDimension::Governorate,
            "city" => ReferralDimension::City,
            "kind" => ReferralDimension::Kind,
            "state" => ReferralDimension::State,
            "outcome" => ReferralDimension::Outcome,
            "month" => ReferralDimension::Month,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            ReferralDimension::Governorate => "governorate",
            ReferralDimension::City => "city",
            ReferralDimension::Kind => "kind",
            ReferralDimension::State => "state",
            ReferralDimension::Outcome => "outcome",
            ReferralDimension::Month => "month",
        }
    }

    pub fn hxl(self) -> &'static str {
        match self {
            ReferralDimension::Governorate => "#adm1+code",
            ReferralDimension::City => "#adm2+code",
            ReferralDimension::Kind => "#service+type",
            ReferralDimension::State => "#status",
            ReferralDimension::Outcome => "#indicator+outcome",
            ReferralDimension::Month => "#date+month",
        }
    }
}

/// Per cell key: days from referral to acceptance, and to completion.
pub type CellDays = BTreeMap<Vec<String>, (Vec<i64>, Vec<i64>)>;

/// Counts of referrals by `dimensions`, and per cell the days from referral
/// to acceptance and to completion (for medians). Read from plaintext
/// columns only: categories, city and the dates of state changes. The month
/// is that of the referral's creation; `from`/`to` bound that date.
pub fn referral_counts(
    conn: &mut AnyConnection,
    dimensions: &[ReferralDimension],
    cities: Option<&[CityId]>,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
) -> Result<(Vec<Cell>, CellDays), ApiError> {
    use crate::db::schema::referrals;
    use chrono::NaiveDateTime;

    let mut query = referrals::table
        .select((
            referrals::city_id,
            referrals::kind,
            referrals::state,
            referrals::outcome,
            referrals::created_at,
            referrals::accepted_at,
            referrals::completed_at,
        ))
        .into_boxed();
    if let Some(cities) = cities {
        let ids: Vec<String> = cities.iter().map(CityId::to_db).collect();
        query = query.filter(referrals::city_id.eq_any(ids));
    }
    if let Some(from) = from {
        query = query.filter(referrals::created_at.ge(from.and_time(chrono::NaiveTime::MIN)));
    }
    if let Some(to) = to {
        query = query.filter(referrals::created_at.lt(to.and_time(chrono::NaiveTime::MIN)));
    }
    type Row = (
        String,
        String,
        String,
        Option<String>,
        NaiveDateTime,
        Option<NaiveDateTime>,
        Option<NaiveDateTime>,
    );
    let rows: Vec<Row> = query.load(conn)?;
    let places: BTreeMap<String, (String, String)> = cities::table
        .inner_join(governorates::table)
        .select((cities::id, cities::code, governorates::code))
        .load::<(String, String, String)>(conn)?
        .into_iter()
        .map(|(id, city, governorate)| (id, (city, governorate)))
        .collect();
    let mut counts: BTreeMap<Vec<String>, u64> = BTreeMap::new();
    let mut days: CellDays = BTreeMap::new();
    let mut seen: Vec<BTreeSet<String>> = vec![BTreeSet::new(); dimensions.len()];
    for (city_id, kind, state, outcome, created, accepted, completed) in rows {
        let (city, governorate) = places.get(&city_id).cloned().unwrap_or_default();
        let key: Vec<String> = dimensions
            .iter()
            .map(|d| match d {
                ReferralDimension::Governorate => governorate.clone(),
                ReferralDimension::City => city.clone(),
                ReferralDimension::Kind => kind.clone(),
                ReferralDimension::State => state.clone(),
                ReferralDimension::Outcome => outcome.clone().unwrap_or_else(|| "none".into()),
                ReferralDimension::Month => created.format("%Y-%m").to_string(),
            })
            .collect();
        for (i, value) in key.iter().enumerate() {
            seen[i].insert(value.clone());
        }
        *counts.entry(key.clone()).or_default() += 1;
        let entry = days.entry(key).or_default();
        if let Some(at) = accepted {
            entry.0.push((at - created).num_days());
        }
        if let Some(at) = completed {
            entry.1.push((at - created).num_days());
        }
    }
    Ok((grid(&seen, &counts, dimensions.is_empty()), days))
}

/// Every combination of the values seen, with its count (zero if none).
fn grid(
    seen: &[BTreeSet<String>],
    counts: &BTreeMap<Vec<String>, u64>,
    total_only: bool,
) -> Vec<Cell> {
    let mut keys: Vec<Vec<String>> = vec![Vec::new()];
    for values in seen {
        keys = keys
            .into_iter()
            .flat_map(|prefix| {
                values.iter().map(move |v| {
                    let mut key = prefix.clone();
                    key.push(v.clone());
                    key
                })
            })
            .collect();
    }
    if total_only {
        keys = vec![Vec::new()];
    }
    keys.into_iter()
        .map(|key| Cell {
            count: counts.get(&key).copied().unwrap_or(0),
            key,
            suppressed: false,
        })
        .collect()
}

/// The median of whole days, or `None` for none.
pub fn median(values: &[i64]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    let mut sorted = values.to_vec();
    sorted.sort_unstable();
    let mid = sorted.len() / 2;
    Some(if sorted.len().is_multiple_of(2) {
        (sorted[mid - 1] + sorted[mid]) as f64 / 2.0
    } else {
        sorted[mid] as f64
    })
}
