//! Generic key commands (Redis `db.c`, `expire.c`, `cluster.c` for DUMP/RESTORE):
//! DEL/EXISTS/TYPE, RENAME, COPY, MOVE, SWAPDB, SCAN (including its guarantee while the
//! keyspace grows), TTLs with lazy and active expiry, KEYS patterns, DUMP/RESTORE.

use std::collections::{BTreeSet, HashSet};
use std::time::Duration;

use corvid_tests::{eventually, info_field, RawConn, Server};
use redis::Commands;

const SYNTAX: &str = "-ERR syntax error\r\n";
const NOT_INTEGER: &str = "-ERR value is not an integer or out of range\r\n";
const OUT_OF_RANGE_DB: &str = "-ERR DB index is out of range\r\n";
const SAME_OBJECT: &str = "-ERR source and destination objects are the same\r\n";

fn dbsize(c: &mut RawConn) -> i64 {
    let reply = c.cmd(&["DBSIZE"]).text();
    reply
        .trim_start_matches(':')
        .trim_end()
        .parse()
        .unwrap_or_else(|_| panic!("DBSIZE: {reply:?}"))
}

#[test]
fn del_exists_type() {
    let server = Server::start(&[]);
    let mut c = server.raw();
    assert_eq!(c.cmd(&["MSET", "a", "1", "b", "2", "c", "3"]), "+OK\r\n");
    // EXISTS counts a key as often as it is named.
    assert_eq!(c.cmd(&["EXISTS", "a", "a", "nokey", "b"]), ":3\r\n");
    assert_eq!(c.cmd(&["DEL", "a", "b", "nokey", "a"]), ":2\r\n");
    assert_eq!(c.cmd(&["EXISTS", "a", "b", "c"]), ":1\r\n");
    assert_eq!(c.cmd(&["UNLINK", "c", "nokey"]), ":1\r\n");
    assert_eq!(c.cmd(&["DBSIZE"]), ":0\r\n");

    assert_eq!(c.cmd(&["SET", "str", "v"]), "+OK\r\n");
    for (key, kind) in [("str", "string"), ("nokey", "none")] {
        assert_eq!(c.cmd(&["TYPE", key]), format!("+{kind}\r\n").as_str());
    }
    assert_eq!(c.cmd(&["DEL", "str"]), ":1\r\n");
    assert_eq!(c.cmd(&["RANDOMKEY"]), "$-1\r\n");
}

#[test]
fn rename() {
    let server = Server::start(&[]);
    let mut c = server.raw();
    assert_eq!(c.cmd(&["RENAME", "nokey", "x"]), "-ERR no such key\r\n");
    assert_eq!(c.cmd(&["RENAMENX", "nokey", "x"]), "-ERR no such key\r\n");
    assert_eq!(c.cmd(&["SET", "a", "1", "EX", "100"]), "+OK\r\n");
    assert_eq!(c.cmd(&["RENAME", "a", "b"]), "+OK\r\n");
    assert_eq!(c.cmd(&["EXISTS", "a"]), ":0\r\n");
    assert_eq!(c.cmd(&["GET", "b"]), "$1\r\n1\r\n");
    // The TTL travels with the value.
    assert_eq!(c.cmd(&["TTL", "b"]), ":100\r\n");
    // Renaming onto itself is fine for RENAME, a no-op for RENAMENX.
    assert_eq!(c.cmd(&["RENAME", "b", "b"]), "+OK\r\n");
    assert_eq!(c.cmd(&["RENAMENX", "b", "b"]), ":0\r\n");
    // RENAME overwrites whatever is there, and its TTL.
    assert_eq!(c.cmd(&["SET", "other", "x"]), "+OK\r\n");
    assert_eq!(c.cmd(&["RENAME", "other", "b"]), "+OK\r\n");
    assert_eq!(c.cmd(&["GET", "b"]), "$1\r\nx\r\n");
    assert_eq!(c.cmd(&["TTL", "b"]), ":-1\r\n");
    assert_eq!(c.cmd(&["SET", "c", "3"]), "+OK\r\n");
    assert_eq!(c.cmd(&["RENAMENX", "c", "b"]), ":0\r\n");
    assert_eq!(c.cmd(&["RENAMENX", "c", "d"]), ":1\r\n");
    assert_eq!(c.cmd(&["GET", "d"]), "$1\r\n3\r\n");
}

