//! Reasons a family can read (Chinese and English), each citing the records it
//! rests on as `registry:record`. The codes are stable; docs/rules.md lists them.

use std::collections::BTreeSet;

use chrono::NaiveDate;
use enrol_domain::{
    AddressCode, EvidenceRead, NationalId, Reason, RecordRef, Registry, SchoolCatalogue, SchoolId, UnitNo,
};

use crate::analysis::{Origin, Place, Via};

/// Every code the engine itself gives; a policy's tiers add one code each.
pub const BUILT_IN_CODES: &[&str] = &[
    // Status (policy.md, "Status"), in clause order, with the officer facts that clear a review.
    "no_birth_certificate",
    "guardian_not_parent",
    "guardianship_confirmed",
    "birth_date_mismatch",
    "birth_date_confirmed",
    "too_young",
    "too_old",
    "delayed_enrolment_approved",
    "already_at_school",
    "current_place_cleared",
    "no_current_place",
    "not_in_final_grade",
    "current_school_unknown",
    "final_grade_cleared",
    "address_unresolved",
    "address_ambiguous",
    "address_resolved_by_officer",
    "evidence_incomplete",
    "registry_answer_unusable",
    // The family's records.
    "no_city_hukou",
    "hukou_registered_after_cutoff",
    "no_guardian_in_household",
    "property_not_residential",
    "property_sealed",
    "property_registered_after_cutoff",
    "property_share_too_small",
    "property_outside_region",
    "seat_locked",
    "permit_issued_after_cutoff",
    "permit_expires_too_early",
    "insurance_months_too_few",
    "dwelling_not_zoned",
    // Siblings.
    "sibling_is_child",
    "sibling_no_certificate",
    "sibling_not_verified",
    "sibling_not_at_school",
    "sibling_grade_not_counted",
    "sibling_school_not_in_preferences",
    "sibling_at_school",
    // Schools and choices.
    "private_school_lottery",
    "school_has_no_seats",
    "choice_unknown_school",
    "choice_other_stage",
    "choice_no_priority",
    "choice_repeated",
    "no_tier",
];

/// A cited record: its registry (for the order) and its citation `registry:record`,
/// exactly `RecordRef`'s Display.
pub(crate) type Cite = (Registry, String);

fn cite(registry: Registry, record: &str) -> Cite {
    // Built by hand: reasons cite many records and the formatting machinery is slow.
    let name = registry.citation_name();
    let mut s = String::with_capacity(name.len() + 1 + record.len());
    s.push_str(name);
    s.push(':');
    s.push_str(record);
    (registry, s)
}

pub(crate) fn reason(code: &str, zh: String, en: String, evidence: impl IntoIterator<Item = Cite>) -> Reason {
    // Evidence in registry order, then record, each once: the same records always read the same way.
    let mut cites: Vec<Cite> = evidence.into_iter().collect();
    cites.sort_unstable();
    cites.dedup();
    Reason {
        code: code.to_owned(),
        zh,
        en,
        evidence: cites.into_iter().map(|(_, c)| c).collect(),
    }
}

pub(crate) fn hukou(id: &NationalId) -> Cite {
    cite(Registry::Hukou, id.as_str())
}
pub(crate) fn birth(id: &NationalId) -> Cite {
    cite(Registry::Birth, id.as_str())
}
pub(crate) fn property_unit(unit: &UnitNo) -> Cite {
    cite(Registry::Property, unit.as_str())
}
pub(crate) fn property_owner(id: &NationalId) -> Cite {
    cite(Registry::Property, id.as_str())
}
pub(crate) fn residence(id: &NationalId) -> Cite {
    cite(Registry::Residence, id.as_str())
}
pub(crate) fn insurance(id: &NationalId) -> Cite {
    cite(Registry::Insurance, id.as_str())
}
pub(crate) fn zones(record: &str) -> Cite {
    cite(Registry::Zones, record)
}
pub(crate) fn history(record: &str) -> Cite {
    cite(Registry::History, record)
}

