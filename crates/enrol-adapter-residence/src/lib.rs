//! The property registry (不动产登记, `/property/v1`), the residence-permit
//! registry (居住证, `/residence/v1`) and the social-insurance registry
//! (人社, `/social-insurance/v1`): what a guardian owns, where a migrant
//! family may live, and how long it has paid in.
//!
//! Each answer is checked against the question before it becomes evidence: an
//! answer about another person or unit, or a body that breaks the registry's
//! format, is a [`ReadError`] (unusable). A well-formed record is read as it
//! stands, however odd (registries.md, "Dirty records"): shares past 100%, a
//! permit that ends before it begins, months out of order or repeated.
//! `docs/adapters.md` lists every check and its outcome.

use chrono::NaiveDate;
use enrol_domain::{
    ConsentId, Fetched, NationalId, PermitNo, PropertyUnit, RecordRef, Registry, ResidencePermit, Share, UnitNo,
    UnitStatus, Usage, YearMonth,
};
use enrol_registry_client::wire::{WireAddress, non_blank};
use enrol_registry_client::{ReadError, RegistryClient, RegistryClients, Reply};
use serde::Deserialize;

/// Client of the property, residence-permit and social-insurance registries.
#[derive(Debug, Clone)]
pub struct ResidenceAdapter {
    property: RegistryClient,
    residence: RegistryClient,
    insurance: RegistryClient,
}

impl ResidenceAdapter {
    pub fn new(clients: &RegistryClients) -> Self {
        ResidenceAdapter {
            property: clients.get(Registry::Property).clone(),
            residence: clients.get(Registry::Residence).clone(),
            insurance: clients.get(Registry::Insurance).clone(),
        }
    }

    /// `GET /property/v1/holdings?owner_id={id}`: every unit in which the
    /// person holds a share (none is an empty list).
    pub async fn holdings(
        &self,
        owner_id: &NationalId,
        consent: &ConsentId,
    ) -> Result<Fetched<Vec<PropertyUnit>>, ReadError> {
        let record = RecordRef::new(Registry::Property, owner_id);
        self.property
            .get_parsed(
                &["holdings"],
                &[("owner_id", owner_id.as_str())],
                Some(consent),
                &record,
                |reply| holdings_from_reply(owner_id, reply),
            )
            .await
    }

    /// `GET /property/v1/units/{unit_no}`: one unit, or none. The rules need
    /// only holdings; this serves officers checking a unit.
    pub async fn unit(&self, unit_no: &UnitNo, consent: &ConsentId) -> Result<Fetched<PropertyUnit>, ReadError> {
        let record = RecordRef::new(Registry::Property, unit_no);
        self.property
            .get_parsed(&["units", unit_no.as_str()], &[], Some(consent), &record, |reply| {
                unit_from_reply(unit_no, reply)
            })
            .await
    }

    /// `GET /residence/v1/permits/{id}`: the person's residence permit, or none.
    pub async fn permit(
        &self,
        holder_id: &NationalId,
        consent: &ConsentId,
    ) -> Result<Fetched<ResidencePermit>, ReadError> {
        let record = RecordRef::new(Registry::Residence, holder_id);
        self.residence
            .get_parsed(&["permits", holder_id.as_str()], &[], Some(consent), &record, |reply| {
                permit_from_reply(holder_id, reply)
            })
            .await
    }

    /// `GET /social-insurance/v1/persons/{id}/months?from=&to=`: the months in
    /// `from..=to` in which the person paid contributions in the city, ascending.
    pub async fn insurance_months(
        &self,
        person_id: &NationalId,
        from: YearMonth,
        to: YearMonth,
        consent: &ConsentId,
    ) -> Result<Fetched<Vec<YearMonth>>, ReadError> {
        let record = RecordRef::new(Registry::Insurance, person_id);
        let (from_text, to_text) = (from.to_string(), to.to_string());
        self.insurance
            .get_parsed(
                &["persons", person_id.as_str(), "months"],
                &[("from", &from_text), ("to", &to_text)],
                Some(consent),
                &record,
                |reply| insurance_months_from_reply(person_id, from, to, reply),
            )
            .await
    }
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "snake_case")]
enum WireUsage {
    Residential,
    Commercial,
    Industrial,
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "snake_case")]
enum WireStatus {
    Normal,
    Sealed,
}

#[derive(Debug, Deserialize)]
struct WireShare {
    id: NationalId,
    share_pct: u32,
}

#[derive(Debug, Deserialize)]
struct WireUnit {
    unit_no: String,
    address: WireAddress,
    usage: WireUsage,
    #[serde(deserialize_with = "enrol_registry_client::wire::date")]
    registered_on: NaiveDate,
    status: WireStatus,
    owners: Vec<WireShare>,
}

#[derive(Debug, Deserialize)]
struct WireHoldings {
    holdings: Vec<WireUnit>,
}

#[derive(Debug, Deserialize)]
struct WirePermit {
    permit_no: String,
    holder_id: NationalId,
    address: WireAddress,
    #[serde(deserialize_with = "enrol_registry_client::wire::date")]
    issued_on: NaiveDate,
    #[serde(deserialize_with = "enrol_registry_client::wire::date")]
    valid_until: NaiveDate,
}

#[derive(Debug, Deserialize)]
struct WireMonths {
    id: NationalId,
    months: Vec<YearMonth>,
}

