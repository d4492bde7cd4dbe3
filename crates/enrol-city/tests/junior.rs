//! The junior cohort (小升初): drawn from its own stream, it leaves every
//! first-grade record as it was; its families' records show what each was
//! drawn to be; the documented rates hold (docs/city-generator.md, "Junior
//! cohort").

use std::collections::{BTreeMap, BTreeSet};

use enrol_city::wire::{self, SchoolKind, Stage};
use enrol_city::{
    City, CityConfig, JUNIOR_ROUND, JUNIOR_SEAT_LOCK_FIRST_YEAR, JuniorRates, JuniorResidence, JuniorTrigger,
    SeatUseCase,
};
use enrol_domain::NationalId;

fn lines<T: serde::Serialize>(records: &[T]) -> BTreeSet<String> {
    records
        .iter()
        .map(|r| serde_json::to_string(r).unwrap_or_default())
        .collect()
}

#[test]
fn the_junior_cohort_changes_no_first_grade_record() {
    let mut without = CityConfig::new(600, 2027);
    without.junior_families = 0;
    let with = CityConfig::new(600, 2027);
    assert_eq!(with.junior_families, 300);
    let (a, b) = (enrol_city::generate(&without), enrol_city::generate(&with));
    assert!(a.junior_applications.is_empty());
    assert_eq!(b.junior_applications.len(), 300);
    assert_eq!(a.applications, b.applications, "applications.jsonl is the same");
    assert_eq!(a.families, b.families);
    for (what, small, large) in [
        ("persons", lines(&a.persons), lines(&b.persons)),
        ("births", lines(&a.births), lines(&b.births)),
        ("properties", lines(&a.properties), lines(&b.properties)),
        ("permits", lines(&a.permits), lines(&b.permits)),
        (
            "social insurance",
            lines(&a.social_insurance),
            lines(&b.social_insurance),
        ),
        ("unit uses", lines(&a.unit_uses), lines(&b.unit_uses)),
        ("child places", lines(&a.child_places), lines(&b.child_places)),
    ] {
        let missing = small.difference(&large).count();
        assert_eq!(missing, 0, "{what}: {missing} first-grade records changed");
        assert!(large.len() > small.len(), "{what}: the cohort adds records");
    }
    // Primary schools are the same but for their feeds; their zones the same but for juniors.
    let strip = |s: &wire::School| {
        let mut s = s.clone();
        s.feeds.clear();
        s
    };
    let primaries = |c: &City| -> Vec<wire::School> {
        c.schools
            .iter()
            .filter(|s| s.stage == Stage::Primary)
            .map(strip)
            .collect()
    };
    assert_eq!(primaries(&a), primaries(&b));
    assert_eq!(a.buildings.len(), b.buildings.len());
}

