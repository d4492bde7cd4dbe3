//! `enrol`: the command officers, operators and newcomers run.
//!
//! The binary's edge: errors become `anyhow` reports here and nowhere else.

use anyhow::Context;
use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(name = "enrol", version, about = "Zero-paperwork school enrolment engine (全网办 义务教育招生)")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Database maintenance.
    #[command(subcommand)]
    Db(DbCommand),
}

#[derive(Debug, Subcommand)]
enum DbCommand {
    /// Open the database and bring its schema up to date.
    Migrate {
        /// `postgres://…` for PostgreSQL; a file path or `sqlite:…` for SQLite.
        #[arg(long, env = "DATABASE_URL", default_value = "enrol.db")]
        database_url: String,
    },
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn,enrol=info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    match cli.command {
        Command::Db(DbCommand::Migrate { database_url }) => {
            let store = enrol_store::Store::open(&database_url)
                .await
                .with_context(|| format!("migrating {database_url}"))?;
            store.close().await?;
            println!("database is up to date");
        }
    }
    Ok(())
}
