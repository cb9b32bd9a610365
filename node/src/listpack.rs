//! Redis's listpack: a sequence of strings and integers packed into one
//! buffer. Redis 7.0 keeps small hashes and sorted sets, and every node of a
//! list, in this form, and writes the same bytes into DUMP payloads and RDB
//! files; Corvid keeps the identical layout in memory so that a compact value
//! is dumped by copying its buffer and restored by validating one.
//!
//! ```text
//! <total bytes: u32 LE> <count: u16 LE, 65535 = too many to say> <entry>... <0xFF>
//! entry = <encoding + data> <backlen: the entry's encoded size, 1–5 bytes, read backwards>
//! ```
//!
//! Encodings: 0xxxxxxx 7-bit uint; 10xxxxxx 6-bit-length string;
//! 110xxxxx + 1 byte 13-bit int; 1110xxxx + 1 byte 12-bit-length string;
//! F0 + u32 length string; F1/F2/F3/F4 16/24/32/64-bit int, little endian.
//! A string that is a canonical integer is stored as an integer, as Redis does.
//!
//! [`Listpack::from_bytes`] accepts only well-formed buffers (a RESTORE
//! payload is hostile input): every entry must lie inside the buffer, every
//! backlen must match its entry, the count must match, the terminator must end it.
//!
//! The buffer is as large as the allocator's size class for the listpack
//! (what an exact-size listpack takes anyway, as Redis reallocs them to the
//! byte), and the slack is free room before or after the listpack. A
//! list's head node takes every LPUSH and LPOP, so there the room is kept
//! in front ([`Listpack::push_front`]): pushing or popping at the front
//! moves the 6-byte header instead of the whole node.

use corvid_proto::resp::parse_i64;

const HEADER: usize = 6;
const EOF: u8 = 0xFF;
const COUNT_UNKNOWN: u16 = u16::MAX;

/// One element, borrowed from the buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LpValue<'a> {
    Int(i64),
    Str(&'a [u8]),
}

impl LpValue<'_> {
    /// Whether the element equals `s` as Redis's lpCompare decides: a stored
    /// integer equals the canonical decimal string of it only ("7", not "007").
    pub fn matches(self, s: &[u8]) -> bool {
        match self {
            LpValue::Str(v) => v == s,
            LpValue::Int(n) => s.len() <= 20 && parse_i64(s) == Some(n),
        }
    }

    /// The element as Redis replies with it (integers in decimal).
    pub fn to_bytes(self) -> Vec<u8> {
        match self {
            LpValue::Int(n) => itoa::Buffer::new().format(n).as_bytes().to_vec(),
            LpValue::Str(s) => s.to_vec(),
        }
    }
}

/// Why a buffer is not a listpack.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ListpackError {
    #[error("listpack header is truncated or its total length is wrong")]
    Header,
    #[error("listpack entry runs past the end of the buffer")]
    Truncated,
    #[error("listpack entry has a back-length that does not match it")]
    Backlen,
    #[error("listpack element count does not match its header")]
    Count,
    #[error("listpack does not end with its terminator")]
    Terminator,
}

pub struct Listpack {
    /// The listpack starts at `front` and is as long as its header says;
    /// the bytes around it are free room.
    buf: Box<[u8]>,
    front: u32,
}

// A small hash or sorted set is a Listpack inside the keyspace's 32-byte
// HeapValue: a `Vec` and a `usize` would push every value past it.
const _: () = assert!(std::mem::size_of::<Listpack>() == 24);

impl Clone for Listpack {
    fn clone(&self) -> Self {
        Listpack { buf: self.as_bytes().into(), front: 0 }
    }
}

impl PartialEq for Listpack {
    fn eq(&self, other: &Self) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

impl Eq for Listpack {}

impl std::fmt::Debug for Listpack {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl Default for Listpack {
    fn default() -> Self {
        Self::new()
    }
}

impl Listpack {
    pub fn new() -> Self {
        let mut buf = Vec::with_capacity(HEADER + 1);
        buf.extend_from_slice(&((HEADER + 1) as u32).to_le_bytes());
        buf.extend_from_slice(&0u16.to_le_bytes());
        buf.push(EOF);
        Listpack { buf: buf.into_boxed_slice(), front: 0 }
    }

