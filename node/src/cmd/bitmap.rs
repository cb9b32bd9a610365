//! Bit commands on strings (Redis's bitops.c): SETBIT, GETBIT, BITCOUNT.
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
            ctx.srv.db.set(db, key, NewValue::Str(&s, StrEncoding::Raw), None);
            (false, true)
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

/// BITCOUNT key [start end [BYTE|BIT]]: set bits in a range of bytes (or
/// bits), negative positions counted from the end.
fn bitcount(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let range = match args.len() {
        2 => None,
        4 | 5 => {
            let start = super::arg_i64(args.get(2))?;
            let end = super::arg_i64(args.get(3))?;
            let bits = match args.len() {
                5 if is(args.get(4), "bit") => true,
                5 if is(args.get(4), "byte") => false,
                5 => return Err(CmdError::Syntax),
                _ => false,
            };
            Some((start, end, bits))
        }
        _ => return Err(CmdError::Syntax),
    };
    let Some(v) = ctx.srv.db.lookup(ctx.db, args.get(1), Lookup::READ).map(|e| e.value()) else {
        ctx.out.int(0);
        return Ok(());
    };
    let s = string_of(&v)?;
    let (start, end, bits) = range.unwrap_or((0, -1, false));
    let total = if bits { s.len() as i64 * 8 } else { s.len() as i64 };
    let clamp = |p: i64| if p < 0 { (total + p).max(0) } else { p };
    let (start, end) = (clamp(start), clamp(end).min(total - 1));
    if start > end {
        ctx.out.int(0);
        return Ok(());
    }
    let popcount = |bytes: &[u8]| bytes.iter().map(|b| b.count_ones() as usize).sum::<usize>();
    let count = if bits {
        // Whole bytes, less the bits before `start` and after `end`.
        let (first, last) = ((start >> 3) as usize, (end >> 3) as usize);
        let before = !((1u16 << (8 - (start & 7))) - 1) as u8;
        let after = ((1u16 << (7 - (end & 7))) - 1) as u8;
        popcount(&s[first..=last]) - (s[first] & before).count_ones() as usize - (s[last] & after).count_ones() as usize
    } else {
        popcount(&s[start as usize..=end as usize])
    };
    ctx.out.int(count as i64);
    Ok(())
}

pub fn register(r: &mut Registry) {
    r.add("setbit", setbit);
    r.add("getbit", getbit);
    r.add("bitcount", bitcount);
}
