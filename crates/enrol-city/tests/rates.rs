//! A large city realises its families as drawn, and the documented rates hold.
//!
//! Every fact is read back from the registry records (as the engine would see
//! them), not from the generator's bookkeeping, and compared with what the
//! generator meant; then the counts are compared with `Rates::default()`,
//! the numbers `docs/city-generator.md` publishes.

use std::collections::{BTreeMap, BTreeSet};

use enrol_city::policy::{
    BORN_ON_OR_AFTER, BORN_ON_OR_BEFORE, INSURANCE_MIN_MONTHS, MIN_FAMILY_SHARE_PCT, PERMIT_VALID_ON, RESIDENCE_CUTOFF,
    SEAT_LOCK_FIRST_YEAR, SEAT_LOCK_LAST_YEAR,
};
use enrol_city::wire::{self, SchoolKind, Stage};
use enrol_city::{
    BogusChoice, City, CityConfig, FamilyProfile, Gazetteer, Rates, Residence, SeatUseCase, TextCase, Trigger,
};
use enrol_domain::{AddressCode, Application, NationalId};

const FAMILIES: usize = 20_000;

/// One large city shared by the tests (generating it takes seconds in a debug build).
fn city() -> &'static City {
    static CITY: std::sync::OnceLock<City> = std::sync::OnceLock::new();
    CITY.get_or_init(|| enrol_city::generate(&CityConfig::new(FAMILIES, 20_270_501)))
}

struct Index<'a> {
    gazetteer: Gazetteer,
    persons: BTreeMap<&'a NationalId, &'a wire::Person>,
    births: BTreeMap<&'a NationalId, &'a wire::Birth>,
    children_of: BTreeMap<&'a NationalId, Vec<&'a NationalId>>,
    holdings: BTreeMap<&'a NationalId, Vec<&'a wire::Property>>,
    permits: BTreeMap<&'a NationalId, &'a wire::Permit>,
    insurance: BTreeMap<&'a NationalId, &'a wire::Insurance>,
    uses: BTreeMap<&'a str, &'a wire::UnitUses>,
    places: BTreeMap<&'a NationalId, &'a wire::ChildPlace>,
    buildings: BTreeMap<&'a str, &'a wire::Building>,
    schools: BTreeMap<&'a str, &'a wire::School>,
}

impl<'a> Index<'a> {
    fn new(city: &'a City) -> Self {
        let mut children_of: BTreeMap<&NationalId, Vec<&NationalId>> = BTreeMap::new();
        for b in &city.births {
            children_of.entry(&b.mother_id).or_default().push(&b.child_id);
            if let Some(f) = &b.father_id {
                children_of.entry(f).or_default().push(&b.child_id);
            }
        }
        let mut holdings: BTreeMap<&NationalId, Vec<&wire::Property>> = BTreeMap::new();
        for p in &city.properties {
            for o in &p.owners {
                holdings.entry(&o.id).or_default().push(p);
            }
        }
        Index {
            gazetteer: Gazetteer::new(&city.buildings),
            persons: city.persons.iter().map(|p| (&p.id, p)).collect(),
            births: city.births.iter().map(|b| (&b.child_id, b)).collect(),
            children_of,
            holdings,
            permits: city.permits.iter().map(|p| (&p.holder_id, p)).collect(),
            insurance: city.social_insurance.iter().map(|i| (&i.id, i)).collect(),
            uses: city.unit_uses.iter().map(|u| (u.unit_no.as_str(), u)).collect(),
            places: city.child_places.iter().map(|p| (&p.child_id, p)).collect(),
            buildings: city.buildings.iter().map(|b| (b.building_key.as_str(), b)).collect(),
            schools: city.schools.iter().map(|s| (s.id.as_str(), s)).collect(),
        }
    }

    /// The dwelling an address names, when it names exactly one.
    fn dwelling(&self, a: &wire::WireAddress) -> Result<AddressCode, TextCase> {
        if let Some(code) = &a.code {
            return Ok(code.clone());
        }
        let matches = self.gazetteer.resolve(&a.text);
        match matches.len() {
            1 => Ok(matches[0].clone()),
            0 => Err(TextCase::Unknown),
            _ => Err(TextCase::Ambiguous),
        }
    }

