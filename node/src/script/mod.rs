//! Lua scripting (Redis's script.c, script_lua.c and eval.c): a Lua 5.1 VM
//! with Redis's `redis` API and sandbox, the EVAL script cache, and running
//! a script function against the dataset.
//!
//! # How a script reaches the server
//! The VM lives in the server state, behind the server's lock, like every
//! other piece of state. While a script runs, the Rust functions behind
//! `redis.call` need the server the EVAL handler holds: the handler puts a
//! raw pointer to it in the VM's run state (see [`RunState`], reached
//! through the app data or a C function's upvalue) for the duration of the
//! call and does not touch the server itself until the script returns.
//! Every callback runs on the same thread, inside that call.
//!
//! # The hot path
//! EVALSHA of a short script is mostly redis.call, so the script is
//! entered, its commands called and its reply written through Lua's C API
//! (`enter`, [`call`], [`convert`]) rather than through mlua's values,
//! which cost a lock, a registry slot and often an allocation each.
//!
//! # Busy scripts
//! Past `busy-reply-threshold`, the VM's count hook marks the script timed
//! out in the [`Watch`] the connections share; they stop waiting for the
//! lock and hand their commands to the hook instead, which runs the few
//! commands allowed while busy (SCRIPT KILL, FUNCTION KILL, SHUTDOWN
//! NOSAVE...) and answers `-BUSY` to the rest, as Redis's
//! processEventsWhileBlocked does.

pub mod busy;
mod busy_io;
mod call;
pub mod convert;
pub mod functions;
pub mod ldb;

use std::any::Any;
use std::cell::UnsafeCell;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use corvid_proto::command_table::CmdFlags;
use corvid_proto::resp::{format_g, ArgVec, Reply};
use mlua::{Function, HookTriggers, Lua, LuaOptions, StdLib, Table, Value, Variadic, VmState};

pub use busy::Watch;
pub use busy_io::Adopted;

use crate::client::{Client, ClientId};
use crate::errors::CmdError;
use crate::server::Server;

/// The Lua code that builds the API and locks the globals.
const PRELUDE: &str = include_str!("prelude.lua");

/// Instructions between two checks of a running script (Redis's count hook).
const HOOK_EVERY: u32 = 100_000;

/// A Lua VM set up for scripts: Redis's libraries, the `redis` API and the
/// locked globals.
pub struct Vm {
    pub lua: Lua,
    /// `run(f)`: calls f under the error handler, as xpcall.
    run: Function,
    /// What a script call needs (see [`run`]).
    calls: VmHandle,
    /// The locked view of the globals that script functions run in.
    pub env: Table,
    /// The functions VM's switch between load-time and call-time globals.
    set_loading: Option<Function>,
    watch: Arc<Watch>,
}

/// How often (in script calls) the GC takes a step, and how big
/// (LUA_GC_CYCLE_PERIOD): a full cycle at once would stall the server.
const GC_PERIOD: u32 = 50;

impl Vm {
    /// A VM for EVAL scripts, or (`functions`) for function libraries.
    pub fn new(watch: Arc<Watch>, functions: bool) -> mlua::Result<Vm> {
        // SAFETY: the debug library is unsafe in mlua's sense (it can break
        // the VM's invariants); the prelude keeps it to itself for the
        // error handler and removes it from the globals before any script
        // runs.
        let lua = unsafe {
            Lua::unsafe_new_with(
                StdLib::TABLE | StdLib::STRING | StdLib::MATH | StdLib::DEBUG,
                LuaOptions::new(),
            )
        };
        corvid_lualibs::open_all(&lua)?;
        let cell = Arc::new(RunCell(UnsafeCell::new(RunState::idle())));
        lua.set_app_data(cell.clone());
        let api = lua.create_table()?;
        // SAFETY: the app data keeps the cell alive as long as the VM.
        api.set("call", unsafe { call::closure(&lua, call::redis_call, Arc::as_ptr(&cell))? })?;
        api.set("pcall", unsafe { call::closure(&lua, call::redis_pcall, Arc::as_ptr(&cell))? })?;
        api.set("error_table", lua.create_function(api_error_table)?)?;
        api.set("setresp", lua.create_function(api_setresp)?)?;
        api.set("set_repl", lua.create_function(api_set_repl)?)?;
        api.set("log", lua.create_function(api_log)?)?;
        api.set("sha1hex", lua.create_function(api_sha1hex)?)?;
        api.set("error_reply", lua.create_function(api_error_reply)?)?;
        api.set("status_reply", lua.create_function(api_status_reply)?)?;
        api.set("acl_check_cmd", lua.create_function(api_acl_check_cmd)?)?;
        // SAFETY: as for call and pcall.
        api.set("breakpoint", unsafe { call::closure(&lua, ldb::api_breakpoint, Arc::as_ptr(&cell))? })?;
        api.set("debug", unsafe { call::closure(&lua, ldb::api_debug, Arc::as_ptr(&cell))? })?;
        if functions {
            api.set("register_function", lua.create_function(functions::api_register_function)?)?;
        }
        api.set("version", crate::cmd::info::REDIS_VERSION)?;
        api.set("version_num", version_num(crate::cmd::info::REDIS_VERSION))?;
        // Scripts must not all draw the same numbers after a restart.
        let seed: u32 = rand::random();
        lua.load(format!("math.randomseed({seed})")).set_name("=[redis]").exec()?;
        let helpers: Table = lua.load(PRELUDE).set_name("=[redis]").call(api)?;
        lua.set_app_data(corvid_lualibs::TableWalker::new(&lua)?);
        let calls = VmHandle(Arc::new(Handles {
            lua: lua.clone(),
            handler: helpers.get("handler")?,
            // SAFETY: the app data keeps the cell alive as long as the VM.
            enter: unsafe { call::closure(&lua, enter, Arc::as_ptr(&cell))? },
            cell,
        }));
        let vm = Vm {
            run: helpers.get("run")?,
            calls,
            env: helpers.get("env")?,
            set_loading: helpers.get("set_loading")?,
            watch: watch.clone(),
            lua,
        };
        install_hook(&vm.lua, watch, HookTriggers::new().every_nth_instruction(HOOK_EVERY));
        Ok(vm)
    }