#[test]
fn copy() {
    let server = Server::start(&[]);
    let mut c = server.raw();
    assert_eq!(c.cmd(&["COPY", "nokey", "x"]), ":0\r\n");
    assert_eq!(c.cmd(&["SET", "src", "ab"]), "+OK\r\n");
    assert_eq!(c.cmd(&["PEXPIRE", "src", "100000"]), ":1\r\n");
    assert_eq!(c.cmd(&["COPY", "src", "dst"]), ":1\r\n");
    assert_eq!(c.cmd(&["GET", "dst"]), "$2\r\nab\r\n");
    let ttl = c.cmd(&["TTL", "dst"]);
    assert!(
        ttl == ":100\r\n" || ttl == ":99\r\n",
        "the TTL is copied: {ttl:?}"
    );
    // The copy is independent of the source.
    assert_eq!(c.cmd(&["APPEND", "src", "c"]), ":3\r\n");
    assert_eq!(c.cmd(&["GET", "dst"]), "$2\r\nab\r\n");
    // An existing destination is kept unless REPLACE.
    assert_eq!(c.cmd(&["SET", "str", "v"]), "+OK\r\n");
    assert_eq!(c.cmd(&["COPY", "str", "dst"]), ":0\r\n");
    assert_eq!(c.cmd(&["GET", "dst"]), "$2\r\nab\r\n");
    assert_eq!(c.cmd(&["COPY", "str", "dst", "REPLACE"]), ":1\r\n");
    assert_eq!(c.cmd(&["GET", "dst"]), "$1\r\nv\r\n");
    // Into another database.
    assert_eq!(c.cmd(&["COPY", "str", "str", "DB", "1"]), ":1\r\n");
    assert_eq!(c.cmd(&["SELECT", "1"]), "+OK\r\n");
    assert_eq!(c.cmd(&["GET", "str"]), "$1\r\nv\r\n");
    assert_eq!(c.cmd(&["SELECT", "0"]), "+OK\r\n");

    assert_eq!(c.cmd(&["COPY", "str", "str"]), SAME_OBJECT);
    assert_eq!(c.cmd(&["COPY", "str", "x", "DB", "16"]), OUT_OF_RANGE_DB);
    assert_eq!(c.cmd(&["COPY", "str", "x", "DB", "x"]), NOT_INTEGER);
    assert_eq!(c.cmd(&["COPY", "str", "x", "FOO"]), SYNTAX);
}

#[test]
fn move_between_databases() {
    let server = Server::start(&[]);
    let mut c = server.raw();
    assert_eq!(c.cmd(&["SET", "k", "v", "EX", "100"]), "+OK\r\n");
    assert_eq!(c.cmd(&["MOVE", "k", "1"]), ":1\r\n");
    assert_eq!(c.cmd(&["EXISTS", "k"]), ":0\r\n");
    assert_eq!(c.cmd(&["MOVE", "k", "1"]), ":0\r\n");
    assert_eq!(c.cmd(&["SELECT", "1"]), "+OK\r\n");
    assert_eq!(c.cmd(&["GET", "k"]), "$1\r\nv\r\n");
    assert_eq!(c.cmd(&["TTL", "k"]), ":100\r\n");
    // A key that exists in the target stays where it is.
    assert_eq!(c.cmd(&["SELECT", "0"]), "+OK\r\n");
    assert_eq!(c.cmd(&["SET", "k", "other"]), "+OK\r\n");
    assert_eq!(c.cmd(&["MOVE", "k", "1"]), ":0\r\n");
    assert_eq!(c.cmd(&["GET", "k"]), "$5\r\nother\r\n");

    assert_eq!(c.cmd(&["MOVE", "k", "0"]), SAME_OBJECT);
    assert_eq!(c.cmd(&["MOVE", "k", "16"]), OUT_OF_RANGE_DB);
    assert_eq!(c.cmd(&["MOVE", "k", "-1"]), OUT_OF_RANGE_DB);
    assert_eq!(c.cmd(&["MOVE", "k", "x"]), NOT_INTEGER);
}

#[test]
fn swapdb_and_select() {
    let server = Server::start(&[]);
    let mut c = server.raw();
    let mut other = server.raw();
    assert_eq!(c.cmd(&["SET", "k", "in-0"]), "+OK\r\n");
    assert_eq!(other.cmd(&["SELECT", "1"]), "+OK\r\n");
    assert_eq!(other.cmd(&["SET", "k", "in-1"]), "+OK\r\n");
    assert_eq!(other.cmd(&["SET", "only", "1"]), "+OK\r\n");
    assert_eq!(c.cmd(&["SWAPDB", "0", "1"]), "+OK\r\n");
    // Connections keep their database number and see the swapped contents.
    assert_eq!(c.cmd(&["GET", "k"]), "$4\r\nin-1\r\n");
    assert_eq!(other.cmd(&["GET", "k"]), "$4\r\nin-0\r\n");
    assert_eq!(c.cmd(&["DBSIZE"]), ":2\r\n");
    assert_eq!(c.cmd(&["SWAPDB", "0", "0"]), "+OK\r\n");

    assert_eq!(c.cmd(&["SWAPDB", "0", "16"]), OUT_OF_RANGE_DB);
    assert_eq!(
        c.cmd(&["SWAPDB", "x", "1"]),
        "-ERR invalid first DB index\r\n"
    );
    assert_eq!(
        c.cmd(&["SWAPDB", "0", "x"]),
        "-ERR invalid second DB index\r\n"
    );
    assert_eq!(c.cmd(&["SELECT", "16"]), OUT_OF_RANGE_DB);
    assert_eq!(c.cmd(&["SELECT", "x"]), NOT_INTEGER);
}

