//! The three adapters together, and how each kind of read is performed.

use std::sync::Arc;

use enrol_adapter_household::HouseholdAdapter;
use enrol_adapter_residence::ResidenceAdapter;
use enrol_adapter_school_zone::SchoolZoneAdapter;
use enrol_domain::{
    AddressCode, BirthCertificate, BuildingZone, ConsentId, CurrentPlace, EvidenceBundle, EvidenceRead, Fetched,
    HouseholdRecord, PropertyUnit, ResidencePermit, SchoolCatalogue, SeatUse, YearMonth,
};
use enrol_registry_client::{AccessRecorder, ConfigError, ReadError, RegistriesConfig, RegistryClients};

/// Every registry the engine reads, through its adapter.
#[derive(Debug, Clone)]
pub struct Registries {
    pub household: HouseholdAdapter,
    pub residence: ResidenceAdapter,
    pub school_zone: SchoolZoneAdapter,
}

/// The answer to one [`EvidenceRead`], ready to go into a bundle.
#[derive(Debug, Clone, PartialEq)]
pub enum Answer {
    BirthCertificate(Fetched<BirthCertificate>),
    HouseholdRecord(Fetched<HouseholdRecord>),
    Holdings(Fetched<Vec<PropertyUnit>>),
    UnitUses(Fetched<Vec<SeatUse>>),
    Permit(Fetched<ResidencePermit>),
    InsuranceMonths(Fetched<Vec<YearMonth>>),
    CurrentPlace(Fetched<CurrentPlace>),
    AddressMatches(Fetched<Vec<AddressCode>>),
    Building(Fetched<BuildingZone>),
}

impl Registries {
    /// Clients for all seven registries from `config`, every request reported to `recorder`.
    pub fn connect(config: &RegistriesConfig, recorder: Arc<dyn AccessRecorder>) -> Result<Self, ConfigError> {
        Ok(Registries::new(&RegistryClients::new(config, recorder)?))
    }

    pub fn new(clients: &RegistryClients) -> Self {
        Registries {
            household: HouseholdAdapter::new(clients),
            residence: ResidenceAdapter::new(clients),
            school_zone: SchoolZoneAdapter::new(clients),
        }
    }

    /// The school catalogue (`GET /zones/v1/schools`): read once per round,
    /// not per application.
    pub async fn school_catalogue(&self) -> Result<SchoolCatalogue, ReadError> {
        self.school_zone.schools().await
    }

    /// Performs one read for an application, under its consent.
    pub async fn perform(&self, read: &EvidenceRead, consent: &ConsentId) -> Result<Answer, ReadError> {
        Ok(match read {
            EvidenceRead::BirthCertificate { child_id } => {
                Answer::BirthCertificate(self.household.birth_certificate(child_id, consent).await?)
            }
            EvidenceRead::HouseholdRecord { person_id } => {
                Answer::HouseholdRecord(self.household.household_record(person_id, consent).await?)
            }
            EvidenceRead::Holdings { owner_id } => Answer::Holdings(self.residence.holdings(owner_id, consent).await?),
            EvidenceRead::UnitUses { unit_no } => Answer::UnitUses(self.school_zone.unit_uses(unit_no, consent).await?),
            EvidenceRead::Permit { holder_id } => Answer::Permit(self.residence.permit(holder_id, consent).await?),
            EvidenceRead::InsuranceMonths { person_id, from, to } => {
                Answer::InsuranceMonths(self.residence.insurance_months(person_id, *from, *to, consent).await?)
            }
            EvidenceRead::CurrentPlace { child_id } => {
                Answer::CurrentPlace(self.school_zone.current_place(child_id, consent).await?)
            }
            EvidenceRead::AddressText { text } => {
                Answer::AddressMatches(self.school_zone.resolve_address(text, consent).await?)
            }
            EvidenceRead::Building { building_key } => {
                Answer::Building(self.school_zone.building(building_key, consent).await?)
            }
        })
    }
}

impl Answer {
    /// Puts the answer into `bundle` under what `read` asked for. An answer
    /// of another kind than the read is not possible through
    /// [`Registries::perform`]; it is refused rather than filed wrongly.
    pub fn insert_into(self, read: &EvidenceRead, bundle: &mut EvidenceBundle) -> Result<(), Mismatch> {
        match (read, self) {
            (EvidenceRead::BirthCertificate { child_id }, Answer::BirthCertificate(f)) => {
                bundle.birth_certificates.insert(child_id.clone(), f);
            }
            (EvidenceRead::HouseholdRecord { person_id }, Answer::HouseholdRecord(f)) => {
                bundle.household_records.insert(person_id.clone(), f);
            }
            (EvidenceRead::Holdings { owner_id }, Answer::Holdings(f)) => {
                bundle.holdings.insert(owner_id.clone(), f);
            }
            (EvidenceRead::UnitUses { unit_no }, Answer::UnitUses(f)) => {
                bundle.unit_uses.insert(unit_no.clone(), f);
            }
            (EvidenceRead::Permit { holder_id }, Answer::Permit(f)) => {
                bundle.permits.insert(holder_id.clone(), f);
            }
            (EvidenceRead::InsuranceMonths { person_id, .. }, Answer::InsuranceMonths(f)) => {
                bundle.insurance_months.insert(person_id.clone(), f);
            }
            (EvidenceRead::CurrentPlace { child_id }, Answer::CurrentPlace(f)) => {
                bundle.current_places.insert(child_id.clone(), f);
            }
            (EvidenceRead::AddressText { text }, Answer::AddressMatches(f)) => {
                bundle.address_matches.insert(text.clone(), f);
            }
            (EvidenceRead::Building { building_key }, Answer::Building(f)) => {
                bundle.buildings.insert(building_key.clone(), f);
            }
            (read, _) => return Err(Mismatch { read: read.clone() }),
        }
        Ok(())
    }
}

/// An answer offered for a read of another kind.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("answer does not fit the read {read:?}")]
pub struct Mismatch {
    pub read: EvidenceRead,
}
