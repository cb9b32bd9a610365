//! The latency monitor (LATENCY LATEST, HISTORY, RESET, DOCTOR, GRAPH) and the
//! per-command histograms (LATENCY HISTOGRAM), as Redis 7.0 reports them.

use corvid_tests::Server;

#[test]
fn slow_commands_are_recorded_past_the_threshold() {
    let server = Server::start(&["--enable-debug-command", "yes"]);
    let mut c = server.raw();
    assert_eq!(c.cmd(&["LATENCY", "LATEST"]), "*0\r\n");
    // Off until a threshold is set: nothing is recorded.
    assert_eq!(c.cmd(&["DEBUG", "SLEEP", "0.12"]), "+OK\r\n");
    assert_eq!(c.cmd(&["LATENCY", "LATEST"]), "*0\r\n");
    assert!(c.cmd(&["LATENCY", "DOCTOR"]).contains("Latency monitoring is disabled"));
    assert_eq!(c.cmd(&["CONFIG", "SET", "latency-monitor-threshold", "100"]), "+OK\r\n");
    assert_eq!(c.cmd(&["DEBUG", "SLEEP", "0.05"]), "+OK\r\n");
    assert_eq!(c.cmd(&["LATENCY", "LATEST"]), "*0\r\n", "below the threshold");
    assert_eq!(c.cmd(&["DEBUG", "SLEEP", "0.15"]), "+OK\r\n");
    let latest = c.cmd(&["LATENCY", "LATEST"]).text();
    let lines: Vec<&str> = latest.split("\r\n").collect();
    // *1, *4, $7, command, :time, :latency, :max
    assert_eq!(&lines[..4], &["*1", "*4", "$7", "command"], "{latest}");
    let latency: u64 = lines[5][1..].parse().unwrap();
    assert!((150..1000).contains(&latency), "{latest}");
    assert_eq!(lines[6], lines[5], "the worst is the only one");
    let history = c.cmd(&["LATENCY", "HISTORY", "command"]).text();
    assert!(history.starts_with("*1\r\n*2\r\n:"), "{history}");
    assert_eq!(c.cmd(&["LATENCY", "HISTORY", "nosuch"]), "*0\r\n");
    assert!(c.cmd(&["LATENCY", "GRAPH", "command"]).contains("command - high"));
    assert_eq!(
        c.cmd(&["LATENCY", "GRAPH", "nosuch"]),
        "-ERR No samples available for event 'nosuch'\r\n"
    );
    assert!(c.cmd(&["LATENCY", "DOCTOR"]).contains("1. command: 1 latency spikes"));
    assert_eq!(c.cmd(&["LATENCY", "RESET", "nosuch"]), ":0\r\n");
    assert_eq!(c.cmd(&["LATENCY", "RESET"]), ":1\r\n");
    assert_eq!(c.cmd(&["LATENCY", "LATEST"]), "*0\r\n");
}

#[test]
fn histogram_reports_calls_and_cumulative_buckets() {
    let server = Server::start(&[]);
    let mut c = server.raw();
    assert_eq!(c.cmd(&["CONFIG", "RESETSTAT"]), "+OK\r\n");
    for _ in 0..3 {
        assert_eq!(c.cmd(&["SET", "k", "v"]), "+OK\r\n");
    }
    let h = c.cmd(&["LATENCY", "HISTOGRAM", "set", "nosuch"]).text();
    assert!(h.starts_with("*2\r\n$3\r\nset\r\n*4\r\n$5\r\ncalls\r\n:3\r\n$14\r\nhistogram_usec\r\n*"), "{h}");
    // The last bucket counts every call.
    assert!(h.ends_with(":3\r\n"), "{h}");
    assert_eq!(c.cmd(&["LATENCY", "HISTOGRAM", "nosuch"]), "*0\r\n");
}
