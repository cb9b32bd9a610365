//! The Redis 7.0 command table as data: one [`CommandSpec`] per command and
//! subcommand, generated from Redis's `src/commands/*.json` (see
//! `proto/gen/command_table.py`), with everything Redis derives at startup
//! already applied: the implicit ACL categories (`setImplicitACLCategories`),
//! the legacy `(first, last, step)` key range and the `movablekeys` flag
//! (`populateCommandLegacyRangeSpec`), the `group` of subcommands taken from
//! their container.
//!
//! The table holds every command, Sentinel-only ones included
//! ([`CommandSpec::available`] tells which exist in which mode); top-level
//! commands are sorted by name, and so are each container's subcommands,
//! which is how [`lookup`] finds them without hashing or allocating.
//!
//! # Layout
//! - this file: the row types ([`CommandSpec`], [`KeySpec`], [`Docs`],
//!   [`Arg`]), the flag sets, and lookup.
//! - `generated`: the rows themselves (checked in; regenerate with
//!   `python3 proto/gen/command_table.py <redis>/src/commands`).
//! - `keys`: key positions from an argument vector, as Redis's
//!   `getKeysFromCommandWithSpecs` ([`keys`], [`extract_keys`]).
//! - `reply`: the `COMMAND INFO` and `COMMAND DOCS` entries, byte for byte
//!   as Redis 7.0.15 writes them ([`write_info`], [`write_docs`]).

#[rustfmt::skip]
mod generated;
mod keys;
mod reply;

pub use keys::{extract_keys, keys, KeyRef, KeysError};
pub use reply::{write_docs, write_docs_of, write_info, write_info_of};

use std::cmp::Ordering;
use std::fmt;

