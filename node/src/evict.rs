//! `maxmemory`: evicting keys by `maxmemory-policy` before a command runs
//! (Redis's evict.c).
//!
//! The LRU, LFU and TTL policies approximate the best key as Redis does: each
//! round samples `maxmemory-samples` keys per database into a pool of the
//! [`POOL_SIZE`] best candidates seen so far, and evicts the best of the pool
//! that still exists. Random policies take a random key, one database after
//! the next. A round is bounded in time by `maxmemory-eviction-tenacity`;
//! when it runs out with memory still over, the rest continues from the
//! event loop between commands ([`run`]) and commands meanwhile are not
//! refused, as in Redis.

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::server::{Server, Shared};

/// Candidates kept between rounds (EVPOOL_SIZE).
pub const POOL_SIZE: usize = 16;

/// `maxmemory-policy`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Policy {
    NoEviction,
    AllKeysLru,
    VolatileLru,
    AllKeysLfu,
    VolatileLfu,
    AllKeysRandom,
    VolatileRandom,
    VolatileTtl,
}

impl Policy {
    pub fn from_name(name: &str) -> Policy {
        match name {
            "allkeys-lru" => Policy::AllKeysLru,
            "volatile-lru" => Policy::VolatileLru,
            "allkeys-lfu" => Policy::AllKeysLfu,
            "volatile-lfu" => Policy::VolatileLfu,
            "allkeys-random" => Policy::AllKeysRandom,
            "volatile-random" => Policy::VolatileRandom,
            "volatile-ttl" => Policy::VolatileTtl,
            _ => Policy::NoEviction,
        }
    }

    /// Only keys with an expiry may go.
    fn volatile(self) -> bool {
        matches!(self, Policy::VolatileLru | Policy::VolatileLfu | Policy::VolatileRandom | Policy::VolatileTtl)
    }

    fn random(self) -> bool {
        matches!(self, Policy::AllKeysRandom | Policy::VolatileRandom)
    }

    /// Under an LRU or LFU policy every key keeps its own access bits, so
    /// small integers are not shared (MAXMEMORY_FLAG_NO_SHARED_INTEGERS).
    pub fn no_shared_integers(self) -> bool {
        matches!(self, Policy::AllKeysLru | Policy::VolatileLru | Policy::AllKeysLfu | Policy::VolatileLfu)
    }
}

/// What an eviction round achieved (EVICT_OK / EVICT_RUNNING / EVICT_FAIL).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Memory is within the limit (or eviction does not apply now).
    Ok,
    /// Still over, and more rounds are under way from the event loop.
    Running,
    /// Over, and nothing can be evicted.
    Fail,
}

struct Candidate {
    /// Higher is evicted first.
    score: u64,
    db: usize,
    key: Vec<u8>,
}

/// Eviction state kept across commands.
#[derive(Default)]
pub struct Eviction {
    /// Best candidates, ascending by score.
    pool: Vec<Candidate>,
    /// Where the random policies look next.
    next_db: usize,
    /// Keys evicted since the last CONFIG RESETSTAT (INFO evicted_keys).
    pub evicted_keys: u64,
    /// Memory went over the limit at this moment and has not come back yet.
    exceeded_since: Option<Instant>,
    /// Milliseconds spent over the limit before `exceeded_since`
    /// (INFO total_eviction_exceeded_time).
    pub exceeded_total_ms: u64,
    /// Rounds continue from the event loop ([`run`]).
    running: bool,
    /// Wakes [`run`].
    pub wake: Arc<tokio::sync::Notify>,
}

impl Eviction {
    /// Milliseconds memory has been over the limit now (INFO current_eviction_exceeded_time).
    pub fn exceeded_now_ms(&self) -> u64 {
        self.exceeded_since.map_or(0, |t| t.elapsed().as_millis() as u64)
    }

    pub fn total_exceeded_ms(&self) -> u64 {
        self.exceeded_total_ms + self.exceeded_now_ms()
    }

