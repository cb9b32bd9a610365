//! Installing Rust functions so that scripts see them as the C libraries'
//! functions: errors are plain strings with the caller's position, and
//! numbers arrive unrounded.
//!
//! mlua hands a callback's error to Lua as a userdata, while a C library
//! raises a string, `luaL_error` prefixed with the position of the Lua code
//! that called it ("user_script:1: Expected value but found ..."), which
//! scripts see through `pcall` and Redis puts in its error reply. That
//! position only exists while the caller's frame does, and Lua 5.1 drops a
//! frame that tail-calls a Lua function (`return cjson.decode(s)`), so the
//! function a script calls has to be a C function. Each library function is
//! therefore a small C closure (`trampoline`) around the Rust body: the body
//! returns `true, results...` or `false, message`, and the trampoline returns
//! the results or raises the message as `luaL_error` would.
//!
//! mlua also rounds a Lua 5.1 number whose distance to an integer is below
//! `f64::EPSILON` to that integer when it becomes a `Value` (so `1e-20` and
//! `-0.0` arrive as `0`). Functions that serialise numbers (`cjson.encode`,
//! `cmsgpack.pack`, `struct.pack`) therefore receive their arguments packed in
//! a table, from which each number is read again as an `f64`, which mlua reads
//! exactly.

use std::os::raw::c_int;

use mlua::{ffi, Function, Lua, MultiValue, Table, Value};

use crate::arg::Args;
use crate::error::Result;

/// How a function wants its arguments.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Numbers {
    /// Rounding of near-integers does not matter (bit ops truncate anyway,
    /// parsers take strings): arguments are passed directly.
    Rounded,
    /// Numbers are serialised: arguments are re-read exactly.
    Exact,
}

/// Builds the Lua functions of one library.
pub(crate) struct Installer<'a> {
    lua: &'a Lua,
}

impl<'a> Installer<'a> {
    pub(crate) fn new(lua: &'a Lua) -> mlua::Result<Self> {
        Ok(Installer { lua })
    }

