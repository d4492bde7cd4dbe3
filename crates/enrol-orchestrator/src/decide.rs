//! Deciding an application, the one step verification and review share:
//! evidence snapshot → evaluation → decision → state, in the caller's write
//! transaction, with the registry accesses that gathered the evidence (their
//! journal rows settled, see [`crate::journal`]).
//!
//! The caller holds the application row's lock (`SELECT … FOR UPDATE`, see
//! [`crate::locks`]) and has checked its state under it; this module stores.

use chrono::{DateTime, Utc};
use enrol_domain::{Application, ConsentId, Evaluation, EvidenceBundle, OfficerFacts, Registry, Status};
use enrol_store::sea_orm::ActiveValue::{NotSet, Set};
use enrol_store::sea_orm::sea_query::{Expr, Value};
use enrol_store::sea_orm::{ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, QueryFilter, QueryOrder, Statement};
use enrol_store::{decision, evidence_snapshot, registry_access};

use crate::context::RoundContext;
use crate::error::{RoundError, Stored, decode};
use crate::round::now;
use crate::source::{Access, Evidence};
use crate::submit::parse_status;

/// What deciding an application came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// Evidence incomplete: stored as a snapshot, not decided.
    Pending,
    /// Decided with this status.
    Decided(Status),
}

/// Stores the evidence snapshot and, when the evidence is complete, the
/// rules' decision on it as the application's current decision.
pub(crate) async fn decide<C: ConnectionTrait>(
    conn: &C,
    round: &RoundContext,
    app: &Application,
    evidence: &Evidence,
) -> Result<Outcome, RoundError> {
    let application_id = app.application_id.to_string();
    let (bundle, failures) = match evidence {
        Evidence::Complete(bundle) => (bundle, None),
        Evidence::Incomplete { bundle, failures } => (bundle, Some(failures)),
    };
    // Inserted without reading the row back: the bundle is the largest
    // thing stored per application, and only its id is needed.
    let snapshot = evidence_snapshot::ActiveModel {
        id: NotSet,
        application_id: Set(application_id.clone()),
        round_id: Set(round.round_id.clone()),
        bundle: Set(serde_json::to_string(bundle).expect("serialisable")),
        complete: Set(failures.is_none()),
        failure: Set(failures.map(|f| serde_json::to_string(f).expect("serialisable"))),
        gathered_at: Set(now()),
    };
    let snapshot_id = evidence_snapshot::Entity::insert(snapshot)
        .exec(conn)
        .await?
        .last_insert_id;
    if failures.is_some() {
        return Ok(Outcome::Pending);
    }
    let evaluation = enrol_rules::evaluate(app, bundle, &round.policy, &round.schools, None);
    let status = evaluation.decision.status;
    store_decision(conn, &application_id, round, &evaluation, Some(snapshot_id)).await?;
    Ok(Outcome::Decided(status))
}

/// Stores a new current decision, superseding the previous one. Neither is
/// read back: the evaluation JSON is large, and nothing needs it here.
pub(crate) async fn store_decision<C: ConnectionTrait>(
    conn: &C,
    application_id: &str,
    round: &RoundContext,
    evaluation: &Evaluation,
    evidence_snapshot_id: Option<i64>,
) -> Result<(), RoundError> {
    decision::Entity::update_many()
        .col_expr(decision::Column::CurrentFor, Expr::value(Option::<String>::None))
        .filter(decision::Column::CurrentFor.eq(application_id))
        .exec(conn)
        .await?;
    let row = decision::ActiveModel {
        id: NotSet,
        application_id: Set(application_id.to_owned()),
        round_id: Set(round.round_id.clone()),
        current_for: Set(Some(application_id.to_owned())),
        status: Set(evaluation.decision.status.as_str().to_owned()),
        first_priority: Set(first_priority(&evaluation.decision).to_owned()),
        decision: Set(serde_json::to_string(&evaluation.decision).expect("serialisable")),
        evaluation: Set(serde_json::to_string(evaluation).expect("serialisable")),
        policy_version: Set(round.policy_version.clone()),
        evidence_snapshot_id: Set(evidence_snapshot_id),
        decided_at: Set(now()),
    };
    decision::Entity::insert(row).exec_without_returning(conn).await?;
    Ok(())
}

/// The decision's priority at the family's first choice (its first `schools`
/// entry), or [`NO_PRIORITY`] where it lists none: the column the dashboard
/// counts by before allocation (migration m0008).
pub(crate) fn first_priority(decision: &enrol_domain::Decision) -> &str {
    decision.schools.first().map_or(NO_PRIORITY, |s| s.priority.as_str())
}

