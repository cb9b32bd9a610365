//! Wall-clock time as Redis uses it: unix milliseconds and microseconds.

use std::time::{SystemTime, UNIX_EPOCH};

pub fn now_ms() -> i64 {
    now_us() / 1000
}

pub fn now_us() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_micros() as i64).unwrap_or(0)
}

pub fn now_secs() -> i64 {
    now_ms() / 1000
}

/// The clock of commands run back to back (a batch of one client's
/// pipeline, under one lock): each command's end is the next one's start,
/// so timing a command costs one clock read where timing it alone, as
/// Redis's call() does, costs two. A batch gets a new one, so its first
/// command reads the clock afresh.
#[derive(Debug, Default)]
pub struct BatchClock {
    last_end_us: Option<i64>,
}

impl BatchClock {
    /// When a command starts: when the previous one ended, or now.
    pub fn start_us(&mut self) -> i64 {
        self.last_end_us.take().unwrap_or_else(now_us)
    }

    /// When the command under way ends (and the next one starts).
    pub fn end_us(&mut self) -> i64 {
        let now = now_us();
        self.last_end_us = Some(now);
        now
    }
}
