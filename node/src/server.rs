//! The node's state: configuration, databases, clients and statistics, all
//! behind one lock that a connection takes once per batch of commands.

use std::collections::HashMap;
use std::sync::Arc;

use tokio::sync::Notify;

use crate::access::AccessPolicy;
use crate::client::Clients;
use crate::config::Config;
use crate::db::Databases;

/// Counters INFO stats reports.
#[derive(Debug, Default, Clone)]
pub struct Stats {
    pub total_connections_received: u64,
    pub total_commands_processed: u64,
    pub rejected_connections: u64,
    pub net_input_bytes: u64,
    pub net_output_bytes: u64,
    pub total_error_replies: u64,
    pub unexpected_error_replies: u64,
    pub errors: HashMap<String, u64>,
    pub client_query_buffer_limit_disconnections: u64,
    /// Clients closed by client eviction (maxmemory-clients).
    pub evicted_clients: u64,
    pub total_reads_processed: u64,
    pub total_writes_processed: u64,
    /// Replicas served a full snapshot, a partial resync, or refused one.
    pub sync_full: u64,
    pub sync_partial_ok: u64,
    pub sync_partial_err: u64,
    /// INFO's instantaneous_ops_per_sec and _input/_output_kbps.
    pub inst_ops: InstantMetric,
    pub inst_input: InstantMetric,
    pub inst_output: InstantMetric,
}

/// Samples kept per instantaneous metric (STATS_METRIC_SAMPLES).
const METRIC_SAMPLES: usize = 16;

/// A rate as INFO's instantaneous_* fields report it: the cron samples a
/// counter every 100 ms, and the figure is the mean of the last 16 rates
/// (Redis's trackInstantaneousMetric / getInstantaneousMetric).
#[derive(Debug, Default, Clone)]
pub struct InstantMetric {
    samples: [i64; METRIC_SAMPLES],
    next: usize,
    last_ms: i64,
    last_reading: i64,
}

impl InstantMetric {
    /// Record the counter's value at `now_ms`.
    pub fn track(&mut self, now_ms: i64, reading: i64) {
        let elapsed = now_ms - self.last_ms;
        let per_sec = if elapsed > 0 { (reading - self.last_reading) * 1000 / elapsed } else { 0 };
        self.samples[self.next] = per_sec;
        self.next = (self.next + 1) % METRIC_SAMPLES;
        self.last_ms = now_ms;
        self.last_reading = reading;
    }

    /// Events per second, averaged over the samples.
    pub fn per_sec(&self) -> i64 {
        self.samples.iter().sum::<i64>() / METRIC_SAMPLES as i64
    }
}

#[cfg(test)]
mod tests {
    use super::InstantMetric;

    #[test]
    fn instant_metric_averages_the_last_sixteen_rates() {
        let mut m = InstantMetric::default();
        m.track(1_000_000, 0);
        // 50 events every 100 ms is 500/s once the window is full.
        for i in 1..=16 {
            m.track(1_000_000 + i * 100, i * 50);
        }
        assert_eq!(m.per_sec(), 500);
        // Idle samples bring it back down.
        for i in 17..=24 {
            m.track(1_000_000 + i * 100, 16 * 50);
        }
        assert_eq!(m.per_sec(), 250);
    }
}

/// Per-command counters (INFO commandstats), indexed by command id.
#[derive(Debug, Default, Clone, Copy)]
pub struct CommandStats {
    pub calls: u64,
    pub usec: u64,
    pub rejected_calls: u64,
    pub failed_calls: u64,
}

/// An in-progress CLIENT PAUSE.
#[derive(Debug, Clone, Copy)]
pub struct Pause {
    pub until_ms: i64,
    /// true: only writes wait (PAUSE ... WRITE); false: every command.
    pub write_only: bool,
}

/// SHUTDOWN was accepted (its final snapshot, if any, is already written);
/// the listener exits once the reply is out.
#[derive(Debug, Clone, Copy)]
pub struct ShutdownRequest;

/// What [`Server::disk_error`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DiskError {
    Rdb,
    /// The AOF write error's text.
    Aof(String),
}

impl DiskError {
    /// The reply to a write command (writeCommandsGetDiskErrorMessage).
    pub fn command_error(&self) -> String {
        match self {
            DiskError::Rdb => "MISCONF Redis is configured to save RDB snapshots, but it's currently unable to persist to disk. Commands that may modify the data set are disabled, because this instance is configured to report errors during writes if RDB snapshotting fails (stop-writes-on-bgsave-error option). Please check the Redis logs for details about the RDB error.".into(),
            DiskError::Aof(e) => format!("MISCONF Errors writing to the AOF file: {e}"),
        }
    }

