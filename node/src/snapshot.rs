//! Fork-less point-in-time snapshots: BGSAVE (DESIGN.md, "Keyspace").
//!
//! Redis forks and lets the child write the dataset while the kernel copies
//! every page the parent changes meanwhile: on a busy node the copy nears
//! the dataset's size. Here the node writes its own tables, a slice at a
//! time between client batches, and a write to a segment not yet written
//! writes that segment first (`keyspace::Table`'s snapshot hook). The file
//! is the dataset as it was when BGSAVE ran, and the extra memory is the
//! write buffer. A segment saved early by a write may belong to a database
//! other than the one the walk is on: the file then switches databases
//! with SELECTDB, which loaders (Redis's included) follow.
//!
//! The bytes go to a background child (`crate::child`), which writes the
//! temporary file and syncs it; the node then renames it over
//! `dbfilename`, so a crash never leaves half a file and the node never
//! waits on the disk. A child that dies before the end fails the save, as
//! Redis's does, and the cron notices it ([`check_child`]).
//! An AOF rewrite (BGREWRITEAOF) is the same walk writing the new base
//! file, as an RDB image or as commands (`aof-use-rdb-preamble no`); the
//! AOF module installs it in the manifest when it is done. One job runs at
//! a time, as Redis runs one child.

use std::fs::File;
use std::io::Write;
use std::path::PathBuf;
use std::process::ChildStdin;
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::Mutex;

use crate::child::{Child, Ended};
use crate::keyspace::{Entry, SegmentSink};
use crate::rdb::crc64::crc64;
use crate::rdb::file;
use crate::server::{Server, Shared};

/// Bytes gathered before a write to the file.
const FLUSH_AT: usize = 1 << 20;
/// Bytes the child has not taken yet at which the walk waits for it (a
/// slow disk): only writes to segments not yet saved add to them then.
const PAUSE_AT: usize = 2 * FLUSH_AT;
/// ... and at which those writes wait for the child too, so a slow disk
/// costs at most this much memory (Redis's fork can cost the dataset).
const WAITING_MAX: usize = 8 * FLUSH_AT;
/// Longest slice of the walk between two client batches.
const SLICE: Duration = Duration::from_millis(1);

/// What the server keeps about snapshots (INFO persistence).
pub struct RdbState {
    /// The BGSAVE or AOF rewrite in progress.
    pub job: Option<Job>,
    /// Jobs started (INFO's total_forks: what Redis runs as forks).
    pub jobs_started: u64,
    /// BGSAVE SCHEDULE (or one asked for inside EXEC) waits for the cron.
    pub scheduled: bool,
    pub last_bgsave_ok: bool,
    /// Seconds the last BGSAVE took (-1: none yet).
    pub last_bgsave_secs: i64,
    /// When the last BGSAVE was tried: after a failure the save points wait
    /// a few seconds before trying again (CONFIG_BGSAVE_RETRY_DELAY).
    pub last_try_secs: i64,
    /// SAVE and BGSAVE runs (rdb_saves).
    pub saves: u64,
    /// What the last RDB load stored and dropped as expired.
    pub last_load: crate::rdb::file::LoadCounts,
    /// The start-up load in progress.
    pub loading: Option<crate::loading::Progress>,
    ids: u64,
    /// Wakes the task that walks a BGSAVE's tables.
    pub wake: Arc<tokio::sync::Notify>,
}

impl Default for RdbState {
    fn default() -> Self {
        RdbState {
            job: None,
            jobs_started: 0,
            scheduled: false,
            last_bgsave_ok: true,
            last_bgsave_secs: -1,
            last_try_secs: 0,
            saves: 0,
            last_load: Default::default(),
            loading: None,
            ids: 0,
            wake: Arc::new(tokio::sync::Notify::new()),
        }
    }
}

/// Seconds between a failed BGSAVE and the save points' next try.
const RETRY_DELAY_SECS: i64 = 5;

impl RdbState {
    /// The BGSAVE in progress.
    pub fn bgsave(&self) -> Option<&Job> {
        self.job.as_ref().filter(|j| matches!(j.purpose, Purpose::Rdb { .. }))
    }

    /// The AOF rewrite in progress.
    pub fn aof_rewrite(&self) -> Option<&Job> {
        self.job.as_ref().filter(|j| matches!(j.purpose, Purpose::AofBase(_)))
    }
}

