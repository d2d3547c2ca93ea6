//! Resource limits from settings: JSON nesting, page sizes, and clients
//! that are slow on purpose (a head or a body that never finishes, an idle
//! connection). Every bound here is generous: the point is that nothing
//! hangs and that slow clients do not stop others being served, not how
//! fast the machine is.

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use sanad::domain::Role;
use serde_json::{Value, json};

use crate::helpers::{TestApp, TestDatabase, assert_problem, spawn_app, spawn_app_with};

/// A body nested `depth` arrays deep inside the `username` field.
fn nested(depth: usize) -> String {
    format!(
        r#"{{"username": {}"x"{}, "password": "p"}}"#,
        "[".repeat(depth),
        "]".repeat(depth)
    )
}

async fn post_raw(app: &TestApp, path: &str, body: String) -> reqwest::Response {
    app.client
        .post(app.url(path))
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .expect("request sent")
}

#[tokio::test]
async fn json_nested_past_the_limit_is_refused_before_parsing() {
    let app = spawn_app_with(TestDatabase::create(), |s| s.server.json_max_depth = 8).await;

    // Within the limit: parsed, and refused for its shape (422 naming it).
    let shallow = post_raw(&app, "/api/v1/auth/login", nested(6)).await;
    let body = assert_problem(shallow, 422).await;
    assert_eq!(body["errors"][0]["field"], "username", "{body}");

    // Past it: 400 without parsing, whatever the depth; the body fits in
    // the size limit, so only the depth check stands in the way.
    for depth in [8, 200, 30_000] {
        let deep = post_raw(&app, "/api/v1/auth/login", nested(depth)).await;
        let body = assert_problem(deep, 400).await;
        assert_eq!(body["type"], "urn:sanad:problem:malformed-request");
        assert!(
            body["detail"].as_str().unwrap().contains("deeper than 8"),
            "{body}"
        );
    }
    // Brackets inside strings are text, not nesting.
    let text = json!({"username": "[[[[[[[[[[[[[[[[[[[[", "password": "{{{{{{{{{{{{{{{{"});
    let response = post_raw(&app, "/api/v1/auth/login", text.to_string()).await;
    assert_eq!(response.status().as_u16(), 401);
}

#[tokio::test]
async fn the_default_depth_limit_keeps_the_server_up_on_absurd_nesting() {
    let app = spawn_app().await;
    // 60 000 levels in 60 KB: under the body limit, far past any parser's
    // recursion.
    let body = "[".repeat(60_000);
    let response = post_raw(&app, "/api/v1/auth/login", body).await;
    assert_problem(response, 400).await;
    assert_eq!(app.get("/health/live").await.status().as_u16(), 200);
}

#[tokio::test]
async fn page_sizes_come_from_settings() {
    let app = spawn_app_with(TestDatabase::create(), |s| {
        s.pagination.default_page_size = 2;
        s.pagination.max_page_size = 3;
    })
    .await;
    let admin = app.signed_in(Role::Admin, &[], None).await;
    // Four more users, and four more audit events (their logins).
    for _ in 0..4 {
        app.signed_in(Role::Auditor, &[], None).await;
    }

    let page: Value = app
        .get_as(&admin, "/api/v1/users")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(page["items"].as_array().unwrap().len(), 2, "the default");
    assert!(page["next_cursor"].is_string());

    let page: Value = app
        .get_as(&admin, "/api/v1/users?limit=1000")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(page["items"].as_array().unwrap().len(), 3, "cut to the max");

    let auditor = app.signed_in(Role::Auditor, &[], None).await;
    let page: Value = app
        .get_as(&auditor, "/api/v1/audit?limit=1000")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(page["items"].as_array().unwrap().len(), 3, "audit too");
}

/// What happened to a connection the test kept slow.
#[derive(Debug)]
struct Ending {
    /// From the connection's opening to the server's answer or close.
    after: Duration,
    /// The status line the server sent before closing, if any.
    status: Option<String>,
}

/// Opens a connection, sends `head`, then one byte of `drip` every
/// `every` until the server answers or closes (or `give_up` passes).
fn slow_client(port: u16, head: String, drip: &'static [u8], every: Duration) -> Ending {
    let give_up = Duration::from_secs(60);
    let started = Instant::now();
    let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    stream
        .set_read_timeout(Some(every))
        .expect("set read timeout");
    let mut received = Vec::new();
    let mut closed = stream.write_all(head.as_bytes()).is_err();
    let mut drips = drip.iter().cycle();
    while !closed && started.elapsed() < give_up {
        let mut buf = [0u8; 1024];
        match stream.read(&mut buf) {
            Ok(0) => closed = true,
            Ok(n) => received.extend_from_slice(&buf[..n]),
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(_) => closed = true,
        }
        // A write into a socket the server has closed may still succeed
        // once; the read above notices the close on the next turn.
        if let Some(byte) = drips.next().filter(|_| !closed)
            && stream.write_all(&[*byte]).is_err()
        {
            closed = true;
        }
    }
    let text = String::from_utf8_lossy(&received).to_string();
    Ending {
        after: started.elapsed(),
        status: text.lines().next().map(str::to_string),
    }
}

fn spawn_slow(
    port: u16,
    head: &str,
    drip: &'static [u8],
    every: Duration,
) -> tokio::task::JoinHandle<Ending> {
    let head = head.to_string();
    tokio::task::spawn_blocking(move || slow_client(port, head, drip, every))
}