/// Defines a set of bit flags with Redis's bit values, and the names Redis
/// prints for them (`None` for flags Redis hides from replies).
macro_rules! flag_set {
    (
        $(#[$meta:meta])*
        $name:ident($int:ty) {
            $( $(#[$fmeta:meta])* $flag:ident = $bit:expr => $text:expr, )*
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
        pub struct $name($int);

        impl $name {
            $( $(#[$fmeta])* pub const $flag: $name = $name(1 << $bit); )*

            /// Every flag with its reply name, in Redis's reply order.
            const NAMED: &'static [($name, Option<&'static str>)] = &[$( ($name::$flag, $text), )*];

            pub const fn empty() -> Self {
                $name(0)
            }

            pub const fn bits(self) -> $int {
                self.0
            }

            pub const fn is_empty(self) -> bool {
                self.0 == 0
            }

            /// Whether every flag of `other` is set in `self`.
            pub const fn contains(self, other: Self) -> bool {
                self.0 & other.0 == other.0
            }

            /// Whether any flag of `other` is set in `self`.
            pub const fn intersects(self, other: Self) -> bool {
                self.0 & other.0 != 0
            }

            pub const fn union(self, other: Self) -> Self {
                $name(self.0 | other.0)
            }

            /// `self` without the flags of `other`.
            pub const fn difference(self, other: Self) -> Self {
                $name(self.0 & !other.0)
            }

            /// The reply names of the flags set, in Redis's reply order
            /// (hidden flags left out).
            pub fn names(self) -> impl Iterator<Item = &'static str> + Clone {
                Self::NAMED
                    .iter()
                    .filter(move |(f, _)| self.contains(*f))
                    .filter_map(|(_, name)| *name)
            }

            /// The flag whose reply name is `name`, ignoring case.
            pub fn from_name(name: &[u8]) -> Option<Self> {
                Self::NAMED
                    .iter()
                    .find(|(_, n)| n.is_some_and(|n| n.as_bytes().eq_ignore_ascii_case(name)))
                    .map(|(f, _)| *f)
            }
        }

        impl std::ops::BitOr for $name {
            type Output = Self;
            fn bitor(self, rhs: Self) -> Self {
                self.union(rhs)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}(", stringify!($name))?;
                let mut first = true;
                for (flag, name) in Self::NAMED {
                    if self.contains(*flag) {
                        let sep = if first { "" } else { "|" };
                        write!(f, "{sep}{}", name.unwrap_or("<hidden>"))?;
                        first = false;
                    }
                }
                write!(f, ")")
            }
        }
    };
}

flag_set! {
    /// Command flags (`CMD_*` in server.h). COMMAND INFO prints them in this
    /// order and hides the ones without a name, as Redis's
    /// `addReplyFlagsForCommand` does.
    CmdFlags(u64) {
        WRITE = 0 => Some("write"),
        READONLY = 1 => Some("readonly"),
        DENYOOM = 2 => Some("denyoom"),
        MODULE = 3 => Some("module"),
        ADMIN = 4 => Some("admin"),
        PUBSUB = 5 => Some("pubsub"),
        NOSCRIPT = 6 => Some("noscript"),
        BLOCKING = 8 => Some("blocking"),
        LOADING = 9 => Some("loading"),
        STALE = 10 => Some("stale"),
        SKIP_MONITOR = 11 => Some("skip_monitor"),
        SKIP_SLOWLOG = 12 => Some("skip_slowlog"),
        ASKING = 13 => Some("asking"),
        FAST = 14 => Some("fast"),
        NO_AUTH = 15 => Some("no_auth"),
        MAY_REPLICATE = 16 => None,
        SENTINEL = 17 => None,
        ONLY_SENTINEL = 18 => None,
        NO_MANDATORY_KEYS = 19 => Some("no_mandatory_keys"),
        PROTECTED = 20 => None,
        MODULE_GETKEYS = 21 => None,
        MODULE_NO_CLUSTER = 22 => None,
        NO_ASYNC_LOADING = 23 => Some("no_async_loading"),
        NO_MULTI = 24 => Some("no_multi"),
        /// The legacy key range does not cover every key (derived, see the
        /// module docs).
        MOVABLE_KEYS = 25 => Some("movablekeys"),
        ALLOW_BUSY = 26 => Some("allow_busy"),
        MODULE_GETCHANNELS = 27 => None,
        TOUCHES_ARBITRARY_KEYS = 28 => None,
    }
}

flag_set! {
    /// ACL categories (`ACL_CATEGORY_*`); names and order as acl.c's
    /// `ACLCommandCategories`, without the leading '@'.
    AclCategories(u64) {
        KEYSPACE = 0 => Some("keyspace"),
        READ = 1 => Some("read"),
        WRITE = 2 => Some("write"),
        SET = 3 => Some("set"),
        SORTEDSET = 4 => Some("sortedset"),
        LIST = 5 => Some("list"),
        HASH = 6 => Some("hash"),
        STRING = 7 => Some("string"),
        BITMAP = 8 => Some("bitmap"),
        HYPERLOGLOG = 9 => Some("hyperloglog"),
        GEO = 10 => Some("geo"),
        STREAM = 11 => Some("stream"),
        PUBSUB = 12 => Some("pubsub"),
        ADMIN = 13 => Some("admin"),
        FAST = 14 => Some("fast"),
        SLOW = 15 => Some("slow"),
        BLOCKING = 16 => Some("blocking"),
        DANGEROUS = 17 => Some("dangerous"),
        CONNECTION = 18 => Some("connection"),
        TRANSACTION = 19 => Some("transaction"),
        SCRIPTING = 20 => Some("scripting"),
    }
}

impl AclCategories {
    /// Every category name, in Redis's order (`ACL CAT`).
    pub fn all_names() -> impl Iterator<Item = &'static str> + Clone {
        Self::NAMED.iter().filter_map(|(_, name)| *name)
    }
}

flag_set! {
    /// Key-spec flags (`CMD_KEY_*`), named as `COMMAND INFO` and
    /// `COMMAND GETKEYSANDFLAGS` print them.
    KeySpecFlags(u64) {
        RO = 0 => Some("RO"),
        RW = 1 => Some("RW"),
        OW = 2 => Some("OW"),
        RM = 3 => Some("RM"),
        ACCESS = 4 => Some("access"),
        UPDATE = 5 => Some("update"),
        INSERT = 6 => Some("insert"),
        DELETE = 7 => Some("delete"),
        NOT_KEY = 8 => Some("not_key"),
        INCOMPLETE = 9 => Some("incomplete"),
        VARIABLE_FLAGS = 10 => Some("variable_flags"),
    }
}

flag_set! {
    /// Documentation flags (`CMD_DOC_*`).
    DocFlags(u8) {
        DEPRECATED = 0 => Some("deprecated"),
        SYSCMD = 1 => Some("syscmd"),
    }
}

flag_set! {
    /// Argument flags (`CMD_ARG_*`).
    ArgFlags(u8) {
        OPTIONAL = 0 => Some("optional"),
        MULTIPLE = 1 => Some("multiple"),
        MULTIPLE_TOKEN = 2 => Some("multiple_token"),
    }
}

/// Where a key spec starts looking for keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BeginSearch {
    /// At a fixed argument index.
    Index(i32),
    /// Just after `keyword`, searched from argument `startfrom` (negative:
    /// from the end, backwards).
    Keyword { keyword: &'static str, startfrom: i32 },
    /// Keys can't be found from the spec (the command's getkeys function
    /// knows).
    Unknown,
}

/// How a key spec finds keys once it knows where to start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FindKeys {
    /// Keys up to `lastkey` (relative to the start; negative: from the end
    /// of argv), every `keystep` arguments; `limit` > 1 with `lastkey` -1
    /// means "1/limit of the remaining arguments".
    Range {
        lastkey: i32,
        keystep: i32,
        limit: i32,
    },
    /// The key count is at `keynumidx` (relative to the start), the first key
    /// `firstkey` after the start, then every `keystep` arguments.
    Keynum {
        keynumidx: i32,
        firstkey: i32,
        keystep: i32,
    },
    Unknown,
}

/// One key spec of a command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeySpec {
    pub notes: Option<&'static str>,
    pub flags: KeySpecFlags,
    pub begin_search: BeginSearch,
    pub find_keys: FindKeys,
}

