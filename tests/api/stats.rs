//! Statistics over HTTP. Ministry officials get figures only from stored
//! releases; each attack that singled people out of the old per-answer
//! suppression is replayed here and recovers nothing exact. City
//! supervisors get exact live counts of their own cities.

use std::collections::{BTreeMap, BTreeSet};

use chrono::NaiveDateTime;
use diesel::prelude::*;
use sanad::domain::{CityId, Role};
use sanad::settings::StatsSettings;
use sanad::stats::mechanism::GaussianCounts;
use sanad::stats::release::{self, Made, ReleaseError, Trigger};
use serde_json::{Value, json};

use crate::helpers::{TestApp, assert_problem, create, new_case, spawn_app, test_settings};

pub fn stats_settings(app: &TestApp) -> StatsSettings {
    test_settings(&app.db, &app.keyring_path).stats
}

fn at(text: &str) -> NaiveDateTime {
    NaiveDateTime::parse_from_str(&format!("{text} 12:00:00"), "%Y-%m-%d %H:%M:%S").unwrap()
}

/// A release made by the operator as of `now`.
pub fn release_at(
    app: &TestApp,
    settings: &StatsSettings,
    now: &str,
) -> Result<Made, ReleaseError> {
    // As `sanad stats release` does, with the audit keys in scope.
    sanad::crypto::audit_keys::scope(&app.audit_keys(), || {
        release::make(
            &mut app.conn(),
            settings,
            Trigger::Operator,
            at(now),
            &GaussianCounts,
            &mut |_| {},
        )
    })
    .map(|made| made.expect("an operator's release is always made"))
}

/// A person who returned on `returned` (YYYY-MM-DD) in `city`.
async fn person(app: &TestApp, token: &str, city: CityId, returned: &str, sex: &str) -> Value {
    let mut body = new_case(city, "سارة علي");
    body["return_date"] = json!(returned);
    body["subject"]["sex"] = json!(sex);
    body["consent"]["given_at"] = json!(format!("{returned}T09:00:00Z"));
    create(app, token, &body).await
}

async fn json_of(app: &TestApp, token: &str, path: &str) -> Value {
    let response = app.get_as(token, path).await;
    assert_eq!(response.status().as_u16(), 200, "{path}");
    response.json().await.unwrap()
}

fn cells(table: &Value) -> &Vec<Value> {
    table["cells"].as_array().unwrap()
}

/// A stored cell: month, governorate, d1, d2, d3, noisy value.
type StoredCell = (String, String, String, String, String, i64);

/// The raw noisy cells of a table as stored, summed by `by` (column names
/// of stats_cells) over the months `first..=last`.
fn stored_sums(
    app: &TestApp,
    table: &str,
    first: &str,
    last: &str,
    by: fn(&StoredCell) -> String,
) -> BTreeMap<String, i64> {
    use sanad::db::schema::stats_cells as c;
    let rows: Vec<StoredCell> = c::table
        .filter(c::table_name.eq(table))
        .filter(c::month.ge(first))
        .filter(c::month.le(last))
        .select((c::month, c::governorate, c::d1, c::d2, c::d3, c::value))
        .load(&mut app.conn())
        .unwrap();
    let mut sums = BTreeMap::new();
    for row in &rows {
        *sums.entry(by(row)).or_default() += row.5;
    }
    sums
}

