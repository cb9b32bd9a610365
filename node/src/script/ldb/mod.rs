//! The Lua debugger (Redis's LDB, in eval.c): `SCRIPT DEBUG SYNC`, then an
//! EVAL that stops on its first line and takes debugger commands from its
//! client until the script ends.
//!
//! # How a session runs
//! As in Redis's synchronous mode, the whole server waits for the
//! debugging client: the EVAL handler holds the server while the script
//! runs, and the debugger's line hook reads the client's commands and
//! writes its logs on the client's socket itself, with blocking I/O (the
//! connection task is parked in the EVAL meanwhile). When the script ends,
//! the remaining logs and `<endsession>` go out, then the EVAL's reply,
//! and the connection closes. Dataset changes stay.
//!
//! # Forked sessions
//! Redis's `SCRIPT DEBUG YES` forks a child to run the script in, so that
//! its writes are rolled back. Corvid never forks (its state is shared
//! between threads), so YES is accepted, and the EVAL it arms fails as
//! Redis's does when fork() fails; SYNC is the mode to use.
//!
//! # Layout
//! - [`protocol`]: the commands the client sends, the log batches it gets.
//! - [`render`]: quoted strings, "%g" numbers, replies in human form.
//! - [`values`]: Lua values in the debugger's notation.
//! - here: the session (logs, breakpoints, source, I/O), the line hook and
//!   the command loop, and redis.breakpoint / redis.debug.

pub mod protocol;
pub mod render;
pub mod values;

use std::cell::Cell;
use std::ffi::{c_char, c_int, CStr};
use std::os::fd::RawFd;
use std::time::{Duration, Instant};

use corvid_proto::resp::ArgVec;
use mlua::{ffi, Lua};

use super::convert::push_error_table;
use super::{RunCell, RunState};
use crate::errors::CmdError;

/// Breakpoints a session holds at most (LDB_BREAKPOINTS_MAX).
const MAX_BREAKPOINTS: usize = 64;
/// Default length log lines of replies and values are cut at.
const MAX_LEN_DEFAULT: usize = 256;
/// The shortest length `maxlen` sets (0 aside: no limit).
const MAX_LEN_MIN: i32 = 60;
/// Unparsed input kept from the debugging client at most: past it the
/// script is aborted, so a client cannot grow the server's memory.
const MAX_INPUT: usize = 1 << 20;
/// How long a write to the debugging client may wait (Redis's send timeout).
const SEND_TIMEOUT: Duration = Duration::from_secs(5);
/// Instructions between two count events, which catch endless loops.
const COUNT_EVERY: c_int = 100_000;
/// Time a script may run without stopping before the debugger stops it,
/// when busy-reply-threshold is 0.
const DEFAULT_TIMEOUT_MS: u64 = 5000;
/// Arguments of a logged Redis command shown at most.
const LOGGED_ARGS: usize = 10;

/// What `SCRIPT DEBUG` set for a client's next EVAL.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mode {
    #[default]
    Off,
    /// YES: a forked session in Redis; refused here (see the module docs).
    Fork,
    /// SYNC: the server waits for the debugging client.
    Sync,
}

impl Mode {
    /// The argument of SCRIPT DEBUG, case-insensitively.
    pub fn parse(arg: &[u8]) -> Option<Mode> {
        match arg.to_ascii_lowercase().as_slice() {
            b"no" => Some(Mode::Off),
            b"yes" => Some(Mode::Fork),
            b"sync" => Some(Mode::Sync),
            _ => None,
        }
    }
}

/// A client goes away: it no longer counts as armed for debugging.
pub fn forget(srv: &mut crate::server::Server, id: crate::client::ClientId) {
    if srv.clients.map.get(&id).is_some_and(|c| c.lua_debug != Mode::Off) {
        srv.scripting.debuggers = srv.scripting.debuggers.saturating_sub(1);
    }
}

/// The EVAL error for a forked session (Redis's reply when fork() fails,
/// with the reason in the place of strerror's).
pub fn fork_refused() -> CmdError {
    CmdError::err(
        "Fork() failed: can't run EVAL in debugging mode: Corvid cannot fork a debugging session, use SCRIPT DEBUG SYNC (redis-cli --ldb-sync-mode) instead",
    )
}

