//! The replica side of replication (REPLICAOF): a task connects to the
//! master, does Redis's handshake (PING, AUTH with `masterauth`, REPLCONF
//! listening-port and capa, PSYNC), loads the snapshot the master sends
//! (`$<len>` or diskless `$EOF:<mark>`), then runs the command stream as
//! the master's client and acknowledges its offset every second and on
//! REPLCONF GETACK.
//!
//! The replica asks to continue its history (`PSYNC <replid> <offset+1>`)
//! whenever it has one: after a dropped link, after REPLICAOF turned a
//! master into a replica, after its master was promoted elsewhere. The
//! bytes it applies go on, unchanged, to its backlog and its own replicas
//! ([`crate::replication::feed_stream`]).
//!
//! Not here yet (issue 8): diskless loading (`repl-diskless-load`) and the
//! replication ID and offset kept in the RDB file across restarts.

use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

use corvid_proto::resp::{encode_command, Limits, Parsed, RequestParser};

use crate::client::{Client, ClientId};
use crate::server::{Server, Shared};

/// Where a replica's link to its master stands (Redis's repl_state, coarsely).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkState {
    /// Waiting for the cron to start a connection.
    Connect,
    Connecting,
    /// Connected: PING, AUTH, REPLCONF, PSYNC and its reply.
    Handshake,
    /// Handshake done, receiving the snapshot.
    Transfer,
    Connected,
}

impl LinkState {
    /// ROLE's name for the state.
    pub fn role_name(self) -> &'static str {
        match self {
            LinkState::Connect => "connect",
            LinkState::Connecting => "connecting",
            LinkState::Handshake => "handshake",
            LinkState::Transfer => "sync",
            LinkState::Connected => "connected",
        }
    }
}

/// This node replicates `host:port`.
pub struct Master {
    pub host: String,
    pub port: u16,
    pub state: LinkState,
    /// Bumped on every REPLICAOF, so a task for an earlier master stops.
    pub generation: u64,
    /// The master's client while the stream runs.
    pub client: Option<ClientId>,
    /// Stream bytes processed (slave_repl_offset).
    pub offset: i64,
    /// Stream bytes read but not applied yet: a transaction waiting for
    /// its EXEC, or commands held by CLIENT PAUSE (slave_read_repl_offset
    /// counts them).
    pub unapplied: i64,
    pub last_io_ms: i64,
    pub down_since_ms: i64,
    /// Our replication ID and offset describe our dataset, so PSYNC can ask
    /// to continue from them (Redis's cached master). False for a replica
    /// configured at start-up, and while a full sync replaces the dataset.
    pub can_psync: bool,
    /// The database the master's stream had selected when the link
    /// dropped: a partial resync goes on in it.
    pub stream_db: usize,
    /// Made by FAILOVER: the PSYNC asks the master (our replica until now)
    /// to take over.
    pub failover: bool,
}

/// Stop following the master and take writes (replicationUnsetMaster): a
/// new history starts here, and our replicas reconnect to learn it and
/// continue from the backlog.
pub fn unset_master(srv: &mut Server) {
    let Some(m) = srv.master.take() else { return };
    srv.config.set_replica_of(None);
    crate::oom::role_changed(srv);
    if let Some(id) = m.client {
        srv.clients.kill(id);
    }
    srv.master_generation += 1;
    crate::replication::shift_replid(srv);
    crate::replication::disconnect_replicas(srv);
    srv.replicas.stream_db = None;
    srv.replicas.no_replicas_since_ms = crate::clock::now_ms();
}

/// This node replicates a master whose link is not up, and
/// `replica-serve-stale-data` is off: only commands flagged stale run.
pub fn serving_stale_refused(srv: &Server) -> bool {
    srv.master.as_ref().is_some_and(|m| m.state != LinkState::Connected) && !srv.config.get_bool("replica-serve-stale-data")
}

