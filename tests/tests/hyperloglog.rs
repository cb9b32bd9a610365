//! HyperLogLog against Redis itself: the same elements fed to a Corvid node and to a
//! `redis-server` 7.0 started beside it give the same PFCOUNTs and the same value bytes
//! (GET), sparse and dense, through promotion and PFMERGE; values move between the two
//! with SET and DUMP/RESTORE and still count the same. Then the command contract:
//! errors for damaged and foreign values, PFDEBUG, what PFCOUNT's cache write does to
//! WATCH, replication and the keyspace events; damaged values compared with Redis reply
//! for reply.
//!
//! The comparison tests need `redis-server` on PATH and fail saying so without it.

use std::time::{Duration, Instant};

use corvid_tests::{multibulk, RawConn, Reply, Server};

/// A fixed-seed generator (SplitMix64), so both servers and every run see the same elements.
struct Elements(u64);

impl Elements {
    fn next(&mut self) -> Vec<u8> {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^= z >> 31;
        // Text of varying length, so the hash's tail handling is exercised too.
        format!("el:{:x}", z >> (z % 40)).into_bytes()
    }
}

/// PFADD `count` elements to `key` in batches of `batch`, pipelined; the number of
/// PFADDs that answered 1.
fn pfadd_pipelined(c: &mut RawConn, key: &str, elements: &[Vec<u8>], batch: usize) -> usize {
    let mut request = Vec::new();
    let mut commands = 0;
    for chunk in elements.chunks(batch) {
        let mut args: Vec<&[u8]> = vec![b"PFADD", key.as_bytes()];
        args.extend(chunk.iter().map(Vec::as_slice));
        request.extend_from_slice(&multibulk(&args));
        commands += 1;
    }
    c.send(&request);
    let replies = c.read_replies(commands);
    for r in &replies {
        assert!(*r == ":0\r\n" || *r == ":1\r\n", "{r:?}");
    }
    replies.iter().filter(|r| **r == ":1\r\n").count()
}

/// Both replies must be the same bytes; on a difference, say where (values are 12 KB).
fn assert_same(what: &str, corvid: &Reply, redis: &Reply) {
    if corvid == redis {
        return;
    }
    let (a, b) = (corvid.as_bytes(), redis.as_bytes());
    let at = a.iter().zip(b).position(|(x, y)| x != y).unwrap_or(a.len().min(b.len()));
    let show = |s: &[u8]| s[at.saturating_sub(8)..(at + 8).min(s.len())].escape_ascii().to_string();
    panic!(
        "{what}: corvid and redis differ at byte {at} (lengths {} and {}): corvid …{}… redis …{}…",
        a.len(),
        b.len(),
        show(a),
        show(b)
    );
}

/// The same command on both; its replies must match.
fn both(c: &mut RawConn, r: &mut RawConn, args: &[&str]) -> Reply {
    let (x, y) = (c.cmd(args), r.cmd(args));
    assert_same(&args.join(" "), &x, &y);
    x
}

