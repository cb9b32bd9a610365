//! Clients blocked on keys (Redis's blocked.c): BLPOP and the other
//! blocking pops wait, when every key they name is empty, until a write
//! gives one of them data, a timeout passes, or the client goes away.
//!
//! A blocked client keeps its command. After any command that wrote to a key
//! some client waits on, the waiters are served in the order they blocked by
//! running their commands again, exactly as if just sent: the handler either
//! pops and replies (the client is woken with that reply) or finds nothing
//! and the client keeps waiting. The connection task does the waiting, with
//! the deadline as its timer (see `connection.rs`).

use std::collections::{HashMap, VecDeque};

use corvid_proto::resp::{Args, Limits, Parsed, Reply, RequestParser};

use crate::client::ClientId;
use crate::dispatch::Ctx;
use crate::errors::CmdError;
use crate::server::Server;

/// What a blocked client waits for.
#[derive(Debug)]
pub struct Blocked {
    db: usize,
    keys: Vec<Vec<u8>>,
    /// Unix ms; None waits forever.
    pub deadline_ms: Option<i64>,
    /// The command, RESP-encoded, to run again when a key is ready.
    command: Vec<u8>,
    /// The command as sent, RESP-encoded, when `command` differs from it
    /// (XREAD's `$` resolved): what the slow log shows.
    sent: Option<Vec<u8>>,
    /// Its name: its call is counted when it is unblocked, as Redis does.
    cmd_name: &'static str,
    /// How long the call that blocked took, in µs (Redis's `c->duration`):
    /// part of the latency recorded when it is unblocked (updateStatsOnUnblock).
    pub call_us: u64,
}

/// Every blocked client and the keys they wait on.
#[derive(Default)]
pub struct Blocking {
    /// (db, key) → clients waiting on it, first blocked first.
    waiting: HashMap<(usize, Vec<u8>), VecDeque<ClientId>>,
    /// Keys written since the last serve that have waiters.
    ready: Vec<(usize, Vec<u8>)>,
    /// Set by a handler that blocked its client (for the dispatcher).
    pub blocked_now: bool,
    /// Set while serving: a handler that finds nothing must not block again.
    pub serving: bool,
    /// Blocked clients (INFO's blocked_clients).
    pub count: usize,
}

impl Blocking {
    pub fn is_empty(&self) -> bool {
        self.waiting.is_empty()
    }

    /// SWAPDB: every key waited on in `db` may now hold something else.
    pub fn signal_db(&mut self, db: usize) {
        let keys: Vec<(usize, Vec<u8>)> = self.waiting.keys().filter(|(d, _)| *d == db).cloned().collect();
        for (d, k) in keys {
            self.signal(d, &k);
        }
    }

    /// A write touched (`db`, `key`): if someone waits on it, serve them
    /// after the command (signalKeyAsReady).
    pub fn signal(&mut self, db: usize, key: &[u8]) {
        if self.waiting.contains_key(&(db, key.to_vec())) && !self.ready.iter().any(|(d, k)| *d == db && k == key) {
            self.ready.push((db, key.to_vec()));
        }
    }
}

/// A blocking command's timeout argument in seconds, as an absolute
/// deadline (getTimeoutFromObjectOrReply); 0 means none.
pub fn parse_timeout(a: &[u8], now_ms: i64) -> Result<Option<i64>, CmdError> {
    let secs = crate::float::string2d(a)
        .filter(|v| v.is_finite())
        .ok_or_else(|| CmdError::err("timeout is not a float or out of range"))?;
    let ms = (secs * 1000.0).ceil();
    if ms < 0.0 {
        return Err(CmdError::err("timeout is negative"));
    }
    if ms > i64::MAX as f64 / 2.0 {
        return Err(CmdError::err("timeout is out of range"));
    }
    Ok((ms > 0.0).then(|| now_ms + ms as i64))
}

/// A timeout in milliseconds (XREAD's BLOCK), as an absolute deadline; 0
/// means none (getTimeoutFromObjectOrReply with UNIT_MILLISECONDS).
pub fn parse_timeout_ms(a: &[u8], now_ms: i64) -> Result<Option<i64>, CmdError> {
    let ms = corvid_proto::resp::parse_i64(a).ok_or_else(|| CmdError::err("timeout is not an integer or out of range"))?;
    if ms < 0 {
        return Err(CmdError::err("timeout is negative"));
    }
    if ms > i64::MAX - now_ms {
        return Err(CmdError::err("timeout is out of range"));
    }
    Ok((ms > 0).then(|| now_ms + ms))
}

/// Block the calling client on `keys` until `deadline_ms`. Inside MULTI (and
/// while serving) there is no waiting: the reply is a null array, as for a
/// timeout.
pub fn block(ctx: &mut Ctx<'_>, args: &Args<'_>, keys: &[&[u8]], deadline_ms: Option<i64>) {
    block_command(ctx, &args.iter().collect::<Vec<_>>(), None, keys, deadline_ms)
}