/// The record an address comes from.
pub(crate) fn origin_record(origin: Origin<'_>) -> Cite {
    match origin {
        Origin::Household(child) => hukou(child),
        Origin::Unit(unit) => property_unit(unit),
        Origin::Permit(holder) => residence(holder),
        Origin::CurrentSchool(child) => history(child.as_str()),
    }
}

/// The zone-registry search a place rests on, if any.
pub(crate) fn via_record(place: &Place<'_>) -> Option<Cite> {
    match place.via {
        Via::Record => None,
        Via::Search(text) | Via::Officer(text) => Some(zones(text)),
    }
}

fn origin_zh(origin: Origin<'_>) -> String {
    match origin {
        Origin::Household(_) => "子女户籍".to_owned(),
        Origin::Unit(unit) => format!("不动产单元{unit}"),
        Origin::Permit(holder) => format!("{holder}的居住证"),
        Origin::CurrentSchool(_) => "子女学籍".to_owned(),
    }
}

fn origin_en(origin: Origin<'_>) -> String {
    match origin {
        Origin::Household(_) => "child's household record".to_owned(),
        Origin::Unit(unit) => format!("property unit {unit}"),
        Origin::Permit(holder) => format!("residence permit of {holder}"),
        Origin::CurrentSchool(_) => "child's school record".to_owned(),
    }
}

fn ids(list: &[&NationalId]) -> String {
    list.iter().map(|i| i.as_str()).collect::<Vec<_>>().join(", ")
}

/// A school as reasons name it: `S014 太白路小学`, or the bare id when unknown.
pub(crate) fn school_label(schools: &SchoolCatalogue, id: &SchoolId) -> String {
    match schools.get(id) {
        Some(s) if !s.name.is_empty() => concat(&[id.as_str(), " ", &s.name]),
        _ => id.to_string(),
    }
}

/// The parts joined, allocated once (cheaper than `format!` on the hot path).
pub(crate) fn concat(parts: &[&str]) -> String {
    let mut s = String::with_capacity(parts.iter().map(|p| p.len()).sum());
    for p in parts {
        s.push_str(p);
    }
    s
}

/// A date as `YYYY-MM-DD`, without the formatting machinery.
pub(crate) fn ymd(d: chrono::NaiveDate) -> String {
    use chrono::Datelike;
    let (y, m, day) = (d.year().clamp(0, 9999) as u32, d.month(), d.day());
    let digit = |v: u32| char::from(b'0' + (v % 10) as u8);
    let mut s = String::with_capacity(10);
    for v in [y / 1000, y / 100, y / 10, y] {
        s.push(digit(v));
    }
    s.push('-');
    s.push(digit(m / 10));
    s.push(digit(m));
    s.push('-');
    s.push(digit(day / 10));
    s.push(digit(day));
    s
}

pub(crate) fn no_birth_certificate(child: &NationalId) -> Reason {
    reason(
        "no_birth_certificate",
        "出生医学证明登记中没有该子女的出生医学证明，需人工审核".to_owned(),
        "The birth registry has no birth certificate for the child; an officer must review the application".to_owned(),
        [birth(child)],
    )
}

pub(crate) fn guardian_not_parent(child: &NationalId, guardians: &[&NationalId]) -> Reason {
    let who = ids(guardians);
    reason(
        "guardian_not_parent",
        format!("监护人{who}不是子女出生医学证明记载的父母，需人工审核"),
        format!("Guardian {who} is not a parent named on the child's birth certificate; an officer must review"),
        [birth(child)],
    )
}

pub(crate) fn guardianship_confirmed(child: &NationalId, guardians: &[&NationalId]) -> Reason {
    let who = ids(guardians);
    reason(
        "guardianship_confirmed",
        format!("出生医学证明未记载{who}为父母，经人工审核确认其监护关系"),
        format!("The birth certificate does not name {who}; an officer confirmed the guardianship"),
        [birth(child)],
    )
}

fn dates_zh(id_date: NaiveDate, certificate: NaiveDate, household: Option<NaiveDate>) -> String {
    let mut s = format!("身份证号码{id_date}，出生医学证明{certificate}");
    if let Some(h) = household {
        s.push_str(&format!("，户籍{h}"));
    }
    s
}

