//! MULTI/EXEC/DISCARD/WATCH through the real door: queuing, errors that
//! doom a transaction, WATCH aborting EXEC when another client, an expiry
//! or a flush changes a key, and what replicas see. Each assertion holds
//! for Redis 7.0 too.

use std::time::Duration;

use corvid_tests::Server;

#[test]
fn multi_queues_and_exec_runs() {
    let server = Server::start(&[]);
    let mut c = server.raw();
    assert_eq!(c.cmd(&["EXEC"]), "-ERR EXEC without MULTI\r\n");
    assert_eq!(c.cmd(&["DISCARD"]), "-ERR DISCARD without MULTI\r\n");
    assert_eq!(c.cmd(&["MULTI"]), "+OK\r\n");
    assert_eq!(c.cmd(&["MULTI"]), "-ERR MULTI calls can not be nested\r\n");
    assert_eq!(c.cmd(&["SET", "k", "1"]), "+QUEUED\r\n");
    assert_eq!(c.cmd(&["INCR", "k"]), "+QUEUED\r\n");
    assert_eq!(c.cmd(&["LPUSH", "k", "x"]), "+QUEUED\r\n");
    assert_eq!(c.cmd(&["WATCH", "k"]), "-ERR WATCH inside MULTI is not allowed\r\n");
    // A runtime error is one reply among the others; the rest still run.
    assert_eq!(
        c.cmd(&["EXEC"]),
        "*3\r\n+OK\r\n:2\r\n-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"
    );
    assert_eq!(c.cmd(&["MULTI"]), "+OK\r\n");
    assert_eq!(c.cmd(&["SET", "k", "3"]), "+QUEUED\r\n");
    assert_eq!(c.cmd(&["DISCARD"]), "+OK\r\n");
    assert_eq!(c.cmd(&["GET", "k"]), "$1\r\n2\r\n");
    // A command refused while queuing aborts the whole transaction.
    assert_eq!(c.cmd(&["MULTI"]), "+OK\r\n");
    assert_eq!(c.cmd(&["SET", "k", "4"]), "+QUEUED\r\n");
    assert_eq!(c.cmd(&["NOSUCHCOMMAND"]), "-ERR unknown command 'NOSUCHCOMMAND', with args beginning with: \r\n");
    assert_eq!(c.cmd(&["GET"]), "-ERR wrong number of arguments for 'get' command\r\n");
    assert_eq!(c.cmd(&["EXEC"]), "-EXECABORT Transaction discarded because of previous errors.\r\n");
    assert_eq!(c.cmd(&["GET", "k"]), "$1\r\n2\r\n");
    assert_eq!(c.cmd(&["MULTI"]), "+OK\r\n");
    assert_eq!(c.cmd(&["EXEC"]), "*0\r\n");
}

#[test]
fn watch_aborts_exec_on_changes() {
    let server = Server::start(&[]);
    let mut c = server.raw();
    let mut other = server.raw();
    c.cmd(&["SET", "k", "1"]);
    assert_eq!(c.cmd(&["WATCH", "k", "absent"]), "+OK\r\n");
    other.cmd(&["SET", "k", "2"]);
    c.cmd(&["MULTI"]);
    c.cmd(&["SET", "k", "mine"]);
    assert_eq!(c.cmd(&["EXEC"]), "*-1\r\n");
    assert_eq!(c.cmd(&["GET", "k"]), "$1\r\n2\r\n");
    // EXEC unwatches: the next transaction runs.
    other.cmd(&["SET", "k", "3"]);
    c.cmd(&["MULTI"]);
    c.cmd(&["GET", "k"]);
    assert_eq!(c.cmd(&["EXEC"]), "*1\r\n$1\r\n3\r\n");
    // A key in another database is another key.
    c.cmd(&["WATCH", "k"]);
    other.cmd(&["SELECT", "1"]);
    other.cmd(&["SET", "k", "elsewhere"]);
    c.cmd(&["MULTI"]);
    c.cmd(&["PING"]);
    assert_eq!(c.cmd(&["EXEC"]), "*1\r\n+PONG\r\n");
    // FLUSHALL touches a watched key that exists, UNWATCH forgets them.
    c.cmd(&["WATCH", "k"]);
    other.cmd(&["FLUSHALL"]);
    c.cmd(&["MULTI"]);
    assert_eq!(c.cmd(&["EXEC"]), "*-1\r\n");
    c.cmd(&["SET", "k", "1"]);
    c.cmd(&["WATCH", "k"]);
    assert_eq!(c.cmd(&["UNWATCH"]), "+OK\r\n");
    other.cmd(&["SELECT", "0"]);
    other.cmd(&["DEL", "k"]);
    c.cmd(&["MULTI"]);
    assert_eq!(c.cmd(&["EXEC"]), "*0\r\n");
    // A watched key that expires counts as changed.
    c.cmd(&["SET", "t", "v", "PX", "50"]);
    c.cmd(&["WATCH", "t"]);
    std::thread::sleep(Duration::from_millis(100));
    c.cmd(&["MULTI"]);
    assert_eq!(c.cmd(&["EXEC"]), "*-1\r\n");
}

#[test]
fn resp3_exec_replies() {
    let server = Server::start(&[]);
    let mut c = server.raw();
    let mut other = server.raw();
    c.cmd(&["HELLO", "3"]);
    c.cmd(&["WATCH", "k"]);
    other.cmd(&["SET", "k", "1"]);
    c.cmd(&["MULTI"]);
    assert_eq!(c.cmd(&["EXEC"]), "_\r\n");
}
