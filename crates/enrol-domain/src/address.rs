//! 标准地址编码: room-level address codes, building keys and county codes.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// What is wrong with an address code, building key or county code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AddressCodeError {
    #[error("{kind} {input:?} is not of the form {pattern}")]
    Shape {
        kind: &'static str,
        input: String,
        pattern: &'static str,
    },
}

/// Checks `input` against groups of ASCII digits of the given lengths joined by `-`.
fn digit_groups(input: &str, lengths: &[usize]) -> bool {
    let groups: Vec<&str> = input.split('-').collect();
    groups.len() == lengths.len()
        && groups
            .iter()
            .zip(lengths)
            .all(|(g, &n)| g.len() == n && g.bytes().all(|b| b.is_ascii_digit()))
}

macro_rules! code_type {
    ($(#[$doc:meta])* $name:ident, $kind:literal, $pattern:literal, $lengths:expr) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(String);

        impl $name {
            pub fn parse(input: &str) -> Result<Self, AddressCodeError> {
                if digit_groups(input, &$lengths) {
                    Ok(Self(input.to_owned()))
                } else {
                    Err(AddressCodeError::Shape { kind: $kind, input: input.to_owned(), pattern: $pattern })
                }
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({})", stringify!($name), self.0)
            }
        }

        impl FromStr for $name {
            type Err = AddressCodeError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::parse(s)
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(&self.0)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let raw = String::deserialize(d)?;
                Self::parse(&raw).map_err(serde::de::Error::custom)
            }
        }
    };
}

code_type!(
    /// A room-level address code (标准地址编码) `CCCCCC-SSS-BBBBB-UU-RRRR`:
    /// county, street, building, unit, room. Two addresses are the same
    /// dwelling when their codes are equal.
    AddressCode, "address code", "CCCCCC-SSS-BBBBB-UU-RRRR (digits)", [6, 3, 5, 2, 4]
);

code_type!(
    /// The first three groups of an address code, `CCCCCC-SSS-BBBBB`: school
    /// zones (学区) are drawn per building.
    BuildingKey, "building key", "CCCCCC-SSS-BBBBB (digits)", [6, 3, 5]
);

code_type!(
    /// A six-digit county code (区县代码), the first group of an address code
    /// and the `region` of a household record.
    CountyCode, "county code", "six digits", [6]
);

impl AddressCode {
    pub fn building_key(&self) -> BuildingKey {
        BuildingKey(self.0[..16].to_owned())
    }

    pub fn county(&self) -> CountyCode {
        CountyCode(self.0[..6].to_owned())
    }

    /// Builds the room-level code of a unit and room in a building.
    pub fn in_building(building: &BuildingKey, unit: u8, room: u16) -> Option<Self> {
        (unit < 100 && room < 10_000).then(|| AddressCode(format!("{}-{unit:02}-{room:04}", building.0)))
    }
}

impl BuildingKey {
    pub fn county(&self) -> CountyCode {
        CountyCode(self.0[..6].to_owned())
    }
}

impl CountyCode {
    /// Whether the county lies in a region given by a code prefix such as `3708`.
    pub fn in_region(&self, prefix: &str) -> bool {
        self.0.starts_with(prefix)
    }
}

/// An address as a registry records it: a room-level code, or for older
/// records text only (`code` absent), to be resolved through the zone registry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Address {
    pub code: Option<AddressCode>,
    pub text: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_codes_and_derives_keys() {
        let code = AddressCode::parse("370811-012-00143-02-0501").unwrap();
        assert_eq!(code.building_key().as_str(), "370811-012-00143");
        assert_eq!(code.county().as_str(), "370811");
        assert!(code.county().in_region("3708"));
        assert!(!code.county().in_region("3709"));
        let key = BuildingKey::parse("370811-012-00143").unwrap();
        assert_eq!(AddressCode::in_building(&key, 2, 501), Some(code));
    }

    #[test]
    fn rejects_malformed_codes() {
        for bad in [
            "370811-012-00143-02-501",
            "370811-012-00143",
            "37081a-012-00143-02-0501",
            "",
            "370811012001430205010",
        ] {
            let err = AddressCode::parse(bad).unwrap_err();
            assert!(err.to_string().contains("address code"), "{err}");
        }
        assert!(BuildingKey::parse("370811-012-00143-02-0501").is_err());
        assert!(CountyCode::parse("37081").is_err());
    }

    #[test]
    fn address_json_allows_text_only() {
        let a: Address = serde_json::from_str(r#"{"code": null, "text": "太白中路 143号 2单元 501室"}"#).unwrap();
        assert_eq!(a.code, None);
        assert_eq!(a.text, "太白中路 143号 2单元 501室");
    }
}