/// What a job's file becomes.
pub enum Purpose {
    /// BGSAVE: renamed over `dbfilename`, then sent to these replicas.
    Rdb { target: PathBuf, replicas: Vec<crate::client::ClientId> },
    /// BGREWRITEAOF: renamed to this path, then made the AOF's base.
    AofBase(crate::aof::PendingBase),
}

/// How a job writes keys.
#[derive(Clone, Copy)]
pub enum Format {
    Rdb { compress: bool, checksum: bool },
    /// The commands that rebuild each key (an AOF base without preamble).
    Commands,
}

/// A BGSAVE or AOF rewrite in progress.
pub struct Job {
    id: u64,
    started: Instant,
    sink: Arc<Mutex<RdbSink>>,
    /// The child writing the file, until the image is all sent to it.
    child: Option<Child>,
    tmp: PathBuf,
    pub purpose: Purpose,
    /// Keys in the dataset when it began (current_save_keys_total).
    pub keys_total: u64,
    /// Changes counted before it began: those are in the file.
    dirty_at_start: u64,
}

impl Job {
    /// Keys written so far (current_save_keys_processed).
    pub fn keys_saved(&self) -> u64 {
        self.sink.lock().keys
    }

    pub fn elapsed_secs(&self) -> i64 {
        self.started.elapsed().as_secs() as i64
    }

    /// How far it is, in percent of the keys (current_fork_perc).
    pub fn percent(&self) -> f64 {
        if self.keys_total == 0 { 0.0 } else { self.keys_saved() as f64 * 100.0 / self.keys_total as f64 }
    }
}

/// The file being written: a buffer, the running checksum, and which
/// database the stream last selected.
pub struct RdbSink {
    /// The background child's standard input, non-blocking: the node
    /// never waits on the child (None: kept in `buf`, for the unit tests).
    pipe: Option<ChildStdin>,
    buf: Vec<u8>,
    /// Bytes checksummed and not yet taken by the pipe, from `out_at`.
    out: Vec<u8>,
    out_at: usize,
    crc: u64,
    format: Format,
    selected: Option<usize>,
    /// Which access bits keys carry (an LRU or LFU maxmemory-policy).
    access: crate::access::AccessPolicy,
    /// Per database, (keys, keys with an expiry) when the snapshot began,
    /// for RESIZEDB; taken once written.
    sizes: Vec<Option<(usize, usize)>>,
    keys: u64,
    error: Option<std::io::Error>,
}

impl RdbSink {
    fn flush(&mut self) {
        if self.buf.is_empty() {
            return;
        }
        if let Format::Rdb { checksum: true, .. } = self.format {
            self.crc = crc64(self.crc, &self.buf);
        }
        if self.error.is_none() && self.pipe.is_some() {
            self.out.extend_from_slice(&self.buf);
            if !self.drain() && self.waiting() > WAITING_MAX {
                self.drain_blocking();
            }
        }
        self.buf.clear();
    }

    /// Hand the pipe everything, waiting for the child as long as it takes.
    fn drain_blocking(&mut self) {
        let Some(p) = &mut self.pipe else { return };
        set_nonblocking(p, false);
        if let Err(e) = p.write_all(&self.out[self.out_at..]) {
            self.error = Some(e);
        }
        set_nonblocking(p, true);
        self.out.clear();
        self.out_at = 0;
    }

    /// Hand the pipe what it takes without waiting; true when nothing is
    /// left waiting.
    fn drain(&mut self) -> bool {
        let Some(p) = &mut self.pipe else { return true };
        while self.out_at < self.out.len() && self.error.is_none() {
            match p.write(&self.out[self.out_at..]) {
                Ok(n) => self.out_at += n,
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                // A dead child breaks the pipe (EPIPE: SIGPIPE is ignored);
                // the cron tells why it died.
                Err(e) => self.error = Some(e),
            }
        }
        if self.out_at == self.out.len() || self.error.is_some() {
            self.out.clear();
            self.out_at = 0;
            return true;
        }
        if self.out_at >= self.out.len() / 2 {
            self.out.drain(..self.out_at);
            self.out_at = 0;
        }
        false
    }

    /// Bytes the child has yet to take.
    fn waiting(&self) -> usize {
        self.out.len() - self.out_at
    }

