//! Value types: the object type byte that precedes every value (Redis `rdb.h`
//! `RDB_TYPE_*`) and each type's body.
//!
//! The decoder reads every type Redis 7.0 loads, including the compact encodings older
//! versions wrote (the linked list, zipmap, ziplists and quicklists of ziplists), which
//! it converts to listpacks as Redis 7.0 does. Module values, which only their module
//! can read, are reported as [`RdbError::UnsupportedType`] instead of being misread.

use super::encoding::{self, Reader};
use super::ziplist::Ziplist;
use super::zipmap::Zipmap;
use super::{RdbError, RdbValue};
use crate::hash::Hash;
use crate::intset::IntSet;
use crate::keyspace::ValueRef;
use crate::listpack::{self, Listpack, LpValue};
use crate::quicklist::Node;
use crate::set::Set;
use crate::zset::ZSet;

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
            RdbValue::List(_) | RdbValue::ListElements(_) => ValueType::ListQuicklist2,
            RdbValue::IntSet(_) => ValueType::SetIntset,
            RdbValue::Set(_) => ValueType::Set,
            RdbValue::HashListpack(_) => ValueType::HashListpack,
            RdbValue::Hash(_) => ValueType::Hash,
            RdbValue::ZSetListpack(_) => ValueType::ZsetListpack,
            RdbValue::ZSet(_) => ValueType::Zset2,
            RdbValue::Stream(_) => ValueType::StreamListpacks2,
        }
    }

    /// The type byte for a value as Corvid holds it (by its encoding).
    pub fn of_value(v: &ValueRef<'_>) -> Self {
        match v {
            ValueRef::Int(_) | ValueRef::Str(..) => ValueType::String,
            ValueRef::List(_) => ValueType::ListQuicklist2,
            ValueRef::Set(Set::Intset(_)) => ValueType::SetIntset,
            ValueRef::Set(Set::Table(_)) => ValueType::Set,
            ValueRef::Hash(Hash::Listpack(_)) => ValueType::HashListpack,
            ValueRef::Hash(Hash::Table(_)) => ValueType::Hash,
            ValueRef::ZSet(z) if z.dict().is_none() => ValueType::ZsetListpack,
            ValueRef::ZSet(_) => ValueType::Zset2,
            ValueRef::Stream(_) => ValueType::StreamListpacks2,
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
        ValueType::ListQuicklist2 => read_quicklist(r, true),
        ValueType::ListQuicklist => read_quicklist(r, false),
        ValueType::List => read_linked_list(r),
        ValueType::ListZiplist => read_list_ziplist(r),
        ValueType::HashZiplist => read_hash_ziplist(r),
        ValueType::HashZipmap => read_hash_zipmap(r),
        ValueType::ZsetZiplist => read_zset_ziplist(r),
        ValueType::SetIntset => read_intset(r),
        ValueType::Set => read_set(r),
        ValueType::HashListpack => read_hash_listpack(r),
        ValueType::Hash => read_hash(r),
        ValueType::ZsetListpack => read_zset_listpack(r),
        ValueType::Zset2 => read_zset(r, true),
        ValueType::Zset => read_zset(r, false),
        ValueType::StreamListpacks => Ok(RdbValue::Stream(Box::new(super::stream::read(r, false)?))),
        ValueType::StreamListpacks2 => Ok(RdbValue::Stream(Box::new(super::stream::read(r, true)?))),
        other => Err(RdbError::UnsupportedType(other.byte())),
    }
}

/// A collection's element count: non-zero (Redis refuses empty keys) and
/// no more than the input could hold (each element takes a byte at least),
/// so a hostile count allocates nothing.
fn read_count(r: &mut Reader<'_>) -> Result<usize, RdbError> {
    let n = r.read_len()?;
    if n == 0 {
        return Err(RdbError::EmptyValue);
    }
    match usize::try_from(n) {
        Ok(n) if n <= r.remaining() => Ok(n),
        _ => Err(RdbError::LengthTooLarge(n)),
    }
}

fn read_intset(r: &mut Reader<'_>) -> Result<RdbValue, RdbError> {
    let set = IntSet::from_bytes(r.read_string()?).map_err(RdbError::BadIntSet)?;
    if set.is_empty() {
        return Err(RdbError::EmptyValue);
    }
    Ok(RdbValue::IntSet(set))
}

