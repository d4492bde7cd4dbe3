//! The policy file (招生政策): every parameter, date and tier of an admission
//! round as data, in TOML. Next year's policy, or another district's, is a new
//! file; the rules engine does not change.

use std::collections::BTreeSet;
use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use enrol_domain::{LOTTERY_PRIORITY, RoundId, Stage, YearMonth};
use serde::Deserialize;
use toml::Spanned;

use crate::reasons::BUILT_IN_CODES;

/// What is wrong with a policy file. Every variant but `Read` names the key
/// (a dotted path such as `parameters.insurance_window.to` or `tiers[2].facts`)
/// and, where known, the line.
#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    #[error("cannot read policy file {}: {source}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The file is not TOML at all.
    #[error("policy file is not valid TOML{}: {message}", at_line(*line))]
    Syntax { line: Option<usize>, message: String },
    /// A key is unknown, missing, of the wrong type, or has a value the policy cannot have.
    #[error("policy key `{key}`{}: {problem}", at_line(*line))]
    Invalid {
        key: String,
        line: Option<usize>,
        problem: String,
    },
    /// An error in a file read by [`Policy::load`].
    #[error("{}: {error}", path.display())]
    InFile {
        path: PathBuf,
        #[source]
        error: Box<PolicyError>,
    },
}

fn at_line(line: Option<usize>) -> String {
    line.map(|l| format!(" (line {l})")).unwrap_or_default()
}

impl PolicyError {
    /// The key the error is about, when it is about one.
    pub fn key(&self) -> Option<&str> {
        match self {
            PolicyError::Invalid { key, .. } => Some(key),
            PolicyError::InFile { error, .. } => error.key(),
            PolicyError::Read { .. } | PolicyError::Syntax { .. } => None,
        }
    }

    /// The 1-based line of the file the error is about, when known.
    pub fn line(&self) -> Option<usize> {
        match self {
            PolicyError::Invalid { line, .. } | PolicyError::Syntax { line, .. } => *line,
            PolicyError::InFile { error, .. } => error.line(),
            PolicyError::Read { .. } => None,
        }
    }
}

/// A named fact a tier can require, evaluated for the tier's dwelling X and a
/// school s (the documented vocabulary of docs/rules.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Fact {
    /// 本市户籍: the child has a household record whose `region` starts with the region prefix.
    CityHukou,
    /// 非本市户籍: the child has no city hukou.
    NoCityHukou,
    /// The child's household `registered_on` is on or before the hukou cutoff.
    RegisteredByCutoff,
    /// A guardian's household record has the child's `household_no` (户号).
    GuardianInHousehold,
    /// A family property (家庭房产) at X.
    FamilyProperty,
    /// A family property at X that is not seat-locked (学位锁定) for s.
    NotSeatLocked,
    /// A qualifying residence permit (居住证) at X.
    QualifyingPermit,
}

impl Fact {
    pub fn as_str(self) -> &'static str {
        match self {
            Fact::CityHukou => "city_hukou",
            Fact::NoCityHukou => "no_city_hukou",
            Fact::RegisteredByCutoff => "registered_by_cutoff",
            Fact::GuardianInHousehold => "guardian_in_household",
            Fact::FamilyProperty => "family_property",
            Fact::NotSeatLocked => "not_seat_locked",
            Fact::QualifyingPermit => "qualifying_permit",
        }
    }
}

impl fmt::Display for Fact {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The dwellings a tier is zoned by: Zoned(X) must contain the school.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Dwelling {
    /// Home H: the dwelling of the child's city household record.
    Household,
    /// Each family property P.
    FamilyProperty,
    /// The dwelling of each qualifying residence permit.
    Permit,
    /// The child's current school C (enrolment history), "zoned" by its `feeds`
    /// (对口直升): Zoned(C) is Fed(C), the schools C is paired with.
    CurrentSchool,
}

impl Dwelling {
    pub fn as_str(self) -> &'static str {
        match self {
            Dwelling::Household => "household",
            Dwelling::FamilyProperty => "family_property",
            Dwelling::Permit => "permit",
            Dwelling::CurrentSchool => "current_school",
        }
    }
}

