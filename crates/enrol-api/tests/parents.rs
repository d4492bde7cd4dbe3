//! Parents first (policy.md, "Who may apply for a child"), through the app
//! endpoints, against the registry simulator on every backend: a stranger's
//! earlier application cannot block a parent; a non-parent's refusal names
//! nothing; a birth registry that is down delays the decision to
//! verification and never refuses a family.

mod common;

use common::*;
use enrol_domain::{Application, NationalId};
use enrol_orchestrator::{EARLIER_STANDS, SUPERSEDED_BY_PARENT};
use enrol_registry_sim::Registry;
use enrol_store::testing::TestDb;
use serde_json::Value;

/// Someone in no family of the city.
fn stranger() -> NationalId {
    person("19700101", 991)
}

/// Applications of the city whose applicant is a parent named on the
/// child's certificate, with the other parent when there is one.
fn by_parents(city: &City) -> Vec<(Application, Option<NationalId>)> {
    city.applications
        .iter()
        .filter_map(|app| {
            let birth = city.births.iter().find(|b| b.child_id == app.child_id)?;
            let other = if birth.mother_id == app.applicant_id {
                birth.father_id.clone()
            } else if birth.father_id.as_ref() == Some(&app.applicant_id) {
                Some(birth.mother_id.clone())
            } else {
                return None;
            };
            Some((app.clone(), other))
        })
        .collect()
}

/// The same child, filed by `applicant` naming no guardian, under a new id.
fn filed_by(app: &Application, applicant: &NationalId, id: u128) -> Value {
    let mut body = serde_json::to_value(app).unwrap();
    body["application_id"] = uuid::Uuid::from_u128(id).to_string().into();
    body["applicant_id"] = applicant.to_string().into();
    body["guardian_ids"] = serde_json::json!([]);
    body["consent_id"] = format!("CNS-{id}").into();
    body
}

fn submit(citizen: &NationalId, body: &Value) -> Call {
    Call::post("/v1/applications").citizen(citizen.as_str()).json(body)
}

