//! Evidence: what the registries said about a family, in the engine's own
//! types (not the registries' wire JSON, which only the adapters know), each
//! fact with where it came from.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::{
    Address, AddressCode, BuildingKey, CertificateNo, CountyCode, GeoPoint, HouseholdNo, MaskedName, NationalId,
    PermitNo, SchoolId, UnitNo, YearMonth,
};

/// A registry as reasons cite it (`registry:record`, formats.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Registry {
    /// 公安户籍: household registration.
    Hukou,
    /// 出生医学证明: birth certificates.
    Birth,
    /// 不动产登记: property.
    Property,
    /// 居住证: residence permits.
    Residence,
    /// 人社: social insurance.
    Insurance,
    /// 学区划片: school zones and address search.
    Zones,
    /// 学籍与学位使用: enrolment history and seat use.
    History,
}

impl Registry {
    pub const ALL: [Registry; 7] = [
        Registry::Hukou,
        Registry::Birth,
        Registry::Property,
        Registry::Residence,
        Registry::Insurance,
        Registry::Zones,
        Registry::History,
    ];

    /// The name used in evidence citations.
    pub fn citation_name(self) -> &'static str {
        match self {
            Registry::Hukou => "hukou",
            Registry::Birth => "birth",
            Registry::Property => "property",
            Registry::Residence => "residence",
            Registry::Insurance => "insurance",
            Registry::Zones => "zones",
            Registry::History => "history",
        }
    }
}

impl fmt::Display for Registry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.citation_name())
    }
}

/// A record as cited in reasons: `hukou:370811202011150023`. A record found
/// missing is cited the same way.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct RecordRef {
    pub registry: Registry,
    /// The id asked for: a person's ID, a unit number, a building key, an address text.
    pub record: String,
}

impl RecordRef {
    pub fn new(registry: Registry, record: impl fmt::Display) -> Self {
        Self {
            registry,
            record: record.to_string(),
        }
    }
}

impl fmt::Display for RecordRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.registry, self.record)
    }
}

/// One answer of a registry: the record, or `None` when the registry has no
/// record (a 404, which is an answer, not a fault).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Fetched<T> {
    pub source: RecordRef,
    pub fetched_at: DateTime<Utc>,
    pub record: Option<T>,
}

/// `relation_to_head` of a household record (与户主关系).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RelationToHead {
    Head,
    Spouse,
    Child,
    Grandchild,
    Parent,
    Grandparent,
    Other,
}

/// A person's household registration (户籍).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HouseholdRecord {
    pub id: NationalId,
    pub birth_date: NaiveDate,
    /// 户号.
    pub household_no: HouseholdNo,
    pub relation_to_head: RelationToHead,
    /// 落户日期: the day the registration moved to this household.
    pub registered_on: NaiveDate,
    /// 户籍所在地: the county of the registration.
    pub region: CountyCode,
    pub address: Address,
}

/// 出生医学证明: the only proof of parenthood.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BirthCertificate {
    pub certificate_no: CertificateNo,
    pub child_id: NationalId,
    pub birth_date: NaiveDate,
    pub mother_id: Option<NationalId>,
    pub father_id: Option<NationalId>,
    /// The child's name as the public notice (公示) shows it (`李*雨`): the
    /// engine never keeps the whole name. Absent in evidence read before it
    /// was kept, or when the registry gave no name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub child_name_masked: Option<MaskedName>,
}

impl BirthCertificate {
    pub fn names_parent(&self, id: &NationalId) -> bool {
        self.mother_id.as_ref() == Some(id) || self.father_id.as_ref() == Some(id)
    }
}

/// 用途 of a property unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Usage {
    Residential,
    Commercial,
    Industrial,
}

/// 状态 of a property unit; `sealed` is 查封.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UnitStatus {
    Normal,
    Sealed,
}

/// One owner's share in a unit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Share {
    pub id: NationalId,
    pub share_pct: u32,
}

/// 不动产单元: an owned dwelling.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PropertyUnit {
    pub unit_no: UnitNo,
    pub address: Address,
    pub usage: Usage,
    pub registered_on: NaiveDate,
    pub status: UnitStatus,
    pub owners: Vec<Share>,
}

