//! `cmsgpack`: lua-cmsgpack 0.4.0 as Redis bundles it
//! (deps/lua/src/lua_cmsgpack.c).
//!
//! Packing: integral numbers in the int64 range become the smallest
//! MessagePack integer, other numbers a float32 when that is exact, else a
//! float64; a table is an array when its keys are exactly 1..n, else a map;
//! tables nested 16 deep, and values of other types, become nil (which is how
//! circular references end). Unpacking accepts the types lua-cmsgpack
//! writes plus fixed/8/16/32-bit strings, arrays and maps; anything else is
//! "Bad data format in input.".

use mlua::{Lua, MultiValue, Table, Value};

use crate::arg::{c_double_to_i32, c_double_to_i64, exact_get_meta, Args};
use crate::callback::{Installer, Numbers, Returns};
use crate::cjson::LUAI_MAXCSTACK;
use crate::error::{Error, Result};
use crate::handles::{EntryLister, OpenStack};

/// Tables nested deeper than this pack as nil.
const MAX_NESTING: usize = 16;

const STACK_FULL: &str = "stack overflow (too many return values at once; use unpack_one or unpack_limit instead.)";

/// Builds the `cmsgpack` table.
pub fn open_cmsgpack(lua: &Lua) -> mlua::Result<Table> {
    let lib = lua.create_table()?;
    let inst = Installer::new(lua)?;
    let lister = EntryLister::new(lua)?;
    inst.add(&lib, "pack", Numbers::Exact, move |lua, a| pack(lua, &lister, &a))?;
    inst.add(&lib, "unpack", Numbers::Rounded, |lua, a| unpack(lua, &a, 0, 0, a.len().max(1)))?;
    inst.add(&lib, "unpack_one", Numbers::Rounded, |lua, a| {
        let offset = a.opt_integer(2, 0)?;
        unpack(lua, &a, 1, offset, 1)
    })?;
    inst.add(&lib, "unpack_limit", Numbers::Rounded, |lua, a| {
        let limit = a.check_integer(2)?;
        let offset = a.opt_integer(3, 0)?;
        unpack(lua, &a, limit, offset, 1)
    })?;
    lib.raw_set("_NAME", "cmsgpack")?;
    lib.raw_set("_VERSION", "lua-cmsgpack 0.4.0")?;
    lib.raw_set("_COPYRIGHT", "Copyright (C) 2012, Salvatore Sanfilippo")?;
    lib.raw_set("_DESCRIPTION", "MessagePack C implementation for Lua")?;
    Ok(lib)
}

fn pack(lua: &Lua, lister: &EntryLister, a: &Args) -> Result<MultiValue> {
    if a.len() == 0 {
        return Err(a.arg_error(0, "MessagePack pack needs input."));
    }
    // C reserves one stack slot per argument up front.
    if 2 * a.len() > LUAI_MAXCSTACK {
        return Err(a.arg_error(0, "Too many arguments for MessagePack pack."));
    }
    let mut out = Vec::new();
    for i in 1..=a.len() {
        encode(lister, &mut out, a.get(i), 0)?;
    }
    Ok(MultiValue::from_iter([Value::String(lua.create_string(&out)?)]))
}

fn encode(lister: &EntryLister, out: &mut Vec<u8>, v: &Value, level: usize) -> Result<()> {
    match v {
        Value::String(s) => encode_bytes(out, &s.as_bytes()),
        Value::Boolean(b) => out.push(if *b { 0xc3 } else { 0xc2 }),
        Value::Number(n) => encode_number(out, *n),
        Value::Integer(i) => encode_number(out, *i as f64),
        Value::Table(t) if level < MAX_NESTING => encode_table(lister, out, t, level)?,
        _ => out.push(0xc0),
    }
    Ok(())
}

fn encode_bytes(out: &mut Vec<u8>, s: &[u8]) {
    let len = s.len();
    if len < 32 {
        out.push(0xa0 | len as u8);
    } else if len <= 0xff {
        out.extend_from_slice(&[0xd9, len as u8]);
    } else if len <= 0xffff {
        out.push(0xda);
        out.extend_from_slice(&(len as u16).to_be_bytes());
    } else {
        out.push(0xdb);
        out.extend_from_slice(&(len as u32).to_be_bytes());
    }
    out.extend_from_slice(s);
}

