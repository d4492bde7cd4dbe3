//! A round's context: what the round row fixes (policy, its version, the
//! school catalogue read at verification), decoded once and passed around.

use std::sync::Arc;

use enrol_domain::{School, SchoolCatalogue};
use enrol_rules::Policy;
use enrol_store::round;

use crate::error::{Corrupt, RoundError, Stored, decode};
use crate::round::RoundState;

/// The round a decision, an allocation or a report is made in: the policy
/// (decoded once), its version (the SHA-256 every decision cites) and the
/// school catalogue fixed at verification. Cheap to clone.
#[derive(Debug, Clone)]
pub struct RoundContext {
    pub round_id: String,
    /// The state when the context was loaded. A write that depends on it
    /// re-checks it under the round row's lock.
    pub state: RoundState,
    pub policy: Arc<Policy>,
    pub policy_version: String,
    pub schools: Arc<SchoolCatalogue>,
}

impl RoundContext {
    /// The context of a round row. A round that has not read its school
    /// catalogue yet has no context ([`RoundError::NoCatalogue`]).
    pub(crate) fn from_row(row: &round::Model) -> Result<RoundContext, RoundError> {
        let state: RoundState = row.state.parse()?;
        let Some(json) = row.schools_json.as_deref() else {
            return Err(if state > RoundState::Closed {
                Corrupt::MissingCatalogue {
                    round: row.id.clone(),
                    state: row.state.clone(),
                }
                .into()
            } else {
                RoundError::NoCatalogue {
                    round: row.id.clone(),
                    state: row.state.clone(),
                }
            });
        };
        let schools = decode(Stored::SchoolCatalogue, &row.id, json)?;
        Self::with_schools(row, state, schools)
    }

    /// The context of a round row with the given catalogue (verification,
    /// when it has just read it).
    pub(crate) fn with_schools(
        row: &round::Model,
        state: RoundState,
        schools: SchoolCatalogue,
    ) -> Result<RoundContext, RoundError> {
        Ok(RoundContext {
            round_id: row.id.clone(),
            state,
            policy: Arc::new(Policy::from_toml_str(&row.policy_toml)?),
            policy_version: row.policy_version.clone(),
            schools: Arc::new(schools),
        })
    }

    /// The schools of the round's stage, by id.
    pub fn round_schools(&self) -> impl Iterator<Item = &School> {
        let stage = self.policy.stage();
        self.schools.values().filter(move |s| s.stage == stage)
    }

    /// A school's seats for the round's entry year.
    pub fn capacity_of(&self, school: &School) -> u32 {
        school.capacity_in(self.policy.entry_year())
    }
}
