//! A whole admission round driven through the API over a real socket, on
//! every backend: a generated city served by the registry simulator, the
//! real registry adapters, and every officer and family endpoint.

mod common;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use common::*;
use enrol_store::testing::TestDb;
use serde_json::{Value, json};

async fn wait_for_verification(client: &reqwest::Client, base: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let answer = Call::get(format!("/v1/rounds/{ROUND}/verify"))
            .officer(VIEWER)
            .send(client, base)
            .await;
        answer.expect(200);
        if answer.json["run"]["state"] != "running" {
            return answer.json;
        }
        assert!(
            Instant::now() < deadline,
            "verification did not finish: {}",
            answer.text
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_round_from_open_to_published() {
    let city = City::start(40, 2027).await;
    let mut outputs: Vec<(String, String, String)> = Vec::new();
    for db in TestDb::all().await.unwrap() {
        let backend = db.backend;
        // A demo round: its seed is whole, which only a development server takes.
        let api = Api::dev(db, &city.sim.base_url());
        let server = Server::start(api.router.clone()).await;
        let (client, base) = (reqwest::Client::new(), server.base.clone());
        let send = |call: Call| {
            let (client, base) = (client.clone(), base.clone());
            async move { call.send(&client, &base).await }
        };

        // Opening: the policy and the seed are checked, field by field.
        let rounds = "/v1/rounds";
        let answer = send(
            Call::post(rounds)
                .officer(MANAGER)
                .json(&json!({"policy_toml": "round = 1", "round_seed": SEED})),
        )
        .await;
        answer.problem(422, "invalid-field");
        assert_eq!(answer.json["field"], "policy_toml");
        let policy = enrol_rules::SAMPLE_POLICY_TOML;
        let answer = send(
            Call::post(rounds)
                .officer(MANAGER)
                .json(&json!({"policy_toml": policy, "seed_commitment": "abc"})),
        )
        .await;
        answer.problem(422, "invalid-field");
        assert_eq!(answer.json["field"], "seed_commitment");
        let opened = send(
            Call::post(rounds)
                .officer(MANAGER)
                .json(&json!({"policy_toml": policy, "round_seed": SEED})),
        )
        .await;
        opened.expect(201);
        assert_eq!(opened.location.as_deref(), Some("/v1/rounds/2027-primary"));
        assert_eq!(
            (opened.json["state"].as_str(), opened.json["round_seed"].as_str()),
            (Some("open"), None)
        );
        let mut shown = opened.json.clone();
        redact_times(&mut shown);
        insta::assert_json_snapshot!("round_opened", shown);
        send(
            Call::post(rounds)
                .officer(MANAGER)
                .json(&json!({"policy_toml": policy, "round_seed": SEED})),
        )
        .await
        .problem(409, "round-exists");

        // Families apply through the app.
        for app in &city.applications {
            let body = serde_json::to_value(app).unwrap();
            send(
                Call::post("/v1/applications")
                    .citizen(app.applicant_id.as_str())
                    .json(&body),
            )
            .await
            .expect(201);
        }
        let round_path = format!("/v1/rounds/{ROUND}");
        let detail = send(Call::get(&round_path).officer(VIEWER)).await;
        assert_eq!(detail.expect(200).json["counts"]["pending"], city.applications.len());

        // Verification needs a closed round; then runs in the background.
        send(Call::post(format!("{round_path}/verify")).officer(MANAGER))
            .await
            .problem(409, "round-state");
        send(Call::post(format!("{round_path}/close")).officer(MANAGER))
            .await
            .expect(200);
        let started = send(Call::post(format!("{round_path}/verify")).officer(MANAGER)).await;
        started.expect(202);
        assert_eq!(started.location.as_deref(), Some("/v1/rounds/2027-primary/verify"));
        assert!(
            ["running", "finished"].contains(&started.json["run"]["state"].as_str().unwrap()),
            "{}",
            started.text
        );
        let finished = wait_for_verification(&client, &base).await;
        assert_eq!(finished["run"]["state"], "finished", "{finished}");
        assert_eq!(finished["run"]["started_by"], "wang.fang");
        let progress = &finished["run"]["progress"];
        assert_eq!(
            (progress["done"].as_u64(), progress["total"].as_u64()),
            (Some(40), Some(40)),
            "{finished}"
        );
        let counts = finished["counts"].clone();
        assert_eq!(counts["pending"], 0, "{finished}");
        let total: u64 = ["eligible", "review", "ineligible"]
            .iter()
            .map(|k| counts[k].as_u64().unwrap())
            .sum();
        assert_eq!(total as usize, city.applications.len());

        // Reviews: reject all but one; accepting the last with nothing established leaves it in review.
        let queue = send(Call::get(format!("{round_path}/reviews")).officer(VIEWER)).await;
        let queue = queue.expect(200).json.as_array().unwrap().clone();
        assert_eq!(queue.len() as u64, counts["review"].as_u64().unwrap());
        assert!(queue.iter().all(|item| item["decision"]["status"] == "review"
            && !item["decision"]["reasons"].as_array().unwrap().is_empty()));
        for (i, item) in queue.iter().enumerate() {
            let id = item["application"]["application_id"].as_str().unwrap();
            let path = format!("{round_path}/reviews/{id}");
            if i + 1 < queue.len() {
                send(
                    Call::post(&path)
                        .officer(REVIEWER)
                        .json(&json!({"resolution": "reject"})),
                )
                .await
                .problem(422, "invalid-field");
                let rejected = send(
                    Call::post(&path)
                        .officer(REVIEWER)
                        .json(&json!({"resolution": "reject", "reason": "材料不符 / records disagree"})),
                )
                .await;
                assert_eq!(rejected.expect(200).json["state"], "rejected");
                assert_eq!(rejected.json["reason"], "材料不符 / records disagree");
            } else {
                let accepted = send(
                    Call::post(&path)
                        .officer(MANAGER)
                        .json(&json!({"resolution": "accept", "facts": {}, "note": "nothing established"})),
                )
                .await;
                assert_eq!(accepted.expect(200).json["state"], "decided");
                assert_eq!(accepted.json["status"], "review");
            }
        }

        // An officer excludes one eligible application while the round is closed.
        let page = send(Call::get(format!("{round_path}/applications?limit=1000")).officer(VIEWER)).await;
        let page = page.expect(200).json.clone();
        assert_eq!(page["next_after"], Value::Null);
        let listed = page["applications"].as_array().unwrap();
        assert_eq!(listed.len(), city.applications.len());
        let eligible: Vec<&str> = listed
            .iter()
            .filter(|a| a["status"] == "eligible")
            .map(|a| a["application_id"].as_str().unwrap())
            .collect();
        let excluded = eligible[0];
        let reason = "重复报名 / applied twice";
        send(
            Call::post(format!("{round_path}/exclusions"))
                .officer(REVIEWER)
                .json(&json!({"application_id": excluded, "reason": reason})),
        )
        .await
        .expect(200);
        let first_page = send(Call::get(format!("{round_path}/applications?limit=7")).officer(VIEWER)).await;
        let next = first_page.json["next_after"].as_str().unwrap().to_owned();
        let second_page =
            send(Call::get(format!("{round_path}/applications?limit=7&after={next}")).officer(VIEWER)).await;
        assert!(second_page.json["applications"][0]["application_id"].as_str().unwrap() > next.as_str());
        send(Call::get(format!("{round_path}/applications?limit=0")).officer(VIEWER))
            .await
            .problem(422, "invalid-field");

        // Finish verification, leaving the one review unplaced.
        let restarted = send(
            Call::post(format!("{round_path}/verify"))
                .officer(MANAGER)
                .json(&json!({"leave_reviews_unplaced": true})),
        )
        .await;
        restarted.expect(202);
        let finished = wait_for_verification(&client, &base).await;
        assert_eq!(
            (finished["state"].as_str(), finished["run"]["verified"].as_bool()),
            (Some("verified"), Some(true)),
            "{finished}"
        );

        // A family sees its decision, without a lottery number until allocation.
        let (app_id, family) = eligible
            .iter()
            .find(|id| **id != excluded)
            .map(|id| {
                (
                    id.to_string(),
                    city.applications
                        .iter()
                        .find(|a| a.application_id.to_string() == *id)
                        .unwrap(),
                )
            })
            .unwrap();
        let decision_path = format!("/v1/applications/{app_id}/decision");
        let decision = send(Call::get(&decision_path).citizen(family.applicant_id.as_str())).await;
        assert_eq!(decision.expect(200).json["status"], "eligible");
        assert!(decision.json.get("lottery").is_none(), "{}", decision.text);
        send(Call::get(format!("{round_path}/reports/schools")).officer(VIEWER))
            .await
            .expect(200);

        // Allocation needs no reveal for a round that took its seed whole.
        send(
            Call::post(format!("{round_path}/allocate"))
                .officer(MANAGER)
                .json(&json!({"sealed_seed": "00", "public_draw": "1"})),
        )
        .await
        .problem(422, "invalid-field");
        let allocated = send(Call::post(format!("{round_path}/allocate")).officer(MANAGER)).await;
        assert_eq!(
            (
                allocated.expect(200).json["state"].as_str(),
                allocated.json["round_seed"].as_str()
            ),
            (Some("allocated"), Some(SEED))
        );
        let decision = send(Call::get(&decision_path).citizen(family.applicant_id.as_str())).await;
        let lottery = enrol_rules::lottery_number(SEED, &family.child_id).to_string();
        assert_eq!(decision.json["lottery"], lottery);
        if backend == "sqlite" {
            insta::assert_json_snapshot!("decision", decision.json);
        }
        send(Call::get(format!("/v1/applications/{app_id}/result")).citizen(family.applicant_id.as_str()))
            .await
            .problem(409, "not-published");

        // Exports and reports once allocated; results once published.
        let assignments = send(Call::get(format!("{round_path}/exports/assignments.csv")).officer(VIEWER)).await;
        assert_eq!(assignments.expect(200).content_type, "text/csv; charset=utf-8");
        let decisions = send(Call::get(format!("{round_path}/exports/decisions.jsonl")).officer(VIEWER)).await;
        assert_eq!(
            decisions.expect(200).content_type,
            "application/x-ndjson; charset=utf-8"
        );
        let output = api.orchestrator.output(ROUND).await.unwrap();
        assert_eq!(assignments.text, output.assignments_csv);
        assert_eq!(decisions.text, output.decisions_jsonl);
        send(Call::get(format!("{round_path}/exports/passwords.txt")).officer(VIEWER))
            .await
            .problem(404, "not-found");
        send(Call::post(format!("{round_path}/publish")).officer(MANAGER))
            .await
            .expect(200);

        let mut seats: BTreeMap<String, (String, String)> = BTreeMap::new();
        for line in assignments.text.lines().skip(1) {
            let fields: Vec<&str> = line.split(',').collect();
            seats.insert(fields[0].to_owned(), (fields[3].to_owned(), fields[4].to_owned()));
        }
        for app in &city.applications {
            let id = app.application_id.to_string();
            let result =
                send(Call::get(format!("/v1/applications/{id}/result")).citizen(app.applicant_id.as_str())).await;
            result.expect(200);
            match seats.get(&id) {
                Some((school, route)) if !school.is_empty() => {
                    assert_eq!(
                        (result.json["state"].as_str(), result.json["school_id"].as_str()),
                        (Some("placed"), Some(school.as_str()))
                    );
                    assert_eq!(result.json["route"], route.as_str());
                }
                _ => {
                    assert_eq!(result.json["school_id"], Value::Null, "{}", result.text);
                    assert_eq!(result.json["route"], "none");
                }
            }
        }
        let excluded_result = send(Call::get(format!("/v1/applications/{excluded}/result")).officer(VIEWER)).await;
        excluded_result.problem(401, "unauthenticated");

        let reports = send(Call::get(format!("{round_path}/reports/schools")).officer(VIEWER)).await;
        let reports = reports.expect(200).json.as_array().unwrap().clone();
        let assigned: u64 = reports.iter().map(|r| r["assigned"].as_u64().unwrap()).sum();
        let placed = seats.values().filter(|(school, _)| !school.is_empty()).count() as u64;
        assert_eq!(assigned, placed);

        let officer_view = send(Call::get(format!("{round_path}/applications/{excluded}")).officer(VIEWER)).await;
        officer_view.expect(200);
        assert_eq!(
            (
                officer_view.json["status"]["state"].as_str(),
                officer_view.json["status"]["reason"].as_str()
            ),
            (Some("excluded"), Some(reason))
        );
        assert_eq!(
            officer_view.json["application"],
            serde_json::to_value(
                city.applications
                    .iter()
                    .find(|a| a.application_id.to_string() == excluded)
                    .unwrap()
            )
            .unwrap()
        );

        let audit = send(Call::get(format!("{round_path}/audit?limit=1000")).officer(VIEWER)).await;
        let entries = audit.expect(200).json["entries"].as_array().unwrap().clone();
        let officer_actions: Vec<(String, String)> = entries
            .iter()
            .filter(|e| !e["actor"].as_str().unwrap().starts_with("app:"))
            .map(|e| {
                (
                    e["action"].as_str().unwrap().to_owned(),
                    e["actor"].as_str().unwrap().to_owned(),
                )
            })
            .filter(|(action, _)| !action.starts_with("registry"))
            .collect();
        for expected in [
            ("round_opened", "wang.fang"),
            ("round_closed", "wang.fang"),
            ("application_excluded", "li.ming"),
            ("review_rejected", "li.ming"),
            ("review_accepted", "wang.fang"),
            ("round_verified", "wang.fang"),
            ("round_allocated", "wang.fang"),
            ("round_published", "wang.fang"),
        ] {
            assert!(
                officer_actions.contains(&(expected.0.to_owned(), expected.1.to_owned())),
                "[{backend}] {expected:?} missing from {officer_actions:?}"
            );
        }

        outputs.push((
            backend.to_owned(),
            output.assignments_csv.clone(),
            output.decisions_jsonl.clone(),
        ));
        server.stop().await;
        api.db.cleanup().await.unwrap();
    }
    // Same city, same seed, same API calls: the same bytes on every backend.
    let (_, assignments, decisions) = &outputs[0];
    for (backend, a, d) in &outputs[1..] {
        assert_eq!(a, assignments, "{backend} assignments differ");
        assert_eq!(d, decisions, "{backend} decisions differ");
    }
    assert_eq!(assignments.lines().count(), city.applications.len() + 1);
    city.sim.shutdown().await.unwrap();
}
