//! Who may call the API: the upstream apps' keys and the officers' tokens,
//! from a TOML file or the environment; and the body-size limits.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use enrol_orchestrator::VerifyOptions;

use crate::ratelimit::{RateLimit, RateLimits};
use serde::{Deserialize, Serialize};

/// The app key `--dev` accepts. Documented, so never secret: never in production.
pub const DEV_APP_KEY: &str = "dev-app-key";
/// The officer token `--dev` accepts, with the round manager's role.
pub const DEV_OFFICER_TOKEN: &str = "dev-officer-token";
/// What `enrol serve --dev` must say, loudly, on start.
pub const DEV_BANNER: &str = "DEVELOPMENT MODE: the API accepts the published app key `dev-app-key` and officer \
token `dev-officer-token` (round manager). Anyone can act as any family or officer. Never expose this server.";

/// Default limit of a family's request body: an application is well under 4 KiB.
pub const DEFAULT_BODY_LIMIT: usize = 64 * 1024;
/// Default limit of an officer's request body: a round carries its policy file.
pub const DEFAULT_OFFICER_BODY_LIMIT: usize = 1024 * 1024;
/// The shortest key or token accepted outside `--dev`.
pub const MIN_SECRET_LEN: usize = 16;

/// An officer's role. Each role may do everything the roles before it may.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Reads rounds, applications, reviews, reports, the audit log and exports.
    Viewer,
    /// Also resolves reviews (人工审核) and excludes applications.
    Reviewer,
    /// Also creates, closes, verifies, allocates and publishes rounds.
    RoundManager,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Reviewer => "reviewer",
            Role::RoundManager => "round_manager",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = ConfigError;
    fn from_str(s: &str) -> Result<Self, ConfigError> {
        match s {
            "viewer" => Ok(Role::Viewer),
            "reviewer" => Ok(Role::Reviewer),
            "round_manager" => Ok(Role::RoundManager),
            other => Err(ConfigError::Role(other.to_owned())),
        }
    }
}

/// What is wrong with the API's configuration.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read the API configuration {}: {source}", path.display())]
    Read { path: PathBuf, source: std::io::Error },
    #[error("the API configuration{} is invalid: {message}", origin.as_deref().map(|o| format!(" {o}")).unwrap_or_default())]
    Invalid { origin: Option<String>, message: String },
    #[error("unknown officer role {0:?}; expected viewer, reviewer or round_manager")]
    Role(String),
    #[error(
        "no upstream app key is configured: set ENROL_APP_KEYS or ENROL_API_CONFIG (docs/api.md), or run with --dev"
    )]
    NoAppKeys,
    #[error(
        "no officer token is configured: set ENROL_OFFICER_TOKENS or ENROL_API_CONFIG (docs/api.md), or run with --dev"
    )]
    NoOfficerTokens,
    #[error("the {what} of {owner:?} is shorter than {MIN_SECRET_LEN} characters or is a published development secret")]
    WeakSecret { what: &'static str, owner: String },
    #[error("the same {what} is configured twice (for {first:?} and {second:?})")]
    DuplicateSecret {
        what: &'static str,
        first: String,
        second: String,
    },
}

/// The API's configuration. Keys and tokens are secrets: `Debug` shows only
/// whose they are.
#[derive(Clone)]
pub struct ApiConfig {
    /// Upstream app key (`X-Api-Key`) → the app's name.
    pub app_keys: BTreeMap<String, String>,
    /// Officer token (`Authorization: Bearer`) → the officer's name and role.
    pub officer_tokens: BTreeMap<String, (String, Role)>,
    /// Largest request body of the app endpoints, in bytes.
    pub body_limit: usize,
    /// Largest request body of the officer endpoints, in bytes.
    pub officer_body_limit: usize,
    /// How verification started through the API gathers evidence.
    pub verify: VerifyOptions,
    /// Built by [`ApiConfig::dev`]: the published keys are accepted.
    pub dev: bool,
    /// Rate limits of the app endpoints (per app, per citizen).
    pub rate_limits: RateLimits,
}