fn encode_number(out: &mut Vec<u8>, n: f64) {
    // C's `(int64_t)n == n`: NaN and values outside int64 fail it.
    let i = c_double_to_i64(n);
    if n.is_finite() && i as f64 == n {
        encode_int(out, i);
    } else if f64::from(n as f32) == n {
        out.push(0xca);
        out.extend_from_slice(&(n as f32).to_be_bytes());
    } else {
        out.push(0xcb);
        out.extend_from_slice(&n.to_be_bytes());
    }
}

fn encode_int(out: &mut Vec<u8>, n: i64) {
    if n >= 0 {
        if n <= 127 {
            out.push(n as u8);
        } else if n <= 0xff {
            out.extend_from_slice(&[0xcc, n as u8]);
        } else if n <= 0xffff {
            out.push(0xcd);
            out.extend_from_slice(&(n as u16).to_be_bytes());
        } else if n <= 0xffff_ffff {
            out.push(0xce);
            out.extend_from_slice(&(n as u32).to_be_bytes());
        } else {
            out.push(0xcf);
            out.extend_from_slice(&(n as u64).to_be_bytes());
        }
    } else if n >= -32 {
        out.push(n as i8 as u8);
    } else if n >= -128 {
        out.extend_from_slice(&[0xd0, n as i8 as u8]);
    } else if n >= -32768 {
        out.push(0xd1);
        out.extend_from_slice(&(n as i16).to_be_bytes());
    } else if n >= -2_147_483_648 {
        out.push(0xd2);
        out.extend_from_slice(&(n as i32).to_be_bytes());
    } else {
        out.push(0xd3);
        out.extend_from_slice(&n.to_be_bytes());
    }
}

fn encode_table(lister: &EntryLister, out: &mut Vec<u8>, t: &Table, level: usize) -> Result<()> {
    let entries = lister.list(t)?;
    // An array when all keys are positive ints and the largest equals the
    // count, i.e. the keys are exactly 1..n.
    let mut is_array = true;
    let mut max: i32 = 0;
    let mut count: i32 = 0;
    for i in 0..entries.count {
        let n = match entries.key(i)? {
            Value::Number(n) => n,
            _ => {
                is_array = false;
                break;
            }
        };
        if n <= 0.0 || f64::from(c_double_to_i32(n)) != n {
            is_array = false;
            break;
        }
        if n > f64::from(max) {
            max = n as i32;
        }
        count = count.wrapping_add(1);
    }
    if is_array && max == count {
        let len = t.raw_len();
        encode_container_header(out, len, 0x90, 0xdc, 0xdd);
        for j in 1..=len {
            // C reads elements with lua_gettable, so __index applies.
            let v = exact_get_meta(t, Value::Number(j as f64))?;
            encode(lister, out, &v, level + 1)?;
        }
    } else {
        encode_container_header(out, entries.count, 0x80, 0xde, 0xdf);
        for i in 0..entries.count {
            encode(lister, out, &entries.key(i)?, level + 1)?;
            encode(lister, out, &entries.value(i)?, level + 1)?;
        }
    }
    Ok(())
}

fn encode_container_header(out: &mut Vec<u8>, n: usize, fix: u8, b16: u8, b32: u8) {
    if n <= 15 {
        out.push(fix | n as u8);
    } else if n <= 0xffff {
        out.push(b16);
        out.extend_from_slice(&(n as u16).to_be_bytes());
    } else {
        out.push(b32);
        out.extend_from_slice(&(n as u32).to_be_bytes());
    }
}

