//! The binary as an operator gets it: copied to an empty directory with no
//! `config/`, it starts on its built-in settings, makes its SQLite file and
//! keyring under its data directory and answers; the documentation pages
//! are where a newcomer types them, and the reference describes requests
//! the server accepts.

use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use sanad::domain::Role;
use serde_json::Value;

use crate::helpers::spawn_app;

/// The binary, run in `dir` with none of the test's own settings.
fn sanad_in(dir: &Path, args: &[&str]) -> Command {
    let binary = dir.join("sanad");
    if !binary.exists() {
        std::fs::copy(env!("CARGO_BIN_EXE_sanad"), &binary).unwrap();
    }
    let mut command = Command::new(binary);
    command.args(args).current_dir(dir);
    for (name, _) in std::env::vars() {
        if name.starts_with("SANAD") || name == "RUST_LOG" {
            command.env_remove(name);
        }
    }
    command
}

struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn version_names_the_migration_level() {
    let dir = tempfile::tempdir().unwrap();
    let out = sanad_in(dir.path(), &["--version"]).output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let newest = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/migrations/sqlite"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .max()
        .unwrap();
    assert_eq!(
        text.trim(),
        format!(
            "sanad {} (database migrations up to {newest})",
            env!("CARGO_PKG_VERSION")
        )
    );
}

#[tokio::test]
async fn the_binary_runs_from_an_empty_directory() {
    let dir = tempfile::tempdir().unwrap();
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let server = Killed(
        sanad_in(dir.path(), &[])
            .env("SANAD__SERVER__PORT", port.to_string())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let client = reqwest::Client::new();
    let url = format!("http://127.0.0.1:{port}/health/ready");
    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        match client.get(&url).send().await {
            Ok(response) => break response.status().as_u16(),
            Err(_) if Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(100)).await
            }
            Err(err) => panic!("the server never answered: {err}"),
        }
    };
    assert_eq!(status, 200);
    assert!(dir.path().join("data/sanad.db").is_file());
    assert!(dir.path().join("data/keyring.json").is_file());
    assert!(!dir.path().join("config").exists());
    drop(server);

    // A settings directory named on the command line overrides the
    // built-in settings; one that does not exist stops start-up.
    let missing = sanad_in(dir.path(), &["--config", "nowhere", "migrate"])
        .output()
        .unwrap();
    assert_eq!(missing.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("nowhere"));
    let settings = dir.path().join("etc");
    std::fs::create_dir(&settings).unwrap();
    std::fs::write(
        settings.join("default.toml"),
        "[paths]\ndata_dir = \"elsewhere\"\n",
    )
    .unwrap();
    let migrated = sanad_in(dir.path(), &["--config", "etc", "migrate"])
        .output()
        .unwrap();
    assert!(migrated.status.success(), "{migrated:?}");
    assert!(dir.path().join("elsewhere/sanad.db").is_file());
    let log = String::from_utf8_lossy(&migrated.stdout).to_string()
        + &String::from_utf8_lossy(&migrated.stderr);
    assert!(
        log.contains("settings loaded") && log.contains("elsewhere"),
        "{log}"
    );
}

#[tokio::test]
async fn docs_without_a_slash_redirect_and_the_validator_is_off() {
    let app = spawn_app().await;

    let response = app.get("/docs").await;

    assert_eq!(response.status().as_u16(), 308);
    assert_eq!(response.headers()["location"], "/docs/");
    let config = app
        .get("/docs/swagger-initializer.js")
        .await
        .text()
        .await
        .unwrap();
    assert!(
        config.contains(r#""validatorUrl": "none""#) || config.contains(r#""validatorUrl":"none""#),
        "{config}"
    );
}

#[tokio::test]
async fn group_by_sent_as_the_document_describes_it_is_accepted() {
    let app = spawn_app().await;
    let mosul = app.city("MOS");
    let supervisor = app.signed_in(Role::CitySupervisor, &[mosul], None).await;
    let doc: Value = app.get("/api/v1/openapi.json").await.json().await.unwrap();
    let parameters = doc["paths"]["/api/v1/stats/cases"]["get"]["parameters"]
        .as_array()
        .unwrap();
    let group_by = parameters.iter().find(|p| p["name"] == "group_by").unwrap();
    assert_eq!(group_by["in"], "query");
    // One string: Swagger UI sends it as typed, one `group_by=` pair.
    assert_eq!(group_by["schema"]["type"], "string", "{group_by}");
    let example = group_by["example"].as_str().unwrap();
    assert!(example.contains(','), "{group_by}");

    let response = app
        .get_as(
            &supervisor,
            &format!("/api/v1/stats/cases?group_by={}", url_encode(example)),
        )
        .await;

    assert_eq!(response.status().as_u16(), 200);
}

fn url_encode(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}
