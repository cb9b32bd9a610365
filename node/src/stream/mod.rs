//! The stream type (Redis's t_stream.c data structure): entries ordered by
//! ID in compact blocks, and the consumer groups reading them.
//!
//! # Layout
//! - [`id`]: entry IDs and how clients write them.
//! - [`block`]: the byte layout of a block of entries.
//! - [`group`]: consumer groups, their consumers and pending entries.
//!
//! The blocks sit in a B-tree keyed by each block's master ID (the ID of
//! its first entry ever), as Redis's radix tree of listpacks; appends go to
//! the last block until it holds `stream-node-max-entries` entries or
//! `stream-node-max-bytes` bytes, which also decides how MAXLEN ~ trims:
//! whole blocks.

pub mod block;
pub mod group;
pub mod id;

use std::collections::BTreeMap;

use block::{Block, EntryPos, Fields, DELETED};
pub use group::{Consumer, Group, Nack};
pub use id::StreamId;

/// The largest total of field and value bytes one entry may have
/// (STREAM_LISTPACK_MAX_SIZE).
pub const MAX_ENTRY_BYTES: usize = 1 << 30;

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Stream {
    blocks: BTreeMap<StreamId, Block>,
    /// Live entries.
    pub length: u64,
    /// The last ID ever added (or set by XSETID).
    pub last_id: StreamId,
    /// The first live entry's ID, 0-0 when empty (recorded-first-entry-id).
    pub first_id: StreamId,
    /// The greatest ID ever deleted by XDEL.
    pub max_deleted_id: StreamId,
    /// Entries ever added.
    pub entries_added: u64,
    /// Consumer groups by name.
    pub groups: BTreeMap<Vec<u8>, Group>,
}

/// Why an append failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AppendError {
    /// The ID is not greater than the last one (or its sequence would overflow).
    NotGreater,
    /// The entry is larger than a block can hold.
    TooLarge,
}

/// How to trim (XADD/XTRIM's MAXLEN and MINID).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrimTo {
    MaxLen(u64),
    MinId(StreamId),
}

/// Node limits in force (stream-node-max-bytes, stream-node-max-entries).
#[derive(Debug, Clone, Copy)]
pub struct NodeLimits {
    pub max_bytes: usize,
    pub max_entries: usize,
}

/// One entry, borrowed from its block.
#[derive(Clone, Copy)]
pub struct EntryRef<'a> {
    pub id: StreamId,
    block: &'a Block,
    pos: EntryPos,
}

impl<'a> EntryRef<'a> {
    pub fn fields(&self) -> Fields<'a> {
        self.block.fields(&self.pos)
    }

    pub fn field_count(&self) -> usize {
        self.block.field_count(&self.pos)
    }
}

impl Stream {
    pub fn new() -> Self {
        Stream::default()
    }

    pub fn block_count(&self) -> usize {
        self.blocks.len()
    }

    /// Bytes held, for MEMORY USAGE and INFO.
    pub fn allocated(&self) -> usize {
        let blocks: usize = self.blocks.values().map(|b| b.allocated() + 16 + 16).sum();
        let groups: usize = self.groups.iter().map(|(n, g)| n.len() + g.allocated()).sum();
        std::mem::size_of::<Self>() + blocks + groups
    }

    /// The ID `XADD *` would use at `now_ms` (streamNextID).
    pub fn next_id(&self, now_ms: u64) -> Option<StreamId> {
        if now_ms > self.last_id.ms {
            Some(StreamId::new(now_ms, 0))
        } else {
            self.last_id.incr()
        }
    }

