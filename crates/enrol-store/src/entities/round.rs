//! 招生批次: one admission round and its state.

use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "rounds")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    /// `open`, `closed`, `verified`, `allocated` or `published`.
    pub state: String,
    /// The policy file the round runs under, verbatim.
    pub policy_toml: String,
    /// SHA-256 of `policy_toml`: the policy version decisions cite.
    pub policy_version: String,
    /// SHA-256 of the sealed seed, published at open.
    pub seed_commitment: String,
    /// The sealed seed, kept secret until allocation.
    pub sealed_seed: Option<String>,
    /// The value drawn in public (公证摇号) and entered at allocation.
    pub public_draw: Option<String>,
    /// `{sealed}-{public}`, or the whole seed of a demo or audit round.
    pub round_seed: Option<String>,
    /// The zone registry's school catalogue as read at verification (JSON).
    pub schools_json: Option<String>,
    /// The allocation instance of formats.md the seats were computed from.
    pub instance_json: Option<String>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

impl ActiveModelBehavior for ActiveModel {}
