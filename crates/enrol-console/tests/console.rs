//! The console in process (tower `oneshot`), over a real store: sign-in and
//! its cookie, CSRF refusal, session expiry, roles checked by the server,
//! sessions shared by two servers on one database (SQLite and, with
//! `TEST_DATABASE_URL`, PostgreSQL), and escaping of registry text.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use enrol_api::{ApiConfig, Engine, Role};
use enrol_console::{ConsoleOptions, Lang};
use enrol_orchestrator::{Orchestrator, RegistryEvidence};
use enrol_store::testing::TestDb;
use tower::ServiceExt;

const MANAGER: &str = "manager-token-0123456789";
const VIEWER: &str = "viewer-token-0123456789";

fn engine(db: &TestDb) -> Engine {
    engine_on(
        db.store.clone(),
        &[
            ("wang.fang", Role::RoundManager, MANAGER),
            ("zhao.lei", Role::Viewer, VIEWER),
        ],
    )
}

/// An engine over `store` with these officers (name, role, token).
fn engine_on(store: enrol_store::Store, officers: &[(&str, Role, &str)]) -> Engine {
    let mut config = ApiConfig::empty();
    config.add_app("gov-app", "gov-app-key-0123456789").unwrap();
    for (name, role, token) in officers {
        config.add_officer(*name, *role, *token).unwrap();
    }
    // No registry is read in these tests: verification never starts.
    let registries = enrol_evidence::RegistriesConfig::uniform(enrol_evidence::RegistryConfig::new(
        "http://127.0.0.1:9",
        "unused-key",
    ));
    let evidence = RegistryEvidence::connect(&registries, enrol_evidence::GatherOptions::default()).unwrap();
    Engine::new(Orchestrator::new(store), Arc::new(evidence), config)
}

struct Answer {
    status: StatusCode,
    location: String,
    set_cookie: String,
    text: String,
}

async fn call(router: &Router, request: Request<Body>) -> Answer {
    let response = router.clone().oneshot(request).await.unwrap();
    let header = |name| {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned()
    };
    let (status, location, set_cookie) = (response.status(), header(header::LOCATION), header(header::SET_COOKIE));
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap();
    Answer {
        status,
        location,
        set_cookie,
        text: String::from_utf8_lossy(&bytes).into_owned(),
    }
}

fn form(path: &str, cookie: &str, body: &str) -> Request<Body> {
    Request::post(path)
        .header(header::COOKIE, cookie)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(body.to_owned()))
        .unwrap()
}

fn get(path: &str, cookie: &str) -> Request<Body> {
    Request::get(path)
        .header(header::COOKIE, cookie)
        .body(Body::empty())
        .unwrap()
}

/// Signs in; returns the cookie to send back and the page's CSRF token.
async fn sign_in(router: &Router, token: &str) -> (String, String) {
    let answer = call(
        router,
        form("/console/login", "", &format!("token={token}&next=/console/rounds")),
    )
    .await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER, "{}", answer.text);
    assert_eq!(answer.location, "/console/rounds");
    let cookie = answer.set_cookie.split(';').next().unwrap().to_owned();
    let page = call(router, get("/console/rounds", &cookie)).await;
    assert_eq!(page.status, StatusCode::OK);
    let marker = "name=\"csrf\" value=\"";
    let start = page.text.find(marker).expect("a CSRF field on the page") + marker.len();
    let csrf = page.text[start..start + 64].to_owned();
    (cookie, csrf)
}

async fn open_round(engine: &Engine) {
    engine
        .orchestrator()
        .create_round(
            enrol_rules::SAMPLE_POLICY_TOML,
            enrol_orchestrator::RoundSeed::Whole("console-test".into()),
            "setup",
        )
        .await
        .unwrap();
}

