//! Conversions between Redis replies and Lua values, as Redis's
//! script_lua.c defines them: a command's reply becomes a Lua value for
//! `redis.call` (pushed through Lua's C API, see [`push_reply`]), and a
//! script's return value becomes the client's reply.

use std::ffi::{c_char, c_int};

use corvid_proto::resp::Reply;
use mlua::{ffi, Lua, Table};

/// Deepest nesting converted; a deeper (or cyclic) value is cut with an
/// error, as Redis stops at the Lua stack limit.
const MAX_DEPTH: usize = 1000;

/// A table `{err = msg}` with Redis's error shape: "CODE message", the code
/// defaulting to ERR, without the leading '-' and trailing newline
/// (luaPushErrorBuff).
pub fn error_table(lua: &Lua, msg: &[u8]) -> mlua::Result<Table> {
    let t = lua.create_table_with_capacity(0, 2)?;
    t.raw_set("err", lua.create_string(error_text(msg))?)?;
    Ok(t)
}

/// An error message in the form scripts see it (luaPushErrorBuff).
pub fn error_text(msg: &[u8]) -> Vec<u8> {
    let (code, text) = error_parts(msg);
    let mut out = Vec::with_capacity(code.len() + 1 + text.len());
    out.extend_from_slice(code);
    out.push(b' ');
    out.extend_from_slice(text);
    out
}

/// The code (ERR when there is none) and the text of an error message,
/// "-CODE text" or plain text, without surrounding newlines.
fn error_parts(msg: &[u8]) -> (&[u8], &[u8]) {
    let (code, text): (&[u8], &[u8]) = match msg.strip_prefix(b"-") {
        Some(rest) => match rest.iter().position(|&b| b == b' ') {
            Some(sp) => (&rest[..sp], &rest[sp + 1..]),
            None => (b"ERR", rest),
        },
        None => (b"ERR", msg),
    };
    let mut text = text;
    while let [rest @ .., b'\r' | b'\n'] = text {
        text = rest;
    }
    while let [b'\r' | b'\n', rest @ ..] = text {
        text = rest;
    }
    (code, text)
}

/// A reply that does not parse as RESP.
#[derive(Debug, PartialEq, Eq)]
pub struct Malformed;

/// Push `s` as a Lua string.
///
/// # Safety
/// `l` is a live state of this VM with a free stack slot.
pub unsafe fn push_bytes(l: *mut ffi::lua_State, s: &[u8]) {
    ffi::lua_pushlstring_(l, s.as_ptr().cast::<c_char>(), s.len());
}

/// Push the table `{err = msg}` (luaPushErrorBuff), with
/// `ignore_error_stats_update = true` when the error was already counted
/// in the error statistics (a command's own error reply).
///
/// # Safety
/// `l` is a live state of this VM with 5 free stack slots.
pub unsafe fn push_error_table(l: *mut ffi::lua_State, msg: &[u8], already_counted: bool) {
    let (code, text) = error_parts(msg);
    ffi::lua_createtable(l, 0, 2);
    push_bytes(l, b"err");
    push_bytes(l, code);
    push_bytes(l, b" ");
    push_bytes(l, text);
    ffi::lua_concat(l, 3);
    ffi::lua_rawset(l, -3);
    if already_counted {
        push_bytes(l, b"ignore_error_stats_update");
        ffi::lua_pushboolean(l, 1);
        ffi::lua_rawset(l, -3);
    }
}

/// Push a command's RESP reply onto the Lua stack as a value
/// (redisProtocolToLuaType), straight through the C API: redis.call does
/// this for every command, where mlua values would cost a registry slot
/// and a lock per string. The reply comes from this server, but it is
/// parsed defensively all the same; on Err, what was pushed so far is left
/// on the stack for the caller to drop.
///
/// # Safety
/// `l` is a live state of this VM, inside a C function or protected call
/// (only running out of memory raises here, and the caller owns nothing
/// that needs dropping).
pub unsafe fn push_reply(l: *mut ffi::lua_State, reply: &[u8]) -> Result<(), Malformed> {
    let mut p = ReplyReader { buf: reply, pos: 0 };
    p.push(l, 0)
}

