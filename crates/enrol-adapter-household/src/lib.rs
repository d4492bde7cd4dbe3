//! The household registry (公安户籍, `/hukou/v1`) and the birth registry
//! (卫健 出生医学证明, `/birth/v1`): who a person is registered with and where,
//! and who a child's parents are.
//!
//! Each answer is checked against the question before it becomes evidence: a
//! record about someone other than the person asked for, or a body that
//! breaks the registry's format, is a [`ReadError`] (unusable), never
//! evidence. A well-formed record is read as it stands, however odd
//! (registries.md, "Dirty records"); `docs/adapters.md` lists every check.

use chrono::NaiveDate;
use enrol_domain::{
    BirthCertificate, CertificateNo, ConsentId, CountyCode, Fetched, HouseholdNo, HouseholdRecord, MaskedName,
    NationalId, RecordRef, Registry, RelationToHead,
};
use enrol_registry_client::wire::{WireAddress, non_blank};
use enrol_registry_client::{ReadError, RegistryClient, RegistryClients, Reply};
use serde::Deserialize;

/// Client of the household and birth registries.
#[derive(Debug, Clone)]
pub struct HouseholdAdapter {
    hukou: RegistryClient,
    birth: RegistryClient,
}

impl HouseholdAdapter {
    pub fn new(clients: &RegistryClients) -> Self {
        HouseholdAdapter {
            hukou: clients.get(Registry::Hukou).clone(),
            birth: clients.get(Registry::Birth).clone(),
        }
    }

    /// `GET /hukou/v1/persons/{id}`: the person's household registration, or
    /// none (registered outside the province).
    pub async fn household_record(
        &self,
        person_id: &NationalId,
        consent: &ConsentId,
    ) -> Result<Fetched<HouseholdRecord>, ReadError> {
        let record = RecordRef::new(Registry::Hukou, person_id);
        self.hukou
            .get_parsed(&["persons", person_id.as_str()], &[], Some(consent), &record, |reply| {
                household_record_from_reply(person_id, reply)
            })
            .await
    }

    /// `GET /birth/v1/certificates/{child_id}`: the child's birth certificate, or none.
    pub async fn birth_certificate(
        &self,
        child_id: &NationalId,
        consent: &ConsentId,
    ) -> Result<Fetched<BirthCertificate>, ReadError> {
        let record = RecordRef::new(Registry::Birth, child_id);
        self.birth
            .get_parsed(
                &["certificates", child_id.as_str()],
                &[],
                Some(consent),
                &record,
                |reply| birth_certificate_from_reply(child_id, reply),
            )
            .await
    }
}

/// `relation_to_head` on the wire.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "snake_case")]
enum WireRelation {
    Head,
    Spouse,
    Child,
    Grandchild,
    Parent,
    Grandparent,
    Other,
}

impl From<WireRelation> for RelationToHead {
    fn from(r: WireRelation) -> Self {
        match r {
            WireRelation::Head => RelationToHead::Head,
            WireRelation::Spouse => RelationToHead::Spouse,
            WireRelation::Child => RelationToHead::Child,
            WireRelation::Grandchild => RelationToHead::Grandchild,
            WireRelation::Parent => RelationToHead::Parent,
            WireRelation::Grandparent => RelationToHead::Grandparent,
            WireRelation::Other => RelationToHead::Other,
        }
    }
}

/// A person of `/hukou/v1/persons/{id}`. `name` and `sex` are not read: the
/// rules do not need them (数据最小化).
#[derive(Debug, Deserialize)]
struct WirePerson {
    id: NationalId,
    #[serde(deserialize_with = "enrol_registry_client::wire::date")]
    birth_date: NaiveDate,
    household_no: String,
    relation_to_head: WireRelation,
    #[serde(deserialize_with = "enrol_registry_client::wire::date")]
    registered_on: NaiveDate,
    region: CountyCode,
    address: WireAddress,
}

/// A certificate of `/birth/v1/certificates/{child_id}`.
#[derive(Debug, Deserialize)]
struct WireCertificate {
    certificate_no: String,
    child_id: NationalId,
    #[serde(deserialize_with = "enrol_registry_client::wire::date")]
    birth_date: NaiveDate,
    mother_id: Option<NationalId>,
    father_id: Option<NationalId>,
    /// Kept only masked (公示); optional, so a registry that leaves it out
    /// still gives a certificate.
    #[serde(default)]
    child_name: Option<String>,
}

/// Maps the household registry's answer about `asked` into evidence.
pub fn household_record_from_reply(asked: &NationalId, reply: &Reply) -> Result<Fetched<HouseholdRecord>, ReadError> {
    let source = RecordRef::new(Registry::Hukou, asked);
    let record = match reply.decode::<WirePerson>(&source)? {
        None => None,
        Some(p) => {
            if &p.id != asked {
                return Err(ReadError::contradictory(
                    &source,
                    format!("asked for {asked}, answered about {}", p.id),
                ));
            }
            Some(HouseholdRecord {
                birth_date: p.birth_date,
                household_no: HouseholdNo::new(non_blank(&source, "household_no", p.household_no)?),
                relation_to_head: p.relation_to_head.into(),
                registered_on: p.registered_on,
                region: p.region,
                address: p.address.into_domain(&source, "address")?,
                id: p.id,
            })
        }
    };
    Ok(Fetched {
        source,
        fetched_at: reply.received_at,
        record,
    })
}

/// Maps the birth registry's answer about `asked` into evidence.
pub fn birth_certificate_from_reply(asked: &NationalId, reply: &Reply) -> Result<Fetched<BirthCertificate>, ReadError> {
    let source = RecordRef::new(Registry::Birth, asked);
    let record = match reply.decode::<WireCertificate>(&source)? {
        None => None,
        Some(c) => {
            if &c.child_id != asked {
                return Err(ReadError::contradictory(
                    &source,
                    format!(
                        "asked for the certificate of {asked}, answered with that of {}",
                        c.child_id
                    ),
                ));
            }
            // A certificate that names the child as its own parent, or one
            // person as both parents, is read as it stands (registries.md,
            // "Dirty records"): a parent is whoever it names, so such a
            // slot simply proves no guardian a parent.
            Some(BirthCertificate {
                certificate_no: CertificateNo::new(non_blank(&source, "certificate_no", c.certificate_no)?),
                child_id: c.child_id,
                birth_date: c.birth_date,
                mother_id: c.mother_id,
                father_id: c.father_id,
                // Only the masked form, for the public notice (公示).
                child_name_masked: c.child_name.as_deref().and_then(MaskedName::mask),
            })
        }
    };
    Ok(Fetched {
        source,
        fetched_at: reply.received_at,
        record,
    })
}

#[cfg(test)]
mod tests;
