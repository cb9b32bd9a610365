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

/// 200k writes of every type, pipelined, from a fixed-seed generator: each
/// batch of `n` commands is one write to the socket, then its replies.
struct Writes {
    seed: u64,
}

impl Writes {
    fn next(&mut self) -> u64 {
        // xorshift64: the same sequence on every run.
        self.seed ^= self.seed << 13;
        self.seed ^= self.seed >> 7;
        self.seed ^= self.seed << 17;
        self.seed
    }

    /// One write command, of one of the types at random.
    fn command(&mut self) -> Vec<String> {
        let r = self.next();
        let k = r % 2000;
        let v = (r >> 20) % 100_000;
        let s = |x: &[&str]| x.iter().map(|a| a.to_string()).collect::<Vec<_>>();
        match (r >> 40) % 20 {
            0 => s(&["SET", &format!("str:{k}"), &format!("value-{v}")]),
            1 => s(&["INCRBY", &format!("cnt:{k}"), &v.to_string()]),
            2 => s(&["APPEND", &format!("str:{k}"), "+"]),
            3 => s(&["SETEX", &format!("ttl:{k}"), "100000", &v.to_string()]),
            4 => s(&["RPUSH", &format!("list:{}", k % 200), &format!("e{v}"), &"x".repeat((v % 100) as usize)]),
            5 => s(&["LPOP", &format!("list:{}", k % 200)]),
            6 => s(&["HSET", &format!("hash:{}", k % 300), &format!("f{}", v % 500), &v.to_string()]),
            7 => s(&["HINCRBY", &format!("hash:{}", k % 300), "n", "3"]),
            8 => s(&["HDEL", &format!("hash:{}", k % 300), &format!("f{}", v % 500)]),
            9 => s(&["SADD", &format!("set:{}", k % 300), &(v % 1000).to_string()]),
            10 => s(&["SADD", &format!("tags:{}", k % 100), &format!("t{}", v % 300)]),
            11 => s(&["SREM", &format!("set:{}", k % 300), &(v % 1000).to_string()]),
            12 => s(&["ZADD", &format!("zset:{}", k % 300), &(v % 977).to_string(), &format!("m{}", v % 400)]),
            13 => s(&["ZINCRBY", &format!("zset:{}", k % 300), "1.5", &format!("m{}", v % 400)]),
            14 => s(&["XADD", &format!("stream:{}", k % 20), "MAXLEN", "~", "500", "*", "f", &v.to_string()]),
            15 => s(&["PFADD", &format!("hll:{}", k % 50), &format!("e{v}")]),
            16 => s(&["SETBIT", &format!("bits:{}", k % 50), &(v % 4096).to_string(), "1"]),
            17 => s(&["EXPIRE", &format!("str:{k}"), "100000"]),
            18 => s(&["DEL", &format!("str:{}", (k + 7) % 2000)]),
            _ => s(&["EVAL", "redis.call('INCR', KEYS[1]); return redis.call('LPUSH', KEYS[2], ARGV[1])", "2", &format!("cnt:{k}"), &format!("list:{}", k % 200), &v.to_string()]),
        }
    }

    /// Send `n` writes in one pipeline and read their replies.
    fn send(&mut self, conn: &mut corvid_tests::RawConn, n: usize) {
        let mut batch = Vec::new();
        for _ in 0..n {
            batch.extend(corvid_tests::raw::multibulk(&self.command()));
        }
        conn.send(&batch);
        for reply in conn.read_replies(n) {
            assert!(!reply.starts_with("-"), "a write failed: {}", reply.text());
        }
    }
}

/// The replica has applied everything the master produced.
fn caught_up(master: &mut corvid_tests::RawConn, replica: &mut corvid_tests::RawConn) -> bool {
    let m = master.cmd(&["INFO", "replication"]).text();
    let r = replica.cmd(&["INFO", "replication"]).text();
    let field = |info: &str, f: &str| corvid_tests::info_field(info, f).map(str::to_string);
    field(&r, "master_link_status").as_deref() == Some("up") && field(&m, "master_repl_offset") == field(&r, "slave_repl_offset")
}

