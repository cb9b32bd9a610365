//! Lua values as the debugger shows them (ldbCatStackValue): strings
//! quoted, numbers as "%g", tables as `{1; 2}` when they read as arrays and
//! `{["k"]=v}` otherwise, other objects as `"type@address"`. Nested tables
//! stop at Redis's depth limit, so a table that holds itself terminates.

use std::ffi::c_int;

use mlua::ffi;

use super::render;

/// Nesting levels shown at most (LUA_MINSTACK/2).
const MAX_DEPTH: u32 = (ffi::LUA_MINSTACK / 2) as u32;

/// Append the value at `idx` of `l`'s stack; the stack is left as it was.
///
/// # Safety
/// `l` is a live state and `idx` a valid index in it.
pub unsafe fn cat_value(out: &mut Vec<u8>, l: *mut ffi::lua_State, idx: c_int) {
    let idx = absolute(l, idx);
    cat_rec(out, l, idx, 0);
}

unsafe fn absolute(l: *mut ffi::lua_State, idx: c_int) -> c_int {
    if idx < 0 && idx > ffi::LUA_REGISTRYINDEX {
        ffi::lua_gettop(l) + idx + 1
    } else {
        idx
    }
}

unsafe fn cat_rec(out: &mut Vec<u8>, l: *mut ffi::lua_State, idx: c_int, level: u32) {
    if level == MAX_DEPTH {
        out.extend_from_slice(b"<max recursion level reached! Nested table?>");
        return;
    }
    let level = level + 1;
    match ffi::lua_type(l, idx) {
        ffi::LUA_TSTRING => {
            let mut len = 0;
            let p = ffi::lua_tolstring(l, idx, &mut len);
            render::repr(out, std::slice::from_raw_parts(p.cast::<u8>(), len));
        }
        ffi::LUA_TBOOLEAN => out.extend_from_slice(if ffi::lua_toboolean(l, idx) != 0 { b"true" } else { b"false" }),
        ffi::LUA_TNUMBER => out.extend_from_slice(render::number(ffi::lua_tonumber(l, idx)).as_bytes()),
        ffi::LUA_TNIL => out.extend_from_slice(b"nil"),
        ffi::LUA_TTABLE => cat_table(out, l, idx, level),
        t @ (ffi::LUA_TFUNCTION | ffi::LUA_TUSERDATA | ffi::LUA_TTHREAD | ffi::LUA_TLIGHTUSERDATA) => {
            let name = match t {
                ffi::LUA_TFUNCTION => "function",
                ffi::LUA_TUSERDATA => "userdata",
                ffi::LUA_TTHREAD => "thread",
                _ => "light-userdata",
            };
            let p = ffi::lua_topointer(l, idx);
            out.extend_from_slice(format!("\"{name}@{p:p}\"").as_bytes());
        }
        _ => out.extend_from_slice(b"\"<unknown-lua-type>\""),
    }
}

/// Both forms are built while walking the table, as Redis does, and the
/// array one is kept if every key was 1, 2, 3... in the walk's order.
unsafe fn cat_table(out: &mut Vec<u8>, l: *mut ffi::lua_State, idx: c_int, level: u32) {
    if ffi::lua_checkstack(l, 2) == 0 {
        out.extend_from_slice(b"<max recursion level reached! Nested table?>");
        return;
    }
    let mut as_array = Vec::new();
    let mut as_map = Vec::new();
    let mut is_array = true;
    let mut expected = 1.0;
    ffi::lua_pushnil(l);
    while ffi::lua_next(l, idx) != 0 {
        let (key, value) = (ffi::lua_gettop(l) - 1, ffi::lua_gettop(l));
        if is_array && (ffi::lua_type(l, key) != ffi::LUA_TNUMBER || ffi::lua_tonumber(l, key) != expected) {
            is_array = false;
        }
        cat_rec(&mut as_array, l, value, level);
        as_array.extend_from_slice(b"; ");
        as_map.push(b'[');
        cat_rec(&mut as_map, l, key, level);
        as_map.extend_from_slice(b"]=");
        cat_rec(&mut as_map, l, value, level);
        as_map.extend_from_slice(b"; ");
        ffi::lua_settop(l, -2);
        expected += 1.0;
    }
    let chosen = if is_array { &mut as_array } else { &mut as_map };
    let keep = chosen.len().saturating_sub(2);
    chosen.truncate(keep);
    out.push(b'{');
    out.extend_from_slice(chosen);
    out.push(b'}');
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The rendering of the value `expr` evaluates to.
    fn show(expr: &str) -> String {
        let lua = mlua::Lua::new();
        let f = lua.load(format!("return {expr}")).into_function().unwrap();
        let mut out = Vec::new();
        // SAFETY: the function's result is on the stack while it is read.
        unsafe {
            lua.exec_raw::<()>(f, |l| {
                ffi::lua_call(l, 0, 1);
                cat_value(&mut out, l, -1);
                ffi::lua_settop(l, -2);
            })
            .unwrap();
        }
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn scalars() {
        assert_eq!(show("'a\\nb'"), "\"a\\nb\"");
        assert_eq!(show("3.5"), "3.5");
        assert_eq!(show("10"), "10");
        assert_eq!(show("nil"), "nil");
        assert_eq!(show("true"), "true");
        assert!(show("print").starts_with("\"function@0x"));
    }

    #[test]
    fn tables() {
        assert_eq!(show("{}"), "{}");
        assert_eq!(show("{1, 2, {x='y'}}"), "{1; 2; {[\"x\"]=\"y\"}}");
        assert_eq!(show("{[2]='b'}"), "{[2]=\"b\"}");
    }

    #[test]
    fn a_table_holding_itself_stops() {
        let lua = mlua::Lua::new();
        let f = lua.load("local t = {} t[1] = t return t").into_function().unwrap();
        let mut out = Vec::new();
        // SAFETY: as in show().
        unsafe {
            lua.exec_raw::<()>(f, |l| {
                ffi::lua_call(l, 0, 1);
                cat_value(&mut out, l, -1);
            })
            .unwrap();
        }
        let s = String::from_utf8(out).unwrap();
        assert_eq!(s, format!("{}<max recursion level reached! Nested table?>{}", "{".repeat(10), "}".repeat(10)));
    }
}
