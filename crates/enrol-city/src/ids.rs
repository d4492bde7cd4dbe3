//! Unique, valid national IDs (GB 11643-1999) for everyone in a city.

use std::collections::HashMap;

use chrono::{Datelike, Days, NaiveDate};
use enrol_domain::NationalId;

use crate::dice::Dice;

/// Hands out IDs with the given issuing place, birth date and sex; never the
/// same one twice. (A HashMap for lookup only: nothing is output in its order.)
#[derive(Debug, Default)]
pub(crate) struct IdAllocator {
    /// (region, date, is_male) → next free sequence index.
    next: HashMap<(String, NaiveDate, bool), u32>,
}

impl IdAllocator {
    /// An ID for a person born on `birth` (or, when that day's sequence numbers
    /// for the place are used up, a day later).
    pub(crate) fn issue(&mut self, dice: &mut Dice, region: &str, birth: NaiveDate, male: bool) -> NationalId {
        let mut day = birth;
        loop {
            let slot = self
                .next
                .entry((region.to_owned(), day, male))
                .or_insert_with(|| dice.between(0, 120) as u32);
            // Odd sequence numbers are men, even ones women (GB 11643-1999).
            let seq = 2 * *slot + if male { 1 } else { 2 };
            if seq <= 998 {
                *slot += 1;
                let prefix = format!("{region}{:04}{:02}{:02}{seq:03}", day.year(), day.month(), day.day());
                return NationalId::from_prefix(&prefix).expect("region and date are valid");
            }
            day = day + Days::new(1);
        }
    }
}
