//! Generic key commands (Redis's db.c and object.c): DEL, UNLINK, EXISTS,
//! TYPE, RENAME, RENAMENX, KEYS, SCAN, RANDOMKEY, TOUCH, OBJECT, COPY, MOVE,
//! SWAPDB, SELECT, DBSIZE, FLUSHDB, FLUSHALL.

use corvid_proto::resp::Args;

use super::scan::{parse_cursor, ScanOptions};
use super::{arg_db, is, reply_help};
use crate::access::idle_ms;
use crate::db::Lookup;
use crate::dispatch::{Ctx, Registry};
use crate::errors::{CmdError, CmdResult};
use crate::keyspace::{StrEncoding, ValueRef};

/// The TYPE name of a value.
pub fn type_name(v: &ValueRef<'_>) -> &'static str {
    match v {
        ValueRef::Int(_) | ValueRef::Str(..) => "string",
        ValueRef::List(_) => "list",
        ValueRef::Hash(_) => "hash",
        ValueRef::Set(_) => "set",
        ValueRef::ZSet(_) => "zset",
        ValueRef::Stream(_) => "stream",
    }
}

/// The OBJECT ENCODING name of a value.
pub fn encoding_name(v: &ValueRef<'_>) -> &'static str {
    match v {
        ValueRef::Int(_) => "int",
        ValueRef::Str(_, StrEncoding::Embstr) => "embstr",
        ValueRef::Str(..) => "raw",
        // Redis 7.0 keeps every list as a quicklist (7.2 added small listpacks).
        ValueRef::List(_) => "quicklist",
        ValueRef::Hash(h) => h.encoding_name(),
        ValueRef::Set(x) => x.encoding_name(),
        ValueRef::ZSet(z) => z.encoding_name(),
        ValueRef::Stream(_) => "stream",
    }
}

/// DEL key [key ...] — also UNLINK: freeing happens inline either way until
/// lazy free arrives with the memory work, which is what Redis does for
/// small values too.
fn del(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let db = ctx.db;
    let lazy = ctx.srv.db.lazy_user_del || args.get(0).eq_ignore_ascii_case(b"unlink");
    let mut n = 0;
    for i in 1..args.len() {
        if ctx.srv.db.delete_lazily(db, args.get(i), lazy) {
            n += 1;
        }
    }
    ctx.out.int(n);
    Ok(())
}

/// EXISTS key [key ...]
fn exists(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let db = ctx.db;
    let mut n = 0;
    for i in 1..args.len() {
        if ctx.srv.db.lookup(db, args.get(i), Lookup::NOTOUCH).is_some() {
            n += 1;
        }
    }
    ctx.out.int(n);
    Ok(())
}

/// TOUCH key [key ...]
fn touch(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let db = ctx.db;
    let mut n = 0;
    for i in 1..args.len() {
        if ctx.srv.db.lookup(db, args.get(i), Lookup::READ).is_some() {
            n += 1;
        }
    }
    ctx.out.int(n);
    Ok(())
}

/// TYPE key
fn type_cmd(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let db = ctx.db;
    let name = ctx.srv.db.lookup(db, args.get(1), Lookup::NOTOUCH).map(|e| type_name(&e.value())).unwrap_or("none");
    ctx.out.simple(name.as_bytes());
    Ok(())
}

/// RENAME key newkey / RENAMENX key newkey (renameGenericCommand).
fn rename_generic(ctx: &mut Ctx<'_>, args: &Args<'_>, nx: bool) -> CmdResult {
    let (src, dst) = (args.get(1), args.get(2));
    let db = ctx.db;
    if ctx.srv.db.lookup(db, src, Lookup::WRITE).is_none() {
        return Err(CmdError::NoSuchKey);
    }
    if src == dst {
        if nx {
            ctx.out.int(0);
        } else {
            ctx.out.ok();
        }
        return Ok(());
    }
    if ctx.srv.db.lookup(db, dst, Lookup::WRITE).is_some() {
        if nx {
            ctx.out.int(0);
            return Ok(());
        }
        ctx.srv.db.delete(db, dst);
    }
    let (value, expire, _lru) = ctx.srv.db.take(db, src).expect("looked up above");
    ctx.srv.db.set_owned(db, dst, value, expire);
    if nx {
        ctx.out.int(1);
    } else {
        ctx.out.ok();
    }
    Ok(())
}

fn rename(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    rename_generic(ctx, args, false)
}

fn renamenx(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    rename_generic(ctx, args, true)
}

/// KEYS pattern
fn keys(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let pattern = args.get(1);
    let all = pattern == b"*";
    let db = ctx.db;
    let now = ctx.srv.db.now_ms;
    let mut found: Vec<&[u8]> = Vec::new();
    for e in ctx.srv.db.dbs[db].iter() {
        if matches!(e.expire_at(), Some(at) if at <= now) {
            continue;
        }
        if all || crate::glob::glob_match(pattern, e.key(), false) {
            found.push(e.key());
        }
    }
    ctx.out.array(found.len());
    for k in found {
        ctx.out.bulk(k);
    }
    Ok(())
}

/// SCAN cursor [MATCH pattern] [COUNT count] [TYPE type]
fn scan(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let mut cursor = parse_cursor(args.get(1))?;
    let opts = ScanOptions::parse(args, 2, true)?;
    let db = ctx.db;
    let mut keys: Vec<Vec<u8>> = Vec::new();
    let table = &ctx.srv.db.dbs[db];
    cursor = table.scan(cursor, opts.count, |e| keys.push(e.key().to_vec()));
    // Filter after the walk: matching, type, and lazily expiring what is due.
    keys.retain(|k| opts.matches(k));
    let mut out_keys = Vec::with_capacity(keys.len());
    for k in keys {
        let Some(e) = ctx.srv.db.lookup(db, &k, Lookup::NOTOUCH.with(Lookup::NOSTATS)) else { continue };
        if let Some(t) = &opts.type_filter {
            if type_name(&e.value()).as_bytes() != t.as_slice() {
                continue;
            }
        }
        out_keys.push(k);
    }
    ctx.out.array(2);
    ctx.out.bulk(itoa::Buffer::new().format(cursor).as_bytes());
    ctx.out.array(out_keys.len());
    for k in &out_keys {
        ctx.out.bulk(k);
    }
    Ok(())
}

/// RANDOMKEY
fn randomkey(ctx: &mut Ctx<'_>, _args: &Args<'_>) -> CmdResult {
    let db = ctx.db;
    // Expired keys found on the way are deleted and the draw repeated; if
    // every key is volatile, give up after a bounded number of draws.
    let mut tries = ctx.srv.db.dbs[db].len().min(100) + 1;
    loop {
        let picked = {
            let d = &mut ctx.srv.db;
            let rng = &mut d.rng;
            d.dbs[db].random(rng).map(|e| (e.key().to_vec(), e.expire_at()))
        };
        let Some((key, expire)) = picked else {
            ctx.out.null();
            return Ok(());
        };
        if matches!(expire, Some(at) if at <= ctx.srv.db.now_ms) {
            ctx.srv.db.lookup(db, &key, Lookup::NOTOUCH.with(Lookup::NOSTATS));
            tries -= 1;
            if tries > 0 {
                continue;
            }
        }
        ctx.out.bulk(&key);
        return Ok(());
    }
}

const LRU_NOT_SELECTED: &str = "An LRU maxmemory policy is not selected, access time not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.";
const LFU_NOT_SELECTED: &str = "An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.";

/// OBJECT <ENCODING | FREQ | IDLETIME | REFCOUNT> key
fn object(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let sub = ctx.spec.name;
    let db = ctx.db;
    let policy = ctx.srv.db.policy;
    let now = ctx.srv.db.now_ms;
    let shared_ints = ctx.srv.maxmemory == 0 || !ctx.srv.maxmemory_policy.no_shared_integers();
    let Some(e) = ctx.srv.db.lookup(db, args.get(2), Lookup::NOTOUCH) else {
        ctx.out.null();
        return Ok(());
    };
    match sub {
        "encoding" => {
            let name = encoding_name(&e.value());
            ctx.out.bulk(name.as_bytes());
        }
        "refcount" => {
            // Small integers are shared objects in Redis, reported with
            // refcount INT_MAX unless an LRU/LFU maxmemory policy is set.
            let shared = matches!(e.value(), ValueRef::Int(n) if (0..10000).contains(&n)) && shared_ints;
            ctx.out.int(if shared { i32::MAX as i64 } else { 1 });
        }
        "idletime" => {
            if policy.lfu {
                return Err(CmdError::err(LRU_NOT_SELECTED));
            }
            ctx.out.int(idle_ms(e.lru(), now) / 1000);
        }
        "freq" => {
            if !policy.lfu {
                return Err(CmdError::err(LFU_NOT_SELECTED));
            }
            ctx.out.int(policy.lfu_decayed(e.lru(), now) as i64);
        }
        _ => unreachable!("registered OBJECT subcommands only"),
    }
    Ok(())
}

fn object_help(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    reply_help(
        ctx.out,
        args.get(0),
        &[
            "ENCODING <key>",
            "    Return the kind of internal representation used in order to store the value",
            "    associated with a <key>.",
            "FREQ <key>",
            "    Return the access frequency index of the <key>. The returned integer is",
            "    proportional to the logarithm of the recent access frequency of the key.",
            "IDLETIME <key>",
            "    Return the idle time of the <key>, that is the approximated number of",
            "    seconds elapsed since the last access to the key.",
            "REFCOUNT <key>",
            "    Return the number of references of the value associated with the specified",
            "    <key>.",
        ],
    );
    Ok(())
}

/// COPY source destination [DB destination-db] [REPLACE]
fn copy(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let (src, dst) = (args.get(1), args.get(2));
    let mut dst_db = ctx.db;
    let mut replace = false;
    let mut i = 3;
    while i < args.len() {
        if is(args.get(i), "replace") {
            replace = true;
            i += 1;
        } else if is(args.get(i), "db") && i + 1 < args.len() {
            dst_db = arg_db(ctx, args.get(i + 1), "")?;
            i += 2;
        } else {
            return Err(CmdError::Syntax);
        }
    }
    let db = ctx.db;
    if src == dst && db == dst_db {
        return Err(CmdError::SameObject);
    }
    let Some((value, expire)) = ctx.srv.db.lookup(db, src, Lookup::WRITE).map(|e| (e.value().to_owned(), e.expire_at())) else {
        ctx.out.int(0);
        return Ok(());
    };
    if ctx.srv.db.lookup(dst_db, dst, Lookup::WRITE).is_some() {
        if !replace {
            ctx.out.int(0);
            return Ok(());
        }
        ctx.srv.db.delete(dst_db, dst);
    }
    ctx.srv.db.set_owned(dst_db, dst, value, expire);
    ctx.out.int(1);
    Ok(())
}

/// MOVE key db
fn move_cmd(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let key = args.get(1);
    let dst_db = arg_db(ctx, args.get(2), "")?;
    let db = ctx.db;
    if dst_db == db {
        return Err(CmdError::SameObject);
    }
    if ctx.srv.db.lookup(db, key, Lookup::WRITE).is_none() {
        ctx.out.int(0);
        return Ok(());
    }
    if ctx.srv.db.lookup(dst_db, key, Lookup::WRITE).is_some() {
        ctx.out.int(0);
        return Ok(());
    }
    let (value, expire, _) = ctx.srv.db.take(db, key).expect("looked up above");
    ctx.srv.db.set_owned(dst_db, key, value, expire);
    ctx.out.int(1);
    Ok(())
}

/// SWAPDB index1 index2
fn swapdb(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let a = arg_db(ctx, args.get(1), "invalid first DB index")?;
    let b = arg_db(ctx, args.get(2), "invalid second DB index")?;
    ctx.srv.db.dbs.swap(a, b);
    ctx.srv.db.dirty += 1;
    ctx.out.ok();
    Ok(())
}

/// SELECT index
fn select(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let id = arg_db(ctx, args.get(1), "")?;
    ctx.client().db = id;
    ctx.db = id;
    ctx.out.ok();
    Ok(())
}

/// DBSIZE
fn dbsize(ctx: &mut Ctx<'_>, _args: &Args<'_>) -> CmdResult {
    let n = ctx.srv.db.dbs[ctx.db].len();
    ctx.out.int(n as i64);
    Ok(())
}

/// FLUSHDB [ASYNC|SYNC] / FLUSHALL [ASYNC|SYNC]: whether the keys are freed
/// in the background (ASYNC, or neither under lazyfree-lazy-user-flush).
fn flush_mode(ctx: &Ctx<'_>, args: &Args<'_>) -> Result<bool, CmdError> {
    match args.len() {
        1 => Ok(ctx.srv.config.get_bool("lazyfree-lazy-user-flush")),
        2 if is(args.get(1), "sync") => Ok(false),
        2 if is(args.get(1), "async") => Ok(true),
        _ => Err(CmdError::Syntax),
    }
}

fn flushdb(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let lazy = flush_mode(ctx, args)?;
    let db = ctx.db;
    ctx.srv.db.flush_lazily(db, lazy);
    crate::tracking::invalidate_all(ctx.srv);
    // Replicas get it even when the database was already empty.
    ctx.srv.force_propagate = true;
    ctx.out.ok();
    Ok(())
}

fn flushall(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let lazy = flush_mode(ctx, args)?;
    // A BGSAVE in progress would only save what is being dropped
    // (flushAllDataAndResetRDB kills the child).
    crate::snapshot::abort(ctx.srv);
    let removed = ctx.srv.db.flush_all_lazily(lazy);
    crate::tracking::invalidate_all(ctx.srv);
    ctx.srv.db.dirty += removed as u64;
    // With save points, the empty dataset is saved at once, which resets
    // the change counter (flushAllDataAndResetRDB).
    if !ctx.srv.config.save_params().is_empty() {
        let _ = super::server::save_rdb(ctx.srv);
    }
    // Even an empty FLUSHALL reaches replicas and the AOF.
    ctx.srv.force_propagate = true;
    ctx.out.ok();
    Ok(())
}

pub fn register(r: &mut Registry) {
    r.add("del", del);
    r.add("unlink", del);
    r.add("exists", exists);
    r.add("touch", touch);
    r.add("type", type_cmd);
    r.add("rename", rename);
    r.add("renamenx", renamenx);
    r.add("keys", keys);
    r.add("scan", scan);
    r.add("randomkey", randomkey);
    r.add("object|encoding", object);
    r.add("object|refcount", object);
    r.add("object|idletime", object);
    r.add("object|freq", object);
    r.add("object|help", object_help);
    r.add("copy", copy);
    r.add("move", move_cmd);
    r.add("swapdb", swapdb);
    r.add("select", select);
    r.add("dbsize", dbsize);
    r.add("flushdb", flushdb);
    r.add("flushall", flushall);
}