/// The within-tier value of the order key (lower first).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TierValue {
    /// The child's household `registered_on`, as `YYYYMMDD`.
    ChildRegisteredOn,
    /// `registered_on` of the earliest family property the tier rests on (then lowest `unit_no`).
    PropertyRegisteredOn,
    /// Minus the points (积分) of the best qualifying permit the tier rests on.
    PermitPoints,
    /// No within-tier value: written as 0, so siblings and then the lottery order the tier.
    None,
}

/// One priority tier (类别 / 顺位) of the policy: a combination of named facts,
/// the dwelling that zones it and its within-tier value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tier {
    /// The tier's name as decisions show it, e.g. `tier1`.
    pub name: String,
    /// Chinese label, e.g. 房户一致.
    pub label_zh: String,
    pub label_en: String,
    pub dwelling: Dwelling,
    /// Required facts, each once, in vocabulary order.
    pub facts: BTreeSet<Fact>,
    pub value: TierValue,
    /// Reason code of a priority in this tier, e.g. `tier1_same_dwelling`.
    pub reason_code: String,
    pub reason_zh: String,
    pub reason_en: String,
}

impl Tier {
    pub fn requires(&self, fact: Fact) -> bool {
        self.facts.contains(&fact)
    }

    /// Whether the tier rests on a property unit (a seat won with it uses the unit).
    pub fn rests_on_property(&self) -> bool {
        self.dwelling == Dwelling::FamilyProperty
            || self.requires(Fact::FamilyProperty)
            || self.requires(Fact::NotSeatLocked)
    }

    /// Whether the tier rests on a qualifying permit.
    pub fn rests_on_permit(&self) -> bool {
        self.dwelling == Dwelling::Permit || self.requires(Fact::QualifyingPermit)
    }
}

/// An admission round's policy, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    round_id: RoundId,
    stage: Stage,
    entry_year: i32,
    region_prefix: String,
    born_on_or_before: Option<NaiveDate>,
    born_on_or_after: Option<NaiveDate>,
    final_grade: Option<u8>,
    residence_cutoff: NaiveDate,
    hukou_cutoff: NaiveDate,
    min_family_share_pct: u32,
    permit_valid_on: NaiveDate,
    insurance_window: (YearMonth, YearMonth),
    insurance_min_months: u32,
    seat_lock_years: u32,
    sibling_grades: (u8, u8),
    points_per_insurance_month: u32,
    points_per_permit_month: u32,
    permit_months_cap: u32,
    tiers: Vec<Tier>,
}

/// The sample city's 2027 primary policy (policy.md), as shipped in
/// `fixtures/policies/2027-primary.toml`: the engine's default policy.
pub const SAMPLE_POLICY_TOML: &str = include_str!("../../../fixtures/policies/2027-primary.toml");

/// The same city's 2027 junior-middle policy (policy-junior.md), as shipped in
/// `fixtures/policies/2027-junior.toml`: a second file of the same engine.
pub const SAMPLE_JUNIOR_POLICY_TOML: &str = include_str!("../../../fixtures/policies/2027-junior.toml");

impl Policy {
    /// Parses and validates a policy file's text.
    pub fn from_toml_str(text: &str) -> Result<Policy, PolicyError> {
        let de = toml::Deserializer::parse(text).map_err(|e| PolicyError::Syntax {
            line: e.span().map(|s| line_of(text, &s)),
            message: e.message().to_owned(),
        })?;
        let raw: RawPolicy = serde_path_to_error::deserialize(de).map_err(|e| {
            // `Spanned` values add a private segment to the path; the key is without it.
            let path = e.path().to_string().replace(".$__serde_spanned_private_value", "");
            let inner = e.into_inner();
            PolicyError::Invalid {
                key: if path == "." { "(top level)".to_owned() } else { path },
                line: inner.span().map(|s| line_of(text, &s)),
                problem: inner.message().to_owned(),
            }
        })?;
        raw.validate(text)
    }