#[test]
fn flushdb_and_flushall() {
    let server = Server::start(&[]);
    let mut c = server.raw();
    assert_eq!(c.cmd(&["SET", "a", "1"]), "+OK\r\n");
    assert_eq!(c.cmd(&["SELECT", "1"]), "+OK\r\n");
    assert_eq!(c.cmd(&["SET", "b", "1"]), "+OK\r\n");
    assert_eq!(c.cmd(&["FLUSHDB"]), "+OK\r\n");
    assert_eq!(c.cmd(&["DBSIZE"]), ":0\r\n");
    assert_eq!(c.cmd(&["SELECT", "0"]), "+OK\r\n");
    assert_eq!(c.cmd(&["DBSIZE"]), ":1\r\n");
    assert_eq!(c.cmd(&["FLUSHALL"]), "+OK\r\n");
    assert_eq!(c.cmd(&["DBSIZE"]), ":0\r\n");
}

fn scan_all(con: &mut redis::Connection, extra: &[&str]) -> Vec<String> {
    let mut cursor: u64 = 0;
    let mut keys = Vec::new();
    loop {
        let (next, batch): (u64, Vec<String>) = redis::cmd("SCAN")
            .arg(cursor)
            .arg(extra)
            .query(con)
            .unwrap();
        keys.extend(batch);
        cursor = next;
        if cursor == 0 {
            return keys;
        }
    }
}

#[test]
fn scan_returns_every_key() {
    let server = Server::start(&[]);
    let mut con = server.client();
    let mut pipe = redis::pipe();
    for i in 0..1000 {
        pipe.set(format!("key:{i}"), i).ignore();
    }
    for i in 0..100 {
        pipe.set(format!("other:{i}"), i).ignore();
    }
    let _: () = pipe.query(&mut con).unwrap();

    let all: BTreeSet<String> = scan_all(&mut con, &["COUNT", "50"]).into_iter().collect();
    assert_eq!(all.len(), 1100);
    let matched: BTreeSet<String> = scan_all(&mut con, &["MATCH", "key:1?"])
        .into_iter()
        .collect();
    let expected: BTreeSet<String> = (10..20).map(|i| format!("key:{i}")).collect();
    assert_eq!(matched, expected);
    let strings: BTreeSet<String> = scan_all(&mut con, &["TYPE", "string", "COUNT", "100"])
        .into_iter()
        .collect();
    assert_eq!(strings, all);
    let others: BTreeSet<String> = scan_all(
        &mut con,
        &["MATCH", "other:*", "TYPE", "string", "COUNT", "100"],
    )
    .into_iter()
    .collect();
    let expected: BTreeSet<String> = (0..100).map(|i| format!("other:{i}")).collect();
    assert_eq!(others, expected);
    assert!(scan_all(&mut con, &["TYPE", "list", "COUNT", "100"]).is_empty());
}

/// SCAN's guarantee: a key present from the start to the end of a full iteration is
/// returned, even while the table grows (and rehashes) from 10 to 10,000 keys under it.
#[test]
fn scan_returns_every_key_while_the_keyspace_grows() {
    let server = Server::start(&[]);
    let mut con = server.client();
    let original: Vec<String> = (0..10).map(|i| format!("original:{i}")).collect();
    for key in &original {
        let _: () = con.set(key, "v").unwrap();
    }
    let mut total = original.len();
    let mut seen = HashSet::new();
    let mut cursor: u64 = 0;
    loop {
        let (next, batch): (u64, Vec<String>) = redis::cmd("SCAN")
            .arg(cursor)
            .arg("COUNT")
            .arg(5)
            .query(&mut con)
            .unwrap();
        seen.extend(batch);
        // Grow between calls, up to 10,000 keys.
        if total < 10_000 {
            let add = (10_000 - total).min(1000);
            let mut mset = redis::cmd("MSET");
            for i in total..total + add {
                mset.arg(format!("added:{i}")).arg(i);
            }
            let _: () = mset.query(&mut con).unwrap();
            total += add;
        }
        cursor = next;
        if cursor == 0 {
            break;
        }
    }
    assert_eq!(total, 10_000);
    let size: usize = redis::cmd("DBSIZE").query(&mut con).unwrap();
    assert_eq!(size, 10_000);
    for key in &original {
        assert!(
            seen.contains(key),
            "SCAN missed {key}, which existed throughout"
        );
    }
    assert!(seen
        .iter()
        .all(|k| k.starts_with("original:") || k.starts_with("added:")));
}

