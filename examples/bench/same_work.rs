//! The "same work in SQL" baseline: for each operation, the statements the
//! database cannot be spared, whoever sends them — the caller's account
//! re-read (so that a disabled account stops at once), the rows the answer
//! shows, the rows the change writes, the audit event and the people it
//! names, and the commit — sent directly over one diesel connection per
//! client, in one transaction per operation. Nothing the API adds of its
//! own is here: no HTTP, no JSON, no token, no decryption, no row locks
//! taken only to serialise, no pool checks, no sequencer.
//!
//! The audit rows are the API's own (`audit::append_with`, the same MAC
//! over the same fields), so the event table's indexes and triggers cost
//! here what they cost the API.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use uuid::Uuid;

use sanad::audit::{self, Entity, NewEvent, Outcome, SubjectKind};
use sanad::auth::Principal;
use sanad::crypto::{AuditKeys, BlindIndex};
use sanad::db::schema::{case_search_index, cases, data_keys, referrals};
use sanad::db::{AnyConnection, write_transaction};
use sanad::domain::{CityId, UserId};
use sanad::error::ApiError;
use sanad::web::telemetry::RequestId;

/// Who does the work, and the audit keys to seal its events with.
pub struct Actors {
    pub worker: UserId,
    pub ministry: UserId,
    /// Provider staff of the psychosocial, education and vocational
    /// organisations.
    pub providers: [UserId; 3],
    pub keys: AuditKeys,
}

/// The account re-read at every request, as the API re-reads it.
pub fn caller(conn: &mut AnyConnection, id: UserId) -> Result<Principal, ApiError> {
    sanad::users::store::load_principal(conn, id)?.ok_or(ApiError::Unauthorized)
}

/// An event by `who`, as the API writes it.
pub fn event(who: &Principal, action: audit::Action) -> NewEvent {
    NewEvent::new(action, Outcome::Success)
        .actor(who.user_id.as_uuid(), who.role.as_str())
        .request(&RequestId(Uuid::new_v4().simple().to_string()))
}

fn append(conn: &mut AnyConnection, a: &Actors, event: &NewEvent) -> Result<(), ApiError> {
    audit::append_with(conn, &a.keys, event)
}

fn uuid(text: &str) -> Uuid {
    Uuid::parse_str(text).unwrap_or_default()
}

/// Read one case: the account, the case row, its data key, the event.
pub fn read(conn: &mut AnyConnection, a: &Actors, city: CityId, id: &str) -> bool {
    write_transaction(conn, |conn| {
        let who = caller(conn, a.worker)?;
        let rows = rows_and_keys(conn, std::slice::from_ref(&id.to_string()))?;
        let event = event(&who, audit::Action::CaseRead)
            .entity(Entity::Case, uuid(id))
            .city(city.as_uuid());
        append(conn, a, &event)?;
        Ok(rows)
    })
    .is_ok_and(|n| n == 1)
}

/// Search by national ID: the account, the matching cases of the city
/// (through the blind index), how many match elsewhere, their data keys,
/// the event naming them and the term's blind index.
pub fn search(conn: &mut AnyConnection, a: &Actors, city: CityId, index: &BlindIndex) -> bool {
    let city_db = city.to_db();
    let value = index.as_hex();
    write_transaction(conn, |conn| {
        let who = caller(conn, a.worker)?;
        let matching = || {
            case_search_index::table
                .filter(case_search_index::kind.eq("national_id"))
                .filter(case_search_index::value.eq(value.clone()))
                .select(case_search_index::case_id)
        };
        let ids: Vec<String> = cases::table
            .filter(cases::id.eq_any(matching()))
            .filter(cases::city_id.eq(&city_db))
            .select(cases::id)
            .load(conn)?;
        let _elsewhere: i64 = cases::table
            .filter(cases::id.eq_any(matching()))
            .filter(cases::city_id.ne(&city_db))
            .count()
            .get_result(conn)?;
        let found = rows_and_keys(conn, &ids)?;
        let event = event(&who, audit::Action::CaseSearch)
            .showing(ids.iter().map(|id| uuid(id)))
            .term(SubjectKind::NationalId, index);
        append(conn, a, &event)?;
        Ok(found)
    })
    .is_ok_and(|n| n > 0)
}

/// A page of 50: the account, 51 rows after a keyset cursor, 50 data keys,
/// the event naming the 50.
pub fn list(
    conn: &mut AnyConnection,
    a: &Actors,
    city: CityId,
    at: &NaiveDateTime,
    after: &str,
) -> bool {
    let city_db = city.to_db();
    write_transaction(conn, |conn| {
        let who = caller(conn, a.worker)?;
        let rows: Vec<sanad::cases::row::CaseRow> = cases::table
            .filter(cases::city_id.eq(&city_db))
            .filter(cases::status.ne("erased"))
            .filter(cases::created_at.le(at))
            .filter(
                cases::created_at
                    .lt(at)
                    .or(cases::created_at.eq(at).and(cases::id.lt(after))),
            )
            .order((cases::created_at.desc(), cases::id.desc()))
            .limit(51)
            .select(cases::all_columns)
            .load(conn)?;
        let ids: Vec<Uuid> = rows.iter().take(50).map(|r| r.id.as_uuid()).collect();
        let keys: Vec<String> = ids.iter().map(|id| id.hyphenated().to_string()).collect();
        let _keys: Vec<(String, Option<Vec<u8>>)> = data_keys::table
            .filter(data_keys::subject_id.eq_any(&keys))
            .select((data_keys::subject_id, data_keys::wrapped_key))
            .load(conn)?;
        let event = event(&who, audit::Action::CaseList)
            .showing(ids.iter().copied())
            .detail(format!("{} cases", ids.len()));
        append(conn, a, &event)?;
        Ok(())
    })
    .is_ok()
}

