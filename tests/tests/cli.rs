//! Debian's `redis-cli` against the node: the tool operators reach for first must work
//! unchanged, in its one-shot, stdin and `--pipe` modes.

use corvid_tests::{info_field, Server};

#[test]
fn ping() {
    let server = Server::start(&[]);
    assert_eq!(server.cli(&["PING"]), "PONG\n");
    assert_eq!(server.cli(&["PING", "hello there"]), "hello there\n");
}

#[test]
fn set_and_get() {
    let server = Server::start(&[]);
    assert_eq!(server.cli(&["SET", "greeting", "hello world"]), "OK\n");
    assert_eq!(server.cli(&["GET", "greeting"]), "hello world\n");
    assert_eq!(server.cli(&["GET", "nokey"]), "\n");
    assert_eq!(server.cli(&["INCR", "n"]), "1\n");
    assert_eq!(server.cli(&["-n", "2", "SET", "k", "in-db-2"]), "OK\n");
    assert_eq!(server.cli(&["-n", "2", "GET", "k"]), "in-db-2\n");
    assert_eq!(server.cli(&["DBSIZE"]), "2\n");
}

#[test]
fn replies_of_every_shape() {
    let server = Server::start(&[]);
    server.cli(&["MSET", "a", "1", "b", "two", "c", "3"]);
    assert_eq!(server.cli(&["MGET", "a", "b", "c"]), "1\ntwo\n3\n");
    // Errors go to stdout when stdout is not a terminal (redis-cli adds a blank line).
    assert_eq!(
        server.cli(&["INCR", "b"]).trim_end(),
        "ERR value is not an integer or out of range"
    );
    assert_eq!(
        server.cli(&["--no-raw", "MGET", "a", "nokey"]),
        "1) \"1\"\n2) (nil)\n"
    );
    assert_eq!(server.cli(&["--no-raw", "GET", "nokey"]), "(nil)\n");
    assert_eq!(server.cli(&["--no-raw", "STRLEN", "b"]), "(integer) 3\n");
}

#[test]
fn info_server_has_redis_version() {
    let server = Server::start(&[]);
    let info = server.cli(&["INFO", "server"]);
    assert!(info.starts_with("# Server\r\n"), "{info}");
    let version =
        info_field(&info, "redis_version").unwrap_or_else(|| panic!("no redis_version: {info}"));
    assert!(
        version.starts_with("7."),
        "clients gate features on redis_version: {version}"
    );
    assert_eq!(
        info_field(&info, "tcp_port"),
        Some(server.port().to_string().as_str()),
        "{info}"
    );
    assert_eq!(
        info_field(&info, "process_id"),
        Some(server.pid().to_string().as_str()),
        "{info}"
    );
}

#[test]
fn commands_from_stdin() {
    let server = Server::start(&[]);
    let out = server.cli_with_stdin(&[], "SET a 1\nINCRBY a 41\nGET a\n");
    assert_eq!(out, "OK\n42\n42\n");
}

#[test]
fn pipe_mode_mass_insert() {
    let server = Server::start(&[]);
    let mut input = String::new();
    for i in 0..10_000 {
        input.push_str(&format!(
            "*3\r\n$3\r\nSET\r\n${}\r\nkey:{i}\r\n$1\r\nv\r\n",
            format!("key:{i}").len()
        ));
    }
    let out = server.cli_with_stdin(&["--pipe"], &input);
    assert!(out.contains("errors: 0, replies: 10000"), "{out}");
    assert_eq!(server.cli(&["DBSIZE"]), "10000\n");
}

#[test]
fn repeat_and_scan_options() {
    let server = Server::start(&[]);
    assert_eq!(server.cli(&["-r", "5", "INCR", "n"]), "1\n2\n3\n4\n5\n");
    for i in 0..50 {
        server.cli(&["SET", &format!("scanned:{i}"), "v"]);
    }
    let out = server.cli(&["--scan", "--pattern", "scanned:*"]);
    let mut keys: Vec<&str> = out.lines().collect();
    keys.sort();
    keys.dedup();
    assert_eq!(keys.len(), 50, "{out}");
}

#[test]
fn auth_from_the_command_line() {
    let server = Server::start(&["--requirepass", "s3cret"]);
    assert_eq!(
        server.cli(&["PING"]).trim_end(),
        "NOAUTH Authentication required."
    );
    assert_eq!(
        server.cli(&["--no-auth-warning", "-a", "s3cret", "PING"]),
        "PONG\n"
    );
}

/// INFO's instantaneous_* figures are rates sampled every 100 ms over the last
/// 16 samples: they rise under load and fall back to 0 when the server idles.
#[test]
fn info_instantaneous_metrics_follow_the_load() {
    use std::time::{Duration, Instant};
    let server = Server::start(&[]);
    let mut con = server.client();
    let stats = |con: &mut redis::Connection| -> (i64, f64) {
        let info: String = redis::cmd("INFO").arg("stats").query(con).unwrap();
        let ops = info_field(&info, "instantaneous_ops_per_sec").unwrap().parse().unwrap();
        let kbps = info_field(&info, "instantaneous_input_kbps").unwrap().parse().unwrap();
        (ops, kbps)
    };
    // Half a second of steady traffic covers several samples.
    let until = Instant::now() + Duration::from_millis(600);
    while Instant::now() < until {
        let mut pipe = redis::pipe();
        for i in 0..50 {
            pipe.cmd("SET").arg(format!("k{i}")).arg("v").ignore();
        }
        let () = pipe.query(&mut con).unwrap();
        std::thread::sleep(Duration::from_millis(5));
    }
    let (ops, kbps) = stats(&mut con);
    assert!(ops > 0 && kbps > 0.0, "under load: ops {ops}, input kbps {kbps}");
    // Silence for longer than the 1.6 s window; polling would itself be load.
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(stats(&mut con), (0, 0.0), "idle for 3 s");
}
