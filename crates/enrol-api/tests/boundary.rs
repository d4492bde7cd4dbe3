//! The family-facing boundary under abuse: caps and formats at the door
//! (each a 422 naming its field, nothing stored), sealed live rounds, and
//! rate limits per app and per citizen (429 with Retry-After).

mod common;

use common::*;
use enrol_store::testing::TestDb;
use serde_json::json;

fn ids(n: u32) -> Vec<String> {
    (0..n).map(|i| person("19900101", 100 + i).to_string()).collect()
}

#[tokio::test]
async fn every_cap_answers_422_naming_its_field_and_stores_nothing() {
    let api = Api::new(TestDb::sqlite().await.unwrap(), NO_REGISTRIES);
    api.open_round().await;
    let (mother, child) = (person("19880312", 4), person("20201115", 2));
    let good = application(1, &child, &mother, &[]);
    let post = || Call::post("/v1/applications").citizen(mother.as_str());

    let cases: Vec<(&str, serde_json::Value)> = vec![
        ("guardian_ids", json!(ids(5))),
        ("sibling_ids", json!(ids(9))),
        // Hundreds of siblings, as in the abuse: refused at the door, no registry read.
        ("sibling_ids", json!(ids(300))),
        (
            "choices",
            json!((0..21).map(|i| format!("S{i:03}")).collect::<Vec<_>>()),
        ),
        ("consent_id", json!("")),
        ("consent_id", json!("CNS 2027")),
        ("consent_id", json!("C".repeat(65))),
    ];
    for (field, value) in cases {
        let mut bad = good.clone();
        bad[field] = value;
        let answer = api.call(post().json(&bad)).await;
        answer.problem(422, "invalid-field");
        assert_eq!(
            (answer.json["field"].as_str(), answer.json["pointer"].as_str()),
            (Some(field), Some(format!("/{field}").as_str())),
            "{}",
            answer.text
        );
    }
    assert!(
        api.orchestrator.applications(ROUND).await.unwrap().is_empty(),
        "nothing stored"
    );

    // At the caps, and with repeats counted once, the application stands.
    let mut full = good.clone();
    full["guardian_ids"] = json!(ids(4).into_iter().chain(ids(4)).collect::<Vec<_>>());
    full["sibling_ids"] = json!(ids(8));
    full["choices"] = json!((0..20).map(|i| format!("S{i:03}")).collect::<Vec<_>>());
    full["consent_id"] = json!("C".repeat(64));
    api.call(post().json(&full)).await.expect(201);
    api.db.cleanup().await.unwrap();
}

#[tokio::test]
async fn a_live_server_refuses_a_whole_round_seed() {
    let api = Api::new(TestDb::sqlite().await.unwrap(), NO_REGISTRIES);
    let policy = enrol_rules::SAMPLE_POLICY_TOML;
    let answer = api
        .call(
            Call::post("/v1/rounds")
                .officer(MANAGER)
                .json(&json!({"policy_toml": policy, "round_seed": "chosen-by-one-insider"})),
        )
        .await;
    answer.problem(422, "invalid-field");
    assert_eq!(answer.json["field"], "round_seed");
    assert!(api.orchestrator.rounds().await.unwrap().is_empty(), "no round opened");

    // A sealed round opens, and the audit log says it is live.
    let commitment = "a".repeat(64);
    api.call(
        Call::post("/v1/rounds")
            .officer(MANAGER)
            .json(&json!({"policy_toml": policy, "seed_commitment": commitment})),
    )
    .await
    .expect(201);
    let audit = api.orchestrator.audit_log(ROUND, None, 10).await.unwrap();
    let opened = audit.iter().find(|e| e.action == "round_opened").expect("opened");
    assert_eq!(opened.details["round_kind"], "live");
    api.db.cleanup().await.unwrap();

    // A development server takes it, and says the round is a demo or an audit.
    let dev = Api::dev(TestDb::sqlite().await.unwrap(), NO_REGISTRIES);
    dev.call(
        Call::post("/v1/rounds")
            .officer(MANAGER)
            .json(&json!({"policy_toml": policy, "round_seed": "demo-seed"})),
    )
    .await
    .expect(201);
    let audit = dev.orchestrator.audit_log(ROUND, None, 10).await.unwrap();
    assert_eq!(audit[0].details["round_kind"], "demo_or_audit");
    dev.db.cleanup().await.unwrap();
}

#[tokio::test]
async fn rate_limits_answer_429_with_retry_after_per_citizen_and_per_app() {
    let mut config = config();
    config.rate_limits = enrol_api::RateLimits {
        app: Some(enrol_api::RateLimit {
            per_minute: 60,
            burst: 6,
        }),
        citizen: Some(enrol_api::RateLimit {
            per_minute: 6,
            burst: 3,
        }),
    };
    let api = Api::with_config(TestDb::sqlite().await.unwrap(), NO_REGISTRIES, config);
    api.open_round().await;
    let path = format!("/v1/applications/{}", uuid::Uuid::from_u128(1));
    let (a, b, c) = (person("19880312", 4), person("19870506", 1), person("19900101", 7));

    // A citizen's burst of 3, then a problem with Retry-After (10 s a request at 6 a minute).
    for _ in 0..3 {
        api.call(Call::get(&path).citizen(a.as_str()))
            .await
            .problem(404, "not-found");
    }
    let refused = api.call(Call::get(&path).citizen(a.as_str())).await;
    refused.problem(429, "too-many-requests");
    let retry: u64 = refused.retry_after.as_deref().expect("Retry-After").parse().unwrap();
    assert!((1..=10).contains(&retry), "Retry-After {retry}");

    // Another citizen of the same app still gets through, until the app's burst (6) is spent.
    for _ in 0..2 {
        api.call(Call::get(&path).citizen(b.as_str()))
            .await
            .problem(404, "not-found");
    }
    // The app's limit runs before the citizen's, so it counted all 6 so far:
    // a third citizen meets the app's limit (tried a few times, should a
    // slow machine have let the bucket refill by one).
    let mut app_refused = None;
    for _ in 0..3 {
        let answer = api.call(Call::get(&path).citizen(c.as_str())).await;
        if answer.status.as_u16() == 429 {
            app_refused = Some(answer);
            break;
        }
    }
    let app_refused = app_refused.expect("the app's limit holds");
    app_refused.problem(429, "too-many-requests");
    assert!(app_refused.retry_after.is_some());

    // An unknown caller is refused before any limit: it spends no one's quota.
    api.call(Call::get(&path).header("X-Api-Key", "guess-guess-guess-guess"))
        .await
        .problem(401, "unauthenticated");
    api.db.cleanup().await.unwrap();
}
