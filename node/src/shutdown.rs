//! Shutting down as Redis 7.0 does (prepareForShutdown, finishShutdown).
//!
//! A signal (through the cron, so it runs between commands) or SHUTDOWN
//! starts it. With replicas behind and `shutdown-timeout` set, writes pause,
//! the replicas are asked for their offsets, and the cron waits for them to
//! catch up, at most that long; SHUTDOWN's client stays blocked meanwhile,
//! and SHUTDOWN ABORT cancels. Then the final save and the exit, or, if the
//! save or the initial AOF stands in the way, an error to every waiting
//! client and the server goes on.

use std::sync::atomic::{AtomicBool, Ordering};

use crate::client::ClientId;
use crate::server::{Server, ShutdownRequest};

pub use crate::config::table::shutdown::{FORCE, NOSAVE, NOW, SAVE};

/// Which signal asked for the shutdown (last_sig_received).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    Int,
    Term,
}

impl Signal {
    fn config(self) -> &'static str {
        match self {
            Signal::Int => "shutdown-on-sigint",
            Signal::Term => "shutdown-on-sigterm",
        }
    }
}

/// Where a shutdown stands.
#[derive(Debug, Default)]
pub struct State {
    /// A signal asked for a shutdown (shutdown_asap); it stays set until
    /// the shutdown ends or is cancelled, so a second SIGINT means "now".
    /// Set through [`State::set_asap`], which the signal handler sees.
    asap: Option<Signal>,
    /// Started and waiting for replicas: its flags and its deadline in
    /// Unix ms (shutdown_flags, shutdown_mstime).
    pub initiated: Option<(i32, i64)>,
    /// Clients blocked in SHUTDOWN: they get the error if it fails.
    waiters: Vec<ClientId>,
}

/// `State::asap` for the SIGINT handler, which cannot take the lock.
static SIGNAL_PENDING: AtomicBool = AtomicBool::new(false);

impl State {
    fn set_asap(&mut self, sig: Option<Signal>) {
        self.asap = sig;
        SIGNAL_PENDING.store(sig.is_some(), Ordering::SeqCst);
    }
}

/// A second SIGINT while a signal's shutdown is pending exits at once,
/// from the handler itself (sigShutdownHandler): the event loop may be
/// blocked in the final save, whose temp file goes first. The first
/// signal takes the ordinary way, through the event loop ([`signal`]).
pub fn install_insist_handler() {
    // SAFETY: the action reads an atomic and calls only async-signal-safe
    // functions (getpid, unlink, write, _exit), with stack buffers.
    let _ = unsafe { signal_hook_registry::register(libc::SIGINT, insist) };
}

fn insist() {
    if !SIGNAL_PENDING.load(Ordering::SeqCst) {
        return;
    }
    crate::log::from_handler("You insist... exiting now.");
    // rdbRemoveTempFile(getpid(), 1): the foreground save's temp-<pid>.rdb,
    // in the working directory.
    let mut name = [0u8; 40];
    let mut pid = itoa::Buffer::new();
    // SAFETY: getpid is async-signal-safe.
    let pid = pid.format(unsafe { libc::getpid() }).as_bytes();
    let parts: [&[u8]; 3] = [b"temp-", pid, b".rdb"];
    let mut at = 0;
    for p in parts {
        name[at..at + p.len()].copy_from_slice(p);
        at += p.len();
    }
    // SAFETY: `name` is NUL-terminated (zeroed past `at`); unlink and
    // _exit are async-signal-safe.
    unsafe {
        libc::unlink(name.as_ptr().cast());
        libc::_exit(1);
    }
}

/// What [`prepare`] or [`finish`] came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Everything is saved: the process exits now.
    Exit,
    /// Waiting for replicas; the cron finishes it.
    Waiting,
    /// It could not be done; the server goes on (errors are logged).
    Failed,
}

/// The error SHUTDOWN's clients get when it fails.
pub const FAILED_REPLY: &str = "Errors trying to SHUTDOWN. Check logs.";

