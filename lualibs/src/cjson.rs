//! `cjson`: Lua CJSON 2.1.0 as Redis builds it (deps/lua/src/lua_cjson.c),
//! with its defaults: numbers as `%.14g`, sparse arrays refused beyond ratio
//! 2 / safe 10, nesting limited to 1000 both ways, `/` escaped as `\/`,
//! invalid numbers (`nan`, `inf`, hex) refused on encode and accepted on
//! decode. Each `cjson.new()` table has its own settings.

use std::sync::{Arc, Mutex, MutexGuard};

use mlua::{LightUserData, Lua, MultiValue, Table, Value};

use crate::arg::{c_double_to_i32, exact_get, type_name, Args};
use crate::handles::{Entries, EntryLister, OpenStack};
use crate::callback::{Installer, Numbers};
use crate::error::{Error, Result};
use crate::number::{format_g, strtod};

/// How many stack slots a C function may use (Lua 5.1 `LUAI_MAXCSTACK`).
/// cjson asks for stack space per nesting level and reports running out as
/// excessive nesting; the same accounting gives the same limit here.
pub(crate) const LUAI_MAXCSTACK: usize = 8000;

/// `encode_invalid_numbers`: refuse, print `inf`/`nan`, or print `null`.
#[derive(Clone, Copy, PartialEq, Eq)]
enum InvalidNumbers {
    Off = 0,
    On = 1,
    Null = 2,
}

/// One cjson table's settings (C `json_config_t`).
struct Config {
    sparse_convert: bool,
    sparse_ratio: i32,
    sparse_safe: i32,
    encode_max_depth: i32,
    decode_max_depth: i32,
    encode_invalid_numbers: InvalidNumbers,
    decode_invalid_numbers: bool,
    encode_keep_buffer: bool,
    number_precision: i32,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            sparse_convert: false,
            sparse_ratio: 2,
            sparse_safe: 10,
            encode_max_depth: 1000,
            decode_max_depth: 1000,
            encode_invalid_numbers: InvalidNumbers::Off,
            decode_invalid_numbers: true,
            encode_keep_buffer: true,
            number_precision: 14,
        }
    }
}

type Shared = Arc<Mutex<Config>>;

fn lock(cfg: &Shared) -> MutexGuard<'_, Config> {
    // Settings are plain values; a panic elsewhere cannot leave them torn.
    cfg.lock().unwrap_or_else(|e| e.into_inner())
}

