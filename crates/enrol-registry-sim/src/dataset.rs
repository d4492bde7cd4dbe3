//! Loading a fixture dataset folder (`registries.md`, "Fixture datasets").
//!
//! Every file is optional (missing = no records). Every line is validated; the first fault
//! stops the load with the file, the 1-based line and the field at fault.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;
use serde_json::value::RawValue;

use crate::address::Gazetteer;
use crate::records::{
    Address, BirthCertificate, BuildingRecord, ChildPlace, InsuranceMonths, Permit, Person, PropertyUnit, School,
    UnitUses,
};

/// Why a dataset folder was refused.
#[derive(Debug, thiserror::Error)]
pub enum DatasetError {
    /// The folder or a file in it could not be read.
    #[error("cannot read {}: {source}", path.display())]
    Io {
        /// The folder or file.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// A file is not UTF-8.
    #[error("{}: line {line}: not UTF-8", file.display())]
    NotUtf8 {
        /// The file.
        file: PathBuf,
        /// 1-based line of the first bad byte.
        line: usize,
    },
    /// A record is malformed.
    #[error("{}:{line}: field `{field}`: {reason}", file.display())]
    Invalid {
        /// The file.
        file: PathBuf,
        /// 1-based line.
        line: usize,
        /// The field at fault, as a path like `address.code` or `owners[1].share_pct`;
        /// `(record)` when the record as a whole is at fault.
        field: String,
        /// What is wrong.
        reason: String,
    },
    /// Two records have the same key.
    #[error("{}:{line}: field `{field}`: duplicate {field} {key:?}, first on line {first_line}", file.display())]
    Duplicate {
        /// The file.
        file: PathBuf,
        /// 1-based line of the second record.
        line: usize,
        /// The key field.
        field: String,
        /// The repeated key.
        key: String,
        /// 1-based line of the first record.
        first_line: usize,
    },
}

impl DatasetError {
    /// The file at fault (the folder for an unreadable folder).
    pub fn file(&self) -> &Path {
        match self {
            DatasetError::Io { path, .. } => path,
            DatasetError::NotUtf8 { file, .. }
            | DatasetError::Invalid { file, .. }
            | DatasetError::Duplicate { file, .. } => file,
        }
    }

    /// The 1-based line at fault, when there is one.
    pub fn line(&self) -> Option<usize> {
        match self {
            DatasetError::Io { .. } => None,
            DatasetError::NotUtf8 { line, .. }
            | DatasetError::Invalid { line, .. }
            | DatasetError::Duplicate { line, .. } => Some(*line),
        }
    }

    /// The field at fault, when there is one.
    pub fn field(&self) -> Option<&str> {
        match self {
            DatasetError::Invalid { field, .. } | DatasetError::Duplicate { field, .. } => Some(field),
            _ => None,
        }
    }
}

/// The file names of the fixture format.
pub mod files {
    /// §1 household persons.
    pub const PERSONS: &str = "persons.jsonl";
    /// §2 birth certificates.
    pub const BIRTHS: &str = "births.jsonl";
    /// §3 property units.
    pub const PROPERTIES: &str = "properties.jsonl";
    /// §4 residence permits.
    pub const PERMITS: &str = "permits.jsonl";
    /// §5 social-insurance months.
    pub const SOCIAL_INSURANCE: &str = "social_insurance.jsonl";
    /// §6 schools (one JSON array).
    pub const SCHOOLS: &str = "schools.json";
    /// §6 buildings with their address parts.
    pub const BUILDINGS: &str = "buildings.jsonl";
    /// §7 unit uses and children's places.
    pub const ENROLMENT_HISTORY: &str = "enrolment_history.jsonl";
}

/// A whole fixture dataset, validated and indexed for serving. Immutable once loaded.
#[derive(Debug, Default)]
pub struct Dataset {
    pub(crate) persons: BTreeMap<String, Person>,
    pub(crate) births: BTreeMap<String, BirthCertificate>,
    pub(crate) units: BTreeMap<String, PropertyUnit>,
    /// Owner id → unit numbers in which the owner holds a share, ascending.
    pub(crate) holdings: BTreeMap<String, BTreeSet<String>>,
    pub(crate) permits: BTreeMap<String, Permit>,
    pub(crate) insurance: BTreeMap<String, Vec<String>>,
    /// Ordered by id.
    pub(crate) schools: BTreeMap<String, School>,
    pub(crate) buildings: BTreeMap<String, BuildingRecord>,
    pub(crate) gazetteer: Gazetteer,
    pub(crate) unit_uses: BTreeMap<String, UnitUses>,
    pub(crate) children: BTreeMap<String, ChildPlace>,
}

/// Record counts, for a start-up line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DatasetSummary {
    /// Household persons.
    pub persons: usize,
    /// Birth certificates.
    pub births: usize,
    /// Property units.
    pub units: usize,
    /// Residence permits.
    pub permits: usize,
    /// Persons with social-insurance months.
    pub insurance: usize,
    /// Schools.
    pub schools: usize,
    /// Buildings.
    pub buildings: usize,
    /// Units with a use history.
    pub unit_histories: usize,
    /// Children at school.
    pub children_at_school: usize,
}

