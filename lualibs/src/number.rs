//! The C number conversions Lua CJSON relies on, reproduced exactly:
//! `snprintf("%.<p>g")` for encoding and glibc `strtod` for decoding (which
//! accepts more than JSON: `+1`, `0x1F`, `inf`, `nan(...)`, leading zeros).

/// `printf("%.{precision}g", x)` as glibc prints it. `precision` is 1..=14
/// in cjson (any value >= 1 works).
pub(crate) fn format_g(x: f64, precision: usize) -> String {
    let p = precision.max(1);
    if x.is_nan() {
        return if x.is_sign_negative() { "-nan" } else { "nan" }.to_string();
    }
    if x.is_infinite() {
        return if x < 0.0 { "-inf" } else { "inf" }.to_string();
    }
    // Rust's exact float formatting rounds half to even on the exact binary
    // value, as glibc does, so the digits agree; only the layout differs.
    let sci = format!("{:.*e}", p - 1, x);
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    if exp < -4 || exp >= p as i32 {
        let mut out = strip_fraction_zeros(mantissa).to_string();
        out.push('e');
        out.push(if exp < 0 { '-' } else { '+' });
        let abs = exp.unsigned_abs();
        if abs < 10 {
            out.push('0');
        }
        out.push_str(&abs.to_string());
        out
    } else {
        let decimals = (p as i32 - 1 - exp).max(0) as usize;
        strip_fraction_zeros(&format!("{:.*}", decimals, x)).to_string()
    }
}

/// `%g` drops trailing zeros of the fraction, and the point if none remain.
fn strip_fraction_zeros(s: &str) -> &str {
    if !s.contains('.') {
        return s;
    }
    s.trim_end_matches('0').trim_end_matches('.')
}

/// glibc `strtod` in the C locale on `s` (which starts where the number
/// should; no leading blanks). Returns the value and how many bytes form the
/// number; 0 bytes means no conversion.
pub(crate) fn strtod(s: &[u8]) -> (f64, usize) {
    let at = |i: usize| s.get(i).copied().unwrap_or(0);
    let mut i = 0;
    let negative = match at(0) {
        b'-' => {
            i = 1;
            true
        }
        b'+' => {
            i = 1;
            false
        }
        _ => false,
    };
    let sign = |v: f64| if negative { -v } else { v };
    let rest = &s[i.min(s.len())..];
    if starts_with_ignore_case(rest, b"inf") {
        let len = if starts_with_ignore_case(rest, b"infinity") { 8 } else { 3 };
        return (sign(f64::INFINITY), i + len);
    }
    if starts_with_ignore_case(rest, b"nan") {
        let mut end = i + 3;
        // "nan(chars)" is one token only when the parenthesis closes.
        if at(end) == b'(' {
            let mut j = end + 1;
            while at(j).is_ascii_alphanumeric() || at(j) == b'_' {
                j += 1;
            }
            if at(j) == b')' {
                end = j + 1;
            }
        }
        return (sign(f64::NAN), end);
    }
    if at(i) == b'0' && (at(i + 1) | 0x20) == b'x' {
        let (value, len) = hex_float(&s[i + 2..]);
        return match len {
            // "0x" without hex digits: only the "0" is a number.
            0 => (sign(0.0), i + 1),
            len => (sign(value), i + 2 + len),
        };
    }
    let start = i;
    let mut digits = 0;
    while at(i).is_ascii_digit() {
        i += 1;
        digits += 1;
    }
    if at(i) == b'.' {
        i += 1;
        while at(i).is_ascii_digit() {
            i += 1;
            digits += 1;
        }
    }
    if digits == 0 {
        return (0.0, 0);
    }
    if at(i) | 0x20 == b'e' {
        let mut j = i + 1;
        if at(j) == b'+' || at(j) == b'-' {
            j += 1;
        }
        if at(j).is_ascii_digit() {
            while at(j).is_ascii_digit() {
                j += 1;
            }
            i = j;
        }
    }
    // The scanned text is valid Rust float syntax, which Rust converts with
    // correct rounding, as glibc does.
    let text = std::str::from_utf8(&s[start..i]).unwrap_or("0");
    (sign(text.parse::<f64>().unwrap_or(0.0)), i)
}

fn starts_with_ignore_case(s: &[u8], word: &[u8]) -> bool {
    s.len() >= word.len() && s[..word.len()].eq_ignore_ascii_case(word)
}

