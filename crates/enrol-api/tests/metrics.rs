//! `/metrics` over a scripted round: every counter moves by exactly what the
//! round did, cross-checked against the simulator's own access log. Its own
//! test binary: the Prometheus recorder is process-wide, so no other test
//! may add to it meanwhile.

mod common;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use common::*;
use enrol_domain::Registry;
use enrol_registry_sim::Registry as SimRegistry;
use enrol_store::testing::TestDb;
use serde_json::json;

/// One scrape: `(name, labels) → value`.
#[derive(Debug, Default)]
struct Scrape(Vec<(String, BTreeMap<String, String>, f64)>);

impl Scrape {
    fn parse(text: &str) -> Scrape {
        let mut series = Vec::new();
        for line in text.lines().filter(|l| !l.starts_with('#') && !l.trim().is_empty()) {
            let (head, value) = line.rsplit_once(' ').expect("`series value`");
            let value: f64 = value.parse().unwrap_or_else(|_| panic!("a number in {line:?}"));
            let (name, labels) = match head.split_once('{') {
                Some((name, rest)) => (name, rest.trim_end_matches('}')),
                None => (head, ""),
            };
            let labels = labels
                .split("\",")
                .filter(|l| !l.is_empty())
                .map(|pair| {
                    let (k, v) = pair.split_once('=').expect("label=value");
                    (k.to_owned(), v.trim_matches('"').to_owned())
                })
                .collect();
            series.push((name.to_owned(), labels, value));
        }
        Scrape(series)
    }

    /// The sum over the series of `name` whose labels include `labels`.
    fn sum(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        self.0
            .iter()
            .filter(|(n, l, _)| n == name && labels.iter().all(|(k, v)| l.get(*k).map(String::as_str) == Some(*v)))
            .map(|(_, _, v)| v)
            .sum()
    }
}

async fn scrape(client: &reqwest::Client, base: &str) -> (String, Scrape) {
    let answer = Call::get("/metrics").officer(VIEWER).send(client, base).await;
    answer.expect(200);
    assert!(answer.content_type.starts_with("text/plain"), "{}", answer.content_type);
    let parsed = Scrape::parse(&answer.text);
    (answer.text, parsed)
}

