//! The case side over HTTP: create, read, list, change with If-Match,
//! notes, households, search with Arabic spelling variants, and the
//! cross-city matrix.

use sanad::domain::{OrganisationKind, Role};
use serde_json::{Value, json};

use crate::helpers::{assert_problem, create, new_case, spawn_app};

#[tokio::test]
async fn a_case_is_created_read_listed_and_changed_with_if_match() {
    let app = spawn_app().await;
    let city = app.city("MOS");
    let worker = app.signed_in(Role::SocialWorker, &[city], None).await;

    let response = app
        .post_as(&worker, "/api/v1/cases", &new_case(city, "فاطمة أحمد"))
        .await;
    assert_eq!(response.status().as_u16(), 201);
    let location = response.headers()["location"].to_str().unwrap().to_string();
    let etag = response.headers()["etag"].to_str().unwrap().to_string();
    let created: Value = response.json().await.unwrap();
    let id = created["id"].as_str().unwrap();
    assert_eq!(location, format!("/api/v1/cases/{id}"));
    assert_eq!(etag, "\"1\"");
    let number = created["case_number"].as_str().unwrap();
    assert!(
        number.starts_with("MOS-20") && number.ends_with("-000001"),
        "{number}"
    );
    assert_eq!(created["status"], "open");

    let read: Value = app.get_as(&worker, &location).await.json().await.unwrap();
    assert_eq!(read["subject"]["full_name"], "فاطمة أحمد");
    assert_eq!(read["subject"]["national_id"], "1990 1234 5678");
    assert_eq!(read["subject"]["date_of_birth"], "1990-04-12");
    assert_eq!(read["origin"]["place"], "al-Hol");
    assert_eq!(
        read["vulnerability_flags"],
        json!(["female_headed_household", "lacks_civil_documents"])
    );
    assert!(read["subject"]["age"].as_u64().unwrap() >= 36);

    let list: Value = app
        .get_as(&worker, "/api/v1/cases")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
    let summary = &list["items"][0];
    let keys: Vec<&str> = summary
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        vec![
            "age",
            "assigned_to",
            "case_number",
            "city_id",
            "full_name",
            "household_id",
            "id",
            "sex",
            "status",
            "updated_at"
        ]
    );

    let no_if_match = app
        .patch_as(&worker, &location, &json!({"return_date": "2026-03-05"}))
        .await;
    assert_problem(no_if_match, 428).await;

    let changed = app
        .client
        .patch(app.url(&location))
        .bearer_auth(&worker)
        .header("if-match", &etag)
        .json(&json!({"subject": {"phone": null, "address": "Hay al-Zuhur, Mosul"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(changed.status().as_u16(), 200);
    assert_eq!(changed.headers()["etag"], "\"2\"");
    let changed: Value = changed.json().await.unwrap();
    assert!(changed["subject"]["phone"].is_null());
    assert_eq!(changed["subject"]["address"], "Hay al-Zuhur, Mosul");
    assert_eq!(changed["subject"]["full_name"], "فاطمة أحمد");

    let stale = app
        .client
        .patch(app.url(&location))
        .bearer_auth(&worker)
        .header("if-match", &etag)
        .json(&json!({"return_date": "2026-03-05"}))
        .send()
        .await
        .unwrap();
    assert_problem(stale, 412).await;
}

#[tokio::test]
async fn of_two_writers_with_the_same_etag_exactly_one_wins() {
    let app = spawn_app().await;
    let city = app.city("MOS");
    let worker = app.signed_in(Role::SocialWorker, &[city], None).await;
    let case = create(&app, &worker, &new_case(city, "زينب علي")).await;
    let url = app.url(&format!("/api/v1/cases/{}", case["id"].as_str().unwrap()));

    let send = |address: &'static str| {
        app.client
            .patch(&url)
            .bearer_auth(&worker)
            .header("if-match", "\"1\"")
            .json(&json!({"subject": {"address": address}}))
            .send()
    };
    let (a, b) = tokio::join!(send("first"), send("second"));

    let mut statuses = vec![a.unwrap().status().as_u16(), b.unwrap().status().as_u16()];
    statuses.sort();
    assert_eq!(statuses, vec![200, 412]);
}

#[tokio::test]
async fn notes_are_kept_newest_first_and_make_the_case_active() {
    let app = spawn_app().await;
    let city = app.city("MOS");
    let worker = app.signed_in(Role::SocialWorker, &[city], None).await;
    let case = create(&app, &worker, &new_case(city, "مريم حسن")).await;
    let notes = format!("/api/v1/cases/{}/notes", case["id"].as_str().unwrap());

    for body in ["First home visit.", "Follow-up: school enrolment."] {
        let response = app
            .post_as(
                &worker,
                &notes,
                &json!({"body": body, "visit_date": "2026-04-01"}),
            )
            .await;
        assert_eq!(response.status().as_u16(), 201);
    }
    let blank = app.post_as(&worker, &notes, &json!({"body": "   "})).await;
    assert_eq!(
        assert_problem(blank, 422).await["errors"][0]["field"],
        "body"
    );

    let list: Value = app.get_as(&worker, &notes).await.json().await.unwrap();
    assert_eq!(list[0]["body"], "Follow-up: school enrolment.");
    assert_eq!(list[1]["body"], "First home visit.");
    let read: Value = app
        .get_as(
            &worker,
            &format!("/api/v1/cases/{}", case["id"].as_str().unwrap()),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(read["status"], "active");
}

#[tokio::test]
async fn a_household_lists_its_members() {
    let app = spawn_app().await;
    let city = app.city("MOS");
    let worker = app.signed_in(Role::SocialWorker, &[city], None).await;
    let household: Value = app
        .post_as(
            &worker,
            "/api/v1/households",
            &json!({"city_id": city, "label": "Family of Um Ali"}),
        )
        .await
        .json()
        .await
        .unwrap();
    let household_id = household["id"].as_str().unwrap();
    for name in ["أم علي", "علي", "سارة"] {
        let mut body = new_case(city, name);
        body["household_id"] = json!(household_id);
        create(&app, &worker, &body).await;
    }

    let read: Value = app
        .get_as(&worker, &format!("/api/v1/households/{household_id}"))
        .await
        .json()
        .await
        .unwrap();

    assert_eq!(read["label"], "Family of Um Ali");
    let names: Vec<&str> = read["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["full_name"].as_str().unwrap())
        .collect();
    assert_eq!(names, vec!["أم علي", "علي", "سارة"]);
}

#[tokio::test]
async fn search_finds_arabic_spelling_variants_and_counts_other_cities() {
    let app = spawn_app().await;
    let mosul = app.city("MOS");
    let telafar = app.city("TAF");
    let worker = app.signed_in(Role::SocialWorker, &[mosul], None).await;
    let elsewhere = app.signed_in(Role::SocialWorker, &[telafar], None).await;
    create(&app, &worker, &new_case(mosul, "فاطمة أحمد")).await;
    let mut other = new_case(telafar, "فاطمه احمد");
    other["subject"]["national_id"] = json!("5555 0000 1111");
    create(&app, &elsewhere, &other).await;

    for (query, here, away) in [
        (json!({"name": "فاطمه احمد"}), 1, 1),
        (json!({"name": "أحمد"}), 1, 1),
        (json!({"name": "FATIMA"}), 1, 1),
        (json!({"national_id": "١٩٩٠١٢٣٤٥٦٧٨"}), 1, 0),
        (json!({"phone": "+964 770 123 4567"}), 1, 1),
        (json!({"name": "زينب"}), 0, 0),
    ] {
        let result: Value = app
            .post_as(&worker, "/api/v1/cases/search", &query)
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(result["items"].as_array().unwrap().len(), here, "{query}");
        assert_eq!(result["elsewhere"], away, "{query}");
    }
    let empty = app
        .post_as(&worker, "/api/v1/cases/search", &json!({}))
        .await;
    assert_problem(empty, 422).await;
}

#[tokio::test]
async fn a_case_of_another_city_is_not_found_and_other_roles_are_refused() {
    let app = spawn_app().await;
    let mosul = app.city("MOS");
    let telafar = app.city("TAF");
    let org = app.organisation(OrganisationKind::Psychosocial, mosul);
    let owner = app.signed_in(Role::SocialWorker, &[mosul], None).await;
    let case = create(&app, &owner, &new_case(mosul, "نور الهدى")).await;
    let id = case["id"].as_str().unwrap();
    let case_url = format!("/api/v1/cases/{id}");
    let notes_url = format!("{case_url}/notes");

    let household: Value = app
        .post_as(&owner, "/api/v1/households", &json!({"city_id": mosul}))
        .await
        .json()
        .await
        .unwrap();
    let household_url = format!("/api/v1/households/{}", household["id"].as_str().unwrap());
    let other_city = app.signed_in(Role::CitySupervisor, &[telafar], None).await;
    for response in [
        app.get_as(&other_city, &case_url).await,
        app.get_as(&other_city, &notes_url).await,
        app.post_as(&other_city, &notes_url, &json!({"body": "x"}))
            .await,
        app.client
            .patch(app.url(&case_url))
            .bearer_auth(&other_city)
            .header("if-match", "\"1\"")
            .json(&json!({}))
            .send()
            .await
            .unwrap(),
        app.post_as(&other_city, "/api/v1/cases", &new_case(mosul, "x"))
            .await,
        app.post_as(
            &other_city,
            &format!("{case_url}/close"),
            &json!({"reason": "x"}),
        )
        .await,
        app.post_as(&other_city, &format!("{case_url}/reopen"), &json!({}))
            .await,
        app.post_as(
            &other_city,
            &format!("{case_url}/erase"),
            &json!({"reason": "x"}),
        )
        .await,
        app.post_as(
            &other_city,
            &format!("{case_url}/transfers"),
            &json!({"to_city_id": telafar, "reason": "x"}),
        )
        .await,
        app.get_as(&other_city, &household_url).await,
        app.post_as(
            &other_city,
            "/api/v1/households",
            &json!({"city_id": mosul}),
        )
        .await,
    ] {
        let body = assert_problem(response, 404).await;
        assert!(!body.to_string().contains("نور"), "{body}");
    }
    let list: Value = app
        .get_as(&other_city, "/api/v1/cases")
        .await
        .json()
        .await
        .unwrap();
    assert!(list["items"].as_array().unwrap().is_empty());
    assert_problem(
        app.get_as(&other_city, &format!("/api/v1/cases?city_id={mosul}"))
            .await,
        404,
    )
    .await;

    for (role, org) in [
        (Role::ProviderStaff, Some(org)),
        (Role::MinistryOfficial, None),
        (Role::Auditor, None),
        (Role::Admin, None),
    ] {
        let token = app.signed_in(role, &[], org).await;
        for response in [
            app.get_as(&token, &case_url).await,
            app.get_as(&token, "/api/v1/cases").await,
            app.get_as(&token, &notes_url).await,
            app.post_as(&token, "/api/v1/cases/search", &json!({"name": "نور"}))
                .await,
            app.post_as(&token, "/api/v1/cases", &new_case(mosul, "x"))
                .await,
            app.post_as(
                &token,
                &format!("{case_url}/close"),
                &json!({"reason": "x"}),
            )
            .await,
            app.post_as(
                &token,
                &format!("{case_url}/erase"),
                &json!({"reason": "x"}),
            )
            .await,
            app.post_as(
                &token,
                &format!("{case_url}/transfers"),
                &json!({"to_city_id": telafar, "reason": "x"}),
            )
            .await,
            app.get_as(&token, "/api/v1/transfers").await,
            app.get_as(&token, &household_url).await,
        ] {
            let body = assert_problem(response, 403).await;
            assert!(!body.to_string().contains("نور"), "{role:?} {body}");
        }
    }
}

#[tokio::test]
async fn bad_case_input_names_each_field() {
    let app = spawn_app().await;
    let city = app.city("MOS");
    let worker = app.signed_in(Role::SocialWorker, &[city], None).await;
    let mut body = new_case(city, "اسم");
    body["subject"]["date_of_birth"] = json!("2999-01-01");
    body["subject"]["phone"] = json!("not a phone");
    body["return_date"] = json!("1999-01-01");

    let response = app.post_as(&worker, "/api/v1/cases", &body).await;

    let problem = assert_problem(response, 422).await;
    let fields: Vec<&str> = problem["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(
        fields,
        vec!["subject.date_of_birth", "subject.phone", "return_date"]
    );
    let mut missing = new_case(city, "اسم");
    missing["subject"]
        .as_object_mut()
        .unwrap()
        .remove("full_name");
    let problem = assert_problem(app.post_as(&worker, "/api/v1/cases", &missing).await, 422).await;
    assert_eq!(problem["errors"][0]["field"], "subject.full_name");
}

#[tokio::test]
async fn a_supervisor_closes_reopens_and_erases_and_the_erased_are_gone_for_good() {
    let app = spawn_app().await;
    let city = app.city("MOS");
    let worker = app.signed_in(Role::SocialWorker, &[city], None).await;
    let supervisor = app.signed_in(Role::CitySupervisor, &[city], None).await;
    let case = create(&app, &worker, &new_case(city, "هدى كناري")).await;
    let id = case["id"].as_str().unwrap();
    let url = format!("/api/v1/cases/{id}");
    app.post_as(&worker, &format!("{url}/notes"), &json!({"body": "visit"}))
        .await;

    assert_problem(
        app.post_as(
            &worker,
            &format!("{url}/close"),
            &json!({"reason": "moved"}),
        )
        .await,
        403,
    )
    .await;
    let closed = app
        .post_as(
            &supervisor,
            &format!("{url}/close"),
            &json!({"reason": "Family moved abroad"}),
        )
        .await;
    assert_eq!(closed.status().as_u16(), 200);
    let closed: Value = closed.json().await.unwrap();
    assert_eq!(closed["status"], "closed");
    assert_problem(
        app.post_as(
            &supervisor,
            &format!("{url}/close"),
            &json!({"reason": "again"}),
        )
        .await,
        409,
    )
    .await;
    let reopened: Value = app
        .post_as(&supervisor, &format!("{url}/reopen"), &json!({}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(reopened["status"], "active");

    assert_problem(
        app.post_as(
            &worker,
            &format!("{url}/erase"),
            &json!({"reason": "request"}),
        )
        .await,
        403,
    )
    .await;
    let erased = app
        .post_as(
            &supervisor,
            &format!("{url}/erase"),
            &json!({"reason": "The person asked"}),
        )
        .await;
    assert_eq!(erased.status().as_u16(), 204);

    assert_problem(app.get_as(&worker, &url).await, 410).await;
    assert_problem(app.get_as(&worker, &format!("{url}/notes")).await, 410).await;
    let found: Value = app
        .post_as(
            &worker,
            "/api/v1/cases/search",
            &json!({"name": "هدى كناري"}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert!(found["items"].as_array().unwrap().is_empty());
    assert_eq!(found["elsewhere"], 0);
    let by_id: Value = app
        .post_as(
            &worker,
            "/api/v1/cases/search",
            &json!({"national_id": "199012345678"}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert!(by_id["items"].as_array().unwrap().is_empty());
    let list: Value = app
        .get_as(&worker, "/api/v1/cases")
        .await
        .json()
        .await
        .unwrap();
    assert!(list["items"].as_array().unwrap().is_empty());

    // The data key is gone from the database: nothing left to decrypt with.
    use diesel::prelude::*;
    use sanad::db::schema::{case_search_index, data_keys};
    let mut conn = app.conn();
    let key: Option<Vec<u8>> = data_keys::table
        .find(id)
        .select(data_keys::wrapped_key)
        .first(&mut conn)
        .unwrap();
    assert!(key.is_none());
    let indexes: i64 = case_search_index::table
        .filter(case_search_index::case_id.eq(id))
        .count()
        .get_result(&mut conn)
        .unwrap();
    assert_eq!(indexes, 0);
}

#[tokio::test]
async fn concurrent_writers_all_succeed_and_get_distinct_case_numbers() {
    let app = spawn_app().await;
    let city = app.city("MOS");
    let worker = app.signed_in(Role::SocialWorker, &[city], None).await;

    let requests = (0..16).map(|i| {
        let body = new_case(city, &format!("متزامن {i}"));
        let (client, url, token) = (app.client.clone(), app.url("/api/v1/cases"), worker.clone());
        async move {
            client
                .post(url)
                .bearer_auth(token)
                .json(&body)
                .send()
                .await
                .unwrap()
        }
    });
    let responses = futures_util::future::join_all(requests).await;

    let mut numbers = Vec::new();
    for response in responses {
        assert_eq!(
            response.status().as_u16(),
            201,
            "no 'database is locked' reaches a client"
        );
        let body: Value = response.json().await.unwrap();
        numbers.push(body["case_number"].as_str().unwrap().to_string());
    }
    numbers.sort();
    numbers.dedup();
    assert_eq!(numbers.len(), 16, "every case number is distinct");
}

/// A case's number is taken from the city's counter in a transaction of its
/// own before the case is made; a request refused before that takes none,
/// so the numbers of a city run on.
#[tokio::test]
async fn a_refused_creation_takes_no_case_number() {
    let app = spawn_app().await;
    let city = app.city("MOS");
    let other = app.city("TAF");
    let worker = app.signed_in(Role::SocialWorker, &[city], None).await;
    let number = |body: Value| body["case_number"].as_str().unwrap().to_string();

    let first = create(&app, &worker, &new_case(city, "الأولى")).await;
    let mut unborn = new_case(city, "لم تولد");
    unborn["subject"]["date_of_birth"] = json!("2999-01-01");
    let refused = app.post_as(&worker, "/api/v1/cases", &unborn).await;
    assert_eq!(refused.status().as_u16(), 422);
    let elsewhere = app
        .post_as(&worker, "/api/v1/cases", &new_case(other, "في مدينة أخرى"))
        .await;
    assert_eq!(elsewhere.status().as_u16(), 404);
    let second = create(&app, &worker, &new_case(city, "الثانية")).await;

    assert!(number(first).ends_with("-000001"));
    assert!(number(second).ends_with("-000002"));
}

/// Case creates, notes, PATCHes with If-Match and referrals, all at once on
/// a few cases: on SQLite every one of them queues for the one write lock
/// (`write_transaction` takes it first, `busy_timeout` waits for it), so no
/// "database is locked" ever reaches a client. A stale ETag is 412 and is
/// retried as a client would; nothing answers 500 or 503. The pool is made
/// as large as the number of writers and its wait long, so that what is
/// tested is the database's lock, not the pool.
#[tokio::test]
async fn mixed_concurrent_writers_never_meet_a_locked_database() {
    let app = crate::helpers::spawn_app_with(crate::helpers::TestDatabase::create(), |s| {
        s.database.pool_max_size = 16;
        s.database.pool_connection_timeout_ms = 10_000;
    })
    .await;
    let city = app.city("MOS");
    let worker = app.signed_in(Role::SocialWorker, &[city], None).await;
    let org = app.organisation(OrganisationKind::Psychosocial, city);
    let mut cases = Vec::new();
    for i in 0..4 {
        let case = create(&app, &worker, &new_case(city, &format!("كاتب {i}"))).await;
        cases.push(case["id"].as_str().unwrap().to_string());
    }
    const EACH: usize = 12;

    let app = &app;
    let worker = worker.as_str();
    let creates = (0..EACH).map(|i| async move {
        let body = new_case(city, &format!("متزامن مختلط {i}"));
        let status = app.post_as(worker, "/api/v1/cases", &body).await.status();
        ("create", status.as_u16(), 0_usize)
    });
    let notes = (0..EACH).map(|i| {
        let path = format!("/api/v1/cases/{}/notes", cases[i % cases.len()]);
        async move {
            let body = json!({"body": format!("زيارة منزلية {i}"), "visit_date": "2026-03-05"});
            let status = app.post_as(worker, &path, &body).await.status();
            ("note", status.as_u16(), 0_usize)
        }
    });
    let referrals = (0..EACH).map(|i| {
        let path = format!("/api/v1/cases/{}/referrals", cases[i % cases.len()]);
        async move {
            let body = json!({
                "kind": "psychosocial",
                "organisation_id": org,
                "reason": format!("Counselling {i}"),
            });
            let status = app.post_as(worker, &path, &body).await.status();
            ("referral", status.as_u16(), 0_usize)
        }
    });
    let patches = (0..EACH).map(|i| {
        let path = format!("/api/v1/cases/{}", cases[i % cases.len()]);
        async move {
            // Read, change, and on 412 read again: a client's loop.
            for attempt in 1..=100_usize {
                let read = app.get_as(worker, &path).await;
                assert_eq!(read.status().as_u16(), 200, "read before patch");
                let etag = read.headers()["etag"].to_str().unwrap().to_string();
                let status = app
                    .client
                    .patch(app.url(&path))
                    .bearer_auth(worker)
                    .header("if-match", etag)
                    .json(&json!({"subject": {"address": format!("Hay al-Zahraa {i}")}}))
                    .send()
                    .await
                    .unwrap()
                    .status()
                    .as_u16();
                if status != 412 {
                    return ("patch", status, attempt);
                }
            }
            ("patch", 412, 100)
        }
    });
    let mut work: Vec<futures_util::future::BoxFuture<'_, (&str, u16, usize)>> = Vec::new();
    work.extend(creates.map(|f| Box::pin(f) as _));
    work.extend(notes.map(|f| Box::pin(f) as _));
    work.extend(referrals.map(|f| Box::pin(f) as _));
    work.extend(patches.map(|f| Box::pin(f) as _));
    let results = futures_util::future::join_all(work).await;

    for (what, status, attempts) in &results {
        let expected = if *what == "patch" { 200 } else { 201 };
        assert_eq!(
            *status, expected,
            "{what} answered {status} after {attempts} attempt(s); no lock error may reach a client"
        );
    }
    // Every write is there: 4 + EACH cases, EACH notes and EACH referrals.
    let listed: Value = app
        .get_as(worker, "/api/v1/cases?limit=100")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(listed["items"].as_array().unwrap().len(), 4 + EACH);
    let mut notes_seen = 0;
    for case in &cases {
        let notes: Value = app
            .get_as(worker, &format!("/api/v1/cases/{case}/notes"))
            .await
            .json()
            .await
            .unwrap();
        notes_seen += notes.as_array().map_or(0, Vec::len);
    }
    assert_eq!(notes_seen, EACH);
}