/// Block as [`block`], keeping `argv` as the command to run again (XREAD
/// keeps its `$` IDs resolved to what they meant when it blocked); `args`
/// is the command as sent.
pub fn block_as(ctx: &mut Ctx<'_>, args: &Args<'_>, argv: &[&[u8]], keys: &[&[u8]], deadline_ms: Option<i64>) {
    block_command(ctx, argv, Some(args), keys, deadline_ms)
}

fn block_command(ctx: &mut Ctx<'_>, argv: &[&[u8]], sent: Option<&Args<'_>>, keys: &[&[u8]], deadline_ms: Option<i64>) {
    let in_exec = ctx.srv.in_exec;
    if ctx.srv.blocking.serving {
        ctx.srv.blocking.blocked_now = true;
        return;
    }
    if in_exec {
        ctx.out.null_array();
        return;
    }
    let mut command = Vec::new();
    corvid_proto::resp::encode_command(&mut command, argv);
    let sent = sent.map(|args| {
        let mut buf = Vec::new();
        corvid_proto::resp::encode_command(&mut buf, &args.iter().collect::<Vec<_>>());
        buf
    });
    let db = ctx.db;
    let b = &mut ctx.srv.blocking;
    for k in keys {
        let waiters = b.waiting.entry((db, k.to_vec())).or_default();
        if !waiters.contains(&ctx.client_id) {
            waiters.push_back(ctx.client_id);
        }
    }
    b.blocked_now = true;
    b.count += 1;
    let blocked = Blocked { db, keys: keys.iter().map(|k| k.to_vec()).collect(), deadline_ms, command, sent, cmd_name: ctx.spec.full_name, call_us: 0 };
    ctx.client().blocked = Some(blocked);
}

/// Stop waiting: drop the client from every key's queue.
pub fn unblock(srv: &mut Server, id: ClientId) -> bool {
    let Some(b) = srv.clients.map.get_mut(&id).and_then(|c| c.blocked.take()) else { return false };
    for k in b.keys {
        let key = (b.db, k);
        if let Some(q) = srv.blocking.waiting.get_mut(&key) {
            q.retain(|&c| c != id);
            if q.is_empty() {
                srv.blocking.waiting.remove(&key);
            }
        }
    }
    srv.blocking.count -= 1;
    true
}

/// A master turned replica: every client blocked on keys gets an error and
/// is closed once it has it, since the keys it waits for now change only by
/// the new master's hand (disconnectAllBlockedClients).
pub fn disconnect_all(srv: &mut Server) {
    let blocked: Vec<ClientId> = srv.clients.map.values().filter(|c| c.blocked.is_some()).map(|c| c.id).collect();
    for id in blocked {
        let Some(resp3) = srv.clients.map.get(&id).map(|c| c.resp == 3) else { continue };
        // Redis logs no slow command here (disconnectAllBlockedClients).
        count_unblocked(srv, id, true, true, false);
        let e = crate::errors::CmdError::Coded("UNBLOCKED force unblock from blocking operation, instance state changed (master -> replica?)".into());
        crate::dispatch::count_error(srv, &e);
        let mut reply = corvid_proto::resp::Reply { buf: Vec::new(), resp3 };
        reply.error(&e.to_string());
        if let Some(c) = srv.clients.map.get_mut(&id) {
            c.blocked_reply = Some(reply.buf);
            c.close_after_reply = true;
            c.wake.notify_one();
        }
    }
}

/// Unblock without serving (CLIENT UNBLOCK, a lost stream), counting the
/// command's one call then and its latency, that of the call that blocked
/// (updateStatsOnUnblock); `failed` when the reply is an error.
pub fn unblock_counted(srv: &mut Server, id: ClientId, failed: bool) -> bool {
    count_unblocked(srv, id, failed, true, true)
}

/// Count the call of a client unblocked without serving; its latency only
/// when `timed` (Redis 7.0 records none for a timeout), and the slow log's
/// entry when `logged` (updateStatsOnUnblock).
fn count_unblocked(srv: &mut Server, id: ClientId, failed: bool, timed: bool, logged: bool) -> bool {
    let Some((name, call_us)) = srv.clients.map.get(&id).and_then(|c| c.blocked.as_ref()).map(|b| (b.cmd_name, b.call_us)) else {
        return false;
    };
    if let Some(def) = crate::dispatch::registry().get(name.as_bytes()) {
        if srv.cmd_stats.len() <= def.id {
            srv.cmd_stats.resize(def.id + 1, Default::default());
        }
        let st = &mut srv.cmd_stats[def.id];
        st.calls += 1;
        if failed {
            st.failed_calls += 1;
        }
        if timed && srv.latency_tracking {
            srv.cmd_latency.record(def.id, call_us);
        }
    }
    if logged && srv.slowlog.is_slow(call_us) {
        log_slow(srv, id, call_us);
    }
    unblock(srv, id)
}