/// Why the command loop returns to the script other than to run it on.
enum Stop {
    /// The client went away: the script runs to its end without stopping.
    Disconnected,
    /// Abort the script with this error (Redis raises it from the hook).
    Raise(&'static str),
}

/// One debugging session: the state Redis keeps in its `ldb` global.
pub struct Session {
    fd: RawFd,
    /// Log lines not yet sent.
    logs: Vec<Vec<u8>>,
    breakpoints: Vec<i32>,
    /// Stop at the next line whatever the breakpoints; also what makes
    /// redis.call log its commands and replies.
    step: bool,
    /// redis.breakpoint() was called: stop at the next line.
    luabp: bool,
    /// The script's source, by line.
    src: Vec<Vec<u8>>,
    currentline: i32,
    /// Input read from the client and not yet parsed.
    input: Vec<u8>,
    /// Replies and values longer than this are cut in the log (0: never).
    maxlen: usize,
    maxlen_hint_sent: bool,
}

impl Session {
    /// A session for the EVAL of `body`, talking on `fd`: it stops at the
    /// first line.
    pub fn new(fd: RawFd, body: &[u8]) -> Session {
        // Trailing newlines are not lines; an empty body has none.
        let end = body.iter().rposition(|&b| b != b'\n' && b != b'\r').map_or(0, |i| i + 1);
        let src = if end == 0 { Vec::new() } else { body[..end].split(|&b| b == b'\n').map(<[u8]>::to_vec).collect() };
        Session {
            fd,
            logs: Vec::new(),
            breakpoints: Vec::new(),
            step: true,
            luabp: false,
            src,
            currentline: 0,
            input: Vec::new(),
            maxlen: MAX_LEN_DEFAULT,
            maxlen_hint_sent: false,
        }
    }

    /// redis.call logs what it runs (ldbIsEnabled: only while stepping).
    #[inline]
    pub fn logging(&self) -> bool {
        self.step
    }

    fn log(&mut self, line: impl Into<Vec<u8>>) {
        self.logs.push(line.into());
    }

    /// Log a reply or a value, cut at `maxlen`; the first cut line is
    /// followed by a hint saying how to see it all.
    fn log_with_maxlen(&mut self, mut line: Vec<u8>) {
        let trimmed = render::trim(&mut line, self.maxlen);
        self.log(line);
        if trimmed && !self.maxlen_hint_sent {
            self.maxlen_hint_sent = true;
            self.log("<hint> The above reply was trimmed. Use 'maxlen 0' to disable trimming.");
        }
    }

    /// Send the pending logs. A failed write is not an error here: the
    /// next read finds the client gone.
    fn send_logs(&mut self) {
        let bytes = protocol::encode_logs(&self.logs);
        self.logs.clear();
        write_all(self.fd, &bytes);
    }

    /// The script is over: the last logs and `<endsession>`.
    pub fn end(&mut self) {
        self.log("<endsession>");
        self.send_logs();
    }

    /// `<redis> name args...` for a command a script calls.
    pub fn log_command(&mut self, argv: &ArgVec) {
        let args = argv.args();
        let mut line = b"<redis>".to_vec();
        for (j, a) in args.iter().enumerate() {
            if j == LOGGED_ARGS {
                // Redis's count, one short of what is left out.
                line.extend_from_slice(format!(" ... ({} more)", args.len() - j - 1).as_bytes());
                break;
            }
            line.push(b' ');
            line.extend_from_slice(a);
        }
        self.log(line);
    }

    /// `<reply> ...`: a command's reply in human form.
    pub fn log_reply(&mut self, reply: &[u8]) {
        let mut line = b"<reply> ".to_vec();
        render::reply_to_human(&mut line, reply);
        self.log_with_maxlen(line);
    }

    /// `<error> ...`: an error a script's command met.
    pub fn log_error(&mut self, msg: &[u8]) {
        let mut line = b"<error> ".to_vec();
        line.extend_from_slice(msg);
        self.log(line);
    }

    /// The error text Redis logs for a command a script could not run:
    /// its own messages bare, shared error replies whole ("-CODE ...\r\n").
    pub fn log_refusal(&mut self, e: &CmdError) {
        match e {
            CmdError::Err(msg) => self.log_error(msg.as_bytes()),
            other => self.log_error(format!("-{other}\r\n").as_bytes()),
        }
    }

    fn source_line(&self, line: i32) -> &[u8] {
        usize::try_from(line - 1).ok().and_then(|i| self.src.get(i)).map_or(b"<out of range source code line>", Vec::as_slice)
    }

    fn is_breakpoint(&self, line: i32) -> bool {
        self.breakpoints.contains(&line)
    }

    /// `-> 3   code` for the current line, `  #3` for a breakpoint.
    fn log_source_line(&mut self, line: i32) {
        let prefix = match (self.currentline == line, self.is_breakpoint(line)) {
            (true, true) => "->#",
            (true, false) => "-> ",
            (false, true) => "  #",
            (false, false) => "   ",
        };
        let mut text = format!("{prefix}{line:<3} ").into_bytes();
        text.extend_from_slice(self.source_line(line));
        self.log(text);
    }

