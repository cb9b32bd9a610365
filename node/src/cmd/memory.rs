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

/// The figures MEMORY STATS reports and MEMORY DOCTOR judges
/// (getMemoryOverheadData).
struct Report {
    peak: usize,
    used: usize,
    startup: usize,
    o: crate::cmd::info::Overhead,
    keys: usize,
    dataset: usize,
    dataset_perc: f64,
    peak_perc: f64,
    m: crate::cmd::info::MemoryStats,
}

impl Report {
    fn now(srv: &crate::server::Server) -> Report {
        let used = crate::alloc::used_memory();
        let peak = crate::alloc::peak_memory();
        let o = crate::cmd::info::overhead(srv);
        let dataset = used.saturating_sub(o.total);
        let net = used.saturating_sub(srv.startup_memory).max(1);
        Report {
            peak,
            used,
            startup: srv.startup_memory,
            keys: srv.db.total_keys(),
            dataset,
            dataset_perc: dataset as f64 * 100.0 / net as f64,
            peak_perc: used as f64 * 100.0 / peak.max(1) as f64,
            m: crate::cmd::info::memory_stats(),
            o,
        }
    }

    fn ratio(a: usize, b: usize) -> f64 {
        if b == 0 { 0.0 } else { a as f64 / b as f64 }
    }

    fn allocator_frag(&self) -> (f64, i64) {
        (Self::ratio(self.m.active, self.m.allocated), self.m.active as i64 - self.m.allocated as i64)
    }

    fn allocator_rss(&self) -> (f64, i64) {
        (Self::ratio(self.m.resident, self.m.active), self.m.resident as i64 - self.m.active as i64)
    }

    fn rss_extra(&self) -> (f64, i64) {
        (Self::ratio(self.m.rss, self.m.resident), self.m.rss as i64 - self.m.resident as i64)
    }

    fn total_frag(&self) -> (f64, i64) {
        (Self::ratio(self.m.rss, self.used), self.m.rss as i64 - self.used as i64)
    }
}

/// MEMORY STATS
fn memory_stats(ctx: &mut Ctx<'_>, _args: &Args<'_>) -> CmdResult {
    let r = Report::now(ctx.srv);
    let out = &mut *ctx.out;
    out.map(27 + r.o.dbs.len());
    let int = |out: &mut corvid_proto::resp::Reply, name: &str, v: i64| {
        out.bulk(name.as_bytes());
        out.int(v);
    };
    int(out, "peak.allocated", r.peak as i64);
    int(out, "total.allocated", r.used as i64);
    int(out, "startup.allocated", r.startup as i64);
    int(out, "replication.backlog", 0);
    int(out, "clients.slaves", r.o.clients_replicas as i64);
    int(out, "clients.normal", r.o.clients_normal as i64);
    int(out, "cluster.links", 0);
    int(out, "aof.buffer", r.o.aof_buffer as i64);
    int(out, "lua.caches", ctx.srv.scripting.scripts_mem as i64);
    int(out, "functions.caches", 0);
    for &(db, _, table) in &r.o.dbs {
        out.bulk(format!("db.{db}").as_bytes());
        out.map(3);
        // Keys with an expiry sit in the same table here (one volatile list
        // per segment, counted with it): the expires share is 0.
        int(out, "overhead.hashtable.main", table as i64);
        int(out, "overhead.hashtable.expires", 0);
        int(out, "overhead.hashtable.slot-to-keys", 0);
    }
    int(out, "overhead.total", r.o.total as i64);
    int(out, "keys.count", r.keys as i64);
    int(out, "keys.bytes-per-key", if r.keys > 0 { (r.used.saturating_sub(r.startup) / r.keys) as i64 } else { 0 });
    int(out, "dataset.bytes", r.dataset as i64);
    let dbl = |out: &mut corvid_proto::resp::Reply, name: &str, v: f64| {
        out.bulk(name.as_bytes());
        out.double(v);
    };
    dbl(out, "dataset.percentage", r.dataset_perc);
    dbl(out, "peak.percentage", r.peak_perc);
    int(out, "allocator.allocated", r.m.allocated as i64);
    int(out, "allocator.active", r.m.active as i64);
    int(out, "allocator.resident", r.m.resident as i64);
    let (ratio, bytes) = r.allocator_frag();
    dbl(out, "allocator-fragmentation.ratio", ratio);
    int(out, "allocator-fragmentation.bytes", bytes);
    let (ratio, bytes) = r.allocator_rss();
    dbl(out, "allocator-rss.ratio", ratio);
    int(out, "allocator-rss.bytes", bytes);
    let (ratio, bytes) = r.rss_extra();
    dbl(out, "rss-overhead.ratio", ratio);
    int(out, "rss-overhead.bytes", bytes);
    let (ratio, bytes) = r.total_frag();
    dbl(out, "fragmentation", ratio);
    int(out, "fragmentation.bytes", bytes);
    Ok(())
}

