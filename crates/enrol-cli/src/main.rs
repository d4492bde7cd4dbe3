//! `enrol`: the command officers, operators and newcomers run.
//!
//! The binary's edge: errors become `anyhow` reports here and nowhere else.

use anyhow::Context;
use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "enrol",
    version,
    about = "Zero-paperwork school enrolment engine (全网办 义务教育招生)"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Re-run an allocation from its published instance (formats.md JSON).
    Allocate {
        /// The allocation instance to read.
        #[arg(long)]
        instance: std::path::PathBuf,
        /// Where to write the result; standard output when absent.
        #[arg(long)]
        out: Option<std::path::PathBuf>,
    },
    /// Database maintenance.
    #[command(subcommand)]
    Db(DbCommand),
    /// The simulated government registries.
    #[command(subcommand)]
    Registries(RegistriesCommand),
}

#[derive(Debug, Subcommand)]
enum RegistriesCommand {
    /// Serve all seven registries (registries.md) from a dataset folder.
    Serve {
        /// The dataset folder (registries.md, "Fixture datasets").
        #[arg(long)]
        dataset: std::path::PathBuf,
        #[arg(long, default_value = "127.0.0.1:8700")]
        addr: std::net::SocketAddr,
        /// `flaky`, `none`, or a TOML fault file.
        #[arg(long, default_value = "none")]
        faults: String,
        /// Seed of the fault sequence.
        #[arg(long, default_value_t = 0)]
        seed: u64,
    },
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

fn main() -> std::process::ExitCode {
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("error: cannot start the async runtime: {err}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run()) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            // The whole chain of context, one cause a line; no backtrace for a user error.
            eprintln!("error: {err}");
            for cause in err.chain().skip(1) {
                eprintln!("  caused by: {cause}");
            }
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn,enrol=info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    match cli.command {
        Command::Allocate { instance, out } => {
            let input =
                std::fs::read_to_string(&instance).with_context(|| format!("reading {}", instance.display()))?;
            let result = enrol_allocation::allocate_json(&input)
                .with_context(|| format!("refusing the instance in {}", instance.display()))?;
            match out {
                Some(path) => std::fs::write(&path, result).with_context(|| format!("writing {}", path.display()))?,
                None => print!("{result}"),
            }
        }
        Command::Registries(RegistriesCommand::Serve {
            dataset,
            addr,
            faults,
            seed,
        }) => {
            use enrol_registry_sim::{Dataset, FaultPlan, SimConfig, Simulator};
            let plan = FaultPlan::from_arg(&faults).with_context(|| format!("reading the faults {faults:?}"))?;
            let data = Dataset::load(&dataset).with_context(|| format!("loading the dataset {}", dataset.display()))?;
            eprintln!("dataset: {}", data.summary());
            let sim = Simulator::start(data, SimConfig::default().with_faults(plan).with_seed(seed), addr)
                .await
                .context("starting the registries")?;
            println!(
                "registries serving at {} (API key dev-key); Ctrl-C stops",
                sim.base_url()
            );
            tokio::signal::ctrl_c().await.context("waiting for Ctrl-C")?;
            sim.shutdown().await.context("stopping the registries")?;
        }
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