#[tokio::test]
async fn ministry_figures_come_only_from_a_release_and_supervisors_see_their_own_cities_exactly() {
    let app = spawn_app().await;
    let mosul = app.city("MOS");
    let telafar = app.city("TAF");
    let worker = app
        .signed_in(Role::SocialWorker, &[mosul, telafar], None)
        .await;
    for i in 0..12 {
        person(
            &app,
            &worker,
            mosul,
            "2025-03-10",
            if i < 9 { "female" } else { "male" },
        )
        .await;
    }
    for _ in 0..3 {
        person(&app, &worker, telafar, "2025-04-02", "male").await;
    }
    let ministry = app.signed_in(Role::MinistryOfficial, &[], None).await;
    let supervisor = app.signed_in(Role::CitySupervisor, &[mosul], None).await;

    let none_yet = assert_problem(app.get_as(&ministry, "/api/v1/stats/cases").await, 422).await;
    assert_eq!(none_yet["errors"][0]["field"], "release");

    let made = release_at(&app, &stats_settings(&app), "2026-12-01").unwrap();
    let path = "/api/v1/stats/cases?group_by=city&period=2025";
    let national = json_of(&app, &ministry, path).await;
    assert_eq!(national["source"], "release");
    assert_eq!(national["release"]["id"], made.id.to_string());
    assert_eq!(national["table"], "cases.city");
    assert_eq!(
        national["months"],
        json!({"first": "2025-01", "last": "2025-12"})
    );
    let privacy = &national["release"]["privacy"];
    assert!(privacy["rho"].as_f64().unwrap() > 0.0);
    assert!(privacy["epsilon"].as_f64().unwrap() > 0.0);
    assert_eq!(privacy["rho_year_limit"], 4.0);
    assert_eq!(national["release"]["k"], 11);
    // The full grid: both cities, whatever the data.
    assert_eq!(cells(&national).len(), 2);
    for cell in cells(&national) {
        assert!(cell["margin_95"].as_u64().unwrap() > 0, "{cell}");
        match cell["count"].as_i64() {
            Some(n) => assert!(n >= 11 && cell["suppressed"] == false, "{cell}"),
            None => assert_eq!(cell["suppressed"], true, "{cell}"),
        }
    }
    // The same request always gives the same answer.
    assert_eq!(json_of(&app, &ministry, path).await, national);
    let by_sex = json_of(
        &app,
        &ministry,
        "/api/v1/stats/cases?group_by=governorate,sex",
    )
    .await;
    assert_eq!(by_sex["table"], "cases.governorate_sex_age");
    assert_eq!(
        cells(&by_sex).len(),
        2,
        "one governorate with cities, two sexes"
    );

    let own = json_of(
        &app,
        &supervisor,
        "/api/v1/stats/cases?group_by=city,sex&period=2025",
    )
    .await;
    assert_eq!(own["source"], "live");
    assert!(own["release"].is_null());
    assert_eq!(
        cells(&own),
        &vec![
            json!({"city": "MOS", "sex": "female", "count": 9, "margin_95": 0, "suppressed": false}),
            json!({"city": "MOS", "sex": "male", "count": 3, "margin_95": 0, "suppressed": false}),
        ],
        "exact, and only the supervisor's own city"
    );
    let governorate = json_of(
        &app,
        &supervisor,
        "/api/v1/stats/cases?group_by=governorate",
    )
    .await;
    assert_eq!(
        cells(&governorate),
        &vec![json!({"governorate": "IQ-NI", "count": 12, "margin_95": 0, "suppressed": false})],
        "no figure of another city, not even inside a total"
    );
    assert_problem(
        app.get_as(
            &supervisor,
            &format!("/api/v1/stats/cases?release={}", made.id),
        )
        .await,
        422,
    )
    .await;

    for role in [Role::SocialWorker, Role::Auditor, Role::Admin] {
        let cities = if role.is_city_scoped() {
            vec![mosul]
        } else {
            vec![]
        };
        let token = app.signed_in(role, &cities, None).await;
        assert_problem(app.get_as(&token, "/api/v1/stats/cases").await, 403).await;
        assert_problem(app.get_as(&token, "/api/v1/stats/releases").await, 403).await;
    }
}