impl Master {
    pub fn new(host: String, port: u16, generation: u64, can_psync: bool) -> Master {
        Master {
            can_psync,
            stream_db: 0,
            failover: false,
            host,
            port,
            state: LinkState::Connect,
            generation,
            client: None,
            offset: 0,
            unapplied: 0,
            last_io_ms: 0,
            down_since_ms: crate::clock::now_ms(),
        }
    }

    pub fn link_up(&self) -> bool {
        self.state == LinkState::Connected
    }
}

/// The largest snapshot length a master may announce is what memory
/// allows; the buffer grows as bytes arrive, never to an announced size.
const READ_CHUNK: usize = 64 * 1024;

/// Start a task for the master if one is due (replicationCron's
/// connectWithMaster). Called from the cron with the lock held.
pub fn connect_if_due(shared: &Arc<Shared>, srv: &mut Server) {
    let Some(m) = srv.master.as_mut().filter(|m| m.state == LinkState::Connect) else { return };
    m.state = LinkState::Connecting;
    tracing::info!("Connecting to MASTER {}:{}", m.host, m.port);
    tokio::spawn(run(shared.clone(), m.generation, m.host.clone(), m.port));
}

/// Whether `generation` is still the master to follow.
fn current(srv: &Server, generation: u64) -> bool {
    srv.master.as_ref().is_some_and(|m| m.generation == generation)
}

async fn run(shared: Arc<Shared>, generation: u64, host: String, port: u16) {
    let result = session(&shared, generation, &host, port).await;
    let mut srv = shared.lock_async().await;
    if let Some(id) = srv.master.as_ref().filter(|m| m.generation == generation).and_then(|m| m.client) {
        if let Some(c) = srv.clients.map.remove(&id) {
            srv.master.as_mut().expect("current").stream_db = c.db;
        }
    }
    if let Some(m) = srv.master.as_mut().filter(|m| m.generation == generation) {
        if m.state == LinkState::Connected {
            tracing::warn!("Connection with master lost.");
        }
        if let Err(e) = result {
            tracing::warn!("{e}");
        }
        m.state = LinkState::Connect;
        m.client = None;
        m.down_since_ms = crate::clock::now_ms();
    }
}

type Link = BufReader<TcpStream>;

async fn send(link: &mut Link, args: &[&[u8]]) -> Result<(), String> {
    let mut out = Vec::new();
    encode_command(&mut out, args);
    link.get_mut().write_all(&out).await.map_err(|e| format!("Error writing to MASTER: {e}"))
}

/// One reply line, without its CRLF; empty lines (keepalives) are skipped.
/// Each line, waiting at most `timeout` for each line: the master's
/// keepalive newlines (sent while it prepares our snapshot) restart it, as
/// they refresh Redis's repl_transfer_lastio.
async fn read_line(link: &mut Link, timeout: Duration) -> Result<String, String> {
    loop {
        let mut line = Vec::new();
        let mut limited = (&mut *link).take(64 * 1024);
        let n = tokio::time::timeout(timeout, limited.read_until(b'\n', &mut line))
            .await
            .map_err(|_| "Timeout connecting to the MASTER...".to_string())?
            .map_err(|e| format!("Error reading from MASTER: {e}"))?;
        if n == 0 {
            return Err("Error condition on socket for SYNC: connection closed by master".into());
        }
        let text = String::from_utf8_lossy(&line).trim_end_matches(['\r', '\n']).to_string();
        if !text.is_empty() {
            return Ok(text);
        }
    }
}