/// Builds a `cjson` table with default settings.
pub fn open_cjson(lua: &Lua) -> mlua::Result<Table> {
    let lib = lua.create_table()?;
    let cfg: Shared = Arc::new(Mutex::new(Config::default()));
    let inst = Installer::new(lua)?;
    let lister = EntryLister::new(lua)?;

    let c = cfg.clone();
    inst.add(&lib, "encode", Numbers::Exact, move |lua, a| {
        if a.len() != 1 {
            return Err(a.arg_error(1, "expected 1 argument"));
        }
        let cfg = lock(&c);
        let mut enc = Encoder { cfg: &cfg, lister: &lister, out: Vec::new() };
        enc.encode(lua, a.get(1))?;
        one(Value::String(lua.create_string(&enc.out)?))
    })?;
    let c = cfg.clone();
    inst.add(&lib, "decode", Numbers::Rounded, move |lua, a| {
        if a.len() != 1 {
            return Err(a.arg_error(1, "expected 1 argument"));
        }
        let text = a.check_string(1)?;
        let (max_depth, invalid_numbers) = {
            let cfg = lock(&c);
            (cfg.decode_max_depth, cfg.decode_invalid_numbers)
        };
        let bytes = text.as_bytes();
        one(decode(lua, &bytes, max_depth, invalid_numbers)?)
    })?;
    let c = cfg.clone();
    inst.add(&lib, "encode_sparse_array", Numbers::Rounded, move |lua, a| {
        setting_args(&a, 3)?;
        let mut cfg = lock(&c);
        let convert = bool_option(&a, 1, &mut cfg.sparse_convert)?;
        let ratio = int_option(&a, 2, &mut cfg.sparse_ratio, 0, i32::MAX)?;
        let safe = int_option(&a, 3, &mut cfg.sparse_safe, 0, i32::MAX)?;
        let _ = lua;
        Ok(MultiValue::from_iter([convert, ratio, safe]))
    })?;
    let c = cfg.clone();
    inst.add(&lib, "encode_max_depth", Numbers::Rounded, move |_, a| {
        setting_args(&a, 1)?;
        one(int_option(&a, 1, &mut lock(&c).encode_max_depth, 1, i32::MAX)?)
    })?;
    let c = cfg.clone();
    inst.add(&lib, "decode_max_depth", Numbers::Rounded, move |_, a| {
        setting_args(&a, 1)?;
        one(int_option(&a, 1, &mut lock(&c).decode_max_depth, 1, i32::MAX)?)
    })?;
    let c = cfg.clone();
    inst.add(&lib, "encode_number_precision", Numbers::Rounded, move |_, a| {
        setting_args(&a, 1)?;
        one(int_option(&a, 1, &mut lock(&c).number_precision, 1, 14)?)
    })?;
    let c = cfg.clone();
    inst.add(&lib, "encode_keep_buffer", Numbers::Rounded, move |_, a| {
        // Only a buffer-reuse switch in C; output does not depend on it.
        setting_args(&a, 1)?;
        one(bool_option(&a, 1, &mut lock(&c).encode_keep_buffer)?)
    })?;
    let c = cfg.clone();
    inst.add(&lib, "encode_invalid_numbers", Numbers::Rounded, move |lua, a| {
        setting_args(&a, 1)?;
        let mut cfg = lock(&c);
        if !a.is_none_or_nil(1) {
            cfg.encode_invalid_numbers = match a.get(1) {
                Value::Boolean(b) => if *b { InvalidNumbers::On } else { InvalidNumbers::Off },
                _ => match check_option(&a, 1, &["off", "on", "null"])? {
                    0 => InvalidNumbers::Off,
                    1 => InvalidNumbers::On,
                    _ => InvalidNumbers::Null,
                },
            };
        }
        one(match cfg.encode_invalid_numbers {
            InvalidNumbers::Off => Value::Boolean(false),
            InvalidNumbers::On => Value::Boolean(true),
            InvalidNumbers::Null => Value::String(lua.create_string("null")?),
        })
    })?;
    let c = cfg.clone();
    inst.add(&lib, "decode_invalid_numbers", Numbers::Rounded, move |_, a| {
        setting_args(&a, 1)?;
        one(bool_option(&a, 1, &mut lock(&c).decode_invalid_numbers)?)
    })?;
    inst.add(&lib, "new", Numbers::Rounded, |lua, _| one(Value::Table(open_cjson(lua)?)))?;

    lib.raw_set("null", LightUserData(std::ptr::null_mut()))?;
    lib.raw_set("_NAME", "cjson")?;
    lib.raw_set("_VERSION", "2.1.0")?;
    Ok(lib)
}

fn one(v: impl Into<Value>) -> Result<MultiValue> {
    Ok(MultiValue::from_iter([v.into()]))
}

/// The setting functions take at most `max` arguments.
fn setting_args(a: &Args, max: usize) -> Result<()> {
    if a.len() > max {
        return Err(a.arg_error(max + 1, "found too many arguments"));
    }
    Ok(())
}

/// An integer setting: unchanged by nil, else checked against its range.
/// The range error always names argument 1, as in C.
fn int_option(a: &Args, i: usize, setting: &mut i32, min: i32, max: i32) -> Result<Value> {
    if !a.is_none_or_nil(i) {
        // `int value = luaL_checkinteger(...)` keeps the low 32 bits.
        let value = a.check_integer(i)? as i32;
        if value < min || value > max {
            return Err(a.arg_error(1, format!("expected integer between {min} and {max}")));
        }
        *setting = value;
    }
    Ok(Value::Number(f64::from(*setting)))
}

/// An on/off setting: a boolean or the strings "off" / "on".
fn bool_option(a: &Args, i: usize, setting: &mut bool) -> Result<Value> {
    if !a.is_none_or_nil(i) {
        *setting = match a.get(i) {
            Value::Boolean(b) => *b,
            _ => check_option(a, i, &["off", "on"])? == 1,
        };
    }
    Ok(Value::Boolean(*setting))
}

