//! Faults the registries really produce (`registries.md`, "Common rules"): slow responses,
//! `503 unavailable`, `429 rate_limited` with `Retry-After`, responses that never come, and
//! outages. Off by default, set per registry, and deterministic for a seed: each registry
//! draws from its own ChaCha8 stream, two numbers per request in arrival order.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

pub use crate::corrupt::{Corruption, CorruptionKind};
use crate::registry::Registry;

/// Default cap on a hung request: far beyond any client's timeout.
pub const DEFAULT_HANG_CAP_S: u64 = 600;

/// A window, in seconds since the simulator started, in which a registry answers every
/// request with `503 unavailable`: `from_s <= t < until_s`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutageWindow {
    /// Start, seconds after start-up.
    pub from_s: f64,
    /// End (excluded), seconds after start-up.
    pub until_s: f64,
}

impl OutageWindow {
    /// Whether `elapsed` since start-up falls in the window.
    pub fn contains(&self, elapsed: Duration) -> bool {
        let t = elapsed.as_secs_f64();
        self.from_s <= t && t < self.until_s
    }
}

/// The faults of one registry. The default is no fault at all.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegistryFaults {
    /// Base latency added to every request, milliseconds.
    pub latency_ms: u64,
    /// Latency varies uniformly by up to this much either way (never below zero).
    pub jitter_ms: u64,
    /// Share of requests answered `503 unavailable`.
    pub p_503: f64,
    /// Share of requests answered `429 rate_limited`.
    pub p_429: f64,
    /// `Retry-After` of a 429, seconds.
    pub retry_after_s: u32,
    /// Share of requests held open without an answer until the client gives up.
    pub p_hang: f64,
    /// A hung request is answered `503` after this many seconds at the latest.
    pub hang_cap_s: u64,
    /// Outage window relative to start-up.
    pub outage: Option<OutageWindow>,
    /// Answer corruption (registries.md, "Dirty records"): shares of records
    /// whose `200` answers come with a body cut short, a field of the wrong
    /// type, or invalid UTF-8. See [`crate::corrupt`].
    #[serde(default)]
    pub corruption: Corruption,
}

impl Default for RegistryFaults {
    fn default() -> Self {
        RegistryFaults {
            latency_ms: 0,
            jitter_ms: 0,
            p_503: 0.0,
            p_429: 0.0,
            retry_after_s: 1,
            p_hang: 0.0,
            hang_cap_s: DEFAULT_HANG_CAP_S,
            outage: None,
            corruption: Corruption::default(),
        }
    }
}

impl RegistryFaults {
    /// The `flaky` preset: about 30 ms ±20 latency, 5% 503, 2% 429, 1% hang.
    pub fn flaky() -> RegistryFaults {
        RegistryFaults {
            latency_ms: 30,
            jitter_ms: 20,
            p_503: 0.05,
            p_429: 0.02,
            retry_after_s: 1,
            p_hang: 0.01,
            ..RegistryFaults::default()
        }
    }

    /// Whether this registry injects anything at all (besides the runtime outage switch).
    pub fn is_off(&self) -> bool {
        self.latency_ms == 0
            && self.jitter_ms == 0
            && self.p_503 == 0.0
            && self.p_429 == 0.0
            && self.p_hang == 0.0
            && self.outage.is_none()
            && self.corruption.is_off()
    }

    fn validate(&self, registry: &str) -> Result<(), FaultPlanError> {
        let invalid = |field: &str, reason: String| FaultPlanError::Invalid {
            registry: registry.to_owned(),
            field: field.to_owned(),
            reason,
        };
        for (field, p) in [("p_503", self.p_503), ("p_429", self.p_429), ("p_hang", self.p_hang)] {
            if !(0.0..=1.0).contains(&p) {
                return Err(invalid(field, format!("a share is 0 to 1, found {p}")));
            }
        }
        let total = self.p_503 + self.p_429 + self.p_hang;
        if total > 1.0 + 1e-9 {
            return Err(invalid(
                "p_503",
                format!("p_503 + p_429 + p_hang is at most 1, found {total}"),
            ));
        }
        self.corruption
            .validate()
            .map_err(|(field, reason)| invalid(field, reason))?;
        if self.hang_cap_s == 0 {
            return Err(invalid("hang_cap_s", "must be at least 1 second".to_owned()));
        }
        if let Some(w) = self.outage
            && !(w.from_s.is_finite() && w.until_s.is_finite() && 0.0 <= w.from_s && w.from_s <= w.until_s)
        {
            return Err(invalid(
                "outage",
                format!(
                    "needs 0 <= from_s <= until_s, found from_s = {}, until_s = {}",
                    w.from_s, w.until_s
                ),
            ));
        }
        Ok(())
    }
}

