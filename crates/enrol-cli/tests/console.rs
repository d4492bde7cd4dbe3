//! The officers' console in a real headless browser (Debian's chromium,
//! driven over the DevTools pipe by the report test's harness), against
//! `enrol serve` on the sample city: a round manager signs in, opens the
//! round by uploading its policy, closes and verifies it watching the
//! progress, resolves every review through the forms as the sample README
//! says ("Resolving the reviews", one address picked from the zone
//! registry's candidates), allocates with a sealed seed and a public draw,
//! publishes, opens the report and the notice, and corrects one seat. The
//! same round run with the CLI on a second server gives the same
//! `assignments.csv`, byte for byte. No page logs an error or asks any host
//! but the server; a viewer's reviewer form is refused (403).
//!
//! `ENROL_CONSOLE_SCREENSHOTS=$PWD/docs` also writes the screenshots of
//! docs/console.md (dashboard, a review, the ceremony).
//!
//! Skips only outside CI when chromium is missing.

#[allow(dead_code)]
#[path = "../../enrol-report/tests/support/cdp.rs"]
mod cdp;
mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use cdp::{Browser, chromium_or_skip};
use enrol_registry_sim::{Dataset, FaultPlan, RegistryFaults, SimConfig, Simulator};
use serde_json::{Value, json};

const ROUND: &str = "2027-primary";
const APP_KEY: &str = "gov-app-key-0123456789abcdef";
const MANAGER: &str = "manager-token-0123456789abcdef";
const VIEWER: &str = "viewer-token-0123456789abcdef";
/// The sealed seed kept by the round manager until the ceremony (its SHA-256
/// is the commitment entered at open), and the value drawn in public.
const SEALED: &str = "5eed2027c0ffee00d15ea5e5a1105eed";
const PUBLIC_DRAW: &str = "0710-4821";
const WIDTH: u32 = 1200;

