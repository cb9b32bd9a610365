//! Client I/O while a script is busy on the current-thread runtime.
//!
//! With `io-threads 1` every connection task runs on the thread that is
//! running the script, so none of them can read a SCRIPT KILL. Once the
//! script times out, this thread takes over their sockets until it ends:
//! it accepts, reads and parses commands and hands each to the script's
//! hook as a job (see [`super::busy`]), then writes the reply. Bytes it read
//! but did not get served (the script ended first) go back to the
//! connection task, and the connections it accepted to the listener.
//!
//! On the multi-thread runtime the connection tasks do this themselves.

use std::io::Write;
use std::net::{SocketAddr, TcpStream};
use std::os::fd::{AsRawFd, FromRawFd, RawFd};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use corvid_proto::resp::{ArgVec, Limits, Parsed, RequestParser};

use super::busy::Watch;
use crate::client::ClientId;

/// A connection this thread reads while the script is busy.
struct Conn {
    id: Option<ClientId>,
    fd: RawFd,
    buf: Vec<u8>,
    /// No more input (EOF, error or closed by a reply).
    done: bool,
    /// Accepted here: handed to the listener afterwards.
    accepted: Option<(TcpStream, SocketAddr)>,
}

/// A connection accepted while busy, for the listener to adopt: its
/// stream, peer and the client registered for it (None: not yet; what it
/// sent that was not served waits in the client's `pending_in`).
pub struct Adopted {
    pub stream: TcpStream,
    pub addr: SocketAddr,
    pub id: Option<ClientId>,
}

/// Start serving `clients` and the listening sockets; returns the flag
/// that stops the thread.
pub fn start(watch: Arc<Watch>, clients: Vec<(ClientId, RawFd)>, listeners: Vec<RawFd>) -> Arc<AtomicBool> {
    let stop = Arc::new(AtomicBool::new(false));
    let flag = stop.clone();
    let conns = clients.into_iter().map(|(id, fd)| Conn { id: Some(id), fd, buf: Vec::new(), done: false, accepted: None }).collect();
    let spawned = std::thread::Builder::new().name("busy-script-io".into()).spawn(move || run(&watch, &flag, conns, &listeners));
    if let Err(e) = spawned {
        tracing::warn!("Could not start the thread serving clients during a busy script: {e}");
    }
    stop
}

/// Input kept per connection at most; beyond it the thread stops reading
/// it (the connection task applies its own limit afterwards).
const MAX_PENDING: usize = 1 << 20;

fn run(watch: &Arc<Watch>, stop: &AtomicBool, mut conns: Vec<Conn>, listeners: &[RawFd]) {
    let limits = Limits { max_bulk_len: 512 * 1024 * 1024, auth_required: false };
    'outer: while !stop.load(Ordering::Acquire) {
        let mut fds: Vec<libc::pollfd> = listeners.iter().map(|&fd| libc::pollfd { fd, events: libc::POLLIN, revents: 0 }).collect();
        let live: Vec<usize> = (0..conns.len()).filter(|&i| !conns[i].done && conns[i].buf.len() < MAX_PENDING).collect();
        fds.extend(live.iter().map(|&i| libc::pollfd { fd: conns[i].fd, events: libc::POLLIN, revents: 0 }));
        // SAFETY: fds is a valid array of pollfd for its length.
        let n = unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, 10) };
        if n <= 0 {
            continue;
        }
        for (k, p) in fds.iter().enumerate().take(listeners.len()) {
            if p.revents & libc::POLLIN != 0 && !stop.load(Ordering::Acquire) {
                if let Some(c) = accept(watch, listeners[k]) {
                    conns.push(c);
                }
            }
        }
        for (k, &i) in live.iter().enumerate() {
            let p = fds[listeners.len() + k];
            if p.revents == 0 {
                continue;
            }
            read_some(&mut conns[i]);
            if !serve(watch, &mut conns[i], &limits) || stop.load(Ordering::Acquire) {
                break 'outer;
            }
            if conns[i].done && conns[i].buf.is_empty() {
                // The peer went away: a replica stops counting now, as when
                // Redis frees it between two script hooks.
                if let Some(id) = conns[i].id {
                    let _ = watch.submit(move |srv| crate::replication::detach(srv, id));
                }
            }
        }
    }
    hand_back(watch, conns);
}

