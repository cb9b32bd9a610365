//! SLOWLOG GET, LEN, RESET and HELP, and what goes in the log: commands at
//! or over `slowlog-log-slower-than`, as sent (trimmed, secrets redacted),
//! with the client's address and name, EXEC's commands instead of EXEC, a
//! blocked command once it is served. Every assertion holds for Redis 7.0.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use corvid_tests::{eventually, info_field, Server};
use redis::Value;

#[derive(Debug)]
struct Entry {
    id: i64,
    time: i64,
    duration_us: i64,
    argv: Vec<String>,
    peer: String,
    name: String,
}

fn text(v: &Value) -> String {
    match v {
        Value::BulkString(b) => String::from_utf8_lossy(b).into_owned(),
        Value::SimpleString(s) => s.clone(),
        other => panic!("not a string: {other:?}"),
    }
}

fn int(v: &Value) -> i64 {
    match v {
        Value::Int(i) => *i,
        other => panic!("not an integer: {other:?}"),
    }
}

fn entries(reply: &Value) -> Vec<Entry> {
    let Value::Array(items) = reply else { panic!("not an array: {reply:?}") };
    items
        .iter()
        .map(|e| {
            let Value::Array(f) = e else { panic!("not an entry: {e:?}") };
            assert_eq!(f.len(), 6, "{e:?}");
            let Value::Array(argv) = &f[3] else { panic!("no arguments: {e:?}") };
            Entry {
                id: int(&f[0]),
                time: int(&f[1]),
                duration_us: int(&f[2]),
                argv: argv.iter().map(text).collect(),
                peer: text(&f[4]),
                name: text(&f[5]),
            }
        })
        .collect()
}

fn cmd(con: &mut redis::Connection, args: &[&str]) -> redis::RedisResult<Value> {
    let mut c = redis::cmd(args[0]);
    for a in &args[1..] {
        c.arg(*a);
    }
    c.query(con)
}

fn ok(con: &mut redis::Connection, args: &[&str]) -> Value {
    cmd(con, args).unwrap_or_else(|e| panic!("{args:?}: {e}"))
}

fn err(con: &mut redis::Connection, args: &[&str]) -> String {
    match cmd(con, args) {
        Err(e) => format!("{} {}", e.code().unwrap_or("?"), e.detail().unwrap_or("")),
        Ok(v) => panic!("{args:?} succeeded: {v:?}"),
    }
}

fn slowlog_get(con: &mut redis::Connection, count: &str) -> Vec<Entry> {
    entries(&ok(con, &["SLOWLOG", "GET", count]))
}

fn argvs(log: &[Entry]) -> Vec<Vec<&str>> {
    log.iter().map(|e| e.argv.iter().map(String::as_str).collect()).collect()
}

/// This connection's `ip:port`, as CLIENT INFO gives it.
fn own_addr(con: &mut redis::Connection) -> String {
    let info = text(&ok(con, &["CLIENT", "INFO"]));
    info.split(' ').find_map(|f| f.strip_prefix("addr=")).expect("addr= in CLIENT INFO").to_string()
}

#[test]
fn logs_every_command_newest_first_trimmed_with_its_client() {
    let server = Server::start(&[]);
    let mut con = server.client();
    let addr = own_addr(&mut con);
    ok(&mut con, &["CONFIG", "SET", "slowlog-log-slower-than", "0"]);
    ok(&mut con, &["SLOWLOG", "RESET"]);
    ok(&mut con, &["CLIENT", "SETNAME", "app"]);
    ok(&mut con, &["SET", "k", "v"]);
    let many: Vec<String> = (0..40).map(|i| i.to_string()).collect();
    let mut sadd = vec!["SADD", "s"];
    sadd.extend(many.iter().map(String::as_str));
    ok(&mut con, &sadd);
    let long = "x".repeat(200);
    ok(&mut con, &["SET", "big", &long]);
    // RESET itself is logged, after it emptied the log.
    assert_eq!(ok(&mut con, &["SLOWLOG", "LEN"]), Value::Int(5));

    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs() as i64;
    let log = slowlog_get(&mut con, "-1");
    assert_eq!(log.len(), 6, "{log:?}");
    let argv = argvs(&log);
    assert_eq!(argv[0], ["SLOWLOG", "LEN"]);
    let mut cut = "x".repeat(128);
    cut.push_str("... (72 more bytes)");
    assert_eq!(argv[1], ["SET", "big", cut.as_str()]);
    assert_eq!(argv[2].len(), 32);
    assert_eq!(argv[2][..3], ["SADD", "s", "0"]);
    assert_eq!(argv[2][30], "28");
    assert_eq!(argv[2][31], "... (11 more arguments)");
    assert_eq!(argv[3], ["SET", "k", "v"]);
    assert_eq!(argv[4], ["CLIENT", "SETNAME", "app"]);
    assert_eq!(argv[5], ["SLOWLOG", "RESET"]);
    for (i, e) in log.iter().enumerate() {
        assert_eq!(e.id, log[0].id - i as i64, "ids go down one by one: {log:?}");
        assert!((now - 5..=now + 1).contains(&e.time), "{e:?}");
        assert!(e.duration_us >= 0, "{e:?}");
        assert_eq!(e.peer, addr);
    }
    // The name is the client's once the command ran.
    let names: Vec<&str> = log.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(names, ["app", "app", "app", "app", "app", ""]);

    // A count limits the reply; 0 gives none; the default is 10.
    assert_eq!(slowlog_get(&mut con, "2").len(), 2);
    assert_eq!(slowlog_get(&mut con, "0").len(), 0);
    for _ in 0..12 {
        ok(&mut con, &["PING"]);
    }
    assert_eq!(entries(&ok(&mut con, &["SLOWLOG", "GET"])).len(), 10);
}