impl fmt::Display for DatasetSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} persons, {} births, {} units, {} permits, {} insurance records, {} schools, {} buildings, {} unit histories, {} children at school",
            self.persons,
            self.births,
            self.units,
            self.permits,
            self.insurance,
            self.schools,
            self.buildings,
            self.unit_histories,
            self.children_at_school
        )
    }
}

/// Keyed records with the line each key was first seen on, to report duplicates.
struct Keyed<'a, T> {
    file: &'a Path,
    field: &'static str,
    map: BTreeMap<String, (usize, T)>,
}

impl<'a, T> Keyed<'a, T> {
    fn new(file: &'a Path, field: &'static str) -> Self {
        Keyed {
            file,
            field,
            map: BTreeMap::new(),
        }
    }

    fn insert(&mut self, line: usize, key: &str, value: T) -> Result<(), DatasetError> {
        if let Some((first_line, _)) = self.map.get(key) {
            return Err(DatasetError::Duplicate {
                file: self.file.to_path_buf(),
                line,
                field: self.field.to_owned(),
                key: key.to_owned(),
                first_line: *first_line,
            });
        }
        self.map.insert(key.to_owned(), (line, value));
        Ok(())
    }

    fn into_map(self) -> BTreeMap<String, T> {
        self.map.into_iter().map(|(k, (_, v))| (k, v)).collect()
    }
}