/// Accept one connection and register its client through the hook.
fn accept(watch: &Arc<Watch>, listener: RawFd) -> Option<Conn> {
    // SAFETY: accept4 on a listening socket we do not own but only borrow;
    // the new descriptor is ours and wrapped at once.
    let fd = unsafe { libc::accept4(listener, std::ptr::null_mut(), std::ptr::null_mut(), libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC) };
    if fd < 0 {
        return None;
    }
    // SAFETY: fd is a fresh, open socket owned by nobody else.
    let stream = unsafe { TcpStream::from_raw_fd(fd) };
    let addr = stream.peer_addr().ok()?;
    let laddr = stream.local_addr().unwrap_or(addr);
    let _ = stream.set_nodelay(true);
    let id = match watch.submit(move |srv| crate::listener::register_client(srv, addr, laddr, fd)) {
        Ok(rx) => match rx.blocking_recv() {
            Ok(Ok(id)) => Some(id),
            Ok(Err(msg)) => {
                let mut s = &stream;
                let _ = s.write_all(msg);
                return None;
            }
            Err(_) => None,
        },
        // The script is over: the listener registers it.
        Err(_) => None,
    };
    Some(Conn { id, fd, buf: Vec::new(), done: false, accepted: Some((stream, addr)) })
}

fn read_some(c: &mut Conn) {
    let mut chunk = [0u8; 16 * 1024];
    loop {
        // SAFETY: reading into a local buffer of the given length.
        let n = unsafe { libc::recv(c.fd, chunk.as_mut_ptr().cast(), chunk.len(), libc::MSG_DONTWAIT) };
        if n > 0 {
            c.buf.extend_from_slice(&chunk[..n as usize]);
            if c.buf.len() >= MAX_PENDING {
                return;
            }
            continue;
        }
        if n == 0 || std::io::Error::last_os_error().kind() != std::io::ErrorKind::WouldBlock {
            c.done = true;
        }
        return;
    }
}

/// Serve the complete commands in `c`'s buffer one by one; false once the
/// script is over (the rest of the input then goes back to the client).
fn serve(watch: &Arc<Watch>, c: &mut Conn, limits: &Limits) -> bool {
    let Some(id) = c.id else { return true };
    loop {
        let mut parser = RequestParser::new();
        let cmd = match parser.parse(&c.buf, limits) {
            Ok(Parsed::Command(cmd)) => cmd,
            Ok(Parsed::Incomplete { .. }) => return true,
            Err(_) => {
                // Left for the connection task, which answers protocol errors.
                c.done = true;
                return true;
            }
        };
        let used = parser.parsed_len();
        let args = parser.args(&c.buf, cmd);
        if args.is_empty() {
            c.buf.drain(..used);
            continue;
        }
        let mut argv = ArgVec::default();
        for a in args.iter() {
            argv.push(a);
        }
        let Ok(rx) = watch.submit(move |srv| super::busy::serve(srv, id, &argv)) else { return false };
        match rx.blocking_recv() {
            Ok(Some(answer)) => {
                c.buf.drain(..used);
                write_all(c.fd, &answer.bytes);
                if answer.close {
                    c.done = true;
                    return true;
                }
            }
            _ => return false,
        }
    }
}

/// Write to a non-blocking socket, waiting while it is full.
fn write_all(fd: RawFd, mut bytes: &[u8]) {
    while !bytes.is_empty() {
        // SAFETY: writing from a live slice of the given length.
        let n = unsafe { libc::send(fd, bytes.as_ptr().cast(), bytes.len(), libc::MSG_DONTWAIT | libc::MSG_NOSIGNAL) };
        if n > 0 {
            bytes = &bytes[n as usize..];
            continue;
        }
        if std::io::Error::last_os_error().kind() != std::io::ErrorKind::WouldBlock {
            return;
        }
        let mut p = libc::pollfd { fd, events: libc::POLLOUT, revents: 0 };
        // SAFETY: one valid pollfd.
        if unsafe { libc::poll(&mut p, 1, 1000) } <= 0 {
            return;
        }
    }
}

/// The script is over: unserved input goes back to its connection task,
/// accepted connections to the listener.
fn hand_back(watch: &Arc<Watch>, conns: Vec<Conn>) {
    let Some(shared) = watch.shared() else { return };
    let mut adopted = Vec::new();
    {
        // A plain thread may block: the script is done, the lock is free soon.
        let mut srv = shared.lock();
        for c in conns {
            if let Some(id) = c.id {
                if let Some(client) = srv.clients.map.get_mut(&id) {
                    if !c.buf.is_empty() {
                        client.pending_in.extend_from_slice(&c.buf);
                    }
                    if c.accepted.is_none() && !c.buf.is_empty() {
                        client.wake.notify_one();
                    }
                }
            }
            if let Some((stream, addr)) = c.accepted {
                debug_assert_eq!(stream.as_raw_fd(), c.fd);
                adopted.push(Adopted { stream, addr, id: c.id });
            }
        }
    }
    if !adopted.is_empty() {
        watch.adopt(adopted);
    }
}
