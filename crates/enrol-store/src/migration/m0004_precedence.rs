//! Parents first (policy.md, "Who may apply for a child"): an application
//! whose precedence over the child's live application could not be settled
//! at submission (the birth registry did not answer in time) waits, not
//! live, until verification settles it by the same rule.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table("applications")
                    .add_column(boolean("precedence_unsettled").default(false))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_applications_child")
                    .table("applications")
                    .col("round_id")
                    .col("child_id")
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("ix_applications_child")
                    .table("applications")
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table("applications")
                    .drop_column("precedence_unsettled")
                    .to_owned(),
            )
            .await
    }
}
