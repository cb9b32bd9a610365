//! Transactions (Redis's multi.c): MULTI queues a client's commands until
//! EXEC runs them back to back (nothing else runs in between: the server is
//! one lock) or DISCARD drops them; WATCH makes EXEC fail when a watched key
//! was changed — by any client, by expiry or by a flush — after WATCH.
//!
//! The queue keeps each command as its RESP bytes and EXEC parses them again,
//! so queued commands go through the same dispatcher as any other.

use corvid_proto::command_table::CmdFlags;
use corvid_proto::resp::{Args, Limits, Parsed, RequestParser};

use crate::client::ClientId;
use crate::dispatch::{Ctx, Registry};
use crate::errors::{CmdError, CmdResult};
use crate::server::Server;

/// A transaction being queued.
#[derive(Debug, Default)]
pub struct Multi {
    /// The queued commands, RESP-encoded.
    queue: Vec<u8>,
    count: usize,
    /// A command was refused while queuing: EXEC will refuse them all.
    aborted: bool,
    /// The union of the queued commands' flags (EXEC is a write if one of
    /// them is, may be refused when out of memory if one may grow it...).
    flags: CmdFlags,
    /// A queued command may not run on a stale replica.
    not_stale: bool,
}

impl Multi {
    pub fn queue(&mut self, args: &Args<'_>, flags: CmdFlags) {
        let argv: Vec<&[u8]> = args.iter().collect();
        // Room for the whole command at once: growing as it is written
        // would double the queue for a big last argument's CRLF.
        let framing = 16 + 16 * argv.len();
        self.queue.reserve(argv.iter().map(|a| a.len()).sum::<usize>() + framing);
        corvid_proto::resp::encode_command(&mut self.queue, &argv);
        self.count += 1;
        self.flags = self.flags.union(flags);
        self.not_stale |= !flags.contains(CmdFlags::STALE);
    }

    pub fn has_writes(&self) -> bool {
        self.flags.contains(CmdFlags::WRITE)
    }

    /// What EXEC adds to its own flags for the checks before it runs
    /// (mstate.cmd_flags, and cmd_inv_flags for STALE).
    pub fn queued_flags(&self) -> (CmdFlags, bool) {
        (self.flags, self.not_stale)
    }

    pub fn abort(&mut self) {
        self.aborted = true;
    }

    /// Bytes held by the queue (CLIENT LIST's multi-mem).
    pub fn bytes(&self) -> usize {
        self.queue.capacity()
    }

    pub fn len(&self) -> usize {
        self.count
    }

    pub fn is_empty(&self) -> bool {
        self.count == 0
    }
}

/// A watched key: its database, its name, and whether it had already
/// expired when WATCH ran (an expiry after WATCH aborts EXEC).
#[derive(Debug, Clone)]
pub struct Watched {
    db: usize,
    key: Vec<u8>,
    expired: bool,
}

impl Watched {
    pub fn db(&self) -> usize {
        self.db
    }

    pub fn key(&self) -> &[u8] {
        &self.key
    }
}

/// Commands run at once even inside MULTI (processCommand's exemptions).
pub fn runs_inside_multi(name: &str) -> bool {
    matches!(name, "exec" | "discard" | "multi" | "watch" | "quit" | "reset")
}

/// MULTI
fn multi(ctx: &mut Ctx<'_>, _args: &Args<'_>) -> CmdResult {
    let c = ctx.client();
    if c.multi.is_some() {
        return Err(CmdError::err("MULTI calls can not be nested"));
    }
    c.multi = Some(Multi::default());
    ctx.out.ok();
    Ok(())
}

/// DISCARD
fn discard(ctx: &mut Ctx<'_>, _args: &Args<'_>) -> CmdResult {
    if ctx.client().multi.take().is_none() {
        return Err(CmdError::err("DISCARD without MULTI"));
    }
    unwatch_all(ctx.srv, ctx.client_id);
    ctx.out.ok();
    Ok(())
}

/// EXEC: the queued commands' replies as one array; a null array when a
/// watched key changed; EXECABORT when queuing refused a command.
fn exec(ctx: &mut Ctx<'_>, _args: &Args<'_>) -> CmdResult {
    let id = ctx.client_id;
    let Some(tx) = ctx.client().multi.take() else {
        return Err(CmdError::err("EXEC without MULTI"));
    };
    let touched = ctx.client().dirty_cas || watched_key_expired(ctx.srv, id);
    unwatch_all(ctx.srv, id);
    if tx.aborted {
        return Err(CmdError::Coded("EXECABORT Transaction discarded because of previous errors.".into()));
    }
    if touched {
        ctx.out.null_array();
        return Ok(());
    }
    ctx.out.array(tx.count);
    let mut parser = RequestParser::new();
    let limits = Limits { max_bulk_len: i64::MAX, auth_required: false };
    crate::replication::begin_transaction(ctx.srv);
    ctx.srv.in_exec = true;
    for _ in 0..tx.count {
        let Ok(Parsed::Command(cmd)) = parser.parse(&tx.queue, &limits) else {
            unreachable!("the queue holds whole commands we encoded");
        };
        let args = parser.args(&tx.queue, cmd);
        crate::dispatch::execute_queued(ctx.srv, id, &args, ctx.out);
    }
    let srv = &mut *ctx.srv;
    srv.in_exec = false;
    crate::replication::end_transaction(srv);
    Ok(())
}

