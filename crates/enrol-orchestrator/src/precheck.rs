//! The pre-check (免申即享): what the engine would decide for an application
//! now, before it is submitted. Evidence is gathered exactly as verification
//! gathers it (the same source, the rules' own read plan); nothing is stored
//! but the registry access records.
//!
//! Only a parent named on the child's birth certificate who is also named in
//! the application (its applicant or a guardian) is answered about the
//! child; anyone else gets exactly the answer for a child the birth registry
//! does not know. A citizen the application does not name causes no read at
//! all; one it names who proves not to be a parent causes only the
//! certificate read, as the rules' plan stops there.

use chrono::{DateTime, Utc};
use enrol_domain::{
    Application, Decision, EvidenceBundle, Fetched, NationalId, RecordRef, Registry, SchoolCatalogue, TierShortfall,
};
use enrol_rules::Policy;
use serde::Serialize;

use crate::context::RoundContext;
use crate::decide::{AccessContext, store_accesses};
use crate::error::RoundError;
use crate::round::{Orchestrator, load_round};
use crate::source::{Access, Evidence, EvidenceSource};

/// A fact the pre-check could not learn in time (a registry stayed down or slow).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UnknownFact {
    /// `registry:record`, as reasons cite records.
    pub record: String,
    pub zh: String,
    pub en: String,
}

/// The answer of a pre-check.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Precheck {
    /// The decision as the rules would make it now (no lottery number). With
    /// facts still unknown it is not made: `None`.
    pub decision: Option<Decision>,
    /// "Why not a better tier" for that decision.
    pub why_not_better_tier: Vec<TierShortfall>,
    /// Facts still unknown when the answer was given; empty when the decision is made.
    pub unknown_facts: Vec<UnknownFact>,
}

fn describe(record: &RecordRef) -> (String, String) {
    let (zh, en) = match record.registry {
        Registry::Hukou => ("户籍登记", "household registration"),
        Registry::Birth => ("出生医学证明", "birth certificate"),
        Registry::Property => ("不动产登记", "property records"),
        Registry::Residence => ("居住证", "residence permit"),
        Registry::Insurance => ("社保缴费", "social insurance months"),
        Registry::Zones => ("学区划片", "school zones"),
        _ => ("登记记录", "registry record"),
    };
    (
        format!("{zh}（{}）暂时无法查询，结果未定", record.record),
        format!(
            "the {en} of {} could not be read in time; the answer is not settled",
            record.record
        ),
    )
}

/// The fixed instant a pre-check's synthetic certificate answer is dated:
/// no answer depends on it.
fn epoch() -> DateTime<Utc> {
    DateTime::<Utc>::UNIX_EPOCH
}

impl Orchestrator {
    /// Pre-checks `app` for `citizen` (see the module docs). The round's
    /// policy and, once fixed at verification, its school catalogue decide;
    /// before that the catalogue is read from the source. The registry
    /// accesses are stored under `actor`; nothing else is.
    pub async fn precheck(
        &self,
        app: &Application,
        citizen: &NationalId,
        actor: &str,
        source: &dyn EvidenceSource,
    ) -> Result<Precheck, RoundError> {
        let row = load_round(self.store.connection(), app.round.as_str()).await?;
        let mut accesses = Vec::new();
        let round = if row.schools_json.is_some() {
            RoundContext::from_row(&row)?
        } else {
            let read = self.journaled(&row.id, None, actor, source.school_catalogue()).await;
            accesses.extend(read.accesses);
            match read.value {
                Ok(catalogue) => RoundContext::with_schools(&row, row.state.parse()?, catalogue)?,
                Err(err) => {
                    self.store_precheck_accesses(&row.id, actor, &accesses).await?;
                    return Err(RoundError::Catalogue(Box::new(err)));
                }
            }
        };
        let (policy, schools) = (&*round.policy, &*round.schools);
        if !app.guardians().contains(&citizen) {
            self.store_precheck_accesses(&row.id, actor, &accesses).await?;
            return Ok(unknown_child(app, policy, schools));
        }
        let gathered = self
            .journaled(
                &row.id,
                None,
                actor,
                source.gather(app, EvidenceBundle::default(), &round),
            )
            .await;
        accesses.extend(gathered.accesses);
        self.store_precheck_accesses(&row.id, actor, &accesses).await?;
        let (bundle, complete) = match gathered.value {
            Evidence::Complete(bundle) => (bundle, true),
            Evidence::Incomplete { bundle, .. } => (bundle, false),
        };
        let certificate = bundle.birth_certificates.get(&app.child_id).map(|f| f.record.as_ref());
        match certificate {
            // Known not to be a parent, or no certificate: the unknown child's answer.
            Some(Some(c)) if !c.names_parent(citizen) => return Ok(unknown_child(app, policy, schools)),
            Some(None) => return Ok(unknown_child(app, policy, schools)),
            _ => {}
        }
        if !complete {
            let unknown_facts = enrol_rules::plan_reads(app, &bundle, policy, schools)
                .iter()
                .map(|read| {
                    let record = read.record_ref();
                    let (zh, en) = describe(&record);
                    UnknownFact {
                        record: record.to_string(),
                        zh,
                        en,
                    }
                })
                .collect();
            return Ok(Precheck {
                decision: None,
                why_not_better_tier: Vec::new(),
                unknown_facts,
            });
        }
        let evaluation = enrol_rules::evaluate(app, &bundle, policy, schools, None);
        Ok(Precheck {
            decision: Some(evaluation.decision),
            why_not_better_tier: enrol_rules::explain(app, &bundle, policy, schools),
            unknown_facts: Vec::new(),
        })
    }

    /// The pre-check's registry accesses, the one thing it stores.
    async fn store_precheck_accesses(
        &self,
        round_id: &str,
        actor: &str,
        accesses: &[Access],
    ) -> Result<(), RoundError> {
        if accesses.is_empty() {
            return Ok(());
        }
        let tx = self.store.begin_write().await?;
        let context = AccessContext {
            round_id,
            application_id: None,
            actor,
        };
        store_accesses(&tx, context, accesses).await?;
        tx.commit().await?;
        Ok(())
    }
}

/// The answer for a child the birth registry does not know: the rules'
/// decision on a missing certificate, whatever the registries hold.
fn unknown_child(app: &Application, policy: &Policy, schools: &SchoolCatalogue) -> Precheck {
    let mut bundle = EvidenceBundle::default();
    bundle.birth_certificates.insert(
        app.child_id.clone(),
        Fetched {
            source: RecordRef::new(Registry::Birth, &app.child_id),
            fetched_at: epoch(),
            record: None,
        },
    );
    let evaluation = enrol_rules::evaluate(app, &bundle, policy, schools, None);
    Precheck {
        decision: Some(evaluation.decision),
        why_not_better_tier: Vec::new(),
        unknown_facts: Vec::new(),
    }
}
