//! `struct`: Roberto Ierusalimschy's struct library as Redis bundles it
//! (deps/lua/src/lua_struct.c): `pack`, `unpack` and `size` over a format
//! of `b B h H l L T i[n] I[n] f d x c[n] s` with `<`, `>`, `!n` and spaces.
//! Sizes are those of Redis's x86-64 Linux build (short 2, long and size_t
//! 8, int 4, maximum alignment 8); integers are at most 32 bytes, and
//! integers wider than 8 bytes keep the 64-bit arithmetic of C's `long`.

use mlua::{Lua, MultiValue, Table, Value};

use crate::arg::{c_double_to_i64, exact_get, to_number, Args};
use crate::callback::{Installer, Numbers, Returns};
use crate::cjson::LUAI_MAXCSTACK;
use crate::error::{Error, Result};

const MAXINTSIZE: i32 = 32;
/// `offsetof(struct { char c; double d; }, d)` on x86-64, larger than int.
const MAXALIGN: i32 = 8;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Endian {
    Big,
    Little,
}

/// The format options that change state rather than data.
struct Header {
    endian: Endian,
    align: usize,
}

impl Default for Header {
    fn default() -> Self {
        Header { endian: Endian::Little, align: 1 }
    }
}

/// A format string read option by option. The format is a C string: it
/// ends at the first NUL.
struct Format<'a> {
    fmt: &'a [u8],
    pos: usize,
}

impl<'a> Format<'a> {
    fn new(fmt: &'a [u8]) -> Self {
        let end = fmt.iter().position(|&b| b == 0).unwrap_or(fmt.len());
        Format { fmt: &fmt[..end], pos: 0 }
    }

    fn next_option(&mut self) -> Option<u8> {
        let c = *self.fmt.get(self.pos)?;
        self.pos += 1;
        Some(c)
    }

    /// A decimal count after an option, or `default` when none follows.
    fn number(&mut self, default: i32) -> Result<i32> {
        if !self.fmt.get(self.pos).is_some_and(u8::is_ascii_digit) {
            return Ok(default);
        }
        let mut a: i32 = 0;
        while let Some(&c) = self.fmt.get(self.pos).filter(|c| c.is_ascii_digit()) {
            let d = i32::from(c - b'0');
            if a > i32::MAX / 10 || a * 10 > i32::MAX - d {
                return Err(Error::msg("integral size overflow"));
            }
            a = a * 10 + d;
            self.pos += 1;
        }
        Ok(a)
    }

    /// Bytes option `opt` takes (0 for state options and `s`).
    fn size(&mut self, opt: u8) -> Result<usize> {
        Ok(match opt {
            b'B' | b'b' | b'x' => 1,
            b'H' | b'h' => 2,
            b'L' | b'l' | b'T' | b'd' => 8,
            b'f' => 4,
            b'c' => self.number(1)? as usize,
            b'i' | b'I' => {
                let sz = self.number(4)?;
                if sz > MAXINTSIZE {
                    return Err(Error::msg(format!("integral size {sz} is larger than limit of {MAXINTSIZE}")));
                }
                sz as usize
            }
            _ => 0,
        })
    }

    /// Handles a state option; anything else is an invalid option.
    fn control(&mut self, a: &Args, opt: u8, h: &mut Header) -> Result<()> {
        match opt {
            b' ' => {}
            b'>' => h.endian = Endian::Big,
            b'<' => h.endian = Endian::Little,
            b'!' => {
                let n = self.number(MAXALIGN)?;
                if !(n > 0 && n & (n - 1) == 0) {
                    return Err(Error::msg(format!("alignment {n} is not a power of 2")));
                }
                h.align = n as usize;
            }
            _ => return Err(a.arg_error(1, format!("invalid format option '{}'", char::from(opt)))),
        }
        Ok(())
    }
}

/// Padding before an item of `size` bytes at offset `len`.
fn padding(len: usize, h: &Header, opt: u8, size: usize) -> usize {
    if size == 0 || opt == b'c' {
        return 0;
    }
    let size = size.min(h.align);
    size.wrapping_sub(len & (size - 1)) & (size - 1)
}