/// WATCH key [key ...]
fn watch(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    if ctx.client().multi.is_some() {
        return Err(CmdError::err("WATCH inside MULTI is not allowed"));
    }
    let db = ctx.db;
    let now = ctx.srv.db.now_ms;
    for key in args.iter().skip(1) {
        let expired = ctx.srv.db.dbs[db].get(key).and_then(|e| e.expire_at()).is_some_and(|at| at <= now);
        let c = ctx.client();
        if c.watched.iter().any(|w| w.db == db && w.key == key) {
            continue;
        }
        if c.watched.is_empty() {
            ctx.srv.watching_clients += 1;
        }
        ctx.client().watched.push(Watched { db, key: key.to_vec(), expired });
    }
    ctx.srv.update_expired_log();
    ctx.out.ok();
    Ok(())
}

/// UNWATCH
fn unwatch(ctx: &mut Ctx<'_>, _args: &Args<'_>) -> CmdResult {
    unwatch_all(ctx.srv, ctx.client_id);
    ctx.client().dirty_cas = false;
    ctx.out.ok();
    Ok(())
}

/// Forget every key `id` watches (EXEC, DISCARD, UNWATCH, RESET, close).
pub fn unwatch_all(srv: &mut Server, id: ClientId) {
    if let Some(c) = srv.clients.map.get_mut(&id) {
        c.dirty_cas = false;
        if !c.watched.is_empty() {
            c.watched.clear();
            srv.watching_clients -= 1;
            srv.update_expired_log();
        }
    }
}

/// Whether a key `id` watches expired since WATCH (isWatchedKeyExpired).
fn watched_key_expired(srv: &Server, id: ClientId) -> bool {
    let now = srv.db.now_ms;
    srv.clients.map.get(&id).is_some_and(|c| {
        c.watched.iter().any(|w| {
            !w.expired && srv.db.dbs[w.db].get(&w.key).and_then(|e| e.expire_at()).is_some_and(|at| at <= now)
        })
    })
}

/// Mark the clients watching (`db`, `key`) (touchWatchedKey). A key that
/// had already expired when it was watched is not a change: once it is
/// gone, it is watched as absent from then on.
pub fn touch(srv: &mut Server, db: usize, key: &[u8]) {
    if srv.watching_clients == 0 {
        return;
    }
    let present = srv.db.dbs[db].get(key).is_some();
    for c in srv.clients.map.values_mut() {
        let mut dirty = false;
        for w in c.watched.iter_mut().filter(|w| w.db == db && w.key == key) {
            if w.expired {
                if !present {
                    w.expired = false;
                }
            } else {
                dirty = true;
            }
        }
        c.dirty_cas |= dirty;
    }
}

/// What a flush or a swap does to one watched key.
pub enum FlushEffect {
    Dirty,
    /// A stale key was deleted: watched as absent from now on.
    NoLongerExpired,
    /// An absent key was replaced by a stale one.
    NowExpired,
}

/// Before FLUSHDB/FLUSHALL (`replacement` None) or SWAPDB empties database
/// `emptied` and fills it from `replacement`: what happens to each watched
/// key there (touchAllWatchedKeysInDb), as (client, watch index, effect).
pub fn flush_effects(srv: &Server, emptied: usize, replacement: Option<usize>) -> Vec<(ClientId, usize, FlushEffect)> {
    let now = srv.db.now_ms;
    let expired_in = |d: usize, k: &[u8]| srv.db.dbs[d].get(k).and_then(|e| e.expire_at()).is_some_and(|at| at <= now);
    let mut out = Vec::new();
    for (id, c) in &srv.clients.map {
        for (i, w) in c.watched.iter().enumerate().filter(|(_, w)| w.db == emptied) {
            let in_emptied = srv.db.dbs[emptied].get(&w.key).is_some();
            let in_replacement = replacement.is_some_and(|r| srv.db.dbs[r].get(&w.key).is_some());
            if !in_emptied && !in_replacement {
                continue;
            }
            let replacement_stale = replacement.is_some_and(|r| expired_in(r, &w.key));
            let effect = if w.expired {
                if !in_replacement {
                    FlushEffect::NoLongerExpired
                } else if replacement_stale {
                    continue;
                } else {
                    FlushEffect::Dirty
                }
            } else if !in_emptied && replacement_stale {
                FlushEffect::NowExpired
            } else {
                FlushEffect::Dirty
            };
            out.push((*id, i, effect));
        }
    }
    out
}

/// Apply what [`flush_effects`] found, once the command ran.
pub fn apply_flush_effects(srv: &mut Server, effects: Vec<(ClientId, usize, FlushEffect)>) {
    for (id, i, effect) in effects {
        let Some(c) = srv.clients.map.get_mut(&id) else { continue };
        match effect {
            FlushEffect::Dirty => c.dirty_cas = true,
            FlushEffect::NoLongerExpired => c.watched[i].expired = false,
            FlushEffect::NowExpired => c.watched[i].expired = true,
        }
    }
}

pub fn register(r: &mut Registry) {
    r.add("multi", multi);
    r.add("exec", exec);
    r.add("discard", discard);
    r.add("watch", watch);
    r.add("unwatch", unwatch);
}
