//! Login throttling: failed attempts are counted per username (whether or
//! not it exists, so the answer gives nothing away) and per client address
//! within a fixed window; past the limit, logins answer 429 with
//! `Retry-After` until the window ends. A success clears the username's count.
//!
//! Counts live in this process. Behind several API nodes each node counts
//! alone, which multiplies the limit by the node count; docs/security.md says so.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::settings::AuthSettings;

/// Entries past this count trigger a sweep of expired windows.
const SWEEP_AT: usize = 10_000;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Key {
    Username(String),
    Address(IpAddr),
}

#[derive(Debug, Clone, Copy)]
struct Window {
    started: Instant,
    failures: u32,
}

pub struct LoginThrottle {
    windows: Mutex<HashMap<Key, Window>>,
    per_username: u32,
    per_address: u32,
    window: Duration,
}

impl LoginThrottle {
    pub fn new(settings: &AuthSettings) -> LoginThrottle {
        LoginThrottle {
            windows: Mutex::new(HashMap::new()),
            per_username: settings.max_failures_per_username.max(1),
            per_address: settings.max_failures_per_address.max(1),
            window: Duration::from_secs(settings.failure_window_secs.max(1)),
        }
    }

    fn keys(username: &str, address: Option<IpAddr>) -> Vec<Key> {
        let mut keys = vec![Key::Username(username.trim().to_lowercase())];
        keys.extend(address.map(Key::Address));
        keys
    }

    fn limit(&self, key: &Key) -> u32 {
        match key {
            Key::Username(_) => self.per_username,
            Key::Address(_) => self.per_address,
        }
    }

    /// `Some(seconds)` to wait when this attempt must not be tried at all.
    pub fn retry_after(&self, username: &str, address: Option<IpAddr>) -> Option<u64> {
        let now = Instant::now();
        let windows = self.windows.lock().unwrap_or_else(|p| p.into_inner());
        Self::keys(username, address)
            .iter()
            .filter_map(|key| {
                let w = windows.get(key)?;
                let elapsed = now.duration_since(w.started);
                (elapsed < self.window && w.failures >= self.limit(key))
                    .then(|| (self.window - elapsed).as_secs().max(1))
            })
            .max()
    }

    pub fn record_failure(&self, username: &str, address: Option<IpAddr>) {
        let now = Instant::now();
        let mut windows = self.windows.lock().unwrap_or_else(|p| p.into_inner());
        if windows.len() > SWEEP_AT {
            let window = self.window;
            windows.retain(|_, w| now.duration_since(w.started) < window);
        }
        for key in Self::keys(username, address) {
            let entry = windows.entry(key).or_insert(Window {
                started: now,
                failures: 0,
            });
            if now.duration_since(entry.started) >= self.window {
                *entry = Window {
                    started: now,
                    failures: 0,
                };
            }
            entry.failures = entry.failures.saturating_add(1);
        }
    }

    pub fn record_success(&self, username: &str) {
        let mut windows = self.windows.lock().unwrap_or_else(|p| p.into_inner());
        windows.remove(&Key::Username(username.trim().to_lowercase()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn throttle() -> LoginThrottle {
        let mut settings = crate::auth::jwt::tests::settings();
        settings.max_failures_per_username = 3;
        settings.max_failures_per_address = 5;
        LoginThrottle::new(&settings)
    }

    #[test]
    fn a_username_is_throttled_after_its_limit_and_cleared_by_success() {
        let t = throttle();
        for _ in 0..3 {
            assert!(t.retry_after("Amina", None).is_none());
            t.record_failure("Amina", None);
        }
        let wait = t.retry_after("amina", None).expect("throttled");
        assert!(wait > 0 && wait <= 900);
        t.record_success("AMINA");
        assert!(t.retry_after("amina", None).is_none());
    }

    #[test]
    fn an_address_is_throttled_across_usernames() {
        let t = throttle();
        let ip: IpAddr = "10.0.0.7".parse().unwrap();
        for i in 0..5 {
            t.record_failure(&format!("user{i}"), Some(ip));
        }
        assert!(t.retry_after("someone-else", Some(ip)).is_some());
        assert!(t.retry_after("someone-else", None).is_none());
    }
}
