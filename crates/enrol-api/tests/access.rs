//! `GET /v1/rounds/{round}/access?person=`: who read a person's records, when
//! and why, from the durable registry access log, on every backend. Each
//! read the registries saw is listed once; nothing of other persons is shown;
//! the lookup is itself in the audit log.

mod common;

use std::time::{Duration, Instant};

use common::*;
use enrol_registry_sim::Registry;
use enrol_store::testing::TestDb;

async fn verified(api: &Api) {
    let started = api
        .call(
            Call::post(format!("/v1/rounds/{ROUND}/verify"))
                .officer(MANAGER)
                .raw("{\"leave_reviews_unplaced\": true}"),
        )
        .await;
    started.expect(202);
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let answer = api
            .call(Call::get(format!("/v1/rounds/{ROUND}/verify")).officer(VIEWER))
            .await;
        answer.expect(200);
        if answer.json["run"]["state"] != "running" {
            assert_eq!(answer.json["run"]["state"], "finished", "{}", answer.text);
            return;
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
async fn officers_see_who_read_a_persons_records_and_the_lookup_is_audited() {
    let city = City::start(12, 2027).await;
    for db in TestDb::all().await.unwrap() {
        let backend = db.backend;
        city.sim.clear_access_logs();
        let api = Api::new(db, &city.sim.base_url());
        api.open_round().await;
        for app in &city.applications {
            api.orchestrator.submit_unread(app, "app:test").await.unwrap();
        }
        api.orchestrator.close(ROUND, "setup").await.unwrap();
        verified(&api).await;

        let app = &city.applications[0];
        let child = app.child_id.to_string();
        let path = |query: &str| format!("/v1/rounds/{ROUND}/access?person={child}{query}");

        // What the registries saw naming the child, path by path.
        let mut seen: Vec<String> = Registry::ALL
            .into_iter()
            .flat_map(|r| city.sim.access_log(r))
            .map(|entry| entry.path)
            .filter(|p| p.contains(&child))
            .collect();
        seen.sort();
        assert!(!seen.is_empty(), "{backend:?}: the child's records were read");

        // A viewer may look; the answer lists each of those reads once.
        let answer = api.call(Call::get(path("")).officer(VIEWER)).await;
        answer.expect(200);
        let entries = answer.json["entries"].as_array().unwrap().clone();
        assert_eq!(answer.json["next_after"], serde_json::Value::Null, "{}", answer.text);
        let mut listed: Vec<String> = entries.iter().map(|e| e["path"].as_str().unwrap().to_owned()).collect();
        listed.sort();
        assert_eq!(listed, seen, "{backend:?}: one record per read");
        for entry in &entries {
            assert!(entry["path"].as_str().unwrap().contains(&child), "{entry}");
            assert_eq!(entry["actor"], "wang.fang", "{entry}");
            assert_eq!(entry["application_id"], app.application_id.to_string(), "{entry}");
            assert_eq!(entry["consent_id"], app.consent_id.to_string(), "{entry}");
            assert_eq!(entry["outcome"], "answered", "{entry}");
            assert!(!entry["purpose"].as_str().unwrap().is_empty(), "{entry}");
            assert!(entry["at"].is_string() && entry["registry"].is_string(), "{entry}");
            // Who, when, why, what came of it; never what the registry answered.
            let mut keys: Vec<&str> = entry.as_object().unwrap().keys().map(String::as_str).collect();
            keys.sort();
            assert_eq!(
                keys,
                [
                    "actor",
                    "application_id",
                    "at",
                    "consent_id",
                    "id",
                    "outcome",
                    "path",
                    "purpose",
                    "registry",
                    "status"
                ]
            );
        }

        // Paged: one at a time gives the same records, in id order.
        let mut paged = Vec::new();
        let mut after = String::new();
        loop {
            let answer = api
                .call(Call::get(path(&format!("&limit=1{after}"))).officer(VIEWER))
                .await;
            answer.expect(200);
            paged.extend(answer.json["entries"].as_array().unwrap().iter().cloned());
            match answer.json["next_after"].as_i64() {
                Some(id) => after = format!("&after={id}"),
                None => break,
            }
        }
        assert_eq!(paged, entries, "{backend:?}");

        // The lookups are in the audit log, by the officer, the person as subject.
        let audit = api
            .call(Call::get(format!("/v1/rounds/{ROUND}/audit?limit=1000")).officer(VIEWER))
            .await;
        audit.expect(200);
        let lookups: Vec<&serde_json::Value> = audit.json["entries"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["action"] == "access_log_read")
            .collect();
        assert_eq!(
            lookups.len(),
            1 + entries.len() + 1,
            "{backend:?}: every page looked up is recorded"
        );
        assert!(
            lookups
                .iter()
                .all(|e| e["actor"] == "zhao.lei" && e["subject"] == child.as_str())
        );

        // Refused: a family's key, no person, a malformed person, an unknown round.
        let family = api.call(Call::get(path("")).citizen(&child)).await;
        assert_eq!(family.status.as_u16(), 401, "{}", family.text);
        api.call(Call::get(format!("/v1/rounds/{ROUND}/access")).officer(VIEWER))
            .await
            .problem(422, "invalid-field");
        api.call(Call::get(format!("/v1/rounds/{ROUND}/access?person=12345")).officer(VIEWER))
            .await
            .problem(422, "invalid-field");
        api.call(Call::get(format!("/v1/rounds/2099-none/access?person={child}")).officer(VIEWER))
            .await
            .expect(404);
        api.db.cleanup().await.unwrap();
    }
}
