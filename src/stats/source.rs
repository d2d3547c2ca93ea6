//! What a release counts, read from the plaintext categories of `cases`
//! and `referrals` (never a sealed field), grouped in the database by only
//! the columns a table needs. Each person is one case row; referrals are
//! cut to the first `per_person` of each person in the months read.

use chrono::NaiveDate;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Date, Integer, Nullable, SmallInt, Text, Timestamp};

use crate::db::AnyConnection;
use crate::db::schema::{cities, governorates};
use crate::domain::Month;
use crate::error::ApiError;

/// The places that exist when a release is made: every one of them gets
/// its cells, whether or not anyone lives there.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Places {
    /// Governorate codes, sorted.
    pub governorates: Vec<String>,
    /// Cities, sorted by code.
    pub cities: Vec<City>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct City {
    pub id: String,
    pub code: String,
    pub governorate: String,
}

impl Places {
    pub fn load(conn: &mut AnyConnection) -> Result<Places, ApiError> {
        let mut governorates: Vec<String> =
            governorates::table.select(governorates::code).load(conn)?;
        governorates.sort();
        let mut cities: Vec<City> = cities::table
            .inner_join(governorates::table)
            .select((cities::id, cities::code, governorates::code))
            .load::<(String, String, String)>(conn)?
            .into_iter()
            .map(|(id, code, governorate)| City {
                id,
                code,
                governorate,
            })
            .collect();
        cities.sort_by(|a, b| a.code.cmp(&b.code));
        Ok(Places {
            governorates,
            cities,
        })
    }

    pub fn city(&self, id: &str) -> Option<&City> {
        self.cities.iter().find(|c| c.id == id)
    }
}

/// Which case columns a table needs (the rest are grouped away).
#[derive(Debug, Clone, Copy, Default)]
pub struct CaseColumns {
    pub sex: bool,
    pub birth_year: bool,
    pub status: bool,
    pub origin_kind: bool,
    pub flags: bool,
}

/// A group of people alike in the columns asked for.
#[derive(Debug, Clone, PartialEq, Eq, QueryableByName)]
pub struct CaseGroup {
    #[diesel(sql_type = Text)]
    pub month: String,
    #[diesel(sql_type = Text)]
    pub city_id: String,
    #[diesel(sql_type = Text)]
    pub sex: String,
    #[diesel(sql_type = Integer)]
    pub birth_year: i32,
    #[diesel(sql_type = Text)]
    pub status: String,
    #[diesel(sql_type = Text)]
    pub origin_kind: String,
    #[diesel(sql_type = Text)]
    pub vulnerability_flags: String,
    #[diesel(sql_type = BigInt)]
    pub n: i64,
}

/// A group of referrals alike in their categories.
#[derive(Debug, Clone, PartialEq, Eq, QueryableByName)]
pub struct ReferralGroup {
    #[diesel(sql_type = Text)]
    pub month: String,
    #[diesel(sql_type = Text)]
    pub city_id: String,
    #[diesel(sql_type = Text)]
    pub kind: String,
    #[diesel(sql_type = Text)]
    pub state: String,
    #[diesel(sql_type = Nullable<Text>)]
    pub outcome: Option<String>,
    #[diesel(sql_type = BigInt)]
    pub n: i64,
}

/// A group of people alike in what the assessment tables count: the month
/// of their baseline, their city, sex and year of birth, their latest
/// scores (tenths), the composite's change since the baseline (`None`
/// when the baseline is their latest), and the kinds of referral they
/// completed (comma-separated, each once).
#[derive(Debug, Clone, PartialEq, Eq, QueryableByName)]
pub struct AssessmentGroup {
    #[diesel(sql_type = Text)]
    pub month: String,
    #[diesel(sql_type = Text)]
    pub city_id: String,
    #[diesel(sql_type = Text)]
    pub sex: String,
    #[diesel(sql_type = Integer)]
    pub birth_year: i32,
    #[diesel(sql_type = SmallInt)]
    pub economic: i16,
    #[diesel(sql_type = SmallInt)]
    pub social: i16,
    #[diesel(sql_type = SmallInt)]
    pub psychosocial: i16,
    #[diesel(sql_type = SmallInt)]
    pub composite: i16,
    #[diesel(sql_type = Nullable<SmallInt>)]
    pub change: Option<i16>,
    #[diesel(sql_type = Text)]
    pub support: String,
    #[diesel(sql_type = BigInt)]
    pub n: i64,
}

