//! Doubles as Redis reads them (C's `strtod`, Redis's `string2d`: config
//! values, scores, SORT keys) and stores them as text (`d2string`: listpack
//! scores). Replies use [`Reply::double`](corvid_proto::resp::Reply::double)
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

/// C's isspace.
pub fn is_c_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

/// A parsed strtod prefix: the value, how many bytes it took (0: no number
/// at all) and whether it over- or underflowed (ERANGE with ±HUGE_VAL or 0).
pub struct Strtod {
    pub value: f64,
    pub len: usize,
    pub out_of_range: bool,
}

/// C's `strtod` in the C locale: leading spaces, a sign, then a decimal or
/// hexadecimal number, "inf", "infinity" or "nan".
pub fn strtod(s: &[u8]) -> Strtod {
    let none = Strtod { value: 0.0, len: 0, out_of_range: false };
    let mut i = s.iter().take_while(|&&b| is_c_space(b)).count();
    let sign_at = i;
    let negative = s.get(i) == Some(&b'-');
    if matches!(s.get(i), Some(b'-' | b'+')) {
        i += 1;
    }
    let rest = &s[i..];
    let signed = |v: f64| if negative { -v } else { v };
    let starts = |word: &[u8]| rest.len() >= word.len() && rest[..word.len()].eq_ignore_ascii_case(word);
    if starts(b"infinity") {
        return Strtod { value: signed(f64::INFINITY), len: i + 8, out_of_range: false };
    }
    if starts(b"inf") {
        return Strtod { value: signed(f64::INFINITY), len: i + 3, out_of_range: false };
    }
    if starts(b"nan") {
        // An optional "(chars)" belongs to the NaN.
        let tail = &rest[3..];
        let extra = match tail.first() {
            Some(b'(') => tail[1..]
                .iter()
                .position(|&b| !(b.is_ascii_alphanumeric() || b == b'_'))
                .filter(|&p| tail[1 + p] == b')')
                .map_or(0, |p| p + 2),
            _ => 0,
        };
        return Strtod { value: f64::NAN, len: i + 3 + extra, out_of_range: false };
    }
    if rest.len() > 2 && rest[0] == b'0' && rest[1] | 0x20 == b'x' {
        if let Some((value, len, out_of_range)) = hex_float(&rest[2..]) {
            return Strtod { value: signed(value), len: i + 2 + len, out_of_range };
        }
    }
    let digits = |from: usize| rest[from..].iter().take_while(|b| b.is_ascii_digit()).count();
    let int_digits = digits(0);
    let mut j = int_digits;
    let mut frac_digits = 0;
    if rest.get(j) == Some(&b'.') {
        frac_digits = digits(j + 1);
        j += 1 + frac_digits;
    }
    if int_digits + frac_digits == 0 {
        return none;
    }
    let mantissa_nonzero = rest[..j].iter().any(|&b| (b'1'..=b'9').contains(&b));
    if matches!(rest.get(j), Some(b'e' | b'E')) {
        let sign = usize::from(matches!(rest.get(j + 1), Some(b'+' | b'-')));
        let exp_digits = digits(j + 1 + sign);
        if exp_digits > 0 {
            j += 1 + sign + exp_digits;
        }
    }
    let text = std::str::from_utf8(&s[sign_at..i + j]).expect("ASCII");
    let value: f64 = text.parse().unwrap_or(0.0);
    let out_of_range = value.is_infinite() || (value == 0.0 && mantissa_nonzero);
    Strtod { value, len: i + j, out_of_range }
}

/// The digits of a hex float after "0x": (value, bytes used, out of range),
/// None when no hex digit follows (strtod then reads just the "0").
fn hex_float(s: &[u8]) -> Option<(f64, usize, bool)> {
    let mut mantissa = 0u64;
    let mut exp: i64 = 0;
    let mut sticky = false;
    let mut seen = false;
    let mut point = false;
    let mut j = 0;
    while j < s.len() {
        let d = match s[j] {
            b'.' if !point => {
                point = true;
                j += 1;
                continue;
            }
            b => match (b as char).to_digit(16) {
                Some(d) => d as u64,
                None => break,
            },
        };
        seen = true;
        if mantissa >> 56 == 0 {
            mantissa = mantissa << 4 | d;
            if point {
                exp -= 4;
            }
        } else {
            // Beyond 60 bits only whether anything was dropped matters.
            sticky |= d != 0;
            if !point {
                exp += 4;
            }
        }
        j += 1;
    }
    if !seen {
        return None;
    }
    if matches!(s.get(j), Some(b'p' | b'P')) {
        let sign = usize::from(matches!(s.get(j + 1), Some(b'+' | b'-')));
        let digits: Vec<u8> = s[j + 1 + sign..].iter().copied().take_while(u8::is_ascii_digit).collect();
        if !digits.is_empty() {
            let magnitude = digits.iter().fold(0i64, |acc, &d| acc.saturating_mul(10).saturating_add((d - b'0') as i64));
            exp = exp.saturating_add(if s[j + 1] == b'-' { -magnitude } else { magnitude });
            j += 1 + sign + digits.len();
        }
    }
    // The sticky bit lies below double precision, so it only breaks ties.
    let mut value = (mantissa | sticky as u64) as f64;
    while exp > 0 && value.is_finite() && value != 0.0 {
        let step = exp.min(1000);
        value *= 2f64.powi(step as i32);
        exp -= step;
    }
    while exp < 0 && value != 0.0 {
        let step = exp.max(-1000);
        value *= 2f64.powi(step as i32);
        exp -= step;
    }
    Some((value, j, value.is_infinite() || (value == 0.0 && mantissa != 0)))
}

/// Redis's `string2d` (getDoubleFromObject, config doubles, scores): the
/// whole argument is one strtod number, no leading space, no NaN, no
/// overflow or underflow to zero. Hex floats and "inf" are numbers.
pub fn string2d(a: &[u8]) -> Option<f64> {
    if a.first().is_none_or(|&b| is_c_space(b)) {
        return None;
    }
    let r = strtod(a);
    (r.len == a.len() && !r.out_of_range && !r.value.is_nan()).then_some(r.value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strtod_like_c() {
        let full = |s: &str| {
            let r = strtod(s.as_bytes());
            (r.value, r.len, r.out_of_range)
        };
        assert_eq!(full("1.5"), (1.5, 3, false));
        assert_eq!(full(" -2e3x"), (-2000.0, 5, false));
        assert_eq!(full("1e"), (1.0, 1, false));
        assert_eq!(full("+.5"), (0.5, 3, false));
        assert_eq!(full("."), (0.0, 0, false));
        assert_eq!(full("-inf"), (f64::NEG_INFINITY, 4, false));
        assert_eq!(full("Infinity"), (f64::INFINITY, 8, false));
        assert_eq!(full("0x10"), (16.0, 4, false));
        assert_eq!(full("0x1p-2"), (0.25, 6, false));
        assert_eq!(full("0x"), (0.0, 1, false));
        assert_eq!(full("1e400"), (f64::INFINITY, 5, true));
        assert_eq!(full("1e-400"), (0.0, 6, true));
        assert!(strtod(b"nan(123)").value.is_nan() && strtod(b"nan(123)").len == 8);
        assert_eq!(string2d(b" 1"), None);
        assert_eq!(string2d(b""), None);
        assert_eq!(string2d(b"nan"), None);
        assert_eq!(string2d(b"1e400"), None);
        assert_eq!(string2d(b"-0x1.8p1"), Some(-3.0));
    }

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
