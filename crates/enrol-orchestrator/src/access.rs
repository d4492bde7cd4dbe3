//! Who read a person's records (查询留痕): the registry access log, as an
//! officer may see it. The lookup is itself a read of personal data, and is
//! recorded in the audit log in the same transaction.

use chrono::{DateTime, Utc};
use enrol_domain::NationalId;
use enrol_store::sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use enrol_store::{AuditEntry, append_audit, registry_access};
use serde::Serialize;

use crate::error::RoundError;
use crate::round::{Orchestrator, load_round, now};

/// One registry read of a person's records, as shown to officers: who,
/// when, why and which registry. Not the answer, not the request path.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PersonAccess {
    /// When the request was sent.
    pub at: DateTime<Utc>,
    /// Who caused it: the officer who ran verification or accepted a review.
    pub actor: String,
    /// `hukou`, `birth`, `property`, `residence`, `social-insurance`, `zones`
    /// or `enrolment-history`.
    pub registry: String,
    /// The purpose declared to the registry (`school-enrolment`).
    pub purpose: String,
    /// The consent the read was made under.
    pub consent_id: Option<String>,
    /// The application the read served.
    pub application_id: Option<String>,
}

impl Orchestrator {
    /// Every registry read in a round that named `person`, oldest first.
    /// The lookup is recorded in the audit log (`access_log_read`, by
    /// `officer`) before anything is returned.
    pub async fn person_accesses(
        &self,
        round_id: &str,
        person: &NationalId,
        officer: &str,
    ) -> Result<Vec<PersonAccess>, RoundError> {
        let tx = self.store.begin_write().await?;
        load_round(&tx, round_id).await?;
        let rows = registry_access::Entity::find()
            .filter(registry_access::Column::RoundId.eq(round_id))
            .filter(registry_access::Column::PersonId.eq(person.as_str()))
            .order_by_asc(registry_access::Column::Id)
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
                details: serde_json::json!({"entries": rows.len()}),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(rows
            .into_iter()
            .map(|row| PersonAccess {
                at: row.at,
                actor: row.actor,
                registry: row.registry,
                purpose: row.purpose,
                consent_id: row.consent_id,
                application_id: row.application_id,
            })
            .collect())
    }
}
