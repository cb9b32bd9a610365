//! The text conventions redis.conf and CONFIG SET share with Redis's C helpers:
//! argument splitting and quoting (`sdssplitargs`, `sdscatrepr`), and the number
//! readers (`string2ll`, `strtoll`, `memtoull`, `strtod`). Which inputs each one
//! accepts is part of what "drop-in" means: `maxmemory ""` is 0, `port 007` is
//! an error, `save "10 ''"`'s second number is 0, so each reader is reproduced
//! with its own rules rather than replaced by Rust's parsers.

use std::io;

/// C `isspace` in the "C" locale.
pub(crate) fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

/// The part of `v` a C string function sees: everything before the first NUL.
pub(crate) fn c_str(v: &[u8]) -> &[u8] {
    match v.iter().position(|&b| b == 0) {
        Some(n) => &v[..n],
        None => v,
    }
}

/// Strip bytes in `set` from both ends (`sdstrim`).
pub(crate) fn trim<'a>(v: &'a [u8], set: &[u8]) -> &'a [u8] {
    let start = v.iter().position(|b| !set.contains(b)).unwrap_or(v.len());
    let end = v.iter().rposition(|b| !set.contains(b)).map_or(start, |e| e + 1);
    &v[start..end.max(start)]
}

/// Lines of a file as Redis splits them: on every `\n`, so a trailing newline
/// yields a last empty line, and empty content yields no lines at all.
pub(crate) fn split_lines(content: &[u8]) -> Vec<&[u8]> {
    if content.is_empty() {
        return Vec::new();
    }
    content.split(|&b| b == b'\n').collect()
}

/// A CONFIG SET value of a multi-argument directive, split on every single
/// space (`sdssplitlen`): "a  b" has an empty middle argument, "" has none.
pub(crate) fn split_spaces(value: &[u8]) -> Vec<Vec<u8>> {
    if value.is_empty() {
        return Vec::new();
    }
    value.split(|&b| b == b' ').map(<[u8]>::to_vec).collect()
}

/// Split a redis.conf line into arguments (`sdssplitargs`, shared with the
/// inline protocol in `corvid_proto::resp`). `None` means unbalanced quotes.
pub(crate) fn split_args(line: &[u8]) -> Option<Vec<Vec<u8>>> {
    corvid_proto::resp::split_args(line)
}

fn hex_value(c: u8) -> u8 {
    match c {
        b'0'..=b'9' => c - b'0',
        b'a'..=b'f' => c - b'a' + 10,
        _ => c - b'A' + 10,
    }
}

/// Quote bytes so [`split_args`] reads them back unchanged (`sdscatrepr`).
pub(crate) fn repr(v: &[u8]) -> String {
    let mut s = String::with_capacity(v.len() + 2);
    s.push('"');
    for &c in v {
        match c {
            b'\\' => s.push_str("\\\\"),
            b'"' => s.push_str("\\\""),
            b'\n' => s.push_str("\\n"),
            b'\r' => s.push_str("\\r"),
            b'\t' => s.push_str("\\t"),
            0x07 => s.push_str("\\a"),
            0x08 => s.push_str("\\b"),
            0x20..=0x7e => s.push(c as char),
            _ => s.push_str(&format!("\\x{c:02x}")),
        }
    }
    s.push('"');
    s
}

/// Whether [`repr`] would change `v` or it contains blanks (`sdsneedsrepr`).
pub(crate) fn needs_repr(v: &[u8]) -> bool {
    v.iter().any(|&c| matches!(c, b'\\' | b'"') || !(0x20..=0x7e).contains(&c) || is_space(c))
}

/// Redis's strict integer reader (`string2ll`): optional '-', no '+', no
/// leading zeros or blanks, no overflow, at most 20 characters.
pub(crate) fn string2ll(v: &[u8]) -> Option<i64> {
    if v.is_empty() || v.len() >= 21 {
        return None;
    }
    if v == b"0" {
        return Some(0);
    }
    let (negative, digits) = match v.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, v),
    };
    match digits.first() {
        Some(b'1'..=b'9') => {}
        _ => return None,
    }
    let mut acc: u64 = 0;
    for &d in digits {
        if !d.is_ascii_digit() {
            return None;
        }
        acc = acc.checked_mul(10)?.checked_add(u64::from(d - b'0'))?;
    }
    if negative {
        if acc > 1u64 << 63 {
            return None;
        }
        Some((acc as i64).wrapping_neg())
    } else {
        i64::try_from(acc).ok()
    }
}

/// C `strtoll` on a C string: leading blanks and a sign are skipped, digits
/// are read as far as they go, overflow saturates (`erange`). `end` is where
/// reading stopped, or 0 when no digit was read.
pub(crate) struct StrToLl {
    pub value: i64,
    pub end: usize,
    pub erange: bool,
}

