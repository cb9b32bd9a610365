//! Redis 7.0's list representation: a deque of listpack nodes, each kept
//! under the size or count `list-max-listpack-size` sets (its "fill"), so a
//! push or pop at either end touches one small node and a long list costs
//! about two bytes of overhead per short element, as in Redis.
//!
//! Node boundaries are not visible to clients except through DUMP (each node
//! is one listpack in the payload) and DEBUG, so splits after a middle
//! insert need not match Redis's byte for byte; the fill rule for pushes does
//! (`_quicklistNodeAllowInsert`), since it decides memory use.
//!
//! An element at least the packed threshold long (1 GiB unless DEBUG
//! QUICKLIST-PACKED-THRESHOLD says otherwise) gets a node of its own, a
//! "plain" node, which no other element joins and which DUMP and RDB write
//! as the bare element, as Redis does. Here a plain node is a one-element
//! listpack with a flag, so every read path stays the same.
//!
//! `list-compress-depth` (LZF-compressing inner nodes) is not applied yet.

use std::collections::VecDeque;
use std::ops::{Deref, DerefMut};
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::listpack::{Listpack, LpValue};

/// Byte limits for negative fills -1..-5 (optimization_level).
const SIZE_LIMITS: [usize; 5] = [4096, 8192, 16384, 32768, 65536];
/// Largest node a positive (count) fill may build (SIZE_SAFETY_LIMIT).
const SAFETY_LIMIT: usize = 8192;
/// Allowance for an entry's encoding and backlen (SIZE_ESTIMATE_OVERHEAD).
const ENTRY_OVERHEAD: usize = 8;

/// Redis's default packed threshold (1 GiB).
const DEFAULT_PACKED_THRESHOLD: usize = 1 << 30;
/// Elements this long or longer go into plain nodes. Process-wide, as in
/// Redis (quicklist.c's packed_threshold).
static PACKED_THRESHOLD: AtomicUsize = AtomicUsize::new(DEFAULT_PACKED_THRESHOLD);

/// DEBUG QUICKLIST-PACKED-THRESHOLD: 0 restores the default; false (and no
/// change) above 4 GiB less 1 MiB (quicklistisSetPackedThreshold).
pub fn set_packed_threshold(bytes: u64) -> bool {
    if bytes > (1u64 << 32) - (1 << 20) {
        return false;
    }
    let t = if bytes == 0 { DEFAULT_PACKED_THRESHOLD } else { bytes as usize };
    PACKED_THRESHOLD.store(t, Ordering::Relaxed);
    true
}

fn is_large(value: &[u8]) -> bool {
    value.len() >= PACKED_THRESHOLD.load(Ordering::Relaxed)
}

/// One node: a listpack, or a plain node holding one large element.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    lp: Listpack,
    plain: bool,
}

impl Node {
    pub fn packed(lp: Listpack) -> Node {
        Node { lp, plain: false }
    }

    pub fn plain(value: &[u8]) -> Node {
        let mut lp = Listpack::new();
        lp.push_back(value);
        Node { lp, plain: true }
    }

    pub fn is_plain(&self) -> bool {
        self.plain
    }

    pub fn listpack(&self) -> &Listpack {
        &self.lp
    }
}

impl Deref for Node {
    type Target = Listpack;
    fn deref(&self) -> &Listpack {
        &self.lp
    }
}

