//! The ordered half of a `skiplist`-encoded sorted set: Pugh's skiplist with
//! a span on every link (how many elements the link jumps over), as Redis's
//! `zskiplist`, so that finding an element by rank and the rank of an
//! element both take O(log N). Elements are ordered by score, then by member
//! bytes.
//!
//! Nodes live in one arena and link to each other by `u32` index: links are
//! 4 bytes instead of 8 and no unsafe code is needed. Level 0 (whose span is
//! always 1) is stored in every node; the higher levels, which only about a
//! quarter of the nodes have, sit in a separate slice. Freed slots are
//! reused, and the arena is compacted once most of it is free.

use std::cmp::Ordering;

/// Redis's ZSKIPLIST_MAXLEVEL: enough for 2^64 elements at p = 1/4.
pub const MAX_LEVEL: usize = 32;

/// Index of the header node; as a link target it means "none", since no
/// link ever points back at the header.
const HEAD: u32 = 0;
const NONE: u32 = 0;

#[derive(Clone, Copy, Default, Debug)]
struct Link {
    forward: u32,
    span: u32,
}

#[derive(Clone, Debug)]
struct Node {
    member: Box<[u8]>,
    score: f64,
    /// The previous element; HEAD (NONE) for the first.
    backward: u32,
    /// Level 0's forward link.
    next: u32,
    /// Levels 1 and up.
    upper: Box<[Link]>,
}

impl Node {
    fn new(member: Box<[u8]>, score: f64, levels: usize) -> Node {
        Node { member, score, backward: NONE, next: NONE, upper: vec![Link::default(); levels - 1].into_boxed_slice() }
    }
}