#[test]
fn a_million_elements_count_and_encode_as_in_redis() {
    let started = Instant::now();
    let corvid = Server::start(&[]);
    let redis = Server::start_reference(&[]);
    let (mut c, mut r) = (corvid.raw(), redis.raw());
    let mut gen = Elements(0x5eed_1234);
    let all: Vec<Vec<u8>> = (0..1_000_000).map(|_| gen.next()).collect();
    // Checkpoints: sparse (100, 1000), dense (100k), the end; small batches while
    // sparse, where each PFADD rewrites opcodes.
    let mut done = 0;
    for (upto, batch, encoding) in [(100, 1, "sparse"), (1000, 7, "sparse"), (100_000, 500, "dense"), (1_000_000, 1000, "dense")] {
        let slice = &all[done..upto];
        let grew_c = pfadd_pipelined(&mut c, "hll", slice, batch);
        let grew_r = pfadd_pipelined(&mut r, "hll", slice, batch);
        assert_eq!(grew_c, grew_r, "PFADDs that changed a register, up to {upto}");
        done = upto;
        // Before PFCOUNT (stale cache), after it (cache written back), and the cache
        // reused on the next PFCOUNT.
        assert_same(&format!("GET after {upto}"), &c.cmd(&["GET", "hll"]), &r.cmd(&["GET", "hll"]));
        let count = both(&mut c, &mut r, &["PFCOUNT", "hll"]);
        assert_same(&format!("GET after PFCOUNT at {upto}"), &c.cmd(&["GET", "hll"]), &r.cmd(&["GET", "hll"]));
        assert_eq!(c.cmd(&["PFCOUNT", "hll"]), count);
        assert_eq!(both(&mut c, &mut r, &["PFDEBUG", "ENCODING", "hll"]), format!("+{encoding}\r\n").as_str());
        let n: f64 = count.text().trim_start_matches(':').trim().parse().unwrap();
        assert!((n - upto as f64).abs() / (upto as f64) < 0.03, "count {n} for {upto} elements");
    }
    // The union of a sparse and the dense value, and of two sparse ones.
    pfadd_pipelined(&mut c, "small", &all[..300], 3);
    pfadd_pipelined(&mut r, "small", &all[..300], 3);
    pfadd_pipelined(&mut c, "other", &all[500_000..500_200], 10);
    pfadd_pipelined(&mut r, "other", &all[500_000..500_200], 10);
    both(&mut c, &mut r, &["PFCOUNT", "small", "other", "missing"]);
    both(&mut c, &mut r, &["PFCOUNT", "small", "hll"]);
    both(&mut c, &mut r, &["PFMERGE", "sparse-union", "small", "other"]);
    both(&mut c, &mut r, &["GET", "sparse-union"]);
    both(&mut c, &mut r, &["PFDEBUG", "ENCODING", "sparse-union"]);
    both(&mut c, &mut r, &["PFMERGE", "small", "hll"]);
    both(&mut c, &mut r, &["GET", "small"]);
    both(&mut c, &mut r, &["PFCOUNT", "small"]);
    assert!(started.elapsed() < Duration::from_secs(60), "took {:?}", started.elapsed());
}

#[test]
fn promotion_to_dense_happens_at_the_same_element() {
    let corvid = Server::start(&[]);
    let redis = Server::start_reference(&[]);
    let (mut c, mut r) = (corvid.raw(), redis.raw());
    // The default limit (3000 bytes) and a small one set at runtime.
    for limit in ["3000", "120"] {
        both(&mut c, &mut r, &["CONFIG", "SET", "hll-sparse-max-bytes", limit]);
        both(&mut c, &mut r, &["DEL", "h"]);
        let mut gen = Elements(u64::from(limit.len() as u32));
        let mut added = 0;
        loop {
            let e = gen.next();
            let (x, y) = (c.cmd_bytes(&[&b"PFADD"[..], b"h", &e]), r.cmd_bytes(&[&b"PFADD"[..], b"h", &e]));
            assert_eq!(x, y, "PFADD #{added}");
            added += 1;
            let enc = both(&mut c, &mut r, &["PFDEBUG", "ENCODING", "h"]);
            if enc == "+dense\r\n" {
                break;
            }
            assert!(added < 10_000, "still sparse after {added} elements");
        }
        both(&mut c, &mut r, &["GET", "h"]);
        both(&mut c, &mut r, &["PFCOUNT", "h"]);
        assert!(c.cmd(&["STRLEN", "h"]) == ":12304\r\n");
    }
    assert_eq!(c.cmd(&["CONFIG", "GET", "hll-sparse-max-bytes"]), "*2\r\n$20\r\nhll-sparse-max-bytes\r\n$3\r\n120\r\n");
}

#[test]
fn values_move_between_redis_and_corvid() {
    let corvid = Server::start(&[]);
    let redis = Server::start_reference(&[]);
    let (mut c, mut r) = (corvid.raw(), redis.raw());
    let mut gen = Elements(42);
    let elements: Vec<Vec<u8>> = (0..20_000).map(|_| gen.next()).collect();
    pfadd_pipelined(&mut r, "sparse", &elements[..500], 5);
    pfadd_pipelined(&mut r, "dense", &elements, 100);
    for key in ["sparse", "dense"] {
        // DUMP in Redis, RESTORE in Corvid: the same string, the same count.
        let dump = r.cmd(&["DUMP", key]);
        let payload = bulk_payload(&dump);
        assert_eq!(c.cmd_bytes(&[&b"RESTORE"[..], key.as_bytes(), b"0", payload]), "+OK\r\n");
        assert_same(&format!("GET {key} restored"), &c.cmd(&["GET", key]), &r.cmd(&["GET", key]));
        both(&mut c, &mut r, &["PFCOUNT", key]);
        // And back: DUMP in Corvid, RESTORE in Redis under another name.
        let back = format!("{key}-back");
        let dump = c.cmd(&["DUMP", key]);
        assert_eq!(r.cmd_bytes(&[&b"RESTORE"[..], back.as_bytes(), b"0", bulk_payload(&dump)]), "+OK\r\n");
        assert_same(&format!("GET {back}"), &r.cmd(&["GET", &back]), &c.cmd(&["GET", key]));
        // SET of the raw bytes works too, and both keep counting alike.
        let value = c.cmd(&["GET", key]);
        c.cmd_bytes(&[&b"SET"[..], b"copy", bulk_payload(&value)]);
        r.cmd_bytes(&[&b"SET"[..], b"copy", bulk_payload(&value)]);
        pfadd_pipelined(&mut c, "copy", &elements[..3000], 50);
        pfadd_pipelined(&mut r, "copy", &elements[..3000], 50);
        assert_same("GET copy", &c.cmd(&["GET", "copy"]), &r.cmd(&["GET", "copy"]));
        both(&mut c, &mut r, &["PFCOUNT", "copy"]);
    }
}

