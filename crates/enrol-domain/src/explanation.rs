//! "Why not a better tier" (为何未获更优类别): for a school where the child has
//! less than the policy's best tier, the first clause of each better tier that
//! the evidence fails, with the records it rests on. Served beside the
//! decision; never part of `decisions.jsonl`, whose format formats.md fixes.

use serde::{Deserialize, Serialize};

use crate::SchoolId;

/// One better tier the child does not hold at one school, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TierShortfall {
    pub school_id: SchoolId,
    /// The priority the child holds at the school (a tier's name), or `None`
    /// for a public school the family chose where no tier holds (a dropped choice).
    pub held: Option<String>,
    /// The better tier's name from the policy file.
    pub tier: String,
    /// The first clause of the tier that fails: a fact of the policy's
    /// vocabulary (`city_hukou`, `family_property`, ...), `dwelling` (no
    /// dwelling of the tier's kind) or `zoned` (no such dwelling is zoned for the school).
    pub clause: String,
    pub zh: String,
    pub en: String,
    /// The records the finding rests on, as `registry:record`.
    pub evidence: Vec<String>,
}
