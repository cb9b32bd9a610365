//! The RDB snapshot through the real door: SAVE writes `dbfilename`, a node
//! started in that directory loads it back with every type, expiry and
//! database; SHUTDOWN SAVE writes it on the way out; a corrupt file stops
//! the start. With appendonly yes, the multi-part AOF brings back every
//! acknowledged write after a SIGKILL, random pops included. Each assertion
//! holds for Redis 7.0 too.

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

/// The dataset digest (DEBUG DIGEST), equal across servers holding the same data.
fn digest(server: &Server) -> String {
    server.raw().cmd(&["DEBUG", "DIGEST"]).text()
}

#[test]
fn aof_survives_kill_and_reloads_everything() {
    let dir = Dir::new("aof");
    let args = ["--dir", dir.arg(), "--appendonly", "yes", "--appendfsync", "always", "--enable-debug-command", "yes"];
    let before = {
        let server = Server::start(&args);
        let mut c = server.raw();
        c.cmd(&["SET", "s", "v", "EX", "1000"]);
        for _ in 0..50 {
            c.cmd(&["INCR", "n"]);
        }
        c.cmd(&["INCRBYFLOAT", "f", "0.1"]);
        c.cmd(&["RPUSH", "l", "a", "b", "c"]);
        c.cmd(&["SADD", "set", "1", "2", "3", "4", "5", "6", "7", "8"]);
        // Random pops must come back as the same members.
        c.cmd(&["SPOP", "set", "3"]);
        c.cmd(&["SPOP", "set"]);
        c.cmd(&["HSET", "h", "f", "1"]);
        c.cmd(&["HINCRBYFLOAT", "h", "f", "2.5"]);
        c.cmd(&["ZADD", "z", "1", "a", "2", "b"]);
        c.cmd(&["MULTI"]);
        c.cmd(&["SELECT", "3"]);
        c.cmd(&["SET", "in-tx", "yes"]);
        c.cmd(&["EXEC"]);
        c.cmd(&["SELECT", "0"]);
        let d = digest(&server);
        assert_ne!(d, "$40\r\n0000000000000000000000000000000000000000\r\n");
        d
        // Dropping the server kills it with SIGKILL: nothing is flushed at exit.
    };
    let manifest = std::fs::read_to_string(dir.0.join("appendonlydir/appendonly.aof.manifest")).unwrap();
    assert!(manifest.starts_with("file appendonly.aof.1.base.rdb seq 1 type b\n"), "{manifest}");
    let server = Server::start(&args);
    assert_eq!(digest(&server), before);
    let pttl = server.raw().cmd(&["PTTL", "s"]).text();
    assert!(pttl.starts_with(":9"), "the TTL survives as an absolute time: {pttl}");

    // A rewrite in command form, then more writes, then a kill.
    let mut c = server.raw();
    assert_eq!(c.cmd(&["CONFIG", "SET", "aof-use-rdb-preamble", "no"]), "+OK\r\n");
    assert_eq!(c.cmd(&["BGREWRITEAOF"]), "+Background append only file rewriting started\r\n");
    c.cmd(&["LPUSH", "l", "z"]);
    let before = digest(&server);
    drop(c);
    drop(server);
    let server = Server::start(&args);
    assert_eq!(digest(&server), before);
    drop(server);

    // A last command cut short is dropped (aof-load-truncated yes) ...
    let manifest = std::fs::read_to_string(dir.0.join("appendonlydir/appendonly.aof.manifest")).unwrap();
    let incr = manifest.lines().last().unwrap().split(' ').nth(1).unwrap().to_string();
    let incr_path = dir.0.join("appendonlydir").join(&incr);
    let mut bytes = std::fs::read(&incr_path).unwrap();
    bytes.extend_from_slice(b"*3\r\n$3\r\nSET\r\n$1\r\nx\r\n$5\r\nhal");
    std::fs::write(&incr_path, &bytes).unwrap();
    let mut strict = args.to_vec();
    strict.extend(["--aof-load-truncated", "no"]);
    let (code, _) = Server::start_expect_failure(&strict);
    assert_ne!(code, 0, "a truncated AOF is refused when aof-load-truncated is no");
    let server = Server::start(&args);
    assert_eq!(digest(&server), before);
    assert_eq!(server.raw().cmd(&["EXISTS", "x"]), ":0\r\n");
    drop(server);

    // ... but a damaged manifest stops the start.
    std::fs::write(dir.0.join("appendonlydir/appendonly.aof.manifest"), "file x seq 1 type q\n").unwrap();
    let (code, _) = Server::start_expect_failure(&args);
    assert_ne!(code, 0);
}

