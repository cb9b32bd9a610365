//! The zipmap, how Redis 2.4 and older wrote small hashes
//! (`RDB_TYPE_HASH_ZIPMAP`). Redis 7.0 still loads them, converting each
//! to a listpack (or a hash table past the thresholds); so do we.
//!
//! ```text
//! <count: 1 byte, 254 or more = count them> (<len>field<len><free>value<free bytes>)... <0xFF>
//! len = 1 byte < 254, or 254 + u32 (little endian, as written on x86)
//! ```
//!
//! `free` is how many unused bytes follow a value that shrank in place.
//! [`Zipmap::parse`] makes `zipmapValidateIntegrity`'s deep checks: every
//! length and every field and value with its free bytes lies before the
//! terminator, there is at least one pair, and a count under 254 is right.

use crate::listpack::{self, Listpack};

const END: u8 = 0xFF;
/// A count byte meaning "254 or more", and a length byte announcing 4 more.
const BIGLEN: u8 = 254;

/// Why a buffer is not a zipmap, or not one of distinct fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ZipmapError {
    #[error("shorter than a count and terminator")]
    TooShort,
    #[error("does not end with the terminator")]
    Terminator,
    #[error("a length, field or value reaches outside the zipmap")]
    Outside,
    #[error("no pairs")]
    Empty,
    #[error("the count does not match the pairs")]
    Count,
    #[error("a field appears twice")]
    Duplicate,
}

/// A validated zipmap, borrowed from the input.
#[derive(Debug, Clone, Copy)]
pub struct Zipmap<'a> {
    bytes: &'a [u8],
    len: usize,
}

/// The length at `p` and the bytes it took (1 or 5). The caller has checked
/// that those bytes are inside the buffer.
fn length_at(b: &[u8], p: usize) -> (usize, usize) {
    if b[p] < BIGLEN {
        (b[p] as usize, 1)
    } else {
        (u32::from_le_bytes(b[p + 1..p + 5].try_into().expect("4 bytes")) as usize, 5)
    }
}

/// How many bytes the length at `p` takes, from its first byte alone.
fn length_size(b: &[u8], p: usize) -> usize {
    if b[p] < BIGLEN {
        1
    } else {
        5
    }
}

impl<'a> Zipmap<'a> {
    /// Validates `bytes` as a whole zipmap (zipmapValidateIntegrity, deep).
    pub fn parse(bytes: &'a [u8]) -> Result<Self, ZipmapError> {
        if bytes.len() < 2 {
            return Err(ZipmapError::TooShort);
        }
        let last = bytes.len() - 1;
        if bytes[last] != END {
            return Err(ZipmapError::Terminator);
        }
        let inside = |p: usize| if p <= last { Ok(p) } else { Err(ZipmapError::Outside) };
        let mut p = 1;
        let mut count = 0usize;
        while bytes[p] != END {
            inside(p + length_size(bytes, p))?;
            let (len, size) = length_at(bytes, p);
            p = inside(p + size + len)?;
            inside(p + length_size(bytes, p))?;
            let (len, size) = length_at(bytes, p);
            p += size;
            let free = bytes[p] as usize;
            p = inside(p + 1 + len + free)?;
            count += 1;
        }
        if count == 0 {
            return Err(ZipmapError::Empty);
        }
        if bytes[0] != BIGLEN && bytes[0] as usize != count {
            return Err(ZipmapError::Count);
        }
        Ok(Zipmap { bytes, len: count })
    }

