//! Race tests on PostgreSQL: two (or more) transactions held at a barrier,
//! for each invariant of docs/orchestrator.md ("Concurrency").
//!
//! The barrier is the database itself: the test holds an `EXCLUSIVE` lock on
//! a table the racing operations write (from its own connection), waits until
//! PostgreSQL shows the racers waiting for locks (`pg_stat_activity`, by this
//! test's `application_name`), then lets go. Each racer has by then read
//! whatever it reads before that write, which is exactly the window the old
//! load-check-write code left open. Each test says what the code before the
//! row locks did in that window.
//!
//! Skipped (with a message) when TEST_DATABASE_URL is not set: SQLite's
//! IMMEDIATE write transactions already run one at a time.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use enrol_domain::{Application, BirthCertificate, EvidenceBundle, Fetched, OfficerFacts, SchoolCatalogue};
use enrol_evidence::{GatherOptions, RegistriesConfig, RegistryConfig};
use enrol_orchestrator::{
    ApplicationState, EvidenceSource, Gathered, Orchestrator, ReadError, Recorded, RegistryEvidence, ReviewResolution,
    RoundContext, RoundError, RoundSeed, RoundState, SubmitOutcome, VerifyOptions,
};
use enrol_registry_sim::{Dataset, RunningSimulator, SimConfig, Simulator};
use enrol_store::sea_orm::{ConnectionTrait, Database, DatabaseTransaction, DbBackend, Statement, TransactionTrait};
use enrol_store::testing::{TestDb, pg_url};

const POLICY: &str = include_str!("../../../fixtures/policies/2027-primary.toml");
const ROUND: &str = "2027-primary";

/// A round on PostgreSQL over a generated city and the real simulator.
struct Race {
    db: TestDb,
    o: Orchestrator,
    sim: RunningSimulator,
    source: RegistryEvidence,
    city: enrol_city::City,
    /// This test's connections' `application_name`.
    name: String,
    _dir: tempdir::Dir,
}

impl Race {
    /// `None` (and a note) without PostgreSQL.
    async fn start(families: usize, seed: u64) -> Option<Race> {
        let Some(base) = pg_url() else {
            eprintln!("TEST_DATABASE_URL is not set: race tests need PostgreSQL, skipped");
            return None;
        };
        let name = format!("enrol_race_{}", uuid::Uuid::new_v4().simple());
        let sep = if base.contains('?') { '&' } else { '?' };
        let db = TestDb::postgres(&format!("{base}{sep}application_name={name}"))
            .await
            .unwrap();
        let dir = tempdir::Dir::new();
        let city = enrol_city::generate(&enrol_city::CityConfig::new(families, seed));
        city.write_to(dir.path()).unwrap();
        let sim = Simulator::start(
            Dataset::load(dir.path()).unwrap(),
            SimConfig::default(),
            "127.0.0.1:0".parse().unwrap(),
        )
        .await
        .unwrap();
        let config = RegistriesConfig::uniform(RegistryConfig::new(sim.base_url(), "dev-key"));
        let source = RegistryEvidence::connect(&config, GatherOptions::default()).unwrap();
        let o = Orchestrator::new(db.store.clone());
        o.create_round(POLICY, RoundSeed::Whole("race".into()), "manager")
            .await
            .unwrap();
        Some(Race {
            db,
            o,
            sim,
            source,
            city,
            name,
            _dir: dir,
        })
    }

    async fn submit_all(&self) {
        for app in &self.city.applications {
            self.o.submit_unread(app, "app:test").await.unwrap();
        }
    }

    /// Submitted, closed and verified, reviews left open.
    async fn verified_with_reviews_open(&self) {
        self.submit_all().await;
        self.o.close(ROUND, "manager").await.unwrap();
        let report = self
            .o
            .verify(ROUND, &self.source, options(false), "manager", &|_| {})
            .await
            .unwrap();
        assert_eq!(report.pending, 0, "{report:?}");
    }

    /// Through allocation, reviews left unplaced.
    async fn allocated(&self) {
        self.verified_with_reviews_open().await;
        if self.o.round(ROUND).await.unwrap().state == RoundState::Closed {
            self.o.finish_verification(ROUND, "manager", true).await.unwrap();
        }
        self.o.allocate(ROUND, None, "manager").await.unwrap();
    }

