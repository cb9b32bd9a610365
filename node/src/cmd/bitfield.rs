//! BITFIELD and BITFIELD_RO (Redis's bitops.c): integers of 1 to 64 bits
//! at any bit offset of a string, read, written and incremented with a
//! choice of overflow behaviour. Bit 0 is the most significant bit of the
//! first byte, as for SETBIT, and fields are big-endian in that order.

use corvid_proto::resp::{parse_i64, Args};

use super::is;
use crate::db::Lookup;
use crate::dispatch::{Ctx, Registry};
use crate::errors::{CmdError, CmdResult};
use crate::keyspace::{NewValue, StrEncoding, ValueRef};

const BAD_TYPE: &str = "Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.";
const BAD_OFFSET: &str = "bit offset is not an integer or out of range";

/// What an increment or a written value does when it does not fit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Overflow {
    /// Keep the low bits (modular arithmetic; signed fields wrap to the
    /// most negative value).
    Wrap,
    /// Clamp to the field's minimum or maximum.
    Sat,
    /// Leave the field alone and reply null.
    Fail,
}

/// A field's type: signed or not, and its width (i1..i64, u1..u63; u64's
/// values would not fit a RESP integer).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Field {
    pub signed: bool,
    pub bits: u32,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Op {
    Get,
    Set(i64),
    IncrBy(i64),
}

/// One subcommand, with the overflow mode in force where it appeared.
#[derive(Clone, Copy, Debug)]
struct Step {
    op: Op,
    field: Field,
    offset: u64,
    overflow: Overflow,
}

/// A field type argument (getBitfieldTypeFromArgument).
fn arg_field(a: &[u8]) -> Result<Field, CmdError> {
    let signed = match a.first() {
        Some(b'i') => true,
        Some(b'u') => false,
        _ => return Err(CmdError::err(BAD_TYPE)),
    };
    match parse_i64(&a[1..]) {
        Some(b) if b >= 1 && b <= if signed { 64 } else { 63 } => Ok(Field { signed, bits: b as u32 }),
        _ => Err(CmdError::err(BAD_TYPE)),
    }
}

/// A field offset in bits, or `#n` for the n-th field of this width
/// (getBitOffsetFromArgument); its byte must lie within
/// `proto-max-bulk-len`.
fn arg_offset(a: &[u8], bits: u32, max_bytes: i64) -> Result<u64, CmdError> {
    let (by_index, digits) = match a.first() {
        Some(b'#') => (true, &a[1..]),
        _ => (false, a),
    };
    let n = parse_i64(digits).ok_or_else(|| CmdError::err(BAD_OFFSET))?;
    let offset = if by_index { n.wrapping_mul(bits as i64) } else { n };
    if offset < 0 || (offset >> 3) >= max_bytes {
        return Err(CmdError::err(BAD_OFFSET));
    }
    Ok(offset as u64)
}

/// The `bits` bits at `offset` as an unsigned number; bits past the end of
/// `s` read as zero.
pub fn get_unsigned(s: &[u8], offset: u64, bits: u32) -> u64 {
    let mut v = 0u64;
    for o in offset..offset + bits as u64 {
        let bit = s.get((o >> 3) as usize).map_or(0, |b| (b >> (7 - (o & 7))) & 1);
        v = (v << 1) | bit as u64;
    }
    v
}

/// The same bits as a two's complement number.
pub fn get_signed(s: &[u8], offset: u64, bits: u32) -> i64 {
    let v = get_unsigned(s, offset, bits);
    if bits < 64 && v & (1 << (bits - 1)) != 0 {
        (v | (u64::MAX << bits)) as i64
    } else {
        v as i64
    }
}

/// Write the low `bits` bits of `v` at `offset`; `s` must reach that far.
pub fn set_bits(s: &mut [u8], offset: u64, bits: u32, v: u64) {
    for j in 0..bits as u64 {
        let on = (v >> (bits as u64 - 1 - j)) & 1 != 0;
        let o = offset + j;
        let mask = 1u8 << (7 - (o & 7));
        let byte = &mut s[(o >> 3) as usize];
        if on {
            *byte |= mask;
        } else {
            *byte &= !mask;
        }
    }
}