/// What the gateway does with one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultOutcome {
    /// Passes on to the registry.
    Pass,
    /// `503 unavailable`.
    Unavailable,
    /// `429 rate_limited` with `Retry-After`.
    RateLimited {
        /// Seconds.
        retry_after_s: u32,
    },
    /// Never answered (until the client gives up or the cap passes).
    Hang,
}

/// The fault drawn for one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FaultDecision {
    /// Delay before anything else happens.
    pub latency: Duration,
    /// What happens then.
    pub outcome: FaultOutcome,
}

/// The deterministic sequence of decisions of one registry for one seed.
#[derive(Debug, Clone)]
pub struct FaultSequence {
    rng: ChaCha8Rng,
    faults: RegistryFaults,
}

impl FaultSequence {
    /// The sequence of `registry` for `seed`: its own ChaCha8 stream.
    pub fn new(faults: RegistryFaults, seed: u64, registry: Registry) -> FaultSequence {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        rng.set_stream(registry.index() as u64 + 1);
        FaultSequence { rng, faults }
    }

    /// The decision for the next request. Always draws two numbers, so the n-th request's
    /// decision depends only on the seed, the registry and n.
    pub fn next_decision(&mut self) -> FaultDecision {
        let u_latency: f64 = self.rng.random();
        let u_fault: f64 = self.rng.random();
        let f = &self.faults;
        let base = f.latency_ms as f64;
        let jitter = f.jitter_ms as f64;
        let ms = (base + jitter * (2.0 * u_latency - 1.0)).max(0.0);
        let latency = Duration::from_micros((ms * 1000.0).round() as u64);
        let outcome = if u_fault < f.p_hang {
            FaultOutcome::Hang
        } else if u_fault < f.p_hang + f.p_503 {
            FaultOutcome::Unavailable
        } else if u_fault < f.p_hang + f.p_503 + f.p_429 {
            FaultOutcome::RateLimited {
                retry_after_s: f.retry_after_s,
            }
        } else {
            FaultOutcome::Pass
        };
        FaultDecision { latency, outcome }
    }
}

impl Iterator for FaultSequence {
    type Item = FaultDecision;

    fn next(&mut self) -> Option<FaultDecision> {
        Some(self.next_decision())
    }
}

/// Why a fault plan was refused.
#[derive(Debug, thiserror::Error)]
pub enum FaultPlanError {
    /// No preset has this name.
    #[error("unknown fault preset `{0}` (known: none, flaky)")]
    UnknownPreset(String),
    /// The file could not be read.
    #[error("cannot read fault file {}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// The file is not valid TOML of the fault format.
    #[error("fault file {}: {source}", path.display())]
    Toml {
        /// The file (`<string>` for text).
        path: PathBuf,
        /// Parser error, with line and column.
        source: Box<toml::de::Error>,
    },
    /// A value is out of range.
    #[error("faults of `{registry}`: `{field}`: {reason}")]
    Invalid {
        /// Registry section (`all` for the common one).
        registry: String,
        /// Field.
        field: String,
        /// What is wrong.
        reason: String,
    },
}

/// Per-registry faults. Off by default.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct FaultPlan {
    registries: BTreeMap<Registry, RegistryFaults>,
}

/// One section of a fault file: every field optional, laid over what came before.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Overrides {
    latency_ms: Option<u64>,
    jitter_ms: Option<u64>,
    p_503: Option<f64>,
    p_429: Option<f64>,
    retry_after_s: Option<u32>,
    p_hang: Option<f64>,
    hang_cap_s: Option<u64>,
    outage: Option<OutageWindow>,
    p_truncated: Option<f64>,
    p_wrong_type: Option<f64>,
    p_bad_utf8: Option<f64>,
    corrupt_times: Option<u32>,
}