fn read_set(r: &mut Reader<'_>) -> Result<RdbValue, RdbError> {
    let n = read_count(r)?;
    let mut seen = std::collections::HashSet::with_capacity(n);
    let mut members = Vec::with_capacity(n);
    for _ in 0..n {
        let m = r.read_string()?;
        if !seen.insert(m.clone()) {
            return Err(RdbError::Duplicate);
        }
        members.push(m);
    }
    Ok(RdbValue::Set(members))
}

/// A listpack of (key, value) pairs with distinct keys; `check` sees each
/// pair in order (sorted sets check their scores there).
fn read_pair_listpack(
    r: &mut Reader<'_>,
    what: &str,
    mut check: impl FnMut(LpValue<'_>, LpValue<'_>) -> Result<(), RdbError>,
) -> Result<Listpack, RdbError> {
    let lp = Listpack::from_bytes(r.read_string()?).map_err(RdbError::BadListpack)?;
    if lp.is_empty() {
        return Err(RdbError::EmptyValue);
    }
    if lp.len() % 2 != 0 {
        return Err(RdbError::BadPairs);
    }
    let mut seen = std::collections::HashSet::with_capacity(lp.len() / 2);
    let mut it = lp.iter();
    while let (Some(k), Some(v)) = (it.next(), it.next()) {
        if !seen.insert(k.to_bytes()) {
            // Redis logs this dump where it meets the duplicate (converting
            // the listpack); an operator needs the bytes to find the source.
            log_hex_dump(&format!("{what} listpack with dup elements dump"), lp.as_bytes());
            return Err(RdbError::Duplicate);
        }
        check(k, v)?;
    }
    Ok(lp)
}

/// The most of a bad value [`log_hex_dump`] writes out: a hostile RESTORE
/// must not turn into megabytes of log.
const HEX_DUMP_MAX: usize = 1024;

/// Logs `bytes` in hex at warning level, 64 bytes a line, as Redis's
/// serverLogHexDump does for a value it cannot use.
fn log_hex_dump(what: &str, bytes: &[u8]) {
    let shown = &bytes[..bytes.len().min(HEX_DUMP_MAX)];
    tracing::warn!("{what} (hexdump of {} bytes, {} shown):", bytes.len(), shown.len());
    for line in shown.chunks(64) {
        let hex: String = line.iter().map(|b| format!("{b:02x}")).collect();
        tracing::warn!("{hex}");
    }
}

fn read_hash_listpack(r: &mut Reader<'_>) -> Result<RdbValue, RdbError> {
    Ok(RdbValue::HashListpack(read_pair_listpack(r, "Hash", |_, _| Ok(()))?))
}

fn read_hash(r: &mut Reader<'_>) -> Result<RdbValue, RdbError> {
    let n = read_count(r)?;
    let mut seen = std::collections::HashSet::with_capacity(n);
    let mut pairs = Vec::with_capacity(n);
    for _ in 0..n {
        let f = r.read_string()?;
        let v = r.read_string()?;
        if !seen.insert(f.clone()) {
            return Err(RdbError::Duplicate);
        }
        pairs.push((f, v));
    }
    Ok(RdbValue::Hash(pairs))
}

/// A listpack score: an integer entry or the text of a double (not NaN).
pub fn listpack_score(v: LpValue<'_>) -> Option<f64> {
    match v {
        LpValue::Int(n) => Some(n as f64),
        LpValue::Str(s) => crate::float::string2d(s),
    }
}

/// A check for each (member, score) pair of a sorted set listpack: the
/// score is a number and none is lower than the one before.
fn score_order() -> impl FnMut(LpValue<'_>, LpValue<'_>) -> Result<(), RdbError> {
    let mut last = f64::NEG_INFINITY;
    move |_, score| {
        let score = listpack_score(score).ok_or(RdbError::BadPairs)?;
        if score < last {
            return Err(RdbError::BadPairs);
        }
        last = score;
        Ok(())
    }
}