    /// Through publication.
    async fn published(&self) {
        self.allocated().await;
        self.o.publish(ROUND, "manager").await.unwrap();
    }

    /// Holds an `EXCLUSIVE` lock on `table` (reads pass, writes wait) until
    /// the transaction is dropped or committed.
    async fn hold(&self, table: &str) -> DatabaseTransaction {
        let url = self.db.url.replace(&self.name, &format!("{}_holder", self.name));
        let conn = Database::connect(&url).await.unwrap();
        let tx = conn.begin().await.unwrap();
        tx.execute_unprepared(&format!("LOCK TABLE {table} IN EXCLUSIVE MODE"))
            .await
            .unwrap();
        tx
    }

    /// How many of this test's connections wait for a lock.
    async fn waiting(&self) -> i64 {
        let conn = self.db.store.connection();
        let row = conn
            .query_one_raw(Statement::from_sql_and_values(
                DbBackend::Postgres,
                "SELECT count(*) AS n FROM pg_stat_activity WHERE application_name = $1 AND wait_event_type = 'Lock'",
                [self.name.clone().into()],
            ))
            .await
            .unwrap()
            .unwrap();
        row.try_get::<i64>("", "n").unwrap()
    }

    /// Waits until `n` of this test's connections wait for a lock, or `done` holds.
    async fn until_waiting(&self, n: i64, done: impl Fn() -> bool) {
        for _ in 0..600 {
            if self.waiting().await >= n || done() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("{n} racers never came to wait for the lock");
    }

    async fn audit(&self) -> Vec<enrol_store::audit_log::Model> {
        enrol_store::audit_log_of(self.db.store.connection(), ROUND)
            .await
            .unwrap()
    }

    async fn finish(self) {
        self.sim.shutdown().await.unwrap();
        self.db.cleanup().await.unwrap();
    }
}

fn options(leave_reviews_unplaced: bool) -> VerifyOptions {
    VerifyOptions {
        leave_reviews_unplaced,
        retry_delay: Duration::from_millis(200),
        ..Default::default()
    }
}

/// Exclusion vs verification: an application excluded while verification
/// has read it as undecided and is about to store its decision. The old
/// `record` loaded the row, checked `submitted`, then updated by primary
/// key: the exclusion committed in between and was overwritten with
/// `decided`, and the excluded child was seated. Now the decision holds the
/// application's row lock: the exclusion waits, then excludes the decided
/// application.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn no_excluded_child_is_seated_when_exclusion_races_verification() {
    let Some(race) = Race::start(8, 21).await else { return };
    let race = Arc::new(race);
    race.submit_all().await;
    race.o.close(ROUND, "manager").await.unwrap();

    let held = race.hold("evidence_snapshots").await;
    let verifying = tokio::spawn({
        let race = race.clone();
        async move {
            race.o
                .verify(ROUND, &race.source, options(true), "manager", &|_| {})
                .await
        }
    });
    // A decision is on its way to storage: it has read its application.
    race.until_waiting(1, || false).await;
    let exclusions: Vec<_> = race
        .city
        .applications
        .iter()
        .map(|app| {
            let (race, id) = (race.clone(), app.application_id.to_string());
            tokio::spawn(async move { race.o.exclude(&id, "duplicate record", "王老师").await })
        })
        .collect();
    // Every exclusion but the one of the application being decided commits;
    // that one waits for the decision's row lock (or, before the row locks,
    // commits too).
    let n = exclusions.len();
    let finished = || exclusions.iter().filter(|e| e.is_finished()).count();
    for _ in 0..600 {
        if finished() == n || (finished() == n - 1 && race.waiting().await >= 2) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    drop(held);
    for exclusion in exclusions {
        let view = exclusion.await.unwrap().unwrap();
        assert_eq!(view.state, ApplicationState::Excluded);
    }
    verifying.await.unwrap().unwrap();
    for (app, state) in race.o.applications(ROUND).await.unwrap() {
        assert_eq!(state, ApplicationState::Excluded, "{}", app.application_id);
    }
    race.o.finish_verification(ROUND, "manager", true).await.ok();
    race.o.allocate(ROUND, None, "manager").await.unwrap();
    let output = race.o.output(ROUND).await.unwrap();
    assert!(
        output
            .assignments_csv
            .lines()
            .skip(1)
            .all(|l| l.split(',').nth(3) == Some("")),
        "an excluded child was seated:\n{}",
        output.assignments_csv
    );
    Arc::into_inner(race).unwrap().finish().await;
}

/// Accept vs reject of the same review: the reject has the application's
/// row and is about to write its audit entry; the accept has read the
/// review as open. The old code checked "in review" before its transaction
/// and updated by primary key, so both resolutions landed (the accept
/// reopened a rejected application). Now the accept re-checks under the
/// row lock and gets a conflict naming the state now.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_review_is_resolved_exactly_once() {
    let Some(race) = Race::start(80, 5).await else { return };
    let race = Arc::new(race);
    race.verified_with_reviews_open().await;
    let queue = race.o.review_queue(ROUND).await.unwrap();
    let id = queue.first().expect("the city has reviews").0.application_id.clone();