    /// Reads, parses and validates a policy file.
    pub fn load(path: impl AsRef<Path>) -> Result<Policy, PolicyError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|source| PolicyError::Read {
            path: path.to_owned(),
            source,
        })?;
        Policy::from_toml_str(&text).map_err(|error| PolicyError::InFile {
            path: path.to_owned(),
            error: Box::new(error),
        })
    }

    /// The sample city's 2027 primary policy ([`SAMPLE_POLICY_TOML`]).
    pub fn sample() -> Policy {
        // The file is part of the crate's own tests; a broken file fails them, never a caller.
        match Policy::from_toml_str(SAMPLE_POLICY_TOML) {
            Ok(p) => p,
            Err(e) => unreachable!("the shipped sample policy is valid: {e}"),
        }
    }

    /// The sample city's 2027 junior-middle policy ([`SAMPLE_JUNIOR_POLICY_TOML`]).
    pub fn sample_junior() -> Policy {
        match Policy::from_toml_str(SAMPLE_JUNIOR_POLICY_TOML) {
            Ok(p) => p,
            Err(e) => unreachable!("the shipped junior policy is valid: {e}"),
        }
    }

    pub fn round_id(&self) -> &RoundId {
        &self.round_id
    }
    pub fn stage(&self) -> Stage {
        self.stage
    }
    pub fn entry_year(&self) -> i32 {
        self.entry_year
    }
    /// Counties whose code starts with this prefix are the region (本市).
    pub fn region_prefix(&self) -> &str {
        &self.region_prefix
    }
    /// 年满6周岁: a child born after this day is too young. `None`: the
    /// policy has no age limit (a junior round checks the grade instead).
    pub fn born_on_or_before(&self) -> Option<NaiveDate> {
        self.born_on_or_before
    }
    /// A child born before this day needs an officer (缓学). `None`: no such check.
    pub fn born_on_or_after(&self) -> Option<NaiveDate> {
        self.born_on_or_after
    }
    /// 应届毕业生: the grade a child must be in now, at a school of the zone
    /// registry (policy-junior.md status 4). `None`: the child must not be at
    /// school yet (policy.md status 6).
    pub fn final_grade(&self) -> Option<u8> {
        self.final_grade
    }
    /// Household and property registrations count only if dated on or before.
    pub fn residence_cutoff(&self) -> NaiveDate {
        self.residence_cutoff
    }
    /// The day the child's household registration must be dated on or before
    /// for `registered_by_cutoff`: `residence_cutoff` unless the file sets `hukou_cutoff`.
    pub fn hukou_cutoff(&self) -> NaiveDate {
        self.hukou_cutoff
    }
    pub fn min_family_share_pct(&self) -> u32 {
        self.min_family_share_pct
    }
    pub fn permit_valid_on(&self) -> NaiveDate {
        self.permit_valid_on
    }
    /// Months that count for social insurance, both ends included.
    pub fn insurance_window(&self) -> (YearMonth, YearMonth) {
        self.insurance_window
    }
    pub fn insurance_min_months(&self) -> u32 {
        self.insurance_min_months
    }
    pub fn seat_lock_years(&self) -> u32 {
        self.seat_lock_years
    }
    /// The years whose seat uses lock a unit: `entry_year - seat_lock_years` to `entry_year - 1`.
    pub fn seat_lock_span(&self) -> (i32, i32) {
        let years = i32::try_from(self.seat_lock_years).unwrap_or(i32::MAX);
        (self.entry_year.saturating_sub(years), self.entry_year - 1)
    }
    /// Grades (both ends included) in which an older sibling gives sibling priority.
    pub fn sibling_grades(&self) -> (u8, u8) {
        self.sibling_grades
    }
    pub fn points_per_insurance_month(&self) -> u32 {
        self.points_per_insurance_month
    }
    pub fn points_per_permit_month(&self) -> u32 {
        self.points_per_permit_month
    }
    /// At most this many permit months count for points.
    pub fn permit_months_cap(&self) -> u32 {
        self.permit_months_cap
    }
    /// The tiers, best first; a tier's rank (1-based) is its position.
    pub fn tiers(&self) -> &[Tier] {
        &self.tiers
    }
    /// The tiers' names, best first.
    pub fn tier_names(&self) -> Vec<&str> {
        self.tiers.iter().map(|t| t.name.as_str()).collect()
    }
    /// The 1-based rank of a tier by name.
    pub fn tier_rank(&self, name: &str) -> Option<u32> {
        self.tiers
            .iter()
            .position(|t| t.name == name)
            .and_then(|i| u32::try_from(i + 1).ok())
    }
}

