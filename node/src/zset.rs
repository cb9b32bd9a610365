//! A sorted-set value in Redis 7.0's two encodings: `listpack` (member,
//! score, member, score … in score order) while it has at most
//! `zset-max-listpack-entries` members of at most `zset-max-listpack-value`
//! bytes, then `skiplist`.

use crate::listpack::{Listpack, LpValue};

#[derive(Clone, Debug, PartialEq)]
pub enum ZSet {
    Listpack(Listpack),
}

impl Default for ZSet {
    fn default() -> Self {
        ZSet::Listpack(Listpack::new())
    }
}

/// A score as a listpack holds it: an integer or the bytes of a double.
fn score_of(v: LpValue<'_>) -> f64 {
    match v {
        LpValue::Int(n) => n as f64,
        LpValue::Str(s) => std::str::from_utf8(s).ok().and_then(|s| s.parse().ok()).unwrap_or(0.0),
    }
}

impl ZSet {
    pub fn encoding_name(&self) -> &'static str {
        match self {
            ZSet::Listpack(_) => "listpack",
        }
    }

    pub fn len(&self) -> usize {
        match self {
            ZSet::Listpack(lp) => lp.len() / 2,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The member → score index of the skiplist encoding (scores as
    /// `f64::to_le_bytes`), for ZSCAN; None for a listpack.
    pub fn dict(&self) -> Option<&crate::dict::Dict> {
        None
    }

    /// The listpack of the listpack encoding (DUMP writes it as is).
    pub fn as_listpack(&self) -> Option<&Listpack> {
        match self {
            ZSet::Listpack(lp) => Some(lp),
        }
    }

    /// Every (member, score), lowest score first.
    pub fn iter(&self) -> Box<dyn Iterator<Item = (LpValue<'_>, f64)> + '_> {
        match self {
            ZSet::Listpack(lp) => {
                let mut it = lp.iter();
                Box::new(std::iter::from_fn(move || Some((it.next()?, score_of(it.next()?)))))
            }
        }
    }
}
