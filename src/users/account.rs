//! A staff account as the guarded action finds it: the row, locked until
//! the transaction ends, with the grant waiting on it for a second person.

use crate::auth::guard::AccountRow;
use crate::auth::policy;
use crate::db::{AnyConnection, lock_row};
use crate::domain::{GrantRequestId, Reach, UserId};
use crate::error::{ApiError, FieldError};

use super::model::UserRow;
use super::requests::{self, GrantRequestRow};
use super::store;

pub struct Account {
    pub row: UserRow,
    pub pending: Option<GrantRequestRow>,
}

impl Account {
    /// What the account reaches now.
    pub fn reach(&self, conn: &mut AnyConnection) -> Result<Reach, ApiError> {
        let cities = store::cities_of(conn, self.row.id)?;
        Ok(Reach::new(self.row.role, &cities, self.row.organisation_id))
    }

    /// The pending grant `id` names, or a 422 naming `request_id`: an
    /// unknown request, another account's, or one decided already.
    pub fn pending_named(&self, id: GrantRequestId) -> Result<&GrantRequestRow, ApiError> {
        self.pending
            .as_ref()
            .filter(|grant| grant.id == id)
            .ok_or_else(|| {
                FieldError::new(
                    "request_id",
                    "names no grant of this account waiting for a decision (unknown, or decided already)",
                )
                .into()
            })
    }
}

impl AccountRow for Account {
    fn find_for_update(conn: &mut AnyConnection, id: UserId) -> Result<Option<Account>, ApiError> {
        lock_row(conn, "users", id.as_uuid())?;
        let Some(row) = store::find(conn, id)? else {
            return Ok(None);
        };
        let pending = requests::pending_of(conn, id)?;
        Ok(Some(Account { row, pending }))
    }

    fn account(&self) -> policy::Account<'_> {
        policy::Account {
            id: self.row.id,
            pending: self.pending.as_ref().map(|grant| policy::PendingGrant {
                requested_by: grant.requested_by,
                approver: grant.approver,
                cities: grant.concerned_city_ids.as_slice(),
            }),
        }
    }
}
