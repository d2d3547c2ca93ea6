//! Case rows: sealed on the way in, opened on the way out, with their blind
//! indexes and case numbers. Every function takes the caller's transaction.
//!
//! A person's fields are sealed with their own data key, bound (by the AAD)
//! to the table, column, row id and city: a value copied elsewhere fails to
//! open, and that failure is an integrity error, never a plaintext.

use chrono::{Datelike, NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use crate::crypto::{BlindIndexer, CryptoError, FieldCipher, Keyring, Opened, PersonKeys, Sealed};
use crate::db::schema::{case_search_index, cases, cities};
use crate::db::{AnyConnection, Backend};
use crate::domain::case::{flags_from_db, flags_to_db};
use crate::domain::{
    CaseId, CaseStatus, CityId, ConsentGiver, HouseholdId, OriginKind, Sex, UserId, time,
};
use crate::error::{ApiError, FieldError};

use super::data_keys;
use super::model::{
    CaseSummary, CaseView, Consent, CreateCase, Origin, Subject, SubjectInput, UpdateCase, age_on,
};

pub const TABLE: &str = "cases";

/// What the store needs besides the connection: the keys.
#[derive(Clone, Copy)]
pub struct Crypto<'a> {
    pub keyring: &'a Keyring,
    pub indexer: &'a BlindIndexer,
}

/// One row of `cases`.
#[derive(Debug, Clone, diesel::Queryable)]
pub struct CaseRow {
    pub id: String,
    pub case_number: String,
    pub city_id: String,
    pub household_id: Option<String>,
    pub status: String,
    pub sex: String,
    pub birth_year: i32,
    pub origin_kind: String,
    pub return_date: NaiveDate,
    pub vulnerability_flags: String,
    pub consent_share: bool,
    pub consent_given_by: String,
    pub consent_given_at: NaiveDateTime,
    pub assigned_to: Option<String>,
    pub full_name_enc: Sealed,
    pub full_name_latin_enc: Option<Sealed>,
    pub date_of_birth_enc: Sealed,
    pub national_id_enc: Option<Sealed>,
    pub phone_enc: Option<Sealed>,
    pub address_enc: Option<Sealed>,
    pub origin_place_enc: Option<Sealed>,
    pub vulnerability_notes_enc: Option<Sealed>,
    pub closure_reason_enc: Option<Sealed>,
    pub version: i64,
    pub created_by: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub closed_at: Option<NaiveDateTime>,
    pub erased_at: Option<NaiveDateTime>,
}

impl CaseRow {
    pub fn case_id(&self) -> Result<CaseId, ApiError> {
        CaseId::from_db(&self.id).map_err(|_| corrupt("cases.id"))
    }

    pub fn city(&self) -> Result<CityId, ApiError> {
        CityId::from_db(&self.city_id).map_err(|_| corrupt("cases.city_id"))
    }

    pub fn status(&self) -> Result<CaseStatus, ApiError> {
        CaseStatus::from_db(&self.status).ok_or_else(|| corrupt("cases.status"))
    }
}

pub fn corrupt(what: &str) -> ApiError {
    ApiError::internal(anyhow::anyhow!("corrupt value in {what}"))
}

/// A failure to open is a security event: logged (without any value) and
/// answered as an internal error.
pub fn integrity(err: CryptoError, table: &str, row: &str) -> ApiError {
    tracing::error!(table, row_id = row, error = %err, "a sealed field failed to open");
    ApiError::internal(anyhow::anyhow!("{err}"))
}

fn seal_opt(
    cipher: &FieldCipher<'_>,
    column: &str,
    value: Option<&str>,
) -> Result<Option<Sealed>, ApiError> {
    value
        .map(|v| cipher.seal_text(TABLE, column, v.trim()))
        .transpose()
        .map_err(ApiError::internal)
}

fn parse_opt<T: std::str::FromStr>(value: Option<&str>, what: &str) -> Result<Option<T>, ApiError> {
    value
        .map(|v| v.parse::<T>().map_err(|_| corrupt(what)))
        .transpose()
}

