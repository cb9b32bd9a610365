//! The geometry of GEOSEARCH and GEORADIUS: distances on the sphere, which
//! points a circle or a box holds, and the nine geohash cells (a centre
//! cell and its neighbours, some pruned) whose score ranges cover a search.
//! The cell size is chosen by Redis's own estimate, and every formula is
//! evaluated in Redis's order, so that points on the edge of a search fall
//! on the same side as in Redis.

use super::hash::{self, HashBits};

/// Earth's quadratic mean radius for WGS-84, in meters.
pub const EARTH_RADIUS_M: f64 = 6372797.560856;

/// The extent of the Mercator projection, in meters.
const MERCATOR_MAX: f64 = 20037726.37;

/// Degrees to radians as Redis computes it (multiplying by π/180).
fn deg_rad(deg: f64) -> f64 {
    deg * (std::f64::consts::PI / 180.0)
}

fn rad_deg(rad: f64) -> f64 {
    rad / (std::f64::consts::PI / 180.0)
}

/// Meters between two latitudes on one meridian.
pub fn lat_distance(lat1: f64, lat2: f64) -> f64 {
    EARTH_RADIUS_M * (deg_rad(lat2) - deg_rad(lat1)).abs()
}

/// Great-circle distance in meters (haversine).
pub fn distance(lon1: f64, lat1: f64, lon2: f64, lat2: f64) -> f64 {
    let v = ((deg_rad(lon2) - deg_rad(lon1)) / 2.0).sin();
    // Same meridian: the general formula reduces to the latitude difference.
    if v == 0.0 {
        return lat_distance(lat1, lat2);
    }
    let (lat1r, lat2r) = (deg_rad(lat1), deg_rad(lat2));
    let u = ((lat2r - lat1r) / 2.0).sin();
    let a = u * u + lat1r.cos() * lat2r.cos() * v * v;
    2.0 * EARTH_RADIUS_M * a.sqrt().asin()
}

/// What a search covers, sized in its unit.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Extent {
    Radius(f64),
    Box { width: f64, height: f64 },
}

/// A search area: its centre, its extent, and the unit's size in meters.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Shape {
    pub longitude: f64,
    pub latitude: f64,
    pub extent: Extent,
    /// Meters per unit of `extent` (1 for m, 1000 for km...).
    pub to_meters: f64,
}

impl Shape {
    /// Whether the point at (`lon`, `lat`) lies in the shape, and its
    /// distance in meters from the centre if so.
    pub fn contains(&self, lon: f64, lat: f64) -> Option<f64> {
        match self.extent {
            Extent::Radius(r) => {
                let d = distance(self.longitude, self.latitude, lon, lat);
                (d <= r * self.to_meters).then_some(d)
            }
            Extent::Box { width, height } => {
                let (width_m, height_m) = (width * self.to_meters, height * self.to_meters);
                // The latitude test is the cheaper one, so it goes first.
                if lat_distance(lat, self.latitude) > height_m / 2.0 {
                    return None;
                }
                if distance(lon, lat, self.longitude, lat) > width_m / 2.0 {
                    return None;
                }
                Some(distance(self.longitude, self.latitude, lon, lat))
            }
        }
    }

    /// The shape's bounding box: (min longitude, min latitude, max
    /// longitude, max latitude). Meridians converge toward the pole, so the
    /// longitude span is taken at the edge nearer to it.
    fn bounds(&self) -> [f64; 4] {
        let (half_width, half_height) = match self.extent {
            Extent::Radius(r) => (r, r),
            Extent::Box { width, height } => (width / 2.0, height / 2.0),
        };
        let (width, height) = (self.to_meters * half_width, self.to_meters * half_height);
        let (lon, lat) = (self.longitude, self.latitude);
        let lat_delta = rad_deg(height / EARTH_RADIUS_M);
        let long_delta_top = rad_deg(width / EARTH_RADIUS_M / deg_rad(lat + lat_delta).cos());
        let long_delta_bottom = rad_deg(width / EARTH_RADIUS_M / deg_rad(lat - lat_delta).cos());
        let long_delta = if lat < 0.0 { long_delta_bottom } else { long_delta_top };
        [lon - long_delta, lat - lat_delta, lon + long_delta, lat + lat_delta]
    }

    /// The distance from the centre to the farthest point of the shape, in
    /// meters.
    fn reach_meters(&self) -> f64 {
        let r = match self.extent {
            Extent::Radius(r) => r,
            Extent::Box { width, height } => ((width / 2.0) * (width / 2.0) + (height / 2.0) * (height / 2.0)).sqrt(),
        };
        r * self.to_meters
    }

