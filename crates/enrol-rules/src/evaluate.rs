//! The decision: status, priorities, preferences, lottery number and reasons.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{Datelike, NaiveDate};
use enrol_domain::{
    Application, Decision, Evaluation, EvidenceBundle, Home, LOTTERY_PRIORITY, NationalId, PropertyUnit, Reason,
    SchoolCatalogue, SchoolId, SchoolKind, SchoolPriority, SeatUse, Stage, Status, UnitNo, Usage,
};

use crate::analysis::{
    self, Ctx, Family, Origin, Outcome, PermitCheck, PermitVerdict, Place, Settled, StatusNote, UnitVerdict,
};
use crate::lottery::lottery_number;
use crate::policy::{Dwelling, Fact, Policy, Tier, TierValue};
use crate::reasons::{self as r, Cite, hukou, school_label};

/// Decides one application from its evidence (policy.md). Pure: the same
/// inputs always give the same evaluation.
///
/// With `round_seed` `None` the decision carries no lottery number (in a live
/// round the seed is known only at allocation). A bundle that still lacks
/// reads [`crate::plan_reads`] asks for gives `review` with the reason
/// `evidence_incomplete`: the gatherer is expected to decide complete bundles only.
pub fn evaluate(
    app: &Application,
    bundle: &EvidenceBundle,
    policy: &Policy,
    schools: &SchoolCatalogue,
    round_seed: Option<&str>,
) -> Evaluation {
    let ctx = Ctx {
        app,
        bundle,
        policy,
        schools,
    };
    match analysis::analyse(ctx) {
        Outcome::Need(reads) => not_eligible(app, Status::Review, vec![r::evidence_incomplete(&reads)]),
        Outcome::Settled(Settled::Review(notes)) => not_eligible(app, Status::Review, status_reasons(ctx, &notes)),
        Outcome::Settled(Settled::Ineligible(notes)) => {
            not_eligible(app, Status::Ineligible, status_reasons(ctx, &notes))
        }
        Outcome::Settled(Settled::Eligible { notes, family, .. }) => eligible(ctx, &notes, &family, round_seed),
    }
}

fn not_eligible(app: &Application, status: Status, reasons: Vec<Reason>) -> Evaluation {
    Evaluation {
        decision: Decision {
            application_id: app.application_id,
            child_id: app.child_id.clone(),
            status,
            schools: Vec::new(),
            preferences: Vec::new(),
            lottery: None,
            reasons,
        },
        best_tier: None,
        home: None,
        seat_units: BTreeMap::new(),
    }
}