/// Connect to the master, from `bind-source-addr` when it is set (as
/// Redis's connTcpConnect with server.bind_source_addr).
async fn connect(host: &str, port: u16, source: Option<&str>) -> std::io::Result<TcpStream> {
    let Some(source) = source else { return TcpStream::connect((host, port)).await };
    let src: std::net::IpAddr = source.parse().map_err(|_| std::io::Error::new(std::io::ErrorKind::InvalidInput, format!("invalid bind-source-addr '{source}'")))?;
    let mut last = std::io::Error::new(std::io::ErrorKind::NotFound, format!("no address for {host}"));
    for addr in tokio::net::lookup_host((host, port)).await? {
        if addr.is_ipv4() != src.is_ipv4() {
            continue;
        }
        let sock = if addr.is_ipv4() { tokio::net::TcpSocket::new_v4()? } else { tokio::net::TcpSocket::new_v6()? };
        sock.bind(std::net::SocketAddr::new(src, 0))?;
        match sock.connect(addr).await {
            Ok(s) => return Ok(s),
            Err(e) => last = e,
        }
    }
    Err(last)
}

async fn session(shared: &Arc<Shared>, generation: u64, host: &str, port: u16) -> Result<(), String> {
    let (timeout, auth, user, my_port, announce_ip, source) = {
        let srv = shared.lock_async().await;
        let auth = srv.config.get_bytes(&[b"masterauth"]).into_iter().next().map(|(_, v)| v).filter(|v| !v.is_empty());
        let user = Some(srv.config.get_str("masteruser")).filter(|u| !u.is_empty());
        let port = match srv.config.get_i64("replica-announce-port") {
            0 => srv.tcp_port as i64,
            p => p,
        };
        let announce_ip = Some(srv.config.get_str("replica-announce-ip")).filter(|ip| !ip.is_empty());
        let source = Some(srv.config.get_str("bind-source-addr")).filter(|a| !a.is_empty());
        (Duration::from_secs(srv.config.get_i64("repl-timeout").max(1) as u64), auth, user, port, announce_ip, source)
    };
    let stream = tokio::time::timeout(timeout, connect(host, port, source.as_deref()))
        .await
        .map_err(|_| "Timeout connecting to the MASTER...".to_string())?
        .map_err(|e| format!("Error condition on socket for SYNC: {e}"))?;
    let _ = stream.set_nodelay(true);
    let mut link = BufReader::new(stream);
    tracing::info!("MASTER <-> REPLICA sync started");
    {
        let mut srv = shared.lock_async().await;
        match srv.master.as_mut().filter(|m| m.generation == generation) {
            Some(m) => m.state = LinkState::Handshake,
            None => return Ok(()),
        }
    }
    let handshake = async {
        send(&mut link, &[b"PING"]).await?;
        let pong = read_line(&mut link, timeout).await?;
        // -NOAUTH is expected before AUTH; other errors end the attempt.
        if pong.starts_with('-') && !pong.starts_with("-NOAUTH") && !pong.starts_with("-NOPERM") && !pong.starts_with("-ERR operation not permitted") {
            return Err(format!("Error reply to PING from master: '{pong}'"));
        }
        tracing::info!("Master replied to PING, replication can continue...");
        if let Some(pass) = &auth {
            match &user {
                Some(u) => send(&mut link, &[b"AUTH", u.as_bytes(), pass]).await?,
                None => send(&mut link, &[b"AUTH", pass]).await?,
            }
            let reply = read_line(&mut link, timeout).await?;
            if reply.starts_with('-') {
                return Err(format!("Unable to AUTH to MASTER: {reply}"));
            }
        }
        send(&mut link, &[b"REPLCONF", b"listening-port", my_port.to_string().as_bytes()]).await?;
        read_line(&mut link, timeout).await?;
        if let Some(ip) = &announce_ip {
            send(&mut link, &[b"REPLCONF", b"ip-address", ip.as_bytes()]).await?;
            read_line(&mut link, timeout).await?;
        }
        send(&mut link, &[b"REPLCONF", b"capa", b"eof", b"capa", b"psync2"]).await?;
        read_line(&mut link, timeout).await?;
        let (history, failover) = {
            let srv = shared.lock_async().await;
            let m = srv.master.as_ref().filter(|m| m.generation == generation);
            (m.filter(|m| m.can_psync).map(|_| (srv.replid.clone(), srv.replicas.offset + 1)), m.is_some_and(|m| m.failover))
        };
        match &history {
            Some((replid, from)) if failover => {
                tracing::info!("Trying a partial resynchronization (request {replid}:{from}) with a failover request.");
                send(&mut link, &[b"PSYNC", replid.as_bytes(), from.to_string().as_bytes(), b"FAILOVER"]).await?;
            }
            Some((replid, from)) => {
                tracing::info!("Trying a partial resynchronization (request {replid}:{from}).");
                send(&mut link, &[b"PSYNC", replid.as_bytes(), from.to_string().as_bytes()]).await?;
            }
            None => {
                tracing::info!("Partial resynchronization not possible (no cached master)");
                send(&mut link, &[b"PSYNC", b"?", b"-1"]).await?;
            }
        }
        let reply = read_line(&mut link, timeout).await?;
        if failover {
            // The target took over (it answers as a master would), or not.
            let accepted = reply.starts_with("+FULLRESYNC") || reply.starts_with("+CONTINUE");
            let mut srv = shared.lock_async().await;
            if current(&srv, generation) {
                if let Some(m) = srv.master.as_mut() {
                    m.failover = false;
                }
                crate::failover::psync_answered(&mut srv, accepted);
            }
        }
        let mut words = reply.split(' ');
        match words.next() {
            Some("+FULLRESYNC") => {
                let replid = words.next().unwrap_or_default().to_string();
                let offset: i64 = words.next().and_then(|o| o.parse().ok()).unwrap_or(0);
                tracing::info!("Full resync from master: {replid}:{offset}");
                Ok::<_, String>(Sync::Full(replid, offset))
            }
            Some("+CONTINUE") => Ok(Sync::Partial(words.next().map(str::to_string))),
            _ if reply.starts_with("-NOMASTERLINK") || reply.starts_with("-LOADING") => {
                Err(format!("Master is currently unable to PSYNC but should be in the future: {reply}"))
            }
            _ => Err(format!("Unexpected reply to PSYNC from master: {reply}")),
        }
    };
    let (replid, offset) = match handshake.await? {
        Sync::Full(replid, offset) => (replid, offset),
        Sync::Partial(new_id) => {
            let id = {
                let mut srv = shared.lock_async().await;
                if !current(&srv, generation) {
                    return Ok(());
                }
                continue_history(&mut srv, new_id);
                let offset = srv.replicas.offset as i64;
                let db = srv.master.as_ref().expect("current").stream_db;
                attach_master_client(&mut srv, &link, offset, db)
            };
            return stream_commands(shared, generation, id, link).await;
        }
    };
    {
        let mut srv = shared.lock_async().await;
        if !current(&srv, generation) {
            return Ok(());
        }
        srv.master.as_mut().expect("current").state = LinkState::Transfer;
    }
    let image = read_snapshot(&mut link, timeout).await?;
    let id = {
        let mut srv = shared.lock_async().await;
        if !current(&srv, generation) {
            return Ok(());
        }
        tracing::info!("MASTER <-> REPLICA sync: Flushing old data");
        // The dataset our history described goes: our replicas must sync
        // anew, and until this load succeeds there is no history to continue.
        srv.master.as_mut().expect("current").can_psync = false;
        crate::replication::disconnect_replicas(&mut srv);
        srv.db.flush_all();
        crate::tracking::invalidate_all(&mut srv);
        srv.scripting.flush_functions();
        let limits = crate::rdb::object::EncodingLimits::from_config(&srv.config);
        let now = crate::clock::now_ms();
        tracing::info!("MASTER <-> REPLICA sync: Loading DB in memory");
        // A replica keeps keys whose TTL has passed: the master's DEL
        // says when they go.
        let mut functions = Vec::new();
        let loaded = crate::rdb::file::load_prefix(&image, &mut srv.db, &mut functions, &limits, now)
            .map_err(|e| e.to_string())
            .and_then(|_| srv.scripting.install_libraries(&functions, false));
        if let Err(e) = loaded {
            srv.db.flush_all();
            return Err(format!("Failed trying to load the MASTER synchronization DB from socket: {e}"));
        }
        srv.db.dirty = 0;
        srv.replid = replid;
        crate::replication::clear_replid2(&mut srv);
        srv.replicas.offset = offset.max(0) as u64;
        // A backlog that starts at the master's offset, for our replicas.
        srv.replicas.backlog = None;
        crate::replication::ensure_backlog(&mut srv);
        let id = attach_master_client(&mut srv, &link, offset, 0);
        // The AOF restarts from the new dataset (restartAOFAfterSYNC).
        if srv.aof.on {
            let _ = crate::aof::rewrite(&mut srv);
        }
        tracing::info!("MASTER <-> REPLICA sync: Finished with success");
        id
    };
    stream_commands(shared, generation, id, link).await
}