struct ReplyReader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> ReplyReader<'a> {
    fn line(&mut self) -> Result<&'a [u8], Malformed> {
        let rest = &self.buf[self.pos..];
        let end = rest.windows(2).position(|w| w == b"\r\n").ok_or(Malformed)?;
        self.pos += end + 2;
        Ok(&rest[..end])
    }

    fn int(&mut self) -> Result<i64, Malformed> {
        corvid_proto::resp::parse_i64(self.line()?).ok_or(Malformed)
    }

    /// An aggregate's length, within what a Lua table can index.
    fn count(&mut self) -> Result<c_int, Malformed> {
        c_int::try_from(self.int()?).ok().filter(|&n| n >= 0).ok_or(Malformed)
    }

    fn bulk(&mut self, len: i64) -> Result<&'a [u8], Malformed> {
        let len = usize::try_from(len).map_err(|_| Malformed)?;
        let start = self.pos;
        if self.buf.len() < start + len + 2 {
            return Err(Malformed);
        }
        self.pos += len + 2;
        Ok(&self.buf[start..start + len])
    }

    /// Push one value (and what it holds); see [`push_reply`].
    unsafe fn push(&mut self, l: *mut ffi::lua_State, depth: usize) -> Result<(), Malformed> {
        // A value takes at most four slots at its own level (a wrapped map:
        // outer table, key, inner table, then an element's key).
        if depth > MAX_DEPTH || ffi::lua_checkstack(l, 5) == 0 {
            return Err(Malformed);
        }
        let Some(&kind) = self.buf.get(self.pos) else { return Err(Malformed) };
        self.pos += 1;
        match kind {
            b':' => ffi::lua_pushnumber(l, self.int()? as f64),
            b'$' => match self.int()? {
                -1 => ffi::lua_pushboolean(l, 0),
                n => push_bytes(l, self.bulk(n)?),
            },
            b'+' => {
                let line = self.line()?;
                push_field_table(l, b"ok", |l| push_bytes(l, line));
            }
            b'-' => {
                let start = self.pos - 1;
                let line = self.line()?;
                // With its '-'; the command already counted it in the stats.
                push_error_table(l, &self.buf[start..start + 1 + line.len()], true);
            }
            b'*' => match self.int()? {
                -1 => ffi::lua_pushboolean(l, 0),
                n => {
                    let n = c_int::try_from(n).ok().filter(|&n| n >= 0).ok_or(Malformed)?;
                    ffi::lua_createtable(l, n.min(1024), 0);
                    for i in 1..=n {
                        self.push(l, depth + 1)?;
                        ffi::lua_rawseti_(l, -2, i);
                    }
                }
            },
            b'%' | b'~' => {
                let n = self.count()?;
                ffi::lua_createtable(l, 0, 1);
                push_bytes(l, if kind == b'%' { b"map" } else { b"set" });
                ffi::lua_createtable(l, 0, n.min(1024));
                for _ in 0..n {
                    self.push(l, depth + 1)?;
                    if kind == b'%' {
                        self.push(l, depth + 1)?;
                    } else {
                        ffi::lua_pushboolean(l, 1);
                    }
                    // A nil key cannot be stored, as in Redis (lua_settable would raise).
                    if ffi::lua_type(l, -2) == ffi::LUA_TNIL {
                        ffi::lua_settop(l, -3);
                    } else {
                        ffi::lua_rawset(l, -3);
                    }
                }
                ffi::lua_rawset(l, -3);
            }
            b'_' => {
                self.line()?;
                ffi::lua_pushnil(l);
            }
            b'#' => ffi::lua_pushboolean(l, (self.line()? == b"t") as c_int),
            b',' => {
                let d = parse_double(self.line()?).ok_or(Malformed)?;
                push_field_table(l, b"double", |l| ffi::lua_pushnumber(l, d));
            }
            b'(' => {
                let line = self.line()?;
                push_field_table(l, b"big_number", |l| push_bytes(l, line));
            }
            b'=' => {
                let n = self.int()?;
                let body = self.bulk(n)?;
                if body.len() < 4 {
                    return Err(Malformed);
                }
                push_field_table(l, b"verbatim_string", |l| {
                    ffi::lua_createtable(l, 0, 2);
                    push_bytes(l, b"string");
                    push_bytes(l, &body[4..]);
                    ffi::lua_rawset(l, -3);
                    push_bytes(l, b"format");
                    push_bytes(l, &body[..3]);
                    ffi::lua_rawset(l, -3);
                });
            }
            b'|' => {
                // Attributes are not shown to scripts: skip them.
                let n = self.count()?;
                for _ in 0..2 * n as usize {
                    self.push(l, depth + 1)?;
                    ffi::lua_settop(l, -2);
                }
                self.push(l, depth + 1)?;
            }
            _ => return Err(Malformed),
        }
        Ok(())
    }
}

