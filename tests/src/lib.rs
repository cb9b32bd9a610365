//! Black-box test harness: starts the real `corvid-node` binary on a free loopback port
//! and talks to it over real TCP, with raw RESP bytes where the exact reply is the point
//! and with real clients (`redis` crate, `redis-cli`) for behaviour.
//!
//! Any binary that behaves like `redis-server` 7.0 can stand in: `CORVID_NODE_BIN=/usr/bin/redis-server
//! cargo test -p corvid-tests` runs every test against Redis itself, which is how the
//! tests themselves are checked.
//!
//! # Layout
//! - [`server`]: [`Server`], one node process in a fresh temp dir, killed and cleaned up on drop;
//!   also start-up failure checks and `redis-cli` runs.
//! - [`raw`]: [`RawConn`], a plain TCP connection for exact bytes, and [`Reply`], one reply's bytes.
//! - [`frame`]: where one RESP2/RESP3 reply ends in a byte buffer.
//!
//! Time-dependent behaviour (expiry) is observed with [`eventually`], which polls with a
//! deadline instead of sleeping a fixed time.

pub mod frame;
pub mod raw;
pub mod server;

pub use raw::{multibulk, RawConn, Reply};
pub use server::{fresh_dir, free_port, node_binary, reference_binary, Server};

use std::time::{Duration, Instant};

/// Polls `check` every few milliseconds until it returns true; panics naming `what` if it
/// still has not after `within`.
pub fn eventually(within: Duration, what: &str, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + within;
    loop {
        if check() {
            return;
        }
        if Instant::now() >= deadline {
            panic!("{what}: still not true after {within:?}");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// The value of `field` in an `INFO` reply (`field:value` lines), if present.
pub fn info_field<'a>(info: &'a str, field: &str) -> Option<&'a str> {
    info.lines().find_map(|line| {
        let (name, value) = line.trim_end_matches('\r').split_once(':')?;
        (name == field).then_some(value)
    })
}

/// Bytes from a hex string (payloads captured from Redis, written as hex in tests).
pub fn from_hex(hex: &str) -> Vec<u8> {
    (0..hex.len()).step_by(2).map(|i| u8::from_str_radix(&hex[i..i + 2], 16).expect("hex digits")).collect()
}