/// The checks a validator rule cannot express, naming each bad field.
pub fn check_subject(subject: &SubjectInput, prefix: &str, today: NaiveDate) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let field = |name: &str| format!("{prefix}{name}");
    if subject.full_name.trim().is_empty() {
        errors.push(FieldError::new(field("full_name"), "must not be blank"));
    }
    errors.extend(check_date_of_birth(
        subject.date_of_birth,
        &field("date_of_birth"),
        today,
    ));
    if let Some(id) = &subject.national_id
        && crate::crypto::blind_index::normalise_national_id(id).is_none()
    {
        errors.push(FieldError::new(field("national_id"), "must contain digits"));
    }
    if let Some(phone) = &subject.phone
        && crate::crypto::blind_index::normalise_phone(phone).is_none()
    {
        errors.push(FieldError::new(field("phone"), "is not a phone number"));
    }
    errors
}

pub fn check_date_of_birth(dob: NaiveDate, field: &str, today: NaiveDate) -> Option<FieldError> {
    if dob > today {
        Some(FieldError::new(field, "must not be in the future"))
    } else if dob.year() < 1900 {
        Some(FieldError::new(field, "must be after 1900"))
    } else {
        None
    }
}

pub fn check_return_date(date: NaiveDate, today: NaiveDate) -> Option<FieldError> {
    if date.year() < 2003 || date > today + chrono::Duration::days(366) {
        Some(FieldError::new(
            "return_date",
            "must be between 2003 and a year from today",
        ))
    } else {
        None
    }
}

/// Reserves `count` consecutive case numbers of a city for a year in
/// `case_counters` and returns the first, e.g. 123 for `MOS-2026-000123`.
pub fn reserve_case_numbers(
    conn: &mut AnyConnection,
    city: CityId,
    year: i32,
    count: i64,
) -> Result<i64, ApiError> {
    use diesel::sql_types::{BigInt, Integer, Text};

    #[derive(diesel::QueryableByName)]
    struct Last {
        #[diesel(sql_type = BigInt)]
        last_number: i64,
    }
    // An upsert that returns the new last number; the row lock it takes
    // serialises concurrent creations in one city and year.
    let sql = match conn.backend() {
        Backend::Postgres => {
            "INSERT INTO case_counters (city_id, year, last_number) VALUES ($1, $2, $3) \
             ON CONFLICT (city_id, year) DO UPDATE SET last_number = case_counters.last_number + $3 \
             RETURNING last_number"
        }
        Backend::Sqlite => {
            "INSERT INTO case_counters (city_id, year, last_number) VALUES (?1, ?2, ?3) \
             ON CONFLICT (city_id, year) DO UPDATE SET last_number = case_counters.last_number + ?3 \
             RETURNING last_number"
        }
    };
    let last: Last = diesel::sql_query(sql)
        .bind::<Text, _>(city.to_db())
        .bind::<Integer, _>(year)
        .bind::<BigInt, _>(count)
        .get_result(conn)?;
    Ok(last.last_number - count + 1)
}

/// A case number as shown to people: city code, year, six digits.
pub fn case_number(city_code: &str, year: i32, number: i64) -> String {
    format!("{city_code}-{year}-{number:06}")
}

fn city_code(conn: &mut AnyConnection, city: CityId) -> Result<String, ApiError> {
    Ok(cities::table
        .find(city.to_db())
        .select(cities::code)
        .first(conn)?)
}

/// One row of `case_search_index`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, diesel::Insertable)]
#[diesel(table_name = case_search_index, treat_none_as_default_value = false)]
pub struct NewIndexEntry {
    pub case_id: String,
    pub kind: &'static str,
    pub value: String,
    pub city_id: String,
}

