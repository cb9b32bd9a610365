//! Command dispatch: the registry of implemented commands (each family's
//! `register` adds its rows, reading arity, flags and key positions from
//! `corvid_proto::command_table`), and the checks every command passes
//! before it runs, decided once here from the table's flags (Redis's
//! `processCommand`): unknown command or subcommand, arity, protected
//! commands, authentication, ACLs, CLIENT PAUSE.

use std::collections::HashMap;
use std::sync::OnceLock;

use corvid_proto::command_table::{self, CmdFlags, CommandSpec};
use corvid_proto::resp::{Args, Reply};

use crate::client::{Client, ClientId, ReplyMode};
use crate::clock::BatchClock;
use crate::errors::{CmdError, CmdResult};
use crate::server::Server;

pub type Handler = fn(&mut Ctx<'_>, &Args<'_>) -> CmdResult;

/// One implemented command or subcommand.
pub struct CommandDef {
    pub spec: &'static CommandSpec,
    pub handler: Handler,
    /// Index into the server's per-command statistics.
    pub id: usize,
    /// The command's number for ACL rules.
    pub acl_id: crate::acl::catalog::CommandId,
    /// For containers (CONFIG, CLIENT...): their implemented subcommands.
    pub subs: HashMap<Vec<u8>, usize>,
}

/// Every implemented command, looked up case-insensitively without allocating.
pub struct Registry {
    pub defs: Vec<CommandDef>,
    /// The names clients use, after `rename-command`.
    by_name: HashMap<Vec<u8>, usize, foldhash::fast::FixedState>,
    /// The table's own names, for the server's internal lookups (Redis's
    /// orig_commands): a renamed command still runs as itself inside.
    original: HashMap<Vec<u8>, usize, foldhash::fast::FixedState>,
}

impl Registry {
    fn new() -> Self {
        let hasher = || foldhash::fast::FixedState::with_seed(0x5eed);
        Registry { defs: Vec::new(), by_name: HashMap::with_hasher(hasher()), original: HashMap::with_hasher(hasher()) }
    }

    /// Add a command ("get") or a subcommand ("config|get"); the container
    /// row is created on first use. Panics on a name the Redis table lacks:
    /// that is a programming error caught by every test run.
    pub fn add(&mut self, full_name: &str, handler: Handler) {
        match full_name.split_once('|') {
            None => {
                let spec = command_table::lookup(full_name.as_bytes())
                    .unwrap_or_else(|| panic!("command {full_name} is not in the command table"));
                let id = self.defs.len();
                self.defs.push(CommandDef { spec, handler, id, acl_id: acl_id(spec), subs: HashMap::new() });
                self.by_name.insert(full_name.as_bytes().to_vec(), id);
                self.original.insert(full_name.as_bytes().to_vec(), id);
            }
            Some((parent, sub)) => {
                let parent_id = match self.by_name.get(parent.as_bytes()) {
                    Some(&id) => id,
                    None => {
                        self.add(parent, container_without_subcommand);
                        self.by_name[parent.as_bytes()]
                    }
                };
                let parent_spec = self.defs[parent_id].spec;
                let spec = command_table::lookup_subcommand(parent_spec, sub.as_bytes())
                    .unwrap_or_else(|| panic!("subcommand {full_name} is not in the command table"));
                let id = self.defs.len();
                self.defs.push(CommandDef { spec, handler, id, acl_id: acl_id(spec), subs: HashMap::new() });
                self.defs[parent_id].subs.insert(sub.as_bytes().to_vec(), id);
            }
        }
    }

    /// Find the command for an argument vector: `Ok(def)`, or the
    /// unknown-command / unknown-subcommand error.
    pub fn find(&self, args: &Args<'_>) -> Result<&CommandDef, CmdError> {
        let sub = if args.len() >= 2 { Some(args.get(1)) } else { None };
        self.find_parts(args.get(0), sub).map_err(|e| match e {
            FindError::Command => unknown_command(args),
            FindError::Subcommand(def) => CmdError::UnknownSubcommand {
                cmd: def.spec.name.to_string(),
                sub: String::from_utf8_lossy(args.get(1)).into_owned(),
            },
        })
    }