    /// The reply to a script that may write (scriptPrepareForRun).
    pub fn script_error(&self) -> String {
        let head = "MISCONF Redis is configured to";
        let tail = "but it's currently unable to persist to disk. Writable scripts are blocked. Use 'no-writes' flag for read only scripts.";
        match self {
            DiskError::Rdb => format!("{head} save RDB snapshots, {tail}"),
            DiskError::Aof(e) => format!("{head} persist data to AOF, {tail} AOF error: {e}"),
        }
    }
}

pub struct Server {
    pub config: Config,
    pub db: Databases,
    pub clients: Clients,
    pub stats: Stats,
    pub cmd_stats: Vec<CommandStats>,
    /// Per-command latency histograms (INFO latencystats).
    pub cmd_latency: crate::latency_histogram::CommandLatencies,
    /// Cached `latency-tracking`.
    pub latency_tracking: bool,
    /// The latency monitor's events (LATENCY LATEST...).
    pub latency_events: crate::latency::LatencyMonitor,
    /// Cached `latency-monitor-threshold`, in milliseconds (0: off).
    pub latency_monitor_threshold: u64,
    /// SLOWLOG's entries, with `slowlog-log-slower-than` and `slowlog-max-len`.
    pub slowlog: crate::slowlog::SlowLog,
    /// `maxmemory-clients` in bytes, 0 for none (see client_eviction.rs).
    pub client_eviction_limit: usize,
    pub run_id: String,
    pub start_ms: i64,
    pub pid: u32,
    pub executable: String,
    pub config_file: Option<String>,
    pub tcp_port: u16,
    pub last_save_secs: i64,
    /// BGSAVE and the save points' state.
    pub rdb: crate::snapshot::RdbState,
    pub pause: Option<Pause>,
    /// FAILOVER in progress (its write pause comes on top of `pause`).
    pub failover: Option<crate::failover::Failover>,
    /// Set once the shutdown is done: the process exits.
    pub shutdown: Option<ShutdownRequest>,
    /// A shutdown asked for or waiting for replicas (see [`crate::shutdown`]).
    pub shutting: crate::shutdown::State,
    /// The pid file written at start, removed at exit.
    pub pidfile: Option<std::path::PathBuf>,
    /// The TCP sockets accepting now (see [`crate::listeners`]).
    pub listening: crate::listeners::Listening,
    /// What `oom-score-adj` changed (see [`crate::oom`]).
    pub oom_score: crate::oom::OomState,
    /// `DEBUG SET-ACTIVE-EXPIRE`.
    pub active_expire_enabled: bool,
    /// `DEBUG SET-SKIP-CHECKSUM-VALIDATION`: RESTORE ignores the payload's CRC.
    pub skip_checksum_validation: bool,
    /// Cached from config for the hot path: `proto-max-bulk-len`.
    pub proto_max_bulk_len: i64,
    /// Cached from config: `client-query-buffer-limit`.
    pub query_buffer_limit: usize,
    /// Users, their permissions, and the ACL log.
    pub acl: crate::acl::Acl,
    /// The replication ID (DEBUG CHANGE-REPL-ID changes it; replication uses it later).
    pub replid: String,
    pub replid2: String,
    /// Cached MIGRATE connections by "host:port".
    pub migrate_sockets: HashMap<String, crate::cmd::dump::MigrateSocket>,
    /// Replicas fed by the replication stream.
    pub replicas: crate::replication::Replicas,
    /// The append-only file.
    pub aof: crate::aof::Aof,
    /// Cached `notify-keyspace-events` flags (0: no notifications).
    pub notify_flags: i32,
    /// Cached `min-replicas-to-write` and `min-replicas-max-lag`.
    pub min_replicas: (i64, i64),
    /// Clients in MONITOR mode.
    pub monitors: Vec<crate::client::ClientId>,
    /// Pub/sub subscriptions.
    pub pubsub: crate::pubsub::PubSub,
    /// Client-side caching: tracked keys, BCAST prefixes, pending invalidations.
    pub tracking: crate::tracking::Tracking,
    /// `DEBUG PAUSE-CRON`: the cron does nothing while set.
    pub cron_paused: bool,
    /// The master this node replicates (REPLICAOF), if any.
    pub master: Option<crate::replica::Master>,
    /// REPLICAOF calls so far: a replica task stops once its generation is stale.
    pub master_generation: u64,
    /// Set by WAIT when it must wait: until this deadline (None: forever)
    /// or until a replica's ACK wakes the client, then it runs again.
    pub wait_retry: Option<Option<i64>>,
    /// Set by a command that must reach replicas and the AOF as another
    /// command (rewriteClientCommandVector: GETDEL as DEL, SET EX as SET
    /// PXAT); empty when it propagated itself otherwise (SPOP with a count).
    pub propagate_as: Option<Vec<Vec<u8>>>,
    /// Keys a command changed, when it says so itself instead of every key
    /// it names (signalModifiedKey: SMOVE's destination only if it grew).
    pub modified_keys: Option<Vec<(usize, Vec<u8>)>>,
    /// Set by a command that reaches replicas even when it changed nothing
    /// (forceCommandPropagation: FLUSHDB on an empty database).
    pub force_propagate: bool,
    /// Clients blocked on keys.
    pub blocking: crate::blocking::Blocking,
    /// EXEC is running queued commands (blocking commands do not wait).
    pub in_exec: bool,
    /// Clients with at least one key under WATCH.
    pub watching_clients: usize,
    /// Set by CLIENT UNPAUSE so the connection wakes the paused clients.
    pub wake_paused: bool,
    /// When the cron last sampled the instantaneous metrics.
    pub metrics_sampled_ms: i64,
    /// Lua scripting: the EVAL VM, its scripts, the running script.
    pub scripting: crate::script::Scripting,
    /// Cached `maxmemory` (0: no limit).
    pub maxmemory: u64,
    /// used_memory once the server was set up, before any data
    /// (used_memory_startup).
    pub startup_memory: usize,
    /// Cached `client-output-buffer-limit` (normal, replica, pubsub).
    pub obuf_limits: [crate::config::OutputBufferLimit; 3],
    /// Cached `maxmemory-policy`.
    pub maxmemory_policy: crate::evict::Policy,
    pub eviction: crate::evict::Eviction,
    /// Memory was over `maxmemory` when the current command started
    /// (pre_command_oom_state).
    pub oom: bool,
}

