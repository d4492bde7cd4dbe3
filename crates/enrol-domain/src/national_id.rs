//! 居民身份证号码: the 18-character national ID of GB 11643-1999.

use std::fmt;
use std::str::FromStr;

use chrono::NaiveDate;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Weights of the ISO 7064 MOD 11-2 check, one per leading digit.
const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
/// Check character indexed by the weighted sum mod 11.
const CHECK_CHARS: [u8; 11] = *b"10X98765432";

/// A valid national ID (居民身份证号码) in canonical form (upper-case `X`).
///
/// Construction validates length, characters, the embedded birth date and the
/// check character, so holding one means it is well formed.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct NationalId(String);

/// What is wrong with a national ID.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NationalIdError {
    #[error("a national ID has 18 characters, this one has {found}")]
    Length { found: usize },
    #[error("character {position} of the national ID is {found:?}; expected a digit{}", if *position == 18 { " or X" } else { "" })]
    Character { position: usize, found: char },
    #[error("the national ID names an impossible birth date {digits}")]
    BirthDate { digits: String },
    #[error("the national ID fails its checksum: the check character should be {expected}, not {found}")]
    Checksum { expected: char, found: char },
}

impl NationalId {
    /// Parses and validates an ID; a lower-case `x` check character is canonicalised.
    pub fn parse(input: &str) -> Result<Self, NationalIdError> {
        let chars: Vec<char> = input.chars().collect();
        if chars.len() != 18 {
            return Err(NationalIdError::Length { found: chars.len() });
        }
        let mut canonical = String::with_capacity(18);
        for (i, &c) in chars.iter().enumerate() {
            let ok = c.is_ascii_digit() || (i == 17 && (c == 'X' || c == 'x'));
            if !ok {
                return Err(NationalIdError::Character {
                    position: i + 1,
                    found: c,
                });
            }
            canonical.push(c.to_ascii_uppercase());
        }
        let date_digits = &canonical[6..14];
        if parse_birth_date(date_digits).is_none() {
            return Err(NationalIdError::BirthDate {
                digits: date_digits.to_owned(),
            });
        }
        let expected = check_char(&canonical[..17]);
        let found = chars[17].to_ascii_uppercase();
        if expected != found {
            return Err(NationalIdError::Checksum { expected, found });
        }
        Ok(NationalId(canonical))
    }

    /// Builds an ID from its 17 leading digits by appending the check character.
    /// Generators and tests use it; `None` when the digits are not a valid prefix.
    pub fn from_prefix(first17: &str) -> Option<Self> {
        if first17.len() != 17 || !first17.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let mut s = first17.to_owned();
        s.push(check_char(first17));
        Self::parse(&s).ok()
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The birth date the ID encodes (digits 7 to 14).
    pub fn birth_date(&self) -> NaiveDate {
        parse_birth_date(&self.0[6..14]).expect("validated at construction")
    }

    /// The six-digit region code of the ID's issuing place.
    pub fn region_code(&self) -> &str {
        &self.0[..6]
    }

    /// Odd sequence numbers are male.
    pub fn is_male(&self) -> bool {
        (self.0.as_bytes()[16] - b'0') % 2 == 1
    }
}

fn parse_birth_date(digits: &str) -> Option<NaiveDate> {
    let year: i32 = digits[..4].parse().ok()?;
    let month: u32 = digits[4..6].parse().ok()?;
    let day: u32 = digits[6..8].parse().ok()?;
    // The standard covers people born since 1800.
    if year < 1800 {
        return None;
    }
    NaiveDate::from_ymd_opt(year, month, day)
}

fn check_char(first17: &str) -> char {
    let sum: u32 = first17.bytes().zip(WEIGHTS).map(|(b, w)| u32::from(b - b'0') * w).sum();
    char::from(CHECK_CHARS[(sum % 11) as usize])
}

impl fmt::Display for NationalId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for NationalId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "NationalId({})", self.0)
    }
}

