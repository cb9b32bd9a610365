//! Start-up, accepting connections, and shutdown.
//!
//! `io-threads` picks the runtime: 1 (the default) runs everything on one
//! current-thread tokio runtime, as Redis runs one event loop (measured
//! fastest on small machines); more runs a multi-thread runtime.

use std::net::SocketAddr;
use std::os::fd::AsRawFd;
use std::sync::Arc;

use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};

use crate::client::{Client, ClientId};
use crate::config::Config;
use crate::daemon::Supervisor;
use crate::server::{Server, Shared};

const PROTECTED_MODE_ERR: &[u8] = b"-DENIED Redis is running in protected mode because protected mode is enabled and no password is set for the default user. In this mode connections are only accepted from the loopback interface. If you want to connect from external computers to Redis you may adopt one of the following solutions: 1) Just disable protected mode sending the command 'CONFIG SET protected-mode no' from the loopback interface by connecting to Redis from the same host the server is running, however MAKE SURE Redis is not publicly accessible from internet if you do so. Use CONFIG REWRITE to make this change permanent. 2) Alternatively you can just disable the protected mode by editing the Redis configuration file, and setting the protected mode option to 'no', and then restarting the server. 3) If you started the server manually just for testing, restart it with the '--protected-mode no' option. 4) Setup a an authentication password for the default user. NOTE: You only need to do one of the above things in order for the server to start accepting connections from the outside.\r\n";

/// Run a node until SHUTDOWN or a termination signal, then exit the
/// process with its exit code.
pub fn run(config: Config) -> i32 {
    crate::dispatch::rename_commands(config.file_directives().rename_commands.iter().map(|r| r.value.clone()).collect());
    let supervisor = crate::daemon::supervisor(config.get_enum("supervised"));
    let background = config.get_bool("daemonize") && supervisor == Supervisor::None;
    if background {
        crate::daemon::daemonize();
    }
    crate::log::init(&config.get_str("loglevel"), &config.get_str("logfile"));
    crate::crash::install(config.get_bool("crash-log-enabled"));
    let io_threads = config.get_i64("io-threads").max(1) as usize;
    let rt = if io_threads <= 1 {
        tokio::runtime::Builder::new_current_thread().enable_all().build()
    } else {
        tokio::runtime::Builder::new_multi_thread().worker_threads(io_threads).enable_all().build()
    };
    let rt = match rt {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("Failed creating the runtime: {e}");
            return 1;
        }
    };
    let code = rt.block_on(serve(config, supervisor, background));
    // Exit with the runtime still standing: dropping it would close the
    // client sockets one task at a time while the listener still accepts;
    // the kernel closes them all at once, as when Redis exits.
    std::process::exit(code)
}

