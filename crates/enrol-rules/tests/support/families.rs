//! Varied families for property tests and the benchmark: from a seed, an
//! application and the registry records about the family, in the small world
//! of `fixtures/rules/world/` (schools and buildings). Most families are
//! ordinary (eligible, with a tier); some hit every review trigger.

use chrono::NaiveDate;
use enrol_domain::{
    Address, AddressCode, Application, BirthCertificate, BuildingKey, ConsentId, CurrentPlace, HouseholdNo,
    HouseholdRecord, NationalId, OfficerFacts, PermitNo, PropertyUnit, RelationToHead, ResidencePermit, RoundId,
    SchoolId, SeatUse, Share, UnitNo, UnitStatus, Usage, YearMonth,
};

use super::Registries;

/// xorshift64*: a tiny deterministic generator, so a seed names a family.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    /// True with probability `pct`%.
    pub fn chance(&mut self, pct: u64) -> bool {
        self.below(100) < pct
    }
    pub fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.below(xs.len() as u64) as usize]
    }
}

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap_or_default()
}

fn person_id(county: &str, born: NaiveDate, seq: u64) -> NationalId {
    let prefix = format!("{county}{}{:03}", born.format("%Y%m%d"), seq % 1000);
    NationalId::from_prefix(&prefix).unwrap_or_else(|| panic!("bad id prefix {prefix}"))
}

/// A dwelling of the world: in a known building, an unknown one, or outside the region.
fn dwelling(rng: &mut Rng, buildings: &[BuildingKey]) -> AddressCode {
    let building = match rng.below(20) {
        0 => BuildingKey::parse("370811-015-00099").unwrap_or_else(|e| panic!("{e}")),
        1 => BuildingKey::parse("370911-001-00001").unwrap_or_else(|e| panic!("{e}")),
        _ => rng.pick(buildings).clone(),
    };
    AddressCode::in_building(&building, 1 + rng.below(6) as u8, 101 + rng.below(5) as u16)
        .unwrap_or_else(|| panic!("bad room"))
}

/// An address as a registry records it: mostly with its code; sometimes text only,
/// in the household style (which the zone registry resolves when the building is
/// known), a text that resolves to nothing, or one that is ambiguous.
fn address(rng: &mut Rng, code: AddressCode, world: &Registries) -> Address {
    let roll = rng.below(100);
    let building = world.buildings.get(&code.building_key());
    match building {
        Some(b) if roll < 10 => {
            let parts: Vec<&str> = code.as_str().split('-').collect();
            let unit: u32 = parts[3].parse().unwrap_or(1);
            let room: u32 = parts[4].parse().unwrap_or(101);
            Address {
                code: None,
                text: format!(
                    "{}{}{}{}{}号{unit}单元{room}室",
                    b.city,
                    b.county,
                    b.street,
                    b.road,
                    b.number.unwrap_or(0)
                ),
            }
        }
        _ if roll < 12 => Address {
            code: None,
            text: "幸福路9号".to_owned(),
        },
        // Names no county: two buildings in two counties match.
        _ if roll < 13 => Address {
            code: None,
            text: "建设路20号1单元101室".to_owned(),
        },
        _ => Address {
            code: Some(code),
            text: String::new(),
        },
    }
}

fn month(y: i32, m: u32) -> YearMonth {
    YearMonth::new(y, m).unwrap_or_else(|| panic!("bad month"))
}