fn status_reasons(ctx: Ctx<'_>, notes: &[StatusNote<'_>]) -> Vec<Reason> {
    let child = &ctx.app.child_id;
    let policy = ctx.policy;
    notes
        .iter()
        .map(|note| match note {
            StatusNote::RegistryAnswerUnusable(record) => r::registry_answer_unusable(record),
            StatusNote::NoBirthCertificate => r::no_birth_certificate(child),
            StatusNote::GuardianNotParent(g) => r::guardian_not_parent(child, g),
            StatusNote::GuardianshipConfirmed(g) => r::guardianship_confirmed(child, g),
            StatusNote::BirthDateMismatch {
                id_date,
                certificate,
                household,
            } => r::birth_date_mismatch(child, *id_date, *certificate, *household),
            StatusNote::BirthDateConfirmed {
                id_date,
                certificate,
                household,
            } => r::birth_date_confirmed(child, *id_date, *certificate, *household),
            StatusNote::TooYoung(d) => r::too_young(child, *d, policy.born_on_or_before().unwrap_or(*d)),
            StatusNote::TooOld(d) => r::too_old(child, *d, policy.born_on_or_after().unwrap_or(*d)),
            StatusNote::DelayedEnrolmentApproved(d) => {
                r::delayed_enrolment_approved(child, *d, policy.born_on_or_after().unwrap_or(*d))
            }
            StatusNote::NoCurrentPlace => r::no_current_place(child, policy.final_grade().unwrap_or_default()),
            StatusNote::NotInFinalGrade(p, grade) => {
                r::not_in_final_grade(child, &school_label(ctx.schools, &p.school_id), p.grade, *grade)
            }
            StatusNote::CurrentSchoolUnknown(p) => r::current_school_unknown(child, &p.school_id, p.grade),
            StatusNote::FinalGradeCleared(p, grade) => {
                let label = p.map(|p| (school_label(ctx.schools, &p.school_id), p.grade));
                r::final_grade_cleared(child, label.as_ref().map(|(l, g)| (l.as_str(), *g)), *grade)
            }
            StatusNote::AlreadyAtSchool(p) => {
                r::already_at_school(child, &school_label(ctx.schools, &p.school_id), p.grade)
            }
            StatusNote::CurrentPlaceCleared(p) => {
                r::current_place_cleared(child, &school_label(ctx.schools, &p.school_id), p.grade)
            }
            StatusNote::AddressUnresolved { origin, text } => r::address_unresolved(*origin, text),
            StatusNote::AddressAmbiguous { origin, text, matches } => r::address_ambiguous(*origin, text, *matches),
            StatusNote::AddressResolvedByOfficer { origin, text, code } => {
                r::address_resolved_by_officer(*origin, text, code)
            }
        })
        .collect()
}

/// A date as the order key writes it: `YYYYMMDD`.
pub(crate) fn date_value(d: NaiveDate) -> i64 {
    i64::from(d.year()) * 10_000 + i64::from(d.month()) * 100 + i64::from(d.day())
}

/// A tier holding at one school, and what it rests on.
#[derive(Debug, Clone)]
struct Standing<'f, 'a> {
    rank: u32,
    tier: &'a Tier,
    value: i64,
    /// The zoning dwelling (none for the current school) and where it comes from.
    dwelling: Option<&'f Place<'a>>,
    origin: Origin<'a>,
    /// The family property the tier rests on (a seat won with it uses the unit).
    unit: Option<&'a PropertyUnit>,
    permit: Option<&'f PermitCheck<'a>>,
}

impl Standing<'_, '_> {
    /// Within one tier and school, the better of two ways the tier holds.
    fn better_than(&self, other: &Self) -> bool {
        let key = |s: &Self| {
            (
                s.value,
                s.unit.map(|u| u.unit_no.as_str()),
                s.permit.map(|p| p.permit.permit_no.as_str()),
                s.dwelling.map(|d| d.code.as_str()),
            )
        };
        key(self) < key(other)
    }
}

/// A dwelling a tier may be zoned by, with the family properties and qualifying permits there.
struct Anchor<'f, 'a> {
    /// The address (none for the current school, which is zoned by its `feeds`).
    place: Option<&'f Place<'a>>,
    /// Zoned(X): the schools of X's building, or Fed(C) for the current school C.
    zoned: &'a [SchoolId],
    origin: Origin<'a>,
    units: Vec<&'a PropertyUnit>,
    permits: Vec<&'f PermitCheck<'a>>,
}

