//! One client connection: read whatever the socket has, parse every complete
//! command in it, run them as one batch under one lock, write all replies
//! with one syscall. Parsing and socket I/O happen outside the lock.

use std::sync::Arc;
use std::time::Duration;

use bytes::{Buf, BytesMut};
use corvid_proto::resp::{Command, Limits, Parsed, Reply, RequestParser};
use tokio::io::{AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpStream, UnixStream};

use crate::client::ClientId;
use crate::clock::BatchClock;
use crate::dispatch::{self, Flow};
use crate::server::Shared;

const READ_CHUNK: usize = 16 * 1024;
/// Above this, a drained input buffer is not kept.
const IN_KEEP: usize = 4 * READ_CHUNK;
/// Above this, an output buffer is not kept for reuse.
const OUT_KEEP: usize = 64 * 1024;

/// What a connection needs of its socket: TCP and Unix sockets alike
/// (their tokio types share these methods without a common trait).
pub trait Socket: AsyncWrite + Unpin + Send + 'static {
    fn readable(&self) -> impl std::future::Future<Output = std::io::Result<()>> + Send;
    fn writable(&self) -> impl std::future::Future<Output = std::io::Result<()>> + Send;
    fn try_read_buf(&self, buf: &mut BytesMut) -> std::io::Result<usize>;
    fn try_write(&self, bytes: &[u8]) -> std::io::Result<usize>;
}

macro_rules! socket_impl {
    ($t:ty) => {
        impl Socket for $t {
            fn readable(&self) -> impl std::future::Future<Output = std::io::Result<()>> + Send {
                <$t>::readable(self)
            }
            fn writable(&self) -> impl std::future::Future<Output = std::io::Result<()>> + Send {
                <$t>::writable(self)
            }
            fn try_read_buf(&self, buf: &mut BytesMut) -> std::io::Result<usize> {
                <$t>::try_read_buf(self, buf)
            }
            fn try_write(&self, bytes: &[u8]) -> std::io::Result<usize> {
                <$t>::try_write(self, bytes)
            }
        }
    };
}
socket_impl!(TcpStream);
socket_impl!(UnixStream);

