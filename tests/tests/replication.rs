//! Replication through the real door: a node made a replica with REPLICAOF
//! loads its master's dataset, follows its writes (TTLs as absolute times),
//! refuses writes of its own, acknowledges its offset so WAIT counts it, and
//! becomes a master again with REPLICAOF NO ONE. Each assertion holds for
//! Redis 7.0 too (both nodes redis-server then).

use std::time::{Duration, Instant};

use corvid_tests::Server;

/// Poll `f` until it holds or five seconds pass.
fn eventually(what: &str, mut f: impl FnMut() -> bool) {
    let start = Instant::now();
    while !f() {
        assert!(start.elapsed() < Duration::from_secs(5), "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn replica_follows_master_and_wait_counts_it() {
    // No diskless delay: a real redis-server master would wait 5 s for more replicas.
    let master = Server::start(&["--repl-diskless-sync-delay", "0"]);
    let replica = Server::start(&[]);
    let mut m = master.raw();
    let mut r = replica.raw();
    m.cmd(&["SET", "before", "sync"]);
    m.cmd(&["RPUSH", "list", "a", "b"]);
    assert_eq!(r.cmd(&["REPLICAOF", "127.0.0.1", &master.port().to_string()]), "+OK\r\n");
    assert_eq!(
        r.cmd(&["REPLICAOF", "127.0.0.1", &master.port().to_string()]),
        "+OK Already connected to specified master\r\n"
    );
    eventually("the link to come up", || r.cmd(&["INFO", "replication"]).text().contains("master_link_status:up"));
    assert_eq!(r.cmd(&["GET", "before"]), "$4\r\nsync\r\n");
    assert_eq!(r.cmd(&["LRANGE", "list", "0", "-1"]), "*2\r\n$1\r\na\r\n$1\r\nb\r\n");

    // Writes after the sync arrive; WAIT returns once the replica acknowledged them.
    m.cmd(&["SET", "ttl", "v", "EX", "100"]);
    m.cmd(&["INCR", "counter"]);
    assert_eq!(m.cmd(&["WAIT", "1", "5000"]), ":1\r\n");
    assert_eq!(r.cmd(&["GET", "counter"]), "$1\r\n1\r\n");
    assert_eq!(m.cmd(&["PEXPIRETIME", "ttl"]), r.cmd(&["PEXPIRETIME", "ttl"]), "the same absolute expiry");
    // A message published on the master reaches subscribers of the replica.
    let mut sub = replica.raw();
    sub.cmd(&["SUBSCRIBE", "events"]);
    assert_eq!(m.cmd(&["PUBLISH", "events", "hello"]), ":0\r\n");
    assert_eq!(sub.read_reply(), "*3\r\n$7\r\nmessage\r\n$6\r\nevents\r\n$5\r\nhello\r\n");
    // Nobody else replicates: WAIT for two gives up at its timeout with one.
    assert_eq!(m.cmd(&["WAIT", "2", "100"]), ":1\r\n");
    let role = m.cmd(&["ROLE"]).text();
    assert!(role.starts_with("*3\r\n$6\r\nmaster\r\n"), "{role}");

    // A read-only replica refuses writes; WAIT is for masters.
    assert_eq!(r.cmd(&["SET", "x", "1"]), "-READONLY You can't write against a read only replica.\r\n");
    assert!(r.cmd(&["WAIT", "0", "0"]).text().starts_with("-ERR WAIT cannot be used with replica instances."));
    let role = r.cmd(&["ROLE"]).text();
    assert!(role.starts_with("*5\r\n$5\r\nslave\r\n$9\r\n127.0.0.1\r\n"), "{role}");

    // Promoted, it keeps the data and takes writes; the old master's new
    // writes no longer arrive.
    assert_eq!(r.cmd(&["REPLICAOF", "NO", "ONE"]), "+OK\r\n");
    assert!(r.cmd(&["INFO", "replication"]).text().contains("role:master"));
    assert_eq!(r.cmd(&["SET", "x", "1"]), "+OK\r\n");
    m.cmd(&["SET", "after", "promotion"]);
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(r.cmd(&["EXISTS", "after"]), ":0\r\n");
    assert_eq!(r.cmd(&["GET", "counter"]), "$1\r\n1\r\n");
}

#[test]
fn replica_with_wrong_masterauth_stays_down() {
    let master = Server::start(&["--requirepass", "secret", "--repl-diskless-sync-delay", "0"]);
    let replica = Server::start(&["--masterauth", "wrong"]);
    let mut r = replica.raw();
    assert_eq!(r.cmd(&["SLAVEOF", "127.0.0.1", &master.port().to_string()]), "+OK\r\n");
    std::thread::sleep(Duration::from_millis(500));
    assert!(r.cmd(&["INFO", "replication"]).text().contains("master_link_status:down"));
    assert_eq!(r.cmd(&["CONFIG", "SET", "masterauth", "secret"]), "+OK\r\n");
    eventually("the link to come up", || r.cmd(&["INFO", "replication"]).text().contains("master_link_status:up"));
}
