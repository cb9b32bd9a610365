//! The directive table: one row per Redis 7.0.15 directive, in the order of
//! `static_configs[]` in Redis's config.c, with the same names, aliases, flags,
//! types, bounds and defaults. Everything else in [`super`] (redis.conf parsing,
//! CONFIG GET/SET/REWRITE, the typed getters) is driven by these rows.
//!
//! Directives that only exist in redis.conf (`include`, `rename-command`, `user`,
//! `loadmodule`, `sentinel`, module `name.arg` configs) have no row: they are not
//! visible to CONFIG GET/SET, exactly as in Redis, and live in [`super::load`].

use super::Config;

/// Directive flags, as Redis's `*_CONFIG` bits.
pub mod flags {
    /// No flag: settable at runtime (Redis's MODIFIABLE_CONFIG is 0 too).
    pub const MODIFIABLE: u16 = 0;
    /// Only settable at start-up.
    pub const IMMUTABLE: u16 = 1 << 0;
    /// The value is redacted from SLOWLOG/MONITOR when set.
    pub const SENSITIVE: u16 = 1 << 1;
    /// Listed by DEBUG's config dump.
    pub const DEBUG: u16 = 1 << 2;
    /// Takes several arguments ("save 3600 1 300 100").
    pub const MULTI_ARG: u16 = 1 << 3;
    /// Left out of CONFIG GET patterns; an exact name still finds it.
    pub const HIDDEN: u16 = 1 << 4;
    /// CONFIG SET needs `enable-protected-configs`.
    pub const PROTECTED: u16 = 1 << 5;
    /// CONFIG SET is refused with -LOADING while a dataset loads.
    pub const DENY_LOADING: u16 = 1 << 6;
    /// Setting it counts as a change even to the same value (it names a file
    /// whose contents may have changed).
    pub const VOLATILE: u16 = 1 << 9;
}
use flags::*;

/// The C type Redis stores a number in: it decides whether bounds are compared
/// signed or unsigned, which shows in the error text for negative input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NumType {
    Int,
    UInt,
    ULong,
    LongLong,
    ULongLong,
    SizeT,
    SSizeT,
    OffT,
    TimeT,
}

impl NumType {
    /// Redis checks bounds as unsigned only for these three.
    pub(crate) fn unsigned_bounds(self) -> bool {
        matches!(self, NumType::UInt | NumType::ULongLong | NumType::SizeT)
    }
}

/// How a number is written and read (Redis's INTEGER/MEMORY/PERCENT/OCTAL_CONFIG).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NumFormat {
    /// Plain decimal.
    Integer,
    /// Bytes, with an optional b/k/kb/m/mb/g/gb unit.
    Memory,
    /// Bytes, or a percentage ("10%") stored as a negative number.
    MemoryOrPercent,
    /// Octal digits (`unixsocketperm 700`).
    Octal,
}

/// Directives with their own syntax and storage.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Special {
    Dir,
    Save,
    ClientOutputBufferLimit,
    OomScoreAdjValues,
    NotifyKeyspaceEvents,
    Bind,
    ReplicaOf,
    LatencyTrackingInfoPercentiles,
}

/// A validity check beyond the type's own: `Err` carries Redis's reason text.
pub(crate) type BoolCheck = fn(bool) -> Result<(), &'static str>;
pub(crate) type StrCheck = fn(&[u8], &Config) -> Result<(), &'static str>;
pub(crate) type EnumCheck = fn(i32) -> Result<(), &'static str>;

#[derive(Debug, Clone, Copy)]
pub(crate) enum Kind {
    Bool {
        default: bool,
        check: Option<BoolCheck>,
    },
    Str {
        default: Option<&'static str>,
        /// "" is stored as "no value" (CONFIG GET shows "", REWRITE omits it).
        empty_is_null: bool,
        /// Binary-safe (Redis's sds configs); the others stop at a NUL byte.
        binary: bool,
        check: Option<StrCheck>,
    },
    Enum {
        choices: &'static [(&'static str, i32)],
        default: i32,
        check: Option<EnumCheck>,
    },
    Num {
        ty: NumType,
        format: NumFormat,
        /// Bounds as Redis's `long long` fields hold them: ULLONG_MAX is -1 here
        /// and compared unsigned, see [`NumType::unsigned_bounds`].
        min: i64,
        max: i64,
        default: i64,
        /// Values Redis accepts and then pulls into a range when applying them.
        clamp: Option<Clamp>,
    },
    Special(Special),
}