    /// The command named `name`, or its subcommand `sub` when it is a
    /// container (Redis's lookupCommandLogic), without allocating for the name.
    pub fn find_parts(&self, name: &[u8], sub: Option<&[u8]>) -> Result<&CommandDef, FindError<'_>> {
        let mut lower = [0u8; 64];
        let found = if name.len() <= lower.len() {
            let l = &mut lower[..name.len()];
            l.copy_from_slice(name);
            l.make_ascii_lowercase();
            self.by_name.get(&l[..]).map(|&id| &self.defs[id])
        } else {
            None
        };
        let def = found.ok_or(FindError::Command)?;
        let Some(sub) = sub.filter(|_| !def.subs.is_empty()) else {
            return Ok(def);
        };
        match def.subs.get(&sub.to_ascii_lowercase()) {
            Some(&id) => Ok(&self.defs[id]),
            None => Err(FindError::Subcommand(def)),
        }
    }

    /// A command by the command table's name, whatever `rename-command` did.
    pub fn get(&self, name: &[u8]) -> Option<&CommandDef> {
        self.original.get(&name.to_ascii_lowercase()).map(|&id| &self.defs[id])
    }

    /// `rename-command from to`: clients reach the command as `to` only,
    /// or not at all when `to` is empty. The names were checked at load.
    fn rename(&mut self, from: &str, to: &str) {
        if let Some(id) = self.by_name.remove(from.to_ascii_lowercase().as_bytes()) {
            if !to.is_empty() {
                self.by_name.insert(to.to_ascii_lowercase().into_bytes(), id);
            }
        }
    }

    /// Top-level commands, in registration order.
    pub fn top_level(&self) -> impl Iterator<Item = &CommandDef> {
        self.by_name.values().map(move |&id| &self.defs[id])
    }
}

fn acl_id(spec: &'static CommandSpec) -> crate::acl::catalog::CommandId {
    crate::acl::catalog::catalog().id_of(spec).unwrap_or_else(|| panic!("command {} is not in the ACL catalog", spec.full_name))
}

/// Why [`Registry::find_parts`] found nothing.
pub enum FindError<'a> {
    Command,
    /// The container exists but not this subcommand.
    Subcommand(&'a CommandDef),
}

fn container_without_subcommand(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    Err(CmdError::UnknownSubcommand {
        cmd: ctx.spec.name.to_string(),
        sub: String::from_utf8_lossy(args.get(1)).into_owned(),
    })
}

fn unknown_command(args: &Args<'_>) -> CmdError {
    let mut list = String::new();
    for a in args.iter().skip(1) {
        if list.len() >= 128 {
            break;
        }
        let room = 128 - list.len();
        let s = String::from_utf8_lossy(a);
        let s: String = s.chars().take(room).collect();
        list.push('\'');
        list.push_str(&s);
        list.push_str("' ");
    }
    let name = String::from_utf8_lossy(args.get(0));
    let name: String = name.chars().take(128).collect();
    CmdError::err(format!("unknown command '{name}', with args beginning with: {list}"))
}

static REGISTRY: OnceLock<Registry> = OnceLock::new();
static RENAMES: OnceLock<Vec<(String, String)>> = OnceLock::new();

/// The registry, built once from every family's `register`, with the
/// `rename-command` lines given to [`rename_commands`] applied.
pub fn registry() -> &'static Registry {
    REGISTRY.get_or_init(|| {
        let mut r = Registry::new();
        crate::cmd::register_all(&mut r);
        for (from, to) in RENAMES.get().into_iter().flatten() {
            r.rename(from, to);
        }
        r
    })
}

/// Record the config's `rename-command` lines; called at start-up, before
/// the first command is looked up (later calls, and calls after that first
/// lookup, change nothing).
pub fn rename_commands(renames: Vec<(String, String)>) {
    let _ = RENAMES.set(renames);
}

/// The implemented top-level command names, before any rename (what
/// `rename-command` lines are checked against).
pub fn command_names() -> Vec<&'static str> {
    let mut r = Registry::new();
    crate::cmd::register_all(&mut r);
    r.defs.iter().filter(|d| !d.spec.full_name.contains('|')).map(|d| d.spec.full_name).collect()
}

/// What a handler sees: the server, the calling client, its database and
/// the reply buffer.
pub struct Ctx<'a> {
    pub srv: &'a mut Server,
    pub client_id: ClientId,
    pub db: usize,
    pub out: &'a mut Reply,
    pub spec: &'static CommandSpec,
}

impl Ctx<'_> {
    pub fn client(&mut self) -> &mut Client {
        self.srv.clients.map.get_mut(&self.client_id).expect("the running client is registered")
    }
}

/// What the connection must do after a command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    Continue,
    /// Stop executing this batch and close once replies are written.
    Close,
    /// CLIENT PAUSE holds this command: wait, then run it again.
    Paused,
    /// The command blocked the client on keys: wait for its reply.
    Blocked,
    /// WAIT waits for replica acknowledgements: run it again once woken or
    /// at this deadline (None: no deadline).
    Wait(Option<i64>),
}

