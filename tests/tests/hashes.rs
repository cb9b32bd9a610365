//! Hashes through the real door: every hash command's replies and errors
//! (HSCAN aside), when a listpack becomes a hashtable, RESP3 reply shapes,
//! and what the string commands do with a hash key. Each assertion holds
//! for Redis 7.0 too.

use corvid_tests::{RawConn, Server};

const WRONGTYPE: &str = "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n";

fn encoding(c: &mut RawConn, key: &str) -> String {
    c.cmd(&["OBJECT", "ENCODING", key]).text()
}

const LISTPACK: &str = "$8\r\nlistpack\r\n";
const HASHTABLE: &str = "$9\r\nhashtable\r\n";

#[test]
fn set_get_delete() {
    let server = Server::start(&[]);
    let mut c = server.raw();
    assert_eq!(c.cmd(&["HSET", "h", "a", "1", "b", "2"]), ":2\r\n");
    assert_eq!(c.cmd(&["HSET", "h", "a", "10", "c", "3"]), ":1\r\n", "only c is new");
    assert_eq!(c.cmd(&["HMSET", "h", "d", "-42"]), "+OK\r\n");
    assert_eq!(c.cmd(&["HSET", "h", "a", "1", "b"]), "-ERR wrong number of arguments for 'hset' command\r\n");
    assert_eq!(c.cmd(&["HMSET", "h", "a", "1", "b"]), "-ERR wrong number of arguments for 'hmset' command\r\n");
    assert_eq!(c.cmd(&["HSETNX", "h", "a", "x"]), ":0\r\n");
    assert_eq!(c.cmd(&["HSETNX", "h", "e", "5"]), ":1\r\n");
    assert_eq!(c.cmd(&["HSETNX", "new", "f", "v"]), ":1\r\n");
    assert_eq!(c.cmd(&["HGET", "h", "a"]), "$2\r\n10\r\n");
    assert_eq!(c.cmd(&["HGET", "h", "zz"]), "$-1\r\n");
    assert_eq!(c.cmd(&["HGET", "nokey", "a"]), "$-1\r\n");
    assert_eq!(c.cmd(&["HMGET", "h", "a", "zz", "d"]), "*3\r\n$2\r\n10\r\n$-1\r\n$3\r\n-42\r\n");
    assert_eq!(c.cmd(&["HMGET", "nokey", "a", "b"]), "*2\r\n$-1\r\n$-1\r\n");
    assert_eq!(c.cmd(&["HLEN", "h"]), ":5\r\n");
    assert_eq!(c.cmd(&["HLEN", "nokey"]), ":0\r\n");
    assert_eq!(c.cmd(&["HEXISTS", "h", "b"]), ":1\r\n");
    assert_eq!(c.cmd(&["HEXISTS", "h", "zz"]), ":0\r\n");
    assert_eq!(c.cmd(&["HEXISTS", "nokey", "b"]), ":0\r\n");
    // Integers count their sign and digits.
    assert_eq!(c.cmd(&["HSTRLEN", "h", "d"]), ":3\r\n");
    assert_eq!(c.cmd(&["HSTRLEN", "h", "zz"]), ":0\r\n");
    assert_eq!(c.cmd(&["HSTRLEN", "nokey", "a"]), ":0\r\n");
    assert_eq!(c.cmd(&["HDEL", "h", "a", "zz", "b"]), ":2\r\n");
    assert_eq!(c.cmd(&["HDEL", "nokey", "a"]), ":0\r\n");
    // Deleting the last fields deletes the key.
    assert_eq!(c.cmd(&["HDEL", "h", "c", "d", "e", "c"]), ":3\r\n");
    assert_eq!(c.cmd(&["EXISTS", "h"]), ":0\r\n");
}

#[test]
fn listing_fields_and_values() {
    let server = Server::start(&[]);
    let mut c = server.raw();
    c.cmd(&["HSET", "h", "f1", "v1", "f2", "2"]);
    // A listpack keeps insertion order.
    assert_eq!(c.cmd(&["HKEYS", "h"]), "*2\r\n$2\r\nf1\r\n$2\r\nf2\r\n");
    assert_eq!(c.cmd(&["HVALS", "h"]), "*2\r\n$2\r\nv1\r\n$1\r\n2\r\n");
    assert_eq!(c.cmd(&["HGETALL", "h"]), "*4\r\n$2\r\nf1\r\n$2\r\nv1\r\n$2\r\nf2\r\n$1\r\n2\r\n");
    assert_eq!(c.cmd(&["HKEYS", "nokey"]), "*0\r\n");
    assert_eq!(c.cmd(&["HVALS", "nokey"]), "*0\r\n");
    assert_eq!(c.cmd(&["HGETALL", "nokey"]), "*0\r\n");
    c.cmd(&["HELLO", "3"]);
    assert_eq!(c.cmd(&["HGETALL", "h"]), "%2\r\n$2\r\nf1\r\n$2\r\nv1\r\n$2\r\nf2\r\n$1\r\n2\r\n");
    assert_eq!(c.cmd(&["HGETALL", "nokey"]), "%0\r\n");
    assert_eq!(c.cmd(&["HKEYS", "nokey"]), "*0\r\n");
    assert_eq!(c.cmd(&["HGET", "nokey", "f"]), "_\r\n");
}