    /// Compile a script body (without its shebang line, which the caller
    /// blanks to keep line numbers) as a function of the scripts'
    /// environment. The error is Lua's message.
    pub fn compile(&self, body: &[u8], chunk_name: &str) -> Result<Function, String> {
        self.lua
            .load(body)
            .set_name(chunk_name)
            .set_mode(mlua::chunk::ChunkMode::Text)
            .set_environment(self.env.clone())
            .into_function()
            .map_err(|e| match e {
                mlua::Error::SyntaxError { message, .. } => message,
                other => other.to_string(),
            })
    }

    /// Back to checking every HOOK_EVERY instructions, after a kill or a
    /// load timeout made the hook fire on every line.
    pub fn reset_hook(&self) {
        install_hook(&self.lua, self.watch.clone(), HookTriggers::new().every_nth_instruction(HOOK_EVERY));
    }

    /// Memory the VM uses (used_memory_lua).
    pub fn memory(&self) -> usize {
        self.lua.used_memory()
    }
}

/// REDIS_VERSION_NUM: 7.0.15 is 0x07000f.
fn version_num(v: &str) -> i64 {
    v.split('.').take(3).fold(0, |acc, p| (acc << 8) | p.parse::<i64>().unwrap_or(0))
}

/// Flags a script declares in its shebang (`#!lua flags=no-writes,...`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ScriptFlags {
    /// No shebang: an EVAL script of Redis before 7.0, run with the old rules.
    pub compat: bool,
    pub no_writes: bool,
    pub allow_oom: bool,
    pub allow_stale: bool,
    pub no_cluster: bool,
    pub allow_cross_slot: bool,
}

impl ScriptFlags {
    /// Set the flag named `name`; false for an unknown name.
    pub fn set(&mut self, name: &[u8]) -> bool {
        match name {
            b"no-writes" => self.no_writes = true,
            b"allow-oom" => self.allow_oom = true,
            b"allow-stale" => self.allow_stale = true,
            b"no-cluster" => self.no_cluster = true,
            b"allow-cross-slot-keys" => self.allow_cross_slot = true,
            _ => return false,
        }
        true
    }

    /// The flags FUNCTION LIST shows, in Redis's order.
    pub fn names(&self) -> Vec<&'static str> {
        let mut v = Vec::new();
        for (on, name) in [
            (self.no_writes, "no-writes"),
            (self.allow_oom, "allow-oom"),
            (self.allow_stale, "allow-stale"),
            (self.no_cluster, "no-cluster"),
            (self.allow_cross_slot, "allow-cross-slot-keys"),
        ] {
            if on {
                v.push(name);
            }
        }
        v
    }

    /// What the flags make of the command's own flags for the checks
    /// before it runs (scriptFlagsToCmdFlags): writes and deny-oom unless
    /// declared otherwise.
    pub fn command_flags(&self, cmd: CmdFlags) -> CmdFlags {
        if self.compat {
            return cmd;
        }
        // MAY_REPLICATE goes too: the flags say whether it writes.
        let mut f = cmd.difference(CmdFlags::STALE.union(CmdFlags::DENYOOM).union(CmdFlags::WRITE).union(CmdFlags::MAY_REPLICATE));
        if !self.no_writes {
            f = f.union(CmdFlags::WRITE);
            if !self.allow_oom {
                f = f.union(CmdFlags::DENYOOM);
            }
        }
        if self.allow_stale {
            f = f.union(CmdFlags::STALE);
        }
        f
    }
}

/// Split an EVAL body's shebang line off: its flags and its length
/// (evalExtractShebangFlags). No shebang: compatibility mode.
pub fn eval_shebang(body: &[u8]) -> Result<(ScriptFlags, usize), String> {
    if !body.starts_with(b"#!") {
        return Ok((ScriptFlags { compat: true, ..Default::default() }, 0));
    }
    let Some(end) = body.iter().position(|&b| b == b'\n') else {
        return Err("Invalid script shebang".into());
    };
    let parts = corvid_proto::resp::split_args(&body[..end]).unwrap_or_default();
    let Some(engine) = parts.first() else {
        return Err("Invalid engine in script shebang".into());
    };
    if engine != b"#!lua" {
        return Err(format!("Unexpected engine in script shebang: {}", String::from_utf8_lossy(engine)));
    }
    let mut flags = ScriptFlags::default();
    for part in &parts[1..] {
        let Some(list) = part.strip_prefix(b"flags=") else {
            return Err(format!("Unknown lua shebang option: {}", String::from_utf8_lossy(part)));
        };
        // An empty list is no flags (sdssplitlen of "" has no parts).
        for f in list.split(|&b| b == b',').filter(|_| !list.is_empty()) {
            if !flags.set(f) {
                return Err(format!("Unexpected flag in script shebang: {}", String::from_utf8_lossy(f)));
            }
        }
    }
    Ok((flags, end))
}

/// An EVAL script in the cache.
pub struct EvalScript {
    /// The SHA, the name errors and logs give it.
    pub funcname: Arc<str>,
    pub body: Vec<u8>,
    pub flags: ScriptFlags,
    /// The compiled body, kept in the Lua registry: a `Function` handle
    /// would hold a slot of mlua's reference stack, which Lua caps at a few
    /// thousand, so caching more scripts than that failed to compile.
    pub func: mlua::RegistryKey,
}

/// The script running now (curr_run_ctx).
pub struct Running {
    /// EVAL (true) or FCALL: which KILL stops it, which BUSY error others get.
    pub eval_mode: bool,
    /// It has run a write command: it can no longer be killed.
    pub wrote: bool,
    pub killed: bool,
    pub timed_out: bool,
    /// Run by this node's master: it cannot be killed.
    pub from_master: bool,
    /// The client that called the script, and its user (the script's
    /// commands are checked against that user's permissions).
    pub caller: ClientId,
    pub user: crate::acl::UserId,
    /// The SHA for EVAL, the function's name for FCALL.
    pub funcname: Arc<str>,
    /// The calling command's arguments (FUNCTION STATS shows them).
    pub command: Vec<Vec<u8>>,
    pub start: Instant,
    pub threshold_ms: u64,
}

