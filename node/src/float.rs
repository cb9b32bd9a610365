//! Doubles as Redis stores them as text (`d2string`): listpack scores,
//! SORT's keys. Replies use [`Reply::double`](corvid_proto::resp::Reply::double)
//! and `%.17g` is [`format_double_17g`].

pub use corvid_proto::resp::format_double_17g;

/// Redis's `d2string`: nan, inf, -inf, -0, integers printed as integers when
/// exact (|d| up to 2^62), else `%.17g`.
pub fn d2string(d: f64) -> String {
    match double2ll(d) {
        Some(n) if d != 0.0 => itoa::Buffer::new().format(n).to_owned(),
        _ => format_double_17g(d),
    }
}

/// Redis's `double2ll`: the integer `d` equals, when |d| ≤ LLONG_MAX/2.
pub fn double2ll(d: f64) -> Option<i64> {
    let half = (i64::MAX / 2) as f64;
    if !(-half..=half).contains(&d) {
        return None;
    }
    let n = d as i64;
    (n as f64 == d).then_some(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_like_redis() {
        assert_eq!(d2string(3.0), "3");
        assert_eq!(d2string(-0.0), "-0");
        assert_eq!(d2string(0.0), "0");
        assert_eq!(d2string(f64::NEG_INFINITY), "-inf");
        assert_eq!(d2string(1.5), "1.5");
        assert_eq!(d2string(1e300), "1.0000000000000001e+300");
    }
}