#[test]
fn listpack_to_hashtable_conversion() {
    let server = Server::start(&[]);
    let mut c = server.raw();
    c.cmd(&["CONFIG", "SET", "hash-max-listpack-entries", "3"]);
    c.cmd(&["CONFIG", "SET", "hash-max-listpack-value", "4"]);
    c.cmd(&["HSET", "n", "a", "1", "b", "2", "c", "3"]);
    assert_eq!(encoding(&mut c, "n"), LISTPACK);
    c.cmd(&["HSET", "n", "d", "4"]);
    assert_eq!(encoding(&mut c, "n"), HASHTABLE, "more fields than allowed");
    c.cmd(&["HSET", "v", "a", "1", "b", "12345"]);
    assert_eq!(encoding(&mut c, "v"), HASHTABLE, "a value too long");
    c.cmd(&["HSET", "f", "abcde", "1"]);
    assert_eq!(encoding(&mut c, "f"), HASHTABLE, "a field too long");
    // HSETNX on an existing field writes nothing, so nothing converts.
    c.cmd(&["HSET", "nx", "a", "1"]);
    assert_eq!(c.cmd(&["HSETNX", "nx", "a", "toolong"]), ":0\r\n");
    assert_eq!(encoding(&mut c, "nx"), LISTPACK);
    assert_eq!(c.cmd(&["HSETNX", "nx", "b", "toolong"]), ":1\r\n");
    assert_eq!(encoding(&mut c, "nx"), HASHTABLE);
    // An increment whose result is too long converts too.
    c.cmd(&["HSET", "i", "x", "9999"]);
    assert_eq!(c.cmd(&["HINCRBY", "i", "x", "1"]), ":10000\r\n");
    assert_eq!(encoding(&mut c, "i"), HASHTABLE);
    c.cmd(&["HSET", "fl", "x", "1"]);
    assert_eq!(c.cmd(&["HINCRBYFLOAT", "fl", "x", "0.25"]), "$4\r\n1.25\r\n");
    assert_eq!(encoding(&mut c, "fl"), LISTPACK);
    assert_eq!(c.cmd(&["HINCRBYFLOAT", "fl", "x", "0.125"]), "$5\r\n1.375\r\n");
    assert_eq!(encoding(&mut c, "fl"), HASHTABLE);
    // A hashtable stays one, and keeps every field.
    c.cmd(&["HDEL", "n", "a", "b", "c"]);
    assert_eq!(encoding(&mut c, "n"), HASHTABLE);
    assert_eq!(c.cmd(&["HGETALL", "n"]), "*2\r\n$1\r\nd\r\n$1\r\n4\r\n");
}

#[test]
fn hincrby_and_hincrbyfloat() {
    let server = Server::start(&[]);
    let mut c = server.raw();
    assert_eq!(c.cmd(&["HINCRBY", "h", "n", "5"]), ":5\r\n");
    assert_eq!(c.cmd(&["HINCRBY", "h", "n", "-7"]), ":-2\r\n");
    assert_eq!(c.cmd(&["HINCRBY", "h", "n", "x"]), "-ERR value is not an integer or out of range\r\n");
    c.cmd(&["HSET", "h", "s", "1.5", "sp", " 1", "big", "9223372036854775807", "inf", "inf"]);
    assert_eq!(c.cmd(&["HINCRBY", "h", "s", "1"]), "-ERR hash value is not an integer\r\n");
    assert_eq!(c.cmd(&["HINCRBY", "h", "sp", "1"]), "-ERR hash value is not an integer\r\n");
    assert_eq!(c.cmd(&["HINCRBY", "h", "big", "1"]), "-ERR increment or decrement would overflow\r\n");
    assert_eq!(c.cmd(&["HINCRBY", "h", "big", "-1"]), ":9223372036854775806\r\n");
    assert_eq!(c.cmd(&["HINCRBYFLOAT", "h", "n", "0.5"]), "$4\r\n-1.5\r\n");
    assert_eq!(c.cmd(&["HINCRBYFLOAT", "h", "s", "-1.6"]), "$4\r\n-0.1\r\n");
    assert_eq!(c.cmd(&["HINCRBYFLOAT", "h", "e", "5.0e3"]), "$4\r\n5000\r\n");
    assert_eq!(c.cmd(&["HINCRBYFLOAT", "h", "e", "2.0e2"]), "$4\r\n5200\r\n");
    assert_eq!(c.cmd(&["HINCRBYFLOAT", "h", "e", "x"]), "-ERR value is not a valid float\r\n");
    assert_eq!(c.cmd(&["HINCRBYFLOAT", "h", "e", "inf"]), "-ERR value is NaN or Infinity\r\n");
    assert_eq!(c.cmd(&["HINCRBYFLOAT", "h", "sp", "1"]), "-ERR hash value is not a float\r\n");
    assert_eq!(c.cmd(&["HINCRBYFLOAT", "h", "inf", "1"]), "-ERR increment would produce NaN or Infinity\r\n");
    assert_eq!(c.cmd(&["HGET", "h", "e"]), "$4\r\n5200\r\n");
    // The increment is checked before the key's type.
    c.cmd(&["SET", "str", "1"]);
    assert_eq!(c.cmd(&["HINCRBY", "str", "f", "x"]), "-ERR value is not an integer or out of range\r\n");
    assert_eq!(c.cmd(&["HINCRBYFLOAT", "str", "f", "x"]), "-ERR value is not a valid float\r\n");
    assert_eq!(c.cmd(&["HINCRBY", "str", "f", "1"]), WRONGTYPE);
    assert_eq!(c.cmd(&["HINCRBYFLOAT", "str", "f", "1"]), WRONGTYPE);
}