#[test]
fn junior_families_are_as_drawn_at_the_documented_rates() {
    // Large enough for 任城区 to have two junior schools (one per 2,500 expected families).
    let mut config = CityConfig::new(12_000, 20_270_519);
    config.junior_families = 6_000;
    let city = enrol_city::generate(&config);
    let r = JuniorRates::default();
    let n = city.junior_families.len();
    assert_eq!(n, 6_000);
    assert_eq!(city.junior_applications.len(), n);

    let schools: BTreeMap<&str, &wire::School> = city.schools.iter().map(|s| (s.id.as_str(), s)).collect();
    let places: BTreeMap<&NationalId, &wire::ChildPlace> = city.child_places.iter().map(|p| (&p.child_id, p)).collect();
    let births: BTreeSet<&NationalId> = city.births.iter().map(|b| &b.child_id).collect();
    let uses: BTreeMap<&str, &wire::UnitUses> = city.unit_uses.iter().map(|u| (u.unit_no.as_str(), u)).collect();

    let mut count: BTreeMap<String, usize> = BTreeMap::new();
    let mut bump = |k: &str| *count.entry(k.to_owned()).or_default() += 1;
    for (p, app) in city.junior_families.iter().zip(&city.junior_applications) {
        assert_eq!(p.application_id, app.application_id);
        assert_eq!(app.round.as_str(), JUNIOR_ROUND);
        assert!(births.contains(&app.child_id), "every junior child has a certificate");
        let born = app.child_id.birth_date().to_string();
        assert!(("2014-09-01".."2015-09-01").contains(&born.as_str()), "{born}");
        let place = places.get(&app.child_id);
        match p.trigger {
            JuniorTrigger::None => {
                let place = place.expect("a grade-6 pupil has a record");
                assert_eq!(place.grade, 6);
                let school = schools[place.school_id.as_str()];
                assert_eq!(school.stage, Stage::Primary);
                assert_eq!(school.kind == SchoolKind::Private, p.at_private_primary);
                if p.at_private_primary {
                    assert!(school.feeds.is_empty());
                }
            }
            JuniorTrigger::NotInHistory => assert!(place.is_none()),
            JuniorTrigger::OtherGrade => assert!([5, 7].contains(&place.expect("a record").grade)),
            JuniorTrigger::SchoolUnknown => {
                let place = place.expect("a record");
                assert_eq!(place.grade, 6);
                assert!(!schools.contains_key(place.school_id.as_str()));
            }
        }
        bump(&format!("{:?}", p.trigger));
        bump(&format!("{:?}", p.residence));
        if p.trigger == JuniorTrigger::None {
            bump("grade6");
            if p.at_private_primary {
                bump("private_primary");
            }
        }
        if let Some(g) = p.sibling_grade {
            assert!((7..=9).contains(&g));
            bump("sibling");
            let sib = app.sibling_ids.first().expect("a declared sibling");
            let at = places[sib];
            assert_eq!((at.grade, schools[at.school_id.as_str()].stage), (g, Stage::Junior));
        }
        if p.zoned_property && p.seat_use != Some(SeatUseCase::OlderSibling) {
            bump("lockable");
            match p.seat_use {
                Some(SeatUseCase::Stranger) => bump("stranger"),
                Some(SeatUseCase::StrangerBeforeWindow) => bump("before"),
                _ => {}
            }
        }
        if p.seat_use.is_some() {
            let unit = city
                .properties
                .iter()
                .find(|u| {
                    u.owners
                        .iter()
                        .any(|o| o.id == app.applicant_id || app.guardian_ids.contains(&o.id))
                })
                .expect("a family unit");
            let used = uses[unit.unit_no.as_str()];
            let junior_use = used.uses.iter().any(|u| {
                schools[u.school_id.as_str()].stage == Stage::Junior
                    && match p.seat_use {
                        Some(SeatUseCase::Stranger) => u.year >= JUNIOR_SEAT_LOCK_FIRST_YEAR,
                        Some(SeatUseCase::StrangerBeforeWindow) => u.year < JUNIOR_SEAT_LOCK_FIRST_YEAR,
                        _ => true,
                    }
            });
            assert!(junior_use, "{:?}: {used:?}", p.seat_use);
        }
        if p.no_choices {
            bump("no_choices");
            assert!(app.choices.is_empty());
        } else {
            bump("lists");
            if p.private_choice {
                bump("private_choice");
                assert_eq!(schools[app.choices[0].as_str()].kind, SchoolKind::Private);
            }
            for c in &app.choices {
                assert_eq!(
                    schools[c.as_str()].stage,
                    Stage::Junior,
                    "a junior family lists juniors"
                );
            }
        }
    }
    let c = |k: &str| count.get(k).copied().unwrap_or(0);
    assert_rate("not_in_history", c("NotInHistory"), n, r.not_in_history);
    assert_rate("other_grade", c("OtherGrade"), n, r.other_grade);
    assert_rate("school_unknown", c("SchoolUnknown"), n, r.school_unknown);
    for (kind, rate) in JuniorResidence::ALL.iter().zip(r.residence) {
        assert_rate(&format!("{kind:?}"), c(&format!("{kind:?}")), n, rate);
    }
    assert_rate("private_primary", c("private_primary"), c("grade6"), r.private_primary);
    assert_rate("older_sibling", c("sibling"), n, r.older_sibling);
    assert_rate("seat_lock_stranger", c("stranger"), c("lockable"), r.seat_lock_stranger);
    assert_rate(
        "seat_use_before_window",
        c("before"),
        c("lockable"),
        r.seat_use_before_window,
    );
    assert_rate("no_choices", c("no_choices"), n, r.no_choices);
    assert_rate("private_choice", c("private_choice"), c("lists"), r.private_choice);

    // Feeder pairs: primaries feeding none, one and two public juniors of their county.
    let mut feeds = [0usize; 3];
    for s in city
        .schools
        .iter()
        .filter(|s| s.stage == Stage::Primary && s.kind == SchoolKind::Public)
    {
        feeds[s.feeds.len()] += 1;
        for j in &s.feeds {
            let j = schools[j.as_str()];
            assert_eq!(
                (j.stage, j.kind, &j.county),
                (Stage::Junior, SchoolKind::Public, &s.county)
            );
        }
    }
    assert!(feeds.iter().all(|&k| k > 0), "none, one and two: {feeds:?}");
    // Every known building is zoned for exactly one junior school.
    for b in &city.buildings {
        let juniors = b
            .schools
            .iter()
            .filter(|s| schools[s.as_str()].stage == Stage::Junior)
            .count();
        assert_eq!(juniors, 1, "{}", b.building_key);
    }
    // Public junior seats cover the cohort.
    let seats: u32 = city
        .schools
        .iter()
        .filter(|s| s.stage == Stage::Junior && s.kind == SchoolKind::Public)
        .map(|s| s.capacity["2027"])
        .sum();
    assert!(seats as f64 >= 1.1 * n as f64, "{seats} seats for {n}");
}

