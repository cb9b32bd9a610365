//! The ziplist, the compact encoding Redis before 7.0 wrote for small lists,
//! hashes and sorted sets and for every quicklist node (`RDB_TYPE_LIST_ZIPLIST`,
//! `_HASH_ZIPLIST`, `_ZSET_ZIPLIST`, `_LIST_QUICKLIST`). Redis 7.0 no longer
//! keeps ziplists; it reads them from old files and payloads and converts
//! them to listpacks, and so do we.
//!
//! ```text
//! <zlbytes: u32 LE> <zltail: u32 LE, offset of the last entry> <zllen: u16 LE, 65535 = count it>
//! <entry>... <0xFF>
//! entry = <prevlen: 1 byte < 0xFE, or 0xFE + u32 LE> <encoding + length> <data>
//! ```
//!
//! Encodings: `00pppppp` string of up to 63 bytes; `01pppppp qqqqqqqq` 14-bit
//! length, big endian; `10______` + u32 BE length; `C0`/`D0`/`E0` int16/32/64,
//! `F0` int24, `FE` int8, all little endian; `F1`..`FD` the integers 0..12.
//!
//! [`Ziplist::parse`] does everything `ziplistValidateIntegrity` does in deep
//! mode, as Redis's loader always asks for: the header's byte count, tail offset
//! and entry count agree with the entries, every entry's header and data lie
//! inside the buffer, every prevlen is the size of the entry before it, and the
//! entries end exactly at the terminator. Only then are entries read, so
//! reading needs no further checks and nothing is allocated from a header field.

use crate::listpack::{self, Listpack, LpValue};

const HEADER: usize = 10;
const END: u8 = 0xFF;
/// A prevlen first byte announcing a 4-byte prevlen (ZIP_BIG_PREVLEN).
const BIG_PREVLEN: u8 = 0xFE;
/// zllen when the count no longer fits in 16 bits.
const COUNT_UNKNOWN: u16 = u16::MAX;

/// Why a buffer is not a ziplist, or (for [`Ziplist::pairs_to_listpack`])
/// not one of field/value or member/score pairs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ZiplistError {
    #[error("shorter than a header and terminator")]
    TooShort,
    #[error("zlbytes does not match the size")]
    Bytes,
    #[error("does not end with the terminator")]
    Terminator,
    #[error("zltail points outside the ziplist or not at the last entry")]
    Tail,
    #[error("an entry has an invalid encoding")]
    Encoding,
    #[error("an entry reaches outside the ziplist")]
    EntryOutside,
    #[error("an entry's prevlen does not match the entry before it")]
    PrevLen,
    #[error("the entries do not end at the terminator")]
    End,
    #[error("zllen does not match the entries")]
    Count,
    #[error("an odd number of entries where pairs are expected")]
    OddCount,
    #[error("a field or member appears twice")]
    Duplicate,
}

/// A validated ziplist, borrowed from the input.
#[derive(Debug, Clone, Copy)]
pub struct Ziplist<'a> {
    bytes: &'a [u8],
    len: usize,
}

/// An entry's header, decoded: where its data starts and how long it is,
/// and how it is encoded.
struct Header {
    prevlen: usize,
    /// prevlen field + encoding field.
    header_size: usize,
    data_len: usize,
    encoding: Encoding,
}

#[derive(Clone, Copy)]
enum Encoding {
    Str,
    Int8,
    Int16,
    Int24,
    Int32,
    Int64,
    /// `F1`..`FD`: the value is in the encoding byte.
    Immediate(u8),
}

