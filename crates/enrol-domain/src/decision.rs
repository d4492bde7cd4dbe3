//! Decisions (formats.md, "Decision") and what the allocation needs beyond them.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use uuid::Uuid;

use crate::{AddressCode, CountyCode, GeoPoint, NationalId, SchoolId, UnitNo};

/// The status of policy.md, "Status".
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Eligible,
    /// 人工审核: an officer decides; never allocated until then.
    Review,
    Ineligible,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Eligible => "eligible",
            Status::Review => "review",
            Status::Ineligible => "ineligible",
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The priority name given at a private school (民办: lottery only).
pub const LOTTERY_PRIORITY: &str = "lottery";

/// A child's standing at one school.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SchoolPriority {
    pub school_id: SchoolId,
    /// A tier's name from the policy file, or `lottery`.
    pub priority: String,
    /// A verified sibling is at the school in a grade that counts.
    pub sibling: bool,
    /// The order key `[tier, sibling, value]`: lower first.
    pub key: Vec<i64>,
}

/// The lottery number (电脑随机派位): an unsigned 64-bit number written as 16
/// lower-case hex digits.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LotteryNumber(pub u64);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{input:?} is not a lottery number of 16 lower-case hex digits")]
pub struct LotteryNumberError {
    pub input: String,
}

impl LotteryNumber {
    pub fn parse(input: &str) -> Result<Self, LotteryNumberError> {
        let ok = input.len() == 16 && input.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        if !ok {
            return Err(LotteryNumberError {
                input: input.to_owned(),
            });
        }
        u64::from_str_radix(input, 16)
            .map(LotteryNumber)
            .map_err(|_| LotteryNumberError {
                input: input.to_owned(),
            })
    }
}

impl fmt::Display for LotteryNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:016x}", self.0)
    }
}

impl fmt::Debug for LotteryNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "LotteryNumber({self})")
    }
}

impl FromStr for LotteryNumber {
    type Err = LotteryNumberError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl Serialize for LotteryNumber {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for LotteryNumber {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(d)?;
        Self::parse(&raw).map_err(serde::de::Error::custom)
    }
}

/// A reason a family can read, in Chinese and English, citing the records it
/// rests on as `registry:record`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reason {
    /// Stable snake_case code, listed in docs/.
    pub code: String,
    pub zh: String,
    pub en: String,
    pub evidence: Vec<String>,
}

/// One line of `decisions.jsonl`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Decision {
    pub application_id: Uuid,
    pub child_id: NationalId,
    pub status: Status,
    /// In preference order; empty unless eligible.
    pub schools: Vec<SchoolPriority>,
    pub preferences: Vec<SchoolId>,
    /// Present once the round seed is known, and only for an eligible child.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lottery: Option<LotteryNumber>,
    pub reasons: Vec<Reason>,
}

/// The home of policy.md ("Preferences"): where distances are measured from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Home {
    pub dwelling: AddressCode,
    pub county: CountyCode,
    /// Its building's location in the zone registry; `None` when unknown.
    pub location: Option<GeoPoint>,
}

/// What the rules decide for one application: the published decision plus
/// what the allocation needs that the decision format does not carry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evaluation {
    pub decision: Decision,
    /// Rank (1 = best) of the best tier held at any public school; `None` for no tier.
    pub best_tier: Option<u32>,
    pub home: Option<Home>,
    /// For each school where the priority is a tier that rests on a property
    /// unit (tier1/tier2 in the sample policy): the unit a seat there uses.
    pub seat_units: BTreeMap<SchoolId, UnitNo>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lottery_numbers_are_sixteen_lower_hex() {
        let n = LotteryNumber::parse("9f2c4e1a07b3d658").unwrap();
        assert_eq!(n.0, 0x9f2c4e1a07b3d658);
        assert_eq!(n.to_string(), "9f2c4e1a07b3d658");
        assert_eq!(LotteryNumber(1).to_string(), "0000000000000001");
        for bad in [
            "9F2C4E1A07B3D658",
            "9f2c4e1a07b3d65",
            "9f2c4e1a07b3d6580",
            "+f2c4e1a07b3d658",
            "9f2c4e1a07b3d65g",
        ] {
            assert!(LotteryNumber::parse(bad).is_err(), "{bad}");
        }
    }
}