    fn text_case(&self, a: &wire::WireAddress) -> Option<TextCase> {
        a.code
            .is_none()
            .then(|| self.dwelling(a).err().unwrap_or(TextCase::Resolves))
    }

    fn zoned(&self, code: &AddressCode) -> Vec<&'a str> {
        self.buildings
            .get(code.building_key().as_str())
            .map(|b| b.schools.iter().map(|s| s.as_str()).collect())
            .unwrap_or_default()
    }

    fn window_months(&self, id: &NationalId) -> usize {
        self.insurance.get(id).map_or(0, |r| {
            r.months
                .iter()
                .filter(|m| m.as_str() >= "2025-05" && m.as_str() <= "2027-04")
                .count()
        })
    }
}

/// What the records say about one family.
#[derive(Debug, PartialEq)]
struct Facts {
    /// A family property in a zoned building, and no older sibling at school.
    lockable: bool,
    trigger: Trigger,
    residence: Option<Residence>,
    family_property: Option<bool>,
    from_province: bool,
    province_text_only: bool,
    home_building_unknown: bool,
    household_text: Option<TextCase>,
    property_text: Option<TextCase>,
    permit_text: Option<TextCase>,
    seat_use: Option<SeatUseCase>,
    sibling_grade: Option<u8>,
    sibling_declared: bool,
    unverifiable_sibling: bool,
    single_mother: Option<bool>,
    private_choice: bool,
    repeated_choice: bool,
    bogus_choice: Option<BogusChoice>,
}

