//! Erasure: nothing of the person is left to find.
//!
//! In one transaction, with the case locked: their open referrals are
//! cancelled (providers lose them at once); the free text of every referral
//! of theirs, their providers' progress updates, their closure requests,
//! follow-ups and plans, their transfers, their notes and their blind indexes are removed; they leave their household, whose label is erased with its last
//! member or, if it names them, sealed again without their names under a
//! fresh key; their data key is destroyed; and the row keeps only the
//! coarse categories the statistics count (city, sex, birth year, status,
//! origin kind, vulnerability flags, the month of return) — no case number,
//! no links, no sealed field, no exact date about them. Their referrals keep
//! city, kind, state, outcome and creation time, which the statistics count
//! too. What the database engine keeps of the old bytes is `db::erasure`'s.

use std::collections::BTreeSet;

use chrono::{Datelike, NaiveDate, NaiveDateTime, NaiveTime};
use diesel::prelude::*;

use crate::crypto::blind_index::name_tokens;
use crate::crypto::{Keyring, Sealed};
use crate::db::AnyConnection;
use crate::db::schema::{
    case_notes, case_search_index, cases, closure_requests, follow_ups, plan_actions, plan_goals,
    plans, referral_updates, referrals, transfers,
};
use crate::domain::{CaseStatus, ReferralId, UserId, time};
use crate::error::ApiError;
use crate::households::store::{self as households, LabelAfter};

use super::row::{CaseRow, TABLE};
use super::sealing::open;
use super::{data_keys, ending};

/// What an erasure ended besides the person's own record.
#[derive(Debug)]
pub struct Erased {
    pub referrals: Vec<ReferralId>,
    pub household: Option<LabelAfter>,
}

/// Erases the person of `row` (see the module documentation). Runs inside
/// the caller's transaction.
pub fn erase(
    conn: &mut AnyConnection,
    keyring: &Keyring,
    row: &CaseRow,
    by: UserId,
) -> Result<Erased, ApiError> {
    let names = names_of(conn, keyring, row)?;
    let ended = ending::cancel_open_referrals(conn, keyring, row, by, None)?;
    diesel::update(referrals::table.filter(referrals::case_id.eq(row.id)))
        .set((
            referrals::reason_enc.eq(Sealed::from_stored(Vec::new())),
            referrals::outcome_note_enc.eq(None::<Sealed>),
            referrals::decision_reason_enc.eq(None::<Sealed>),
            referrals::due_by.eq(None::<NaiveDate>),
        ))
        .execute(conn)?;
    diesel::delete(referral_updates::table.filter(referral_updates::case_id.eq(row.id)))
        .execute(conn)?;
    diesel::delete(closure_requests::table.filter(closure_requests::case_id.eq(row.id)))
        .execute(conn)?;
    diesel::delete(follow_ups::table.filter(follow_ups::case_id.eq(row.id))).execute(conn)?;
    diesel::delete(plan_actions::table.filter(plan_actions::case_id.eq(row.id))).execute(conn)?;
    diesel::delete(plan_goals::table.filter(plan_goals::case_id.eq(row.id))).execute(conn)?;
    // Newest version first: each may name the one it revised.
    let versions: Vec<crate::domain::PlanId> = plans::table
        .filter(plans::case_id.eq(row.id))
        .order(plans::version.desc())
        .select(plans::id)
        .load(conn)?;
    for version in versions {
        diesel::delete(plans::table.find(version)).execute(conn)?;
    }
    diesel::delete(transfers::table.filter(transfers::case_id.eq(row.id))).execute(conn)?;
    diesel::delete(case_notes::table.filter(case_notes::case_id.eq(row.id))).execute(conn)?;
    diesel::delete(case_search_index::table.filter(case_search_index::case_id.eq(row.id)))
        .execute(conn)?;
    let household = match row.household_id {
        Some(household) => Some(households::forget_member(
            conn, keyring, household, row.id, &names,
        )?),
        None => None,
    };
    data_keys::erase(conn, row.id)?;
    let now = time::now();
    diesel::update(cases::table.find(row.id))
        .set((
            cases::status.eq(CaseStatus::Erased),
            cases::erased_at.eq(Some(now)),
            cases::case_number.eq(row.id.to_db()),
            cases::household_id.eq(None::<crate::domain::HouseholdId>),
            cases::assigned_to.eq(None::<UserId>),
            cases::return_date.eq(first_of_month(row.return_date)),
            cases::consent_share.eq(false),
            cases::consent_given_at.eq(month_of(row.consent_given_at)),
            cases::created_at.eq(month_of(row.created_at)),
            cases::closed_at.eq(None::<NaiveDateTime>),
            cases::full_name_enc.eq(Sealed::from_stored(Vec::new())),
            cases::date_of_birth_enc.eq(Sealed::from_stored(Vec::new())),
            cleared(),
            cases::version.eq(cases::version + 1),
            cases::updated_at.eq(now),
        ))
        .execute(conn)?;
    Ok(Erased {
        referrals: ended,
        household,
    })
}

/// The optional sealed columns, emptied.
#[allow(clippy::type_complexity)]
fn cleared() -> (
    diesel::dsl::Eq<cases::full_name_latin_enc, Option<Sealed>>,
    diesel::dsl::Eq<cases::national_id_enc, Option<Sealed>>,
    diesel::dsl::Eq<cases::phone_enc, Option<Sealed>>,
    diesel::dsl::Eq<cases::address_enc, Option<Sealed>>,
    diesel::dsl::Eq<cases::origin_place_enc, Option<Sealed>>,
    diesel::dsl::Eq<cases::vulnerability_notes_enc, Option<Sealed>>,
    diesel::dsl::Eq<cases::closure_reason_enc, Option<Sealed>>,
) {
    (
        cases::full_name_latin_enc.eq(None),
        cases::national_id_enc.eq(None),
        cases::phone_enc.eq(None),
        cases::address_enc.eq(None),
        cases::origin_place_enc.eq(None),
        cases::vulnerability_notes_enc.eq(None),
        cases::closure_reason_enc.eq(None),
    )
}

/// The normalised tokens of the person's names, read while their key still
/// exists: a household label holding one of them names the person.
fn names_of(
    conn: &mut AnyConnection,
    keyring: &Keyring,
    row: &CaseRow,
) -> Result<BTreeSet<String>, ApiError> {
    let person = data_keys::load(conn, keyring, row.id)?;
    let cipher = person.row(row.id, row.city_id);
    let mut names = BTreeSet::new();
    let full = open(&cipher, TABLE, "full_name", &row.full_name_enc, row.id)?;
    let latin = match &row.full_name_latin_enc {
        Some(sealed) => open(&cipher, TABLE, "full_name_latin", sealed, row.id)?,
        None => None,
    };
    for name in full.iter().chain(latin.iter()) {
        names.extend(name_tokens(name));
    }
    Ok(names)
}

fn first_of_month(day: NaiveDate) -> NaiveDate {
    day.with_day(1).unwrap_or(day)
}

fn month_of(at: NaiveDateTime) -> NaiveDateTime {
    first_of_month(at.date()).and_time(NaiveTime::MIN)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_keep_their_month_only() {
        let day = NaiveDate::from_ymd_opt(2026, 3, 17).unwrap();
        assert_eq!(
            first_of_month(day),
            NaiveDate::from_ymd_opt(2026, 3, 1).unwrap()
        );
        let at = day.and_hms_opt(9, 30, 5).unwrap();
        assert_eq!(
            month_of(at),
            NaiveDate::from_ymd_opt(2026, 3, 1)
                .unwrap()
                .and_time(NaiveTime::MIN)
        );
    }
}