#[tokio::test]
async fn sign_in_gives_a_strict_http_only_cookie_with_an_expiry() {
    let db = TestDb::sqlite().await.unwrap();
    let router = enrol_console::router(engine(&db), ConsoleOptions::default());
    let answer = call(&router, form("/console/login", "", &format!("token={MANAGER}"))).await;
    let cookie = answer.set_cookie;
    for part in [
        "enrol_session=",
        "HttpOnly",
        "SameSite=Strict",
        "Max-Age=28800",
        "Path=/console",
    ] {
        assert!(cookie.contains(part), "{part} missing from {cookie}");
    }
    assert!(!cookie.contains("Secure"), "plain HTTP here");
    let secure = enrol_console::router(
        engine(&db),
        ConsoleOptions {
            secure_cookies: true,
            ..ConsoleOptions::default()
        },
    );
    let answer = call(&secure, form("/console/login", "", &format!("token={MANAGER}"))).await;
    assert!(answer.set_cookie.contains("; Secure"), "{}", answer.set_cookie);

    let wrong = call(&router, form("/console/login", "", "token=not-a-token-at-all")).await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert!(wrong.set_cookie.is_empty());
    let anonymous = call(&router, get("/console/rounds", "")).await;
    assert_eq!(anonymous.status, StatusCode::SEE_OTHER);
    assert!(
        anonymous.location.starts_with("/console/login"),
        "{}",
        anonymous.location
    );
    db.cleanup().await.unwrap();
}

#[tokio::test]
async fn a_form_without_the_sessions_csrf_token_is_refused_and_changes_nothing() {
    let db = TestDb::sqlite().await.unwrap();
    let engine = engine(&db);
    open_round(&engine).await;
    let router = enrol_console::router(engine.clone(), ConsoleOptions::default());
    let (cookie, csrf) = sign_in(&router, MANAGER).await;
    let close = "/console/rounds/2027-primary/close";
    for body in ["", "csrf=", &format!("csrf={}", "0".repeat(64))] {
        let answer = call(&router, form(close, &cookie, body)).await;
        assert_eq!(answer.status, StatusCode::FORBIDDEN, "{body:?}: {}", answer.text);
    }
    // Another officer's token does not do either.
    let (_, other_csrf) = sign_in(&router, VIEWER).await;
    let answer = call(&router, form(close, &cookie, &format!("csrf={other_csrf}"))).await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN);
    let round = engine.orchestrator().round("2027-primary").await.unwrap();
    assert_eq!(round.state.as_str(), "open", "nothing changed");

    let answer = call(&router, form(close, &cookie, &format!("csrf={csrf}"))).await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER, "{}", answer.text);
    let round = engine.orchestrator().round("2027-primary").await.unwrap();
    assert_eq!(round.state.as_str(), "closed");
    let audit = engine
        .orchestrator()
        .audit_log("2027-primary", None, 100)
        .await
        .unwrap();
    assert!(
        audit
            .iter()
            .any(|e| e.action == "round_closed" && e.actor == "wang.fang"),
        "audited under the officer's name: {audit:?}"
    );
    db.cleanup().await.unwrap();
}

#[tokio::test]
async fn a_viewer_sees_no_manager_form_and_the_server_refuses_one_anyway() {
    let db = TestDb::sqlite().await.unwrap();
    let engine = engine(&db);
    open_round(&engine).await;
    let router = enrol_console::router(engine.clone(), ConsoleOptions::default());
    let (cookie, csrf) = sign_in(&router, VIEWER).await;
    let dashboard = call(&router, get("/console/rounds/2027-primary", &cookie)).await;
    assert_eq!(dashboard.status, StatusCode::OK);
    assert!(!dashboard.text.contains("/close\""), "no close form for a viewer");
    let answer = call(
        &router,
        form("/console/rounds/2027-primary/close", &cookie, &format!("csrf={csrf}")),
    )
    .await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN);
    assert_eq!(
        engine
            .orchestrator()
            .round("2027-primary")
            .await
            .unwrap()
            .state
            .as_str(),
        "open"
    );
    db.cleanup().await.unwrap();
}