fn read_zset_listpack(r: &mut Reader<'_>) -> Result<RdbValue, RdbError> {
    Ok(RdbValue::ZSetListpack(read_pair_listpack(r, "Sorted set", score_order())?))
}

/// The ziplist in the next RDB string, validated; `ty` names the value
/// in the error.
fn with_ziplist<T>(r: &mut Reader<'_>, ty: ValueType, f: impl FnOnce(Ziplist<'_>) -> Result<T, super::ziplist::ZiplistError>) -> Result<T, RdbError> {
    let data = r.read_string()?;
    Ziplist::parse(&data).and_then(f).map_err(|e| RdbError::BadZiplist(ty, e))
}

/// `RDB_TYPE_LIST` (RDB < 7): a count, then each element as a string.
fn read_linked_list(r: &mut Reader<'_>) -> Result<RdbValue, RdbError> {
    let n = read_count(r)?;
    let mut b = listpack::Builder::default();
    for _ in 0..n {
        b.push(&r.read_string()?);
    }
    Ok(RdbValue::ListElements(b.finish()))
}

/// `RDB_TYPE_LIST_ZIPLIST` (RDB < 7): the whole list as one ziplist.
fn read_list_ziplist(r: &mut Reader<'_>) -> Result<RdbValue, RdbError> {
    let lp = with_ziplist(r, ValueType::ListZiplist, |zl| Ok(zl.to_listpack()))?;
    if lp.is_empty() {
        return Err(RdbError::EmptyValue);
    }
    Ok(RdbValue::ListElements(lp))
}

/// `RDB_TYPE_HASH_ZIPLIST` (RDB < 10): field, value, field, value...
fn read_hash_ziplist(r: &mut Reader<'_>) -> Result<RdbValue, RdbError> {
    let lp = with_ziplist(r, ValueType::HashZiplist, |zl| zl.pairs_to_listpack())?;
    if lp.is_empty() {
        return Err(RdbError::EmptyValue);
    }
    Ok(RdbValue::HashListpack(lp))
}

/// `RDB_TYPE_ZSET_ZIPLIST` (RDB < 10): member, score, ... in score order.
/// Redis checks only the ziplist and its pairs here; we also check the
/// scores, as for a listpack, since the sorted set relies on them.
fn read_zset_ziplist(r: &mut Reader<'_>) -> Result<RdbValue, RdbError> {
    let lp = with_ziplist(r, ValueType::ZsetZiplist, |zl| zl.pairs_to_listpack())?;
    if lp.is_empty() {
        return Err(RdbError::EmptyValue);
    }
    let mut check = score_order();
    let mut it = lp.iter();
    while let (Some(m), Some(s)) = (it.next(), it.next()) {
        check(m, s)?;
    }
    Ok(RdbValue::ZSetListpack(lp))
}

/// `RDB_TYPE_HASH_ZIPMAP` (Redis 2.4 and older). An empty zipmap is
/// corrupt, not an empty key, as zipmapValidateIntegrity has it.
fn read_hash_zipmap(r: &mut Reader<'_>) -> Result<RdbValue, RdbError> {
    let data = r.read_string()?;
    let lp = Zipmap::parse(&data).and_then(|zm| zm.to_listpack()).map_err(RdbError::BadZipmap)?;
    Ok(RdbValue::HashListpack(lp))
}

/// `RDB_TYPE_ZSET_2` (binary doubles) or the older `RDB_TYPE_ZSET` (a
/// length byte, then text; 253/254/255 for nan/inf/-inf). NaN is refused.
fn read_zset(r: &mut Reader<'_>, binary: bool) -> Result<RdbValue, RdbError> {
    let n = read_count(r)?;
    let mut seen = std::collections::HashSet::with_capacity(n);
    let mut pairs = Vec::with_capacity(n);
    for _ in 0..n {
        let m = r.read_string()?;
        let score = if binary {
            f64::from_le_bytes(r.read_bytes(8)?.try_into().expect("8 bytes"))
        } else {
            match r.read_u8()? {
                253 => f64::NAN,
                254 => f64::INFINITY,
                255 => f64::NEG_INFINITY,
                len => {
                    let text = r.read_bytes(len as usize)?;
                    std::str::from_utf8(text).ok().and_then(|t| t.parse().ok()).ok_or(RdbError::BadPairs)?
                }
            }
        };
        if score.is_nan() {
            return Err(RdbError::BadPairs);
        }
        if !seen.insert(m.clone()) {
            return Err(RdbError::Duplicate);
        }
        pairs.push((m, score));
    }
    Ok(RdbValue::ZSet(pairs))
}

