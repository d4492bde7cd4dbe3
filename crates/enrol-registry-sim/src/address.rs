//! Address search of the school-zone registry (`registries.md` "Address text" and §6).
//!
//! Grammar, after removing all white space:
//! `[city][county][street] road digits 号 (U单元R室 | U-R)`, with U and R ASCII digits.
//! The optional parts, where present, must be the building's own, in that order. The code
//! is the building key, U as two digits and R as four. Anything else matches nothing.

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;

use crate::records::BuildingRecord;

/// One room-level match of an address text.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct AddressMatch {
    /// Room-level code `CCCCCC-SSS-BBBBB-UU-RRRR`.
    pub code: String,
    /// Canonical household-style text, e.g. `济宁市任城区古槐街道太白中路143号2单元501室`.
    pub text: String,
}

/// The parts of an address text the grammar recognises.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedText {
    /// Everything before the house number: optional city, county, street, then the road.
    pub head: String,
    /// House number (号).
    pub number: u32,
    /// Unit (单元), 0 to 99.
    pub unit: u8,
    /// Room (室), 0 to 9999.
    pub room: u16,
}

/// Splits trailing ASCII digits off `s`: `(rest, digits)`; `None` when there are none.
fn trailing_digits(s: &str) -> Option<(&str, &str)> {
    let rest = s.trim_end_matches(|c: char| c.is_ascii_digit());
    let digits = &s[rest.len()..];
    (!digits.is_empty()).then_some((rest, digits))
}

/// ASCII digits as a number no greater than `max`; `None` on overflow.
fn number(digits: &str, max: u64) -> Option<u64> {
    // Leading zeros do not change the number; a run too long for u64 is out of range anyway.
    let significant = digits.trim_start_matches('0');
    if significant.len() > 19 {
        return None;
    }
    let v = if significant.is_empty() {
        0
    } else {
        significant.parse::<u64>().ok()?
    };
    (v <= max).then_some(v)
}

/// Parses an address text by the grammar; `None` when it does not fit.
pub fn parse(text: &str) -> Option<ParsedText> {
    let s: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    let (rest, unit_digits, room_digits) = if let Some(rest) = s.strip_suffix('室') {
        let (rest, room) = trailing_digits(rest)?;
        let rest = rest.strip_suffix("单元")?;
        let (rest, unit) = trailing_digits(rest)?;
        (rest, unit, room)
    } else {
        let (rest, room) = trailing_digits(&s)?;
        let rest = rest.strip_suffix('-')?;
        let (rest, unit) = trailing_digits(rest)?;
        (rest, unit, room)
    };
    let rest = rest.strip_suffix('号')?;
    let (head, number_digits) = trailing_digits(rest)?;
    if head.is_empty() {
        return None;
    }
    Some(ParsedText {
        head: head.to_owned(),
        number: u32::try_from(number(number_digits, u64::from(u32::MAX))?).ok()?,
        unit: u8::try_from(number(unit_digits, 99)?).ok()?,
        room: u16::try_from(number(room_digits, 9999)?).ok()?,
    })
}

#[derive(Debug, Clone)]
struct Entry {
    building_key: String,
    city: String,
    county: String,
    street: String,
}

impl Entry {
    /// Whether `prefix` is `[city][county][street]` of this building, parts in order.
    fn names_own_parts(&self, prefix: &str) -> bool {
        let parts = [&self.city, &self.county, &self.street];
        (0u8..8).any(|mask| {
            let mut rest = prefix;
            for (i, part) in parts.iter().enumerate() {
                if mask & (1 << i) != 0 {
                    match rest.strip_prefix(part.as_str()) {
                        Some(r) => rest = r,
                        None => return false,
                    }
                }
            }
            rest.is_empty()
        })
    }
}

/// The gazetteer of `buildings.jsonl`, indexed by road and number.
#[derive(Debug, Default)]
pub struct Gazetteer {
    // Lookup only; output order comes from sorting the matches.
    by_road_number: HashMap<(String, u32), Vec<Entry>>,
    canonical_head: BTreeMap<String, String>,
}

