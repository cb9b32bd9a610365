//! A field → value dictionary for the collection types' large encodings
//! (`hashtable` sets and hashes, the member index of `skiplist` sorted sets).
//!
//! It is one keyspace [`Segment`]: a chained table with incremental rehash,
//! each field and its value in one allocation (see [`crate::keyspace::entry`]),
//! so it gives SSCAN/HSCAN/ZSCAN the same guarantee SCAN has (an element
//! present for the whole iteration is returned at least once, across growth
//! and shrinking) and SPOP/SRANDMEMBER/HRANDFIELD a bucket-uniform random
//! pick, as Redis's dict does. Values are bytes: empty for set members, the
//! field's value for hashes, a score's 8 bytes for sorted sets.

use crate::keyspace::entry::{EntryPtr, Payload};
use crate::keyspace::segment::Segment;
use crate::keyspace::{hash_of, HeapValue, ValueRef};

#[derive(Default)]
pub struct Dict {
    seg: Segment,
}

// SAFETY: a Dict exclusively owns every entry reachable from it (as Table).
unsafe impl Send for Dict {}

fn payload(value: &[u8]) -> Payload<'_> {
    if value.len() <= u8::MAX as usize {
        Payload::Embstr(value)
    } else {
        Payload::Heap(Box::new(HeapValue::Raw(value.to_vec())))
    }
}

fn value_of<'a>(e: EntryPtr) -> &'a [u8] {
    match e.value() {
        ValueRef::Str(s, _) => s,
        _ => unreachable!("dict values are stored as bytes"),
    }
}

impl Dict {
    pub fn new() -> Self {
        Dict::default()
    }

    pub fn with_capacity(n: usize) -> Self {
        let mut d = Dict::default();
        d.seg.reserve(n);
        d
    }

    pub fn len(&self) -> usize {
        self.seg.len()
    }

    pub fn is_empty(&self) -> bool {
        self.seg.is_empty()
    }

    pub fn get(&self, field: &[u8]) -> Option<&[u8]> {
        self.seg.find(hash_of(field), field).map(value_of)
    }

    /// Start loading what a lookup of the field of hash `hash` touches
    /// first (see [`Segment::prefetch`]).
    #[inline]
    pub fn prefetch(&self, hash: u64, depth: u8) {
        self.seg.prefetch(hash, depth);
    }

    pub fn contains(&self, field: &[u8]) -> bool {
        self.seg.find(hash_of(field), field).is_some()
    }

    /// Set `field` to `value`; true when the field is new.
    pub fn insert(&mut self, field: &[u8], value: &[u8]) -> bool {
        let h = hash_of(field);
        if let Some(link) = self.seg.find_link(h, field) {
            // SAFETY: `link` was just found and points at the live entry.
            unsafe {
                let old = (*link).expect("found");
                // A sorted set's new score, a hash value of the same size.
                if old.set_embstr_same_len(value) {
                    return false;
                }
                let new = old.rebuilt(payload(value), None);
                self.seg.replace(link, old, new);
                old.free();
            }
            return false;
        }
        self.seg.insert(h, EntryPtr::new(field, payload(value), None, 0));
        true
    }

    /// Add `field` known to be absent (bulk loads, conversions).
    pub fn insert_new(&mut self, field: &[u8], value: &[u8]) {
        debug_assert!(!self.contains(field));
        self.seg.insert(hash_of(field), EntryPtr::new(field, payload(value), None, 0));
    }

    /// Remove `field`; true when it was there.
    pub fn remove(&mut self, field: &[u8]) -> bool {
        match self.seg.remove(hash_of(field), field) {
            Some(e) => {
                // SAFETY: unlinked, so nothing else refers to it.
                unsafe { e.free() };
                true
            }
            None => false,
        }
    }

    /// Every field and value, in bucket order.
    pub fn iter(&self) -> impl Iterator<Item = (&[u8], &[u8])> + '_ {
        self.seg.entries().map(|e| (e.key(), value_of(e)))
    }

    /// One step of an xSCAN from `cursor`, visiting at least one bucket;
    /// returns the next cursor (0: done). See [`Segment::scan_step`].
    pub fn scan_step(&self, cursor: u64, f: &mut impl FnMut(&[u8], &[u8])) -> u64 {
        self.seg.scan_step(cursor, &mut |e| f(e.key(), value_of(e)))
    }

    /// A random field and its value, every field about equally likely
    /// (dictGetFairRandomKey).
    pub fn random(&self, rng: &mut impl rand::Rng) -> Option<(&[u8], &[u8])> {
        self.seg.random_fair(rng).map(|e| (e.key(), value_of(e)))
    }
}

impl Clone for Dict {
    fn clone(&self) -> Self {
        let mut d = Dict::with_capacity(self.len());
        for (f, v) in self.iter() {
            d.insert_new(f, v);
        }
        d
    }
}

impl PartialEq for Dict {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && self.iter().all(|(f, v)| other.get(f) == Some(v))
    }
}

impl std::fmt::Debug for Dict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_map()
            .entries(self.iter().map(|(k, v)| (String::from_utf8_lossy(k), String::from_utf8_lossy(v))))
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn insert_replace_remove_scan() {
        let mut d = Dict::new();
        for i in 0..1000u32 {
            assert!(d.insert(format!("f{i}").as_bytes(), &i.to_le_bytes()));
        }
        assert!(!d.insert(b"f7", &[0u8; 300]));
        assert_eq!(d.get(b"f7"), Some(&[0u8; 300][..]));
        assert_eq!(d.len(), 1000);
        for i in 0..500u32 {
            assert!(d.remove(format!("f{i}").as_bytes()));
        }
        assert!(!d.remove(b"f1"));
        let mut seen = std::collections::HashSet::new();
        let mut cursor = 0;
        loop {
            cursor = d.scan_step(cursor, &mut |f, _| {
                seen.insert(f.to_vec());
            });
            if cursor == 0 {
                break;
            }
        }
        assert_eq!(seen.len(), 500);
        let c = d.clone();
        assert_eq!(c, d);
        let mut rng = rand::rng();
        assert!(d.random(&mut rng).is_some());
    }
}