    /// The source within `context` lines of `around` (0: all of it).
    fn list(&mut self, around: i32, context: i32) {
        for line in 1..=self.src.len() as i32 {
            if around != 0 && (around as i64 - line as i64).abs() > context as i64 {
                continue;
            }
            self.log_source_line(line);
        }
    }

    /// break [line|-line|0 ...]
    fn break_command(&mut self, argv: &[Vec<u8>]) {
        if argv.len() == 1 {
            if self.breakpoints.is_empty() {
                self.log("No breakpoints set. Use 'b <line>' to add one.");
            } else {
                self.log(format!("{} breakpoints set:", self.breakpoints.len()));
                for line in self.breakpoints.clone() {
                    self.log_source_line(line);
                }
            }
            return;
        }
        for arg in &argv[1..] {
            let Some(line) = corvid_proto::resp::parse_i64(arg) else {
                let mut msg = b"Invalid argument:'".to_vec();
                msg.extend_from_slice(arg);
                msg.push(b'\'');
                self.log(msg);
                continue;
            };
            if line == 0 {
                self.breakpoints.clear();
                self.log("All breakpoints removed.");
            } else if line > 0 {
                if self.breakpoints.len() == MAX_BREAKPOINTS {
                    self.log("Too many breakpoints set.");
                } else if line <= self.src.len() as i64 && !self.is_breakpoint(line as i32) {
                    self.breakpoints.push(line as i32);
                    self.list(line as i32, 1);
                } else {
                    // Out of the source, or set already (as Redis says too).
                    self.log("Wrong line number.");
                }
            } else {
                match self.breakpoints.iter().position(|&b| b as i64 == -line) {
                    Some(i) => {
                        self.breakpoints.remove(i);
                        self.log("Breakpoint removed.");
                    }
                    None => self.log("No breakpoint in the specified line."),
                }
            }
        }
    }

    /// maxlen [len]
    fn maxlen_command(&mut self, argv: &[Vec<u8>]) {
        if argv.len() == 2 {
            let mut len = protocol::atoi(&argv[1]);
            // The user knows about trimming now.
            self.maxlen_hint_sent = true;
            if len != 0 && len <= MAX_LEN_MIN {
                len = MAX_LEN_MIN;
            }
            self.maxlen = len as usize;
        }
        if self.maxlen != 0 {
            self.log(format!("<value> replies are truncated at {} bytes.", self.maxlen));
        } else {
            self.log("<value> replies are unlimited.");
        }
    }

    fn help(&mut self) {
        for line in HELP {
            self.log(*line);
        }
    }

