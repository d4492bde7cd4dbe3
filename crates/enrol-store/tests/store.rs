//! The store on both backends: SQLite always, PostgreSQL when TEST_DATABASE_URL is set.

use chrono::{TimeZone, Utc};
use enrol_domain::Application;
use enrol_store::sea_orm::ActiveValue::{NotSet, Set};
use enrol_store::sea_orm::{ActiveModelTrait, EntityTrait, PaginatorTrait, TransactionTrait};
use enrol_store::testing::TestDb;
use enrol_store::{AuditEntry, append_audit, application, audit_log_of, insert_chunked, round};

const APPLICATION: &str = r#"{"application_id": "0b6f3c1e-5f7a-4f1e-9a4b-2d1c0e9f8a77",
 "round": "2027-primary", "child_id": "370811202011150023", "applicant_id": "11010519491231002X",
 "guardian_ids": [], "sibling_ids": [], "choices": ["S031", "S014"],
 "consent_id": "CNS-2027-000123", "submitted_at": "2027-05-06T09:00:00+08:00"}"#;

fn at() -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2027, 5, 6, 1, 0, 0).unwrap()
}

fn round_row(id: &str) -> round::ActiveModel {
    round::ActiveModel {
        id: Set(id.to_owned()),
        state: Set("open".to_owned()),
        policy_toml: Set("# 2027年义务教育招生政策\nround = \"2027-primary\"\n".to_owned()),
        policy_version: Set("abc".to_owned()),
        seed_commitment: Set("def".to_owned()),
        sealed_seed: Set(Some("0123456789abcdef0123456789abcdef".to_owned())),
        public_draw: Set(None),
        round_seed: Set(None),
        schools_json: Set(None),
        instance_json: Set(None),
        created_at: Set(at()),
        updated_at: Set(at()),
    }
}

fn application_row(id: &str, child: &str, body: &str) -> application::ActiveModel {
    application::ActiveModel {
        id: Set(id.to_owned()),
        round_id: Set("2027-primary".to_owned()),
        child_id: Set(child.to_owned()),
        applicant_id: Set("11010519491231002X".to_owned()),
        live_child_id: Set(Some(child.to_owned())),
        body: Set(body.to_owned()),
        state: Set("submitted".to_owned()),
        claimed_by: Set(None),
        lease_until: Set(None),
        precedence_unsettled: Set(false),
        received_at: Set(at()),
        updated_at: Set(at()),
    }
}

#[tokio::test]
async fn application_with_chinese_text_round_trips_on_every_backend() {
    for db in TestDb::all().await.unwrap() {
        let app: Application = serde_json::from_str(APPLICATION).unwrap();
        // Chinese text must survive byte for byte (a family's address, a reason).
        let body =
            serde_json::json!({"application": app, "note": "济宁市任城区古槐街道太白中路143号2单元501室"}).to_string();
        let tx = db.store.begin_write().await.unwrap();
        round_row("2027-primary").insert(&tx).await.unwrap();
        application_row(&app.application_id.to_string(), app.child_id.as_str(), &body)
            .insert(&tx)
            .await
            .unwrap();
        tx.commit().await.unwrap();

        let stored = application::Entity::find_by_id(app.application_id.to_string())
            .one(db.store.connection())
            .await
            .unwrap()
            .unwrap_or_else(|| panic!("{}: application lost", db.backend));
        assert_eq!(stored.body, body, "{}", db.backend);
        let value: serde_json::Value = serde_json::from_str(&stored.body).unwrap();
        let back: Application = serde_json::from_value(value["application"].clone()).unwrap();
        assert_eq!(back, app, "{}", db.backend);
        assert_eq!(value["note"], "济宁市任城区古槐街道太白中路143号2单元501室");
        let round = round::Entity::find_by_id("2027-primary")
            .one(db.store.connection())
            .await
            .unwrap()
            .unwrap();
        assert!(round.policy_toml.contains("义务教育"), "{}", db.backend);
        assert_eq!(round.created_at, at());
        db.cleanup().await.unwrap();
    }
}

#[tokio::test]
async fn one_live_application_per_child_is_enforced_by_the_database() {
    for db in TestDb::all().await.unwrap() {
        let conn = db.store.connection();
        round_row("2027-primary").insert(conn).await.unwrap();
        application_row("a1", "370811202011150023", "{}")
            .insert(conn)
            .await
            .unwrap();
        let err = application_row("a2", "370811202011150023", "{}")
            .insert(conn)
            .await
            .unwrap_err();
        assert!(enrol_store::is_unique_violation(&err), "{}: {err}", db.backend);
        // Once the first is withdrawn (no longer live), a new one is accepted.
        let mut first: application::ActiveModel = application::Entity::find_by_id("a1")
            .one(conn)
            .await
            .unwrap()
            .unwrap()
            .into();
        first.live_child_id = Set(None);
        first.state = Set("withdrawn".to_owned());
        first.update(conn).await.unwrap();
        application_row("a2", "370811202011150023", "{}")
            .insert(conn)
            .await
            .unwrap();
        db.cleanup().await.unwrap();
    }
}

