//! One block of stream entries: the compact storage a stream is made of
//! (Redis keeps a listpack per radix-tree node; this is our own layout of
//! the same idea).
//!
//! A block is keyed in the stream by its master ID, the ID of the first
//! entry ever appended to it, and starts with the master fields, the field
//! names of that first entry. Every entry after that is:
//!
//! ```text
//! flags:u8  ms_delta:varint  seq:varint  [nfields:varint field*]  value*
//! ```
//!
//! `ms_delta` is the entry's ms minus the master's; `seq` is the sequence
//! minus the master's when `ms_delta` is 0 (so always positive), and the
//! sequence itself otherwise. An entry whose field names equal the master
//! fields (the common case: a stream of like events) stores its values
//! only, flagged `SAME_FIELDS`. Strings are a varint length and the bytes.
//! Deleting an entry sets its `DELETED` flag in place; the block goes when
//! its last live entry does.

use super::id::StreamId;

pub const DELETED: u8 = 1;
pub const SAME_FIELDS: u8 = 2;

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Block {
    /// Entries not deleted.
    pub live: u32,
    /// Entries flagged deleted but still in `bytes`.
    pub deleted: u32,
    nfields: u32,
    /// Where the entries start, after the master fields.
    entries_at: u32,
    bytes: Vec<u8>,
}

pub fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// A varint at `*pos`, advancing it. Blocks are built only by this module,
/// so the bytes are trusted.
#[inline]
fn get_varint(b: &[u8], pos: &mut usize) -> u64 {
    let mut v = 0u64;
    let mut shift = 0;
    loop {
        let byte = b[*pos];
        *pos += 1;
        v |= ((byte & 0x7f) as u64) << shift;
        if byte < 0x80 {
            return v;
        }
        shift += 7;
    }
}

#[inline]
fn get_str<'a>(b: &'a [u8], pos: &mut usize) -> &'a [u8] {
    let len = get_varint(b, pos) as usize;
    let s = &b[*pos..*pos + len];
    *pos += len;
    s
}

fn put_str(out: &mut Vec<u8>, s: &[u8]) {
    put_varint(out, s.len() as u64);
    out.extend_from_slice(s);
}

/// One entry's position in its block.
#[derive(Debug, Clone, Copy)]
pub struct EntryPos {
    pub id: StreamId,
    pub flags: u8,
    /// Offset of the flags byte.
    pub at: usize,
    /// Offset of the fields (or values, for `SAME_FIELDS`).
    fields_at: usize,
    /// Offset of the next entry.
    pub end: usize,
}

impl Block {
    /// A block whose first entry will have `fields` (`[field, value, ...]`).
    pub fn new(fields: &[&[u8]]) -> Self {
        let mut bytes = Vec::with_capacity(64);
        let n = fields.len() / 2;
        for f in fields.iter().step_by(2) {
            put_str(&mut bytes, f);
        }
        Block { live: 0, deleted: 0, nfields: n as u32, entries_at: bytes.len() as u32, bytes }
    }

    pub fn byte_len(&self) -> usize {
        self.bytes.len()
    }

    pub fn allocated(&self) -> usize {
        self.bytes.capacity() + std::mem::size_of::<Self>()
    }

    pub fn shrink(&mut self) {
        self.bytes.shrink_to_fit();
    }

