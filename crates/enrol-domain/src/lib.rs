//! The shared vocabulary of the enrolment engine (招生入学): identifiers,
//! applications, evidence, decisions.
//!
//! Invariant: this crate does no IO and knows no wire format but the engine's
//! own (formats.md): registry JSON stays with the adapters and the simulator.

mod address;
mod application;
mod decision;
mod evidence;
mod explanation;
mod geo;
mod ids;
mod mask;
mod month;
mod national_id;

pub use address::{Address, AddressCode, AddressCodeError, BuildingKey, CountyCode};
pub use application::Application;
pub use decision::{
    Decision, Evaluation, Home, LOTTERY_PRIORITY, LotteryNumber, LotteryNumberError, Reason, SchoolPriority, Status,
};
pub use evidence::{
    BirthCertificate, BuildingZone, CurrentPlace, EvidenceBundle, EvidenceRead, Fetched, HouseholdRecord, OfficerFacts,
    PropertyUnit, RecordRef, Registry, RelationToHead, ResidencePermit, School, SchoolCatalogue, SchoolKind, SeatUse,
    Share, Stage, UnitStatus, UnusableAnswer, Usage,
};
pub use explanation::TierShortfall;
pub use geo::{EARTH_RADIUS_KM, GeoPoint};
pub use ids::{CertificateNo, ConsentId, HouseholdNo, PermitNo, RoundId, SchoolId, UnitNo};
pub use mask::{MaskedName, mask_national_id};
pub use month::{YearMonth, YearMonthError};
pub use national_id::{NationalId, NationalIdError};
