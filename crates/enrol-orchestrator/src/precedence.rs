//! Parents first (policy.md, "Who may apply for a child"). Anyone may file
//! for a child, but the child's place in the round belongs to its parents:
//! an application by a parent named on the birth certificate supersedes a
//! live one by someone who is not a parent; between two parents (or two
//! non-parents) the first stands until it is withdrawn.
//!
//! The birth certificate is read only when it matters: when a submission
//! meets the child's live application (a first application needs no read).
//! It is read under the new application's consent, within
//! [`PARENTS_READ_DEADLINE`]. When the registry does not answer in time the
//! submission is stored all the same, not live and marked unsettled, and
//! verification settles it by the same rule from the certificate it reads
//! anyway. A family is never refused because a registry is down.
//!
//! The loser becomes `withdrawn` with an `application_superseded` audit
//! entry naming both applications; its filer sees only a reason that names
//! no one ([`SUPERSEDED_BY_PARENT`], [`EARLIER_STANDS`]).

use std::time::Duration;

use enrol_domain::{BirthCertificate, EvidenceBundle, Fetched, NationalId};
use enrol_store::application;
use enrol_store::sea_orm::ActiveValue::Set;
use enrol_store::sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter, QuerySelect};

use crate::error::RoundError;
use crate::submit::{ApplicationState, change_state};

/// How long a submission waits for the birth registry before it is stored
/// with its precedence left to verification.
pub const PARENTS_READ_DEADLINE: Duration = Duration::from_millis(1500);

/// The reason a superseded non-parent's application shows its filer.
pub const SUPERSEDED_BY_PARENT: &str = "孩子出生医学证明上的父母已为其报名，本申请被取代 / \
     superseded: a parent named on the child's birth certificate has applied for the child";

/// The reason an application settled at verification behind an earlier
/// one shows its filer.
pub const EARLIER_STANDS: &str = "本轮已有为该孩子提出的在先申请 / \
     an earlier application for this child stands in this round";

/// The audit action of both.
pub(crate) const SUPERSEDED: &str = "application_superseded";

/// Who the birth registry names as the child's parents, as far as known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Parents {
    /// The certificate's mother and father; nobody when the child has no
    /// certificate.
    Known(Vec<NationalId>),
    /// The registry gave no usable answer in time.
    Unknown,
}

impl Parents {
    pub(crate) fn of(certificate: Option<&BirthCertificate>) -> Parents {
        Parents::Known(
            certificate
                .into_iter()
                .flat_map(|c| [c.mother_id.clone(), c.father_id.clone()])
                .flatten()
                .collect(),
        )
    }

    /// From a submission's read: `None` is no answer in time.
    pub(crate) fn from_read(read: Option<Fetched<BirthCertificate>>) -> Parents {
        match read {
            Some(fetched) => Parents::of(fetched.record.as_ref()),
            None => Parents::Unknown,
        }
    }

    /// From verification's evidence. The rules read the child's
    /// certificate for every application (status case 1); a bundle
    /// without it names no parent.
    pub(crate) fn from_bundle(bundle: &EvidenceBundle, child: &NationalId) -> Parents {
        Parents::of(bundle.birth_certificates.get(child).and_then(|f| f.record.as_ref()))
    }

    fn names(parents: &[NationalId], person: &str) -> bool {
        parents.iter().any(|p| p.as_str() == person)
    }
}

/// How a submission that meets the child's live application is settled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Precedence {
    /// The new application takes the child's place; the live one is withdrawn.
    Supersedes,
    /// The live application stands; the new one is refused.
    Refused,
    /// Unknown until the certificate is read: stored, not live.
    Unsettled,
}

/// The rule, for a new application by `new_applicant` meeting a live one
/// by `live_applicant`. A filer meeting their own application is refused
/// without any read (they may withdraw it).
pub(crate) fn at_submission(parents: &Parents, new_applicant: &str, live_applicant: &str) -> Precedence {
    if new_applicant == live_applicant {
        return Precedence::Refused;
    }
    match parents {
        Parents::Unknown => Precedence::Unsettled,
        Parents::Known(parents) => {
            if Parents::names(parents, new_applicant) && !Parents::names(parents, live_applicant) {
                Precedence::Supersedes
            } else {
                Precedence::Refused
            }
        }
    }
}

/// Whether a submission needs the certificate: only when it meets another
/// filer's live application.
pub(crate) fn needs_parents(new_applicant: &str, live_applicant: &str) -> bool {
    new_applicant != live_applicant
}

/// What settling an unsettled application at verification came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Settled {
    /// It is now the child's live application: decide it.
    Live(Box<application::Model>),
    /// An earlier application stands: it was withdrawn, not to be decided.
    Withdrawn,
}

