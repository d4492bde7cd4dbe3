//! The evidence source of a real round: the registry adapters of
//! `enrol-evidence`, driven by the rules' read plan.

use std::sync::Arc;

use enrol_domain::{Application, EvidenceBundle, SchoolCatalogue};
use enrol_evidence::{AccessLog, GatherOptions, GatherOutcome, Gatherer, Registries, RegistriesConfig};
use enrol_rules::Policy;

use crate::verify::{EvidenceSource, Gathered};

/// Reads the registries for a round, recording every access for the audit log.
#[derive(Debug, Clone)]
pub struct RegistryEvidence {
    registries: Registries,
    options: GatherOptions,
    accesses: Arc<AccessLog>,
}

impl RegistryEvidence {
    pub fn connect(config: &RegistriesConfig, options: GatherOptions) -> Result<Self, enrol_evidence::ConfigError> {
        let accesses = Arc::new(AccessLog::new());
        let registries = Registries::connect(config, accesses.clone())?;
        Ok(RegistryEvidence {
            registries,
            options,
            accesses,
        })
    }
}

impl EvidenceSource for RegistryEvidence {
    async fn school_catalogue(&self) -> Result<SchoolCatalogue, String> {
        self.registries.school_catalogue().await.map_err(|e| e.to_string())
    }

    async fn gather(
        &self,
        app: &Application,
        start: EvidenceBundle,
        policy: &Policy,
        schools: &SchoolCatalogue,
    ) -> Gathered {
        let (policy, schools) = (policy.clone(), schools.clone());
        let planner =
            move |app: &Application, bundle: &EvidenceBundle| enrol_rules::plan_reads(app, bundle, &policy, &schools);
        let gatherer = Gatherer::new(self.registries.clone(), planner, self.options);
        match gatherer.gather(app, start).await {
            GatherOutcome::Complete(bundle) => Gathered::Complete(bundle),
            GatherOutcome::Pending(incomplete) => Gathered::Incomplete {
                failure: serde_json::to_string(&incomplete.failure_records()).expect("serialisable"),
                bundle: incomplete.bundle,
            },
        }
    }

    fn drain_accesses(&self) -> Vec<serde_json::Value> {
        self.accesses
            .drain()
            .into_iter()
            .map(|a| serde_json::to_value(a).expect("serialisable"))
            .collect()
    }
}