    let held = race.hold("audit_log").await;
    let reject = tokio::spawn({
        let (race, id) = (race.clone(), id.clone());
        async move {
            let reason = "无法核实 cannot verify".to_owned();
            race.o
                .resolve_review(&id, ReviewResolution::Reject { reason }, "王老师", &race.source)
                .await
        }
    });
    race.until_waiting(1, || false).await;
    let accept = tokio::spawn({
        let (race, id) = (race.clone(), id.clone());
        async move {
            let resolution = ReviewResolution::Accept {
                facts: OfficerFacts::default(),
                note: "checked".into(),
            };
            race.o.resolve_review(&id, resolution, "李老师", &race.source).await
        }
    });
    race.until_waiting(2, || accept.is_finished()).await;
    drop(held);
    let rejected = reject.await.unwrap().unwrap();
    assert_eq!(rejected.state, ApplicationState::Rejected);
    match accept.await.unwrap() {
        Err(RoundError::ApplicationState { state, .. }) => assert_eq!(state, "rejected"),
        other => panic!("the accept landed on a rejected application: {other:?}"),
    }
    let resolutions: Vec<_> = race
        .audit()
        .await
        .into_iter()
        .filter(|e| e.subject.as_deref() == Some(id.as_str()) && e.action.starts_with("review_"))
        .map(|e| e.action)
        .collect();
    assert_eq!(resolutions, ["review_rejected"]);
    let (_, view) = race.o.application(&id).await.unwrap();
    assert_eq!(view.state, ApplicationState::Rejected);
    Arc::into_inner(race).unwrap().finish().await;
}

/// An evidence source whose gathering waits at a gate: a slow registry.
#[derive(Debug)]
struct Gated {
    inner: RegistryEvidence,
    entered: tokio::sync::Notify,
    open: tokio::sync::Semaphore,
}

#[async_trait::async_trait]
impl EvidenceSource for Gated {
    async fn school_catalogue(&self) -> Recorded<Result<SchoolCatalogue, ReadError>> {
        self.inner.school_catalogue().await
    }

    async fn gather(&self, app: &Application, start: EvidenceBundle, round: &RoundContext) -> Gathered {
        self.entered.notify_one();
        let _pass = self.open.acquire().await.unwrap();
        self.inner.gather(app, start, round).await
    }

    async fn birth_certificate(
        &self,
        app: &Application,
        deadline: std::time::Duration,
    ) -> Recorded<Option<Fetched<BirthCertificate>>> {
        self.inner.birth_certificate(app, deadline).await
    }
}