#[tokio::test]
async fn an_expired_session_signs_the_officer_out() {
    let db = TestDb::sqlite().await.unwrap();
    let engine = engine(&db);
    open_round(&engine).await;
    // A session that ends the moment it starts: the next request is past its expiry.
    let router = enrol_console::router(
        engine.clone(),
        ConsoleOptions {
            session_ttl: Duration::ZERO,
            ..ConsoleOptions::default()
        },
    );
    let answer = call(&router, form("/console/login", "", &format!("token={MANAGER}"))).await;
    assert!(answer.set_cookie.contains("Max-Age=0"), "{}", answer.set_cookie);
    let cookie = answer.set_cookie.split(';').next().unwrap().to_owned();
    let page = call(&router, get("/console/rounds/2027-primary", &cookie)).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert_eq!(page.location, "/console/login?next=/console/rounds/2027-primary");
    let post = call(&router, form("/console/rounds/2027-primary/close", &cookie, "csrf=x")).await;
    assert_eq!(post.status, StatusCode::SEE_OTHER);
    assert!(post.location.starts_with("/console/login"));
    assert_eq!(
        engine
            .orchestrator()
            .round("2027-primary")
            .await
            .unwrap()
            .state
            .as_str(),
        "open"
    );
    db.cleanup().await.unwrap();
}