fn facts(ix: &Index<'_>, app: &Application, profile: &FamilyProfile) -> Facts {
    let child = &app.child_id;
    let guardians: Vec<&NationalId> = app.guardians();
    let cert = ix.births.get(child).copied();
    let child_record = ix.persons.get(child).copied();

    let trigger = if cert.is_none() {
        Trigger::NoBirthCertificate
    } else if guardians
        .iter()
        .any(|g| cert.is_some_and(|c| c.mother_id != **g && c.father_id.as_ref() != Some(*g)))
    {
        Trigger::GuardianNotParent
    } else if cert.is_some_and(|c| c.birth_date != child.birth_date())
        || child_record.is_some_and(|p| p.birth_date != child.birth_date())
    {
        Trigger::BirthDatesDisagree
    } else if cert.is_some_and(|c| c.birth_date > BORN_ON_OR_BEFORE) {
        Trigger::TooYoung
    } else if cert.is_some_and(|c| c.birth_date < BORN_ON_OR_AFTER) {
        Trigger::TooOld
    } else if ix.places.contains_key(child) {
        Trigger::AlreadyAtSchool
    } else {
        Trigger::None
    };

    let city_hukou = child_record.is_some_and(|p| p.region.as_str().starts_with("3708"));
    let from_province = child_record.is_some_and(|p| !p.region.as_str().starts_with("3708"));
    let province_text_only = from_province && child_record.is_some_and(|p| p.address.code.is_none());

    // Units the guardians hold any share in, and whether each is a family property.
    let mut units: Vec<(&wire::Property, u32)> = Vec::new();
    for g in &guardians {
        for p in ix.holdings.get(*g).into_iter().flatten() {
            if !units.iter().any(|(u, _)| u.unit_no == p.unit_no) {
                let share = p
                    .owners
                    .iter()
                    .filter(|o| guardians.contains(&&o.id))
                    .map(|o| o.share_pct)
                    .sum();
                units.push((p, share));
            }
        }
    }
    let passes_but_region = |p: &wire::Property, share: u32| {
        p.usage == wire::Usage::Residential
            && p.status == wire::UnitStatus::Normal
            && p.registered_on <= RESIDENCE_CUTOFF
            && share >= MIN_FAMILY_SHARE_PCT
    };
    let candidates: Vec<&wire::Property> = units
        .iter()
        .filter(|(p, s)| passes_but_region(p, *s))
        .map(|(p, _)| *p)
        .collect();
    let property_text = candidates.iter().find_map(|p| ix.text_case(&p.address));
    let family_units: Vec<(&wire::Property, AddressCode)> = candidates
        .iter()
        .filter_map(|p| ix.dwelling(&p.address).ok().map(|d| (*p, d)))
        .filter(|(_, d)| d.county().in_region("3708"))
        .collect();

    let household_text = if city_hukou {
        child_record.and_then(|p| ix.text_case(&p.address))
    } else {
        None
    };
    let home = child_record
        .filter(|_| city_hukou)
        .and_then(|p| ix.dwelling(&p.address).ok());
    let home_building_unknown = city_hukou
        && child_record.is_some_and(|p| p.address.code.is_some())
        && home.as_ref().is_some_and(|h| ix.zoned(h).is_empty());

    let permits: Vec<&wire::Permit> = guardians.iter().filter_map(|g| ix.permits.get(*g).copied()).collect();
    let permit_text = if permits.len() == 1 {
        ix.text_case(&permits[0].address)
    } else {
        None
    };
    let qualifies = |p: &wire::Permit| {
        p.issued_on <= RESIDENCE_CUTOFF
            && p.valid_until >= PERMIT_VALID_ON
            && ix.window_months(&p.holder_id) >= INSURANCE_MIN_MONTHS
    };

    let texts_unclear = [household_text, property_text, permit_text]
        .iter()
        .any(|t| matches!(t, Some(TextCase::Unknown | TextCase::Ambiguous)));
    let residence = if trigger == Trigger::GuardianNotParent || texts_unclear {
        None
    } else if let Some(record) = child_record.filter(|_| city_hukou) {
        let with_guardian = guardians.iter().any(|g| {
            ix.persons
                .get(*g)
                .is_some_and(|p| p.household_no == record.household_no)
        });
        let at_home: Vec<&wire::Property> = units
            .iter()
            .filter(|(p, _)| ix.dwelling(&p.address).ok() == home)
            .map(|(p, _)| *p)
            .collect();
        Some(if record.registered_on > RESIDENCE_CUTOFF {
            Residence::MovedAfterCutoff
        } else if !with_guardian {
            Residence::RegisteredAtGrandparents
        } else if let Some((p, _)) = family_units.iter().find(|(_, d)| Some(d) == home.as_ref()) {
            // A relative co-owner lives elsewhere; parents share the child's household.
            let in_household = |id: &NationalId| {
                ix.persons
                    .get(id)
                    .is_some_and(|q| q.household_no == record.household_no)
            };
            if p.owners.iter().all(|o| in_household(&o.id)) {
                Residence::OwnerAtHome
            } else {
                Residence::CoOwnerAtShare
            }
        } else if !family_units.is_empty() {
            Residence::OwnerRegisteredElsewhere
        } else if let Some(p) = at_home.first() {
            if p.usage != wire::Usage::Residential || p.status != wire::UnitStatus::Normal {
                Residence::NotFamilyProperty
            } else {
                Residence::CoOwnerUnderShare
            }
        } else {
            Residence::HukouOnly
        })
    } else if !family_units.is_empty() {
        Some(Residence::ProvinceOwner)
    } else if permits.is_empty() {
        Some(Residence::NoClaim)
    } else if permits.iter().any(|p| qualifies(p)) {
        Some(Residence::MigrantQualifying)
    } else if permits.iter().any(|p| p.issued_on > RESIDENCE_CUTOFF) {
        Some(Residence::MigrantLatePermit)
    } else if permits.iter().any(|p| p.valid_until < PERMIT_VALID_ON) {
        Some(Residence::MigrantExpiringPermit)
    } else {
        Some(Residence::MigrantShortMonths)
    };

    // Seat uses of the family property, and who made them.
    let mut siblings: Vec<&NationalId> = guardians
        .iter()
        .filter_map(|g| ix.children_of.get(*g))
        .flatten()
        .copied()
        .filter(|c| *c != child)
        .collect();
    siblings.sort();
    siblings.dedup();
    let seat_use = family_units
        .iter()
        .filter_map(|(p, _)| ix.uses.get(p.unit_no.as_str()))
        .flat_map(|u| u.uses.iter())
        .map(|u| {
            if siblings.contains(&&u.child_id) {
                SeatUseCase::OlderSibling
            } else if (SEAT_LOCK_FIRST_YEAR..=SEAT_LOCK_LAST_YEAR).contains(&u.year) {
                SeatUseCase::Stranger
            } else {
                SeatUseCase::StrangerBeforeWindow
            }
        })
        .next();
    let older = siblings.iter().find(|s| ix.places.contains_key(**s));
    let sibling_grade = older.map(|s| ix.places[*s].grade);
    let sibling_declared = older.is_some_and(|s| app.sibling_ids.contains(s));
    let unverifiable_sibling = app.siblings().iter().any(|s| {
        ix.births.get(*s).is_none_or(|c| {
            !guardians
                .iter()
                .any(|g| c.mother_id == **g || c.father_id.as_ref() == Some(*g))
        })
    });

    let school = |id: &str| ix.schools.get(id).copied();
    let private_choice = app
        .choices
        .iter()
        .any(|c| school(c.as_str()).is_some_and(|s| s.kind == SchoolKind::Private));
    let distinct: BTreeSet<_> = app.choices.iter().collect();
    let repeated_choice = distinct.len() < app.choices.len();
    // Every school zoned for any address of the family, however written.
    let mut reachable: BTreeSet<&str> = BTreeSet::new();
    let mut addresses: Vec<&wire::WireAddress> = Vec::new();
    addresses.extend(child_record.map(|p| &p.address));
    addresses.extend(units.iter().map(|(p, _)| &p.address));
    addresses.extend(permits.iter().map(|p| &p.address));
    for a in addresses {
        let codes = match &a.code {
            Some(c) => vec![c.clone()],
            None => ix.gazetteer.resolve(&a.text),
        };
        for c in codes {
            reachable.extend(ix.zoned(&c));
        }
    }
    let bogus_choice = app.choices.iter().find_map(|c| match school(c.as_str()) {
        None => Some(BogusChoice::UnknownSchool),
        Some(s) if s.stage == Stage::Junior => Some(BogusChoice::JuniorSchool),
        Some(s)
            if s.kind == SchoolKind::Public
                && !reachable.contains(c.as_str())
                && !texts_unclear
                && trigger != Trigger::GuardianNotParent =>
        {
            Some(BogusChoice::PublicWithoutTier)
        }
        _ => None,
    });
    let _ = profile;
    let lockable = !family_units.is_empty() && sibling_grade.is_none() && !ix.zoned(&family_units[0].1).is_empty();

    Facts {
        lockable,
        trigger,
        residence,
        family_property: (!texts_unclear && trigger != Trigger::GuardianNotParent).then_some(!family_units.is_empty()),
        from_province,
        province_text_only,
        home_building_unknown,
        household_text,
        property_text,
        permit_text,
        seat_use,
        sibling_grade,
        sibling_declared,
        unverifiable_sibling,
        single_mother: cert.map(|c| c.father_id.is_none()),
        private_choice,
        repeated_choice,
        bogus_choice,
    }
}