impl Dataset {
    /// Loads and validates the dataset folder `dir`.
    ///
    /// `applications.jsonl` is not read: it is the upstream app's input, not a registry's
    /// record, and may hold deliberately bad applications for the engine to refuse.
    pub fn load(dir: impl AsRef<Path>) -> Result<Dataset, DatasetError> {
        let dir = dir.as_ref();
        let meta = std::fs::metadata(dir).map_err(|source| DatasetError::Io {
            path: dir.to_path_buf(),
            source,
        })?;
        if !meta.is_dir() {
            return Err(DatasetError::Io {
                path: dir.to_path_buf(),
                source: std::io::Error::new(std::io::ErrorKind::NotADirectory, "not a folder"),
            });
        }
        let mut ds = Dataset::default();

        let file = dir.join(files::PERSONS);
        let mut persons = Keyed::new(&file, "id");
        for (line, p) in read_jsonl::<Person>(&file)? {
            check_address(&file, line, "address", &p.address)?;
            persons.insert(line, p.id.as_str(), p.clone())?;
        }
        ds.persons = persons.into_map();

        let file = dir.join(files::BIRTHS);
        let mut births = Keyed::new(&file, "child_id");
        for (line, b) in read_jsonl::<BirthCertificate>(&file)? {
            births.insert(line, b.child_id.as_str(), b.clone())?;
        }
        ds.births = births.into_map();

        let file = dir.join(files::PROPERTIES);
        let mut units = Keyed::new(&file, "unit_no");
        for (line, u) in read_jsonl::<PropertyUnit>(&file)? {
            check_address(&file, line, "address", &u.address)?;
            for o in &u.owners {
                ds.holdings
                    .entry(o.id.as_str().to_owned())
                    .or_default()
                    .insert(u.unit_no.as_str().to_owned());
            }
            units.insert(line, u.unit_no.as_str(), u.clone())?;
        }
        ds.units = units.into_map();

        let file = dir.join(files::PERMITS);
        let mut permits = Keyed::new(&file, "holder_id");
        for (line, p) in read_jsonl::<Permit>(&file)? {
            check_address(&file, line, "address", &p.address)?;
            permits.insert(line, p.holder_id.as_str(), p.clone())?;
        }
        ds.permits = permits.into_map();

        let file = dir.join(files::SOCIAL_INSURANCE);
        let mut insurance = Keyed::new(&file, "id");
        for (line, r) in read_jsonl::<InsuranceMonths>(&file)? {
            // Ascending, each as often as the record lists it: a month listed
            // twice is dirt the registry serves as it stands (registries.md).
            let mut months: Vec<String> = r.months.iter().map(|m| m.as_str().to_owned()).collect();
            months.sort_unstable();
            insurance.insert(line, r.id.as_str(), months)?;
        }
        ds.insurance = insurance.into_map();

        let file = dir.join(files::SCHOOLS);
        let mut schools = Keyed::new(&file, "id");
        for (line, s) in read_json_array::<School>(&file)? {
            schools.insert(line, s.id.as_str(), s.clone())?;
        }
        ds.schools = schools.into_map();

        let file = dir.join(files::BUILDINGS);
        let mut buildings = Keyed::new(&file, "building_key");
        for (line, b) in read_jsonl::<BuildingRecord>(&file)? {
            buildings.insert(line, b.building_key.as_str(), b.clone())?;
        }
        ds.buildings = buildings.into_map();
        ds.gazetteer = Gazetteer::new(ds.buildings.values());

        let file = dir.join(files::ENROLMENT_HISTORY);
        let mut unit_uses = Keyed::new(&file, "unit_no");
        let mut children = Keyed::new(&file, "child_id");
        for (line, raw) in read_jsonl::<serde_json::Map<String, serde_json::Value>>(&file)? {
            let value = serde_json::Value::Object(raw.clone());
            if raw.contains_key("unit_no") {
                let u: UnitUses = from_value(&file, line, value)?;
                unit_uses.insert(line, u.unit_no.as_str(), u.clone())?;
            } else if raw.contains_key("child_id") {
                let c: ChildPlace = from_value(&file, line, value)?;
                children.insert(line, c.child_id.as_str(), c.clone())?;
            } else {
                return Err(DatasetError::Invalid {
                    file: file.clone(),
                    line,
                    field: "(record)".to_owned(),
                    reason: "expected a unit's uses (with `unit_no`) or a child's place (with `child_id`)".to_owned(),
                });
            }
        }
        ds.unit_uses = unit_uses.into_map();
        ds.children = children.into_map();

        Ok(ds)
    }

    /// Record counts.
    pub fn summary(&self) -> DatasetSummary {
        DatasetSummary {
            persons: self.persons.len(),
            births: self.births.len(),
            units: self.units.len(),
            permits: self.permits.len(),
            insurance: self.insurance.len(),
            schools: self.schools.len(),
            buildings: self.buildings.len(),
            unit_histories: self.unit_uses.len(),
            children_at_school: self.children.len(),
        }
    }

    /// Address search of §6: every room-level match of `text`, ordered by code.
    pub fn resolve_address(&self, text: &str) -> Vec<crate::address::AddressMatch> {
        self.gazetteer.resolve(text)
    }
}

/// An address names a code, a text or both.
fn check_address(file: &Path, line: usize, field: &str, address: &Address) -> Result<(), DatasetError> {
    if address.code.is_none() && address.text.is_none() {
        return Err(DatasetError::Invalid {
            file: file.to_path_buf(),
            line,
            field: field.to_owned(),
            reason: "an address needs a `code`, a `text` or both".to_owned(),
        });
    }
    Ok(())
}

