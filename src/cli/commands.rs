//! What the command-line subcommands do, apart from serving. `main.rs` only
//! parses and dispatches.

use std::io::BufRead;
use std::sync::Arc;

use diesel::prelude::*;

use crate::audit::{self, Action, NewEvent, Outcome};
use crate::auth::password;
use crate::crypto::{AuditKeys, Keyring, audit_keys};
use crate::db::schema::cities;
use crate::db::{AnyConnection, ConnectionManager, migrations};
use crate::domain::{CityId, OrganisationId, Role, UserId};
use crate::settings::Settings;
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
    pub cities: Vec<String>,
    pub organisation: Option<String>,
    pub display_name: Option<String>,
}

/// `sanad user create`: makes an account, reading its password from one line
/// of `input`. Returns the new user's id.
pub fn create_user(
    settings: &Settings,
    args: UserArgs,
    input: &mut dyn BufRead,
) -> anyhow::Result<UserId> {
    let role: Role = args
        .role
        .parse()
        .map_err(|_| anyhow::anyhow!("unknown role {:?}", args.role))?;
    let mut password = String::new();
    input.read_line(&mut password)?;
    let password = password.trim_end_matches(['\r', '\n']).to_string();
    if let Some(why) =
        password::weakness(&password, &args.username, settings.auth.password_min_chars)
    {
        anyhow::bail!("the password {why}");
    }
    let organisation_id = args
        .organisation
        .as_deref()
        .map(str::parse::<OrganisationId>)
        .transpose()
        .map_err(|_| anyhow::anyhow!("--organisation must be an organisation id"))?;
    let hash = password::hash(&password).map_err(|e| anyhow::anyhow!("{e}"))?;

    let mut conn = connect(settings)?;
    migrations::run(&mut conn)?;
    conn.transaction(|conn| {
        let mut city_ids = Vec::new();
        for code in &args.cities {
            let id: Option<CityId> = cities::table
                .filter(cities::code.eq(code.trim().to_uppercase()))
                .select(cities::id)
                .first(conn)
                .optional()?;
            let id = id.ok_or_else(|| anyhow::anyhow!("no city has the code {code:?}"))?;
            city_ids.push(id);
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
                city_ids: &city_ids,
                organisation_id,
            },
        )
        .map_err(|e| match e {
            crate::error::ApiError::Validation(fields) => anyhow::anyhow!(
                "{}",
                fields
                    .iter()
                    .map(|f| format!("{} {}", f.field, f.message))
                    .collect::<Vec<_>>()
                    .join("; ")
            ),
            other => anyhow::anyhow!("{other}"),
        })?;
        Ok(row.id)
    })
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
