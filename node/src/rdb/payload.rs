//! The `DUMP`/`RESTORE` payload (Redis `cluster.c`, `createDumpPayload` and
//! `verifyDumpPayload`):
//!
//! ```text
//! +-----------+-------+-------------------+-------------------------------+
//! | type byte | value | RDB version (LE)  | CRC64 of all before it (LE)   |
//! |    1 B    |       |       2 B         |             8 B               |
//! +-----------+-------+-------------------+-------------------------------+
//! ```
//!
//! Used by `DUMP`, `RESTORE` and, later, `MIGRATE`. Payloads we write are byte-identical
//! to Redis 7.0's for the same value and `rdbcompression` setting.

use super::crc64::crc64;
use super::encoding::Reader;
use super::value::{self, ValueType};
use super::{RdbError, RdbValue, RDB_VERSION};

/// The footer: 2 bytes of RDB version, 8 bytes of CRC64.
const FOOTER_LEN: usize = 10;

/// Whether `RESTORE` verifies the footer's CRC64. Redis always does, unless
/// `DEBUG SET-SKIP-CHECKSUM-VALIDATION 1` turned it off (its tests use that to feed
/// corrupt values to the decoder); the version is checked either way.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChecksumPolicy {
    Verify,
    Skip,
}

/// DUMP of a string: RDB type byte + value encoding + 2-byte little-endian RDB version +
/// 8-byte little-endian CRC64 of all before it.
///
/// Strings encode as Redis does: integers that fit as `RDB_ENC_INT8/16/32` when the string
/// is the canonical decimal form, LZF when `compress` is true and the string is longer
/// than 20 bytes and it shrinks (Redis's `rdbcompression`), else raw.
pub fn dump_string(value: &[u8], compress: bool) -> Vec<u8> {
    // type + longest length + the bytes + footer: the raw encoding, the largest one.
    let mut out = Vec::with_capacity(1 + 9 + value.len() + FOOTER_LEN);
    out.push(ValueType::String.byte());
    super::encoding::write_string(&mut out, value, compress);
    finish(out)
}

/// DUMP of a value as Corvid holds it, written without copying it first.
pub fn dump_value(v: &crate::keyspace::ValueRef<'_>, compress: bool) -> Vec<u8> {
    let mut out = Vec::new();
    out.push(ValueType::of_value(v).byte());
    value::write_value_ref(&mut out, v, compress);
    finish(out)
}

/// DUMP of any value Corvid holds; see [`dump_string`].
pub fn dump(value: &RdbValue, compress: bool) -> Vec<u8> {
    let mut out = Vec::new();
    out.push(ValueType::of(value).byte());
    value::write_value(&mut out, value, compress);
    finish(out)
}

/// Appends the footer: our RDB version, then the CRC64 of everything up to and including it.
/// RDB_OPCODE_FUNCTION2: a function library, as its code.
pub const OPCODE_FUNCTION2: u8 = 245;
/// RDB_OPCODE_FUNCTION (7.0 release candidates): refused, as Redis 7.0 does
/// for anything but the current form.
const OPCODE_FUNCTION_PRE_GA: u8 = 246;

/// FUNCTION DUMP's payload: each library's code after its opcode, then the
/// usual version and checksum.
pub fn dump_functions<'a>(codes: impl Iterator<Item = &'a [u8]>) -> Vec<u8> {
    let mut out = Vec::new();
    for code in codes {
        out.push(OPCODE_FUNCTION2);
        super::encoding::write_string(&mut out, code, false);
    }
    finish(out)
}

/// The library codes in a FUNCTION DUMP payload; the error is FUNCTION
/// RESTORE's reply text.
pub fn restore_functions(payload: &[u8]) -> Result<Vec<Vec<u8>>, &'static str> {
    let body = verify(payload, ChecksumPolicy::Verify).map_err(|_| "DUMP payload version or checksum are wrong")?;
    let mut r = Reader::new(body);
    let mut codes = Vec::new();
    while !r.is_empty() {
        let ty = r.read_array::<1>().map_err(|_| "can not read data type")?[0];
        if ty != OPCODE_FUNCTION2 && ty != OPCODE_FUNCTION_PRE_GA {
            return Err("given type is not a function");
        }
        if ty == OPCODE_FUNCTION_PRE_GA {
            return Err("Pre-GA function format not supported");
        }
        codes.push(r.read_string().map_err(|_| "failed loading the given functions payload")?);
    }
    Ok(codes)
}