pub async fn serve<S: Socket>(shared: Arc<Shared>, mut stream: S, id: ClientId) {
    let Some(Some(wake)) = shared.with_server(move |srv| srv.clients.map.get(&id).map(|c| c.wake.clone())).await else {
        return;
    };
    let mut buf = BytesMut::with_capacity(READ_CHUNK);
    // Set when complete commands were left in the buffer unparsed; at first,
    // when a busy script's I/O thread accepted this client and read for it.
    let mut more = take_pending_input(&shared, id, &mut buf).await;
    let mut parser = RequestParser::new();
    let mut out = Reply::new(false);
    // Replies the peer has not read yet: the connection keeps reading and
    // running commands meanwhile, as Redis does (a client may write a
    // whole pipeline before reading a reply), within the output limits.
    let mut outq = OutQueue::default();
    let mut cmds: Vec<Command> = Vec::with_capacity(64);
    let (mut limits, mut qbuf_limit) = limits_for(&shared, id).await;
    // The buffer length that completes the argument being read, when a
    // big bulk is under way: room for it was reserved exactly, and growing
    // past it (BytesMut doubles) would count as the client's memory.
    let mut need = 0usize;
    'conn: loop {
        let sized_for_bulk = need > buf.len() && buf.capacity() >= need;
        if buf.capacity() - buf.len() < READ_CHUNK / 4 && !sized_for_bulk {
            buf.reserve(READ_CHUNK);
        }
        let n = if more { 0 } else { tokio::select! {
            r = stream.readable() => match r.and_then(|_| stream.try_read_buf(&mut buf)) {
                Ok(0) => break 'conn,
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => continue 'conn,
                Err(_) => break 'conn,
            },
            w = stream.writable(), if !outq.is_empty() => {
                if w.is_err() || outq.write_now(&stream).is_err() {
                    break 'conn;
                }
                if outq.is_empty() {
                    let spare = outq.spare();
                    shared.with_server(move |srv| {
                        if let Some(c) = srv.clients.map.get_mut(&id) {
                            c.out_queued = 0;
                            c.out_spare = spare;
                            if srv.client_eviction_limit != 0 {
                                srv.clients.update_mem(id);
                            }
                        }
                    }).await;
                }
                continue 'conn;
            }
            _ = wake.notified() => {
                // Woken to close, to send output produced elsewhere (the
                // replication stream, pub/sub messages), or to run input
                // read while a script was busy. Replies queued earlier go first.
                if outq.write_all(&mut stream).await.is_err() {
                    break 'conn;
                }
                if !write_pending(&shared, id, &wake, &mut stream).await {
                    break 'conn;
                }
                if take_pending_input(&shared, id, &mut buf).await {
                    more = true;
                }
                continue 'conn;
            }
        } };
        more = false;

        // Parse every complete command; an authenticating client parses one
        // at a time because AUTH changes the limits for what follows.
        let mut protocol_error = None;
        cmds.clear();
        need = 0;
        loop {
            match parser.parse(&buf, &limits) {
                Ok(Parsed::Command(c)) => {
                    cmds.push(c);
                    if limits.auth_required {
                        more = true;
                        break;
                    }
                }
                Ok(Parsed::Incomplete { need: want }) => {
                    if want > buf.len() {
                        buf.reserve(want - buf.len());
                    }
                    need = want;
                    break;
                }
                Err(e) => {
                    protocol_error = Some(e);
                    break;
                }
            }
        }

        let mut next = 0;
        let mut close = false;
        let mut shutting_down = false;
        loop {
            let mut paused_until = None;
            let mut blocked = false;
            let mut waiting = None;
            // A script past its time limit holds the lock: its hook serves
            // this client's commands meanwhile (BUSY for most of them).
            {
                let guard = loop {
                    if let Some(g) = shared.lock_unless_busy().await {
                        break Some(g);
                    }
                    serve_while_busy(&shared, id, &parser, &buf, &cmds, &mut next, &mut out, &mut close).await;
                    if close || (next == cmds.len() && protocol_error.is_none()) {
                        break None;
                    }
                };
                if let Some(mut srv) = guard {
                    srv.stats.net_input_bytes += n as u64;
                    srv.stats.total_reads_processed += 1;
                    // While its commands run, the batch is the client's query
                    // buffer (what CLIENT LIST shows as qbuf, as in Redis).
                    if let Some(c) = srv.clients.map.get_mut(&id) {
                        c.qbuf = buf.len();
                        c.qbuf_free = buf.capacity() - buf.len();
                        // Messages published before this batch go out before its replies.
                        if !c.pending_out.is_empty() {
                            out.raw(&std::mem::take(&mut c.pending_out));
                        }
                    }
                    // What it just read may put the clients over
                    // maxmemory-clients, before its commands run (Redis
                    // checks after reading and before each command). A
                    // no-evict client is accounted after its batch only.
                    if srv.client_eviction_limit != 0 && srv.clients.map.get(&id).is_some_and(|c| c.evictable()) {
                        srv.clients.update_mem(id);
                        crate::client_eviction::evict(&mut srv);
                        if srv.clients.map.get(&id).is_none_or(|c| c.killed) {
                            close = true;
                        }
                    }
                    if cmds.len() - next > 1 {
                        prefetch_keys(&srv, id, &parser, &buf, &cmds[next..]);
                    }
                    let mut clock = BatchClock::default();
                    while !close && next < cmds.len() {
                        let args = parser.args(&buf, cmds[next]);
                        if args.is_empty() {
                            next += 1;
                            continue;
                        }
                        match dispatch::execute(&mut srv, id, &args, &mut out, &mut clock) {
                            Flow::Continue => {
                                next += 1;
                                // Replies piling up in a pipeline count as
                                // the command that made them ends, before
                                // the next one may evict keys for them.
                                if srv.client_eviction_limit != 0 && next < cmds.len() && evicted_by_output(&mut srv, id, outq.len() + out.len(), outq.spare()) {
                                    close = true;
                                    out.buf.clear();
                                    outq = OutQueue::default();
                                }
                            }
                            Flow::Close => {
                                close = true;
                                break;
                            }
                            Flow::Paused => {
                                paused_until = srv.current_pause().map(|p| p.until_ms);
                                break;
                            }
                            Flow::Blocked => {
                                blocked = true;
                                break;
                            }
                            Flow::Wait(deadline) => {
                                waiting = Some(deadline);
                                break;
                            }
                        }
                    }
                    if !close && paused_until.is_none() && waiting.is_none() {
                        if let Some(e) = protocol_error {
                            out.error(&format!("ERR {e}"));
                            tracing::debug!("Protocol error ({e}) from client: id={id}");
                            close = true;
                        } else if buf.len() > qbuf_limit {
                            tracing::warn!("Closing client that reached max query buffer length: id={id} (qbuf initial bytes: {:?})", String::from_utf8_lossy(&buf[..buf.len().min(64)]));
                            srv.stats.client_query_buffer_limit_disconnections += 1;
                            close = true;
                        }
                    }
                    // BCAST clients hear of the batch's changes once it is
                    // done, one message per prefix (Redis's beforeSleep).
                    crate::tracking::broadcast(&mut srv);
                    // The batch's writes reach the AOF before its replies
                    // reach the client.
                    if !srv.aof.buf.is_empty() {
                        srv.aof.flush();
                    }
                    srv.stats.net_output_bytes += out.len() as u64;
                    let obuf_limits = srv.obuf_limits;
                    if let Some(c) = srv.clients.map.get_mut(&id) {
                        // What is left once the batch is consumed, as Redis
                        // would hold it: the partial element, and the
                        // complete arguments of a command still arriving.
                        (c.qbuf, c.argv_mem) = parser.pending(buf.len());
                        c.qbuf_free = buf.capacity() - buf.len();
                        c.rbp = c.rbp.max(out.len());
                        // Replies not yet read count against the client's
                        // output limit; past it, the client is closed
                        // without them (checkClientOutputBufferLimits).
                        c.out_queued = outq.len() + out.len();
                        if c.out_queued > 0 && !c.is_master {
                            let limit = obuf_limits[c.output_class()];
                            crate::pubsub::check_output_limit(c, limit, crate::clock::now_ms());
                            if c.killed {
                                close = true;
                                out.buf.clear();
                                outq = OutQueue::default();
                            }
                        }
                        // What the socket does not take now stays queued
                        // (written here, under the lock, so the count is
                        // exact when the next command looks).
                        if !out.is_empty() {
                            if outq.push_and_write(&stream, &out.buf).is_err() {
                                close = true;
                                outq = OutQueue::default();
                            }
                            out.buf.clear();
                        }
                        c.out_queued = outq.len();
                        c.out_spare = outq.spare();
                    }
                    if srv.client_eviction_limit != 0 {
                        srv.clients.update_mem(id);
                        crate::client_eviction::evict(&mut srv);
                        if srv.clients.map.get(&id).is_none_or(|c| c.killed) {
                            close = true;
                            outq = OutQueue::default();
                        }
                    }
                    (limits, qbuf_limit) = limits_of(&srv, id);
                    if srv.shutdown.is_some() {
                        shared.shutdown.notify_one();
                        shutting_down = true;
                    }
                    if std::mem::take(&mut srv.wake_paused) {
                        shared.unpaused.notify_waiters();
                    }
                }
            }
            if !out.is_empty() {
                // Replies made without the lock (a busy script answering
                // for the server) or for a client already gone.
                if outq.push_and_write(&stream, &out.buf).is_err() {
                    break 'conn;
                }
                out.buf.clear();
            }
            if out.buf.capacity() > OUT_KEEP {
                out.buf = Vec::with_capacity(READ_CHUNK);
            }
            // Before closing or waiting, the peer gets every reply so far.
            let waits = close || shutting_down || blocked || waiting.is_some() || paused_until.is_some();
            if waits && outq.write_all(&mut stream).await.is_err() {
                break 'conn;
            }
            if shutting_down {
                // The process exits next; closing first would let the
                // client reconnect before the listener is gone (Redis
                // exits from within SHUTDOWN).
                std::future::pending::<()>().await;
            }
            if close {
                break 'conn;
            }
            if blocked {
                match wait_unblocked(&shared, id, &wake).await {
                    Some(reply) => {
                        out.raw(&reply);
                        next += 1;
                        continue;
                    }
                    None => break 'conn,
                }
            }
            if let Some(deadline) = waiting {
                // WAIT runs again when a replica acknowledges or time is up.
                let wait = deadline.map_or(1000, |d| (d - crate::clock::now_ms()).clamp(0, 1000));
                tokio::select! {
                    _ = wake.notified() => {}
                    _ = tokio::time::sleep(Duration::from_millis(wait as u64)) => {}
                }
                continue;
            }
            match paused_until {
                None => break,
                Some(until) => {
                    let wait = (until - crate::clock::now_ms()).clamp(1, 100);
                    tokio::select! {
                        _ = tokio::time::sleep(Duration::from_millis(wait as u64)) => {}
                        _ = shared.unpaused.notified() => {}
                    }
                }
            }
        }
        let consumed = parser.parsed_len();
        buf.advance(consumed);
        parser.consume(consumed);
        need = need.saturating_sub(consumed);
        // A buffer grown for a big argument or a burst goes back to the
        // usual size once drained, so a fast pipeline reads in chunks
        // instead of holding (and making the allocator hold) megabytes.
        if buf.capacity() > IN_KEEP && buf.len() < READ_CHUNK && need <= buf.len() {
            let mut fresh = BytesMut::with_capacity(READ_CHUNK);
            fresh.extend_from_slice(&buf);
            buf = fresh;
        }
    }
    let _ = stream.shutdown().await;
    let mut srv = shared.lock_async().await;
    crate::blocking::unblock(&mut srv, id);
    crate::shutdown::forget(&mut srv, id);
    crate::cmd::multi::unwatch_all(&mut srv, id);
    crate::pubsub::forget(&mut srv, id);
    crate::cmd::server::stop_monitoring(&mut srv, id);
    crate::tracking::disable(&mut srv, id);
    crate::script::ldb::forget(&mut srv, id);
    srv.clients.remove(id);
    crate::replication::detach(&mut srv, id);
}