/// Run one command for `client_id` (processCommand + call), on the clock
/// of the batch it belongs to.
pub fn execute(srv: &mut Server, client_id: ClientId, args: &Args<'_>, out: &mut Reply, clock: &mut BatchClock) -> Flow {
    // Without tracking clients nothing is invalidated, so no client needs
    // to be current (a command that turns tracking on runs as none).
    if srv.tracking.clients == 0 {
        return execute_current(srv, client_id, args, out, clock);
    }
    srv.tracking.current = client_id;
    let flow = execute_current(srv, client_id, args, out, clock);
    // The client's own invalidations follow its reply, even one CLIENT
    // REPLY dropped (they are pushes, not replies).
    if srv.tracking.has_pending() {
        crate::tracking::flush_pending(srv, out);
    }
    crate::tracking::command_done(srv, client_id, args.get(0));
    srv.tracking.current = 0;
    flow
}

/// [`execute`] for the client it made current.
fn execute_current(srv: &mut Server, client_id: ClientId, args: &Args<'_>, out: &mut Reply, clock: &mut BatchClock) -> Flow {
    let reg = registry();
    // One wall-clock time is the command's time and the start of its
    // duration, as Redis's call() times commands with ustime().
    let start_us = clock.start_us();
    let now = start_us / 1000;
    srv.db.now_ms = now;
    let Some(client) = srv.clients.map.get_mut(&client_id) else {
        return Flow::Close;
    };
    if client.killed {
        return Flow::Close;
    }
    client.last_interaction_ms = now;
    let mut reply_start = out.len();
    let skipping = client.reply_mode == ReplyMode::Skipping;
    let result = check_and_call(srv, reg, client_id, args, out, &mut reply_start, start_us, clock);
    if let Err(Rejected::Paused) = result {
        return Flow::Paused;
    }
    if let Some(deadline) = srv.wait_retry.take() {
        return Flow::Wait(deadline);
    }
    if let Err(Rejected::Error) = result {
        // A command refused while queuing dooms the transaction (flagTransaction).
        if let Some(m) = srv.clients.map.get_mut(&client_id).and_then(|c| c.multi.as_mut()) {
            m.abort();
        }
    }
    // Writes may have given blocked clients what they wait for.
    crate::blocking::serve_ready(srv);
    if std::mem::take(&mut srv.blocking.blocked_now) {
        return Flow::Blocked;
    }
    let Some(client) = srv.clients.map.get_mut(&client_id) else {
        return Flow::Close;
    };
    // CLIENT REPLY: OFF drops replies until ON; SKIP drops the next
    // command's reply only (resetClient's SKIP_NEXT → SKIP dance).
    // CLIENT REPLY ON clears a pending SKIP before replying, so its own OK
    // is sent.
    let turned_on = skipping && client.reply_mode == ReplyMode::On;
    let drop_reply = (skipping && !turned_on) || matches!(client.reply_mode, ReplyMode::Off | ReplyMode::SkipNext);
    client.reply_mode = match client.reply_mode {
        ReplyMode::SkipNext => ReplyMode::Skipping,
        ReplyMode::Skipping if skipping => ReplyMode::On,
        m => m,
    };
    if drop_reply {
        out.buf.truncate(reply_start);
    }
    let close = client.close_after_reply || client.killed;
    if close {
        Flow::Close
    } else {
        Flow::Continue
    }
}

enum Rejected {
    Error,
    Paused,
}