impl Server {
    /// Why writes are refused for want of a disk (writeCommandsDeniedByDiskError):
    /// the last BGSAVE failed while save points ask for snapshots and
    /// `stop-writes-on-bgsave-error` is on, or the AOF cannot be written.
    pub fn disk_error(&self) -> Option<DiskError> {
        if !self.rdb.last_bgsave_ok && self.config.get_bool("stop-writes-on-bgsave-error") && !self.config.save_params().is_empty() {
            return Some(DiskError::Rdb);
        }
        match &self.aof.write_error {
            Some(e) if self.aof.on => Some(DiskError::Aof(e.to_string())),
            _ => None,
        }
    }

    pub fn new(config: Config, executable: String) -> Server {
        let policy = access_policy(&config);
        let databases = config.get_i64("databases").max(1) as usize;
        let mut clients = Clients::new();
        // Redis's Lua client takes the first id (ours is script::SCRIPT_CLIENT).
        clients.next_id();
        let mut s = Server {
            db: Databases::new(databases, policy),
            clients,
            stats: Stats::default(),
            cmd_stats: Vec::new(),
            cmd_latency: Default::default(),
            latency_tracking: true,
            latency_events: Default::default(),
            latency_monitor_threshold: 0,
            slowlog: Default::default(),
            client_eviction_limit: 0,
            run_id: random_hex(40),
            start_ms: crate::clock::now_ms(),
            pid: std::process::id(),
            executable,
            config_file: None,
            tcp_port: config.get_i64("port") as u16,
            last_save_secs: crate::clock::now_secs(),
            rdb: Default::default(),
            pause: None,
            failover: None,
            shutdown: None,
            shutting: Default::default(),
            pidfile: None,
            oom_score: Default::default(),
            listening: Default::default(),
            active_expire_enabled: true,
            skip_checksum_validation: false,
            proto_max_bulk_len: 0,
            query_buffer_limit: 0,
            acl: crate::acl::Acl::new(),
            replid: random_hex(40),
            replid2: "0".repeat(40),
            migrate_sockets: HashMap::new(),
            replicas: Default::default(),
            aof: Default::default(),
            master: None,
            pubsub: Default::default(),
            tracking: Default::default(),
            cron_paused: false,
            monitors: Vec::new(),
            min_replicas: (0, 0),
            notify_flags: 0,
            master_generation: 0,
            wait_retry: None,
            propagate_as: None,
            watching_clients: 0,
            blocking: Default::default(),
            force_propagate: false,
            in_exec: false,
            modified_keys: None,
            wake_paused: false,
            metrics_sampled_ms: 0,
            scripting: crate::script::Scripting::new(),
            maxmemory: 0,
            maxmemory_policy: crate::evict::Policy::NoEviction,
            obuf_limits: Default::default(),
            startup_memory: 0,
            eviction: Default::default(),
            oom: false,
            config,
        };
        s.refresh_cached_config();
        s
    }

