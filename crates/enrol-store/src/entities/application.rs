//! Applications as submitted, with their lifecycle state.

use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "applications")]
pub struct Model {
    /// The app's `application_id` (a UUID, hyphenated lower case).
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub round_id: String,
    pub child_id: String,
    pub applicant_id: String,
    /// `child_id` while the application is live, `NULL` once withdrawn or
    /// excluded: a unique index on (`round_id`, `live_child_id`) keeps one
    /// live application per child, on both backends (NULLs never collide).
    pub live_child_id: Option<String>,
    /// The application JSON of formats.md, canonicalised.
    pub body: String,
    /// Lifecycle state of formats.md.
    pub state: String,
    /// The verification worker holding the application (a claim), if any.
    pub claimed_by: Option<String>,
    /// Until when the claim holds; an expired claim may be taken over.
    pub lease_until: Option<DateTimeUtc>,
    /// Filed while the child had a live application and the birth registry
    /// did not answer in time: not live (`live_child_id` is `NULL`) until
    /// verification settles which of the two stands (policy.md, "Who may
    /// apply for a child").
    pub precedence_unsettled: bool,
    pub received_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

impl ActiveModelBehavior for ActiveModel {}
