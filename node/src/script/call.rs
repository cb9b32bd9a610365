//! redis.call and redis.pcall (luaRedisGenericCommand) as raw Lua C
//! functions. A script's commands are EVALSHA's hot path, and an mlua
//! callback costs the VM's lock, a registry reference per argument and an
//! allocation for the argument list; these read the arguments straight off
//! the Lua stack into the run state's buffer and push the reply straight
//! back (see [`super::convert::push_reply`]).
//!
//! # Errors and longjmp
//! Lua raises errors with longjmp, which skips Rust destructors. The Rust
//! frames here own nothing that needs dropping whenever they call into
//! Lua: messages go through the run state's buffers, and `lua_error` is
//! called from the outermost frame once everything else is done. A panic
//! in a command is caught before it reaches Lua's C frames and handed to
//! the EVAL handler, which resumes it once the script is unwound.

use std::ffi::{c_int, c_void};
use std::io::Write;
use std::panic::AssertUnwindSafe;

use corvid_proto::resp::{format_g, ArgVec};
use mlua::{ffi, Function, Lua};

use super::convert::{push_error_table, push_reply};
use super::{RunCell, RunState};

/// The C function `f` as a Lua function holding `cell` as its upvalue.
///
/// # Safety
/// `cell` outlives the VM: it is the one in the VM's app data.
pub(super) unsafe fn closure(lua: &Lua, f: ffi::lua_CFunction, cell: *const RunCell) -> mlua::Result<Function> {
    lua.exec_raw::<Function>((), |l| {
        ffi::lua_pushlightuserdata(l, cell as *mut c_void);
        ffi::lua_pushcclosure(l, f, 1);
    })
}

/// redis.call: a command's error is raised.
pub(super) unsafe extern "C-unwind" fn redis_call(l: *mut ffi::lua_State) -> c_int {
    generic(l, true)
}

/// redis.pcall: a command's error is returned as a table.
pub(super) unsafe extern "C-unwind" fn redis_pcall(l: *mut ffi::lua_State) -> c_int {
    generic(l, false)
}

/// What [`command`] left on the stack.
enum Outcome {
    /// The command's reply.
    Reply,
    /// An error table: raised by redis.call, returned by redis.pcall.
    Failed,
    /// An error table that both raise.
    Raise,
}

unsafe fn generic(l: *mut ffi::lua_State, raise: bool) -> c_int {
    let cell = ffi::lua_touserdata(l, ffi::lua_upvalueindex(1)) as *const RunCell;
    let st = (*cell).get();
    let outcome = match std::panic::catch_unwind(AssertUnwindSafe(|| command(l, &mut *st))) {
        Ok(outcome) => outcome,
        Err(payload) => {
            (*st).panic = Some(payload);
            push_error_table(l, b"A command called from the script panicked", false);
            Outcome::Raise
        }
    };
    match outcome {
        Outcome::Reply => 1,
        Outcome::Failed if !raise => 1,
        Outcome::Failed | Outcome::Raise => ffi::lua_error(l),
    }
}

/// Run the command the arguments on the stack name, as the script's
/// client, and push its reply or error (luaRedisGenericCommand).
unsafe fn command(l: *mut ffi::lua_State, st: &mut RunState) -> Outcome {
    if st.srv.0.is_null() {
        push_error_table(l, b"redis.call/pcall can only be called inside a script invocation", false);
        return Outcome::Raise;
    }
    let read = read_args(l, &mut st.argv);
    // The arguments are copied: popping them leaves the reply room, however
    // many there were (a script may pass thousands with unpack).
    ffi::lua_settop(l, 0);
    // Under the debugger, while stepping, the command, its errors and its
    // reply are logged (luaRedisGenericCommand with ldbIsEnabled()).
    let ldb = st.ldb.as_deref_mut().filter(|s| s.logging());
    if let Err(msg) = read {
        if let Some(s) = ldb {
            s.log_error(msg);
        }
        push_error_table(l, msg, false);
        return Outcome::Failed;
    }
    if let Some(s) = ldb {
        s.log_command(&st.argv);
    }
    // SAFETY: see ServerPtr; the EVAL handler waits for the script.
    let srv = &mut *st.srv.0;
    st.reply.buf.clear();
    if let Err(e) = super::call_command(srv, st) {
        if let Some(s) = st.ldb.as_deref_mut().filter(|s| s.logging()) {
            s.log_refusal(&e);
        }
        st.err.clear();
        let _ = write!(st.err, "-{e}");
        drop(e);
        // Counted where it was refused.
        push_error_table(l, &st.err, true);
        return Outcome::Failed;
    }
    if let Some(s) = st.ldb.as_deref_mut().filter(|s| s.logging()) {
        let reply = &st.reply.buf;
        if reply.first() == Some(&b'-') {
            s.log_error(&reply[..reply.len().saturating_sub(2)]);
        }
        s.log_reply(reply);
    }
    let reply = &st.reply.buf;
    if reply.first() == Some(&b'-') {
        push_error_table(l, &reply[..reply.len().saturating_sub(2)], true);
        return Outcome::Failed;
    }
    let top = ffi::lua_gettop(l);
    if push_reply(l, reply).is_err() {
        ffi::lua_settop(l, top);
        push_error_table(l, b"Malformed reply from a command called from the script", false);
        return Outcome::Raise;
    }
    Outcome::Reply
}

/// The call's arguments, from the Lua stack (luaArgsToRedisArgv); the
/// error names what is wrong with them.
unsafe fn read_args(l: *mut ffi::lua_State, argv: &mut ArgVec) -> Result<(), &'static [u8]> {
    argv.clear();
    let argc = ffi::lua_gettop(l);
    if argc == 0 {
        return Err(b"Please specify at least one argument for this redis lib call");
    }
    for i in 1..=argc {
        match ffi::lua_type(l, i) {
            // Not lua_tolstring: Lua's "%.14g" loses precision.
            ffi::LUA_TNUMBER => push_number(argv, ffi::lua_tonumber(l, i)),
            ffi::LUA_TSTRING => {
                let mut len = 0;
                let p = ffi::lua_tolstring(l, i, &mut len);
                argv.push(std::slice::from_raw_parts(p.cast::<u8>(), len));
            }
            _ => return Err(b"Lua redis lib command arguments must be strings or integers"),
        }
    }
    Ok(())
}

/// A number argument as Redis formats it, "%.17g".
fn push_number(argv: &mut ArgVec, n: f64) {
    // Whole numbers print as integers under %.17g up to 17 digits; -0
    // keeps its sign.
    if n.fract() == 0.0 && n.abs() < 1e17 && !(n == 0.0 && n.is_sign_negative()) {
        argv.push(itoa::Buffer::new().format(n as i64).as_bytes());
    } else {
        argv.push(format_g(n, 17).as_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_as_redis_formats_them() {
        let mut argv = ArgVec::default();
        for n in [1.0, -7.0, 0.5, 1e17, 123456789012345678.0, -0.0, 3.14] {
            push_number(&mut argv, n);
        }
        let args = argv.args();
        let got: Vec<&[u8]> = args.iter().collect();
        let want: Vec<&[u8]> = vec![b"1", b"-7", b"0.5", b"1e+17", b"1.2345678901234568e+17", b"-0", b"3.1400000000000001"];
        assert_eq!(got, want);
    }
}
