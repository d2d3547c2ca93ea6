//! Queries on `referrals`: sealed on the way in, opened on the way out. The
//! reason, outcome note and decision reason are sealed with the case's data
//! key, bound to the referral's id and city.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use crate::cases::data_keys;
use crate::cases::model::age_on;
use crate::cases::store::{self as cases, CaseRow};
use crate::crypto::{Keyring, Opened, PersonKeys, Sealed};
use crate::db::AnyConnection;
use crate::db::schema::{organisations, referrals};
use crate::domain::{CityId, OrganisationId, OrganisationKind, Sex, UserId, time};
use crate::error::{ApiError, FieldError};

use crate::domain::referral::{Outcome, needs_from_db, needs_to_db, next};
use crate::domain::{ReferralState, Transition};

use super::model::{CreateReferral, ProviderReferral, Referral, ReferralRow, ReferredPerson};

pub const TABLE: &str = "referrals";

pub fn find(conn: &mut AnyConnection, id: &str) -> Result<Option<ReferralRow>, ApiError> {
    Ok(referrals::table
        .find(id)
        .select(referrals::all_columns)
        .first(conn)
        .optional()?)
}

pub fn state(row: &ReferralRow) -> Result<ReferralState, ApiError> {
    ReferralState::from_db(&row.state).ok_or_else(|| cases::corrupt("referrals.state"))
}

pub fn city(row: &ReferralRow) -> Result<CityId, ApiError> {
    CityId::from_db(&row.city_id).map_err(|_| cases::corrupt("referrals.city_id"))
}

pub fn organisation(row: &ReferralRow) -> Result<OrganisationId, ApiError> {
    OrganisationId::from_db(&row.organisation_id)
        .map_err(|_| cases::corrupt("referrals.organisation_id"))
}

pub fn kind(row: &ReferralRow) -> Result<OrganisationKind, ApiError> {
    row.kind
        .parse()
        .map_err(|_| cases::corrupt("referrals.kind"))
}

/// Refers `case` to an organisation. The organisation must exist, be active
/// and be of the referral's kind (422 naming the field); the person must
/// have consented to sharing with providers (409). Returns the new id.
pub fn create(
    conn: &mut AnyConnection,
    keyring: &Keyring,
    case: &CaseRow,
    input: &CreateReferral,
    by: UserId,
    today: NaiveDate,
) -> Result<String, ApiError> {
    let mut errors = Vec::new();
    if input.reason.trim().is_empty() {
        errors.push(FieldError::new("reason", "must not be blank"));
    }
    let org: Option<(String, bool)> = organisations::table
        .find(input.organisation_id.to_db())
        .select((organisations::kind, organisations::active))
        .first(conn)
        .optional()?;
    match org {
        None | Some((_, false)) => errors.push(FieldError::new(
            "organisation_id",
            "is not an active organisation",
        )),
        Some((kind, true)) if kind != input.kind.as_str() => errors.push(FieldError::new(
            "organisation_id",
            "is not an organisation of this kind",
        )),
        Some(_) => {}
    }
    if input.due_by.is_some_and(|due| due < today) {
        errors.push(FieldError::new("due_by", "must not be in the past"));
    }
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    if !case.consent_share {
        return Err(ApiError::Conflict(
            "The person has not consented to sharing with providers.".into(),
        ));
    }
    if case.status()? == crate::domain::CaseStatus::Closed {
        return Err(ApiError::Conflict(
            "The case is closed; reopen it before referring.".into(),
        ));
    }
    let person = data_keys::load(conn, keyring, &case.id)?;
    if person.is_erased() {
        return Err(ApiError::Gone);
    }
    let row = seal_new(&person, &case.id, &case.city_id, input, by, time::now())?;
    diesel::insert_into(referrals::table)
        .values(&row)
        .execute(conn)?;
    let id = row.id;
    cases::mark_active(conn, case.case_id()?)?;
    Ok(id)
}

/// A new row of `referrals`.
#[derive(Debug, diesel::Insertable)]
#[diesel(table_name = referrals, treat_none_as_default_value = false)]
pub struct NewReferralRow {
    pub id: String,
    pub case_id: String,
    pub city_id: String,
    pub organisation_id: String,
    pub kind: &'static str,
    pub state: &'static str,
    pub reason_enc: Sealed,
    pub needs: String,
    pub due_by: Option<NaiveDate>,
    pub outcome: Option<&'static str>,
    pub outcome_note_enc: Option<Sealed>,
    pub decision_reason_enc: Option<Sealed>,
    pub created_by: String,
    pub created_at: NaiveDateTime,
    pub accepted_at: Option<NaiveDateTime>,
    pub started_at: Option<NaiveDateTime>,
    pub completed_at: Option<NaiveDateTime>,
    pub declined_at: Option<NaiveDateTime>,
    pub cancelled_at: Option<NaiveDateTime>,
    pub updated_by: String,
    pub updated_at: NaiveDateTime,
    pub version: i64,
}

