//! Command families, one module each (Redis's t_string.c, db.c, expire.c…),
//! each registering its rows with `register`.
//!
//! # Layout
//! - [`string`]: GET, SET and every other string command; [`bitmap`]: SETBIT, GETBIT, BITCOUNT;
//!   [`bitfield`]: BITFIELD, BITFIELD_RO.
//! - [`list`]: LPUSH, LRANGE and every other non-blocking list command.
//! - [`hash`], [`set`], [`zset`]: the hash, set and sorted-set commands; [`sort`]: SORT, SORT_RO.
//! - [`geo`]: GEOADD, GEOSEARCH and the other geo commands, on sorted sets.
//! - [`keyspace`]: generic key commands (DEL, EXISTS, RENAME, SCAN, COPY, MOVE…).
//! - [`replication`]: SYNC, PSYNC, REPLCONF.
//! - [`scan`]: SCAN's options, and HSCAN/SSCAN/ZSCAN.
//! - [`expire`]: EXPIRE family, TTL family, PERSIST.
//! - [`dump`]: DUMP, RESTORE, MIGRATE.
//! - [`connection`]: PING, ECHO, AUTH, HELLO, SELECT, QUIT, RESET, CLIENT.
//! - [`acl`]: ACL and its subcommands.
//! - [`command`]: COMMAND and its subcommands, from the shared command table.
//! - [`server`]: INFO, CONFIG, DEBUG, FLUSHDB/FLUSHALL, DBSIZE, TIME, SHUTDOWN….
//! - [`info`]: the INFO sections; [`memory`]: MEMORY USAGE.
//! - [`latency`]: LATENCY; [`slowlog`]: SLOWLOG.
//! - [`multi`]: MULTI, EXEC, DISCARD, WATCH, UNWATCH.
//! - [`scripting`]: EVAL, EVALSHA, SCRIPT.
//! - [`stream`]: XADD, XRANGE, XREAD and the other stream commands;
//!   [`stream_group`]: XGROUP, XACK, XPENDING, XCLAIM, XAUTOCLAIM.
//! - [`hll`]: PFADD, PFCOUNT, PFMERGE and the PFDEBUG/PFSELFTEST internals.
//!
//! The helpers below are the argument parsing every family shares.

pub mod acl;
pub mod aof;
pub mod bitfield;
pub mod bitmap;
pub mod command;
pub mod connection;
pub mod dump;
pub mod expire;
pub mod geo;
pub mod hash;
pub mod hll;
pub mod info;
pub mod keyspace;
pub mod latency;
pub mod list;
pub mod memory;
pub mod multi;
pub mod pubsub;
pub mod replication;
pub mod scan;
pub mod scripting;
pub mod server;
pub mod set;
pub mod slowlog;
pub mod sort;
pub mod stream;
pub mod stream_group;
pub mod string;
pub mod zset;

use corvid_proto::resp::{parse_i64, Reply};

use crate::dispatch::Registry;
use crate::errors::CmdError;
use crate::db::{Databases, Lookup};
use crate::keyspace::{HeapValue, NewValue, StrEncoding, ValueRef};

pub fn register_all(r: &mut Registry) {
    aof::register(r);
    acl::register(r);
    string::register(r);
    pubsub::register(r);
    bitmap::register(r);
    bitfield::register(r);
    list::register(r);
    hash::register(r);
    set::register(r);
    zset::register(r);
    geo::register(r);
    sort::register(r);
    keyspace::register(r);
    scan::register(r);
    latency::register(r);
    slowlog::register(r);
    replication::register(r);
    expire::register(r);
    dump::register(r);
    connection::register(r);
    command::register(r);
    server::register(r);
    info::register(r);
    memory::register(r);
    multi::register(r);
    scripting::register(r);
    stream::register(r);
    stream_group::register(r);
    hll::register(r);
}

/// An integer argument (getLongLongFromObjectOrReply).
pub fn arg_i64(a: &[u8]) -> Result<i64, CmdError> {
    parse_i64(a).ok_or(CmdError::NotInteger)
}

