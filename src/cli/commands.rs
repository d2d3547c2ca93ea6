//! What the command-line subcommands do, apart from serving. `main.rs` only
//! parses and dispatches.

use std::io::BufRead;
use std::sync::Arc;

use diesel::prelude::*;

use crate::audit::{self, Action, Entity, NewEvent, Outcome};
use crate::auth::password;
use crate::crypto::{AuditKeys, Keyring, audit_keys};
use crate::db::schema::users as user_rows;
use crate::db::{AnyConnection, ConnectionManager, migrations, write_transaction};
use crate::domain::{Approval, RequestKind, Role, UserId};
use crate::error::ApiError;
use crate::settings::Settings;
use crate::users::grants;
use crate::users::store::{self as users, NewUser};

/// A direct connection for command-line work.
pub fn connect(settings: &Settings) -> anyhow::Result<AnyConnection> {
    let manager = ConnectionManager::new(
        settings.database.url(),
        settings.database.sqlite_busy_timeout_ms,
    )?;
    Ok(manager.establish()?)
}

/// The audit keys of the configured keyring (loaded as the server loads
/// it: in production a keyring without an audit key is an error).
pub fn audit_keys(settings: &Settings) -> anyhow::Result<Arc<AuditKeys>> {
    let keyring = Keyring::load(&settings.crypto, settings.environment)?;
    Ok(Arc::new(AuditKeys::from_keyring(&keyring)?))
}

/// Runs a command that appends audit events with the audit keys in scope
/// (`crypto::audit_keys::scope`).
pub fn with_audit_keys<T>(
    settings: &Settings,
    command: impl FnOnce() -> anyhow::Result<T>,
) -> anyhow::Result<T> {
    let keys = audit_keys(settings)?;
    audit_keys::scope(&keys, command)
}

/// `sanad vacuum`: finishes erasures on disk (`db::erasure::vacuum`,
/// waiting at most `wait` for older transactions) and records that it ran.
pub fn vacuum(settings: &Settings, wait: std::time::Duration) -> anyhow::Result<Vec<&'static str>> {
    let keys = audit_keys(settings)?;
    let mut conn = connect(settings)?;
    let done = crate::db::erasure::vacuum(&mut conn, wait)?;
    let event =
        NewEvent::new(Action::ErasureVacuum, Outcome::Success).detail(done.steps.join("; "));
    crate::db::write_transaction(&mut conn, |conn| audit::append_with(conn, &keys, &event))?;
    Ok(done.steps)
}

/// `sanad migrate`: applies pending migrations; returns how many ran.
pub fn migrate(settings: &Settings) -> anyhow::Result<usize> {
    let mut conn = connect(settings)?;
    let applied = migrations::run(&mut conn)?;
    crate::assessments::instruments::ensure_default(&mut conn)?;
    Ok(applied)
}

pub struct UserArgs {
    pub username: String,
    pub role: String,
    pub display_name: Option<String>,
}

/// An API error as the command line says it: the fields named, or the
/// error itself.
fn said(err: ApiError) -> anyhow::Error {
    match err {
        ApiError::Validation(fields) => anyhow::anyhow!(
            "{}",
            fields
                .iter()
                .map(|f| format!("{} {}", f.field, f.message))
                .collect::<Vec<_>>()
                .join("; ")
        ),
        ApiError::Conflict(message) => anyhow::anyhow!("{message}"),
        other => anyhow::anyhow!("{other}"),
    }
}

