//! The node's configuration, read and written exactly as `redis-server` 7.0.15
//! does: the same redis.conf syntax and argv, the same CONFIG GET/SET replies and
//! errors, the same CONFIG REWRITE output.
//!
//! Everything is driven by one table ([`table::DIRECTIVES`]): each directive's
//! name, alias, type, bounds, default and flags. Parsing a file, CONFIG SET,
//! CONFIG GET, REWRITE and the typed getters all read the same row, so a default
//! or a bound exists in exactly one place.
//!
//! # Layout
//! - [`table`]: the directive rows, the enum value lists and the validity checks.
//! - [`value`]: what a directive holds, how a value is parsed from arguments and
//!   rendered for CONFIG GET.
//! - [`syntax`]: Redis's text conventions (argument splitting, quoting, its
//!   number readers).
//! - [`load`]: `redis-server`'s argv and redis.conf reading (`include`, stdin,
//!   `--name value` options) and the start-up errors.
//! - [`rewrite`]: CONFIG REWRITE.
//! - [`sha256`]: for describing a password-protected default user in REWRITE.
//!
//! # Side effects
//! Like Redis, setting `dir` (in a file, on the command line or with CONFIG
//! SET) changes the process's working directory, and CONFIG GET dir reports the
//! working directory; loading a file with `logfile` set opens (creates) the log
//! file to check it can be written. Nothing else here touches the world:
//! applying a change (listening on a new port, resizing the backlog...) is the
//! server's job, using the names [`Config::set`] returns.

mod load;
mod rewrite;
pub(crate) mod sha256;
pub(crate) mod syntax;
pub mod table;
mod value;

#[cfg(test)]
mod tests;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::OnceLock;

pub use table::{flags, protected_action, shutdown, Directive, DIRECTIVES};
pub use value::{keyspace_events, OutputBufferLimit};

use table::{Kind, Special};
use value::{Origin, Value};

/// The Redis release whose behaviour (and start-up banner) this reproduces.
const REDIS_VERSION: &str = "7.0.15";

/// Errors, each displayed as the exact text Redis prints or replies.
///
/// The start-up ones ([`ConfigError::Fatal`], [`ConfigError::CantOpen`]) are
/// what `redis-server` writes before exiting with status 1; the others are
/// CONFIG SET/REWRITE replies, "ERR " (or "LOADING ") included.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// A bad line in redis.conf or argv (`at` = line number and the trimmed
    /// line), or a check after the last line (`at` = None).
    #[error("\n*** FATAL CONFIG FILE ERROR (Redis {REDIS_VERSION}) ***\n{}{reason}", fatal_location(.at))]
    Fatal { at: Option<(usize, String)>, reason: String },
    /// The config file (or an `include`d one) could not be opened.
    #[error("Fatal error, can't open config file '{path}': {reason}")]
    CantOpen { path: String, reason: String },
    /// CONFIG SET of a name that is no directive.
    #[error("ERR Unknown option or number of arguments for CONFIG SET - '{0}'")]
    UnknownOption(String),
    /// CONFIG SET refused or failed for `arg` (as the client spelled it for
    /// immutable/protected/duplicate, the directive's own name otherwise).
    #[error("ERR CONFIG SET failed (possibly related to argument '{arg}'){}", set_reason(.reason))]
    SetFailed { arg: String, reason: Option<String> },
    /// CONFIG SET of a DENY_LOADING directive while a dataset is loading.
    #[error("LOADING Redis is loading the dataset in memory")]
    Loading,
    /// CONFIG REWRITE on a server started without a config file.
    #[error("ERR The server is running without a config file")]
    NoConfigFile,
    /// CONFIG REWRITE could not read or replace the file (strerror text).
    #[error("ERR Rewriting config file: {0}")]
    Rewrite(String),
}

fn fatal_location(at: &Option<(usize, String)>) -> String {
    match at {
        Some((line, text)) => format!("Reading the configuration file, at line {line}\n>>> '{text}'\n"),
        None => String::new(),
    }
}

fn set_reason(reason: &Option<String>) -> String {
    reason.as_ref().map(|r| format!(" - {r}")).unwrap_or_default()
}

