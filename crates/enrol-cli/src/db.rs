//! `enrol db backup` and `enrol db restore`: the database is the round, so a
//! consistent copy of it is the round's backup.
//!
//! - SQLite: `VACUUM INTO` writes a consistent, compact copy through the
//!   ordinary connection while the server keeps running (it reads one
//!   snapshot; writers carry on in the WAL). Restoring copies the file into
//!   place (atomically, by a rename) where no database is yet.
//! - PostgreSQL: `pg_dump --format=custom` (one consistent snapshot, the
//!   server keeps running) and `pg_restore --single-transaction` into an
//!   empty database. The password travels in `PGPASSWORD`, never on a
//!   command line.
//!
//! A restored database is opened once, so an older backup is migrated to
//! the running version's schema.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, bail};
use enrol_store::sea_orm::{ConnectionTrait, Database, DbBackend, Statement};

/// The database URL with its password replaced by `***`, for messages.
pub fn redact(url: &str) -> String {
    match reqwest::Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("***"));
            parsed.to_string()
        }
        _ => url.to_owned(),
    }
}

fn is_postgres(url: &str) -> bool {
    url.starts_with("postgres://") || url.starts_with("postgresql://")
}

/// The file of a SQLite URL (`sqlite://PATH?…`, `sqlite:PATH`) or plain path.
fn sqlite_path(url: &str) -> PathBuf {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .unwrap_or(url);
    PathBuf::from(rest.split('?').next().unwrap_or(rest))
}

/// Writes a consistent copy of the database at `url` to `out`.
pub async fn backup(url: &str, out: &Path) -> anyhow::Result<()> {
    if out.exists() {
        bail!("{} exists: a backup never overwrites a file", out.display());
    }
    if is_postgres(url) {
        return pg_dump(url, out);
    }
    let path = sqlite_path(url);
    if !path.is_file() {
        bail!("there is no SQLite database at {}", path.display());
    }
    let conn = Database::connect(format!("sqlite://{}?mode=rw", path.display()))
        .await
        .with_context(|| format!("opening {}", path.display()))?;
    let target = out.to_str().context("the backup path must be UTF-8")?;
    conn.execute_unprepared(&format!("VACUUM INTO '{}'", target.replace('\'', "''")))
        .await
        .with_context(|| format!("copying {} into {}", path.display(), out.display()))?;
    conn.close().await?;
    check_sqlite(out).await
}

/// Refuses a SQLite file that fails its integrity check or holds no round tables.
async fn check_sqlite(file: &Path) -> anyhow::Result<()> {
    let conn = Database::connect(format!("sqlite://{}?mode=ro", file.display()))
        .await
        .with_context(|| format!("opening {}", file.display()))?;
    let verdict = conn
        .query_one_raw(Statement::from_string(DbBackend::Sqlite, "PRAGMA integrity_check"))
        .await?
        .map(|row| row.try_get_by_index::<String>(0))
        .transpose()?
        .unwrap_or_default();
    let tables = conn
        .query_one_raw(Statement::from_string(
            DbBackend::Sqlite,
            "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'rounds'",
        ))
        .await?
        .map(|row| row.try_get_by_index::<i64>(0))
        .transpose()?
        .unwrap_or(0);
    conn.close().await?;
    if verdict != "ok" {
        bail!("{} fails SQLite's integrity check: {verdict}", file.display());
    }
    if tables == 0 {
        bail!("{} is not an enrol database (it has no rounds table)", file.display());
    }
    Ok(())
}

