//! Accounts through the API, as people make them: an admin asks, a second
//! person approves, the person enrols with the code; the second factor's
//! codes; the command line; the metrics the throttle tests count with.

use serde_json::{Value, json};

use super::TestApp;

/// A password that passes the policy, for accounts enrolled in tests.
pub const ENROLLED: &str = "lantern-orchard-river-42";

impl TestApp {
    /// `POST /users` as `admin`: 201 expected; the answer
    /// (`{user, enrolment_code, expires_at}`).
    pub async fn create_account(&self, admin: &str, body: &Value) -> Value {
        let response = self.post_as(admin, "/api/v1/users", body).await;
        assert_eq!(response.status().as_u16(), 201, "create account");
        response.json().await.unwrap()
    }

    /// The id of the grant waiting on account `id`, as `token` reads it.
    pub async fn pending_grant(&self, token: &str, id: &str) -> String {
        let user: Value = self
            .get_as(token, &format!("/api/v1/users/{id}"))
            .await
            .json()
            .await
            .unwrap();
        user["pending_grant"]["id"]
            .as_str()
            .unwrap_or_else(|| panic!("no pending grant: {user}"))
            .to_string()
    }

    /// `POST /users/{id}/approve` (or `reject`) naming `request_id`.
    pub async fn decide(
        &self,
        token: &str,
        id: &str,
        verb: &str,
        request_id: &str,
    ) -> reqwest::Response {
        self.post_as(
            token,
            &format!("/api/v1/users/{id}/{verb}"),
            &json!({"request_id": request_id}),
        )
        .await
    }

    /// Approves what waits on account `id` as `token` (200 expected) and
    /// returns the answer, with its enrolment code when one is issued.
    pub async fn approve(&self, token: &str, id: &str) -> Value {
        let grant = self.pending_grant(token, id).await;
        let response = self.decide(token, id, "approve", &grant).await;
        assert_eq!(response.status().as_u16(), 200, "approve");
        response.json().await.unwrap()
    }

    /// Signs in (200 expected) and returns the access token.
    pub async fn token_of(&self, username: &str, password: &str) -> String {
        let response = self.login(username, password).await;
        assert_eq!(response.status().as_u16(), 200, "login of {username}");
        let body: Value = response.json().await.unwrap();
        body["access_token"].as_str().unwrap().to_string()
    }

    /// Approves what waits on account `id` as `approver`, then enrols the
    /// person with the code the approver was given (password [`ENROLLED`]).
    pub async fn approve_and_enrol(&self, approver: &str, id: &str, username: &str) {
        let approved = self.approve(approver, id).await;
        let code = approved["enrolment_code"].as_str().expect("a code");
        let enrolled = self.enrol(username, code, ENROLLED).await;
        assert_eq!(enrolled.status().as_u16(), 204, "enrol {username}");
    }

    /// `POST /auth/enrol`.
    pub async fn enrol(&self, username: &str, code: &str, password: &str) -> reqwest::Response {
        self.client
            .post(self.url("/api/v1/auth/enrol"))
            .json(&json!({"username": username, "enrolment_code": code, "new_password": password}))
            .send()
            .await
            .expect("request sent")
    }

    /// `POST /auth/login` with a second factor's code.
    pub async fn login_with_code(
        &self,
        username: &str,
        password: &str,
        code: &str,
    ) -> reqwest::Response {
        self.client
            .post(self.url("/api/v1/auth/login"))
            .json(&json!({"username": username, "password": password, "totp_code": code}))
            .send()
            .await
            .expect("request sent")
    }

    /// A Prometheus counter's value now (0 when absent).
    pub async fn metric(&self, name: &str) -> f64 {
        let text = self.get("/metrics").await.text().await.unwrap();
        text.lines()
            .find_map(|line| {
                let (key, value) = line.split_once(' ')?;
                (key == name).then(|| value.trim().parse().ok())?
            })
            .unwrap_or(0.0)
    }

    /// Runs the `sanad` binary on this test's database and keyring, with
    /// `stdin` as its input.
    pub fn sanad(&self, args: &[&str], stdin: &str) -> std::process::Output {
        use std::io::Write;
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_sanad"))
            .args(args)
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .env("SANAD__DATABASE__URL", self.db.url())
            .env("SANAD__CRYPTO__KEYRING_FILE", &self.keyring_path)
            .env("SANAD__LOG__LEVEL", "warn")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("sanad runs");
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(stdin.as_bytes())
            .expect("stdin written");
        child.wait_with_output().expect("sanad ends")
    }
}

/// The code an authenticator app with this secret shows `offset` seconds
/// from now.
pub fn totp_code(secret: &str, username: &str, offset: i64) -> String {
    sanad::auth::totp::code_at(secret, username, chrono::Utc::now().timestamp() + offset)
        .expect("a code")
}
