//! Conversions between Redis replies and Lua values, as Redis's
//! script_lua.c defines them: a command's reply becomes a Lua value for
//! `redis.call`, and a script's return value becomes the client's reply.

use corvid_proto::resp::Reply;
use mlua::{Lua, Table, Value};

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
    let mut out = Vec::with_capacity(code.len() + 1 + text.len());
    out.extend_from_slice(code);
    out.push(b' ');
    out.extend_from_slice(text);
    out
}

/// A command's RESP reply as a Lua value (redisProtocolToLuaType). The
/// reply comes from this server, but it is parsed defensively all the same.
pub fn reply_to_lua(lua: &Lua, reply: &[u8]) -> mlua::Result<Value> {
    let mut p = ReplyReader { buf: reply, pos: 0 };
    p.value(lua, 0)
}

struct ReplyReader<'a> {
    buf: &'a [u8],
    pos: usize,
}

fn malformed() -> mlua::Error {
    mlua::Error::runtime("malformed reply")
}

impl ReplyReader<'_> {
    fn line(&mut self) -> mlua::Result<&[u8]> {
        let rest = &self.buf[self.pos..];
        let end = rest.windows(2).position(|w| w == b"\r\n").ok_or_else(malformed)?;
        self.pos += end + 2;
        Ok(&rest[..end])
    }

    fn int(&mut self) -> mlua::Result<i64> {
        corvid_proto::resp::parse_i64(self.line()?).ok_or_else(malformed)
    }

    fn bulk(&mut self, len: i64) -> mlua::Result<&[u8]> {
        let len = usize::try_from(len).map_err(|_| malformed())?;
        let start = self.pos;
        if self.buf.len() < start + len + 2 {
            return Err(malformed());
        }
        self.pos += len + 2;
        Ok(&self.buf[start..start + len])
    }

    fn value(&mut self, lua: &Lua, depth: usize) -> mlua::Result<Value> {
        if depth > MAX_DEPTH {
            return Err(malformed());
        }
        let Some(&kind) = self.buf.get(self.pos) else { return Err(malformed()) };
        self.pos += 1;
        Ok(match kind {
            b':' => Value::Number(self.int()? as f64),
            b'$' => match self.int()? {
                -1 => Value::Boolean(false),
                n => Value::String(lua.create_string(self.bulk(n)?)?),
            },
            b'+' => {
                let t = lua.create_table_with_capacity(0, 1)?;
                t.raw_set("ok", lua.create_string(self.line()?)?)?;
                Value::Table(t)
            }
            b'-' => {
                let mut msg = b"-".to_vec();
                msg.extend_from_slice(self.line()?);
                let t = error_table(lua, &msg)?;
                // The command already counted this error in the stats.
                t.raw_set("ignore_error_stats_update", true)?;
                Value::Table(t)
            }
            b'*' => match self.int()? {
                -1 => Value::Boolean(false),
                n => {
                    let n = usize::try_from(n).map_err(|_| malformed())?;
                    let t = lua.create_table_with_capacity(n.min(1024), 0)?;
                    for i in 1..=n {
                        t.raw_set(i, self.value(lua, depth + 1)?)?;
                    }
                    Value::Table(t)
                }
            },
            b'%' | b'~' => {
                let n = usize::try_from(self.int()?).map_err(|_| malformed())?;
                let inner = lua.create_table()?;
                for _ in 0..n {
                    let k = self.value(lua, depth + 1)?;
                    let v = if kind == b'%' { self.value(lua, depth + 1)? } else { Value::Boolean(true) };
                    // A nil key cannot be stored, as in Redis (lua_settable would raise).
                    if !k.is_nil() {
                        inner.raw_set(k, v)?;
                    }
                }
                let t = lua.create_table_with_capacity(0, 1)?;
                t.raw_set(if kind == b'%' { "map" } else { "set" }, inner)?;
                Value::Table(t)
            }
            b'_' => {
                self.line()?;
                Value::Nil
            }
            b'#' => Value::Boolean(self.line()? == b"t"),
            b',' => {
                let d = parse_double(self.line()?).ok_or_else(malformed)?;
                let t = lua.create_table_with_capacity(0, 1)?;
                t.raw_set("double", d)?;
                Value::Table(t)
            }
            b'(' => {
                let t = lua.create_table_with_capacity(0, 1)?;
                t.raw_set("big_number", lua.create_string(self.line()?)?)?;
                Value::Table(t)
            }
            b'=' => {
                let n = self.int()?;
                let body = self.bulk(n)?;
                if body.len() < 4 {
                    return Err(malformed());
                }
                let inner = lua.create_table_with_capacity(0, 2)?;
                inner.raw_set("string", lua.create_string(&body[4..])?)?;
                inner.raw_set("format", lua.create_string(&body[..3])?)?;
                let t = lua.create_table_with_capacity(0, 1)?;
                t.raw_set("verbatim_string", inner)?;
                Value::Table(t)
            }
            b'|' => {
                // Attributes are not shown to scripts: skip them.
                let n = usize::try_from(self.int()?).map_err(|_| malformed())?;
                for _ in 0..2 * n {
                    self.value(lua, depth + 1)?;
                }
                self.value(lua, depth + 1)?
            }
            _ => return Err(malformed()),
        })
    }
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

