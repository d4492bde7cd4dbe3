//! Shared set-up of the tests against the registry simulator.
#![allow(dead_code)]

pub mod sample;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};

use enrol_domain::{Application, EvidenceBundle, EvidenceRead, NationalId, SchoolCatalogue};
use enrol_evidence::{AccessLog, GatherOptions, Gatherer, ReadPlanner, Registries, RegistriesConfig, RegistryConfig};
use enrol_registry_sim::{AccessLogEntry, Dataset, RunningSimulator, SimConfig, Simulator};
use enrol_rules::Policy;

/// A small generated city, written to a temporary folder and loaded.
pub fn generated_city(families: usize, seed: u64) -> (Arc<Dataset>, Vec<Application>) {
    let city = enrol_city::generate(&enrol_city::CityConfig::new(families, seed));
    let dir = tempfile::tempdir().expect("temporary folder");
    city.write_to(dir.path()).expect("city written");
    let dataset = Dataset::load(dir.path()).expect("generated city loads");
    (Arc::new(dataset), city.applications)
}

pub async fn start(dataset: Arc<Dataset>, config: SimConfig) -> RunningSimulator {
    Simulator::start(dataset, config, "127.0.0.1:0".parse().expect("address"))
        .await
        .expect("simulator starts")
}

/// Client settings for tests: short timeouts, generous retries.
pub fn config(sim: &RunningSimulator) -> RegistriesConfig {
    let mut c = RegistryConfig::new(sim.base_url(), "dev-key");
    c.attempt_timeout_ms = 400;
    c.deadline_ms = 30_000;
    c.max_retries = 16;
    c.backoff_min_ms = 10;
    c.backoff_max_ms = 200;
    c.breaker_failures = 20;
    c.breaker_open_ms = 100;
    c.breaker_open_max_ms = 400;
    RegistriesConfig::uniform(c)
}

/// The rules' planner, remembering every read it asked for, by consent id.
#[derive(Debug, Clone)]
pub struct RecordingPlanner {
    pub policy: Arc<Policy>,
    pub schools: Arc<SchoolCatalogue>,
    pub planned: Arc<Mutex<BTreeMap<String, BTreeSet<EvidenceRead>>>>,
}

impl ReadPlanner for RecordingPlanner {
    fn plan(&self, app: &Application, bundle: &EvidenceBundle) -> Vec<EvidenceRead> {
        let reads = enrol_rules::plan_reads(app, bundle, &self.policy, &self.schools);
        self.planned
            .lock()
            .expect("lock")
            .entry(app.consent_id.to_string())
            .or_default()
            .extend(reads.iter().cloned());
        reads
    }
}

pub struct Harness {
    pub gatherer: Gatherer<RecordingPlanner>,
    pub planner: RecordingPlanner,
    pub log: Arc<AccessLog>,
}

pub async fn harness(config: &RegistriesConfig) -> Harness {
    let log = Arc::new(AccessLog::new());
    let registries = Registries::connect(config, log.clone()).expect("clients");
    let schools = registries.school_catalogue().await.expect("school catalogue");
    let planner = RecordingPlanner {
        policy: Arc::new(Policy::sample()),
        schools: Arc::new(schools),
        planned: Arc::default(),
    };
    let gatherer = Gatherer::new(registries, planner.clone(), GatherOptions::default());
    Harness { gatherer, planner, log }
}

/// The bundle as JSON without fetch times, for comparing runs.
pub fn without_fetch_times(bundle: &EvidenceBundle) -> serde_json::Value {
    fn strip(v: &mut serde_json::Value) {
        match v {
            serde_json::Value::Object(map) => {
                map.remove("fetched_at");
                map.values_mut().for_each(strip);
            }
            serde_json::Value::Array(items) => items.iter_mut().for_each(strip),
            _ => {}
        }
    }
    let mut v = serde_json::to_value(bundle).expect("bundle serialises");
    strip(&mut v);
    v
}

/// Everyone whose records the engine may read for `app`.
pub fn family(app: &Application) -> BTreeSet<NationalId> {
    std::iter::once(&app.child_id)
        .chain(std::iter::once(&app.applicant_id))
        .chain(&app.guardian_ids)
        .chain(&app.sibling_ids)
        .cloned()
        .collect()
}

/// Every access-log entry of every registry, with its registry's path segment.
pub fn all_entries(sim: &RunningSimulator) -> Vec<AccessLogEntry> {
    enrol_registry_sim::Registry::ALL
        .into_iter()
        .flat_map(|r| sim.access_log(r))
        .collect()
}

/// The request path the registries' interface gives a read (registries.md),
/// written independently of the adapters so the test checks them.
pub fn path_of(read: &EvidenceRead) -> String {
    match read {
        EvidenceRead::BirthCertificate { child_id } => format!("/birth/v1/certificates/{child_id}"),
        EvidenceRead::HouseholdRecord { person_id } => format!("/hukou/v1/persons/{person_id}"),
        EvidenceRead::Holdings { owner_id } => format!("/property/v1/holdings?owner_id={owner_id}"),
        EvidenceRead::UnitUses { unit_no } => format!("/enrolment-history/v1/units/{unit_no}"),
        EvidenceRead::Permit { holder_id } => format!("/residence/v1/permits/{holder_id}"),
        EvidenceRead::InsuranceMonths { person_id, from, to } => {
            format!("/social-insurance/v1/persons/{person_id}/months?from={from}&to={to}")
        }
        EvidenceRead::CurrentPlace { child_id } => format!("/enrolment-history/v1/children/{child_id}"),
        EvidenceRead::AddressText { text } => format!("/zones/v1/addresses?text={text}"),
        EvidenceRead::Building { building_key } => format!("/zones/v1/buildings/{building_key}"),
    }
}

/// A logged path with its query decoded, to compare with [`path_of`].
pub fn decoded(path: &str) -> String {
    let url = reqwest::Url::parse(&format!("http://registry{path}")).expect("logged path is a URL path");
    let mut out = url.path().to_owned();
    let pairs: Vec<String> = url.query_pairs().map(|(k, v)| format!("{k}={v}")).collect();
    if !pairs.is_empty() {
        out.push('?');
        out.push_str(&pairs.join("&"));
    }
    out
}