/// Why decoding stopped early.
enum Stop {
    /// Input ended inside a value.
    Missing,
    /// A first byte lua-cmsgpack does not decode.
    BadFormat,
    /// Out of Lua stack, with the text of the C check that failed.
    StackFull(&'static str),
    Lua(Error),
}

impl From<mlua::Error> for Stop {
    fn from(e: mlua::Error) -> Self {
        Stop::Lua(e.into())
    }
}

impl From<Error> for Stop {
    fn from(e: Error) -> Self {
        Stop::Lua(e)
    }
}

/// `mp_unpack_full`: decodes up to `limit` values from byte `offset`
/// (`limit == 0 && offset == 0` means all values, without the offset
/// result). `base` is the number of stack slots C has in use before the
/// first result (its arguments).
fn unpack(lua: &Lua, a: &Args, limit: i64, offset: i64, base: usize) -> Result<Returns> {
    let s = a.check_string(1)?;
    let data = s.as_bytes();
    let len = data.len();
    if offset < 0 || limit < 0 {
        return Err(Error::msg(format!("Invalid request to unpack with offset of {} and limit of {}.", offset as i32, len as i32)));
    }
    if offset as u64 > len as u64 {
        return Err(Error::msg(format!("Start offset {} greater than input length {}.", offset as i32, len as i32)));
    }
    let decode_all = limit == 0 && offset == 0;
    let limit = if decode_all { i64::from(i32::MAX) } else { limit };
    let results = lua.create_table()?;
    // The offset result goes first; its slot is filled in at the end.
    let mut count = usize::from(!decode_all);
    let mut cur = Cursor { data: &data, pos: offset as usize };
    let mut decoded: i64 = 0;
    while cur.pos < len && decoded < limit {
        match decode(lua, &mut cur, base + count - usize::from(!decode_all)) {
            Ok(v) => {
                count += 1;
                results.raw_set(count as i64, v)?;
                decoded += 1;
            }
            Err(Stop::Missing) => return Err(Error::msg("Missing bytes in input.")),
            Err(Stop::BadFormat) => return Err(Error::msg("Bad data format in input.")),
            Err(Stop::StackFull(msg)) => return Err(Error::msg(msg)),
            Err(Stop::Lua(e)) => return Err(e),
        }
    }
    if !decode_all {
        if base + decoded as usize + 1 > LUAI_MAXCSTACK {
            return Err(Error::msg("stack overflow (in function mp_unpack_full)"));
        }
        let next = if cur.pos == len { -1.0 } else { cur.pos as f64 };
        results.raw_set(1, next)?;
    }
    Ok(Returns::Packed(results, count))
}

struct Cursor<'a> {
    data: &'a [u8],
    pos: usize,
}

impl Cursor<'_> {
    /// The next `n` bytes, consumed.
    fn take(&mut self, n: usize) -> std::result::Result<&[u8], Stop> {
        let left = self.data.len() - self.pos;
        if left < n {
            return Err(Stop::Missing);
        }
        let s = &self.data[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }

    /// Whether `n` more bytes exist after `skip` (without consuming).
    fn need(&self, n: usize) -> std::result::Result<(), Stop> {
        if self.data.len() - self.pos < n {
            return Err(Stop::Missing);
        }
        Ok(())
    }
}

/// An array or map being filled by `decode`.
enum Open {
    Array { left: usize, next: i64 },
    /// `key_pending`: the key is decoded and parked, the value comes next.
    Map { left: usize, key_pending: bool },
}

/// Decodes one top-level value. `base` is the C stack in use before it.
/// Nesting is walked with an explicit stack (MessagePack input may nest as
/// deep as the Lua stack allows, thousands of levels).
fn decode(lua: &Lua, cur: &mut Cursor, base: usize) -> std::result::Result<Value, Stop> {
    let mut frames: Vec<Open> = Vec::new();
    let mut tables = OpenStack::new(lua)?;
    let mut keys = OpenStack::new(lua)?;
    let mut slots = base;
    loop {
        cur.need(1)?;
        if slots + 1 > LUAI_MAXCSTACK {
            return Err(Stop::StackFull(STACK_FULL));
        }
        let mut value = match scalar_or_header(lua, cur)? {
            Item::Value(v) => v,
            Item::Array(n) => {
                let table = lua.create_table()?;
                if slots + 2 > LUAI_MAXCSTACK {
                    return Err(Stop::StackFull("stack overflow (in function mp_decode_to_lua_array)"));
                }
                if n == 0 {
                    Value::Table(table)
                } else {
                    tables.push(Value::Table(table))?;
                    frames.push(Open::Array { left: n, next: 1 });
                    slots += 2;
                    continue;
                }
            }
            Item::Map(n) => {
                let table = lua.create_table()?;
                if n == 0 {
                    Value::Table(table)
                } else {
                    tables.push(Value::Table(table))?;
                    frames.push(Open::Map { left: n, key_pending: false });
                    slots += 1;
                    continue;
                }
            }
        };
        // Store the finished value; a container that got its last element
        // is finished in turn.
        loop {
            let Some(frame) = frames.last_mut() else { return Ok(value) };
            let Value::Table(table) = tables.top().clone() else { return Ok(Value::Nil) };
            match frame {
                Open::Array { left, next } => {
                    table.raw_set(*next, value)?;
                    *next += 1;
                    *left -= 1;
                    if *left > 0 {
                        break;
                    }
                    slots -= 2;
                }
                Open::Map { left, key_pending } => {
                    if !*key_pending {
                        keys.push(value)?;
                        *key_pending = true;
                        slots += 1;
                        break;
                    }
                    let key = keys.pop()?;
                    *key_pending = false;
                    slots -= 1;
                    // A nil or NaN key makes lua_settable raise in C.
                    table.raw_set(key, value).map_err(Error::from)?;
                    *left -= 1;
                    if *left > 0 {
                        break;
                    }
                    slots -= 1;
                }
            }
            frames.pop();
            value = tables.pop()?;
        }
    }
}