fn dates_en(id_date: NaiveDate, certificate: NaiveDate, household: Option<NaiveDate>) -> String {
    let mut s = format!("ID number {id_date}, birth certificate {certificate}");
    if let Some(h) = household {
        s.push_str(&format!(", household record {h}"));
    }
    s
}

pub(crate) fn birth_date_mismatch(
    child: &NationalId,
    id_date: NaiveDate,
    certificate: NaiveDate,
    household: Option<NaiveDate>,
) -> Reason {
    reason(
        "birth_date_mismatch",
        format!(
            "子女出生日期不一致（{}），需人工审核",
            dates_zh(id_date, certificate, household)
        ),
        format!(
            "The child's birth date disagrees ({}); an officer must review",
            dates_en(id_date, certificate, household)
        ),
        std::iter::once(birth(child)).chain(household.map(|_| hukou(child))),
    )
}

pub(crate) fn birth_date_confirmed(
    child: &NationalId,
    id_date: NaiveDate,
    certificate: NaiveDate,
    household: Option<NaiveDate>,
) -> Reason {
    reason(
        "birth_date_confirmed",
        format!(
            "子女出生日期不一致（{}），经人工审核确认，以出生医学证明为准",
            dates_zh(id_date, certificate, household)
        ),
        format!(
            "The child's birth date disagreed ({}); an officer settled it and the certificate's date counts",
            dates_en(id_date, certificate, household)
        ),
        std::iter::once(birth(child)).chain(household.map(|_| hukou(child))),
    )
}

pub(crate) fn too_young(child: &NationalId, born: NaiveDate, born_on_or_before: NaiveDate) -> Reason {
    reason(
        "too_young",
        format!("子女出生于{born}，晚于{born_on_or_before}，未达入学年龄"),
        format!("The child was born on {born}, after {born_on_or_before}: below school age"),
        [birth(child)],
    )
}

pub(crate) fn too_old(child: &NationalId, born: NaiveDate, born_on_or_after: NaiveDate) -> Reason {
    reason(
        "too_old",
        format!("子女出生于{born}，早于{born_on_or_after}，属缓学情形，需人工审核"),
        format!("The child was born on {born}, before {born_on_or_after}: delayed enrolment needs an officer's review"),
        [birth(child)],
    )
}

pub(crate) fn delayed_enrolment_approved(child: &NationalId, born: NaiveDate, born_on_or_after: NaiveDate) -> Reason {
    reason(
        "delayed_enrolment_approved",
        format!("子女出生于{born}，早于{born_on_or_after}，缓学入学经人工审核同意"),
        format!("The child was born on {born}, before {born_on_or_after}; an officer approved delayed enrolment"),
        [birth(child)],
    )
}

pub(crate) fn already_at_school(child: &NationalId, school: &str, grade: u8) -> Reason {
    reason(
        "already_at_school",
        format!("子女已在{school}就读{grade}年级，需人工审核"),
        format!("The child is already at school {school} in grade {grade}; an officer must review"),
        [history(child.as_str())],
    )
}

pub(crate) fn current_place_cleared(child: &NationalId, school: &str, grade: u8) -> Reason {
    reason(
        "current_place_cleared",
        format!("子女已有学籍（{school}{grade}年级），经人工审核同意继续申请"),
        format!("The child is at school {school} (grade {grade}); an officer let the application proceed"),
        [history(child.as_str())],
    )
}

pub(crate) fn no_current_place(child: &NationalId, grade: u8) -> Reason {
    reason(
        "no_current_place",
        format!("学籍系统中没有子女的在读记录（回流生等），不能确认为{grade}年级应届毕业生，需人工审核"),
        format!(
            "The enrolment history has no current place for the child, so it is not known to be in grade {grade} now; an officer must review"
        ),
        [history(child.as_str())],
    )
}

