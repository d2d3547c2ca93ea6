//! The `[auth]` settings: tokens, passwords, login throttling, password
//! workers, enrolment codes and the second factor (config/default.toml says
//! what each does).

use serde::Deserialize;

use crate::domain::Role;

/// Tokens, passwords and login throttling.
#[derive(Debug, Clone, Deserialize)]
pub struct AuthSettings {
    /// `iss` of every access token, checked on every request.
    pub issuer: String,
    /// `aud` of every access token, checked on every request.
    pub audience: String,
    /// Lifetime of an access token; at most 15 minutes.
    pub access_token_ttl_secs: u64,
    /// Lifetime of a refresh token.
    pub refresh_token_ttl_secs: u64,
    pub password_min_chars: usize,
    /// Failed logins allowed per username, and per client address, within
    /// the window before further attempts answer 429.
    pub max_failures_per_username: u32,
    pub max_failures_per_address: u32,
    pub failure_window_secs: u64,
    /// Password checks (Argon2, about 19 MiB each) run at once; 0: one per
    /// CPU core.
    pub password_workers: usize,
    /// Password checks that may wait for a worker; one more is answered 503
    /// at once, with no Argon2 work.
    pub password_queue: usize,
    /// Sign-ins (and other password checks) in flight from one client
    /// address at once; one more is answered 429.
    pub max_concurrent_logins_per_address: u32,
    /// How long an enrolment code stays good.
    pub enrolment_code_ttl_hours: u64,
    /// Roles that sign in with a second factor (TOTP). Until such an
    /// account has one, its sessions may only enrol one.
    #[serde(default)]
    pub totp_required_roles: Vec<Role>,
}

impl AuthSettings {
    /// Threads for password checks: `password_workers`, or one per core.
    pub fn password_threads(&self) -> usize {
        match self.password_workers {
            0 => std::thread::available_parallelism().map_or(2, usize::from),
            n => n,
        }
    }

    pub fn totp_required(&self, role: Role) -> bool {
        self.totp_required_roles.contains(&role)
    }
}

impl AuthSettings {
    /// Each setting within its range: else the setting's name and what it
    /// must be.
    pub fn check(&self) -> Result<(), (&'static str, &'static str)> {
        let checks: [(&'static str, u64, u64, u64, &'static str); 6] = [
            (
                "auth.access_token_ttl_secs",
                self.access_token_ttl_secs,
                1,
                900,
                "must be between 1 and 900 (15 minutes)",
            ),
            (
                "auth.password_min_chars",
                self.password_min_chars as u64,
                12,
                u64::MAX,
                "must be at least 12",
            ),
            (
                "auth.password_workers",
                self.password_workers as u64,
                0,
                256,
                "must be between 0 and 256",
            ),
            (
                "auth.password_queue",
                self.password_queue as u64,
                0,
                1024,
                "must be between 0 and 1024",
            ),
            (
                "auth.max_concurrent_logins_per_address",
                u64::from(self.max_concurrent_logins_per_address),
                1,
                10_000,
                "must be between 1 and 10000",
            ),
            (
                "auth.enrolment_code_ttl_hours",
                self.enrolment_code_ttl_hours,
                1,
                24 * 30,
                "must be between 1 and 720",
            ),
        ];
        match checks
            .into_iter()
            .find(|(_, value, min, max, _)| !(min..=max).contains(&value))
        {
            Some((field, _, _, _, message)) => Err((field, message)),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    #[test]
    fn a_second_factor_is_required_in_production_and_not_by_default() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("config");
        let roles = |files: &[&str]| -> Vec<Role> {
            let mut builder = config::Config::builder();
            for file in files {
                builder = builder.add_source(config::File::from(dir.join(file)));
            }
            builder
                .build()
                .unwrap()
                .get("auth.totp_required_roles")
                .unwrap()
        };
        assert!(roles(&["default.toml"]).is_empty());
        let production = roles(&["default.toml", "production.toml"]);
        for role in [
            Role::Admin,
            Role::Auditor,
            Role::CitySupervisor,
            Role::MinistryOfficial,
        ] {
            assert!(production.contains(&role), "{role}");
        }
        assert_eq!(production.len(), 4);
    }
}