/// What the generator meant, in the same terms (hiding what the records cannot show).
fn intended(p: &FamilyProfile, observed: &Facts) -> Facts {
    let texts_unclear = [p.household_text, p.property_text, p.permit_text]
        .iter()
        .any(|t| matches!(t, Some(TextCase::Unknown | TextCase::Ambiguous)));
    let hidden = p.trigger == Trigger::GuardianNotParent || texts_unclear;
    // A grandparent or step-parent applying hides what the parents hold.
    let not_parent = p.trigger == Trigger::GuardianNotParent;
    Facts {
        lockable: observed.lockable,
        trigger: p.trigger,
        residence: (!hidden).then_some(p.residence),
        family_property: (!hidden).then_some(p.family_property),
        from_province: p.from_province,
        province_text_only: p.province_text_only,
        home_building_unknown: p.home_building_unknown,
        household_text: p.household_text,
        property_text: if not_parent {
            observed.property_text
        } else {
            p.property_text
        },
        permit_text: if not_parent {
            observed.permit_text
        } else {
            p.permit_text
        },
        seat_use: if hidden { observed.seat_use } else { p.seat_use },
        sibling_grade: p.sibling_grade,
        sibling_declared: p.sibling_declared,
        unverifiable_sibling: p.unverifiable_sibling,
        single_mother: (p.trigger != Trigger::NoBirthCertificate).then_some(p.single_mother),
        private_choice: p.private_choice,
        repeated_choice: p.repeated_choice,
        bogus_choice: match p.bogus_choice {
            Some(BogusChoice::PublicWithoutTier) if texts_unclear || not_parent => None,
            other => other,
        },
    }
}

