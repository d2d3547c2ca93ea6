//! Time as both backends store it: UTC, truncated to microseconds
//! (PostgreSQL keeps microseconds, SQLite would keep nanoseconds).

use chrono::{DateTime, NaiveDate, NaiveDateTime, SubsecRound, Utc};

/// Now, truncated to microseconds.
pub fn now() -> NaiveDateTime {
    truncate(Utc::now().naive_utc())
}

/// A time as both backends store it: truncated to microseconds.
pub fn truncate(at: NaiveDateTime) -> NaiveDateTime {
    at.trunc_subsecs(6)
}

/// Today's date in UTC: what ages, due dates and date limits are reckoned on.
pub fn today() -> NaiveDate {
    now().date()
}

/// A stored time as RFC 3339 UTC for the API.
pub fn to_utc(at: NaiveDateTime) -> DateTime<Utc> {
    at.and_utc()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Timelike;

    #[test]
    fn now_has_no_sub_microsecond_part() {
        assert_eq!(now().nanosecond() % 1000, 0);
    }
}
