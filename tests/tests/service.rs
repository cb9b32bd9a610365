//! Running as a service: `daemonize yes` detaches like redis-server's, leaving its pid in
//! `pidfile` until it shuts down.

use std::process::{Command, Stdio};
use std::time::Duration;

use corvid_tests::{eventually, fresh_dir, free_port, info_field, node_binary, RawConn};

#[test]
fn daemonize_detaches_and_keeps_a_pidfile() {
    let dir = fresh_dir();
    let port = free_port();
    let pidfile = dir.join("node.pid");
    let status = Command::new(node_binary())
        .args(["--port", &port.to_string(), "--bind", "127.0.0.1", "--save", ""])
        .args(["--daemonize", "yes", "--logfile", "node.log"])
        .arg("--pidfile")
        .arg(&pidfile)
        .arg("--dir")
        .arg(&dir)
        .current_dir(&dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        // The parent returns at once: output() would hang if the daemon kept our pipes.
        .output()
        .expect("start the node");
    assert!(status.status.success(), "{status:?}");
    assert!(status.stdout.is_empty() && status.stderr.is_empty(), "{status:?}");

    let mut pid = String::new();
    eventually(Duration::from_secs(10), "the daemon answers", || {
        pid = std::fs::read_to_string(&pidfile).unwrap_or_default();
        pid.ends_with('\n') && std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
    });
    let pid = pid.trim().to_string();
    let mut conn = RawConn::connect(port);
    let info = conn.cmd(&["INFO", "server"]).text();
    assert_eq!(info_field(&info, "process_id"), Some(pid.as_str()), "{info}");
    assert_ne!(pid, std::process::id().to_string());
    // The daemon leads its own session: the tests' terminal signals don't reach it.
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let session = stat.rsplit(')').next().unwrap().split_whitespace().nth(3);
    assert_eq!(session, Some(pid.as_str()), "{stat}");

    conn.send(b"SHUTDOWN NOSAVE\r\n");
    let _ = conn.read_to_close();
    // Gone, or a zombie where the init of a container does not reap.
    eventually(Duration::from_secs(10), "the daemon exits", || {
        std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .map_or(true, |s| s.rsplit(')').next().unwrap().trim_start().starts_with('Z'))
    });
    assert!(!pidfile.exists(), "the pidfile goes with the daemon");
    let log = std::fs::read_to_string(dir.join("node.log")).unwrap();
    assert!(log.contains("Ready to accept connections"), "{log}");
    let _ = std::fs::remove_dir_all(&dir);
}
