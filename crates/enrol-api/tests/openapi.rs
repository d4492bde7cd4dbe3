//! The OpenAPI document: served, complete, snapshot-tested; and the bodies it
//! describes are exactly the engine's formats.md JSON.

mod common;

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

    // Every route the router serves is documented, with its methods.
    let paths = document["paths"].as_object().unwrap();
    for (path, methods) in [
        ("/v1/applications", &["post"][..]),
        ("/v1/applications/{application_id}", &["get", "delete"]),
        ("/v1/applications/{application_id}/decision", &["get"]),
        ("/v1/applications/{application_id}/result", &["get"]),
        ("/v1/rounds", &["get", "post"]),
        ("/v1/rounds/{round}", &["get"]),
        ("/v1/rounds/{round}/close", &["post"]),
        ("/v1/rounds/{round}/verify", &["get", "post"]),
        ("/v1/rounds/{round}/allocate", &["post"]),
        ("/v1/rounds/{round}/publish", &["post"]),
        ("/v1/rounds/{round}/applications", &["get"]),
        ("/v1/rounds/{round}/applications/{application_id}", &["get"]),
        ("/v1/rounds/{round}/exclusions", &["post"]),
        ("/v1/rounds/{round}/corrections", &["post"]),
        ("/v1/rounds/{round}/reviews", &["get"]),
        ("/v1/rounds/{round}/reviews/{application_id}", &["post"]),
        ("/v1/rounds/{round}/reports/schools", &["get"]),
        ("/v1/rounds/{round}/audit", &["get"]),
        ("/v1/rounds/{round}/exports/{file}", &["get"]),
        ("/health", &["get"]),
    ] {
        for method in methods {
            assert!(
                paths.get(path).and_then(|p| p.get(*method)).is_some(),
                "{method} {path} is not documented"
            );
        }
    }
    assert_eq!(paths.len(), 20, "a documented path the test does not know");
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
    assert_eq!(properties(&document, "Decision"), keys(&engine));
}
