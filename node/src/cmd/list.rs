//! The list commands (Redis's t_list.c), on [`QuickList`], including the
//! blocking pops (BLPOP, BRPOP, BLMOVE, BRPOPLPUSH, BLMPOP; see
//! [`crate::blocking`] for the waiting).
//!
//! Every command looks the key up before parsing what depends on the list
//! (as Redis does), so a wrong type or a missing key answers first; a list a
//! command empties is deleted.

use corvid_proto::resp::Args;

use super::{clamp_range, bulk_element, read_as, write_as, arg_i64, arg_positive, is};
use crate::blocking;
use crate::db::Databases;
use crate::dispatch::{Ctx, Registry};
use crate::errors::{CmdError, CmdResult};
use crate::keyspace::OwnedValue;
use crate::listpack::LpValue;
use crate::quicklist::QuickList;
use crate::server::Server;

/// `list-max-listpack-size` for a list created now.
pub fn fill(srv: &Server) -> i32 {
    srv.config.get_i64("list-max-listpack-size") as i32
}

/// Which end of a list.
#[derive(Clone, Copy, PartialEq, Eq)]
enum End {
    Head,
    Tail,
}

/// LEFT|RIGHT (getListPositionFromObjectOrReply).
fn parse_end(a: &[u8]) -> Result<End, CmdError> {
    if is(a, "left") {
        Ok(End::Head)
    } else if is(a, "right") {
        Ok(End::Tail)
    } else {
        Err(CmdError::Syntax)
    }
}

/// After a command removed elements: delete `key` if its list is now
/// `emptied` (the caller holds the list, so no second lookup); count `changes`.
fn finish_write(db: &mut Databases, index: usize, key: &[u8], changes: usize, emptied: bool) {
    if emptied {
        db.delete(index, key);
    }
    db.dirty += changes as u64;
}

fn push(q: &mut QuickList, end: End, v: &[u8]) {
    match end {
        End::Head => q.push_front(v),
        End::Tail => q.push_back(v),
    }
}

fn pop(q: &mut QuickList, end: End) -> Option<Vec<u8>> {
    match end {
        End::Head => q.pop_front(),
        End::Tail => q.pop_back(),
    }
}

/// LPUSH/RPUSH/LPUSHX/RPUSHX key element [element ...] (pushGenericCommand).
fn push_generic(ctx: &mut Ctx<'_>, args: &Args<'_>, end: End, only_existing: bool) -> CmdResult {
    let (db, key) = (ctx.db, args.get(1));
    let len = match write_as::<QuickList>(&mut ctx.srv.db, db, key)? {
        Some(q) => {
            for v in args.iter().skip(2) {
                push(q, end, v);
            }
            q.len()
        }
        None if only_existing => {
            ctx.out.int(0);
            return Ok(());
        }
        None => {
            let mut q = QuickList::new(fill(ctx.srv));
            for v in args.iter().skip(2) {
                push(&mut q, end, v);
            }
            let len = q.len();
            ctx.srv.db.set_owned(db, key, OwnedValue::List(q), None);
            len
        }
    };
    ctx.srv.db.dirty += (args.len() - 2) as u64;
    ctx.out.int(len as i64);
    Ok(())
}

fn lpush(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    push_generic(ctx, args, End::Head, false)
}

fn rpush(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    push_generic(ctx, args, End::Tail, false)
}

fn lpushx(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    push_generic(ctx, args, End::Head, true)
}

fn rpushx(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    push_generic(ctx, args, End::Tail, true)
}

