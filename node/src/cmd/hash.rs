//! The hash commands (Redis's t_hash.c), on [`Hash`]. HSCAN is served with
//! the other SCAN commands.
//!
//! As in Redis, a command parses the arguments that do not depend on the
//! hash (HINCRBY's increment, HRANDFIELD's count) before looking the key up,
//! and everything else after, so the error a client sees first is Redis's.
//! Commands that write create the hash when the key is missing and delete it
//! when they empty it; `dirty` counts the fields changed, as Redis's does.

use corvid_proto::resp::{parse_i64, Args, Reply};
use rand::SeedableRng;

use super::{bulk_element, read_as, write_as, arg_i64, arg_i64_between, is};
use crate::dispatch::{Ctx, Registry};
use crate::errors::{CmdError, CmdResult};
use crate::hash::{Hash, Limits};
use crate::keyspace::OwnedValue;
use crate::listpack::LpValue;
use crate::longdouble::{self, AddError};
use crate::server::Server;

/// The encoding thresholds in force now.
fn limits(srv: &Server) -> Limits {
    Limits {
        max_entries: srv.config.get_i64("hash-max-listpack-entries") as usize,
        max_value: srv.config.get_i64("hash-max-listpack-value") as usize,
    }
}

/// Run `change` on the hash at `key`, or on a new empty one stored under
/// `key` afterwards (hashTypeLookupWriteOrCreate). For HSET, HMSET, HSETNX,
/// HINCRBY and HINCRBYFLOAT.
fn update_or_create<T>(
    ctx: &mut Ctx<'_>,
    key: &[u8],
    change: impl FnOnce(&mut Hash, Limits) -> Result<T, CmdError>,
) -> Result<T, CmdError> {
    let (db, limits) = (ctx.db, limits(ctx.srv));
    if let Some(h) = write_as::<Hash>(&mut ctx.srv.db, db, key)? {
        return change(h, limits);
    }
    let mut h = Hash::default();
    let result = change(&mut h, limits)?;
    if !h.is_empty() {
        ctx.srv.db.set_owned(db, key, OwnedValue::Hash(h), None);
        // Redis's dbAdd leaves `dirty` to the command, which counts fields.
        ctx.srv.db.dirty -= 1;
    }
    Ok(result)
}

/// HSET key field value [field value ...] / HMSET (same arguments): the
/// number of new fields, or OK for HMSET.
fn hset_generic(ctx: &mut Ctx<'_>, args: &Args<'_>, reply_ok: bool) -> CmdResult {
    if args.len() % 2 == 1 {
        return Err(CmdError::Arity(ctx.spec.full_name.to_string()));
    }
    let created = update_or_create(ctx, args.get(1), |h, limits| {
        h.try_conversion(args.iter().skip(2).map(<[u8]>::len), limits);
        let pairs = (2..args.len()).step_by(2);
        Ok(pairs.filter(|&i| h.set(args.get(i), args.get(i + 1), limits)).count())
    })?;
    ctx.srv.db.dirty += ((args.len() - 2) / 2) as u64;
    if reply_ok {
        ctx.out.ok();
    } else {
        ctx.out.int(created as i64);
    }
    Ok(())
}

fn hset(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    hset_generic(ctx, args, false)
}

fn hmset(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    hset_generic(ctx, args, true)
}

/// HSETNX key field value: 1 when set, 0 when the field already existed.
fn hsetnx(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let (field, value) = (args.get(2), args.get(3));
    let set = update_or_create(ctx, args.get(1), |h, limits| {
        if h.contains(field) {
            return Ok(false);
        }
        h.try_conversion([field.len(), value.len()], limits);
        h.set(field, value, limits);
        Ok(true)
    })?;
    ctx.srv.db.dirty += set as u64;
    ctx.out.int(set as i64);
    Ok(())
}

/// HGET key field
fn hget(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let h = read_as::<Hash>(&mut ctx.srv.db, ctx.db, args.get(1))?;
    match h.and_then(|h| h.get(args.get(2))) {
        Some(v) => bulk_element(ctx.out, v),
        None => ctx.out.null(),
    }
    Ok(())
}