/// How the master answered PSYNC.
enum Sync {
    /// +FULLRESYNC replid offset: a snapshot follows.
    Full(String, i64),
    /// +CONTINUE [replid]: the stream goes on from our offset, under this
    /// replication ID if the master names one.
    Partial(Option<String>),
}

/// +CONTINUE: keep the dataset and backlog. Under a new replication ID
/// (our master was promoted), ours becomes the previous one and our
/// replicas reconnect to learn the new one (replicationResurrectCachedMaster
/// and the ID switch in slaveTryPartialResynchronization).
fn continue_history(srv: &mut Server, new_id: Option<String>) {
    tracing::info!("Successful partial resynchronization with master.");
    if let Some(id) = new_id.filter(|id| *id != srv.replid) {
        srv.replid2 = std::mem::replace(&mut srv.replid, id);
        srv.replicas.second_offset = Some(srv.replicas.offset + 1);
        tracing::info!("Master replication ID changed to {}", srv.replid);
        crate::replication::disconnect_replicas(srv);
    }
    crate::replication::ensure_backlog(srv);
    tracing::info!("MASTER <-> REPLICA sync: Master accepted a Partial Resynchronization.");
}

/// The master's client, through which its stream runs, at `offset`, in
/// database `db`.
fn attach_master_client(srv: &mut Server, link: &Link, offset: i64, db: usize) -> ClientId {
    let now = crate::clock::now_ms();
    let id = srv.clients.next_id();
    let peer = link.get_ref().peer_addr().unwrap_or_else(|_| ([0, 0, 0, 0], 0).into());
    let local = link.get_ref().local_addr().unwrap_or(peer);
    let mut c = Client::new(id, peer, local, -1, now, true);
    c.is_master = true;
    c.db = db;
    // The master's stream is applied whatever the ACLs say.
    c.user = crate::acl::SUPERUSER;
    srv.clients.map.insert(id, c);
    let m = srv.master.as_mut().expect("current");
    m.client = Some(id);
    m.offset = offset;
    m.state = LinkState::Connected;
    m.last_io_ms = now;
    m.can_psync = true;
    id
}

