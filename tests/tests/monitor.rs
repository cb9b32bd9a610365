//! MONITOR through the real door: a monitor sees every command another
//! client runs, after it ran (with the database it left selected), quoted
//! as Redis quotes it; transactions show as MULTI, the queued commands when
//! EXEC runs them, then EXEC; administrative commands are not shown. Holds
//! for Redis 7.0 too.

use corvid_tests::Server;

/// `+<secs>.<usecs> [<db> <addr>] <args>`: the part after the client.
fn command_part(line: &str) -> String {
    assert!(line.starts_with('+'), "{line}");
    let after = line.split_once("] ").expect("a [db addr] part").1;
    after.trim_end().to_string()
}

#[test]
fn monitor_sees_commands_after_they_run() {
    let server = Server::start(&[]);
    let mut mon = server.raw();
    assert_eq!(mon.cmd(&["MONITOR"]), "+OK\r\n");
    let mut c = server.raw();
    c.cmd(&["SET", "foo", "bar baz\n"]);
    c.cmd(&["CONFIG", "GET", "port"]);
    c.cmd(&["SELECT", "2"]);
    c.cmd(&["MULTI"]);
    c.cmd(&["INCR", "n"]);
    c.cmd(&["EXEC"]);
    let lines: Vec<String> = (0..5).map(|_| mon.read_reply().text()).collect();
    assert_eq!(command_part(&lines[0]), r#""SET" "foo" "bar baz\n""#);
    // CONFIG is administrative: not shown. SELECT shows the new database.
    assert_eq!(command_part(&lines[1]), r#""SELECT" "2""#);
    assert!(lines[1].contains(" [2 127.0.0.1:"), "{}", lines[1]);
    assert_eq!(command_part(&lines[2]), r#""MULTI""#);
    assert_eq!(command_part(&lines[3]), r#""INCR" "n""#);
    assert_eq!(command_part(&lines[4]), r#""EXEC""#);
    let list = c.cmd(&["CLIENT", "LIST"]).text();
    assert!(list.contains("flags=O"), "{list}");
}
