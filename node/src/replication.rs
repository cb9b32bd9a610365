//! The master side of Redis replication: a replica that sends SYNC or
//! PSYNC gets a snapshot of the dataset as an RDB payload, then every write
//! command as it executes (Redis's propagate / replicationFeedSlaves),
//! preceded by SELECT whenever the database changes, and a DEL for each key
//! that expired. This is also the stream `redis-cli --replica` and the test
//! suite's `attach_to_replication_stream` read.
//!
//! The stream's bytes also go into the backlog ([`crate::backlog`]), so a
//! replica that reconnects with `PSYNC <replid> <offset>` gets `+CONTINUE`
//! and what it missed, when the backlog still holds it and the replication
//! ID is ours: the current one, or the previous one (`replid2`) up to
//! `second_repl_offset`, so the replicas of a promoted replica continue
//! too (PSYNC2).
//!
//! A replica does not produce a stream of its own: it passes on the bytes
//! it applies from its master, unchanged, to its backlog and its own
//! replicas ([`feed_stream`] from [`crate::replica`]), so offsets and
//! replication IDs are the same all down a chain.
//!
//! Not here yet (issue 8): diskless full sync and a full sync from the
//! fork-less snapshot (the snapshot is serialized at once), and most of
//! Redis's command rewrites for propagation are done by the handlers that
//! set [`Server::propagate_as`](crate::server::Server::propagate_as).

use corvid_proto::resp::{encode_command, Args};

use crate::backlog::Backlog;
use crate::client::{ClientId, ReplState};
use crate::server::Server;

/// Replicas attached to this master and what the stream has told them.
pub struct Replicas {
    pub ids: Vec<ClientId>,
    /// The database the stream last SELECTed (None: none yet).
    pub stream_db: Option<usize>,
    /// Bytes of stream produced so far (master_repl_offset).
    pub offset: u64,
    /// Inside EXEC: the transaction's writes (database, arguments), held
    /// back until EXEC ends so that one write goes out alone and several
    /// are wrapped in MULTI/EXEC (Redis 7.0's propagatePendingCommands).
    tx: Option<Vec<HeldWrite>>,
    /// Where writes go now ([`TO_AOF`], [`TO_REPLICAS`]): a script narrows
    /// it with redis.set_repl.
    pub targets: u8,
    /// The stream's recent bytes: made with the first replica (or the first
    /// sync as a replica), dropped after `repl-backlog-ttl` without replicas.
    pub backlog: Option<Backlog>,
    /// The last offset of `replid2`'s history that is also ours
    /// (second_repl_offset; None: -1, no previous history).
    pub second_offset: Option<u64>,
    /// When the last replica went (repl-backlog-ttl counts from there).
    pub no_replicas_since_ms: i64,
    /// The once-a-second replication cron: when it last ran, and how many
    /// times (PINGs go out every repl-ping-replica-period runs).
    last_cron_ms: i64,
    cron_loops: u64,
}

/// A write held back until its transaction ends: its database, its
/// arguments, and where it goes.
type HeldWrite = (usize, Vec<Vec<u8>>, u8);

/// Propagation targets (PROPAGATE_AOF, PROPAGATE_REPL).
pub const TO_AOF: u8 = 1;
pub const TO_REPLICAS: u8 = 2;
pub const TO_ALL: u8 = TO_AOF | TO_REPLICAS;

impl Default for Replicas {
    fn default() -> Self {
        Replicas {
            ids: Vec::new(),
            stream_db: None,
            offset: 0,
            tx: None,
            targets: TO_ALL,
            backlog: None,
            second_offset: None,
            no_replicas_since_ms: crate::clock::now_ms(),
            // Loop 0 is the start, when no replica is attached yet (Redis
            // runs it in its first serverCron).
            last_cron_ms: crate::clock::now_ms(),
            cron_loops: 1,
        }
    }
}

impl Replicas {
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }
}