    /// Sets `lib[name]` to a function running `body`; `name` is also the
    /// function name that argument errors cite.
    pub(crate) fn add<F, R>(&self, lib: &Table, name: &'static str, numbers: Numbers, body: F) -> mlua::Result<()>
    where
        F: Fn(&Lua, Args) -> Result<R> + Send + 'static,
        R: Into<Returns>,
    {
        let raw = match numbers {
            Numbers::Rounded => self.lua.create_function(move |lua, values: MultiValue| {
                let args = Args::new(lua, name, values.into_iter().map(crate::arg::exact_number).collect());
                outcome(lua, body(lua, args))
            })?,
            Numbers::Exact => self.lua.create_function(move |lua, (count, packed): (usize, Table)| {
                let values = (1..=count).map(|i| crate::arg::exact_get(&packed, Value::Number(i as f64))).collect::<mlua::Result<Vec<_>>>()?;
                outcome(lua, body(lua, Args::new(lua, name, values)))
            })?,
        };
        let trampoline: ffi::lua_CFunction = match numbers {
            Numbers::Rounded => trampoline_direct,
            Numbers::Exact => trampoline_packed,
        };
        // SAFETY: the closure only pushes one C closure over the argument
        // exec_raw placed on the stack (the body), which it consumes as the
        // upvalue; the stack is left with exactly the returned function.
        let wrapped: Function = unsafe {
            self.lua.exec_raw(raw, |state| ffi::lua_pushcclosure(state, trampoline, 1))?
        };
        lib.raw_set(name, wrapped)
    }
}

/// Calls the body (upvalue 1) with this call's arguments and returns its
/// results, or raises its message with the caller's position.
///
/// # Safety
/// Only Lua calls it, as a C closure whose upvalue 1 is the body, created by
/// `Installer::add`. It holds no Rust value that needs dropping, so Lua's
/// longjmp-based errors may cross it (as they cross every mlua callback);
/// stack indices used are within what Lua guarantees a C function
/// (LUA_MINSTACK) or checked with lua_checkstack.
unsafe extern "C-unwind" fn trampoline_direct(state: *mut ffi::lua_State) -> c_int {
    let nargs = ffi::lua_gettop(state);
    ffi::lua_pushvalue(state, ffi::lua_upvalueindex(1));
    ffi::lua_insert(state, 1);
    ffi::lua_call(state, nargs, ffi::LUA_MULTRET);
    finish(state, 1)
}

/// As `trampoline_direct`, but the body receives `(count, {args...})`.
///
/// # Safety
/// As `trampoline_direct`.
unsafe extern "C-unwind" fn trampoline_packed(state: *mut ffi::lua_State) -> c_int {
    let nargs = ffi::lua_gettop(state);
    ffi::lua_createtable(state, nargs, 0);
    for i in 1..=nargs {
        ffi::lua_pushvalue(state, i);
        ffi::lua_rawseti(state, -2, i.into());
    }
    ffi::lua_pushvalue(state, ffi::lua_upvalueindex(1));
    ffi::lua_pushinteger(state, nargs as ffi::lua_Integer);
    ffi::lua_pushvalue(state, -3);
    // Leaves only the body's results above the original arguments and table.
    ffi::lua_call(state, 2, ffi::LUA_MULTRET);
    finish(state, nargs + 2)
}

/// The body's answer is on the stack from `first` (see `outcome`).
///
/// # Safety
/// Called by the trampolines only, with `first` a valid stack index.
unsafe fn finish(state: *mut ffi::lua_State, first: c_int) -> c_int {
    if ffi::lua_type(state, first) == ffi::LUA_TNUMBER {
        let count = ffi::lua_tointeger(state, first) as c_int;
        // Keep only the table, then spread it: the results get the whole
        // frame, as they had in the C function.
        ffi::lua_pushvalue(state, first + 1);
        ffi::lua_replace(state, 1);
        ffi::lua_settop(state, 1);
        if ffi::lua_checkstack(state, count) == 0 {
            ffi::lua_pushstring(state, c"stack overflow (too many return values at once; use unpack_one or unpack_limit instead.)".as_ptr());
            return raise(state, -1);
        }
        for i in 1..=count {
            ffi::lua_rawgeti(state, 1, i.into());
        }
        return count;
    }
    if ffi::lua_toboolean(state, first) != 0 {
        return ffi::lua_gettop(state) - first;
    }
    if ffi::lua_toboolean(state, first + 2) != 0 {
        // An error of the Lua core (a nil table key): raised inside a C
        // function it carries no position.
        ffi::lua_pushvalue(state, first + 1);
        ffi::lua_error(state)
    }
    raise(state, first + 1)
}

/// `luaL_error(L, "%s", msg)` for the message at `index` (absolute or
/// relative to the top before this call): prefixed with the
/// calling Lua code's "chunk:line:" when there is one.
///
/// # Safety
/// Called by the trampolines only, with `index` a valid stack index; does
/// not return (lua_error longjmps).
unsafe fn raise(state: *mut ffi::lua_State, index: c_int) -> c_int {
    let index = if index < 0 { ffi::lua_gettop(state) + index + 1 } else { index };
    ffi::luaL_where(state, 1);
    ffi::lua_pushvalue(state, index);
    ffi::lua_concat(state, 2);
    ffi::lua_error(state)
}

/// What a body returns.
pub(crate) enum Returns {
    Values(MultiValue),
    /// `count` results stored at 1..=count of the table: a body returning
    /// thousands of values would otherwise hold one mlua handle per value
    /// (see `handles`).
    Packed(Table, usize),
}

impl From<MultiValue> for Returns {
    fn from(v: MultiValue) -> Self {
        Returns::Values(v)
    }
}

/// The convention the trampoline unpacks: `true, results...`, or
/// `count, table` for packed results, or `false, message, raw` (raw: an
/// error of the Lua core, raised without the caller's position).
fn outcome<R: Into<Returns>>(lua: &Lua, result: Result<R>) -> mlua::Result<MultiValue> {
    match result.map(Into::into) {
        Ok(Returns::Values(mut values)) => {
            values.push_front(Value::Boolean(true));
            Ok(values)
        }
        Ok(Returns::Packed(table, count)) => Ok(MultiValue::from_iter([Value::Number(count as f64), Value::Table(table)])),
        Err(e) => {
            let raw = e.is_lua_core();
            let message = lua.create_string(e.into_lua_message())?;
            Ok(MultiValue::from_iter([Value::Boolean(false), Value::String(message), Value::Boolean(raw)]))
        }
    }
}
