//! Key positions in an argument vector, as Redis 7.0's
//! `getKeysFromCommandWithSpecs` finds them: the key specs first, and, when
//! they fail (an `unknown` or `incomplete` spec, a bad key count) or their
//! flags depend on the arguments (`VARIABLE_FLAGS`), the command's native
//! getkeys function from db.c ([`GetKeys`]).
//!
//! Positions index the whole argument vector, command name included (for a
//! subcommand, `argv[0]` is the container and `argv[1]` the subcommand), as
//! in Redis. Arguments are compared the way Redis's C code compares them:
//! case-insensitively, and up to the first NUL byte where Redis uses
//! `strcasecmp` or `atoi`.
//!
//! Used by `COMMAND GETKEYS`/`GETKEYSANDFLAGS` ([`keys`]) and by cluster
//! routing ([`extract_keys`]).

use thiserror::Error;

use super::{BeginSearch, CmdFlags, CommandSpec, FindKeys, GetKeys, KeySpec, KeySpecFlags};
use crate::resp::parse_i64;

/// One key argument: its index in argv and how the command uses it. Keys
/// found by some getkeys functions (ZUNIONSTORE's, XREAD's...) carry no
/// flags, as in Redis.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyRef {
    pub pos: usize,
    pub flags: KeySpecFlags,
}

/// Why `COMMAND GETKEYS` finds no keys; the texts are Redis's (the node
/// prefixes "ERR ").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum KeysError {
    #[error("The command has no key arguments")]
    NoKeyArguments,
    #[error("Invalid number of arguments specified for command")]
    WrongArity,
    #[error("Invalid arguments specified for command")]
    InvalidArguments,
}

/// The keys of `argv` for `COMMAND GETKEYS`: the checks of Redis's
/// `getKeysSubcommandImpl` (the command has keys, the arity fits, some key
/// was found unless the command has `NO_MANDATORY_KEYS`), then
/// [`extract_keys`]. `spec` is the command or subcommand `argv` names.
pub fn keys(spec: &CommandSpec, argv: &[&[u8]]) -> Result<Vec<KeyRef>, KeysError> {
    if !spec.has_keys() {
        return Err(KeysError::NoKeyArguments);
    }
    let argc = argv.len() as i64;
    let arity = spec.arity as i64;
    if (arity > 0 && arity != argc) || argc < -arity {
        return Err(KeysError::WrongArity);
    }
    let found = extract_keys(spec, argv);
    if found.is_empty() && !spec.flags.contains(CmdFlags::NO_MANDATORY_KEYS) {
        return Err(KeysError::InvalidArguments);
    }
    Ok(found)
}

/// The keys of `argv` without `COMMAND GETKEYS`'s checks (Redis's
/// `getKeysFromCommandWithSpecs` with default search flags): an empty list
/// when the arguments are malformed. Every position indexes `argv`, even
/// when its arity was not checked.
pub fn extract_keys(spec: &CommandSpec, argv: &[&[u8]]) -> Vec<KeyRef> {
    let has_key_spec = spec.key_specs.iter().any(|ks| !ks.flags.contains(KeySpecFlags::NOT_KEY));
    let has_variable_flags = spec.key_specs.iter().any(|ks| ks.flags.contains(KeySpecFlags::VARIABLE_FLAGS));
    if has_key_spec && !has_variable_flags {
        if let Some(found) = keys_from_specs(spec.key_specs, argv) {
            return found;
        }
    }
    let Some(getkeys) = spec.getkeys else {
        return Vec::new();
    };
    let mut found = getkeys.find(argv);
    // Redis runs these only after its arity check; some assume argv[1].
    found.retain(|k| k.pos < argv.len());
    found
}