    /// The cells to scan, in Redis's order: the centre's, then north,
    /// south, east, west, north-east, north-west, south-east, south-west;
    /// [`HashBits::NONE`] for those the shape cannot reach.
    pub fn cells(&self) -> [HashBits; 9] {
        let [min_lon, min_lat, max_lon, max_lat] = self.bounds();
        let (lon, lat) = (self.longitude, self.latitude);
        let mut steps = estimate_steps(self.reach_meters(), lat);
        let at = |steps: u8| {
            let h = hash::encode_wgs84(lon, lat, steps).unwrap_or(HashBits { bits: 0, step: steps });
            (h, hash::neighbors(h))
        };
        let (mut center, mut n) = at(steps);
        // A shape near its cell's edge may reach past the neighbours: one
        // step coarser then.
        let area = |h: HashBits| hash::decode_wgs84(h).expect("a cell with steps");
        let too_small = area(n.north).latitude.max < max_lat
            || area(n.south).latitude.min > min_lat
            || area(n.east).longitude.max < max_lon
            || area(n.west).longitude.min > min_lon;
        if steps > 1 && too_small {
            steps -= 1;
            (center, n) = at(steps);
        }
        // Neighbours on a side the shape does not reach are left out.
        if steps >= 2 {
            let a = area(center);
            if a.latitude.min < min_lat {
                (n.south, n.south_west, n.south_east) = (HashBits::NONE, HashBits::NONE, HashBits::NONE);
            }
            if a.latitude.max > max_lat {
                (n.north, n.north_east, n.north_west) = (HashBits::NONE, HashBits::NONE, HashBits::NONE);
            }
            if a.longitude.min < min_lon {
                (n.west, n.south_west, n.north_west) = (HashBits::NONE, HashBits::NONE, HashBits::NONE);
            }
            if a.longitude.max > max_lon {
                (n.east, n.south_east, n.north_east) = (HashBits::NONE, HashBits::NONE, HashBits::NONE);
            }
        }
        [center, n.north, n.south, n.east, n.west, n.north_east, n.north_west, n.south_east, n.south_west]
    }
}

/// The cell precision for a search reaching `range_m` meters around
/// latitude `lat`: the finest whose cells still span the range, coarser
/// toward the poles.
pub fn estimate_steps(range_m: f64, lat: f64) -> u8 {
    if range_m == 0.0 {
        return hash::STEP_MAX;
    }
    let mut range = range_m;
    let mut step: i32 = 1;
    while range < MERCATOR_MAX {
        range *= 2.0;
        step += 1;
    }
    step -= 2;
    if !(-66.0..=66.0).contains(&lat) {
        step -= 1;
        if !(-80.0..=80.0).contains(&lat) {
            step -= 1;
        }
    }
    step.clamp(1, hash::STEP_MAX as i32) as u8
}

/// The scores a cell's points have: from `min` (included) to `max`
/// (excluded).
pub fn score_range(cell: HashBits) -> (f64, f64) {
    let min = cell.align52();
    let max = HashBits { bits: cell.bits + 1, step: cell.step }.align52();
    (min as f64, max as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distances_match_redis() {
        // GEODIST Sicily Palermo Catania on redis-server 7.0.15: 166274.1516.
        let (lon1, lat1) = hash::decode_score(3479099956230698.0).unwrap();
        let (lon2, lat2) = hash::decode_score(3479447370796909.0).unwrap();
        let d = distance(lon1, lat1, lon2, lat2);
        assert_eq!((d * 10000.0).round_ties_even() as i64, 1662741516);
        assert_eq!(distance(10.0, 10.0, 10.0, 11.0), lat_distance(10.0, 11.0));
    }

    #[test]
    fn steps_follow_the_range() {
        assert_eq!(estimate_steps(0.0, 0.0), 26);
        // 2^25 m is the first doubling past the Mercator extent: 26 - 2.
        assert_eq!(estimate_steps(1.0, 0.0), 24);
        assert_eq!(estimate_steps(1000.0, 0.0), 14);
        assert_eq!(estimate_steps(1000.0, 70.0), 13);
        assert_eq!(estimate_steps(1000.0, -85.0), 12);
        assert_eq!(estimate_steps(1e9, 0.0), 1);
    }

    #[test]
    fn shapes_contain_what_they_cover() {
        let circle = Shape { longitude: 0.0, latitude: 0.0, extent: Extent::Radius(1.0), to_meters: 1000.0 };
        assert!(circle.contains(0.0, 0.005).is_some());
        assert!(circle.contains(0.0, 0.01).is_none());
        let rect = Shape { longitude: 0.0, latitude: 0.0, extent: Extent::Box { width: 2.0, height: 200.0 }, to_meters: 1000.0 };
        assert!(rect.contains(0.0, 0.5).is_some());
        assert!(rect.contains(0.5, 0.0).is_none());
    }

    #[test]
    fn cells_cover_the_centre() {
        let shape = Shape { longitude: 13.5, latitude: 38.0, extent: Extent::Radius(200.0), to_meters: 1000.0 };
        let cells = shape.cells();
        let score = hash::score_of(13.5, 38.0).unwrap() as f64;
        let (min, max) = score_range(cells[0]);
        assert!(min <= score && score < max);
    }
}