/// The header of the entry at `p` (zipEntrySafe): Err unless the whole
/// entry, header and data, lies before the terminator at `last`, and its
/// prevlen does not reach back before the first entry.
fn entry_at(b: &[u8], p: usize) -> Result<Header, ZiplistError> {
    let last = b.len() - 1;
    let (prevlen_size, prevlen) = if b[p] < BIG_PREVLEN {
        (1, b[p] as usize)
    } else {
        if p + 5 > last {
            return Err(ZiplistError::EntryOutside);
        }
        (5, u32::from_le_bytes(b[p + 1..p + 5].try_into().expect("4 bytes")) as usize)
    };
    let e = p + prevlen_size;
    if e > last {
        return Err(ZiplistError::EntryOutside);
    }
    let (len_size, encoding) = match b[e] {
        0x00..=0x3f => (1, Encoding::Str),
        0x40..=0x7f => (2, Encoding::Str),
        0x80..=0xbf => (5, Encoding::Str),
        0xc0 => (1, Encoding::Int16),
        0xd0 => (1, Encoding::Int32),
        0xe0 => (1, Encoding::Int64),
        0xf0 => (1, Encoding::Int24),
        0xfe => (1, Encoding::Int8),
        imm @ 0xf1..=0xfd => (1, Encoding::Immediate(imm)),
        _ => return Err(ZiplistError::Encoding),
    };
    if e + len_size > last {
        return Err(ZiplistError::EntryOutside);
    }
    let data_len = match (encoding, b[e] >> 6) {
        (Encoding::Str, 0) => (b[e] & 0x3f) as usize,
        (Encoding::Str, 1) => ((b[e] & 0x3f) as usize) << 8 | b[e + 1] as usize,
        (Encoding::Str, _) => u32::from_be_bytes(b[e + 1..e + 5].try_into().expect("4 bytes")) as usize,
        (Encoding::Int8, _) => 1,
        (Encoding::Int16, _) => 2,
        (Encoding::Int24, _) => 3,
        (Encoding::Int32, _) => 4,
        (Encoding::Int64, _) => 8,
        (Encoding::Immediate(_), _) => 0,
    };
    let header_size = prevlen_size + len_size;
    if p + header_size + data_len > last {
        return Err(ZiplistError::EntryOutside);
    }
    if prevlen > p - HEADER {
        return Err(ZiplistError::EntryOutside);
    }
    Ok(Header { prevlen, header_size, data_len, encoding })
}

impl<'a> Ziplist<'a> {
    /// Validates `bytes` as a whole ziplist (ziplistValidateIntegrity, deep).
    pub fn parse(bytes: &'a [u8]) -> Result<Self, ZiplistError> {
        if bytes.len() < HEADER + 1 {
            return Err(ZiplistError::TooShort);
        }
        let u32_at = |at: usize| u32::from_le_bytes(bytes[at..at + 4].try_into().expect("4 bytes")) as usize;
        if u32_at(0) != bytes.len() {
            return Err(ZiplistError::Bytes);
        }
        let last = bytes.len() - 1;
        if bytes[last] != END {
            return Err(ZiplistError::Terminator);
        }
        let tail = u32_at(4);
        if tail > last {
            return Err(ZiplistError::Tail);
        }
        let declared = u16::from_le_bytes([bytes[8], bytes[9]]);
        let mut p = HEADER;
        let mut prev: Option<usize> = None;
        let mut prev_size = 0;
        let mut count = 0usize;
        while bytes[p] != END {
            let h = entry_at(bytes, p)?;
            if h.prevlen != prev_size {
                return Err(ZiplistError::PrevLen);
            }
            prev_size = h.header_size + h.data_len;
            prev = Some(p);
            p += prev_size;
            count += 1;
        }
        if p != last {
            return Err(ZiplistError::End);
        }
        if prev.is_some_and(|at| at != tail) {
            return Err(ZiplistError::Tail);
        }
        if declared != COUNT_UNKNOWN && declared as usize != count {
            return Err(ZiplistError::Count);
        }
        Ok(Ziplist { bytes, len: count })
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The entries in order: integers as integers, strings borrowed.
    pub fn iter(&self) -> impl Iterator<Item = LpValue<'a>> + '_ {
        let b = self.bytes;
        let mut p = HEADER;
        std::iter::from_fn(move || {
            if b[p] == END {
                return None;
            }
            let h = entry_at(b, p).expect("validated by parse");
            let data = &b[p + h.header_size..p + h.header_size + h.data_len];
            p += h.header_size + h.data_len;
            let le = |n: usize| {
                let mut v = 0u64;
                for (i, &byte) in data[..n].iter().enumerate() {
                    v |= (byte as u64) << (8 * i);
                }
                v
            };
            // Sign-extend an n-byte two's complement value.
            let signed = |n: usize| ((le(n) << (64 - 8 * n)) as i64) >> (64 - 8 * n);
            Some(match h.encoding {
                Encoding::Str => LpValue::Str(data),
                Encoding::Int8 => LpValue::Int(signed(1)),
                Encoding::Int16 => LpValue::Int(signed(2)),
                Encoding::Int24 => LpValue::Int(signed(3)),
                Encoding::Int32 => LpValue::Int(signed(4)),
                Encoding::Int64 => LpValue::Int(le(8) as i64),
                Encoding::Immediate(imm) => LpValue::Int((imm & 0x0f) as i64 - 1),
            })
        })
    }

    /// The entries as a listpack, integers kept as integers (how Redis 7.0
    /// converts a list ziplist or a quicklist node on load).
    pub fn to_listpack(&self) -> Listpack {
        let mut b = listpack::Builder::default();
        for v in self.iter() {
            b.push_value(v);
        }
        b.finish()
    }

    /// The entries as a listpack of pairs with distinct first elements (a
    /// hash's fields, a sorted set's members), as
    /// `ziplistPairsConvertAndValidateIntegrity`: an odd count or a
    /// repeated field is an error. An integer field equals its decimal text.
    pub fn pairs_to_listpack(&self) -> Result<Listpack, ZiplistError> {
        if self.len % 2 != 0 {
            return Err(ZiplistError::OddCount);
        }
        let mut seen = std::collections::HashSet::with_capacity(self.len / 2);
        let mut b = listpack::Builder::default();
        for (i, v) in self.iter().enumerate() {
            if i % 2 == 0 && !seen.insert(v.to_bytes()) {
                return Err(ZiplistError::Duplicate);
            }
            b.push_value(v);
        }
        Ok(b.finish())
    }
}

#[cfg(test)]
pub mod tests {
    use super::*;