/// Seals one of a referral's text fields with the person's key, bound to
/// the referral's id and city.
pub fn seal(
    person: &PersonKeys,
    referral_id: &str,
    city_id: &str,
    column: &str,
    value: &str,
) -> Result<Sealed, ApiError> {
    person
        .row(referral_id, city_id)
        .seal_text(TABLE, column, value.trim())
        .map_err(ApiError::internal)
}

/// A new pending referral of `case`, its reason sealed with the person's
/// key; nothing is stored.
pub fn seal_new(
    person: &PersonKeys,
    case_id: &str,
    city_id: &str,
    input: &CreateReferral,
    by: UserId,
    now: NaiveDateTime,
) -> Result<NewReferralRow, ApiError> {
    let id = uuid::Uuid::new_v4().to_string();
    let reason_enc = seal(person, &id, city_id, "reason", &input.reason)?;
    Ok(NewReferralRow {
        case_id: case_id.to_string(),
        city_id: city_id.to_string(),
        organisation_id: input.organisation_id.to_db(),
        kind: input.kind.as_str(),
        state: ReferralState::Pending.as_str(),
        reason_enc,
        needs: needs_to_db(&input.needs),
        due_by: input.due_by,
        outcome: None,
        outcome_note_enc: None,
        decision_reason_enc: None,
        created_by: by.to_db(),
        created_at: now,
        accepted_at: None,
        started_at: None,
        completed_at: None,
        declined_at: None,
        cancelled_at: None,
        updated_by: by.to_db(),
        updated_at: now,
        version: 1,
        id,
    })
}

/// Stores referrals in multi-row INSERTs (`sanad demo seed`).
pub fn insert_many(conn: &mut AnyConnection, rows: &[NewReferralRow]) -> Result<(), ApiError> {
    let rows: Vec<&NewReferralRow> = rows.iter().collect();
    crate::insert_batches!(conn, referrals::table, rows, 22);
    Ok(())
}

/// What a list may return: the scope (cities or one organisation's open
/// referrals) and the caller's filters.
pub struct ListFilter {
    pub cities: Option<Vec<CityId>>,
    pub organisation: Option<OrganisationId>,
    pub open_only: bool,
    pub state: Option<ReferralState>,
    pub kind: Option<OrganisationKind>,
    pub organisation_id: Option<OrganisationId>,
    /// Open referrals due before this day.
    pub overdue_before: Option<NaiveDate>,
    /// Pending first, then oldest first (a provider's inbox); otherwise
    /// newest first.
    pub inbox_order: bool,
}

pub fn list(conn: &mut AnyConnection, filter: &ListFilter) -> Result<Vec<ReferralRow>, ApiError> {
    let open: Vec<&str> = ReferralState::OPEN.iter().map(|s| s.as_str()).collect();
    let mut query = referrals::table
        .select(referrals::all_columns)
        .limit(500)
        .into_boxed();
    query = if filter.inbox_order {
        query.order((
            referrals::state.ne(ReferralState::Pending.as_str()),
            referrals::created_at.asc(),
            referrals::id.asc(),
        ))
    } else {
        query.order((referrals::created_at.desc(), referrals::id.desc()))
    };
    if let Some(cities) = &filter.cities {
        let ids: Vec<String> = cities.iter().map(CityId::to_db).collect();
        query = query.filter(referrals::city_id.eq_any(ids));
    }
    if let Some(org) = filter.organisation {
        query = query.filter(referrals::organisation_id.eq(org.to_db()));
    }
    if filter.open_only || filter.overdue_before.is_some() {
        query = query.filter(referrals::state.eq_any(open));
    }
    if let Some(state) = filter.state {
        query = query.filter(referrals::state.eq(state.as_str()));
    }
    if let Some(kind) = filter.kind {
        query = query.filter(referrals::kind.eq(kind.as_str()));
    }
    if let Some(org) = filter.organisation_id {
        query = query.filter(referrals::organisation_id.eq(org.to_db()));
    }
    if let Some(day) = filter.overdue_before {
        query = query.filter(referrals::due_by.lt(day));
    }
    Ok(query.load(conn)?)
}

