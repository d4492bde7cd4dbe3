//! Durable storage for the enrolment engine: one code path over SQLite (the
//! embedded default: a file, WAL, a busy timeout, write transactions that
//! begin IMMEDIATE) and PostgreSQL (when the URL is `postgres://`).
//!
//! Migrations run on open. Bulk writes are chunked under each backend's
//! bind-parameter limit. This crate knows tables and transactions; it knows
//! nothing of HTTP, registries or policy.

pub mod entities;
mod migration;
pub mod sessions;
pub mod testing;

use std::time::Duration;

use chrono::{DateTime, Utc};
use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{
    ActiveModelTrait, ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DatabaseTransaction, DbBackend,
    DbErr, EntityTrait, QueryFilter, QueryOrder, SqliteTransactionMode, TransactionOptions, TransactionTrait,
};
use sea_orm::{ColumnTrait, Iterable};
use sea_orm_migration::MigratorTrait;

pub use entities::*;
pub use migration::Migrator;
pub use sea_orm;

/// The advisory-lock class that orders a round's audit entries (PostgreSQL).
const AUDIT_ORDER_LOCK: i32 = 2_027_061_502;

/// How long a SQLite writer waits for another's lock before giving up.
const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(30);

/// Bound parameters one statement may carry: SQLite's default maximum is
/// 32,766, PostgreSQL's wire protocol allows 65,535.
fn bind_parameter_limit(backend: DbBackend) -> usize {
    match backend {
        DbBackend::Sqlite => 32_766,
        _ => 65_535,
    }
}

/// A storage failure, with what the store was doing.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot open the database at {url}: {source}")]
    Open { url: String, source: DbErr },
    #[error("cannot migrate the database: {0}")]
    Migrate(DbErr),
    #[error("database error while {context}: {source}")]
    Db { context: &'static str, source: DbErr },
    #[error("stored {what} is corrupt: {detail}")]
    Corrupt { what: String, detail: String },
}

impl StoreError {
    pub fn db(context: &'static str) -> impl FnOnce(DbErr) -> StoreError {
        move |source| StoreError::Db { context, source }
    }

    /// Whether the failure is a violated unique constraint (a conflict, not a fault).
    pub fn is_unique_violation(&self) -> bool {
        match self {
            StoreError::Db { source, .. } => is_unique_violation(source),
            _ => false,
        }
    }
}

/// Whether a database error is a violated unique constraint.
pub fn is_unique_violation(err: &DbErr) -> bool {
    matches!(err.sql_err(), Some(sea_orm::SqlErr::UniqueConstraintViolation(_)))
}

/// The engine's database.
#[derive(Debug, Clone)]
pub struct Store {
    db: DatabaseConnection,
}

/// Connects, riding out SQLite's `SQLITE_BUSY` while another process or pool
/// switches a fresh database to WAL: that switch needs the file to itself and
/// can answer "database is locked" without waiting for the busy timeout.
async fn connect(options: ConnectOptions) -> Result<DatabaseConnection, sea_orm::DbErr> {
    const ATTEMPTS: u32 = 20;
    let mut attempt = 1;
    loop {
        match Database::connect(options.clone()).await {
            Err(error) if attempt < ATTEMPTS && is_sqlite_busy(&error) => {
                tokio::time::sleep(Duration::from_millis(25 * u64::from(attempt))).await;
                attempt += 1;
            }
            result => return result,
        }
    }
}

fn is_sqlite_busy(error: &sea_orm::DbErr) -> bool {
    use sea_orm::{RuntimeErr, sqlx};
    let (sea_orm::DbErr::Conn(RuntimeErr::SqlxError(sqlx_error))
    | sea_orm::DbErr::Exec(RuntimeErr::SqlxError(sqlx_error))) = error
    else {
        return false;
    };
    matches!(&**sqlx_error, sqlx::Error::Database(db) if db.code().as_deref() == Some("5"))
}

impl Store {
    /// Opens (creating if need be) and migrates the database at `url`:
    /// `postgres://…` or `postgresql://…` for PostgreSQL; `sqlite:…` or a
    /// plain file path for SQLite.
    pub async fn open(url: &str) -> Result<Store, StoreError> {
        Self::open_with(url, None).await
    }

