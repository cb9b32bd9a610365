//! The append-only file, as Redis 7.0's multi-part AOF: in `appenddirname`
//! a manifest names a base file (an RDB image, or commands with
//! `aof-use-rdb-preamble no`) and the incremental files after it; every
//! write command is appended, in execution order, to the last incremental
//! file.
//!
//! Writes reach the file before their replies reach clients: commands are
//! fed into `buf` as they execute, and the connection flushes the buffer at
//! the end of each batch, still inside the critical section
//! (flushAppendOnlyFile in Redis's beforeSleep). `appendfsync always` syncs
//! there too; `everysec` hands a duplicate of the file descriptor to the
//! fsync thread at most once a second; `no` leaves it to the kernel.
//!
//! A rewrite (BGREWRITEAOF, turning AOF on, growth past
//! `auto-aof-rewrite-percentage`) first opens a new incremental file that
//! takes every write from then on, then writes a new base from the dataset
//! as it was at that moment, in the background (`crate::snapshot`'s
//! fork-less walk); once the base is on disk the manifest names it and the
//! new incremental file, and the older files become history, deleted
//! unless `aof-disable-auto-gc`. Start-up without files writes its empty
//! base in one go.

pub mod load;
pub mod manifest;
pub mod rewrite;

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc};

use corvid_proto::resp::encode_command;

use manifest::Manifest;

use crate::config::Config;
use crate::server::Server;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FsyncPolicy {
    Always,
    EverySec,
    No,
}

/// The AOF's state and statistics (INFO persistence's aof_* fields).
pub struct Aof {
    /// Commands are being appended (aof_state == AOF_ON).
    pub on: bool,
    /// Turned on at run time and its first rewrite not done yet
    /// (AOF_WAIT_REWRITE): the files do not hold the dataset.
    pub initial_rewrite: bool,
    file: Option<File>,
    /// Fed commands not yet written.
    pub buf: Vec<u8>,
    /// The database the file's stream last SELECTed.
    selected_db: Option<usize>,
    /// The second of the last `#TS:` annotation.
    last_timestamp: i64,
    pub manifest: Manifest,
    fsync_policy: FsyncPolicy,
    timestamps: bool,
    last_fsync_secs: i64,
    /// Bytes written to the current incremental file, and how many of them
    /// were last handed to fsync.
    incr_size: u64,
    incr_synced: u64,
    fsyncer: Option<mpsc::Sender<File>>,
    /// Fsyncs handed to the thread and not done yet (aof_pending_bio_fsync).
    fsyncs_pending: Arc<AtomicUsize>,
    /// Base plus incremental files (aof_current_size), and the base's size
    /// at the last rewrite (aof_base_size).
    pub current_size: u64,
    pub base_size: u64,
    pub rewrites: u64,
    pub rewrite_failures: u64,
    pub last_rewrite_ok: bool,
    pub last_rewrite_secs: i64,
    /// The last write failed with this error (aof_last_write_status:err):
    /// writes are refused with -MISCONF until a write succeeds again.
    pub write_error: Option<String>,
    pub rewrite_scheduled: bool,
    /// After repeated failures, no rewrite from the cron before this
    /// second (0: not limited), and the wait after the next failure.
    limit_until_secs: i64,
    limit_minutes: i64,
    /// DEBUG AOF-FLUSH-SLEEP: microseconds to sleep before each write, so
    /// tests can widen the window between a write and its reply.
    pub flush_sleep_us: u64,
}

impl Default for Aof {
    fn default() -> Self {
        Aof {
            on: false,
            initial_rewrite: false,
            file: None,
            buf: Vec::new(),
            selected_db: None,
            last_timestamp: 0,
            manifest: Manifest::default(),
            fsync_policy: FsyncPolicy::EverySec,
            timestamps: false,
            last_fsync_secs: 0,
            incr_size: 0,
            incr_synced: 0,
            fsyncer: None,
            fsyncs_pending: Arc::default(),
            current_size: 0,
            base_size: 0,
            rewrites: 0,
            rewrite_failures: 0,
            last_rewrite_ok: true,
            last_rewrite_secs: -1,
            write_error: None,
            rewrite_scheduled: false,
            limit_until_secs: 0,
            limit_minutes: 0,
            flush_sleep_us: 0,
        }
    }
}