/// Reads a file as UTF-8; a missing file is `None`.
fn read_text(file: &Path) -> Result<Option<String>, DatasetError> {
    let bytes = match std::fs::read(file) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => {
            return Err(DatasetError::Io {
                path: file.to_path_buf(),
                source,
            });
        }
    };
    match String::from_utf8(bytes) {
        Ok(mut s) => {
            // A BOM some editors add is not part of the first record.
            if s.starts_with('\u{feff}') {
                s.drain(..'\u{feff}'.len_utf8());
            }
            Ok(Some(s))
        }
        Err(e) => {
            let good = e.utf8_error().valid_up_to();
            let line = 1 + e.as_bytes()[..good].iter().filter(|b| **b == b'\n').count();
            Err(DatasetError::NotUtf8 {
                file: file.to_path_buf(),
                line,
            })
        }
    }
}

/// One record per non-blank line; `(line number, record)`.
fn read_jsonl<T: DeserializeOwned>(file: &Path) -> Result<Vec<(usize, T)>, DatasetError> {
    let Some(text) = read_text(file)? else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        out.push((i + 1, from_str(file, i + 1, line)?));
    }
    Ok(out)
}

/// The elements of a top-level JSON array, each with the line it starts on.
fn read_json_array<T: DeserializeOwned>(file: &Path) -> Result<Vec<(usize, T)>, DatasetError> {
    let Some(text) = read_text(file)? else {
        return Ok(Vec::new());
    };
    let elements: Vec<&RawValue> = serde_json::from_str(&text).map_err(|e| DatasetError::Invalid {
        file: file.to_path_buf(),
        line: e.line().max(1),
        field: "(file)".to_owned(),
        reason: format!("expected a JSON array of records: {}", strip_position(&e.to_string())),
    })?;
    let base = text.as_ptr() as usize;
    let mut out = Vec::new();
    for raw in elements {
        let offset = (raw.get().as_ptr() as usize).saturating_sub(base);
        let start_line = 1 + text.as_bytes()[..offset.min(text.len())]
            .iter()
            .filter(|b| **b == b'\n')
            .count();
        // from_str adds the line inside the element to the line it starts on.
        let record = from_str(file, start_line, raw.get())?;
        out.push((start_line, record));
    }
    Ok(out)
}

fn from_str<T: DeserializeOwned>(file: &Path, line: usize, text: &str) -> Result<T, DatasetError> {
    let json_error = |e: &serde_json::Error, path: Option<&serde_path_to_error::Path>| {
        // serde_json counts lines inside `text`; for a JSONL line that is always 1.
        let line = line + e.line().saturating_sub(1);
        let reason = if e.is_syntax() || e.is_eof() {
            format!(
                "malformed JSON at column {}: {}",
                e.column(),
                strip_position(&e.to_string())
            )
        } else {
            strip_position(&e.to_string())
        };
        invalid(file, line, path.map(ToString::to_string), reason)
    };
    let mut de = serde_json::Deserializer::from_str(text);
    let value: T = serde_path_to_error::deserialize(&mut de).map_err(|e| json_error(e.inner(), Some(e.path())))?;
    // Trailing characters after the record.
    de.end().map_err(|e| json_error(&e, None))?;
    Ok(value)
}

fn from_value<T: DeserializeOwned>(file: &Path, line: usize, value: serde_json::Value) -> Result<T, DatasetError> {
    serde_path_to_error::deserialize(value)
        .map_err(|e| invalid(file, line, Some(e.path().to_string()), e.inner().to_string()))
}

/// serde_json appends " at line L column C"; the line is reported separately.
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_owned(),
        None => message.to_owned(),
    }
}

fn invalid(file: &Path, line: usize, path: Option<String>, reason: String) -> DatasetError {
    let mut field = path.unwrap_or_default();
    if field == "." {
        field.clear();
    }
    // "missing field `x`" is raised at the parent: name the field itself.
    if let Some(rest) = reason.strip_prefix("missing field `")
        && let Some(name) = rest.split('`').next()
    {
        field = if field.is_empty() {
            name.to_owned()
        } else {
            format!("{field}.{name}")
        };
    }
    if field.is_empty() {
        field = "(record)".to_owned();
    }
    DatasetError::Invalid {
        file: file.to_path_buf(),
        line,
        field,
        reason,
    }
}