#[allow(clippy::too_many_arguments)]
fn check_and_call(
    srv: &mut Server,
    reg: &Registry,
    client_id: ClientId,
    args: &Args<'_>,
    out: &mut Reply,
    reply_start: &mut usize,
    start_us: i64,
    clock: &mut BatchClock,
) -> Result<(), Rejected> {
    let now = start_us / 1000;
    let def = match reg.find(args) {
        Ok(def) => def,
        Err(e) => {
            reject(srv, client_id, None, out, &e);
            return Err(Rejected::Error);
        }
    };
    let spec = def.spec;
    let argc = args.len() as i32;
    if (spec.arity > 0 && spec.arity != argc) || argc < -spec.arity {
        reject(srv, client_id, Some(def.id), out, &CmdError::Arity(spec.full_name.to_string()));
        return Err(Rejected::Error);
    }
    // A script's declared flags stand for EVAL's and FCALL's own
    // (evalGetCommandFlags, fcallGetCommandFlags).
    let flags = if crate::cmd::scripting::runs_script(spec) { crate::cmd::scripting::command_flags(srv, spec, args) } else { spec.flags };
    let client = srv.clients.map.get_mut(&client_id).expect("client registered");
    if spec.flags.contains(CmdFlags::PROTECTED) && spec.full_name == "debug" {
        let allowed = match srv.config.get_str("enable-debug-command").as_str() {
            "yes" => true,
            "local" => client.is_local(),
            _ => false,
        };
        if !allowed {
            let e = CmdError::err("DEBUG command not allowed. If the enable-debug-command option is set to \"local\", you can run it from a local connection, otherwise you need to set this option in the configuration file, and then restart the server.");
            reject(srv, client_id, Some(def.id), out, &e);
            return Err(Rejected::Error);
        }
    }
    let client = srv.clients.map.get_mut(&client_id).expect("client registered");
    let user = client.user;
    if !client.authenticated && srv.acl.auth_required() && !spec.flags.contains(CmdFlags::NO_AUTH) {
        reject(srv, client_id, Some(def.id), out, &CmdError::NoAuth);
        return Err(Rejected::Error);
    }
    // ACLs: a user allowed everything costs this one test.
    if !srv.acl.unrestricted(user) {
        let argv: Vec<&[u8]> = args.iter().collect();
        if let Err(e) = crate::acl::check_client(srv, client_id, def.acl_id, spec, &argv) {
            reject(srv, client_id, Some(def.id), out, &e);
            return Err(Rejected::Error);
        }
    }
    // EXEC is what it queued: a write if one of them is, and so on
    // (processCommand's is_write_command, is_denyoom_command...).
    let (queued, queued_not_stale) = if spec.name == "exec" {
        srv.clients.map.get(&client_id).and_then(|c| c.multi.as_ref()).map_or((CmdFlags::empty(), false), |m| m.queued_flags())
    } else {
        (CmdFlags::empty(), false)
    };
    let (from_master, postponed) = srv.clients.map.get(&client_id).map_or((false, false), |c| (srv.master.is_some() && c.is_master, c.postponed));
    if srv.pause.is_some_and(|p| p.until_ms <= now) {
        srv.pause = None;
    }
    // CLIENT PAUSE holds the master's stream too (its task waits for the
    // unpause), so a paused replica's offset stands still; FAILOVER's own
    // pause is the old master's and never holds what its new master sends.
    let pause = if from_master { srv.pause } else { srv.current_pause() };
    if let Some(p) = pause {
        let may_replicate = CmdFlags::WRITE | CmdFlags::MAY_REPLICATE;
        let held = !p.write_only || flags.intersects(may_replicate) || queued.intersects(may_replicate);
        if held {
            srv.clients.set_postponed(client_id, true);
            return Err(Rejected::Paused);
        }
    }
    if postponed {
        srv.clients.set_postponed(client_id, false);
    }
    let is_write = flags.contains(CmdFlags::WRITE) || queued.contains(CmdFlags::WRITE);
    let is_denyoom = flags.contains(CmdFlags::DENYOOM) || queued.contains(CmdFlags::DENYOOM);
    let is_denystale = !flags.contains(CmdFlags::STALE) || queued_not_stale;
    if srv.master.is_some() && is_write && srv.config.get_bool("replica-read-only") {
        let client = srv.clients.map.get(&client_id).expect("client registered");
        if !client.is_master {
            reject(srv, client_id, Some(def.id), out, &CmdError::Coded("READONLY You can't write against a read only replica.".into()));
            return Err(Rejected::Error);
        }
    }
    // A replica cut off from its master with replica-serve-stale-data no
    // serves only what is flagged stale.
    if srv.master.is_some() && is_denystale && crate::replica::serving_stale_refused(srv) {
        reject(srv, client_id, Some(def.id), out, &CmdError::Coded("MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'.".into()));
        return Err(Rejected::Error);
    }
    // While the dataset loads only what is flagged `loading` runs (EXEC
    // never: what it queued may not be).
    if srv.rdb.loading.is_some() && (!flags.contains(CmdFlags::LOADING) || spec.name == "exec") {
        reject(srv, client_id, Some(def.id), out, &CmdError::Coded(crate::errors::LOADING.into()));
        return Err(Rejected::Error);
    }
    // Over maxmemory, keys are evicted first; if memory stays over with
    // nothing left to evict, commands that may grow the dataset are
    // refused, and so is queuing more into a transaction (processCommand).
    // Scripts keep the verdict for their writes (script_oom).
    srv.oom = srv.maxmemory > 0 && crate::evict::perform(srv) == crate::evict::Outcome::Fail;
    // The tracking table is kept within its size before each command, even
    // one only queued; what eviction and this invalidate for the client
    // itself goes out before its reply, which is about the data after them.
    if srv.tracking.clients > 0 {
        crate::tracking::limit_keys(srv);
        if srv.tracking.has_pending() {
            crate::tracking::flush_pending(srv, out);
            *reply_start = out.len();
        }
    }
    let queuing = !matches!(spec.name, "exec" | "discard" | "quit" | "reset")
        && srv.clients.map.get(&client_id).is_some_and(|c| c.multi.is_some());
    if srv.oom && (is_denyoom || queuing) && !from_master {
        reject(srv, client_id, Some(def.id), out, &CmdError::Coded("OOM command not allowed when used memory > 'maxmemory'.".into()));
        return Err(Rejected::Error);
    }
    if is_write && srv.min_replicas.0 > 0 && !crate::replication::enough_good_replicas(srv) {
        reject(srv, client_id, Some(def.id), out, &CmdError::Coded("NOREPLICAS Not enough good replicas to write.".into()));
        return Err(Rejected::Error);
    }
    if let Some(e) = srv.disk_error().filter(|_| !from_master) {
        // Writes that could not be persisted would be lost on restart
        // (writeCommandsDeniedByDiskError); PING too, as Redis refuses it.
        if is_write || spec.full_name == "ping" {
            reject(srv, client_id, Some(def.id), out, &CmdError::Coded(e.command_error()));
            return Err(Rejected::Error);
        }
    }
    let client = srv.clients.map.get_mut(&client_id).expect("client registered");
    if client.resp == 2 && client.subs.is_subscribed() && !crate::cmd::pubsub::allowed_while_subscribed(spec.full_name) {
        let e = CmdError::err(format!(
            "Can't execute '{}': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context",
            spec.full_name
        ));
        reject(srv, client_id, Some(def.id), out, &e);
        return Err(Rejected::Error);
    }
    if let Some(tx) = client.multi.as_mut().filter(|_| !crate::cmd::multi::runs_inside_multi(spec.name)) {
        if spec.flags.contains(CmdFlags::NO_MULTI) {
            reject(srv, client_id, Some(def.id), out, &CmdError::err("Command not allowed inside a transaction"));
            return Err(Rejected::Error);
        }
        tx.queue(args, flags);
        out.simple(b"QUEUED");
        return Ok(());
    }
    run(srv, def, client_id, args, out, start_us, clock);
    Ok(())
}

