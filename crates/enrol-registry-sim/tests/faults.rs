//! Faults over real sockets: rates, determinism for a seed, hangs, outages, and where faults
//! sit relative to the key check and the access log.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{Auth, Client, start};
use enrol_registry_sim::{FaultOutcome, FaultPlan, OutageWindow, Registry, RegistryFaults, SimConfig};

const PATH: &str = "/zones/v1/schools";

fn plan(registry: Registry, faults: RegistryFaults) -> FaultPlan {
    match FaultPlan::none().with(registry, faults) {
        Ok(p) => p,
        Err(e) => panic!("{e}"),
    }
}

/// What a client sees: a status, or `None` when it gave up waiting.
async fn status(client: &reqwest::Client, url: &str) -> Option<u16> {
    match client.get(url).header("X-Api-Key", common::KEY).send().await {
        Ok(r) => Some(r.status().as_u16()),
        Err(e) if e.is_timeout() => None,
        Err(e) => panic!("{url}: {e}"),
    }
}

fn expected(outcome: FaultOutcome) -> Option<u16> {
    match outcome {
        FaultOutcome::Pass => Some(200),
        FaultOutcome::Unavailable => Some(503),
        FaultOutcome::RateLimited { .. } => Some(429),
        FaultOutcome::Hang => None,
    }
}

#[tokio::test]
async fn same_seed_gives_the_same_fault_sequence_as_predicted() {
    let faults = RegistryFaults {
        p_503: 0.15,
        p_429: 0.1,
        p_hang: 0.03,
        ..RegistryFaults::default()
    };
    let plan = plan(Registry::Zones, faults);
    let n = 150;
    let mut runs = Vec::new();
    for seed in [11, 11, 12] {
        let sim = start(SimConfig::default().with_faults(plan.clone()).with_seed(seed)).await;
        let client = reqwest::Client::builder()
            // Long enough that only a hang times out, even on a busy debug build.
            .timeout(Duration::from_millis(600))
            .build()
            .expect("client");
        let url = format!("{}{PATH}", sim.base_url());
        let mut seen = Vec::new();
        for _ in 0..n {
            seen.push(status(&client, &url).await);
        }
        runs.push(seen);
        assert!(sim.shutdown().await.is_ok());
    }
    let predicted: Vec<Option<u16>> = plan
        .sequence(11, Registry::Zones)
        .take(n)
        .map(|d| expected(d.outcome))
        .collect();
    assert_eq!(runs[0], predicted, "seed 11 replays the predicted sequence");
    assert_eq!(runs[0], runs[1], "same seed, same sequence");
    assert_ne!(runs[0], runs[2], "another seed, another sequence");
    for s in [Some(200), Some(503), Some(429), None] {
        assert!(runs[0].contains(&s), "{s:?} occurs in 150 requests");
    }
}

#[tokio::test]
async fn measured_rates_match_the_configured_shares() {
    // The flaky shares without the latency, so the run stays short.
    let faults = RegistryFaults {
        latency_ms: 0,
        jitter_ms: 0,
        ..RegistryFaults::flaky()
    };
    let sim = start(
        SimConfig::default()
            .with_faults(plan(Registry::Zones, faults))
            .with_seed(3),
    )
    .await;
    let client = reqwest::Client::builder()
        .timeout(Duration::from_millis(1000))
        .build()
        .expect("client");
    let url = Arc::new(format!("{}{PATH}", sim.base_url()));
    let n = 3000;
    let workers = 12;
    let mut tasks = Vec::new();
    for w in 0..workers {
        let (client, url) = (client.clone(), url.clone());
        tasks.push(tokio::spawn(async move {
            let mut counts = [0usize; 4];
            for _ in (w..n).step_by(workers) {
                let i = match status(&client, &url).await {
                    Some(200) => 0,
                    Some(503) => 1,
                    Some(429) => 2,
                    None => 3,
                    Some(other) => panic!("unexpected status {other}"),
                };
                counts[i] += 1;
            }
            counts
        }));
    }
    let mut counts = [0usize; 4];
    for t in tasks {
        let c = t.await.expect("worker");
        for i in 0..4 {
            counts[i] += c[i];
        }
    }
    assert_eq!(counts.iter().sum::<usize>(), n);
    let share = |c: usize| c as f64 / n as f64;
    // About 4.5 binomial standard deviations at n = 3000.
    assert!((share(counts[1]) - 0.05).abs() < 0.018, "503: {counts:?}");
    assert!((share(counts[2]) - 0.02).abs() < 0.012, "429: {counts:?}");
    assert!((share(counts[3]) - 0.01).abs() < 0.009, "hang: {counts:?}");
    // Faulted requests never reached the registry: only the 200s are logged.
    assert_eq!(sim.access_log(Registry::Zones).len(), counts[0]);
}

