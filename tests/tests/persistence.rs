//! The RDB snapshot through the real door: SAVE writes `dbfilename`, a node
//! started in that directory loads it back with every type, expiry and
//! database; SHUTDOWN SAVE writes it on the way out; a corrupt file stops
//! the start. Each assertion holds for Redis 7.0 too.

use std::path::PathBuf;

use corvid_tests::Server;

/// A directory that outlives the servers started in it.
struct Dir(PathBuf);

impl Dir {
    fn new(name: &str) -> Dir {
        let p = std::env::temp_dir().join(format!("corvid-persistence-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        Dir(p)
    }

    fn arg(&self) -> &str {
        self.0.to_str().unwrap()
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[test]
fn save_then_restart_loads_everything() {
    let dir = Dir::new("save");
    {
        let server = Server::start(&["--dir", dir.arg()]);
        let mut c = server.raw();
        c.cmd(&["SET", "s", "v"]);
        c.cmd(&["SET", "n", "42", "PX", "100000000"]);
        c.cmd(&["RPUSH", "l", "a", "b"]);
        c.cmd(&["SADD", "set", "1", "2", "x"]);
        c.cmd(&["HSET", "h", "f", "v"]);
        c.cmd(&["ZADD", "z", "1.5", "m"]);
        c.cmd(&["SELECT", "5"]);
        c.cmd(&["SET", "other", "db"]);
        assert_eq!(c.cmd(&["SAVE"]), "+OK\r\n");
        let info = c.cmd(&["INFO", "persistence"]).text();
        assert!(info.contains("rdb_changes_since_last_save:0\r\n"), "{info}");
    }
    assert!(dir.0.join("dump.rdb").exists());
    let server = Server::start(&["--dir", dir.arg()]);
    let mut c = server.raw();
    assert_eq!(c.cmd(&["DBSIZE"]), ":6\r\n");
    assert_eq!(c.cmd(&["GET", "s"]), "$1\r\nv\r\n");
    let pttl = c.cmd(&["PTTL", "n"]).text();
    assert!(pttl.starts_with(':') && pttl.len() > 6, "expiry kept: {pttl}");
    assert_eq!(c.cmd(&["LRANGE", "l", "0", "-1"]), "*2\r\n$1\r\na\r\n$1\r\nb\r\n");
    assert_eq!(c.cmd(&["SCARD", "set"]), ":3\r\n");
    assert_eq!(c.cmd(&["HGET", "h", "f"]), "$1\r\nv\r\n");
    assert_eq!(c.cmd(&["ZSCORE", "z", "m"]), "$3\r\n1.5\r\n");
    c.cmd(&["SELECT", "5"]);
    assert_eq!(c.cmd(&["GET", "other"]), "$2\r\ndb\r\n");
}

#[test]
fn shutdown_save_and_corrupt_files() {
    let dir = Dir::new("shutdown");
    {
        let server = Server::start(&["--dir", dir.arg()]);
        let mut c = server.raw();
        c.cmd(&["SET", "k", "kept"]);
        c.send(b"*2\r\n$8\r\nSHUTDOWN\r\n$4\r\nSAVE\r\n");
        // The node closes the connection once the snapshot is written.
        let _ = c.read_to_close();
    }
    let server = Server::start(&["--dir", dir.arg()]);
    assert_eq!(server.raw().cmd(&["GET", "k"]), "$4\r\nkept\r\n");
    drop(server);
    // A snapshot whose checksum does not match is refused at start.
    let path = dir.0.join("dump.rdb");
    let mut bytes = std::fs::read(&path).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 0xff;
    std::fs::write(&path, bytes).unwrap();
    let (code, _output) = Server::start_expect_failure(&["--dir", dir.arg()]);
    assert_ne!(code, 0);
}
