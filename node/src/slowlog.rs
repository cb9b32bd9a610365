//! The slow log (Redis's slowlog.c): the most recent commands whose run took
//! at least `slowlog-log-slower-than` microseconds, newest first, at most
//! `slowlog-max-len` of them, read with SLOWLOG GET (see `cmd::slowlog`).
//!
//! An entry keeps a trimmed copy of the command (at most [`MAX_ARGC`]
//! arguments of at most [`MAX_ARG_LEN`] bytes, secrets already replaced by
//! `(redacted)`), so a huge MSET costs the log a few kilobytes, not its size.
//! Which commands are logged, with which arguments and duration, is the
//! dispatcher's business; this module only keeps the list.

use std::collections::VecDeque;

/// Arguments kept per entry (SLOWLOG_ENTRY_MAX_ARGC); the last one kept
/// says how many were left out.
pub const MAX_ARGC: usize = 32;
/// Bytes kept per argument (SLOWLOG_ENTRY_MAX_STRING).
pub const MAX_ARG_LEN: usize = 128;
/// What a secret argument is logged as.
pub const REDACTED: &[u8] = b"(redacted)";

/// One logged command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Unique for the life of the process; RESET does not restart it.
    pub id: u64,
    /// Unix seconds when it was logged.
    pub time: i64,
    pub duration_us: u64,
    /// The command as logged: trimmed, secrets redacted.
    pub argv: Vec<Vec<u8>>,
    /// The client's `ip:port`.
    pub peer: String,
    /// The client's name, empty for none.
    pub name: Vec<u8>,
}

/// Who ran a logged command, and when it was logged.
pub struct Origin<'a> {
    pub time: i64,
    pub peer: String,
    pub name: &'a [u8],
}

pub struct SlowLog {
    /// Newest first.
    entries: VecDeque<Entry>,
    next_id: u64,
    /// Durations at or above this are logged. A negative
    /// `slowlog-log-slower-than` (disabled) is kept as `u64::MAX`, which no
    /// duration reaches, so that telling whether a command is slow is a
    /// single comparison on every command.
    threshold_us: u64,
    max_len: usize,
}

impl Default for SlowLog {
    fn default() -> Self {
        // Redis's defaults; `configure` applies the real values at start.
        SlowLog { entries: VecDeque::new(), next_id: 0, threshold_us: 10_000, max_len: 128 }
    }
}

impl SlowLog {
    /// Apply `slowlog-log-slower-than` and `slowlog-max-len`.
    ///
    /// Redis trims the log to its length after every command it considers
    /// logging, which includes the CONFIG SET that shortened it, but not
    /// while the log is disabled: trimming here, once, when enabled, leaves
    /// the log exactly as long as Redis's after every command.
    pub fn configure(&mut self, slower_than_us: i64, max_len: i64) {
        self.threshold_us = u64::try_from(slower_than_us).unwrap_or(u64::MAX);
        self.max_len = usize::try_from(max_len).unwrap_or(0);
        if self.enabled() {
            self.entries.truncate(self.max_len);
        }
    }

    fn enabled(&self) -> bool {
        self.threshold_us != u64::MAX
    }

    /// Whether a command that took `duration_us` is to be logged.
    #[inline]
    pub fn is_slow(&self, duration_us: u64) -> bool {
        duration_us >= self.threshold_us
    }

    /// Log a command that [`is_slow`](Self::is_slow): `argv` is every
    /// argument, `secret(i)` tells whether argument `i` is to be redacted.
    /// The id is used even when `slowlog-max-len` is 0 and the entry goes
    /// at once, as in Redis.
    pub fn push<'a>(
        &mut self,
        argv: impl ExactSizeIterator<Item = &'a [u8]>,
        secret: impl Fn(usize) -> bool,
        duration_us: u64,
        origin: Origin<'_>,
    ) {
        let entry = Entry {
            id: self.next_id,
            time: origin.time,
            duration_us,
            argv: trimmed(argv, secret),
            peer: origin.peer,
            name: origin.name.to_vec(),
        };
        self.next_id += 1;
        self.entries.push_front(entry);
        self.entries.truncate(self.max_len);
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// SLOWLOG RESET: drop every entry (ids go on from where they were).
    pub fn reset(&mut self) {
        self.entries.clear();
    }

    /// The entries, newest first.
    pub fn newest(&self) -> impl Iterator<Item = &Entry> {
        self.entries.iter()
    }
}

