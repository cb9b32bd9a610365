//! The master side of Redis replication, first part: a client that sends
//! SYNC (or PSYNC) gets a snapshot of the dataset as an RDB payload, then
//! every write command as it executes (Redis's propagate / replicationFeedSlaves),
//! preceded by SELECT whenever the database changes, and a DEL for each key
//! that expired. This is the stream `redis-cli --replica` and the test
//! suite's `attach_to_replication_stream` read.
//!
//! Not here yet (issue 8): the backlog and partial resynchronisation (PSYNC
//! always answers FULLRESYNC), REPLCONF ACK offsets, WAIT, the replica side
//! (REPLICAOF), and most of Redis's command rewrites for propagation
//! (relative expiries as absolute PEXPIREAT/PXAT, SPOP as SREM, INCRBYFLOAT
//! as SET): commands go out as the client sent them unless the handler set
//! [`Server::propagate_as`](crate::server::Server::propagate_as) (GETDEL).

use corvid_proto::resp::{encode_command, Args};

use crate::client::ClientId;
use crate::server::Server;

/// Replicas attached to this master and what the stream has told them.
pub struct Replicas {
    pub ids: Vec<ClientId>,
    /// The database the stream last SELECTed (None: none yet).
    stream_db: Option<usize>,
    /// Bytes of stream produced so far (master_repl_offset).
    pub offset: u64,
    /// Inside EXEC: the transaction's writes (database, arguments), held
    /// back until EXEC ends so that one write goes out alone and several
    /// are wrapped in MULTI/EXEC (Redis 7.0's propagatePendingCommands).
    tx: Option<Vec<HeldWrite>>,
    /// Where writes go now ([`TO_AOF`], [`TO_REPLICAS`]): a script narrows
    /// it with redis.set_repl.
    pub targets: u8,
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
        Replicas { ids: Vec::new(), stream_db: None, offset: 0, tx: None, targets: TO_ALL }
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

/// Whether writes go anywhere: to replicas or to the AOF.
pub fn propagating(srv: &Server) -> bool {
    !srv.replicas.is_empty() || srv.aof.on
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
    if srv.replicas.is_empty() {
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
    if srv.replicas.is_empty() || targets & TO_REPLICAS == 0 {
        return;
    }
    let mut bytes = Vec::new();
    if let Some(db) = db.filter(|&d| srv.replicas.stream_db != Some(d)) {
        encode_command(&mut bytes, &[&b"SELECT"[..], db.to_string().as_bytes()]);
        srv.replicas.stream_db = Some(db);
    }
    encode_command(&mut bytes, args);
    feed(srv, &bytes);
}

/// Ask every replica for its offset (REPLCONF GETACK *), for WAIT. It goes
/// into the stream (and so counts in the offset) but not into the AOF.
pub fn request_acks(srv: &mut Server) {
    if srv.replicas.is_empty() {
        return;
    }
    let mut bytes = Vec::new();
    encode_command(&mut bytes, &[&b"REPLCONF"[..], b"GETACK", b"*"]);
    feed(srv, &bytes);
}

/// Queue stream bytes on every replica and wake its connection to write them.
fn feed(srv: &mut Server, bytes: &[u8]) {
    srv.replicas.offset += bytes.len() as u64;
    let ids = srv.replicas.ids.clone();
    for id in ids {
        if let Some(c) = srv.clients.map.get_mut(&id) {
            c.send(bytes);
        }
    }
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

/// SYNC / PSYNC: make the calling client a replica. The reply is the RDB
/// payload (`$<len>\r\n<bytes>`, no trailing CRLF), preceded for PSYNC by
/// `+FULLRESYNC <replid> <offset>`.
pub fn attach(srv: &mut Server, id: ClientId, out: &mut corvid_proto::resp::Reply, psync: bool) {
    let aux = crate::rdb::file::AuxInfo::current(false);
    let image = crate::rdb::file::serialize(&srv.db, &srv.scripting.library_codes(), &aux, srv.config.get_bool("rdbcompression"), true);
    if psync {
        out.raw(format!("+FULLRESYNC {} {}\r\n", srv.replid, srv.replicas.offset).as_bytes());
    }
    out.raw(format!("${}\r\n", image.len()).as_bytes());
    out.raw(&image);
    if !srv.replicas.ids.contains(&id) {
        srv.replicas.ids.push(id);
    }
    // The next command goes out with a SELECT, whatever came before.
    srv.replicas.stream_db = None;
    srv.update_expired_log();
    if let Some(c) = srv.clients.map.get_mut(&id) {
        c.is_replica = true;
        c.repl_ack_time_ms = crate::clock::now_ms();
    }
}

/// Forget a replica whose connection closed.
pub fn detach(srv: &mut Server, id: ClientId) {
    srv.replicas.ids.retain(|&r| r != id);
    srv.update_expired_log();
}
