//! The city's map: counties, streets, roads, buildings, schools and zones,
//! and the three registries' ways of writing an address.

use std::collections::{BTreeMap, HashMap};

use enrol_domain::{AddressCode, BuildingKey, CountyCode, SchoolId};

use crate::dice::Dice;
use crate::names;
use crate::wire;

/// A county (区县) with the streets (街道) it is drawn with.
#[derive(Debug)]
pub(crate) struct CountyDef {
    pub code: &'static str,
    pub name: &'static str,
    pub city: &'static str,
    pub lat: f64,
    pub lon: f64,
    /// Share of the city's families living here.
    pub weight: f64,
    pub streets: &'static [&'static str],
}

/// The sample region, 济宁市: counties whose code starts `3708`.
pub(crate) const REGION_COUNTIES: &[CountyDef] = &[
    CountyDef {
        code: "370811",
        name: "任城区",
        city: "济宁市",
        lat: 35.4146,
        lon: 116.5951,
        weight: 0.34,
        streets: &["古槐街道", "越河街道", "济阳街道", "仙营街道", "观音阁街道"],
    },
    CountyDef {
        code: "370812",
        name: "兖州区",
        city: "济宁市",
        lat: 35.5524,
        lon: 116.7834,
        weight: 0.18,
        streets: &["鼓楼街道", "龙桥街道", "酒仙桥街道", "兴隆庄街道"],
    },
    CountyDef {
        code: "370881",
        name: "曲阜市",
        city: "济宁市",
        lat: 35.5811,
        lon: 116.9865,
        weight: 0.14,
        streets: &["鲁城街道", "书院街道", "时庄街道"],
    },
    CountyDef {
        code: "370883",
        name: "邹城市",
        city: "济宁市",
        lat: 35.4053,
        lon: 116.9731,
        weight: 0.16,
        streets: &["钢山街道", "千泉街道", "凫山街道"],
    },
    CountyDef {
        code: "370830",
        name: "汶上县",
        city: "济宁市",
        lat: 35.7122,
        lon: 116.4892,
        weight: 0.10,
        streets: &["汶上街道", "中都街道"],
    },
    CountyDef {
        code: "370826",
        name: "微山县",
        city: "济宁市",
        lat: 34.8071,
        lon: 117.1290,
        weight: 0.08,
        streets: &["夏镇街道", "昭阳街道"],
    },
];

/// Elsewhere in the province (山东省): household records exist there, with
/// another `region`; the zone registry knows none of these buildings.
pub(crate) const PROVINCE_COUNTIES: &[CountyDef] = &[
    CountyDef {
        code: "370102",
        name: "历下区",
        city: "济南市",
        lat: 36.6664,
        lon: 117.0763,
        weight: 0.5,
        streets: &["泉城路街道", "大明湖街道", "解放路街道"],
    },
    CountyDef {
        code: "370103",
        name: "市中区",
        city: "济南市",
        lat: 36.6512,
        lon: 116.9975,
        weight: 0.3,
        streets: &["大观园街道", "杆石桥街道"],
    },
    CountyDef {
        code: "370202",
        name: "市南区",
        city: "青岛市",
        lat: 36.0671,
        lon: 120.3826,
        weight: 0.2,
        streets: &["香港中路街道", "八大峡街道"],
    },
];

/// Roads of the province's other cities, for their household addresses.
pub(crate) const PROVINCE_ROADS: &[&str] = &["泉城路", "经十路", "趵突泉北路", "经七路", "香港中路", "山东路"];

/// Issuing places of IDs of people from outside the province: no household
/// record here (404).
pub(crate) const OTHER_PROVINCES: &[&str] = &["410102", "130102", "320106", "340102", "110105", "510104", "420106"];

#[derive(Debug)]
pub(crate) struct Street {
    pub county: usize,
    pub code: u32,
    pub name: &'static str,
}

#[derive(Debug)]
pub(crate) struct Road {
    pub street: usize,
    pub name: String,
    /// Another region county has a road of the same name.
    pub shared: bool,
}

#[derive(Debug)]
pub(crate) struct Building {
    pub key: BuildingKey,
    pub county: usize,
    pub street: usize,
    pub road: usize,
    pub number: u32,
    pub units: u8,
    pub floors: u8,
    pub lat: f64,
    pub lon: f64,
    /// Listed in the zone registry; an unknown building answers 404.
    pub known: bool,
    /// Primary schools zoned for it (indexes into `schools`), ascending id.
    pub primaries: Vec<usize>,
    /// A junior school zoned for it too (对口初中), which the round ignores.
    pub junior: Option<usize>,
}

