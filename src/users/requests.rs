//! Grant requests: what waits for a second person (a new account that can
//! see people, a widening of one, a reset of one), and the decisions on
//! them. At most one request per account is pending (a unique index).

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::AnyConnection;
use crate::db::column::TextSet;
use crate::db::schema::grant_requests;
use crate::domain::{
    Approver, CityId, GrantRequestId, OrganisationId, Reach, RequestKind, RequestStatus, Role,
    UserId, time,
};
use crate::error::ApiError;

use super::model::PendingGrant;

/// One row of `grant_requests`.
#[derive(Debug, Clone, diesel::Queryable)]
pub struct GrantRequestRow {
    pub id: GrantRequestId,
    pub user_id: UserId,
    pub kind: RequestKind,
    pub role: Role,
    pub organisation_id: Option<OrganisationId>,
    pub city_ids: TextSet<CityId>,
    pub approver: Approver,
    pub concerned_city_ids: TextSet<CityId>,
    pub requested_by: UserId,
    pub requested_at: NaiveDateTime,
    pub status: RequestStatus,
    pub decided_by: Option<UserId>,
    pub decided_at: Option<NaiveDateTime>,
}

impl GrantRequestRow {
    /// The reach the account has once this is approved.
    pub fn reach(&self) -> Reach {
        Reach::new(self.role, self.city_ids.as_slice(), self.organisation_id)
    }

    pub fn view(&self) -> PendingGrant {
        PendingGrant {
            id: self.id,
            kind: self.kind,
            role: self.role,
            city_ids: self.city_ids.as_slice().to_vec(),
            organisation_id: self.organisation_id,
            approver: self.approver,
            concerned_city_ids: self.concerned_city_ids.as_slice().to_vec(),
            requested_by: self.requested_by,
            requested_at: time::to_utc(self.requested_at),
        }
    }
}

/// What a new request asks, and of whom.
pub struct NewRequest<'a> {
    pub user: UserId,
    pub kind: RequestKind,
    pub reach: &'a Reach,
    pub approver: Approver,
    pub concerned: &'a [CityId],
    pub requested_by: UserId,
}

/// Opens a request; 409 when the account already has one pending.
pub fn open(conn: &mut AnyConnection, new: NewRequest<'_>) -> Result<GrantRequestRow, ApiError> {
    if pending_of(conn, new.user)?.is_some() {
        return Err(already_pending());
    }
    let id = GrantRequestId::new();
    diesel::insert_into(grant_requests::table)
        .values((
            grant_requests::id.eq(id),
            grant_requests::user_id.eq(new.user),
            grant_requests::kind.eq(new.kind),
            grant_requests::role.eq(new.reach.role),
            grant_requests::organisation_id.eq(new.reach.organisation),
            grant_requests::city_ids.eq(TextSet::new(&new.reach.cities)),
            grant_requests::approver.eq(new.approver),
            grant_requests::concerned_city_ids.eq(TextSet::new(new.concerned)),
            grant_requests::requested_by.eq(new.requested_by),
            grant_requests::requested_at.eq(time::now()),
            grant_requests::status.eq(RequestStatus::Pending),
        ))
        .execute(conn)?;
    find(conn, id)?.ok_or(ApiError::NotFound)
}

/// The answer to a change while another waits for its decision.
pub fn already_pending() -> ApiError {
    ApiError::Conflict(
        "A grant for this account is waiting for a second person; it must be approved or \
         rejected first."
            .into(),
    )
}

pub fn find(
    conn: &mut AnyConnection,
    id: GrantRequestId,
) -> Result<Option<GrantRequestRow>, ApiError> {
    Ok(grant_requests::table
        .find(id)
        .select(grant_requests::all_columns)
        .first(conn)
        .optional()?)
}

/// The account's pending request, if any.
pub fn pending_of(
    conn: &mut AnyConnection,
    user: UserId,
) -> Result<Option<GrantRequestRow>, ApiError> {
    Ok(grant_requests::table
        .filter(grant_requests::user_id.eq(user))
        .filter(grant_requests::status.eq(RequestStatus::Pending))
        .select(grant_requests::all_columns)
        .first(conn)
        .optional()?)
}

/// The pending requests of these accounts.
pub fn pending_of_many(
    conn: &mut AnyConnection,
    users: &[UserId],
) -> Result<Vec<GrantRequestRow>, ApiError> {
    Ok(grant_requests::table
        .filter(grant_requests::user_id.eq_any(users))
        .filter(grant_requests::status.eq(RequestStatus::Pending))
        .select(grant_requests::all_columns)
        .load(conn)?)
}

/// The accounts whose pending request a city supervisor of `cities` may
/// decide: a supervisor's request, every city it concerns among theirs.
pub fn decidable_by_supervisor(
    conn: &mut AnyConnection,
    cities: &[CityId],
) -> Result<Vec<UserId>, ApiError> {
    let pending: Vec<(UserId, TextSet<CityId>)> = grant_requests::table
        .filter(grant_requests::status.eq(RequestStatus::Pending))
        .filter(grant_requests::approver.eq(Approver::CitySupervisor))
        .select((grant_requests::user_id, grant_requests::concerned_city_ids))
        .load(conn)?;
    Ok(pending
        .into_iter()
        .filter(|(_, concerned)| concerned.as_slice().iter().all(|c| cities.contains(c)))
        .map(|(user, _)| user)
        .collect())
}

/// Records the decision on a pending request; `by` is `None` for the
/// operator at the command line. `false` when it was decided already (by
/// someone else in the meantime): nothing changed.
pub fn decide(
    conn: &mut AnyConnection,
    id: GrantRequestId,
    status: RequestStatus,
    by: Option<UserId>,
) -> Result<bool, ApiError> {
    let changed = diesel::update(
        grant_requests::table
            .find(id)
            .filter(grant_requests::status.eq(RequestStatus::Pending)),
    )
    .set((
        grant_requests::status.eq(status),
        grant_requests::decided_by.eq(by),
        grant_requests::decided_at.eq(Some(time::now())),
    ))
    .execute(conn)?;
    Ok(changed == 1)
}