#[test]
fn hrandfield_replies() {
    let server = Server::start(&[]);
    let mut c = server.raw();
    assert_eq!(c.cmd(&["HRANDFIELD", "nokey"]), "$-1\r\n");
    assert_eq!(c.cmd(&["HRANDFIELD", "nokey", "5"]), "*0\r\n");
    c.cmd(&["HSET", "one", "f", "v"]);
    assert_eq!(c.cmd(&["HRANDFIELD", "one"]), "$1\r\nf\r\n");
    assert_eq!(c.cmd(&["HRANDFIELD", "one", "0"]), "*0\r\n");
    assert_eq!(c.cmd(&["HRANDFIELD", "one", "5"]), "*1\r\n$1\r\nf\r\n");
    assert_eq!(c.cmd(&["HRANDFIELD", "one", "-3"]), "*3\r\n$1\r\nf\r\n$1\r\nf\r\n$1\r\nf\r\n");
    assert_eq!(c.cmd(&["HRANDFIELD", "one", "-2", "WITHVALUES"]), "*4\r\n$1\r\nf\r\n$1\r\nv\r\n$1\r\nf\r\n$1\r\nv\r\n");
    assert_eq!(c.cmd(&["HRANDFIELD", "one", "1", "withvalues"]), "*2\r\n$1\r\nf\r\n$1\r\nv\r\n");
    assert_eq!(c.cmd(&["HRANDFIELD", "one", "1", "values"]), "-ERR syntax error\r\n");
    assert_eq!(c.cmd(&["HRANDFIELD", "one", "1", "withvalues", "x"]), "-ERR syntax error\r\n");
    assert_eq!(c.cmd(&["HRANDFIELD", "one", "x"]), "-ERR value is not an integer or out of range\r\n");
    assert_eq!(
        c.cmd(&["HRANDFIELD", "one", "-9223372036854775808"]),
        "-ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807\r\n"
    );
    assert_eq!(c.cmd(&["HRANDFIELD", "one", "-9223372036854770000", "WITHVALUES"]), "-ERR value is out of range\r\n");
    // Every field of a larger hash comes back for a count at least its size.
    c.cmd(&["HSET", "h", "a", "1", "b", "2", "c", "3"]);
    let all = c.cmd(&["HRANDFIELD", "h", "3", "WITHVALUES"]).text();
    assert!(all.starts_with("*6\r\n"), "{all:?}");
    for pair in ["$1\r\na\r\n$1\r\n1\r\n", "$1\r\nb\r\n$1\r\n2\r\n", "$1\r\nc\r\n$1\r\n3\r\n"] {
        assert!(all.contains(pair), "{all:?}");
    }
    c.cmd(&["HELLO", "3"]);
    assert_eq!(c.cmd(&["HRANDFIELD", "nokey"]), "_\r\n");
    assert_eq!(c.cmd(&["HRANDFIELD", "nokey", "1"]), "*0\r\n");
    // RESP3 nests each field with its value.
    assert_eq!(c.cmd(&["HRANDFIELD", "one", "-2", "WITHVALUES"]), "*2\r\n*2\r\n$1\r\nf\r\n$1\r\nv\r\n*2\r\n$1\r\nf\r\n$1\r\nv\r\n");
    assert_eq!(c.cmd(&["HRANDFIELD", "one", "3", "WITHVALUES"]), "*1\r\n*2\r\n$1\r\nf\r\n$1\r\nv\r\n");
    assert_eq!(c.cmd(&["HRANDFIELD", "one", "-2"]), "*2\r\n$1\r\nf\r\n$1\r\nf\r\n");
}