    pub fn reset_stats(&mut self) {
        self.evicted_keys = 0;
        self.exceeded_total_ms = 0;
        if self.exceeded_since.is_some() {
            self.exceeded_since = Some(Instant::now());
        }
    }

    /// Eviction rounds are continuing from the event loop (INFO
    /// current_eviction_exceeded_time's companion, evictionTimeProc).
    pub fn is_running(&self) -> bool {
        self.running
    }
}

/// Memory that does not count against maxmemory: what replicas still have
/// to be sent and the AOF buffer, which eviction would only grow
/// (freeMemoryGetNotCountedMemory).
pub fn not_counted(srv: &Server) -> usize {
    let replicas: usize = srv.clients.map.values().filter(|c| c.is_replica).map(|c| c.output_bytes()).sum();
    replicas + srv.aof.buf.capacity()
}

/// Bytes over the limit, if memory is over it (getMaxmemoryState).
pub fn over_limit(srv: &Server) -> Option<usize> {
    let max = srv.maxmemory as usize;
    if max == 0 {
        return None;
    }
    let reported = crate::alloc::used_memory();
    if reported <= max {
        return None;
    }
    let used = reported.saturating_sub(not_counted(srv));
    (used > max).then(|| used - max)
}

/// How long one round may run (evictionTimeLimitUs): 50 µs per step of
/// tenacity up to 10, then 15% more per step, unlimited at 100.
fn time_limit(tenacity: i64) -> Option<Duration> {
    match tenacity {
        t if t <= 10 => Some(Duration::from_micros(50 * t.max(0) as u64)),
        t if t < 100 => Some(Duration::from_micros((500.0 * 1.15f64.powi(t as i32 - 10)) as u64)),
        _ => None,
    }
}

/// Whether keys may be evicted now (isSafeToPerformEvictions): not while
/// loading, not on a replica that ignores maxmemory, not while clients
/// are paused (the dataset must hold still).
fn safe_now(srv: &Server) -> bool {
    if srv.rdb.loading.is_some() || srv.db.loading {
        return false;
    }
    if srv.master.is_some() && srv.config.get_bool("replica-ignore-maxmemory") {
        return false;
    }
    !srv.pause.is_some_and(|p| p.until_ms > srv.db.now_ms)
}

/// Evict until memory is within maxmemory, or the round's time is up
/// (performEvictions).
pub fn perform(srv: &mut Server) -> Outcome {
    if srv.maxmemory == 0 || !safe_now(srv) {
        return Outcome::Ok;
    }
    let started = Instant::now();
    let outcome = round(srv);
    let ms = started.elapsed().as_millis() as u64;
    srv.latency_events.sample_if_needed(srv.latency_monitor_threshold, "eviction-cycle", ms);
    match outcome {
        Outcome::Ok => {
            if let Some(t) = srv.eviction.exceeded_since.take() {
                srv.eviction.exceeded_total_ms += t.elapsed().as_millis() as u64;
            }
        }
        Outcome::Running | Outcome::Fail => {
            srv.eviction.exceeded_since.get_or_insert_with(Instant::now);
        }
    }
    if outcome == Outcome::Running && !srv.eviction.running {
        srv.eviction.running = true;
        srv.eviction.wake.notify_one();
    }
    outcome
}

