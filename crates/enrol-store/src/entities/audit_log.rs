//! The append-only audit log: who did what, when and why. The database
//! refuses updates and deletes of its rows (triggers in the migration).

use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "audit_log")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub round_id: Option<String>,
    pub at: DateTimeUtc,
    /// Who: an officer's name, `app:<key id>`, or `engine`.
    pub actor: String,
    pub action: String,
    /// What it was done to, e.g. an application id.
    pub subject: Option<String>,
    pub reason: Option<String>,
    /// Details as JSON.
    pub details: String,
}

impl ActiveModelBehavior for ActiveModel {}
