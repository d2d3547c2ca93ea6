//! What the benchmark reads off the machine while an operation runs: the
//! CPU time of the server and of PostgreSQL, and how far the audit
//! sequencer lags behind the events being appended.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

/// CPU time spent during a run, in milliseconds (user + system).
#[derive(Default, Clone, Copy, Debug)]
pub struct Cpu {
    /// The server (API runs), or this process (direct SQL runs, where an
    /// SQLite database does its work).
    pub process_ms: f64,
    /// Every PostgreSQL process, backends that exited included.
    pub postgres_ms: f64,
}

/// Linux reports process times in USER_HZ, 100 on every architecture's ABI.
const TICKS_PER_SECOND: f64 = 100.0;

/// The fields of `/proc/<pid>/stat` after the command name (which may hold
/// spaces), and the command name.
fn stat(pid: &str) -> Option<(String, Vec<u64>)> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let open = text.find('(')?;
    let close = text.rfind(')')?;
    let comm = text.get(open + 1..close)?.to_string();
    let fields = text
        .get(close + 2..)?
        .split_whitespace()
        .map(|f| f.parse().unwrap_or(0))
        .collect();
    Some((comm, fields))
}

/// utime + stime (and, with `children`, cutime + cstime) in milliseconds.
/// After the command name, utime is the 12th field (index 11).
fn times_ms(fields: &[u64], children: bool) -> f64 {
    let take = if children { 4 } else { 2 };
    let ticks: u64 = fields.iter().skip(11).take(take).sum();
    ticks as f64 * 1000.0 / TICKS_PER_SECOND
}

fn process_ms(pid: u32) -> f64 {
    stat(&pid.to_string())
        .map(|(_, f)| times_ms(&f, false))
        .unwrap_or(0.0)
}

/// Every `postgres` process's time, and its reaped children's (the
/// postmaster's children are the backends that have exited).
fn postgres_ms() -> f64 {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return 0.0;
    };
    dir.filter_map(Result::ok)
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|name| name.bytes().all(|b| b.is_ascii_digit()))
        .filter_map(|pid| stat(&pid))
        .filter(|(comm, _)| comm == "postgres")
        .map(|(_, f)| times_ms(&f, true))
        .sum()
}

/// A CPU reading to subtract from a later one.
#[derive(Clone, Copy)]
pub struct CpuMark {
    pid: u32,
    process: f64,
    postgres: f64,
}

impl CpuMark {
    pub fn now(pid: u32) -> CpuMark {
        CpuMark {
            pid,
            process: process_ms(pid),
            postgres: postgres_ms(),
        }
    }

    pub fn since(self) -> Cpu {
        let later = CpuMark::now(self.pid);
        Cpu {
            process_ms: (later.process - self.process).max(0.0),
            postgres_ms: (later.postgres - self.postgres).max(0.0),
        }
    }
}

/// How far the sequencer lagged during a run.
#[derive(Default, Clone, Copy, Debug)]
pub struct Lag {
    /// The oldest unchained event's age, at most, in milliseconds.
    pub max_ms: f64,
    /// The most events waiting at once.
    pub max_backlog: i64,
    /// How long the backlog took to drain after the run, in milliseconds.
    pub drain_ms: f64,
}

/// Samples the sequencer's backlog ten times a second on a connection of
/// its own until stopped.
pub struct LagWatch {
    stop: Arc<AtomicBool>,
    handle: JoinHandle<Lag>,
}

impl LagWatch {
    pub fn start(url: &str) -> anyhow::Result<LagWatch> {
        let mut conn = sanad::db::ConnectionManager::new(url, 5000)?.establish()?;
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let handle = std::thread::spawn(move || {
            let mut lag = Lag::default();
            let mut stopped_at = None;
            loop {
                let now = chrono::Utc::now().naive_utc();
                let (waiting, oldest) =
                    sanad::audit::chain::backlog(&mut conn).unwrap_or((0, None));
                if let Some(oldest) = oldest {
                    let age = (now - oldest).num_microseconds().unwrap_or(0) as f64 / 1000.0;
                    if stopped_at.is_none() {
                        lag.max_ms = lag.max_ms.max(age);
                        lag.max_backlog = lag.max_backlog.max(waiting);
                    }
                }
                if flag.load(Ordering::Relaxed) {
                    let since = *stopped_at.get_or_insert_with(std::time::Instant::now);
                    if waiting == 0 || since.elapsed() > Duration::from_secs(120) {
                        lag.drain_ms = since.elapsed().as_secs_f64() * 1000.0;
                        return lag;
                    }
                }
                std::thread::sleep(Duration::from_millis(100));
            }
        });
        Ok(LagWatch { stop, handle })
    }

    /// Stops sampling, waits for the backlog to drain (at most two
    /// minutes), and returns what was seen.
    pub fn stop(self) -> Lag {
        self.stop.store(true, Ordering::Relaxed);
        self.handle.join().unwrap_or_default()
    }
}
