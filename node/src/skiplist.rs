//! The ordered half of a `skiplist`-encoded sorted set: Pugh's skiplist with
//! a span on every link (how many elements the link jumps over), as Redis's
//! `zskiplist`, so that finding an element by rank and the rank of an
//! element both take O(log N). Elements are ordered by score, then by member
//! bytes.
//!
//! A search on a large set is bound by cache misses, one per node it lands
//! on, so each node is one block in a byte arena holding everything a step
//! reads, and every link also carries the score of the node it points to:
//!
//! ```text
//! word   field
//! 0      score (f64 bits)
//! 1      backward node (u32) | level << 32
//! 2      member length
//! 3..    per level: forward node (u32) | span << 32, then the forward node's score
//! ..     member bytes, padded to a word
//! ```
//!
//! A step compares the link's cached score without touching the node it
//! points to (members only on equal scores) and reads that node only when
//! it moves onto it, where the links it needs next sit beside the score: one
//! miss per node passed, where keeping levels apart from scores cost two.
//! Nodes are named by word index (`u32`), so no unsafe code is needed.
//! Freed blocks are reused by blocks of the same size, and the arena is
//! compacted once most of it is free.

use std::cmp::Ordering;

/// Redis's ZSKIPLIST_MAXLEVEL: enough for 2^32 elements at p = 1/2.
pub const MAX_LEVEL: usize = 32;

/// Index of the header node; as a link target it means "none", since no
/// link ever points back at the header.
const HEAD: u32 = 0;
const NONE: u32 = 0;

/// Header words before a node's links.
const HDR: usize = 3;
/// Freed blocks up to this many words are kept for reuse by size; larger
/// ones wait for compaction.
const REUSE_WORDS: usize = 64;

/// Words of a node block of `level` links and a member of `len` bytes.
fn block_words(level: usize, len: usize) -> usize {
    HDR + 2 * level + len.div_ceil(8)
}

#[derive(Clone, Debug)]
pub struct SkipList {
    /// Node blocks, in 8-byte words (native endian).
    mem: Vec<u8>,
    /// Free blocks by size in words.
    free: Vec<Vec<u32>>,
    /// Words in freed blocks, reusable or not.
    free_words: usize,
    tail: u32,
    len: usize,
    /// Levels in use (at least 1).
    level: usize,
    /// xorshift state for node levels: a sorted set has no access to the
    /// server's generator when it is built (RDB loads, conversions).
    seed: u64,
}

impl Default for SkipList {
    fn default() -> Self {
        SkipList::new()
    }
}

