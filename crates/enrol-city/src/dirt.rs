//! Dirty records (`--dirty RATE`, registries.md "Dirty records"): records
//! that contradict themselves but stay well-formed, written over a finished
//! city at a rate, across every record kind. The draws come from a stream of
//! their own, so the clean records, and every family without dirt, are the
//! same bytes as in the city without dirt.

use std::collections::BTreeSet;

use chrono::Days;
use enrol_domain::NationalId;
use serde::{Deserialize, Serialize};

use crate::City;
use crate::dice::Dice;
use crate::wire::Usage;

/// What was made dirty in a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DirtKind {
    /// A household record registered the day before the person was born.
    RegisteredBeforeBirth,
    /// A certificate without a father names the mother as father too.
    MotherAlsoFather,
    /// A certificate with a father names the child as its own father.
    ChildOwnFather,
    /// A unit lists its first owner twice, alike (its shares then add up past 100).
    OwnerListedTwice,
    /// A commercial or industrial unit registered in 2031, in the future.
    RegisteredInFuture,
    /// A residence permit valid until the day before it was issued.
    PermitEndsBeforeIssue,
    /// Insurance months out of order, the last one listed twice.
    MonthsDisorderedAndRepeated,
    /// A building lists its first zoned school twice.
    SchoolZonedTwice,
    /// A unit's seat-use history lists its first use twice.
    SeatUseListedTwice,
}

impl DirtKind {
    /// Whether a clause of the sample policy can read the dirt. Those that
    /// cannot leave every decision byte-identical to the clean city; those
    /// that can change the decisions of the families they touch, which must
    /// still be decided (`docs/city-generator.md`, "Dirty records").
    pub fn matters(self) -> bool {
        match self {
            // The child's own registration date is the hukou cutoff clause and an order key.
            DirtKind::RegisteredBeforeBirth => true,
            // A father named as the child is no father: a guardian father is not a parent.
            DirtKind::ChildOwnFather => true,
            // An inverted permit is valid on no day: it simply does not qualify.
            DirtKind::PermitEndsBeforeIssue => true,
            DirtKind::MotherAlsoFather
            | DirtKind::OwnerListedTwice
            | DirtKind::RegisteredInFuture
            | DirtKind::MonthsDisorderedAndRepeated
            | DirtKind::SchoolZonedTwice
            | DirtKind::SeatUseListedTwice => false,
        }
    }
}

/// One dirty record: its kind, its key in its file, and the persons whose
/// applications it can touch (empty for a building, which any family may read).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct DirtyRecord {
    pub kind: DirtKind,
    /// `persons.jsonl` id, `births.jsonl` child id, unit number, permit holder,
    /// insurance id, building key, or the unit of a seat-use history.
    pub record: String,
    pub persons: Vec<NationalId>,
}

/// A stream apart from the generator's own, so that dirt never shifts a clean draw.
const DIRT_STREAM: u64 = 0xD1_27_D1_27;

/// Makes `rate` of each kind of record dirty, in place; returns what it did,
/// sorted. Only children of applications get a registration before birth
/// that can matter; every other person gets one no clause reads.
pub(crate) fn make_dirty(city: &mut City, seed: u64, rate: f64) -> Vec<DirtyRecord> {
    let mut dice = Dice::new(seed ^ DIRT_STREAM);
    let mut dirt = Vec::new();
    let children: BTreeSet<&NationalId> = city
        .applications
        .iter()
        .chain(&city.junior_applications)
        .map(|a| &a.child_id)
        .collect();

    for p in &mut city.persons {
        if dice.chance(rate)
            && let Some(day_before) = p.birth_date.checked_sub_days(Days::new(1))
        {
            p.registered_on = day_before;
            let persons = if children.contains(&p.id) {
                vec![p.id.clone()]
            } else {
                Vec::new()
            };
            dirt.push(DirtyRecord {
                kind: DirtKind::RegisteredBeforeBirth,
                record: p.id.to_string(),
                persons,
            });
        }
    }
    for b in &mut city.births {
        if !dice.chance(rate) {
            continue;
        }
        let kind = match b.father_id {
            None => {
                b.father_id = Some(b.mother_id.clone());
                DirtKind::MotherAlsoFather
            }
            Some(_) => {
                b.father_id = Some(b.child_id.clone());
                DirtKind::ChildOwnFather
            }
        };
        dirt.push(DirtyRecord {
            kind,
            record: b.child_id.to_string(),
            persons: vec![b.child_id.clone()],
        });
    }
    for u in &mut city.properties {
        if !dice.chance(rate) {
            continue;
        }
        let kind = if u.usage == Usage::Residential {
            let Some(first) = u.owners.first().cloned() else {
                continue;
            };
            u.owners.push(first);
            DirtKind::OwnerListedTwice
        } else {
            u.registered_on = chrono::NaiveDate::from_ymd_opt(2031, 1, 1).expect("a valid date");
            DirtKind::RegisteredInFuture
        };
        dirt.push(DirtyRecord {
            kind,
            record: u.unit_no.clone(),
            persons: u.owners.iter().map(|o| o.id.clone()).collect(),
        });
    }
    for p in &mut city.permits {
        if dice.chance(rate)
            && let Some(day_before) = p.issued_on.checked_sub_days(Days::new(1))
        {
            p.valid_until = day_before;
            dirt.push(DirtyRecord {
                kind: DirtKind::PermitEndsBeforeIssue,
                record: p.holder_id.to_string(),
                persons: vec![p.holder_id.clone()],
            });
        }
    }
    for i in &mut city.social_insurance {
        if dice.chance(rate) && i.months.len() >= 2 {
            let last = i.months.last().cloned().expect("two months at least");
            i.months.rotate_left(1);
            i.months.push(last);
            dirt.push(DirtyRecord {
                kind: DirtKind::MonthsDisorderedAndRepeated,
                record: i.id.to_string(),
                persons: vec![i.id.clone()],
            });
        }
    }
    for b in &mut city.buildings {
        if dice.chance(rate)
            && let Some(first) = b.schools.first().cloned()
        {
            b.schools.push(first);
            dirt.push(DirtyRecord {
                kind: DirtKind::SchoolZonedTwice,
                record: b.building_key.to_string(),
                persons: Vec::new(),
            });
        }
    }
    for u in &mut city.unit_uses {
        if dice.chance(rate)
            && let Some(first) = u.uses.first().cloned()
        {
            u.uses.push(first);
            let persons = u.uses.iter().map(|s| s.child_id.clone()).collect();
            dirt.push(DirtyRecord {
                kind: DirtKind::SeatUseListedTwice,
                record: u.unit_no.clone(),
                persons,
            });
        }
    }
    dirt.sort();
    dirt
}