#[tokio::test]
async fn day_ranges_wide_tables_and_unknown_releases_are_refused_before_any_counting() {
    let app = spawn_app().await;
    let ministry = app.signed_in(Role::MinistryOfficial, &[], None).await;
    release_at(&app, &stats_settings(&app), "2026-12-01").unwrap();
    let refused = [
        ("/api/v1/stats/cases?from=2025-03-01&to=2025-03-02", "from"),
        ("/api/v1/stats/cases?period=2025-03-05", "period"),
        ("/api/v1/stats/cases?period=2025-03..2025-04", "period"),
        ("/api/v1/stats/cases?period=2025-W10", "period"),
        (
            "/api/v1/stats/cases?group_by=governorate,sex,age_band,origin_kind",
            "group_by",
        ),
        (
            "/api/v1/stats/cases?group_by=city,vulnerability",
            "group_by",
        ),
        ("/api/v1/stats/cases?group_by=sex,status", "group_by"),
        ("/api/v1/stats/cases?group_by=tribe", "group_by"),
        ("/api/v1/stats/referrals?group_by=city,state", "group_by"),
        (
            "/api/v1/stats/cases?release=7b0e5c1e-9b1a-4d3e-8f00-000000000000",
            "release",
        ),
        ("/api/v1/stats/cases?period=2030", "period"),
        // A parameter name that is not a plain name is not echoed.
        ("/api/v1/stats/cases?fr%00%C3%A4m=1", "query"),
    ];
    for (path, field) in refused {
        let problem = assert_problem(app.get_as(&ministry, path).await, 422).await;
        assert_eq!(problem["errors"][0]["field"], field, "{path}: {problem}");
    }
    let wide = assert_problem(
        app.get_as(&ministry, "/api/v1/stats/cases?group_by=sex,status")
            .await,
        422,
    )
    .await;
    let message = wide["errors"][0]["message"].as_str().unwrap();
    assert!(
        message.contains("status") && message.contains("age_band"),
        "lists what is available: {message}"
    );
}

#[tokio::test]
async fn date_and_hierarchy_differencing_recover_only_noise() {
    let app = spawn_app().await;
    // Ten small cities of one governorate, a few people each, and one large.
    let mut small = Vec::new();
    for i in 0..10 {
        small.push(app.city(&format!("S{i:02}")));
    }
    let large = app.city("MOS");
    let mut cities = small.clone();
    cities.push(large);
    let worker = app.signed_in(Role::SocialWorker, &cities, None).await;
    let mut truth: BTreeMap<String, i64> = BTreeMap::new();
    for (i, city) in small.iter().enumerate() {
        for _ in 0..(1 + i % 3) {
            person(&app, &worker, *city, "2025-05-14", "female").await;
            *truth.entry(format!("S{i:02}")).or_default() += 1;
        }
    }
    for _ in 0..30 {
        person(&app, &worker, large, "2025-05-20", "female").await;
    }
    let ministry = app.signed_in(Role::MinistryOfficial, &[], None).await;
    release_at(&app, &stats_settings(&app), "2026-12-01").unwrap();

    // The governorate figure is the sum of its cities' released cells, and
    // a quarter the sum of its months: one consistent set of figures.
    let by_city = stored_sums(&app, "cases.city", "2025-04", "2025-06", |r| r.2.clone());
    let by_governorate = stored_sums(&app, "cases.city", "2025-04", "2025-06", |r| r.1.clone());
    let nineveh = by_governorate["IQ-NI"];
    assert_eq!(nineveh, by_city.values().sum::<i64>());
    let answer = json_of(
        &app,
        &ministry,
        "/api/v1/stats/cases?group_by=governorate&period=2025-Q2",
    )
    .await;
    let published = cells(&answer)
        .iter()
        .find(|c| c["governorate"] == "IQ-NI")
        .unwrap()
        .clone();
    match published["count"].as_i64() {
        Some(count) => assert_eq!(count, nineveh, "{published}"),
        // Many cells summed: their noise can bring a small total below k.
        None => assert!(nineveh < 11, "{published}"),
    }
    let months: i64 = ["2025-04", "2025-05", "2025-06"]
        .iter()
        .map(|m| stored_sums(&app, "cases.city", m, m, |r| r.1.clone())["IQ-NI"])
        .sum();
    assert_eq!(months, nineveh);

    // Governorate minus the visible cities gives the hidden cities' noisy
    // sum, never their true counts: across ten small cities, the released
    // figures cannot all be exact.
    let city_answer = json_of(
        &app,
        &ministry,
        "/api/v1/stats/cases?group_by=city&period=2025-05",
    )
    .await;
    let hidden: Vec<&Value> = cells(&city_answer)
        .iter()
        .filter(|c| c["suppressed"] == true)
        .collect();
    assert!(!hidden.is_empty(), "small cities are suppressed");
    let released = stored_sums(&app, "cases.city", "2025-05", "2025-05", |r| r.2.clone());
    let exact = truth
        .iter()
        .filter(|(city, n)| released[*city] == **n)
        .count();
    assert!(
        exact < truth.len(),
        "every small city's figure was exact: {released:?}"
    );

    // Two overlapping day ranges were the date-differencing attack: there
    // are no day ranges to ask for, and the month is the finest period.
    assert_problem(
        app.get_as(
            &ministry,
            "/api/v1/stats/cases?group_by=city&from=2025-05-01&to=2025-05-14",
        )
        .await,
        422,
    )
    .await;
}

