//! Rounds, applications, evidence snapshots, decisions, assignments and the
//! append-only audit log.

use sea_orm::{ConnectionTrait, DbBackend};
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

fn ts(name: &'static str) -> ColumnDef {
    timestamp_with_time_zone(name)
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("rounds")
                    .col(text("id").primary_key())
                    .col(text("state"))
                    .col(text("policy_toml"))
                    .col(text("policy_version"))
                    .col(text("seed_commitment"))
                    .col(text_null("sealed_seed"))
                    .col(text_null("public_draw"))
                    .col(text_null("round_seed"))
                    .col(ts("created_at"))
                    .col(ts("updated_at"))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table("applications")
                    .col(text("id").primary_key())
                    .col(text("round_id"))
                    .col(text("child_id"))
                    .col(text("applicant_id"))
                    .col(text_null("live_child_id"))
                    .col(text("body"))
                    .col(text("state"))
                    .col(ts("received_at"))
                    .col(ts("updated_at"))
                    .foreign_key(ForeignKey::create().from("applications", "round_id").to("rounds", "id"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_applications_live_child")
                    .table("applications")
                    .col("round_id")
                    .col("live_child_id")
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_applications_round_state")
                    .table("applications")
                    .col("round_id")
                    .col("state")
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table("evidence_snapshots")
                    .col(big_pk_auto("id"))
                    .col(text("application_id"))
                    .col(text("round_id"))
                    .col(text("bundle"))
                    .col(boolean("complete"))
                    .col(text_null("failure"))
                    .col(ts("gathered_at"))
                    .foreign_key(
                        ForeignKey::create()
                            .from("evidence_snapshots", "application_id")
                            .to("applications", "id"),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_evidence_snapshots_application")
                    .table("evidence_snapshots")
                    .col("application_id")
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table("decisions")
                    .col(big_pk_auto("id"))
                    .col(text("application_id"))
                    .col(text("round_id"))
                    .col(text_null("current_for"))
                    .col(text("status"))
                    .col(text("decision"))
                    .col(text("evaluation"))
                    .col(text("policy_version"))
                    .col(big_integer_null("evidence_snapshot_id"))
                    .col(ts("decided_at"))
                    .foreign_key(
                        ForeignKey::create()
                            .from("decisions", "application_id")
                            .to("applications", "id"),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_decisions_current")
                    .table("decisions")
                    .col("current_for")
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_decisions_round_status")
                    .table("decisions")
                    .col("round_id")
                    .col("status")
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table("assignments")
                    .col(text("application_id").primary_key())
                    .col(text("round_id"))
                    .col(text_null("school_id"))
                    .col(text("route"))
                    .col(integer_null("choice_rank"))
                    .col(text_null("priority"))
                    .col(text_null("unit_no"))
                    .col(ts("assigned_at"))
                    .foreign_key(
                        ForeignKey::create()
                            .from("assignments", "application_id")
                            .to("applications", "id"),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_assignments_round")
                    .table("assignments")
                    .col("round_id")
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table("audit_log")
                    .col(big_pk_auto("id"))
                    .col(text_null("round_id"))
                    .col(ts("at"))
                    .col(text("actor"))
                    .col(text("action"))
                    .col(text_null("subject"))
                    .col(text_null("reason"))
                    .col(text("details"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_audit_log_round")
                    .table("audit_log")
                    .col("round_id")
                    .col("id")
                    .to_owned(),
            )
            .await?;

        // The audit log is append-only: the database itself refuses changes.
        let db = manager.get_connection();
        match db.get_database_backend() {
            DbBackend::Sqlite => {
                for op in ["UPDATE", "DELETE"] {
                    db.execute_unprepared(&format!(
                        "CREATE TRIGGER audit_log_no_{lower} BEFORE {op} ON audit_log \
                         BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;",
                        lower = op.to_lowercase()
                    ))
                    .await?;
                }
            }
            DbBackend::Postgres => {
                db.execute_unprepared(
                    "CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS \
                     $$ BEGIN RAISE EXCEPTION 'audit_log is append-only'; END; $$;",
                )
                .await?;
                db.execute_unprepared(
                    "CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE ON audit_log \
                     FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();",
                )
                .await?;
            }
            other => return Err(DbErr::Migration(format!("unsupported backend {other:?}"))),
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            "audit_log",
            "assignments",
            "decisions",
            "evidence_snapshots",
            "applications",
            "rounds",
        ] {
            manager.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        if manager.get_database_backend() == DbBackend::Postgres {
            manager
                .get_connection()
                .execute_unprepared("DROP FUNCTION IF EXISTS audit_log_append_only();")
                .await?;
        }
        Ok(())
    }
}