/// The native "getkeys" functions of db.c, for the commands whose key specs
/// can't describe every key (`get_keys_function` in the JSON). Redis falls
/// back to them when the specs fail or carry `VARIABLE_FLAGS`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GetKeys {
    Bitfield,
    Blmpop,
    Bzmpop,
    Eval,
    Function,
    Georadius,
    Lmpop,
    Migrate,
    Set,
    Sintercard,
    Sort,
    SortRo,
    Xread,
    Zmpop,
    ZunionInterDiff,
    ZunionInterDiffStore,
}

/// The type of a documented argument.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArgType {
    String,
    Integer,
    Double,
    Key,
    Pattern,
    UnixTime,
    PureToken,
    Oneof,
    Block,
}

impl ArgType {
    /// The name COMMAND DOCS prints.
    pub const fn as_str(self) -> &'static str {
        match self {
            ArgType::String => "string",
            ArgType::Integer => "integer",
            ArgType::Double => "double",
            ArgType::Key => "key",
            ArgType::Pattern => "pattern",
            ArgType::UnixTime => "unix-time",
            ArgType::PureToken => "pure-token",
            ArgType::Oneof => "oneof",
            ArgType::Block => "block",
        }
    }
}

/// One documented argument (`arguments` in the JSON), with its nested
/// arguments for `oneof` and `block`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Arg {
    /// Lowercase, as Redis prints it.
    pub name: &'static str,
    pub kind: ArgType,
    /// Not in Redis 7.0's JSON nor its COMMAND DOCS (7.2 adds it); kept so
    /// the generator can carry it if present.
    pub display_text: Option<&'static str>,
    /// Index into the command's `key_specs` for key arguments.
    pub key_spec_index: Option<u32>,
    /// Uppercase, as Redis prints it.
    pub token: Option<&'static str>,
    pub summary: Option<&'static str>,
    pub since: Option<&'static str>,
    pub deprecated_since: Option<&'static str>,
    pub flags: ArgFlags,
    /// Not in Redis 7.0's JSON nor its COMMAND DOCS; see `display_text`.
    pub value: Option<&'static str>,
    /// Nested arguments; only `oneof` and `block` have them.
    pub subargs: &'static [Arg],
}

/// The documentation part of a command (what COMMAND DOCS prints).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Docs {
    pub summary: Option<&'static str>,
    pub since: Option<&'static str>,
    /// As COMMAND DOCS prints it ("sorted-set", not the JSON's "sorted_set").
    pub group: &'static str,
    pub complexity: Option<&'static str>,
    pub deprecated_since: Option<&'static str>,
    pub replaced_by: Option<&'static str>,
    pub doc_flags: DocFlags,
    /// `(version, change)` pairs.
    pub history: &'static [(&'static str, &'static str)],
    pub arguments: &'static [Arg],
}