/// 1-based line of a byte offset.
fn line_of(text: &str, span: &Range<usize>) -> usize {
    let end = span.start.min(text.len());
    text.as_bytes()[..end].iter().filter(|&&b| b == b'\n').count() + 1
}

// The file's shape. Every table refuses unknown keys, so a typo is an error, not a default.

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPolicy {
    round: RawRound,
    parameters: RawParameters,
    tiers: Spanned<Vec<RawTier>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRound {
    id: Spanned<String>,
    stage: Stage,
    entry_year: Spanned<i32>,
    region_prefix: Spanned<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawParameters {
    #[serde(default)]
    born_on_or_before: Option<Spanned<toml::value::Datetime>>,
    #[serde(default)]
    born_on_or_after: Option<Spanned<toml::value::Datetime>>,
    #[serde(default)]
    final_grade: Option<Spanned<u8>>,
    residence_cutoff: Spanned<toml::value::Datetime>,
    #[serde(default)]
    hukou_cutoff: Option<Spanned<toml::value::Datetime>>,
    min_family_share_pct: Spanned<u32>,
    permit_valid_on: Spanned<toml::value::Datetime>,
    insurance_window: RawMonthRange,
    insurance_min_months: Spanned<u32>,
    seat_lock_years: u32,
    sibling_grades: RawGradeRange,
    points_per_insurance_month: u32,
    points_per_permit_month: u32,
    permit_months_cap: u32,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMonthRange {
    from: Spanned<String>,
    to: Spanned<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawGradeRange {
    from: Spanned<u8>,
    to: Spanned<u8>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTier {
    name: Spanned<String>,
    label_zh: Spanned<String>,
    label_en: Spanned<String>,
    dwelling: Dwelling,
    facts: Spanned<Vec<Fact>>,
    value: Spanned<TierValue>,
    reason_code: Spanned<String>,
    reason_zh: Spanned<String>,
    reason_en: Spanned<String>,
}

/// Builds `Invalid` errors with the line of a spanned value.
struct Checker<'a> {
    text: &'a str,
}

impl Checker<'_> {
    fn err<T>(&self, key: impl Into<String>, span: Range<usize>, problem: impl Into<String>) -> Result<T, PolicyError> {
        Err(PolicyError::Invalid {
            key: key.into(),
            line: Some(line_of(self.text, &span)),
            problem: problem.into(),
        })
    }

    fn date(&self, key: &str, value: &Spanned<toml::value::Datetime>) -> Result<NaiveDate, PolicyError> {
        let dt = value.get_ref();
        let date = match (dt.date, dt.time, dt.offset) {
            (Some(d), None, None) => NaiveDate::from_ymd_opt(i32::from(d.year), u32::from(d.month), u32::from(d.day)),
            _ => None,
        };
        match date {
            Some(d) => Ok(d),
            None => self.err(
                key,
                value.span(),
                format!("{dt} is not a plain date (write YYYY-MM-DD, unquoted)"),
            ),
        }
    }

    fn month(&self, key: &str, value: &Spanned<String>) -> Result<YearMonth, PolicyError> {
        YearMonth::parse(value.get_ref()).or_else(|e| self.err(key, value.span(), e.to_string()))
    }

    fn text(&self, key: &str, value: &Spanned<String>) -> Result<String, PolicyError> {
        if value.get_ref().trim().is_empty() {
            return self.err(key, value.span(), "must not be empty");
        }
        Ok(value.get_ref().clone())
    }
}

fn is_snake_case(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        && s.as_bytes()[0].is_ascii_lowercase()
}

impl RawPolicy {
    fn validate(self, text: &str) -> Result<Policy, PolicyError> {
        let c = Checker { text };
        let RawPolicy {
            round,
            parameters: p,
            tiers,
        } = self;

        let round_id = c.text("round.id", &round.id)?;
        if round_id.chars().any(char::is_whitespace) {
            return c.err("round.id", round.id.span(), "must not contain white space");
        }
        let entry_year = *round.entry_year.get_ref();
        if !(1900..=9999).contains(&entry_year) {
            return c.err(
                "round.entry_year",
                round.entry_year.span(),
                format!("{entry_year} is not a year"),
            );
        }
        let region_prefix = round.region_prefix.get_ref().clone();
        if region_prefix.is_empty() || region_prefix.len() > 6 || !region_prefix.bytes().all(|b| b.is_ascii_digit()) {
            return c.err(
                "round.region_prefix",
                round.region_prefix.span(),
                format!("{region_prefix:?} is not a county-code prefix of 1 to 6 digits"),
            );
        }

        let born_on_or_before = match &p.born_on_or_before {
            Some(v) => Some(c.date("parameters.born_on_or_before", v)?),
            None => None,
        };
        let born_on_or_after = match &p.born_on_or_after {
            Some(v) => Some(c.date("parameters.born_on_or_after", v)?),
            None => None,
        };
        if let (Some(after), Some(before), Some(span)) = (
            born_on_or_after,
            born_on_or_before,
            p.born_on_or_after.as_ref().map(Spanned::span),
        ) && after > before
        {
            return c.err(
                "parameters.born_on_or_after",
                span,
                format!("the birth window starts on {after}, after it ends (born_on_or_before = {before})"),
            );
        }
        let final_grade = p.final_grade.as_ref().map(|g| (*g.get_ref(), g.span()));
        if let Some((0, span)) = final_grade {
            return c.err("parameters.final_grade", span, "grades start at 1");
        }
        let final_grade = final_grade.map(|(g, _)| g);
        if born_on_or_before.is_none() && final_grade.is_none() {
            return Err(PolicyError::Invalid {
                key: "parameters".to_owned(),
                line: None,
                problem: "a policy needs an age limit (`born_on_or_before`) or a grade (`final_grade`): who may apply"
                    .to_owned(),
            });
        }
        let residence_cutoff = c.date("parameters.residence_cutoff", &p.residence_cutoff)?;
        let hukou_cutoff = match &p.hukou_cutoff {
            Some(v) => c.date("parameters.hukou_cutoff", v)?,
            None => residence_cutoff,
        };
        let min_family_share_pct = *p.min_family_share_pct.get_ref();
        if !(1..=100).contains(&min_family_share_pct) {
            return c.err(
                "parameters.min_family_share_pct",
                p.min_family_share_pct.span(),
                format!("{min_family_share_pct} is not a percentage from 1 to 100"),
            );
        }
        let permit_valid_on = c.date("parameters.permit_valid_on", &p.permit_valid_on)?;
        let window_from = c.month("parameters.insurance_window.from", &p.insurance_window.from)?;
        let window_to = c.month("parameters.insurance_window.to", &p.insurance_window.to)?;
        if window_to < window_from {
            return c.err(
                "parameters.insurance_window.to",
                p.insurance_window.to.span(),
                format!("the insurance window ends in {window_to}, before it starts in {window_from}"),
            );
        }
        let insurance_min_months = *p.insurance_min_months.get_ref();
        let window_months = window_from.months_through(&window_to);
        if insurance_min_months > window_months {
            return c.err(
                "parameters.insurance_min_months",
                p.insurance_min_months.span(),
                format!("{insurance_min_months} months can never be met in a window of {window_months} months"),
            );
        }
        let (grade_from, grade_to) = (*p.sibling_grades.from.get_ref(), *p.sibling_grades.to.get_ref());
        if grade_from == 0 {
            return c.err(
                "parameters.sibling_grades.from",
                p.sibling_grades.from.span(),
                "grades start at 1",
            );
        }
        if grade_to < grade_from {
            return c.err(
                "parameters.sibling_grades.to",
                p.sibling_grades.to.span(),
                format!("the sibling grades end at {grade_to}, before they start at {grade_from}"),
            );
        }

        let tiers = validate_tiers(&c, tiers)?;

        Ok(Policy {
            round_id: RoundId::new(round_id),
            stage: round.stage,
            entry_year,
            region_prefix,
            born_on_or_before,
            born_on_or_after,
            final_grade,
            residence_cutoff,
            hukou_cutoff,
            min_family_share_pct,
            permit_valid_on,
            insurance_window: (window_from, window_to),
            insurance_min_months,
            seat_lock_years: p.seat_lock_years,
            sibling_grades: (grade_from, grade_to),
            points_per_insurance_month: p.points_per_insurance_month,
            points_per_permit_month: p.points_per_permit_month,
            permit_months_cap: p.permit_months_cap,
            tiers,
        })
    }
}

fn validate_tiers(c: &Checker<'_>, tiers: Spanned<Vec<RawTier>>) -> Result<Vec<Tier>, PolicyError> {
    let span = tiers.span();
    let tiers = tiers.into_inner();
    if tiers.is_empty() {
        return c.err("tiers", span, "a policy needs at least one tier");
    }
    let mut names = BTreeSet::new();
    let mut codes = BTreeSet::new();
    let mut out = Vec::with_capacity(tiers.len());
    for (i, t) in tiers.into_iter().enumerate() {
        let key = |field: &str| format!("tiers[{i}].{field}");
        let name = t.name.get_ref().clone();
        if !is_snake_case(&name) {
            return c.err(key("name"), t.name.span(), format!("{name:?} is not a snake_case name"));
        }
        if name == LOTTERY_PRIORITY {
            return c.err(
                key("name"),
                t.name.span(),
                "`lottery` is the private schools' priority, not a tier",
            );
        }
        if !names.insert(name.clone()) {
            return c.err(key("name"), t.name.span(), format!("tier {name:?} is listed twice"));
        }
        let code = t.reason_code.get_ref().clone();
        if !is_snake_case(&code) {
            return c.err(
                key("reason_code"),
                t.reason_code.span(),
                format!("{code:?} is not a snake_case code"),
            );
        }
        if BUILT_IN_CODES.contains(&code.as_str()) || !codes.insert(code.clone()) {
            return c.err(
                key("reason_code"),
                t.reason_code.span(),
                format!("reason code {code:?} is already used"),
            );
        }
        let mut facts = BTreeSet::new();
        for fact in t.facts.get_ref() {
            if !facts.insert(*fact) {
                return c.err(key("facts"), t.facts.span(), format!("fact {fact} is listed twice"));
            }
        }
        let facts_span = t.facts.span();
        if facts.contains(&Fact::CityHukou) && facts.contains(&Fact::NoCityHukou) {
            return c.err(
                key("facts"),
                facts_span,
                "city_hukou and no_city_hukou cannot both hold",
            );
        }
        if t.dwelling == Dwelling::Household && facts.contains(&Fact::NoCityHukou) {
            return c.err(
                key("facts"),
                facts_span,
                "a tier zoned by the household dwelling needs city hukou; no_city_hukou never holds with it",
            );
        }
        if t.dwelling == Dwelling::CurrentSchool
            && let Some(fact) = [Fact::FamilyProperty, Fact::NotSeatLocked, Fact::QualifyingPermit]
                .into_iter()
                .find(|f| facts.contains(f))
        {
            return c.err(
                key("facts"),
                facts_span,
                format!("{fact} speaks of a dwelling; a tier zoned by the current school has none"),
            );
        }
        let tier = Tier {
            name,
            label_zh: c.text(&key("label_zh"), &t.label_zh)?,
            label_en: c.text(&key("label_en"), &t.label_en)?,
            dwelling: t.dwelling,
            facts,
            value: *t.value.get_ref(),
            reason_code: code,
            reason_zh: c.text(&key("reason_zh"), &t.reason_zh)?,
            reason_en: c.text(&key("reason_en"), &t.reason_en)?,
        };
        // The within-tier value must be defined whenever the tier holds.
        let defined = match tier.value {
            TierValue::ChildRegisteredOn => {
                tier.dwelling == Dwelling::Household
                    || tier.requires(Fact::CityHukou)
                    || tier.requires(Fact::RegisteredByCutoff)
            }
            TierValue::PropertyRegisteredOn => tier.rests_on_property(),
            TierValue::PermitPoints => tier.rests_on_permit(),
            TierValue::None => true,
        };
        if !defined {
            let needs = match tier.value {
                TierValue::ChildRegisteredOn => {
                    "the child's household record (dwelling = \"household\", or fact city_hukou or registered_by_cutoff)"
                }
                TierValue::PropertyRegisteredOn => {
                    "a family property (dwelling = \"family_property\", or fact family_property or not_seat_locked)"
                }
                TierValue::PermitPoints => "a qualifying permit (dwelling = \"permit\", or fact qualifying_permit)",
                TierValue::None => "nothing",
            };
            return c.err(key("value"), t.value.span(), format!("this value needs {needs}"));
        }
        out.push(tier);
    }
    Ok(out)
}