#[tokio::test]
async fn flaky_preset_adds_latency_and_keeps_other_answers_intact() {
    let sim = start(
        SimConfig::default()
            .with_faults(FaultPlan::preset("flaky").expect("preset"))
            .with_seed(5),
    )
    .await;
    let client = reqwest::Client::builder()
        .timeout(Duration::from_millis(400))
        .build()
        .expect("client");
    let url = format!("{}{PATH}", sim.base_url());
    let mut answered = 0;
    for _ in 0..40 {
        let started = Instant::now();
        let s = status(&client, &url).await;
        if s.is_some() {
            answered += 1;
            // 30 ms ±20: never below 10 ms.
            assert!(started.elapsed() >= Duration::from_millis(10));
        }
    }
    assert!(answered > 30);
}

#[tokio::test]
async fn rate_limited_answers_carry_retry_after() {
    let faults = RegistryFaults {
        p_429: 1.0,
        retry_after_s: 7,
        ..RegistryFaults::default()
    };
    let sim = start(SimConfig::default().with_faults(plan(Registry::Hukou, faults))).await;
    let c = Client::new(&sim);
    let ex = c.get("/hukou/v1/persons/370811202011150023", Auth::Personal).await;
    common::assert_error_shape(&ex);
    assert_eq!(ex.status, 429);
    assert_eq!(ex.headers.get("retry-after").and_then(|v| v.to_str().ok()), Some("7"));
    insta::assert_json_snapshot!(ex.body);
    // Other registries are untouched.
    assert_eq!(c.get(PATH, Auth::Key).await.status, 200);
}

#[tokio::test]
async fn faults_come_from_the_gateway_before_the_key_check_and_are_not_logged() {
    let faults = RegistryFaults {
        p_503: 1.0,
        ..RegistryFaults::default()
    };
    let sim = start(SimConfig::default().with_faults(plan(Registry::Birth, faults))).await;
    let c = Client::new(&sim);
    let path = "/birth/v1/certificates/370811202011150023";
    let without_key = c.get(path, Auth::Nothing).await;
    common::assert_error_shape(&without_key);
    assert_eq!((without_key.status, without_key.code()), (503, Some("unavailable")));
    insta::assert_json_snapshot!(without_key.body);
    assert_eq!(c.get(path, Auth::Personal).await.status, 503);
    // The access log stays reachable and shows nothing.
    let log = c.get("/birth/v1/_access-log", Auth::Key).await;
    assert_eq!(log.status, 200);
    assert_eq!(log.body, serde_json::json!({"entries": []}));
}

#[tokio::test]
async fn runtime_outage_takes_a_registry_down_and_back() {
    let sim = start(SimConfig::default()).await;
    let c = Client::new(&sim);
    let path = "/hukou/v1/persons/370811202011150023";
    assert_eq!(c.get(path, Auth::Personal).await.status, 200);
    sim.set_outage(Registry::Hukou, true);
    let down = c.get(path, Auth::Personal).await;
    common::assert_error_shape(&down);
    assert_eq!((down.status, down.code()), (503, Some("unavailable")));
    insta::assert_json_snapshot!(down.body);
    // Only that registry is down; its access log stays up.
    assert_eq!(c.get(PATH, Auth::Key).await.status, 200);
    assert_eq!(c.get("/hukou/v1/_access-log", Auth::Key).await.status, 200);
    sim.set_outage(Registry::Hukou, false);
    assert_eq!(c.get(path, Auth::Personal).await.status, 200);
    let statuses: Vec<u16> = sim.access_log(Registry::Hukou).iter().map(|e| e.status).collect();
    assert_eq!(statuses, [200, 200]);
}

