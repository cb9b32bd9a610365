//! Blocking pops through the real door: a client waits until another one
//! pushes, until its timeout, or until CLIENT UNBLOCK; waiters are served
//! in the order they blocked. Each assertion holds for Redis 7.0 too.

use std::time::{Duration, Instant};

use corvid_tests::{eventually, info_field, multibulk, RawConn, Server};

fn blocked_clients(c: &mut RawConn) -> String {
    let info = c.cmd(&["INFO", "clients"]).text();
    info_field(&info, "blocked_clients").unwrap_or_default().to_string()
}

#[test]
fn waiters_are_served_by_pushes_in_order() {
    let server = Server::start(&[]);
    let mut c = server.raw();
    let mut first = server.raw();
    let mut second = server.raw();
    first.send(&multibulk(&["BLPOP", "a", "b", "0"]));
    eventually(Duration::from_secs(5), "first blocked", || blocked_clients(&mut c) == "1");
    second.send(&multibulk(&["BLPOP", "b", "0"]));
    eventually(Duration::from_secs(5), "second blocked", || blocked_clients(&mut c) == "2");
    // One element: the client that blocked first gets it.
    assert_eq!(c.cmd(&["RPUSH", "b", "x"]), ":1\r\n");
    assert_eq!(first.read_reply(), "*2\r\n$1\r\nb\r\n$1\r\nx\r\n");
    assert_eq!(c.cmd(&["RPUSH", "b", "y", "z"]), ":2\r\n");
    assert_eq!(second.read_reply(), "*2\r\n$1\r\nb\r\n$1\r\ny\r\n");
    assert_eq!(c.cmd(&["LRANGE", "b", "0", "-1"]), "*1\r\n$1\r\nz\r\n");
    assert_eq!(blocked_clients(&mut c), "0");
    // Data already there: no waiting.
    assert_eq!(c.cmd(&["BRPOP", "b", "0"]), "*2\r\n$1\r\nb\r\n$1\r\nz\r\n");
    assert_eq!(c.cmd(&["EXISTS", "b"]), ":0\r\n");
    // BLMOVE moves what arrives; BZPOPMIN waits for a sorted set.
    first.send(&multibulk(&["BLMOVE", "src", "dst", "LEFT", "RIGHT", "0"]));
    second.send(&multibulk(&["BZPOPMIN", "z", "0"]));
    eventually(Duration::from_secs(5), "both blocked", || blocked_clients(&mut c) == "2");
    c.cmd(&["LPUSH", "src", "m"]);
    assert_eq!(first.read_reply(), "$1\r\nm\r\n");
    assert_eq!(c.cmd(&["LRANGE", "dst", "0", "-1"]), "*1\r\n$1\r\nm\r\n");
    c.cmd(&["ZADD", "z", "2", "two", "1", "one"]);
    assert_eq!(second.read_reply(), "*3\r\n$1\r\nz\r\n$3\r\none\r\n$1\r\n1\r\n");
}

#[test]
fn timeouts_errors_and_unblock() {
    let server = Server::start(&[]);
    let mut c = server.raw();
    let started = Instant::now();
    assert_eq!(c.cmd(&["BLPOP", "nokey", "0.2"]), "*-1\r\n");
    assert!(started.elapsed() >= Duration::from_millis(200));
    assert_eq!(c.cmd(&["BLPOP", "k", "-1"]), "-ERR timeout is negative\r\n");
    assert_eq!(c.cmd(&["BLPOP", "k", "x"]), "-ERR timeout is not a float or out of range\r\n");
    c.cmd(&["SET", "str", "v"]);
    assert_eq!(
        c.cmd(&["BLPOP", "str", "0"]),
        "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"
    );
    // Inside MULTI a blocking pop does not wait.
    c.cmd(&["MULTI"]);
    c.cmd(&["BLPOP", "nokey", "0"]);
    assert_eq!(c.cmd(&["EXEC"]), "*1\r\n*-1\r\n");
    // CLIENT UNBLOCK ends the wait as a timeout or as an error.
    let mut waiter = server.raw();
    let id = waiter.cmd(&["CLIENT", "ID"]).text();
    let id = id.trim_start_matches(':').trim_end();
    waiter.send(&multibulk(&["BRPOP", "nokey", "0"]));
    eventually(Duration::from_secs(5), "waiter blocked", || blocked_clients(&mut c) == "1");
    assert!(c.cmd(&["CLIENT", "LIST", "ID", id]).contains("flags=b "));
    assert_eq!(c.cmd(&["CLIENT", "UNBLOCK", id]), ":1\r\n");
    assert_eq!(waiter.read_reply(), "*-1\r\n");
    assert_eq!(c.cmd(&["CLIENT", "UNBLOCK", id]), ":0\r\n");
    waiter.send(&multibulk(&["BZPOPMAX", "nokey", "0"]));
    eventually(Duration::from_secs(5), "waiter blocked again", || blocked_clients(&mut c) == "1");
    assert_eq!(c.cmd(&["CLIENT", "UNBLOCK", id, "ERROR"]), ":1\r\n");
    assert_eq!(waiter.read_reply(), "-UNBLOCKED client unblocked via CLIENT UNBLOCK\r\n");
    assert_eq!(
        c.cmd(&["CLIENT", "UNBLOCK", id, "LATER"]),
        "-ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR\r\n"
    );
}

