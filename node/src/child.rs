//! The background child: the process a BGSAVE or an AOF rewrite writes
//! its file through (Redis's fork child, without the fork).
//!
//! The snapshot itself stays in the node (`crate::snapshot` walks the
//! tables, so memory stays the serialization buffer); what leaves it is
//! the disk. The node spawns its own binary with [`ARG`], hands it the
//! temporary file as standard output and streams the image into its
//! standard input; the child copies it to the file, syncs it and exits 0.
//! So the node never blocks on the disk while saving, and the save is a
//! process as Redis's is: `ps` shows it, the OOM killer can pick it (it
//! takes `oom-score-adj-values`' background score), and killing it fails
//! the save, which the cron notices as Redis's checkChildrenDone does.

use std::fs::File;
use std::io::{self, Read, Write};
use std::os::fd::{AsRawFd, FromRawFd};
use std::process::{Command, ExitStatus, Stdio};

/// The first argument that makes `corvid-node` a background child.
pub const ARG: &str = "--background-child";

/// The child's whole life: copy standard input to standard output (the
/// temporary file), sync it, exit. Any error exits 1 with the reason on
/// standard error, which is the node's.
pub fn main() -> ! {
    // Die with the node: a save nobody will rename is worth nothing.
    // SAFETY: prctl with PR_SET_PDEATHSIG takes a signal number.
    unsafe {
        libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
    }
    match copy_and_sync() {
        Ok(()) => std::process::exit(0),
        Err(e) => {
            eprintln!("Background child {}: write error: {e}", std::process::id());
            std::process::exit(1);
        }
    }
}

fn copy_and_sync() -> io::Result<()> {
    // SAFETY: descriptor 1 is the file the node gave us, ours alone now;
    // wrapping it once, for the whole process.
    let mut out = unsafe { File::from_raw_fd(io::stdout().as_raw_fd()) };
    let mut input = io::stdin().lock();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = match input.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        out.write_all(&buf[..n])?;
    }
    out.sync_all()
}

/// The node's handle on a running child.
pub struct Child {
    process: std::process::Child,
}

impl Child {
    /// Start a child writing to `file`; the pipe to it is taken with
    /// [`Child::take_pipe`].
    pub fn spawn(file: &File) -> io::Result<Child> {
        // /proc/self/exe runs this very binary even if the file on disk has
        // been replaced by an upgrade since the node started.
        let process = Command::new("/proc/self/exe")
            .arg(ARG)
            .stdin(Stdio::piped())
            .stdout(Stdio::from(file.try_clone()?))
            .stderr(Stdio::inherit())
            .spawn()?;
        Ok(Child { process })
    }

    pub fn pid(&self) -> u32 {
        self.process.id()
    }

    /// The write end of the child's standard input (once).
    pub fn take_pipe(&mut self) -> Option<std::process::ChildStdin> {
        self.process.stdin.take()
    }

    /// How it ended, if it has (waitpid with WNOHANG).
    pub fn try_wait(&mut self) -> Option<ExitStatus> {
        self.process.try_wait().ok().flatten()
    }

    /// Wait for it to end (blocking: off the event loop).
    pub fn wait(mut self) -> io::Result<ExitStatus> {
        self.process.wait()
    }

    /// Stop it with SIGUSR1, as Redis's killRDBChild does (the signal that
    /// says "stopped on purpose", not a failure), and reap it.
    pub fn kill(mut self) {
        // SAFETY: the pid is our own unreaped child's, so it is still ours.
        unsafe {
            libc::kill(self.process.id() as libc::pid_t, libc::SIGUSR1);
        }
        let _ = self.process.wait();
    }
}

/// How a child ended, as Redis logs it: Ok for exit 0, else the signal
/// that ended it or the exit code.
pub fn outcome(status: ExitStatus) -> Result<(), Ended> {
    use std::os::unix::process::ExitStatusExt;
    if status.success() {
        Ok(())
    } else if let Some(sig) = status.signal() {
        Err(Ended::Signal(sig))
    } else {
        Err(Ended::Code(status.code().unwrap_or(-1)))
    }
}

/// A child that did not exit 0.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ended {
    Signal(i32),
    Code(i32),
}

impl Ended {
    /// Killed on purpose (SIGUSR1): the last status is not an error.
    pub fn on_purpose(self) -> bool {
        self == Ended::Signal(libc::SIGUSR1)
    }
}