pub(crate) fn not_in_final_grade(child: &NationalId, school: &str, grade: u8, final_grade: u8) -> Reason {
    reason(
        "not_in_final_grade",
        format!("子女在{school}就读{grade}年级，不是{final_grade}年级应届毕业生，需人工审核"),
        format!("The child is at school {school} in grade {grade}, not in grade {final_grade}; an officer must review"),
        [history(child.as_str())],
    )
}

pub(crate) fn current_school_unknown(child: &NationalId, school: &SchoolId, grade: u8) -> Reason {
    reason(
        "current_school_unknown",
        format!("子女就读的学校{school}（{grade}年级）不在本市学区名录中，需人工审核"),
        format!(
            "The child's school {school} (grade {grade}) is not in the zone registry's catalogue; an officer must review"
        ),
        [history(child.as_str()), zones(school.as_str())],
    )
}

pub(crate) fn final_grade_cleared(child: &NationalId, place: Option<(&str, u8)>, final_grade: u8) -> Reason {
    let (zh, en) = match place {
        Some((school, grade)) => (
            format!("子女学籍为{school}{grade}年级，经人工审核同意按{final_grade}年级应届毕业生申请"),
            format!(
                "The child is at school {school} in grade {grade}; an officer let it apply as in grade {final_grade}"
            ),
        ),
        None => (
            format!("学籍系统中没有子女的在读记录，经人工审核同意按{final_grade}年级应届毕业生申请"),
            format!(
                "The enrolment history has no current place for the child; an officer let it apply as in grade {final_grade}"
            ),
        ),
    };
    reason("final_grade_cleared", zh, en, [history(child.as_str())])
}

pub(crate) fn address_unresolved(origin: Origin<'_>, text: &str) -> Reason {
    reason(
        "address_unresolved",
        format!("{}地址“{text}”未能匹配到标准地址，需人工审核", origin_zh(origin)),
        format!(
            "The address \"{text}\" of the {} matches no standard address; an officer must review",
            origin_en(origin)
        ),
        [origin_record(origin), zones(text)],
    )
}

pub(crate) fn address_ambiguous(origin: Origin<'_>, text: &str, matches: usize) -> Reason {
    reason(
        "address_ambiguous",
        format!(
            "{}地址“{text}”匹配到{matches}个标准地址，无法确定，需人工审核",
            origin_zh(origin)
        ),
        format!(
            "The address \"{text}\" of the {} matches {matches} standard addresses; an officer must review",
            origin_en(origin)
        ),
        [origin_record(origin), zones(text)],
    )
}

pub(crate) fn address_resolved_by_officer(origin: Origin<'_>, text: &str, code: &AddressCode) -> Reason {
    reason(
        "address_resolved_by_officer",
        format!("{}地址“{text}”经人工审核确定为{code}", origin_zh(origin)),
        format!(
            "An officer established the address \"{text}\" of the {} as {code}",
            origin_en(origin)
        ),
        [origin_record(origin), zones(text)],
    )
}

pub(crate) fn evidence_incomplete(reads: &BTreeSet<EvidenceRead>) -> Reason {
    reason(
        "evidence_incomplete",
        "证据尚未读取完整，暂不能作出决定".to_owned(),
        "The evidence is not complete yet: no decision can be made".to_owned(),
        reads.iter().map(|r| {
            let source = r.record_ref();
            (source.registry, source.to_string())
        }),
    )
}

/// The registry's own name, as families know it.
fn registry_names(registry: Registry) -> (&'static str, &'static str) {
    match registry {
        Registry::Hukou => ("公安户籍", "household"),
        Registry::Birth => ("出生医学证明", "birth-certificate"),
        Registry::Property => ("不动产登记", "property"),
        Registry::Residence => ("居住证", "residence-permit"),
        Registry::Insurance => ("社会保险", "social-insurance"),
        Registry::Zones => ("学区划片", "school-zone"),
        Registry::History => ("学籍与学位使用", "enrolment-history"),
    }
}