/// Push `{name = value}`, `value` pushed by `push_value`.
unsafe fn push_field_table(l: *mut ffi::lua_State, name: &[u8], push_value: impl FnOnce(*mut ffi::lua_State)) {
    ffi::lua_createtable(l, 0, 1);
    push_bytes(l, name);
    push_value(l);
    ffi::lua_rawset(l, -3);
}

fn parse_double(s: &[u8]) -> Option<f64> {
    match s {
        b"inf" => Some(f64::INFINITY),
        b"-inf" => Some(f64::NEG_INFINITY),
        b"nan" | b"-nan" => Some(f64::NAN),
        _ => std::str::from_utf8(s).ok()?.parse().ok(),
    }
}

/// A table's entries, in `next` order, as one sequence {k1, v1, ...} and
/// the number of entries; read it by index (see corvid_lualibs::TableWalker:
/// mlua's own pairs can raise outside any protected call).
pub fn flat_pairs(lua: &Lua, t: &Table) -> mlua::Result<(Table, usize)> {
    let walker = lua.app_data_ref::<corvid_lualibs::TableWalker>().ok_or_else(|| mlua::Error::runtime("no table walker in this VM"))?;
    walker.entries(t)
}

/// How a script's return value becomes the reply (luaReplyToRedisReply),
/// read through Lua's C API (every EVAL's reply passes here).
pub struct ReplyWriter<'a> {
    pub out: &'a mut Reply,
    /// The protocol the script chose with redis.setresp: booleans are 1/nil
    /// under RESP2 and true/false under RESP3.
    pub script_resp3: bool,
    /// Set when an error table was written: (message, count it in the stats).
    pub error: Option<(Vec<u8>, bool)>,
}

/// The bytes of the string at `idx` (only called on strings, which
/// lua_tolstring leaves as they are); valid while it is on the stack.
unsafe fn string_at<'a>(l: *mut ffi::lua_State, idx: c_int) -> &'a [u8] {
    let mut len = 0;
    let p = ffi::lua_tolstring(l, idx, &mut len);
    std::slice::from_raw_parts(p.cast::<u8>(), len)
}

/// Push `t[name]` (raw) for the table `t` at stack slot `t`; its type.
unsafe fn push_field(l: *mut ffi::lua_State, t: c_int, name: &[u8]) -> c_int {
    push_bytes(l, name);
    ffi::lua_rawget_(l, t);
    ffi::lua_type(l, -1)
}

/// A number as Redis's `(long long)` cast makes it on x86-64: truncated,
/// and i64::MIN when out of range or NaN (where Rust's cast saturates).
fn c_long_long(n: f64) -> i64 {
    if n.is_nan() || n >= 9.223372036854775808e18 || n < -9.223372036854775808e18 {
        i64::MIN
    } else {
        n as i64
    }
}

/// `msg` with CR and LF made spaces, as a status line must be.
fn one_line(msg: &[u8]) -> Vec<u8> {
    msg.iter().map(|&b| if b == b'\r' || b == b'\n' { b' ' } else { b }).collect()
}