/// Writers INCR their own counters until the server dies; each records the
/// last value the server acknowledged, and when (ms since `start`).
fn write_until_killed(server: &Server, writers: usize) -> Vec<std::thread::JoinHandle<Vec<(u128, i64)>>> {
    (0..writers)
        .map(|w| {
            let mut con = server.client();
            std::thread::spawn(move || {
                let start = std::time::Instant::now();
                let mut acked = Vec::new();
                while let Ok(v) = redis::cmd("INCR").arg(format!("counter:{w}")).query::<i64>(&mut con) {
                    acked.push((start.elapsed().as_millis(), v));
                }
                acked
            })
        })
        .collect()
}

#[test]
fn aof_always_keeps_every_acknowledged_write_across_kills() {
    let dir = Dir::new("aof-kill");
    let args = ["--dir", dir.arg(), "--appendonly", "yes", "--appendfsync", "always"];
    let writers = 4;
    let mut last = vec![0i64; writers];
    for round in 0..20 {
        let server = Server::start(&args);
        let mut c = server.raw();
        for (w, &expected) in last.iter().enumerate() {
            let got = c.cmd(&["GET", &format!("counter:{w}")]).text();
            let value: i64 = got.lines().nth(1).and_then(|v| v.parse().ok()).unwrap_or(0);
            // Every acknowledged INCR is there (one more may have been
            // written whose reply never arrived).
            assert!(value >= expected && value <= expected + 1, "round {round}, writer {w}: {value} after {expected} acknowledged");
        }
        drop(c);
        let handles = write_until_killed(&server, writers);
        std::thread::sleep(std::time::Duration::from_millis(100));
        drop(server); // SIGKILL while the writers run
        for (w, h) in handles.into_iter().enumerate() {
            if let Some(&(_, v)) = h.join().unwrap().last() {
                last[w] = v;
            }
        }
    }
    assert!(last.iter().all(|&v| v > 0), "the writers got through: {last:?}");
}

#[test]
fn aof_everysec_loses_at_most_the_last_two_seconds() {
    let dir = Dir::new("aof-everysec");
    let args = ["--dir", dir.arg(), "--appendonly", "yes", "--appendfsync", "everysec"];
    let server = Server::start(&args);
    let handles = write_until_killed(&server, 2);
    std::thread::sleep(std::time::Duration::from_millis(3000));
    drop(server);
    let acked: Vec<Vec<(u128, i64)>> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    let server = Server::start(&args);
    let mut c = server.raw();
    for (w, log) in acked.iter().enumerate() {
        let (end, _) = *log.last().unwrap();
        // The last value acknowledged two seconds before the kill survives.
        let safe = log.iter().take_while(|(t, _)| *t + 2000 <= end).last().map_or(0, |&(_, v)| v);
        let got = c.cmd(&["GET", &format!("counter:{w}")]).text();
        let value: i64 = got.lines().nth(1).and_then(|v| v.parse().ok()).unwrap_or(0);
        assert!(value >= safe, "writer {w}: {value} survived, {safe} was acknowledged 2 s before the kill");
    }
}