/// One command or subcommand.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CommandSpec {
    /// Lowercase; for a subcommand only its own name ("get").
    pub name: &'static str,
    /// "get", or "config|get" for a subcommand.
    pub full_name: &'static str,
    /// The container's name, for subcommands.
    pub container: Option<&'static str>,
    /// Number of arguments including the command name; negative: at least
    /// that many.
    pub arity: i32,
    /// Including the derived MOVABLE_KEYS.
    pub flags: CmdFlags,
    /// Including the implicit categories.
    pub acl_categories: AclCategories,
    pub key_specs: &'static [KeySpec],
    /// The legacy key range as COMMAND INFO prints it (`last_key` absolute,
    /// or negative from the end); all 0 when there is none.
    pub first_key: i32,
    pub last_key: i32,
    pub key_step: i32,
    /// Command tips, lowercase ("nondeterministic_output", ...).
    pub tips: &'static [&'static str],
    pub getkeys: Option<GetKeys>,
    pub doc: Docs,
    /// Sorted by name.
    pub subcommands: &'static [CommandSpec],
}

impl CommandSpec {
    /// Whether the command exists in a server (`sentinel_mode` false) or in a
    /// Sentinel, by Redis's rule in `populateCommandStructure`.
    pub const fn available(&self, sentinel_mode: bool) -> bool {
        if sentinel_mode {
            self.flags.contains(CmdFlags::SENTINEL)
        } else {
            !self.flags.contains(CmdFlags::ONLY_SENTINEL)
        }
    }

    /// Whether the command can have key arguments (Redis's
    /// `doesCommandHaveKeys`): a getkeys function, or a key spec that is
    /// not `NOT_KEY`.
    pub fn has_keys(&self) -> bool {
        self.getkeys.is_some() || self.key_specs.iter().any(|ks| !ks.flags.contains(KeySpecFlags::NOT_KEY))
    }

    pub fn is_container(&self) -> bool {
        !self.subcommands.is_empty()
    }
}

/// Every top-level command (subcommands hang off their container), sorted
/// by name; Sentinel-only commands included.
pub fn all() -> &'static [CommandSpec] {
    generated::COMMANDS
}

/// The top-level command called `name`, ignoring ASCII case.
pub fn lookup(name: &[u8]) -> Option<&'static CommandSpec> {
    find_sorted(generated::COMMANDS, name)
}

/// The subcommand `sub` of a container, ignoring ASCII case.
pub fn lookup_subcommand(parent: &CommandSpec, sub: &[u8]) -> Option<&'static CommandSpec> {
    find_sorted(parent.subcommands, sub)
}