async fn serve(config: Config, supervisor: Supervisor, background: bool) -> i32 {
    let port = config.get_i64("port") as u16;
    let exe = std::env::current_exe().map(|p| p.display().to_string()).unwrap_or_default();
    let config_file = config.config_file();
    let mut server = Server::new(config, exe);
    server.config_file = config_file;
    if let Err(e) = crate::acl::file::load_at_startup(&mut server) {
        eprintln!("{e}");
        return 1;
    }
    crate::acl::sync_config(&mut server);
    let pid = std::process::id();
    tracing::warn!("oO0OoO0OoO0Oo Corvid is starting oO0OoO0OoO0Oo");
    tracing::warn!(
        "Corvid version={} (Redis 7.0.15 compatible), bits=64, pid={}, just started",
        env!("CARGO_PKG_VERSION"),
        pid
    );
    // Redis's logo line; Redis's test suite and tools look for " PID: ".
    tracing::info!("Running mode=standalone, port={port}. PID: {pid}");
    // A daemon always leaves its pid behind, by default where Redis's does.
    let pidfile = Some(server.config.get_str("pidfile"))
        .filter(|p| !p.is_empty())
        .or_else(|| background.then(|| crate::daemon::DEFAULT_PIDFILE.to_string()));
    if let Some(path) = &pidfile {
        crate::daemon::write_pidfile(path);
    }
    server.pidfile = pidfile.map(std::path::PathBuf::from);

    let backlog = server.config.get_i64("tcp-backlog").clamp(0, i64::from(i32::MAX)) as u32;
    let listeners = match crate::listeners::bind_all(&server.config.bind_addrs(), port, backlog) {
        Ok(l) => l,
        Err(e) => {
            tracing::warn!("Warning: {e}");
            tracing::warn!("Failed listening on port {port} (TCP), aborting.");
            return 1;
        }
    };
    let unixsocket = server.config.get_str("unixsocket");
    let unix = if unixsocket.is_empty() {
        None
    } else {
        match crate::listeners::bind_unix(&unixsocket, server.config.get_i64("unixsocketperm") as u32) {
            Ok(l) => Some(l),
            Err(e) => {
                tracing::warn!("Failed opening Unix socket: {e}");
                return 1;
            }
        }
    };
    if listeners.is_empty() && unix.is_none() {
        tracing::warn!("Configured to not listen anywhere, exiting.");
        return 1;
    }
    tracing::info!("Server initialized");
    server.startup_memory = crate::alloc::used_memory();
    // A master's snapshot loads while clients connect (they get -LOADING);
    // the AOF, and a replica's snapshot, load before.
    let snapshot = std::path::PathBuf::from(server.config.get_str("dbfilename"));
    let appendonly = server.config.get_bool("appendonly");
    let load_behind = !appendonly && server.config.replica_of().is_none() && snapshot.exists();
    if !load_behind {
        let loaded = if appendonly { load_aof(&mut server) } else { load_snapshot(&mut server) };
        if let Err(code) = loaded {
            return code;
        }
    }
    if let Some((host, port)) = server.config.replica_of() {
        server.master_generation += 1;
        server.master = Some(crate::replica::Master::new(host, port, server.master_generation, false));
    }
    // Failures are logged; the start goes on (as Redis's setOOMScoreAdj(-1) in main).
    let _ = crate::oom::apply(&mut server);
    if !load_behind {
        crate::replication::restore_history(&mut server);
    }
    let replica = server.config.replica_of().is_some();
    if !load_behind {
        ready(supervisor, replica);
    }
    let single_thread = server.config.get_i64("io-threads") <= 1;
    let shared = Shared::new(server);
    shared.script.attach(&shared, Vec::new(), single_thread);
    crate::listeners::install(&shared, &mut *shared.lock_async().await, listeners);
    if let Some(l) = unix {
        tracing::info!("The server is now ready to accept connections at {unixsocket}");
        tokio::spawn(unix_accept_loop(shared.clone(), l));
    }
    tokio::spawn(crate::cron::run(shared.clone()));
    tokio::spawn(crate::snapshot::run(shared.clone()));
    tokio::spawn(crate::evict::run(shared.clone()));
    if load_behind {
        crate::loading::start(shared.clone(), snapshot, move |_| ready(supervisor, replica));
    }

    // Signals only ask: the cron starts the shutdown between commands (see
    // crate::shutdown), which ends with `shutdown` notified.
    let mut sigterm = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
    let mut sigint = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt()).ok();
    crate::shutdown::install_insist_handler();
    loop {
        let sig = tokio::select! {
            _ = shared.shutdown.notified() => break,
            _ = async { match sigterm.as_mut() { Some(s) => { s.recv().await; } None => std::future::pending::<()>().await } } => crate::shutdown::Signal::Term,
            _ = async { match sigint.as_mut() { Some(s) => { s.recv().await; } None => std::future::pending::<()>().await } } => crate::shutdown::Signal::Int,
        };
        crate::shutdown::signal(&mut *shared.lock_async().await, sig);
    }
    0
}

/// The dataset is in: say so in the log, and to systemd when it supervises.
fn ready(supervisor: Supervisor, replica: bool) {
    tracing::info!("Ready to accept connections");
    if supervisor == Supervisor::Systemd {
        crate::daemon::notify_systemd(if replica {
            "STATUS=Ready to accept connections in read-only mode. Waiting for MASTER <-> REPLICA sync\n"
        } else {
            "STATUS=Ready to accept connections\n"
        });
        crate::daemon::notify_systemd("READY=1\n");
    }
}

/// Load `dbfilename` from `dir` if it exists (loadDataFromDisk); a file that
/// cannot be read or is corrupt stops the start, as in Redis.
fn load_snapshot(server: &mut Server) -> Result<(), i32> {
    let path = std::path::PathBuf::from(server.config.get_str("dbfilename"));
    if !path.exists() {
        return Ok(());
    }
    let started = std::time::Instant::now();
    let limits = crate::rdb::object::EncodingLimits::from_config(&server.config);
    let now = crate::clock::now_ms();
    let mut functions = Vec::new();
    let loaded = crate::rdb::file::load_file(&path, &mut server.db, &mut functions, &limits, now)
        .map_err(|e| e.report())
        .and_then(|counts| {
            let installed = server.scripting.install_libraries(&functions, false);
            installed.map(|_| counts).map_err(|e| vec![format!("Fatal error loading the DB: {e}. Exiting.")])
        });
    match loaded {
        Ok(counts) => {
            server.rdb.last_load = counts;
            server.db.dirty = 0;
            tracing::info!("DB loaded from disk: {:.3} seconds", started.elapsed().as_secs_f64());
            Ok(())
        }
        Err(lines) => {
            for line in lines {
                tracing::warn!("{line}");
            }
            Err(1)
        }
    }
}

