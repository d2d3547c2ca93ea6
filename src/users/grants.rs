//! The account lifecycle under the two-person rule: making an account,
//! widening it, approving or rejecting what waits for a second person, and
//! resetting one. Used by the API and by `sanad user approve`; each runs in
//! the caller's transaction, with the caller's audit event.
//!
//! An account that can see people (social workers, city supervisors,
//! provider staff), a widening of one, and a reset of one wait for a second
//! person: a city supervisor of every city concerned, or another admin for
//! provider staff. The enrolment code of a new or reset account that waits
//! is issued to the approver, never to the requester: the person who asked
//! for an account that sees people can never set its password.

use chrono::Duration;
use diesel::prelude::*;

use crate::db::AnyConnection;
use crate::db::schema::users;
use crate::domain::{
    Approval, Reach, RequestKind, RequestStatus, UserId, needed_for_change, needed_for_new, time,
};
use crate::error::{ApiError, FieldError};

use super::account::Account;
use super::enrolment::{self, Issued};
use super::model::UserRow;
use super::requests::{self, GrantRequestRow, NewRequest};
use super::store;

/// What became of a new or reset account: its code when it may enrol now,
/// or the grant that waits for a second person.
pub struct Made {
    pub row: UserRow,
    pub code: Option<Issued>,
    pub waiting: Option<GrantRequestRow>,
}

/// A new account without a password: approved with an enrolment code when
/// it cannot see people, else waiting for a second person.
pub fn create(
    conn: &mut AnyConnection,
    by: UserId,
    username: &str,
    display_name: &str,
    reach: &Reach,
    ttl: Duration,
) -> Result<Made, ApiError> {
    let needed = needed_for_new(reach);
    let Some((approver, concerned)) = needed.approver() else {
        let row = store::create_account(conn, username, display_name, reach, Approval::Approved)?;
        let code = enrolment::issue(conn, row.id, ttl)?;
        return Ok(Made {
            row,
            code: Some(code),
            waiting: None,
        });
    };
    let row = store::create_account(conn, username, display_name, reach, Approval::Pending)?;
    let waiting = requests::open(
        conn,
        NewRequest {
            user: row.id,
            kind: RequestKind::Create,
            reach,
            approver,
            concerned,
            requested_by: by,
        },
    )?;
    Ok(Made {
        row,
        code: None,
        waiting: Some(waiting),
    })
}

/// What became of a change of reach.
pub enum Changed {
    /// The reach asked for is the one the account has.
    Nothing,
    /// Applied now: it gives no access to people, or only takes some away.
    Applied,
    /// It widens an account that sees people: it waits.
    Waiting(GrantRequestRow),
}

/// Changes the account's role, cities or organisation to `after`.
pub fn change_reach(
    conn: &mut AnyConnection,
    account: &Account,
    after: &Reach,
    by: UserId,
) -> Result<Changed, ApiError> {
    let before = account.reach(conn)?;
    if before == *after {
        return Ok(Changed::Nothing);
    }
    if account.pending.is_some() {
        return Err(requests::already_pending());
    }
    if account.row.approval != Approval::Approved {
        return Err(ApiError::Conflict(
            "A rejected account is not changed; make a new one.".into(),
        ));
    }
    store::check_assignment(conn, after.role, &after.cities, after.organisation)?;
    let needed = needed_for_change(&before, after).ok_or_else(|| {
        FieldError::new(
            "role",
            "cannot move an account between the roles that see people and those that do not; \
             make a new account",
        )
    })?;
    let Some((approver, concerned)) = needed.approver() else {
        store::apply_reach(conn, account.row.id, after)?;
        return Ok(Changed::Applied);
    };
    Ok(Changed::Waiting(requests::open(
        conn,
        NewRequest {
            user: account.row.id,
            kind: RequestKind::Change,
            reach: after,
            approver,
            concerned,
            requested_by: by,
        },
    )?))
}

/// Approves `grant` (the caller checked who may): a new account becomes
/// usable and gets its enrolment code, a change applies (ending the
/// account's sessions), a reset gets its code. `by` is `None` for the
/// operator at the command line.
pub fn approve(
    conn: &mut AnyConnection,
    grant: &GrantRequestRow,
    by: Option<UserId>,
    ttl: Duration,
) -> Result<(UserRow, Option<Issued>), ApiError> {
    decide(conn, grant, RequestStatus::Approved, by)?;
    let code = match grant.kind {
        RequestKind::Create => {
            set_approval(conn, grant.user_id, Approval::Approved)?;
            Some(enrolment::issue(conn, grant.user_id, ttl)?)
        }
        RequestKind::Change => {
            store::apply_reach(conn, grant.user_id, &grant.reach())?;
            None
        }
        RequestKind::Reset => Some(enrolment::issue(conn, grant.user_id, ttl)?),
    };
    let row = store::find(conn, grant.user_id)?.ok_or(ApiError::NotFound)?;
    Ok((row, code))
}

/// Rejects `grant`: nothing it asked applies; a new account is rejected
/// for good (it can never sign in).
pub fn reject(
    conn: &mut AnyConnection,
    grant: &GrantRequestRow,
    by: Option<UserId>,
) -> Result<UserRow, ApiError> {
    decide(conn, grant, RequestStatus::Rejected, by)?;
    if grant.kind == RequestKind::Create {
        set_approval(conn, grant.user_id, Approval::Rejected)?;
        diesel::update(users::table.find(grant.user_id))
            .set(users::active.eq(false))
            .execute(conn)?;
        store::end_sessions(conn, grant.user_id)?;
    }
    store::find(conn, grant.user_id)?.ok_or(ApiError::NotFound)
}

/// Resets an approved account: its password and second factor are cleared
/// and its sessions end at once; a new enrolment code is issued now, or,
/// for an account that sees people, when a second person approves.
pub fn reset(
    conn: &mut AnyConnection,
    account: &Account,
    by: UserId,
    ttl: Duration,
) -> Result<Made, ApiError> {
    if account.pending.is_some() {
        return Err(requests::already_pending());
    }
    if account.row.approval != Approval::Approved {
        return Err(ApiError::Conflict(
            "Only an approved account can be reset.".into(),
        ));
    }
    let id = account.row.id;
    enrolment::clear(conn, id)?;
    let reach = account.reach(conn)?;
    let waiting = match needed_for_new(&reach).approver() {
        None => None,
        Some((approver, concerned)) => Some(requests::open(
            conn,
            NewRequest {
                user: id,
                kind: RequestKind::Reset,
                reach: &reach,
                approver,
                concerned,
                requested_by: by,
            },
        )?),
    };
    let code = match waiting {
        None => Some(enrolment::issue(conn, id, ttl)?),
        Some(_) => None,
    };
    let row = store::find(conn, id)?.ok_or(ApiError::NotFound)?;
    Ok(Made { row, code, waiting })
}

fn decide(
    conn: &mut AnyConnection,
    grant: &GrantRequestRow,
    status: RequestStatus,
    by: Option<UserId>,
) -> Result<(), ApiError> {
    if requests::decide(conn, grant.id, status, by)? {
        Ok(())
    } else {
        Err(FieldError::new("request_id", "was decided already").into())
    }
}

fn set_approval(conn: &mut AnyConnection, id: UserId, approval: Approval) -> Result<(), ApiError> {
    diesel::update(users::table.find(id))
        .set((
            users::approval.eq(approval),
            users::updated_at.eq(time::now()),
        ))
        .execute(conn)?;
    Ok(())
}
