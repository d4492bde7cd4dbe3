//! The allocation instance and result of formats.md ("Allocation instance and result").
//!
//! These types are the published JSON, field for field: an auditor re-runs the
//! allocation from exactly what they hold.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// The mechanism (录取机制) that turns preferences and school orders into seats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Mechanism {
    /// Student-proposing deferred acceptance (学生提议的延迟接受): the policy's mechanism.
    #[serde(rename = "deferred-acceptance")]
    DeferredAcceptance,
    /// Immediate acceptance, the Boston mechanism (志愿优先): in round k every
    /// unplaced applicant applies to its k-th choice and each school keeps the
    /// best applicants up to its remaining seats, for good.
    #[serde(rename = "immediate-acceptance")]
    ImmediateAcceptance,
}

/// An admission round reduced to what the mechanism needs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Instance {
    pub mechanism: Mechanism,
    /// Whether policy.md's overflow step (统筹安排) follows the mechanism.
    #[serde(default)]
    pub overflow: bool,
    pub schools: Vec<School>,
    pub applicants: Vec<Applicant>,
}

/// A school of the round with its seats for the entry year.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct School {
    pub id: String,
    /// Seats for the entry year (招生计划); 0 means no seats.
    pub capacity: u32,
    /// Public (公办) or private (民办). Needed only by overflow.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public: Option<bool>,
    /// County code (区县, six digits). Needed only by overflow, for public schools.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub county: Option<String>,
    /// Needed only by overflow, for public schools.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<Location>,
}

/// A point on the map in WGS-84 degrees.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Location {
    pub lat: f64,
    pub lon: f64,
}

/// One eligible child, as the mechanism sees it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Applicant {
    /// The application id; the result is keyed by it.
    pub id: String,
    /// The lottery number (电脑随机派位): exactly 16 lower-case hex digits, see [`Lottery`].
    pub lottery: String,
    /// Best tier held at any public school (1 = `tier1`); absent for none. Used by overflow.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub best_tier: Option<u32>,
    /// The home of policy.md ("Preferences"); absent when unknown. Used by overflow.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub home: Option<Home>,
    /// Schools in preference order (志愿), each with the applicant's order key there.
    #[serde(default)]
    pub choices: Vec<Choice>,
}

/// The home's county and, when the zone registry knows the building, its location.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Home {
    /// County code: the first six digits of the home's address code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub county: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lat: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lon: Option<f64>,
}

/// One listed school and the applicant's order key there.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Choice {
    pub school: String,
    /// Compared left to right, lower first; a prefix of a longer key comes first
    /// (policy.md: `[tier, sibling, value]`).
    pub key: Vec<i64>,
}

/// The result: every applicant's seat, and who got theirs from overflow.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Allocation {
    /// Applicant id to school id, or `None` (JSON `null`) for no seat; ids ascending.
    pub assignments: BTreeMap<String, Option<String>>,
    /// Ids placed by the overflow step, ascending.
    pub overflow: Vec<String>,
}

impl Allocation {
    /// The result JSON of formats.md: pretty-printed (two-space indent), with a
    /// trailing newline, so that a published file diffs line by line.
    pub fn to_json(&self) -> Result<String, serde_json::Error> {
        let mut out = serde_json::to_string_pretty(self)?;
        out.push('\n');
        Ok(out)
    }
}

/// A lottery number (电脑随机派位号): an unsigned 64-bit number written as exactly
/// 16 lower-case hex digits. Ordered as the number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Lottery(u64);

impl Lottery {
    pub const fn new(value: u64) -> Self {
        Self(value)
    }

    pub const fn value(self) -> u64 {
        self.0
    }
}

/// A lottery string that is not exactly 16 lower-case hex digits.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a lottery number must be exactly 16 lower-case hex digits, not {0:?}")]
pub struct LotteryError(pub String);

impl FromStr for Lottery {
    type Err = LotteryError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let well_formed = text.len() == 16 && text.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        if !well_formed {
            return Err(LotteryError(text.to_owned()));
        }
        u64::from_str_radix(text, 16)
            .map(Lottery)
            .map_err(|_| LotteryError(text.to_owned()))
    }
}

impl fmt::Display for Lottery {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:016x}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lottery_round_trips_and_orders_as_a_number() {
        let low: Lottery = "00000000000000ff".parse().unwrap();
        let high: Lottery = "f000000000000000".parse().unwrap();
        assert_eq!(low.value(), 255);
        assert_eq!(high.value(), 0xf000_0000_0000_0000);
        assert!(low < high);
        assert_eq!(high.to_string(), "f000000000000000");
        assert_eq!(Lottery::new(1).to_string(), "0000000000000001");
    }

    #[test]
    fn lottery_refuses_anything_but_sixteen_lower_hex_digits() {
        for bad in [
            "",
            "9f2c4e1a07b3d65",
            "9f2c4e1a07b3d6580",
            "9F2C4E1A07B3D658",
            "+f2c4e1a07b3d658",
            "9f2c4e1a07b3d65g",
            " f2c4e1a07b3d658",
            "0x2c4e1a07b3d658",
        ] {
            assert_eq!(bad.parse::<Lottery>(), Err(LotteryError(bad.to_owned())), "{bad:?}");
        }
    }

    #[test]
    fn mechanism_names_are_the_formats_md_strings() {
        assert_eq!(
            serde_json::to_string(&Mechanism::DeferredAcceptance).unwrap(),
            "\"deferred-acceptance\""
        );
        assert_eq!(
            serde_json::from_str::<Mechanism>("\"immediate-acceptance\"").unwrap(),
            Mechanism::ImmediateAcceptance
        );
    }
}
