//! `enrol`: the command officers, operators and newcomers run.
//!
//! The binary's edge: errors become `anyhow` reports here and nowhere else.

mod demo;
mod officer;

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
    /// Run a whole admission round on the sample city (or a generated one) and write its output.
    Demo(demo::DemoArgs),
    /// Re-run an allocation from its published instance (formats.md JSON).
    Allocate {
        /// The allocation instance to read.
        #[arg(long)]
        instance: std::path::PathBuf,
        /// Where to write the result; standard output when absent.
        #[arg(long)]
        out: Option<std::path::PathBuf>,
    },
    /// Run an admission round over the API (officers).
    Round {
        #[command(flatten)]
        connection: officer::Connection,
        #[command(subcommand)]
        command: officer::RoundCommand,
    },
    /// The review queue and its resolution (officers).
    Review {
        #[command(flatten)]
        connection: officer::Connection,
        #[command(subcommand)]
        command: officer::ReviewCommand,
    },
    /// Download a round's published files: `assignments.csv` or `decisions.jsonl`.
    Export {
        #[command(flatten)]
        connection: officer::Connection,
        round: String,
        file: String,
        /// Where to write; standard output when absent.
        #[arg(long)]
        out: Option<std::path::PathBuf>,
    },
    /// Serve the engine's HTTP API (families' upstream apps and officers).
    Serve(ServeArgs),
    /// Database maintenance.
    #[command(subcommand)]
    Db(DbCommand),
    /// Synthetic cities for tests and benchmarks.
    #[command(subcommand)]
    City(CityCommand),
    /// The simulated government registries.
    #[command(subcommand)]
    Registries(RegistriesCommand),
}

#[derive(Debug, clap::Args)]
struct ServeArgs {
    #[arg(long, default_value = "127.0.0.1:8080")]
    addr: std::net::SocketAddr,
    /// Development mode: accept the published app key `dev-app-key` and officer
    /// token `dev-officer-token`. Never on a reachable address.
    #[arg(long)]
    dev: bool,
    /// `postgres://…` for PostgreSQL; a file path or `sqlite:…` for SQLite.
    #[arg(long, env = "DATABASE_URL", default_value = "enrol.db")]
    database_url: String,
    /// The registries' addresses and keys (TOML, docs/adapters.md). With
    /// `--dev` and none given: the simulator of `enrol registries serve` at
    /// http://127.0.0.1:8700 with key `dev-key`.
    #[arg(long, env = "ENROL_REGISTRIES")]
    registries: Option<std::path::PathBuf>,
}

#[derive(Debug, Subcommand)]
enum CityCommand {
    /// Write the dataset of a generated city (registries.md fixture format).
    Generate {
        #[arg(long)]
        families: usize,
        #[arg(long, default_value_t = 2027)]
        seed: u64,
        #[arg(long)]
        out: std::path::PathBuf,
        /// Share (0 to 1) of each kind of record written self-contradictory
        /// but well-formed (docs/city-generator.md, "Dirty records"). Off by default.
        #[arg(long, default_value_t = 0.0, value_parser = demo::parse_rate)]
        dirty: f64,
    },
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
        Command::Demo(args) => demo::run(args).await?,
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
        Command::City(CityCommand::Generate {
            families,
            seed,
            out,
            dirty,
        }) => {
            let city = enrol_city::generate(&enrol_city::CityConfig::new(families, seed).with_dirt(dirty));
            city.write_to(&out)
                .with_context(|| format!("writing the city to {}", out.display()))?;
            println!("{} families written to {}", city.applications.len(), out.display());
            if !city.dirt.is_empty() {
                println!("{} dirty records among them", city.dirt.len());
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
        Command::Serve(args) => serve(args).await?,
        Command::Round { connection, command } => officer::round(connection, command).await?,
        Command::Review { connection, command } => officer::review(connection, command).await?,
        Command::Export {
            connection,
            round,
            file,
            out,
        } => officer::export(connection, round, file, out).await?,
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

async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let config = if args.dev {
        eprintln!("\n!!! {} !!!\n", enrol_api::DEV_BANNER);
        enrol_api::ApiConfig::dev()
    } else {
        // Refuses to start without app keys and officer tokens.
        enrol_api::ApiConfig::from_env().context("reading the API keys and officer tokens")?
    };
    let registries = match &args.registries {
        Some(path) => {
            let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
            toml::from_str::<enrol_evidence::RegistriesConfig>(&text)
                .with_context(|| format!("reading the registries configuration {}", path.display()))?
        }
        None if args.dev => enrol_evidence::RegistriesConfig::uniform(enrol_evidence::RegistryConfig::new(
            "http://127.0.0.1:8700",
            "dev-key",
        )),
        None => anyhow::bail!("say where the registries are with --registries FILE (or ENROL_REGISTRIES)"),
    };
    let evidence = enrol_orchestrator::RegistryEvidence::connect(&registries, enrol_evidence::GatherOptions::default())
        .context("configuring the registry clients")?;
    let store = enrol_store::Store::open(&args.database_url)
        .await
        .with_context(|| format!("opening the database {}", args.database_url))?;
    let router = enrol_api::router(
        enrol_orchestrator::Orchestrator::new(store.clone()),
        std::sync::Arc::new(evidence),
        config,
    );
    let listener = tokio::net::TcpListener::bind(args.addr)
        .await
        .with_context(|| format!("binding {}", args.addr))?;
    println!("enrol API listening on http://{}", listener.local_addr()?);
    enrol_api::serve(listener, router, enrol_api::shutdown_signal())
        .await
        .context("serving the API")?;
    store.close().await.context("closing the database")?;
    Ok(())
}
