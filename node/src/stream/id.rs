//! Stream entry IDs: `<ms>-<seq>`, two unsigned 64-bit halves ordered as a
//! pair (Redis's streamID), and the ways commands spell them.

use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct StreamId {
    pub ms: u64,
    pub seq: u64,
}

impl StreamId {
    pub const MIN: StreamId = StreamId { ms: 0, seq: 0 };
    pub const MAX: StreamId = StreamId { ms: u64::MAX, seq: u64::MAX };

    pub const fn new(ms: u64, seq: u64) -> Self {
        StreamId { ms, seq }
    }

    pub fn is_zero(self) -> bool {
        self == StreamId::MIN
    }

    /// The next ID, None past the last possible one (streamIncrID).
    pub fn incr(self) -> Option<StreamId> {
        if self.seq < u64::MAX {
            Some(StreamId::new(self.ms, self.seq + 1))
        } else if self.ms < u64::MAX {
            Some(StreamId::new(self.ms + 1, 0))
        } else {
            None
        }
    }

    /// The previous ID, None before 0-0 (streamDecrID).
    pub fn decr(self) -> Option<StreamId> {
        if self.seq > 0 {
            Some(StreamId::new(self.ms, self.seq - 1))
        } else if self.ms > 0 {
            Some(StreamId::new(self.ms - 1, u64::MAX))
        } else {
            None
        }
    }

    /// The 16-byte big-endian form (rax keys and PEL entries in RDB files).
    pub fn to_be_bytes(self) -> [u8; 16] {
        let mut b = [0u8; 16];
        b[..8].copy_from_slice(&self.ms.to_be_bytes());
        b[8..].copy_from_slice(&self.seq.to_be_bytes());
        b
    }

    pub fn from_be_bytes(b: &[u8]) -> Option<StreamId> {
        if b.len() != 16 {
            return None;
        }
        Some(StreamId::new(u64::from_be_bytes(b[..8].try_into().ok()?), u64::from_be_bytes(b[8..].try_into().ok()?)))
    }

    pub fn to_bytes(self) -> Vec<u8> {
        self.to_string().into_bytes()
    }
}

impl fmt::Display for StreamId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.ms, self.seq)
    }
}

/// An ID as a client wrote it (streamGenericParseIDOrReply).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Parsed {
    pub id: StreamId,
    /// False for `<ms>-*` (only where `allow_auto_seq`): the sequence is to
    /// be generated.
    pub seq_given: bool,
}

/// Parse `<ms>[-<seq>]`; a missing sequence is `missing_seq`. `-` and `+`
/// are the smallest and largest IDs unless `strict`. `<ms>-*` only with
/// `allow_auto_seq` (XADD).
pub fn parse(a: &[u8], missing_seq: u64, strict: bool, allow_auto_seq: bool) -> Option<Parsed> {
    if a.len() > 127 {
        return None;
    }
    if a == b"-" || a == b"+" {
        if strict {
            return None;
        }
        let id = if a == b"-" { StreamId::MIN } else { StreamId::MAX };
        return Some(Parsed { id, seq_given: true });
    }
    let (ms_part, seq_part) = match a.iter().position(|&c| c == b'-') {
        Some(i) => (&a[..i], Some(&a[i + 1..])),
        None => (a, None),
    };
    let ms = parse_u64(ms_part)?;
    let (seq, seq_given) = match seq_part {
        None => (missing_seq, true),
        Some(b"*") if allow_auto_seq => (0, false),
        Some(s) => (parse_u64(s)?, true),
    };
    Some(Parsed { id: StreamId::new(ms, seq), seq_given })
}

/// An unsigned decimal as Redis's string2ull reads it: digits only (a
/// leading `-` would wrap in strtoull; Redis rejects it through its own
/// checks, and so do we), no sign, no spaces, no overflow.
fn parse_u64(s: &[u8]) -> Option<u64> {
    if s.is_empty() || s.len() > 20 || !s.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(s).ok()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_form() {
        assert_eq!(parse(b"5-3", 0, true, false).unwrap().id, StreamId::new(5, 3));
        assert_eq!(parse(b"5", 7, true, false).unwrap().id, StreamId::new(5, 7));
        assert_eq!(parse(b"-", 0, false, false).unwrap().id, StreamId::MIN);
        assert_eq!(parse(b"+", 0, false, false).unwrap().id, StreamId::MAX);
        assert!(parse(b"+", 0, true, false).is_none());
        assert!(!parse(b"5-*", 0, true, true).unwrap().seq_given);
        assert!(parse(b"5-*", 0, true, false).is_none());
        assert!(parse(b"5-", 0, true, false).is_none());
        assert!(parse(b"-1", 0, true, false).is_none());
        assert!(parse(b"18446744073709551616", 0, true, false).is_none());
        assert_eq!(parse(b"18446744073709551615-18446744073709551615", 0, true, false).unwrap().id, StreamId::MAX);
    }

    #[test]
    fn increments_across_halves() {
        assert_eq!(StreamId::new(1, u64::MAX).incr(), Some(StreamId::new(2, 0)));
        assert_eq!(StreamId::MAX.incr(), None);
        assert_eq!(StreamId::new(2, 0).decr(), Some(StreamId::new(1, u64::MAX)));
        assert_eq!(StreamId::MIN.decr(), None);
    }
}