#[tokio::test]
async fn outage_window_relative_to_start() {
    let down_now = RegistryFaults {
        outage: Some(OutageWindow {
            from_s: 0.0,
            until_s: 3600.0,
        }),
        ..RegistryFaults::default()
    };
    let later = RegistryFaults {
        outage: Some(OutageWindow {
            from_s: 3600.0,
            until_s: 7200.0,
        }),
        ..RegistryFaults::default()
    };
    let plan = plan(Registry::Zones, down_now)
        .with(Registry::Residence, later)
        .expect("plan");
    let sim = start(SimConfig::default().with_faults(plan)).await;
    let c = Client::new(&sim);
    assert_eq!(c.get(PATH, Auth::Key).await.status, 503);
    assert_eq!(
        c.get("/residence/v1/permits/411522198907070031", Auth::Personal)
            .await
            .status,
        200
    );
}

async fn wait_until(mut done: impl FnMut() -> bool) -> bool {
    for _ in 0..200 {
        if done() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    done()
}

#[tokio::test]
async fn a_hung_request_is_released_when_the_client_gives_up() {
    let faults = RegistryFaults {
        p_hang: 1.0,
        ..RegistryFaults::default()
    };
    let sim = start(SimConfig::default().with_faults(plan(Registry::Zones, faults))).await;
    let client = reqwest::Client::builder()
        .timeout(Duration::from_millis(200))
        .build()
        .expect("client");
    let url = format!("{}{PATH}", sim.base_url());
    let pending = tokio::spawn({
        let (client, url) = (client.clone(), url.clone());
        async move { status(&client, &url).await }
    });
    assert!(wait_until(|| sim.hanging_requests() == 1).await);
    assert_eq!(pending.await.ok(), Some(None), "the client timed out");
    drop(client);
    assert!(
        wait_until(|| sim.hanging_requests() == 0).await,
        "the server let go of the hung request"
    );
    assert!(sim.access_log(Registry::Zones).is_empty());
}

#[tokio::test]
async fn a_hung_request_ends_at_the_cap_or_at_shutdown() {
    let faults = RegistryFaults {
        p_hang: 1.0,
        hang_cap_s: 1,
        ..RegistryFaults::default()
    };
    let sim = start(SimConfig::default().with_faults(plan(Registry::Zones, faults.clone()))).await;
    let c = Client::new(&sim);
    let capped = c.get(PATH, Auth::Key).await;
    assert_eq!((capped.status, capped.code()), (503, Some("unavailable")));
    insta::assert_json_snapshot!(capped.body);

    let faults = RegistryFaults {
        hang_cap_s: 600,
        ..faults
    };
    let sim = start(SimConfig::default().with_faults(plan(Registry::Zones, faults))).await;
    let url = format!("{}{PATH}", sim.base_url());
    let pending = tokio::spawn(async move {
        reqwest::Client::new()
            .get(url)
            .header("X-Api-Key", common::KEY)
            .send()
            .await
            .map(|r| r.status().as_u16())
            .ok()
    });
    assert!(wait_until(|| sim.hanging_requests() == 1).await);
    assert!(sim.shutdown().await.is_ok(), "shutdown does not wait 600 s");
    assert_eq!(pending.await.ok().flatten(), Some(503));
}

#[tokio::test]
async fn fault_file_and_presets_from_the_command_line_argument() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("faults.toml");
    std::fs::write(&file, "[hukou]\np_503 = 1.0\n").expect("write");
    let plan = FaultPlan::from_arg(&file.to_string_lossy()).expect("fault file");
    assert_eq!(plan.registry(Registry::Hukou).p_503, 1.0);
    assert!(plan.registry(Registry::Birth).is_off());
    let sim = start(SimConfig::default().with_faults(plan)).await;
    let c = Client::new(&sim);
    assert_eq!(
        c.get("/hukou/v1/persons/370811202011150023", Auth::Personal)
            .await
            .status,
        503
    );
    assert_eq!(
        c.get("/birth/v1/certificates/370811202011150023", Auth::Personal)
            .await
            .status,
        200
    );
    assert!(FaultPlan::from_arg("none").is_ok_and(|p| p.is_off()));
}