    /// The next command from the client, reading as long as it takes.
    fn read_command(&mut self) -> Result<Vec<Vec<u8>>, Stop> {
        loop {
            match protocol::parse_command(&self.input) {
                Ok(Some(argv)) => {
                    // One command per read, as in Redis: what followed it
                    // in the same read is dropped.
                    self.input.clear();
                    return Ok(argv);
                }
                Ok(None) => {}
                Err(protocol::ProtocolError) => return Err(Stop::Raise("protocol error")),
            }
            if !read_some(self.fd, &mut self.input) {
                // Gone: let the script run to its end unattended.
                self.step = false;
                self.breakpoints.clear();
                return Err(Stop::Disconnected);
            }
            if self.input.len() > MAX_INPUT {
                self.input = Vec::new();
                return Err(Stop::Raise("max client buffer reached"));
            }
        }
    }
}

/// The help text, line by line (Redis's, whose wording clients know).
const HELP: &[&str] = &[
    "Redis Lua debugger help:",
    "[h]elp               Show this help.",
    "[s]tep               Run current line and stop again.",
    "[n]ext               Alias for step.",
    "[c]ontinue           Run till next breakpoint.",
    "[l]ist               List source code around current line.",
    "[l]ist [line]        List source code around [line].",
    "                     line = 0 means: current position.",
    "[l]ist [line] [ctx]  In this form [ctx] specifies how many lines",
    "                     to show before/after [line].",
    "[w]hole              List all source code. Alias for 'list 1 1000000'.",
    "[p]rint              Show all the local variables.",
    "[p]rint <var>        Show the value of the specified variable.",
    "                     Can also show global vars KEYS and ARGV.",
    "[b]reak              Show all breakpoints.",
    "[b]reak <line>       Add a breakpoint to the specified line.",
    "[b]reak -<line>      Remove breakpoint from the specified line.",
    "[b]reak 0            Remove all breakpoints.",
    "[t]race              Show a backtrace.",
    "[e]val <code>        Execute some Lua code (in a different callframe).",
    "[r]edis <cmd>        Execute a Redis command.",
    "[m]axlen [len]       Trim logged Redis replies and Lua var dumps to len.",
    "                     Specifying zero as <len> means unlimited.",
    "[a]bort              Stop the execution of the script. In sync",
    "                     mode dataset changes will be retained.",
    "",
    "Debugger functions you can call from Lua scripts:",
    "redis.debug()        Produce logs in the debugger console.",
    "redis.breakpoint()   Stop execution like if there was a breakpoint in the",
    "                     next line of code.",
];

/// Read what the socket has (up to 1 KiB, as Redis reads), waiting for
/// it as long as it takes; false once the peer is gone.
fn read_some(fd: RawFd, into: &mut Vec<u8>) -> bool {
    if fd < 0 {
        return false;
    }
    let mut chunk = [0u8; 1024];
    loop {
        let mut p = libc::pollfd { fd, events: libc::POLLIN, revents: 0 };
        // SAFETY: one valid pollfd.
        if unsafe { libc::poll(&mut p, 1, -1) } < 0 {
            if std::io::Error::last_os_error().kind() == std::io::ErrorKind::Interrupted {
                continue;
            }
            return false;
        }
        // SAFETY: reading into a local buffer of the given length.
        let n = unsafe { libc::recv(fd, chunk.as_mut_ptr().cast(), chunk.len(), libc::MSG_DONTWAIT) };
        if n > 0 {
            into.extend_from_slice(&chunk[..n as usize]);
            return true;
        }
        if n == 0 {
            return false;
        }
        match std::io::Error::last_os_error().kind() {
            std::io::ErrorKind::WouldBlock | std::io::ErrorKind::Interrupted => continue,
            _ => return false,
        }
    }
}

/// Write `bytes` to the (non-blocking) socket, waiting while it is full,
/// for SEND_TIMEOUT at most.
fn write_all(fd: RawFd, mut bytes: &[u8]) {
    if fd < 0 {
        return;
    }
    let deadline = Instant::now() + SEND_TIMEOUT;
    while !bytes.is_empty() {
        // SAFETY: writing from a live slice of the given length.
        let n = unsafe { libc::send(fd, bytes.as_ptr().cast(), bytes.len(), libc::MSG_DONTWAIT | libc::MSG_NOSIGNAL) };
        if n > 0 {
            bytes = &bytes[n as usize..];
            continue;
        }
        match std::io::Error::last_os_error().kind() {
            std::io::ErrorKind::WouldBlock | std::io::ErrorKind::Interrupted => {}
            _ => return,
        }
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return;
        }
        let mut p = libc::pollfd { fd, events: libc::POLLOUT, revents: 0 };
        // SAFETY: one valid pollfd.
        unsafe { libc::poll(&mut p, 1, left.as_millis().max(1) as c_int) };
    }
}

thread_local! {
    /// The run state of the VM running a debugged script, for the line
    /// hook (a plain C function, with no upvalue to find it by).
    static DEBUGGED: Cell<*const RunCell> = const { Cell::new(std::ptr::null()) };
}

/// Put the debugger's hook on `lua` for the script about to run, whose
/// run state is `cell` (it must hold the session). The VM's usual hook
/// goes back once the script is over (see [`end_hook`]).
pub(super) fn start_hook(lua: &Lua, cell: *const RunCell) {
    DEBUGGED.with(|d| d.set(cell));
    // SAFETY: sets the hook of the VM's main state, which scripts run on.
    let set = unsafe { lua.exec_raw::<()>((), |l| {
        ffi::lua_sethook(l, Some(line_hook), ffi::LUA_MASKLINE | ffi::LUA_MASKCOUNT, COUNT_EVERY);
    }) };
    if let Err(e) = set {
        tracing::warn!("Could not install the Lua debugger hook: {e}");
    }
}

/// The debugged script is over.
pub(super) fn end_hook() {
    DEBUGGED.with(|d| d.set(std::ptr::null()));
}

/// The session of the run state `st`, as a raw pointer: the command loop
/// calls back into Lua (print's values aside, `redis` and `eval` run
/// code), and redis.call and redis.debug reach the session through the
/// run state meanwhile, so no reference to it is held across those calls.
unsafe fn session_of(st: *mut RunState) -> Option<*mut Session> {
    (*st).ldb.as_deref_mut().map(|s| s as *mut Session)
}

