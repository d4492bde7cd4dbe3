//! The round itself: creation, state transitions, the seed.

use std::fmt;
use std::str::FromStr;
use std::sync::{Arc, OnceLock};

use chrono::{DateTime, Utc};
use enrol_domain::SchoolCatalogue;
use enrol_rules::Policy;
use enrol_store::sea_orm::ActiveValue::Set;
use enrol_store::sea_orm::sea_query::Expr;
use enrol_store::sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use enrol_store::{AuditEntry, Store, append_audit, round};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::context::RoundContext;
use crate::error::{RoundError, Stored, unknown_value};
use crate::journal::Journal;
use crate::locks::lock_round_in;

/// The states of a round, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RoundState {
    /// Applications accepted and withdrawable.
    Open,
    /// The list of applications is fixed.
    Closed,
    /// Every application has evidence and a decision; reviews resolved.
    Verified,
    /// Lottery numbers computed and seats assigned.
    Allocated,
    /// Results visible to families.
    Published,
}

impl RoundState {
    pub fn as_str(self) -> &'static str {
        match self {
            RoundState::Open => "open",
            RoundState::Closed => "closed",
            RoundState::Verified => "verified",
            RoundState::Allocated => "allocated",
            RoundState::Published => "published",
        }
    }
}

impl fmt::Display for RoundState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for RoundState {
    type Err = RoundError;
    fn from_str(s: &str) -> Result<Self, RoundError> {
        Ok(match s {
            "open" => RoundState::Open,
            "closed" => RoundState::Closed,
            "verified" => RoundState::Verified,
            "allocated" => RoundState::Allocated,
            "published" => RoundState::Published,
            other => return Err(unknown_value(Stored::RoundState, "a round", other).into()),
        })
    }
}

/// How a round gets its seed (policy.md, "Lottery number").
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RoundSeed {
    /// A live round: the round manager commits SHA-256 of a sealed secret at
    /// open; the secret and the public draw are entered at allocation.
    Committed { commitment: String },
    /// A demo or audit round takes its round seed whole.
    Whole(String),
}

/// What anyone may see of a round.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RoundInfo {
    pub id: String,
    pub state: RoundState,
    pub policy_version: String,
    /// SHA-256 (hex) of the sealed seed, or of the whole seed.
    pub seed_commitment: String,
    /// Revealed once the round is allocated.
    pub round_seed: Option<String>,
    pub public_draw: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