impl ConfigError {
    /// The error CONFIG SET gives when applying a new value failed after it was
    /// accepted (e.g. `port` already in use): the server reports it with this,
    /// after restoring its earlier `Config`.
    pub fn set_failed(directive: &str, reason: &str) -> ConfigError {
        ConfigError::SetFailed { arg: directive.to_string(), reason: Some(reason.to_string()) }
    }

    /// A start-up error about a line the config recorded (a `rename-command`,
    /// `user` or `loadmodule` the server could not apply), in Redis's format.
    pub fn at_line<T>(directive: &Located<T>, reason: &str) -> ConfigError {
        ConfigError::Fatal { at: Some((directive.line, directive.text.clone())), reason: reason.to_string() }
    }
}

/// A redis.conf directive the config module records for another part of the
/// server, with where it came from so errors can point at it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Located<T> {
    pub value: T,
    /// Line number within the file (or argv block) it was read from.
    pub line: usize,
    /// The trimmed line.
    pub text: String,
}

/// Directives that only exist in redis.conf, in file order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FileDirectives {
    /// `rename-command <from> <to>`; an empty `to` removes the command.
    pub rename_commands: Vec<Located<(String, String)>>,
    /// `user <name> <rule>...`: the arguments after "user".
    pub users: Vec<Located<Vec<String>>>,
    /// `loadmodule <path> <arg>...`: the arguments after "loadmodule".
    pub load_modules: Vec<Located<Vec<String>>>,
    /// `<module>.<name> <value...>`: module configs, values joined by spaces,
    /// a later line replacing an earlier one.
    pub module_configs: Vec<(String, String)>,
}

/// Who is asking for a CONFIG SET, for the checks that depend on it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SetContext {
    /// The client is on a loopback or unix socket connection: with
    /// `enable-protected-configs local` it may set protected directives.
    pub local_client: bool,
    /// A dataset is being loaded: DENY_LOADING directives are refused.
    pub loading: bool,
}

/// The configuration: a value per directive, the file it came from, and the
/// file-only directives the rest of the server applies.
#[derive(Debug, Clone)]
pub struct Config {
    /// Parallel to [`DIRECTIVES`].
    values: Vec<Value>,
    /// Absolute path of the config file, as Redis keeps it for REWRITE.
    file: Option<PathBuf>,
    file_directives: FileDirectives,
    /// ACL users as `ACL LIST`'s lines without "user ", for REWRITE; `None`
    /// until the ACL code provides them.
    acl_users: Option<Vec<String>>,
}

/// Where a name points in the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Entry {
    index: usize,
    /// Found by its alias ("slave-read-only"), which Redis treats as a
    /// separate entry for CONFIG SET's duplicate check and error texts.
    alias: bool,
}

impl Entry {
    fn name(self) -> &'static str {
        let d = &DIRECTIVES[self.index];
        if self.alias {
            d.alias.expect("alias entry of a directive without alias")
        } else {
            d.name
        }
    }
}

/// Find a directive by name or alias, ignoring ASCII case as Redis does.
fn lookup(name: &[u8]) -> Option<Entry> {
    // foldhash, not SipHash: typed getters look names up on command paths
    // (list-max-listpack-size on every push), and the keys are our own.
    type Index = HashMap<&'static str, Entry, foldhash::fast::FixedState>;
    static INDEX: OnceLock<Index> = OnceLock::new();
    let index = INDEX.get_or_init(|| {
        let mut map = Index::with_hasher(foldhash::fast::FixedState::with_seed(0x5eed));
        for (i, d) in DIRECTIVES.iter().enumerate() {
            map.insert(d.name, Entry { index: i, alias: false });
            if let Some(alias) = d.alias {
                map.insert(alias, Entry { index: i, alias: true });
            }
        }
        map
    });
    // Canonical names (the typed getters) need no lowercased copy.
    if let Some(entry) = std::str::from_utf8(name).ok().and_then(|n| index.get(n)) {
        return Some(*entry);
    }
    let lower = String::from_utf8(name.to_ascii_lowercase()).ok()?;
    index.get(lower.as_str()).copied()
}

fn index_of(name: &str) -> usize {
    match lookup(name.as_bytes()) {
        Some(e) => e.index,
        None => panic!("no config directive named {name:?}"),
    }
}

impl Config {
    /// Every directive at its default, with no config file.
    pub fn defaults() -> Config {
        Config {
            values: DIRECTIVES.iter().map(Value::default_for).collect(),
            file: None,
            file_directives: FileDirectives::default(),
            acl_users: None,
        }
    }

