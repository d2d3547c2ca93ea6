//! The guarded action: every route that touches something held in a city
//! runs through one of the functions here, in one write transaction:
//!
//! 1. the role: may this role ever do the action? If not, 403;
//! 2. the input the handler parsed: a bad field is 422;
//! 3. the row ([`CityRow::find_for_update`], locked until the transaction
//!    ends; for an action that only reads, [`CityRow::find_to_read`], which
//!    need not lock): absent is 404;
//! 4. the policy on that row ([`CityRow::resource`]): out of reach is 404;
//! 5. the row's own state ([`CityRow::usable`]): an erased case is 410;
//! 6. the work, which returns its answer and its audit event; both commit
//!    together.
//!
//! A refusal at 1 or 4 appends an `access.denied` event and *commits* it,
//! then answers the refusal. Because the row is read, authorised and acted
//! on inside the same transaction, with the row locked, a concurrent change
//! (a transfer moving the case to another city) either commits first and
//! is seen by the policy, or waits until the action is done. A read takes
//! no lock: the policy decides on the row it read, in the statement that
//! read it, and the answer shows that same row, so a transfer committed
//! meanwhile is ordered after the read; two reads of one case never wait
//! for each other.

use uuid::Uuid;

use crate::audit::{self, Entity, NewEvent, Outcome};
use crate::crypto::{BlindIndexer, Crypto, Keyring};
use crate::db::{AnyConnection, write_transaction};
use crate::domain::{CityId, UserId};
use crate::error::ApiError;
use crate::web::telemetry::RequestId;

use super::Principal;
use super::policy::{self, Action, Resource, Scope};
use super::trail::{self, Target};

/// A row held in a city — a case, a household, a referral, a transfer —
/// as the guarded action needs to know it.
pub trait CityRow: Sized {
    type Id: Copy + Into<Uuid> + Send + 'static;
    /// What the audit log calls it.
    const ENTITY: Entity;

    /// Reads the row and locks it (and what it belongs to) until the
    /// transaction ends.
    fn find_for_update(conn: &mut AnyConnection, id: Self::Id) -> Result<Option<Self>, ApiError>;

    /// Reads the row for an action that only reads it
    /// ([`Action::reads_only`]). Locking it, as here unless a row says
    /// otherwise, is always right; a row whose reads need no lock reads it
    /// plainly.
    fn find_to_read(conn: &mut AnyConnection, id: Self::Id) -> Result<Option<Self>, ApiError> {
        Self::find_for_update(conn, id)
    }

    fn id(&self) -> Self::Id;

    /// The city its events are filed under.
    fn city(&self) -> CityId;

    /// What the policy decides `action` on.
    fn resource(&self, action: Action) -> Resource {
        let _ = action;
        Resource::City(self.city())
    }

    /// Whether the row can still be acted on once the policy allowed it
    /// (an erased case is `Gone`).
    fn usable(&self) -> Result<(), ApiError> {
        Ok(())
    }
}

/// A staff account as the guarded action needs to know it: how to find
/// and lock it, and what the policy decides on (whose it is, and the grant
/// waiting on it).
pub trait AccountRow: Sized {
    fn find_for_update(conn: &mut AnyConnection, id: UserId) -> Result<Option<Self>, ApiError>;

    fn account(&self) -> policy::Account<'_>;
}

/// Who is asking, and the keys their work may need.
pub struct Caller<'a> {
    pub principal: &'a Principal,
    pub request: &'a RequestId,
    pub keyring: &'a Keyring,
    pub indexer: &'a BlindIndexer,
}

/// What the work of a guarded action gets: the transaction's connection,
/// the keys, and the caller to build its audit event from.
pub struct Tx<'a> {
    pub conn: &'a mut AnyConnection,
    pub keyring: &'a Keyring,
    pub indexer: &'a BlindIndexer,
    pub principal: &'a Principal,
    request: &'a RequestId,
}