pub(crate) fn strtoll(v: &[u8], base: u32) -> StrToLl {
    let v = c_str(v);
    let mut i = 0;
    while i < v.len() && is_space(v[i]) {
        i += 1;
    }
    let negative = v.get(i) == Some(&b'-');
    if matches!(v.get(i), Some(b'-' | b'+')) {
        i += 1;
    }
    let start = i;
    let mut acc: u64 = 0;
    let mut overflow = false;
    while let Some(d) = v.get(i).and_then(|&c| (c as char).to_digit(base)) {
        match acc.checked_mul(u64::from(base)).and_then(|a| a.checked_add(u64::from(d))) {
            Some(a) => acc = a,
            None => overflow = true,
        }
        i += 1;
    }
    if i == start {
        return StrToLl { value: 0, end: 0, erange: false };
    }
    let (value, erange) = if negative {
        if overflow || acc > 1u64 << 63 {
            (i64::MIN, true)
        } else {
            ((acc as i64).wrapping_neg(), false)
        }
    } else if overflow || acc > i64::MAX as u64 {
        (i64::MAX, true)
    } else {
        (acc as i64, false)
    };
    StrToLl { value, end: i, erange }
}

/// `strtoll` that must consume the whole (C) string, ignoring overflow as
/// Redis's callers do: the value, or `None` when anything is left over.
pub(crate) fn strtoll_whole(v: &[u8]) -> Option<i64> {
    let v = c_str(v);
    let r = strtoll(v, 10);
    // With no digits C's end pointer stays at the start, which is only the
    // end of the string when the string is empty.
    (r.end == v.len()).then_some(r.value)
}

/// A memory amount (`memtoull`): digits and an optional unit, b, k (1000),
/// kb (1024), m, mb, g, gb, any case. No sign, no blanks, no fractions; an
/// empty number is 0, and overflow wraps as the C code does.
pub(crate) fn memtoull(v: &[u8]) -> Option<u64> {
    let v = c_str(v);
    if v.first() == Some(&b'-') {
        return None;
    }
    let digits = v.iter().take_while(|b| b.is_ascii_digit()).count();
    let unit = v[digits..].to_ascii_lowercase();
    let mul: u64 = match unit.as_slice() {
        b"" | b"b" => 1,
        b"k" => 1000,
        b"kb" => 1024,
        b"m" => 1000 * 1000,
        b"mb" => 1024 * 1024,
        b"g" => 1000 * 1000 * 1000,
        b"gb" => 1024 * 1024 * 1024,
        _ => return None,
    };
    if digits >= 128 {
        return None;
    }
    // strtoull saturates on overflow and Redis only checks for EINVAL.
    let mut n: u64 = 0;
    for &d in &v[..digits] {
        n = n.checked_mul(10).and_then(|n| n.checked_add(u64::from(d - b'0'))).unwrap_or(u64::MAX);
    }
    Some(n.wrapping_mul(mul))
}

/// Redis's `string2d`: C `strtod` that must use the whole string, with no
/// leading blank, rejecting NaN and results that overflowed or underflowed to 0.
/// Hex floats ("0x10") and "inf" are accepted, as strtod does.
pub(crate) fn string2d(v: &[u8]) -> Option<f64> {
    if v.is_empty() || is_space(v[0]) {
        return None;
    }
    let (value, end, erange) = strtod(v)?;
    if end != v.len() || value.is_nan() || (erange && (value.is_infinite() || value == 0.0)) {
        return None;
    }
    Some(value)
}

