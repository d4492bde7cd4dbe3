//! The registries' records, exactly as `registries.md` shows the response bodies.
//!
//! Each type deserialises one line of the fixture format (validating every field it can) and
//! serialises back to the response body. Validated scalar fields are newtypes whose
//! `Deserialize` checks the format, so a loader error names the field at fault.

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer, Serialize};

use crate::ids;

macro_rules! checked_string {
    ($(#[$doc:meta])* $name:ident, $check:expr, $what:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// The value as text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl std::str::FromStr for $name {
            type Err = InvalidValue;

            fn from_str(s: &str) -> Result<Self, InvalidValue> {
                let check: fn(&str) -> bool = $check;
                if check(s) {
                    Ok($name(s.to_owned()))
                } else {
                    Err(InvalidValue {
                        expected: $what,
                        found: s.to_owned(),
                    })
                }
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = String::deserialize(d)?;
                s.parse().map_err(serde::de::Error::custom)
            }
        }
    };
}

/// A value that does not have the format its field needs.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("expected {expected}, found {found:?}")]
pub struct InvalidValue {
    /// What the field needs, e.g. `a date YYYY-MM-DD`.
    pub expected: &'static str,
    /// The text given.
    pub found: String,
}

checked_string!(
    /// A calendar day `YYYY-MM-DD`.
    Date,
    ids::is_date,
    "a date YYYY-MM-DD"
);
checked_string!(
    /// A calendar month `YYYY-MM`.
    Month,
    ids::is_month,
    "a month YYYY-MM"
);
checked_string!(
    /// Room-level address code (标准地址编码) `CCCCCC-SSS-BBBBB-UU-RRRR`.
    AddressCode,
    ids::is_address_code,
    "an address code CCCCCC-SSS-BBBBB-UU-RRRR"
);
checked_string!(
    /// Building key `CCCCCC-SSS-BBBBB`.
    BuildingKey,
    ids::is_building_key,
    "a building key CCCCCC-SSS-BBBBB"
);
checked_string!(
    /// Six-digit county code.
    CountyCode,
    ids::is_county_code,
    "a six-digit county code"
);
checked_string!(
    /// Text that is not empty (names, numbers of certificates and units, school ids).
    Text,
    |s: &str| !s.trim().is_empty(),
    "non-empty text"
);
checked_string!(
    /// A four-digit entry year used as a key of `capacity`.
    YearKey,
    |s: &str| s.len() == 4 && s.bytes().all(|b| b.is_ascii_digit()),
    "a four-digit year"
);

/// A national ID (居民身份证号码) in canonical form (upper-case `X`); a lower-case `x` in a
/// fixture is accepted and canonicalised.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct NationalId(String);

impl NationalId {
    /// Validates and canonicalises.
    pub fn parse(raw: &str) -> Result<NationalId, ids::NationalIdError> {
        ids::canonical_national_id(raw).map(NationalId)
    }

    /// The canonical text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl<'de> Deserialize<'de> for NationalId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        NationalId::parse(&s).map_err(|e| serde::de::Error::custom(format!("invalid national ID {s:?}: {e}")))
    }
}

/// An address: a room-level code, text in the registry's own style, or both.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Address {
    /// `null` on older records that carry text only.
    #[serde(default)]
    pub code: Option<AddressCode>,
    /// The registry's own text (see "Address text").
    #[serde(default)]
    pub text: Option<String>,
}

/// Sex on the household record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Sex {
    /// Male.
    M,
    /// Female.
    F,
}

/// Relation to the head of household (与户主关系).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RelationToHead {
    /// 户主
    Head,
    /// 配偶
    Spouse,
    /// 子女
    Child,
    /// 孙子女
    Grandchild,
    /// 父母
    Parent,
    /// 祖父母
    Grandparent,
    /// 其他
    Other,
}

/// §1 a person's household registration (户籍).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Person {
    /// National ID.
    pub id: NationalId,
    /// Name.
    pub name: Text,
    /// `M` or `F`.
    pub sex: Sex,
    /// Birth date on the household record.
    pub birth_date: Date,
    /// 户号.
    pub household_no: Text,
    /// Relation to the head of household.
    pub relation_to_head: RelationToHead,
    /// 落户日期: the day the registration moved to this household.
    pub registered_on: Date,
    /// 户籍所在地: six-digit county code.
    pub region: CountyCode,
    /// Registered address.
    pub address: Address,
}

/// §2 a birth certificate (出生医学证明).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BirthCertificate {
    /// Certificate number.
    pub certificate_no: Text,
    /// The child.
    pub child_id: NationalId,
    /// The child's name.
    pub child_name: Text,
    /// Birth date on the certificate.
    pub birth_date: Date,
    /// Mother.
    pub mother_id: NationalId,
    /// Father, `null` when not named.
    #[serde(default)]
    pub father_id: Option<NationalId>,
}

/// Use of a property unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Usage {
    /// 住宅
    Residential,
    /// 商业
    Commercial,
    /// 工业
    Industrial,
}

/// Registration status of a property unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UnitStatus {
    /// 正常
    Normal,
    /// 查封
    Sealed,
}

/// An owner's share of a unit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Owner {
    /// Owner's national ID.
    pub id: NationalId,
    /// Whole percent, 0 to 100.
    #[serde(deserialize_with = "share_pct")]
    pub share_pct: u8,
}

