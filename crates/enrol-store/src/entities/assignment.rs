//! Seats assigned by the allocation: one row per application of the round.

use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "assignments")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub application_id: String,
    pub round_id: String,
    pub school_id: Option<String>,
    /// `choice`, `overflow` or `none`.
    pub route: String,
    pub choice_rank: Option<i32>,
    pub priority: Option<String>,
    pub unit_no: Option<String>,
    pub assigned_at: DateTimeUtc,
}

impl ActiveModelBehavior for ActiveModel {}