/// C `strtod`'s grammar: the value, where it stopped, and whether it over- or
/// underflowed. `None` when nothing could be read.
fn strtod(v: &[u8]) -> Option<(f64, usize, bool)> {
    let at = |i: usize| v.get(i).copied().unwrap_or(0);
    let starts = |i: usize, word: &[u8]| v.len() >= i + word.len() && v[i..i + word.len()].eq_ignore_ascii_case(word);
    let mut i = 0;
    while is_space(at(i)) {
        i += 1;
    }
    let negative = at(i) == b'-';
    if matches!(at(i), b'-' | b'+') {
        i += 1;
    }
    let sign = if negative { -1.0 } else { 1.0 };
    if starts(i, b"infinity") {
        return Some((sign * f64::INFINITY, i + 8, false));
    }
    if starts(i, b"inf") {
        return Some((sign * f64::INFINITY, i + 3, false));
    }
    if starts(i, b"nan") {
        let mut end = i + 3;
        if at(end) == b'(' {
            let mut j = end + 1;
            while at(j).is_ascii_alphanumeric() || at(j) == b'_' {
                j += 1;
            }
            if at(j) == b')' {
                end = j + 1;
            }
        }
        return Some((f64::NAN, end, false));
    }
    if at(i) == b'0'
        && matches!(at(i + 1), b'x' | b'X')
        && (at(i + 2).is_ascii_hexdigit() || (at(i + 2) == b'.' && at(i + 3).is_ascii_hexdigit()))
    {
        return Some(hex_float(v, i + 2, sign));
    }

    let start = i;
    let mut digits = 0;
    let mut nonzero = false;
    while at(i).is_ascii_digit() {
        nonzero |= at(i) != b'0';
        digits += 1;
        i += 1;
    }
    if at(i) == b'.' {
        i += 1;
        while at(i).is_ascii_digit() {
            nonzero |= at(i) != b'0';
            digits += 1;
            i += 1;
        }
    }
    if digits == 0 {
        return None;
    }
    if matches!(at(i), b'e' | b'E') {
        let mut j = i + 1;
        if matches!(at(j), b'+' | b'-') {
            j += 1;
        }
        if at(j).is_ascii_digit() {
            while at(j).is_ascii_digit() {
                j += 1;
            }
            i = j;
        }
    }
    let text = std::str::from_utf8(&v[start..i]).ok()?;
    let magnitude: f64 = text.parse().ok()?;
    let erange = magnitude.is_infinite() || (magnitude == 0.0 && nonzero);
    Some((sign * magnitude, i, erange))
}

/// The part of a hex float after "0x": hex digits, an optional point and an
/// optional binary exponent ("p-3").
fn hex_float(v: &[u8], mut i: usize, sign: f64) -> (f64, usize, bool) {
    let at = |i: usize| v.get(i).copied().unwrap_or(0);
    let mut mantissa: u64 = 0;
    let mut exponent: i64 = 0;
    let mut nonzero = false;
    let mut seen_point = false;
    loop {
        let c = at(i);
        if c.is_ascii_hexdigit() {
            let d = u64::from(hex_value(c));
            nonzero |= d != 0;
            // Keep 60 significant bits; further digits only scale the value.
            if mantissa >> 56 == 0 {
                mantissa = mantissa * 16 + d;
                if seen_point {
                    exponent -= 4;
                }
            } else if !seen_point {
                exponent += 4;
            }
        } else if c == b'.' && !seen_point {
            seen_point = true;
        } else {
            break;
        }
        i += 1;
    }
    if matches!(at(i), b'p' | b'P') {
        let mut j = i + 1;
        let negative = at(j) == b'-';
        if matches!(at(j), b'+' | b'-') {
            j += 1;
        }
        if at(j).is_ascii_digit() {
            let mut e: i64 = 0;
            while at(j).is_ascii_digit() {
                e = (e * 10 + i64::from(at(j) - b'0')).min(1 << 20);
                j += 1;
            }
            exponent += if negative { -e } else { e };
            i = j;
        }
    }
    let magnitude = mantissa as f64 * 2f64.powi(exponent.clamp(-1 << 20, 1 << 20) as i32);
    let erange = magnitude.is_infinite() || (magnitude == 0.0 && nonzero);
    (sign * magnitude, i, erange)
}

/// A double as Redis prints percentiles: `%f`, then trailing zeros (and a
/// trailing point) dropped.
pub(crate) fn format_double(v: f64) -> String {
    let mut s = format!("{v:.6}");
    if s.contains('.') {
        while s.ends_with('0') {
            s.pop();
        }
        if s.ends_with('.') {
            s.pop();
        }
    }
    s
}

/// Bytes as CONFIG REWRITE writes them: the largest of gb/mb/kb that divides
/// evenly, else plain. Redis formats the `long long`, so huge unsigned values
/// come out negative; kept as is.
pub(crate) fn format_memory(bytes: i64) -> String {
    const GB: i64 = 1024 * 1024 * 1024;
    const MB: i64 = 1024 * 1024;
    const KB: i64 = 1024;
    if bytes != 0 && bytes % GB == 0 {
        format!("{}gb", bytes / GB)
    } else if bytes != 0 && bytes % MB == 0 {
        format!("{}mb", bytes / MB)
    } else if bytes != 0 && bytes % KB == 0 {
        format!("{}kb", bytes / KB)
    } else {
        bytes.to_string()
    }
}

/// `strerror(errno)` text for an I/O error: Rust's message without its
/// " (os error N)" suffix.
pub(crate) fn strerror(e: &io::Error) -> String {
    let text = e.to_string();
    match (e.raw_os_error(), text.rfind(" (os error ")) {
        (Some(_), Some(cut)) => text[..cut].to_string(),
        _ => text,
    }
}