/// Failures in a row from which the cron's rewrites wait, and the longest
/// wait (AOF_REWRITE_LIMITE_THRESHOLD, AOF_REWRITE_LIMITE_MAX_MINUTES).
const LIMIT_AFTER_FAILURES: u64 = 3;
const LIMIT_MAX_MINUTES: i64 = 60;

impl Aof {
    /// Whether the cron must not start a rewrite now (aofRewriteLimited):
    /// after three failures in a row it waits a minute, then two, four...
    /// up to an hour, between tries. BGREWRITEAOF is never limited.
    pub fn rewrite_limited(&mut self, now_secs: i64) -> bool {
        if self.rewrite_failures < LIMIT_AFTER_FAILURES {
            self.limit_minutes = 0;
            self.limit_until_secs = 0;
            return false;
        }
        if self.limit_until_secs != 0 {
            if now_secs < self.limit_until_secs {
                return true;
            }
            self.limit_until_secs = 0;
            return false;
        }
        self.limit_minutes = if self.limit_minutes == 0 { 1 } else { (self.limit_minutes * 2).min(LIMIT_MAX_MINUTES) };
        self.limit_until_secs = now_secs + self.limit_minutes * 60;
        tracing::warn!(
            "Background AOF rewrite has repeatedly failed and triggered the limit, will retry in {} minutes",
            self.limit_minutes
        );
        true
    }
}

/// Where the AOF files live: `appenddirname` under `dir` (the working
/// directory), and the manifest's name.
pub struct Paths {
    pub dir: PathBuf,
    pub filename: String,
}

impl Paths {
    pub fn of(config: &Config) -> Paths {
        Paths { dir: PathBuf::from(config.get_str("appenddirname")), filename: config.get_str("appendfilename") }
    }

    pub fn manifest_name(&self) -> String {
        format!("{}.manifest", self.filename)
    }

    pub fn file(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }
}

impl Aof {
    /// Re-read the settings the write path uses (after CONFIG SET).
    pub fn refresh_config(&mut self, config: &Config) {
        self.fsync_policy = match config.get_str("appendfsync").as_str() {
            "always" => FsyncPolicy::Always,
            "no" => FsyncPolicy::No,
            _ => FsyncPolicy::EverySec,
        };
        self.timestamps = config.get_bool("aof-timestamp-enabled");
    }

    /// Append a command executed in database `db` (feedAppendOnlyFile).
    pub fn feed(&mut self, db: Option<usize>, args: &[&[u8]]) {
        if self.timestamps {
            let now = crate::clock::now_secs();
            if now > self.last_timestamp {
                self.last_timestamp = now;
                self.buf.extend_from_slice(format!("#TS:{now}\r\n").as_bytes());
            }
        }
        if let Some(db) = db.filter(|&d| self.selected_db != Some(d)) {
            encode_command(&mut self.buf, &[&b"SELECT"[..], db.to_string().as_bytes()]);
            self.selected_db = Some(db);
        }
        encode_command(&mut self.buf, args);
    }