/// An integer argument that must lie in `min..=max`; `msg` is the error
/// for anything else, non-integers included (getRangeLongFromObjectOrReply
/// with a message).
pub fn arg_i64_range(a: &[u8], min: i64, max: i64, msg: &str) -> Result<i64, CmdError> {
    match parse_i64(a) {
        Some(v) if (min..=max).contains(&v) => Ok(v),
        _ => Err(CmdError::err(msg)),
    }
}

/// An integer argument that must lie in `min..=max`, with Redis's default
/// errors (getRangeLongFromObjectOrReply without a message).
pub fn arg_i64_between(a: &[u8], min: i64, max: i64) -> Result<i64, CmdError> {
    let v = arg_i64(a)?;
    if !(min..=max).contains(&v) {
        return Err(CmdError::err(format!("value is out of range, value must between {min} and {max}")));
    }
    Ok(v)
}

/// A non-negative integer (getPositiveLongFromObjectOrReply).
pub fn arg_positive(a: &[u8]) -> Result<i64, CmdError> {
    arg_i64_range(a, 0, i64::MAX, "value is out of range, must be positive")
}

/// A float argument (getDoubleFromObjectOrReply / strtod rules: no
/// surrounding spaces, no NaN).
pub fn arg_f64(a: &[u8]) -> Result<f64, CmdError> {
    crate::float::string2d(a).ok_or(CmdError::NotFloat)
}


/// A collection type that commands look keys up as (a list, a hash...).
pub trait Collection {
    fn of<'a>(v: ValueRef<'a>) -> Option<&'a Self>;
    fn of_mut(v: &mut HeapValue) -> Option<&mut Self>;
}

macro_rules! collection {
    ($t:ty, $variant:ident) => {
        impl Collection for $t {
            fn of<'a>(v: ValueRef<'a>) -> Option<&'a Self> {
                match v {
                    ValueRef::$variant(x) => Some(x),
                    _ => None,
                }
            }
            fn of_mut(v: &mut HeapValue) -> Option<&mut Self> {
                match v {
                    HeapValue::$variant(x) => Some(x),
                    _ => None,
                }
            }
        }
    };
}
collection!(crate::quicklist::QuickList, List);
collection!(crate::hash::Hash, Hash);
collection!(crate::set::Set, Set);
collection!(crate::zset::ZSet, ZSet);

impl Collection for crate::stream::Stream {
    fn of<'a>(v: ValueRef<'a>) -> Option<&'a Self> {
        match v {
            ValueRef::Stream(x) => Some(x),
            _ => None,
        }
    }
    fn of_mut(v: &mut HeapValue) -> Option<&mut Self> {
        match v {
            HeapValue::Stream(x) => Some(&mut **x),
            _ => None,
        }
    }
}

/// The value at `key` for reading as a `T`: None when absent, WRONGTYPE for
/// another type (lookupKeyRead + checkType).
pub fn read_as<'a, T: Collection>(db: &'a mut Databases, index: usize, key: &[u8]) -> Result<Option<&'a T>, CmdError> {
    match db.lookup(index, key, Lookup::READ).map(|e| e.value()) {
        None => Ok(None),
        Some(v) => T::of(v).map(Some).ok_or(CmdError::WrongType),
    }
}

/// The value at `key` for changing in place as a `T` (lookupKeyWrite +
/// checkType).
pub fn write_as<'a, T: Collection>(db: &'a mut Databases, index: usize, key: &[u8]) -> Result<Option<&'a mut T>, CmdError> {
    if db.lookup(index, key, Lookup::WRITE).is_none() {
        return Ok(None);
    }
    db.heap_mut(index, key).and_then(T::of_mut).map(Some).ok_or(CmdError::WrongType)
}

/// A collection element (integer or bytes) as a bulk reply.
pub fn bulk_element(out: &mut Reply, v: crate::listpack::LpValue<'_>) {
    match v {
        crate::listpack::LpValue::Int(n) => out.bulk_int(n),
        crate::listpack::LpValue::Str(s) => out.bulk(s),
    }
}

