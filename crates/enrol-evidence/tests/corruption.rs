//! Answers that break the registries' format (registries.md, "Dirty
//! records"), served by the simulator's corruption faults over real sockets:
//! the client asks again within the call, then gives the read up as
//! unusable; the bundle records it and the rules decide `review` citing the
//! record. Nothing stays pending, and every other application is decided as
//! without the fault.

mod common;

use std::collections::BTreeMap;

use common::*;
use enrol_domain::{Application, Decision, EvidenceBundle, Status};
use enrol_evidence::{GatherOutcome, RegistriesConfig};
use enrol_registry_sim::{Corruption, FaultPlan, RegistryFaults, SimConfig};
use uuid::Uuid;

const FAMILIES: usize = 60;
const SEED: u64 = 23;
const SIM_SEED: u64 = 5;

async fn decide(
    apps: &[Application],
    faults: FaultPlan,
    dataset: std::sync::Arc<enrol_registry_sim::Dataset>,
) -> (
    BTreeMap<Uuid, (GatherOutcome, Decision)>,
    enrol_registry_sim::RunningSimulator,
    RegistriesConfig,
) {
    let sim = start(dataset, SimConfig::default().with_faults(faults).with_seed(SIM_SEED)).await;
    let config = config(&sim);
    let h = harness(&config).await;
    let work: Vec<_> = apps.iter().map(|a| (a.clone(), EvidenceBundle::default())).collect();
    let outcomes = h.gatherer.gather_all(work, |_| {}).await;
    let by_id: BTreeMap<Uuid, &Application> = apps.iter().map(|a| (a.application_id, a)).collect();
    let decided = outcomes
        .into_iter()
        .map(|(id, outcome)| {
            let decision = enrol_rules::evaluate(
                by_id[&id],
                outcome.bundle(),
                &h.planner.policy,
                &h.planner.schools,
                None,
            )
            .decision;
            (id, (outcome, decision))
        })
        .collect();
    (decided, sim, config)
}

fn corruption(corruption: Corruption) -> FaultPlan {
    FaultPlan::uniform(RegistryFaults {
        corruption,
        ..RegistryFaults::default()
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unusable_answers_are_reviews_citing_the_record_and_the_rest_is_decided_as_without_them() {
    let (dataset, apps) = generated_city(FAMILIES, SEED);
    let (clean, _sim, _) = decide(&apps, FaultPlan::none(), dataset.clone()).await;
    let plan = corruption(Corruption::uniform(0.04));
    let (dirty, sim, config) = decide(&apps, plan.clone(), dataset).await;

    let retries = config.registries.values().next().unwrap().unusable_retries;
    let mut reviews = 0;
    for app in &apps {
        let id = app.application_id;
        let (outcome, decision) = &dirty[&id];
        let GatherOutcome::Complete(bundle) = outcome else {
            panic!("{id} pending though every registry answers: {outcome:?}");
        };
        if bundle.unusable.is_empty() {
            assert_eq!(
                decision, &clean[&id].1,
                "{id}: decided otherwise without an unusable answer"
            );
            continue;
        }
        reviews += 1;
        assert_eq!(decision.status, Status::Review, "{id}");
        let cited: Vec<Vec<String>> = decision.reasons.iter().map(|r| r.evidence.clone()).collect();
        let expected: Vec<Vec<String>> = bundle.unusable.keys().map(|r| vec![r.clone()]).collect();
        assert_eq!(cited, expected, "{id}: one reason per unusable record, citing it");
        assert!(decision.reasons.iter().all(|r| r.code == "registry_answer_unusable"));
        for unusable in bundle.unusable.values() {
            // The simulator corrupts this very record, every time; the client asked
            // 1 + unusable_retries times under this application's consent.
            let path = path_of(&unusable.read);
            let sent: Vec<_> = all_entries(&sim)
                .into_iter()
                .filter(|e| decoded(&e.path) == path && e.consent_id.as_deref() == Some(app.consent_id.as_str()))
                .collect();
            assert_eq!(sent.len() as u32, 1 + retries, "{path}");
            let registry = enrol_registry_sim::Registry::ALL
                .into_iter()
                .find(|r| path.starts_with(&format!("/{}/", r.segment())))
                .unwrap();
            let corrupt = plan
                .registry(registry)
                .corruption
                .kind_for(SIM_SEED, registry, &sent[0].path);
            assert!(
                corrupt.is_some(),
                "{path} is not corrupt, yet unusable: {}",
                unusable.detail
            );
        }
    }
    assert!(reviews > 0, "no answer was corrupt: the test proves nothing");
    assert!(reviews < apps.len(), "every answer corrupt: the test proves little");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_answer_corrupt_once_is_asked_again_within_the_call() {
    let (dataset, apps) = generated_city(20, SEED);
    let (clean, _sim, _) = decide(&apps, FaultPlan::none(), dataset.clone()).await;
    let once = Corruption {
        corrupt_times: 1,
        ..Corruption::uniform(0.3)
    };
    let (healed, sim, _) = decide(&apps, corruption(once), dataset).await;
    for app in &apps {
        let id = app.application_id;
        assert!(healed[&id].0.is_complete(), "{id}");
        assert!(healed[&id].0.bundle().unusable.is_empty(), "{id}");
        assert_eq!(healed[&id].1, clean[&id].1, "{id}");
    }
    let entries = all_entries(&sim);
    let mut distinct: Vec<_> = entries.iter().map(|e| (&e.path, &e.consent_id)).collect();
    distinct.sort();
    distinct.dedup();
    assert!(
        entries.len() > distinct.len(),
        "no answer was asked for twice: nothing was corrupt"
    );
}