/// `count` out of `n` is within five standard deviations (plus two) of rate `p`.
fn assert_rate(what: &str, count: usize, n: usize, p: f64) {
    let expected = n as f64 * p;
    let sd = (n as f64 * p * (1.0 - p)).sqrt();
    let off = (count as f64 - expected).abs();
    assert!(
        off <= 5.0 * sd + 2.0,
        "{what}: {count} of {n}, expected {expected:.1} (rate {p}), off by {off:.1} > 5 sd {sd:.1}"
    );
    assert!(n == 0 || p == 0.0 || count > 0, "{what}: none drawn among {n}");
}

#[test]
fn a_large_city_realises_its_families_at_the_documented_rates() {
    let city = city();
    assert_eq!(city.applications.len(), FAMILIES);
    let ix = Index::new(city);
    let rates = Rates::default();

    let mut all = Vec::new();
    for (app, profile) in city.applications.iter().zip(&city.families) {
        assert_eq!(app.application_id, profile.application_id);
        let observed = facts(&ix, app, profile);
        let meant = intended(profile, &observed);
        assert_eq!(
            observed, meant,
            "family {} ({:?})",
            app.application_id, profile.residence
        );
        all.push((profile, observed));
    }
    let n = all.len();
    let count = |f: &dyn Fn(&FamilyProfile, &Facts) -> bool| all.iter().filter(|(p, o)| f(p, o)).count();

    for t in Trigger::ALL {
        assert_rate(&format!("{t:?}"), count(&|_, o| o.trigger == t), n, rates.trigger(t));
    }
    for r in Residence::ALL {
        assert_rate(
            &format!("{r:?}"),
            count(&|p, _| p.residence == r),
            n,
            rates.residence(r),
        );
    }
    // Residence kinds as the records show them, where they can show them.
    let visible = count(&|_, o| o.residence.is_some());
    for r in Residence::ALL {
        assert_rate(
            &format!("{r:?} in the records"),
            count(&|_, o| o.residence == Some(r)),
            visible,
            rates.residence(r),
        );
    }

    let migrants = count(&|p, _| p.residence.migrant());
    assert_rate(
        "migrants from the province",
        count(&|p, o| p.residence.migrant() && o.from_province),
        migrants,
        rates.migrant_from_province,
    );
    let province = count(&|_, o| o.from_province);
    assert_rate(
        "province records text only",
        count(&|_, o| o.province_text_only),
        province,
        rates.province_text_only,
    );
    let city_hukou = count(&|p, _| p.residence.city_hukou());
    assert_rate(
        "home building unknown",
        count(&|_, o| o.home_building_unknown),
        city_hukou,
        rates.home_building_unknown,
    );
    let eligible_for_text = city_hukou - count(&|_, o| o.home_building_unknown);
    let household_text = count(&|_, o| o.household_text.is_some());
    assert_rate(
        "household text only",
        household_text,
        eligible_for_text,
        rates.household_text_only,
    );
    assert_rate(
        "household text unknown",
        count(&|_, o| o.household_text == Some(TextCase::Unknown)),
        household_text,
        rates.household_text_unknown,
    );
    let property_eligible = count(&|p, _| {
        p.family_property && p.household_text.is_none() && !p.home_building_unknown || p.property_text.is_some()
    });
    let property_text = count(&|_, o| o.property_text.is_some());
    assert_rate(
        "property text only",
        property_text,
        property_eligible,
        rates.property_text_only,
    );
    assert_rate(
        "property text unknown",
        count(&|_, o| o.property_text == Some(TextCase::Unknown)),
        property_text,
        rates.property_text_unknown,
    );
    let single_permit = count(&|p, _| p.residence.migrant() && !p.second_permit);
    let permit_text = count(&|_, o| o.permit_text.is_some());
    assert_rate("permit text only", permit_text, single_permit, rates.permit_text_only);
    assert_rate(
        "permit text ambiguous",
        count(&|_, o| o.permit_text == Some(TextCase::Ambiguous)),
        permit_text,
        rates.permit_text_ambiguous,
    );
    assert_rate(
        "permit text unknown",
        count(&|_, o| o.permit_text == Some(TextCase::Unknown)),
        permit_text,
        rates.permit_text_unknown,
    );

    // Seat uses: over families whose family property is zoned and who have no older sibling.
    let lockable = count(&|_, o| o.lockable && o.residence.is_some());
    assert_rate(
        "stranger's seat use in the lock window",
        count(&|_, o| o.lockable && o.residence.is_some() && o.seat_use == Some(SeatUseCase::Stranger)),
        lockable,
        rates.seat_lock_stranger,
    );
    assert_rate(
        "stranger's seat use before the window",
        count(&|_, o| o.lockable && o.residence.is_some() && o.seat_use == Some(SeatUseCase::StrangerBeforeWindow)),
        lockable,
        rates.seat_use_before_window * (1.0 - rates.seat_lock_stranger),
    );
    assert!(count(&|_, o| o.seat_use == Some(SeatUseCase::OlderSibling)) > 0);

    let with_sibling = count(&|_, o| o.sibling_grade.is_some());
    assert_rate(
        "older sibling at school",
        with_sibling,
        n,
        rates.older_sibling_at_school,
    );
    assert_rate(
        "older sibling in sibling_grades",
        count(&|_, o| o.sibling_grade.is_some_and(|g| g <= 5)),
        n,
        rates.older_sibling_at_school * 5.0 / 6.0,
    );
    assert_rate(
        "older sibling in grade 6",
        count(&|_, o| o.sibling_grade == Some(6)),
        n,
        rates.older_sibling_at_school / 6.0,
    );
    assert_rate(
        "older sibling not declared",
        count(&|_, o| o.sibling_grade.is_some() && !o.sibling_declared),
        with_sibling,
        rates.sibling_undeclared,
    );
    assert_rate(
        "unverifiable sibling",
        count(&|p, _| p.unverifiable_sibling),
        n,
        rates.unverifiable_sibling,
    );
    assert_rate(
        "single mother",
        count(&|_, o| o.single_mother == Some(true)),
        count(&|_, o| o.single_mother.is_some()),
        rates.single_mother,
    );

    let listing = count(&|p, _| !p.no_choices);
    assert_rate("no choices", n - listing, n, rates.no_choices);
    assert_rate(
        "private first choice",
        count(&|_, o| o.private_choice),
        listing,
        rates.private_choice,
    );
    assert_rate(
        "repeated choice",
        count(&|_, o| o.repeated_choice),
        listing,
        rates.repeated_choice,
    );
    let bogus = count(&|p, _| p.bogus_choice.is_some());
    assert_rate("bogus choice", bogus, n, rates.bogus_choice);
    for kind in [BogusChoice::UnknownSchool, BogusChoice::JuniorSchool] {
        assert_rate(
            &format!("{kind:?}"),
            count(&|_, o| o.bogus_choice == Some(kind)),
            bogus,
            1.0 / 3.0,
        );
    }
    assert_rate(
        "public school without a tier",
        count(&|p, _| p.bogus_choice == Some(BogusChoice::PublicWithoutTier)),
        bogus,
        1.0 / 3.0,
    );
}