    /// Append an entry (streamAppendItem). `id`: None to generate one from
    /// `now_ms`; with `seq_given` false, the sequence is generated for the
    /// given ms. `fields` is `[field, value, ...]`.
    pub fn append(
        &mut self,
        id: Option<(StreamId, bool)>,
        fields: &[&[u8]],
        now_ms: u64,
        limits: NodeLimits,
    ) -> Result<StreamId, AppendError> {
        let id = match id {
            None => self.next_id(now_ms).ok_or(AppendError::NotGreater)?,
            Some((id, true)) => id,
            Some((id, false)) if id.ms == self.last_id.ms => self.last_id.incr().filter(|n| n.ms == id.ms).ok_or(AppendError::NotGreater)?,
            Some((id, false)) => id,
        };
        if id <= self.last_id {
            return Err(AppendError::NotGreater);
        }
        let total: usize = fields.iter().map(|f| f.len()).sum();
        if total > MAX_ENTRY_BYTES {
            return Err(AppendError::TooLarge);
        }
        let max_bytes = if limits.max_bytes == 0 || limits.max_bytes > MAX_ENTRY_BYTES { MAX_ENTRY_BYTES } else { limits.max_bytes };
        let need_new = match self.blocks.iter_mut().next_back() {
            None => true,
            Some((_, b)) => {
                let full = b.byte_len() + total >= max_bytes
                    || (limits.max_entries > 0 && (b.live + b.deleted) as usize >= limits.max_entries);
                if full {
                    b.shrink();
                }
                full
            }
        };
        if need_new {
            self.blocks.insert(id, Block::new(fields));
        }
        let (&master, block) = self.blocks.iter_mut().next_back().expect("a block to append to");
        block.append(master, id, fields);
        self.length += 1;
        self.entries_added += 1;
        self.last_id = id;
        if self.length == 1 {
            self.first_id = id;
        }
        Ok(id)
    }