#[tokio::test]
async fn zero_cells_are_noised_and_labelled_like_any_other() {
    let app = spawn_app().await;
    let mosul = app.city("MOS");
    app.city("TAF");
    app.city("HAM");
    let worker = app.signed_in(Role::SocialWorker, &[mosul], None).await;
    for _ in 0..5 {
        person(&app, &worker, mosul, "2025-07-03", "female").await;
    }
    let ministry = app.signed_in(Role::MinistryOfficial, &[], None).await;
    release_at(&app, &stats_settings(&app), "2026-12-01").unwrap();
    let labels = |table: &Value| -> BTreeSet<String> {
        cells(table)
            .iter()
            .map(|c| {
                format!(
                    "{}|{}|{}|{}",
                    c["governorate"], c["city"], c["sex"], c["age_band"]
                )
            })
            .collect()
    };
    for group_by in ["city", "governorate,sex,age_band"] {
        let with_people = json_of(
            &app,
            &ministry,
            &format!("/api/v1/stats/cases?group_by={group_by}&period=2025-07"),
        )
        .await;
        let without = json_of(
            &app,
            &ministry,
            &format!("/api/v1/stats/cases?group_by={group_by}&period=2025-08"),
        )
        .await;
        assert_eq!(labels(&with_people), labels(&without), "{group_by}");
    }
    let cities = stored_sums(&app, "cases.city", "2025-08", "2025-08", |r| r.2.clone());
    assert_eq!(cities.len(), 3, "every city");
    // Every empty cell of August was noised: the twelve of sex and age
    // band are not all zero.
    let august = stored_sums(
        &app,
        "cases.governorate_sex_age",
        "2025-08",
        "2025-08",
        |r| format!("{}{}", r.2, r.3),
    );
    assert_eq!(august.len(), 2 * 6, "every sex and band");
    assert!(august.values().any(|v| *v != 0), "{august:?}");
}