impl ReplyWriter<'_> {
    /// Write the value on top of the stack, and leave it there.
    ///
    /// # Safety
    /// `l` is a live state of this VM, inside a C function or protected
    /// call (only running out of memory raises here).
    pub unsafe fn write(&mut self, l: *mut ffi::lua_State, depth: usize) {
        if depth > MAX_DEPTH || ffi::lua_checkstack(l, 4) == 0 {
            self.out.error("ERR reached lua stack limit");
            return;
        }
        match ffi::lua_type(l, -1) {
            ffi::LUA_TSTRING => self.out.bulk(string_at(l, -1)),
            ffi::LUA_TBOOLEAN => {
                let b = ffi::lua_toboolean(l, -1) != 0;
                if self.script_resp3 {
                    self.out.boolean(b);
                } else if b {
                    self.out.int(1);
                } else {
                    self.out.null();
                }
            }
            ffi::LUA_TNUMBER => self.out.int(c_long_long(ffi::lua_tonumber(l, -1))),
            ffi::LUA_TTABLE => self.table(l, depth),
            _ => self.out.null(),
        }
    }

    /// The table on top of the stack: an error, status, double, big
    /// number, verbatim string, map or set in Redis's shapes, else an array.
    unsafe fn table(&mut self, l: *mut ffi::lua_State, depth: usize) {
        let t = ffi::lua_gettop(l);
        if push_field(l, t, b"err") == ffi::LUA_TSTRING {
            let msg = string_at(l, -1).to_vec();
            ffi::lua_settop(l, -2);
            let ignore_stats = push_field(l, t, b"ignore_error_stats_update") == ffi::LUA_TBOOLEAN && ffi::lua_toboolean(l, -1) != 0;
            ffi::lua_settop(l, -2);
            write_error(self.out, &msg);
            if self.error.is_none() {
                self.error = Some((msg, !ignore_stats));
            }
            return;
        }
        ffi::lua_settop(l, -2);
        if push_field(l, t, b"ok") == ffi::LUA_TSTRING {
            self.out.simple(&one_line(string_at(l, -1)));
            ffi::lua_settop(l, -2);
            return;
        }
        ffi::lua_settop(l, -2);
        if push_field(l, t, b"double") == ffi::LUA_TNUMBER {
            self.out.double(ffi::lua_tonumber(l, -1));
            ffi::lua_settop(l, -2);
            return;
        }
        ffi::lua_settop(l, -2);
        if push_field(l, t, b"big_number") == ffi::LUA_TSTRING {
            let text = one_line(string_at(l, -1));
            ffi::lua_settop(l, -2);
            if self.out.resp3 {
                self.out.raw(b"(");
                self.out.raw(&text);
                self.out.raw(b"\r\n");
            } else {
                self.out.bulk(&text);
            }
            return;
        }
        ffi::lua_settop(l, -2);
        if push_field(l, t, b"verbatim_string") == ffi::LUA_TTABLE {
            let vs = ffi::lua_gettop(l);
            let format_type = push_field(l, vs, b"format");
            let string_type = push_field(l, vs, b"string");
            if format_type == ffi::LUA_TSTRING && string_type == ffi::LUA_TSTRING {
                let format = String::from_utf8_lossy(string_at(l, -2)).into_owned();
                self.out.verbatim(&format, string_at(l, -1));
                ffi::lua_settop(l, -4);
                return;
            }
            ffi::lua_settop(l, -3);
        }
        ffi::lua_settop(l, -2);
        for (name, is_map) in [(&b"map"[..], true), (b"set", false)] {
            if push_field(l, t, name) == ffi::LUA_TTABLE {
                let start = self.out.len();
                let mut n = 0;
                ffi::lua_pushnil(l);
                while ffi::lua_next(l, -2) != 0 {
                    // A copy of the key is written: lua_next needs the
                    // original as it was.
                    ffi::lua_pushvalue(l, -2);
                    self.write(l, depth + 1);
                    ffi::lua_settop(l, -2);
                    if is_map {
                        self.write(l, depth + 1);
                    }
                    ffi::lua_settop(l, -2);
                    n += 1;
                }
                ffi::lua_settop(l, -2);
                let resp3 = self.out.resp3;
                if is_map {
                    insert_header(self.out, start, if resp3 { b'%' } else { b'*' }, if resp3 { n } else { 2 * n });
                } else {
                    insert_header(self.out, start, if resp3 { b'~' } else { b'*' }, n);
                }
                return;
            }
            ffi::lua_settop(l, -2);
        }
        let start = self.out.len();
        let mut n = 0;
        loop {
            ffi::lua_rawgeti_(l, t, n + 1);
            if ffi::lua_type(l, -1) == ffi::LUA_TNIL {
                ffi::lua_settop(l, -2);
                break;
            }
            self.write(l, depth + 1);
            ffi::lua_settop(l, -2);
            n += 1;
        }
        insert_header(self.out, start, b'*', n as usize);
    }
}

/// An error reply from a script's text: "-CODE message" as given, newlines
/// made spaces (addReplyErrorFormat).
pub fn write_error(out: &mut Reply, msg: &[u8]) {
    out.raw(b"-");
    for &b in msg.strip_prefix(b"-").unwrap_or(msg) {
        out.buf.push(if b == b'\r' || b == b'\n' { b' ' } else { b });
    }
    out.raw(b"\r\n");
}