/// Called before each line of a debugged script, and every COUNT_EVERY
/// instructions (luaLdbLineHook): stop where the user asked to, and run
/// the debugger's commands there.
unsafe extern "C-unwind" fn line_hook(l: *mut ffi::lua_State, ar: *mut ffi::lua_Debug) {
    let cell = DEBUGGED.with(Cell::get);
    if cell.is_null() {
        return;
    }
    let st = (*cell).get();
    let Some(sp) = session_of(st) else { return };
    // Raised from this outermost frame, with nothing left to drop (Lua
    // errors are longjmps).
    if let Err(msg) = on_line(l, ar, st, sp) {
        push_error_table(l, msg.as_bytes(), false);
        ffi::lua_error(l);
    }
}

unsafe fn on_line(l: *mut ffi::lua_State, ar: *mut ffi::lua_Debug, st: *mut RunState, sp: *mut Session) -> Result<(), &'static str> {
    ffi::lua_getstack(l, 0, ar);
    ffi::lua_getinfo(l, c"Sl".as_ptr(), ar);
    let s = &mut *sp;
    s.currentline = (*ar).currentline;
    let bp = s.is_breakpoint(s.currentline) || s.luabp;
    // Lines of the server's own Lua code and of `eval` are not the script's.
    if !short_src(&*ar).windows(11).any(|w| w == b"user_script") {
        return Ok(());
    }
    let srv = &mut *(*st).srv.0;
    let mut timeout = false;
    if (*ar).event == ffi::LUA_HOOKCOUNT && !s.step && !bp {
        let Some(run) = srv.scripting.running.as_ref() else { return Ok(()) };
        let limit = if run.threshold_ms > 0 { run.threshold_ms } else { DEFAULT_TIMEOUT_MS };
        if (run.start.elapsed().as_millis() as u64) < limit {
            return Ok(());
        }
        timeout = true;
        s.step = true;
    }
    if !s.step && !bp {
        return Ok(());
    }
    let reason = if bp {
        if s.luabp {
            "redis.breakpoint() called"
        } else {
            "break point"
        }
    } else if timeout {
        "timeout reached, infinite loop?"
    } else {
        "step over"
    };
    s.step = false;
    s.luabp = false;
    let line = s.currentline;
    s.log(format!("* Stopped at {line}, stop reason = {reason}"));
    s.log_source_line(line);
    s.send_logs();
    match repl(l, st, sp) {
        Ok(()) => {}
        // Nobody can stop an endless loop any more: end it.
        Err(Stop::Disconnected) if timeout => return Err("timeout during Lua debugging with client closing connection"),
        Err(Stop::Disconnected) => {}
        Err(Stop::Raise(msg)) => return Err(msg),
    }
    // Time spent stopped is not the script's: its time limit and its
    // commands' clock start over.
    let srv = &mut *(*st).srv.0;
    if let Some(run) = srv.scripting.running.as_mut() {
        run.start = Instant::now();
    }
    (*st).clock = Default::default();
    Ok(())
}

fn short_src(ar: &ffi::lua_Debug) -> &[u8] {
    // SAFETY: lua_getinfo leaves a NUL-terminated string in short_src.
    unsafe { CStr::from_ptr(ar.short_src.as_ptr()) }.to_bytes()
}

/// `arg` as C reads it: up to its first NUL byte. Redis compares command
/// and variable names with strcasecmp and strcmp, so "s\0x" is a step.
fn as_cstr(arg: &[u8]) -> &[u8] {
    &arg[..arg.iter().position(|&b| b == 0).unwrap_or(arg.len())]
}

/// A debugger command's name is one of `names`, in any case.
fn is(name: &[u8], names: &[&str]) -> bool {
    names.iter().any(|n| name.eq_ignore_ascii_case(n.as_bytes()))
}

/// Run the client's commands until one resumes the script (ldbRepl).
unsafe fn repl(l: *mut ffi::lua_State, st: *mut RunState, sp: *mut Session) -> Result<(), Stop> {
    loop {
        let argv = (*sp).read_command()?;
        let name = as_cstr(&argv[0]);
        if is(name, &["h", "help"]) {
            (*sp).help();
        } else if is(name, &["s", "step", "n", "next"]) {
            (*sp).step = true;
            return Ok(());
        } else if is(name, &["c", "continue"]) {
            return Ok(());
        } else if is(name, &["t", "trace"]) {
            trace(l, &mut *sp);
        } else if is(name, &["m", "maxlen"]) {
            (*sp).maxlen_command(&argv);
        } else if is(name, &["b", "break"]) {
            (*sp).break_command(&argv);
        } else if is(name, &["e", "eval"]) {
            eval(l, st, sp, &argv);
        } else if is(name, &["a", "abort"]) {
            return Err(Stop::Raise("script aborted for user request"));
        } else if argv.len() > 1 && is(name, &["r", "redis"]) {
            redis(l, sp, &argv);
        } else if is(name, &["p", "print"]) {
            if argv.len() == 2 {
                print_var(l, &mut *sp, &argv[1]);
            } else {
                print_all(l, &mut *sp);
            }
        } else if is(name, &["l", "list"]) {
            let s = &mut *sp;
            let mut around = s.currentline;
            if argv.len() > 1 {
                let n = protocol::atoi(&argv[1]);
                if n > 0 {
                    around = n;
                }
            }
            let context = if argv.len() > 2 { protocol::atoi(&argv[2]) } else { 5 };
            s.list(around, context);
        } else if is(name, &["w", "whole"]) {
            (*sp).list(1, 1_000_000);
        } else {
            (*sp).log("<error> Unknown Redis Lua debugger command or wrong number of arguments.");
        }
        (*sp).send_logs();
    }
}

