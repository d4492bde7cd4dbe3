//! What each generated family was drawn to be, and how often each kind is
//! drawn. `docs/city-generator.md` documents the same table.

use enrol_domain::NationalId;
use serde::Serialize;
use uuid::Uuid;

/// The first status rule of policy.md a family was drawn to meet; at most one per family.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Trigger {
    /// No status rule before `eligible` applies.
    None,
    /// The birth registry has no certificate for the child (review 1).
    NoBirthCertificate,
    /// A grandparent applies, or a step-parent is listed as guardian (review 2).
    GuardianNotParent,
    /// The certificate's or the household record's birth date differs from the ID's (review 3).
    BirthDatesDisagree,
    /// Born after `born_on_or_before` (ineligible).
    TooYoung,
    /// Born before `born_on_or_after` (review 5).
    TooOld,
    /// Already at a school (review 6).
    AlreadyAtSchool,
}

/// Where the family lives and on what title: the family's residence kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Residence {
    /// 房户一致: child and a parent registered at a home the parents own.
    OwnerAtHome,
    /// The parents own a home in the city; the household is registered at another city address.
    OwnerRegisteredElsewhere,
    /// The child is registered in the grandparents' household without a parent; the
    /// parents own a home in 60% of these families.
    RegisteredAtGrandparents,
    /// City household with a parent, no home of the parents' own (有户).
    HukouOnly,
    /// Registered at a home the guardians share with a relative; their shares add up to under 50.
    CoOwnerUnderShare,
    /// As above with shares adding up to exactly 50.
    CoOwnerAtShare,
    /// Registered at a unit the parents own that is commercial or sealed (查封).
    NotFamilyProperty,
    /// Bought and registered at a home after `residence_cutoff`.
    MovedAfterCutoff,
    /// 随迁子女 with a qualifying residence permit.
    MigrantQualifying,
    /// A permit, but under 12 insurance months in the window.
    MigrantShortMonths,
    /// A permit issued after `residence_cutoff`.
    MigrantLatePermit,
    /// A permit that lapses before `permit_valid_on`.
    MigrantExpiringPermit,
    /// Household registered elsewhere in the province, a home owned in the city.
    ProvinceOwner,
    /// From outside the province, nothing in the city: eligible without a tier.
    NoClaim,
}

impl Residence {
    pub const ALL: [Residence; 14] = [
        Residence::OwnerAtHome,
        Residence::OwnerRegisteredElsewhere,
        Residence::RegisteredAtGrandparents,
        Residence::HukouOnly,
        Residence::CoOwnerUnderShare,
        Residence::CoOwnerAtShare,
        Residence::NotFamilyProperty,
        Residence::MovedAfterCutoff,
        Residence::MigrantQualifying,
        Residence::MigrantShortMonths,
        Residence::MigrantLatePermit,
        Residence::MigrantExpiringPermit,
        Residence::ProvinceOwner,
        Residence::NoClaim,
    ];

    /// The child has a household record in the region.
    pub fn city_hukou(self) -> bool {
        !matches!(
            self,
            Residence::MigrantQualifying
                | Residence::MigrantShortMonths
                | Residence::MigrantLatePermit
                | Residence::MigrantExpiringPermit
                | Residence::ProvinceOwner
                | Residence::NoClaim
        )
    }

    pub fn migrant(self) -> bool {
        matches!(
            self,
            Residence::MigrantQualifying
                | Residence::MigrantShortMonths
                | Residence::MigrantLatePermit
                | Residence::MigrantExpiringPermit
        )
    }
}

/// How a text-only address record fares in the zone registry's address search.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TextCase {
    /// Exactly one match.
    Resolves,
    /// Matches buildings in two counties (a permit text names no county).
    Ambiguous,
    /// Matches nothing: a building the zone registry lacks, or text off the grammar.
    Unknown,
}

/// Someone else's use of the family's unit in the enrolment history.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SeatUseCase {
    /// A previous owner's child used it in 2021–2026: locked for that school.
    Stranger,
    /// A previous owner's child used it before 2021: not locked.
    StrangerBeforeWindow,
    /// The family's older sibling used it (the sibling's own place).
    OlderSibling,
}

/// A choice that policy.md drops.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum BogusChoice {
    /// An id the zone registry does not know.
    UnknownSchool,
    /// A junior school (another stage).
    JuniorSchool,
    /// A public primary school in a county where the family has no address, so no tier.
    PublicWithoutTier,
}

/// Everything the generator decided about one family. Tests and docs use it;
/// it is not part of the dataset.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FamilyProfile {
    pub application_id: Uuid,
    pub child_id: NationalId,
    pub trigger: Trigger,
    pub residence: Residence,
    /// The family owns a unit that is a family property (policy.md), in the region.
    pub family_property: bool,
    /// Household records elsewhere in the province (another `region`).
    pub from_province: bool,
    /// Those records carry text only.
    pub province_text_only: bool,
    /// The child's home (city hukou) is in a building the zone registry lacks.
    pub home_building_unknown: bool,
    /// The child's household record carries text only.
    pub household_text: Option<TextCase>,
    /// The family property's record carries text only.
    pub property_text: Option<TextCase>,
    /// The (only) residence permit carries text only.
    pub permit_text: Option<TextCase>,
    pub seat_use: Option<SeatUseCase>,
    /// Grade of an older sibling now at a primary school.
    pub sibling_grade: Option<u8>,
    /// The older sibling is listed in `sibling_ids`.
    pub sibling_declared: bool,
    /// A declared "sibling" whose certificate names neither guardian (or who has none).
    pub unverifiable_sibling: bool,
    /// The certificate names no father.
    pub single_mother: bool,
    /// Two parents, but the application lists only the applicant.
    pub applicant_alone: bool,
    /// Two residence permits in the family.
    pub second_permit: bool,
    pub private_choice: bool,
    pub repeated_choice: bool,
    pub bogus_choice: Option<BogusChoice>,
    pub no_choices: bool,
}

