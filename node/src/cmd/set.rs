//! The set commands (Redis's t_set.c), on [`Set`]. SSCAN lives with the
//! other collection scans in [`super::scan`].
//!
//! Replies follow Redis 7.0 exactly, including which ones are RESP3 sets
//! (`~`: SMEMBERS, SINTER, SUNION, SDIFF, SPOP with a count) and which stay
//! arrays (SRANDMEMBER with a count, SMISMEMBER).

use corvid_proto::resp::{Args, Reply};

use super::{bulk_element, read_as, write_as, arg_i64_between, arg_i64_range, arg_positive, is};
use crate::db::Lookup;
use crate::dispatch::{Ctx, Registry};
use crate::errors::{CmdError, CmdResult};
use crate::keyspace::{HeapValue, OwnedValue, ValueRef};
use crate::listpack::LpValue;
use crate::server::Server;
use crate::set::{Member, Set};

/// `set-max-intset-entries` now.
fn max_intset(srv: &Server) -> usize {
    srv.config.get_i64("set-max-intset-entries").max(0) as usize
}

/// SADD key member [member ...]
fn sadd(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let (db, key, max) = (ctx.db, args.get(1), max_intset(ctx.srv));
    let added = match write_as::<Set>(&mut ctx.srv.db, db, key)? {
        Some(s) => args.iter().skip(2).filter(|m| s.insert(m, max)).count(),
        None => {
            let mut s = Set::for_member(args.get(2));
            let n = args.iter().skip(2).filter(|m| s.insert(m, max)).count();
            ctx.srv.db.set_owned(db, key, OwnedValue::Set(s), None);
            n
        }
    };
    ctx.srv.db.dirty += added as u64;
    ctx.out.int(added as i64);
    Ok(())
}

/// SREM key member [member ...]: an emptied set is deleted.
fn srem(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let (db, key) = (ctx.db, args.get(1));
    let Some(s) = write_as::<Set>(&mut ctx.srv.db, db, key)? else {
        ctx.out.int(0);
        return Ok(());
    };
    let mut removed = 0;
    for m in args.iter().skip(2) {
        if s.remove(m) {
            removed += 1;
            if s.is_empty() {
                break;
            }
        }
    }
    if s.is_empty() {
        ctx.srv.db.delete(db, key);
    }
    ctx.srv.db.dirty += removed;
    ctx.out.int(removed as i64);
    Ok(())
}

/// SMOVE source destination member
fn smove(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let (db, src, dst, member) = (ctx.db, args.get(1), args.get(2), args.get(3));
    let src_type = ctx.srv.db.lookup(db, src, Lookup::WRITE).map(|e| matches!(e.value(), ValueRef::Set(_)));
    let dst_type = ctx.srv.db.lookup(db, dst, Lookup::WRITE).map(|e| matches!(e.value(), ValueRef::Set(_)));
    let Some(src_is_set) = src_type else {
        ctx.out.int(0);
        return Ok(());
    };
    if !src_is_set || dst_type == Some(false) {
        return Err(CmdError::WrongType);
    }
    if src == dst {
        let there = ctx.srv.db.dbs[db].get(src).is_some_and(|e| matches!(e.value(), ValueRef::Set(s) if s.contains(member)));
        ctx.out.int(there as i64);
        return Ok(());
    }
    let Some(HeapValue::Set(s)) = ctx.srv.db.heap_mut(db, src) else { unreachable!("a set, checked above") };
    if !s.remove(member) {
        ctx.out.int(0);
        return Ok(());
    }
    if s.is_empty() {
        ctx.srv.db.delete(db, src);
    }
    ctx.srv.db.dirty += 1;
    let max = max_intset(ctx.srv);
    let added = match ctx.srv.db.heap_mut(db, dst) {
        Some(HeapValue::Set(d)) => d.insert(member, max),
        _ => {
            let mut d = Set::for_member(member);
            d.insert(member, max);
            ctx.srv.db.set_owned(db, dst, OwnedValue::Set(d), None);
            true
        }
    };
    // The destination changed only if the member was new there.
    let mut modified = vec![(db, src.to_vec())];
    if added {
        ctx.srv.db.dirty += 1;
        modified.push((db, dst.to_vec()));
    }
    ctx.srv.modified_keys = Some(modified);
    ctx.out.int(1);
    Ok(())
}

