//! Running as a service: `daemonize`, `pidfile` and `supervised`, as Redis's
//! main() handles them.
//!
//! Daemonizing forks, so it must happen before the runtime, the logger or
//! anything else starts a thread: a forked child keeps only the calling one.

use std::io::Write;

/// Where the pid goes when the node daemonizes without a `pidfile`.
pub const DEFAULT_PIDFILE: &str = "/var/run/redis.pid";

/// Who supervises the node, once `supervised` is resolved against the
/// environment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Supervisor {
    None,
    Upstart,
    Systemd,
}

/// Resolve the `supervised` setting ("no", "auto", "upstart", "systemd")
/// against the variables the supervisors set, as redisIsSupervised does. An
/// upstart-supervised node stops itself (SIGSTOP) to tell upstart it is up.
pub fn supervisor(mode: &str) -> Supervisor {
    let upstart = std::env::var_os("UPSTART_JOB").is_some();
    let systemd = std::env::var_os("NOTIFY_SOCKET").is_some();
    let wanted = match mode {
        "auto" if upstart => Supervisor::Upstart,
        "auto" if systemd => Supervisor::Systemd,
        "upstart" => Supervisor::Upstart,
        "systemd" => Supervisor::Systemd,
        _ => return Supervisor::None,
    };
    match wanted {
        Supervisor::Upstart if !upstart => {
            eprintln!("upstart supervision requested, but UPSTART_JOB not found!");
            Supervisor::None
        }
        Supervisor::Upstart => {
            // SAFETY: raising a signal at ourselves has no memory effects.
            unsafe { libc::raise(libc::SIGSTOP) };
            std::env::remove_var("UPSTART_JOB");
            Supervisor::Upstart
        }
        Supervisor::Systemd if !systemd => {
            eprintln!("systemd supervision requested or auto-detected, but NOTIFY_SOCKET not found!");
            Supervisor::None
        }
        s => s,
    }
}

/// Tell systemd how start-up went (sd_notify's protocol: one datagram of
/// `KEY=value` lines to `$NOTIFY_SOCKET`, `@` meaning the abstract namespace).
pub fn notify_systemd(message: &str) {
    let Some(path) = std::env::var_os("NOTIFY_SOCKET") else { return };
    let sent = (|| -> std::io::Result<()> {
        use std::os::linux::net::SocketAddrExt;
        use std::os::unix::ffi::OsStrExt;
        let sock = std::os::unix::net::UnixDatagram::unbound()?;
        let bytes = path.as_bytes();
        let addr = match bytes.strip_prefix(b"@") {
            Some(name) => std::os::unix::net::SocketAddr::from_abstract_name(name)?,
            None => std::os::unix::net::SocketAddr::from_pathname(std::path::Path::new(&path))?,
        };
        sock.send_to_addr(message.as_bytes(), &addr)?;
        Ok(())
    })();
    if let Err(e) = sent {
        tracing::warn!("Can't send notification to systemd: {e}");
    }
}

/// Fork into the background: the parent exits at once, the child leads a
/// new session with its standard streams on /dev/null.
pub fn daemonize() {
    // SAFETY: called before any thread exists, so the child is a complete
    // copy of the process; the parent only exits.
    unsafe {
        match libc::fork() {
            -1 => {
                eprintln!("Can't daemonize: {}", std::io::Error::last_os_error());
                std::process::exit(1);
            }
            0 => {}
            _ => libc::_exit(0),
        }
        libc::setsid();
        let null = libc::open(c"/dev/null".as_ptr(), libc::O_RDWR, 0);
        if null != -1 {
            libc::dup2(null, libc::STDIN_FILENO);
            libc::dup2(null, libc::STDOUT_FILENO);
            libc::dup2(null, libc::STDERR_FILENO);
            if null > libc::STDERR_FILENO {
                libc::close(null);
            }
        }
    }
}

/// Write our pid to `path`; a failure is logged, not fatal, as in Redis.
pub fn write_pidfile(path: &str) {
    let written = std::fs::File::create(path).and_then(|mut f| writeln!(f, "{}", std::process::id()));
    if let Err(e) = written {
        tracing::warn!("Failed to write PID file: {e}");
    }
}
