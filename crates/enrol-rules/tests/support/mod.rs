//! A fixture reader for tests: answers `EvidenceRead`s straight from registry
//! records in the fixture-dataset format of registries.md (the jsonl lines are
//! the registries' response bodies), the way the simulator would, without the
//! HTTP layer. Also the gather loop the evidence gatherer runs: plan → read →
//! add to the bundle → plan again.

#![allow(dead_code)]

pub mod families;
pub mod readme;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use chrono::DateTime;
use enrol_domain::{
    AddressCode, Application, BirthCertificate, BuildingKey, BuildingZone, CurrentPlace, EvidenceBundle, EvidenceRead,
    Fetched, GeoPoint, HouseholdRecord, NationalId, OfficerFacts, PropertyUnit, RecordRef, ResidencePermit, School,
    SchoolCatalogue, SchoolId, SeatUse, UnitNo, YearMonth,
};
use enrol_rules::{Policy, plan_reads};
use serde::Deserialize;
use serde_json::Value;

/// A line of `buildings.jsonl`: a building plus the canonical parts of its address.
#[derive(Debug, Clone, Deserialize)]
pub struct BuildingRow {
    pub building_key: BuildingKey,
    pub schools: Vec<SchoolId>,
    pub location: GeoPoint,
    #[serde(default)]
    pub city: String,
    #[serde(default)]
    pub county: String,
    #[serde(default)]
    pub street: String,
    #[serde(default)]
    pub road: String,
    #[serde(default)]
    pub number: Option<u32>,
}

#[derive(Debug, Deserialize)]
struct InsuranceRow {
    id: NationalId,
    months: Vec<YearMonth>,
}

#[derive(Debug, Deserialize)]
struct UnitUsesRow {
    unit_no: UnitNo,
    uses: Vec<SeatUse>,
}

/// The seven registries' records, as a fixture dataset holds them.
#[derive(Debug, Default, Clone)]
pub struct Registries {
    pub persons: BTreeMap<NationalId, HouseholdRecord>,
    pub births: BTreeMap<NationalId, BirthCertificate>,
    pub units: BTreeMap<UnitNo, PropertyUnit>,
    pub permits: BTreeMap<NationalId, ResidencePermit>,
    pub insurance: BTreeMap<NationalId, Vec<YearMonth>>,
    pub buildings: BTreeMap<BuildingKey, BuildingRow>,
    pub uses: BTreeMap<UnitNo, Vec<SeatUse>>,
    pub places: BTreeMap<NationalId, CurrentPlace>,
}

fn parse<T: serde::de::DeserializeOwned>(what: &str, v: Value) -> T {
    match serde_json::from_value(v.clone()) {
        Ok(t) => t,
        Err(e) => panic!("bad {what} record {v}: {e}"),
    }
}

fn jsonl(dir: &Path, file: &str) -> Vec<Value> {
    let path = dir.join(file);
    let Ok(text) = std::fs::read_to_string(&path) else {
        return Vec::new();
    };
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| match serde_json::from_str(l) {
            Ok(v) => v,
            Err(e) => panic!("{}: bad line {l}: {e}", path.display()),
        })
        .collect()
}

impl Registries {
    /// Adds records of one dataset file (`persons`, `births`, ... without extension).
    pub fn add(&mut self, file: &str, lines: Vec<Value>) {
        for v in lines {
            match file {
                "persons" => {
                    let r: HouseholdRecord = parse(file, v);
                    self.persons.insert(r.id.clone(), r);
                }
                "births" => {
                    let r: BirthCertificate = parse(file, v);
                    self.births.insert(r.child_id.clone(), r);
                }
                "properties" => {
                    let r: PropertyUnit = parse(file, v);
                    self.units.insert(r.unit_no.clone(), r);
                }
                "permits" => {
                    let r: ResidencePermit = parse(file, v);
                    self.permits.insert(r.holder_id.clone(), r);
                }
                "social_insurance" => {
                    let r: InsuranceRow = parse(file, v);
                    self.insurance.insert(r.id, r.months);
                }
                "buildings" => {
                    let r: BuildingRow = parse(file, v);
                    self.buildings.insert(r.building_key.clone(), r);
                }
                "enrolment_history" => {
                    if v.get("unit_no").is_some() {
                        let r: UnitUsesRow = parse(file, v);
                        self.uses.insert(r.unit_no, r.uses);
                    } else {
                        let r: CurrentPlace = parse(file, v);
                        self.places.insert(r.child_id.clone(), r);
                    }
                }
                other => panic!("unknown dataset file {other}"),
            }
        }
    }