struct Priorities<'f, 'a> {
    /// The best tier holding at each public school of the round.
    by_school: BTreeMap<SchoolId, Standing<'f, 'a>>,
    /// (unit, school) → the use that locks the unit there.
    locks: BTreeMap<(&'a UnitNo, SchoolId), &'a SeatUse>,
}

pub(crate) fn is_round_school(ctx: Ctx<'_>, id: &SchoolId, kind: SchoolKind) -> bool {
    ctx.schools
        .get(id)
        .is_some_and(|s| s.stage == ctx.policy.stage() && s.kind == kind)
}

/// Zoned(X): the schools of the building of X; none when the zone registry does not know it.
pub(crate) fn zoned<'a>(bundle: &'a EvidenceBundle, place: &Place<'a>) -> &'a [SchoolId] {
    place
        .zone(bundle)
        .and_then(|f| f.record.as_ref())
        .map_or(&[], |b| b.schools.as_slice())
}

/// The use that seat-locks `unit` for `school`: a use there in the lock years
/// by a child who is not a verified sibling.
pub(crate) fn lock<'a>(
    ctx: Ctx<'a>,
    unit: &PropertyUnit,
    school: &SchoolId,
    siblings: &[&NationalId],
) -> Option<&'a SeatUse> {
    let (from, to) = ctx.policy.seat_lock_span();
    ctx.bundle
        .unit_uses
        .get(&unit.unit_no)
        .and_then(|f| f.record.as_ref())?
        .iter()
        .find(|u| &u.school_id == school && (from..=to).contains(&u.year) && !siblings.contains(&&u.child_id))
}

fn priorities<'f, 'a>(ctx: Ctx<'a>, family: &'f Family<'a>) -> Priorities<'f, 'a> {
    let policy = ctx.policy;
    let household = family.household;
    let registered_by_cutoff = household.is_some_and(|h| h.registered_on <= policy.hukou_cutoff());
    let siblings: Vec<&NationalId> = family.verified_sibling_ids().collect();
    let family_units: Vec<(&'a PropertyUnit, &'f Place<'a>)> =
        family.family_units().map(|(u, p)| (u.unit, p)).collect();
    let permits: Vec<(&'f PermitCheck<'a>, &'f Place<'a>)> = family.qualifying_permits().collect();
    let units_at = |place: &Place<'_>| -> Vec<&'a PropertyUnit> {
        family_units
            .iter()
            .filter(|(_, p)| p.code == place.code)
            .map(|(u, _)| *u)
            .collect()
    };
    let permits_at = |place: &Place<'_>| -> Vec<&'f PermitCheck<'a>> {
        permits
            .iter()
            .filter(|(_, p)| p.code == place.code)
            .map(|(c, _)| *c)
            .collect()
    };

    let mut out = Priorities {
        by_school: BTreeMap::new(),
        locks: BTreeMap::new(),
    };
    for (i, tier) in policy.tiers().iter().enumerate() {
        let rank = u32::try_from(i + 1).unwrap_or(u32::MAX);
        let child_facts = tier.facts.iter().all(|f| match f {
            Fact::CityHukou => family.city_hukou,
            Fact::NoCityHukou => !family.city_hukou,
            Fact::RegisteredByCutoff => registered_by_cutoff,
            Fact::GuardianInHousehold => family.guardian_in_household.is_some(),
            Fact::FamilyProperty | Fact::NotSeatLocked | Fact::QualifyingPermit => true,
        });
        if !child_facts {
            continue;
        }
        let anchors: Vec<Anchor<'f, 'a>> = match tier.dwelling {
            Dwelling::Household => family
                .home_h
                .as_ref()
                .filter(|_| family.city_hukou)
                .map(|h| Anchor {
                    place: Some(h),
                    zoned: zoned(ctx.bundle, h),
                    origin: Origin::Household(&ctx.app.child_id),
                    units: units_at(h),
                    permits: permits_at(h),
                })
                .into_iter()
                .collect(),
            Dwelling::FamilyProperty => family_units
                .iter()
                .map(|(u, p)| Anchor {
                    place: Some(p),
                    zoned: zoned(ctx.bundle, p),
                    origin: Origin::Unit(&u.unit_no),
                    units: vec![*u],
                    permits: permits_at(p),
                })
                .collect(),
            Dwelling::Permit => permits
                .iter()
                .map(|(c, p)| Anchor {
                    place: Some(p),
                    zoned: zoned(ctx.bundle, p),
                    origin: Origin::Permit(&c.permit.holder_id),
                    units: units_at(p),
                    permits: vec![*c],
                })
                .collect(),
            Dwelling::CurrentSchool => family
                .current_school
                .and_then(|p| ctx.schools.get(&p.school_id))
                .map(|school| Anchor {
                    place: None,
                    zoned: school.feeds.as_slice(),
                    origin: Origin::CurrentSchool(&ctx.app.child_id),
                    units: Vec::new(),
                    permits: Vec::new(),
                })
                .into_iter()
                .collect(),
        };
        let mut held: BTreeMap<SchoolId, Standing<'f, 'a>> = BTreeMap::new();
        for anchor in &anchors {
            for school in anchor.zoned {
                if !is_round_school(ctx, school, SchoolKind::Public) {
                    continue;
                }
                let mut unit = None;
                if tier.rests_on_property() {
                    let mut best: Option<&PropertyUnit> = None;
                    for u in &anchor.units {
                        if tier.requires(Fact::NotSeatLocked)
                            && let Some(used) = lock(ctx, u, school, &siblings)
                        {
                            out.locks.entry((&u.unit_no, school.clone())).or_insert(used);
                            continue;
                        }
                        if best.is_none_or(|b| (u.registered_on, &u.unit_no) < (b.registered_on, &b.unit_no)) {
                            best = Some(u);
                        }
                    }
                    let Some(b) = best else { continue };
                    unit = Some(b);
                }
                let mut permit = None;
                if tier.rests_on_permit() {
                    let best = anchor.permits.iter().copied().min_by(|a, b| {
                        b.points
                            .cmp(&a.points)
                            .then_with(|| a.permit.permit_no.cmp(&b.permit.permit_no))
                    });
                    let Some(b) = best else { continue };
                    permit = Some(b);
                }
                let value = match tier.value {
                    TierValue::ChildRegisteredOn => match household {
                        Some(h) => date_value(h.registered_on),
                        None => continue,
                    },
                    TierValue::PropertyRegisteredOn => match unit {
                        Some(u) => date_value(u.registered_on),
                        None => continue,
                    },
                    TierValue::PermitPoints => match permit {
                        Some(p) => -i64::from(p.points),
                        None => continue,
                    },
                    TierValue::None => 0,
                };
                let standing = Standing {
                    rank,
                    tier,
                    value,
                    dwelling: anchor.place,
                    origin: anchor.origin,
                    unit,
                    permit,
                };
                match held.get(school) {
                    Some(current) if !standing.better_than(current) => {}
                    _ => {
                        held.insert(school.clone(), standing);
                    }
                }
            }
        }
        for (school, standing) in held {
            // Tiers are visited best first: the first that holds is the child's priority.
            out.by_school.entry(school).or_insert(standing);
        }
    }
    out
}

