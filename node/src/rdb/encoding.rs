//! The primitives every RDB value is built from: lengths and strings (Redis `rdb.c`,
//! `rdbSaveLen`/`rdbLoadLen`, `rdbSaveRawString`/`rdbGenericLoadStringObject`).
//!
//! A length is 1, 2, 5 or 9 bytes, chosen by the top two bits of the first byte:
//! - `00llllll`: 6-bit length;
//! - `01llllll llllllll`: 14-bit length, big-endian;
//! - `10000000` + 4 bytes: 32-bit length, big-endian; `10000001` + 8 bytes: 64-bit;
//! - `11eeeeee`: not a length but a special string encoding `e` (`RDB_ENCVAL`).
//!
//! A string is a length and its bytes, or one of the special encodings: a decimal integer
//! stored as a little-endian int8/16/32, or LZF data as `compressed length`,
//! `original length`, bytes.

use super::{lzf, RdbError};

/// Top two bits of a length's first byte.
const RDB_6BITLEN: u8 = 0;
const RDB_14BITLEN: u8 = 1;
const RDB_ENCVAL: u8 = 3;
/// Whole first bytes of the wide lengths (the other `10xxxxxx` values are invalid).
const RDB_32BITLEN: u8 = 0x80;
const RDB_64BITLEN: u8 = 0x81;

/// Special string encodings, the low six bits after `RDB_ENCVAL`.
pub const RDB_ENC_INT8: u8 = 0;
pub const RDB_ENC_INT16: u8 = 1;
pub const RDB_ENC_INT32: u8 = 2;
pub const RDB_ENC_LZF: u8 = 3;

/// Redis does not try LZF on strings this short or shorter: even a run of one repeated
/// byte would not shrink enough to pay for the lengths.
const LZF_MIN_LEN: usize = 20;
/// The longest canonical decimal of an i32 (`-2147483648`), beyond which Redis does not
/// try the integer encodings.
const INT_ENCODING_MAX_LEN: usize = 11;
/// Longest canonical decimal of an i64 (`-9223372036854775808`).
const I64_MAX_DECIMAL_LEN: usize = 20;

/// What a length field holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Length {
    /// A count of bytes or elements.
    Plain(u64),
    /// `RDB_ENCVAL`: the string that follows uses special encoding `RDB_ENC_*`.
    Encoded(u8),
}

/// A bounds-checked cursor over RDB bytes. Every read either succeeds or returns an
/// error; a length is trusted for an allocation only once the input is known to hold
/// that many bytes.
#[derive(Debug, Clone)]
pub struct Reader<'a> {
    input: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    pub fn new(input: &'a [u8]) -> Self {
        Reader { input, pos: 0 }
    }

    /// Bytes read so far.
    pub fn position(&self) -> usize {
        self.pos
    }

    /// Bytes not read yet.
    pub fn remaining(&self) -> usize {
        self.input.len() - self.pos
    }

    pub fn is_empty(&self) -> bool {
        self.remaining() == 0
    }

    pub fn read_u8(&mut self) -> Result<u8, RdbError> {
        let b = *self.input.get(self.pos).ok_or(RdbError::Truncated)?;
        self.pos += 1;
        Ok(b)
    }

    /// The next `n` bytes, borrowed from the input.
    pub fn read_bytes(&mut self, n: usize) -> Result<&'a [u8], RdbError> {
        if n > self.remaining() {
            return Err(RdbError::Truncated);
        }
        let bytes = &self.input[self.pos..self.pos + n];
        self.pos += n;
        Ok(bytes)
    }

    pub fn read_array<const N: usize>(&mut self) -> Result<[u8; N], RdbError> {
        let mut array = [0; N];
        array.copy_from_slice(self.read_bytes(N)?);
        Ok(array)
    }

    /// A length field, or the special encoding it announces (`rdbLoadLenByRef`).
    pub fn read_length(&mut self) -> Result<Length, RdbError> {
        let first = self.read_u8()?;
        match first >> 6 {
            RDB_6BITLEN => Ok(Length::Plain(u64::from(first & 0x3f))),
            RDB_14BITLEN => {
                let low = self.read_u8()?;
                Ok(Length::Plain(
                    (u64::from(first & 0x3f) << 8) | u64::from(low),
                ))
            }
            RDB_ENCVAL => Ok(Length::Encoded(first & 0x3f)),
            _ => match first {
                RDB_32BITLEN => Ok(Length::Plain(u64::from(u32::from_be_bytes(
                    self.read_array()?,
                )))),
                RDB_64BITLEN => Ok(Length::Plain(u64::from_be_bytes(self.read_array()?))),
                _ => Err(RdbError::BadLengthEncoding(first)),
            },
        }
    }

    /// A length field that must be a plain length (element counts, LZF sizes).
    pub fn read_len(&mut self) -> Result<u64, RdbError> {
        match self.read_length()? {
            Length::Plain(n) => Ok(n),
            Length::Encoded(e) => Err(RdbError::UnexpectedEncodedLength(e)),
        }
    }

    /// `n` as a count of bytes still to read: refused, before anything is allocated for
    /// it, if the rest of the input is shorter.
    fn byte_count(&self, n: u64) -> Result<usize, RdbError> {
        match usize::try_from(n) {
            Ok(n) if n <= self.remaining() => Ok(n),
            _ => Err(RdbError::LengthTooLarge(n)),
        }
    }

    /// A string in any of its encodings, as its bytes (integers as their decimal form).
    pub fn read_string(&mut self) -> Result<Vec<u8>, RdbError> {
        match self.read_length()? {
            Length::Plain(n) => {
                let n = self.byte_count(n)?;
                Ok(self.read_bytes(n)?.to_vec())
            }
            Length::Encoded(RDB_ENC_INT8) => Ok(decimal(i8::from_le_bytes(self.read_array()?))),
            Length::Encoded(RDB_ENC_INT16) => Ok(decimal(i16::from_le_bytes(self.read_array()?))),
            Length::Encoded(RDB_ENC_INT32) => Ok(decimal(i32::from_le_bytes(self.read_array()?))),
            Length::Encoded(RDB_ENC_LZF) => {
                let compressed_len = self.read_len()?;
                let compressed_len = self.byte_count(compressed_len)?;
                let len = self.read_len()?;
                let len = usize::try_from(len).map_err(|_| RdbError::LengthTooLarge(len))?;
                // decompress() refuses a length the data cannot expand to before
                // allocating it.
                lzf::decompress(self.read_bytes(compressed_len)?, len)
            }
            Length::Encoded(e) => Err(RdbError::UnknownStringEncoding(e)),
        }
    }
}