/// HMGET key field [field ...]: a missing key is an empty hash, so every
/// field answers nil.
fn hmget(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let h = read_as::<Hash>(&mut ctx.srv.db, ctx.db, args.get(1))?;
    ctx.out.array(args.len() - 2);
    for field in args.iter().skip(2) {
        match h.and_then(|h| h.get(field)) {
            Some(v) => bulk_element(ctx.out, v),
            None => ctx.out.null(),
        }
    }
    Ok(())
}

/// HDEL key field [field ...]: the number of fields removed.
fn hdel(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let (db, key) = (ctx.db, args.get(1));
    let Some(h) = write_as::<Hash>(&mut ctx.srv.db, db, key)? else {
        ctx.out.int(0);
        return Ok(());
    };
    let mut deleted = 0;
    for field in args.iter().skip(2) {
        if h.remove(field) {
            deleted += 1;
            if h.is_empty() {
                break;
            }
        }
    }
    if h.is_empty() {
        ctx.srv.db.delete(db, key);
        // Redis's dbDelete leaves `dirty` to the command, which counts fields.
        ctx.srv.db.dirty -= 1;
    }
    ctx.srv.db.dirty += deleted;
    ctx.out.int(deleted as i64);
    Ok(())
}

/// HLEN key
fn hlen(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let n = read_as::<Hash>(&mut ctx.srv.db, ctx.db, args.get(1))?.map_or(0, Hash::len);
    ctx.out.int(n as i64);
    Ok(())
}

/// HSTRLEN key field: the value's length (an integer's in decimal), 0 when
/// there is none.
fn hstrlen(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let h = read_as::<Hash>(&mut ctx.srv.db, ctx.db, args.get(1))?;
    let len = match h.and_then(|h| h.get(args.get(2))) {
        None => 0,
        Some(LpValue::Str(s)) => s.len(),
        Some(LpValue::Int(n)) => itoa::Buffer::new().format(n).len(),
    };
    ctx.out.int(len as i64);
    Ok(())
}

/// HEXISTS key field
fn hexists(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let h = read_as::<Hash>(&mut ctx.srv.db, ctx.db, args.get(1))?;
    ctx.out.int(h.is_some_and(|h| h.contains(args.get(2))) as i64);
    Ok(())
}

/// What HKEYS, HVALS and HGETALL list of each pair.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Part {
    Fields,
    Values,
    Both,
}

/// HKEYS/HVALS/HGETALL key (genericHgetallCommand): HGETALL answers a map
/// (a flat array in RESP2), the others an array.
fn getall_generic(ctx: &mut Ctx<'_>, args: &Args<'_>, part: Part) -> CmdResult {
    let h = read_as::<Hash>(&mut ctx.srv.db, ctx.db, args.get(1))?;
    let len = h.map_or(0, Hash::len);
    if part == Part::Both {
        ctx.out.map(len);
    } else {
        ctx.out.array(len);
    }
    for (f, v) in h.into_iter().flat_map(Hash::iter) {
        if part != Part::Values {
            bulk_element(ctx.out, f);
        }
        if part != Part::Fields {
            bulk_element(ctx.out, v);
        }
    }
    Ok(())
}

fn hkeys(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    getall_generic(ctx, args, Part::Fields)
}

fn hvals(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    getall_generic(ctx, args, Part::Values)
}

fn hgetall(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    getall_generic(ctx, args, Part::Both)
}

/// HINCRBY key field increment: the new value. A missing field counts as 0;
/// a value that is not a 64-bit integer, or a sum that overflows, is an error.
fn hincrby(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let incr = arg_i64(args.get(3))?;
    let field = args.get(2);
    let value = update_or_create(ctx, args.get(1), |h, limits| {
        let current = match h.get(field) {
            None => 0,
            Some(LpValue::Int(n)) => n,
            Some(LpValue::Str(s)) => parse_i64(s).ok_or_else(|| CmdError::err("hash value is not an integer"))?,
        };
        let value = current.checked_add(incr).ok_or(CmdError::Overflow)?;
        h.set(field, itoa::Buffer::new().format(value).as_bytes(), limits);
        Ok(value)
    })?;
    ctx.srv.db.dirty += 1;
    ctx.out.int(value);
    Ok(())
}

