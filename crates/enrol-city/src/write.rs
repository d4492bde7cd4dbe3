//! Sizing schools, sorting records and writing the dataset folder.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::family::Builder;
use crate::{City, wire};

/// The files of a dataset, as registries.md's fixture table names them, and
/// the junior round's applications (`applications-junior.jsonl`: round
/// `2027-junior`, kept apart so that the first-grade file stays as it was).
pub const FILES: [&str; 10] = [
    "persons.jsonl",
    "births.jsonl",
    "properties.jsonl",
    "permits.jsonl",
    "social_insurance.jsonl",
    "schools.json",
    "buildings.jsonl",
    "enrolment_history.jsonl",
    "applications.jsonl",
    "applications-junior.jsonl",
];

/// Why a city could not be written.
#[derive(Debug, thiserror::Error)]
pub enum CityError {
    #[error("cannot create the dataset folder {}: {source}", path.display())]
    CreateDir { path: PathBuf, source: std::io::Error },
    #[error("cannot write {}: {source}", path.display())]
    Write { path: PathBuf, source: std::io::Error },
    #[error("cannot serialise a record of {}: {source}", path.display())]
    Serialise { path: PathBuf, source: serde_json::Error },
}

/// Seats for the schools, then every record in key order.
pub(crate) fn finish(mut b: Builder<'_>, families: usize) -> City {
    size_schools(&mut b, families);
    let geo = &b.geo;
    let mut schools: Vec<wire::School> = (0..geo.schools.len()).map(|s| geo.school_record(s)).collect();
    schools.sort_by(|x, y| x.id.cmp(&y.id));
    let mut buildings: Vec<wire::Building> = (0..geo.buildings.len())
        .filter(|&i| geo.buildings[i].known)
        .map(|i| geo.building_record(i))
        .collect();
    buildings.sort_by(|x, y| x.building_key.cmp(&y.building_key));

    b.persons.sort_by(|x, y| x.id.cmp(&y.id));
    b.births.sort_by(|x, y| x.child_id.cmp(&y.child_id));
    b.properties.sort_by(|x, y| x.unit_no.cmp(&y.unit_no));
    b.permits.sort_by(|x, y| x.holder_id.cmp(&y.holder_id));
    b.insurance.sort_by(|x, y| x.id.cmp(&y.id));
    b.places.sort_by(|x, y| x.child_id.cmp(&y.child_id));
    b.applications.sort_by_key(|a| a.application_id);
    b.profiles.sort_by_key(|p| p.application_id);
    b.junior_applications.sort_by_key(|a| a.application_id);
    b.junior_profiles.sort_by_key(|p| p.application_id);
    let unit_uses = std::mem::take(&mut b.uses)
        .into_iter()
        .map(|(unit_no, mut uses)| {
            uses.sort_by(|x, y| (x.year, &x.school_id, &x.child_id).cmp(&(y.year, &y.school_id, &y.child_id)));
            wire::UnitUses { unit_no, uses }
        })
        .collect();
    City {
        persons: b.persons,
        births: b.births,
        properties: b.properties,
        permits: b.permits,
        social_insurance: b.insurance,
        schools,
        buildings,
        unit_uses,
        child_places: b.places,
        applications: b.applications,
        families: b.profiles,
        dirt: Vec::new(),
        junior_applications: b.junior_applications,
        junior_families: b.junior_profiles,
    }
}