    /// Load the configuration from `redis-server`'s arguments (without the
    /// program name): `[configfile | -] [--name value ...] [-]`, options also
    /// allowed after the file, "-" reading the config from stdin. The file, then
    /// stdin, then the options are read as one text, so later settings win.
    ///
    /// `-v`/`--version`/`-h`/`--help`/`--test-memory`/`--check-system` are the
    /// binary's to handle before calling this.
    ///
    /// Errors carry Redis's start-up text; print it to stderr and exit 1.
    /// `rename-command` is recorded, not checked; see
    /// [`Config::from_args_with_commands`].
    pub fn from_args(args: &[String]) -> Result<Config, ConfigError> {
        load::from_args(args, &mut std::io::stdin().lock(), None)
    }

    /// [`Config::from_args`], also checking each `rename-command` against the
    /// command table as Redis does ("No such command in rename-command",
    /// "Target command name already exists"). `commands` are the command names.
    pub fn from_args_with_commands(args: &[String], commands: &[&str]) -> Result<Config, ConfigError> {
        load::from_args(args, &mut std::io::stdin().lock(), Some(commands))
    }

    /// The absolute path of the config file the server was started with.
    pub fn config_file(&self) -> Option<String> {
        self.file.as_ref().map(|p| p.to_string_lossy().into_owned())
    }

    /// Directives recorded from redis.conf for other parts of the server.
    pub fn file_directives(&self) -> &FileDirectives {
        &self.file_directives
    }

    /// Give CONFIG REWRITE the ACL users to write, as `ACL LIST` prints them
    /// minus the leading "user ". Without this, REWRITE writes the users read
    /// from the config file, plus the default user described from
    /// `requirepass`.
    pub fn set_acl_users(&mut self, users: Vec<String>) {
        self.acl_users = Some(users);
    }

    /// CONFIG GET: the directives matching any of `patterns` (glob, ASCII case
    /// ignored), each name once, aliases included; hidden directives only by
    /// their exact name. An exact name is echoed as the client spelled it.
    /// Values are shown lossily as UTF-8; see [`Config::get_bytes`].
    pub fn get(&self, patterns: &[&[u8]]) -> Vec<(String, String)> {
        self.get_bytes(patterns).into_iter().map(|(k, v)| (k, String::from_utf8_lossy(&v).into_owned())).collect()
    }

    /// CONFIG GET with the values as the bytes Redis replies (a binary
    /// `requirepass` survives).
    ///
    /// Redis returns them in its hash table's order, which changes from run to
    /// run; here it is pattern by pattern, then table order, name before alias.
    pub fn get_bytes(&self, patterns: &[&[u8]]) -> Vec<(String, Vec<u8>)> {
        let mut out: Vec<(String, Vec<u8>)> = Vec::new();
        let mut seen: Vec<Vec<u8>> = Vec::new();
        for &pattern in patterns {
            // Redis looks for glob characters and matches with C string
            // functions, but looks exact names up with their full length.
            if !syntax::c_str(pattern).iter().any(|b| matches!(b, b'[' | b'*' | b'?')) {
                let lower = pattern.to_ascii_lowercase();
                if seen.contains(&lower) {
                    continue;
                }
                if let Some(entry) = lookup(pattern) {
                    seen.push(lower);
                    out.push((String::from_utf8_lossy(pattern).into_owned(), self.render(entry.index)));
                }
                continue;
            }
            let pattern = syntax::c_str(pattern);
            for (i, d) in DIRECTIVES.iter().enumerate() {
                if d.has(flags::HIDDEN) {
                    continue;
                }
                for name in std::iter::once(d.name).chain(d.alias) {
                    if seen.iter().any(|s| s.as_slice() == name.as_bytes()) {
                        continue;
                    }
                    if crate::glob::glob_match(pattern, name.as_bytes(), true) {
                        seen.push(name.as_bytes().to_vec());
                        out.push((name.to_string(), self.render(i)));
                    }
                }
            }
        }
        out
    }

