//! How the engine reaches each registry: address, key, and the limits it keeps.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use enrol_domain::Registry;
use serde::{Deserialize, Serialize};

/// The purpose every read of personal data declares (`X-Purpose`, registries.md).
pub const SCHOOL_ENROLMENT_PURPOSE: &str = "school-enrolment";

/// How the engine talks to one registry. Every tuning field has a default, so a
/// TOML section needs only `base_url` and `api_key`. `Debug` never shows the key.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegistryConfig {
    /// Scheme, host and port (and an optional path prefix) under which the
    /// registry serves `/{registry}/v1/...`, e.g. `https://hukou.gov.example`
    /// or `http://127.0.0.1:8700`. `https` is verified against the system's
    /// certificate authorities and the registries file's `ca_bundle` (rustls).
    pub base_url: String,
    /// The engine's key for this registry (`X-Api-Key`).
    pub api_key: String,
    /// Longest wait for one attempt's full answer, milliseconds.
    #[serde(default = "defaults::attempt_timeout_ms")]
    pub attempt_timeout_ms: u64,
    /// Longest a call may take over all its attempts and back-off, from its
    /// first attempt on (time queued for the concurrency limit before that
    /// does not count), milliseconds.
    #[serde(default = "defaults::deadline_ms")]
    pub deadline_ms: u64,
    /// Retries after the first attempt, for transient failures only.
    #[serde(default = "defaults::max_retries")]
    pub max_retries: u32,
    /// First back-off delay, milliseconds; it doubles with full jitter.
    #[serde(default = "defaults::backoff_min_ms")]
    pub backoff_min_ms: u64,
    /// Largest back-off delay, milliseconds (a longer `Retry-After` wins).
    #[serde(default = "defaults::backoff_max_ms")]
    pub backoff_max_ms: u64,
    /// Requests in flight to this registry at most.
    #[serde(default = "defaults::concurrency")]
    pub concurrency: usize,
    /// Consecutive failed attempts (timeout, connection error, 5xx) that open the breaker.
    #[serde(default = "defaults::breaker_failures")]
    pub breaker_failures: u32,
    /// How long the breaker first stays open, milliseconds; it grows with
    /// jitter while probes keep failing.
    #[serde(default = "defaults::breaker_open_ms")]
    pub breaker_open_ms: u64,
    /// Longest the breaker stays open, milliseconds.
    #[serde(default = "defaults::breaker_open_max_ms")]
    pub breaker_open_max_ms: u64,
    /// Times an unusable `200` answer (a body that does not parse into the
    /// registry's format) is asked for again within the call, in case a cut
    /// connection truncated it, before the read is given up as unusable.
    #[serde(default = "defaults::unusable_retries")]
    pub unusable_retries: u32,
}

impl std::fmt::Debug for RegistryConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RegistryConfig")
            .field("base_url", &self.base_url)
            .field("api_key", &"<redacted>")
            .field("attempt_timeout_ms", &self.attempt_timeout_ms)
            .field("deadline_ms", &self.deadline_ms)
            .field("max_retries", &self.max_retries)
            .field("backoff_min_ms", &self.backoff_min_ms)
            .field("backoff_max_ms", &self.backoff_max_ms)
            .field("concurrency", &self.concurrency)
            .field("breaker_failures", &self.breaker_failures)
            .field("breaker_open_ms", &self.breaker_open_ms)
            .field("breaker_open_max_ms", &self.breaker_open_max_ms)
            .field("unusable_retries", &self.unusable_retries)
            .finish()
    }
}

mod defaults {
    pub fn attempt_timeout_ms() -> u64 {
        2_000
    }
    pub fn deadline_ms() -> u64 {
        20_000
    }
    pub fn max_retries() -> u32 {
        8
    }
    pub fn backoff_min_ms() -> u64 {
        50
    }
    pub fn backoff_max_ms() -> u64 {
        2_000
    }
    pub fn concurrency() -> usize {
        16
    }
    pub fn breaker_failures() -> u32 {
        10
    }
    pub fn breaker_open_ms() -> u64 {
        1_000
    }
    pub fn breaker_open_max_ms() -> u64 {
        30_000
    }
    pub fn unusable_retries() -> u32 {
        2
    }
}

impl RegistryConfig {
    /// A registry at `base_url` with key `api_key` and default limits.
    pub fn new(base_url: impl Into<String>, api_key: impl Into<String>) -> Self {
        RegistryConfig {
            base_url: base_url.into(),
            api_key: api_key.into(),
            attempt_timeout_ms: defaults::attempt_timeout_ms(),
            deadline_ms: defaults::deadline_ms(),
            max_retries: defaults::max_retries(),
            backoff_min_ms: defaults::backoff_min_ms(),
            backoff_max_ms: defaults::backoff_max_ms(),
            concurrency: defaults::concurrency(),
            breaker_failures: defaults::breaker_failures(),
            breaker_open_ms: defaults::breaker_open_ms(),
            breaker_open_max_ms: defaults::breaker_open_max_ms(),
            unusable_retries: defaults::unusable_retries(),
        }
    }

    pub fn attempt_timeout(&self) -> Duration {
        Duration::from_millis(self.attempt_timeout_ms)
    }

    pub fn deadline(&self) -> Duration {
        Duration::from_millis(self.deadline_ms)
    }