    /// The end (an RDB image's EOF and checksum): the pipe and what it has
    /// yet to take, to be written off the event loop ([`send_rest`]);
    /// closing the pipe then tells the child to sync the file and exit.
    fn finish(&mut self) -> std::io::Result<Option<(ChildStdin, Vec<u8>)>> {
        if let Format::Rdb { checksum, .. } = self.format {
            file::write_eof(&mut self.buf);
            // The checksum covers everything up to the trailer.
            self.flush();
            let crc = if checksum { self.crc } else { 0 };
            self.buf.extend_from_slice(&crc.to_le_bytes());
        }
        self.flush();
        if let Some(e) = self.error.take() {
            return Err(e);
        }
        let rest = self.out.split_off(self.out_at);
        self.out.clear();
        self.out_at = 0;
        Ok(self.pipe.take().map(|p| (p, rest)))
    }
}

impl SegmentSink for RdbSink {
    fn save(&mut self, db: usize, keys: &mut dyn Iterator<Item = Entry<'_>>) {
        let now = crate::clock::now_ms();
        for e in keys {
            if self.selected != Some(db) {
                let sizes = self.sizes.get_mut(db).and_then(Option::take);
                match self.format {
                    Format::Rdb { .. } => file::write_select(&mut self.buf, db, sizes),
                    Format::Commands => crate::aof::rewrite::write_select(&mut self.buf, db),
                }
                self.selected = Some(db);
            }
            match self.format {
                Format::Rdb { compress, .. } => file::write_key(&mut self.buf, &e, compress, &self.access, now),
                Format::Commands => crate::aof::rewrite::write_key(&mut self.buf, &e),
            }
            self.keys += 1;
            if self.buf.len() >= FLUSH_AT {
                self.flush();
            }
        }
    }
}

/// Why BGSAVE could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("Background save already in progress")]
    InProgress,
    #[error("Another child process is active (AOF?): can't BGSAVE right now. Use BGSAVE SCHEDULE in order to schedule a BGSAVE whenever possible.")]
    OtherJob,
    #[error("Failed opening the temp RDB file {0} (in server root dir {1}) for saving: {2}")]
    Open(String, String, std::io::Error),
    #[error("Can't save in background: fork: {0}")]
    Spawn(std::io::Error),
}

/// Begin a BGSAVE (rdbSaveBackground): the header goes out now, with the
/// function libraries as they are; every table joins the snapshot; the
/// task that walks them is woken.
pub fn start(srv: &mut Server) -> Result<(), StartError> {
    start_for_replicas(srv, Vec::new())
}

/// [`start`], for `replicas` too: once the file is written they are sent it
/// (a full sync's snapshot is a BGSAVE, as in Redis with a disk target).
pub fn start_for_replicas(srv: &mut Server, replicas: Vec<crate::client::ClientId>) -> Result<(), StartError> {
    match &srv.rdb.job {
        Some(j) if matches!(j.purpose, Purpose::Rdb { .. }) => return Err(StartError::InProgress),
        Some(_) => return Err(StartError::OtherJob),
        None => {}
    }
    srv.rdb.last_try_secs = crate::clock::now_secs();
    srv.rdb.saves += 1;
    let target = PathBuf::from(srv.config.get_str("dbfilename"));
    // Redis's child names it after itself (rdbSave's temp-<pid>.rdb).
    let tmp_of = |pid: u32| target.with_file_name(format!("temp-{pid}.rdb"));
    let mut header = Vec::new();
    let aux = file::AuxInfo { repl: crate::replication::save_info(srv), ..file::AuxInfo::current(false) };
    file::write_header(&mut header, &aux, &srv.scripting.library_codes());
    let format = Format::Rdb { compress: srv.config.get_bool("rdbcompression"), checksum: srv.config.get_bool("rdbchecksum") };
    let purpose = Purpose::Rdb { target: target.clone(), replicas };
    match begin(srv, &tmp_of, header, format, purpose) {
        Ok(pid) => tracing::info!("Background saving started by pid {pid}"),
        Err(BeginError::Open(tmp, e)) => {
            let cwd = std::env::current_dir().map(|d| d.display().to_string()).unwrap_or_default();
            tracing::warn!("Failed opening the temp RDB file {} (in server root dir {cwd}) for saving: {e}", tmp.display());
            srv.rdb.last_bgsave_ok = false;
            return Err(StartError::Open(tmp.display().to_string(), cwd, e));
        }
        Err(BeginError::Spawn(e)) => {
            tracing::warn!("Can't save in background: fork: {e}");
            srv.rdb.last_bgsave_ok = false;
            return Err(StartError::Spawn(e));
        }
    }
    Ok(())
}