/// People whose scored baseline was submitted from `first` to `last`, in
/// `cities` (all when `None`), with their latest scored assessment (which
/// may be the baseline itself), grouped. One row per person before
/// grouping: a person is one baseline.
pub fn assessment_groups(
    conn: &mut AnyConnection,
    first: Month,
    last: Month,
    cities: Option<&[String]>,
) -> Result<Vec<AssessmentGroup>, ApiError> {
    let month = month_of(conn, "b.submitted_at");
    // Each kind of referral completed, as ',kind' (or nothing), joined.
    let support: Vec<String> = crate::domain::OrganisationKind::ALL
        .iter()
        .map(|kind| {
            format!(
                "CASE WHEN EXISTS (SELECT 1 FROM referrals r WHERE r.case_id = c.id \
                 AND r.state = 'completed' AND r.kind = '{}') THEN ',{}' ELSE '' END",
                kind.as_str(),
                kind.as_str()
            )
        })
        .collect();
    let support = support.join(" || ");
    let filter = city_filter(cities, 3).replace("city_id", "c.city_id");
    let sql = format!(
        "SELECT {month} AS month, c.city_id AS city_id, c.sex AS sex, c.birth_year AS birth_year, \
                l.score_economic AS economic, l.score_social AS social, \
                l.score_psychosocial AS psychosocial, l.score_composite AS composite, \
                CASE WHEN l.id = b.id THEN NULL \
                     ELSE CAST(l.score_composite - b.score_composite AS SMALLINT) END AS change, \
                ({support}) AS support, COUNT(*) AS n \
         FROM assessments b \
         JOIN cases c ON c.id = b.case_id \
         JOIN (SELECT a.id, a.case_id, a.score_economic, a.score_social, a.score_psychosocial, \
                      a.score_composite, \
                      ROW_NUMBER() OVER (PARTITION BY a.case_id ORDER BY a.submitted_at DESC, a.id DESC) AS nth \
               FROM assessments a WHERE a.state IN ('submitted', 'reviewed')) l \
           ON l.case_id = b.case_id AND l.nth = 1 \
         WHERE b.stage = 'baseline' AND b.state IN ('submitted', 'reviewed') \
           AND b.submitted_at >= $1 AND b.submitted_at < $2{filter} \
         GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9, 10"
    );
    let mut query = diesel::sql_query(sql)
        .into_boxed()
        .bind::<Timestamp, _>(first.first_day().and_time(chrono::NaiveTime::MIN))
        .bind::<Timestamp, _>(end_of(last).and_time(chrono::NaiveTime::MIN));
    for city in cities.unwrap_or_default() {
        query = query.bind::<Text, _>(city.clone());
    }
    Ok(query.load(conn)?)
}

/// `YYYY-MM` of a date or timestamp column, in the backend's own SQL.
fn month_of(conn: &AnyConnection, column: &str) -> String {
    match conn {
        AnyConnection::Postgresql(_) => format!("to_char({column}, 'YYYY-MM')"),
        AnyConnection::Sqlite(_) => format!("strftime('%Y-%m', {column})"),
    }
}

