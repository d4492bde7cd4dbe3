//! The junior cohort (小升初): sixth-graders and their families, drawn from a
//! stream of their own after the first-grade families, so that adding them
//! changes no draw of the first-grade cohort (docs/city-generator.md,
//! "Junior cohort").

use chrono::{Datelike, Days};
use enrol_domain::{Application, ConsentId, NationalId, RoundId, SchoolId};
use serde::Serialize;
use uuid::Uuid;

use super::{Builder, Form, Human, after, submitted_in_may};
use crate::dice::Dice;
use crate::geo::{OTHER_PROVINCES, REGION_COUNTIES};
use crate::names;
use crate::policy::{self, date};
use crate::profile::SeatUseCase;
use crate::wire::{self, Relation};

/// The junior round's id (policy-junior.md).
pub const JUNIOR_ROUND: &str = "2027-junior";
/// The junior round's seat-lock years (2024–2026) and sibling grades.
pub const JUNIOR_SEAT_LOCK_FIRST_YEAR: i32 = policy::ENTRY_YEAR - 3;
pub const JUNIOR_SIBLING_GRADES: std::ops::RangeInclusive<u8> = 7..=8;

/// Salt of the junior stream's seed: the cohort never draws from the first-grade stream.
const JUNIOR_STREAM: u64 = 0x4A55_4E49_4F52_0019;

/// The status rule of policy-junior.md a junior family was drawn to meet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum JuniorTrigger {
    /// In grade 6 at a school of the zone registry.
    None,
    /// No record in the enrolment history (回流生): review 4.
    NotInHistory,
    /// In grade 5 or 7 (复读, 跳级): review 4.
    OtherGrade,
    /// In grade 6 at a school the zone registry does not list (转学生): review 4.
    SchoolUnknown,
}

/// Where a junior family lives and on what title.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum JuniorResidence {
    /// 房户一致 at a home the parents own.
    OwnerAtHome,
    /// The parents own a home in the city; the household is at a rented flat.
    OwnerElsewhere,
    /// City household at a rented flat (有户).
    HukouOnly,
    /// 随迁子女 with a qualifying permit.
    Migrant,
    /// A permit, but under 12 insurance months in the window.
    MigrantShortMonths,
    /// From outside the province, nothing in the city.
    NoClaim,
}

impl JuniorResidence {
    pub const ALL: [JuniorResidence; 6] = [
        JuniorResidence::OwnerAtHome,
        JuniorResidence::OwnerElsewhere,
        JuniorResidence::HukouOnly,
        JuniorResidence::Migrant,
        JuniorResidence::MigrantShortMonths,
        JuniorResidence::NoClaim,
    ];

    pub fn city_hukou(self) -> bool {
        matches!(
            self,
            JuniorResidence::OwnerAtHome | JuniorResidence::OwnerElsewhere | JuniorResidence::HukouOnly
        )
    }
}

/// How often each kind of junior family is drawn (docs/city-generator.md, "Junior cohort").
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct JuniorRates {
    pub not_in_history: f64,
    pub other_grade: f64,
    pub school_unknown: f64,
    /// Residence kinds, in the order of [`JuniorResidence::ALL`]; they sum to 1.
    pub residence: [f64; 6],
    /// Of grade-6 pupils at a school of the registry: at a private primary (feeds none).
    pub private_primary: f64,
    /// Of public primary schools: feeding no junior school.
    pub feeds_none: f64,
    /// Of public primary schools in a county with two juniors or more: feeding two.
    pub feeds_two: f64,
    /// Of families with a family property zoned for a junior school (no sibling use):
    /// a stranger's use there in 2024–2026.
    pub seat_lock_stranger: f64,
    /// Of the same families: a stranger's use there in 2019–2023.
    pub seat_use_before_window: f64,
    /// Of all junior families: an older sibling at a public junior school, grade 7, 8 or 9.
    pub older_sibling: f64,
    /// Of families that list schools: a private junior first.
    pub private_choice: f64,
    /// Of all junior families: no choices.
    pub no_choices: f64,
}