/// Scripting state: the EVAL VM and its script cache, the running script.
pub struct Scripting {
    pub vm: Vm,
    /// The functions VM and its libraries.
    pub fvm: Vm,
    pub libraries: functions::Libraries,
    /// By lowercase SHA1 hex.
    pub scripts: HashMap<String, EvalScript, foldhash::fast::RandomState>,
    /// Bytes of script bodies and SHAs (used_memory_scripts_eval).
    pub scripts_mem: usize,
    pub running: Option<Running>,
    pub watch: Arc<Watch>,
    /// The client scripts' commands run as, kept here between scripts so
    /// that client listings do not show it.
    client: Option<Client>,
    client_id: ClientId,
    /// DEBUG SET-DISABLE-DENY-SCRIPTS: let scripts call no-script commands.
    pub disable_deny_script: bool,
    /// Script calls until the next incremental GC step.
    gc_countdown: u32,
    /// Cached `busy-reply-threshold`.
    pub busy_threshold_ms: u64,
    /// Clients SCRIPT DEBUG armed (YES or SYNC) for their next EVAL:
    /// while 0, EVAL does not look at its client's mode.
    pub debuggers: u32,
}

/// The id of the client scripts' commands run as: the largest, so that
/// lending it to the clients map (ordered by id) for a script appends it
/// to the map's last node rather than shifting every connection's entry.
pub const SCRIPT_CLIENT: ClientId = ClientId::MAX;

impl Scripting {
    pub fn new() -> Scripting {
        let watch = Arc::new(Watch::default());
        let none: std::net::SocketAddr = ([0, 0, 0, 0], 0).into();
        let client_id = SCRIPT_CLIENT;
        let mut client = Client::new(client_id, none, none, -1, crate::clock::now_ms(), true);
        client.is_script = true;
        Scripting {
            vm: Vm::new(watch.clone(), false).expect("a new Lua VM starts"),
            fvm: Vm::new(watch.clone(), true).expect("a new Lua VM starts"),
            libraries: Default::default(),
            scripts: HashMap::default(),
            scripts_mem: 0,
            running: None,
            watch,
            client: Some(client),
            client_id,
            disable_deny_script: false,
            gc_countdown: GC_PERIOD,
            busy_threshold_ms: 5000,
            debuggers: 0,
        }
    }

    /// SCRIPT FLUSH: a new VM and an empty cache (scriptingReset).
    pub fn reset(&mut self) {
        self.scripts.clear();
        self.scripts_mem = 0;
        self.vm = Vm::new(self.watch.clone(), false).expect("a new Lua VM starts");
    }

    /// The libraries' codes, as RDB files and FUNCTION DUMP hold them.
    pub fn library_codes(&self) -> Vec<&[u8]> {
        self.libraries.libs.values().map(|l| l.code.as_slice()).collect()
    }

    /// Load libraries read from an RDB image; with `merge`, one that
    /// exists already is replaced, else it is an error.
    pub fn install_libraries(&mut self, codes: &[Vec<u8>], merge: bool) -> Result<(), String> {
        let mut loaded = functions::Libraries::default();
        for code in codes {
            let lib = functions::create(&self.fvm, code)?;
            loaded.add(lib, false)?;
        }
        self.libraries.join(loaded, merge)
    }

    /// FUNCTION FLUSH: no libraries, and a new functions VM.
    pub fn flush_functions(&mut self) {
        self.libraries = Default::default();
        self.fvm = Vm::new(self.watch.clone(), true).expect("a new Lua VM starts");
    }

    /// Compile and cache an EVAL body; its SHA either way
    /// (luaCreateFunction). The error is the reply's text.
    pub fn create(&mut self, body: &[u8]) -> Result<String, CmdError> {
        let sha = sha1_hex(body);
        if self.scripts.contains_key(&sha) {
            return Ok(sha);
        }
        let (flags, shebang_len) = eval_shebang(body).map_err(CmdError::err)?;
        // The shebang line is blanked, not cut, to keep line numbers.
        let mut code = Vec::with_capacity(body.len());
        code.extend(std::iter::repeat_n(b' ', shebang_len));
        code.extend_from_slice(&body[shebang_len..]);
        let func = self.vm.compile(&code, "@user_script").map_err(|e| CmdError::err(format!("Error compiling script (new function): {e}")))?;
        let func = self.vm.lua.create_registry_value(func).map_err(|e| CmdError::err(format!("Error compiling script (new function): {e}")))?;
        self.scripts_mem += sha.len() + body.len();
        let funcname: Arc<str> = Arc::from(sha.as_str());
        self.scripts.insert(sha.clone(), EvalScript { funcname, body: body.to_vec(), flags, func });
        Ok(sha)
    }
}

/// SHA1 of `data` as 40 lowercase hex digits (sha1hex).
pub fn sha1_hex(data: &[u8]) -> String {
    use sha1::{Digest, Sha1};
    let digest = Sha1::digest(data);
    let mut s = String::with_capacity(40);
    for b in digest {
        s.push(char::from_digit((b >> 4) as u32, 16).unwrap());
        s.push(char::from_digit((b & 15) as u32, 16).unwrap());
    }
    s
}

/// The server, as the script's callbacks reach it.
struct ServerPtr(*mut Server);

// SAFETY: the pointer is only dereferenced on the thread running the
// script, while the lock holder (the EVAL handler) waits for it.
unsafe impl Send for ServerPtr {}

/// What the API functions need while a script runs, kept for the VM's
/// whole life (inserting it per call would allocate); `srv` is null
/// between scripts.
struct RunState {
    srv: ServerPtr,
    client: ClientId,
    read_only: bool,
    allow_oom: bool,
    /// redis.set_repl: where writes propagate (PROPAGATE_AOF|PROPAGATE_REPL).
    repl: u8,
    /// redis.setresp: the protocol of the replies scripts read.
    resp: u8,
    argv: ArgVec,
    reply: Reply,
    /// Times the script's commands back to back, as a pipelined batch's.
    clock: crate::clock::BatchClock,
    /// The text of an error redis.call raises (a buffer kept, see call.rs).
    err: Vec<u8>,
    /// Commands scripts called lately: scripts call a few, over and over,
    /// and this finds them quicker than the registry (which lowercases and
    /// hashes the name).
    recent: Vec<&'static crate::dispatch::CommandDef>,
    /// A panic in a command a script called, resumed once the script is
    /// unwound.
    panic: Option<Box<dyn Any + Send>>,
    /// The debugging session of the script running, if it is debugged.
    ldb: Option<Box<ldb::Session>>,
}

