//! The TCP listening sockets: every `bind` address on `port`, bound at start
//! and bound again when CONFIG SET changes either (Redis's listenToPort,
//! changeListenPort and changeBindAddr).
//!
//! A set of sockets is replaced without waiting for its accept tasks: the
//! old sockets are shut down for reading, which stops them listening and
//! frees their addresses at once (Linux), and their tasks, finding their
//! generation gone, end and close them.

use std::net::SocketAddr;
use std::os::fd::{AsRawFd, RawFd};
use std::sync::Arc;

use tokio::net::TcpListener;

use crate::server::{Server, Shared};

/// The sockets accepting now, by generation.
#[derive(Debug, Default)]
pub struct Listening {
    /// Bumped with each new set: an accept task of an older one ends.
    pub generation: u64,
    fds: Vec<RawFd>,
}

impl Listening {
    /// The listening sockets' descriptors (the busy-script thread polls them).
    pub fn fds(&self) -> Vec<RawFd> {
        self.fds.clone()
    }
}

/// Why an address could not be listened on.
#[derive(Debug, thiserror::Error)]
pub enum BindError {
    #[error("Invalid bind address '{0}'")]
    Invalid(String),
    #[error("Could not create server TCP listening socket {host}:{port}: bind: {source}")]
    Bind { host: String, port: u16, source: std::io::Error },
}

/// Listen on each address on `port`. An address written with a leading "-"
/// is optional: one that cannot be bound (no IPv6, say) is skipped. No
/// address at all (`bind ""`) means no TCP socket.
pub fn bind_all(addrs: &[String], port: u16, backlog: u32) -> Result<Vec<TcpListener>, BindError> {
    let mut listeners = Vec::new();
    if port == 0 {
        return Ok(listeners);
    }
    for addr in addrs {
        let optional = addr.starts_with('-');
        let host = addr.trim_start_matches('-');
        let host = match host {
            "*" => "0.0.0.0",
            "::*" => "::",
            h => h,
        };
        let sock: SocketAddr = format!("{host}:{port}")
            .parse()
            .or_else(|_| format!("[{host}]:{port}").parse())
            .map_err(|_| BindError::Invalid(host.to_string()))?;
        match bind(sock, backlog) {
            Ok(l) => listeners.push(l),
            Err(e) if optional => tracing::debug!("Skipping optional bind {sock}: {e}"),
            Err(source) => return Err(BindError::Bind { host: host.to_string(), port, source }),
        }
    }
    Ok(listeners)
}

fn bind(addr: SocketAddr, backlog: u32) -> std::io::Result<TcpListener> {
    let sock = if addr.is_ipv4() { tokio::net::TcpSocket::new_v4()? } else { tokio::net::TcpSocket::new_v6()? };
    sock.set_reuseaddr(true)?;
    if addr.is_ipv6() {
        // "::" must not take the IPv4 port that "*" binds too (anetV6Only).
        let on: libc::c_int = 1;
        // SAFETY: a valid socket and a c_int option of the right size.
        let rc = unsafe {
            libc::setsockopt(sock.as_raw_fd(), libc::IPPROTO_IPV6, libc::IPV6_V6ONLY, (&on as *const libc::c_int).cast(), std::mem::size_of::<libc::c_int>() as libc::socklen_t)
        };
        if rc != 0 {
            return Err(std::io::Error::last_os_error());
        }
    }
    sock.bind(addr)?;
    sock.listen(backlog)
}

/// `unixsocket`: listen on that path (a file left there by a previous run
/// goes first, as in Redis), with `unixsocketperm` when set.
pub fn bind_unix(path: &str, perm: u32) -> std::io::Result<tokio::net::UnixListener> {
    let _ = std::fs::remove_file(path);
    let l = tokio::net::UnixListener::bind(path)?;
    if perm != 0 {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(perm))?;
    }
    Ok(l)
}

/// Start accepting on `listeners` as the current set.
pub fn install(shared: &Arc<Shared>, srv: &mut Server, listeners: Vec<TcpListener>) {
    srv.listening.generation += 1;
    srv.listening.fds = listeners.iter().map(|l| l.as_raw_fd()).collect();
    shared.script.set_listeners(srv.listening.fds());
    for l in listeners {
        tokio::spawn(crate::listener::accept_loop(shared.clone(), l, srv.listening.generation));
    }
}

/// Stop the current set listening (its tasks end on their next accept).
fn stop_current(srv: &mut Server) {
    for &fd in &srv.listening.fds {
        // SAFETY: a descriptor of one of our listening sockets, still open
        // (its task closes it only once the generation moved on).
        unsafe {
            libc::shutdown(fd, libc::SHUT_RD);
        }
    }
    srv.listening.fds.clear();
}

fn backlog(srv: &Server) -> u32 {
    srv.config.get_i64("tcp-backlog").clamp(0, i64::from(i32::MAX)) as u32
}

/// CONFIG SET port: listen on the new port first, then let the old one go;
/// if the new one cannot be had, the old stays (changeListenPort).
pub fn change_port(srv: &mut Server, port: u16) -> Result<(), String> {
    if port == srv.tcp_port {
        return Ok(());
    }
    let Some(shared) = srv.scripting.watch.shared() else { return Err("not serving".into()) };
    let new = bind_all(&srv.config.bind_addrs(), port, backlog(srv)).map_err(|e| {
        tracing::warn!("{e}");
        "Unable to listen on this port".to_string()
    })?;
    stop_current(srv);
    install(&shared, srv, new);
    srv.tcp_port = port;
    Ok(())
}

/// CONFIG SET bind: the old addresses go first (the new ones may overlap
/// them); if the new ones cannot be bound, the old are bound again
/// (changeBindAddr).
pub fn change_bind(srv: &mut Server, old: &[String]) -> Result<(), String> {
    let Some(shared) = srv.scripting.watch.shared() else { return Err("not serving".into()) };
    stop_current(srv);
    let port = srv.tcp_port;
    match bind_all(&srv.config.bind_addrs(), port, backlog(srv)) {
        Ok(new) => {
            install(&shared, srv, new);
            Ok(())
        }
        Err(e) => {
            tracing::warn!("{e}");
            match bind_all(old, port, backlog(srv)) {
                Ok(again) => install(&shared, srv, again),
                Err(e) => tracing::warn!("Failed to restore old listening sockets: {e}"),
            }
            Err("Failed to bind to specified addresses.".to_string())
        }
    }
}