    /// Loads every registry file of a dataset folder.
    pub fn load_dir(dir: &Path) -> Registries {
        let mut r = Registries::default();
        for file in [
            "persons",
            "births",
            "properties",
            "permits",
            "social_insurance",
            "buildings",
            "enrolment_history",
        ] {
            r.add(file, jsonl(dir, &format!("{file}.jsonl")));
        }
        r
    }

    /// The address search of the zone registry (registries.md, "Address text").
    pub fn search(&self, text: &str) -> Vec<AddressCode> {
        let Some(parsed) = parse_text(text) else {
            return Vec::new();
        };
        let mut codes = BTreeSet::new();
        for b in self.buildings.values() {
            if b.number != Some(parsed.number) || b.road.is_empty() {
                continue;
            }
            let Some(prefix) = parsed.head.strip_suffix(b.road.as_str()) else {
                continue;
            };
            if names_own_parts(prefix, [&b.city, &b.county, &b.street])
                && let Some(code) = AddressCode::in_building(&b.building_key, parsed.unit, parsed.room)
            {
                codes.insert(code);
            }
        }
        codes.into_iter().collect()
    }

    /// Answers one read into the bundle, as the registry would.
    pub fn answer(&self, read: &EvidenceRead, bundle: &mut EvidenceBundle) {
        let source = read.record_ref();
        match read {
            EvidenceRead::BirthCertificate { child_id } => {
                bundle
                    .birth_certificates
                    .insert(child_id.clone(), wrap(&source, self.births.get(child_id).cloned()));
            }
            EvidenceRead::HouseholdRecord { person_id } => {
                bundle
                    .household_records
                    .insert(person_id.clone(), wrap(&source, self.persons.get(person_id).cloned()));
            }
            EvidenceRead::Holdings { owner_id } => {
                let units: Vec<PropertyUnit> = self
                    .units
                    .values()
                    .filter(|u| u.owners.iter().any(|o| &o.id == owner_id))
                    .cloned()
                    .collect();
                bundle.holdings.insert(owner_id.clone(), wrap(&source, Some(units)));
            }
            EvidenceRead::UnitUses { unit_no } => {
                let uses = self.uses.get(unit_no).cloned().unwrap_or_default();
                bundle.unit_uses.insert(unit_no.clone(), wrap(&source, Some(uses)));
            }
            EvidenceRead::Permit { holder_id } => {
                bundle
                    .permits
                    .insert(holder_id.clone(), wrap(&source, self.permits.get(holder_id).cloned()));
            }
            EvidenceRead::InsuranceMonths { person_id, from, to } => {
                let months: Vec<YearMonth> = self
                    .insurance
                    .get(person_id)
                    .map(|m| m.iter().filter(|m| *m >= from && *m <= to).copied().collect())
                    .unwrap_or_default();
                bundle
                    .insurance_months
                    .insert(person_id.clone(), wrap(&source, Some(months)));
            }
            EvidenceRead::CurrentPlace { child_id } => {
                bundle
                    .current_places
                    .insert(child_id.clone(), wrap(&source, self.places.get(child_id).cloned()));
            }
            EvidenceRead::AddressText { text } => {
                bundle
                    .address_matches
                    .insert(text.clone(), wrap(&source, Some(self.search(text))));
            }
            EvidenceRead::Building { building_key } => {
                let zone = self.buildings.get(building_key).map(|b| BuildingZone {
                    building_key: b.building_key.clone(),
                    schools: b.schools.clone(),
                    location: b.location,
                });
                bundle.buildings.insert(building_key.clone(), wrap(&source, zone));
            }
        }
    }
}

/// One answer, as the gatherer stores it (a fixed instant: tests are deterministic).
pub fn wrap<T>(source: &RecordRef, record: Option<T>) -> Fetched<T> {
    Fetched {
        source: source.clone(),
        fetched_at: DateTime::from_timestamp(1_778_000_000, 0).unwrap_or_default(),
        record,
    }
}

struct ParsedText {
    head: String,
    number: u32,
    unit: u8,
    room: u16,
}

fn split_trailing_digits(s: &str) -> Option<(&str, &str)> {
    let rest = s.trim_end_matches(|c: char| c.is_ascii_digit());
    let digits = &s[rest.len()..];
    (!digits.is_empty()).then_some((rest, digits))
}