fn finish(mut out: Vec<u8>) -> Vec<u8> {
    out.extend_from_slice(&RDB_VERSION.to_le_bytes());
    let crc = crc64(0, &out);
    out.extend_from_slice(&crc.to_le_bytes());
    out
}

/// RESTORE's decoding of a payload, with the checks of `verifyDumpPayload`: at least the
/// 10-byte footer, an RDB version no newer than ours, a matching CRC64 (always checked,
/// as in Redis 7.0: a stored CRC of 0 is only "no checksum" in RDB files, not here).
///
/// Footer failures are [`RdbError`]s whose `Display` is "DUMP payload version or checksum
/// are wrong"; anything wrong with the value itself displays as "Bad data format". Unlike
/// Redis, bytes left between the value and the footer are refused too.
pub fn restore(payload: &[u8]) -> Result<RdbValue, RdbError> {
    restore_with(payload, ChecksumPolicy::Verify)
}

/// [`restore`], with the CRC check optional (`DEBUG SET-SKIP-CHECKSUM-VALIDATION`).
pub fn restore_with(payload: &[u8], checksum: ChecksumPolicy) -> Result<RdbValue, RdbError> {
    let body = verify(payload, checksum)?;
    let mut r = Reader::new(body);
    let ty = value::read_type(&mut r)?;
    let value = value::read_value(&mut r, ty)?;
    if !r.is_empty() {
        return Err(RdbError::TrailingBytes(r.remaining()));
    }
    Ok(value)
}

