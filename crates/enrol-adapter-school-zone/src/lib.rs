//! The school-zone registry (教育 学区划片, `/zones/v1`) and the
//! enrolment-history registry (教育 学籍与学位使用, `/enrolment-history/v1`):
//! the school catalogue, which schools a building is zoned for, what an
//! address text names, which places a unit has already given, and where a
//! child is at school now.
//!
//! The catalogue, buildings and address search are public; the adapter still
//! sends the application's consent with the per-application reads, so every
//! read the engine makes for a family is traceable to that family's consent.

use std::collections::BTreeSet;

use enrol_domain::{
    AddressCode, BuildingKey, BuildingZone, ConsentId, CountyCode, CurrentPlace, Fetched, GeoPoint, NationalId,
    RecordRef, Registry, School, SchoolCatalogue, SchoolId, SchoolKind, SeatUse, Stage, UnitNo,
};
use enrol_registry_client::wire::non_blank;
use enrol_registry_client::{ReadError, RegistryClient, RegistryClients, Reply};
use serde::Deserialize;

/// Client of the school-zone and enrolment-history registries.
#[derive(Debug, Clone)]
pub struct SchoolZoneAdapter {
    zones: RegistryClient,
    history: RegistryClient,
}

/// How the school catalogue is cited: `zones:schools`.
pub fn catalogue_ref() -> RecordRef {
    RecordRef::new(Registry::Zones, "schools")
}

impl SchoolZoneAdapter {
    pub fn new(clients: &RegistryClients) -> Self {
        SchoolZoneAdapter {
            zones: clients.get(Registry::Zones).clone(),
            history: clients.get(Registry::History).clone(),
        }
    }

    /// `GET /zones/v1/schools`: every school. Read once per round, not per
    /// application, so it carries no consent.
    pub async fn schools(&self) -> Result<SchoolCatalogue, ReadError> {
        let record = catalogue_ref();
        self.zones
            .get_parsed(&["schools"], &[], None, &record, catalogue_from_reply)
            .await
    }

    /// `GET /zones/v1/buildings/{building_key}`: the schools zoned for a
    /// building, or none (unknown building).
    pub async fn building(
        &self,
        building_key: &BuildingKey,
        consent: &ConsentId,
    ) -> Result<Fetched<BuildingZone>, ReadError> {
        let record = RecordRef::new(Registry::Zones, building_key);
        self.zones
            .get_parsed(
                &["buildings", building_key.as_str()],
                &[],
                Some(consent),
                &record,
                |reply| building_from_reply(building_key, reply),
            )
            .await
    }

    /// `GET /zones/v1/addresses?text=`: the room-level codes an address text
    /// names (none: unknown; several: ambiguous), ascending.
    pub async fn resolve_address(
        &self,
        text: &str,
        consent: &ConsentId,
    ) -> Result<Fetched<Vec<AddressCode>>, ReadError> {
        let record = RecordRef::new(Registry::Zones, text);
        self.zones
            .get_parsed(&["addresses"], &[("text", text)], Some(consent), &record, |reply| {
                address_matches_from_reply(text, reply)
            })
            .await
    }

    /// `GET /enrolment-history/v1/units/{unit_no}`: places already granted on
    /// the strength of a unit (学位使用记录); none is an empty list.
    pub async fn unit_uses(&self, unit_no: &UnitNo, consent: &ConsentId) -> Result<Fetched<Vec<SeatUse>>, ReadError> {
        let record = RecordRef::new(Registry::History, unit_no);
        self.history
            .get_parsed(&["units", unit_no.as_str()], &[], Some(consent), &record, |reply| {
                unit_uses_from_reply(unit_no, reply)
            })
            .await
    }