/// A registry answered about `record` with something that cannot be read
/// (registries.md, "Dirty records"): review, citing the record. The text
/// names the registry only; the record is in the evidence.
pub(crate) fn registry_answer_unusable(record: &RecordRef) -> Reason {
    let (zh, en) = registry_names(record.registry);
    reason(
        "registry_answer_unusable",
        format!("{zh}登记系统对所查记录的答复无法读取（不符合接口格式），需人工审核"),
        format!(
            "The {en} registry's answer about the record asked for could not be read (it breaks the registry's format); an officer must review"
        ),
        [cite(record.registry, &record.record)],
    )
}

pub(crate) fn no_city_hukou(child: &NationalId, region: Option<&str>) -> Reason {
    let (zh, en) = match region {
        None => (
            "子女在本省无户籍登记，不属本市户籍".to_owned(),
            "The child has no household registration in the province: no city hukou".to_owned(),
        ),
        Some(r) => (
            format!("子女户籍所在地为{r}，不属本市户籍"),
            format!("The child's household is registered in county {r}, outside the city: no city hukou"),
        ),
    };
    reason("no_city_hukou", zh, en, [hukou(child)])
}

pub(crate) fn hukou_registered_after_cutoff(child: &NationalId, on: NaiveDate, cutoff: NaiveDate) -> Reason {
    reason(
        "hukou_registered_after_cutoff",
        format!("子女落户日期{on}晚于{cutoff}，户籍不计"),
        format!("The child's household registration dates from {on}, after {cutoff}: it does not count"),
        [hukou(child)],
    )
}

pub(crate) fn no_guardian_in_household(child: &NationalId, household_no: &str, guardians: &[&NationalId]) -> Reason {
    reason(
        "no_guardian_in_household",
        format!("监护人户籍均不在子女所在户（户号{household_no}）"),
        format!("No guardian is registered in the child's household {household_no}"),
        std::iter::once(hukou(child)).chain(guardians.iter().map(|g| hukou(g))),
    )
}

pub(crate) fn property_not_residential(unit: &UnitNo, usage: &str) -> Reason {
    reason(
        "property_not_residential",
        format!("不动产单元{unit}用途为{usage}，不是住宅，不计为家庭住房"),
        format!("Property unit {unit} is {usage}, not residential: not a family home"),
        [property_unit(unit)],
    )
}

pub(crate) fn property_sealed(unit: &UnitNo) -> Reason {
    reason(
        "property_sealed",
        format!("不动产单元{unit}已被查封，不计为家庭住房"),
        format!("Property unit {unit} is sealed (查封): not a family home"),
        [property_unit(unit)],
    )
}

pub(crate) fn property_registered_after_cutoff(unit: &UnitNo, on: NaiveDate, cutoff: NaiveDate) -> Reason {
    reason(
        "property_registered_after_cutoff",
        format!("不动产单元{unit}登记于{on}，晚于{cutoff}，不计为家庭住房"),
        format!("Property unit {unit} was registered on {on}, after {cutoff}: not a family home"),
        [property_unit(unit)],
    )
}

pub(crate) fn property_share_too_small(unit: &UnitNo, share: u32, min: u32) -> Reason {
    reason(
        "property_share_too_small",
        format!("监护人在不动产单元{unit}的份额合计{share}%，不足{min}%，不计为家庭住房"),
        format!("The guardians hold {share}% of property unit {unit}, less than {min}%: not a family home"),
        [property_unit(unit)],
    )
}

pub(crate) fn property_outside_region(unit: &UnitNo, place: &Place<'_>) -> Reason {
    let code = &place.code;
    reason(
        "property_outside_region",
        format!("不动产单元{unit}位于{code}，不在本市，不计为家庭住房"),
        format!("Property unit {unit} is at {code}, outside the city: not a family home"),
        std::iter::once(property_unit(unit)).chain(via_record(place)),
    )
}

pub(crate) fn seat_locked(unit: &UnitNo, school: &str, year: i32) -> Reason {
    reason(
        "seat_locked",
        format!("不动产单元{unit}已于{year}年为{school}提供学位（学位锁定），在该校不再享有房产优先"),
        format!("Property unit {unit} gave a place at {school} in {year} (seat lock): it gives no priority there now"),
        [property_unit(unit), history(unit.as_str())],
    )
}

