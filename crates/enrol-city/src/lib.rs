//! Generator of plausible sample-city datasets (`enrol city generate`).
//!
//! A city is the sample region 济宁市 (counties `3708xx`): streets, roads and
//! buildings with coordinates; public and private primary schools and junior
//! schools with zones (single- and multi-school) and capacities; and families
//! of every kind policy.md distinguishes, each kind at the rate of [`Rates`]
//! (documented in `docs/city-generator.md`). [`City::write_to`] writes the
//! fixture dataset of registries.md. The same configuration always gives the
//! same bytes.
//!
//! ```no_run
//! let city = enrol_city::generate(&enrol_city::CityConfig::new(1_000, 7));
//! city.write_to(std::path::Path::new("/tmp/city")).unwrap();
//! ```

mod address;
mod dice;
mod dirt;
mod family;
mod geo;
mod ids;
mod names;
pub mod policy;
mod profile;
pub mod wire;
mod write;

use enrol_domain::{AddressCode, Application};

pub use address::Gazetteer;
pub use dirt::{DirtKind, DirtyRecord};
pub use family::junior::{
    JUNIOR_ROUND, JUNIOR_SEAT_LOCK_FIRST_YEAR, JUNIOR_SIBLING_GRADES, JuniorProfile, JuniorRates, JuniorResidence,
    JuniorTrigger,
};
pub use profile::{BogusChoice, FamilyProfile, Rates, Residence, SeatUseCase, TextCase, Trigger};
pub use write::{CityError, FILES};

/// What to generate.
#[derive(Debug, Clone, PartialEq)]
pub struct CityConfig {
    /// Number of families, one application each.
    pub families: usize,
    /// Seeds every draw: the same config gives the same bytes.
    pub seed: u64,
    /// How often each kind of family appears.
    pub rates: Rates,
    /// Share of each kind of record made self-contradictory but well-formed
    /// (`--dirty RATE`, `docs/city-generator.md`); 0 for a clean city.
    pub dirty: f64,
    /// Junior families (小升初), one junior application each, drawn from a
    /// stream of their own after the first-grade families.
    pub junior_families: usize,
    /// How often each kind of junior family appears.
    pub junior_rates: JuniorRates,
}

impl CityConfig {
    /// `families` families from `seed`, at the documented rates, and a
    /// junior cohort half as large (`families / 2`).
    pub fn new(families: usize, seed: u64) -> Self {
        CityConfig {
            families,
            seed,
            rates: Rates::default(),
            dirty: 0.0,
            junior_families: families / 2,
            junior_rates: JuniorRates::default(),
        }
    }

    /// The same city with `rate` of each kind of record made dirty.
    pub fn with_dirt(mut self, rate: f64) -> Self {
        self.dirty = rate;
        self
    }
}

/// A generated city: every registry's records, sorted by key as written,
/// plus what each family was drawn to be (not part of the dataset).
#[derive(Debug, Clone, PartialEq)]
pub struct City {
    /// `persons.jsonl`, by `id`.
    pub persons: Vec<wire::Person>,
    /// `births.jsonl`, by `child_id`.
    pub births: Vec<wire::Birth>,
    /// `properties.jsonl`, by `unit_no`.
    pub properties: Vec<wire::Property>,
    /// `permits.jsonl`, by `holder_id`.
    pub permits: Vec<wire::Permit>,
    /// `social_insurance.jsonl`, by `id`.
    pub social_insurance: Vec<wire::Insurance>,
    /// `schools.json`, by `id`.
    pub schools: Vec<wire::School>,
    /// `buildings.jsonl`, by `building_key`: only buildings the zone registry knows.
    pub buildings: Vec<wire::Building>,
    /// First part of `enrolment_history.jsonl`, by `unit_no`.
    pub unit_uses: Vec<wire::UnitUses>,
    /// Second part of `enrolment_history.jsonl`, by `child_id`.
    pub child_places: Vec<wire::ChildPlace>,
    /// `applications.jsonl`, by `application_id`.
    pub applications: Vec<Application>,
    /// One per application, by `application_id`.
    pub families: Vec<FamilyProfile>,
    /// The dirty records written (`CityConfig::dirty`), sorted; not part of the dataset.
    pub dirt: Vec<DirtyRecord>,
    /// `applications-junior.jsonl` (round `2027-junior`), by `application_id`.
    pub junior_applications: Vec<Application>,
    /// One per junior application, by `application_id`.
    pub junior_families: Vec<JuniorProfile>,
}

impl City {
    /// Address search of the zone registry over this city's buildings.
    pub fn resolve_address(&self, text: &str) -> Vec<AddressCode> {
        Gazetteer::new(&self.buildings).resolve(text)
    }
}

/// Generates a city.
pub fn generate(config: &CityConfig) -> City {
    let mut b = family::Builder::new(config.seed, config.families, &config.rates);
    for i in 0..config.families {
        b.family(i);
    }
    b.junior_cohort(config.seed, config.junior_families, &config.junior_rates);
    let mut city = write::finish(b, config.families);
    if config.dirty > 0.0 {
        city.dirt = dirt::make_dirty(&mut city, config.seed, config.dirty);
    }
    city
}
