//! Loading the RDB file at start-up while clients connect (Redis's
//! loadDataFromDisk, which answers events between chunks of the load): a
//! thread decodes the file and hands keys over a bounded channel; the event
//! loop stores them in slices of about a millisecond and serves clients in
//! between, answering -LOADING to any command not flagged `loading`
//! (PING, INFO, DEBUG, SHUTDOWN... go through). INFO persistence shows the
//! progress, and the log reports it every few seconds.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::rdb::file::{self, Item};
use crate::server::{Server, Shared};

/// Longest slice of storing keys between client batches.
const SLICE: Duration = Duration::from_millis(1);
/// Keys handed over at a time, and batches decoded ahead of the event loop.
const BATCH: usize = 256;
const AHEAD: usize = 8;
/// How often progress is logged.
const LOG_EVERY: Duration = Duration::from_secs(5);

/// A load in progress (INFO's loading_* fields).
pub struct Progress {
    pub start_secs: i64,
    started: Instant,
    pub total_bytes: u64,
    pub loaded_bytes: u64,
    keys: u64,
    logged: Instant,
}

impl Progress {
    pub fn percent(&self) -> f64 {
        if self.total_bytes == 0 {
            return 100.0;
        }
        self.loaded_bytes as f64 * 100.0 / self.total_bytes as f64
    }

    /// Seconds left at the rate so far (1 until there is a rate).
    pub fn eta_secs(&self) -> u64 {
        let elapsed = self.started.elapsed().as_secs_f64();
        if self.loaded_bytes == 0 || elapsed <= 0.0 {
            return 1;
        }
        let rate = self.loaded_bytes as f64 / elapsed;
        (self.total_bytes.saturating_sub(self.loaded_bytes) as f64 / rate) as u64
    }
}

/// Begin loading `path` behind the accept loop; `ready` runs once the
/// dataset is in (what start-up does after a load). A file that cannot be
/// loaded ends the process, as a failed start-up load does.
pub fn start(shared: Arc<Shared>, path: PathBuf, ready: impl FnOnce(&mut Server) + Send + 'static) {
    let (limits, db_count, policy, delay, total) = {
        let mut srv = shared.lock();
        let total = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
        srv.rdb.loading = Some(Progress {
            start_secs: crate::clock::now_secs(),
            started: Instant::now(),
            total_bytes: total,
            loaded_bytes: 0,
            keys: 0,
            logged: Instant::now(),
        });
        let limits = crate::rdb::object::EncodingLimits::from_config(&srv.config);
        let delay = srv.config.get_i64("key-load-delay").max(0) as u64;
        // A backlog for the deletions of expired keys; it stays only if the
        // file says which history it continues (restore_history).
        if srv.master.is_none() {
            crate::replication::ensure_backlog(&mut srv);
        }
        (limits, srv.db.dbs.len(), srv.db.policy, delay, total)
    };
    tracing::info!("Loading RDB file {} ({total} bytes)", path.display());
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Vec<Item>>(AHEAD);
    let decoder = std::thread::Builder::new()
        .name("rdb-load".into())
        .spawn(move || {
            let f = std::fs::File::open(&path).map_err(file::LoadError::from)?;
            let map = file::map(&f)?;
            let now = crate::clock::now_ms();
            let mut batch = Vec::with_capacity(BATCH);
            // The receiver goes only with the process: sends do not fail.
            let decoded = file::decode(&map, db_count, &limits, now, policy, delay, &mut |item| {
                batch.push(item);
                if batch.len() == BATCH {
                    let _ = tx.blocking_send(std::mem::replace(&mut batch, Vec::with_capacity(BATCH)));
                }
            });
            if !batch.is_empty() {
                let _ = tx.blocking_send(batch);
            }
            decoded
        })
        .expect("spawn the RDB load thread");
    tokio::spawn(async move {
        let mut repl = file::ReplAuxReader::default();
        while let Some(first) = rx.recv().await {
            let mut srv = shared.lock_async().await;
            let sliced = Instant::now();
            let mut next = Some(first);
            while let Some(batch) = next.take() {
                for item in batch {
                    match &item {
                        Item::Aux(k, v) => repl.note(k, v),
                        // What the master drops, its replicas hear of once they
                        // continue the history the file was saved at.
                        Item::Expired(db, key) => crate::replication::propagate_deletion(&mut srv, *db, key),
                        _ => {}
                    }
                    if let Item::Key(k) = &item {
                        if let Some(p) = srv.rdb.loading.as_mut() {
                            p.loaded_bytes = k.end as u64;
                            p.keys += 1;
                        }
                    }
                    file::store(item, &mut srv.db);
                }
                if sliced.elapsed() < SLICE {
                    next = rx.try_recv().ok();
                }
            }
            if let Some(p) = srv.rdb.loading.as_mut().filter(|p| p.logged.elapsed() >= LOG_EVERY) {
                p.logged = Instant::now();
                let rate = p.keys as f64 / p.started.elapsed().as_secs_f64().max(0.001);
                tracing::info!("Loading: {} keys, {:.2}% of {} bytes, {:.0} keys/s", p.keys, p.percent(), p.total_bytes, rate);
            }
        }
        let decoded = tokio::task::spawn_blocking(move || decoder.join()).await;
        let mut srv = shared.lock_async().await;
        let result = match decoded {
            Ok(Ok(result)) => result,
            _ => Err(file::LoadError::Io(std::io::Error::other("the load thread panicked"))),
        };
        let finished = result
            .map_err(|e| e.report())
            .and_then(|(functions, expired)| {
                srv.scripting
                    .install_libraries(&functions, false)
                    .map(|_| expired)
                    .map_err(|e| vec![format!("Fatal error loading the DB: {e}. Exiting.")])
            });
        match finished {
            Ok(expired) => {
                let p = srv.rdb.loading.take().expect("loading");
                srv.rdb.last_load = file::LoadCounts { loaded: p.keys as usize, expired, repl: repl.finish() };
                srv.db.dirty = 0;
                tracing::info!("DB loaded from disk: {:.3} seconds", p.started.elapsed().as_secs_f64());
                crate::replication::restore_history(&mut srv);
                ready(&mut srv);
            }
            Err(lines) => {
                for line in lines {
                    tracing::warn!("{line}");
                }
                std::process::exit(1);
            }
        }
    });
}
