//! An officer runs a real round with the CLI against `enrol serve` (a real
//! process on loopback), families submit through the API as the upstream
//! app would, and the published seats are those worked out by hand.

mod common;

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use enrol_registry_sim::{Dataset, SimConfig, Simulator};
use serde_json::Value;

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

fn enrol(server: &str, args: &[&str]) -> Value {
    let output = Command::new(env!("CARGO_BIN_EXE_enrol"))
        .args(args)
        .env("ENROL_SERVER", server)
        .env("ENROL_TOKEN", "dev-officer-token")
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "enrol {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let text = String::from_utf8(output.stdout).unwrap();
    serde_json::from_str(&text).unwrap_or(Value::String(text))
}

fn enrol_fails(server: &str, args: &[&str]) -> String {
    let output = Command::new(env!("CARGO_BIN_EXE_enrol"))
        .args(args)
        .env("ENROL_SERVER", server)
        .output()
        .unwrap();
    assert!(!output.status.success(), "enrol {args:?} should fail");
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_officer_runs_a_round_with_the_cli_against_enrol_serve() {
    let work = std::env::temp_dir().join(format!("enrol-officer-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&work).unwrap();
    let sample = common::sample_dir();
    let sim = Simulator::start(
        Dataset::load(&sample).unwrap(),
        SimConfig::default(),
        "127.0.0.1:0".parse().unwrap(),
    )
    .await
    .unwrap();
    let registries = work.join("registries.toml");
    let mut toml = String::from("purpose = \"school-enrolment\"\n");
    for r in [
        "hukou",
        "birth",
        "property",
        "residence",
        "insurance",
        "zones",
        "history",
    ] {
        toml.push_str(&format!(
            "[registries.{r}]\nbase_url = \"{}\"\napi_key = \"dev-key\"\n",
            sim.base_url()
        ));
    }
    std::fs::write(&registries, toml).unwrap();

    let port = free_port();
    let server = format!("http://127.0.0.1:{port}");
    let _serve = Server(
        Command::new(env!("CARGO_BIN_EXE_enrol"))
            .args(["serve", "--dev", "--addr", &format!("127.0.0.1:{port}")])
            .arg("--registries")
            .arg(&registries)
            .arg("--database-url")
            .arg(work.join("enrol.db"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let http = reqwest::Client::new();
    let started = Instant::now();
    while http.get(format!("{server}/health")).send().await.is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "enrol serve did not come up"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // A wrong token learns nothing.
    let refused = enrol_fails(&server, &["round", "list", "--token", "not-a-token"]);
    assert!(refused.contains("401"), "{refused}");

    let policy = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/policies/2027-primary.toml");
    let round = enrol(
        &server,
        &[
            "round",
            "create",
            "--policy",
            policy.to_str().unwrap(),
            "--round-seed",
            "sample-2027",
        ],
    );
    assert_eq!(round["state"], "open", "{round}");

    // Families apply through the upstream app.
    for line in std::fs::read_to_string(sample.join("applications.jsonl"))
        .unwrap()
        .lines()
    {
        let applicant = serde_json::from_str::<Value>(line).unwrap()["applicant_id"]
            .as_str()
            .unwrap()
            .to_owned();
        let answer = http
            .post(format!("{server}/v1/applications"))
            .header("X-Api-Key", "dev-app-key")
            .header("X-Citizen-Id", applicant)
            .header("Content-Type", "application/json")
            .body(line.to_owned())
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), 201);
    }

    enrol(&server, &["round", "close", "2027-primary"]);
    let verification = enrol(&server, &["round", "verify", "2027-primary"]);
    assert_eq!(
        verification["state"], "closed",
        "reviews keep the round closed: {verification}"
    );
    let queue = enrol(&server, &["review", "list", "2027-primary"]);
    let queue = queue.as_array().expect("a list of reviews");
    assert_eq!(queue.len(), 7, "F31 to F37 are in review");
    for (i, item) in queue.iter().enumerate() {
        let id = item["application"]["application_id"].as_str().unwrap();
        let resolved = if i % 2 == 0 {
            enrol(
                &server,
                &[
                    "review",
                    "reject",
                    "2027-primary",
                    id,
                    "--reason",
                    "材料无法核实 cannot verify",
                ],
            )
        } else {
            enrol(
                &server,
                &[
                    "review",
                    "exclude",
                    "2027-primary",
                    id,
                    "--reason",
                    "family withdrew by phone",
                ],
            )
        };
        assert!(
            resolved["state"] == "rejected" || resolved["state"] == "excluded",
            "{resolved}"
        );
    }
    let verification = enrol(&server, &["round", "verify", "2027-primary"]);
    assert_eq!(verification["state"], "verified", "{verification}");
    enrol(&server, &["round", "allocate", "2027-primary"]);
    let published = enrol(&server, &["round", "publish", "2027-primary"]);
    assert_eq!(published["state"], "published", "{published}");

    // The published seats are the ones worked out by hand.
    let csv = work.join("assignments.csv");
    enrol(
        &server,
        &[
            "export",
            "2027-primary",
            "assignments.csv",
            "--out",
            csv.to_str().unwrap(),
        ],
    );
    let expected = common::expectations();
    let exported = std::fs::read_to_string(&csv).unwrap();
    let mut seats = 0;
    for line in exported.lines().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        let want = &expected[f[0]];
        let got = (!f[3].is_empty()).then(|| (f[3].to_owned(), f[4].to_owned(), f[5].parse().ok()));
        assert_eq!(got, want.seat, "{line}");
        seats += usize::from(got.is_some());
    }
    assert_eq!(seats, 33);

    // A correction after publication: the seat is taken away, then given back, each audited.
    let f02 = common::application_id("F02");
    let taken = enrol(
        &server,
        &[
            "round",
            "correct",
            "2027-primary",
            &f02,
            "--reason",
            "不动产被查封 unit sealed",
        ],
    );
    assert_eq!(taken["route"], "none", "{taken}");
    let full = enrol_fails(
        &server,
        &[
            "round",
            "correct",
            "2027-primary",
            &common::application_id("F04"),
            "--school",
            "S102",
            "--reason",
            "move",
        ],
    );
    assert!(full.contains("no free seat"), "{full}");
    let back = enrol(
        &server,
        &[
            "round",
            "correct",
            "2027-primary",
            &f02,
            "--school",
            "S101",
            "--reason",
            "查封已解除 seal lifted",
        ],
    );
    assert_eq!(
        (
            back["school_id"].as_str(),
            back["route"].as_str(),
            back["choice_rank"].as_u64()
        ),
        (Some("S101"), Some("choice"), Some(1))
    );
    let corrections = enrol(
        &server,
        &["round", "audit", "2027-primary", "--action", "seat_corrected"],
    );
    assert_eq!(corrections.as_array().map(Vec::len), Some(2), "{corrections}");

    // `enrol report`: the demo's files for this round, and the public notice.
    let out = work.join("report");
    enrol(&server, &["report", "2027-primary", "--out", out.to_str().unwrap()]);
    for file in ["decisions.jsonl", "schools.csv", "instance.json", "report.html"] {
        assert!(out.join(file).exists(), "{file} written");
    }
    assert_eq!(
        std::fs::read_to_string(out.join("assignments.csv"))
            .unwrap()
            .lines()
            .count(),
        std::fs::read_to_string(&csv).unwrap().lines().count()
    );
    assert!(
        std::fs::read(out.join("assignments.xlsx"))
            .unwrap()
            .starts_with(b"PK\x03\x04")
    );
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(html.contains("2027-primary") && html.contains("太白路小学"));
    let notice = std::fs::read_to_string(out.join("notice.csv")).unwrap();
    common::assert_notice_is_public(&notice, 33);

    let audit = enrol(&server, &["round", "audit", "2027-primary"]);
    let text = audit.to_string();
    assert!(
        text.contains("review_rejected") && text.contains("application_excluded"),
        "{text}"
    );
    assert!(text.contains("dev-officer"), "officer actions name the officer");
    let schools = enrol(&server, &["round", "schools", "2027-primary"]);
    assert!(schools.as_array().is_some_and(|s| s.len() == 7), "{schools}");

    sim.shutdown().await.unwrap();
    let _ = std::fs::remove_dir_all(&work);
}
