//! Bit commands on strings (Redis's bitops.c): SETBIT, GETBIT, BITCOUNT,
//! BITPOS, BITOP.
//! Bit 0 is the most significant bit of the first byte.

use corvid_proto::resp::{parse_i64, Args};

use super::is;
use crate::db::Lookup;
use crate::dispatch::{Ctx, Registry};
use crate::errors::{CmdError, CmdResult};
use crate::keyspace::{NewValue, StrEncoding, ValueRef};

const BAD_OFFSET: &str = "bit offset is not an integer or out of range";

/// A bit offset (getBitOffsetFromArgument): non-negative, and its byte
/// within `proto-max-bulk-len`.
fn bit_offset(ctx: &Ctx<'_>, a: &[u8]) -> Result<u64, CmdError> {
    match parse_i64(a) {
        Some(o) if o >= 0 && (o >> 3) < ctx.srv.proto_max_bulk_len => Ok(o as u64),
        _ => Err(CmdError::err(BAD_OFFSET)),
    }
}

/// The bytes of a string value (integers as their digits); WRONGTYPE else.
fn string_of(v: &ValueRef<'_>) -> Result<Vec<u8>, CmdError> {
    v.string_bytes().ok_or(CmdError::WrongType)
}

/// SETBIT key offset value: the bit's old value; the string grows with
/// zero bytes as needed.
fn setbit(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let offset = bit_offset(ctx, args.get(2))?;
    let on = match parse_i64(args.get(3)) {
        Some(v @ (0 | 1)) => v == 1,
        _ => return Err(CmdError::err("bit is not an integer or out of range")),
    };
    let (db, key) = (ctx.db, args.get(1));
    let byte = (offset >> 3) as usize;
    let mask = 1u8 << (7 - (offset & 7));
    let existing = ctx.srv.db.lookup(db, key, Lookup::WRITE).map(|e| e.value());
    let (old, changed) = match existing {
        None => {
            let mut s = vec![0u8; byte + 1];
            if on {
                s[byte] |= mask;
            }
            // Creating the key is the one change (set counted it).
            ctx.srv.db.set(db, key, NewValue::Str(&s, StrEncoding::Raw), None);
            (false, false)
        }
        Some(v) => {
            if !matches!(v, ValueRef::Int(_) | ValueRef::Str(..)) {
                return Err(CmdError::WrongType);
            }
            let raw = ctx.srv.db.dbs[db].raw_mut(key).expect("a string, looked up above");
            let grew = raw.len() <= byte;
            if grew {
                raw.resize(byte + 1, 0);
            }
            let old = raw[byte] & mask != 0;
            if on {
                raw[byte] |= mask;
            } else {
                raw[byte] &= !mask;
            }
            (old, grew || old != on)
        }
    };
    if changed {
        ctx.srv.db.dirty += 1;
    }
    ctx.out.int(old as i64);
    Ok(())
}

/// GETBIT key offset: 0 past the end or for a missing key.
fn getbit(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let offset = bit_offset(ctx, args.get(2))?;
    let Some(v) = ctx.srv.db.lookup(ctx.db, args.get(1), Lookup::READ).map(|e| e.value()) else {
        ctx.out.int(0);
        return Ok(());
    };
    let s = string_of(&v)?;
    let byte = (offset >> 3) as usize;
    let bit = s.get(byte).is_some_and(|b| b & (1 << (7 - (offset & 7))) != 0);
    ctx.out.int(bit as i64);
    Ok(())
}

/// A BITCOUNT / BITPOS range: `start` and `end` (inclusive) in bytes, or
/// in bits when `bits`; negative positions count from the end.
struct Range {
    start: i64,
    end: i64,
    bits: bool,
}

/// The optional `start end [BYTE|BIT]` after argument `at`.
fn parse_range(args: &Args<'_>, at: usize) -> Result<Option<Range>, CmdError> {
    if args.len() <= at {
        return Ok(None);
    }
    let start = super::arg_i64(args.get(at))?;
    let end = if args.len() > at + 1 { super::arg_i64(args.get(at + 1))? } else { -1 };
    let bits = match args.len() {
        n if n == at + 3 && is(args.get(at + 2), "bit") => true,
        n if n == at + 3 && is(args.get(at + 2), "byte") => false,
        n if n > at + 2 => return Err(CmdError::Syntax),
        _ => false,
    };
    Ok(Some(Range { start, end, bits }))
}

impl Range {
    /// The range as bit offsets into a string of `len` bytes, clamped as
    /// Redis clamps it; None when empty.
    fn bit_span(&self, len: usize) -> Option<(u64, u64)> {
        let total = if self.bits { len as i64 * 8 } else { len as i64 };
        let clamp = |p: i64| if p < 0 { (total + p).max(0) } else { p };
        let (start, end) = (clamp(self.start), clamp(self.end).min(total - 1));
        if start > end {
            return None;
        }
        Some(if self.bits { (start as u64, end as u64) } else { (start as u64 * 8, end as u64 * 8 + 7) })
    }
}