/// Settles an unsettled application at verification, in the caller's
/// transaction, which holds its row's lock and the round's (closed). The
/// child's live application, if any, is locked too: nothing else holds it
/// and waits for this one (an unsettled application is never live), so no
/// two transactions wait on each other.
///
/// On PostgreSQL two unsettled applications of one child settled at once
/// may both find no live one; the second to make itself live fails on the
/// unique index, and the caller retries in a new transaction (it then finds
/// the first live).
pub(crate) async fn settle<C: ConnectionTrait>(
    conn: &C,
    row: application::Model,
    parents: &Parents,
    actor: &str,
) -> Result<Settled, RoundError> {
    let live = application::Entity::find()
        .filter(application::Column::RoundId.eq(row.round_id.as_str()))
        .filter(application::Column::LiveChildId.eq(row.child_id.as_str()))
        .lock_exclusive()
        .one(conn)
        .await?;
    let Some(live) = live else {
        return Ok(Settled::Live(Box::new(make_live(conn, row).await?)));
    };
    let parents = match parents {
        Parents::Known(parents) => Parents::Known(parents.clone()),
        // Verification settles only on complete evidence.
        Parents::Unknown => Parents::Known(Vec::new()),
    };
    // The live application came first: this one wins only as a parent over a non-parent.
    match at_submission(&parents, &row.applicant_id, &live.applicant_id) {
        Precedence::Supersedes => {
            let details = serde_json::json!({"application": live.id, "superseded_by": row.id});
            change_state(
                conn,
                live,
                ApplicationState::Withdrawn,
                actor,
                SUPERSEDED,
                Some(SUPERSEDED_BY_PARENT.to_owned()),
                details,
            )
            .await?;
            Ok(Settled::Live(Box::new(make_live(conn, row).await?)))
        }
        Precedence::Refused | Precedence::Unsettled => {
            let details = serde_json::json!({"application": row.id, "stands": live.id});
            let mut active = row.into_active_model();
            active.precedence_unsettled = Set(false);
            active.claimed_by = Set(None);
            active.lease_until = Set(None);
            let row = enrol_store::sea_orm::ActiveModelTrait::update(active, conn).await?;
            change_state(
                conn,
                row,
                ApplicationState::Withdrawn,
                actor,
                SUPERSEDED,
                Some(EARLIER_STANDS.to_owned()),
                details,
            )
            .await?;
            Ok(Settled::Withdrawn)
        }
    }
}

async fn make_live<C: ConnectionTrait>(conn: &C, row: application::Model) -> Result<application::Model, RoundError> {
    let child = row.child_id.clone();
    let mut active = row.into_active_model();
    active.precedence_unsettled = Set(false);
    active.live_child_id = Set(Some(child));
    Ok(enrol_store::sea_orm::ActiveModelTrait::update(active, conn).await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(s: &str) -> NationalId {
        NationalId::parse(s).unwrap()
    }

    const MOTHER: &str = "370811198802150020";
    const FATHER: &str = "37081119860312003X";
    const GRANDMA: &str = "370811196001010045";
    const STRANGER: &str = "11010519491231002X";

    #[test]
    fn a_parent_supersedes_a_non_parent_and_nothing_else() {
        let parents = Parents::Known(vec![id(MOTHER), id(FATHER)]);
        assert_eq!(at_submission(&parents, MOTHER, STRANGER), Precedence::Supersedes);
        assert_eq!(at_submission(&parents, FATHER, GRANDMA), Precedence::Supersedes);
        // Between two parents the first stands.
        assert_eq!(at_submission(&parents, FATHER, MOTHER), Precedence::Refused);
        // A non-parent never displaces anyone.
        assert_eq!(at_submission(&parents, STRANGER, GRANDMA), Precedence::Refused);
        assert_eq!(at_submission(&parents, GRANDMA, MOTHER), Precedence::Refused);
        // One's own application: refused, whatever the registry says.
        assert_eq!(at_submission(&Parents::Unknown, MOTHER, MOTHER), Precedence::Refused);
        // No certificate: nobody is a parent, the first stands.
        assert_eq!(at_submission(&Parents::of(None), MOTHER, STRANGER), Precedence::Refused);
        // No answer: settled later.
        assert_eq!(
            at_submission(&Parents::Unknown, MOTHER, STRANGER),
            Precedence::Unsettled
        );
    }

    #[test]
    fn the_reasons_name_no_one() {
        for reason in [SUPERSEDED_BY_PARENT, EARLIER_STANDS] {
            assert!(!reason.chars().any(|c| c.is_ascii_digit()), "{reason}");
        }
    }
}
