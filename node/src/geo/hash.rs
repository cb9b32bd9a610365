//! Redis's geohash: longitude and latitude each cut into 2^step cells,
//! their cell numbers interleaved bit by bit (latitude on the even bits,
//! longitude on the odd ones). At 26 steps that is 52 bits, which a
//! sorted-set score (a double) holds exactly: GEOADD stores points as
//! those scores, so every computation here must give Redis's bits.

/// Finest precision: 26 steps of 2 bits each fill a double's mantissa.
pub const STEP_MAX: u8 = 26;

/// Latitudes beyond these cannot be projected (EPSG:900913's limits).
pub const LAT_MIN: f64 = -85.05112878;
pub const LAT_MAX: f64 = 85.05112878;
pub const LONG_MIN: f64 = -180.0;
pub const LONG_MAX: f64 = 180.0;

/// An interval of coordinates.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Range {
    pub min: f64,
    pub max: f64,
}

/// The ranges Redis hashes in (its own latitude limits, not ±90).
pub const WGS84_LONG: Range = Range { min: LONG_MIN, max: LONG_MAX };
pub const WGS84_LAT: Range = Range { min: LAT_MIN, max: LAT_MAX };

/// The ranges of the standard geohash, which GEOHASH's strings use.
pub const STANDARD_LONG: Range = Range { min: -180.0, max: 180.0 };
pub const STANDARD_LAT: Range = Range { min: -90.0, max: 90.0 };

/// A cell: `step` bits of precision per coordinate, interleaved in `bits`.
/// All zeros (step 0) stands for "no cell", as a pruned neighbour.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct HashBits {
    pub bits: u64,
    pub step: u8,
}

impl HashBits {
    pub const NONE: HashBits = HashBits { bits: 0, step: 0 };

    pub fn is_none(&self) -> bool {
        self.bits == 0 && self.step == 0
    }

    /// The cell's first value as a 52-bit score: cells are prefixes of
    /// scores, so a cell's points are the scores from this value up to
    /// (excluding) the next cell's.
    pub fn align52(&self) -> u64 {
        self.bits << (52 - self.step as u32 * 2)
    }
}

/// The extent of a cell.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Area {
    pub longitude: Range,
    pub latitude: Range,
}

/// Spread the low 32 bits of `x` onto the even bits and those of `y` onto
/// the odd bits.
fn interleave(x: u32, y: u32) -> u64 {
    fn spread(v: u32) -> u64 {
        let mut v = v as u64;
        v = (v | (v << 16)) & 0x0000_FFFF_0000_FFFF;
        v = (v | (v << 8)) & 0x00FF_00FF_00FF_00FF;
        v = (v | (v << 4)) & 0x0F0F_0F0F_0F0F_0F0F;
        v = (v | (v << 2)) & 0x3333_3333_3333_3333;
        (v | (v << 1)) & 0x5555_5555_5555_5555
    }
    spread(x) | (spread(y) << 1)
}

/// Undo [`interleave`]: the even bits gathered in the low half, the odd
/// bits in the high half.
fn deinterleave(v: u64) -> u64 {
    fn gather(mut v: u64) -> u64 {
        v &= 0x5555_5555_5555_5555;
        v = (v | (v >> 1)) & 0x3333_3333_3333_3333;
        v = (v | (v >> 2)) & 0x0F0F_0F0F_0F0F_0F0F;
        v = (v | (v >> 4)) & 0x00FF_00FF_00FF_00FF;
        v = (v | (v >> 8)) & 0x0000_FFFF_0000_FFFF;
        (v | (v >> 16)) & 0x0000_0000_FFFF_FFFF
    }
    gather(v) | (gather(v >> 1) << 32)
}