    /// Live entries from `start` to `end` inclusive, backwards with `rev`.
    pub fn range(&self, start: StreamId, end: StreamId, rev: bool) -> Range<'_> {
        let blocks = if start > end {
            None
        } else {
            let from = self.blocks.range(..=start).next_back().map_or(start, |(k, _)| *k);
            Some(self.blocks.range(from..=end))
        };
        Range { blocks, current: Vec::new(), start, end, rev }
    }

    /// The live entry `id`, if any.
    pub fn get(&self, id: StreamId) -> Option<EntryRef<'_>> {
        self.range(id, id, false).next()
    }

    pub fn contains(&self, id: StreamId) -> bool {
        self.get(id).is_some()
    }

    /// Delete the live entry `id` (streamDeleteItem): the first ID and the
    /// tombstone bookkeeping are the caller's (XDEL's).
    pub fn delete(&mut self, id: StreamId) -> bool {
        let Some((&master, block)) = self.blocks.range_mut(..=id).next_back() else { return false };
        let Some(at) = block.positions(master).find(|e| e.id == id && e.flags & DELETED == 0).map(|e| e.at) else {
            return false;
        };
        if block.live == 1 {
            self.blocks.remove(&master);
        } else {
            block.mark_deleted(at);
        }
        self.length -= 1;
        true
    }

    /// The first or last live entry's ID (streamGetEdgeID skipping
    /// tombstones); MAX / MIN when empty.
    pub fn edge_id(&self, first: bool) -> StreamId {
        let found = if first {
            self.blocks.iter().find_map(|(m, b)| b.edge(*m, true))
        } else {
            self.blocks.iter().rev().find_map(|(m, b)| b.edge(*m, false))
        };
        match found {
            Some(e) => e.id,
            None if first => StreamId::MAX,
            None => StreamId::MIN,
        }
    }

    /// The first entry's ID counting tombstones (streamGetEdgeID without
    /// skipping them); MAX when there are no blocks.
    pub fn first_id_with_tombstones(&self) -> StreamId {
        self.blocks.iter().next().and_then(|(m, b)| b.positions(*m).next()).map_or(StreamId::MAX, |e| e.id)
    }

    /// Trim (streamTrim): whole blocks from the head while they can go,
    /// then, unless `approx`, entries of the next block one by one.
    /// `limit` (0: none) caps the entries removed. Returns how many went.
    pub fn trim(&mut self, to: TrimTo, approx: bool, limit: u64) -> u64 {
        let mut deleted = 0u64;
        while let Some((&master, block)) = self.blocks.first_key_value() {
            if let TrimTo::MaxLen(max) = to {
                if self.length <= max {
                    break;
                }
            }
            let entries = block.live as u64;
            if limit > 0 && deleted + entries > limit {
                break;
            }
            let remove = match to {
                TrimTo::MaxLen(max) => self.length - entries >= max,
                // The block's last entry, tombstones included.
                TrimTo::MinId(min) => block.positions(master).last().is_none_or(|e| e.id < min),
            };
            if remove {
                self.blocks.remove(&master);
                self.length -= entries;
                deleted += entries;
                continue;
            }
            if approx {
                break;
            }
            let block = self.blocks.get_mut(&master).expect("the first block");
            let positions: Vec<EntryPos> = block.positions(master).collect();
            for e in positions {
                let stop = match to {
                    TrimTo::MaxLen(max) => self.length <= max,
                    TrimTo::MinId(min) => e.id >= min,
                };
                if stop {
                    break;
                }
                if e.flags & DELETED == 0 {
                    block.mark_deleted(e.at);
                    self.length -= 1;
                    deleted += 1;
                }
            }
            break;
        }
        if self.length == 0 {
            self.first_id = StreamId::MIN;
        } else if deleted > 0 {
            self.first_id = self.edge_id(true);
        }
        deleted
    }

    /// Whether IDs from `start` to `end` may hold a tombstone
    /// (streamRangeHasTombstones).
    pub fn range_has_tombstones(&self, start: StreamId, end: StreamId) -> bool {
        if self.length == 0 || self.max_deleted_id.is_zero() || self.first_id > self.max_deleted_id {
            return false;
        }
        start <= self.max_deleted_id && self.max_deleted_id <= end
    }

    /// The logical read counter of `id`, if it can be known
    /// (streamEstimateDistanceFromFirstEverEntry); None when it cannot.
    pub fn estimate_distance(&self, id: StreamId) -> Option<u64> {
        if self.entries_added == 0 {
            return Some(0);
        }
        if self.length == 0 && id <= self.last_id {
            return Some(self.entries_added);
        }
        if id == self.last_id {
            return Some(self.entries_added);
        }
        if id > self.last_id {
            return None;
        }
        if self.max_deleted_id.is_zero() || self.max_deleted_id < self.first_id {
            if id < self.first_id {
                return Some(self.entries_added - self.length);
            }
            if id == self.first_id {
                return Some(self.entries_added - self.length + 1);
            }
        }
        None
    }

    /// A group's lag (streamReplyWithCGLag): None when it cannot be known.
    pub fn lag(&self, g: &Group) -> Option<u64> {
        if self.entries_added == 0 {
            return Some(0);
        }
        if let Some(read) = g.entries_read {
            if !self.range_has_tombstones(g.last_id, StreamId::MAX) {
                return Some(self.entries_added.saturating_sub(read));
            }
        }
        self.estimate_distance(g.last_id).map(|read| self.entries_added.saturating_sub(read))
    }

    /// Blocks in order with their master IDs (RDB and AOF rewrite).
    pub fn blocks(&self) -> impl Iterator<Item = (StreamId, &Block)> {
        self.blocks.iter().map(|(k, b)| (*k, b))
    }

    /// Every entry of a block, deleted ones included (RDB).
    pub fn block_entries<'a>(&'a self, master: StreamId, block: &'a Block) -> impl Iterator<Item = (EntryRef<'a>, bool)> + 'a {
        block.positions(master).map(move |pos| (EntryRef { id: pos.id, block, pos }, pos.flags & DELETED != 0))
    }

    /// Rebuild from decoded entries (RDB loading), block by block as they
    /// were saved: `(id, deleted, fields)`.
    pub fn push_loaded_block(&mut self, entries: &[(StreamId, bool, Vec<Vec<u8>>)], master_fields: &[Vec<u8>]) {
        let Some(first) = entries.first() else { return };
        let mut proto: Vec<&[u8]> = Vec::with_capacity(master_fields.len() * 2);
        for f in master_fields {
            proto.push(f);
            proto.push(b"");
        }
        let mut block = Block::new(&proto);
        for (id, deleted, fields) in entries {
            let refs: Vec<&[u8]> = fields.iter().map(Vec::as_slice).collect();
            block.append(first.0, *id, &refs);
            if *deleted {
                let at = block.positions(first.0).last().expect("just appended").at;
                block.mark_deleted(at);
            }
        }
        block.shrink();
        if block.live > 0 {
            self.blocks.insert(first.0, block);
        }
    }

    /// The greatest ID held in any block, tombstones included.
    pub fn last_block_id(&self) -> Option<StreamId> {
        self.blocks.iter().next_back().and_then(|(m, b)| b.positions(*m).last()).map(|e| e.id)
    }

    /// The smallest master ID (for RDB checks).
    pub fn first_master(&self) -> Option<StreamId> {
        self.blocks.keys().next().copied()
    }
}

