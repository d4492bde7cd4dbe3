//! Every endpoint and error path of the seven registries, over real loopback sockets.

mod common;

use common::{Auth, CONSENT, Client, assert_error_shape, start};
use enrol_registry_sim::{Registry, SimConfig};
use serde_json::{Value, json};

const CHILD: &str = "370811202011150023";
const MOTHER: &str = "370811198803120042";
const FATHER: &str = "370811198705060015";
const TEXT_ONLY: &str = "370829199001010034";
const MIGRANT: &str = "411522198907070031";
const MIGRANT_CHILD_LOWER: &str = "37081120210301001x";
const AT_SCHOOL: &str = "370811201806050021";
const BAD_CHECKSUM: &str = "370811202011150024";
const UNIT: &str = "370811012001GB00143F00020501";

#[tokio::test]
async fn hukou() {
    let sim = start(SimConfig::default()).await;
    let c = Client::new(&sim);
    let t = c
        .transcript(&[
            (&format!("/hukou/v1/persons/{CHILD}"), Auth::Personal),
            (&format!("/hukou/v1/persons/{TEXT_ONLY}"), Auth::Personal),
            (&format!("/hukou/v1/persons/{MIGRANT}"), Auth::Personal),
            (&format!("/hukou/v1/persons/{MIGRANT_CHILD_LOWER}"), Auth::Personal),
            (&format!("/hukou/v1/persons/{BAD_CHECKSUM}"), Auth::Personal),
            ("/hukou/v1/persons/12345", Auth::Personal),
            ("/hukou/v1/persons/37081120211301001X", Auth::Personal),
        ])
        .await;
    insta::assert_json_snapshot!(t);
}

#[tokio::test]
async fn birth() {
    let sim = start(SimConfig::default()).await;
    let c = Client::new(&sim);
    let t = c
        .transcript(&[
            (&format!("/birth/v1/certificates/{CHILD}"), Auth::Personal),
            // A lower-case x is canonicalised; an absent father is null.
            (&format!("/birth/v1/certificates/{MIGRANT_CHILD_LOWER}"), Auth::Personal),
            (&format!("/birth/v1/certificates/{MOTHER}"), Auth::Personal),
            ("/birth/v1/certificates/not-an-id", Auth::Personal),
        ])
        .await;
    insta::assert_json_snapshot!(t);
}