impl SkipList {
    pub fn new() -> SkipList {
        let mut l = SkipList {
            mem: Vec::new(),
            free: Vec::new(),
            free_words: 0,
            tail: NONE,
            len: 0,
            level: 1,
            seed: 0x9E37_79B9_7F4A_7C15,
        };
        let head = l.alloc(MAX_LEVEL, b"", 0.0);
        debug_assert_eq!(head, HEAD);
        l
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    #[inline]
    fn word(&self, w: usize) -> u64 {
        u64::from_ne_bytes(self.mem[w * 8..w * 8 + 8].try_into().expect("8 bytes"))
    }

    #[inline]
    fn set_word(&mut self, w: usize, v: u64) {
        self.mem[w * 8..w * 8 + 8].copy_from_slice(&v.to_ne_bytes());
    }

    #[inline]
    fn score(&self, n: u32) -> f64 {
        f64::from_bits(self.word(n as usize))
    }

    #[inline]
    fn backward(&self, n: u32) -> u32 {
        self.word(n as usize + 1) as u32
    }

    #[inline]
    fn node_level(&self, n: u32) -> usize {
        (self.word(n as usize + 1) >> 32) as usize
    }

    fn set_backward(&mut self, n: u32, back: u32) {
        let w = n as usize + 1;
        self.set_word(w, self.word(w) & !0xffff_ffff | u64::from(back));
    }

    fn member(&self, n: u32) -> &[u8] {
        let len = self.word(n as usize + 2) as usize;
        let start = (n as usize + HDR + 2 * self.node_level(n)) * 8;
        &self.mem[start..start + len]
    }

    fn block_len(&self, n: u32) -> usize {
        block_words(self.node_level(n), self.word(n as usize + 2) as usize)
    }

    /// Level `i`'s link of `n`: (forward, span, score of forward).
    #[inline]
    fn link(&self, n: u32, i: usize) -> (u32, u32, f64) {
        let w = n as usize + HDR + 2 * i;
        let l = self.word(w);
        (l as u32, (l >> 32) as u32, f64::from_bits(self.word(w + 1)))
    }

    #[inline]
    fn forward(&self, n: u32, i: usize) -> u32 {
        self.word(n as usize + HDR + 2 * i) as u32
    }

    #[inline]
    fn span(&self, n: u32, i: usize) -> u32 {
        (self.word(n as usize + HDR + 2 * i) >> 32) as u32
    }

    fn set_link(&mut self, n: u32, i: usize, forward: u32, span: u32, score: f64) {
        let w = n as usize + HDR + 2 * i;
        self.set_word(w, u64::from(forward) | u64::from(span) << 32);
        self.set_word(w + 1, score.to_bits());
    }

    fn set_span(&mut self, n: u32, i: usize, span: u32) {
        let w = n as usize + HDR + 2 * i;
        self.set_word(w, self.word(w) & 0xffff_ffff | u64::from(span) << 32);
    }

    /// A level with probability 1/2 of each further level, where Redis's
    /// ZSKIPLIST_P is 1/4. A search lands on about (1/p - 1) log_{1/p} N
    /// nodes, a cache miss each on a large set: 1.44 ln N at 1/2 against
    /// 2.16 ln N at 1/4, a third fewer, for two thirds of a link (11 bytes)
    /// more per node. Levels are not visible to clients.
    fn random_level(&mut self) -> usize {
        self.seed ^= self.seed << 13;
        self.seed ^= self.seed >> 7;
        self.seed ^= self.seed << 17;
        // One random bit per level; the top bit ends the run, so 64 bits
        // always decide a level within MAX_LEVEL.
        (self.seed | 1 << (MAX_LEVEL - 1)).trailing_zeros() as usize + 1
    }

    /// A new, unlinked node block.
    fn alloc(&mut self, level: usize, member: &[u8], score: f64) -> u32 {
        let words = block_words(level, member.len());
        let n = match self.free.get_mut(words).and_then(Vec::pop) {
            Some(n) => {
                self.free_words -= words;
                n
            }
            None => {
                let n = self.mem.len() / 8;
                assert!(n + words <= u32::MAX as usize, "sorted set arena beyond 32 GB");
                self.mem.resize((n + words) * 8, 0);
                n as u32
            }
        };
        let w = n as usize;
        self.set_word(w, score.to_bits());
        self.set_word(w + 1, (level as u64) << 32);
        self.set_word(w + 2, member.len() as u64);
        for i in 0..level {
            self.set_link(n, i, NONE, 0, 0.0);
        }
        let start = (w + HDR + 2 * level) * 8;
        self.mem[start..start + member.len()].copy_from_slice(member);
        n
    }

    /// Give back the block of an unlinked node.
    fn release(&mut self, n: u32) {
        let words = self.block_len(n);
        if words <= REUSE_WORDS {
            if self.free.len() <= words {
                self.free.resize_with(words + 1, Vec::new);
            }
            self.free[words].push(n);
        }
        self.free_words += words;
    }

    /// The predecessor of (`score`, `member`) on every level, and the rank
    /// of each predecessor.
    fn path(&self, score: f64, member: &[u8]) -> ([u32; MAX_LEVEL], [u32; MAX_LEVEL]) {
        let mut s = Search::new(self, score, member);
        while s.levels > 0 {
            self.step(&mut s);
        }
        (s.update, s.ranks)
    }

    /// [`SkipList::path`] for two elements at once, a step of each in turn:
    /// the searches do not depend on each other, so the cache misses of
    /// one overlap those of the other and both take about as long as one.
    fn paths(&self, a: (f64, &[u8]), b: (f64, &[u8])) -> [([u32; MAX_LEVEL], [u32; MAX_LEVEL]); 2] {
        let mut a = Search::new(self, a.0, a.1);
        let mut b = Search::new(self, b.0, b.1);
        while a.levels > 0 || b.levels > 0 {
            if a.levels > 0 {
                self.step(&mut a);
            }
            if b.levels > 0 {
                self.step(&mut b);
            }
        }
        [(a.update, a.ranks), (b.update, b.ranks)]
    }

    /// One step of a search: along the current level, or down from it.
    #[inline(always)]
    fn step(&self, s: &mut Search<'_>) {
        let i = s.levels - 1;
        let (f, span, score) = self.link(s.x, i);
        // The member is only read on a tie: it is the one access that
        // lands on the forward node.
        if f != NONE && (score < s.score || (score == s.score && self.member(f) < s.member)) {
            s.rank += span;
            s.x = f;
        } else {
            s.update[i] = s.x;
            s.ranks[i] = s.rank;
            s.levels = i;
        }
    }

    /// Start loading every node the searches for `targets` will land on,
    /// changing nothing: each round moves every search onto its next node
    /// and prefetches the link it reads there, so the misses of all the
    /// searches overlap instead of coming one after another. A pipelined
    /// batch of ZADDs warms its paths this way before its commands run (one
    /// after another, as they must), and their searches then hit the cache.
    /// A path that an earlier command of the batch changes costs only a
    /// load or two.
    pub fn warm(&self, targets: &[(f64, &[u8])]) {
        const MAX: usize = 32;
        let targets = &targets[..targets.len().min(MAX)];
        let mut at = [Warming { x: HEAD, levels: self.level, tie: NONE, loaded: NONE }; MAX];
        let mut live = true;
        while live {
            live = false;
            for (&(score, member), w) in targets.iter().zip(at.iter_mut()) {
                while w.levels > 0 {
                    let i = w.levels - 1;
                    let (f, _, s) = self.link(w.x, i);
                    let mut ahead = f != NONE && s < score;
                    if f != NONE && s == score {
                        // A tie compares members, which sit at the end of
                        // the block, past a header that says where: two
                        // loads, each given a round to land.
                        if w.loaded != f {
                            live = true;
                            if w.tie != f {
                                w.tie = f;
                                crate::prefetch::read(self.mem[f as usize * 8..].as_ptr());
                            } else {
                                w.loaded = f;
                                crate::prefetch::read(self.member(f).as_ptr());
                            }
                            break;
                        }
                        ahead = self.member(f) < member;
                    }
                    if ahead {
                        // The next round reads `f`'s link on this level and
                        // most likely the one below.
                        let link = (f as usize + HDR + 2 * i) * 8;
                        crate::prefetch::read(self.mem[link..].as_ptr());
                        crate::prefetch::read(self.mem[link.saturating_sub(16)..].as_ptr());
                        w.x = f;
                        live = true;
                        break;
                    }
                    w.levels = i;
                }
            }
        }
    }

    /// Add an element known to be absent.
    pub fn insert(&mut self, member: &[u8], score: f64) {
        let level = self.random_level();
        let n = self.alloc(level, member, score);
        let (update, rank) = self.path(score, member);
        self.link_in(n, update, rank);
    }

    /// Link the unlinked node `n` after its predecessors `update` (of
    /// ranks `rank`) on each of its levels.
    fn link_in(&mut self, n: u32, mut update: [u32; MAX_LEVEL], mut rank: [u32; MAX_LEVEL]) {
        let level = self.node_level(n);
        if level > self.level {
            for i in self.level..level {
                rank[i] = 0;
                update[i] = HEAD;
                self.set_span(HEAD, i, self.len as u32);
            }
            self.level = level;
        }
        let score = self.score(n);
        for i in 0..level {
            let u = update[i];
            let (u_forward, u_span, u_score) = self.link(u, i);
            let skipped = rank[0] - rank[i];
            self.set_link(n, i, u_forward, u_span.wrapping_sub(skipped), u_score);
            self.set_link(u, i, n, skipped + 1, score);
        }
        // Links above the new node's height now jump over one more element.
        for (i, &u) in update.iter().enumerate().take(self.level).skip(level) {
            self.set_span(u, i, self.span(u, i).wrapping_add(1));
        }
        self.set_backward(n, update[0]);
        match self.forward(n, 0) {
            NONE => self.tail = n,
            next => self.set_backward(next, n),
        }
        self.len += 1;
    }

    /// Unlink `x`, whose predecessors on every level are `update`.
    fn unlink(&mut self, x: u32, update: &[u32; MAX_LEVEL]) {
        for (i, &u) in update.iter().enumerate().take(self.level) {
            if self.forward(u, i) == x {
                let (x_forward, x_span, x_score) = self.link(x, i);
                let span = self.span(u, i).wrapping_add(x_span).wrapping_sub(1);
                self.set_link(u, i, x_forward, span, x_score);
            } else {
                self.set_span(u, i, self.span(u, i).wrapping_sub(1));
            }
        }
        let (back, next) = (self.backward(x), self.forward(x, 0));
        match next {
            NONE => self.tail = back,
            next => self.set_backward(next, back),
        }
        while self.level > 1 && self.forward(HEAD, self.level - 1) == NONE {
            self.level -= 1;
        }
        self.len -= 1;
    }

    /// Remove (`score`, `member`); false if it is not there.
    pub fn remove(&mut self, score: f64, member: &[u8]) -> bool {
        let (update, _) = self.path(score, member);
        let x = self.forward(update[0], 0);
        if x == NONE || self.score(x) != score || self.member(x) != member {
            return false;
        }
        self.unlink(x, &update);
        self.release(x);
        self.compact_if_sparse();
        true
    }

    /// Change the score of `member` from `old` to `new` (zslUpdateScore):
    /// in place when the element keeps its position, else moved (the same
    /// block, relinked).
    pub fn update_score(&mut self, member: &[u8], old: f64, new: f64) {
        // Both places are searched at once: on a large set the searches
        // are most of the cost, and a moved element needs both.
        let [(update, old_rank), (mut new_update, mut new_rank)] = self.paths((old, member), (new, member));
        let x = self.forward(update[0], 0);
        debug_assert!(x != NONE && self.member(x) == member);
        // The next node's score is the one `x`'s link caches: reading it
        // off that node would cost a cache miss.
        let (back, (next, _, next_score)) = (self.backward(x), self.link(x, 0));
        let after_prev = back == HEAD || self.score(back) < new;
        let before_next = next == NONE || next_score > new;
        if after_prev && before_next {
            self.set_word(x as usize, new.to_bits());
            // Every level's predecessor caches the score.
            for (i, &u) in update.iter().enumerate().take(self.node_level(x)) {
                let (f, span, _) = self.link(u, i);
                self.set_link(u, i, f, span, new);
            }
            return;
        }
        self.unlink(x, &update);
        self.set_word(x as usize, new.to_bits());
        // The new place was searched for while `x` was still linked: where
        // `x` itself came last before it, its own predecessor now does,
        // and predecessors past it have one element fewer before them.
        let x_rank = old_rank[0] + 1;
        let old_path = update.iter().zip(&old_rank);
        for ((u, r), (&old_u, &old_r)) in new_update.iter_mut().zip(&mut new_rank).zip(old_path) {
            if *u == x {
                (*u, *r) = (old_u, old_r);
            } else if *r > x_rank {
                *r -= 1;
            }
        }
        self.link_in(x, new_update, new_rank);
    }

    /// 1-based rank of (`score`, `member`), if present.
    pub fn rank(&self, score: f64, member: &[u8]) -> Option<usize> {
        let mut x = HEAD;
        let mut rank = 0usize;
        for i in (0..self.level).rev() {
            loop {
                let (f, span, s) = self.link(x, i);
                if f == NONE {
                    break;
                }
                if s < score || (s == score && self.member(f) <= member) {
                    rank += span as usize;
                    x = f;
                } else {
                    break;
                }
            }
            if x != HEAD && self.member(x) == member {
                return Some(rank);
            }
        }
        None
    }

    /// On every level, the last node before 1-based `rank` (the header for
    /// none): what a walk to that rank passes through.
    fn rank_path(&self, rank: usize) -> [u32; MAX_LEVEL] {
        let mut update = [HEAD; MAX_LEVEL];
        let mut x = HEAD;
        let mut traversed = 0usize;
        for i in (0..self.level).rev() {
            loop {
                let (f, span, _) = self.link(x, i);
                if f == NONE || traversed + span as usize >= rank {
                    break;
                }
                traversed += span as usize;
                x = f;
            }
            update[i] = x;
        }
        update
    }

    /// The node of 1-based `rank`, if there is one.
    fn node_at(&self, rank: usize) -> Option<u32> {
        if rank == 0 || rank > self.len {
            return None;
        }
        let update = self.rank_path(rank);
        Some(self.forward(update[0], 0))
    }

    /// How many elements, from the lowest, satisfy `pred`, which must hold
    /// for a prefix of the order (below a bound, at most a bound...).
    pub fn count_while(&self, mut pred: impl FnMut(&[u8], f64) -> bool) -> usize {
        let mut x = HEAD;
        let mut traversed = 0usize;
        for i in (0..self.level).rev() {
            loop {
                let (f, span, s) = self.link(x, i);
                if f == NONE || !pred(self.member(f), s) {
                    break;
                }
                traversed += span as usize;
                x = f;
            }
        }
        traversed
    }

    /// The elements from 0-based `rank` on, upwards or (`reverse`) downwards.
    pub fn iter_from(&self, rank: usize, reverse: bool) -> Iter<'_> {
        let at = self.node_at(rank + 1).unwrap_or(NONE);
        Iter { list: self, at, reverse }
    }

