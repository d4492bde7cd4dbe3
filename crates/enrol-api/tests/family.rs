//! The app endpoints, in-process, on every backend: idempotent submission,
//! conflicts, refusals of bad input that store nothing, authentication and
//! the rule that one family never reads another's application.

mod common;

use common::*;
use enrol_store::testing::TestDb;
use serde_json::json;

fn id(n: u128) -> String {
    uuid::Uuid::from_u128(n).to_string()
}

#[tokio::test]
async fn submission_is_idempotent_and_one_live_application_per_child() {
    // A rival meeting a live application makes the birth registry be read
    // (parents first): this child has no certificate, so the first stands.
    let city = City::start(2, 1).await;
    for db in TestDb::all().await.unwrap() {
        let api = Api::new(db, &city.sim.base_url());
        api.open_round().await;
        let (mother, father, other) = (person("19880312", 4), person("19870506", 1), person("19900101", 7));
        let child = person("20201115", 2);
        let body = application(1, &child, &mother, &[&father]);

        let created = api
            .call(Call::post("/v1/applications").citizen(mother.as_str()).json(&body))
            .await;
        created.expect(201);
        assert_eq!(
            created.location.as_deref(),
            Some(format!("/v1/applications/{}", id(1)).as_str())
        );
        let mut shown = created.json.clone();
        redact_times(&mut shown);
        insta::assert_json_snapshot!("submitted", shown);

        // The same content, keys reordered and spaced differently: the same answer.
        let mut reordered: Vec<(String, serde_json::Value)> = body
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        reordered.reverse();
        let text = format!(
            "{{ {} }}",
            reordered
                .iter()
                .map(|(k, v)| format!("{k:?} :  {v}"))
                .collect::<Vec<_>>()
                .join(" ,\n ")
        );
        let again = api
            .call(Call::post("/v1/applications").citizen(mother.as_str()).raw(&text))
            .await;
        again.expect(200);
        assert_eq!(again.json, created.json, "a retry is answered the same way");

        // Other content under the same id.
        let mut changed = body.clone();
        changed["choices"] = json!(["S002"]);
        api.call(Call::post("/v1/applications").citizen(mother.as_str()).json(&changed))
            .await
            .problem(409, "application-id-conflict");

        // Another id for the same child, by a parent who may read the first: told its id.
        let second = application(2, &child, &father, &[&mother]);
        let conflict = api
            .call(Call::post("/v1/applications").citizen(father.as_str()).json(&second))
            .await;
        conflict.problem(409, "child-conflict");
        assert_eq!(conflict.json["existing_application_id"], id(1));

        // By someone the first does not name: refused, told nothing more.
        let stranger = application(3, &child, &other, &[]);
        let conflict = api
            .call(Call::post("/v1/applications").citizen(other.as_str()).json(&stranger))
            .await;
        conflict.problem(409, "child-conflict");
        assert!(
            conflict.json.get("existing_application_id").is_none(),
            "{}",
            conflict.text
        );

        let stored = api.orchestrator.applications(ROUND).await.unwrap();
        assert_eq!(stored.len(), 1, "[{}] only the first is stored", api.db.backend);
        api.db.cleanup().await.unwrap();
    }
}

