//! The crash report through the real door: a node that dies of a fatal
//! signal first writes "crashed by signal" and its stack trace to the log,
//! then dies of that signal. Holds for Redis 7.0 too.

use std::os::unix::process::ExitStatusExt;
use std::time::Duration;

use corvid_tests::Server;

use libc::{SIGABRT, SIGSEGV};

fn assert_reported(server: &mut Server, sig: i32) {
    let status = server.wait_exit(Duration::from_secs(20));
    assert_eq!(status.signal(), Some(sig), "dies of the signal itself: {status}");
    // The pipes are read by threads: give them the last bytes.
    std::thread::sleep(Duration::from_millis(200));
    let out = server.output();
    assert!(out.contains(&format!("crashed by signal: {sig}")), "{out}");
    assert!(out.contains("------ STACK TRACE ------"), "{out}");
}

#[test]
fn debug_segfault_writes_a_crash_report() {
    let mut server = Server::start(&["--enable-debug-command", "yes", "--crash-memcheck-enabled", "no"]);
    let mut c = server.raw();
    c.send(b"*2\r\n$5\r\nDEBUG\r\n$8\r\nSEGFAULT\r\n");
    let _ = c.read_to_close();
    assert_reported(&mut server, SIGSEGV);
}

#[test]
fn sigabrt_writes_a_crash_report() {
    let mut server = Server::start(&["--crash-memcheck-enabled", "no"]);
    server.signal(SIGABRT);
    assert_reported(&mut server, SIGABRT);
}