#[derive(Debug)]
pub(crate) struct School {
    pub id: SchoolId,
    pub name: String,
    pub kind: wire::SchoolKind,
    pub stage: wire::Stage,
    pub county: usize,
    pub lat: f64,
    pub lon: f64,
    /// Seats by entry year; filled in once demand is known.
    pub capacity: BTreeMap<String, u32>,
    /// Oversubscribed on purpose.
    pub popular: bool,
    /// Zoned already but opening in 2028: no seats in 2027.
    pub opens_later: bool,
    /// 对口直升: the junior schools (indexes) a primary school feeds, ascending id.
    pub feeds: Vec<usize>,
}

#[derive(Debug)]
pub(crate) struct Geography {
    pub streets: Vec<Street>,
    pub roads: Vec<Road>,
    pub buildings: Vec<Building>,
    pub schools: Vec<School>,
    /// Buildings by county, for drawing homes.
    pub known_by_county: Vec<Vec<usize>>,
    pub unknown_by_county: Vec<Vec<usize>>,
    /// (road name, number) → known buildings with it, across counties.
    pub by_road_number: HashMap<(String, u32), Vec<usize>>,
    /// Known buildings whose road and number exist in another county too.
    pub ambiguous_by_county: Vec<Vec<usize>>,
    /// Known buildings whose road and number are unique in the region.
    pub unambiguous_by_county: Vec<Vec<usize>>,
    pub primaries_by_county: Vec<Vec<usize>>,
    pub juniors_by_county: Vec<Vec<usize>>,
    pub privates: Vec<usize>,
    /// Private junior schools, added with the junior cohort.
    pub private_juniors: Vec<usize>,
}

fn round6(x: f64) -> f64 {
    (x * 1e6).round() / 1e6
}

impl Geography {
    /// Draws a map for about `families` families.
    pub(crate) fn draw(dice: &mut Dice, families: usize) -> Geography {
        let counties = REGION_COUNTIES;
        // About one building per five families: homes, grandparents' flats,
        // second homes and rented rooms spread over them.
        let total_buildings = (families / 5).max(60);
        let small = families < 2_000;
        let mut streets = Vec::new();
        for (c, county) in counties.iter().enumerate() {
            let n = if small { 2 } else { county.streets.len() };
            for (s, name) in county.streets.iter().take(n).enumerate() {
                streets.push(Street {
                    county: c,
                    code: (s as u32 + 1) * 3,
                    name,
                });
            }
        }
        let roads_per_street = (total_buildings / (streets.len() * 60)).clamp(2, 12);
        let mut roads = Vec::new();
        let mut unique = 0;
        let mut street_index_in_county = vec![0usize; counties.len()];
        for (s, street) in streets.iter().enumerate() {
            let k = street_index_in_county[street.county];
            street_index_in_county[street.county] += 1;
            // Each county's k-th street carries the k-th shared road name.
            roads.push(Road {
                street: s,
                name: names::SHARED_ROADS[k % names::SHARED_ROADS.len()].to_owned(),
                shared: true,
            });
            for _ in 1..roads_per_street {
                roads.push(Road {
                    street: s,
                    name: names::unique_road(unique),
                    shared: false,
                });
                unique += 1;
            }
        }
        let per_road = total_buildings.div_ceil(roads.len()).max(3);
        let mut buildings = Vec::new();
        let mut next_in_street = vec![0u32; streets.len()];
        for (r, road) in roads.iter().enumerate() {
            let street = &streets[road.street];
            let county = &counties[street.county];
            // Streets sit around the county seat; roads run east-west.
            let s_lat = county.lat + 0.012 * ((road.street % 5) as f64 - 2.0);
            let r_lat = s_lat + 0.003 * ((r % 4) as f64);
            for n in 1..=per_road as u32 {
                next_in_street[road.street] += 1;
                let group = next_in_street[road.street];
                let key = BuildingKey::parse(&format!("{}-{:03}-{:05}", county.code, street.code, group))
                    .expect("generated building keys are well formed");
                let lon = county.lon - 0.02 + 0.0004 * f64::from(n) + 0.00005 * dice.between(0, 9) as f64;
                let lat = r_lat + 0.00005 * dice.between(0, 9) as f64;
                // A few buildings on roads no other county has are missing
                // from the zone registry (new estates not yet zoned).
                let known = road.shared || !dice.chance(0.025);
                // Unzoned buildings are large new estates.
                let (units, floors) = if known {
                    (dice.between(1, 4) as u8, dice.between(5, 18) as u8)
                } else {
                    (4, 18)
                };
                buildings.push(Building {
                    key,
                    county: street.county,
                    street: road.street,
                    road: r,
                    number: n,
                    units,
                    floors,
                    lat: round6(lat),
                    lon: round6(lon),
                    known,
                    primaries: Vec::new(),
                    junior: None,
                });
            }
        }
        // Every county has at least one unknown building, so every kind of
        // family can be drawn at any size.
        for c in 0..counties.len() {
            if !buildings.iter().any(|b| b.county == c && !b.known)
                && let Some(b) = buildings
                    .iter_mut()
                    .rev()
                    .find(|b| b.county == c && !roads[b.road].shared)
            {
                b.known = false;
                b.units = 4;
                b.floors = 18;
            }
        }

        let mut geo = Geography {
            streets,
            roads,
            buildings,
            schools: Vec::new(),
            known_by_county: vec![Vec::new(); counties.len()],
            unknown_by_county: vec![Vec::new(); counties.len()],
            by_road_number: HashMap::new(),
            ambiguous_by_county: vec![Vec::new(); counties.len()],
            unambiguous_by_county: vec![Vec::new(); counties.len()],
            primaries_by_county: vec![Vec::new(); counties.len()],
            juniors_by_county: vec![Vec::new(); counties.len()],
            privates: Vec::new(),
            private_juniors: Vec::new(),
        };
        geo.draw_schools(dice, families);
        geo.index();
        geo
    }

