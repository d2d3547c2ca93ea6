//! The `[stats]` settings (config/default.toml says what each buys).

use serde::Deserialize;

use crate::domain::Month;

/// Statistical releases and live figures (docs/statistics.md).
#[derive(Debug, Clone, Deserialize)]
pub struct StatsSettings {
    /// Released counts below k are shown as suppressed (post-processing).
    pub k: u64,
    /// zCDP ρ one full release spends (new months and the snapshot).
    pub rho_per_release: f64,
    /// Most ρ the releases of one calendar year may spend together.
    pub rho_per_year: f64,
    /// Referrals counted per person in one measurement; later ones are not.
    pub referrals_per_person: u32,
    /// Whole months a month waits after it ends before it is released.
    pub release_lag_months: u32,
    /// The first month of every released series.
    pub series_start: Month,
    /// Statistics requests one user may have in flight at once.
    pub max_concurrent_per_user: usize,
    /// Whether the server makes each month's release itself.
    pub auto_release: bool,
}

impl StatsSettings {
    /// Each setting within its range: else the setting's name and what it
    /// must be.
    pub fn check(&self) -> Result<(), (&'static str, &'static str)> {
        let invalid = |field, message| Err((field, message));
        if !(2..=1000).contains(&self.k) {
            return invalid("stats.k", "must be from 2 to 1000");
        }
        if !(self.rho_per_release > 0.0 && self.rho_per_release <= 10.0) {
            return invalid("stats.rho_per_release", "must be above 0 and at most 10");
        }
        if !(self.rho_per_year >= self.rho_per_release && self.rho_per_year <= 100.0) {
            return invalid(
                "stats.rho_per_year",
                "must be at least stats.rho_per_release and at most 100",
            );
        }
        if !(1..=20).contains(&self.referrals_per_person) {
            return invalid("stats.referrals_per_person", "must be from 1 to 20");
        }
        if self.release_lag_months > 12 {
            return invalid("stats.release_lag_months", "must be from 0 to 12");
        }
        if !(1..=16).contains(&self.max_concurrent_per_user) {
            return invalid("stats.max_concurrent_per_user", "must be from 1 to 16");
        }
        Ok(())
    }
}
