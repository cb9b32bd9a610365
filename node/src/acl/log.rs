//! The ACL log: recent refusals and failed logins, newest first, similar
//! events within a minute folded into one entry (acl.c's ACL log).

use std::collections::VecDeque;

/// Why an entry was logged (ACL LOG's `reason`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    Command,
    Key,
    Channel,
    Auth,
}

impl Reason {
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::Command => "command",
            Reason::Key => "key",
            Reason::Channel => "channel",
            Reason::Auth => "auth",
        }
    }
}

/// Where it happened (ACL LOG's `context`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Context {
    Toplevel,
    Multi,
    Lua,
}

impl Context {
    pub fn as_str(self) -> &'static str {
        match self {
            Context::Toplevel => "toplevel",
            Context::Multi => "multi",
            Context::Lua => "lua",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Entry {
    pub count: u64,
    pub reason: Reason,
    pub context: Context,
    /// The command, key, channel, or AUTH/HELLO as typed.
    pub object: Vec<u8>,
    pub username: Vec<u8>,
    /// When it last happened, in ms.
    pub ctime_ms: i64,
    /// CLIENT INFO of the last client it happened to.
    pub client_info: String,
}

/// Events this close in time fold into one entry.
const GROUPING_MAX_MS: i64 = 60_000;
/// How many recent entries are searched for one to fold into.
const GROUPING_SCAN: usize = 10;

#[derive(Debug, Default)]
pub struct AclLog {
    /// Newest first.
    pub entries: VecDeque<Entry>,
}

impl AclLog {
    /// Record an event (addACLLogEntry): fold it into a similar recent
    /// entry, moved to the front, or add it and trim to `max_len`.
    pub fn add(&mut self, e: Entry, max_len: usize) {
        let similar = self.entries.iter().take(GROUPING_SCAN).position(|old| {
            old.reason == e.reason
                && old.context == e.context
                && (old.ctime_ms - e.ctime_ms).abs() <= GROUPING_MAX_MS
                && old.object == e.object
                && old.username == e.username
        });
        match similar.and_then(|i| self.entries.remove(i)) {
            Some(mut old) => {
                old.count += 1;
                old.ctime_ms = e.ctime_ms;
                old.client_info = e.client_info;
                self.entries.push_front(old);
            }
            None => {
                self.entries.push_front(e);
                self.entries.truncate(max_len);
            }
        }
    }

    pub fn reset(&mut self) {
        self.entries.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(object: &str, ms: i64) -> Entry {
        Entry {
            count: 1,
            reason: Reason::Command,
            context: Context::Toplevel,
            object: object.as_bytes().to_vec(),
            username: b"u".to_vec(),
            ctime_ms: ms,
            client_info: String::new(),
        }
    }

    #[test]
    fn folds_similar_events_and_trims() {
        let mut log = AclLog::default();
        log.add(entry("get", 0), 5);
        log.add(entry("set", 10), 5);
        log.add(entry("get", 20), 5);
        assert_eq!(log.entries.len(), 2);
        assert_eq!((log.entries[0].object.as_slice(), log.entries[0].count), (&b"get"[..], 2));
        log.add(entry("get", 100_000), 5);
        assert_eq!(log.entries.len(), 3, "a minute later is a new entry");
        for i in 0..10 {
            log.add(entry(&format!("c{i}"), 0), 5);
        }
        assert_eq!(log.entries.len(), 5);
    }
}