    /// Remove the elements of 0-based ranks `start..=end` (clamped by the
    /// caller), passing each member to `removed`.
    pub fn remove_ranks(&mut self, start: usize, end: usize, mut removed: impl FnMut(&[u8])) {
        let update = self.rank_path(start + 1);
        let mut x = self.forward(update[0], 0);
        for _ in start..=end {
            if x == NONE {
                break;
            }
            let next = self.forward(x, 0);
            self.unlink(x, &update);
            removed(self.member(x));
            self.release(x);
            x = next;
        }
        self.compact_if_sparse();
    }

    /// The lowest or (`highest`) the highest element.
    pub fn end(&self, highest: bool) -> Option<(&[u8], f64)> {
        let n = if highest { self.tail } else { self.forward(HEAD, 0) };
        (n != NONE).then(|| (self.member(n), self.score(n)))
    }

    /// Rebuild the arena without its free blocks once they are most of it,
    /// so that a sorted set that shrank gives its memory back.
    fn compact_if_sparse(&mut self) {
        let words = self.mem.len() / 8;
        if words < 1024 || self.free_words * 2 < words {
            return;
        }
        // Copy the blocks in order (header first); each old block's member
        // length word, already copied, then holds its new index.
        let mut old = std::mem::take(&mut self.mem);
        self.mem = Vec::with_capacity((words - self.free_words) * 8);
        let mut x = HEAD;
        loop {
            let o = x as usize * 8;
            let level = (u64::from_ne_bytes(old[o + 8..o + 16].try_into().expect("8 bytes")) >> 32) as usize;
            let len = u64::from_ne_bytes(old[o + 16..o + 24].try_into().expect("8 bytes")) as usize;
            let next = u64::from_ne_bytes(old[o + 24..o + 32].try_into().expect("8 bytes")) as u32;
            let new = (self.mem.len() / 8) as u64;
            self.mem.extend_from_slice(&old[o..o + block_words(level, len) * 8]);
            old[o + 16..o + 24].copy_from_slice(&new.to_ne_bytes());
            if next == NONE {
                break;
            }
            x = next;
        }
        let renamed = |n: u32| {
            let o = n as usize * 8 + 16;
            u64::from_ne_bytes(old[o..o + 8].try_into().expect("8 bytes")) as u32
        };
        let mut n = HEAD;
        while (n as usize) < self.mem.len() / 8 {
            self.set_backward(n, renamed(self.backward(n)));
            for i in 0..self.node_level(n) {
                let (f, span, s) = self.link(n, i);
                self.set_link(n, i, renamed(f), span, s);
            }
            n += self.block_len(n) as u32;
        }
        self.tail = renamed(self.tail);
        self.free = Vec::new();
        self.free_words = 0;
    }
}