/// `value + incr` in an unsigned field of `bits` (≤ 63) bits: Ok when it
/// fits, else Err with the result `overflow` gives it (None for Fail)
/// (checkUnsignedBitfieldOverflow).
pub fn add_unsigned(value: u64, incr: i64, bits: u32, overflow: Overflow) -> Result<u64, Option<u64>> {
    let max = if bits == 64 { u64::MAX } else { (1u64 << bits) - 1 };
    let max_incr = max.wrapping_sub(value) as i64;
    let min_incr = (value as i64).wrapping_neg();
    let limit = |sat: u64| match overflow {
        Overflow::Wrap => Some(value.wrapping_add(incr as u64) & !(u64::MAX << bits)),
        Overflow::Sat => Some(sat),
        Overflow::Fail => None,
    };
    if value > max || (incr > 0 && incr > max_incr) {
        Err(limit(max))
    } else if incr < 0 && incr < min_incr {
        Err(limit(0))
    } else {
        Ok(value.wrapping_add(incr as u64))
    }
}

/// The same for a signed field of `bits` (≤ 64) bits
/// (checkSignedBitfieldOverflow).
pub fn add_signed(value: i64, incr: i64, bits: u32, overflow: Overflow) -> Result<i64, Option<i64>> {
    let max = if bits == 64 { i64::MAX } else { (1i64 << (bits - 1)) - 1 };
    let min = -max - 1;
    // Only used where they cannot overflow (after `value` is known in range).
    let max_incr = (max as u64).wrapping_sub(value as u64) as i64;
    let min_incr = min.wrapping_sub(value);
    let limit = |sat: i64| match overflow {
        Overflow::Wrap => {
            let mut c = (value as u64).wrapping_add(incr as u64);
            if bits < 64 {
                // Sign-extend from the field's top bit.
                let mask = u64::MAX << bits;
                if c & (1 << (bits - 1)) != 0 {
                    c |= mask;
                } else {
                    c &= !mask;
                }
            }
            Some(c as i64)
        }
        Overflow::Sat => Some(sat),
        Overflow::Fail => None,
    };
    if value > max || (bits != 64 && incr > max_incr) || (value >= 0 && incr > 0 && incr > max_incr) {
        Err(limit(max))
    } else if value < min || (bits != 64 && incr < min_incr) || (value < 0 && incr < 0 && incr < min_incr) {
        Err(limit(min))
    } else {
        Ok(value.wrapping_add(incr))
    }
}

/// Parse every subcommand before anything runs.
fn parse(args: &Args<'_>, max_bytes: i64) -> Result<Vec<Step>, CmdError> {
    let mut steps = Vec::new();
    let mut overflow = Overflow::Wrap;
    let mut j = 2;
    while j < args.len() {
        let remaining = args.len() - j - 1;
        let sub = args.get(j);
        let op_args = match () {
            _ if is(sub, "get") && remaining >= 2 => 2,
            _ if (is(sub, "set") || is(sub, "incrby")) && remaining >= 3 => 3,
            _ if is(sub, "overflow") && remaining >= 1 => {
                let mode = args.get(j + 1);
                overflow = match () {
                    _ if is(mode, "wrap") => Overflow::Wrap,
                    _ if is(mode, "sat") => Overflow::Sat,
                    _ if is(mode, "fail") => Overflow::Fail,
                    _ => return Err(CmdError::err("Invalid OVERFLOW type specified")),
                };
                j += 2;
                continue;
            }
            _ => return Err(CmdError::Syntax),
        };
        let field = arg_field(args.get(j + 1))?;
        let offset = arg_offset(args.get(j + 2), field.bits, max_bytes)?;
        let op = if op_args == 2 {
            Op::Get
        } else {
            let v = super::arg_i64(args.get(j + 3))?;
            if is(sub, "set") {
                Op::Set(v)
            } else {
                Op::IncrBy(v)
            }
        };
        steps.push(Step { op, field, offset, overflow });
        j += 1 + op_args;
    }
    Ok(steps)
}