/// Capacities from the demand the families made: popular schools get about
/// 70% of their zoned eligible children, the others 130% and more, and the
/// city as a whole at least 110% of all applicants.
fn size_schools(b: &mut Builder<'_>, families: usize) {
    let juniors = b.junior_applications.len();
    let mut open_public = Vec::new();
    let mut open_junior = Vec::new();
    for s in 0..b.geo.schools.len() {
        let demand = b.demand[s];
        let school = &b.geo.schools[s];
        let seats = match (school.kind, school.stage) {
            (wire::SchoolKind::Private, _) => ((f64::from(b.private_demand[s]) * 0.5).floor() as u32).max(1),
            // Sized by the junior cohort as primaries are by the first-grade one;
            // a city without a junior cohort keeps 180–450 seats.
            (wire::SchoolKind::Public, wire::Stage::Junior) if juniors == 0 => 45 * (4 + (s as u32 % 7)),
            (wire::SchoolKind::Public, wire::Stage::Junior) if school.popular => ((demand * 0.7).floor() as u32).max(1),
            (wire::SchoolKind::Public, wire::Stage::Junior) => {
                open_junior.push(s);
                (demand * 1.3).ceil() as u32 + 2
            }
            (wire::SchoolKind::Public, wire::Stage::Primary) if school.popular => {
                ((demand * 0.7).floor() as u32).max(1)
            }
            (wire::SchoolKind::Public, wire::Stage::Primary) => {
                if !school.opens_later {
                    open_public.push(s);
                }
                (demand * 1.3).ceil() as u32 + 2
            }
        };
        b.geo.schools[s].capacity.insert("2027".to_owned(), seats);
    }
    let total: u32 = b
        .geo
        .schools
        .iter()
        .filter(|s| s.kind == wire::SchoolKind::Public && s.stage == wire::Stage::Primary && !s.opens_later)
        .map(|s| s.capacity["2027"])
        .sum();
    let wanted = (families as f64 * 1.1).ceil() as u32;
    if total < wanted && !open_public.is_empty() {
        let short = wanted - total;
        let n = open_public.len() as u32;
        for (k, &s) in open_public.iter().enumerate() {
            let extra = short / n + u32::from((k as u32) < short % n);
            *b.geo.schools[s].capacity.get_mut("2027").expect("set above") += extra;
        }
    }
    let junior_total: u32 = b
        .geo
        .schools
        .iter()
        .filter(|s| s.kind == wire::SchoolKind::Public && s.stage == wire::Stage::Junior)
        .map(|s| s.capacity["2027"])
        .sum();
    let wanted = (juniors as f64 * 1.1).ceil() as u32;
    if junior_total < wanted && !open_junior.is_empty() {
        let short = wanted - junior_total;
        let n = open_junior.len() as u32;
        for (k, &s) in open_junior.iter().enumerate() {
            let extra = short / n + u32::from((k as u32) < short % n);
            *b.geo.schools[s].capacity.get_mut("2027").expect("set above") += extra;
        }
    }
    for school in &mut b.geo.schools {
        let seats = school.capacity["2027"];
        if school.opens_later {
            // Zoned already, first pupils in 2028: no seats this round.
            school.capacity.clear();
            school.capacity.insert("2028".to_owned(), seats.max(90));
        } else {
            // Last year's intake, for realism; the round reads only 2027.
            school
                .capacity
                .insert("2026".to_owned(), seats.saturating_sub(seats / 10));
        }
    }
}

fn jsonl<T: Serialize>(dir: &Path, name: &str, records: impl IntoIterator<Item = T>) -> Result<(), CityError> {
    let path = dir.join(name);
    let file = File::create(&path).map_err(|source| CityError::Write {
        path: path.clone(),
        source,
    })?;
    let mut out = BufWriter::with_capacity(1 << 20, file);
    for record in records {
        serde_json::to_writer(&mut out, &record).map_err(|source| CityError::Serialise {
            path: path.clone(),
            source,
        })?;
        out.write_all(b"\n").map_err(|source| CityError::Write {
            path: path.clone(),
            source,
        })?;
    }
    out.flush().map_err(|source| CityError::Write { path, source })
}

/// One line of `enrolment_history.jsonl`.
#[derive(Serialize)]
#[serde(untagged)]
enum HistoryLine<'a> {
    Unit(&'a wire::UnitUses),
    Child(&'a wire::ChildPlace),
}

impl City {
    /// Writes the dataset files into `dir` (created if missing), replacing
    /// files of the same names. UTF-8, one record per line, LF line ends.
    pub fn write_to(&self, dir: &Path) -> Result<(), CityError> {
        std::fs::create_dir_all(dir).map_err(|source| CityError::CreateDir {
            path: dir.to_path_buf(),
            source,
        })?;
        jsonl(dir, "persons.jsonl", &self.persons)?;
        jsonl(dir, "births.jsonl", &self.births)?;
        jsonl(dir, "properties.jsonl", &self.properties)?;
        jsonl(dir, "permits.jsonl", &self.permits)?;
        jsonl(dir, "social_insurance.jsonl", &self.social_insurance)?;
        jsonl(dir, "buildings.jsonl", &self.buildings)?;
        jsonl(
            dir,
            "enrolment_history.jsonl",
            self.unit_uses
                .iter()
                .map(HistoryLine::Unit)
                .chain(self.child_places.iter().map(HistoryLine::Child)),
        )?;
        jsonl(dir, "applications.jsonl", &self.applications)?;
        jsonl(dir, "applications-junior.jsonl", &self.junior_applications)?;
        self.write_schools(dir)
    }

    /// `schools.json`: one JSON array, a school per line.
    fn write_schools(&self, dir: &Path) -> Result<(), CityError> {
        let path = dir.join("schools.json");
        let mut text = String::from("[\n");
        for (i, school) in self.schools.iter().enumerate() {
            let line = serde_json::to_string(school).map_err(|source| CityError::Serialise {
                path: path.clone(),
                source,
            })?;
            text.push_str(&line);
            text.push_str(if i + 1 < self.schools.len() { ",\n" } else { "\n" });
        }
        text.push_str("]\n");
        std::fs::write(&path, text).map_err(|source| CityError::Write { path, source })
    }
}
