//! Moving a referral along its state machine (`domain::referral`), one
//! conditional update at a time.

use diesel::prelude::*;

use crate::cases::data_keys;
use crate::crypto::{Keyring, PersonKeys, Sealed};
use crate::db::AnyConnection;
use crate::db::schema::referrals;
use crate::domain::referral::{Outcome, allowed, next};
use crate::domain::{ReferralState, Transition, UserId, time};
use crate::error::ApiError;

use super::model::ReferralRow;
use super::store::seal;

/// What a transition carries besides the new state.
#[derive(Debug, Default)]
pub struct TransitionInput {
    /// Why it is declined or cancelled.
    pub reason: Option<String>,
    pub outcome: Option<Outcome>,
    pub note: Option<String>,
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
    input: &TransitionInput,
) -> Result<ReferralState, ApiError> {
    let from = row.state;
    let conflict = || {
        let state = from.as_str();
        let transition = transition.as_str();
        let steps: Vec<&str> = allowed(from).into_iter().map(Transition::as_str).collect();
        if steps.is_empty() {
            return ApiError::Conflict(format!(
                "The referral is {state}: it cannot {transition}. Nothing more can be done to it."
            ));
        }
        let steps = steps.join(", ");
        ApiError::Conflict(format!(
            "The referral is {state}: it cannot {transition}. Allowed now: {steps}."
        ))
    };
    let to = next(from, transition).ok_or_else(conflict)?;
    // The person's key is read only when there is a text to seal.
    let given = |value: &Option<String>| value.as_deref().is_some_and(|v| !v.trim().is_empty());
    let person = if given(&input.reason) || given(&input.note) {
        data_keys::load(conn, keyring, row.case_id)?
    } else {
        PersonKeys::erased()
    };
    let seal = |column: &str, value: Option<&str>| -> Result<Option<Sealed>, ApiError> {
        match value.map(str::trim).filter(|v| !v.is_empty()) {
            Some(value) if !person.is_erased() => {
                seal(&person, row.id, row.city_id, column, value).map(Some)
            }
            _ => Ok(None),
        }
    };
    let now = time::now();
    let target = referrals::table
        .filter(referrals::id.eq(row.id))
        .filter(referrals::state.eq(from));
    let common = (
        referrals::state.eq(to),
        referrals::updated_by.eq(by),
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
                referrals::outcome.eq(input.outcome),
                referrals::outcome_note_enc.eq(seal("outcome_note", input.note.as_deref())?),
            ))
            .execute(conn)?,
        Transition::Decline => diesel::update(target)
            .set((
                common,
                referrals::declined_at.eq(Some(now)),
                referrals::decision_reason_enc
                    .eq(seal("decision_reason", input.reason.as_deref())?),
            ))
            .execute(conn)?,
        Transition::Cancel => diesel::update(target)
            .set((
                common,
                referrals::cancelled_at.eq(Some(now)),
                referrals::decision_reason_enc
                    .eq(seal("decision_reason", input.reason.as_deref())?),
            ))
            .execute(conn)?,
    };
    if updated == 1 {
        Ok(to)
    } else {
        Err(conflict())
    }
}