/// With `min-replicas-to-write`, whether enough replicas acknowledged
/// within `min-replicas-max-lag` seconds for a master to take writes
/// (refreshGoodSlavesCount).
pub fn enough_good_replicas(srv: &Server) -> bool {
    let (wanted, max_lag) = srv.min_replicas;
    if wanted == 0 || max_lag == 0 || srv.master.is_some() {
        return true;
    }
    let now = crate::clock::now_ms();
    let good = srv.replicas.ids.iter().filter_map(|id| srv.clients.map.get(id)).filter(|c| (now - c.repl_ack_time_ms) / 1000 <= max_lag).count();
    good as i64 >= wanted
}

/// Whether this node produces a replication stream: it is a master with
/// replicas or a backlog (a replica passes its master's stream on instead).
pub fn stream_fed(srv: &Server) -> bool {
    srv.master.is_none() && (srv.replicas.backlog.is_some() || !srv.replicas.is_empty())
}

/// Whether writes go anywhere: to the stream or to the AOF.
pub fn propagating(srv: &Server) -> bool {
    stream_fed(srv) || srv.aof.on
}

/// EXEC starts: hold its writes back (see [`Replicas::tx`]).
pub fn begin_transaction(srv: &mut Server) {
    if propagating(srv) {
        srv.replicas.tx = Some(Vec::new());
    }
}

/// A script starts: hold its writes back like EXEC's, unless it runs
/// inside EXEC already. True when the script must end the transaction.
pub fn begin_script(srv: &mut Server) -> bool {
    if srv.replicas.tx.is_some() || !propagating(srv) {
        return false;
    }
    srv.replicas.tx = Some(Vec::new());
    true
}

/// EXEC ends: send what it wrote, wrapped in MULTI/EXEC if more than one.
pub fn end_transaction(srv: &mut Server) {
    let Some(ops) = srv.replicas.tx.take() else { return };
    let Some(&(first_db, _, _)) = ops.first() else { return };
    let wrap = ops.len() > 1;
    // MULTI and EXEC go wherever one of the writes goes.
    let all = ops.iter().fold(0, |acc, op| acc | op.2);
    if wrap {
        emit_to(srv, Some(first_db), &[b"MULTI"], all);
    }
    for (db, argv, targets) in &ops {
        emit_to(srv, Some(*db), &argv.iter().map(Vec::as_slice).collect::<Vec<_>>(), *targets);
    }
    if wrap {
        // Whatever database the last write selected (propagateNow(-1, ...)).
        emit_to(srv, None, &[b"EXEC"], all);
    }
}

/// A command that reaches the AOF and replicas as other commands
/// (alsoPropagate + preventCommandPropagation: SPOP with a count as SREM
/// batches), wrapped in MULTI/EXEC when there are several
/// (propagatePendingCommands).
pub fn propagate_instead(srv: &mut Server, db: usize, cmds: &[Vec<Vec<u8>>]) {
    // An empty rewrite: the command itself does not go out.
    srv.propagate_as = Some(Vec::new());
    if !propagating(srv) || cmds.is_empty() {
        return;
    }
    let own_tx = srv.replicas.tx.is_none() && cmds.len() > 1;
    if own_tx {
        srv.replicas.tx = Some(Vec::new());
    }
    for argv in cmds {
        propagate(srv, db, &argv.iter().map(Vec::as_slice).collect::<Vec<_>>());
    }
    if own_tx {
        end_transaction(srv);
    }
}

/// Send `args`, executed in database `db`, to the AOF and every replica
/// (propagateNow), or hold it back inside EXEC.
pub fn propagate(srv: &mut Server, db: usize, args: &[&[u8]]) {
    if !propagating(srv) {
        return;
    }
    let targets = srv.replicas.targets;
    if targets == 0 {
        return;
    }
    if let Some(tx) = srv.replicas.tx.as_mut() {
        tx.push((db, args.iter().map(|a| a.to_vec()).collect(), targets));
        return;
    }
    emit_to(srv, Some(db), args, targets);
}

/// Send `args` to the replicas only (PUBLISH: subscribers of replicas get
/// the master's messages; the AOF has no use for them).
pub fn propagate_to_replicas(srv: &mut Server, db: usize, args: &[&[u8]]) {
    if !stream_fed(srv) {
        return;
    }
    emit_to(srv, Some(db), args, TO_REPLICAS);
}