impl RunState {
    fn idle() -> RunState {
        RunState {
            srv: ServerPtr(std::ptr::null_mut()),
            client: 0,
            read_only: false,
            allow_oom: false,
            repl: crate::replication::TO_ALL,
            resp: 2,
            argv: ArgVec::default(),
            reply: Reply::new(false),
            clock: Default::default(),
            err: Vec::new(),
            recent: Vec::with_capacity(RECENT_COMMANDS),
            panic: None,
            ldb: None,
        }
    }
}

/// The run state of a VM, where the mlua callbacks find it (in the app
/// data) and the raw redis.call too (as its upvalue, without the app
/// data's lock).
struct RunCell(UnsafeCell<RunState>);

// SAFETY: the state is only touched on the thread that holds the server
// (running a script or setting one up), by one function at a time: the
// EVAL handler outside the script's call, an API function inside it.
unsafe impl Sync for RunCell {}

impl RunCell {
    fn get(&self) -> *mut RunState {
        self.0.get()
    }
}

/// The run state, if a script is running in this VM.
///
/// # Safety
/// The caller is the one function touching the state now (an API function
/// the running script called, or the hook between its instructions), and
/// drops the reference before it returns to Lua (see [`RunCell`]).
// The &mut comes from the cell, not from `lua`: exclusivity is the
// caller's promise above, which is what the lint cannot see.
#[allow(clippy::mut_from_ref)]
unsafe fn active(lua: &Lua) -> Option<&mut RunState> {
    let ptr = lua.app_data_ref::<Arc<RunCell>>()?.get();
    // SAFETY: the app data keeps the cell alive as long as `lua`; the
    // caller guarantees no other reference to the state is in use.
    let st = unsafe { &mut *ptr };
    (!st.srv.0.is_null()).then_some(st)
}

/// One script call's inputs.
pub struct Invocation<'a> {
    pub caller: ClientId,
    pub funcname: Arc<str>,
    pub flags: ScriptFlags,
    /// Run by EVAL_RO / EVALSHA_RO / FCALL_RO: no writes.
    pub read_only: bool,
    pub eval_mode: bool,
    pub keys: &'a [&'a [u8]],
    pub args: &'a [&'a [u8]],
    pub command: Vec<Vec<u8>>,
    /// Run under the debugger, with the session in this slot (taken for
    /// the run, put back after).
    pub debug: Option<&'a mut Option<Box<ldb::Session>>>,
}

/// The checks before a script runs (scriptPrepareForRun): a script that
/// may write is refused where writes are.
fn prepare(srv: &Server, inv: &Invocation<'_>) -> Result<(), CmdError> {
    let from_master = srv.clients.map.get(&inv.caller).is_some_and(|c| c.is_master);
    let stale = crate::replica::serving_stale_refused(srv);
    if inv.flags.compat {
        if stale {
            return Err(CmdError::Coded("MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'.".into()));
        }
        return Ok(());
    }
    if stale && !inv.flags.allow_stale {
        return Err(CmdError::Coded(
            "MASTERDOWN Link with MASTER is down, replica-serve-stale-data is set to 'no' and 'allow-stale' flag is not set on the script.".into(),
        ));
    }
    if !inv.flags.no_writes {
        if srv.master.is_some() && srv.config.get_bool("replica-read-only") && !from_master {
            return Err(CmdError::Coded("READONLY Can not run script with write flag on readonly replica".into()));
        }
        if let Some(e) = srv.disk_error().filter(|_| !from_master) {
            return Err(CmdError::Coded(e.script_error()));
        }
        if inv.read_only {
            return Err(CmdError::err("Can not execute a script with write flag using *_ro command."));
        }
        if !crate::replication::enough_good_replicas(srv) {
            return Err(CmdError::Coded("NOREPLICAS Not enough good replicas to write.".into()));
        }
    }
    // no-writes implies allow-oom, and was checked first.
    if srv.oom && !inv.flags.allow_oom && !inv.flags.no_writes {
        return Err(CmdError::Coded("OOM allow-oom flag is not set on the script, can not run it when used memory > 'maxmemory'".into()));
    }
    Ok(())
}

/// The handles a call needs of its VM, taken out of the server (one
/// reference count) so that the server can be lent to the script.
#[derive(Clone)]
pub struct VmHandle(Arc<Handles>);

struct Handles {
    lua: Lua,
    /// The error handler scripts are called under.
    handler: Function,
    /// The C function [`enter`].
    enter: Function,
    /// The run state the API functions reach (also in the app data).
    cell: Arc<RunCell>,
}

impl Vm {
    pub fn handle(&self) -> VmHandle {
        self.calls.clone()
    }
}