#[tokio::test]
async fn a_released_month_never_changes_and_the_ledger_caps_the_year() {
    let app = spawn_app().await;
    let mosul = app.city("MOS");
    let worker = app.signed_in(Role::SocialWorker, &[mosul], None).await;
    for _ in 0..20 {
        person(&app, &worker, mosul, "2025-09-09", "female").await;
    }
    let ministry = app.signed_in(Role::MinistryOfficial, &[], None).await;
    let mut settings = stats_settings(&app);
    settings.rho_per_release = 0.25;
    settings.rho_per_year = 0.38;
    let first = release_at(&app, &settings, "2026-12-01").unwrap();
    assert_eq!(first.rho_year_total, first.rho);
    let monthly = format!(
        "/api/v1/stats/cases?group_by=governorate,sex,age_band&period=2025-09&release={}",
        first.id
    );
    let before = json_of(&app, &ministry, &monthly).await;

    // Someone entered late for a released month: the month's frozen cells
    // stay as they were, and the status snapshot of the next release
    // counts them.
    person(&app, &worker, mosul, "2025-09-20", "male").await;
    let second = release_at(&app, &settings, "2026-12-02").unwrap();
    assert_eq!(second.plan.new_months, None, "no month settled in between");
    assert!(second.rho < first.rho, "a snapshot alone spends less");
    let after = json_of(
        &app,
        &ministry,
        &monthly.replace(&first.id.to_string(), &second.id.to_string()),
    )
    .await;
    assert_eq!(cells(&after), cells(&before));
    assert_eq!(
        json_of(&app, &ministry, &monthly).await,
        before,
        "an old release reads the same"
    );
    let status = json_of(
        &app,
        &ministry,
        "/api/v1/stats/cases?group_by=status&period=2025-09",
    )
    .await;
    assert_eq!(status["table"], "cases.governorate_status");
    assert_eq!(status["release"]["seq"], second.seq);

    // A third would pass this year's limit: refused, and nothing stored.
    let refused = release_at(&app, &settings, "2026-12-03");
    assert!(
        matches!(refused, Err(ReleaseError::OverBudget { .. })),
        "{refused:?}"
    );
    let releases = json_of(&app, &ministry, "/api/v1/stats/releases").await;
    let items = releases["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert_eq!(items[0]["release"]["seq"], second.seq);
    let total = items[0]["release"]["privacy"]["rho_year_total"]
        .as_f64()
        .unwrap();
    assert!((total - (first.rho + second.rho)).abs() < 1e-9);
    let ledger = items[1]["ledger"].as_array().unwrap();
    assert_eq!(
        ledger.len(),
        sanad::stats::design::TABLES.len(),
        "the first release measured every table"
    );
    let spent: f64 = ledger.iter().map(|l| l["rho"].as_f64().unwrap()).sum();
    assert!((spent - first.rho).abs() < 1e-9);
    // The next year has its own budget.
    release_at(&app, &settings, "2027-01-05").unwrap();
}

#[tokio::test]
async fn the_server_releases_each_settled_month_once_a_first_release_exists() {
    let app = spawn_app().await;
    let settings = stats_settings(&app);
    let keys = app.audit_keys();
    let scheduled = |now: &str| {
        sanad::crypto::audit_keys::scope(&keys, || {
            release::make(
                &mut app.conn(),
                &settings,
                Trigger::Scheduled,
                at(now),
                &GaussianCounts,
                &mut |_| {},
            )
        })
        .unwrap()
    };
    assert!(
        scheduled("2026-06-15").is_none(),
        "the first is the operator's"
    );
    let first = release_at(&app, &settings, "2026-06-15").unwrap();
    assert_eq!(
        first
            .plan
            .new_months
            .map(|(a, b)| (a.to_string(), b.to_string())),
        Some(("2019-01".into(), "2026-04".into()))
    );
    assert!(scheduled("2026-06-30").is_none(), "May has not settled");
    let next = scheduled("2026-07-01").expect("May settled on the first of July");
    assert_eq!(
        next.plan
            .new_months
            .map(|(a, b)| (a.to_string(), b.to_string())),
        Some(("2026-05".into(), "2026-05".into()))
    );
    assert!(scheduled("2026-07-02").is_none(), "once");
}

#[tokio::test]
async fn referral_figures_come_from_the_release_with_outcomes_only_where_they_exist() {
    let app = spawn_app().await;
    let mosul = app.city("MOS");
    let worker = app.signed_in(Role::SocialWorker, &[mosul], None).await;
    let org = app.organisation(sanad::domain::OrganisationKind::Psychosocial, mosul);
    for _ in 0..4 {
        let case = person(&app, &worker, mosul, "2025-01-15", "female").await;
        let response = app
            .post_as(
                &worker,
                &format!("/api/v1/cases/{}/referrals", case["id"].as_str().unwrap()),
                &json!({"kind": "psychosocial", "organisation_id": org, "reason": "counselling"}),
            )
            .await;
        assert_eq!(response.status().as_u16(), 201);
    }
    let ministry = app.signed_in(Role::MinistryOfficial, &[], None).await;
    // Referrals are made today: release as of a day when this month settled.
    let now = chrono::Utc::now().date_naive() + chrono::Months::new(2);
    release_at(&app, &stats_settings(&app), &now.to_string()).unwrap();
    let by_state = json_of(
        &app,
        &ministry,
        "/api/v1/stats/referrals?group_by=kind,state,outcome",
    )
    .await;
    assert_eq!(
        by_state["table"],
        "referrals.governorate_kind_state_outcome"
    );
    for cell in cells(&by_state) {
        assert_eq!(
            cell["state"] == "completed",
            cell["outcome"] != "none",
            "no impossible cell: {cell}"
        );
    }
    // 9 kinds × (5 states without outcome + completed × 8 outcomes).
    assert_eq!(cells(&by_state).len(), 9 * 13);

    let supervisor = app.signed_in(Role::CitySupervisor, &[mosul], None).await;
    let live = json_of(
        &app,
        &supervisor,
        "/api/v1/stats/referrals?group_by=kind,state",
    )
    .await;
    let pending = cells(&live)
        .iter()
        .find(|c| c["kind"] == "psychosocial" && c["state"] == "pending")
        .unwrap()
        .clone();
    assert_eq!(pending["count"], 4);
}

#[tokio::test]
async fn csv_carries_an_hxl_row_and_every_request_and_release_is_audited() {
    let app = spawn_app().await;
    let mosul = app.city("MOS");
    let worker = app.signed_in(Role::SocialWorker, &[mosul], None).await;
    for _ in 0..3 {
        person(&app, &worker, mosul, "2025-02-02", "female").await;
    }
    let ministry = app.signed_in(Role::MinistryOfficial, &[], None).await;
    let made = release_at(&app, &stats_settings(&app), "2026-12-01").unwrap();
    let response = app
        .client
        .get(app.url("/api/v1/stats/cases?group_by=governorate,sex&period=2025-Q1"))
        .bearer_auth(&ministry)
        .header("accept", "text/csv")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    let body = response.text().await.unwrap();
    let mut lines = body.lines();
    assert_eq!(
        lines.next(),
        Some("governorate,sex,count,margin_95,suppressed")
    );
    assert_eq!(
        lines.next(),
        Some("#adm1+code,#gender,#affected+num,#affected+num+margin95,#meta+suppressed")
    );
    // Every governorate with a city (the only one here) and both sexes;
    // a governorate with no city has no cells in a city table.
    assert_eq!(lines.count(), 2);

    let mut conn = app.conn();
    use sanad::db::schema::audit_events as a;
    let events: Vec<(String, Option<String>, Option<String>)> = a::table
        .filter(a::action.like("stats.%"))
        .select((a::action, a::entity_id, a::detail))
        .order(a::queue_no)
        .load(&mut conn)
        .unwrap();
    assert_eq!(events.len(), 2, "{events:?}");
    assert_eq!(events[0].0, "stats.release");
    assert_eq!(events[0].1.as_deref(), Some(made.id.to_string().as_str()));
    assert_eq!(events[1].0, "stats.export");
    let detail = events[1].2.as_deref().unwrap();
    assert!(
        detail.contains("governorate,sex") && detail.contains("2025-Q1"),
        "{detail}"
    );
}
