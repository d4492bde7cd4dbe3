//! Which registries a round's pending applications are waiting for (the
//! officers' dashboard): read from the failure each incomplete evidence
//! snapshot recorded. Nothing here changes the store.

use std::collections::{BTreeMap, BTreeSet};

use enrol_store::sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use enrol_store::{application, evidence_snapshot};

use crate::error::{RoundError, Stored, decode};
use crate::round::{Orchestrator, load_round};
use crate::submit::ApplicationState;

impl Orchestrator {
    /// For each registry a pending application of the round still waits
    /// for (its citation name, e.g. `hukou`; `engine` for a failure naming
    /// no registry), how many applications wait for it. An application
    /// waiting for two registries counts under both.
    pub async fn pending_registries(&self, round_id: &str) -> Result<BTreeMap<String, usize>, RoundError> {
        let conn = self.store.connection();
        load_round(conn, round_id).await?;
        let pending: BTreeSet<String> = application::Entity::find()
            .select_only()
            .column(application::Column::Id)
            .filter(application::Column::RoundId.eq(round_id))
            .filter(application::Column::State.eq(ApplicationState::Pending.as_str()))
            .into_tuple::<String>()
            .all(conn)
            .await?
            .into_iter()
            .collect();
        if pending.is_empty() {
            return Ok(BTreeMap::new());
        }
        // The latest snapshot of each application: ascending ids, later ones win.
        let snapshots: Vec<(String, bool, Option<String>)> = evidence_snapshot::Entity::find()
            .select_only()
            .column(evidence_snapshot::Column::ApplicationId)
            .column(evidence_snapshot::Column::Complete)
            .column(evidence_snapshot::Column::Failure)
            .filter(evidence_snapshot::Column::RoundId.eq(round_id))
            .order_by_asc(evidence_snapshot::Column::Id)
            .into_tuple()
            .all(conn)
            .await?;
        let mut latest: BTreeMap<String, Option<String>> = BTreeMap::new();
        for (id, complete, failure) in snapshots {
            if pending.contains(&id) {
                latest.insert(id, if complete { None } else { failure });
            }
        }
        let mut counts = BTreeMap::new();
        for (id, failure) in latest.into_iter().filter_map(|(id, f)| Some((id, f?))) {
            let records: Vec<serde_json::Value> = decode(Stored::EvidenceSnapshot, &id, &failure)?;
            let registries: BTreeSet<String> = records
                .iter()
                .map(|r| r["record"]["registry"].as_str().unwrap_or("engine").to_owned())
                .collect();
            for registry in registries {
                *counts.entry(registry).or_insert(0) += 1;
            }
        }
        Ok(counts)
    }
}
