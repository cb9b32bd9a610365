//! SORT and SORT_RO (Redis's sort.c): sort the elements of a list, set or
//! sorted set numerically or by bytes, optionally by the values of other
//! keys or hash fields (BY), returning them or other keys' values (GET),
//! a window of them (LIMIT), or storing the result as a list (STORE).

use std::cmp::Ordering;

use corvid_proto::resp::Args;

use super::{arg_i64, is};
use crate::db::Lookup;
use crate::dispatch::{Ctx, Registry};
use crate::errors::{CmdError, CmdResult};
use crate::keyspace::{OwnedValue, ValueRef};
use crate::quicklist::QuickList;

struct SortOptions<'a> {
    desc: bool,
    alpha: bool,
    /// LIMIT offset count (count < 0: to the end).
    limit: Option<(i64, i64)>,
    store: Option<&'a [u8]>,
    by: Option<&'a [u8]>,
    /// BY with no `*`: keep the elements' own order.
    dont_sort: bool,
    get: Vec<&'a [u8]>,
}

/// `full_key_access`: the user may read every key, which BY and GET
/// patterns need since they name keys ACLs could not check.
fn parse_options<'a>(args: &Args<'a>, readonly: bool, full_key_access: bool) -> Result<SortOptions<'a>, CmdError> {
    let mut o = SortOptions { desc: false, alpha: false, limit: None, store: None, by: None, dont_sort: false, get: Vec::new() };
    let mut j = 2;
    while j < args.len() {
        let left = args.len() - j - 1;
        let a = args.get(j);
        if is(a, "asc") {
            o.desc = false;
        } else if is(a, "desc") {
            o.desc = true;
        } else if is(a, "alpha") {
            o.alpha = true;
        } else if is(a, "limit") && left >= 2 {
            o.limit = Some((arg_i64(args.get(j + 1))?, arg_i64(args.get(j + 2))?));
            j += 2;
        } else if !readonly && is(a, "store") && left >= 1 {
            o.store = Some(args.get(j + 1));
            j += 1;
        } else if is(a, "by") && left >= 1 {
            let p = args.get(j + 1);
            o.by = Some(p);
            o.dont_sort = !p.contains(&b'*');
            if !o.dont_sort && !full_key_access {
                return Err(CmdError::err("BY option of SORT denied due to insufficient ACL permissions."));
            }
            j += 1;
        } else if is(a, "get") && left >= 1 {
            if !full_key_access {
                return Err(CmdError::err("GET option of SORT denied due to insufficient ACL permissions."));
            }
            o.get.push(args.get(j + 1));
            j += 1;
        } else {
            return Err(CmdError::Syntax);
        }
        j += 1;
    }
    Ok(o)
}

/// The value a BY/GET pattern names for `element` (lookupKeyByPattern):
/// `#` is the element itself; the first `*` is replaced by it; a `->field`
/// suffix reads that field of a hash. None when there is no such string or
/// field, or the pattern has no `*`.
fn lookup_by_pattern(ctx: &mut Ctx<'_>, pattern: &[u8], element: &[u8]) -> Option<Vec<u8>> {
    if pattern == b"#" {
        return Some(element.to_vec());
    }
    let star = pattern.iter().position(|&b| b == b'*')?;
    // "->" after the star, with a non-empty field name after it.
    let arrow = pattern[star + 1..]
        .windows(2)
        .position(|w| w == b"->")
        .map(|i| star + 1 + i)
        .filter(|&i| i + 2 < pattern.len());
    let key_end = arrow.unwrap_or(pattern.len());
    let mut key = Vec::with_capacity(key_end + element.len());
    key.extend_from_slice(&pattern[..star]);
    key.extend_from_slice(element);
    key.extend_from_slice(&pattern[star + 1..key_end]);
    let value = ctx.srv.db.lookup(ctx.db, &key, Lookup::READ)?.value();
    match (arrow, value) {
        (Some(i), ValueRef::Hash(h)) => h.get(&pattern[i + 2..]).map(|v| v.to_bytes()),
        (None, v @ (ValueRef::Int(_) | ValueRef::Str(..))) => v.string_bytes(),
        _ => None,
    }
}

/// A sort key as SORT's numeric mode reads it: strtod must use the whole
/// string (leading spaces are fine, the empty string is 0); None for
/// anything else, NaN and out-of-range values included.
fn sort_score(s: &[u8]) -> Option<f64> {
    let r = crate::float::strtod(s);
    (r.len == s.len() && !r.out_of_range && !r.value.is_nan()).then_some(r.value)
}

struct Item {
    element: Vec<u8>,
    score: f64,
    /// The BY value in ALPHA mode; None when the BY key is missing.
    by: Option<Vec<u8>>,
}

/// The elements of the value at `key` in their stored order.
fn elements(v: Option<ValueRef<'_>>) -> Result<Vec<Vec<u8>>, CmdError> {
    Ok(match v {
        None => Vec::new(),
        Some(ValueRef::List(q)) => q.iter().map(|e| e.to_bytes()).collect(),
        Some(ValueRef::Set(s)) => s.iter().map(|e| e.to_bytes()).collect(),
        Some(ValueRef::ZSet(z)) => z.iter().map(|(m, _)| m.to_bytes()).collect(),
        Some(_) => return Err(CmdError::WrongType),
    })
}

