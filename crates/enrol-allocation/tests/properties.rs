//! Invariants of the mechanisms on random small instances, checked against
//! the definitions (stability, brute-force student optimality) and against
//! straightforward reference implementations written from formats.md and
//! policy.md without any of the crate's index machinery.

use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet};

use enrol_allocation::{
    Allocation, Applicant, Choice, Home, Instance, Location, Lottery, Mechanism, School, allocate, allocate_json,
};
use enrol_domain::GeoPoint;
use proptest::collection::vec;
use proptest::option;
use proptest::prelude::*;

/// Ids chosen so that byte order differs from numeric and case-blind order.
const NAMES: [&str; 14] = [
    "A", "B", "a", "A1", "A10", "A2", "A9", "b", "Ab", "A0", "B1", "z", "_", "0",
];

fn name(i: usize) -> String {
    NAMES.get(i).map_or_else(|| format!("x{i}"), |n| (*n).to_owned())
}

#[derive(Debug, Clone)]
struct ApplicantSpec {
    order: Vec<usize>,
    len: usize,
    keys: Vec<Vec<i64>>,
    lottery: u64,
    best_tier: Option<u32>,
    home: Option<(usize, Option<(i32, i32)>)>,
}

/// Mostly short keys of small integers (ties!), sometimes long ones or the
/// extremes of i64, which take the engine's general comparison path.
fn arb_key() -> impl Strategy<Value = Vec<i64>> {
    let element = prop_oneof![8 => 0..3i64, 1 => Just(i64::MIN), 1 => Just(i64::MAX)];
    prop_oneof![4 => vec(0..3i64, 0..=2), 1 => vec(element, 0..=6)]
}

fn arb_applicant(schools: usize) -> impl Strategy<Value = ApplicantSpec> {
    (
        Just((0..schools).collect::<Vec<_>>())
            .prop_shuffle()
            .prop_flat_map(move |order| (Just(order), 0..=schools)),
        vec(arb_key(), schools),
        // Few lottery values, so that ties reach the id.
        0..4u64,
        option::of(1..=3u32),
        option::of((0..3usize, option::of((0..4i32, 0..4i32)))),
    )
        .prop_map(|((order, len), keys, lottery, best_tier, home)| ApplicantSpec {
            order,
            len,
            keys,
            lottery,
            best_tier,
            home,
        })
}

/// Up to `max_schools` schools of 0..=3 seats and up to `max_applicants`
/// applicants listing distinct schools in random order. With overflow, schools
/// and homes sit on a coarse grid in counties C0..C1 (homes also C2, which has
/// no school), so distance ties happen.
fn arb_instance(
    mechanism: Mechanism,
    overflow: bool,
    max_schools: usize,
    max_applicants: usize,
) -> impl Strategy<Value = Instance> {
    (1..=max_schools, 0..=max_applicants).prop_flat_map(move |(schools, applicants)| {
        (
            Just((0..schools).collect::<Vec<_>>()).prop_shuffle(),
            vec((0u32..=3, any::<bool>(), 0..2usize, 0..4i32, 0..4i32), schools),
            Just((0..applicants).collect::<Vec<_>>()).prop_shuffle(),
            vec(arb_applicant(schools), applicants),
        )
            .prop_map(move |(school_names, school_specs, applicant_names, applicant_specs)| {
                let schools: Vec<School> = school_specs
                    .iter()
                    .zip(&school_names)
                    .map(|(&(capacity, public, county, lat, lon), &n)| School {
                        id: format!("S{}", name(n)),
                        capacity,
                        public: overflow.then_some(public),
                        county: overflow.then(|| format!("C{county}")),
                        location: overflow.then_some(Location {
                            lat: f64::from(lat) * 0.1,
                            lon: f64::from(lon) * 0.1,
                        }),
                    })
                    .collect();
                let applicants = applicant_specs
                    .into_iter()
                    .zip(&applicant_names)
                    .map(|(spec, &n)| Applicant {
                        id: name(n),
                        lottery: Lottery::new(spec.lottery).to_string(),
                        best_tier: if overflow { spec.best_tier } else { None },
                        home: spec.home.filter(|_| overflow).map(|(county, at)| Home {
                            county: Some(format!("C{county}")),
                            lat: at.map(|(lat, _)| f64::from(lat) * 0.1),
                            lon: at.map(|(_, lon)| f64::from(lon) * 0.1),
                        }),
                        choices: spec.order[..spec.len]
                            .iter()
                            .map(|&s| Choice {
                                school: schools[s].id.clone(),
                                key: spec.keys[s].clone(),
                            })
                            .collect(),
                    })
                    .collect();
                Instance {
                    mechanism,
                    overflow,
                    schools,
                    applicants,
                }
            })
    })
}