#[tokio::test]
async fn the_dashboard_names_the_registries_pending_applications_wait_for() {
    let db = TestDb::sqlite().await.unwrap();
    let mut config = ApiConfig::empty();
    config.add_officer("wang.fang", Role::RoundManager, MANAGER).unwrap();
    config.verify.passes = 1;
    config.verify.retry_delay = Duration::ZERO;
    // The simulated registries, but the birth registry on port 9, where nothing listens.
    let sample = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/cities/sample");
    let sim = enrol_registry_sim::Simulator::start(
        enrol_registry_sim::Dataset::load(&sample).unwrap(),
        enrol_registry_sim::SimConfig::default(),
        "127.0.0.1:0".parse().unwrap(),
    )
    .await
    .unwrap();
    let mut registries =
        enrol_evidence::RegistriesConfig::uniform(enrol_evidence::RegistryConfig::new(sim.base_url(), "dev-key"));
    for (registry, c) in &mut registries.registries {
        if *registry == enrol_domain::Registry::Birth {
            c.base_url = "http://127.0.0.1:9".to_owned();
        }
        c.max_retries = 0;
    }
    let evidence = RegistryEvidence::connect(&registries, enrol_evidence::GatherOptions::default()).unwrap();
    let engine = Engine::new(Orchestrator::new(db.store.clone()), Arc::new(evidence), config);
    open_round(&engine).await;
    let sample =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/cities/sample/applications.jsonl");
    let line = std::fs::read_to_string(sample)
        .unwrap()
        .lines()
        .next()
        .unwrap()
        .to_owned();
    let app: enrol_domain::Application = serde_json::from_str(&line).unwrap();
    engine.orchestrator().submit_unread(&app, "app:test").await.unwrap();
    engine.orchestrator().close("2027-primary", "setup").await.unwrap();
    engine.start_verification("2027-primary", "setup", false).await.unwrap();
    let started = std::time::Instant::now();
    while engine
        .verification_run("2027-primary")
        .is_none_or(|r| r.state == enrol_api::JobState::Running)
    {
        assert!(started.elapsed() < Duration::from_secs(60), "the run did not end");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let router = enrol_console::router(engine.clone(), ConsoleOptions::default());
    let (cookie, _) = sign_in(&router, MANAGER).await;
    let page = call(&router, get("/console/rounds/2027-primary", &cookie)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.text.contains("id=\"pending-registries\""), "{}", page.text);
    // The child's certificate is the first read: the birth registry is named.
    assert!(page.text.contains("data-registry=\"birth\""), "{}", page.text);
    sim.shutdown().await.unwrap();
    db.cleanup().await.unwrap();
}

/// Two `enrol serve` processes on one database: each its own engine, its own
/// connection pool and its own console router.
async fn second_process(db: &TestDb, officers: &[(&str, Role, &str)]) -> (enrol_store::Store, Router) {
    let store = enrol_store::Store::open(&db.url).await.unwrap();
    let router = enrol_console::router(engine_on(store.clone(), officers), ConsoleOptions::default());
    (store, router)
}

async fn stored_sessions(db: &TestDb) -> Vec<enrol_store::console_session::Model> {
    use enrol_store::sea_orm::EntityTrait;
    enrol_store::console_session::Entity::find()
        .all(db.store.connection())
        .await
        .unwrap()
}

#[tokio::test]
async fn a_session_started_on_one_server_is_accepted_and_ended_on_another() {
    use sha2::Digest;
    for db in TestDb::all().await.unwrap() {
        let engine = engine(&db);
        open_round(&engine).await;
        let a = enrol_console::router(engine.clone(), ConsoleOptions::default());
        let officers = [("wang.fang", Role::RoundManager, MANAGER)];
        let (b_store, b) = second_process(&db, &officers).await;

        let (cookie, csrf) = sign_in(&a, MANAGER).await;
        let page = call(&b, get("/console/rounds/2027-primary", &cookie)).await;
        assert_eq!(page.status, StatusCode::OK, "{}: {}", db.backend, page.location);
        assert!(page.text.contains(&csrf), "{}: the same CSRF token on both", db.backend);
        let close = call(
            &b,
            form("/console/rounds/2027-primary/close", &cookie, &format!("csrf={csrf}")),
        )
        .await;
        assert_eq!(close.status, StatusCode::SEE_OTHER, "{}: {}", db.backend, close.text);
        assert_eq!(
            engine
                .orchestrator()
                .round("2027-primary")
                .await
                .unwrap()
                .state
                .as_str(),
            "closed"
        );

        // The database holds the id's digest, the name and the times: no cookie, no CSRF token, no role.
        let id = cookie.strip_prefix("enrol_session=").unwrap();
        let rows = stored_sessions(&db).await;
        assert_eq!(rows.len(), 1, "{}", db.backend);
        assert_eq!(rows[0].id_digest, hex::encode(sha2::Sha256::digest(id.as_bytes())));
        assert_eq!(rows[0].officer, "wang.fang");
        assert!(rows[0].expires_at > rows[0].created_at);
        let dump = format!("{rows:?}");
        assert!(!dump.contains(id) && !dump.contains(&csrf), "{}: {dump}", db.backend);

        // Signed out on B: refused on A, and on B.
        let out = call(&b, form("/console/logout", &cookie, &format!("csrf={csrf}"))).await;
        assert_eq!(out.status, StatusCode::SEE_OTHER, "{}", out.text);
        assert!(out.set_cookie.contains("Max-Age=0"), "{}", out.set_cookie);
        assert!(stored_sessions(&db).await.is_empty(), "{}", db.backend);
        for router in [&a, &b] {
            let page = call(router, get("/console/rounds", &cookie)).await;
            assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", db.backend);
            assert!(page.location.starts_with("/console/login"), "{}", page.location);
        }
        b_store.close().await.unwrap();
        db.cleanup().await.unwrap();
    }
}

#[tokio::test]
async fn the_role_comes_from_the_configuration_not_the_session() {
    for db in TestDb::all().await.unwrap() {
        let engine = engine(&db);
        open_round(&engine).await;
        let a = enrol_console::router(engine.clone(), ConsoleOptions::default());
        let (cookie, csrf) = sign_in(&a, MANAGER).await;
        // B's configuration has made wang.fang a viewer: B lets them read, not close.
        let (demoted_store, demoted) =
            second_process(&db, &[("wang.fang", Role::Viewer, "other-token-0123456789")]).await;
        let page = call(&demoted, get("/console/rounds/2027-primary", &cookie)).await;
        assert_eq!(page.status, StatusCode::OK, "{}", db.backend);
        let close = call(
            &demoted,
            form("/console/rounds/2027-primary/close", &cookie, &format!("csrf={csrf}")),
        )
        .await;
        assert_eq!(close.status, StatusCode::FORBIDDEN, "{}", db.backend);
        // C's configuration no longer names wang.fang: signed out there.
        let (removed_store, removed) = second_process(&db, &[("zhao.lei", Role::Viewer, VIEWER)]).await;
        let page = call(&removed, get("/console/rounds/2027-primary", &cookie)).await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", db.backend);
        assert!(page.location.starts_with("/console/login"), "{}", page.location);
        assert_eq!(
            engine
                .orchestrator()
                .round("2027-primary")
                .await
                .unwrap()
                .state
                .as_str(),
            "open"
        );
        demoted_store.close().await.unwrap();
        removed_store.close().await.unwrap();
        db.cleanup().await.unwrap();
    }
}

#[tokio::test]
async fn an_expired_session_is_refused_everywhere_and_purged() {
    for db in TestDb::all().await.unwrap() {
        let engine = engine(&db);
        let expired = enrol_console::router(
            engine.clone(),
            ConsoleOptions {
                session_ttl: Duration::ZERO,
                ..ConsoleOptions::default()
            },
        );
        let (b_store, b) = second_process(&db, &[("wang.fang", Role::RoundManager, MANAGER)]).await;
        let answer = call(&expired, form("/console/login", "", &format!("token={MANAGER}"))).await;
        let old = answer.set_cookie.split(';').next().unwrap().to_owned();
        call(&expired, form("/console/login", "", &format!("token={MANAGER}"))).await;
        assert_eq!(
            stored_sessions(&db).await.len(),
            1,
            "{}: the first purged by the second sign-in",
            db.backend
        );
        let page = call(&b, get("/console/rounds", &old)).await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", db.backend);

        let (live, _) = sign_in(&b, MANAGER).await;
        let rows = stored_sessions(&db).await;
        assert_eq!(rows.len(), 1, "{}: only the live session is left: {rows:?}", db.backend);
        assert_eq!(
            call(&expired, get("/console/rounds", &live)).await.status,
            StatusCode::OK
        );
        b_store.close().await.unwrap();
        db.cleanup().await.unwrap();
    }
}

#[test]
fn registry_text_is_escaped_never_markup() {
    use enrol_domain::{Address, EvidenceBundle, Fetched, NationalId, RecordRef, Registry};
    let child = NationalId::parse("370811202102141034").unwrap();
    let hostile = "<script>alert('x')</script>太白中路\"10号\"";
    let mut bundle = EvidenceBundle::default();
    bundle.address_matches.insert(
        hostile.to_owned(),
        Fetched {
            source: RecordRef::new(Registry::Zones, hostile),
            fetched_at: chrono::Utc::now(),
            record: Some(vec![]),
        },
    );
    bundle.household_records.insert(
        child.clone(),
        Fetched {
            source: RecordRef::new(Registry::Hukou, &child),
            fetched_at: chrono::Utc::now(),
            record: Some(enrol_domain::HouseholdRecord {
                id: child.clone(),
                birth_date: child.birth_date(),
                household_no: enrol_domain::HouseholdNo::new("370811001000001"),
                relation_to_head: enrol_domain::RelationToHead::Child,
                registered_on: child.birth_date(),
                region: "370811".parse().unwrap(),
                address: Address {
                    code: None,
                    text: hostile.to_owned(),
                },
            }),
        },
    );
    for lang in [Lang::Zh, Lang::En] {
        let html = enrol_console::evidence_cards(lang, &bundle).into_string();
        assert!(!html.contains("<script"), "{html}");
        assert!(
            html.contains("&lt;script&gt;alert('x')&lt;/script&gt;太白中路&quot;10号&quot;"),
            "{html}"
        );
    }
}