/// Accept vs allocation: a review accepted while its registry reads are slow,
/// and meanwhile the round is verified and allocated. The old code checked
/// the round before the reads and wrote after them, so the acceptance landed
/// after allocation (an `accepted` application the allocation never saw).
/// Now it re-checks the round under its row lock and is refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn no_review_is_accepted_after_allocation() {
    let Some(race) = Race::start(80, 5).await else { return };
    let race = Arc::new(race);
    race.verified_with_reviews_open().await;
    let queue = race.o.review_queue(ROUND).await.unwrap();
    let id = queue.first().expect("the city has reviews").0.application_id.clone();
    let gated = Arc::new(Gated {
        inner: race.source.clone(),
        entered: tokio::sync::Notify::new(),
        open: tokio::sync::Semaphore::new(0),
    });
    let accept = tokio::spawn({
        let (race, id, gated) = (race.clone(), id.clone(), gated.clone());
        async move {
            let resolution = ReviewResolution::Accept {
                facts: OfficerFacts::default(),
                note: "checked".into(),
            };
            race.o.resolve_review(&id, resolution, "王老师", &*gated).await
        }
    });
    gated.entered.notified().await;
    race.o.finish_verification(ROUND, "manager", true).await.unwrap();
    race.o.allocate(ROUND, None, "manager").await.unwrap();
    gated.open.add_permits(1);
    match accept.await.unwrap() {
        Err(RoundError::WrongState { state, .. }) => assert_eq!(state, "allocated"),
        other => panic!("a review was accepted after allocation: {other:?}"),
    }
    let (_, view) = race.o.application(&id).await.unwrap();
    assert_eq!(view.state, ApplicationState::Decided);
    let log = race.audit().await;
    let allocated = log.iter().position(|e| e.action == "round_allocated").unwrap();
    assert!(
        log[allocated..].iter().all(|e| !e.action.starts_with("review_")),
        "nothing is resolved after allocation"
    );
    Arc::into_inner(race).unwrap().finish().await;
}

/// Submission vs close: a submission that has read the round as open and
/// is about to insert. The old code read the round without a lock, so close
/// committed and the application was stored after it (the list "fixed at
/// close" grew). Now the submission holds the round row shared: close waits
/// for it, and what close fixed is what the round keeps.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn nothing_is_submitted_after_close() {
    let Some(race) = Race::start(6, 8).await else { return };
    let race = Arc::new(race);
    let (late, early) = race.city.applications.split_last().unwrap();
    for app in early {
        race.o.submit_unread(app, "app:test").await.unwrap();
    }
    let held = race.hold("applications").await;
    let submit = tokio::spawn({
        let (race, late) = (race.clone(), late.clone());
        async move { race.o.submit_unread(&late, "app:test").await }
    });
    race.until_waiting(1, || false).await;
    let close = tokio::spawn({
        let race = race.clone();
        async move {
            let closed = race.o.close(ROUND, "manager").await;
            (closed, race.o.applications(ROUND).await.unwrap())
        }
    });
    race.until_waiting(2, || close.is_finished()).await;
    drop(held);
    let submitted = submit.await.unwrap();
    let (closed, at_close) = close.await.unwrap();
    closed.unwrap();
    assert!(matches!(submitted, Ok(SubmitOutcome::Created(_))), "{submitted:?}");
    assert_eq!(
        race.o.applications(ROUND).await.unwrap(),
        at_close,
        "an application was stored after close"
    );
    let actions: Vec<String> = race.audit().await.into_iter().map(|e| e.action).collect();
    assert_eq!(actions.last().map(String::as_str), Some("round_closed"), "{actions:?}");
    Arc::into_inner(race).unwrap().finish().await;
}

/// Withdrawal vs close: as above, a withdrawal that has read the round as
/// open and is about to write. The old code let it commit after close; now
/// close waits for it.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn nothing_is_withdrawn_after_close() {
    let Some(race) = Race::start(6, 9).await else { return };
    let race = Arc::new(race);
    race.submit_all().await;
    let id = race.city.applications[0].application_id.to_string();
    let held = race.hold("applications").await;
    let withdraw = tokio::spawn({
        let (race, id) = (race.clone(), id.clone());
        async move { race.o.withdraw(&id, "app:test").await }
    });
    race.until_waiting(1, || false).await;
    let close = tokio::spawn({
        let race = race.clone();
        async move {
            let closed = race.o.close(ROUND, "manager").await;
            (closed, race.o.applications(ROUND).await.unwrap())
        }
    });
    race.until_waiting(2, || close.is_finished()).await;
    drop(held);
    let withdrawn = withdraw.await.unwrap();
    let (closed, at_close) = close.await.unwrap();
    closed.unwrap();
    assert_eq!(withdrawn.unwrap().state, ApplicationState::Withdrawn);
    assert_eq!(
        race.o.applications(ROUND).await.unwrap(),
        at_close,
        "an application changed after close"
    );
    let actions: Vec<String> = race.audit().await.into_iter().map(|e| e.action).collect();
    assert_eq!(actions.last().map(String::as_str), Some("round_closed"), "{actions:?}");
    Arc::into_inner(race).unwrap().finish().await;
}

