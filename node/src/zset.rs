//! A sorted-set value in Redis 7.0's two encodings:
//!
//! - `listpack`: member, score, member, score… ordered by score then member,
//!   while the set has at most `zset-max-listpack-entries` members of at most
//!   `zset-max-listpack-value` bytes. A score is stored as Redis's
//!   zzlInsertAt stores it: an integer entry when the double is an exact
//!   integer (double2ll), else its `d2string` text.
//! - `skiplist`: a [`SkipList`] ordered by (score, member) for ranges and
//!   ranks, plus a [`Dict`] member → score (`f64::to_le_bytes`) for lookups
//!   (and ZSCAN). A set converts to it when an addition breaks a threshold
//!   and, like Redis, only converts back when the STORE commands build a
//!   new value ([`ZSet::from_sorted_pairs`]).
//!
//! The operations here are the encoding-independent sorted-set API of
//! t_zset.c (zsetAdd, zsetDel, zsetScore, zsetRank, range lookups); they
//! know nothing of commands or replies.

use std::fmt;

use crate::dict::Dict;
use crate::float::{d2string, double2ll};
use crate::listpack::{Listpack, LpValue};
use crate::skiplist::SkipList;

/// Largest listpack Redis lets a sorted set grow to (LISTPACK_MAX_SAFETY_SIZE).
const LISTPACK_MAX_SAFE: usize = 1 << 30;

#[derive(Clone)]
pub enum ZSet {
    Listpack(Listpack),
    SkipList(Box<Indexed>),
}

/// The `skiplist` encoding: the order and the member index.
#[derive(Clone, Default)]
pub struct Indexed {
    list: SkipList,
    dict: Dict,
}

impl Default for ZSet {
    fn default() -> Self {
        ZSet::Listpack(Listpack::new())
    }
}

/// ZADD's options (ZADD_IN_*); the command rejects incompatible mixes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AddFlags {
    pub incr: bool,
    pub nx: bool,
    pub xx: bool,
    pub gt: bool,
    pub lt: bool,
}

/// What [`ZSet::add`] did (ZADD_OUT_*); the score is the member's score
/// afterwards, except for `Skipped`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Added {
    New(f64),
    Updated(f64),
    /// Processed, but the score was already that.
    Unchanged(f64),
    /// Not processed: NX/XX/GT/LT said no.
    Skipped,
}

/// The addition would give a NaN score (ZADD_OUT_NAN).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NanScore;

/// A score as a listpack entry holds it.
fn lp_score(v: LpValue<'_>) -> f64 {
    match v {
        LpValue::Int(n) => n as f64,
        LpValue::Str(s) => std::str::from_utf8(s).ok().and_then(|t| t.parse().ok()).unwrap_or(0.0),
    }
}

/// The bytes a listpack stores for `score` (zzlInsertAt): the exact integer
/// when there is one (so -0 is stored as 0), else `d2string`.
fn lp_score_text(score: f64) -> String {
    match double2ll(score) {
        Some(n) => itoa::Buffer::new().format(n).to_owned(),
        None => d2string(score),
    }
}

/// A listpack member as bytes (integers in decimal), using `buf` for those.
pub fn member_bytes<'a>(v: LpValue<'a>, buf: &'a mut itoa::Buffer) -> &'a [u8] {
    match v {
        LpValue::Int(n) => buf.format(n).as_bytes(),
        LpValue::Str(s) => s,
    }
}

/// (member offset, member, score) of each pair of a listpack, from `at`.
struct Pairs<'a> {
    lp: &'a Listpack,
    at: Option<usize>,
    reverse: bool,
}

impl<'a> Iterator for Pairs<'a> {
    type Item = (usize, LpValue<'a>, f64);

    fn next(&mut self) -> Option<Self::Item> {
        let m = self.at?;
        let s = self.lp.next(m).expect("a member is followed by its score");
        self.at = if self.reverse { self.lp.prev(m).and_then(|s| self.lp.prev(s)) } else { self.lp.next(s) };
        Some((m, self.lp.get(m), lp_score(self.lp.get(s))))
    }
}

fn pairs(lp: &Listpack, from_rank: usize, reverse: bool) -> Pairs<'_> {
    let mut at = lp.first();
    for _ in 0..2 * from_rank {
        at = at.and_then(|o| lp.next(o));
    }
    Pairs { lp, at, reverse }
}

/// Offset just after the entry at `off`.
fn after(lp: &Listpack, off: usize) -> usize {
    lp.next(off).unwrap_or(lp.as_bytes().len() - 1)
}

