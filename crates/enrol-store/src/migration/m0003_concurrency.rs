//! Several engine processes on one database: the registry access log as its
//! own append-only table, a row per school of a round to lock for seat
//! corrections, and verification claims (who holds an application, until when).

use sea_orm::{ConnectionTrait, DbBackend};
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("registry_accesses")
                    .col(big_pk_auto("id"))
                    .col(text("round_id"))
                    .col(text_null("application_id"))
                    .col(text("actor"))
                    .col(text("registry"))
                    .col(text("path"))
                    .col(text_null("person_id"))
                    .col(text_null("consent_id"))
                    .col(text("purpose"))
                    .col(text("outcome"))
                    .col(integer_null("status"))
                    .col(integer("attempt"))
                    .col(timestamp_with_time_zone("at"))
                    .col(big_integer("latency_us"))
                    .foreign_key(
                        ForeignKey::create()
                            .from("registry_accesses", "round_id")
                            .to("rounds", "id"),
                    )
                    .to_owned(),
            )
            .await?;
        for (name, cols) in [
            ("ix_registry_accesses_person", ["round_id", "person_id"]),
            ("ix_registry_accesses_application", ["application_id", "id"]),
        ] {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table("registry_accesses")
                        .col(cols[0])
                        .col(cols[1])
                        .to_owned(),
                )
                .await?;
        }

        manager
            .create_table(
                Table::create()
                    .table("school_seats")
                    .col(text("round_id"))
                    .col(text("school_id"))
                    .col(integer("capacity"))
                    .primary_key(Index::create().col("round_id").col("school_id"))
                    .foreign_key(ForeignKey::create().from("school_seats", "round_id").to("rounds", "id"))
                    .to_owned(),
            )
            .await?;

        // One column per statement: SQLite's ALTER TABLE adds one at a time.
        for column in [text_null("claimed_by"), timestamp_with_time_zone_null("lease_until")] {
            manager
                .alter_table(Table::alter().table("applications").add_column(column).to_owned())
                .await?;
        }

        let db = manager.get_connection();
        match db.get_database_backend() {
            DbBackend::Sqlite => {
                for op in ["UPDATE", "DELETE"] {
                    db.execute_unprepared(&format!(
                        "CREATE TRIGGER registry_accesses_no_{lower} BEFORE {op} ON registry_accesses \
                         BEGIN SELECT RAISE(ABORT, 'registry_accesses is append-only'); END;",
                        lower = op.to_lowercase()
                    ))
                    .await?;
                }
            }
            DbBackend::Postgres => {
                db.execute_unprepared(
                    "CREATE TRIGGER registry_accesses_no_change BEFORE UPDATE OR DELETE ON registry_accesses \
                     FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();",
                )
                .await?;
            }
            other => return Err(DbErr::Migration(format!("unsupported backend {other:?}"))),
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in ["claimed_by", "lease_until"] {
            manager
                .alter_table(Table::alter().table("applications").drop_column(column).to_owned())
                .await?;
        }
        for table in ["school_seats", "registry_accesses"] {
            manager.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        Ok(())
    }
}
