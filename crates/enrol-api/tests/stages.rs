//! Two rounds open at once on one server (幼升小 and 小升初), over a real
//! socket against the sample city: the family of F19 (a six-year-old) and
//! J01 (董航, twelve, in grade 6 at S102) applies to both, and each child is
//! decided and seated by its own round's policy, as the sample README says.

mod common;

use std::net::SocketAddr;
use std::path::Path;
use std::time::{Duration, Instant};

use common::*;
use enrol_registry_sim::{Dataset, SimConfig, Simulator};
use enrol_store::testing::TestDb;
use serde_json::{Value, json};

const PARENT: &str = "370811198401143380";
const SIX: &str = "a0000000-0000-4000-8000-000000000019";
const TWELVE: &str = "b0000000-0000-4000-8000-000000000001";

fn sample_line(file: &str, id: &str) -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures/cities/sample")
        .join(file);
    std::fs::read_to_string(&path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .find(|v| v["application_id"] == id)
        .unwrap_or_else(|| panic!("{id} in {file}"))
}

async fn wait_verified(client: &reqwest::Client, base: &str, round: &str) {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let answer = Call::get(format!("/v1/rounds/{round}/verify"))
            .officer(VIEWER)
            .send(client, base)
            .await;
        answer.expect(200);
        if answer.json["run"]["state"] != "running" {
            assert_eq!(answer.json["state"], "verified", "{round}: {}", answer.text);
            return;
        }
        assert!(Instant::now() < deadline, "{round}: verification did not finish");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_family_applies_to_the_primary_and_the_junior_round_open_at_once() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/cities/sample");
    let addr: SocketAddr = "127.0.0.1:0".parse().unwrap();
    let sim = Simulator::start(Dataset::load(&dir).unwrap(), SimConfig::default(), addr)
        .await
        .unwrap();
    // A demo round (a whole seed): a development server.
    let api = Api::dev(TestDb::sqlite().await.unwrap(), &sim.base_url());
    let server = Server::start(api.router.clone()).await;
    let (client, base) = (reqwest::Client::new(), server.base.clone());
    let send = |call: Call| {
        let (client, base) = (client.clone(), base.clone());
        async move { call.send(&client, &base).await }
    };

    for policy in [enrol_rules::SAMPLE_POLICY_TOML, enrol_rules::SAMPLE_JUNIOR_POLICY_TOML] {
        send(
            Call::post("/v1/rounds")
                .officer(MANAGER)
                .json(&json!({"policy_toml": policy, "round_seed": SEED})),
        )
        .await
        .expect(201);
    }
    let rounds = send(Call::get("/v1/rounds").officer(VIEWER)).await;
    let open: Vec<&str> = rounds
        .expect(200)
        .json
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["state"] == "open")
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert_eq!(open, ["2027-junior", "2027-primary"], "{}", rounds.text);

    // One parent, two children, two rounds.
    let six = sample_line("applications.jsonl", SIX);
    let twelve = sample_line("applications-junior.jsonl", TWELVE);
    assert_eq!(
        (six["applicant_id"].as_str(), twelve["applicant_id"].as_str()),
        (Some(PARENT), Some(PARENT))
    );
    for body in [&six, &twelve] {
        send(Call::post("/v1/applications").citizen(PARENT).json(body))
            .await
            .expect(201);
    }
    // A child's application names its round: the twelve-year-old again in the junior round is a conflict.
    let mut again = twelve.clone();
    again["application_id"] = json!("b0000000-0000-4000-8000-0000000000ff");
    send(Call::post("/v1/applications").citizen(PARENT).json(&again))
        .await
        .expect(409);

    for round in ["2027-primary", "2027-junior"] {
        send(Call::post(format!("/v1/rounds/{round}/close")).officer(MANAGER))
            .await
            .expect(200);
        send(Call::post(format!("/v1/rounds/{round}/verify")).officer(MANAGER))
            .await
            .expect(202);
    }
    for round in ["2027-primary", "2027-junior"] {
        wait_verified(&client, &base, round).await;
    }

    let decision = |id: &str| {
        let send = &send;
        let id = id.to_owned();
        async move { send(Call::get(format!("/v1/applications/{id}/decision")).citizen(PARENT)).await }
    };
    let first = decision(SIX).await;
    assert_eq!(first.expect(200).json["status"], "eligible");
    let schools: Vec<(&str, &str)> = first.json["schools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["school_id"].as_str().unwrap(), s["priority"].as_str().unwrap()))
        .collect();
    assert_eq!(schools, [("S102", "tier1")], "F19 in the README: {}", first.text);
    let second = decision(TWELVE).await;
    assert_eq!(second.expect(200).json["status"], "eligible");
    let schools: Vec<(&str, &str)> = second.json["schools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["school_id"].as_str().unwrap(), s["priority"].as_str().unwrap()))
        .collect();
    assert_eq!(
        schools,
        [("S302", "tier1"), ("S301", "tier1")],
        "J01 in the README: {}",
        second.text
    );

    for round in ["2027-primary", "2027-junior"] {
        send(Call::post(format!("/v1/rounds/{round}/allocate")).officer(MANAGER))
            .await
            .expect(200);
        send(Call::post(format!("/v1/rounds/{round}/publish")).officer(MANAGER))
            .await
            .expect(200);
    }
    for (id, school) in [(SIX, "S102"), (TWELVE, "S302")] {
        let result = send(Call::get(format!("/v1/applications/{id}/result")).citizen(PARENT)).await;
        assert_eq!(
            (
                result.expect(200).json["state"].as_str(),
                result.json["school_id"].as_str()
            ),
            (Some("placed"), Some(school)),
            "{}",
            result.text
        );
    }
    server.stop().await;
    sim.shutdown().await.unwrap();
    api.db.cleanup().await.unwrap();
}
