//! Cutoffs as a family sees them: under deferred acceptance, every school a
//! family ranked above its seat is full, and the family's own key and lottery
//! number order after that school's cutoff (stability, seen by the family).
//! Checked on generated city-shaped instances of 20,000 families, and on
//! small random ones; and the cutoff is exactly the last admitted by choice.

use std::collections::{BTreeMap, BTreeSet};

use enrol_allocation::{
    Allocation, Applicant, Choice, Home, Instance, Location, Mechanism, School, Standing, above_seat, above_seats,
    allocate, cutoffs,
};
use proptest::prelude::*;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// splitmix64: a bijection, so every applicant's lottery number is distinct.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A city of `families` families shaped like the sample city's rounds: six
/// counties of public schools zoned by neighbourhood (single- and
/// multi-school zones), a few city-wide private schools, seats for about nine
/// children in ten, the policy's keys `[tier, sibling, value]` (dates with
/// many ties, or minus points) and `[0, sibling]` at private schools.
fn city(families: usize, seed: u64) -> Instance {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let counties = 6usize;
    let publics_per_county = 10usize;
    let privates = 6usize;
    let public_seats = families * 85 / 100;
    let private_seats = families * 5 / 100;
    let mut schools = Vec::new();
    for c in 0..counties {
        for p in 0..publics_per_county {
            // Uneven capacities: some schools are in demand, some are not.
            let share = 1 + rng.random_range(0..4u32);
            schools.push((format!("S{c}{p:02}"), share, true, c));
        }
    }
    let total_share: u32 = schools.iter().map(|s| s.1).sum();
    let mut out_schools: Vec<School> = schools
        .iter()
        .map(|(id, share, _, c)| School {
            id: id.clone(),
            capacity: (public_seats as u64 * u64::from(*share) / u64::from(total_share)) as u32,
            public: Some(true),
            county: Some(format!("37081{c}")),
            location: Some(Location {
                lat: 35.0 + *c as f64 * 0.1 + rng.random_range(0.0..0.05),
                lon: 116.0 + rng.random_range(0.0..0.05),
            }),
        })
        .collect();
    for p in 0..privates {
        out_schools.push(School {
            id: format!("P{p:02}"),
            capacity: (private_seats / privates) as u32,
            public: Some(false),
            county: None,
            location: None,
        });
    }

    let mut applicants = Vec::with_capacity(families);
    for i in 0..families {
        let county = rng.random_range(0..counties);
        // A neighbourhood of one to three zoned schools (多校划片).
        let first = rng.random_range(0..publics_per_county);
        let zoned: Vec<usize> = (0..rng.random_range(1..=3usize))
            .map(|k| county * publics_per_county + (first + k) % publics_per_county)
            .collect();
        let tier: i64 = match rng.random_range(0..100) {
            0..=34 => 1,
            35..=54 => 2,
            55..=79 => 3,
            _ => 4,
        };
        let value = |rng: &mut ChaCha8Rng| -> i64 {
            if tier == 4 {
                -(rng.random_range(24..110i64))
            } else {
                // Registration dates from 2015 to 2026: many children share a day.
                let y = rng.random_range(2015..=2026i64);
                let m = rng.random_range(1..=12i64);
                let d = rng.random_range(1..=28i64);
                y * 10_000 + m * 100 + d
            }
        };
        let mut choices = Vec::new();
        if rng.random_range(0..100) < 12 {
            choices.push(Choice {
                school: format!("P{:02}", rng.random_range(0..privates)),
                key: vec![0, i64::from(rng.random_range(0..100) >= 3)],
            });
        }
        for s in &zoned {
            // A worse tier at the other schools of a multi-school zone, now and then.
            let t = if rng.random_range(0..100) < 20 {
                (tier + 1).min(4)
            } else {
                tier
            };
            choices.push(Choice {
                school: schools[*s].0.clone(),
                key: vec![t, i64::from(rng.random_range(0..100) >= 4), value(&mut rng)],
            });
        }
        applicants.push(Applicant {
            id: format!("{:08x}-{i:06}", mix(i as u64 ^ seed) as u32),
            lottery: format!("{:016x}", mix(i as u64 + (seed << 32))),
            best_tier: Some(tier as u32),
            home: Some(Home {
                county: Some(format!("37081{county}")),
                lat: Some(35.0 + county as f64 * 0.1),
                lon: Some(116.02),
            }),
            choices,
        });
    }
    Instance {
        mechanism: Mechanism::DeferredAcceptance,
        overflow: true,
        schools: out_schools,
        applicants,
    }
}