/// `replica_bin` follows `master_bin` through 200k mixed writes with its link
/// cut in the middle: it must come back by partial resync (one full sync in
/// all) and end with the master's dataset.
fn follow_through_a_link_drop(master: Server, replica: Server) {
    let (mut m, mut r) = (master.raw(), replica.raw());
    m.set_timeout(Duration::from_secs(30));
    let mut writes = Writes { seed: 0x9e37_79b9_7f4a_7c15 };
    writes.send(&mut m, 5_000);
    assert_eq!(r.cmd(&["REPLICAOF", "127.0.0.1", &master.port().to_string()]), "+OK\r\n");
    let deadline = Instant::now() + Duration::from_secs(20);
    while !caught_up(&mut m, &mut r) {
        assert!(Instant::now() < deadline, "the replica did not sync:\n{}", r.cmd(&["INFO", "replication"]).text());
        std::thread::sleep(Duration::from_millis(50));
    }
    for _ in 0..95 {
        writes.send(&mut m, 1_000);
    }
    // The link drops; writes go on meanwhile and wait in the backlog.
    assert_eq!(r.cmd(&["CLIENT", "KILL", "TYPE", "master"]), ":1\r\n");
    for _ in 0..100 {
        writes.send(&mut m, 1_000);
    }
    let deadline = Instant::now() + Duration::from_secs(30);
    while !caught_up(&mut m, &mut r) {
        assert!(Instant::now() < deadline, "the replica did not catch up:\n{}", r.cmd(&["INFO", "replication"]).text());
        std::thread::sleep(Duration::from_millis(50));
    }
    let stats = m.cmd(&["INFO", "stats"]).text();
    assert_eq!(corvid_tests::info_field(&stats, "sync_full"), Some("1"), "{stats}");
    assert_eq!(corvid_tests::info_field(&stats, "sync_partial_ok"), Some("1"), "{stats}");
    let keys = m.cmd(&["DBSIZE"]);
    assert!(keys.text().trim_start_matches(':').trim().parse::<u64>().unwrap() > 3_000, "{}", keys.text());
    assert_eq!(r.cmd(&["DBSIZE"]), keys);
    assert_eq!(r.cmd(&["DEBUG", "DIGEST"]), m.cmd(&["DEBUG", "DIGEST"]), "the datasets differ");
}

const INTEROP_ARGS: &[&str] = &["--repl-diskless-sync-delay", "0", "--repl-backlog-size", "64mb", "--enable-debug-command", "yes"];

#[test]
fn redis_replicates_corvid_through_a_partial_resync() {
    follow_through_a_link_drop(Server::start(INTEROP_ARGS), Server::start_reference(INTEROP_ARGS));
}

#[test]
fn corvid_replicates_redis_through_a_partial_resync() {
    follow_through_a_link_drop(Server::start_reference(INTEROP_ARGS), Server::start(INTEROP_ARGS));
}

/// A master played by the test: it answers the handshake, sends an empty
/// snapshot and the start of a transaction, and drops the link before the
/// EXEC. The replica must ask to resume at the MULTI (its offset counts a
/// transaction only once it ran), and apply the whole transaction when it
/// comes again.
#[test]
fn a_link_cut_inside_a_transaction_resumes_at_its_multi() {
    use std::io::{BufRead, BufReader, Write};
    use std::net::TcpListener;

    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let replica = Server::start(&[]);
    let mut r = replica.raw();
    assert_eq!(r.cmd(&["REPLICAOF", "127.0.0.1", &port.to_string()]), "+OK\r\n");

    // Read commands up to PSYNC, answering each; returns PSYNC's arguments.
    let handshake = |conn: &mut std::net::TcpStream| -> Vec<String> {
        let mut reader = BufReader::new(conn.try_clone().unwrap());
        loop {
            let mut line = String::new();
            reader.read_line(&mut line).unwrap();
            let n: usize = line.trim_start_matches('*').trim().parse().unwrap();
            let mut args = Vec::new();
            for _ in 0..n {
                let mut len = String::new();
                reader.read_line(&mut len).unwrap();
                let mut arg = String::new();
                reader.read_line(&mut arg).unwrap();
                args.push(arg.trim_end().to_string());
            }
            match args[0].to_ascii_uppercase().as_str() {
                "PING" => conn.write_all(b"+PONG\r\n").unwrap(),
                "PSYNC" => return args,
                _ => conn.write_all(b"+OK\r\n").unwrap(),
            }
        }
    };
    let replid = "a".repeat(40);
    let select = corvid_tests::multibulk(&["SELECT", "0"]);
    let set = corvid_tests::multibulk(&["SET", "before", "1"]);
    let tx: Vec<u8> = [corvid_tests::multibulk(&["MULTI"]), corvid_tests::multibulk(&["SET", "a", "1"]), corvid_tests::multibulk(&["INCR", "n"])].concat();
    let exec = corvid_tests::multibulk(&["EXEC"]);

    let (mut first, _) = listener.accept().unwrap();
    handshake(&mut first);
    // An empty RDB (checksum 0: none), then a write and half a transaction.
    let rdb = b"REDIS0010\xff\0\0\0\0\0\0\0\0";
    first.write_all(format!("+FULLRESYNC {replid} 0\r\n${}\r\n", rdb.len()).as_bytes()).unwrap();
    first.write_all(rdb).unwrap();
    first.write_all(&[select.clone(), set.clone(), tx.clone()].concat()).unwrap();
    eventually("the write before the transaction", || r.cmd(&["GET", "before"]) == "$1\r\n1\r\n");
    std::thread::sleep(Duration::from_millis(200));
    drop(first);

    let (mut second, _) = listener.accept().unwrap();
    let psync = handshake(&mut second);
    let resume_at = select.len() + set.len() + 1;
    assert_eq!(psync[1..], [replid.clone(), resume_at.to_string()], "PSYNC resumes at the MULTI");
    second.write_all(format!("+CONTINUE {replid}\r\n").as_bytes()).unwrap();
    second.write_all(&[tx, exec].concat()).unwrap();
    eventually("the transaction", || r.cmd(&["GET", "n"]) == "$1\r\n1\r\n");
    assert_eq!(r.cmd(&["GET", "a"]), "$1\r\n1\r\n");
}
