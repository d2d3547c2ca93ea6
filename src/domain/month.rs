//! Calendar months and the periods statistics are asked for: a year
//! (`2026`), a quarter (`2026-Q2`) or a month (`2026-05`). Day ranges are
//! not a period: differencing two overlapping day ranges singled people out.

use std::fmt;

use chrono::{Datelike, NaiveDate};

/// A calendar month, written `YYYY-MM`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Month {
    year: i32,
    /// 1 to 12.
    month: u32,
}

impl Month {
    pub fn new(year: i32, month: u32) -> Option<Month> {
        ((1..=12).contains(&month) && (1..=9999).contains(&year)).then_some(Month { year, month })
    }

    /// The month a date falls in.
    pub fn of(date: NaiveDate) -> Month {
        Month {
            year: date.year(),
            month: date.month(),
        }
    }

    /// Reads `YYYY-MM` exactly (four digits, a dash, two digits).
    pub fn parse(text: &str) -> Option<Month> {
        let (year, month) = text.split_once('-')?;
        if year.len() != 4
            || month.len() != 2
            || !(year.bytes().chain(month.bytes())).all(|b| b.is_ascii_digit())
        {
            return None;
        }
        Month::new(year.parse().ok()?, month.parse().ok()?)
    }

    pub fn year(self) -> i32 {
        self.year
    }

    pub fn first_day(self) -> NaiveDate {
        // Always valid: the fields were checked when the month was made.
        NaiveDate::from_ymd_opt(self.year, self.month, 1).unwrap_or(NaiveDate::MIN)
    }

    /// The month `n` months later.
    pub fn plus(self, n: u32) -> Month {
        let index = self.index() + i64::from(n);
        Month::from_index(index)
    }

    /// The month before.
    pub fn previous(self) -> Month {
        Month::from_index(self.index() - 1)
    }

    /// Months from `self` to `last`, both included (none when `last` is
    /// earlier).
    pub fn through(self, last: Month) -> impl Iterator<Item = Month> {
        (self.index()..=last.index()).map(Month::from_index)
    }

    /// How many months from `self` to `last`, both included.
    pub fn count_through(self, last: Month) -> usize {
        usize::try_from(last.index() - self.index() + 1).unwrap_or(0)
    }

    fn index(self) -> i64 {
        i64::from(self.year) * 12 + i64::from(self.month) - 1
    }

    fn from_index(index: i64) -> Month {
        let year = i32::try_from(index.div_euclid(12)).unwrap_or(i32::MAX);
        let month = u32::try_from(index.rem_euclid(12)).unwrap_or(0) + 1;
        Month { year, month }
    }
}

impl fmt::Display for Month {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}", self.year, self.month)
    }
}

impl<'de> serde::Deserialize<'de> for Month {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Month, D::Error> {
        let text = String::deserialize(deserializer)?;
        Month::parse(&text).ok_or_else(|| serde::de::Error::custom("must be a month, YYYY-MM"))
    }
}

/// A year, a quarter or a month: the only periods figures are given for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Period {
    Year(i32),
    Quarter(i32, u32),
    Month(Month),
}

impl Period {
    /// `YYYY`, `YYYY-Qn` (n from 1 to 4) or `YYYY-MM`.
    pub fn parse(text: &str) -> Option<Period> {
        if text.len() == 4 && text.bytes().all(|b| b.is_ascii_digit()) {
            let year: i32 = text.parse().ok()?;
            return Month::new(year, 1).map(|_| Period::Year(year));
        }
        if let Some((year, quarter)) = text.split_once("-Q") {
            if year.len() != 4 || !year.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            let year: i32 = year.parse().ok()?;
            let quarter: u32 = match quarter {
                "1" => 1,
                "2" => 2,
                "3" => 3,
                "4" => 4,
                _ => return None,
            };
            return Month::new(year, 1).map(|_| Period::Quarter(year, quarter));
        }
        Month::parse(text).map(Period::Month)
    }

    pub fn first(self) -> Month {
        match self {
            Period::Year(year) => Month { year, month: 1 },
            Period::Quarter(year, q) => Month {
                year,
                month: 3 * q - 2,
            },
            Period::Month(month) => month,
        }
    }

    pub fn last(self) -> Month {
        match self {
            Period::Year(year) => Month { year, month: 12 },
            Period::Quarter(year, q) => Month { year, month: 3 * q },
            Period::Month(month) => month,
        }
    }
}

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Period::Year(year) => write!(f, "{year:04}"),
            Period::Quarter(year, q) => write!(f, "{year:04}-Q{q}"),
            Period::Month(month) => month.fmt(f),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn months_parse_print_and_step() {
        let m = Month::parse("2026-12").unwrap();
        assert_eq!(m.to_string(), "2026-12");
        assert_eq!(m.plus(1).to_string(), "2027-01");
        assert_eq!(m.plus(14).to_string(), "2028-02");
        assert_eq!(Month::parse("2027-01").unwrap().previous(), m);
        assert_eq!(m.count_through(m.plus(2)), 3);
        assert_eq!(m.plus(2).count_through(m), 0);
        assert_eq!(
            Month::of(NaiveDate::from_ymd_opt(2026, 3, 31).unwrap()).to_string(),
            "2026-03"
        );
        for bad in [
            "2026-13",
            "2026-00",
            "2026-1",
            "26-01",
            "2026-01-05",
            "2026/01",
            "",
            "٢٠٢٦-٠١",
        ] {
            assert!(Month::parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn periods_are_years_quarters_or_months_and_nothing_finer() {
        let q = Period::parse("2026-Q2").unwrap();
        assert_eq!(
            (q.first().to_string(), q.last().to_string()),
            ("2026-04".into(), "2026-06".into())
        );
        let y = Period::parse("2025").unwrap();
        assert_eq!(
            (y.first().to_string(), y.last().to_string()),
            ("2025-01".into(), "2025-12".into())
        );
        assert_eq!(Period::parse("2026-03").unwrap().to_string(), "2026-03");
        for bad in [
            "2026-03-05",
            "2026-Q5",
            "2026-Q0",
            "2026-q1",
            "2026-Q",
            "0000",
            "20261",
            "2026-03..2026-04",
            "P1M",
        ] {
            assert!(Period::parse(bad).is_none(), "{bad}");
        }
    }

    proptest! {
        #[test]
        fn any_text_is_a_period_that_prints_back_or_nothing(text in "\\PC{0,12}|[0-9]{4}(-Q[0-9]|-[0-9]{2})?") {
            if let Some(p) = Period::parse(&text) {
                prop_assert_eq!(p.to_string(), text);
                prop_assert!(p.first() <= p.last());
            }
        }
    }
}