/// Run `func` for `inv` and write its reply to `out` (luaCallFunction).
/// An error the script ended with is returned for the dispatcher to reply
/// and count.
pub fn run(srv: &mut Server, vm: VmHandle, func: &Function, inv: Invocation<'_>, out: &mut Reply) -> Result<(), CmdError> {
    if srv.scripting.running.is_some() {
        // Only reachable with DEBUG SET-DISABLE-DENY-SCRIPTS: no nesting.
        return Err(CmdError::err("This Redis command is not allowed from script"));
    }
    prepare(srv, &inv)?;
    let Handles { lua, handler, enter, cell } = &*vm.0;
    let from_master = srv.clients.map.get(&inv.caller).is_some_and(|c| c.is_master);
    let (caller_db, caller_user) = srv.clients.map.get(&inv.caller).map_or((0, crate::acl::DEFAULT_USER), |c| (c.db, c.user));
    let script_client = srv.scripting.client_id;
    let mut client = srv.scripting.client.take().expect("the script client is free between scripts");
    client.db = caller_db;
    client.resp = 2;
    // Its commands run as the caller's user.
    client.user = caller_user;
    srv.clients.map.insert(script_client, client);
    srv.scripting.running = Some(Running {
        eval_mode: inv.eval_mode,
        wrote: false,
        killed: false,
        timed_out: false,
        from_master,
        caller: inv.caller,
        user: caller_user,
        funcname: inv.funcname.clone(),
        command: inv.command,
        start: Instant::now(),
        threshold_ms: srv.scripting.busy_threshold_ms,
    });
    let own_tx = crate::replication::begin_script(srv);
    let was_in_exec = std::mem::replace(&mut srv.in_exec, true);
    let read_only = inv.read_only || (!inv.flags.compat && inv.flags.no_writes);

    {
        // SAFETY: see RunCell; no script runs yet.
        let st = unsafe { &mut *cell.get() };
        st.srv = ServerPtr(srv as *mut Server);
        st.client = script_client;
        st.read_only = read_only;
        st.allow_oom = !inv.flags.compat && inv.flags.allow_oom;
        st.repl = crate::replication::TO_ALL;
        st.resp = 2;
        st.clock = Default::default();
    }
    let mut debug = inv.debug;
    if let Some(slot) = debug.as_deref_mut() {
        // SAFETY: see RunCell; no script runs yet.
        let st = unsafe { &mut *cell.get() };
        st.ldb = slot.take();
        ldb::start_hook(lua, Arc::as_ptr(cell));
    }
    let reply_start = out.len();
    let mut call = ScriptCall { eval_mode: inv.eval_mode, keys: inv.keys, args: inv.args, out: &mut *out, written: false, error: None };
    let result = enter.call::<(bool, Value)>((handler, func, mlua::LightUserData(&mut call as *mut ScriptCall as *mut std::ffi::c_void)));
    let (written, array_error) = (call.written, call.error);
    // From here on the server is ours again.
    let panic = {
        // SAFETY: see RunCell; the script has returned.
        let st = unsafe { &mut *cell.get() };
        st.srv = ServerPtr(std::ptr::null_mut());
        if st.reply.buf.capacity() > 64 * 1024 {
            st.reply = Reply::new(false);
        }
        st.panic.take()
    };
    if let Some(slot) = debug {
        // SAFETY: see RunCell; the script has returned.
        *slot = unsafe { (*cell.get()).ldb.take() };
        ldb::end_hook();
        install_hook(lua, srv.scripting.watch.clone(), HookTriggers::new().every_nth_instruction(HOOK_EVERY));
    }

    let running = srv.scripting.running.take().expect("set above");
    let watch = srv.scripting.watch.clone();
    watch.end(srv);
    srv.in_exec = was_in_exec;
    if own_tx {
        crate::replication::end_transaction(srv);
    }
    let client = srv.clients.map.remove(&script_client).expect("inserted above");
    srv.scripting.client = Some(client);
    if let Some(panic) = panic {
        std::panic::resume_unwind(panic);
    }
    if running.killed || running.timed_out {
        // A kill makes the hook fire on every line; back to counting.
        install_hook(&lua, srv.scripting.watch.clone(), HookTriggers::new().every_nth_instruction(HOOK_EVERY));
    }
    srv.scripting.gc_countdown -= 1;
    if srv.scripting.gc_countdown == 0 {
        srv.scripting.gc_countdown = GC_PERIOD;
        // A failed step only leaves the work to the automatic collector.
        let _ = lua.gc_step();
    }
    if running.killed {
        // Whatever it returned (past a pcall) is not its reply.
        out.buf.truncate(reply_start);
        return Err(CmdError::Coded(format!(
            "ERR Script killed by user with {}... script: {}",
            if running.eval_mode { "SCRIPT KILL" } else { "FUNCTION KILL" },
            running.funcname
        )));
    }
    match result {
        Ok((true, value)) => {
            if !written {
                // An error table as the whole reply (all enter leaves
                // unwritten) fails the command.
                if let Value::Table(t) = &value {
                    if let Ok(Value::String(e)) = t.raw_get::<Value>("err") {
                        let msg = String::from_utf8_lossy(&e.as_bytes()).into_owned();
                        let counted = !matches!(t.raw_get::<Value>("ignore_error_stats_update"), Ok(Value::Boolean(true)));
                        return Err(script_error(msg, counted));
                    }
                }
                out.null();
            }
            if let Some((msg, counted)) = array_error {
                // An error inside an array: counted as Redis counts every
                // error reply, the command itself still succeeds.
                if counted {
                    crate::dispatch::count_error(srv, &CmdError::Coded(String::from_utf8_lossy(&msg).into_owned()));
                }
            }
            Ok(())
        }
        Ok((false, err)) => Err(error_from_lua(&err, &running.funcname)),
        Err(e) => Err(CmdError::Coded(format!("ERR Error running script {}, {:.100}", running.funcname, e.to_string()))),
    }
}

/// What [`enter`] calls a script with, and what it leaves.
struct ScriptCall<'a> {
    /// EVAL: KEYS and ARGV are globals; else a function's two arguments.
    eval_mode: bool,
    keys: &'a [&'a [u8]],
    args: &'a [&'a [u8]],
    /// Where the script's reply goes.
    out: &'a mut Reply,
    /// The script returned, and its value is written to `out`.
    written: bool,
    /// An error table inside the reply: (message, count it in the stats).
    error: Option<(Vec<u8>, bool)>,
}

/// `enter(handler, f, call)`: calls the script function `f` under the
/// error handler for the [`ScriptCall`] `call` (a light userdata), and
/// writes the reply (see convert::ReplyWriter). Returns `true` when it did
/// that; `true` and the value when it is an error table (the command's
/// error); `false` and the error when the script raised one. KEYS and ARGV
/// are built here, through the C API, rather than by a Lua helper; and
/// this C function is made once per VM, where mlua's exec_raw would make
/// two closures per call. Its upvalue is the VM's RunCell.
unsafe extern "C-unwind" fn enter(l: *mut mlua::ffi::lua_State) -> std::ffi::c_int {
    use mlua::ffi;
    let cell = ffi::lua_touserdata(l, ffi::lua_upvalueindex(1)) as *const RunCell;
    let call = &mut *(ffi::lua_touserdata(l, 3) as *mut ScriptCall);
    ffi::lua_settop(l, 2);
    let nargs = if call.eval_mode {
        let (keys, args) = (call.keys, call.args);
        convert::push_bytes(l, b"KEYS");
        push_strings(l, keys);
        ffi::lua_rawset(l, ffi::LUA_GLOBALSINDEX);
        convert::push_bytes(l, b"ARGV");
        push_strings(l, args);
        ffi::lua_rawset(l, ffi::LUA_GLOBALSINDEX);
        0
    } else {
        push_strings(l, call.keys);
        push_strings(l, call.args);
        2
    };
    let status = ffi::lua_pcall(l, nargs, 1, 1);
    if status == 0 && !is_error_table(l) {
        // The protocol the script chose last (redis.setresp).
        let script_resp3 = (*(*cell).get()).resp == 3;
        let mut w = convert::ReplyWriter { out: &mut *call.out, script_resp3, error: None };
        w.write(l, 0);
        call.error = w.error;
        call.written = true;
        ffi::lua_settop(l, 0);
        ffi::lua_pushboolean(l, 1);
        return 1;
    }
    ffi::lua_pushboolean(l, (status == 0) as std::ffi::c_int);
    ffi::lua_replace(l, 1);
    2
}