/// SISMEMBER key member
fn sismember(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let there = read_as::<Set>(&mut ctx.srv.db, ctx.db, args.get(1))?.is_some_and(|s| s.contains(args.get(2)));
    ctx.out.int(there as i64);
    Ok(())
}

/// SMISMEMBER key member [member ...]: an array of 0/1, all 0 for no key.
fn smismember(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let s = read_as::<Set>(&mut ctx.srv.db, ctx.db, args.get(1))?;
    ctx.out.array(args.len() - 2);
    for m in args.iter().skip(2) {
        ctx.out.int(s.is_some_and(|s| s.contains(m)) as i64);
    }
    Ok(())
}

/// SCARD key
fn scard(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let n = read_as::<Set>(&mut ctx.srv.db, ctx.db, args.get(1))?.map_or(0, Set::len);
    ctx.out.int(n as i64);
    Ok(())
}

/// Reply with a whole set as a RESP3 set (an array in RESP2).
fn reply_members(out: &mut Reply, s: &Set) {
    out.set(s.len());
    for m in s.iter() {
        bulk_element(out, m);
    }
}

/// SPOP key [count]
fn spop(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    match args.len() {
        2 => spop_one(ctx, args.get(1)),
        3 => spop_count(ctx, args.get(1), args.get(2)),
        _ => Err(CmdError::Syntax),
    }
}

fn spop_one(ctx: &mut Ctx<'_>, key: &[u8]) -> CmdResult {
    let db = ctx.db;
    if write_as::<Set>(&mut ctx.srv.db, db, key)?.is_none() {
        ctx.out.null();
        return Ok(());
    }
    let d = &mut ctx.srv.db;
    let Some(HeapValue::Set(s)) = d.dbs[db].heap_mut(key) else { unreachable!("a set, checked above") };
    let m = s.pop_random(&mut d.rng).expect("stored sets are never empty");
    let emptied = s.is_empty();
    ctx.out.bulk(&m);
    if emptied {
        d.delete(db, key);
    }
    d.dirty += 1;
    // A random pop goes out as the removal it made.
    ctx.srv.rewrite_as(|| vec![b"SREM".to_vec(), key.to_vec(), m.to_vec()]);
    Ok(())
}

/// Members per SREM that SPOP with a count goes out as (spopWithCountCommand's batchsize).
const SPOP_PROPAGATE_BATCH: usize = 1024;

/// SPOP with a count (spopWithCountCommand): the whole set when the count
/// reaches its size; else random pops, or, when few members would remain,
/// drawing the survivors instead so the work stays proportional.
fn spop_count(ctx: &mut Ctx<'_>, key: &[u8], count: &[u8]) -> CmdResult {
    let count = arg_positive(count)? as usize;
    let db = ctx.db;
    let Some(s) = write_as::<Set>(&mut ctx.srv.db, db, key)? else {
        ctx.out.set(0);
        return Ok(());
    };
    if count == 0 {
        ctx.out.set(0);
        return Ok(());
    }
    let size = s.len();
    if count >= size {
        reply_members(ctx.out, s);
        ctx.srv.db.delete(db, key);
        ctx.srv.db.dirty += size as u64;
        ctx.srv.rewrite_as(|| vec![b"DEL".to_vec(), key.to_vec()]);
        return Ok(());
    }
    // The popped members go out as SREMs (what was random must not be
    // drawn again by replicas or an AOF reload).
    let propagating = crate::replication::propagating(ctx.srv);
    let mut popped: Vec<Vec<u8>> = Vec::new();
    let max = max_intset(ctx.srv);
    let d = &mut ctx.srv.db;
    let Some(HeapValue::Set(s)) = d.dbs[db].heap_mut(key) else { unreachable!("a set, checked above") };
    let remaining = size - count;
    ctx.out.set(count);
    // Redis's SPOP_MOVE_STRATEGY_MUL.
    if remaining * 5 > count {
        for _ in 0..count {
            let m = s.pop_random(&mut d.rng).expect("count < size");
            ctx.out.bulk(&m);
            if propagating {
                popped.push(m.to_vec());
            }
        }
    } else {
        // The survivors form a new set, created for its first member as
        // setTypeCreate does.
        let mut keep: Option<Set> = None;
        for _ in 0..remaining {
            let m = s.pop_random(&mut d.rng).expect("remaining < size");
            keep.get_or_insert_with(|| Set::for_member(&m)).insert(&m, max);
        }
        for m in s.iter() {
            bulk_element(ctx.out, m);
            if propagating {
                popped.push(m.to_bytes());
            }
        }
        *s = keep.expect("count < size leaves survivors");
    }
    d.dirty += count as u64;
    let batches: Vec<Vec<Vec<u8>>> = popped
        .chunks(SPOP_PROPAGATE_BATCH)
        .map(|members| [vec![b"SREM".to_vec(), key.to_vec()], members.to_vec()].concat())
        .collect();
    crate::replication::propagate_instead(ctx.srv, db, &batches);
    Ok(())
}

