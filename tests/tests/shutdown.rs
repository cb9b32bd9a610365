//! Shutdown through the real door (Redis 7.0's graceful shutdown): a master
//! asked to stop while its replica is behind waits for the replica to catch
//! up (SHUTDOWN blocks, INFO shows the time left), SHUTDOWN ABORT calls it
//! off, and SIGTERM waits the same way; a second SIGINT during the final
//! save exits at once. Each assertion holds for Redis 7.0
//! too (both nodes redis-server then).

use std::time::{Duration, Instant};

use corvid_tests::{info_field, Server};

fn eventually(what: &str, mut f: impl FnMut() -> bool) {
    let start = Instant::now();
    while !f() {
        assert!(start.elapsed() < Duration::from_secs(10), "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A master and a replica in sync, holding k = 1.
fn pair() -> (Server, Server) {
    let master = Server::start(&["--repl-diskless-sync-delay", "0", "--shutdown-timeout", "60", "--save", ""]);
    let replica = Server::start(&[]);
    let mut r = replica.raw();
    r.cmd(&["REPLICAOF", "127.0.0.1", &master.port().to_string()]);
    eventually("the link to come up", || r.cmd(&["INFO", "replication"]).text().contains("master_link_status:up"));
    let mut m = master.raw();
    m.cmd(&["SET", "k", "1"]);
    assert_eq!(m.cmd(&["WAIT", "1", "5000"]), ":1\r\n");
    (master, replica)
}

fn shutdown_ms_left(master: &Server) -> Option<i64> {
    let info = master.raw().cmd(&["INFO", "server"]).text();
    info_field(&info, "shutdown_in_milliseconds").map(|v| v.parse().unwrap())
}

#[test]
fn shutdown_waits_for_a_lagging_replica_and_abort_calls_it_off() {
    let (master, replica) = pair();
    let mut m = master.raw();
    // A stopped replica cannot acknowledge what comes next.
    replica.signal(libc::SIGSTOP);
    m.cmd(&["INCR", "k"]);

    // SHUTDOWN blocks; another client sees the shutdown under way, and the
    // pause it brings holds writes (a write with a short timeout stays unanswered).
    let mut first = master.raw();
    first.send(b"*1\r\n$8\r\nSHUTDOWN\r\n");
    eventually("the shutdown to start", || shutdown_ms_left(&master).is_some_and(|ms| ms > 0));
    let info = m.cmd(&["INFO", "clients"]).text();
    assert_eq!(info_field(&info, "blocked_clients"), Some("1"), "{info}");
    // Called off: the blocked client gets the error, the server goes on.
    assert_eq!(m.cmd(&["SHUTDOWN", "ABORT"]), "+OK\r\n");
    assert_eq!(first.read_reply(), "-ERR Errors trying to SHUTDOWN. Check logs.\r\n");
    assert_eq!(shutdown_ms_left(&master), None);
    assert_eq!(m.cmd(&["SHUTDOWN", "ABORT"]), "-ERR No shutdown in progress.\r\n");
    assert_eq!(m.cmd(&["SET", "after", "abort"]), "+OK\r\n");

    // Again, and this time the replica wakes: the master exits only once
    // the replica holds every write.
    let mut second = master.raw();
    second.send(b"*1\r\n$8\r\nSHUTDOWN\r\n");
    eventually("the second shutdown to start", || shutdown_ms_left(&master).is_some_and(|ms| ms > 0));
    replica.signal(libc::SIGCONT);
    let closed = second.read_to_close();
    assert_eq!(closed, "", "SHUTDOWN that succeeds sends no reply");
    let mut r = replica.raw();
    eventually("the replica to see the master gone", || r.cmd(&["INFO", "replication"]).text().contains("master_link_status:down"));
    assert_eq!(r.cmd(&["GET", "k"]), "$1\r\n2\r\n");
    assert_eq!(r.cmd(&["GET", "after"]), "$5\r\nabort\r\n");
    eventually("the log line", || master.output().contains("1 of 1 replicas are in sync when shutting down."));
}

#[test]
fn sigterm_waits_for_the_replica_too() {
    let (master, replica) = pair();
    replica.signal(libc::SIGSTOP);
    master.raw().cmd(&["INCR", "k"]);
    master.signal(libc::SIGTERM);
    eventually("the shutdown to start", || shutdown_ms_left(&master).is_some_and(|ms| ms > 0));
    // Still serving reads while it waits.
    assert_eq!(master.raw().cmd(&["GET", "k"]), "$1\r\n2\r\n");
    replica.signal(libc::SIGCONT);
    let mut r = replica.raw();
    eventually("the replica to see the master gone", || r.cmd(&["INFO", "replication"]).text().contains("master_link_status:down"));
    assert_eq!(r.cmd(&["GET", "k"]), "$1\r\n2\r\n");
}

/// A second SIGINT while the final save runs exits at once, from the
/// signal handler (the save blocks the node): the save's temp-<pid>.rdb is
/// removed and no dump.rdb is left half written.
#[test]
fn a_second_sigint_during_the_final_save_exits_at_once() {
    let mut server = Server::start(&["--save", "3600 1"]);
    let mut c = server.raw();
    for i in 0..20 {
        c.cmd(&["SET", &i.to_string(), "v"]);
    }
    // 20 keys at 100 ms each: the save on the way out takes 2 s.
    assert_eq!(c.cmd(&["CONFIG", "SET", "rdb-key-save-delay", "100000"]), "+OK\r\n");
    let temp = server.dir().join(format!("temp-{}.rdb", server.pid()));
    server.signal(libc::SIGINT);
    eventually("the final save to start", || temp.exists());
    server.signal(libc::SIGINT);
    let status = server.wait_exit(Duration::from_secs(1));
    assert_eq!(status.code(), Some(1), "an unclean exit");
    assert!(!temp.exists(), "the temp file is removed");
    assert!(!server.dir().join("dump.rdb").exists());
    let out = server.output();
    assert!(out.contains("You insist... exiting now."), "{out}");
}