    /// A listpack of `values` in order, built in one pass (a whole stream
    /// node for an RDB file, where appending one by one would copy the
    /// buffer each time).
    pub fn build<'v>(values: impl IntoIterator<Item = &'v [u8]>) -> Self {
        let mut b = Builder::default();
        for v in values {
            b.push(v);
        }
        b.finish()
    }

    /// Take a buffer from outside (DUMP payload, RDB file), checking all of it.
    pub fn from_bytes(buf: Vec<u8>) -> Result<Self, ListpackError> {
        if buf.len() < HEADER + 1 || u32::from_le_bytes(buf[0..4].try_into().unwrap()) as usize != buf.len() {
            return Err(ListpackError::Header);
        }
        let declared = u16::from_le_bytes(buf[4..6].try_into().unwrap());
        let mut off = HEADER;
        let mut count = 0usize;
        while buf[off] != EOF {
            let size = encoded_size(&buf[off..]).ok_or(ListpackError::Truncated)?;
            // The entry, its backlen, and at least the terminator must fit.
            let width = backlen_width(size);
            if off + size + width >= buf.len() {
                return Err(ListpackError::Truncated);
            }
            // Exactly the canonical backlen, so walking backwards always
            // lands where walking forwards does.
            let (expected, _) = backlen_bytes(size);
            if buf[off + size..off + size + width] != expected[..width] {
                return Err(ListpackError::Backlen);
            }
            off += size + width;
            count += 1;
        }
        if off != buf.len() - 1 {
            return Err(ListpackError::Terminator);
        }
        if declared != COUNT_UNKNOWN && declared as usize != count {
            return Err(ListpackError::Count);
        }
        Ok(Listpack { buf: buf.into_boxed_slice(), front: 0 })
    }

    /// The exact bytes, as DUMP and RDB files carry them.
    pub fn as_bytes(&self) -> &[u8] {
        let (front, total) = self.span();
        &self.buf[front..front + total]
    }

    /// Where the listpack starts in the buffer, and its length.
    #[inline]
    fn span(&self) -> (usize, usize) {
        let front = self.front as usize;
        let total = u32::from_le_bytes(self.buf[front..front + 4].try_into().unwrap());
        (front, total as usize)
    }

    /// Number of elements.
    pub fn len(&self) -> usize {
        match u16::from_le_bytes(self.as_bytes()[4..6].try_into().unwrap()) {
            COUNT_UNKNOWN => self.iter().count(),
            n => n as usize,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.as_bytes()[HEADER] == EOF
    }

    /// Offset of the first element, if any.
    pub fn first(&self) -> Option<usize> {
        (self.as_bytes()[HEADER] != EOF).then_some(HEADER)
    }

    /// Offset of the last element, if any.
    pub fn last(&self) -> Option<usize> {
        self.prev(self.as_bytes().len() - 1)
    }

    /// Offset of the element after the one at `off`.
    pub fn next(&self, off: usize) -> Option<usize> {
        let bytes = self.as_bytes();
        let size = encoded_size(&bytes[off..]).expect("validated");
        let next = off + size + backlen_width(size);
        (bytes[next] != EOF).then_some(next)
    }

    /// Offset of the element before `off` (which may be the terminator's).
    pub fn prev(&self, off: usize) -> Option<usize> {
        if off <= HEADER {
            return None;
        }
        let size = decode_backlen(&self.as_bytes()[..off]).expect("validated");
        Some(off - backlen_width(size) - size)
    }

    /// The element at `off`.
    pub fn get(&self, off: usize) -> LpValue<'_> {
        decode(&self.as_bytes()[off..]).0
    }

    pub fn iter(&self) -> Entries<'_> {
        Entries { lp: self, front: self.first(), back: self.last() }
    }

    /// Insert `value` before the element at `off` (or at the end when `off`
    /// is the terminator's offset, `self.as_bytes().len() - 1`).
    pub fn insert(&mut self, off: usize, value: &[u8]) {
        self.put(off, 0, &Entry::new(value));
        self.set_count(1);
    }

