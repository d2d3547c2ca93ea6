//! The real binary, its real logs: canary values sent in requests — good
//! ones, misplaced ones, malformed ones — never appear in what it prints.

use std::io::{BufRead, BufReader, Read};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::helpers::TestDatabase;

const CANARY_NAME: &str = "LogCanaryAmina";
const CANARY_ID: &str = "90817263544536";
const CANARY_PHONE: &str = "07709988776";

fn sanad(db: &TestDatabase, keyring: &std::path::Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_sanad"));
    command
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("SANAD__DATABASE__URL", db.url())
        .env("SANAD__CRYPTO__KEYRING_FILE", keyring)
        .env("SANAD__SERVER__PORT", "0")
        .env("SANAD__SERVER__WORKERS", "1")
        .env("RUST_LOG", "debug")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    command
}

#[tokio::test]
async fn nothing_a_client_sends_about_a_person_reaches_the_logs() {
    let db = TestDatabase::create();
    let scratch = tempfile::tempdir().unwrap();
    let keyring = scratch.path().join("keyring.json");
    let mut admin = sanad(&db, &keyring)
        .args([
            "user",
            "create",
            "--username",
            "root-admin",
            "--role",
            "admin",
        ])
        .stdin(Stdio::piped())
        .spawn()
        .unwrap();
    {
        use std::io::Write;
        admin
            .stdin
            .take()
            .unwrap()
            .write_all(b"granite-harbour-sky-8\n")
            .unwrap();
    }
    let created = admin.wait_with_output().unwrap();
    assert!(
        created.status.success(),
        "{}",
        String::from_utf8_lossy(&created.stderr)
    );

    let mut server = sanad(&db, &keyring).arg("serve").spawn().unwrap();
    let mut stdout = BufReader::new(server.stdout.take().unwrap());
    let mut printed = String::new();
    let started = Instant::now();
    let port = loop {
        let mut line = String::new();
        assert!(
            stdout.read_line(&mut line).unwrap() > 0,
            "server exited: {printed}"
        );
        printed.push_str(&line);
        if let Ok(entry) = serde_json::from_str::<Value>(&line)
            && entry["message"] == "listening"
        {
            break entry["port"].as_u64().unwrap();
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "no listening line: {printed}"
        );
    };
    let base = format!("http://127.0.0.1:{port}/api/v1");
    let client = reqwest::Client::new();
    let login = |username: &'static str, password: &'static str| {
        client
            .post(format!("{base}/auth/login"))
            .json(&json!({"username": username, "password": password}))
            .send()
    };
    let admin: Value = login("root-admin", "granite-harbour-sky-8")
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let admin = admin["access_token"].as_str().unwrap().to_string();
    let governorates: Value = client
        .get(format!("{base}/governorates"))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let city: Value = client
        .post(format!("{base}/cities"))
        .bearer_auth(&admin)
        .json(&json!({"code": "MOS", "name_en": "Mosul", "name_ar": "الموصل", "governorate_id": governorates[0]["id"]}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let made = client
        .post(format!("{base}/users"))
        .bearer_auth(&admin)
        .json(&json!({"username": "worker", "display_name": "W", "role": "social_worker", "city_ids": [city["id"]]}))
        .send()
        .await
        .unwrap();
    assert_eq!(made.status().as_u16(), 201);
    // The first supervisor of a city is not there yet: the operator
    // approves the worker, and the worker enrols with the printed code.
    let approved = sanad(&db, &keyring)
        .args(["user", "approve", "--username", "worker"])
        .output()
        .unwrap();
    assert!(approved.status.success());
    let said = String::from_utf8_lossy(&approved.stdout).to_string();
    let code = said
        .split_whitespace()
        .find(|word| word.len() == 32 && word.bytes().all(|b| b.is_ascii_hexdigit()))
        .expect("an enrolment code")
        .to_string();
    let enrolled = client
        .post(format!("{base}/auth/enrol"))
        .json(&json!({"username": "worker", "enrolment_code": code, "new_password": "olive-tree-lantern-5"}))
        .send()
        .await
        .unwrap();
    assert_eq!(enrolled.status().as_u16(), 204);
    let worker: Value = login("worker", "olive-tree-lantern-5")
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let worker = worker["access_token"].as_str().unwrap().to_string();

    let mut case =
        crate::helpers::new_case(city["id"].as_str().unwrap().parse().unwrap(), CANARY_NAME);
    case["subject"]["national_id"] = json!(CANARY_ID);
    case["subject"]["phone"] = json!(CANARY_PHONE);
    let response = client
        .post(format!("{base}/cases"))
        .bearer_auth(&worker)
        .json(&case)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 201);
    let id = response.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    client
        .get(format!("{base}/cases/{id}"))
        .bearer_auth(&worker)
        .send()
        .await
        .unwrap();
    client
        .post(format!("{base}/cases/search"))
        .bearer_auth(&worker)
        .json(&json!({"name": CANARY_NAME, "national_id": CANARY_ID}))
        .send()
        .await
        .unwrap();
    // Misplaced and malformed input carrying the canaries.
    let mut misplaced = case.clone();
    misplaced["subject"]["sex"] = json!(CANARY_NAME);
    let bad = client
        .post(format!("{base}/cases"))
        .bearer_auth(&worker)
        .json(&misplaced)
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status().as_u16(), 422);
    client
        .post(format!("{base}/cases"))
        .bearer_auth(&worker)
        .header("content-type", "application/json")
        .body(format!(
            "{{\"city_id\": \"{CANARY_NAME}\", \"subject\": {{\"phone\": {CANARY_PHONE}"
        ))
        .send()
        .await
        .unwrap();
    client
        .get(format!("{base}/cases/{CANARY_ID}"))
        .bearer_auth(&worker)
        .send()
        .await
        .unwrap();
    login("worker", "LogCanaryAmina-password").await.unwrap();

    // SIGTERM: the server drains and exits; then everything it printed is read.
    Command::new("kill")
        .args(["-TERM", &server.id().to_string()])
        .status()
        .unwrap();
    let status = server.wait().unwrap();
    assert!(status.success(), "graceful shutdown exits 0");
    stdout.read_to_string(&mut printed).unwrap();
    let mut stderr = String::new();
    server
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    let all = format!("{printed}{stderr}");
    assert!(
        all.contains("request finished"),
        "the server did log requests"
    );
    for canary in [
        CANARY_NAME,
        CANARY_ID,
        CANARY_PHONE,
        "olive-tree-lantern-5",
        "granite-harbour-sky-8",
        code.as_str(),
    ] {
        let leaks: Vec<&str> = all.lines().filter(|l| l.contains(canary)).collect();
        assert!(leaks.is_empty(), "{canary} appears in the logs: {leaks:#?}");
    }
}