    /// Number of field/value pairs.
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The pairs in order.
    pub fn iter(&self) -> impl Iterator<Item = (&'a [u8], &'a [u8])> + '_ {
        let b = self.bytes;
        let mut p = 1;
        std::iter::from_fn(move || {
            if b[p] == END {
                return None;
            }
            let (len, size) = length_at(b, p);
            let field = &b[p + size..p + size + len];
            p += size + len;
            let (len, size) = length_at(b, p);
            let free = b[p + size] as usize;
            let value = &b[p + size + 1..p + size + 1 + len];
            p += size + 1 + len + free;
            Some((field, value))
        })
    }

    /// The pairs as a hash listpack, refusing a repeated field (as Redis
    /// does when it converts a zipmap on load).
    pub fn to_listpack(&self) -> Result<Listpack, ZipmapError> {
        let mut seen = std::collections::HashSet::with_capacity(self.len);
        let mut b = listpack::Builder::default();
        for (field, value) in self.iter() {
            if !seen.insert(field) {
                return Err(ZipmapError::Duplicate);
            }
            b.push(field);
            b.push(value);
        }
        Ok(b.finish())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A zipmap of `pairs`, each value followed by `free` unused bytes.
    fn build(pairs: &[(&[u8], &[u8])], free: u8) -> Vec<u8> {
        let mut zm = vec![pairs.len().min(BIGLEN as usize) as u8];
        let len = |zm: &mut Vec<u8>, n: usize| {
            if n < BIGLEN as usize {
                zm.push(n as u8);
            } else {
                zm.push(BIGLEN);
                zm.extend_from_slice(&(n as u32).to_le_bytes());
            }
        };
        for (f, v) in pairs {
            len(&mut zm, f.len());
            zm.extend_from_slice(f);
            len(&mut zm, v.len());
            zm.push(free);
            zm.extend_from_slice(v);
            zm.extend(std::iter::repeat(b'?').take(free as usize));
        }
        zm.push(END);
        zm
    }

    #[test]
    fn reads_pairs_with_free_space_and_long_lengths() {
        let long = vec![b'v'; 300];
        let zm = build(&[(b"foo", b"bar"), (b"hello", &long)], 2);
        let z = Zipmap::parse(&zm).unwrap();
        assert_eq!(z.len(), 2);
        let pairs: Vec<_> = z.iter().collect();
        assert_eq!(pairs, [(&b"foo"[..], &b"bar"[..]), (&b"hello"[..], &long[..])]);
        let lp = z.to_listpack().unwrap();
        assert_eq!(lp.len(), 4);
        // The example in zipmap.c.
        let z = Zipmap::parse(b"\x02\x03foo\x03\x00bar\x05hello\x05\x00world\xff").unwrap();
        assert_eq!(z.iter().nth(1), Some((&b"hello"[..], &b"world"[..])));
    }

    #[test]
    fn corrupt_zipmaps_are_refused() {
        assert_eq!(Zipmap::parse(b"\x00").err(), Some(ZipmapError::TooShort));
        assert_eq!(Zipmap::parse(b"\x00\x00").err(), Some(ZipmapError::Terminator));
        // The empty zipmap from corrupt-dump.tcl ("hash empty zipmap").
        assert_eq!(Zipmap::parse(b"\x00\xff").err(), Some(ZipmapError::Empty));
        assert_eq!(Zipmap::parse(b"\x02\x01a\x01\x00b\xff").err(), Some(ZipmapError::Count));
        assert_eq!(Zipmap::parse(b"\xfe\x01a\x01\x00b\xff").unwrap().len(), 1);
        assert_eq!(Zipmap::parse(b"\x01\x05a\x01\x00b\xff").err(), Some(ZipmapError::Outside));
        assert_eq!(Zipmap::parse(b"\x01\x01a\x01\x09b\xff").err(), Some(ZipmapError::Outside));
        assert_eq!(Zipmap::parse(b"\x01\xfe\xff\xff\xff\xffa\xff").err(), Some(ZipmapError::Outside));
        let dup = build(&[(b"a", b"1"), (b"a", b"2")], 0);
        assert_eq!(Zipmap::parse(&dup).unwrap().to_listpack().err(), Some(ZipmapError::Duplicate));
    }

    #[test]
    fn mutations_never_panic() {
        let zm = build(&[(b"field", b"value"), (b"f2", &[b'x'; 260])], 1);
        for i in 0..zm.len() {
            for byte in [0x00, 0x01, 0x05, 0x7f, 0xfd, 0xfe, 0xff] {
                let mut m = zm.clone();
                m[i] = byte;
                if let Ok(z) = Zipmap::parse(&m) {
                    assert_eq!(z.iter().count(), z.len());
                }
            }
            let _ = Zipmap::parse(&zm[..i]);
        }
    }
}
