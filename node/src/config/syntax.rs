//! The text conventions redis.conf and CONFIG SET share with Redis's C helpers:
//! argument splitting and quoting (`sdssplitargs`, `sdscatrepr`), and the number
//! readers (`string2ll`, `strtoll`, `memtoull`, `strtod`). Which inputs each one
//! accepts is part of what "drop-in" means: `maxmemory ""` is 0, `port 007` is
//! an error, `save "10 ''"`'s second number is 0, so each reader is reproduced
//! with its own rules rather than replaced by Rust's parsers.

use std::io;

pub(crate) use crate::float::is_c_space as is_space;

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

pub(crate) use crate::float::string2d;

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