/// C's `(unsigned long)n` for a non-negative double on x86-64.
fn c_double_to_u64(n: f64) -> u64 {
    if n.is_nan() {
        1 << 63
    } else if n < 9_223_372_036_854_775_808.0 {
        n as i64 as u64
    } else if n < 18_446_744_073_709_551_616.0 {
        n as u64
    } else {
        0
    }
}

fn ordered(mut bytes: Vec<u8>, endian: Endian) -> Vec<u8> {
    if endian == Endian::Big {
        bytes.reverse();
    }
    bytes
}

fn pack(lua: &Lua, mut args: Args) -> Result<MultiValue> {
    let fmt = args.check_string(1)?;
    // C then pushes a nil to mark the end of the arguments, which is what a
    // missing value argument reads as.
    args.push_nil();
    let a = &args;
    let fmt = fmt.as_bytes();
    let mut f = Format::new(&fmt);
    let mut h = Header::default();
    let mut arg = 2;
    let mut out: Vec<u8> = Vec::new();
    while let Some(opt) = f.next_option() {
        let mut size = f.size(opt)?;
        let pad = padding(out.len(), &h, opt, size);
        out.resize(out.len() + pad, 0);
        match opt {
            b'b' | b'B' | b'h' | b'H' | b'l' | b'L' | b'T' | b'i' | b'I' => {
                let n = a.check_number(arg)?;
                arg += 1;
                let mut value = if n < 0.0 { c_double_to_i64(n) as u64 } else { c_double_to_u64(n) };
                let mut bytes = Vec::with_capacity(size);
                for _ in 0..size {
                    bytes.push(value as u8);
                    value = value.checked_shr(8).unwrap_or(0);
                }
                out.extend_from_slice(&ordered(bytes, h.endian));
            }
            b'x' => out.push(0),
            b'f' => {
                let v = a.check_number(arg)? as f32;
                arg += 1;
                out.extend_from_slice(&ordered(v.to_le_bytes().to_vec(), h.endian));
            }
            b'd' => {
                let v = a.check_number(arg)?;
                arg += 1;
                out.extend_from_slice(&ordered(v.to_le_bytes().to_vec(), h.endian));
            }
            b'c' | b's' => {
                let s = a.check_string(arg)?;
                arg += 1;
                let s = s.as_bytes();
                if size == 0 {
                    size = s.len();
                }
                if s.len() < size {
                    // C names the argument after the string.
                    return Err(a.arg_error(arg, "string too short"));
                }
                out.extend_from_slice(&s[..size]);
                if opt == b's' {
                    out.push(0);
                }
            }
            _ => f.control(a, opt, &mut h)?,
        }
    }
    Ok(MultiValue::from_iter([Value::String(lua.create_string(&out)?)]))
}

fn read_integer(bytes: &[u8], endian: Endian, signed: bool) -> f64 {
    let mut l: u64 = 0;
    let mut push = |b: u8| l = l.wrapping_shl(8) | u64::from(b);
    match endian {
        Endian::Big => bytes.iter().for_each(|&b| push(b)),
        Endian::Little => bytes.iter().rev().for_each(|&b| push(b)),
    }
    if !signed {
        return l as f64;
    }
    // The shift count is taken modulo 64 as x86 does (sizes above 8 bytes
    // and size 0 shift by more than 63 or by -1 in C).
    let mask = u64::MAX.wrapping_shl((bytes.len() as u32).wrapping_mul(8).wrapping_sub(1));
    if l & mask != 0 {
        l |= mask;
    }
    l as i64 as f64
}