/// Redis's `getKeysUsingKeySpecs`: `None` when a spec can't be applied (or
/// is incomplete), which sends the caller to the getkeys function.
fn keys_from_specs(specs: &[KeySpec], argv: &[&[u8]]) -> Option<Vec<KeyRef>> {
    // i64 throughout: argc fits, and overflow-free arithmetic reaches the
    // same verdicts as Redis's int arithmetic on absurd key counts.
    let argc = argv.len() as i64;
    let mut found = Vec::new();
    for ks in specs {
        if ks.flags.contains(KeySpecFlags::NOT_KEY) {
            continue;
        }
        let mut first = match ks.begin_search {
            BeginSearch::Index(pos) => pos as i64,
            BeginSearch::Keyword { keyword, startfrom } => match find_keyword(argv, keyword, startfrom) {
                Some(at) => at + 1,
                // A missing keyword means no keys from this spec, not an error.
                None => continue,
            },
            BeginSearch::Unknown => return None,
        };
        let (last, step) = match ks.find_keys {
            FindKeys::Range { lastkey, keystep, limit } => {
                let (lastkey, limit) = (lastkey as i64, limit as i64);
                let last = if lastkey >= 0 {
                    first + lastkey
                } else if limit == 0 {
                    argc + lastkey
                } else {
                    // Redis only allows lastkey -1 with a limit.
                    first + ((argc - first) / limit + lastkey)
                };
                (last, keystep)
            }
            FindKeys::Keynum { keynumidx, firstkey, keystep } => {
                let count_at = first + keynumidx as i64;
                // Redis checks only `keynumidx >= argc`; checking the real
                // index avoids reading past argv.
                if keynumidx as i64 >= argc || count_at < 0 || count_at >= argc {
                    return None;
                }
                let numkeys = parse_i64(argv[count_at as usize]).filter(|&n| n >= 0)?;
                first += firstkey as i64;
                // Redis truncates the count to an int.
                (first + numkeys as i32 as i64 - 1, keystep)
            }
            FindKeys::Unknown => return None,
        };
        if last >= argc || last < first || first >= argc || first < 0 {
            return None;
        }
        let step = step.max(1) as usize;
        for pos in (first as usize..=last as usize).step_by(step) {
            found.push(KeyRef { pos, flags: ks.flags });
        }
        if ks.flags.contains(KeySpecFlags::INCOMPLETE) {
            return None;
        }
    }
    Some(found)
}

/// The index of `keyword` for a keyword begin-search. Like Redis, a
/// positive `startfrom` searches forward up to (excluding) the last
/// argument, a negative one backward down to (excluding) argument 1.
fn find_keyword(argv: &[&[u8]], keyword: &str, startfrom: i32) -> Option<i64> {
    let argc = argv.len() as i64;
    let startfrom = startfrom as i64;
    let (start, end) = if startfrom > 0 { (startfrom, argc - 1) } else { (argc + startfrom, 1) };
    let mut i = start;
    while i != end {
        if i >= argc || i < 1 {
            break;
        }
        if c_eq_ignore_case(argv[i as usize], keyword) {
            return Some(i);
        }
        i += if start <= end { 1 } else { -1 };
    }
    None
}

impl GetKeys {
    /// Run the native getkeys function on `argv` (positions may pass the
    /// end of an argv whose arity was not checked).
    fn find(self, argv: &[&[u8]]) -> Vec<KeyRef> {
        match self {
            // counted_keys(argv, store key index, key count index, first key index)
            GetKeys::Sintercard | GetKeys::ZunionInterDiff | GetKeys::Lmpop | GetKeys::Zmpop => {
                counted_keys(argv, None, 1, 2)
            }
            GetKeys::ZunionInterDiffStore => counted_keys(argv, Some(1), 2, 3),
            GetKeys::Eval | GetKeys::Function | GetKeys::Blmpop | GetKeys::Bzmpop => counted_keys(argv, None, 2, 3),
            GetKeys::SortRo => vec![KeyRef { pos: 1, flags: KeySpecFlags::RO | KeySpecFlags::ACCESS }],
            GetKeys::Sort => sort_keys(argv),
            GetKeys::Migrate => migrate_keys(argv),
            GetKeys::Georadius => georadius_keys(argv),
            GetKeys::Xread => xread_keys(argv),
            GetKeys::Set => set_keys(argv),
            GetKeys::Bitfield => bitfield_keys(argv),
        }
    }
}