/// Feed the AOF and/or the replicas, SELECTing `db` first where their
/// stream is elsewhere (None: no SELECT).
fn emit_to(srv: &mut Server, db: Option<usize>, args: &[&[u8]], targets: u8) {
    if srv.aof.on && targets & TO_AOF != 0 {
        srv.aof.feed(db, args);
    }
    if !stream_fed(srv) || targets & TO_REPLICAS == 0 {
        return;
    }
    let mut bytes = Vec::new();
    if let Some(db) = db.filter(|&d| srv.replicas.stream_db != Some(d)) {
        encode_command(&mut bytes, &[&b"SELECT"[..], db.to_string().as_bytes()]);
        srv.replicas.stream_db = Some(db);
    }
    encode_command(&mut bytes, args);
    feed_stream(srv, &bytes);
}

/// Ask every replica for its offset (REPLCONF GETACK *), for WAIT. It goes
/// into the stream (and so counts in the offset) but not into the AOF.
pub fn request_acks(srv: &mut Server) {
    if srv.replicas.is_empty() || srv.master.is_some() {
        return;
    }
    let mut bytes = Vec::new();
    encode_command(&mut bytes, &[&b"REPLCONF"[..], b"GETACK", b"*"]);
    feed_stream(srv, &bytes);
}

/// Stream bytes: count them in the offset, keep them in the backlog, and
/// queue them on every replica. A master calls it for what it produces; a
/// replica for what it applied from its master. Without a backlog or
/// replicas the offset stands still, as Redis's does.
pub fn feed_stream(srv: &mut Server, bytes: &[u8]) {
    if bytes.is_empty() || (srv.replicas.backlog.is_none() && srv.replicas.is_empty()) {
        return;
    }
    srv.replicas.offset += bytes.len() as u64;
    if let Some(b) = srv.replicas.backlog.as_mut() {
        b.feed(bytes);
    }
    let (limit, now) = (srv.obuf_limits[1], crate::clock::now_ms());
    for id in &srv.replicas.ids {
        let Some(c) = srv.clients.map.get_mut(id) else { continue };
        match (c.repl_state, c.repl_hold.as_mut()) {
            // Its snapshot has not started: it will hold everything up to it.
            (ReplState::WaitBgsave { .. }, _) => {}
            (_, Some(hold)) => {
                hold.extend_from_slice(bytes);
                crate::pubsub::check_output_limit(c, limit, now);
                if c.killed {
                    c.wake.notify_one();
                }
            }
            (_, None) => c.send(bytes),
        }
    }
}

/// The replication cron's master duties (replicationCron): a PING into the
/// stream every `repl-ping-replica-period` seconds, so replicas see the
/// link alive and their offsets move; dropping replicas that stopped
/// acknowledging for `repl-timeout`; and dropping the backlog after
/// `repl-backlog-ttl` seconds without replicas.
pub fn cron(srv: &mut Server, now_ms: i64) {
    crate::failover::cron(srv, now_ms);
    start_pending_sync(srv);
    // The rest runs once a second, as Redis's replicationCron.
    if now_ms - srv.replicas.last_cron_ms < 1000 {
        return;
    }
    srv.replicas.last_cron_ms = now_ms;
    // Replicas waiting for their snapshot get a newline a second, so they
    // see the link alive (they skip it).
    for id in &srv.replicas.ids {
        if let Some(c) = srv.clients.map.get_mut(id) {
            if matches!(c.repl_state, ReplState::WaitBgsave { .. } | ReplState::Snapshot) {
                c.send(b"\n");
            }
        }
    }
    let loop_no = srv.replicas.cron_loops;
    srv.replicas.cron_loops += 1;
    // A replica's replicas get its master's PINGs, passed on.
    if srv.master.is_some() {
        return;
    }
    let period = srv.config.get_i64("repl-ping-replica-period").max(1) as u64;
    // No PING while a failover waits: the offsets must settle.
    if !srv.replicas.is_empty() && srv.failover.is_none() && loop_no % period == 0 {
        let mut bytes = Vec::new();
        encode_command(&mut bytes, &[&b"PING"[..]]);
        feed_stream(srv, &bytes);
    }
    let timeout = srv.config.get_i64("repl-timeout").max(1) * 1000;
    let late: Vec<ClientId> = srv
        .replicas
        .ids
        .iter()
        .filter_map(|id| srv.clients.map.get(id))
        .filter(|c| c.repl_psync && c.repl_state == ReplState::Online && now_ms - c.repl_ack_time_ms > timeout)
        .map(|c| c.id)
        .collect();
    for id in late {
        tracing::warn!("Disconnecting timedout replica (streaming sync): {}", replica_name(srv, id));
        drop_replica(srv, id);
    }
    let ttl = srv.config.get_i64("repl-backlog-ttl");
    if srv.replicas.is_empty() && ttl > 0 && srv.replicas.backlog.is_some() && now_ms - srv.replicas.no_replicas_since_ms >= ttl * 1000 {
        // No replica can continue from our history any more: a new one starts.
        change_replid(srv);
        srv.replicas.backlog = None;
        srv.update_expired_log();
        tracing::info!("Replication backlog freed after {ttl} seconds without connected replicas.");
    }
}

