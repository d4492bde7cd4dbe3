//! `enrol db backup` in the middle of a round (closed, verification running,
//! a registry down so some applications wait), `enrol db restore` into a
//! fresh database, the round finished on both: the outputs are byte-identical.
//! On SQLite always, on PostgreSQL when `TEST_DATABASE_URL` is set.

mod common;

use std::path::Path;
use std::process::Command;
use std::sync::Mutex;
use std::time::Duration;

use enrol_evidence::{GatherOptions, RegistriesConfig, RegistryConfig};
use enrol_orchestrator::{Orchestrator, RegistryEvidence, RoundOutput, RoundSeed, VerifyOptions};
use enrol_registry_sim::{Dataset, Registry, SimConfig, Simulator};
use enrol_store::sea_orm::{ConnectionTrait, Database};

const ROUND: &str = "2027-primary";

fn enrol(args: &[&str]) {
    let output = Command::new(env!("CARGO_BIN_EXE_enrol"))
        .args(args)
        .env_remove("DATABASE_URL")
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "enrol {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Two fresh databases (the original and the restore's target) on one backend.
struct Pair {
    original: String,
    restored: String,
    pg: Option<(String, [String; 2])>,
}

impl Pair {
    fn sqlite(dir: &Path) -> Pair {
        Pair {
            original: format!("sqlite://{}?mode=rwc", dir.join("original.db").display()),
            restored: dir.join("restored.db").display().to_string(),
            pg: None,
        }
    }

    /// Two new databases on the server of `base` (a backup holds a whole database).
    async fn postgres(base: &str) -> Pair {
        let admin = Database::connect(base).await.unwrap();
        let names = [0, 1].map(|i| format!("enrol_bk_{}_{i}", uuid::Uuid::new_v4().simple()));
        for name in &names {
            admin
                .execute_unprepared(&format!("CREATE DATABASE {name}"))
                .await
                .unwrap();
        }
        admin.close().await.unwrap();
        let mut url = reqwest::Url::parse(base).unwrap();
        let mut at = |name: &str| {
            url.set_path(&format!("/{name}"));
            url.set_query(None);
            url.to_string()
        };
        Pair {
            original: at(&names[0]),
            restored: at(&names[1]),
            pg: Some((base.to_owned(), names)),
        }
    }

    async fn drop_databases(self) {
        if let Some((base, names)) = self.pg {
            let admin = Database::connect(&base).await.unwrap();
            for name in names {
                admin
                    .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .await
                    .unwrap();
            }
            admin.close().await.unwrap();
        }
    }
}

/// Finishes the round with fresh registry clients (as a restarted server
/// would have: the outage's circuit breakers are not carried over).
async fn finish(orchestrator: &Orchestrator, registries: &str) -> RoundOutput {
    let evidence = RegistryEvidence::connect(
        &RegistriesConfig::uniform(RegistryConfig::new(registries, "dev-key")),
        GatherOptions::default(),
    )
    .unwrap();
    let options = VerifyOptions {
        leave_reviews_unplaced: true,
        passes: 10,
        retry_delay: Duration::from_millis(200),
        ..VerifyOptions::default()
    };
    let report = orchestrator
        .verify(ROUND, &evidence, options, "ops", &|_| {})
        .await
        .unwrap();
    assert!(report.verified, "{report:?}");
    orchestrator.allocate(ROUND, None, "ops").await.unwrap();
    orchestrator.publish(ROUND, "ops").await.unwrap();
    orchestrator.output(ROUND).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_taken_during_verification_restores_and_finishes_identically() {
    let sample = common::sample_dir();
    let sim = Simulator::start(
        Dataset::load(&sample).unwrap(),
        SimConfig::default(),
        "127.0.0.1:0".parse().unwrap(),
    )
    .await
    .unwrap();
    let mut client = RegistryConfig::new(sim.base_url(), "dev-key");
    (
        client.deadline_ms,
        client.max_retries,
        client.backoff_min_ms,
        client.backoff_max_ms,
    ) = (300, 2, 10, 40);
    let evidence = RegistryEvidence::connect(&RegistriesConfig::uniform(client), GatherOptions::default()).unwrap();
    let applications: Vec<enrol_domain::Application> = std::fs::read_to_string(sample.join("applications.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let policy = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/policies/2027-primary.toml"),
    )
    .unwrap();

    let dir = tempfile::tempdir().unwrap();
    let mut pairs = vec![("sqlite", Pair::sqlite(dir.path()))];
    if let Some(base) = enrol_store::testing::pg_url() {
        pairs.push(("postgres", Pair::postgres(&base).await));
    }
    for (backend, pair) in pairs {
        let backup = dir.path().join(format!("{backend}.backup"));
        let store = enrol_store::Store::open(&pair.original).await.unwrap();
        let original = Orchestrator::new(store.clone());
        original
            .create_round(&policy, RoundSeed::Whole("sample-2027".to_owned()), "ops")
            .await
            .unwrap();
        for app in &applications {
            original.submit_unread(app, "app:test").await.unwrap();
        }
        original.close(ROUND, "ops").await.unwrap();

        // Verification with the residence registry down: migrants' applications
        // stay pending. The backup is taken from inside the run, after the
        // fifth application is stored, while the round is still closed.
        sim.set_outage(Registry::Residence, true);
        let taken = Mutex::new(false);
        let take_backup = |p: enrol_orchestrator::VerifyProgress| {
            if p.pass == 1 && p.done == 5 {
                let url = pair.original.clone();
                let out = backup.to_str().unwrap().to_owned();
                enrol(&["db", "backup", "--database-url", &url, "--out", &out]);
                *taken.lock().unwrap() = true;
            }
        };
        let options = VerifyOptions {
            concurrency: 1,
            passes: 1,
            leave_reviews_unplaced: true,
            ..VerifyOptions::default()
        };
        let report = original
            .verify(ROUND, &evidence, options, "ops", &take_backup)
            .await
            .unwrap();
        assert!(*taken.lock().unwrap(), "{backend}: the backup was taken mid-run");
        assert!(report.pending > 0 && !report.verified, "{backend}: {report:?}");
        sim.set_outage(Registry::Residence, false);

        // A backup never overwrites; a restore goes into a fresh database only.
        let refused = Command::new(env!("CARGO_BIN_EXE_enrol"))
            .args(["db", "backup", "--database-url", &pair.original, "--out"])
            .arg(&backup)
            .output()
            .unwrap();
        assert!(!refused.status.success());
        enrol(&[
            "db",
            "restore",
            "--database-url",
            &pair.restored,
            backup.to_str().unwrap(),
        ]);
        let refused = Command::new(env!("CARGO_BIN_EXE_enrol"))
            .args(["db", "restore", "--database-url", &pair.restored])
            .arg(&backup)
            .output()
            .unwrap();
        assert!(!refused.status.success(), "{backend}: restored over a database");

        let restored_store = enrol_store::Store::open(&pair.restored).await.unwrap();
        let restored = Orchestrator::new(restored_store.clone());
        let touched = restored
            .applications(ROUND)
            .await
            .unwrap()
            .into_iter()
            .filter(|(_, state)| state.as_str() != "submitted")
            .count();
        assert_eq!(
            touched, 5,
            "{backend}: the backup holds the five applications verified before it"
        );
        assert_eq!(restored.round(ROUND).await.unwrap().state.as_str(), "closed");

        let expected = finish(&original, &sim.base_url()).await;
        let got = finish(&restored, &sim.base_url()).await;
        assert_eq!(got.decisions_jsonl, expected.decisions_jsonl, "{backend}");
        assert_eq!(got.assignments_csv, expected.assignments_csv, "{backend}");
        assert_eq!(got.schools_csv, expected.schools_csv, "{backend}");
        assert_eq!(got.instance_json, expected.instance_json, "{backend}");
        assert!(got.assignments_csv.lines().count() > 30, "{backend}: a real round");

        store.close().await.unwrap();
        restored_store.close().await.unwrap();
        pair.drop_databases().await;
    }
    sim.shutdown().await.unwrap();
}