/// The bytes of a bulk-string reply.
fn bulk_payload(reply: &Reply) -> &[u8] {
    let b = reply.as_bytes();
    assert_eq!(b[0], b'$', "{reply:?}");
    let start = b.iter().position(|&x| x == b'\n').unwrap() + 1;
    &b[start..b.len() - 2]
}

#[test]
fn damaged_and_foreign_values_are_errors() {
    let server = Server::start(&[]);
    let mut c = server.raw();
    let not_hll = "-WRONGTYPE Key is not a valid HyperLogLog string value.\r\n";
    let corrupted = "-INVALIDOBJ Corrupted HLL object detected\r\n";
    c.cmd(&["SET", "str", "not an hll at all"]);
    c.cmd(&["SET", "int", "12345"]);
    c.cmd(&["RPUSH", "list", "x"]);
    for key in ["str", "int"] {
        assert_eq!(c.cmd(&["PFADD", key, "a"]), not_hll);
        assert_eq!(c.cmd(&["PFCOUNT", key]), not_hll);
        assert_eq!(c.cmd(&["PFMERGE", "dest", key]), not_hll);
    }
    assert_eq!(c.cmd(&["PFADD", "list", "a"]), "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n");
    assert_eq!(c.cmd(&["EXISTS", "dest"]), ":0\r\n");

    // Header damage: magic, encoding, a dense value of the wrong length.
    c.cmd(&["PFADD", "h", "a", "b", "c"]);
    c.cmd(&["SETRANGE", "h", "4", "\x00"]);
    assert_eq!(c.cmd(&["PFCOUNT", "h"]), not_hll);
    c.cmd(&["SETRANGE", "h", "4", "\x02"]);
    assert_eq!(c.cmd(&["PFCOUNT", "h"]), not_hll);
    // Register damage: opcodes that cover too many or too few registers.
    c.cmd(&["DEL", "h"]);
    c.cmd(&["PFADD", "h", "a", "b", "c"]);
    c.cmd(&["APPEND", "h", "hello"]);
    assert_eq!(c.cmd(&["PFCOUNT", "h"]), corrupted);
    assert_eq!(c.cmd(&["PFCOUNT", "h", "h"]), corrupted);
    assert_eq!(c.cmd(&["PFMERGE", "d", "h"]), corrupted);
    assert_eq!(c.cmd(&["PFDEBUG", "TODENSE", "h"]), corrupted);
    assert_eq!(c.cmd(&["PFDEBUG", "GETREG", "h"]), corrupted);
    // No opcodes at all, and a stale cache so that PFCOUNT reads the registers.
    let mut empty = b"HYLL\x01".to_vec();
    empty.resize(16, 0);
    empty[15] = 0x80;
    c.cmd_bytes(&[&b"SET"[..], b"e", &empty]);
    assert_eq!(c.cmd(&["PFCOUNT", "e"]), corrupted);
    assert_eq!(c.cmd(&["PFADD", "e", "x"]), corrupted);
    // Random damage never takes the server down.
    let mut gen = Elements(7);
    for round in 0..300u64 {
        c.cmd(&["DEL", "f"]);
        let elements: Vec<Vec<u8>> = (0..(round * 37 % 2500)).map(|_| gen.next()).collect();
        c.cmd(&["PFADD", "f"]);
        if !elements.is_empty() {
            pfadd_pipelined(&mut c, "f", &elements, 100);
        }
        let len: u64 = c.cmd(&["STRLEN", "f"]).text()[1..].trim().parse().unwrap();
        let noise = gen.next();
        for k in 0..(1 + round % 4) {
            let pos = (u64::from(noise[k as usize % noise.len()]) * 131 + round * 17) % len;
            c.cmd_bytes(&[&b"SETRANGE"[..], b"f", pos.to_string().as_bytes(), &noise[k as usize..k as usize + 1]]);
        }
        for args in [&["PFCOUNT", "f"][..], &["PFADD", "f", "x", "y", "z"], &["PFCOUNT", "f", "f"], &["PFMERGE", "g", "f"]] {
            let reply = c.cmd(args);
            assert!(reply.starts_with(":") || reply.starts_with("+OK") || reply.starts_with("-"), "{reply:?}");
        }
    }
    assert_eq!(c.cmd(&["PING"]), "+PONG\r\n");
}

