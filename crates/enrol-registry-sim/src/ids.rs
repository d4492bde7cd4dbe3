//! Identifier and calendar formats of `registries.md` ("Identifiers", "Common rules").
//!
//! The simulator validates these itself rather than through the adapters' code: it is an
//! independent implementation of the registries' contract.

/// Why a national ID (居民身份证号码) is bad input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NationalIdError {
    /// Not 18 characters.
    #[error("a national ID has 18 characters, this has {0}")]
    Length(usize),
    /// A character other than a digit (or a final `X`/`x`).
    #[error("a national ID is 17 digits and a check character (digit or X)")]
    Characters,
    /// The birth date (characters 7 to 14) is not a real day.
    #[error("the birth date {0} in the national ID is not a real day")]
    BirthDate(String),
    /// The check character does not match (ISO 7064 MOD 11-2).
    #[error("check character should be {expected}, is {found}")]
    Checksum {
        /// The check character the first 17 digits call for.
        expected: char,
        /// The check character given.
        found: char,
    },
}

const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const CHECK: [char; 11] = ['1', '0', 'X', '9', '8', '7', '6', '5', '4', '3', '2'];

/// Validates a national ID (GB 11643-1999) and returns its canonical form (upper-case `X`).
pub fn canonical_national_id(raw: &str) -> Result<String, NationalIdError> {
    let chars: Vec<char> = raw.chars().collect();
    if chars.len() != 18 {
        return Err(NationalIdError::Length(chars.len()));
    }
    if !chars[..17].iter().all(char::is_ascii_digit) {
        return Err(NationalIdError::Characters);
    }
    let last = chars[17].to_ascii_uppercase();
    if !(last.is_ascii_digit() || last == 'X') {
        return Err(NationalIdError::Characters);
    }
    let birth = &raw[6..14];
    if !is_real_day(&birth[0..4], &birth[4..6], &birth[6..8]) {
        return Err(NationalIdError::BirthDate(birth.to_owned()));
    }
    let sum: u32 = chars[..17]
        .iter()
        .zip(WEIGHTS)
        .map(|(c, w)| c.to_digit(10).unwrap_or(0) * w)
        .sum();
    let expected = CHECK[(sum % 11) as usize];
    if expected != last {
        return Err(NationalIdError::Checksum {
            expected,
            found: chars[17],
        });
    }
    let mut canonical = raw[..17].to_owned();
    canonical.push(last);
    Ok(canonical)
}

/// Appends the check character to 17 digits; `None` when they are not 17 ASCII digits.
/// Used to build test data.
pub fn with_check_character(first17: &str) -> Option<String> {
    if first17.len() != 17 || !first17.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let sum: u32 = first17.bytes().zip(WEIGHTS).map(|(b, w)| u32::from(b - b'0') * w).sum();
    let mut id = first17.to_owned();
    id.push(CHECK[(sum % 11) as usize]);
    Some(id)
}

fn all_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

fn is_leap(year: u32) -> bool {
    (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400)
}

fn is_real_day(year: &str, month: &str, day: &str) -> bool {
    if !(year.len() == 4 && month.len() == 2 && day.len() == 2) {
        return false;
    }
    let (Ok(y), Ok(m), Ok(d)) = (year.parse::<u32>(), month.parse::<u32>(), day.parse::<u32>()) else {
        return false;
    };
    if !(all_digits(year) && all_digits(month) && all_digits(day)) {
        return false;
    }
    let days_in_month = match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap(y) => 29,
        2 => 28,
        _ => return false,
    };
    (1..=days_in_month).contains(&d)
}

/// `YYYY-MM-DD`, a real day.
pub fn is_date(s: &str) -> bool {
    s.len() == 10
        && s.as_bytes()[4] == b'-'
        && s.as_bytes()[7] == b'-'
        && s.is_char_boundary(4)
        && s.is_char_boundary(5)
        && s.is_char_boundary(7)
        && s.is_char_boundary(8)
        && is_real_day(&s[0..4], &s[5..7], &s[8..10])
}

/// `YYYY-MM`, month 01 to 12.
pub fn is_month(s: &str) -> bool {
    s.len() == 7
        && s.as_bytes()[4] == b'-'
        && s.is_char_boundary(4)
        && s.is_char_boundary(5)
        && all_digits(&s[0..4])
        && all_digits(&s[5..7])
        && matches!(s[5..7].parse::<u32>(), Ok(1..=12))
}

/// Groups of ASCII digits separated by `-`, with the given lengths.
fn is_digit_groups(s: &str, lengths: &[usize]) -> bool {
    let groups: Vec<&str> = s.split('-').collect();
    groups.len() == lengths.len() && groups.iter().zip(lengths).all(|(g, &n)| g.len() == n && all_digits(g))
}

/// Room-level address code (标准地址编码) `CCCCCC-SSS-BBBBB-UU-RRRR`.
pub fn is_address_code(s: &str) -> bool {
    is_digit_groups(s, &[6, 3, 5, 2, 4])
}

/// Building key `CCCCCC-SSS-BBBBB`: the first three groups of an address code.
pub fn is_building_key(s: &str) -> bool {
    is_digit_groups(s, &[6, 3, 5])
}

/// Six-digit county code.
pub fn is_county_code(s: &str) -> bool {
    is_digit_groups(s, &[6])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn national_id_checksum_and_canonical_x() {
        // 11010519491231002X is the standard's worked example.
        assert_eq!(
            canonical_national_id("11010519491231002x").as_deref(),
            Ok("11010519491231002X")
        );
        assert_eq!(
            canonical_national_id("11010519491231002X").as_deref(),
            Ok("11010519491231002X")
        );
        assert!(matches!(
            canonical_national_id("110105194912310021"),
            Err(NationalIdError::Checksum { expected: 'X', .. })
        ));
        assert_eq!(
            with_check_character("11010519491231002").as_deref(),
            Some("11010519491231002X")
        );
    }

    #[test]
    fn national_id_rejects_bad_shapes() {
        assert_eq!(canonical_national_id("1234"), Err(NationalIdError::Length(4)));
        assert_eq!(
            canonical_national_id("11010519491231X02X"),
            Err(NationalIdError::Characters)
        );
        assert_eq!(
            canonical_national_id("１１０１０５１９４９１２３１００２X"),
            Err(NationalIdError::Characters)
        );
        let feb30 = with_check_character("37081120210230002").unwrap_or_default();
        assert!(matches!(
            canonical_national_id(&feb30),
            Err(NationalIdError::BirthDate(_))
        ));
        let leap = with_check_character("37081120200229002").unwrap_or_default();
        assert!(canonical_national_id(&leap).is_ok());
    }

    #[test]
    fn dates_months_and_codes() {
        assert!(is_date("2020-02-29"));
        assert!(!is_date("2021-02-29"));
        assert!(!is_date("2021-2-09"));
        assert!(!is_date("2021-13-01"));
        assert!(!is_date("2021-01-00"));
        assert!(!is_date("２０２１-01-01"));
        assert!(is_month("2025-05"));
        assert!(!is_month("2025-5"));
        assert!(!is_month("2025-00"));
        assert!(!is_month("2025-13"));
        assert!(is_address_code("370811-012-00143-02-0501"));
        assert!(!is_address_code("370811-012-00143-2-0501"));
        assert!(!is_address_code("370811-012-00143"));
        assert!(is_building_key("370811-012-00143"));
        assert!(!is_building_key("370811-012-0014a"));
        assert!(is_county_code("370811"));
        assert!(!is_county_code("37081"));
    }
}
