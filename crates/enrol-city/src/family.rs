//! Drawing families and writing their records into the registries.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{DateTime, Datelike, Days, FixedOffset, Months, NaiveDate, TimeZone};
use enrol_domain::{AddressCode, Application, ConsentId, CountyCode, NationalId, RoundId, SchoolId};

use crate::dice::Dice;
use crate::geo::{Geography, OTHER_PROVINCES, PROVINCE_COUNTIES, PROVINCE_ROADS, REGION_COUNTIES};
use crate::ids::IdAllocator;
use crate::names;
use crate::policy::{self, date};
use crate::profile::{BogusChoice, FamilyProfile, Rates, Residence, SeatUseCase, TextCase, Trigger};
use crate::wire::{self, Relation, Sex, WireAddress};

pub(crate) mod junior;

/// A room in a building of the map.
#[derive(Debug, Clone)]
struct Dwelling {
    building: usize,
    unit: u8,
    room: u16,
    code: AddressCode,
}

/// How a record writes an address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Form {
    /// Code and the registry's text.
    Coded,
    /// Text only, well formed.
    TextOnly,
    /// Text only, off the grammar (Chinese numerals, no unit or room).
    Malformed,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Style {
    Household,
    Property,
    Permit,
}

/// A household (户) as its members' records write it.
#[derive(Debug, Clone)]
struct Household {
    no: String,
    region: CountyCode,
    address: WireAddress,
}

#[derive(Debug, Clone)]
struct Human {
    id: NationalId,
    name: String,
}

impl Human {
    fn male(&self) -> bool {
        self.id.is_male()
    }
}

/// The unit that makes a family property (policy.md) and what else used it.
#[derive(Debug, Clone)]
struct FamilyUnit {
    dwelling: Dwelling,
    unit_no: String,
}

/// Per-family working state while its records are written.
#[derive(Debug)]
struct Draft {
    mother: Human,
    father: Option<Human>,
    child: Human,
    sibling: Option<(Human, u8)>,
    /// Buildings whose zones the family believes give it a place, home first.
    claims: Vec<usize>,
    /// The building of policy.md's "home", when the family has one in the map.
    home: Option<usize>,
    /// Counties of every region address of the family.
    counties: Vec<usize>,
    family_unit: Option<FamilyUnit>,
    /// Share of each parent in the family unit (for choosing a lone applicant).
    shares: Vec<(NationalId, u32)>,
    /// The parent who holds the (first) residence permit.
    permit_holder: Option<NationalId>,
    /// Grandparents with household records, for a grandparent applicant.
    grandparents: Vec<Human>,
    /// Parents registered in the child's household, when not both.
    in_child_household: Vec<NationalId>,
}

/// The records of a whole city, being written.
#[derive(Debug)]
pub(crate) struct Builder<'r> {
    dice: Dice,
    rates: &'r Rates,
    pub(crate) geo: Geography,
    ids: IdAllocator,
    taken: HashSet<AddressCode>,
    household_seq: HashMap<String, u32>,
    cert_seq: u32,
    permit_seq: u32,
    pub(crate) persons: Vec<wire::Person>,
    pub(crate) births: Vec<wire::Birth>,
    pub(crate) properties: Vec<wire::Property>,
    pub(crate) permits: Vec<wire::Permit>,
    pub(crate) insurance: Vec<wire::Insurance>,
    pub(crate) places: Vec<wire::ChildPlace>,
    pub(crate) uses: BTreeMap<String, Vec<wire::SeatUse>>,
    pub(crate) applications: Vec<Application>,
    pub(crate) profiles: Vec<FamilyProfile>,
    /// The junior round's applications (`applications-junior.jsonl`) and profiles.
    pub(crate) junior_applications: Vec<Application>,
    pub(crate) junior_profiles: Vec<junior::JuniorProfile>,
    /// Eligible children per school whose home is zoned for it (shared over a
    /// multi-school zone), to size capacities.
    pub(crate) demand: Vec<f64>,
    /// Families that chose each school first among privates.
    pub(crate) private_demand: Vec<u32>,
}

fn after(d: NaiveDate, days: i64) -> NaiveDate {
    d + Days::new(days.max(0) as u64)
}

/// A submission instant on a May 2027 day from `first_day` to `last_day`,
/// between 08:00 and 22:00 Beijing time (the day is drawn first, then the second).
fn submitted_in_may(dice: &mut Dice, first_day: i64, last_day: i64) -> DateTime<FixedOffset> {
    let day = dice.between(first_day, last_day) as u32;
    let secs = dice.between(8 * 3600, 22 * 3600 - 1) as u32;
    let tz = FixedOffset::east_opt(8 * 3600).expect("+08:00 is a valid offset");
    tz.with_ymd_and_hms(2027, 5, day, secs / 3600, (secs / 60) % 60, secs % 60)
        .single()
        .expect("a fixed offset has no gaps")
}

/// `YYYY-MM` of a date.
fn month_of(d: NaiveDate) -> (i32, u32) {
    (d.year(), d.month())
}

impl<'r> Builder<'r> {
    pub(crate) fn new(seed: u64, families: usize, rates: &'r Rates) -> Self {
        let mut dice = Dice::new(seed);
        let geo = Geography::draw(&mut dice, families);
        let schools = geo.schools.len();
        Builder {
            dice,
            rates,
            geo,
            ids: IdAllocator::default(),
            taken: HashSet::new(),
            household_seq: HashMap::new(),
            cert_seq: 0,
            permit_seq: 0,
            persons: Vec::new(),
            births: Vec::new(),
            properties: Vec::new(),
            permits: Vec::new(),
            insurance: Vec::new(),
            places: Vec::new(),
            uses: BTreeMap::new(),
            applications: Vec::with_capacity(families),
            profiles: Vec::with_capacity(families),
            junior_applications: Vec::new(),
            junior_profiles: Vec::new(),
            demand: vec![0.0; schools],
            private_demand: vec![0; schools],
        }
    }

    // ----- people -------------------------------------------------------

    fn human(&mut self, region: &str, birth: NaiveDate, male: bool, surname: &str) -> Human {
        let id = self.ids.issue(&mut self.dice, region, birth, male);
        let name = names::full_name(&mut self.dice, surname, male);
        Human { id, name }
    }