#[test]
fn pfdebug_and_pfselftest() {
    let server = Server::start(&[]);
    let mut c = server.raw();
    assert_eq!(c.cmd(&["PFDEBUG", "ENCODING", "nokey"]), "-ERR The specified key does not exist\r\n");
    c.cmd(&["PFADD", "h", "a", "foo"]);
    assert_eq!(c.cmd(&["PFDEBUG", "DECODE", "h"]), "$32\r\nZ:7348 v:5,1 Z:5362 v:2,1 Z:3672\r\n");
    assert_eq!(c.cmd(&["PFDEBUG", "ENCODING", "h"]), "+sparse\r\n");
    assert_eq!(c.cmd(&["PFDEBUG", "NOPE", "h"]), "-ERR Unknown PFDEBUG subcommand 'NOPE'\r\n");
    let regs = c.cmd(&["PFDEBUG", "GETREG", "h"]);
    assert!(regs.starts_with("*16384\r\n:0\r\n"), "{regs:?}");
    assert_eq!(regs.text().matches(":5\r\n").count(), 1);
    // GETREG converted it.
    assert_eq!(c.cmd(&["PFDEBUG", "ENCODING", "h"]), "+dense\r\n");
    assert_eq!(c.cmd(&["PFDEBUG", "DECODE", "h"]), "-ERR HLL encoding is not sparse\r\n");
    assert_eq!(c.cmd(&["PFDEBUG", "TODENSE", "h"]), ":0\r\n");
    c.cmd(&["PFADD", "s", "x"]);
    assert_eq!(c.cmd(&["PFDEBUG", "TODENSE", "s"]), ":1\r\n");
    assert_eq!(c.cmd(&["STRLEN", "s"]), ":12304\r\n");
    assert_eq!(c.cmd(&["PFDEBUG", "GETREG"]), "-ERR wrong number of arguments for 'pfdebug' command\r\n");
    assert_eq!(c.cmd(&["PFSELFTEST"]), "+OK\r\n");
}

#[test]
fn pfadd_and_the_cardinality_cache() {
    let server = Server::start(&[]);
    let mut c = server.raw();
    assert_eq!(c.cmd(&["PFADD", "h"]), ":1\r\n");
    assert_eq!(c.cmd(&["PFADD", "h"]), ":0\r\n");
    // Created, so "modified": the cached count (0) is marked stale all the same.
    assert_eq!(c.cmd(&["GET", "h"]), b"$18\r\nHYLL\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x80\x7f\xff\r\n");
    assert_eq!(c.cmd(&["PFCOUNT", "h"]), ":0\r\n");
    assert_eq!(c.cmd(&["GETRANGE", "h", "15", "15"]), b"$1\r\n\x00\r\n");
    assert_eq!(c.cmd(&["PFADD", "h", "a", "b", "c"]), ":1\r\n");
    assert_eq!(c.cmd(&["GETRANGE", "h", "15", "15"]), b"$1\r\n\x80\r\n");
    assert_eq!(c.cmd(&["PFCOUNT", "h"]), ":3\r\n");
    assert_eq!(c.cmd(&["GETRANGE", "h", "8", "15"]), "$8\r\n\x03\x00\x00\x00\x00\x00\x00\x00\r\n");
    assert_eq!(c.cmd(&["PFADD", "h", "a"]), ":0\r\n");
    assert_eq!(c.cmd(&["GETRANGE", "h", "15", "15"]), "$1\r\n\x00\r\n");
    // A cached count is believed: PFCOUNT reads it back, whatever the registers say.
    c.cmd(&["SETRANGE", "h", "8", "\x09"]);
    assert_eq!(c.cmd(&["PFCOUNT", "h"]), ":9\r\n");
    assert_eq!(c.cmd(&["PFCOUNT", "nokey"]), ":0\r\n");
    assert_eq!(c.cmd(&["PFCOUNT", "nokey", "nokey2"]), ":0\r\n");
    assert_eq!(c.cmd(&["PFMERGE", "new", "nokey"]), "+OK\r\n");
    assert_eq!(c.cmd(&["PFCOUNT", "new"]), ":0\r\n");
    assert_eq!(c.cmd(&["PFMERGE", "only"]), "+OK\r\n");
    assert_eq!(c.cmd(&["EXISTS", "only"]), ":1\r\n");
    assert_eq!(c.cmd(&["PFADD"]), "-ERR wrong number of arguments for 'pfadd' command\r\n");
    assert_eq!(c.cmd(&["PFCOUNT"]), "-ERR wrong number of arguments for 'pfcount' command\r\n");
}

