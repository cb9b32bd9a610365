//! Reading a function's arguments the way Lua 5.1's `luaL_check*` family
//! does, with the same coercions and the same error texts.

use mlua::{Lua, Table, Value};

use crate::error::{Error, Result};

/// The arguments of one call, numbers already exact (see `callback`).
pub(crate) struct Args<'a> {
    lua: &'a Lua,
    func: &'static str,
    values: Vec<Value>,
}

impl<'a> Args<'a> {
    pub(crate) fn new(lua: &'a Lua, func: &'static str, values: Vec<Value>) -> Self {
        Args { lua, func, values }
    }

    /// Appends an explicit nil, for functions whose C version pushes one
    /// above its arguments before reading them (so a missing argument
    /// reports "got nil").
    pub(crate) fn push_nil(&mut self) {
        self.values.push(Value::Nil);
    }

    pub(crate) fn len(&self) -> usize {
        self.values.len()
    }

    pub(crate) fn lua(&self) -> &'a Lua {
        self.lua
    }

    pub(crate) fn func(&self) -> &'static str {
        self.func
    }

    /// Argument `i` (1-based); `nil` past the end, as the C stack reads.
    pub(crate) fn get(&self, i: usize) -> &Value {
        self.values.get(i.wrapping_sub(1)).unwrap_or(&Value::Nil)
    }

    /// `lua_isnone`: no argument at all, which differs from an explicit nil.
    pub(crate) fn is_none(&self, i: usize) -> bool {
        i == 0 || i > self.values.len()
    }

    /// `lua_isnoneornil`.
    pub(crate) fn is_none_or_nil(&self, i: usize) -> bool {
        matches!(self.get(i), Value::Nil)
    }

    /// The type name `luaL_typerror` prints: "no value" for a missing one.
    pub(crate) fn type_name(&self, i: usize) -> &'static str {
        if self.is_none(i) {
            "no value"
        } else {
            type_name(self.get(i))
        }
    }

    pub(crate) fn arg_error(&self, i: usize, msg: impl Into<String>) -> Error {
        Error::arg(i, self.func, msg)
    }

    fn type_error(&self, i: usize, expected: &str) -> Error {
        Error::type_mismatch(i, self.func, expected, self.type_name(i))
    }

    /// `lua_tonumber`: numbers, and strings Lua can convert; otherwise `None`.
    pub(crate) fn to_number(&self, i: usize) -> Result<Option<f64>> {
        to_number(self.lua, self.get(i))
    }

    /// `luaL_checknumber`.
    pub(crate) fn check_number(&self, i: usize) -> Result<f64> {
        self.to_number(i)?.ok_or_else(|| self.type_error(i, "number"))
    }

    /// `luaL_checkinteger`: a number truncated to `lua_Integer`.
    pub(crate) fn check_integer(&self, i: usize) -> Result<i64> {
        Ok(c_double_to_i64(self.check_number(i)?))
    }

    /// `luaL_optinteger`.
    pub(crate) fn opt_integer(&self, i: usize, default: i64) -> Result<i64> {
        if self.is_none_or_nil(i) {
            Ok(default)
        } else {
            self.check_integer(i)
        }
    }

    /// `luaL_checklstring`: strings, and numbers formatted as Lua does.
    pub(crate) fn check_string(&self, i: usize) -> Result<mlua::LuaString> {
        match self.get(i) {
            Value::String(s) => Ok(s.clone()),
            v @ Value::Number(_) | v @ Value::Integer(_) => {
                self.lua.coerce_string(v.clone())?.ok_or_else(|| self.type_error(i, "string"))
            }
            _ => Err(self.type_error(i, "string")),
        }
    }
}

/// `lua_tonumber` on any value.
pub(crate) fn to_number(lua: &Lua, v: &Value) -> Result<Option<f64>> {
    Ok(match v {
        Value::Number(n) => Some(*n),
        Value::Integer(i) => Some(*i as f64),
        Value::String(_) => lua.coerce_number(v.clone())?,
        _ => None,
    })
}

/// `lua_typename(lua_type(v))`.
pub(crate) fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Nil => "nil",
        Value::Boolean(_) => "boolean",
        Value::LightUserData(_) | Value::UserData(_) | Value::Error(_) => "userdata",
        Value::Integer(_) | Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Table(_) => "table",
        Value::Function(_) => "function",
        Value::Thread(_) => "thread",
        _ => "userdata",
    }
}

/// Casting a double to a 64-bit integer as x86-64 C code does: in-range
/// values truncate, everything else (NaN, overflow) gives the "integer
/// indefinite" value `i64::MIN`.
pub(crate) fn c_double_to_i64(n: f64) -> i64 {
    if n > -9_223_372_036_854_775_809.0 && n < 9_223_372_036_854_775_808.0 {
        n as i64
    } else {
        i64::MIN
    }
}

/// The same for a 32-bit `int`.
pub(crate) fn c_double_to_i32(n: f64) -> i32 {
    if n > -2_147_483_649.0 && n < 2_147_483_648.0 {
        n as i32
    } else {
        i32::MIN
    }
}

/// Every Lua 5.1 number as `Value::Number`, so later code has one case.
pub(crate) fn exact_number(v: Value) -> Value {
    match v {
        Value::Integer(i) => Value::Number(i as f64),
        v => v,
    }
}

/// `t[key]` without metamethods, with a number read exactly: mlua turns
/// numbers within `f64::EPSILON` of zero (and `-0.0`) into `Integer(0)`,
/// so such a value is read again as an `f64`.
pub(crate) fn exact_get(t: &Table, key: Value) -> mlua::Result<Value> {
    let v = t.raw_get::<Value>(key.clone())?;
    refine(t, key, v, false)
}

/// Like `exact_get` but honouring `__index`, as `lua_gettable` does.
pub(crate) fn exact_get_meta(t: &Table, key: Value) -> mlua::Result<Value> {
    let v = t.get::<Value>(key.clone())?;
    refine(t, key, v, true)
}

/// Re-reads a value mlua may have rounded (see `exact_get`). Only the
/// rounded case costs a second lookup.
pub(crate) fn refine(t: &Table, key: Value, v: Value, meta: bool) -> mlua::Result<Value> {
    Ok(match v {
        Value::Integer(0) => Value::Number(if meta { t.get::<f64>(key)? } else { t.raw_get::<f64>(key)? }),
        v => exact_number(v),
    })
}
