//! Rate limits of the app endpoints (tower_governor, a keyed GCRA): one per
//! upstream app, one per citizen that app vouches for. A refusal is a `429`
//! problem with `Retry-After`. Both run after authentication, so an unknown
//! caller is refused before it can spend anyone's quota.

use std::sync::{Arc, Weak};
use std::time::Duration;

use axum::body::Body;
use axum::http::{HeaderValue, Request, Response, header};
use axum::response::IntoResponse;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use tower_governor::GovernorError;
use tower_governor::GovernorLayer;
use tower_governor::governor::GovernorConfigBuilder;
use tower_governor::key_extractor::KeyExtractor;

use crate::auth::Citizen;
use crate::problem::ApiError;

/// One limit: a sustained rate and a burst (GCRA: the bucket holds `burst`
/// requests and refills one every `60 s / per_minute`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateLimit {
    /// Requests per minute, sustained.
    pub per_minute: u32,
    /// Requests allowed at once after a quiet spell.
    pub burst: u32,
}

impl RateLimit {
    fn period(self) -> Duration {
        Duration::from_nanos(60_000_000_000 / u64::from(self.per_minute.max(1)))
    }
}

/// The limits of the app endpoints; `None` switches one off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimits {
    /// Per upstream app (its key): what one app may ask of the engine.
    pub app: Option<RateLimit>,
    /// Per citizen (`X-Citizen-Id`) across all apps: what one signed-in
    /// person may ask, however many apps they use.
    pub citizen: Option<RateLimit>,
}

/// Per app: a city's whole app, 100 requests a second sustained.
pub const DEFAULT_APP_LIMIT: RateLimit = RateLimit {
    per_minute: 6_000,
    burst: 1_000,
};
/// Per citizen: a family submits once and then polls; 30 a minute is plenty.
pub const DEFAULT_CITIZEN_LIMIT: RateLimit = RateLimit {
    per_minute: 30,
    burst: 20,
};

impl Default for RateLimits {
    fn default() -> Self {
        RateLimits {
            app: Some(DEFAULT_APP_LIMIT),
            citizen: Some(DEFAULT_CITIZEN_LIMIT),
        }
    }
}

/// Keys requests by the app the credentials named.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ByApp;

/// Keys requests by the citizen, as a SHA-256 digest: the limiter's memory
/// holds no national ID.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ByCitizen;

fn citizen<T>(req: &Request<T>) -> Option<&Citizen> {
    req.extensions().get::<Citizen>()
}

impl KeyExtractor for ByApp {
    type Key = String;

    fn extract<T>(&self, req: &Request<T>) -> Result<String, GovernorError> {
        citizen(req)
            .map(|c| c.app.clone())
            .ok_or(GovernorError::UnableToExtractKey)
    }
}

impl KeyExtractor for ByCitizen {
    type Key = [u8; 32];

    fn extract<T>(&self, req: &Request<T>) -> Result<[u8; 32], GovernorError> {
        citizen(req)
            .map(|c| Sha256::digest(c.id.as_str().as_bytes()).into())
            .ok_or(GovernorError::UnableToExtractKey)
    }
}

/// A refusal as a problem: `429` with `Retry-After` in whole seconds.
fn refusal(error: GovernorError) -> Response<Body> {
    match error {
        GovernorError::TooManyRequests { wait_time, .. } => {
            let wait = wait_time.max(1);
            let mut response = ApiError::TooManyRequests { retry_after: wait }.into_response();
            if let Ok(value) = HeaderValue::from_str(&wait.to_string()) {
                response.headers_mut().insert(header::RETRY_AFTER, value);
            }
            response
        }
        other => ApiError::Internal {
            detail: format!("rate limiter: {other}"),
        }
        .into_response(),
    }
}

/// The layer of one limit, keyed by `K`. Its keys are forgotten once their
/// bucket is full again (a thread sweeps every minute while the layer lives),
/// so memory follows the citizens active in the last minute, not all ever seen.
pub(crate) fn layer<K>(key: K, limit: RateLimit) -> GovernorLayer<K, governor::middleware::NoOpMiddleware, Body>
where
    K: KeyExtractor + Send + Sync + 'static,
    K::Key: Send + Sync + 'static,
{
    let config = GovernorConfigBuilder::default()
        .key_extractor(key)
        .period(limit.period())
        .burst_size(limit.burst.max(1))
        .finish()
        .expect("a period and a burst of at least one");
    let config = Arc::new(config);
    let limiter: Weak<_> = Arc::downgrade(config.limiter());
    std::thread::Builder::new()
        .name("rate-limit-sweeper".to_owned())
        .spawn(move || {
            loop {
                std::thread::sleep(Duration::from_secs(60));
                match limiter.upgrade() {
                    Some(limiter) => {
                        limiter.retain_recent();
                        limiter.shrink_to_fit();
                    }
                    None => break,
                }
            }
        })
        .ok();
    GovernorLayer::new(config).error_handler(refusal)
}