/// With `appendonly yes` the dataset comes from the AOF files alone (no
/// RDB fallback, as in Redis); then the AOF is opened for appending, with a
/// base created for an empty start. Any failure stops the start.
fn load_aof(server: &mut Server) -> Result<(), i32> {
    let paths = crate::aof::Paths::of(&server.config);
    let started = std::time::Instant::now();
    let result = crate::aof::load::read_manifest(&paths).and_then(|m| {
        server.aof.manifest = m;
        crate::aof::load::load_all(server)
    });
    match result {
        Ok(crate::aof::load::Outcome::NotExist) => {}
        Ok(_) => tracing::info!("DB loaded from append only file: {:.3} seconds", started.elapsed().as_secs_f64()),
        Err(e) => {
            tracing::warn!("Fatal error loading the AOF: {e}. Exiting.");
            return Err(1);
        }
    }
    server.db.dirty = 0;
    if let Err(e) = crate::aof::open_on_start(server) {
        tracing::warn!("{e}. Exiting.");
        return Err(1);
    }
    Ok(())
}

/// Accept on one listening socket of set `generation` until a newer set
/// replaces it (see [`crate::listeners`]).
pub async fn accept_loop(shared: Arc<Shared>, listener: TcpListener, generation: u64) {
    loop {
        let accepted = tokio::select! {
            r = listener.accept() => r,
            _ = shared.script.adopt_ready.notified() => {
                adopt(&shared).await;
                continue;
            }
        };
        let (stream, addr) = match accepted {
            Ok(x) => x,
            Err(_) if shared.lock_async().await.listening.generation != generation => return,
            Err(e) => {
                tracing::warn!("Accepting client connection: {e}");
                tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                continue;
            }
        };
        accept(&shared, stream, addr).await;
    }
}

/// Accept on the `unixsocket` listener for the life of the process.
async fn unix_accept_loop(shared: Arc<Shared>, listener: tokio::net::UnixListener) {
    loop {
        let mut stream = match listener.accept().await {
            Ok((s, _)) => s,
            Err(e) => {
                tracing::warn!("Accepting client connection: {e}");
                tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                continue;
            }
        };
        let fd = stream.as_raw_fd();
        // A local peer: protected mode lets it in, "local" configs too.
        let here = SocketAddr::from(([127, 0, 0, 1], 0));
        let registered = shared
            .with_server(move |srv| {
                let id = register_client(srv, here, here, fd)?;
                if let Some(c) = srv.clients.map.get_mut(&id) {
                    c.unix = true;
                }
                Ok(id)
            })
            .await;
        match registered {
            Some(Ok(id)) => {
                tracing::debug!("Accepted connection to {}", listener.local_addr().ok().and_then(|a| a.as_pathname().map(|p| p.display().to_string())).unwrap_or_default());
                tokio::spawn(crate::connection::serve(shared.clone(), stream, id));
            }
            Some(Err(msg)) => {
                let _ = stream.write_all(msg).await;
            }
            None => {}
        }
    }
}

/// Count a new connection and register its client, or say why it is
/// refused (the text to send it before closing).
pub fn register_client(srv: &mut Server, addr: SocketAddr, laddr: SocketAddr, fd: i32) -> Result<ClientId, &'static [u8]> {
    srv.stats.total_connections_received += 1;
    let maxclients = srv.config.get_i64("maxclients") as usize;
    let rejection: Option<&'static [u8]> = if srv.clients.len() >= maxclients {
        Some(b"-ERR max number of clients reached\r\n")
    } else if srv.config.get_bool("protected-mode") && srv.acl.user(crate::acl::DEFAULT_USER).nopass() && !addr.ip().is_loopback() {
        Some(PROTECTED_MODE_ERR)
    } else {
        None
    };
    if let Some(msg) = rejection {
        srv.stats.rejected_connections += 1;
        return Err(msg);
    }
    let id = srv.clients.next_id();
    let authed = !srv.acl.auth_required();
    srv.clients.map.insert(id, Client::new(id, addr, laddr, fd, crate::clock::now_ms(), authed));
    Ok(id)
}

/// Take over the connections the busy-script thread accepted.
async fn adopt(shared: &Arc<Shared>) {
    for a in shared.script.take_adopted() {
        let crate::script::Adopted { stream, addr, id } = a;
        let stream = match stream.set_nonblocking(true).and_then(|_| TcpStream::from_std(stream)) {
            Ok(s) => s,
            Err(e) => {
                tracing::warn!("Adopting a client accepted during a busy script: {e}");
                continue;
            }
        };
        match id {
            Some(id) => {
                tokio::spawn(crate::connection::serve(shared.clone(), stream, id));
            }
            None => accept(shared, stream, addr).await,
        }
    }
}

async fn accept(shared: &Arc<Shared>, mut stream: TcpStream, addr: SocketAddr) {
    let _ = stream.set_nodelay(true);
    let laddr = stream.local_addr().unwrap_or(addr);
    let fd = stream.as_raw_fd();
    let registered = shared.with_server(move |srv| register_client(srv, addr, laddr, fd)).await;
    let id = match registered {
        Some(Ok(id)) => id,
        Some(Err(msg)) => {
            let _ = stream.write_all(msg).await;
            return;
        }
        None => return,
    };
    tracing::debug!("Accepted {addr}");
    tokio::spawn(crate::connection::serve(shared.clone(), stream, id));
}