/// A command EXEC runs from its queue: checked when it was queued, so it
/// goes straight to its handler (execCommand's call()).
pub fn execute_queued(srv: &mut Server, client_id: ClientId, args: &Args<'_>, out: &mut Reply) {
    let mut clock = BatchClock::default();
    let start_us = clock.start_us();
    srv.db.now_ms = start_us / 1000;
    match registry().find(args) {
        Ok(def) => {
            // The rules may have changed since the command was queued.
            let user = srv.clients.map.get(&client_id).map_or(crate::acl::DEFAULT_USER, |c| c.user);
            if !srv.acl.unrestricted(user) {
                let argv: Vec<&[u8]> = args.iter().collect();
                if let Err(e) = crate::acl::check_queued(srv, client_id, def.acl_id, def.spec, &argv) {
                    count_error(srv, &e);
                    out.error(&e.to_string());
                    return;
                }
            }
            run(srv, def, client_id, args, out, start_us, &mut clock)
        }
        // Queued commands were found when queued; the registry is fixed.
        Err(e) => out.error(&e.to_string()),
    }
}

/// Run a command read from the AOF (loadSingleAppendOnlyFile's
/// `cmd->proc`): straight to its handler, with no statistics, no
/// propagation and no reply (error replies included, as in Redis). Only an
/// unknown command is an error: the file cannot be replayed.
pub fn execute_loaded(srv: &mut Server, client_id: ClientId, args: &Args<'_>, out: &mut Reply) -> Result<(), CmdError> {
    let def = registry().find(args)?;
    srv.db.now_ms = crate::clock::now_ms();
    let db = srv.clients.map.get(&client_id).map_or(0, |c| c.db);
    let mut ctx = Ctx { srv, client_id, db, out, spec: def.spec };
    let _ = (def.handler)(&mut ctx, args);
    let srv = ctx.srv;
    srv.propagate_as = None;
    srv.modified_keys = None;
    srv.force_propagate = false;
    if let Some(log) = srv.db.expired_log.as_mut() {
        log.clear();
    }
    Ok(())
}

/// A command a script runs with redis.call, checked by the script
/// (scriptCall): straight to its handler, at the script's frozen time.
pub fn run_from_script(srv: &mut Server, def: &CommandDef, client_id: ClientId, args: &Args<'_>, out: &mut Reply, clock: &mut BatchClock) {
    let start_us = clock.start_us();
    run(srv, def, client_id, args, out, start_us, clock);
}