/// The blind-index rows of a case, from its plaintext subject.
fn index_entries(
    indexer: &BlindIndexer,
    case: &str,
    city: &str,
    subject: &SubjectInput,
) -> Vec<NewIndexEntry> {
    let mut pairs: Vec<(&'static str, String)> = Vec::new();
    for token in indexer.name_tokens(&subject.full_name).into_iter().chain(
        subject
            .full_name_latin
            .as_deref()
            .map(|n| indexer.name_tokens(n))
            .unwrap_or_default(),
    ) {
        pairs.push(("name", token.as_hex()));
    }
    if let Some(bi) = subject
        .national_id
        .as_deref()
        .and_then(|v| indexer.national_id(v))
    {
        pairs.push(("national_id", bi.as_hex()));
    }
    if let Some(bi) = subject.phone.as_deref().and_then(|v| indexer.phone(v)) {
        pairs.push(("phone", bi.as_hex()));
    }
    pairs.sort();
    pairs.dedup();
    pairs
        .into_iter()
        .map(|(kind, value)| NewIndexEntry {
            case_id: case.to_string(),
            kind,
            value,
            city_id: city.to_string(),
        })
        .collect()
}

/// Rewrites a case's blind indexes from its plaintext subject.
fn reindex(
    conn: &mut AnyConnection,
    indexer: &BlindIndexer,
    case: CaseId,
    city: CityId,
    subject: &SubjectInput,
) -> Result<(), ApiError> {
    diesel::delete(case_search_index::table.filter(case_search_index::case_id.eq(case.to_db())))
        .execute(conn)?;
    // MultiConnection cannot batch-insert; a person has a handful of tokens.
    for entry in index_entries(indexer, &case.to_db(), &city.to_db(), subject) {
        diesel::insert_into(case_search_index::table)
            .values(&entry)
            .execute(conn)?;
    }
    Ok(())
}

/// A new row of `cases`, every sensitive field sealed.
#[derive(Debug, diesel::Insertable)]
#[diesel(table_name = cases, treat_none_as_default_value = false)]
pub struct NewCaseRow {
    pub id: String,
    pub case_number: String,
    pub city_id: String,
    pub household_id: Option<String>,
    pub status: &'static str,
    pub sex: &'static str,
    pub birth_year: i32,
    pub origin_kind: &'static str,
    pub return_date: NaiveDate,
    pub vulnerability_flags: String,
    pub consent_share: bool,
    pub consent_given_by: &'static str,
    pub consent_given_at: NaiveDateTime,
    pub assigned_to: Option<String>,
    pub full_name_enc: Sealed,
    pub full_name_latin_enc: Option<Sealed>,
    pub date_of_birth_enc: Sealed,
    pub national_id_enc: Option<Sealed>,
    pub phone_enc: Option<Sealed>,
    pub address_enc: Option<Sealed>,
    pub origin_place_enc: Option<Sealed>,
    pub vulnerability_notes_enc: Option<Sealed>,
    pub closure_reason_enc: Option<Sealed>,
    pub version: i64,
    pub created_by: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub closed_at: Option<NaiveDateTime>,
}

/// A case sealed and indexed, not yet stored: its data key, its row and
/// its blind-index rows, and the person's keys for sealing more. The API
/// stores one at a time; `sanad demo seed` stores them in batches.
pub struct SealedCase {
    pub key: data_keys::NewDataKey,
    pub row: NewCaseRow,
    pub index: Vec<NewIndexEntry>,
    pub person: PersonKeys,
}

/// Seals a new case under a new data key, without touching the database.
/// `case_number` is filled in by the caller, who reserves it.
pub fn seal_new(
    crypto: Crypto<'_>,
    id: CaseId,
    author: UserId,
    input: &CreateCase,
    case_number: String,
    now: NaiveDateTime,
) -> Result<SealedCase, ApiError> {
    let row_id = id.to_db();
    let city_text = input.city_id.to_db();
    let (key, person) = data_keys::generate(crypto.keyring, &row_id, now)?;
    let cipher = person.row(&row_id, &city_text);
    let s = &input.subject;
    let row = NewCaseRow {
        case_number,
        city_id: city_text.clone(),
        household_id: input.household_id.map(|h| h.to_db()),
        status: CaseStatus::Open.as_str(),
        sex: s.sex.as_str(),
        birth_year: s.date_of_birth.year(),
        origin_kind: input.origin.kind.as_str(),
        return_date: input.return_date,
        vulnerability_flags: flags_to_db(&input.vulnerability_flags),
        consent_share: input.consent.share_with_providers,
        consent_given_by: input.consent.given_by.as_str(),
        consent_given_at: input.consent.given_at.naive_utc().trunc_micros(),
        assigned_to: input.assigned_to.map(|u| u.to_db()),
        full_name_enc: cipher
            .seal_text(TABLE, "full_name", s.full_name.trim())
            .map_err(ApiError::internal)?,
        full_name_latin_enc: seal_opt(&cipher, "full_name_latin", s.full_name_latin.as_deref())?,
        date_of_birth_enc: cipher
            .seal_date(TABLE, "date_of_birth", s.date_of_birth)
            .map_err(ApiError::internal)?,
        national_id_enc: seal_opt(&cipher, "national_id", s.national_id.as_deref())?,
        phone_enc: seal_opt(&cipher, "phone", s.phone.as_deref())?,
        address_enc: seal_opt(&cipher, "address", s.address.as_deref())?,
        origin_place_enc: seal_opt(&cipher, "origin_place", input.origin.place.as_deref())?,
        vulnerability_notes_enc: seal_opt(
            &cipher,
            "vulnerability_notes",
            input.vulnerability_notes.as_deref(),
        )?,
        closure_reason_enc: None,
        version: 1,
        created_by: author.to_db(),
        created_at: now,
        updated_at: now,
        closed_at: None,
        id: row_id,
    };
    let index = index_entries(crypto.indexer, &row.id, &city_text, s);
    Ok(SealedCase {
        key,
        row,
        index,
        person,
    })
}

/// Creates a case: a new data key, every sensitive field sealed, blind
/// indexes, a case number. Returns the new case id.
pub fn create(
    conn: &mut AnyConnection,
    crypto: Crypto<'_>,
    author: UserId,
    input: &CreateCase,
) -> Result<CaseId, ApiError> {
    let id = CaseId::new();
    let now = time::now();
    let code = city_code(conn, input.city_id)?;
    let number = reserve_case_numbers(conn, input.city_id, now.year(), 1)?;
    let sealed = seal_new(
        crypto,
        id,
        author,
        input,
        case_number(&code, now.year(), number),
        now,
    )?;
    insert_sealed(conn, std::slice::from_ref(&sealed))?;
    Ok(id)
}

/// Stores sealed cases: data keys, then rows, then blind indexes. On
/// PostgreSQL and SQLite alike each table gets multi-row INSERTs (diesel's
/// MultiConnection cannot batch, so this matches on the backend).
pub fn insert_sealed(conn: &mut AnyConnection, batch: &[SealedCase]) -> Result<(), ApiError> {
    let keys: Vec<&data_keys::NewDataKey> = batch.iter().map(|c| &c.key).collect();
    let rows: Vec<&NewCaseRow> = batch.iter().map(|c| &c.row).collect();
    let index: Vec<&NewIndexEntry> = batch.iter().flat_map(|c| &c.index).collect();
    crate::insert_batches!(conn, crate::db::schema::data_keys::table, keys, 4);
    crate::insert_batches!(conn, cases::table, rows, 28);
    crate::insert_batches!(conn, case_search_index::table, index, 4);
    Ok(())
}

trait TruncMicros {
    fn trunc_micros(self) -> NaiveDateTime;
}

impl TruncMicros for NaiveDateTime {
    fn trunc_micros(self) -> NaiveDateTime {
        use chrono::SubsecRound;
        self.trunc_subsecs(6)
    }
}

pub fn find(conn: &mut AnyConnection, id: CaseId) -> Result<Option<CaseRow>, ApiError> {
    Ok(cases::table
        .find(id.to_db())
        .select(cases::all_columns)
        .first::<CaseRow>(conn)
        .optional()?)
}

/// The rows of these cases, in creation order.
pub fn find_many(conn: &mut AnyConnection, ids: &[String]) -> Result<Vec<CaseRow>, ApiError> {
    Ok(cases::table
        .filter(cases::id.eq_any(ids))
        .select(cases::all_columns)
        .order((cases::created_at.asc(), cases::id.asc()))
        .load(conn)?)
}

/// Opens a text column, mapping erasure to `None`.
fn open_text(
    cipher: &FieldCipher<'_>,
    row: &CaseRow,
    column: &str,
    sealed: &Sealed,
) -> Result<Option<String>, ApiError> {
    match cipher.open_text(TABLE, column, sealed) {
        Ok(Opened::Value(v)) => Ok(Some(v)),
        Ok(Opened::Erased) => Ok(None),
        Err(err) => Err(integrity(err, TABLE, &row.id)),
    }
}

fn open_opt(
    cipher: &FieldCipher<'_>,
    row: &CaseRow,
    column: &str,
    sealed: &Option<Sealed>,
) -> Result<Option<String>, ApiError> {
    match sealed {
        Some(sealed) => open_text(cipher, row, column, sealed),
        None => Ok(None),
    }
}

fn open_dob(cipher: &FieldCipher<'_>, row: &CaseRow) -> Result<Option<NaiveDate>, ApiError> {
    match cipher.open_date(TABLE, "date_of_birth", &row.date_of_birth_enc) {
        Ok(Opened::Value(v)) => Ok(Some(v)),
        Ok(Opened::Erased) => Ok(None),
        Err(err) => Err(integrity(err, TABLE, &row.id)),
    }
}

/// The whole case, decrypted. An erased case is `Gone`.
pub fn view(row: &CaseRow, person: &PersonKeys, today: NaiveDate) -> Result<CaseView, ApiError> {
    if row.status()? == CaseStatus::Erased || person.is_erased() {
        return Err(ApiError::Gone);
    }
    let cipher = person.row(&row.id, &row.city_id);
    let full_name =
        open_text(&cipher, row, "full_name", &row.full_name_enc)?.ok_or(ApiError::Gone)?;
    let date_of_birth = open_dob(&cipher, row)?.ok_or(ApiError::Gone)?;
    Ok(CaseView {
        id: row.case_id()?,
        case_number: row.case_number.clone(),
        version: row.version,
        city_id: row.city()?,
        household_id: parse_opt::<HouseholdId>(row.household_id.as_deref(), "cases.household_id")?,
        status: row.status()?,
        subject: Subject {
            full_name,
            full_name_latin: open_opt(&cipher, row, "full_name_latin", &row.full_name_latin_enc)?,
            sex: Sex::from_db(&row.sex).ok_or_else(|| corrupt("cases.sex"))?,
            date_of_birth,
            age: age_on(date_of_birth, today),
            national_id: open_opt(&cipher, row, "national_id", &row.national_id_enc)?,
            phone: open_opt(&cipher, row, "phone", &row.phone_enc)?,
            address: open_opt(&cipher, row, "address", &row.address_enc)?,
        },
        origin: Origin {
            kind: OriginKind::from_db(&row.origin_kind)
                .ok_or_else(|| corrupt("cases.origin_kind"))?,
            place: open_opt(&cipher, row, "origin_place", &row.origin_place_enc)?,
        },
        return_date: row.return_date,
        vulnerability_flags: flags_from_db(&row.vulnerability_flags)
            .ok_or_else(|| corrupt("cases.vulnerability_flags"))?,
        vulnerability_notes: open_opt(
            &cipher,
            row,
            "vulnerability_notes",
            &row.vulnerability_notes_enc,
        )?,
        consent: Consent {
            share_with_providers: row.consent_share,
            given_by: ConsentGiver::from_db(&row.consent_given_by)
                .ok_or_else(|| corrupt("cases.consent_given_by"))?,
            given_at: time::to_utc(row.consent_given_at),
        },
        assigned_to: parse_opt::<UserId>(row.assigned_to.as_deref(), "cases.assigned_to")?,
        created_at: time::to_utc(row.created_at),
        updated_at: time::to_utc(row.updated_at),
    })
}

/// A list line: only the name and date of birth are opened.
pub fn summary(
    row: &CaseRow,
    person: &PersonKeys,
    today: NaiveDate,
) -> Result<Option<CaseSummary>, ApiError> {
    if row.status()? == CaseStatus::Erased || person.is_erased() {
        return Ok(None);
    }
    let cipher = person.row(&row.id, &row.city_id);
    let (Some(full_name), Some(dob)) = (
        open_text(&cipher, row, "full_name", &row.full_name_enc)?,
        open_dob(&cipher, row)?,
    ) else {
        return Ok(None);
    };
    Ok(Some(CaseSummary {
        id: row.case_id()?,
        case_number: row.case_number.clone(),
        city_id: row.city()?,
        status: row.status()?,
        full_name,
        sex: Sex::from_db(&row.sex).ok_or_else(|| corrupt("cases.sex"))?,
        age: age_on(dob, today),
        household_id: parse_opt::<HouseholdId>(row.household_id.as_deref(), "cases.household_id")?,
        assigned_to: parse_opt::<UserId>(row.assigned_to.as_deref(), "cases.assigned_to")?,
        updated_at: time::to_utc(row.updated_at),
    }))
}

/// Summaries of rows, opening each person's key once.
pub fn summaries(
    conn: &mut AnyConnection,
    keyring: &Keyring,
    rows: &[CaseRow],
    today: NaiveDate,
) -> Result<Vec<CaseSummary>, ApiError> {
    let ids: Vec<&str> = rows.iter().map(|r| r.id.as_str()).collect();
    let mut people = data_keys::load_many(conn, keyring, &ids)?;
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let person = people.remove(&row.id).unwrap_or_else(PersonKeys::erased);
        if let Some(line) = summary(row, &person, today)? {
            out.push(line);
        }
    }
    Ok(out)
}

