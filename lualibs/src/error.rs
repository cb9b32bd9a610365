//! The error a library function raises, worded as Lua 5.1's auxiliary library
//! and the C libraries word it, so scripts see Redis's exact messages.

use std::fmt;

/// A failure inside one of the library functions. The callback layer turns it
/// into a plain Lua string error (no position prefix, as a C function's
/// `luaL_error` has none).
#[derive(Debug)]
pub(crate) enum Error {
    /// `luaL_argerror`: "bad argument #N to 'func' (msg)".
    Arg { narg: usize, func: &'static str, msg: String },
    /// `luaL_error` with a message the library formatted.
    Message(String),
    /// A failure from the Lua runtime itself (a metamethod raised, memory).
    Lua(mlua::Error),
}

impl Error {
    pub(crate) fn arg(narg: usize, func: &'static str, msg: impl Into<String>) -> Self {
        Error::Arg { narg, func, msg: msg.into() }
    }

    /// `luaL_typerror`: what `luaL_check*` raise for a value of the wrong type.
    pub(crate) fn type_mismatch(narg: usize, func: &'static str, expected: &str, got: &str) -> Self {
        Error::arg(narg, func, format!("{expected} expected, got {got}"))
    }

    pub(crate) fn msg(msg: impl Into<String>) -> Self {
        Error::Message(msg.into())
    }

    /// An error the Lua core raised in one of our operations (no position
    /// is added to it, as none is in Redis's C library).
    pub(crate) fn is_lua_core(&self) -> bool {
        matches!(self, Error::Lua(mlua::Error::RuntimeError(_)))
    }

    /// The text a script receives as the error value.
    pub(crate) fn into_lua_message(self) -> String {
        match self {
            Error::Lua(e) => lua_error_text(&e),
            other => other.to_string(),
        }
    }
}

/// The message a Lua-raised error carried, without mlua's wrapping, so an
/// error from a metamethod called by a library reaches the script unchanged.
fn lua_error_text(e: &mlua::Error) -> String {
    match e {
        mlua::Error::RuntimeError(s) => bare_runtime_message(s),
        mlua::Error::MemoryError(s) | mlua::Error::SyntaxError { message: s, .. } => s.clone(),
        mlua::Error::CallbackError { cause, .. } => lua_error_text(cause),
        other => other.to_string(),
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Arg { narg, func, msg } => write!(f, "bad argument #{narg} to '{func}' ({msg})"),
            Error::Message(m) => f.write_str(m),
            Error::Lua(e) => f.write_str(&lua_error_text(e)),
        }
    }
}

/// A runtime error the Lua core raised inside one of our operations (a nil
/// table key...), as Redis's C library gets it: mlua runs the operation
/// under the script's frames, so the text gains the script's position and a
/// traceback that a C function's raise would not have.
fn bare_runtime_message(s: &str) -> String {
    let s = s.split("\nstack traceback:").next().unwrap_or(s);
    // "chunk:line: message" -> "message"
    if let Some((head, rest)) = s.split_once(": ") {
        if let Some((_, line)) = head.rsplit_once(':') {
            if !line.is_empty() && line.bytes().all(|b| b.is_ascii_digit()) && !head.contains(' ') {
                return rest.to_string();
            }
        }
    }
    s.to_string()
}

impl From<mlua::Error> for Error {
    fn from(e: mlua::Error) -> Self {
        Error::Lua(e)
    }
}

pub(crate) type Result<T> = std::result::Result<T, Error>;