/// 居住证.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResidencePermit {
    pub permit_no: PermitNo,
    pub holder_id: NationalId,
    pub address: Address,
    pub issued_on: NaiveDate,
    pub valid_until: NaiveDate,
}

/// Where a child is at school now (学籍).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CurrentPlace {
    pub child_id: NationalId,
    pub school_id: SchoolId,
    pub grade: u8,
}

/// A place granted on the strength of a property unit (学位使用记录).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeatUse {
    pub year: i32,
    pub school_id: SchoolId,
    pub child_id: NationalId,
}

/// The public schools zoned for a building (学区划片): one (单校划片) or several (多校划片).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BuildingZone {
    pub building_key: BuildingKey,
    pub schools: Vec<SchoolId>,
    pub location: GeoPoint,
}

/// 公办 or 民办.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SchoolKind {
    Public,
    Private,
}

/// 学段.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    Primary,
    Junior,
}

/// A school of the zone registry's catalogue.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct School {
    pub id: SchoolId,
    pub name: String,
    pub kind: SchoolKind,
    pub stage: Stage,
    pub county: CountyCode,
    /// 核定学位 by entry year; a year not listed has no seats.
    pub capacity: BTreeMap<i32, u32>,
    pub location: GeoPoint,
    /// 对口直升: the public junior schools a primary school is paired with
    /// (registries.md §6 `feeds`); empty when the registry lists none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub feeds: Vec<SchoolId>,
}

impl School {
    pub fn capacity_in(&self, entry_year: i32) -> u32 {
        self.capacity.get(&entry_year).copied().unwrap_or(0)
    }
}

/// Every school the zone registry lists, by id.
pub type SchoolCatalogue = BTreeMap<SchoolId, School>;

/// One read of a registry that evidence gathering performs. The rules say
/// which reads a decision needs; the adapters know how to perform them.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(tag = "read", rename_all = "snake_case")]
pub enum EvidenceRead {
    BirthCertificate {
        child_id: NationalId,
    },
    HouseholdRecord {
        person_id: NationalId,
    },
    Holdings {
        owner_id: NationalId,
    },
    UnitUses {
        unit_no: UnitNo,
    },
    Permit {
        holder_id: NationalId,
    },
    InsuranceMonths {
        person_id: NationalId,
        from: YearMonth,
        to: YearMonth,
    },
    CurrentPlace {
        child_id: NationalId,
    },
    AddressText {
        text: String,
    },
    Building {
        building_key: BuildingKey,
    },
}

impl EvidenceRead {
    /// The record this read is cited as.
    pub fn record_ref(&self) -> RecordRef {
        match self {
            EvidenceRead::BirthCertificate { child_id } => RecordRef::new(Registry::Birth, child_id),
            EvidenceRead::HouseholdRecord { person_id } => RecordRef::new(Registry::Hukou, person_id),
            EvidenceRead::Holdings { owner_id } => RecordRef::new(Registry::Property, owner_id),
            EvidenceRead::UnitUses { unit_no } => RecordRef::new(Registry::History, unit_no),
            EvidenceRead::Permit { holder_id } => RecordRef::new(Registry::Residence, holder_id),
            EvidenceRead::InsuranceMonths { person_id, .. } => RecordRef::new(Registry::Insurance, person_id),
            EvidenceRead::CurrentPlace { child_id } => RecordRef::new(Registry::History, child_id),
            EvidenceRead::AddressText { text } => RecordRef::new(Registry::Zones, text),
            EvidenceRead::Building { building_key } => RecordRef::new(Registry::Zones, building_key),
        }
    }
}

/// What an officer established for an application in review (人工审核), fed
/// back to the rules as evidence of its own kind.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OfficerFacts {
    /// Address texts that did not resolve, with the code the officer established.
    #[serde(default)]
    pub resolved_addresses: BTreeMap<String, AddressCode>,
    /// Delayed enrolment (缓学) of an older child approved.
    #[serde(default)]
    pub delayed_enrolment_approved: bool,
    /// Guardians whose guardianship the officer established though the birth
    /// certificate does not name them (e.g. by court order).
    #[serde(default)]
    pub guardianship_confirmed: BTreeSet<NationalId>,
    /// A child already at a school whose application the officer let proceed.
    #[serde(default)]
    pub current_place_cleared: bool,
    /// A birth-date disagreement the officer settled.
    #[serde(default)]
    pub birth_date_confirmed: bool,
}

