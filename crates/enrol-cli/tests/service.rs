//! `enrol serve` as an operator runs it: one configuration file (secrets
//! from files), JSON logs on standard error, the admin address with probes
//! and metrics, and a request id that follows a request from the response
//! into the log line and into the registries' access logs.

mod common;

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use enrol_registry_sim::{Dataset, Registry, SimConfig, Simulator};
use serde_json::{Value, json};

const APP_KEY: &str = "gov-app-key-0123456789";
const MANAGER: &str = "manager-token-0123456789";

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[test]
fn a_config_file_with_an_unknown_key_is_refused_with_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("enrol.toml");
    std::fs::write(&config, "addr = \"127.0.0.1:0\"\n\n[limits]\nbody_limt = 10\n").unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_enrol"))
        .arg("serve")
        .arg("--config")
        .arg(&config)
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(&format!("{}:4: unknown field `body_limt`", config.display())),
        "{stderr}"
    );
}

async fn wait_until_up(http: &reqwest::Client, url: &str) {
    let started = Instant::now();
    while http.get(url).send().await.is_err() {
        assert!(started.elapsed() < Duration::from_secs(60), "{url} did not come up");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_id_follows_a_request_into_the_log_and_the_registries() {
    let work = tempfile::tempdir().unwrap();
    let sample = common::sample_dir();
    let sim = Simulator::start(
        Dataset::load(&sample).unwrap(),
        SimConfig::default(),
        "127.0.0.1:0".parse().unwrap(),
    )
    .await
    .unwrap();

    // One file, the app key and the database URL from secret files.
    let secrets = work.path().join("secrets");
    std::fs::create_dir(&secrets).unwrap();
    std::fs::write(secrets.join("app_key"), format!("{APP_KEY}\n")).unwrap();
    std::fs::write(
        secrets.join("database_url"),
        work.path().join("enrol.db").to_str().unwrap(),
    )
    .unwrap();
    let (port, admin_port) = (free_port(), free_port());
    let config = work.path().join("enrol.toml");
    std::fs::write(
        &config,
        format!(
            r#"addr = "127.0.0.1:{port}"
admin_addr = "127.0.0.1:{admin_port}"
database_url_file = "{secrets}/database_url"

[log]
format = "json"
level = "warn,enrol=info"

[verify]
passes = 2
retry_delay_ms = 50

[[apps]]
name = "gov-app"
key_file = "{secrets}/app_key"

[[officers]]
name = "wang.fang"
role = "round_manager"
token = "{MANAGER}"

[registry_defaults]
base_url = "{sim}"
api_key = "dev-key"
"#,
            secrets = secrets.display(),
            sim = sim.base_url(),
        ),
    )
    .unwrap();
    let log_path = work.path().join("stderr.log");
    let server = Server(
        Command::new(env!("CARGO_BIN_EXE_enrol"))
            .arg("serve")
            .arg("--config")
            .arg(&config)
            .env_remove("RUST_LOG")
            .env_remove("DATABASE_URL")
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log_path).unwrap())
            .spawn()
            .unwrap(),
    );
    let api = format!("http://127.0.0.1:{port}");
    let admin = format!("http://127.0.0.1:{admin_port}");
    let http = reqwest::Client::new();
    wait_until_up(&http, &format!("{api}/healthz")).await;

    // The admin address: probes and metrics without credentials.
    let ready = http.get(format!("{admin}/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), 200);
    let ready: Value = ready.json().await.unwrap();
    assert_eq!(ready["database"]["status"], "up", "{ready}");
    assert_eq!(ready["registries"]["zones"], "closed", "{ready}");

    let policy = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/policies/2027-primary.toml"),
    )
    .unwrap();
    let officer =
        |method: reqwest::Method, path: &str| http.request(method, format!("{api}{path}")).bearer_auth(MANAGER);
    let opened = officer(reqwest::Method::POST, "/v1/rounds")
        // A live server: a sealed seed, committed (SHA-256 of "sample-2027").
        .json(&json!({"policy_toml": policy, "seed_commitment": "dc4947967aa171f868d4314675b5514fb7a9255d86265c9987bf1550e8e9a99a"}))
        .send()
        .await
        .unwrap();
    assert_eq!(opened.status(), 201);
    let round: Value = opened.json().await.unwrap();
    let round_id = round["id"]
        .as_str()
        .or(round["round"].as_str())
        .unwrap_or("2027-primary")
        .to_owned();
    let mut ids = Vec::new();
    for line in std::fs::read_to_string(sample.join("applications.jsonl"))
        .unwrap()
        .lines()
    {
        let app: Value = serde_json::from_str(line).unwrap();
        for field in ["child_id", "applicant_id"] {
            ids.push(app[field].as_str().unwrap().to_owned());
        }
        let answer = http
            .post(format!("{api}/v1/applications"))
            .header("X-Api-Key", APP_KEY)
            .header("X-Citizen-Id", app["applicant_id"].as_str().unwrap())
            .header("Content-Type", "application/json")
            .body(line.to_owned())
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), 201);
        assert!(
            answer.headers().contains_key("x-request-id"),
            "every answer carries an id"
        );
    }
    let closed = officer(reqwest::Method::POST, &format!("/v1/rounds/{round_id}/close"))
        .send()
        .await
        .unwrap();
    assert_eq!(closed.status(), 200);
    sim.clear_access_logs();

    // Verification, started under a request id the caller chose.
    let request_id = "ops-verify-0001";
    let started = officer(reqwest::Method::POST, &format!("/v1/rounds/{round_id}/verify"))
        .header("X-Request-Id", request_id)
        .send()
        .await
        .unwrap();
    assert_eq!(started.status(), 202);
    assert_eq!(
        started.headers()["x-request-id"],
        request_id,
        "returned in the response"
    );
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let progress: Value = officer(reqwest::Method::GET, &format!("/v1/rounds/{round_id}/verify"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if progress["run"]["state"] != "running" {
            assert_eq!(progress["run"]["state"], "finished", "{progress}");
            break;
        }
        assert!(Instant::now() < deadline, "verification did not finish");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // Every read it caused carries the id, in every registry's access log.
    let mut reads = 0;
    for registry in Registry::ALL {
        for entry in sim.access_log(registry) {
            assert_eq!(entry.request_id.as_deref(), Some(request_id), "{registry:?}: {entry:?}");
            reads += 1;
        }
    }
    assert!(reads > 40, "verification read the registries ({reads} reads)");

    // Metrics on the admin address, without credentials.
    let metrics = http.get(format!("{admin}/metrics")).send().await.unwrap();
    assert_eq!(metrics.status(), 200);
    let metrics = metrics.text().await.unwrap();
    assert!(metrics.contains("enrol_http_requests_total{"), "{metrics}");
    assert!(metrics.contains("enrol_registry_requests_total{"), "{metrics}");

    // SIGTERM: a graceful stop.
    let pid = server.0.id().to_string();
    assert!(Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
    let mut server = server;
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(status) = server.0.try_wait().unwrap() {
            break status;
        }
        assert!(Instant::now() < deadline, "enrol serve did not stop on SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "{status}");

    // The log: one JSON object a line; the verify request's line has its id,
    // route template, status and officer; no line names a citizen.
    let log = std::fs::read_to_string(&log_path).unwrap();
    let lines: Vec<Value> = log
        .lines()
        .filter(|l| l.starts_with('{'))
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    assert!(!lines.is_empty(), "{log}");
    let line = lines
        .iter()
        .find(|l| l["fields"]["message"] == "request" && l["fields"]["request_id"] == request_id)
        .unwrap_or_else(|| panic!("no request line with the id in:\n{log}"));
    assert_eq!(line["level"], "INFO", "{line}");
    assert_eq!(line["fields"]["method"], "POST", "{line}");
    assert_eq!(line["fields"]["route"], "/v1/rounds/{round}/verify", "{line}");
    assert_eq!(line["fields"]["status"], 202, "{line}");
    assert_eq!(line["fields"]["actor"], "officer:wang.fang", "{line}");
    assert!(line["fields"]["latency_ms"].as_f64().is_some(), "{line}");
    assert_eq!(line["fields"]["round"], round_id.as_str(), "{line}");
    // Officer actions and round transitions, with the round and the actor.
    let action = |route: &str| {
        lines
            .iter()
            .find(|l| l["fields"]["message"] == "officer action" && l["fields"]["action"] == route)
    };
    for route in ["/v1/rounds", "/v1/rounds/{round}/close", "/v1/rounds/{round}/verify"] {
        let line = action(route).unwrap_or_else(|| panic!("no officer action {route} in:\n{log}"));
        assert_eq!(line["level"], "INFO");
        assert_eq!(line["fields"]["actor"], "officer:wang.fang", "{line}");
    }
    assert_eq!(
        action("/v1/rounds/{round}/close").unwrap()["fields"]["round"],
        round_id.as_str()
    );
    let closed = lines
        .iter()
        .find(|l| l["fields"]["message"] == "round transition" && l["fields"]["to"] == "closed")
        .unwrap_or_else(|| panic!("no transition line in:\n{log}"));
    assert_eq!(
        (
            closed["fields"]["round"].as_str(),
            closed["fields"]["from"].as_str(),
            closed["fields"]["actor"].as_str()
        ),
        (Some(round_id.as_str()), Some("open"), Some("wang.fang")),
        "{closed}"
    );
    let finished = lines
        .iter()
        .find(|l| l["fields"]["message"] == "verification finished")
        .unwrap_or_else(|| panic!("no verification line in:\n{log}"));
    assert_eq!(finished["fields"]["round"], round_id.as_str(), "{finished}");
    assert_eq!(finished["fields"]["actor"], "wang.fang", "{finished}");
    let submissions = lines
        .iter()
        .filter(|l| l["fields"]["message"] == "request" && l["fields"]["route"] == "/v1/applications")
        .inspect(|l| assert_eq!(l["fields"]["actor"], "app:gov-app", "{l}"))
        .count();
    assert_eq!(submissions, ids.len() / 2, "one line per request");
    for id in &ids {
        assert!(!log.contains(id.as_str()), "a national ID in the log");
    }

    sim.shutdown().await.unwrap();
}
