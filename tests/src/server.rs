//! One node process per test: a free loopback port, a fresh working directory, its
//! stdout and stderr captured, killed and cleaned up when the [`Server`] drops.
//!
//! Every node is started as Redis's own test suite starts Redis:
//! `BINARY [CONFIG_FILE] --port P --bind 127.0.0.1 --save "" --appendonly no --dir DIR ARGS...`,
//! and is ready when it prints `Ready to accept connections`. Arguments given by a test
//! come last, so they override the defaults (later directives win, as in redis.conf).

use std::collections::BTreeSet;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, OnceLock};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};
use std::{env, fs};

use redis::IntoConnectionInfo;

use crate::raw::RawConn;

/// What a node prints once it accepts connections (Redis: `serverLog(..., "Ready to accept connections")`).
const READY: &str = "Ready to accept connections";

/// How long a node may take to become ready (or to fail) before the test fails;
/// `CORVID_TEST_START_TIMEOUT` (seconds) overrides it, e.g. under valgrind.
fn start_timeout() -> Duration {
    let secs = env::var("CORVID_TEST_START_TIMEOUT")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20);
    Duration::from_secs(secs)
}

/// The binary under test: `CORVID_NODE_BIN` if set, else `corvid-node` in the cargo target
/// directory (`CARGO_TARGET_DIR`, or `<workspace>/target`), release build first, then debug.
pub fn node_binary() -> &'static Path {
    static BINARY: OnceLock<PathBuf> = OnceLock::new();
    BINARY.get_or_init(|| {
        if let Some(bin) = env::var_os("CORVID_NODE_BIN") {
            let bin = PathBuf::from(bin);
            assert!(
                bin.is_file(),
                "CORVID_NODE_BIN={} is not a file",
                bin.display()
            );
            return bin;
        }
        let target = target_dir();
        for profile in ["release", "debug"] {
            let bin = target.join(profile).join("corvid-node");
            if bin.is_file() {
                return bin;
            }
        }
        panic!(
            "no corvid-node binary in {}/release or {}/debug: run `cargo build --release` first \
             (or set CORVID_NODE_BIN to the binary to test)",
            target.display(),
            target.display()
        )
    })
}

/// The reference Redis: `redis-server` found on PATH.
pub fn reference_binary() -> &'static Path {
    static BINARY: OnceLock<PathBuf> = OnceLock::new();
    BINARY.get_or_init(|| {
        let path = env::var_os("PATH").unwrap_or_default();
        env::split_paths(&path)
            .map(|dir| dir.join("redis-server"))
            .find(|bin| bin.is_file())
            .unwrap_or_else(|| {
                panic!(
                    "this test compares Corvid with Redis 7.0 and needs `redis-server` on PATH \
                     (Debian: apt-get install redis-server)"
                )
            })
    })
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

fn target_dir() -> PathBuf {
    match env::var_os("CARGO_TARGET_DIR") {
        Some(dir) if Path::new(&dir).is_absolute() => PathBuf::from(dir),
        Some(dir) => workspace_root().join(dir),
        None => workspace_root().join("target"),
    }
}

/// A loopback port nobody listened on a moment ago and that this process never handed
/// out before. Another process can still take it before the node binds it: [`Server::start`]
/// then retries on a new port.
pub fn free_port() -> u16 {
    static HANDED_OUT: Mutex<BTreeSet<u16>> = Mutex::new(BTreeSet::new());
    loop {
        let port = TcpListener::bind(("127.0.0.1", 0))
            .and_then(|l| l.local_addr())
            .expect("bind an ephemeral loopback port")
            .port();
        if HANDED_OUT.lock().unwrap().insert(port) {
            return port;
        }
    }
}