    /// Put `entry` where the `width` bytes at `off` were, using the room
    /// after the listpack or, when there is too little, a new buffer with
    /// room after it.
    fn put(&mut self, off: usize, width: usize, entry: &Entry<'_>) {
        let n = entry.len();
        let (mut front, total) = self.span();
        if front + total + n > self.buf.len() + width {
            self.regrow(n - width, false);
            front = 0;
        }
        let at = front + off;
        self.buf.copy_within(at + width..front + total, at + n);
        entry.write(&mut self.buf[at..at + n]);
        self.set_total(total + n - width);
    }

    /// Append at the end (RPUSH on a list node).
    pub fn push_back(&mut self, value: &[u8]) {
        self.insert(self.as_bytes().len() - 1, value);
    }

    /// Prepend at the start (LPUSH on a list node): into the room in front
    /// when the entry fits there, the header moving down to make way.
    pub fn push_front(&mut self, value: &[u8]) {
        let entry = Entry::new(value);
        let n = entry.len();
        if (self.front as usize) < n {
            self.regrow(n, true);
        }
        let (old, total) = self.span();
        let front = old - n;
        self.buf.copy_within(old..old + HEADER, front);
        entry.write(&mut self.buf[front + HEADER..old + HEADER]);
        self.front = front as u32;
        self.set_total(total + n);
        self.set_count(1);
    }

    /// Move the listpack to a new buffer with at least `need` bytes of room
    /// in front of it (`in_front`) or after it. The buffer is the
    /// allocator's size class for the listpack and `need`, all of the
    /// class's slack going to the room.
    fn regrow(&mut self, need: usize, in_front: bool) {
        let live = self.as_bytes();
        let want = live.len() + need;
        // SAFETY: nallocx only computes the size jemalloc would allocate for
        // a request (0 on overflow); it reads and allocates no memory.
        let class = unsafe { tikv_jemalloc_sys::nallocx(want, 0) }.max(want);
        let room = class - live.len();
        let mut buf = Vec::with_capacity(class);
        if in_front {
            buf.resize(room, 0);
        }
        buf.extend_from_slice(live);
        buf.resize(class, 0);
        self.buf = buf.into_boxed_slice();
        self.front = if in_front { room as u32 } else { 0 };
    }

    /// Delete the element at `off`; the offset then names its successor.
    pub fn delete(&mut self, off: usize) {
        let (front, total) = self.span();
        let at = front + off;
        let width = {
            let size = encoded_size(&self.buf[at..]).expect("validated");
            size + backlen_width(size)
        };
        if off == HEADER {
            // The first element (LPOP): the header moves up over it.
            self.buf.copy_within(front..front + HEADER, front + width);
            self.front += width as u32;
        } else {
            self.buf.copy_within(at + width..front + total, at);
        }
        self.set_total(total - width);
        // Give memory back once a node has shrunk well below its buffer.
        if self.buf.len() > 2 * (total - width) + 64 {
            *self = self.clone();
        }
        self.set_count(-1);
    }

    /// Replace the element at `off`.
    pub fn replace(&mut self, off: usize, value: &[u8]) {
        let size = encoded_size(&self.as_bytes()[off..]).expect("validated");
        self.put(off, size + backlen_width(size), &Entry::new(value));
    }

    /// Rewrite the header's length.
    fn set_total(&mut self, total: usize) {
        let front = self.front as usize;
        self.buf[front..front + 4].copy_from_slice(&(total as u32).to_le_bytes());
    }

    /// Rewrite the header's count after a change of `delta` elements.
    fn set_count(&mut self, delta: i64) {
        let at = self.front as usize + 4;
        let count = u16::from_le_bytes(self.buf[at..at + 2].try_into().unwrap());
        let count = if count == COUNT_UNKNOWN {
            // Recount: small enough again to be stored?
            let n = self.iter().count();
            if n < COUNT_UNKNOWN as usize { n as u16 } else { COUNT_UNKNOWN }
        } else {
            let n = count as i64 + delta;
            if n >= COUNT_UNKNOWN as i64 { COUNT_UNKNOWN } else { n as u16 }
        };
        self.buf[at..at + 2].copy_from_slice(&count.to_le_bytes());
    }
}