/// Insert a pair into a listpack at its place (zzlInsert); `member` is absent.
fn lp_insert(lp: &mut Listpack, member: &[u8], score: f64) {
    let mut buf = itoa::Buffer::new();
    let at = pairs(lp, 0, false)
        .find(|&(_, m, s)| s > score || (s == score && member_bytes(m, &mut buf) > member))
        .map_or(lp.as_bytes().len() - 1, |(off, _, _)| off);
    lp.insert(at, member);
    let score_at = after(lp, at);
    lp.insert(score_at, lp_score_text(score).as_bytes());
}

fn lp_find(lp: &Listpack, member: &[u8]) -> Option<(usize, f64)> {
    pairs(lp, 0, false).find(|(_, m, _)| m.matches(member)).map(|(off, _, s)| (off, s))
}

fn lp_delete_pair(lp: &mut Listpack, off: usize) {
    lp.delete(off);
    lp.delete(off);
}

impl ZSet {
    /// An empty sorted set for a ZADD that creates its key: a skiplist from
    /// the start when the first member could never be in a listpack.
    pub fn for_first_member(member_len: usize, max_entries: usize, max_value: usize) -> ZSet {
        if max_entries == 0 || member_len > max_value {
            ZSet::SkipList(Box::default())
        } else {
            ZSet::default()
        }
    }

    /// An empty `skiplist`-encoded set (ZRANGESTORE of more ranks than a
    /// listpack holds).
    pub fn new_skiplist() -> ZSet {
        ZSet::SkipList(Box::default())
    }

    /// A set over an already validated listpack of (member, score) pairs in
    /// order (RDB and RESTORE loading); nothing is checked here.
    pub fn from_listpack_unchecked(lp: Listpack) -> ZSet {
        ZSet::Listpack(lp)
    }

    /// A set of pairs sorted by (score, member) with distinct members, in the
    /// encoding zsetConvertToListpackIfNeeded picks for the result of
    /// ZUNIONSTORE, ZINTERSTORE and ZDIFFSTORE.
    pub fn from_sorted_pairs(pairs: &[(Vec<u8>, f64)], max_entries: usize, max_value: usize) -> ZSet {
        let longest = pairs.iter().map(|(m, _)| m.len()).max().unwrap_or(0);
        let total: usize = pairs.iter().map(|(m, _)| m.len()).sum();
        if pairs.len() <= max_entries && longest <= max_value && total <= LISTPACK_MAX_SAFE {
            let mut lp = Listpack::new();
            for (m, s) in pairs {
                lp.push_back(m);
                lp.push_back(lp_score_text(*s).as_bytes());
            }
            return ZSet::Listpack(lp);
        }
        let mut ix = Indexed { list: SkipList::new(), dict: Dict::with_capacity(pairs.len()) };
        for (m, s) in pairs {
            ix.list.insert(m, *s);
            ix.dict.insert_new(m, &s.to_le_bytes());
        }
        ZSet::SkipList(Box::new(ix))
    }