#[tokio::test]
async fn bulk_inserts_are_chunked_under_the_bind_limit() {
    for db in TestDb::all().await.unwrap() {
        let conn = db.store.connection();
        round_row("2027-primary").insert(conn).await.unwrap();
        // 9 columns × 12,000 rows = 108,000 parameters: over both backends' limits.
        let rows: Vec<_> = (0..12_000)
            .map(|i| application_row(&format!("app-{i:05}"), &format!("child-{i:05}"), "{}"))
            .collect();
        let tx = db.store.begin_write().await.unwrap();
        insert_chunked(&tx, rows).await.unwrap();
        tx.commit().await.unwrap();
        let count = application::Entity::find().count(conn).await.unwrap();
        assert_eq!(count, 12_000, "{}", db.backend);
        db.cleanup().await.unwrap();
    }
}

#[tokio::test]
async fn audit_log_is_append_only() {
    for db in TestDb::all().await.unwrap() {
        let conn = db.store.connection();
        let entry = AuditEntry {
            round_id: Some("2027-primary".to_owned()),
            actor: "王老师".to_owned(),
            action: "review_rejected".to_owned(),
            subject: Some("a1".to_owned()),
            reason: Some("监护关系无法核实".to_owned()),
            details: serde_json::json!({"why": "guardianship"}),
        };
        let first = append_audit(conn, at(), entry.clone()).await.unwrap();
        append_audit(
            conn,
            at(),
            AuditEntry {
                action: "excluded".to_owned(),
                ..entry
            },
        )
        .await
        .unwrap();
        let log = audit_log_of(conn, "2027-primary").await.unwrap();
        assert_eq!(
            log.iter().map(|e| e.action.as_str()).collect::<Vec<_>>(),
            ["review_rejected", "excluded"]
        );
        assert_eq!(log[0].reason.as_deref(), Some("监护关系无法核实"));

        let mut changed: enrol_store::audit_log::ActiveModel = first.clone().into();
        changed.reason = Set(Some("rewritten".to_owned()));
        assert!(
            changed.update(conn).await.is_err(),
            "{}: an audit entry was changed",
            db.backend
        );
        assert!(
            enrol_store::audit_log::Entity::delete_by_id(first.id)
                .exec(conn)
                .await
                .is_err(),
            "{}: an audit entry was deleted",
            db.backend
        );
        assert_eq!(audit_log_of(conn, "2027-primary").await.unwrap().len(), 2);
        db.cleanup().await.unwrap();
    }
}

#[tokio::test]
async fn a_failed_transaction_stores_nothing() {
    for db in TestDb::all().await.unwrap() {
        let conn = db.store.connection();
        let result = conn
            .transaction::<_, (), enrol_store::sea_orm::DbErr>(|tx| {
                Box::pin(async move {
                    round_row("2027-primary").insert(tx).await?;
                    // The second insert collides on the primary key: the whole transaction rolls back.
                    round_row("2027-primary").insert(tx).await?;
                    Ok(())
                })
            })
            .await;
        assert!(result.is_err());
        assert_eq!(round::Entity::find().count(conn).await.unwrap(), 0, "{}", db.backend);
        let _ = NotSet::<i64>;
        db.cleanup().await.unwrap();
    }
}