/// `[destkey] numkeys key [key ...] ...` (Redis's `genericGetKeys` with a
/// key step of 1): the source keys, then the destination; nothing when the
/// count is out of range, leaving the command to report the error.
fn counted_keys(argv: &[&[u8]], store_at: Option<usize>, count_at: usize, first_at: usize) -> Vec<KeyRef> {
    let argc = argv.len() as i64;
    let Some(count) = argv.get(count_at) else {
        return Vec::new();
    };
    let num = c_atoi(count) as i64;
    if num < 1 || num > argc - first_at as i64 {
        return Vec::new();
    }
    let none = KeySpecFlags::empty();
    let mut found: Vec<KeyRef> = (0..num as usize).map(|i| KeyRef { pos: first_at + i, flags: none }).collect();
    if let Some(pos) = store_at {
        found.push(KeyRef { pos, flags: none });
    }
    found
}

/// `SORT key ... [STORE dest] ...`: the sorted key, and the last STORE
/// destination. BY and GET patterns name keys too, but only the sorted
/// values tell which, so Redis (and we) leave them out.
fn sort_keys(argv: &[&[u8]]) -> Vec<KeyRef> {
    let mut found = vec![KeyRef { pos: 1, flags: KeySpecFlags::RO | KeySpecFlags::ACCESS }];
    let mut store = None;
    let mut i = 2;
    while i < argv.len() {
        let arg = argv[i];
        if c_eq_ignore_case(arg, "limit") {
            i += 2;
        } else if c_eq_ignore_case(arg, "store") && i + 1 < argv.len() {
            // No skip: Redis looks at the destination as an option too.
            store = Some(i + 1);
        } else if c_eq_ignore_case(arg, "get") || c_eq_ignore_case(arg, "by") {
            i += 1;
        }
        i += 1;
    }
    if let Some(pos) = store {
        found.push(KeyRef { pos, flags: KeySpecFlags::OW | KeySpecFlags::UPDATE });
    }
    found
}

/// `MIGRATE host port key|"" db timeout [COPY] [REPLACE] [AUTH pw]
/// [AUTH2 user pw] [KEYS key ...]`.
fn migrate_keys(argv: &[&[u8]]) -> Vec<KeyRef> {
    let argc = argv.len();
    let (mut first, mut num) = (3, 1);
    let mut i = 6;
    while i < argc {
        let arg = argv[i];
        if c_eq_ignore_case(arg, "keys") {
            if argv[3].is_empty() {
                first = i + 1;
                num = argc - first;
            } else {
                // KEYS with a key argument is a syntax error for MIGRATE.
                num = 0;
            }
            break;
        }
        if c_eq_ignore_case(arg, "auth") {
            i += 1;
        } else if c_eq_ignore_case(arg, "auth2") {
            i += 2;
        }
        i += 1;
    }
    let flags = KeySpecFlags::RW | KeySpecFlags::ACCESS | KeySpecFlags::DELETE;
    (first..first + num).map(|pos| KeyRef { pos, flags }).collect()
}

/// `GEORADIUS key ... [STORE key] [STOREDIST key]`: the key and the last
/// store destination.
fn georadius_keys(argv: &[&[u8]]) -> Vec<KeyRef> {
    let none = KeySpecFlags::empty();
    let mut stored = None;
    let mut i = 5;
    while i < argv.len() {
        let arg = argv[i];
        if (c_eq_ignore_case(arg, "store") || c_eq_ignore_case(arg, "storedist")) && i + 1 < argv.len() {
            stored = Some(i + 1);
            i += 1;
        }
        i += 1;
    }
    let mut found = vec![KeyRef { pos: 1, flags: none }];
    if let Some(pos) = stored {
        found.push(KeyRef { pos, flags: none });
    }
    found
}