/// Start a shutdown with SHUTDOWN's `flags`. A shutdown already waiting
/// is not started again: the caller waits for that one.
pub fn prepare(srv: &mut Server, flags: i32) -> Outcome {
    if srv.shutting.initiated.is_some() {
        return Outcome::Waiting;
    }
    // Half a dataset is never saved over the file it is loading from.
    let flags = if srv.rdb.loading.is_some() { (flags & !SAVE) | NOSAVE } else { flags };
    tracing::warn!("User requested shutdown...");
    let timeout_secs = srv.config.get_i64("shutdown-timeout");
    if flags & NOW == 0 && timeout_secs != 0 && !replicas_in_sync(srv) {
        srv.shutting.initiated = Some((flags, crate::clock::now_ms() + timeout_secs * 1000));
        // (Under a pause the offset already stands still and the acks come.)
        if srv.current_pause().is_none() {
            crate::replication::request_acks(srv);
        }
        tracing::info!("Waiting for replicas before shutting down.");
        return Outcome::Waiting;
    }
    finish(srv, flags)
}

/// Whether every replica has acknowledged the whole stream (isReadyToShutdown).
fn replicas_in_sync(srv: &Server) -> bool {
    let offset = srv.replicas.offset;
    srv.replicas.ids.iter().all(|id| srv.clients.map.get(id).is_none_or(|c| c.repl_ack_offset == offset))
}

/// The cron's part: a signal's shutdown starts here, between commands; a
/// waiting one ends when the replicas caught up or time is up. Whether the
/// process is to exit.
pub fn cron(srv: &mut Server, now_ms: i64) -> bool {
    match (srv.shutting.initiated, srv.shutting.asap) {
        (None, Some(signal)) => {
            let flags = srv.config.get_i64(signal.config()) as i32;
            prepare(srv, flags) == Outcome::Exit
        }
        (Some((flags, deadline)), _) if now_ms >= deadline || replicas_in_sync(srv) => finish(srv, flags) == Outcome::Exit,
        _ => false,
    }
}

/// Save what must be saved and get ready to exit (finishShutdown); on an
/// error the shutdown is cancelled.
pub fn finish(srv: &mut Server, flags: i32) -> Outcome {
    let (nosave, save, force) = (flags & NOSAVE != 0, flags & SAVE != 0, flags & FORCE != 0);
    log_replicas(srv);
    if srv.rdb.bgsave().is_some() {
        tracing::warn!("There is a child saving an .rdb. Killing it!");
        crate::snapshot::abort(srv);
    }
    if srv.aof.on {
        // AOF just turned on and its first rewrite not done: the files do
        // not hold the dataset yet.
        if srv.aof.initial_rewrite {
            if force {
                tracing::warn!("Writing initial AOF. Exit anyway.");
            } else {
                tracing::warn!("Writing initial AOF, can't exit.");
                return failed(srv);
            }
        }
        if srv.rdb.aof_rewrite().is_some() {
            tracing::warn!("There is a child rewriting the AOF. Killing it!");
            crate::snapshot::abort(srv);
        }
        tracing::info!("Calling fsync() on the AOF file.");
        srv.aof.sync_now();
    }
    if ((!srv.config.save_params().is_empty() && !nosave) || save) && srv.rdb.loading.is_none() && !crate::cmd::server::final_save(srv, force) {
        return failed(srv);
    }
    if let Some(path) = &srv.pidfile {
        tracing::info!("Removing the pid file.");
        let _ = std::fs::remove_file(path);
    }
    let unixsocket = srv.config.get_str("unixsocket");
    if !unixsocket.is_empty() {
        tracing::info!("Removing the unix socket file.");
        if let Err(e) = std::fs::remove_file(&unixsocket) {
            tracing::warn!("Error removing the unix socket file: {e}");
        }
    }
    tracing::warn!("Corvid is now ready to exit, bye bye...");
    srv.shutdown = Some(ShutdownRequest);
    Outcome::Exit
}