    /// `GET /enrolment-history/v1/children/{id}`: where a child is at school
    /// now, or none.
    pub async fn current_place(
        &self,
        child_id: &NationalId,
        consent: &ConsentId,
    ) -> Result<Fetched<CurrentPlace>, ReadError> {
        let record = RecordRef::new(Registry::History, child_id);
        self.history
            .get_parsed(&["children", child_id.as_str()], &[], Some(consent), &record, |reply| {
                current_place_from_reply(child_id, reply)
            })
            .await
    }
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "snake_case")]
enum WireKind {
    Public,
    Private,
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "snake_case")]
enum WireStage {
    Primary,
    Junior,
}

#[derive(Debug, Clone, Copy, Deserialize)]
struct WireLocation {
    lat: f64,
    lon: f64,
}

#[derive(Debug, Deserialize)]
struct WireSchool {
    id: String,
    name: String,
    kind: WireKind,
    stage: WireStage,
    county: CountyCode,
    /// Seats by entry year, the year as a JSON object key.
    capacity: std::collections::BTreeMap<String, u32>,
    location: WireLocation,
    /// 对口直升: the junior schools a primary school is paired with; absent means none.
    #[serde(default)]
    feeds: Vec<String>,
}

#[derive(Debug, Deserialize)]
struct WireBuilding {
    building_key: BuildingKey,
    schools: Vec<String>,
    location: WireLocation,
}

#[derive(Debug, Deserialize)]
struct WireMatch {
    code: AddressCode,
}

#[derive(Debug, Deserialize)]
struct WireMatches {
    matches: Vec<WireMatch>,
}

#[derive(Debug, Deserialize)]
struct WireUse {
    year: i32,
    school_id: String,
    child_id: NationalId,
}

#[derive(Debug, Deserialize)]
struct WireUses {
    unit_no: String,
    uses: Vec<WireUse>,
}

#[derive(Debug, Deserialize)]
struct WirePlace {
    child_id: NationalId,
    school_id: String,
    grade: u8,
}

fn location(source: &RecordRef, field: &str, l: WireLocation) -> Result<GeoPoint, ReadError> {
    if !(l.lat.is_finite() && l.lon.is_finite() && (-90.0..=90.0).contains(&l.lat) && (-180.0..=180.0).contains(&l.lon))
    {
        return Err(ReadError::Malformed {
            record: source.clone(),
            detail: format!("`{field}` ({}, {}) is not a place on Earth", l.lat, l.lon),
        });
    }
    Ok(GeoPoint { lat: l.lat, lon: l.lon })
}

fn school_id(source: &RecordRef, field: &str, id: String) -> Result<SchoolId, ReadError> {
    non_blank(source, field, id).map(SchoolId::new)
}

/// Maps the school catalogue into the engine's, by id.
pub fn catalogue_from_reply(reply: &Reply) -> Result<SchoolCatalogue, ReadError> {
    let source = catalogue_ref();
    let wire: Vec<WireSchool> = reply.decode_required(&source)?;
    let mut catalogue = SchoolCatalogue::new();
    for (i, s) in wire.into_iter().enumerate() {
        let id = school_id(&source, &format!("[{i}].id"), s.id)?;
        let mut capacity = std::collections::BTreeMap::new();
        for (year, seats) in s.capacity {
            let parsed = (year.len() == 4 && year.bytes().all(|b| b.is_ascii_digit()))
                .then(|| year.parse::<i32>().ok())
                .flatten();
            let Some(y) = parsed else {
                return Err(ReadError::Malformed {
                    record: source.clone(),
                    detail: format!("at `[{i}].capacity`: {year:?} is not a year"),
                });
            };
            capacity.insert(y, seats);
        }
        let mut feeds = Vec::with_capacity(s.feeds.len());
        for (j, f) in s.feeds.into_iter().enumerate() {
            let fed = school_id(&source, &format!("[{i}].feeds[{j}]"), f)?;
            if feeds.contains(&fed) {
                return Err(ReadError::Malformed {
                    record: source.clone(),
                    detail: format!("school {id} feeds {fed} twice"),
                });
            }
            feeds.push(fed);
        }
        let school = School {
            id: id.clone(),
            name: s.name,
            kind: match s.kind {
                WireKind::Public => SchoolKind::Public,
                WireKind::Private => SchoolKind::Private,
            },
            stage: match s.stage {
                WireStage::Primary => Stage::Primary,
                WireStage::Junior => Stage::Junior,
            },
            county: s.county,
            capacity,
            location: location(&source, &format!("[{i}].location"), s.location)?,
            feeds,
        };
        if catalogue.insert(id.clone(), school).is_some() {
            return Err(ReadError::Malformed {
                record: source.clone(),
                detail: format!("school {id} is listed twice"),
            });
        }
    }
    Ok(catalogue)
}

