//! The command line: `sanad [serve|migrate|audit verify|audit anchor|…]`. This module
//! is what clap parses; [`commands`] holds what the commands that need a
//! database connection do.

pub mod audit;
pub mod commands;

use std::path::PathBuf;

use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "sanad",
    version = env!("SANAD_LONG_VERSION"),
    about = "Case management for the reintegration of returnees"
)]
pub struct Cli {
    /// A directory of settings files (`default.toml`, `local.toml`,
    /// `production.toml`) that override the built-in settings. Without it,
    /// `config/` in the working directory is used if there is one.
    #[arg(
        long = "config",
        value_name = "DIR",
        env = "SANAD_CONFIG_DIR",
        global = true
    )]
    pub config_dir: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the HTTP API (the default).
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Staff accounts: the first admin is made here, and the first city
    /// supervisors approved.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Manage the keyring (key-encryption, blind-index and signing keys).
    Keys {
        #[command(subcommand)]
        command: KeysCommand,
    },
    /// Work with the audit log.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// Statistical releases: the only source of ministry figures.
    Stats {
        #[command(subcommand)]
        command: StatsCommand,
    },
    /// Demonstration data (never in production).
    Demo {
        #[command(subcommand)]
        command: DemoCommand,
    },
    /// Finish erasures on disk: on PostgreSQL, once the transactions older
    /// than the call have ended (in the whole cluster), `VACUUM FULL
    /// data_keys` and a CHECKPOINT
    /// (run it as the owner role, with superuser, or pg_checkpoint and
    /// pg_read_all_stats); on SQLite a WAL checkpoint that truncates the WAL.
    Vacuum {
        /// How long to wait for older transactions before giving up.
        #[arg(long, default_value_t = 300)]
        wait_secs: u64,
    },
}

#[derive(Debug, Subcommand)]
pub enum StatsCommand {
    /// Make a statistical release now: every month settled since the last
    /// release (back to `stats.series_start` for the first), and a fresh
    /// snapshot. Refused when it would pass the yearly privacy limit.
    Release,
}

#[derive(Debug, Subcommand)]
pub enum DemoCommand {
    /// Add a realistic synthetic data set: cities, providers, demo users
    /// (passwords printed once), households, cases and referrals, encrypted
    /// like any other. Refused when SANAD_ENV=production.
    Seed {
        /// How many cases (people) to add.
        #[arg(long, default_value_t = 1000)]
        cases: u64,
        /// Seed of the made-up data: the same seed makes the same people.
        #[arg(long, default_value_t = 2026)]
        seed: u64,
        /// Parallel workers, each with its own connection (default: two
        /// per CPU core).
        #[arg(long)]
        workers: Option<usize>,
        /// Cases per transaction.
        #[arg(long, default_value_t = 2000)]
        batch: usize,
    },
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create the first admin; the password is read from standard input
    /// (one line). Refused once an admin exists: every other account is
    /// made through the API (`POST /api/v1/users`).
    Create {
        #[arg(long)]
        username: String,
        /// Only `admin` is accepted.
        #[arg(long)]
        role: String,
        #[arg(long)]
        display_name: Option<String>,
    },
    /// Approve the grant waiting on an account, as the operator (for the
    /// very first city supervisors, whom no supervisor can approve yet).
    /// Prints the account's enrolment code when one is issued. Audited.
    Approve {
        #[arg(long)]
        username: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Write a new keyring to FILE (mode 0600). Refuses to overwrite: a
    /// replaced keyring makes every encrypted record unreadable.
    Generate {
        /// Where to write the keyring; must not exist yet.
        #[arg(long)]
        out: PathBuf,
    },
    /// Add a new key-encryption key to the keyring file, not yet active.
    /// Restart every API node afterwards so that each can unwrap with it.
    AddKek,
    /// Make the newest key-encryption key active and rewrap every data key
    /// under it, in batches. Safe while serving; run again to resume.
    Rotate,
    /// Add a token signing key that verifies but does not sign yet. Restart
    /// every API node afterwards, then run `keys activate-signing-key`.
    AddSigningKey,
    /// Sign tokens with the most recently added signing key (restart nodes
    /// afterwards). Older keys keep verifying.
    ActivateSigningKey,
    /// Add an audit key and make it the one the audit trail is sealed with
    /// (restart every API node afterwards). A keyring from before the
    /// audit trail was keyed needs this once before production starts.
    AddAuditKey,
}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Chain any pending events, then check every event's MAC and the whole
    /// chain. Exits 0 when it holds, 1 naming the first broken event
    /// otherwise.
    Verify {
        /// An anchor printed by `sanad audit anchor` (or a head SEQ:HASH),
        /// kept outside the database: also fail unless the chain still
        /// holds it and its signature verifies.
        #[arg(long, value_name = "ANCHOR")]
        anchor: Option<crate::audit::Anchor>,
    },
    /// Verify, then print the head (sequence, MAC, time) signed with the
    /// audit key, for an outside witness. Exits 1 when the trail does not
    /// verify.
    Anchor,
}
