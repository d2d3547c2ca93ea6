//! The command line: `sanad [serve|migrate|audit verify|…]`.

use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "sanad",
    version,
    about = "Case management for the reintegration of returnees"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the HTTP API (the default).
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Work with the audit log.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Chain any pending events, then check the whole hash chain. Exits 0
    /// when it holds, 1 naming the first broken event otherwise.
    Verify {
        /// A head printed by an earlier run (SEQ:HASH), kept outside the
        /// database: also fail unless the chain still holds it.
        #[arg(long, value_name = "SEQ:HASH")]
        anchor: Option<crate::audit::Anchor>,
    },
}