/// Why a job could not begin.
#[derive(Debug, thiserror::Error)]
pub enum BeginError {
    #[error("opening {path}: {1}", path = .0.display())]
    Open(PathBuf, std::io::Error),
    #[error("starting the background child: {0}")]
    Spawn(std::io::Error),
}

/// Start a job writing `header`, then every key, through a background
/// child to the temporary file `tmp_of(child's pid)`; the child's pid.
pub fn begin(srv: &mut Server, tmp_of: &dyn Fn(u32) -> PathBuf, header: Vec<u8>, format: Format, purpose: Purpose) -> Result<u32, BeginError> {
    debug_assert!(srv.rdb.job.is_none());
    // The file is made before the child, so that a directory we cannot
    // write to is an error now; it takes the child's name once it has one.
    let opening = tmp_of(std::process::id()).with_extension("opening");
    let f = File::create(&opening).map_err(|e| BeginError::Open(opening.clone(), e))?;
    let mut child = match Child::spawn(&f) {
        Ok(c) => c,
        Err(e) => {
            let _ = std::fs::remove_file(&opening);
            return Err(BeginError::Spawn(e));
        }
    };
    let pid = child.pid();
    let tmp = tmp_of(pid);
    if let Err(e) = std::fs::rename(&opening, &tmp) {
        child.kill();
        let _ = std::fs::remove_file(&opening);
        return Err(BeginError::Open(tmp, e));
    }
    if let Some(score) = crate::oom::child_score(srv) {
        // Best effort, as in Redis's child: the save goes on without it.
        if let Err(e) = std::fs::write(format!("/proc/{pid}/oom_score_adj"), format!("{score}\n")) {
            tracing::warn!("Unable to write oom_score_adj of the background child: {e}");
        }
    }
    let pipe = child.take_pipe().expect("spawned with a piped stdin");
    grow_pipe(&pipe);
    set_nonblocking(&pipe, true);
    let mut buf = Vec::with_capacity(FLUSH_AT + (FLUSH_AT >> 2));
    buf.extend_from_slice(&header);
    let sink = Arc::new(Mutex::new(RdbSink {
        pipe: Some(pipe),
        buf,
        // Room for all that may wait, so that it is never reallocated.
        out: Vec::with_capacity(WAITING_MAX + 2 * FLUSH_AT),
        out_at: 0,
        crc: 0,
        format,
        selected: None,
        access: srv.db.policy,
        sizes: srv.db.dbs.iter().map(|t| Some((t.len(), t.volatile_len()))).collect(),
        keys: 0,
        error: None,
    }));
    for (db, table) in srv.db.dbs.iter_mut().enumerate() {
        table.begin_snapshot(db, sink.clone());
    }
    srv.rdb.ids += 1;
    srv.rdb.jobs_started += 1;
    srv.rdb.job = Some(Job {
        id: srv.rdb.ids,
        started: Instant::now(),
        sink,
        child: Some(child),
        tmp,
        purpose,
        keys_total: srv.db.total_keys() as u64,
        dirty_at_start: srv.db.dirty,
    });
    srv.rdb.wake.notify_one();
    Ok(pid)
}

fn set_nonblocking(pipe: &ChildStdin, on: bool) {
    use std::os::fd::AsRawFd;
    // SAFETY: fcntl on a descriptor we own.
    unsafe {
        let fd = pipe.as_raw_fd();
        let flags = libc::fcntl(fd, libc::F_GETFL);
        if flags >= 0 {
            libc::fcntl(fd, libc::F_SETFL, if on { flags | libc::O_NONBLOCK } else { flags & !libc::O_NONBLOCK });
        }
    }
}

/// The end of the image, written to the pipe waiting as long as the child
/// needs (off the event loop: every table is written, nothing else comes),
/// then the pipe closed.
fn send_rest(pipe: ChildStdin, rest: &[u8]) -> std::io::Result<()> {
    set_nonblocking(&pipe, false);
    let mut pipe = pipe;
    pipe.write_all(rest)
}

/// A pipe as large as a flush, so the node hands the child a whole buffer
/// at once while the child writes the last one.
fn grow_pipe(pipe: &ChildStdin) {
    use std::os::fd::AsRawFd;
    // SAFETY: fcntl on a descriptor we own; failure leaves the default.
    unsafe {
        libc::fcntl(pipe.as_raw_fd(), libc::F_SETPIPE_SZ, FLUSH_AT as libc::c_int);
    }
}