/// Every 18-character ID-like run in `text`.
fn ids_in(text: &str) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    let mut found = Vec::new();
    let mut run = String::new();
    for c in chars.into_iter().chain(std::iter::once(' ')) {
        if c.is_ascii_digit() || c == 'X' {
            run.push(c);
        } else {
            if run.len() >= 17 {
                found.push(run.clone());
            }
            run.clear();
        }
    }
    found
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_strangers_earlier_application_cannot_block_a_parent() {
    let city = City::start(40, 11).await;
    let (app, _) = by_parents(&city).into_iter().next().expect("a parent files");
    for db in TestDb::all().await.unwrap() {
        let api = Api::new(db, &city.sim.base_url());
        api.open_round().await;
        let stranger = stranger();
        let theirs = filed_by(&app, &stranger, 1);
        api.call(submit(&stranger, &theirs)).await.expect(201);

        // The parent files: accepted, and the stranger's application is withdrawn.
        let parents = serde_json::to_value(&app).unwrap();
        api.call(submit(&app.applicant_id, &parents)).await.expect(201);
        let seen = api
            .call(Call::get(format!("/v1/applications/{}", uuid::Uuid::from_u128(1))).citizen(stranger.as_str()))
            .await;
        seen.expect(200);
        assert_eq!(seen.json["state"], "withdrawn", "[{}] {}", api.db.backend, seen.text);
        assert_eq!(seen.json["reason"], SUPERSEDED_BY_PARENT);
        assert!(
            ids_in(&seen.text).iter().all(|id| id == app.child_id.as_str()),
            "{}",
            seen.text
        );
        assert!(!seen.text.contains(&app.application_id.to_string()), "{}", seen.text);

        // The audit log names both applications; the certificate read is on
        // record under the parent's application and consent.
        let log = enrol_store::audit_log_of(api.db.store.connection(), ROUND)
            .await
            .unwrap();
        let superseded: Vec<_> = log.iter().filter(|e| e.action == "application_superseded").collect();
        assert_eq!(superseded.len(), 1, "{log:?}");
        let details: Value = serde_json::from_str(&superseded[0].details).unwrap();
        assert_eq!(details["application"], uuid::Uuid::from_u128(1).to_string());
        assert_eq!(details["superseded_by"], app.application_id.to_string());
        let reads = api
            .orchestrator
            .person_accesses(ROUND, &app.child_id, None, 100, "officer")
            .await
            .unwrap();
        let birth: Vec<_> = reads.iter().filter(|r| r.registry == "birth").collect();
        assert_eq!(birth.len(), 1, "{reads:?}");
        assert_eq!(
            birth[0].application_id.as_deref(),
            Some(app.application_id.to_string().as_str())
        );
        assert_eq!(birth[0].consent_id.as_ref(), Some(&app.consent_id.to_string()));

        // The stranger cannot come back over the parent.
        let again = filed_by(&app, &stranger, 2);
        api.call(submit(&stranger, &again)).await.problem(409, "child-conflict");
        let live: Vec<_> = api
            .orchestrator
            .applications(ROUND)
            .await
            .unwrap()
            .into_iter()
            .filter(|(_, state)| state.as_str() == "submitted")
            .collect();
        assert_eq!(live.len(), 1);
        assert_eq!(live[0].0.application_id, app.application_id);
        api.db.cleanup().await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_non_parents_refusal_names_nothing() {
    let city = City::start(40, 11).await;
    let (app, other_parent) = by_parents(&city)
        .into_iter()
        .find(|(_, other)| other.is_some())
        .expect("a two-parent family");
    let other_parent = other_parent.unwrap();
    for db in TestDb::all().await.unwrap() {
        let api = Api::new(db, &city.sim.base_url());
        api.open_round().await;
        api.call(submit(&app.applicant_id, &serde_json::to_value(&app).unwrap()))
            .await
            .expect(201);

        let stranger = stranger();
        let refused = api.call(submit(&stranger, &filed_by(&app, &stranger, 7))).await;
        refused.problem(409, "child-conflict");
        assert!(
            refused.json.get("existing_application_id").is_none(),
            "{}",
            refused.text
        );
        assert!(
            !refused.text.contains(&app.application_id.to_string()),
            "{}",
            refused.text
        );
        assert_eq!(ids_in(&refused.text), Vec::<String>::new(), "{}", refused.text);
        for name in [&app.applicant_id, &app.child_id] {
            assert!(!refused.text.contains(name.as_str()), "{}", refused.text);
        }

        // Between two parents, the first stands. The other parent is a listed
        // guardian of the first application, so may read it: told its id.
        assert!(app.guardian_ids.contains(&other_parent));
        let refused = api.call(submit(&other_parent, &filed_by(&app, &other_parent, 8))).await;
        refused.problem(409, "child-conflict");
        assert_eq!(refused.json["existing_application_id"], app.application_id.to_string());
        assert_eq!(api.orchestrator.applications(ROUND).await.unwrap().len(), 1);
        api.db.cleanup().await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_birth_registry_that_is_down_never_refuses_a_family() {
    let city = City::start(40, 11).await;
    let parents = by_parents(&city);
    let (first, second) = (&parents[0].0, &parents[1].0);
    for db in TestDb::all().await.unwrap() {
        let api = Api::new(db, &city.sim.base_url());
        api.open_round().await;
        let stranger = stranger();
        // Child 1: the stranger first, then the parent while the registry is down.
        api.call(submit(&stranger, &filed_by(first, &stranger, 1)))
            .await
            .expect(201);
        // Child 2: the parent first, then the stranger while the registry is down.
        api.call(submit(&second.applicant_id, &serde_json::to_value(second).unwrap()))
            .await
            .expect(201);
        city.sim.set_outage(Registry::Birth, true);
        let started = std::time::Instant::now();
        api.call(submit(&first.applicant_id, &serde_json::to_value(first).unwrap()))
            .await
            .expect(201);
        api.call(submit(&stranger, &filed_by(second, &stranger, 2)))
            .await
            .expect(201);
        assert!(
            started.elapsed() < std::time::Duration::from_secs(10),
            "{:?}",
            started.elapsed()
        );
        city.sim.set_outage(Registry::Birth, false);

        // Verification settles both by the same rule.
        api.orchestrator.close(ROUND, "manager").await.unwrap();
        let report = api
            .orchestrator
            .verify(
                ROUND,
                &*evidence(&city.sim.base_url()),
                config().verify,
                "manager",
                &|_| {},
            )
            .await
            .unwrap();
        assert_eq!(report.pending, 0, "{report:?}");
        let state = |id: String| {
            let api = &api;
            async move { api.orchestrator.application(&id).await.unwrap().1.state.as_str() }
        };
        assert_eq!(state(uuid::Uuid::from_u128(1).to_string()).await, "withdrawn");
        assert_eq!(state(uuid::Uuid::from_u128(2).to_string()).await, "withdrawn");
        assert_eq!(state(first.application_id.to_string()).await, "decided");
        assert_eq!(state(second.application_id.to_string()).await, "decided");
        let reason = |id: u128| {
            let api = &api;
            async move {
                api.orchestrator
                    .state_reason(&uuid::Uuid::from_u128(id).to_string())
                    .await
                    .unwrap()
            }
        };
        assert_eq!(reason(1).await.as_deref(), Some(SUPERSEDED_BY_PARENT));
        assert_eq!(reason(2).await.as_deref(), Some(EARLIER_STANDS));
        api.db.cleanup().await.unwrap();
    }
}
