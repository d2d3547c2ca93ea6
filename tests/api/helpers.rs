//! `spawn_app()`: the real application on port 0 against a fresh database.

use diesel::{Connection, PgConnection, RunQueryDsl};
use sanad::db::AnyConnection;
use sanad::domain::{CityId, OrganisationId, OrganisationKind, Role};
use sanad::settings::Settings;
use sanad::web::startup::Application;
use secrecy::SecretString;
use serde_json::{Value, json};
use uuid::Uuid;

pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
    pub db: TestDatabase,
    pub keyring_path: std::path::PathBuf,
    server: actix_web::dev::ServerHandle,
    _scratch: tempfile::TempDir,
}

/// A user made for a test, with the password it was made with.
#[derive(Debug, Clone)]
pub struct TestUser {
    pub id: String,
    pub username: String,
    pub password: String,
}

pub const PASSWORD: &str = "correct-horse-battery-7";

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(self.url(path))
            .send()
            .await
            .expect("request sent")
    }

    /// A direct connection to the test's database, for arranging rows.
    pub fn conn(&self) -> AnyConnection {
        sanad::db::ConnectionManager::new(self.db.url(), 5000)
            .expect("url")
            .establish()
            .expect("connect to the test database")
    }

    /// A city in a seeded governorate (Nineveh).
    pub fn city(&self, code: &str) -> CityId {
        use sanad::places::model::CreateCity;
        let mut conn = self.conn();
        let governorate: String = {
            use diesel::prelude::*;
            use sanad::db::schema::governorates;
            governorates::table
                .filter(governorates::code.eq("IQ-NI"))
                .select(governorates::id)
                .first(&mut conn)
                .expect("seeded governorate")
        };
        let city = sanad::places::store::create_city(
            &mut conn,
            &CreateCity {
                code: code.into(),
                name_en: format!("City {code}"),
                name_ar: format!("مدينة {code}"),
                governorate_id: governorate.parse().unwrap(),
            },
        )
        .expect("city created");
        city.id.parse().unwrap()
    }

    pub fn organisation(&self, kind: OrganisationKind, city: CityId) -> OrganisationId {
        use sanad::places::model::CreateOrganisation;
        let org = sanad::places::store::create_organisation(
            &mut self.conn(),
            &CreateOrganisation {
                name: format!("Centre {}", Uuid::new_v4().simple()),
                kind,
                city_id: city,
            },
        )
        .expect("organisation created");
        org.id.parse().unwrap()
    }

    /// A user of this role, straight into the database.
    pub fn user(&self, role: Role, cities: &[CityId], org: Option<OrganisationId>) -> TestUser {
        let username = format!(
            "{}-{}",
            role.as_str().replace('_', "-"),
            &Uuid::new_v4().simple().to_string()[..8]
        );
        let hash = sanad::auth::password::hash(PASSWORD).expect("hash");
        let row = sanad::users::store::create(
            &mut self.conn(),
            sanad::users::store::NewUser {
                username: &username,
                display_name: "Test User",
                password_hash: &hash,
                role,
                city_ids: cities,
                organisation_id: org,
            },
        )
        .expect("user created");
        TestUser {
            id: row.id,
            username,
            password: PASSWORD.into(),
        }
    }

    pub async fn login(&self, username: &str, password: &str) -> reqwest::Response {
        self.client
            .post(self.url("/api/v1/auth/login"))
            .json(&json!({"username": username, "password": password}))
            .send()
            .await
            .expect("request sent")
    }

    /// Signs a user in and returns their access token.
    pub async fn token(&self, user: &TestUser) -> String {
        let response = self.login(&user.username, &user.password).await;
        assert_eq!(
            response.status().as_u16(),
            200,
            "login of {}",
            user.username
        );
        let body: Value = response.json().await.unwrap();
        body["access_token"].as_str().unwrap().to_string()
    }

    /// A new user of this role, signed in: their access token.
    pub async fn signed_in(
        &self,
        role: Role,
        cities: &[CityId],
        org: Option<OrganisationId>,
    ) -> String {
        let user = self.user(role, cities, org);
        self.token(&user).await
    }

    pub async fn get_as(&self, token: &str, path: &str) -> reqwest::Response {
        self.client
            .get(self.url(path))
            .bearer_auth(token)
            .send()
            .await
            .expect("request sent")
    }

    pub async fn post_as(&self, token: &str, path: &str, body: &Value) -> reqwest::Response {
        self.client
            .post(self.url(path))
            .bearer_auth(token)
            .json(body)
            .send()
            .await
            .expect("request sent")
    }

    pub async fn patch_as(&self, token: &str, path: &str, body: &Value) -> reqwest::Response {
        self.client
            .patch(self.url(path))
            .bearer_auth(token)
            .json(body)
            .send()
            .await
            .expect("request sent")
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        // The stop command is sent at once; nothing needs to wait for it.
        drop(self.server.stop(false));
    }
}

/// The database a test runs against; dropped (PostgreSQL) or deleted
/// (SQLite) when the test ends.
pub enum TestDatabase {
    Sqlite {
        _dir: tempfile::TempDir,
        url: String,
    },
    Postgres {
        admin_url: String,
        name: String,
        url: String,
    },
    /// Another test's database, used by a second server (a "restarted"
    /// node); the owner creates and drops it.
    Shared { url: String },
}

