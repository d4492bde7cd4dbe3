//! The instance as the allocation reads it: ids borrowed from the input text
//! (or from an owned [`Instance`]) and order keys packed inline, so reading a
//! city's instance allocates one vector per list and nothing per id or key.
//!
//! The same types are what the fast reader deserializes the JSON into
//! ([`parse`]) and what [`View::of`] lends an owned [`Instance`] as, so both
//! paths run the one validation and mechanism.

use std::borrow::Cow;
use std::fmt;

use serde::Deserialize;
use serde::de::{Deserializer, SeqAccess, Visitor};

use crate::instance::{Instance, Location, Mechanism};

/// An allocation instance, borrowed.
#[derive(Debug, Deserialize)]
pub(crate) struct View<'a> {
    pub mechanism: Mechanism,
    #[serde(default)]
    pub overflow: bool,
    #[serde(borrow)]
    pub schools: Vec<SchoolView<'a>>,
    #[serde(borrow)]
    pub applicants: Vec<ApplicantView<'a>>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct SchoolView<'a> {
    #[serde(borrow)]
    pub id: Cow<'a, str>,
    pub capacity: u32,
    #[serde(default)]
    pub public: Option<bool>,
    #[serde(default, borrow)]
    pub county: Option<Cow<'a, str>>,
    #[serde(default)]
    pub location: Option<Location>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct ApplicantView<'a> {
    #[serde(borrow)]
    pub id: Cow<'a, str>,
    #[serde(borrow)]
    pub lottery: Cow<'a, str>,
    #[serde(default)]
    pub best_tier: Option<u32>,
    #[serde(default, borrow)]
    pub home: Option<HomeView<'a>>,
    #[serde(default, borrow)]
    pub choices: Vec<ChoiceView<'a>>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct HomeView<'a> {
    #[serde(default, borrow)]
    pub county: Option<Cow<'a, str>>,
    #[serde(default)]
    pub lat: Option<f64>,
    #[serde(default)]
    pub lon: Option<f64>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct ChoiceView<'a> {
    #[serde(borrow)]
    pub school: Cow<'a, str>,
    #[serde(borrow)]
    pub key: Key<'a>,
}

/// An order key: up to [`Key::INLINE`] integers held inline (policy.md's keys
/// have two or three), longer ones in a vector of their own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Key<'a> {
    Inline { len: u8, values: [i64; Key::INLINE] },
    Long(Cow<'a, [i64]>),
}

impl Key<'_> {
    pub const INLINE: usize = 4;

    pub fn as_slice(&self) -> &[i64] {
        match self {
            Key::Inline { len, values } => &values[..usize::from(*len)],
            Key::Long(values) => values,
        }
    }

    fn of(values: &[i64]) -> Key<'_> {
        if values.len() <= Key::INLINE {
            let mut inline = [0; Key::INLINE];
            inline[..values.len()].copy_from_slice(values);
            Key::Inline {
                len: values.len() as u8,
                values: inline,
            }
        } else {
            Key::Long(Cow::Borrowed(values))
        }
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Key<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl<'de> Visitor<'de> for KeyVisitor {
            type Value = Key<'static>;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a sequence of integers")
            }

            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let mut values = [0i64; Key::INLINE];
                let mut len = 0;
                while len < Key::INLINE {
                    match seq.next_element::<i64>()? {
                        Some(v) => {
                            values[len] = v;
                            len += 1;
                        }
                        None => {
                            return Ok(Key::Inline { len: len as u8, values });
                        }
                    }
                }
                let mut long = values.to_vec();
                while let Some(v) = seq.next_element::<i64>()? {
                    long.push(v);
                }
                if long.len() == Key::INLINE {
                    return Ok(Key::Inline {
                        len: Key::INLINE as u8,
                        values,
                    });
                }
                Ok(Key::Long(Cow::Owned(long)))
            }
        }
        deserializer.deserialize_seq(KeyVisitor)
    }
}

impl<'a> View<'a> {
    /// Lends an owned instance as a view (ids and long keys borrowed).
    pub fn of(instance: &'a Instance) -> View<'a> {
        View {
            mechanism: instance.mechanism,
            overflow: instance.overflow,
            schools: instance
                .schools
                .iter()
                .map(|s| SchoolView {
                    id: Cow::Borrowed(&s.id),
                    capacity: s.capacity,
                    public: s.public,
                    county: s.county.as_deref().map(Cow::Borrowed),
                    location: s.location,
                })
                .collect(),
            applicants: instance
                .applicants
                .iter()
                .map(|a| ApplicantView {
                    id: Cow::Borrowed(&a.id),
                    lottery: Cow::Borrowed(&a.lottery),
                    best_tier: a.best_tier,
                    home: a.home.as_ref().map(|h| HomeView {
                        county: h.county.as_deref().map(Cow::Borrowed),
                        lat: h.lat,
                        lon: h.lon,
                    }),
                    choices: a
                        .choices
                        .iter()
                        .map(|c| ChoiceView {
                            school: Cow::Borrowed(&c.school),
                            key: Key::of(&c.key),
                        })
                        .collect(),
                })
                .collect(),
        }
    }
}

/// Reads an instance's JSON into a view at the speed of the JSON reader:
/// `None` when the text does not follow formats.md, and the caller then reads
/// it again with [`crate::parse_instance`] for an error that says where.
pub(crate) fn parse(input: &str) -> Option<View<'_>> {
    serde_json::from_str(input).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(text: &str) -> Key<'_> {
        serde_json::from_str(text).unwrap()
    }

    #[test]
    fn keys_of_any_length_read_back_as_written() {
        for text in [
            "[]",
            "[1]",
            "[0, 1]",
            "[1, 1, 20230411]",
            "[1, 2, 3, 4]",
            "[1, 2, 3, 4, 5, -6]",
        ] {
            let expected: Vec<i64> = serde_json::from_str(text).unwrap();
            assert_eq!(key(text).as_slice(), expected.as_slice(), "{text}");
            assert_eq!(Key::of(&expected).as_slice(), expected.as_slice());
        }
        assert!(matches!(key("[1, 2, 3, 4]"), Key::Inline { len: 4, .. }));
        assert!(matches!(key("[1, 2, 3, 4, 5]"), Key::Long(_)));
        assert!(serde_json::from_str::<Key<'_>>("[1, 1.5]").is_err());
        assert!(serde_json::from_str::<Key<'_>>("{}").is_err());
    }

    #[test]
    fn ids_are_borrowed_unless_escaped() {
        let view = parse(
            r#"{"mechanism": "deferred-acceptance", "schools": [{"id": "S\u0031", "capacity": 1}],
                "applicants": [{"id": "A1", "lottery": "0000000000000001", "choices": [{"school": "S1", "key": [1]}]}]}"#,
        )
        .unwrap();
        assert!(matches!(view.schools[0].id, Cow::Owned(ref id) if id == "S1"));
        assert!(matches!(view.applicants[0].id, Cow::Borrowed("A1")));
    }

    #[test]
    fn what_the_fast_reader_refuses_is_left_to_the_careful_one() {
        assert!(parse(r#"{"mechanism": "deferred-acceptance", "schools": [], "applicants": []} x"#).is_none());
        assert!(parse(r#"{"mechanism": "lottery", "schools": [], "applicants": []}"#).is_none());
        assert!(
            parse(r#"{"mechanism": "deferred-acceptance", "schools": [], "applicants": [], "note": [1]}"#).is_some()
        );
    }
}