/// BGSAVE is a point-in-time snapshot while writes go on: clients
/// overwrite, delete and add keys, flush a database and swap two while it
/// runs, and the file, loaded by Redis 7.0 itself, holds exactly the
/// dataset of the moment BGSAVE was called (same DEBUG DIGEST), and
/// passes redis-check-rdb.
#[test]
fn bgsave_is_point_in_time_while_writes_go_on() {
    let dir = Dir::new("bgsave");
    let node = Server::start(&["--dir", dir.arg(), "--enable-debug-command", "yes", "--rdbcompression", "yes"]);
    let mut c = node.raw();
    c.cmd(&["DEBUG", "POPULATE", "300000", "key", "64"]);
    c.cmd(&["SELECT", "2"]);
    c.cmd(&["DEBUG", "POPULATE", "20000", "two", "10"]);
    c.cmd(&["RPUSH", "list", "a", "b", "c"]);
    c.cmd(&["ZADD", "z", "1", "one", "2.5", "two"]);
    c.cmd(&["HSET", "h", "f", "v"]);
    c.cmd(&["SET", "ttl", "v", "PX", "100000000"]);
    c.cmd(&["SELECT", "0"]);
    let before = digest(&node);
    // Writes queued behind BGSAVE in one pipeline run right after it,
    // before the walk has gone far.
    let mut pipeline = vec![vec!["BGSAVE".to_string()]];
    for i in 0..2000 {
        pipeline.push(vec!["SET".into(), format!("key:{}", i * 97), "changed".into()]);
        pipeline.push(vec!["DEL".into(), format!("key:{}", i * 89 + 1)]);
        pipeline.push(vec!["SET".into(), format!("new:{i}"), "x".into()]);
    }
    pipeline.push(vec!["SWAPDB".into(), "2".into(), "5".into()]);
    pipeline.push(vec!["SELECT".into(), "5".into()]);
    pipeline.push(vec!["RPUSH".into(), "list".into(), "d".into()]);
    pipeline.push(vec!["FLUSHDB".into()]);
    let mut bytes = Vec::new();
    for cmd in &pipeline {
        bytes.extend(corvid_tests::multibulk(cmd));
    }
    c.send(&bytes);
    let replies = c.read_replies(pipeline.len());
    assert_eq!(replies[0], "+Background saving started\r\n");
    corvid_tests::eventually(std::time::Duration::from_secs(30), "BGSAVE done", || {
        let info = c.cmd(&["INFO", "persistence"]).text();
        corvid_tests::info_field(&info, "rdb_bgsave_in_progress") == Some("0")
    });
    let info = c.cmd(&["INFO", "persistence"]).text();
    assert_eq!(corvid_tests::info_field(&info, "rdb_last_bgsave_status"), Some("ok"), "{info}");
    assert_ne!(digest(&node), before, "the writes changed the dataset");
    let file = dir.0.join("dump.rdb");
    let check = std::process::Command::new("redis-check-rdb").arg(&file).output().expect("redis-check-rdb (Debian's redis-tools)");
    assert!(check.status.success(), "{}", String::from_utf8_lossy(&check.stdout));
    drop(node);
    let redis = Server::start_reference(&["--dir", dir.arg(), "--enable-debug-command", "yes"]);
    assert_eq!(digest(&redis), before);
    let mut r = redis.raw();
    r.cmd(&["SELECT", "2"]);
    assert_eq!(r.cmd(&["LRANGE", "list", "0", "-1"]), "*3\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n");
}