/// Put an aggregate's header before its elements, written first because
/// their count was not known (addReplyDeferredLen).
fn insert_header(out: &mut Reply, at: usize, kind: u8, n: usize) {
    let mut hdr = Vec::with_capacity(16);
    hdr.push(kind);
    hdr.extend_from_slice(itoa::Buffer::new().format(n).as_bytes());
    hdr.extend_from_slice(b"\r\n");
    out.buf.splice(at..at, hdr);
}

#[cfg(test)]
mod tests {
    use super::*;
    use mlua::Value;

    #[test]
    fn error_text_has_a_code() {
        assert_eq!(error_text(b"-WRONGTYPE Operation"), b"WRONGTYPE Operation");
        assert_eq!(error_text(b"my error"), b"ERR my error");
        assert_eq!(error_text(b"-ERR x\r\n"), b"ERR x");
        assert_eq!(error_text(b"-"), b"ERR ");
        assert_eq!(error_text(b"-NOCODE"), b"ERR NOCODE");
    }

    /// The value push_reply makes of `reply`; None when it is malformed.
    fn to_lua(lua: &Lua, reply: &[u8]) -> Option<Value> {
        let mut ok = true;
        // SAFETY: exec_raw runs the closure in a protected call on this VM.
        let v = unsafe {
            lua.exec_raw::<Value>((), |l| {
                let top = ffi::lua_gettop(l);
                if push_reply(l, reply).is_err() {
                    ok = false;
                    ffi::lua_settop(l, top);
                    ffi::lua_pushnil(l);
                }
            })
        };
        let v = v.unwrap();
        ok.then_some(v)
    }

    #[test]
    fn replies_become_lua_values() {
        let lua = Lua::new();
        let v = to_lua(&lua, b"*3\r\n:1\r\n$-1\r\n$3\r\nabc\r\n").unwrap();
        let t = v.as_table().unwrap();
        assert_eq!(t.raw_get::<f64>(1).unwrap(), 1.0);
        assert_eq!(t.raw_get::<bool>(2).unwrap(), false);
        assert_eq!(t.raw_get::<String>(3).unwrap(), "abc");
        let v = to_lua(&lua, b"-ERR bad\r\n").unwrap();
        assert_eq!(v.as_table().unwrap().raw_get::<String>("err").unwrap(), "ERR bad");
        assert_eq!(v.as_table().unwrap().raw_get::<bool>("ignore_error_stats_update").unwrap(), true);
        let v = to_lua(&lua, b"-WRONGTYPE Operation\r\n").unwrap();
        assert_eq!(v.as_table().unwrap().raw_get::<String>("err").unwrap(), "WRONGTYPE Operation");
        let v = to_lua(&lua, b"%2\r\n+a\r\n,1.5\r\n_\r\n:1\r\n").unwrap();
        let map = v.as_table().unwrap().raw_get::<Table>("map").unwrap();
        assert_eq!(map.pairs::<Value, Value>().count(), 1, "the nil key is left out");
        let v = to_lua(&lua, b"~2\r\n$1\r\nx\r\n$1\r\ny\r\n").unwrap();
        let set = v.as_table().unwrap().raw_get::<Table>("set").unwrap();
        assert_eq!(set.raw_get::<bool>("y").unwrap(), true);
        let v = to_lua(&lua, b"=8\r\ntxt:abcd\r\n").unwrap();
        let vs = v.as_table().unwrap().raw_get::<Table>("verbatim_string").unwrap();
        assert_eq!(vs.raw_get::<String>("format").unwrap(), "txt");
        assert_eq!(vs.raw_get::<String>("string").unwrap(), "abcd");
        let v = to_lua(&lua, b"|1\r\n+k\r\n+v\r\n#t\r\n").unwrap();
        assert_eq!(v, Value::Boolean(true));
        let v = to_lua(&lua, b"(123\r\n").unwrap();
        assert_eq!(v.as_table().unwrap().raw_get::<String>("big_number").unwrap(), "123");
        assert_eq!(to_lua(&lua, b"$0\r\n\r\n").unwrap().as_string().unwrap().as_bytes().len(), 0);
        // Truncated or unknown input is an error, never a panic.
        for bad in [&b"*2\r\n:1\r\n"[..], b"$10\r\nabc\r\n", b"?x\r\n", b"", b"*-5\r\n", b"=2\r\nab\r\n", b"%-1\r\n"] {
            assert!(to_lua(&lua, bad).is_none(), "{:?}", bad);
        }
        // Too deep for the stack: an error, not a crash.
        let nested = |n: usize| [b"*1\r\n".repeat(n), b":1\r\n".to_vec()].concat();
        assert!(to_lua(&lua, &nested(MAX_DEPTH + 5)).is_none());
        assert!(to_lua(&lua, &nested(MAX_DEPTH)).is_some());
    }

