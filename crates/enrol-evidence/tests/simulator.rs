//! Evidence gathering against the registry simulator, over real sockets, with
//! the rules' own planner.

mod common;

use std::collections::{BTreeMap, BTreeSet};

use common::*;
use enrol_domain::{EvidenceBundle, EvidenceRead, Registry};
use enrol_evidence::{Failure, FailureKind, GatherOutcome, Progress};
use enrol_registry_sim::{FaultPlan, SimConfig};
use uuid::Uuid;

const FAMILIES: usize = 40;
const SEED: u64 = 11;

fn work(apps: &[enrol_domain::Application]) -> Vec<(enrol_domain::Application, EvidenceBundle)> {
    apps.iter().map(|a| (a.clone(), EvidenceBundle::default())).collect()
}

async fn gather_clean(
    apps: &[enrol_domain::Application],
    dataset: std::sync::Arc<enrol_registry_sim::Dataset>,
) -> (
    BTreeMap<Uuid, GatherOutcome>,
    Harness,
    enrol_registry_sim::RunningSimulator,
) {
    let sim = start(dataset, SimConfig::default()).await;
    let h = harness(&config(&sim)).await;
    let outcomes = h.gatherer.gather_all(work(apps), |_| {}).await;
    (outcomes, h, sim)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_family_is_gathered_within_the_family_under_its_consent() {
    let (dataset, apps) = generated_city(FAMILIES, SEED);
    let sim = start(dataset, SimConfig::default()).await;
    let h = harness(&config(&sim)).await;
    let mut seen = Vec::new();
    let outcomes = h.gatherer.gather_all(work(&apps), |p: &Progress| seen.push(*p)).await;

    assert_eq!(seen.len(), apps.len());
    assert_eq!(
        seen.last().map(|p| (p.done, p.complete, p.pending)),
        Some((apps.len(), apps.len(), 0))
    );
    assert!(outcomes.values().all(GatherOutcome::is_complete));

    let by_consent: BTreeMap<String, &enrol_domain::Application> =
        apps.iter().map(|a| (a.consent_id.to_string(), a)).collect();
    let planned = h.planner.planned.lock().unwrap().clone();
    let mut logged: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for entry in all_entries(&sim) {
        if entry.path == "/zones/v1/schools" {
            continue;
        }
        let consent = entry
            .consent_id
            .clone()
            .unwrap_or_else(|| panic!("{} read without consent", entry.path));
        assert_eq!(entry.purpose.as_deref(), Some("school-enrolment"), "{}", entry.path);
        assert!(entry.status == 200 || entry.status == 404, "{entry:?}");
        assert!(by_consent.contains_key(&consent), "unknown consent {consent}");
        assert!(
            logged.entry(consent).or_default().insert(decoded(&entry.path)),
            "{} read twice",
            entry.path
        );
    }

    for app in &apps {
        let consent = app.consent_id.to_string();
        let bundle = outcomes[&app.application_id].bundle();
        let family = family(app);
        // Exactly the planned reads reached the registries, each once.
        let expected: BTreeSet<String> = planned.get(&consent).into_iter().flatten().map(path_of).collect();
        assert_eq!(
            logged.get(&consent).cloned().unwrap_or_default(),
            expected,
            "{}",
            app.application_id
        );
        // Every person read is of the family; every unit read is the family's.
        let held: BTreeSet<_> = bundle
            .holdings
            .values()
            .filter_map(|f| f.record.as_ref())
            .flatten()
            .map(|u| u.unit_no.clone())
            .collect();
        for read in planned.get(&consent).into_iter().flatten() {
            match read {
                EvidenceRead::BirthCertificate { child_id: id }
                | EvidenceRead::CurrentPlace { child_id: id }
                | EvidenceRead::HouseholdRecord { person_id: id }
                | EvidenceRead::InsuranceMonths { person_id: id, .. }
                | EvidenceRead::Holdings { owner_id: id }
                | EvidenceRead::Permit { holder_id: id } => assert!(family.contains(id), "{id} outside the family"),
                EvidenceRead::UnitUses { unit_no } => assert!(held.contains(unit_no), "{unit_no} not held"),
                EvidenceRead::AddressText { .. } | EvidenceRead::Building { .. } => {}
            }
            assert!(bundle.has(read), "{read:?} planned but not in the bundle");
        }
        // The child's certificate always comes first and is always there.
        assert!(bundle.birth_certificates.contains_key(&app.child_id));
        // Every fact says where it came from.
        for source in bundle.sources() {
            assert!(!source.record.is_empty());
        }
    }
    // Our own audit records match the registries' logs one for one.
    let ours: BTreeSet<String> = h.log.snapshot().iter().map(|a| a.path.clone()).collect();
    let theirs: BTreeSet<String> = all_entries(&sim).iter().map(|e| e.path.clone()).collect();
    assert_eq!(ours, theirs);
    assert_eq!(h.log.len(), all_entries(&sim).len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flaky_registries_give_the_same_bundles() {
    let (dataset, apps) = generated_city(FAMILIES, SEED);
    let (clean, _, _sim) = gather_clean(&apps, dataset.clone()).await;

    let faults = FaultPlan::preset("flaky").expect("flaky preset");
    let sim = start(dataset, SimConfig::default().with_faults(faults).with_seed(3)).await;
    let h = harness(&config(&sim)).await;
    let flaky = h.gatherer.gather_all(work(&apps), |_| {}).await;

    assert_eq!(flaky.len(), clean.len());
    for (id, outcome) in &flaky {
        assert!(outcome.is_complete(), "{id}: {outcome:?}");
        assert_eq!(
            without_fetch_times(outcome.bundle()),
            without_fetch_times(clean[id].bundle()),
            "{id}"
        );
    }
    // The faults did happen and were ridden through.
    let retried = h.log.snapshot().iter().filter(|a| a.attempt > 1).count();
    assert!(retried > 0, "no retry under the flaky preset");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_outage_leaves_applications_pending_until_the_registry_is_back() {
    let (dataset, apps) = generated_city(FAMILIES, SEED);
    let (clean, _, _clean_sim) = gather_clean(&apps, dataset.clone()).await;

    let sim = start(dataset, SimConfig::default()).await;
    let mut cfg = config(&sim);
    cfg = cfg.with_all(|c| {
        c.deadline_ms = 600;
        c.max_retries = 4;
    });
    let h = harness(&cfg).await;
    sim.set_outage(enrol_registry_sim::Registry::Property, true);
    let first = h.gatherer.gather_all(work(&apps), |_| {}).await;

    let mut pending = 0;
    for (id, outcome) in &first {
        match outcome {
            GatherOutcome::Complete(bundle) => {
                // Complete without the property registry only if it needed none.
                assert!(bundle.holdings.is_empty(), "{id}");
                assert_eq!(without_fetch_times(bundle), without_fetch_times(clean[id].bundle()));
            }
            GatherOutcome::Pending(incomplete) => {
                pending += 1;
                assert!(incomplete.retryable(), "{id}: {:?}", incomplete.failures);
                for f in &incomplete.failures {
                    assert_eq!(f.kind(), FailureKind::Unavailable);
                    assert_eq!(f.record().map(|r| r.registry), Some(Registry::Property), "{f}");
                    assert!(matches!(f, Failure::Read { .. }));
                }
                let records = incomplete.failure_records();
                assert!(
                    records[0].message.contains("property registry unavailable"),
                    "{}",
                    records[0].message
                );
            }
        }
    }
    assert!(pending > 0, "no application needed the property registry");

    sim.set_outage(enrol_registry_sim::Registry::Property, false);
    // The breaker stays open for up to twice `breaker_open_max_ms` (jitter)
    // before it lets a probe through; an orchestrator retries pending
    // applications on a slower clock than this.
    tokio::time::sleep(std::time::Duration::from_millis(900)).await;
    let resumed: Vec<_> = apps
        .iter()
        .filter_map(|a| match &first[&a.application_id] {
            GatherOutcome::Pending(i) => Some((a.clone(), i.bundle.clone())),
            GatherOutcome::Complete(_) => None,
        })
        .collect();
    let second = h.gatherer.gather_all(resumed, |_| {}).await;
    assert_eq!(second.len(), pending);
    for (id, outcome) in &second {
        assert!(outcome.is_complete(), "{id}: {outcome:?}");
        assert_eq!(
            without_fetch_times(outcome.bundle()),
            without_fetch_times(clean[id].bundle()),
            "{id}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_planner_that_strays_outside_the_family_reads_nothing() {
    let (dataset, apps) = generated_city(4, SEED);
    let sim = start(dataset, SimConfig::default()).await;
    let registries =
        enrol_evidence::Registries::connect(&config(&sim), std::sync::Arc::new(enrol_evidence::NoAccessLog))
            .expect("clients");
    let stranger = apps[1].child_id.clone();
    let nosy = move |_: &enrol_domain::Application, _: &EvidenceBundle| {
        vec![EvidenceRead::HouseholdRecord {
            person_id: stranger.clone(),
        }]
    };
    let gatherer = enrol_evidence::Gatherer::new(registries.clone(), nosy, Default::default());
    let outcome = gatherer.gather(&apps[0], EvidenceBundle::default()).await;
    let GatherOutcome::Pending(incomplete) = outcome else {
        panic!("a read outside the family was made");
    };
    assert!(matches!(&incomplete.failures[..], [Failure::OutsideFamily { .. }]));
    assert_eq!(incomplete.failures[0].kind(), FailureKind::Engine);
    assert!(!incomplete.retryable());
    assert!(all_entries(&sim).is_empty(), "nothing may reach a registry");

    // A planner that asks again for what it has would loop: stopped.
    let child = apps[0].child_id.clone();
    let stubborn = move |_: &enrol_domain::Application, _: &EvidenceBundle| {
        vec![EvidenceRead::BirthCertificate {
            child_id: child.clone(),
        }]
    };
    let gatherer = enrol_evidence::Gatherer::new(registries, stubborn, Default::default());
    let outcome = gatherer.gather(&apps[0], EvidenceBundle::default()).await;
    let GatherOutcome::Pending(incomplete) = outcome else {
        panic!("a looping planner completed");
    };
    assert!(
        matches!(&incomplete.failures[..], [Failure::PlannerRepeated { .. }]),
        "{:?}",
        incomplete.failures
    );
    assert!(incomplete.bundle.birth_certificates.contains_key(&apps[0].child_id));
    assert_eq!(all_entries(&sim).len(), 1, "the certificate was read once");
}