/// How often each kind of family is drawn. Status triggers and residence kinds
/// are shares of all families; the other rates are shares of the families a
/// kind can apply to, as each field says.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Rates {
    pub no_birth_certificate: f64,
    pub guardian_not_parent: f64,
    pub birth_dates_disagree: f64,
    pub too_young: f64,
    pub too_old: f64,
    pub already_at_school: f64,
    /// Residence kinds, in the order of [`Residence::ALL`]; they sum to 1.
    pub residence: [f64; 14],
    /// Of migrant families: household records elsewhere in the province.
    pub migrant_from_province: f64,
    /// Of families with household records elsewhere in the province: text only.
    pub province_text_only: f64,
    /// Of city-hukou families: home in a building the zone registry lacks.
    pub home_building_unknown: f64,
    /// Of other city-hukou families: the child's household record is text only.
    pub household_text_only: f64,
    /// Of those: text that resolves to nothing.
    pub household_text_unknown: f64,
    /// Of families with a family property (no text-only household): its record is text only.
    pub property_text_only: f64,
    /// Of those: text that resolves to nothing.
    pub property_text_unknown: f64,
    /// Of migrant families with a single permit: its record is text only.
    pub permit_text_only: f64,
    /// Of those: ambiguous.
    pub permit_text_ambiguous: f64,
    /// Of those: resolves to nothing.
    pub permit_text_unknown: f64,
    /// Of families with a family property and no older sibling at school: a
    /// stranger's seat use in the lock window.
    pub seat_lock_stranger: f64,
    /// Of the same families: a stranger's seat use before the window.
    pub seat_use_before_window: f64,
    /// Of all families: an older sibling at a primary school, grade 1 to 6 equally likely.
    pub older_sibling_at_school: f64,
    /// Of those: not declared in `sibling_ids`.
    pub sibling_undeclared: f64,
    /// Of all families: a declared sibling who is not one.
    pub unverifiable_sibling: f64,
    /// Of all families: the certificate names no father.
    pub single_mother: f64,
    /// Of two-parent families (not co-owners): only the applicant is listed.
    pub applicant_alone: f64,
    /// Of two-parent families with a qualifying permit (not text only): the other parent holds one too.
    pub second_permit: f64,
    /// Of families that list schools: a private school first.
    pub private_choice: f64,
    /// Of families that list schools: a school listed twice.
    pub repeated_choice: f64,
    /// Of all families: a choice that is dropped.
    pub bogus_choice: f64,
    /// Of all families: no choices at all.
    pub no_choices: f64,
}

impl Default for Rates {
    fn default() -> Self {
        Rates {
            no_birth_certificate: 0.010,
            guardian_not_parent: 0.015,
            birth_dates_disagree: 0.010,
            too_young: 0.010,
            too_old: 0.010,
            already_at_school: 0.005,
            residence: [
                0.380, 0.080, 0.050, 0.120, 0.020, 0.020, 0.015, 0.015, 0.180, 0.030, 0.020, 0.020, 0.030, 0.020,
            ],
            migrant_from_province: 0.30,
            province_text_only: 0.40,
            home_building_unknown: 0.015,
            household_text_only: 0.06,
            household_text_unknown: 0.35,
            property_text_only: 0.05,
            property_text_unknown: 0.30,
            permit_text_only: 0.10,
            permit_text_ambiguous: 0.30,
            permit_text_unknown: 0.30,
            seat_lock_stranger: 0.06,
            seat_use_before_window: 0.03,
            older_sibling_at_school: 0.12,
            sibling_undeclared: 0.10,
            unverifiable_sibling: 0.02,
            single_mother: 0.04,
            applicant_alone: 0.08,
            second_permit: 0.30,
            private_choice: 0.08,
            repeated_choice: 0.02,
            bogus_choice: 0.03,
            no_choices: 0.12,
        }
    }
}

impl Rates {
    /// The share of families drawn with `trigger`.
    pub fn trigger(&self, trigger: Trigger) -> f64 {
        match trigger {
            Trigger::None => {
                1.0 - self.no_birth_certificate
                    - self.guardian_not_parent
                    - self.birth_dates_disagree
                    - self.too_young
                    - self.too_old
                    - self.already_at_school
            }
            Trigger::NoBirthCertificate => self.no_birth_certificate,
            Trigger::GuardianNotParent => self.guardian_not_parent,
            Trigger::BirthDatesDisagree => self.birth_dates_disagree,
            Trigger::TooYoung => self.too_young,
            Trigger::TooOld => self.too_old,
            Trigger::AlreadyAtSchool => self.already_at_school,
        }
    }

    pub fn residence(&self, residence: Residence) -> f64 {
        let i = Residence::ALL.iter().position(|r| *r == residence).unwrap_or(0);
        self.residence[i]
    }
}

impl Trigger {
    pub const ALL: [Trigger; 7] = [
        Trigger::None,
        Trigger::NoBirthCertificate,
        Trigger::GuardianNotParent,
        Trigger::BirthDatesDisagree,
        Trigger::TooYoung,
        Trigger::TooOld,
        Trigger::AlreadyAtSchool,
    ];
}
