//! Overflow (统筹安排), policy.md "Allocation" 2: children still without a seat
//! after the mechanism get the nearest free public seat, in their home county first.

use std::collections::HashMap;

use enrol_domain::GeoPoint;

use crate::prepare::{NONE, Prepared};
use crate::view::View;

/// Seats the unplaced applicants one by one and returns those it placed (input
/// indices, in the order placed). Expects a validated instance with overflow on.
pub(crate) fn overflow(instance: &View<'_>, prep: &Prepared, assigned: &mut [u32]) -> Vec<u32> {
    let schools = &instance.schools;
    let mut free: Vec<u32> = prep.capacity.clone();
    for &s in assigned.iter() {
        if s != NONE {
            free[s as usize] -= 1;
        }
    }

    // School ids as numbers, for "ties go to the lower school id".
    let mut school_id_rank = vec![0u32; schools.len()];
    let mut by_school_id: Vec<u32> = (0..schools.len() as u32).collect();
    by_school_id.sort_unstable_by(|&a, &b| schools[a as usize].id.cmp(&schools[b as usize].id));
    for (rank, &s) in by_school_id.iter().enumerate() {
        school_id_rank[s as usize] = rank as u32;
    }

    // Public schools with a free seat, everywhere and per county; a school
    // leaves both lists when it fills.
    let mut county_index: HashMap<&str, usize> = HashMap::new();
    let mut open_in_county: Vec<Vec<u32>> = Vec::new();
    let mut free_in_county: Vec<u64> = Vec::new();
    let mut county_of = vec![usize::MAX; schools.len()];
    let mut open_anywhere: Vec<u32> = Vec::new();
    let mut free_anywhere: u64 = 0;
    let mut location = vec![Place::default(); schools.len()];
    for (s, school) in schools.iter().enumerate() {
        // Validation guarantees public schools have a county and a location here.
        let (Some(true), Some(county), Some(at)) = (school.public, school.county.as_deref(), school.location) else {
            continue;
        };
        location[s] = Place::new(GeoPoint {
            lat: at.lat,
            lon: at.lon,
        });
        let c = *county_index.entry(county).or_insert_with(|| {
            open_in_county.push(Vec::new());
            free_in_county.push(0);
            open_in_county.len() - 1
        });
        county_of[s] = c;
        if free[s] > 0 {
            open_in_county[c].push(s as u32);
            open_anywhere.push(s as u32);
            free_in_county[c] += u64::from(free[s]);
            free_anywhere += u64::from(free[s]);
        }
    }

    // Best tier first (none last), then lottery, then id.
    let mut waiting: Vec<u32> = (0..assigned.len() as u32)
        .filter(|&a| assigned[a as usize] == NONE)
        .collect();
    waiting.sort_unstable_by_key(|&a| {
        let applicant = &instance.applicants[a as usize];
        (
            applicant.best_tier.map_or(u64::MAX, u64::from),
            prep.lottery[a as usize],
            prep.id_rank[a as usize],
        )
    });

    let mut placed = Vec::new();
    for a in waiting {
        if free_anywhere == 0 {
            break;
        }
        let home = instance.applicants[a as usize].home.as_ref();
        let home_county = home
            .and_then(|h| h.county.as_deref())
            .and_then(|county| county_index.get(county).copied())
            .filter(|&c| free_in_county[c] > 0);
        let home_at = home.and_then(|h| {
            Some(Place::new(GeoPoint {
                lat: h.lat?,
                lon: h.lon?,
            }))
        });
        let candidates = match home_county {
            Some(c) => &open_in_county[c],
            None => &open_anywhere,
        };
        let chosen = match home_at {
            Some(at) => nearest(candidates, &location, &school_id_rank, at),
            None => roomiest(candidates, &free, &school_id_rank),
        };
        let Some(s) = chosen else { break };
        let su = s as usize;
        assigned[a as usize] = s;
        placed.push(a);
        free[su] -= 1;
        free_in_county[county_of[su]] -= 1;
        free_anywhere -= 1;
        if free[su] == 0 {
            open_in_county[county_of[su]].retain(|&x| x != s);
            open_anywhere.retain(|&x| x != s);
        }
    }
    placed
}

/// A point with what the haversine formula needs of it precomputed: its
/// latitude in radians and that latitude's cosine, exactly as
/// [`GeoPoint::distance_km`] computes them, so distances come out bit for bit
/// the same with two cosines fewer per pair.
#[derive(Debug, Clone, Copy, Default)]
struct Place {
    lat_rad: f64,
    cos_lat: f64,
    lon: f64,
}

impl Place {
    fn new(at: GeoPoint) -> Place {
        let lat_rad = at.lat.to_radians();
        Place {
            lat_rad,
            cos_lat: lat_rad.cos(),
            lon: at.lon,
        }
    }

    /// `GeoPoint::distance_km(self, other)`, the same operations in the same order.
    fn distance_km(&self, other: &Place) -> f64 {
        let dlat = other.lat_rad - self.lat_rad;
        let dlon = (other.lon - self.lon).to_radians();
        let a = (dlat / 2.0).sin().powi(2) + self.cos_lat * other.cos_lat * (dlon / 2.0).sin().powi(2);
        2.0 * enrol_domain::EARTH_RADIUS_KM * a.sqrt().asin()
    }
}

/// The nearest school, ties to the lower id.
fn nearest(candidates: &[u32], location: &[Place], id_rank: &[u32], home: Place) -> Option<u32> {
    candidates
        .iter()
        .map(|&s| (home.distance_km(&location[s as usize]), id_rank[s as usize], s))
        .min_by(|x, y| x.0.total_cmp(&y.0).then(x.1.cmp(&y.1)))
        .map(|(_, _, s)| s)
}

/// With no home location: the school with the most free seats, ties to the lower id.
fn roomiest(candidates: &[u32], free: &[u32], id_rank: &[u32]) -> Option<u32> {
    candidates
        .iter()
        .min_by_key(|&&s| (std::cmp::Reverse(free[s as usize]), id_rank[s as usize]))
        .copied()
}

#[cfg(test)]
mod tests {
    use enrol_domain::GeoPoint;
    use proptest::prelude::*;

    use super::Place;

    proptest! {
        /// The precomputed form gives exactly the domain's haversine distance.
        #[test]
        fn place_distances_are_bit_identical_to_the_domains(
            a in (-90.0f64..=90.0, -180.0f64..=180.0),
            b in (-90.0f64..=90.0, -180.0f64..=180.0),
        ) {
            let (p, q) = (GeoPoint { lat: a.0, lon: a.1 }, GeoPoint { lat: b.0, lon: b.1 });
            prop_assert_eq!(Place::new(p).distance_km(&Place::new(q)).to_bits(), p.distance_km(&q).to_bits());
        }
    }
}