/// The home of policy.md ("Preferences"): H; else the family property
/// registered earliest (then lowest `unit_no`); else the dwelling of the
/// qualifying permit with the most points (then lowest `permit_no`).
fn home<'f, 'a>(family: &'f Family<'a>) -> Option<(&'f Place<'a>, Origin<'a>)> {
    if family.city_hukou {
        return family
            .home_h
            .as_ref()
            .zip(family.household.map(|h| Origin::Household(&h.id)));
    }
    if let Some((u, p)) = family
        .family_units()
        .min_by(|(a, _), (b, _)| (a.unit.registered_on, &a.unit.unit_no).cmp(&(b.unit.registered_on, &b.unit.unit_no)))
    {
        return Some((p, Origin::Unit(&u.unit.unit_no)));
    }
    family
        .qualifying_permits()
        .min_by(|(a, _), (b, _)| {
            b.points
                .cmp(&a.points)
                .then_with(|| a.permit.permit_no.cmp(&b.permit.permit_no))
        })
        .map(|(c, p)| (p, Origin::Permit(&c.permit.holder_id)))
}

fn stage_name(stage: Stage) -> &'static str {
    match stage {
        Stage::Primary => "primary",
        Stage::Junior => "junior",
    }
}

/// The records any tier test rests on, cited when no tier holds at a school.
fn tier_basis(ctx: Ctx<'_>, family: &Family<'_>) -> BTreeSet<Cite> {
    let mut basis = BTreeSet::new();
    basis.insert(hukou(&ctx.app.child_id));
    for g in analysis::guardians(ctx.app) {
        basis.insert(r::property_owner(g));
        if !family.city_hukou {
            basis.insert(r::residence(g));
        }
    }
    let places = family
        .home_h
        .iter()
        .chain(family.family_units().map(|(_, p)| p))
        .chain(family.qualifying_permits().map(|(_, p)| p));
    for p in places {
        if p.zone(ctx.bundle).is_some() {
            basis.insert(r::zones(p.building()));
        }
    }
    if let Some(c) = family.current_school
        && ctx.policy.tiers().iter().any(|t| t.dwelling == Dwelling::CurrentSchool)
    {
        basis.insert(r::history(ctx.app.child_id.as_str()));
        basis.insert(r::zones(c.school_id.as_str()));
    }
    basis
}

