//! Thin entry point: parse the command line, load settings, run the command.

use std::process::ExitCode;

use clap::Parser;
use sanad::audit::{Anchor, AnchorCheck};
use sanad::cli::{AuditCommand, Cli, Command};
use sanad::db::migrations;
use sanad::settings::Settings;
use sanad::startup::Application;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let settings = match Settings::load(&Settings::default_base_dir()) {
        Ok(settings) => settings,
        Err(err) => {
            eprintln!("sanad: {err}");
            return ExitCode::from(2);
        }
    };
    sanad::telemetry::init(&settings.log);
    let result = match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve(settings).map(|()| ExitCode::SUCCESS),
        Command::Migrate => migrate(&settings).map(|()| ExitCode::SUCCESS),
        Command::Audit {
            command: AuditCommand::Verify { anchor },
        } => audit_verify(&settings, anchor.as_ref()),
    };
    match result {
        Ok(code) => code,
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

fn connect(settings: &Settings) -> anyhow::Result<sanad::db::AnyConnection> {
    let manager = sanad::db::ConnectionManager::new(
        settings.database.url(),
        settings.database.sqlite_busy_timeout_ms,
    )?;
    Ok(manager.establish()?)
}

fn migrate(settings: &Settings) -> anyhow::Result<()> {
    let mut conn = connect(settings)?;
    let applied = migrations::run(&mut conn)?;
    tracing::info!(applied, "migrations applied");
    println!("{applied} migration(s) applied");
    Ok(())
}

/// Exit 0 when the chain holds (and holds the anchor, if given), 1 when not.
fn audit_verify(settings: &Settings, anchor: Option<&Anchor>) -> anyhow::Result<ExitCode> {
    let mut conn = connect(settings)?;
    let report = sanad::audit::verify(&mut conn)?;
    let head = match &report.head {
        Some((seq, hash)) => format!("head: {seq}:{hash}"),
        None => "head: none (empty log)".into(),
    };
    if !report.ok {
        let id = report.first_broken_id.unwrap_or_default();
        println!(
            "broken: first broken event {id} (after {} intact events)",
            report.events
        );
        println!("last intact {head}");
        return Ok(ExitCode::from(1));
    }
    println!("ok: {} events", report.events);
    println!("{head}");
    if let Some(anchor) = anchor {
        match sanad::audit::check_anchor(&mut conn, anchor)? {
            AnchorCheck::Holds => println!("anchor {}: holds", anchor.seq),
            AnchorCheck::Missing => {
                println!(
                    "broken: anchor {} is past the end: events were removed",
                    anchor.seq
                );
                return Ok(ExitCode::from(1));
            }
            AnchorCheck::Differs => {
                println!(
                    "broken: event {} no longer has the anchored hash: the chain was rewritten",
                    anchor.seq
                );
                return Ok(ExitCode::from(1));
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