/// A new replication ID and no previous one (changeReplicationId +
/// clearReplicationId2).
pub fn change_replid(srv: &mut Server) {
    srv.replid = crate::server::random_hex(40);
    clear_replid2(srv);
}

pub fn clear_replid2(srv: &mut Server) {
    srv.replid2 = "0".repeat(40);
    srv.replicas.second_offset = None;
}

/// Start a new history where the current one ends, keeping the current ID
/// as the previous one, valid up to here (shiftReplicationId): a promoted
/// replica's own replicas can continue from it.
pub fn shift_replid(srv: &mut Server) {
    srv.replid2 = std::mem::replace(&mut srv.replid, crate::server::random_hex(40));
    srv.replicas.second_offset = Some(srv.replicas.offset + 1);
    tracing::info!(
        "Setting secondary replication ID to {}, valid up to offset: {}. New replication ID is {}",
        srv.replid2,
        srv.replicas.offset + 1,
        srv.replid
    );
}

/// A backlog from here on, if there is none (createReplicationBacklog).
pub fn ensure_backlog(srv: &mut Server) {
    if srv.replicas.backlog.is_none() {
        let size = srv.config.get_i64("repl-backlog-size").max(1) as usize;
        srv.replicas.backlog = Some(Backlog::new(size, srv.replicas.offset));
        srv.update_expired_log();
    }
}

/// Where this node's dataset stands in its replication history, for the
/// RDB file's aux fields (rdbPopulateSaveInfo): a master with a backlog,
/// or a replica in step with (or cut off from) its master.
pub fn save_info(srv: &Server) -> Option<crate::rdb::file::ReplAux> {
    let stream_db = match &srv.master {
        None => {
            srv.replicas.backlog.as_ref()?;
            // No write since the last full sync: the next one SELECTs anyway.
            srv.replicas.stream_db.unwrap_or(0)
        }
        Some(m) => match m.client.and_then(|id| srv.clients.map.get(&id)) {
            Some(c) => c.db,
            None if m.can_psync => m.stream_db,
            None => return None,
        },
    };
    Some(crate::rdb::file::ReplAux { id: srv.replid.clone(), offset: srv.replicas.offset, stream_db })
}

/// After the start-up load: continue the history the file was saved at
/// (loadDataFromDisk). A master keeps it as its previous ID, so its
/// replicas continue with it; a replica asks its master to continue it.
pub fn restore_history(srv: &mut Server) {
    let Some(r) = srv.rdb.last_load.repl.clone() else {
        // No history to continue: the load's deletions go nowhere.
        if srv.master.is_none() && srv.replicas.is_empty() && srv.replicas.backlog.take().is_some() {
            srv.update_expired_log();
        }
        return;
    };
    match srv.master.as_mut() {
        Some(m) => {
            m.can_psync = true;
            m.stream_db = r.stream_db;
            m.offset = r.offset as i64;
            srv.replid = r.id;
            srv.replicas.offset = r.offset;
        }
        None => {
            srv.replid2 = r.id;
            srv.replicas.second_offset = Some(r.offset + 1);
            // The deletions fed while loading come after the saved offset.
            srv.replicas.offset += r.offset;
            match srv.replicas.backlog.as_mut() {
                Some(b) => b.rebase(r.offset),
                None => {
                    let size = srv.config.get_i64("repl-backlog-size").max(1) as usize;
                    srv.replicas.backlog = Some(Backlog::new(size, srv.replicas.offset));
                }
            }
            srv.replicas.no_replicas_since_ms = crate::clock::now_ms();
            srv.update_expired_log();
        }
    }
}