/// HINCRBYFLOAT key field increment: the new value, computed in long double
/// and printed as Redis does (the same arithmetic as INCRBYFLOAT).
fn hincrbyfloat(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let incr = args.get(3);
    // Adding to zero validates the increment alone: the sum is infinite
    // exactly when the increment is.
    longdouble::add(b"0", incr).map_err(|e| match e {
        AddError::NotFloat => CmdError::NotFloat,
        AddError::NanOrInfinity => CmdError::err("value is NaN or Infinity"),
    })?;
    let field = args.get(2);
    let sum = update_or_create(ctx, args.get(1), |h, limits| {
        let current = match h.get(field) {
            None => b"0".to_vec(),
            Some(v) => v.to_bytes(),
        };
        // The increment parsed above, so a parse failure is the stored value's.
        let sum = longdouble::add(&current, incr).map_err(|e| match e {
            AddError::NotFloat => CmdError::err("hash value is not a float"),
            AddError::NanOrInfinity => CmdError::NanOrInfinity,
        })?;
        h.set(field, &sum, limits);
        Ok(sum)
    })?;
    ctx.srv.db.dirty += 1;
    // As HSET with the result (hincrbyfloatCommand's rewrite).
    ctx.srv.rewrite_as(|| vec![b"HSET".to_vec(), args.get(1).to_vec(), field.to_vec(), sum.clone()]);
    ctx.out.bulk(&sum);
    Ok(())
}

/// Pairs HRANDFIELD draws and replies with at a time for a negative count
/// (HRANDFIELD_RANDOM_SAMPLE_LIMIT), so the draw itself needs little memory.
const RANDOM_BATCH: usize = 1000;

/// How many times the hash must outnumber a positive count before picking
/// distinct fields one by one beats copying the hash and dropping fields
/// (HRANDFIELD_SUB_STRATEGY_MUL).
const SUB_STRATEGY_MUL: usize = 3;

/// HRANDFIELD key [count [WITHVALUES]]
fn hrandfield(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    if args.len() >= 3 {
        let count = arg_i64_between(args.get(2), -i64::MAX, i64::MAX)?;
        if args.len() > 4 || (args.len() == 4 && !is(args.get(3), "withvalues")) {
            return Err(CmdError::Syntax);
        }
        let withvalues = args.len() == 4;
        // Twice the count must still fit, for the RESP2 reply's length.
        if withvalues && count.unsigned_abs() > (i64::MAX / 2) as u64 {
            return Err(CmdError::OutOfRange);
        }
        return hrandfield_count(ctx, args.get(1), count, withvalues);
    }
    // The hash borrows the keyspace, so draw from a generator seeded from the keyspace's.
    let mut rng = rand::rngs::SmallRng::from_rng(&mut ctx.srv.db.rng);
    let h = read_as::<Hash>(&mut ctx.srv.db, ctx.db, args.get(1))?;
    match h.and_then(|h| h.random(&mut rng)) {
        Some((f, _)) => bulk_element(ctx.out, f),
        None => ctx.out.null(),
    }
    Ok(())
}

/// One HRANDFIELD pair: the field, then its value if asked for, the two
/// nested in an array of their own in RESP3.
fn reply_pair(out: &mut Reply, (f, v): (LpValue<'_>, LpValue<'_>), withvalues: bool) {
    if withvalues && out.resp3 {
        out.array(2);
    }
    bulk_element(out, f);
    if withvalues {
        bulk_element(out, v);
    }
}

