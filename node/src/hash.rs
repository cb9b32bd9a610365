//! A hash value in Redis 7.0's two encodings: `listpack` (field, value,
//! field, value … in insertion order) while it has at most
//! `hash-max-listpack-entries` fields and no field or value longer than
//! `hash-max-listpack-value` bytes, then `hashtable` (a [`Dict`]) for good.

use crate::dict::Dict;
use crate::listpack::{Listpack, LpValue};

#[derive(Clone, Debug, PartialEq)]
pub enum Hash {
    Listpack(Listpack),
    Table(Box<Dict>),
}

/// The conversion thresholds, read from the config when a command runs.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    pub max_entries: usize,
    pub max_value: usize,
}

impl Default for Hash {
    fn default() -> Self {
        Hash::Listpack(Listpack::new())
    }
}

impl Hash {
    pub fn encoding_name(&self) -> &'static str {
        match self {
            Hash::Listpack(_) => "listpack",
            Hash::Table(_) => "hashtable",
        }
    }

    /// Number of fields.
    pub fn len(&self) -> usize {
        match self {
            Hash::Listpack(lp) => lp.len() / 2,
            Hash::Table(d) => d.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Offset of `field`'s entry in a listpack (its value follows).
    fn lp_find(lp: &Listpack, field: &[u8]) -> Option<usize> {
        let mut off = lp.first();
        while let Some(f) = off {
            if lp.get(f).matches(field) {
                return Some(f);
            }
            let v = lp.next(f).expect("a field is followed by its value");
            off = lp.next(v);
        }
        None
    }

    /// The value of `field`.
    pub fn get(&self, field: &[u8]) -> Option<LpValue<'_>> {
        match self {
            Hash::Listpack(lp) => {
                let f = Self::lp_find(lp, field)?;
                Some(lp.get(lp.next(f).expect("value")))
            }
            Hash::Table(d) => d.get(field).map(LpValue::Str),
        }
    }

    pub fn contains(&self, field: &[u8]) -> bool {
        match self {
            Hash::Listpack(lp) => Self::lp_find(lp, field).is_some(),
            Hash::Table(d) => d.contains(field),
        }
    }

    /// Switch to the hashtable before a write whose arguments (of these
    /// byte lengths) could not all go in the listpack: one longer than
    /// `hash-max-listpack-value`, or together enough to push the listpack
    /// past its 1 GB safety size (hashTypeTryConversion). HSET, HMSET and
    /// HSETNX call it with their field and value arguments.
    pub fn try_conversion(&mut self, lens: impl IntoIterator<Item = usize>, limits: Limits) {
        let Hash::Listpack(lp) = self else { return };
        let mut sum = lp.as_bytes().len();
        for len in lens {
            if len > limits.max_value {
                self.convert_to_table();
                return;
            }
            sum = sum.saturating_add(len);
        }
        if sum > LISTPACK_MAX_SAFETY_SIZE {
            self.convert_to_table();
        }
    }

    /// Convert first if `field` or `value` is too long for a listpack
    /// (hashTypeSet), then set; true when the field is new. Converts after
    /// writing when the listpack has too many fields, even after an update
    /// (the limit may have been lowered since the hash grew).
    pub fn set(&mut self, field: &[u8], value: &[u8], limits: Limits) -> bool {
        if let Hash::Listpack(_) = self {
            if field.len() > limits.max_value || value.len() > limits.max_value {
                self.convert_to_table();
            }
        }
        match self {
            Hash::Listpack(lp) => {
                let added = match Self::lp_find(lp, field) {
                    Some(f) => {
                        let v = lp.next(f).expect("a field is followed by its value");
                        lp.replace(v, value);
                        false
                    }
                    None => {
                        lp.push_back(field);
                        lp.push_back(value);
                        true
                    }
                };
                if lp.len() / 2 > limits.max_entries {
                    self.convert_to_table();
                }
                added
            }
            Hash::Table(d) => d.insert(field, value),
        }
    }

    /// Remove `field`; true when it was there.
    pub fn remove(&mut self, field: &[u8]) -> bool {
        match self {
            Hash::Listpack(lp) => match Self::lp_find(lp, field) {
                Some(f) => {
                    lp.delete(f);
                    lp.delete(f);
                    true
                }
                None => false,
            },
            Hash::Table(d) => d.remove(field),
        }
    }

    /// Switch to the hashtable encoding (hashTypeConvertListpack).
    pub fn convert_to_table(&mut self) {
        if let Hash::Listpack(lp) = self {
            let mut d = Dict::with_capacity(lp.len() / 2);
            let mut it = lp.iter();
            while let (Some(f), Some(v)) = (it.next(), it.next()) {
                d.insert(&f.to_bytes(), &v.to_bytes());
            }
            *self = Hash::Table(Box::new(d));
        }
    }

    /// Every (field, value), in listpack order or bucket order.
    pub fn iter(&self) -> Box<dyn Iterator<Item = (LpValue<'_>, LpValue<'_>)> + '_> {
        match self {
            Hash::Listpack(lp) => {
                let mut it = lp.iter();
                Box::new(std::iter::from_fn(move || Some((it.next()?, it.next()?))))
            }
            Hash::Table(d) => Box::new(d.iter().map(table_pair)),
        }
    }

    /// A random (field, value), every field about equally likely.
    pub fn random(&self, rng: &mut impl rand::Rng) -> Option<(LpValue<'_>, LpValue<'_>)> {
        match self {
            Hash::Listpack(lp) if lp.is_empty() => None,
            Hash::Listpack(_) => self.iter().nth(rng.random_range(0..self.len())),
            Hash::Table(d) => d.random(rng).map(table_pair),
        }
    }

    /// `count` random pairs, repetitions allowed, in random order (HRANDFIELD
    /// with a negative count). A listpack is walked once for the whole batch
    /// (lpRandomPairs) rather than once per pick.
    pub fn random_pairs(&self, count: usize, rng: &mut impl rand::Rng) -> Vec<(LpValue<'_>, LpValue<'_>)> {
        let len = self.len();
        if len == 0 {
            return Vec::new();
        }
        match self {
            Hash::Listpack(_) => {
                // (pair index, position in the reply), sorted by pair index.
                let mut picks: Vec<(usize, usize)> = (0..count).map(|i| (rng.random_range(0..len), i)).collect();
                picks.sort_unstable();
                let mut out = vec![None; count];
                let mut picks = picks.into_iter().peekable();
                for (index, pair) in self.iter().enumerate() {
                    while let Some((_, slot)) = picks.next_if(|&(i, _)| i == index) {
                        out[slot] = Some(pair);
                    }
                    if picks.peek().is_none() {
                        break;
                    }
                }
                out.into_iter().map(|p| p.expect("every pick is below len")).collect()
            }
            Hash::Table(d) => (0..count).filter_map(|_| d.random(rng).map(table_pair)).collect(),
        }
    }

    /// `count` distinct random pairs, `count` well below the number of fields
    /// (HRANDFIELD's case 4: a positive count at most a third of the hash).
    /// A listpack is sampled in one pass and keeps its order
    /// (lpRandomPairsUnique); a table is drawn from until enough distinct
    /// fields came up.
    pub fn random_distinct(&self, count: usize, rng: &mut impl rand::Rng) -> Vec<(LpValue<'_>, LpValue<'_>)> {
        let len = self.len();
        let count = count.min(len);
        match self {
            Hash::Listpack(_) => {
                // Selection sampling: keep each pair with probability
                // (still wanted) / (still unseen).
                let mut out = Vec::with_capacity(count);
                for (seen, pair) in self.iter().enumerate() {
                    if out.len() == count {
                        break;
                    }
                    if rng.random_range(0..len - seen) < count - out.len() {
                        out.push(pair);
                    }
                }
                out
            }
            Hash::Table(d) => {
                let mut taken = std::collections::HashSet::with_capacity(count);
                let mut out = Vec::with_capacity(count);
                while out.len() < count {
                    let Some((f, v)) = d.random(rng) else { break };
                    if taken.insert(f) {
                        out.push((LpValue::Str(f), LpValue::Str(v)));
                    }
                }
                out
            }
        }
    }
}