/// The snapshot after +FULLRESYNC: `$<len>\r\n<len bytes>`, or
/// `$EOF:<40-byte mark>\r\n<bytes><mark>` from a diskless master.
async fn read_snapshot(link: &mut Link, timeout: Duration) -> Result<Vec<u8>, String> {
    let header = read_line(link, timeout).await?;
    let Some(spec) = header.strip_prefix('$') else {
        return Err(format!("Bad protocol from MASTER, the first byte is not '$' (we received '{header}'), are you sure the host and port are right?"));
    };
    let mut image = Vec::new();
    if let Some(mark) = spec.strip_prefix("EOF:") {
        let mark = mark.as_bytes().to_vec();
        if mark.len() != 40 {
            return Err("Bad EOF mark from MASTER".into());
        }
        let mut chunk = vec![0u8; READ_CHUNK];
        loop {
            let n = tokio::time::timeout(timeout, link.read(&mut chunk))
                .await
                .map_err(|_| "Timeout receiving bulk data from MASTER... If the problem persists try to set the 'repl-timeout' parameter in redis.conf to a larger value.".to_string())?
                .map_err(|e| format!("I/O error trying to sync with MASTER: {e}"))?;
            if n == 0 {
                return Err("I/O error trying to sync with MASTER: connection lost".into());
            }
            image.extend_from_slice(&chunk[..n]);
            if image.ends_with(&mark) {
                image.truncate(image.len() - mark.len());
                return Ok(image);
            }
        }
    }
    let len: usize = spec.parse().map_err(|_| format!("Bad bulk length from MASTER: '{header}'"))?;
    let mut chunk = vec![0u8; READ_CHUNK];
    while image.len() < len {
        let want = (len - image.len()).min(READ_CHUNK);
        let n = tokio::time::timeout(timeout, link.read(&mut chunk[..want]))
            .await
            .map_err(|_| "Timeout receiving bulk data from MASTER... If the problem persists try to set the 'repl-timeout' parameter in redis.conf to a larger value.".to_string())?
            .map_err(|e| format!("I/O error trying to sync with MASTER: {e}"))?;
        if n == 0 {
            return Err("I/O error trying to sync with MASTER: connection lost".into());
        }
        image.extend_from_slice(&chunk[..n]);
    }
    Ok(image)
}

