//! `enrol serve`'s configuration: one TOML file (`--config enrol.toml`),
//! environment variables over it, command-line flags over both. Secrets may
//! come from files (`key_file`, `token_file`, `api_key_file`,
//! `database_url_file`), so none has to sit in the TOML. Unknown keys are
//! refused with their line. docs/configuration.md documents every field.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use enrol_api::{ApiConfig, Role};
use enrol_evidence::{RegistriesConfig, RegistryConfig};
use enrol_registry_client::SCHOOL_ENROLMENT_PURPOSE;
use serde::Deserialize;

use crate::logging::LogFormat;

/// The API's address when neither file, variable nor flag says.
pub const DEFAULT_ADDR: &str = "127.0.0.1:8080";
/// The database when neither file, variable nor flag says: SQLite in the working directory.
pub const DEFAULT_DATABASE_URL: &str = "enrol.db";
/// The log filter when none is given: the engine's INFO lines, others' warnings.
pub const DEFAULT_LOG_LEVEL: &str = "warn,enrol=info";

/// Why a configuration file is refused.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read the configuration {}: {source}", path.display())]
    Read { path: PathBuf, source: std::io::Error },
    /// A syntax error, an unknown key, a wrong type: with the line and the field.
    #[error("{}:{line}: {message}", path.display())]
    Invalid {
        path: PathBuf,
        line: usize,
        message: String,
    },
    #[error("{}: `{field}`: cannot read the secret file {}: {source}", path.display(), file.display())]
    SecretFile {
        path: PathBuf,
        field: String,
        file: PathBuf,
        source: std::io::Error,
    },
    #[error("{}: `{field}`: give the value or `{field}_file`, not both", path.display())]
    Both { path: PathBuf, field: String },
    #[error("{}: `{field}` is missing (or give `{field}_file`)", path.display())]
    Missing { path: PathBuf, field: String },
    #[error("{}: {source}", path.display())]
    Api {
        path: PathBuf,
        source: enrol_api::ConfigError,
    },
}