/// A listpack assembled element by element in one buffer, for callers
/// whose elements are not borrowed slices that outlive the loop (an old
/// RDB's ziplist or zipmap converted on load, whose integers are formatted
/// one at a time). [`Listpack::build`] is the same for an iterator of slices.
#[derive(Default)]
pub struct Builder {
    buf: Vec<u8>,
    count: usize,
}

impl Builder {
    /// Appends `value` (a canonical integer string as an integer, as lpAppend).
    pub fn push(&mut self, value: &[u8]) {
        if self.buf.is_empty() {
            self.buf.resize(HEADER, 0);
        }
        let e = Entry::new(value);
        self.buf.extend_from_slice(&e.head[..e.head_len]);
        self.buf.extend_from_slice(e.data);
        self.buf.extend_from_slice(&e.backlen[..e.backlen_len]);
        self.count += 1;
    }

    /// Appends an element as it was read from another listpack or ziplist.
    pub fn push_value(&mut self, value: LpValue<'_>) {
        match value {
            LpValue::Int(n) => self.push(itoa::Buffer::new().format(n).as_bytes()),
            LpValue::Str(s) => self.push(s),
        }
    }

    pub fn finish(mut self) -> Listpack {
        if self.buf.is_empty() {
            self.buf.resize(HEADER, 0);
        }
        self.buf.push(EOF);
        let total = self.buf.len() as u32;
        self.buf[0..4].copy_from_slice(&total.to_le_bytes());
        let declared = if self.count < COUNT_UNKNOWN as usize { self.count as u16 } else { COUNT_UNKNOWN };
        self.buf[4..6].copy_from_slice(&declared.to_le_bytes());
        Listpack { buf: self.buf.into_boxed_slice(), front: 0 }
    }
}

/// The elements, from either end.
pub struct Entries<'a> {
    lp: &'a Listpack,
    /// Next offsets to yield from each end; None once they have crossed.
    front: Option<usize>,
    back: Option<usize>,
}

impl<'a> Iterator for Entries<'a> {
    type Item = LpValue<'a>;

    #[inline]
    fn next(&mut self) -> Option<LpValue<'a>> {
        let off = self.front?;
        let bytes = self.lp.as_bytes();
        // One decoding gives the element and where the next one starts.
        let (value, size) = decode(&bytes[off..]);
        if Some(off) == self.back {
            self.front = None;
            self.back = None;
        } else {
            let next = off + size + backlen_width(size);
            self.front = (bytes[next] != EOF).then_some(next);
        }
        Some(value)
    }
}

impl DoubleEndedIterator for Entries<'_> {
    fn next_back(&mut self) -> Option<Self::Item> {
        let off = self.back?;
        if Some(off) == self.front {
            self.front = None;
            self.back = None;
        } else {
            self.back = self.lp.prev(off);
        }
        Some(self.lp.get(off))
    }
}

/// Size of the entry starting `p` (encoding byte(s) and data, without the
/// backlen), or None if `p` is too short to hold it.
fn encoded_size(p: &[u8]) -> Option<usize> {
    let b = *p.first()?;
    let size = match b {
        0x00..=0x7f => 1,
        0x80..=0xbf => 1 + (b & 0x3f) as usize,
        0xc0..=0xdf => 2,
        0xe0..=0xef => 2 + (((b & 0x0f) as usize) << 8 | *p.get(1)? as usize),
        0xf0 => 5 + u32::from_le_bytes(p.get(1..5)?.try_into().ok()?) as usize,
        0xf1 => 3,
        0xf2 => 4,
        0xf3 => 5,
        0xf4 => 9,
        _ => return None,
    };
    (size <= p.len()).then_some(size)
}

/// How many bytes the backlen of an entry of `size` bytes takes.
fn backlen_width(size: usize) -> usize {
    match size {
        0..=127 => 1,
        128..=16382 => 2,
        16383..=2097150 => 3,
        2097151..=268435454 => 4,
        _ => 5,
    }
}

/// Read the backlen that ends `p` (most significant group first, each byte
/// but the first flagged with 0x80, read from the end).
fn decode_backlen(p: &[u8]) -> Option<usize> {
    let mut value = 0usize;
    for (shift, &b) in p.iter().rev().take(5).enumerate() {
        value |= ((b & 0x7f) as usize) << (7 * shift);
        if b & 0x80 == 0 {
            return Some(value);
        }
    }
    None
}

