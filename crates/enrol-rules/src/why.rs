//! "Why not a better tier" (为何未获更优类别): for every public school of the
//! family's preferences (and every public school it chose where no tier
//! holds) at which the child has less than the policy's best tier, the first
//! clause of each better tier that the evidence fails, with the records the
//! finding rests on.
//!
//! The texts are generated from the policy's tier definitions (name, labels,
//! facts, dwelling) and parameters, so another district's policy file explains
//! itself without code changes.
//!
//! **Clause order.** A tier holds at school s when there is a dwelling X of
//! its kind such that every fact holds for X and s is in Zoned(X). Its clauses
//! are checked in this order, each narrowing the dwellings still in play:
//!
//! 1. the child's facts `city_hukou`, `no_city_hukou`, `registered_by_cutoff`;
//! 2. a dwelling of the tier's kind: the child's city household address
//!    (`dwelling`), a family property (`family_property`) or a qualifying
//!    permit (`qualifying_permit`);
//! 3. `guardian_in_household`;
//! 4. `zoned`: s is in Zoned(X) for one of those dwellings;
//! 5. `family_property` at X, then `qualifying_permit` at X (when the tier is
//!    zoned by another kind of dwelling);
//! 6. `not_seat_locked`: a family property at X not seat-locked for s.
//!
//! The first clause after which no dwelling is left is the one named. The
//! counterfactual [`tier_holds`] evaluates a tier with chosen clauses forced
//! true; the property tests check every explanation against it.

use enrol_domain::{
    Application, EvidenceBundle, NationalId, PropertyUnit, SchoolCatalogue, SchoolId, SchoolKind, Status, TierShortfall,
};

use crate::analysis::{self, Ctx, Family, Origin, Outcome, Place, Settled};
use crate::evaluate::{evaluate, is_round_school, lock, zoned};
use crate::policy::{Dwelling, Fact, Policy, Tier};
use crate::reasons::{self as r, Cite, concat, school_label, ymd};

/// A clause of a tier, as [`explain`] names it and [`tier_holds`] forces it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Clause {
    /// A fact of the policy's vocabulary. For a tier zoned by family property
    /// (or by permit), `family_property` (`qualifying_permit`) is also the
    /// clause that a dwelling of its kind exists.
    Fact(Fact),
    /// The child's city household address exists (a tier zoned by `household`).
    Dwelling,
    /// The school is in Zoned(X) for a dwelling X still in play.
    Zoned,
}

impl Clause {
    pub fn as_str(self) -> &'static str {
        match self {
            Clause::Fact(f) => f.as_str(),
            Clause::Dwelling => "dwelling",
            Clause::Zoned => "zoned",
        }
    }
}

/// The clauses of a tier in the order they are checked.
pub fn clauses(tier: &Tier) -> Vec<Clause> {
    let mut out = Vec::new();
    for f in [Fact::CityHukou, Fact::NoCityHukou, Fact::RegisteredByCutoff] {
        if tier.requires(f) {
            out.push(Clause::Fact(f));
        }
    }
    out.push(existence(tier));
    if tier.requires(Fact::GuardianInHousehold) {
        out.push(Clause::Fact(Fact::GuardianInHousehold));
    }
    out.push(Clause::Zoned);
    if tier.dwelling != Dwelling::FamilyProperty && tier.requires(Fact::FamilyProperty) {
        out.push(Clause::Fact(Fact::FamilyProperty));
    }
    if tier.dwelling != Dwelling::Permit && tier.requires(Fact::QualifyingPermit) {
        out.push(Clause::Fact(Fact::QualifyingPermit));
    }
    if tier.requires(Fact::NotSeatLocked) {
        out.push(Clause::Fact(Fact::NotSeatLocked));
    }
    out
}

/// The clause that a dwelling of the tier's kind exists.
fn existence(tier: &Tier) -> Clause {
    match tier.dwelling {
        Dwelling::Household | Dwelling::CurrentSchool => Clause::Dwelling,
        Dwelling::FamilyProperty => Clause::Fact(Fact::FamilyProperty),
        Dwelling::Permit => Clause::Fact(Fact::QualifyingPermit),
    }
}

