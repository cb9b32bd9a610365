//! Unit tests of the config module. Expected texts were taken from Debian's
//! redis-server 7.0.15 (CONFIG GET/SET through redis-cli, start-up errors from
//! running it with the same arguments).

use std::io::Cursor;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use super::syntax::{memtoull, repr, split_args, string2d, string2ll};
use super::*;

/// Tests that change or print the working directory (`dir`) take this lock:
/// the working directory is shared by every test thread.
static CWD: Mutex<()> = Mutex::new(());

fn cwd_lock() -> std::sync::MutexGuard<'static, ()> {
    CWD.lock().unwrap_or_else(|e| e.into_inner())
}

fn args(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

fn load(list: &[&str]) -> Result<Config, ConfigError> {
    load::from_args(&args(list), &mut Cursor::new(Vec::new()), None)
}

fn load_stdin(list: &[&str], stdin: &str) -> Result<Config, ConfigError> {
    load::from_args(&args(list), &mut Cursor::new(stdin.as_bytes().to_vec()), None)
}

/// The reason of a start-up error at a line, as (line number, line, reason).
fn fatal(e: ConfigError) -> (Option<(usize, String)>, String) {
    match e {
        ConfigError::Fatal { at, reason } => (at, reason),
        other => panic!("expected a fatal config error, got {other:?}"),
    }
}

fn fatal_at(list: &[&str]) -> (usize, String, String) {
    match fatal(load(list).expect_err("should fail")) {
        (Some((n, line)), reason) => (n, line, reason),
        (None, reason) => panic!("no line for {reason}"),
    }
}

fn get1(c: &Config, name: &str) -> String {
    let got = c.get(&[name.as_bytes()]);
    assert_eq!(got.len(), 1, "{name}: {got:?}");
    got[0].1.clone()
}

fn set(c: &mut Config, pairs: &[(&str, &str)]) -> Result<Vec<&'static str>, String> {
    let pairs: Vec<(&[u8], &[u8])> = pairs.iter().map(|(k, v)| (k.as_bytes(), v.as_bytes())).collect();
    c.set(&pairs).map_err(|e| e.to_string())
}

fn set_ctx(c: &mut Config, name: &str, value: &str, ctx: SetContext) -> Result<Vec<&'static str>, String> {
    c.set_with(&[(name.as_bytes(), value.as_bytes())], ctx).map_err(|e| e.to_string())
}

fn set_err(c: &mut Config, name: &str, value: &str) -> String {
    set(c, &[(name, value)]).expect_err("CONFIG SET should fail")
}

fn failed(name: &str, reason: &str) -> String {
    format!("ERR CONFIG SET failed (possibly related to argument '{name}') - {reason}")
}

/// A fresh directory under the system temp dir, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> TempDir {
        use std::sync::atomic::{AtomicUsize, Ordering};
        static N: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "corvid-config-{tag}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    fn file(&self, name: &str, content: &str) -> PathBuf {
        let p = self.0.join(name);
        std::fs::write(&p, content).unwrap();
        p
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn path_str(p: &Path) -> &str {
    p.to_str().unwrap()
}

// ---------------------------------------------------------------- syntax

fn split(line: &str) -> Option<Vec<String>> {
    split_args(line.as_bytes()).map(|v| v.into_iter().map(|a| String::from_utf8_lossy(&a).into_owned()).collect())
}