/// Stop the job in progress and drop its temporary file (FLUSHALL,
/// SHUTDOWN, DEBUG RELOAD, turning AOF off: where Redis kills its child).
/// The last status stays as it was.
pub fn abort(srv: &mut Server) {
    let Some(mut j) = srv.rdb.job.take() else { return };
    let pid = j.child.as_ref().map_or(0, Child::pid);
    if let Purpose::AofBase(_) = j.purpose {
        tracing::info!("Killing running AOF rewrite child: {pid}");
    }
    if let Some(child) = j.child.take() {
        child.kill();
    }
    end_tables(srv, &j);
    if let Purpose::Rdb { replicas, .. } = j.purpose {
        tracing::warn!("Background saving terminated by signal {}", libc::SIGUSR1);
        // Replicas waiting for it resync from scratch.
        for id in replicas {
            crate::replication::drop_replica(srv, id);
        }
    }
}

/// Let go of a job's tables and file: the walk stops, the temporary file
/// goes, and the walk task, if it sleeps, wakes to see it.
fn end_tables(srv: &mut Server, j: &Job) {
    for table in srv.db.dbs.iter_mut() {
        table.end_snapshot();
    }
    let _ = std::fs::remove_file(&j.tmp);
    srv.rdb.wake.notify_one();
}

/// A child that ended before it was sent the whole image (checkChildrenDone):
/// killed, or failed writing. The job fails as Redis's does when its child
/// dies, except that a SIGUSR1 is a stop on purpose, not an error.
pub fn check_child(srv: &mut Server) {
    let Some(status) = srv.rdb.job.as_mut().and_then(|j| j.child.as_mut()).and_then(|c| c.try_wait()) else { return };
    let mut j = srv.rdb.job.take().expect("a job with a child");
    j.child = None;
    end_tables(srv, &j);
    // Exit 0 before the end of the image is no success either.
    let ended = crate::child::outcome(status).err().unwrap_or(Ended::Code(0));
    let secs = j.elapsed_secs();
    match j.purpose {
        Purpose::Rdb { replicas, .. } => {
            srv.rdb.last_bgsave_secs = secs;
            match ended {
                Ended::Signal(sig) => tracing::warn!("Background saving terminated by signal {sig}"),
                Ended::Code(_) => tracing::warn!("Background saving error"),
            }
            if !ended.on_purpose() {
                srv.rdb.last_bgsave_ok = false;
            }
            for id in replicas {
                crate::replication::drop_replica(srv, id);
            }
        }
        Purpose::AofBase(base) => crate::aof::rewrite_child_died(srv, base, ended, secs),
    }
}

/// The cron's part (serverCron): a child that died, a scheduled BGSAVE,
/// or one a save point asks for ("save 900 1": at least 1 change and 900
/// seconds since the last save), not retried sooner than a few seconds
/// after a failure.
pub fn cron(srv: &mut Server) {
    check_child(srv);
    if srv.rdb.job.is_some() || srv.rdb.loading.is_some() {
        return;
    }
    if std::mem::take(&mut srv.rdb.scheduled) {
        let _ = start(srv);
        return;
    }
    let now = crate::clock::now_secs();
    let retry_ok = srv.rdb.last_bgsave_ok || now - srv.rdb.last_try_secs > RETRY_DELAY_SECS;
    if !retry_ok {
        return;
    }
    let dirty = srv.db.dirty as i64;
    let due = srv.config.save_params().into_iter().find(|&(secs, changes)| dirty >= changes && now - srv.last_save_secs > secs);
    if let Some((secs, changes)) = due {
        tracing::info!("{changes} changes in {secs} seconds. Saving...");
        let _ = start(srv);
    }
}

/// The task that walks BGSAVEs' tables: woken by [`start`], it writes a
/// slice under the lock, lets clients run, and goes on until the file is
/// complete, then syncs and renames it off the event loop.
pub async fn run(shared: Arc<Shared>) {
    let wake = shared.lock().rdb.wake.clone();
    loop {
        wake.notified().await;
        walk(&shared, &wake).await;
    }
}