impl Gazetteer {
    /// Indexes buildings.
    pub fn new<'a>(buildings: impl IntoIterator<Item = &'a BuildingRecord>) -> Gazetteer {
        let mut g = Gazetteer::default();
        for b in buildings {
            let strip = |s: &str| s.chars().filter(|c| !c.is_whitespace()).collect::<String>();
            let entry = Entry {
                building_key: b.building_key.as_str().to_owned(),
                city: strip(b.city.as_str()),
                county: strip(b.county.as_str()),
                street: strip(b.street.as_str()),
            };
            g.canonical_head.insert(
                entry.building_key.clone(),
                format!(
                    "{}{}{}{}{}号",
                    b.city.as_str(),
                    b.county.as_str(),
                    b.street.as_str(),
                    b.road.as_str(),
                    b.number
                ),
            );
            g.by_road_number
                .entry((strip(b.road.as_str()), b.number))
                .or_default()
                .push(entry);
        }
        g
    }

    /// Every room-level match of `text`, ordered by code: none = unknown, two or more =
    /// ambiguous.
    pub fn resolve(&self, text: &str) -> Vec<AddressMatch> {
        let Some(parsed) = parse(text) else {
            return Vec::new();
        };
        let mut matches = Vec::new();
        // The road is a suffix of the head; what precedes it must be the building's own parts.
        for (i, _) in parsed.head.char_indices() {
            let (prefix, road) = parsed.head.split_at(i);
            let Some(entries) = self.by_road_number.get(&(road.to_owned(), parsed.number)) else {
                continue;
            };
            for e in entries.iter().filter(|e| e.names_own_parts(prefix)) {
                let head = self.canonical_head.get(&e.building_key).map_or("", String::as_str);
                matches.push(AddressMatch {
                    code: format!("{}-{:02}-{:04}", e.building_key, parsed.unit, parsed.room),
                    text: format!("{head}{}单元{}室", parsed.unit, parsed.room),
                });
            }
        }
        matches.sort();
        matches.dedup();
        matches
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn building(key: &str, city: &str, county: &str, street: &str, road: &str, number: u32) -> BuildingRecord {
        let line = serde_json::json!({
            "building_key": key, "schools": ["S001"], "location": {"lat": 35.4, "lon": 116.5},
            "city": city, "county": county, "street": street, "road": road, "number": number,
        });
        match serde_json::from_value(line) {
            Ok(b) => b,
            Err(e) => panic!("test building {key}: {e}"),
        }
    }

    fn gazetteer() -> Gazetteer {
        let buildings = [
            building("370811-012-00143", "济宁市", "任城区", "古槐街道", "太白中路", 143),
            // Same road and number in another county: ambiguous without a county.
            building("370812-003-00020", "济宁市", "兖州区", "鼓楼街道", "建设路", 20),
            building("370811-005-00020", "济宁市", "任城区", "越河街道", "建设路", 20),
            // Same road and number, same county, two streets.
            building("370811-001-00007", "济宁市", "任城区", "南苑街道", "红星路", 7),
            building("370811-002-00007", "济宁市", "任城区", "仙营街道", "红星路", 7),
            // A road whose name ends another road's name.
            building("370811-012-00001", "济宁市", "任城区", "古槐街道", "中路", 143),
        ];
        Gazetteer::new(buildings.iter())
    }

    fn codes(text: &str) -> Vec<String> {
        gazetteer().resolve(text).into_iter().map(|m| m.code).collect()
    }

    const ROOM: &str = "370811-012-00143-02-0501";

    #[test]
    fn the_three_styles_name_the_same_dwelling() {
        assert_eq!(codes("济宁市任城区古槐街道太白中路143号2单元501室"), [ROOM]);
        assert_eq!(codes("任城区太白中路143号2-501"), [ROOM]);
        assert_eq!(codes("太白中路 143号 2单元 501室"), [ROOM]);
        let m = gazetteer().resolve("太白中路143号2-501");
        assert_eq!(
            m,
            [AddressMatch {
                code: ROOM.to_owned(),
                text: "济宁市任城区古槐街道太白中路143号2单元501室".to_owned(),
            }]
        );
    }

    #[test]
    fn every_subset_of_optional_parts_in_order() {
        for text in [
            "济宁市太白中路143号2-501",
            "任城区太白中路143号2-501",
            "古槐街道太白中路143号2-501",
            "济宁市任城区太白中路143号2-501",
            "济宁市古槐街道太白中路143号2-501",
            "任城区古槐街道太白中路143号2-501",
            "济宁市任城区古槐街道太白中路143号2-501",
        ] {
            assert_eq!(codes(text), [ROOM], "{text}");
        }
    }

    #[test]
    fn white_space_anywhere_is_removed() {
        assert_eq!(codes(" 济宁市 任城区\t古槐 街道太白中路1 43号2 - 501 "), [ROOM]);
        assert_eq!(codes("太白中路\u{3000}143号\n2单元501室"), [ROOM]);
    }

    #[test]
    fn wrong_order_another_city_or_foreign_parts_match_nothing() {
        assert!(codes("任城区济宁市太白中路143号2-501").is_empty());
        assert!(codes("古槐街道任城区太白中路143号2-501").is_empty());
        assert!(codes("济南市任城区太白中路143号2-501").is_empty());
        assert!(codes("济宁市兖州区太白中路143号2-501").is_empty());
        assert!(codes("济宁市任城区越河街道太白中路143号2-501").is_empty());
        assert!(codes("山东省济宁市任城区太白中路143号2-501").is_empty());
        // The same part twice.
        assert!(codes("任城区任城区太白中路143号2-501").is_empty());
    }

    #[test]
    fn chinese_or_full_width_numerals_match_nothing() {
        assert!(codes("太白中路一百四十三号2单元501室").is_empty());
        assert!(codes("太白中路143号二单元501室").is_empty());
        assert!(codes("太白中路143号2单元五零一室").is_empty());
        assert!(codes("太白中路１４３号2单元501室").is_empty());
        assert!(codes("太白中路143号2－501").is_empty());
    }

    #[test]
    fn missing_or_malformed_unit_and_room_match_nothing() {
        for text in [
            "太白中路143号",
            "太白中路143号501室",
            "太白中路143号2单元",
            "太白中路143号2单元501",
            "太白中路143号2-",
            "太白中路143号-501",
            "太白中路143号2-501室",
            "太白中路143号2单元-501室",
            "太白中路143号2-5-01",
            "太白中路1432-501",
            "太白中路号2-501",
            "143号2-501",
            "太白中路143号2-501号",
            "",
            "   ",
        ] {
            assert!(codes(text).is_empty(), "{text:?} should match nothing");
        }
    }

    #[test]
    fn unknown_road_or_number_matches_nothing() {
        assert!(codes("太白东路143号2-501").is_empty());
        assert!(codes("太白中路144号2-501").is_empty());
    }

    #[test]
    fn digits_are_padded_and_overflow_matches_nothing() {
        assert_eq!(codes("太白中路143号2-1"), ["370811-012-00143-02-0001"]);
        assert_eq!(codes("太白中路143号99-9999"), ["370811-012-00143-99-9999"]);
        assert_eq!(codes("太白中路143号02-0501"), [ROOM]);
        assert!(codes("太白中路143号100-501").is_empty());
        assert!(codes("太白中路143号2-10000").is_empty());
        assert!(codes("太白中路99999999999999999999999号2-501").is_empty());
        assert!(codes("太白中路143号2-99999999999999999999999999").is_empty());
        assert!(codes("太白中路4294967296号2-501").is_empty());
    }

    #[test]
    fn same_road_and_number_in_two_counties_is_ambiguous_unless_county_named() {
        assert_eq!(
            codes("建设路20号1-101"),
            ["370811-005-00020-01-0101", "370812-003-00020-01-0101"]
        );
        assert_eq!(codes("兖州区建设路20号1-101"), ["370812-003-00020-01-0101"]);
        assert_eq!(codes("任城区建设路20号1单元101室"), ["370811-005-00020-01-0101"]);
        assert_eq!(
            gazetteer().resolve("兖州区建设路20号1-101")[0].text,
            "济宁市兖州区鼓楼街道建设路20号1单元101室"
        );
    }

    #[test]
    fn two_streets_of_one_county_are_told_apart_by_the_street() {
        assert_eq!(
            codes("任城区红星路7号1-1"),
            ["370811-001-00007-01-0001", "370811-002-00007-01-0001"]
        );
        assert_eq!(codes("仙营街道红星路7号1-1"), ["370811-002-00007-01-0001"]);
    }

    #[test]
    fn a_road_ending_another_roads_name_is_not_confused() {
        // `太白` is not a part of building 00001 (road 中路), so only 太白中路 matches.
        assert_eq!(codes("太白中路143号2-501"), [ROOM]);
        assert_eq!(codes("中路143号2-501"), ["370811-012-00001-02-0501"]);
        assert_eq!(codes("古槐街道中路143号2-501"), ["370811-012-00001-02-0501"]);
    }

    #[test]
    fn parse_reports_the_parts() {
        assert_eq!(
            parse("任城区太白中路143号2-501"),
            Some(ParsedText {
                head: "任城区太白中路".to_owned(),
                number: 143,
                unit: 2,
                room: 501,
            })
        );
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]

        #[test]
        fn any_text_resolves_without_panic_to_sorted_codes(text in "\\PC{0,40}") {
            let m = gazetteer().resolve(&text);
            proptest::prop_assert!(m.windows(2).all(|w| w[0].code < w[1].code));
        }

        #[test]
        fn any_unit_and_room_in_range_round_trip(unit in 0u8..=99, room in 0u16..=9999) {
            let m = gazetteer().resolve(&format!("任城区太白中路143号{unit}-{room}"));
            proptest::prop_assert_eq!(m.len(), 1);
            proptest::prop_assert_eq!(&m[0].code, &format!("370811-012-00143-{unit:02}-{room:04}"));
            // The canonical text resolves to the same code.
            let again = gazetteer().resolve(&m[0].text);
            proptest::prop_assert_eq!(&again, &m);
        }
    }
}
