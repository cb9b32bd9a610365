//! Connected clients as the server sees them: identity, selected database,
//! protocol version, authentication, reply mode, and what CLIENT LIST shows.
//!
//! The record lives in the server state (so CLIENT LIST/KILL see every
//! client); the connection task owns the socket and buffers and refreshes
//! the few buffer figures here once per batch.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;

use tokio::sync::Notify;

pub type ClientId = u64;

/// Where a replica's full sync stands (Redis's replstate).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplState {
    /// Waiting for a snapshot to start (repl-diskless-sync-delay, or a
    /// BGSAVE already running); since when.
    WaitBgsave { since_ms: i64 },
    /// Its snapshot is being made; the stream is held for it.
    Snapshot,
    /// The snapshot is being sent.
    SendBulk,
    /// It gets the stream as it is produced.
    Online,
}

/// How Redis names both ends of a Unix socket connection (anetFdToString).
const UNIX_ADDR: &str = "/unixsocket:0";

impl Client {
    /// The address a replica is known by: the one it announced, else the
    /// one it connects from.
    pub fn replica_ip(&self) -> String {
        self.repl_announced_ip.clone().unwrap_or_else(|| self.addr.ip().to_string())
    }
}

impl ReplState {
    /// INFO's `state=` for a replica.
    pub fn name(self) -> &'static str {
        match self {
            ReplState::WaitBgsave { .. } | ReplState::Snapshot => "wait_bgsave",
            ReplState::SendBulk => "send_bulk",
            ReplState::Online => "online",
        }
    }
}

/// CLIENT REPLY's modes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplyMode {
    On,
    Off,
    /// Suppress the reply of the next command only.
    SkipNext,
    /// Set while the command after `CLIENT REPLY SKIP` runs.
    Skipping,
}

