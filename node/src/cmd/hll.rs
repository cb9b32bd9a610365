//! HyperLogLog commands (Redis's hyperloglog.c): PFADD, PFCOUNT, PFMERGE,
//! PFDEBUG, PFSELFTEST. The values are ordinary strings in the format of
//! [`crate::hll`]; these handlers look keys up, check the header and say
//! what changed (dirty count, watched keys, propagation) as Redis does.

use corvid_proto::resp::Args;

use super::is;
use crate::db::Lookup;
use crate::dispatch::{Ctx, Registry};
use crate::errors::{CmdError, CmdResult};
use crate::hll::{self, Encoding, HllError, Registers};
use crate::keyspace::{OwnedValue, StrEncoding, ValueRef};

impl From<HllError> for CmdError {
    fn from(e: HllError) -> Self {
        CmdError::Coded(e.to_string())
    }
}

/// `hll-sparse-max-bytes`: the longest a sparse value grows before it is
/// rewritten dense.
fn sparse_max_bytes(ctx: &Ctx<'_>) -> usize {
    ctx.srv.config.get_i64("hll-sparse-max-bytes").max(0) as usize
}

/// A looked-up value as a HyperLogLog: WRONGTYPE for other types and for
/// strings without a valid header (isHLLObjectOrReply).
fn hll_of<'a>(v: &ValueRef<'a>) -> Result<(&'a [u8], Encoding), CmdError> {
    match *v {
        ValueRef::Str(s, _) => Ok((s, hll::check(s)?)),
        ValueRef::Int(_) => Err(HllError::NotHll.into()),
        _ => Err(CmdError::WrongType),
    }
}

/// The value of a key checked with [`hll_of`], as a buffer to change in
/// place (dbUnshareStringValue: an embstr becomes raw).
fn hll_mut<'a>(ctx: &'a mut Ctx<'_>, key: &[u8]) -> &'a mut Vec<u8> {
    ctx.srv.db.dbs[ctx.db].raw_mut(key).expect("a string, checked by the caller")
}

/// PFADD key [element ...]: 1 if the value was created or a register grew,
/// else 0. Without elements it only creates the key.
fn pfadd(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let (db, key) = (ctx.db, args.get(1));
    let encoding = match ctx.srv.db.lookup(db, key, Lookup::WRITE) {
        Some(e) => Some(hll_of(&e.value())?.1),
        None => None,
    };
    let exists = encoding.is_some();
    // Only a sparse value consults the limit (a lookup by name: skip it for dense).
    let max_bytes = if encoding == Some(Encoding::Dense) { usize::MAX } else { sparse_max_bytes(ctx) };
    let mut grew = 0u64;
    if exists {
        let value = hll_mut(ctx, key);
        for element in args.iter().skip(2) {
            grew += hll::add(value, element, max_bytes)? as u64;
        }
        if grew > 0 {
            hll::invalidate_cache(value);
        }
    } else {
        let mut value = hll::new_sparse();
        for element in args.iter().skip(2) {
            grew += hll::add(&mut value, element, max_bytes)? as u64;
        }
        // Creating is an update too: even an empty new value has a stale cache.
        hll::invalidate_cache(&mut value);
        // Storing counts the creation as one change.
        ctx.srv.db.set_owned(db, key, OwnedValue::Str(value, StrEncoding::Raw), None);
    }
    // Each grown register is a change, as Redis counts them.
    ctx.srv.db.dirty += grew;
    let updated = !exists || grew > 0;
    ctx.out.int(updated as i64);
    Ok(())
}

/// PFCOUNT key [key ...]: the estimated cardinality of one value, or of
/// the union of several (merged into a temporary, nothing written). A
/// missing key counts as empty.
///
/// With one key, a stale cached count is recomputed and written back into
/// the value: a change to the string like any other, so watchers see it
/// and replicas and the AOF get the PFCOUNT, as Redis does, although the
/// command is read-only.
fn pfcount(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let db = ctx.db;
    if args.len() > 2 {
        let mut union = Registers::default();
        for key in args.iter().skip(1) {
            let Some(e) = ctx.srv.db.lookup(db, key, Lookup::READ) else { continue };
            let (value, _) = hll_of(&e.value())?;
            union.merge(value)?;
        }
        ctx.out.int(union.count() as i64);
        return Ok(());
    }
    let key = args.get(1);
    let Some(e) = ctx.srv.db.lookup(db, key, Lookup::READ) else {
        ctx.out.int(0);
        return Ok(());
    };
    hll_of(&e.value())?;
    let value = hll_mut(ctx, key);
    if let Some(card) = hll::cached_count(value) {
        ctx.out.int(card as i64);
        return Ok(());
    }
    let card = hll::count(value)?;
    hll::set_cached_count(value, card);
    ctx.srv.db.dirty += 1;
    crate::cmd::multi::touch(ctx.srv, db, key);
    if ctx.srv.tracking.clients > 0 {
        crate::tracking::invalidate_key(ctx.srv, key, Some(ctx.client_id), true);
    }
    crate::replication::propagate(ctx.srv, db, &args.iter().collect::<Vec<_>>());
    ctx.out.int(card as i64);
    Ok(())
}