impl Default for JuniorRates {
    fn default() -> Self {
        JuniorRates {
            not_in_history: 0.03,
            other_grade: 0.02,
            school_unknown: 0.01,
            residence: [0.45, 0.10, 0.20, 0.17, 0.04, 0.04],
            private_primary: 0.08,
            feeds_none: 0.15,
            feeds_two: 0.30,
            seat_lock_stranger: 0.08,
            seat_use_before_window: 0.04,
            older_sibling: 0.15,
            private_choice: 0.08,
            no_choices: 0.15,
        }
    }
}

/// What the generator decided about one junior family (not part of the dataset).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct JuniorProfile {
    pub application_id: Uuid,
    pub child_id: NationalId,
    pub trigger: JuniorTrigger,
    pub residence: JuniorResidence,
    /// The school of the child's enrolment-history record, if any.
    pub current_school: Option<SchoolId>,
    /// The child is in grade 6 at a private primary (it feeds none).
    pub at_private_primary: bool,
    /// The family owns a family property in a building zoned for a junior school.
    pub zoned_property: bool,
    pub seat_use: Option<SeatUseCase>,
    /// Grade (7 to 9) of an older sibling at a junior school.
    pub sibling_grade: Option<u8>,
    pub private_choice: bool,
    pub no_choices: bool,
}

