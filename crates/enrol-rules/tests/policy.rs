//! The policy file: the sample says exactly policy.md; a bad file is refused
//! with an error naming the key (and its line).

use chrono::NaiveDate;
use enrol_domain::{Stage, YearMonth};
use enrol_rules::{Dwelling, Fact, Policy, PolicyError, SAMPLE_JUNIOR_POLICY_TOML, SAMPLE_POLICY_TOML, TierValue};

fn date(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap_or_else(|e| panic!("{s}: {e}"))
}

fn month(s: &str) -> YearMonth {
    YearMonth::parse(s).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn the_sample_policy_says_exactly_policy_md() {
    let p = Policy::sample();
    assert_eq!(p.round_id().as_str(), "2027-primary");
    assert_eq!(p.stage(), Stage::Primary);
    assert_eq!(p.entry_year(), 2027);
    assert_eq!(p.region_prefix(), "3708");
    assert_eq!(p.born_on_or_before(), Some(date("2021-08-31")));
    assert_eq!(p.born_on_or_after(), Some(date("2020-09-01")));
    assert_eq!(p.final_grade(), None, "a first-grade child must not be at school yet");
    assert_eq!(p.residence_cutoff(), date("2026-08-31"));
    assert_eq!(
        p.hukou_cutoff(),
        date("2026-08-31"),
        "no separate hukou cutoff in the sample"
    );
    assert_eq!(p.min_family_share_pct(), 50);
    assert_eq!(p.permit_valid_on(), date("2027-09-01"));
    assert_eq!(p.insurance_window(), (month("2025-05"), month("2027-04")));
    assert_eq!(p.insurance_min_months(), 12);
    assert_eq!(p.seat_lock_years(), 6);
    assert_eq!(p.seat_lock_span(), (2021, 2026));
    assert_eq!(p.sibling_grades(), (1, 5));
    assert_eq!(p.points_per_insurance_month(), 2);
    assert_eq!(p.points_per_permit_month(), 1);
    assert_eq!(p.permit_months_cap(), 60);
    assert_eq!(p.tier_names(), ["tier1", "tier2", "tier3", "tier4"]);
    assert_eq!(p.tier_rank("tier3"), Some(3));
    assert_eq!(p.tier_rank("lottery"), None);

    let t = p.tiers();
    use Fact::*;
    assert_eq!(t[0].dwelling, Dwelling::Household);
    assert_eq!(
        t[0].facts.iter().copied().collect::<Vec<_>>(),
        [
            CityHukou,
            RegisteredByCutoff,
            GuardianInHousehold,
            FamilyProperty,
            NotSeatLocked
        ]
    );
    assert_eq!(t[0].value, TierValue::ChildRegisteredOn);
    assert_eq!(t[0].label_zh, "房户一致");
    assert_eq!(t[1].dwelling, Dwelling::FamilyProperty);
    assert_eq!(
        t[1].facts.iter().copied().collect::<Vec<_>>(),
        [FamilyProperty, NotSeatLocked]
    );
    assert_eq!(t[1].value, TierValue::PropertyRegisteredOn);
    assert_eq!(t[2].dwelling, Dwelling::Household);
    assert_eq!(
        t[2].facts.iter().copied().collect::<Vec<_>>(),
        [CityHukou, RegisteredByCutoff, GuardianInHousehold]
    );
    assert_eq!(t[2].value, TierValue::ChildRegisteredOn);
    assert_eq!(t[3].dwelling, Dwelling::Permit);
    assert_eq!(
        t[3].facts.iter().copied().collect::<Vec<_>>(),
        [NoCityHukou, QualifyingPermit]
    );
    assert_eq!(t[3].value, TierValue::PermitPoints);
}

#[test]
fn load_reads_the_shipped_file() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/policies/2027-primary.toml");
    let loaded = Policy::load(&path).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(loaded, Policy::sample());
}

#[test]
fn a_missing_file_is_a_read_error() {
    let err = Policy::load("/nonexistent/policy.toml").err();
    assert!(matches!(err, Some(PolicyError::Read { .. })), "{err:?}");
}

