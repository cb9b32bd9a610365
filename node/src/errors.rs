//! Command errors, with every Redis error string in one place.
//!
//! Handlers return `Err(CmdError)`; the dispatcher writes it as `-<Display>`.
//! The texts are Redis 7.0's, byte for byte, because clients and Redis's own
//! test suite match on them.

use std::fmt;

/// The reply to a command that cannot run while the dataset loads
/// (shared.loadingerr).
pub const LOADING: &str = "LOADING Redis is loading the dataset in memory";

#[derive(Debug, Clone, PartialEq)]
pub enum CmdError {
    WrongType,
    Syntax,
    NoSuchKey,
    NotInteger,
    NotFloat,
    OutOfRange,
    IndexOutOfRange,
    Overflow,
    IncrOverflow,
    NanOrInfinity,
    SameObject,
    BusyKey,
    NoAuth,
    /// `ERR wrong number of arguments for '<cmd>' command`.
    Arity(String),
    /// `ERR unknown subcommand '<sub>'. Try <CMD> HELP.`
    UnknownSubcommand { cmd: String, sub: String },
    /// Any other `ERR ...` text (the string excludes the "ERR " prefix).
    Err(String),
    /// An error with its own code, e.g. "WRONGPASS ...": the string is the
    /// whole text after '-'.
    Coded(String),
    /// Like `Coded`, for an error the error statistics already counted (a
    /// command's error that a script passed on as its own): the command
    /// still counts as failed.
    Uncounted(String),
}

impl CmdError {
    pub fn err(msg: impl Into<String>) -> Self {
        CmdError::Err(msg.into())
    }

    /// The error code (first word) Redis counts in INFO errorstats.
    pub fn code(&self) -> &str {
        match self {
            CmdError::WrongType => "WRONGTYPE",
            CmdError::BusyKey => "BUSYKEY",
            CmdError::NoAuth => "NOAUTH",
            CmdError::Coded(s) | CmdError::Uncounted(s) => s.split(' ').next().unwrap_or("ERR"),
            _ => "ERR",
        }
    }
}

impl fmt::Display for CmdError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use CmdError::*;
        match self {
            WrongType => f.write_str("WRONGTYPE Operation against a key holding the wrong kind of value"),
            Syntax => f.write_str("ERR syntax error"),
            NoSuchKey => f.write_str("ERR no such key"),
            NotInteger => f.write_str("ERR value is not an integer or out of range"),
            NotFloat => f.write_str("ERR value is not a valid float"),
            OutOfRange => f.write_str("ERR value is out of range"),
            IndexOutOfRange => f.write_str("ERR index out of range"),
            Overflow => f.write_str("ERR increment or decrement would overflow"),
            IncrOverflow => f.write_str("ERR increment would produce NaN or Infinity"),
            NanOrInfinity => f.write_str("ERR increment would produce NaN or Infinity"),
            SameObject => f.write_str("ERR source and destination objects are the same"),
            BusyKey => f.write_str("BUSYKEY Target key name already exists."),
            NoAuth => f.write_str("NOAUTH Authentication required."),
            Arity(cmd) => write!(f, "ERR wrong number of arguments for '{cmd}' command"),
            UnknownSubcommand { cmd, sub } => {
                write!(f, "ERR unknown subcommand '{}'. Try {} HELP.", truncate(sub, 128), cmd.to_uppercase())
            }
            Err(msg) => write!(f, "ERR {msg}"),
            Coded(msg) | Uncounted(msg) => f.write_str(msg),
        }
    }
}

fn truncate(s: &str, n: usize) -> &str {
    if s.len() <= n {
        return s;
    }
    let mut end = n;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

pub type CmdResult = Result<(), CmdError>;