/// LPOP/RPOP key [count] (popGenericCommand): a bulk without count, an
/// array with it (nil array for a missing key, empty array for count 0).
fn pop_generic(ctx: &mut Ctx<'_>, args: &Args<'_>, end: End) -> CmdResult {
    if args.len() > 3 {
        return Err(CmdError::Arity(ctx.spec.full_name.to_string()));
    }
    let count = if args.len() == 3 { Some(arg_positive(args.get(2))?) } else { None };
    let (db, key) = (ctx.db, args.get(1));
    let Some(q) = write_as::<QuickList>(&mut ctx.srv.db, db, key)? else {
        match count {
            Some(_) => ctx.out.null_array(),
            None => ctx.out.null(),
        }
        return Ok(());
    };
    let popped = match count {
        None => {
            q.pop_with(end == End::Head, |v| bulk_element(ctx.out, v)).expect("stored lists are never empty");
            1
        }
        Some(0) => {
            ctx.out.array(0);
            return Ok(());
        }
        Some(n) => {
            let n = (n as usize).min(q.len());
            ctx.out.array(n);
            for _ in 0..n {
                q.pop_with(end == End::Head, |v| bulk_element(ctx.out, v)).expect("counted");
            }
            n
        }
    };
    let emptied = q.is_empty();
    finish_write(&mut ctx.srv.db, db, key, popped, emptied);
    Ok(())
}

fn lpop(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    pop_generic(ctx, args, End::Head)
}

fn rpop(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    pop_generic(ctx, args, End::Tail)
}

/// LLEN key
fn llen(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let n = read_as::<QuickList>(&mut ctx.srv.db, ctx.db, args.get(1))?.map_or(0, QuickList::len);
    ctx.out.int(n as i64);
    Ok(())
}

/// LRANGE key start stop
fn lrange(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let start = arg_i64(args.get(2))?;
    let stop = arg_i64(args.get(3))?;
    let Some(q) = read_as::<QuickList>(&mut ctx.srv.db, ctx.db, args.get(1))? else {
        ctx.out.array(0);
        return Ok(());
    };
    match clamp_range(start, stop, q.len()) {
        None => ctx.out.array(0),
        Some((from, to)) => {
            ctx.out.array(to - from + 1);
            // Internal iteration: the node and element loops compile to one.
            q.range(from, to).for_each(|v| bulk_element(ctx.out, v));
        }
    }
    Ok(())
}

/// LINDEX key index
fn lindex(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let Some(q) = read_as::<QuickList>(&mut ctx.srv.db, ctx.db, args.get(1))? else {
        ctx.out.null();
        return Ok(());
    };
    let index = arg_i64(args.get(2))?;
    match q.get(index) {
        Some(v) => bulk_element(ctx.out, v),
        None => ctx.out.null(),
    }
    Ok(())
}

/// LSET key index element
fn lset(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let (db, key) = (ctx.db, args.get(1));
    let q = write_as::<QuickList>(&mut ctx.srv.db, db, key)?.ok_or(CmdError::NoSuchKey)?;
    let index = arg_i64(args.get(2))?;
    if !q.set(index, args.get(3)) {
        return Err(CmdError::IndexOutOfRange);
    }
    ctx.srv.db.dirty += 1;
    ctx.out.ok();
    Ok(())
}

/// LINSERT key BEFORE|AFTER pivot element: the new length, -1 without the
/// pivot, 0 without the key.
fn linsert(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let after = if is(args.get(2), "after") {
        true
    } else if is(args.get(2), "before") {
        false
    } else {
        return Err(CmdError::Syntax);
    };
    let (db, key) = (ctx.db, args.get(1));
    let Some(q) = write_as::<QuickList>(&mut ctx.srv.db, db, key)? else {
        ctx.out.int(0);
        return Ok(());
    };
    if !q.insert(args.get(3), after, args.get(4)) {
        ctx.out.int(-1);
        return Ok(());
    }
    let len = q.len();
    ctx.srv.db.dirty += 1;
    ctx.out.int(len as i64);
    Ok(())
}

/// LREM key count element
fn lrem(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let count = arg_i64(args.get(2))?;
    let (db, key) = (ctx.db, args.get(1));
    let Some(q) = write_as::<QuickList>(&mut ctx.srv.db, db, key)? else {
        ctx.out.int(0);
        return Ok(());
    };
    let removed = q.remove(args.get(3), count);
    let emptied = q.is_empty();
    finish_write(&mut ctx.srv.db, db, key, removed, emptied);
    ctx.out.int(removed as i64);
    Ok(())
}