/// A key the server dropped, told to the AOF and replicas as DEL, or
/// UNLINK under lazyfree-lazy-expire (propagateDeletion).
pub fn propagate_deletion(srv: &mut Server, db: usize, key: &[u8]) {
    let verb: &[u8] = if srv.config.get_bool("lazyfree-lazy-expire") { b"UNLINK" } else { b"DEL" };
    propagate(srv, db, &[verb, key]);
}

/// Close every replica's connection: they reconnect and learn of a new
/// replication ID or dataset (disconnectSlaves).
pub fn disconnect_replicas(srv: &mut Server) {
    for id in srv.replicas.ids.clone() {
        drop_replica(srv, id);
    }
}

/// How the log names a replica: its address and listening port.
fn replica_name(srv: &Server, id: ClientId) -> String {
    srv.clients.map.get(&id).map_or_else(|| id.to_string(), |c| format!("{}:{}", c.addr.ip(), c.repl_listening_port))
}

/// After a command: propagate the deletions of keys that expired on the
/// way, then the command when it changed the dataset and is a write.
pub fn after_command(srv: &mut Server, db: usize, args: &Args<'_>, is_write: bool, changed: bool, expired: &[(usize, Vec<u8>)]) {
    let rewritten = srv.propagate_as.take();
    if !propagating(srv) {
        return;
    }
    for (d, key) in expired {
        propagate(srv, *d, &[b"DEL", key]);
    }
    if is_write && changed {
        match rewritten {
            Some(argv) if argv.is_empty() => {}
            Some(argv) => propagate(srv, db, &argv.iter().map(Vec::as_slice).collect::<Vec<_>>()),
            None => propagate(srv, db, &args.iter().collect::<Vec<_>>()),
        }
    }
}

/// PSYNC `replid` `offset`: continue from the backlog when we can
/// (masterTryPartialResynchronization), replying `+CONTINUE <replid>` and
/// the bytes from `offset` on; false when a full sync is needed.
pub fn try_partial(srv: &mut Server, id: ClientId, out: &mut corvid_proto::resp::Reply, replid: &[u8], offset: i64) -> bool {
    let name = replica_name(srv, id);
    let ours = replid == srv.replid.as_bytes();
    let previous = replid == srv.replid2.as_bytes() && srv.replicas.second_offset.is_some_and(|s| offset >= 0 && offset as u64 <= s);
    if !ours && !previous {
        if replid != b"?" {
            if replid == srv.replid2.as_bytes() {
                tracing::info!(
                    "Partial resynchronization not accepted: Requested offset for second ID was {offset}, but I can reply up to {}",
                    srv.replicas.second_offset.map_or(-1, |s| s as i64)
                );
            } else {
                tracing::info!(
                    "Partial resynchronization not accepted: Replication ID mismatch (Replica asked for '{}', my replication IDs are '{}' and '{}')",
                    String::from_utf8_lossy(replid),
                    srv.replid,
                    srv.replid2
                );
            }
        } else {
            tracing::info!("Full resync requested by replica {name}");
        }
        return false;
    }
    let Some(data) = srv.replicas.backlog.as_ref().filter(|_| offset >= 0).and_then(|b| b.since(offset as u64)) else {
        tracing::info!("Unable to partial resync with replica {name} for lack of backlog (Replica request was: {offset}).");
        return false;
    };
    let psync2 = srv.clients.map.get(&id).is_some_and(|c| c.repl_capa_psync2);
    if psync2 {
        out.raw(format!("+CONTINUE {}\r\n", srv.replid).as_bytes());
    } else {
        out.raw(b"+CONTINUE\r\n");
    }
    tracing::info!(
        "Partial resynchronization request from {name} accepted. Sending {} bytes of backlog starting from offset {offset}.",
        data.len()
    );
    out.raw(&data);
    register(srv, id, true);
    true
}

