//! One segment of a database: a chained hash table that grows and shrinks by
//! incremental rehashing (two bucket arrays while a resize is under way, a
//! few buckets moved per write and per cron tick), as Redis's `dict.c` does,
//! plus the list of its entries that carry an expiry.
//!
//! Chaining (rather than open addressing) is what lets SCAN keep Redis's
//! guarantee: an entry only ever moves between the bucket `h & mask` of the
//! old array and the same-suffix buckets of the new one, so the
//! reverse-binary cursor of [`Segment::scan_step`] visits every bucket that
//! can hold it, before and after a resize.

use super::entry::EntryPtr;

/// Smallest bucket array (DICT_HT_INITIAL_SIZE).
const INITIAL_BUCKETS: usize = 4;
/// Shrink when fewer than this percent of buckets would be used (HASHTABLE_MIN_FILL).
const MIN_FILL_PERCENT: usize = 10;
/// Empty buckets one rehash step may skip per bucket moved (dictRehash's empty_visits).
const EMPTY_VISITS_PER_STEP: usize = 10;

/// Entries [`Segment::random_fair`] draws from (dictGetFairRandomKey's
/// GETFAIR_NUM_ENTRIES).
const FAIR_SAMPLE: usize = 15;

type Buckets = Box<[Option<EntryPtr>]>;

fn new_buckets(n: usize) -> Buckets {
    vec![None; n].into_boxed_slice()
}

#[derive(Default)]
pub struct Segment {
    /// `tables[0]` is the live array; `tables[1]` is non-empty only while
    /// rehashing into it.
    tables: [Buckets; 2],
    used: usize,
    /// Next bucket of `tables[0]` to move, while rehashing.
    rehash_index: Option<usize>,
    /// Entries with an expiry; each entry stores its index here.
    pub volatile: Vec<EntryPtr>,
}

impl Segment {
    pub fn len(&self) -> usize {
        self.used
    }

    pub fn is_empty(&self) -> bool {
        self.used == 0
    }

    pub fn is_rehashing(&self) -> bool {
        self.rehash_index.is_some()
    }

    /// The live entry for `key`, if any.
    pub fn find(&self, hash: u64, key: &[u8]) -> Option<EntryPtr> {
        for t in self.tables_holding(hash) {
            let mut cur = t[hash as usize & (t.len() - 1)];
            while let Some(e) = cur {
                if e.key() == key {
                    return Some(e);
                }
                cur = e.next();
            }
        }
        None
    }

    /// Start loading the bucket for `hash` (depth 1), or the first entry
    /// in it (depth 2: call after depth 1 had time to land).
    #[inline]
    pub fn prefetch(&self, hash: u64, depth: u8) {
        for t in self.tables_holding(hash) {
            let slot = &t[hash as usize & (t.len() - 1)];
            match depth {
                1 => crate::prefetch::read(slot as *const Option<EntryPtr> as *const u8),
                _ => {
                    if let Some(e) = *slot {
                        prefetch_entry(e);
                    }
                }
            }
        }
    }

    /// The bucket arrays that may hold an entry of hash `hash`: while
    /// rehashing, the new one (where every insert goes) and the old one
    /// unless its bucket was already moved (and so is empty); reading that
    /// empty bucket would cost a cache miss for nothing.
    #[inline]
    fn tables_holding(&self, hash: u64) -> impl Iterator<Item = &Buckets> {
        let moved = |i: usize| self.rehash_index.is_some_and(|next| i < next);
        self.tables.iter().enumerate().filter_map(move |(n, t)| {
            let skip = t.is_empty() || (n == 0 && moved(hash as usize & (t.len() - 1)));
            (!skip).then_some(t)
        })
    }

