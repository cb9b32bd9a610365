//! A set value in Redis 7.0's two encodings: `intset` while every member is
//! an integer and there are at most `set-max-intset-entries` of them, then
//! `hashtable` (a [`Dict`] with empty values) for good (Redis never converts
//! back).

use crate::dict::Dict;
use crate::intset::IntSet;
use crate::listpack::LpValue;
use corvid_proto::resp::parse_i64;

#[derive(Clone, Debug, PartialEq)]
pub enum Set {
    Intset(IntSet),
    Table(Box<Dict>),
}

/// A member as the set holds it: integers from an intset, bytes from a table.
pub type Member<'a> = LpValue<'a>;

/// Integer form of a member the intset may hold (string2ll on the bytes:
/// canonical decimal only, so "01" and "+1" stay strings).
fn as_int(m: &[u8]) -> Option<i64> {
    if m.len() > 20 {
        return None;
    }
    parse_i64(m)
}

impl Set {
    /// An empty set in the encoding its first member calls for
    /// (setTypeCreate).
    pub fn for_member(first: &[u8]) -> Set {
        if as_int(first).is_some() {
            Set::Intset(IntSet::new())
        } else {
            Set::Table(Box::default())
        }
    }

    /// An empty set sized for `n` members of the given kind (SINTERSTORE
    /// and friends build the result this way, as setTypeCreate does).
    pub fn with_capacity(n: usize, all_ints: bool, max_intset: usize) -> Set {
        if all_ints && n <= max_intset {
            Set::Intset(IntSet::new())
        } else {
            Set::Table(Box::new(Dict::with_capacity(n)))
        }
    }

    pub fn encoding_name(&self) -> &'static str {
        match self {
            Set::Intset(_) => "intset",
            Set::Table(_) => "hashtable",
        }
    }

    pub fn len(&self) -> usize {
        match self {
            Set::Intset(s) => s.len(),
            Set::Table(d) => d.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn contains(&self, m: &[u8]) -> bool {
        match self {
            Set::Intset(s) => as_int(m).is_some_and(|n| s.contains(n)),
            Set::Table(d) => d.contains(m),
        }
    }

    /// Add `m`; true when it is new (setTypeAdd). Converts to a table when
    /// `m` is not an integer or the intset would exceed `max_intset`.
    pub fn insert(&mut self, m: &[u8], max_intset: usize) -> bool {
        match self {
            Set::Intset(s) => match as_int(m) {
                Some(n) => {
                    if !s.insert(n) {
                        return false;
                    }
                    if s.len() > max_intset {
                        self.convert_to_table();
                    }
                    true
                }
                None => {
                    self.convert_to_table();
                    self.insert(m, max_intset)
                }
            },
            Set::Table(d) => {
                if d.contains(m) {
                    return false;
                }
                d.insert_new(m, b"");
                true
            }
        }
    }

    /// Remove `m`; true when it was there.
    pub fn remove(&mut self, m: &[u8]) -> bool {
        match self {
            Set::Intset(s) => as_int(m).is_some_and(|n| s.remove(n)),
            Set::Table(d) => d.remove(m),
        }
    }

    /// Switch to the hashtable encoding (setTypeConvert).
    pub fn convert_to_table(&mut self) {
        if let Set::Intset(s) = self {
            let mut d = Dict::with_capacity(s.len());
            let mut buf = itoa::Buffer::new();
            for n in s.iter() {
                d.insert_new(buf.format(n).as_bytes(), b"");
            }
            *self = Set::Table(Box::new(d));
        }
    }

    pub fn iter(&self) -> Box<dyn Iterator<Item = Member<'_>> + '_> {
        match self {
            Set::Intset(s) => Box::new(s.iter().map(LpValue::Int)),
            Set::Table(d) => Box::new(d.iter().map(|(m, _)| LpValue::Str(m))),
        }
    }

    /// A random member (setTypeRandomElement).
    pub fn random(&self, rng: &mut impl rand::Rng) -> Option<Member<'_>> {
        match self {
            Set::Intset(s) if s.is_empty() => None,
            Set::Intset(s) => Some(LpValue::Int(s.get(rng.random_range(0..s.len())))),
            Set::Table(d) => d.random(rng).map(|(m, _)| LpValue::Str(m)),
        }
    }

    /// Remove and return a random member.
    pub fn pop_random(&mut self, rng: &mut impl rand::Rng) -> Option<Vec<u8>> {
        match self {
            Set::Intset(s) if s.is_empty() => None,
            Set::Intset(s) => {
                let n = s.remove_at(rng.random_range(0..s.len()));
                Some(itoa::Buffer::new().format(n).as_bytes().to_vec())
            }
            Set::Table(d) => {
                let m = d.random(rng)?.0.to_vec();
                d.remove(&m);
                Some(m)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intset_until_a_string_or_too_many() {
        let mut s = Set::for_member(b"1");
        assert!(s.insert(b"1", 3) && !s.insert(b"1", 3));
        assert!(s.insert(b"2", 3) && s.insert(b"3", 3));
        assert_eq!(s.encoding_name(), "intset");
        assert!(s.insert(b"4", 3));
        assert_eq!(s.encoding_name(), "hashtable");
        assert!(s.contains(b"4") && !s.contains(b"5"));
        let mut t = Set::for_member(b"1");
        t.insert(b"1", 512);
        assert!(!t.contains(b"01"));
        t.insert(b"01", 512);
        assert_eq!(t.encoding_name(), "hashtable");
        assert!(t.contains(b"1") && t.contains(b"01"));
        assert!(t.remove(b"01") && !t.remove(b"01"));
        assert_eq!(t.len(), 1);
        let mut rng = rand::rng();
        assert_eq!(t.pop_random(&mut rng), Some(b"1".to_vec()));
        assert!(t.is_empty());
    }
}