/// Every type in every encoding Redis 7.0 has, with expiries, several
/// databases and a function library, goes Corvid → RDB → Redis 7.0 → RDB →
/// Corvid unchanged: the same DEBUG DIGEST, the same DEBUG DIGEST-VALUE
/// and OBJECT ENCODING per key, at each hop.
#[test]
fn every_type_and_encoding_round_trips_through_redis() {
    let dir = Dir::new("roundtrip");
    let args = ["--dir", dir.arg(), "--enable-debug-command", "yes"];
    let node = Server::start(&args);
    let mut c = node.raw();
    let many = |prefix: &str, n: usize| (0..n).map(|i| format!("{prefix}{i}")).collect::<Vec<_>>();
    let send = |c: &mut corvid_tests::RawConn, head: &[&str], tail: &[String]| {
        let mut argv: Vec<&str> = head.to_vec();
        argv.extend(tail.iter().map(String::as_str));
        let reply = c.cmd(&argv);
        assert!(!reply.starts_with("-"), "{argv:?}: {}", reply.text());
    };
    send(&mut c, &["SET", "embstr", "short"], &[]);
    send(&mut c, &["SET", "raw", &"r".repeat(100)], &[]);
    send(&mut c, &["SET", "int", "-12345"], &[]);
    send(&mut c, &["SET", "volatile", "v", "PX", "100000000"], &[]);
    send(&mut c, &["RPUSH", "list:small"], &many("e", 5));
    send(&mut c, &["RPUSH", "list:quick"], &many("element-", 2000));
    send(&mut c, &["SADD", "set:int"], &(0..100).map(|i| (i * 7 - 300).to_string()).collect::<Vec<_>>());
    send(&mut c, &["SADD", "set:table"], &many("m", 300));
    send(&mut c, &["HSET", "hash:small", "a", "1", "b", "2"], &[]);
    let fields: Vec<String> = (0..600).flat_map(|i| [format!("f{i}"), format!("v{i}")]).collect();
    send(&mut c, &["HSET", "hash:table"], &fields);
    send(&mut c, &["ZADD", "zset:small", "1", "a", "2.5", "b", "-inf", "c"], &[]);
    let members: Vec<String> = (0..300).flat_map(|i| [format!("{}", i as f64 / 3.0), format!("z{i}")]).collect();
    send(&mut c, &["ZADD", "zset:skip"], &members);
    for i in 0..50 {
        send(&mut c, &["XADD", "stream", &format!("{}-1", i + 1), "f", &i.to_string()], &[]);
    }
    send(&mut c, &["XGROUP", "CREATE", "stream", "g", "0"], &[]);
    send(&mut c, &["XREADGROUP", "GROUP", "g", "alice", "COUNT", "10", "STREAMS", "stream", ">"], &[]);
    send(&mut c, &["XGROUP", "CREATECONSUMER", "stream", "g", "bob"], &[]);
    send(&mut c, &["PEXPIRE", "hash:table", "100000000"], &[]);
    send(&mut c, &["SELECT", "7"], &[]);
    send(&mut c, &["SET", "elsewhere", "7"], &[]);
    send(&mut c, &["SELECT", "0"], &[]);
    send(&mut c, &["FUNCTION", "LOAD", "#!lua name=lib\nredis.register_function('f', function() return 1 end)"], &[]);
    let keys = [
        "embstr", "raw", "int", "volatile", "list:small", "list:quick", "set:int", "set:table", "hash:small", "hash:table",
        "zset:small", "zset:skip", "stream",
    ];
    let snapshot = |server: &Server| {
        let mut c = server.raw();
        let mut per_key = Vec::new();
        for k in keys {
            let enc = c.cmd(&["OBJECT", "ENCODING", k]).text();
            let value = c.cmd(&["DEBUG", "DIGEST-VALUE", k]).text();
            per_key.push((k, enc, value));
        }
        let functions = c.cmd(&["FUNCTION", "LIST"]).text();
        (c.cmd(&["DEBUG", "DIGEST"]).text(), per_key, functions)
    };
    let original = snapshot(&node);
    let encodings: Vec<&str> = original.1.iter().map(|(_, e, _)| e.trim_start_matches('$').split("\r\n").nth(1).unwrap_or("")).collect();
    assert_eq!(
        encodings,
        // Redis 7.0 lists are quicklists whatever their size; small
        // ones hold a single listpack node.
        ["embstr", "raw", "int", "embstr", "quicklist", "quicklist", "intset", "hashtable", "listpack", "hashtable", "listpack", "skiplist", "stream"]
    );
    assert_eq!(c.cmd(&["SAVE"]), "+OK\r\n");
    drop(node);
    let redis = Server::start_reference(&args);
    assert_eq!(snapshot(&redis), original, "Redis 7.0 loading Corvid's file");
    assert_eq!(redis.raw().cmd(&["SAVE"]), "+OK\r\n");
    drop(redis);
    let node = Server::start(&args);
    assert_eq!(snapshot(&node), original, "Corvid loading Redis's file");
}