/// Maps the zone registry's answer about building `asked` into evidence.
pub fn building_from_reply(asked: &BuildingKey, reply: &Reply) -> Result<Fetched<BuildingZone>, ReadError> {
    let source = RecordRef::new(Registry::Zones, asked);
    let record = match reply.decode::<WireBuilding>(&source)? {
        None => None,
        Some(b) => {
            if &b.building_key != asked {
                return Err(ReadError::contradictory(
                    &source,
                    format!("asked for building {asked}, answered about {}", b.building_key),
                ));
            }
            // A school zoned twice is zoned: taken once, in its first place.
            let mut seen = BTreeSet::new();
            let mut schools = Vec::with_capacity(b.schools.len());
            for (i, s) in b.schools.into_iter().enumerate() {
                let id = school_id(&source, &format!("schools[{i}]"), s)?;
                if seen.insert(id.clone()) {
                    schools.push(id);
                }
            }
            Some(BuildingZone {
                building_key: b.building_key,
                schools,
                location: location(&source, "location", b.location)?,
            })
        }
    };
    Ok(Fetched {
        source,
        fetched_at: reply.received_at,
        record,
    })
}

/// Maps the zone registry's matches for address text `asked` into evidence.
pub fn address_matches_from_reply(asked: &str, reply: &Reply) -> Result<Fetched<Vec<AddressCode>>, ReadError> {
    let source = RecordRef::new(Registry::Zones, asked);
    let wire: WireMatches = reply.decode_required(&source)?;
    // Read as it stands: the codes matched, each once, ascending.
    let codes: BTreeSet<AddressCode> = wire.matches.into_iter().map(|m| m.code).collect();
    Ok(Fetched {
        source,
        fetched_at: reply.received_at,
        record: Some(codes.into_iter().collect()),
    })
}

/// Maps the enrolment-history registry's uses of unit `asked` into evidence.
pub fn unit_uses_from_reply(asked: &UnitNo, reply: &Reply) -> Result<Fetched<Vec<SeatUse>>, ReadError> {
    let source = RecordRef::new(Registry::History, asked);
    let wire: WireUses = reply.decode_required(&source)?;
    if wire.unit_no != asked.as_str() {
        return Err(ReadError::contradictory(
            &source,
            format!(
                "asked for the uses of unit {asked}, answered with those of {}",
                wire.unit_no
            ),
        ));
    }
    let mut uses = Vec::with_capacity(wire.uses.len());
    for (i, u) in wire.uses.into_iter().enumerate() {
        uses.push(SeatUse {
            year: u.year,
            school_id: school_id(&source, &format!("uses[{i}].school_id"), u.school_id)?,
            child_id: u.child_id,
        });
    }
    Ok(Fetched {
        source,
        fetched_at: reply.received_at,
        record: Some(uses),
    })
}

/// Maps the enrolment-history registry's answer about child `asked` into evidence.
pub fn current_place_from_reply(asked: &NationalId, reply: &Reply) -> Result<Fetched<CurrentPlace>, ReadError> {
    let source = RecordRef::new(Registry::History, asked);
    let record = match reply.decode::<WirePlace>(&source)? {
        None => None,
        Some(p) => {
            if &p.child_id != asked {
                return Err(ReadError::contradictory(
                    &source,
                    format!("asked where {asked} is at school, answered about {}", p.child_id),
                ));
            }
            Some(CurrentPlace {
                child_id: p.child_id,
                school_id: school_id(&source, "school_id", p.school_id)?,
                grade: p.grade,
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