/// Restores the backup `file` into the database at `url`, which must not
/// exist yet (SQLite) or be empty (PostgreSQL).
pub async fn restore(file: &Path, url: &str) -> anyhow::Result<()> {
    if !file.is_file() {
        bail!("there is no backup at {}", file.display());
    }
    if is_postgres(url) {
        pg_restore(file, url).await?;
    } else {
        check_sqlite(file)
            .await
            .with_context(|| format!("refusing the backup {}", file.display()))?;
        let path = sqlite_path(url);
        for existing in [path.clone(), with_suffix(&path, "-wal")] {
            if existing.exists() {
                bail!(
                    "{} exists: restore into a new path (stop `enrol serve`, move the old database aside, then restore)",
                    existing.display()
                );
            }
        }
        let partial = with_suffix(&path, ".restoring");
        std::fs::copy(file, &partial).with_context(|| format!("copying into {}", partial.display()))?;
        std::fs::rename(&partial, &path).with_context(|| format!("moving into {}", path.display()))?;
    }
    // Brings an older backup up to this version's schema.
    let store = enrol_store::Store::open(url)
        .await
        .with_context(|| format!("opening the restored database {}", redact(url)))?;
    store.close().await?;
    Ok(())
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// The URL without its password, and the password for `PGPASSWORD`.
fn pg_connection(url: &str) -> anyhow::Result<(String, Option<String>)> {
    let mut parsed = reqwest::Url::parse(url).with_context(|| format!("{} is not a URL", redact(url)))?;
    let password = parsed.password().map(str::to_owned);
    let _ = parsed.set_password(None);
    Ok((parsed.to_string(), password))
}

fn run_tool(tool: &str, args: &[&std::ffi::OsStr], password: Option<String>) -> anyhow::Result<()> {
    let mut command = Command::new(tool);
    command.args(args);
    if let Some(password) = password {
        command.env("PGPASSWORD", password);
    }
    let output = command
        .output()
        .with_context(|| format!("running {tool} (is the PostgreSQL client installed?)"))?;
    if !output.status.success() {
        bail!(
            "{tool} failed ({}): {}",
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    Ok(())
}

fn pg_dump(url: &str, out: &Path) -> anyhow::Result<()> {
    let (url, password) = pg_connection(url)?;
    run_tool(
        "pg_dump",
        &[
            "--format=custom".as_ref(),
            "--no-owner".as_ref(),
            "--no-privileges".as_ref(),
            "--file".as_ref(),
            out.as_os_str(),
            "--dbname".as_ref(),
            url.as_ref(),
        ],
        password,
    )
}

async fn pg_restore(file: &Path, url: &str) -> anyhow::Result<()> {
    // Only into an empty database: a restore never mixes two rounds' states.
    let conn = Database::connect(url)
        .await
        .with_context(|| format!("connecting to {}", redact(url)))?;
    let tables = conn
        .query_one_raw(Statement::from_string(
            DbBackend::Postgres,
            "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = current_schema()",
        ))
        .await?
        .map(|row| row.try_get_by_index::<i64>(0))
        .transpose()?
        .unwrap_or(0);
    conn.close().await?;
    if tables > 0 {
        bail!(
            "{} is not empty ({tables} tables): restore into an empty database",
            redact(url)
        );
    }
    let (url, password) = pg_connection(url)?;
    run_tool(
        "pg_restore",
        &[
            "--exit-on-error".as_ref(),
            "--single-transaction".as_ref(),
            "--no-owner".as_ref(),
            "--no-privileges".as_ref(),
            "--dbname".as_ref(),
            url.as_ref(),
            file.as_os_str(),
        ],
        password,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_and_paths() {
        assert_eq!(sqlite_path("sqlite:///tmp/a.db?mode=rwc"), Path::new("/tmp/a.db"));
        assert_eq!(sqlite_path("sqlite:a.db"), Path::new("a.db"));
        assert_eq!(sqlite_path("enrol.db"), Path::new("enrol.db"));
        assert_eq!(redact("postgres://u:pw@h:5432/db"), "postgres://u:***@h:5432/db");
        let (url, password) = pg_connection("postgres://u:pw@h:5432/db").unwrap();
        assert_eq!(
            (url.as_str(), password.as_deref()),
            ("postgres://u@h:5432/db", Some("pw"))
        );
    }
}