/// `count` out of `n` is within five standard deviations (plus two) of rate `p`.
fn assert_rate(what: &str, count: usize, n: usize, p: f64) {
    let expected = n as f64 * p;
    let sd = (n as f64 * p * (1.0 - p)).sqrt();
    let off = (count as f64 - expected).abs();
    assert!(
        off <= 5.0 * sd + 2.0,
        "{what}: {count} of {n}, expected {expected:.1} (rate {p}), off by {off:.1} > 5 sd {sd:.1}"
    );
    assert!(n == 0 || p == 0.0 || count > 0, "{what}: none drawn among {n}");
}

#[test]
fn the_documented_junior_rates_are_the_default_ones() {
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/city-generator.md"))
        .expect("docs/city-generator.md");
    let mut documented: BTreeMap<String, f64> = BTreeMap::new();
    for line in doc.lines().skip_while(|l| !l.starts_with("## Junior cohort")) {
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        if cells.len() > 3
            && let (Some(key), Some(pct)) = (
                cells[1].strip_prefix('`').and_then(|k| k.strip_suffix('`')),
                cells[2].strip_suffix('%'),
            )
            && let Ok(pct) = pct.parse::<f64>()
        {
            documented.insert(key.to_owned(), pct / 100.0);
        }
    }
    let rates = JuniorRates::default();
    let serde_json::Value::Object(fields) = serde_json::to_value(&rates).expect("rates serialise") else {
        panic!("rates are an object");
    };
    let mut expected: BTreeMap<String, f64> = fields
        .into_iter()
        .filter_map(|(k, v)| v.as_f64().map(|x| (k, x)))
        .collect();
    for (kind, rate) in JuniorResidence::ALL.iter().zip(rates.residence) {
        let name = serde_json::to_value(kind).expect("a name");
        expected.insert(name.as_str().expect("a string").to_owned(), rate);
    }
    assert!((rates.residence.iter().sum::<f64>() - 1.0).abs() < 1e-9);
    assert_eq!(documented, expected);
}