impl Overrides {
    fn apply(&self, f: &mut RegistryFaults) {
        if let Some(v) = self.latency_ms {
            f.latency_ms = v;
        }
        if let Some(v) = self.jitter_ms {
            f.jitter_ms = v;
        }
        if let Some(v) = self.p_503 {
            f.p_503 = v;
        }
        if let Some(v) = self.p_429 {
            f.p_429 = v;
        }
        if let Some(v) = self.retry_after_s {
            f.retry_after_s = v;
        }
        if let Some(v) = self.p_hang {
            f.p_hang = v;
        }
        if let Some(v) = self.hang_cap_s {
            f.hang_cap_s = v;
        }
        if let Some(v) = self.outage {
            f.outage = Some(v);
        }
        let c = &mut f.corruption;
        for (field, value) in [
            (&mut c.p_truncated, self.p_truncated),
            (&mut c.p_wrong_type, self.p_wrong_type),
            (&mut c.p_bad_utf8, self.p_bad_utf8),
        ] {
            if let Some(v) = value {
                *field = v;
            }
        }
        if let Some(v) = self.corrupt_times {
            c.corrupt_times = v;
        }
    }
}

/// The fault file: an optional preset, then `[all]`, then one section per registry.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FaultFile {
    preset: Option<String>,
    all: Option<Overrides>,
    hukou: Option<Overrides>,
    birth: Option<Overrides>,
    property: Option<Overrides>,
    residence: Option<Overrides>,
    #[serde(rename = "social-insurance")]
    social_insurance: Option<Overrides>,
    zones: Option<Overrides>,
    #[serde(rename = "enrolment-history")]
    enrolment_history: Option<Overrides>,
}

impl FaultFile {
    fn section(&self, r: Registry) -> Option<&Overrides> {
        match r {
            Registry::Hukou => self.hukou.as_ref(),
            Registry::Birth => self.birth.as_ref(),
            Registry::Property => self.property.as_ref(),
            Registry::Residence => self.residence.as_ref(),
            Registry::SocialInsurance => self.social_insurance.as_ref(),
            Registry::Zones => self.zones.as_ref(),
            Registry::EnrolmentHistory => self.enrolment_history.as_ref(),
        }
    }
}

impl FaultPlan {
    /// Names of the presets.
    pub const PRESETS: [&'static str; 2] = ["none", "flaky"];

    /// No faults anywhere.
    pub fn none() -> FaultPlan {
        FaultPlan::default()
    }

    /// The same faults at every registry.
    pub fn uniform(faults: RegistryFaults) -> FaultPlan {
        FaultPlan {
            registries: Registry::ALL.into_iter().map(|r| (r, faults.clone())).collect(),
        }
    }

    /// A named preset: `none` (also `off`) or `flaky` (every registry: 30 ms ±20, 5% 503,
    /// 2% 429 with `Retry-After: 1`, 1% hang).
    pub fn preset(name: &str) -> Result<FaultPlan, FaultPlanError> {
        match name {
            "none" | "off" => Ok(FaultPlan::none()),
            "flaky" => Ok(FaultPlan::uniform(RegistryFaults::flaky())),
            other => Err(FaultPlanError::UnknownPreset(other.to_owned())),
        }
    }

    /// What `--faults ARG` means: a preset name, else the path of a TOML fault file.
    pub fn from_arg(arg: &str) -> Result<FaultPlan, FaultPlanError> {
        // A bare word is a preset name; anything that looks like a path is a file.
        let looks_like_path = arg.contains(['/', '\\', '.']) || Path::new(arg).exists();
        match FaultPlan::preset(arg) {
            Err(FaultPlanError::UnknownPreset(_)) if looks_like_path => FaultPlan::from_toml_file(arg),
            other => other,
        }
    }

    /// Reads a TOML fault file (format in `docs/registry-sim.md`).
    pub fn from_toml_file(path: impl AsRef<Path>) -> Result<FaultPlan, FaultPlanError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|source| FaultPlanError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        FaultPlan::parse_toml(&text, path)
    }

