//! Rebuild when a migration changes: they are embedded into the binary. The
//! newest migration's name becomes `SANAD_MIGRATION_LEVEL`, which
//! `sanad --version` prints.
use std::fs;

fn main() {
    println!("cargo:rerun-if-changed=migrations");
    let level = ["migrations/sqlite", "migrations/postgres"]
        .iter()
        .flat_map(|dir| {
            println!("cargo:rerun-if-changed={dir}");
            fs::read_dir(dir).into_iter().flatten().flatten()
        })
        .filter_map(|entry| entry.file_name().into_string().ok())
        .max()
        .unwrap_or_else(|| "none".to_string());
    let version = std::env::var("CARGO_PKG_VERSION").unwrap_or_default();
    println!("cargo:rustc-env=SANAD_MIGRATION_LEVEL={level}");
    println!("cargo:rustc-env=SANAD_LONG_VERSION={version} (database migrations up to {level})");
}