    fn draw_schools(&mut self, dice: &mut Dice, families: usize) {
        let counties = REGION_COUNTIES;
        let mut next_id = 1;
        let mut make_id = || {
            let id = SchoolId::new(format!("S{next_id:03}"));
            next_id += 1;
            id
        };
        for (c, county) in counties.iter().enumerate() {
            let expected = families as f64 * county.weight;
            let primaries = ((expected / 320.0).round() as usize).max(2);
            let in_county: Vec<usize> = (0..self.buildings.len())
                .filter(|&b| self.buildings[b].county == c)
                .collect();
            let first = self.schools.len();
            for k in 0..primaries {
                // Each school serves a run of neighbouring buildings.
                let lo = in_county.len() * k / primaries;
                let hi = in_county.len() * (k + 1) / primaries;
                let mid = &self.buildings[in_county[(lo + hi) / 2]];
                let name = format!("{}第{}实验小学", county.name, names::chinese_number(k as u32 + 1));
                self.schools.push(School {
                    id: make_id(),
                    name,
                    kind: wire::SchoolKind::Public,
                    stage: wire::Stage::Primary,
                    county: c,
                    lat: round6(mid.lat + 0.0011),
                    lon: round6(mid.lon + 0.0007),
                    capacity: BTreeMap::new(),
                    popular: dice.chance(0.25),
                    opens_later: false,
                    feeds: Vec::new(),
                });
                for &b in &in_county[lo..hi] {
                    self.buildings[b].primaries.push(first + k);
                }
                // 多校划片: some buildings near the seam are zoned for the
                // neighbouring school as well.
                if primaries > 1 {
                    let neighbour = if k + 1 < primaries {
                        first + k + 1
                    } else {
                        first + k - 1
                    };
                    for &b in &in_county[lo..hi] {
                        if dice.chance(0.15) {
                            self.buildings[b].primaries.push(neighbour);
                        }
                    }
                }
            }
            // The county seat's newest school is zoned already but opens in
            // 2028; its buildings are all zoned for a neighbour too.
            if c == 0 && primaries >= 3 {
                let new = first + primaries - 1;
                self.schools[new].opens_later = true;
                self.schools[new].popular = false;
                for &b in &in_county {
                    let building = &mut self.buildings[b];
                    if building.primaries.contains(&new) && building.primaries.len() == 1 {
                        building.primaries.push(new - 1);
                    }
                }
            }
            let juniors = ((expected / 2_500.0).round() as usize).max(1);
            for k in 0..juniors {
                let lo = in_county.len() * k / juniors;
                let hi = in_county.len() * (k + 1) / juniors;
                let mid = &self.buildings[in_county[(lo + hi) / 2]];
                let junior = self.schools.len();
                self.schools.push(School {
                    id: make_id(),
                    name: format!("{}第{}中学", county.name, names::chinese_number(k as u32 + 1)),
                    kind: wire::SchoolKind::Public,
                    stage: wire::Stage::Junior,
                    county: c,
                    lat: round6(mid.lat - 0.0013),
                    lon: round6(mid.lon + 0.0009),
                    capacity: BTreeMap::new(),
                    popular: false,
                    opens_later: false,
                    feeds: Vec::new(),
                });
                for &b in &in_county[lo..hi] {
                    if dice.chance(0.3) {
                        self.buildings[b].junior = Some(junior);
                    }
                }
            }
        }
        let privates = (families / 20_000).max(2);
        for k in 0..privates {
            let c = k % counties.len();
            let county = &counties[c];
            self.schools.push(School {
                id: make_id(),
                name: format!(
                    "{}{}{}学校",
                    county.city,
                    ["育才", "明德", "博雅", "启航"][k % 4],
                    if k < 4 {
                        String::new()
                    } else {
                        names::chinese_number(k as u32 / 4 + 1)
                    }
                ),
                kind: wire::SchoolKind::Private,
                stage: wire::Stage::Primary,
                county: c,
                lat: round6(county.lat + 0.021),
                lon: round6(county.lon - 0.017 + 0.002 * k as f64),
                capacity: BTreeMap::new(),
                popular: true,
                opens_later: false,
                feeds: Vec::new(),
            });
        }
        for b in &mut self.buildings {
            b.primaries.sort_unstable();
            b.primaries.dedup();
        }
    }