    fn adult(&mut self, region: &str, male: bool, surname: &str, from: i32, to: i32) -> Human {
        let birth = self.dice.day(date(from, 1, 1), date(to, 12, 31));
        self.human(region, birth, male, surname)
    }

    /// A region county code for someone born in the city, usually the family's own county.
    fn city_birthplace(&mut self, county: usize) -> &'static str {
        if self.dice.chance(0.7) {
            REGION_COUNTIES[county].code
        } else {
            self.dice.pick(REGION_COUNTIES).code
        }
    }

    fn add_person(&mut self, who: &Human, household: &Household, relation: Relation, registered_on: NaiveDate) {
        self.add_person_born(who, who.id.birth_date(), household, relation, registered_on);
    }

    fn add_person_born(
        &mut self,
        who: &Human,
        birth_date: NaiveDate,
        household: &Household,
        relation: Relation,
        registered_on: NaiveDate,
    ) {
        self.persons.push(wire::Person {
            id: who.id.clone(),
            name: who.name.clone(),
            sex: if who.male() { Sex::M } else { Sex::F },
            birth_date,
            household_no: household.no.clone(),
            relation_to_head: relation,
            registered_on,
            region: household.region.clone(),
            address: household.address.clone(),
        });
    }

    fn add_birth(&mut self, child: &Human, birth_date: NaiveDate, mother: &NationalId, father: Option<&NationalId>) {
        self.cert_seq += 1;
        self.births.push(wire::Birth {
            certificate_no: format!("Q{}{:07}", child.id.region_code(), self.cert_seq),
            child_id: child.id.clone(),
            child_name: child.name.clone(),
            birth_date,
            mother_id: mother.clone(),
            father_id: father.cloned(),
        });
    }

    // ----- places -------------------------------------------------------

    /// A free room in one of `pool`'s buildings: a random one, or when the
    /// pool is crowded the first free one in order (rooms 03 to 99 of a floor
    /// count as well then, so a pool never runs out).
    fn dwelling(&mut self, pool: &[usize]) -> Dwelling {
        for _ in 0..64 {
            let building = *self.dice.pick(pool);
            let b = &self.geo.buildings[building];
            let unit = self.dice.between(1, i64::from(b.units)) as u8;
            let floor = self.dice.between(1, i64::from(b.floors)) as u16;
            let room = floor * 100 + self.dice.between(1, 2) as u16;
            if let Some(d) = self.claim(building, unit, room) {
                return d;
            }
        }
        for per_floor in [2u16, 99] {
            for &building in pool {
                let b = &self.geo.buildings[building];
                let (units, floors) = (b.units, u16::from(b.floors));
                for unit in 1..=units {
                    for floor in 1..=floors {
                        for r in 1..=per_floor {
                            if let Some(d) = self.claim(building, unit, floor * 100 + r) {
                                return d;
                            }
                        }
                    }
                }
            }
        }
        unreachable!("a pool of buildings holds thousands of rooms")
    }

    fn claim(&mut self, building: usize, unit: u8, room: u16) -> Option<Dwelling> {
        let code = self.geo.code(building, unit, room);
        self.taken.insert(code.clone()).then_some(Dwelling {
            building,
            unit,
            room,
            code,
        })
    }

    fn known_dwelling(&mut self, county: usize) -> Dwelling {
        let pool = std::mem::take(&mut self.geo.known_by_county[county]);
        let d = self.dwelling(&pool);
        self.geo.known_by_county[county] = pool;
        d
    }

    /// A dwelling whose text, written in `style` as `case` says, fares that way
    /// in address search; returns how the record should write it.
    fn dwelling_for_text(&mut self, county: usize, case: Option<TextCase>, style: Style) -> (Dwelling, Form) {
        let (pool, form) = match case {
            None => (self.geo.known_by_county[county].clone(), Form::Coded),
            // Only a permit text (no county) can stay unique or not by road and number.
            Some(TextCase::Resolves) if style == Style::Permit => {
                (self.geo.unambiguous_by_county[county].clone(), Form::TextOnly)
            }
            Some(TextCase::Resolves) => (self.geo.known_by_county[county].clone(), Form::TextOnly),
            Some(TextCase::Ambiguous) => (self.geo.ambiguous_by_county[county].clone(), Form::TextOnly),
            Some(TextCase::Unknown) => {
                // Property texts go wrong by form only: a family property must be
                // in a building the zone registry knows to give any tier.
                if style != Style::Property && self.dice.chance(0.5) {
                    (self.geo.unknown_by_county[county].clone(), Form::TextOnly)
                } else {
                    (self.geo.known_by_county[county].clone(), Form::Malformed)
                }
            }
        };
        (self.dwelling(&pool), form)
    }

    fn address(&self, d: &Dwelling, style: Style, form: Form) -> WireAddress {
        let text = match (style, form) {
            (Style::Household, Form::Malformed) => {
                let proper = self.geo.household_text(d.building, d.unit, d.room);
                let number = self.geo.buildings[d.building].number;
                proper.replacen(
                    &format!("{number}号"),
                    &format!("{}号", names::chinese_digits(number)),
                    1,
                )
            }
            (Style::Household, _) => self.geo.household_text(d.building, d.unit, d.room),
            (Style::Property, Form::Malformed) => {
                // The unit and room were never entered.
                let proper = self.geo.property_text(d.building, d.unit, d.room);
                let cut = proper.rfind('号').map_or(proper.len(), |i| i + '号'.len_utf8());
                proper[..cut].to_owned()
            }
            (Style::Property, _) => self.geo.property_text(d.building, d.unit, d.room),
            (Style::Permit, Form::Malformed) => {
                let number = self.geo.buildings[d.building].number;
                format!(
                    "{} {}号 {}单元 {}室",
                    self.geo.roads[self.geo.buildings[d.building].road].name,
                    names::chinese_digits(number),
                    d.unit,
                    d.room
                )
            }
            (Style::Permit, _) => self.geo.permit_text(d.building, d.unit, d.room),
        };
        WireAddress {
            code: (form == Form::Coded).then(|| d.code.clone()),
            text,
        }
    }

    fn city_household(&mut self, d: &Dwelling, form: Form) -> Household {
        let b = &self.geo.buildings[d.building];
        let county = REGION_COUNTIES[b.county].code;
        let prefix = format!("{}{:03}", county, self.geo.streets[b.street].code);
        let seq = self.household_seq.entry(prefix.clone()).or_insert(0);
        *seq += 1;
        let no = format!("{prefix}{seq:06}");
        Household {
            no,
            region: self.geo.county_code(b.county),
            address: self.address(d, Style::Household, form),
        }
    }

    /// A household elsewhere in the province; the zone registry knows none of it.
    fn province_household(&mut self, county: usize, text_only: bool) -> Household {
        let c = &PROVINCE_COUNTIES[county];
        let street = self.dice.below(c.streets.len());
        let road = *self.dice.pick(PROVINCE_ROADS);
        let number = self.dice.between(1, 300) as u32;
        let unit = self.dice.between(1, 4) as u8;
        let room = (self.dice.between(1, 18) * 100 + self.dice.between(1, 2)) as u16;
        let prefix = format!("{}{:03}", c.code, street + 1);
        let seq = self.household_seq.entry(prefix.clone()).or_insert(0);
        *seq += 1;
        let no = format!("{prefix}{seq:06}");
        let code = AddressCode::parse(&format!(
            "{}-{:03}-{:05}-{unit:02}-{room:04}",
            c.code,
            street + 1,
            number
        ))
        .expect("province address codes are well formed");
        let text = format!(
            "{}{}{}{road}{number}号{unit}单元{room}室",
            c.city, c.name, c.streets[street]
        );
        Household {
            no,
            region: CountyCode::parse(c.code).expect("six digits"),
            address: WireAddress {
                code: (!text_only).then_some(code),
                text,
            },
        }
    }

    /// 不动产单元号 of a dwelling: 宗地 (county, street, 001), GB, building, F, unit, room.
    fn unit_no(code: &AddressCode) -> String {
        let s = code.as_str();
        format!(
            "{}{}001GB{}F00{}{}",
            &s[0..6],
            &s[7..10],
            &s[11..16],
            &s[17..19],
            &s[20..24]
        )
    }

    fn add_property(
        &mut self,
        d: &Dwelling,
        form: Form,
        usage: wire::Usage,
        status: wire::UnitStatus,
        registered_on: NaiveDate,
        owners: Vec<(NationalId, u32)>,
    ) -> String {
        let unit_no = Self::unit_no(&d.code);
        self.properties.push(wire::Property {
            unit_no: unit_no.clone(),
            address: self.address(d, Style::Property, form),
            usage,
            registered_on,
            status,
            owners: owners
                .into_iter()
                .map(|(id, share_pct)| wire::Owner { id, share_pct })
                .collect(),
        });
        unit_no
    }

    fn add_permit(&mut self, holder: &NationalId, d: &Dwelling, form: Form, issued: NaiveDate, until: NaiveDate) {
        self.permit_seq += 1;
        let county = REGION_COUNTIES[self.geo.buildings[d.building].county].code;
        self.permits.push(wire::Permit {
            permit_no: format!("JZ{county}{:08}", self.permit_seq),
            holder_id: holder.clone(),
            address: self.address(d, Style::Permit, form),
            issued_on: issued,
            valid_until: until,
        });
    }

    /// Insurance on file with `in_window` months inside the policy window
    /// (not necessarily consecutive) and a run of older months before it.
    fn add_insurance(&mut self, who: &NationalId, in_window: usize) {
        let mut window = policy::insurance_window();
        self.dice.shuffle(&mut window);
        let mut months: Vec<String> = window.into_iter().take(in_window).collect();
        let before = self.dice.between(0, 30) as u32;
        if before > 0 {
            let end = date(2025, 4, 1);
            let start = end - Months::new(before - 1);
            months.extend(policy::months_between(month_of(start), month_of(end)));
        }
        // May 2027 is on file for some, after the window closed.
        if in_window > 0 && self.dice.chance(0.3) {
            months.push("2027-05".to_owned());
        }
        months.sort();
        self.insurance.push(wire::Insurance {
            id: who.clone(),
            months,
        });
    }

    // ----- one family ---------------------------------------------------

    pub(crate) fn family(&mut self, index: usize) {
        let r = self.rates;
        let trigger = Trigger::ALL[self.dice.weighted(&Trigger::ALL.map(|t| r.trigger(t)))];
        let residence = Residence::ALL[self.dice.weighted(&r.residence)];
        let weights: Vec<f64> = REGION_COUNTIES.iter().map(|c| c.weight).collect();
        let county = self.dice.weighted(&weights);
        let from_province = match residence {
            Residence::ProvinceOwner => true,
            _ if residence.migrant() => self.dice.chance(r.migrant_from_province),
            _ => false,
        };
        let province_county = self
            .dice
            .weighted(&PROVINCE_COUNTIES.iter().map(|c| c.weight).collect::<Vec<_>>());
        let province_text_only = from_province && self.dice.chance(r.province_text_only);
        let origin: String = if residence.city_hukou() {
            REGION_COUNTIES[county].code.to_owned()
        } else if from_province {
            PROVINCE_COUNTIES[province_county].code.to_owned()
        } else {
            (*self.dice.pick(OTHER_PROVINCES)).to_owned()
        };
        let adult_origin = |b: &mut Self| -> String {
            if residence.city_hukou() {
                b.city_birthplace(county).to_owned()
            } else {
                origin.clone()
            }
        };

        // The people.
        let single_mother = self.dice.chance(r.single_mother);
        let surname = names::surname(&mut self.dice);
        let mother_surname = names::surname(&mut self.dice);
        let region = adult_origin(self);
        let mother = self.adult(&region, false, mother_surname, 1984, 1996);
        let father = if single_mother {
            None
        } else {
            let region = adult_origin(self);
            Some(self.adult(&region, true, surname, 1982, 1995))
        };
        let child_surname = if single_mother { mother_surname } else { surname };
        let child_birth = match trigger {
            Trigger::TooYoung => self.dice.day(date(2021, 9, 1), date(2022, 6, 30)),
            Trigger::TooOld => self.dice.day(date(2019, 9, 1), date(2020, 8, 31)),
            _ => self.dice.day(policy::BORN_ON_OR_AFTER, policy::BORN_ON_OR_BEFORE),
        };
        let male = self.dice.chance(0.5);
        let child = self.human(&origin, child_birth, male, child_surname);
        let sibling = if self.dice.chance(r.older_sibling_at_school) {
            let grade = self.dice.between(1, 6) as u8;
            let entry = policy::ENTRY_YEAR - i32::from(grade);
            let birth = self.dice.day(date(entry - 7, 9, 1), date(entry - 6, 8, 31));
            let male = self.dice.chance(0.5);
            Some((self.human(&origin, birth, male, child_surname), grade))
        } else {
            None
        };
        let sibling_declared = sibling.is_some() && !self.dice.chance(r.sibling_undeclared);

        let mut draft = Draft {
            mother,
            father,
            child,
            sibling,
            claims: Vec::new(),
            home: None,
            counties: Vec::new(),
            family_unit: None,
            shares: Vec::new(),
            permit_holder: None,
            grandparents: Vec::new(),
            in_child_household: Vec::new(),
        };
        let mut profile = FamilyProfile {
            application_id: uuid::Uuid::nil(),
            child_id: draft.child.id.clone(),
            trigger,
            residence,
            family_property: false,
            from_province,
            province_text_only,
            home_building_unknown: false,
            household_text: None,
            property_text: None,
            permit_text: None,
            seat_use: None,
            sibling_grade: draft.sibling.as_ref().map(|s| s.1),
            sibling_declared,
            unverifiable_sibling: false,
            single_mother,
            applicant_alone: false,
            second_permit: false,
            private_choice: false,
            repeated_choice: false,
            bogus_choice: None,
            no_choices: false,
        };

        // A birth date that disagrees on the household record, where there is one.
        let child_has_record = residence.city_hukou() || from_province;
        let hukou_disagrees = trigger == Trigger::BirthDatesDisagree && child_has_record && self.dice.chance(0.5);
        let child_hukou_birth = if hukou_disagrees {
            self.shifted(draft.child.id.birth_date())
        } else {
            draft.child.id.birth_date()
        };

        // Text-only records and unknown buildings: at most one per family.
        if residence.city_hukou() {
            if self.dice.chance(r.home_building_unknown) {
                profile.home_building_unknown = true;
            } else if self.dice.chance(r.household_text_only) {
                profile.household_text = Some(if self.dice.chance(r.household_text_unknown) {
                    TextCase::Unknown
                } else {
                    TextCase::Resolves
                });
            }
        }

        self.residence(&mut draft, &mut profile, county, province_county, child_hukou_birth);

        // Where the older sibling is at school, and the seat use it left.
        if let Some((sib, grade)) = draft.sibling.clone() {
            let entry = policy::ENTRY_YEAR - i32::from(grade);
            let unit_schools = draft
                .family_unit
                .as_ref()
                .map(|u| self.geo.open_primaries(u.dwelling.building))
                .unwrap_or_default();
            let school = if !unit_schools.is_empty() {
                let s = *self.dice.pick(&unit_schools);
                let unit_no = draft
                    .family_unit
                    .as_ref()
                    .map(|u| u.unit_no.clone())
                    .unwrap_or_default();
                self.uses.entry(unit_no).or_default().push(wire::SeatUse {
                    year: entry,
                    school_id: self.geo.schools[s].id.clone(),
                    child_id: sib.id.clone(),
                });
                profile.seat_use = Some(SeatUseCase::OlderSibling);
                s
            } else {
                self.some_school_for(&draft, county)
            };
            self.places.push(wire::ChildPlace {
                child_id: sib.id.clone(),
                school_id: self.geo.schools[school].id.clone(),
                grade,
            });
            let father = draft.father.as_ref().map(|f| f.id.clone());
            let mother = draft.mother.id.clone();
            self.add_birth(&sib, sib.id.birth_date(), &mother, father.as_ref());
        }

        // The child's certificate.
        match trigger {
            Trigger::NoBirthCertificate => {}
            _ => {
                let cert_birth = if trigger == Trigger::BirthDatesDisagree && !hukou_disagrees {
                    self.shifted(draft.child.id.birth_date())
                } else {
                    draft.child.id.birth_date()
                };
                let father = draft.father.as_ref().map(|f| f.id.clone());
                let mother = draft.mother.id.clone();
                let child = draft.child.clone();
                self.add_birth(&child, cert_birth, &mother, father.as_ref());
            }
        }
        if trigger == Trigger::AlreadyAtSchool {
            let school = if self.dice.chance(0.3) {
                *self.dice.pick(&self.geo.privates)
            } else {
                self.some_school_for(&draft, county)
            };
            self.places.push(wire::ChildPlace {
                child_id: draft.child.id.clone(),
                school_id: self.geo.schools[school].id.clone(),
                grade: 1,
            });
        }

        // A declared "sibling" who is a cousin, or whose birth was never registered.
        let mut sibling_ids = Vec::new();
        if sibling_declared && let Some((sib, _)) = &draft.sibling {
            sibling_ids.push(sib.id.clone());
        }
        if self.dice.chance(r.unverifiable_sibling) {
            profile.unverifiable_sibling = true;
            let birth = self.dice.day(date(2014, 9, 1), date(2019, 8, 31));
            let male = self.dice.chance(0.5);
            let region = adult_origin(self);
            let cousin = self.human(&region, birth, male, child_surname);
            if self.dice.chance(0.5) {
                let aunt_surname = names::surname(&mut self.dice);
                let aunt = self.adult(&region, false, aunt_surname, 1980, 1992);
                let uncle = self.adult(&region, true, child_surname, 1980, 1992);
                self.add_birth(&cousin, cousin.id.birth_date(), &aunt.id, Some(&uncle.id));
                // The cousin is at a school the family lists, so a wrongly
                // verified sibling would show.
                let school = self.some_school_for(&draft, county);
                let grade = self.dice.between(1, 5) as u8;
                self.places.push(wire::ChildPlace {
                    child_id: cousin.id.clone(),
                    school_id: self.geo.schools[school].id.clone(),
                    grade,
                });
            }
            let at = self.dice.between(0, sibling_ids.len() as i64) as usize;
            sibling_ids.insert(at, cousin.id);
        }

        self.application(index, &mut draft, &mut profile, sibling_ids, county);

        // Demand for capacities: eligible children at their home's schools.
        if trigger == Trigger::None {
            match draft.home {
                Some(b) => {
                    let zoned = self.geo.open_primaries(b);
                    for &s in &zoned {
                        self.demand[s] += 1.0 / zoned.len() as f64;
                    }
                }
                None => {
                    let schools = self.geo.primaries_by_county[county].clone();
                    for &s in &schools {
                        self.demand[s] += 1.0 / schools.len() as f64;
                    }
                }
            }
        }
        self.profiles.push(profile);
    }

    /// A date a clerk got wrong: a few days or a month off.
    fn shifted(&mut self, d: NaiveDate) -> NaiveDate {
        let days = self.dice.between(1, 40) as u64;
        if self.dice.chance(0.5) {
            d + Days::new(days)
        } else {
            d - Days::new(days)
        }
    }

    /// A public primary school of the family's zones, or of its county.
    fn some_school_for(&mut self, draft: &Draft, county: usize) -> usize {
        let mut zoned = Vec::new();
        for &b in &draft.claims {
            zoned.extend(self.geo.open_primaries(b));
        }
        if zoned.is_empty() {
            zoned = self.geo.primaries_by_county[county]
                .iter()
                .copied()
                .filter(|&s| !self.geo.schools[s].opens_later)
                .collect();
        }
        *self.dice.pick(&zoned)
    }

    /// Registration and purchase dates for a family unit, with the seat uses
    /// policy.md cares about. Returns the unit's `registered_on`.
    fn family_unit_history(
        &mut self,
        sibling_grade: Option<u8>,
        profile: &mut FamilyProfile,
        d: &Dwelling,
        unit_no: &str,
        county: usize,
    ) -> NaiveDate {
        let zoned = self.geo.open_primaries(d.building);
        if let Some(grade) = sibling_grade {
            // Owned since before the older sibling started school there.
            let entry = policy::ENTRY_YEAR - i32::from(grade);
            return self.dice.day(date(2008, 1, 1), date(entry, 6, 30));
        }
        if zoned.is_empty() {
            return self.dice.day(date(2008, 1, 1), date(2026, 6, 30));
        }
        let r = self.rates;
        let year = if self.dice.chance(r.seat_lock_stranger) {
            profile.seat_use = Some(SeatUseCase::Stranger);
            Some(self.dice.between(
                i64::from(policy::SEAT_LOCK_FIRST_YEAR),
                i64::from(policy::SEAT_LOCK_LAST_YEAR) - 1,
            ) as i32)
        } else if self.dice.chance(r.seat_use_before_window) {
            profile.seat_use = Some(SeatUseCase::StrangerBeforeWindow);
            Some(self.dice.between(2015, i64::from(policy::SEAT_LOCK_FIRST_YEAR) - 1) as i32)
        } else {
            None
        };
        match year {
            Some(year) => {
                // The previous owner's child took the place; the family bought later.
                let school = *self.dice.pick(&zoned);
                let birth = self.dice.day(date(year - 7, 9, 1), date(year - 6, 8, 31));
                let male = self.dice.chance(0.5);
                let stranger = self
                    .ids
                    .issue(&mut self.dice, REGION_COUNTIES[county].code, birth, male);
                self.uses.entry(unit_no.to_owned()).or_default().push(wire::SeatUse {
                    year,
                    school_id: self.geo.schools[school].id.clone(),
                    child_id: stranger,
                });
                self.dice.day(date(year, 10, 1), date(2026, 6, 30))
            }
            None => self.dice.day(date(2008, 1, 1), date(2026, 6, 30)),
        }
    }

    /// The parents' shares in a unit they own outright.
    fn parent_shares(&mut self, draft: &Draft) -> Vec<(NationalId, u32)> {
        match &draft.father {
            None => vec![(draft.mother.id.clone(), 100)],
            Some(f) => match self.dice.below(20) {
                0..=11 => vec![(f.id.clone(), 50), (draft.mother.id.clone(), 50)],
                12..=16 => vec![(f.id.clone(), 100)],
                _ => vec![(draft.mother.id.clone(), 100)],
            },
        }
    }

    /// The form of the family property's record, drawn once per family.
    fn property_form(&mut self, profile: &mut FamilyProfile) -> Form {
        let r = self.rates;
        if profile.household_text.is_some() || profile.home_building_unknown {
            return Form::Coded;
        }
        if !self.dice.chance(r.property_text_only) {
            return Form::Coded;
        }
        if self.dice.chance(r.property_text_unknown) {
            profile.property_text = Some(TextCase::Unknown);
            Form::Malformed
        } else {
            profile.property_text = Some(TextCase::Resolves);
            Form::TextOnly
        }
    }

    /// The child's home in the city: a known building, a building the zone
    /// registry lacks, or text only, as the profile says.
    fn city_home(&mut self, profile: &FamilyProfile, county: usize) -> (Dwelling, Form) {
        if profile.home_building_unknown {
            let pool = self.geo.unknown_by_county[county].clone();
            (self.dwelling(&pool), Form::Coded)
        } else {
            self.dwelling_for_text(county, profile.household_text, Style::Household)
        }
    }

    /// Household members: the head and spouse (the parents), then the children.
    fn parents_household(&mut self, draft: &Draft, household: &Household, registered_on: NaiveDate) {
        let (head, spouse) = match &draft.father {
            Some(f) => (f.clone(), Some(draft.mother.clone())),
            None => (draft.mother.clone(), None),
        };
        self.add_person(&head, household, Relation::Head, registered_on);
        if let Some(s) = spouse {
            // Married in later, but before applying.
            let on = after(registered_on, self.dice.between(0, 400)).min(date(2027, 4, 30).max(registered_on));
            self.add_person(&s, household, Relation::Spouse, on);
        }
    }

    fn add_children(
        &mut self,
        draft: &Draft,
        household: &Household,
        relation: Relation,
        child_birth_on_record: NaiveDate,
        not_before: NaiveDate,
    ) {
        let child = draft.child.clone();
        let on = after(child.id.birth_date(), self.dice.between(15, 90)).max(not_before);
        self.add_person_born(&child, child_birth_on_record, household, relation, on);
        if let Some((sib, _)) = draft.sibling.clone() {
            let on = after(sib.id.birth_date(), self.dice.between(15, 90)).max(not_before);
            self.add_person(&sib, household, relation, on);
        }
    }

    fn grandparents(&mut self, county: usize, surname: &str) -> (Human, Human) {
        let region = self.city_birthplace(county);
        let gf = self.adult(region, true, surname, 1950, 1964);
        let gm_surname = names::surname(&mut self.dice);
        let gm = self.adult(region, false, gm_surname, 1952, 1966);
        (gf, gm)
    }

    fn residence(
        &mut self,
        draft: &mut Draft,
        profile: &mut FamilyProfile,
        county: usize,
        province_county: usize,
        child_hukou_birth: NaiveDate,
    ) {
        let surname: String = draft.child.name.chars().take(1).collect();
        match profile.residence {
            Residence::OwnerAtHome | Residence::CoOwnerAtShare | Residence::CoOwnerUnderShare => {
                let (home, hh_form) = self.city_home(profile, county);
                let unit_no = Self::unit_no(&home.code);
                let owners = match profile.residence {
                    Residence::OwnerAtHome => self.parent_shares(draft),
                    _ => self.co_owners(draft, profile.residence == Residence::CoOwnerAtShare, county),
                };
                let prop_form = if profile.residence == Residence::CoOwnerUnderShare {
                    Form::Coded
                } else {
                    self.property_form(profile)
                };
                let is_family = profile.residence != Residence::CoOwnerUnderShare;
                let prop_date = if is_family {
                    let grade = draft.sibling.as_ref().map(|s| s.1);
                    self.family_unit_history(grade, profile, &home, &unit_no, county)
                } else {
                    self.dice.day(date(2008, 1, 1), date(2026, 6, 30))
                };
                self.add_property(
                    &home,
                    prop_form,
                    wire::Usage::Residential,
                    wire::UnitStatus::Normal,
                    prop_date,
                    owners.clone(),
                );
                let household = self.city_household(&home, hh_form);
                let moved_in = after(prop_date, self.dice.between(5, 60));
                self.parents_household(draft, &household, moved_in);
                self.add_children(draft, &household, Relation::Child, child_hukou_birth, moved_in);
                draft.claims.push(home.building);
                draft.home = Some(home.building);
                draft.counties.push(county);
                draft.shares = owners;
                if is_family {
                    profile.family_property = true;
                    draft.family_unit = Some(FamilyUnit {
                        dwelling: home,
                        unit_no,
                    });
                }
            }
            Residence::OwnerRegisteredElsewhere => {
                let (home, hh_form) = self.city_home(profile, county);
                let household = self.city_household(&home, hh_form);
                let registered = self.dice.day(date(2010, 1, 1), date(2020, 12, 31));
                self.parents_household(draft, &household, registered);
                self.add_children(draft, &household, Relation::Child, child_hukou_birth, registered);
                let prop_county = if self.dice.chance(0.25) {
                    self.dice.below(REGION_COUNTIES.len())
                } else {
                    county
                };
                let owned = self.known_dwelling(prop_county);
                self.own_family_unit(draft, profile, owned, prop_county);
                draft.claims.insert(0, home.building);
                draft.home = Some(home.building);
                draft.counties.extend([county, prop_county]);
            }
            Residence::RegisteredAtGrandparents => {
                let (gp_home, hh_form) = self.city_home(profile, county);
                let (gf, gm) = self.grandparents(county, &surname);
                let bought = self.dice.day(date(1998, 1, 1), date(2012, 12, 31));
                self.add_property(
                    &gp_home,
                    Form::Coded,
                    wire::Usage::Residential,
                    wire::UnitStatus::Normal,
                    bought,
                    vec![(gf.id.clone(), 50), (gm.id.clone(), 50)],
                );
                let household = self.city_household(&gp_home, hh_form);
                let since = self.dice.day(date(1995, 1, 1), date(2012, 12, 31));
                self.add_person(&gf, &household, Relation::Head, since);
                self.add_person(&gm, &household, Relation::Spouse, since);
                self.add_children(draft, &household, Relation::Grandchild, child_hukou_birth, since);
                draft.grandparents = vec![gf, gm];
                draft.claims.push(gp_home.building);
                draft.home = Some(gp_home.building);
                draft.counties.push(county);
                // The parents' own household: in a home they own, or rented.
                let parents_home = self.known_dwelling(county);
                let parents_household = self.city_household(&parents_home, Form::Coded);
                let registered = self.dice.day(date(2010, 1, 1), date(2021, 12, 31));
                self.parents_household(draft, &parents_household, registered);
                if self.dice.chance(0.6) {
                    self.own_family_unit(draft, profile, parents_home, county);
                }
            }
            Residence::HukouOnly => {
                let (home, hh_form) = self.city_home(profile, county);
                let household = self.city_household(&home, hh_form);
                if self.dice.chance(0.5) {
                    // Registered in the grandparents' household, parents included.
                    let (gf, gm) = self.grandparents(county, &surname);
                    let bought = self.dice.day(date(1998, 1, 1), date(2012, 12, 31));
                    self.add_property(
                        &home,
                        Form::Coded,
                        wire::Usage::Residential,
                        wire::UnitStatus::Normal,
                        bought,
                        vec![(gf.id.clone(), 100)],
                    );
                    let since = self.dice.day(date(1995, 1, 1), date(2012, 12, 31));
                    self.add_person(&gf, &household, Relation::Head, since);
                    self.add_person(&gm, &household, Relation::Spouse, since);
                    let parent = draft.father.clone().unwrap_or_else(|| draft.mother.clone());
                    draft.in_child_household = vec![parent.id.clone()];
                    let on = self.dice.day(date(2008, 1, 1), date(2019, 12, 31));
                    self.add_person(&parent, &household, Relation::Child, on);
                    self.add_children(draft, &household, Relation::Grandchild, child_hukou_birth, since);
                    draft.grandparents = vec![gf, gm];
                } else {
                    // The parents' own household at a rented flat.
                    let registered = self.dice.day(date(2010, 1, 1), date(2020, 12, 31));
                    self.parents_household(draft, &household, registered);
                    self.add_children(draft, &household, Relation::Child, child_hukou_birth, registered);
                }
                draft.claims.push(home.building);
                draft.home = Some(home.building);
                draft.counties.push(county);
            }
            Residence::NotFamilyProperty => {
                let (home, hh_form) = self.city_home(profile, county);
                let (usage, status) = if self.dice.chance(0.5) {
                    (wire::Usage::Commercial, wire::UnitStatus::Normal)
                } else {
                    (wire::Usage::Residential, wire::UnitStatus::Sealed)
                };
                let prop_date = self.dice.day(date(2008, 1, 1), date(2026, 6, 30));
                let owners = self.parent_shares(draft);
                self.add_property(&home, Form::Coded, usage, status, prop_date, owners.clone());
                let household = self.city_household(&home, hh_form);
                let moved_in = after(prop_date, self.dice.between(5, 60));
                self.parents_household(draft, &household, moved_in);
                self.add_children(draft, &household, Relation::Child, child_hukou_birth, moved_in);
                draft.claims.push(home.building);
                draft.home = Some(home.building);
                draft.counties.push(county);
                draft.shares = owners;
            }
            Residence::MovedAfterCutoff => {
                let (home, hh_form) = self.city_home(profile, county);
                let prop_date = self.dice.day(date(2026, 9, 1), date(2027, 2, 28));
                let owners = self.parent_shares(draft);
                self.add_property(
                    &home,
                    Form::Coded,
                    wire::Usage::Residential,
                    wire::UnitStatus::Normal,
                    prop_date,
                    owners.clone(),
                );
                let household = self.city_household(&home, hh_form);
                let moved_in = after(prop_date, self.dice.between(5, 40));
                self.parents_household(draft, &household, moved_in);
                self.add_children(draft, &household, Relation::Child, child_hukou_birth, moved_in);
                draft.claims.push(home.building);
                draft.home = Some(home.building);
                draft.counties.push(county);
                draft.shares = owners;
            }
            Residence::MigrantQualifying
            | Residence::MigrantShortMonths
            | Residence::MigrantLatePermit
            | Residence::MigrantExpiringPermit => {
                if profile.from_province {
                    let household = self.province_household(province_county, profile.province_text_only);
                    let registered = self.dice.day(date(2008, 1, 1), date(2019, 12, 31));
                    self.parents_household(draft, &household, registered);
                    self.add_children(draft, &household, Relation::Child, child_hukou_birth, registered);
                }
                self.migrant_permits(draft, profile, county);
            }
            Residence::ProvinceOwner => {
                let household = self.province_household(province_county, profile.province_text_only);
                let registered = self.dice.day(date(2008, 1, 1), date(2019, 12, 31));
                self.parents_household(draft, &household, registered);
                self.add_children(draft, &household, Relation::Child, child_hukou_birth, registered);
                let owned = self.known_dwelling(county);
                self.own_family_unit(draft, profile, owned, county);
                draft.counties.push(county);
            }
            Residence::NoClaim => {}
        }
        // City parents often pay social insurance too; never read for a city child.
        if profile.residence.city_hukou() && self.dice.chance(0.4) {
            let id = draft.father.as_ref().unwrap_or(&draft.mother).id.clone();
            let months = self.dice.between(0, 24) as usize;
            self.add_insurance(&id, months);
        }
    }

    /// Records a unit the parents own outright at `d` as the family property.
    fn own_family_unit(&mut self, draft: &mut Draft, profile: &mut FamilyProfile, d: Dwelling, county: usize) {
        let unit_no = Self::unit_no(&d.code);
        let owners = self.parent_shares(draft);
        let form = self.property_form(profile);
        let grade = draft.sibling.as_ref().map(|s| s.1);
        let prop_date = self.family_unit_history(grade, profile, &d, &unit_no, county);
        self.add_property(
            &d,
            form,
            wire::Usage::Residential,
            wire::UnitStatus::Normal,
            prop_date,
            owners.clone(),
        );
        if draft.home.is_none() {
            draft.home = Some(d.building);
        }
        draft.claims.push(d.building);
        draft.shares = owners;
        profile.family_property = true;
        draft.family_unit = Some(FamilyUnit { dwelling: d, unit_no });
    }

    /// Co-owners with a relative: the guardians' shares add up to exactly 50, or under.
    fn co_owners(&mut self, draft: &Draft, at_share: bool, county: usize) -> Vec<(NationalId, u32)> {
        let relative_surname: String = draft.child.name.chars().take(1).collect();
        let region = self.city_birthplace(county);
        let uncle = self.adult(region, true, &relative_surname, 1978, 1992);
        let mother = draft.mother.id.clone();
        match (&draft.father, at_share, self.dice.below(3)) {
            (Some(f), true, 0) => vec![(f.id.clone(), 50), (uncle.id, 50)],
            (Some(f), true, 1) => vec![(f.id.clone(), 25), (mother, 25), (uncle.id, 50)],
            (_, true, _) => vec![(mother, 50), (uncle.id, 50)],
            (Some(f), false, 0) => vec![(f.id.clone(), 49), (uncle.id, 51)],
            (Some(f), false, 1) => vec![(f.id.clone(), 20), (mother, 20), (uncle.id, 60)],
            (_, false, _) => vec![(mother, 30), (uncle.id, 70)],
        }
    }

    fn migrant_permits(&mut self, draft: &mut Draft, profile: &mut FamilyProfile, county: usize) {
        let r = self.rates;
        let kind = profile.residence;
        let holder = match &draft.father {
            Some(f) if self.dice.chance(0.6) => f.clone(),
            _ => draft.mother.clone(),
        };
        let other = match &draft.father {
            Some(f) if f.id != holder.id => Some(f.clone()),
            Some(_) => Some(draft.mother.clone()),
            None => None,
        };
        let second = kind == Residence::MigrantQualifying && other.is_some() && self.dice.chance(r.second_permit);
        let case = if !second && self.dice.chance(r.permit_text_only) {
            let x = self.dice.unit();
            Some(if x < r.permit_text_ambiguous {
                TextCase::Ambiguous
            } else if x < r.permit_text_ambiguous + r.permit_text_unknown {
                TextCase::Unknown
            } else {
                TextCase::Resolves
            })
        } else {
            None
        };
        profile.permit_text = case;
        profile.second_permit = second;
        let (d, form) = self.dwelling_for_text(county, case, Style::Permit);
        let (issued, until, months) = self.permit_terms(kind);
        self.add_permit(&holder.id, &d, form, issued, until);
        self.add_insurance(&holder.id, months);
        if let Some(other) = other {
            if second {
                // Same flat, the other parent's own terms: it may qualify or not.
                let (issued, until, months) = if self.dice.chance(0.5) {
                    self.permit_terms(Residence::MigrantQualifying)
                } else {
                    self.permit_terms(Residence::MigrantShortMonths)
                };
                self.add_permit(&other.id, &d, Form::Coded, issued, until);
                self.add_insurance(&other.id, months);
            } else if self.dice.chance(0.4) {
                // Working, but never took out a permit.
                let months = self.dice.between(0, 24) as usize;
                self.add_insurance(&other.id, months);
            }
        }
        draft.permit_holder = Some(holder.id.clone());
        draft.claims.push(d.building);
        if form == Form::Coded || case == Some(TextCase::Resolves) {
            draft.home = Some(d.building);
        }
        draft.counties.push(county);
    }

    /// `(issued_on, valid_until, months in the insurance window)` for a permit of `kind`.
    fn permit_terms(&mut self, kind: Residence) -> (NaiveDate, NaiveDate, usize) {
        let issued = self.dice.day(date(2019, 1, 1), policy::RESIDENCE_CUTOFF);
        let valid = self.dice.day(policy::PERMIT_VALID_ON, date(2031, 6, 30));
        match kind {
            Residence::MigrantShortMonths => (issued, valid, self.dice.between(0, 11) as usize),
            Residence::MigrantLatePermit => {
                let late = self.dice.day(date(2026, 9, 1), date(2027, 4, 15));
                let until = late + Months::new(60) - Days::new(1);
                (late, until, self.dice.between(12, 24) as usize)
            }
            Residence::MigrantExpiringPermit => {
                let until = self.dice.day(date(2026, 11, 1), date(2027, 8, 31));
                (issued, until, self.dice.between(12, 24) as usize)
            }
            _ => (issued, valid, self.dice.between(12, 24) as usize),
        }
    }

    // ----- the application ----------------------------------------------

    fn application(
        &mut self,
        index: usize,
        draft: &mut Draft,
        profile: &mut FamilyProfile,
        sibling_ids: Vec<NationalId>,
        county: usize,
    ) {
        let r = self.rates;
        let two_parents = draft.father.is_some();
        let can_go_alone = two_parents
            && !matches!(
                profile.residence,
                Residence::CoOwnerAtShare | Residence::CoOwnerUnderShare
            );
        profile.applicant_alone = can_go_alone && self.dice.chance(r.applicant_alone);
        let parents: Vec<Human> = std::iter::once(draft.mother.clone())
            .chain(draft.father.clone())
            .collect();
        let (mut applicant, mut guardians) = if profile.applicant_alone {
            // The one who holds what the family's claim rests on applies.
            let lead = if let Some(holder) = &draft.permit_holder {
                holder.clone()
            } else if let Some((id, _)) = draft.shares.iter().max_by_key(|(_, s)| *s) {
                id.clone()
            } else if let Some(id) = draft.in_child_household.first() {
                id.clone()
            } else {
                parents[self.dice.below(parents.len())].id.clone()
            };
            (lead, Vec::new())
        } else if two_parents && self.dice.chance(0.45) {
            (parents[1].id.clone(), vec![parents[0].id.clone()])
        } else {
            (
                parents[0].id.clone(),
                parents.iter().skip(1).map(|p| p.id.clone()).collect(),
            )
        };
        if profile.trigger == Trigger::GuardianNotParent {
            let surname: String = draft.child.name.chars().take(1).collect();
            if self.dice.chance(0.5) {
                // A grandparent applies for the family.
                let gp = match draft.grandparents.first() {
                    Some(g) => g.clone(),
                    None => {
                        let region = applicant.region_code().to_owned();
                        self.adult(&region, true, &surname, 1950, 1964)
                    }
                };
                guardians = vec![applicant.clone()];
                applicant = gp.id;
            } else {
                // The mother applies with her new husband, not on the certificate.
                let region = draft.mother.id.region_code().to_owned();
                let step_surname = names::surname(&mut self.dice);
                let step = self.adult(&region, true, step_surname, 1980, 1993);
                applicant = draft.mother.id.clone();
                guardians = vec![step.id];
            }
        }

        // Choices.
        let mut believed: Vec<usize> = Vec::new();
        for &b in &draft.claims {
            for s in self.geo.open_primaries(b) {
                if !believed.contains(&s) {
                    believed.push(s);
                }
            }
        }
        let mut choices: Vec<usize> = Vec::new();
        profile.no_choices = self.dice.chance(r.no_choices);
        if !profile.no_choices {
            self.dice.shuffle(&mut believed);
            let take = if believed.len() >= 2 && self.dice.chance(0.5) {
                2
            } else {
                1
            };
            choices.extend(believed.iter().take(take));
            if self.dice.chance(r.private_choice) {
                let p = *self.dice.pick(&self.geo.privates);
                choices.insert(0, p);
                profile.private_choice = true;
                self.private_demand[p] += 1;
            }
        }
        let mut ids: Vec<SchoolId> = choices.iter().map(|&s| self.geo.schools[s].id.clone()).collect();
        if !ids.is_empty() && self.dice.chance(r.repeated_choice) {
            profile.repeated_choice = true;
            let again = ids[self.dice.below(ids.len())].clone();
            ids.push(again);
        }
        if self.dice.chance(r.bogus_choice) {
            let (kind, id) = match self.dice.below(3) {
                0 => (
                    BogusChoice::UnknownSchool,
                    SchoolId::new(format!("S{}", self.geo.schools.len() + 101 + self.dice.below(50))),
                ),
                1 => {
                    let juniors = self.geo.juniors_by_county[county].clone();
                    let j = *self.dice.pick(&juniors);
                    (BogusChoice::JuniorSchool, self.geo.schools[j].id.clone())
                }
                _ => {
                    let elsewhere: Vec<usize> = (0..REGION_COUNTIES.len())
                        .filter(|c| !draft.counties.contains(c))
                        .collect();
                    let c = *self.dice.pick(&elsewhere);
                    let schools = self.geo.primaries_by_county[c].clone();
                    let s = *self.dice.pick(&schools);
                    (BogusChoice::PublicWithoutTier, self.geo.schools[s].id.clone())
                }
            };
            profile.bogus_choice = Some(kind);
            let at = self.dice.between(0, ids.len() as i64) as usize;
            ids.insert(at, id);
        }

        let submitted_at = submitted_in_may(&mut self.dice, 6, 20);
        let application_id = uuid::Builder::from_random_bytes(self.dice.bytes16()).into_uuid();
        profile.application_id = application_id;
        self.applications.push(Application {
            application_id,
            round: RoundId::new(policy::ROUND),
            child_id: draft.child.id.clone(),
            applicant_id: applicant,
            guardian_ids: guardians,
            sibling_ids,
            choices: ids,
            consent_id: ConsentId::new(format!("CNS-2027-{:07}", index + 1)),
            submitted_at,
        });
    }
}