const DOCTOR_FINE: &str = "Hi Sam, I can't find any memory issue in your instance. I can only account for what occurs on this base.\n";
const DOCTOR_EMPTY: &str = "Hi Sam, this instance is empty or is using very little memory, my issues detector can't be used in these conditions. Please, leave for your mission on Earth and fill it with some data. The new Sam and I will be back to our programming as soon as I finished rebooting.\n";
const DOCTOR_INTRO: &str = "Sam, I detected a few issues in this Redis instance memory implants:\n\n";
const DOCTOR_OUTRO: &str = "I'm here to keep you safe, Sam. I want to help you.\n";
const DOCTOR_PEAK: &str = " * Peak memory: In the past this instance used more than 150% the memory that is currently using. The allocator is normally not able to release memory after a peak, so you can expect to see a big fragmentation ratio, however this is actually harmless and is only due to the memory peak, and if the Redis instance Resident Set Size (RSS) is currently bigger than expected, the memory will be used as soon as you fill the Redis instance with more data. If the memory peak was only occasional and you want to try to reclaim memory, please try the MEMORY PURGE command, otherwise the only other option is to shutdown and restart the instance.\n\n";
const DOCTOR_FRAG: &str = " * High total RSS: This instance has a memory fragmentation and RSS overhead greater than 1.4 (this means that the Resident Set Size of the Redis process is much larger than the sum of the logical allocations Redis performed). This problem is usually due either to a large peak memory (check if there is a peak memory entry above in the report) or may result from a workload that causes the allocator to fragment memory a lot. If the problem is a large peak memory, then there is no issue. Otherwise, make sure you are using the Jemalloc allocator and not the default libc malloc. Note: The currently used allocator is \"jemalloc-5.3.0\".\n\n";
const DOCTOR_ALLOC_FRAG: &str = " * High allocator fragmentation: This instance has an allocator external fragmentation greater than 1.1. This problem is usually due either to a large peak memory (check if there is a peak memory entry above in the report) or may result from a workload that causes the allocator to fragment memory a lot. You can try enabling 'activedefrag' config option.\n\n";
const DOCTOR_ALLOC_RSS: &str = " * High allocator RSS overhead: This instance has an RSS memory overhead is greater than 1.1 (this means that the Resident Set Size of the allocator is much larger than the sum what the allocator actually holds). This problem is usually due to a large peak memory (check if there is a peak memory entry above in the report), you can try the MEMORY PURGE command to reclaim it.\n\n";
const DOCTOR_PROC_RSS: &str = " * High process RSS overhead: This instance has non-allocator RSS memory overhead is greater than 1.1 (this means that the Resident Set Size of the Redis process is much larger than the RSS the allocator holds). This problem may be due to Lua scripts or Modules.\n\n";
const DOCTOR_REPLICA_BUF: &str = " * Big replica buffers: The replica output buffers in this instance are greater than 10MB for each replica (on average). This likely means that there is some replica instance that is struggling receiving data, either because it is too slow or because of networking issues. As a result, data piles on the master output buffers. Please try to identify what replica is not receiving data correctly and why. You can use the INFO output in order to check the replicas delays and the CLIENT LIST command to check the output buffers of each replica.\n\n";
const DOCTOR_CLIENT_BUF: &str = " * Big client buffers: The clients output buffers in this instance are greater than 200K per client (on average). This may result from different causes, like Pub/Sub clients subscribed to channels bot not receiving data fast enough, so that data piles on the Redis instance output buffer, or clients sending commands with large replies or very large sequences of commands in the same pipeline. Please use the CLIENT LIST command in order to investigate the issue if it causes problems in your instance, or to understand better why certain clients are using a big amount of memory.\n\n";
const DOCTOR_SCRIPTS: &str = " * Many scripts: There seem to be many cached scripts in this instance (more than 1000). This may be because scripts are generated and `EVAL`ed, instead of being parameterized (with KEYS and ARGV), `SCRIPT LOAD`ed and `EVALSHA`ed. Unless `SCRIPT FLUSH` is called periodically, the scripts' caches may end up consuming most of your memory.\n\n";

