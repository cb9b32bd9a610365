//! The SCAN family's shared parts (Redis's scanGenericCommand): cursor and
//! option parsing for SCAN, and the collection scans HSCAN, SSCAN, ZSCAN.
//!
//! A collection in a compact encoding (listpack, intset) is returned whole
//! with cursor 0; a `hashtable`/`skiplist` one is walked through its
//! [`Dict`] with the reverse-binary cursor, up to COUNT elements (pairs for
//! hashes and sorted sets) or ten times as many buckets.

use corvid_proto::resp::Args;

use super::{arg_i64, is};
use crate::db::Lookup;
use crate::dict::Dict;
use crate::dispatch::{Ctx, Registry};
use crate::errors::{CmdError, CmdResult};
use crate::glob::glob_match;
use crate::keyspace::ValueRef;

/// A SCAN cursor: an unsigned decimal (parseScanCursorOrReply).
pub fn parse_cursor(a: &[u8]) -> Result<u64, CmdError> {
    let s = std::str::from_utf8(a).map_err(|_| CmdError::err("invalid cursor"))?;
    let digits = s.strip_prefix('+').unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(CmdError::err("invalid cursor"));
    }
    digits.parse::<u64>().map_err(|_| CmdError::err("invalid cursor"))
}

/// COUNT, MATCH and (SCAN only) TYPE.
pub struct ScanOptions<'a> {
    pub count: usize,
    /// None when absent or exactly "*", which matches everything.
    pub pattern: Option<&'a [u8]>,
    pub type_filter: Option<Vec<u8>>,
}

impl<'a> ScanOptions<'a> {
    /// Parse `args[from..]`; TYPE is a syntax error unless `allow_type`.
    pub fn parse(args: &Args<'a>, from: usize, allow_type: bool) -> Result<Self, CmdError> {
        let mut o = ScanOptions { count: 10, pattern: None, type_filter: None };
        let mut i = from;
        while i < args.len() {
            let more = i + 1 < args.len();
            let opt = args.get(i);
            if is(opt, "count") && more {
                let count = arg_i64(args.get(i + 1))?;
                if count < 1 {
                    return Err(CmdError::Syntax);
                }
                o.count = usize::try_from(count).unwrap_or(usize::MAX);
            } else if is(opt, "match") && more {
                let p = args.get(i + 1);
                o.pattern = if p == b"*" { None } else { Some(p) };
            } else if is(opt, "type") && allow_type && more {
                o.type_filter = Some(args.get(i + 1).to_ascii_lowercase());
            } else {
                return Err(CmdError::Syntax);
            }
            i += 2;
        }
        Ok(o)
    }

    pub fn matches(&self, s: &[u8]) -> bool {
        self.pattern.is_none_or(|p| glob_match(p, s, false))
    }
}

/// Walk `dict` from `cursor` until `want` items were produced or `want * 10`
/// buckets were visited; returns the next cursor.
fn walk(dict: &Dict, mut cursor: u64, want: usize, mut f: impl FnMut(&[u8], &[u8]) -> usize) -> u64 {
    let (mut got, mut visits) = (0usize, want.saturating_mul(10));
    loop {
        cursor = dict.scan_step(cursor, &mut |k, v| got += f(k, v));
        visits = visits.saturating_sub(1);
        if cursor == 0 || visits == 0 || got >= want {
            return cursor;
        }
    }
}

/// HSCAN/SSCAN/ZSCAN key cursor [MATCH pattern] [COUNT count]
fn collection_scan(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let cursor = parse_cursor(args.get(2))?;
    let (db, key) = (ctx.db, args.get(1));
    let expected = match args.get(0).first().map(u8::to_ascii_lowercase) {
        Some(b'h') => "hash",
        Some(b's') => "set",
        _ => "zset",
    };
    let Some(value) = ctx.srv.db.lookup(db, key, Lookup::READ).map(|e| e.value()) else {
        ctx.out.array(2);
        ctx.out.bulk(b"0");
        ctx.out.array(0);
        return Ok(());
    };
    if super::keyspace::type_name(&value) != expected {
        return Err(CmdError::WrongType);
    }
    let opts = ScanOptions::parse(args, 3, false)?;
    // Elements (and values, for hashes and sorted sets) that pass MATCH.
    let mut items: Vec<Vec<u8>> = Vec::new();
    let mut keep = |k: &[u8], v: Option<Vec<u8>>| {
        if opts.matches(k) {
            items.push(k.to_vec());
            items.extend(v);
        }
    };
    let next = match value {
        ValueRef::Set(crate::set::Set::Table(d)) => walk(d, cursor, opts.count, |k, _| {
            keep(k, None);
            1
        }),
        ValueRef::Set(s) => {
            s.iter().for_each(|m| keep(&m.to_bytes(), None));
            0
        }
        ValueRef::Hash(crate::hash::Hash::Table(d)) => walk(d, cursor, opts.count.saturating_mul(2), |k, v| {
            keep(k, Some(v.to_vec()));
            2
        }),
        ValueRef::Hash(h) => {
            h.iter().for_each(|(f, v)| keep(&f.to_bytes(), Some(v.to_bytes())));
            0
        }
        ValueRef::ZSet(z) => match z.dict() {
            Some(d) => walk(d, cursor, opts.count.saturating_mul(2), |k, v| {
                let score = f64::from_le_bytes(v.try_into().expect("scores are 8 bytes"));
                keep(k, Some(crate::float::format_double_17g(score).into_bytes()));
                2
            }),
            None => {
                z.iter().for_each(|(m, score)| keep(&m.to_bytes(), Some(crate::float::d2string(score).into_bytes())));
                0
            }
        },
        _ => unreachable!("type checked above"),
    };
    ctx.out.array(2);
    ctx.out.bulk(itoa::Buffer::new().format(next).as_bytes());
    ctx.out.array(items.len());
    for i in &items {
        ctx.out.bulk(i);
    }
    Ok(())
}

pub fn register(r: &mut Registry) {
    r.add("hscan", collection_scan);
    r.add("sscan", collection_scan);
    r.add("zscan", collection_scan);
}