impl DerefMut for Node {
    fn deref_mut(&mut self) -> &mut Listpack {
        &mut self.lp
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct QuickList {
    nodes: VecDeque<Node>,
    len: usize,
    /// `list-max-listpack-size`: negative, a byte limit per node (-2: 8 KiB);
    /// positive, an element count.
    fill: i32,
}

/// Whether a node of `size` bytes and `count` elements is within `fill`.
fn fits(size: usize, count: usize, fill: i32) -> bool {
    if fill < 0 {
        let level = (-(fill as i64) - 1) as usize;
        return level < SIZE_LIMITS.len() && size <= SIZE_LIMITS[level];
    }
    size <= SAFETY_LIMIT && count <= fill as usize
}

/// Whether `value` may join `node` (_quicklistNodeAllowInsert): never a
/// plain node, never a large value.
fn allow_insert(node: &Node, value: &[u8], fill: i32) -> bool {
    if node.plain || is_large(value) {
        return false;
    }
    let size = node.as_bytes().len() + value.len() + ENTRY_OVERHEAD;
    // A count fill admits the node's (count + 1)th element while count < fill.
    fits(size, node.len() + 1, fill)
}

impl QuickList {
    pub fn new(fill: i32) -> Self {
        QuickList { nodes: VecDeque::new(), len: 0, fill }
    }

    /// A list from restored nodes (DUMP/RDB), empty nodes dropped.
    pub fn from_nodes(nodes: impl IntoIterator<Item = Node>, fill: i32) -> Self {
        let nodes: VecDeque<Node> = nodes.into_iter().filter(|n| !n.is_empty()).collect();
        let len = nodes.iter().map(|n| n.len()).sum();
        QuickList { nodes, len, fill }
    }

    pub fn len(&self) -> usize {
        self.len
    }

    /// The `list-max-listpack-size` this list was built with.
    pub fn fill(&self) -> i32 {
        self.fill
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The nodes in order, as DUMP writes them.
    pub fn nodes(&self) -> impl ExactSizeIterator<Item = &Node> {
        self.nodes.iter()
    }

    /// Bytes held in nodes (for MEMORY USAGE and DEBUG).
    /// (A plain node counts its element's bytes, as Redis's node size does.)
    pub fn packed_bytes(&self) -> usize {
        self.nodes.iter().map(|n| if n.plain { n.get(n.first().expect("one")).to_bytes().len() } else { n.as_bytes().len() }).sum()
    }

    pub fn push_front(&mut self, value: &[u8]) {
        match self.nodes.front_mut() {
            Some(n) if allow_insert(n, value, self.fill) => n.push_front(value),
            _ => self.nodes.push_front(new_node(value)),
        }
        self.len += 1;
    }

    pub fn push_back(&mut self, value: &[u8]) {
        match self.nodes.back_mut() {
            Some(n) if allow_insert(n, value, self.fill) => n.push_back(value),
            _ => self.nodes.push_back(new_node(value)),
        }
        self.len += 1;
    }

    pub fn pop_front(&mut self) -> Option<Vec<u8>> {
        self.pop_with(true, |v| v.to_bytes())
    }

    pub fn pop_back(&mut self) -> Option<Vec<u8>> {
        self.pop_with(false, |v| v.to_bytes())
    }

    /// Remove the first (`front`) or last element, handing it to `take`
    /// before it goes: LPOP replies straight from the node this way,
    /// without a copy of its own.
    pub fn pop_with<R>(&mut self, front: bool, take: impl FnOnce(LpValue<'_>) -> R) -> Option<R> {
        let node = if front { self.nodes.front_mut()? } else { self.nodes.back_mut()? };
        let off = if front { node.first() } else { node.last() }.expect("nodes are never empty");
        let taken = take(node.get(off));
        node.delete(off);
        if node.is_empty() {
            if front {
                self.nodes.pop_front();
            } else {
                self.nodes.pop_back();
            }
        }
        self.len -= 1;
        Some(taken)
    }

    /// Node number and element offset of element `index` (0-based from the head).
    fn locate(&self, index: usize) -> Option<(usize, usize)> {
        if index >= self.len {
            return None;
        }
        // Walk from whichever end is nearer, by node counts.
        if index < self.len / 2 {
            let mut skip = index;
            for (i, n) in self.nodes.iter().enumerate() {
                let count = n.len();
                if skip < count {
                    let mut off = n.first()?;
                    for _ in 0..skip {
                        off = n.next(off)?;
                    }
                    return Some((i, off));
                }
                skip -= count;
            }
        } else {
            let mut skip = self.len - 1 - index;
            for (i, n) in self.nodes.iter().enumerate().rev() {
                let count = n.len();
                if skip < count {
                    let mut off = n.last()?;
                    for _ in 0..skip {
                        off = n.prev(off)?;
                    }
                    return Some((i, off));
                }
                skip -= count;
            }
        }
        None
    }

    /// A Redis index (negative counts from the tail) as a position.
    fn position(&self, index: i64) -> Option<usize> {
        let i = if index < 0 { self.len as i64 + index } else { index };
        (0..self.len as i64).contains(&i).then_some(i as usize)
    }

    /// LINDEX: the element at `index` (negative from the tail).
    pub fn get(&self, index: i64) -> Option<LpValue<'_>> {
        let (n, off) = self.locate(self.position(index)?)?;
        Some(self.nodes[n].get(off))
    }

    /// LSET: replace the element at `index`; false when out of range
    /// (quicklistReplaceEntry: a large value takes a plain node where the
    /// element was; a small one leaving a plain node joins the next node
    /// when it may, else gets a node of its own).
    pub fn set(&mut self, index: i64, value: &[u8]) -> bool {
        let Some((n, off)) = self.position(index).and_then(|i| self.locate(i)) else { return false };
        match (self.nodes[n].plain, is_large(value)) {
            (false, false) => {
                self.nodes[n].replace(off, value);
                self.split_if_needed(n);
            }
            (true, true) => self.nodes[n] = Node::plain(value),
            (true, false) => {
                self.nodes.remove(n);
                match self.nodes.get_mut(n) {
                    Some(next) if allow_insert(next, value, self.fill) => next.push_front(value),
                    _ => self.nodes.insert(n, new_node(value)),
                }
            }
            (false, true) => {
                let (before, after) = self.cut(n, off, Pivot::Drop);
                self.replace_with_plain(n, before, value, after);
            }
        }
        true
    }

    /// Node `n` cut at offset `off` into the packed nodes before and after
    /// it (None when empty), the element at `off` going where `pivot` says.
    fn cut(&self, n: usize, off: usize, pivot: Pivot) -> (Option<Node>, Option<Node>) {
        let node = &self.nodes[n];
        let (mut before, mut after) = (Vec::new(), Vec::new());
        let mut cur = node.first();
        while let Some(o) = cur {
            let v = node.get(o);
            match o.cmp(&off) {
                std::cmp::Ordering::Less => before.push(v),
                std::cmp::Ordering::Greater => after.push(v),
                std::cmp::Ordering::Equal => match pivot {
                    Pivot::Drop => {}
                    Pivot::Before => before.push(v),
                    Pivot::After => after.push(v),
                },
            }
            cur = node.next(o);
        }
        let piece = |v: Vec<LpValue<'_>>| (!v.is_empty()).then(|| Node::packed(rebuilt(v.into_iter())));
        (piece(before), piece(after))
    }

    /// Replace node `n` by `before`, a plain node of `value`, `after`.
    fn replace_with_plain(&mut self, n: usize, before: Option<Node>, value: &[u8], after: Option<Node>) {
        self.nodes.remove(n);
        for (at, piece) in [before, Some(Node::plain(value)), after].into_iter().flatten().enumerate() {
            self.nodes.insert(n + at, piece);
        }
    }

    /// Elements `start..=stop` (positions already clamped), head to tail.
    pub fn range(&self, start: usize, stop: usize) -> impl Iterator<Item = LpValue<'_>> {
        // Whole nodes before `start` are passed over by their counts.
        let mut skip = start;
        let first = self.nodes.iter().position(|n| {
            let count = n.len();
            if skip < count {
                return true;
            }
            skip -= count;
            false
        });
        let first = first.unwrap_or(self.nodes.len());
        self.nodes.range(first..).flat_map(|n| n.iter()).skip(skip).take(stop.saturating_sub(start) + 1)
    }

    pub fn iter(&self) -> impl DoubleEndedIterator<Item = LpValue<'_>> {
        self.nodes.iter().flat_map(|n| n.iter())
    }

    /// LINSERT: put `value` before or after the first element equal to
    /// `pivot`; false when there is no such element.
    pub fn insert(&mut self, pivot: &[u8], after: bool, value: &[u8]) -> bool {
        for n in 0..self.nodes.len() {
            let node = &self.nodes[n];
            let mut cur = node.first();
            while let Some(off) = cur {
                if node.get(off).matches(pivot) && is_large(value) {
                    self.insert_plain(n, off, after, value);
                    return true;
                }
                if node.get(off).matches(pivot) {
                    let at = if after {
                        node.next(off).unwrap_or(node.as_bytes().len() - 1)
                    } else {
                        off
                    };
                    self.nodes[n].insert(at, value);
                    self.len += 1;
                    self.split_if_needed(n);
                    return true;
                }
                cur = node.next(off);
            }
        }
        false
    }

    /// A large value inserted next to the element at (`n`, `off`): beside
    /// the node when the element is at the node's edge on that side (or the
    /// node is plain), else the node is split there (_quicklistInsert).
    fn insert_plain(&mut self, n: usize, off: usize, after: bool, value: &[u8]) {
        let node = &self.nodes[n];
        let at_edge = if after { node.next(off).is_none() } else { node.prev(off).is_none() };
        self.len += 1;
        if node.plain || at_edge {
            self.nodes.insert(if after { n + 1 } else { n }, Node::plain(value));
            return;
        }
        // Split so the pivot stays on its side, the new node between.
        let (before, rest) = self.cut(n, off, if after { Pivot::Before } else { Pivot::After });
        self.replace_with_plain(n, before, value, rest);
    }

    /// LREM: remove up to `count` elements equal to `value` (all when 0,
    /// from the tail when negative); returns how many went.
    pub fn remove(&mut self, value: &[u8], count: i64) -> usize {
        let limit = if count == 0 { usize::MAX } else { count.unsigned_abs() as usize };
        let mut removed = 0;
        let from_tail = count < 0;
        let order: Vec<usize> =
            if from_tail { (0..self.nodes.len()).rev().collect() } else { (0..self.nodes.len()).collect() };
        for n in order {
            let node = &mut self.nodes[n];
            let mut cur = if from_tail { node.last() } else { node.first() };
            while let Some(off) = cur {
                if removed == limit {
                    break;
                }
                if node.get(off).matches(value) {
                    if from_tail {
                        let prev = node.prev(off);
                        node.delete(off);
                        cur = prev;
                    } else {
                        node.delete(off);
                        cur = (off < node.as_bytes().len() - 1).then_some(off);
                    }
                    removed += 1;
                } else {
                    cur = if from_tail { node.prev(off) } else { node.next(off) };
                }
            }
            if removed == limit {
                break;
            }
        }
        self.nodes.retain(|n| !n.is_empty());
        self.len -= removed;
        removed
    }

    /// LTRIM: keep only positions `start..=stop` (clamped by the caller;
    /// `start > stop` empties the list). Whole nodes outside the range are
    /// dropped as they are; only the two edge nodes are rebuilt.
    pub fn trim(&mut self, start: usize, stop: usize) {
        if start > stop || start >= self.len {
            *self = QuickList::new(self.fill);
            return;
        }
        let keep = stop.min(self.len - 1) - start + 1;
        let mut skip = start;
        while let Some(front) = self.nodes.front() {
            if skip < front.len() {
                break;
            }
            skip -= front.len();
            self.nodes.pop_front();
        }
        if skip > 0 {
            self.nodes[0] = Node::packed(rebuilt(self.nodes[0].iter().skip(skip)));
        }
        let mut excess = self.nodes.iter().map(|n| n.len()).sum::<usize>() - keep;
        while let Some(back) = self.nodes.back() {
            if excess < back.len() {
                break;
            }
            excess -= back.len();
            self.nodes.pop_back();
        }
        if excess > 0 {
            let last = self.nodes.len() - 1;
            let n = self.nodes[last].len() - excess;
            self.nodes[last] = Node::packed(rebuilt(self.nodes[last].iter().take(n)));
        }
        self.len = keep;
    }

    /// Split node `n` in two when an edit took it past the fill.
    fn split_if_needed(&mut self, n: usize) {
        let node = &self.nodes[n];
        if node.plain || fits(node.as_bytes().len(), node.len(), self.fill) || node.len() < 2 {
            return;
        }
        let half = node.len() / 2;
        let tail = Node::packed(rebuilt(node.iter().skip(half)));
        self.nodes[n] = Node::packed(rebuilt(self.nodes[n].iter().take(half)));
        self.nodes.insert(n + 1, tail);
    }
}

/// Where [`QuickList::cut`] puts the element it cuts at.
#[derive(Clone, Copy)]
enum Pivot {
    Drop,
    Before,
    After,
}

/// A node for one value pushed where no node may take it.
fn new_node(value: &[u8]) -> Node {
    if is_large(value) {
        return Node::plain(value);
    }
    let mut lp = Listpack::new();
    lp.push_back(value);
    Node::packed(lp)
}

/// A new listpack holding `values`.
fn rebuilt<'a>(values: impl Iterator<Item = LpValue<'a>>) -> Listpack {
    let mut lp = Listpack::new();
    for v in values {
        lp.push_back(&v.to_bytes());
    }
    lp
}