async fn walk(shared: &Arc<Shared>, wake: &tokio::sync::Notify) {
    let id = loop {
        let step = {
            let mut srv = shared.lock_async().await;
            let Some(id) = srv.rdb.job.as_ref().map(|b| b.id) else { return };
            slice(&mut srv).ok_or(id)
        };
        match step {
            // A job that ends meanwhile (killed, aborted) cuts the pause
            // short: rdb-key-save-delay can ask for hours.
            Ok(Some(pause)) => {
                tokio::select! {
                    _ = tokio::time::sleep(pause) => {}
                    _ = wake.notified() => {}
                }
            }
            Ok(None) => tokio::task::yield_now().await,
            Err(id) => break id,
        }
    };
    // Every table is written: send the end and let the child sync the
    // file, without the lock.
    let (sent, child) = {
        let mut srv = shared.lock_async().await;
        let tables_done = srv.db.dbs.iter().all(|t| !t.snapshot_pending());
        match srv.rdb.job.as_mut().filter(|b| b.id == id) {
            Some(b) => {
                debug_assert!(tables_done);
                (b.sink.lock().finish(), b.child.take())
            }
            None => return,
        }
    };
    let synced = match child {
        Some(child) => tokio::task::spawn_blocking(move || {
            let sent = sent.and_then(|tail| match tail {
                Some((pipe, rest)) => send_rest(pipe, &rest),
                None => Ok(()),
            });
            // How the child ended says more than a broken pipe.
            let status = child.wait()?;
            crate::child::outcome(status).map_err(|e| std::io::Error::other(format!("the background child ended with {e:?}")))?;
            sent
        })
        .await
        .unwrap_or_else(|e| Err(std::io::Error::other(e.to_string()))),
        None => Err(std::io::Error::other("no background child")),
    };
    // The rename under the lock, so that an abort (FLUSHALL, SHUTDOWN)
    // that came meanwhile is never undone by an old image.
    let renamed = {
        let srv = shared.lock_async().await;
        let Some(b) = srv.rdb.job.as_ref().filter(|b| b.id == id) else { return };
        let target = match &b.purpose {
            Purpose::Rdb { target, .. } => target.clone(),
            Purpose::AofBase(base) => base.path.clone(),
        };
        synced.and_then(|()| std::fs::rename(&b.tmp, &target)).map(|()| target)
    };
    // The rename itself must reach the disk.
    let done = match renamed {
        Ok(target) => tokio::task::spawn_blocking(move || match target.parent().filter(|d| !d.as_os_str().is_empty()) {
            Some(dir) => File::open(dir)?.sync_all(),
            None => Ok(()),
        })
        .await
        .unwrap_or_else(|e| Err(std::io::Error::other(e.to_string()))),
        Err(e) => Err(e),
    };
    let mut srv = shared.lock_async().await;
    if srv.rdb.job.as_ref().is_some_and(|b| b.id == id) {
        let ok = done.is_ok();
        if let Some((replicas, path)) = complete(&mut srv, done) {
            crate::replication::snapshot_done(shared, &mut srv, replicas, ok.then_some(path));
        }
        // Replicas that came meanwhile get the next one.
        crate::replication::start_pending_sync(&mut srv);
    }
}

/// One slice of the walk: tables in database order, a segment at a time,
/// for about [`SLICE`]; with `rdb-key-save-delay` (microseconds per key, a
/// test knob) one segment and then a pause that long per key. None once
/// every table is written.
fn slice(srv: &mut Server) -> Option<Option<Duration>> {
    if let Some(j) = &srv.rdb.job {
        let mut sink = j.sink.lock();
        if !sink.drain() && sink.waiting() >= PAUSE_AT {
            // The child lags (a slow disk): wait for it rather than
            // gather more.
            return Some(Some(Duration::from_millis(1)));
        }
    }
    let started = Instant::now();
    let delay = srv.config.get_i64("rdb-key-save-delay");
    let mut keys = 0usize;
    for table in srv.db.dbs.iter_mut() {
        while let Some(n) = table.snapshot_step() {
            keys += n;
            if delay > 0 {
                return Some(Some(Duration::from_micros(delay as u64 * keys.max(1) as u64)));
            }
            if started.elapsed() >= SLICE {
                return Some(None);
            }
        }
    }
    None
}