#[tokio::test]
async fn reopening_keeps_data_and_migrations_are_idempotent() {
    let dir = std::env::temp_dir().join(format!("enrol-reopen-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("enrol.db");
    let path = path.to_str().unwrap();
    let store = enrol_store::Store::open(path).await.unwrap();
    round_row("2027-primary").insert(store.connection()).await.unwrap();
    store.close().await.unwrap();
    let store = enrol_store::Store::open(path).await.unwrap();
    assert_eq!(round::Entity::find().count(store.connection()).await.unwrap(), 1);
    store.close().await.unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_opens_of_a_fresh_database_migrate_once() {
    let dir = std::env::temp_dir().join(format!("enrol-concurrent-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let url = format!("sqlite://{}?mode=rwc", dir.join("enrol.db").display());
    let opens: Vec<_> = (0..6)
        .map(|_| {
            tokio::spawn({
                let url = url.clone();
                async move { enrol_store::Store::open(&url).await }
            })
        })
        .collect();
    for open in opens {
        open.await.unwrap().expect("every concurrent open succeeds");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn an_access_record_is_settled_once_and_never_deleted() {
    use enrol_store::registry_access;
    for db in TestDb::all().await.unwrap() {
        let conn = db.store.connection();
        round_row("2027-primary").insert(conn).await.unwrap();
        let journaled = registry_access::ActiveModel {
            id: NotSet,
            round_id: Set("2027-primary".to_owned()),
            application_id: Set(Some("a1".to_owned())),
            actor: Set("engine".to_owned()),
            registry: Set("hukou".to_owned()),
            path: Set("/hukou/v1/persons/370811202011150023".to_owned()),
            person_id: Set(Some("370811202011150023".to_owned())),
            consent_id: Set(Some("CNS-2027-000123".to_owned())),
            purpose: Set("school-enrolment".to_owned()),
            outcome: Set("unknown".to_owned()),
            status: Set(None),
            attempt: Set(1),
            at: Set(at()),
            latency_us: Set(0),
        }
        .insert(conn)
        .await
        .unwrap();
        let backend = db.backend;

        // Another column than the outcome's is never changed.
        let mut moved: registry_access::ActiveModel = journaled.clone().into();
        moved.path = Set("/hukou/v1/persons/11010519491231002X".to_owned());
        moved.outcome = Set("answered".to_owned());
        assert!(
            moved.update(conn).await.is_err(),
            "{backend}: a record's path was changed"
        );

        // Settled once, with its outcome.
        let mut settled: registry_access::ActiveModel = journaled.clone().into();
        settled.outcome = Set("answered".to_owned());
        settled.status = Set(Some(200));
        settled.latency_us = Set(20_500);
        settled.at = Set(at() + chrono::Duration::milliseconds(3));
        let settled = settled.update(conn).await.unwrap();
        assert_eq!(settled.status, Some(200));

        let mut again: registry_access::ActiveModel = settled.clone().into();
        again.outcome = Set("timed_out".to_owned());
        assert!(
            again.update(conn).await.is_err(),
            "{backend}: a record was settled twice"
        );
        let mut back: registry_access::ActiveModel = settled.clone().into();
        back.outcome = Set("unknown".to_owned());
        assert!(
            back.update(conn).await.is_err(),
            "{backend}: a settled record went back to unknown"
        );
        assert!(
            registry_access::Entity::delete_by_id(journaled.id)
                .exec(conn)
                .await
                .is_err(),
            "{backend}: an access record was deleted"
        );
        assert_eq!(
            registry_access::Entity::find_by_id(journaled.id)
                .one(conn)
                .await
                .unwrap(),
            Some(settled)
        );
        db.cleanup().await.unwrap();
    }
}

/// Migration m0008 fills `first_priority` of the decisions stored before it
/// from their JSON: the first `schools` entry's priority, `none` without one.
#[tokio::test]
async fn the_first_choice_priority_of_earlier_decisions_is_filled_from_their_json() {
    use enrol_store::decision;
    use sea_orm_migration::MigratorTrait;
    for db in TestDb::all().await.unwrap() {
        let conn = db.store.connection();
        round_row("2027-primary").insert(conn).await.unwrap();
        let decisions = [
            (
                "eligible",
                r#"{"status":"eligible","schools":[{"school_id":"S031","priority":"lottery","sibling":false,"key":[0,1]},{"school_id":"S014","priority":"tier1","sibling":false,"key":[1,1,20230411]}]}"#,
                "lottery",
            ),
            (
                "eligible",
                r#"{"status":"eligible","schools":[{"school_id":"S014","priority":"tier3","sibling":true,"key":[3,0,20200101]}]}"#,
                "tier3",
            ),
            ("review", r#"{"status":"review","schools":[]}"#, "none"),
        ];
        for (n, (status, json, _)) in decisions.iter().enumerate() {
            let id = format!("0b6f3c1e-5f7a-4f1e-9a4b-2d1c0e9f8a7{n}");
            application_row(&id, &format!("37081120201115002{n}"), APPLICATION)
                .insert(conn)
                .await
                .unwrap();
            decision::ActiveModel {
                id: NotSet,
                application_id: Set(id.clone()),
                round_id: Set("2027-primary".to_owned()),
                current_for: Set(Some(id)),
                status: Set((*status).to_owned()),
                // As a decision stored by an engine before m0008 would hold it.
                first_priority: Set("stale".to_owned()),
                decision: Set((*json).to_owned()),
                evaluation: Set("{}".to_owned()),
                policy_version: Set("abc".to_owned()),
                evidence_snapshot_id: Set(None),
                decided_at: Set(at()),
            }
            .insert(conn)
            .await
            .unwrap();
        }
        // Back to before m0008 (the column is dropped), then forward again.
        enrol_store::Migrator::down(conn, Some(1)).await.unwrap();
        enrol_store::Migrator::up(conn, None).await.unwrap();
        let mut filled: Vec<(String, String)> = decision::Entity::find()
            .all(conn)
            .await
            .unwrap()
            .into_iter()
            .map(|d| (d.application_id, d.first_priority))
            .collect();
        filled.sort();
        let expected: Vec<&str> = decisions.iter().map(|(_, _, first)| *first).collect();
        assert_eq!(
            filled.iter().map(|(_, p)| p.as_str()).collect::<Vec<_>>(),
            expected,
            "{}",
            db.backend
        );
        db.cleanup().await.unwrap();
    }
}