    /// A ziplist of `entries` as Redis 6 would write it: integers that fit
    /// in the smallest integer encoding, others as strings.
    pub fn build(entries: &[&[u8]]) -> Vec<u8> {
        let mut body = Vec::new();
        let mut prev_size = 0usize;
        let mut tail = HEADER;
        for e in entries {
            let start = body.len();
            tail = HEADER + start;
            if prev_size < BIG_PREVLEN as usize {
                body.push(prev_size as u8);
            } else {
                body.push(BIG_PREVLEN);
                body.extend_from_slice(&(prev_size as u32).to_le_bytes());
            }
            let int = std::str::from_utf8(e).ok().filter(|s| s.len() < 32).and_then(|s| s.parse::<i64>().ok()).filter(|n| n.to_string().as_bytes() == *e);
            match int {
                Some(n @ 0..=12) => body.push(0xf1 + n as u8),
                Some(n) if i8::try_from(n).is_ok() => {
                    body.push(0xfe);
                    body.push(n as i8 as u8);
                }
                Some(n) if i16::try_from(n).is_ok() => {
                    body.push(0xc0);
                    body.extend_from_slice(&(n as i16).to_le_bytes());
                }
                Some(n) if (-(1 << 23)..(1 << 23)).contains(&n) => {
                    body.push(0xf0);
                    body.extend_from_slice(&(n as i32).to_le_bytes()[..3]);
                }
                Some(n) if i32::try_from(n).is_ok() => {
                    body.push(0xd0);
                    body.extend_from_slice(&(n as i32).to_le_bytes());
                }
                Some(n) => {
                    body.push(0xe0);
                    body.extend_from_slice(&n.to_le_bytes());
                }
                None if e.len() <= 0x3f => {
                    body.push(e.len() as u8);
                    body.extend_from_slice(e);
                }
                None if e.len() <= 0x3fff => {
                    body.push(0x40 | (e.len() >> 8) as u8);
                    body.push(e.len() as u8);
                    body.extend_from_slice(e);
                }
                None => {
                    body.push(0x80);
                    body.extend_from_slice(&(e.len() as u32).to_be_bytes());
                    body.extend_from_slice(e);
                }
            }
            prev_size = body.len() - start;
        }
        let mut zl = Vec::with_capacity(HEADER + body.len() + 1);
        zl.extend_from_slice(&((HEADER + body.len() + 1) as u32).to_le_bytes());
        zl.extend_from_slice(&(tail as u32).to_le_bytes());
        zl.extend_from_slice(&(entries.len().min(COUNT_UNKNOWN as usize) as u16).to_le_bytes());
        zl.extend_from_slice(&body);
        zl.push(END);
        zl
    }

