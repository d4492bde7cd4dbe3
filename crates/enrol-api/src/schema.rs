//! Types that only describe a body or a parameter in the OpenAPI document:
//! the engine's own types parse the request (their errors name the field at
//! fault). Each says as much as JSON Schema can of what the server accepts;
//! what it cannot say (a national ID's checksum, a policy file that parses,
//! a seed that matches its commitment…) is listed in docs/api.md, "What the
//! schema cannot say". A request valid by these schemas is refused only for
//! one of those reasons.

#![allow(dead_code)] // they describe, they are never built

use std::borrow::Cow;
use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};
use utoipa::{PartialSchema, ToSchema};
use uuid::Uuid;

/// A national ID (GB 11643-1999, 居民身份证号码): 17 digits, the middle eight a
/// birth date, and a check character (ISO 7064 MOD 11-2; `X` or `x` for 10).
/// The server also checks that the date exists and the checksum.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[schema(as = NationalId, pattern = "^[0-9]{6}(18|19|20)[0-9]{2}(0[1-9]|1[0-2])(0[1-9]|[12][0-9]|3[01])[0-9]{3}[0-9Xx]$", example = "11010519491231002X")]
pub struct NationalIdSchema(String);

/// An application's id: a UUID, hyphenated.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[schema(
    as = ApplicationId,
    value_type = String,
    format = Uuid,
    pattern = "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$",
    example = "a0000000-0000-4000-8000-000000000001"
)]
pub struct ApplicationIdSchema(String);

/// A room-level address code (标准地址编码) `CCCCCC-SSS-BBBBB-UU-RRRR`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[schema(as = AddressCode, pattern = "^[0-9]{6}-[0-9]{3}-[0-9]{5}-[0-9]{2}-[0-9]{4}$", example = "370811-002-00007-03-0301")]
pub struct AddressCodeSchema(String);

/// A consent id: 1 to 64 visible ASCII characters (it travels to every
/// registry as the `X-Consent-Id` header).
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[schema(as = ConsentId, min_length = 1, max_length = 64, pattern = "^[!-~]{1,64}$", example = "CNS-2027-S001")]
pub struct ConsentIdSchema(String);

/// The application of formats.md, as the upstream app submits it. Every ID
/// must be a valid national ID (GB 11643-1999, checksum included); a repeated
/// entry counts once. No field carries a document; unknown fields are refused.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = Application)]
pub struct ApplicationSchema {
    /// Chosen by the app; the idempotency key.
    #[schema(value_type = ApplicationIdSchema)]
    pub application_id: Uuid,
    /// The round, e.g. `2027-primary`: one that was opened.
    pub round: String,
    pub child_id: NationalIdSchema,
    /// Must be the signed-in citizen (`X-Citizen-Id`).
    pub applicant_id: NationalIdSchema,
    /// Other guardians: at most 4 distinct IDs (a repeated ID counts once).
    #[schema(max_items = 4)]
    pub guardian_ids: Vec<NationalIdSchema>,
    /// Declared siblings: at most 8 distinct IDs (a repeated ID counts once).
    #[schema(max_items = 8)]
    pub sibling_ids: Vec<NationalIdSchema>,
    /// School ids, in order of preference: at most 20 distinct.
    #[schema(max_items = 20)]
    pub choices: Vec<String>,
    /// The consent every guardian gave in the app.
    pub consent_id: ConsentIdSchema,
    pub submitted_at: DateTime<Utc>,
}

/// A pre-check's body: an application (formats.md) without `application_id`
/// and `submitted_at`, under the same caps and formats.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = PrecheckRequest)]
pub struct PrecheckSchema {
    /// The round, e.g. `2027-primary`: one that was opened.
    pub round: String,
    pub child_id: NationalIdSchema,
    pub applicant_id: NationalIdSchema,
    /// At most 4 distinct IDs.
    #[schema(max_items = 4)]
    pub guardian_ids: Vec<NationalIdSchema>,
    /// At most 8 distinct IDs.
    #[schema(max_items = 8)]
    pub sibling_ids: Vec<NationalIdSchema>,
    /// School ids, in order of preference: at most 20 distinct.
    #[schema(max_items = 20)]
    pub choices: Vec<String>,
    pub consent_id: ConsentIdSchema,
}

/// What an officer established for an application in review.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(default)]
#[schema(as = OfficerFacts)]
pub struct OfficerFactsSchema {
    /// Address texts that did not resolve → the room-level code the officer established.
    pub resolved_addresses: BTreeMap<String, AddressCodeSchema>,
    /// Delayed enrolment (缓学) of an older child approved.
    pub delayed_enrolment_approved: bool,
    /// Guardians the officer confirmed though the birth certificate does not name them.
    pub guardianship_confirmed: Vec<NationalIdSchema>,
    /// A child already at a school allowed to proceed.
    pub current_place_cleared: bool,
    /// A birth-date disagreement the officer settled.
    pub birth_date_confirmed: bool,
}

/// Opens a round: a live round with `seed_commitment`, or (on a development
/// server only) a demo or audit round with its whole `round_seed`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(untagged)]
#[schema(as = CreateRound)]
pub enum CreateRoundSchema {
    Live(LiveRoundSchema),
    Whole(WholeSeedRoundSchema),
}