/// Filters of a case list, already narrowed to the caller's scope.
pub struct ListFilter {
    pub cities: Vec<CityId>,
    pub status: Option<CaseStatus>,
    pub assigned_to: Option<UserId>,
    pub household_id: Option<HouseholdId>,
}

/// A page of cases, newest first, after the cursor `(created_at, id)`.
/// Ordering by creation keeps pages stable while cases are added or edited.
pub fn list(
    conn: &mut AnyConnection,
    filter: &ListFilter,
    after: Option<(NaiveDateTime, String)>,
    limit: i64,
) -> Result<Vec<CaseRow>, ApiError> {
    let cities: Vec<String> = filter.cities.iter().map(CityId::to_db).collect();
    let mut query = cases::table
        .select(cases::all_columns)
        .filter(cases::status.ne(CaseStatus::Erased.as_str()))
        .order((cases::created_at.desc(), cases::id.desc()))
        .limit(limit)
        .into_boxed();
    // One city (the usual page) as `=`: PostgreSQL plans `= ANY(array)`
    // as a bitmap scan of the whole city and a sort, not as a walk of the
    // index in page order.
    query = match cities.as_slice() {
        [one] => query.filter(cases::city_id.eq(one.clone())),
        _ => query.filter(cases::city_id.eq_any(cities)),
    };
    if let Some(status) = filter.status {
        query = query.filter(cases::status.eq(status.as_str()));
    }
    if let Some(user) = filter.assigned_to {
        query = query.filter(cases::assigned_to.eq(user.to_db()));
    }
    if let Some(household) = filter.household_id {
        query = query.filter(cases::household_id.eq(household.to_db()));
    }
    if let Some((at, id)) = after {
        // `created_at <= at` is implied by the rest, but it is what lets
        // either database seek the index (city_id, created_at, id) to the
        // cursor instead of walking every newer case of the city: at a
        // million cases that was most of the time of a page.
        query = query.filter(cases::created_at.le(at)).filter(
            cases::created_at
                .lt(at)
                .or(cases::created_at.eq(at).and(cases::id.lt(id))),
        );
    }
    Ok(query.load(conn)?)
}