    /// Write the buffer to the incremental file and sync it as the policy
    /// says (flushAppendOnlyFile). A failed write keeps the unwritten
    /// bytes for the next try and records the error; with `always`, where
    /// a reply may not go out unsynced, it ends the process as Redis does.
    pub fn flush(&mut self) {
        let Some(file) = self.file.as_mut() else { return };
        if self.flush_sleep_us > 0 && !self.buf.is_empty() {
            std::thread::sleep(std::time::Duration::from_micros(self.flush_sleep_us));
        }
        if !self.buf.is_empty() {
            match file.write(&self.buf) {
                Ok(n) if n == self.buf.len() => {
                    if self.write_error.take().is_some() {
                        tracing::warn!("AOF write error looks solved, Corvid can write again.");
                    }
                    self.incr_size += n as u64;
                    self.current_size += n as u64;
                    self.buf.clear();
                    if self.buf.capacity() > 64 * 1024 {
                        self.buf = Vec::new();
                    }
                }
                result => {
                    let err = match result {
                        Ok(n) => {
                            // A short write: cut it off so the file ends on a
                            // whole command, then try the rest later.
                            let _ = file.set_len(self.incr_size);
                            tracing::warn!("Short write while writing to the AOF file: (nwritten={n}, expected={})", self.buf.len());
                            "No space left on device".to_string()
                        }
                        Err(e) => {
                            tracing::warn!("Error writing to the AOF file: {e}");
                            crate::config::syntax::strerror(&e)
                        }
                    };
                    if self.fsync_policy == FsyncPolicy::Always {
                        tracing::warn!("Can't recover from AOF write error when the AOF fsync policy is 'always'. Exiting...");
                        std::process::exit(1);
                    }
                    self.write_error = Some(err);
                    return;
                }
            }
        }
        if self.incr_synced == self.incr_size {
            return;
        }
        let now = crate::clock::now_secs();
        match self.fsync_policy {
            FsyncPolicy::Always => {
                if let Err(e) = file.sync_data() {
                    tracing::warn!("Can't persist AOF for fsync error when the AOF fsync policy is 'always': {e}. Exiting...");
                    std::process::exit(1);
                }
                self.incr_synced = self.incr_size;
                self.last_fsync_secs = now;
            }
            FsyncPolicy::EverySec if now > self.last_fsync_secs => {
                if let Ok(dup) = file.try_clone() {
                    self.fsyncs_pending.fetch_add(1, Ordering::Relaxed);
                    self.fsyncer().send(dup).ok();
                    self.incr_synced = self.incr_size;
                }
                self.last_fsync_secs = now;
            }
            _ => {}
        }
    }

    /// The background fsync thread (Redis's bio BIO_AOF_FSYNC): it syncs
    /// and closes the descriptors it is handed, off the critical section.
    fn fsyncer(&mut self) -> &mpsc::Sender<File> {
        let pending = self.fsyncs_pending.clone();
        self.fsyncer.get_or_insert_with(|| {
            let (tx, rx) = mpsc::channel::<File>();
            std::thread::Builder::new()
                .name("aof-fsync".into())
                .spawn(move || {
                    for f in rx {
                        if let Err(e) = f.sync_data() {
                            tracing::warn!("Fail to fsync the AOF file: {e}");
                        }
                        pending.fetch_sub(1, Ordering::Relaxed);
                    }
                })
                .expect("spawn the AOF fsync thread");
            tx
        })
    }

    /// Open (creating if needed) the last incremental file for appending.
    fn open_incr(&mut self, paths: &Paths, name: &str, truncate: bool) -> std::io::Result<()> {
        let path = paths.file(name);
        let f = if truncate {
            OpenOptions::new().write(true).create(true).truncate(true).open(&path)?
        } else {
            OpenOptions::new().append(true).create(true).open(&path)?
        };
        self.incr_size = f.metadata()?.len();
        self.incr_synced = self.incr_size;
        self.file = Some(f);
        self.selected_db = None;
        Ok(())
    }

    /// Stop appending (CONFIG SET appendonly no): write and sync what is
    /// buffered, then close the file (stopAppendOnly).
    pub fn stop(&mut self) {
        self.flush();
        if let Some(f) = self.file.take() {
            if let Err(e) = f.sync_data() {
                tracing::warn!("Fail to fsync the AOF file: {e}");
            }
        }
        self.on = false;
        self.initial_rewrite = false;
        self.selected_db = None;
        self.buf.clear();
        self.incr_size = 0;
        self.incr_synced = 0;
    }

