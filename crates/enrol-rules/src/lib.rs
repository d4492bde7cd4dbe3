//! The admission rules (招生政策) of the enrolment engine: from an evidence
//! bundle and a policy file, each application's status, its priority at every
//! school, its preferences and the reasons, in Chinese and English.
//!
//! - [`Policy`]: the policy file (TOML), every parameter, date and tier as data.
//! - [`plan_reads`]: which registry reads a decision still needs.
//! - [`evaluate`]: the decision, a pure function of application, evidence,
//!   policy, school catalogue and (optionally) the round seed.
//! - [`lottery_number`]: the verifiable lottery number.
//! - [`explain`]: "why not a better tier", the first failing clause of each
//!   better tier at each school, texts generated from the policy's tiers.
//!
//! The format, the fact vocabulary, the reason codes and every reading of the
//! spec are in `docs/rules.md`.

mod analysis;
mod evaluate;
mod lottery;
mod plan;
mod policy;
mod reasons;
mod why;

pub use evaluate::evaluate;
pub use lottery::lottery_number;
pub use plan::plan_reads;
pub use policy::{Dwelling, Fact, Policy, PolicyError, SAMPLE_JUNIOR_POLICY_TOML, SAMPLE_POLICY_TOML, Tier, TierValue};
pub use reasons::BUILT_IN_CODES;
pub use why::{Clause, clauses, explain, tier_holds};
