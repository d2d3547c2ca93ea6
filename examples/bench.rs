//! The load benchmark (run it with `scripts/bench`): for each backend and
//! size, seed a database with `sanad demo seed`, start the real server,
//! drive load over loopback, then do the same work directly with SQL (no
//! HTTP, no crypto, no audit) and print both, with their ratio.
//!
//! Everything runs on this machine: the load generator, the server and the
//! database share its cores, as they would not in production. The ratio to
//! the direct-SQL figure is the number to track.

use std::collections::{BTreeMap, VecDeque};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::NaiveDateTime;
use clap::Parser;
use diesel::prelude::*;
use diesel::sql_types::Text;
use serde_json::{Value, json};

#[path = "bench/login_burst.rs"]
mod login_burst;
#[path = "bench/probe.rs"]
mod probe;
#[path = "bench/same_work.rs"]
mod same_work;

use sanad::crypto::{BlindIndexer, Keyring};
use sanad::db::schema::{case_search_index, cases, cities, data_keys, referrals, users};
use sanad::db::{AnyConnection, ConnectionManager};
use sanad::domain::CityId;

#[derive(Parser, Debug)]
#[command(about = "Seed, serve and load Sanad; compare with direct SQL")]
struct Args {
    /// sqlite, postgres, or both.
    #[arg(long, default_value = "both")]
    backend: String,
    /// Database sizes in cases, comma separated.
    #[arg(long, default_value = "100000,1000000", value_delimiter = ',')]
    cases: Vec<u64>,
    /// Concurrent clients for every operation but stats.
    #[arg(long, default_value_t = 16)]
    concurrency: usize,
    /// Concurrent clients for the stats query.
    #[arg(long, default_value_t = 1)]
    stats_concurrency: usize,
    /// Seconds each operation is driven for (API and direct alike).
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// PostgreSQL server (a database per size is made on it).
    #[arg(long, default_value = "postgres://postgres@127.0.0.1:5432/postgres")]
    postgres: String,
    /// Where databases, keyrings and logs are kept between runs.
    #[arg(long, default_value = "target/bench")]
    dir: PathBuf,
    /// Reuse a database seeded by an earlier run of the same size.
    #[arg(long)]
    reuse: bool,
    /// The server binary.
    #[arg(long, default_value = "target/release/sanad")]
    sanad: PathBuf,
    /// Only these operations (comma separated, e.g. read,search); the
    /// others are skipped. Names: create, read, backlog (reads while the
    /// sequencer drains 20 000 events), search, list, transition, stats,
    /// login (the login burst: the server's peak memory while 200
    /// clients sign in at once; run only when named, since it spends the
    /// sign-in budgets the others need). `--only login` skips everything
    /// else but the seeding.
    #[arg(long, value_delimiter = ',')]
    only: Vec<String>,
    /// Also write the table as Markdown here.
    #[arg(long)]
    markdown: Option<PathBuf>,
}

type Res<T> = anyhow::Result<T>;

/// Seconds to drive operation `key` for: none when `--only` leaves it out.
fn span(args: &Args, key: &str) -> u64 {
    if args.only.is_empty() || args.only.iter().any(|o| o == key) {
        args.seconds
    } else {
        0
    }
}

/// The server's resident memory now, from the kernel.
fn rss_kib(pid: u32, field: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}
/// Demo usernames and passwords, as `sanad demo seed` printed them.
type Accounts = Vec<(String, String)>;

fn main() -> Res<()> {
    let args = Args::parse();
    let backends: Vec<&str> = match args.backend.as_str() {
        "both" => vec!["sqlite", "postgres"],
        "sqlite" => vec!["sqlite"],
        "postgres" => vec!["postgres"],
        other => anyhow::bail!("--backend {other}: use sqlite, postgres or both"),
    };
    std::fs::create_dir_all(&args.dir)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let mut tables = Vec::new();
    for &size in &args.cases {
        for &backend in &backends {
            let table = bench_one(&args, &runtime, backend, size)?;
            print_table(&table);
            tables.push(table);
        }
    }
    if let Some(path) = &args.markdown {
        let mut out = std::fs::File::create(path)?;
        for table in &tables {
            writeln!(out, "{}", markdown(table, &args))?;
        }
        println!("written to {}", path.display());
    }
    Ok(())
}

/// One measured operation.
struct Row {
    name: &'static str,
    /// The server's resident memory after the API run of this operation.
    rss_after_kib: u64,
    concurrency: usize,
    api: Stats,
    /// The same work in SQL (`same_work`): what the database cannot be
    /// spared, audit event and commit included.
    same: Stats,
    /// The bare query: the rows read or written, no audit, no account.
    bare: Stats,
    /// The oldest unchained audit event's age, at most, during the API run.
    lag: probe::Lag,
}

struct Table {
    backend: &'static str,
    cases: u64,
    seed_secs: Option<f64>,
    /// Making a statistical release: seconds and peak RSS (KiB).
    release: (f64, u64),
    rows: Vec<Row>,
    peak_rss_kib: u64,
    /// The login bursts, when measured.
    bursts: Vec<login_burst::Burst>,
}

#[derive(Default, Clone)]
struct Stats {
    ok: u64,
    errors: u64,
    secs: f64,
    p50_ms: f64,
    p99_ms: f64,
    /// CPU time over the run: the server's (API runs; for direct SQL on
    /// SQLite, this process's, where the database runs), and PostgreSQL's.
    cpu: probe::Cpu,
}

impl Stats {
    fn rate(&self) -> f64 {
        self.ok as f64 / self.secs.max(1e-9)
    }

    /// CPU milliseconds per answered request: (server or process, PostgreSQL).
    fn cpu_per_request(&self) -> (f64, f64) {
        let n = self.ok.max(1) as f64;
        (self.cpu.process_ms / n, self.cpu.postgres_ms / n)
    }

    fn with_cpu(mut self, cpu: probe::Cpu) -> Stats {
        self.cpu = cpu;
        self
    }