/// How the sample README's "Resolving the reviews" settles each review.
enum Resolution {
    Reject(&'static str),
    Exclude(&'static str),
    Accept(Facts),
}

/// What an acceptance is given: a guardian established, the birth date
/// confirmed, delayed enrolment approved, an address typed (text, code), an
/// address picked from the candidates (text, code).
#[derive(Default)]
struct Facts {
    guardian: Option<&'static str>,
    birth_date_confirmed: bool,
    delayed_enrolment: bool,
    typed: Option<(&'static str, &'static str)>,
    picked: Option<(&'static str, &'static str)>,
}

fn resolutions() -> Vec<(&'static str, Resolution)> {
    vec![
        (
            "F31",
            Resolution::Reject("无出生医学证明，无法核实出生信息 no birth certificate"),
        ),
        (
            "F32",
            Resolution::Accept(Facts {
                guardian: Some("370811196001018717"),
                ..Facts::default()
            }),
        ),
        (
            "F33",
            Resolution::Accept(Facts {
                birth_date_confirmed: true,
                ..Facts::default()
            }),
        ),
        (
            "F34",
            Resolution::Accept(Facts {
                delayed_enrolment: true,
                ..Facts::default()
            }),
        ),
        ("F35", Resolution::Exclude("已在仙营小学一年级就读 already at school")),
        (
            "F36",
            Resolution::Accept(Facts {
                typed: Some((
                    "济宁市任城区古槐街道太白中路一〇号1单元801室",
                    "370811-001-00010-01-0801",
                )),
                ..Facts::default()
            }),
        ),
        (
            "F37",
            Resolution::Accept(Facts {
                picked: Some(("建设路 7号 3单元 301室", "370811-002-00007-03-0301")),
                ..Facts::default()
            }),
        ),
    ]
}

const NOTE: &str = "材料已核实 checked with the family's papers";
const CORRECTED: &str = "F02";
const CORRECTION_REASON: &str = "不动产被查封 unit sealed";

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        // Only our own child, by its handle.
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

fn policy_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures/policies/2027-primary.toml")
        .canonicalize()
        .unwrap()
}

/// `enrol serve` with `config`, on a fresh SQLite database under `dir`.
async fn serve(dir: &Path, config: &Path) -> (Server, String) {
    let port = free_port();
    let origin = format!("http://127.0.0.1:{port}");
    let server = Server(
        Command::new(env!("CARGO_BIN_EXE_enrol"))
            .args(["serve", "--addr", &format!("127.0.0.1:{port}")])
            .arg("--config")
            .arg(config)
            .arg("--database-url")
            .arg(dir.join("enrol.db"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let http = reqwest::Client::new();
    let started = Instant::now();
    while http.get(format!("{origin}/health")).send().await.is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "enrol serve did not come up"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    (server, origin)
}

/// The 41 families apply through the upstream app.
async fn submit_families(origin: &str) {
    let http = reqwest::Client::new();
    for line in std::fs::read_to_string(common::sample_dir().join("applications.jsonl"))
        .unwrap()
        .lines()
    {
        let applicant = serde_json::from_str::<Value>(line).unwrap()["applicant_id"]
            .as_str()
            .unwrap()
            .to_owned();
        let answer = http
            .post(format!("{origin}/v1/applications"))
            .header("X-Api-Key", APP_KEY)
            .header("X-Citizen-Id", applicant)
            .header("Content-Type", "application/json")
            .body(line.to_owned())
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), 201);
    }
}

async fn assignments_csv(origin: &str) -> Vec<u8> {
    let answer = reqwest::Client::new()
        .get(format!("{origin}/v1/rounds/{ROUND}/exports/assignments.csv"))
        .bearer_auth(MANAGER)
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 200);
    answer.bytes().await.unwrap().to_vec()
}

fn enrol(origin: &str, args: &[&str]) -> Value {
    let output = Command::new(env!("CARGO_BIN_EXE_enrol"))
        .args(args)
        .env("ENROL_SERVER", origin)
        .env("ENROL_TOKEN", MANAGER)
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

/// The same round through the CLI: its `assignments.csv`.
async fn cli_path(dir: &Path, config: &Path, commitment: &str) -> Vec<u8> {
    let (_server, origin) = serve(dir, config).await;
    let policy = policy_path();
    let policy = policy.to_str().unwrap();
    enrol(
        &origin,
        &["round", "create", "--policy", policy, "--seed-commitment", commitment],
    );
    submit_families(&origin).await;
    enrol(&origin, &["round", "close", ROUND]);
    let verification = enrol(&origin, &["round", "verify", ROUND]);
    assert_eq!(verification["counts"]["review"], 7, "{verification}");
    for (family, resolution) in resolutions() {
        let id = common::application_id(family);
        let mut args: Vec<String> = Vec::new();
        match resolution {
            Resolution::Reject(reason) => {
                args.extend(["review", "reject", ROUND, &id, "--reason", reason].map(String::from))
            }
            Resolution::Exclude(reason) => {
                args.extend(["review", "exclude", ROUND, &id, "--reason", reason].map(String::from));
            }
            Resolution::Accept(Facts {
                guardian,
                birth_date_confirmed,
                delayed_enrolment,
                typed,
                picked,
            }) => {
                args.extend(["review", "accept", ROUND, &id, "--note", NOTE].map(String::from));
                if let Some(g) = guardian {
                    args.extend(["--guardian".to_owned(), g.to_owned()]);
                }
                if birth_date_confirmed {
                    args.push("--birth-date-confirmed".to_owned());
                }
                if delayed_enrolment {
                    args.push("--delayed-enrolment".to_owned());
                }
                for (text, code) in typed.into_iter().chain(picked) {
                    args.extend(["--resolve-address".to_owned(), format!("{text}={code}")]);
                }
            }
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        enrol(&origin, &args);
    }
    let verification = enrol(&origin, &["round", "verify", ROUND]);
    assert_eq!(verification["state"], "verified", "{verification}");
    enrol(
        &origin,
        &[
            "round",
            "allocate",
            ROUND,
            "--sealed-seed",
            SEALED,
            "--public-draw",
            PUBLIC_DRAW,
        ],
    );
    enrol(&origin, &["round", "publish", ROUND]);
    enrol(
        &origin,
        &[
            "round",
            "correct",
            ROUND,
            &common::application_id(CORRECTED),
            "--reason",
            CORRECTION_REASON,
        ],
    );
    assignments_csv(&origin).await
}

/// A browser tab on the console, with every event it caused checked.
struct Tab {
    browser: Browser,
    page: String,
    origin: String,
    /// Events before this index have been checked for problems.
    checked: usize,
    problems: Vec<String>,
}

impl Tab {
    fn eval(&mut self, expression: &str) -> Value {
        let answer = self.browser.call(
            Some(&self.page),
            "Runtime.evaluate",
            json!({"expression": expression, "returnByValue": true}),
        );
        if let Some(exception) = answer.get("exceptionDetails") {
            panic!("{expression} threw: {exception}");
        }
        answer["result"]["value"].clone()
    }

    fn text(&mut self, selector: &str) -> String {
        let value = self.eval(&format!(
            "(document.querySelector({s}) || {{}}).textContent || ''",
            s = json!(selector)
        ));
        value.as_str().unwrap_or("").trim().to_owned()
    }

    fn count(&mut self, selector: &str) -> u64 {
        let value = self.eval(&format!("document.querySelectorAll({}).length", json!(selector)));
        value.as_u64().unwrap()
    }

    fn attr(&mut self, selector: &str, name: &str) -> String {
        let value = self.eval(&format!(
            "(document.querySelector({}) || {{getAttribute: () => ''}}).getAttribute({}) || ''",
            json!(selector),
            json!(name)
        ));
        value.as_str().unwrap_or("").to_owned()
    }

    fn path(&mut self) -> String {
        self.eval("location.pathname + location.search")
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// Runs `action` (something that navigates) and waits for the next page;
    /// returns the HTTP status of the document it landed on.
    fn navigate_by(&mut self, action: impl FnOnce(&mut Tab)) -> u16 {
        let start = self.browser.events.len();
        action(self);
        self.browser.wait_event(&self.page, "Page.loadEventFired", start);
        // One more round trip, so every event of the load is in.
        self.eval("0");
        self.scan();
        self.browser.events[start..]
            .iter()
            .filter(|e| {
                e["method"] == "Network.responseReceived"
                    && e["params"]["type"] == "Document"
                    && e["sessionId"].as_str() == Some(&self.page)
            })
            .filter_map(|e| e["params"]["response"]["status"].as_u64())
            .next_back()
            .map_or(0, |s| s as u16)
    }

    /// Opens `path` of the console's server; asserts it answers 200.
    fn open(&mut self, path: &str) {
        let url = format!("{}{path}", self.origin);
        let status = self.navigate_by(|tab| {
            let navigated = tab.browser.call(Some(&tab.page), "Page.navigate", json!({"url": url}));
            if let Some(error) = navigated.get("errorText") {
                panic!("navigating to {url} failed: {error}");
            }
        });
        assert_eq!(status, 200, "{path}");
    }

    /// Sets the value of a form field.
    fn fill(&mut self, selector: &str, value: &str) {
        let done = self.eval(&format!(
            "(() => {{ const e = document.querySelector({}); if (!e) return false; e.value = {}; return true; }})()",
            json!(selector),
            json!(value)
        ));
        assert_eq!(done, json!(true), "no field {selector} on {}", self.path());
    }

    fn check(&mut self, selector: &str) {
        let done = self.eval(&format!(
            "(() => {{ const e = document.querySelector({}); if (!e) return false; e.checked = true; return true; }})()",
            json!(selector)
        ));
        assert_eq!(done, json!(true), "no box {selector} on {}", self.path());
    }

    /// Submits the form `selector` as its button would (the browser's own
    /// validation first); returns the status of the page it leads to.
    fn submit(&mut self, selector: &str) -> u16 {
        let valid = self.eval(&format!(
            "(() => {{ const f = document.querySelector({}); return f ? f.checkValidity() : null; }})()",
            json!(selector)
        ));
        assert_eq!(
            valid,
            json!(true),
            "form {selector} on {} missing or invalid",
            self.path()
        );
        let expression = format!("document.querySelector({}).requestSubmit()", json!(selector));
        self.navigate_by(|tab| {
            tab.eval(&expression);
        })
    }

    /// Clicks a link; returns the status of the page.
    fn click(&mut self, selector: &str) -> u16 {
        let expression = format!("document.querySelector({}).click()", json!(selector));
        self.navigate_by(|tab| {
            tab.eval(&expression);
        })
    }

    /// Console errors, uncaught exceptions, failed requests and any request
    /// to another host, among the events not yet checked.
    fn scan(&mut self) {
        let events = &self.browser.events[self.checked..];
        for event in events {
            let params = &event["params"];
            match event["method"].as_str().unwrap_or("") {
                "Runtime.exceptionThrown" => self
                    .problems
                    .push(format!("uncaught exception: {}", params["exceptionDetails"])),
                "Runtime.consoleAPICalled" if matches!(params["type"].as_str(), Some("error" | "assert")) => {
                    self.problems.push(format!("console error: {}", params["args"]));
                }
                "Log.entryAdded" if params["entry"]["level"] == "error" => self.problems.push(format!(
                    "console error: {} ({})",
                    params["entry"]["text"], params["entry"]["url"]
                )),
                "Network.loadingFailed" => self.problems.push(format!(
                    "failed request {}: {}",
                    params["requestId"],
                    params["errorText"].as_str().unwrap_or("")
                )),
                "Network.requestWillBeSent" => {
                    let url = params["request"]["url"].as_str().unwrap_or("");
                    let ours = url.starts_with(&format!("{}/", self.origin));
                    if !ours && !url.starts_with("data:") && url != "about:blank" {
                        self.problems.push(format!("request to another host: {url}"));
                    }
                }
                _ => {}
            }
        }
        self.checked = self.browser.events.len();
    }

    fn screenshot(&mut self, name: &str) {
        let png = self.browser.screenshot(&self.page, WIDTH, Some(1400));
        assert!(png.starts_with(b"\x89PNG"), "a PNG of {name}");
        if let Some(dir) = std::env::var_os("ENROL_CONSOLE_SCREENSHOTS") {
            let target = Path::new(&dir).join(name);
            std::fs::write(&target, png).unwrap_or_else(|e| panic!("{}: {e}", target.display()));
        }
    }

    fn sign_in(&mut self, token: &str) {
        self.open("/console/login");
        self.fill("#token", token);
        let status = self.submit("form[action='/console/login']");
        assert_eq!(status, 200);
        assert_eq!(self.path(), "/console/rounds");
    }

    fn sign_out(&mut self) {
        let status = self.submit("form[action='/console/logout']");
        assert_eq!(status, 200);
        assert!(self.path().starts_with("/console/login"), "{}", self.path());
    }

    fn state(&mut self) -> String {
        self.attr("#round-state", "data-state")
    }
}

fn dashboard() -> String {
    format!("/console/rounds/{ROUND}")
}

fn review_page(family: &str) -> String {
    format!("/console/rounds/{ROUND}/reviews/{}", common::application_id(family))
}

/// The dashboard until the verification run is over, reloading itself
/// (meta refresh) while it runs; returns the progress figures seen.
fn watch_verification(tab: &mut Tab) -> Vec<String> {
    let mut seen = Vec::new();
    let until = Instant::now() + Duration::from_secs(120);
    loop {
        let from = tab.browser.events.len();
        let run = tab.attr("#verification", "data-run");
        seen.push(format!("{run}:{}", tab.text("#verify-done")));
        match run.as_str() {
            "finished" => return seen,
            "running" => {}
            other => panic!("verification {other:?}: {seen:?}"),
        }
        assert!(Instant::now() < until, "verification did not finish: {seen:?}");
        // The page refreshes itself every 2 s while the run goes.
        tab.browser.wait_event(&tab.page, "Page.loadEventFired", from);
        tab.eval("0");
        tab.scan();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_officer_runs_the_sample_round_in_the_console_in_a_real_browser() {
    let Some(chromium) = chromium_or_skip("an_officer_runs_the_sample_round_in_the_console_in_a_real_browser") else {
        return;
    };
    // Some latency, so that the verification is seen running.
    let slow = RegistryFaults {
        latency_ms: 40,
        ..RegistryFaults::default()
    };
    let sim = Simulator::start(
        Dataset::load(common::sample_dir()).unwrap(),
        SimConfig::default().with_faults(FaultPlan::uniform(slow)),
        "127.0.0.1:0".parse().unwrap(),
    )
    .await
    .unwrap();
    let work = tempfile::tempdir().unwrap();
    let config = work.path().join("enrol.toml");
    std::fs::write(
        &config,
        format!(
            "[verify]\nconcurrency = 4\n\n\
             [[apps]]\nname = \"gov-app\"\nkey = \"{APP_KEY}\"\n\n\
             [[officers]]\nname = \"wang.fang\"\nrole = \"round_manager\"\ntoken = \"{MANAGER}\"\n\n\
             [[officers]]\nname = \"zhao.lei\"\nrole = \"viewer\"\ntoken = \"{VIEWER}\"\n\n\
             [registry_defaults]\nbase_url = \"{}\"\napi_key = \"dev-key\"\n",
            sim.base_url()
        ),
    )
    .unwrap();
    let commitment = enrol_report::sha256_hex(SEALED);

    // The CLI's path first, on its own server and database.
    let cli_dir = work.path().join("cli");
    std::fs::create_dir_all(&cli_dir).unwrap();
    let by_cli = cli_path(&cli_dir, &config, &commitment).await;

    // Then the console's, in the browser.
    let console_dir = work.path().join("console");
    std::fs::create_dir_all(&console_dir).unwrap();
    let (_server, origin) = serve(&console_dir, &config).await;
    let mut browser = Browser::launch(&chromium);
    let page = browser.open_page(WIDTH, 900);
    let mut tab = Tab {
        browser,
        page,
        origin: origin.clone(),
        checked: 0,
        problems: Vec::new(),
    };

    // Console requests are observed like the API's: a request id comes back.
    let login = reqwest::get(format!("{origin}/console/login")).await.unwrap();
    assert!(login.headers().contains_key("x-request-id"), "{:?}", login.headers());

    // Chinese by default; English one click away, and back.
    tab.open("/console/");
    assert!(tab.path().starts_with("/console/login"), "{}", tab.path());
    assert_eq!(tab.eval("document.documentElement.lang"), json!("zh-CN"));
    tab.sign_in(MANAGER);
    assert_eq!(tab.text("h1"), "招生批次");
    assert_eq!(tab.click("a.lang"), 200);
    assert_eq!(tab.eval("document.documentElement.lang"), json!("en"));
    assert_eq!(tab.text("h1"), "Admission rounds");
    assert_eq!(tab.click("a.lang"), 200);
    assert_eq!(tab.text("h1"), "招生批次");

    // Open the round: the policy file uploaded, the seed commitment entered.
    let document = tab
        .browser
        .call(Some(&tab.page), "DOM.getDocument", json!({"depth": 0}));
    let root = document["root"]["nodeId"].clone();
    let input = tab.browser.call(
        Some(&tab.page),
        "DOM.querySelector",
        json!({"nodeId": root, "selector": "#policy"}),
    );
    tab.browser.call(
        Some(&tab.page),
        "DOM.setFileInputFiles",
        json!({"nodeId": input["nodeId"], "files": [policy_path().to_str().unwrap()]}),
    );
    tab.fill("#seed_commitment", &commitment);
    assert_eq!(tab.submit("form[action='/console/rounds']"), 200);
    assert_eq!(tab.path(), dashboard());
    assert_eq!(tab.state(), "open");

    submit_families(&origin).await;
    tab.open(&dashboard());
    assert_eq!(tab.text("[data-count=pending]"), "41");
    assert_eq!(tab.submit("form[action$='/close']"), 200);
    assert_eq!(tab.state(), "closed");

    // Verify, watching the progress refresh itself.
    assert_eq!(tab.submit("form[action$='/verify']"), 200);
    let seen = watch_verification(&mut tab);
    assert!(seen.len() >= 2, "the run was seen going: {seen:?}");
    assert_eq!(seen.last().map(String::as_str), Some("finished:41"), "{seen:?}");
    assert_eq!(tab.state(), "closed", "reviews keep the round closed");
    assert_eq!(tab.text("[data-count=review]"), "7");
    assert_eq!(tab.text("[data-count=eligible]"), "33");
    // Before the lottery, the eligible children by their first choice's
    // tier, adding up to the eligible count.
    let by_tier = tab.eval(
        "Array.from(document.querySelectorAll('#eligible-by-tier tr'))\
         .map(r => r.dataset.priority + '=' + r.querySelector('td').textContent)",
    );
    let by_tier: Vec<(String, u64)> = by_tier
        .as_array()
        .unwrap()
        .iter()
        .map(|row| {
            let (priority, n) = row.as_str().unwrap().split_once('=').unwrap();
            (priority.to_owned(), n.parse().unwrap())
        })
        .collect();
    assert_eq!(by_tier.iter().map(|(_, n)| n).sum::<u64>(), 33, "{by_tier:?}");
    assert_eq!(
        by_tier.first().map(|(p, _)| p.as_str()),
        Some("tier1"),
        "the policy's order: {by_tier:?}"
    );
    tab.screenshot("console-dashboard.png");

    // The queue, filtered on the server by reason.
    tab.open(&format!("/console/rounds/{ROUND}/reviews"));
    assert_eq!(tab.count("a.review-link"), 7);
    tab.open(&format!("/console/rounds/{ROUND}/reviews?reason=address_ambiguous"));
    assert_eq!(tab.count("a.review-link"), 1);
    assert_eq!(tab.text("a.review-link"), common::application_id("F37"));

    // A viewer sees no form, and the server refuses one made by hand.
    tab.sign_out();
    tab.sign_in(VIEWER);
    tab.open(&review_page("F31"));
    assert_eq!(
        tab.count("#accept, #reject, #exclude"),
        0,
        "a viewer is offered no decision"
    );
    let forged = format!(
        "(() => {{ const f = document.createElement('form'); f.method = 'post'; f.action = {action};
            for (const [k, v] of [['csrf', document.querySelector('input[name=csrf]').value], ['reason', 'x']]) {{
              const i = document.createElement('input'); i.type = 'hidden'; i.name = k; i.value = v; f.appendChild(i);
            }}
            document.body.appendChild(f); f.submit(); }})()",
        action = json!(format!("{}/reject", review_page("F31")))
    );
    let status = tab.navigate_by(|tab| {
        tab.eval(&forged);
    });
    assert_eq!(status, 403, "the server refuses a viewer's reviewer form");
    // The browser logs the refusal: the one error this test expects.
    let refused = |p: &String| p.contains("status of 403") && p.contains("/reject");
    assert_eq!(
        tab.problems.iter().filter(|p| refused(p)).count(),
        1,
        "{:?}",
        tab.problems
    );
    tab.problems.retain(|p| !refused(p));
    tab.open(&review_page("F31"));
    assert_eq!(
        tab.attr("#application-state", "data-state"),
        "decided",
        "still in review"
    );
    tab.sign_out();
    tab.sign_in(MANAGER);

    // Every review, through the forms.
    for (family, resolution) in resolutions() {
        tab.open(&review_page(family));
        let (form, expected) = match resolution {
            Resolution::Reject(reason) => {
                tab.fill("#reject-reason", reason);
                ("#reject", "rejected")
            }
            Resolution::Exclude(reason) => {
                tab.fill("#exclude-reason", reason);
                ("#exclude", "excluded")
            }
            Resolution::Accept(Facts {
                guardian,
                birth_date_confirmed,
                delayed_enrolment,
                typed,
                picked,
            }) => {
                if let Some(g) = guardian {
                    tab.check(&format!("#accept input[name=guardian][value='{g}']"));
                }
                if birth_date_confirmed {
                    tab.check("#accept input[name=birth_date_confirmed]");
                }
                if delayed_enrolment {
                    tab.check("#accept input[name=delayed_enrolment_approved]");
                }
                if let Some((text, code)) = typed {
                    assert_eq!(tab.attr("input[name=address_text_0]", "value"), text);
                    assert_eq!(
                        tab.count("input[name=address_code_0][type=radio]"),
                        0,
                        "no candidate for {text}"
                    );
                    tab.fill("input[name=address_code_0]", code);
                }
                if let Some((text, code)) = picked {
                    assert_eq!(tab.attr("input[name=address_text_0]", "value"), text);
                    let candidates = tab.eval(
                        "[...document.querySelectorAll('input[name=address_code_0][type=radio]')].map(e => e.value)",
                    );
                    assert_eq!(
                        candidates,
                        json!(["370811-002-00007-03-0301", "370812-001-00007-03-0301"]),
                        "the zone registry's candidates"
                    );
                    tab.check(&format!("input[name=address_code_0][value='{code}']"));
                    tab.screenshot("console-review.png");
                }
                tab.fill("#note", NOTE);
                ("#accept", "accepted")
            }
        };
        assert_eq!(tab.submit(form), 200, "{family}");
        assert_eq!(tab.path(), review_page(family));
        assert_eq!(tab.attr("#application-state", "data-state"), expected, "{family}");
    }
    tab.open(&format!("/console/rounds/{ROUND}/reviews"));
    assert_eq!(tab.count("a.review-link"), 0, "no review left");

    // Verify again: the round is verified.
    tab.open(&dashboard());
    assert_eq!(tab.submit("form[action$='/verify']"), 200);
    watch_verification(&mut tab);
    assert_eq!(tab.state(), "verified");

    // The ceremony: the commitment, the sealed seed and the public draw.
    tab.open(&format!("/console/rounds/{ROUND}/allocation"));
    assert_eq!(tab.text("#commitment"), commitment);
    tab.fill("#sealed_seed", SEALED);
    tab.fill("#public_draw", PUBLIC_DRAW);
    assert_eq!(tab.submit("#allocate"), 200);
    let seed = format!("{SEALED}-{PUBLIC_DRAW}");
    assert_eq!(tab.text("#round-seed"), seed);
    assert_eq!(tab.count("#commitment-check"), 1, "the seed matches the commitment");
    let example = tab.text("#example-lottery");
    let child = tab.text("#example-child");
    assert_eq!(
        example,
        enrol_report::lottery_digest(&seed, &child)[..16],
        "the lottery number shown is the one anyone recomputes"
    );
    tab.screenshot("console-ceremony.png");

    // Publish.
    tab.open(&dashboard());
    assert_eq!(tab.state(), "allocated");
    assert_eq!(tab.submit("form[action$='/publish']"), 200);
    assert_eq!(tab.state(), "published");

    // The report and the notice.
    tab.open(&format!("/console/rounds/{ROUND}/report.html"));
    assert!(tab.count(".chart") >= 7, "a chart per school");
    tab.open(&format!("/console/rounds/{ROUND}/schools"));
    assert!(tab.count("tr[data-school]") >= 7);
    assert!(tab.count("td.cutoff code") >= 2, "the cutoffs of the full schools");
    // A family's answers: F01 lost S101 (the cutoff beside its own standing);
    // F06 holds tier3 and is told why not tier1 (a share under 50).
    tab.open(&review_page("F01"));
    assert_ne!(tab.attr("#seat", "data-school"), "S101");
    assert_eq!(tab.text("#above-seat tbody td.mono"), "S101");
    tab.open(&review_page("F06"));
    assert!(tab.count("#why-not li") >= 1, "why not a better tier");
    tab.open(&format!("/console/rounds/{ROUND}/notice"));
    let rows = tab.count("#notice tbody tr");
    assert!(rows >= 33, "{rows} seats in the notice");
    // Printed, the notice is the table alone: no header, navigation or form.
    tab.browser
        .call(Some(&tab.page), "Emulation.setEmulatedMedia", json!({"media": "print"}));
    let printed = tab.eval(
        "['header.top', 'nav.round', 'form.inline', '#notice'].map(s => getComputedStyle(document.querySelector(s)).display)",
    );
    assert_eq!(printed, json!(["none", "none", "none", "table"]), "print styles");
    tab.browser
        .call(Some(&tab.page), "Emulation.setEmulatedMedia", json!({"media": ""}));
    let page_text = tab.eval("document.body.innerText").as_str().unwrap().to_owned();
    for line in std::fs::read_to_string(common::sample_dir().join("applications.jsonl"))
        .unwrap()
        .lines()
    {
        let child = serde_json::from_str::<Value>(line).unwrap()["child_id"]
            .as_str()
            .unwrap()
            .to_owned();
        assert!(!page_text.contains(&child), "a full ID in the notice");
    }

    // One correction after publication.
    tab.open(&format!("/console/rounds/{ROUND}/corrections"));
    tab.fill("#application_id", &common::application_id(CORRECTED));
    tab.fill("#school_id", "");
    tab.fill("#correct-reason", CORRECTION_REASON);
    assert_eq!(tab.submit("#correct"), 200);
    assert_eq!(tab.count("#corrections tbody tr"), 1);

    // Who read F37's child's records: the lookup is a form, and audited.
    tab.open(&format!("/console/rounds/{ROUND}/access"));
    tab.fill("#person", "410102202104241731");
    assert_eq!(tab.submit("#access"), 200);
    let reads: u64 = tab.text("#access-count").parse().unwrap();
    assert!(
        reads >= 2,
        "verification and the acceptance read F37's records: {reads}"
    );
    assert_eq!(tab.count("#access-log tbody tr"), reads);
    tab.open(&format!("/console/rounds/{ROUND}/audit?action=access_log_read"));
    assert_eq!(tab.count("#audit tbody tr"), 1, "the lookup is audited");

    // The audit log names the officer.
    tab.open(&format!("/console/rounds/{ROUND}/audit?action=review_accepted"));
    assert_eq!(tab.count("#audit tbody tr"), 5);
    assert!(tab.text("#audit tbody").contains("wang.fang"));

    tab.scan();
    assert_eq!(
        tab.problems,
        Vec::<String>::new(),
        "every page quiet, nothing from elsewhere"
    );
    tab.browser.close();

    let by_console = assignments_csv(&origin).await;
    assert_eq!(
        String::from_utf8_lossy(&by_console),
        String::from_utf8_lossy(&by_cli),
        "the console and the CLI give the same seats"
    );
    assert_eq!(by_console, by_cli, "byte for byte");
    sim.shutdown().await.unwrap();
}