    fn values(zl: &[u8]) -> Vec<Vec<u8>> {
        Ziplist::parse(zl).unwrap().iter().map(|v| v.to_bytes()).collect()
    }

    #[test]
    fn reads_every_encoding() {
        let long = "x".repeat(300);
        let huge = "y".repeat(17_000);
        let items: Vec<&[u8]> = vec![
            b"0", b"12", b"13", b"-1", b"127", b"-128", b"128", b"32767", b"-32768", b"32768", b"8388607",
            b"-8388608", b"8388608", b"2147483647", b"-2147483648", b"2147483648", b"9223372036854775807",
            b"-9223372036854775808", b"", b"a", b"007", long.as_bytes(), huge.as_bytes(),
        ];
        let zl = build(&items);
        let got = values(&zl);
        assert_eq!(got, items.iter().map(|i| i.to_vec()).collect::<Vec<_>>());
        let lp = Ziplist::parse(&zl).unwrap().to_listpack();
        assert_eq!(lp.iter().map(|v| v.to_bytes()).collect::<Vec<_>>(), got);
        // The entry after the 17000-byte string has a 5-byte prevlen.
        assert_eq!(Ziplist::parse(&zl).unwrap().len(), items.len());
    }

    /// From Redis's own tests (corrupt-dump.tcl), each payload's ziplist.
    #[test]
    fn redis_corrupt_examples_are_refused() {
        let cases: [(&[u8], ZiplistError); 7] = [
            // #7445: the last entry claims 63 bytes of string.
            (b"\x1D\x00\x00\x00\x16\x00\x00\x00\x03\x00\x00\x04\x43\x43\x43\x43\x06\x04\x42\x42\x42\x42\x06\x3F\x41\x41\x41\x41\xFF", ZiplistError::EntryOutside),
            // hash with an invalid entry length.
            (b"\x1B\x00\x00\x00\x16\x00\x00\x00\x04\x00\x00\x02\x61\x00\x04\x02\x62\x00\x04\x14\x63\x00\x04\x02\x64\x00\xFF", ZiplistError::EntryOutside),
            // quicklist node with a prevlen (0x0E) reaching before the first entry ...
            (b"\x13\x00\x00\x00\x0E\x00\x00\x00\x02\x00\x00\x02\x61\x00\x0E\x02\x62\x00\xFF", ZiplistError::EntryOutside),
            // ... and one (2) inside the ziplist but not the previous entry's size.
            (b"\x13\x00\x00\x00\x0E\x00\x00\x00\x02\x00\x00\x02\x61\x00\x02\x02\x62\x00\xFF", ZiplistError::PrevLen),
            // ... and with a wrong count.
            (b"\x13\x00\x00\x00\x0E\x00\x00\x00\x03\x00\x00\x02\x61\x00\x04\x02\x62\x00\xFF", ZiplistError::Count),
            // the tail entry followed by more bytes that start with 0xFF.
            (b"\x11\x00\x00\x00\x0A\x00\x00\x00\x01\x00\x00\xF6\xFF\xB0\x6C\x9C\xFF", ZiplistError::End),
            // an entry encoding 0x99 (no such encoding) header reaching outside.
            (b"\x19\x00\x00\x00\x16\x00\x00\x00\x06\x00\x00\xF1\x02\xF1\x02\xF2\x02\x02\x5F\x31\x04\x99\x02\xF3\xFF", ZiplistError::EntryOutside),
        ];
        for (zl, why) in cases {
            assert_eq!(Ziplist::parse(zl).map(|z| z.len()), Err(why), "{zl:x?}");
        }
    }

