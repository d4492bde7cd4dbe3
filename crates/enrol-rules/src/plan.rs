//! Which registry reads a decision still needs (the evidence gatherer's loop:
//! plan → read → add to the bundle → plan again).

use enrol_domain::{Application, EvidenceBundle, EvidenceRead, SchoolCatalogue};

use crate::analysis::{self, Ctx, Outcome};
use crate::policy::Policy;

/// The reads still needed to decide `app`, given what `bundle` already holds:
/// deduplicated and sorted; empty when the bundle is complete for a decision.
///
/// Pure. The reads follow policy.md: the child's certificate first and alone;
/// nothing more once the status is settled as other than eligible (so nothing
/// after a guardian proves not to be a parent); the records of the child, the
/// guardians and the declared siblings only; no permit or insurance read for a
/// child with city hukou; only the addresses that matter are resolved; zones,
/// seat uses, the guardians' households and the siblings are read only once the
/// child is eligible. docs/rules.md lists each read and when it is made.
pub fn plan_reads(
    app: &Application,
    bundle: &EvidenceBundle,
    policy: &Policy,
    schools: &SchoolCatalogue,
) -> Vec<EvidenceRead> {
    let ctx = Ctx {
        app,
        bundle,
        policy,
        schools,
    };
    match analysis::analyse(ctx) {
        Outcome::Need(reads) => reads.into_iter().collect(),
        Outcome::Settled(_) => Vec::new(),
    }
}