/// Clamp Redis's start/stop positions (negative from the end) to a
/// collection of `len`; None for an empty range (LRANGE, LTRIM, ZRANGE,
/// ZREMRANGEBYRANK).
pub fn clamp_range(start: i64, stop: i64, len: usize) -> Option<(usize, usize)> {
    let len = len as i64;
    let start = if start < 0 { (len + start).max(0) } else { start };
    let stop = if stop < 0 { len + stop } else { stop };
    if start > stop || start >= len {
        return None;
    }
    Some((start as usize, stop.min(len - 1) as usize))
}

/// Case-insensitive comparison of an argument with an option name.
#[inline]
pub fn is(a: &[u8], opt: &str) -> bool {
    a.eq_ignore_ascii_case(opt.as_bytes())
}

/// How a string value is stored, by Redis's tryObjectEncoding rules: a
/// canonical integer of at most 20 chars is an int, up to 44 bytes embstr,
/// longer raw.
pub fn string_encoding(s: &[u8]) -> NewValue<'_> {
    if s.len() <= 20 {
        if let Some(n) = parse_i64(s) {
            return NewValue::Int(n);
        }
    }
    NewValue::Str(s, if s.len() <= EMBSTR_MAX { StrEncoding::Embstr } else { StrEncoding::Raw })
}

/// Longest string stored embstr (OBJ_ENCODING_EMBSTR_SIZE_LIMIT).
pub use crate::keyspace::EMBSTR_MAX;

/// Reply with a string value as a bulk string; WRONGTYPE for other types.
pub fn reply_value(out: &mut Reply, v: &ValueRef<'_>) -> Result<(), CmdError> {
    match v {
        ValueRef::Int(n) => out.bulk_int(*n),
        ValueRef::Str(s, _) => out.bulk(s),
        _ => return Err(CmdError::WrongType),
    }
    Ok(())
}

/// A string value's bytes (integers formatted); WRONGTYPE for other types.
pub fn value_bytes(v: &ValueRef<'_>) -> Result<Vec<u8>, CmdError> {
    v.string_bytes().ok_or(CmdError::WrongType)
}

/// Length of a string value (STRLEN; integers by their decimal length);
/// WRONGTYPE for other types.
pub fn value_len(v: &ValueRef<'_>) -> Result<usize, CmdError> {
    match v {
        ValueRef::Int(n) => Ok(itoa::Buffer::new().format(*n).len()),
        ValueRef::Str(s, _) => Ok(s.len()),
        _ => Err(CmdError::WrongType),
    }
}

/// A subcommand HELP reply (addReplyHelp): a header naming the command,
/// the given lines, and the HELP footer, all as status replies.
pub fn reply_help(out: &mut Reply, cmd: &[u8], lines: &[&str]) {
    out.array(lines.len() + 3);
    let mut header = String::from_utf8_lossy(cmd).to_uppercase();
    header.push_str(" <subcommand> [<arg> [value] [opt] ...]. Subcommands are:");
    out.simple(header.as_bytes());
    for l in lines {
        out.simple(l.as_bytes());
    }
    out.simple(b"HELP");
    out.simple(b"    Prints this help.");
}

/// A database index argument: `Ok(index)` or Redis's out-of-range error.
pub fn arg_db(ctx: &crate::dispatch::Ctx<'_>, a: &[u8], not_int: &str) -> Result<usize, CmdError> {
    let id = parse_i64(a).filter(|v| *v >= i32::MIN as i64 && *v <= i32::MAX as i64).ok_or_else(|| {
        if not_int.is_empty() {
            CmdError::NotInteger
        } else {
            CmdError::err(not_int)
        }
    })?;
    if id < 0 || id as usize >= ctx.srv.db.dbs.len() {
        return Err(CmdError::err("DB index is out of range"));
    }
    Ok(id as usize)
}
