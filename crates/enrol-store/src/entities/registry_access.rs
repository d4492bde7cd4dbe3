//! The registry access log (查询留痕): one row per request the engine sent to
//! a registry. The row is committed before the request is sent, with the
//! outcome `unknown` (the journal's group commit), and settled (outcome,
//! status, send time, latency) in the transaction of the result it served
//! (an evidence snapshot, a decision, the round's school catalogue). A row
//! still `unknown` is a request whose result was never stored: the process
//! died, or the caller gave up, before it was (or, in a tiny window, before
//! the request left). Append-only otherwise: the database refuses deletes,
//! a second settlement and any change to the other columns.

use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "registry_accesses")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub round_id: String,
    /// The application the read served; `NULL` for public reads of the round
    /// (the school catalogue).
    pub application_id: Option<String>,
    /// Who caused the read: `engine` for verification, an officer's name for
    /// a review they accepted.
    pub actor: String,
    /// `hukou`, `birth`, `property`, `residence`, `social-insurance`, `zones`
    /// or `enrolment-history`.
    pub registry: String,
    /// Path and query as sent.
    pub path: String,
    /// The national ID the request names, if it names one: what
    /// `GET /v1/rounds/{round}/access?person=` looks up.
    pub person_id: Option<String>,
    pub consent_id: Option<String>,
    pub purpose: String,
    /// `answered`, `timed_out`, `connection_failed`, `abandoned` (the caller
    /// stopped waiting: a submission's short deadline) or `unknown` (sent, or
    /// about to be, and what came of it was never stored).
    pub outcome: String,
    /// The HTTP status of an answered request.
    pub status: Option<i32>,
    /// 1 for the first attempt of a call, 2 for its first retry, and so on.
    pub attempt: i32,
    /// When the request was sent; for an `unknown` outcome, when it was
    /// recorded, just before it was sent.
    pub at: DateTimeUtc,
    /// From sending to the full answer (or giving up), in microseconds; 0
    /// for an `unknown` outcome.
    pub latency_us: i64,
}

impl ActiveModelBehavior for ActiveModel {}