fn sort_generic(ctx: &mut Ctx<'_>, args: &Args<'_>, readonly: bool) -> CmdResult {
    let user = ctx.client().user;
    let full_key_access = ctx.srv.acl.unrestricted(user) || {
        let argv: Vec<&[u8]> = args.iter().collect();
        let id = crate::acl::catalog::catalog().id_of(ctx.spec).expect("SORT is in the ACL catalog");
        ctx.srv.acl.check_with_all_keys(user, id, ctx.spec, &argv, corvid_proto::command_table::KeySpecFlags::ACCESS)
    };
    let mut o = parse_options(args, readonly, full_key_access)?;
    let (db, key) = (ctx.db, args.get(1));
    let value = ctx.srv.db.lookup(db, key, Lookup::READ).map(|e| e.value());
    let is_set = matches!(value, Some(ValueRef::Set(_)));
    let ordered = matches!(value, Some(ValueRef::List(_) | ValueRef::ZSet(_)));
    let mut elements = elements(value)?;
    // An unsorted set would store (or replicate, or give a script) an
    // arbitrary order: sort it by its members instead.
    let from_script = ctx.client().is_script;
    if o.dont_sort && is_set && (o.store.is_some() || from_script) {
        o.dont_sort = false;
        o.alpha = true;
        o.by = None;
    }
    let len = elements.len() as i64;
    let (offset, count) = o.limit.unwrap_or((0, -1));
    let mut start = offset.max(0).min(len);
    let count = count.max(-1).min(len);
    let mut end = if count < 0 { len - 1 } else { start + count - 1 };
    if start >= len {
        start = len - 1;
        end = len - 2;
    }
    end = end.min(len - 1);
    if o.dont_sort {
        // Lists and sorted sets keep their order, reversed for DESC.
        if ordered && o.desc {
            elements.reverse();
        }
    } else {
        let mut items = Vec::with_capacity(elements.len());
        let mut bad_score = false;
        for element in elements {
            let by = match o.by {
                Some(p) => lookup_by_pattern(ctx, p, &element),
                None => Some(element.clone()),
            };
            let mut score = 0.0;
            if !o.alpha {
                if let Some(b) = &by {
                    match sort_score(b) {
                        Some(s) => score = s,
                        None => bad_score = true,
                    }
                }
            }
            items.push(Item { element, score, by: if o.alpha && o.by.is_some() { by } else { None } });
        }
        if bad_score {
            return Err(CmdError::err("One or more scores can't be converted into double"));
        }
        let (alpha, by_pattern, desc) = (o.alpha, o.by.is_some(), o.desc);
        items.sort_by(|a, b| {
            let cmp = if !alpha {
                a.score.partial_cmp(&b.score).unwrap_or(Ordering::Equal).then_with(|| a.element.cmp(&b.element))
            } else if by_pattern {
                // A missing BY value sorts first.
                a.by.cmp(&b.by)
            } else {
                a.element.cmp(&b.element)
            };
            if desc { cmp.reverse() } else { cmp }
        });
        elements = items.into_iter().map(|i| i.element).collect();
    }
    let window: Vec<Vec<u8>> = if end >= start {
        elements.into_iter().skip(start as usize).take((end - start + 1) as usize).collect()
    } else {
        Vec::new()
    };
    match o.store {
        None => {
            let n = if o.get.is_empty() { window.len() } else { window.len() * o.get.len() };
            let mut out = Vec::with_capacity(n);
            for e in &window {
                if o.get.is_empty() {
                    out.push(Some(e.clone()));
                }
                for p in &o.get {
                    out.push(lookup_by_pattern(ctx, p, e));
                }
            }
            ctx.out.array(out.len());
            for v in out {
                match v {
                    Some(v) => ctx.out.bulk(&v),
                    None => ctx.out.null(),
                }
            }
        }
        Some(dst) => {
            let mut list = QuickList::new(super::list::fill(ctx.srv));
            for e in &window {
                if o.get.is_empty() {
                    list.push_back(e);
                }
                for p in &o.get {
                    // A missing value is stored as an empty string.
                    list.push_back(&lookup_by_pattern(ctx, p, e).unwrap_or_default());
                }
            }
            let n = list.len();
            if n > 0 {
                ctx.srv.db.set_owned(db, dst, OwnedValue::List(list), None);
                ctx.srv.db.dirty += n as u64;
            } else if ctx.srv.db.delete(db, dst) {
                ctx.srv.db.dirty += 1;
            }
            ctx.out.int(n as i64);
        }
    }
    Ok(())
}

/// SORT key [BY pattern] [LIMIT offset count] [GET pattern ...] [ASC|DESC] [ALPHA] [STORE destination]
fn sort(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    sort_generic(ctx, args, false)
}

/// SORT_RO: SORT without STORE.
fn sort_ro(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    sort_generic(ctx, args, true)
}

pub fn register(r: &mut Registry) {
    r.add("sort", sort);
    r.add("sort_ro", sort_ro);
}

#[cfg(test)]
mod tests {
    use super::sort_score;

    #[test]
    fn scores_read_like_strtod() {
        assert_eq!(sort_score(b""), Some(0.0));
        assert_eq!(sort_score(b"  2.5"), Some(2.5));
        assert_eq!(sort_score(b"-inf"), Some(f64::NEG_INFINITY));
        assert_eq!(sort_score(b"1e400"), None);
        assert_eq!(sort_score(b"nan"), None);
        assert_eq!(sort_score(b"3x"), None);
        assert_eq!(sort_score(b"  "), None, "spaces alone are no number");
        assert_eq!(sort_score(b"0x10"), Some(16.0));
    }
}