/// Log the value on top of the stack after `prefix`, cut at maxlen.
unsafe fn log_top(l: *mut ffi::lua_State, s: &mut Session, prefix: &[u8]) {
    let mut line = prefix.to_vec();
    values::cat_value(&mut line, l, -1);
    s.log_with_maxlen(line);
}

/// print <var>: the first local of that name from the current frame
/// outwards; else KEYS or ARGV.
unsafe fn print_var(l: *mut ffi::lua_State, s: &mut Session, name: &[u8]) {
    let name = as_cstr(name);
    let mut ar: ffi::lua_Debug = std::mem::zeroed();
    let mut level = 0;
    while ffi::lua_getstack(l, level, &mut ar) != 0 {
        level += 1;
        let mut i = 1;
        loop {
            let local = ffi::lua_getlocal(l, &ar, i);
            if local.is_null() {
                break;
            }
            i += 1;
            if CStr::from_ptr(local).to_bytes() == name {
                log_top(l, s, b"<value> ");
                ffi::lua_settop(l, -2);
                return;
            }
            ffi::lua_settop(l, -2);
        }
    }
    if name == b"ARGV" || name == b"KEYS" {
        super::convert::push_bytes(l, name);
        ffi::lua_rawget_(l, ffi::LUA_GLOBALSINDEX);
        log_top(l, s, b"<value> ");
        ffi::lua_settop(l, -2);
    } else {
        s.log("No such variable.");
    }
}

/// print: every local of the current frame.
unsafe fn print_all(l: *mut ffi::lua_State, s: &mut Session) {
    let mut ar: ffi::lua_Debug = std::mem::zeroed();
    let mut shown = 0;
    if ffi::lua_getstack(l, 0, &mut ar) != 0 {
        let mut i = 1;
        loop {
            let local = ffi::lua_getlocal(l, &ar, i);
            if local.is_null() {
                break;
            }
            i += 1;
            let local = CStr::from_ptr(local).to_bytes();
            if !local.windows(12).any(|w| w == b"(*temporary)") {
                let mut prefix = b"<value> ".to_vec();
                prefix.extend_from_slice(local);
                prefix.extend_from_slice(b" = ");
                log_top(l, s, &prefix);
                shown += 1;
            }
            ffi::lua_settop(l, -2);
        }
    }
    if shown == 0 {
        s.log("No local variables in the current context.");
    }
}

/// trace: the script's frames, innermost first.
unsafe fn trace(l: *mut ffi::lua_State, s: &mut Session) {
    let mut ar: ffi::lua_Debug = std::mem::zeroed();
    let mut level = 0;
    while ffi::lua_getstack(l, level, &mut ar) != 0 {
        ffi::lua_getinfo(l, c"Snl".as_ptr(), &mut ar);
        if short_src(&ar).windows(11).any(|w| w == b"user_script") {
            let mut line = if level == 0 { b"In ".to_vec() } else { b"From ".to_vec() };
            if ar.name.is_null() {
                line.extend_from_slice(b"top level");
            } else {
                line.extend_from_slice(CStr::from_ptr(ar.name).to_bytes());
            }
            line.push(b':');
            s.log(line);
            s.log_source_line(ar.currentline);
        }
        level += 1;
    }
    if level == 0 {
        s.log("<error> Can't retrieve Lua stack.");
    }
}

/// The text of the error on top of the stack: a string, an error
/// table's `err`, else the value as the debugger shows values.
unsafe fn error_text(l: *mut ffi::lua_State) -> Vec<u8> {
    if ffi::lua_type(l, -1) == ffi::LUA_TSTRING {
        let mut len = 0;
        let p = ffi::lua_tolstring(l, -1, &mut len);
        return std::slice::from_raw_parts(p.cast::<u8>(), len).to_vec();
    }
    if ffi::lua_type(l, -1) == ffi::LUA_TTABLE {
        super::convert::push_bytes(l, b"err");
        ffi::lua_rawget_(l, -2);
        let found = ffi::lua_type(l, -1) == ffi::LUA_TSTRING;
        let text = if found {
            let mut len = 0;
            let p = ffi::lua_tolstring(l, -1, &mut len);
            Some(std::slice::from_raw_parts(p.cast::<u8>(), len).to_vec())
        } else {
            None
        };
        ffi::lua_settop(l, -2);
        if let Some(text) = text {
            return text;
        }
    }
    let mut out = Vec::new();
    values::cat_value(&mut out, l, -1);
    out
}

