//! The hand-written fixture round shared by the test files: five schools
//! (one private, one empty, one without seats), placements by every tier,
//! lottery and overflow, three applications in review and one ineligible.

#![allow(dead_code)] // Each test file uses its own part.

pub mod cdp;

use std::path::PathBuf;

use enrol_domain::SchoolId;
use enrol_report::{ReportInput, RoundFacts, TierLabel};

pub const SEED: &str = "demo-2027-primary";

pub fn fixture_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/round")
}

pub fn tier(name: &str, zh: &str, en: &str) -> TierLabel {
    TierLabel {
        name: name.into(),
        label_zh: Some(zh.into()),
        label_en: Some(en.into()),
    }
}

pub fn facts() -> RoundFacts {
    RoundFacts {
        round_id: "2027-primary".into(),
        policy_version: "2027-primary@fixture".into(),
        tiers: vec![
            tier("tier1", "房户一致", "hukou at the family home"),
            tier("tier2", "有房", "family property"),
            tier("tier3", "有户", "city hukou"),
            tier("tier4", "随迁子女", "migrant family"),
        ],
        // SHA-256 of the whole seed: a demo round.
        seed_commitment: "91a8a23bff5b1944e6138d55d1da971c9771b043b41cc8adfc50d7a1aa382787".into(),
        round_seed: SEED.into(),
        school_names: [
            ("S001", "实验小学"),
            ("S002", "育才小学"),
            ("S003", "明德民办小学"),
            ("S004", "城南小学"),
            ("S005", "新区小学（筹建）"),
        ]
        .into_iter()
        .map(|(id, name)| (SchoolId::new(id), name.to_owned()))
        .collect(),
    }
}

pub fn fixture() -> ReportInput {
    ReportInput::from_output_dir(fixture_dir(), facts()).unwrap_or_else(|e| panic!("the fixture round reads: {e}"))
}

pub fn fixture_file(name: &str) -> String {
    std::fs::read_to_string(fixture_dir().join(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}