/// `luaL_checkoption` without a default.
fn check_option(a: &Args, i: usize, options: &[&str]) -> Result<usize> {
    let name = a.check_string(i)?;
    let name = name.as_bytes();
    options
        .iter()
        .position(|o| o.as_bytes() == &name[..])
        .ok_or_else(|| a.arg_error(i, format!("invalid option '{}'", String::from_utf8_lossy(&name))))
}

struct Encoder<'c> {
    cfg: &'c Config,
    lister: &'c EntryLister,
    out: Vec<u8>,
}

impl Encoder<'_> {
    fn string(&mut self, s: &[u8]) {
        self.out.reserve(s.len() + 2);
        self.out.push(b'"');
        for &b in s {
            let escaped: &[u8] = match b {
                b'\x08' => b"\\b",
                b'\t' => b"\\t",
                b'\n' => b"\\n",
                b'\x0c' => b"\\f",
                b'\r' => b"\\r",
                b'"' => b"\\\"",
                b'\\' => b"\\\\",
                b'/' => b"\\/",
                0..=0x1f | 0x7f => {
                    const HEX: &[u8; 16] = b"0123456789abcdef";
                    self.out.extend_from_slice(&[b'\\', b'u', b'0', b'0', HEX[usize::from(b >> 4)], HEX[usize::from(b & 15)]]);
                    continue;
                }
                _ => {
                    self.out.push(b);
                    continue;
                }
            };
            self.out.extend_from_slice(escaped);
        }
        self.out.push(b'"');
    }

    fn number(&mut self, n: f64) -> Result<()> {
        match self.cfg.encode_invalid_numbers {
            InvalidNumbers::Off if !n.is_finite() => return Err(Error::msg("Cannot serialise number: must not be NaN or Inf")),
            InvalidNumbers::On if n.is_nan() => {
                // C prints "nan" itself: some platforms print "-nan".
                self.out.extend_from_slice(b"nan");
                return Ok(());
            }
            InvalidNumbers::Null if !n.is_finite() => {
                self.out.extend_from_slice(b"null");
                return Ok(());
            }
            _ => {}
        }
        self.out.extend_from_slice(format_g(n, self.cfg.number_precision as usize).as_bytes());
        Ok(())
    }

    /// Serialises `root`. Nesting is walked with an explicit stack, so
    /// deep input needs no deep Rust stack (and few mlua handles, see
    /// `handles`).
    fn encode(&mut self, lua: &Lua, root: &Value) -> Result<()> {
        let mut frames: Vec<EncodeFrame> = Vec::new();
        // Per open level: the array's table, or the object's entry list.
        let mut open = OpenStack::new(lua)?;
        // C stack slots in use while the innermost open table is on top:
        // the argument, plus one (element) per enclosing array and two (key,
        // value) per enclosing object. C checks room for 3 more per table.
        let mut slots = 1;
        self.value(root, &mut frames, &mut open, slots)?;
        while let Some(frame) = frames.last_mut() {
            let Value::Table(current) = open.top().clone() else { break };
            let child = match frame {
                EncodeFrame::Array { next, len } => {
                    if *next > *len {
                        self.out.push(b']');
                        frames.pop();
                        open.pop()?;
                        slots -= frames.last().map_or(0, EncodeFrame::slots);
                        continue;
                    }
                    if *next > 1 {
                        self.out.push(b',');
                    }
                    let v = exact_get(&current, Value::Number(f64::from(*next)))?;
                    *next += 1;
                    v
                }
                EncodeFrame::Object { next, count } => {
                    if *next == *count {
                        self.out.push(b'}');
                        frames.pop();
                        open.pop()?;
                        slots -= frames.last().map_or(0, EncodeFrame::slots);
                        continue;
                    }
                    if *next > 0 {
                        self.out.push(b',');
                    }
                    let entries = Entries { seq: current, count: *count };
                    let i = *next;
                    *next += 1;
                    self.key(&entries.key(i)?)?;
                    entries.value(i)?
                }
            };
            let child_slots = slots + frames.last().map_or(0, EncodeFrame::slots);
            if self.value(&child, &mut frames, &mut open, child_slots)? {
                slots = child_slots;
            }
        }
        Ok(())
    }

    /// Writes a scalar, or opens a table and pushes its frame (then returns
    /// true). `slots` counts the stack in use with `v` on top.
    fn value(&mut self, v: &Value, frames: &mut Vec<EncodeFrame>, open: &mut OpenStack, slots: usize) -> Result<bool> {
        match v {
            Value::String(s) => self.string(&s.as_bytes()),
            Value::Number(n) => self.number(*n)?,
            Value::Integer(i) => self.number(*i as f64)?,
            Value::Boolean(b) => self.out.extend_from_slice(if *b { b"true" } else { b"false" }),
            Value::Nil => self.out.extend_from_slice(b"null"),
            Value::LightUserData(p) if p.0.is_null() => self.out.extend_from_slice(b"null"),
            Value::Table(t) => {
                let depth = frames.len() as i64 + 1;
                if depth > i64::from(self.cfg.encode_max_depth) || slots + 3 > LUAI_MAXCSTACK {
                    return Err(Error::msg(format!("Cannot serialise, excessive nesting ({depth})")));
                }
                let entries = self.lister.list(t)?;
                let len = self.array_length(&entries)?;
                if len > 0 {
                    self.out.push(b'[');
                    frames.push(EncodeFrame::Array { next: 1, len });
                    open.push(Value::Table(t.clone()))?;
                } else {
                    self.out.push(b'{');
                    frames.push(EncodeFrame::Object { next: 0, count: entries.count });
                    open.push(Value::Table(entries.seq))?;
                }
                return Ok(true);
            }
            other => return Err(Error::msg(format!("Cannot serialise {}: type not supported", type_name(other)))),
        }
        Ok(false)
    }

    /// An object key: numbers are quoted, other types refused.
    fn key(&mut self, k: &Value) -> Result<()> {
        match k {
            Value::Number(n) => {
                self.out.push(b'"');
                self.number(*n)?;
                self.out.extend_from_slice(b"\":");
            }
            Value::String(s) => {
                self.string(&s.as_bytes());
                self.out.push(b':');
            }
            other => {
                return Err(Error::msg(format!("Cannot serialise {}: table key must be a number or string", type_name(other))))
            }
        }
        Ok(())
    }

    /// The array length if `t` only has positive integer keys and is not too
    /// sparse; 0 or less means "encode as an object".
    fn array_length(&self, entries: &Entries) -> Result<i32> {
        let mut max: i32 = 0;
        let mut items: i32 = 0;
        for i in 0..entries.count {
            let k = match entries.key(i)? {
                Value::Number(k) if k != 0.0 => k,
                _ => return Ok(-1),
            };
            if k.floor() != k || k < 1.0 {
                return Ok(-1);
            }
            // C keeps the maximum in an int (indices past INT_MAX wrap to
            // INT_MIN, which makes the table an object).
            if k > f64::from(max) {
                max = c_double_to_i32(k);
            }
            items = items.wrapping_add(1);
        }
        let cfg = self.cfg;
        if cfg.sparse_ratio > 0 && max > items.wrapping_mul(cfg.sparse_ratio) && max > cfg.sparse_safe {
            if !cfg.sparse_convert {
                return Err(Error::msg("Cannot serialise table: excessively sparse array"));
            }
            return Ok(-1);
        }
        Ok(max)
    }

}