    pub fn encoding_name(&self) -> &'static str {
        match self {
            ZSet::Listpack(_) => "listpack",
            ZSet::SkipList(_) => "skiplist",
        }
    }

    pub fn len(&self) -> usize {
        match self {
            ZSet::Listpack(lp) => lp.len() / 2,
            ZSet::SkipList(ix) => ix.list.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The member → score index of the skiplist encoding (scores as
    /// `f64::to_le_bytes`), for ZSCAN; None for a listpack.
    pub fn dict(&self) -> Option<&Dict> {
        match self {
            ZSet::Listpack(_) => None,
            ZSet::SkipList(ix) => Some(&ix.dict),
        }
    }

    /// The listpack of the listpack encoding (DUMP writes it as is).
    pub fn as_listpack(&self) -> Option<&Listpack> {
        match self {
            ZSet::Listpack(lp) => Some(lp),
            ZSet::SkipList(_) => None,
        }
    }

    /// Every (member, score), lowest score first.
    pub fn iter(&self) -> Box<dyn Iterator<Item = (LpValue<'_>, f64)> + '_> {
        self.iter_from(0, false)
    }

    /// Every (member, score), highest score first.
    pub fn iter_rev(&self) -> Box<dyn Iterator<Item = (LpValue<'_>, f64)> + '_> {
        match self.len().checked_sub(1) {
            Some(last) => self.iter_from(last, true),
            None => Box::new(std::iter::empty()),
        }
    }

    /// The elements from 0-based `rank` on (counted from the lowest score),
    /// upwards or (`reverse`) downwards; empty when `rank` is past the end.
    pub fn iter_from(&self, rank: usize, reverse: bool) -> Box<dyn Iterator<Item = (LpValue<'_>, f64)> + '_> {
        match self {
            ZSet::Listpack(lp) => Box::new(pairs(lp, rank, reverse).map(|(_, m, s)| (m, s))),
            ZSet::SkipList(ix) => Box::new(ix.list.iter_from(rank, reverse).map(|(m, s)| (LpValue::Str(m), s))),
        }
    }

    /// Start loading the skiplist nodes that searches for these (score,
    /// member) places will land on (see [`SkipList::warm`]); nothing for a
    /// listpack, which is small.
    pub fn warm(&self, targets: &[(f64, &[u8])]) {
        if let ZSet::SkipList(ix) = self {
            ix.list.warm(targets);
        }
    }

    /// The score of `member` (zsetScore).
    pub fn score(&self, member: &[u8]) -> Option<f64> {
        match self {
            ZSet::Listpack(lp) => lp_find(lp, member).map(|(_, s)| s),
            ZSet::SkipList(ix) => ix.dict.get(member).map(dict_score),
        }
    }

    /// The 0-based rank of `member` from the lowest score (zsetRank).
    pub fn rank(&self, member: &[u8]) -> Option<usize> {
        match self {
            ZSet::Listpack(lp) => pairs(lp, 0, false).position(|(_, m, _)| m.matches(member)),
            ZSet::SkipList(ix) => {
                let score = dict_score(ix.dict.get(member)?);
                ix.list.rank(score, member).map(|r| r - 1)
            }
        }
    }

    /// How many elements, from the lowest, satisfy `pred`, which holds for a
    /// prefix of the order: "below the range's minimum" gives the rank of
    /// the first element in a range, "within its maximum" one past its last.
    pub fn count_while(&self, mut pred: impl FnMut(&[u8], f64) -> bool) -> usize {
        match self {
            ZSet::Listpack(lp) => {
                let mut buf = itoa::Buffer::new();
                pairs(lp, 0, false).take_while(|&(_, m, s)| pred(member_bytes(m, &mut buf), s)).count()
            }
            ZSet::SkipList(ix) => ix.list.count_while(pred),
        }
    }

    /// The rank of the last element satisfying `pred`, which holds for a
    /// prefix of the order ("within a range's maximum"). A listpack is
    /// scanned from its end, as Redis's zzlLast*InRange do, which decides
    /// the answer for lexicographic ranges over mixed scores.
    pub fn last_where(&self, mut pred: impl FnMut(&[u8], f64) -> bool) -> Option<usize> {
        match self {
            ZSet::Listpack(_) => {
                let mut buf = itoa::Buffer::new();
                let from_top = self.iter_rev().position(|(m, s)| pred(member_bytes(m, &mut buf), s))?;
                Some(self.len() - 1 - from_top)
            }
            ZSet::SkipList(ix) => ix.list.count_while(pred).checked_sub(1),
        }
    }

    /// Add `member` or change its score as ZADD's `flags` say (zsetAdd),
    /// converting to a skiplist when a new member breaks a threshold.
    pub fn add(
        &mut self,
        member: &[u8],
        score: f64,
        flags: AddFlags,
        max_entries: usize,
        max_value: usize,
    ) -> Result<Added, NanScore> {
        if score.is_nan() {
            return Err(NanScore);
        }
        let Some(current) = self.score(member) else {
            if flags.xx {
                return Ok(Added::Skipped);
            }
            self.insert_new(member, score, max_entries, max_value);
            return Ok(Added::New(score));
        };
        if flags.nx {
            return Ok(Added::Skipped);
        }
        let score = if flags.incr { score + current } else { score };
        if score.is_nan() {
            return Err(NanScore);
        }
        if (flags.lt && score >= current) || (flags.gt && score <= current) {
            return Ok(Added::Skipped);
        }
        if score == current {
            return Ok(Added::Unchanged(score));
        }
        self.rescore(member, current, score);
        Ok(Added::Updated(score))
    }

    /// Set `member`'s score, adding it if absent: for loaders (RDB, the
    /// STORE commands) building a set pair by pair. Starts from
    /// [`ZSet::default`] and converts past `max_entries` members or a member
    /// longer than `max_value` bytes, as zsetAdd does.
    pub fn insert(&mut self, member: &[u8], score: f64, max_entries: usize, max_value: usize) {
        match self.score(member) {
            Some(current) if current != score => self.rescore(member, current, score),
            Some(_) => {}
            None => self.insert_new(member, score, max_entries, max_value),
        }
    }

    fn insert_new(&mut self, member: &[u8], score: f64, max_entries: usize, max_value: usize) {
        if let ZSet::Listpack(lp) = self {
            if lp.len() / 2 < max_entries
                && member.len() <= max_value
                && lp.as_bytes().len() + member.len() <= LISTPACK_MAX_SAFE
            {
                lp_insert(lp, member, score);
                return;
            }
            self.convert_to_skiplist();
        }
        let ZSet::SkipList(ix) = self else { unreachable!("converted above") };
        ix.list.insert(member, score);
        ix.dict.insert_new(member, &score.to_le_bytes());
    }

    /// Move an existing member from score `old` to `new`.
    fn rescore(&mut self, member: &[u8], old: f64, new: f64) {
        match self {
            ZSet::Listpack(lp) => {
                let (off, _) = lp_find(lp, member).expect("member present");
                lp_delete_pair(lp, off);
                lp_insert(lp, member, new);
            }
            ZSet::SkipList(ix) => {
                ix.list.update_score(member, old, new);
                ix.dict.insert(member, &new.to_le_bytes());
            }
        }
    }

    /// Remove `member` (zsetDel); false if it was not there.
    pub fn remove(&mut self, member: &[u8]) -> bool {
        match self {
            ZSet::Listpack(lp) => match lp_find(lp, member) {
                Some((off, _)) => {
                    lp_delete_pair(lp, off);
                    true
                }
                None => false,
            },
            ZSet::SkipList(ix) => {
                let Some(score) = ix.dict.get(member).map(dict_score) else { return false };
                ix.dict.remove(member);
                ix.list.remove(score, member)
            }
        }
    }

    /// Remove the elements of 0-based ranks `start..=end` (within the set);
    /// returns how many went.
    pub fn remove_ranks(&mut self, start: usize, end: usize) -> usize {
        let before = self.len();
        match self {
            ZSet::Listpack(lp) => {
                let Some((off, _, _)) = pairs(lp, start, false).next() else { return 0 };
                for _ in start..=end.min(before - 1) {
                    lp_delete_pair(lp, off);
                }
            }
            ZSet::SkipList(ix) => {
                let Indexed { list, dict } = &mut **ix;
                list.remove_ranks(start, end, |m| {
                    dict.remove(m);
                });
            }
        }
        before - self.len()
    }

    /// Remove and return the lowest or (`highest`) the highest element.
    pub fn pop(&mut self, highest: bool) -> Option<(Vec<u8>, f64)> {
        let rank = if highest { self.len().checked_sub(1)? } else { 0 };
        let (member, score) = self.iter_from(rank, false).next().map(|(m, s)| (m.to_bytes(), s))?;
        self.remove_ranks(rank, rank);
        Some((member, score))
    }

    /// A random element (zsetTypeRandomElement): bucket-fair for a
    /// skiplist, uniform for a listpack.
    pub fn random(&self, rng: &mut impl rand::Rng) -> Option<(LpValue<'_>, f64)> {
        match self {
            ZSet::Listpack(lp) if lp.is_empty() => None,
            ZSet::Listpack(_) => self.iter_from(rng.random_range(0..self.len()), false).next(),
            ZSet::SkipList(ix) => ix.dict.random(rng).map(|(m, s)| (LpValue::Str(m), dict_score(s))),
        }
    }

    /// Switch to the skiplist encoding (zsetConvert).
    fn convert_to_skiplist(&mut self) {
        if let ZSet::Listpack(lp) = self {
            let mut ix = Indexed { list: SkipList::new(), dict: Dict::with_capacity(lp.len() / 2) };
            for (_, m, s) in pairs(lp, 0, false) {
                let m = m.to_bytes();
                ix.list.insert(&m, s);
                ix.dict.insert_new(&m, &s.to_le_bytes());
            }
            *self = ZSet::SkipList(Box::new(ix));
        }
    }
}

fn dict_score(v: &[u8]) -> f64 {
    f64::from_le_bytes(v.try_into().expect("scores are 8 bytes"))
}

impl PartialEq for ZSet {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (ZSet::Listpack(a), ZSet::Listpack(b)) => a == b,
            (ZSet::SkipList(_), ZSet::SkipList(_)) => {
                self.len() == other.len()
                    && self.iter().zip(other.iter()).all(|((m, s), (n, t))| m == n && s.to_bits() == t.to_bits())
            }
            _ => false,
        }
    }
}

impl fmt::Debug for ZSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let elements: Vec<(String, f64)> =
            self.iter().map(|(m, s)| (String::from_utf8_lossy(&m.to_bytes()).into_owned(), s)).collect();
        f.debug_struct("ZSet").field("encoding", &self.encoding_name()).field("elements", &elements).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn content(z: &ZSet) -> Vec<(Vec<u8>, f64)> {
        z.iter().map(|(m, s)| (m.to_bytes(), s)).collect()
    }

    /// The bytes redis-server 7.0.15 keeps for ZADD z 1.5 a 2 b -0 c:
    /// `{c: 0, a: "1.5", b: 2}`, integral scores as integers.
    #[test]
    fn listpack_layout_matches_redis() {
        let mut z = ZSet::default();
        for (m, s) in [(&b"a"[..], 1.5), (b"b", 2.0), (b"c", -0.0)] {
            assert_eq!(z.add(m, s, AddFlags::default(), 128, 64), Ok(Added::New(s)));
        }
        let got: Vec<Vec<u8>> = z.as_listpack().unwrap().iter().map(LpValue::to_bytes).collect();
        assert_eq!(got, [&b"c"[..], b"0", b"a", b"1.5", b"b", b"2"]);
        assert_eq!(z.score(b"c").map(|s| s.is_sign_negative()), Some(false));
    }

    #[test]
    fn both_encodings_agree() {
        let mut small = ZSet::default();
        let mut big = ZSet::new_skiplist();
        for i in 0..100u32 {
            let m = format!("m{}", (i * 37) % 100);
            let s = (i % 9) as f64 / 2.0;
            small.insert(m.as_bytes(), s, 1000, 64);
            big.insert(m.as_bytes(), s, 1000, 64);
        }
        assert_eq!(small.encoding_name(), "listpack");
        assert_eq!(big.encoding_name(), "skiplist");
        assert_eq!(content(&small), content(&big));
        let mut popped = Vec::new();
        for z in [&mut small, &mut big] {
            assert_eq!(z.rank(b"m0"), Some(0));
            assert_eq!(z.count_while(|_, s| s < 1.0), 12 + 11);
            let flags = AddFlags { incr: true, ..AddFlags::default() };
            assert_eq!(z.add(b"m0", 10.0, flags, 1000, 64), Ok(Added::Updated(10.0)));
            assert_eq!(z.rank(b"m0"), Some(99));
            assert_eq!(z.add(b"m0", f64::NAN, flags, 1000, 64), Err(NanScore));
            let gt = AddFlags { gt: true, ..AddFlags::default() };
            assert_eq!(z.add(b"m0", 5.0, gt, 1000, 64), Ok(Added::Skipped));
            assert!(z.remove(b"m0") && !z.remove(b"m0"));
            assert_eq!(z.remove_ranks(0, 9), 10);
            popped.push(z.pop(true));
            assert_eq!(z.len(), 88);
        }
        assert_eq!(content(&small), content(&big));
        assert_eq!(popped[0], popped[1]);
        assert_eq!(popped[0].as_ref().map(|p| p.1), Some(4.0));
    }

    #[test]
    fn converts_on_thresholds() {
        let mut z = ZSet::default();
        z.insert(b"a", 1.0, 2, 5);
        z.insert(b"b", 1.0, 2, 5);
        assert_eq!(z.encoding_name(), "listpack");
        z.insert(b"c", 1.0, 2, 5);
        assert_eq!(z.encoding_name(), "skiplist");
        assert_eq!(z.dict().unwrap().get(b"c"), Some(&1f64.to_le_bytes()[..]));
        let mut z = ZSet::default();
        z.insert(b"toolong", 1.0, 2, 5);
        assert_eq!(z.encoding_name(), "skiplist");
        let pairs = vec![(b"a".to_vec(), 1.0), (b"b".to_vec(), f64::INFINITY)];
        let lp = ZSet::from_sorted_pairs(&pairs, 2, 5);
        assert_eq!(lp.encoding_name(), "listpack");
        assert_eq!(content(&lp), pairs);
        assert_eq!(ZSet::from_sorted_pairs(&pairs, 1, 5).encoding_name(), "skiplist");
        assert_eq!(ZSet::from_sorted_pairs(&pairs, 2, 0), ZSet::from_sorted_pairs(&pairs, 1, 5));
    }
}