    fn index(&mut self) {
        for (i, b) in self.buildings.iter().enumerate() {
            if b.known {
                self.known_by_county[b.county].push(i);
                let road = self.roads[b.road].name.clone();
                self.by_road_number.entry((road, b.number)).or_default().push(i);
            } else {
                self.unknown_by_county[b.county].push(i);
            }
        }
        for (i, b) in self.buildings.iter().enumerate() {
            if !b.known {
                continue;
            }
            let key = (self.roads[b.road].name.clone(), b.number);
            let same = self.by_road_number.get(&key).map_or(0, Vec::len);
            if same > 1 {
                self.ambiguous_by_county[b.county].push(i);
            } else {
                self.unambiguous_by_county[b.county].push(i);
            }
        }
        for (i, s) in self.schools.iter().enumerate() {
            match (s.kind, s.stage) {
                (wire::SchoolKind::Public, wire::Stage::Primary) => self.primaries_by_county[s.county].push(i),
                (wire::SchoolKind::Public, wire::Stage::Junior) => self.juniors_by_county[s.county].push(i),
                (wire::SchoolKind::Private, _) => self.privates.push(i),
            }
        }
    }

    /// Primary schools of a building that take pupils in 2027 (what a family
    /// may reasonably list); none for a building the zone registry lacks.
    pub(crate) fn open_primaries(&self, building: usize) -> Vec<usize> {
        let b = &self.buildings[building];
        if !b.known {
            return Vec::new();
        }
        b.primaries
            .iter()
            .copied()
            .filter(|&s| !self.schools[s].opens_later)
            .collect()
    }

    pub(crate) fn county_code(&self, county: usize) -> CountyCode {
        CountyCode::parse(REGION_COUNTIES[county].code).expect("county codes are six digits")
    }

    /// 济宁市任城区古槐街道太白中路143号2单元501室
    pub(crate) fn household_text(&self, building: usize, unit: u8, room: u16) -> String {
        let b = &self.buildings[building];
        let county = &REGION_COUNTIES[b.county];
        format!(
            "{}{}{}{}{}号{}单元{}室",
            county.city, county.name, self.streets[b.street].name, self.roads[b.road].name, b.number, unit, room
        )
    }

    /// 任城区太白中路143号2-501
    pub(crate) fn property_text(&self, building: usize, unit: u8, room: u16) -> String {
        let b = &self.buildings[building];
        let county = &REGION_COUNTIES[b.county];
        format!(
            "{}{}{}号{}-{}",
            county.name, self.roads[b.road].name, b.number, unit, room
        )
    }

    /// 太白中路 143号 2单元 501室
    pub(crate) fn permit_text(&self, building: usize, unit: u8, room: u16) -> String {
        let b = &self.buildings[building];
        format!("{} {}号 {}单元 {}室", self.roads[b.road].name, b.number, unit, room)
    }

    /// One line of `buildings.jsonl`.
    pub(crate) fn building_record(&self, building: usize) -> wire::Building {
        let b = &self.buildings[building];
        let county = &REGION_COUNTIES[b.county];
        let mut schools: Vec<SchoolId> = b.primaries.iter().map(|&s| self.schools[s].id.clone()).collect();
        if let Some(j) = b.junior {
            schools.push(self.schools[j].id.clone());
        }
        schools.sort();
        wire::Building {
            building_key: b.key.clone(),
            schools,
            location: wire::Location { lat: b.lat, lon: b.lon },
            city: county.city.to_owned(),
            county: county.name.to_owned(),
            street: self.streets[b.street].name.to_owned(),
            road: self.roads[b.road].name.clone(),
            number: b.number,
        }
    }

    pub(crate) fn school_record(&self, school: usize) -> wire::School {
        let s = &self.schools[school];
        wire::School {
            id: s.id.clone(),
            name: s.name.clone(),
            kind: s.kind,
            stage: s.stage,
            county: self.county_code(s.county),
            capacity: s.capacity.clone(),
            location: wire::Location { lat: s.lat, lon: s.lon },
            feeds: s.feeds.iter().map(|&j| self.schools[j].id.clone()).collect(),
        }
    }

    pub(crate) fn code(&self, building: usize, unit: u8, room: u16) -> AddressCode {
        AddressCode::in_building(&self.buildings[building].key, unit, room).expect("unit < 100 and room < 10000")
    }
}
