//! Thin entry point: parse the command line, load settings, run the command.

use std::process::ExitCode;

use clap::Parser;
use sanad::cli::commands;
use sanad::cli::{AuditCommand, Cli, Command, DemoCommand, KeysCommand, StatsCommand, UserCommand};
use sanad::crypto::Keyring;
use sanad::settings::Settings;
use sanad::web::startup::Application;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let config_dir = cli.config_dir.or_else(Settings::default_config_dir);
    let command = cli.command.unwrap_or(Command::Serve);
    // A keyring is made before a deployment is configured (production has
    // no default database URL), so generating one needs no settings.
    if let Command::Keys {
        command: KeysCommand::Generate { out },
    } = &command
    {
        return finish(generate_keyring(out).map(|()| ExitCode::SUCCESS));
    }
    if let Some(dir) = config_dir.as_ref().filter(|dir| !dir.is_dir()) {
        eprintln!("sanad: settings directory {} not found", dir.display());
        return ExitCode::from(2);
    }
    let settings = match Settings::load_from(config_dir.as_deref()) {
        Ok(settings) => settings,
        Err(err) => {
            eprintln!("sanad: {err}");
            return ExitCode::from(2);
        }
    };
    sanad::web::telemetry::init(&settings.log);
    if matches!(command, Command::Serve | Command::Migrate) {
        log_settings(&settings, config_dir.as_deref());
    }
    match &command {
        Command::Audit {
            command: AuditCommand::Verify { anchor },
        } => return finish(sanad::cli::audit::verify(&settings, anchor.as_ref())),
        Command::Audit {
            command: AuditCommand::Anchor,
        } => return finish(sanad::cli::audit::anchor(&settings)),
        _ => {}
    }
    let done = match command {
        Command::Serve => serve(settings),
        Command::Migrate => migrate(&settings),
        Command::User {
            command:
                UserCommand::Create {
                    username,
                    role,
                    display_name,
                },
        } => commands::with_audit_keys(&settings, || {
            create_user(
                &settings,
                commands::UserArgs {
                    username,
                    role,
                    display_name,
                },
            )
        }),
        Command::User {
            command: UserCommand::Approve { username },
        } => commands::with_audit_keys(&settings, || approve_user(&settings, &username)),
        Command::Keys {
            command: KeysCommand::Generate { out },
        } => generate_keyring(&out),
        Command::Keys {
            command: KeysCommand::AddKek,
        } => add_kek(&settings),
        Command::Keys {
            command: KeysCommand::Rotate,
        } => rotate_keys(&settings),
        Command::Keys {
            command: KeysCommand::AddAuditKey,
        } => add_audit_key(&settings),
        Command::Keys {
            command: KeysCommand::AddSigningKey,
        } => sanad::key_rotation::add_signing_key(&settings)
            .map(|kid| println!("signing key {kid} added (verifies, does not sign yet); restart every API node, then run `sanad keys activate-signing-key`"))
            .map_err(Into::into),
        Command::Keys {
            command: KeysCommand::ActivateSigningKey,
        } => sanad::key_rotation::activate_signing_key(&settings)
            .map(|kid| println!("signing key {kid} is now active; restart every API node"))
            .map_err(Into::into),
        Command::Audit { .. } => Ok(()),
        Command::Stats {
            command: StatsCommand::Release,
        } => commands::with_audit_keys(&settings, || stats_release(&settings)),
        Command::Vacuum { wait_secs } => commands::vacuum(
            &settings,
            std::time::Duration::from_secs(wait_secs),
        )
        .map(|steps| {
            println!("done: {}", steps.join("; "));
        }),
        Command::Demo {
            command:
                DemoCommand::Seed {
                    cases,
                    seed,
                    workers,
                    batch,
                },
        } => demo_seed(
            &settings,
            &sanad::demo::SeedOptions {
                cases,
                seed,
                // Two per core: a worker waits on the database about as
                // long as it seals.
                workers: workers.unwrap_or_else(|| {
                    2 * std::thread::available_parallelism().map_or(2, std::num::NonZeroUsize::get)
                }),
                batch,
            },
        ),
    };
    finish(done.map(|()| ExitCode::SUCCESS))
}

/// A command's error, said once on standard error (the log is for the
/// server: `serve` logs its own).
fn finish(result: anyhow::Result<ExitCode>) -> ExitCode {
    match result {
        Ok(code) => code,
        Err(err) => {
            eprintln!("sanad: {err:#}");
            ExitCode::FAILURE
        }
    }
}