fn standing_reason(ctx: Ctx<'_>, family: &Family<'_>, school: &SchoolId, s: &Standing<'_, '_>) -> Reason {
    let child = &ctx.app.child_id;
    let tier = s.tier;
    let mut evidence = Vec::new();
    for fact in &tier.facts {
        match fact {
            Fact::CityHukou | Fact::NoCityHukou | Fact::RegisteredByCutoff => evidence.push(hukou(child)),
            Fact::GuardianInHousehold => {
                evidence.push(hukou(child));
                evidence.extend(family.guardian_in_household.map(hukou));
            }
            Fact::FamilyProperty | Fact::NotSeatLocked | Fact::QualifyingPermit => {}
        }
    }
    if tier.value == TierValue::ChildRegisteredOn {
        evidence.push(hukou(child));
    }
    evidence.push(r::origin_record(s.origin));
    match s.dwelling {
        Some(d) => {
            evidence.extend(r::via_record(d));
            evidence.push(r::zones(d.building()));
        }
        // Zoned by the current school's `feeds`: the school catalogue's entry for it.
        None => evidence.extend(family.current_school.map(|c| r::zones(c.school_id.as_str()))),
    }
    if let Some(u) = s.unit {
        evidence.push(r::property_unit(&u.unit_no));
        if tier.requires(Fact::NotSeatLocked) {
            evidence.push(r::history(u.unit_no.as_str()));
        }
        if let Some(check) = family.units.iter().find(|c| c.unit.unit_no == u.unit_no)
            && let Some(place) = &check.place
        {
            evidence.extend(r::via_record(place));
        }
    }
    if let Some(p) = s.permit {
        evidence.push(r::residence(&p.permit.holder_id));
        evidence.push(r::insurance(&p.permit.holder_id));
        if let Some(place) = &p.place {
            evidence.extend(r::via_record(place));
        }
    }
    let label = school_label(ctx.schools, school);
    // Texts are joined by hand: every eligible decision has several, and `format!` is slow.
    let date;
    let points;
    let (value_zh, value_en): ([&str; 4], [&str; 4]) = match tier.value {
        TierValue::ChildRegisteredOn => {
            date = family.household.map(|h| r::ymd(h.registered_on)).unwrap_or_default();
            (["子女落户日期", &date, "", ""], ["child registered on ", &date, "", ""])
        }
        TierValue::PropertyRegisteredOn => {
            date = s.unit.map(|u| r::ymd(u.registered_on)).unwrap_or_default();
            let n = s.unit.map_or("", |u| u.unit_no.as_str());
            (
                ["房产", n, "登记日期", &date],
                ["property ", n, " registered on ", &date],
            )
        }
        TierValue::PermitPoints => {
            points = s.permit.map(|p| p.points).unwrap_or_default().to_string();
            (["积分", &points, "", ""], [&points, " points", "", ""])
        }
        TierValue::None => {
            let current = family.current_school.map_or("", |c| c.school_id.as_str());
            match s.origin {
                Origin::CurrentSchool(_) => (["现就读", current, "", ""], ["now at ", current, "", ""]),
                _ => (["", "", "", ""], ["", "", "", ""]),
            }
        }
    };
    let [z0, z1, z2, z3] = value_zh;
    let [e0, e1, e2, e3] = value_en;
    r::reason(
        &tier.reason_code,
        r::concat(&[
            &label,
            "：",
            &tier.reason_zh,
            if z1.is_empty() { "" } else { "，" },
            z0,
            z1,
            z2,
            z3,
        ]),
        r::concat(&[
            &label,
            ": ",
            &tier.reason_en,
            " (",
            &tier.name,
            ")",
            if e1.is_empty() { "" } else { "; " },
            e0,
            e1,
            e2,
            e3,
        ]),
        evidence,
    )
}

