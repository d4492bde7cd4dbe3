//! Decisions, kept as a history: the current one per application is marked.

use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "decisions")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub application_id: String,
    pub round_id: String,
    /// `application_id` on the current decision, `NULL` on superseded ones
    /// (unique: one current decision per application).
    pub current_for: Option<String>,
    pub status: String,
    /// The decision's priority at the family's first choice (the first
    /// `schools` entry: a tier's name or `lottery`), `none` when it lists
    /// no school: the dashboard counts by it before allocation.
    pub first_priority: String,
    /// The decision JSON of formats.md.
    pub decision: String,
    /// The rules' full evaluation JSON (decision plus allocation inputs).
    pub evaluation: String,
    pub policy_version: String,
    pub evidence_snapshot_id: Option<i64>,
    pub decided_at: DateTimeUtc,
}

impl ActiveModelBehavior for ActiveModel {}
