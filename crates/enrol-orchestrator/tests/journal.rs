//! The access journal (查询留痕 before each request), on SQLite and (when
//! TEST_DATABASE_URL is set) PostgreSQL: a read whose result is never stored
//! is on record all the same, with the outcome `unknown`; a read whose result
//! is stored has exactly one record, with its real outcome.

use std::sync::Arc;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use chrono::Utc;
use enrol_domain::{Application, BirthCertificate, EvidenceBundle, Fetched, SchoolCatalogue};
use enrol_evidence::{GatherOptions, RegistriesConfig, RegistryConfig};
use enrol_orchestrator::{
    EvidenceSource, Gathered, Orchestrator, ReadError, Recorded, RegistryEvidence, RoundContext, RoundSeed,
    VerifyOptions,
};
use enrol_registry_sim::{Dataset, Registry, RunningSimulator, SimConfig, Simulator};
use enrol_store::sea_orm::sea_query::Expr;
use enrol_store::sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use enrol_store::testing::TestDb;
use enrol_store::{application, registry_access};

const POLICY: &str = include_str!("../../../fixtures/policies/2027-primary.toml");
const ROUND: &str = "2027-primary";

/// Gathers through the registries, but the first gathering, once its reads
/// are made, never returns: its result is never stored, as when the process
/// dies between the reads and the transaction that would store them.
#[derive(Debug)]
struct Stalling {
    inner: RegistryEvidence,
    /// The stalled application and the number of reads its gathering made.
    stalled: Mutex<Option<(String, usize)>>,
}

#[async_trait::async_trait]
impl EvidenceSource for Stalling {
    async fn school_catalogue(&self) -> Recorded<Result<SchoolCatalogue, ReadError>> {
        self.inner.school_catalogue().await
    }

    async fn gather(&self, app: &Application, start: EvidenceBundle, round: &RoundContext) -> Gathered {
        let gathered = self.inner.gather(app, start, round).await;
        let first = {
            let mut stalled = self.stalled.lock().unwrap();
            let first = stalled.is_none();
            if first {
                *stalled = Some((app.application_id.to_string(), gathered.accesses.len()));
            }
            first
        };
        if first {
            std::future::pending::<()>().await;
        }
        gathered
    }

    async fn birth_certificate(
        &self,
        app: &Application,
        deadline: Duration,
    ) -> Recorded<Option<Fetched<BirthCertificate>>> {
        self.inner.birth_certificate(app, deadline).await
    }
}

fn reads_seen(sim: &RunningSimulator) -> usize {
    Registry::ALL.into_iter().map(|r| sim.access_log(r).len()).sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_whose_result_is_never_stored_is_on_record_and_a_stored_one_once() {
    let dir = tempfile::tempdir().unwrap();
    let city = enrol_city::generate(&enrol_city::CityConfig::new(12, 2027));
    city.write_to(dir.path()).unwrap();
    let sim = Simulator::start(
        Dataset::load(dir.path()).unwrap(),
        SimConfig::default(),
        "127.0.0.1:0".parse().unwrap(),
    )
    .await
    .unwrap();
    let config = RegistriesConfig::uniform(RegistryConfig::new(sim.base_url(), "dev-key"));
    for db in TestDb::all().await.unwrap() {
        sim.clear_access_logs();
        let o = Orchestrator::new(db.store.clone());
        o.create_round(POLICY, RoundSeed::Whole("journal".into()), "manager")
            .await
            .unwrap();
        for app in &city.applications {
            o.submit_unread(app, "app:test").await.unwrap();
        }
        o.close(ROUND, "manager").await.unwrap();

        let source = Arc::new(Stalling {
            inner: RegistryEvidence::connect(&config, GatherOptions::default()).unwrap(),
            stalled: Mutex::new(None),
        });
        let options = VerifyOptions {
            concurrency: 4,
            passes: 1,
            leave_reviews_unplaced: true,
            ..Default::default()
        };
        let verifying = {
            let (o, source) = (o.clone(), source.clone());
            tokio::spawn(async move { o.verify(ROUND, &*source, options, "officer-1", &|_| {}).await })
        };
        // Every other application stored, the stalled one's reads made.
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            let report = o.counts(ROUND).await.unwrap();
            if report.pending == 1 && source.stalled.lock().unwrap().is_some() {
                break;
            }
            assert!(Instant::now() < deadline, "verification stalled: {report:?}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        // The "process" dies: the stalled gathering is dropped, its result never stored.
        verifying.abort();
        assert!(verifying.await.unwrap_err().is_cancelled());
        let (stalled, stalled_reads) = source.stalled.lock().unwrap().clone().unwrap();
        assert!(stalled_reads > 0);

        let rows = registry_access::Entity::find()
            .all(db.store.connection())
            .await
            .unwrap();
        assert_eq!(rows.len(), reads_seen(&sim), "one record per read the registries saw");
        let unknown: Vec<_> = rows.iter().filter(|r| r.outcome == "unknown").collect();
        assert_eq!(
            unknown.len(),
            stalled_reads,
            "the stalled gathering's reads are on record"
        );
        assert!(
            unknown
                .iter()
                .all(|r| r.application_id.as_deref() == Some(stalled.as_str())
                    && r.actor == "officer-1"
                    && r.round_id == ROUND
                    && r.status.is_none()
                    && r.latency_us == 0
                    && r.consent_id.is_some()
                    && r.purpose == "school-enrolment")
        );
        assert!(
            rows.iter()
                .filter(|r| r.outcome != "unknown")
                .all(|r| r.outcome == "answered" && r.status.is_some() && r.latency_us > 0),
            "every stored read settled once, with its outcome"
        );

        // Verified to the end by another run once the dead worker's lease has
        // run out (expired here rather than waited for): the stalled
        // application is read again and those reads are settled; the first
        // ones stay unknown.
        application::Entity::update_many()
            .col_expr(
                application::Column::LeaseUntil,
                Expr::value(Utc::now() - chrono::Duration::seconds(1)),
            )
            .filter(application::Column::Id.eq(stalled.as_str()))
            .exec(db.store.connection())
            .await
            .unwrap();
        let report = o
            .verify(ROUND, &source.inner, options, "officer-2", &|_| {})
            .await
            .unwrap();
        assert!(report.verified, "{report:?}");
        let rows = registry_access::Entity::find()
            .all(db.store.connection())
            .await
            .unwrap();
        assert_eq!(rows.len(), reads_seen(&sim), "one record per read the registries saw");
        assert_eq!(rows.iter().filter(|r| r.outcome == "unknown").count(), stalled_reads);
        assert!(rows.iter().any(|r| r.actor == "officer-2"
            && r.application_id.as_deref() == Some(stalled.as_str())
            && r.outcome == "answered"));
        // The access viewer shows an unknown record as such.
        let person = unknown.iter().find_map(|r| r.person_id.as_deref()).unwrap();
        let person = enrol_domain::NationalId::parse(person).unwrap();
        let seen = o.person_accesses(ROUND, &person, None, 1000, "赵科长").await.unwrap();
        assert!(seen.iter().any(|a| a.outcome == "unknown" && a.status.is_none()));
        db.cleanup().await.unwrap();
    }
    sim.shutdown().await.unwrap();
}