/// MEMORY DOCTOR: Redis's rules over the same figures (getMemoryDoctorReport).
fn memory_doctor(ctx: &mut Ctx<'_>, _args: &Args<'_>) -> CmdResult {
    const MB: i64 = 1 << 20;
    let r = Report::now(ctx.srv);
    let text = if r.used < 5 * MB as usize {
        DOCTOR_EMPTY.to_string()
    } else {
        let replicas = ctx.srv.clients.map.values().filter(|c| c.is_replica && !c.is_monitor).count();
        let normal = (ctx.srv.clients.len() - replicas).max(1);
        let over = |(ratio, bytes): (f64, i64), limit: f64| ratio > limit && bytes > 10 * MB;
        let found: Vec<&str> = [
            (Report::ratio(r.peak, r.used) > 1.5, DOCTOR_PEAK),
            (over(r.total_frag(), 1.4), DOCTOR_FRAG),
            (over(r.allocator_frag(), 1.1), DOCTOR_ALLOC_FRAG),
            (over(r.allocator_rss(), 1.1), DOCTOR_ALLOC_RSS),
            (over(r.rss_extra(), 1.1), DOCTOR_PROC_RSS),
            (replicas > 0 && r.o.clients_replicas > 10 * MB as usize, DOCTOR_REPLICA_BUF),
            (r.o.clients_normal / normal > 200 * 1024, DOCTOR_CLIENT_BUF),
            (ctx.srv.scripting.scripts.len() > 1000, DOCTOR_SCRIPTS),
        ]
        .into_iter()
        .filter_map(|(hit, text)| hit.then_some(text))
        .collect();
        if found.is_empty() {
            DOCTOR_FINE.to_string()
        } else {
            // The report lists replica buffers before client buffers, as Redis's does.
            let mut s = DOCTOR_INTRO.to_string();
            for t in found {
                s.push_str(t);
            }
            s.push_str(DOCTOR_OUTRO);
            s
        }
    };
    ctx.out.verbatim("txt", text.as_bytes());
    Ok(())
}

/// MEMORY MALLOC-STATS: jemalloc's own statistics report.
fn memory_malloc_stats(ctx: &mut Ctx<'_>, _args: &Args<'_>) -> CmdResult {
    extern "C" fn write_cb(opaque: *mut std::ffi::c_void, msg: *const std::ffi::c_char) {
        // SAFETY: jemalloc hands back the String we passed and a C string.
        let (out, msg) = unsafe { (&mut *(opaque as *mut String), std::ffi::CStr::from_ptr(msg)) };
        out.push_str(&msg.to_string_lossy());
    }
    let mut text = String::new();
    // SAFETY: the callback only appends to `text`, which outlives the call.
    unsafe { tikv_jemalloc_sys::malloc_stats_print(Some(write_cb), (&mut text as *mut String).cast(), std::ptr::null()) };
    ctx.out.verbatim("txt", text.as_bytes());
    Ok(())
}

pub fn register(r: &mut Registry) {
    r.add("memory|usage", memory_usage);
    r.add("memory|purge", memory_purge);
    r.add("memory|stats", memory_stats);
    r.add("memory|doctor", memory_doctor);
    r.add("memory|malloc-stats", memory_malloc_stats);
}

/// The `strerror` text of a mallctl return code.
fn mallctl_error(rc: i32) -> CmdError {
    CmdError::err(crate::config::syntax::strerror(&std::io::Error::from_raw_os_error(rc)))
}