/// Live entries of a range, in order or backwards.
pub struct Range<'a> {
    blocks: Option<std::collections::btree_map::Range<'a, StreamId, Block>>,
    /// The current block's entries still to yield, last first.
    current: Vec<EntryRef<'a>>,
    start: StreamId,
    end: StreamId,
    rev: bool,
}

impl<'a> Iterator for Range<'a> {
    type Item = EntryRef<'a>;

    fn next(&mut self) -> Option<EntryRef<'a>> {
        loop {
            if let Some(e) = self.current.pop() {
                return Some(e);
            }
            let blocks = self.blocks.as_mut()?;
            let (&master, block) = if self.rev { blocks.next_back()? } else { blocks.next()? };
            let (start, end) = (self.start, self.end);
            self.current.extend(
                block
                    .positions(master)
                    .filter(|p| p.flags & DELETED == 0 && p.id >= start && p.id <= end)
                    .map(|pos| EntryRef { id: pos.id, block, pos }),
            );
            if !self.rev {
                self.current.reverse();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMITS: NodeLimits = NodeLimits { max_bytes: 4096, max_entries: 3 };

    fn filled(n: u64) -> Stream {
        let mut s = Stream::new();
        for i in 1..=n {
            s.append(Some((StreamId::new(i, 0), true)), &[b"f", format!("{i}").as_bytes()], 0, LIMITS).unwrap();
        }
        s
    }

    fn ids(s: &Stream, rev: bool) -> Vec<u64> {
        s.range(StreamId::MIN, StreamId::MAX, rev).map(|e| e.id.ms).collect()
    }

    #[test]
    fn appends_in_blocks_and_ranges_both_ways() {
        let s = filled(10);
        assert_eq!(s.block_count(), 4);
        assert_eq!(ids(&s, false), (1..=10).collect::<Vec<_>>());
        assert_eq!(ids(&s, true), (1..=10).rev().collect::<Vec<_>>());
        let mid: Vec<u64> = s.range(StreamId::new(4, 0), StreamId::new(7, 0), true).map(|e| e.id.ms).collect();
        assert_eq!(mid, vec![7, 6, 5, 4]);
        assert_eq!(s.get(StreamId::new(5, 0)).unwrap().fields().next().unwrap().1, b"5");
        assert!(s.get(StreamId::new(5, 1)).is_none());
    }

    #[test]
    fn ids_must_grow() {
        let mut s = filled(2);
        assert_eq!(s.append(Some((StreamId::new(2, 0), true)), &[b"f", b"v"], 0, LIMITS), Err(AppendError::NotGreater));
        assert_eq!(s.append(Some((StreamId::new(2, 0), false)), &[b"f", b"v"], 0, LIMITS), Ok(StreamId::new(2, 1)));
        assert_eq!(s.append(None, &[b"f", b"v"], 1, LIMITS), Ok(StreamId::new(2, 2)));
        assert_eq!(s.append(None, &[b"f", b"v"], 50, LIMITS), Ok(StreamId::new(50, 0)));
    }

    #[test]
    fn deletes_and_trims() {
        let mut s = filled(10);
        assert!(s.delete(StreamId::new(2, 0)));
        assert!(!s.delete(StreamId::new(2, 0)));
        assert_eq!(s.length, 9);
        // Exact MAXLEN: whole blocks, then entry by entry.
        assert_eq!(s.trim(TrimTo::MaxLen(5), false, 0), 4);
        assert_eq!(ids(&s, false), vec![6, 7, 8, 9, 10]);
        assert_eq!(s.first_id, StreamId::new(6, 0));
        // Approximate: only whole blocks.
        assert_eq!(s.trim(TrimTo::MaxLen(3), true, 0), 1);
        assert_eq!(ids(&s, false), vec![7, 8, 9, 10]);
        assert_eq!(s.trim(TrimTo::MinId(StreamId::new(10, 0)), false, 0), 3);
        assert_eq!(ids(&s, false), vec![10]);
    }
}