/// A table being written by `Encoder::encode`.
enum EncodeFrame {
    Array { next: i32, len: i32 },
    /// Entry `next` of `count` is written next.
    Object { next: usize, count: usize },
}

impl EncodeFrame {
    /// Stack slots C holds for this level while a child is written.
    fn slots(&self) -> usize {
        match self {
            EncodeFrame::Array { .. } => 1,
            EncodeFrame::Object { .. } => 2,
        }
    }
}

/// A token of the JSON text (C `json_token_type_t`); the names are what
/// parse errors print.
#[derive(Clone, Copy, PartialEq, Eq)]
enum TokenKind {
    ObjBegin,
    ObjEnd,
    ArrBegin,
    ArrEnd,
    Str,
    Number,
    Boolean,
    Null,
    Colon,
    Comma,
    End,
    /// Lexing failed; the token carries the reason.
    Error,
}

impl TokenKind {
    fn name(self) -> &'static str {
        match self {
            TokenKind::ObjBegin => "T_OBJ_BEGIN",
            TokenKind::ObjEnd => "T_OBJ_END",
            TokenKind::ArrBegin => "T_ARR_BEGIN",
            TokenKind::ArrEnd => "T_ARR_END",
            TokenKind::Str => "T_STRING",
            TokenKind::Number => "T_NUMBER",
            TokenKind::Boolean => "T_BOOLEAN",
            TokenKind::Null => "T_NULL",
            TokenKind::Colon => "T_COLON",
            TokenKind::Comma => "T_COMMA",
            TokenKind::End => "T_END",
            TokenKind::Error => "T_ERROR",
        }
    }
}