#[test]
fn threshold_length_reset_and_errors() {
    let server = Server::start(&["--enable-debug-command", "yes"]);
    let mut con = server.client();
    ok(&mut con, &["CONFIG", "SET", "slowlog-log-slower-than", "100000"]);
    ok(&mut con, &["SLOWLOG", "RESET"]);
    ok(&mut con, &["PING"]);
    assert_eq!(ok(&mut con, &["SLOWLOG", "LEN"]), Value::Int(0));
    ok(&mut con, &["DEBUG", "SLEEP", "0.15"]);
    let log = slowlog_get(&mut con, "-1");
    assert_eq!(argvs(&log), [["DEBUG", "SLEEP", "0.15"]]);
    assert!(log[0].duration_us >= 150_000, "{log:?}");

    // The log keeps the newest slowlog-max-len entries, shortened at once.
    ok(&mut con, &["CONFIG", "SET", "slowlog-log-slower-than", "0"]);
    ok(&mut con, &["CONFIG", "SET", "slowlog-max-len", "3"]);
    for _ in 0..10 {
        ok(&mut con, &["PING"]);
    }
    assert_eq!(ok(&mut con, &["SLOWLOG", "LEN"]), Value::Int(3));
    ok(&mut con, &["CONFIG", "SET", "slowlog-max-len", "1"]);
    assert_eq!(argvs(&slowlog_get(&mut con, "-1")), [["CONFIG", "SET", "slowlog-max-len", "1"]]);

    // Negative disables.
    ok(&mut con, &["CONFIG", "SET", "slowlog-max-len", "10", "slowlog-log-slower-than", "-1"]);
    assert_eq!(ok(&mut con, &["SLOWLOG", "RESET"]), Value::Okay);
    ok(&mut con, &["DEBUG", "SLEEP", "0.05"]);
    assert_eq!(ok(&mut con, &["SLOWLOG", "LEN"]), Value::Int(0));

    let count = "ERR count should be greater than or equal to -1";
    assert_eq!(err(&mut con, &["SLOWLOG", "GET", "-2"]), count);
    assert_eq!(err(&mut con, &["SLOWLOG", "GET", "x"]), count);
    assert_eq!(
        err(&mut con, &["SLOWLOG", "GET", "1", "2"]),
        "ERR unknown subcommand or wrong number of arguments for 'GET'. Try SLOWLOG HELP."
    );
    assert_eq!(err(&mut con, &["SLOWLOG", "NOPE"]), "ERR unknown subcommand 'NOPE'. Try SLOWLOG HELP.");
    assert_eq!(err(&mut con, &["SLOWLOG", "LEN", "1"]), "ERR wrong number of arguments for 'slowlog|len' command");
    let Value::Array(help) = ok(&mut con, &["SLOWLOG", "HELP"]) else { panic!("help is an array") };
    assert_eq!(help.len(), 12);
    assert_eq!(text(&help[0]), "SLOWLOG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:");
    assert_eq!(text(&help[1]), "GET [<count>]");
}

#[test]
fn secrets_are_redacted_and_exec_logs_its_commands() {
    let server = Server::start(&[]);
    let mut con = server.client();
    ok(&mut con, &["CONFIG", "SET", "slowlog-log-slower-than", "0"]);
    ok(&mut con, &["SLOWLOG", "RESET"]);
    // Refused (no password is set), still logged, and redacted.
    err(&mut con, &["AUTH", "secret"]);
    ok(&mut con, &["CONFIG", "SET", "maxmemory-samples", "5", "masterauth", "secret"]);
    ok(&mut con, &["ACL", "SETUSER", "someone", "on", ">secret"]);
    ok(&mut con, &["MULTI"]);
    ok(&mut con, &["SET", "a", "1"]);
    ok(&mut con, &["INCR", "a"]);
    ok(&mut con, &["EXEC"]);
    let log = slowlog_get(&mut con, "-1");
    assert_eq!(
        argvs(&log),
        vec![
            vec!["INCR", "a"],
            vec!["SET", "a", "1"],
            vec!["MULTI"],
            vec!["ACL", "SETUSER", "(redacted)", "(redacted)", "(redacted)"],
            vec!["CONFIG", "SET", "maxmemory-samples", "5", "masterauth", "(redacted)"],
            vec!["AUTH", "(redacted)"],
            vec!["SLOWLOG", "RESET"],
        ]
    );
}

#[test]
fn a_blocked_command_is_logged_when_served() {
    let server = Server::start(&[]);
    let mut con = server.client();
    ok(&mut con, &["CONFIG", "SET", "slowlog-log-slower-than", "0"]);
    let mut waiter = server.raw();
    waiter.send(&corvid_tests::raw::multibulk(&["BLPOP", "list", "0"]));
    eventually(Duration::from_secs(5), "the BLPOP blocks", || {
        let info = text(&ok(&mut con, &["INFO", "clients"]));
        info_field(&info, "blocked_clients") == Some("1")
    });
    ok(&mut con, &["SLOWLOG", "RESET"]);
    assert_eq!(ok(&mut con, &["SLOWLOG", "LEN"]), Value::Int(1), "not while it waits");
    ok(&mut con, &["RPUSH", "list", "x"]);
    assert_eq!(waiter.read_reply(), "*2\r\n$4\r\nlist\r\n$1\r\nx\r\n");
    let log = slowlog_get(&mut con, "-1");
    assert_eq!(argvs(&log)[..3], [vec!["BLPOP", "list", "0"], vec!["RPUSH", "list", "x"], vec!["SLOWLOG", "LEN"]]);
    assert_ne!(log[0].peer, log[1].peer, "the BLPOP is its own client's");
}
