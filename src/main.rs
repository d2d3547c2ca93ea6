//! Thin entry point: parse the command line, load settings, run the command.

use std::process::ExitCode;

use clap::Parser;
use sanad::cli::{Cli, Command, KeysCommand, UserCommand};
use sanad::commands;
use sanad::crypto::Keyring;
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
        Command::User {
            command:
                UserCommand::Create {
                    username,
                    role,
                    cities,
                    organisation,
                    display_name,
                },
        } => create_user(
            &settings,
            commands::UserArgs {
                username,
                role,
                cities,
                organisation,
                display_name,
            },
        ),
        Command::Keys {
            command: KeysCommand::Generate { out },
        } => generate_keyring(&out),
        Command::Keys {
            command: KeysCommand::AddKek,
        } => add_kek(&settings),
        Command::Keys {
            command: KeysCommand::Rotate,
        } => rotate_keys(&settings),
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
    let applied = commands::migrate(settings)?;
    println!("{applied} migration(s) applied");
    Ok(())
}

fn create_user(settings: &Settings, args: commands::UserArgs) -> anyhow::Result<()> {
    let username = args.username.clone();
    let id = commands::create_user(settings, args, &mut std::io::stdin().lock())?;
    println!("created user {username} ({id})");
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

fn add_kek(settings: &Settings) -> anyhow::Result<()> {
    let version = sanad::keys::add_kek(settings)?;
    println!(
        "key-encryption key {version} added (not active yet); restart every API node, then run `sanad keys rotate`"
    );
    Ok(())
}

fn rotate_keys(settings: &Settings) -> anyhow::Result<()> {
    let mut conn = commands::connect(settings)?;
    let done = sanad::keys::rotate(settings, &mut conn, sanad::keys::BATCH, |p| {
        println!(
            "active KEK {}: {} rewrapped, {} to go",
            p.active, p.rewrapped, p.remaining
        );
    })?;
    if done.remaining > 0 {
        anyhow::bail!(
            "{} data keys are still under older KEKs; run again",
            done.remaining
        );
    }
    println!("every data key is under KEK {}", done.active);
    Ok(())
}