// ---- The definitions, straight from formats.md ----

fn choice_at<'a>(applicant: &'a Applicant, school: &str) -> Option<(usize, &'a Choice)> {
    applicant.choices.iter().enumerate().find(|(_, c)| c.school == school)
}

/// School `school`'s order between two applicants who both list it.
fn school_order(school: &str, x: &Applicant, y: &Applicant) -> Ordering {
    let key = |a: &Applicant| choice_at(a, school).map(|(_, c)| c.key.clone()).unwrap_or_default();
    let lottery = |a: &Applicant| a.lottery.parse::<Lottery>().expect("valid lottery");
    key(x)
        .cmp(&key(y))
        .then(lottery(x).cmp(&lottery(y)))
        .then(x.id.cmp(&y.id))
}

/// How an applicant ranks its seat: its place in its list, None last.
fn place(applicant: &Applicant, seat: Option<&str>) -> usize {
    seat.and_then(|s| choice_at(applicant, s))
        .map_or(usize::MAX, |(i, _)| i)
}

type Matching<'a> = BTreeMap<&'a str, Option<&'a str>>;

fn matching_of(allocation: &Allocation) -> Matching<'_> {
    allocation
        .assignments
        .iter()
        .map(|(a, s)| (a.as_str(), s.as_deref()))
        .collect()
}

fn respects_capacities(instance: &Instance, matching: &Matching<'_>) -> bool {
    instance
        .schools
        .iter()
        .all(|school| matching.values().filter(|s| **s == Some(school.id.as_str())).count() <= school.capacity as usize)
}

fn individually_rational(instance: &Instance, matching: &Matching<'_>) -> bool {
    instance
        .applicants
        .iter()
        .all(|a| matching[a.id.as_str()].is_none_or(|s| choice_at(a, s).is_some()))
}

/// A pair (applicant, school) where the applicant prefers the school to its
/// seat and the school has a free seat or holds someone it orders after them.
fn blocking_pair<'a>(instance: &'a Instance, matching: &Matching<'_>) -> Option<(&'a str, &'a str)> {
    for a in &instance.applicants {
        let mine = place(a, matching[a.id.as_str()]);
        for choice in a.choices.iter().take(mine) {
            let school = instance
                .schools
                .iter()
                .find(|s| s.id == choice.school)
                .expect("listed school exists");
            let holders: Vec<&Applicant> = instance
                .applicants
                .iter()
                .filter(|b| matching[b.id.as_str()] == Some(school.id.as_str()))
                .collect();
            let free_seat = holders.len() < school.capacity as usize;
            let displaces = holders.iter().any(|b| school_order(&school.id, a, b) == Ordering::Less);
            if free_seat || displaces {
                return Some((a.id.as_str(), school.id.as_str()));
            }
        }
    }
    None
}

fn is_stable(instance: &Instance, matching: &Matching<'_>) -> bool {
    respects_capacities(instance, matching)
        && individually_rational(instance, matching)
        && blocking_pair(instance, matching).is_none()
}

/// Every stable matching, by enumerating all matchings (tiny instances only).
fn all_stable_matchings(instance: &Instance) -> Vec<Matching<'_>> {
    let mut found = Vec::new();
    let mut current: Matching<'_> = instance.applicants.iter().map(|a| (a.id.as_str(), None)).collect();
    fn walk<'a>(instance: &'a Instance, i: usize, current: &mut Matching<'a>, found: &mut Vec<Matching<'a>>) {
        if i == instance.applicants.len() {
            if is_stable(instance, current) {
                found.push(current.clone());
            }
            return;
        }
        let a = &instance.applicants[i];
        let options = std::iter::once(None).chain(a.choices.iter().map(|c| Some(c.school.as_str())));
        for option in options {
            current.insert(a.id.as_str(), option);
            walk(instance, i + 1, current, found);
        }
    }
    walk(instance, 0, &mut current, &mut found);
    found
}