/// Whether the value on top of the stack is a table with a string `err`.
unsafe fn is_error_table(l: *mut mlua::ffi::lua_State) -> bool {
    use mlua::ffi;
    if ffi::lua_type(l, -1) != ffi::LUA_TTABLE {
        return false;
    }
    convert::push_bytes(l, b"err");
    ffi::lua_rawget_(l, -2);
    let is_string = ffi::lua_type(l, -1) == ffi::LUA_TSTRING;
    ffi::lua_settop(l, -2);
    is_string
}

/// Push a sequence of the strings `items`.
///
/// # Safety
/// `l` is a live state of this VM with two free stack slots.
unsafe fn push_strings(l: *mut mlua::ffi::lua_State, items: &[&[u8]]) {
    use mlua::ffi;
    ffi::lua_createtable(l, items.len().min(1 << 20) as std::ffi::c_int, 0);
    for (i, s) in items.iter().enumerate() {
        convert::push_bytes(l, s);
        ffi::lua_rawseti_(l, -2, (i + 1) as std::ffi::c_int);
    }
}

fn script_error(msg: String, counted: bool) -> CmdError {
    let msg = msg.strip_prefix('-').map(str::to_string).unwrap_or(msg);
    if counted {
        CmdError::Coded(msg)
    } else {
        CmdError::Uncounted(msg)
    }
}

/// The reply for a script that raised `err` (luaCallFunction's error path):
/// the message, then where it happened.
fn error_from_lua(err: &Value, funcname: &str) -> CmdError {
    let Value::Table(t) = err else {
        let msg = match err {
            Value::String(s) => s.to_string_lossy(),
            _ => "execution failure".to_string(),
        };
        return CmdError::Coded(format!("ERR Error running script {funcname}, {msg:.100}"));
    };
    let text = |k: &str| -> Option<String> {
        match t.raw_get::<Value>(k).ok()? {
            Value::String(s) => Some(s.to_string_lossy()),
            Value::Integer(n) => Some(n.to_string()),
            Value::Number(n) => Some(format_g(n, 14)),
            _ => None,
        }
    };
    let mut msg = text("err").unwrap_or_default();
    if let (Some(source), Some(line)) = (text("source"), text("line")) {
        msg.push_str(&format!(" script: {funcname}, on {source}:{line}."));
    }
    let counted = !matches!(t.raw_get::<Value>("ignore_error_stats_update"), Ok(Value::Boolean(true)));
    script_error(msg, counted)
}

/// Install the count hook that watches running scripts (luaMaskCountHook).
fn install_hook(lua: &Lua, watch: Arc<Watch>, triggers: HookTriggers) {
    let installed = lua.set_hook(triggers, move |lua, _| {
        if lua.app_data_ref::<functions::LoadState>().is_some_and(|l| l.timed_out()) {
            install_hook(lua, watch.clone(), HookTriggers::new().every_line());
            return Err(raise("FUNCTION LOAD timeout"));
        }
        // SAFETY: the hook runs between the script's instructions, when no
        // API function holds the state.
        let ptr = match unsafe { active(lua) } {
            Some(st) => st.srv.0,
            None => return Ok(VmState::Continue),
        };
        // SAFETY: see ServerPtr; no other reference to the server is in use
        // while the script runs.
        let srv = unsafe { &mut *ptr };
        if !busy::interrupt(srv) {
            return Ok(VmState::Continue);
        }
        tracing::warn!("Lua script killed by user with SCRIPT KILL.");
        // Fire on every line from now on, so a pcall cannot swallow it.
        install_hook(lua, watch.clone(), HookTriggers::new().every_line());
        Err(raise("Script killed by user with SCRIPT KILL..."))
    });
    if let Err(e) = installed {
        // Without it a runaway script could not be timed out or killed.
        tracing::warn!("Could not install the Lua script hook: {e}");
    }
}

/// An error an API function raises: Redis raises a table {err=...}, and
/// the Lua side turns this back into one (see `api_error_table`).
#[derive(Debug, Clone)]
pub struct ScriptError {
    /// "CODE message", as the table's `err` holds it.
    msg: Vec<u8>,
    /// Already counted in the error statistics (a command's own error).
    counted: bool,
}

impl std::fmt::Display for ScriptError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&String::from_utf8_lossy(&self.msg))
    }
}

impl std::error::Error for ScriptError {}

/// Raise `msg` (a Redis error text, "-CODE ..." or plain) as an error table.
fn raise(msg: &str) -> mlua::Error {
    mlua::Error::external(ScriptError { msg: convert::error_text(msg.as_bytes()), counted: false })
}

/// The ScriptError inside an error from a Rust callback.
fn script_error_of(e: &mlua::Error) -> Option<&ScriptError> {
    match e {
        mlua::Error::CallbackError { cause, .. } => script_error_of(cause),
        mlua::Error::ExternalError(inner) => inner.downcast_ref::<ScriptError>(),
        mlua::Error::WithContext { cause, .. } => script_error_of(cause),
        _ => None,
    }
}

/// The error table for an error a Rust callback raised; nil for any other.
fn api_error_table(lua: &Lua, v: Value) -> mlua::Result<Value> {
    let Value::Error(e) = v else { return Ok(Value::Nil) };
    let Some(se) = script_error_of(&e) else { return Ok(Value::Nil) };
    let t = lua.create_table_with_capacity(0, 2)?;
    t.raw_set("err", lua.create_string(&se.msg)?)?;
    if se.counted {
        t.raw_set("ignore_error_stats_update", true)?;
    }
    Ok(Value::Table(t))
}