fn open_opt(
    person: &PersonKeys,
    row: &ReferralRow,
    column: &str,
    sealed: Option<&Sealed>,
) -> Result<Option<String>, ApiError> {
    let Some(sealed) = sealed else {
        return Ok(None);
    };
    match person
        .row(&row.id, &row.city_id)
        .open_text(TABLE, column, sealed)
    {
        Ok(Opened::Value(v)) => Ok(Some(v)),
        Ok(Opened::Erased) => Ok(None),
        Err(err) => Err(cases::integrity(err, TABLE, &row.id)),
    }
}

/// The whole referral, decrypted (the referring city's view). An erased
/// person's sealed fields are `null`.
pub fn view(
    conn: &mut AnyConnection,
    keyring: &Keyring,
    row: &ReferralRow,
) -> Result<Referral, ApiError> {
    let person = data_keys::load(conn, keyring, &row.case_id)?;
    Ok(Referral {
        id: row.id.clone(),
        case_id: row.case_id.clone(),
        city_id: row.city_id.clone(),
        organisation_id: row.organisation_id.clone(),
        kind: kind(row)?,
        state: state(row)?,
        reason: open_opt(&person, row, "reason", Some(&row.reason_enc))?,
        needs: needs_from_db(&row.needs).ok_or_else(|| cases::corrupt("referrals.needs"))?,
        due_by: row.due_by,
        outcome: row
            .outcome
            .as_deref()
            .map(|o| Outcome::from_db(o).ok_or_else(|| cases::corrupt("referrals.outcome")))
            .transpose()?,
        outcome_note: open_opt(&person, row, "outcome_note", row.outcome_note_enc.as_ref())?,
        decision_reason: open_opt(
            &person,
            row,
            "decision_reason",
            row.decision_reason_enc.as_ref(),
        )?,
        created_by: row.created_by.clone(),
        created_at: time::to_utc(row.created_at),
        accepted_at: row.accepted_at.map(time::to_utc),
        started_at: row.started_at.map(time::to_utc),
        completed_at: row.completed_at.map(time::to_utc),
        declined_at: row.declined_at.map(time::to_utc),
        cancelled_at: row.cancelled_at.map(time::to_utc),
        updated_by: row.updated_by.clone(),
        updated_at: time::to_utc(row.updated_at),
        version: row.version,
    })
}

/// The minimal view for the provider: the given name, sex, age, and the
/// phone only when the person consented to sharing with providers.
pub fn provider_view(
    conn: &mut AnyConnection,
    keyring: &Keyring,
    row: &ReferralRow,
    today: NaiveDate,
) -> Result<ProviderReferral, ApiError> {
    let case_id = crate::domain::CaseId::from_db(&row.case_id)
        .map_err(|_| cases::corrupt("referrals.case_id"))?;
    let case = cases::find(conn, case_id)?.ok_or_else(|| cases::corrupt("referrals.case_id"))?;
    let person = data_keys::load(conn, keyring, &case.id)?;
    let cipher = person.row(&case.id, &case.city_id);
    let open = |column: &str, sealed: &Sealed| match cipher.open_text(cases::TABLE, column, sealed)
    {
        Ok(Opened::Value(v)) => Ok(Some(v)),
        Ok(Opened::Erased) => Ok(None),
        Err(err) => Err(cases::integrity(err, cases::TABLE, &case.id)),
    };
    let given_name = open("full_name", &case.full_name_enc)?
        .and_then(|name| name.split_whitespace().next().map(str::to_string));
    let phone = match (&case.phone_enc, case.consent_share) {
        (Some(sealed), true) => open("phone", sealed)?,
        _ => None,
    };
    let age = match cipher.open_date(cases::TABLE, "date_of_birth", &case.date_of_birth_enc) {
        Ok(Opened::Value(dob)) => Some(age_on(dob, today)),
        Ok(Opened::Erased) => None,
        Err(err) => return Err(cases::integrity(err, cases::TABLE, &case.id)),
    };
    Ok(ProviderReferral {
        id: row.id.clone(),
        kind: kind(row)?,
        state: state(row)?,
        reason: open_opt(&person, row, "reason", Some(&row.reason_enc))?,
        needs: needs_from_db(&row.needs).ok_or_else(|| cases::corrupt("referrals.needs"))?,
        due_by: row.due_by,
        person: ReferredPerson {
            given_name,
            sex: Sex::from_db(&case.sex).ok_or_else(|| cases::corrupt("cases.sex"))?,
            age,
            phone,
        },
    })
}

/// What a transition carries besides the new state.
#[derive(Default)]
pub struct TransitionInput<'a> {
    /// Why it is declined or cancelled.
    pub reason: Option<&'a str>,
    pub outcome: Option<Outcome>,
    pub note: Option<&'a str>,
}