/// Run a command's handler and everything that follows it: statistics,
/// watched keys, the replication stream (call()).
#[inline]
fn run(
    srv: &mut Server,
    def: &CommandDef,
    client_id: ClientId,
    args: &Args<'_>,
    out: &mut Reply,
    start_us: i64,
    clock: &mut BatchClock,
) {
    let reg = registry();
    let spec = def.spec;
    let paused = srv.master.is_none() && srv.clients_paused(srv.db.now_ms);
    let Some(client) = srv.clients.map.get_mut(&client_id) else { return };
    // A blocked client runs its command again when served: the call that
    // blocked it counts in this one's latency (updateStatsOnUnblock).
    let resumed_us = client.blocked.as_ref().map(|b| b.call_us);
    // WAIT runs again until enough replicas acknowledged; Redis blocks it
    // once, so only its first run counts.
    let wait_rerun = client.wait.is_some();
    client.last_cmd = spec.full_name;
    srv.db.no_touch = client.no_touch && spec.full_name != "touch";
    srv.db.expiry = match (&srv.master, client.is_master) {
        // While clients are paused nothing may change the dataset, expiry
        // included: expired keys are hidden until the pause ends
        // (checkClientPauseTimeoutAndReturnIfPaused).
        (None, _) if paused => crate::db::Expiry::Replica { writable: false },
        (None, _) => crate::db::Expiry::Master,
        (Some(_), true) => crate::db::Expiry::FromMaster,
        (Some(_), false) => crate::db::Expiry::Replica { writable: !srv.config.get_bool("replica-read-only") },
    };
    let db = client.db;
    out.resp3 = client.resp == 3;
    let dirty_before = srv.db.dirty;
    let flushed = watched_keys_a_flush_touches(srv, spec.full_name, db, args);
    let notify_before = (srv.notify_flags != 0 && spec.flags.contains(CmdFlags::WRITE)).then(|| crate::notify::before(srv, spec, db, args));
    let tracking = srv.tracking.clients > 0;
    let tracking_script = tracking && crate::cmd::scripting::runs_script(spec);
    if tracking_script {
        crate::tracking::script_begins(srv, client_id, spec, args);
    }
    let mut ctx = Ctx { srv, client_id, db, out, spec };
    let result = (def.handler)(&mut ctx, args);
    // A command that blocked counts when it is unblocked (served, timed out).
    let blocked = ctx.srv.blocking.blocked_now;
    after_command(ctx.srv, spec, client_id, db, args, dirty_before, flushed, notify_before);
    // After the invalidations: a key a read found expired is tracked again.
    // (Tracking turned on by this very command starts with the next one.)
    if tracking {
        crate::tracking::after_call(ctx.srv, spec, client_id, args);
        if tracking_script {
            crate::tracking::script_ends(ctx.srv);
        }
    }
    // A wall clock stepped backwards must not make a negative duration.
    let elapsed = (clock.end_us() - start_us).max(0) as u64;
    let srv = ctx.srv;
    if srv.cmd_stats.len() < reg.defs.len() {
        srv.cmd_stats.resize(reg.defs.len(), Default::default());
    }
    if !srv.monitors.is_empty() && !spec.flags.intersects(CmdFlags::SKIP_MONITOR | CmdFlags::ADMIN) {
        crate::cmd::server::feed_monitors(srv, client_id, args);
    }
    // A blocked command is logged once unblocked; a WAIT that waited, never
    // (Redis logs neither while the client is blocked).
    let total_us = elapsed + resumed_us.unwrap_or(0);
    if srv.slowlog.is_slow(total_us) && !blocked && !wait_rerun && srv.wait_retry.is_none() {
        log_slow(srv, spec, client_id, args, total_us, resumed_us.is_some());
    }
    if !wait_rerun {
        let event = if spec.flags.contains(CmdFlags::FAST) { "fast-command" } else { "command" };
        srv.latency_events.sample_if_needed(srv.latency_monitor_threshold, event, elapsed / 1000);
    }
    let st = &mut srv.cmd_stats[def.id];
    if wait_rerun {
        // Counted on its first run.
    } else if !blocked {
        st.calls += 1;
        st.usec += elapsed;
        // A WAIT that waits is a blocked client: no latency sample.
        if srv.latency_tracking && srv.wait_retry.is_none() {
            srv.cmd_latency.record(def.id, elapsed + resumed_us.unwrap_or(0));
        }
    } else if resumed_us.is_none() {
        if let Some(b) = srv.clients.map.get_mut(&client_id).and_then(|c| c.blocked.as_mut()) {
            b.call_us = elapsed;
        }
    }
    // A command run again for a blocked client was counted when it blocked.
    if resumed_us.is_none() && !wait_rerun {
        srv.stats.total_commands_processed += 1;
    }
    // Peak memory is sampled after each command, before the next one's
    // eviction can lower it (call()).
    crate::alloc::note_peak();
    if let Err(e) = result {
        srv.cmd_stats[def.id].failed_calls += 1;
        if !matches!(e, CmdError::Uncounted(_)) {
            count_error(srv, &e);
        }
        out.error(&e.to_string());
    }
}

