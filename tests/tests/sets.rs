//! Sets through the real door: every set command's replies and errors,
//! the intset/hashtable encodings and their thresholds, RESP3 set replies,
//! DUMP/RESTORE and DEBUG RELOAD of sets. Each assertion holds for Redis 7.0 too.

use corvid_tests::{RawConn, Server};

const WRONGTYPE: &str = "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n";

/// The members of a set reply, sorted (hashtable order is unspecified).
fn members(c: &mut RawConn, args: &[&str]) -> Vec<String> {
    let text = c.cmd(args).text();
    let mut lines = text.split("\r\n").filter(|l| !l.is_empty() && !l.starts_with('*') && !l.starts_with('$') && !l.starts_with('~'));
    let mut out: Vec<String> = lines.by_ref().map(str::to_owned).collect();
    out.sort();
    out
}

fn strs(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

#[test]
fn add_remove_members_and_encodings() {
    let server = Server::start(&["--set-max-intset-entries", "4"]);
    let mut c = server.raw();
    assert_eq!(c.cmd(&["SADD", "s", "3", "1", "2", "1"]), ":3\r\n");
    assert_eq!(c.cmd(&["OBJECT", "ENCODING", "s"]), "$6\r\nintset\r\n");
    // An intset replies in ascending order.
    assert_eq!(c.cmd(&["SMEMBERS", "s"]), "*3\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n");
    assert_eq!(c.cmd(&["SCARD", "s"]), ":3\r\n");
    assert_eq!(c.cmd(&["SISMEMBER", "s", "2"]), ":1\r\n");
    assert_eq!(c.cmd(&["SISMEMBER", "s", "02"]), ":0\r\n");
    assert_eq!(c.cmd(&["SMISMEMBER", "s", "1", "9", "3"]), "*3\r\n:1\r\n:0\r\n:1\r\n");
    assert_eq!(c.cmd(&["SMISMEMBER", "nokey", "1"]), "*1\r\n:0\r\n");
    // A fifth integer passes set-max-intset-entries; a string converts at once.
    assert_eq!(c.cmd(&["SADD", "s", "4", "5"]), ":2\r\n");
    assert_eq!(c.cmd(&["OBJECT", "ENCODING", "s"]), "$9\r\nhashtable\r\n");
    assert_eq!(c.cmd(&["SADD", "t", "1", "x"]), ":2\r\n");
    assert_eq!(c.cmd(&["OBJECT", "ENCODING", "t"]), "$9\r\nhashtable\r\n");
    assert_eq!(c.cmd(&["SREM", "t", "x", "nope", "1"]), ":2\r\n");
    assert_eq!(c.cmd(&["EXISTS", "t"]), ":0\r\n");
    assert_eq!(c.cmd(&["SREM", "nokey", "a"]), ":0\r\n");
    assert_eq!(c.cmd(&["SCARD", "nokey"]), ":0\r\n");
    assert_eq!(c.cmd(&["SMEMBERS", "nokey"]), "*0\r\n");
    assert_eq!(c.cmd(&["TYPE", "s"]), "+set\r\n");
    c.cmd(&["SET", "str", "v"]);
    assert_eq!(c.cmd(&["SADD", "str", "a"]), WRONGTYPE);
    assert_eq!(c.cmd(&["SCARD", "str"]), WRONGTYPE);
    assert_eq!(c.cmd(&["GET", "s"]), WRONGTYPE);
    assert_eq!(c.cmd(&["SADD", "s"]), "-ERR wrong number of arguments for 'sadd' command\r\n");
}

#[test]
fn smove_moves_and_checks_types() {
    let server = Server::start(&[]);
    let mut c = server.raw();
    c.cmd(&["SADD", "a", "1", "2"]);
    c.cmd(&["SADD", "b", "x"]);
    assert_eq!(c.cmd(&["SMOVE", "a", "b", "1"]), ":1\r\n");
    assert_eq!(c.cmd(&["SMOVE", "a", "b", "9"]), ":0\r\n");
    assert_eq!(c.cmd(&["SMOVE", "nokey", "b", "1"]), ":0\r\n");
    assert_eq!(c.cmd(&["SMOVE", "a", "a", "2"]), ":1\r\n");
    assert_eq!(c.cmd(&["SMOVE", "a", "new", "2"]), ":1\r\n");
    assert_eq!(c.cmd(&["EXISTS", "a"]), ":0\r\n");
    assert_eq!(c.cmd(&["OBJECT", "ENCODING", "new"]), "$6\r\nintset\r\n");
    assert_eq!(members(&mut c, &["SMEMBERS", "b"]), strs(&["1", "x"]));
    c.cmd(&["SET", "str", "v"]);
    assert_eq!(c.cmd(&["SMOVE", "b", "str", "x"]), WRONGTYPE);
    assert_eq!(c.cmd(&["SMOVE", "str", "b", "x"]), WRONGTYPE);
    assert_eq!(c.cmd(&["SMOVE", "nokey", "str", "x"]), ":0\r\n");
}

#[test]
fn pop_and_random_members() {
    let server = Server::start(&[]);
    let mut c = server.raw();
    assert_eq!(c.cmd(&["SPOP", "nokey"]), "$-1\r\n");
    assert_eq!(c.cmd(&["SPOP", "nokey", "3"]), "*0\r\n");
    assert_eq!(c.cmd(&["SRANDMEMBER", "nokey"]), "$-1\r\n");
    assert_eq!(c.cmd(&["SRANDMEMBER", "nokey", "3"]), "*0\r\n");
    c.cmd(&["SADD", "s", "a", "b", "c", "d", "e"]);
    assert_eq!(c.cmd(&["SPOP", "s", "-1"]), "-ERR value is out of range, must be positive\r\n");
    assert_eq!(c.cmd(&["SPOP", "s", "x"]), "-ERR value is out of range, must be positive\r\n");
    assert_eq!(c.cmd(&["SPOP", "s", "0"]), "*0\r\n");
    assert_eq!(c.cmd(&["SPOP", "s", "1", "2"]), "-ERR syntax error\r\n");
    assert_eq!(
        c.cmd(&["SRANDMEMBER", "s", "-9223372036854775808"]),
        "-ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807\r\n"
    );
    assert_eq!(c.cmd(&["SRANDMEMBER", "s", "x"]), "-ERR value is not an integer or out of range\r\n");
    // Negative counts repeat members; positive ones never exceed the set.
    assert!(c.cmd(&["SRANDMEMBER", "s", "-20"]).starts_with("*20\r\n"));
    assert!(c.cmd(&["SRANDMEMBER", "s", "3"]).starts_with("*3\r\n"));
    assert_eq!(members(&mut c, &["SRANDMEMBER", "s", "100"]), strs(&["a", "b", "c", "d", "e"]));
    assert_eq!(c.cmd(&["SRANDMEMBER", "s", "0"]), "*0\r\n");
    let popped = members(&mut c, &["SPOP", "s", "2"]);
    assert_eq!(popped.len(), 2);
    assert_eq!(c.cmd(&["SCARD", "s"]), ":3\r\n");
    // Popping what is left (and more) returns the rest and deletes the key.
    let mut rest = members(&mut c, &["SPOP", "s", "10"]);
    rest.extend(popped);
    rest.sort();
    assert_eq!(rest, strs(&["a", "b", "c", "d", "e"]));
    assert_eq!(c.cmd(&["EXISTS", "s"]), ":0\r\n");
    c.cmd(&["SADD", "one", "z"]);
    assert_eq!(c.cmd(&["SPOP", "one"]), "$1\r\nz\r\n");
    assert_eq!(c.cmd(&["EXISTS", "one"]), ":0\r\n");
}

#[test]
fn algebra_and_store() {
    let server = Server::start(&[]);
    let mut c = server.raw();
    c.cmd(&["SADD", "a", "1", "2", "3", "x"]);
    c.cmd(&["SADD", "b", "2", "3", "4"]);
    c.cmd(&["SADD", "c", "3", "9"]);
    assert_eq!(members(&mut c, &["SINTER", "a", "b"]), strs(&["2", "3"]));
    assert_eq!(members(&mut c, &["SINTER", "a", "b", "c"]), strs(&["3"]));
    assert_eq!(c.cmd(&["SINTER", "a", "nokey"]), "*0\r\n");
    assert_eq!(members(&mut c, &["SUNION", "a", "nokey", "c"]), strs(&["1", "2", "3", "9", "x"]));
    assert_eq!(members(&mut c, &["SDIFF", "a", "b", "nokey"]), strs(&["1", "x"]));
    assert_eq!(c.cmd(&["SDIFF", "a", "a"]), "*0\r\n");
    assert_eq!(c.cmd(&["SINTERCARD", "2", "a", "b"]), ":2\r\n");
    assert_eq!(c.cmd(&["SINTERCARD", "2", "a", "b", "LIMIT", "1"]), ":1\r\n");
    assert_eq!(c.cmd(&["SINTERCARD", "0", "a"]), "-ERR numkeys should be greater than 0\r\n");
    assert_eq!(c.cmd(&["SINTERCARD", "x", "a"]), "-ERR numkeys should be greater than 0\r\n");
    assert_eq!(c.cmd(&["SINTERCARD", "3", "a", "b"]), "-ERR Number of keys can't be greater than number of args\r\n");
    assert_eq!(c.cmd(&["SINTERCARD", "1", "a", "LIMIT", "-1"]), "-ERR LIMIT can't be negative\r\n");
    assert_eq!(c.cmd(&["SINTERCARD", "1", "a", "FOO"]), "-ERR syntax error\r\n");
    // Results are built member by member: integers only give an intset.
    assert_eq!(c.cmd(&["SINTERSTORE", "d", "a", "b"]), ":2\r\n");
    assert_eq!(c.cmd(&["OBJECT", "ENCODING", "d"]), "$6\r\nintset\r\n");
    assert_eq!(c.cmd(&["SUNIONSTORE", "d", "a", "c"]), ":5\r\n");
    assert_eq!(c.cmd(&["OBJECT", "ENCODING", "d"]), "$9\r\nhashtable\r\n");
    assert_eq!(c.cmd(&["SDIFFSTORE", "d", "a", "b"]), ":2\r\n");
    // An empty result deletes the destination.
    assert_eq!(c.cmd(&["SINTERSTORE", "d", "a", "nokey"]), ":0\r\n");
    assert_eq!(c.cmd(&["EXISTS", "d"]), ":0\r\n");
    c.cmd(&["SET", "str", "v"]);
    assert_eq!(c.cmd(&["SINTER", "a", "str"]), WRONGTYPE);
    assert_eq!(c.cmd(&["SINTER", "nokey", "str"]), WRONGTYPE);
    assert_eq!(c.cmd(&["SUNIONSTORE", "d", "a", "str"]), WRONGTYPE);
    // The destination may be of any type: it is replaced.
    assert_eq!(c.cmd(&["SUNIONSTORE", "str", "c"]), ":2\r\n");
    assert_eq!(c.cmd(&["TYPE", "str"]), "+set\r\n");
}

#[test]
fn resp3_replies_are_sets() {
    let server = Server::start(&[]);
    let mut c = server.raw();
    c.cmd(&["HELLO", "3"]);
    c.cmd(&["SADD", "s", "1", "2"]);
    assert_eq!(c.cmd(&["SMEMBERS", "s"]), "~2\r\n$1\r\n1\r\n$1\r\n2\r\n");
    assert_eq!(c.cmd(&["SINTER", "s", "s"]), "~2\r\n$1\r\n1\r\n$1\r\n2\r\n");
    assert_eq!(c.cmd(&["SUNION", "nokey"]), "~0\r\n");
    assert_eq!(c.cmd(&["SPOP", "nokey", "1"]), "~0\r\n");
    // SRANDMEMBER with a count stays an array.
    assert_eq!(c.cmd(&["SRANDMEMBER", "s", "5"]), "*2\r\n$1\r\n1\r\n$1\r\n2\r\n");
}

#[test]
fn sscan_walks_every_member() {
    let server = Server::start(&[]);
    let mut c = server.raw();
    assert_eq!(c.cmd(&["SSCAN", "nokey", "0"]), "*2\r\n$1\r\n0\r\n*0\r\n");
    c.cmd(&["SADD", "small", "1", "2", "3"]);
    assert_eq!(c.cmd(&["SSCAN", "small", "0", "MATCH", "2"]), "*2\r\n$1\r\n0\r\n*1\r\n$1\r\n2\r\n");
    assert_eq!(c.cmd(&["SSCAN", "small", "x"]), "-ERR invalid cursor\r\n");
    assert_eq!(c.cmd(&["SSCAN", "small", "0", "TYPE", "set"]), "-ERR syntax error\r\n");
    assert_eq!(c.cmd(&["SSCAN", "small", "0", "COUNT", "0"]), "-ERR syntax error\r\n");
    let mut add = vec!["SADD", "big"];
    let names: Vec<String> = (0..1000).map(|i| format!("m{i}")).collect();
    add.extend(names.iter().map(String::as_str));
    c.cmd(&add);
    let mut seen = std::collections::BTreeSet::new();
    let mut cursor = "0".to_string();
    loop {
        let reply = c.cmd(&["SSCAN", "big", &cursor, "COUNT", "50"]).text();
        let lines: Vec<&str> = reply.split("\r\n").collect();
        cursor = lines[2].to_string();
        seen.extend(lines[4..].iter().filter(|l| l.starts_with('m')).map(|l| l.to_string()));
        if cursor == "0" {
            break;
        }
    }
    assert_eq!(seen.len(), 1000);
    c.cmd(&["SET", "str", "v"]);
    assert_eq!(c.cmd(&["SSCAN", "str", "0"]), WRONGTYPE);
}

#[test]
fn dump_restore_and_reload_keep_sets() {
    let server = Server::start(&["--enable-debug-command", "yes"]);
    let mut c = server.raw();
    // Captured from redis-server 7.0.15: SADD is 1 2 3 (intset), SADD hs a (hashtable).
    for (key, hex, encoding) in [
        ("is", "0b0e02000000030000000100020003000a00a5025ce26d6e4d1b", "intset"),
        ("hs", "020101610a006296e97e44d21a6d", "hashtable"),
    ] {
        let payload = corvid_tests::from_hex(hex);
        assert_eq!(c.cmd_bytes(&[b"RESTORE".as_slice(), key.as_bytes(), b"0", &payload]), "+OK\r\n");
        assert_eq!(c.cmd(&["OBJECT", "ENCODING", key]), format!("${}\r\n{encoding}\r\n", encoding.len()).as_str());
        let mut expected = format!("${}\r\n", payload.len()).into_bytes();
        expected.extend_from_slice(&payload);
        expected.extend_from_slice(b"\r\n");
        assert_eq!(c.cmd(&["DUMP", key]), expected);
    }
    assert_eq!(c.cmd(&["SMEMBERS", "is"]), "*3\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n");
    let mut add = vec!["SADD", "big"];
    let names: Vec<String> = (0..600).map(|i| i.to_string()).collect();
    add.extend(names.iter().map(String::as_str));
    c.cmd(&add);
    assert_eq!(c.cmd(&["OBJECT", "ENCODING", "big"]), "$9\r\nhashtable\r\n");
    let digest = c.cmd(&["DEBUG", "DIGEST"]);
    assert!(digest.starts_with("+") && !digest.starts_with("+0000"));
    assert_eq!(c.cmd(&["DEBUG", "RELOAD"]), "+OK\r\n");
    assert_eq!(c.cmd(&["DEBUG", "DIGEST"]), digest);
    assert_eq!(c.cmd(&["OBJECT", "ENCODING", "is"]), "$6\r\nintset\r\n");
    assert_eq!(c.cmd(&["OBJECT", "ENCODING", "big"]), "$9\r\nhashtable\r\n");
    assert_eq!(c.cmd(&["SCARD", "big"]), ":600\r\n");
}
