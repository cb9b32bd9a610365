//! Redis's intset: a sorted array of distinct integers, each stored in the
//! narrowest width (2, 4 or 8 bytes) every member fits, byte for byte the
//! layout Redis keeps in memory and writes to DUMP payloads and RDB files:
//!
//! ```text
//! encoding u32 LE (2|4|8) | length u32 LE | members, ascending, LE
//! ```
//!
//! Small sets of integers (`set-max-intset-entries`, 512 by default) live
//! here: 100 small integers take 208 bytes.

use thiserror::Error;

const HEADER: usize = 8;

#[derive(Debug, Clone, Error, PartialEq, Eq)]
pub enum IntSetError {
    #[error("intset header is truncated or names an unknown width")]
    Header,
    #[error("intset length does not match its size")]
    Length,
    #[error("intset members are not strictly ascending")]
    Order,
}

#[derive(Clone, PartialEq, Eq)]
pub struct IntSet {
    buf: Vec<u8>,
}

impl std::fmt::Debug for IntSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_set().entries(self.iter()).finish()
    }
}

impl Default for IntSet {
    fn default() -> Self {
        Self::new()
    }
}

/// The narrowest width that holds `v` (_intsetValueEncoding).
fn width_of(v: i64) -> usize {
    if v < i32::MIN as i64 || v > i32::MAX as i64 {
        8
    } else if v < i16::MIN as i64 || v > i16::MAX as i64 {
        4
    } else {
        2
    }
}

impl IntSet {
    pub fn new() -> Self {
        let mut buf = Vec::with_capacity(HEADER);
        buf.extend_from_slice(&2u32.to_le_bytes());
        buf.extend_from_slice(&0u32.to_le_bytes());
        IntSet { buf }
    }

    /// Take a buffer from outside (DUMP payload, RDB file), checking all of
    /// it (intsetValidateIntegrity with deep checks).
    pub fn from_bytes(buf: Vec<u8>) -> Result<Self, IntSetError> {
        if buf.len() < HEADER {
            return Err(IntSetError::Header);
        }
        let width = u32::from_le_bytes(buf[0..4].try_into().unwrap()) as usize;
        if !matches!(width, 2 | 4 | 8) {
            return Err(IntSetError::Header);
        }
        let len = u32::from_le_bytes(buf[4..8].try_into().unwrap()) as usize;
        if len.checked_mul(width).and_then(|n| n.checked_add(HEADER)) != Some(buf.len()) {
            return Err(IntSetError::Length);
        }
        let set = IntSet { buf };
        let mut prev = None;
        for v in set.iter() {
            if prev.is_some_and(|p| p >= v) {
                return Err(IntSetError::Order);
            }
            prev = Some(v);
        }
        Ok(set)
    }

    /// The exact bytes, as DUMP and RDB files carry them.
    pub fn as_bytes(&self) -> &[u8] {
        &self.buf
    }

    fn width(&self) -> usize {
        u32::from_le_bytes(self.buf[0..4].try_into().unwrap()) as usize
    }

    pub fn len(&self) -> usize {
        u32::from_le_bytes(self.buf[4..8].try_into().unwrap()) as usize
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn set_len(&mut self, len: usize) {
        self.buf[4..8].copy_from_slice(&(len as u32).to_le_bytes());
    }

    /// The member at `i` (in ascending order).
    pub fn get(&self, i: usize) -> i64 {
        read(&self.buf, self.width(), i)
    }

    pub fn iter(&self) -> impl DoubleEndedIterator<Item = i64> + ExactSizeIterator + '_ {
        let w = self.width();
        (0..self.len()).map(move |i| read(&self.buf, w, i))
    }

