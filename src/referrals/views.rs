//! A referral as each reader may see it: whole for the referring city; the
//! minimal view of the person for the provider while the referral is open,
//! and no more than its state after.

use chrono::NaiveDate;

use crate::auth::Principal;
use crate::auth::policy::{self, Action, Scope};
use crate::cases::data_keys;
use crate::cases::model::age_on;
use crate::cases::row::{self as cases, TABLE as CASES};
use crate::cases::sealing::{self, integrity, open_opt};
use crate::crypto::{Keyring, Opened};
use crate::db::AnyConnection;
use crate::domain::time;
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

/// The minimal view for the provider: the given name, sex, age, and the
/// phone only when the person consented to sharing with providers.
pub fn provider_view(
    conn: &mut AnyConnection,
    keyring: &Keyring,
    row: &ReferralRow,
    today: NaiveDate,
) -> Result<ProviderReferral, ApiError> {
    let case = cases::find(conn, row.case_id)?.ok_or_else(|| {
        ApiError::internal(anyhow::anyhow!("corrupt row: a referral's case is missing"))
    })?;
    let person = data_keys::load(conn, keyring, case.id)?;
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
    match policy::scope(principal, Action::ReferralRead) {
        Scope::Organisation(_) if !row.state.is_open() => {
            Ok(ReferralView::Closed(ClosedReferral {
                id: row.id,
                kind: row.kind,
                state: row.state,
            }))
        }
        Scope::Organisation(_) => Ok(ReferralView::Minimal(provider_view(
            conn,
            keyring,
            row,
            time::today(),
        )?)),
        Scope::Cities(_) => Ok(ReferralView::Full(view(conn, keyring, row)?)),
        Scope::National | Scope::Nothing => Err(ApiError::Forbidden),
    }
}
