//! `enrol`: the command officers, operators and newcomers run.
//!
//! The binary's edge: errors become `anyhow` reports here and nowhere else.

mod config;
mod db;
mod demo;
mod logging;
mod officer;
mod phases;

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
    /// Log lines as `json` (one object a line) or `text`. `enrol serve`
    /// defaults to text on a terminal and JSON otherwise; other commands to text.
    #[arg(long, global = true, env = "ENROL_LOG_FORMAT", value_enum)]
    log_format: Option<logging::LogFormat>,
    /// Which log lines to keep: an `EnvFilter` directive such as `info` or
    /// `warn,enrol=debug` (default `warn,enrol=info`). `RUST_LOG` wins.
    #[arg(long, global = true, env = "ENROL_LOG")]
    log_level: Option<String>,
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
    /// Download an allocated round's output, report.html, assignments.xlsx and (once published) the 公示 notice.csv.
    Report {
        #[command(flatten)]
        connection: officer::Connection,
        round: String,
        /// The folder to write into (created if missing).
        #[arg(long)]
        out: std::path::PathBuf,
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

/// Every setting may come from the `--config` file (docs/configuration.md);
/// a variable beats the file, a flag beats both.
#[derive(Debug, clap::Args)]
struct ServeArgs {
    /// The configuration file (TOML, docs/configuration.md; `deploy/enrol.toml` is an example).
    #[arg(long, env = "ENROL_CONFIG")]
    config: Option<std::path::PathBuf>,
    /// The API's address (default 127.0.0.1:8080).
    #[arg(long, env = "ENROL_ADDR")]
    addr: Option<std::net::SocketAddr>,
    /// A second address serving `/healthz`, `/readyz` and `/metrics` without
    /// credentials, for the operators' network only.
    #[arg(long, env = "ENROL_ADMIN_ADDR")]
    admin_addr: Option<std::net::SocketAddr>,
    /// Development mode: accept the published app key `dev-app-key` and officer
    /// token `dev-officer-token`. Never on a reachable address.
    #[arg(long)]
    dev: bool,
    /// `postgres://…` for PostgreSQL; a file path or `sqlite:…` for SQLite
    /// (default `enrol.db`).
    #[arg(long, env = "DATABASE_URL")]
    database_url: Option<String>,
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
    /// Write a consistent copy of the database to FILE, while the server runs
    /// (SQLite: `VACUUM INTO`; PostgreSQL: `pg_dump --format=custom`).
    Backup {
        #[arg(long, env = "DATABASE_URL", default_value = "enrol.db")]
        database_url: String,
        /// The backup file to write; refused if it exists.
        #[arg(long)]
        out: std::path::PathBuf,
    },
    /// Restore a backup into an empty database (stop `enrol serve` first)
    /// (SQLite: copies the file into place; PostgreSQL: `pg_restore`).
    Restore {
        #[arg(long, env = "DATABASE_URL", default_value = "enrol.db")]
        database_url: String,
        /// A file written by `enrol db backup`.
        file: std::path::PathBuf,
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
    let cli = Cli::parse();
    if let Command::Serve(args) = cli.command {
        // The file may say how to log: read it first.
        return serve(args, cli.log_format, cli.log_level).await;
    }
    logging::init(
        cli.log_format.unwrap_or(logging::LogFormat::Text),
        cli.log_level.as_deref().unwrap_or(config::DEFAULT_LOG_LEVEL),
    )?;
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
        Command::Serve(_) => unreachable!("served above"),
        Command::Round { connection, command } => officer::round(connection, command).await?,
        Command::Review { connection, command } => officer::review(connection, command).await?,
        Command::Export {
            connection,
            round,
            file,
            out,
        } => officer::export(connection, round, file, out).await?,
        Command::Report { connection, round, out } => officer::report(connection, round, out).await?,
        Command::Db(DbCommand::Migrate { database_url }) => {
            let store = enrol_store::Store::open(&database_url)
                .await
                .with_context(|| format!("migrating {}", enrol_store::redact_url(&database_url)))?;
            store.close().await?;
            println!("database is up to date");
        }
        Command::Db(DbCommand::Backup { database_url, out }) => {
            db::backup(&database_url, &out).await?;
            println!("backup written to {}", out.display());
        }
        Command::Db(DbCommand::Restore { database_url, file }) => {
            db::restore(&file, &database_url).await?;
            println!("{} restored", file.display());
        }
    }
    Ok(())
}

async fn serve(
    args: ServeArgs,
    log_format: Option<logging::LogFormat>,
    log_level: Option<String>,
) -> anyhow::Result<()> {
    let settings = match &args.config {
        Some(path) => config::ServeFile::load(path)?.resolve(path)?,
        None => config::ServeFile::default().resolve(std::path::Path::new("(no file)"))?,
    };
    logging::init(
        log_format
            .or(settings.log_format)
            .unwrap_or_else(logging::LogFormat::for_service),
        log_level.as_deref().unwrap_or(&settings.log_level),
    )?;
    let addr = args.addr.unwrap_or(settings.addr);
    let admin_addr = args.admin_addr.or(settings.admin_addr);
    let database_url = args.database_url.clone().unwrap_or(settings.database_url);

    let config = if args.dev {
        eprintln!("\n!!! {} !!!\n", enrol_api::DEV_BANNER);
        let mut dev = enrol_api::ApiConfig::dev();
        (dev.body_limit, dev.officer_body_limit, dev.verify) = (
            settings.api.body_limit,
            settings.api.officer_body_limit,
            settings.api.verify,
        );
        dev
    } else {
        // Keys and tokens from the file and the environment add up; refuses
        // to start without at least one of each.
        let mut config = settings.api;
        config
            .merge_lookup(|name| std::env::var(name).ok())
            .context("reading the API keys and officer tokens")?;
        config.validate().context("reading the API keys and officer tokens")?;
        config
    };
    let registries = match (&args.registries, settings.registries) {
        (Some(path), _) => {
            let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
            // The error names the line, never quotes it: it may hold an API key.
            enrol_evidence::RegistriesConfig::from_toml_str(&text)
                .with_context(|| format!("reading the registries configuration {}", path.display()))?
        }
        (None, Some(registries)) => registries,
        (None, None) if args.dev => enrol_evidence::RegistriesConfig::uniform(enrol_evidence::RegistryConfig::new(
            "http://127.0.0.1:8700",
            "dev-key",
        )),
        (None, None) => anyhow::bail!(
            "say where the registries are: [registries.*] in --config FILE, or --registries FILE (or ENROL_REGISTRIES)"
        ),
    };
    let evidence = enrol_orchestrator::RegistryEvidence::connect(&registries, enrol_evidence::GatherOptions::default())
        .context("configuring the registry clients")?;
    let store = enrol_store::Store::open(&database_url)
        .await
        .with_context(|| format!("opening the database {}", enrol_store::redact_url(&database_url)))?;
    let engine = enrol_api::Engine::new(
        enrol_orchestrator::Orchestrator::new(store.clone()),
        std::sync::Arc::new(evidence),
        config,
    );
    let mut routers = engine.routers();
    // The officers' console under /console/, over the same engine: its
    // actions reach the orchestrator in process, not over HTTP; its
    // requests are logged and counted like the API's, under the officer.
    routers.api = routers.api.merge(enrol_api::observed(enrol_console::router(
        engine.clone(),
        settings.console.clone(),
    )));
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("binding {addr}"))?;
    let local = listener.local_addr()?;
    println!("enrol API listening on http://{local}");
    println!("officers' console on http://{local}/console/");
    tracing::info!(addr = %local, "serving the API");
    let admin = match admin_addr {
        Some(admin_addr) => {
            let admin_listener = tokio::net::TcpListener::bind(admin_addr)
                .await
                .with_context(|| format!("binding the admin address {admin_addr}"))?;
            let admin_local = admin_listener.local_addr()?;
            println!("admin endpoints (/healthz, /readyz, /metrics) on http://{admin_local}");
            tracing::info!(addr = %admin_local, "serving the admin endpoints");
            Some(tokio::spawn(enrol_api::serve(
                admin_listener,
                routers.admin,
                enrol_api::shutdown_signal(),
            )))
        }
        None => None,
    };
    enrol_api::serve(listener, routers.api, enrol_api::shutdown_signal())
        .await
        .context("serving the API")?;
    if let Some(admin) = admin {
        admin
            .await
            .context("the admin server stopped abnormally")?
            .context("serving the admin endpoints")?;
    }
    store.close().await.context("closing the database")?;
    tracing::info!("stopped");
    Ok(())
}
