//! Serving other clients while a script is too slow (Redis's
//! processEventsWhileBlocked for scripts): past `busy-reply-threshold` the
//! script is marked timed out, connections stop waiting for the server's
//! lock and queue their commands here, and the script's hook runs them
//! between two batches of Lua instructions, with the server it holds.

use std::os::fd::RawFd;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock, Weak};

use corvid_proto::command_table::CmdFlags;
use corvid_proto::resp::{ArgVec, Reply};
use tokio::sync::oneshot;

use crate::client::ClientId;
use crate::errors::CmdError;
use crate::server::{Server, Shared};
use super::busy_io::Adopted;

/// Work handed to the busy script's hook, to run with the server it holds.
type Job = Box<dyn FnOnce(&mut Server) + Send>;

/// The reply to a command run while busy, and whether the connection
/// closes after it (SHUTDOWN).
pub struct Answer {
    pub bytes: Vec<u8>,
    pub close: bool,
}

/// What connections share with the running script (behind no lock but
/// its own, so that they can reach it while the script holds the server).
#[derive(Default)]
pub struct Watch {
    timed_out: AtomicBool,
    queue: Mutex<Vec<Job>>,
    /// The runtime runs on one thread: while busy, a thread of ours
    /// serves the sockets (see [`super::busy_io`]).
    single_thread: AtomicBool,
    listeners: Mutex<Vec<RawFd>>,
    shared: OnceLock<Weak<Shared>>,
    /// Stops the I/O thread of the current busy period.
    io_stop: Mutex<Option<Arc<AtomicBool>>>,
    /// Connections accepted while busy, for the listener.
    adopted: Mutex<Vec<Adopted>>,
    pub adopt_ready: tokio::sync::Notify,
}

impl Watch {
    /// A script has run past the busy threshold and is not done.
    #[inline]
    pub fn timed_out(&self) -> bool {
        self.timed_out.load(Ordering::Acquire)
    }

    /// Queue `f` for the busy script's hook; `f` back when no script is
    /// busy (take the lock instead). Every queued job runs: the hook runs
    /// them, and whatever is left when the script ends runs then.
    pub fn submit<T, F>(&self, f: F) -> Result<oneshot::Receiver<T>, F>
    where
        T: Send + 'static,
        F: FnOnce(&mut Server) -> T + Send + 'static,
    {
        let mut q = self.queue.lock().unwrap_or_else(|e| e.into_inner());
        // Checked under the queue's lock: `end` clears the flag under it
        // too, so no job is left behind.
        if !self.timed_out() {
            return Err(f);
        }
        let (tx, rx) = oneshot::channel();
        q.push(Box::new(move |srv: &mut Server| {
            let _ = tx.send(f(srv));
        }));
        Ok(rx)
    }

    fn start_timeout(&self) {
        let _q = self.queue.lock().unwrap_or_else(|e| e.into_inner());
        self.timed_out.store(true, Ordering::Release);
    }

    /// Set at start: the shared state, the listening sockets, and whether
    /// the runtime has a single thread.
    pub fn attach(&self, shared: &Arc<Shared>, listeners: Vec<RawFd>, single_thread: bool) {
        let _ = self.shared.set(Arc::downgrade(shared));
        *self.listeners.lock().unwrap_or_else(|e| e.into_inner()) = listeners;
        self.single_thread.store(single_thread, Ordering::Relaxed);
    }

    /// The listening sockets to poll while a script is busy.
    pub fn set_listeners(&self, listeners: Vec<RawFd>) {
        *self.listeners.lock().unwrap_or_else(|e| e.into_inner()) = listeners;
    }

    pub fn shared(&self) -> Option<Arc<Shared>> {
        self.shared.get()?.upgrade()
    }

    pub fn adopt(&self, conns: Vec<Adopted>) {
        self.adopted.lock().unwrap_or_else(|e| e.into_inner()).extend(conns);
        self.adopt_ready.notify_one();
    }

    pub fn take_adopted(&self) -> Vec<Adopted> {
        std::mem::take(&mut *self.adopted.lock().unwrap_or_else(|e| e.into_inner()))
    }

    fn take(&self) -> Vec<Job> {
        std::mem::take(&mut *self.queue.lock().unwrap_or_else(|e| e.into_inner()))
    }

    /// Stop the I/O thread of this busy period, if any.
    pub fn stop_io(&self) {
        if let Some(stop) = self.io_stop.lock().unwrap_or_else(|e| e.into_inner()).take() {
            stop.store(true, Ordering::Release);
        }
    }

