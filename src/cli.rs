//! The command line: `sanad [serve|migrate|…]`.

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
}