#[test]
fn scan_errors() {
    let server = Server::start(&[]);
    let mut c = server.raw();
    assert_eq!(c.cmd(&["SCAN", "abc"]), "-ERR invalid cursor\r\n");
    assert_eq!(c.cmd(&["SCAN", "0", "COUNT", "0"]), SYNTAX);
    assert_eq!(c.cmd(&["SCAN", "0", "COUNT", "x"]), NOT_INTEGER);
    assert_eq!(c.cmd(&["SCAN", "0", "FOO"]), SYNTAX);
    assert_eq!(c.cmd(&["SCAN", "0"]), "*2\r\n$1\r\n0\r\n*0\r\n");
}

#[test]
fn keys_patterns() {
    let server = Server::start(&[]);
    let mut con = server.client();
    for key in [
        "hello", "hallo", "hxllo", "hllo", "heeeello", "h*llo", "foo",
    ] {
        let _: () = con.set(key, 1).unwrap();
    }
    for (pattern, expected) in [
        (
            "*",
            &[
                "foo", "h*llo", "hallo", "heeeello", "hello", "hllo", "hxllo",
            ][..],
        ),
        ("h?llo", &["h*llo", "hallo", "hello", "hxllo"]),
        (
            "h*llo",
            &["h*llo", "hallo", "heeeello", "hello", "hllo", "hxllo"],
        ),
        ("h[ae]llo", &["hallo", "hello"]),
        ("h[^e]llo", &["h*llo", "hallo", "hxllo"]),
        ("h[a-b]llo", &["hallo"]),
        ("h\\*llo", &["h*llo"]),
        ("f*", &["foo"]),
        ("nomatch*", &[]),
    ] {
        let mut keys: Vec<String> = con.keys(pattern).unwrap();
        keys.sort();
        assert_eq!(keys, expected, "KEYS {pattern}");
    }
}

#[test]
fn ttl_commands() {
    let server = Server::start(&[]);
    let mut c = server.raw();
    assert_eq!(c.cmd(&["TTL", "nokey"]), ":-2\r\n");
    assert_eq!(c.cmd(&["PTTL", "nokey"]), ":-2\r\n");
    assert_eq!(c.cmd(&["EXPIRETIME", "nokey"]), ":-2\r\n");
    assert_eq!(c.cmd(&["EXPIRE", "nokey", "10"]), ":0\r\n");
    assert_eq!(c.cmd(&["SET", "k", "v"]), "+OK\r\n");
    assert_eq!(c.cmd(&["TTL", "k"]), ":-1\r\n");
    assert_eq!(c.cmd(&["PTTL", "k"]), ":-1\r\n");
    assert_eq!(c.cmd(&["EXPIRETIME", "k"]), ":-1\r\n");
    assert_eq!(c.cmd(&["EXPIRE", "k", "100"]), ":1\r\n");
    assert_eq!(c.cmd(&["TTL", "k"]), ":100\r\n");
    assert_eq!(c.cmd(&["PERSIST", "k"]), ":1\r\n");
    assert_eq!(c.cmd(&["PERSIST", "k"]), ":0\r\n");
    assert_eq!(c.cmd(&["TTL", "k"]), ":-1\r\n");
    assert_eq!(c.cmd(&["EXPIREAT", "k", "33177117420"]), ":1\r\n");
    assert_eq!(c.cmd(&["EXPIRETIME", "k"]), ":33177117420\r\n");
    assert_eq!(c.cmd(&["PEXPIREAT", "k", "33177117420999"]), ":1\r\n");
    assert_eq!(c.cmd(&["PEXPIRETIME", "k"]), ":33177117420999\r\n");
    // EXPIRETIME and TTL round to the nearest second.
    assert_eq!(c.cmd(&["EXPIRETIME", "k"]), ":33177117421\r\n");

    // NX / XX / GT / LT (7.0). No TTL counts as an infinite TTL for GT and LT.
    assert_eq!(c.cmd(&["SET", "k", "v"]), "+OK\r\n");
    assert_eq!(c.cmd(&["EXPIRE", "k", "100", "XX"]), ":0\r\n");
    assert_eq!(c.cmd(&["EXPIRE", "k", "100", "GT"]), ":0\r\n");
    assert_eq!(c.cmd(&["EXPIRE", "k", "100", "NX"]), ":1\r\n");
    assert_eq!(c.cmd(&["EXPIRE", "k", "200", "NX"]), ":0\r\n");
    assert_eq!(c.cmd(&["EXPIRE", "k", "200", "XX"]), ":1\r\n");
    assert_eq!(c.cmd(&["EXPIRE", "k", "100", "GT"]), ":0\r\n");
    assert_eq!(c.cmd(&["EXPIRE", "k", "300", "GT"]), ":1\r\n");
    assert_eq!(c.cmd(&["EXPIRE", "k", "400", "LT"]), ":0\r\n");
    assert_eq!(c.cmd(&["EXPIRE", "k", "50", "lt"]), ":1\r\n");
    assert_eq!(c.cmd(&["TTL", "k"]), ":50\r\n");
    assert_eq!(c.cmd(&["SET", "p", "v"]), "+OK\r\n");
    assert_eq!(c.cmd(&["EXPIRE", "p", "100", "LT"]), ":1\r\n");

    // A TTL in the past deletes the key.
    assert_eq!(c.cmd(&["EXPIRE", "k", "-1"]), ":1\r\n");
    assert_eq!(c.cmd(&["EXISTS", "k"]), ":0\r\n");
    assert_eq!(c.cmd(&["SET", "k", "v"]), "+OK\r\n");
    assert_eq!(c.cmd(&["PEXPIREAT", "k", "1"]), ":1\r\n");
    assert_eq!(c.cmd(&["EXISTS", "k"]), ":0\r\n");

    assert_eq!(c.cmd(&["EXPIRE", "p", "x"]), NOT_INTEGER);
    assert_eq!(
        c.cmd(&["EXPIRE", "p", "10", "FOO"]),
        "-ERR Unsupported option FOO\r\n"
    );
    assert_eq!(
        c.cmd(&["EXPIRE", "p", "10", "NX", "XX"]),
        "-ERR NX and XX, GT or LT options at the same time are not compatible\r\n"
    );
    assert_eq!(
        c.cmd(&["EXPIRE", "p", "10", "GT", "LT"]),
        "-ERR GT and LT options at the same time are not compatible\r\n"
    );
    assert_eq!(
        c.cmd(&["EXPIRE", "p", "9223372036854775807"]),
        "-ERR invalid expire time in 'expire' command\r\n"
    );
    assert_eq!(
        c.cmd(&["PEXPIRE", "p", "9223372036854775807"]),
        "-ERR invalid expire time in 'pexpire' command\r\n"
    );
}

