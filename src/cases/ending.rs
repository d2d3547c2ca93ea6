//! What ends with a person's consent to share, or with the person: their
//! open referrals, cancelled at once, so that the provider loses them in
//! the same transaction (its next request is a 404). Giving consent again
//! revives none of them: cancelled is final.

use diesel::prelude::*;

use crate::crypto::{Keyring, Sealed};
use crate::db::AnyConnection;
use crate::db::schema::referrals;
use crate::domain::{CityId, ReferralId, ReferralState, UserId, time};
use crate::error::ApiError;

use super::data_keys;
use super::row::CaseRow;

/// The reason a referral cancelled by a withdrawal of consent gives the
/// referring city (sealed with the person's key, as any decision reason).
pub const CONSENT_WITHDRAWN: &str =
    "Cancelled: the person withdrew consent to share with providers.";

/// Cancels every open referral of `case`, with `reason` sealed as its
/// decision reason when one is given. Returns the ids, for the audit event.
/// Runs inside the caller's transaction, with the case locked.
pub fn cancel_open_referrals(
    conn: &mut AnyConnection,
    keyring: &Keyring,
    case: &CaseRow,
    by: UserId,
    reason: Option<&str>,
) -> Result<Vec<ReferralId>, ApiError> {
    let open: Vec<(ReferralId, CityId)> = referrals::table
        .filter(referrals::case_id.eq(case.id))
        .filter(referrals::state.eq_any(ReferralState::OPEN))
        .select((referrals::id, referrals::city_id))
        .order(referrals::id.asc())
        .load(conn)?;
    if open.is_empty() {
        return Ok(Vec::new());
    }
    let person = match reason {
        Some(_) => Some(data_keys::load(conn, keyring, case.id)?),
        None => None,
    };
    let now = time::now();
    for (id, city) in &open {
        let sealed: Option<Sealed> = match (&person, reason) {
            (Some(person), Some(reason)) if !person.is_erased() => Some(
                person
                    .row(id, city)
                    .seal_text("referrals", "decision_reason", reason)
                    .map_err(ApiError::internal)?,
            ),
            _ => None,
        };
        diesel::update(
            referrals::table
                .filter(referrals::id.eq(*id))
                .filter(referrals::state.eq_any(ReferralState::OPEN)),
        )
        .set((
            referrals::state.eq(ReferralState::Cancelled),
            referrals::cancelled_at.eq(Some(now)),
            referrals::decision_reason_enc.eq(sealed),
            referrals::updated_by.eq(by),
            referrals::version.eq(referrals::version + 1),
            referrals::updated_at.eq(now),
        ))
        .execute(conn)?;
    }
    Ok(open.into_iter().map(|(id, _)| id).collect())
}
