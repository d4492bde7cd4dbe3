//! For operators: liveness and readiness probes, and Prometheus metrics.
//!
//! - `GET /healthz`: the process is alive and serving (touches nothing).
//! - `GET /readyz`: pings the database and reports each registry's circuit
//!   breaker; `503` when the database does not answer, with a reason that
//!   names no secret (no URL, no password).
//! - `GET /metrics`: the Prometheus text format, for an officer token of any
//!   role (a viewer's suffices), or unauthenticated on `--admin-addr`.
//!
//! Metrics go through the `metrics` facade into one process-wide Prometheus
//! recorder, installed by [`metrics_handle`]; gauges that describe stored
//! state (applications by round and state, rounds, the pool) are read at
//! scrape time, so they are right after a restart too.

use std::collections::BTreeMap;
use std::sync::{OnceLock, PoisonError};
use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use enrol_store::sea_orm::{ConnectionTrait, DbBackend, Statement};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use serde::Serialize;

use crate::model::{Health, JobState};
use crate::state::AppState;

/// How long readiness waits for the database's answer to a ping.
pub const DB_PING_TIMEOUT: Duration = Duration::from_secs(2);

/// Histogram buckets of every `*_seconds` metric: 1 ms to 30 s.
const LATENCY_BUCKETS: [f64; 14] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

/// How often histogram samples are folded into buckets between scrapes.
const METRICS_UPKEEP: Duration = Duration::from_secs(5);

/// Application lifecycle states (formats.md), so that every gauge exists, at 0 too.
const APPLICATION_STATES: [&str; 9] = [
    "submitted",
    "pending",
    "decided",
    "placed",
    "unplaced",
    "withdrawn",
    "excluded",
    "accepted",
    "rejected",
];
const ROUND_STATES: [&str; 5] = ["open", "closed", "verified", "allocated", "published"];

/// The process-wide Prometheus recorder, installed on first use. `None` if
/// another recorder was installed first (then `/metrics` answers 503).
pub fn metrics_handle() -> Option<&'static PrometheusHandle> {
    static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let builder = PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Suffix("_seconds".to_owned()), &LATENCY_BUCKETS)
                .ok()?;
            match builder.install_recorder() {
                Ok(handle) => {
                    // Histogram samples are kept until folded into their
                    // buckets, which a scrape does, or this upkeep: without
                    // it a process nobody scrapes (the demo) keeps every
                    // registry call's latency (issue 20).
                    let upkeep = handle.clone();
                    let spawned = std::thread::Builder::new()
                        .name("metrics-upkeep".to_owned())
                        .spawn(move || {
                            loop {
                                std::thread::sleep(METRICS_UPKEEP);
                                upkeep.run_upkeep();
                            }
                        });
                    if let Err(err) = spawned {
                        tracing::warn!(error = %err, "metrics upkeep not started: histograms are folded at scrape time only");
                    }
                    Some(handle)
                }
                Err(err) => {
                    tracing::warn!(error = %err, "metrics are off: another metrics recorder is installed");
                    None
                }
            }
        })
        .as_ref()
}

/// The process is alive.
pub(crate) async fn healthz() -> Json<Health> {
    Json(Health {
        status: "ok".to_owned(),
    })
}

/// The readiness answer.
#[derive(Debug, Serialize)]
pub struct Readiness {
    /// `ready` or `not_ready`.
    pub status: &'static str,
    pub database: DatabaseCheck,
    /// Each configured registry's circuit breaker: `closed`, `half_open` or
    /// `open`. An open breaker does not make the server unready: verification
    /// rides through it, leaving applications pending.
    pub registries: BTreeMap<&'static str, &'static str>,
}

/// The database's part of readiness.
#[derive(Debug, Serialize)]
pub struct DatabaseCheck {
    /// `up` or `down`.
    pub status: &'static str,
    /// Why it is down, naming no URL or secret.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// Pings the database; `Err` says why not, secret-free.
async fn ping(state: &AppState) -> Result<(), String> {
    let conn = state.orchestrator.store().connection();
    match tokio::time::timeout(DB_PING_TIMEOUT, conn.ping()).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(err)) => {
            let text = err.to_string();
            // The full error for the operator's log; the answer says only what kind.
            tracing::warn!(error = %redact_urls(&text), "readiness: the database ping failed");
            let lower = text.to_ascii_lowercase();
            let kind = if lower.contains("refused") {
                "the connection was refused"
            } else if lower.contains("timed out") || lower.contains("timeout") {
                "no connection could be made in time"
            } else if lower.contains("closed") {
                "the connection was closed"
            } else {
                "the ping failed"
            };
            Err(format!("database unreachable: {kind}"))
        }
        Err(_) => Err(format!(
            "database unreachable: no answer to a ping within {} s",
            DB_PING_TIMEOUT.as_secs()
        )),
    }
}

/// Removes the credentials part of any `scheme://user:password@` in `text`.
fn redact_urls(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find("://") {
        let (head, tail) = rest.split_at(i + 3);
        out.push_str(head);
        let end = tail.find(|c: char| c.is_whitespace() || c == '/').unwrap_or(tail.len());
        match tail[..end].rfind('@') {
            Some(at) => {
                out.push_str("***");
                rest = &tail[at..];
            }
            None => rest = tail,
        }
    }
    out.push_str(rest);
    out
}