/// The bits of byte `b` (of a string) that fall in `[first, last]`, as a mask.
fn mask_in(b: u64, first: u64, last: u64) -> u8 {
    let lo = if b == first >> 3 { 0xffu8 >> (first & 7) } else { 0xff };
    let hi = if b == last >> 3 { 0xffu8 << (7 - (last & 7)) } else { 0xff };
    lo & hi
}

/// BITCOUNT key [start end [BYTE|BIT]]: set bits in a range of bytes (or
/// bits), negative positions counted from the end.
fn bitcount(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    if args.len() == 3 {
        return Err(CmdError::Syntax);
    }
    let range = parse_range(args, 2)?;
    let Some(v) = ctx.srv.db.lookup(ctx.db, args.get(1), Lookup::READ).map(|e| e.value()) else {
        ctx.out.int(0);
        return Ok(());
    };
    let s = string_of(&v)?;
    let range = range.unwrap_or(Range { start: 0, end: -1, bits: false });
    // Both from the end with start after end: empty however short the string.
    let Some((first, last)) = range.bit_span(s.len()).filter(|_| !(range.start < 0 && range.end < 0 && range.start > range.end)) else {
        ctx.out.int(0);
        return Ok(());
    };
    let count: u64 = (first >> 3..=last >> 3).map(|b| (s[b as usize] & mask_in(b, first, last)).count_ones() as u64).sum();
    ctx.out.int(count as i64);
    Ok(())
}

/// BITPOS key bit [start [end [BYTE|BIT]]]: the first bit set to `bit`; a
/// clear bit is found just past the string when no end was given (the
/// string reads as padded with zeros).
fn bitpos(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let bit = match parse_i64(args.get(2)) {
        Some(b @ (0 | 1)) => b == 1,
        Some(_) => return Err(CmdError::err("The bit argument must be 1 or 0.")),
        None => return Err(CmdError::NotInteger),
    };
    let range = parse_range(args, 3)?;
    let end_given = args.len() > 4;
    let Some(v) = ctx.srv.db.lookup(ctx.db, args.get(1), Lookup::READ).map(|e| e.value()) else {
        ctx.out.int(if bit { -1 } else { 0 });
        return Ok(());
    };
    let s = string_of(&v)?;
    let range = range.unwrap_or(Range { start: 0, end: -1, bits: false });
    let Some((first, last)) = range.bit_span(s.len()) else {
        ctx.out.int(-1);
        return Ok(());
    };
    for b in first >> 3..=last >> 3 {
        let byte = s[b as usize];
        let candidates = if bit { byte } else { !byte } & mask_in(b, first, last);
        if candidates != 0 {
            ctx.out.int((b * 8 + candidates.leading_zeros() as u64) as i64);
            return Ok(());
        }
    }
    let pos = if !bit && !end_given { ((last >> 3) + 1) as i64 * 8 } else { -1 };
    ctx.out.int(pos);
    Ok(())
}

/// BITOP AND|OR|XOR|NOT destkey key [key ...]: the result, as long as the
/// longest source (shorter ones read as zero-padded), stored in destkey;
/// an empty result deletes it.
fn bitop(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    #[derive(PartialEq)]
    enum Op {
        And,
        Or,
        Xor,
        Not,
    }
    let op = match args.get(1) {
        o if is(o, "and") => Op::And,
        o if is(o, "or") => Op::Or,
        o if is(o, "xor") => Op::Xor,
        o if is(o, "not") => Op::Not,
        _ => return Err(CmdError::Syntax),
    };
    if op == Op::Not && args.len() != 4 {
        return Err(CmdError::err("BITOP NOT must be called with a single source key."));
    }
    let db = ctx.db;
    // Every source is checked before anything is written.
    let mut sources = Vec::with_capacity(args.len() - 3);
    for key in args.iter().skip(3) {
        match ctx.srv.db.lookup(db, key, Lookup::READ).map(|e| e.value()) {
            Some(v) => sources.push(string_of(&v)?),
            None => sources.push(Vec::new()),
        }
    }
    let len = sources.iter().map(Vec::len).max().unwrap_or(0);
    let dest = args.get(2);
    if len == 0 {
        ctx.srv.db.delete(db, dest);
        ctx.out.int(0);
        return Ok(());
    }
    let mut out = vec![0u8; len];
    for (i, byte) in out.iter_mut().enumerate() {
        let at = |s: &Vec<u8>| s.get(i).copied().unwrap_or(0);
        *byte = match op {
            Op::Not => !at(&sources[0]),
            Op::And => sources.iter().fold(0xff, |acc, s| acc & at(s)),
            Op::Or => sources.iter().fold(0, |acc, s| acc | at(s)),
            Op::Xor => sources.iter().fold(0, |acc, s| acc ^ at(s)),
        };
    }
    ctx.srv.db.set(db, dest, NewValue::Str(&out, StrEncoding::Raw), None);
    ctx.out.int(len as i64);
    Ok(())
}

pub fn register(r: &mut Registry) {
    r.add("setbit", setbit);
    r.add("getbit", getbit);
    r.add("bitcount", bitcount);
    r.add("bitpos", bitpos);
    r.add("bitop", bitop);
}