/// Immediate acceptance exactly as formats.md words it.
fn reference_immediate_acceptance(instance: &Instance) -> Matching<'_> {
    let mut seat: Matching<'_> = instance.applicants.iter().map(|a| (a.id.as_str(), None)).collect();
    let mut remaining: BTreeMap<&str, usize> = instance
        .schools
        .iter()
        .map(|s| (s.id.as_str(), s.capacity as usize))
        .collect();
    let rounds = instance.applicants.iter().map(|a| a.choices.len()).max().unwrap_or(0);
    for k in 0..rounds {
        for school in &instance.schools {
            let mut applying: Vec<&Applicant> = instance
                .applicants
                .iter()
                .filter(|a| seat[a.id.as_str()].is_none() && a.choices.get(k).is_some_and(|c| c.school == school.id))
                .collect();
            applying.sort_by(|x, y| school_order(&school.id, x, y));
            let free = remaining.get_mut(school.id.as_str()).expect("school");
            for a in applying.into_iter().take(*free) {
                seat.insert(a.id.as_str(), Some(school.id.as_str()));
                *free -= 1;
            }
        }
    }
    seat
}

/// Overflow exactly as policy.md (and docs/allocation.md's reading) words it,
/// applied to the mechanism's result.
fn reference_overflow<'a>(instance: &'a Instance, mechanism: &Matching<'a>) -> (Matching<'a>, Vec<&'a str>) {
    let mut seat = mechanism.clone();
    let free = |seat: &Matching<'a>, school: &School| {
        school.capacity as usize - seat.values().filter(|s| **s == Some(school.id.as_str())).count()
    };
    let mut waiting: Vec<&Applicant> = instance
        .applicants
        .iter()
        .filter(|a| seat[a.id.as_str()].is_none())
        .collect();
    waiting.sort_by_key(|a| {
        (
            a.best_tier.unwrap_or(u32::MAX),
            a.lottery.parse::<Lottery>().expect("lottery"),
            &a.id,
        )
    });
    let mut placed = Vec::new();
    for a in waiting {
        let open: Vec<&School> = instance
            .schools
            .iter()
            .filter(|s| s.public == Some(true) && free(&seat, s) > 0)
            .collect();
        if open.is_empty() {
            break;
        }
        let home = a.home.as_ref();
        let in_county: Vec<&School> = open
            .iter()
            .copied()
            .filter(|s| home.is_some_and(|h| h.county == s.county))
            .collect();
        let candidates = if in_county.is_empty() { open } else { in_county };
        let chosen = match home.and_then(|h| h.lat.zip(h.lon)) {
            Some((lat, lon)) => {
                let home = GeoPoint { lat, lon };
                let distance = |s: &School| {
                    let at = s.location.expect("public school location");
                    home.distance_km(&GeoPoint {
                        lat: at.lat,
                        lon: at.lon,
                    })
                };
                candidates
                    .into_iter()
                    .min_by(|x, y| distance(x).total_cmp(&distance(y)).then(x.id.cmp(&y.id)))
            }
            None => candidates
                .into_iter()
                .min_by(|x, y| free(&seat, y).cmp(&free(&seat, x)).then(x.id.cmp(&y.id))),
        }
        .expect("a candidate");
        seat.insert(a.id.as_str(), Some(chosen.id.as_str()));
        placed.push(a.id.as_str());
    }
    placed.sort_unstable();
    (seat, placed)
}