    /// The link that points at `key`'s entry (a bucket or the previous
    /// entry's next field), so the entry can be replaced or unlinked.
    pub fn find_link(&mut self, hash: u64, key: &[u8]) -> Option<*mut Option<EntryPtr>> {
        for t in 0..2 {
            if self.tables[t].is_empty() {
                continue;
            }
            let mask = self.tables[t].len() - 1;
            if t == 0 && self.rehash_index.is_some_and(|next| hash as usize & mask < next) {
                // Already moved: see tables_holding.
                continue;
            }
            let mut link: *mut Option<EntryPtr> = &mut self.tables[t][hash as usize & mask];
            // SAFETY: `link` points into a bucket array or an entry this
            // segment owns; nothing else can change them while we hold &mut self.
            unsafe {
                while let Some(e) = *link {
                    if e.key() == key {
                        return Some(link);
                    }
                    link = e.next_slot();
                }
            }
        }
        None
    }

    /// Link a new entry whose key is not present.
    pub fn insert(&mut self, hash: u64, e: EntryPtr) {
        self.rehash_step(1);
        self.grow_if_needed();
        let t = if self.is_rehashing() { 1 } else { 0 };
        let slot = &mut self.tables[t][hash as usize & (self.tables[t].len() - 1)];
        e.set_next(*slot);
        *slot = Some(e);
        self.used += 1;
        if e.is_volatile() {
            self.add_volatile(e);
        }
    }

    /// Put `new` where `old` was (found through `link`), carrying over its
    /// place in the volatile list. The caller frees `old`.
    ///
    /// # Safety
    /// `link` must come from [`Self::find_link`] with no change in between.
    pub unsafe fn replace(&mut self, link: *mut Option<EntryPtr>, old: EntryPtr, new: EntryPtr) {
        new.set_next(old.next());
        *link = Some(new);
        match (old.is_volatile(), new.is_volatile()) {
            (true, true) => {
                let i = old.volatile_index();
                new.set_volatile_index(i);
                self.volatile[i as usize] = new;
            }
            (true, false) => self.remove_volatile(old),
            (false, true) => self.add_volatile(new),
            (false, false) => {}
        }
    }

    /// Unlink the entry at `link` and hand it to the caller.
    ///
    /// # Safety
    /// As for [`Self::replace`].
    pub unsafe fn unlink(&mut self, link: *mut Option<EntryPtr>) -> EntryPtr {
        let e = (*link).expect("link points at an entry");
        *link = e.next();
        self.used -= 1;
        if e.is_volatile() {
            self.remove_volatile(e);
        }
        self.shrink_if_needed();
        e
    }

    /// Remove the entry for `key` and hand it to the caller.
    pub fn remove(&mut self, hash: u64, key: &[u8]) -> Option<EntryPtr> {
        self.rehash_step(1);
        let link = self.find_link(hash, key)?;
        // SAFETY: just found.
        Some(unsafe { self.unlink(link) })
    }

    /// Add an entry (made volatile by [`Self::replace`] or `insert`) to the
    /// volatile list. The entry must carry the VOLATILE layout.
    fn add_volatile(&mut self, e: EntryPtr) {
        e.set_volatile_index(self.volatile.len() as u32);
        self.volatile.push(e);
    }

    fn remove_volatile(&mut self, e: EntryPtr) {
        let i = e.volatile_index() as usize;
        debug_assert_eq!(self.volatile[i], e);
        self.volatile.swap_remove(i);
        if let Some(&moved) = self.volatile.get(i) {
            moved.set_volatile_index(i as u32);
        }
    }

    /// Size an empty segment's bucket array for `n` entries (dictExpand
    /// before a bulk load), so loading does not rehash.
    pub fn reserve(&mut self, n: usize) {
        if self.used == 0 && !self.is_rehashing() {
            self.tables[0] = new_buckets(n.next_power_of_two().max(INITIAL_BUCKETS));
        }
    }

    fn grow_if_needed(&mut self) {
        if self.is_rehashing() {
            return;
        }
        if self.tables[0].is_empty() {
            self.tables[0] = new_buckets(INITIAL_BUCKETS);
        } else if self.used >= self.tables[0].len() {
            self.start_resize((self.used + 1).next_power_of_two());
        }
    }

    fn shrink_if_needed(&mut self) {
        let size = self.tables[0].len();
        if self.is_rehashing() || size <= INITIAL_BUCKETS {
            return;
        }
        if self.used * 100 / size < MIN_FILL_PERCENT {
            self.start_resize(self.used.next_power_of_two().max(INITIAL_BUCKETS));
        }
    }