/// Account `queued` bytes of replies to client `id` and run client
/// eviction; true if that closed the client itself.
fn evicted_by_output(srv: &mut crate::server::Server, id: ClientId, queued: usize, spare: usize) -> bool {
    if let Some(c) = srv.clients.map.get_mut(&id) {
        c.out_queued = queued;
        c.out_spare = spare;
    }
    srv.clients.update_mem(id);
    crate::client_eviction::evict(srv);
    srv.clients.map.get(&id).is_none_or(|c| c.killed)
}

/// Replies waiting for the peer to read them.
#[derive(Default)]
struct OutQueue {
    buf: Vec<u8>,
    /// Bytes of `buf` already written.
    sent: usize,
}

impl OutQueue {
    fn len(&self) -> usize {
        self.buf.len() - self.sent
    }

    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Bytes the buffer holds beyond the unwritten ones.
    fn spare(&self) -> usize {
        self.buf.capacity() - self.len()
    }

    fn advance(&mut self, n: usize) {
        self.sent += n;
        if self.sent == self.buf.len() {
            self.buf.clear();
            self.sent = 0;
            if self.buf.capacity() > OUT_KEEP {
                self.buf = Vec::new();
            }
        }
    }

    /// Write what the socket takes without waiting; an error means the
    /// connection is gone.
    fn write_now(&mut self, stream: &impl Socket) -> std::io::Result<()> {
        while !self.is_empty() {
            match stream.try_write(&self.buf[self.sent..]) {
                Ok(0) => return Err(std::io::ErrorKind::WriteZero.into()),
                Ok(n) => self.advance(n),
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => return Ok(()),
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    /// Send `bytes` after what is queued: straight to the socket when
    /// nothing is (the usual case, no copy), queuing what it does not take.
    fn push_and_write(&mut self, stream: &impl Socket, bytes: &[u8]) -> std::io::Result<()> {
        let mut from = 0;
        if self.is_empty() {
            while from < bytes.len() {
                match stream.try_write(&bytes[from..]) {
                    Ok(0) => return Err(std::io::ErrorKind::WriteZero.into()),
                    Ok(n) => from += n,
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break,
                    Err(e) => return Err(e),
                }
            }
        }
        self.buf.extend_from_slice(&bytes[from..]);
        Ok(())
    }

    /// Write everything queued, waiting for the peer as long as it takes.
    async fn write_all(&mut self, stream: &mut impl Socket) -> std::io::Result<()> {
        if !self.is_empty() {
            stream.write_all(&self.buf[self.sent..]).await?;
            self.advance(self.len());
        }
        Ok(())
    }
}

/// Write the client's pending output until none is left; false when the
/// connection must close (killed, e.g. past its output buffer limit, even
/// in the middle of a write to a peer that stopped reading).
/// Hand this batch's commands, from `next` on, to the busy script's hook
/// one by one; stop when the script is no longer busy (the rest then runs
/// the ordinary way) or a reply closes the connection.
#[allow(clippy::too_many_arguments)]
async fn serve_while_busy(
    shared: &Shared,
    id: ClientId,
    parser: &RequestParser,
    buf: &[u8],
    cmds: &[Command],
    next: &mut usize,
    out: &mut Reply,
    close: &mut bool,
) {
    while *next < cmds.len() {
        let args = parser.args(buf, cmds[*next]);
        if args.is_empty() {
            *next += 1;
            continue;
        }
        let mut argv = corvid_proto::resp::ArgVec::default();
        for a in args.iter() {
            argv.push(a);
        }
        let Ok(rx) = shared.script.submit(move |srv| crate::script::busy::serve(srv, id, &argv)) else { return };
        match rx.await {
            Ok(Some(answer)) => {
                out.raw(&answer.bytes);
                *next += 1;
                if answer.close {
                    *close = true;
                    return;
                }
            }
            // The script ended first: run it the ordinary way.
            _ => return,
        }
    }
}

/// Move input the busy-script thread read for this client into `buf`;
/// true if there was some.
async fn take_pending_input(shared: &Shared, id: ClientId, buf: &mut BytesMut) -> bool {
    let pending = shared.with_server(move |srv| srv.clients.map.get_mut(&id).map(|c| std::mem::take(&mut c.pending_in))).await;
    match pending.flatten() {
        Some(bytes) if !bytes.is_empty() => {
            buf.extend_from_slice(&bytes);
            true
        }
        _ => false,
    }
}

async fn write_pending(shared: &Shared, id: ClientId, wake: &tokio::sync::Notify, stream: &mut impl Socket) -> bool {
    loop {
        let pending = match shared.lock_async().await.clients.map.get_mut(&id) {
            Some(c) if !c.killed => {
                let p = std::mem::take(&mut c.pending_out);
                c.out_inflight = p.capacity();
                p
            }
            _ => return false,
        };
        if pending.is_empty() {
            return true;
        }
        let killed = async {
            loop {
                wake.notified().await;
                if shared.lock_async().await.clients.map.get(&id).is_none_or(|c| c.killed) {
                    return;
                }
            }
        };
        tokio::select! {
            r = stream.write_all(&pending) => {
                if r.is_err() {
                    return false;
                }
            }
            _ = killed => return false,
        }
        if let Some(c) = shared.lock_async().await.clients.map.get_mut(&id) {
            c.out_inflight = 0;
        }
    }
}

/// Wait while the client is blocked on keys: until a write serves it (its
/// reply), its deadline passes (a null array), or it is killed (None).
async fn wait_unblocked(shared: &Shared, id: ClientId, wake: &tokio::sync::Notify) -> Option<Vec<u8>> {
    loop {
        let deadline = {
            let mut srv = shared.lock_async().await;
            let c = srv.clients.map.get_mut(&id)?;
            if c.killed {
                return None;
            }
            if let Some(reply) = c.blocked_reply.take() {
                return Some(reply);
            }
            let deadline = c.blocked.as_ref().and_then(|b| b.deadline_ms);
            if deadline.is_some_and(|d| d <= crate::clock::now_ms()) {
                let mut out = Reply::new(c.resp == 3);
                crate::blocking::time_out(&mut srv, id, &mut out);
                return Some(out.buf);
            }
            deadline
        };
        match deadline {
            Some(d) => {
                let wait = (d - crate::clock::now_ms()).max(1) as u64;
                tokio::select! {
                    _ = wake.notified() => {}
                    _ = tokio::time::sleep(Duration::from_millis(wait)) => {}
                }
            }
            None => wake.notified().await,
        }
    }
}

/// Before a pipelined batch runs, start loading what its keys' lookups
/// will touch: every command's first argument after the name is hashed and
/// its bucket prefetched, then (once those loads are under way) the first
/// entry of each bucket. The misses of a batch then overlap instead of
/// stalling one command after another; on a large keyspace they are most of
/// a lookup's cost. A guess that is not a key costs a hash and nothing else.
/// Commands whose misses one prefetch pass overlaps.
const WINDOW: usize = 16;

fn prefetch_keys(srv: &crate::server::Server, id: ClientId, parser: &RequestParser, buf: &[u8], cmds: &[Command]) {
    let Some(db) = srv.clients.map.get(&id).map(|c| c.db) else { return };
    let table = &srv.db.dbs[db];
    if table.is_empty() {
        return;
    }
    let mut hashes = [0u64; WINDOW];
    // A script's second declared key (EVALSHA sha 2 k1 k2 ...).
    let mut second = [None::<u64>; WINDOW];
    for window in cmds.chunks(WINDOW) {
        for ((h, h2), &cmd) in hashes.iter_mut().zip(second.iter_mut()).zip(window) {
            let args = parser.args(buf, cmd);
            *h2 = None;
            if args.len() >= 2 {
                let (first, count) = script_keys(&args).unwrap_or((1, 1));
                *h = crate::keyspace::hash_of(args.get(first));
                table.prefetch(*h, 1);
                if count >= 2 {
                    let h = crate::keyspace::hash_of(args.get(first + 1));
                    table.prefetch(h, 1);
                    *h2 = Some(h);
                }
            }
        }
        for (&h, h2) in hashes[..window.len()].iter().zip(&second) {
            table.prefetch(h, 2);
            if let Some(h2) = h2 {
                table.prefetch(*h2, 2);
            }
        }
        prefetch_elements(table, parser, buf, window, &hashes);
    }
}

/// For EVAL, EVALSHA and FCALL (and their _RO forms): where their declared
/// keys start and how many there are; None for other commands or no keys.
fn script_keys(args: &corvid_proto::resp::Args<'_>) -> Option<(usize, usize)> {
    let name = args.get(0);
    if !matches!(name.first(), Some(b'e' | b'E' | b'f' | b'F')) || args.len() < 4 {
        return None;
    }
    let is_script = [&b"evalsha"[..], b"eval", b"fcall", b"evalsha_ro", b"eval_ro", b"fcall_ro"].iter().any(|n| name.eq_ignore_ascii_case(n));
    let n = corvid_proto::resp::parse_i64(args.get(2)).filter(|_| is_script)?;
    let n = usize::try_from(n).ok().filter(|&n| n >= 1)?.min(args.len() - 3);
    Some((3, n))
}

/// The same two passes for the element a set, hash or sorted-set command
/// looks up inside a large collection (SADD's member, HSET's field, ZADD's
/// member), once the keys' entries are loading: on a collection of a
/// million elements that lookup misses the cache as a key's does. Only
/// commands of those families (S*, H*, Z*) with an element argument pay
/// for the key lookup this takes.
fn prefetch_elements(table: &crate::keyspace::Table, parser: &RequestParser, buf: &[u8], window: &[Command], hashes: &[u64]) {
    use crate::keyspace::ElementArg;
    let mut found: [Option<(&crate::dict::Dict, u64)>; WINDOW] = [None; WINDOW];
    // Each command's large sorted set, for the skiplist pass.
    let mut sets: [Option<&crate::zset::ZSet>; WINDOW] = [None; WINDOW];
    let mut sorted = false;
    for (((slot, set), &cmd), &h) in found.iter_mut().zip(sets.iter_mut()).zip(window).zip(hashes) {
        let args = parser.args(buf, cmd);
        if args.len() < 3 || !matches!(args.get(0).first().map(u8::to_ascii_lowercase), Some(b's' | b'h' | b'z')) {
            continue;
        }
        if let Some((dict, arg)) = table.element_index(h, args.get(1)) {
            let member = match arg {
                ElementArg::Second => args.get(2),
                ElementArg::Last(z) => {
                    sorted = true;
                    *set = Some(z);
                    args.get(args.len() - 1)
                }
            };
            let mh = crate::keyspace::hash_of(member);
            dict.prefetch(mh, 1);
            *slot = Some((dict, mh));
        }
    }
    for (dict, mh) in found.iter().flatten() {
        dict.prefetch(*mh, 2);
    }
    if sorted {
        warm_skiplists(parser, buf, window, &sets);
    }
}

/// The third pass for sorted sets, once their members' entries are
/// loading: the places ZADD, ZINCRBY and ZREM will search for in a large
/// set's skiplist (the member's current score, and ZADD's or ZINCRBY's new
/// one), warmed together per set (see [`crate::skiplist::SkipList::warm`]).
/// On a set of a million members those searches are most of a ZADD.
fn warm_skiplists(parser: &RequestParser, buf: &[u8], window: &[Command], sets: &[Option<&crate::zset::ZSet>]) {
    // At most two places per command; commands on one set warm together.
    let mut targets = [(0.0, &b""[..]); 2 * WINDOW];
    let mut n = 0;
    let mut set: Option<&crate::zset::ZSet> = None;
    for (&cmd, &z) in window.iter().zip(sets) {
        let Some(z) = z else { continue };
        let args = parser.args(buf, cmd);
        let name = args.get(0);
        let (adds, incr) = match () {
            _ if name.eq_ignore_ascii_case(b"zadd") => (true, false),
            _ if name.eq_ignore_ascii_case(b"zincrby") => (true, true),
            _ if name.eq_ignore_ascii_case(b"zrem") => (false, false),
            _ => continue,
        };
        if let Some(s) = set.filter(|&s| !std::ptr::eq(s, z)) {
            s.warm(&targets[..std::mem::take(&mut n)]);
        }
        set = Some(z);
        let member = args.get(args.len() - 1);
        let old = z.score(member);
        if let Some(old) = old {
            targets[n] = (old, member);
            n += 1;
        }
        if adds && args.len() >= 4 {
            if let Some(score) = crate::float::string2d(args.get(args.len() - 2)) {
                let new = if incr { old.unwrap_or(0.0) + score } else { score };
                if !new.is_nan() && Some(new) != old {
                    targets[n] = (new, member);
                    n += 1;
                }
            }
        }
    }
    if let Some(s) = set {
        s.warm(&targets[..n]);
    }
}

async fn limits_for(shared: &Shared, id: ClientId) -> (Limits, usize) {
    shared.with_server(move |srv| limits_of(srv, id)).await.unwrap_or((Limits { max_bulk_len: 0, auth_required: true }, 0))
}

fn limits_of(srv: &crate::server::Server, id: ClientId) -> (Limits, usize) {
    let authed = srv.clients.map.get(&id).is_some_and(|c| c.authenticated);
    (
        Limits { max_bulk_len: srv.proto_max_bulk_len, auth_required: srv.acl.auth_required() && !authed },
        srv.query_buffer_limit,
    )
}
