//! The registries' response bodies (registries.md), one struct per line of a
//! fixture file. Field order follows the registry examples, so the JSON reads
//! like the agencies' own.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use enrol_domain::{AddressCode, BuildingKey, CountyCode, NationalId, SchoolId};
use serde::{Deserialize, Serialize};

/// An address as a registry writes it: a room-level code (absent on older
/// records, written `null`) and the registry's own text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WireAddress {
    pub code: Option<AddressCode>,
    pub text: String,
}

/// Sex on a household record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Sex {
    M,
    F,
}

/// 与户主关系.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Relation {
    Head,
    Spouse,
    Child,
    Grandchild,
    Parent,
    Grandparent,
    Other,
}

/// §1 a household record (户籍).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Person {
    pub id: NationalId,
    pub name: String,
    pub sex: Sex,
    pub birth_date: NaiveDate,
    pub household_no: String,
    pub relation_to_head: Relation,
    pub registered_on: NaiveDate,
    pub region: CountyCode,
    pub address: WireAddress,
}

/// §2 a birth certificate (出生医学证明).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Birth {
    pub certificate_no: String,
    pub child_id: NationalId,
    pub child_name: String,
    pub birth_date: NaiveDate,
    pub mother_id: NationalId,
    pub father_id: Option<NationalId>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Usage {
    Residential,
    Commercial,
    Industrial,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UnitStatus {
    Normal,
    Sealed,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Owner {
    pub id: NationalId,
    pub share_pct: u32,
}

/// §3 a property unit (不动产单元).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Property {
    pub unit_no: String,
    pub address: WireAddress,
    pub usage: Usage,
    pub registered_on: NaiveDate,
    pub status: UnitStatus,
    pub owners: Vec<Owner>,
}

/// §4 a residence permit (居住证).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Permit {
    pub permit_no: String,
    pub holder_id: NationalId,
    pub address: WireAddress,
    pub issued_on: NaiveDate,
    pub valid_until: NaiveDate,
}

/// §5 every month on file of a person's social insurance, ascending (`YYYY-MM`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Insurance {
    pub id: NationalId,
    pub months: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SchoolKind {
    Public,
    Private,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    Primary,
    Junior,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Location {
    pub lat: f64,
    pub lon: f64,
}

/// §6 a school. `capacity` is keyed by entry year as a string (`"2027"`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct School {
    pub id: SchoolId,
    pub name: String,
    pub kind: SchoolKind,
    pub stage: Stage,
    pub county: CountyCode,
    pub capacity: BTreeMap<String, u32>,
    pub location: Location,
    /// 对口直升: the public junior schools a primary school is paired with; absent when none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub feeds: Vec<SchoolId>,
}

/// §6 a building plus the canonical parts of its address (`buildings.jsonl`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Building {
    pub building_key: BuildingKey,
    pub schools: Vec<SchoolId>,
    pub location: Location,
    pub city: String,
    pub county: String,
    pub street: String,
    pub road: String,
    pub number: u32,
}

/// §7 one place granted on the strength of a unit (学位使用记录).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeatUse {
    pub year: i32,
    pub school_id: SchoolId,
    pub child_id: NationalId,
}

/// §7 a unit's uses.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnitUses {
    pub unit_no: String,
    pub uses: Vec<SeatUse>,
}

/// §7 where a child is at school now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChildPlace {
    pub child_id: NationalId,
    pub school_id: SchoolId,
    pub grade: u8,
}