#[test]
fn split_args_blanks_and_quotes() {
    assert_eq!(split("port 6379"), Some(vec!["port".into(), "6379".into()]));
    assert_eq!(split("  a\t\tb  "), Some(vec!["a".into(), "b".into()]));
    assert_eq!(split(""), Some(vec![]));
    assert_eq!(split("\x0b\x0c"), Some(vec![]), "vertical tab and form feed are blanks between arguments");
    assert_eq!(split("a\x0bb"), Some(vec!["a\x0bb".into()]), "…but not inside one");
    assert_eq!(split(r#"logfile """#), Some(vec!["logfile".into(), "".into()]));
    assert_eq!(split("logfile ''"), Some(vec!["logfile".into(), "".into()]));
    assert_eq!(split(r#"a "b c" 'd e'"#), Some(vec!["a".into(), "b c".into(), "d e".into()]));
    assert_eq!(split(r#"a"b c""#), Some(vec!["ab c".into()]), "a quote may open mid-word");
}

#[test]
fn split_args_escapes() {
    assert_eq!(split(r#""\x41\x4a""#), Some(vec!["AJ".into()]));
    assert_eq!(split(r#""\xZZ""#), Some(vec!["xZZ".into()]), "not hex: the backslash just escapes 'x'");
    assert_eq!(split(r#""\n\r\t\b\a\"\\\q""#), Some(vec!["\n\r\t\x08\x07\"\\q".into()]));
    assert_eq!(split(r#"'it\'s' 'a\nb'"#), Some(vec!["it's".into(), "a\\nb".into()]));
    assert_eq!(split(r#"\x41"#), Some(vec![r#"\x41"#.into()]), "no escapes outside quotes");
}

#[test]
fn split_args_unbalanced() {
    assert_eq!(split(r#"save "a"#), None);
    assert_eq!(split("save 'a"), None);
    assert_eq!(split(r#""a"b"#), None, "a closing quote must end the argument");
    assert_eq!(split("'a'b"), None);
    assert_eq!(split(r#""a\"#), None);
}

#[test]
fn repr_round_trips() {
    let raw = b"a b\"\\\n\r\t\x07\x08\x01\xff";
    assert_eq!(repr(raw), r#""a b\"\\\n\r\t\a\b\x01\xff""#);
    assert_eq!(split_args(repr(raw).as_bytes()).unwrap(), vec![raw.to_vec()]);
}

#[test]
fn memory_units() {
    assert_eq!(memtoull(b"100"), Some(100));
    assert_eq!(memtoull(b"1b"), Some(1));
    assert_eq!(memtoull(b"1k"), Some(1000));
    assert_eq!(memtoull(b"1kb"), Some(1024));
    assert_eq!(memtoull(b"1m"), Some(1_000_000));
    assert_eq!(memtoull(b"1mb"), Some(1 << 20));
    assert_eq!(memtoull(b"1g"), Some(1_000_000_000));
    assert_eq!(memtoull(b"1gb"), Some(1 << 30));
    assert_eq!(memtoull(b"2GB"), Some(2 << 30));
    assert_eq!(memtoull(b"5Kb"), Some(5 * 1024));
    assert_eq!(memtoull(b""), Some(0));
    assert_eq!(memtoull(b"kb"), Some(0));
    assert_eq!(memtoull(b"-1"), None);
    assert_eq!(memtoull(b"1.5mb"), None);
    assert_eq!(memtoull(b" 1"), None);
    assert_eq!(memtoull(b"1 mb"), None);
    assert_eq!(memtoull(b"1tb"), None);
    assert_eq!(memtoull(b"99999999999999999999"), Some(u64::MAX));
    assert_eq!(memtoull(b"20000000000000000000gb"), Some(18446744072635809792));
}

#[test]
fn strict_integers() {
    assert_eq!(string2ll(b"0"), Some(0));
    assert_eq!(string2ll(b"-9223372036854775808"), Some(i64::MIN));
    assert_eq!(string2ll(b"9223372036854775807"), Some(i64::MAX));
    for bad in ["", "007", "-0", "+1", " 1", "1 ", "9223372036854775808", "1e3", "-"] {
        assert_eq!(string2ll(bad.as_bytes()), None, "{bad:?}");
    }
}

#[test]
fn doubles_as_strtod_reads_them() {
    assert_eq!(string2d(b"99.9"), Some(99.9));
    assert_eq!(string2d(b"1e1"), Some(10.0));
    assert_eq!(string2d(b"0x10"), Some(16.0));
    assert_eq!(string2d(b"0x1.8p1"), Some(3.0));
    assert_eq!(string2d(b".5"), Some(0.5));
    assert_eq!(string2d(b"5."), Some(5.0));
    assert_eq!(string2d(b"inf"), Some(f64::INFINITY));
    assert_eq!(string2d(b"nan"), None);
    assert_eq!(string2d(b"1e-400"), None, "underflow to zero");
    assert_eq!(string2d(b"1e400"), None, "overflow");
    assert_eq!(string2d(b" 5"), None);
    assert_eq!(string2d(b"5 "), None);
    assert_eq!(string2d(b""), None);
}

// ---------------------------------------------------------------- table

#[test]
fn table_matches_redis_7_0_15() {
    assert_eq!(DIRECTIVES.len(), 178);
    let aliases = DIRECTIVES.iter().filter(|d| d.alias.is_some()).count();
    assert_eq!(aliases, 19);
    let hidden = DIRECTIVES.iter().filter(|d| d.has(flags::HIDDEN)).count();
    assert_eq!(hidden, 5);
    // Every name and alias is unique and lowercase.
    let mut names: Vec<&str> = DIRECTIVES.iter().flat_map(|d| std::iter::once(d.name).chain(d.alias)).collect();
    assert!(names.iter().all(|n| n.bytes().all(|b| !b.is_ascii_uppercase())));
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), 197);
}

#[test]
fn every_default_is_valid_for_its_own_row() {
    // Setting each mutable directive to what CONFIG GET shows must succeed
    // and change nothing (introspection.tcl "CONFIG sanity").
    let _cwd = cwd_lock();
    let mut c = Config::defaults();
    let before = c.get(&[b"*"]);
    for (name, value) in &before {
        let d = &DIRECTIVES[lookup(name.as_bytes()).unwrap().index];
        if d.has(flags::IMMUTABLE) || d.has(flags::PROTECTED) {
            continue;
        }
        set(&mut c, &[(name, value)]).unwrap_or_else(|e| panic!("{name} {value:?}: {e}"));
    }
    assert_eq!(c.get(&[b"*"]), before);
}

// ---------------------------------------------------------------- CONFIG GET

#[test]
fn get_star_lists_names_and_aliases_but_not_hidden() {
    let _cwd = cwd_lock();
    let c = Config::defaults();
    let all = c.get(&[b"*"]);
    assert_eq!(all.len(), 192, "197 names less 5 hidden, as redis-server 7.0.15 replies");
    let names: Vec<&str> = all.iter().map(|(k, _)| k.as_str()).collect();
    assert!(names.contains(&"slave-read-only") && names.contains(&"replica-read-only"));
    assert!(!names.contains(&"key-load-delay"));
    // Table order, name before alias.
    assert_eq!(&names[..3], ["rdbchecksum", "daemonize", "io-threads-do-reads"]);
    let rro = names.iter().position(|n| *n == "replica-read-only").unwrap();
    assert_eq!(names[rro + 1], "slave-read-only");
}

#[test]
fn get_exact_names() {
    let c = Config::defaults();
    // Hidden directives answer to their exact name.
    assert_eq!(c.get(&[b"key-load-delay"]), vec![("key-load-delay".to_string(), "0".to_string())]);
    // The name comes back as the client spelled it.
    assert_eq!(c.get(&[b"MAXMEMORY"]), vec![("MAXMEMORY".to_string(), "0".to_string())]);
    // Unknown names are left out.
    assert_eq!(c.get(&[b"no-such-thing"]), vec![]);
    assert_eq!(c.get(&[b"slave-priority"]), vec![("slave-priority".to_string(), "100".to_string())]);
}

#[test]
fn get_several_patterns_without_duplicates() {
    // introspection.tcl "CONFIG GET multiple args".
    let c = Config::defaults();
    let res = c.get(&[b"maxmemory", b"maxmemory*", b"bind", b"*of"]);
    let keys: Vec<&str> = res.iter().map(|(k, _)| k.as_str()).collect();
    let mut unique = keys.clone();
    unique.sort_unstable();
    unique.dedup();
    assert_eq!(unique.len(), keys.len());
    for k in ["slaveof", "replicaof", "maxmemory", "maxmemory-samples", "maxmemory-clients", "bind"] {
        assert!(keys.contains(&k), "{k} missing from {keys:?}");
    }
    assert_eq!(keys[0], "maxmemory");
    // An exact name already given, in another case, is not repeated by a pattern.
    let res = c.get(&[b"MAXMEMORY", b"max*"]);
    assert_eq!(res.iter().filter(|(k, _)| k.eq_ignore_ascii_case("maxmemory")).count(), 1);
    // Patterns ignore case.
    assert!(c.get(&[b"MAXMEM*"]).iter().any(|(k, _)| k == "maxmemory"));
    let delays: Vec<String> = c.get(&[b"*delay*"]).into_iter().map(|(k, _)| k).collect();
    assert!(delays.contains(&"repl-diskless-sync-delay".to_string()));
    assert!(!delays.contains(&"key-load-delay".to_string()), "hidden ones only by exact name");
}

#[test]
fn default_renderings() {
    let c = Config::defaults();
    let expect = [
        ("appendonly", "no"),
        ("protected-mode", "yes"),
        ("maxmemory-policy", "noeviction"),
        ("save", "3600 1 300 100 60 10000"),
        ("bind", "* -::*"),
        ("client-output-buffer-limit", "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60"),
        ("oom-score-adj-values", "0 200 800"),
        ("latency-tracking-info-percentiles", "50 99 99.9"),
        ("notify-keyspace-events", ""),
        ("replicaof", ""),
        ("unixsocketperm", "0"),
        ("proto-max-bulk-len", "536870912"),
        ("client-query-buffer-limit", "1073741824"),
        ("list-max-listpack-size", "-2"),
        ("shutdown-on-sigint", "default"),
        ("acl-pubsub-default", "resetchannels"),
        ("syslog-facility", "local0"),
        ("supervised", "no"),
        ("proc-title-template", "{title} {listen-addr} {server-mode}"),
        ("cluster-config-file", "nodes.conf"),
        ("requirepass", ""),
        ("pidfile", ""),
        ("tls-auth-clients", "yes"),
        ("maxmemory-clients", "0"),
    ];
    for (name, value) in expect {
        assert_eq!(get1(&c, name), value, "{name}");
    }
    assert_eq!(c.get_i64("port"), 6379);
    assert!(c.get_bool("protected-mode"));
    assert_eq!(c.get_enum("loglevel"), "notice");
    assert_eq!(c.get_str("enable-debug-command"), "no");
    assert_eq!(c.save_params(), vec![(3600, 1), (300, 100), (60, 10000)]);
    assert_eq!(c.bind_addrs(), vec!["*".to_string(), "-::*".to_string()]);
    assert_eq!(c.config_file(), None);
}

// ---------------------------------------------------------------- CONFIG SET

#[test]
fn bools_and_enums() {
    let mut c = Config::defaults();
    assert_eq!(set(&mut c, &[("appendonly", "YES")]), Ok(vec!["appendonly"]));
    assert_eq!(get1(&c, "appendonly"), "yes");
    assert!(c.get_bool("appendonly"));
    assert_eq!(set_err(&mut c, "appendonly", "maybe"), failed("appendonly", "argument must be 'yes' or 'no'"));
    assert_eq!(set(&mut c, &[("loglevel", "WARNING")]), Ok(vec!["loglevel"]));
    assert_eq!(get1(&c, "loglevel"), "warning");
    assert_eq!(
        set_err(&mut c, "loglevel", "foo"),
        failed("loglevel", "argument(s) must be one of the following: debug, verbose, notice, warning")
    );
    assert_eq!(
        set_err(&mut c, "maxmemory-policy", "foo"),
        failed(
            "maxmemory-policy",
            "argument(s) must be one of the following: volatile-lru, volatile-lfu, volatile-random, volatile-ttl, allkeys-lru, allkeys-lfu, allkeys-random, noeviction"
        )
    );
    // Two names for one value: the first one is shown.
    set(&mut c, &[("oom-score-adj", "relative")]).unwrap();
    assert_eq!(get1(&c, "oom-score-adj"), "yes");
    // Flag sets: any order in, table order out.
    set(&mut c, &[("shutdown-on-sigint", "NOW force nosave")]).unwrap();
    assert_eq!(get1(&c, "shutdown-on-sigint"), "nosave now force");
    assert_eq!(c.get_i64("shutdown-on-sigint"), i64::from(shutdown::NOSAVE | shutdown::NOW | shutdown::FORCE));
    set(&mut c, &[("shutdown-on-sigint", "default save")]).unwrap();
    assert_eq!(get1(&c, "shutdown-on-sigint"), "save");
    assert_eq!(
        set_err(&mut c, "shutdown-on-sigint", "save nosave"),
        failed("shutdown-on-sigint", "shutdown options SAVE and NOSAVE can't be used simultaneously")
    );
    let all = "argument(s) must be one of the following: default, save, nosave, now, force";
    assert_eq!(set_err(&mut c, "shutdown-on-sigint", ""), failed("shutdown-on-sigint", all));
    assert_eq!(set_err(&mut c, "shutdown-on-sigint", "now  force"), failed("shutdown-on-sigint", all));
    assert_eq!(
        set_err(&mut c, "activedefrag", "yes"),
        failed("activedefrag", "Active defragmentation cannot be enabled: it requires a Redis server compiled with a modified Jemalloc like the one shipped by default with the Redis source distribution")
    );
}

#[test]
fn numbers_memory_and_percent() {
    let mut c = Config::defaults();
    for (value, shown) in [("", "0"), ("kb", "0"), ("1K", "1000"), ("1GB", "1073741824"), ("100mb", "104857600")] {
        set(&mut c, &[("maxmemory", value)]).unwrap();
        assert_eq!(get1(&c, "maxmemory"), shown, "{value:?}");
    }
    set(&mut c, &[("maxmemory", "99999999999999999999")]).unwrap();
    assert_eq!(get1(&c, "maxmemory"), "18446744073709551615");
    for bad in ["-1", "1.5mb", "1 mb"] {
        assert_eq!(set_err(&mut c, "maxmemory", bad), failed("maxmemory", "argument must be a memory value"));
    }
    set(&mut c, &[("maxmemory-clients", "10%")]).unwrap();
    assert_eq!(get1(&c, "maxmemory-clients"), "10%");
    assert_eq!(c.get_i64("maxmemory-clients"), -10);
    assert_eq!(
        set_err(&mut c, "maxmemory-clients", "200%"),
        failed("maxmemory-clients", "percentage argument must be less or equal to 100")
    );
    assert_eq!(
        set_err(&mut c, "maxmemory-clients", "-5"),
        failed("maxmemory-clients", "argument must be a memory or percent value")
    );
    set(&mut c, &[("maxmemory-clients", "0%")]).unwrap();
    assert_eq!(get1(&c, "maxmemory-clients"), "0");

    let int_err = "argument couldn't be parsed into an integer";
    for bad in ["abc", " 1", "007", "-0", "+1", "1k"] {
        assert_eq!(set_err(&mut c, "port", bad), failed("port", int_err), "{bad:?}");
    }
    assert_eq!(set_err(&mut c, "port", "70000"), failed("port", "argument must be between 0 and 65535 inclusive"));
    assert_eq!(
        set_err(&mut c, "maxclients", "-1"),
        failed("maxclients", "argument must be between 1 and 4294967295 inclusive"),
        "unsigned bounds"
    );
    assert_eq!(
        set_err(&mut c, "slowlog-max-len", "-1"),
        failed("slowlog-max-len", "argument must be between 0 and 9223372036854775807 inclusive")
    );
    assert_eq!(
        set_err(&mut c, "proto-max-bulk-len", "1"),
        failed("proto-max-bulk-len", "argument must be between 1048576 and 9223372036854775807 inclusive")
    );
    assert_eq!(set(&mut c, &[("slowlog-log-slower-than", "-1")]), Ok(vec!["slowlog-log-slower-than"]));
}

#[test]
fn clamps_applied_after_set() {
    let mut c = Config::defaults();
    set(&mut c, &[("hz", "1000")]).unwrap();
    assert_eq!(c.get_i64("hz"), 500);
    set(&mut c, &[("hz", "0")]).unwrap();
    assert_eq!(c.get_i64("hz"), 1);
    set(&mut c, &[("repl-backlog-size", "3kb")]).unwrap();
    assert_eq!(get1(&c, "repl-backlog-size"), "16384");
    // At start-up only hz is pulled into range.
    let c = load(&["--hz", "1000", "--repl-backlog-size", "1kb"]).unwrap();
    assert_eq!(c.get_i64("hz"), 500);
    assert_eq!(c.get_i64("repl-backlog-size"), 1024);
}

#[test]
fn strings() {
    let mut c = Config::defaults();
    set(&mut c, &[("replica-announce-ip", "")]).unwrap();
    assert_eq!(get1(&c, "replica-announce-ip"), "");
    assert_eq!(
        set_err(&mut c, "cluster-announce-hostname", "a_b"),
        failed("cluster-announce-hostname", "Hostnames may only contain alphanumeric characters, hyphens or dots")
    );
    set(&mut c, &[("cluster-announce-hostname", "ok-host.name")]).unwrap();
    let bad_template = "template format is invalid or contains unknown variables";
    for t in ["{foo}", "{server-mode}", "{", "   "] {
        assert_eq!(set_err(&mut c, "proc-title-template", t), failed("proc-title-template", bad_template), "{t:?}");
    }
    set(&mut c, &[("proc-title-template", "x}")]).unwrap();
    assert_eq!(
        c.expand_proc_title(b"{{x {title} {listen-addr}", b"redis-server"),
        Some(b"{x redis-server *:6379".to_vec())
    );
    // Binary-safe strings keep NUL bytes; C strings stop at them.
    set(&mut c, &[("requirepass", "a\0b"), ("masteruser", "a\0b")]).unwrap();
    assert_eq!(c.get_raw("requirepass"), b"a\0b");
    assert_eq!(c.get_raw("masteruser"), b"a");
    // Setting the same value is not a change.
    assert_eq!(set(&mut c, &[("masteruser", "a")]), Ok(vec![]));
    // …except for the VOLATILE TLS file names, which may point at new contents.
    assert_eq!(set(&mut c, &[("tls-cert-file", "")]), Ok(vec!["tls-cert-file"]));
}

#[test]
fn specials() {
    let mut c = Config::defaults();
    let save_err = failed("save", "Invalid save parameters");
    for bad in ["100 10 20", "0 1", "10 -1", "10 0x", " 10 5", "10  5"] {
        assert_eq!(set_err(&mut c, "save", bad), save_err, "{bad:?}");
    }
    set(&mut c, &[("save", "10 +5 20 0")]).unwrap();
    assert_eq!(c.save_params(), vec![(10, 5), (20, 0)]);
    set(&mut c, &[("save", "10 4294967297")]).unwrap();
    assert_eq!(get1(&c, "save"), "10 1", "changes is a C int");
    set(&mut c, &[("save", "")]).unwrap();
    assert_eq!(c.save_params(), vec![]);

    set(&mut c, &[("client-output-buffer-limit", "normal 1mb 2mb 3 replica 1 2 3")]).unwrap();
    assert_eq!(
        get1(&c, "client-output-buffer-limit"),
        "normal 1048576 2097152 3 slave 1 2 3 pubsub 33554432 8388608 60"
    );
    let obuf = |r: &str| failed("client-output-buffer-limit", r);
    assert_eq!(
        set_err(&mut c, "client-output-buffer-limit", "master 1 2 3"),
        obuf("Invalid client class specified in buffer limit configuration.")
    );
    assert_eq!(
        set_err(&mut c, "client-output-buffer-limit", "normal 1 2"),
        obuf("Wrong number of arguments in buffer limit configuration.")
    );
    assert_eq!(
        set_err(&mut c, "client-output-buffer-limit", "normal 1x 2 3"),
        obuf("Error in hard, soft or soft_seconds setting in buffer limit configuration.")
    );

    assert_eq!(
        set_err(&mut c, "oom-score-adj-values", "1 2"),
        failed("oom-score-adj-values", "wrong number of arguments")
    );
    assert_eq!(
        set_err(&mut c, "oom-score-adj-values", "1 2 3000"),
        failed("oom-score-adj-values", "Invalid oom-score-adj-values, elements must be between -2000 and 2000.")
    );
    assert_eq!(set(&mut c, &[("oom-score-adj-values", "0 200 800")]), Ok(vec![]), "unchanged");

    set(&mut c, &[("notify-keyspace-events", "KEA")]).unwrap();
    assert_eq!(get1(&c, "notify-keyspace-events"), "AKE");
    set(&mut c, &[("notify-keyspace-events", "Ex")]).unwrap();
    assert_eq!(get1(&c, "notify-keyspace-events"), "xE");
    assert_eq!(c.notify_keyspace_events(), keyspace_events::EXPIRED | keyspace_events::KEYEVENT);
    assert_eq!(
        set_err(&mut c, "notify-keyspace-events", "Q"),
        failed("notify-keyspace-events", "Invalid event class character. Use 'Ag$lshzxeKEtmdn'.")
    );

    set(&mut c, &[("bind", "127.0.0.1 -::1")]).unwrap();
    assert_eq!(c.bind_addrs(), vec!["127.0.0.1".to_string(), "-::1".to_string()]);
    let many = vec!["1.1.1.1"; 17].join(" ");
    assert_eq!(set_err(&mut c, "bind", &many), failed("bind", "Too many bind addresses specified."));

    set(&mut c, &[("latency-tracking-info-percentiles", "50 99.99 0x10 1e1")]).unwrap();
    assert_eq!(get1(&c, "latency-tracking-info-percentiles"), "50 99.99 16 10");
    let lat = |r: &str| failed("latency-tracking-info-percentiles", r);
    assert_eq!(
        set_err(&mut c, "latency-tracking-info-percentiles", "101"),
        lat("latency-tracking-info-percentiles parameters should sit between [0.0,100.0]")
    );
    assert_eq!(
        set_err(&mut c, "latency-tracking-info-percentiles", "abc"),
        lat("Invalid latency-tracking-info-percentiles parameters")
    );
    set(&mut c, &[("latency-tracking-info-percentiles", "")]).unwrap();
    assert_eq!(c.latency_tracking_info_percentiles(), Vec::<f64>::new());
}

#[test]
fn set_refusals() {
    let mut c = Config::defaults();
    assert_eq!(set_err(&mut c, "foo", "bar"), "ERR Unknown option or number of arguments for CONFIG SET - 'foo'");
    assert_eq!(set_err(&mut c, "DAEMONIZE", "yes"), failed("DAEMONIZE", "can't set immutable config"));
    assert_eq!(set_err(&mut c, "slaveof", "no one"), failed("slaveof", "can't set immutable config"));
    assert_eq!(set_err(&mut c, "dir", "/tmp"), failed("dir", "can't set protected config"));
    assert_eq!(set(&mut c, &[("maxmemory", "1"), ("MAXMEMORY", "2")]), Err(failed("MAXMEMORY", "duplicate parameter")));
    // A name and its alias are separate entries for this check, as in Redis.
    assert_eq!(set(&mut c, &[("slave-priority", "1"), ("replica-priority", "2")]), Ok(vec!["replica-priority"]));
    assert_eq!(c.get_i64("replica-priority"), 2);
    // The first problem wins.
    assert_eq!(
        set(&mut c, &[("daemonize", "yes"), ("foo", "1")]),
        Err(failed("daemonize", "can't set immutable config"))
    );
    assert_eq!(
        set(&mut c, &[("maxmemory", "1"), ("foo", "1"), ("daemonize", "yes")]),
        Err("ERR Unknown option or number of arguments for CONFIG SET - 'foo'".to_string())
    );
    // While loading, DENY_LOADING directives get -LOADING.
    let loading = SetContext { local_client: true, loading: true };
    assert_eq!(
        set_ctx(&mut c, "appendonly", "yes", loading),
        Err("LOADING Redis is loading the dataset in memory".into())
    );
    assert!(set_ctx(&mut c, "loglevel", "debug", loading).is_ok());
    // An alias's failure is reported under the alias.
    assert_eq!(
        set_err(&mut c, "slave-priority", "x"),
        failed("slave-priority", "argument couldn't be parsed into an integer")
    );
    assert_eq!(set_err(&mut c, "MAXMEMORY", "x"), failed("maxmemory", "argument must be a memory value"));
}

#[test]
fn protected_configs_follow_enable_protected_configs() {
    let _cwd = cwd_lock();
    let here = std::env::current_dir().unwrap();
    let here = here.to_str().unwrap();
    let local = SetContext { local_client: true, loading: false };
    let remote = SetContext::default();

    let mut c = load(&["--enable-protected-configs", "local"]).unwrap();
    assert!(set_ctx(&mut c, "dbfilename", "x.rdb", local).is_ok());
    assert_eq!(set_ctx(&mut c, "dbfilename", "y.rdb", remote), Err(failed("dbfilename", "can't set protected config")));
    assert!(c.allows_action("enable-protected-configs", true));
    assert!(!c.allows_action("enable-debug-command", true));

    let mut c = load(&["--enable-protected-configs", "yes"]).unwrap();
    assert_eq!(set_err(&mut c, "dir", "/nonexistent"), failed("dir", "No such file or directory"));
    assert_eq!(set_err(&mut c, "dir", "/etc/passwd"), failed("dir", "Not a directory"));
    assert_eq!(
        set_err(&mut c, "dbfilename", "a/b"),
        failed("dbfilename", "dbfilename can't be a path, just a filename")
    );
    // A failure after `dir` was set goes back to the old directory.
    let tmp = TempDir::new("dir");
    assert!(set(&mut c, &[("dir", path_str(&tmp.0)), ("maxmemory", "bad")]).is_err());
    assert_eq!(get1(&c, "dir"), here);
    assert_eq!(set(&mut c, &[("dir", path_str(&tmp.0))]), Ok(vec!["dir"]));
    assert_eq!(get1(&c, "dir"), std::fs::canonicalize(&tmp.0).unwrap().to_str().unwrap());
    set(&mut c, &[("dir", here)]).unwrap();
}

#[test]
fn set_is_all_or_nothing() {
    // introspection.tcl "CONFIG SET rollback on set error".
    let mut c = Config::defaults();
    set(&mut c, &[("maxmemory", "10000002")]).unwrap();
    let before = c.get(&[b"*"]);
    let e = set(
        &mut c,
        &[
            ("maxmemory", "10000001"),
            ("save", "1 1"),
            ("bind", "1.2.3.4"),
            ("maxmemory-clients", "200%"),
            ("client-query-buffer-limit", "invalid"),
        ],
    );
    assert_eq!(e, Err(failed("maxmemory-clients", "percentage argument must be less or equal to 100")));
    assert_eq!(c.get(&[b"*"]), before);
    assert_eq!(get1(&c, "maxmemory"), "10000002");

    // "CONFIG SET with multiple args": all applied, changed names returned.
    let changed = set(&mut c, &[("maxmemory", "10000001"), ("repl-backlog-size", "10000002"), ("save", "3000 5")]);
    assert_eq!(changed, Ok(vec!["maxmemory", "repl-backlog-size", "save"]));
    assert_eq!(get1(&c, "save"), "3000 5");
}

// ---------------------------------------------------------------- start-up

const DEFAULT_CONF: &str = "# Redis configuration for testing.

always-show-logo yes
notify-keyspace-events KEA
daemonize no
pidfile /var/run/redis.pid
port 6379
timeout 0
bind 127.0.0.1
loglevel verbose
logfile ''
databases 16
latency-monitor-threshold 1
repl-diskless-sync-delay 0

# Note the infrastructure in server.tcl uses a dict, we can't provide several save directives
save 900 1

rdbcompression yes
dbfilename dump.rdb
dir ./

slave-serve-stale-data yes
appendonly no
appendfsync everysec
no-appendfsync-on-rewrite no
activerehashing yes

enable-protected-configs yes
enable-debug-command yes
enable-module-command yes

propagation-error-behavior panic";

/// The Redis source tree the suite runs against, when present.
fn redis_source() -> Option<PathBuf> {
    let dir = std::env::var_os("REDIS_SRC")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/redis-suite/redis-7.0.15")))?;
    dir.join("redis.conf").exists().then_some(dir)
}

#[test]
fn the_test_suites_default_conf() {
    let _cwd = cwd_lock();
    let tmp = TempDir::new("default");
    let conf = tmp.file("default.conf", DEFAULT_CONF);
    let c = load(&[path_str(&conf)]).unwrap();
    assert_eq!(get1(&c, "save"), "900 1");
    assert_eq!(get1(&c, "notify-keyspace-events"), "AKE");
    assert_eq!(c.bind_addrs(), vec!["127.0.0.1".to_string()]);
    assert_eq!(c.get_enum("loglevel"), "verbose");
    assert_eq!(c.get_str("enable-debug-command"), "yes");
    assert_eq!(c.get_enum("propagation-error-behavior"), "panic");
    assert!(c.get_bool("replica-serve-stale-data"));
    assert_eq!(c.config_file().as_deref(), Some(path_str(&conf)));
    // introspection.tcl "CONFIG save params special case handled properly".
    let conf = path_str(&conf);
    assert_eq!(get1(&load(&[conf, "--save", "100", "100"]).unwrap(), "save"), "900 1 100 100");
    assert_eq!(get1(&load(&[conf, "--save", ""]).unwrap(), "save"), "");
    // The copy in the Redis source tree, when it is around.
    if let Some(src) = redis_source() {
        let c = load(&[path_str(&src.join("tests/assets/default.conf"))]).unwrap();
        assert_eq!(get1(&c, "save"), "900 1");
        let c = load(&[path_str(&src.join("tests/assets/minimal.conf"))]).unwrap();
        assert_eq!(get1(&c, "save"), "3600 1 300 100 60 10000");
    }
}

#[test]
fn the_shipped_redis_conf() {
    let _cwd = cwd_lock();
    let Some(src) = redis_source() else {
        eprintln!("redis-7.0.15 sources not found (set REDIS_SRC); skipping redis.conf");
        return;
    };
    let c = load(&[path_str(&src.join("redis.conf"))]).unwrap();
    // A few of its active lines.
    assert_eq!(c.bind_addrs(), vec!["127.0.0.1".to_string(), "-::1".to_string()]);
    assert_eq!(get1(&c, "pidfile"), "/var/run/redis_6379.pid");
    assert_eq!(c.get_i64("tcp-backlog"), 511);
    assert_eq!(get1(&c, "save"), "3600 1 300 100 60 10000");
    assert_eq!(get1(&c, "appendfilename"), "appendonly.aof");
    assert_eq!(c.get_i64("hz"), 10);
}

#[test]
fn argv_options() {
    // introspection.tcl's command line tests.
    let c = load(&["--maxmemory 700mb", "--maxmemory-policy volatile-lru"]).unwrap();
    assert_eq!(get1(&c, "maxmemory"), "734003200");
    assert_eq!(c.get_enum("maxmemory-policy"), "volatile-lru");
    let c = load(&["--proc-title-template", "--my--title--template", "--loglevel", "verbose"]).unwrap();
    assert_eq!(get1(&c, "proc-title-template"), "--my--title--template");
    assert_eq!(c.get_enum("loglevel"), "verbose");
    let c = load(&["--save", "--loglevel", "verbose"]).unwrap();
    assert_eq!(get1(&c, "save"), "");
    let c = load(&["--loglevel", "verbose", "--save"]).unwrap();
    assert_eq!((get1(&c, "save"), c.get_enum("loglevel")), (String::new(), "verbose"));
    let c = load(&["--proc-title-template", "--save", "--save", "", "--loglevel", "verbose"]).unwrap();
    assert_eq!(get1(&c, "proc-title-template"), "--save");
    assert_eq!(get1(&c, "save"), "");
    let c = load(&["--shutdown-on-sigint", "nosave", "force", "now", "--shutdown-on-sigterm", "nosave force"]).unwrap();
    assert_eq!(get1(&c, "shutdown-on-sigint"), "nosave now force");
    assert_eq!(get1(&c, "shutdown-on-sigterm"), "nosave force");
    let c = load(&["--requirepass", "a b\"c"]).unwrap();
    assert_eq!(get1(&c, "requirepass"), "a b\"c");
    let c = load(&["--save", "60 1 30 2", "--save", "10 3"]).unwrap();
    assert_eq!(get1(&c, "save"), "60 1 30 2 10 3", "later save lines add up");
    // Deprecated directives are accepted and ignored.
    assert!(load(&["--list-max-ziplist-entries", "5", "--lua-replicate-commands", "yes"]).is_ok());
    // No arguments at all: the defaults, no file.
    let c = load(&[]).unwrap();
    assert_eq!(c.config_file(), None);
}

#[test]
fn argv_errors() {
    let e = |list: &[&str]| fatal_at(list);
    let wrong = "wrong number of arguments".to_string();
    assert_eq!(e(&["--port"]), (2, "port".into(), wrong.clone()));
    assert_eq!(e(&["--port", "6380", "--loglevel"]), (3, "loglevel".into(), wrong.clone()));
    assert_eq!(e(&["--port", "6379", "6380"]), (2, r#"port "6379" "6380""#.into(), wrong.clone()));
    assert_eq!(e(&["--port", "--loglevel", "verbose"]), (2, r#"port "--loglevel" "verbose""#.into(), wrong.clone()));
    assert_eq!(
        e(&["--port", "--bla", "--loglevel", "verbose"]),
        (2, r#"port "--bla""#.into(), "argument couldn't be parsed into an integer".into())
    );
    let (n, line, reason) = e(&["--logfile", "--my--log--file", "--loglevel", "--bla"]);
    assert_eq!((n, line.as_str()), (3, r#"loglevel "--bla""#));
    assert!(reason.starts_with("argument(s) must be one of the following"));
    let (_, line, reason) = e(&["--shutdown-on-sigint"]);
    assert_eq!(line, "shutdown-on-sigint");
    assert!(reason.starts_with("argument(s) must be one of the following"));
    assert_eq!(
        e(&["--replicaof", "127.0.0.1", "abc"]),
        (2, r#"replicaof "127.0.0.1" "abc""#.into(), "Invalid master port".into())
    );
    assert_eq!(e(&["--replicaof", "--127.0.0.1", "--abc"]), (2, r#"replicaof "--127.0.0.1""#.into(), wrong.clone()));
    let bad = "Bad directive or wrong number of arguments".to_string();
    assert_eq!(e(&["--foo", "bar"]), (2, r#"foo "bar""#.into(), bad.clone()));
    assert_eq!(e(&["-x"]), (2, r#""-x""#.into(), bad.clone()));
    assert_eq!(e(&["--rename-command", "foo"]), (2, r#"rename-command "foo""#.into(), bad.clone()));
    assert_eq!(e(&["--user"]), (2, "user".into(), bad.clone()));
    assert_eq!(e(&["--mod.conf"]), (2, "mod.conf".into(), "Module config specified without value".into()));
    assert_eq!(
        e(&["--sentinel", "monitor", "x"]),
        (2, r#"sentinel "monitor" "x""#.into(), "sentinel directive while not in sentinel mode".into())
    );
    // A multi-argument value is split again; unbalanced quotes inside it
    // leave no arguments at all, which `save` takes as "no save points".
    assert_eq!(get1(&load(&["--save", "\"a"]).unwrap(), "save"), "");
    assert_eq!(e(&["--dir", "/nonexistent"]), (2, r#"dir "/nonexistent""#.into(), "No such file or directory".into()));

    let text = load(&["--port"]).unwrap_err().to_string();
    assert_eq!(
        text,
        "\n*** FATAL CONFIG FILE ERROR (Redis 7.0.15) ***\nReading the configuration file, at line 2\n>>> 'port'\nwrong number of arguments"
    );
    let text = load(&["--logfile", "/nonexistent/dir/log"]).unwrap_err().to_string();
    assert_eq!(
        text,
        "\n*** FATAL CONFIG FILE ERROR (Redis 7.0.15) ***\nCan't open the log file: No such file or directory"
    );
    let text = load(&["--cluster-enabled", "yes", "--replicaof", "1.2.3.4", "5"]).unwrap_err().to_string();
    assert_eq!(
        text,
        "\n*** FATAL CONFIG FILE ERROR (Redis 7.0.15) ***\nreplicaof directive not allowed in cluster mode"
    );
}

#[test]
fn config_file_errors() {
    let tmp = TempDir::new("errors");
    let missing = tmp.0.join("nonexist.conf");
    assert_eq!(
        load(&[path_str(&missing)]).unwrap_err().to_string(),
        format!("Fatal error, can't open config file '{}': No such file or directory", path_str(&missing))
    );
    let bad = tmp.file("bad.conf", "port 7000\n\n# comment\n   save 10 10   \nmaxmemory 10x\n");
    assert_eq!(
        fatal(load(&[path_str(&bad)]).unwrap_err()),
        (Some((5, "maxmemory 10x".to_string())), "argument must be a memory value".to_string())
    );
    let quotes = tmp.file("quotes.conf", "port \"7000\"x\n");
    assert_eq!(
        fatal(load(&[path_str(&quotes)]).unwrap_err()),
        (Some((1, "port \"7000\"x".to_string())), "Unbalanced quotes in configuration line".to_string())
    );
    // An error in an included file reports that file's line.
    let outer = tmp.file("outer.conf", &format!("port 7000\r\ninclude {}\n", path_str(&bad)));
    assert_eq!(
        fatal(load(&[path_str(&outer)]).unwrap_err()),
        (Some((5, "maxmemory 10x".to_string())), "argument must be a memory value".to_string())
    );
    // "\x41" inside quotes, a form feed line, CRLF endings.
    let odd = tmp.file("odd.conf", "\x0c\r\nport 7000\r\nmasteruser \"a\\x41\"\r\n");
    assert_eq!(get1(&load(&[path_str(&odd)]).unwrap(), "masteruser"), "aA");
    // A NUL cuts the rest of its fgets chunk, newline included, as in Redis.
    let nul = tmp.file("nul.conf", "port 7001\0garbage\nhz 20\n");
    assert_eq!(
        fatal(load(&[path_str(&nul)]).unwrap_err()),
        (Some((1, "port 7001hz 20".to_string())), "wrong number of arguments".to_string())
    );
}

#[test]
fn stdin_and_precedence() {
    let tmp = TempDir::new("stdin");
    let conf = tmp.file("a.conf", "port 7000\nmaxmemory 1mb\n");
    let c = load_stdin(&[path_str(&conf), "--maxmemory", "2mb", "-"], "maxmemory 3mb\nhz 20\n").unwrap();
    // File, then stdin, then the options: the options win.
    assert_eq!((c.get_i64("port"), c.get_i64("maxmemory"), c.get_i64("hz")), (7000, 2 << 20, 20));
    let c = load_stdin(&["-"], "port 7002\n").unwrap();
    assert_eq!((c.get_i64("port"), c.config_file()), (7002, None));
    // Line numbers count the stdin text, then a newline, then the options.
    assert_eq!(
        fatal(load_stdin(&["-", "--port", "7791", "--foo"], "").unwrap_err()),
        (Some((3, "foo".to_string())), "Bad directive or wrong number of arguments".to_string())
    );
    // "-" in the middle is just a value.
    assert_eq!(fatal_at(&["--port", "1", "-", "--hz", "2"]).1, r#"port "1" "-""#);
}

#[test]
fn include_and_file_only_directives() {
    let tmp = TempDir::new("include");
    tmp.file("inc1.conf", "save 5 5\nmaxmemory 1mb\n");
    tmp.file("inc2.conf", "maxmemory 2mb\n");
    let pattern = tmp.0.join("inc*.conf");
    let c = load(&["--include", path_str(&pattern)]).unwrap();
    assert_eq!(c.get_i64("maxmemory"), 2 << 20, "matches are read in sorted order");
    assert_eq!(get1(&c, "save"), "5 5");
    assert!(load(&["--include", path_str(&tmp.0.join("none*.conf"))]).is_ok(), "no match is fine");
    let missing = tmp.0.join("missing.conf");
    assert_eq!(
        load(&["--include", path_str(&missing)]).unwrap_err(),
        ConfigError::CantOpen { path: path_str(&missing).to_string(), reason: "No such file or directory".into() }
    );
    // After an include, a `save` line replaces instead of adding (Redis
    // forgets it is reading a file once the included one ends).
    let with_include = tmp
        .file("with.conf", &format!("save 7 7\ninclude {}\nsave 8 8\nsave 9 9\n", path_str(&tmp.0.join("inc1.conf"))));
    assert_eq!(get1(&load(&[path_str(&with_include)]).unwrap(), "save"), "9 9");

    let conf = tmp.file(
        "file-only.conf",
        "rename-command flushdb badger\nrename-command keys \"\"\nuser bob on >pw ~* +@all\nloadmodule /x/m.so a b\nmod.opt 1 2\nmod.opt 3\nsentinel\n",
    );
    let c = load(&[path_str(&conf)]).unwrap();
    let fd = c.file_directives();
    let renames: Vec<(String, String)> = fd.rename_commands.iter().map(|r| r.value.clone()).collect();
    assert_eq!(renames, vec![("flushdb".into(), "badger".into()), ("keys".into(), "".into())]);
    assert_eq!(fd.users[0].value, vec!["bob", "on", ">pw", "~*", "+@all"]);
    assert_eq!(fd.users[0].line, 3);
    assert_eq!(fd.load_modules[0].value, vec!["/x/m.so", "a", "b"]);
    assert_eq!(fd.module_configs, vec![("mod.opt".to_string(), "3".to_string())]);
    let e = ConfigError::at_line(&fd.users[0], "Error in user declaration 'x': Syntax error");
    assert_eq!(fatal(e).0, Some((3, "user bob on >pw ~* +@all".to_string())));

    // With the command table, renames are checked as Redis does.
    let cmds = ["flushdb", "keys", "get"];
    let check = |list: &[&str]| load::from_args(&args(list), &mut Cursor::new(Vec::new()), Some(&cmds));
    assert!(check(&["--rename-command", "FLUSHDB", "badger"]).is_ok());
    assert_eq!(fatal(check(&["--rename-command", "nope", "x"]).unwrap_err()).1, "No such command in rename-command");
    assert_eq!(fatal(check(&["--rename-command", "keys", "get"]).unwrap_err()).1, "Target command name already exists");
    assert_eq!(
        fatal(check(&["--rename-command", "keys", "k2", "--rename-command", "keys", "k3"]).unwrap_err()).1,
        "No such command in rename-command"
    );
}

// ---------------------------------------------------------------- REWRITE

#[test]
fn rewrite_without_file() {
    let c = Config::defaults();
    assert_eq!(c.rewrite().unwrap_err().to_string(), "ERR The server is running without a config file");
}

#[test]
fn rewrite_of_an_empty_file() {
    let _cwd = cwd_lock();
    let tmp = TempDir::new("rw-empty");
    let conf = tmp.file("empty.conf", "");
    let mut c = load(&[path_str(&conf)]).unwrap();
    set(&mut c, &[("maxmemory", "10mb"), ("hz", "20")]).unwrap();
    c.rewrite().unwrap();
    let cwd = std::env::current_dir().unwrap();
    assert_eq!(
        std::fs::read_to_string(&conf).unwrap(),
        format!(
            "# Generated by CONFIG REWRITE\nhz 20\nmaxmemory 10mb\ndir {}\nsave 3600 1\nsave 300 100\nsave 60 10000\nlatency-tracking-info-percentiles 50 99 99.9\nuser default on nopass ~* &* +@all\n",
            repr(cwd.to_str().unwrap().as_bytes())
        )
    );
}

#[test]
fn rewrite_in_place() {
    let _cwd = cwd_lock();
    let tmp = TempDir::new("rw");
    let inc = tmp.file("inc.conf", "maxmemory-clients 5%\n");
    let dir = std::env::current_dir().unwrap();
    let dir = dir.to_str().unwrap();
    let original = format!(
        "# top comment
port 7790
   
slave-read-only no
save 900 1
save 300 10


maxmemory 100mb
bind 127.0.0.1 -::1
hash-max-ziplist-entries 20
hash-max-listpack-entries 21
MaxMemory-Policy allkeys-lru
requirepass \"a b\\x01\"
client-output-buffer-limit pubsub 32mb 8mb 60
loglevel notice
dir {dir}
logfile \"\"
unixsocketperm 700
rename-command flushdb \"\"
include {}
list-max-ziplist-entries 3
",
        path_str(&inc)
    );
    let conf = tmp.file("redis.conf", &original);
    let mut c = load(&[path_str(&conf)]).unwrap();
    assert_eq!(c.get_i64("hash-max-listpack-entries"), 21);
    set(
        &mut c,
        &[
            ("maxmemory", "1gb"),
            ("replica-read-only", "yes"),
            ("save", "10 1"),
            ("hz", "11"),
            ("slave-priority", "5"),
            ("notify-keyspace-events", "Ex"),
            ("oom-score-adj-values", "1 2 3"),
            ("shutdown-on-sigterm", "nosave now"),
        ],
    )
    .unwrap();
    // Lines edited in the file since it was loaded.
    let mut f = std::fs::OpenOptions::new().append(true).open(&conf).unwrap();
    use std::io::Write;
    f.write_all(b"unknown-directive-line x\n\"unbalanced\n   sentinel foo   \nSLAVEOF 1.2.3.4 5\nbind 1.1.1.1\nkey-load-delay 5\n\n\n")
        .unwrap();
    drop(f);
    c.rewrite().unwrap();
    let expected = format!(
        "# top comment
port 7790

replica-read-only yes
save 10 1

maxmemory 1gb
bind 127.0.0.1 -::1
hash-max-listpack-entries 21

maxmemory-policy allkeys-lru
requirepass \"a b\\x01\"
client-output-buffer-limit normal 0 0 0
loglevel notice
dir {}
logfile \"\"
unixsocketperm 700
rename-command flushdb \"\"
include {}
# ??? list-max-ziplist-entries 3
# ??? unknown-directive-line x
# ??? \"unbalanced
sentinel foo

key-load-delay 0

# Generated by CONFIG REWRITE
shutdown-on-sigterm nosave now
replica-priority 5
hz 11
maxmemory-clients 5%
oom-score-adj-values 1 2 3
notify-keyspace-events \"xE\"
latency-tracking-info-percentiles 50 99 99.9
user default on #7c7f578472659c8fb84b647fa4640a2dafea4f9a559b04a6e44b8bb0168f31df ~* &* +@all
",
        repr(dir.as_bytes()),
        path_str(&inc)
    );
    assert_eq!(std::fs::read_to_string(&conf).unwrap(), expected);
}

#[test]
fn rewrite_round_trip() {
    let _cwd = cwd_lock();
    let tmp = TempDir::new("rw-round");
    let conf = tmp.file("r.conf", "port 7000\nsave 900 1\n");
    let mut c = load(&[path_str(&conf)]).unwrap();
    set(
        &mut c,
        &[
            ("save", ""),
            ("bind", ""),
            ("latency-tracking-info-percentiles", ""),
            ("client-output-buffer-limit", "normal 1mb 2mb 3 pubsub 5gb 1kb 0"),
            ("maxmemory-clients", "7%"),
            ("requirepass", "p\"w\n"),
            ("masterauth", "x y"),
            ("shutdown-on-sigint", "save now"),
            ("replica-announce-ip", "10.0.0.1"),
            ("proc-title-template", "{title} {port}"),
            ("appendonly", "yes"),
            ("maxmemory-policy", "allkeys-lfu"),
            ("list-max-ziplist-size", "-5"),
        ],
    )
    .unwrap();
    c.set_acl_users(vec!["default on nopass ~* &* +@all".into(), "zed off".into()]);
    c.rewrite().unwrap();
    let text = std::fs::read_to_string(&conf).unwrap();
    assert!(text.contains("\nsave \"\"\n") && text.contains("\nbind \"\"\n"), "{text}");
    assert!(text.ends_with("user default on nopass ~* &* +@all\nuser zed off\n"), "{text}");
    let again = load(&[path_str(&conf)]).unwrap();
    assert_eq!(again.get(&[b"*"]), c.get(&[b"*"]));

    // A forced rewrite of everything also reads back to the same values.
    c.rewrite_force_all().unwrap();
    let again = load(&[path_str(&conf)]).unwrap();
    assert_eq!(again.get(&[b"*"]), c.get(&[b"*"]));
    let text = std::fs::read_to_string(&conf).unwrap();
    assert!(text.contains("\ntcp-backlog 511\n"));
    assert!(!text.contains("\nunixsocket "), "unset strings stay out");
}

#[test]
fn rewrite_errors() {
    let tmp = TempDir::new("rw-err");
    let mut c = Config::defaults();
    c.file = Some(tmp.0.clone());
    assert_eq!(c.rewrite().unwrap_err().to_string(), "ERR Rewriting config file: Is a directory");
    c.file = Some(tmp.0.join("missing-dir/x.conf"));
    assert_eq!(c.rewrite().unwrap_err().to_string(), "ERR Rewriting config file: No such file or directory");
    // A file that does not exist (yet) is created.
    c.file = Some(tmp.0.join("new.conf"));
    c.rewrite().unwrap();
    assert!(std::fs::read_to_string(tmp.0.join("new.conf")).unwrap().starts_with("# Generated by CONFIG REWRITE\n"));
}