/// `[city][county][street] road digits 号 (U单元R室 | U-R)`, white space removed.
fn parse_text(text: &str) -> Option<ParsedText> {
    let s: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    let (rest, unit, room) = if let Some(rest) = s.strip_suffix('室') {
        let (rest, room) = split_trailing_digits(rest)?;
        let (rest, unit) = split_trailing_digits(rest.strip_suffix("单元")?)?;
        (rest, unit, room)
    } else {
        let (rest, room) = split_trailing_digits(&s)?;
        let (rest, unit) = split_trailing_digits(rest.strip_suffix('-')?)?;
        (rest, unit, room)
    };
    let (head, number) = split_trailing_digits(rest.strip_suffix('号')?)?;
    Some(ParsedText {
        head: head.to_owned(),
        number: number.parse().ok()?,
        unit: unit.parse().ok().filter(|u| *u < 100)?,
        room: room.parse().ok().filter(|r| *r < 10_000)?,
    })
}

/// Whether `prefix` is some of the building's own city, county, street, in that order.
fn names_own_parts(prefix: &str, parts: [&String; 3]) -> bool {
    (0u8..8).any(|mask| {
        let mut rest = prefix;
        for (i, part) in parts.iter().enumerate() {
            if mask & (1 << i) != 0 {
                if part.is_empty() {
                    return false;
                }
                match rest.strip_prefix(part.as_str()) {
                    Some(r) => rest = r,
                    None => return false,
                }
            }
        }
        rest.is_empty()
    })
}

/// Loads a dataset's `applications.jsonl`, in file order.
pub fn load_applications(dir: &Path) -> Vec<Application> {
    load_applications_from(dir, "applications.jsonl")
}

/// Loads another applications file of a dataset (`applications-junior.jsonl`), in file order.
pub fn load_applications_from(dir: &Path, file: &str) -> Vec<Application> {
    jsonl(dir, file).into_iter().map(|v| parse("application", v)).collect()
}

/// Loads a zone registry's `schools.json`.
pub fn load_schools(path: &Path) -> SchoolCatalogue {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let list: Vec<School> = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    list.into_iter().map(|s| (s.id.clone(), s)).collect()
}

/// Runs the gatherer's loop and returns the complete bundle and the reads of
/// each round. Checks on the way that no read is asked twice and that only
/// the records of the child, the guardians and the declared siblings are read.
pub fn gather(
    app: &Application,
    registries: &Registries,
    policy: &Policy,
    schools: &SchoolCatalogue,
    officer: OfficerFacts,
) -> (EvidenceBundle, Vec<Vec<EvidenceRead>>) {
    let mut bundle = EvidenceBundle {
        officer_facts: officer,
        ..EvidenceBundle::default()
    };
    let family: BTreeSet<&NationalId> = std::iter::once(&app.child_id)
        .chain(app.guardians())
        .chain(app.siblings())
        .collect();
    let mut rounds = Vec::new();
    loop {
        let reads = plan_reads(app, &bundle, policy, schools);
        if reads.is_empty() {
            return (bundle, rounds);
        }
        assert!(rounds.len() < 20, "the plan does not converge: {reads:?}");
        for read in &reads {
            assert!(!bundle.has(read), "{read:?} planned again");
            let person = match read {
                EvidenceRead::BirthCertificate { child_id: id }
                | EvidenceRead::HouseholdRecord { person_id: id }
                | EvidenceRead::Holdings { owner_id: id }
                | EvidenceRead::Permit { holder_id: id }
                | EvidenceRead::InsuranceMonths { person_id: id, .. }
                | EvidenceRead::CurrentPlace { child_id: id } => Some(id),
                _ => None,
            };
            if let Some(id) = person {
                assert!(family.contains(id), "{read:?} reads a stranger's record");
            }
            registries.answer(read, &mut bundle);
        }
        rounds.push(reads);
    }
}

/// A read as a snapshot shows it: `registry:record`, and the window of an insurance read.
pub fn read_label(read: &EvidenceRead) -> String {
    match read {
        EvidenceRead::InsuranceMonths { from, to, .. } => format!("{} {from}..{to}", read.record_ref()),
        EvidenceRead::Holdings { .. } => format!("{} (holdings)", read.record_ref()),
        EvidenceRead::UnitUses { .. } => format!("{} (unit uses)", read.record_ref()),
        EvidenceRead::CurrentPlace { .. } => format!("{} (current place)", read.record_ref()),
        _ => read.record_ref().to_string(),
    }
}

/// The workspace's `fixtures/` folder.
pub fn fixtures_dir() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures")
}