struct Token {
    kind: TokenKind,
    /// 0-based offset of the token (of the failure, for errors).
    index: usize,
    number: f64,
    boolean: bool,
    /// For `Error`: what went wrong.
    reason: &'static str,
}

struct Decoder<'a> {
    lua: &'a Lua,
    data: &'a [u8],
    pos: usize,
    depth: i32,
    max_depth: i32,
    invalid_numbers: bool,
    /// Decoded bytes of the last string token.
    text: Vec<u8>,
}

fn decode(lua: &Lua, data: &[u8], max_depth: i32, invalid_numbers: bool) -> Result<Value> {
    // JSON text starts with an ASCII character, so a NUL in the first two
    // bytes means UTF-16 or UTF-32 input.
    if data.len() >= 2 && (data[0] == 0 || data[1] == 0) {
        return Err(Error::msg("JSON parser does not support UTF-16 or UTF-32"));
    }
    let mut d = Decoder { lua, data, pos: 0, depth: 0, max_depth, invalid_numbers, text: Vec::new() };
    let token = d.next_token();
    let value = d.document(token)?;
    let token = d.next_token();
    if token.kind != TokenKind::End {
        return Err(parse_error("the end", &token));
    }
    Ok(value)
}

fn parse_error(expected: &str, token: &Token) -> Error {
    let found = if token.kind == TokenKind::Error { token.reason } else { token.kind.name() };
    Error::msg(format!("Expected {expected} but found {found} at character {}", token.index + 1))
}