/// BITFIELD key [GET type offset] [SET type offset value] [INCRBY type
/// offset increment] [OVERFLOW WRAP|SAT|FAIL] ...: one reply per GET, SET
/// (the old value) and INCRBY (the new value); null for a write that
/// OVERFLOW FAIL refused. The string grows with zeros to the farthest
/// field written.
fn bitfield(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    bitfield_generic(ctx, args, false)
}

/// BITFIELD_RO key [GET type offset ...]: BITFIELD limited to GET.
fn bitfield_ro(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    bitfield_generic(ctx, args, true)
}

fn bitfield_generic(ctx: &mut Ctx<'_>, args: &Args<'_>, read_only: bool) -> CmdResult {
    let steps = parse(args, ctx.srv.proto_max_bulk_len)?;
    let (db, key) = (ctx.db, args.get(1));
    let last_written = steps.iter().filter(|s| s.op != Op::Get).map(|s| s.offset + s.field.bits as u64 - 1).max();
    let Some(last_written) = last_written else {
        // Only reads: a missing key reads as zeros.
        let value = ctx.srv.db.lookup(db, key, Lookup::READ).map(|e| e.value());
        let mut digits = itoa::Buffer::new();
        let s: &[u8] = match &value {
            None => &[],
            Some(ValueRef::Str(s, _)) => s,
            Some(ValueRef::Int(n)) => digits.format(*n).as_bytes(),
            Some(_) => return Err(CmdError::WrongType),
        };
        ctx.out.array(steps.len());
        for step in &steps {
            ctx.out.int(read(s, step));
        }
        return Ok(());
    };
    if read_only {
        return Err(CmdError::err("BITFIELD_RO only supports the GET subcommand"));
    }
    // Make room for the farthest field written (lookupStringForBitCommand).
    let need = (last_written >> 3) as usize + 1;
    let grew = match ctx.srv.db.lookup(db, key, Lookup::WRITE).map(|e| e.value()) {
        None => {
            ctx.srv.db.set(db, key, NewValue::Str(&vec![0u8; need], StrEncoding::Raw), None);
            // Only the fields that change count as changes, as in Redis.
            ctx.srv.db.dirty -= 1;
            true
        }
        Some(ValueRef::Int(_) | ValueRef::Str(..)) => false,
        Some(_) => return Err(CmdError::WrongType),
    };
    let s = ctx.srv.db.dbs[db].raw_mut(key).expect("a string, looked up above");
    let grew = grew || s.len() < need;
    if s.len() < need {
        s.resize(need, 0);
    }
    let mut changes = 0u64;
    ctx.out.array(steps.len());
    for step in &steps {
        let Field { signed, bits } = step.field;
        let incr = match step.op {
            Op::Get => {
                ctx.out.int(read(s, step));
                continue;
            }
            Op::Set(v) | Op::IncrBy(v) => v,
        };
        // (old, new, reply) as raw bits, or None when FAIL refused.
        let outcome = if signed {
            let old = get_signed(s, step.offset, bits);
            match step.op {
                Op::IncrBy(_) => add_signed(old, incr, bits, step.overflow).or_else(|l| l.ok_or(())).ok().map(|new| (old as u64, new as u64, new)),
                _ => match add_signed(incr, 0, bits, step.overflow) {
                    Ok(new) | Err(Some(new)) => Some((old as u64, new as u64, old)),
                    Err(None) => None,
                },
            }
        } else {
            let old = get_unsigned(s, step.offset, bits);
            match step.op {
                Op::IncrBy(_) => add_unsigned(old, incr, bits, step.overflow).or_else(|l| l.ok_or(())).ok().map(|new| (old, new, new as i64)),
                _ => match add_unsigned(incr as u64, 0, bits, step.overflow) {
                    Ok(new) | Err(Some(new)) => Some((old, new, old as i64)),
                    Err(None) => None,
                },
            }
        };
        match outcome {
            Some((old, new, reply)) => {
                ctx.out.int(reply);
                set_bits(s, step.offset, bits, new);
                if grew || old != new {
                    changes += 1;
                }
            }
            None => ctx.out.null(),
        }
    }
    ctx.srv.db.dirty += changes;
    Ok(())
}