#[test]
fn expired_keys_are_gone_for_every_command() {
    let server = Server::start(&[]);
    let mut c = server.raw();
    assert_eq!(c.cmd(&["SET", "k", "v", "PX", "30"]), "+OK\r\n");
    assert_eq!(c.cmd(&["SET", "l", "a"]), "+OK\r\n");
    assert_eq!(c.cmd(&["PEXPIRE", "l", "30"]), ":1\r\n");
    std::thread::sleep(Duration::from_millis(80));
    assert_eq!(c.cmd(&["GET", "k"]), "$-1\r\n");
    assert_eq!(c.cmd(&["TTL", "k"]), ":-2\r\n");
    assert_eq!(c.cmd(&["STRLEN", "l"]), ":0\r\n");
    assert_eq!(c.cmd(&["EXISTS", "k", "l"]), ":0\r\n");
    assert_eq!(c.cmd(&["SET", "k", "fresh", "NX"]), "+OK\r\n");
}

/// With active expiry off (`DEBUG SET-ACTIVE-EXPIRE 0`), an expired key still counts
/// in DBSIZE until something touches it; touching it deletes it.
#[test]
fn lazy_expiry_on_access() {
    let server = Server::start(&["--enable-debug-command", "yes"]);
    let mut c = server.raw();
    assert_eq!(c.cmd(&["DEBUG", "SET-ACTIVE-EXPIRE", "0"]), "+OK\r\n");
    for i in 0..10 {
        assert_eq!(
            c.cmd(&["SET", &format!("k{i}"), "v", "PX", "20"]),
            "+OK\r\n"
        );
    }
    assert_eq!(c.cmd(&["SET", "stays", "v"]), "+OK\r\n");
    std::thread::sleep(Duration::from_millis(120));
    assert_eq!(
        dbsize(&mut c),
        11,
        "nothing reclaimed yet: active expiry is off"
    );
    assert_eq!(c.cmd(&["GET", "k0"]), "$-1\r\n");
    assert_eq!(c.cmd(&["EXISTS", "k1", "k2"]), ":0\r\n");
    assert_eq!(dbsize(&mut c), 8);
    let stats = c.cmd(&["INFO", "stats"]).text();
    assert_eq!(info_field(&stats, "expired_keys"), Some("3"), "{stats}");
}

/// Active expiry reclaims expired keys that nobody touches.
#[test]
fn active_expiry_reclaims_untouched_keys() {
    let server = Server::start(&[]);
    let mut c = server.raw();
    let mut pipeline = Vec::new();
    for i in 0..1000 {
        pipeline.extend(corvid_tests::multibulk(&[
            "SET",
            &format!("k{i}"),
            "v",
            "PX",
            "50",
        ]));
    }
    c.send(&pipeline);
    assert!(c.read_replies(1000).iter().all(|r| r == "+OK\r\n"));
    assert_eq!(c.cmd(&["SET", "stays", "v"]), "+OK\r\n");
    eventually(
        Duration::from_secs(10),
        "active expiry empties the keyspace",
        || dbsize(&mut c) == 1,
    );
    let stats = c.cmd(&["INFO", "stats"]).text();
    assert_eq!(info_field(&stats, "expired_keys"), Some("1000"), "{stats}");
    let keyspace = c.cmd(&["INFO", "keyspace"]).text();
    assert!(keyspace.contains("db0:keys=1,expires=0,"), "{keyspace}");
}