/// A dwelling a tier may rest on (the current school has no place: it is
/// "zoned" by the schools it feeds).
#[derive(Clone, Copy)]
struct Candidate<'f, 'a> {
    place: Option<&'f Place<'a>>,
    zoned: &'a [SchoolId],
    /// The current school's id, for a candidate without a place.
    zoned_by: &'a str,
    origin: Origin<'a>,
}

impl Candidate<'_, '_> {
    /// How texts name it: the room-level code, or the current school's id.
    fn label(&self) -> &str {
        match self.place {
            Some(p) => p.code.as_str(),
            None => self.zoned_by,
        }
    }
}

/// What the clauses of one application are evaluated against.
struct Scope<'f, 'a> {
    ctx: Ctx<'a>,
    family: &'f Family<'a>,
    siblings: Vec<&'a NationalId>,
}

impl<'f, 'a> Scope<'f, 'a> {
    fn new(ctx: Ctx<'a>, family: &'f Family<'a>) -> Self {
        Scope {
            ctx,
            family,
            siblings: family.verified_sibling_ids().collect(),
        }
    }

    fn registered_by_cutoff(&self) -> bool {
        self.family
            .household
            .is_some_and(|h| h.registered_on <= self.ctx.policy.hukou_cutoff())
    }

    /// A clause that does not depend on the dwelling; `None` for one that does.
    fn child_clause(&self, clause: Clause) -> Option<bool> {
        match clause {
            Clause::Fact(Fact::CityHukou) => Some(self.family.city_hukou),
            Clause::Fact(Fact::NoCityHukou) => Some(!self.family.city_hukou),
            Clause::Fact(Fact::RegisteredByCutoff) => Some(self.registered_by_cutoff()),
            Clause::Fact(Fact::GuardianInHousehold) => Some(self.family.guardian_in_household.is_some()),
            _ => None,
        }
    }

    fn candidates(&self, tier: &Tier) -> Vec<Candidate<'f, 'a>> {
        let f = self.family;
        match tier.dwelling {
            Dwelling::Household => f
                .home_h
                .as_ref()
                .filter(|_| f.city_hukou)
                .map(|place| Candidate {
                    place: Some(place),
                    zoned: zoned(self.ctx.bundle, place),
                    zoned_by: "",
                    origin: Origin::Household(&self.ctx.app.child_id),
                })
                .into_iter()
                .collect(),
            Dwelling::FamilyProperty => f
                .family_units()
                .map(|(u, place)| Candidate {
                    place: Some(place),
                    zoned: zoned(self.ctx.bundle, place),
                    zoned_by: "",
                    origin: Origin::Unit(&u.unit.unit_no),
                })
                .collect(),
            Dwelling::Permit => f
                .qualifying_permits()
                .map(|(p, place)| Candidate {
                    place: Some(place),
                    zoned: zoned(self.ctx.bundle, place),
                    zoned_by: "",
                    origin: Origin::Permit(&p.permit.holder_id),
                })
                .collect(),
            Dwelling::CurrentSchool => f
                .current_school
                .and_then(|p| self.ctx.schools.get_key_value(&p.school_id))
                .map(|(id, school)| Candidate {
                    place: None,
                    zoned: school.feeds.as_slice(),
                    zoned_by: id.as_str(),
                    origin: Origin::CurrentSchool(&self.ctx.app.child_id),
                })
                .into_iter()
                .collect(),
        }
    }