/// A range Redis forces a value into after accepting it: `hz` (a hint, kept
/// within 1..=500 after CONFIG SET and after loading) and `repl-backlog-size`
/// (at least 16kb, but only when changed by CONFIG SET).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Clamp {
    pub min: i64,
    pub max: i64,
    pub after_load: bool,
}

/// One row of the table.
#[derive(Debug, Clone, Copy)]
pub struct Directive {
    pub name: &'static str,
    pub alias: Option<&'static str>,
    /// Bits from [`flags`].
    pub flags: u16,
    pub(crate) kind: Kind,
}

impl Directive {
    pub fn has(&self, flag: u16) -> bool {
        self.flags & flag != 0
    }

    const fn bool_check(self, check: BoolCheck) -> Directive {
        match self.kind {
            Kind::Bool { default, .. } => Directive { kind: Kind::Bool { default, check: Some(check) }, ..self },
            _ => panic!("bool_check on a non-bool directive"),
        }
    }

    const fn str_check(self, check: StrCheck) -> Directive {
        match self.kind {
            Kind::Str { default, empty_is_null, binary, .. } => {
                Directive { kind: Kind::Str { default, empty_is_null, binary, check: Some(check) }, ..self }
            }
            _ => panic!("str_check on a non-string directive"),
        }
    }

    const fn enum_check(self, check: EnumCheck) -> Directive {
        match self.kind {
            Kind::Enum { choices, default, .. } => {
                Directive { kind: Kind::Enum { choices, default, check: Some(check) }, ..self }
            }
            _ => panic!("enum_check on a non-enum directive"),
        }
    }

    const fn clamped(self, clamp: Clamp) -> Directive {
        match self.kind {
            Kind::Num { ty, format, min, max, default, .. } => {
                Directive { kind: Kind::Num { ty, format, min, max, default, clamp: Some(clamp) }, ..self }
            }
            _ => panic!("clamped on a non-numeric directive"),
        }
    }
}

const EMPTY_ALLOWED: bool = false;
const EMPTY_IS_NULL: bool = true;

const fn boolean(name: &'static str, alias: Option<&'static str>, flags: u16, default: bool) -> Directive {
    Directive { name, alias, flags, kind: Kind::Bool { default, check: None } }
}

const fn string(
    name: &'static str,
    alias: Option<&'static str>,
    flags: u16,
    empty_is_null: bool,
    default: Option<&'static str>,
) -> Directive {
    Directive { name, alias, flags, kind: Kind::Str { default, empty_is_null, binary: false, check: None } }
}

const fn sds(
    name: &'static str,
    alias: Option<&'static str>,
    flags: u16,
    empty_is_null: bool,
    default: Option<&'static str>,
) -> Directive {
    Directive { name, alias, flags, kind: Kind::Str { default, empty_is_null, binary: true, check: None } }
}

const fn enumeration(
    name: &'static str,
    alias: Option<&'static str>,
    flags: u16,
    choices: &'static [(&'static str, i32)],
    default: i32,
) -> Directive {
    Directive { name, alias, flags, kind: Kind::Enum { choices, default, check: None } }
}

#[allow(clippy::too_many_arguments)]
const fn number(
    name: &'static str,
    alias: Option<&'static str>,
    flags: u16,
    ty: NumType,
    min: i64,
    max: i64,
    default: i64,
    format: NumFormat,
) -> Directive {
    Directive { name, alias, flags, kind: Kind::Num { ty, format, min, max, default, clamp: None } }
}

const fn special(name: &'static str, alias: Option<&'static str>, flags: u16, which: Special) -> Directive {
    Directive { name, alias, flags, kind: Kind::Special(which) }
}

// C limits, as `long long`.
const INT_MAX: i64 = i32::MAX as i64;
const INT_MIN: i64 = i32::MIN as i64;
const UINT_MAX: i64 = u32::MAX as i64;
const LONG_MAX: i64 = i64::MAX;
const LLONG_MAX: i64 = i64::MAX;
const SSIZE_MAX: i64 = i64::MAX;
const ULLONG_MAX: i64 = u64::MAX as i64;

const HZ_RANGE: Clamp = Clamp { min: 1, max: 500, after_load: true };
const REPL_BACKLOG_MIN_SIZE: Clamp = Clamp { min: 16 * 1024, max: i64::MAX, after_load: false };
const DEFAULT_PROC_TITLE_TEMPLATE: &str = "{title} {listen-addr} {server-mode}";

// Enumerations, with the values Redis stores: several names may share a value
// (oom-score-adj "yes" = "relative"), and the first name wins when printing.