#[test]
fn dump_of_strings_is_redis_rdb_bytes() {
    let server = Server::start(&[]);
    let mut c = server.raw();
    assert_eq!(c.cmd(&["DUMP", "nokey"]), "$-1\r\n");
    // Payload: RDB type, RDB-encoded value, RDB version 10 (2 bytes LE), CRC64 (8 bytes LE).
    assert_eq!(c.cmd(&["SET", "s", "hello"]), "+OK\r\n");
    assert_eq!(
        c.cmd(&["DUMP", "s"]),
        b"$17\r\n\x00\x05hello\x0a\x00cr\xdfve4 \n\r\n"
    );
    // An integer-encoded value is dumped in RDB's integer string encoding.
    assert_eq!(c.cmd(&["SET", "n", "123"]), "+OK\r\n");
    assert_eq!(
        c.cmd(&["DUMP", "n"]),
        b"$13\r\n\x00\xc0{\x0a\x00H\xe2S\xe1\x00zg\xb9\r\n"
    );
}

/// DUMP payloads captured from redis-server 7.0.15, with the value and
/// encoding each must restore to.
#[test]
fn restore_payloads_written_by_redis() {
    let raw: String = ('a'..='z').chain('A'..='Z').collect();
    let cases: [(&str, &str, String, &str); 4] = [
        ("int", "00c07b0a0048e253e1007a67b9", "123".into(), "int"),
        ("embstr", "000568656c6c6f0a006372df766534200a", "hello".into(), "embstr"),
        (
            "raw",
            "00346162636465666768696a6b6c6d6e6f707172737475767778797a4142434445464748494a4b4c4d4e4f505152535455565758595a0a00f6e71cd7a2740249",
            raw,
            "raw",
        ),
        ("lzf", "00c3094064017878e057000178780a005db7f663bb08625f", "x".repeat(100), "raw"),
    ];
    let server = Server::start(&[]);
    let mut c = server.raw();
    for (key, payload, value, encoding) in cases {
        let bytes = corvid_tests::from_hex(payload);
        assert_eq!(c.cmd_bytes(&[b"RESTORE".as_slice(), key.as_bytes(), b"0", &bytes]), "+OK\r\n", "{key}");
        assert_eq!(c.cmd(&["GET", key]), format!("${}\r\n{value}\r\n", value.len()).as_str(), "{key}");
        assert_eq!(
            c.cmd(&["OBJECT", "ENCODING", key]),
            format!("${}\r\n{encoding}\r\n", encoding.len()).as_str(),
            "{key}"
        );
        // Dumping it again gives Redis's bytes back.
        let mut expected = format!("${}\r\n", bytes.len()).into_bytes();
        expected.extend_from_slice(&bytes);
        expected.extend_from_slice(b"\r\n");
        assert_eq!(c.cmd(&["DUMP", key]), expected, "{key}");
    }
}

/// Everything a key holds, in a canonical order, for comparing a key with its copy.
fn contents(con: &mut redis::Connection, key: &str) -> Vec<String> {
    let kind: String = redis::cmd("TYPE").arg(key).query(con).unwrap();
    let mut items: Vec<String> = match kind.as_str() {
        "string" => vec![con.get(key).unwrap()],
        other => panic!("{key} has unexpected type {other}"),
    };
    items.insert(0, kind);
    items
}

#[test]
fn dump_restore_round_trip_of_every_type() {
    let server = Server::start(&[]);
    let mut con = server.client();
    let _: () = con.set("string", "x".repeat(100)).unwrap();
    let _: () = con.set("int", 12345).unwrap();

    for key in ["string", "int"] {
        let payload: Vec<u8> = redis::cmd("DUMP").arg(key).query(&mut con).unwrap();
        let copy = format!("{key}:restored");
        let _: () = redis::cmd("RESTORE")
            .arg(&copy)
            .arg(0)
            .arg(&payload)
            .query(&mut con)
            .unwrap();
        let original = contents(&mut con, key);
        let restored = contents(&mut con, &copy);
        assert!(original == restored, "{key}: the restored copy differs");
        let encoding: String = redis::cmd("OBJECT")
            .arg("ENCODING")
            .arg(key)
            .query(&mut con)
            .unwrap();
        let restored_encoding: String = redis::cmd("OBJECT")
            .arg("ENCODING")
            .arg(&copy)
            .query(&mut con)
            .unwrap();
        assert_eq!(encoding, restored_encoding, "{key}");
    }
}

