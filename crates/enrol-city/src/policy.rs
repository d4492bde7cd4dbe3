//! The sample policy's dates and numbers (policy.md) that the generator aims
//! its families at. The engine reads them from its policy file; the
//! generator only needs them to place a family on the right side of a line.

use chrono::NaiveDate;

pub const ROUND: &str = "2027-primary";
pub const ENTRY_YEAR: i32 = 2027;
pub const REGION_PREFIX: &str = "3708";

pub(crate) const fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    match NaiveDate::from_ymd_opt(y, m, d) {
        Some(d) => d,
        None => panic!("constant date out of range"),
    }
}

/// 年满6周岁: born on or before.
pub const BORN_ON_OR_BEFORE: NaiveDate = date(2021, 8, 31);
/// Older children need an officer (缓学).
pub const BORN_ON_OR_AFTER: NaiveDate = date(2020, 9, 1);
pub const RESIDENCE_CUTOFF: NaiveDate = date(2026, 8, 31);
pub const PERMIT_VALID_ON: NaiveDate = date(2027, 9, 1);
/// Inclusive window of countable social-insurance months, as (year, month).
pub const INSURANCE_FROM: (i32, u32) = (2025, 5);
pub const INSURANCE_TO: (i32, u32) = (2027, 4);
pub const INSURANCE_MIN_MONTHS: usize = 12;
pub const MIN_FAMILY_SHARE_PCT: u32 = 50;
/// Seat uses in these entry years lock a unit for the school.
pub const SEAT_LOCK_FIRST_YEAR: i32 = ENTRY_YEAR - 6;
pub const SEAT_LOCK_LAST_YEAR: i32 = ENTRY_YEAR - 1;
pub const SIBLING_GRADES: std::ops::RangeInclusive<u8> = 1..=5;

/// The `YYYY-MM` months of the insurance window, ascending.
pub(crate) fn insurance_window() -> Vec<String> {
    months_between(INSURANCE_FROM, INSURANCE_TO)
}

/// `YYYY-MM` strings from `from` to `to`, both included.
pub(crate) fn months_between(from: (i32, u32), to: (i32, u32)) -> Vec<String> {
    let mut out = Vec::new();
    let (mut y, mut m) = from;
    while (y, m) <= to {
        out.push(format!("{y:04}-{m:02}"));
        m += 1;
        if m == 13 {
            y += 1;
            m = 1;
        }
    }
    out
}