    /// Opens with a PostgreSQL schema search path (used to isolate tests).
    pub async fn open_with(url: &str, pg_schema: Option<&str>) -> Result<Store, StoreError> {
        let is_pg = url.starts_with("postgres://") || url.starts_with("postgresql://");
        let full_url = if is_pg || url.starts_with("sqlite:") {
            url.to_owned()
        } else {
            format!("sqlite://{url}?mode=rwc")
        };
        let mut options = ConnectOptions::new(full_url.clone());
        options.sqlx_logging(false);
        if is_pg {
            options.max_connections(16).min_connections(1);
            if let Some(schema) = pg_schema {
                options.set_schema_search_path(schema.to_owned());
            }
        } else {
            // One writer at a time is SQLite's nature; readers run beside it in WAL.
            options.max_connections(8).min_connections(1);
            options.map_sqlx_sqlite_opts(|o| {
                o.journal_mode(SqliteJournalMode::Wal)
                    .synchronous(SqliteSynchronous::Normal)
                    .busy_timeout(SQLITE_BUSY_TIMEOUT)
                    .foreign_keys(true)
                    .create_if_missing(true)
            });
        }
        let db = connect(options).await.map_err(|source| StoreError::Open {
            url: redact_url(url),
            // The driver may quote the whole URL (e.g. one it cannot parse).
            source: scrub_passwords(source, &[url, &full_url]),
        })?;
        let store = Store { db };
        store.migrate().await?;
        Ok(store)
    }

    /// Brings the schema up to date. Two processes opening a fresh database
    /// at once must not both create its tables: the migrations run in one
    /// write transaction (IMMEDIATE on SQLite, under an advisory lock on
    /// PostgreSQL), so the second waits and then finds them done.
    async fn migrate(&self) -> Result<(), StoreError> {
        let tx = self.begin_write().await?;
        if self.backend() == DbBackend::Postgres {
            tx.execute_unprepared("SELECT pg_advisory_xact_lock(2027061501)")
                .await
                .map_err(StoreError::Migrate)?;
        }
        Migrator::up(&tx, None).await.map_err(StoreError::Migrate)?;
        tx.commit().await.map_err(StoreError::Migrate)
    }

    pub fn connection(&self) -> &DatabaseConnection {
        &self.db
    }

    pub fn backend(&self) -> DbBackend {
        self.db.get_database_backend()
    }

    /// Begins a write transaction. On SQLite it begins IMMEDIATE, taking the
    /// write lock at once, so two writers never deadlock upgrading read locks.
    pub async fn begin_write(&self) -> Result<DatabaseTransaction, StoreError> {
        self.db
            .begin_with_options(TransactionOptions {
                sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
                ..Default::default()
            })
            .await
            .map_err(StoreError::db("beginning a write transaction"))
    }

    /// Closes the pool, waiting for connections to finish.
    pub async fn close(self) -> Result<(), StoreError> {
        self.db.close().await.map_err(StoreError::db("closing the database"))
    }
}

/// Inserts many rows in statements that stay under the backend's
/// bind-parameter limit. Runs inside the caller's transaction.
pub async fn insert_chunked<A, C>(conn: &C, rows: Vec<A>) -> Result<(), StoreError>
where
    A: ActiveModelTrait + Send,
    C: ConnectionTrait,
{
    let columns = <A::Entity as EntityTrait>::Column::iter().count().max(1);
    let per_statement = (bind_parameter_limit(conn.get_database_backend()) / columns).max(1);
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let chunk: Vec<A> = rows.by_ref().take(per_statement).collect();
        <A::Entity as EntityTrait>::insert_many(chunk)
            .exec_without_returning(conn)
            .await
            .map_err(StoreError::db("inserting rows"))?;
    }
    Ok(())
}

/// One entry to append to the audit log.
#[derive(Debug, Clone)]
pub struct AuditEntry {
    pub round_id: Option<String>,
    pub actor: String,
    pub action: String,
    pub subject: Option<String>,
    pub reason: Option<String>,
    pub details: serde_json::Value,
}

/// Appends an entry to the audit log (inside the caller's transaction, so the
/// entry commits with the change it records).
///
/// Entries are read in pages by id, so ids must be in commit order: a page
/// read after id 11 must never miss an entry 10 that committed later. On
/// PostgreSQL, where ids come from a sequence and transactions commit in any
/// order, the append first takes a transaction-scoped advisory lock on the
/// round, held until commit: a round's entries get their ids one commit after
/// another. Callers append near the end of their transaction, so the lock is
/// held briefly. SQLite has one writer at a time already.
pub async fn append_audit<C: ConnectionTrait>(
    conn: &C,
    at: DateTime<Utc>,
    entry: AuditEntry,
) -> Result<audit_log::Model, StoreError> {
    use sea_orm::ActiveValue::{NotSet, Set};
    if conn.get_database_backend() == DbBackend::Postgres {
        conn.execute_raw(sea_orm::Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT pg_advisory_xact_lock($1, hashtext($2))",
            [
                AUDIT_ORDER_LOCK.into(),
                entry.round_id.clone().unwrap_or_default().into(),
            ],
        ))
        .await
        .map_err(StoreError::db("ordering the audit log"))?;
    }
    audit_log::ActiveModel {
        id: NotSet,
        round_id: Set(entry.round_id),
        at: Set(at),
        actor: Set(entry.actor),
        action: Set(entry.action),
        subject: Set(entry.subject),
        reason: Set(entry.reason),
        details: Set(entry.details.to_string()),
    }
    .insert(conn)
    .await
    .map_err(StoreError::db("appending to the audit log"))
}