/// A GET's value.
fn read(s: &[u8], step: &Step) -> i64 {
    if step.field.signed {
        get_signed(s, step.offset, step.field.bits)
    } else {
        get_unsigned(s, step.offset, step.field.bits) as i64
    }
}

pub fn register(r: &mut Registry) {
    r.add("bitfield", bitfield);
    r.add("bitfield_ro", bitfield_ro);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_big_endian_from_bit_zero() {
        let mut s = [0u8; 2];
        set_bits(&mut s, 7, 5, 23);
        assert_eq!(s, [0b0000_0001, 0b0111_0000]);
        assert_eq!(get_unsigned(&s, 7, 5), 23);
        assert_eq!(get_signed(&s, 7, 5), 23 - 32);
        assert_eq!(get_unsigned(&s, 12, 64), 0);
        let mut all = [0u8; 8];
        set_bits(&mut all, 0, 64, u64::MAX);
        assert_eq!(get_signed(&all, 0, 64), -1);
    }

    #[test]
    fn unsigned_overflow() {
        assert_eq!(add_unsigned(250, 10, 8, Overflow::Wrap), Err(Some(4)));
        assert_eq!(add_unsigned(250, 10, 8, Overflow::Sat), Err(Some(255)));
        assert_eq!(add_unsigned(250, 10, 8, Overflow::Fail), Err(None));
        assert_eq!(add_unsigned(5, -10, 8, Overflow::Sat), Err(Some(0)));
        assert_eq!(add_unsigned(5, -10, 8, Overflow::Wrap), Err(Some(251)));
        assert_eq!(add_unsigned(5, 250, 8, Overflow::Wrap), Ok(255));
        // A negative SET value is an overflow of its own.
        assert_eq!(add_unsigned(-1i64 as u64, 0, 8, Overflow::Wrap), Err(Some(255)));
    }

    #[test]
    fn signed_overflow() {
        assert_eq!(add_signed(100, 100, 8, Overflow::Wrap), Err(Some(-56)));
        assert_eq!(add_signed(100, 100, 8, Overflow::Sat), Err(Some(127)));
        assert_eq!(add_signed(-100, -100, 8, Overflow::Sat), Err(Some(-128)));
        assert_eq!(add_signed(-100, -100, 8, Overflow::Wrap), Err(Some(56)));
        assert_eq!(add_signed(i64::MAX, 1, 64, Overflow::Wrap), Err(Some(i64::MIN)));
        assert_eq!(add_signed(i64::MIN, -1, 64, Overflow::Sat), Err(Some(i64::MIN)));
        assert_eq!(add_signed(-5, 3, 64, Overflow::Fail), Ok(-2));
        assert_eq!(add_signed(300, 0, 8, Overflow::Wrap), Err(Some(44)));
    }

    #[test]
    fn types_and_offsets() {
        assert_eq!(arg_field(b"i64"), Ok(Field { signed: true, bits: 64 }));
        assert_eq!(arg_field(b"u63"), Ok(Field { signed: false, bits: 63 }));
        assert!(arg_field(b"u64").is_err());
        assert!(arg_field(b"i0").is_err());
        assert!(arg_field(b"x8").is_err());
        assert!(arg_field(b"").is_err());
        assert_eq!(arg_offset(b"#3", 8, 1 << 29), Ok(24));
        assert_eq!(arg_offset(b"17", 8, 1 << 29), Ok(17));
        assert!(arg_offset(b"-1", 8, 1 << 29).is_err());
        assert!(arg_offset(b"#-1", 8, 1 << 29).is_err());
        assert!(arg_offset(&(8i64 << 29).to_string().into_bytes(), 8, 1 << 29).is_err());
    }
}
