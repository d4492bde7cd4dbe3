//! The hand-made sample city (`fixtures/cities/sample/`) and the read sets its
//! README lists per family ("Family by family": a `**FNN** — …` paragraph,
//! then `Reads: registry:record, …`). The README is Markdown for people, so
//! the parser is strict about that shape and fails loudly, naming the line,
//! when it changes.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use enrol_domain::{Application, BuildingKey, EvidenceRead, NationalId, RecordRef, Registry, UnitNo, YearMonth};

/// The sample city's folder.
pub fn sample_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/cities/sample")
}

/// The sample's `applications.jsonl`, in file order.
pub fn sample_applications() -> Vec<Application> {
    let path = sample_dir().join("applications.jsonl");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .enumerate()
        .map(|(i, l)| serde_json::from_str(l).unwrap_or_else(|e| panic!("{} line {}: {e}", path.display(), i + 1)))
        .collect()
}

/// `FNN` for application `a0000000-0000-4000-8000-0000000000NN` (README, first paragraph).
pub fn family_of(app: &Application) -> String {
    let id = app.application_id.to_string();
    match id.strip_prefix("a0000000-0000-4000-8000-0000000000") {
        Some(n) if n.len() == 2 => format!("F{n}"),
        _ => panic!("{id} is not a sample application id"),
    }
}

/// One family's read set as the README writes it.
#[derive(Debug, Clone)]
pub struct ExpectedReads {
    /// The README line of the `Reads:` list.
    pub line: usize,
    pub records: Vec<RecordRef>,
}

fn registry(line: usize, name: &str) -> Registry {
    Registry::ALL
        .into_iter()
        .find(|r| r.to_string() == name)
        .unwrap_or_else(|| panic!("sample README line {line}: {name:?} is not a registry of formats.md"))
}

/// Every family's `Reads:` list, by family (`F01` …).
pub fn expected_reads(markdown: &str) -> BTreeMap<String, ExpectedReads> {
    let mut out = BTreeMap::new();
    let mut family: Option<String> = None;
    for (i, line) in markdown.lines().enumerate() {
        let n = i + 1;
        if let Some(rest) = line.strip_prefix("**F") {
            let Some((digits, _)) = rest.split_once("**") else {
                panic!("sample README line {n}: a family paragraph that does not start `**FNN**`");
            };
            if digits.len() != 2 || !digits.bytes().all(|b| b.is_ascii_digit()) {
                panic!("sample README line {n}: {line:?} does not start with a family `**FNN**`");
            }
            if let Some(previous) = family.replace(format!("F{digits}")) {
                panic!("sample README line {n}: {previous} has no `Reads:` line before the next family");
            }
        } else if let Some(list) = line.strip_prefix("Reads: ") {
            let Some(f) = family.take() else {
                panic!("sample README line {n}: a `Reads:` line outside a family paragraph");
            };
            let Some(list) = list.trim_end().strip_suffix('.') else {
                panic!("sample README line {n}: the `Reads:` list does not end with `.`");
            };
            let records: Vec<RecordRef> = list
                .split(", ")
                .map(|item| {
                    let Some((name, record)) = item.split_once(':') else {
                        panic!("sample README line {n}: {item:?} is not `registry:record`");
                    };
                    if record.is_empty() {
                        panic!("sample README line {n}: {item:?} names no record");
                    }
                    RecordRef::new(registry(n, name), record)
                })
                .collect();
            if out.insert(f.clone(), ExpectedReads { line: n, records }).is_some() {
                panic!("sample README line {n}: {f} has two `Reads:` lines");
            }
        }
    }
    if let Some(f) = family {
        panic!("sample README: {f} has no `Reads:` line");
    }
    out
}

/// The read a README citation stands for (its `history:` is a child's place
/// for an ID and a unit's seat uses otherwise; its `zones:` a building for a
/// building key and an address search otherwise; its `insurance:` is asked
/// for the policy's window), so that the registries' logs can be compared.
pub fn read_of(record: &RecordRef, line: usize, window: (YearMonth, YearMonth)) -> EvidenceRead {
    let person = || {
        NationalId::parse(&record.record)
            .unwrap_or_else(|e| panic!("sample README line {line}: {record} does not name a person: {e}"))
    };
    match record.registry {
        Registry::Birth => EvidenceRead::BirthCertificate { child_id: person() },
        Registry::Hukou => EvidenceRead::HouseholdRecord { person_id: person() },
        Registry::Property => EvidenceRead::Holdings { owner_id: person() },
        Registry::Residence => EvidenceRead::Permit { holder_id: person() },
        Registry::Insurance => EvidenceRead::InsuranceMonths {
            person_id: person(),
            from: window.0,
            to: window.1,
        },
        Registry::History => match NationalId::parse(&record.record) {
            Ok(child_id) => EvidenceRead::CurrentPlace { child_id },
            Err(_) => EvidenceRead::UnitUses {
                unit_no: UnitNo::new(record.record.clone()),
            },
        },
        Registry::Zones => match BuildingKey::parse(&record.record) {
            Ok(building_key) => EvidenceRead::Building { building_key },
            Err(_) => EvidenceRead::AddressText {
                text: record.record.clone(),
            },
        },
    }
}

/// The person whose personal data a registry path reads, if it reads one.
pub fn person_read(path: &str) -> Option<&str> {
    let (path, query) = path.split_once('?').unwrap_or((path, ""));
    if path == "/property/v1/holdings" {
        return query.strip_prefix("owner_id=");
    }
    for prefix in [
        "/hukou/v1/persons/",
        "/birth/v1/certificates/",
        "/residence/v1/permits/",
        "/enrolment-history/v1/children/",
    ] {
        if let Some(id) = path.strip_prefix(prefix) {
            return Some(id);
        }
    }
    path.strip_prefix("/social-insurance/v1/persons/")
        .and_then(|rest| rest.strip_suffix("/months"))
}

/// The unit whose records a registry path reads, if it reads one.
pub fn unit_read(path: &str) -> Option<&str> {
    path.strip_prefix("/enrolment-history/v1/units/")
        .or_else(|| path.strip_prefix("/property/v1/units/"))
}