/// `first_priority` of a decision that lists no school.
pub const NO_PRIORITY: &str = "none";

/// Who caused a registry read, and for which application.
#[derive(Debug, Clone, Copy)]
pub(crate) struct AccessContext<'a> {
    pub round_id: &'a str,
    pub application_id: Option<&'a str>,
    /// `engine`, or the officer whose action made the reads.
    pub actor: &'a str,
}

/// The outcome of a journaled request whose result was never stored: sent
/// (or about to be), and what came of it is not known.
pub(crate) const UNKNOWN_OUTCOME: &str = "unknown";

/// Settled requests a statement settles at most (5 parameters each).
const SETTLE_CHUNK: usize = 500;

/// Stores registry accesses in the access log, in the caller's transaction:
/// a journaled one's row (written before it was sent, `unknown`) is settled
/// with its outcome, status, send time and latency; one that was not
/// journaled (a source that keeps no journal) is appended whole.
pub(crate) async fn store_accesses<C: ConnectionTrait>(
    conn: &C,
    context: AccessContext<'_>,
    accesses: &[Access],
) -> Result<(), RoundError> {
    if accesses.is_empty() {
        return Ok(());
    }
    let (journaled, unjournaled): (Vec<&Access>, Vec<&Access>) = accesses.iter().partition(|a| a.journal_id.is_some());
    for chunk in journaled.chunks(SETTLE_CHUNK) {
        settle(conn, chunk).await?;
    }
    if unjournaled.is_empty() {
        return Ok(());
    }
    let rows = unjournaled
        .into_iter()
        .map(|access| {
            let (outcome, status) = outcome_of(access);
            access_row(
                context,
                ReadRecord {
                    registry: access.registry,
                    path: &access.path,
                    consent_id: access.consent_id.as_ref(),
                    purpose: &access.purpose,
                    attempt: access.attempt,
                    at: access.at,
                    outcome,
                    status,
                    latency_us: latency_us(access),
                },
            )
        })
        .collect();
    enrol_store::insert_chunked(conn, rows).await?;
    Ok(())
}

/// What an access record says of one read, whoever writes it: the journal
/// before the request is sent (outcome `unknown`), or [`store_accesses`]
/// for a source that keeps no journal.
pub(crate) struct ReadRecord<'a> {
    pub registry: Registry,
    /// Path and query as sent.
    pub path: &'a str,
    pub consent_id: Option<&'a ConsentId>,
    pub purpose: &'a str,
    pub attempt: u32,
    pub at: DateTime<Utc>,
    pub outcome: &'a str,
    pub status: Option<i32>,
    pub latency_us: i64,
}

/// The `registry_accesses` row of `read`, caused under `context`.
pub(crate) fn access_row(context: AccessContext<'_>, read: ReadRecord<'_>) -> registry_access::ActiveModel {
    registry_access::ActiveModel {
        id: NotSet,
        round_id: Set(context.round_id.to_owned()),
        application_id: Set(context.application_id.map(str::to_owned)),
        actor: Set(context.actor.to_owned()),
        registry: Set(registry_name(read.registry, read.path)),
        path: Set(read.path.to_owned()),
        person_id: Set(person_named(read.path)),
        consent_id: Set(read.consent_id.map(ToString::to_string)),
        purpose: Set(read.purpose.to_owned()),
        outcome: Set(read.outcome.to_owned()),
        status: Set(read.status),
        attempt: Set(i32::try_from(read.attempt).unwrap_or(i32::MAX)),
        at: Set(read.at),
        latency_us: Set(read.latency_us),
    }
}

/// Settles journaled rows in one statement: `UPDATE … FROM (VALUES …)`,
/// which PostgreSQL and SQLite (3.33 on) both read, naming the list's
/// columns `column1`, `column2`, …. Only a row still `unknown` is settled
/// (the database refuses any other change, migration m0006).
async fn settle<C: ConnectionTrait>(conn: &C, accesses: &[&Access]) -> Result<(), RoundError> {
    let backend = conn.get_database_backend();
    let mut values: Vec<Value> = Vec::with_capacity(accesses.len() * 5);
    let mut tuples = Vec::with_capacity(accesses.len());
    for access in accesses {
        let placeholders: Vec<String> = (values.len() + 1..=values.len() + 5)
            .map(|n| match backend {
                DbBackend::Postgres => format!("${n}"),
                _ => "?".to_owned(),
            })
            .collect();
        tuples.push(format!("({})", placeholders.join(", ")));
        let (outcome, status) = outcome_of(access);
        values.extend([
            Value::from(access.journal_id),
            Value::from(outcome),
            Value::from(status),
            Value::from(latency_us(access)),
            Value::from(access.at),
        ]);
    }
    let sql = format!(
        "UPDATE registry_accesses SET outcome = v.column2, status = v.column3, latency_us = v.column4, \
         at = v.column5 FROM (VALUES {}) AS v \
         WHERE registry_accesses.id = v.column1 AND registry_accesses.outcome = '{UNKNOWN_OUTCOME}'",
        tuples.join(", ")
    );
    let settled = conn
        .execute_raw(Statement::from_sql_and_values(backend, sql, values))
        .await?
        .rows_affected();
    if settled != accesses.len() as u64 {
        // Stored twice (a caller's bug), or a journal row gone: the log holds
        // what it held. No path here: it names a person.
        tracing::warn!(
            settled,
            accesses = accesses.len(),
            "access records settled fewer than their reads"
        );
    }
    Ok(())
}

