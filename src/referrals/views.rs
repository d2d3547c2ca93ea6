//! A referral as each reader may see it: whole for the referring city; the
//! minimal view of the person for the provider while the referral is open,
//! and no more than its state after. A page of them is opened with one
//! query for the people's data keys (and, for a provider, one for their
//! cases), however long the page.

use std::collections::HashMap;

use chrono::NaiveDate;

use crate::auth::Principal;
use crate::auth::policy::{self, Action, Scope};
use crate::cases::data_keys;
use crate::cases::model::age_on;
use crate::cases::row::{self as cases, CaseRow, TABLE as CASES};
use crate::cases::sealing::{self, integrity, open_opt};
use crate::crypto::{Keyring, Opened, PersonKeys};
use crate::db::AnyConnection;
use crate::domain::{CaseId, SubjectId, time};
use crate::error::ApiError;

use super::model::{
    ClosedReferral, ProviderReferral, Referral, ReferralRow, ReferralView, ReferredPerson,
};
use super::store::TABLE;

/// The whole referral, decrypted (the referring city's view). An erased
/// person's sealed fields are `null`.
pub fn view(
    conn: &mut AnyConnection,
    keyring: &Keyring,
    row: &ReferralRow,
) -> Result<Referral, ApiError> {
    let person = data_keys::load(conn, keyring, row.case_id)?;
    full(row, &person)
}

fn full(row: &ReferralRow, person: &PersonKeys) -> Result<Referral, ApiError> {
    let cipher = person.row(row.id, row.city_id);
    let open = |column, sealed| open_opt(&cipher, TABLE, column, sealed, row.id);
    Ok(Referral {
        id: row.id,
        case_id: row.case_id,
        city_id: row.city_id,
        organisation_id: row.organisation_id,
        kind: row.kind,
        state: row.state,
        reason: open("reason", Some(&row.reason_enc))?,
        needs: row.needs.as_slice().to_vec(),
        due_by: row.due_by,
        outcome: row.outcome,
        outcome_note: open("outcome_note", row.outcome_note_enc.as_ref())?,
        decision_reason: open("decision_reason", row.decision_reason_enc.as_ref())?,
        created_by: row.created_by,
        created_at: time::to_utc(row.created_at),
        accepted_at: row.accepted_at.map(time::to_utc),
        started_at: row.started_at.map(time::to_utc),
        completed_at: row.completed_at.map(time::to_utc),
        declined_at: row.declined_at.map(time::to_utc),
        cancelled_at: row.cancelled_at.map(time::to_utc),
        updated_by: row.updated_by,
        updated_at: time::to_utc(row.updated_at),
        version: row.version,
    })
}

fn missing_case() -> ApiError {
    ApiError::internal(anyhow::anyhow!("corrupt row: a referral's case is missing"))
}

/// The minimal view for the provider: the given name, sex, age, and the
/// phone only when the person consented to sharing with providers.
fn minimal(
    row: &ReferralRow,
    case: &CaseRow,
    person: &PersonKeys,
    today: NaiveDate,
) -> Result<ProviderReferral, ApiError> {
    let cipher = person.row(case.id, case.city_id);
    let open = |column, sealed| sealing::open(&cipher, CASES, column, sealed, case.id);
    let given_name = open("full_name", &case.full_name_enc)?
        .and_then(|name| name.split_whitespace().next().map(str::to_string));
    let phone = match (&case.phone_enc, case.consent_share) {
        (Some(sealed), true) => open("phone", sealed)?,
        _ => None,
    };
    let age = match cipher.open_date(CASES, "date_of_birth", &case.date_of_birth_enc) {
        Ok(Opened::Value(dob)) => Some(age_on(dob, today)),
        Ok(Opened::Erased) => None,
        Err(err) => return Err(integrity(err, CASES, case.id)),
    };
    Ok(ProviderReferral {
        id: row.id,
        kind: row.kind,
        state: row.state,
        reason: sealing::open(
            &person.row(row.id, row.city_id),
            TABLE,
            "reason",
            &row.reason_enc,
            row.id,
        )?,
        needs: row.needs.as_slice().to_vec(),
        due_by: row.due_by,
        person: ReferredPerson {
            given_name,
            sex: case.sex,
            age,
            phone,
        },
    })
}

/// The view this caller may have: the provider's minimal one when the
/// policy scopes them to an organisation (only the id, kind and state once
/// the referral is closed), the whole referral otherwise.
pub fn view_for(
    conn: &mut AnyConnection,
    keyring: &Keyring,
    principal: &Principal,
    row: &ReferralRow,
) -> Result<ReferralView, ApiError> {
    let mut views = views_for(conn, keyring, principal, std::slice::from_ref(row))?;
    views.pop().ok_or_else(missing_case)
}

/// [`view_for`] of a page of referrals, in order.
pub fn views_for(
    conn: &mut AnyConnection,
    keyring: &Keyring,
    principal: &Principal,
    rows: &[ReferralRow],
) -> Result<Vec<ReferralView>, ApiError> {
    let scope = policy::scope(principal, Action::ReferralRead);
    let provider = matches!(scope, Scope::Organisation(_));
    let mut ids: Vec<CaseId> = rows
        .iter()
        .filter(|r| !provider || r.state.is_open())
        .map(|r| r.case_id)
        .collect();
    ids.sort();
    ids.dedup();
    let people = data_keys::load_many(conn, keyring, &ids)?;
    let held: HashMap<CaseId, CaseRow> = match provider {
        true => cases::find_many(conn, &ids)?
            .into_iter()
            .map(|case| (case.id, case))
            .collect(),
        false => HashMap::new(),
    };
    let (erased, today) = (PersonKeys::erased(), time::today());
    rows.iter()
        .map(|row| {
            let person = people.get(&SubjectId::from(row.case_id)).unwrap_or(&erased);
            match &scope {
                Scope::Organisation(_) if !row.state.is_open() => {
                    Ok(ReferralView::Closed(ClosedReferral {
                        id: row.id,
                        kind: row.kind,
                        state: row.state,
                    }))
                }
                Scope::Organisation(_) => {
                    let case = held.get(&row.case_id).ok_or_else(missing_case)?;
                    Ok(ReferralView::Minimal(minimal(row, case, person, today)?))
                }
                Scope::Cities(_) => Ok(ReferralView::Full(full(row, person)?)),
                Scope::National | Scope::Nothing => Err(ApiError::Forbidden),
            }
        })
        .collect()
}

impl ReferralView {
    /// Whether the view shows the person (the closed view does not).
    pub fn shows_person(&self) -> bool {
        !matches!(self, ReferralView::Closed(_))
    }
}