/// People who returned from `first` to `last` (months, both included), in
/// `cities` (all when `None`), grouped by month, city and the columns asked
/// for. Column names come from this fixed list, never from a request.
pub fn case_groups(
    conn: &mut AnyConnection,
    first: Month,
    last: Month,
    cities: Option<&[String]>,
    wanted: CaseColumns,
) -> Result<Vec<CaseGroup>, ApiError> {
    let columns = [
        (wanted.sex, "sex", "''"),
        (wanted.birth_year, "birth_year", "0"),
        (wanted.status, "status", "''"),
        (wanted.origin_kind, "origin_kind", "''"),
        (wanted.flags, "vulnerability_flags", "''"),
    ];
    let month = month_of(conn, "return_date");
    let mut select = vec![format!("{month} AS month"), "city_id".to_string()];
    let mut group = vec![month, "city_id".to_string()];
    for (want, name, constant) in columns {
        if want {
            select.push(name.to_string());
            group.push(name.to_string());
        } else {
            select.push(format!("{constant} AS {name}"));
        }
    }
    let sql = format!(
        "SELECT {}, COUNT(*) AS n FROM cases WHERE return_date >= $1 AND return_date < $2{} GROUP BY {}",
        select.join(", "),
        city_filter(cities, 3),
        group.join(", ")
    );
    let mut query = diesel::sql_query(sql)
        .into_boxed()
        .bind::<Date, _>(first.first_day())
        .bind::<Date, _>(end_of(last));
    for city in cities.unwrap_or_default() {
        query = query.bind::<Text, _>(city.clone());
    }
    Ok(query.load(conn)?)
}

/// ` AND city_id IN ($n, …)` for `cities`, numbered from `from`; nothing
/// when `None` (every city); never true when empty.
fn city_filter(cities: Option<&[String]>, from: usize) -> String {
    match cities {
        None => String::new(),
        Some([]) => " AND 1 = 0".into(),
        Some(cities) => {
            let marks: Vec<String> = (0..cities.len())
                .map(|i| format!("${}", from + i))
                .collect();
            format!(" AND city_id IN ({})", marks.join(", "))
        }
    }
}

/// Referrals made from `first` to `last` in `cities` (all when `None`),
/// grouped by month, city, kind, state and outcome, counting at most the
/// first `per_person` referrals of each person (case) in those months.
pub fn referral_groups(
    conn: &mut AnyConnection,
    first: Month,
    last: Month,
    cities: Option<&[String]>,
    per_person: u32,
) -> Result<Vec<ReferralGroup>, ApiError> {
    // Placeholders are numbered in the order they appear: SQLite numbers
    // `$n` by appearance, PostgreSQL by n, so the two must agree.
    let month = month_of(conn, "created_at");
    let cap = 3 + cities.map_or(0, <[String]>::len);
    let sql = format!(
        "SELECT month, city_id, kind, state, outcome, COUNT(*) AS n FROM (\
           SELECT {month} AS month, city_id, kind, state, outcome, \
                  ROW_NUMBER() OVER (PARTITION BY case_id ORDER BY created_at, id) AS nth \
           FROM referrals WHERE created_at >= $1 AND created_at < $2{}\
         ) AS capped WHERE nth <= ${cap} GROUP BY month, city_id, kind, state, outcome",
        city_filter(cities, 3)
    );
    let mut query = diesel::sql_query(sql)
        .into_boxed()
        .bind::<Timestamp, _>(first.first_day().and_time(chrono::NaiveTime::MIN))
        .bind::<Timestamp, _>(end_of(last).and_time(chrono::NaiveTime::MIN));
    for city in cities.unwrap_or_default() {
        query = query.bind::<Text, _>(city.clone());
    }
    let query = query.bind::<BigInt, _>(i64::from(per_person));
    Ok(query.load(conn)?)
}

/// Reads a month the database wrote; a malformed one is a corrupt row.
pub fn month(text: &str) -> Result<Month, ApiError> {
    Month::parse(text).ok_or_else(|| {
        ApiError::internal(anyhow::anyhow!("a month the database gave is not YYYY-MM"))
    })
}

/// The day after the last day of `last`: the exclusive end of a range.
pub fn end_of(last: Month) -> NaiveDate {
    last.plus(1).first_day()
}