enum Item {
    Value(Value),
    Array(usize),
    Map(usize),
}

fn be(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0u64, |acc, &b| acc << 8 | u64::from(b))
}

fn scalar_or_header(lua: &Lua, cur: &mut Cursor) -> std::result::Result<Item, Stop> {
    let first = cur.data[cur.pos];
    let num = |n: f64| Ok(Item::Value(Value::Number(n)));
    let string = |cur: &mut Cursor, header: usize, len_bytes: usize| -> std::result::Result<Item, Stop> {
        let len = be(&cur.data[cur.pos + 1..cur.pos + 1 + len_bytes]) as usize;
        cur.need(header.saturating_add(len))?;
        cur.pos += header;
        let s = cur.take(len)?;
        Ok(Item::Value(Value::String(lua.create_string(s)?)))
    };
    match first {
        0xcc => num(f64::from(cur.take(2)?[1])),
        0xd0 => num(f64::from(cur.take(2)?[1] as i8)),
        0xcd => num(be(&cur.take(3)?[1..]) as f64),
        0xd1 => num(f64::from(be(&cur.take(3)?[1..]) as u16 as i16)),
        0xce => num(be(&cur.take(5)?[1..]) as f64),
        0xd2 => num(f64::from(be(&cur.take(5)?[1..]) as u32 as i32)),
        // lua_pushinteger of a uint64: above i64::MAX it wraps negative.
        0xcf => num(be(&cur.take(9)?[1..]) as i64 as f64),
        0xd3 => num(be(&cur.take(9)?[1..]) as i64 as f64),
        0xc0 => {
            cur.take(1)?;
            Ok(Item::Value(Value::Nil))
        }
        0xc3 | 0xc2 => {
            cur.take(1)?;
            Ok(Item::Value(Value::Boolean(first == 0xc3)))
        }
        0xca => {
            let b = cur.take(5)?;
            num(f64::from(f32::from_be_bytes([b[1], b[2], b[3], b[4]])))
        }
        0xcb => {
            let b = cur.take(9)?;
            let mut d = [0u8; 8];
            d.copy_from_slice(&b[1..]);
            num(f64::from_be_bytes(d))
        }
        0xd9 => {
            cur.need(2)?;
            string(cur, 2, 1)
        }
        0xda => {
            cur.need(3)?;
            string(cur, 3, 2)
        }
        0xdb => {
            cur.need(5)?;
            string(cur, 5, 4)
        }
        0xdc => Ok(Item::Array(be(&cur.take(3)?[1..]) as usize)),
        0xdd => Ok(Item::Array(be(&cur.take(5)?[1..]) as usize)),
        0xde => Ok(Item::Map(be(&cur.take(3)?[1..]) as usize)),
        0xdf => Ok(Item::Map(be(&cur.take(5)?[1..]) as usize)),
        b if b & 0x80 == 0 => {
            cur.take(1)?;
            num(f64::from(b))
        }
        b if b & 0xe0 == 0xe0 => {
            cur.take(1)?;
            num(f64::from(b as i8))
        }
        b if b & 0xe0 == 0xa0 => {
            let len = usize::from(b & 0x1f);
            let s = cur.take(1 + len)?;
            Ok(Item::Value(Value::String(lua.create_string(&s[1..])?)))
        }
        b if b & 0xf0 == 0x90 => {
            cur.take(1)?;
            Ok(Item::Array(usize::from(b & 0xf)))
        }
        b if b & 0xf0 == 0x80 => {
            cur.take(1)?;
            Ok(Item::Map(usize::from(b & 0xf)))
        }
        _ => Err(Stop::BadFormat),
    }
}