#[derive(Debug)]
pub struct Client {
    pub id: ClientId,
    pub addr: SocketAddr,
    pub laddr: SocketAddr,
    pub fd: i32,
    /// Connected through `unixsocket` (`addr` and `laddr` are then
    /// placeholders; see [`Client::addr_string`]).
    pub unix: bool,
    pub name: Option<Vec<u8>>,
    pub lib_name: Option<Vec<u8>>,
    pub created_ms: i64,
    pub last_interaction_ms: i64,
    pub db: usize,
    pub resp: u8,
    pub authenticated: bool,
    /// The user its commands run as (the default user until AUTH).
    pub user: crate::acl::UserId,
    pub reply_mode: ReplyMode,
    pub no_evict: bool,
    pub no_touch: bool,
    /// Full name of the last command run ("NULL" before the first).
    pub last_cmd: &'static str,
    /// Close once the pending replies are written (QUIT, protocol errors, CLIENT KILL of self).
    pub close_after_reply: bool,
    /// SCRIPT DEBUG: how the client's next EVAL runs.
    pub lua_debug: crate::script::ldb::Mode,
    /// Set by CLIENT KILL or the idle timeout; the connection task closes.
    pub killed: bool,
    /// Wakes the connection task when another client kills it.
    pub wake: Arc<Notify>,
    /// What the client waits for while a blocking command holds it.
    pub blocked: Option<crate::blocking::Blocked>,
    /// The reply that ended the wait, for the connection to send.
    pub blocked_reply: Option<Vec<u8>>,
    /// Held by CLIENT PAUSE: its next command waits for the pause to end
    /// (Redis's BLOCKED_POSTPONE, counted in blocked_clients).
    pub postponed: bool,
    /// The transaction being queued after MULTI.
    pub multi: Option<crate::cmd::multi::Multi>,
    /// Keys under WATCH, and whether one of them was touched since.
    pub watched: Vec<crate::cmd::multi::Watched>,
    pub dirty_cas: bool,
    /// A replica (after SYNC/PSYNC): it is sent the replication stream.
    /// The connection from this node's master: its writes are applied
    /// even on a read-only replica.
    pub is_master: bool,
    /// WAIT in progress: (replication offset to reach, deadline).
    pub wait: Option<(u64, Option<i64>)>,
    pub is_replica: bool,
    /// A replica that came by PSYNC, so it acknowledges its offset and
    /// times out without (SYNC's, such as redis-cli --replica, never do).
    pub repl_psync: bool,
    /// REPLCONF capa psync2: it understands `+CONTINUE <new replid>`.
    pub repl_capa_psync2: bool,
    /// Where a replica's sync stands.
    pub repl_state: ReplState,
    /// REPLCONF ip-address (replica-announce-ip): the address it is known by.
    pub repl_announced_ip: Option<String>,
    /// The stream produced while a replica's snapshot is made and sent: it
    /// follows the snapshot (it counts as output, under the replica limit).
    pub repl_hold: Option<Vec<u8>>,
    /// When this replica last acknowledged its offset.
    pub repl_ack_time_ms: i64,
    /// MONITOR: sees every command the server runs.
    pub is_monitor: bool,
    /// The client scripts run their commands as (MONITOR shows it as "lua").
    pub is_script: bool,
    /// Input read for this client by someone else (the busy-script I/O
    /// thread) and not yet run: the connection parses it first.
    pub pending_in: Vec<u8>,
    /// Output produced outside the client's own commands (the replication
    /// stream of a replica, pub/sub messages), waiting for its connection
    /// to write it.
    pub pending_out: Vec<u8>,
    /// Channels, patterns and shard channels subscribed to.
    pub subs: crate::pubsub::Subscriptions,
    /// CLIENT TRACKING's state while it is on.
    pub tracking: Option<Box<crate::tracking::ClientTracking>>,
    /// Pending output taken by the connection and not yet written.
    pub out_inflight: usize,
    /// Replies the connection holds because the peer is not reading them
    /// yet (as of the client's last batch).
    pub out_queued: usize,
    /// What that queue's buffer holds beyond the unread replies (room
    /// kept for the next ones, bytes already written): memory the client
    /// costs, though no output limit counts it.
    pub out_spare: usize,
    /// Since when pending output has been over the soft limit.
    pub obuf_soft_since_ms: Option<i64>,
    /// The replica's acknowledged offset (REPLCONF ACK) and announced port.
    pub repl_ack_offset: u64,
    pub repl_listening_port: u16,
    pub qbuf: usize,
    pub qbuf_free: usize,
    pub argv_mem: usize,
    pub obl: usize,
    pub rbs: usize,
    pub rbp: usize,
    /// The memory last accounted for it in [`Clients::tracked_total`]
    /// (Redis's last_memory_usage); 0 for clients that do not count.
    pub tracked_mem: usize,
}

impl Client {
    pub fn new(id: ClientId, addr: SocketAddr, laddr: SocketAddr, fd: i32, now_ms: i64, authenticated: bool) -> Self {
        Client {
            id,
            addr,
            laddr,
            fd,
            unix: false,
            name: None,
            lib_name: None,
            created_ms: now_ms,
            last_interaction_ms: now_ms,
            db: 0,
            resp: 2,
            authenticated,
            user: crate::acl::DEFAULT_USER,
            reply_mode: ReplyMode::On,
            no_evict: false,
            no_touch: false,
            last_cmd: "NULL",
            close_after_reply: false,
            lua_debug: crate::script::ldb::Mode::Off,
            killed: false,
            wake: Arc::new(Notify::new()),
            blocked: None,
            blocked_reply: None,
            postponed: false,
            multi: None,
            watched: Vec::new(),
            dirty_cas: false,
            is_replica: false,
            repl_psync: false,
            repl_capa_psync2: false,
            repl_state: ReplState::Online,
            repl_announced_ip: None,
            repl_hold: None,
            is_master: false,
            is_monitor: false,
            is_script: false,
            pending_in: Vec::new(),
            repl_ack_time_ms: 0,
            wait: None,
            pending_out: Vec::new(),
            subs: Default::default(),
            tracking: None,
            obuf_soft_since_ms: None,
            out_inflight: 0,
            out_queued: 0,
            out_spare: 0,
            repl_ack_offset: 0,
            repl_listening_port: 0,
            qbuf: 0,
            qbuf_free: 0,
            argv_mem: 0,
            obl: 0,
            rbs: 1024,
            rbp: 0,
            tracked_mem: 0,
        }
    }