/// The backlen of an entry of `size` bytes, and its width.
fn backlen_bytes(size: usize) -> ([u8; 5], usize) {
    let width = backlen_width(size);
    let mut out = [0u8; 5];
    for (at, i) in (0..width).rev().enumerate() {
        let group = ((size >> (7 * i)) & 0x7f) as u8;
        out[at] = if i == width - 1 { group } else { group | 0x80 };
    }
    (out, width)
}

/// The element at the start of `p` (an entry already known to fit), and
/// the size of its encoding and data, as [`encoded_size`] gives it.
// Inlined: returned through memory, the value costs a store-forwarding
// stall per element on every scan (LRANGE, HGETALL, ZRANGE...).
#[inline(always)]
fn decode(p: &[u8]) -> (LpValue<'_>, usize) {
    let le = |n: usize| {
        let mut v = 0u64;
        for (i, &b) in p[1..1 + n].iter().enumerate() {
            v |= (b as u64) << (8 * i);
        }
        v
    };
    // Sign-extend an n-bit two's complement value.
    let signed = |v: u64, bits: u32| ((v << (64 - bits)) as i64) >> (64 - bits);
    match p[0] {
        b @ 0x00..=0x7f => (LpValue::Int(b as i64), 1),
        b @ 0x80..=0xbf => {
            let len = (b & 0x3f) as usize;
            (LpValue::Str(&p[1..1 + len]), 1 + len)
        }
        b @ 0xc0..=0xdf => (LpValue::Int(signed(((b & 0x1f) as u64) << 8 | p[1] as u64, 13)), 2),
        b @ 0xe0..=0xef => {
            let len = ((b & 0x0f) as usize) << 8 | p[1] as usize;
            (LpValue::Str(&p[2..2 + len]), 2 + len)
        }
        0xf0 => {
            let len = le(4) as usize;
            (LpValue::Str(&p[5..5 + len]), 5 + len)
        }
        0xf1 => (LpValue::Int(signed(le(2), 16)), 3),
        0xf2 => (LpValue::Int(signed(le(3), 24)), 4),
        0xf3 => (LpValue::Int(signed(le(4), 32)), 5),
        _ => (LpValue::Int(le(8) as i64), 9),
    }
}

/// One whole entry for a value, built on the stack: the encoding byte(s)
/// (with an integer's bytes), a string's bytes, then the backlen.
struct Entry<'v> {
    head: [u8; 9],
    head_len: usize,
    data: &'v [u8],
    backlen: [u8; 5],
    backlen_len: usize,
}

impl<'v> Entry<'v> {
    /// The entry for `value`: a canonical integer string as an integer
    /// (lpEncodeGetType), anything else as a string.
    fn new(value: &'v [u8]) -> Self {
        let mut head = [0u8; 9];
        let (head_len, data): (usize, &[u8]) = match parse_i64(value).filter(|_| value.len() <= 20) {
            Some(v) => {
                let (tag, bytes) = match v {
                    0..=127 => {
                        head[0] = v as u8;
                        (None, 1)
                    }
                    -4096..=4095 => {
                        let u = (v as u64) & 0x1fff;
                        head[0] = 0xc0 | (u >> 8) as u8;
                        head[1] = u as u8;
                        (None, 2)
                    }
                    -32768..=32767 => (Some(0xf1), 2),
                    -8388608..=8388607 => (Some(0xf2), 3),
                    -2147483648..=2147483647 => (Some(0xf3), 4),
                    _ => (Some(0xf4), 8),
                };
                match tag {
                    Some(tag) => {
                        head[0] = tag;
                        head[1..1 + bytes].copy_from_slice(&(v as u64).to_le_bytes()[..bytes]);
                        (1 + bytes, &[])
                    }
                    None => (bytes, &[]),
                }
            }
            None => {
                let len = value.len();
                let head_len = if len < 64 {
                    head[0] = 0x80 | len as u8;
                    1
                } else if len < 4096 {
                    head[0] = 0xe0 | (len >> 8) as u8;
                    head[1] = len as u8;
                    2
                } else {
                    head[0] = 0xf0;
                    head[1..5].copy_from_slice(&(len as u32).to_le_bytes());
                    5
                };
                (head_len, value)
            }
        };
        let (backlen, backlen_len) = backlen_bytes(head_len + data.len());
        Entry { head, head_len, data, backlen, backlen_len }
    }