    /// Re-read the configuration values the hot path keeps at hand; called at
    /// start and after every CONFIG SET.
    pub fn refresh_cached_config(&mut self) {
        self.proto_max_bulk_len = self.config.get_i64("proto-max-bulk-len");
        self.maxmemory = self.config.get_i64("maxmemory").max(0) as u64;
        self.maxmemory_policy = crate::evict::Policy::from_name(&self.config.get_str("maxmemory-policy"));
        self.db.lazy_user_del = self.config.get_bool("lazyfree-lazy-user-del");
        crate::lazyfree::configure(self.config.get_bool("lazyfree-lazy-expire"), self.config.get_bool("lazyfree-lazy-server-del"));
        self.obuf_limits = self.config.client_output_buffer_limits();
        self.latency_tracking = self.config.get_bool("latency-tracking");
        self.latency_monitor_threshold = self.config.get_i64("latency-monitor-threshold").max(0) as u64;
        self.slowlog.configure(self.config.get_i64("slowlog-log-slower-than"), self.config.get_i64("slowlog-max-len"));
        self.client_eviction_limit = crate::client_eviction::limit(self.config.get_i64("maxmemory-clients"), self.maxmemory);
        self.scripting.busy_threshold_ms = self.config.get_i64("busy-reply-threshold").max(0) as u64;
        self.query_buffer_limit = self.config.get_i64("client-query-buffer-limit") as usize;
        self.tracking.max_keys = self.config.get_i64("tracking-table-max-keys").max(0) as usize;
        self.acl.pubsub_default_all = self.config.get_str("acl-pubsub-default") == "allchannels";
        let pass = self.config.get_raw("requirepass");
        if self.acl.set_requirepass(Some(pass.as_slice()).filter(|p| !p.is_empty())) {
            crate::acl::sync_config(self);
        }
        self.db.policy = access_policy(&self.config);
        self.aof.refresh_config(&self.config);
        self.notify_flags = self.config.notify_keyspace_events();
        self.min_replicas = (self.config.get_i64("min-replicas-to-write"), self.config.get_i64("min-replicas-max-lag"));
        if let Some(b) = self.replicas.backlog.as_mut() {
            b.resize(self.config.get_i64("repl-backlog-size").max(1) as usize);
        }
        self.update_expired_log();
        // jemalloc-bg-thread: a background thread returns freed pages to the
        // kernel, as Redis enables it, so RSS follows used memory.
        let _ = tikv_jemalloc_ctl::background_thread::write(self.config.get_bool("jemalloc-bg-thread"));
    }

    /// Record expired keys only while someone needs them: replicas (to send
    /// DEL), watchers (expiry touches a watched key) or tracking clients
    /// (expiry invalidates).
    pub fn update_expired_log(&mut self) {
        let needed = crate::replication::propagating(self)
            || self.watching_clients > 0
            || self.tracking.clients > 0
            || self.notify_flags & crate::config::keyspace_events::EXPIRED != 0;
        match (needed, self.db.expired_log.is_some()) {
            (true, false) => self.db.expired_log = Some(Vec::new()),
            (false, true) => self.db.expired_log = None,
            _ => {}
        }
    }

    /// The pause in force: CLIENT PAUSE's, and on writes FAILOVER's and a
    /// shutdown's waiting for replicas, until they end.
    pub fn current_pause(&self) -> Option<Pause> {
        let failing_over = self.failover.as_ref().is_some_and(|f| f.stage == crate::failover::Stage::WaitForSync || self.master.is_some())
            || self.shutting.initiated.is_some();
        match (self.pause, failing_over) {
            (p, false) => p,
            (Some(p), true) if !p.write_only => Some(p),
            _ => Some(Pause { until_ms: i64::MAX, write_only: true }),
        }
    }