/// eval <code>: run the code as an expression if it is one, else as a
/// chunk, in a frame of its own; log what it returns.
unsafe fn eval(l: *mut ffi::lua_State, _st: *mut RunState, sp: *mut Session, argv: &[Vec<u8>]) {
    let code = argv[1..].join(&b' ');
    let mut expr = b"return ".to_vec();
    expr.extend_from_slice(&code);
    let name = c"@ldb_eval".as_ptr();
    if ffi::luaL_loadbuffer(l, expr.as_ptr().cast::<c_char>(), expr.len(), name) != 0 {
        ffi::lua_settop(l, -2);
        if ffi::luaL_loadbuffer(l, code.as_ptr().cast::<c_char>(), code.len(), name) != 0 {
            let mut line = b"<error> ".to_vec();
            line.extend_from_slice(&error_text(l));
            ffi::lua_settop(l, -2);
            (*sp).log(line);
            return;
        }
    }
    // The code may call redis.debug or redis.call, which reach the
    // session on their own: no reference to it is held over the call.
    if ffi::lua_pcall(l, 0, 1, 0) != 0 {
        let mut line = b"<error> ".to_vec();
        line.extend_from_slice(&error_text(l));
        ffi::lua_settop(l, -2);
        (*sp).log(line);
        return;
    }
    log_top(l, &mut *sp, b"<retval> ");
    ffi::lua_settop(l, -2);
}

/// redis <cmd> [args...]: run it through redis.call while stepping, so
/// that the command and its reply are logged as a script's are.
unsafe fn redis(l: *mut ffi::lua_State, sp: *mut Session, argv: &[Vec<u8>]) {
    if ffi::lua_checkstack(l, argv.len() as c_int + 1) == 0 {
        // Redis logs this as a reply, which renders as nothing.
        (*sp).log_reply(b"max lua stack reached");
        return;
    }
    super::convert::push_bytes(l, b"redis");
    ffi::lua_rawget_(l, ffi::LUA_GLOBALSINDEX);
    super::convert::push_bytes(l, b"call");
    ffi::lua_gettable_(l, -2);
    for a in &argv[1..] {
        super::convert::push_bytes(l, a);
    }
    (*sp).step = true;
    ffi::lua_pcall(l, argv.len() as c_int - 1, 1, 0);
    (*sp).step = false;
    ffi::lua_settop(l, -3);
}

/// redis.breakpoint(): stop at the next line; false when not debugging.
pub(super) unsafe extern "C-unwind" fn api_breakpoint(l: *mut ffi::lua_State) -> c_int {
    let cell = ffi::lua_touserdata(l, ffi::lua_upvalueindex(1)) as *const RunCell;
    let st = (*cell).get();
    let active = match session_of(st) {
        Some(sp) => {
            (*sp).luabp = true;
            true
        }
        None => false,
    };
    ffi::lua_pushboolean(l, active as c_int);
    1
}