/// Applies a PATCH when `expected_version` is still current; otherwise 412.
/// The version check and the write are one conditional UPDATE, so of two
/// concurrent writers with the same version exactly one wins.
pub fn update(
    conn: &mut AnyConnection,
    crypto: Crypto<'_>,
    row: &CaseRow,
    expected_version: i64,
    patch: &UpdateCase,
    today: NaiveDate,
) -> Result<(), ApiError> {
    let person = data_keys::load(conn, crypto.keyring, &row.id)?;
    let current = view(row, &person, today)?;
    let cipher = person.row(&row.id, &row.city_id);
    let subject = patch.subject.clone().unwrap_or_default();
    let merged = SubjectInput {
        full_name: subject.full_name.unwrap_or(current.subject.full_name),
        full_name_latin: subject
            .full_name_latin
            .unwrap_or(current.subject.full_name_latin),
        sex: subject.sex.unwrap_or(current.subject.sex),
        date_of_birth: subject
            .date_of_birth
            .unwrap_or(current.subject.date_of_birth),
        national_id: subject.national_id.unwrap_or(current.subject.national_id),
        phone: subject.phone.unwrap_or(current.subject.phone),
        address: subject.address.unwrap_or(current.subject.address),
    };
    let mut errors = check_subject(&merged, "subject.", today);
    let return_date = patch.return_date.unwrap_or(current.return_date);
    errors.extend(check_return_date(return_date, today));
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let origin = patch.origin.clone();
    let origin_kind = origin.as_ref().map_or(current.origin.kind, |o| o.kind);
    let origin_place = match &origin {
        Some(o) => o.place.clone(),
        None => current.origin.place,
    };
    let flags = patch
        .vulnerability_flags
        .clone()
        .unwrap_or(current.vulnerability_flags);
    let notes = patch
        .vulnerability_notes
        .clone()
        .unwrap_or(current.vulnerability_notes);
    let consent = patch.consent.clone().unwrap_or(current.consent);
    let household = patch.household_id.unwrap_or(current.household_id);
    let assigned = patch.assigned_to.unwrap_or(current.assigned_to);

    let updated = diesel::update(
        cases::table
            .filter(cases::id.eq(&row.id))
            .filter(cases::version.eq(expected_version)),
    )
    .set((
        cases::household_id.eq(household.map(|h| h.to_db())),
        cases::sex.eq(merged.sex.as_str()),
        cases::birth_year.eq(merged.date_of_birth.year()),
        cases::origin_kind.eq(origin_kind.as_str()),
        cases::return_date.eq(return_date),
        cases::vulnerability_flags.eq(flags_to_db(&flags)),
        cases::consent_share.eq(consent.share_with_providers),
        cases::consent_given_by.eq(consent.given_by.as_str()),
        cases::consent_given_at.eq(consent.given_at.naive_utc().trunc_micros()),
        cases::assigned_to.eq(assigned.map(|u| u.to_db())),
        cases::full_name_enc.eq(cipher
            .seal_text(TABLE, "full_name", merged.full_name.trim())
            .map_err(ApiError::internal)?),
        cases::full_name_latin_enc.eq(seal_opt(
            &cipher,
            "full_name_latin",
            merged.full_name_latin.as_deref(),
        )?),
        cases::date_of_birth_enc.eq(cipher
            .seal_date(TABLE, "date_of_birth", merged.date_of_birth)
            .map_err(ApiError::internal)?),
        cases::national_id_enc.eq(seal_opt(
            &cipher,
            "national_id",
            merged.national_id.as_deref(),
        )?),
        cases::phone_enc.eq(seal_opt(&cipher, "phone", merged.phone.as_deref())?),
        cases::address_enc.eq(seal_opt(&cipher, "address", merged.address.as_deref())?),
        cases::origin_place_enc.eq(seal_opt(&cipher, "origin_place", origin_place.as_deref())?),
        cases::vulnerability_notes_enc.eq(seal_opt(
            &cipher,
            "vulnerability_notes",
            notes.as_deref(),
        )?),
        cases::version.eq(expected_version + 1),
        cases::updated_at.eq(time::now()),
    ))
    .execute(conn)?;
    if updated != 1 {
        return Err(ApiError::PreconditionFailed);
    }
    let case = row.case_id()?;
    reindex(conn, crypto.indexer, case, row.city()?, &merged)
}