/// PFMERGE destkey [sourcekey ...]: destkey (itself included) becomes the
/// register-wise maximum of all of them. It is written dense if any input
/// was dense, else sparse and promoted only if it must be.
fn pfmerge(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let db = ctx.db;
    let max_bytes = sparse_max_bytes(ctx);
    let mut union = Registers::default();
    let mut any_dense = false;
    for key in args.iter().skip(1) {
        let Some(e) = ctx.srv.db.lookup(db, key, Lookup::READ) else { continue };
        let (value, encoding) = hll_of(&e.value())?;
        any_dense |= encoding == Encoding::Dense;
        union.merge(value)?;
    }
    let dest = args.get(1);
    let write = |value: &mut Vec<u8>| -> Result<(), HllError> {
        if any_dense {
            hll::to_dense(value)?;
        }
        for (index, &count) in union.0.iter().enumerate() {
            if count > 0 {
                // The destination passed the merge above: it cannot fail.
                let _ = hll::raise(value, index, count, max_bytes);
            }
        }
        hll::invalidate_cache(value);
        Ok(())
    };
    if ctx.srv.db.lookup(db, dest, Lookup::WRITE).is_some() {
        write(hll_mut(ctx, dest))?;
        ctx.srv.db.dirty += 1;
    } else {
        let mut value = hll::new_sparse();
        write(&mut value)?;
        ctx.srv.db.set_owned(db, dest, OwnedValue::Str(value, StrEncoding::Raw), None);
    }
    // Only the destination changed (signalModifiedKey on it alone).
    ctx.srv.modified_keys = Some(vec![(db, dest.to_vec())]);
    ctx.out.ok();
    Ok(())
}

/// PFDEBUG GETREG|DECODE|ENCODING|TODENSE key: the registers (converting
/// to dense), the sparse opcodes, the encoding's name, or a conversion to
/// dense (1 if it converted). A conversion counts as a change, so it
/// reaches replicas, but watchers are not told (Redis signals no key).
fn pfdebug(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let (db, sub, key) = (ctx.db, args.get(1), args.get(2));
    let Some(e) = ctx.srv.db.lookup(db, key, Lookup::WRITE) else {
        return Err(CmdError::err("The specified key does not exist"));
    };
    let (_, encoding) = hll_of(&e.value())?;
    ctx.srv.modified_keys = Some(Vec::new());
    let value = hll_mut(ctx, key);
    if is(sub, "getreg") {
        let converted = encoding == Encoding::Sparse;
        hll::to_dense(value)?;
        let regs: Vec<u8> = hll::dense_registers(value).collect();
        ctx.srv.db.dirty += converted as u64;
        ctx.out.array(regs.len());
        for r in regs {
            ctx.out.int(i64::from(r));
        }
    } else if is(sub, "decode") {
        if encoding != Encoding::Sparse {
            return Err(CmdError::err("HLL encoding is not sparse"));
        }
        let decoded = hll::decode_sparse(value);
        ctx.out.bulk(decoded.as_bytes());
    } else if is(sub, "encoding") {
        ctx.out.simple(encoding.name().as_bytes());
    } else if is(sub, "todense") {
        let converted = encoding == Encoding::Sparse;
        hll::to_dense(value)?;
        ctx.srv.db.dirty += converted as u64;
        ctx.out.int(converted as i64);
    } else {
        let sub = String::from_utf8_lossy(sub).replace(['\r', '\n'], " ");
        return Err(CmdError::err(format!("Unknown PFDEBUG subcommand '{sub}'")));
    }
    Ok(())
}

/// PFSELFTEST: the register packing and the estimator's error bounds,
/// checked on throwaway values (see [`hll::self_test`]).
fn pfselftest(ctx: &mut Ctx<'_>, _args: &Args<'_>) -> CmdResult {
    let max_bytes = sparse_max_bytes(ctx);
    hll::self_test(max_bytes, rand::random::<u64>).map_err(CmdError::Err)?;
    ctx.out.ok();
    Ok(())
}

pub fn register(r: &mut Registry) {
    r.add("pfadd", pfadd);
    r.add("pfcount", pfcount);
    r.add("pfmerge", pfmerge);
    r.add("pfdebug", pfdebug);
    r.add("pfselftest", pfselftest);
}