/// LTRIM key start stop
fn ltrim(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let start = arg_i64(args.get(2))?;
    let stop = arg_i64(args.get(3))?;
    let (db, key) = (ctx.db, args.get(1));
    if let Some(q) = write_as::<QuickList>(&mut ctx.srv.db, db, key)? {
        let before = q.len();
        match clamp_range(start, stop, before) {
            Some((from, to)) => q.trim(from, to),
            None => q.trim(1, 0),
        }
        let (removed, emptied) = (before - q.len(), q.is_empty());
        finish_write(&mut ctx.srv.db, db, key, removed, emptied);
    }
    ctx.out.ok();
    Ok(())
}

/// getPositiveLongFromObjectOrReply with a custom message, which Redis
/// uses for a non-integer as well as for a negative value.
fn positive_or(a: &[u8], msg: &str) -> Result<i64, CmdError> {
    corvid_proto::resp::parse_i64(a).filter(|v| *v >= 0).ok_or_else(|| CmdError::err(msg))
}

/// LPOS key element [RANK rank] [COUNT num-matches] [MAXLEN len]
fn lpos(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let (mut rank, mut count, mut maxlen): (i64, Option<i64>, i64) = (1, None, 0);
    let mut j = 3;
    while j < args.len() {
        let more = j + 1 < args.len();
        let opt = args.get(j);
        if is(opt, "rank") && more {
            rank = arg_i64(args.get(j + 1))?;
            if rank == 0 {
                return Err(CmdError::err(
                    "RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list",
                ));
            }
        } else if is(opt, "count") && more {
            count = Some(positive_or(args.get(j + 1), "COUNT can't be negative")?);
        } else if is(opt, "maxlen") && more {
            maxlen = positive_or(args.get(j + 1), "MAXLEN can't be negative")?;
        } else {
            return Err(CmdError::Syntax);
        }
        j += 2;
    }
    let from_tail = rank < 0;
    // i64::MIN has no positive counterpart; no list has that many matches.
    let rank = rank.checked_abs().unwrap_or(i64::MAX) as u64;
    let element = args.get(2);
    let Some(q) = read_as::<QuickList>(&mut ctx.srv.db, ctx.db, args.get(1))? else {
        match count {
            Some(_) => ctx.out.array(0),
            None => ctx.out.null(),
        }
        return Ok(());
    };
    let len = q.len();
    let scan = if maxlen > 0 { maxlen as usize } else { usize::MAX };
    let positions: Box<dyn Iterator<Item = (usize, LpValue<'_>)>> = if from_tail {
        Box::new(q.iter().rev().enumerate().map(move |(i, v)| (len - 1 - i, v)))
    } else {
        Box::new(q.iter().enumerate())
    };
    let wanted = match count {
        None => 1,
        Some(0) => usize::MAX,
        Some(n) => n as usize,
    };
    let mut found = Vec::new();
    let mut matches = 0u64;
    for (pos, v) in positions.take(scan) {
        if v.matches(element) {
            matches += 1;
            if matches >= rank {
                found.push(pos);
                if found.len() == wanted {
                    break;
                }
            }
        }
    }
    match count {
        Some(_) => {
            ctx.out.array(found.len());
            for p in found {
                ctx.out.int(p as i64);
            }
        }
        None => match found.first() {
            Some(&p) => ctx.out.int(p as i64),
            None => ctx.out.null(),
        },
    }
    Ok(())
}

