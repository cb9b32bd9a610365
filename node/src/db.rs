//! The numbered databases and the rules every key access follows: lazy
//! expiry, access-time bookkeeping and the hit/miss statistics (Redis's
//! `db.c` lookupKey family and `expire.c`'s expireIfNeeded).
//!
//! Commands never touch a [`Table`] directly for reads: they go through
//! [`Databases::lookup`], so an expired key is never seen and INFO's counters
//! stay right.

use rand::rngs::SmallRng;
use rand::SeedableRng;

use crate::access::AccessPolicy;
use crate::keyspace::{Entry, Found, HeapValue, NewValue, OwnedValue, Table};

/// How a lookup behaves (Redis's LOOKUP_* flags).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lookup(u8);

impl Lookup {
    /// A read: counts a hit or miss and updates the access time.
    pub const READ: Lookup = Lookup(0);
    /// Leave the access time alone (OBJECT, TTL, EXISTS...).
    pub const NOTOUCH: Lookup = Lookup(1);
    /// Don't count hits/misses.
    pub const NOSTATS: Lookup = Lookup(2);
    /// A lookup on behalf of a write: touches, counts nothing.
    pub const WRITE: Lookup = Lookup(4);

    pub const fn with(self, other: Lookup) -> Lookup {
        Lookup(self.0 | other.0)
    }

    fn has(self, f: Lookup) -> bool {
        self.0 & f.0 != 0
    }
}

#[derive(Debug, Default, Clone)]
pub struct KeyspaceStats {
    pub hits: u64,
    pub misses: u64,
    pub expired: u64,
    /// Keys whose expiry the active cycle found stale, in percent (INFO).
    pub expired_stale_perc: f64,
    pub expired_time_cap_reached: u64,
    pub expire_cycle_cpu_ms: u64,
}

/// How a lookup treats a key whose TTL has passed (expireIfNeeded). A
/// replica leaves expiry to its master, which sends a DEL for each key it
/// expires; until then the key is kept but reported missing, except to the
/// master's own stream, which sees it as it is on the master.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expiry {
    /// A master: expired keys are deleted when met.
    Master,
    /// A replica applying its master's stream: nothing is expired.
    FromMaster,
    /// A replica serving a client: expired keys are hidden, not deleted, but
    /// by a write on a writable replica (replica-read-only no).
    Replica { writable: bool },
}

/// All databases plus the per-command context their rules need.
pub struct Databases {
    pub dbs: Vec<Table>,
    pub stats: KeyspaceStats,
    pub policy: AccessPolicy,
    pub rng: SmallRng,
    /// The time commands see, fixed once per command (Redis's `mstime()` at
    /// call time; scripts will pin it for their whole run).
    pub now_ms: i64,
    /// An AOF is being loaded: nothing expires until it is done, so a
    /// PEXPIREAT in the past followed by more writes replays as it ran
    /// (keyIsExpired's loading rule).
    pub loading: bool,
    /// Whether the running command may update access times (CLIENT NO-TOUCH).
    pub no_touch: bool,
    /// Whose rules decide expiry for the running command (expireIfNeeded).
    pub expiry: Expiry,
    /// On a writable replica: keys its own clients gave a TTL, by name, with
    /// a bit per database (slaveKeysWithExpire). The master never sends a DEL
    /// for them, so the replica expires them itself ([`Self::expire_replica_keys`]).
    pub replica_volatile: std::collections::HashMap<Vec<u8>, u64>,
    /// `lazyfree-lazy-user-del`: DEL frees as UNLINK does.
    pub lazy_user_del: bool,
    /// Changes since the last save (INFO rdb_changes_since_last_save).
    pub dirty: u64,
    /// Keys deleted because they expired, for the replication stream to
    /// propagate as DEL; None while nothing listens (no replicas).
    pub expired_log: Option<Vec<(usize, Vec<u8>)>>,
}

impl Databases {
    pub fn new(count: usize, policy: AccessPolicy) -> Self {
        Databases {
            dbs: (0..count).map(|_| Table::new()).collect(),
            stats: KeyspaceStats::default(),
            policy,
            rng: SmallRng::from_os_rng(),
            now_ms: crate::clock::now_ms(),
            loading: false,
            no_touch: false,
            expiry: Expiry::Master,
            replica_volatile: Default::default(),
            lazy_user_del: false,
            dirty: 0,
            expired_log: None,
        }
    }