/// A live round: the seed is sealed, its SHA-256 published now.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = LiveRound)]
pub struct LiveRoundSchema {
    /// The policy file (TOML, docs/policy.md), verbatim; its `round` is the round's id.
    #[schema(min_length = 1)]
    policy_toml: String,
    /// SHA-256 (64 hex digits) of the sealed secret the round manager keeps until allocation.
    #[schema(pattern = "^[0-9a-fA-F]{64}$")]
    seed_commitment: String,
}

/// A demo or audit round that takes its seed whole (`enrol serve --dev` only).
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = WholeSeedRound)]
pub struct WholeSeedRoundSchema {
    /// The policy file (TOML, docs/policy.md), verbatim; its `round` is the round's id.
    #[schema(min_length = 1)]
    policy_toml: String,
    /// The whole round seed.
    #[schema(min_length = 1)]
    round_seed: String,
}

/// Reveals the seed at allocation: both fields for a live round; neither
/// (an empty object, or no body) for a round that took its seed whole.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(untagged)]
#[schema(as = AllocateRound)]
pub enum AllocateRoundSchema {
    Reveal(SeedRevealSchema),
    Nothing(NoRevealSchema),
}

/// The seed of a live round, revealed.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = SeedReveal)]
pub struct SeedRevealSchema {
    /// The secret committed at open: at least 32 hex digits.
    #[schema(pattern = "^[0-9a-fA-F]{32,}$")]
    sealed_seed: String,
    /// The value drawn in public after close (公证摇号): not blank.
    #[schema(pattern = "[^\\s\\u0085]")]
    public_draw: String,
}

/// Nothing to reveal: the round took its seed whole.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = NoReveal)]
pub struct NoRevealSchema {}

/// An officer's resolution of a review: `accept` decides again with the
/// facts the officer established and a note; `reject` leaves the
/// application unplaced, with a reason told to the family.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(untagged)]
#[schema(as = ResolveReview)]
pub enum ResolveReviewSchema {
    Accept(AcceptReviewSchema),
    Reject(RejectReviewSchema),
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AcceptTag {
    Accept,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RejectTag {
    Reject,
}

/// Accepts the application with the facts the officer established.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = AcceptReview)]
pub struct AcceptReviewSchema {
    #[schema(inline)]
    resolution: AcceptTag,
    /// The facts established.
    #[serde(default)]
    facts: Option<OfficerFactsSchema>,
    /// The officer's note, kept in the audit log: not blank.
    #[schema(pattern = "[^\\s\\u0085]")]
    note: String,
}

/// Rejects the application: it stays unplaced.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = RejectReview)]
pub struct RejectReviewSchema {
    #[schema(inline)]
    resolution: RejectTag,
    /// The reason, told to the family: not blank.
    #[schema(pattern = "[^\\s\\u0085]")]
    reason: String,
}

/// Excludes an application from its round, with a reason told to the family.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = Exclusion)]
pub struct ExclusionSchema {
    pub application_id: ApplicationIdSchema,
    /// Told to the family: not blank.
    #[schema(pattern = "[^\\s\\u0085]")]
    pub reason: String,
}

/// Corrects a seat after publication (更正): a new, audited event. `school_id`
/// `null` takes the seat away; a school places the child there if it has a
/// free seat.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = SeatCorrection)]
pub struct SeatCorrectionSchema {
    pub application_id: ApplicationIdSchema,
    #[serde(default)]
    pub school_id: Option<String>,
    /// Why, kept in the audit log and told to the family: not blank.
    #[schema(pattern = "[^\\s\\u0085]")]
    pub reason: String,
}

/// A corrected registry record: where it came from, when, and the record in
/// the registry's own format (registries.md), which this document does not repeat.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[schema(as = FetchedRecord)]
pub struct FetchedSchema {
    #[schema(value_type = Object)]
    pub source: serde_json::Value,
    pub fetched_at: DateTime<Utc>,
    /// The record (an object, or a list of them for holdings, unit uses,
    /// insurance months and address matches).
    #[schema(value_type = Value)]
    pub record: serde_json::Value,
}

/// Corrected records in the evidence snapshot's own shape: each entry
/// replaces the snapshot's entry under that key (a national ID, a unit
/// number, an address text or a building key).
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = RecordCorrections)]
pub struct RecordCorrectionsSchema {
    #[serde(default)]
    pub birth_certificates: BTreeMap<String, FetchedSchema>,
    #[serde(default)]
    pub household_records: BTreeMap<String, FetchedSchema>,
    #[serde(default)]
    pub holdings: BTreeMap<String, FetchedSchema>,
    #[serde(default)]
    pub unit_uses: BTreeMap<String, FetchedSchema>,
    #[serde(default)]
    pub permits: BTreeMap<String, FetchedSchema>,
    #[serde(default)]
    pub insurance_months: BTreeMap<String, FetchedSchema>,
    #[serde(default)]
    pub current_places: BTreeMap<String, FetchedSchema>,
    #[serde(default)]
    pub address_matches: BTreeMap<String, FetchedSchema>,
    #[serde(default)]
    pub buildings: BTreeMap<String, FetchedSchema>,
}

/// The name of an export file (`GET /v1/rounds/{round}/exports/{file}`): one of
/// [`crate::EXPORTS`].
pub struct ExportFileSchema;

impl PartialSchema for ExportFileSchema {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .enum_values(Some(crate::exports::EXPORTS.iter().map(|(name, _)| *name)))
            .into()
    }
}

impl ToSchema for ExportFileSchema {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("ExportFile")
    }
}