    fn from(latencies: &mut [u64], errors: u64, secs: f64) -> Stats {
        latencies.sort_unstable();
        let pct = |p: f64| {
            if latencies.is_empty() {
                return 0.0;
            }
            let i = ((latencies.len() as f64 * p).ceil() as usize).clamp(1, latencies.len()) - 1;
            latencies[i] as f64 / 1000.0
        };
        Stats {
            ok: latencies.len() as u64,
            errors,
            secs,
            p50_ms: pct(0.50),
            p99_ms: pct(0.99),
            cpu: probe::Cpu::default(),
        }
    }
}

/// Where one backend at one size lives.
struct Target {
    dir: PathBuf,
    url: String,
    keyring: PathBuf,
}

fn target(args: &Args, backend: &str, size: u64) -> Res<Target> {
    let dir = std::fs::canonicalize(&args.dir)?.join(format!("{backend}-{size}"));
    std::fs::create_dir_all(&dir)?;
    let url = match backend {
        "sqlite" => format!("sqlite://{}", dir.join("sanad.db").display()),
        _ => {
            let mut url = url::Url::parse(&args.postgres)?;
            url.set_path(&format!("sanad_bench_{size}"));
            url.to_string()
        }
    };
    Ok(Target {
        keyring: dir.join("keyring.json"),
        dir,
        url,
    })
}

fn fresh_database(args: &Args, backend: &str, t: &Target, size: u64) -> Res<()> {
    for name in [
        "sanad.db",
        "sanad.db-wal",
        "sanad.db-shm",
        "keyring.json",
        "seeded",
    ] {
        let _ = std::fs::remove_file(t.dir.join(name));
    }
    if backend == "postgres" {
        let mut admin = sanad::db::pool::establish_postgres(&args.postgres)?;
        let name = format!("sanad_bench_{size}");
        diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            .execute(&mut admin)?;
        diesel::sql_query(format!("CREATE DATABASE {name}")).execute(&mut admin)?;
    }
    Ok(())
}

fn sanad(args: &Args, t: &Target) -> Command {
    let mut cmd = Command::new(&args.sanad);
    cmd.env("SANAD__DATABASE__URL", &t.url)
        .env("SANAD__CRYPTO__KEYRING_FILE", &t.keyring)
        .env("SANAD__LOG__LEVEL", "info")
        .env_remove("RUST_LOG");
    cmd
}

/// Seeds (unless reusing) and returns the demo accounts' passwords and the
/// seeding time.
fn seed(args: &Args, backend: &str, t: &Target, size: u64) -> Res<(Accounts, Option<f64>)> {
    let accounts = t.dir.join("accounts.txt");
    if args.reuse && t.dir.join("seeded").exists() {
        println!("== {backend} {size}: reusing the seeded database");
        return Ok((read_accounts(&accounts)?, None));
    }
    fresh_database(args, backend, t, size)?;
    println!("== {backend} {size}: sanad demo seed --cases {size}");
    let started = Instant::now();
    let output = sanad(args, t)
        .args(["demo", "seed", "--cases", &size.to_string()])
        .stderr(Stdio::inherit())
        .output()?;
    let secs = started.elapsed().as_secs_f64();
    if !output.status.success() {
        anyhow::bail!(
            "seeding failed: {}",
            String::from_utf8_lossy(&output.stdout)
        );
    }
    let text = String::from_utf8(output.stdout)?;
    print!("{}", text.lines().next().unwrap_or_default());
    println!();
    // Synthetic accounts of a throw-away database; kept for --reuse.
    std::fs::write(&accounts, &text)?;
    std::fs::write(t.dir.join("seeded"), "")?;
    Ok((read_accounts(&accounts)?, Some(secs)))
}