impl TestDatabase {
    pub fn create() -> TestDatabase {
        match std::env::var("TEST_DATABASE_URL") {
            Ok(admin_url) if !admin_url.trim().is_empty() => {
                let name = format!("sanad_test_{}", Uuid::new_v4().simple());
                let mut admin = PgConnection::establish(&admin_url).unwrap_or_else(|e| {
                    panic!("TEST_DATABASE_URL is set but PostgreSQL cannot be reached: {e}")
                });
                diesel::sql_query(format!("CREATE DATABASE \"{name}\""))
                    .execute(&mut admin)
                    .expect("create the test database");
                let mut url = url::Url::parse(&admin_url).expect("TEST_DATABASE_URL is a URL");
                url.set_path(&name);
                TestDatabase::Postgres {
                    admin_url,
                    name,
                    url: url.to_string(),
                }
            }
            _ => {
                let dir = tempfile::tempdir().expect("temporary directory");
                let url = format!("sqlite://{}/sanad.db", dir.path().display());
                TestDatabase::Sqlite { _dir: dir, url }
            }
        }
    }

    pub fn url(&self) -> &str {
        match self {
            TestDatabase::Sqlite { url, .. }
            | TestDatabase::Postgres { url, .. }
            | TestDatabase::Shared { url } => url,
        }
    }

    pub fn is_postgres(&self) -> bool {
        matches!(self, TestDatabase::Postgres { .. })
    }

    /// For PostgreSQL: refuse (or allow again) new connections to the test
    /// database and end the open ones — the database "goes down" for this
    /// test only.
    pub fn set_reachable(&self, reachable: bool) {
        let TestDatabase::Postgres {
            admin_url, name, ..
        } = self
        else {
            panic!("only a PostgreSQL test database can be taken down");
        };
        let mut admin = PgConnection::establish(admin_url).expect("admin connection");
        diesel::sql_query(format!(
            "ALTER DATABASE \"{name}\" ALLOW_CONNECTIONS {reachable}"
        ))
        .execute(&mut admin)
        .expect("alter database");
        if !reachable {
            diesel::sql_query(format!(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'"
            ))
            .execute(&mut admin)
            .expect("terminate backends");
        }
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if let TestDatabase::Postgres {
            admin_url, name, ..
        } = self
            && let Ok(mut admin) = PgConnection::establish(admin_url)
        {
            let _ = diesel::sql_query(format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
                .execute(&mut admin);
        }
    }
}

/// Settings for a test server: the defaults, port 0, one worker, the test's
/// own database and a keyring file in the test's scratch directory.
pub fn test_settings(db: &TestDatabase, keyring: &std::path::Path) -> Settings {
    let mut settings =
        Settings::load(std::path::Path::new(env!("CARGO_MANIFEST_DIR"))).expect("settings load");
    settings.crypto.keyring_file = Some(keyring.to_path_buf());
    settings.crypto.keyring_json = None;
    settings.server.port = 0;
    settings.server.workers = 1;
    settings.database.url = SecretString::from(db.url().to_string());
    settings.database.pool_max_size = 4;
    settings.database.pool_min_idle = 0;
    settings
}

pub async fn spawn_app() -> TestApp {
    let db = TestDatabase::create();
    spawn_app_with(db, |_| {}).await
}

/// A second server on the same database and keyring file as `app`, as a
/// node restarted after a keyring change would be.
pub async fn spawn_second_node(app: &TestApp) -> TestApp {
    let db = TestDatabase::Shared {
        url: app.db.url().to_string(),
    };
    let keyring = app.keyring_path.clone();
    spawn_app_in(db, None, move |s| s.crypto.keyring_file = Some(keyring)).await
}

pub async fn spawn_app_with(db: TestDatabase, adjust: impl FnOnce(&mut Settings)) -> TestApp {
    spawn_app_in(db, None, adjust).await
}

async fn spawn_app_in(
    db: TestDatabase,
    keyring: Option<std::path::PathBuf>,
    adjust: impl FnOnce(&mut Settings),
) -> TestApp {
    let scratch = tempfile::tempdir().expect("scratch directory");
    let keyring_path = keyring.unwrap_or_else(|| scratch.path().join("keyring.json"));
    let mut settings = test_settings(&db, &keyring_path);
    adjust(&mut settings);
    let keyring_path = settings.crypto.keyring_file.clone().unwrap_or(keyring_path);
    let app = Application::build(settings).expect("the application builds");
    let address = format!("http://127.0.0.1:{}", app.port());
    let server = app.server_handle();
    tokio::spawn(app.run_until_stopped());
    TestApp {
        address,
        client: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("http client"),
        db,
        keyring_path,
        server,
        _scratch: scratch,
    }
}

/// Asserts a problem+json answer with this status, and returns its body.
pub async fn assert_problem(response: reqwest::Response, status: u16) -> serde_json::Value {
    assert_eq!(response.status().as_u16(), status, "status");
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    assert!(
        content_type.starts_with("application/problem+json"),
        "content type was {content_type:?}"
    );
    let body: serde_json::Value = response.json().await.expect("problem body is JSON");
    assert_eq!(body["status"], status, "{body}");
    assert!(
        body["type"].is_string() && body["title"].is_string(),
        "{body}"
    );
    assert!(body["detail"].is_string(), "{body}");
    body
}
