//! Address search over a city's buildings, by the grammar of registries.md
//! ("Address text"). The generator uses it to check that each text-only
//! record fares as intended; the simulator has its own implementation.

use std::collections::BTreeMap;

use enrol_domain::{AddressCode, BuildingKey};

use crate::wire;

/// Splits trailing ASCII digits off `s`.
fn trailing_digits(s: &str) -> Option<(&str, u64)> {
    let rest = s.trim_end_matches(|c: char| c.is_ascii_digit());
    let digits = &s[rest.len()..];
    if digits.is_empty() || digits.len() > 9 {
        return None;
    }
    digits.parse().ok().map(|n| (rest, n))
}

/// `(head, number, unit, room)` of a text, white space removed; `None` off the grammar.
fn parse(text: &str) -> Option<(String, u32, u8, u16)> {
    let s: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    let (rest, unit, room) = if let Some(rest) = s.strip_suffix('室') {
        let (rest, room) = trailing_digits(rest)?;
        let (rest, unit) = trailing_digits(rest.strip_suffix("单元")?)?;
        (rest, unit, room)
    } else {
        let (rest, room) = trailing_digits(&s)?;
        let (rest, unit) = trailing_digits(rest.strip_suffix('-')?)?;
        (rest, unit, room)
    };
    let (head, number) = trailing_digits(rest.strip_suffix('号')?)?;
    if head.is_empty() || unit > 99 || room > 9999 {
        return None;
    }
    Some((head.to_owned(), u32::try_from(number).ok()?, unit as u8, room as u16))
}

/// A building and the optional parts (city, county, street) a text may name.
type Entry = (BuildingKey, [String; 3]);

/// The buildings by road and number, with the optional parts a text may name.
#[derive(Debug, Default)]
pub struct Gazetteer {
    by_road_number: BTreeMap<(String, u32), Vec<Entry>>,
}

impl Gazetteer {
    pub fn new<'a>(buildings: impl IntoIterator<Item = &'a wire::Building>) -> Self {
        let mut g = Gazetteer::default();
        for b in buildings {
            g.by_road_number.entry((b.road.clone(), b.number)).or_default().push((
                b.building_key.clone(),
                [b.city.clone(), b.county.clone(), b.street.clone()],
            ));
        }
        g
    }

    /// Every room-level code `text` matches, ascending.
    pub fn resolve(&self, text: &str) -> Vec<AddressCode> {
        let Some((head, number, unit, room)) = parse(text) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for (i, _) in head.char_indices() {
            let (prefix, road) = head.split_at(i);
            let Some(candidates) = self.by_road_number.get(&(road.to_owned(), number)) else {
                continue;
            };
            for (key, parts) in candidates {
                if names_own_parts(prefix, parts) {
                    out.extend(AddressCode::in_building(key, unit, room));
                }
            }
        }
        out.sort();
        out.dedup();
        out
    }
}

/// Whether `prefix` is some of the building's city, county and street, in that order.
fn names_own_parts(prefix: &str, parts: &[String; 3]) -> bool {
    let mut rest = prefix;
    for part in parts {
        if let Some(r) = rest.strip_prefix(part.as_str()) {
            rest = r;
        }
    }
    rest.is_empty()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn building(key: &str, county: &str, street: &str, road: &str, number: u32) -> wire::Building {
        wire::Building {
            building_key: BuildingKey::parse(key).unwrap(),
            schools: Vec::new(),
            location: wire::Location { lat: 35.4, lon: 116.6 },
            city: "济宁市".into(),
            county: county.into(),
            street: street.into(),
            road: road.into(),
            number,
        }
    }

    #[test]
    fn resolves_each_style_and_finds_ambiguity() {
        let buildings = [
            building("370811-012-00143", "任城区", "古槐街道", "太白中路", 143),
            building("370811-003-00007", "任城区", "越河街道", "建设路", 7),
            building("370812-003-00007", "兖州区", "鼓楼街道", "建设路", 7),
        ];
        let g = Gazetteer::new(&buildings);
        let code = |s: &str| AddressCode::parse(s).unwrap();
        for text in [
            "济宁市任城区古槐街道太白中路143号2单元501室",
            "任城区太白中路143号2-501",
            "太白中路 143号 2单元 501室",
            "古槐街道太白中路143号2单元501室",
        ] {
            assert_eq!(g.resolve(text), vec![code("370811-012-00143-02-0501")], "{text}");
        }
        assert_eq!(g.resolve("建设路 7号 1单元 101室").len(), 2);
        assert_eq!(
            g.resolve("兖州区建设路7号1-101"),
            vec![code("370812-003-00007-01-0101")]
        );
        for text in [
            "济南市任城区太白中路143号2单元501室",
            "太白中路一四三号2单元501室",
            "任城区太白中路143号",
            "太白中路143号2单元",
            "任城区古槐街道济宁市太白中路143号2单元501室",
        ] {
            assert!(g.resolve(text).is_empty(), "{text}");
        }
    }
}