    fn len(&self) -> usize {
        self.head_len + self.data.len() + self.backlen_len
    }

    /// Write the entry into `out`, which is exactly [`Entry::len`] long.
    fn write(&self, out: &mut [u8]) {
        let (head, rest) = out.split_at_mut(self.head_len);
        head.copy_from_slice(&self.head[..self.head_len]);
        let (data, backlen) = rest.split_at_mut(self.data.len());
        data.copy_from_slice(self.data);
        backlen.copy_from_slice(&self.backlen[..self.backlen_len]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap()).collect()
    }

    fn build(values: &[&[u8]]) -> Listpack {
        let mut lp = Listpack::new();
        for v in values {
            lp.push_back(v);
        }
        lp
    }

    /// Listpacks cut out of DUMP payloads written by redis-server 7.0.15: a
    /// list node ["a","b"], a hash {f: v, n: 1}, a zset {a: 1.5, b: 2}.
    #[test]
    fn redis_bytes_decode_and_encode_identically() {
        let cases: [(&str, &[&[u8]]); 3] = [
            ("0d0000000200816102816202ff", &[b"a", b"b"]),
            ("120000000400816602817602816e020101ff", &[b"f", b"v", b"n", b"1"]),
            ("14000000040081610283312e35048162020201ff", &[b"a", b"1.5", b"b", b"2"]),
        ];
        for (bytes, values) in cases {
            let bytes = hex(bytes);
            let lp = Listpack::from_bytes(bytes.clone()).unwrap();
            let got: Vec<Vec<u8>> = lp.iter().map(LpValue::to_bytes).collect();
            assert_eq!(got, values.iter().map(|v| v.to_vec()).collect::<Vec<_>>());
            assert_eq!(build(values).as_bytes(), &bytes[..], "encoding {values:?}");
        }
    }

    #[test]
    fn every_integer_width_round_trips() {
        let ints: [i64; 16] = [
            0, 127, 128, -1, 4095, -4096, 4096, -4097, 32767, -32768, 8388607, -8388608, 2147483647,
            -2147483648, i64::MAX, i64::MIN,
        ];
        let texts: Vec<Vec<u8>> = ints.iter().map(|n| n.to_string().into_bytes()).collect();
        let lp = build(&texts.iter().map(Vec::as_slice).collect::<Vec<_>>());
        let got: Vec<LpValue> = lp.iter().collect();
        assert_eq!(got, ints.iter().map(|&n| LpValue::Int(n)).collect::<Vec<_>>());
        // Non-canonical integers stay strings.
        let lp = build(&[b"007", b"+1", b"-0", b" 1", b"99999999999999999999"]);
        assert!(lp.iter().all(|v| matches!(v, LpValue::Str(_))));
        assert_eq!(Listpack::from_bytes(lp.as_bytes().to_vec()).unwrap(), lp);
    }

    #[test]
    fn string_widths_and_both_directions() {
        let sizes = [0usize, 63, 64, 4095, 4096, 20000];
        let values: Vec<Vec<u8>> = sizes.iter().map(|&n| vec![b'x'; n]).collect();
        let lp = build(&values.iter().map(Vec::as_slice).collect::<Vec<_>>());
        assert_eq!(lp.len(), sizes.len());
        let back: Vec<usize> = lp.iter().rev().map(|v| v.to_bytes().len()).collect();
        assert_eq!(back, sizes.iter().rev().copied().collect::<Vec<_>>());
        let lp2 = Listpack::from_bytes(lp.as_bytes().to_vec()).unwrap();
        assert_eq!(lp2.iter().map(|v| v.to_bytes().len()).collect::<Vec<_>>(), sizes);
    }