#[test]
fn restore_options_and_errors() {
    let server = Server::start(&[]);
    let mut c = server.raw();
    let payload = b"\x00\x05hello\x0a\x00cr\xdfve4 \n";
    let restore = |c: &mut RawConn, extra: &[&str]| {
        let mut args: Vec<&[u8]> = vec![b"RESTORE", b"k"];
        args.extend(extra.iter().take(1).map(|s| s.as_bytes()));
        args.push(payload);
        args.extend(extra.iter().skip(1).map(|s| s.as_bytes()));
        c.cmd_bytes(&args)
    };
    assert_eq!(restore(&mut c, &["0"]), "+OK\r\n");
    assert_eq!(c.cmd(&["GET", "k"]), "$5\r\nhello\r\n");
    assert_eq!(c.cmd(&["TTL", "k"]), ":-1\r\n");
    assert_eq!(
        restore(&mut c, &["0"]),
        "-BUSYKEY Target key name already exists.\r\n"
    );
    assert_eq!(restore(&mut c, &["100000", "REPLACE"]), "+OK\r\n");
    assert_eq!(c.cmd(&["TTL", "k"]), ":100\r\n");
    assert_eq!(
        restore(&mut c, &["33177117420000", "REPLACE", "ABSTTL"]),
        "+OK\r\n"
    );
    assert_eq!(c.cmd(&["EXPIRETIME", "k"]), ":33177117420\r\n");
    assert_eq!(
        restore(&mut c, &["-1", "REPLACE"]),
        "-ERR Invalid TTL value, must be >= 0\r\n"
    );
    assert_eq!(restore(&mut c, &["0", "REPLACE", "FOO"]), SYNTAX);

    let mut corrupt = payload.to_vec();
    corrupt[3] ^= 1;
    assert_eq!(
        c.cmd_bytes(&[&b"RESTORE"[..], b"other", b"0", &corrupt]),
        "-ERR DUMP payload version or checksum are wrong\r\n"
    );
    assert_eq!(
        c.cmd(&["RESTORE", "other", "0", "short"]),
        "-ERR DUMP payload version or checksum are wrong\r\n"
    );
    assert_eq!(c.cmd(&["EXISTS", "other"]), ":0\r\n");
}

/// CLIENT NO-TOUCH (Redis 7.2, which Corvid serves): while on, reads leave
/// the key's LFU counter alone, TOUCH still counts. With lfu-log-factor 0
/// every access increments the counter, so the counts are exact. Redis 7.0
/// predates the subcommand and must say so in its own words.
#[test]
fn client_no_touch_leaves_access_bits_alone() {
    let server = Server::start(&["--maxmemory-policy", "allkeys-lfu", "--lfu-log-factor", "0"]);
    let mut c = server.raw();
    let info = c.cmd(&["INFO", "server"]).text();
    assert_eq!(c.cmd(&["SET", "k", "v"]), "+OK\r\n");
    assert_eq!(c.cmd(&["OBJECT", "FREQ", "k"]), ":5\r\n");
    assert_eq!(c.cmd(&["GET", "k"]), "$1\r\nv\r\n");
    assert_eq!(c.cmd(&["OBJECT", "FREQ", "k"]), ":6\r\n");
    let reply = c.cmd(&["CLIENT", "NO-TOUCH", "ON"]);
    if reply == "+OK\r\n" {
        for _ in 0..3 {
            assert_eq!(c.cmd(&["GET", "k"]), "$1\r\nv\r\n");
        }
        assert_eq!(c.cmd(&["OBJECT", "FREQ", "k"]), ":6\r\n");
        assert_eq!(c.cmd(&["TOUCH", "k"]), ":1\r\n");
        assert_eq!(c.cmd(&["OBJECT", "FREQ", "k"]), ":7\r\n");
        assert_eq!(c.cmd(&["CLIENT", "NO-TOUCH", "OFF"]), "+OK\r\n");
        assert_eq!(c.cmd(&["GET", "k"]), "$1\r\nv\r\n");
        assert_eq!(c.cmd(&["OBJECT", "FREQ", "k"]), ":8\r\n");
        assert_eq!(c.cmd(&["CLIENT", "NO-TOUCH", "MAYBE"]), SYNTAX);
    } else {
        assert!(info_field(&info, "redis_version").is_some_and(|v| v.starts_with("7.0.")), "{info}");
        assert_eq!(reply, "-ERR unknown subcommand 'NO-TOUCH'. Try CLIENT HELP.\r\n");
    }
}

