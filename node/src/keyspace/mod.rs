//! One database's keys: a [`Table`] of [`SEGMENTS`] segments chosen by the
//! top bits of the key's hash, each a chained hash table with incremental
//! rehashing, each key one allocation (see [`entry`]).
//!
//! Why this shape (measured with `bench/run.sh`, figures in bench/RESULTS.md):
//! - one allocation per key holding key, small value, expiry and access bits,
//!   and only a pointer in the bucket array: ~56 bytes per small key where
//!   Redis spends ~120;
//! - segments keep every resize small and give snapshots and slot work
//!   pieces to walk; the incremental rehash inside a segment keeps even a
//!   huge segment from stalling a command;
//! - chaining keeps SCAN's guarantee (see [`segment`]); the cursor carries
//!   the segment in its low [`SEGMENT_BITS`] bits and the bucket cursor above.
//!
//! # Layout
//! - [`entry`]: the per-key allocation and its raw accessors.
//! - [`segment`]: the chained table with incremental rehash and its volatile list.
//! - this file: values as commands see them, and the [`Table`] API.

pub mod entry;
pub mod segment;

use std::hash::BuildHasher;
use std::sync::OnceLock;

use entry::{EntryPtr, Payload};
use segment::Segment;

use crate::hash::Hash;
use crate::quicklist::QuickList;
use crate::set::Set;
use crate::zset::ZSet;
use crate::stream::Stream;

pub use entry::EMBSTR_MAX;

/// log2 of the number of segments per database.
pub const SEGMENT_BITS: u32 = 8;
pub const SEGMENTS: usize = 1 << SEGMENT_BITS;

/// How a string is stored, as OBJECT ENCODING names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StrEncoding {
    /// Stored inside the key's allocation (at most [`EMBSTR_MAX`] bytes).
    Embstr,
    /// In its own buffer, which APPEND and SETRANGE grow in place.
    Raw,
}

/// A value too large or too structured to live inside the entry.
#[derive(Debug, Clone, PartialEq)]
///
/// Kept to 32 bytes (the large encodings are boxed): a small hash, set or
/// sorted set costs this block plus its listpack or intset, less than
/// Redis's robj plus the same bytes once the entry is counted in.
pub enum HeapValue {
    /// A `raw`-encoded string.
    Raw(Vec<u8>),
    List(Box<QuickList>),
    Hash(Hash),
    Set(Set),
    ZSet(ZSet),
    Stream(Box<Stream>),
}

const _: () = assert!(std::mem::size_of::<HeapValue>() == 32);

impl HeapValue {
    fn as_ref(&self) -> ValueRef<'_> {
        match self {
            HeapValue::Raw(v) => ValueRef::Str(v, StrEncoding::Raw),
            HeapValue::List(q) => ValueRef::List(q),
            HeapValue::Hash(h) => ValueRef::Hash(h),
            HeapValue::Set(x) => ValueRef::Set(x),
            HeapValue::ZSet(z) => ValueRef::ZSet(z),
            HeapValue::Stream(x) => ValueRef::Stream(x),
        }
    }

    fn into_owned(self) -> OwnedValue {
        match self {
            HeapValue::Raw(v) => OwnedValue::Str(v, StrEncoding::Raw),
            HeapValue::List(q) => OwnedValue::List(*q),
            HeapValue::Hash(h) => OwnedValue::Hash(h),
            HeapValue::Set(x) => OwnedValue::Set(x),
            HeapValue::ZSet(z) => OwnedValue::ZSet(z),
            HeapValue::Stream(x) => OwnedValue::Stream(x),
        }
    }
}

/// A value to store.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum NewValue<'a> {
    /// A string that is a canonical 64-bit integer (the `int` encoding).
    Int(i64),
    Str(&'a [u8], StrEncoding),
}

