//! The staged reading of an evidence bundle, shared by [`crate::plan_reads`]
//! and [`crate::evaluate`] so that what is read and what is decided can never
//! drift apart.
//!
//! The stages follow policy.md's status order. Each stage needs some records;
//! when one is not in the bundle yet the analysis stops and says which reads
//! it needs (all that can be known at that point, so the gatherer can perform
//! them together). Once a status other than `eligible` is settled nothing more
//! is needed: a child in review or ineligible has no priority evidence read.

use std::collections::{BTreeMap, BTreeSet};

use chrono::NaiveDate;
use enrol_domain::{
    Address, AddressCode, Application, BirthCertificate, BuildingZone, CurrentPlace, EvidenceBundle, EvidenceRead,
    Fetched, HouseholdRecord, NationalId, PropertyUnit, RecordRef, ResidencePermit, SchoolCatalogue, UnitNo,
    UnitStatus, Usage, YearMonth,
};

use crate::policy::{Dwelling, Fact, Policy, Tier};

/// Everything the rules are asked about one application.
#[derive(Clone, Copy)]
pub(crate) struct Ctx<'a> {
    pub app: &'a Application,
    pub bundle: &'a EvidenceBundle,
    pub policy: &'a Policy,
    pub schools: &'a SchoolCatalogue,
}

