//! The round output streamed from the database, a page at a time
//! (`Orchestrator::write_output`), is byte for byte the output made the way it
//! was made before streaming: the whole round read into memory and written
//! from there. The reference below is that former code, kept here as the
//! oracle. A generated city of 5,000 families spans several pages, with
//! withdrawn applications and a corrected seat in it.

use std::collections::{BTreeMap, BTreeSet};

use enrol_domain::{Decision, SchoolKind};
use enrol_evidence::{GatherOptions, RegistriesConfig, RegistryConfig};
use enrol_orchestrator::{Orchestrator, RegistryEvidence, RoundOutput, RoundSeed, VerifyOptions, csv_field};
use enrol_registry_sim::{Dataset, SimConfig, Simulator};
use enrol_store::sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use enrol_store::testing::TestDb;
use enrol_store::{application, assignment, decision, round};

const POLICY: &str = include_str!("../../../fixtures/policies/2027-primary.toml");
const ROUND: &str = "2027-primary";
const FAMILIES: usize = 5_000;

fn csv_line(fields: &[&str]) -> String {
    let mut line = fields.iter().map(|f| csv_field(f)).collect::<Vec<_>>().join(",");
    line.push('\n');
    line
}

/// The round output as it was made before streaming: every row in memory.
async fn reference(store: &enrol_store::Store) -> RoundOutput {
    let conn = store.connection();
    let round = round::Entity::find_by_id(ROUND).one(conn).await.unwrap().unwrap();
    let policy = enrol_rules::Policy::from_toml_str(&round.policy_toml).unwrap();
    let schools: enrol_domain::SchoolCatalogue = serde_json::from_str(round.schools_json.as_deref().unwrap()).unwrap();
    let withdrawn: BTreeSet<String> = application::Entity::find()
        .filter(application::Column::RoundId.eq(ROUND))
        .filter(application::Column::State.eq("withdrawn"))
        .all(conn)
        .await
        .unwrap()
        .into_iter()
        .map(|a| a.id)
        .collect();
    let decisions: BTreeMap<String, decision::Model> = decision::Entity::find()
        .filter(decision::Column::RoundId.eq(ROUND))
        .filter(decision::Column::CurrentFor.is_not_null())
        .all(conn)
        .await
        .unwrap()
        .into_iter()
        .map(|d| (d.application_id.clone(), d))
        .collect();
    let seats: BTreeMap<String, assignment::Model> = assignment::Entity::find()
        .filter(assignment::Column::RoundId.eq(ROUND))
        .all(conn)
        .await
        .unwrap()
        .into_iter()
        .map(|a| (a.application_id.clone(), a))
        .collect();

    let mut decisions_jsonl = String::new();
    let mut assignments_csv = csv_line(&[
        "application_id",
        "child_id",
        "status",
        "school_id",
        "route",
        "choice_rank",
        "priority",
        "unit_no",
    ]);
    for (id, row) in decisions.iter().filter(|(id, _)| !withdrawn.contains(*id)) {
        let decision: Decision = serde_json::from_str(&row.decision).unwrap();
        decisions_jsonl.push_str(&row.decision);
        decisions_jsonl.push('\n');
        let seat = seats.get(id);
        let rank = seat
            .and_then(|s| s.choice_rank)
            .map(|r| r.to_string())
            .unwrap_or_default();
        assignments_csv.push_str(&csv_line(&[
            id,
            decision.child_id.as_str(),
            decision.status.as_str(),
            seat.and_then(|s| s.school_id.as_deref()).unwrap_or(""),
            seat.map(|s| s.route.as_str()).unwrap_or("none"),
            &rank,
            seat.and_then(|s| s.priority.as_deref()).unwrap_or(""),
            seat.and_then(|s| s.unit_no.as_deref()).unwrap_or(""),
        ]));
    }

    let tiers = policy.tier_names();
    let mut header = vec!["school_id", "kind", "capacity", "assigned"];
    header.extend(tiers.iter().copied());
    header.extend(["lottery", "overflow"]);
    let mut schools_csv = csv_line(&header);
    for school in schools.values().filter(|s| s.stage == policy.stage()) {
        let here: Vec<&assignment::Model> = seats
            .values()
            .filter(|s| s.school_id.as_deref() == Some(school.id.as_str()))
            .collect();
        let by = |route: &str, priority: &str| {
            here.iter()
                .filter(|s| s.route == route && s.priority.as_deref() == Some(priority))
                .count()
                .to_string()
        };
        let mut fields = vec![
            school.id.to_string(),
            match school.kind {
                SchoolKind::Public => "public".to_owned(),
                SchoolKind::Private => "private".to_owned(),
            },
            school.capacity_in(policy.entry_year()).to_string(),
            here.len().to_string(),
        ];
        fields.extend(tiers.iter().map(|t| by("choice", t)));
        fields.push(by("choice", enrol_domain::LOTTERY_PRIORITY));
        fields.push(here.iter().filter(|s| s.route == "overflow").count().to_string());
        let refs: Vec<&str> = fields.iter().map(String::as_str).collect();
        schools_csv.push_str(&csv_line(&refs));
    }
    // cutoffs.csv: the stored instance with every seat as stored (overflow apart).
    let instance = enrol_allocation::parse_instance(round.instance_json.as_deref().unwrap()).unwrap();
    let allocation = enrol_allocation::Allocation {
        assignments: instance
            .applicants
            .iter()
            .map(|a| (a.id.clone(), seats.get(&a.id).and_then(|s| s.school_id.clone())))
            .collect(),
        overflow: seats
            .values()
            .filter(|s| s.route == "overflow")
            .map(|s| s.application_id.clone())
            .collect(),
    };
    let cutoffs = enrol_allocation::cutoffs(&instance, &allocation);
    let cutoffs_csv = enrol_orchestrator::cutoffs_csv(&enrol_orchestrator::cutoff_lines(&cutoffs, &schools, &policy));
    RoundOutput {
        decisions_jsonl,
        assignments_csv,
        schools_csv,
        instance_json: round.instance_json.unwrap_or_default(),
        cutoffs_csv,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn output_streamed_from_the_database_is_byte_identical_to_the_whole_round_in_memory() {
    let dir = tempfile::tempdir().unwrap();
    let city = enrol_city::generate(&enrol_city::CityConfig::new(FAMILIES, 2027));
    city.write_to(dir.path()).unwrap();
    let sim = Simulator::start(
        Dataset::load(dir.path()).unwrap(),
        SimConfig::default(),
        "127.0.0.1:0".parse().unwrap(),
    )
    .await
    .unwrap();
    let source = RegistryEvidence::connect(
        &RegistriesConfig::uniform(RegistryConfig::new(sim.base_url(), "dev-key")),
        GatherOptions::default(),
    )
    .unwrap();

    // PostgreSQL when TEST_DATABASE_URL is set (as in CI), SQLite otherwise.
    let db = match enrol_store::testing::pg_url() {
        Some(url) => TestDb::postgres(&url).await.unwrap(),
        None => TestDb::sqlite().await.unwrap(),
    };
    let o = Orchestrator::new(db.store.clone());
    o.create_round(POLICY, RoundSeed::Whole("stream-2027".into()), "test")
        .await
        .unwrap();
    for app in &city.applications {
        o.submit_unread(app, "app:test").await.unwrap();
    }
    // Withdrawn applications keep their rows but leave the output.
    for app in city.applications.iter().step_by(997) {
        o.withdraw(&app.application_id.to_string(), "app:test").await.unwrap();
    }
    o.close(ROUND, "test").await.unwrap();
    let options = VerifyOptions {
        leave_reviews_unplaced: true,
        retry_delay: std::time::Duration::from_millis(200),
        ..Default::default()
    };
    let report = o.verify(ROUND, &source, options, "test", &|_| {}).await.unwrap();
    assert!(report.verified, "{report:?}");
    o.allocate(ROUND, None, "test").await.unwrap();
    o.publish(ROUND, "test").await.unwrap();
    sim.shutdown().await.unwrap();
    // A corrected seat changes assignments.csv and schools.csv.
    let placed = o.output(ROUND).await.unwrap();
    let seated = placed
        .assignments_csv
        .lines()
        .skip(1)
        .find(|l| l.split(',').nth(4) == Some("choice"))
        .unwrap()
        .split(',')
        .next()
        .unwrap()
        .to_owned();
    o.correct_seat(&seated, None, "test correction", "manager")
        .await
        .unwrap();

    let expected = reference(&db.store).await;
    let out = dir.path().join("out");
    let summary = o.write_output(ROUND, &out).await.unwrap();
    for (file, want) in [
        ("decisions.jsonl", &expected.decisions_jsonl),
        ("assignments.csv", &expected.assignments_csv),
        ("schools.csv", &expected.schools_csv),
        ("instance.json", &expected.instance_json),
        ("cutoffs.csv", &expected.cutoffs_csv),
    ] {
        let got = std::fs::read_to_string(out.join(file)).unwrap();
        assert!(got == *want, "{file} streamed differs from the round read whole");
    }
    assert_eq!(o.output(ROUND).await.unwrap(), expected);
    let lines = expected.assignments_csv.lines().count() - 1;
    assert_eq!(lines, FAMILIES - FAMILIES.div_ceil(997), "every live application, once");
    assert_eq!(summary.by_route.values().sum::<usize>(), lines);
    assert_eq!(
        summary.by_route.get("none").copied().unwrap_or(0) > 0,
        expected.assignments_csv.contains(",none,")
    );
    db.cleanup().await.unwrap();
}