fn sim_registry(r: Registry) -> SimRegistry {
    SimRegistry::ALL
        .into_iter()
        .find(|s| s.segment() == enrol_registry_client::wire_segment(r))
        .expect("the simulator serves every registry")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn counters_move_by_what_a_scripted_round_did() {
    let city = City::start(24, 18).await;
    // A demo round (a whole seed): a development server.
    let api = Api::dev(TestDb::sqlite().await.unwrap(), &city.sim.base_url());
    let server = Server::start(api.router.clone()).await;
    let (client, base) = (reqwest::Client::new(), server.base.clone());
    let send = |call: Call| {
        let (client, base) = (client.clone(), base.clone());
        async move { call.send(&client, &base).await }
    };

    // Credentials: /metrics is an officer's (any role), never anonymous.
    send(Call::get("/metrics")).await.problem(401, "unauthenticated");
    let (_, before) = scrape(&client, &base).await;
    let n = city.applications.len();

    send(
        Call::post("/v1/rounds")
            .officer(MANAGER)
            .json(&json!({"policy_toml": enrol_rules::SAMPLE_POLICY_TOML, "round_seed": SEED})),
    )
    .await
    .expect(201);
    for app in &city.applications {
        send(
            Call::post("/v1/applications")
                .citizen(app.applicant_id.as_str())
                .json(&serde_json::to_value(app).unwrap()),
        )
        .await
        .expect(201);
    }
    // A retried submission answers 200 and is counted as such.
    let first = &city.applications[0];
    send(
        Call::post("/v1/applications")
            .citizen(first.applicant_id.as_str())
            .json(&serde_json::to_value(first).unwrap()),
    )
    .await
    .expect(200);
    let round = format!("/v1/rounds/{ROUND}");
    send(Call::post(format!("{round}/close")).officer(MANAGER))
        .await
        .expect(200);
    send(
        Call::post(format!("{round}/verify"))
            .officer(MANAGER)
            .json(&json!({"leave_reviews_unplaced": true})),
    )
    .await
    .expect(202);
    let mut polls = 0;
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let answer = send(Call::get(format!("{round}/verify")).officer(VIEWER)).await;
        polls += 1;
        if answer.expect(200).json["run"]["state"] != "running" {
            assert_eq!(answer.json["run"]["state"], "finished", "{}", answer.text);
            break;
        }
        assert!(Instant::now() < deadline, "verification did not finish");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    send(Call::post(format!("{round}/allocate")).officer(MANAGER))
        .await
        .expect(200);
    send(Call::post(format!("{round}/publish")).officer(MANAGER))
        .await
        .expect(200);

    let (text, after) = scrape(&client, &base).await;
    let delta = |name: &str, labels: &[(&str, &str)]| after.sum(name, labels) - before.sum(name, labels);

    // HTTP: by route template, method and status; the histogram counts the same requests.
    let submit = [("method", "POST"), ("route", "/v1/applications")];
    assert_eq!(
        delta("enrol_http_requests_total", &[submit[0], submit[1], ("status", "201")]),
        n as f64
    );
    assert_eq!(
        delta("enrol_http_requests_total", &[submit[0], submit[1], ("status", "200")]),
        1.0
    );
    assert_eq!(
        delta("enrol_http_request_duration_seconds_count", &submit),
        n as f64 + 1.0
    );
    let poll = [
        ("method", "GET"),
        ("route", "/v1/rounds/{round}/verify"),
        ("status", "200"),
    ];
    assert_eq!(delta("enrol_http_requests_total", &poll), f64::from(polls));
    for action in ["close", "allocate", "publish"] {
        let route = format!("/v1/rounds/{{round}}/{action}");
        assert_eq!(
            delta("enrol_http_requests_total", &[("route", &route), ("status", "200")]),
            1.0,
            "{action}"
        );
    }
    // The refused scrape came before the first: absolute counts (this binary's only test).
    assert_eq!(
        after.sum("enrol_http_requests_total", &[("route", "/metrics"), ("status", "401")]),
        1.0
    );
    assert_eq!(
        after.sum("enrol_http_requests_total", &[("route", "/metrics"), ("status", "200")]),
        1.0
    );

    // Registry calls: exactly the requests the simulator logged, by outcome.
    for registry in Registry::ALL {
        let name = registry.citation_name();
        let log = city.sim.access_log(sim_registry(registry));
        let by_status = |status: u16| log.iter().filter(|e| e.status == status).count() as f64;
        let labels = [("registry", name)];
        assert_eq!(
            delta("enrol_registry_requests_total", &labels),
            log.len() as f64,
            "{name}"
        );
        assert_eq!(
            delta("enrol_registry_requests_total", &[labels[0], ("outcome", "answered")]),
            by_status(200),
            "{name}"
        );
        assert_eq!(
            delta("enrol_registry_requests_total", &[labels[0], ("outcome", "not_found")]),
            by_status(404),
            "{name}"
        );
        assert_eq!(
            delta("enrol_registry_retries_total", &labels),
            0.0,
            "no faults, no retries"
        );
        assert_eq!(
            delta("enrol_registry_request_duration_seconds_count", &labels),
            log.len() as f64
        );
        assert_eq!(after.sum("enrol_registry_breaker_state", &labels), 0.0, "{name} closed");
    }
    assert!(after.sum("enrol_registry_requests_total", &[]) > 0.0);

    // Verification: every application once (one pass, nothing pending).
    assert_eq!(
        delta("enrol_verification_applications_total", &[("round", ROUND)]),
        n as f64
    );
    assert_eq!(after.sum("enrol_verification_running", &[("round", ROUND)]), 0.0);
    assert_eq!(after.sum("enrol_verification_pass_done", &[("round", ROUND)]), n as f64);

    // Applications by round and state, as stored; the round's state.
    assert_eq!(after.sum("enrol_applications", &[("round", ROUND)]), n as f64);
    let page = send(Call::get(format!("{round}/applications?limit=1000")).officer(VIEWER)).await;
    let mut by_state: BTreeMap<String, f64> = BTreeMap::new();
    for app in page.expect(200).json["applications"].as_array().unwrap() {
        *by_state.entry(app["state"].as_str().unwrap().to_owned()).or_default() += 1.0;
    }
    for (state, count) in &by_state {
        assert_eq!(
            after.sum("enrol_applications", &[("round", ROUND), ("state", state)]),
            *count,
            "{state}"
        );
    }
    assert_eq!(
        after.sum("enrol_round_state", &[("round", ROUND), ("state", "published")]),
        1.0
    );
    assert_eq!(after.sum("enrol_round_state", &[("round", ROUND)]), 1.0);
    assert_eq!(after.sum("enrol_db_up", &[]), 1.0);
    assert!(after.sum("enrol_db_pool_max_connections", &[]) >= 1.0);

    // No label carries a national ID (or any long run of digits).
    for app in &city.applications {
        for id in [&app.child_id, &app.applicant_id] {
            assert!(!text.contains(id.as_str()), "a national ID in /metrics");
        }
    }
    for (name, labels, _) in &after.0 {
        for value in labels.values() {
            let longest = value
                .split(|c: char| !c.is_ascii_digit())
                .map(str::len)
                .max()
                .unwrap_or(0);
            assert!(longest < 15, "{name}: a long digit run in a label: {value}");
        }
    }

    server.stop().await;
    api.db.cleanup().await.unwrap();
}