/// A command [`run`] found slow, unless it is one the slow log leaves out.
#[cold]
fn log_slow(srv: &mut Server, spec: &CommandSpec, client_id: ClientId, args: &Args<'_>, duration_us: u64, resumed: bool) {
    // EXEC's commands are logged one by one instead of it.
    if spec.flags.contains(CmdFlags::SKIP_SLOWLOG) {
        return;
    }
    // Nor are a script's commands while the AOF is replayed (call()).
    if srv.db.loading && srv.clients.map.get(&client_id).is_some_and(|c| c.is_script) {
        return;
    }
    if resumed {
        crate::blocking::log_slow(srv, client_id, duration_us);
    } else {
        slowlog_push(srv, client_id, args, duration_us);
    }
}

/// Add a client's command to the slow log (slowlogPushCurrentCommand):
/// the arguments as sent, secrets redacted, with the client's address and
/// name.
pub fn slowlog_push(srv: &mut Server, client_id: ClientId, args: &Args<'_>, duration_us: u64) {
    let Some(c) = srv.clients.map.get(&client_id) else { return };
    let secret = crate::redact::secret_args(args, crate::config::Config::is_sensitive);
    // The scripts' client has no connection: Redis shows no address for it.
    let peer = if c.is_script { "?:0".to_string() } else { c.addr_string() };
    let origin = crate::slowlog::Origin { time: crate::clock::now_ms() / 1000, peer, name: c.name.as_deref().unwrap_or_default() };
    srv.slowlog.push(args.iter(), |i| secret.contains(&i), duration_us, origin);
}

/// What FLUSHDB, FLUSHALL or SWAPDB will do to watched keys, found before
/// the command changes the databases.
fn watched_keys_a_flush_touches(srv: &Server, name: &str, db: usize, args: &Args<'_>) -> Vec<(ClientId, usize, crate::cmd::multi::FlushEffect)> {
    use crate::cmd::multi::flush_effects;
    if srv.watching_clients == 0 {
        return Vec::new();
    }
    match name {
        "flushdb" => flush_effects(srv, db, None),
        "flushall" => (0..srv.db.dbs.len()).flat_map(|d| flush_effects(srv, d, None)).collect(),
        "swapdb" if args.len() == 3 => {
            match (db_index(args.get(1)), db_index(args.get(2))) {
                (Some(a), Some(b)) if a < srv.db.dbs.len() && b < srv.db.dbs.len() && a != b => {
                    let mut e = flush_effects(srv, a, Some(b));
                    e.extend(flush_effects(srv, b, Some(a)));
                    e
                }
                _ => Vec::new(),
            }
        }
        _ => Vec::new(),
    }
}

/// After a handler: wake the clients blocked on keys it changed, touch the
/// watched ones (and those that expired on the way), then feed the
/// replication stream.
#[allow(clippy::too_many_arguments)]
fn after_command(
    srv: &mut Server,
    spec: &CommandSpec,
    client_id: ClientId,
    db: usize,
    args: &Args<'_>,
    dirty_before: u64,
    flushed: Vec<(ClientId, usize, crate::cmd::multi::FlushEffect)>,
    notify_before: Option<Vec<(Vec<u8>, bool)>>,
) {
    // The common case: nobody replicates, watches, waits, tracks or is notified.
    if !crate::replication::propagating(srv)
        && srv.watching_clients == 0
        && srv.blocking.is_empty()
        && srv.notify_flags == 0
        && srv.tracking.clients == 0
    {
        srv.propagate_as = None;
        srv.modified_keys = None;
        srv.force_propagate = false;
        return;
    }
    let changed = srv.db.dirty != dirty_before || std::mem::take(&mut srv.force_propagate);
    let is_write = spec.flags.contains(CmdFlags::WRITE);
    let expired = srv.db.expired_log.as_mut().map(std::mem::take).unwrap_or_default();
    let modified = srv.modified_keys.take();
    // The notifications read them after the listeners consumed them.
    let modified_for_notify = if notify_before.is_some() { modified.clone() } else { None };
    let listening = srv.watching_clients > 0 || !srv.blocking.is_empty() || srv.tracking.clients > 0;
    if changed && is_write && listening {
        match spec.full_name {
            "swapdb" => args.iter().skip(1).filter_map(db_index).for_each(|d| srv.blocking.signal_db(d)),
            // A flushed stream wakes its XREADGROUP waiters (with an error).
            "flushdb" => srv.blocking.signal_db(db),
            "flushall" => (0..srv.db.dbs.len()).for_each(|d| srv.blocking.signal_db(d)),
            _ => {}
        }
        crate::cmd::multi::apply_flush_effects(srv, flushed);
        for (d, k) in changed_keys(spec, db, args, modified) {
            srv.blocking.signal(d, &k);
            crate::cmd::multi::touch(srv, d, &k);
            if srv.tracking.clients > 0 {
                crate::tracking::invalidate_key(srv, &k, Some(client_id), true);
            }
        }
    }
    expired_keys(srv, &expired);
    if let Some(before) = notify_before.filter(|_| changed && is_write) {
        let rewritten = srv.propagate_as.clone();
        crate::notify::after(srv, spec, db, args, &before, rewritten.as_deref(), modified_for_notify.as_deref());
    }
    crate::replication::after_command(srv, db, args, is_write, changed, &expired);
}