/// A mallctl name as jemalloc takes it: NUL-terminated. A name holding a NUL
/// could only be cut short, so it is refused as jemalloc refuses unknown names.
fn mallctl_name(name: &[u8]) -> Result<std::ffi::CString, CmdError> {
    std::ffi::CString::new(name).map_err(|_| mallctl_error(libc::ENOENT))
}

/// DEBUG MALLCTL <key> [<val>]: read (and with <val>, write) an integer
/// jemalloc control, as Redis's mallctl_int: try 64-bit, then 32-bit, then
/// 8-bit widths until jemalloc takes one; a write-only control is written
/// alone.
pub(super) fn debug_mallctl(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let name = mallctl_name(args.get(2))?;
    let new = if args.len() > 3 { Some(super::arg_i64(args.get(3))?) } else { None };
    let mut width = std::mem::size_of::<i64>();
    while width > 0 {
        // Little-endian: the low `width` bytes of both buffers are the value.
        let mut old = 0i64;
        let mut val = new.unwrap_or(0);
        let mut len = width;
        let (newp, newlen) = match new {
            Some(_) => ((&mut val as *mut i64).cast::<libc::c_void>(), width),
            None => (std::ptr::null_mut(), 0),
        };
        // SAFETY: `old` and `val` are 8 bytes, at least `width`; the name is
        // NUL-terminated.
        let rc = unsafe {
            tikv_jemalloc_sys::mallctl(name.as_ptr(), (&mut old as *mut i64).cast(), &mut len, newp, newlen)
        };
        if rc == 0 {
            // The narrower widths are not sign-extended, as in Redis.
            ctx.out.int(old);
            return Ok(());
        }
        if rc == libc::EPERM && new.is_some() {
            // SAFETY: as above, with no old value asked for.
            let wrc = unsafe { tikv_jemalloc_sys::mallctl(name.as_ptr(), std::ptr::null_mut(), std::ptr::null_mut(), newp, newlen) };
            if wrc == 0 {
                ctx.out.ok();
                return Ok(());
            }
        }
        if rc != libc::EINVAL {
            return Err(mallctl_error(rc));
        }
        width /= 2;
    }
    Err(mallctl_error(libc::EINVAL))
}

/// DEBUG MALLCTL-STR <key> [<val>|VOID]: read (and write) a string jemalloc
/// control, as Redis's mallctl_string; VOID writes nothing, which triggers
/// void controls such as thread.tcache.flush.
pub(super) fn debug_mallctl_str(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let name = mallctl_name(args.get(2))?;
    let mut old: *const libc::c_char = std::ptr::null();
    let mut len = std::mem::size_of::<*const libc::c_char>();
    // SAFETY: `old` is a pointer-sized out value; the name is NUL-terminated.
    let rrc = unsafe {
        tikv_jemalloc_sys::mallctl(name.as_ptr(), (&mut old as *mut *const libc::c_char).cast(), &mut len, std::ptr::null_mut(), 0)
    };
    if rrc != 0 && !(rrc == libc::EPERM && args.len() > 3) {
        return Err(mallctl_error(rrc));
    }
    let mut wrc = 0;
    if args.len() > 3 {
        let raw = args.get(3);
        let val = mallctl_name(raw)?;
        let mut ptr = val.as_ptr();
        let (newp, newlen) = if raw == b"VOID" {
            (std::ptr::null_mut(), 0)
        } else {
            ((&mut ptr as *mut *const libc::c_char).cast::<libc::c_void>(), std::mem::size_of::<*const libc::c_char>())
        };
        // SAFETY: `newp` is null or points at a pointer to a NUL-terminated
        // string that outlives the call.
        wrc = unsafe { tikv_jemalloc_sys::mallctl(name.as_ptr(), std::ptr::null_mut(), std::ptr::null_mut(), newp, newlen) };
    }
    if rrc == 0 {
        // SAFETY: jemalloc returned a pointer to a static NUL-terminated string
        // (or null for an unset option).
        let text = if old.is_null() { &[][..] } else { unsafe { std::ffi::CStr::from_ptr(old) }.to_bytes() };
        ctx.out.bulk(text);
    } else if wrc != 0 {
        return Err(mallctl_error(wrc));
    } else {
        ctx.out.ok();
    }
    Ok(())
}