/// The arguments as an entry keeps them (slowlogCreateEntry): past
/// [`MAX_ARGC`] the last slot kept counts the rest, and each argument is cut
/// at [`MAX_ARG_LEN`] bytes with a note of how many were cut.
fn trimmed<'a>(argv: impl ExactSizeIterator<Item = &'a [u8]>, secret: impl Fn(usize) -> bool) -> Vec<Vec<u8>> {
    let argc = argv.len();
    let kept = argc.min(MAX_ARGC);
    let mut out = Vec::with_capacity(kept);
    for (i, a) in argv.take(kept).enumerate() {
        if kept != argc && i == kept - 1 {
            out.push(format!("... ({} more arguments)", argc - kept + 1).into_bytes());
        } else if secret(i) {
            out.push(REDACTED.to_vec());
        } else if a.len() > MAX_ARG_LEN {
            let mut s = a[..MAX_ARG_LEN].to_vec();
            s.extend_from_slice(format!("... ({} more bytes)", a.len() - MAX_ARG_LEN).as_bytes());
            out.push(s);
        } else {
            out.push(a.to_vec());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn origin() -> Origin<'static> {
        Origin { time: 1_700_000_000, peer: "127.0.0.1:5000".into(), name: b"app" }
    }

    fn push(log: &mut SlowLog, argv: &[&[u8]], duration_us: u64) {
        log.push(argv.iter().copied(), |_| false, duration_us, origin());
    }

    fn log_of(slower_than: i64, max_len: i64) -> SlowLog {
        let mut log = SlowLog::default();
        log.configure(slower_than, max_len);
        log
    }

    #[test]
    fn threshold_is_inclusive_zero_logs_all_negative_none() {
        let log = log_of(100, 10);
        assert!(!log.is_slow(99));
        assert!(log.is_slow(100));
        assert!(log_of(0, 10).is_slow(0));
        let off = log_of(-1, 10);
        assert!(!off.is_slow(u64::MAX - 1));
    }

    #[test]
    fn newest_first_with_ids_and_origin() {
        let mut log = log_of(0, 10);
        push(&mut log, &[b"get", b"a"], 5);
        push(&mut log, &[b"set", b"a", b"1"], 7);
        let e: Vec<&Entry> = log.newest().collect();
        assert_eq!(e.len(), 2);
        assert_eq!((e[0].id, e[0].duration_us, e[0].argv.clone()), (1, 7, vec![b"set".to_vec(), b"a".to_vec(), b"1".to_vec()]));
        assert_eq!(e[1].id, 0);
        assert_eq!((e[0].time, e[0].peer.as_str(), e[0].name.as_slice()), (1_700_000_000, "127.0.0.1:5000", &b"app"[..]));
    }

    #[test]
    fn max_len_drops_oldest_and_ids_go_on_after_reset() {
        let mut log = log_of(0, 3);
        for _ in 0..5 {
            push(&mut log, &[b"ping"], 1);
        }
        assert_eq!(log.newest().map(|e| e.id).collect::<Vec<_>>(), vec![4, 3, 2]);
        log.reset();
        assert!(log.is_empty());
        push(&mut log, &[b"ping"], 1);
        assert_eq!(log.newest().next().map(|e| e.id), Some(5));
    }

    #[test]
    fn max_len_zero_keeps_nothing_but_uses_ids() {
        let mut log = log_of(0, 0);
        push(&mut log, &[b"ping"], 1);
        assert_eq!(log.len(), 0);
        log.configure(0, 1);
        push(&mut log, &[b"ping"], 1);
        assert_eq!(log.newest().next().map(|e| e.id), Some(1));
    }

    #[test]
    fn shortening_trims_only_while_enabled() {
        let mut log = log_of(0, 5);
        for _ in 0..5 {
            push(&mut log, &[b"ping"], 1);
        }
        log.configure(-1, 2);
        assert_eq!(log.len(), 5);
        log.configure(10, 2);
        assert_eq!(log.len(), 2);
    }

    #[test]
    fn too_many_arguments_end_with_a_count() {
        let mut log = log_of(0, 1);
        let args: Vec<Vec<u8>> = (0..35).map(|i| i.to_string().into_bytes()).collect();
        log.push(args.iter().map(|a| a.as_slice()), |_| false, 1, origin());
        let argv = &log.newest().next().unwrap().argv;
        assert_eq!(argv.len(), MAX_ARGC);
        assert_eq!(argv[30], b"30");
        assert_eq!(argv[31], b"... (4 more arguments)");
        // Exactly 32 is kept whole.
        let args: Vec<Vec<u8>> = (0..32).map(|i| i.to_string().into_bytes()).collect();
        log.push(args.iter().map(|a| a.as_slice()), |_| false, 1, origin());
        assert_eq!(log.newest().next().unwrap().argv[31], b"31");
    }

    #[test]
    fn long_arguments_are_cut() {
        let mut log = log_of(0, 1);
        let long = vec![b'A'; 129];
        let exact = vec![b'B'; 128];
        push(&mut log, &[b"set", &exact, &long], 1);
        let argv = &log.newest().next().unwrap().argv;
        assert_eq!(argv[1], exact);
        let mut want = vec![b'A'; 128];
        want.extend_from_slice(b"... (1 more bytes)");
        assert_eq!(argv[2], want);
    }

    #[test]
    fn secrets_are_redacted_whatever_their_length() {
        let mut log = log_of(0, 1);
        let long = vec![b'p'; 500];
        log.push([&b"auth"[..], b"user", &long].into_iter(), |i| i >= 1, 1, origin());
        assert_eq!(log.newest().next().unwrap().argv, vec![b"auth".to_vec(), REDACTED.to_vec(), REDACTED.to_vec()]);
    }
}