/// SRANDMEMBER key [count]
fn srandmember(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    match args.len() {
        2 => {
            let (db, key) = (ctx.db, args.get(1));
            if read_as::<Set>(&mut ctx.srv.db, db, key)?.is_none() {
                ctx.out.null();
                return Ok(());
            }
            let d = &mut ctx.srv.db;
            let Some(ValueRef::Set(s)) = d.dbs[db].get(key).map(|e| e.value()) else { unreachable!("a set") };
            bulk_element(ctx.out, s.random(&mut d.rng).expect("stored sets are never empty"));
            Ok(())
        }
        3 => srandmember_count(ctx, args.get(1), args.get(2)),
        _ => Err(CmdError::Syntax),
    }
}

/// SRANDMEMBER with a count (srandmemberWithCountCommand): negative means
/// repeats allowed; positive means distinct members, all of them when the
/// count reaches the size.
fn srandmember_count(ctx: &mut Ctx<'_>, key: &[u8], count: &[u8]) -> CmdResult {
    let count = arg_i64_between(count, -i64::MAX, i64::MAX)?;
    let db = ctx.db;
    if read_as::<Set>(&mut ctx.srv.db, db, key)?.is_none() || count == 0 {
        ctx.out.array(0);
        return Ok(());
    }
    let d = &mut ctx.srv.db;
    let Some(ValueRef::Set(s)) = d.dbs[db].get(key).map(|e| e.value()) else { unreachable!("a set, checked above") };
    let size = s.len();
    if count < 0 {
        let n = count.unsigned_abs() as usize;
        ctx.out.array(n);
        for _ in 0..n {
            bulk_element(ctx.out, s.random(&mut d.rng).expect("non-empty"));
        }
        return Ok(());
    }
    let count = count as usize;
    if count >= size {
        ctx.out.array(size);
        for m in s.iter() {
            bulk_element(ctx.out, m);
        }
        return Ok(());
    }
    let mut picked = crate::dict::Dict::with_capacity(count);
    // Redis's SRANDMEMBER_SUB_STRATEGY_MUL: when most members are wanted,
    // copy them all and drop random ones; else draw until enough distinct.
    if count * 3 > size {
        for m in s.iter() {
            picked.insert_new(&m.to_bytes(), b"");
        }
        while picked.len() > count {
            let m = picked.random(&mut d.rng).expect("non-empty").0.to_vec();
            picked.remove(&m);
        }
    } else {
        while picked.len() < count {
            let m = s.random(&mut d.rng).expect("non-empty").to_bytes();
            picked.insert(&m, b"");
        }
    }
    ctx.out.array(count);
    for (m, _) in picked.iter() {
        ctx.out.bulk(m);
    }
    Ok(())
}

/// SMEMBERS key
fn smembers(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    match read_as::<Set>(&mut ctx.srv.db, ctx.db, args.get(1))? {
        Some(s) => reply_members(ctx.out, s),
        None => ctx.out.set(0),
    }
    Ok(())
}

