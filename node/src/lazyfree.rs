//! Freeing large values off the command path (Redis's lazyfree.c): UNLINK,
//! FLUSHALL/FLUSHDB ASYNC and the `lazyfree-lazy-*` options hand what they
//! removed to one background thread, so deleting a ten-million-member set
//! costs the event loop an unlink, not ten million frees.
//!
//! Small values are freed at once: sending them would cost more than
//! freeing them ([`THRESHOLD`], by the count of allocations a free walks).

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::sync::mpsc::{channel, Sender};
use std::sync::{Mutex, OnceLock};

use crate::keyspace::{OwnedValue, Table};

/// Values that take more allocations than this to free go to the
/// background (LAZYFREE_THRESHOLD).
pub const THRESHOLD: usize = 64;

static PENDING: AtomicU64 = AtomicU64::new(0);
static LAZY_EXPIRE: AtomicBool = AtomicBool::new(false);
static LAZY_SERVER_DEL: AtomicBool = AtomicBool::new(false);

/// `lazyfree-lazy-expire` and `lazyfree-lazy-server-del`, read by the
/// keyspace where it drops a value itself: a key found expired, and a
/// value replaced by a write (SET over a big set, RENAME over a key...).
pub fn configure(expire: bool, server_del: bool) {
    LAZY_EXPIRE.store(expire, Relaxed);
    LAZY_SERVER_DEL.store(server_del, Relaxed);
}

pub fn lazy_expire() -> bool {
    LAZY_EXPIRE.load(Relaxed)
}

pub fn lazy_server_del() -> bool {
    LAZY_SERVER_DEL.load(Relaxed)
}
static FREED: AtomicU64 = AtomicU64::new(0);

enum Job {
    Value(OwnedValue),
    /// Whole databases (FLUSHALL/FLUSHDB ASYNC) and how many keys they hold.
    Tables(Vec<Table>, u64),
}

fn queue() -> &'static Mutex<Sender<Job>> {
    static QUEUE: OnceLock<Mutex<Sender<Job>>> = OnceLock::new();
    QUEUE.get_or_init(|| {
        let (tx, rx) = channel::<Job>();
        std::thread::Builder::new()
            .name("lazyfree".into())
            .spawn(move || {
                for job in rx {
                    let n = match job {
                        Job::Value(v) => {
                            drop(v);
                            1
                        }
                        Job::Tables(t, keys) => {
                            drop(t);
                            keys
                        }
                    };
                    PENDING.fetch_sub(n, Relaxed);
                    FREED.fetch_add(n, Relaxed);
                }
            })
            .expect("start the lazyfree thread");
        Mutex::new(tx)
    })
}

fn send(job: Job, objects: u64) {
    PENDING.fetch_add(objects, Relaxed);
    let tx = queue().lock().unwrap_or_else(|e| e.into_inner());
    if let Err(e) = tx.send(job) {
        // The thread is gone (it never exits while the process runs):
        // free here rather than leak.
        PENDING.fetch_sub(objects, Relaxed);
        drop(e.0);
    }
}

/// How many allocations freeing `v` walks (lazyfreeGetFreeEffort).
pub fn effort(v: &OwnedValue) -> usize {
    match v {
        OwnedValue::List(q) => q.nodes().len(),
        OwnedValue::Set(crate::set::Set::Table(d)) => d.len(),
        OwnedValue::Hash(crate::hash::Hash::Table(d)) => d.len(),
        OwnedValue::ZSet(z @ crate::zset::ZSet::SkipList(_)) => z.len(),
        OwnedValue::Stream(s) => {
            // Every group is an allocation and so is each of its pending
            // entries; the first group's PEL stands for all of them.
            let groups = s.groups.len();
            let pel = s.groups.values().next().map_or(0, |g| g.pel.len());
            s.block_count() + groups * (1 + pel)
        }
        _ => 1,
    }
}

/// Free a value removed from the keyspace: in the background when it is
/// large (freeObjAsync), here otherwise.
pub fn free(v: OwnedValue) {
    if effort(&v) > THRESHOLD {
        send(Job::Value(v), 1);
    }
}

/// Free whole databases in the background (emptyDbAsync).
pub fn free_tables(tables: Vec<Table>) {
    let keys: u64 = tables.iter().map(|t| t.len() as u64).sum();
    if keys == 0 {
        return;
    }
    send(Job::Tables(tables, keys), keys);
}

/// Objects handed to the background and not freed yet (INFO lazyfree_pending_objects).
pub fn pending() -> u64 {
    PENDING.load(Relaxed)
}

/// Objects the background has freed (INFO lazyfreed_objects).
pub fn freed() -> u64 {
    FREED.load(Relaxed)
}

/// CONFIG RESETSTAT.
pub fn reset_stats() {
    FREED.store(0, Relaxed);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn large_values_go_to_the_background_and_are_counted() {
        let before = freed();
        let mut set = crate::set::Set::for_member(b"x");
        for i in 0..1000 {
            set.insert(format!("m{i}").as_bytes(), 512);
        }
        assert!(effort(&OwnedValue::Set(set.clone())) > THRESHOLD);
        free(OwnedValue::Set(set));
        free(OwnedValue::Int(7));
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        while freed() < before + 1 && std::time::Instant::now() < deadline {
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
        assert!(freed() > before);
    }
}
