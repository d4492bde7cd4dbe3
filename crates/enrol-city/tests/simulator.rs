//! Every generated dataset, and the sample, loads in the registry simulator,
//! and the simulator's address search agrees with the generator's intent.

use std::path::PathBuf;

use enrol_city::{City, CityConfig, TextCase};
use enrol_registry_sim::Dataset;

fn load(city: &City) -> (tempfile::TempDir, Dataset) {
    let dir = tempfile::tempdir().expect("a temporary folder");
    city.write_to(dir.path()).expect("the city is written");
    let ds = Dataset::load(dir.path()).unwrap_or_else(|e| panic!("the simulator refuses the city: {e}"));
    (dir, ds)
}

#[test]
fn generated_cities_load_with_every_record() {
    for (families, seed) in [(1, 1), (50, 2), (600, 3), (3_000, 4)] {
        let city = enrol_city::generate(&CityConfig::new(families, seed));
        let (_dir, ds) = load(&city);
        let s = ds.summary();
        assert_eq!(s.persons, city.persons.len(), "{families}/{seed}");
        assert_eq!(s.births, city.births.len());
        assert_eq!(s.units, city.properties.len());
        assert_eq!(s.permits, city.permits.len());
        assert_eq!(s.insurance, city.social_insurance.len());
        assert_eq!(s.schools, city.schools.len());
        assert_eq!(s.buildings, city.buildings.len());
        assert_eq!(s.unit_histories, city.unit_uses.len());
        assert_eq!(s.children_at_school, city.child_places.len());
    }
}

#[test]
fn the_simulator_resolves_every_text_as_the_generator_meant() {
    let city = enrol_city::generate(&CityConfig::new(3_000, 11));
    let (_dir, ds) = load(&city);
    let mut texts: Vec<&str> = Vec::new();
    texts.extend(
        city.persons
            .iter()
            .filter(|p| p.address.code.is_none())
            .map(|p| p.address.text.as_str()),
    );
    texts.extend(
        city.properties
            .iter()
            .filter(|p| p.address.code.is_none())
            .map(|p| p.address.text.as_str()),
    );
    texts.extend(
        city.permits
            .iter()
            .filter(|p| p.address.code.is_none())
            .map(|p| p.address.text.as_str()),
    );
    assert!(texts.len() > 50, "{} text-only addresses", texts.len());
    for text in texts {
        let ours: Vec<String> = city.resolve_address(text).iter().map(|c| c.to_string()).collect();
        let theirs: Vec<String> = ds.resolve_address(text).into_iter().map(|m| m.code).collect();
        assert_eq!(ours, theirs, "{text}");
    }
    // Each kind of text-only record occurs.
    let cases = |f: fn(&enrol_city::FamilyProfile) -> Option<TextCase>| {
        city.families
            .iter()
            .filter_map(f)
            .collect::<std::collections::BTreeSet<_>>()
    };
    assert_eq!(cases(|p| p.permit_text).len(), 3);
    assert_eq!(cases(|p| p.household_text).len(), 2);
    assert_eq!(cases(|p| p.property_text).len(), 2);
}

#[test]
fn the_sample_city_loads() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/cities/sample");
    let ds = Dataset::load(&dir).unwrap_or_else(|e| panic!("the simulator refuses the sample: {e}"));
    let s = ds.summary();
    assert_eq!((s.schools, s.buildings), (11, 8));
    assert_eq!(ds.resolve_address("建设路 7号 3单元 301室").len(), 2);
    assert_eq!(ds.resolve_address("任城区太白中路10号3-602").len(), 1);
    assert!(
        ds.resolve_address("济宁市任城区古槐街道太白中路一〇号1单元801室")
            .is_empty()
    );
}