fn port_of(app: &TestApp) -> u16 {
    app.address.rsplit(':').next().unwrap().parse().unwrap()
}

#[tokio::test]
async fn slow_request_heads_do_not_tie_up_the_server_and_are_dropped() {
    // One worker, as in every test: one event loop serves everyone.
    let timeout = Duration::from_secs(4);
    let app = spawn_app_with(TestDatabase::create(), |s| {
        s.server.client_request_timeout_ms = timeout.as_millis() as u64;
    })
    .await;
    let port = port_of(&app);

    // 64 slowloris connections: a request head, one header byte at a time,
    // never finished.
    let slow: Vec<_> = (0..64)
        .map(|_| {
            spawn_slow(
                port,
                "GET /health/live HTTP/1.1\r\nHost: sanad\r\nX-Slow: ",
                b"abcdefgh",
                Duration::from_millis(200),
            )
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(500)).await;

    // Meanwhile ordinary clients are served, one after another.
    let started = Instant::now();
    for _ in 0..20 {
        let response = app.get("/health/live").await;
        assert_eq!(response.status().as_u16(), 200);
    }
    let served_in = started.elapsed();

    let mut endings = Vec::new();
    for handle in slow {
        endings.push(handle.await.unwrap());
    }
    // The ordinary requests did not wait for the slow ones to be dropped.
    let first_drop = endings.iter().map(|e| e.after).min().unwrap();
    assert!(
        served_in < first_drop,
        "20 requests took {served_in:?}; the first slow client was dropped after {first_drop:?}"
    );
    for ending in &endings {
        // Dropped at the head timeout (not before), with a 408, and within
        // a generous bound after it.
        assert!(
            ending.after >= timeout - Duration::from_millis(500),
            "{ending:?}"
        );
        assert!(ending.after < timeout * 4, "{ending:?}");
        assert_eq!(
            ending.status.as_deref(),
            Some("HTTP/1.1 408 Request Timeout"),
            "{ending:?}"
        );
    }
}

const LOGIN_HEAD: &str =
    "POST /api/v1/auth/login HTTP/1.1\r\nHost: sanad\r\nContent-Type: application/json\r\n";

#[tokio::test]
async fn a_body_that_trickles_for_ever_is_cut_off() {
    let timeout = Duration::from_millis(1500);
    let app = spawn_app_with(TestDatabase::create(), |s| {
        s.server.body_read_timeout_ms = timeout.as_millis() as u64;
    })
    .await;
    let port = port_of(&app);

    // A declared length never reached, and a chunked body whose chunks
    // never end: spaces are valid JSON whitespace, one chunk of one byte
    // is "1\r\n \r\n".
    let declared = spawn_slow(
        port,
        &format!("{LOGIN_HEAD}Content-Length: 60000\r\n\r\n{{"),
        b" ",
        Duration::from_millis(100),
    );
    let chunked = spawn_slow(
        port,
        &format!("{LOGIN_HEAD}Transfer-Encoding: chunked\r\n\r\n1\r\n{{\r\n"),
        b"1\r\n \r\n",
        Duration::from_millis(100),
    );
    let (declared, chunked) = (declared.await.unwrap(), chunked.await.unwrap());

    for ending in [&declared, &chunked] {
        assert_eq!(
            ending.status.as_deref(),
            Some("HTTP/1.1 408 Request Timeout"),
            "{ending:?}"
        );
        assert!(
            ending.after >= timeout - Duration::from_millis(200),
            "{ending:?}"
        );
        // The connection is closed too, not left to the client.
        assert!(ending.after < timeout * 8, "{ending:?}");
    }
    assert_eq!(app.get("/health/live").await.status().as_u16(), 200);
}

#[tokio::test]
async fn an_idle_kept_alive_connection_is_closed() {
    let app = spawn_app_with(TestDatabase::create(), |s| s.server.keep_alive_secs = 1).await;
    let port = port_of(&app);

    // One whole request, then nothing: the answer, then the close.
    let idle = spawn_slow(
        port,
        "GET /health/live HTTP/1.1\r\nHost: sanad\r\n\r\n",
        b"",
        Duration::from_millis(100),
    )
    .await
    .unwrap();
    assert_eq!(idle.status.as_deref(), Some("HTTP/1.1 200 OK"), "{idle:?}");
    assert!(idle.after < Duration::from_secs(10), "{idle:?}");
}

/// actix-web times only the first request head of a connection: a client
/// that sends one request and then drips the head of a second would hold
/// the connection for ever. With keep-alive off (the default) the server
/// closes the connection after the first answer instead.
#[tokio::test]
async fn with_keep_alive_off_a_second_request_cannot_hold_the_connection() {
    let app = spawn_app().await;
    let port = port_of(&app);

    let ending = spawn_slow(
        port,
        "GET /health/live HTTP/1.1\r\nHost: sanad\r\n\r\nGET /health/live HTTP/1.1\r\nX-Slow: ",
        b"abc",
        Duration::from_millis(200),
    )
    .await
    .unwrap();
    assert_eq!(
        ending.status.as_deref(),
        Some("HTTP/1.1 200 OK"),
        "{ending:?}"
    );
    assert!(ending.after < Duration::from_secs(20), "{ending:?}");
}
