//! The replication backlog: the last `repl-backlog-size` bytes of the
//! replication stream, so that a replica whose link dropped can ask for
//! what it missed (PSYNC replid offset) instead of a whole new snapshot.
//!
//! Offsets are Redis's: the stream's first byte is offset 1, and
//! `master_repl_offset` is the offset of the last byte produced. The backlog
//! holds the `histlen` bytes ending there; the first of them is
//! `repl_backlog_first_byte_offset`.

/// A ring of stream bytes.
pub struct Backlog {
    ring: Vec<u8>,
    /// Where the next byte goes in `ring`.
    head: usize,
    /// Bytes held (at most `ring.len()`).
    histlen: usize,
    /// The stream offset of the last byte held (master_repl_offset when the
    /// backlog is fed with every byte).
    end_offset: u64,
}

impl Backlog {
    /// An empty backlog of `size` bytes whose next byte will be offset
    /// `end_offset + 1`.
    pub fn new(size: usize, end_offset: u64) -> Backlog {
        Backlog { ring: vec![0; size.max(1)], head: 0, histlen: 0, end_offset }
    }

    pub fn size(&self) -> usize {
        self.ring.len()
    }

    pub fn histlen(&self) -> usize {
        self.histlen
    }

    /// The offset of the first byte held (Redis reports `end + 1` when it
    /// holds none).
    pub fn first_byte_offset(&self) -> u64 {
        self.end_offset + 1 - self.histlen as u64
    }

    /// Append stream bytes.
    pub fn feed(&mut self, mut bytes: &[u8]) {
        self.end_offset += bytes.len() as u64;
        let size = self.ring.len();
        if bytes.len() > size {
            bytes = &bytes[bytes.len() - size..];
        }
        let first = (size - self.head).min(bytes.len());
        self.ring[self.head..self.head + first].copy_from_slice(&bytes[..first]);
        self.ring[..bytes.len() - first].copy_from_slice(&bytes[first..]);
        self.head = (self.head + bytes.len()) % size;
        self.histlen = (self.histlen + bytes.len()).min(size);
    }

    /// The bytes from stream offset `from` to the end, if the backlog holds
    /// them all (`from` may be one past the end: nothing to send).
    pub fn since(&self, from: u64) -> Option<Vec<u8>> {
        if from < self.first_byte_offset() || from > self.end_offset + 1 {
            return None;
        }
        let len = (self.end_offset + 1 - from) as usize;
        let size = self.ring.len();
        let start = (self.head + size - len) % size;
        let mut out = Vec::with_capacity(len);
        let first = (size - start).min(len);
        out.extend_from_slice(&self.ring[start..start + first]);
        out.extend_from_slice(&self.ring[..len - first]);
        Some(out)
    }

    /// The same bytes, `delta` further on in the stream (a restarted master
    /// continuing the offsets its file was saved at).
    pub fn rebase(&mut self, delta: u64) {
        self.end_offset += delta;
    }

    /// CONFIG SET repl-backlog-size: keep the newest bytes that fit
    /// (resizeReplicationBacklog).
    pub fn resize(&mut self, size: usize) {
        let size = size.max(1);
        if size == self.ring.len() {
            return;
        }
        let keep = self.histlen.min(size);
        let tail = self.since(self.end_offset + 1 - keep as u64).unwrap_or_default();
        let end = self.end_offset;
        *self = Backlog::new(size, end - keep as u64);
        self.feed(&tail);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_newest_bytes_and_their_offsets() {
        let mut b = Backlog::new(8, 0);
        assert_eq!(b.first_byte_offset(), 1);
        assert_eq!(b.since(1), Some(vec![]));
        b.feed(b"abcde");
        assert_eq!(b.since(1).unwrap(), b"abcde");
        assert_eq!(b.since(4).unwrap(), b"de");
        b.feed(b"fghij");
        // Offsets 3..=10 are held: "cdefghij".
        assert_eq!(b.first_byte_offset(), 3);
        assert_eq!(b.since(2), None);
        assert_eq!(b.since(3).unwrap(), b"cdefghij");
        assert_eq!(b.since(11).unwrap(), b"");
        assert_eq!(b.since(12), None);
        b.feed(b"0123456789xyz");
        assert_eq!(b.since(16).unwrap(), b"456789xyz"[1..].to_vec());
        assert_eq!(b.first_byte_offset(), 16);
    }

    #[test]
    fn resizing_keeps_the_tail() {
        let mut b = Backlog::new(8, 100);
        b.feed(b"abcdefgh");
        b.resize(4);
        assert_eq!(b.first_byte_offset(), 105);
        assert_eq!(b.since(105).unwrap(), b"efgh");
        b.resize(16);
        b.feed(b"ij");
        assert_eq!(b.since(105).unwrap(), b"efghij");
    }
}