    fn units_at(&self, place: &Place<'_>) -> Vec<&'a PropertyUnit> {
        self.family
            .family_units()
            .filter(|(_, p)| p.code == place.code)
            .map(|(u, _)| u.unit)
            .collect()
    }

    /// A clause that depends on the dwelling, for one dwelling at `school`.
    fn at(&self, clause: Clause, x: &Candidate<'_, 'a>, school: &SchoolId) -> bool {
        match clause {
            Clause::Zoned => x.zoned.contains(school),
            Clause::Fact(Fact::FamilyProperty) => x.place.is_some_and(|p| !self.units_at(p).is_empty()),
            Clause::Fact(Fact::QualifyingPermit) => x
                .place
                .is_some_and(|place| self.family.qualifying_permits().any(|(_, p)| p.code == place.code)),
            Clause::Fact(Fact::NotSeatLocked) => x.place.is_some_and(|p| {
                self.units_at(p)
                    .iter()
                    .any(|u| lock(self.ctx, u, school, &self.siblings).is_none())
            }),
            // Child clauses and the existence clause hold for every dwelling in play.
            _ => true,
        }
    }

    /// The first failing clause of `tier` at `school` and the dwellings in
    /// play when it failed (all of them for a child clause); `None` when the tier holds.
    fn first_failure(&self, tier: &Tier, school: &SchoolId) -> Option<(Clause, Vec<Candidate<'f, 'a>>)> {
        let all = self.candidates(tier);
        let mut in_play = all.clone();
        for clause in clauses(tier) {
            if let Some(holds) = self.child_clause(clause) {
                if !holds {
                    return Some((clause, all));
                }
                continue;
            }
            if clause == existence(tier) {
                if in_play.is_empty() {
                    return Some((clause, all));
                }
                continue;
            }
            let before = in_play.clone();
            in_play.retain(|x| self.at(clause, x, school));
            if in_play.is_empty() {
                return Some((clause, before));
            }
        }
        None
    }

    fn holds(&self, tier: &Tier, school: &SchoolId, forced: &[Clause]) -> bool {
        let list = clauses(tier);
        let child_ok = list
            .iter()
            .filter_map(|c| self.child_clause(*c).map(|holds| holds || forced.contains(c)))
            .all(|ok| ok);
        child_ok
            && self.candidates(tier).iter().any(|x| {
                list.iter()
                    .filter(|c| self.child_clause(**c).is_none())
                    .all(|c| forced.contains(c) || self.at(*c, x, school))
            })
    }
}

/// Whether tier `tier` (0-based, best first) of the policy holds at public
/// school `school` for an eligible child, with the `forced` clauses taken as
/// true (a counterfactual: "had this clause held"). A dwelling cannot be
/// conjured: with no dwelling of the tier's kind the tier never holds.
/// `None` when the child is not eligible or the tier does not exist.
pub fn tier_holds(
    app: &Application,
    bundle: &EvidenceBundle,
    policy: &Policy,
    schools: &SchoolCatalogue,
    tier: usize,
    school: &SchoolId,
    forced: &[Clause],
) -> Option<bool> {
    let ctx = Ctx {
        app,
        bundle,
        policy,
        schools,
    };
    let tier = policy.tiers().get(tier)?;
    let Outcome::Settled(Settled::Eligible { family, .. }) = analysis::analyse(ctx) else {
        return None;
    };
    let scope = Scope::new(ctx, &family);
    Some(is_round_school(ctx, school, SchoolKind::Public) && scope.holds(tier, school, forced))
}

/// For every public school of the preferences where the child holds a tier
/// worse than the best, and every public school the family chose where no
/// tier holds, the first failing clause of each better tier. In preference
/// order (then the dropped choices in the family's order), then tier order.
/// Empty for a child who is not eligible.
pub fn explain(
    app: &Application,
    bundle: &EvidenceBundle,
    policy: &Policy,
    schools: &SchoolCatalogue,
) -> Vec<TierShortfall> {
    let ctx = Ctx {
        app,
        bundle,
        policy,
        schools,
    };
    let Outcome::Settled(Settled::Eligible { family, .. }) = analysis::analyse(ctx) else {
        return Vec::new();
    };
    let evaluation = evaluate(app, bundle, policy, schools, None);
    if evaluation.decision.status != Status::Eligible {
        return Vec::new();
    }
    let decision = &evaluation.decision;
    let mut targets: Vec<(&SchoolId, Option<&str>)> = decision
        .schools
        .iter()
        .filter(|s| is_round_school(ctx, &s.school_id, SchoolKind::Public))
        .map(|s| (&s.school_id, Some(s.priority.as_str())))
        .collect();
    for choice in &app.choices {
        let dropped = !decision.preferences.contains(choice) && !targets.iter().any(|(s, _)| *s == choice);
        if dropped && is_round_school(ctx, choice, SchoolKind::Public) {
            targets.push((choice, None));
        }
    }
    let scope = Scope::new(ctx, &family);
    let mut out = Vec::new();
    for (school, held) in targets {
        let held_rank = held
            .and_then(|h| policy.tier_rank(h))
            .map_or(policy.tiers().len(), |r| r as usize - 1);
        for tier in &policy.tiers()[..held_rank] {
            if let Some((clause, in_play)) = scope.first_failure(tier, school) {
                out.push(shortfall(&scope, tier, school, held, clause, &in_play));
            }
        }
    }
    out
}

fn shortfall(
    scope: &Scope<'_, '_>,
    tier: &Tier,
    school: &SchoolId,
    held: Option<&str>,
    clause: Clause,
    in_play: &[Candidate<'_, '_>],
) -> TierShortfall {
    let label = school_label(scope.ctx.schools, school);
    let (need_zh, need_en) = needs(scope.ctx.policy, tier, clause);
    let (found_zh, found_en, evidence) = finding(scope, tier, school, clause, in_play);
    // Evidence as reasons cite it: registry order, then record, each once.
    let mut evidence = evidence;
    evidence.sort_unstable();
    evidence.dedup();
    TierShortfall {
        school_id: school.clone(),
        held: held.map(str::to_owned),
        tier: tier.name.clone(),
        clause: clause.as_str().to_owned(),
        zh: concat(&[
            &label,
            "：",
            &tier.name,
            "（",
            &tier.label_zh,
            "）需要",
            &need_zh,
            "；",
            &found_zh,
        ]),
        en: concat(&[
            &label,
            ": ",
            &tier.name,
            " (",
            &tier.label_en,
            ") needs ",
            &need_en,
            "; ",
            &found_en,
        ]),
        evidence: evidence.into_iter().map(|(_, c)| c).collect(),
    }
}

/// How the tier's dwelling is named.
fn dwelling_words(tier: &Tier) -> (&'static str, &'static str) {
    match tier.dwelling {
        Dwelling::Household => ("子女户籍地址", "the child's household address"),
        Dwelling::FamilyProperty => ("家庭房产", "a family property"),
        Dwelling::Permit => ("居住证居住地址", "the address of a qualifying residence permit"),
        Dwelling::CurrentSchool => ("子女现就读学校", "the child's current school"),
    }
}

/// What the clause asks, from the policy's parameters.
fn needs(policy: &Policy, tier: &Tier, clause: Clause) -> (String, String) {
    let (dz, de) = dwelling_words(tier);
    let (lock_from, lock_to) = policy.seat_lock_span();
    let (win_from, win_to) = policy.insurance_window();
    match clause {
        Clause::Dwelling if tier.dwelling == Dwelling::CurrentSchool => (
            "子女现就读于学区划片登记的学校".to_owned(),
            "the child at a school of the zone registry now".to_owned(),
        ),
        Clause::Zoned if tier.dwelling == Dwelling::CurrentSchool => (
            "子女现就读学校对口该校（对口直升）".to_owned(),
            "the child's current school paired with the school (对口直升)".to_owned(),
        ),
        Clause::Fact(Fact::CityHukou) | Clause::Dwelling => (
            format!("本市户籍（户籍所在地{}开头）", policy.region_prefix()),
            format!(
                "city hukou (a household registration in a county starting {})",
                policy.region_prefix()
            ),
        ),
        Clause::Fact(Fact::NoCityHukou) => ("非本市户籍".to_owned(), "no city hukou".to_owned()),
        Clause::Fact(Fact::RegisteredByCutoff) => (
            format!("子女于{}或之前落户", ymd(policy.hukou_cutoff())),
            format!(
                "the child's hukou registered on or before {}",
                ymd(policy.hukou_cutoff())
            ),
        ),
        Clause::Fact(Fact::GuardianInHousehold) => (
            "监护人与子女同户".to_owned(),
            "a guardian registered in the child's household".to_owned(),
        ),
        Clause::Fact(Fact::FamilyProperty) if tier.dwelling == Dwelling::FamilyProperty => (
            format!(
                "家庭房产（住宅、未查封、{}或之前登记、监护人份额合计不少于{}%、位于本市）",
                ymd(policy.residence_cutoff()),
                policy.min_family_share_pct()
            ),
            format!(
                "a family property (residential, not sealed, registered on or before {}, guardians' shares at least {}%, in the city)",
                ymd(policy.residence_cutoff()),
                policy.min_family_share_pct()
            ),
        ),
        Clause::Fact(Fact::FamilyProperty) => (
            format!("{dz}为父母所有的家庭房产"),
            format!("a family property at {de}"),
        ),
        Clause::Fact(Fact::QualifyingPermit) if tier.dwelling == Dwelling::Permit => (
            format!(
                "符合条件的居住证（{}或之前签发、{}仍有效、持证人{}至{}社保不少于{}个月）",
                ymd(policy.residence_cutoff()),
                ymd(policy.permit_valid_on()),
                win_from,
                win_to,
                policy.insurance_min_months()
            ),
            format!(
                "a qualifying residence permit (issued on or before {}, valid on {}, its holder insured at least {} months from {} to {})",
                ymd(policy.residence_cutoff()),
                ymd(policy.permit_valid_on()),
                policy.insurance_min_months(),
                win_from,
                win_to
            ),
        ),
        Clause::Fact(Fact::QualifyingPermit) => (
            format!("{dz}为符合条件的居住证居住地址"),
            format!("a qualifying residence permit at {de}"),
        ),
        Clause::Fact(Fact::NotSeatLocked) if tier.dwelling == Dwelling::FamilyProperty => (
            format!("该家庭房产在{lock_from}至{lock_to}年未为该校提供过学位（学位锁定）"),
            format!("a family property that gave no place at the school in {lock_from}–{lock_to} (seat lock)"),
        ),
        Clause::Fact(Fact::NotSeatLocked) => (
            format!("{dz}处的家庭房产在{lock_from}至{lock_to}年未为该校提供过学位（学位锁定）"),
            format!("a family property at {de} that gave no place at the school in {lock_from}–{lock_to} (seat lock)"),
        ),
        Clause::Zoned => (format!("{dz}划入该校学区"), format!("{de} zoned for the school")),
    }
}

fn guardian_cites(scope: &Scope<'_, '_>, cite: fn(&NationalId) -> Cite) -> Vec<Cite> {
    analysis::guardians(scope.ctx.app).into_iter().map(cite).collect()
}

/// What the records show, and which records.
fn finding(
    scope: &Scope<'_, '_>,
    tier: &Tier,
    school: &SchoolId,
    clause: Clause,
    in_play: &[Candidate<'_, '_>],
) -> (String, String, Vec<Cite>) {
    let ctx = scope.ctx;
    let child = &ctx.app.child_id;
    let family = scope.family;
    let household = family.household;
    let codes = || in_play.iter().map(Candidate::label).collect::<Vec<_>>().join("、");
    let codes_en = || in_play.iter().map(Candidate::label).collect::<Vec<_>>().join(", ");
    let places = |extra: Vec<Cite>| -> Vec<Cite> {
        let mut v = extra;
        for x in in_play {
            v.push(r::origin_record(x.origin));
            v.extend(x.place.and_then(r::via_record));
        }
        v
    };
    match clause {
        Clause::Dwelling if tier.dwelling == Dwelling::CurrentSchool => (
            "没有子女现就读学校的记录".to_owned(),
            "the enrolment history has no current school of the zone registry for the child".to_owned(),
            vec![r::history(child.as_str())],
        ),
        Clause::Fact(Fact::CityHukou) | Clause::Dwelling => {
            let (zh, en) = match household {
                None => (
                    "子女在本省无户籍登记".to_owned(),
                    "the child has no household registration in the province".to_owned(),
                ),
                Some(h) => (
                    format!("子女户籍所在地为{}，不属本市", h.region.as_str()),
                    format!(
                        "the child is registered in county {}, outside the city",
                        h.region.as_str()
                    ),
                ),
            };
            (zh, en, vec![r::hukou(child)])
        }
        Clause::Fact(Fact::NoCityHukou) => {
            let region = household.map(|h| h.region.as_str()).unwrap_or_default();
            (
                format!("子女为本市户籍（{region}）"),
                format!("the child has city hukou (county {region})"),
                vec![r::hukou(child)],
            )
        }
        Clause::Fact(Fact::RegisteredByCutoff) => {
            let on = household.map(|h| ymd(h.registered_on)).unwrap_or_default();
            (
                format!("子女落户日期为{on}"),
                format!("the child was registered on {on}"),
                vec![r::hukou(child)],
            )
        }
        Clause::Fact(Fact::GuardianInHousehold) => {
            let no = household.map(|h| h.household_no.as_str()).unwrap_or_default();
            let mut cites = guardian_cites(scope, r::hukou);
            cites.push(r::hukou(child));
            (
                format!("没有监护人登记在子女所在户（户号{no}）"),
                format!("no guardian is registered in the child's household {no}"),
                cites,
            )
        }
        Clause::Fact(Fact::FamilyProperty) if tier.dwelling == Dwelling::FamilyProperty => {
            let mut cites = guardian_cites(scope, r::property_owner);
            cites.extend(family.units.iter().map(|u| r::property_unit(&u.unit.unit_no)));
            let n = family.units.len();
            let (zh, en) = if n == 0 {
                (
                    "监护人名下没有不动产".to_owned(),
                    "the guardians own no property (property: none)".to_owned(),
                )
            } else {
                (
                    format!("监护人名下{n}处不动产均不符合家庭房产条件"),
                    format!("none of the guardians' {n} property unit(s) is a family property"),
                )
            };
            (zh, en, cites)
        }
        Clause::Fact(Fact::FamilyProperty) => {
            let mut cites = guardian_cites(scope, r::property_owner);
            cites.extend(family.family_units().map(|(u, _)| r::property_unit(&u.unit.unit_no)));
            (
                format!("{}处没有监护人所有的家庭房产", codes()),
                format!(
                    "no guardian owns a family property at {} (property: none at that address)",
                    codes_en()
                ),
                places(cites),
            )
        }
        Clause::Fact(Fact::QualifyingPermit) if tier.dwelling == Dwelling::Permit => {
            let mut cites = guardian_cites(scope, r::residence);
            for p in &family.permits {
                cites.push(r::residence(&p.permit.holder_id));
                if ctx.bundle.insurance_months.contains_key(&p.permit.holder_id) {
                    cites.push(r::insurance(&p.permit.holder_id));
                }
            }
            let n = family.permits.len();
            let (zh, en) = if n == 0 {
                (
                    "监护人均无居住证".to_owned(),
                    "no guardian holds a residence permit (residence: none)".to_owned(),
                )
            } else {
                (
                    format!("监护人的{n}张居住证均不符合条件"),
                    format!("none of the guardians' {n} residence permit(s) qualifies"),
                )
            };
            (zh, en, cites)
        }
        Clause::Fact(Fact::QualifyingPermit) => {
            let cites = guardian_cites(scope, r::residence);
            (
                format!("{}处没有符合条件的居住证", codes()),
                format!("no qualifying residence permit is at {}", codes_en()),
                places(cites),
            )
        }
        Clause::Fact(Fact::NotSeatLocked) => {
            let mut cites = Vec::new();
            let mut zh = Vec::new();
            let mut en = Vec::new();
            for x in in_play {
                let Some(place) = x.place else { continue };
                for u in scope.units_at(place) {
                    if let Some(used) = lock(ctx, u, school, &scope.siblings) {
                        cites.push(r::property_unit(&u.unit_no));
                        cites.push(r::history(u.unit_no.as_str()));
                        zh.push(format!("不动产单元{}已于{}年为该校提供学位", u.unit_no, used.year));
                        en.push(format!(
                            "unit {} gave a place at the school in {}",
                            u.unit_no, used.year
                        ));
                    }
                }
            }
            zh.dedup();
            en.dedup();
            (zh.join("；"), en.join("; "), places(cites))
        }
        Clause::Zoned => {
            let mut cites = Vec::new();
            let mut zoned_for = Vec::new();
            for x in in_play {
                cites.push(r::zones(x.place.map_or(x.zoned_by, |p| p.building())));
                for s in x.zoned {
                    if is_round_school(ctx, s, SchoolKind::Public) && !zoned_for.contains(&s.as_str()) {
                        zoned_for.push(s.as_str());
                    }
                }
            }
            let list = if zoned_for.is_empty() {
                ("无".to_owned(), "none".to_owned())
            } else {
                (zoned_for.join("、"), zoned_for.join(", "))
            };
            (
                format!("{}所划学区为：{}", codes(), list.0),
                format!("{} is zoned for: {}", codes_en(), list.1),
                places(cites),
            )
        }
    }
}