/// Put a blocked client's command in the slow log as it was sent, when it
/// is unblocked (the call that blocked it was not logged).
#[cold]
pub fn log_slow(srv: &mut Server, id: ClientId, duration_us: u64) {
    let Some(b) = srv.clients.map.get(&id).and_then(|c| c.blocked.as_ref()) else { return };
    let command = b.sent.as_ref().unwrap_or(&b.command).clone();
    let mut parser = RequestParser::new();
    let limits = Limits { max_bulk_len: i64::MAX, auth_required: false };
    let Ok(Parsed::Command(cmd)) = parser.parse(&command, &limits) else { return };
    crate::dispatch::slowlog_push(srv, id, &parser.args(&command, cmd), duration_us);
}

/// The deadline passed: unblock with a null array (replyToBlockedClientTimedOut).
pub fn time_out(srv: &mut Server, id: ClientId, out: &mut Reply) {
    if count_unblocked(srv, id, false, false, false) {
        out.null_array();
    }
}

/// Serve the clients waiting on keys that became ready, until no key is
/// ready any more (handleClientsBlockedOnKeys). Each served client's reply
/// is handed to its connection, which is woken.
#[inline]
pub fn serve_ready(srv: &mut Server) {
    // Not in the middle of a busy script (its hook runs other clients'
    // commands): the script's writes are seen whole, once it is done.
    if srv.blocking.serving || srv.blocking.ready.is_empty() || srv.scripting.running.is_some() {
        return;
    }
    srv.blocking.serving = true;
    while !srv.blocking.ready.is_empty() {
        let ready = std::mem::take(&mut srv.blocking.ready);
        for key in ready {
            let waiters: Vec<ClientId> = srv.blocking.waiting.get(&key).map(|q| q.iter().copied().collect()).unwrap_or_default();
            for id in waiters {
                serve_one(srv, id);
            }
        }
    }
    srv.blocking.serving = false;
}

/// Whether one of the keys `id` waits on holds a list (or, for the sorted-set
/// pops, a sorted set; for XREAD and XREADGROUP, a stream).
fn has_wanted_value(srv: &Server, id: ClientId, command: &[u8]) -> bool {
    use crate::keyspace::ValueRef;
    let wants_zset = command.len() > 2 && command[..2].eq_ignore_ascii_case(b"bz");
    let wants_stream = command.len() >= 5 && command[..5].eq_ignore_ascii_case(b"xread");
    let Some(b) = srv.clients.map.get(&id).and_then(|c| c.blocked.as_ref()) else { return false };
    b.keys.iter().any(|k| match srv.db.dbs[b.db].get(k).map(|e| e.value()) {
        Some(ValueRef::List(_)) => !wants_zset && !wants_stream,
        Some(ValueRef::ZSet(_)) => wants_zset,
        Some(ValueRef::Stream(_)) => wants_stream,
        _ => false,
    })
}

/// An XREADGROUP waits on a group of a stream: once one of its keys holds no
/// stream any more, the group is gone with it, and it is told so at once
/// (unblockDeletedStreamReadgroupClients).
fn lost_stream(srv: &Server, id: ClientId, command: &[u8]) -> bool {
    if !command.eq_ignore_ascii_case(b"xreadgroup") {
        return false;
    }
    let Some(b) = srv.clients.map.get(&id).and_then(|c| c.blocked.as_ref()) else { return false };
    b.keys.iter().any(|k| !matches!(srv.db.dbs[b.db].get(k).map(|e| e.value()), Some(crate::keyspace::ValueRef::Stream(_))))
}

/// Run a blocked client's command again; if it replied, it is served.
fn serve_one(srv: &mut Server, id: ClientId) {
    let Some((command, resp3)) =
        srv.clients.map.get(&id).and_then(|c| c.blocked.as_ref().map(|b| (b.command.clone(), c.resp == 3)))
    else {
        return;
    };
    let mut parser = RequestParser::new();
    let limits = Limits { max_bulk_len: i64::MAX, auth_required: false };
    let Ok(Parsed::Command(cmd)) = parser.parse(&command, &limits) else { return };
    let args = parser.args(&command, cmd);
    if lost_stream(srv, id, args.get(0)) {
        let mut out = Reply { buf: Vec::new(), resp3 };
        let e = CmdError::Coded("UNBLOCKED the stream key no longer exists".into());
        crate::dispatch::count_error(srv, &e);
        out.error(&e.to_string());
        unblock_counted(srv, id, true);
        if let Some(c) = srv.clients.map.get_mut(&id) {
            c.blocked_reply = Some(out.buf);
            c.wake.notify_one();
        }
        return;
    }
    // Redis serves a waiter only from a key holding the type it waits on;
    // a key that now holds something else leaves it waiting.
    if !has_wanted_value(srv, id, args.get(0)) {
        return;
    }
    let mut out = Reply { buf: Vec::new(), resp3 };
    srv.blocking.blocked_now = false;
    crate::dispatch::execute_queued(srv, id, &args, &mut out);
    if std::mem::take(&mut srv.blocking.blocked_now) {
        return;
    }
    unblock(srv, id);
    if let Some(c) = srv.clients.map.get_mut(&id) {
        c.blocked_reply = Some(out.buf);
        c.wake.notify_one();
    }
}