fn with(instance: &Instance, mechanism: Mechanism, overflow: bool) -> Instance {
    Instance {
        mechanism,
        overflow,
        ..instance.clone()
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn deferred_acceptance_is_stable_within_capacity(
        instance in arb_instance(Mechanism::DeferredAcceptance, false, 6, 25),
    ) {
        let result = allocate(&instance).unwrap();
        let matching = matching_of(&result);
        prop_assert_eq!(matching.len(), instance.applicants.len());
        prop_assert!(respects_capacities(&instance, &matching));
        prop_assert!(individually_rational(&instance, &matching));
        prop_assert_eq!(blocking_pair(&instance, &matching), None);
        prop_assert!(result.overflow.is_empty());
    }

    #[test]
    fn deferred_acceptance_is_the_student_optimal_stable_matching(
        instance in arb_instance(Mechanism::DeferredAcceptance, false, 3, 5),
    ) {
        let result = allocate(&instance).unwrap();
        let da = matching_of(&result);
        let stable = all_stable_matchings(&instance);
        prop_assert!(stable.contains(&da), "DA result is not among the stable matchings");
        for other in &stable {
            for a in &instance.applicants {
                prop_assert!(
                    place(a, da[a.id.as_str()]) <= place(a, other[a.id.as_str()]),
                    "applicant {} does better in another stable matching {:?}", a.id, other
                );
            }
        }
    }

    #[test]
    fn immediate_acceptance_matches_the_reference(
        instance in arb_instance(Mechanism::ImmediateAcceptance, false, 5, 20),
    ) {
        let result = allocate(&instance).unwrap();
        prop_assert_eq!(matching_of(&result), reference_immediate_acceptance(&instance));
    }

    #[test]
    fn neither_the_order_of_applicants_nor_of_schools_matters(
        (instance, applicants, schools) in arb_instance(Mechanism::DeferredAcceptance, true, 6, 25)
            .prop_flat_map(|instance| {
                let applicants = Just(instance.applicants.clone()).prop_shuffle();
                let schools = Just(instance.schools.clone()).prop_shuffle();
                (Just(instance), applicants, schools)
            }),
    ) {
        let shuffled = Instance { applicants, schools, ..instance.clone() };
        for mechanism in [Mechanism::DeferredAcceptance, Mechanism::ImmediateAcceptance] {
            for overflow in [false, true] {
                prop_assert_eq!(
                    allocate(&with(&instance, mechanism, overflow)).unwrap(),
                    allocate(&with(&shuffled, mechanism, overflow)).unwrap()
                );
            }
        }
    }

    #[test]
    fn overflow_follows_the_policy_and_keeps_the_mechanism_seats(
        instance in arb_instance(Mechanism::DeferredAcceptance, true, 6, 25),
        immediate in any::<bool>(),
    ) {
        let mechanism = if immediate { Mechanism::ImmediateAcceptance } else { Mechanism::DeferredAcceptance };
        let instance = with(&instance, mechanism, true);
        let before_result = allocate(&with(&instance, mechanism, false)).unwrap();
        let before = matching_of(&before_result);
        let result = allocate(&instance).unwrap();
        let after = matching_of(&result);

        // The mechanism's seats stay; overflow lists exactly the newly seated.
        let newly: Vec<&str> = after
            .iter()
            .filter(|(a, s)| s.is_some() && before[*a].is_none())
            .map(|(a, _)| *a)
            .collect();
        prop_assert!(before.iter().all(|(a, s)| s.is_none() || after[a] == *s));
        prop_assert_eq!(result.overflow.iter().map(String::as_str).collect::<Vec<_>>(), newly.clone());
        prop_assert!(respects_capacities(&instance, &after));

        // Overflow seats are public, and nobody is left out while a public seat is free.
        let public: BTreeSet<&str> =
            instance.schools.iter().filter(|s| s.public == Some(true)).map(|s| s.id.as_str()).collect();
        prop_assert!(newly.iter().all(|a| after[a].is_some_and(|s| public.contains(s))));
        let left_out = after.values().any(Option::is_none);
        let public_free = instance.schools.iter().filter(|s| s.public == Some(true)).any(|s| {
            after.values().filter(|x| **x == Some(s.id.as_str())).count() < s.capacity as usize
        });
        prop_assert!(!(left_out && public_free), "a public seat is free and someone is left out");

        // County first, nearest (or roomiest), ties to the lower id, in tier-lottery-id order.
        let (reference, placed) = reference_overflow(&instance, &before);
        prop_assert_eq!(after, reference);
        prop_assert_eq!(newly, placed);
    }

    #[test]
    fn the_json_path_writes_exactly_the_owned_result(
        instance in arb_instance(Mechanism::DeferredAcceptance, true, 5, 15),
        immediate in any::<bool>(),
        overflow in any::<bool>(),
    ) {
        let mechanism = if immediate { Mechanism::ImmediateAcceptance } else { Mechanism::DeferredAcceptance };
        let instance = with(&instance, mechanism, overflow);
        let text = serde_json::to_string(&instance).unwrap();
        let owned = allocate(&instance).unwrap();
        let written = allocate_json(&text).unwrap();
        prop_assert_eq!(&written, &owned.to_json().unwrap());
        prop_assert_eq!(serde_json::from_str::<Allocation>(&written).unwrap(), owned);
    }
}
