//! Locations and distances.

use serde::{Deserialize, Serialize};

/// Mean Earth radius that policy.md fixes for distances.
pub const EARTH_RADIUS_KM: f64 = 6371.0;

/// A point on the map (WGS-84 degrees).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct GeoPoint {
    pub lat: f64,
    pub lon: f64,
}

impl GeoPoint {
    /// Haversine great-circle distance in kilometres, in double precision, as
    /// policy.md prescribes (so independent implementations agree).
    pub fn distance_km(&self, other: &GeoPoint) -> f64 {
        let (lat1, lat2) = (self.lat.to_radians(), other.lat.to_radians());
        let dlat = lat2 - lat1;
        let dlon = (other.lon - self.lon).to_radians();
        let a = (dlat / 2.0).sin().powi(2) + lat1.cos() * lat2.cos() * (dlon / 2.0).sin().powi(2);
        2.0 * EARTH_RADIUS_KM * a.sqrt().asin()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn haversine_matches_known_distances() {
        let jining = GeoPoint {
            lat: 35.4153,
            lon: 116.5872,
        };
        assert_eq!(jining.distance_km(&jining), 0.0);
        // One degree of latitude is 2πR/360 km.
        let north = GeoPoint {
            lat: 36.4153,
            lon: 116.5872,
        };
        let expected = 2.0 * std::f64::consts::PI * EARTH_RADIUS_KM / 360.0;
        assert!((jining.distance_km(&north) - expected).abs() < 1e-9);
        // Symmetric.
        let other = GeoPoint {
            lat: 35.40,
            lon: 116.60,
        };
        assert_eq!(jining.distance_km(&other), other.distance_km(&jining));
    }
}