/// Concurrent corrections into a school's last free seat. The old code
/// counted the school's seats, then updated: every correction counted one
/// free seat and all of them took it (the issue saw 41 children at a school
/// of 39). Now each holds the school's row while it counts and takes a seat:
/// exactly one gets it, the others are refused, never over capacity.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_corrections_never_overfill_a_school() {
    let Some(race) = Race::start(80, 5).await else { return };
    let race = Arc::new(race);
    race.published().await;
    let output = race.o.output(ROUND).await.unwrap();
    // The public school with the most seats; leave it one free seat.
    let (school, capacity) = output
        .schools_csv
        .lines()
        .skip(1)
        .map(|l| l.split(',').map(str::to_owned).collect::<Vec<_>>())
        .filter(|f| f[1] == "public")
        .map(|f| (f[0].clone(), f[2].parse::<usize>().unwrap()))
        .max_by_key(|(_, c)| *c)
        .unwrap();
    let rows: Vec<Vec<String>> = output
        .assignments_csv
        .lines()
        .skip(1)
        .map(|l| l.split(',').map(str::to_owned).collect())
        .collect();
    let seated_here = |rows: &[Vec<String>]| rows.iter().filter(|f| f[3] == school).count();
    let mut here: Vec<String> = rows.iter().filter(|f| f[3] == school).map(|f| f[0].clone()).collect();
    let mut others: Vec<String> = rows
        .iter()
        .filter(|f| f[2] == "eligible" && f[3] != school)
        .map(|f| f[0].clone())
        .collect();
    assert!(seated_here(&rows) <= capacity);
    while here.len() >= capacity {
        let id = here.pop().unwrap();
        race.o.correct_seat(&id, None, "make room", "manager").await.unwrap();
    }
    while here.len() + 1 < capacity {
        let id = others.pop().expect("enough eligible children");
        race.o
            .correct_seat(&id, Some(&school), "fill", "manager")
            .await
            .unwrap();
        here.push(id);
    }
    let racers: Vec<String> = others.iter().rev().take(4).cloned().collect();
    assert!(racers.len() >= 2, "at least two children race for the seat");

    let held = race.hold("audit_log").await;
    let corrections: Vec<_> = racers
        .iter()
        .map(|id| {
            let (race, id, school) = (race.clone(), id.clone(), school.clone());
            tokio::spawn(async move { race.o.correct_seat(&id, Some(&school), "last seat", "manager").await })
        })
        .collect();
    race.until_waiting(racers.len() as i64, || false).await;
    drop(held);
    let mut won = 0;
    for correction in corrections {
        match correction.await.unwrap() {
            Ok(_) => won += 1,
            Err(RoundError::Correction(why)) => assert!(why.contains("no free seat"), "{why}"),
            Err(other) => panic!("{other}"),
        }
    }
    assert_eq!(won, 1, "exactly one correction takes the last seat");
    let output = race.o.output(ROUND).await.unwrap();
    let rows: Vec<Vec<String>> = output
        .assignments_csv
        .lines()
        .skip(1)
        .map(|l| l.split(',').map(str::to_owned).collect())
        .collect();
    assert_eq!(seated_here(&rows), capacity, "full, never over");
    Arc::into_inner(race).unwrap().finish().await;
}