/// Checks the footer and returns what precedes it: the type byte and the value.
fn verify(payload: &[u8], checksum: ChecksumPolicy) -> Result<&[u8], RdbError> {
    if payload.len() < FOOTER_LEN {
        return Err(RdbError::PayloadTooShort(payload.len()));
    }
    let (body, footer) = payload.split_at(payload.len() - FOOTER_LEN);
    let (version, stored_crc) = footer.split_at(2);
    let version = u16::from_le_bytes([version[0], version[1]]);
    if version > RDB_VERSION {
        return Err(RdbError::VersionTooNew(version));
    }
    if checksum == ChecksumPolicy::Verify {
        let mut crc_bytes = [0u8; 8];
        crc_bytes.copy_from_slice(stored_crc);
        let stored = u64::from_le_bytes(crc_bytes);
        let computed = crc64(0, &payload[..payload.len() - 8]);
        if stored != computed {
            return Err(RdbError::ChecksumMismatch { stored, computed });
        }
    }
    Ok(body)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    fn restored(payload: &[u8]) -> Vec<u8> {
        match restore(payload) {
            Ok(RdbValue::String(s)) => s,
            Ok(other) => panic!("not a string: {other:?}"),
            Err(e) => panic!("restore failed: {e:?}"),
        }
    }

    /// A list DUMP from redis-server 7.0.15 (RPUSH l a b): one packed node.
    #[test]
    fn list_payload_from_redis_round_trips() {
        let payload = hex("1201020d0d0000000200816102816202ff0a0068eb0a891341bbb1");
        let Ok(RdbValue::List(nodes)) = restore(&payload) else { panic!("not a list") };
        let list = crate::quicklist::QuickList::from_nodes(nodes, -2);
        let items: Vec<Vec<u8>> = list.iter().map(|v| v.to_bytes()).collect();
        assert_eq!(items, [b"a".to_vec(), b"b".to_vec()]);
        assert_eq!(dump_value(&crate::keyspace::ValueRef::List(&list), true), payload);
        // A node container other than plain (1) or packed (2) is refused.
        let mut bad = payload[..payload.len() - 10].to_vec();
        bad[2] = 3;
        assert_eq!(restore(&finish(bad)), Err(RdbError::BadNodeContainer(3)));
    }

    /// Payloads `DUMP` returned from Debian's redis-server 7.0.15 (rdbcompression yes),
    /// for the value beside each.
    fn redis_fixtures() -> Vec<(Vec<u8>, &'static str)> {
        let s = |v: &str| v.as_bytes().to_vec();
        vec![
            (s("0"), "00c0000a009840a778f8500308"),
            (s("-1"), "00c0ff0a000c937e2485089dc5"),
            (s("127"), "00c07f0a000db5eb315254c514"),
            (s("128"), "00c180000a00eb7ab3b510cf4b65"),
            (s("-128"), "00c0800a009966326d2f0c5bd9"),
            (s("-129"), "00c17fff0a001760822854808480"),
            (s("32767"), "00c1ff7f0a00495a37da17f4d52b"),
            (s("32768"), "00c2008000000a0045d82eedd5bda910"),
            (s("-32768"), "00c100800a00b540064753bb1ace"),
            (s("-32769"), "00c2ff7fffff0a00aee34c4d06c68536"),
            (s("2147483647"), "00c2ffffff7f0a002c74e59ee02eada1"),
            (s("2147483648"), "000a323134373438333634380a00e7b129a34c1d76ee"),
            (s("-2147483648"), "00c2000000800a00c74f873e33558187"),
            (s("-2147483649"), "000b2d323134373438333634390a00c261377908f2028c"),
            (s("12345678901"), "000b31323334353637383930310a00304e52d727176510"),
            (
                s("9223372036854775807"),
                "0013393232333337323033363835343737353830370a003a657e9481e85f22",
            ),
            (
                s("-9223372036854775808"),
                "00142d393232333337323033363835343737353830380a00ede2b956eb709e81",
            ),
            (
                s("9223372036854775808"),
                "0013393232333337323033363835343737353830380a0037d576b70c698fc8",
            ),
            (s("007"), "00033030370a007258e27b4c69bad9"),
            (s("-0"), "00022d300a00d5411fd9d6d050cc"),
            (s("+1"), "00022b310a00c286f0d7439aee6f"),
            (s(" 1"), "000220310a003fe5791ae5defb1b"),
            (s("1 "), "000231200a0016fd33f0b380b43c"),
            (s(""), "00000a005d9b5c400f7fa2da"),
            (s("a"), "0001610a00bffeef9b8f367db4"),
            (s("hello"), "000568656c6c6f0a006372df766534200a"),
            (b"\x00\xff\r\n\x80binary".to_vec(), "000b00ff0d0a8062696e6172790a00f7b313b92bdd07f3"),
            (s("abcdefghijklmnopqrstuvwxyz0123"), "001e6162636465666768696a6b6c6d6e6f707172737475767778797a303132330a001efbaedbaead40d1"),
            (
                hex("52f22665a60c12d289185d950ee8813609166f6b113d178d6c0fd3901ff239a1a095f20f9395650cf9380b8edb224a6b248a1e924e8fd0ae2e1a9492a3305f18"),
                "00404052f22665a60c12d289185d950ee8813609166f6b113d178d6c0fd3901ff239a1a095f20f9395650cf9380b8edb224a6b248a1e924e8fd0ae2e1a9492a3305f180a0010421e1ef9d99358",
            ),
            // Compressed.
            (b"a".repeat(20), "001461616161616161616161616161616161616161610a0083b46b5e1b11acf1"),
            (b"a".repeat(21), "00c30615016161e00a000a00fd0cb36807413f68"),
            (b"abc".repeat(8), "00c30a180361626361e00a0200630a007fc3e2201281166e"),
            (b"a".repeat(100), "00c3094064016161e057000161610a00e8a3b507b06df271"),
            ([b"a".repeat(36), b"b".to_vec()].concat(), "00c30925016161e018000161620a005173a7ef0a37ce58"),
            (b"x".repeat(1000), "00c31243e8017878e0ff00e0ff00e0ff00e0c3000178780a009219e2966d932c99"),
            (
                b"hello world ".repeat(50),
                "00c31a42580c68656c6c6f20776f726c642068e0ff0be1ff07e130070164200a0041548f9e887b7d5d",
            ),
            (
                b"The quick brown fox jumps over the lazy dog. ".repeat(8),
                "00c33a41681f54686520717569636b2062726f776e20666f78206a756d7073206f7665722074201e0a6c617a7920646f672e2054200de0ff2ce1240d012e200a00c86042e09b094635",
            ),
            (
                b"0123456789".repeat(30),
                "00c315412c0a3031323334353637383930e0ff09e10e0d0138390a00f1e9827c1e55e49a",
            ),
        ]
    }

    #[test]
    fn dump_is_byte_identical_to_redis() {
        for (value, payload) in redis_fixtures() {
            assert_eq!(
                dump_string(&value, true),
                hex(payload),
                "value {:?}",
                String::from_utf8_lossy(&value)
            );
        }
    }

    #[test]
    fn restore_accepts_redis_payloads() {
        for (value, payload) in redis_fixtures() {
            assert_eq!(restored(&hex(payload)), value);
        }
    }

    #[test]
    fn large_compressed_dump_matches_redis() {
        // DUMP of 70000 × "a" from redis-server 7.0.15 is 823 bytes ending in this CRC;
        // the CRC covers every byte before it, so equal CRCs mean equal payloads.
        let value = b"a".repeat(70_000);
        let payload = dump_string(&value, true);
        assert_eq!(payload.len(), 823);
        assert_eq!(payload[..4], [0x00, 0xc3, 0x43, 0x24]);
        assert_eq!(payload[payload.len() - 8..], hex("fb617f2e1b7bfae4"));
        assert_eq!(restored(&payload), value);
    }

    #[test]
    fn rdbcompression_no_stores_raw() {
        // From redis-server 7.0.15 with `CONFIG SET rdbcompression no`.
        let value = b"a".repeat(100);
        let expected = format!("004064{}0a00afa7a1bf69717045", "61".repeat(100));
        assert_eq!(dump_string(&value, false), hex(&expected));
        assert_eq!(restored(&hex(&expected)), value);
        // Integers are encoded whatever rdbcompression says.
        assert_eq!(dump_string(b"-1", false), hex("00c0ff0a000c937e2485089dc5"));
    }

    #[test]
    fn round_trips() {
        let mut values: Vec<Vec<u8>> = [
            "0",
            "-1",
            "127",
            "128",
            "-32768",
            "2147483647",
            "2147483648",
            "-2147483649",
            "9223372036854775807",
            "-9223372036854775808",
            "007",
            "00",
            "-0",
            "1.5",
            "",
        ]
        .iter()
        .map(|s| s.as_bytes().to_vec())
        .collect();
        values.push((0..=255u8).collect());
        values.push(b"z".repeat(16_384));
        values.push(b"pattern-".repeat(100_000));
        for value in values {
            for compress in [false, true] {
                let payload = dump_string(&value, compress);
                assert_eq!(restored(&payload), value);
                assert_eq!(dump(&RdbValue::String(value.clone()), compress), payload);
            }
        }
        // "007" must come back as "007", not as the integer 7.
        assert_eq!(dump_string(b"007", true)[1], 3);
    }

    #[test]
    fn footer_failures() {
        let good = dump_string(b"hello", true);
        for len in 0..FOOTER_LEN {
            assert_eq!(restore(&good[..len]), Err(RdbError::PayloadTooShort(len)));
        }
        // Version 11 is newer than ours, even with a valid CRC.
        let mut newer = good[..good.len() - FOOTER_LEN].to_vec();
        newer.extend_from_slice(&11u16.to_le_bytes());
        let crc = crc64(0, &newer);
        newer.extend_from_slice(&crc.to_le_bytes());
        assert_eq!(restore(&newer), Err(RdbError::VersionTooNew(11)));
        // An older version is fine (Redis 6 wrote 9).
        let mut older = good[..good.len() - FOOTER_LEN].to_vec();
        older.extend_from_slice(&9u16.to_le_bytes());
        let crc = crc64(0, &older);
        older.extend_from_slice(&crc.to_le_bytes());
        assert_eq!(restored(&older), b"hello");
        // A zeroed CRC is a mismatch like any other.
        let mut zeroed = good.clone();
        let n = zeroed.len();
        zeroed[n - 8..].fill(0);
        assert!(matches!(
            restore(&zeroed),
            Err(RdbError::ChecksumMismatch { stored: 0, .. })
        ));
        assert_eq!(
            restore(&zeroed).unwrap_err().to_string(),
            "DUMP payload version or checksum are wrong"
        );
        assert_eq!(
            restore_with(&zeroed, ChecksumPolicy::Skip),
            Ok(RdbValue::String(b"hello".to_vec()))
        );
    }

    #[test]
    fn every_truncation_and_bit_flip_is_an_error() {
        let values: [&[u8]; 5] = [b"", b"7", b"-300000", b"plain string", &[b'q'; 300]];
        for value in values {
            let good = dump_string(value, true);
            for len in 0..good.len() {
                assert!(restore(&good[..len]).is_err(), "truncated to {len}");
            }
            for byte in 0..good.len() {
                for bit in 0..8 {
                    let mut bent = good.clone();
                    bent[byte] ^= 1 << bit;
                    assert!(restore(&bent).is_err(), "flip byte {byte} bit {bit}");
                }
            }
        }
    }

    /// A payload with a valid footer around `body`, so only the decoder can refuse it.
    fn sealed(body: &[u8]) -> Vec<u8> {
        finish(body.to_vec())
    }

    #[test]
    fn bad_bodies_are_bad_data_format() {
        let cases: Vec<(Vec<u8>, RdbError)> = vec![
            (vec![], RdbError::Truncated),
            (vec![8, 0], RdbError::UnknownType(8)),
            (vec![200, 0], RdbError::UnknownType(200)),
            (vec![2, 0], RdbError::EmptyValue),
            (vec![2, 2, 1, b'a', 1, b'a'], RdbError::Duplicate),
            (vec![2, 63, 1, b'a'], RdbError::LengthTooLarge(63)),
            (vec![11, 8, 2, 0, 0, 0, 0, 0, 0, 0], RdbError::EmptyValue),
            (vec![11, 10, 2, 0, 0, 0, 2, 0, 0, 0, 5, 0], RdbError::BadIntSet(crate::intset::IntSetError::Length)),
            (vec![4, 1, 1, b'f'], RdbError::Truncated),
            (vec![4, 2, 1, b'f', 1, b'v', 1, b'f', 1, b'w'], RdbError::Duplicate),
            (vec![5, 1, 1, b'm', 0, 0, 0, 0, 0, 0, 0xf8, 0x7f], RdbError::BadPairs),
            (vec![14, 1, 0], RdbError::EmptyNode),
            (vec![6, 0], RdbError::UnsupportedType(6)),
            (vec![18, 1, 0], RdbError::BadNodeContainer(0)),
            (vec![18, 0], RdbError::EmptyValue),
            (vec![0], RdbError::Truncated),
            (vec![0, 5, b'a'], RdbError::LengthTooLarge(5)),
            (vec![0, 1, b'a', b'b'], RdbError::TrailingBytes(1)),
            (vec![0, 0xc0], RdbError::Truncated),
            (vec![0, 0xc1, 1], RdbError::Truncated),
            (vec![0, 0xc2, 1, 2, 3], RdbError::Truncated),
            (vec![0, 0xc4], RdbError::UnknownStringEncoding(4)),
            (vec![0, 0x90], RdbError::BadLengthEncoding(0x90)),
            (
                vec![0, 0x81, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
                RdbError::LengthTooLarge(u64::MAX),
            ),
            // LZF whose stream is one byte short of its declared length.
            (
                vec![0, 0xc3, 0x02, 0x03, 0x01, b'a'],
                RdbError::LzfCorrupt("literal run cut short"),
            ),
            // LZF whose compressed size exceeds the payload.
            (
                vec![0, 0xc3, 0x10, 0x03, 0x00, b'a'],
                RdbError::LengthTooLarge(16),
            ),
            // LZF claiming 2^32-1 bytes from 3 bytes of data.
            (
                vec![0, 0xc3, 0x03, 0x80, 0xff, 0xff, 0xff, 0xff, 0x00, b'a', 0],
                RdbError::LzfCorrupt("declared length beyond what the data can expand to"),
            ),
        ];
        for (body, expected) in cases {
            let err = restore(&sealed(&body)).unwrap_err();
            assert_eq!(err, expected, "body {body:02x?}");
            assert_eq!(err.to_string(), "Bad data format");
        }
    }

    #[test]
    fn fuzzed_bodies_never_panic() {
        let mut state = 0x2545f4914f6cdd1du64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let seed = dump_string(&b"abcabcabcabcabcabcabcabcabcabcabcabc".repeat(3), true);
        let seed_body = &seed[..seed.len() - FOOTER_LEN];
        for round in 0..100_000 {
            let body: Vec<u8> = if round % 2 == 0 {
                (0..next() % 40).map(|_| next() as u8).collect()
            } else {
                let mut b = seed_body.to_vec();
                let i = (next() as usize) % b.len();
                b[i] = next() as u8;
                b.truncate(1 + (next() as usize) % b.len());
                b
            };
            if let Ok(RdbValue::String(s)) = restore(&sealed(&body)) {
                // Whatever decodes must be a string a real encoder could have produced.
                assert!(s.len() <= body.len() * 88);
            }
        }
    }
}