    /// Parses the text of a TOML fault file.
    pub fn from_toml_str(text: &str) -> Result<FaultPlan, FaultPlanError> {
        FaultPlan::parse_toml(text, Path::new("<string>"))
    }

    fn parse_toml(text: &str, path: &Path) -> Result<FaultPlan, FaultPlanError> {
        let file: FaultFile = toml::from_str(text).map_err(|source| FaultPlanError::Toml {
            path: path.to_path_buf(),
            source: Box::new(source),
        })?;
        let mut plan = match &file.preset {
            Some(name) => FaultPlan::preset(name)?,
            None => FaultPlan::none(),
        };
        if let Some(all) = &file.all {
            for r in Registry::ALL {
                all.apply(plan.registries.entry(r).or_default());
            }
            plan.registry(Registry::Hukou).validate("all")?;
        }
        for r in Registry::ALL {
            if let Some(section) = file.section(r) {
                section.apply(plan.registries.entry(r).or_default());
            }
            plan.registry(r).validate(r.segment())?;
        }
        Ok(plan)
    }

    /// Sets the faults of one registry.
    pub fn set(&mut self, registry: Registry, faults: RegistryFaults) -> Result<(), FaultPlanError> {
        faults.validate(registry.segment())?;
        self.registries.insert(registry, faults);
        Ok(())
    }

    /// Builder form of [`FaultPlan::set`].
    pub fn with(mut self, registry: Registry, faults: RegistryFaults) -> Result<FaultPlan, FaultPlanError> {
        self.set(registry, faults)?;
        Ok(self)
    }

    /// The faults of one registry (no fault when not set).
    pub fn registry(&self, registry: Registry) -> RegistryFaults {
        self.registries.get(&registry).cloned().unwrap_or_default()
    }

    /// Whether no registry injects anything.
    pub fn is_off(&self) -> bool {
        self.registries.values().all(RegistryFaults::is_off)
    }