    fn start_resize(&mut self, buckets: usize) {
        if buckets == self.tables[0].len() {
            return;
        }
        self.tables[1] = new_buckets(buckets);
        self.rehash_index = Some(0);
    }

    /// Move up to `n` buckets to the new array (dictRehash); false when the
    /// resize is complete or none is under way.
    pub fn rehash_step(&mut self, n: usize) -> bool {
        let Some(mut index) = self.rehash_index else { return false };
        let mut empty_visits = n * EMPTY_VISITS_PER_STEP;
        let new_mask = self.tables[1].len() - 1;
        for _ in 0..n {
            while index < self.tables[0].len() && self.tables[0][index].is_none() {
                index += 1;
                empty_visits -= 1;
                if empty_visits == 0 {
                    self.rehash_index = Some(index);
                    return true;
                }
            }
            if index == self.tables[0].len() {
                break;
            }
            let mut cur = self.tables[0][index].take();
            while let Some(e) = cur {
                cur = e.next();
                let slot = &mut self.tables[1][super::hash_of(e.key()) as usize & new_mask];
                e.set_next(*slot);
                *slot = Some(e);
            }
            index += 1;
        }
        if index >= self.tables[0].len() {
            self.tables[0] = std::mem::take(&mut self.tables[1]);
            self.rehash_index = None;
            return false;
        }
        // The next step rehashes this bucket's entries, reading each key:
        // start loading the first one now.
        if let Some(e) = self.tables[0][index] {
            prefetch_entry(e);
        }
        self.rehash_index = Some(index);
        true
    }

    /// Visit the entries in the bucket(s) at cursor `v` and return the next
    /// cursor, 0 when the segment is done (Redis's dictScan: the cursor is
    /// incremented from its high bits, so growing or shrinking the bucket
    /// array between calls never skips a bucket already due).
    pub fn scan_step(&self, v: u64, f: &mut impl FnMut(EntryPtr)) -> u64 {
        let emit = |t: &Buckets, i: u64, f: &mut dyn FnMut(EntryPtr)| {
            let mut cur = t[i as usize];
            while let Some(e) = cur {
                cur = e.next();
                f(e);
            }
        };
        let mut v = v;
        if self.tables[0].is_empty() {
            return 0;
        }
        if !self.is_rehashing() {
            let m0 = (self.tables[0].len() - 1) as u64;
            emit(&self.tables[0], v & m0, f);
            v |= !m0;
            return next_reversed(v);
        }
        let (small, large) = if self.tables[0].len() <= self.tables[1].len() {
            (&self.tables[0], &self.tables[1])
        } else {
            (&self.tables[1], &self.tables[0])
        };
        let m0 = (small.len() - 1) as u64;
        let m1 = (large.len() - 1) as u64;
        emit(small, v & m0, f);
        loop {
            emit(large, v & m1, f);
            v |= !m1;
            v = next_reversed(v);
            if v & (m0 ^ m1) == 0 {
                break;
            }
        }
        v
    }

    /// A uniformly chosen bucket's random entry (dictGetRandomKey): the
    /// caller's segment choice is weighted by size, the bucket choice here
    /// retries empty buckets.
    pub fn random(&self, rng: &mut impl rand::Rng) -> Option<EntryPtr> {
        if self.used == 0 {
            return None;
        }
        let head = loop {
            let b = match self.rehash_index {
                Some(start) => {
                    let (n0, n1) = (self.tables[0].len(), self.tables[1].len());
                    let i = rng.random_range(start..n0 + n1);
                    if i < n0 {
                        self.tables[0][i]
                    } else {
                        self.tables[1][i - n0]
                    }
                }
                None => self.tables[0][rng.random_range(0..self.tables[0].len())],
            };
            if let Some(e) = b {
                break e;
            }
        };
        let mut len = 0;
        let mut cur = Some(head);
        while let Some(e) = cur {
            len += 1;
            cur = e.next();
        }
        let mut e = head;
        for _ in 0..rng.random_range(0..len) {
            e = e.next().expect("counted above");
        }
        Some(e)
    }

