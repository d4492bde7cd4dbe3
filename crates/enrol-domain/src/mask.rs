//! Masked forms for the public notice (公示): a child's name and national ID
//! as a bureau posts them, so that a family recognises its own line and a
//! passer-by learns neither.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::NationalId;

/// A name with all but its first and last characters hidden (`李*雨`); a
/// two-character name keeps its first (`李*`), a one-character name is all
/// hidden. The engine keeps only this form of a child's name: it is what the
/// notice needs, and no more.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct MaskedName(String);

impl MaskedName {
    /// Masks `name` (surrounding white space ignored). `None` for a blank name.
    pub fn mask(name: &str) -> Option<MaskedName> {
        let chars: Vec<char> = name.trim().chars().collect();
        let masked: String = match chars.len() {
            0 => return None,
            1 => "*".to_owned(),
            2 => format!("{}*", chars[0]),
            n => {
                let mut out = String::new();
                out.push(chars[0]);
                out.extend(std::iter::repeat_n('*', n - 2));
                out.push(chars[n - 1]);
                out
            }
        };
        Some(MaskedName(masked))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for MaskedName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A national ID with its birth date and sequence hidden: the first four and
/// the last four characters stay (`3708**********1034`).
pub fn mask_national_id(id: &NationalId) -> String {
    let text = id.as_str();
    format!("{}{}{}", &text[..4], "*".repeat(10), &text[14..])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_keep_only_their_ends() {
        let m = |s: &str| MaskedName::mask(s).map(|m| m.0);
        assert_eq!(m("李小雨").as_deref(), Some("李*雨"));
        assert_eq!(m(" 欧阳小雨 ").as_deref(), Some("欧**雨"));
        assert_eq!(m("李雨").as_deref(), Some("李*"));
        assert_eq!(m("雨").as_deref(), Some("*"));
        assert_eq!(m("  "), None);
    }

    #[test]
    fn ids_keep_four_and_four() {
        let id = NationalId::parse("370811202102141034").unwrap();
        assert_eq!(mask_national_id(&id), "3708**********1034");
        let x = NationalId::parse("34010220201202124X").unwrap();
        assert_eq!(mask_national_id(&x), "3401**********124X");
    }
}