/// A number as redis.call passes it: "%.17g", not Lua's "%.14g".
fn number_arg(n: f64) -> String {
    format_g(n, 17)
}

/// How many commands RunState::recent holds.
const RECENT_COMMANDS: usize = 8;

/// The command `args` name: from the recent ones, else from the registry
/// (and then remembered, if it is a plain command: a container's
/// subcommand depends on the next argument).
fn find_command(recent: &mut Vec<&'static crate::dispatch::CommandDef>, args: &corvid_proto::resp::Args<'_>) -> Option<&'static crate::dispatch::CommandDef> {
    let name = args.get(0);
    if let Some(def) = recent.iter().find(|d| d.spec.full_name.as_bytes().eq_ignore_ascii_case(name)) {
        return Some(*def);
    }
    let def = crate::dispatch::registry().find(args).ok()?;
    if def.subs.is_empty() && def.spec.container.is_none() {
        if recent.len() == RECENT_COMMANDS {
            recent.remove(0);
        }
        recent.push(def);
    }
    Some(def)
}

/// The checks a script's command passes, then the command (scriptCall).
fn call_command(srv: &mut Server, st: &mut RunState) -> Result<(), CmdError> {
    let args = st.argv.args();
    let Some(def) = find_command(&mut st.recent, &args) else {
        let e = CmdError::err("Unknown Redis command called from script");
        crate::dispatch::count_rejection(srv, None, &e);
        return Err(e);
    };
    let spec = def.spec;
    let argc = args.len() as i32;
    let reject = |srv: &mut Server, e: CmdError| {
        crate::dispatch::count_rejection(srv, Some(def.id), &e);
        Err(e)
    };
    if (spec.arity > 0 && spec.arity != argc) || argc < -spec.arity {
        return reject(srv, CmdError::err("Wrong number of args calling Redis command from script"));
    }
    if spec.flags.contains(CmdFlags::NOSCRIPT) && !srv.scripting.disable_deny_script {
        return reject(srv, CmdError::err("This Redis command is not allowed from script"));
    }
    if !spec.flags.contains(CmdFlags::STALE) && crate::replica::serving_stale_refused(srv) {
        return reject(srv, CmdError::err("Can not execute the command on a stale replica"));
    }
    // The script runs as the user of the client that called it.
    let (caller, user) = srv.scripting.running.as_ref().map(|r| (r.caller, r.user)).expect("a script is running");
    if !srv.acl.unrestricted(user) {
        let argv: Vec<&[u8]> = args.iter().collect();
        if let Err(e) = crate::acl::check_script(srv, caller, def.acl_id, spec, &argv) {
            return reject(srv, e);
        }
    }
    let running = srv.scripting.running.as_ref().expect("a script is running");
    let is_write = spec.flags.contains(CmdFlags::WRITE);
    if st.read_only && (is_write || spec.flags.contains(CmdFlags::MAY_REPLICATE)) {
        return reject(srv, CmdError::err("Write commands are not allowed from read-only scripts."));
    }
    if is_write && !running.wrote {
        // Once the script wrote, it must not fail halfway for the
        // server's state.
        if srv.master.is_some() && srv.config.get_bool("replica-read-only") && !running.from_master {
            return reject(srv, CmdError::Coded("READONLY You can't write against a read only replica.".into()));
        }
        if let Some(e) = srv.disk_error() {
            return reject(srv, CmdError::Coded(e.command_error()));
        }
        if !crate::replication::enough_good_replicas(srv) {
            return reject(srv, CmdError::Coded("NOREPLICAS Not enough good replicas to write.".into()));
        }
    }
    // Memory was over the limit when the script started: no command that
    // may grow it, unless the script allows it or already wrote.
    if !st.allow_oom && srv.oom && !running.from_master && !running.wrote && spec.flags.contains(CmdFlags::DENYOOM) {
        return reject(srv, CmdError::Coded("OOM command not allowed when used memory > 'maxmemory'.".into()));
    }
    if is_write {
        srv.scripting.running.as_mut().expect("a script is running").wrote = true;
    }
    srv.replicas.targets = st.repl;
    crate::dispatch::run_from_script(srv, def, st.client, &args, &mut st.reply, &mut st.clock);
    srv.replicas.targets = crate::replication::TO_ALL;
    Ok(())
}

/// redis.setresp(2|3)
fn api_setresp(lua: &Lua, args: Variadic<Value>) -> mlua::Result<()> {
    // SAFETY: an API function the script called; nothing else holds the state.
    let Some(st) = (unsafe { active(lua) }) else {
        return Err(raise("redis.setresp can only be called inside a script invocation"));
    };
    if args.len() != 1 {
        return Err(raise("redis.setresp() requires one argument."));
    }
    match to_number(lua, &args[0]) as i64 {
        v @ (2 | 3) => st.resp = v as u8,
        _ => return Err(raise("RESP version must be 2 or 3.")),
    }
    // The script client's protocol is what its commands reply in.
    // SAFETY: see ServerPtr; the EVAL handler waits for the script.
    let srv = unsafe { &mut *st.srv.0 };
    if let Some(c) = srv.clients.map.get_mut(&st.client) {
        c.resp = st.resp;
    }
    Ok(())
}

/// redis.set_repl(flags)
fn api_set_repl(lua: &Lua, args: Variadic<Value>) -> mlua::Result<()> {
    // SAFETY: an API function the script called; nothing else holds the state.
    let Some(st) = (unsafe { active(lua) }) else {
        return Err(raise("redis.set_repl can only be called inside a script invocation"));
    };
    if args.len() != 1 {
        return Err(raise("redis.set_repl() requires two arguments."));
    }
    let flags = to_number(lua, &args[0]) as i64;
    if flags & !(crate::replication::TO_ALL as i64) != 0 {
        return Err(raise("Invalid replication flags. Use REPL_AOF, REPL_REPLICA, REPL_ALL or REPL_NONE."));
    }
    st.repl = flags as u8;
    Ok(())
}