/// The cell of `step` bits holding a point, within the given ranges; None
/// outside them or outside what can be projected at all.
pub fn encode(long_range: Range, lat_range: Range, longitude: f64, latitude: f64, step: u8) -> Option<HashBits> {
    if step == 0 || step > 32 {
        return None;
    }
    let outside = |v: f64, r: Range| v < r.min || v > r.max;
    if outside(longitude, WGS84_LONG) || outside(latitude, WGS84_LAT) || outside(longitude, long_range) || outside(latitude, lat_range) {
        return None;
    }
    let cells = (1u64 << step) as f64;
    let lat_offset = (latitude - lat_range.min) / (lat_range.max - lat_range.min) * cells;
    let long_offset = (longitude - long_range.min) / (long_range.max - long_range.min) * cells;
    // Truncation toward zero, as C's double-to-integer conversion.
    Some(HashBits { bits: interleave(lat_offset as u32, long_offset as u32), step })
}

/// A point's cell at full precision in Redis's ranges.
pub fn encode_wgs84(longitude: f64, latitude: f64, step: u8) -> Option<HashBits> {
    encode(WGS84_LONG, WGS84_LAT, longitude, latitude, step)
}

/// The extent of a cell; None for [`HashBits::NONE`].
pub fn decode(long_range: Range, lat_range: Range, hash: HashBits) -> Option<Area> {
    if hash.is_none() {
        return None;
    }
    let separated = deinterleave(hash.bits);
    let lat_cell = separated & 0xFFFF_FFFF;
    let long_cell = separated >> 32;
    let cells = (1u64 << hash.step) as f64;
    let at = |r: Range, cell: u64| r.min + (cell as f64 / cells) * (r.max - r.min);
    Some(Area {
        latitude: Range { min: at(lat_range, lat_cell), max: at(lat_range, lat_cell + 1) },
        longitude: Range { min: at(long_range, long_cell), max: at(long_range, long_cell + 1) },
    })
}

pub fn decode_wgs84(hash: HashBits) -> Option<Area> {
    decode(WGS84_LONG, WGS84_LAT, hash)
}

impl Area {
    /// The cell's centre, kept within the projectable ranges.
    pub fn center(&self) -> (f64, f64) {
        let lon = ((self.longitude.min + self.longitude.max) / 2.0).clamp(LONG_MIN, LONG_MAX);
        let lat = ((self.latitude.min + self.latitude.max) / 2.0).clamp(LAT_MIN, LAT_MAX);
        (lon, lat)
    }
}

/// The position a GEOADD score stands for: the centre of its 52-bit cell.
/// The score is truncated to an integer first, as Redis converts it.
pub fn decode_score(score: f64) -> Option<(f64, f64)> {
    decode_wgs84(HashBits { bits: score as u64, step: STEP_MAX }).map(|a| a.center())
}

/// The score GEOADD stores for a point (None outside the projectable
/// ranges, which callers reject first).
pub fn score_of(longitude: f64, latitude: f64) -> Option<u64> {
    encode_wgs84(longitude, latitude, STEP_MAX).map(|h| h.align52())
}

/// The neighbouring cells, in the order the radius search visits them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Neighbors {
    pub north: HashBits,
    pub south: HashBits,
    pub east: HashBits,
    pub west: HashBits,
    pub north_east: HashBits,
    pub north_west: HashBits,
    pub south_east: HashBits,
    pub south_west: HashBits,
}

/// Move a cell by one along longitude (the odd bits, `d` > 0 east) or
/// latitude (the even bits, `d` > 0 north), wrapping around the world.
fn shift(hash: HashBits, along_longitude: bool, d: i8) -> HashBits {
    if d == 0 {
        return hash;
    }
    const EVEN: u64 = 0x5555_5555_5555_5555;
    const ODD: u64 = 0xaaaa_aaaa_aaaa_aaaa;
    let (moving_mask, other_mask) = if along_longitude { (ODD, EVEN) } else { (EVEN, ODD) };
    let width = 64 - hash.step as u32 * 2;
    let mut moving = hash.bits & moving_mask;
    let other = hash.bits & other_mask;
    // Setting the other coordinate's bits makes a carry run across them.
    let fill = other_mask >> width;
    if d > 0 {
        moving = moving.wrapping_add(fill.wrapping_add(1));
    } else {
        moving = (moving | fill).wrapping_sub(fill.wrapping_add(1));
    }
    moving &= moving_mask >> width;
    HashBits { bits: moving | other, step: hash.step }
}