/// `sanad stats release` on the seeded database: how long it took and its
/// peak memory (the kernel's high-water mark, read until it exits).
fn make_release(args: &Args, t: &Target) -> Res<(f64, u64)> {
    let started = Instant::now();
    let mut child = sanad(args, t)
        .args(["stats", "release"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()?;
    let mut peak = 0;
    let status = loop {
        peak = peak.max(rss_kib(child.id(), "VmHWM:"));
        if let Some(status) = child.try_wait()? {
            break status;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let secs = started.elapsed().as_secs_f64();
    let mut out = String::new();
    if let Some(mut stdout) = child.stdout.take() {
        std::io::Read::read_to_string(&mut stdout, &mut out)?;
    }
    anyhow::ensure!(status.success(), "sanad stats release failed");
    println!("{}", out.trim());
    Ok((secs, peak))
}

fn read_accounts(path: &Path) -> Res<Accounts> {
    let text = std::fs::read_to_string(path)?;
    Ok(text
        .lines()
        .filter_map(|line| {
            let parts: Vec<&str> = line.split_whitespace().collect();
            (parts.len() == 4 && parts[3].len() == 23)
                .then(|| (parts[0].to_string(), parts[3].to_string()))
        })
        .collect())
}

struct Server {
    child: Child,
    base: String,
}

impl Server {
    fn start(args: &Args, t: &Target) -> Res<Server> {
        Server::start_with(args, t, &[])
    }

    /// A server with these settings in its environment as well.
    fn start_with(args: &Args, t: &Target, env: &[(&str, &str)]) -> Res<Server> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let log = std::fs::File::create(t.dir.join("server.log"))?;
        let child = sanad(args, t)
            .arg("serve")
            .env("SANAD__SERVER__PORT", port.to_string())
            .envs(env.iter().copied())
            .stdout(log)
            .stderr(Stdio::null())
            .spawn()?;
        let base = format!("http://127.0.0.1:{port}");
        let ready = format!("{base}/health/ready");
        let started = Instant::now();
        loop {
            if answers_ok(&ready) {
                break;
            }
            if started.elapsed() > Duration::from_secs(60) {
                anyhow::bail!("the server did not become ready");
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        Ok(Server { child, base })
    }

    /// Peak resident memory so far, from the kernel.
    fn peak_rss_kib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .unwrap_or_default();
        status
            .lines()
            .find(|l| l.starts_with("VmHWM:"))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Whether `url` answers 200, with a plain blocking HTTP/1.1 request.
fn answers_ok(url: &str) -> bool {
    let Ok(parsed) = url::Url::parse(url) else {
        return false;
    };
    let addr = format!(
        "{}:{}",
        parsed.host_str().unwrap_or("127.0.0.1"),
        parsed.port().unwrap_or(80)
    );
    let Ok(mut stream) = std::net::TcpStream::connect(addr) else {
        return false;
    };
    use std::io::{Read, Write};
    let request = format!(
        "GET {} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        parsed.path()
    );
    if stream.write_all(request.as_bytes()).is_err() {
        return false;
    }
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer);
    answer.starts_with("HTTP/1.1 200")
}

fn connect(url: &str) -> Res<AnyConnection> {
    Ok(ConnectionManager::new(url, 5000)?.establish()?)
}

/// What the load needs to know of the seeded data: read from the database
/// by the harness (not measured).
struct Fixture {
    city: CityId,
    case_ids: Vec<String>,
    cursors: Vec<(NaiveDateTime, String)>,
    national_ids: Vec<String>,
    /// Pending referrals of Mosul, with the index of their provider
    /// (psychosocial, education, vocational).
    pending: Vec<(String, usize)>,
    indexer: BlindIndexer,
    /// Who does the same work in SQL, and the audit keys.
    actors: same_work::Actors,
}

fn fixture(t: &Target) -> Res<Fixture> {
    let mut conn = connect(&t.url)?;
    let city: String = cities::table
        .filter(cities::code.eq("MOS"))
        .select(cities::id)
        .first(&mut conn)?;
    #[derive(QueryableByName)]
    struct Pick {
        #[diesel(sql_type = Text)]
        id: String,
        #[diesel(sql_type = diesel::sql_types::Timestamp)]
        created_at: NaiveDateTime,
    }
    let order = "random()";
    let picks: Vec<Pick> = diesel::sql_query(format!(
        "SELECT id, created_at FROM cases WHERE city_id = '{city}' AND status <> 'erased' AND case_number NOT LIKE 'MOS-2099-%' ORDER BY {order} LIMIT 4000"
    ))
    .load(&mut conn)?;
    let pending: Vec<(String, String)> = referrals::table
        .filter(referrals::city_id.eq(&city))
        .filter(referrals::state.eq("pending"))
        // The kinds the three seeded provider accounts' organisations take.
        .filter(referrals::kind.eq_any(["psychosocial", "education", "vocational"]))
        .select((referrals::id, referrals::kind))
        .load(&mut conn)?;
    let pending = pending
        .into_iter()
        .map(|(id, kind)| {
            let org = match kind.as_str() {
                "psychosocial" => 0,
                "education" => 1,
                _ => 2,
            };
            (id, org)
        })
        .collect();
    let keyring = Keyring::load(
        &sanad::settings::CryptoSettings {
            keyring_file: Some(t.keyring.clone()),
            keyring_json: None,
        },
        sanad::settings::Environment::Production,
    )?;
    let user = |conn: &mut AnyConnection, name: &str| -> Res<sanad::domain::UserId> {
        let id: String = users::table
            .filter(users::username.eq(name))
            .select(users::id)
            .first(conn)?;
        Ok(id.parse()?)
    };
    let actors = same_work::Actors {
        worker: user(&mut conn, "sw-mos")?,
        ministry: user(&mut conn, "demo-ministry")?,
        providers: [
            user(&mut conn, "psy-mos")?,
            user(&mut conn, "edu-mos")?,
            user(&mut conn, "voc-mos")?,
        ],
        keys: sanad::crypto::AuditKeys::from_keyring(&keyring)?,
    };
    Ok(Fixture {
        actors,
        city: city.parse::<CityId>()?,
        case_ids: picks.iter().map(|p| p.id.clone()).collect(),
        cursors: picks.into_iter().map(|p| (p.created_at, p.id)).collect(),
        national_ids: Vec::new(),
        pending,
        indexer: BlindIndexer::new(&keyring)?,
    })
}

/// A tiny generator for request bodies and picks (not for anything secret).
struct Pcg(u64);

impl Pcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let x = self.0;
        (x ^ (x >> 33)).wrapping_mul(0xff51afd7ed558ccd) ^ (x >> 29)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

const GIVEN: &[&str] = &[
    "فاطمة",
    "زينب",
    "مريم",
    "نور",
    "هدى",
    "سارة",
    "آمنة",
    "خديجة",
];
const FATHERS: &[&str] = &[
    "محمد",
    "أحمد",
    "علي",
    "حسين",
    "عمر",
    "يوسف",
    "إبراهيم",
    "خالد",
];
const FAMILY: &[&str] = &[
    "الجبوري",
    "الدليمي",
    "العبيدي",
    "الشمري",
    "التميمي",
    "الزبيدي",
];

fn new_case_body(rng: &mut Pcg, city: &CityId) -> Value {
    let name = format!(
        "{} {} {} {}",
        GIVEN[rng.below(GIVEN.len())],
        FATHERS[rng.below(FATHERS.len())],
        FATHERS[rng.below(FATHERS.len())],
        FAMILY[rng.below(FAMILY.len())]
    );
    json!({
        "city_id": city.to_db(),
        "subject": {
            "full_name": name,
            "full_name_latin": "Fatima Mohammed Ali Al-Jubouri",
            "sex": "female",
            "date_of_birth": format!("19{}-0{}-1{}", 80 + rng.below(19), 1 + rng.below(9), rng.below(10)),
            "national_id": format!("1{:011}", rng.next() % 100_000_000_000),
            "phone": format!("0770{:07}", rng.next() % 10_000_000),
            "address": "حي الزهور، الموصل، دار 12"
        },
        "origin": {"kind": "camp", "place": "مخيم الهول"},
        "return_date": "2025-03-14",
        "vulnerability_flags": ["female_headed_household"],
        "consent": {"share_with_providers": true, "given_by": "self", "given_at": "2025-03-20T09:00:00Z"}
    })
}

/// Unexpected answers, by status, for the report.
static FAILURES: Mutex<BTreeMap<String, u64>> = Mutex::new(BTreeMap::new());

fn failed(what: String) {
    if let Ok(mut f) = FAILURES.lock() {
        *f.entry(what).or_default() += 1;
    }
}

/// The body of an answer with status `want`; anything else is counted.
async fn expect(answer: reqwest::Result<reqwest::Response>, want: u16) -> Option<Vec<u8>> {
    match answer {
        Ok(r) if r.status().as_u16() == want => r.bytes().await.ok().map(|b| b.to_vec()),
        Ok(r) => {
            failed(format!("HTTP {}", r.status().as_u16()));
            None
        }
        Err(err) => {
            failed(format!("client error: {err}"));
            None
        }
    }
}

/// Events appended at once before "read, 20 000 events to chain".
const BACKLOG_EVENTS: usize = 20_000;

/// Appends `n` sealed events in one transaction, so that the sequencer
/// finds them all waiting at once.
fn make_backlog(url: &str, actors: &same_work::Actors, n: usize) -> Res<()> {
    let mut conn = connect(url)?;
    sanad::db::write_transaction(&mut conn, |conn| {
        let who = same_work::caller(conn, actors.worker)?;
        for _ in 0..n {
            let event = same_work::event(&who, sanad::audit::Action::CaseRead)
                .entity(sanad::audit::Entity::Case, uuid::Uuid::new_v4());
            sanad::audit::append_with(conn, &actors.keys, &event)?;
        }
        Ok(())
    })?;
    Ok(())
}

/// Runs one API operation while reading the server's and PostgreSQL's CPU
/// time and the audit sequencer's lag; first waits until every event
/// appended before is chained (those of the direct SQL of an earlier run,
/// made while no server ran, would count as lag and as the sequencer's
/// work), then, for `backlog`, appends that many events at once.
async fn watched(
    url: &str,
    pid: u32,
    backlog: Option<(&same_work::Actors, usize)>,
    run: impl std::future::Future<Output = Stats>,
) -> Res<(Stats, probe::Lag)> {
    probe::LagWatch::start(url)?.stop();
    if let Some((actors, events)) = backlog {
        make_backlog(url, actors, events)?;
    }
    let lag = probe::LagWatch::start(url)?;
    let cpu = probe::CpuMark::now(pid);
    let stats = run.await;
    let cpu = cpu.since();
    Ok((stats.with_cpu(cpu), lag.stop()))
}

/// After an operation: prints (and clears) its unexpected answers and
/// returns the server's resident memory.
fn after(pid: u32) -> u64 {
    if let Ok(mut f) = FAILURES.lock()
        && !f.is_empty()
    {
        println!("   unexpected answers: {f:?}");
        f.clear();
    }
    rss_kib(pid, "VmRSS:")
}

/// Drives `op` from `concurrency` tasks for `seconds`; each call returns
/// whether it succeeded, or `None` when there is nothing left to do.
async fn drive<F, Fut>(concurrency: usize, seconds: u64, op: F) -> Stats
where
    F: Fn(u64) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = Option<bool>> + Send,
{
    let op = Arc::new(op);
    let errors = Arc::new(AtomicU64::new(0));
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for task in 0..concurrency {
        let op = op.clone();
        let errors = errors.clone();
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut n = task as u64 * 1_000_003;
            while Instant::now() < deadline {
                let t0 = Instant::now();
                n += 1;
                match op(n).await {
                    Some(true) => latencies.push(t0.elapsed().as_micros() as u64),
                    Some(false) => {
                        errors.fetch_add(1, Ordering::Relaxed);
                    }
                    None => break,
                }
            }
            latencies
        }));
    }
    let mut all = Vec::new();
    for task in tasks {
        all.extend(task.await.unwrap_or_default());
    }
    Stats::from(
        &mut all,
        errors.load(Ordering::Relaxed),
        started.elapsed().as_secs_f64(),
    )
}

/// A direct-SQL operation that never runs out of work.
fn always<F>(op: F) -> impl Fn(&mut AnyConnection, u64) -> Option<bool> + Send + Sync
where
    F: Fn(&mut AnyConnection, u64) -> bool + Send + Sync,
{
    move |conn, n| Some(op(conn, n))
}

/// The same, for blocking direct-SQL work on threads with a connection each.
fn drive_direct<F>(url: &str, concurrency: usize, seconds: u64, op: F) -> Res<Stats>
where
    F: Fn(&mut AnyConnection, u64) -> Option<bool> + Send + Sync,
{
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let started = Instant::now();
    let errors = AtomicU64::new(0);
    let mut conns = Vec::new();
    for _ in 0..concurrency {
        conns.push(connect(url)?);
    }
    let cpu = probe::CpuMark::now(std::process::id());
    let (all, cpu): (Vec<u64>, probe::Cpu) = std::thread::scope(|scope| {
        let handles: Vec<_> = conns
            .into_iter()
            .enumerate()
            .map(|(task, mut conn)| {
                let op = &op;
                let errors = &errors;
                scope.spawn(move || {
                    let mut latencies = Vec::new();
                    let mut n = task as u64 * 1_000_003;
                    while Instant::now() < deadline {
                        let t0 = Instant::now();
                        n += 1;
                        match op(&mut conn, n) {
                            Some(true) => latencies.push(t0.elapsed().as_micros() as u64),
                            Some(false) => {
                                errors.fetch_add(1, Ordering::Relaxed);
                            }
                            None => break,
                        }
                    }
                    // The connection goes back with the figures, so that its
                    // PostgreSQL backend is still there when CPU is read.
                    (latencies, conn)
                })
            })
            .collect();
        let mut all = Vec::new();
        let mut conns = Vec::new();
        for handle in handles {
            if let Ok((latencies, conn)) = handle.join() {
                all.extend(latencies);
                conns.push(conn);
            }
        }
        let cpu = cpu.since();
        drop(conns);
        (all, cpu)
    });
    let mut all = all;
    Ok(Stats::from(
        &mut all,
        errors.load(Ordering::Relaxed),
        started.elapsed().as_secs_f64(),
    )
    .with_cpu(cpu))
}

async fn login(
    client: &reqwest::Client,
    base: &str,
    accounts: &[(String, String)],
    user: &str,
) -> Res<String> {
    let password = accounts
        .iter()
        .find(|(u, _)| u == user)
        .map(|(_, p)| p.clone())
        .ok_or_else(|| anyhow::anyhow!("no password for {user}"))?;
    let answer: Value = client
        .post(format!("{base}/api/v1/auth/login"))
        .json(&json!({"username": user, "password": password}))
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    answer["access_token"]
        .as_str()
        .map(str::to_string)
        .ok_or_else(|| anyhow::anyhow!("no token for {user}"))
}

fn bench_one(
    args: &Args,
    runtime: &tokio::runtime::Runtime,
    backend: &'static str,
    size: u64,
) -> Res<Table> {
    let t = target(args, backend, size)?;
    let (accounts, seed_secs) = seed(args, backend, &t, size)?;
    // Only when asked for by name: the burst spends the sign-in budgets
    // that the operations below need.
    let bursts = if args.only.iter().any(|o| o == "login") {
        login_burst::measure(args, runtime, &t, &accounts)?
    } else {
        Vec::new()
    };
    if args.only.iter().all(|o| o == "login") && !args.only.is_empty() {
        return Ok(Table {
            backend,
            cases: size,
            seed_secs,
            release: (0.0, 0),
            rows: Vec::new(),
            peak_rss_kib: 0,
            bursts,
        });
    }
    // A release is made (and timed) for the ministry's figures only.
    let release = match span(args, "stats") > 0 {
        true => make_release(args, &t)?,
        false => (0.0, 0),
    };
    let mut fx = fixture(&t)?;
    let server = Server::start(args, &t)?;
    let base = server.base.clone();
    let c = args.concurrency;
    let mut rows = Vec::new();

    let api =
        runtime.block_on(async {
            let client = reqwest::Client::builder()
                .pool_max_idle_per_host(c * 2)
                .timeout(Duration::from_secs(30))
                .build()?;
            let worker = login(&client, &base, &accounts, "sw-mos").await?;
            let ministry = login(&client, &base, &accounts, "demo-ministry").await?;
            let mut providers = Vec::new();
            for user in ["psy-mos", "edu-mos", "voc-mos"] {
                providers.push(login(&client, &base, &accounts, user).await?);
            }
            // Warm-up that is also the fixture: national ids of some cases.
            for id in fx.case_ids.iter().take(600) {
                let case: Value = client
                    .get(format!("{base}/api/v1/cases/{id}"))
                    .bearer_auth(&worker)
                    .send()
                    .await?
                    .json()
                    .await?;
                if let Some(nid) = case["subject"]["national_id"].as_str() {
                    fx.national_ids.push(nid.to_string());
                }
            }
            anyhow::ensure!(
                !fx.national_ids.is_empty(),
                "no national ids among the cases read"
            );
            let shared = Arc::new((client, base.clone(), worker, ministry, providers));
            let ids = Arc::new(fx.case_ids.clone());
            let nids = Arc::new(fx.national_ids.clone());
            let cursors: Arc<Vec<String>> = Arc::new(
                fx.cursors
                    .iter()
                    .map(|(at, id)| {
                        let id: uuid::Uuid = id.parse()?;
                        Ok(sanad::pagination::Cursor::new(*at, id).encode())
                    })
                    .collect::<anyhow::Result<_>>()?,
            );
            let city = fx.city;
            let pid = server.child.id();
            let url = t.url.clone();
            let mut out = Vec::new();

            let s = shared.clone();
            out.push((
                "create case",
                c,
                watched(
                    &url,
                    pid,
                    None,
                    drive(c, span(args, "create"), move |n| {
                        let s = s.clone();
                        async move {
                            let body = new_case_body(&mut Pcg(n), &city);
                            let r =
                                s.0.post(format!("{}/api/v1/cases", s.1))
                                    .bearer_auth(&s.2)
                                    .json(&body)
                                    .send()
                                    .await;
                            Some(expect(r, 201).await.is_some())
                        }
                    }),
                )
                .await?,
                after(pid),
            ));

            // Reads, then the same reads while the sequencer drains a
            // backlog of events committed at once (as after a bulk import,
            // or a sequencer that was stopped): reads must not stall.
            let backlog = (span(args, "backlog") > 0).then_some((&fx.actors, BACKLOG_EVENTS));
            for (name, key, backlog) in [
                ("read case", "read", None),
                ("read, 20 000 events to chain", "backlog", backlog),
            ] {
                let (s, ids2) = (shared.clone(), ids.clone());
                out.push((
                    name,
                    c,
                    watched(
                        &url,
                        pid,
                        backlog,
                        drive(c, span(args, key), move |n| {
                            let (s, ids) = (s.clone(), ids2.clone());
                            async move {
                                let id = &ids[Pcg(n).below(ids.len())];
                                let r =
                                    s.0.get(format!("{}/api/v1/cases/{id}", s.1))
                                        .bearer_auth(&s.2)
                                        .send()
                                        .await;
                                Some(expect(r, 200).await.is_some())
                            }
                        }),
                    )
                    .await?,
                    after(pid),
                ));
            }

            let (s, n2) = (shared.clone(), nids.clone());
            out.push((
                "search by national ID",
                c,
                watched(
                    &url,
                    pid,
                    None,
                    drive(c, span(args, "search"), move |n| {
                        let (s, nids) = (s.clone(), n2.clone());
                        async move {
                            let nid = &nids[Pcg(n).below(nids.len())];
                            let r =
                                s.0.post(format!("{}/api/v1/cases/search", s.1))
                                    .bearer_auth(&s.2)
                                    .json(&json!({"national_id": nid}))
                                    .send()
                                    .await;
                            let found = expect(r, 200)
                                .await
                                .and_then(|body| serde_json::from_slice::<Value>(&body).ok());
                            Some(found.is_some_and(|v| {
                                v["items"].as_array().is_some_and(|a| !a.is_empty())
                            }))
                        }
                    }),
                )
                .await?,
                after(pid),
            ));

            let (s, cur) = (shared.clone(), cursors.clone());
            out.push((
                "list a page of 50",
                c,
                watched(
                    &url,
                    pid,
                    None,
                    drive(c, span(args, "list"), move |n| {
                        let (s, cur) = (s.clone(), cur.clone());
                        async move {
                            let cursor = &cur[Pcg(n).below(cur.len())];
                            let r =
                                s.0.get(format!(
                                    "{}/api/v1/cases?city_id={}&limit=50&cursor={cursor}",
                                    s.1,
                                    city.to_db()
                                ))
                                .bearer_auth(&s.2)
                                .send()
                                .await;
                            Some(expect(r, 200).await.is_some())
                        }
                    }),
                )
                .await?,
                after(pid),
            ));

            // Referral transitions: accept, start, complete each pending one,
            // as the provider staff of its organisation.
            let queue: Arc<Mutex<VecDeque<(String, usize, u8)>>> = Arc::new(Mutex::new(
                fx.pending
                    .iter()
                    .take(fx.pending.len() / 3)
                    .cloned()
                    .map(|(id, org)| (id, org, 0))
                    .collect(),
            ));
            let s = shared.clone();
            let q = queue.clone();
            out.push((
                "referral transition",
                c,
                watched(
                    &url,
                    pid,
                    None,
                    drive(c, span(args, "transition"), move |_| {
                        let (s, q) = (s.clone(), q.clone());
                        async move {
                            // None: nothing left to move, this client stops.
                            let (id, org, step) = q.lock().ok().and_then(|mut q| q.pop_front())?;
                            let (verb, body) = match step {
                                0 => ("accept", json!({})),
                                1 => ("start", json!({})),
                                _ => ("complete", json!({"outcome": "completed_successfully"})),
                            };
                            let r =
                                s.0.post(format!("{}/api/v1/referrals/{id}/{verb}", s.1))
                                    .bearer_auth(&s.4[org])
                                    .json(&body)
                                    .send()
                                    .await;
                            let done = expect(r, 200).await.is_some();
                            if done
                                && step < 2
                                && let Ok(mut q) = q.lock()
                            {
                                q.push_back((id, org, step + 1));
                            }
                            Some(done)
                        }
                    }),
                )
                .await?,
                after(pid),
            ));

            let sc = args.stats_concurrency;
            let s = shared.clone();
            out.push((
                "ministry stats (release)",
                sc,
                watched(
                    &url,
                    pid,
                    None,
                    drive(sc, span(args, "stats"), move |_| {
                        let s = s.clone();
                        async move {
                            let r =
                        s.0.get(format!(
                            "{}/api/v1/stats/cases?group_by=governorate,sex,age_band&period=2025",
                            s.1
                        ))
                        .bearer_auth(&s.3)
                        .send()
                        .await;
                            Some(expect(r, 200).await.is_some())
                        }
                    }),
                )
                .await?,
                after(pid),
            ));
            Res::Ok(out)
        })?;
    let peak_rss_kib = server.peak_rss_kib();
    drop(server);

    // The same work directly (`same_work`), then the bare queries.
    // The reads during a backlog do the same work as the reads.
    let mut same = same_sql(args, &t.url, &fx, c, args.stats_concurrency)?;
    let mut bare = bare_sql(args, &t.url, &fx, c, args.stats_concurrency)?;
    same.insert(2, same[1].clone());
    bare.insert(2, bare[1].clone());
    for (((name, concurrency, (api, lag), rss_after_kib), same), bare) in
        api.into_iter().zip(same).zip(bare)
    {
        if api.ok + api.errors > 0 {
            rows.push(Row {
                name,
                concurrency,
                api,
                same,
                bare,
                lag,
                rss_after_kib,
            });
        }
    }
    Ok(Table {
        backend,
        cases: size,
        seed_secs,
        release,
        rows,
        peak_rss_kib,
        bursts,
    })
}

fn random_bytes(rng: &mut Pcg, len: usize) -> Vec<u8> {
    (0..len).map(|_| rng.next() as u8).collect()
}

/// The same work in SQL (`same_work`): per operation, the statements the
/// database cannot be spared, audit event and commit included, from as
/// many clients as the API had.
fn same_sql(args: &Args, url: &str, fx: &Fixture, c: usize, sc: usize) -> Res<Vec<Stats>> {
    let (a, city) = (&fx.actors, fx.city);
    let city_db = city.to_db();
    let mut out = Vec::new();
    out.push(drive_direct(
        url,
        c,
        span(args, "create"),
        always(|conn, n| {
            let mut rng = Pcg(n);
            same_work::create(conn, a, city, |conn, id, number| {
                insert_case(conn, &mut rng, id, number, &city_db)
            })
        }),
    )?);
    out.push(drive_direct(
        url,
        c,
        span(args, "read"),
        always(|conn, n| {
            let id = &fx.case_ids[Pcg(n).below(fx.case_ids.len())];
            same_work::read(conn, a, city, id)
        }),
    )?);
    let indexes: Vec<sanad::crypto::BlindIndex> = fx
        .national_ids
        .iter()
        .filter_map(|nid| fx.indexer.national_id(nid))
        .collect();
    out.push(drive_direct(
        url,
        c,
        span(args, "search"),
        always(|conn, n| {
            let index = &indexes[Pcg(n).below(indexes.len())];
            same_work::search(conn, a, city, index)
        }),
    )?);
    out.push(drive_direct(
        url,
        c,
        span(args, "list"),
        always(|conn, n| {
            let (at, id) = &fx.cursors[Pcg(n).below(fx.cursors.len())];
            same_work::list(conn, a, city, at, id)
        }),
    )?);
    let third = fx.pending.len() / 3;
    let queue = Mutex::new(
        fx.pending
            .iter()
            .skip(2 * third)
            .map(|(id, org)| (id.clone(), *org, 0u8))
            .collect::<VecDeque<_>>(),
    );
    out.push(drive_direct(
        url,
        c,
        span(args, "transition"),
        |conn, _| {
            let (id, org, step) = queue.lock().ok().and_then(|mut q| q.pop_front())?;
            let (from, to) = match step {
                0 => ("pending", "accepted"),
                1 => ("accepted", "in_progress"),
                _ => ("in_progress", "completed"),
            };
            let ok = same_work::transition(conn, a, org, &id, (from, to));
            if ok
                && step < 2
                && let Ok(mut q) = queue.lock()
            {
                q.push_back((id, org, step + 1));
            }
            Some(ok)
        },
    )?);
    out.push(drive_direct(
        url,
        sc,
        span(args, "stats"),
        always(|conn, _| same_work::stats(conn, a)),
    )?);
    Ok(out)
}

/// The bare queries: the rows an operation reads or writes, and nothing
/// else (no account, no audit event).
fn bare_sql(args: &Args, url: &str, fx: &Fixture, c: usize, sc: usize) -> Res<Vec<Stats>> {
    let city = fx.city.to_db();
    let mut out = Vec::new();
    // Create: the counter, a data key, the case row and its ten index rows,
    // with byte strings the size of the sealed fields, in one transaction.
    out.push(drive_direct(
        url,
        c,
        span(args, "create"),
        always(|conn, n| {
            let mut rng = Pcg(n);
            let id = uuid::Uuid::new_v4().to_string();
            let Ok(number) = same_work::reserve(conn, fx.city) else {
                return false;
            };
            sanad::db::write_transaction(conn, |conn| {
                insert_case(conn, &mut rng, &id, number, &city)
            })
            .is_ok()
        }),
    )?);
    // Read: the case row and its data key.
    out.push(drive_direct(
        url,
        c,
        span(args, "read"),
        always(|conn, n| {
            let id = &fx.case_ids[Pcg(n).below(fx.case_ids.len())];
            same_work::rows_and_keys(conn, std::slice::from_ref(id)).is_ok_and(|k| k == 1)
        }),
    )?);
    // Search: the blind index, then the rows and keys it names.
    let hashes: Vec<String> = fx
        .national_ids
        .iter()
        .filter_map(|nid| fx.indexer.national_id(nid).map(|b| b.as_hex()))
        .collect();
    out.push(drive_direct(
        url,
        c,
        span(args, "search"),
        always(|conn, n| {
            let value = &hashes[Pcg(n).below(hashes.len())];
            let ids: QueryResult<Vec<String>> = case_search_index::table
                .filter(case_search_index::kind.eq("national_id"))
                .filter(case_search_index::value.eq(value))
                .select(case_search_index::case_id)
                .load(conn);
            matches!(ids, Ok(ids) if !ids.is_empty() && same_work::rows_and_keys(conn, &ids).is_ok())
        }),
    )?);
    // List: the API's page query (newest first, 51 rows before a keyset
    // cursor), then the 50 keys.
    out.push(drive_direct(
        url,
        c,
        span(args, "list"),
        always(|conn, n| {
            let (at, id) = &fx.cursors[Pcg(n).below(fx.cursors.len())];
            let rows: QueryResult<Vec<(String, NaiveDateTime)>> = cases::table
                .filter(cases::city_id.eq(&city))
                .filter(cases::status.ne("erased"))
                .filter(cases::created_at.le(at))
                .filter(
                    cases::created_at
                        .lt(at)
                        .or(cases::created_at.eq(at).and(cases::id.lt(id))),
                )
                .order((cases::created_at.desc(), cases::id.desc()))
                .limit(51)
                .select((cases::id, cases::created_at))
                .load(conn);
            match rows {
                Ok(rows) => {
                    let ids: Vec<String> = rows.into_iter().take(50).map(|r| r.0).collect();
                    same_work::rows_and_keys(conn, &ids).is_ok()
                }
                Err(_) => false,
            }
        }),
    )?);
    // Transition: a conditional update, as the API does.
    let third = fx.pending.len() / 3;
    let queue = Mutex::new(
        fx.pending
            .iter()
            .skip(third)
            .take(third)
            .map(|(id, _)| (id.clone(), 0u8))
            .collect::<VecDeque<_>>(),
    );
    out.push(drive_direct(
        url,
        c,
        span(args, "transition"),
        |conn, _| {
            // None: nothing left to move, this client stops.
            let (id, step) = queue.lock().ok().and_then(|mut q| q.pop_front())?;
            let (from, to) = match step {
                0 => ("pending", "accepted"),
                1 => ("accepted", "in_progress"),
                _ => ("in_progress", "completed"),
            };
            let done =
                sanad::db::write_transaction(conn, |conn| same_work::step(conn, &id, from, to));
            let ok = matches!(done, Ok(1));
            if ok
                && step < 2
                && let Ok(mut q) = queue.lock()
            {
                q.push_back((id, step + 1));
            }
            Some(ok)
        },
    )?);
    // Stats: the same answer from the stored release, without HTTP.
    out.push(drive_direct(
        url,
        sc,
        span(args, "stats"),
        always(|conn, _| {
            use sanad::stats::answer::{Query, from_release};
            use sanad::stats::design::{Dimension, Subject};
            from_release(
                conn,
                &Query {
                    subject: Subject::Cases,
                    dims: vec![Dimension::Governorate, Dimension::Sex, Dimension::AgeBand],
                    period: sanad::domain::Period::parse("2025"),
                    release: None,
                },
            )
            .is_ok()
        }),
    )?);
    Ok(out)
}

/// A case's rows as a create writes them: its data key, the case row and
/// ten blind-index rows (one statement each), byte strings the size of the
/// sealed fields.
fn insert_case(
    conn: &mut AnyConnection,
    rng: &mut Pcg,
    id: &str,
    number: i64,
    city: &str,
) -> Result<(), sanad::error::ApiError> {
    let now = chrono::Utc::now().naive_utc();
    diesel::insert_into(data_keys::table)
        .values((
            data_keys::subject_id.eq(id),
            data_keys::kek_version.eq(Some(1)),
            data_keys::wrapped_key.eq(Some(random_bytes(rng, 61))),
            data_keys::created_at.eq(now),
        ))
        .execute(conn)?;
    diesel::insert_into(cases::table)
        .values((
            cases::id.eq(id),
            cases::case_number.eq(format!("MOS-2099-{number:06}")),
            cases::city_id.eq(city),
            cases::status.eq("open"),
            cases::sex.eq("female"),
            cases::birth_year.eq(1990),
            cases::origin_kind.eq("camp"),
            cases::return_date.eq(now.date()),
            cases::vulnerability_flags.eq("female_headed_household"),
            cases::consent_share.eq(true),
            cases::consent_given_by.eq("self"),
            cases::consent_given_at.eq(now),
            (
                cases::full_name_enc.eq(random_bytes(rng, 95)),
                cases::full_name_latin_enc.eq(Some(random_bytes(rng, 64))),
                cases::date_of_birth_enc.eq(random_bytes(rng, 38)),
                cases::national_id_enc.eq(Some(random_bytes(rng, 44))),
                cases::phone_enc.eq(Some(random_bytes(rng, 43))),
                cases::address_enc.eq(Some(random_bytes(rng, 75))),
                cases::origin_place_enc.eq(Some(random_bytes(rng, 50))),
            ),
            cases::version.eq(1_i64),
            cases::created_by.eq(diesel::dsl::sql::<Text>("(SELECT id FROM users LIMIT 1)")),
            cases::created_at.eq(now),
            cases::updated_at.eq(now),
        ))
        .execute(conn)?;
    // The ten index rows in one multi-row INSERT, as the server writes them.
    let rows: Vec<_> = (0..10)
        .map(|k| {
            (
                case_search_index::case_id.eq(id),
                case_search_index::kind.eq(match k {
                    0..8 => "name",
                    8 => "national_id",
                    _ => "phone",
                }),
                case_search_index::value.eq(format!("{:016x}", rng.next())),
                case_search_index::city_id.eq(city),
            )
        })
        .collect();
    match conn {
        AnyConnection::Postgresql(pg) => diesel::insert_into(case_search_index::table)
            .values(rows)
            .execute(pg)?,
        AnyConnection::Sqlite(lite) => diesel::insert_into(case_search_index::table)
            .values(rows)
            .execute(lite)?,
    };
    Ok(())
}

fn print_table(t: &Table) {
    if t.rows.is_empty() {
        return;
    }
    println!();
    println!(
        "{} at {} cases{}{}; server peak RSS {:.0} MiB",
        t.backend,
        t.cases,
        t.seed_secs
            .map(|s| format!(" (seeded in {s:.0} s, {:.0} cases/s)", t.cases as f64 / s))
            .unwrap_or_default(),
        release_made(t),
        t.peak_rss_kib as f64 / 1024.0
    );
    let (head, rule) = columns();
    println!("{head}");
    println!("{rule}");
    for r in &t.rows {
        println!("{}", cells(r));
    }
}

/// "; a statistical release made in … s, peak RSS … MiB", when one was
/// made for this run (the ministry's figures were measured).
fn release_made(t: &Table) -> String {
    match t.release {
        (secs, peak) if secs > 0.0 => format!(
            "; a statistical release made in {secs:.1} s, peak RSS {:.0} MiB",
            peak as f64 / 1024.0
        ),
        _ => String::new(),
    }
}

/// The table's header and rule (Markdown, which also reads as text).
fn columns() -> (String, String) {
    let names = [
        "operation",
        "clients",
        "API req/s",
        "p50 ms",
        "p99 ms",
        "errors",
        "server CPU ms/req",
        "PG CPU ms/req",
        "same work req/s",
        "p50 ms",
        "p99 ms",
        "its CPU ms/req",
        "bare req/s",
        "API / same work",
        "API / bare",
        "sequencer lag ms (max, drain)",
        "RSS after, MiB",
    ];
    let head = format!("| {} |", names.join(" | "));
    let rule = format!(
        "|---|{}",
        names.iter().skip(1).map(|_| "---:|").collect::<String>()
    );
    (head, rule)
}

/// One row of the table. "its CPU" is PostgreSQL's for the same work in
/// SQL on PostgreSQL, this process's (SQLite's work and the driver's) on
/// SQLite.
fn cells(r: &Row) -> String {
    let (server_cpu, pg_cpu) = r.api.cpu_per_request();
    let (own_cpu, same_pg_cpu) = r.same.cpu_per_request();
    let same_cpu = if same_pg_cpu > 0.0 {
        same_pg_cpu
    } else {
        own_cpu
    };
    let ratio = |d: &Stats| 100.0 * r.api.rate() / d.rate().max(1e-9);
    format!(
        "| {} | {} | {:.0} | {:.2} | {:.2} | {} | {:.3} | {:.3} | {:.0} | {:.2} | {:.2} | {:.3} | {:.0} | {:.0}% | {:.0}% | {:.0}, {:.0} | {:.0} |",
        r.name,
        r.concurrency,
        r.api.rate(),
        r.api.p50_ms,
        r.api.p99_ms,
        r.api.errors,
        server_cpu,
        pg_cpu,
        r.same.rate(),
        r.same.p50_ms,
        r.same.p99_ms,
        same_cpu,
        r.bare.rate(),
        ratio(&r.same),
        ratio(&r.bare),
        r.lag.max_ms,
        r.lag.drain_ms,
        r.rss_after_kib as f64 / 1024.0,
    )
}

fn markdown(t: &Table, args: &Args) -> String {
    let bursts = login_burst::markdown(&t.bursts);
    if t.rows.is_empty() {
        return format!("### {} — {} cases\n\n{bursts}", t.backend, t.cases);
    }
    let mut s = format!(
        "### {} — {} cases\n\n{}{}Concurrency {} ({} for stats), {} s per operation. Server peak RSS: {:.0} MiB.\n\n",
        t.backend,
        t.cases,
        t.seed_secs
            .map(|s| format!("Seeded in {s:.0} s ({:.0} cases/s). ", t.cases as f64 / s))
            .unwrap_or_default(),
        match release_made(t).strip_prefix("; a") {
            Some(made) => format!("A{made}. "),
            None => String::new(),
        },
        args.concurrency,
        args.stats_concurrency,
        args.seconds,
        t.peak_rss_kib as f64 / 1024.0
    );
    let (head, rule) = columns();
    s.push_str(&format!("{head}\n{rule}\n"));
    for r in &t.rows {
        s.push_str(&cells(r));
        s.push('\n');
    }
    if !t.bursts.is_empty() {
        s.push('\n');
        s.push_str(&bursts);
    }
    s
}
