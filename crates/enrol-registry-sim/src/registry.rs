//! The seven registries, named by the first segment of their paths.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// One of the seven government registries of `registries.md`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Registry {
    /// Household registry (公安户籍), `/hukou/v1`.
    Hukou,
    /// Birth registry (卫健 出生医学证明), `/birth/v1`.
    Birth,
    /// Property registry (不动产登记), `/property/v1`.
    Property,
    /// Residence-permit registry (居住证), `/residence/v1`.
    Residence,
    /// Social-insurance registry (人社), `/social-insurance/v1`.
    SocialInsurance,
    /// School-zone registry (教育 学区划片), `/zones/v1`.
    Zones,
    /// Enrolment-history registry (教育 学籍与学位使用), `/enrolment-history/v1`.
    EnrolmentHistory,
}

impl Registry {
    /// All seven, in a fixed order.
    pub const ALL: [Registry; 7] = [
        Registry::Hukou,
        Registry::Birth,
        Registry::Property,
        Registry::Residence,
        Registry::SocialInsurance,
        Registry::Zones,
        Registry::EnrolmentHistory,
    ];

    /// The first path segment, e.g. `social-insurance`.
    pub fn segment(self) -> &'static str {
        match self {
            Registry::Hukou => "hukou",
            Registry::Birth => "birth",
            Registry::Property => "property",
            Registry::Residence => "residence",
            Registry::SocialInsurance => "social-insurance",
            Registry::Zones => "zones",
            Registry::EnrolmentHistory => "enrolment-history",
        }
    }

    /// The registry whose first path segment is `segment`.
    pub fn from_segment(segment: &str) -> Option<Registry> {
        Registry::ALL.into_iter().find(|r| r.segment() == segment)
    }

    /// Position in [`Registry::ALL`]; used as the registry's RNG stream.
    pub fn index(self) -> usize {
        self as usize
    }
}

impl fmt::Display for Registry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.segment())
    }
}

/// A name that is not one of the seven registries.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown registry `{0}` (expected one of hukou, birth, property, residence, social-insurance, zones, enrolment-history)"
)]
pub struct UnknownRegistry(pub String);

impl FromStr for Registry {
    type Err = UnknownRegistry;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Registry::from_segment(s).ok_or_else(|| UnknownRegistry(s.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_round_trip_and_index_matches_all() {
        for (i, r) in Registry::ALL.into_iter().enumerate() {
            assert_eq!(r.index(), i);
            assert_eq!(r.segment().parse::<Registry>(), Ok(r));
            assert_eq!(r.to_string(), r.segment());
        }
        assert!("insurance".parse::<Registry>().is_err());
    }
}