impl Builder<'_> {
    /// Draws `families` junior families after the first-grade ones, from a
    /// stream seeded by `seed` alone: feeder pairs, junior zoning for every
    /// known building, private juniors, then the families.
    pub(crate) fn junior_cohort(&mut self, seed: u64, families: usize, rates: &JuniorRates) {
        let first_grade_stream = std::mem::replace(&mut self.dice, Dice::new(seed ^ JUNIOR_STREAM));
        self.junior_map(families, rates);
        for i in 0..families {
            self.junior_family(i, rates);
        }
        self.dice = first_grade_stream;
    }

    /// Feeds, junior zones for buildings the map left without one, private juniors.
    fn junior_map(&mut self, families: usize, rates: &JuniorRates) {
        let geo = &mut self.geo;
        // Every known building is zoned for the nearest junior of its county
        // (the map zoned 30%; the rest get theirs here, without draws).
        for b in 0..geo.buildings.len() {
            if geo.buildings[b].junior.is_some() || !geo.buildings[b].known {
                continue;
            }
            let (lat, lon, county) = (geo.buildings[b].lat, geo.buildings[b].lon, geo.buildings[b].county);
            geo.buildings[b].junior = nearest(&geo.schools, &geo.juniors_by_county[county], lat, lon);
        }
        for c in 0..REGION_COUNTIES.len() {
            let juniors = geo.juniors_by_county[c].clone();
            for &j in &juniors {
                geo.schools[j].popular = self.dice.chance(0.3);
            }
            for &s in &geo.primaries_by_county[c].clone() {
                if geo.schools[s].opens_later || juniors.is_empty() || self.dice.chance(rates.feeds_none) {
                    continue;
                }
                let (lat, lon) = (geo.schools[s].lat, geo.schools[s].lon);
                let mut by_distance = juniors.clone();
                by_distance.sort_by(|&a, &b| {
                    let d = |j: usize| (geo.schools[j].lat - lat).powi(2) + (geo.schools[j].lon - lon).powi(2);
                    d(a).total_cmp(&d(b)).then(a.cmp(&b))
                });
                let two = by_distance.len() >= 2 && self.dice.chance(rates.feeds_two);
                by_distance.truncate(if two { 2 } else { 1 });
                by_distance.sort_by(|&a, &b| geo.schools[a].id.cmp(&geo.schools[b].id));
                geo.schools[s].feeds = by_distance;
            }
        }
        let privates = (families / 10_000).max(2);
        for k in 0..privates {
            let c = k % REGION_COUNTIES.len();
            let county = &REGION_COUNTIES[c];
            let id = SchoolId::new(format!("S{:03}", geo.schools.len() + 1));
            geo.private_juniors.push(geo.schools.len());
            geo.schools.push(crate::geo::School {
                id,
                name: format!("{}{}中学", county.city, ["英华", "致远", "弘毅", "博文"][k % 4]),
                kind: wire::SchoolKind::Private,
                stage: wire::Stage::Junior,
                county: c,
                lat: (county.lat - 0.019) + 0.002 * k as f64,
                lon: county.lon + 0.013,
                capacity: Default::default(),
                popular: true,
                opens_later: false,
                feeds: Vec::new(),
            });
            self.demand.push(0.0);
            self.private_demand.push(0);
        }
    }

    fn junior_family(&mut self, index: usize, r: &JuniorRates) {
        let triggers = [
            1.0 - r.not_in_history - r.other_grade - r.school_unknown,
            r.not_in_history,
            r.other_grade,
            r.school_unknown,
        ];
        let trigger = [
            JuniorTrigger::None,
            JuniorTrigger::NotInHistory,
            JuniorTrigger::OtherGrade,
            JuniorTrigger::SchoolUnknown,
        ][self.dice.weighted(&triggers)];
        let residence = JuniorResidence::ALL[self.dice.weighted(&r.residence)];
        let weights: Vec<f64> = REGION_COUNTIES.iter().map(|c| c.weight).collect();
        let county = self.dice.weighted(&weights);
        let origin: String = if residence.city_hukou() {
            REGION_COUNTIES[county].code.to_owned()
        } else {
            (*self.dice.pick(OTHER_PROVINCES)).to_owned()
        };

        let surname = names::surname(&mut self.dice);
        let mother_surname = names::surname(&mut self.dice);
        let mother = self.adult(&origin, false, mother_surname, 1976, 1988);
        let father = self.adult(&origin, true, surname, 1974, 1987);
        let birth = self.dice.day(
            date(policy::ENTRY_YEAR - 13, 9, 1),
            date(policy::ENTRY_YEAR - 12, 8, 31),
        );
        let male = self.dice.chance(0.5);
        let child = self.human(&origin, birth, male, surname);
        let sibling = if self.dice.chance(r.older_sibling) {
            let grade = self.dice.between(7, 9) as u8;
            let entry = policy::ENTRY_YEAR - i32::from(grade) + 6;
            let birth = self.dice.day(date(entry - 13, 9, 1), date(entry - 12, 8, 31));
            let male = self.dice.chance(0.5);
            Some((self.human(&origin, birth, male, surname), grade))
        } else {
            None
        };
        let mut profile = JuniorProfile {
            application_id: Uuid::nil(),
            child_id: child.id.clone(),
            trigger,
            residence,
            current_school: None,
            at_private_primary: false,
            zoned_property: false,
            seat_use: None,
            sibling_grade: sibling.as_ref().map(|s| s.1),
            private_choice: false,
            no_choices: false,
        };

        // Where the family lives, and the buildings its claims rest on (home first).
        let mut home: Option<usize> = None;
        let mut unit: Option<(usize, String)> = None;
        let moved_in;
        match residence {
            JuniorResidence::OwnerAtHome | JuniorResidence::OwnerElsewhere | JuniorResidence::HukouOnly => {
                let flat = self.known_dwelling(county);
                let household = self.city_household(&flat, Form::Coded);
                moved_in = self.dice.day(date(2005, 1, 1), date(2015, 6, 30));
                if residence == JuniorResidence::OwnerAtHome {
                    let owners = junior_shares(&mut self.dice, &mother, &father);
                    let bought = moved_in - Days::new(self.dice.between(5, 60) as u64);
                    let no = self.add_property(
                        &flat,
                        Form::Coded,
                        wire::Usage::Residential,
                        wire::UnitStatus::Normal,
                        bought,
                        owners,
                    );
                    unit = Some((flat.building, no));
                }
                self.add_person(&father, &household, Relation::Head, moved_in);
                self.add_person(&mother, &household, Relation::Spouse, moved_in);
                let on = after(child.id.birth_date(), self.dice.between(15, 90)).max(moved_in);
                self.add_person(&child, &household, Relation::Child, on);
                if let Some((sib, _)) = &sibling {
                    let on = after(sib.id.birth_date(), self.dice.between(15, 90)).max(moved_in);
                    self.add_person(sib, &household, Relation::Child, on);
                }
                home = Some(flat.building);
                if residence == JuniorResidence::OwnerElsewhere {
                    let owned = self.known_dwelling(county);
                    let bought = self.dice.day(date(2008, 1, 1), date(2026, 6, 30));
                    let owners = junior_shares(&mut self.dice, &mother, &father);
                    let no = self.add_property(
                        &owned,
                        Form::Coded,
                        wire::Usage::Residential,
                        wire::UnitStatus::Normal,
                        bought,
                        owners,
                    );
                    unit = Some((owned.building, no));
                }
            }
            JuniorResidence::Migrant | JuniorResidence::MigrantShortMonths => {
                let flat = self.known_dwelling(county);
                let holder = if self.dice.chance(0.6) { &father } else { &mother };
                let issued = self.dice.day(date(2019, 1, 1), policy::RESIDENCE_CUTOFF);
                let until = self.dice.day(policy::PERMIT_VALID_ON, date(2031, 6, 30));
                let months = if residence == JuniorResidence::Migrant {
                    self.dice.between(12, 24)
                } else {
                    self.dice.between(0, 11)
                } as usize;
                let holder = holder.id.clone();
                self.add_permit(&holder, &flat, Form::Coded, issued, until);
                self.add_insurance(&holder, months);
                home = Some(flat.building);
            }
            JuniorResidence::NoClaim => {}
        }

        // The junior the family's property is zoned for: seat uses there.
        let property_junior = unit.as_ref().and_then(|(b, _)| self.geo.buildings[*b].junior);
        profile.zoned_property = property_junior.is_some();
        let home_junior = home.and_then(|b| self.geo.buildings[b].junior);

        // The older sibling at a public junior: the home's (its seat a use of
        // the family's unit when that is where it was won), or the county's.
        if let Some((sib, grade)) = &sibling {
            let school = match home_junior.or(property_junior) {
                Some(j) => j,
                None => *self.dice.pick(&self.geo.juniors_by_county[county].clone()),
            };
            if let (Some((_, no)), Some(pj)) = (&unit, property_junior)
                && pj == school
            {
                self.uses.entry(no.clone()).or_default().push(wire::SeatUse {
                    year: policy::ENTRY_YEAR - i32::from(*grade) + 6,
                    school_id: self.geo.schools[school].id.clone(),
                    child_id: sib.id.clone(),
                });
                profile.seat_use = Some(SeatUseCase::OlderSibling);
            }
            self.places.push(wire::ChildPlace {
                child_id: sib.id.clone(),
                school_id: self.geo.schools[school].id.clone(),
                grade: *grade,
            });
            self.add_birth(sib, sib.id.birth_date(), &mother.id, Some(&father.id));
        }
        if profile.seat_use.is_none()
            && let (Some((_, no)), Some(pj)) = (&unit, property_junior)
        {
            let x = self.dice.unit();
            let years = if x < r.seat_lock_stranger {
                profile.seat_use = Some(SeatUseCase::Stranger);
                Some((JUNIOR_SEAT_LOCK_FIRST_YEAR, policy::ENTRY_YEAR - 1))
            } else if x < r.seat_lock_stranger + r.seat_use_before_window {
                profile.seat_use = Some(SeatUseCase::StrangerBeforeWindow);
                Some((JUNIOR_SEAT_LOCK_FIRST_YEAR - 5, JUNIOR_SEAT_LOCK_FIRST_YEAR - 1))
            } else {
                None
            };
            if let Some((from, to)) = years {
                let year = self.dice.between(i64::from(from), i64::from(to)) as i32;
                let birth = self.dice.day(date(year - 13, 9, 1), date(year - 12, 8, 31));
                let region = REGION_COUNTIES[county].code;
                let male = self.dice.chance(0.5);
                let stranger = self.human(region, birth, male, "陈");
                self.uses.entry(no.clone()).or_default().push(wire::SeatUse {
                    year,
                    school_id: self.geo.schools[pj].id.clone(),
                    child_id: stranger.id,
                });
            }
        }

        // The child's certificate and its place in the enrolment history.
        self.add_birth(&child, child.id.birth_date(), &mother.id, Some(&father.id));
        let primary = match home.map(|b| self.geo.open_primaries(b)) {
            Some(zoned) if !zoned.is_empty() => *self.dice.pick(&zoned),
            _ => *self.dice.pick(&self.geo.primaries_by_county[county].clone()),
        };
        let primary = if self.geo.schools[primary].opens_later {
            self.geo.primaries_by_county[county][0]
        } else {
            primary
        };
        let place = match trigger {
            JuniorTrigger::NotInHistory => None,
            JuniorTrigger::OtherGrade => Some((
                self.geo.schools[primary].id.clone(),
                if self.dice.chance(0.5) { 5 } else { 7 },
            )),
            JuniorTrigger::SchoolUnknown => Some((SchoolId::new(format!("X{:05}", index + 1)), 6)),
            JuniorTrigger::None => {
                let privates: Vec<usize> = self
                    .geo
                    .privates
                    .iter()
                    .copied()
                    .filter(|&p| self.geo.schools[p].stage == wire::Stage::Primary)
                    .collect();
                let at = if !privates.is_empty() && self.dice.chance(r.private_primary) {
                    profile.at_private_primary = true;
                    *self.dice.pick(&privates)
                } else {
                    primary
                };
                Some((self.geo.schools[at].id.clone(), 6))
            }
        };
        if let Some((school_id, grade)) = place {
            profile.current_school = Some(school_id.clone());
            self.places.push(wire::ChildPlace {
                child_id: child.id.clone(),
                school_id,
                grade,
            });
        }

        // Choices: the juniors the family believes it has a place at.
        let mut believed: Vec<usize> = Vec::new();
        if let Some(s) = self
            .geo
            .schools
            .iter()
            .position(|s| Some(&s.id) == profile.current_school.as_ref())
        {
            believed.extend(self.geo.schools[s].feeds.iter().copied());
        }
        for j in home_junior.into_iter().chain(property_junior) {
            if !believed.contains(&j) {
                believed.push(j);
            }
        }
        let mut ids: Vec<SchoolId> = Vec::new();
        profile.no_choices = self.dice.chance(r.no_choices);
        if !profile.no_choices {
            if let Some(&j) = believed.first() {
                ids.push(self.geo.schools[j].id.clone());
            }
            if self.dice.chance(r.private_choice) {
                let p = *self.dice.pick(&self.geo.private_juniors.clone());
                ids.insert(0, self.geo.schools[p].id.clone());
                profile.private_choice = true;
                self.private_demand[p] += 1;
            }
        }
        if trigger == JuniorTrigger::None {
            let share = 1.0 / believed.len().max(1) as f64;
            for &j in &believed {
                self.demand[j] += share;
            }
            if believed.is_empty()
                && let Some(&j) = self.geo.juniors_by_county[county].first()
            {
                self.demand[j] += 1.0;
            }
        }

        let submitted_at = submitted_in_may(&mut self.dice, 8, 22);
        let application_id = uuid::Builder::from_random_bytes(self.dice.bytes16()).into_uuid();
        profile.application_id = application_id;
        let (applicant, guardians) = if self.dice.chance(0.5) {
            (mother.id.clone(), vec![father.id.clone()])
        } else {
            (father.id.clone(), vec![mother.id.clone()])
        };
        self.junior_applications.push(Application {
            application_id,
            round: RoundId::new(JUNIOR_ROUND),
            child_id: child.id.clone(),
            applicant_id: applicant,
            guardian_ids: guardians,
            sibling_ids: sibling.iter().map(|(s, _)| s.id.clone()).collect(),
            choices: ids,
            consent_id: ConsentId::new(format!("CNS-2027-J{:06}", index + 1)),
            submitted_at,
        });
        self.junior_profiles.push(profile);
        debug_assert!(birth.year() >= policy::ENTRY_YEAR - 13);
    }
}

/// The nearest school of `pool` to a point (squared degrees are enough to rank).
fn nearest(schools: &[crate::geo::School], pool: &[usize], lat: f64, lon: f64) -> Option<usize> {
    pool.iter().copied().min_by(|&a, &b| {
        let d = |j: usize| (schools[j].lat - lat).powi(2) + (schools[j].lon - lon).powi(2);
        d(a).total_cmp(&d(b)).then(a.cmp(&b))
    })
}

fn junior_shares(dice: &mut Dice, mother: &Human, father: &Human) -> Vec<(NationalId, u32)> {
    match dice.below(4) {
        0 | 1 => vec![(father.id.clone(), 50), (mother.id.clone(), 50)],
        2 => vec![(father.id.clone(), 100)],
        _ => vec![(mother.id.clone(), 100)],
    }
}