/// HRANDFIELD key count [WITHVALUES] (hrandfieldWithCountCommand): a
/// negative count allows repeats and returns exactly |count| picks; a
/// positive one returns distinct fields, at most all of them.
fn hrandfield_count(ctx: &mut Ctx<'_>, key: &[u8], count: i64, withvalues: bool) -> CmdResult {
    let budget = reply_budget(ctx.srv);
    // The hash borrows the keyspace, so draw from a generator seeded from the keyspace's.
    let mut rng = rand::rngs::SmallRng::from_rng(&mut ctx.srv.db.rng);
    let Some(h) = read_as::<Hash>(&mut ctx.srv.db, ctx.db, key)? else {
        ctx.out.array(0);
        return Ok(());
    };
    let out = &mut *ctx.out;
    let n = count.unsigned_abs() as usize;
    let flat_pairs = withvalues && !out.resp3;
    if n == 0 {
        out.array(0);
    } else if count < 0 || n == 1 {
        let reply_start = out.len();
        out.array(if flat_pairs { n * 2 } else { n });
        if !reply_repeated_picks(out, h, n, withvalues, &mut rng, budget) {
            // Too big to send: drop it and the connection, as Redis closes
            // a client past its output buffer limit without writing more.
            out.buf.truncate(reply_start);
            ctx.client().close_after_reply = true;
        }
    } else {
        let pairs = distinct_picks(h, n, &mut rng);
        out.array(if flat_pairs { pairs.len() * 2 } else { pairs.len() });
        for pair in pairs {
            reply_pair(out, pair, withvalues);
        }
    }
    Ok(())
}

/// Reply with `n` pairs drawn with repetition, [`RANDOM_BATCH`] at a time;
/// false when the reply outgrew `budget` bytes and was left unfinished.
fn reply_repeated_picks(
    out: &mut Reply,
    h: &Hash,
    n: usize,
    withvalues: bool,
    rng: &mut impl rand::Rng,
    budget: usize,
) -> bool {
    let mut left = n;
    while left > 0 {
        let batch = left.min(RANDOM_BATCH);
        left -= batch;
        for pair in h.random_pairs(batch, rng) {
            reply_pair(out, pair, withvalues);
        }
        if left > 0 && out.len() > budget {
            return false;
        }
    }
    true
}

/// `n` distinct pairs (all of them when `n` is at least the hash's size),
/// by whichever of Redis's strategies suits `n` against the size.
fn distinct_picks<'a>(h: &'a Hash, n: usize, rng: &mut impl rand::Rng) -> Vec<(LpValue<'a>, LpValue<'a>)> {
    let size = h.len();
    if n >= size {
        h.iter().collect()
    } else if n.saturating_mul(SUB_STRATEGY_MUL) > size {
        // Most of the hash is wanted: copy it and drop random pairs.
        let mut all: Vec<_> = h.iter().collect();
        while all.len() > n {
            all.swap_remove(rng.random_range(0..all.len()));
        }
        all
    } else {
        h.random_distinct(n, rng)
    }
}

/// The most a reply drawn at random may take before the client is cut off:
/// the normal clients' hard output buffer limit, or, when that is unlimited
/// (the default), `proto-max-bulk-len`, so that a count of -2^62 cannot
/// exhaust memory. Only replies whose size the count alone decides need it.
fn reply_budget(srv: &Server) -> usize {
    let hard = srv.config.client_output_buffer_limits()[0].hard_limit_bytes;
    let budget = if hard > 0 { hard } else { srv.proto_max_bulk_len as u64 };
    usize::try_from(budget).unwrap_or(usize::MAX)
}

pub fn register(r: &mut Registry) {
    r.add("hset", hset);
    r.add("hmset", hmset);
    r.add("hsetnx", hsetnx);
    r.add("hget", hget);
    r.add("hmget", hmget);
    r.add("hdel", hdel);
    r.add("hlen", hlen);
    r.add("hstrlen", hstrlen);
    r.add("hexists", hexists);
    r.add("hkeys", hkeys);
    r.add("hvals", hvals);
    r.add("hgetall", hgetall);
    r.add("hincrby", hincrby);
    r.add("hincrbyfloat", hincrbyfloat);
    r.add("hrandfield", hrandfield);
}