    /// Write what is buffered and fsync the file now, before an exit
    /// (flushAppendOnlyFile(1) and redis_fsync).
    pub fn sync_now(&mut self) {
        self.flush();
        if let Some(f) = &self.file {
            if let Err(e) = f.sync_data() {
                tracing::warn!("Fail to fsync the AOF file: {e}.");
            }
        }
    }

    /// Fsyncs the background thread has yet to finish.
    pub fn pending_fsyncs(&self) -> usize {
        self.fsyncs_pending.load(Ordering::Relaxed)
    }
}

/// Why a rewrite failed.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct RewriteError(String);

fn io_err(what: &str, path: &Path, e: std::io::Error) -> RewriteError {
    RewriteError(format!("{what} {}: {e}", path.display()))
}

/// Rewrite the AOF: a new base file holding the dataset, a new incremental
/// file when AOF is on, the old files retired (rewriteAppendOnlyFile and
/// backgroundRewriteDoneHandler in one step). Nothing changes on disk but
/// new files until the manifest naming them is in place.
pub fn rewrite(srv: &mut Server) -> Result<(), RewriteError> {
    let started = std::time::Instant::now();
    let result = rewrite_inner(srv);
    srv.aof.last_rewrite_secs = started.elapsed().as_secs() as i64;
    match &result {
        Ok(()) => rewrite_succeeded(srv),
        Err(e) => rewrite_failed(srv, e),
    }
    result
}

fn rewrite_inner(srv: &mut Server) -> Result<(), RewriteError> {
    let paths = Paths::of(&srv.config);
    std::fs::create_dir_all(&paths.dir).map_err(|e| io_err("Can't open or create append-only dir", &paths.dir, e))?;
    // What is buffered belongs to the files being retired; the new base
    // will hold it as well.
    srv.aof.flush();
    let rdb = srv.config.get_bool("aof-use-rdb-preamble");
    let image = if rdb {
        let aux = crate::rdb::file::AuxInfo::current(true);
        crate::rdb::file::serialize(&srv.db, &srv.scripting.library_codes(), &aux, srv.config.get_bool("rdbcompression"), srv.config.get_bool("rdbchecksum"))
    } else {
        let ts = srv.config.get_bool("aof-timestamp-enabled").then(crate::clock::now_secs);
        rewrite::dataset_commands(&srv.db, &srv.scripting.library_codes(), ts)
    };
    let mut manifest = srv.aof.manifest.clone();
    let base_name = manifest.new_base(&paths.filename, rdb);
    crate::rdb::file::write_atomically(&paths.file(&base_name), &image)
        .map_err(|e| io_err("Error writing the AOF base file", &paths.file(&base_name), e))?;
    manifest.retire_incr();
    let incr_name = srv.aof.on.then(|| manifest.new_incr(&paths.filename));
    if let Some(name) = &incr_name {
        // Create it before the manifest names it.
        File::create(paths.file(name)).map_err(|e| io_err("Can't open the append-only file", &paths.file(name), e))?;
    }
    manifest.persist(&paths.dir, &paths.manifest_name()).map_err(|e| io_err("Can't write the AOF manifest", &paths.dir, e))?;
    srv.aof.manifest = manifest;
    if let Some(name) = &incr_name {
        if let Some(old) = srv.aof.file.take() {
            let _ = old.sync_data();
        }
        // Whatever was buffered and not written is in the new base.
        srv.aof.buf.clear();
        srv.aof.open_incr(&paths, name, true).map_err(|e| io_err("Can't open the append-only file", &paths.file(name), e))?;
    }
    srv.aof.base_size = image.len() as u64;
    srv.aof.current_size = image.len() as u64;
    delete_history(srv, &paths);
    Ok(())
}

