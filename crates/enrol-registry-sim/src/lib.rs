//! Simulator of the seven government registries the enrolment engine reads
//! (`shared/spec/registries.md`): household (户籍), birth (出生医学证明), property (不动产),
//! residence permit (居住证), social insurance (社保), school zones (学区划片) and enrolment
//! history (学籍与学位使用).
//!
//! It serves a fixture dataset folder ([`Dataset::load`]) under one address, with the
//! registries' API keys, consent and purpose rules, access logs, address search and
//! faults ([`FaultPlan`]), deterministic for a seed. It shares no code with the engine's
//! adapters: it is an independent implementation of the agencies' contract.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use enrol_registry_sim::{Dataset, FaultPlan, SimConfig, Simulator};
//! let dataset = Dataset::load("fixtures/cities/sample")?;
//! let config = SimConfig::default().with_faults(FaultPlan::preset("flaky")?).with_seed(7);
//! let sim = Simulator::start(dataset, config, "127.0.0.1:0".parse()?).await?;
//! println!("registries at {}", sim.base_url());
//! sim.shutdown().await?;
//! # Ok(()) }
//! ```

pub mod address;
mod corrupt;
pub mod dataset;
pub mod faults;
pub mod ids;
pub mod records;
pub mod registry;
pub mod server;

pub use address::AddressMatch;
pub use dataset::{Dataset, DatasetError, DatasetSummary};
pub use faults::{
    Corruption, CorruptionKind, FaultDecision, FaultOutcome, FaultPlan, FaultPlanError, FaultSequence, OutageWindow,
    RegistryFaults,
};
pub use registry::{Registry, UnknownRegistry};
pub use server::{
    AccessLogEntry, DEV_KEY, PURPOSE, RunningSimulator, SimConfig, SimError, Simulator, serve, serve_until,
};
