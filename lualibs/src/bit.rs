//! `bit`: LuaBitOp 1.0.2 as Redis bundles it (deps/lua/src/lua_bit.c).
//!
//! Every operand becomes a 32-bit integer the way LuaBitOp does it on a
//! double-number Lua: add 2^52+2^51 and keep the low 32 bits of the result's
//! representation. That is a wrap modulo 2^32 for integers and
//! round-half-to-even for fractions. Results are signed 32-bit numbers.

use mlua::{Lua, MultiValue, Table, Value};

use crate::arg::Args;
use crate::callback::{Installer, Numbers};
use crate::error::Result;

/// The constant whose addition leaves an int32 in the low mantissa bits.
const NORMALISER: f64 = 6_755_399_441_055_744.0;

/// Converts argument `i` to the library's bit type. As in LuaBitOp on Lua
/// 5.1, numeric strings are accepted; a non-number is only rejected when its
/// conversion yields 0, which every non-number does.
fn barg(args: &Args, i: usize) -> Result<u32> {
    let n = args.to_number(i)?;
    let b = (n.unwrap_or(0.0) + NORMALISER).to_bits() as u32;
    if b == 0 && n.is_none() {
        return Err(crate::error::Error::type_mismatch(i, args.func(), "number", args.type_name(i)));
    }
    Ok(b)
}

fn ret(b: u32) -> Result<MultiValue> {
    Ok(MultiValue::from_iter([Value::Number(f64::from(b as i32))]))
}

/// The functions taking one operand and a shift count.
fn shift(args: &Args, op: fn(u32, u32) -> u32) -> Result<MultiValue> {
    let b = barg(args, 1)?;
    let n = barg(args, 2)? & 31;
    ret(op(b, n))
}

/// The variadic folds; operands are converted from the last to the second,
/// which decides which bad argument an error names.
fn fold(args: &Args, op: fn(u32, u32) -> u32) -> Result<MultiValue> {
    let mut b = barg(args, 1)?;
    for i in (2..=args.len()).rev() {
        b = op(b, barg(args, i)?);
    }
    ret(b)
}

fn tohex(args: &Args) -> Result<MultiValue> {
    let mut b = barg(args, 1)?;
    let mut width = if args.is_none(2) { 8 } else { barg(args, 2)? as i32 };
    let digits: &[u8; 16] = if width < 0 { b"0123456789ABCDEF" } else { b"0123456789abcdef" };
    // LuaBitOp negates the width; for i32::MIN that overflows in C and the
    // compiled code Redis ships clamps it to 8, as for any width above 8.
    width = width.checked_abs().unwrap_or(8).min(8);
    let mut out = vec![0u8; width as usize];
    for slot in out.iter_mut().rev() {
        *slot = digits[(b & 15) as usize];
        b >>= 4;
    }
    Ok(MultiValue::from_iter([Value::String(args.lua().create_string(&out)?)]))
}

/// Builds the `bit` table.
pub fn open_bit(lua: &Lua) -> mlua::Result<Table> {
    let lib = lua.create_table()?;
    let inst = Installer::new(lua)?;
    inst.add(&lib, "tobit", Numbers::Rounded, |_, a| ret(barg(&a, 1)?))?;
    inst.add(&lib, "bnot", Numbers::Rounded, |_, a| ret(!barg(&a, 1)?))?;
    inst.add(&lib, "band", Numbers::Rounded, |_, a| fold(&a, |x, y| x & y))?;
    inst.add(&lib, "bor", Numbers::Rounded, |_, a| fold(&a, |x, y| x | y))?;
    inst.add(&lib, "bxor", Numbers::Rounded, |_, a| fold(&a, |x, y| x ^ y))?;
    inst.add(&lib, "lshift", Numbers::Rounded, |_, a| shift(&a, |b, n| b << n))?;
    inst.add(&lib, "rshift", Numbers::Rounded, |_, a| shift(&a, |b, n| b >> n))?;
    inst.add(&lib, "arshift", Numbers::Rounded, |_, a| shift(&a, |b, n| ((b as i32) >> n) as u32))?;
    inst.add(&lib, "rol", Numbers::Rounded, |_, a| shift(&a, u32::rotate_left))?;
    inst.add(&lib, "ror", Numbers::Rounded, |_, a| shift(&a, u32::rotate_right))?;
    inst.add(&lib, "bswap", Numbers::Rounded, |_, a| ret(barg(&a, 1)?.swap_bytes()))?;
    inst.add(&lib, "tohex", Numbers::Rounded, |_, a| tohex(&a))?;
    Ok(lib)
}
