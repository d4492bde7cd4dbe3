//! Two rounds of the admission season on one database: the generated city's
//! first-grade round (幼升小) and its junior-middle round (小升初), run one
//! after the other and both open at once. Each round's output is byte for
//! byte its single-round run on a database of its own: a stage enters only
//! through the round's policy file and the zone registry.

use std::path::{Path, PathBuf};

use enrol_domain::Application;
use enrol_evidence::{GatherOptions, RegistriesConfig, RegistryConfig};
use enrol_orchestrator::{Orchestrator, RegistryEvidence, RoundOutput, RoundSeed, SubmitOutcome, VerifyOptions};
use enrol_registry_sim::{Dataset, SimConfig, Simulator};
use enrol_store::testing::TestDb;

const PRIMARY: &str = include_str!("../../../fixtures/policies/2027-primary.toml");
const JUNIOR: &str = include_str!("../../../fixtures/policies/2027-junior.toml");
const SEED: &str = "two-rounds-seed";

struct Round<'a> {
    id: &'static str,
    policy: &'static str,
    applications: &'a [Application],
}

fn rounds(city: &enrol_city::City) -> [Round<'_>; 2] {
    [
        Round {
            id: "2027-primary",
            policy: PRIMARY,
            applications: &city.applications,
        },
        Round {
            id: "2027-junior",
            policy: JUNIOR,
            applications: &city.junior_applications,
        },
    ]
}

fn options() -> VerifyOptions {
    VerifyOptions {
        leave_reviews_unplaced: true,
        retry_delay: std::time::Duration::from_millis(200),
        ..Default::default()
    }
}

async fn open(o: &Orchestrator, round: &Round<'_>) {
    o.create_round(round.policy, RoundSeed::Whole(SEED.to_owned()), "test")
        .await
        .unwrap();
}

async fn submit(o: &Orchestrator, app: &Application) {
    assert!(matches!(
        o.submit_unread(app, "app:test").await.unwrap(),
        SubmitOutcome::Created(_)
    ));
}

async fn finish(o: &Orchestrator, round: &Round<'_>, source: &RegistryEvidence) -> RoundOutput {
    o.close(round.id, "test").await.unwrap();
    let report = o.verify(round.id, source, options(), "test", &|_| {}).await.unwrap();
    assert!(report.verified, "{report:?}");
    assert_eq!(
        report.eligible + report.review + report.ineligible,
        round.applications.len()
    );
    o.allocate(round.id, None, "test").await.unwrap();
    o.publish(round.id, "test").await.unwrap();
    o.output(round.id).await.unwrap()
}

async fn alone(o: &Orchestrator, round: &Round<'_>, source: &RegistryEvidence) -> RoundOutput {
    open(o, round).await;
    for app in round.applications {
        submit(o, app).await;
    }
    finish(o, round, source).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_primary_and_a_junior_round_share_a_database_and_each_equals_its_own_run() {
    let dir = Dir::new();
    let city = enrol_city::generate(&enrol_city::CityConfig::new(120, 19));
    city.write_to(dir.path()).unwrap();
    assert_eq!(city.junior_applications.len(), 60);
    let sim = Simulator::start(
        Dataset::load(dir.path()).unwrap(),
        SimConfig::default(),
        "127.0.0.1:0".parse().unwrap(),
    )
    .await
    .unwrap();
    let config = RegistriesConfig::uniform(RegistryConfig::new(sim.base_url(), "dev-key"));
    let source = RegistryEvidence::connect(&config, GatherOptions::default()).unwrap();
    let [primary, junior] = rounds(&city);

    // Each round alone, on a database of its own.
    let mut single = Vec::new();
    for round in [&primary, &junior] {
        let db = TestDb::sqlite().await.unwrap();
        single.push(alone(&Orchestrator::new(db.store.clone()), round, &source).await);
        db.cleanup().await.unwrap();
    }
    let [single_primary, single_junior] = [single.remove(0), single.remove(0)];
    assert!(
        single_junior.decisions_jsonl.contains("tier1"),
        "a feeder priority somewhere"
    );
    assert_ne!(single_primary.schools_csv, single_junior.schools_csv);

    for db in TestDb::all().await.unwrap() {
        // One after the other.
        let o = Orchestrator::new(db.store.clone());
        let first = alone(&o, &primary, &source).await;
        let second = alone(&o, &junior, &source).await;
        assert!(
            first == single_primary,
            "{}: the primary round after nothing",
            db.backend
        );
        assert!(
            second == single_junior,
            "{}: the junior round after the primary one",
            db.backend
        );
        db.cleanup().await.unwrap();
    }
    for db in TestDb::all().await.unwrap() {
        // Both open at once: applications interleaved, verified side by side.
        let o = Orchestrator::new(db.store.clone());
        open(&o, &primary).await;
        open(&o, &junior).await;
        let longest = primary.applications.len().max(junior.applications.len());
        for i in 0..longest {
            for round in [&primary, &junior] {
                if let Some(app) = round.applications.get(i) {
                    submit(&o, app).await;
                }
            }
        }
        let (p, j) = tokio::join!(finish(&o, &primary, &source), finish(&o, &junior, &source));
        assert!(
            p == single_primary,
            "{}: the primary round beside the junior one",
            db.backend
        );
        assert!(
            j == single_junior,
            "{}: the junior round beside the primary one",
            db.backend
        );
        db.cleanup().await.unwrap();
    }
    sim.shutdown().await.unwrap();
}

struct Dir(PathBuf);

impl Dir {
    fn new() -> Dir {
        let p = std::env::temp_dir().join(format!("enrol-stages-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&p).unwrap();
        Dir(p)
    }
    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