/// The lagging replicas, then how many are in sync.
fn log_replicas(srv: &Server) {
    let offset = srv.replicas.offset;
    let now_secs = crate::clock::now_secs();
    let mut lagging = 0;
    for c in srv.replicas.ids.iter().filter_map(|id| srv.clients.map.get(id)) {
        if c.repl_ack_offset == offset {
            continue;
        }
        lagging += 1;
        let state = c.repl_state.name();
        let online = c.repl_state == crate::client::ReplState::Online;
        let lag = if online { now_secs - c.repl_ack_time_ms / 1000 } else { 0 };
        tracing::warn!(
            "Lagging replica {}:{} reported offset {} behind master, lag={lag}, state={state}.",
            c.replica_ip(),
            c.repl_listening_port,
            offset.saturating_sub(c.repl_ack_offset)
        );
    }
    let total = srv.replicas.ids.len();
    if total > 0 {
        tracing::info!("{} of {total} replicas are in sync when shutting down.", total - lagging);
    }
}

fn failed(srv: &mut Server) -> Outcome {
    tracing::warn!("Errors trying to shut down the server. Check the logs for more information.");
    cancel(srv);
    Outcome::Failed
}

/// Block SHUTDOWN's client until the shutdown it waits for ends.
pub fn wait(srv: &mut Server, id: ClientId) {
    if !srv.shutting.waiters.contains(&id) {
        srv.shutting.waiters.push(id);
    }
}

/// Forget a waiting client that went away.
pub fn forget(srv: &mut Server, id: ClientId) {
    srv.shutting.waiters.retain(|&w| w != id);
}

/// Call the shutdown off: its waiters get the error and writes resume
/// (cancelShutdown).
fn cancel(srv: &mut Server) {
    srv.shutting.set_asap(None);
    srv.shutting.initiated = None;
    for id in std::mem::take(&mut srv.shutting.waiters) {
        let Some(resp3) = srv.clients.map.get(&id).map(|c| c.resp == 3) else { continue };
        // (One CLIENT UNBLOCK already answered is left alone.)
        if !crate::blocking::unblock_counted(srv, id, true) {
            continue;
        }
        let e = crate::errors::CmdError::err(FAILED_REPLY);
        crate::dispatch::count_error(srv, &e);
        let mut reply = corvid_proto::resp::Reply::new(resp3);
        reply.error(&e.to_string());
        if let Some(c) = srv.clients.map.get_mut(&id) {
            c.blocked_reply = Some(reply.buf);
            c.wake.notify_one();
        }
    }
    srv.wake_paused = true;
}

/// SHUTDOWN ABORT: cancel a waiting shutdown, or forget a signal's that has
/// not started; false when there is neither (abortShutdown).
pub fn abort(srv: &mut Server) -> bool {
    if srv.shutting.initiated.is_some() {
        cancel(srv);
    } else if srv.shutting.asap.is_some() {
        srv.shutting.set_asap(None);
    } else {
        return false;
    }
    tracing::info!("Shutdown manually aborted.");
    true
}

/// A SIGTERM or SIGINT arrived: the cron starts the shutdown. (A second
/// SIGINT never gets here: [`install_insist_handler`]'s action exits.)
pub fn signal(srv: &mut Server, sig: Signal) {
    if srv.rdb.loading.is_some() {
        tracing::warn!("Received shutdown signal during loading, scheduling shutdown.");
    } else {
        match sig {
            Signal::Int => tracing::warn!("Received SIGINT scheduling shutdown..."),
            Signal::Term => tracing::warn!("Received SIGTERM scheduling shutdown..."),
        }
    }
    srv.shutting.set_asap(Some(sig));
}

/// INFO's `shutdown_in_milliseconds`, while a shutdown waits.
pub fn remaining_ms(srv: &Server, now_ms: i64) -> Option<i64> {
    srv.shutting.initiated.map(|(_, deadline)| (deadline - now_ms).max(0))
}
