//! The OpenAPI document: served, complete, snapshot-tested; and the bodies it
//! describes are exactly the engine's formats.md JSON.

mod common;

use axum::http::Method;
use common::*;
use enrol_store::testing::TestDb;
use serde_json::Value;

#[tokio::test]
async fn the_document_is_served_and_matches_the_snapshot() {
    let api = Api::new(TestDb::sqlite().await.unwrap(), NO_REGISTRIES);
    let answer = api.call(Call::get("/openapi.json")).await;
    answer.expect(200);
    assert!(answer.content_type.starts_with("application/json"));
    let document = answer.json.clone();
    assert_eq!(document["openapi"], "3.1.0");
    assert_eq!(document, serde_json::to_value(enrol_api::openapi()).unwrap());

    // The router serves every documented operation, and no other method on
    // its path. (That every route is documented holds by construction: the
    // router and the document come from the same `routes!` list.) Without
    // credentials a served route answers 401, or 200 for the open ones.
    let paths = document["paths"].as_object().unwrap();
    let methods = [Method::GET, Method::POST, Method::PUT, Method::PATCH, Method::DELETE];
    for (path, item) in paths {
        let concrete = path
            .replace("{application_id}", "a0000000-0000-4000-8000-000000000001")
            .replace("{round}", "2027-primary")
            .replace("{file}", "assignments.csv");
        assert!(!concrete.contains('{'), "a path parameter the test cannot fill: {path}");
        for method in &methods {
            let name = method.as_str().to_ascii_lowercase();
            if let Some(operation) = item.get(&name) {
                let answer = api.call(Call::new(method.clone(), concrete.clone())).await;
                let expected = if operation.get("security").is_none() { 200 } else { 401 };
                assert_eq!(answer.status.as_u16(), expected, "{method} {path}: {}", answer.text);
            } else {
                // Signed in as everyone at once, so that only the method is wrong.
                let call = Call::new(method.clone(), concrete.clone())
                    .citizen("370811202102141034")
                    .officer(MANAGER);
                let answer = api.call(call).await;
                assert_eq!(
                    answer.status.as_u16(),
                    405,
                    "{method} {path} is served but not documented: {}",
                    answer.text
                );
            }
        }
    }
    insta::assert_json_snapshot!("openapi", document);
    api.db.cleanup().await.unwrap();
}

fn properties(document: &Value, schema: &str) -> Vec<String> {
    let mut names: Vec<String> = document["components"]["schemas"][schema]["properties"]
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect();
    names.sort();
    names
}

fn keys(value: &Value) -> Vec<String> {
    let mut names: Vec<String> = value.as_object().unwrap().keys().cloned().collect();
    names.sort();
    names
}

#[test]
fn documented_bodies_are_the_formats_json() {
    let document = serde_json::to_value(enrol_api::openapi()).unwrap();
    let app = application(1, &person("20201115", 2), &person("19880312", 4), &[]);
    let parsed: enrol_domain::Application = serde_json::from_value(app).unwrap();
    let domain = serde_json::to_value(&parsed).unwrap();
    assert_eq!(properties(&document, "Application"), keys(&domain));
    let required: Vec<&str> = document["components"]["schemas"]["Application"]["required"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(
        required.len(),
        keys(&domain).len(),
        "every field of an application is required"
    );

    // A decision with every optional part, through the API's type and straight from the engine.
    let decision: enrol_domain::Decision = serde_json::from_value(serde_json::json!({
        "application_id": "0b6f3c1e-5f7a-4f1e-9a4b-2d1c0e9f8a77", "child_id": "370811202011150023",
        "status": "eligible",
        "schools": [{"school_id": "S031", "priority": "lottery", "sibling": false, "key": [0, 1]}],
        "preferences": ["S031"], "lottery": "9f2c4e1a07b3d658",
        "reasons": [{"code": "private_school_lottery", "zh": "民办", "en": "Private", "evidence": ["zones:S031"]}]
    }))
    .unwrap();
    let engine = serde_json::to_value(&decision).unwrap();
    let api = serde_json::to_value(enrol_api::Decision::from(decision)).unwrap();
    assert_eq!(api, engine);
    // The one extension, documented in docs/api.md: absent when empty.
    let mut documented = properties(&document, "Decision");
    documented.retain(|p| p != "why_not_better_tier");
    assert_eq!(documented, keys(&engine));
}