const MAXMEMORY_NO_EVICTION: i32 = 7 << 8;
pub(crate) static MAXMEMORY_POLICY: &[(&str, i32)] = &[
    ("volatile-lru", 1),
    ("volatile-lfu", (1 << 8) | 2),
    ("volatile-random", 3 << 8),
    ("volatile-ttl", 2 << 8),
    ("allkeys-lru", (4 << 8) | 1 | 4),
    ("allkeys-lfu", (5 << 8) | 2 | 4),
    ("allkeys-random", (6 << 8) | 4),
    ("noeviction", MAXMEMORY_NO_EVICTION),
];

const LOG_LOCAL0: i32 = 16 << 3;
static SYSLOG_FACILITY: &[(&str, i32)] = &[
    ("user", 1 << 3),
    ("local0", LOG_LOCAL0),
    ("local1", 17 << 3),
    ("local2", 18 << 3),
    ("local3", 19 << 3),
    ("local4", 20 << 3),
    ("local5", 21 << 3),
    ("local6", 22 << 3),
    ("local7", 23 << 3),
];

const LL_NOTICE: i32 = 2;
static LOGLEVEL: &[(&str, i32)] = &[("debug", 0), ("verbose", 1), ("notice", LL_NOTICE), ("warning", 3)];

const SUPERVISED_NONE: i32 = 0;
static SUPERVISED_MODE: &[(&str, i32)] = &[("upstart", 3), ("systemd", 2), ("auto", 1), ("no", SUPERVISED_NONE)];

const AOF_FSYNC_EVERYSEC: i32 = 2;
static AOF_FSYNC: &[(&str, i32)] = &[("everysec", AOF_FSYNC_EVERYSEC), ("always", 1), ("no", 0)];

/// SHUTDOWN flag bits, as in Redis (SAVE, NOSAVE, NOW, FORCE).
pub mod shutdown {
    pub const SAVE: i32 = 1;
    pub const NOSAVE: i32 = 2;
    pub const NOW: i32 = 4;
    pub const FORCE: i32 = 8;
}
static SHUTDOWN_ON_SIG: &[(&str, i32)] = &[
    ("default", 0),
    ("save", shutdown::SAVE),
    ("nosave", shutdown::NOSAVE),
    ("now", shutdown::NOW),
    ("force", shutdown::FORCE),
];

const REPL_DISKLESS_LOAD_DISABLED: i32 = 0;
static REPL_DISKLESS_LOAD: &[(&str, i32)] =
    &[("disabled", REPL_DISKLESS_LOAD_DISABLED), ("on-empty-db", 1), ("swapdb", 2)];

const TLS_CLIENT_AUTH_YES: i32 = 1;
static TLS_AUTH_CLIENTS: &[(&str, i32)] = &[("no", 0), ("yes", TLS_CLIENT_AUTH_YES), ("optional", 2)];

const OOM_SCORE_ADJ_NO: i32 = 0;
static OOM_SCORE_ADJ: &[(&str, i32)] = &[("no", OOM_SCORE_ADJ_NO), ("yes", 1), ("relative", 1), ("absolute", 2)];

static ACL_PUBSUB_DEFAULT: &[(&str, i32)] = &[("allchannels", 1 << 3), ("resetchannels", 0)];

const SANITIZE_DUMP_NO: i32 = 0;
static SANITIZE_DUMP_PAYLOAD: &[(&str, i32)] = &[("no", SANITIZE_DUMP_NO), ("yes", 1), ("clients", 2)];

/// Values of enable-protected-configs / enable-debug-command / enable-module-command.
pub mod protected_action {
    pub const NO: i32 = 0;
    pub const YES: i32 = 1;
    pub const LOCAL: i32 = 2;
}
const PROTECTED_ACTION_ALLOWED_NO: i32 = protected_action::NO;
static PROTECTED_ACTION: &[(&str, i32)] =
    &[("no", protected_action::NO), ("yes", protected_action::YES), ("local", protected_action::LOCAL)];

const CLUSTER_ENDPOINT_TYPE_IP: i32 = 0;
static CLUSTER_PREFERRED_ENDPOINT_TYPE: &[(&str, i32)] =
    &[("ip", CLUSTER_ENDPOINT_TYPE_IP), ("hostname", 1), ("unknown-endpoint", 2)];

const PROPAGATION_ERR_BEHAVIOR_IGNORE: i32 = 0;
static PROPAGATION_ERROR_BEHAVIOR: &[(&str, i32)] =
    &[("ignore", PROPAGATION_ERR_BEHAVIOR_IGNORE), ("panic", 1), ("panic-on-replicas", 2)];