/// `XREAD|XREADGROUP [BLOCK ms] [COUNT n] [GROUP g c] [NOACK] STREAMS key
/// ... id ...`: the first half of what follows STREAMS; options are parsed
/// because "STREAMS" may also be a group, consumer or key name.
fn xread_keys(argv: &[&[u8]]) -> Vec<KeyRef> {
    let argc = argv.len();
    let mut streams_at = None;
    let mut i = 1;
    while i < argc {
        let arg = argv[i];
        if c_eq_ignore_case(arg, "block") || c_eq_ignore_case(arg, "count") {
            i += 1;
        } else if c_eq_ignore_case(arg, "group") {
            i += 2;
        } else if c_eq_ignore_case(arg, "noack") {
        } else if c_eq_ignore_case(arg, "streams") {
            streams_at = Some(i);
            break;
        } else {
            break;
        }
        i += 1;
    }
    let Some(at) = streams_at else {
        return Vec::new();
    };
    let rest = argc - at - 1;
    if rest == 0 || rest % 2 == 1 {
        return Vec::new();
    }
    (at + 1..at + 1 + rest / 2).map(|pos| KeyRef { pos, flags: KeySpecFlags::empty() }).collect()
}

/// `SET key value [... GET ...]`: the key, read too when GET is given.
fn set_keys(argv: &[&[u8]]) -> Vec<KeyRef> {
    let get = argv.iter().skip(3).any(|arg| c_eq_ignore_case(arg, "get"));
    let flags = if get {
        KeySpecFlags::RW | KeySpecFlags::ACCESS | KeySpecFlags::UPDATE
    } else {
        KeySpecFlags::OW | KeySpecFlags::UPDATE
    };
    vec![KeyRef { pos: 1, flags }]
}

/// `BITFIELD key [GET ...] [SET ...] [INCRBY ...] [OVERFLOW ...]`: read-only
/// when only GET (and OVERFLOW) subcommands are well formed.
fn bitfield_keys(argv: &[&[u8]]) -> Vec<KeyRef> {
    let argc = argv.len();
    let mut readonly = true;
    let mut i = 2;
    while i < argc {
        let arg = argv[i];
        let remaining = argc - i - 1;
        if c_eq_ignore_case(arg, "get") && remaining >= 2 {
            i += 2;
        } else if (c_eq_ignore_case(arg, "set") || c_eq_ignore_case(arg, "incrby")) && remaining >= 3 {
            readonly = false;
            break;
        } else if c_eq_ignore_case(arg, "overflow") && remaining >= 1 {
            i += 1;
        } else {
            // A syntax error: assume the worst, as Redis does.
            readonly = false;
            break;
        }
        i += 1;
    }
    let flags = if readonly {
        KeySpecFlags::RO | KeySpecFlags::ACCESS
    } else {
        KeySpecFlags::RW | KeySpecFlags::ACCESS | KeySpecFlags::UPDATE
    };
    vec![KeyRef { pos: 1, flags }]
}

/// An argument as C sees it: up to the first NUL byte.
fn c_str(arg: &[u8]) -> &[u8] {
    match arg.iter().position(|&b| b == 0) {
        Some(nul) => &arg[..nul],
        None => arg,
    }
}

/// `strcasecmp(arg, word) == 0`.
fn c_eq_ignore_case(arg: &[u8], word: &str) -> bool {
    c_str(arg).eq_ignore_ascii_case(word.as_bytes())
}