/// Look up every input key as Redis does (one READ lookup each, in order,
/// WRONGTYPE at the first non-set), then hand the sets (None: missing) to
/// `f` without further side effects.
fn with_sets<R>(ctx: &mut Ctx<'_>, keys: &[&[u8]], f: impl FnOnce(&[Option<&Set>]) -> R) -> Result<R, CmdError> {
    let db = ctx.db;
    for k in keys {
        read_as::<Set>(&mut ctx.srv.db, db, k)?;
    }
    let table = &ctx.srv.db.dbs[db];
    let sets: Vec<Option<&Set>> = keys
        .iter()
        .map(|k| match table.get(k).map(|e| e.value()) {
            Some(ValueRef::Set(s)) => Some(s),
            _ => None,
        })
        .collect();
    Ok(f(&sets))
}

/// The members of `sets[0]` found in every other set, stopping at `limit`
/// (0: no limit) (sinterGenericCommand, smallest set first).
fn intersect(sets: &[Option<&Set>], limit: usize, mut emit: impl FnMut(Member<'_>)) -> usize {
    if sets.iter().any(Option::is_none) {
        return 0;
    }
    let mut sets: Vec<&Set> = sets.iter().map(|s| s.expect("checked")).collect();
    sets.sort_by_key(|s| s.len());
    let mut found = 0;
    for m in sets[0].iter() {
        let bytes;
        let probe: &[u8] = match m {
            LpValue::Str(s) => s,
            LpValue::Int(n) => {
                bytes = itoa::Buffer::new().format(n).as_bytes().to_vec();
                &bytes
            }
        };
        if sets[1..].iter().all(|s| std::ptr::eq(*s, sets[0]) || s.contains(probe)) {
            found += 1;
            emit(m);
            if limit != 0 && found >= limit {
                break;
            }
        }
    }
    found
}

/// Keys of SINTER/SUNION/SDIFF-style commands: `args[from..]`.
fn keys_from<'a>(args: &'a Args<'a>, from: usize) -> Vec<&'a [u8]> {
    (from..args.len()).map(|i| args.get(i)).collect()
}

/// SINTER key [key ...]
fn sinter(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let keys = keys_from(args, 1);
    // The count comes first in the reply but is known last.
    let mut members = Reply { buf: Vec::new(), resp3: ctx.out.resp3 };
    let n = with_sets(ctx, &keys, |sets| intersect(sets, 0, |m| bulk_element(&mut members, m)))?;
    ctx.out.set(n);
    ctx.out.raw(&members.buf);
    Ok(())
}

/// SINTERCARD numkeys key [key ...] [LIMIT limit]
fn sintercard(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let numkeys = arg_i64_range(args.get(1), 1, i64::MAX, "numkeys should be greater than 0")? as usize;
    if numkeys > args.len() - 2 {
        return Err(CmdError::err("Number of keys can't be greater than number of args"));
    }
    let mut limit = 0usize;
    let mut i = 2 + numkeys;
    while i < args.len() {
        if is(args.get(i), "limit") && i + 1 < args.len() {
            limit = arg_i64_range(args.get(i + 1), 0, i64::MAX, "LIMIT can't be negative")? as usize;
            i += 2;
        } else {
            return Err(CmdError::Syntax);
        }
    }
    let keys: Vec<&[u8]> = (2..2 + numkeys).map(|i| args.get(i)).collect();
    let n = with_sets(ctx, &keys, |sets| intersect(sets, limit, |_| {}))?;
    ctx.out.int(n as i64);
    Ok(())
}

/// Store a computed set at `dst` (or delete `dst` when it is empty) and
/// reply with its size (the *STORE commands).
fn store(ctx: &mut Ctx<'_>, dst: &[u8], result: Set) {
    let db = ctx.db;
    let n = result.len();
    if n > 0 {
        ctx.srv.db.set_owned(db, dst, OwnedValue::Set(result), None);
        ctx.srv.db.dirty += 1;
    } else if ctx.srv.db.delete(db, dst) {
        ctx.srv.db.dirty += 1;
    }
    ctx.out.int(n as i64);
}

/// SINTERSTORE destination key [key ...]
fn sinterstore(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let keys = keys_from(args, 2);
    let max = max_intset(ctx.srv);
    let result = with_sets(ctx, &keys, |sets| {
        let mut result = Set::Intset(Default::default());
        intersect(sets, 0, |m| {
            result.insert(&m.to_bytes(), max);
        });
        result
    })?;
    store(ctx, args.get(1), result);
    Ok(())
}

#[derive(Clone, Copy, PartialEq)]
enum SetOp {
    Union,
    Diff,
}

/// SUNION/SDIFF into a new set (sunionDiffGenericCommand), built member by
/// member so its encoding follows the usual conversion rules.
fn union_diff(sets: &[Option<&Set>], op: SetOp, max: usize) -> Set {
    let mut result = Set::Intset(Default::default());
    match op {
        SetOp::Union => {
            for s in sets.iter().flatten() {
                for m in s.iter() {
                    result.insert(&m.to_bytes(), max);
                }
            }
        }
        SetOp::Diff => {
            let Some(Some(first)) = sets.first() else { return result };
            // The same key twice: the difference is empty.
            if sets[1..].iter().flatten().any(|s| std::ptr::eq(*s, *first)) {
                return result;
            }
            // Redis picks between probing every other set per member of the
            // first (algorithm 1) and copy-then-remove (algorithm 2) by cost.
            let others: usize = sets[1..].iter().flatten().map(|s| s.len()).sum();
            let algo_one = first.len() * sets.iter().flatten().count() / 2;
            if algo_one <= first.len() + others {
                let mut rest: Vec<&Set> = sets[1..].iter().flatten().copied().collect();
                rest.sort_by_key(|s| std::cmp::Reverse(s.len()));
                for m in first.iter() {
                    let b = m.to_bytes();
                    if !rest.iter().any(|s| s.contains(&b)) {
                        result.insert(&b, max);
                    }
                }
            } else {
                for m in first.iter() {
                    result.insert(&m.to_bytes(), max);
                }
                for s in sets[1..].iter().flatten() {
                    for m in s.iter() {
                        result.remove(&m.to_bytes());
                    }
                    if result.is_empty() {
                        break;
                    }
                }
            }
        }
    }
    result
}

fn union_diff_reply(ctx: &mut Ctx<'_>, args: &Args<'_>, op: SetOp) -> CmdResult {
    let max = max_intset(ctx.srv);
    let result = with_sets(ctx, &keys_from(args, 1), |sets| union_diff(sets, op, max))?;
    reply_members(ctx.out, &result);
    Ok(())
}

fn union_diff_store(ctx: &mut Ctx<'_>, args: &Args<'_>, op: SetOp) -> CmdResult {
    let max = max_intset(ctx.srv);
    let result = with_sets(ctx, &keys_from(args, 2), |sets| union_diff(sets, op, max))?;
    store(ctx, args.get(1), result);
    Ok(())
}

fn sunion(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    union_diff_reply(ctx, args, SetOp::Union)
}

fn sdiff(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    union_diff_reply(ctx, args, SetOp::Diff)
}

fn sunionstore(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    union_diff_store(ctx, args, SetOp::Union)
}

fn sdiffstore(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    union_diff_store(ctx, args, SetOp::Diff)
}

pub fn register(r: &mut Registry) {
    r.add("sadd", sadd);
    r.add("srem", srem);
    r.add("smove", smove);
    r.add("sismember", sismember);
    r.add("smismember", smismember);
    r.add("scard", scard);
    r.add("spop", spop);
    r.add("srandmember", srandmember);
    r.add("smembers", smembers);
    r.add("sinter", sinter);
    r.add("sintercard", sintercard);
    r.add("sinterstore", sinterstore);
    r.add("sunion", sunion);
    r.add("sunionstore", sunionstore);
    r.add("sdiff", sdiff);
    r.add("sdiffstore", sdiffstore);
}
