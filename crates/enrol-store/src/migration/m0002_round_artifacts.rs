//! What a round fixes as it goes: the school catalogue read at verification,
//! the allocation instance, and whether reviews were left unplaced.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite's ALTER TABLE adds one at a time.
        for column in [text_null("schools_json"), text_null("instance_json")] {
            manager
                .alter_table(Table::alter().table("rounds").add_column(column).to_owned())
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in ["schools_json", "instance_json"] {
            manager
                .alter_table(Table::alter().table("rounds").drop_column(column).to_owned())
                .await?;
        }
        Ok(())
    }
}