#[tokio::test]
async fn bad_input_is_refused_naming_the_field_and_nothing_is_stored() {
    for db in TestDb::all().await.unwrap() {
        let api = Api::new(db, NO_REGISTRIES);
        api.open_round().await;
        let (mother, child) = (person("19880312", 4), person("20201115", 2));
        let good = application(1, &child, &mother, &[]);
        let post = || Call::post("/v1/applications").citizen(mother.as_str());

        let answer = api.call(post().raw("{\"application_id\": ")).await;
        answer.problem(400, "malformed-body");
        assert!(answer.json.get("field").is_none());

        let mut bad = good.clone();
        bad["child_id"] = json!("370811202011150024");
        let answer = api.call(post().json(&bad)).await;
        answer.problem(422, "invalid-field");
        assert_eq!(
            (answer.json["field"].as_str(), answer.json["pointer"].as_str()),
            (Some("child_id"), Some("/child_id"))
        );
        let mut shown = answer.json.clone();
        redact_times(&mut shown);
        insta::assert_json_snapshot!("wrong_checksum", shown);

        let mut bad = good.clone();
        bad["guardian_ids"] = json!([person("19870506", 1), "11010519491231002"]);
        let answer = api.call(post().json(&bad)).await;
        answer.problem(422, "invalid-field");
        assert_eq!(answer.json["field"], "guardian_ids[1]");

        let mut bad = good.clone();
        bad["round"] = json!("2026-primary");
        let answer = api.call(post().json(&bad)).await;
        answer.problem(422, "invalid-field");
        assert_eq!(answer.json["field"], "round");

        let mut bad = good.clone();
        bad.as_object_mut().unwrap().remove("consent_id");
        api.call(post().json(&bad)).await.problem(422, "invalid-field");

        let mut bad = good.clone();
        bad["hukou_book_scan"] = json!("data:image/png;base64,...");
        let answer = api.call(post().json(&bad)).await;
        answer.problem(422, "invalid-field");
        assert_eq!(answer.json["field"], "hukou_book_scan");

        // Over the size limit (8 KiB in these tests), with and without a Content-Length.
        let mut big = good.clone();
        big["choices"] = json!(vec!["S001"; 2000]);
        let bytes = serde_json::to_vec(&big).unwrap();
        let mut sized = post().json(&big);
        sized = sized.header("Content-Length", &bytes.len().to_string());
        api.call(sized).await.problem(413, "body-too-large");
        api.call(post().json(&big)).await.problem(413, "body-too-large");

        let mut plain = post().json(&good);
        plain.headers.retain(|(name, _)| name != "Content-Type");
        plain = plain.header("Content-Type", "text/plain");
        api.call(plain).await.problem(415, "unsupported-media-type");

        assert!(
            api.orchestrator.applications(ROUND).await.unwrap().is_empty(),
            "[{}] nothing stored",
            api.db.backend
        );
        let audit = api.orchestrator.audit_log(ROUND, None, 100).await.unwrap();
        assert!(audit.iter().all(|e| e.action != "application_submitted"));
        api.db.cleanup().await.unwrap();
    }
}