pub(crate) fn permit_issued_after_cutoff(
    holder: &NationalId,
    permit_no: &str,
    on: NaiveDate,
    cutoff: NaiveDate,
) -> Reason {
    reason(
        "permit_issued_after_cutoff",
        format!("{holder}的居住证{permit_no}签发于{on}，晚于{cutoff}，不计"),
        format!("Residence permit {permit_no} of {holder} was issued on {on}, after {cutoff}: it does not count"),
        [residence(holder)],
    )
}

pub(crate) fn permit_expires_too_early(
    holder: &NationalId,
    permit_no: &str,
    until: NaiveDate,
    valid_on: NaiveDate,
) -> Reason {
    reason(
        "permit_expires_too_early",
        format!("{holder}的居住证{permit_no}有效期至{until}，早于{valid_on}，不计"),
        format!(
            "Residence permit {permit_no} of {holder} is valid until {until}, not on {valid_on}: it does not count"
        ),
        [residence(holder)],
    )
}

pub(crate) fn insurance_months_too_few(
    holder: &NationalId,
    months: u32,
    window: (impl std::fmt::Display, impl std::fmt::Display),
    min: u32,
) -> Reason {
    let (from, to) = window;
    reason(
        "insurance_months_too_few",
        format!("{holder}在{from}至{to}期间缴纳社保{months}个月，不足{min}个月，居住证不计"),
        format!(
            "{holder} paid social insurance in {months} months from {from} to {to}, fewer than {min}: the residence permit does not count"
        ),
        [residence(holder), insurance(holder)],
    )
}

pub(crate) fn dwelling_not_zoned(origin: Origin<'_>, place: &Place<'_>, building: &str) -> Reason {
    reason(
        "dwelling_not_zoned",
        format!(
            "{}地址{}所在楼栋{building}未划入任何学区",
            origin_zh(origin),
            place.code
        ),
        format!(
            "The building {building} (address {} of the {}) is not zoned for any school",
            place.code,
            origin_en(origin)
        ),
        [origin_record(origin), zones(building)]
            .into_iter()
            .chain(via_record(place)),
    )
}

pub(crate) fn sibling_is_child(child: &NationalId) -> Reason {
    reason(
        "sibling_is_child",
        format!("申报的兄弟姐妹{child}即子女本人，不计"),
        format!("The declared sibling {child} is the child itself: ignored"),
        [birth(child)],
    )
}

pub(crate) fn sibling_no_certificate(sibling: &NationalId) -> Reason {
    reason(
        "sibling_no_certificate",
        format!("申报的兄弟姐妹{sibling}没有出生医学证明，不计"),
        format!("The birth registry has no certificate for declared sibling {sibling}: ignored"),
        [birth(sibling)],
    )
}

pub(crate) fn sibling_not_verified(sibling: &NationalId) -> Reason {
    reason(
        "sibling_not_verified",
        format!("申报的兄弟姐妹{sibling}的出生医学证明未记载任一监护人为父母，不计"),
        format!("The birth certificate of declared sibling {sibling} names no guardian as a parent: ignored"),
        [birth(sibling)],
    )
}

pub(crate) fn sibling_not_at_school(sibling: &NationalId) -> Reason {
    reason(
        "sibling_not_at_school",
        format!("兄弟姐妹{sibling}目前未在校就读，不享有同胞优先"),
        format!("Sibling {sibling} is not at school now: no sibling priority"),
        [birth(sibling), history(sibling.as_str())],
    )
}

pub(crate) fn sibling_grade_not_counted(sibling: &NationalId, school: &str, grade: u8, grades: (u8, u8)) -> Reason {
    let (from, to) = grades;
    reason(
        "sibling_grade_not_counted",
        format!("兄弟姐妹{sibling}在{school}就读{grade}年级，不在{from}至{to}年级，不享有同胞优先"),
        format!(
            "Sibling {sibling} is in grade {grade} at {school}, outside grades {from} to {to}: no sibling priority"
        ),
        [birth(sibling), history(sibling.as_str())],
    )
}

