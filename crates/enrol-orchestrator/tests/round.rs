//! A whole round on a generated city, over the real simulator and adapters,
//! on SQLite and (when TEST_DATABASE_URL is set) PostgreSQL.

use std::path::{Path, PathBuf};

use enrol_domain::{OfficerFacts, Status};
use enrol_evidence::{GatherOptions, RegistriesConfig, RegistryConfig};
use enrol_orchestrator::{
    ApplicationState, Orchestrator, RegistryEvidence, ReviewQuery, ReviewResolution, RoundError, RoundOutput,
    RoundSeed, RoundState, SeedReveal, SubmitOutcome, VerifyOptions,
};
use enrol_registry_sim::{Dataset, SimConfig, Simulator};
use enrol_store::testing::TestDb;

const POLICY: &str = include_str!("../../../fixtures/policies/2027-primary.toml");

fn city(families: usize, seed: u64) -> (tempdir::Dir, enrol_city::City) {
    let dir = tempdir::Dir::new();
    let city = enrol_city::generate(&enrol_city::CityConfig::new(families, seed));
    city.write_to(dir.path()).unwrap();
    (dir, city)
}

fn evidence(base_url: &str) -> RegistryEvidence {
    let config = RegistriesConfig::uniform(RegistryConfig::new(base_url, "dev-key"));
    RegistryEvidence::connect(&config, GatherOptions::default()).unwrap()
}

fn options() -> VerifyOptions {
    VerifyOptions {
        leave_reviews_unplaced: true,
        retry_delay: std::time::Duration::from_millis(200),
        ..Default::default()
    }
}

/// Runs a demo-style round to the end and returns its output.
async fn run_round(orchestrator: &Orchestrator, dataset: &Path, city: &enrol_city::City, seed: &str) -> RoundOutput {
    let sim = Simulator::start(
        Dataset::load(dataset).unwrap(),
        SimConfig::default(),
        "127.0.0.1:0".parse().unwrap(),
    )
    .await
    .unwrap();
    let source = evidence(&sim.base_url());
    let round = orchestrator
        .create_round(POLICY, RoundSeed::Whole(seed.to_owned()), "test")
        .await
        .unwrap();
    assert_eq!(round.state, RoundState::Open);
    assert_eq!(round.round_seed, None, "the seed stays hidden until allocation");
    for app in &city.applications {
        assert!(matches!(
            orchestrator.submit_unread(app, "app:test").await.unwrap(),
            SubmitOutcome::Created(_)
        ));
    }
    orchestrator.close("2027-primary", "test").await.unwrap();
    let report = orchestrator
        .verify("2027-primary", &source, options(), "test", &|_| {})
        .await
        .unwrap();
    assert!(report.verified, "{report:?}");
    assert_eq!(report.pending, 0);
    assert_eq!(
        report.eligible + report.review + report.ineligible,
        city.applications.len()
    );
    let allocated = orchestrator.allocate("2027-primary", None, "test").await.unwrap();
    assert_eq!(allocated.round_seed.as_deref(), Some(seed));
    orchestrator.publish("2027-primary", "test").await.unwrap();
    sim.shutdown().await.unwrap();
    orchestrator.output("2027-primary").await.unwrap()
}