    /// Where `v` is, or where it would go (intsetSearch).
    fn search(&self, v: i64) -> Result<usize, usize> {
        let (w, len) = (self.width(), self.len());
        if len == 0 {
            return Err(0);
        }
        // Most inserts happen at either end (increasing or decreasing ids).
        if v > read(&self.buf, w, len - 1) {
            return Err(len);
        }
        if v < read(&self.buf, w, 0) {
            return Err(0);
        }
        let (mut lo, mut hi) = (0usize, len);
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            let m = read(&self.buf, w, mid);
            match m.cmp(&v) {
                std::cmp::Ordering::Less => lo = mid + 1,
                std::cmp::Ordering::Greater => hi = mid,
                std::cmp::Ordering::Equal => return Ok(mid),
            }
        }
        Err(lo)
    }

    pub fn contains(&self, v: i64) -> bool {
        width_of(v) <= self.width() && self.search(v).is_ok()
    }

    /// Add `v`; false when it was already there.
    pub fn insert(&mut self, v: i64) -> bool {
        let need = width_of(v);
        if need > self.width() {
            self.upgrade(need, v);
            return true;
        }
        let Err(at) = self.search(v) else {
            return false;
        };
        let (w, len) = (self.width(), self.len());
        // Exact growth, as intsetResize reallocs.
        self.buf.reserve_exact(w);
        self.buf.resize(self.buf.len() + w, 0);
        let start = HEADER + at * w;
        self.buf.copy_within(start..HEADER + len * w, start + w);
        write(&mut self.buf, w, at, v);
        self.set_len(len + 1);
        true
    }

    /// Widen every member to `width` and add `v`, which is beyond either
    /// end because it did not fit the old width (intsetUpgradeAndAdd).
    fn upgrade(&mut self, width: usize, v: i64) {
        let old: Vec<i64> = self.iter().collect();
        let mut buf = Vec::with_capacity(HEADER + (old.len() + 1) * width);
        buf.extend_from_slice(&(width as u32).to_le_bytes());
        buf.extend_from_slice(&((old.len() + 1) as u32).to_le_bytes());
        let push = |buf: &mut Vec<u8>, x: i64| buf.extend_from_slice(&x.to_le_bytes()[..width]);
        if v < 0 {
            push(&mut buf, v);
        }
        for x in old {
            push(&mut buf, x);
        }
        if v >= 0 {
            push(&mut buf, v);
        }
        self.buf = buf;
    }

    /// Remove `v`; false when it was not there.
    pub fn remove(&mut self, v: i64) -> bool {
        if width_of(v) > self.width() {
            return false;
        }
        let Ok(at) = self.search(v) else {
            return false;
        };
        self.remove_at(at);
        true
    }

    /// Remove the member at `i`, returning it.
    pub fn remove_at(&mut self, i: usize) -> i64 {
        let (w, len) = (self.width(), self.len());
        let v = read(&self.buf, w, i);
        let start = HEADER + i * w;
        self.buf.drain(start..start + w);
        if self.buf.capacity() > 2 * self.buf.len() + 64 {
            self.buf.shrink_to_fit();
        }
        self.set_len(len - 1);
        v
    }

    /// Bytes the set occupies (intsetBlobLen).
    pub fn blob_len(&self) -> usize {
        self.buf.len()
    }
}

#[inline]
fn read(buf: &[u8], w: usize, i: usize) -> i64 {
    let p = HEADER + i * w;
    match w {
        2 => i16::from_le_bytes(buf[p..p + 2].try_into().unwrap()) as i64,
        4 => i32::from_le_bytes(buf[p..p + 4].try_into().unwrap()) as i64,
        _ => i64::from_le_bytes(buf[p..p + 8].try_into().unwrap()),
    }
}

#[inline]
fn write(buf: &mut [u8], w: usize, i: usize, v: i64) {
    let p = HEADER + i * w;
    buf[p..p + w].copy_from_slice(&v.to_le_bytes()[..w]);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inserts_keep_order_and_upgrade() {
        let mut s = IntSet::new();
        for v in [5, 1, 3, 5, -2] {
            s.insert(v);
        }
        assert_eq!(s.iter().collect::<Vec<_>>(), vec![-2, 1, 3, 5]);
        assert_eq!(s.blob_len(), 8 + 4 * 2);
        assert!(s.insert(70000));
        assert_eq!(s.width(), 4);
        assert!(s.insert(i64::MIN));
        assert_eq!(s.width(), 8);
        assert_eq!(s.iter().collect::<Vec<_>>(), vec![i64::MIN, -2, 1, 3, 5, 70000]);
        assert!(s.contains(70000) && !s.contains(4));
        assert!(s.remove(3) && !s.remove(3));
        assert_eq!(s.len(), 5);
        assert_eq!(s.remove_at(0), i64::MIN);
        assert_eq!(s.get(0), -2);
    }

    #[test]
    fn bytes_match_redis_and_are_validated() {
        let mut s = IntSet::new();
        s.insert(1);
        s.insert(2);
        assert_eq!(s.as_bytes(), &[2, 0, 0, 0, 2, 0, 0, 0, 1, 0, 2, 0]);
        assert_eq!(IntSet::from_bytes(s.as_bytes().to_vec()).unwrap(), s);
        assert_eq!(IntSet::from_bytes(vec![3, 0, 0, 0, 0, 0, 0, 0]), Err(IntSetError::Header));
        assert_eq!(IntSet::from_bytes(vec![2, 0, 0, 0, 2, 0, 0, 0, 1, 0]), Err(IntSetError::Length));
        assert_eq!(IntSet::from_bytes(vec![2, 0, 0, 0, 2, 0, 0, 0, 2, 0, 1, 0]), Err(IntSetError::Order));
        assert_eq!(IntSet::from_bytes(vec![2, 0, 0, 0, 255, 255, 255, 255]), Err(IntSetError::Length));
    }
}