    /// The decision sequence of `registry` for `seed`, as the running simulator draws it.
    pub fn sequence(&self, seed: u64, registry: Registry) -> FaultSequence {
        FaultSequence::new(self.registry(registry), seed, registry)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tally(plan: &FaultPlan, seed: u64, registry: Registry, n: usize) -> [usize; 4] {
        let mut counts = [0; 4];
        for d in plan.sequence(seed, registry).take(n) {
            let i = match d.outcome {
                FaultOutcome::Pass => 0,
                FaultOutcome::Unavailable => 1,
                FaultOutcome::RateLimited { .. } => 2,
                FaultOutcome::Hang => 3,
            };
            counts[i] += 1;
        }
        counts
    }

    #[test]
    fn flaky_rates_within_tolerance_over_many_draws() {
        let plan = FaultPlan::preset("flaky").unwrap_or_default();
        let n = 200_000;
        for r in Registry::ALL {
            let [pass, s503, s429, hang] = tally(&plan, 7, r, n);
            let share = |c: usize| c as f64 / n as f64;
            // Binomial sd at n = 200 000 is below 0.0005 for these rates; allow ~6 sd.
            assert!((share(s503) - 0.05).abs() < 0.003, "{r}: 503 {}", share(s503));
            assert!((share(s429) - 0.02).abs() < 0.002, "{r}: 429 {}", share(s429));
            assert!((share(hang) - 0.01).abs() < 0.0015, "{r}: hang {}", share(hang));
            assert_eq!(pass + s503 + s429 + hang, n);
        }
    }

    #[test]
    fn flaky_latency_stays_within_base_plus_minus_jitter_and_averages_base() {
        let plan = FaultPlan::preset("flaky").unwrap_or_default();
        let n = 50_000;
        let mut total = 0.0;
        for d in plan.sequence(1, Registry::Hukou).take(n) {
            let ms = d.latency.as_secs_f64() * 1000.0;
            assert!((10.0..=50.0).contains(&ms), "{ms}");
            total += ms;
        }
        assert!((total / n as f64 - 30.0).abs() < 0.5);
    }

    #[test]
    fn same_seed_same_sequence_other_seed_or_registry_another() {
        let plan = FaultPlan::preset("flaky").unwrap_or_default();
        let a: Vec<_> = plan.sequence(42, Registry::Birth).take(500).collect();
        let b: Vec<_> = plan.sequence(42, Registry::Birth).take(500).collect();
        let c: Vec<_> = plan.sequence(43, Registry::Birth).take(500).collect();
        let d: Vec<_> = plan.sequence(42, Registry::Property).take(500).collect();
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_ne!(a, d);
    }

    #[test]
    fn none_is_off_and_passes_everything_at_once() {
        let plan = FaultPlan::preset("none").unwrap_or_else(|_| FaultPlan::uniform(RegistryFaults::flaky()));
        assert!(plan.is_off());
        assert!(plan.sequence(0, Registry::Zones).take(1000).all(|d| d
            == FaultDecision {
                latency: Duration::ZERO,
                outcome: FaultOutcome::Pass
            }));
        assert!(matches!(
            FaultPlan::preset("chaos"),
            Err(FaultPlanError::UnknownPreset(p)) if p == "chaos"
        ));
    }

    #[test]
    fn toml_layers_preset_all_and_registry_sections() {
        let plan = FaultPlan::from_toml_str(
            r#"
            preset = "flaky"
            [all]
            p_hang = 0.0
            [hukou]
            p_503 = 0.5
            retry_after_s = 3
            outage = { from_s = 10, until_s = 20.5 }
            [social-insurance]
            latency_ms = 0
            jitter_ms = 0
            "#,
        );
        let plan = match plan {
            Ok(p) => p,
            Err(e) => panic!("{e}"),
        };
        let hukou = plan.registry(Registry::Hukou);
        assert_eq!(hukou.p_503, 0.5);
        assert_eq!(hukou.p_429, 0.02);
        assert_eq!(hukou.p_hang, 0.0);
        assert_eq!(hukou.retry_after_s, 3);
        assert_eq!(
            hukou.outage,
            Some(OutageWindow {
                from_s: 10.0,
                until_s: 20.5
            })
        );
        let si = plan.registry(Registry::SocialInsurance);
        assert_eq!((si.latency_ms, si.jitter_ms, si.p_503), (0, 0, 0.05));
        assert_eq!(plan.registry(Registry::Zones).latency_ms, 30);
    }

    #[test]
    fn toml_errors_are_typed() {
        assert!(matches!(
            FaultPlan::from_toml_str("[hukuo]\np_503 = 0.1"),
            Err(FaultPlanError::Toml { .. })
        ));
        assert!(matches!(
            FaultPlan::from_toml_str("[hukou]\np_503 = 0.1\nfoo = 1"),
            Err(FaultPlanError::Toml { .. })
        ));
        assert!(matches!(
            FaultPlan::from_toml_str("[zones]\np_429 = 1.5"),
            Err(FaultPlanError::Invalid { registry, field, .. }) if registry == "zones" && field == "p_429"
        ));
        assert!(matches!(
            FaultPlan::from_toml_str("[all]\np_503 = 0.6\np_429 = 0.6"),
            Err(FaultPlanError::Invalid { registry, .. }) if registry == "all"
        ));
        assert!(matches!(
            FaultPlan::from_toml_str("[birth]\noutage = { from_s = 5, until_s = 1 }"),
            Err(FaultPlanError::Invalid { field, .. }) if field == "outage"
        ));
        assert!(matches!(
            FaultPlan::from_toml_str("preset = \"wild\""),
            Err(FaultPlanError::UnknownPreset(_))
        ));
        assert!(matches!(
            FaultPlan::from_arg("/no/such/faults.toml"),
            Err(FaultPlanError::Io { .. })
        ));
        assert!(matches!(
            FaultPlan::from_arg("chaos"),
            Err(FaultPlanError::UnknownPreset(_))
        ));
        assert!(matches!(FaultPlan::from_arg("flaky"), Ok(p) if !p.is_off()));
    }

    #[test]
    fn outage_window_is_half_open() {
        let w = OutageWindow {
            from_s: 1.0,
            until_s: 2.0,
        };
        assert!(!w.contains(Duration::from_millis(999)));
        assert!(w.contains(Duration::from_millis(1000)));
        assert!(!w.contains(Duration::from_millis(2000)));
    }
}