// Validity checks, with Redis's reasons.

/// Corvid has no active defragmenter, so it answers like a Redis built without
/// Jemalloc's defrag hint (Debian's package, for one).
fn active_defrag_supported(on: bool) -> Result<(), &'static str> {
    if on {
        return Err("Active defragmentation cannot be enabled: it requires a Redis server compiled with a modified Jemalloc like the one shipped by default with the Redis source distribution");
    }
    Ok(())
}

fn is_basename(v: &[u8]) -> bool {
    !v.contains(&b'/') && !v.contains(&b'\\')
}

fn dbfilename_is_basename(v: &[u8], _: &Config) -> Result<(), &'static str> {
    if !is_basename(v) {
        return Err("dbfilename can't be a path, just a filename");
    }
    Ok(())
}

fn appendfilename_is_basename(v: &[u8], _: &Config) -> Result<(), &'static str> {
    if v.is_empty() {
        return Err("appendfilename can't be empty");
    }
    if !is_basename(v) {
        return Err("appendfilename can't be a path, just a filename");
    }
    Ok(())
}

fn appenddirname_is_basename(v: &[u8], _: &Config) -> Result<(), &'static str> {
    if v.is_empty() {
        return Err("appenddirname can't be empty");
    }
    if !is_basename(v) {
        return Err("appenddirname can't be a path, just a dirname");
    }
    Ok(())
}

fn hostname_is_valid(v: &[u8], _: &Config) -> Result<(), &'static str> {
    if v.len() >= 256 {
        return Err("Hostnames must be less than 256 characters");
    }
    if !v.iter().all(|&c| c.is_ascii_alphanumeric() || c == b'-' || c == b'.') {
        return Err("Hostnames may only contain alphanumeric characters, hyphens or dots");
    }
    Ok(())
}

/// The template must expand (known `{variables}`, balanced braces) to something
/// non-blank, with the variables taken from the current configuration.
fn proc_title_template_is_valid(v: &[u8], config: &Config) -> Result<(), &'static str> {
    match config.expand_proc_title(v, b"") {
        Some(title) if !title.is_empty() => Ok(()),
        _ => Err("template format is invalid or contains unknown variables"),
    }
}

fn shutdown_flags_are_compatible(flags: i32) -> Result<(), &'static str> {
    if flags & shutdown::SAVE != 0 && flags & shutdown::NOSAVE != 0 {
        return Err("shutdown options SAVE and NOSAVE can't be used simultaneously");
    }
    Ok(())
}

use NumFormat::*;
use NumType::*;