fn family_reasons(ctx: Ctx<'_>, family: &Family<'_>, p: &Priorities<'_, '_>) -> Vec<Reason> {
    let policy = ctx.policy;
    let child = &ctx.app.child_id;
    let tiers = policy.tiers();
    let mut out = Vec::new();

    // The child's household registration, where a tier looked at it.
    let tier_needs_city_hukou = tiers
        .iter()
        .any(|t| t.requires(Fact::CityHukou) || t.dwelling == Dwelling::Household);
    let household = family.household;
    if !family.city_hukou && tier_needs_city_hukou {
        out.push(r::no_city_hukou(child, household.map(|h| h.region.as_str())));
    } else if let Some(h) = household.filter(|_| family.city_hukou) {
        if h.registered_on > policy.hukou_cutoff() && tiers.iter().any(|t| t.requires(Fact::RegisteredByCutoff)) {
            out.push(r::hukou_registered_after_cutoff(
                child,
                h.registered_on,
                policy.hukou_cutoff(),
            ));
        } else if family.guardian_records_read && family.guardian_in_household.is_none() {
            out.push(r::no_guardian_in_household(
                child,
                h.household_no.as_str(),
                &analysis::guardians(ctx.app),
            ));
        }
    }

    for check in &family.units {
        let u = check.unit;
        match check.verdict {
            UnitVerdict::Family | UnitVerdict::Unresolved => {}
            UnitVerdict::NotResidential => {
                let usage = match u.usage {
                    Usage::Residential => "residential",
                    Usage::Commercial => "commercial",
                    Usage::Industrial => "industrial",
                };
                out.push(r::property_not_residential(&u.unit_no, usage));
            }
            UnitVerdict::Sealed => out.push(r::property_sealed(&u.unit_no)),
            UnitVerdict::RegisteredAfterCutoff => out.push(r::property_registered_after_cutoff(
                &u.unit_no,
                u.registered_on,
                policy.residence_cutoff(),
            )),
            UnitVerdict::ShareTooSmall(share) => {
                out.push(r::property_share_too_small(
                    &u.unit_no,
                    share,
                    policy.min_family_share_pct(),
                ));
            }
            UnitVerdict::OutsideRegion => {
                if let Some(place) = &check.place {
                    out.push(r::property_outside_region(&u.unit_no, place));
                }
            }
        }
    }
    for ((unit, school), used) in &p.locks {
        out.push(r::seat_locked(unit, &school_label(ctx.schools, school), used.year));
    }

    for check in &family.permits {
        let permit = check.permit;
        let holder = &permit.holder_id;
        match check.verdict {
            PermitVerdict::Qualifying | PermitVerdict::Unresolved => {}
            PermitVerdict::IssuedAfterCutoff => out.push(r::permit_issued_after_cutoff(
                holder,
                permit.permit_no.as_str(),
                permit.issued_on,
                policy.residence_cutoff(),
            )),
            PermitVerdict::ExpiresTooEarly => out.push(r::permit_expires_too_early(
                holder,
                permit.permit_no.as_str(),
                permit.valid_until,
                policy.permit_valid_on(),
            )),
            PermitVerdict::TooFewMonths(months) => out.push(r::insurance_months_too_few(
                holder,
                months,
                policy.insurance_window(),
                policy.insurance_min_months(),
            )),
        }
    }

    // Dwellings the zone registry does not know (no school is zoned for them).
    let mut seen = BTreeSet::new();
    let mut unzoned = |origin: Origin<'_>, place: &Place<'_>, out: &mut Vec<Reason>| {
        let key = place.building();
        let unknown = place.zone(ctx.bundle).is_some_and(|f| f.record.is_none());
        if unknown && seen.insert((key.to_owned(), origin_key(origin))) {
            out.push(r::dwelling_not_zoned(origin, place, key));
        }
    };
    if let Some(h) = &family.home_h {
        unzoned(Origin::Household(child), h, &mut out);
    }
    for (u, place) in family.family_units() {
        unzoned(Origin::Unit(&u.unit.unit_no), place, &mut out);
    }
    for (c, place) in family.qualifying_permits() {
        unzoned(Origin::Permit(&c.permit.holder_id), place, &mut out);
    }
    out
}