pub(crate) fn sha256_hex(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

/// Runs admission rounds over a store.
#[derive(Debug, Clone)]
pub struct Orchestrator {
    pub(crate) store: Store,
    /// The access journal's task, started on first use, shared by clones.
    pub(crate) journal: Arc<OnceLock<Journal>>,
}

pub(crate) fn now() -> DateTime<Utc> {
    Utc::now()
}

impl Orchestrator {
    pub fn new(store: Store) -> Self {
        Orchestrator {
            store,
            journal: Arc::default(),
        }
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Opens a round under a policy file.
    pub async fn create_round(&self, policy_toml: &str, seed: RoundSeed, actor: &str) -> Result<RoundInfo, RoundError> {
        let policy = Policy::from_toml_str(policy_toml)?;
        let round_id = policy.round_id().to_string();
        let (commitment, whole) = match seed {
            RoundSeed::Committed { commitment } => {
                let c = commitment.to_ascii_lowercase();
                if c.len() != 64 || !c.bytes().all(|b| b.is_ascii_hexdigit()) {
                    return Err(RoundError::Seed(format!(
                        "the seed commitment must be a SHA-256 in 64 hex digits, not {commitment:?}"
                    )));
                }
                (c, None)
            }
            RoundSeed::Whole(seed) => {
                if seed.is_empty() {
                    return Err(RoundError::Seed("the round seed is empty".to_owned()));
                }
                (sha256_hex(&seed), Some(seed))
            }
        };
        let at = now();
        let tx = self.store.begin_write().await?;
        if round::Entity::find_by_id(&round_id).one(&tx).await?.is_some() {
            return Err(RoundError::RoundExists(round_id));
        }
        let row = round::ActiveModel {
            id: Set(round_id.clone()),
            state: Set(RoundState::Open.as_str().to_owned()),
            policy_toml: Set(policy_toml.to_owned()),
            policy_version: Set(sha256_hex(policy_toml)),
            seed_commitment: Set(commitment.clone()),
            sealed_seed: Set(None),
            public_draw: Set(None),
            // A whole seed is kept from the start but shown only once allocated.
            round_seed: Set(whole.clone()),
            schools_json: Set(None),
            instance_json: Set(None),
            created_at: Set(at),
            updated_at: Set(at),
        }
        .insert(&tx)
        .await
        .map_err(|err| {
            if enrol_store::is_unique_violation(&err) {
                RoundError::RoundExists(round_id.clone())
            } else {
                err.into()
            }
        })?;
        append_audit(
            &tx,
            at,
            AuditEntry {
                round_id: Some(round_id.clone()),
                actor: actor.to_owned(),
                action: "round_opened".to_owned(),
                subject: None,
                reason: None,
                details: serde_json::json!({
                    "policy_version": row.policy_version,
                    "seed_commitment": commitment,
                    "seed_mode": if whole.is_some() { "whole" } else { "committed" },
                    // A whole seed is for demo and audit rounds; a live round is sealed.
                    "round_kind": if whole.is_some() { "demo_or_audit" } else { "live" },
                }),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(info(row))
    }

    pub async fn round(&self, round_id: &str) -> Result<RoundInfo, RoundError> {
        Ok(info(load_round(self.store.connection(), round_id).await?))
    }

    /// The round's policy, as stored at open.
    pub async fn policy(&self, round_id: &str) -> Result<Policy, RoundError> {
        let row = load_round(self.store.connection(), round_id).await?;
        Ok(Policy::from_toml_str(&row.policy_toml)?)
    }

    /// The school catalogue fixed at verification, if read yet.
    pub async fn schools(&self, round_id: &str) -> Result<Option<SchoolCatalogue>, RoundError> {
        match self.context(round_id).await {
            Ok(context) => Ok(Some((*context.schools).clone())),
            Err(RoundError::NoCatalogue { .. }) => Ok(None),
            Err(err) => Err(err),
        }
    }

    /// The round's context (policy, version, school catalogue), decoded once.
    /// Refused with [`RoundError::NoCatalogue`] before verification has read
    /// the catalogue.
    pub async fn context(&self, round_id: &str) -> Result<RoundContext, RoundError> {
        RoundContext::from_row(&load_round(self.store.connection(), round_id).await?)
    }

    /// open → closed: no more applications or withdrawals.
    pub async fn close(&self, round_id: &str, actor: &str) -> Result<RoundInfo, RoundError> {
        self.transition(
            round_id,
            RoundState::Open,
            RoundState::Closed,
            actor,
            "round_closed",
            serde_json::json!({}),
        )
        .await
    }

    /// allocated → published: results become visible to families.
    pub async fn publish(&self, round_id: &str, actor: &str) -> Result<RoundInfo, RoundError> {
        let tx = self.store.begin_write().await?;
        let row = lock_round_in(&tx, round_id, RoundState::Allocated).await?;
        crate::submit::mark_published(&tx, round_id).await?;
        let info = set_state(
            &tx,
            row,
            RoundState::Published,
            actor,
            "round_published",
            serde_json::json!({}),
        )
        .await?;
        tx.commit().await?;
        Ok(info)
    }

    pub(crate) async fn transition(
        &self,
        round_id: &str,
        from: RoundState,
        to: RoundState,
        actor: &str,
        action: &str,
        details: serde_json::Value,
    ) -> Result<RoundInfo, RoundError> {
        let tx = self.store.begin_write().await?;
        let row = lock_round_in(&tx, round_id, from).await?;
        let info = set_state(&tx, row, to, actor, action, details).await?;
        tx.commit().await?;
        // Officers' names only: a round's transitions are never a family's.
        tracing::info!(round = %round_id, from = from.as_str(), to = to.as_str(), actor, action, "round transition");
        Ok(info)
    }
}

pub(crate) async fn load_round<C: ConnectionTrait>(conn: &C, round_id: &str) -> Result<round::Model, RoundError> {
    round::Entity::find_by_id(round_id)
        .one(conn)
        .await?
        .ok_or_else(|| RoundError::UnknownRound(round_id.to_owned()))
}

pub(crate) async fn set_state<C: ConnectionTrait>(
    conn: &C,
    row: round::Model,
    to: RoundState,
    actor: &str,
    action: &str,
    details: serde_json::Value,
) -> Result<RoundInfo, RoundError> {
    let at = now();
    let round_id = row.id.clone();
    let from = row.state.clone();
    // Only the state and its time are written, and nothing is read back:
    // the row may carry a city's allocation instance.
    round::Entity::update_many()
        .col_expr(round::Column::State, Expr::value(to.as_str()))
        .col_expr(round::Column::UpdatedAt, Expr::value(at))
        .filter(round::Column::Id.eq(round_id.as_str()))
        .exec(conn)
        .await?;
    let row = round::Model {
        state: to.as_str().to_owned(),
        updated_at: at,
        ..row
    };
    let mut details = details;
    if let serde_json::Value::Object(map) = &mut details {
        map.insert("from".to_owned(), from.into());
        map.insert("to".to_owned(), to.as_str().into());
    }
    append_audit(
        conn,
        at,
        AuditEntry {
            round_id: Some(round_id),
            actor: actor.to_owned(),
            action: action.to_owned(),
            subject: None,
            reason: None,
            details,
        },
    )
    .await?;
    Ok(info(row))
}

pub(crate) fn info(row: round::Model) -> RoundInfo {
    let state = row.state.parse().unwrap_or(RoundState::Open);
    let revealed = state >= RoundState::Allocated;
    RoundInfo {
        id: row.id,
        state,
        policy_version: row.policy_version,
        seed_commitment: row.seed_commitment,
        round_seed: if revealed { row.round_seed } else { None },
        public_draw: row.public_draw,
        created_at: row.created_at,
        updated_at: row.updated_at,
    }
}
