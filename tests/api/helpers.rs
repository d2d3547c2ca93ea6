//! Every test's setup, in one place, so no test file imports another's.
//!
//! `spawn_app()` is the real application on port 0 against a fresh
//! database. Await it for the bare app, or build on it first:
//!
//! ```ignore
//! let s = spawn_app().with_city("MOS").signed_in(Role::SocialWorker).await;
//! let case = create(&s.app, &s.token, &new_case(s.city, "فاطمة")).await;
//! let referral = s.app.refer(&s.token, id_of(&case), org).await;
//! s.app.step(&provider, id_of(&referral), "accept", &json!({})).await;
//! ```

mod accounts;
pub mod audit;
mod database;

use std::future::{Future, IntoFuture};
use std::pin::Pin;

use sanad::db::AnyConnection;
use sanad::domain::{CityId, OrganisationId, OrganisationKind, Role};
use sanad::settings::Settings;
use sanad::web::startup::Application;
use secrecy::SecretString;
use serde_json::{Value, json};
use uuid::Uuid;

pub use accounts::{ENROLLED, totp_code};
pub use database::{TestDatabase, contains, contains_bytes, database_bytes};

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

/// What [`spawn_app`] starts from: the app to build, and the city and the
/// signed-in user to make in it once it runs.
pub struct Setup {
    city: Option<String>,
}

/// The real application on a fresh database; `.await` it, or add cities
/// and a signed-in user first.
pub fn spawn_app() -> Setup {
    Setup { city: None }
}

impl Setup {
    /// A city in a seeded governorate, with this code: the city the
    /// session works in.
    pub fn with_city(self, code: &str) -> Setup {
        Setup {
            city: Some(code.to_string()),
        }
    }

    /// A new user of this role, signed in: of the city for the roles held
    /// in cities, of a new psychosocial organisation in it for provider
    /// staff, of neither for the national roles.
    pub fn signed_in(self, role: Role) -> SignedIn {
        SignedIn { setup: self, role }
    }

    async fn start(self) -> (TestApp, Option<CityId>) {
        let app = spawn_app_with(TestDatabase::create(), |_| {}).await;
        let city = self.city.map(|code| app.city(&code));
        (app, city)
    }
}

impl IntoFuture for Setup {
    type Output = TestApp;
    type IntoFuture = Pin<Box<dyn Future<Output = TestApp>>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(async move { self.start().await.0 })
    }
}

/// A [`Setup`] with a user to sign in.
pub struct SignedIn {
    setup: Setup,
    role: Role,
}

/// A running app, its city, and one signed-in user.
pub struct Session {
    pub app: TestApp,
    pub city: CityId,
    /// The provider's organisation, for provider staff.
    pub org: Option<OrganisationId>,
    pub user: TestUser,
    pub token: String,
}

impl IntoFuture for SignedIn {
    type Output = Session;
    type IntoFuture = Pin<Box<dyn Future<Output = Session>>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(async move {
            let (app, city) = self.setup.start().await;
            let city = city.expect("a session needs a city: with_city");
            let (scope, org) = match self.role {
                Role::ProviderStaff => (
                    Vec::new(),
                    Some(app.organisation(OrganisationKind::Psychosocial, city)),
                ),
                role if role.is_city_scoped() => (vec![city], None),
                _ => (Vec::new(), None),
            };
            let user = app.user(self.role, &scope, org);
            let token = app.token(&user).await;
            Session {
                app,
                city,
                org,
                user,
                token,
            }
        })
    }
}

/// A case as a social worker would send it, in `city`, with this name.
pub fn new_case(city: CityId, name: &str) -> Value {
    json!({
        "city_id": city,
        "subject": {
            "full_name": name,
            "full_name_latin": "Fatima Ahmed",
            "sex": "female",
            "date_of_birth": "1990-04-12",
            "national_id": "1990 1234 5678",
            "phone": "0770 123 4567",
            "address": "Hay al-Tanak, Mosul"
        },
        "origin": {"kind": "camp", "place": "al-Hol"},
        "return_date": "2026-03-01",
        "vulnerability_flags": ["female_headed_household", "lacks_civil_documents"],
        "vulnerability_notes": "Needs a civil ID renewal.",
        "consent": {"share_with_providers": true, "given_by": "self", "given_at": "2026-03-02T09:00:00Z"}
    })
}

/// Opens a case (201 expected) and returns it.
pub async fn create(app: &TestApp, token: &str, body: &Value) -> Value {
    let response = app.post_as(token, "/api/v1/cases", body).await;
    assert_eq!(response.status().as_u16(), 201, "create case");
    response.json().await.unwrap()
}

/// Refers a case to a psychosocial organisation (201 expected) and returns
/// the referral.
pub async fn refer(app: &TestApp, token: &str, case: &str, org: OrganisationId) -> Value {
    let response = app
        .post_as(
            token,
            &format!("/api/v1/cases/{case}/referrals"),
            &json!({
                "kind": "psychosocial",
                "organisation_id": org,
                "reason": "Nightmares since the camp; wants counselling",
                "needs": ["counselling", "trauma_support"],
                "due_by": "2099-01-31"
            }),
        )
        .await;
    assert_eq!(response.status().as_u16(), 201, "create referral");
    response.json().await.unwrap()
}

/// One step of a referral's state machine (`accept`, `decline`, …).
pub async fn step(
    app: &TestApp,
    token: &str,
    id: &str,
    name: &str,
    body: &Value,
) -> reqwest::Response {
    app.post_as(token, &format!("/api/v1/referrals/{id}/{name}"), body)
        .await
}

/// The `id` of an answer, as text.
pub fn id_of(value: &Value) -> &str {
    value["id"].as_str().expect("an id")
}

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
        let governorate = {
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
                governorate_id: governorate,
            },
        )
        .expect("city created");
        city.id
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
        org.id
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
            id: row.id.to_string(),
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

    /// Every item of a paged list, following `next_cursor` to the end (the
    /// path may carry a query string already).
    pub async fn all_items(&self, token: &str, path: &str) -> Value {
        let mut items = Vec::new();
        let mut next: Option<String> = None;
        loop {
            let url = match &next {
                None => path.to_string(),
                Some(cursor) if path.contains('?') => format!("{path}&cursor={cursor}"),
                Some(cursor) => format!("{path}?cursor={cursor}"),
            };
            let response = self.get_as(token, &url).await;
            assert_eq!(response.status().as_u16(), 200, "list {path}");
            let page: Value = response.json().await.expect("a page");
            items.extend(page["items"].as_array().expect("items").iter().cloned());
            match page["next_cursor"].as_str() {
                Some(cursor) => next = Some(cursor.to_string()),
                None => return Value::Array(items),
            }
        }
    }

    /// Gives or withdraws the person's consent to share with providers, as
    /// a worker does (a PATCH with the ETag just read); the answer's status.
    pub async fn set_consent(&self, token: &str, case: &str, share: bool) -> u16 {
        let read = self.get_as(token, &format!("/api/v1/cases/{case}")).await;
        let etag = read.headers()["etag"].to_str().unwrap().to_string();
        let consent = json!({"share_with_providers": share, "given_by": "self", "given_at": "2026-04-01T09:00:00Z"});
        self.client
            .patch(self.url(&format!("/api/v1/cases/{case}")))
            .bearer_auth(token)
            .header("if-match", etag)
            .json(&json!({ "consent": consent }))
            .send()
            .await
            .expect("request sent")
            .status()
            .as_u16()
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        // The stop command is sent at once; nothing needs to wait for it.
        drop(self.server.stop(false));
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