/// A read whose answer came but cannot be read (registries.md, "Dirty
/// records"): a body that breaks the registry's format, or an answer about
/// another record than the one asked for, even after the client's own
/// retries. It is a permanent failure of that read: the rules decide the
/// application `review` citing the record, and nothing is read after it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnusableAnswer {
    /// The record, as reasons cite it.
    pub record: RecordRef,
    /// The read that got the answer.
    pub read: EvidenceRead,
    /// What is wrong with it, for the officer (a JSON path and what did not fit).
    pub detail: String,
}

/// Everything read for one application, keyed by what was asked. Ordered
/// maps, so a bundle serialises the same way every time.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct EvidenceBundle {
    pub birth_certificates: BTreeMap<NationalId, Fetched<BirthCertificate>>,
    pub household_records: BTreeMap<NationalId, Fetched<HouseholdRecord>>,
    pub holdings: BTreeMap<NationalId, Fetched<Vec<PropertyUnit>>>,
    pub unit_uses: BTreeMap<UnitNo, Fetched<Vec<SeatUse>>>,
    pub permits: BTreeMap<NationalId, Fetched<ResidencePermit>>,
    /// Months of contribution in the asked window, ascending.
    pub insurance_months: BTreeMap<NationalId, Fetched<Vec<YearMonth>>>,
    pub current_places: BTreeMap<NationalId, Fetched<CurrentPlace>>,
    /// Address text → the room-level codes it matched (none: unknown; several: ambiguous).
    pub address_matches: BTreeMap<String, Fetched<Vec<AddressCode>>>,
    pub buildings: BTreeMap<BuildingKey, Fetched<BuildingZone>>,
    #[serde(default)]
    pub officer_facts: OfficerFacts,
    /// Reads whose answers could not be read, by the record's citation
    /// (`registry:record`). Absent from the JSON when empty, so clean
    /// bundles serialise as before.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub unusable: BTreeMap<String, UnusableAnswer>,
}

impl EvidenceBundle {
    /// Whether the bundle already holds the answer to `read`.
    pub fn has(&self, read: &EvidenceRead) -> bool {
        match read {
            EvidenceRead::BirthCertificate { child_id } => self.birth_certificates.contains_key(child_id),
            EvidenceRead::HouseholdRecord { person_id } => self.household_records.contains_key(person_id),
            EvidenceRead::Holdings { owner_id } => self.holdings.contains_key(owner_id),
            EvidenceRead::UnitUses { unit_no } => self.unit_uses.contains_key(unit_no),
            EvidenceRead::Permit { holder_id } => self.permits.contains_key(holder_id),
            EvidenceRead::InsuranceMonths { person_id, .. } => self.insurance_months.contains_key(person_id),
            EvidenceRead::CurrentPlace { child_id } => self.current_places.contains_key(child_id),
            EvidenceRead::AddressText { text } => self.address_matches.contains_key(text),
            EvidenceRead::Building { building_key } => self.buildings.contains_key(building_key),
        }
    }

    /// Every record cited by the bundle, sorted.
    pub fn sources(&self) -> BTreeSet<RecordRef> {
        fn refs<K, T>(m: &BTreeMap<K, Fetched<T>>) -> impl Iterator<Item = RecordRef> + '_ {
            m.values().map(|f| f.source.clone())
        }
        refs(&self.birth_certificates)
            .chain(refs(&self.household_records))
            .chain(refs(&self.holdings))
            .chain(refs(&self.unit_uses))
            .chain(refs(&self.permits))
            .chain(refs(&self.insurance_months))
            .chain(refs(&self.current_places))
            .chain(refs(&self.address_matches))
            .chain(refs(&self.buildings))
            .collect()
    }
}