impl FromStr for NationalId {
    type Err = NationalIdError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl AsRef<str> for NationalId {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl Serialize for NationalId {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for NationalId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(d)?;
        NationalId::parse(&raw).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_valid_ids_and_reads_them() {
        let id = NationalId::parse("11010519491231002X").unwrap();
        assert_eq!(id.as_str(), "11010519491231002X");
        assert_eq!(id.birth_date(), NaiveDate::from_ymd_opt(1949, 12, 31).unwrap());
        assert!(!id.is_male());
        assert_eq!(id.region_code(), "110105");
        let digit = NationalId::parse("370811202011150023").unwrap();
        assert_eq!(digit.to_string(), "370811202011150023");
    }

    #[test]
    fn canonicalises_lower_case_x() {
        let id = NationalId::parse("11010519491231002x").unwrap();
        assert_eq!(id.as_str(), "11010519491231002X");
        assert_eq!(id, NationalId::parse("11010519491231002X").unwrap());
    }

    #[test]
    fn rejects_wrong_length() {
        assert_eq!(
            NationalId::parse("1101051949123100"),
            Err(NationalIdError::Length { found: 16 })
        );
        assert_eq!(NationalId::parse(""), Err(NationalIdError::Length { found: 0 }));
        assert_eq!(
            NationalId::parse("11010519491231002X1"),
            Err(NationalIdError::Length { found: 19 })
        );
        // Counted in characters, not bytes.
        assert_eq!(NationalId::parse("一二三"), Err(NationalIdError::Length { found: 3 }));
    }

    #[test]
    fn rejects_bad_characters() {
        assert_eq!(
            NationalId::parse("11010519491231A02X"),
            Err(NationalIdError::Character {
                position: 15,
                found: 'A'
            })
        );
        assert_eq!(
            NationalId::parse("X10105194912310020"),
            Err(NationalIdError::Character {
                position: 1,
                found: 'X'
            })
        );
        assert_eq!(
            NationalId::parse("11010519491231002Y"),
            Err(NationalIdError::Character {
                position: 18,
                found: 'Y'
            })
        );
    }

    #[test]
    fn rejects_impossible_birth_dates() {
        for (first17, digits) in [
            ("11010520230229001", "20230229"),
            ("11010520201301001", "20201301"),
            ("11010520201100001", "20201100"),
            ("11010517991231001", "17991231"),
        ] {
            let mut s = first17.to_owned();
            s.push(check_char(first17));
            assert_eq!(
                NationalId::parse(&s),
                Err(NationalIdError::BirthDate {
                    digits: digits.to_owned()
                })
            );
        }
        // A leap day is possible in a leap year.
        assert!(NationalId::from_prefix("11010520200229001").is_some());
    }

    #[test]
    fn rejects_wrong_checksum() {
        assert_eq!(
            NationalId::parse("110105194912310021"),
            Err(NationalIdError::Checksum {
                expected: 'X',
                found: '1'
            })
        );
        assert_eq!(
            NationalId::parse("370811202011150024"),
            Err(NationalIdError::Checksum {
                expected: '3',
                found: '4'
            })
        );
    }

    #[test]
    fn errors_say_what_is_wrong() {
        let e = NationalId::parse("110105194912310021").unwrap_err();
        assert_eq!(
            e.to_string(),
            "the national ID fails its checksum: the check character should be X, not 1"
        );
    }

    #[test]
    fn serde_round_trips_and_validates() {
        let id: NationalId = serde_json::from_str("\"11010519491231002x\"").unwrap();
        assert_eq!(serde_json::to_string(&id).unwrap(), "\"11010519491231002X\"");
        let err = serde_json::from_str::<NationalId>("\"110105194912310021\"").unwrap_err();
        assert!(err.to_string().contains("checksum"), "{err}");
    }

    proptest::proptest! {
        #[test]
        fn from_prefix_always_parses(seq in 0u32..1000, day in 1u32..=28, month in 1u32..=12, year in 1950i32..2025) {
            let first17 = format!("370811{year:04}{month:02}{day:02}{seq:03}");
            let id = NationalId::from_prefix(&first17).unwrap();
            proptest::prop_assert_eq!(&id.as_str()[..17], first17.as_str());
            // Changing any one digit breaks the checksum or the date.
            let mut bytes = id.as_str().as_bytes().to_vec();
            bytes[16] = if bytes[16] == b'9' { b'0' } else { bytes[16] + 1 };
            proptest::prop_assert!(NationalId::parse(std::str::from_utf8(&bytes).unwrap()).is_err());
        }
    }
}