    #[test]
    fn error_tables() {
        let lua = Lua::new();
        // SAFETY: exec_raw runs the closure in a protected call on this VM.
        let t = unsafe { lua.exec_raw::<Table>((), |l| push_error_table(l, b"-NOSCRIPT No script\r\n", false)) }.unwrap();
        assert_eq!(t.raw_get::<String>("err").unwrap(), "NOSCRIPT No script");
        assert!(t.raw_get::<Value>("ignore_error_stats_update").unwrap().is_nil());
        let t = unsafe { lua.exec_raw::<Table>((), |l| push_error_table(l, b"plain", true)) }.unwrap();
        assert_eq!(t.raw_get::<String>("err").unwrap(), "ERR plain");
        assert_eq!(t.raw_get::<bool>("ignore_error_stats_update").unwrap(), true);
    }

    /// The reply ReplyWriter makes of `value` (Lua source).
    fn reply_of(lua: &Lua, value: &str, resp3: bool) -> (Vec<u8>, Option<(Vec<u8>, bool)>) {
        let v: Value = lua.load(value).eval().unwrap();
        let mut out = Reply::new(resp3);
        let mut error = None;
        // SAFETY: exec_raw runs the closure in a protected call on this VM.
        unsafe {
            lua.exec_raw::<()>(v, |l| {
                let mut w = ReplyWriter { out: &mut out, script_resp3: resp3, error: None };
                w.write(l, 0);
                error = w.error.take();
                ffi::lua_settop(l, 0);
            })
        }
        .unwrap();
        (out.buf, error)
    }

    #[test]
    fn lua_values_become_replies() {
        let lua = Lua::new();
        let (buf, error) = reply_of(&lua, "return {1, 'two', {ok='fi\\nne'}, false, 3.7, nil, 9}", false);
        assert_eq!(buf, b"*5\r\n:1\r\n$3\r\ntwo\r\n+fi ne\r\n$-1\r\n:3\r\n");
        assert!(error.is_none());
        let (buf, error) = reply_of(&lua, "return {1, {err='-MY oops'}, {err='x', ignore_error_stats_update=true}}", false);
        assert_eq!(buf, b"*3\r\n:1\r\n-MY oops\r\n-x\r\n");
        assert_eq!(error, Some((b"-MY oops".to_vec(), true)));
        let (buf, _) = reply_of(&lua, "local a = {} a[1] = a return a", false);
        assert!(buf.ends_with(b"-ERR reached lua stack limit\r\n"));
        let (buf, _) = reply_of(&lua, "return {double=1.5}", true);
        assert_eq!(buf, b",1.5\r\n");
        let (buf, _) = reply_of(&lua, "return {map={a=true}}", true);
        assert_eq!(buf, b"%1\r\n$1\r\na\r\n#t\r\n");
        let (buf, _) = reply_of(&lua, "return {map={a=1}}", false);
        assert_eq!(buf, b"*2\r\n$1\r\na\r\n:1\r\n");
        let (buf, _) = reply_of(&lua, "return {set={x=true}}", true);
        assert_eq!(buf, b"~1\r\n$1\r\nx\r\n");
        let (buf, _) = reply_of(&lua, "return {big_number='123'}", false);
        assert_eq!(buf, b"$3\r\n123\r\n");
        let (buf, _) = reply_of(&lua, "return {verbatim_string={format='txt', string='hi'}}", true);
        assert_eq!(buf, b"=6\r\ntxt:hi\r\n");
        let (buf, _) = reply_of(&lua, "return {verbatim_string={format='txt'}}", false);
        assert_eq!(buf, b"*0\r\n");
        let (buf, _) = reply_of(&lua, "return true", false);
        assert_eq!(buf, b":1\r\n");
        let (buf, _) = reply_of(&lua, "return {1e20, -1e20, 0/0, -2.5}", false);
        assert_eq!(buf, b"*4\r\n:-9223372036854775808\r\n:-9223372036854775808\r\n:-9223372036854775808\r\n:-2\r\n");
    }
}
