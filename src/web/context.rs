//! The request context: one extractor with everything a handler needs — the
//! caller's verified bearer token, the request id, the database, the
//! keyring, the blind indexer and the page-size settings — and the async
//! side of the guarded action (`auth::guard`): each method makes one
//! `Database::run` call in which the whole action happens, the caller's
//! account re-read first on the same connection (so a disabled account or
//! a changed role stops at that request, at the cost of one statement, not
//! a visit of its own).
//!
//! A handler parses its input, then makes one of these calls:
//!
//! - [`Context::act`] / [`Context::act_with`]: on one row held in a city;
//! - [`Context::create_in`]: making something in a city;
//! - [`Context::on_account`]: on one staff account;
//! - [`Context::on_collection`]: a list, a search, or anything held in no
//!   city (staff accounts, places, the audit log).

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest, web};

use crate::audit::Entity;
use crate::auth::Principal;
use crate::auth::guard::{self, AccountRow, Caller, CityRow, Done, Tx};
use crate::auth::policy::{Action, Scope};
use crate::auth::principal::Bearer;
use crate::auth::state::AuthState;
use crate::auth::trail;
use crate::crypto::{BlindIndexer, Keyring};
use crate::db::{Database, write_transaction};
use crate::domain::{CityId, UserId};
use crate::error::ApiError;
use crate::pagination::{CursorKey, PageRequest};
use crate::settings::PaginationSettings;
use crate::web::telemetry::RequestId;

/// Everything about the request a handler needs, in one extractor.
pub struct Context {
    bearer: Bearer,
    pub request: RequestId,
    auth: web::Data<AuthState>,
    db: web::Data<Database>,
    keyring: web::Data<Keyring>,
    indexer: web::Data<BlindIndexer>,
    pagination: PaginationSettings,
}

impl FromRequest for Context {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Context, ApiError>>>>;

    fn from_request(req: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        let auth = req.app_data::<web::Data<AuthState>>().cloned();
        let bearer = auth.as_ref().map(|auth| Bearer::of(req, auth));
        let request = RequestId::of(req);
        let db = req.app_data::<web::Data<Database>>().cloned();
        let keyring = req.app_data::<web::Data<Keyring>>().cloned();
        let indexer = req.app_data::<web::Data<BlindIndexer>>().cloned();
        let pagination =
            req.app_data::<PaginationSettings>()
                .copied()
                .unwrap_or(PaginationSettings {
                    default_page_size: 50,
                    max_page_size: 100,
                });
        Box::pin(async move {
            let (Some(auth), Some(bearer), Some(db), Some(keyring), Some(indexer)) =
                (auth, bearer, db, keyring, indexer)
            else {
                return Err(ApiError::internal(anyhow::anyhow!(
                    "auth state, database, keyring or blind indexer missing from app data"
                )));
            };
            Ok(Context {
                bearer: bearer?,
                request,
                auth,
                db,
                keyring,
                indexer,
                pagination,
            })
        })
    }
}