/// Binary search of a name-sorted table; table names are lowercase, so
/// comparing against the lowercased probe byte by byte keeps the order.
fn find_sorted(table: &'static [CommandSpec], name: &[u8]) -> Option<&'static CommandSpec> {
    table.binary_search_by(|spec| cmp_lowercase(spec.name.as_bytes(), name)).ok().map(|i| &table[i])
}

fn cmp_lowercase(table_name: &[u8], probe: &[u8]) -> Ordering {
    table_name.iter().copied().cmp(probe.iter().map(u8::to_ascii_lowercase))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookup_ignores_case() {
        let get = lookup(b"GeT").expect("get exists");
        assert_eq!(get.full_name, "get");
        assert!(std::ptr::eq(get, lookup(b"get").unwrap()));
        assert!(lookup(b"nosuchcommand").is_none());
        assert!(lookup(b"").is_none());
        assert!(lookup(b"config|get").is_none(), "subcommands are not top-level");
    }

    #[test]
    fn table_is_sorted_and_lowercase() {
        for pair in all().windows(2) {
            assert!(pair[0].name < pair[1].name, "{} before {}", pair[0].name, pair[1].name);
        }
        for spec in all() {
            assert_eq!(spec.name, spec.name.to_ascii_lowercase());
            assert_eq!(spec.full_name, spec.name);
            for pair in spec.subcommands.windows(2) {
                assert!(pair[0].name < pair[1].name);
            }
            for sub in spec.subcommands {
                assert_eq!(sub.container, Some(spec.name));
                assert_eq!(sub.full_name, format!("{}|{}", spec.name, sub.name));
                assert_eq!(sub.doc.group, spec.doc.group);
                assert!(sub.subcommands.is_empty());
            }
        }
        // 240 commands in a Redis 7.0.15 server (COMMAND COUNT) plus
        // SENTINEL, which only a Sentinel has.
        assert_eq!(all().iter().filter(|c| c.available(false)).count(), 240);
        assert_eq!(all().len(), 241);
    }

    #[test]
    fn get_row() {
        let get = lookup(b"get").unwrap();
        assert_eq!(get.arity, 2);
        assert_eq!(get.flags, CmdFlags::READONLY | CmdFlags::FAST);
        let cats = get.acl_categories;
        assert!(cats.contains(AclCategories::READ | AclCategories::STRING | AclCategories::FAST));
        assert!(!cats.contains(AclCategories::SLOW));
        assert_eq!(cats.names().collect::<Vec<_>>(), ["read", "string", "fast"]);
        assert_eq!((get.first_key, get.last_key, get.key_step), (1, 1, 1));
        assert_eq!(get.doc.group, "string");
        assert!(get.container.is_none() && !get.is_container());
    }

    #[test]
    fn subcommands() {
        let config = lookup(b"CONFIG").unwrap();
        assert!(config.is_container());
        let get = lookup_subcommand(config, b"GET").unwrap();
        assert_eq!(get.name, "get");
        assert_eq!(get.full_name, "config|get");
        assert_eq!(get.container, Some("config"));
        assert_eq!(get.arity, -3);
        assert!(get.flags.contains(CmdFlags::ADMIN | CmdFlags::NOSCRIPT));
        assert!(get.acl_categories.contains(AclCategories::ADMIN | AclCategories::DANGEROUS | AclCategories::SLOW));
        assert!(lookup_subcommand(config, b"nope").is_none());
        assert!(lookup_subcommand(lookup(b"get").unwrap(), b"x").is_none());
    }

    #[test]
    fn implicit_categories() {
        // Scripting commands flagged readonly don't get @read.
        let eval_ro = lookup(b"eval_ro").unwrap();
        assert!(eval_ro.flags.contains(CmdFlags::READONLY));
        assert!(!eval_ro.acl_categories.contains(AclCategories::READ));
        let blpop = lookup(b"blpop").unwrap();
        assert!(blpop.acl_categories.contains(AclCategories::BLOCKING | AclCategories::WRITE | AclCategories::SLOW));
        let publish = lookup(b"publish").unwrap();
        assert!(publish.acl_categories.contains(AclCategories::PUBSUB | AclCategories::FAST));
    }

    #[test]
    fn legacy_ranges_and_movable_keys() {
        let range = |n: &[u8]| {
            let c = lookup(n).unwrap();
            (c.first_key, c.last_key, c.key_step, c.flags.contains(CmdFlags::MOVABLE_KEYS))
        };
        assert_eq!(range(b"mset"), (1, -1, 2, false));
        assert_eq!(range(b"del"), (1, -1, 1, false));
        // Two glued specs (source RW+DELETE, destination RW+INSERT).
        assert_eq!(range(b"smove"), (1, 2, 1, false));
        assert_eq!(range(b"zunionstore"), (1, 1, 1, true));
        assert_eq!(range(b"eval"), (0, 0, 0, true));
        assert_eq!(range(b"sort"), (1, 1, 1, true));
        assert_eq!(range(b"ping"), (0, 0, 0, false));
        // A getkeys function alone doesn't make keys movable in 7.0:
        // SET's single range spec covers its key.
        assert_eq!(range(b"set"), (1, 1, 1, false));
    }

    #[test]
    fn flag_names() {
        let f = CmdFlags::WRITE | CmdFlags::MAY_REPLICATE | CmdFlags::MOVABLE_KEYS;
        assert_eq!(f.names().collect::<Vec<_>>(), ["write", "movablekeys"]);
        assert_eq!(format!("{f:?}"), "CmdFlags(write|<hidden>|movablekeys)");
        assert_eq!(AclCategories::from_name(b"SortedSet"), Some(AclCategories::SORTEDSET));
        assert_eq!(AclCategories::all_names().count(), 21);
        assert_eq!(AclCategories::all_names().next(), Some("keyspace"));
        let k = KeySpecFlags::RW | KeySpecFlags::ACCESS | KeySpecFlags::DELETE;
        assert_eq!(k.names().collect::<Vec<_>>(), ["RW", "access", "delete"]);
        assert!(CmdFlags::empty().is_empty());
        assert_eq!(CmdFlags::ALLOW_BUSY.bits(), 1 << 26);
    }
}