/// The end of a job (backgroundSaveDoneHandler, backgroundRewriteDoneHandler);
/// a BGSAVE's replicas and file come back, to be sent it.
fn complete(srv: &mut Server, result: std::io::Result<()>) -> Option<(Vec<crate::client::ClientId>, PathBuf)> {
    let j = srv.rdb.job.take().expect("a job in progress");
    let secs = j.elapsed_secs();
    if result.is_err() {
        let _ = std::fs::remove_file(&j.tmp);
    }
    match j.purpose {
        Purpose::AofBase(base) => {
            crate::aof::finish_rewrite(srv, base, result, secs);
            None
        }
        Purpose::Rdb { target, replicas } => {
            srv.rdb.last_bgsave_secs = secs;
            match result {
                Ok(()) => {
                    tracing::info!("Background saving terminated with success");
                    srv.db.dirty = srv.db.dirty.saturating_sub(j.dirty_at_start);
                    srv.last_save_secs = crate::clock::now_secs();
                    srv.rdb.last_bgsave_ok = true;
                }
                Err(e) => {
                    tracing::warn!("Write error saving DB on disk: {e}");
                    tracing::warn!("Background saving error");
                    srv.rdb.last_bgsave_ok = false;
                }
            }
            Some((replicas, target))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::access::AccessPolicy;
    use crate::db::Databases;
    use crate::keyspace::{NewValue, StrEncoding};

    /// A sink that keeps what it is given, to compare with the image of
    /// the dataset when the snapshot began.
    fn sink() -> Arc<Mutex<RdbSink>> {
        Arc::new(Mutex::new(RdbSink {
            pipe: None,
            buf: Vec::new(),
            out: Vec::new(),
            out_at: 0,
            crc: 0,
            format: Format::Rdb { compress: false, checksum: false },
            selected: None,
            access: policy(),
            sizes: vec![None; 4],
            keys: 0,
            error: None,
        }))
    }

    fn policy() -> AccessPolicy {
        AccessPolicy { lfu: false, saved: false, lfu_log_factor: 10, lfu_decay_time: 1 }
    }

    fn set(dbs: &mut Databases, db: usize, k: &str, v: &str) {
        dbs.set(db, k.as_bytes(), NewValue::Str(v.as_bytes(), StrEncoding::Embstr), None);
    }

    #[test]
    fn writes_during_a_snapshot_do_not_reach_it() {
        let mut dbs = Databases::new(4, policy());
        for i in 0..5000 {
            set(&mut dbs, i % 2, &format!("k{i}"), "before");
        }
        let expected: std::collections::BTreeSet<(usize, Vec<u8>, Vec<u8>)> = (0..5000)
            .map(|i| (i % 2, format!("k{i}").into_bytes(), b"before".to_vec()))
            .collect();
        let s = sink();
        let shared: crate::keyspace::SharedSink = s.clone();
        for (db, t) in dbs.dbs.iter_mut().enumerate() {
            t.begin_snapshot(db, shared.clone());
        }
        // Writes, deletions, new keys, a flush and a swap, interleaved
        // with the walk.
        let mut step = 0;
        loop {
            set(&mut dbs, 0, &format!("k{}", step * 2), "after");
            dbs.delete(1, format!("k{}", step * 2 + 1).as_bytes());
            set(&mut dbs, 1, &format!("new{step}"), "after");
            if step == 50 {
                dbs.dbs.swap(1, 3);
            }
            if step == 60 {
                dbs.flush(3);
            }
            step += 1;
            let mut any = false;
            for t in dbs.dbs.iter_mut() {
                if t.snapshot_step().is_some() {
                    any = true;
                    break;
                }
            }
            if !any {
                break;
            }
        }
        assert!(dbs.dbs.iter().all(|t| !t.snapshot_pending()));
        // Read back what the sink got: SELECTDB switches, then keys.
        let mut image = Vec::new();
        file::write_header(&mut image, &file::AuxInfo { ctime_secs: 0, used_mem: 0, aof_base: false, repl: None }, &[]);
        image.extend_from_slice(&s.lock().buf);
        file::write_eof(&mut image);
        image.extend_from_slice(&0u64.to_le_bytes());
        let mut back = Databases::new(4, policy());
        let limits = crate::rdb::object::EncodingLimits::from_config(&crate::config::Config::default());
        file::load(&image, &mut back, &mut Vec::new(), &limits, 0).expect("a valid image");
        let got: std::collections::BTreeSet<(usize, Vec<u8>, Vec<u8>)> = back
            .dbs
            .iter()
            .enumerate()
            .flat_map(|(db, t)| t.iter().map(move |e| (db, e.key().to_vec(), e.value().string_bytes().unwrap())))
            .collect();
        assert_eq!(got, expected);
        assert_eq!(s.lock().keys, 5000);
    }
}