/// A blocking command counts once, as Redis's call() and updateStatsOnUnblock
/// count it: a served BLPOP is one command (total_commands_processed) and one
/// latency sample; a timed-out one is a call with no latency sample; a WAIT
/// that waits is one call, one command, and no sample.
#[test]
fn blocked_commands_count_once_in_stats_and_latency() {
    let server = Server::start(&[]);
    let mut c = server.raw();
    let mut w = server.raw();
    let total = |c: &mut RawConn| -> u64 {
        let info = c.cmd(&["INFO", "stats"]).text();
        info_field(&info, "total_commands_processed").unwrap().parse().unwrap()
    };
    assert_eq!(c.cmd(&["CONFIG", "RESETSTAT"]), "+OK\r\n");
    assert_eq!(w.cmd(&["BLPOP", "nokey", "0.05"]), "*-1\r\n");
    let info = c.cmd(&["INFO", "commandstats"]).text();
    assert!(info_field(&info, "cmdstat_blpop").unwrap().starts_with("calls=1,"), "{info}");
    let info = c.cmd(&["INFO", "latencystats"]).text();
    assert_eq!(info_field(&info, "latency_percentiles_usec_blpop"), None, "{info}");

    w.send(&multibulk(&["BLPOP", "q", "0"]));
    eventually(Duration::from_secs(5), "blocked", || blocked_clients(&mut c) == "1");
    let before = total(&mut c);
    assert_eq!(c.cmd(&["RPUSH", "q", "x"]), ":1\r\n");
    assert_eq!(w.read_reply(), "*2\r\n$1\r\nq\r\n$1\r\nx\r\n");
    // INFO stats and RPUSH; the BLPOP was counted when it blocked.
    assert_eq!(total(&mut c), before + 2);
    let info = c.cmd(&["INFO", "commandstats"]).text();
    assert!(info_field(&info, "cmdstat_blpop").unwrap().starts_with("calls=2,"), "{info}");
    let info = c.cmd(&["INFO", "latencystats"]).text();
    let line = info_field(&info, "latency_percentiles_usec_blpop").unwrap_or_default();
    assert!(line.starts_with("p50=") && line.contains(",p99=") && line.contains(",p99.9="), "{info}");

    // No replica acknowledges: WAIT waits out its timeout.
    let before = total(&mut c);
    assert_eq!(w.cmd(&["WAIT", "1", "50"]), ":0\r\n");
    assert_eq!(total(&mut c), before + 2);
    let info = c.cmd(&["INFO", "commandstats"]).text();
    assert!(info_field(&info, "cmdstat_wait").unwrap().starts_with("calls=1,"), "{info}");
    let info = c.cmd(&["INFO", "latencystats"]).text();
    assert_eq!(info_field(&info, "latency_percentiles_usec_wait"), None, "{info}");
    // One that need not wait is timed.
    assert_eq!(w.cmd(&["WAIT", "0", "50"]), ":0\r\n");
    let info = c.cmd(&["INFO", "latencystats"]).text();
    assert!(info_field(&info, "latency_percentiles_usec_wait").is_some(), "{info}");
}