/// Largest listpack Redis lets a write build (LISTPACK_MAX_SAFETY_SIZE).
const LISTPACK_MAX_SAFETY_SIZE: usize = 1 << 30;

fn table_pair<'a>((f, v): (&'a [u8], &'a [u8])) -> (LpValue<'a>, LpValue<'a>) {
    (LpValue::Str(f), LpValue::Str(v))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SMALL: Limits = Limits { max_entries: 2, max_value: 8 };

    #[test]
    fn listpack_until_too_many_or_too_long() {
        let mut h = Hash::default();
        assert!(h.set(b"a", b"1", SMALL));
        assert!(!h.set(b"a", b"2", SMALL));
        assert!(h.set(b"b", b"x", SMALL));
        assert_eq!(h.encoding_name(), "listpack");
        assert_eq!(h.get(b"a").map(|v| v.to_bytes()), Some(b"2".to_vec()));
        assert!(h.remove(b"a") && !h.remove(b"a"));
        assert_eq!(h.len(), 1);
        h.set(b"c", b"y", SMALL);
        h.set(b"d", b"z", SMALL);
        assert_eq!(h.encoding_name(), "hashtable");
        assert_eq!(h.len(), 3);
        let mut g = Hash::default();
        g.set(b"f", b"longer than eight", SMALL);
        assert_eq!(g.encoding_name(), "hashtable");
        assert_eq!(g.get(b"f").map(|v| v.to_bytes()), Some(b"longer than eight".to_vec()));
        let pairs: Vec<_> = h.iter().map(|(f, v)| (f.to_bytes(), v.to_bytes())).collect();
        assert_eq!(pairs.len(), 3);
    }

    #[test]
    fn try_conversion_looks_at_every_argument() {
        let mut h = Hash::default();
        h.try_conversion([1, 8, 2], SMALL);
        assert_eq!(h.encoding_name(), "listpack");
        h.try_conversion([1, 9], SMALL);
        assert_eq!(h.encoding_name(), "hashtable");
    }

    fn ten_fields(limits: Limits) -> Hash {
        let mut h = Hash::default();
        for i in 0..10 {
            h.set(format!("f{i}").as_bytes(), b"v", limits);
        }
        h
    }

    /// Picks per field over many draws, for both encodings.
    fn tally(draw: impl Fn(&Hash, &mut rand::rngs::SmallRng) -> Vec<Vec<u8>>) {
        use rand::SeedableRng;
        let big = Limits { max_entries: 100, max_value: 64 };
        for h in [ten_fields(big), ten_fields(SMALL)] {
            let mut rng = rand::rngs::SmallRng::seed_from_u64(7);
            let mut counts = std::collections::HashMap::new();
            for _ in 0..5000 {
                for f in draw(&h, &mut rng) {
                    *counts.entry(f).or_insert(0) += 1;
                }
            }
            assert_eq!(counts.len(), 10, "{}", h.encoding_name());
            // Uniform draws: each of 10 fields near a tenth of the picks
            // (at least 500 each; a quarter off is over five deviations).
            let total: i32 = counts.values().sum();
            for (f, n) in counts {
                let expected = total / 10;
                assert!((n - expected).abs() < expected / 4, "{} {f:?}: {n} of {total}", h.encoding_name());
            }
        }
    }

    #[test]
    fn random_pairs_are_uniform() {
        tally(|h, rng| h.random_pairs(5, rng).into_iter().map(|(f, _)| f.to_bytes()).collect());
        tally(|h, rng| h.random(rng).map(|(f, _)| f.to_bytes()).into_iter().collect());
    }

    #[test]
    fn random_distinct_pairs_are_distinct_and_uniform() {
        tally(|h, rng| {
            let picks: Vec<_> = h.random_distinct(3, rng).into_iter().map(|(f, _)| f.to_bytes()).collect();
            let unique: std::collections::HashSet<_> = picks.iter().collect();
            assert_eq!((picks.len(), unique.len()), (3, 3));
            picks
        });
    }
}