pub fn neighbors(hash: HashBits) -> Neighbors {
    let at = |dx: i8, dy: i8| shift(shift(hash, true, dx), false, dy);
    Neighbors {
        east: at(1, 0),
        west: at(-1, 0),
        south: at(0, -1),
        north: at(0, 1),
        north_west: at(-1, 1),
        north_east: at(1, 1),
        south_east: at(1, -1),
        south_west: at(-1, -1),
    }
}

/// GEOHASH's 11-character string: the point re-encoded in the standard
/// ±90 latitude range, 5 bits per base-32 character; the 52 bits fill 10
/// characters and a zero one pads to the customary 11.
pub fn standard_string(longitude: f64, latitude: f64) -> [u8; 11] {
    const ALPHABET: &[u8; 32] = b"0123456789bcdefghjkmnpqrstuvwxyz";
    let bits = encode(STANDARD_LONG, STANDARD_LAT, longitude, latitude, STEP_MAX).map_or(0, |h| h.bits);
    let mut out = [ALPHABET[0]; 11];
    for (i, c) in out.iter_mut().take(10).enumerate() {
        *c = ALPHABET[((bits >> (52 - (i + 1) * 5)) & 0x1f) as usize];
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interleave_round_trips() {
        for (x, y) in [(0u32, 0u32), (1, 0), (0, 1), (0xdead_beef, 0x1234_5678), (u32::MAX, 7)] {
            let v = deinterleave(interleave(x, y));
            assert_eq!((v as u32, (v >> 32) as u32), (x, y));
        }
        assert_eq!(interleave(1, 0), 1);
        assert_eq!(interleave(0, 1), 2);
    }

    #[test]
    fn scores_match_redis() {
        // GEOADD Sicily 13.361389 38.115556 Palermo 15.087269 37.502669 Catania
        // on redis-server 7.0.15, then ZRANGE WITHSCORES.
        assert_eq!(score_of(13.361389, 38.115556), Some(3479099956230698));
        assert_eq!(score_of(15.087269, 37.502669), Some(3479447370796909));
        assert_eq!(score_of(200.0, 0.0), None);
        assert_eq!(score_of(0.0, 85.06), None);
    }

    #[test]
    fn decoded_positions_match_redis() {
        let (lon, lat) = decode_score(3479099956230698.0).unwrap();
        assert_eq!(format!("{lon:.17}"), "13.36138933897018433");
        assert_eq!(format!("{lat:.17}"), "38.11555639549629859");
    }

    #[test]
    fn geohash_strings_match_redis() {
        let (lon, lat) = decode_score(3479099956230698.0).unwrap();
        assert_eq!(&standard_string(lon, lat), b"sqc8b49rny0");
        let (lon, lat) = decode_score(3479447370796909.0).unwrap();
        assert_eq!(&standard_string(lon, lat), b"sqdtr74hyu0");
    }

    #[test]
    fn neighbours_are_adjacent_cells() {
        let h = encode_wgs84(10.0, 20.0, 10).unwrap();
        let area = decode_wgs84(h).unwrap();
        let n = neighbors(h);
        let north = decode_wgs84(n.north).unwrap();
        assert_eq!(north.latitude.min, area.latitude.max);
        assert_eq!(north.longitude, area.longitude);
        let east = decode_wgs84(n.east).unwrap();
        assert_eq!(east.longitude.min, area.longitude.max);
        assert_eq!(east.latitude, area.latitude);
        let sw = decode_wgs84(n.south_west).unwrap();
        assert_eq!(sw.longitude.max, area.longitude.min);
        assert_eq!(sw.latitude.max, area.latitude.min);
        // West of the first column wraps to the last.
        let edge = encode_wgs84(-180.0, 0.0, 4).unwrap();
        let west = decode_wgs84(neighbors(edge).west).unwrap();
        assert_eq!(west.longitude.max, 180.0);
    }
}
