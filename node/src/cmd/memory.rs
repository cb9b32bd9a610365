//! MEMORY USAGE (Redis's object.c memoryCommand): the bytes a key and its
//! value take. Like Redis, a large collection is estimated from a sample of
//! its elements (SAMPLES, 5 by default, 0 for all of them). MEMORY PURGE
//! asks the allocator to return its free pages now.

use corvid_proto::resp::Args;

use super::{arg_i64, is};
use crate::dispatch::{Ctx, Registry};
use crate::errors::{CmdError, CmdResult};
use crate::hash::Hash;
use crate::keyspace::ValueRef;
use crate::set::Set;

/// What one element of a table costs: its allocation (chain pointer, meta,
/// lengths, field and value) rounded to jemalloc's 16-byte classes, plus its
/// bucket slot.
fn table_element(field: &[u8], value: &[u8]) -> usize {
    (8 + 4 + 2 + field.len() + value.len()).next_multiple_of(16) + 8
}

/// Estimate a table of `len` elements from the first `samples` of `items`
/// (objectComputeSize's sampling).
fn sampled<'a>(len: usize, samples: usize, items: impl Iterator<Item = (&'a [u8], &'a [u8])>) -> usize {
    let (mut n, mut bytes) = (0usize, 0usize);
    for (f, v) in items.take(samples) {
        n += 1;
        bytes += table_element(f, v);
    }
    if n == 0 {
        return 0;
    }
    bytes * len / n
}

/// Bytes of a value outside the key's own allocation.
fn value_bytes(v: &ValueRef<'_>, samples: usize) -> usize {
    // The boxed HeapValue every non-inline value has.
    const HEAP: usize = 32;
    match v {
        ValueRef::Int(_) => 0,
        // An embstr lives in the key's allocation.
        ValueRef::Str(_, crate::keyspace::StrEncoding::Embstr) => 0,
        ValueRef::Str(s, _) => HEAP + s.len(),
        ValueRef::List(q) => HEAP + 48 + q.nodes().len() * 32 + q.packed_bytes(),
        ValueRef::Set(Set::Intset(s)) => HEAP + s.blob_len(),
        ValueRef::Set(Set::Table(d)) => HEAP + 64 + sampled(d.len(), samples, d.iter()),
        ValueRef::Hash(Hash::Listpack(lp)) => HEAP + lp.as_bytes().len(),
        ValueRef::Hash(Hash::Table(d)) => HEAP + 64 + sampled(d.len(), samples, d.iter()),
        ValueRef::ZSet(z) => match z.dict() {
            None => HEAP + z.as_listpack().map_or(0, |lp| lp.as_bytes().len()),
            // The member index plus a skiplist node per member (member, score,
            // back link, about two levels).
            Some(d) => HEAP + 64 + sampled(d.len(), samples, d.iter()) * 2 + d.len() * 16,
        },
        ValueRef::Stream(s) => HEAP + s.allocated(),
    }
}

/// MEMORY USAGE key [SAMPLES count]
fn memory_usage(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let mut samples = 5usize;
    let mut j = 3;
    while j < args.len() {
        if is(args.get(j), "samples") && j + 1 < args.len() {
            let n = arg_i64(args.get(j + 1))?;
            if n < 0 {
                return Err(CmdError::Syntax);
            }
            samples = if n == 0 { usize::MAX } else { n as usize };
            j += 2;
        } else {
            return Err(CmdError::Syntax);
        }
    }
    // Like Redis's dictFind: no expiry check, no access-time update.
    match ctx.srv.db.dbs[ctx.db].get(args.get(2)) {
        None => ctx.out.null(),
        Some(e) => {
            let usage = e.allocated_bytes() + 8 + value_bytes(&e.value(), samples);
            ctx.out.int(usage as i64);
        }
    }
    Ok(())
}

/// MEMORY PURGE: every jemalloc arena gives its unused dirty pages back to
/// the system at once, instead of over the decay time (Redis's
/// jemalloc_purge).
fn memory_purge(ctx: &mut Ctx<'_>, _args: &Args<'_>) -> CmdResult {
    // "arena.<MALLCTL_ARENAS_ALL>.purge", MALLCTL_ARENAS_ALL being 4096.
    let name = b"arena.4096.purge\0";
    // SAFETY: a void mallctl: a NUL-terminated name, no old or new value.
    let rc = unsafe {
        tikv_jemalloc_sys::mallctl(name.as_ptr().cast(), std::ptr::null_mut(), std::ptr::null_mut(), std::ptr::null_mut(), 0)
    };
    if rc != 0 {
        return Err(CmdError::err("Error purging dirty pages"));
    }
    ctx.out.ok();
    Ok(())
}

pub fn register(r: &mut Registry) {
    r.add("memory|usage", memory_usage);
    r.add("memory|purge", memory_purge);
}