/// Every family's own standing orders after the cutoff of every school it
/// ranked above its seat; returns how many such pairs were checked.
fn check_family_view(instance: &Instance, allocation: &Allocation) -> usize {
    let cut = cutoffs(instance, allocation);
    let overflow: BTreeSet<&String> = allocation.overflow.iter().collect();
    let all = above_seats(instance, allocation, &cut);
    // The batch and the one-applicant form agree.
    for (id, above) in all.iter().take(50) {
        assert_eq!(above_seat(instance, allocation, &cut, id).as_ref(), Some(above));
    }
    let mut checked = 0;
    for (a, (id, above)) in instance.applicants.iter().zip(&all) {
        assert_eq!(&a.id, id);
        let seat = allocation.assignments[&a.id].as_deref();
        let by_overflow = overflow.contains(&a.id);
        let rank_of_seat = a
            .choices
            .iter()
            .position(|c| Some(c.school.as_str()) == seat && !by_overflow)
            .unwrap_or(a.choices.len());
        assert_eq!(
            above.len(),
            rank_of_seat,
            "{}: every school ranked above the seat is listed",
            a.id
        );
        for x in above {
            assert!(
                x.cutoff.full,
                "{} ranked {} above its seat, and {} is not full",
                a.id, x.school, x.school
            );
            if let Some(last) = &x.cutoff.last {
                assert!(
                    &x.own > last,
                    "{} at {}: own {:?} does not order after the cutoff {:?}",
                    a.id,
                    x.school,
                    x.own,
                    last
                );
            } else {
                assert_eq!(x.cutoff.capacity, 0, "a full school with admissions has a last child");
            }
            checked += 1;
        }
    }
    checked
}

/// The cutoff is the last child admitted by choice, by the school's order.
fn check_cutoffs_are_the_last_admitted(instance: &Instance, allocation: &Allocation) {
    let overflow: BTreeSet<&String> = allocation.overflow.iter().collect();
    let mut admitted: BTreeMap<&str, Vec<(Standing, &str)>> = BTreeMap::new();
    for a in &instance.applicants {
        if let Some(Some(s)) = allocation.assignments.get(&a.id)
            && !overflow.contains(&a.id)
        {
            let choice = a
                .choices
                .iter()
                .find(|c| &c.school == s)
                .expect("a choice seat is a listed school");
            admitted.entry(s).or_default().push((
                Standing {
                    key: choice.key.clone(),
                    lottery: a.lottery.clone(),
                },
                &a.id,
            ));
        }
    }
    for c in cutoffs(instance, allocation) {
        let list = admitted.remove(c.school.as_str()).unwrap_or_default();
        assert_eq!(c.admitted_by_choice as usize, list.len(), "{}", c.school);
        assert!(c.admitted_by_choice <= c.capacity);
        assert_eq!(c.full, list.len() as u32 >= c.capacity, "{}", c.school);
        let last = list.into_iter().max().map(|(s, _)| s);
        assert_eq!(c.last, last.filter(|_| c.full), "{}", c.school);
    }
}

#[test]
fn every_family_orders_after_the_cutoff_of_each_school_above_its_seat_20000_families() {
    for seed in [2027u64, 7] {
        let instance = city(20_000, seed);
        let allocation = allocate(&instance).unwrap_or_else(|e| panic!("{e}"));
        check_cutoffs_are_the_last_admitted(&instance, &allocation);
        let checked = check_family_view(&instance, &allocation);
        let cut = cutoffs(&instance, &allocation);
        let full = cut.iter().filter(|c| c.full && c.last.is_some()).count();
        let not_full = cut.iter().filter(|c| !c.full).count();
        // The city is shaped so that the property is tested hard: many families
        // missed a school above their seat, many schools are full, some are not.
        assert!(checked > 2_000, "only {checked} (family, school above seat) pairs");
        assert!(full > 20 && not_full > 3, "{full} full, {not_full} not full");
    }
}

fn arb_small() -> impl Strategy<Value = Instance> {
    (any::<u64>(), 5usize..200).prop_map(|(seed, n)| {
        let mut instance = city(n, seed);
        // Small cities: tighter seats, some schools without any.
        for (i, s) in instance.schools.iter_mut().enumerate() {
            s.capacity = if i % 7 == 3 { 0 } else { s.capacity / 2 + (i as u32 % 3) };
        }
        instance
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn cutoffs_hold_on_small_cities(instance in arb_small(), overflow in any::<bool>()) {
        let instance = Instance { overflow, ..instance };
        let allocation = allocate(&instance).unwrap_or_else(|e| panic!("{e}"));
        check_cutoffs_are_the_last_admitted(&instance, &allocation);
        check_family_view(&instance, &allocation);
    }
}