/// redis.debug(values...): log them, comma separated; nothing when not
/// debugging.
pub(super) unsafe extern "C-unwind" fn api_debug(l: *mut ffi::lua_State) -> c_int {
    let cell = ffi::lua_touserdata(l, ffi::lua_upvalueindex(1)) as *const RunCell;
    let st = (*cell).get();
    let Some(sp) = session_of(st) else { return 0 };
    let argc = ffi::lua_gettop(l);
    let mut line = format!("<debug> line {}: ", (*sp).currentline).into_bytes();
    for i in 1..=argc {
        values::cat_value(&mut line, l, i);
        if i != argc {
            line.extend_from_slice(b", ");
        }
    }
    (*sp).log(line);
    0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session(src: &str) -> Session {
        Session::new(-1, src.as_bytes())
    }

    fn logs(s: &mut Session) -> Vec<String> {
        s.logs.drain(..).map(|l| String::from_utf8(l).unwrap()).collect()
    }

    #[test]
    fn modes() {
        assert_eq!(Mode::parse(b"SYNC"), Some(Mode::Sync));
        assert_eq!(Mode::parse(b"yes"), Some(Mode::Fork));
        assert_eq!(Mode::parse(b"No"), Some(Mode::Off));
        assert_eq!(Mode::parse(b"maybe"), None);
    }

    #[test]
    fn source_lines() {
        let s = session("a\nb\r\n\n\n");
        assert_eq!(s.src, vec![b"a".to_vec(), b"b".to_vec()]);
        assert_eq!(s.source_line(3), b"<out of range source code line>");
        assert!(session("").src.is_empty());
        assert!(session("\n\n").src.is_empty());
    }

    #[test]
    fn listing_marks_the_current_line_and_breakpoints() {
        let mut s = session("l1\nl2\nl3\nl4");
        s.currentline = 2;
        s.break_command(&[b"b".to_vec(), b"3".to_vec()]);
        assert_eq!(logs(&mut s), ["-> 2   l2", "  #3   l3", "   4   l4"]);
        s.list(2, 1);
        assert_eq!(logs(&mut s), ["   1   l1", "-> 2   l2", "  #3   l3"]);
        s.break_command(&[b"b".to_vec(), b"2".to_vec(), b"9".to_vec(), b"x".to_vec(), b"2".to_vec()]);
        assert_eq!(logs(&mut s), ["   1   l1", "->#2   l2", "  #3   l3", "Wrong line number.", "Invalid argument:'x'", "Wrong line number."]);
        s.break_command(&[b"b".to_vec()]);
        assert_eq!(logs(&mut s), ["2 breakpoints set:", "  #3   l3", "->#2   l2"]);
        s.break_command(&[b"b".to_vec(), b"-3".to_vec(), b"-3".to_vec()]);
        assert_eq!(logs(&mut s), ["Breakpoint removed.", "No breakpoint in the specified line."]);
        s.break_command(&[b"b".to_vec(), b"0".to_vec()]);
        s.break_command(&[b"b".to_vec()]);
        assert_eq!(logs(&mut s), ["All breakpoints removed.", "No breakpoints set. Use 'b <line>' to add one."]);
    }

    #[test]
    fn at_most_64_breakpoints() {
        let src = vec!["x"; 70].join("\n");
        let mut s = session(&src);
        for line in 1..=65 {
            s.break_command(&[b"b".to_vec(), line.to_string().into_bytes()]);
        }
        assert_eq!(s.breakpoints.len(), MAX_BREAKPOINTS);
        assert_eq!(logs(&mut s).last().unwrap(), "Too many breakpoints set.");
    }

    #[test]
    fn maxlen_trims_and_hints_once() {
        let mut s = session("x");
        s.maxlen_command(&[b"m".to_vec()]);
        assert_eq!(logs(&mut s), ["<value> replies are truncated at 256 bytes."]);
        let long = format!("*1\r\n$300\r\n{}\r\n", "a".repeat(300));
        s.log_reply(long.as_bytes());
        s.log_reply(long.as_bytes());
        let got = logs(&mut s);
        assert_eq!(got.len(), 3);
        assert_eq!(got[0].len(), 256 + 4);
        assert!(got[0].starts_with("<reply> [\"aaa") && got[0].ends_with(" ..."));
        assert_eq!(got[1], "<hint> The above reply was trimmed. Use 'maxlen 0' to disable trimming.");
        s.maxlen_command(&[b"m".to_vec(), b"5".to_vec()]);
        s.maxlen_command(&[b"m".to_vec(), b"0".to_vec()]);
        assert_eq!(logs(&mut s), ["<value> replies are truncated at 60 bytes.", "<value> replies are unlimited."]);
        s.log_reply(long.as_bytes());
        assert_eq!(logs(&mut s)[0].len(), "<reply> ".len() + "[\"".len() + 300 + "\"]".len());
    }

    #[test]
    fn logged_commands_show_ten_arguments() {
        let mut s = session("x");
        let mut argv = ArgVec::default();
        for a in ["set", "k", "v"] {
            argv.push(a.as_bytes());
        }
        s.log_command(&argv);
        let mut many = ArgVec::default();
        many.push(b"redis");
        for _ in 0..100 {
            many.push(b"test");
        }
        s.log_command(&many);
        let got = logs(&mut s);
        assert_eq!(got[0], "<redis> set k v");
        assert_eq!(got[1], format!("<redis> redis{} ... (90 more)", " test".repeat(9)));
    }

    #[test]
    fn refusals_as_redis_logs_them() {
        let mut s = session("x");
        s.log_refusal(&CmdError::err("Unknown Redis command called from script"));
        s.log_refusal(&CmdError::Coded("NOREPLICAS Not enough good replicas to write.".into()));
        assert_eq!(logs(&mut s), ["<error> Unknown Redis command called from script", "<error> -NOREPLICAS Not enough good replicas to write.\r\n"]);
    }
}