/// Open a case: the account, the case number (`reserve`), then in one
/// transaction the data key, the case row and its ten blind-index rows and
/// the event (rows the size of the sealed fields, built by the caller).
pub fn create(
    conn: &mut AnyConnection,
    a: &Actors,
    city: CityId,
    insert: impl FnOnce(&mut AnyConnection, &str, i64) -> Result<(), ApiError>,
) -> bool {
    let id = Uuid::new_v4();
    let Ok(who) = caller(conn, a.worker) else {
        return false;
    };
    let Ok(number) = reserve(conn, city) else {
        return false;
    };
    write_transaction(conn, |conn| {
        insert(conn, &id.hyphenated().to_string(), number)?;
        let event = event(&who, audit::Action::CaseCreate)
            .entity(Entity::Case, id)
            .city(city.as_uuid());
        append(conn, a, &event)
    })
    .is_ok()
}

/// A case number, as a create takes it: its counter's update in a short
/// transaction of its own (`db::counter_transaction`).
pub fn reserve(conn: &mut AnyConnection, city: CityId) -> Result<i64, ApiError> {
    sanad::db::counter_transaction(conn, |conn| {
        sanad::cases::store::reserve_case_numbers(conn, city, 2099, 1)
    })
}

/// A referral step: the account, the referral row, the conditional UPDATE
/// of its state (`step`), the event; on completion, the referral check
/// scheduled for the worker, as the API schedules it.
pub fn transition(
    conn: &mut AnyConnection,
    a: &Actors,
    provider: usize,
    id: &str,
    (from, to): (&str, &str),
) -> bool {
    let Ok(referral) = id.parse::<sanad::domain::ReferralId>() else {
        return false;
    };
    write_transaction(conn, |conn| {
        let who = caller(conn, a.providers[provider])?;
        let row = sanad::referrals::store::find(conn, referral)?.ok_or(ApiError::NotFound)?;
        let updated = step(conn, id, from, to)?;
        if to == "completed" {
            let case = sanad::cases::row::find(conn, row.case_id)?.ok_or(ApiError::NotFound)?;
            sanad::follow_ups::store::schedule_referral_check(
                conn,
                &case,
                row.id,
                row.created_by,
                14,
            )?;
        }
        let event = event(&who, audit::Action::ReferralTransition)
            .entity(Entity::Referral, uuid(id))
            .city(row.city_id.as_uuid())
            .detail(format!("{from} -> {to}"));
        append(conn, a, &event)?;
        Ok(updated)
    })
    .is_ok_and(|n| n == 1)
}

/// The conditional UPDATE of a referral's state, with the columns the API
/// sets at that step.
pub fn step(conn: &mut AnyConnection, id: &str, from: &str, to: &str) -> Result<usize, ApiError> {
    let now = chrono::Utc::now().naive_utc();
    let target = referrals::table
        .filter(referrals::id.eq(id))
        .filter(referrals::state.eq(from));
    let common = (
        referrals::state.eq(to),
        referrals::updated_at.eq(now),
        referrals::version.eq(referrals::version + 1),
    );
    Ok(match to {
        "accepted" => diesel::update(target)
            .set((common, referrals::accepted_at.eq(Some(now))))
            .execute(conn)?,
        "in_progress" => diesel::update(target)
            .set((common, referrals::started_at.eq(Some(now))))
            .execute(conn)?,
        _ => diesel::update(target)
            .set((
                common,
                referrals::completed_at.eq(Some(now)),
                referrals::outcome.eq(Some("completed_successfully")),
            ))
            .execute(conn)?,
    })
}

/// A ministry figure: the account, the stored cells, the event.
pub fn stats(conn: &mut AnyConnection, a: &Actors) -> bool {
    use sanad::stats::answer::{Query, from_release};
    use sanad::stats::design::{Dimension, Subject};
    let Ok(who) = caller(conn, a.ministry) else {
        return false;
    };
    let answer = from_release(
        conn,
        &Query {
            subject: Subject::Cases,
            dims: vec![Dimension::Governorate, Dimension::Sex, Dimension::AgeBand],
            period: sanad::domain::Period::parse("2025"),
            release: None,
        },
    );
    let Ok(answer) = answer else {
        return false;
    };
    let event = event(&who, audit::Action::StatsExport)
        .entity(Entity::Stats, Uuid::nil())
        .detail(format!("{} cells", answer.figures.len()));
    write_transaction(conn, |conn| append(conn, a, &event)).is_ok()
}

/// Case rows and their data keys, as a read does: how many cases.
pub fn rows_and_keys(conn: &mut AnyConnection, ids: &[String]) -> QueryResult<usize> {
    let rows: Vec<sanad::cases::row::CaseRow> = cases::table
        .filter(cases::id.eq_any(ids))
        .select(cases::all_columns)
        .load(conn)?;
    let _keys: Vec<(String, Option<Vec<u8>>)> = data_keys::table
        .filter(data_keys::subject_id.eq_any(ids))
        .select((data_keys::subject_id, data_keys::wrapped_key))
        .load(conn)?;
    Ok(rows.len())
}