/// A new empty directory under the temp dir, named for this test process.
pub fn fresh_dir() -> PathBuf {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let dir = env::temp_dir().join(format!(
        "corvid-test-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("create {}: {e}", dir.display()));
    dir
}

/// Everything the process wrote to stdout and stderr, in arrival order.
#[derive(Clone, Default)]
struct Output(Arc<(Mutex<Vec<u8>>, Condvar)>);

impl Output {
    fn collect(&self, mut from: impl Read + Send + 'static) -> JoinHandle<()> {
        let out = self.clone();
        thread::spawn(move || {
            let mut chunk = [0u8; 8192];
            while let Ok(n) = from.read(&mut chunk) {
                if n == 0 {
                    break;
                }
                let (text, grew) = &*out.0;
                text.lock().unwrap().extend_from_slice(&chunk[..n]);
                grew.notify_all();
            }
        })
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0 .0.lock().unwrap()).into_owned()
    }

    fn contains(&self, needle: &str) -> bool {
        let text = self.0 .0.lock().unwrap();
        text.windows(needle.len()).any(|w| w == needle.as_bytes())
    }

    /// Blocks until more output arrives or `timeout` passes.
    fn wait(&self, timeout: Duration) {
        let (text, grew) = &*self.0;
        let guard = text.lock().unwrap();
        let _ = grew.wait_timeout(guard, timeout).unwrap();
    }
}

/// How a start-up ended.
enum Startup {
    Ready,
    Exited(ExitStatus),
    TimedOut,
}

/// A running node. Dropping it kills the process (SIGKILL), reaps it and removes its
/// directory; if the test is panicking, the node's output is printed first.
pub struct Server {
    child: Child,
    port: u16,
    dir: PathBuf,
    output: Output,
    readers: Vec<JoinHandle<()>>,
    show_output_on_panic: bool,
}

impl Server {
    /// Starts the node with the default arguments plus `args` (e.g. `&["--requirepass", "x"]`)
    /// and waits until it is ready.
    pub fn start(args: &[&str]) -> Server {
        Server::launch(node_binary(), None, args)
    }

    /// Starts the reference Redis 7.0, `redis-server` from PATH, the same way, for tests
    /// that run one scenario on both servers and compare. Panics with a clear message if
    /// it is not installed (CI installs Debian's `redis-server`).
    pub fn start_reference(args: &[&str]) -> Server {
        Server::launch(reference_binary(), None, args)
    }

    /// Starts the node on a redis.conf holding `conf` (written into the node's directory
    /// and passed as the first argument, as `redis-server /path/redis.conf` takes it).
    pub fn start_with_config(conf: &str) -> Server {
        Server::launch(node_binary(), Some(conf), &[])
    }

    /// [`Server::start_with_config`] plus command-line `args`.
    pub fn start_with_config_and_args(conf: &str, args: &[&str]) -> Server {
        Server::launch(node_binary(), Some(conf), args)
    }

    /// Starts the node with `args` expecting it to refuse to start; returns its exit code
    /// and everything it printed (stdout and stderr). Panics if it becomes ready.
    pub fn start_expect_failure(args: &[&str]) -> (i32, String) {
        Server::expect_failure(None, args)
    }

    /// [`Server::start_expect_failure`] with a redis.conf holding `conf`.
    pub fn start_with_config_expect_failure(conf: &str, args: &[&str]) -> (i32, String) {
        Server::expect_failure(Some(conf), args)
    }

    fn launch(binary: &Path, conf: Option<&str>, args: &[&str]) -> Server {
        const ATTEMPTS: usize = 5;
        for attempt in 1..=ATTEMPTS {
            let mut server = Server::spawn(binary, conf, args);
            match server.wait_startup() {
                Startup::Ready => return server,
                // Another process took the port between our probe and the node's bind.
                Startup::Exited(_)
                    if attempt < ATTEMPTS && server.output.contains("Address already in use") =>
                {
                    continue
                }
                Startup::Exited(status) => {
                    server.show_output_on_panic = false;
                    server.join_readers();
                    panic!(
                        "{} exited ({status}) before it was ready; its output:\n{}",
                        binary.display(),
                        server.output.text()
                    );
                }
                Startup::TimedOut => {
                    server.show_output_on_panic = false;
                    panic!(
                        "{} printed no {READY:?} within {:?}; its output:\n{}",
                        binary.display(),
                        start_timeout(),
                        server.output.text()
                    );
                }
            }
        }
        unreachable!()
    }

    fn expect_failure(conf: Option<&str>, args: &[&str]) -> (i32, String) {
        let mut server = Server::spawn(node_binary(), conf, args);
        server.show_output_on_panic = false;
        match server.wait_startup() {
            Startup::Exited(status) => {
                server.join_readers();
                let code = status.code().unwrap_or_else(|| 128 + status.signal().unwrap_or(0));
                (code, server.output.text())
            }
            Startup::Ready => panic!(
                "expected {} to refuse to start, but it is ready; its output:\n{}",
                node_binary().display(),
                server.output.text()
            ),
            Startup::TimedOut => panic!(
                "expected {} to refuse to start, but it neither exited nor became ready within {:?}; \
                 its output:\n{}",
                node_binary().display(),
                start_timeout(),
                server.output.text()
            ),
        }
    }

    fn spawn(binary: &Path, conf: Option<&str>, args: &[&str]) -> Server {
        let port = free_port();
        let dir = fresh_dir();
        let mut command = Command::new(binary);
        if let Some(conf) = conf {
            let path = dir.join("redis.conf");
            fs::write(&path, conf).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
            command.arg(path);
        }
        command
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .arg("--dir")
            .arg(&dir)
            .args(args)
            .current_dir(&dir)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = match command.spawn() {
            Ok(child) => child,
            Err(e) => {
                let _ = fs::remove_dir_all(&dir);
                panic!("start {}: {e}", binary.display());
            }
        };
        let output = Output::default();
        let readers = vec![
            output.collect(child.stdout.take().unwrap()),
            output.collect(child.stderr.take().unwrap()),
        ];
        Server {
            child,
            port,
            dir,
            output,
            readers,
            show_output_on_panic: true,
        }
    }

    fn wait_startup(&mut self) -> Startup {
        let deadline = Instant::now() + start_timeout();
        loop {
            if self.output.contains(READY) {
                return Startup::Ready;
            }
            if let Some(status) = self.child.try_wait().expect("wait for the node") {
                return Startup::Exited(status);
            }
            let now = Instant::now();
            if now >= deadline {
                return Startup::TimedOut;
            }
            self.output
                .wait((deadline - now).min(Duration::from_millis(20)));
        }
    }

    /// Waits for the output pipes to close, so that everything a process printed
    /// before exiting is in `output`. Only after the process exited.
    fn join_readers(&mut self) {
        for reader in self.readers.drain(..) {
            let _ = reader.join();
        }
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// `127.0.0.1:PORT`
    pub fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// `redis://127.0.0.1:PORT/`, for building clients with other settings.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }

    /// The node's working directory (`--dir`), removed on drop.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Sends the node signal `sig` (libc's number: `libc::SIGTERM`...).
    pub fn signal(&self, sig: i32) {
        // SAFETY: kill(2) on our own child's pid, which we have not reaped.
        let rc = unsafe { libc::kill(self.child.id() as libc::pid_t, sig) };
        assert_eq!(rc, 0, "kill({}, {sig}): {}", self.child.id(), std::io::Error::last_os_error());
    }

    /// Waits (at most `within`) for the node to exit on its own and returns how.
    pub fn wait_exit(&mut self, within: Duration) -> std::process::ExitStatus {
        let deadline = Instant::now() + within;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(Instant::now() < deadline, "node on port {} still running after {within:?}", self.port);
            thread::sleep(Duration::from_millis(10));
        }
    }

    /// Everything the node has printed so far.
    pub fn output(&self) -> String {
        self.output.text()
    }

    /// A new `redis` crate connection (RESP2, database 0). It skips the `CLIENT SETINFO`
    /// calls redis-rs normally sends on connect, which Redis 7.0 does not know.
    pub fn client(&self) -> redis::Connection {
        let info = self.url().into_connection_info().unwrap();
        let settings = info.redis_settings().clone().set_skip_set_lib_name();
        let info = info.set_redis_settings(settings);
        let client = redis::Client::open(info).unwrap();
        let con = client
            .get_connection_with_timeout(Duration::from_secs(10))
            .unwrap_or_else(|e| panic!("connect to {}: {e}", self.addr()));
        con.set_read_timeout(Some(crate::raw::DEFAULT_TIMEOUT))
            .unwrap();
        con
    }

    /// A new raw TCP connection for exact bytes.
    pub fn raw(&self) -> RawConn {
        RawConn::connect(self.port)
    }

    /// Runs `redis-cli -h 127.0.0.1 -p PORT ARGS...` and returns its stdout.
    pub fn cli(&self, args: &[&str]) -> String {
        self.cli_with_stdin(args, "")
    }

    /// [`Server::cli`] with `stdin` fed to redis-cli (which then reads commands from it
    /// when `args` names none).
    pub fn cli_with_stdin(&self, args: &[&str], stdin: &str) -> String {
        let mut child = Command::new("redis-cli")
            .args(["-h", "127.0.0.1", "-p", &self.port.to_string()])
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| {
                panic!("run redis-cli: {e} (install it with `apt-get install redis-tools`)")
            });
        let mut input = child.stdin.take().unwrap();
        let stdin = stdin.to_owned();
        let writer = thread::spawn(move || {
            let _ = input.write_all(stdin.as_bytes());
        });
        let output = Output::default();
        let readers = [
            output.collect(child.stdout.take().unwrap()),
            Output::default().collect(child.stderr.take().unwrap()),
        ];
        let deadline = Instant::now() + Duration::from_secs(30);
        let status = loop {
            if let Some(status) = child.try_wait().unwrap() {
                break status;
            }
            if Instant::now() >= deadline {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "redis-cli {args:?} still running after 30 s; printed:\n{}",
                    output.text()
                );
            }
            thread::sleep(Duration::from_millis(5));
        };
        let _ = writer.join();
        for reader in readers {
            let _ = reader.join();
        }
        assert!(
            status.success(),
            "redis-cli {args:?} failed ({status}); printed:\n{}",
            output.text()
        );
        output.text()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        // The pipes are not joined: a forked child (BGSAVE) may still hold them open.
        if thread::panicking() && self.show_output_on_panic {
            eprintln!(
                "--- output of {} on port {} ---\n{}--- end of output ---",
                node_binary().display(),
                self.port,
                self.output.text()
            );
        }
        let _ = fs::remove_dir_all(&self.dir);
    }
}