    /// CONFIG SET name value [name value ...] from a client that is neither
    /// local nor arriving while loading; see [`Config::set_with`].
    pub fn set(&mut self, pairs: &[(&[u8], &[u8])]) -> Result<Vec<&'static str>, ConfigError> {
        self.set_with(pairs, SetContext::default())
    }

    /// CONFIG SET: all pairs are checked (known, mutable, allowed, not twice),
    /// then set in order; if one fails, every value is restored and the error
    /// names it. Returns the canonical names of the directives whose value
    /// changed, for the server to act on (a directive set to its current value
    /// is not listed, except those Redis always re-applies).
    pub fn set_with(&mut self, pairs: &[(&[u8], &[u8])], ctx: SetContext) -> Result<Vec<&'static str>, ConfigError> {
        let mut chosen: Vec<(Entry, &[u8])> = Vec::new();
        for &(name, value) in pairs {
            let Some(entry) = lookup(name) else {
                return Err(ConfigError::UnknownOption(String::from_utf8_lossy(name).into_owned()));
            };
            let d = &DIRECTIVES[entry.index];
            let refused = if d.has(flags::IMMUTABLE) {
                Some("can't set immutable config")
            } else if d.has(flags::PROTECTED) && !self.allows_protected(ctx.local_client) {
                Some("can't set protected config")
            } else {
                None
            };
            if let Some(reason) = refused {
                return Err(ConfigError::SetFailed {
                    arg: String::from_utf8_lossy(name).into_owned(),
                    reason: Some(reason.to_string()),
                });
            }
            if ctx.loading && d.has(flags::DENY_LOADING) {
                return Err(ConfigError::Loading);
            }
            if chosen.iter().any(|(e, _)| *e == entry) {
                return Err(ConfigError::SetFailed {
                    arg: String::from_utf8_lossy(name).into_owned(),
                    reason: Some("duplicate parameter".to_string()),
                });
            }
            chosen.push((entry, value));
        }

        let saved = self.values.clone();
        // `dir` lives in the process, not in `values`: remember where to go back.
        let sets_dir = chosen.iter().any(|(e, _)| matches!(DIRECTIVES[e.index].kind, Kind::Special(Special::Dir)));
        let saved_dir = if sets_dir { std::env::current_dir().ok() } else { None };
        let mut changed: Vec<&'static str> = Vec::new();
        for &(entry, value) in &chosen {
            let d = &DIRECTIVES[entry.index];
            let args = value::command_args(d, value);
            match self.assign(entry.index, &args, Origin::Command) {
                Ok(true) => {
                    self.clamp(entry.index, false);
                    if !changed.contains(&d.name) {
                        changed.push(d.name);
                    }
                }
                Ok(false) => {}
                Err(reason) => {
                    self.values = saved;
                    if let Some(dir) = saved_dir {
                        // Best effort, as Redis's restore: it only logs a failure.
                        let _ = std::env::set_current_dir(dir);
                    }
                    return Err(ConfigError::SetFailed { arg: entry.name().to_string(), reason: Some(reason) });
                }
            }
        }
        Ok(changed)
    }

    /// Whether `enable-protected-configs` lets this client set PROTECTED
    /// directives (Redis's `allowProtectedAction`, also used for
    /// enable-debug-command and enable-module-command).
    fn allows_protected(&self, local_client: bool) -> bool {
        self.allows_action("enable-protected-configs", local_client)
    }

    /// Whether an `enable-*` directive (`enable-protected-configs`,
    /// `enable-debug-command`, `enable-module-command`) allows the action for
    /// a client, local or not.
    pub fn allows_action(&self, directive: &str, local_client: bool) -> bool {
        match self.get_i64(directive) as i32 {
            protected_action::YES => true,
            protected_action::LOCAL => local_client,
            _ => false,
        }
    }

    /// CONFIG REWRITE: rewrite the file the configuration was loaded from,
    /// keeping comments and unknown lines, updating directives in place,
    /// dropping defaults that were not there and appending the rest after
    /// "# Generated by CONFIG REWRITE".
    pub fn rewrite(&self) -> Result<(), ConfigError> {
        let path = self.file.as_ref().ok_or(ConfigError::NoConfigFile)?;
        rewrite::rewrite(self, path, false)
    }

    /// DEBUG CONFIG-REWRITE-FORCE-ALL: REWRITE writing every directive, default
    /// or not.
    pub fn rewrite_force_all(&self) -> Result<(), ConfigError> {
        let path = self.file.as_ref().ok_or(ConfigError::NoConfigFile)?;
        rewrite::rewrite(self, path, true)
    }

    /// Whether a directive's value is a secret that CONFIG SET's logged
    /// arguments redact (SENSITIVE_CONFIG); false for an unknown name.
    pub fn is_sensitive(name: &[u8]) -> bool {
        lookup(name).is_some_and(|e| DIRECTIVES[e.index].has(table::flags::SENSITIVE))
    }

    /// Every directive row, in Redis's order.
    pub fn directives() -> &'static [Directive] {
        DIRECTIVES
    }

    /// A yes/no directive. Panics on an unknown name or another type.
    pub fn get_bool(&self, name: &str) -> bool {
        match &self.values[index_of(name)] {
            Value::Bool(b) => *b,
            other => panic!("config {name:?} is not a yes/no directive: {other:?}"),
        }
    }

    /// A number as Redis stores it: bytes for memory directives, a percentage
    /// as its negative (`maxmemory-clients 10%` is -10), `unixsocketperm` as
    /// the mode's value; for enums, Redis's value for the choice (e.g. the
    /// [`shutdown`] flag bits). Panics on an unknown name or another type.
    pub fn get_i64(&self, name: &str) -> i64 {
        match &self.values[index_of(name)] {
            Value::Num(n) => *n,
            Value::Enum(v) => i64::from(*v),
            other => panic!("config {name:?} is not numeric: {other:?}"),
        }
    }

    /// Any directive rendered as CONFIG GET shows it ("yes", "noeviction",
    /// "3600 1 300 100", "" for an unset string), lossily as UTF-8.
    pub fn get_str(&self, name: &str) -> String {
        String::from_utf8_lossy(&self.render(index_of(name))).into_owned()
    }

    /// [`Config::get_str`] as bytes (binary passwords).
    pub fn get_raw(&self, name: &str) -> Vec<u8> {
        self.render(index_of(name))
    }

    /// The chosen name of a single-choice enum directive. Panics on an unknown
    /// name, a non-enum, or the flag-set enums (`shutdown-on-sig*`, use
    /// [`Config::get_i64`]).
    pub fn get_enum(&self, name: &str) -> &'static str {
        let i = index_of(name);
        let d = &DIRECTIVES[i];
        match (&d.kind, &self.values[i]) {
            (Kind::Enum { choices, .. }, Value::Enum(v)) if !d.has(flags::MULTI_ARG) => {
                choices.iter().find(|(_, cv)| cv == v).map(|(n, _)| *n).unwrap_or("unknown")
            }
            _ => panic!("config {name:?} is not a single-choice enum"),
        }
    }

    /// `save`: (seconds, changes) pairs; empty when snapshotting is off.
    pub fn save_params(&self) -> Vec<(i64, i64)> {
        match &self.values[index_of("save")] {
            Value::Save(v) => v.iter().map(|&(s, c)| (s, i64::from(c))).collect(),
            _ => unreachable!("save holds save points"),
        }
    }

    /// `bind`: the addresses, "-" prefix (optional address) kept.
    pub fn bind_addrs(&self) -> Vec<String> {
        match &self.values[index_of("bind")] {
            Value::Bind(v) => v.iter().map(|a| String::from_utf8_lossy(a).into_owned()).collect(),
            _ => unreachable!("bind holds addresses"),
        }
    }

    /// `client-output-buffer-limit` for normal, replica and pubsub clients.
    pub fn client_output_buffer_limits(&self) -> [OutputBufferLimit; 3] {
        match &self.values[index_of("client-output-buffer-limit")] {
            Value::OutputBufferLimits(v) => *v,
            _ => unreachable!("client-output-buffer-limit holds limits"),
        }
    }

    /// `oom-score-adj-values` for master, replica and background child.
    pub fn oom_score_adj_values(&self) -> [i32; 3] {
        match &self.values[index_of("oom-score-adj-values")] {
            Value::OomScoreAdj(v) => *v,
            _ => unreachable!("oom-score-adj-values holds three scores"),
        }
    }

    /// `notify-keyspace-events` as [`keyspace_events`] bits.
    pub fn notify_keyspace_events(&self) -> i32 {
        match &self.values[index_of("notify-keyspace-events")] {
            Value::KeyspaceEvents(v) => *v,
            _ => unreachable!("notify-keyspace-events holds flags"),
        }
    }

    /// `replicaof`: the master's host and port, if any.
    pub fn replica_of(&self) -> Option<(String, u16)> {
        match &self.values[index_of("replicaof")] {
            Value::ReplicaOf(Some((host, port))) => Some((String::from_utf8_lossy(host).into_owned(), *port as u16)),
            Value::ReplicaOf(None) => None,
            _ => unreachable!("replicaof holds a master"),
        }
    }

    /// Record the master REPLICAOF set (or None), so CONFIG GET and CONFIG
    /// REWRITE show the current one, as Redis derives it from masterhost.
    pub fn set_replica_of(&mut self, master: Option<(&str, u16)>) {
        self.values[index_of("replicaof")] = Value::ReplicaOf(master.map(|(h, p)| (h.as_bytes().to_vec(), p as i32)));
    }

    /// `latency-tracking-info-percentiles`.
    pub fn latency_tracking_info_percentiles(&self) -> Vec<f64> {
        match &self.values[index_of("latency-tracking-info-percentiles")] {
            Value::Percentiles(v) => v.clone(),
            _ => unreachable!("latency-tracking-info-percentiles holds percentiles"),
        }
    }

    /// Pull a clamped directive back into its range, as Redis's apply step
    /// does after CONFIG SET (and, for `hz`, after loading).
    fn clamp(&mut self, index: usize, after_load: bool) {
        if let (Kind::Num { clamp: Some(c), .. }, Value::Num(n)) = (&DIRECTIVES[index].kind, &mut self.values[index]) {
            if c.after_load || !after_load {
                *n = (*n).clamp(c.min, c.max);
            }
        }
    }

    /// Expand a `proc-title-template` (`{title}`, `{listen-addr}`,
    /// `{server-mode}`, `{config-file}`, `{port}`, `{tls-port}`,
    /// `{unixsocket}`; `{{` is a literal brace) with the current settings, then
    /// trim spaces. `None` for an unknown variable or an unterminated `{`.
    pub fn expand_proc_title(&self, template: &[u8], title: &[u8]) -> Option<Vec<u8>> {
        let port = self.get_i64("port");
        let tls_port = self.get_i64("tls-port");
        let unixsocket = match &self.values[index_of("unixsocket")] {
            Value::Str(Some(s)) => Some(s.clone()),
            _ => None,
        };
        let variable = |name: &[u8]| -> Option<Vec<u8>> {
            Some(match name {
                b"title" => title.to_vec(),
                b"listen-addr" => {
                    if port != 0 || tls_port != 0 {
                        let bind = self.bind_addrs();
                        let addr = bind.first().map_or("*", String::as_str);
                        format!("{addr}:{}", if port != 0 { port } else { tls_port }).into_bytes()
                    } else {
                        // Redis prints a missing socket path with "%s": glibc's "(null)".
                        let mut v = b"unixsocket:".to_vec();
                        v.extend_from_slice(unixsocket.as_deref().unwrap_or(b"(null)"));
                        v
                    }
                }
                b"server-mode" => {
                    if self.get_bool("cluster-enabled") {
                        b"[cluster]".to_vec()
                    } else {
                        Vec::new()
                    }
                }
                b"config-file" => self.config_file().unwrap_or_else(|| "-".to_string()).into_bytes(),
                b"port" => port.to_string().into_bytes(),
                b"tls-port" => tls_port.to_string().into_bytes(),
                b"unixsocket" => unixsocket.clone().unwrap_or_default(),
                _ => return None,
            })
        };
        let template = syntax::c_str(template);
        let mut out = Vec::new();
        let mut rest = template;
        while !rest.is_empty() {
            let Some(open) = rest.iter().position(|&b| b == b'{') else {
                out.extend_from_slice(rest);
                break;
            };
            out.extend_from_slice(&rest[..open]);
            let after = &rest[open + 1..];
            match after.first() {
                None => return None,
                Some(b'{') => {
                    out.push(b'{');
                    rest = &after[1..];
                    continue;
                }
                Some(_) => {}
            }
            let close = after.iter().position(|&b| b == b'}')?;
            out.extend_from_slice(&variable(&after[..close])?);
            rest = &after[close + 1..];
        }
        Some(syntax::trim(&out, b" ").to_vec())
    }
}

impl Default for Config {
    fn default() -> Config {
        Config::defaults()
    }
}