/// Concurrent publish: the old code read the round as allocated in both
/// transactions and both published (two `round_published` entries). Now the
/// second waits for the round row, then finds it published.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_round_is_published_once() {
    let Some(race) = Race::start(8, 13).await else { return };
    let race = Arc::new(race);
    race.allocated().await;
    let held = race.hold("audit_log").await;
    let publishers: Vec<_> = ["manager", "deputy"]
        .into_iter()
        .map(|who| {
            let race = race.clone();
            tokio::spawn(async move { race.o.publish(ROUND, who).await })
        })
        .collect();
    race.until_waiting(2, || false).await;
    drop(held);
    let mut published = 0;
    for publisher in publishers {
        match publisher.await.unwrap() {
            Ok(info) => {
                assert_eq!(info.state, RoundState::Published);
                published += 1;
            }
            Err(RoundError::WrongState { state, .. }) => assert_eq!(state, "published"),
            Err(other) => panic!("{other}"),
        }
    }
    assert_eq!(published, 1);
    let entries = race
        .audit()
        .await
        .into_iter()
        .filter(|e| e.action == "round_published")
        .count();
    assert_eq!(entries, 1, "one publish entry");
    let statuses = race.o.applications(ROUND).await.unwrap();
    assert!(
        statuses
            .iter()
            .all(|(_, s)| !matches!(s, ApplicationState::Decided | ApplicationState::Accepted)),
        "every application placed or unplaced"
    );
    Arc::into_inner(race).unwrap().finish().await;
}

mod tempdir {
    use super::*;

    pub struct Dir(PathBuf);
    impl Dir {
        pub fn new() -> Dir {
            let p = std::env::temp_dir().join(format!("enrol-race-{}", uuid::Uuid::new_v4().simple()));
            std::fs::create_dir_all(&p).unwrap();
            Dir(p)
        }
        pub fn path(&self) -> &Path {
            &self.0
        }
    }
    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

/// Parents first vs the one-live-application index: a stranger and a parent
/// file for the same child at the same moment, both having found no live
/// application (their inserts held at a table lock, then let go together).
/// Whichever insert lands first, the parent's application ends up the
/// child's live one: a parent that loses the insert tries again, meets the
/// stranger's application, reads the certificate and supersedes it; a
/// stranger that loses it is refused. The old code answered the parent
/// `409 child-conflict` whenever the stranger's insert landed first.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_parent_racing_a_stranger_always_gets_the_childs_place() {
    let Some(race) = Race::start(40, 23).await else { return };
    let race = Arc::new(race);
    let stranger = enrol_domain::NationalId::parse("11010519491231002X").unwrap();
    let families: Vec<Application> = race
        .city
        .applications
        .iter()
        .filter(|app| {
            race.city
                .births
                .iter()
                .any(|b| b.child_id == app.child_id && b.mother_id == app.applicant_id)
        })
        .take(4)
        .cloned()
        .collect();
    assert_eq!(families.len(), 4, "the city has mothers who file");
    for (n, parents) in families.iter().enumerate() {
        let mut theirs = parents.clone();
        theirs.application_id = uuid::Uuid::from_u128(9_000 + n as u128);
        theirs.applicant_id = stranger.clone();
        theirs.guardian_ids = Vec::new();
        let holder = race.hold("applications").await;
        // Alternate which one is spawned first.
        let order = if n % 2 == 0 {
            [parents.clone(), theirs.clone()]
        } else {
            [theirs.clone(), parents.clone()]
        };
        let tasks: Vec<_> = order
            .into_iter()
            .map(|app| {
                let race = race.clone();
                tokio::spawn(async move { race.o.submit(&app, &race.source, "app:test").await })
            })
            .collect();
        while race.waiting().await < 2 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        holder.rollback().await.unwrap();
        for task in tasks {
            let _ = task.await.unwrap();
        }
        let live: Vec<_> = race
            .o
            .applications(ROUND)
            .await
            .unwrap()
            .into_iter()
            .filter(|(app, state)| app.child_id == parents.child_id && *state == ApplicationState::Submitted)
            .collect();
        assert_eq!(live.len(), 1, "one live application: {live:?}");
        assert_eq!(live[0].0.applicant_id, parents.applicant_id, "the parent's stands");
    }
    Arc::into_inner(race).unwrap().finish().await;
}