/// Every directive, in Redis's order (which is also CONFIG GET's and REWRITE's).
pub static DIRECTIVES: &[Directive] = &[
    // Booleans: "yes" / "no".
    boolean("rdbchecksum", None, IMMUTABLE, true),
    boolean("daemonize", None, IMMUTABLE, false),
    boolean("io-threads-do-reads", None, DEBUG | IMMUTABLE, false),
    boolean("always-show-logo", None, IMMUTABLE, false),
    boolean("protected-mode", None, MODIFIABLE, true),
    boolean("rdbcompression", None, MODIFIABLE, true),
    boolean("rdb-del-sync-files", None, MODIFIABLE, false),
    boolean("activerehashing", None, MODIFIABLE, true),
    boolean("stop-writes-on-bgsave-error", None, MODIFIABLE, true),
    boolean("set-proc-title", None, IMMUTABLE, true),
    boolean("dynamic-hz", None, MODIFIABLE, true),
    boolean("lazyfree-lazy-eviction", None, DEBUG, false),
    boolean("lazyfree-lazy-expire", None, DEBUG, false),
    boolean("lazyfree-lazy-server-del", None, DEBUG, false),
    boolean("lazyfree-lazy-user-del", None, DEBUG, false),
    boolean("lazyfree-lazy-user-flush", None, DEBUG, false),
    boolean("repl-disable-tcp-nodelay", None, MODIFIABLE, false),
    boolean("repl-diskless-sync", None, DEBUG, true),
    boolean("aof-rewrite-incremental-fsync", None, MODIFIABLE, true),
    boolean("no-appendfsync-on-rewrite", None, MODIFIABLE, false),
    boolean("cluster-require-full-coverage", None, MODIFIABLE, true),
    boolean("rdb-save-incremental-fsync", None, MODIFIABLE, true),
    boolean("aof-load-truncated", None, MODIFIABLE, true),
    boolean("aof-use-rdb-preamble", None, MODIFIABLE, true),
    boolean("aof-timestamp-enabled", None, MODIFIABLE, false),
    boolean("cluster-replica-no-failover", Some("cluster-slave-no-failover"), MODIFIABLE, false),
    boolean("replica-lazy-flush", Some("slave-lazy-flush"), MODIFIABLE, false),
    boolean("replica-serve-stale-data", Some("slave-serve-stale-data"), MODIFIABLE, true),
    boolean("replica-read-only", Some("slave-read-only"), DEBUG, true),
    boolean("replica-ignore-maxmemory", Some("slave-ignore-maxmemory"), MODIFIABLE, true),
    boolean("jemalloc-bg-thread", None, MODIFIABLE, true),
    boolean("activedefrag", None, DEBUG, false).bool_check(active_defrag_supported),
    boolean("syslog-enabled", None, IMMUTABLE, false),
    boolean("cluster-enabled", None, IMMUTABLE, false),
    boolean("appendonly", None, DENY_LOADING, false),
    boolean("cluster-allow-reads-when-down", None, MODIFIABLE, false),
    boolean("cluster-allow-pubsubshard-when-down", None, MODIFIABLE, true),
    boolean("crash-log-enabled", None, MODIFIABLE, true),
    boolean("crash-memcheck-enabled", None, MODIFIABLE, true),
    boolean("use-exit-on-panic", None, HIDDEN, false),
    boolean("disable-thp", None, IMMUTABLE, true),
    boolean("cluster-allow-replica-migration", None, MODIFIABLE, true),
    boolean("replica-announced", None, MODIFIABLE, true),
    boolean("latency-tracking", None, MODIFIABLE, true),
    boolean("aof-disable-auto-gc", None, MODIFIABLE, false),
    boolean("replica-ignore-disk-write-errors", None, MODIFIABLE, false),
    // C strings: an embedded NUL ends the value. EMPTY_IS_NULL ones read back as "".
    string("aclfile", None, IMMUTABLE, EMPTY_ALLOWED, Some("")),
    string("unixsocket", None, IMMUTABLE, EMPTY_IS_NULL, None),
    string("pidfile", None, IMMUTABLE, EMPTY_IS_NULL, None),
    string("replica-announce-ip", Some("slave-announce-ip"), MODIFIABLE, EMPTY_IS_NULL, None),
    string("masteruser", None, SENSITIVE, EMPTY_IS_NULL, None),
    string("cluster-announce-ip", None, MODIFIABLE, EMPTY_IS_NULL, None),
    string("cluster-config-file", None, IMMUTABLE, EMPTY_ALLOWED, Some("nodes.conf")),
    string("cluster-announce-hostname", None, MODIFIABLE, EMPTY_IS_NULL, None).str_check(hostname_is_valid),
    string("syslog-ident", None, IMMUTABLE, EMPTY_ALLOWED, Some("redis")),
    string("dbfilename", None, PROTECTED, EMPTY_ALLOWED, Some("dump.rdb")).str_check(dbfilename_is_basename),
    string("appendfilename", None, IMMUTABLE, EMPTY_ALLOWED, Some("appendonly.aof"))
        .str_check(appendfilename_is_basename),
    string("appenddirname", None, IMMUTABLE, EMPTY_ALLOWED, Some("appendonlydir")).str_check(appenddirname_is_basename),
    string("server_cpulist", None, IMMUTABLE, EMPTY_IS_NULL, None),
    string("bio_cpulist", None, IMMUTABLE, EMPTY_IS_NULL, None),
    string("aof_rewrite_cpulist", None, IMMUTABLE, EMPTY_IS_NULL, None),
    string("bgsave_cpulist", None, IMMUTABLE, EMPTY_IS_NULL, None),
    string("ignore-warnings", None, MODIFIABLE, EMPTY_ALLOWED, Some("")),
    string("proc-title-template", None, MODIFIABLE, EMPTY_ALLOWED, Some(DEFAULT_PROC_TITLE_TEMPLATE))
        .str_check(proc_title_template_is_valid),
    string("bind-source-addr", None, MODIFIABLE, EMPTY_IS_NULL, None),
    string("logfile", None, IMMUTABLE, EMPTY_ALLOWED, Some("")),
    // Binary-safe strings.
    sds("masterauth", None, SENSITIVE, EMPTY_IS_NULL, None),
    sds("requirepass", None, SENSITIVE, EMPTY_IS_NULL, None),
    // Enumerations; MULTI_ARG ones are flag sets ("nosave now").
    enumeration("supervised", None, IMMUTABLE, SUPERVISED_MODE, SUPERVISED_NONE),
    enumeration("syslog-facility", None, IMMUTABLE, SYSLOG_FACILITY, LOG_LOCAL0),
    enumeration("repl-diskless-load", None, DEBUG | DENY_LOADING, REPL_DISKLESS_LOAD, REPL_DISKLESS_LOAD_DISABLED),
    enumeration("loglevel", None, MODIFIABLE, LOGLEVEL, LL_NOTICE),
    enumeration("maxmemory-policy", None, MODIFIABLE, MAXMEMORY_POLICY, MAXMEMORY_NO_EVICTION),
    enumeration("appendfsync", None, MODIFIABLE, AOF_FSYNC, AOF_FSYNC_EVERYSEC),
    enumeration("oom-score-adj", None, MODIFIABLE, OOM_SCORE_ADJ, OOM_SCORE_ADJ_NO),
    enumeration("acl-pubsub-default", None, MODIFIABLE, ACL_PUBSUB_DEFAULT, 0),
    enumeration("sanitize-dump-payload", None, DEBUG, SANITIZE_DUMP_PAYLOAD, SANITIZE_DUMP_NO),
    enumeration("enable-protected-configs", None, IMMUTABLE, PROTECTED_ACTION, PROTECTED_ACTION_ALLOWED_NO),
    enumeration("enable-debug-command", None, IMMUTABLE, PROTECTED_ACTION, PROTECTED_ACTION_ALLOWED_NO),
    enumeration("enable-module-command", None, IMMUTABLE, PROTECTED_ACTION, PROTECTED_ACTION_ALLOWED_NO),
    enumeration(
        "cluster-preferred-endpoint-type",
        None,
        MODIFIABLE,
        CLUSTER_PREFERRED_ENDPOINT_TYPE,
        CLUSTER_ENDPOINT_TYPE_IP,
    ),
    enumeration(
        "propagation-error-behavior",
        None,
        MODIFIABLE,
        PROPAGATION_ERROR_BEHAVIOR,
        PROPAGATION_ERR_BEHAVIOR_IGNORE,
    ),
    enumeration("shutdown-on-sigint", None, MULTI_ARG, SHUTDOWN_ON_SIG, 0).enum_check(shutdown_flags_are_compatible),
    enumeration("shutdown-on-sigterm", None, MULTI_ARG, SHUTDOWN_ON_SIG, 0).enum_check(shutdown_flags_are_compatible),
    // C int.
    number("databases", None, IMMUTABLE, Int, 1, INT_MAX, 16, Integer),
    number("port", None, MODIFIABLE, Int, 0, 65535, 6379, Integer),
    number("io-threads", None, DEBUG | IMMUTABLE, Int, 1, 128, 1, Integer),
    number("auto-aof-rewrite-percentage", None, MODIFIABLE, Int, 0, INT_MAX, 100, Integer),
    number(
        "cluster-replica-validity-factor",
        Some("cluster-slave-validity-factor"),
        MODIFIABLE,
        Int,
        0,
        INT_MAX,
        10,
        Integer,
    ),
    number("list-max-listpack-size", Some("list-max-ziplist-size"), MODIFIABLE, Int, INT_MIN, INT_MAX, -2, Integer),
    number("tcp-keepalive", None, MODIFIABLE, Int, 0, INT_MAX, 300, Integer),
    number("cluster-migration-barrier", None, MODIFIABLE, Int, 0, INT_MAX, 1, Integer),
    number("active-defrag-cycle-min", None, MODIFIABLE, Int, 1, 99, 1, Integer),
    number("active-defrag-cycle-max", None, MODIFIABLE, Int, 1, 99, 25, Integer),
    number("active-defrag-threshold-lower", None, MODIFIABLE, Int, 0, 1000, 10, Integer),
    number("active-defrag-threshold-upper", None, MODIFIABLE, Int, 0, 1000, 100, Integer),
    number("lfu-log-factor", None, MODIFIABLE, Int, 0, INT_MAX, 10, Integer),
    number("lfu-decay-time", None, MODIFIABLE, Int, 0, INT_MAX, 1, Integer),
    number("replica-priority", Some("slave-priority"), MODIFIABLE, Int, 0, INT_MAX, 100, Integer),
    number("repl-diskless-sync-delay", None, MODIFIABLE, Int, 0, INT_MAX, 5, Integer),
    number("maxmemory-samples", None, MODIFIABLE, Int, 1, INT_MAX, 5, Integer),
    number("maxmemory-eviction-tenacity", None, MODIFIABLE, Int, 0, 100, 10, Integer),
    number("timeout", None, MODIFIABLE, Int, 0, INT_MAX, 0, Integer),
    number("replica-announce-port", Some("slave-announce-port"), MODIFIABLE, Int, 0, 65535, 0, Integer),
    number("tcp-backlog", None, IMMUTABLE, Int, 0, INT_MAX, 511, Integer),
    number("cluster-port", None, IMMUTABLE, Int, 0, 65535, 0, Integer),
    number("cluster-announce-bus-port", None, MODIFIABLE, Int, 0, 65535, 0, Integer),
    number("cluster-announce-port", None, MODIFIABLE, Int, 0, 65535, 0, Integer),
    number("cluster-announce-tls-port", None, MODIFIABLE, Int, 0, 65535, 0, Integer),
    number("repl-timeout", None, MODIFIABLE, Int, 1, INT_MAX, 60, Integer),
    number("repl-ping-replica-period", Some("repl-ping-slave-period"), MODIFIABLE, Int, 1, INT_MAX, 10, Integer),
    number("list-compress-depth", None, DEBUG, Int, 0, INT_MAX, 0, Integer),
    number("rdb-key-save-delay", None, HIDDEN, Int, INT_MIN, INT_MAX, 0, Integer),
    number("key-load-delay", None, HIDDEN, Int, INT_MIN, INT_MAX, 0, Integer),
    number("active-expire-effort", None, MODIFIABLE, Int, 1, 10, 1, Integer),
    number("hz", None, MODIFIABLE, Int, 0, INT_MAX, 10, Integer).clamped(HZ_RANGE),
    number("min-replicas-to-write", Some("min-slaves-to-write"), MODIFIABLE, Int, 0, INT_MAX, 0, Integer),
    number("min-replicas-max-lag", Some("min-slaves-max-lag"), MODIFIABLE, Int, 0, INT_MAX, 10, Integer),
    number("watchdog-period", None, HIDDEN, Int, 0, INT_MAX, 0, Integer),
    number("shutdown-timeout", None, MODIFIABLE, Int, 0, INT_MAX, 10, Integer),
    number("repl-diskless-sync-max-replicas", None, MODIFIABLE, Int, 0, INT_MAX, 0, Integer),
    // C unsigned int.
    number("maxclients", None, MODIFIABLE, UInt, 1, UINT_MAX, 10000, Integer),
    number("unixsocketperm", None, IMMUTABLE, UInt, 0, 0o777, 0, Octal),
    number("socket-mark-id", None, IMMUTABLE, UInt, 0, UINT_MAX, 0, Integer),
    // C unsigned long.
    number("active-defrag-max-scan-fields", None, MODIFIABLE, ULong, 1, LONG_MAX, 1000, Integer),
    number("slowlog-max-len", None, MODIFIABLE, ULong, 0, LONG_MAX, 128, Integer),
    number("acllog-max-len", None, MODIFIABLE, ULong, 0, LONG_MAX, 128, Integer),
    // C long long.
    number("busy-reply-threshold", Some("lua-time-limit"), MODIFIABLE, LongLong, 0, LONG_MAX, 5000, Integer),
    number("cluster-node-timeout", None, MODIFIABLE, LongLong, 0, LLONG_MAX, 15000, Integer),
    number("slowlog-log-slower-than", None, MODIFIABLE, LongLong, -1, LLONG_MAX, 10000, Integer),
    number("latency-monitor-threshold", None, MODIFIABLE, LongLong, 0, LLONG_MAX, 0, Integer),
    number("proto-max-bulk-len", None, DEBUG, LongLong, 1024 * 1024, LONG_MAX, 512 * 1024 * 1024, Memory),
    number("stream-node-max-entries", None, MODIFIABLE, LongLong, 0, LLONG_MAX, 100, Integer),
    number("repl-backlog-size", None, MODIFIABLE, LongLong, 1, LLONG_MAX, 1024 * 1024, Memory)
        .clamped(REPL_BACKLOG_MIN_SIZE),
    // C unsigned long long.
    number("maxmemory", None, MODIFIABLE, ULongLong, 0, ULLONG_MAX, 0, Memory),
    number("cluster-link-sendbuf-limit", None, MODIFIABLE, ULongLong, 0, ULLONG_MAX, 0, Memory),
    // C size_t / ssize_t.
    number("hash-max-listpack-entries", Some("hash-max-ziplist-entries"), MODIFIABLE, SizeT, 0, LONG_MAX, 512, Integer),
    number("set-max-intset-entries", None, MODIFIABLE, SizeT, 0, LONG_MAX, 512, Integer),
    number("zset-max-listpack-entries", Some("zset-max-ziplist-entries"), MODIFIABLE, SizeT, 0, LONG_MAX, 128, Integer),
    number("active-defrag-ignore-bytes", None, MODIFIABLE, SizeT, 1, LLONG_MAX, 100 << 20, Memory),
    number("hash-max-listpack-value", Some("hash-max-ziplist-value"), MODIFIABLE, SizeT, 0, LONG_MAX, 64, Memory),
    number("stream-node-max-bytes", None, MODIFIABLE, SizeT, 0, LONG_MAX, 4096, Memory),
    number("zset-max-listpack-value", Some("zset-max-ziplist-value"), MODIFIABLE, SizeT, 0, LONG_MAX, 64, Memory),
    number("hll-sparse-max-bytes", None, MODIFIABLE, SizeT, 0, LONG_MAX, 3000, Memory),
    number("tracking-table-max-keys", None, MODIFIABLE, SizeT, 0, LONG_MAX, 1000000, Integer),
    number("client-query-buffer-limit", None, DEBUG, SizeT, 1024 * 1024, LONG_MAX, 1024 * 1024 * 1024, Memory),
    number("maxmemory-clients", None, MODIFIABLE, SSizeT, -100, SSIZE_MAX, 0, MemoryOrPercent),
    // C time_t / off_t.
    number("repl-backlog-ttl", None, MODIFIABLE, TimeT, 0, LONG_MAX, 60 * 60, Integer),
    number("auto-aof-rewrite-min-size", None, MODIFIABLE, OffT, 0, LLONG_MAX, 64 * 1024 * 1024, Memory),
    number("loading-process-events-interval-bytes", None, HIDDEN, OffT, 1024, INT_MAX, 1024 * 1024 * 2, Integer),
    // TLS (Redis built with BUILD_TLS=yes, as Debian ships it).
    number("tls-port", None, MODIFIABLE, Int, 0, 65535, 0, Integer),
    number("tls-session-cache-size", None, MODIFIABLE, Int, 0, INT_MAX, 20 * 1024, Integer),
    number("tls-session-cache-timeout", None, MODIFIABLE, Int, 0, INT_MAX, 300, Integer),
    boolean("tls-cluster", None, MODIFIABLE, false),
    boolean("tls-replication", None, MODIFIABLE, false),
    enumeration("tls-auth-clients", None, MODIFIABLE, TLS_AUTH_CLIENTS, TLS_CLIENT_AUTH_YES),
    boolean("tls-prefer-server-ciphers", None, MODIFIABLE, false),
    boolean("tls-session-caching", None, MODIFIABLE, true),
    string("tls-cert-file", None, VOLATILE, EMPTY_IS_NULL, None),
    string("tls-key-file", None, VOLATILE, EMPTY_IS_NULL, None),
    string("tls-key-file-pass", None, MODIFIABLE, EMPTY_IS_NULL, None),
    string("tls-client-cert-file", None, VOLATILE, EMPTY_IS_NULL, None),
    string("tls-client-key-file", None, VOLATILE, EMPTY_IS_NULL, None),
    string("tls-client-key-file-pass", None, MODIFIABLE, EMPTY_IS_NULL, None),
    string("tls-dh-params-file", None, VOLATILE, EMPTY_IS_NULL, None),
    string("tls-ca-cert-file", None, VOLATILE, EMPTY_IS_NULL, None),
    string("tls-ca-cert-dir", None, VOLATILE, EMPTY_IS_NULL, None),
    string("tls-protocols", None, MODIFIABLE, EMPTY_IS_NULL, None),
    string("tls-ciphers", None, MODIFIABLE, EMPTY_IS_NULL, None),
    string("tls-ciphersuites", None, MODIFIABLE, EMPTY_IS_NULL, None),
    // Directives with their own syntax.
    special("dir", None, PROTECTED | DENY_LOADING, Special::Dir),
    special("save", None, MULTI_ARG, Special::Save),
    special("client-output-buffer-limit", None, MULTI_ARG, Special::ClientOutputBufferLimit),
    special("oom-score-adj-values", None, MULTI_ARG, Special::OomScoreAdjValues),
    special("notify-keyspace-events", None, MODIFIABLE, Special::NotifyKeyspaceEvents),
    special("bind", None, MULTI_ARG, Special::Bind),
    special("replicaof", Some("slaveof"), IMMUTABLE | MULTI_ARG, Special::ReplicaOf),
    special("latency-tracking-info-percentiles", None, MULTI_ARG, Special::LatencyTrackingInfoPercentiles),
];