/// A stored value, borrowed from the table.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ValueRef<'a> {
    Int(i64),
    Str(&'a [u8], StrEncoding),
    List(&'a QuickList),
    Hash(&'a Hash),
    Set(&'a Set),
    ZSet(&'a ZSet),
    Stream(&'a Stream),
}

impl ValueRef<'_> {
    /// A deep copy (COPY).
    pub fn to_owned(&self) -> OwnedValue {
        match *self {
            ValueRef::Int(n) => OwnedValue::Int(n),
            ValueRef::Str(s, enc) => OwnedValue::Str(s.to_vec(), enc),
            ValueRef::List(q) => OwnedValue::List(q.clone()),
            ValueRef::Hash(h) => OwnedValue::Hash(h.clone()),
            ValueRef::Set(x) => OwnedValue::Set(x.clone()),
            ValueRef::ZSet(z) => OwnedValue::ZSet(z.clone()),
            ValueRef::Stream(x) => OwnedValue::Stream(Box::new(x.clone())),
        }
    }

    /// The bytes of a string value (integers in decimal); None for other types.
    pub fn string_bytes(&self) -> Option<Vec<u8>> {
        match *self {
            ValueRef::Int(n) => Some(itoa::Buffer::new().format(n).as_bytes().to_vec()),
            ValueRef::Str(s, _) => Some(s.to_vec()),
            ValueRef::List(_) | ValueRef::Hash(_) | ValueRef::Set(_) | ValueRef::ZSet(_) | ValueRef::Stream(_) => None,
        }
    }
}

/// A value taken out of the table, or built to go in whole (RENAME, MOVE
/// and COPY carry it over; a new list is built, then stored).
#[derive(Debug, Clone, PartialEq)]
pub enum OwnedValue {
    Int(i64),
    Str(Vec<u8>, StrEncoding),
    List(QuickList),
    Hash(Hash),
    Set(Set),
    ZSet(ZSet),
    Stream(Box<Stream>),
}

/// Where a command names the element it looks up: right after the key
/// (SADD, SISMEMBER, HSET, HGET...) or last, in a sorted set (ZADD, whose
/// member follows its score; ZSCORE, ZRANK, ZINCRBY), which comes along so
/// that a batch can also warm the skiplist paths its commands will search.
#[derive(Clone, Copy, Debug)]
pub enum ElementArg<'a> {
    Second,
    Last(&'a ZSet),
}

/// A read-only view of one key, valid while the table is borrowed.
#[derive(Clone, Copy)]
pub struct Entry<'a> {
    ptr: EntryPtr,
    _table: std::marker::PhantomData<&'a Table>,
}

impl<'a> Entry<'a> {
    fn new(ptr: EntryPtr) -> Self {
        Entry { ptr, _table: std::marker::PhantomData }
    }

    pub fn key(&self) -> &'a [u8] {
        self.ptr.key()
    }

    pub fn value(&self) -> ValueRef<'a> {
        self.ptr.value()
    }

    /// Bytes of the key's own allocation (key, small value, expiry, links).
    pub fn allocated_bytes(&self) -> usize {
        self.ptr.size()
    }

    /// Absolute expiry in Unix milliseconds, if the key has one.
    pub fn expire_at(&self) -> Option<i64> {
        self.ptr.expire_at()
    }

    /// The LRU clock or LFU pair (see [`crate::access`]).
    pub fn lru(&self) -> u32 {
        self.ptr.lru()
    }
}

fn hasher() -> &'static foldhash::fast::FixedState {
    static STATE: OnceLock<foldhash::fast::FixedState> = OnceLock::new();
    // A per-process random seed, so clients cannot aim keys at one bucket.
    STATE.get_or_init(|| foldhash::fast::FixedState::with_seed(rand::random()))
}

#[inline]
pub fn hash_of(key: &[u8]) -> u64 {
    hasher().hash_one(key)
}

#[inline]
fn segment_of(hash: u64) -> usize {
    (hash >> (64 - SEGMENT_BITS)) as usize
}