/// glibc's `atoi`: `(int)strtol(s, NULL, 10)`, i.e. leading whitespace, a
/// sign, digits up to the first non-digit, saturated to a 64-bit long and
/// then truncated to an int.
fn c_atoi(arg: &[u8]) -> i32 {
    let s = c_str(arg);
    let mut i = s.iter().take_while(|b| matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')).count();
    let negative = match s.get(i) {
        Some(b'-') => {
            i += 1;
            true
        }
        Some(b'+') => {
            i += 1;
            false
        }
        _ => false,
    };
    let mut value: i64 = 0;
    for &b in s[i..].iter().take_while(|b| b.is_ascii_digit()) {
        let digit = (b - b'0') as i64;
        value = if negative {
            value.saturating_mul(10).saturating_sub(digit)
        } else {
            value.saturating_mul(10).saturating_add(digit)
        };
    }
    value as i32
}

#[cfg(test)]
mod tests {
    use super::super::{lookup, lookup_subcommand};
    use super::*;

    /// Key names with their flag names, or an error text.
    type Answer = Result<Vec<(String, String)>, String>;

    /// `COMMAND GETKEYSANDFLAGS` as the node would answer it: key names and
    /// flag names, or the error text.
    fn getkeys(line: &str) -> Answer {
        let argv: Vec<&[u8]> = split(line);
        let mut spec = lookup(argv[0]).ok_or("Invalid command specified")?;
        if spec.is_container() && argv.len() >= 2 {
            spec = lookup_subcommand(spec, argv[1]).ok_or("Invalid command specified")?;
        }
        let found = keys(spec, &argv).map_err(|e| e.to_string())?;
        Ok(found
            .iter()
            .map(|k| {
                let name = String::from_utf8_lossy(argv[k.pos]).into_owned();
                (name, k.flags.names().collect::<Vec<_>>().join(" "))
            })
            .collect())
    }

    /// Words separated by spaces; `""` is an empty argument.
    fn split(line: &str) -> Vec<&[u8]> {
        line.split(' ').map(|w| if w == "\"\"" { &b""[..] } else { w.as_bytes() }).collect()
    }

    fn ok(pairs: &[(&str, &str)]) -> Answer {
        Ok(pairs.iter().map(|(k, f)| (k.to_string(), f.to_string())).collect())
    }

    fn err(msg: &str) -> Answer {
        Err(msg.to_string())
    }

    /// `(COMMAND GETKEYSANDFLAGS arguments, reply)` as a Redis 7.0.15
    /// server answered them (captured with redis-server).
    fn redis_answers() -> Vec<(&'static str, Answer)> {
        vec![
            ("get k", ok(&[("k", "RO access")])),
            ("mset a 1 b 2", ok(&[("a", "OW update"), ("b", "OW update")])),
            ("del a b c", ok(&[("a", "RM delete"), ("b", "RM delete"), ("c", "RM delete")])),
            ("smove s d m", ok(&[("s", "RW access delete"), ("d", "RW insert")])),
            ("ping hello", err("The command has no key arguments")),
            ("get a b", err("Invalid number of arguments specified for command")),
            ("nosuch k", err("Invalid command specified")),
            ("zunionstore dst 2 a b", ok(&[("dst", "OW update"), ("a", "RO access"), ("b", "RO access")])),
            ("zunionstore dst 0 a", err("Invalid arguments specified for command")),
            ("zunionstore dst 3 a b", err("Invalid arguments specified for command")),
            ("zunionstore dst -1 a", err("Invalid arguments specified for command")),
            ("zunionstore dst 2x a b", ok(&[("a", ""), ("b", ""), ("dst", "")])),
            ("zinter 2 a b WEIGHTS 1 2", ok(&[("a", "RO access"), ("b", "RO access")])),
            ("zdiff 1 a", ok(&[("a", "RO access")])),
            ("sintercard 2 a b LIMIT 1", ok(&[("a", "RO access"), ("b", "RO access")])),
            ("lmpop 2 l1 l2 LEFT", ok(&[("l1", "RW access delete"), ("l2", "RW access delete")])),
            ("blmpop 0 2 l1 l2 LEFT", ok(&[("l1", "RW access delete"), ("l2", "RW access delete")])),
            ("bzmpop 0 1 z MIN", ok(&[("z", "RW access delete")])),
            ("zmpop 1 z MAX", ok(&[("z", "RW access delete")])),
            ("eval s 2 k1 k2 a", ok(&[("k1", "RW access update"), ("k2", "RW access update")])),
            ("eval s 0", ok(&[])),
            ("eval s 3 k1", ok(&[])),
            ("evalsha_ro s 1 k1", ok(&[("k1", "RO access")])),
            ("fcall f 1 k1 a", ok(&[("k1", "RW access update")])),
            ("fcall_ro f 0", ok(&[])),
            ("xread COUNT 2 STREAMS s1 s2 0 0", ok(&[("s1", "RO access"), ("s2", "RO access")])),
            ("xread STREAMS s1", err("Invalid number of arguments specified for command")),
            ("xread STREAMS s1 s2 s3", ok(&[("s1", "RO access")])),
            ("xread BLOCK 0 STREAMS streams 0", ok(&[("streams", "RO access")])),
            ("xreadgroup GROUP g c STREAMS s1 s2 > >", ok(&[("s1", "RO access"), ("s2", "RO access")])),
            ("xreadgroup GROUP STREAMS c STREAMS s1 >", ok(&[("s1", "RO access")])),
            ("migrate host port \"\" 0 5 KEYS k1 k2", ok(&[("k1", "RW access delete"), ("k2", "RW access delete")])),
            ("migrate host port key 0 5", ok(&[("key", "RW access delete")])),
            ("migrate host port key 0 5 KEYS k1", err("Invalid arguments specified for command")),
            ("migrate host port \"\" 0 5 AUTH keys KEYS k1", ok(&[("k1", "RW access delete")])),
            (
                "migrate host port \"\" 0 5 COPY REPLACE AUTH2 u p KEYS k1 k2 k3",
                ok(&[("k1", "RW access delete"), ("k2", "RW access delete"), ("k3", "RW access delete")]),
            ),
            ("migrate host port \"\" 0 5", ok(&[("", "RW access delete")])),
            ("sort s BY w STORE dst", ok(&[("s", "RO access"), ("dst", "OW update")])),
            ("sort s", ok(&[("s", "RO access")])),
            ("sort s LIMIT 0 1 GET g STORE d1 STORE d2", ok(&[("s", "RO access"), ("d2", "OW update")])),
            ("sort s STORE", ok(&[("s", "RO access")])),
            ("sort_ro s BY w", ok(&[("s", "RO access")])),
            ("set k v", ok(&[("k", "OW update")])),
            ("set k v NX get", ok(&[("k", "RW access update")])),
            ("set k v GETX", ok(&[("k", "OW update")])),
            ("bitfield k GET u8 0", ok(&[("k", "RO access")])),
            ("bitfield k GET u8 0 INCRBY u8 0 1", ok(&[("k", "RW access update")])),
            ("bitfield k OVERFLOW SAT GET u8 0", ok(&[("k", "RO access")])),
            ("bitfield k GET u8", ok(&[("k", "RW access update")])),
            ("bitfield_ro k GET u8 0", ok(&[("k", "RO access")])),
            (
                "georadius g 0 0 1 km STORE d1 STOREDIST d2",
                ok(&[("g", "RO access"), ("d1", "OW update"), ("d2", "OW update")]),
            ),
            ("georadius g 0 0 1 km STORE d1", ok(&[("g", "RO access"), ("d1", "OW update")])),
            ("georadius g 0 0 1 km", ok(&[("g", "RO access")])),
            ("georadiusbymember g m 1 km STOREDIST d", ok(&[("g", "RO access"), ("d", "OW update")])),
            ("georadius_ro g 0 0 1 km", ok(&[("g", "RO access")])),
            ("object encoding k", ok(&[("k", "RO")])),
            ("memory usage k", ok(&[("k", "RO")])),
            ("spublish ch msg", err("The command has no key arguments")),
            ("publish ch msg", err("The command has no key arguments")),
            ("ssubscribe ch", err("The command has no key arguments")),
            ("lcs a b", ok(&[("a", "RO access"), ("b", "RO access")])),
            ("copy a b", ok(&[("a", "RO access"), ("b", "OW update")])),
            ("rename a b", ok(&[("a", "RW access delete"), ("b", "OW update")])),
            ("xgroup create s g $", ok(&[("s", "RW insert")])),
            ("xinfo stream s", ok(&[("s", "RO access")])),
            ("config get x", err("The command has no key arguments")),
            ("pfcount a b", ok(&[("a", "RW access"), ("b", "RW access")])),
            ("pfmerge d a b", ok(&[("d", "RW access insert"), ("a", "RO access"), ("b", "RO access")])),
            ("blpop a b 0", ok(&[("a", "RW access delete"), ("b", "RW access delete")])),
            ("zrangestore d s 0 1", ok(&[("d", "OW update"), ("s", "RO access")])),
            ("getex k PERSIST", ok(&[("k", "RW access update")])),
            ("touch a b", ok(&[("a", "RO"), ("b", "RO")])),
            ("unlink a", ok(&[("a", "RM delete")])),
            ("exists a", ok(&[("a", "RO")])),
            ("watch a b", ok(&[("a", "RO"), ("b", "RO")])),
            ("restore k 0 v", ok(&[("k", "OW update")])),
            ("restore-asking k 0 v", ok(&[("k", "OW update")])),
            ("geosearchstore d s FROMMEMBER m BYRADIUS 1 km", ok(&[("d", "OW update"), ("s", "RO access")])),
            ("brpoplpush a b 0", ok(&[("a", "RW access delete"), ("b", "RW insert")])),
            ("lmove a b LEFT RIGHT", ok(&[("a", "RW access delete"), ("b", "RW insert")])),
            ("msetnx a 1 b 2", ok(&[("a", "OW insert"), ("b", "OW insert")])),
            ("bitop AND d a b", ok(&[("d", "OW update"), ("a", "RO access"), ("b", "RO access")])),
            ("function load x", err("The command has no key arguments")),
            ("script exists x", err("The command has no key arguments")),
        ]
    }

    #[test]
    fn matches_redis_getkeysandflags() {
        for (line, expected) in redis_answers() {
            assert_eq!(getkeys(line), expected, "COMMAND GETKEYSANDFLAGS {line}");
        }
    }

    #[test]
    fn c_semantics() {
        assert_eq!(c_atoi(b"  12abc"), 12);
        assert_eq!(c_atoi(b"-3"), -3);
        assert_eq!(c_atoi(b"x"), 0);
        // strtol saturates to LONG_MAX, whose low 32 bits are -1.
        assert_eq!(c_atoi(b"99999999999999999999"), -1);
        assert!(c_eq_ignore_case(b"KEYS\0junk", "keys"));
        assert_eq!(find_keyword(&split("migrate h p \"\" 0 5 KEYS k"), "KEYS", -2), Some(6));
        // Forward search never looks at the last argument.
        assert_eq!(find_keyword(&split("x a STREAMS"), "STREAMS", 1), None);
    }

    #[test]
    fn extract_keys_is_lenient() {
        let zunionstore = lookup(b"zunionstore").unwrap();
        assert!(extract_keys(zunionstore, &split("zunionstore d x")).is_empty());
        let migrate = lookup(b"migrate").unwrap();
        assert!(extract_keys(migrate, &split("migrate")).is_empty());
        let eval = lookup(b"eval").unwrap();
        assert!(extract_keys(eval, &split("eval")).is_empty());
        for name in ["set", "sort", "sort_ro", "bitfield", "georadius"] {
            assert!(extract_keys(lookup(name.as_bytes()).unwrap(), &split(name)).is_empty(), "{name}");
        }
    }
}