/// Marks an open case active (its first note or referral).
pub fn mark_active(conn: &mut AnyConnection, id: CaseId) -> Result<(), ApiError> {
    diesel::update(
        cases::table
            .filter(cases::id.eq(id.to_db()))
            .filter(cases::status.eq(CaseStatus::Open.as_str())),
    )
    .set((
        cases::status.eq(CaseStatus::Active.as_str()),
        cases::version.eq(cases::version + 1),
        cases::updated_at.eq(time::now()),
    ))
    .execute(conn)?;
    Ok(())
}

/// Candidate case ids for a search, with their city, from blind indexes.
/// Every given criterion must match, and for a name every token.
pub fn search_candidates(
    conn: &mut AnyConnection,
    indexer: &BlindIndexer,
    national_id: Option<&str>,
    phone: Option<&str>,
    name: Option<&str>,
) -> Result<Vec<(String, String)>, ApiError> {
    use std::collections::{BTreeMap, BTreeSet};

    let mut wanted: Vec<(&str, Vec<String>)> = Vec::new();
    if let Some(v) = national_id {
        wanted.push((
            "national_id",
            indexer
                .national_id(v)
                .map(|b| b.as_hex())
                .into_iter()
                .collect(),
        ));
    }
    if let Some(v) = phone {
        wanted.push((
            "phone",
            indexer.phone(v).map(|b| b.as_hex()).into_iter().collect(),
        ));
    }
    if let Some(v) = name {
        let mut tokens: Vec<String> = indexer.name_tokens(v).iter().map(|b| b.as_hex()).collect();
        tokens.sort();
        tokens.dedup();
        wanted.push(("name", tokens));
    }
    let mut result: Option<BTreeMap<String, String>> = None;
    for (kind, values) in wanted {
        if values.is_empty() {
            return Ok(Vec::new());
        }
        let rows: Vec<(String, String, String)> = case_search_index::table
            .filter(case_search_index::kind.eq(kind))
            .filter(case_search_index::value.eq_any(&values))
            .select((
                case_search_index::case_id,
                case_search_index::value,
                case_search_index::city_id,
            ))
            .load(conn)?;
        let mut per_case: BTreeMap<String, (String, BTreeSet<String>)> = BTreeMap::new();
        for (case, value, city) in rows {
            per_case
                .entry(case)
                .or_insert_with(|| (city, BTreeSet::new()))
                .1
                .insert(value);
        }
        let matched: BTreeMap<String, String> = per_case
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