fn origin_key(origin: Origin<'_>) -> String {
    match origin {
        Origin::Household(id) => format!("h:{id}"),
        Origin::Unit(u) => format!("u:{u}"),
        Origin::Permit(id) => format!("p:{id}"),
        Origin::CurrentSchool(id) => format!("c:{id}"),
    }
}

fn eligible(ctx: Ctx<'_>, notes: &[StatusNote<'_>], family: &Family<'_>, round_seed: Option<&str>) -> Evaluation {
    let Ctx {
        app,
        bundle,
        policy,
        schools,
    } = ctx;
    let mut reasons = status_reasons(ctx, notes);
    let prio = priorities(ctx, family);
    reasons.extend(family_reasons(ctx, family, &prio));

    let home = home(family).map(|(place, _)| Home {
        dwelling: place.code.clone(),
        county: place.code.county(),
        location: place.zone(bundle).and_then(|f| f.record.as_ref()).map(|b| b.location),
    });

    // Preferences: valid choices in order, each once; then every other tier school.
    let mut preferences: Vec<SchoolId> = Vec::new();
    let mut dropped = Vec::new();
    let mut listed = BTreeSet::new();
    // The records every tier test rests on, cited where no tier holds (built once, when needed).
    let mut basis: Option<BTreeSet<Cite>> = None;
    for choice in &app.choices {
        let label = school_label(schools, choice);
        if !listed.insert(choice) {
            dropped.push(r::choice_repeated(choice, &label));
            continue;
        }
        match schools.get(choice) {
            None => dropped.push(r::choice_unknown_school(choice)),
            Some(s) if s.stage != policy.stage() => {
                dropped.push(r::choice_other_stage(choice, &label, stage_name(policy.stage())));
            }
            Some(s) if s.kind == SchoolKind::Private => preferences.push(choice.clone()),
            Some(_) if prio.by_school.contains_key(choice) => preferences.push(choice.clone()),
            Some(_) => dropped.push(r::choice_no_priority(
                choice,
                &label,
                basis.get_or_insert_with(|| tier_basis(ctx, family)),
            )),
        }
    }
    let distance = |id: &SchoolId| -> f64 {
        match (home.as_ref().and_then(|h| h.location), schools.get(id)) {
            (Some(from), Some(s)) => from.distance_km(&s.location),
            _ => 0.0,
        }
    };
    let mut appended: Vec<(u32, f64, &SchoolId)> = prio
        .by_school
        .iter()
        .filter(|(id, _)| !preferences.contains(id))
        .map(|(id, s)| (s.rank, distance(id), id))
        .collect();
    appended.sort_by(|a, b| {
        a.0.cmp(&b.0)
            .then_with(|| a.1.total_cmp(&b.1))
            .then_with(|| a.2.cmp(b.2))
    });
    preferences.extend(appended.into_iter().map(|(_, _, id)| id.clone()));

    // Siblings: who counts, and where a verified one gives sibling priority.
    let grades = policy.sibling_grades();
    if app.sibling_ids.contains(&app.child_id) {
        reasons.push(r::sibling_is_child(&app.child_id));
    }
    for s in &family.siblings {
        if s.certificate.is_none() {
            reasons.push(r::sibling_no_certificate(s.id));
        } else if !s.verified {
            reasons.push(r::sibling_not_verified(s.id));
        } else {
            match s.place {
                None => reasons.push(r::sibling_not_at_school(s.id)),
                Some(p) if !(grades.0..=grades.1).contains(&p.grade) => reasons.push(r::sibling_grade_not_counted(
                    s.id,
                    &school_label(schools, &p.school_id),
                    p.grade,
                    grades,
                )),
                Some(p) if !preferences.contains(&p.school_id) => {
                    reasons.push(r::sibling_school_not_in_preferences(
                        s.id,
                        &school_label(schools, &p.school_id),
                    ));
                }
                Some(_) => {}
            }
        }
    }

    let mut entries = Vec::with_capacity(preferences.len());
    let mut seat_units = BTreeMap::new();
    for id in &preferences {
        let label = school_label(schools, id);
        let sibling_here: Vec<_> = family
            .siblings
            .iter()
            .filter(|s| s.verified)
            .filter_map(|s| s.place.map(|p| (s.id, p)))
            .filter(|(_, p)| &p.school_id == id && (grades.0..=grades.1).contains(&p.grade))
            .collect();
        let sibling = !sibling_here.is_empty();
        let sibling_key = if sibling { 0 } else { 1 };
        let entry = match prio.by_school.get(id) {
            Some(standing) => {
                reasons.push(standing_reason(ctx, family, id, standing));
                if let Some(u) = standing.unit {
                    seat_units.insert(id.clone(), u.unit_no.clone());
                }
                SchoolPriority {
                    school_id: id.clone(),
                    priority: standing.tier.name.clone(),
                    sibling,
                    key: vec![i64::from(standing.rank), sibling_key, standing.value],
                }
            }
            None => {
                reasons.push(r::private_school_lottery(id, &label));
                SchoolPriority {
                    school_id: id.clone(),
                    priority: LOTTERY_PRIORITY.to_owned(),
                    sibling,
                    key: vec![0, sibling_key],
                }
            }
        };
        for (sid, p) in sibling_here {
            reasons.push(r::sibling_at_school(sid, &label, p.grade));
        }
        if schools.get(id).is_some_and(|s| s.capacity_in(policy.entry_year()) == 0) {
            reasons.push(r::school_has_no_seats(id, &label, policy.entry_year()));
        }
        entries.push(entry);
    }
    reasons.extend(dropped);
    if prio.by_school.is_empty() {
        reasons.push(r::no_tier(basis.get_or_insert_with(|| tier_basis(ctx, family))));
    }

    let best_tier = prio.by_school.values().map(|s| s.rank).min();
    Evaluation {
        decision: Decision {
            application_id: app.application_id,
            child_id: app.child_id.clone(),
            status: Status::Eligible,
            schools: entries,
            preferences,
            lottery: round_seed.map(|seed| lottery_number(seed, &app.child_id)),
            reasons,
        },
        best_tier,
        home,
        seat_units,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_written_as_yyyymmdd() {
        let d = NaiveDate::from_ymd_opt(2023, 4, 11).unwrap_or_default();
        assert_eq!(date_value(d), 20230411);
    }
}
