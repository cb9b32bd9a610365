//! Value types: the object type byte that precedes every value (Redis `rdb.h`
//! `RDB_TYPE_*`) and each type's body.
//!
//! The decoder recognises every type Redis 7.0 writes, including the compact encodings
//! older versions wrote (zipmap, ziplist), so that a value of a type Corvid cannot hold
//! yet is reported as [`RdbError::UnsupportedType`] instead of being misread.

use super::encoding::{self, Reader};
use crate::listpack::Listpack;
use super::{RdbError, RdbValue};

/// Every object type byte of RDB version 10 (`rdbIsObjectType`: 0..=7 and 9..=19).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum ValueType {
    String = 0,
    /// Linked list of strings (before quicklists, RDB < 7).
    List = 1,
    Set = 2,
    /// Sorted set with scores as decimal strings (RDB < 8).
    Zset = 3,
    Hash = 4,
    /// Sorted set with binary double scores.
    Zset2 = 5,
    /// Module value as the module serialised it, readable only by that module.
    Module = 6,
    /// Module value with per-field opcodes, so a loader can skip it without the module.
    Module2 = 7,
    HashZipmap = 9,
    ListZiplist = 10,
    SetIntset = 11,
    ZsetZiplist = 12,
    HashZiplist = 13,
    /// Quicklist of ziplist nodes (RDB 7..=9).
    ListQuicklist = 14,
    StreamListpacks = 15,
    HashListpack = 16,
    ZsetListpack = 17,
    /// Quicklist of listpack or plain nodes (Redis 7.0).
    ListQuicklist2 = 18,
    /// Stream with the 7.0 consumer group metadata.
    StreamListpacks2 = 19,
}

impl ValueType {
    pub fn from_byte(byte: u8) -> Option<Self> {
        use ValueType::*;
        Some(match byte {
            0 => String,
            1 => List,
            2 => Set,
            3 => Zset,
            4 => Hash,
            5 => Zset2,
            6 => Module,
            7 => Module2,
            9 => HashZipmap,
            10 => ListZiplist,
            11 => SetIntset,
            12 => ZsetZiplist,
            13 => HashZiplist,
            14 => ListQuicklist,
            15 => StreamListpacks,
            16 => HashListpack,
            17 => ZsetListpack,
            18 => ListQuicklist2,
            19 => StreamListpacks2,
            _ => return None,
        })
    }

    pub fn byte(self) -> u8 {
        self as u8
    }

    /// The type byte we write for `value`.
    pub fn of(value: &RdbValue) -> Self {
        match value {
            RdbValue::String(_) => ValueType::String,
            RdbValue::List(_) => ValueType::ListQuicklist2,
        }
    }
}

/// Reads the type byte that starts a value (`rdbLoadObjectType`).
pub fn read_type(r: &mut Reader<'_>) -> Result<ValueType, RdbError> {
    let byte = r.read_u8()?;
    ValueType::from_byte(byte).ok_or(RdbError::UnknownType(byte))
}

/// Reads the body of a value of type `ty` (`rdbLoadObject`).
pub fn read_value(r: &mut Reader<'_>, ty: ValueType) -> Result<RdbValue, RdbError> {
    match ty {
        ValueType::String => Ok(RdbValue::String(r.read_string()?)),
        ValueType::ListQuicklist2 => read_quicklist(r),
        other => Err(RdbError::UnsupportedType(other.byte())),
    }
}

/// Appends the body of `value` (`rdbSaveObject`); the type byte is written separately,
/// as RDB files put the key between the two. `compress` is `rdbcompression`.
pub fn write_value(out: &mut Vec<u8>, value: &RdbValue, compress: bool) {
    match value {
        RdbValue::String(s) => encoding::write_string(out, s, compress),
        RdbValue::List(nodes) => write_quicklist(out, nodes.iter(), compress),
    }
}

/// Quicklist node containers (QUICKLIST_NODE_CONTAINER_*).
const NODE_PLAIN: u64 = 1;
const NODE_PACKED: u64 = 2;

/// A list body: the node count, then per node its container and its bytes
/// as an RDB string (a packed node's listpack, LZF-compressed like any long
/// string when `compress`).
pub fn write_quicklist<'a>(out: &mut Vec<u8>, nodes: impl ExactSizeIterator<Item = &'a Listpack>, compress: bool) {
    encoding::write_len(out, nodes.len() as u64);
    for lp in nodes {
        encoding::write_len(out, NODE_PACKED);
        encoding::write_string(out, lp.as_bytes(), compress);
    }
}

/// A `RDB_TYPE_LIST_QUICKLIST_2` body, every packed node fully validated;
/// empty nodes are skipped and an empty list refused, as Redis loads it.
fn read_quicklist(r: &mut Reader<'_>) -> Result<RdbValue, RdbError> {
    let count = r.read_len()?;
    let mut nodes = Vec::new();
    for _ in 0..count {
        let container = r.read_len()?;
        if container != NODE_PLAIN && container != NODE_PACKED {
            return Err(RdbError::BadNodeContainer(container));
        }
        let data = r.read_string()?;
        if container == NODE_PLAIN {
            let mut lp = Listpack::new();
            lp.push_back(&data);
            nodes.push(lp);
        } else {
            let lp = Listpack::from_bytes(data).map_err(RdbError::BadListpack)?;
            if !lp.is_empty() {
                nodes.push(lp);
            }
        }
    }
    if nodes.is_empty() {
        return Err(RdbError::EmptyValue);
    }
    Ok(RdbValue::List(nodes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn type_bytes_are_exactly_redis_object_types() {
        for byte in 0..=255u8 {
            let known = (0..=7).contains(&byte) || (9..=19).contains(&byte);
            match ValueType::from_byte(byte) {
                Some(ty) => {
                    assert!(known, "{byte}");
                    assert_eq!(ty.byte(), byte);
                }
                None => assert!(!known, "{byte}"),
            }
        }
    }

    #[test]
    fn types_not_held_yet_are_reported_not_misread() {
        for byte in (1..=7).chain(9..=17).chain(19..=19) {
            let ty = ValueType::from_byte(byte).unwrap();
            // A body that would parse as a string, so only the type can reject it.
            let mut r = Reader::new(&[0x01, b'a']);
            assert_eq!(read_value(&mut r, ty), Err(RdbError::UnsupportedType(byte)));
        }
        assert_eq!(
            read_type(&mut Reader::new(&[8])),
            Err(RdbError::UnknownType(8))
        );
        assert_eq!(
            read_type(&mut Reader::new(&[20])),
            Err(RdbError::UnknownType(20))
        );
        assert_eq!(read_type(&mut Reader::new(&[])), Err(RdbError::Truncated));
    }
}