#[cfg(test)]
mod tests {
    use super::*;

    fn items(q: &QuickList) -> Vec<String> {
        q.iter().map(|v| String::from_utf8(v.to_bytes()).unwrap()).collect()
    }

    #[test]
    fn pushes_and_pops_at_both_ends_across_nodes() {
        let mut q = QuickList::new(-2);
        for i in 0..5000 {
            q.push_back(format!("v{i}").as_bytes());
            q.push_front(format!("{i}").as_bytes());
        }
        assert_eq!(q.len(), 10000);
        assert!(q.nodes().count() > 2, "8 KiB nodes");
        assert!(q.nodes().all(|n| n.as_bytes().len() <= 8192));
        assert_eq!(q.get(0).unwrap().to_bytes(), b"4999");
        assert_eq!(q.get(-1).unwrap().to_bytes(), b"v4999");
        assert_eq!(q.get(5000).unwrap().to_bytes(), b"v0");
        assert_eq!(q.get(4999), Some(LpValue::Int(0)));
        assert_eq!(q.get(10000), None);
        assert_eq!(q.get(-10001), None);
        for i in (0..5000).rev() {
            assert_eq!(q.pop_front().unwrap(), format!("{i}").into_bytes());
            assert_eq!(q.pop_back().unwrap(), format!("v{i}").into_bytes());
        }
        assert!(q.is_empty() && q.nodes().count() == 0);
        assert_eq!(q.pop_front(), None);
    }