#[test]
fn pfcount_writing_its_cache_is_a_change_to_watchers() {
    let server = Server::start(&[]);
    let mut c = server.raw();
    c.cmd(&["PFADD", "h", "a", "b"]);
    // A stale cache: PFCOUNT writes it, and the transaction watching the key fails.
    c.cmd(&["WATCH", "h"]);
    assert_eq!(c.cmd(&["PFCOUNT", "h"]), ":2\r\n");
    c.cmd(&["MULTI"]);
    c.cmd(&["PING"]);
    assert_eq!(c.cmd(&["EXEC"]), "*-1\r\n");
    // A valid cache: nothing is written, the transaction runs.
    c.cmd(&["WATCH", "h"]);
    assert_eq!(c.cmd(&["PFCOUNT", "h"]), ":2\r\n");
    c.cmd(&["MULTI"]);
    c.cmd(&["PING"]);
    assert_eq!(c.cmd(&["EXEC"]), "*1\r\n+PONG\r\n");
    // PFDEBUG's conversion tells no watcher; PFADD and PFMERGE do.
    c.cmd(&["WATCH", "h"]);
    assert_eq!(c.cmd(&["PFDEBUG", "TODENSE", "h"]), ":1\r\n");
    c.cmd(&["MULTI"]);
    c.cmd(&["PING"]);
    assert_eq!(c.cmd(&["EXEC"]), "*1\r\n+PONG\r\n");
    c.cmd(&["PFADD", "src", "z"]);
    c.cmd(&["WATCH", "src"]);
    c.cmd(&["PFMERGE", "h", "src"]);
    c.cmd(&["MULTI"]);
    c.cmd(&["PING"]);
    assert_eq!(c.cmd(&["EXEC"]), "*1\r\n+PONG\r\n", "PFMERGE changes only its destination");
}

#[test]
fn keyspace_events_name_pfadd() {
    let server = Server::start(&["--notify-keyspace-events", "KEA"]);
    let mut sub = server.raw();
    assert!(sub.cmd(&["PSUBSCRIBE", "__key*__:*"]).starts_with("*3\r\n"));
    let mut c = server.raw();
    c.cmd(&["PFADD", "h", "a"]);
    c.cmd(&["PFADD", "h", "a"]);
    c.cmd(&["PFCOUNT", "h"]);
    c.cmd(&["PFMERGE", "m", "h"]);
    c.cmd(&["SET", "done", "1"]);
    let mut seen = Vec::new();
    loop {
        let msg = sub.read_reply().text();
        let lines: Vec<&str> = msg.split("\r\n").collect();
        let (channel, payload) = (lines[6], lines[8]);
        if channel.starts_with("__keyevent") {
            seen.push(format!("{} {payload}", channel.rsplit(':').next().unwrap()));
        }
        if payload == "done" {
            break;
        }
    }
    assert_eq!(seen, ["pfadd h", "pfadd m", "set done"]);
}