/// A snapshot loads while clients connect: until it is in, PING and reads
/// get -LOADING, INFO reports the progress, and once done every key is
/// there (the hidden key-load-delay slows the load down, as Redis's tests
/// do).
#[test]
fn clients_get_loading_while_the_snapshot_loads() {
    let dir = Dir::new("loading");
    {
        let node = Server::start(&["--dir", dir.arg(), "--enable-debug-command", "yes"]);
        let mut c = node.raw();
        c.cmd(&["DEBUG", "POPULATE", "20000", "key", "100"]);
        assert_eq!(c.cmd(&["SAVE"]), "+OK\r\n");
    }
    /// The node, killed when the test ends however it ends.
    struct Node(std::process::Child);
    impl Drop for Node {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    // Started by hand: the harness waits for "Ready to accept
    // connections", which comes once the load is done. Another test's
    // server may take the port first: then this node exits, and the
    // connection is to a server of another pid; try another port.
    let (_node, mut c) = (0..5)
        .find_map(|_| {
            let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
            let mut node = Node(
                std::process::Command::new(corvid_tests::node_binary())
                    .args(["--port", &port.to_string(), "--bind", "127.0.0.1", "--save", "", "--dir", dir.arg()])
                    // Slow, and (for Redis) answering clients every KiB of the file.
                    .args(["--key-load-delay", "200", "--loading-process-events-interval-bytes", "1024"])
                    .stdout(std::process::Stdio::null())
                    .stderr(std::process::Stdio::null())
                    .spawn()
                    .unwrap(),
            );
            loop {
                if node.0.try_wait().unwrap().is_some() {
                    return None;
                }
                if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                    let mut c = corvid_tests::RawConn::connect(port);
                    let info = c.cmd(&["INFO", "server"]).text();
                    let ours = corvid_tests::info_field(&info, "process_id") == Some(node.0.id().to_string().as_str());
                    return ours.then_some((node, c));
                }
                std::thread::sleep(std::time::Duration::from_millis(10));
            }
        })
        .expect("the node started on a free port");
    assert_eq!(c.cmd(&["PING"]), "-LOADING Redis is loading the dataset in memory\r\n");
    assert_eq!(c.cmd(&["GET", "key:1"]), "-LOADING Redis is loading the dataset in memory\r\n");
    let info = c.cmd(&["INFO", "persistence"]).text();
    assert_eq!(corvid_tests::info_field(&info, "loading"), Some("1"), "{info}");
    assert!(corvid_tests::info_field(&info, "loading_total_bytes").is_some_and(|b| b != "0"), "{info}");
    corvid_tests::eventually(std::time::Duration::from_secs(60), "the load to finish", || c.cmd(&["PING"]) == "+PONG\r\n");
    assert_eq!(c.cmd(&["DBSIZE"]), ":20000\r\n");
    // DEBUG POPULATE pads "value:N" with zero bytes to the size asked.
    assert_eq!(c.cmd(&["GET", "key:1"]), format!("$100\r\nvalue:1{}\r\n", "\0".repeat(93)).as_str());
    let info = c.cmd(&["INFO", "persistence"]).text();
    assert_eq!(corvid_tests::info_field(&info, "loading"), Some("0"));
    assert_eq!(corvid_tests::info_field(&info, "rdb_last_load_keys_loaded"), Some("20000"));
}

/// Under an LRU or LFU maxmemory-policy the file carries each key's idle
/// time or LFU counter, and Redis 7.0 reads them back.
#[test]
fn idle_time_and_lfu_counter_survive_a_save() {
    for (policy, option, value, query) in [("allkeys-lru", "IDLETIME", 1000, "IDLETIME"), ("allkeys-lfu", "FREQ", 42, "FREQ")] {
        let dir = Dir::new(policy);
        let args = ["--dir", dir.arg(), "--maxmemory-policy", policy];
        let node = Server::start(&args);
        let mut c = node.raw();
        c.cmd(&["SET", "k", "v"]);
        let payload = c.cmd(&["DUMP", "k"]);
        let payload = &payload.as_bytes()[payload.as_bytes().iter().position(|&b| b == b'\n').unwrap() + 1..payload.as_bytes().len() - 2];
        let reply = c.cmd_bytes(&[&b"RESTORE"[..], b"k", b"0", payload, b"REPLACE", option.as_bytes(), value.to_string().as_bytes()]);
        assert_eq!(reply, "+OK\r\n");
        assert_eq!(c.cmd(&["SAVE"]), "+OK\r\n");
        drop(node);
        let redis = Server::start_reference(&args);
        let got: i64 = redis.raw().cmd(&["OBJECT", query, "k"]).text().trim_start_matches(':').trim().parse().unwrap();
        // An LFU counter may lose one to decay if a minute turns meanwhile.
        assert!((value - 1..=value + 5).contains(&got), "{policy}: OBJECT {query} is {got}, set to {value}");
    }
}

