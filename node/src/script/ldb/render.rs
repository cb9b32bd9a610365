//! Text the debugger shows, as Redis builds it: quoted strings
//! (sdscatrepr), numbers as C's "%g", Redis replies in human form
//! (ldbRedisProtocolToHuman) and the trimming of long log lines.

use corvid_proto::resp::format_g;

/// Append `s` quoted and escaped as sdscatrepr does: printable bytes as
/// they are, the usual escapes, every other byte as `\xHH`.
pub fn repr(out: &mut Vec<u8>, s: &[u8]) {
    out.push(b'"');
    for &b in s {
        match b {
            b'\\' | b'"' => {
                out.push(b'\\');
                out.push(b);
            }
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            0x07 => out.extend_from_slice(b"\\a"),
            0x08 => out.extend_from_slice(b"\\b"),
            // isprint() in the C locale.
            0x20..=0x7e => out.push(b),
            _ => {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                out.extend_from_slice(&[b'\\', b'x', HEX[(b >> 4) as usize], HEX[(b & 15) as usize]]);
            }
        }
    }
    out.push(b'"');
}

/// A Lua number as "%g" prints it (glibc's spelling of NaN included).
pub fn number(n: f64) -> String {
    if n.is_nan() {
        return if n.is_sign_negative() { "-nan".into() } else { "nan".into() };
    }
    format_g(n, 6)
}

/// What a log line becomes when it is longer than `maxlen` (0: no
/// limit): its first `maxlen` bytes and " ...". True if it was cut.
pub fn trim(line: &mut Vec<u8>, maxlen: usize) -> bool {
    if maxlen == 0 || line.len() <= maxlen {
        return false;
    }
    line.truncate(maxlen);
    line.extend_from_slice(b" ...");
    true
}

/// Append the Redis reply at the start of `reply` in human form, as the
/// debugger logs a command's reply; returns the bytes it spanned. A type
/// Redis's debugger does not know (verbatim strings, big numbers,
/// attributes) adds nothing and spans nothing, as there. A reply cut
/// short stops the rendering where it ends.
pub fn reply_to_human(out: &mut Vec<u8>, reply: &[u8]) -> usize {
    let Some(&kind) = reply.first() else { return 0 };
    // The header line: the type byte up to "\r\n".
    let Some(cr) = reply.iter().position(|&b| b == b'\r') else {
        return reply.len();
    };
    let header = &reply[1..cr];
    let after = (cr + 2).min(reply.len());
    let count = || corvid_proto::resp::parse_i64(header).unwrap_or(0);
    match kind {
        b':' => {
            out.extend_from_slice(header);
            after
        }
        b'$' => {
            let len = count();
            if len == -1 {
                out.extend_from_slice(b"NULL");
                return after;
            }
            let len = len.max(0) as usize;
            let end = (after + len).min(reply.len());
            repr(out, &reply[after..end]);
            (end + 2).min(reply.len())
        }
        // The status or error with its first byte, quoted.
        b'+' | b'-' => {
            repr(out, &reply[..cr]);
            after
        }
        b'*' => {
            let n = count();
            if n == -1 {
                out.extend_from_slice(b"NULL");
                return after;
            }
            out.push(b'[');
            let pos = elements(out, reply, after, n, 1, b",");
            out.push(b']');
            pos
        }
        b'~' => {
            out.extend_from_slice(b"~(");
            let pos = elements(out, reply, after, count(), 1, b",");
            out.push(b')');
            pos
        }
        b'%' => {
            out.push(b'{');
            let pos = elements(out, reply, after, count(), 2, b",");
            out.push(b'}');
            pos
        }
        b'_' => {
            out.extend_from_slice(b"(null)");
            after
        }
        b'#' => {
            out.extend_from_slice(if header.first() == Some(&b't') { b"#true" } else { b"#false" });
            after
        }
        b',' => {
            out.extend_from_slice(b"(double) ");
            out.extend_from_slice(header);
            after
        }
        _ => 0,
    }
}

/// `n` elements of an aggregate from `pos` (pairs joined by " => " for a
/// map, `per` = 2), separated by `sep`; where they end.
fn elements(out: &mut Vec<u8>, reply: &[u8], mut pos: usize, n: i64, per: usize, sep: &[u8]) -> usize {
    for j in 0..n.max(0) {
        for k in 0..per {
            if k > 0 {
                out.extend_from_slice(b" => ");
            }
            pos += reply_to_human(out, &reply[pos.min(reply.len())..]);
        }
        if j != n - 1 {
            out.extend_from_slice(sep);
        }
    }
    pos
}

#[cfg(test)]
mod tests {
    use super::*;

    fn human(reply: &[u8]) -> String {
        let mut out = Vec::new();
        let used = reply_to_human(&mut out, reply);
        assert_eq!(used, reply.len(), "consumed all of {:?}", String::from_utf8_lossy(reply));
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn quoting_as_sdscatrepr() {
        let mut out = Vec::new();
        repr(&mut out, b"a\"b\\c\n\r\t\x07\x08\x00\xff~");
        assert_eq!(out, b"\"a\\\"b\\\\c\\n\\r\\t\\a\\b\\x00\\xff~\"");
    }

    #[test]
    fn numbers_as_percent_g() {
        assert_eq!(number(3.5), "3.5");
        assert_eq!(number(100000.0), "100000");
        assert_eq!(number(1e6), "1e+06");
        assert_eq!(number(1.0 / 3.0), "0.333333");
        assert_eq!(number(f64::INFINITY), "inf");
        assert_eq!(number(-f64::NAN), "-nan");
    }

    #[test]
    fn replies_in_human_form() {
        assert_eq!(human(b":42\r\n"), "42");
        assert_eq!(human(b"$5\r\nhe\"lo\r\n"), "\"he\\\"lo\"");
        assert_eq!(human(b"$-1\r\n"), "NULL");
        assert_eq!(human(b"+OK\r\n"), "\"+OK\"");
        assert_eq!(human(b"-ERR bad\r\n"), "\"-ERR bad\"");
        assert_eq!(human(b"*-1\r\n"), "NULL");
        assert_eq!(human(b"*0\r\n"), "[]");
        assert_eq!(human(b"*3\r\n:1\r\n$1\r\na\r\n*1\r\n+x\r\n"), "[1,\"a\",[\"+x\"]]");
        assert_eq!(human(b"~2\r\n:1\r\n:2\r\n"), "~(1,2)");
        assert_eq!(human(b"%2\r\n$1\r\na\r\n:1\r\n$1\r\nb\r\n_\r\n"), "{\"a\" => 1,\"b\" => (null)}");
        assert_eq!(human(b"#t\r\n"), "#true");
        assert_eq!(human(b"#f\r\n"), "#false");
        assert_eq!(human(b",3.14\r\n"), "(double) 3.14");
    }

    #[test]
    fn unknown_types_add_nothing() {
        let mut out = Vec::new();
        assert_eq!(reply_to_human(&mut out, b"=7\r\ntxt:abc\r\n"), 0);
        assert!(out.is_empty());
        // Inside an array, each element then reads the same bytes again.
        let mut out = Vec::new();
        reply_to_human(&mut out, b"*2\r\n(1\r\n:2\r\n");
        assert_eq!(out, b"[,]");
    }

    #[test]
    fn trimming() {
        let mut line = b"0123456789".to_vec();
        assert!(!trim(&mut line, 0));
        assert!(!trim(&mut line, 10));
        assert!(trim(&mut line, 4));
        assert_eq!(line, b"0123 ...");
    }
}