/// Where an address that matters comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Origin<'a> {
    /// The child's household record.
    Household(&'a NationalId),
    /// A property unit.
    Unit(&'a UnitNo),
    /// A guardian's residence permit, by holder.
    Permit(&'a NationalId),
    /// The child's current school (enrolment history), by child: not an
    /// address, the dwelling of a tier zoned by `feeds` (对口直升).
    CurrentSchool(&'a NationalId),
}

/// How a dwelling's code was established.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Via<'a> {
    /// The record carries the code.
    Record,
    /// The zone registry's address search matched the text to exactly one code.
    Search(&'a str),
    /// An officer established the code for a text that did not resolve.
    Officer(&'a str),
}

/// A dwelling: a room-level code (borrowed from the bundle) and how it was established.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Place<'a> {
    pub code: &'a AddressCode,
    pub via: Via<'a>,
}

impl<'a> Place<'a> {
    /// The building key: the code's first three groups (`CCCCCC-SSS-BBBBB`).
    pub fn building(&self) -> &'a str {
        let code: &'a str = self.code.as_str();
        &code[..16]
    }

    /// Whether the dwelling's county lies in the region (the county is the code's first six digits).
    pub fn in_region(&self, prefix: &str) -> bool {
        self.code.as_str().starts_with(prefix)
    }

    /// The zone registry's answer for the dwelling's building, if read.
    pub fn zone(&self, bundle: &'a EvidenceBundle) -> Option<&'a Fetched<BuildingZone>> {
        // A bundle holds a handful of buildings: comparing keys beats allocating one to look it up.
        if bundle.buildings.len() > 8 {
            return bundle.buildings.get(&self.code.building_key());
        }
        let key = self.building();
        bundle.buildings.iter().find(|(k, _)| k.as_str() == key).map(|(_, v)| v)
    }
}

/// What a status note or a review is about (rendered into reasons by `reasons`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum StatusNote<'a> {
    /// A registry's answer could not be read (registries.md, "Dirty records").
    RegistryAnswerUnusable(&'a RecordRef),
    NoBirthCertificate,
    GuardianNotParent(Vec<&'a NationalId>),
    GuardianshipConfirmed(Vec<&'a NationalId>),
    BirthDateMismatch {
        id_date: NaiveDate,
        certificate: NaiveDate,
        household: Option<NaiveDate>,
    },
    BirthDateConfirmed {
        id_date: NaiveDate,
        certificate: NaiveDate,
        household: Option<NaiveDate>,
    },
    TooYoung(NaiveDate),
    TooOld(NaiveDate),
    DelayedEnrolmentApproved(NaiveDate),
    AlreadyAtSchool(&'a CurrentPlace),
    CurrentPlaceCleared(&'a CurrentPlace),
    /// Final-grade policy: no record in the enrolment history (回流生).
    NoCurrentPlace,
    /// Final-grade policy: in another grade (复读, 跳级…).
    NotInFinalGrade(&'a CurrentPlace, u8),
    /// Final-grade policy: at a school the zone registry does not list (转学生).
    CurrentSchoolUnknown(&'a CurrentPlace),
    /// Final-grade policy: an officer cleared the grade check (the place, if any).
    FinalGradeCleared(Option<&'a CurrentPlace>, u8),
    AddressUnresolved {
        origin: Origin<'a>,
        text: &'a str,
    },
    AddressAmbiguous {
        origin: Origin<'a>,
        text: &'a str,
        matches: usize,
    },
    AddressResolvedByOfficer {
        origin: Origin<'a>,
        text: &'a str,
        code: &'a AddressCode,
    },
}

/// Why a unit in the guardians' holdings is or is not a family property (家庭房产).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum UnitVerdict {
    Family,
    NotResidential,
    Sealed,
    RegisteredAfterCutoff,
    ShareTooSmall(u32),
    /// Passes every test but the region one (its address is resolved to find out).
    OutsideRegion,
    /// Passes every test but the region one, and its address did not resolve (a review).
    Unresolved,
}

#[derive(Debug, Clone)]
pub(crate) struct UnitCheck<'a> {
    pub unit: &'a PropertyUnit,
    pub verdict: UnitVerdict,
    /// Resolved for a unit that passes every test but the region one.
    pub place: Option<Place<'a>>,
}

/// Why a guardian's permit is or is not a qualifying permit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PermitVerdict {
    Qualifying,
    IssuedAfterCutoff,
    ExpiresTooEarly,
    TooFewMonths(u32),
    /// Qualifying, but its address did not resolve (a review).
    Unresolved,
}

#[derive(Debug, Clone)]
pub(crate) struct PermitCheck<'a> {
    pub permit: &'a ResidencePermit,
    pub verdict: PermitVerdict,
    /// Months of insurance in the window (0 when not read).
    pub months: u32,
    pub points: u32,
    pub place: Option<Place<'a>>,
}

/// A declared sibling (同胞) and what its records show.
#[derive(Debug, Clone)]
pub(crate) struct SiblingCheck<'a> {
    pub id: &'a NationalId,
    pub certificate: Option<&'a BirthCertificate>,
    pub verified: bool,
    /// Where a verified sibling is at school now.
    pub place: Option<&'a CurrentPlace>,
}

/// What the records show about an eligible child's family and places.
#[derive(Debug, Clone)]
pub(crate) struct Family<'a> {
    pub household: Option<&'a HouseholdRecord>,
    pub city_hukou: bool,
    /// Home H: the dwelling of the child's city household record.
    pub home_h: Option<Place<'a>>,
    /// Units of the guardians' holdings, each once, by `unit_no`.
    pub units: Vec<UnitCheck<'a>>,
    /// The guardians' permits, in guardian order (read only without city hukou).
    pub permits: Vec<PermitCheck<'a>>,
    /// Whether the guardians' household records were read.
    pub guardian_records_read: bool,
    /// The first guardian (in guardian order) whose household record has the child's `household_no`.
    pub guardian_in_household: Option<&'a NationalId>,
    pub siblings: Vec<SiblingCheck<'a>>,
    /// The child's current place, when its school is in the catalogue: the
    /// current school C of a tier zoned by `feeds`.
    pub current_school: Option<&'a CurrentPlace>,
}

impl<'a> Family<'a> {
    pub fn family_units(&self) -> impl Iterator<Item = (&UnitCheck<'a>, &Place<'a>)> {
        self.units
            .iter()
            .filter(|u| u.verdict == UnitVerdict::Family)
            .filter_map(|u| u.place.as_ref().map(|p| (u, p)))
    }

    pub fn qualifying_permits(&self) -> impl Iterator<Item = (&PermitCheck<'a>, &Place<'a>)> {
        self.permits
            .iter()
            .filter(|p| p.verdict == PermitVerdict::Qualifying)
            .filter_map(|p| p.place.as_ref().map(|pl| (p, pl)))
    }

    pub fn verified_sibling_ids(&self) -> impl Iterator<Item = &'a NationalId> + '_ {
        self.siblings.iter().filter(|s| s.verified).map(|s| s.id)
    }
}

/// The settled status.
#[derive(Debug, Clone)]
pub(crate) enum Settled<'a> {
    Review(Vec<StatusNote<'a>>),
    Ineligible(Vec<StatusNote<'a>>),
    Eligible {
        notes: Vec<StatusNote<'a>>,
        family: Box<Family<'a>>,
    },
}

pub(crate) enum Outcome<'a> {
    /// Reads still needed; never empty.
    Need(BTreeSet<EvidenceRead>),
    Settled(Settled<'a>),
}

fn need(reads: impl IntoIterator<Item = EvidenceRead>) -> Outcome<'static> {
    Outcome::Need(reads.into_iter().collect())
}

/// The outcome of resolving an address.
enum Resolution<'a> {
    Place(Place<'a>),
    Need(EvidenceRead),
    Unknown(&'a str),
    Ambiguous(&'a str, usize),
}

fn resolve<'a>(address: &'a Address, bundle: &'a EvidenceBundle) -> Resolution<'a> {
    if let Some(code) = &address.code {
        return Resolution::Place(Place { code, via: Via::Record });
    }
    let text = address.text.as_str();
    if let Some(code) = bundle.officer_facts.resolved_addresses.get(text) {
        return Resolution::Place(Place {
            code,
            via: Via::Officer(text),
        });
    }
    match bundle.address_matches.get(text) {
        None => Resolution::Need(EvidenceRead::AddressText { text: text.to_owned() }),
        Some(f) => match f.record.as_deref() {
            Some([code]) => Resolution::Place(Place {
                code,
                via: Via::Search(text),
            }),
            Some(codes) if codes.len() > 1 => Resolution::Ambiguous(text, codes.len()),
            _ => Resolution::Unknown(text),
        },
    }
}

/// Collects what resolving the addresses that matter needs, finds and notes.
#[derive(Default)]
struct Resolver<'a> {
    need: BTreeSet<EvidenceRead>,
    failures: Vec<StatusNote<'a>>,
    officer: Vec<StatusNote<'a>>,
}

impl<'a> Resolver<'a> {
    fn resolve(&mut self, origin: Origin<'a>, address: &'a Address, bundle: &'a EvidenceBundle) -> Option<Place<'a>> {
        match resolve(address, bundle) {
            Resolution::Place(place) => {
                if let Via::Officer(text) = place.via {
                    self.officer.push(StatusNote::AddressResolvedByOfficer {
                        origin,
                        text,
                        code: place.code,
                    });
                }
                Some(place)
            }
            Resolution::Need(read) => {
                self.need.insert(read);
                None
            }
            Resolution::Unknown(text) => {
                self.failures.push(StatusNote::AddressUnresolved { origin, text });
                None
            }
            Resolution::Ambiguous(text, matches) => {
                self.failures
                    .push(StatusNote::AddressAmbiguous { origin, text, matches });
                None
            }
        }
    }
}

/// The guardians, each once, in order of first mention: `Application::guardians`
/// without its set (families are small; this is on the hot path).
pub(crate) fn guardians(app: &Application) -> Vec<&NationalId> {
    let mut out: Vec<&NationalId> = Vec::with_capacity(1 + app.guardian_ids.len());
    for id in std::iter::once(&app.applicant_id).chain(&app.guardian_ids) {
        if !out.contains(&id) {
            out.push(id);
        }
    }
    out
}

/// Declared siblings, each once, in order of first mention, never the child: `Application::siblings`.
pub(crate) fn siblings(app: &Application) -> Vec<&NationalId> {
    let mut out: Vec<&NationalId> = Vec::with_capacity(app.sibling_ids.len());
    for id in &app.sibling_ids {
        if *id != app.child_id && !out.contains(&id) {
            out.push(id);
        }
    }
    out
}

/// Whole months from `from` to `to`: the difference in calendar months, less
/// one when `to`'s day of month is before `from`'s (policy.md, permit months).
pub(crate) fn whole_months(from: NaiveDate, to: NaiveDate) -> u32 {
    use chrono::Datelike;
    let months =
        (i64::from(to.year()) * 12 + i64::from(to.month0())) - (i64::from(from.year()) * 12 + i64::from(from.month0()));
    let months = if to.day() < from.day() { months - 1 } else { months };
    u32::try_from(months).unwrap_or(0)
}

/// Distinct months of `months` inside the window, both ends included.
pub(crate) fn months_in_window(months: &[YearMonth], window: (YearMonth, YearMonth)) -> u32 {
    let inside: BTreeSet<&YearMonth> = months.iter().filter(|m| **m >= window.0 && **m <= window.1).collect();
    u32::try_from(inside.len()).unwrap_or(u32::MAX)
}

/// Whether the child-level facts of a tier can hold, given what is known.
/// `guardian_in_household` is taken as possible: it is what the guardians'
/// household records are read to find out.
pub(crate) fn child_facts_possible(tier: &Tier, city_hukou: bool, registered_by_cutoff: bool) -> bool {
    (!tier.requires(Fact::CityHukou) || city_hukou)
        && (!tier.requires(Fact::NoCityHukou) || !city_hukou)
        && (!tier.requires(Fact::RegisteredByCutoff) || registered_by_cutoff)
        && (tier.dwelling != Dwelling::Household || city_hukou)
}

/// The status clause about the child's current place (enrolment history):
/// with a `final_grade` the child must be in that grade at a school of the
/// catalogue (policy-junior.md 4); without one, not at school yet (policy.md 6).
/// `Err` settles a review; `Ok` may carry an officer's note.
fn current_place_clause<'a>(
    ctx: Ctx<'a>,
    place: Option<&'a CurrentPlace>,
) -> Result<Option<StatusNote<'a>>, StatusNote<'a>> {
    let cleared = ctx.bundle.officer_facts.current_place_cleared;
    let Some(grade) = ctx.policy.final_grade() else {
        return match place {
            None => Ok(None),
            Some(p) if cleared => Ok(Some(StatusNote::CurrentPlaceCleared(p))),
            Some(p) => Err(StatusNote::AlreadyAtSchool(p)),
        };
    };
    let trigger = match place {
        None => Some(StatusNote::NoCurrentPlace),
        Some(p) if p.grade != grade => Some(StatusNote::NotInFinalGrade(p, grade)),
        Some(p) if !ctx.schools.contains_key(&p.school_id) => Some(StatusNote::CurrentSchoolUnknown(p)),
        Some(_) => None,
    };
    match trigger {
        None => Ok(None),
        Some(_) if cleared => Ok(Some(StatusNote::FinalGradeCleared(place, grade))),
        Some(note) => Err(note),
    }
}

pub(crate) fn analyse<'a>(ctx: Ctx<'a>) -> Outcome<'a> {
    let Ctx {
        app, bundle, policy, ..
    } = ctx;
    let officer = &bundle.officer_facts;
    let child = &app.child_id;
    let guardians = guardians(app);
    let mut notes = Vec::new();

    // 0. An answer that could not be read (registries.md, "Dirty records"):
    //    review citing each such record, and nothing more is read.
    if !bundle.unusable.is_empty() {
        let unusable = bundle
            .unusable
            .values()
            .map(|u| StatusNote::RegistryAnswerUnusable(&u.record))
            .collect();
        return Outcome::Settled(Settled::Review(unusable));
    }

    // 1. The child's certificate, read first and alone.
    let Some(fetched) = bundle.birth_certificates.get(child) else {
        return need([EvidenceRead::BirthCertificate {
            child_id: child.clone(),
        }]);
    };
    let Some(certificate) = fetched.record.as_ref() else {
        return Outcome::Settled(Settled::Review(vec![StatusNote::NoBirthCertificate]));
    };

    // 2. Every guardian must be a parent (or one an officer confirmed).
    let unnamed = guardians.iter().copied().filter(|g| !certificate.names_parent(g));
    let (confirmed, not_parents): (Vec<&NationalId>, Vec<&NationalId>) =
        unnamed.partition(|g| officer.guardianship_confirmed.contains(*g));
    if !not_parents.is_empty() {
        return Outcome::Settled(Settled::Review(vec![StatusNote::GuardianNotParent(not_parents)]));
    }
    if !confirmed.is_empty() {
        notes.push(StatusNote::GuardianshipConfirmed(confirmed));
    }

    // 3. Birth dates: the ID against the certificate settles it without more reads.
    let id_date = child.birth_date();
    if id_date != certificate.birth_date && !officer.birth_date_confirmed {
        notes.push(StatusNote::BirthDateMismatch {
            id_date,
            certificate: certificate.birth_date,
            household: None,
        });
        return Outcome::Settled(Settled::Review(notes));
    }
    let Some(fetched) = bundle.household_records.get(child) else {
        return need([EvidenceRead::HouseholdRecord {
            person_id: child.clone(),
        }]);
    };
    let household = fetched.record.as_ref();
    let household_date = household.map(|h| h.birth_date);
    let disagree = id_date != certificate.birth_date || household_date.is_some_and(|d| d != certificate.birth_date);
    if disagree {
        if !officer.birth_date_confirmed {
            notes.push(StatusNote::BirthDateMismatch {
                id_date,
                certificate: certificate.birth_date,
                household: household_date,
            });
            return Outcome::Settled(Settled::Review(notes));
        }
        notes.push(StatusNote::BirthDateConfirmed {
            id_date,
            certificate: certificate.birth_date,
            household: household_date,
        });
    }

    // 4. and 5. Age, by the certificate's date, where the policy has an age limit.
    if policy.born_on_or_before().is_some_and(|d| certificate.birth_date > d) {
        notes.push(StatusNote::TooYoung(certificate.birth_date));
        return Outcome::Settled(Settled::Ineligible(notes));
    }
    if policy.born_on_or_after().is_some_and(|d| certificate.birth_date < d) {
        if !officer.delayed_enrolment_approved {
            notes.push(StatusNote::TooOld(certificate.birth_date));
            return Outcome::Settled(Settled::Review(notes));
        }
        notes.push(StatusNote::DelayedEnrolmentApproved(certificate.birth_date));
    }

    // 6. Already at a school (or, for a final-grade policy, not in the final grade).
    let Some(fetched) = bundle.current_places.get(child) else {
        return need([EvidenceRead::CurrentPlace {
            child_id: child.clone(),
        }]);
    };
    let current_place = fetched.record.as_ref();
    match current_place_clause(ctx, current_place) {
        Ok(note) => notes.extend(note),
        Err(note) => {
            notes.push(note);
            return Outcome::Settled(Settled::Review(notes));
        }
    }
    let current_school = current_place.filter(|p| ctx.schools.contains_key(&p.school_id));

    // 7. The addresses that matter, and the records that say which ones do.
    let region = policy.region_prefix();
    let city_hukou = household.is_some_and(|h| h.region.in_region(region));
    let mut r = Resolver::default();
    let home_h = match household {
        Some(h) if city_hukou => r.resolve(Origin::Household(child), &h.address, bundle),
        _ => None,
    };

    let mut units: BTreeMap<&UnitNo, &PropertyUnit> = BTreeMap::new();
    for g in &guardians {
        match bundle.holdings.get(*g) {
            None => {
                r.need.insert(EvidenceRead::Holdings { owner_id: (*g).clone() });
            }
            Some(f) => {
                for u in f.record.iter().flatten() {
                    units.entry(&u.unit_no).or_insert(u);
                }
            }
        }
    }
    let mut unit_checks = Vec::with_capacity(units.len());
    for unit in units.into_values() {
        let share: u32 = unit
            .owners
            .iter()
            .filter(|o| guardians.contains(&&o.id))
            // Saturating: a registry's shares are read as they stand, however large.
            .fold(0, |total, o| total.saturating_add(o.share_pct));
        let verdict = if unit.usage != Usage::Residential {
            UnitVerdict::NotResidential
        } else if unit.status != UnitStatus::Normal {
            UnitVerdict::Sealed
        } else if unit.registered_on > policy.residence_cutoff() {
            UnitVerdict::RegisteredAfterCutoff
        } else if share < policy.min_family_share_pct() {
            UnitVerdict::ShareTooSmall(share)
        } else {
            UnitVerdict::Unresolved
        };
        let mut place = None;
        let verdict = if verdict == UnitVerdict::Unresolved {
            place = r.resolve(Origin::Unit(&unit.unit_no), &unit.address, bundle);
            match &place {
                Some(p) if p.in_region(region) => UnitVerdict::Family,
                Some(_) => UnitVerdict::OutsideRegion,
                None => UnitVerdict::Unresolved,
            }
        } else {
            verdict
        };
        unit_checks.push(UnitCheck { unit, verdict, place });
    }

    let mut permit_checks = Vec::new();
    if !city_hukou {
        let window = policy.insurance_window();
        for g in &guardians {
            let Some(f) = bundle.permits.get(*g) else {
                r.need.insert(EvidenceRead::Permit {
                    holder_id: (*g).clone(),
                });
                continue;
            };
            let Some(permit) = f.record.as_ref() else { continue };
            let mut check = PermitCheck {
                permit,
                verdict: PermitVerdict::Qualifying,
                months: 0,
                points: 0,
                place: None,
            };
            if permit.issued_on > policy.residence_cutoff() {
                check.verdict = PermitVerdict::IssuedAfterCutoff;
            } else if permit.valid_until < policy.permit_valid_on() {
                check.verdict = PermitVerdict::ExpiresTooEarly;
            } else {
                // Insurance is read only for the holder of a permit that passes its own tests.
                let Some(f) = bundle.insurance_months.get(*g) else {
                    r.need.insert(EvidenceRead::InsuranceMonths {
                        person_id: (*g).clone(),
                        from: window.0,
                        to: window.1,
                    });
                    continue;
                };
                check.months = months_in_window(f.record.as_deref().unwrap_or_default(), window);
                if check.months < policy.insurance_min_months() {
                    check.verdict = PermitVerdict::TooFewMonths(check.months);
                } else {
                    let permit_months = whole_months(permit.issued_on, policy.residence_cutoff());
                    check.points = check
                        .months
                        .saturating_mul(policy.points_per_insurance_month())
                        .saturating_add(
                            permit_months
                                .min(policy.permit_months_cap())
                                .saturating_mul(policy.points_per_permit_month()),
                        );
                    check.place = r.resolve(Origin::Permit(&permit.holder_id), &permit.address, bundle);
                    if check.place.is_none() {
                        check.verdict = PermitVerdict::Unresolved;
                    }
                }
            }
            permit_checks.push(check);
        }
    }
    if !r.need.is_empty() {
        return Outcome::Need(r.need);
    }
    notes.append(&mut r.officer);
    if !r.failures.is_empty() {
        notes.append(&mut r.failures);
        return Outcome::Settled(Settled::Review(notes));
    }

    // Eligible. Now the evidence for priorities: zones, seat uses, the guardians'
    // households, the siblings.
    let mut reads = BTreeSet::new();
    let registered_by_cutoff = household.is_some_and(|h| h.registered_on <= policy.hukou_cutoff());
    let tiers = policy.tiers();
    let guardian_records_read = tiers
        .iter()
        .any(|t| t.requires(Fact::GuardianInHousehold) && child_facts_possible(t, city_hukou, registered_by_cutoff));
    let mut guardian_in_household = None;
    if guardian_records_read {
        for g in &guardians {
            match bundle.household_records.get(*g) {
                None => {
                    reads.insert(EvidenceRead::HouseholdRecord {
                        person_id: (*g).clone(),
                    });
                }
                Some(f) => {
                    let same = f
                        .record
                        .as_ref()
                        .zip(household)
                        .is_some_and(|(gh, ch)| gh.household_no == ch.household_no);
                    if same && guardian_in_household.is_none() {
                        guardian_in_household = Some(*g);
                    }
                }
            }
        }
    }

    let mut building = |place: &Place<'_>| {
        if place.zone(bundle).is_none() {
            reads.insert(EvidenceRead::Building {
                building_key: place.code.building_key(),
            });
        }
    };
    if let Some(h) = &home_h {
        building(h);
    }
    // A family property's zones matter for a tier zoned by it; its location
    // for the home of a child without city hukou.
    let property_zones_matter = !city_hukou || tiers.iter().any(|t| t.dwelling == Dwelling::FamilyProperty);
    let family: Vec<&UnitCheck<'_>> = unit_checks
        .iter()
        .filter(|u| u.verdict == UnitVerdict::Family)
        .collect();
    let qualifying: Vec<&PermitCheck<'_>> = permit_checks
        .iter()
        .filter(|p| p.verdict == PermitVerdict::Qualifying)
        .collect();
    for u in &family {
        if let Some(p) = &u.place
            && property_zones_matter
        {
            building(p);
        }
    }
    for p in &qualifying {
        if let Some(pl) = &p.place {
            building(pl);
        }
    }
    // Seat uses of a family property that a tier with `not_seat_locked` could rest on.
    for u in &family {
        let Some(place) = &u.place else { continue };
        let used = tiers.iter().any(|t| {
            t.requires(Fact::NotSeatLocked)
                && child_facts_possible(t, city_hukou, registered_by_cutoff)
                && match t.dwelling {
                    Dwelling::FamilyProperty => true,
                    Dwelling::Household => home_h.as_ref().is_some_and(|h| h.code == place.code),
                    Dwelling::Permit => qualifying
                        .iter()
                        .any(|p| p.place.as_ref().is_some_and(|pl| pl.code == place.code)),
                    Dwelling::CurrentSchool => false,
                }
        });
        if used && !bundle.unit_uses.contains_key(&u.unit.unit_no) {
            reads.insert(EvidenceRead::UnitUses {
                unit_no: u.unit.unit_no.clone(),
            });
        }
    }
    let declared = siblings(app);
    for s in &declared {
        if !bundle.birth_certificates.contains_key(*s) {
            reads.insert(EvidenceRead::BirthCertificate { child_id: (*s).clone() });
        }
    }
    if !reads.is_empty() {
        return Outcome::Need(reads);
    }

    // Siblings: verified by a certificate naming a guardian; then where they are at school.
    let mut siblings = Vec::with_capacity(declared.len());
    for s in declared {
        let certificate = bundle.birth_certificates.get(s).and_then(|f| f.record.as_ref());
        let verified = certificate.is_some_and(|c| guardians.iter().any(|g| c.names_parent(g)));
        let mut place = None;
        if verified {
            match bundle.current_places.get(s) {
                None => {
                    reads.insert(EvidenceRead::CurrentPlace { child_id: s.clone() });
                }
                Some(f) => place = f.record.as_ref(),
            }
        }
        siblings.push(SiblingCheck {
            id: s,
            certificate,
            verified,
            place,
        });
    }
    if !reads.is_empty() {
        return Outcome::Need(reads);
    }

    Outcome::Settled(Settled::Eligible {
        notes,
        family: Box::new(Family {
            household,
            city_hukou,
            home_h,
            units: unit_checks,
            permits: permit_checks,
            guardian_records_read,
            guardian_in_household,
            siblings,
            current_school,
        }),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn app(guardians: &[&str], siblings: &[&str]) -> Application {
        let id = |s: &&str| NationalId::from_prefix(s).unwrap_or_else(|| panic!("{s}"));
        Application {
            application_id: uuid::Uuid::nil(),
            round: "2027-primary".into(),
            child_id: id(&"37081120201115002"),
            applicant_id: id(&"37081119880312004"),
            guardian_ids: guardians.iter().map(id).collect(),
            sibling_ids: siblings.iter().map(id).collect(),
            choices: Vec::new(),
            consent_id: "CNS-1".into(),
            submitted_at: chrono::DateTime::parse_from_rfc3339("2027-05-06T09:00:00+08:00")
                .unwrap_or_else(|e| panic!("{e}")),
        }
    }

    #[test]
    fn family_lists_agree_with_the_domain() {
        let a = app(
            &["37081119870506001", "37081119880312004", "37081119870506001"],
            &[
                "37081120180310001",
                "37081120201115002",
                "37081120180310001",
                "37081120150202003",
            ],
        );
        assert_eq!(guardians(&a), a.guardians());
        assert_eq!(siblings(&a), a.siblings());
        assert_eq!(guardians(&a).len(), 2);
        assert_eq!(siblings(&a).len(), 2);
    }

    #[test]
    fn permit_months_are_whole_calendar_months() {
        let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap_or_default();
        assert_eq!(whole_months(d("2024-03-02"), d("2026-08-31")), 29);
        assert_eq!(
            whole_months(d("2024-03-20"), d("2026-08-15")),
            28,
            "less one: the 15th is before the 20th"
        );
        assert_eq!(
            whole_months(d("2024-03-15"), d("2026-08-15")),
            29,
            "same day of month counts"
        );
        assert_eq!(whole_months(d("2026-08-31"), d("2026-08-31")), 0);
        assert_eq!(whole_months(d("2026-08-01"), d("2026-08-31")), 0);
        assert_eq!(whole_months(d("2026-07-31"), d("2026-08-30")), 0);
        assert_eq!(whole_months(d("2027-01-01"), d("2026-08-31")), 0, "never negative");
    }

    #[test]
    fn insurance_months_count_once_inside_the_window() {
        let m = |s: &str| YearMonth::parse(s).unwrap_or_else(|e| panic!("{e}"));
        let window = (m("2025-05"), m("2027-04"));
        let months = [
            m("2025-04"),
            m("2025-05"),
            m("2025-05"),
            m("2026-01"),
            m("2027-04"),
            m("2027-05"),
        ];
        assert_eq!(months_in_window(&months, window), 3);
    }
}