/// The decimal form an integer-encoded string stands for.
fn decimal(n: impl Into<i64>) -> Vec<u8> {
    n.into().to_string().into_bytes()
}

/// Appends `len` in the shortest length encoding (`rdbSaveLen`).
pub fn write_len(out: &mut Vec<u8>, len: u64) {
    if len < 1 << 6 {
        out.push((RDB_6BITLEN << 6) | len as u8);
    } else if len < 1 << 14 {
        out.push((RDB_14BITLEN << 6) | (len >> 8) as u8);
        out.push(len as u8);
    } else if let Ok(len) = u32::try_from(len) {
        out.push(RDB_32BITLEN);
        out.extend_from_slice(&len.to_be_bytes());
    } else {
        out.push(RDB_64BITLEN);
        out.extend_from_slice(&len.to_be_bytes());
    }
}

/// Appends `value` as a special integer encoding if it fits in 32 bits
/// (`rdbEncodeInteger`); returns whether it did.
pub fn write_encoded_int(out: &mut Vec<u8>, value: i64) -> bool {
    let tag = |enc: u8| (RDB_ENCVAL << 6) | enc;
    if let Ok(v) = i8::try_from(value) {
        out.push(tag(RDB_ENC_INT8));
        out.extend_from_slice(&v.to_le_bytes());
    } else if let Ok(v) = i16::try_from(value) {
        out.push(tag(RDB_ENC_INT16));
        out.extend_from_slice(&v.to_le_bytes());
    } else if let Ok(v) = i32::try_from(value) {
        out.push(tag(RDB_ENC_INT32));
        out.extend_from_slice(&v.to_le_bytes());
    } else {
        return false;
    }
    true
}

/// Appends `s` the way Redis chooses (`rdbSaveRawString`): as an integer when it is the
/// canonical decimal form of a 32-bit value (so `"007"` and `"-0"` stay strings, because
/// loading them back would give `"7"` and `"0"`), as LZF when `compress` is on
/// (`rdbcompression`), the string is longer than 20 bytes and LZF saves at least 4 bytes,
/// else as length and bytes.
pub fn write_string(out: &mut Vec<u8>, s: &[u8], compress: bool) {
    if s.len() <= INT_ENCODING_MAX_LEN {
        if let Some(value) = parse_canonical_i64(s) {
            if write_encoded_int(out, value) {
                return;
            }
        }
    }
    if compress && s.len() > LZF_MIN_LEN {
        if let Some(compressed) = lzf::compress(s) {
            out.push((RDB_ENCVAL << 6) | RDB_ENC_LZF);
            write_len(out, compressed.len() as u64);
            write_len(out, s.len() as u64);
            out.extend_from_slice(&compressed);
            return;
        }
    }
    write_len(out, s.len() as u64);
    out.extend_from_slice(s);
}

