//! Where the engine's log lines go and how they look: standard error, as
//! text for a person at a terminal or as JSON (one object a line) for a log
//! shipper.

use std::io::IsTerminal;

use serde::Deserialize;

/// `--log-format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// One JSON object a line: `timestamp`, `level`, `target`, `fields`
    /// (with `message`) and the request's `span` (its `request_id`).
    Json,
    /// Human-readable lines.
    Text,
}

impl LogFormat {
    /// What `enrol serve` uses when nothing says: text on a terminal, JSON
    /// otherwise (under systemd or in a container, a log shipper reads it).
    pub fn for_service() -> LogFormat {
        if std::io::stderr().is_terminal() {
            LogFormat::Text
        } else {
            LogFormat::Json
        }
    }
}

/// Third-party crates that write request URLs into their debug and trace
/// lines (reqwest: "response '200 OK' for http://…/persons/<national ID>").
/// A registry's path holds a national ID or an address, so these stay at
/// `info` whatever the filter asks (docs/privacy.md).
const URL_LOGGING_TARGETS: &[&str] = &["reqwest"];

/// Installs the process's subscriber. `filter` is an `EnvFilter` directive
/// (`info`, `warn,enrol=info`, …); `RUST_LOG`, when set, wins.
pub fn init(format: LogFormat, filter: &str) -> anyhow::Result<()> {
    let filter = match std::env::var("RUST_LOG") {
        Ok(env) if !env.trim().is_empty() => env,
        _ => filter.to_owned(),
    };
    let mut filter = tracing_subscriber::EnvFilter::try_new(&filter)
        .map_err(|e| anyhow::anyhow!("the log level {filter:?} is not a valid filter: {e}"))?;
    for target in URL_LOGGING_TARGETS {
        if let Ok(directive) = format!("{target}=info").parse() {
            filter = filter.add_directive(directive);
        }
    }
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let installed = match format {
        LogFormat::Json => builder.json().with_current_span(true).with_span_list(false).try_init(),
        LogFormat::Text => builder.with_ansi(std::io::stderr().is_terminal()).try_init(),
    };
    installed.map_err(|e| anyhow::anyhow!("cannot install the logger: {e}"))
}
