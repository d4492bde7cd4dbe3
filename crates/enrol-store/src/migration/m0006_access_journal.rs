//! The registry access log written before each request (issue 14): a row is
//! committed with the outcome `unknown` before the request is sent, and
//! settled once, with the outcome, status, send time and latency, in the
//! transaction that stores the result the read served. The log stays
//! append-only otherwise: the database refuses deletes, any change to a
//! settled row, and any change to a row's other columns.

use sea_orm::{ConnectionTrait, DbBackend};
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The columns a settlement may not change (it sets `outcome`, `status`,
/// `at`, the time the request was sent, and `latency_us`).
const FIXED: [&str; 10] = [
    "id",
    "round_id",
    "application_id",
    "actor",
    "registry",
    "path",
    "person_id",
    "consent_id",
    "purpose",
    "attempt",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        let fixed = &FIXED;
        match db.get_database_backend() {
            DbBackend::Sqlite => {
                db.execute_unprepared("DROP TRIGGER registry_accesses_no_update")
                    .await?;
                let changed = fixed
                    .iter()
                    .map(|c| format!("NEW.{c} IS NOT OLD.{c}"))
                    .collect::<Vec<_>>()
                    .join(" OR ");
                db.execute_unprepared(&format!(
                    "CREATE TRIGGER registry_accesses_settle_once BEFORE UPDATE ON registry_accesses \
                     WHEN OLD.outcome <> 'unknown' OR NEW.outcome = 'unknown' OR {changed} \
                     BEGIN SELECT RAISE(ABORT, 'registry_accesses is append-only: only an unknown outcome is settled, once'); END;"
                ))
                .await?;
            }
            DbBackend::Postgres => {
                let old = fixed.iter().map(|c| format!("OLD.{c}")).collect::<Vec<_>>().join(", ");
                let new = fixed.iter().map(|c| format!("NEW.{c}")).collect::<Vec<_>>().join(", ");
                db.execute_unprepared(&format!(
                    "CREATE FUNCTION registry_accesses_settle_once() RETURNS trigger LANGUAGE plpgsql AS $$ \
                     BEGIN \
                       IF TG_OP = 'UPDATE' AND OLD.outcome = 'unknown' AND NEW.outcome <> 'unknown' \
                          AND ROW({new}) IS NOT DISTINCT FROM ROW({old}) THEN \
                         RETURN NEW; \
                       END IF; \
                       RAISE EXCEPTION 'registry_accesses is append-only: only an unknown outcome is settled, once'; \
                     END; $$;"
                ))
                .await?;
                db.execute_unprepared("DROP TRIGGER registry_accesses_no_change ON registry_accesses")
                    .await?;
                db.execute_unprepared(
                    "CREATE TRIGGER registry_accesses_settle_once BEFORE UPDATE OR DELETE ON registry_accesses \
                     FOR EACH ROW EXECUTE FUNCTION registry_accesses_settle_once();",
                )
                .await?;
            }
            other => return Err(DbErr::Migration(format!("unsupported backend {other:?}"))),
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        match db.get_database_backend() {
            DbBackend::Sqlite => {
                db.execute_unprepared("DROP TRIGGER registry_accesses_settle_once")
                    .await?;
                db.execute_unprepared(
                    "CREATE TRIGGER registry_accesses_no_update BEFORE UPDATE ON registry_accesses \
                     BEGIN SELECT RAISE(ABORT, 'registry_accesses is append-only'); END;",
                )
                .await?;
            }
            DbBackend::Postgres => {
                db.execute_unprepared("DROP TRIGGER registry_accesses_settle_once ON registry_accesses")
                    .await?;
                db.execute_unprepared("DROP FUNCTION registry_accesses_settle_once()")
                    .await?;
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
}
