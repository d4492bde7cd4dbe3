//! Answers a family is owed beside its decision and seat: "why not a better
//! tier" (from the stored evidence snapshot, under the round's policy), each
//! school's cutoff once allocated, and, for every school it ranked above its
//! seat, its own standing beside that cutoff. Nothing here changes the store.

use std::collections::BTreeMap;

use enrol_allocation::{AboveSeat, Allocation, Cutoff, Instance};
use enrol_domain::{Application, EvidenceBundle, SchoolCatalogue, TierShortfall};
use enrol_rules::Policy;
use enrol_store::sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use enrol_store::{assignment, decision, evidence_snapshot, round};

use crate::error::{Corrupt, RoundError, Stored, decode};
use crate::round::{Orchestrator, RoundState, load_round};
use crate::submit::{load_application, parse_body};

/// What the rules decided one application from: the application, its
/// evidence snapshot, the round's policy and school catalogue, and the
/// stored decision row.
pub(crate) struct Decided {
    pub app: Application,
    pub bundle: EvidenceBundle,
    pub policy: Policy,
    pub schools: SchoolCatalogue,
    pub row: decision::Model,
    pub round: round::Model,
}

/// Loads what an application's current decision was made from; `None`
/// before it is decided.
pub(crate) async fn decided<C: ConnectionTrait>(conn: &C, application_id: &str) -> Result<Option<Decided>, RoundError> {
    let app_row = load_application(conn, application_id).await?;
    let Some(row) = decision::Entity::find()
        .filter(decision::Column::CurrentFor.eq(application_id))
        .one(conn)
        .await?
    else {
        return Ok(None);
    };
    let missing = || Corrupt::MissingSnapshot {
        application: application_id.to_owned(),
        decision: row.id,
    };
    let snapshot_id = row.evidence_snapshot_id.ok_or_else(missing)?;
    let snapshot = evidence_snapshot::Entity::find_by_id(snapshot_id)
        .one(conn)
        .await?
        .ok_or_else(missing)?;
    let bundle: EvidenceBundle = decode(Stored::EvidenceSnapshot, application_id, &snapshot.bundle)?;
    let round = load_round(conn, &app_row.round_id).await?;
    if round.policy_version != row.policy_version {
        return Err(Corrupt::PolicyMismatch {
            application: application_id.to_owned(),
            cited: row.policy_version.clone(),
            runs: round.policy_version.clone(),
        }
        .into());
    }
    let policy = Policy::from_toml_str(&round.policy_toml)?;
    let json = round.schools_json.as_deref().ok_or_else(|| Corrupt::MissingCatalogue {
        round: round.id.clone(),
        state: round.state.clone(),
    })?;
    let schools: SchoolCatalogue = decode(Stored::SchoolCatalogue, &round.id, json)?;
    Ok(Some(Decided {
        app: parse_body(&app_row)?,
        bundle,
        policy,
        schools,
        row,
        round,
    }))
}

/// The stored instance and seats of an allocated round, as the mechanism
/// left them: seats given by overflow (route `overflow`) are in `overflow`.
pub(crate) async fn allocation_of<C: ConnectionTrait>(
    conn: &C,
    round: &round::Model,
) -> Result<Option<(Instance, Allocation)>, RoundError> {
    let state: RoundState = round.state.parse()?;
    let Some(json) = round
        .instance_json
        .as_deref()
        .filter(|_| state >= RoundState::Allocated)
    else {
        return Ok(None);
    };
    let instance = enrol_allocation::parse_instance(json)?;
    let rows = assignment::Entity::find()
        .filter(assignment::Column::RoundId.eq(round.id.as_str()))
        .all(conn)
        .await?;
    let mut assignments: BTreeMap<String, Option<String>> =
        instance.applicants.iter().map(|a| (a.id.clone(), None)).collect();
    let mut overflow = Vec::new();
    for row in rows {
        if let Some(seat) = assignments.get_mut(&row.application_id) {
            *seat = row.school_id.clone();
            if row.route == "overflow" {
                overflow.push(row.application_id);
            }
        }
    }
    overflow.sort();
    Ok(Some((instance, Allocation { assignments, overflow })))
}

impl Orchestrator {
    /// "Why not a better tier" for an application's current decision, from
    /// the evidence snapshot it was decided on, under the round's policy.
    /// Empty when the child is not eligible or holds the best tier
    /// everywhere; `None` before it is decided.
    pub async fn explanations(&self, application_id: &str) -> Result<Option<Vec<TierShortfall>>, RoundError> {
        let Some(d) = decided(self.store.connection(), application_id).await? else {
            return Ok(None);
        };
        Ok(Some(enrol_rules::explain(&d.app, &d.bundle, &d.policy, &d.schools)))
    }

    /// Every school's cutoff (the last child admitted by choice, or not
    /// full), in school id order, once the round is allocated; `None` before.
    pub async fn cutoffs(&self, round_id: &str) -> Result<Option<Vec<Cutoff>>, RoundError> {
        let conn = self.store.connection();
        let round = load_round(conn, round_id).await?;
        Ok(allocation_of(conn, &round)
            .await?
            .map(|(instance, allocation)| sorted(enrol_allocation::cutoffs(&instance, &allocation))))
    }

    /// Every school's cutoff line (the files' form: priority, key as text,
    /// school name), ascending school id, once the round is allocated.
    pub async fn cutoff_lines(&self, round_id: &str) -> Result<Vec<crate::CutoffLine>, RoundError> {
        let conn = self.store.connection();
        let round = load_round(conn, round_id).await?;
        let Some((instance, allocation)) = allocation_of(conn, &round).await? else {
            return Err(RoundError::WrongState {
                round: round.id,
                state: round.state,
                expected: "allocated or published",
            });
        };
        let policy = Policy::from_toml_str(&round.policy_toml)?;
        let schools: SchoolCatalogue = decode(
            Stored::SchoolCatalogue,
            &round.id,
            round.schools_json.as_deref().unwrap_or("{}"),
        )?;
        let cutoffs = enrol_allocation::cutoffs(&instance, &allocation);
        Ok(crate::cutoffs::cutoff_lines(&cutoffs, &schools, &policy))
    }

    /// For an application that took part in the allocation: every school it
    /// ranked above its seat, with its own key and lottery number beside the
    /// school's cutoff. `None` before allocation or when it took no part.
    pub async fn above_seat(&self, application_id: &str) -> Result<Option<Vec<AboveSeat>>, RoundError> {
        let conn = self.store.connection();
        let app = load_application(conn, application_id).await?;
        let round = load_round(conn, &app.round_id).await?;
        let Some((instance, allocation)) = allocation_of(conn, &round).await? else {
            return Ok(None);
        };
        let cutoffs = enrol_allocation::cutoffs(&instance, &allocation);
        Ok(enrol_allocation::above_seat(
            &instance,
            &allocation,
            &cutoffs,
            application_id,
        ))
    }
}

fn sorted(mut cutoffs: Vec<Cutoff>) -> Vec<Cutoff> {
    cutoffs.sort_by(|a, b| a.school.cmp(&b.school));
    cutoffs
}