/// The sample with `from` replaced by `to` (which must occur exactly once).
fn edited(from: &str, to: &str) -> String {
    assert_eq!(SAMPLE_POLICY_TOML.matches(from).count(), 1, "{from:?} must occur once");
    SAMPLE_POLICY_TOML.replacen(from, to, 1)
}

fn line_of(text: &str, needle: &str) -> usize {
    let at = text.find(needle).unwrap_or_else(|| panic!("{needle:?} not in text"));
    text[..at].matches('\n').count() + 1
}

/// Loads `text` and expects an error naming `key` at the line of `at`.
fn refused(text: &str, key: &str, at: &str) -> String {
    let err = match Policy::from_toml_str(text) {
        Ok(_) => panic!("accepted a policy with a bad {key}"),
        Err(e) => e,
    };
    assert_eq!(err.key(), Some(key), "{err}");
    assert_eq!(err.line(), Some(line_of(text, at)), "{err}");
    let message = err.to_string();
    assert!(message.contains(key), "{message}");
    message
}

#[test]
fn unknown_keys_are_refused_by_name() {
    let text = edited("seat_lock_years = 6\n", "seat_lock_years = 6\nseat_lock_yaers = 6\n");
    let message = refused(&text, "parameters.seat_lock_yaers", "seat_lock_yaers");
    assert!(message.contains("unknown field"), "{message}");

    let text = edited("[round]\n", "[round]\nround_seed = \"abc\"\n");
    refused(&text, "round.round_seed", "round_seed");

    let text = edited("name = \"tier2\"\n", "name = \"tier2\"\nweight = 3\n");
    refused(&text, "tiers[1].weight", "weight");

    let text = format!("{SAMPLE_POLICY_TOML}\n[allocation]\nmechanism = \"boston\"\n");
    refused(&text, "allocation", "[allocation]");
}

#[test]
fn bad_dates_are_refused_by_name() {
    let text = edited("born_on_or_before = 2021-08-31", "born_on_or_before = \"2021-08-31\"");
    refused(&text, "parameters.born_on_or_before", "born_on_or_before = \"");

    let text = edited("permit_valid_on = 2027-09-01", "permit_valid_on = 2027-09-01T08:00:00");
    let message = refused(&text, "parameters.permit_valid_on", "permit_valid_on = 2027");
    assert!(message.contains("plain date"), "{message}");

    // TOML itself refuses an impossible date.
    let text = edited("residence_cutoff = 2026-08-31", "residence_cutoff = 2026-02-30");
    let err = Policy::from_toml_str(&text).err();
    assert!(
        matches!(err, Some(PolicyError::Syntax { line: Some(l), .. }) if l == line_of(&text, "residence_cutoff = 2026-02-30")),
        "{err:?}"
    );

    let text = edited("from = \"2025-05\"", "from = \"2025-13\"");
    refused(&text, "parameters.insurance_window.from", "from = \"2025-13\"");
}

#[test]
fn windows_that_end_before_they_start_are_refused() {
    let text = edited("born_on_or_after = 2020-09-01", "born_on_or_after = 2021-09-01");
    let message = refused(&text, "parameters.born_on_or_after", "born_on_or_after = 2021");
    assert!(message.contains("after it ends"), "{message}");

    let text = edited("to = \"2027-04\"", "to = \"2025-04\"");
    let message = refused(&text, "parameters.insurance_window.to", "to = \"2025-04\"");
    assert!(message.contains("before it starts"), "{message}");

    let text = edited(
        "sibling_grades = { from = 1, to = 5 }",
        "sibling_grades = { from = 4, to = 2 }",
    );
    refused(&text, "parameters.sibling_grades.to", "sibling_grades");

    let text = edited("insurance_min_months = 12", "insurance_min_months = 25");
    let message = refused(&text, "parameters.insurance_min_months", "insurance_min_months = 25");
    assert!(message.contains("24 months"), "{message}");
}

#[test]
fn bad_values_are_refused_by_name() {
    let text = edited("min_family_share_pct = 50", "min_family_share_pct = 150");
    refused(&text, "parameters.min_family_share_pct", "min_family_share_pct = 150");

    let text = edited("region_prefix = \"3708\"", "region_prefix = \"37-08\"");
    refused(&text, "round.region_prefix", "region_prefix");

    let text = edited("stage = \"primary\"", "stage = \"kindergarten\"");
    let message = refused(&text, "round.stage", "stage = \"kindergarten\"");
    assert!(message.contains("primary"), "names the allowed stages: {message}");

    let text = edited("seat_lock_years = 6", "seat_lock_years = -6");
    refused(&text, "parameters.seat_lock_years", "seat_lock_years = -6");
}