/// A base file a background rewrite is writing (see `crate::snapshot`).
pub struct PendingBase {
    /// Where it goes once complete, and its name in the manifest.
    pub path: PathBuf,
    name: String,
    rdb: bool,
    /// The incremental file opened when the rewrite began: it and later
    /// ones hold writes the base does not; earlier ones retire.
    kept_from_seq: Option<i64>,
    /// AOF waits for this rewrite to turn on: writes meanwhile go to a
    /// temporary incremental file the manifest does not name, which takes
    /// the next name once the base is in (AOF_WAIT_REWRITE).
    temp_incr: bool,
}

/// The temporary incremental file of a first rewrite (getTempIncrAofName).
fn temp_incr_name(paths: &Paths) -> String {
    format!("temp-{}.incr", paths.filename)
}

/// A first rewrite that failed: its temporary incremental file and what
/// was buffered for it go (the next try's base will hold that data), and
/// another try is scheduled (backgroundRewriteDoneHandler's cleanup).
fn first_rewrite_failed(srv: &mut Server) {
    if !srv.aof.on || !srv.aof.initial_rewrite {
        return;
    }
    let paths = Paths::of(&srv.config);
    srv.aof.buf.clear();
    srv.aof.file = None;
    let name = temp_incr_name(&paths);
    tracing::info!("Removing the temp incr aof file {name} in the background");
    let _ = std::fs::remove_file(paths.file(&name));
    srv.aof.rewrite_scheduled = true;
}

/// Begin a background rewrite (rewriteAppendOnlyFileBackground).
pub fn start_rewrite(srv: &mut Server) -> Result<(), RewriteError> {
    let paths = Paths::of(&srv.config);
    std::fs::create_dir_all(&paths.dir).map_err(|e| io_err("Can't open or create append-only dir", &paths.dir, e))?;
    let mut kept_from_seq = None;
    let temp_incr = srv.aof.on && srv.aof.initial_rewrite;
    if temp_incr {
        // Until the base is in, the manifest stays as it is: what is
        // written meanwhile goes to a file of its own.
        srv.aof.buf.clear();
        let name = temp_incr_name(&paths);
        srv.aof.open_incr(&paths, &name, true).map_err(|e| io_err("Can't open the append-only file", &paths.file(&name), e))?;
        tracing::info!("Creating AOF incr file {name} on background rewrite");
    } else if srv.aof.on {
        if srv.aof.file.is_some() {
            srv.aof.flush();
        } else {
            // Just turned on: what was fed is in the dataset the base
            // will hold.
            srv.aof.buf.clear();
        }
        let mut manifest = srv.aof.manifest.clone();
        let name = manifest.new_incr(&paths.filename);
        File::create(paths.file(&name)).map_err(|e| io_err("Can't open the append-only file", &paths.file(&name), e))?;
        // Without a base yet, the manifest names the new files together
        // once the base is written.
        if manifest.base.is_some() {
            manifest.persist(&paths.dir, &paths.manifest_name()).map_err(|e| io_err("Can't write the AOF manifest", &paths.dir, e))?;
        }
        kept_from_seq = Some(manifest.incr_seq);
        srv.aof.manifest = manifest;
        if let Some(old) = srv.aof.file.take() {
            let _ = old.sync_data();
        }
        srv.aof.open_incr(&paths, &name, true).map_err(|e| io_err("Can't open the append-only file", &paths.file(&name), e))?;
    }
    let rdb = srv.config.get_bool("aof-use-rdb-preamble");
    let mut header = Vec::new();
    let format = if rdb {
        crate::rdb::file::write_header(&mut header, &crate::rdb::file::AuxInfo::current(true), &srv.scripting.library_codes());
        crate::snapshot::Format::Rdb { compress: srv.config.get_bool("rdbcompression"), checksum: srv.config.get_bool("rdbchecksum") }
    } else {
        let ts = srv.config.get_bool("aof-timestamp-enabled").then(crate::clock::now_secs);
        rewrite::write_header(&mut header, &srv.scripting.library_codes(), ts);
        crate::snapshot::Format::Commands
    };
    let name = srv.aof.manifest.clone().new_base(&paths.filename, rdb);
    // Named after the child, as Redis's child names it.
    let tmp_of = |pid: u32| paths.dir.join(format!("temp-rewriteaof-bg-{pid}.aof"));
    let base = PendingBase { path: paths.file(&name), name, rdb, kept_from_seq, temp_incr };
    match crate::snapshot::begin(srv, &tmp_of, header, format, crate::snapshot::Purpose::AofBase(base)) {
        Ok(pid) => {
            srv.aof.rewrite_scheduled = false;
            tracing::info!("Background append only file rewriting started by pid {pid}");
            Ok(())
        }
        Err(e) => {
            srv.aof.last_rewrite_ok = false;
            if temp_incr {
                srv.aof.file = None;
                let _ = std::fs::remove_file(paths.file(&temp_incr_name(&paths)));
            }
            Err(RewriteError(format!("Can't rewrite append only file in background: {e}")))
        }
    }
}

