//! A decoded [`RdbValue`] turned into the value the keyspace holds, in the
//! encoding Redis would choose for it under the current thresholds
//! (rdbLoadObject's conversions: a small `RDB_TYPE_SET` becomes an intset,
//! a hash listpack over `hash-max-listpack-entries` a hashtable, an old
//! list's elements quicklist nodes of `list-max-listpack-size`, …).

use super::{RdbError, RdbValue};
use crate::config::Config;
use crate::hash::{self, Hash};
use crate::keyspace::{NewValue, OwnedValue};
use crate::listpack::LpValue;
use crate::quicklist::QuickList;
use crate::set::Set;
use crate::zset::ZSet;

/// The encoding thresholds, read once per load.
#[derive(Clone, Copy, Debug)]
pub struct EncodingLimits {
    pub list_fill: i32,
    pub max_intset: usize,
    pub hash: hash::Limits,
    pub zset_entries: usize,
    pub zset_value: usize,
}

impl EncodingLimits {
    pub fn from_config(c: &Config) -> Self {
        let size = |name: &str| c.get_i64(name).max(0) as usize;
        EncodingLimits {
            list_fill: c.get_i64("list-max-listpack-size") as i32,
            max_intset: size("set-max-intset-entries"),
            hash: hash::Limits {
                max_entries: size("hash-max-listpack-entries"),
                max_value: size("hash-max-listpack-value"),
            },
            zset_entries: size("zset-max-listpack-entries"),
            zset_value: size("zset-max-listpack-value"),
        }
    }
}

/// The keyspace value for `value`.
pub fn to_owned_value(value: RdbValue, limits: &EncodingLimits) -> Result<OwnedValue, RdbError> {
    Ok(match value {
        RdbValue::String(bytes) => match crate::cmd::string_encoding(&bytes) {
            NewValue::Int(n) => OwnedValue::Int(n),
            NewValue::Str(_, enc) => OwnedValue::Str(bytes, enc),
        },
        RdbValue::List(nodes) => OwnedValue::List(QuickList::from_nodes(nodes, limits.list_fill)),
        RdbValue::ListElements(lp) => {
            // Pushed one by one, so nodes split where the fill says (and a
            // large element gets a plain node), as Redis loads these lists.
            let mut list = QuickList::new(limits.list_fill);
            let mut digits = itoa::Buffer::new();
            for v in lp.iter() {
                match v {
                    LpValue::Int(n) => list.push_back(digits.format(n).as_bytes()),
                    LpValue::Str(s) => list.push_back(s),
                }
            }
            OwnedValue::List(list)
        }
        RdbValue::IntSet(s) => {
            let mut set = Set::Intset(s);
            if set.len() > limits.max_intset {
                set.convert_to_table();
            }
            OwnedValue::Set(set)
        }
        RdbValue::Set(members) => {
            let mut set = if members.len() > limits.max_intset {
                Set::Table(Box::new(crate::dict::Dict::with_capacity(members.len())))
            } else {
                Set::Intset(Default::default())
            };
            for m in &members {
                set.insert(m, limits.max_intset);
            }
            OwnedValue::Set(set)
        }
        RdbValue::HashListpack(lp) => {
            let too_long = lp.iter().any(|v| v.to_bytes().len() > limits.hash.max_value);
            let mut h = Hash::Listpack(lp);
            if h.len() > limits.hash.max_entries || too_long {
                h.convert_to_table();
            }
            OwnedValue::Hash(h)
        }
        RdbValue::Hash(pairs) => {
            let mut h = Hash::default();
            if pairs.len() > limits.hash.max_entries {
                h.convert_to_table();
            }
            for (f, v) in &pairs {
                h.set(f, v, limits.hash);
            }
            OwnedValue::Hash(h)
        }
        RdbValue::ZSetListpack(lp) => {
            if lp.len() / 2 > limits.zset_entries {
                // Too many members for a listpack now: a skiplist, as
                // zsetConvert after loading.
                let mut it = lp.iter();
                let mut pairs = Vec::with_capacity(lp.len() / 2);
                while let (Some(m), Some(s)) = (it.next(), it.next()) {
                    pairs.push((m.to_bytes(), super::value::listpack_score(s).ok_or(RdbError::BadPairs)?));
                }
                OwnedValue::ZSet(ZSet::from_sorted_pairs(&pairs, 0, 0))
            } else {
                OwnedValue::ZSet(ZSet::from_listpack_unchecked(lp))
            }
        }
        RdbValue::ZSet(mut pairs) => {
            pairs.sort_by(|a, b| crate::skiplist::order((&a.0, a.1), (&b.0, b.1)));
            OwnedValue::ZSet(ZSet::from_sorted_pairs(&pairs, limits.zset_entries, limits.zset_value))
        }
        RdbValue::Stream(s) => OwnedValue::Stream(s),
    })
}