    /// Queue output produced outside the client's own commands (the
    /// replication stream, pub/sub messages, MONITOR lines) and wake its
    /// connection to write it.
    pub fn send(&mut self, bytes: &[u8]) {
        self.pending_out.extend_from_slice(bytes);
        self.wake.notify_one();
    }

    /// Output produced for the client and not written to its socket yet
    /// (CLIENT LIST omem; what client-output-buffer-limit bounds).
    pub fn output_bytes(&self) -> usize {
        self.pending_out.capacity() + self.out_inflight + self.out_queued + self.repl_hold.as_ref().map_or(0, Vec::capacity)
    }

    /// Everything the client holds: buffers both ways and itself
    /// (getClientMemoryUsage; INFO mem_clients_normal/slaves, tot-mem).
    pub fn memory_bytes(&self) -> usize {
        self.qbuf
            + self.qbuf_free
            + self.argv_mem
            + self.rbs
            + self.output_bytes()
            + self.out_spare
            + std::mem::size_of::<Client>()
            + self.multi.as_ref().map_or(0, |m| m.bytes())
            + self.watched.capacity() * std::mem::size_of::<crate::cmd::multi::Watched>()
            + self.subs.overhead_bytes()
            + self.tracking.as_ref().map_or(0, |t| t.memory_bytes())
    }

    /// Whether its memory counts toward `maxmemory-clients` (Redis sums
    /// normal and pub/sub clients, no-evict ones included); a killed
    /// client is gone already.
    pub fn counts_toward_client_memory(&self) -> bool {
        !self.killed && !self.is_script && matches!(self.client_type(), "normal" | "pubsub")
    }

    /// Whether client eviction may close it (clientEvictionAllowed).
    pub fn evictable(&self) -> bool {
        !self.no_evict && self.counts_toward_client_memory()
    }

    /// The client's type as CLIENT LIST/KILL TYPE name it (getClientType):
    /// "master", "replica", "pubsub" or "normal" (a monitor is normal).
    pub fn client_type(&self) -> &'static str {
        if self.is_master {
            "master"
        } else if self.is_replica && !self.is_monitor {
            "replica"
        } else if self.subs.is_subscribed() {
            "pubsub"
        } else {
            "normal"
        }
    }

    /// Which `client-output-buffer-limit` class applies (getClientType;
    /// a master counts as normal).
    pub fn output_class(&self) -> usize {
        if self.is_replica && !self.is_monitor {
            1
        } else if self.subs.is_subscribed() {
            2
        } else {
            0
        }
    }

    /// Whether the peer is on this machine (for protected configs set to "local").
    pub fn is_local(&self) -> bool {
        self.unix || self.addr.ip().is_loopback()
    }

    /// The peer's address as CLIENT LIST, CLIENT KILL and the logs name it:
    /// `ip:port`, or Redis's "/unixsocket:0" for a Unix socket client.
    pub fn addr_string(&self) -> String {
        if self.unix {
            UNIX_ADDR.to_string()
        } else {
            self.addr.to_string()
        }
    }

    /// The local end, as [`Client::addr_string`].
    pub fn laddr_string(&self) -> String {
        if self.unix {
            UNIX_ADDR.to_string()
        } else {
            self.laddr.to_string()
        }
    }

    fn flags(&self) -> String {
        let mut f = String::new();
        if self.is_monitor {
            f.push('O');
        } else if self.is_replica {
            f.push('S');
        }
        if self.is_master {
            f.push('M');
        }
        if self.subs.is_subscribed() {
            f.push('P');
        }
        if self.multi.is_some() {
            f.push('x');
        }
        if self.blocked.is_some() || self.postponed {
            f.push('b');
        }
        if let Some(t) = &self.tracking {
            f.push('t');
            if t.broken_redirect {
                f.push('R');
            }
            if t.bcast {
                f.push('B');
            }
        }
        if self.dirty_cas {
            f.push('d');
        }
        if self.close_after_reply {
            f.push('c');
        }
        if self.killed {
            f.push('A');
        }
        if self.unix {
            f.push('U');
        }
        if self.no_evict {
            f.push('e');
        }
        if self.no_touch {
            f.push('T');
        }
        if f.is_empty() {
            f.push('N');
        }
        f
    }

    /// One line of CLIENT LIST / CLIENT INFO (catClientInfoString), without
    /// the trailing newline; `user` is the name of its user.
    pub fn info_line(&self, now_ms: i64, user: &[u8]) -> String {
        let name = self.name.as_deref().map(String::from_utf8_lossy).unwrap_or_default();
        let omem = self.output_bytes();
        let tot_mem = self.memory_bytes();
        format!(
            "id={} addr={} laddr={} fd={} name={} age={} idle={} flags={} db={} sub={} psub={} ssub={} multi={} qbuf={} qbuf-free={} argv-mem={} multi-mem={} rbs={} rbp={} obl={} oll={} omem={} tot-mem={} events=r cmd={} user={} redir={} resp={}",
            self.id,
            self.addr_string(),
            self.laddr_string(),
            self.fd,
            name,
            (now_ms / 1000) - (self.created_ms / 1000),
            (now_ms / 1000) - (self.last_interaction_ms / 1000),
            self.flags(),
            self.db,
            self.subs.channels.len(),
            self.subs.patterns.len(),
            self.subs.shard.len(),
            self.multi.as_ref().map_or(-1, |m| m.len() as i64),
            self.qbuf,
            self.qbuf_free,
            self.argv_mem,
            self.multi.as_ref().map_or(0, |m| m.bytes()),
            self.rbs,
            self.rbp,
            self.obl,
            omem.div_ceil(16 * 1024),
            omem,
            tot_mem,
            self.last_cmd,
            String::from_utf8_lossy(user),
            self.tracking.as_ref().map_or(-1, |t| t.redirect as i64),
            self.resp,
        )
    }
}