/// How a script's return value becomes the reply (luaReplyToRedisReply).
pub struct ReplyWriter<'a> {
    pub lua: &'a Lua,
    /// The protocol the script chose with redis.setresp: booleans are 1/nil
    /// under RESP2 and true/false under RESP3.
    pub script_resp3: bool,
    /// Set when an error table was written: (message, count it in the stats).
    pub error: Option<(Vec<u8>, bool)>,
}

impl ReplyWriter<'_> {
    pub fn write(&mut self, out: &mut Reply, v: &Value, depth: usize) {
        if depth > MAX_DEPTH {
            out.error("ERR reached lua stack limit");
            return;
        }
        match v {
            Value::String(s) => out.bulk(&s.as_bytes()),
            Value::Boolean(b) => {
                if self.script_resp3 {
                    out.boolean(*b);
                } else if *b {
                    out.int(1);
                } else {
                    out.null();
                }
            }
            Value::Integer(n) => out.int(*n),
            Value::Number(n) => out.int(*n as i64),
            Value::Table(t) => self.table(out, t, depth),
            _ => out.null(),
        }
    }

    fn table(&mut self, out: &mut Reply, t: &Table, depth: usize) {
        let field = |name: &str| t.raw_get::<Value>(name).unwrap_or(Value::Nil);
        if let Value::String(e) = field("err") {
            let msg = e.as_bytes().to_vec();
            let ignore_stats = matches!(field("ignore_error_stats_update"), Value::Boolean(true));
            write_error(out, &msg);
            if self.error.is_none() {
                self.error = Some((msg, !ignore_stats));
            }
            return;
        }
        if let Value::String(s) = field("ok") {
            let text: Vec<u8> = s.as_bytes().iter().map(|&b| if b == b'\r' || b == b'\n' { b' ' } else { b }).collect();
            out.simple(&text);
            return;
        }
        match field("double") {
            Value::Number(d) => return out.double(d),
            Value::Integer(d) => return out.double(d as f64),
            _ => {}
        }
        if let Value::String(s) = field("big_number") {
            let text: Vec<u8> = s.as_bytes().iter().map(|&b| if b == b'\r' || b == b'\n' { b' ' } else { b }).collect();
            if out.resp3 {
                out.raw(b"(");
                out.raw(&text);
                out.raw(b"\r\n");
            } else {
                out.bulk(&text);
            }
            return;
        }
        if let Value::Table(vt) = field("verbatim_string") {
            if let (Ok(Value::String(format)), Ok(Value::String(s))) = (vt.raw_get::<Value>("format"), vt.raw_get::<Value>("string")) {
                let format = format.to_string_lossy();
                out.verbatim(&format, &s.as_bytes());
                return;
            }
        }
        if let Value::Table(m) = field("map") {
            let start = out.len();
            let mut n = 0;
            if let Ok((flat, entries)) = flat_pairs(self.lua, &m) {
                for i in (1..=2 * entries).step_by(2) {
                    let k = flat.raw_get::<Value>(i).unwrap_or(Value::Nil);
                    let v = flat.raw_get::<Value>(i + 1).unwrap_or(Value::Nil);
                    self.write(out, &k, depth + 1);
                    self.write(out, &v, depth + 1);
                    n += 1;
                }
            }
            insert_header(out, start, if out.resp3 { b'%' } else { b'*' }, if out.resp3 { n } else { 2 * n });
            return;
        }
        if let Value::Table(s) = field("set") {
            let start = out.len();
            let mut n = 0;
            if let Ok((flat, entries)) = flat_pairs(self.lua, &s) {
                for i in (1..=2 * entries).step_by(2) {
                    let k = flat.raw_get::<Value>(i).unwrap_or(Value::Nil);
                    self.write(out, &k, depth + 1);
                    n += 1;
                }
            }
            insert_header(out, start, if out.resp3 { b'~' } else { b'*' }, n);
            return;
        }
        let start = out.len();
        let mut n = 0;
        loop {
            let v = t.raw_get::<Value>(n + 1).unwrap_or(Value::Nil);
            if v.is_nil() {
                break;
            }
            self.write(out, &v, depth + 1);
            n += 1;
        }
        insert_header(out, start, b'*', n);
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

    #[test]
    fn error_text_has_a_code() {
        assert_eq!(error_text(b"-WRONGTYPE Operation"), b"WRONGTYPE Operation");
        assert_eq!(error_text(b"my error"), b"ERR my error");
        assert_eq!(error_text(b"-ERR x\r\n"), b"ERR x");
        assert_eq!(error_text(b"-"), b"ERR ");
        assert_eq!(error_text(b"-NOCODE"), b"ERR NOCODE");
    }

    #[test]
    fn replies_become_lua_values() {
        let lua = Lua::new();
        let v = reply_to_lua(&lua, b"*3\r\n:1\r\n$-1\r\n$3\r\nabc\r\n").unwrap();
        let t = v.as_table().unwrap();
        assert_eq!(t.raw_get::<f64>(1).unwrap(), 1.0);
        assert_eq!(t.raw_get::<bool>(2).unwrap(), false);
        assert_eq!(t.raw_get::<String>(3).unwrap(), "abc");
        let v = reply_to_lua(&lua, b"-ERR bad\r\n").unwrap();
        assert_eq!(v.as_table().unwrap().raw_get::<String>("err").unwrap(), "ERR bad");
        let v = reply_to_lua(&lua, b"%1\r\n+a\r\n,1.5\r\n").unwrap();
        assert!(v.as_table().unwrap().raw_get::<Table>("map").is_ok());
        // Truncated or unknown input is an error, never a panic.
        for bad in [&b"*2\r\n:1\r\n"[..], b"$10\r\nabc\r\n", b"?x\r\n", b"", b"*-5\r\n", b"=2\r\nab\r\n"] {
            assert!(reply_to_lua(&lua, bad).is_err(), "{:?}", bad);
        }
    }

    #[test]
    fn lua_values_become_replies() {
        let lua = Lua::new();
        let v: Value = lua.load("return {1, 'two', {ok='fine'}, false, 3.7, nil, 9}").eval().unwrap();
        let mut out = Reply::new(false);
        lua.set_app_data(corvid_lualibs::TableWalker::new(&lua).unwrap());
        let mut w = ReplyWriter { script_resp3: false, error: None, lua: &lua };
        w.write(&mut out, &v, 0);
        assert_eq!(out.buf, b"*5\r\n:1\r\n$3\r\ntwo\r\n+fine\r\n$-1\r\n:3\r\n");
        let v: Value = lua.load("local a = {} a[1] = a return a").eval().unwrap();
        let mut out = Reply::new(false);
        w.write(&mut out, &v, 0);
        assert!(out.buf.ends_with(b"-ERR reached lua stack limit\r\n"));
    }
}