/// Appends the body of `value` (`rdbSaveObject`); the type byte is written separately,
/// as RDB files put the key between the two. `compress` is `rdbcompression`.
pub fn write_value(out: &mut Vec<u8>, value: &RdbValue, compress: bool) {
    match value {
        RdbValue::String(s) => encoding::write_string(out, s, compress),
        RdbValue::List(nodes) => write_quicklist(out, nodes.iter(), compress),
        RdbValue::ListElements(lp) => write_quicklist(out, [Node::packed(lp.clone())].iter(), compress),
        RdbValue::IntSet(s) => encoding::write_string(out, s.as_bytes(), compress),
        RdbValue::Set(members) => {
            encoding::write_len(out, members.len() as u64);
            for m in members {
                encoding::write_string(out, m, compress);
            }
        }
        RdbValue::HashListpack(lp) | RdbValue::ZSetListpack(lp) => encoding::write_string(out, lp.as_bytes(), compress),
        RdbValue::Hash(pairs) => {
            encoding::write_len(out, pairs.len() as u64);
            for (f, v) in pairs {
                encoding::write_string(out, f, compress);
                encoding::write_string(out, v, compress);
            }
        }
        RdbValue::ZSet(pairs) => write_zset_pairs(out, pairs.iter().map(|(m, s)| (&m[..], *s)), pairs.len(), compress),
        RdbValue::Stream(s) => super::stream::write(out, s, compress),
    }
}

/// The body of a value as Corvid holds it (rdbSaveObject), without copying
/// it into an [`RdbValue`] first; the type byte is [`ValueType::of_value`].
pub fn write_value_ref(out: &mut Vec<u8>, v: &ValueRef<'_>, compress: bool) {
    match v {
        ValueRef::Int(_) | ValueRef::Str(..) => {
            encoding::write_string(out, &v.string_bytes().expect("a string"), compress)
        }
        ValueRef::List(q) => write_quicklist(out, q.nodes(), compress),
        ValueRef::Set(Set::Intset(s)) => encoding::write_string(out, s.as_bytes(), compress),
        ValueRef::Set(Set::Table(d)) => {
            encoding::write_len(out, d.len() as u64);
            for (m, _) in d.iter() {
                encoding::write_string(out, m, compress);
            }
        }
        ValueRef::Hash(Hash::Listpack(lp)) => encoding::write_string(out, lp.as_bytes(), compress),
        ValueRef::Hash(Hash::Table(d)) => {
            encoding::write_len(out, d.len() as u64);
            for (f, v) in d.iter() {
                encoding::write_string(out, f, compress);
                encoding::write_string(out, v, compress);
            }
        }
        ValueRef::ZSet(z) => write_zset(out, z, compress),
        ValueRef::Stream(s) => super::stream::write(out, s, compress),
    }
}

fn write_zset(out: &mut Vec<u8>, z: &ZSet, compress: bool) {
    match z.as_listpack() {
        Some(lp) => encoding::write_string(out, lp.as_bytes(), compress),
        None => {
            // Highest score first, as Redis writes it, so that loading
            // inserts every element at the head of the skiplist.
            let pairs: Vec<(Vec<u8>, f64)> = z.iter().map(|(m, s)| (m.to_bytes(), s)).collect();
            write_zset_pairs(out, pairs.iter().rev().map(|(m, s)| (&m[..], *s)), pairs.len(), compress);
        }
    }
}

fn write_zset_pairs<'a>(out: &mut Vec<u8>, pairs: impl Iterator<Item = (&'a [u8], f64)>, n: usize, compress: bool) {
    encoding::write_len(out, n as u64);
    for (m, score) in pairs {
        encoding::write_string(out, m, compress);
        out.extend_from_slice(&score.to_le_bytes());
    }
}