#[tokio::test]
async fn property() {
    let sim = start(SimConfig::default()).await;
    let c = Client::new(&sim);
    let t = c
        .transcript(&[
            (&format!("/property/v1/holdings?owner_id={MOTHER}"), Auth::Personal),
            (&format!("/property/v1/holdings?owner_id={FATHER}"), Auth::Personal),
            (&format!("/property/v1/holdings?owner_id={CHILD}"), Auth::Personal),
            ("/property/v1/holdings", Auth::Personal),
            ("/property/v1/holdings?owner_id=123", Auth::Personal),
            (&format!("/property/v1/units/{UNIT}"), Auth::Personal),
            ("/property/v1/units/370812003001GB00020F00010101", Auth::Personal),
            ("/property/v1/units/370811012001GB00143F00099999", Auth::Personal),
        ])
        .await;
    insta::assert_json_snapshot!(t);
    // Holdings are listed by unit_no.
    let holdings = &t[0]["body"]["holdings"];
    let units: Vec<&str> = holdings
        .as_array()
        .map(|a| a.iter().filter_map(|h| h["unit_no"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(units, ["370811012001GB00143F00010101", "370811012001GB00143F00020501"]);
}

#[tokio::test]
async fn residence() {
    let sim = start(SimConfig::default()).await;
    let c = Client::new(&sim);
    let t = c
        .transcript(&[
            (&format!("/residence/v1/permits/{MIGRANT}"), Auth::Personal),
            (&format!("/residence/v1/permits/{MOTHER}"), Auth::Personal),
            ("/residence/v1/permits/41152219890707003", Auth::Personal),
        ])
        .await;
    insta::assert_json_snapshot!(t);
}

#[tokio::test]
async fn social_insurance() {
    let sim = start(SimConfig::default()).await;
    let c = Client::new(&sim);
    let p = |id: &str, q: &str| format!("/social-insurance/v1/persons/{id}/months{q}");
    let t = c
        .transcript(&[
            (&p(MIGRANT, "?from=2025-05&to=2027-04"), Auth::Personal),
            (&p(MIGRANT, "?from=2024-12&to=2024-12"), Auth::Personal),
            (&p(MIGRANT, "?to=2027-12&from=2020-01"), Auth::Personal),
            (&p(MIGRANT, "?from=2027-04&to=2025-05"), Auth::Personal),
            (&p(MOTHER, "?from=2025-05&to=2027-04"), Auth::Personal),
            (&p(CHILD, "?from=2025-05&to=2027-04"), Auth::Personal),
            (&p(MIGRANT, "?from=2025-05"), Auth::Personal),
            (&p(MIGRANT, ""), Auth::Personal),
            (&p(MIGRANT, "?from=2025-5&to=2027-04"), Auth::Personal),
            (&p(MIGRANT, "?from=2025-05&to=2027-13"), Auth::Personal),
            (&p(BAD_CHECKSUM, "?from=2025-05&to=2027-04"), Auth::Personal),
            ("/social-insurance/v1/persons/411522198907070031", Auth::Personal),
        ])
        .await;
    insta::assert_json_snapshot!(t);
}

#[tokio::test]
async fn zones() {
    let sim = start(SimConfig::default()).await;
    let c = Client::new(&sim);
    // The three zone endpoints are public: a key, no consent.
    let t = c
        .transcript(&[
            ("/zones/v1/schools", Auth::Key),
            ("/zones/v1/buildings/370811-012-00143", Auth::Key),
            ("/zones/v1/buildings/370812-003-00020", Auth::Key),
            ("/zones/v1/buildings/370811-012-99999", Auth::Key),
            ("/zones/v1/buildings/not-a-key", Auth::Key),
            ("/zones/v1/addresses", Auth::Key),
        ])
        .await;
    insta::assert_json_snapshot!(t);
    let ids: Vec<&str> = t[0]["body"]
        .as_array()
        .map(|a| a.iter().filter_map(|s| s["id"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(ids, ["J002", "S014", "S015", "S031"]);
}

#[tokio::test]
async fn address_search() {
    let sim = start(SimConfig::default()).await;
    let c = Client::new(&sim);
    let mut out = Vec::new();
    for text in [
        "济宁市任城区古槐街道太白中路143号2单元501室",
        "任城区太白中路143号2-501",
        "太白中路 143号 2单元 501室",
        "建设路20号1-101",
        "兖州区建设路20号1-101",
        "济南市任城区太白中路143号2-501",
        "太白中路一百四十三号2单元501室",
        "太白中路143号",
        "",
    ] {
        let rb = c
            .request(reqwest::Method::GET, "/zones/v1/addresses", Auth::Key)
            .query(&[("text", text)]);
        let ex = Client::send(rb).await;
        assert_eq!(ex.status, 200, "{text}");
        out.push(json!({"text": text, "body": ex.body}));
    }
    insta::assert_json_snapshot!(out);
    // `+` in a query string is a space, and spaces are removed.
    let ex = c
        .get(
            "/zones/v1/addresses?text=%E5%A4%AA%E7%99%BD%E4%B8%AD%E8%B7%AF+143%E5%8F%B7+2-501",
            Auth::Key,
        )
        .await;
    assert_eq!(
        ex.body,
        json!({"matches": [{"code": "370811-012-00143-02-0501", "text": "济宁市任城区古槐街道太白中路143号2单元501室"}]})
    );
}

#[tokio::test]
async fn enrolment_history() {
    let sim = start(SimConfig::default()).await;
    let c = Client::new(&sim);
    let t = c
        .transcript(&[
            (&format!("/enrolment-history/v1/units/{UNIT}"), Auth::Personal),
            (
                "/enrolment-history/v1/units/370811012001GB00143F00010101",
                Auth::Personal,
            ),
            (&format!("/enrolment-history/v1/children/{AT_SCHOOL}"), Auth::Personal),
            (&format!("/enrolment-history/v1/children/{CHILD}"), Auth::Personal),
            ("/enrolment-history/v1/children/0", Auth::Personal),
        ])
        .await;
    insta::assert_json_snapshot!(t);
}

/// 401, 403, 404 and 405 at every registry, and the paths no registry serves.
#[tokio::test]
async fn gate_errors() {
    let sim = start(SimConfig::default()).await;
    let c = Client::new(&sim);
    let person = format!("/hukou/v1/persons/{CHILD}");
    let t = c
        .transcript(&[
            (&person, Auth::Nothing),
            (&person, Auth::WrongKey("prod-key")),
            (&person, Auth::Key),
            (&person, Auth::ConsentOnly),
            (&person, Auth::PurposeOnly),
            (&person, Auth::OtherPurpose("marketing")),
            ("/hukou/v1/persons", Auth::Personal),
            ("/hukou/v2/persons/370811202011150023", Auth::Personal),
            ("/hukou", Auth::Personal),
            ("/zones/v1/schools/", Auth::Key),
            ("/zones/v1/schools", Auth::Nothing),
            ("/nope/v1/persons", Auth::Nothing),
            ("/", Auth::Nothing),
        ])
        .await;
    insta::assert_json_snapshot!(t);

    let post = Client::send(c.request(reqwest::Method::POST, &person, Auth::Personal)).await;
    assert_eq!(post.status, 405);
    assert_error_shape(&post);
    assert_eq!(post.code(), Some("method_not_allowed"));
    assert_eq!(post.headers.get("allow").and_then(|v| v.to_str().ok()), Some("GET"));
    let delete = Client::send(c.request(reqwest::Method::DELETE, "/zones/v1/schools", Auth::Nothing)).await;
    assert_eq!(delete.status, 401, "the key is checked before the method");
}

/// Consent and purpose are needed at every personal-data endpoint, and only there.
#[tokio::test]
async fn consent_rules_per_endpoint() {
    let sim = start(SimConfig::default()).await;
    let c = Client::new(&sim);
    let personal = [
        format!("/hukou/v1/persons/{CHILD}"),
        format!("/birth/v1/certificates/{CHILD}"),
        format!("/property/v1/holdings?owner_id={MOTHER}"),
        format!("/property/v1/units/{UNIT}"),
        format!("/residence/v1/permits/{MIGRANT}"),
        format!("/social-insurance/v1/persons/{MIGRANT}/months?from=2025-05&to=2027-04"),
        format!("/enrolment-history/v1/units/{UNIT}"),
        format!("/enrolment-history/v1/children/{AT_SCHOOL}"),
    ];
    for path in &personal {
        assert_eq!(c.get(path, Auth::Personal).await.status, 200, "{path}");
        for (auth, code) in [
            (Auth::Key, "consent_required"),
            (Auth::ConsentOnly, "consent_required"),
            (Auth::PurposeOnly, "consent_required"),
            (Auth::OtherPurpose("credit-check"), "purpose_not_allowed"),
            (Auth::OtherPurpose("School-Enrolment"), "purpose_not_allowed"),
        ] {
            let ex = c.get(path, auth).await;
            assert_eq!((ex.status, ex.code()), (403, Some(code)), "{path} {auth:?}");
        }
        assert_eq!(c.get(path, Auth::Nothing).await.status, 401, "{path}");
    }
    for path in [
        "/zones/v1/schools",
        "/zones/v1/buildings/370811-012-00143",
        "/zones/v1/addresses?text=x",
    ] {
        assert_eq!(c.get(path, Auth::Key).await.status, 200, "{path}");
        assert_eq!(c.get(path, Auth::Nothing).await.status, 401, "{path}");
    }
}

#[tokio::test]
async fn configured_keys_replace_dev_key() {
    let config = SimConfig::default().with_key(Registry::Birth, "birth-secret");
    let sim = start(config).await;
    let c = Client::new(&sim);
    let path = format!("/birth/v1/certificates/{CHILD}");
    assert_eq!(c.get(&path, Auth::Personal).await.status, 401);
    let ok = Client::send(
        c.http
            .get(format!("{}{path}", c.base))
            .header("X-Api-Key", "birth-secret")
            .header("X-Consent-Id", CONSENT)
            .header("X-Purpose", "school-enrolment"),
    )
    .await;
    assert_eq!(ok.status, 200);
    // The other registries keep dev-key.
    assert_eq!(
        c.get(&format!("/hukou/v1/persons/{CHILD}"), Auth::Personal)
            .await
            .status,
        200
    );
}

#[tokio::test]
async fn access_log_records_every_request_past_the_key_check() {
    let sim = start(SimConfig::default()).await;
    let c = Client::new(&sim);
    let person = format!("/hukou/v1/persons/{CHILD}");
    c.get(&person, Auth::Nothing).await; // 401: not logged
    c.get(&person, Auth::WrongKey("x")).await; // 401: not logged
    c.get(&person, Auth::Personal).await; // 200
    c.get(&person, Auth::Key).await; // 403
    c.get(&person, Auth::OtherPurpose("marketing")).await; // 403
    c.get(&format!("/hukou/v1/persons/{MIGRANT}"), Auth::Personal).await; // 404
    c.get("/hukou/v1/persons/1", Auth::Personal).await; // 400
    c.get("/hukou/v1/unknown?x=1", Auth::Personal).await; // 404
    Client::send(c.request(reqwest::Method::POST, &person, Auth::Personal)).await; // 405
    c.get("/hukou/v1/_access-log", Auth::Key).await; // the log itself: not logged
    let rb = c
        .request(reqwest::Method::GET, "/zones/v1/addresses", Auth::Personal)
        .query(&[("text", "太白中路143号2-501")]);
    Client::send(rb).await;

    let ex = c.get("/hukou/v1/_access-log", Auth::Key).await;
    assert_eq!(ex.status, 200);
    for entry in ex.body["entries"].as_array().into_iter().flatten() {
        let at = entry["at"].as_str().unwrap_or_default();
        assert!(
            chrono::DateTime::parse_from_rfc3339(at).is_ok(),
            "`at` is RFC 3339: {at}"
        );
    }
    insta::assert_json_snapshot!("hukou_access_log", ex.body, {".entries[].at" => "[at]"});
    let zones = c.get("/zones/v1/_access-log", Auth::Key).await;
    insta::assert_json_snapshot!("zones_access_log", zones.body, {".entries[].at" => "[at]"});
    // Nothing reached the birth registry.
    assert_eq!(
        c.get("/birth/v1/_access-log", Auth::Key).await.body,
        json!({"entries": []})
    );
    // The in-process view is the same log.
    assert_eq!(sim.access_log(Registry::Hukou).len(), 7);

    // The access log needs the key, and answers GET only.
    let ex = c.get("/hukou/v1/_access-log", Auth::Nothing).await;
    assert_eq!((ex.status, ex.code()), (401, Some("unauthenticated")));
    let ex = Client::send(c.request(reqwest::Method::POST, "/hukou/v1/_access-log", Auth::Key)).await;
    assert_eq!(ex.status, 405);

    sim.clear_access_logs();
    assert!(sim.access_log(Registry::Hukou).is_empty());
}

#[tokio::test]
async fn concurrent_requests_are_all_logged_in_arrival_order() {
    let sim = start(SimConfig::default()).await;
    let c = std::sync::Arc::new(Client::new(&sim));
    let mut tasks = Vec::new();
    for i in 0..64 {
        let c = c.clone();
        tasks.push(tokio::spawn(async move {
            c.get(&format!("/zones/v1/schools?n={i}"), Auth::Key).await.status
        }));
    }
    for t in tasks {
        assert_eq!(t.await.ok(), Some(200));
    }
    let log = sim.access_log(Registry::Zones);
    assert_eq!(log.len(), 64);
    let mut seen: Vec<&str> = log.iter().map(|e| e.path.as_str()).collect();
    seen.sort_unstable();
    seen.dedup();
    assert_eq!(seen.len(), 64);
    assert!(log.windows(2).all(|w| w[0].at <= w[1].at));
}

#[tokio::test]
async fn bodies_are_utf8_json_with_chinese_unescaped() {
    let sim = start(SimConfig::default()).await;
    let c = Client::new(&sim);
    let response = c
        .request(
            reqwest::Method::GET,
            &format!("/hukou/v1/persons/{CHILD}"),
            Auth::Personal,
        )
        .send()
        .await
        .expect("response");
    let text = response.text().await.expect("text");
    assert!(text.contains("李小雨"), "{text}");
    let v: Value = serde_json::from_str(&text).expect("json");
    assert_eq!(v["id"], CHILD);
}

#[tokio::test]
async fn shutdown_is_graceful_and_frees_the_port() {
    let sim = start(SimConfig::default()).await;
    let addr = sim.addr();
    let c = Client::new(&sim);
    assert_eq!(c.get("/zones/v1/schools", Auth::Key).await.status, 200);
    assert!(sim.shutdown().await.is_ok());
    assert!(
        reqwest::Client::new()
            .get(format!("http://{addr}/zones/v1/schools"))
            .send()
            .await
            .is_err()
    );
}