    fn master_fields(&self) -> impl Iterator<Item = &[u8]> + '_ {
        let mut pos = 0;
        (0..self.nfields).map(move |_| get_str(&self.bytes, &mut pos))
    }

    /// Append an entry (`fields` is `[field, value, ...]`) to a block whose
    /// master ID is `master`.
    pub fn append(&mut self, master: StreamId, id: StreamId, fields: &[&[u8]]) {
        let n = fields.len() / 2;
        let same = n == self.nfields as usize && self.master_fields().zip(fields.iter().step_by(2)).all(|(m, f)| m == *f);
        let b = &mut self.bytes;
        b.push(if same { SAME_FIELDS } else { 0 });
        let ms_delta = id.ms - master.ms;
        put_varint(b, ms_delta);
        put_varint(b, if ms_delta == 0 { id.seq - master.seq } else { id.seq });
        if same {
            for v in fields.iter().skip(1).step_by(2) {
                put_str(b, v);
            }
        } else {
            put_varint(b, n as u64);
            for s in fields {
                put_str(b, s);
            }
        }
        self.live += 1;
    }

    /// Decode the entry at `at`.
    #[inline]
    pub fn entry_at(&self, master: StreamId, at: usize) -> EntryPos {
        let b = &self.bytes;
        let flags = b[at];
        let mut pos = at + 1;
        let ms_delta = get_varint(b, &mut pos);
        let seq = get_varint(b, &mut pos);
        let id = if ms_delta == 0 { StreamId::new(master.ms, master.seq + seq) } else { StreamId::new(master.ms + ms_delta, seq) };
        let fields_at = pos;
        if flags & SAME_FIELDS != 0 {
            for _ in 0..self.nfields {
                get_str(b, &mut pos);
            }
        } else {
            let n = get_varint(b, &mut pos);
            for _ in 0..2 * n {
                get_str(b, &mut pos);
            }
        }
        EntryPos { id, flags, at, fields_at, end: pos }
    }

    /// Every entry, deleted ones included, in order.
    pub fn positions(&self, master: StreamId) -> impl Iterator<Item = EntryPos> + '_ {
        let mut at = self.entries_at as usize;
        std::iter::from_fn(move || {
            if at >= self.bytes.len() {
                return None;
            }
            let e = self.entry_at(master, at);
            at = e.end;
            Some(e)
        })
    }

    /// The number of field-value pairs of an entry.
    pub fn field_count(&self, e: &EntryPos) -> usize {
        if e.flags & SAME_FIELDS != 0 {
            self.nfields as usize
        } else {
            let mut pos = e.fields_at;
            get_varint(&self.bytes, &mut pos) as usize
        }
    }

    /// An entry's field-value pairs.
    pub fn fields<'a>(&'a self, e: &EntryPos) -> Fields<'a> {
        let mut pos = e.fields_at;
        let (names, n) = if e.flags & SAME_FIELDS != 0 {
            (Some(0), self.nfields as usize)
        } else {
            (None, get_varint(&self.bytes, &mut pos) as usize)
        };
        Fields { bytes: &self.bytes, names, pos, left: n }
    }

    /// Flag the entry at `at` deleted.
    pub fn mark_deleted(&mut self, at: usize) {
        self.bytes[at] |= DELETED;
        self.live -= 1;
        self.deleted += 1;
    }

    /// The first (`first`) or last live entry.
    pub fn edge(&self, master: StreamId, first: bool) -> Option<EntryPos> {
        let mut live = self.positions(master).filter(|e| e.flags & DELETED == 0);
        if first {
            live.next()
        } else {
            live.last()
        }
    }

    /// The master field names (for the RDB listpack).
    pub fn master_field_names(&self) -> Vec<&[u8]> {
        self.master_fields().collect()
    }
}

/// The field-value pairs of one entry.
pub struct Fields<'a> {
    bytes: &'a [u8],
    /// For `SAME_FIELDS` entries: where the next master field name is.
    names: Option<usize>,
    pos: usize,
    left: usize,
}

impl<'a> Iterator for Fields<'a> {
    type Item = (&'a [u8], &'a [u8]);

    fn next(&mut self) -> Option<Self::Item> {
        if self.left == 0 {
            return None;
        }
        self.left -= 1;
        let field = match self.names.as_mut() {
            Some(np) => get_str(self.bytes, np),
            None => get_str(self.bytes, &mut self.pos),
        };
        let value = get_str(self.bytes, &mut self.pos);
        Some((field, value))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.left, Some(self.left))
    }
}

impl ExactSizeIterator for Fields<'_> {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_round_trip_with_and_without_master_fields() {
        let m = StreamId::new(1000, 5);
        let mut b = Block::new(&[b"a", b"1", b"b", b"2"]);
        b.append(m, m, &[b"a", b"1", b"b", b"2"]);
        b.append(m, StreamId::new(1000, 9), &[b"x", b"long value"]);
        b.append(m, StreamId::new(1300, 0), &[b"a", b"3", b"b", b""]);
        let all: Vec<_> = b.positions(m).collect();
        assert_eq!(all.iter().map(|e| e.id).collect::<Vec<_>>(), vec![m, StreamId::new(1000, 9), StreamId::new(1300, 0)]);
        assert_eq!(all[0].flags, SAME_FIELDS);
        assert_eq!(all[1].flags, 0);
        let f: Vec<_> = b.fields(&all[1]).collect();
        assert_eq!(f, vec![(&b"x"[..], &b"long value"[..])]);
        let f: Vec<_> = b.fields(&all[2]).collect();
        assert_eq!(f, vec![(&b"a"[..], &b"3"[..]), (&b"b"[..], &b""[..])]);
        b.mark_deleted(all[0].at);
        assert_eq!((b.live, b.deleted), (2, 1));
        assert_eq!(b.edge(m, true).unwrap().id, StreamId::new(1000, 9));
        assert_eq!(b.edge(m, false).unwrap().id, StreamId::new(1300, 0));
    }
}