fn outcome_of(access: &Access) -> (&'static str, Option<i32>) {
    match access.outcome {
        enrol_evidence::AccessOutcome::Answered { status } => ("answered", Some(i32::from(status))),
        enrol_evidence::AccessOutcome::TimedOut => ("timed_out", None),
        enrol_evidence::AccessOutcome::ConnectionFailed => ("connection_failed", None),
        enrol_evidence::AccessOutcome::Abandoned => ("abandoned", None),
    }
}

fn latency_us(access: &Access) -> i64 {
    i64::try_from(access.latency.as_micros()).unwrap_or(i64::MAX)
}

/// The registry's name as its path's first segment (`hukou`, `zones`, …).
pub(crate) fn registry_name(registry: Registry, path: &str) -> String {
    path.trim_start_matches('/')
        .split('/')
        .next()
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .unwrap_or_else(|| format!("{registry:?}").to_lowercase())
}

/// The national ID a request path names (a path segment or a query value),
/// if any: persons, certificates, holdings by owner, permits, insurance
/// months, current places.
pub(crate) fn person_named(path: &str) -> Option<String> {
    let (path, query) = path.split_once('?').unwrap_or((path, ""));
    path.split('/')
        .chain(query.split('&').filter_map(|pair| pair.split_once('=').map(|(_, v)| v)))
        .find_map(|part| enrol_domain::NationalId::parse(part).ok())
        .map(|id| id.to_string())
}

/// The current decision of an application, if it has one.
pub(crate) async fn current_decision<C: ConnectionTrait>(
    conn: &C,
    application_id: &str,
) -> Result<Option<decision::Model>, RoundError> {
    Ok(decision::Entity::find()
        .filter(decision::Column::CurrentFor.eq(application_id))
        .one(conn)
        .await?)
}

/// The current decision's status of an application, if decided.
pub(crate) async fn current_status<C: ConnectionTrait>(
    conn: &C,
    application_id: &str,
) -> Result<Option<Status>, RoundError> {
    current_decision(conn, application_id)
        .await?
        .map(|d| parse_status(&d.application_id, &d.status))
        .transpose()
}

pub(crate) fn parse_evaluation(row: &decision::Model) -> Result<Evaluation, RoundError> {
    Ok(decode(Stored::Evaluation, &row.application_id, &row.evaluation)?)
}

pub(crate) fn parse_decision(row: &decision::Model) -> Result<enrol_domain::Decision, RoundError> {
    Ok(decode(Stored::Decision, &row.application_id, &row.decision)?)
}

/// Officer facts recorded for an application, from its latest evidence
/// snapshot: what an officer established survives a retry; registry
/// answers are read afresh.
pub(crate) async fn officer_facts_of<C: ConnectionTrait>(
    conn: &C,
    application_id: &str,
) -> Result<OfficerFacts, RoundError> {
    let latest = evidence_snapshot::Entity::find()
        .filter(evidence_snapshot::Column::ApplicationId.eq(application_id))
        .order_by_desc(evidence_snapshot::Column::Id)
        .one(conn)
        .await?;
    Ok(match latest {
        Some(s) => decode::<EvidenceBundle>(Stored::EvidenceSnapshot, application_id, &s.bundle)?.officer_facts,
        None => OfficerFacts::default(),
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn finds_the_person_a_path_names() {
        let id = "370811202011150023";
        assert_eq!(
            super::person_named(&format!("/hukou/v1/persons/{id}")).as_deref(),
            Some(id)
        );
        assert_eq!(
            super::person_named(&format!("/property/v1/holdings?owner_id={id}")).as_deref(),
            Some(id)
        );
        assert_eq!(super::person_named("/zones/v1/buildings/370811-012-00143"), None);
        assert_eq!(super::person_named("/zones/v1/schools"), None);
    }
}