/// Turn a value to store into what an entry holds.
fn payload(v: NewValue<'_>) -> Payload<'_> {
    match v {
        NewValue::Int(n) => Payload::Int(n),
        NewValue::Str(s, StrEncoding::Embstr) if s.len() <= u8::MAX as usize => Payload::Embstr(s),
        NewValue::Str(s, _) => Payload::Heap(Box::new(HeapValue::Raw(s.to_vec()))),
    }
}

/// What [`Table::get_live`] found.
pub enum Found<'a> {
    Live(Entry<'a>),
    /// The key was there but expired, and is now deleted.
    Expired,
    Missing,
}

/// Where a point-in-time snapshot (BGSAVE) puts a segment's keys: the
/// segment as it is now, before a write changes it, or when the
/// snapshot's own walk gets to it (see `crate::snapshot`).
pub trait SegmentSink: Send {
    /// Save every key of one segment of database `db`.
    fn save(&mut self, db: usize, keys: &mut dyn Iterator<Item = Entry<'_>>);
}

/// A sink shared by every table a snapshot covers.
pub type SharedSink = std::sync::Arc<parking_lot::Mutex<dyn SegmentSink>>;

/// A table's part in a snapshot in progress: which segments it has not
/// saved yet. Every write first saves the segment it is about to change,
/// so the snapshot is the table as it was when the snapshot began, at the
/// cost of serializing that segment early; nothing is copied.
struct TableSnapshot {
    /// The database the keys belong to in the snapshot: the table's index
    /// when it began (SWAPDB moves the table, and this with it).
    db: usize,
    unsaved: [u64; SEGMENTS / 64],
    sink: SharedSink,
}

/// One database's keyspace.
#[derive(Default)]
pub struct Table {
    /// Empty until the first key arrives, then [`SEGMENTS`] long.
    segments: Vec<Segment>,
    len: usize,
    volatile: usize,
    /// Where the cron's incremental rehash resumes.
    rehash_cursor: usize,
    snapshot: Option<Box<TableSnapshot>>,
}

// SAFETY: a Table exclusively owns every entry reachable from it; entries
// hold no thread-affine state.
unsafe impl Send for Table {}

impl Table {
    pub fn new() -> Self {
        Table::default()
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Keys with an expiry (INFO's `expires=`).
    pub fn volatile_len(&self) -> usize {
        self.volatile
    }

    /// Take part in a snapshot that saves this table's keys, as they are
    /// now, to `sink` as database `db`. An empty table has nothing to save.
    pub fn begin_snapshot(&mut self, db: usize, sink: SharedSink) {
        self.snapshot = (!self.is_empty()).then(|| Box::new(TableSnapshot { db, unsaved: [u64::MAX; SEGMENTS / 64], sink }));
    }

    /// Make room for about `n` keys at once, so a load that knows how many
    /// are coming (RDB's RESIZEDB) does not rehash on the way; only while
    /// the table is empty.
    pub fn reserve(&mut self, n: usize) {
        if !self.is_empty() {
            return;
        }
        if self.segments.is_empty() {
            self.segments = (0..SEGMENTS).map(|_| Segment::default()).collect();
        }
        for s in &mut self.segments {
            s.reserve(n / SEGMENTS);
        }
    }

    /// Leave the snapshot (done or aborted); writes go on unhooked.
    pub fn end_snapshot(&mut self) {
        self.snapshot = None;
    }

    /// Whether the snapshot still waits for some of this table's segments.
    pub fn snapshot_pending(&self) -> bool {
        self.snapshot.is_some()
    }

    /// Save the next segment the snapshot has not saved yet; the number of
    /// keys saved, None once every segment is (the table then leaves the
    /// snapshot).
    pub fn snapshot_step(&mut self) -> Option<usize> {
        let snap = self.snapshot.as_ref()?;
        let Some(i) = snap.unsaved.iter().position(|&w| w != 0) else {
            self.snapshot = None;
            return None;
        };
        let seg = i * 64 + snap.unsaved[i].trailing_zeros() as usize;
        Some(self.save_segment(seg))
    }

    /// Before a write to the segment of `hash`: if a snapshot has not saved
    /// it yet, save it now, as it is.
    #[inline]
    fn before_write(&mut self, hash: u64) {
        if let Some(snap) = &self.snapshot {
            let seg = segment_of(hash);
            if snap.unsaved[seg / 64] & 1 << (seg % 64) != 0 {
                self.save_segment(seg);
            }
        }
    }

    #[cold]
    fn save_segment(&mut self, seg: usize) -> usize {
        let snap = self.snapshot.as_mut().expect("a snapshot in progress");
        snap.unsaved[seg / 64] &= !(1 << (seg % 64));
        let segment = &self.segments[seg];
        let mut keys = segment.entries().map(Entry::new);
        snap.sink.lock().save(snap.db, &mut keys);
        segment.len()
    }

    fn segment(&self, hash: u64) -> Option<&Segment> {
        self.segments.get(segment_of(hash))
    }

    fn segment_mut(&mut self, hash: u64) -> &mut Segment {
        if self.segments.is_empty() {
            self.segments = (0..SEGMENTS).map(|_| Segment::default()).collect();
        }
        &mut self.segments[segment_of(hash)]
    }

    /// The key's entry, expired or not (expiry is [`crate::db`]'s business).
    pub fn get(&self, key: &[u8]) -> Option<Entry<'_>> {
        let h = hash_of(key);
        self.segment(h)?.find(h, key).map(Entry::new)
    }

    /// The read path's single lookup (lookupKey): a key whose expiry is at
    /// or before `now_ms` is deleted and reported as [`Found::Expired`];
    /// a live key gets its access bits replaced by `touch(old)` when given.
    pub fn get_live(&mut self, key: &[u8], now_ms: i64, touch: Option<&mut dyn FnMut(u32) -> u32>) -> Found<'_> {
        let h = hash_of(key);
        let Some(e) = self.segment(h).and_then(|s| s.find(h, key)) else {
            return Found::Missing;
        };
        if matches!(e.expire_at(), Some(at) if at <= now_ms) {
            self.remove_lazily(key, crate::lazyfree::lazy_expire());
            return Found::Expired;
        }
        if let Some(touch) = touch {
            let lru = e.lru();
            let touched = touch(lru);
            if touched != lru {
                e.set_lru(touched);
            }
        }
        Found::Live(Entry::new(e))
    }

    /// Ask the CPU to start loading what a lookup of `hash` touches first:
    /// the bucket, or with `depth` 2 the first entry of the bucket (a
    /// pipelined batch prefetches every key in two passes, so the misses of
    /// sixteen commands overlap instead of queueing).
    #[inline]
    pub fn prefetch(&self, hash: u64, depth: u8) {
        if let Some(seg) = self.segment(hash) {
            seg.prefetch(hash, depth);
        }
    }

    /// The member index of `key`'s collection when it has one (a
    /// `hashtable` set or hash, a `skiplist` sorted set), and which
    /// argument of a command on it names the member, so that a pipelined
    /// batch can prefetch its members' buckets as it does its keys.
    pub fn element_index(&self, hash: u64, key: &[u8]) -> Option<(&crate::dict::Dict, ElementArg<'_>)> {
        let e = self.segment(hash)?.find(hash, key)?;
        match e.value() {
            ValueRef::Set(Set::Table(d)) => Some((d, ElementArg::Second)),
            ValueRef::Hash(Hash::Table(d)) => Some((d, ElementArg::Second)),
            ValueRef::ZSet(z) => z.dict().map(|d| (d, ElementArg::Last(z))),
            _ => None,
        }
    }

    pub fn contains(&self, key: &[u8]) -> bool {
        self.get(key).is_some()
    }

    /// Store `value` under `key`, replacing any previous value and expiry.
    pub fn insert(&mut self, key: &[u8], value: NewValue<'_>, expire_at: Option<i64>, lru: u32) {
        self.insert_payload(key, payload(value), expire_at, lru);
    }

    fn insert_payload(&mut self, key: &[u8], value: Payload<'_>, expire_at: Option<i64>, lru: u32) {
        let h = hash_of(key);
        self.before_write(h);
        let seg = self.segment_mut(h);
        let expire = expire_at.map(|at| (at, 0));
        match seg.find_link(h, key) {
            Some(link) => {
                // SAFETY: `link` was just found; `replace` relinks before we free.
                unsafe {
                    let old = (*link).expect("found");
                    let new = EntryPtr::new(key, value, expire, lru);
                    seg.replace(link, old, new);
                    self.volatile = self.volatile + new.is_volatile() as usize - old.is_volatile() as usize;
                    release(old, crate::lazyfree::lazy_server_del());
                }
            }
            None => {
                let e = EntryPtr::new(key, value, expire, lru);
                seg.insert(h, e);
                self.len += 1;
                self.volatile += e.is_volatile() as usize;
            }
        }
    }

    /// Swap the entry for `key` for one built by `build` from the old one;
    /// `build` may move the old heap value into the new entry, in which case
    /// it must return `true` so the old one is released without it.
    fn rebuild(&mut self, key: &[u8], build: impl FnOnce(EntryPtr) -> (EntryPtr, bool)) -> bool {
        let h = hash_of(key);
        if self.segments.is_empty() {
            return false;
        }
        self.before_write(h);
        let seg = &mut self.segments[segment_of(h)];
        let Some(link) = seg.find_link(h, key) else { return false };
        // SAFETY: `link` was just found and `build` cannot reach the segment.
        unsafe {
            let old = (*link).expect("found");
            let (new, moved_heap) = build(old);
            seg.replace(link, old, new);
            self.volatile = self.volatile + new.is_volatile() as usize - old.is_volatile() as usize;
            if moved_heap {
                old.free_shell();
            } else {
                release(old, crate::lazyfree::lazy_server_del());
            }
        }
        true
    }

    /// Store an owned value under `key` (replacing any previous value and
    /// expiry), moving heap values in without copying them.
    pub fn insert_owned(&mut self, key: &[u8], value: OwnedValue, expire_at: Option<i64>, lru: u32) {
        let heap = |v: HeapValue| Payload::Heap(Box::new(v));
        match value {
            OwnedValue::Int(n) => self.insert_payload(key, Payload::Int(n), expire_at, lru),
            OwnedValue::Str(s, StrEncoding::Embstr) if s.len() <= u8::MAX as usize => {
                self.insert_payload(key, Payload::Embstr(&s), expire_at, lru)
            }
            OwnedValue::Str(s, _) => self.insert_payload(key, heap(HeapValue::Raw(s)), expire_at, lru),
            OwnedValue::List(q) => self.insert_payload(key, heap(HeapValue::List(Box::new(q))), expire_at, lru),
            OwnedValue::Hash(h) => self.insert_payload(key, heap(HeapValue::Hash(h)), expire_at, lru),
            OwnedValue::Set(x) => self.insert_payload(key, heap(HeapValue::Set(x)), expire_at, lru),
            OwnedValue::ZSet(z) => self.insert_payload(key, heap(HeapValue::ZSet(z)), expire_at, lru),
            OwnedValue::Stream(x) => self.insert_payload(key, heap(HeapValue::Stream(x)), expire_at, lru),
        }
    }

    /// The heap value of `key` (a list, a raw string), to change in place.
    pub fn heap_mut(&mut self, key: &[u8]) -> Option<&mut HeapValue> {
        let h = hash_of(key);
        self.before_write(h);
        self.segment(h)?.find(h, key)?.heap_mut()
    }

    /// Replace a key's value, keeping its expiry and access bits. An
    /// integer replacing an integer is written in place (INCR's path, as
    /// Redis updates an unshared int-encoded object).
    pub fn replace_value(&mut self, key: &[u8], value: NewValue<'_>) -> bool {
        if let NewValue::Int(n) = value {
            let h = hash_of(key);
            self.before_write(h);
            if let Some(e) = self.segment(h).and_then(|s| s.find(h, key)) {
                if e.set_int(n) {
                    return true;
                }
            }
        }
        self.rebuild(key, |old| {
            let expire = old.expire_at().map(|at| (at, 0));
            (old.rebuilt(payload(value), expire), false)
        })
    }

    /// Set or clear a key's expiry; false if the key is absent.
    pub fn set_expire(&mut self, key: &[u8], expire_at: Option<i64>) -> bool {
        let h = hash_of(key);
        self.before_write(h);
        let Some(e) = self.segment(h).and_then(|s| s.find(h, key)) else { return false };
        match (e.is_volatile(), expire_at) {
            (true, Some(at)) => {
                e.set_expire_at(at);
                true
            }
            (false, None) => true,
            _ => self.rebuild(key, |old| {
                let expire = expire_at.map(|at| (at, 0));
                match old.value() {
                    ValueRef::Int(n) => (old.rebuilt(Payload::Int(n), expire), false),
                    ValueRef::Str(s, StrEncoding::Embstr) => (old.rebuilt(Payload::Embstr(s), expire), false),
                    ValueRef::Str(_, StrEncoding::Raw)
                    | ValueRef::List(_)
                    | ValueRef::Hash(_)
                    | ValueRef::Set(_)
                    | ValueRef::ZSet(_)
                    | ValueRef::Stream(_) => {
                        let heap = old.take_heap().expect("raw strings and lists live on the heap");
                        (old.rebuilt(Payload::Heap(heap), expire), true)
                    }
                }
            }),
        }
    }

    pub fn set_lru(&mut self, key: &[u8], lru: u32) {
        let h = hash_of(key);
        if let Some(e) = self.segment(h).and_then(|s| s.find(h, key)) {
            e.set_lru(lru);
        }
    }

    /// A key's string as a growable buffer, converting it to the `raw`
    /// encoding first (Redis's dbUnshareStringValue: APPEND, SETRANGE);
    /// None when the key is absent or not a string.
    pub fn raw_mut(&mut self, key: &[u8]) -> Option<&mut Vec<u8>> {
        let h = hash_of(key);
        self.before_write(h);
        let e = self.segment(h)?.find(h, key)?;
        if e.heap_mut().is_none() {
            let bytes = e.value().string_bytes()?;
            self.rebuild(key, |old| {
                let expire = old.expire_at().map(|at| (at, 0));
                (old.rebuilt(Payload::Heap(Box::new(HeapValue::Raw(bytes))), expire), false)
            });
        }
        let e = self.segment(h)?.find(h, key)?;
        match e.heap_mut()? {
            HeapValue::Raw(v) => Some(v),
            _ => None,
        }
    }

    /// Delete a key; true if it was there.
    pub fn remove(&mut self, key: &[u8]) -> bool {
        self.remove_lazily(key, false)
    }

    /// [`Self::remove`], leaving a large value to the lazy free thread
    /// when `lazy` (expiry under lazyfree-lazy-expire).
    pub fn remove_lazily(&mut self, key: &[u8], lazy: bool) -> bool {
        match self.unlink(key) {
            Some(e) => {
                // SAFETY: unlinked, so nothing else refers to it.
                unsafe { release(e, lazy) };
                true
            }
            None => false,
        }
    }

    fn unlink(&mut self, key: &[u8]) -> Option<EntryPtr> {
        let h = hash_of(key);
        if self.segments.is_empty() {
            return None;
        }
        self.before_write(h);
        let e = self.segments[segment_of(h)].remove(h, key)?;
        self.len -= 1;
        self.volatile -= e.is_volatile() as usize;
        Some(e)
    }

    /// Remove a key and hand back its value, expiry and access bits.
    pub fn take(&mut self, key: &[u8]) -> Option<(OwnedValue, Option<i64>, u32)> {
        let e = self.unlink(key)?;
        let (expire, lru) = (e.expire_at(), e.lru());
        let value = match e.take_heap() {
            Some(heap) => heap.into_owned(),
            None => e.value().to_owned(),
        };
        // SAFETY: unlinked; its heap value (if any) was moved out above.
        unsafe { e.free_shell() };
        Some((value, expire, lru))
    }

    /// Move every key out into a table of its own, leaving this one empty
    /// (a snapshot in progress saves them first and stays with this one):
    /// FLUSHDB ASYNC frees the moved-out table in the background.
    pub fn take_all(&mut self) -> Table {
        while self.snapshot_step().is_some() {}
        let taken = Table {
            segments: std::mem::take(&mut self.segments),
            len: self.len,
            volatile: self.volatile,
            rehash_cursor: 0,
            snapshot: None,
        };
        self.clear();
        taken
    }

    /// Drop every key (a snapshot in progress saves them first).
    pub fn clear(&mut self) {
        while self.snapshot_step().is_some() {}
        self.segments = Vec::new();
        self.len = 0;
        self.volatile = 0;
        self.rehash_cursor = 0;
    }

    /// Every entry, expired or not, in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = Entry<'_>> + '_ {
        self.segments.iter().flat_map(|s| s.entries()).map(Entry::new)
    }

    /// One SCAN call: visit buckets from `cursor` until `count` entries were
    /// passed to `f` or `count * 10` buckets were visited, and return the
    /// next cursor (0: done). Redis's guarantee holds: a key present for the
    /// whole iteration is visited at least once; a key may be visited twice.
    pub fn scan(&self, cursor: u64, count: usize, mut f: impl FnMut(Entry<'_>)) -> u64 {
        let mut seg = (cursor & (SEGMENTS as u64 - 1)) as usize;
        let mut v = cursor >> SEGMENT_BITS;
        if self.segments.is_empty() {
            return 0;
        }
        let (mut emitted, mut visited) = (0usize, 0usize);
        let max_visits = count.saturating_mul(10).max(1);
        loop {
            let s = &self.segments[seg];
            if s.is_empty() {
                v = 0;
            } else {
                v = s.scan_step(v, &mut |e| {
                    emitted += 1;
                    f(Entry::new(e))
                });
                visited += 1;
            }
            if v == 0 {
                seg += 1;
                if seg == SEGMENTS {
                    return 0;
                }
            }
            if emitted >= count || visited >= max_visits {
                return (v << SEGMENT_BITS) | seg as u64;
            }
        }
    }

    /// A random key, every key equally likely (RANDOMKEY, eviction samples).
    pub fn random(&self, rng: &mut impl rand::Rng) -> Option<Entry<'_>> {
        if self.len == 0 {
            return None;
        }
        let mut r = rng.random_range(0..self.len);
        for s in &self.segments {
            if r < s.len() {
                return s.random(rng).map(Entry::new);
            }
            r -= s.len();
        }
        None
    }

    /// A random key among those with an expiry (the active expiry cycle).
    pub fn random_volatile(&self, rng: &mut impl rand::Rng) -> Option<Entry<'_>> {
        if self.volatile == 0 {
            return None;
        }
        let mut r = rng.random_range(0..self.volatile);
        for s in &self.segments {
            if r < s.volatile.len() {
                return Some(Entry::new(s.volatile[r]));
            }
            r -= s.volatile.len();
        }
        None
    }

    /// Bytes the table spends beyond its entries: segment headers, bucket
    /// arrays and the volatile lists (used_memory_overhead's share).
    pub fn overhead_bytes(&self) -> usize {
        self.segments.capacity() * std::mem::size_of::<Segment>() + self.segments.iter().map(Segment::overhead_bytes).sum::<usize>()
    }

    /// About `n` keys for eviction to weigh, among all keys or only those
    /// with an expiry (evictionPoolPopulate's dictGetSomeKeys): neighbours
    /// in one size-weighted random segment, then the next segments if it
    /// holds fewer.
    pub fn sample(&self, volatile: bool, n: usize, rng: &mut impl rand::Rng, mut f: impl FnMut(Entry<'_>)) {
        let size = |s: &Segment| if volatile { s.volatile.len() } else { s.len() };
        let total = if volatile { self.volatile } else { self.len };
        if total == 0 || n == 0 {
            return;
        }
        let mut r = rng.random_range(0..total);
        let mut first = 0;
        for (i, s) in self.segments.iter().enumerate() {
            if r < size(s) {
                first = i;
                break;
            }
            r -= size(s);
        }
        let mut picked: Vec<EntryPtr> = Vec::with_capacity(n);
        for step in 0..SEGMENTS {
            let s = &self.segments[(first + step) % SEGMENTS];
            let want = n - picked.len();
            if volatile {
                let len = s.volatile.len();
                let at = if step == 0 { r } else { 0 };
                picked.extend((0..want.min(len)).map(|k| s.volatile[(at + k) % len]));
            } else {
                s.sample(rng, want, &mut picked);
            }
            if picked.len() >= n {
                break;
            }
        }
        for e in picked {
            f(Entry::new(e));
        }
    }

    /// Move `n` buckets of some segment's resize forward; false when no
    /// segment is resizing (serverCron's incremental rehashing).
    pub fn rehash_step(&mut self, n: usize) -> bool {
        for _ in 0..self.segments.len() {
            let i = self.rehash_cursor;
            if self.segments[i].rehash_step(n) {
                return true;
            }
            self.rehash_cursor = (i + 1) % self.segments.len();
        }
        false
    }
}

/// Free an entry that has left its table; with `lazy`, a large heap value
/// goes to the lazy free thread instead (freeObjAsync).
///
/// # Safety
/// `e` is unlinked: nothing else refers to it.
unsafe fn release(e: EntryPtr, lazy: bool) {
    if lazy {
        if let Some(heap) = e.take_heap() {
            e.free_shell();
            crate::lazyfree::free(heap.into_owned());
            return;
        }
    }
    e.free();
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use std::collections::HashSet;

    fn key(i: usize) -> Vec<u8> {
        format!("key:{i:012}").into_bytes()
    }

    fn full_scan(t: &Table) -> HashSet<Vec<u8>> {
        let mut seen = HashSet::new();
        let mut cursor = 0;
        loop {
            cursor = t.scan(cursor, 10, |e| {
                seen.insert(e.key().to_vec());
            });
            if cursor == 0 {
                return seen;
            }
        }
    }

    #[test]
    fn insert_get_replace_remove() {
        let mut t = Table::new();
        for i in 0..10_000 {
            t.insert(&key(i), NewValue::Int(i as i64), None, 0);
        }
        assert_eq!(t.len(), 10_000);
        for i in 0..10_000 {
            assert_eq!(t.get(&key(i)).unwrap().value(), ValueRef::Int(i as i64));
        }
        t.insert(&key(5), NewValue::Str(b"hello", StrEncoding::Embstr), Some(99), 0);
        assert_eq!(t.len(), 10_000);
        assert_eq!(t.volatile_len(), 1);
        assert!(t.replace_value(&key(5), NewValue::Str(&[b'x'; 100], StrEncoding::Raw)));
        assert_eq!(t.get(&key(5)).unwrap().expire_at(), Some(99));
        for i in (0..10_000).step_by(2) {
            assert!(t.remove(&key(i)));
        }
        assert!(!t.remove(&key(0)));
        assert_eq!(t.len(), 5_000);
        assert_eq!(t.volatile_len(), 1, "key 5 is odd and keeps its expiry");
        assert_eq!(t.iter().count(), 5_000);
    }

    #[test]
    fn expiry_moves_entries_in_and_out_of_the_volatile_list() {
        let mut t = Table::new();
        for i in 0..100 {
            t.insert(&key(i), NewValue::Str(&[b'v'; 60], StrEncoding::Raw), None, 0);
        }
        for i in 0..50 {
            assert!(t.set_expire(&key(i), Some(1000 + i as i64)));
        }
        assert_eq!(t.volatile_len(), 50);
        for i in 0..25 {
            assert!(t.set_expire(&key(i), None));
        }
        assert_eq!(t.volatile_len(), 25);
        let mut rng = rand::rngs::SmallRng::seed_from_u64(1);
        for _ in 0..200 {
            let e = t.random_volatile(&mut rng).unwrap();
            assert!(e.expire_at().unwrap() >= 1025);
        }
        let (v, exp, _) = t.take(&key(30)).unwrap();
        assert_eq!(v, OwnedValue::Str(vec![b'v'; 60], StrEncoding::Raw));
        assert_eq!(exp, Some(1030));
        assert_eq!(t.volatile_len(), 24);
        assert!(matches!(t.get(&key(3)).unwrap().value(), ValueRef::Str(s, StrEncoding::Raw) if s.len() == 60));
    }

    #[test]
    fn int_replacing_int_is_written_in_place() {
        let mut t = Table::new();
        t.insert(b"n", NewValue::Int(1), Some(77), 9);
        let before = t.get(b"n").unwrap().ptr;
        assert!(t.replace_value(b"n", NewValue::Int(-5)));
        let e = t.get(b"n").unwrap();
        assert_eq!(e.ptr, before, "no new allocation");
        assert_eq!((e.value(), e.expire_at(), e.lru()), (ValueRef::Int(-5), Some(77), 9));
        // A string in the slot of an int needs a new entry, with the same expiry.
        assert!(t.replace_value(b"n", NewValue::Str(b"abc", StrEncoding::Embstr)));
        let e = t.get(b"n").unwrap();
        assert_eq!((e.value(), e.expire_at()), (ValueRef::Str(b"abc", StrEncoding::Embstr), Some(77)));
    }

    #[test]
    fn raw_mut_converts_and_grows() {
        let mut t = Table::new();
        t.insert(b"n", NewValue::Int(12), Some(5), 0);
        t.raw_mut(b"n").unwrap().extend_from_slice(b"34");
        assert_eq!(t.get(b"n").unwrap().value(), ValueRef::Str(b"1234", StrEncoding::Raw));
        assert_eq!(t.get(b"n").unwrap().expire_at(), Some(5));
    }

    #[test]
    fn scan_sees_every_key_across_growth_and_shrink() {
        let mut t = Table::new();
        for i in 0..1000 {
            t.insert(&key(i), NewValue::Int(0), None, 0);
        }
        assert_eq!(full_scan(&t).len(), 1000);
        // Keys present throughout are seen even while the table grows and
        // shrinks between calls.
        let mut seen = HashSet::new();
        let mut cursor = 0;
        let mut extra = 1000;
        loop {
            cursor = t.scan(cursor, 10, |e| {
                seen.insert(e.key().to_vec());
            });
            for _ in 0..50 {
                t.insert(&key(extra), NewValue::Int(0), None, 0);
                extra += 1;
            }
            if cursor == 0 {
                break;
            }
        }
        for i in 0..1000 {
            assert!(seen.contains(&key(i)), "missed {i}");
        }
        for i in 1000..extra {
            t.remove(&key(i));
        }
        let mut seen = HashSet::new();
        let mut cursor = 0;
        let mut removed = 999;
        loop {
            cursor = t.scan(cursor, 5, |e| {
                seen.insert(e.key().to_vec());
            });
            // Shrink under the cursor: remove keys from the top.
            for _ in 0..20 {
                if removed >= 500 {
                    t.remove(&key(removed));
                    removed -= 1;
                }
            }
            if cursor == 0 {
                break;
            }
        }
        for i in 0..500 {
            assert!(seen.contains(&key(i)), "missed {i} while shrinking");
        }
    }

    #[test]
    fn random_is_spread_over_keys() {
        let mut t = Table::new();
        for i in 0..64 {
            t.insert(&key(i), NewValue::Int(0), None, 0);
        }
        let mut rng = rand::rngs::SmallRng::seed_from_u64(7);
        let seen: HashSet<_> = (0..5000).map(|_| t.random(&mut rng).unwrap().key().to_vec()).collect();
        assert_eq!(seen.len(), 64);
    }
}