/// Quicklist node containers (QUICKLIST_NODE_CONTAINER_*).
const NODE_PLAIN: u64 = 1;
const NODE_PACKED: u64 = 2;

/// A list body: the node count, then per node its container and its bytes
/// as an RDB string (a packed node's listpack, a plain node's element;
/// LZF-compressed like any long string when `compress`).
pub fn write_quicklist<'a>(out: &mut Vec<u8>, nodes: impl ExactSizeIterator<Item = &'a Node>, compress: bool) {
    encoding::write_len(out, nodes.len() as u64);
    for node in nodes {
        if node.is_plain() {
            encoding::write_len(out, NODE_PLAIN);
            let lp = node.listpack();
            encoding::write_string(out, &lp.get(lp.first().expect("one element")).to_bytes(), compress);
        } else {
            encoding::write_len(out, NODE_PACKED);
            encoding::write_string(out, node.listpack().as_bytes(), compress);
        }
    }
}

/// A `RDB_TYPE_LIST_QUICKLIST_2` body (`v2`), or the `RDB_TYPE_LIST_QUICKLIST`
/// of RDB 7..=9, whose nodes are all ziplists, each converted to a
/// listpack node as it is. Every node is fully validated; a zero-length
/// node is refused, empty nodes are skipped and an empty list is refused,
/// as Redis loads it.
fn read_quicklist(r: &mut Reader<'_>, v2: bool) -> Result<RdbValue, RdbError> {
    let count = r.read_len()?;
    let mut nodes = Vec::new();
    for _ in 0..count {
        let container = if v2 { r.read_len()? } else { NODE_PACKED };
        if container != NODE_PLAIN && container != NODE_PACKED {
            return Err(RdbError::BadNodeContainer(container));
        }
        let data = r.read_string()?;
        if data.is_empty() {
            return Err(RdbError::EmptyNode);
        }
        if container == NODE_PLAIN {
            nodes.push(Node::plain(&data));
            continue;
        }
        let lp = if v2 {
            Listpack::from_bytes(data).map_err(RdbError::BadListpack)?
        } else {
            Ziplist::parse(&data).map_err(|e| RdbError::BadZiplist(ValueType::ListQuicklist, e))?.to_listpack()
        };
        if !lp.is_empty() {
            nodes.push(Node::packed(lp));
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
        for byte in [6, 7] {
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

    use crate::rdb::ziplist::{tests::build as ziplist, ZiplistError};

    fn read(ty: ValueType, body: &[u8]) -> Result<RdbValue, RdbError> {
        let mut r = Reader::new(body);
        let v = read_value(&mut r, ty);
        assert!(v.is_err() || r.is_empty(), "value left {} bytes", r.remaining());
        v
    }

    /// The body of a value held in one RDB string.
    fn string_body(bytes: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        encoding::write_string(&mut out, bytes, false);
        out
    }

    fn items(lp: &Listpack) -> Vec<Vec<u8>> {
        lp.iter().map(|v| v.to_bytes()).collect()
    }

    #[test]
    fn old_lists() {
        // RDB_TYPE_LIST: a count and strings (integers may be int-encoded).
        let mut body = vec![3];
        encoding::write_string(&mut body, b"a", false);
        encoding::write_string(&mut body, b"100000", false);
        encoding::write_string(&mut body, b"", false);
        let Ok(RdbValue::ListElements(lp)) = read(ValueType::List, &body) else { panic!() };
        assert_eq!(items(&lp), [b"a".to_vec(), b"100000".to_vec(), Vec::new()]);
        assert_eq!(read(ValueType::List, &[0]), Err(RdbError::EmptyValue));
        assert_eq!(read(ValueType::List, &[5, 0]), Err(RdbError::LengthTooLarge(5)));
        // RDB_TYPE_LIST_ZIPLIST.
        let body = string_body(&ziplist(&[b"1", b"x", b"6000000000"]));
        let Ok(RdbValue::ListElements(lp)) = read(ValueType::ListZiplist, &body) else { panic!() };
        assert_eq!(items(&lp), [b"1".to_vec(), b"x".to_vec(), b"6000000000".to_vec()]);
        assert_eq!(read(ValueType::ListZiplist, &string_body(&ziplist(&[]))), Err(RdbError::EmptyValue));
        let mut bad = ziplist(&[b"a"]);
        bad[8] = 2;
        assert_eq!(
            read(ValueType::ListZiplist, &string_body(&bad)),
            Err(RdbError::BadZiplist(ValueType::ListZiplist, ZiplistError::Count))
        );
    }

    #[test]
    fn quicklist_of_ziplists() {
        // From list-quicklist.rdb (Redis 4.0): one node holding 7.
        let body = b"\x01\x0d\x0d\x00\x00\x00\x0a\x00\x00\x00\x01\x00\x00\xf8\xff";
        let Ok(RdbValue::List(nodes)) = read(ValueType::ListQuicklist, body) else { panic!() };
        assert_eq!(items(nodes[0].listpack()), [b"7".to_vec()]);
        // Empty nodes are dropped; a list of only empty nodes is an empty key.
        let mut body = vec![3];
        for zl in [ziplist(&[]), ziplist(&[b"a", b"b"]), ziplist(&[b"c"])] {
            encoding::write_string(&mut body, &zl, false);
        }
        let Ok(RdbValue::List(nodes)) = read(ValueType::ListQuicklist, &body) else { panic!() };
        assert_eq!(nodes.len(), 2);
        let mut body = vec![1];
        encoding::write_string(&mut body, &ziplist(&[]), false);
        assert_eq!(read(ValueType::ListQuicklist, &body), Err(RdbError::EmptyValue));
        assert_eq!(read(ValueType::ListQuicklist, &[0]), Err(RdbError::EmptyValue));
        // A zero-length node is corrupt, in either quicklist version
        // ("quicklist encoded_len is 0").
        assert_eq!(read(ValueType::ListQuicklist, &[1, 0]), Err(RdbError::EmptyNode));
        assert_eq!(read(ValueType::ListQuicklist2, &[1, 1, 0]), Err(RdbError::EmptyNode));
        // "corrupt payload: quicklist big ziplist prev len": the second
        // entry's prevlen reaches back before the first entry.
        let body = b"\x01\x13\x13\x00\x00\x00\x0E\x00\x00\x00\x02\x00\x00\x02\x61\x00\x0E\x02\x62\x00\xFF";
        assert_eq!(read(ValueType::ListQuicklist, body), Err(RdbError::BadZiplist(ValueType::ListQuicklist, ZiplistError::EntryOutside)));
    }

    #[test]
    fn hash_ziplists_and_zipmaps() {
        // From hash-ziplist.rdb.
        let body = b"\x1b\x1b\x00\x00\x00\x16\x00\x00\x00\x04\x00\x00\x02f1\x04\x02v1\x04\x02f2\x04\x02v2\xff";
        let Ok(RdbValue::HashListpack(lp)) = read(ValueType::HashZiplist, body) else { panic!() };
        assert_eq!(items(&lp), [b"f1".to_vec(), b"v1".to_vec(), b"f2".to_vec(), b"v2".to_vec()]);
        // "corrupt payload: valid zipped hash header, dup records".
        let body = b"\x1B\x1B\x00\x00\x00\x16\x00\x00\x00\x04\x00\x00\x02\x61\x00\x04\x02\x62\x00\x04\x02\x61\x00\x04\x02\x64\x00\xFF";
        assert_eq!(read(ValueType::HashZiplist, body), Err(RdbError::BadZiplist(ValueType::HashZiplist, ZiplistError::Duplicate)));
        let odd = string_body(&ziplist(&[b"f", b"v", b"g"]));
        assert_eq!(read(ValueType::HashZiplist, &odd), Err(RdbError::BadZiplist(ValueType::HashZiplist, ZiplistError::OddCount)));
        assert_eq!(read(ValueType::HashZiplist, &string_body(&ziplist(&[]))), Err(RdbError::EmptyValue));
        // From hash-zipmap.rdb (Redis 2.x).
        let body = b"\x10\x02\x02f1\x02\x00v1\x02f2\x02\x00v2\xff";
        let Ok(RdbValue::HashListpack(lp)) = read(ValueType::HashZipmap, body) else { panic!() };
        assert_eq!(items(&lp), [b"f1".to_vec(), b"v1".to_vec(), b"f2".to_vec(), b"v2".to_vec()]);
        // "corrupt payload: hash empty zipmap": corrupt, not an empty key.
        assert_eq!(read(ValueType::HashZipmap, b"\x02\x00\xff"), Err(RdbError::BadZipmap(super::super::zipmap::ZipmapError::Empty)));
    }

    /// Every one-byte change and truncation of a valid old-format value
    /// reads as an error or as a value the keyspace can take, never a panic.
    #[test]
    fn mutated_old_values_never_panic() {
        let limits = crate::rdb::object::EncodingLimits {
            list_fill: 2,
            max_intset: 512,
            hash: crate::hash::Limits { max_entries: 1, max_value: 64 },
            zset_entries: 1,
            zset_value: 64,
        };
        let mut list = vec![2];
        for zl in [ziplist(&[b"a", b"-7", b"300"]), ziplist(&[b"5000000000", b"bb"])] {
            encoding::write_string(&mut list, &zl, false);
        }
        let samples: Vec<(ValueType, Vec<u8>)> = vec![
            (ValueType::ListQuicklist, list),
            (ValueType::ListZiplist, string_body(&ziplist(&[b"1", b"x", b"-70000", b"y"]))),
            (ValueType::HashZiplist, string_body(&ziplist(&[b"f", b"1", b"g", b"vv"]))),
            (ValueType::ZsetZiplist, string_body(&ziplist(&[b"m", b"1", b"n", b"2.5"]))),
            (ValueType::HashZipmap, string_body(b"\x02\x02f1\x02\x01v1?\x02f2\x02\x00v2\xff")),
            (ValueType::List, vec![2, 1, b'a', 0xc0, 7]),
        ];
        for (ty, body) in samples {
            let load = |b: &[u8]| {
                let mut r = Reader::new(b);
                if let Ok(v) = read_value(&mut r, ty) {
                    let _ = crate::rdb::object::to_owned_value(v, &limits);
                }
            };
            load(&body);
            assert!(read_value(&mut Reader::new(&body), ty).is_ok(), "{ty:?}");
            for i in 0..body.len() {
                for byte in [0x00, 0x01, 0x02, 0x3f, 0x40, 0x80, 0xc0, 0xf0, 0xf5, 0xfe, 0xff] {
                    let mut m = body.clone();
                    m[i] = byte;
                    load(&m);
                }
                load(&body[..i]);
            }
        }
    }

    #[test]
    fn zset_ziplists() {
        // From zset-ziplist.rdb: one 1, two 2.
        let body = b"\x19\x19\x00\x00\x00\x16\x00\x00\x00\x04\x00\x00\x03one\x05\xf2\x02\x03two\x05\xf3\xff";
        let Ok(RdbValue::ZSetListpack(lp)) = read(ValueType::ZsetZiplist, body) else { panic!() };
        assert_eq!(items(&lp), [b"one".to_vec(), b"1".to_vec(), b"two".to_vec(), b"2".to_vec()]);
        let unordered = string_body(&ziplist(&[b"a", b"2", b"b", b"1"]));
        assert_eq!(read(ValueType::ZsetZiplist, &unordered), Err(RdbError::BadPairs));
        let not_a_score = string_body(&ziplist(&[b"a", b"x"]));
        assert_eq!(read(ValueType::ZsetZiplist, &not_a_score), Err(RdbError::BadPairs));
        let text_scores = string_body(&ziplist(&[b"a", b"-inf", b"b", b"1.5", b"c", b"inf"]));
        assert!(matches!(read(ValueType::ZsetZiplist, &text_scores), Ok(RdbValue::ZSetListpack(_))));
        // "corrupt payload: fuzzer findings - zset ziplist invalid tail offset".
        let body = b"\x19\x19\x00\x00\x00\x02\x00\x00\x00\x06\x00\x00\xF1\x02\xF1\x02\x02\x5F\x31\x04\xF2\x02\xF3\x02\xF3\xFF";
        assert_eq!(read(ValueType::ZsetZiplist, body), Err(RdbError::BadZiplist(ValueType::ZsetZiplist, ZiplistError::Tail)));
    }
}