pub(crate) fn sibling_school_not_in_preferences(sibling: &NationalId, school: &str) -> Reason {
    reason(
        "sibling_school_not_in_preferences",
        format!("兄弟姐妹{sibling}就读的{school}不在子女的志愿学校中，同胞优先不适用"),
        format!(
            "Sibling {sibling} is at {school}, which is not among the child's schools: no sibling priority applies"
        ),
        [birth(sibling), history(sibling.as_str())],
    )
}

pub(crate) fn sibling_at_school(sibling: &NationalId, school: &str, grade: u8) -> Reason {
    reason(
        "sibling_at_school",
        format!("{school}：兄弟姐妹{sibling}在该校就读{grade}年级（同胞优先）"),
        format!("{school}: sibling {sibling} is in grade {grade} at the school (sibling priority)"),
        [birth(sibling), history(sibling.as_str())],
    )
}

pub(crate) fn private_school_lottery(school_id: &SchoolId, school: &str) -> Reason {
    reason(
        "private_school_lottery",
        format!("{school}为民办学校，电脑随机派位录取"),
        format!("{school} is a private school: places are drawn by lottery"),
        [zones(school_id.as_str())],
    )
}

pub(crate) fn school_has_no_seats(school_id: &SchoolId, school: &str, year: i32) -> Reason {
    reason(
        "school_has_no_seats",
        format!("{school}无{year}年核定学位"),
        format!("{school} has no seats for {year}"),
        [zones(school_id.as_str())],
    )
}

pub(crate) fn choice_unknown_school(school_id: &SchoolId) -> Reason {
    reason(
        "choice_unknown_school",
        format!("志愿{school_id}不是学区划片登记的学校，已删除"),
        format!("Choice {school_id} is not a school of the zone registry: dropped"),
        [zones(school_id.as_str())],
    )
}

pub(crate) fn choice_other_stage(school_id: &SchoolId, school: &str, stage: &str) -> Reason {
    reason(
        "choice_other_stage",
        format!("志愿{school}不是本批次（{stage}）的学校，已删除"),
        format!("Choice {school} is not a {stage} school: dropped"),
        [zones(school_id.as_str())],
    )
}

pub(crate) fn choice_no_priority(school_id: &SchoolId, school: &str, basis: &BTreeSet<Cite>) -> Reason {
    reason(
        "choice_no_priority",
        format!("志愿{school}为公办学校，子女在该校不具备任何入学类别，已删除"),
        format!("Choice {school} is a public school where the child holds no tier: dropped"),
        basis.iter().cloned().chain([zones(school_id.as_str())]),
    )
}

pub(crate) fn choice_repeated(school_id: &SchoolId, school: &str) -> Reason {
    reason(
        "choice_repeated",
        format!("志愿{school}重复填报，以第一次填报的位置为准"),
        format!("Choice {school} is listed again: it counts at its first place"),
        [zones(school_id.as_str())],
    )
}

pub(crate) fn no_tier(basis: &BTreeSet<Cite>) -> Reason {
    reason(
        "no_tier",
        "子女在任何公办学校均不具备入学类别，未录取时由教育部门统筹安排学位".to_owned(),
        "The child holds no tier at any public school: if no choice gives a seat, the bureau arranges one (统筹安排)"
            .to_owned(),
        basis.iter().cloned(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_written_as_chrono_writes_them() {
        for (y, m, d) in [(2021, 1, 10), (1999, 12, 31), (2026, 8, 31), (2000, 2, 29)] {
            let date = chrono::NaiveDate::from_ymd_opt(y, m, d).unwrap_or_default();
            assert_eq!(ymd(date), date.to_string());
        }
    }

    #[test]
    fn built_in_codes_are_unique_snake_case() {
        let set: BTreeSet<&&str> = BUILT_IN_CODES.iter().collect();
        assert_eq!(set.len(), BUILT_IN_CODES.len());
        for code in BUILT_IN_CODES {
            assert!(
                code.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'),
                "{code} is not snake_case"
            );
        }
    }
}