/// The part of a hexadecimal float after "0x": digits, optional fraction,
/// optional binary exponent. Returns the value and the bytes used (0 when
/// there is no hex digit).
fn hex_float(s: &[u8]) -> (f64, usize) {
    let at = |i: usize| s.get(i).copied().unwrap_or(0);
    let mut mantissa: u64 = 0;
    let mut sticky = false;
    // Power of two applied to `mantissa`.
    let mut exp: i64 = 0;
    let mut digits = 0;
    let mut i = 0;
    let mut in_fraction = false;
    loop {
        let c = at(i);
        if c == b'.' && !in_fraction {
            in_fraction = true;
            i += 1;
            continue;
        }
        let Some(d) = (c as char).to_digit(16) else { break };
        digits += 1;
        if mantissa >> 60 == 0 {
            mantissa = mantissa << 4 | u64::from(d);
            if in_fraction {
                exp -= 4;
            }
        } else {
            // Beyond 64 bits only whether anything was non-zero matters.
            sticky |= d != 0;
            if !in_fraction {
                exp += 4;
            }
        }
        i += 1;
    }
    if digits == 0 {
        return (0.0, 0);
    }
    if at(i) | 0x20 == b'p' {
        let mut j = i + 1;
        let negative = at(j) == b'-';
        if at(j) == b'+' || at(j) == b'-' {
            j += 1;
        }
        if at(j).is_ascii_digit() {
            let mut e: i64 = 0;
            while at(j).is_ascii_digit() {
                e = (e * 10 + i64::from(at(j) - b'0')).min(1 << 40);
                j += 1;
            }
            exp += if negative { -e } else { e };
            i = j;
        }
    }
    if sticky {
        // A set lowest bit stands for the dropped digits when rounding to 53
        // bits: the mantissa holds at least 61 significant bits here.
        mantissa |= 1;
    }
    (scale_by_power_of_two(mantissa as f64, exp), i)
}

/// `ldexp`: stepping keeps intermediate values finite and non-zero.
fn scale_by_power_of_two(mut x: f64, mut exp: i64) -> f64 {
    while exp > 1000 && x.is_finite() && x != 0.0 {
        x *= 2f64.powi(1000);
        exp -= 1000;
    }
    while exp < -1000 && x != 0.0 {
        x *= 2f64.powi(-1000);
        exp += 1000;
    }
    x * 2f64.powi(exp as i32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn g_format_matches_c() {
        let cases: &[(f64, usize, &str)] = &[
            (0.0, 14, "0"),
            (-0.0, 14, "-0"),
            (1.0, 14, "1"),
            (0.1, 14, "0.1"),
            (1.0 / 3.0, 14, "0.33333333333333"),
            (123456789012345.0, 14, "1.2345678901234e+14"),
            (12345678901234.0, 14, "12345678901234"),
            (9007199254740992.0, 14, "9.007199254741e+15"),
            (1e-20, 14, "1e-20"),
            (0.0001, 14, "0.0001"),
            (0.00001, 14, "1e-05"),
            (1e300, 14, "1e+300"),
            (1e100, 14, "1e+100"),
            (99999999999999.5, 14, "1e+14"),
            (2.5, 1, "2"),
            (1.23456, 3, "1.23"),
            (-1.5e-7, 14, "-1.5e-07"),
            (f64::INFINITY, 14, "inf"),
            (f64::NEG_INFINITY, 14, "-inf"),
        ];
        for (x, p, want) in cases {
            assert_eq!(format_g(*x, *p), *want, "{x} %.{p}g");
        }
    }

    #[test]
    fn strtod_prefixes() {
        let cases: &[(&str, f64, usize)] = &[
            ("1", 1.0, 1),
            ("-5e3,", -5000.0, 4),
            ("0.3e-3]", 0.0003, 6),
            ("1.", 1.0, 2),
            (".5", 0.5, 2),
            ("1e", 1.0, 1),
            ("1e+", 1.0, 1),
            ("007", 7.0, 3),
            ("+1", 1.0, 2),
            ("-", 0.0, 0),
            ("-x", 0.0, 0),
            ("0x10", 16.0, 4),
            ("0x", 0.0, 1),
            ("0x1p4", 16.0, 5),
            ("0x.8", 0.5, 4),
            ("0X1P-1", 0.5, 6),
            ("0xffffffffffffffffff", 4722366482869645213696.0, 20),
            ("inf", f64::INFINITY, 3),
            ("-Infinity", f64::NEG_INFINITY, 9),
            ("infinit", f64::INFINITY, 3),
        ];
        for (s, v, n) in cases {
            assert_eq!(strtod(s.as_bytes()), (*v, *n), "{s}");
        }
        let (v, n) = strtod(b"nan(abc)x");
        assert!(v.is_nan() && n == 8);
        let (v, n) = strtod(b"NaN(ab");
        assert!(v.is_nan() && n == 3);
    }
}