/// `s` as an i64 if it is exactly how that integer prints: optional `-`, no leading zeros,
/// no `+`, no spaces, no `-0` (Redis `string2ll`). Only such strings may be stored as
/// integers, since loading prints the integer back.
pub fn parse_canonical_i64(s: &[u8]) -> Option<i64> {
    if s.is_empty() || s.len() > I64_MAX_DECIMAL_LEN {
        return None;
    }
    if s == b"0" {
        return Some(0);
    }
    let (negative, digits) = match s.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, s),
    };
    match digits.first() {
        Some(b'1'..=b'9') => {}
        _ => return None,
    }
    let mut magnitude: u64 = 0;
    for &d in digits {
        if !d.is_ascii_digit() {
            return None;
        }
        magnitude = magnitude
            .checked_mul(10)?
            .checked_add(u64::from(d - b'0'))?;
    }
    if negative {
        0i64.checked_sub_unsigned(magnitude)
    } else {
        i64::try_from(magnitude).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encoded_len(len: u64) -> Vec<u8> {
        let mut out = Vec::new();
        write_len(&mut out, len);
        out
    }

    #[test]
    fn lengths_use_the_shortest_form_and_read_back() {
        let cases: [(u64, &[u8]); 8] = [
            (0, &[0x00]),
            (63, &[0x3f]),
            (64, &[0x40, 0x40]),
            (16383, &[0x7f, 0xff]),
            (16384, &[0x80, 0x00, 0x00, 0x40, 0x00]),
            (u32::MAX as u64, &[0x80, 0xff, 0xff, 0xff, 0xff]),
            (1 << 32, &[0x81, 0, 0, 0, 1, 0, 0, 0, 0]),
            (
                u64::MAX,
                &[0x81, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
            ),
        ];
        for (len, bytes) in cases {
            assert_eq!(encoded_len(len), bytes, "len {len}");
            let mut r = Reader::new(bytes);
            assert_eq!(r.read_length().unwrap(), Length::Plain(len));
            assert!(r.is_empty());
        }
    }

    #[test]
    fn bad_and_truncated_lengths() {
        assert_eq!(
            Reader::new(&[0x82]).read_length(),
            Err(RdbError::BadLengthEncoding(0x82))
        );
        assert_eq!(
            Reader::new(&[0xbf]).read_length(),
            Err(RdbError::BadLengthEncoding(0xbf))
        );
        assert_eq!(Reader::new(&[]).read_length(), Err(RdbError::Truncated));
        assert_eq!(Reader::new(&[0x40]).read_length(), Err(RdbError::Truncated));
        assert_eq!(
            Reader::new(&[0x80, 0, 0, 0]).read_length(),
            Err(RdbError::Truncated)
        );
        assert_eq!(
            Reader::new(&[0x81, 0, 0, 0, 0, 0, 0, 0]).read_length(),
            Err(RdbError::Truncated)
        );
        assert_eq!(
            Reader::new(&[0xc3]).read_length(),
            Ok(Length::Encoded(RDB_ENC_LZF))
        );
        assert_eq!(
            Reader::new(&[0xc3]).read_len(),
            Err(RdbError::UnexpectedEncodedLength(3))
        );
    }

    #[test]
    fn canonical_integers() {
        for (s, v) in [
            ("0", Some(0)),
            ("-1", Some(-1)),
            ("9223372036854775807", Some(i64::MAX)),
            ("-9223372036854775808", Some(i64::MIN)),
            ("9223372036854775808", None),
            ("-9223372036854775809", None),
            ("18446744073709551616", None),
            ("007", None),
            ("-0", None),
            ("-", None),
            ("+1", None),
            (" 1", None),
            ("1 ", None),
            ("1a", None),
            ("", None),
            ("00", None),
        ] {
            assert_eq!(parse_canonical_i64(s.as_bytes()), v, "{s:?}");
        }
    }

    #[test]
    fn absurd_string_lengths_fail_without_allocating() {
        // A 64-bit length of 2^63 followed by nothing.
        let mut r = Reader::new(&[0x81, 0x80, 0, 0, 0, 0, 0, 0, 0]);
        assert_eq!(r.read_string(), Err(RdbError::LengthTooLarge(1 << 63)));
        // LZF claiming a compressed length beyond the input.
        let mut r = Reader::new(&[0xc3, 0x80, 0xff, 0xff, 0xff, 0xff, 0x05, 0x00]);
        assert_eq!(
            r.read_string(),
            Err(RdbError::LengthTooLarge(u32::MAX as u64))
        );
        // LZF claiming an original length of 2^64-1 from two bytes of data.
        let mut input = vec![0xc3, 0x02];
        input.extend_from_slice(&[0x81, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
        input.extend_from_slice(&[0x00, b'a']);
        assert!(Reader::new(&input).read_string().is_err());
    }

    #[test]
    fn unknown_string_encodings() {
        for e in 4..64u8 {
            let bytes = [0xc0 | e, 0, 0, 0, 0];
            assert_eq!(
                Reader::new(&bytes).read_string(),
                Err(RdbError::UnknownStringEncoding(e))
            );
        }
    }

    #[test]
    fn strings_round_trip_through_every_encoding() {
        let samples: Vec<Vec<u8>> = vec![
            b"".to_vec(),
            b"x".to_vec(),
            b"-128".to_vec(),
            b"-2147483648".to_vec(),
            b"2147483648".to_vec(),
            vec![b'q'; 63],
            vec![b'q'; 64],
            (0..=255u8).collect(),
            b"abc".repeat(10_000),
        ];
        for s in samples {
            for compress in [false, true] {
                let mut out = Vec::new();
                write_string(&mut out, &s, compress);
                let mut r = Reader::new(&out);
                assert_eq!(r.read_string().unwrap(), s);
                assert!(r.is_empty());
            }
        }
    }
}