/// The dashboard's counts by priority at the first choice are the round's
/// eligible decisions counted by their first school's priority, and add up
/// to the eligible count.
async fn assert_eligible_by_first_priority(orchestrator: &Orchestrator, output: &RoundOutput) {
    let mut expected = std::collections::BTreeMap::<String, usize>::new();
    for line in output.decisions_jsonl.lines() {
        let decision: serde_json::Value = serde_json::from_str(line).unwrap();
        if decision["status"] == "eligible" {
            let first = decision["schools"][0]["priority"]
                .as_str()
                .unwrap_or(enrol_orchestrator::NO_PRIORITY);
            *expected.entry(first.to_owned()).or_default() += 1;
        }
    }
    let counted = orchestrator.eligible_by_first_priority("2027-primary").await.unwrap();
    assert_eq!(counted, expected);
    assert!(counted.len() > 1, "a generated city has several tiers: {counted:?}");
    let eligible = orchestrator.counts("2027-primary").await.unwrap().eligible;
    assert_eq!(counted.values().sum::<usize>(), eligible);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn same_data_seed_and_policy_give_byte_identical_output_on_every_backend() {
    let (dir, city) = city(60, 11);
    let mut outputs = Vec::new();
    for db in TestDb::all().await.unwrap() {
        let orchestrator = Orchestrator::new(db.store.clone());
        let output = run_round(&orchestrator, dir.path(), &city, "determinism-seed").await;
        assert_eligible_by_first_priority(&orchestrator, &output).await;
        outputs.push((db.backend, output));
        db.cleanup().await.unwrap();
    }
    let again = TestDb::sqlite().await.unwrap();
    let output = run_round(
        &Orchestrator::new(again.store.clone()),
        dir.path(),
        &city,
        "determinism-seed",
    )
    .await;
    again.cleanup().await.unwrap();
    for (backend, other) in &outputs {
        assert_eq!(&output, other, "{backend} differs");
    }
    // The published instance recomputes the published seats.
    let recomputed = enrol_allocation::allocate_json(&output.instance_json).unwrap();
    let result: serde_json::Value = serde_json::from_str(&recomputed).unwrap();
    for line in output.assignments_csv.lines().skip(1) {
        let fields: Vec<&str> = line.split(',').collect();
        let seat = &result["assignments"][fields[0]];
        let expected = if fields[3].is_empty() {
            serde_json::Value::Null
        } else {
            fields[3].into()
        };
        if fields[2] == "eligible" {
            assert_eq!(seat, &expected, "{line}");
        } else {
            assert!(fields[3].is_empty(), "{line}");
        }
    }
    assert_eq!(output.decisions_jsonl.lines().count(), city.applications.len());
    let mut ids: Vec<String> = city.applications.iter().map(|a| a.application_id.to_string()).collect();
    ids.sort();
    let csv_ids: Vec<&str> = output
        .assignments_csv
        .lines()
        .skip(1)
        .map(|l| l.split(',').next().unwrap())
        .collect();
    assert_eq!(
        csv_ids,
        ids.iter().map(String::as_str).collect::<Vec<_>>(),
        "one row per application, ascending"
    );
    // A different seed draws differently.
    let other = TestDb::sqlite().await.unwrap();
    let reseeded = run_round(
        &Orchestrator::new(other.store.clone()),
        dir.path(),
        &city,
        "another-seed",
    )
    .await;
    other.cleanup().await.unwrap();
    assert_ne!(reseeded.decisions_jsonl, output.decisions_jsonl);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn submissions_are_idempotent_and_one_live_application_per_child() {
    let (_dir, city) = city(5, 3);
    for db in TestDb::all().await.unwrap() {
        let o = Orchestrator::new(db.store.clone());
        o.create_round(POLICY, RoundSeed::Whole("s".into()), "test")
            .await
            .unwrap();
        let app = &city.applications[0];
        assert!(matches!(
            o.submit_unread(app, "app").await.unwrap(),
            SubmitOutcome::Created(_)
        ));
        assert!(matches!(
            o.submit_unread(app, "app").await.unwrap(),
            SubmitOutcome::Existing(_)
        ));
        let mut changed = app.clone();
        changed.choices.reverse();
        changed.choices.push("S999".into());
        assert!(matches!(
            o.submit_unread(&changed, "app").await,
            Err(RoundError::ApplicationIdConflict { .. })
        ));
        let mut second = app.clone();
        second.application_id = uuid::Uuid::from_u128(42);
        match o.submit_unread(&second, "app").await {
            Err(RoundError::ChildConflict { existing_id, .. }) => {
                assert_eq!(existing_id, app.application_id.to_string())
            }
            other => panic!("{}: {other:?}", db.backend),
        }
        // Withdraw, then the new one is accepted.
        let view = o.withdraw(&app.application_id.to_string(), "app").await.unwrap();
        assert_eq!(view.state, ApplicationState::Withdrawn);
        assert!(matches!(
            o.submit_unread(&second, "app").await.unwrap(),
            SubmitOutcome::Created(_)
        ));
        // After close, nothing is accepted or withdrawn.
        o.close("2027-primary", "officer").await.unwrap();
        let late = city.applications[1].clone();
        assert!(matches!(
            o.submit_unread(&late, "app").await,
            Err(RoundError::WrongState { .. })
        ));
        assert!(matches!(
            o.withdraw(&second.application_id.to_string(), "app").await,
            Err(RoundError::WrongState { .. })
        ));
        let log = enrol_store::audit_log_of(db.store.connection(), "2027-primary")
            .await
            .unwrap();
        let actions: Vec<&str> = log.iter().map(|e| e.action.as_str()).collect();
        assert_eq!(
            actions,
            [
                "round_opened",
                "application_submitted",
                "application_withdrawn",
                "application_submitted",
                "round_closed"
            ],
            "{}",
            db.backend
        );
        db.cleanup().await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reviews_are_resolved_by_officers_and_audited() {
    let (dir, city) = city(80, 5);
    let db = TestDb::sqlite().await.unwrap();
    let o = Orchestrator::new(db.store.clone());
    let sim = Simulator::start(
        Dataset::load(dir.path()).unwrap(),
        SimConfig::default(),
        "127.0.0.1:0".parse().unwrap(),
    )
    .await
    .unwrap();
    let source = evidence(&sim.base_url());
    let commitment = {
        use sha2::Digest;
        hex::encode(sha2::Sha256::digest(b"0123456789abcdef0123456789abcdef"))
    };
    o.create_round(POLICY, RoundSeed::Committed { commitment }, "manager")
        .await
        .unwrap();
    for app in &city.applications {
        o.submit_unread(app, "app").await.unwrap();
    }
    o.close("2027-primary", "manager").await.unwrap();
    let strict = VerifyOptions {
        leave_reviews_unplaced: false,
        ..options()
    };
    let report = o
        .verify("2027-primary", &source, strict, "manager", &|_| {})
        .await
        .unwrap();
    assert!(report.review >= 3, "the generated city has reviews: {report:?}");
    assert!(!report.verified, "open reviews keep the round closed");
    assert!(matches!(
        o.finish_verification("2027-primary", "manager", false).await,
        Err(RoundError::NotVerifiable { .. })
    ));

    let queue = o.review_queue("2027-primary").await.unwrap();
    assert_eq!(queue.len(), report.review);
    // Pages and the reason filter, on the server, agree with the whole queue.
    let page = |reason, offset, limit| {
        let o = &o;
        async move {
            o.review_queue_page("2027-primary", ReviewQuery { reason, offset, limit })
                .await
                .unwrap()
        }
    };
    let second = page(None, 1, 2).await;
    assert_eq!(second.matching, queue.len());
    assert_eq!(second.items, queue[1..3]);
    let code = queue[0].1.reasons[0].code.clone();
    let with_code: Vec<_> = queue
        .iter()
        .filter(|(_, d)| d.reasons.iter().any(|r| r.code == code))
        .cloned()
        .collect();
    let filtered = page(Some(&code), 0, usize::MAX).await;
    assert_eq!(filtered.items, with_code);
    assert_eq!(filtered.matching, with_code.len());
    assert_eq!(filtered.by_reason, second.by_reason, "counts are of the whole queue");
    assert_eq!(second.by_reason[&code], with_code.len());
    assert!(page(None, queue.len(), 10).await.items.is_empty());
    for (i, (view, decision)) in queue.iter().enumerate() {
        assert_eq!(decision.status, Status::Review);
        assert!(!decision.reasons.is_empty());
        let id = view.application_id.as_str();
        match i % 3 {
            0 => {
                let v = o
                    .resolve_review(
                        id,
                        ReviewResolution::Reject {
                            reason: "无法核实 cannot verify".into(),
                        },
                        "王老师",
                        &source,
                    )
                    .await
                    .unwrap();
                assert_eq!(v.state, ApplicationState::Rejected);
            }
            1 => {
                let v = o.exclude(id, "duplicate family record", "王老师").await.unwrap();
                assert_eq!(v.state, ApplicationState::Excluded);
            }
            _ => {
                // Accepting with no new facts decides the same way: still in review, recorded.
                let facts = OfficerFacts::default();
                let v = o
                    .resolve_review(
                        id,
                        ReviewResolution::Accept {
                            facts,
                            note: "checked".into(),
                        },
                        "王老师",
                        &source,
                    )
                    .await
                    .unwrap();
                if v.status == Some(Status::Review) {
                    o.exclude(id, "unresolvable", "王老师").await.unwrap();
                }
            }
        }
    }
    let report = o.counts("2027-primary").await.unwrap();
    assert_eq!(report.review, 0);
    o.finish_verification("2027-primary", "manager", false).await.unwrap();
    // A live round needs the sealed seed that matches the commitment.
    let wrong = SeedReveal {
        sealed: "ffffffffffffffffffffffffffffffff".into(),
        public: "8812".into(),
    };
    assert!(matches!(
        o.allocate("2027-primary", Some(wrong), "manager").await,
        Err(RoundError::Seed(_))
    ));
    let right = SeedReveal {
        sealed: "0123456789abcdef0123456789abcdef".into(),
        public: "8812".into(),
    };
    let info = o.allocate("2027-primary", Some(right), "manager").await.unwrap();
    assert_eq!(
        info.round_seed.as_deref(),
        Some("0123456789abcdef0123456789abcdef-8812")
    );
    let before = o.output("2027-primary").await.unwrap();
    let placed: Vec<Vec<String>> = before
        .assignments_csv
        .lines()
        .skip(1)
        .map(|l| l.split(',').map(str::to_owned).collect::<Vec<_>>())
        .filter(|f| !f[3].is_empty())
        .collect();
    let first = &placed[0];
    assert!(
        matches!(
            o.correct_seat(&first[0], None, "too early", "manager").await,
            Err(RoundError::WrongState { .. })
        ),
        "corrections only after publication"
    );
    o.publish("2027-primary", "manager").await.unwrap();

    // A correction after publication is a new, audited event, never over capacity.
    let seat = o
        .correct_seat(&first[0], None, "主管部门更正：房产查封 property sealed", "manager")
        .await
        .unwrap();
    assert_eq!((seat.school_id.as_deref(), seat.route.as_str()), (None, "none"));
    let full = before.schools_csv.lines().skip(1).find(|l| {
        let f: Vec<&str> = l.split(',').collect();
        f[2] == f[3] && f[2] != "0" && f[1] == "public"
    });
    if let Some(full) = full {
        let school = full.split(',').next().unwrap();
        let other = placed
            .iter()
            .find(|f| f[3] != school)
            .expect("someone placed elsewhere");
        match o.correct_seat(&other[0], Some(school), "move", "manager").await {
            Err(RoundError::Correction(why)) => assert!(why.contains("no free seat"), "{why}"),
            other => panic!("a full school took one more: {other:?}"),
        }
    }
    // The freed seat can be given back.
    let back = o
        .correct_seat(&first[0], Some(&first[3]), "更正撤回 correction withdrawn", "manager")
        .await
        .unwrap();
    assert_eq!(back.school_id.as_deref(), Some(first[3].as_str()));
    assert!(matches!(
        o.correct_seat(&first[0], Some(&first[3]), "again", "manager").await,
        Err(RoundError::Correction(_))
    ));
    assert!(matches!(
        o.correct_seat(&first[0], None, " ", "manager").await,
        Err(RoundError::Correction(_))
    ));
    let after = o.output("2027-primary").await.unwrap();
    assert_eq!(
        after.assignments_csv, before.assignments_csv,
        "taken away and given back: the same seats"
    );
    let corrections: Vec<_> = enrol_store::audit_log_of(db.store.connection(), "2027-primary")
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.action == "seat_corrected")
        .collect();
    assert_eq!(corrections.len(), 2);
    assert!(
        corrections[0].details.contains("\"before\""),
        "{}",
        corrections[0].details
    );

    let log = enrol_store::audit_log_of(db.store.connection(), "2027-primary")
        .await
        .unwrap();
    let officer_actions: Vec<_> = log.iter().filter(|e| e.actor == "王老师").collect();
    assert!(officer_actions.len() >= queue.len());
    assert!(
        officer_actions
            .iter()
            .all(|e| e.reason.is_some() && e.subject.is_some())
    );
    use enrol_store::sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    let reads = enrol_store::registry_access::Entity::find()
        .filter(enrol_store::registry_access::Column::RoundId.eq("2027-primary"))
        .all(db.store.connection())
        .await
        .unwrap();
    assert!(
        reads.iter().any(|r| r.actor == "王老师" && r.application_id.is_some()),
        "the reads of an accepted review are in the access log, as the officer's"
    );
    assert!(
        reads
            .iter()
            .any(|r| r.actor == "manager" && r.path == "/zones/v1/schools"),
        "the catalogue read is in the access log"
    );
    // Who read this child's records, when and why: every read that named the
    // child, and the lookup itself is audited.
    let child = &city.applications[0].child_id;
    let named = reads
        .iter()
        .filter(|r| r.person_id.as_deref() == Some(child.as_str()))
        .count();
    let seen = o
        .person_accesses("2027-primary", child, None, 1000, "赵科长")
        .await
        .unwrap();
    assert!(!seen.is_empty());
    assert_eq!(seen.len(), named);
    assert!(
        seen.iter()
            .all(|a| a.purpose == "school-enrolment" && !a.registry.is_empty())
    );
    let log = enrol_store::audit_log_of(db.store.connection(), "2027-primary")
        .await
        .unwrap();
    let lookup = log.last().unwrap();
    assert_eq!(
        (lookup.action.as_str(), lookup.actor.as_str(), lookup.subject.as_deref()),
        ("access_log_read", "赵科长", Some(child.as_str()))
    );
    sim.shutdown().await.unwrap();
    db.cleanup().await.unwrap();
}

mod tempdir {
    use super::*;

    pub struct Dir(PathBuf);
    impl Dir {
        pub fn new() -> Dir {
            let p = std::env::temp_dir().join(format!("enrol-round-{}", uuid::Uuid::new_v4().simple()));
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
