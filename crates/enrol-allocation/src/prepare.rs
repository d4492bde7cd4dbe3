//! Validation of an instance and its index form: every applicant, school and
//! choice becomes a small integer, and each school's order (key, lottery, id)
//! becomes a rank, so the mechanisms compare integers only.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use crate::error::InstanceError;
use crate::instance::Lottery;
use crate::view::{ApplicantView, SchoolView, View};

/// "No school": an applicant without a seat.
pub(crate) const NONE: u32 = u32::MAX;

/// An instance in index form. Applicants and schools keep their input indices.
#[derive(Debug)]
pub(crate) struct Prepared {
    pub lottery: Vec<u64>,
    /// Applicant indices in ascending id order.
    pub by_id: Vec<u32>,
    /// Position of each applicant in `by_id`: the id as a number.
    pub id_rank: Vec<u32>,
    /// Applicant a's choices are `choice_start[a]..choice_start[a + 1]`.
    pub choice_start: Vec<u32>,
    pub choice_school: Vec<u32>,
    /// Rank of the choosing applicant in the school's order (0 is first).
    pub choice_rank: Vec<u32>,
    /// School s's order is `school_start[s]..school_start[s + 1]` of `ranked`.
    pub school_start: Vec<u32>,
    /// Applicants in each school's order.
    pub ranked: Vec<u32>,
    pub capacity: Vec<u32>,
}

impl Prepared {
    pub fn applicants(&self) -> usize {
        self.lottery.len()
    }

    pub fn schools(&self) -> usize {
        self.capacity.len()
    }

    pub fn choices(&self, applicant: u32) -> std::ops::Range<usize> {
        let a = applicant as usize;
        self.choice_start[a] as usize..self.choice_start[a + 1] as usize
    }

    /// The applicant holding `rank` in school s's order.
    pub fn at_rank(&self, school: u32, rank: u32) -> u32 {
        self.ranked[self.school_start[school as usize] as usize + rank as usize]
    }
}

/// A fast multiply-rotate hash (as in rustc's FxHash) for the school index,
/// looked up once per choice: an instance comes from the bureau, so the
/// flooding resistance of the default hasher buys nothing here.
#[derive(Debug, Default)]
pub(crate) struct IdHasher(u64);