/// A family from a seed: its application and the registry records about it
/// (added to a copy of the world), and the officer facts of a re-decided review.
pub fn family(seed: u64, world: &Registries) -> (Application, Registries, OfficerFacts) {
    let mut rng = Rng::new(seed);
    let mut r = world.clone();
    let buildings: Vec<BuildingKey> = world.buildings.keys().cloned().collect();
    let seq = seed.wrapping_mul(7) % 500;

    let born = match rng.below(100) {
        0..=3 => date(2021, 9, 1),
        4..=7 => date(2020, 8, 31),
        8..=20 => date(2021, 8, 31),
        21..=30 => date(2020, 9, 1),
        _ => date(2020, 9, 1) + chrono::Days::new(rng.below(364)),
    };
    let child = person_id("370811", born, seq * 2);
    let father = person_id(
        "370811",
        date(1985, 1, 1) + chrono::Days::new(rng.below(2000)),
        seq * 2 + 1,
    );
    let mother = person_id("370811", date(1986, 1, 1) + chrono::Days::new(rng.below(2000)), seq * 2);
    let grandmother = person_id("370811", date(1960, 1, 1) + chrono::Days::new(rng.below(2000)), seq * 2);
    let stranger = person_id(
        "370811",
        date(2019, 1, 1) + chrono::Days::new(rng.below(300)),
        seq * 2 + 1,
    );

    if rng.below(100) >= 3 {
        r.births.insert(
            child.clone(),
            BirthCertificate {
                certificate_no: format!("Q{seed}").as_str().into(),
                child_id: child.clone(),
                birth_date: if rng.chance(2) {
                    born + chrono::Days::new(1)
                } else {
                    born
                },
                mother_id: Some(mother.clone()),
                father_id: if rng.chance(90) { Some(father.clone()) } else { None },
                child_name_masked: None,
            },
        );
    }
    let (applicant, mut guardian_ids) = if rng.chance(50) {
        (mother.clone(), vec![father.clone()])
    } else {
        (father.clone(), vec![mother.clone()])
    };
    match rng.below(100) {
        0..=19 => guardian_ids.clear(),
        20..=23 => guardian_ids = vec![grandmother.clone()],
        24..=25 => guardian_ids.push(applicant.clone()),
        _ => {}
    }

    // Households.
    let home = dwelling(&mut rng, &buildings);
    let family_household = HouseholdNo::new(format!("370811{:09}", seq));
    let hukou_roll = rng.below(100);
    let city_hukou = hukou_roll < 70;
    if hukou_roll < 85 {
        let (region, code) = if city_hukou {
            (home.county(), home.clone())
        } else {
            let c = AddressCode::parse("370911-001-00001-01-0101").unwrap_or_else(|e| panic!("{e}"));
            (c.county(), c)
        };
        let address = address(&mut rng, code, world);
        r.persons.insert(
            child.clone(),
            HouseholdRecord {
                id: child.clone(),
                birth_date: if rng.chance(2) {
                    born - chrono::Days::new(1)
                } else {
                    born
                },
                household_no: if rng.chance(85) {
                    family_household.clone()
                } else {
                    HouseholdNo::new("370811999000001")
                },
                relation_to_head: RelationToHead::Child,
                registered_on: if rng.chance(90) {
                    date(2021, 1, 10)
                } else {
                    date(2026, 9, 1)
                },
                region,
                address,
            },
        );
    }
    for parent in [&father, &mother] {
        if rng.chance(85) {
            r.persons.insert(
                parent.clone(),
                HouseholdRecord {
                    id: parent.clone(),
                    birth_date: parent.birth_date(),
                    household_no: if rng.chance(85) {
                        family_household.clone()
                    } else {
                        HouseholdNo::new("370811888000001")
                    },
                    relation_to_head: RelationToHead::Head,
                    registered_on: date(2015, 6, 1),
                    region: home.county(),
                    address: Address {
                        code: Some(home.clone()),
                        text: String::new(),
                    },
                },
            );
        }
    }

    // Property.
    let units = rng.below(3);
    for i in 0..units {
        let code = if i == 0 && rng.chance(60) {
            home.clone()
        } else {
            dwelling(&mut rng, &buildings)
        };
        let unit_no = UnitNo::new(format!("{}GB{:05}F{:08}", code.county(), seq, i));
        let owners = match rng.below(100) {
            0..=69 => vec![(father.clone(), 50), (mother.clone(), 50)],
            70..=84 => vec![(father.clone(), 100)],
            _ => vec![(father.clone(), 30), (stranger.clone(), 70)],
        };
        let address = address(&mut rng, code, world);
        r.units.insert(
            unit_no.clone(),
            PropertyUnit {
                unit_no: unit_no.clone(),
                address,
                usage: if rng.chance(92) {
                    Usage::Residential
                } else {
                    Usage::Commercial
                },
                registered_on: if rng.chance(90) {
                    date(2012, 1, 1) + chrono::Days::new(rng.below(5000))
                } else {
                    date(2026, 9, 1)
                },
                status: if rng.chance(96) {
                    UnitStatus::Normal
                } else {
                    UnitStatus::Sealed
                },
                owners: owners
                    .into_iter()
                    .map(|(id, share_pct)| Share { id, share_pct })
                    .collect(),
            },
        );
        if rng.chance(25) {
            let school = SchoolId::new(format!("S00{}", 1 + rng.below(4)));
            r.uses.insert(
                unit_no,
                vec![SeatUse {
                    year: 2019 + rng.below(8) as i32,
                    school_id: school,
                    child_id: stranger.clone(),
                }],
            );
        }
    }

    // Residence permits and insurance.
    for (i, parent) in [&father, &mother].into_iter().enumerate() {
        if rng.chance(if city_hukou { 15 } else { 60 }) {
            let code = dwelling(&mut rng, &buildings);
            let address = address(&mut rng, code, world);
            r.permits.insert(
                parent.clone(),
                ResidencePermit {
                    permit_no: PermitNo::new(format!("JZ{seed:010}{i}")),
                    holder_id: parent.clone(),
                    address,
                    issued_on: date(2014, 1, 1) + chrono::Days::new(rng.below(4700)),
                    valid_until: date(2027, 1, 1) + chrono::Days::new(rng.below(1500)),
                },
            );
            let count = rng.below(26) as u32;
            let months = (0..count)
                .map(|k| month(2025 + ((4 + k) / 12) as i32, (4 + k) % 12 + 1))
                .collect();
            r.insurance.insert(parent.clone(), months);
        }
    }

    // Siblings and places.
    let mut sibling_ids = Vec::new();
    for k in 0..rng.below(3) {
        let born = date(2014, 1, 1) + chrono::Days::new(rng.below(2000));
        let sibling = person_id("370811", born, (seq * 2 + 3 + k) % 1000);
        if rng.chance(90) {
            r.births.insert(
                sibling.clone(),
                BirthCertificate {
                    certificate_no: format!("QS{seed}{k}").as_str().into(),
                    child_id: sibling.clone(),
                    birth_date: born,
                    mother_id: Some(if rng.chance(85) {
                        mother.clone()
                    } else {
                        stranger.clone()
                    }),
                    father_id: None,
                    child_name_masked: None,
                },
            );
        }
        if rng.chance(70) {
            let school = SchoolId::new(rng.pick(&["S001", "S002", "S003", "S004", "S031"]).to_string());
            r.places.insert(
                sibling.clone(),
                CurrentPlace {
                    child_id: sibling.clone(),
                    school_id: school,
                    grade: 1 + rng.below(6) as u8,
                },
            );
        }
        sibling_ids.push(sibling);
    }
    if rng.chance(2) {
        sibling_ids.push(child.clone());
    }
    if rng.chance(3) {
        r.places.insert(
            child.clone(),
            CurrentPlace {
                child_id: child.clone(),
                school_id: "S002".into(),
                grade: 1,
            },
        );
    }

    let choices = (0..rng.below(4))
        .map(|_| {
            SchoolId::new(
                rng.pick(&["S001", "S002", "S003", "S004", "S005", "S031", "J001", "S999"])
                    .to_string(),
            )
        })
        .collect();
    let officer = OfficerFacts {
        delayed_enrolment_approved: rng.chance(30),
        current_place_cleared: rng.chance(30),
        birth_date_confirmed: rng.chance(30),
        guardianship_confirmed: if rng.chance(30) {
            [grandmother.clone()].into_iter().collect()
        } else {
            Default::default()
        },
        resolved_addresses: if rng.chance(30) {
            [(
                "幸福路9号".to_owned(),
                AddressCode::parse("370811-012-00143-01-0101").unwrap_or_else(|e| panic!("{e}")),
            )]
            .into_iter()
            .collect()
        } else {
            Default::default()
        },
    };
    let officer = if rng.chance(20) {
        officer
    } else {
        OfficerFacts::default()
    };

    let app = Application {
        application_id: uuid::Uuid::from_u64_pair(0, seed),
        round: RoundId::new("2027-primary"),
        child_id: child,
        applicant_id: applicant,
        guardian_ids,
        sibling_ids,
        choices,
        consent_id: ConsentId::new(format!("CNS-{seed}")),
        submitted_at: chrono::DateTime::parse_from_rfc3339("2027-05-06T09:00:00+08:00")
            .unwrap_or_else(|e| panic!("{e}")),
    };
    (app, r, officer)
}