impl<'a> Tx<'a> {
    /// The keys a store needs to seal, open and index.
    pub fn crypto(&self) -> Crypto<'a> {
        Crypto {
            keyring: self.keyring,
            indexer: self.indexer,
        }
    }

    /// A success event by this caller.
    pub fn event(&self, action: audit::Action) -> NewEvent {
        trail::event(self.principal, self.request, action, Outcome::Success)
    }

    /// A refusal by this caller, for a rule the work itself applies (nobody
    /// reviews their own work); returned with the refusal, it is committed.
    pub fn denial(&self) -> NewEvent {
        trail::event(
            self.principal,
            self.request,
            audit::Action::AccessDenied,
            Outcome::Denied,
        )
    }

    /// A success event about `row`, filed under its city.
    pub fn event_on<R: CityRow>(&self, action: audit::Action, row: &R) -> NewEvent {
        self.event(action)
            .entity(R::ENTITY, row.id().into())
            .city(row.city().as_uuid())
    }
}

/// What the work answers: its value, and the event that records it (all
/// but a few reads of staff accounts and transfers have one).
pub type Done<T> = (T, Option<NewEvent>);

/// Steps 1 to 6 on the row `id`. `input` is the handler's parsed input: its
/// error, if any, is answered after the role check and before the row is
/// looked at, as every route did before this one existed.
pub fn act<R, I, T, F>(
    conn: &mut AnyConnection,
    caller: &Caller<'_>,
    action: Action,
    id: R::Id,
    input: Result<I, ApiError>,
    work: F,
) -> Result<T, ApiError>
where
    R: CityRow,
    F: FnOnce(&mut Tx<'_>, R, I) -> Result<Done<T>, ApiError>,
{
    committed(write_transaction(conn, |conn| {
        let target = |city| Target {
            entity: R::ENTITY,
            id: id.into(),
            city,
        };
        if let Some(refusal) = role_refusal(caller.principal, action) {
            let city = R::find_for_update(conn, id)?.map(|row| row.city());
            return refuse(conn, caller, action, Some(target(city)), refusal);
        }
        let input = input?;
        let row = if action.reads_only() {
            R::find_to_read(conn, id)?
        } else {
            R::find_for_update(conn, id)?
        };
        let row = row.ok_or(ApiError::NotFound)?;
        let resource = row.resource(action);
        if let Err(refusal) = policy::authorize(caller.principal, action, resource) {
            let city = Target::city_of(resource);
            return refuse(conn, caller, action, Some(target(city)), refusal);
        }
        row.usable()?;
        finish(conn, caller, |tx| work(tx, row, input))
    }))
}

/// Creating something in `city`: the role, then the policy on the city
/// (a city not the caller's is 404), then the work. A refusal names
/// `entity` with a nil id: the object was never made.
pub fn create_in<T, F>(
    conn: &mut AnyConnection,
    caller: &Caller<'_>,
    action: Action,
    entity: Entity,
    city: CityId,
    work: F,
) -> Result<T, ApiError>
where
    F: FnOnce(&mut Tx<'_>) -> Result<Done<T>, ApiError>,
{
    committed(write_transaction(conn, |conn| {
        let target = Some(Target {
            entity,
            id: Uuid::nil(),
            city: Some(city),
        });
        if let Err(refusal) = policy::authorize(caller.principal, action, Resource::City(city)) {
            return refuse(conn, caller, action, target, refusal);
        }
        finish(conn, caller, work)
    }))
}

/// [`create_in`] for something numbered from a counter (a case number):
/// when the policy allows the creation, `reserve` takes the number first,
/// in a short transaction of its own ([`crate::db::counter_transaction`]),
/// so that creations in one city hold the counter's row only for that
/// update, not for the whole creation; then the creation runs as
/// [`create_in`] does, the policy checked again inside its transaction. A
/// creation that fails after the reservation leaves a gap in the numbers.
#[allow(clippy::too_many_arguments)]
pub fn create_numbered_in<N, T, R, F>(
    conn: &mut AnyConnection,
    caller: &Caller<'_>,
    action: Action,
    entity: Entity,
    city: CityId,
    reserve: R,
    work: F,
) -> Result<T, ApiError>
where
    R: FnOnce(&mut AnyConnection) -> Result<N, ApiError>,
    F: FnOnce(&mut Tx<'_>, N) -> Result<Done<T>, ApiError>,
{
    let reserved = match policy::authorize(caller.principal, action, Resource::City(city)) {
        Ok(()) => Some(crate::db::counter_transaction(conn, reserve)?),
        // Refused, and the refusal recorded, by create_in below.
        Err(_) => None,
    };
    create_in(conn, caller, action, entity, city, |tx| match reserved {
        Some(number) => work(tx, number),
        None => Err(ApiError::internal(anyhow::anyhow!(
            "the policy allowed a creation it had refused"
        ))),
    })
}

/// An action on no single row (a list, a search, a staff account, a
/// place): the role, then `input`, then the work, given the scope every
/// list query starts from.
pub fn on_collection<I, T, F>(
    conn: &mut AnyConnection,
    caller: &Caller<'_>,
    action: Action,
    input: Result<I, ApiError>,
    work: F,
) -> Result<T, ApiError>
where
    F: FnOnce(&mut Tx<'_>, Scope, I) -> Result<Done<T>, ApiError>,
{
    committed(write_transaction(conn, |conn| {
        if let Some(refusal) = role_refusal(caller.principal, action) {
            return refuse(conn, caller, action, None, refusal);
        }
        let input = input?;
        let scope = policy::scope(caller.principal, action);
        finish(conn, caller, |tx| work(tx, scope, input))
    }))
}

/// Steps 1 to 6 on the staff account `id` (`policy::authorize_account`
/// at step 4).
pub fn on_account<R, I, T, F>(
    conn: &mut AnyConnection,
    caller: &Caller<'_>,
    action: Action,
    id: UserId,
    input: Result<I, ApiError>,
    work: F,
) -> Result<T, ApiError>
where
    R: AccountRow,
    F: FnOnce(&mut Tx<'_>, R, I) -> Result<Done<T>, ApiError>,
{
    committed(write_transaction(conn, |conn| {
        let target = Some(Target {
            entity: Entity::User,
            id: id.as_uuid(),
            city: None,
        });
        if let Some(refusal) = role_refusal(caller.principal, action) {
            return refuse(conn, caller, action, target, refusal);
        }
        let input = input?;
        let row = R::find_for_update(conn, id)?.ok_or(ApiError::NotFound)?;
        if let Err(refusal) = policy::authorize_account(caller.principal, action, &row.account()) {
            return refuse(conn, caller, action, target, refusal);
        }
        finish(conn, caller, |tx| work(tx, row, input))
    }))
}

/// Why the principal may not do `action` whatever the object: the role may
/// never do it (403), or the account must first enrol a second factor
/// (403, `second-factor-required`).
pub fn role_refusal(principal: &Principal, action: Action) -> Option<ApiError> {
    match policy::authorize(principal, action, Resource::Collection) {
        Err(refusal @ (ApiError::Forbidden | ApiError::SecondFactorRequired)) => Some(refusal),
        _ => None,
    }
}

/// Records the refusal; the transaction commits with it (`Ok`), and the
/// refusal is answered after the commit.
fn refuse<T>(
    conn: &mut AnyConnection,
    caller: &Caller<'_>,
    action: Action,
    target: Option<Target>,
    refusal: ApiError,
) -> Result<Result<T, ApiError>, ApiError> {
    trail::record_denial(conn, caller.principal, caller.request, action, target)?;
    Ok(Err(refusal))
}

/// Runs the work and appends its event.
fn finish<T>(
    conn: &mut AnyConnection,
    caller: &Caller<'_>,
    work: impl FnOnce(&mut Tx<'_>) -> Result<Done<T>, ApiError>,
) -> Result<Result<T, ApiError>, ApiError> {
    let mut tx = Tx {
        conn,
        keyring: caller.keyring,
        indexer: caller.indexer,
        principal: caller.principal,
        request: caller.request,
    };
    let (value, event) = work(&mut tx)?;
    if let Some(event) = event {
        audit::append(tx.conn, &event)?;
    }
    Ok(Ok(value))
}

/// A committed refusal is answered now; anything else as it came.
fn committed<T>(outcome: Result<Result<T, ApiError>, ApiError>) -> Result<T, ApiError> {
    outcome.and_then(|answer| answer)
}