#[tokio::test]
async fn callers_are_authenticated_and_families_see_only_their_own() {
    let api = Api::new(TestDb::sqlite().await.unwrap(), NO_REGISTRIES);
    api.open_round().await;
    let (mother, father, child) = (person("19880312", 4), person("19870506", 1), person("20201115", 2));
    let (neighbour, their_child) = (person("19850101", 3), person("20210301", 5));
    let body = application(1, &child, &mother, &[&father]);
    let path = format!("/v1/applications/{}", id(1));

    // No key, a wrong key, no citizen, a citizen ID that fails its checksum.
    let anonymous = api.call(Call::post("/v1/applications").json(&body)).await;
    anonymous.problem(401, "unauthenticated");
    let wrong = Call::post("/v1/applications")
        .header("X-Api-Key", "guess")
        .header("X-Citizen-Id", mother.as_str());
    api.call(wrong.json(&body)).await.problem(401, "unauthenticated");
    let nobody = Call::post("/v1/applications").header("X-Api-Key", APP_KEY);
    api.call(nobody.json(&body)).await.problem(401, "unauthenticated");
    let mut forged = mother.as_str()[..17].to_owned();
    forged.push(if mother.as_str().ends_with('0') { '1' } else { '0' });
    api.call(Call::post("/v1/applications").citizen(&forged).json(&body))
        .await
        .problem(401, "unauthenticated");
    // An officer's token is not an app key, and the body is not even read.
    api.call(Call::post("/v1/applications").officer(MANAGER).raw("{"))
        .await
        .problem(401, "unauthenticated");

    // Credentials are checked before the body is read: a stranger learns not even the size limit.
    let mut huge = Call::post("/v1/applications").raw(&" ".repeat(100_000));
    huge = huge.header("Content-Length", "100000");
    api.call(huge).await.problem(401, "unauthenticated");

    // Unknown routes and methods are problems too.
    let answer = api.call(Call::get("/v2/nothing")).await;
    answer.problem(404, "not-found");
    let answer = api
        .call(Call::new(axum::http::Method::PUT, "/v1/applications").citizen(mother.as_str()))
        .await;
    answer.expect(405);
    assert_eq!(
        (answer.content_type.as_str(), answer.json["type"].as_str()),
        ("application/problem+json", Some("about:blank"))
    );

    // A citizen submits only as the applicant.
    api.call(Call::post("/v1/applications").citizen(father.as_str()).json(&body))
        .await
        .problem(403, "forbidden");
    assert!(api.orchestrator.applications(ROUND).await.unwrap().is_empty());

    api.call(Call::post("/v1/applications").citizen(mother.as_str()).json(&body))
        .await
        .expect(201);
    api.call(
        Call::post("/v1/applications")
            .citizen(neighbour.as_str())
            .json(&application(2, &their_child, &neighbour, &[])),
    )
    .await
    .expect(201);

    // The applicant and a listed guardian read it, from any configured app.
    api.call(Call::get(&path).citizen(mother.as_str())).await.expect(200);
    let kiosk = Call::get(&path)
        .header("X-Api-Key", KIOSK_KEY)
        .header("X-Citizen-Id", father.as_str());
    assert_eq!(api.call(kiosk).await.expect(200).json["state"], "submitted");

    // Another family learns nothing, not even that the application exists:
    // its id answers 404 exactly as an id no one used does.
    let unknown_path = format!("/v1/applications/{}", id(98));
    for suffix in ["", "/decision", "/result"] {
        let answer = api
            .call(Call::get(format!("{path}{suffix}")).citizen(neighbour.as_str()))
            .await;
        answer.problem(404, "not-found");
        assert!(
            !answer.text.contains(child.as_str()) && !answer.text.contains("submitted"),
            "{}",
            answer.text
        );
        let unknown = api
            .call(Call::get(format!("{unknown_path}{suffix}")).citizen(neighbour.as_str()))
            .await;
        assert_eq!(
            answer.text.replace(&id(1), "ID"),
            unknown.text.replace(&id(98), "ID"),
            "another family's application and no application answer alike"
        );
    }
    api.call(Call::delete(&path).citizen(neighbour.as_str()))
        .await
        .problem(404, "not-found");
    assert_eq!(
        api.call(Call::get(&path).citizen(mother.as_str())).await.json["state"],
        "submitted"
    );

    // Unknown and malformed ids.
    api.call(Call::get(format!("/v1/applications/{}", id(99))).citizen(mother.as_str()))
        .await
        .problem(404, "not-found");
    let answer = api
        .call(Call::get("/v1/applications/not-a-uuid").citizen(mother.as_str()))
        .await;
    answer.problem(422, "invalid-field");
    assert_eq!(answer.json["field"], "application_id");

    // Before verification there is no decision; before publication no result.
    api.call(Call::get(format!("{path}/decision")).citizen(mother.as_str()))
        .await
        .problem(409, "not-decided");
    api.call(Call::get(format!("{path}/result")).citizen(father.as_str()))
        .await
        .problem(409, "not-published");

    // Officers: a token is needed, and a role that covers the action.
    api.call(Call::get("/v1/rounds")).await.problem(401, "unauthenticated");
    api.call(Call::get("/v1/rounds").header("X-Api-Key", APP_KEY))
        .await
        .problem(401, "unauthenticated");
    api.call(Call::get("/v1/rounds").officer(VIEWER)).await.expect(200);
    api.call(Call::post(format!("/v1/rounds/{ROUND}/close")).officer(VIEWER))
        .await
        .problem(403, "forbidden");
    api.call(Call::post(format!("/v1/rounds/{ROUND}/close")).officer(REVIEWER))
        .await
        .problem(403, "forbidden");
    let exclusion = json!({"application_id": id(2), "reason": "duplicate"});
    api.call(
        Call::post(format!("/v1/rounds/{ROUND}/exclusions"))
            .officer(VIEWER)
            .json(&exclusion),
    )
    .await
    .problem(403, "forbidden");
    assert_eq!(
        api.call(Call::get(&path).citizen(mother.as_str())).await.json["state"],
        "submitted"
    );
    api.db.cleanup().await.unwrap();
}