    #[test]
    fn header_checks() {
        let good = build(&[b"a", b"b"]);
        assert_eq!(values(&good), [b"a".to_vec(), b"b".to_vec()]);
        assert_eq!(Ziplist::parse(&good[..10]).err(), Some(ZiplistError::TooShort));
        let mut bad = good.clone();
        bad[0] += 1;
        assert_eq!(Ziplist::parse(&bad).err(), Some(ZiplistError::Bytes));
        let mut bad = good.clone();
        *bad.last_mut().unwrap() = 0;
        assert_eq!(Ziplist::parse(&bad).err(), Some(ZiplistError::Terminator));
        let mut bad = good.clone();
        bad[4] = 0xff;
        assert_eq!(Ziplist::parse(&bad).err(), Some(ZiplistError::Tail));
        let mut bad = good.clone();
        bad[4] = 10;
        assert_eq!(Ziplist::parse(&bad).err(), Some(ZiplistError::Tail));
        // 65535 entries means "count them".
        let mut unknown = good.clone();
        unknown[8] = 0xff;
        unknown[9] = 0xff;
        assert_eq!(Ziplist::parse(&unknown).unwrap().len(), 2);
        // The empty ziplist is valid (the loaders refuse it as an empty key).
        let empty = build(&[]);
        assert_eq!(empty, b"\x0b\x00\x00\x00\x0a\x00\x00\x00\x00\x00\xff");
        assert!(Ziplist::parse(&empty).unwrap().is_empty());
    }

    #[test]
    fn bad_encodings_are_refused() {
        for enc in [0xc1u8, 0xcf, 0xd1, 0xe5, 0xff] {
            let zl = [0x0d, 0, 0, 0, 0x0a, 0, 0, 0, 1, 0, 0x00, enc, 0xff];
            assert!(Ziplist::parse(&zl).is_err(), "{enc:x}");
        }
        // A big prevlen whose 4 bytes run into the terminator.
        let zl = [0x0e, 0, 0, 0, 0x0a, 0, 0, 0, 1, 0, 0xfe, 0, 0, 0xff];
        assert_eq!(Ziplist::parse(&zl).err(), Some(ZiplistError::EntryOutside));
        // A 32-bit string length of 4 GiB.
        let zl = [0x10, 0, 0, 0, 0x0a, 0, 0, 0, 1, 0, 0x00, 0x80, 0xff, 0xff, 0xff, 0xff];
        assert!(Ziplist::parse(&zl).is_err());
    }

    #[test]
    fn pairs() {
        let zl = build(&[b"f", b"1", b"2", b"v"]);
        let lp = Ziplist::parse(&zl).unwrap().pairs_to_listpack().unwrap();
        assert_eq!(lp.len(), 4);
        let odd = build(&[b"f", b"1", b"g"]);
        assert_eq!(Ziplist::parse(&odd).unwrap().pairs_to_listpack().err(), Some(ZiplistError::OddCount));
        // A field that appears twice.
        let dup = build(&[b"5", b"a", b"x", b"b", b"5", b"c"]);
        let zl = Ziplist::parse(&dup).unwrap();
        assert_eq!(zl.len(), 6);
        assert_eq!(zl.pairs_to_listpack().err(), Some(ZiplistError::Duplicate));
    }

    /// Every single-byte change and every truncation of a valid ziplist is
    /// an error or a ziplist whose entries can all be read, never a panic.
    #[test]
    fn mutations_never_panic() {
        let long = "z".repeat(300);
        let zl = build(&[b"a", b"1", b"-70000", long.as_bytes(), b"bc", b"5000000000"]);
        for i in 0..zl.len() {
            for byte in [0x00, 0x01, 0x3f, 0x40, 0x7f, 0x80, 0xbf, 0xc0, 0xd0, 0xe0, 0xf0, 0xf5, 0xfe, 0xff] {
                let mut m = zl.clone();
                m[i] = byte;
                if let Ok(z) = Ziplist::parse(&m) {
                    assert_eq!(z.iter().count(), z.len());
                }
            }
            let _ = Ziplist::parse(&zl[..i]);
        }
    }
}