/// SYNC / PSYNC without a partial resync: the calling client becomes a
/// replica waiting for a snapshot (syncCommand). The snapshot starts at
/// once, or after `repl-diskless-sync-delay` seconds so that more replicas
/// can share it ([`start_pending_sync`]).
pub fn attach(srv: &mut Server, id: ClientId, psync: bool) {
    srv.stats.sync_full += 1;
    if srv.master.is_none() && srv.replicas.is_empty() && srv.replicas.backlog.is_none() {
        // A backlog made from scratch has no past a replica could share:
        // a new history starts with it.
        change_replid(srv);
        ensure_backlog(srv);
        tracing::info!("Replication backlog created, my new replication IDs are '{}' and '{}'", srv.replid, srv.replid2);
    }
    register(srv, id, psync);
    if let Some(c) = srv.clients.map.get_mut(&id) {
        c.repl_state = ReplState::WaitBgsave { since_ms: crate::clock::now_ms() };
    }
    tracing::info!("Full resync requested by replica {}", replica_name(srv, id));
    start_pending_sync(srv);
}

/// Start the snapshot for the replicas waiting for one, when it is time
/// (shouldStartChildReplication): at once with `repl-diskless-sync no`;
/// else once the longest waiter waited `repl-diskless-sync-delay` seconds,
/// or `repl-diskless-sync-max-replicas` are waiting. A BGSAVE in progress
/// is waited for. Each waiter gets `+FULLRESYNC <replid> <offset>` (PSYNC)
/// now and the snapshot, then the stream from that offset, when it is written.
pub fn start_pending_sync(srv: &mut Server) {
    if srv.rdb.job.is_some() || srv.rdb.loading.is_some() {
        return;
    }
    let now = crate::clock::now_ms();
    let waiting: Vec<(ClientId, i64)> = srv
        .replicas
        .ids
        .iter()
        .filter_map(|id| srv.clients.map.get(id))
        .filter_map(|c| match c.repl_state {
            ReplState::WaitBgsave { since_ms } if !c.killed => Some((c.id, since_ms)),
            _ => None,
        })
        .collect();
    if waiting.is_empty() {
        return;
    }
    let diskless = srv.config.get_bool("repl-diskless-sync");
    let delay_ms = srv.config.get_i64("repl-diskless-sync-delay").max(0) * 1000;
    let max_replicas = srv.config.get_i64("repl-diskless-sync-max-replicas");
    let longest = waiting.iter().map(|&(_, since)| now - since).max().unwrap_or(0);
    let due = !diskless || longest >= delay_ms || (max_replicas > 0 && waiting.len() as i64 >= max_replicas);
    if !due {
        return;
    }
    tracing::info!("Starting BGSAVE for SYNC with target: disk");
    let ids: Vec<ClientId> = waiting.iter().map(|&(id, _)| id).collect();
    if let Err(e) = crate::snapshot::start_for_replicas(srv, ids.clone()) {
        tracing::warn!("BGSAVE for replication failed: {e}");
        for id in ids {
            drop_replica(srv, id);
        }
        return;
    }
    // The stream from here on follows the snapshot, starting with a SELECT.
    srv.replicas.stream_db = None;
    let line = format!("+FULLRESYNC {} {}\r\n", srv.replid, srv.replicas.offset);
    for id in ids {
        if let Some(c) = srv.clients.map.get_mut(&id) {
            if c.repl_psync {
                c.send(line.as_bytes());
            }
            c.repl_state = ReplState::Snapshot;
            c.repl_hold = Some(Vec::new());
        }
    }
}

/// The snapshot for `ids` is written to `path` (or failed): send it to each
/// of them, then what the stream held for them meanwhile
/// (updateSlavesWaitingBgsave, sendBulkToSlave).
pub fn snapshot_done(shared: &std::sync::Arc<crate::server::Shared>, srv: &mut Server, ids: Vec<ClientId>, path: Option<std::path::PathBuf>) {
    let Some(path) = path else {
        for id in ids {
            tracing::warn!("SYNC failed. BGSAVE child returned an error");
            drop_replica(srv, id);
        }
        return;
    };
    for id in ids {
        if let Some(c) = srv.clients.map.get_mut(&id).filter(|c| !c.killed) {
            c.repl_state = ReplState::SendBulk;
            tokio::spawn(send_bulk(shared.clone(), id, path.clone()));
        }
    }
}