#[test]
fn a_missing_key_is_named() {
    let text = edited("insurance_min_months = 12\n", "");
    let err = Policy::from_toml_str(&text)
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(
        err.contains("insurance_min_months") && err.contains("parameters"),
        "{err}"
    );
}

#[test]
fn bad_tiers_are_refused_by_name() {
    let text = edited("\"qualifying_permit\"]", "\"qualifying_permit\", \"owns_a_car\"]");
    let message = refused(&text, "tiers[3].facts[2]", "\"owns_a_car\"");
    assert!(message.contains("owns_a_car"), "{message}");

    let text = edited("name = \"tier2\"", "name = \"tier1\"");
    refused(&text, "tiers[1].name", "name = \"tier1\"\nlabel_zh = \"有房\"");

    let text = edited("name = \"tier4\"", "name = \"lottery\"");
    refused(&text, "tiers[3].name", "name = \"lottery\"");

    let text = edited(
        "reason_code = \"tier3_city_hukou\"",
        "reason_code = \"tier1_same_dwelling\"",
    );
    refused(
        &text,
        "tiers[2].reason_code",
        "reason_code = \"tier1_same_dwelling\"\nreason_zh = \"子女与父母同户",
    );

    let text = edited("reason_code = \"tier3_city_hukou\"", "reason_code = \"no_tier\"");
    refused(&text, "tiers[2].reason_code", "reason_code = \"no_tier\"");

    let text = edited(
        "facts = [\"no_city_hukou\", \"qualifying_permit\"]",
        "facts = [\"city_hukou\", \"no_city_hukou\", \"qualifying_permit\"]",
    );
    refused(&text, "tiers[3].facts", "facts = [\"city_hukou\", \"no_city_hukou\"");

    let text = edited(
        "facts = [\"family_property\", \"not_seat_locked\"]",
        "facts = [\"family_property\", \"family_property\"]",
    );
    refused(
        &text,
        "tiers[1].facts",
        "facts = [\"family_property\", \"family_property\"]",
    );

    // tier4's points need a permit; on the household dwelling without one they are undefined.
    let text = edited(
        "dwelling = \"permit\"\nfacts = [\"no_city_hukou\", \"qualifying_permit\"]",
        "dwelling = \"household\"\nfacts = [\"city_hukou\"]",
    );
    let message = refused(&text, "tiers[3].value", "value = \"permit_points\"");
    assert!(message.contains("qualifying permit"), "{message}");

    let text = edited("dwelling = \"permit\"", "dwelling = \"office\"");
    refused(&text, "tiers[3].dwelling", "dwelling = \"office\"");

    let start = SAMPLE_POLICY_TOML.find("[[tiers]]").unwrap_or_default();
    let text = format!("tiers = []\n{}", &SAMPLE_POLICY_TOML[..start]);
    refused(&text, "tiers", "tiers = []");
}

#[test]
fn a_district_edits_a_file_not_the_code() {
    // Dropping tier 3 or demanding 12 months of hukou is a new file.
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/rules/policies");
    let no_tier3 = Policy::load(dir.join("no-tier3.toml")).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(no_tier3.tier_names(), ["tier1", "tier2", "tier4"]);
    assert_eq!(no_tier3.tier_rank("tier4"), Some(3));
    let longer = Policy::load(dir.join("hukou-12-months.toml")).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(longer.hukou_cutoff(), date("2025-08-31"));
    assert_eq!(longer.residence_cutoff(), date("2026-08-31"));
}