fn round(srv: &mut Server) -> Outcome {
    let Some(to_free) = over_limit(srv) else { return Outcome::Ok };
    if srv.maxmemory_policy == Policy::NoEviction {
        return Outcome::Fail;
    }
    let limit = time_limit(srv.config.get_i64("maxmemory-eviction-tenacity"));
    let lazy = srv.config.get_bool("lazyfree-lazy-eviction");
    let started = Instant::now();
    let mut freed = 0usize;
    let mut keys = 0u64;
    while freed < to_free {
        let Some((db, key)) = pick(srv) else {
            // Nothing left to evict. The background may still be freeing
            // what earlier rounds handed it: give it a moment.
            if crate::lazyfree::pending() > 0 {
                std::thread::sleep(limit.unwrap_or(Duration::from_micros(500)));
                if over_limit(srv).is_none() {
                    return Outcome::Ok;
                }
            }
            return Outcome::Fail;
        };
        freed += evict_key(srv, db, &key, lazy);
        keys += 1;
        if keys % 16 == 0 {
            // Lazily freed values leave memory only later: look again.
            if lazy && over_limit(srv).is_none() {
                break;
            }
            if limit.is_some_and(|l| started.elapsed() > l) {
                return Outcome::Running;
            }
        }
    }
    Outcome::Ok
}

/// Delete one evicted key as Redis does: counted, announced (`evicted`
/// keyspace event), WATCHers dirtied, and DEL (UNLINK when lazy) sent to
/// replicas and the AOF. Returns what the deletion itself freed: as in
/// Redis, the memory the announcements then take (invalidation messages
/// to tracking clients, the DEL for replicas) does not count against it,
/// or evicting would feed on itself.
fn evict_key(srv: &mut Server, db: usize, key: &[u8], lazy: bool) -> usize {
    let started = Instant::now();
    let before = crate::alloc::used_memory();
    if lazy {
        if let Some((value, _, _)) = srv.db.dbs[db].take(key) {
            crate::lazyfree::free(value);
        }
    } else {
        srv.db.dbs[db].remove(key);
    }
    let freed = before.saturating_sub(crate::alloc::used_memory());
    let ms = started.elapsed().as_millis() as u64;
    srv.latency_events.sample_if_needed(srv.latency_monitor_threshold, "eviction-del", ms);
    srv.db.dirty += 1;
    srv.eviction.evicted_keys += 1;
    crate::cmd::multi::touch(srv, db, key);
    if srv.tracking.clients > 0 {
        crate::tracking::invalidate_key(srv, key, None, true);
    }
    crate::notify::notify(srv, crate::config::keyspace_events::EVICTED, "evicted", key, db);
    let cmd: &[u8] = if lazy { b"UNLINK" } else { b"DEL" };
    crate::replication::propagate(srv, db, &[cmd, key]);
    freed
}

/// The next key to evict under the current policy, if any.
fn pick(srv: &mut Server) -> Option<(usize, Vec<u8>)> {
    let policy = srv.maxmemory_policy;
    let volatile = policy.volatile();
    let dbs = srv.db.dbs.len();
    if policy.random() {
        for _ in 0..dbs {
            srv.eviction.next_db = (srv.eviction.next_db + 1) % dbs;
            let db = srv.eviction.next_db;
            let table = &srv.db.dbs[db];
            let rng = &mut srv.db.rng;
            let e = if volatile { table.random_volatile(rng) } else { table.random(rng) };
            if let Some(e) = e {
                return Some((db, e.key().to_vec()));
            }
        }
        return None;
    }
    let samples = srv.config.get_i64("maxmemory-samples").max(1) as usize;
    loop {
        let mut any = false;
        for db in 0..dbs {
            let table = &srv.db.dbs[db];
            let n = if volatile { table.volatile_len() } else { table.len() };
            if n == 0 {
                continue;
            }
            any = true;
            let (now, access) = (srv.db.now_ms, srv.db.policy);
            let pool = &mut srv.eviction.pool;
            table.sample(volatile, samples, &mut srv.db.rng, |e| {
                let score = match policy {
                    Policy::VolatileTtl => u64::MAX - e.expire_at().unwrap_or(0).max(0) as u64,
                    Policy::AllKeysLfu | Policy::VolatileLfu => 255 - access.lfu_decayed(e.lru(), now) as u64,
                    _ => crate::access::idle_ms(e.lru(), now).max(0) as u64,
                };
                offer(pool, score, db, e.key());
            });
        }
        if !any {
            return None;
        }
        // The best candidate that is still there (and still volatile, for
        // the volatile policies); the others are stale and go.
        while let Some(c) = srv.eviction.pool.pop() {
            let live = srv.db.dbs.get(c.db).and_then(|t| t.get(&c.key)).is_some_and(|e| !volatile || e.expire_at().is_some());
            if live {
                return Some((c.db, c.key));
            }
        }
    }
}

