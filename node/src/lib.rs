//! corvid-node: a storage node that is a drop-in `redis-server` 7.0.
//!
//! # Layout
//! - [`config`]: the directive table, redis.conf/argv parsing, CONFIG GET/SET/REWRITE.
//! - [`server`]: the node's state behind one lock; [`connection`]: one client's
//!   read–parse–execute–write loop; [`listener`]: accepting, start-up, shutdown;
//!   [`cron`]: periodic work (active expiry, idle clients, rehashing).
//! - [`dispatch`]: the command registry and the checks before every command;
//!   [`blocking`]: clients blocked on keys (BLPOP and friends).
//! - [`cmd`]: one module per command family (strings, keyspace, expiry, server, connection, dump).
//! - [`keyspace`]: the per-database hash table, one allocation per key; [`db`]: the
//!   access rules on top (lazy expiry, LRU/LFU, hit/miss stats); [`access`]: LRU/LFU bits.
//! - [`listpack`]: Redis's packed element sequence, in memory and in payloads;
//!   [`quicklist`]: a list as a deque of listpack nodes; [`intset`]: sorted packed
//!   integers; [`dict`]: the chained table of large sets, hashes and sorted sets;
//!   [`hash`], [`set`], [`zset`]: those values in their two encodings each;
//!   [`skiplist`]: the ordered index of large sorted sets; [`hll`]: HyperLogLog
//!   registers in Redis's string format.
//! - [`replication`]: the master side of the replication stream (SYNC, propagation);
//!   [`replica`]: the replica side (REPLICAOF: handshake, full sync, the stream).
//! - [`pubsub`]: channels, patterns and shard channels, and message delivery;
//!   [`notify`]: keyspace notifications derived from what each write did;
//!   [`tracking`]: client-side caching (CLIENT TRACKING) and its invalidations.
//! - [`script`]: Lua scripting (the VM, the `redis` API, busy scripts); the
//!   commands are in `cmd::scripting`.
//! - [`rdb`]: Redis's serialization format (DUMP/RESTORE payloads, RDB files);
//!   [`aof`]: the multi-part append-only file (manifest, base, incremental files);
//!   [`snapshot`]: fork-less BGSAVE and AOF rewrites, written to disk by a
//!   background [`child`] process.
//! - [`geo`]: geohash cells and search geometry for the GEO commands.
//! - [`acl`]: users, permissions and the ACL log (commands in `cmd::acl`).
//! - [`latency_histogram`]: per-command latency histograms (INFO latencystats);
//!   [`slowlog`]: SLOWLOG's entries; [`redact`]: the secret arguments it and MONITOR hide.
//! - [`client`], [`errors`], [`glob`], [`clock`], [`log`]: what the rest shares.

pub mod access;
pub mod acl;
pub mod alloc;
pub mod aof;
pub mod blocking;
pub mod child;
pub mod client;
pub mod client_eviction;
pub mod clock;
pub mod cmd;
pub mod config;
pub mod connection;
pub mod crash;
pub mod cron;
pub mod daemon;
pub mod db;
pub mod dict;
pub mod dispatch;
pub mod errors;
pub mod evict;
pub mod failover;
pub mod float;
pub mod geo;
pub mod glob;
pub mod hash;
pub mod hll;
pub mod intset;
pub mod keyspace;
pub mod lazyfree;
pub mod latency;
pub mod latency_histogram;
pub mod listener;
pub mod listeners;
pub mod listpack;
pub mod loading;
pub mod longdouble;
pub mod log;
pub mod prefetch;
pub mod quicklist;
pub mod rdb;
pub mod script;
pub mod notify;
pub mod oom;
pub mod pubsub;
pub mod backlog;
pub mod redact;
pub mod replica;
pub mod replication;
pub mod set;
pub mod shutdown;
pub mod skiplist;
pub mod slowlog;
pub mod snapshot;
pub mod stream;
pub mod tracking;
pub mod server;
pub mod zset;

pub use listener::run;
