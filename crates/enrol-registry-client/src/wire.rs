//! Wire pieces every registry shares.

use chrono::NaiveDate;
use enrol_domain::{AddressCode, RecordRef};
use serde::de::Error as _;
use serde::{Deserialize, Deserializer};

use crate::error::ReadError;

/// An address as the registries write it: a room-level code, or text only
/// (`"code": null`) in older records.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct WireAddress {
    pub code: Option<String>,
    pub text: String,
}

impl WireAddress {
    /// The engine's address; a code that is not `CCCCCC-SSS-BBBBB-UU-RRRR`
    /// is malformed, and so is an address with neither code nor text.
    pub fn into_domain(self, record: &RecordRef, field: &str) -> Result<enrol_domain::Address, ReadError> {
        let code = self
            .code
            .map(|c| AddressCode::parse(&c))
            .transpose()
            .map_err(|e| ReadError::Malformed {
                record: record.clone(),
                detail: format!("at `{field}.code`: {e}"),
            })?;
        if code.is_none() && self.text.trim().is_empty() {
            return Err(ReadError::Malformed {
                record: record.clone(),
                detail: format!("at `{field}`: neither a code nor a text"),
            });
        }
        Ok(enrol_domain::Address { code, text: self.text })
    }
}

/// A registry's date, exactly `YYYY-MM-DD` (registries.md, "Common rules"),
/// for `#[serde(deserialize_with = "…::wire::date")]`. chrono's own reading
/// also takes a one-digit month or day, leading spaces and a signed year: an
/// answer that breaks the format that way is unusable, not read as a date.
/// The error never holds the text (a birth date is personal data).
pub fn date<'de, D: Deserializer<'de>>(deserializer: D) -> Result<NaiveDate, D::Error> {
    let text = std::borrow::Cow::<'de, str>::deserialize(deserializer)?;
    let bytes = text.as_bytes();
    let shaped = bytes.len() == 10
        && bytes.iter().enumerate().all(|(i, c)| match i {
            4 | 7 => *c == b'-',
            _ => c.is_ascii_digit(),
        });
    if !shaped {
        return Err(D::Error::custom("not a YYYY-MM-DD date"));
    }
    NaiveDate::parse_from_str(&text, "%Y-%m-%d").map_err(|_| D::Error::custom("not a calendar date"))
}

/// Fails as malformed unless `value` has some non-blank text: an empty
/// identifier would silently equal every other empty one.
pub fn non_blank(record: &RecordRef, field: &str, value: String) -> Result<String, ReadError> {
    if value.trim().is_empty() {
        Err(ReadError::Malformed {
            record: record.clone(),
            detail: format!("`{field}` is empty"),
        })
    } else {
        Ok(value)
    }
}

/// Fails as malformed unless `items` are strictly ascending by `key` (the
/// interface promises sorted lists without repeats).
pub fn strictly_ascending<T, K: Ord + std::fmt::Debug>(
    record: &RecordRef,
    what: &str,
    items: &[T],
    key: impl Fn(&T) -> K,
) -> Result<(), ReadError> {
    for (i, pair) in items.windows(2).enumerate() {
        let (a, b) = (key(&pair[0]), key(&pair[1]));
        if a >= b {
            return Err(ReadError::Malformed {
                record: record.clone(),
                detail: format!("{what} not strictly ascending: {a:?} at {i} then {b:?} at {}", i + 1),
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use enrol_domain::Registry;

    use super::*;

    #[test]
    fn addresses_need_a_valid_code_or_text() {
        let r = RecordRef::new(Registry::Hukou, "x");
        let ok = WireAddress {
            code: None,
            text: "太白中路 143号 2单元 501室".into(),
        };
        assert_eq!(ok.clone().into_domain(&r, "address").map(|a| a.code), Ok(None));
        let bad = WireAddress {
            code: Some("370811-012-143-02-0501".into()),
            text: String::new(),
        };
        let err = bad.into_domain(&r, "address").unwrap_err();
        assert!(err.to_string().contains("at `address.code`"), "{err}");
        let empty = WireAddress {
            code: None,
            text: "  ".into(),
        };
        assert!(matches!(
            empty.into_domain(&r, "address"),
            Err(ReadError::Malformed { .. })
        ));
    }

    #[test]
    fn ascending_check_reports_the_offending_pair() {
        let r = RecordRef::new(Registry::Zones, "t");
        assert!(strictly_ascending(&r, "codes", &[1, 2, 3], |x| *x).is_ok());
        let err = strictly_ascending(&r, "codes", &[1, 3, 3], |x| *x).unwrap_err();
        assert!(err.to_string().contains("3 at 1 then 3 at 2"), "{err}");
    }
}