#[derive(Clone, Debug)]
pub struct SkipList {
    nodes: Vec<Node>,
    free: Vec<u32>,
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

/// Whether the element (`score`, `member`) sorts before (`s`, `m`).
fn before(score: f64, member: &[u8], s: f64, m: &[u8]) -> bool {
    score < s || (score == s && member < m)
}

impl SkipList {
    pub fn new() -> SkipList {
        SkipList {
            nodes: vec![Node::new(Box::default(), 0.0, MAX_LEVEL)],
            free: Vec::new(),
            tail: NONE,
            len: 0,
            level: 1,
            seed: 0x9E37_79B9_7F4A_7C15,
        }
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    fn forward(&self, n: u32, i: usize) -> u32 {
        let node = &self.nodes[n as usize];
        if i == 0 {
            node.next
        } else {
            node.upper[i - 1].forward
        }
    }

    fn span(&self, n: u32, i: usize) -> u32 {
        if i == 0 {
            1
        } else {
            self.nodes[n as usize].upper[i - 1].span
        }
    }

    fn set_link(&mut self, n: u32, i: usize, forward: u32, span: u32) {
        let node = &mut self.nodes[n as usize];
        if i == 0 {
            node.next = forward;
        } else {
            node.upper[i - 1] = Link { forward, span };
        }
    }

    fn set_span(&mut self, n: u32, i: usize, span: u32) {
        if i > 0 {
            self.nodes[n as usize].upper[i - 1].span = span;
        }
    }

    /// A level with probability 1/4 of each further level (ZSKIPLIST_P):
    /// two random bits per level, 64 bits being enough for MAX_LEVEL.
    fn random_level(&mut self) -> usize {
        self.seed ^= self.seed << 13;
        self.seed ^= self.seed >> 7;
        self.seed ^= self.seed << 17;
        let mut bits = self.seed;
        let mut level = 1;
        while level < MAX_LEVEL && bits & 3 == 0 {
            level += 1;
            bits >>= 2;
        }
        level
    }

    fn alloc(&mut self, node: Node) -> u32 {
        match self.free.pop() {
            Some(i) => {
                self.nodes[i as usize] = node;
                i
            }
            None => {
                self.nodes.push(node);
                (self.nodes.len() - 1) as u32
            }
        }
    }

    /// The predecessor of (`score`, `member`) on every level, and the rank
    /// of each predecessor.
    fn path(&self, score: f64, member: &[u8]) -> ([u32; MAX_LEVEL], [u32; MAX_LEVEL]) {
        let mut update = [HEAD; MAX_LEVEL];
        let mut rank = [0u32; MAX_LEVEL];
        let mut x = HEAD;
        for i in (0..self.level).rev() {
            rank[i] = if i + 1 == self.level { 0 } else { rank[i + 1] };
            loop {
                let f = self.forward(x, i);
                if f == NONE {
                    break;
                }
                let node = &self.nodes[f as usize];
                if !before(node.score, &node.member, score, member) {
                    break;
                }
                rank[i] += self.span(x, i);
                x = f;
            }
            update[i] = x;
        }
        (update, rank)
    }

    /// Add an element known to be absent.
    pub fn insert(&mut self, member: &[u8], score: f64) {
        self.insert_boxed(member.into(), score);
    }

    fn insert_boxed(&mut self, member: Box<[u8]>, score: f64) {
        let (mut update, mut rank) = self.path(score, &member);
        let level = self.random_level();
        if level > self.level {
            for i in self.level..level {
                rank[i] = 0;
                update[i] = HEAD;
                self.set_span(HEAD, i, self.len as u32);
            }
            self.level = level;
        }
        let n = self.alloc(Node::new(member, score, level));
        for i in 0..level {
            let u = update[i];
            let (u_forward, u_span) = (self.forward(u, i), self.span(u, i));
            let skipped = rank[0] - rank[i];
            self.set_link(n, i, u_forward, u_span.wrapping_sub(skipped));
            self.set_link(u, i, n, skipped + 1);
        }
        // Links above the new node's height now jump over one more element.
        for (i, &u) in update.iter().enumerate().take(self.level).skip(level) {
            self.set_span(u, i, self.span(u, i).wrapping_add(1));
        }
        self.nodes[n as usize].backward = update[0];
        match self.nodes[n as usize].next {
            NONE => self.tail = n,
            next => self.nodes[next as usize].backward = n,
        }
        self.len += 1;
    }

    /// Unlink `x`, whose predecessors on every level are `update`.
    fn unlink(&mut self, x: u32, update: &[u32; MAX_LEVEL]) {
        for (i, &u) in update.iter().enumerate().take(self.level) {
            if self.forward(u, i) == x {
                let span = self.span(u, i) + self.span(x, i) - 1;
                self.set_link(u, i, self.forward(x, i), span);
            } else {
                self.set_span(u, i, self.span(u, i).wrapping_sub(1));
            }
        }
        let (back, next) = (self.nodes[x as usize].backward, self.nodes[x as usize].next);
        match next {
            NONE => self.tail = back,
            next => self.nodes[next as usize].backward = back,
        }
        while self.level > 1 && self.forward(HEAD, self.level - 1) == NONE {
            self.level -= 1;
        }
        self.len -= 1;
    }

    /// Release the slot of an unlinked node, handing back its member.
    fn release(&mut self, x: u32) -> Box<[u8]> {
        let node = &mut self.nodes[x as usize];
        node.upper = Box::default();
        self.free.push(x);
        std::mem::take(&mut node.member)
    }

    /// Remove (`score`, `member`); false if it is not there.
    pub fn remove(&mut self, score: f64, member: &[u8]) -> bool {
        let (update, _) = self.path(score, member);
        let x = self.forward(update[0], 0);
        if x == NONE || self.nodes[x as usize].score != score || &*self.nodes[x as usize].member != member {
            return false;
        }
        self.unlink(x, &update);
        self.release(x);
        self.compact_if_sparse();
        true
    }

    /// Change the score of `member` from `old` to `new` (zslUpdateScore):
    /// in place when the element keeps its position, else moved.
    pub fn update_score(&mut self, member: &[u8], old: f64, new: f64) {
        let (update, _) = self.path(old, member);
        let x = self.forward(update[0], 0);
        debug_assert!(x != NONE && &*self.nodes[x as usize].member == member);
        let (back, next) = (self.nodes[x as usize].backward, self.nodes[x as usize].next);
        let after_prev = back == HEAD || self.nodes[back as usize].score < new;
        let before_next = next == NONE || self.nodes[next as usize].score > new;
        if after_prev && before_next {
            self.nodes[x as usize].score = new;
            return;
        }
        self.unlink(x, &update);
        let member = self.release(x);
        self.insert_boxed(member, new);
    }

    /// 1-based rank of (`score`, `member`), if present.
    pub fn rank(&self, score: f64, member: &[u8]) -> Option<usize> {
        let mut x = HEAD;
        let mut rank = 0usize;
        for i in (0..self.level).rev() {
            loop {
                let f = self.forward(x, i);
                if f == NONE {
                    break;
                }
                let node = &self.nodes[f as usize];
                if node.score < score || (node.score == score && &*node.member <= member) {
                    rank += self.span(x, i) as usize;
                    x = f;
                } else {
                    break;
                }
            }
            if x != HEAD && &*self.nodes[x as usize].member == member {
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
                let f = self.forward(x, i);
                if f == NONE || traversed + self.span(x, i) as usize >= rank {
                    break;
                }
                traversed += self.span(x, i) as usize;
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
                let f = self.forward(x, i);
                if f == NONE {
                    break;
                }
                let node = &self.nodes[f as usize];
                if !pred(&node.member, node.score) {
                    break;
                }
                traversed += self.span(x, i) as usize;
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
            let next = self.nodes[x as usize].next;
            self.unlink(x, &update);
            removed(&self.release(x));
            x = next;
        }
        self.compact_if_sparse();
    }

    /// The lowest or (`highest`) the highest element.
    pub fn end(&self, highest: bool) -> Option<(&[u8], f64)> {
        let n = if highest { self.tail } else { self.nodes[HEAD as usize].next };
        (n != NONE).then(|| (&*self.nodes[n as usize].member, self.nodes[n as usize].score))
    }

    /// Rebuild the arena without its free slots once they are most of it,
    /// so that a sorted set that shrank gives its memory back.
    fn compact_if_sparse(&mut self) {
        if self.nodes.len() < 64 || self.free.len() * 2 < self.nodes.len() {
            return;
        }
        // New index of every live node: its position in order (header 0).
        let mut new_index = vec![NONE; self.nodes.len()];
        let mut x = self.nodes[HEAD as usize].next;
        let mut i = 1u32;
        while x != NONE {
            new_index[x as usize] = i;
            i += 1;
            x = self.nodes[x as usize].next;
        }
        let mut old = std::mem::take(&mut self.nodes);
        self.nodes = Vec::with_capacity(self.len + 1);
        let mut order = Vec::with_capacity(self.len + 1);
        order.push(HEAD);
        let mut x = old[HEAD as usize].next;
        while x != NONE {
            order.push(x);
            x = old[x as usize].next;
        }
        for &o in &order {
            let mut node = std::mem::replace(&mut old[o as usize], Node::new(Box::default(), 0.0, 1));
            node.backward = new_index[node.backward as usize];
            node.next = new_index[node.next as usize];
            for l in node.upper.iter_mut() {
                l.forward = new_index[l.forward as usize];
            }
            self.nodes.push(node);
        }
        self.tail = new_index[self.tail as usize];
        self.free = Vec::new();
    }
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
        let node = &self.list.nodes[self.at as usize];
        self.at = if self.reverse { node.backward } else { node.next };
        Some((&node.member, node.score))
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
        assert!(l.nodes.len() < 200, "compacted to {}", l.nodes.len());
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
}