/// The payload's bytes go out a chunk at a time, each once the replica's
/// output has drained below [`BULK_QUEUED_MAX`], so a large file never sits
/// in memory whole.
const BULK_CHUNK: usize = 1 << 20;
const BULK_QUEUED_MAX: usize = 4 << 20;

async fn send_bulk(shared: std::sync::Arc<crate::server::Shared>, id: ClientId, path: std::path::PathBuf) {
    use std::io::Read;
    let opened = std::fs::File::open(&path).and_then(|f| f.metadata().map(|m| (f, m.len())));
    let (mut file, len) = match opened {
        Ok(x) => x,
        Err(e) => {
            let mut srv = shared.lock_async().await;
            tracing::warn!("SYNC failed. Can't open/stat DB after BGSAVE: {e}");
            drop_replica(&mut srv, id);
            return;
        }
    };
    let mut header = Some(format!("${len}\r\n").into_bytes());
    let mut chunk = vec![0u8; BULK_CHUNK];
    loop {
        // Off the event loop: a read the page cache cannot serve waits on
        // the disk.
        let read = tokio::task::spawn_blocking(move || {
            let n = file.read(&mut chunk);
            (file, chunk, n)
        })
        .await;
        let n = match read {
            Ok((f, c, n)) => {
                file = f;
                chunk = c;
                n
            }
            Err(e) => return read_failed(&shared, id, e).await,
        };
        let n = match n {
            Ok(n) => n,
            Err(e) => return read_failed(&shared, id, e).await,
        };
        loop {
            // None: the replica is gone; Some(ready to take more).
            let ready = {
                let srv = shared.lock_async().await;
                srv.clients
                    .map
                    .get(&id)
                    .filter(|c| !c.killed)
                    .map(|c| c.output_bytes() - c.repl_hold.as_ref().map_or(0, Vec::capacity) < BULK_QUEUED_MAX)
            };
            match ready {
                None => return,
                Some(true) => break,
                Some(false) => tokio::time::sleep(std::time::Duration::from_millis(5)).await,
            }
        }
        let mut srv = shared.lock_async().await;
        let Some(c) = srv.clients.map.get_mut(&id) else { return };
        if let Some(h) = header.take() {
            c.send(&h);
        }
        if n == 0 {
            // The snapshot is out: the held stream follows, then the live one.
            let held = c.repl_hold.take().unwrap_or_default();
            c.send(&held);
            c.repl_state = ReplState::Online;
            c.repl_ack_time_ms = crate::clock::now_ms();
            let name = replica_name(&srv, id);
            tracing::info!("Synchronization with replica {name} succeeded");
            return;
        }
        c.send(&chunk[..n]);
    }
}

/// The snapshot could not be read: the replica goes, to sync again.
async fn read_failed(shared: &std::sync::Arc<crate::server::Shared>, id: ClientId, e: impl std::fmt::Display) {
    let mut srv = shared.lock_async().await;
    tracing::warn!("Read error sending DB to replica: {e}");
    drop_replica(&mut srv, id);
}

/// Count `id` among the replicas the stream goes to.
fn register(srv: &mut Server, id: ClientId, psync: bool) {
    if !srv.replicas.ids.contains(&id) {
        srv.replicas.ids.push(id);
    }
    srv.update_expired_log();
    if let Some(c) = srv.clients.map.get_mut(&id) {
        c.is_replica = true;
        c.repl_psync = psync;
        c.repl_ack_time_ms = crate::clock::now_ms();
    }
}

/// Close a replica's connection and stop streaming to it at once.
pub fn drop_replica(srv: &mut Server, id: ClientId) {
    srv.clients.kill(id);
    detach(srv, id);
}

/// Forget a replica whose connection closed.
pub fn detach(srv: &mut Server, id: ClientId) {
    let before = srv.replicas.ids.len();
    srv.replicas.ids.retain(|&r| r != id);
    if before > srv.replicas.ids.len() && srv.replicas.ids.is_empty() {
        srv.replicas.no_replicas_since_ms = crate::clock::now_ms();
    }
    srv.update_expired_log();
}
