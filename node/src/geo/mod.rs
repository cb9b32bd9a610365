//! Geospatial indexing on sorted sets (Redis's geohash.c,
//! geohash_helper.c and the pure parts of geo.c): the commands live in
//! `cmd::geo`; nothing here knows about keys or RESP.
//!
//! # Layout
//! - [`hash`]: the 52-bit interleaved geohash that GEOADD stores as a
//!   score, cells, neighbours, and GEOHASH's base-32 strings.
//! - [`search`]: distances, circle and box shapes, and the cells a search
//!   scans.

pub mod hash;
pub mod search;

/// A distance as GEODIST and WITHDIST print it: rounded (half to even, as
/// `llrint`) to four decimals, always with all four.
pub fn format_distance(d: f64) -> String {
    if d == 0.0 {
        return "0.0000".to_string();
    }
    let scaled = (d * 10000.0).round_ties_even() as i64;
    let sign = if scaled < 0 { "-" } else { "" };
    let v = scaled.unsigned_abs();
    format!("{sign}{}.{:04}", v / 10000, v % 10000)
}

/// A coordinate as GEOPOS and WITHCOORD print it (Redis's "human" long
/// double format): 17 decimals, trailing zeros and a bare point removed,
/// and "-0" printed as "0".
pub fn format_coordinate(v: f64) -> String {
    if v.is_infinite() {
        return if v > 0.0 { "inf".into() } else { "-inf".into() };
    }
    let mut s = format!("{v:.17}");
    if s.contains('.') {
        let trimmed = s.trim_end_matches('0').trim_end_matches('.').len();
        s.truncate(trimmed);
    }
    if s == "-0" {
        s = "0".into();
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distances_print_with_four_decimals() {
        assert_eq!(format_distance(0.0), "0.0000");
        assert_eq!(format_distance(166274.15156960033), "166274.1516");
        assert_eq!(format_distance(0.00004), "0.0000");
        assert_eq!(format_distance(0.7750), "0.7750");
        assert_eq!(format_distance(12.5), "12.5000");
    }

    #[test]
    fn coordinates_print_like_redis() {
        assert_eq!(format_coordinate(13.361389338970184), "13.36138933897018433");
        assert_eq!(format_coordinate(10.0), "10");
        assert_eq!(format_coordinate(-0.0), "0");
        assert_eq!(format_coordinate(-0.5), "-0.5");
    }
}
