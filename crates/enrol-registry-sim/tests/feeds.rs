//! The zone registry of policy-junior.md: a primary school's `feeds` (对口直升)
//! are served as the dataset holds them (absent when none), and a building's
//! zoned schools of both stages are served whole: a round takes its own stage.

use std::path::Path;

use enrol_registry_sim::{Dataset, SimConfig, Simulator};
use serde_json::Value;

#[tokio::test]
async fn feeds_and_both_stages_are_served_as_the_dataset_holds_them() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/cities/sample");
    let sim = Simulator::start(
        Dataset::load(&dir).expect("the sample city loads"),
        SimConfig::default(),
        "127.0.0.1:0".parse().expect("addr"),
    )
    .await
    .expect("simulator starts");
    let get = |path: &str| {
        let url = format!("{}{path}", sim.base_url());
        async move {
            let answer = reqwest::Client::new()
                .get(url)
                .header("X-Api-Key", "dev-key")
                .send()
                .await
                .expect("an answer");
            assert_eq!(answer.status(), 200);
            answer.json::<Value>().await.expect("JSON")
        }
    };
    let schools = get("/zones/v1/schools").await;
    let by_id = |id: &str| {
        schools
            .as_array()
            .expect("an array")
            .iter()
            .find(|s| s["id"] == id)
            .cloned()
            .unwrap_or_else(|| panic!("{id}"))
    };
    assert_eq!(by_id("S101")["feeds"], serde_json::json!(["S302"]));
    assert_eq!(by_id("S102")["feeds"], serde_json::json!(["S301", "S302"]));
    assert!(
        by_id("S103").get("feeds").is_none(),
        "absent means none, and is served absent"
    );
    assert!(by_id("S302").get("feeds").is_none(), "a junior school never carries it");
    assert_eq!(by_id("S302")["stage"], "junior");

    let building = get("/zones/v1/buildings/370811-001-00020").await;
    assert_eq!(building["schools"], serde_json::json!(["S101", "S102", "S302"]));
    sim.shutdown().await.expect("stops");
}