/// The audit log of a round, oldest first.
pub async fn audit_log_of<C: ConnectionTrait>(conn: &C, round_id: &str) -> Result<Vec<audit_log::Model>, StoreError> {
    audit_log::Entity::find()
        .filter(audit_log::Column::RoundId.eq(round_id))
        .order_by_asc(audit_log::Column::Id)
        .all(conn)
        .await
        .map_err(StoreError::db("reading the audit log"))
}

/// The passwords a database URL carries: in its user information and as
/// `password=` (or `sslpassword=`) query parameters.
fn passwords(url: &str) -> Vec<String> {
    let (main, query) = url.split_once('?').unwrap_or((url, ""));
    let mut found = Vec::new();
    if let (Some(scheme_end), Some(at)) = (main.find("://"), main.rfind('@'))
        && at > scheme_end
        && let Some((_, password)) = main[scheme_end + 3..at].split_once(':')
    {
        found.push(password.to_owned());
    }
    for pair in query.split('&') {
        if let Some((key, value)) = pair.split_once('=')
            && (key.eq_ignore_ascii_case("password") || key.eq_ignore_ascii_case("sslpassword"))
        {
            found.push(value.to_owned());
        }
    }
    found.retain(|p| !p.is_empty());
    found
}

/// A driver error with every password of `urls` replaced by `***`.
fn scrub_passwords(err: DbErr, urls: &[&str]) -> DbErr {
    let text = err.to_string();
    let secrets: Vec<String> = urls.iter().flat_map(|u| passwords(u)).collect();
    if secrets.iter().any(|p| text.contains(p.as_str())) {
        let mut scrubbed = text;
        for secret in &secrets {
            scrubbed = scrubbed.replace(secret.as_str(), "***");
        }
        DbErr::Custom(scrubbed)
    } else {
        err
    }
}

/// A database URL fit to print: a password, in the user information
/// (`postgres://u:secret@h/db`) or as a query parameter (`?password=secret`,
/// which PostgreSQL's URLs accept too), becomes `***`.
pub fn redact_url(url: &str) -> String {
    let (main, query) = match url.split_once('?') {
        Some((main, query)) => (main, Some(query)),
        None => (url, None),
    };
    let mut out = match (main.find("://"), main.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let userinfo = &main[scheme_end + 3..at];
            match userinfo.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &main[..scheme_end + 3], &main[at..]),
                None => main.to_owned(),
            }
        }
        _ => main.to_owned(),
    };
    if let Some(query) = query {
        let pairs: Vec<String> = query
            .split('&')
            .map(|pair| match pair.split_once('=') {
                Some((key, _)) if key.eq_ignore_ascii_case("password") || key.eq_ignore_ascii_case("sslpassword") => {
                    format!("{key}=***")
                }
                _ => pair.to_owned(),
            })
            .collect();
        out.push('?');
        out.push_str(&pairs.join("&"));
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn redacts_passwords() {
        assert_eq!(super::redact_url("postgres://u:secret@h/db"), "postgres://u:***@h/db");
        assert_eq!(super::redact_url("postgres://u@h/db"), "postgres://u@h/db");
        assert_eq!(super::redact_url("enrol.db"), "enrol.db");
        assert_eq!(
            super::redact_url("postgres://u:p@ss@h/db?password=x&sslmode=disable"),
            "postgres://u:***@h/db?password=***&sslmode=disable"
        );
        let err = super::scrub_passwords(
            super::DbErr::Custom("cannot parse 'postgres://u:s3cret@h:x/db?password=p2'".to_owned()),
            &["postgres://u:s3cret@h:x/db?password=p2"],
        );
        let text = err.to_string();
        assert!(
            text.ends_with("cannot parse 'postgres://u:***@h:x/db?password=***'"),
            "{text}"
        );
        assert!(!text.contains("s3cret") && !text.contains("p2"), "{text}");
    }
}