/// A background rewrite whose child died before the end
/// (backgroundRewriteDoneHandler's failure branches): a failure unless it
/// was stopped on purpose; AOF that waits for its first base asks for
/// another rewrite.
pub fn rewrite_child_died(srv: &mut Server, _base: PendingBase, ended: crate::child::Ended, secs: i64) {
    match ended {
        crate::child::Ended::Signal(sig) => tracing::warn!("Background AOF rewrite terminated by signal {sig}"),
        crate::child::Ended::Code(_) => tracing::warn!("Background AOF rewrite terminated with error"),
    }
    srv.aof.last_rewrite_secs = secs;
    if !ended.on_purpose() {
        srv.aof.rewrite_failures += 1;
        srv.aof.last_rewrite_ok = false;
    }
    first_rewrite_failed(srv);
}

/// The end of a background rewrite (backgroundRewriteDoneHandler): the
/// base is on disk under its name; the manifest takes it in.
pub fn finish_rewrite(srv: &mut Server, base: PendingBase, written: std::io::Result<()>, secs: i64) {
    srv.aof.last_rewrite_secs = secs;
    let installed = written.map_err(|e| io_err("Error writing the AOF base file", &base.path, e)).and_then(|()| install_base(srv, &base));
    match installed {
        Ok(()) => {
            tracing::info!("Background AOF rewrite terminated with success");
            rewrite_succeeded(srv);
        }
        Err(e) => {
            let _ = std::fs::remove_file(&base.path);
            rewrite_failed(srv, &e);
        }
    }
}

fn install_base(srv: &mut Server, base: &PendingBase) -> Result<(), RewriteError> {
    let paths = Paths::of(&srv.config);
    let mut manifest = srv.aof.manifest.clone();
    let name = manifest.new_base(&paths.filename, base.rdb);
    if name != base.name {
        return Err(RewriteError(format!("The AOF manifest changed during the rewrite (base {name}, expected {})", base.name)));
    }
    let mut kept_from_seq = base.kept_from_seq;
    if base.temp_incr && srv.aof.on {
        let temp = temp_incr_name(&paths);
        let incr = manifest.new_incr(&paths.filename);
        std::fs::rename(paths.file(&temp), paths.file(&incr)).map_err(|e| {
            let _ = std::fs::remove_file(&base.path);
            io_err("Error trying to rename the temporary AOF incr file", &paths.file(&temp), e)
        })?;
        tracing::info!("Successfully renamed the temporary AOF incr file {temp} into {incr}");
        kept_from_seq = Some(manifest.incr_seq);
    }
    manifest.retire_incr_before(kept_from_seq);
    manifest.persist(&paths.dir, &paths.manifest_name()).map_err(|e| io_err("Can't write the AOF manifest", &paths.dir, e))?;
    srv.aof.manifest = manifest;
    let size = std::fs::metadata(&base.path).map(|m| m.len()).unwrap_or(0);
    srv.aof.base_size = size;
    srv.aof.current_size = size + if srv.aof.file.is_some() { srv.aof.incr_size } else { 0 };
    delete_history(srv, &paths);
    Ok(())
}

