//! Who read a person's records (查询留痕): the registry access log, as an
//! officer may see it. The lookup is itself a read of personal data, and is
//! recorded in the audit log in the same transaction.

use chrono::{DateTime, Utc};
use enrol_domain::NationalId;
use enrol_store::sea_orm::{
    ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};
use enrol_store::{AuditEntry, append_audit, registry_access};
use serde::Serialize;

use crate::error::RoundError;
use crate::round::{Orchestrator, load_round, now};

/// One registry read of a person's records, as shown to officers: who,
/// when, why, which registry and what came of it. Not the answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PersonAccess {
    /// The record's id: pass the last one as `after` for the next page.
    pub id: i64,
    /// When the request was sent (for an `unknown` outcome: when it was recorded, just before).
    pub at: DateTime<Utc>,
    /// Who caused it: the officer who ran verification or accepted a review.
    pub actor: String,
    /// `hukou`, `birth`, `property`, `residence`, `social-insurance`, `zones`
    /// or `enrolment-history`.
    pub registry: String,
    /// The request's path and query, as sent (it names the person).
    pub path: String,
    /// The purpose declared to the registry (`school-enrolment`).
    pub purpose: String,
    /// The consent the read was made under.
    pub consent_id: Option<String>,
    /// `answered`, `timed_out`, `connection_failed`, `abandoned` (the caller stopped waiting: a submission's short deadline) or `unknown` (recorded before it was sent; what came of it was never stored: the process stopped first).
    pub outcome: String,
    /// The HTTP status of an answered request.
    pub status: Option<i32>,
    /// The application the read served.
    pub application_id: Option<String>,
}

impl From<registry_access::Model> for PersonAccess {
    fn from(row: registry_access::Model) -> Self {
        PersonAccess {
            id: row.id,
            at: row.at,
            actor: row.actor,
            registry: row.registry,
            path: row.path,
            purpose: row.purpose,
            consent_id: row.consent_id,
            outcome: row.outcome,
            status: row.status,
            application_id: row.application_id,
        }
    }
}

impl Orchestrator {
    /// The registry reads in a round that named `person`, oldest first: those
    /// after record id `after`, at most `limit`. The lookup is recorded in the
    /// audit log (`access_log_read`, by `officer`, the person as subject) in
    /// the same transaction, before anything is returned.
    ///
    /// A record whose outcome is `unknown` is a read on record whose result
    /// was never stored (or is not yet): it shows as such, and may be settled
    /// by the time of a later lookup.
    ///
    /// Paging by id skips nothing: records are written by the access journal
    /// (before each request) and settled in the transactions of the results
    /// they served, and those commit in any order, so on
    /// PostgreSQL the lookup first takes the table in `SHARE` mode, which
    /// waits for every transaction still writing records and holds off new
    /// ones until the page is read (ids are drawn when a row is inserted,
    /// after that lock). A record not on a page therefore has a larger id than
    /// every record on it. SQLite has one writer at a time already.
    pub async fn person_accesses(
        &self,
        round_id: &str,
        person: &NationalId,
        after: Option<i64>,
        limit: u64,
        officer: &str,
    ) -> Result<Vec<PersonAccess>, RoundError> {
        let tx = self.store.begin_write().await?;
        load_round(&tx, round_id).await?;
        if tx.get_database_backend() == DbBackend::Postgres {
            tx.execute_unprepared("LOCK TABLE registry_accesses IN SHARE MODE")
                .await?;
        }
        let mut query = registry_access::Entity::find()
            .filter(registry_access::Column::RoundId.eq(round_id))
            .filter(registry_access::Column::PersonId.eq(person.as_str()));
        if let Some(after) = after {
            query = query.filter(registry_access::Column::Id.gt(after));
        }
        let rows = query
            .order_by_asc(registry_access::Column::Id)
            .limit(limit)
            .all(&tx)
            .await?;
        append_audit(
            &tx,
            now(),
            AuditEntry {
                round_id: Some(round_id.to_owned()),
                actor: officer.to_owned(),
                action: "access_log_read".to_owned(),
                subject: Some(person.to_string()),
                reason: None,
                details: serde_json::json!({"after": after, "entries": rows.len()}),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(rows.into_iter().map(PersonAccess::from).collect())
    }
}