impl Hasher for IdHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            let mut word = [0u8; 8];
            word.copy_from_slice(chunk);
            self.add(u64::from_le_bytes(word));
        }
        for &byte in chunks.remainder() {
            self.add(u64::from(byte));
        }
    }

    fn write_u8(&mut self, byte: u8) {
        self.add(u64::from(byte));
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

impl IdHasher {
    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
}

fn check_size(what: &'static str, count: usize) -> Result<(), InstanceError> {
    // u32::MAX itself is the NONE marker.
    let limit = (u32::MAX - 1) as usize;
    if count > limit {
        return Err(InstanceError::TooLarge { what, limit });
    }
    Ok(())
}

fn on_globe(lat: f64, lon: f64) -> bool {
    (-90.0..=90.0).contains(&lat) && (-180.0..=180.0).contains(&lon)
}

/// Checks everything the mechanism (and overflow, when asked for) relies on,
/// in this order: schools in input order, applicant ids, then each applicant
/// in input order. The first fault found is reported.
pub(crate) fn prepare(instance: &View<'_>) -> Result<Prepared, InstanceError> {
    let schools = &instance.schools;
    let applicants = &instance.applicants;
    check_size("schools", schools.len())?;
    check_size("applicants", applicants.len())?;
    let total_choices: usize = applicants.iter().map(|a| a.choices.len()).sum();
    check_size("choices", total_choices)?;

    let mut school_index: HashMap<&str, u32, BuildHasherDefault<IdHasher>> =
        HashMap::with_capacity_and_hasher(schools.len(), BuildHasherDefault::default());
    for (i, school) in schools.iter().enumerate() {
        if school.id.is_empty() {
            return Err(InstanceError::EmptySchoolId { index: i + 1 });
        }
        if school_index.insert(&school.id, i as u32).is_some() {
            return Err(InstanceError::DuplicateSchool {
                school: school.id.to_string(),
            });
        }
        if instance.overflow {
            check_school_for_overflow(school)?;
        }
    }

    for (i, applicant) in applicants.iter().enumerate() {
        if applicant.id.is_empty() {
            return Err(InstanceError::EmptyApplicantId { index: i + 1 });
        }
    }
    let by_id = sort_by_id(applicants);
    if let Some(pair) = by_id
        .windows(2)
        .find(|pair| applicants[pair[0] as usize].id == applicants[pair[1] as usize].id)
    {
        return Err(InstanceError::DuplicateApplicant {
            applicant: applicants[pair[0] as usize].id.to_string(),
        });
    }
    let mut id_rank = vec![0u32; applicants.len()];
    for (rank, &a) in by_id.iter().enumerate() {
        id_rank[a as usize] = rank as u32;
    }

    let mut lottery = Vec::with_capacity(applicants.len());
    let mut choice_start = Vec::with_capacity(applicants.len() + 1);
    let mut choice_school = Vec::with_capacity(total_choices);
    let mut choice_app = Vec::with_capacity(total_choices);
    let mut choice_key: Vec<&[i64]> = Vec::with_capacity(total_choices);
    // Packed while every key so far fits; abandoned at the first that does not.
    let mut packed_keys: Vec<PackedKey> = Vec::with_capacity(total_choices);
    let mut all_pack = true;
    // Which applicant last listed each school, to find a school listed twice.
    let mut last_listed_by = vec![NONE; schools.len()];
    let mut listed = vec![0u32; schools.len()];
    choice_start.push(0);
    for (a, applicant) in applicants.iter().enumerate() {
        let number = applicant
            .lottery
            .parse::<Lottery>()
            .map_err(|_| InstanceError::BadLottery {
                applicant: applicant.id.to_string(),
                lottery: applicant.lottery.to_string(),
            })?;
        lottery.push(number.value());
        if instance.overflow {
            check_applicant_for_overflow(applicant)?;
        }
        for choice in &applicant.choices {
            let Some(&s) = school_index.get(&*choice.school) else {
                return Err(InstanceError::UnknownSchool {
                    applicant: applicant.id.to_string(),
                    school: choice.school.to_string(),
                });
            };
            if last_listed_by[s as usize] == a as u32 {
                return Err(InstanceError::RepeatedChoice {
                    applicant: applicant.id.to_string(),
                    school: choice.school.to_string(),
                });
            }
            last_listed_by[s as usize] = a as u32;
            listed[s as usize] += 1;
            choice_school.push(s);
            choice_app.push(a as u32);
            let key = choice.key.as_slice();
            choice_key.push(key);
            if all_pack {
                if PackedKey::fits(key) {
                    packed_keys.push(PackedKey::new(key));
                } else {
                    all_pack = false;
                    packed_keys = Vec::new();
                }
            }
        }
        choice_start.push(choice_school.len() as u32);
    }

    // Bucket the choices by school, then sort each bucket into the school's order.
    let mut school_start = Vec::with_capacity(schools.len() + 1);
    let mut running = 0u32;
    school_start.push(0);
    for &count in &listed {
        running += count;
        school_start.push(running);
    }
    let mut cursor: Vec<u32> = school_start[..schools.len()].to_vec();
    let mut choice_rank = vec![0u32; total_choices];
    let mut ranked = vec![0u32; total_choices];
    // Ids are unique, so each school's order is strict and unstable sorts are exact.
    if packed_keys.len() == total_choices {
        // Every key packs: sort plain values laid out bucket by bucket, rather
        // than chase key slices through pointers.
        let mut entries = vec![PackedEntry::default(); total_choices];
        for (g, (&s, &a)) in choice_school.iter().zip(&choice_app).enumerate() {
            let slot = &mut cursor[s as usize];
            entries[*slot as usize] = PackedEntry {
                key: packed_keys[g],
                lottery: lottery[a as usize],
                id_rank: id_rank[a as usize],
                applicant: a,
                choice: g as u32,
            };
            *slot += 1;
        }
        for s in 0..schools.len() {
            let range = school_start[s] as usize..school_start[s + 1] as usize;
            let bucket = &mut entries[range.clone()];
            bucket.sort_unstable();
            for (rank, entry) in bucket.iter().enumerate() {
                choice_rank[entry.choice as usize] = rank as u32;
                ranked[range.start + rank] = entry.applicant;
            }
        }
    } else {
        let mut entries = vec![0u32; total_choices];
        for (g, &s) in choice_school.iter().enumerate() {
            let slot = &mut cursor[s as usize];
            entries[*slot as usize] = g as u32;
            *slot += 1;
        }
        for s in 0..schools.len() {
            let range = school_start[s] as usize..school_start[s + 1] as usize;
            let bucket = &mut entries[range.clone()];
            bucket.sort_unstable_by(|&x, &y| {
                let (ax, ay) = (choice_app[x as usize] as usize, choice_app[y as usize] as usize);
                choice_key[x as usize]
                    .cmp(choice_key[y as usize])
                    .then(lottery[ax].cmp(&lottery[ay]))
                    .then(id_rank[ax].cmp(&id_rank[ay]))
            });
            for (rank, &g) in bucket.iter().enumerate() {
                choice_rank[g as usize] = rank as u32;
                ranked[range.start + rank] = choice_app[g as usize];
            }
        }
    }

    Ok(Prepared {
        lottery,
        by_id,
        id_rank,
        choice_start,
        choice_school,
        choice_rank,
        school_start,
        ranked,
        capacity: schools.iter().map(|s| s.capacity).collect(),
    })
}

/// Applicant indices in ascending id order (byte order). The first eight bytes,
/// zero-padded and read big-endian, order ids consistently with byte order, so
/// most comparisons are one integer comparison.
fn sort_by_id(applicants: &[ApplicantView<'_>]) -> Vec<u32> {
    let head = |id: &str| {
        let mut bytes = [0u8; 8];
        let n = id.len().min(8);
        bytes[..n].copy_from_slice(&id.as_bytes()[..n]);
        u64::from_be_bytes(bytes)
    };
    let mut keyed: Vec<(u64, u32)> = applicants
        .iter()
        .enumerate()
        .map(|(i, a)| (head(&a.id), i as u32))
        .collect();
    keyed.sort_unstable_by(|x, y| {
        x.0.cmp(&y.0)
            .then_with(|| applicants[x.1 as usize].id.cmp(&applicants[y.1 as usize].id))
    });
    keyed.into_iter().map(|(_, i)| i).collect()
}

/// An order key of at most [`PackedKey::LEN`] integers, none `i64::MIN`, as
/// fixed-width unsigned words: a present integer v becomes v with its sign bit
/// flipped (order-preserving, and at least 1 as v > `i64::MIN`), an absent one
/// 0, which keeps formats.md's order: left to right, and a prefix first.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord)]
struct PackedKey([u64; PackedKey::LEN]);

impl PackedKey {
    const LEN: usize = 4;

    fn fits(key: &[i64]) -> bool {
        key.len() <= Self::LEN && !key.contains(&i64::MIN)
    }

    fn new(key: &[i64]) -> Self {
        let mut words = [0u64; Self::LEN];
        for (word, &v) in words.iter_mut().zip(key) {
            // v > i64::MIN, so this is at least 1 and order-preserving.
            *word = (v as u64) ^ (1 << 63);
        }
        PackedKey(words)
    }
}

/// One listing of a school, with everything its order compares, field order
/// being the comparison order (`applicant` and `choice` are never reached:
/// `id_rank` already differs).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord)]
struct PackedEntry {
    key: PackedKey,
    lottery: u64,
    id_rank: u32,
    applicant: u32,
    choice: u32,
}

fn check_school_for_overflow(school: &SchoolView<'_>) -> Result<(), InstanceError> {
    let Some(public) = school.public else {
        return Err(InstanceError::MissingPublic {
            school: school.id.to_string(),
        });
    };
    if let Some(location) = school.location
        && !on_globe(location.lat, location.lon)
    {
        return Err(InstanceError::BadSchoolLocation {
            school: school.id.to_string(),
            lat: location.lat,
            lon: location.lon,
        });
    }
    // Overflow never seats anyone at a private school, so only public ones need a place.
    if public {
        if school.county.is_none() {
            return Err(InstanceError::MissingCounty {
                school: school.id.to_string(),
            });
        }
        if school.location.is_none() {
            return Err(InstanceError::MissingLocation {
                school: school.id.to_string(),
            });
        }
    }
    Ok(())
}

fn check_applicant_for_overflow(applicant: &ApplicantView<'_>) -> Result<(), InstanceError> {
    if applicant.best_tier == Some(0) {
        return Err(InstanceError::BadBestTier {
            applicant: applicant.id.to_string(),
            best_tier: 0,
        });
    }
    if let Some(home) = &applicant.home {
        if home.county.is_none() {
            return Err(InstanceError::HomeWithoutCounty {
                applicant: applicant.id.to_string(),
            });
        }
        match (home.lat, home.lon) {
            (Some(lat), Some(lon)) if !on_globe(lat, lon) => {
                return Err(InstanceError::BadHomeLocation {
                    applicant: applicant.id.to_string(),
                    lat,
                    lon,
                });
            }
            (Some(_), None) | (None, Some(_)) => {
                return Err(InstanceError::HalfHomeLocation {
                    applicant: applicant.id.to_string(),
                });
            }
            _ => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        #[test]
        fn packed_keys_order_as_formats_md_orders_keys(
            x in proptest::collection::vec(-3i64..3, 0..=PackedKey::LEN),
            y in proptest::collection::vec(prop_oneof![-3i64..3, Just(i64::MAX), Just(i64::MIN + 1)], 0..=PackedKey::LEN),
        ) {
            prop_assert_eq!(PackedKey::new(&x).cmp(&PackedKey::new(&y)), x.cmp(&y));
        }
    }

    #[test]
    fn only_short_keys_without_the_minimum_are_packed() {
        assert!(PackedKey::fits(&[]));
        assert!(PackedKey::fits(&[1, 2, 3, 4]));
        assert!(!PackedKey::fits(&[1, 2, 3, 4, 5]));
        assert!(!PackedKey::fits(&[i64::MIN]));
    }

    #[test]
    fn ids_sort_in_byte_order_even_past_the_packed_head() {
        let applicants: Vec<ApplicantView<'_>> =
            ["A", "A\u{0}", "A\u{0}x", "abcdefghZ", "abcdefgh", "abcdefghA", "é", "z"]
                .iter()
                .map(|id| ApplicantView {
                    id: (*id).into(),
                    lottery: "0000000000000000".into(),
                    best_tier: None,
                    home: None,
                    choices: vec![],
                })
                .collect();
        let sorted: Vec<&str> = sort_by_id(&applicants)
            .iter()
            .map(|&i| &*applicants[i as usize].id)
            .collect();
        let mut expected: Vec<&str> = applicants.iter().map(|a| &*a.id).collect();
        expected.sort_unstable();
        assert_eq!(sorted, expected);
    }
}
