//! A submission storm over a real socket, on every backend: many concurrent
//! submissions, with duplicates, retries of the same id and rival ids for
//! the same child. It must end with exactly one live application per child,
//! every acknowledged submission stored, and every answer consistent.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use common::*;
use enrol_store::testing::TestDb;
use futures::StreamExt;
use serde_json::json;

const CHILDREN: u32 = 40;
/// Rival application ids per child (different app installs of the family).
const RIVALS: u32 = 3;
/// Times each application is sent, concurrently (retries of the same id).
const COPIES: u32 = 3;
/// Requests in flight at once.
const IN_FLIGHT: usize = 48;

#[derive(Debug, Clone)]
struct Sent {
    child: u32,
    application_id: String,
    body: serde_json::Value,
    applicant: String,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_submission_storm_ends_with_one_application_per_child() {
    let city = City::start(2, 1).await;
    for db in TestDb::all().await.unwrap() {
        let backend = db.backend;
        // Rivals by the other parent meet a live application: the birth
        // registry is read (these children have no certificate, so the
        // first stands).
        let api = Api::new(db, &city.sim.base_url());
        api.open_round().await;
        let server = Server::start(api.router.clone()).await;
        let client = reqwest::Client::builder()
            .pool_max_idle_per_host(IN_FLIGHT)
            .build()
            .unwrap();

        // Each child: RIVALS ids, by the mother or the father, each sent COPIES times;
        // plus one copy of the first id with other content (a buggy app): whichever
        // content of that id comes first is the application, the other a conflict.
        let mut requests: Vec<Sent> = Vec::new();
        let mut tampered: Vec<Sent> = Vec::new();
        for child_no in 0..CHILDREN {
            let child = person("20201115", child_no * 2 + 1);
            let mother = person("19880312", child_no * 2);
            let father = person("19870506", child_no * 2 + 1);
            for rival in 0..RIVALS {
                let n = u128::from(child_no * 100 + rival + 1);
                let (applicant, other) = if rival % 2 == 0 {
                    (&mother, &father)
                } else {
                    (&father, &mother)
                };
                let body = application(n, &child, applicant, &[other]);
                let sent = Sent {
                    child: child_no,
                    application_id: uuid::Uuid::from_u128(n).to_string(),
                    body: body.clone(),
                    applicant: applicant.to_string(),
                };
                if rival == 0 {
                    let mut changed = body;
                    changed["choices"] = json!(["S009", "S001"]);
                    tampered.push(Sent {
                        body: changed,
                        ..sent.clone()
                    });
                }
                requests.extend(std::iter::repeat_n(sent, COPIES as usize));
            }
        }
        requests.extend(tampered);
        // A fixed shuffle, so duplicates and rivals interleave.
        let len = requests.len();
        for i in 0..len {
            let j = (i * 7919 + 13) % len;
            requests.swap(i, j);
        }

        let base = Arc::new(server.base.clone());
        let answers: Vec<(Sent, Answer)> = futures::stream::iter(requests)
            .map(|sent| {
                let (client, base) = (client.clone(), base.clone());
                async move {
                    let call = Call::post("/v1/applications").citizen(&sent.applicant).json(&sent.body);
                    let answer = call.send(&client, &base).await;
                    (sent, answer)
                }
            })
            .buffer_unordered(IN_FLIGHT)
            .collect()
            .await;

        // Then every id is retried once more, after the storm.
        let mut retried: Vec<(Sent, Answer)> = Vec::new();
        let unique: BTreeMap<String, Sent> = answers
            .iter()
            .map(|(s, _)| (format!("{}{}", s.application_id, s.body), s.clone()))
            .collect();
        for sent in unique.values() {
            let call = Call::post("/v1/applications").citizen(&sent.applicant).json(&sent.body);
            retried.push((sent.clone(), call.send(&client, &server.base).await));
        }

        let mut accepted: BTreeMap<u32, BTreeSet<(String, usize)>> = BTreeMap::new();
        let mut created: BTreeMap<u32, usize> = BTreeMap::new();
        for (sent, answer) in answers.iter().chain(&retried) {
            match answer.status.as_u16() {
                201 | 200 => {
                    assert_eq!(
                        answer.json["application_id"],
                        sent.application_id.as_str(),
                        "{}",
                        answer.text
                    );
                    let body: enrol_domain::Application = serde_json::from_value(sent.body.clone()).unwrap();
                    accepted
                        .entry(sent.child)
                        .or_default()
                        .insert((sent.application_id.clone(), body.choices.len()));
                    if answer.status.as_u16() == 201 {
                        *created.entry(sent.child).or_default() += 1;
                    }
                }
                409 => {
                    let kind = answer.json["type"]
                        .as_str()
                        .unwrap()
                        .rsplit(':')
                        .next()
                        .unwrap()
                        .to_owned();
                    assert!(
                        ["child-conflict", "application-id-conflict"].contains(&kind.as_str()),
                        "{}",
                        answer.text
                    );
                }
                other => panic!("[{backend}] unexpected {other}: {}", answer.text),
            }
        }

        let stored = api.orchestrator.applications(ROUND).await.unwrap();
        let mut live: BTreeMap<String, Vec<(String, usize)>> = BTreeMap::new();
        for (app, state) in &stored {
            assert_eq!(state.as_str(), "submitted");
            live.entry(app.child_id.to_string())
                .or_default()
                .push((app.application_id.to_string(), app.choices.len()));
        }
        assert_eq!(
            live.len(),
            CHILDREN as usize,
            "[{backend}] every child has an application"
        );
        assert!(
            live.values().all(|ids| ids.len() == 1),
            "[{backend}] one application per child: {live:?}"
        );
        for child_no in 0..CHILDREN {
            let acknowledged = &accepted[&child_no];
            assert_eq!(
                acknowledged.len(),
                1,
                "[{backend}] child {child_no}: one application acknowledged: {acknowledged:?}"
            );
            assert_eq!(
                created[&child_no], 1,
                "[{backend}] child {child_no}: created exactly once"
            );
            let child = person("20201115", child_no * 2 + 1).to_string();
            assert_eq!(
                live[&child],
                acknowledged.iter().cloned().collect::<Vec<_>>(),
                "[{backend}] the acknowledged application is the one stored"
            );
        }
        let submitted = api
            .orchestrator
            .audit_log(ROUND, None, 1000)
            .await
            .unwrap()
            .into_iter()
            .filter(|e| e.action == "application_submitted")
            .count();
        assert_eq!(
            submitted, CHILDREN as usize,
            "[{backend}] one audit entry per stored application"
        );

        server.stop().await;
        api.db.cleanup().await.unwrap();
    }
}