#[test]
fn the_junior_policy_says_exactly_policy_junior_md() {
    let p = Policy::sample_junior();
    let primary = Policy::sample();
    assert_eq!(p.round_id().as_str(), "2027-junior");
    assert_eq!(p.stage(), Stage::Junior);
    assert_eq!(p.entry_year(), 2027);
    assert_eq!(p.region_prefix(), "3708");
    assert_eq!(p.born_on_or_before(), None, "no age parameter");
    assert_eq!(p.born_on_or_after(), None);
    assert_eq!(p.final_grade(), Some(6));
    assert_eq!(p.seat_lock_years(), 3);
    assert_eq!(p.seat_lock_span(), (2024, 2026));
    assert_eq!(p.sibling_grades(), (7, 8));
    // Everything else is policy.md's.
    assert_eq!(p.residence_cutoff(), primary.residence_cutoff());
    assert_eq!(p.hukou_cutoff(), primary.hukou_cutoff());
    assert_eq!(p.min_family_share_pct(), primary.min_family_share_pct());
    assert_eq!(p.permit_valid_on(), primary.permit_valid_on());
    assert_eq!(p.insurance_window(), primary.insurance_window());
    assert_eq!(p.insurance_min_months(), primary.insurance_min_months());
    assert_eq!(p.points_per_insurance_month(), primary.points_per_insurance_month());
    assert_eq!(p.points_per_permit_month(), primary.points_per_permit_month());
    assert_eq!(p.permit_months_cap(), primary.permit_months_cap());

    assert_eq!(p.tier_names(), ["tier1", "tier2", "tier3", "tier4", "tier5"]);
    let t = p.tiers();
    assert_eq!(t[0].label_zh, "对口直升");
    assert_eq!(t[0].dwelling, Dwelling::CurrentSchool);
    assert!(t[0].facts.is_empty());
    assert_eq!(t[0].value, TierValue::None);
    assert!(!t[0].rests_on_property(), "a feeder seat names no unit");
    // tiers 2..5 are policy.md's tiers 1..4, fact for fact.
    for (junior, primary) in t[1..].iter().zip(primary.tiers()) {
        assert_eq!(junior.label_zh, primary.label_zh);
        assert_eq!(junior.dwelling, primary.dwelling);
        assert_eq!(junior.facts, primary.facts);
        assert_eq!(junior.value, primary.value);
        assert_eq!(junior.reason_zh, primary.reason_zh);
    }
    assert_eq!(
        p,
        Policy::load(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../fixtures/policies/2027-junior.toml"
        ))
        .unwrap_or_else(|e| panic!("{e}"))
    );
}

#[test]
fn a_policy_says_who_may_apply_by_age_or_grade() {
    let junior = SAMPLE_JUNIOR_POLICY_TOML;
    let text = junior.replace("final_grade = 6\n", "");
    let err = Policy::from_toml_str(&text).expect_err("neither age nor grade");
    assert_eq!(err.key(), Some("parameters"), "{err}");
    assert!(err.to_string().contains("final_grade"), "{err}");

    let text = junior.replace("final_grade = 6", "final_grade = 0");
    let err = Policy::from_toml_str(&text).expect_err("grade 0");
    assert_eq!(err.key(), Some("parameters.final_grade"), "{err}");
    assert!(err.line().is_some());

    // Both an age limit and a grade: each clause applies.
    let text = junior.replace("final_grade = 6", "final_grade = 6\nborn_on_or_before = 2015-08-31");
    let p = Policy::from_toml_str(&text).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        (p.born_on_or_before(), p.final_grade()),
        (Some(date("2015-08-31")), Some(6))
    );
}

#[test]
fn a_current_school_tier_rests_on_no_dwelling_facts() {
    for fact in ["family_property", "not_seat_locked", "qualifying_permit"] {
        let text = SAMPLE_JUNIOR_POLICY_TOML.replacen("facts = []", &format!("facts = [\"{fact}\"]"), 1);
        let err = Policy::from_toml_str(&text).expect_err(fact);
        assert_eq!(err.key(), Some("tiers[0].facts"), "{err}");
        assert!(err.to_string().contains(fact), "{err}");
    }
    // Child facts are fine: a district may keep 对口直升 for city-hukou children.
    let text = SAMPLE_JUNIOR_POLICY_TOML.replacen("facts = []", "facts = [\"city_hukou\"]", 1);
    let p = Policy::from_toml_str(&text).unwrap_or_else(|e| panic!("{e}"));
    assert!(p.tiers()[0].requires(Fact::CityHukou));
}