/// `sanad user create`: makes the first admin, reading its password from
/// one line of `input`, and records it in the audit log. Refused once an
/// approved, active admin exists: every other account is made through the
/// API, without a password, and enrols itself. Returns the new user's id.
pub fn create_user(
    settings: &Settings,
    args: UserArgs,
    input: &mut dyn BufRead,
) -> anyhow::Result<UserId> {
    let role: Role = args
        .role
        .parse()
        .map_err(|_| anyhow::anyhow!("unknown role {:?}", args.role))?;
    if role != Role::Admin {
        anyhow::bail!(
            "sanad user create makes the first admin only; an admin makes every other account \
             with POST /api/v1/users (docs/operations.md, \"The first accounts\")"
        );
    }
    let mut password = String::new();
    input.read_line(&mut password)?;
    let password = password.trim_end_matches(['\r', '\n']).to_string();
    if let Some(why) =
        password::weakness(&password, &args.username, settings.auth.password_min_chars)
    {
        anyhow::bail!("the password {why}");
    }
    let hash = password::hash(&password).map_err(|e| anyhow::anyhow!("{e}"))?;

    let mut conn = connect(settings)?;
    migrations::run(&mut conn)?;
    write_transaction(&mut conn, |conn| {
        let admins: i64 = user_rows::table
            .filter(user_rows::role.eq(Role::Admin))
            .filter(user_rows::active.eq(true))
            .filter(user_rows::approval.eq(Approval::Approved))
            .count()
            .get_result(conn)?;
        if admins > 0 {
            return Err(ApiError::Conflict(
                "an admin exists already: sanad user create makes the first admin only; \
                 other accounts are made with POST /api/v1/users"
                    .into(),
            ));
        }
        let display_name = args
            .display_name
            .clone()
            .unwrap_or_else(|| args.username.clone());
        let row = users::create(
            conn,
            NewUser {
                username: &args.username,
                display_name: &display_name,
                password_hash: &hash,
                role,
                city_ids: &[],
                organisation_id: None,
            },
        )?;
        audit::append(
            conn,
            &NewEvent::new(audit::Action::UserCreate, Outcome::Success)
                .entity(Entity::User, row.id.as_uuid())
                .detail("role admin; the first admin, on the command line"),
        )?;
        Ok(row.id)
    })
    .map_err(said)
}

/// What `sanad user approve` did: the kind of grant, and the enrolment
/// code issued with it (with its expiry, UTC).
pub struct Approved {
    pub kind: RequestKind,
    pub code: Option<(String, chrono::NaiveDateTime)>,
}

/// `sanad user approve`: approves the grant waiting on `username` as the
/// operator (no signed-in approver: the event names none and says so).
pub fn approve_user(settings: &Settings, username: &str) -> anyhow::Result<Approved> {
    let ttl = chrono::Duration::hours(
        i64::try_from(settings.auth.enrolment_code_ttl_hours).unwrap_or(72),
    );
    let mut conn = connect(settings)?;
    migrations::run(&mut conn)?;
    write_transaction(&mut conn, |conn| {
        let row = users::find_by_username(conn, username)?
            .ok_or_else(|| ApiError::Conflict(format!("no account is named {username:?}")))?;
        let grant = crate::users::requests::pending_of(conn, row.id)?.ok_or_else(|| {
            ApiError::Conflict(format!("nothing waits for approval on {username:?}"))
        })?;
        let (row, code) = grants::approve(conn, &grant, None, ttl)?;
        audit::append(
            conn,
            &NewEvent::new(audit::Action::UserApprove, Outcome::Success)
                .entity(Entity::User, row.id.as_uuid())
                .detail(format!(
                    "{} of role {}; by the operator, on the command line",
                    grant.kind.as_str(),
                    grant.role
                )),
        )?;
        Ok(Approved {
            kind: grant.kind,
            code: code.map(|issued| (issued.code, issued.expires_at)),
        })
    })
    .map_err(said)
}

/// `sanad stats release`: a release made now by the operator, reporting
/// each step to `progress`.
pub fn stats_release(
    settings: &Settings,
    progress: &mut dyn FnMut(&str),
) -> anyhow::Result<crate::stats::release::Made> {
    use crate::stats::{mechanism::GaussianCounts, release};
    let mut conn = connect(settings)?;
    migrations::run(&mut conn)?;
    release::make(
        &mut conn,
        &settings.stats,
        release::Trigger::Operator,
        crate::domain::time::now(),
        &GaussianCounts,
        progress,
    )?
    .ok_or_else(|| anyhow::anyhow!("nothing was released"))
}
