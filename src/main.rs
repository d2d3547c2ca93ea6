//! Thin entry point: parse the command line, load settings, run the command.

use std::process::ExitCode;

use clap::Parser;
use sanad::cli::{Cli, Command, KeysCommand};
use sanad::crypto::Keyring;
use sanad::db::migrations;
use sanad::settings::Settings;
use sanad::startup::Application;

fn main() -> ExitCode {
    let command = Cli::parse().command.unwrap_or(Command::Serve);
    // A keyring is made before a deployment is configured (production has
    // no default database URL), so generating one needs no settings.
    if let Command::Keys {
        command: KeysCommand::Generate { out },
    } = &command
    {
        return finish(generate_keyring(out));
    }
    let settings = match Settings::load(&Settings::default_base_dir()) {
        Ok(settings) => settings,
        Err(err) => {
            eprintln!("sanad: {err}");
            return ExitCode::from(2);
        }
    };
    sanad::telemetry::init(&settings.log);
    finish(match command {
        Command::Serve => serve(settings),
        Command::Migrate => migrate(&settings),
        Command::Keys {
            command: KeysCommand::Generate { out },
        } => generate_keyring(&out),
    })
}

fn finish(result: anyhow::Result<()>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            tracing::error!(error = %format!("{err:#}"), "sanad stopped");
            eprintln!("sanad: {err:#}");
            ExitCode::FAILURE
        }
    }
}

fn serve(settings: Settings) -> anyhow::Result<()> {
    actix_web::rt::System::new().block_on(async move {
        let app = Application::build(settings)?;
        app.run_until_stopped().await?;
        Ok(())
    })
}

fn migrate(settings: &Settings) -> anyhow::Result<()> {
    let manager = sanad::db::ConnectionManager::new(
        settings.database.url(),
        settings.database.sqlite_busy_timeout_ms,
    )?;
    let mut conn = manager.establish()?;
    let applied = migrations::run(&mut conn)?;
    tracing::info!(applied, "migrations applied");
    println!("{applied} migration(s) applied");
    Ok(())
}

/// Writes a new keyring; prints where, never what.
fn generate_keyring(out: &std::path::Path) -> anyhow::Result<()> {
    Keyring::generate()?.write_new(out)?;
    println!(
        "new keyring written to {} (mode 0600); back it up apart from the database",
        out.display()
    );
    Ok(())
}