fn unpack(lua: &Lua, a: &Args) -> Result<Returns> {
    let fmt = a.check_string(1)?;
    let data = a.check_string(2)?;
    let data = data.as_bytes();
    let ld = data.len();
    let pos = a.opt_integer(3, 1)? as usize;
    if pos == 0 {
        return Err(a.arg_error(3, "offset must be 1 or greater"));
    }
    let mut pos = pos - 1;
    let fmt = fmt.as_bytes();
    let mut f = Format::new(&fmt);
    let mut h = Header::default();
    let results: Table = lua.create_table()?;
    let mut n: usize = 0;
    let too_short = || a.arg_error(2, "data string too short");
    while let Some(opt) = f.next_option() {
        let mut size = f.size(opt)?;
        pos = pos.wrapping_add(padding(pos, &h, opt, size));
        if !(size <= ld && pos <= ld - size) {
            return Err(too_short());
        }
        // One slot for the item and one for the final position.
        if a.len() + n + 2 > LUAI_MAXCSTACK {
            return Err(Error::msg("stack overflow (too many results)"));
        }
        let item = match opt {
            b'b' | b'B' | b'h' | b'H' | b'l' | b'L' | b'T' | b'i' | b'I' => {
                Some(Value::Number(read_integer(&data[pos..pos + size], h.endian, opt.is_ascii_lowercase())))
            }
            b'x' => None,
            b'f' => {
                let mut b = [0u8; 4];
                b.copy_from_slice(&data[pos..pos + 4]);
                Some(Value::Number(f64::from(if h.endian == Endian::Big { f32::from_be_bytes(b) } else { f32::from_le_bytes(b) })))
            }
            b'd' => {
                let mut b = [0u8; 8];
                b.copy_from_slice(&data[pos..pos + 8]);
                Some(Value::Number(if h.endian == Endian::Big { f64::from_be_bytes(b) } else { f64::from_le_bytes(b) }))
            }
            b'c' => {
                if size == 0 {
                    // The length is the previous result, which is consumed.
                    let previous = if n == 0 { None } else { to_number(lua, &exact_get(&results, Value::Number(n as f64))?)? };
                    let Some(len) = previous else { return Err(Error::msg("format 'c0' needs a previous size")) };
                    size = c_double_to_u64(len) as usize;
                    n -= 1;
                    if !(size <= ld && pos <= ld - size) {
                        return Err(too_short());
                    }
                }
                Some(Value::String(lua.create_string(&data[pos..pos + size])?))
            }
            b's' => {
                let Some(end) = data[pos..].iter().position(|&b| b == 0) else {
                    return Err(Error::msg("unfinished string in data"));
                };
                size = end + 1;
                Some(Value::String(lua.create_string(&data[pos..pos + end])?))
            }
            _ => {
                f.control(a, opt, &mut h)?;
                None
            }
        };
        if let Some(v) = item {
            n += 1;
            results.raw_set(n as i64, v)?;
        }
        pos = pos.wrapping_add(size);
    }
    results.raw_set(n as i64 + 1, pos.wrapping_add(1) as i64 as f64)?;
    Ok(Returns::Packed(results, n + 1))
}

fn size(a: &Args) -> Result<MultiValue> {
    let fmt = a.check_string(1)?;
    let fmt = fmt.as_bytes();
    let mut f = Format::new(&fmt);
    let mut h = Header::default();
    let mut pos: usize = 0;
    while let Some(opt) = f.next_option() {
        let size = f.size(opt)?;
        pos = pos.wrapping_add(padding(pos, &h, opt, size));
        if opt == b's' {
            return Err(a.arg_error(1, "option 's' has no fixed size"));
        }
        if opt == b'c' && size == 0 {
            return Err(a.arg_error(1, "option 'c0' has no fixed size"));
        }
        // Unknown letters and digits are sized 0 and otherwise ignored.
        if !opt.is_ascii_alphanumeric() {
            f.control(a, opt, &mut h)?;
        }
        pos = pos.wrapping_add(size);
    }
    Ok(MultiValue::from_iter([Value::Number(pos as i64 as f64)]))
}

/// Builds the `struct` table.
pub fn open_struct(lua: &Lua) -> mlua::Result<Table> {
    let lib = lua.create_table()?;
    let inst = Installer::new(lua)?;
    inst.add(&lib, "pack", Numbers::Exact, pack)?;
    inst.add(&lib, "unpack", Numbers::Rounded, |lua, a| unpack(lua, &a))?;
    inst.add(&lib, "size", Numbers::Rounded, |_, a| size(&a))?;
    Ok(lib)
}