/// LMOVE and RPOPLPUSH (lmoveGenericCommand): pop from `src`'s `from` end,
/// push on `dst`'s `to` end; the same key rotates.
fn move_generic(ctx: &mut Ctx<'_>, src: &[u8], dst: &[u8], from: End, to: End) -> CmdResult {
    let db = ctx.db;
    if write_as::<QuickList>(&mut ctx.srv.db, db, src)?.is_none() {
        ctx.out.null();
        return Ok(());
    }
    // The destination's type is checked before anything moves.
    write_as::<QuickList>(&mut ctx.srv.db, db, dst)?;
    let q = write_as::<QuickList>(&mut ctx.srv.db, db, src)?.expect("looked up above");
    let value = pop(q, from).expect("stored lists are never empty");
    // Rotating a one-element list leaves it as it was, not empty.
    let emptied = if src == dst {
        push(q, to, &value);
        false
    } else {
        let emptied = q.is_empty();
        match write_as::<QuickList>(&mut ctx.srv.db, db, dst)? {
            Some(d) => push(d, to, &value),
            None => {
                let mut d = QuickList::new(fill(ctx.srv));
                push(&mut d, to, &value);
                ctx.srv.db.set_owned(db, dst, OwnedValue::List(d), None);
            }
        }
        emptied
    };
    finish_write(&mut ctx.srv.db, db, src, 1, emptied);
    ctx.out.bulk(&value);
    Ok(())
}

/// LMOVE source destination LEFT|RIGHT LEFT|RIGHT
fn lmove(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let from = parse_end(args.get(3))?;
    let to = parse_end(args.get(4))?;
    move_generic(ctx, args.get(1), args.get(2), from, to)
}

/// RPOPLPUSH source destination
fn rpoplpush(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    move_generic(ctx, args.get(1), args.get(2), End::Tail, End::Head)
}

/// The keys, end and count of LMPOP/BLMPOP, whose `numkeys` is `args[at]`.
fn parse_mpop<'a>(args: &Args<'a>, at: usize) -> Result<(Vec<&'a [u8]>, End, usize), CmdError> {
    let numkeys = corvid_proto::resp::parse_i64(args.get(at))
        .filter(|n| *n >= 1)
        .ok_or_else(|| CmdError::err("numkeys should be greater than 0"))? as usize;
    let end_at = numkeys.checked_add(at + 1).filter(|&i| i < args.len()).ok_or(CmdError::Syntax)?;
    let end = parse_end(args.get(end_at))?;
    let mut count: Option<usize> = None;
    let mut j = end_at + 1;
    while j < args.len() {
        if count.is_none() && is(args.get(j), "count") && j + 1 < args.len() {
            let n = corvid_proto::resp::parse_i64(args.get(j + 1))
                .filter(|n| *n >= 1)
                .ok_or_else(|| CmdError::err("count should be greater than 0"))?;
            count = Some(n as usize);
            j += 2;
        } else {
            return Err(CmdError::Syntax);
        }
    }
    Ok(((at + 1..end_at).map(|i| args.get(i)).collect(), end, count.unwrap_or(1)))
}

/// Pop up to `count` from the first non-empty list among `keys`, replying
/// [key, [elements]]; false (nothing written) when all are empty.
fn mpop_first(ctx: &mut Ctx<'_>, keys: &[&[u8]], end: End, count: usize) -> Result<bool, CmdError> {
    let db = ctx.db;
    for &key in keys {
        let Some(q) = write_as::<QuickList>(&mut ctx.srv.db, db, key)? else { continue };
        let n = count.min(q.len());
        ctx.out.array(2);
        ctx.out.bulk(key);
        ctx.out.array(n);
        for _ in 0..n {
            ctx.out.bulk(&pop(q, end).expect("counted"));
        }
        let emptied = q.is_empty();
        finish_write(&mut ctx.srv.db, db, key, n, emptied);
        let name: &[u8] = if end == End::Head { b"LPOP" } else { b"RPOP" };
        ctx.srv.rewrite_as(|| vec![name.to_vec(), key.to_vec(), n.to_string().into_bytes()]);
        return Ok(true);
    }
    Ok(false)
}

/// LMPOP numkeys key [key ...] LEFT|RIGHT [COUNT count]: pops from the
/// first non-empty list, replying [key, [elements]] (nil array if none).
fn lmpop(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let (keys, end, count) = parse_mpop(args, 1)?;
    if !mpop_first(ctx, &keys, end, count)? {
        ctx.out.null_array();
    }
    Ok(())
}

