//! A decision's priority at the family's first choice, as its own column, so
//! that the dashboard counts a round's eligible applications by tier before
//! allocation (第一志愿类别) with one grouped scan of ids and short strings,
//! not by decoding every decision's JSON.
//!
//! The value is the `priority` of the decision's first `schools` entry (a
//! tier's name, or `lottery` at a private school), or `none` where the
//! decision lists no school (review, ineligible, or eligible with no valid
//! choice). Decisions stored before this migration are filled from their
//! JSON in one statement.

use sea_orm::{ConnectionTrait, DbBackend};
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table("decisions")
                    .add_column(string("first_priority").default("none"))
                    .to_owned(),
            )
            .await?;
        let db = manager.get_connection();
        let first = match db.get_database_backend() {
            DbBackend::Sqlite => "json_extract(decision, '$.schools[0].priority')",
            DbBackend::Postgres => "(decision::json -> 'schools' -> 0 ->> 'priority')",
            other => return Err(DbErr::Migration(format!("unsupported backend {other:?}"))),
        };
        db.execute_unprepared(&format!(
            "UPDATE decisions SET first_priority = COALESCE({first}, 'none')"
        ))
        .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table("decisions")
                    .drop_column("first_priority")
                    .to_owned(),
            )
            .await
    }
}