impl fmt::Debug for ApiConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApiConfig")
            .field("apps", &self.app_keys.values().collect::<Vec<_>>())
            .field("officers", &self.officer_tokens.values().collect::<Vec<_>>())
            .field("body_limit", &self.body_limit)
            .field("officer_body_limit", &self.officer_body_limit)
            .field("verify", &self.verify)
            .field("dev", &self.dev)
            .field("rate_limits", &self.rate_limits)
            .finish()
    }
}

/// A TOML error as its message and line number, without the quoted source
/// line toml's `Display` adds: that line may hold a secret.
pub(crate) fn toml_error(text: &str, err: &toml::de::Error) -> String {
    match err.span() {
        Some(span) => {
            let line = text[..span.start.min(text.len())].matches('\n').count() + 1;
            format!("line {line}: {}", err.message())
        }
        None => err.message().to_owned(),
    }
}

/// The TOML file (docs/api.md, "Configuration").
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    body_limit: Option<usize>,
    officer_body_limit: Option<usize>,
    #[serde(default)]
    apps: Vec<FileApp>,
    #[serde(default)]
    officers: Vec<FileOfficer>,
    verify: Option<FileVerify>,
    rate_limits: Option<FileRateLimits>,
}

/// `[rate_limits]`: `app` and `citizen`, each `{ per_minute, burst }` or
/// `"off"`; an absent one keeps its default.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileRateLimits {
    app: Option<FileRateLimit>,
    citizen: Option<FileRateLimit>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum FileRateLimit {
    Limit(RateLimit),
    Off(Off),
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Off {
    Off,
}

impl FileRateLimit {
    fn into_limit(self, which: &str) -> Result<Option<RateLimit>, String> {
        match self {
            FileRateLimit::Off(Off::Off) => Ok(None),
            FileRateLimit::Limit(limit) if limit.per_minute == 0 || limit.burst == 0 => Err(format!(
                "rate_limits.{which}: per_minute and burst must be at least 1 (or write \"off\")"
            )),
            FileRateLimit::Limit(limit) => Ok(Some(limit)),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileApp {
    name: String,
    key: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileOfficer {
    name: String,
    role: Role,
    token: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileVerify {
    concurrency: Option<usize>,
    passes: Option<usize>,
    retry_delay_ms: Option<u64>,
    /// How long a verification claim holds (a killed process's claims are
    /// taken over once it has passed).
    lease_ms: Option<u64>,
}

impl ApiConfig {
    /// No keys, no tokens, default limits: refuses everyone until filled.
    pub fn empty() -> ApiConfig {
        ApiConfig {
            app_keys: BTreeMap::new(),
            officer_tokens: BTreeMap::new(),
            body_limit: DEFAULT_BODY_LIMIT,
            officer_body_limit: DEFAULT_OFFICER_BODY_LIMIT,
            verify: VerifyOptions::default(),
            dev: false,
            rate_limits: RateLimits::default(),
        }
    }

    /// `--dev`: the published app key [`DEV_APP_KEY`] (app `dev-app`) and
    /// officer token [`DEV_OFFICER_TOKEN`] (officer `dev-officer`, round manager).
    pub fn dev() -> ApiConfig {
        let mut config = ApiConfig::empty();
        config.app_keys.insert(DEV_APP_KEY.to_owned(), "dev-app".to_owned());
        config.officer_tokens.insert(
            DEV_OFFICER_TOKEN.to_owned(),
            ("dev-officer".to_owned(), Role::RoundManager),
        );
        config.dev = true;
        // A demo submits a whole city through one app in seconds.
        config.without_rate_limits()
    }

    /// Reads the TOML configuration file at `path` (see [`ApiConfig::from_toml_str`]).
    pub fn load(path: impl AsRef<Path>) -> Result<ApiConfig, ConfigError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        let mut config = ApiConfig::empty();
        config.merge_toml(&text, Some(path.display().to_string()))?;
        Ok(config)
    }

    /// Parses a configuration file:
    ///
    /// ```toml
    /// body_limit = 65536            # optional, bytes
    /// officer_body_limit = 1048576  # optional, bytes
    ///
    /// [[apps]]
    /// name = "gov-app"
    /// key = "a long random key"
    ///
    /// [[officers]]
    /// name = "wang.fang"
    /// role = "round_manager"        # viewer | reviewer | round_manager
    /// token = "another long random token"
    ///
    /// [verify]                      # optional
    /// concurrency = 64
    /// passes = 5
    /// retry_delay_ms = 2000
    /// lease_ms = 120000             # how long a verification claim holds
    /// ```
    pub fn from_toml_str(text: &str) -> Result<ApiConfig, ConfigError> {
        let mut config = ApiConfig::empty();
        config.merge_toml(text, None)?;
        Ok(config)
    }

    fn merge_toml(&mut self, text: &str, origin: Option<String>) -> Result<(), ConfigError> {
        let file: FileConfig = toml::from_str(text).map_err(|e| ConfigError::Invalid {
            origin: origin.clone(),
            // The message and the line, never toml's quote of the line: it may hold a key.
            message: toml_error(text, &e),
        })?;
        if let Some(limits) = file.rate_limits {
            let invalid = |message| ConfigError::Invalid {
                origin: origin.clone(),
                message,
            };
            if let Some(app) = limits.app {
                self.rate_limits.app = app.into_limit("app").map_err(invalid)?;
            }
            if let Some(citizen) = limits.citizen {
                self.rate_limits.citizen = citizen.into_limit("citizen").map_err(invalid)?;
            }
        }
        if let Some(limit) = file.body_limit {
            self.body_limit = limit;
        }
        if let Some(limit) = file.officer_body_limit {
            self.officer_body_limit = limit;
        }
        for app in file.apps {
            self.add_app(app.name, app.key)?;
        }
        for officer in file.officers {
            self.add_officer(officer.name, officer.role, officer.token)?;
        }
        if let Some(verify) = file.verify {
            if let Some(n) = verify.concurrency {
                self.verify.concurrency = n;
            }
            if let Some(n) = verify.passes {
                self.verify.passes = n;
            }
            if let Some(ms) = verify.retry_delay_ms {
                self.verify.retry_delay = Duration::from_millis(ms);
            }
            if let Some(ms) = verify.lease_ms {
                self.verify.lease = Duration::from_millis(ms);
            }
        }
        Ok(())
    }

    /// No rate limits (development mode, benchmarks): a demo or a load test is never paced.
    pub fn without_rate_limits(mut self) -> ApiConfig {
        self.rate_limits = RateLimits {
            app: None,
            citizen: None,
        };
        self
    }

    /// Adds an upstream app's key.
    pub fn add_app(&mut self, name: impl Into<String>, key: impl Into<String>) -> Result<(), ConfigError> {
        let (name, key) = (name.into(), key.into());
        check_secret("app key", &name, &key)?;
        if let Some(first) = self.app_keys.get(&key) {
            return Err(ConfigError::DuplicateSecret {
                what: "app key",
                first: first.clone(),
                second: name,
            });
        }
        self.app_keys.insert(key, name);
        Ok(())
    }

    /// Adds an officer's token.
    pub fn add_officer(
        &mut self,
        name: impl Into<String>,
        role: Role,
        token: impl Into<String>,
    ) -> Result<(), ConfigError> {
        let (name, token) = (name.into(), token.into());
        check_secret("officer token", &name, &token)?;
        if let Some((first, _)) = self.officer_tokens.get(&token) {
            return Err(ConfigError::DuplicateSecret {
                what: "officer token",
                first: first.clone(),
                second: name,
            });
        }
        self.officer_tokens.insert(token, (name, role));
        Ok(())
    }

    /// The configuration `enrol serve` runs with outside `--dev`, from the
    /// process environment (see [`ApiConfig::from_lookup`]).
    pub fn from_env() -> Result<ApiConfig, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// The configuration from variables looked up by name:
    /// - `ENROL_API_CONFIG`: a TOML file ([`ApiConfig::from_toml_str`]), read first;
    /// - `ENROL_APP_KEYS`: `name=key` pairs separated by commas;
    /// - `ENROL_OFFICER_TOKENS`: `name:role=token` entries separated by commas;
    /// - `ENROL_API_BODY_LIMIT`: the app endpoints' body limit in bytes.
    ///
    /// Refuses a configuration without at least one app key and one officer token.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<ApiConfig, ConfigError> {
        let mut config = ApiConfig::empty();
        config.merge_lookup(lookup)?;
        config.validate()?;
        Ok(config)
    }

    /// Adds what the variables of [`ApiConfig::from_lookup`] say to this
    /// configuration (keys and tokens add up; a body limit replaces), without
    /// refusing an incomplete result: `enrol serve --config` merges its file
    /// and the environment this way, then validates.
    pub fn merge_lookup(&mut self, lookup: impl Fn(&str) -> Option<String>) -> Result<(), ConfigError> {
        let get = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());
        let config = self;
        if let Some(path) = get("ENROL_API_CONFIG") {
            let path = path.trim();
            let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
                path: path.into(),
                source,
            })?;
            config.merge_toml(&text, Some(path.to_owned()))?;
        }
        if let Some(list) = get("ENROL_APP_KEYS") {
            for entry in list.split(',').map(str::trim).filter(|e| !e.is_empty()) {
                let (name, key) = entry
                    .split_once('=')
                    .ok_or_else(|| invalid_env("ENROL_APP_KEYS", "name=key"))?;
                config.add_app(name.trim(), key.trim())?;
            }
        }
        if let Some(list) = get("ENROL_OFFICER_TOKENS") {
            for entry in list.split(',').map(str::trim).filter(|e| !e.is_empty()) {
                let shape = || invalid_env("ENROL_OFFICER_TOKENS", "name:role=token");
                let (who, token) = entry.split_once('=').ok_or_else(shape)?;
                let (name, role) = who.split_once(':').ok_or_else(shape)?;
                config.add_officer(name.trim(), role.trim().parse()?, token.trim())?;
            }
        }
        if let Some(limit) = get("ENROL_API_BODY_LIMIT") {
            config.body_limit = limit.trim().parse().map_err(|_| ConfigError::Invalid {
                origin: Some("ENROL_API_BODY_LIMIT".to_owned()),
                message: format!("{limit:?} is not a number of bytes"),
            })?;
        }
        Ok(())
    }

    /// Refuses a configuration nobody could use: no app key or no officer token.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.app_keys.is_empty() {
            return Err(ConfigError::NoAppKeys);
        }
        if self.officer_tokens.is_empty() {
            return Err(ConfigError::NoOfficerTokens);
        }
        Ok(())
    }
}

