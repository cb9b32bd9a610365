//! Redis's serialization format, RDB version 10 (Redis 7.0).
//!
//! The same value encoding serves the `DUMP`/`RESTORE` payload, the snapshot file and the
//! full-sync stream of replication, so it is built in layers that each of those reuses:
//!
//! # Layout
//! - [`encoding`]: the primitives every RDB value is made of — variable-width lengths
//!   (`RDB_6BITLEN`/`14BITLEN`/`32BITLEN`/`64BITLEN`) and strings, which may be stored as
//!   small integers (`RDB_ENC_INT8/16/32`) or LZF-compressed (`RDB_ENC_LZF`); a
//!   bounds-checked [`encoding::Reader`] that turns any malformed input into an error.
//! - [`value`]: the object type byte (every `RDB_TYPE_*` of Redis 7.0) and the body of each
//!   value type on top of the primitives.
//! - [`payload`]: the `DUMP` wrapper — type byte, value, RDB version, CRC64 — and
//!   `RESTORE`'s checks (Redis `createDumpPayload` / `verifyDumpPayload`).
//! - [`file`]: the snapshot file (header, aux fields, databases, EOF, CRC64).
//! - [`object`]: a decoded value turned into the keyspace's value, in the encoding the
//!   current thresholds call for.
//! - [`ziplist`], [`zipmap`]: the compact encodings files and payloads from before
//!   Redis 7.0 carry (lists, hashes and sorted sets; hashes from 2.4 and older),
//!   validated as Redis's deep integrity checks do and converted to listpacks.
//! - [`crc64`]: Redis's CRC-64/Jones checksum, used by payloads and by the file trailer.
//! - [`lzf`]: the liblzf compressed format, with a compressor that produces the same bytes
//!   as the liblzf Redis links, so our payloads are byte-identical to Redis's.
//!
//! Decoding is hostile-input safe throughout: `RESTORE` takes its payload from any client,
//! so every read is bounds-checked and no allocation is larger than what the remaining
//! input could actually encode.

pub mod crc64;
pub mod encoding;
pub mod file;
pub mod lzf;
pub mod object;
pub mod payload;
pub mod stream;
pub mod value;
pub mod ziplist;
pub mod zipmap;

use crate::listpack::Listpack;

/// The RDB format version we write, and the newest we accept (Redis 7.0's `RDB_VERSION`).
pub const RDB_VERSION: u16 = 10;

/// A decoded value, independent of how it was encoded in the RDB stream.
#[derive(Debug, Clone, PartialEq)]
pub enum RdbValue {
    /// A string value (`RDB_TYPE_STRING`), whichever way it was stored (raw, integer, LZF).
    String(Vec<u8>),
    /// A list (`RDB_TYPE_LIST_QUICKLIST_2`, and `_QUICKLIST` of ziplists):
    /// its nodes, each a validated, non-empty listpack (a plain node's one
    /// element becomes a listpack).
    List(Vec<crate::quicklist::Node>),
    /// A list stored as one run of elements (`RDB_TYPE_LIST`, a linked
    /// list, and `_LIST_ZIPLIST`, from before quicklists), held as one
    /// non-empty listpack until it is split into nodes under the current
    /// `list-max-listpack-size`, as Redis pushes each element on load.
    ListElements(Listpack),
    /// A set of integers (`RDB_TYPE_SET_INTSET`), validated.
    IntSet(crate::intset::IntSet),
    /// A set's distinct members (`RDB_TYPE_SET`).
    Set(Vec<Vec<u8>>),
    /// A hash as a validated listpack of distinct field, value pairs
    /// (`RDB_TYPE_HASH_LISTPACK`, and `_HASH_ZIPLIST` and `_HASH_ZIPMAP`
    /// converted).
    HashListpack(Listpack),
    /// A hash's distinct fields and their values (`RDB_TYPE_HASH`).
    Hash(Vec<(Vec<u8>, Vec<u8>)>),
    /// A sorted set as a validated listpack of distinct member, score pairs
    /// in score order (`RDB_TYPE_ZSET_LISTPACK`, and `_ZSET_ZIPLIST` converted).
    ZSetListpack(Listpack),
    /// A sorted set's distinct members and scores (`RDB_TYPE_ZSET_2`, and
    /// the older `RDB_TYPE_ZSET` with scores as text).
    ZSet(Vec<(Vec<u8>, f64)>),
    /// A stream (`RDB_TYPE_STREAM_LISTPACKS` and `_2`), validated.
    Stream(Box<crate::stream::Stream>),
}