#[test]
fn replicas_get_pfcount_cache_writes_and_compute_their_own() {
    let master = Server::start(&["--repl-diskless-sync-delay", "0"]);
    let replica = Server::start(&[]);
    let (mut m, mut r) = (master.raw(), replica.raw());
    assert_eq!(r.cmd(&["REPLICAOF", "127.0.0.1", &master.port().to_string()]), "+OK\r\n");
    let linked = Instant::now();
    while !r.cmd(&["INFO", "replication"]).contains("master_link_status:up") {
        assert!(linked.elapsed() < Duration::from_secs(10), "the replica never linked");
        std::thread::sleep(Duration::from_millis(20));
    }
    let synced = |m: &mut RawConn, r: &mut RawConn, key: &str| {
        assert_eq!(m.cmd(&["WAIT", "1", "5000"]), ":1\r\n");
        assert_eq!(m.cmd(&["GET", key]), r.cmd(&["GET", key]), "{key} on master and replica");
    };
    // The master's PFCOUNT writes its cache and sends the PFCOUNT along.
    m.cmd(&["PFADD", "h", "a", "b", "c"]);
    synced(&mut m, &mut r, "h");
    assert_eq!(m.cmd(&["PFCOUNT", "h"]), ":3\r\n");
    synced(&mut m, &mut r, "h");
    assert_eq!(r.cmd(&["GETRANGE", "h", "15", "15"]), b"$1\r\n\x00\r\n");
    // A read-only replica may still write its own cache (PFCOUNT is not a write).
    m.cmd(&["PFADD", "g", "x", "y"]);
    synced(&mut m, &mut r, "g");
    assert_eq!(r.cmd(&["PFCOUNT", "g"]), ":2\r\n");
    assert_eq!(r.cmd(&["GETRANGE", "g", "15", "15"]), b"$1\r\n\x00\r\n");
    assert_eq!(m.cmd(&["GETRANGE", "g", "15", "15"]), b"$1\r\n\x80\r\n");
    // PFMERGE and a PFDEBUG conversion reach it like any write.
    m.cmd(&["PFMERGE", "u", "h", "g"]);
    m.cmd(&["PFDEBUG", "TODENSE", "u"]);
    synced(&mut m, &mut r, "u");
    // (PFDEBUG is a write: a read-only replica refuses it; the encoding byte shows.)
    assert_eq!(r.cmd(&["GETRANGE", "u", "4", "4"]), b"$1\r\n\x00\r\n");
}

/// Damaged sparse values, the same bytes on both servers: every reply and every byte
/// written afterwards must match Redis's (which rejects any run past the last register,
/// as Debian's 7.0.15 does with the CVE-2025-32023 fix).
#[test]
fn damaged_values_behave_as_in_redis() {
    let corvid = Server::start(&[]);
    let redis = Server::start_reference(&[]);
    let (mut c, mut r) = (corvid.raw(), redis.raw());
    let mut gen = Elements(99);
    for round in 0..1000u64 {
        let elements: Vec<Vec<u8>> = (0..(round * 53 % 700)).map(|_| gen.next()).collect();
        let mut value = new_value(&mut r, &elements);
        // Damage one to three register bytes (the header is checked before anything).
        let noise = gen.next();
        for k in 0..(1 + round % 3) as usize {
            let pos = 16 + (usize::from(noise[k]) * 31 + round as usize * 7) % (value.len() - 16);
            value[pos] = noise[k + 1].wrapping_mul(37).wrapping_add(k as u8);
        }
        // Sometimes a byte more or less at the end: a cut XZERO, a stray opcode.
        match round % 6 {
            0 => value.push(noise[0]),
            1 if value.len() > 17 => {
                value.pop();
            }
            2 => value.push(0x40 | (noise[1] & 0x3f)),
            _ => {}
        }
        for conn in [&mut c, &mut r] {
            conn.cmd_bytes(&[&b"SET"[..], b"f", &value]);
        }
        let more: Vec<Vec<u8>> = (0..5).map(|_| gen.next()).collect();
        for e in &more {
            let (x, y) = (c.cmd_bytes(&[&b"PFADD"[..], b"f", e]), r.cmd_bytes(&[&b"PFADD"[..], b"f", e]));
            assert_same(&format!("round {round}: PFADD"), &x, &y);
        }
        assert_same(&format!("round {round}: GET"), &c.cmd(&["GET", "f"]), &r.cmd(&["GET", "f"]));
        for args in [&["PFCOUNT", "f"][..], &["PFCOUNT", "f", "f"], &["PFMERGE", "g", "f"], &["GET", "g"]] {
            both(&mut c, &mut r, args);
        }
        for conn in [&mut c, &mut r] {
            conn.cmd(&["DEL", "g"]);
        }
    }
}

/// A sparse value holding `elements`, as Redis writes it.
fn new_value(r: &mut RawConn, elements: &[Vec<u8>]) -> Vec<u8> {
    r.cmd(&["DEL", "tmp"]);
    r.cmd(&["PFADD", "tmp"]);
    if !elements.is_empty() {
        pfadd_pipelined(r, "tmp", elements, 50);
    }
    bulk_payload(&r.cmd(&["GET", "tmp"])).to_vec()
}