/// Maps one unit; `field` locates it in the body for error texts. The unit is
/// read as it stands (registries.md, "Dirty records"): shares adding up past
/// 100, a unit without owners, a registration date in the future are what the
/// registry says, and each policy clause uses the fields it names. Only an
/// owner entry repeated word for word is taken once (the same fact twice).
fn unit_into_domain(source: &RecordRef, field: &str, u: WireUnit) -> Result<PropertyUnit, ReadError> {
    let unit_no = non_blank(source, &format!("{field}.unit_no"), u.unit_no)?;
    let mut owners: Vec<Share> = Vec::with_capacity(u.owners.len());
    for o in u.owners {
        let share = Share {
            id: o.id,
            share_pct: o.share_pct,
        };
        if !owners.contains(&share) {
            owners.push(share);
        }
    }
    Ok(PropertyUnit {
        unit_no: UnitNo::new(unit_no),
        address: u.address.into_domain(source, &format!("{field}.address"))?,
        usage: match u.usage {
            WireUsage::Residential => Usage::Residential,
            WireUsage::Commercial => Usage::Commercial,
            WireUsage::Industrial => Usage::Industrial,
        },
        registered_on: u.registered_on,
        status: match u.status {
            WireStatus::Normal => UnitStatus::Normal,
            WireStatus::Sealed => UnitStatus::Sealed,
        },
        owners,
    })
}

/// Maps the property registry's holdings of `owner` into evidence. Units are
/// read as they stand, in `unit_no` order whatever order they came in; a unit
/// whose owners omit `owner` stays (it gives `owner` no share). The same
/// unit listed twice alike is taken once; listed twice with different
/// contents it is contradictory beyond reading: unusable.
pub fn holdings_from_reply(owner: &NationalId, reply: &Reply) -> Result<Fetched<Vec<PropertyUnit>>, ReadError> {
    let source = RecordRef::new(Registry::Property, owner);
    let wire: WireHoldings = reply.decode_required(&source)?;
    let mut units = Vec::with_capacity(wire.holdings.len());
    for (i, u) in wire.holdings.into_iter().enumerate() {
        units.push(unit_into_domain(&source, &format!("holdings[{i}]"), u)?);
    }
    units.sort_by(|a, b| a.unit_no.cmp(&b.unit_no));
    units.dedup();
    if let Some(pair) = units.windows(2).find(|p| p[0].unit_no == p[1].unit_no) {
        return Err(ReadError::contradictory(
            &source,
            format!("unit {} is listed twice, with different contents", pair[0].unit_no),
        ));
    }
    Ok(Fetched {
        source,
        fetched_at: reply.received_at,
        record: Some(units),
    })
}

/// Maps the property registry's answer about unit `asked` into evidence.
pub fn unit_from_reply(asked: &UnitNo, reply: &Reply) -> Result<Fetched<PropertyUnit>, ReadError> {
    let source = RecordRef::new(Registry::Property, asked);
    let record = match reply.decode::<WireUnit>(&source)? {
        None => None,
        Some(u) => {
            if u.unit_no != asked.as_str() {
                return Err(ReadError::contradictory(
                    &source,
                    format!("asked for unit {asked}, answered with unit {}", u.unit_no),
                ));
            }
            Some(unit_into_domain(&source, "unit", u)?)
        }
    };
    Ok(Fetched {
        source,
        fetched_at: reply.received_at,
        record,
    })
}

/// Maps the residence-permit registry's answer about `asked` into evidence.
pub fn permit_from_reply(asked: &NationalId, reply: &Reply) -> Result<Fetched<ResidencePermit>, ReadError> {
    let source = RecordRef::new(Registry::Residence, asked);
    let record = match reply.decode::<WirePermit>(&source)? {
        None => None,
        Some(p) => {
            if &p.holder_id != asked {
                return Err(ReadError::contradictory(
                    &source,
                    format!("asked for the permit of {asked}, answered with that of {}", p.holder_id),
                ));
            }
            // A permit valid until before its issue is read as it stands:
            // it is simply not valid on any day a clause asks about.
            Some(ResidencePermit {
                permit_no: PermitNo::new(non_blank(&source, "permit_no", p.permit_no)?),
                holder_id: p.holder_id,
                address: p.address.into_domain(&source, "address")?,
                issued_on: p.issued_on,
                valid_until: p.valid_until,
            })
        }
    };
    Ok(Fetched {
        source,
        fetched_at: reply.received_at,
        record,
    })
}

/// Maps the social-insurance registry's months of `asked` in `from..=to` into evidence.
pub fn insurance_months_from_reply(
    asked: &NationalId,
    from: YearMonth,
    to: YearMonth,
    reply: &Reply,
) -> Result<Fetched<Vec<YearMonth>>, ReadError> {
    let source = RecordRef::new(Registry::Insurance, asked);
    let wire: WireMonths = reply.decode_required(&source)?;
    if &wire.id != asked {
        return Err(ReadError::contradictory(
            &source,
            format!("asked for the months of {asked}, answered with those of {}", wire.id),
        ));
    }
    // Read as it stands: the months paid in the asked window, each once,
    // ascending. A month listed twice was paid once; one outside the window
    // is not what was asked.
    let months: std::collections::BTreeSet<YearMonth> =
        wire.months.into_iter().filter(|m| (from..=to).contains(m)).collect();
    Ok(Fetched {
        source,
        fetched_at: reply.received_at,
        record: Some(months.into_iter().collect()),
    })
}

#[cfg(test)]
mod tests;