fn invalid_env(var: &str, shape: &str) -> ConfigError {
    ConfigError::Invalid {
        origin: Some(var.to_owned()),
        message: format!("each entry must be {shape}"),
    }
}

fn check_secret(what: &'static str, owner: &str, secret: &str) -> Result<(), ConfigError> {
    if owner.trim().is_empty() {
        return Err(ConfigError::Invalid {
            origin: None,
            message: format!("an {what} has no name"),
        });
    }
    // The published development secrets are never accepted from configuration.
    if secret.chars().count() < MIN_SECRET_LEN || secret == DEV_APP_KEY || secret == DEV_OFFICER_TOKEN {
        return Err(ConfigError::WeakSecret {
            what,
            owner: owner.to_owned(),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "k-0123456789abcdef";
    const TOKEN: &str = "t-0123456789abcdef";

    #[test]
    fn reads_the_documented_toml() {
        let config = ApiConfig::from_toml_str(&format!(
            "body_limit = 1000\n[[apps]]\nname = \"gov-app\"\nkey = \"{KEY}\"\n\
             [[officers]]\nname = \"wang.fang\"\nrole = \"reviewer\"\ntoken = \"{TOKEN}\"\n\
             [verify]\npasses = 2\nretry_delay_ms = 10\n"
        ))
        .unwrap();
        assert_eq!(config.app_keys[KEY], "gov-app");
        assert_eq!(config.officer_tokens[TOKEN], ("wang.fang".to_owned(), Role::Reviewer));
        assert_eq!(config.body_limit, 1000);
        assert_eq!(config.verify.passes, 2);
        assert_eq!(config.verify.retry_delay, Duration::from_millis(10));
        config.validate().unwrap();
        let shown = format!("{config:?}");
        assert!(
            !shown.contains(KEY) && !shown.contains(TOKEN),
            "secrets leak into Debug: {shown}"
        );
    }

    #[test]
    fn reads_the_environment_and_refuses_without_secrets() {
        let env = |vars: &'static [(&'static str, &'static str)]| {
            move |name: &str| vars.iter().find(|(k, _)| *k == name).map(|(_, v)| (*v).to_owned())
        };
        let config = ApiConfig::from_lookup(env(&[
            ("ENROL_APP_KEYS", "gov-app=k-0123456789abcdef, kiosk=k-fedcba9876543210"),
            ("ENROL_OFFICER_TOKENS", "li.ming:viewer=t-0123456789abcdef"),
            ("ENROL_API_BODY_LIMIT", "2048"),
        ]))
        .unwrap();
        assert_eq!(config.app_keys.len(), 2);
        assert_eq!(config.officer_tokens[TOKEN].1, Role::Viewer);
        assert_eq!(config.body_limit, 2048);
        assert!(!config.dev);

        assert!(matches!(ApiConfig::from_lookup(env(&[])), Err(ConfigError::NoAppKeys)));
        assert!(matches!(
            ApiConfig::from_lookup(env(&[("ENROL_APP_KEYS", "a=k-0123456789abcdef")])),
            Err(ConfigError::NoOfficerTokens)
        ));
        assert!(matches!(
            ApiConfig::from_lookup(env(&[("ENROL_APP_KEYS", "a=short")])),
            Err(ConfigError::WeakSecret { .. })
        ));
        assert!(matches!(
            ApiConfig::from_lookup(env(&[
                ("ENROL_APP_KEYS", "a=k-0123456789abcdef"),
                ("ENROL_OFFICER_TOKENS", "b:boss=t-0123456789abcdef")
            ])),
            Err(ConfigError::Role(_))
        ));
        assert!(matches!(
            ApiConfig::from_lookup(env(&[("ENROL_APP_KEYS", "a=k-0123456789abcdef,b=k-0123456789abcdef")])),
            Err(ConfigError::DuplicateSecret { .. })
        ));
    }

    #[test]
    fn dev_accepts_the_published_secrets() {
        let config = ApiConfig::dev();
        assert!(config.dev);
        assert_eq!(config.app_keys[DEV_APP_KEY], "dev-app");
        assert_eq!(config.officer_tokens[DEV_OFFICER_TOKEN].1, Role::RoundManager);
        // The published dev secrets are too short to pass as production ones.
        assert!(ApiConfig::empty().add_app("x", DEV_APP_KEY).is_err());
        assert!(
            ApiConfig::empty()
                .add_officer("x", Role::Viewer, DEV_OFFICER_TOKEN)
                .is_err()
        );
    }

    #[test]
    fn roles_are_ordered() {
        assert!(Role::Viewer < Role::Reviewer && Role::Reviewer < Role::RoundManager);
        assert_eq!("round_manager".parse::<Role>().unwrap(), Role::RoundManager);
    }
}
