//! Cutoffs (录取线): for each school, the order key and lottery number of the
//! last child the mechanism admitted, or "not full". Published so that a
//! family can see, for every school it ranked above its seat, its own key
//! beside that school's cutoff: under deferred acceptance (stable), every such
//! school is full and the family orders after its cutoff.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::instance::{Allocation, Applicant, Instance};

/// Where an applicant stands at a school: its order key there and its lottery
/// number. Ordered as the school orders applicants (key, then lottery).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Standing {
    pub key: Vec<i64>,
    /// 16 lower-case hex digits, so string order is numeric order.
    pub lottery: String,
}

/// One school's cutoff after the mechanism (overflow seats do not count).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cutoff {
    pub school: String,
    pub capacity: u32,
    /// Seats filled by the mechanism, at the children's own choice.
    pub admitted_by_choice: u32,
    /// Whether the mechanism filled every seat (a school without seats is full).
    pub full: bool,
    /// The last child admitted by choice, when the school is full and admitted anyone.
    pub last: Option<Standing>,
}

/// An admitted applicant as a school orders them: key, lottery, id.
type Ranked<'a> = (&'a [i64], &'a str, &'a str);

/// Every school's cutoff, in the instance's school order. Applicants placed
/// by overflow do not count: they did not list the school.
pub fn cutoffs(instance: &Instance, allocation: &Allocation) -> Vec<Cutoff> {
    let by_overflow: std::collections::BTreeSet<&str> = allocation.overflow.iter().map(String::as_str).collect();
    // How many each school admitted by choice, and the last of them.
    let mut last: BTreeMap<&str, (u32, Option<Ranked<'_>>)> = BTreeMap::new();
    for a in &instance.applicants {
        let Some(Some(school)) = allocation.assignments.get(&a.id) else {
            continue;
        };
        if by_overflow.contains(a.id.as_str()) {
            continue;
        }
        let Some(choice) = a.choices.iter().find(|c| &c.school == school) else {
            continue;
        };
        let here = (choice.key.as_slice(), a.lottery.as_str(), a.id.as_str());
        let entry = last.entry(school.as_str()).or_insert((0, None));
        entry.0 += 1;
        if entry.1.is_none_or(|l| here > l) {
            entry.1 = Some(here);
        }
    }
    instance
        .schools
        .iter()
        .map(|s| {
            let (admitted, worst) = last.get(s.id.as_str()).copied().unwrap_or((0, None));
            let full = admitted >= s.capacity;
            Cutoff {
                school: s.id.clone(),
                capacity: s.capacity,
                admitted_by_choice: admitted,
                full,
                last: worst.filter(|_| full).map(|(key, lottery, _)| Standing {
                    key: key.to_vec(),
                    lottery: lottery.to_owned(),
                }),
            }
        })
        .collect()
}

/// One school an applicant ranked above its seat: its own standing there
/// beside the school's cutoff.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AboveSeat {
    pub school: String,
    /// 1-based rank of the school among the applicant's choices.
    pub rank: u32,
    pub own: Standing,
    pub cutoff: Cutoff,
}

/// For one applicant: every school ranked above its seat (all its choices
/// when it holds no seat by choice), with its own standing and the cutoff.
/// `None` for an applicant not in the instance.
pub fn above_seat(
    instance: &Instance,
    allocation: &Allocation,
    cutoffs: &[Cutoff],
    applicant: &str,
) -> Option<Vec<AboveSeat>> {
    let a = instance.applicants.iter().find(|a| a.id == applicant)?;
    let by_overflow = allocation.overflow.iter().any(|o| o == applicant);
    let cutoffs: BTreeMap<&str, &Cutoff> = cutoffs.iter().map(|c| (c.school.as_str(), c)).collect();
    Some(above(a, allocation, &cutoffs, by_overflow))
}

/// [`above_seat`] for every applicant of the instance, in instance order.
pub fn above_seats<'i>(
    instance: &'i Instance,
    allocation: &Allocation,
    cutoffs: &[Cutoff],
) -> Vec<(&'i str, Vec<AboveSeat>)> {
    let overflow: std::collections::BTreeSet<&str> = allocation.overflow.iter().map(String::as_str).collect();
    let cutoffs: BTreeMap<&str, &Cutoff> = cutoffs.iter().map(|c| (c.school.as_str(), c)).collect();
    instance
        .applicants
        .iter()
        .map(|a| {
            let by_overflow = overflow.contains(a.id.as_str());
            (a.id.as_str(), above(a, allocation, &cutoffs, by_overflow))
        })
        .collect()
}

fn above(
    a: &Applicant,
    allocation: &Allocation,
    cutoffs: &BTreeMap<&str, &Cutoff>,
    by_overflow: bool,
) -> Vec<AboveSeat> {
    let seat = allocation.assignments.get(&a.id).cloned().flatten();
    let by_choice = seat.filter(|_| !by_overflow);
    let mut out = Vec::new();
    for (i, choice) in a.choices.iter().enumerate() {
        if by_choice.as_deref() == Some(choice.school.as_str()) {
            break;
        }
        let Some(cutoff) = cutoffs.get(choice.school.as_str()) else {
            continue;
        };
        out.push(AboveSeat {
            school: choice.school.clone(),
            rank: u32::try_from(i + 1).unwrap_or(u32::MAX),
            own: Standing {
                key: choice.key.clone(),
                lottery: a.lottery.clone(),
            },
            cutoff: (*cutoff).clone(),
        });
    }
    out
}