fn share_pct<'de, D: Deserializer<'de>>(d: D) -> Result<u8, D::Error> {
    let n = serde_json::Number::deserialize(d)?;
    // A whole number; `50.0` is whole too and is served as `50`.
    let whole = n.as_u64().or_else(|| {
        n.as_f64()
            .filter(|f| f.fract() == 0.0 && (0.0..=100.0).contains(f))
            .map(|f| f as u64)
    });
    whole
        .and_then(|v| u8::try_from(v).ok())
        .filter(|p| *p <= 100)
        .ok_or_else(|| serde::de::Error::custom(format!("share_pct is a whole number 0 to 100, found {n}")))
}

/// §3 a property unit (不动产单元).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PropertyUnit {
    /// 不动产单元号.
    pub unit_no: Text,
    /// The unit's address.
    pub address: Address,
    /// `residential`, `commercial` or `industrial`.
    pub usage: Usage,
    /// Registration date.
    pub registered_on: Date,
    /// `normal` or `sealed`.
    pub status: UnitStatus,
    /// Owners and their shares.
    pub owners: Vec<Owner>,
}

/// §4 a residence permit (居住证).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Permit {
    /// Permit number.
    pub permit_no: Text,
    /// Holder.
    pub holder_id: NationalId,
    /// Residence address on the permit.
    pub address: Address,
    /// Issue day.
    pub issued_on: Date,
    /// Last valid day.
    pub valid_until: Date,
}

/// §5 a person's social-insurance months (社保缴费月数), all months on file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InsuranceMonths {
    /// The person.
    pub id: NationalId,
    /// Months with contributions in the city.
    pub months: Vec<Month>,
}

/// `public` or `private` (民办).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SchoolKind {
    /// 公办
    Public,
    /// 民办
    Private,
}

/// `primary` or `junior`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    /// 小学
    Primary,
    /// 初中
    Junior,
}

/// WGS84 latitude and longitude.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Location {
    /// Latitude, -90 to 90.
    #[serde(deserialize_with = "latitude")]
    pub lat: f64,
    /// Longitude, -180 to 180.
    #[serde(deserialize_with = "longitude")]
    pub lon: f64,
}

fn bounded<'de, D: Deserializer<'de>>(d: D, limit: f64, what: &str) -> Result<f64, D::Error> {
    let v = f64::deserialize(d)?;
    if v.is_finite() && (-limit..=limit).contains(&v) {
        Ok(v)
    } else {
        Err(serde::de::Error::custom(format!(
            "{what} is -{limit} to {limit}, found {v}"
        )))
    }
}

fn latitude<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    bounded(d, 90.0, "lat")
}

fn longitude<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    bounded(d, 180.0, "lon")
}

/// §6 a school.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct School {
    /// School id, e.g. `S014`.
    pub id: Text,
    /// Name.
    pub name: Text,
    /// `public` or `private`.
    pub kind: SchoolKind,
    /// `primary` or `junior`.
    pub stage: Stage,
    /// Six-digit county code.
    pub county: CountyCode,
    /// 核定学位: seats by entry year.
    pub capacity: BTreeMap<YearKey, u32>,
    /// Where it is.
    pub location: Location,
    /// 对口直升: the public junior schools a primary school is paired with
    /// (policy-junior.md); absent means none, and is served absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub feeds: Option<Vec<Text>>,
}

/// §6 a building with the canonical parts of its address (one line of `buildings.jsonl`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BuildingRecord {
    /// `CCCCCC-SSS-BBBBB`.
    pub building_key: BuildingKey,
    /// Public schools zoned for the building, as listed.
    pub schools: Vec<Text>,
    /// Where it is.
    pub location: Location,
    /// City, e.g. `济宁市`.
    pub city: Text,
    /// County, e.g. `任城区`.
    pub county: Text,
    /// Street (街道), e.g. `古槐街道`.
    pub street: Text,
    /// Road, e.g. `太白中路`.
    pub road: Text,
    /// House number on the road, e.g. `143`.
    pub number: u32,
}

/// §6 the body of `GET /zones/v1/buildings/{building_key}`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Building<'a> {
    /// The key.
    pub building_key: &'a BuildingKey,
    /// Zoned schools.
    pub schools: &'a [Text],
    /// Where it is.
    pub location: Location,
}

impl BuildingRecord {
    /// The response body (the gazetteer parts are not served).
    pub fn body(&self) -> Building<'_> {
        Building {
            building_key: &self.building_key,
            schools: &self.schools,
            location: self.location,
        }
    }
}

/// §7 a place granted on the strength of a unit (学位使用记录).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeatUse {
    /// Entry year.
    pub year: u16,
    /// School.
    pub school_id: Text,
    /// The child placed.
    pub child_id: NationalId,
}

/// §7 a unit's uses.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UnitUses {
    /// 不动产单元号.
    pub unit_no: Text,
    /// Places granted, as on file.
    pub uses: Vec<SeatUse>,
}

/// §7 where a child is at school now.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChildPlace {
    /// The child.
    pub child_id: NationalId,
    /// School.
    pub school_id: Text,
    /// Grade, 1 and up.
    #[serde(deserialize_with = "grade")]
    pub grade: u8,
}

fn grade<'de, D: Deserializer<'de>>(d: D) -> Result<u8, D::Error> {
    let v = u64::deserialize(d)?;
    u8::try_from(v)
        .ok()
        .filter(|g| (1..=12).contains(g))
        .ok_or_else(|| serde::de::Error::custom(format!("grade is 1 to 12, found {v}")))
}