#[test]
fn hrandfield_distinct_picks() {
    let server = Server::start(&[]);
    let mut c = server.raw();
    let mut args = vec!["HSET".to_string(), "h".to_string()];
    for i in 0..30 {
        args.push(format!("f{i}"));
        args.push(i.to_string());
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    c.cmd(&args);
    for expected in [LISTPACK, HASHTABLE] {
        if expected == HASHTABLE {
            // Even an update converts a listpack holding too many fields.
            c.cmd(&["CONFIG", "SET", "hash-max-listpack-entries", "8"]);
            c.cmd(&["HSET", "h", "f0", "0"]);
        }
        assert_eq!(encoding(&mut c, "h"), expected);
        // Counts below a third of the hash and above it take different paths.
        for count in [3usize, 20] {
            let reply = c.cmd(&["HRANDFIELD", "h", &count.to_string()]).text();
            assert!(reply.starts_with(&format!("*{count}\r\n")), "{expected} {reply:?}");
            let mut fields: Vec<&str> = reply.split("\r\n").filter(|l| l.starts_with('f')).collect();
            fields.sort_unstable();
            fields.dedup();
            assert_eq!(fields.len(), count, "{expected} {reply:?}");
        }
    }
}

#[test]
fn hrandfield_huge_negative_count_is_cut_off() {
    let server = Server::start(&[]);
    let mut c = server.raw();
    c.cmd(&["HSET", "h", "f", "v"]);
    c.cmd(&["CONFIG", "SET", "client-output-buffer-limit", "normal 1mb 1mb 0"]);
    // Past the output buffer limit the client is dropped, not the server.
    c.send(&corvid_tests::multibulk(&["HRANDFIELD", "h", "-9223372036854775807"]));
    c.read_to_close();
    let mut d = server.raw();
    assert_eq!(d.cmd(&["HLEN", "h"]), ":1\r\n");
}

#[test]
fn other_commands_on_a_hash_key() {
    let server = Server::start(&[]);
    let mut c = server.raw();
    c.cmd(&["HSET", "h", "a", "1"]);
    assert_eq!(c.cmd(&["TYPE", "h"]), "+hash\r\n");
    for cmd in [
        &["GET", "h"][..],
        &["GETSET", "h", "x"],
        &["GETDEL", "h"],
        &["GETEX", "h", "PERSIST"],
        &["SET", "h", "x", "GET"],
        &["APPEND", "h", "x"],
        &["STRLEN", "h"],
        &["SETRANGE", "h", "0", "x"],
        &["GETRANGE", "h", "0", "1"],
        &["INCR", "h"],
        &["INCRBYFLOAT", "h", "1.5"],
        &["LPUSH", "h", "x"],
    ] {
        assert_eq!(c.cmd(cmd), WRONGTYPE, "{cmd:?}");
    }
    assert_eq!(c.cmd(&["MGET", "h", "nokey"]), "*2\r\n$-1\r\n$-1\r\n");
    assert_eq!(c.cmd(&["LCS", "h", "nokey"]), "-ERR The specified keys must contain string values\r\n");
    c.cmd(&["SET", "s", "x"]);
    for cmd in [
        &["HSET", "s", "a", "1"][..],
        &["HSETNX", "s", "a", "1"],
        &["HGET", "s", "a"],
        &["HMGET", "s", "a"],
        &["HDEL", "s", "a"],
        &["HLEN", "s"],
        &["HSTRLEN", "s", "a"],
        &["HEXISTS", "s", "a"],
        &["HKEYS", "s"],
        &["HVALS", "s"],
        &["HGETALL", "s"],
        &["HRANDFIELD", "s"],
        &["HRANDFIELD", "s", "2"],
    ] {
        assert_eq!(c.cmd(cmd), WRONGTYPE, "{cmd:?}");
    }
    // COPY and RENAME carry hashes; SET replaces one.
    assert_eq!(c.cmd(&["COPY", "h", "h2"]), ":1\r\n");
    assert_eq!(c.cmd(&["HSET", "h2", "b", "2"]), ":1\r\n");
    assert_eq!(c.cmd(&["HLEN", "h"]), ":1\r\n", "the copy is independent");
    assert_eq!(c.cmd(&["RENAME", "h2", "h3"]), "+OK\r\n");
    assert_eq!(c.cmd(&["HGETALL", "h3"]), "*4\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$1\r\n2\r\n");
    assert_eq!(c.cmd(&["SET", "h3", "now-a-string"]), "+OK\r\n");
    assert_eq!(c.cmd(&["TYPE", "h3"]), "+string\r\n");
}
