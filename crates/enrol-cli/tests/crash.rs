//! A real `enrol demo` process killed with SIGKILL at each state of the
//! round, then started again on the same database: the round must finish
//! with output byte-identical to an uninterrupted run, with no application
//! lost or duplicated and no seat given twice. On SQLite, and on PostgreSQL
//! when TEST_DATABASE_URL is set.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use enrol_store::sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use enrol_store::testing::TestDb;
use enrol_store::{application, decision, round};

const FAMILIES: &str = "40";
const OUTPUT_FILES: [&str; 5] = [
    "decisions.jsonl",
    "assignments.csv",
    "schools.csv",
    "instance.json",
    "report.html",
];

fn demo(database_url: &str, out: &Path, faults: &Path, pause_ms: u64) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_enrol"));
    // A killed demo cannot clean its scratch folder: keep it inside the test's.
    cmd.env("TMPDIR", out.parent().expect("out lies in the test's folder"));
    cmd.args([
        "demo",
        "--families",
        FAMILIES,
        "--seed",
        "crash-test-seed",
        "--database-url",
        database_url,
    ])
    .arg("--out")
    .arg(out)
    .arg("--faults")
    .arg(faults)
    .args(["--step-pause-ms", &pause_ms.to_string()])
    // Few at once, so that verification lasts long enough to be killed in
    // the middle: all 40 at once are decided in one or two commits.
    .args(["--applications-in-flight", "2"])
    .stdout(Stdio::null())
    .stderr(Stdio::piped());
    cmd
}

fn run_to_end(cmd: &mut Command) {
    let output = cmd.output().expect("the demo starts");
    assert!(
        output.status.success(),
        "demo failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Where a kill happens: a round state, and for `closed` partway through verification.
#[derive(Debug, Clone, Copy)]
enum KillPoint {
    Open,
    MidVerification,
    Verified,
    Allocated,
    Published,
}

struct Observed {
    state: Option<String>,
    applications: u64,
    decisions: u64,
}

async fn observe(url: &str) -> Observed {
    let Ok(store) = enrol_store::Store::open(url).await else {
        return Observed {
            state: None,
            applications: 0,
            decisions: 0,
        };
    };
    let conn = store.connection();
    let state = round::Entity::find().one(conn).await.ok().flatten().map(|r| r.state);
    let applications = application::Entity::find().count(conn).await.unwrap_or(0);
    let decisions = decision::Entity::find()
        .filter(decision::Column::CurrentFor.is_not_null())
        .count(conn)
        .await
        .unwrap_or(0);
    let _ = store.close().await;
    Observed {
        state,
        applications,
        decisions,
    }
}

fn reached(point: KillPoint, seen: &Observed) -> bool {
    let state = seen.state.as_deref();
    match point {
        KillPoint::Open => state == Some("open"),
        KillPoint::MidVerification => state == Some("closed") && seen.decisions > 0,
        KillPoint::Verified => state == Some("verified"),
        KillPoint::Allocated => state == Some("allocated"),
        KillPoint::Published => state == Some("published"),
    }
}

async fn kill_when(child: &mut Child, url: &str, point: KillPoint) {
    let started = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            let mut stderr = String::new();
            std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut stderr).unwrap();
            panic!("the demo ended ({status}) before reaching {point:?}: {stderr}");
        }
        if reached(point, &observe(url).await) {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(120), "never reached {point:?}");
        tokio::time::sleep(Duration::from_millis(15)).await;
    }
    child.kill().expect("SIGKILL");
    child.wait().unwrap();
}

fn read_output(dir: &Path) -> Vec<(String, Vec<u8>)> {
    OUTPUT_FILES
        .iter()
        .map(|f| (f.to_string(), std::fs::read(dir.join(f)).unwrap_or_default()))
        .collect()
}

async fn crash_and_resume_on(base: fn() -> Option<String>) {
    let work = std::env::temp_dir().join(format!("enrol-crash-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&work).unwrap();
    // Latency makes verification take long enough to be killed in the middle.
    let faults = work.join("faults.toml");
    std::fs::write(&faults, "[all]\nlatency_ms = 15\njitter_ms = 5\n").unwrap();

    let fresh_url = |name: &str| -> (String, Option<TestDbHandle>) {
        match base() {
            None => (
                format!("sqlite://{}?mode=rwc", work.join(format!("{name}.db")).display()),
                None,
            ),
            Some(_) => {
                let db = futures::executor::block_on(TestDb::postgres(&base().unwrap())).unwrap();
                (db.url.clone(), Some(TestDbHandle(db)))
            }
        }
    };

    let (reference_url, reference_db) = fresh_url("reference");
    let reference_out = work.join("reference");
    run_to_end(&mut demo(&reference_url, &reference_out, &faults, 0));
    let reference = read_output(&reference_out);
    assert!(reference.iter().all(|(_, bytes)| !bytes.is_empty()));

    for point in [
        KillPoint::Open,
        KillPoint::MidVerification,
        KillPoint::Verified,
        KillPoint::Allocated,
        KillPoint::Published,
    ] {
        let (url, db) = fresh_url(&format!("{point:?}"));
        let out = work.join(format!("{point:?}"));
        let pause = if matches!(point, KillPoint::MidVerification) {
            0
        } else {
            2_000
        };
        let mut child = demo(&url, &out, &faults, pause).spawn().unwrap();
        kill_when(&mut child, &url, point).await;
        run_to_end(&mut demo(&url, &out, &faults, 0));
        let seen = observe(&url).await;
        assert_eq!(seen.state.as_deref(), Some("published"), "{point:?}");
        assert_eq!(
            seen.applications.to_string(),
            FAMILIES,
            "{point:?}: applications lost or duplicated"
        );
        for ((name, expected), (_, got)) in reference.iter().zip(read_output(&out)) {
            assert!(expected == &got, "{point:?}: {name} differs from the uninterrupted run");
        }
        if let Some(db) = db {
            db.0.cleanup().await.unwrap();
        }
    }
    if let Some(db) = reference_db {
        db.0.cleanup().await.unwrap();
    }
    let _ = std::fs::remove_dir_all(&work);
}

struct TestDbHandle(TestDb);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_at_each_state_the_round_resumes_to_the_same_output_on_sqlite() {
    crash_and_resume_on(|| None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_at_each_state_the_round_resumes_to_the_same_output_on_postgres() {
    if enrol_store::testing::pg_url().is_none() {
        eprintln!("TEST_DATABASE_URL is not set: the PostgreSQL crash test does not run");
        return;
    }
    crash_and_resume_on(enrol_store::testing::pg_url).await;
}
