//! The login burst: the server's memory while 200 clients sign in at once,
//! again and again, for `--seconds` (at most 10). Half the clients use a
//! demo account's right password, half an unknown username; every answer
//! is counted by status. It runs twice, each time on a server of its own
//! whose peak resident memory (the kernel's high-water mark) is read
//! after: once with the settings as shipped (the throttle refuses most of
//! a burst from one address), and once with the throttle's budgets and its
//! cap on sign-ins in flight per address lifted, as for a burst spread over
//! many addresses, where only the password workers and their queue bound
//! the work.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use serde_json::json;

use super::{Accounts, Args, Res, Server, Target, rss_kib};

/// Concurrent clients of a burst.
pub const CLIENTS: usize = 200;

/// One burst on one server.
pub struct Burst {
    pub name: &'static str,
    pub answers: BTreeMap<String, u64>,
    pub secs: f64,
    pub rss_before_kib: u64,
    pub peak_rss_kib: u64,
}

/// Both bursts, each on a fresh server over the seeded database.
pub fn measure(
    args: &Args,
    runtime: &tokio::runtime::Runtime,
    t: &Target,
    accounts: &Accounts,
) -> Res<Vec<Burst>> {
    let lifted = [
        ("SANAD__AUTH__MAX_FAILURES_PER_USERNAME", "1000000"),
        ("SANAD__AUTH__MAX_FAILURES_PER_ADDRESS", "1000000"),
        ("SANAD__AUTH__MAX_CONCURRENT_LOGINS_PER_ADDRESS", "10000"),
    ];
    let runs: [(&'static str, &[(&str, &str)]); 2] = [
        ("settings as shipped", &[]),
        ("throttle budgets lifted", &lifted),
    ];
    let seconds = args.seconds.clamp(1, 10);
    let mut out = Vec::new();
    for (name, env) in runs {
        let server = Server::start_with(args, t, env)?;
        let rss_before_kib = rss_kib(server.child.id(), "VmRSS:");
        let started = Instant::now();
        let answers = runtime.block_on(burst(&server.base, accounts, seconds))?;
        let secs = started.elapsed().as_secs_f64();
        let burst = Burst {
            name,
            answers,
            secs,
            rss_before_kib,
            peak_rss_kib: server.peak_rss_kib(),
        };
        println!(
            "login burst, {name}: {CLIENTS} clients for {secs:.1} s, answers {:?}, RSS {:.0} MiB before, peak {:.0} MiB",
            burst.answers,
            rss_before_kib as f64 / 1024.0,
            burst.peak_rss_kib as f64 / 1024.0
        );
        out.push(burst);
    }
    Ok(out)
}

/// `CLIENTS` clients signing in until `seconds` have passed: the answers
/// by status.
async fn burst(base: &str, accounts: &Accounts, seconds: u64) -> Res<BTreeMap<String, u64>> {
    anyhow::ensure!(!accounts.is_empty(), "no demo accounts to sign in with");
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(60))
        .build()?;
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let mut tasks = Vec::new();
    for n in 0..CLIENTS {
        let client = client.clone();
        let url = format!("{base}/api/v1/auth/login");
        let (username, password) = if n % 2 == 0 {
            accounts[n / 2 % accounts.len()].clone()
        } else {
            (format!("nobody-{n}"), "not-the-password-1".to_string())
        };
        tasks.push(tokio::spawn(async move {
            let mut answers: BTreeMap<String, u64> = BTreeMap::new();
            while Instant::now() < deadline {
                let answer = client
                    .post(&url)
                    .json(&json!({"username": username, "password": password}))
                    .send()
                    .await;
                let key = match answer {
                    Ok(response) => response.status().as_u16().to_string(),
                    Err(_) => "client error".to_string(),
                };
                *answers.entry(key).or_default() += 1;
            }
            answers
        }));
    }
    let mut all = BTreeMap::new();
    for task in tasks {
        for (status, n) in task.await? {
            *all.entry(status).or_default() += n;
        }
    }
    Ok(all)
}

/// The bursts as a Markdown table.
pub fn markdown(bursts: &[Burst]) -> String {
    let mut s = format!(
        "Login burst: {CLIENTS} clients signing in at once, again and again.\n\n| settings | seconds | answers by status | RSS before, MiB | peak RSS, MiB |\n|---|---:|---|---:|---:|\n"
    );
    for b in bursts {
        let answers: Vec<String> = b.answers.iter().map(|(k, v)| format!("{k}: {v}")).collect();
        s.push_str(&format!(
            "| {} | {:.1} | {} | {:.0} | {:.0} |\n",
            b.name,
            b.secs,
            answers.join(", "),
            b.rss_before_kib as f64 / 1024.0,
            b.peak_rss_kib as f64 / 1024.0
        ));
    }
    s
}