/// Every connected client, in id (= connection) order, as CLIENT LIST prints them.
#[derive(Debug, Default)]
pub struct Clients {
    pub map: BTreeMap<ClientId, Client>,
    pub next_id: ClientId,
    /// The memory of the clients that count toward `maxmemory-clients`,
    /// as last accounted (the sum of their `tracked_mem`; Redis's
    /// stat_clients_type_memory for normal and pub/sub clients).
    pub tracked_total: usize,
    /// Clients held by CLIENT PAUSE (see [`Client::postponed`]).
    pub postponed: usize,
}

impl Clients {
    pub fn new() -> Self {
        Clients { map: BTreeMap::new(), next_id: 1, tracked_total: 0, postponed: 0 }
    }

    /// Account client `id`'s memory as it is now (updateClientMemoryUsage);
    /// called when its buffers change: after its reads and batches, when
    /// output is queued for it, and from the cron.
    pub fn update_mem(&mut self, id: ClientId) {
        if let Some(c) = self.map.get_mut(&id) {
            let now = if c.counts_toward_client_memory() { c.memory_bytes() } else { 0 };
            self.tracked_total = self.tracked_total - c.tracked_mem + now;
            c.tracked_mem = now;
        }
    }

    /// Remove a client that is gone, with its accounted memory.
    pub fn remove(&mut self, id: ClientId) -> Option<Client> {
        let c = self.map.remove(&id)?;
        self.tracked_total -= c.tracked_mem;
        self.postponed -= usize::from(c.postponed);
        Some(c)
    }

    /// Marks whether `id` is held by a pause, keeping the count.
    pub fn set_postponed(&mut self, id: ClientId, on: bool) {
        if let Some(c) = self.map.get_mut(&id) {
            if c.postponed != on {
                c.postponed = on;
                if on {
                    self.postponed += 1;
                } else {
                    self.postponed -= 1;
                }
            }
        }
    }

    pub fn next_id(&mut self) -> ClientId {
        let id = self.next_id;
        self.next_id += 1;
        id
    }

    pub fn len(&self) -> usize {
        self.map.len()
    }

    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// Mark a client for closing and wake its connection task.
    pub fn kill(&mut self, id: ClientId) -> bool {
        match self.map.get_mut(&id) {
            Some(c) => {
                c.killed = true;
                // Nothing more goes out to it: its pending output is freed
                // now, as Redis frees a killed client at once.
                c.pending_out = Vec::new();
                self.tracked_total -= std::mem::take(&mut c.tracked_mem);
                c.wake.notify_one();
                true
            }
            None => false,
        }
    }
}