/// BLMPOP timeout numkeys key [key ...] LEFT|RIGHT [COUNT count]
fn blmpop(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let deadline = blocking::parse_timeout(args.get(1), ctx.srv.db.now_ms)?;
    let (keys, end, count) = parse_mpop(args, 2)?;
    if !mpop_first(ctx, &keys, end, count)? {
        blocking::block(ctx, args, &keys, deadline);
    }
    Ok(())
}

/// BLPOP/BRPOP key [key ...] timeout: [key, element] from the first
/// non-empty list, else wait.
fn blocking_pop(ctx: &mut Ctx<'_>, args: &Args<'_>, end: End) -> CmdResult {
    let deadline = blocking::parse_timeout(args.get(args.len() - 1), ctx.srv.db.now_ms)?;
    let keys: Vec<&[u8]> = (1..args.len() - 1).map(|i| args.get(i)).collect();
    let db = ctx.db;
    for &key in &keys {
        let Some(q) = write_as::<QuickList>(&mut ctx.srv.db, db, key)? else { continue };
        let value = pop(q, end).expect("stored lists are never empty");
        let emptied = q.is_empty();
        ctx.out.array(2);
        ctx.out.bulk(key);
        ctx.out.bulk(&value);
        finish_write(&mut ctx.srv.db, db, key, 1, emptied);
        let name: &[u8] = if end == End::Head { b"LPOP" } else { b"RPOP" };
        ctx.srv.rewrite_as(|| vec![name.to_vec(), key.to_vec()]);
        return Ok(());
    }
    blocking::block(ctx, args, &keys, deadline);
    Ok(())
}

fn blpop(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    blocking_pop(ctx, args, End::Head)
}

fn brpop(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    blocking_pop(ctx, args, End::Tail)
}

/// BLMOVE/BRPOPLPUSH: LMOVE when the source has elements, else wait on it.
fn blocking_move(ctx: &mut Ctx<'_>, args: &Args<'_>, from: End, to: End) -> CmdResult {
    let deadline = blocking::parse_timeout(args.get(args.len() - 1), ctx.srv.db.now_ms)?;
    let (src, dst) = (args.get(1), args.get(2));
    if write_as::<QuickList>(&mut ctx.srv.db, ctx.db, src)?.is_none() {
        blocking::block(ctx, args, &[src], deadline);
        return Ok(());
    }
    move_generic(ctx, src, dst, from, to)?;
    // The non-blocking twin goes out: RPOPLPUSH for BRPOPLPUSH, LMOVE for BLMOVE.
    ctx.srv.propagate_as = Some(if ctx.spec.name == "brpoplpush" {
        vec![b"RPOPLPUSH".to_vec(), src.to_vec(), dst.to_vec()]
    } else {
        let side = |e: End| if e == End::Head { b"LEFT".to_vec() } else { b"RIGHT".to_vec() };
        vec![b"LMOVE".to_vec(), src.to_vec(), dst.to_vec(), side(from), side(to)]
    });
    Ok(())
}

/// BLMOVE source destination LEFT|RIGHT LEFT|RIGHT timeout
fn blmove(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let from = parse_end(args.get(3))?;
    let to = parse_end(args.get(4))?;
    blocking_move(ctx, args, from, to)
}

/// BRPOPLPUSH source destination timeout
fn brpoplpush(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    blocking_move(ctx, args, End::Tail, End::Head)
}

pub fn register(r: &mut Registry) {
    r.add("lpush", lpush);
    r.add("rpush", rpush);
    r.add("lpushx", lpushx);
    r.add("rpushx", rpushx);
    r.add("lpop", lpop);
    r.add("rpop", rpop);
    r.add("llen", llen);
    r.add("lrange", lrange);
    r.add("lindex", lindex);
    r.add("lset", lset);
    r.add("linsert", linsert);
    r.add("lrem", lrem);
    r.add("ltrim", ltrim);
    r.add("lpos", lpos);
    r.add("lmove", lmove);
    r.add("rpoplpush", rpoplpush);
    r.add("lmpop", lmpop);
    r.add("blpop", blpop);
    r.add("brpop", brpop);
    r.add("blmove", blmove);
    r.add("brpoplpush", brpoplpush);
    r.add("blmpop", blmpop);
}