/// Says at start-up which settings and files the server runs on.
fn log_settings(settings: &Settings, config_dir: Option<&std::path::Path>) {
    let (data_dir, database, keyring) = settings.describe_paths();
    let settings_dir = config_dir.map_or_else(
        || "built-in only".to_string(),
        |dir| dir.display().to_string(),
    );
    tracing::info!(
        version = env!("SANAD_LONG_VERSION"),
        environment = settings.environment.as_str(),
        settings_dir = %settings_dir,
        data_dir = %data_dir,
        database = %database,
        keyring = %keyring,
        "settings loaded"
    );
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

/// `sanad user create`: at a terminal the password is asked for twice,
/// without echo; otherwise it is the first line of standard input.
fn create_user(settings: &Settings, args: commands::UserArgs) -> anyhow::Result<()> {
    use std::io::IsTerminal;
    let username = args.username.clone();
    let id = if std::io::stdin().is_terminal() {
        let password = zeroize::Zeroizing::new(rpassword::prompt_password(format!(
            "Password for {username}: "
        ))?);
        let again = zeroize::Zeroizing::new(rpassword::prompt_password("Once more: ")?);
        if *password != *again {
            anyhow::bail!("the two passwords differ; nothing was created");
        }
        let line = zeroize::Zeroizing::new(format!("{}\n", password.as_str()));
        commands::create_user(settings, args, &mut line.as_bytes())?
    } else {
        commands::create_user(settings, args, &mut std::io::stdin().lock())?
    };
    println!("created user {username} ({id})");
    Ok(())
}

/// `sanad user approve`: the code, when one is issued, on standard output
/// (once: only its hash is kept).
fn approve_user(settings: &Settings, username: &str) -> anyhow::Result<()> {
    let approved = commands::approve_user(settings, username)?;
    println!("approved: {} of {username}", approved.kind.as_str());
    if let Some((code, expires_at)) = approved.code {
        println!("enrolment code for {username}: {code} (good until {expires_at} UTC)");
    }
    Ok(())
}

/// `sanad stats release`: progress on standard error, the release on
/// standard output.
fn stats_release(settings: &Settings) -> anyhow::Result<()> {
    let made = commands::stats_release(settings, &mut |step| eprintln!("{step}"))?;
    println!(
        "release {} ({}): months {} to {}{}; rho {:.4} (this year {:.4} of {:.4}); {} cells",
        made.seq,
        made.id,
        made.plan.first,
        made.plan.last,
        made.plan
            .new_months
            .map_or(", no new month".into(), |(a, b)| format!(
                ", new {a} to {b}"
            )),
        made.rho,
        made.rho_year_total,
        made.rho_year_limit,
        made.cells
    );
    Ok(())
}

/// `sanad demo seed`: a progress bar on standard error, then the demo
/// accounts and their passwords, once.
fn demo_seed(settings: &Settings, options: &sanad::demo::SeedOptions) -> anyhow::Result<()> {
    use std::io::{IsTerminal, Write};
    let terminal = std::io::stderr().is_terminal();
    let mut last_line = std::time::Instant::now();
    let report = sanad::demo::seed(settings, options, &mut |p| {
        let fraction = p.done as f64 / p.total.max(1) as f64;
        let rate = p.done as f64 / p.elapsed.as_secs_f64().max(0.001);
        let left = (p.total - p.done) as f64 / rate.max(1.0);
        let line = format!(
            "[{:<30}] {:>3.0}% {}/{} cases, {:.0}/s, {:.0}s left",
            "#".repeat((fraction * 30.0) as usize),
            fraction * 100.0,
            p.done,
            p.total,
            rate,
            left
        );
        if terminal {
            eprint!("\r{line}");
            let _ = std::io::stderr().flush();
        } else if last_line.elapsed() >= std::time::Duration::from_secs(5) {
            eprintln!("{line}");
            last_line = std::time::Instant::now();
        }
    })?;
    if terminal {
        eprintln!();
    }
    println!(
        "seeded {} cases in {} households, {} referrals, {} assessments, in {:.1}s ({:.0} cases/s)",
        report.cases,
        report.households,
        report.referrals,
        report.assessments,
        report.elapsed.as_secs_f64(),
        report.cases as f64 / report.elapsed.as_secs_f64().max(0.001)
    );
    println!("demo accounts (passwords are shown this once):");
    for user in &report.users {
        println!(
            "  {:<14} {:<18} {:<4} {}",
            user.username,
            user.role.as_str(),
            user.city.unwrap_or("-"),
            user.password
                .as_deref()
                .unwrap_or("(existed already; password unchanged)")
        );
    }
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
    let mut conn = commands::connect(settings)?;
    let version = sanad::key_rotation::add_kek(settings, &mut conn)?;
    println!(
        "key-encryption key {version} added (not active yet); restart every API node, then run `sanad keys rotate`"
    );
    Ok(())
}

fn add_audit_key(settings: &Settings) -> anyhow::Result<()> {
    let mut conn = commands::connect(settings)?;
    let id = sanad::key_rotation::add_audit_key(settings, &mut conn)?;
    println!(
        "audit key {id} added and active; restart every API node, and back the keyring up again"
    );
    Ok(())
}

fn rotate_keys(settings: &Settings) -> anyhow::Result<()> {
    let mut conn = commands::connect(settings)?;
    let done = sanad::key_rotation::rotate(settings, &mut conn, sanad::key_rotation::BATCH, |p| {
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