/// Why an RDB payload could not be decoded.
///
/// `Display` gives the text of the Redis reply after `ERR `: `RESTORE` answers
/// "DUMP payload version or checksum are wrong" for a footer that fails the check and
/// "Bad data format" for anything wrong inside the value, as Redis 7.0 does. The variant
/// (shown by `Debug`) carries the specific cause, for logs and tests.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RdbError {
    /// A payload shorter than its 10-byte footer (2 bytes version, 8 bytes CRC64).
    #[error("DUMP payload version or checksum are wrong")]
    PayloadTooShort(usize),
    /// A payload written by a newer RDB format than [`RDB_VERSION`].
    #[error("DUMP payload version or checksum are wrong")]
    VersionTooNew(u16),
    /// The CRC64 in the footer does not match the payload's bytes.
    #[error("DUMP payload version or checksum are wrong")]
    ChecksumMismatch { stored: u64, computed: u64 },
    /// The input ended in the middle of a value.
    #[error("Bad data format")]
    Truncated,
    /// The value ended before the input did.
    #[error("Bad data format")]
    TrailingBytes(usize),
    /// A type byte that is no Redis 7.0 object type (`rdbIsObjectType`).
    #[error("Bad data format")]
    UnknownType(u8),
    /// A valid Redis 7.0 object type that Corvid cannot hold yet.
    #[error("Bad data format")]
    UnsupportedType(u8),
    /// A length whose first byte has the top bits `10` but is neither `0x80` nor `0x81`.
    #[error("Bad data format")]
    BadLengthEncoding(u8),
    /// A special string encoding (`RDB_ENCVAL`) other than int8/16/32 and LZF.
    #[error("Bad data format")]
    UnknownStringEncoding(u8),
    /// A special encoding where a plain length was required.
    #[error("Bad data format")]
    UnexpectedEncodedLength(u8),
    /// A length larger than the input could possibly encode.
    #[error("Bad data format")]
    LengthTooLarge(u64),
    /// LZF data that does not decompress to exactly its declared length.
    #[error("Bad data format")]
    LzfCorrupt(&'static str),
    /// A quicklist node that is neither plain (1) nor packed (2).
    #[error("Bad data format")]
    BadNodeContainer(u64),
    /// A packed node that is not a well-formed listpack.
    #[error("Bad data format")]
    BadListpack(crate::listpack::ListpackError),
    /// A collection with no elements (Redis refuses to load empty keys).
    #[error("Bad data format")]
    EmptyValue,
    /// A ziplist that fails Redis's deep integrity check, or whose pairs
    /// (hash, sorted set) are odd or repeat a field; the type says which
    /// value it was for, as Redis's log names it.
    #[error("Bad data format")]
    BadZiplist(value::ValueType, ziplist::ZiplistError),
    /// A zipmap that fails Redis's deep integrity check or repeats a field.
    #[error("Bad data format")]
    BadZipmap(zipmap::ZipmapError),
    /// A string where a list needs a non-empty one (a quicklist node).
    #[error("Bad data format")]
    EmptyNode,
    /// A stream node's listpack that is not a well-formed listpack.
    #[error("Bad data format")]
    BadStreamListpack(crate::listpack::ListpackError),
    /// An intset blob that is not a well-formed intset.
    #[error("Bad data format")]
    BadIntSet(crate::intset::IntSetError),
    /// A set member, hash field or sorted-set member that appears twice.
    #[error("Bad data format")]
    Duplicate,
    /// A hash or sorted-set listpack with an odd number of entries, a
    /// score that is no number, or members out of score order.
    #[error("Bad data format")]
    BadPairs,
    /// A stream whose nodes, IDs, counters or groups do not add up.
    #[error("Bad data format")]
    BadStream(&'static str),
}

impl RdbError {
    /// What was wrong, for the log (Redis logs each refused RESTORE payload
    /// and each corrupt file with the check that failed, worded as here).
    pub fn reason(&self) -> String {
        use value::ValueType;
        match self {
            RdbError::PayloadTooShort(_) | RdbError::VersionTooNew(_) | RdbError::ChecksumMismatch { .. } => {
                format!("DUMP payload version or checksum are wrong ({self:?})")
            }
            RdbError::Truncated => "Short read: the value ends early".into(),
            RdbError::TrailingBytes(n) => format!("{n} bytes left after the value"),
            RdbError::UnknownType(t) => format!("Unknown RDB object type {t}"),
            RdbError::UnsupportedType(t) => format!("Unsupported RDB object type {t}"),
            RdbError::BadLengthEncoding(b) => format!("Unknown length encoding {b} in rdbLoadLen()"),
            RdbError::UnknownStringEncoding(e) => format!("Unknown RDB string encoding type {e}"),
            RdbError::UnexpectedEncodedLength(e) => format!("Encoded value {e} where a length was expected"),
            RdbError::LengthTooLarge(n) => format!("Length {n} is larger than the input"),
            RdbError::LzfCorrupt(why) => format!("Invalid LZF compressed string: {why}"),
            RdbError::BadNodeContainer(c) => format!("Quicklist integrity check failed: node container {c}"),
            RdbError::EmptyNode => "Quicklist integrity check failed: an empty node".into(),
            RdbError::BadListpack(e) => format!("Listpack integrity check failed: {e}"),
            RdbError::BadZiplist(ty, e) => {
                let what = match ty {
                    ValueType::HashZiplist => "Hash ziplist",
                    ValueType::ZsetZiplist => "Zset ziplist",
                    ValueType::ListZiplist => "List ziplist",
                    _ => "Ziplist",
                };
                format!("{what} integrity check failed: {e}")
            }
            RdbError::BadZipmap(e) => format!("Zipmap integrity check failed: {e}"),
            RdbError::BadStreamListpack(e) => format!("Stream listpack integrity check failed: {e}"),
            RdbError::EmptyValue => "Empty key".into(),
            RdbError::BadIntSet(e) => format!("Intset integrity check failed: {e}"),
            RdbError::Duplicate => "Duplicate set members, hash fields or sorted set members detected".into(),
            RdbError::BadPairs => "Hash or zset listpack integrity check failed: odd count, bad score or order".into(),
            RdbError::BadStream(why) => format!("Stream integrity check failed: {why}"),
        }
    }
}