    pub(crate) fn validate(&self, registry: Registry) -> Result<reqwest::Url, ConfigError> {
        let invalid = |field: &'static str, reason: String| ConfigError::Invalid {
            registry,
            field,
            reason,
        };
        let url = reqwest::Url::parse(&self.base_url)
            .map_err(|e| invalid("base_url", format!("{:?} is not a URL: {e}", self.base_url)))?;
        if url.scheme() != "http" && url.scheme() != "https" {
            return Err(invalid(
                "base_url",
                format!("scheme {:?} is not supported (http or https)", url.scheme()),
            ));
        }
        if url.cannot_be_a_base() || url.query().is_some() || url.fragment().is_some() {
            return Err(invalid(
                "base_url",
                format!("{:?} cannot prefix registry paths", self.base_url),
            ));
        }
        if self.api_key.is_empty() || reqwest::header::HeaderValue::from_str(&self.api_key).is_err() {
            return Err(invalid("api_key", "must be a non-empty header value".to_owned()));
        }
        for (field, value) in [
            ("attempt_timeout_ms", self.attempt_timeout_ms),
            ("deadline_ms", self.deadline_ms),
            ("backoff_min_ms", self.backoff_min_ms),
            ("breaker_open_ms", self.breaker_open_ms),
        ] {
            if value == 0 {
                return Err(invalid(field, "must be at least 1".to_owned()));
            }
        }
        if self.backoff_max_ms < self.backoff_min_ms {
            return Err(invalid("backoff_max_ms", "must be at least backoff_min_ms".to_owned()));
        }
        if self.breaker_open_max_ms < self.breaker_open_ms {
            return Err(invalid(
                "breaker_open_max_ms",
                "must be at least breaker_open_ms".to_owned(),
            ));
        }
        if self.concurrency == 0 || self.concurrency > tokio::sync::Semaphore::MAX_PERMITS {
            return Err(invalid(
                "concurrency",
                format!("must be 1 to {}", tokio::sync::Semaphore::MAX_PERMITS),
            ));
        }
        if self.breaker_failures == 0 {
            return Err(invalid("breaker_failures", "must be at least 1".to_owned()));
        }
        Ok(url)
    }
}

/// How the engine reaches all seven registries. In TOML:
///
/// ```toml
/// purpose = "school-enrolment"
/// [registries.hukou]
/// base_url = "http://hukou.example:8080"
/// api_key = "..."
/// concurrency = 32
/// # ... one section per registry: hukou, birth, property, residence,
/// # insurance, zones, history
/// ```
///
/// With `https` registries behind a gateway whose certificate a private CA
/// signed, name that CA's certificates (PEM) at the top:
///
/// ```toml
/// ca_bundle = "/etc/enrol/gov-gateway-ca.pem"
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegistriesConfig {
    /// `X-Purpose` of every call.
    #[serde(default = "default_purpose")]
    pub purpose: String,
    /// A PEM file of certificate authorities trusted for `https` registries
    /// besides the system's (a government gateway's private CA). A relative
    /// path is taken from the working directory.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_bundle: Option<PathBuf>,
    /// One entry per registry; all seven are required.
    pub registries: BTreeMap<Registry, RegistryConfig>,
}

fn default_purpose() -> String {
    SCHOOL_ENROLMENT_PURPOSE.to_owned()
}

impl RegistriesConfig {
    /// The same settings for all seven registries, as when one simulator serves them all.
    pub fn uniform(config: RegistryConfig) -> Self {
        RegistriesConfig {
            purpose: default_purpose(),
            ca_bundle: None,
            registries: Registry::ALL.into_iter().map(|r| (r, config.clone())).collect(),
        }
    }

    /// Changes one registry's settings in place.
    pub fn with(mut self, registry: Registry, change: impl FnOnce(&mut RegistryConfig)) -> Self {
        if let Some(c) = self.registries.get_mut(&registry) {
            change(c);
        }
        self
    }

    /// Reads a registries file (TOML). An error names the line and what is
    /// wrong, never quoting the line: it may hold an API key.
    pub fn from_toml_str(text: &str) -> Result<Self, ConfigError> {
        toml::from_str(text).map_err(|e| ConfigError::Toml {
            line: e
                .span()
                .map_or(0, |span| text[..span.start.min(text.len())].matches('\n').count() + 1),
            message: e.message().to_owned(),
        })
    }

    /// The certificates of `ca_bundle`, if one is named.
    pub(crate) fn ca_certificates(&self) -> Result<Vec<reqwest::Certificate>, ConfigError> {
        let Some(path) = &self.ca_bundle else {
            return Ok(Vec::new());
        };
        let invalid = |reason: String| ConfigError::CaBundle {
            path: path.clone(),
            reason,
        };
        let pem = std::fs::read(path).map_err(|e| invalid(e.to_string()))?;
        let certificates = reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| invalid(e.to_string()))?;
        if certificates.is_empty() {
            return Err(invalid("holds no PEM certificate".to_owned()));
        }
        Ok(certificates)
    }

    /// Changes every registry's settings in place.
    pub fn with_all(mut self, change: impl Fn(&mut RegistryConfig)) -> Self {
        self.registries.values_mut().for_each(change);
        self
    }
}

/// A registry configuration that cannot work.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error("no configuration for the {0} registry")]
    Missing(Registry),
    #[error("configuration of the {registry} registry: `{field}` {reason}")]
    Invalid {
        registry: Registry,
        field: &'static str,
        reason: String,
    },
    #[error("the purpose must be a non-empty header value, found {0:?}")]
    Purpose(String),
    #[error("cannot build the HTTP client: {0}")]
    Http(String),
    #[error("the CA bundle {}: {reason}", path.display())]
    CaBundle { path: PathBuf, reason: String },
    #[error("the registries file, line {line}: {message}")]
    Toml { line: usize, message: String },
}