/// A search for the place of (`score`, `member`) under way.
struct Search<'m> {
    score: f64,
    member: &'m [u8],
    /// The node the search stands on.
    x: u32,
    /// Levels left to search; the current one is `levels - 1`.
    levels: usize,
    /// Rank of `x` (the header's is 0).
    rank: u32,
    /// The last node before the place on each level searched, and its rank.
    update: [u32; MAX_LEVEL],
    ranks: [u32; MAX_LEVEL],
}

impl<'m> Search<'m> {
    fn new(list: &SkipList, score: f64, member: &'m [u8]) -> Self {
        Search { score, member, x: HEAD, levels: list.level, rank: 0, update: [HEAD; MAX_LEVEL], ranks: [0; MAX_LEVEL] }
    }
}

/// Where one search of [`SkipList::warm`] stands.
#[derive(Clone, Copy)]
struct Warming {
    x: u32,
    levels: usize,
    /// The node whose header is loading for a member comparison.
    tie: u32,
    /// The node whose member is loading or loaded.
    loaded: u32,
}

/// Elements in order from a starting node.
pub struct Iter<'a> {
    list: &'a SkipList,
    at: u32,
    reverse: bool,
}

impl<'a> Iterator for Iter<'a> {
    type Item = (&'a [u8], f64);

    fn next(&mut self) -> Option<Self::Item> {
        if self.at == NONE {
            return None;
        }
        let (l, n) = (self.list, self.at);
        self.at = if self.reverse { l.backward(n) } else { l.forward(n, 0) };
        Some((l.member(n), l.score(n)))
    }
}

/// Order of two elements as the skiplist keeps them.
pub fn order(a: (&[u8], f64), b: (&[u8], f64)) -> Ordering {
    a.1.partial_cmp(&b.1).unwrap_or(Ordering::Equal).then_with(|| a.0.cmp(b.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn members(l: &SkipList) -> Vec<(Vec<u8>, f64)> {
        l.iter_from(0, false).map(|(m, s)| (m.to_vec(), s)).collect()
    }

    #[test]
    fn ordered_by_score_then_member_with_ranks() {
        let mut l = SkipList::new();
        let n = 2000;
        for i in 0..n {
            // Scores repeat so that members break ties.
            l.insert(format!("m{i:05}").as_bytes(), (i % 7) as f64);
        }
        assert_eq!(l.len(), n);
        let all = members(&l);
        let mut sorted = all.clone();
        sorted.sort_by(|a, b| order((&a.0, a.1), (&b.0, b.1)));
        assert_eq!(all, sorted);
        for (r, (m, s)) in all.iter().enumerate() {
            assert_eq!(l.rank(*s, m), Some(r + 1));
            assert_eq!(l.iter_from(r, false).next().unwrap().0, &m[..]);
        }
        assert_eq!(l.rank(1.0, b"nope"), None);
        let rev: Vec<_> = l.iter_from(n - 1, true).map(|(m, _)| m.to_vec()).collect();
        assert_eq!(rev.len(), n);
        assert_eq!(rev[0], all[n - 1].0);
        assert_eq!(l.count_while(|_, s| s < 3.0), all.iter().filter(|(_, s)| *s < 3.0).count());
    }

    #[test]
    fn remove_update_and_compact() {
        let mut l = SkipList::new();
        for i in 0..500 {
            l.insert(format!("{i}").as_bytes(), i as f64);
        }
        assert!(l.remove(10.0, b"10"));
        assert!(!l.remove(10.0, b"10"));
        assert!(!l.remove(11.0, b"12"));
        l.update_score(b"11", 11.0, 11.5);
        l.update_score(b"12", 12.0, -1.0);
        assert_eq!(l.end(false), Some((&b"12"[..], -1.0)));
        assert_eq!(l.rank(11.5, b"11"), Some(12));
        let mut gone = Vec::new();
        l.remove_ranks(0, 399, |m| gone.push(m.to_vec()));
        assert_eq!(gone.len(), 400);
        assert_eq!(l.len(), 99);
        assert!(l.mem.len() / 8 < 2000, "compacted to {} words", l.mem.len() / 8);
        let all = members(&l);
        assert_eq!(all.len(), 99);
        assert_eq!(all[0].0, b"401");
        assert_eq!(l.end(true), Some((&b"499"[..], 499.0)));
        for (r, (m, s)) in all.iter().enumerate() {
            assert_eq!(l.rank(*s, m), Some(r + 1));
        }
        l.remove_ranks(0, 98, |_| {});
        assert!(l.is_empty() && l.end(false).is_none() && l.end(true).is_none());
        l.insert(b"x", 1.0);
        assert_eq!(members(&l), vec![(b"x".to_vec(), 1.0)]);
    }
    /// Random inserts, rescores and removals against a sorted model, with
    /// members of every padding length and repeated scores, through arena
    /// reuse and compactions.
    #[test]
    fn matches_a_sorted_model() {
        let mut l = SkipList::new();
        let mut model: Vec<(Vec<u8>, f64)> = Vec::new();
        let mut seed = 7u64;
        let mut rnd = |n: u64| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed % n
        };
        for round in 0..30_000 {
            let m = format!("{:0width$}", rnd(3000), width = 1 + (round % 13)).into_bytes();
            let score = rnd(50) as f64;
            let at = model.iter().position(|(x, _)| *x == m);
            // Warming paths (ties on every score here, both ends, more
            // targets than it takes) must leave the list as it was.
            let other = rnd(50) as f64;
            l.warm(&[(score, &m), (f64::INFINITY, b"~"), (f64::NEG_INFINITY, b""), (other, &m)]);
            l.warm(&vec![(other, &b"5"[..]); 40]);
            match (rnd(4), at) {
                (0, Some(i)) => {
                    let (m, s) = model.remove(i);
                    assert!(l.remove(s, &m));
                }
                (1, Some(i)) => {
                    let old = model[i].1;
                    l.update_score(&m, old, score);
                    model[i].1 = score;
                }
                (2, _) if model.len() > 10 => {
                    let start = rnd(model.len() as u64) as usize;
                    let end = (start + rnd(8) as usize).min(model.len() - 1);
                    model.sort_by(|a, b| order((&a.0, a.1), (&b.0, b.1)));
                    let mut gone = Vec::new();
                    l.remove_ranks(start, end, |m| gone.push(m.to_vec()));
                    let expect: Vec<_> = model.drain(start..=end).map(|(m, _)| m).collect();
                    assert_eq!(gone, expect);
                }
                (_, None) => {
                    l.insert(&m, score);
                    model.push((m, score));
                }
                _ => {}
            }
            if round % 1000 == 0 {
                model.sort_by(|a, b| order((&a.0, a.1), (&b.0, b.1)));
                assert_eq!(members(&l), model);
                for (r, (m, s)) in model.iter().enumerate().step_by(7) {
                    assert_eq!(l.rank(*s, m), Some(r + 1));
                }
                let back: Vec<_> = l.iter_from(model.len().saturating_sub(1), true).map(|(m, _)| m.to_vec()).collect();
                assert_eq!(back.len(), model.len());
            }
        }
    }
}
