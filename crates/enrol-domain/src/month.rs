//! Calendar months (`YYYY-MM`), as social-insurance records count them.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A calendar month, `YYYY-MM`.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct YearMonth {
    year: i32,
    month: u8,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{input:?} is not a month of the form YYYY-MM")]
pub struct YearMonthError {
    pub input: String,
}

impl YearMonth {
    pub fn new(year: i32, month: u32) -> Option<Self> {
        ((1..=12).contains(&month) && (0..=9999).contains(&year)).then_some(Self {
            year,
            month: month as u8,
        })
    }

    pub fn parse(input: &str) -> Result<Self, YearMonthError> {
        let err = || YearMonthError {
            input: input.to_owned(),
        };
        let b = input.as_bytes();
        if b.len() != 7 || b[4] != b'-' || !b.iter().enumerate().all(|(i, c)| i == 4 || c.is_ascii_digit()) {
            return Err(err());
        }
        let year = input[..4].parse().map_err(|_| err())?;
        let month = input[5..].parse().map_err(|_| err())?;
        Self::new(year, month).ok_or_else(err)
    }

    pub fn year(&self) -> i32 {
        self.year
    }

    pub fn month(&self) -> u32 {
        u32::from(self.month)
    }

    /// Months since year 0, for arithmetic.
    fn index(&self) -> i64 {
        i64::from(self.year) * 12 + i64::from(self.month) - 1
    }

    /// Number of months from `self` to `other`, both ends included (0 when `other` is earlier).
    pub fn months_through(&self, other: &YearMonth) -> u32 {
        u32::try_from(other.index() - self.index() + 1).unwrap_or(0)
    }
}

impl fmt::Display for YearMonth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}", self.year, self.month)
    }
}

impl fmt::Debug for YearMonth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "YearMonth({self})")
    }
}

impl FromStr for YearMonth {
    type Err = YearMonthError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl Serialize for YearMonth {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for YearMonth {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(d)?;
        Self::parse(&raw).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_orders() {
        let a = YearMonth::parse("2025-05").unwrap();
        let b = YearMonth::parse("2027-04").unwrap();
        assert!(a < b);
        assert_eq!(a.months_through(&b), 24);
        assert_eq!(b.months_through(&a), 0);
        assert_eq!(a.to_string(), "2025-05");
        for bad in ["2025-5", "2025-13", "2025-00", "25-05-01", "2025/05", "２０２５-05"] {
            assert!(YearMonth::parse(bad).is_err(), "{bad}");
        }
    }
}