    /// Whether `e` is logically expired now.
    #[inline]
    pub fn is_expired(&self, e: &Entry<'_>) -> bool {
        !self.loading && self.expiry != Expiry::FromMaster && matches!(e.expire_at(), Some(at) if at <= self.now_ms)
    }

    /// Find a key, deleting it first if it expired (lookupKey). One hash
    /// and one chain walk: this is every read's hot path.
    pub fn lookup(&mut self, db: usize, key: &[u8], flags: Lookup) -> Option<Entry<'_>> {
        let now = self.now_ms;
        let count = !flags.has(Lookup::NOSTATS) && !flags.has(Lookup::WRITE);
        let (policy, rng) = (self.policy, &mut self.rng);
        let mut touch = |lru: u32| policy.touched(lru, now, rng);
        let touch: Option<&mut dyn FnMut(u32) -> u32> =
            if !flags.has(Lookup::NOTOUCH) && !self.no_touch { Some(&mut touch) } else { None };
        // Some(deadline): keys expired by then are deleted; None: kept.
        let deleting = match self.expiry {
            _ if self.loading => false,
            Expiry::Master => true,
            Expiry::FromMaster => false,
            Expiry::Replica { writable } => writable && flags.has(Lookup::WRITE),
        };
        let hiding = !deleting && matches!(self.expiry, Expiry::Replica { .. }) && !self.loading;
        let expire_before = if deleting { now } else { i64::MIN };
        match self.dbs[db].get_live(key, expire_before, touch) {
            Found::Live(e) if hiding && matches!(e.expire_at(), Some(at) if at <= now) => {
                if count {
                    self.stats.misses += 1;
                }
                None
            }
            Found::Live(e) => {
                if count {
                    self.stats.hits += 1;
                }
                Some(e)
            }
            found => {
                if matches!(found, Found::Expired) {
                    self.stats.expired += 1;
                    self.dirty += 1;
                    if let Some(log) = &mut self.expired_log {
                        log.push((db, key.to_vec()));
                    }
                }
                if count {
                    self.stats.misses += 1;
                }
                None
            }
        }
    }

    /// Whether the key exists (expiring it if due), without touching it or
    /// counting stats: for commands that only test presence on the write path.
    pub fn exists(&mut self, db: usize, key: &[u8]) -> bool {
        self.lookup(db, key, Lookup::NOTOUCH.with(Lookup::NOSTATS)).is_some()
    }

    /// Store a value under `key`, replacing whatever was there (setKey).
    pub fn set(&mut self, db: usize, key: &[u8], value: NewValue<'_>, expire_at: Option<i64>) {
        let lru = self.policy.initial(self.now_ms);
        self.dbs[db].insert(key, value, expire_at, lru);
        self.dirty += 1;
        self.remember_replica_volatile(db, key, expire_at);
    }

    /// A replica's own client gave `key` a TTL (rememberSlaveKeyWithExpire).
    #[inline]
    fn remember_replica_volatile(&mut self, db: usize, key: &[u8], expire_at: Option<i64>) {
        if expire_at.is_some() && matches!(self.expiry, Expiry::Replica { .. }) && db < 64 {
            *self.replica_volatile.entry(key.to_vec()).or_default() |= 1 << db;
        }
    }

    /// Delete the keys a writable replica's clients gave a TTL once it has
    /// passed, within `budget` (expireSlaveKeys); a key no longer volatile
    /// there is forgotten. Returns the keys deleted.
    pub fn expire_replica_keys(&mut self, budget: std::time::Duration) -> usize {
        if self.replica_volatile.is_empty() {
            return 0;
        }
        let started = std::time::Instant::now();
        let now = self.now_ms;
        let names: Vec<Vec<u8>> = self.replica_volatile.keys().take(256).cloned().collect();
        let mut deleted = 0;
        for name in names {
            let mask = self.replica_volatile.get(&name).copied().unwrap_or(0);
            let mut still = 0u64;
            for db in (0..self.dbs.len().min(64)).filter(|d| mask & (1 << d) != 0) {
                match self.dbs[db].get(&name).and_then(|e| e.expire_at()) {
                    Some(at) if at <= now => {
                        self.dbs[db].remove_lazily(&name, crate::lazyfree::lazy_expire());
                        self.stats.expired += 1;
                        self.dirty += 1;
                        deleted += 1;
                    }
                    Some(_) => still |= 1 << db,
                    None => {}
                }
            }
            if still == 0 {
                self.replica_volatile.remove(&name);
            } else {
                self.replica_volatile.insert(name, still);
            }
            if started.elapsed() >= budget {
                break;
            }
        }
        deleted
    }

    /// Store an owned value (a built list; RENAME, MOVE and COPY's carried
    /// value), replacing whatever was there.
    pub fn set_owned(&mut self, db: usize, key: &[u8], value: OwnedValue, expire_at: Option<i64>) {
        let lru = self.policy.initial(self.now_ms);
        self.dbs[db].insert_owned(key, value, expire_at, lru);
        self.dirty += 1;
        self.remember_replica_volatile(db, key, expire_at);
    }

    /// The heap value of a key the caller looked up (a list to change in place).
    pub fn heap_mut(&mut self, db: usize, key: &[u8]) -> Option<&mut HeapValue> {
        self.dbs[db].heap_mut(key)
    }

    /// Replace the value of a live key, keeping its expiry (SET KEEPTTL,
    /// INCR, APPEND's conversions). The caller looked the key up first.
    pub fn overwrite(&mut self, db: usize, key: &[u8], value: NewValue<'_>) {
        let replaced = self.dbs[db].replace_value(key, value);
        debug_assert!(replaced);
        self.dirty += 1;
    }

    /// Delete a key if it exists and is live; true if something was deleted.
    pub fn delete(&mut self, db: usize, key: &[u8]) -> bool {
        if self.exists(db, key) {
            self.dbs[db].remove(key);
            self.dirty += 1;
            true
        } else {
            false
        }
    }

    /// [`Self::delete`], leaving a large value to the background to free
    /// when `lazy` (UNLINK, and DEL under lazyfree-lazy-user-del).
    pub fn delete_lazily(&mut self, db: usize, key: &[u8], lazy: bool) -> bool {
        if !lazy {
            return self.delete(db, key);
        }
        match self.take(db, key) {
            Some((value, _, _)) => {
                crate::lazyfree::free(value);
                true
            }
            None => false,
        }
    }

    /// Remove a live key and hand back its contents (RENAME, MOVE, GETDEL).
    pub fn take(&mut self, db: usize, key: &[u8]) -> Option<(OwnedValue, Option<i64>, u32)> {
        if !self.exists(db, key) {
            return None;
        }
        self.dirty += 1;
        self.dbs[db].take(key)
    }

    /// Set or clear a live key's expiry.
    pub fn set_expire(&mut self, db: usize, key: &[u8], expire_at: Option<i64>) -> bool {
        let done = self.dbs[db].set_expire(key, expire_at);
        if done {
            self.dirty += 1;
            self.remember_replica_volatile(db, key, expire_at);
        }
        done
    }

    pub fn flush(&mut self, db: usize) -> usize {
        self.flush_lazily(db, false)
    }

    /// Empty one database; with `lazy`, its keys are freed in the
    /// background (FLUSHDB ASYNC).
    pub fn flush_lazily(&mut self, db: usize, lazy: bool) -> usize {
        let n = self.dbs[db].len();
        if lazy {
            crate::lazyfree::free_tables(vec![self.dbs[db].take_all()]);
        } else {
            self.dbs[db].clear();
        }
        self.dirty += n as u64;
        n
    }

    pub fn flush_all(&mut self) -> usize {
        self.flush_all_lazily(false)
    }

    /// Empty every database (FLUSHALL [ASYNC]).
    pub fn flush_all_lazily(&mut self, lazy: bool) -> usize {
        if !lazy {
            return (0..self.dbs.len()).map(|db| self.flush(db)).sum();
        }
        let tables: Vec<Table> = self.dbs.iter_mut().map(|t| t.take_all()).collect();
        let n: usize = tables.iter().map(|t| t.len()).sum();
        crate::lazyfree::free_tables(tables);
        self.dirty += n as u64;
        n
    }

    pub fn total_keys(&self) -> usize {
        self.dbs.iter().map(|t| t.len()).sum()
    }
}