#[test]
fn the_city_has_every_kind_of_school_and_zone() {
    let city = city();
    let ix = Index::new(city);
    let primaries: Vec<&wire::School> = city
        .schools
        .iter()
        .filter(|s| s.kind == SchoolKind::Public && s.stage == Stage::Primary)
        .collect();
    let seats = |s: &wire::School| s.capacity.get("2027").copied().unwrap_or(0) as usize;
    let public_seats: usize = primaries.iter().map(|s| seats(s)).sum();
    assert!(
        public_seats >= FAMILIES,
        "{public_seats} public seats for {FAMILIES} children"
    );
    assert!(city.schools.iter().any(|s| s.kind == SchoolKind::Private));
    assert!(city.schools.iter().any(|s| s.stage == Stage::Junior));
    assert!(
        primaries.iter().any(|s| !s.capacity.contains_key("2027")),
        "a zoned school that opens in 2028"
    );
    let counties: BTreeSet<&str> = primaries.iter().map(|s| s.county.as_str()).collect();
    assert!(counties.len() >= 6 && counties.iter().all(|c| c.starts_with("3708")));
    let multi = city
        .buildings
        .iter()
        .filter(|b| {
            b.schools
                .iter()
                .filter(|s| ix.schools[s.as_str()].stage == Stage::Primary)
                .count()
                > 1
        })
        .count();
    let single = city
        .buildings
        .iter()
        .filter(|b| {
            b.schools
                .iter()
                .filter(|s| ix.schools[s.as_str()].stage == Stage::Primary)
                .count()
                == 1
        })
        .count();
    assert!(
        multi > 0 && single > multi,
        "{multi} multi-school, {single} single-school buildings"
    );

    // Popular schools are oversubscribed by the children zoned for them.
    let mut zoned_children: BTreeMap<&str, f64> = BTreeMap::new();
    for (app, p) in city.applications.iter().zip(&city.families) {
        if p.trigger != Trigger::None || !p.residence.city_hukou() {
            continue;
        }
        let Some(home) = ix.persons.get(&app.child_id).and_then(|r| ix.dwelling(&r.address).ok()) else {
            continue;
        };
        let zoned: Vec<&str> = ix
            .zoned(&home)
            .into_iter()
            .filter(|s| ix.schools[s].stage == Stage::Primary && ix.schools[s].capacity.contains_key("2027"))
            .collect();
        for s in &zoned {
            *zoned_children.entry(s).or_default() += 1.0 / zoned.len() as f64;
        }
    }
    let oversubscribed = primaries
        .iter()
        .filter(|s| zoned_children.get(s.id.as_str()).copied().unwrap_or(0.0) > seats(s) as f64)
        .count();
    assert!(oversubscribed > 0, "no oversubscribed public school");

    // Ambiguous permit texts match buildings in two counties.
    let ambiguous = city
        .permits
        .iter()
        .filter(|p| p.address.code.is_none())
        .find(|p| ix.gazetteer.resolve(&p.address.text).len() > 1)
        .expect("an ambiguous permit text");
    let counties: BTreeSet<String> = ix
        .gazetteer
        .resolve(&ambiguous.address.text)
        .iter()
        .map(|c| c.county().to_string())
        .collect();
    assert!(counties.len() > 1, "{:?}", ambiguous.address.text);
}

