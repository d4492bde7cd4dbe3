//! The hand-made sample city (`fixtures/cities/sample/`) gathered against the
//! registry simulator over real sockets, with the rules' own planner and the
//! sample policy: each family's bundle holds exactly the records its README
//! paragraph lists, the registries saw exactly those reads, and their access
//! logs show no read outside the family and every personal-data read under
//! the application's consent.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use common::sample::{expected_reads, family_of, person_read, read_of, sample_applications, sample_dir, unit_read};
use common::*;
use enrol_domain::{Application, EvidenceBundle, RecordRef};
use enrol_evidence::GatherOutcome;
use enrol_registry_sim::{Dataset, SimConfig};
use enrol_rules::Policy;

fn show(refs: &BTreeSet<RecordRef>) -> String {
    refs.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_sample_family_reads_exactly_the_records_the_readme_lists() {
    let dir = sample_dir();
    let readme_path = dir.join("README.md");
    let readme = std::fs::read_to_string(&readme_path).unwrap_or_else(|e| panic!("{}: {e}", readme_path.display()));
    let expected = expected_reads(&readme);
    let apps = sample_applications();
    assert_eq!(apps.len(), 41, "applications.jsonl");
    let families: BTreeSet<String> = apps.iter().map(family_of).collect();
    assert_eq!(
        expected.keys().cloned().collect::<BTreeSet<_>>(),
        families,
        "the README lists the reads of every family, once"
    );

    let dataset = Dataset::load(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    let sim = start(Arc::new(dataset), SimConfig::default()).await;
    let h = harness(&config(&sim)).await;
    let work: Vec<(Application, EvidenceBundle)> =
        apps.iter().map(|a| (a.clone(), EvidenceBundle::default())).collect();
    let outcomes = h.gatherer.gather_all(work, |_| {}).await;
    let window = Policy::sample().insurance_window();

    // Every difference, so that one run reports them all.
    let mut mismatches: Vec<String> = Vec::new();

    // The bundle holds exactly the README's records.
    for app in &apps {
        let family = family_of(app);
        let exp = &expected[&family];
        let outcome = &outcomes[&app.application_id];
        if let GatherOutcome::Pending(incomplete) = outcome {
            mismatches.push(format!("{family}: gathering stayed pending: {:?}", incomplete.failures));
            continue;
        }
        let want: BTreeSet<RecordRef> = exp.records.iter().cloned().collect();
        assert_eq!(
            want.len(),
            exp.records.len(),
            "README line {}: a read listed twice",
            exp.line
        );
        let got = outcome.bundle().sources();
        if got != want {
            mismatches.push(format!(
                "{family} (README line {}): bundle lacks [{}], has beyond the README [{}]",
                exp.line,
                show(&want.difference(&got).cloned().collect()),
                show(&got.difference(&want).cloned().collect()),
            ));
        }
    }

    // The registries' own logs: who was read, under which consent.
    let by_consent: BTreeMap<String, &Application> = apps.iter().map(|a| (a.consent_id.to_string(), a)).collect();
    assert_eq!(by_consent.len(), apps.len(), "every application has its own consent id");
    let mut logged: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut catalogue_reads = 0;
    for entry in all_entries(&sim) {
        let path = decoded(&entry.path);
        if path == "/zones/v1/schools" {
            // Read once per round, for no application.
            catalogue_reads += 1;
            continue;
        }
        assert!(entry.status == 200 || entry.status == 404, "{entry:?}");
        let Some(consent) = entry.consent_id.as_deref() else {
            mismatches.push(format!("{path} read without a consent id"));
            continue;
        };
        assert_eq!(entry.purpose.as_deref(), Some("school-enrolment"), "{path}");
        let Some(app) = by_consent.get(consent) else {
            mismatches.push(format!("{path} read under {consent}, no application's consent"));
            continue;
        };
        let family = family_of(app);
        if let Some(person) = person_read(&path) {
            let person_in_family = common::family(app).iter().any(|id| id.as_str() == person);
            if !person_in_family {
                mismatches.push(format!(
                    "{family}: {path} reads {person}, outside the family, under {consent}"
                ));
            }
        } else if let Some(unit) = unit_read(&path) {
            let held = outcomes[&app.application_id]
                .bundle()
                .holdings
                .values()
                .filter_map(|f| f.record.as_ref())
                .flatten()
                .any(|u| u.unit_no.as_str() == unit);
            if !held {
                mismatches.push(format!(
                    "{family}: {path} reads unit {unit}, not the family's, under {consent}"
                ));
            }
        } else if !(path.starts_with("/zones/v1/buildings/") || path.starts_with("/zones/v1/addresses?")) {
            mismatches.push(format!("{family}: {path} is no read the interface knows"));
        }
        if !logged.entry(consent.to_owned()).or_default().insert(path.clone()) {
            mismatches.push(format!("{family}: {path} read twice"));
        }
    }
    assert_eq!(catalogue_reads, 1, "the school catalogue is read once per round");

    // The registries saw exactly the README's reads, each family's under its consent.
    for app in &apps {
        let family = family_of(app);
        let exp = &expected[&family];
        let want: BTreeSet<String> = exp
            .records
            .iter()
            .map(|r| path_of(&read_of(r, exp.line, window)))
            .collect();
        let got = logged.remove(app.consent_id.as_str()).unwrap_or_default();
        if got != want {
            mismatches.push(format!(
                "{family} (README line {}): registries not asked for {:?}, asked beyond the README for {:?}",
                exp.line,
                want.difference(&got).collect::<Vec<_>>(),
                got.difference(&want).collect::<Vec<_>>(),
            ));
        }
    }

    assert!(
        mismatches.is_empty(),
        "{} difference(s) from fixtures/cities/sample/README.md:\n{}",
        mismatches.len(),
        mismatches.join("\n")
    );
}

/// The parser reads the README's `Reads:` shape, and refuses another one.
#[test]
fn the_readme_reads_parser_reads_the_family_paragraphs() {
    let markdown = "\
**F07** — 胡博文 …
Reads: birth:370811202101121154, zones:任城区太白中路10号3-602, zones:370811-003-00008, history:370811001001GB00010F00030602.

**F10** — 130102202104181209 …
Reads: insurance:130102199202203200, zones:太白中路 10号 3单元 502室.
";
    let reads = expected_reads(markdown);
    let shown: BTreeMap<&str, Vec<String>> = reads
        .iter()
        .map(|(f, e)| (f.as_str(), e.records.iter().map(ToString::to_string).collect()))
        .collect();
    assert_eq!(
        shown,
        BTreeMap::from([
            (
                "F07",
                vec![
                    "birth:370811202101121154".to_owned(),
                    "zones:任城区太白中路10号3-602".to_owned(),
                    "zones:370811-003-00008".to_owned(),
                    "history:370811001001GB00010F00030602".to_owned(),
                ]
            ),
            (
                "F10",
                vec![
                    "insurance:130102199202203200".to_owned(),
                    "zones:太白中路 10号 3单元 502室".to_owned(),
                ]
            ),
        ])
    );
    let window = Policy::sample().insurance_window();
    let paths: Vec<String> = reads["F07"]
        .records
        .iter()
        .map(|r| path_of(&read_of(r, 0, window)))
        .collect();
    assert_eq!(
        paths,
        [
            "/birth/v1/certificates/370811202101121154",
            "/zones/v1/addresses?text=任城区太白中路10号3-602",
            "/zones/v1/buildings/370811-003-00008",
            "/enrolment-history/v1/units/370811001001GB00010F00030602",
        ]
    );
    assert_eq!(
        path_of(&read_of(&reads["F10"].records[0], 0, window)),
        "/social-insurance/v1/persons/130102199202203200/months?from=2025-05&to=2027-04"
    );
}

#[test]
#[should_panic(expected = "line 2: \"owners\" is not a registry")]
fn a_readme_read_of_an_unknown_registry_fails_clearly() {
    expected_reads("**F01** — x\nReads: birth:370811202102141034, owners:1.\n");
}

#[test]
#[should_panic(expected = "F01 has no `Reads:` line")]
fn a_readme_family_without_reads_fails_clearly() {
    expected_reads("**F01** — x\n\n**F02** — y\nReads: birth:370811202105201047.\n");
}