/// The file, as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServeFile {
    addr: Option<SocketAddr>,
    admin_addr: Option<SocketAddr>,
    database_url: Option<String>,
    database_url_file: Option<PathBuf>,
    #[serde(default)]
    log: FileLog,
    #[serde(default)]
    limits: FileLimits,
    #[serde(default)]
    verify: FileVerify,
    #[serde(default)]
    console: FileConsole,
    #[serde(default)]
    apps: Vec<FileApp>,
    #[serde(default)]
    officers: Vec<FileOfficer>,
    /// `X-Purpose` of every registry call.
    registry_purpose: Option<String>,
    /// A PEM file of certificate authorities trusted for `https` registries
    /// besides the system's (a government gateway's private CA).
    registry_ca_bundle: Option<PathBuf>,
    /// Settings every registry takes unless its own section says otherwise.
    registry_defaults: Option<FileRegistry>,
    #[serde(default)]
    registries: BTreeMap<enrol_domain::Registry, FileRegistry>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileLog {
    format: Option<LogFormat>,
    level: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileLimits {
    body_limit: Option<usize>,
    officer_body_limit: Option<usize>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileVerify {
    concurrency: Option<usize>,
    passes: Option<usize>,
    retry_delay_ms: Option<u64>,
    /// How long a verification claim holds (a killed process's claims are
    /// taken over once it has passed).
    lease_ms: Option<u64>,
}

/// The officers' console (`/console/`, docs/console.md).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConsole {
    /// Mark the session cookie `Secure`: the console is reached over HTTPS
    /// (a TLS-terminating proxy in front of `enrol serve`).
    secure_cookies: Option<bool>,
    /// How long a sign-in lasts, in minutes (default 480: a working day).
    session_minutes: Option<u64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileApp {
    name: String,
    key: Option<String>,
    key_file: Option<PathBuf>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileOfficer {
    name: String,
    role: Role,
    token: Option<String>,
    token_file: Option<PathBuf>,
}

/// One registry's section (or the defaults): `RegistryConfig`'s fields, all
/// optional, and the key from a file.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileRegistry {
    base_url: Option<String>,
    api_key: Option<String>,
    api_key_file: Option<PathBuf>,
    attempt_timeout_ms: Option<u64>,
    deadline_ms: Option<u64>,
    max_retries: Option<u32>,
    backoff_min_ms: Option<u64>,
    backoff_max_ms: Option<u64>,
    concurrency: Option<usize>,
    breaker_failures: Option<u32>,
    breaker_open_ms: Option<u64>,
    breaker_open_max_ms: Option<u64>,
}

impl FileRegistry {
    /// `self` where set, else `defaults`.
    fn over(&self, defaults: &FileRegistry) -> FileRegistry {
        macro_rules! pick {
            ($($f:ident),*) => { FileRegistry { $($f: self.$f.clone().or_else(|| defaults.$f.clone())),* } };
        }
        pick!(
            base_url,
            api_key,
            api_key_file,
            attempt_timeout_ms,
            deadline_ms,
            max_retries,
            backoff_min_ms,
            backoff_max_ms,
            concurrency,
            breaker_failures,
            breaker_open_ms,
            breaker_open_max_ms
        )
    }
}

/// What `enrol serve` runs with, every source merged.
#[derive(Debug)]
pub struct ServeSettings {
    pub addr: SocketAddr,
    pub admin_addr: Option<SocketAddr>,
    pub database_url: String,
    pub log_format: Option<LogFormat>,
    pub log_level: String,
    /// Keys, tokens, limits and verification options; not yet validated
    /// (`--dev` replaces the secrets).
    pub api: ApiConfig,
    /// From the file's `[registries.*]` sections, if it has any.
    pub registries: Option<RegistriesConfig>,
    /// The officers' console: cookie and session settings.
    pub console: enrol_console::ConsoleOptions,
}

/// The line (1-based) of byte `offset` in `text`.
fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

impl ServeFile {
    /// Parses the file's text; `path` names it in errors.
    pub fn parse(text: &str, path: &Path) -> Result<ServeFile, ConfigError> {
        toml::from_str(text).map_err(|e| ConfigError::Invalid {
            path: path.to_owned(),
            line: e.span().map_or(1, |s| line_of(text, s.start)),
            message: e.message().trim().to_owned(),
        })
    }

    /// Reads and parses the file at `path`.
    pub fn load(path: &Path) -> Result<ServeFile, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        Self::parse(&text, path)
    }

    /// The settings the file gives, secrets read from their files. `path`
    /// names the file in errors.
    pub fn resolve(self, path: &Path) -> Result<ServeSettings, ConfigError> {
        let secret =
            |field: String, value: Option<String>, file: Option<PathBuf>| -> Result<Option<String>, ConfigError> {
                match (value, file) {
                    (Some(_), Some(_)) => Err(ConfigError::Both {
                        path: path.to_owned(),
                        field,
                    }),
                    (Some(v), None) => Ok(Some(v)),
                    (None, Some(file)) => read_secret(&file).map(Some).map_err(|source| ConfigError::SecretFile {
                        path: path.to_owned(),
                        field,
                        file,
                        source,
                    }),
                    (None, None) => Ok(None),
                }
            };
        let required = |field: String, value: Option<String>| {
            value.ok_or_else(|| ConfigError::Missing {
                path: path.to_owned(),
                field,
            })
        };
        let api_error = |source| ConfigError::Api {
            path: path.to_owned(),
            source,
        };

        let mut api = ApiConfig::empty();
        if let Some(n) = self.limits.body_limit {
            api.body_limit = n;
        }
        if let Some(n) = self.limits.officer_body_limit {
            api.officer_body_limit = n;
        }
        if let Some(n) = self.verify.concurrency {
            api.verify.concurrency = n;
        }
        if let Some(n) = self.verify.passes {
            api.verify.passes = n;
        }
        if let Some(ms) = self.verify.retry_delay_ms {
            api.verify.retry_delay = Duration::from_millis(ms);
        }
        if let Some(ms) = self.verify.lease_ms {
            api.verify.lease = Duration::from_millis(ms);
        }
        for (i, app) in self.apps.into_iter().enumerate() {
            let field = format!("apps[{i}].key");
            let key = required(field.clone(), secret(field, app.key, app.key_file)?)?;
            api.add_app(app.name, key).map_err(api_error)?;
        }
        for (i, officer) in self.officers.into_iter().enumerate() {
            let field = format!("officers[{i}].token");
            let token = required(field.clone(), secret(field, officer.token, officer.token_file)?)?;
            api.add_officer(officer.name, officer.role, token).map_err(api_error)?;
        }

        let registries = if self.registries.is_empty() && self.registry_defaults.is_none() {
            None
        } else {
            let defaults = self.registry_defaults.unwrap_or_default();
            let mut all = BTreeMap::new();
            for registry in enrol_domain::Registry::ALL {
                let name = registry.citation_name();
                let section = self
                    .registries
                    .get(&registry)
                    .cloned()
                    .unwrap_or_default()
                    .over(&defaults);
                let field = |f: &str| format!("registries.{name}.{f}");
                let key = secret(field("api_key"), section.api_key, section.api_key_file)?;
                let mut c = RegistryConfig::new(
                    required(field("base_url"), section.base_url)?,
                    required(field("api_key"), key)?,
                );
                macro_rules! set {
                    ($($f:ident),*) => { $(if let Some(v) = section.$f { c.$f = v; })* };
                }
                set!(
                    attempt_timeout_ms,
                    deadline_ms,
                    max_retries,
                    backoff_min_ms,
                    backoff_max_ms,
                    concurrency,
                    breaker_failures,
                    breaker_open_ms,
                    breaker_open_max_ms
                );
                all.insert(registry, c);
            }
            Some(RegistriesConfig {
                purpose: self
                    .registry_purpose
                    .unwrap_or_else(|| SCHOOL_ENROLMENT_PURPOSE.to_owned()),
                ca_bundle: self.registry_ca_bundle,
                registries: all,
            })
        };

        let mut console = enrol_console::ConsoleOptions::default();
        if let Some(secure) = self.console.secure_cookies {
            console.secure_cookies = secure;
        }
        if let Some(minutes) = self.console.session_minutes {
            console.session_ttl = Duration::from_secs(minutes.saturating_mul(60));
        }

        let database_url = secret("database_url".to_owned(), self.database_url, self.database_url_file)?;
        Ok(ServeSettings {
            addr: self
                .addr
                .unwrap_or_else(|| DEFAULT_ADDR.parse().expect("a valid address")),
            admin_addr: self.admin_addr,
            database_url: database_url.unwrap_or_else(|| DEFAULT_DATABASE_URL.to_owned()),
            log_format: self.log.format,
            log_level: self.log.level.unwrap_or_else(|| DEFAULT_LOG_LEVEL.to_owned()),
            api,
            registries,
            console,
        })
    }
}

/// A secret file's content without its trailing line break.
fn read_secret(file: &Path) -> std::io::Result<String> {
    let text = std::fs::read_to_string(file)?;
    Ok(text.trim_end_matches(['\n', '\r']).to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<ServeSettings, ConfigError> {
        let path = Path::new("enrol.toml");
        ServeFile::parse(text, path)?.resolve(path)
    }

    /// Loads a shipped example, its secret files (under /run/secrets/) made real.
    fn load_example(relative: &str) -> ServeSettings {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").join(relative);
        let text = std::fs::read_to_string(&path).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let text = text.replace("/run/secrets/", &format!("{}/", dir.path().display()));
        for line in text.lines() {
            if let Some((_, file)) = line.split_once("_file = \"") {
                let file = Path::new(file.split('"').next().unwrap());
                let name = file.file_name().unwrap().to_str().unwrap();
                std::fs::write(file, format!("s3cret-{name}-0123456789abcdef\n")).unwrap();
            }
        }
        let settings = ServeFile::parse(&text, &path).unwrap().resolve(&path).unwrap();
        settings.api.validate().unwrap();
        settings
    }

    #[test]
    fn the_shipped_examples_load() {
        let settings = load_example("deploy/enrol.toml");
        assert_eq!(settings.addr.port(), 8080);
        assert!(settings.admin_addr.is_some());
        assert_eq!(
            settings.database_url, "s3cret-database_url-0123456789abcdef",
            "from its file, without the line break"
        );
        assert_eq!(settings.log_format, Some(LogFormat::Json));
        assert_eq!(settings.api.officer_tokens.len(), 2);
        let registries = settings.registries.expect("registries configured");
        assert_eq!(registries.registries.len(), 7);
        assert!(registries.registries.values().all(|r| r.api_key.starts_with("s3cret-")));
        assert_eq!(
            registries.registries[&enrol_domain::Registry::Hukou].api_key,
            "s3cret-hukou_key-0123456789abcdef"
        );
        assert_eq!(registries.registries[&enrol_domain::Registry::Zones].concurrency, 8);
        assert_eq!(registries.registries[&enrol_domain::Registry::Birth].concurrency, 16);

        let compose = load_example("deploy/compose/enrol.toml");
        let registries = compose.registries.expect("registries configured");
        assert!(
            registries
                .registries
                .values()
                .all(|r| r.base_url == "http://registries:8700")
        );
    }

    #[test]
    fn an_unknown_key_is_refused_with_its_line_and_name() {
        let err = parse("addr = \"127.0.0.1:8080\"\n\n[log]\nformat = \"json\"\nlevle = \"info\"\n").unwrap_err();
        let ConfigError::Invalid { line, message, .. } = &err else {
            panic!("{err}")
        };
        assert_eq!(*line, 5, "{err}");
        assert!(message.contains("unknown field `levle`"), "{err}");
        assert!(
            err.to_string().starts_with("enrol.toml:5: unknown field `levle`"),
            "{err}"
        );

        let err = parse("[registries.hukuo]\nbase_url = \"http://x\"\n").unwrap_err();
        assert!(matches!(err, ConfigError::Invalid { line: 1, .. }), "{err}");
        assert!(err.to_string().contains("hukuo"), "{err}");
    }

    #[test]
    fn secrets_come_from_files_never_both() {
        let dir = tempfile::tempdir().unwrap();
        let key = dir.path().join("key");
        std::fs::write(&key, "k-0123456789abcdef\n").unwrap();
        let settings = parse(&format!(
            "[[apps]]\nname = \"gov-app\"\nkey_file = \"{}\"\n",
            key.display()
        ))
        .unwrap();
        assert_eq!(settings.api.app_keys["k-0123456789abcdef"], "gov-app");

        let err = parse(&format!(
            "[[apps]]\nname = \"gov-app\"\nkey = \"k-0123456789abcdef\"\nkey_file = \"{}\"\n",
            key.display()
        ))
        .unwrap_err();
        assert!(matches!(err, ConfigError::Both { .. }), "{err}");
        let err =
            parse("[[officers]]\nname = \"wang\"\nrole = \"viewer\"\ntoken_file = \"/nonexistent/t\"\n").unwrap_err();
        assert!(
            err.to_string().contains("officers[0].token") && err.to_string().contains("/nonexistent/t"),
            "{err}"
        );
        let err = parse("[registry_defaults]\napi_key = \"dev-key\"\n").unwrap_err();
        assert!(err.to_string().contains("registries.hukou.base_url"), "{err}");
    }

    #[test]
    fn defaults_fill_what_the_file_leaves_out() {
        let settings = parse("").unwrap();
        assert_eq!(settings.addr.to_string(), DEFAULT_ADDR);
        assert_eq!(settings.database_url, DEFAULT_DATABASE_URL);
        assert_eq!(settings.log_level, DEFAULT_LOG_LEVEL);
        assert!(settings.log_format.is_none() && settings.registries.is_none() && settings.admin_addr.is_none());
        assert!(!settings.console.secure_cookies);
        assert_eq!(settings.console.session_ttl, Duration::from_secs(8 * 3600));
    }

    #[test]
    fn the_console_section_sets_the_cookie_and_the_session() {
        let settings = parse("[console]\nsecure_cookies = true\nsession_minutes = 30\n").unwrap();
        assert!(settings.console.secure_cookies);
        assert_eq!(settings.console.session_ttl, Duration::from_secs(1800));
        assert!(parse("[console]\nsecure = true\n").is_err(), "unknown keys are refused");
    }
}