/// Every collection type through the generic key commands: TYPE, DEL of
/// several types at once, RENAME/COPY/MOVE carrying the value, SCAN's TYPE
/// filter, and DUMP payloads written by Redis 7.0.15 (one per compact
/// encoding) restoring with their contents and encodings and dumping back
/// byte for byte.
#[test]
fn collections_through_generic_key_commands() {
    let server = Server::start(&[]);
    let mut c = server.raw();
    assert_eq!(c.cmd(&["SET", "str", "v"]), "+OK\r\n");
    assert_eq!(c.cmd(&["RPUSH", "list", "v"]), ":1\r\n");
    assert_eq!(c.cmd(&["SADD", "set", "v"]), ":1\r\n");
    assert_eq!(c.cmd(&["ZADD", "zset", "1", "v"]), ":1\r\n");
    assert_eq!(c.cmd(&["HSET", "hash", "f", "v"]), ":1\r\n");
    for (key, kind) in [("str", "string"), ("list", "list"), ("set", "set"), ("zset", "zset"), ("hash", "hash")] {
        assert_eq!(c.cmd(&["TYPE", key]), format!("+{kind}\r\n").as_str());
        let scanned = c.cmd(&["SCAN", "0", "TYPE", kind, "COUNT", "1000"]).text();
        assert!(scanned.ends_with(&format!("*1\r\n${}\r\n{key}\r\n", key.len())), "{kind}: {scanned}");
    }
    assert_eq!(c.cmd(&["COPY", "hash", "hash2"]), ":1\r\n");
    assert_eq!(c.cmd(&["HSET", "hash", "g", "w"]), ":1\r\n");
    assert_eq!(c.cmd(&["HLEN", "hash2"]), ":1\r\n");
    assert_eq!(c.cmd(&["RENAME", "zset", "z2"]), "+OK\r\n");
    assert_eq!(c.cmd(&["ZSCORE", "z2", "v"]), "$1\r\n1\r\n");
    assert_eq!(c.cmd(&["MOVE", "set", "1"]), ":1\r\n");
    assert_eq!(c.cmd(&["SELECT", "1"]), "+OK\r\n");
    assert_eq!(c.cmd(&["SMEMBERS", "set"]), "*1\r\n$1\r\nv\r\n");
    assert_eq!(c.cmd(&["SELECT", "0"]), "+OK\r\n");
    assert_eq!(c.cmd(&["DEL", "str", "list", "set", "z2", "hash", "hash2"]), ":5\r\n");
    assert_eq!(c.cmd(&["DBSIZE"]), ":0\r\n");

    let cases: [(&str, &str, &[&str], &str, &str); 4] = [
        (
            "hash",
            "1012120000000400816602817602816e020101ff0a00fce408f17922e016",
            &["HGETALL", "hash"],
            "*4\r\n$1\r\nf\r\n$1\r\nv\r\n$1\r\nn\r\n$1\r\n1\r\n",
            "listpack",
        ),
        (
            "intset",
            "0b0e02000000030000000100020003000a00a5025ce26d6e4d1b",
            &["SMEMBERS", "intset"],
            "*3\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n",
            "intset",
        ),
        ("set", "020101610a006296e97e44d21a6d", &["SMEMBERS", "set"], "*1\r\n$1\r\na\r\n", "hashtable"),
        (
            "zset",
            "111414000000040081610283312e35048162020201ff0a00fa02b425af188763",
            &["ZRANGE", "zset", "0", "-1", "WITHSCORES"],
            "*4\r\n$1\r\na\r\n$3\r\n1.5\r\n$1\r\nb\r\n$1\r\n2\r\n",
            "listpack",
        ),
    ];
    for (key, hex, read, contents, encoding) in cases {
        let payload = corvid_tests::from_hex(hex);
        assert_eq!(c.cmd_bytes(&[&b"RESTORE"[..], key.as_bytes(), b"0", &payload]), "+OK\r\n", "{key}");
        assert_eq!(c.cmd(read), contents, "{key}");
        assert_eq!(c.cmd(&["OBJECT", "ENCODING", key]), format!("${}\r\n{encoding}\r\n", encoding.len()).as_str());
        let mut expected = format!("${}\r\n", payload.len()).into_bytes();
        expected.extend_from_slice(&payload);
        expected.extend_from_slice(b"\r\n");
        assert_eq!(c.cmd(&["DUMP", key]), expected, "{key}");
    }
}

/// DEBUG DIGEST-VALUE of sets, hashes and sorted sets is Redis's, so
/// digests agree across a mixed Redis/Corvid deployment (values captured
/// from redis-server 7.0.15).
#[test]
fn collection_digests_match_redis() {
    let server = Server::start(&["--enable-debug-command", "yes"]);
    let mut c = server.raw();
    c.cmd(&["SADD", "s", "1", "2", "3"]);
    c.cmd(&["HSET", "h", "f", "v", "g", "12"]);
    c.cmd(&["ZADD", "z", "1.5", "a", "2", "b", "-3", "c"]);
    assert_eq!(
        c.cmd(&["DEBUG", "DIGEST-VALUE", "s", "h", "z"]),
        "*3\r\n+2a462a3f51a1db89738ebbeef0c47ce1bbc85246\r\n+8530acc75d5274eb0fc0da86f28ed5533274a6d4\r\n+add5331972d6ca37e1c053ffb2901f1994fa3aba\r\n"
    );
}
