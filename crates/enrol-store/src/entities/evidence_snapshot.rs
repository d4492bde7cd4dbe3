//! What the registries said for an application, as it was when gathered.

use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "evidence_snapshots")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub application_id: String,
    pub round_id: String,
    /// The evidence bundle JSON.
    pub bundle: String,
    /// False when a registry stayed down: the application is pending.
    pub complete: bool,
    /// What failed, for a pending application.
    pub failure: Option<String>,
    pub gathered_at: DateTimeUtc,
}

impl ActiveModelBehavior for ActiveModel {}