/// Keys that expired on the way: their watchers see a change and their
/// `expired` events go out (the DELs are propagated by the callers).
fn expired_keys(srv: &mut Server, expired: &[(usize, Vec<u8>)]) {
    for (d, k) in expired {
        crate::cmd::multi::touch(srv, *d, k);
        if srv.tracking.clients > 0 {
            crate::tracking::invalidate_key(srv, k, None, true);
        }
        crate::notify::notify(srv, crate::config::keyspace_events::EXPIRED, "expired", k, *d);
    }
}

/// A database index argument, unchecked against the database count.
fn db_index(a: &[u8]) -> Option<usize> {
    corvid_proto::resp::parse_i64(a).and_then(|v| usize::try_from(v).ok())
}

/// The keys a write changed (signalModifiedKey): those the command named
/// itself in `modified`, else every key it takes, with MOVE's and COPY's key
/// in the other database.
fn changed_keys(spec: &CommandSpec, db: usize, args: &Args<'_>, modified: Option<Vec<(usize, Vec<u8>)>>) -> Vec<(usize, Vec<u8>)> {
    if let Some(keys) = modified {
        return keys;
    }
    let argv: Vec<&[u8]> = args.iter().collect();
    let mut keys: Vec<(usize, Vec<u8>)> =
        corvid_proto::command_table::extract_keys(spec, &argv).iter().map(|k| (db, argv[k.pos].to_vec())).collect();
    match spec.full_name {
        "move" if argv.len() == 3 => keys.extend(db_index(argv[2]).map(|d| (d, argv[1].to_vec()))),
        "copy" => {
            let target = argv.iter().position(|a| a.eq_ignore_ascii_case(b"db")).and_then(|i| argv.get(i + 1));
            keys.extend(target.and_then(|a| db_index(a)).map(|d| (d, argv[2].to_vec())));
        }
        _ => {}
    }
    keys
}

/// After the cron's active expiry: the same bookkeeping for the keys it
/// deleted.
pub fn after_expiry(srv: &mut Server) {
    let expired = srv.db.expired_log.as_mut().map(std::mem::take).unwrap_or_default();
    if expired.is_empty() {
        return;
    }
    expired_keys(srv, &expired);
    for (d, key) in &expired {
        crate::replication::propagate(srv, *d, &[b"DEL", key]);
    }
}

/// Refuse a command before it runs (rejectCommand): it dooms the
/// client's transaction, and a refused EXEC discards it.
pub fn reject(srv: &mut Server, client_id: ClientId, id: Option<usize>, out: &mut Reply, e: &CmdError) {
    count_rejection(srv, id, e);
    let is_exec = id.is_some_and(|id| registry().defs[id].spec.name == "exec");
    if let Some(m) = srv.clients.map.get_mut(&client_id).and_then(|c| c.multi.as_mut()) {
        if is_exec {
            if let Some(c) = srv.clients.map.get_mut(&client_id) {
                c.multi = None;
            }
            crate::cmd::multi::unwatch_all(srv, client_id);
            out.error(&format!("EXECABORT Transaction discarded because of: {e}"));
            return;
        }
        m.abort();
    }
    out.error(&e.to_string());
}

/// Count a command refused before it ran (rejected_calls, error stats).
pub fn count_rejection(srv: &mut Server, id: Option<usize>, e: &CmdError) {
    if let Some(id) = id {
        if srv.cmd_stats.len() <= id {
            srv.cmd_stats.resize(registry().defs.len(), Default::default());
        }
        srv.cmd_stats[id].rejected_calls += 1;
    }
    count_error(srv, e);
}

/// Count an error reply (total_error_replies, errorstats).
pub fn count_error(srv: &mut Server, e: &CmdError) {
    srv.stats.total_error_replies += 1;
    *srv.stats.errors.entry(e.code().to_string()).or_insert(0) += 1;
}