    /// The script is over: stop the I/O thread, run what is still queued.
    pub fn end(&self, srv: &mut Server) {
        // Nothing is queued, and no I/O thread runs, unless the script
        // timed out (submit checks the flag under the queue's lock).
        if !self.timed_out() {
            return;
        }
        self.stop_io();
        let jobs = {
            let mut q = self.queue.lock().unwrap_or_else(|e| e.into_inner());
            self.timed_out.store(false, Ordering::Release);
            std::mem::take(&mut *q)
        };
        for job in jobs {
            job(srv);
        }
    }
}

/// Called by the script's hook: time the script out once it passed the
/// threshold, then serve the queued commands. True when the script must
/// stop (killed, or the server is shutting down).
pub fn interrupt(srv: &mut Server) -> bool {
    let Some(run) = srv.scripting.running.as_mut() else { return false };
    if !run.timed_out {
        let elapsed = run.start.elapsed().as_millis() as u64;
        if elapsed < run.threshold_ms {
            return false;
        }
        run.timed_out = true;
        tracing::warn!(
            "Slow script detected: still in execution after {elapsed} milliseconds. You can try killing the script using the {} command. Script name is: {}.",
            if run.eval_mode { "SCRIPT KILL" } else { "FUNCTION KILL" },
            run.funcname
        );
        let caller = run.caller;
        let watch = srv.scripting.watch.clone();
        watch.start_timeout();
        if watch.single_thread.load(Ordering::Relaxed) {
            let clients: Vec<(ClientId, RawFd)> = srv.clients.map.values().filter(|c| c.fd >= 0 && c.id != caller).map(|c| (c.id, c.fd)).collect();
            let listeners = watch.listeners.lock().unwrap_or_else(|e| e.into_inner()).clone();
            let stop = super::busy_io::start(watch.clone(), clients, listeners);
            *watch.io_stop.lock().unwrap_or_else(|e| e.into_inner()) = Some(stop);
        }
    }
    let watch = srv.scripting.watch.clone();
    for job in watch.take() {
        job(srv);
    }
    if srv.shutdown.is_some() {
        return true;
    }
    srv.scripting.running.as_ref().is_some_and(|r| r.killed)
}

/// Run a client's command while a script is busy: those flagged
/// allow-busy run as usual, the rest get BUSY. None once no script runs:
/// the connection then runs it the ordinary way.
pub fn serve(srv: &mut Server, client: ClientId, argv: &ArgVec) -> Option<Answer> {
    let run = srv.scripting.running.as_ref()?;
    let eval = run.eval_mode;
    let args = argv.args();
    let resp3 = srv.clients.map.get(&client).is_some_and(|c| c.resp == 3);
    let mut out = Reply::new(resp3);
    let def = crate::dispatch::registry().find(&args).ok();
    // A script replayed from the AOF is busy while the dataset loads:
    // -LOADING comes first, as processCommand checks it first.
    let loading = srv.db.loading || srv.rdb.loading.is_some();
    if loading && !def.is_some_and(|d| d.spec.flags.contains(CmdFlags::LOADING)) {
        let e = CmdError::Coded(crate::errors::LOADING.into());
        crate::dispatch::reject(srv, client, def.map(|d| d.id), &mut out, &e);
        return Some(Answer { bytes: out.buf, close: false });
    }
    if !def.is_some_and(|d| d.spec.flags.contains(CmdFlags::ALLOW_BUSY)) {
        let e = CmdError::Coded(format!(
            "BUSY Redis is busy running a script. You can only call {} or SHUTDOWN NOSAVE.",
            if eval { "SCRIPT KILL" } else { "FUNCTION KILL" }
        ));
        crate::dispatch::reject(srv, client, def.map(|d| d.id), &mut out, &e);
        return Some(Answer { bytes: out.buf, close: false });
    }
    // The script's time stands still for its own commands.
    let now_ms = srv.db.now_ms;
    let in_exec = std::mem::replace(&mut srv.in_exec, false);
    let flow = crate::dispatch::execute(srv, client, &args, &mut out, &mut crate::clock::BatchClock::default());
    srv.in_exec = in_exec;
    srv.db.now_ms = now_ms;
    if srv.shutdown.is_some() {
        // No more clients: the process is about to exit.
        srv.scripting.watch.stop_io();
    }
    Some(Answer { bytes: out.buf, close: flow == crate::dispatch::Flow::Close })
}