    /// The running command goes to replicas and the AOF as the arguments
    /// `build` makes instead of its own (see `propagate_as`); built only
    /// when something reads them (replicas, the AOF, keyspace events), so a
    /// master without them pays nothing for the rewrite.
    pub fn rewrite_as(&mut self, build: impl FnOnce() -> Vec<Vec<u8>>) {
        if self.rewrite_wanted() {
            self.propagate_as = Some(build());
        }
    }

    /// Whether a rewritten command would be read (see [`Server::rewrite_as`]).
    pub fn rewrite_wanted(&self) -> bool {
        self.notify_flags != 0 || crate::replication::propagating(self)
    }

    /// Whether a pause holds at `now_ms`: then nothing expires, actively or
    /// on access (checkClientPauseTimeoutAndReturnIfPaused).
    pub fn clients_paused(&self, now_ms: i64) -> bool {
        self.current_pause().is_some_and(|p| p.until_ms > now_ms)
    }

    pub fn uptime_secs(&self) -> i64 {
        (crate::clock::now_ms() - self.start_ms) / 1000
    }
}

pub fn access_policy(config: &Config) -> AccessPolicy {
    let policy = config.get_str("maxmemory-policy");
    AccessPolicy {
        lfu: policy.contains("lfu"),
        saved: policy.contains("lfu") || policy.contains("lru"),
        lfu_log_factor: config.get_i64("lfu-log-factor"),
        lfu_decay_time: config.get_i64("lfu-decay-time"),
    }
}

pub fn random_hex(n: usize) -> String {
    use rand::Rng;
    let mut rng = rand::rng();
    (0..n).map(|_| char::from_digit(rng.random_range(0..16), 16).unwrap()).collect()
}

/// The state shared by every task: the server behind its lock, and the
/// signal that wakes the main task for shutdown.
pub struct Shared {
    pub server: parking_lot::Mutex<Server>,
    pub shutdown: Notify,
    /// Wakes clients waiting for a CLIENT PAUSE to end.
    pub unpaused: Notify,
    /// The running script's state that connections read without the lock.
    pub script: Arc<crate::script::Watch>,
}

/// How long a task blocks on the lock before it yields to the runtime and
/// looks again (a script may hold the lock for long).
const LOCK_SLICE: std::time::Duration = std::time::Duration::from_millis(2);

impl Shared {
    pub fn new(server: Server) -> Arc<Shared> {
        let script = server.scripting.watch.clone();
        Arc::new(Shared { server: parking_lot::Mutex::new(server), shutdown: Notify::new(), unpaused: Notify::new(), script })
    }

    /// Take the lock, blocking the thread. For start-up and threads of
    /// their own; tasks use [`Shared::lock_async`].
    pub fn lock(&self) -> parking_lot::MutexGuard<'_, Server> {
        self.server.lock()
    }

    /// Take the lock from a task: a slow script may hold it for seconds,
    /// and a runtime thread blocked that long could be the one that would
    /// serve the SCRIPT KILL, so the task waits in slices and yields
    /// between them.
    pub async fn lock_async(&self) -> parking_lot::MutexGuard<'_, Server> {
        loop {
            if let Some(g) = self.server.try_lock_for(LOCK_SLICE) {
                return g;
            }
            tokio::time::sleep(std::time::Duration::from_millis(1)).await;
        }
    }

    /// Like [`Shared::lock_async`], but gives up once a script timed out:
    /// the caller then hands its commands to the script (None).
    pub async fn lock_unless_busy(&self) -> Option<parking_lot::MutexGuard<'_, Server>> {
        loop {
            if self.script.timed_out() {
                return None;
            }
            if let Some(g) = self.server.try_lock_for(LOCK_SLICE) {
                return Some(g);
            }
            tokio::time::sleep(std::time::Duration::from_millis(1)).await;
        }
    }

    /// Run `f` with the server: under the lock, or, while a script is busy,
    /// by the script's hook (accepting a client must not wait for the
    /// script: the client may be the one that kills it). None if the job
    /// was lost, which does not happen short of a panic.
    pub async fn with_server<T, F>(&self, f: F) -> Option<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Server) -> T + Send + 'static,
    {
        let mut f = f;
        loop {
            if self.script.timed_out() {
                match self.script.submit(f) {
                    Ok(rx) => return rx.await.ok(),
                    Err(back) => f = back,
                }
            }
            if let Some(mut g) = self.server.try_lock_for(LOCK_SLICE) {
                return Some(f(&mut g));
            }
            tokio::time::sleep(std::time::Duration::from_millis(1)).await;
        }
    }
}