fn rewrite_succeeded(srv: &mut Server) {
    let aof = &mut srv.aof;
    aof.rewrites += 1;
    aof.rewrite_failures = 0;
    aof.last_rewrite_ok = true;
    aof.initial_rewrite = false;
    tracing::info!("Background AOF rewrite finished successfully");
}

fn rewrite_failed(srv: &mut Server, e: &RewriteError) {
    let aof = &mut srv.aof;
    aof.rewrite_failures += 1;
    aof.last_rewrite_ok = false;
    tracing::warn!("Background AOF rewrite failed: {e}");
    first_rewrite_failed(srv);
}

/// Remove the files the manifest keeps as history (aofDelHistoryFiles).
pub fn delete_history(srv: &mut Server, paths: &Paths) {
    if srv.config.get_bool("aof-disable-auto-gc") || srv.aof.manifest.history.is_empty() {
        return;
    }
    let mut manifest = srv.aof.manifest.clone();
    for f in manifest.history.drain(..) {
        tracing::info!("Removing the history file {} in the background", f.name);
        let _ = std::fs::remove_file(paths.file(&f.name));
    }
    match manifest.persist(&paths.dir, &paths.manifest_name()) {
        Ok(()) => srv.aof.manifest = manifest,
        Err(e) => tracing::warn!("Can't write the AOF manifest: {e}"),
    }
}

/// Turn AOF on at run time (CONFIG SET appendonly yes): a rewrite gives the
/// new incremental file a base that holds the dataset (startAppendOnly).
pub fn start(srv: &mut Server) -> Result<(), RewriteError> {
    srv.aof.on = true;
    srv.aof.initial_rewrite = true;
    srv.aof.write_error = None;
    srv.aof.last_fsync_secs = crate::clock::now_secs();
    if srv.rdb.job.is_some() {
        srv.aof.rewrite_scheduled = true;
        tracing::warn!("AOF was enabled but there is already another background operation. An AOF background was scheduled to start when possible.");
        srv.update_expired_log();
        return Ok(());
    }
    if let Err(e) = start_rewrite(srv) {
        srv.aof.on = false;
        srv.aof.initial_rewrite = false;
        srv.aof.file = None;
        tracing::warn!("Corvid needs to enable the AOF but can't trigger a background AOF rewrite operation: {e}");
        return Err(e);
    }
    srv.update_expired_log();
    Ok(())
}

/// After loading at start-up with `appendonly yes`: make sure there is a
/// base (an empty dataset gets one) and open the last incremental file,
/// creating it if needed (aofOpenIfNeededOnServerStart). Errors stop the
/// start.
pub fn open_on_start(srv: &mut Server) -> Result<(), RewriteError> {
    let paths = Paths::of(&srv.config);
    std::fs::create_dir_all(&paths.dir).map_err(|e| io_err("Can't open or create append-only dir", &paths.dir, e))?;
    srv.aof.on = true;
    srv.aof.last_fsync_secs = crate::clock::now_secs();
    if srv.aof.manifest.is_empty() {
        // Also creates the first incremental file. Not counted as a
        // rewrite, as Redis's synchronous one here is not.
        rewrite_inner(srv)?;
        tracing::info!("Creating AOF base file {} on server start", srv.aof.manifest.base.as_ref().map_or("", |b| b.name.as_str()));
    } else {
        let existing = srv.aof.manifest.incr.last().map(|f| f.name.clone());
        let name = match existing {
            Some(n) => n,
            None => srv.aof.manifest.new_incr(&paths.filename),
        };
        srv.aof.open_incr(&paths, &name, false).map_err(|e| io_err("Can't open the append-only file", &paths.file(&name), e))?;
        srv.aof.manifest.persist(&paths.dir, &paths.manifest_name()).map_err(|e| io_err("Can't write the AOF manifest", &paths.dir, e))?;
        tracing::info!("Opening AOF incr file {name} on server start");
    }
    delete_history(srv, &paths);
    srv.update_expired_log();
    Ok(())
}