impl Decoder<'_> {
    /// The byte at `i`; the C parser reads a NUL-terminated buffer, so the
    /// end (and any NUL inside) reads as 0.
    fn at(&self, i: usize) -> u8 {
        self.data.get(i).copied().unwrap_or(0)
    }

    fn token(&self, kind: TokenKind, index: usize) -> Token {
        Token { kind, index, number: 0.0, boolean: false, reason: "" }
    }

    fn error_token(&self, reason: &'static str) -> Token {
        Token { reason, ..self.token(TokenKind::Error, self.pos) }
    }

    fn next_token(&mut self) -> Token {
        while matches!(self.at(self.pos), b' ' | b'\t' | b'\n' | b'\r') {
            self.pos += 1;
        }
        let start = self.pos;
        let ch = self.at(start);
        let single = match ch {
            b'{' => Some(TokenKind::ObjBegin),
            b'}' => Some(TokenKind::ObjEnd),
            b'[' => Some(TokenKind::ArrBegin),
            b']' => Some(TokenKind::ArrEnd),
            b',' => Some(TokenKind::Comma),
            b':' => Some(TokenKind::Colon),
            0 => return self.token(TokenKind::End, start),
            _ => None,
        };
        if let Some(kind) = single {
            self.pos += 1;
            return self.token(kind, start);
        }
        let rest = &self.data[start.min(self.data.len())..];
        match ch {
            b'"' => self.string_token(),
            b'-' | b'0'..=b'9' => {
                if !self.invalid_numbers && self.is_invalid_number() {
                    return self.error_token("invalid number");
                }
                self.number_token()
            }
            b'f' | b'i' | b'I' | b'n' | b'N' | b't' | b'+' => {
                if rest.starts_with(b"true") {
                    self.pos += 4;
                    Token { boolean: true, ..self.token(TokenKind::Boolean, start) }
                } else if rest.starts_with(b"false") {
                    self.pos += 5;
                    Token { boolean: false, ..self.token(TokenKind::Boolean, start) }
                } else if rest.starts_with(b"null") {
                    self.pos += 4;
                    self.token(TokenKind::Null, start)
                } else if self.invalid_numbers && self.is_invalid_number() {
                    // Only forms known to be non-JSON numbers get here, so
                    // other bad words stay "invalid token".
                    self.number_token()
                } else {
                    self.error_token("invalid token")
                }
            }
            _ => self.error_token("invalid token"),
        }
    }

    /// Forms strtod takes but strict JSON does not: a leading `+`, hex,
    /// leading zeros, inf and nan.
    fn is_invalid_number(&self) -> bool {
        let mut p = self.pos;
        if self.at(p) == b'+' {
            return true;
        }
        if self.at(p) == b'-' {
            p += 1;
        }
        let c = self.at(p);
        if c == b'0' {
            let c2 = self.at(p + 1);
            return c2 | 0x20 == b'x' || c2.is_ascii_digit();
        }
        // C compares a signed char: bytes from 0x80 count as below '9'.
        if c <= b'9' || c >= 0x80 {
            return false;
        }
        let word = |w: &[u8]| (0..3).all(|i| self.at(p + i).eq_ignore_ascii_case(&w[i]));
        word(b"inf") || word(b"nan")
    }

    fn number_token(&mut self) -> Token {
        let start = self.pos;
        // strtod stops at the terminating NUL the C buffer has.
        let tail = self.data.get(start..).unwrap_or_default();
        let (number, len) = strtod(&tail[..tail.iter().position(|&b| b == 0).unwrap_or(tail.len())]);
        if len == 0 {
            return self.error_token("invalid number");
        }
        self.pos += len;
        Token { number, ..self.token(TokenKind::Number, start) }
    }

    fn string_token(&mut self) -> Token {
        let start = self.pos;
        self.pos += 1;
        self.text.clear();
        loop {
            let ch = self.at(self.pos);
            match ch {
                b'"' => break,
                0 => return self.error_token("unexpected end of string"),
                b'\\' => {
                    let translated = match self.at(self.pos + 1) {
                        b'"' => b'"',
                        b'\\' => b'\\',
                        b'/' => b'/',
                        b'b' => b'\x08',
                        b't' => b'\t',
                        b'n' => b'\n',
                        b'f' => b'\x0c',
                        b'r' => b'\r',
                        b'u' => {
                            if !self.unicode_escape() {
                                return self.error_token("invalid unicode escape code");
                            }
                            continue;
                        }
                        _ => return self.error_token("invalid escape code"),
                    };
                    self.text.push(translated);
                    self.pos += 2;
                }
                _ => {
                    self.text.push(ch);
                    self.pos += 1;
                }
            }
        }
        self.pos += 1;
        self.token(TokenKind::Str, start)
    }

    fn hex4(&self, at: usize) -> Option<u32> {
        (0..4).try_fold(0u32, |acc, i| Some(acc << 4 | (self.at(at + i) as char).to_digit(16)?))
    }

    /// `\uXXXX` (or a surrogate pair of them) at `pos`, appended as UTF-8.
    fn unicode_escape(&mut self) -> bool {
        let Some(mut code) = self.hex4(self.pos + 2) else { return false };
        let mut len = 6;
        if code & 0xF800 == 0xD800 {
            // Must be a high surrogate followed by an escaped low one.
            if code & 0x400 != 0 || self.at(self.pos + 6) != b'\\' || self.at(self.pos + 7) != b'u' {
                return false;
            }
            let Some(low) = self.hex4(self.pos + 8) else { return false };
            if low & 0xFC00 != 0xDC00 {
                return false;
            }
            code = (((code & 0x3FF) << 10) | (low & 0x3FF)) + 0x10000;
            len = 12;
        }
        let Some(c) = char::from_u32(code) else { return false };
        let mut buf = [0u8; 4];
        self.text.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
        self.pos += len;
        true
    }

    /// Enters an array or object. `slots` is the C stack use at this point
    /// (see `Encoder::encode`); `needed` what C asks for at this level.
    fn descend(&mut self, slots: usize, needed: usize) -> Result<()> {
        self.depth += 1;
        if self.depth <= self.max_depth && slots + needed <= LUAI_MAXCSTACK {
            return Ok(());
        }
        Err(Error::msg(format!("Found too many nested data structures ({}) at character {}", self.depth, self.pos)))
    }

    /// An object key and its colon; leaves the key for the caller to hold
    /// while the value is parsed (which reuses the string buffer).
    fn key(&mut self, token: &Token) -> Result<mlua::LuaString> {
        if token.kind != TokenKind::Str {
            return Err(parse_error("object key string", token));
        }
        let key = self.lua.create_string(&self.text)?;
        let colon = self.next_token();
        if colon.kind != TokenKind::Colon {
            return Err(parse_error("colon", &colon));
        }
        Ok(key)
    }

    /// The value starting with `token`. Nesting is walked with an explicit
    /// stack, so deep input needs no deep Rust stack (and few mlua handles,
    /// see `handles`).
    fn document(&mut self, mut token: Token) -> Result<Value> {
        let mut frames: Vec<DecodeFrame> = Vec::new();
        let mut tables = OpenStack::new(self.lua)?;
        // The pending key of each open object.
        let mut keys = OpenStack::new(self.lua)?;
        // C stack in use: the argument, plus the table of each enclosing
        // array and the table and key of each enclosing object.
        let mut slots = 1;
        loop {
            let mut value = match token.kind {
                TokenKind::Str => Value::String(self.lua.create_string(&self.text)?),
                TokenKind::Number => Value::Number(token.number),
                TokenKind::Boolean => Value::Boolean(token.boolean),
                TokenKind::Null => Value::LightUserData(LightUserData(std::ptr::null_mut())),
                TokenKind::ObjBegin => {
                    self.descend(slots, 3)?;
                    let table = self.lua.create_table()?;
                    let first = self.next_token();
                    if first.kind == TokenKind::ObjEnd {
                        self.depth -= 1;
                        Value::Table(table)
                    } else {
                        keys.push(Value::String(self.key(&first)?))?;
                        tables.push(Value::Table(table))?;
                        frames.push(DecodeFrame::Object);
                        slots += 2;
                        token = self.next_token();
                        continue;
                    }
                }
                TokenKind::ArrBegin => {
                    self.descend(slots, 2)?;
                    let table = self.lua.create_table()?;
                    let first = self.next_token();
                    if first.kind == TokenKind::ArrEnd {
                        self.depth -= 1;
                        Value::Table(table)
                    } else {
                        tables.push(Value::Table(table))?;
                        frames.push(DecodeFrame::Array { next: 1 });
                        slots += 1;
                        token = first;
                        continue;
                    }
                }
                _ => return Err(parse_error("value", &token)),
            };
            // Store the finished value in its container; a closing bracket
            // finishes that container in turn.
            loop {
                let Some(frame) = frames.last_mut() else { return Ok(value) };
                let Value::Table(table) = tables.top().clone() else { return Ok(Value::Nil) };
                let after = self.next_token();
                match frame {
                    DecodeFrame::Array { next } => {
                        table.raw_set(*next, value)?;
                        *next += 1;
                        match after.kind {
                            TokenKind::ArrEnd => {}
                            TokenKind::Comma => {
                                token = self.next_token();
                                break;
                            }
                            _ => return Err(parse_error("comma or array end", &after)),
                        }
                    }
                    DecodeFrame::Object => {
                        table.raw_set(keys.top().clone(), value)?;
                        match after.kind {
                            TokenKind::ObjEnd => {
                                keys.pop()?;
                            }
                            TokenKind::Comma => {
                                let next_key = self.next_token();
                                keys.set_top(Value::String(self.key(&next_key)?));
                                token = self.next_token();
                                break;
                            }
                            _ => return Err(parse_error("comma or object end", &after)),
                        }
                    }
                }
                self.depth -= 1;
                if let Some(done) = frames.pop() {
                    slots -= done.slots();
                }
                value = tables.pop()?;
            }
        }
    }
}

/// An open array or object of `Decoder::document`.
enum DecodeFrame {
    Array { next: i64 },
    /// The pending key is in the decoder's key stack.
    Object,
}

impl DecodeFrame {
    fn slots(&self) -> usize {
        match self {
            DecodeFrame::Array { .. } => 1,
            DecodeFrame::Object => 2,
        }
    }
}