#[tokio::test]
async fn withdrawal_exclusion_and_a_closed_round() {
    for db in TestDb::all().await.unwrap() {
        let api = Api::new(db, NO_REGISTRIES);
        api.open_round().await;
        let (mother, father, child) = (person("19880312", 4), person("19870506", 1), person("20201115", 2));
        let first = application(1, &child, &mother, &[&father]);
        let path = format!("/v1/applications/{}", id(1));
        api.call(Call::post("/v1/applications").citizen(mother.as_str()).json(&first))
            .await
            .expect(201);

        // A listed guardian withdraws; withdrawing again answers the same state.
        let withdrawn = api.call(Call::delete(&path).citizen(father.as_str())).await;
        assert_eq!(withdrawn.expect(200).json["state"], "withdrawn");
        assert_eq!(
            api.call(Call::delete(&path).citizen(mother.as_str()))
                .await
                .expect(200)
                .json["state"],
            "withdrawn"
        );
        // The child may apply again, under a new id.
        let second = application(2, &child, &mother, &[&father]);
        api.call(Call::post("/v1/applications").citizen(mother.as_str()).json(&second))
            .await
            .expect(201);

        // An officer excludes another family's application, with a reason the family sees.
        let (parent, other_child) = (person("19850101", 3), person("20210301", 5));
        let third = application(3, &other_child, &parent, &[]);
        api.call(Call::post("/v1/applications").citizen(parent.as_str()).json(&third))
            .await
            .expect(201);
        let exclusions = format!("/v1/rounds/{ROUND}/exclusions");
        api.call(
            Call::post(&exclusions)
                .officer(REVIEWER)
                .json(&json!({"application_id": id(3), "reason": " "})),
        )
        .await
        .problem(422, "invalid-field");
        let reason = "家长申请撤销并改报外区 / withdrawn by the bureau at the family's request";
        let excluded = api
            .call(
                Call::post(&exclusions)
                    .officer(REVIEWER)
                    .json(&json!({"application_id": id(3), "reason": reason})),
            )
            .await;
        assert_eq!(excluded.expect(200).json["state"], "excluded");
        let seen = api
            .call(Call::get(format!("/v1/applications/{}", id(3))).citizen(parent.as_str()))
            .await;
        assert_eq!(
            (seen.json["state"].as_str(), seen.json["reason"].as_str()),
            (Some("excluded"), Some(reason))
        );
        api.call(Call::delete(format!("/v1/applications/{}", id(3))).citizen(parent.as_str()))
            .await
            .problem(409, "application-state");

        // Once closed: no submission, no withdrawal; a retry of a stored one is still answered.
        api.call(Call::post(format!("/v1/rounds/{ROUND}/close")).officer(MANAGER))
            .await
            .expect(200);
        let late = application(4, &person("20210402", 6), &father, &[]);
        api.call(Call::post("/v1/applications").citizen(father.as_str()).json(&late))
            .await
            .problem(409, "round-state");
        api.call(Call::post("/v1/applications").citizen(mother.as_str()).json(&second))
            .await
            .expect(200);
        api.call(Call::delete(format!("/v1/applications/{}", id(2))).citizen(mother.as_str()))
            .await
            .problem(409, "round-state");

        let actions: Vec<(String, String)> = api
            .orchestrator
            .audit_log(ROUND, None, 100)
            .await
            .unwrap()
            .into_iter()
            .map(|e| (e.action, e.actor))
            .collect();
        let expected_actor = format!("app:gov-app:{father}");
        assert!(
            actions.contains(&("application_withdrawn".to_owned(), expected_actor)),
            "{actions:?}"
        );
        assert!(
            actions.contains(&("application_excluded".to_owned(), "li.ming".to_owned())),
            "{actions:?}"
        );
        api.db.cleanup().await.unwrap();
    }
}