/// Moves a referral along the state machine. The update is conditional on
/// the state read, so of two concurrent transitions exactly one wins; the
/// other, like any transition the machine does not allow, is a 409.
pub fn transition(
    conn: &mut AnyConnection,
    keyring: &Keyring,
    row: &ReferralRow,
    transition: Transition,
    by: UserId,
    input: &TransitionInput<'_>,
) -> Result<ReferralState, ApiError> {
    let from = state(row)?;
    let conflict = || {
        ApiError::Conflict(format!(
            "The referral is {}: it cannot {} now.",
            from.as_str(),
            transition.as_str()
        ))
    };
    let to = next(from, transition).ok_or_else(conflict)?;
    let person = data_keys::load(conn, keyring, &row.case_id)?;
    let seal = |column: &str, value: Option<&str>| -> Result<Option<Sealed>, ApiError> {
        match value.map(str::trim).filter(|v| !v.is_empty()) {
            Some(value) if !person.is_erased() => {
                seal(&person, &row.id, &row.city_id, column, value).map(Some)
            }
            _ => Ok(None),
        }
    };
    let now = time::now();
    let target = referrals::table
        .filter(referrals::id.eq(&row.id))
        .filter(referrals::state.eq(from.as_str()));
    let common = (
        referrals::state.eq(to.as_str()),
        referrals::updated_by.eq(by.to_db()),
        referrals::updated_at.eq(now),
        referrals::version.eq(referrals::version + 1),
    );
    let updated = match transition {
        Transition::Accept => diesel::update(target)
            .set((common, referrals::accepted_at.eq(Some(now))))
            .execute(conn)?,
        Transition::Start => diesel::update(target)
            .set((common, referrals::started_at.eq(Some(now))))
            .execute(conn)?,
        Transition::Complete => diesel::update(target)
            .set((
                common,
                referrals::completed_at.eq(Some(now)),
                referrals::outcome.eq(input.outcome.map(Outcome::as_str)),
                referrals::outcome_note_enc.eq(seal("outcome_note", input.note)?),
            ))
            .execute(conn)?,
        Transition::Decline => diesel::update(target)
            .set((
                common,
                referrals::declined_at.eq(Some(now)),
                referrals::decision_reason_enc.eq(seal("decision_reason", input.reason)?),
            ))
            .execute(conn)?,
        Transition::Cancel => diesel::update(target)
            .set((
                common,
                referrals::cancelled_at.eq(Some(now)),
                referrals::decision_reason_enc.eq(seal("decision_reason", input.reason)?),
            ))
            .execute(conn)?,
    };
    if updated == 1 {
        Ok(to)
    } else {
        Err(conflict())
    }
}

/// Moves a case's referrals to another city with the case: every sealed
/// field is opened under the old city and sealed under the new one, and the
/// city follows (so the receiving city reaches them, the sending city no
/// longer does). Runs inside the caller's transaction.
pub fn move_to_city(
    conn: &mut AnyConnection,
    keyring: &Keyring,
    case: &CaseRow,
    city: CityId,
) -> Result<usize, ApiError> {
    let rows: Vec<ReferralRow> = referrals::table
        .filter(referrals::case_id.eq(&case.id))
        .select(referrals::all_columns)
        .load(conn)?;
    if rows.is_empty() {
        return Ok(0);
    }
    let person = data_keys::load(conn, keyring, &case.id)?;
    if person.is_erased() {
        return Err(ApiError::Gone);
    }
    let new_city = city.to_db();
    for row in &rows {
        let from = person.row(&row.id, &row.city_id);
        let to = person.row(&row.id, &new_city);
        let reseal = |column: &str, sealed: &Sealed| {
            crate::cases::lifecycle::reseal_text(&from, &to, TABLE, column, sealed, &row.id)
        };
        let reason = reseal("reason", &row.reason_enc)?;
        let note = row
            .outcome_note_enc
            .as_ref()
            .map(|s| reseal("outcome_note", s))
            .transpose()?;
        let decision = row
            .decision_reason_enc
            .as_ref()
            .map(|s| reseal("decision_reason", s))
            .transpose()?;
        diesel::update(referrals::table.find(&row.id))
            .set((
                referrals::city_id.eq(&new_city),
                referrals::reason_enc.eq(reason),
                referrals::outcome_note_enc.eq(note),
                referrals::decision_reason_enc.eq(decision),
                referrals::version.eq(referrals::version + 1),
                referrals::updated_at.eq(time::now()),
            ))
            .execute(conn)?;
    }
    Ok(rows.len())
}