/// The processes whose parent is `pid` (as `pgrep -P` finds them).
fn children_of(pid: u32) -> Vec<u32> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Some(child) = entry.file_name().to_str().and_then(|n| n.parse::<u32>().ok()) else { continue };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{child}/stat")) else { continue };
        // pid (comm) state ppid ...: comm may hold spaces, so count from its ')'.
        let ppid = stat.rsplit_once(')').and_then(|(_, rest)| rest.split_whitespace().nth(1)).and_then(|p| p.parse::<u32>().ok());
        if ppid == Some(pid) {
            out.push(child);
        }
    }
    out
}

/// A BGSAVE is a child process, as in Redis: it writes temp-<its pid>.rdb,
/// takes the background score of oom-score-adj-values, and killing it
/// fails the save (writes then get MISCONF) without harming the node; the
/// next BGSAVE succeeds.
#[test]
fn a_killed_bgsave_child_fails_the_save_and_the_next_one_succeeds() {
    // A save point, so that a failed save stops writes (stop-writes-on-bgsave-error).
    let server = Server::start(&["--save", "3600 1"]);
    let mut c = server.raw();
    for i in 0..100 {
        c.cmd(&["SET", &format!("k{i}"), "v"]);
    }
    assert_eq!(c.cmd(&["CONFIG", "SET", "oom-score-adj", "absolute", "oom-score-adj-values", "0 0 500"]), "+OK\r\n");
    // Long enough to find and kill the child before it is done.
    assert_eq!(c.cmd(&["CONFIG", "SET", "rdb-key-save-delay", "1000000"]), "+OK\r\n");
    assert_eq!(c.cmd(&["BGSAVE"]), "+Background saving started\r\n");
    let mut child = 0;
    corvid_tests::eventually(std::time::Duration::from_secs(5), "a background child", || {
        child = children_of(server.pid()).first().copied().unwrap_or(0);
        child != 0
    });
    let temp = server.dir().join(format!("temp-{child}.rdb"));
    corvid_tests::eventually(std::time::Duration::from_secs(5), "the child's score", || {
        std::fs::read_to_string(format!("/proc/{child}/oom_score_adj")).is_ok_and(|s| s.trim() == "500")
    });
    assert!(temp.exists(), "{} while the child runs", temp.display());

    // SAFETY: kill(2) on the pid of the node's child, which the node has
    // not reaped (it is still saving).
    assert_eq!(unsafe { libc::kill(child as libc::pid_t, libc::SIGKILL) }, 0);
    corvid_tests::eventually(std::time::Duration::from_secs(5), "the save to fail", || {
        c.cmd(&["INFO", "persistence"]).text().contains("rdb_bgsave_in_progress:0\r\n")
    });
    let info = c.cmd(&["INFO", "persistence"]).text();
    assert!(info.contains("rdb_last_bgsave_status:err\r\n"), "{info}");
    assert!(!temp.exists(), "the failed save's temp file is removed");
    assert!(server.output().contains("Background saving terminated by signal 9"), "{}", server.output());
    assert!(c.cmd(&["SET", "k0", "w"]).text().starts_with("-MISCONF "));
    assert_eq!(c.cmd(&["GET", "k0"]), "$1\r\nv\r\n");

    assert_eq!(c.cmd(&["CONFIG", "SET", "rdb-key-save-delay", "0"]), "+OK\r\n");
    assert_eq!(c.cmd(&["BGSAVE"]), "+Background saving started\r\n");
    corvid_tests::eventually(std::time::Duration::from_secs(10), "the second save", || {
        c.cmd(&["INFO", "persistence"]).text().contains("rdb_last_bgsave_status:ok\r\n")
    });
    assert_eq!(c.cmd(&["SET", "k0", "w"]), "+OK\r\n");
    assert!(server.dir().join("dump.rdb").exists());
    corvid_tests::eventually(std::time::Duration::from_secs(5), "the child to be reaped", || children_of(server.pid()).is_empty());
}