    #[test]
    fn count_fill_limits_elements_per_node() {
        let mut q = QuickList::new(3);
        for i in 0..10 {
            q.push_back(format!("{i}").as_bytes());
        }
        let counts: Vec<usize> = q.nodes().map(|n| n.len()).collect();
        assert_eq!(counts, [3, 3, 3, 1]);
    }

    #[test]
    fn set_insert_remove_trim() {
        let mut q = QuickList::new(2);
        for v in ["a", "b", "a", "c", "a", "7"] {
            q.push_back(v.as_bytes());
        }
        assert!(q.set(-1, b"8"));
        assert!(!q.set(6, b"x"));
        assert!(q.insert(b"c", false, b"before-c"));
        assert!(q.insert(b"8", true, b"end"));
        assert!(!q.insert(b"zzz", true, b"no"));
        assert_eq!(items(&q), ["a", "b", "a", "before-c", "c", "a", "8", "end"]);
        assert_eq!(q.remove(b"a", -1), 1);
        assert_eq!(items(&q), ["a", "b", "a", "before-c", "c", "8", "end"]);
        assert_eq!(q.remove(b"a", 0), 2);
        assert_eq!(q.remove(b"008", 0), 0, "integers match their canonical form only");
        assert_eq!(q.remove(b"8", 1), 1);
        assert_eq!(items(&q), ["b", "before-c", "c", "end"]);
        q.trim(1, 2);
        assert_eq!(items(&q), ["before-c", "c"]);
        assert_eq!(q.range(1, 5).map(|v| v.to_bytes()).collect::<Vec<_>>(), [b"c".to_vec()]);
        q.trim(3, 1);
        assert!(q.is_empty());
        assert_eq!(q.len(), q.iter().count());
    }

    #[test]
    fn trim_drops_whole_nodes_and_cuts_the_edges() {
        let mut q = QuickList::new(4);
        for i in 0..100 {
            q.push_back(format!("{i}").as_bytes());
        }
        q.trim(10, 89);
        let expected: Vec<String> = (10..90).map(|i| i.to_string()).collect();
        assert_eq!(items(&q), expected);
        assert_eq!(q.len(), 80);
        q.trim(0, 1000);
        assert_eq!(q.len(), 80);
        q.trim(79, 79);
        assert_eq!(items(&q), ["89"]);
        assert!(q.nodes().all(|n| !n.is_empty()));
    }

    #[test]
    fn edits_in_a_full_node_split_it() {
        let mut q = QuickList::new(-1);
        let big = vec![b'x'; 1000];
        for _ in 0..4 {
            q.push_back(&big);
        }
        assert_eq!(q.nodes().count(), 1);
        assert!(q.insert(&big, true, &big));
        assert!(q.nodes().all(|n| n.as_bytes().len() <= 4096));
        assert_eq!(q.len(), 5);
        let restored = QuickList::from_nodes(q.nodes().cloned(), -1);
        assert_eq!(items(&restored), items(&q));
    }
}