/// lua_tonumber: numbers, and strings that read as numbers; else 0.
fn to_number(lua: &Lua, v: &Value) -> f64 {
    match v {
        Value::Integer(n) => *n as f64,
        Value::Number(n) => *n,
        Value::String(_) => lua.coerce_number(v.clone()).ok().flatten().unwrap_or(0.0),
        _ => 0.0,
    }
}

/// lua_tolstring: strings, and numbers in Lua's format; None otherwise.
fn to_bytes(lua: &Lua, v: &Value) -> Option<Vec<u8>> {
    match v {
        Value::String(s) => Some(s.as_bytes().to_vec()),
        Value::Integer(_) | Value::Number(_) => lua.coerce_string(v.clone()).ok().flatten().map(|s| s.as_bytes().to_vec()),
        _ => None,
    }
}

/// redis.log(level, message...)
fn api_log(lua: &Lua, args: Variadic<Value>) -> mlua::Result<()> {
    if args.len() < 2 {
        return Err(raise("redis.log() requires two arguments or more."));
    }
    if !matches!(args[0], Value::Integer(_) | Value::Number(_)) && lua.coerce_number(args[0].clone()).ok().flatten().is_none() {
        return Err(raise("First argument must be a number (log level)."));
    }
    let level = to_number(lua, &args[0]) as i64;
    if !(0..=3).contains(&level) {
        return Err(raise("Invalid debug level."));
    }
    let mut line = Vec::new();
    for (i, a) in args.iter().enumerate().skip(1) {
        if let Some(s) = to_bytes(lua, a) {
            if i != 1 {
                line.push(b' ');
            }
            line.extend_from_slice(&s);
        }
    }
    let line = String::from_utf8_lossy(&line);
    match level {
        0 => tracing::trace!("{line}"),
        1 => tracing::debug!("{line}"),
        2 => tracing::info!("{line}"),
        _ => tracing::warn!("{line}"),
    }
    Ok(())
}

/// redis.sha1hex(string)
fn api_sha1hex(lua: &Lua, args: Variadic<Value>) -> mlua::Result<String> {
    if args.len() != 1 {
        return Err(raise("wrong number of arguments"));
    }
    let s = to_bytes(lua, &args[0]).unwrap_or_default();
    Ok(sha1_hex(&s))
}

/// redis.error_reply(msg): an error table; a bad argument gives one too,
/// not a raised error (luaRedisErrorReplyCommand).
fn api_error_reply(lua: &Lua, args: Variadic<Value>) -> mlua::Result<Value> {
    let msg = match args.as_slice() {
        [Value::String(s)] => {
            let s = s.as_bytes();
            if s.starts_with(b"-") {
                s.to_vec()
            } else {
                [&b"-"[..], &s].concat()
            }
        }
        _ => b"wrong number or type of arguments".to_vec(),
    };
    Ok(Value::Table(convert::error_table(lua, &msg)?))
}

/// redis.status_reply(msg)
fn api_status_reply(lua: &Lua, args: Variadic<Value>) -> mlua::Result<Value> {
    match args.as_slice() {
        [Value::String(s)] => {
            let t = lua.create_table_with_capacity(0, 1)?;
            t.raw_set("ok", s.clone())?;
            Ok(Value::Table(t))
        }
        _ => Ok(Value::Table(convert::error_table(lua, b"wrong number or type of arguments")?)),
    }
}

/// redis.acl_check_cmd(command, args...): whether the user of the client
/// that ran the script may run it.
fn api_acl_check_cmd(lua: &Lua, args: Variadic<Value>) -> mlua::Result<bool> {
    // SAFETY: an API function the script called; nothing else holds the state.
    let Some(st) = (unsafe { active(lua) }) else {
        return Err(raise("redis.acl_check_cmd can only be called inside a script invocation"));
    };
    // SAFETY: see ServerPtr.
    let srv = unsafe { &*st.srv.0 };
    if args.is_empty() {
        return Err(raise("Please specify at least one argument for this redis lib call"));
    }
    let mut argv = ArgVec::default();
    for a in args.iter() {
        match a {
            Value::String(s) => argv.push(&s.as_bytes()),
            Value::Integer(_) | Value::Number(_) => argv.push(number_arg(to_number(lua, a)).as_bytes()),
            _ => return Err(raise("Lua redis lib command arguments must be strings or integers")),
        }
    }
    let args = argv.args();
    let Ok(def) = crate::dispatch::registry().find(&args) else {
        return Err(raise("Invalid command passed to redis.acl_check_cmd()"));
    };
    let caller = srv.scripting.running.as_ref().map(|r| r.caller);
    let user = caller.and_then(|c| srv.clients.map.get(&c)).map_or(crate::acl::DEFAULT_USER, |c| c.user);
    let argv: Vec<&[u8]> = args.iter().collect();
    Ok(srv.acl.check(user, def.acl_id, def.spec, &argv).is_ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shebangs() {
        assert_eq!(eval_shebang(b"return 1").unwrap().0.compat, true);
        let (f, len) = eval_shebang(b"#!lua flags=no-writes,allow-oom\nreturn 1").unwrap();
        assert!(f.no_writes && f.allow_oom && !f.compat);
        assert_eq!(len, 31);
        assert_eq!(eval_shebang(b"#!lua").unwrap_err(), "Invalid script shebang");
        assert_eq!(eval_shebang(b"#!python\n").unwrap_err(), "Unexpected engine in script shebang: #!python");
        assert_eq!(eval_shebang(b"#!lua name=x\n").unwrap_err(), "Unknown lua shebang option: name=x");
        assert_eq!(eval_shebang(b"#!lua flags=bad\n").unwrap_err(), "Unexpected flag in script shebang: bad");
        assert_eq!(eval_shebang(b"#!lua flags=\n").unwrap().0, ScriptFlags::default());
    }

    #[test]
    fn sha1_of_empty_and_text() {
        assert_eq!(sha1_hex(b""), "da39a3ee5e6b4b0d3255bfef95601890afd80709");
        assert_eq!(sha1_hex(b"Pizza & Mandolino"), "74822d82031af7493c20eefa13bd07ec4fada82f");
    }

    #[test]
    fn version_number() {
        assert_eq!(version_num("7.0.15"), 0x07000f);
    }
}