    #[test]
    fn edits_keep_the_header_and_backlens_right() {
        let mut lp = build(&[b"b", b"c"]);
        lp.push_front(b"a");
        lp.push_back(b"300");
        let c = lp.next(lp.next(lp.first().unwrap()).unwrap()).unwrap();
        lp.replace(c, &[b'C'; 200]);
        let b = lp.prev(c).unwrap();
        lp.delete(b);
        let got: Vec<Vec<u8>> = lp.iter().map(LpValue::to_bytes).collect();
        assert_eq!(got, vec![b"a".to_vec(), vec![b'C'; 200], b"300".to_vec()]);
        assert_eq!(lp.len(), 3);
        // What the edits produced passes the full check a RESTORE applies.
        assert_eq!(Listpack::from_bytes(lp.as_bytes().to_vec()).unwrap(), lp);
        let mut it = lp.iter();
        assert_eq!(it.next(), Some(LpValue::Str(b"a")));
        assert_eq!(it.next_back(), Some(LpValue::Int(300)));
        assert_eq!(it.next().map(|v| v.to_bytes().len()), Some(200));
        assert_eq!((it.next(), it.next_back()), (None, None));
    }

    /// Pushes and pops at the front use the room before the listpack, and
    /// edits elsewhere work around it: the bytes stay those of a listpack
    /// built without it, as DUMP and RDB files must carry them.
    #[test]
    fn room_in_front_keeps_the_bytes() {
        let mut lp = Listpack::new();
        let mut model: Vec<Vec<u8>> = Vec::new();
        for i in 0..3000usize {
            let v = match i % 4 {
                0 => i.to_string(),
                1 => "x".repeat(i % 100),
                2 => (-(i as i64) * 1000).to_string(),
                _ => "y".repeat(60 + i % 5000),
            };
            lp.push_front(v.as_bytes());
            model.insert(0, v.into_bytes());
            if i % 3 == 0 {
                let first = lp.first().unwrap();
                assert_eq!(lp.get(first).to_bytes(), model.remove(0));
                lp.delete(first);
            }
            if i % 11 == 0 && model.len() > 3 {
                let second = lp.next(lp.first().unwrap()).unwrap();
                lp.replace(second, b"replaced");
                model[1] = b"replaced".to_vec();
                let third = lp.next(second).unwrap();
                lp.insert(third, b"-7");
                model.insert(2, b"-7".to_vec());
                lp.delete(lp.last().unwrap());
                model.pop();
            }
            if i % 97 == 0 {
                let plain = build(&model.iter().map(Vec::as_slice).collect::<Vec<_>>());
                assert_eq!(lp.as_bytes(), plain.as_bytes());
                assert_eq!(lp, plain);
                assert_eq!(lp.clone().as_bytes(), plain.as_bytes());
            }
        }
        while let Some(first) = lp.first() {
            assert_eq!(lp.get(first).to_bytes(), model.remove(0));
            lp.delete(first);
        }
        assert!(model.is_empty());
        assert_eq!(lp.as_bytes(), Listpack::new().as_bytes());
    }

    #[test]
    fn hostile_buffers_are_refused() {
        let good = build(&[b"a", b"hello", b"12345"]).as_bytes().to_vec();
        assert!(Listpack::from_bytes(good.clone()).is_ok());
        // Every truncation and every single-byte corruption is either refused
        // or still a listpack whose elements can all be read.
        for n in 0..good.len() {
            assert!(Listpack::from_bytes(good[..n].to_vec()).is_err(), "truncated to {n}");
        }
        for i in 0..good.len() {
            for b in [0x00u8, 0x7f, 0x80, 0xbf, 0xc0, 0xe0, 0xef, 0xf0, 0xf4, 0xf5, 0xff] {
                let mut bad = good.clone();
                bad[i] = b;
                if let Ok(lp) = Listpack::from_bytes(bad) {
                    let n = lp.iter().count();
                    assert_eq!(n, lp.len());
                    assert_eq!(lp.iter().rev().count(), n);
                }
            }
        }
        let mut wrong_count = good.clone();
        wrong_count[4] = 7;
        assert_eq!(Listpack::from_bytes(wrong_count), Err(ListpackError::Count));
        let mut no_eof = good;
        *no_eof.last_mut().unwrap() = 0x01;
        assert!(Listpack::from_bytes(no_eof).is_err());
    }
}