/// Offer a sampled key to the pool (evictionPoolPopulate): kept if the pool
/// has room or the key beats its worst candidate.
fn offer(pool: &mut Vec<Candidate>, score: u64, db: usize, key: &[u8]) {
    if pool.len() == POOL_SIZE && score <= pool[0].score {
        return;
    }
    if pool.iter().any(|c| c.db == db && c.key == key) {
        return;
    }
    let at = pool.partition_point(|c| c.score < score);
    pool.insert(at, Candidate { score, db, key: key.to_vec() });
    if pool.len() > POOL_SIZE {
        pool.remove(0);
    }
}

/// Forget candidates of databases that were emptied or swapped.
pub fn forget(srv: &mut Server) {
    srv.eviction.pool.clear();
}

/// CONFIG SET maxmemory (updateMaxmemory): below what is used, say so and
/// start evicting now, between commands, rather than at the next write.
pub fn limit_changed(srv: &mut Server) {
    if srv.maxmemory == 0 {
        return;
    }
    let used = crate::alloc::used_memory().saturating_sub(not_counted(srv));
    if (srv.maxmemory as usize) < used {
        tracing::warn!(
            "WARNING: the new maxmemory value set via CONFIG SET ({}) is smaller than the current memory usage ({used}). This will result in key eviction and/or the inability to accept new write commands depending on the maxmemory-policy.",
            srv.maxmemory
        );
    }
    srv.eviction.running = true;
    srv.eviction.wake.notify_one();
}

/// The rounds that continue between commands once one ran out of time
/// (evictionTimeProc): one round per turn of the event loop until memory
/// is within the limit or nothing is left to evict.
pub async fn run(shared: Arc<Shared>) {
    let wake = shared.server.lock().eviction.wake.clone();
    loop {
        wake.notified().await;
        loop {
            tokio::task::yield_now().await;
            let mut srv = shared.lock_async().await;
            srv.db.now_ms = crate::clock::now_ms();
            let outcome = if srv.maxmemory == 0 || !safe_now(&srv) { Outcome::Ok } else { round(&mut srv) };
            crate::tracking::broadcast(&mut srv);
            if outcome != Outcome::Running {
                srv.eviction.running = false;
                if outcome == Outcome::Ok {
                    if let Some(t) = srv.eviction.exceeded_since.take() {
                        srv.eviction.exceeded_total_ms += t.elapsed().as_millis() as u64;
                    }
                }
                break;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pool_keeps_the_best_candidates_in_order() {
        let mut pool = Vec::new();
        for i in 0..40u64 {
            offer(&mut pool, (i * 7) % 40, 0, format!("k{i}").as_bytes());
        }
        assert_eq!(pool.len(), POOL_SIZE);
        let scores: Vec<u64> = pool.iter().map(|c| c.score).collect();
        assert_eq!(scores, (24..40).collect::<Vec<_>>());
        // A key already there is not offered twice; a worse one is not kept.
        let best = pool.last().unwrap().key.clone();
        offer(&mut pool, 39, 0, &best);
        offer(&mut pool, 3, 0, b"worse");
        assert_eq!(pool.len(), POOL_SIZE);
        assert!(pool.iter().all(|c| c.key != b"worse"));
    }

    #[test]
    fn tenacity_bounds_a_round_as_redis_does() {
        assert_eq!(time_limit(0), Some(Duration::ZERO));
        assert_eq!(time_limit(10), Some(Duration::from_micros(500)));
        assert_eq!(time_limit(11), Some(Duration::from_micros(575)));
        assert_eq!(time_limit(100), None);
    }
}
