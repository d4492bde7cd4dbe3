//! The family boundary (数据最小化): a read is made only about the child, the
//! guardians and the declared siblings, or about a unit, an address or a
//! building that their own records name. The rules' planner already keeps to
//! this; the driver checks it again before anything leaves the engine, so a
//! planner bug cannot read a stranger's records.

use std::collections::BTreeSet;

use enrol_domain::{Address, Application, BuildingKey, EvidenceBundle, EvidenceRead, NationalId};

/// Why a read lies outside the family, or `None` when it may be made.
pub fn outside_family(app: &Application, bundle: &EvidenceBundle, read: &EvidenceRead) -> Option<String> {
    let family = || -> BTreeSet<&NationalId> {
        std::iter::once(&app.child_id)
            .chain(std::iter::once(&app.applicant_id))
            .chain(&app.guardian_ids)
            .chain(&app.sibling_ids)
            .collect()
    };
    let person = |id: &NationalId| {
        (!family().contains(id)).then(|| format!("{id} is not the child, a guardian or a declared sibling"))
    };
    match read {
        EvidenceRead::BirthCertificate { child_id } | EvidenceRead::CurrentPlace { child_id } => person(child_id),
        EvidenceRead::HouseholdRecord { person_id } | EvidenceRead::InsuranceMonths { person_id, .. } => {
            person(person_id)
        }
        EvidenceRead::Holdings { owner_id } => person(owner_id),
        EvidenceRead::Permit { holder_id } => person(holder_id),
        EvidenceRead::UnitUses { unit_no } => {
            let held = bundle
                .holdings
                .values()
                .filter_map(|f| f.record.as_ref())
                .flatten()
                .any(|u| &u.unit_no == unit_no);
            (!held).then(|| format!("unit {unit_no} is not among the family's holdings"))
        }
        EvidenceRead::AddressText { text } => {
            let named = addresses(bundle).any(|a| &a.text == text);
            (!named).then(|| format!("address text {text:?} is not in the family's records"))
        }
        EvidenceRead::Building { building_key } => {
            let known = buildings(bundle).any(|k| &k == building_key);
            (!known).then(|| format!("building {building_key} is not named by the family's records"))
        }
    }
}

/// Every address in the family's records.
fn addresses(bundle: &EvidenceBundle) -> impl Iterator<Item = &Address> {
    let household = bundle
        .household_records
        .values()
        .filter_map(|f| f.record.as_ref())
        .map(|r| &r.address);
    let units = bundle
        .holdings
        .values()
        .filter_map(|f| f.record.as_ref())
        .flatten()
        .map(|u| &u.address);
    let permits = bundle
        .permits
        .values()
        .filter_map(|f| f.record.as_ref())
        .map(|p| &p.address);
    household.chain(units).chain(permits)
}

/// Every building named by a code in the family's records or resolved from their texts.
fn buildings(bundle: &EvidenceBundle) -> impl Iterator<Item = BuildingKey> + '_ {
    let coded = addresses(bundle)
        .filter_map(|a| a.code.as_ref())
        .map(|c| c.building_key());
    let resolved = bundle
        .address_matches
        .values()
        .filter_map(|f| f.record.as_ref())
        .flatten()
        .map(|c| c.building_key());
    let officer = bundle
        .officer_facts
        .resolved_addresses
        .values()
        .map(|c| c.building_key());
    coded.chain(resolved).chain(officer)
}
