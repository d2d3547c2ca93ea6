//! The server's own releases: at start-up and then once a day, it makes a
//! release when a month has settled since the last one. With several API
//! nodes, each checks; the release's sequence number lets only one of two
//! concurrent attempts commit, and the other's noise is never stored.

use std::time::Duration;

use super::settings::StatsSettings;
use crate::db::Database;
use crate::domain::time;

use super::mechanism::GaussianCounts;
use super::release::{self, ReleaseError, Trigger};

/// How often the server checks whether a month is due.
pub const CHECK_EVERY: Duration = Duration::from_secs(24 * 60 * 60);

/// Checks now and every [`CHECK_EVERY`] for the life of the process.
pub fn spawn(db: Database, settings: StatsSettings) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut ticker = tokio::time::interval(CHECK_EVERY);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticker.tick().await;
            let settings = settings.clone();
            let made = db
                .run(move |conn| {
                    Ok(release::make(
                        conn,
                        &settings,
                        Trigger::Scheduled,
                        time::now(),
                        &GaussianCounts,
                        &mut |_| {},
                    ))
                })
                .await;
            match made {
                Ok(Ok(Some(made))) => tracing::info!(
                    seq = made.seq,
                    first_month = %made.plan.first,
                    last_month = %made.plan.last,
                    rho = made.rho,
                    "statistical release made"
                ),
                Ok(Ok(None)) | Ok(Err(ReleaseError::Raced)) => {}
                Ok(Err(err)) => tracing::warn!(error = %err, "statistical release not made"),
                Err(err) => tracing::warn!(error = %err, "statistical release not made"),
            }
        }
    })
}