impl Context {
    /// `action` on the row `id`: the guarded action (`auth::guard::act`).
    pub async fn act<R, T, F>(self, action: Action, id: R::Id, work: F) -> Result<T, ApiError>
    where
        R: CityRow + 'static,
        T: Send + 'static,
        F: FnOnce(&mut Tx<'_>, R) -> Result<Done<T>, ApiError> + Send + 'static,
    {
        self.act_with(action, id, Ok(()), move |tx, row, ()| work(tx, row))
            .await
    }

    /// [`Context::act`] with the handler's parsed input, whose error is
    /// answered after the role check and before the row is looked at.
    pub async fn act_with<R, I, T, F>(
        self,
        action: Action,
        id: R::Id,
        input: Result<I, ApiError>,
        work: F,
    ) -> Result<T, ApiError>
    where
        R: CityRow + 'static,
        I: Send + 'static,
        T: Send + 'static,
        F: FnOnce(&mut Tx<'_>, R, I) -> Result<Done<T>, ApiError> + Send + 'static,
    {
        self.run(move |conn, caller| guard::act(conn, caller, action, id, input, work))
            .await
    }

    /// Making something (named `entity` in a refusal) in `city`.
    pub async fn create_in<T, F>(
        self,
        action: Action,
        entity: Entity,
        city: CityId,
        work: F,
    ) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Tx<'_>) -> Result<Done<T>, ApiError> + Send + 'static,
    {
        self.run(move |conn, caller| guard::create_in(conn, caller, action, entity, city, work))
            .await
    }

    /// Making something numbered from a counter in `city`
    /// (`auth::guard::create_numbered_in`).
    pub async fn create_numbered_in<N, T, R, F>(
        self,
        action: Action,
        entity: Entity,
        city: CityId,
        reserve: R,
        work: F,
    ) -> Result<T, ApiError>
    where
        N: Send + 'static,
        T: Send + 'static,
        R: FnOnce(&mut crate::db::AnyConnection) -> Result<N, ApiError> + Send + 'static,
        F: FnOnce(&mut Tx<'_>, N) -> Result<Done<T>, ApiError> + Send + 'static,
    {
        self.run(move |conn, caller| {
            guard::create_numbered_in(conn, caller, action, entity, city, reserve, work)
        })
        .await
    }

    /// `action` on the staff account `id`: the guarded action with
    /// `policy::authorize_account` (`auth::guard::on_account`).
    pub async fn on_account<R, I, T, F>(
        self,
        action: Action,
        id: UserId,
        input: Result<I, ApiError>,
        work: F,
    ) -> Result<T, ApiError>
    where
        R: AccountRow + 'static,
        I: Send + 'static,
        T: Send + 'static,
        F: FnOnce(&mut Tx<'_>, R, I) -> Result<Done<T>, ApiError> + Send + 'static,
    {
        self.run(move |conn, caller| guard::on_account(conn, caller, action, id, input, work))
            .await
    }

    /// An action on no single row, within the caller's scope.
    pub async fn on_collection<I, T, F>(
        self,
        action: Action,
        input: Result<I, ApiError>,
        work: F,
    ) -> Result<T, ApiError>
    where
        I: Send + 'static,
        T: Send + 'static,
        F: FnOnce(&mut Tx<'_>, Scope, I) -> Result<Done<T>, ApiError> + Send + 'static,
    {
        self.run(move |conn, caller| guard::on_collection(conn, caller, action, input, work))
            .await
    }

    /// The role check alone, for a handler with slow work to do outside a
    /// guarded call (counting, walking the audit chain): the caller's
    /// account is read, and a role that may never do `action` is refused
    /// here, the refusal recorded. Allowed, the caller is returned.
    pub async fn may(&self, action: Action) -> Result<Principal, ApiError> {
        let (bearer, auth, request) = (self.bearer, self.auth.clone(), self.request.clone());
        self.db
            .run(move |conn| {
                let principal = bearer.principal(conn, &auth.settings, Some(&request))?;
                let Some(refusal) = guard::role_refusal(&principal, action) else {
                    return Ok(Ok(principal));
                };
                write_transaction(conn, |conn| {
                    trail::record_denial(conn, &principal, &request, action, None)
                })?;
                Ok(Err(refusal))
            })
            .await?
    }

    /// The database, for work outside a guarded call (after [`Context::may`]).
    pub fn database(&self) -> &Database {
        &self.db
    }

    /// The page size for the `limit` a client asked for, from the
    /// `pagination` settings: their default when absent, else cut to 1..=max.
    pub fn page_size(&self, limit: Option<u32>) -> u32 {
        self.pagination.page_size(limit)
    }

    /// A page of a list: the page size a client asked for, cut to the
    /// `pagination` settings, and where to start.
    pub fn page<K: CursorKey>(
        &self,
        limit: Option<u32>,
        cursor: Option<&str>,
    ) -> Result<PageRequest<K>, ApiError> {
        PageRequest::new(self.pagination.page_size(limit), cursor)
    }

    /// One `Database::run` call: the caller's account read on the
    /// connection, then `action` with it and the keys.
    async fn run<T, F>(self, action: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnOnce(&mut crate::db::AnyConnection, &Caller<'_>) -> Result<T, ApiError>
            + Send
            + 'static,
    {
        let Context {
            bearer,
            request,
            auth,
            db,
            keyring,
            indexer,
            ..
        } = self;
        db.run(move |conn| {
            let principal = bearer.principal(conn, &auth.settings, Some(&request))?;
            let caller = Caller {
                principal: &principal,
                request: &request,
                keyring: &keyring,
                indexer: &indexer,
            };
            action(conn, &caller)
        })
        .await
    }
}
