//! One row per school of a round, written at allocation: the row a seat
//! correction locks (`SELECT … FOR UPDATE`) while it counts the school's
//! seats and takes one, so two corrections never both take the last seat.

use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "school_seats")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub round_id: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub school_id: String,
    /// Seats for the round's entry year.
    pub capacity: i32,
}

impl ActiveModelBehavior for ActiveModel {}