/// Above this, a drained stream buffer is given back.
const STREAM_KEEP: usize = 4 * READ_CHUNK;

/// Run the master's commands as they come, acknowledging the offset every
/// second (replicationSendAck) and whenever the master asks (GETACK).
async fn stream_commands(shared: &Arc<Shared>, generation: u64, id: ClientId, link: Link) -> Result<(), String> {
    let limits = Limits { max_bulk_len: i64::MAX, auth_required: false };
    let mut parser = RequestParser::new();
    let mut buf: Vec<u8> = link.buffer().to_vec();
    let mut stream = link.into_inner();
    let mut chunk = vec![0u8; READ_CHUNK];
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    let mut out = corvid_proto::resp::Reply::new(false);
    let timeout = Duration::from_secs(shared.lock_async().await.config.get_i64("repl-timeout").max(1) as u64);
    let mut last_read = std::time::Instant::now();
    let mut read_any = true;
    // The commands of a transaction whose EXEC has not come yet.
    let mut in_tx: Vec<u8> = Vec::new();
    // Woken when the master's client is killed.
    let wake = shared.lock_async().await.clients.map.get(&id).map(|c| c.wake.clone()).unwrap_or_default();
    loop {
        let mut ack = false;
        // CLIENT PAUSE holds a command: until when (what is read meanwhile
        // waits in `buf`).
        let mut held_until = None;
        let offset = {
            let mut srv = shared.lock_async().await;
            if !current(&srv, generation) {
                return Ok(());
            }
            // CLIENT KILL TYPE MASTER: drop the link; the next connection
            // continues from what was applied.
            if srv.clients.map.get(&id).is_none_or(|c| c.killed) {
                return Err("The master's client was killed; reconnecting".into());
            }
            let mut clock = crate::clock::BatchClock::default();
            // What goes on to our backlog and replicas, and into our offset:
            // whole commands, and a transaction only once its EXEC ran.
            let mut applied: Vec<u8> = Vec::new();
            loop {
                let start = parser.parsed_len();
                match parser.parse(&buf, &limits) {
                    Ok(Parsed::Command(cmd)) => {
                        let args = parser.args(&buf, cmd);
                        let end = parser.parsed_len();
                        if args.is_empty() {
                        } else if args.len() >= 2 && args.get(0).eq_ignore_ascii_case(b"replconf") && args.get(1).eq_ignore_ascii_case(b"getack") {
                            ack = true;
                        } else {
                            if let crate::dispatch::Flow::Paused = crate::dispatch::execute(&mut srv, id, &args, &mut out, &mut clock) {
                                // Parse it again once the pause ends.
                                held_until = Some(srv.pause.map_or(0, |p| p.until_ms));
                                buf.drain(..start);
                                parser = RequestParser::new();
                                out.buf.clear();
                                break;
                            }
                            // The master never reads our replies; an error means
                            // the datasets part ways, so it is logged (afterErrorReply).
                            if out.buf.first() == Some(&b'-') {
                                let text = String::from_utf8_lossy(&out.buf);
                                tracing::warn!(
                                    "== CRITICAL == This replica is sending an error to its master: '{}' after processing the command '{}'",
                                    text.trim_start_matches('-').trim_end(),
                                    String::from_utf8_lossy(args.get(0))
                                );
                            }
                            out.buf.clear();
                        }
                        in_tx.extend_from_slice(&buf[start..end]);
                        // The offset counts a command once it ran, and a
                        // MULTI block once its EXEC did (commandProcessed's
                        // reploff): a link cut inside a transaction resumes
                        // at its MULTI, on a client that never saw it.
                        if srv.clients.map.get(&id).is_none_or(|c| c.multi.is_none()) {
                            srv.master.as_mut().expect("current").offset += in_tx.len() as i64;
                            applied.append(&mut in_tx);
                        }
                    }
                    Ok(Parsed::Incomplete { .. }) => break,
                    Err(e) => return Err(format!("Protocol error from MASTER: {e}")),
                }
            }
            // The master's writes reach BCAST clients as a client's do.
            crate::tracking::broadcast(&mut srv);
            let m = srv.master.as_mut().expect("current");
            if read_any {
                m.last_io_ms = crate::clock::now_ms();
            }
            if !srv.aof.buf.is_empty() {
                srv.aof.flush();
            }
            // What was applied goes on, byte for byte, to our backlog and
            // replicas (replicationFeedStreamFromMasterStream).
            crate::replication::feed_stream(&mut srv, &applied);
            if held_until.is_none() {
                let consumed = parser.parsed_len();
                parser.consume(consumed);
                buf.drain(..consumed);
            }
            // A big command leaves big buffers behind; drained, they go
            // back to the usual size (they count as used_memory).
            if buf.capacity() > STREAM_KEEP && buf.len() < STREAM_KEEP / 4 {
                buf.shrink_to(READ_CHUNK.max(buf.len()));
            }
            if in_tx.capacity() > STREAM_KEEP && in_tx.len() < STREAM_KEEP / 4 {
                in_tx.shrink_to(in_tx.len());
            }
            let m = srv.master.as_mut().expect("current");
            m.unapplied = (in_tx.len() + buf.len()) as i64;
            m.offset
        };
        if ack {
            send_ack(&mut stream, offset).await?;
        }
        read_any = false;
        let held_wait = held_until.map(|until| Duration::from_millis((until - crate::clock::now_ms()).clamp(1, 100) as u64));
        tokio::select! {
            _ = tokio::time::sleep(held_wait.unwrap_or_default()), if held_wait.is_some() => {}
            _ = shared.unpaused.notified(), if held_wait.is_some() => {}
            n = stream.read(&mut chunk) => {
                let n = n.map_err(|e| format!("Error reading from MASTER: {e}"))?;
                if n == 0 {
                    return Err("MASTER closed the connection".into());
                }
                buf.extend_from_slice(&chunk[..n]);
                read_any = true;
                last_read = std::time::Instant::now();
            }
            _ = wake.notified() => {}
            _ = tick.tick() => {
                // The master PINGs every repl-ping-replica-period; silence
                // for repl-timeout means the link is dead even if TCP says not.
                if last_read.elapsed() > timeout {
                    return Err("MASTER timeout: no data nor PING received...".into());
                }
                send_ack(&mut stream, offset).await?
            }
        }
    }
}

async fn send_ack(stream: &mut TcpStream, offset: i64) -> Result<(), String> {
    let mut out = Vec::new();
    encode_command(&mut out, &[&b"REPLCONF"[..], b"ACK", offset.to_string().as_bytes()]);
    stream.write_all(&out).await.map_err(|e| format!("Error writing to MASTER: {e}"))
}
