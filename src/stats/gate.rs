//! How many statistics requests one user may have in flight at once:
//! beyond `stats.max_concurrent_per_user`, 429 at once, before any work.

use std::collections::HashMap;
use std::sync::Mutex;

use crate::domain::UserId;
use crate::error::ApiError;

/// How many statistics requests each user may have in flight.
pub struct StatsGate {
    limit: usize,
    in_flight: Mutex<HashMap<UserId, usize>>,
}

impl StatsGate {
    pub fn new(limit: usize) -> StatsGate {
        StatsGate {
            limit,
            in_flight: Mutex::new(HashMap::new()),
        }
    }

    /// A pass while under the limit, else 429.
    pub fn enter(&self, user: UserId) -> Result<GatePass<'_>, ApiError> {
        let mut in_flight = self
            .in_flight
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let count = in_flight.entry(user).or_default();
        if *count >= self.limit {
            return Err(ApiError::TooManyRequests {
                retry_after_secs: 1,
            });
        }
        *count += 1;
        Ok(GatePass { gate: self, user })
    }
}

pub struct GatePass<'a> {
    gate: &'a StatsGate,
    user: UserId,
}

impl Drop for GatePass<'_> {
    fn drop(&mut self) {
        let mut in_flight = self
            .gate
            .in_flight
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(count) = in_flight.get_mut(&self.user) {
            *count -= 1;
            if *count == 0 {
                in_flight.remove(&self.user);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_gate_lets_a_user_have_only_so_many_requests_in_flight() {
        let gate = StatsGate::new(2);
        let (alice, bob) = (UserId::new(), UserId::new());
        let first = gate.enter(alice).unwrap();
        let _second = gate.enter(alice).unwrap();
        assert!(matches!(
            gate.enter(alice),
            Err(ApiError::TooManyRequests { .. })
        ));
        assert!(gate.enter(bob).is_ok(), "others are not held back");
        drop(first);
        assert!(
            gate.enter(alice).is_ok(),
            "a finished request frees its place"
        );
    }
}