    /// A random entry with every entry about equally likely
    /// (dictGetFairRandomKey): collect the entries of consecutive buckets
    /// from a random one until there are [`FAIR_SAMPLE`], then pick one of
    /// them uniformly. [`Self::random`] favours entries in short chains,
    /// which SRANDMEMBER's distribution would show.
    pub fn random_fair(&self, rng: &mut impl rand::Rng) -> Option<EntryPtr> {
        if self.used == 0 {
            return None;
        }
        let (n0, n1) = (self.tables[0].len(), self.tables[1].len());
        let total = n0 + n1;
        let start = rng.random_range(0..total);
        let mut sample: Vec<EntryPtr> = Vec::with_capacity(FAIR_SAMPLE);
        for step in 0..total {
            let i = (start + step) % total;
            let mut cur = if i < n0 { self.tables[0][i] } else { self.tables[1][i - n0] };
            while let Some(e) = cur {
                sample.push(e);
                cur = e.next();
            }
            if sample.len() >= FAIR_SAMPLE {
                break;
            }
        }
        Some(sample[rng.random_range(0..sample.len())])
    }

    /// Up to `n` entries from consecutive buckets starting at a random one
    /// (dictGetSomeKeys): cheap samples for eviction, where a bucket's
    /// neighbours are as good a sample as any other keys.
    pub fn sample(&self, rng: &mut impl rand::Rng, n: usize, out: &mut Vec<EntryPtr>) {
        if self.used == 0 || n == 0 {
            return;
        }
        let (n0, n1) = (self.tables[0].len(), self.tables[1].len());
        let total = n0 + n1;
        let start = rng.random_range(0..total);
        let wanted = out.len() + n;
        for step in 0..total {
            let i = (start + step) % total;
            let mut cur = if i < n0 { self.tables[0][i] } else { self.tables[1][i - n0] };
            while let Some(e) = cur {
                out.push(e);
                if out.len() == wanted {
                    return;
                }
                cur = e.next();
            }
        }
    }

    /// Bytes of the bucket arrays and the volatile list: what the table
    /// costs beyond its entries (INFO's overhead.hashtable.main/expires).
    pub fn overhead_bytes(&self) -> usize {
        let ptr = std::mem::size_of::<Option<EntryPtr>>();
        (self.tables[0].len() + self.tables[1].len()) * ptr + self.volatile.capacity() * ptr
    }

    /// Every entry, in bucket order.
    pub fn entries(&self) -> impl Iterator<Item = EntryPtr> + '_ {
        self.tables.iter().flat_map(|t| t.iter()).flat_map(|head| {
            let mut cur = *head;
            std::iter::from_fn(move || {
                let e = cur?;
                cur = e.next();
                Some(e)
            })
        })
    }

    /// Free every entry and return to the empty state.
    pub fn clear(&mut self) {
        for t in &mut self.tables {
            for head in t.iter_mut() {
                let mut cur = head.take();
                while let Some(e) = cur {
                    cur = e.next();
                    // SAFETY: unlinked above, never reachable again.
                    unsafe { e.free() };
                }
            }
        }
        self.tables = Default::default();
        self.used = 0;
        self.rehash_index = None;
        self.volatile = Vec::new();
    }
}

impl Drop for Segment {
    fn drop(&mut self) {
        self.clear();
    }
}

/// Start loading an entry: a 48-byte entry may straddle two cache lines,
/// and its key (compared first) sits at the end, so both.
#[inline(always)]
fn prefetch_entry(e: EntryPtr) {
    crate::prefetch::read(e.as_ptr());
    crate::prefetch::read(e.as_ptr().wrapping_add(40));
}

/// Increment a cursor from its most significant bit (bit-reverse, add one,
/// reverse back).
#[inline]
fn next_reversed(v: u64) -> u64 {
    v.reverse_bits().wrapping_add(1).reverse_bits()
}

// The replace/unlink contract treats a link as a nullable pointer.
const _: () = assert!(std::mem::size_of::<Option<EntryPtr>>() == std::mem::size_of::<*mut u8>());