#[test]
fn the_documented_rates_are_the_default_rates() {
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/city-generator.md"))
        .expect("docs/city-generator.md");
    let mut documented: BTreeMap<String, f64> = BTreeMap::new();
    // The first-grade table; the junior cohort's is checked by tests/junior.rs.
    for line in doc.lines().take_while(|l| !l.starts_with("## Junior cohort")) {
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        if cells.len() > 3
            && let (Some(key), Some(pct)) = (
                cells[1].strip_prefix('`').and_then(|k| k.strip_suffix('`')),
                cells[2].strip_suffix('%'),
            )
            && let Ok(pct) = pct.parse::<f64>()
        {
            documented.insert(key.to_owned(), pct / 100.0);
        }
    }
    let rates = Rates::default();
    let mut expected: BTreeMap<String, f64> = BTreeMap::new();
    let serde_json::Value::Object(fields) = serde_json::to_value(&rates).expect("rates serialise") else {
        panic!("rates are an object");
    };
    for (k, v) in fields {
        if let Some(x) = v.as_f64() {
            expected.insert(k, x);
        }
    }
    for r in Residence::ALL {
        let name = serde_json::to_value(r).expect("a name");
        expected.insert(name.as_str().expect("a string").to_owned(), rates.residence(r));
    }
    assert!((Residence::ALL.iter().map(|r| rates.residence(*r)).sum::<f64>() - 1.0).abs() < 1e-9);
    assert_eq!(
        documented.keys().collect::<Vec<_>>(),
        expected.keys().collect::<Vec<_>>()
    );
    for (k, v) in &expected {
        assert!(
            (documented[k] - v).abs() < 1e-9,
            "{k}: documented {} but {v}",
            documented[k]
        );
    }
}