/// Ready when the database answers; 503 with the reason when it does not.
pub(crate) async fn readyz(State(state): State<AppState>) -> Response {
    let database = match ping(&state).await {
        Ok(()) => DatabaseCheck {
            status: "up",
            reason: None,
        },
        Err(reason) => DatabaseCheck {
            status: "down",
            reason: Some(reason),
        },
    };
    let ready = database.status == "up";
    let registries = enrol_registry_client::breaker_states()
        .into_iter()
        .map(|(registry, breaker)| (registry.citation_name(), breaker.as_str()))
        .collect();
    let body = Readiness {
        status: if ready { "ready" } else { "not_ready" },
        database,
        registries,
    };
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, [(header::CACHE_CONTROL, "no-store")], Json(body)).into_response()
}

/// The Prometheus text exposition of every metric.
pub(crate) async fn metrics(State(state): State<AppState>) -> Response {
    let Some(handle) = metrics_handle() else {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            "metrics are not recorded in this process\n",
        )
            .into_response();
    };
    if let Err(err) = refresh_stored_gauges(&state).await {
        // The database may be down: say so in a metric, and serve the rest.
        tracing::warn!(error = %redact_urls(&err.to_string()), "metrics: cannot read the stored gauges");
        metrics::gauge!("enrol_db_up").set(0.0);
    } else {
        metrics::gauge!("enrol_db_up").set(1.0);
    }
    refresh_verification_gauges(&state);
    refresh_pool_gauges(&state);
    handle.run_upkeep();
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")],
        handle.render(),
    )
        .into_response()
}

/// Applications by round and state, and each round's state, as stored.
async fn refresh_stored_gauges(state: &AppState) -> Result<(), enrol_store::sea_orm::DbErr> {
    let conn = state.orchestrator.store().connection();
    let backend = conn.get_database_backend();
    let rounds = conn
        .query_all_raw(Statement::from_string(backend, "SELECT id, state FROM rounds"))
        .await?;
    let counts = conn
        .query_all_raw(Statement::from_string(
            backend,
            "SELECT round_id, state, COUNT(*) AS n FROM applications GROUP BY round_id, state",
        ))
        .await?;
    let mut by_round: BTreeMap<String, BTreeMap<String, i64>> = BTreeMap::new();
    for row in &rounds {
        let id: String = row.try_get("", "id")?;
        let current: String = row.try_get("", "state")?;
        for s in ROUND_STATES {
            metrics::gauge!("enrol_round_state", "round" => id.clone(), "state" => s).set(if s == current {
                1.0
            } else {
                0.0
            });
        }
        by_round.entry(id).or_default();
    }
    for row in &counts {
        let round: String = row.try_get("", "round_id")?;
        let app_state: String = row.try_get("", "state")?;
        let n: i64 = row.try_get("", "n")?;
        by_round.entry(round).or_default().insert(app_state, n);
    }
    for (round, states) in by_round {
        for s in APPLICATION_STATES {
            let n = states.get(s).copied().unwrap_or(0);
            #[allow(clippy::cast_precision_loss)]
            metrics::gauge!("enrol_applications", "round" => round.clone(), "state" => s).set(n as f64);
        }
    }
    Ok(())
}

/// The verification runs this server started: progress of the latest per round.
fn refresh_verification_gauges(state: &AppState) {
    let runs = state.runs.lock().unwrap_or_else(PoisonError::into_inner).clone();
    for (round, run) in runs {
        let running = run.state == JobState::Running;
        metrics::gauge!("enrol_verification_running", "round" => round.clone()).set(if running { 1.0 } else { 0.0 });
        if let Some(p) = run.progress {
            #[allow(clippy::cast_precision_loss)]
            {
                metrics::gauge!("enrol_verification_pass", "round" => round.clone()).set(p.pass as f64);
                metrics::gauge!("enrol_verification_pass_done", "round" => round.clone()).set(p.done as f64);
                metrics::gauge!("enrol_verification_pass_total", "round" => round.clone()).set(p.total as f64);
                metrics::gauge!("enrol_verification_pass_pending", "round" => round).set(p.pending as f64);
            }
        }
    }
}

/// The connection pool: open and idle connections, and the most it may open.
fn refresh_pool_gauges(state: &AppState) {
    let conn = state.orchestrator.store().connection();
    let (size, idle, max) = match conn.get_database_backend() {
        DbBackend::Postgres => {
            let pool = conn.get_postgres_connection_pool();
            (pool.size(), pool.num_idle(), pool.options().get_max_connections())
        }
        DbBackend::Sqlite => {
            let pool = conn.get_sqlite_connection_pool();
            (pool.size(), pool.num_idle(), pool.options().get_max_connections())
        }
        _ => return,
    };
    #[allow(clippy::cast_precision_loss)]
    {
        let idle = idle as f64;
        metrics::gauge!("enrol_db_pool_connections", "state" => "idle").set(idle);
        metrics::gauge!("enrol_db_pool_connections", "state" => "in_use").set((f64::from(size) - idle).max(0.0));
        metrics::gauge!("enrol_db_pool_max_connections").set(f64::from(max));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_lose_their_credentials() {
        assert_eq!(
            redact_urls("cannot reach postgres://enrol:s3cret@db:5432/enrol: refused"),
            "cannot reach postgres://***@db:5432/enrol: refused"
        );
        assert_eq!(redact_urls("sqlite://enrol.db?mode=rwc"), "sqlite://enrol.db?mode=rwc");
    }
}
