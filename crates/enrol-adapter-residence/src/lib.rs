//! The property registry (不动产登记, `/property/v1`), the residence-permit
//! registry (居住证, `/residence/v1`) and the social-insurance registry
//! (人社, `/social-insurance/v1`): what a guardian owns, where a migrant
//! family may live, and how long it has paid in.
//!
//! Each answer is checked against the question before it becomes evidence:
//! holdings whose owners omit the owner asked about, months outside the asked
//! window or out of order, shares adding up past 100% are [`ReadError`]s.

use std::collections::BTreeSet;

use chrono::NaiveDate;
use enrol_domain::{
    ConsentId, Fetched, NationalId, PermitNo, PropertyUnit, RecordRef, Registry, ResidencePermit, Share, UnitNo,
    UnitStatus, Usage, YearMonth,
};
use enrol_registry_client::wire::{WireAddress, non_blank, strictly_ascending};
use enrol_registry_client::{ReadError, RegistryClient, RegistryClients, Reply};
use serde::Deserialize;

/// Client of the property, residence-permit and social-insurance registries.
#[derive(Debug, Clone)]
pub struct ResidenceAdapter {
    property: RegistryClient,
    residence: RegistryClient,
    insurance: RegistryClient,
}

fn call_error(record: &RecordRef) -> impl FnOnce(enrol_registry_client::CallError) -> ReadError + '_ {
    move |source| ReadError::Call {
        record: record.clone(),
        source,
    }
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
        let reply = self
            .property
            .get(&["holdings"], &[("owner_id", owner_id.as_str())], Some(consent))
            .await
            .map_err(call_error(&record))?;
        holdings_from_reply(owner_id, &reply)
    }

    /// `GET /property/v1/units/{unit_no}`: one unit, or none. The rules need
    /// only holdings; this serves officers checking a unit.
    pub async fn unit(&self, unit_no: &UnitNo, consent: &ConsentId) -> Result<Fetched<PropertyUnit>, ReadError> {
        let record = RecordRef::new(Registry::Property, unit_no);
        let reply = self
            .property
            .get(&["units", unit_no.as_str()], &[], Some(consent))
            .await
            .map_err(call_error(&record))?;
        unit_from_reply(unit_no, &reply)
    }

    /// `GET /residence/v1/permits/{id}`: the person's residence permit, or none.
    pub async fn permit(
        &self,
        holder_id: &NationalId,
        consent: &ConsentId,
    ) -> Result<Fetched<ResidencePermit>, ReadError> {
        let record = RecordRef::new(Registry::Residence, holder_id);
        let reply = self
            .residence
            .get(&["permits", holder_id.as_str()], &[], Some(consent))
            .await
            .map_err(call_error(&record))?;
        permit_from_reply(holder_id, &reply)
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
        let reply = self
            .insurance
            .get(
                &["persons", person_id.as_str(), "months"],
                &[("from", &from_text), ("to", &to_text)],
                Some(consent),
            )
            .await
            .map_err(call_error(&record))?;
        insurance_months_from_reply(person_id, from, to, &reply)
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
    issued_on: NaiveDate,
    valid_until: NaiveDate,
}

#[derive(Debug, Deserialize)]
struct WireMonths {
    id: NationalId,
    months: Vec<YearMonth>,
}

/// Checks and maps one unit; `field` locates it in the body for error texts.
fn unit_into_domain(source: &RecordRef, field: &str, u: WireUnit) -> Result<PropertyUnit, ReadError> {
    let unit_no = non_blank(source, &format!("{field}.unit_no"), u.unit_no)?;
    let mut owners_seen = BTreeSet::new();
    let mut total: u32 = 0;
    for o in &u.owners {
        if !owners_seen.insert(&o.id) {
            return Err(ReadError::contradictory(
                source,
                format!("unit {unit_no} lists owner {} twice", o.id),
            ));
        }
        total = total.saturating_add(o.share_pct);
    }
    if u.owners.is_empty() {
        return Err(ReadError::contradictory(source, format!("unit {unit_no} has no owner")));
    }
    if total > 100 {
        return Err(ReadError::contradictory(
            source,
            format!("owners' shares of unit {unit_no} add up to {total}%"),
        ));
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
        owners: u
            .owners
            .into_iter()
            .map(|o| Share {
                id: o.id,
                share_pct: o.share_pct,
            })
            .collect(),
    })
}

/// Maps the property registry's holdings of `owner` into evidence.
pub fn holdings_from_reply(owner: &NationalId, reply: &Reply) -> Result<Fetched<Vec<PropertyUnit>>, ReadError> {
    let source = RecordRef::new(Registry::Property, owner);
    let wire: WireHoldings = reply.decode_required(&source)?;
    strictly_ascending(&source, "holdings (by unit_no)", &wire.holdings, |u| u.unit_no.clone())?;
    let mut units = Vec::with_capacity(wire.holdings.len());
    for (i, u) in wire.holdings.into_iter().enumerate() {
        if !u.owners.iter().any(|o| &o.id == owner) {
            return Err(ReadError::contradictory(
                &source,
                format!(
                    "unit {} is listed as a holding of {owner}, but its owners omit {owner}",
                    u.unit_no
                ),
            ));
        }
        units.push(unit_into_domain(&source, &format!("holdings[{i}]"), u)?);
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
            if p.valid_until < p.issued_on {
                return Err(ReadError::contradictory(
                    &source,
                    format!(
                        "permit {} is valid until {}, before it was issued on {}",
                        p.permit_no, p.valid_until, p.issued_on
                    ),
                ));
            }
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
    if let Some(m) = wire.months.iter().find(|m| **m < from || **m > to) {
        return Err(ReadError::contradictory(
            &source,
            format!("month {m} lies outside the asked range {from} to {to}"),
        ));
    }
    strictly_ascending(&source, "months", &wire.months, |m| *m)?;
    Ok(Fetched {
        source,
        fetched_at: reply.received_at,
        record: Some(wire.months),
    })
}

#[cfg(test)]
mod tests;
