//! Lists through the real door: every non-blocking list command's replies and
//! errors, what the other commands do with a list key, and DUMP/RESTORE of
//! lists. Each assertion holds for Redis 7.0 too.

use corvid_tests::{RawConn, Server};

const WRONGTYPE: &str = "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n";

fn range(c: &mut RawConn, key: &str) -> String {
    c.cmd(&["LRANGE", key, "0", "-1"]).text()
}

#[test]
fn push_pop_and_ranges() {
    let server = Server::start(&[]);
    let mut c = server.raw();
    assert_eq!(c.cmd(&["RPUSH", "l", "a", "b", "c"]), ":3\r\n");
    assert_eq!(c.cmd(&["LPUSH", "l", "z", "y"]), ":5\r\n");
    assert_eq!(range(&mut c, "l"), "*5\r\n$1\r\ny\r\n$1\r\nz\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n");
    assert_eq!(c.cmd(&["LPUSHX", "nokey", "a"]), ":0\r\n");
    assert_eq!(c.cmd(&["RPUSHX", "l", "d"]), ":6\r\n");
    assert_eq!(c.cmd(&["EXISTS", "nokey"]), ":0\r\n");
    assert_eq!(c.cmd(&["LLEN", "l"]), ":6\r\n");
    assert_eq!(c.cmd(&["LLEN", "nokey"]), ":0\r\n");
    assert_eq!(c.cmd(&["LRANGE", "l", "-2", "100"]), "*2\r\n$1\r\nc\r\n$1\r\nd\r\n");
    assert_eq!(c.cmd(&["LRANGE", "l", "4", "2"]), "*0\r\n");
    assert_eq!(c.cmd(&["LRANGE", "l", "0", "x"]), "-ERR value is not an integer or out of range\r\n");
    assert_eq!(c.cmd(&["LPOP", "l"]), "$1\r\ny\r\n");
    assert_eq!(c.cmd(&["RPOP", "l", "2"]), "*2\r\n$1\r\nd\r\n$1\r\nc\r\n");
    assert_eq!(c.cmd(&["LPOP", "l", "0"]), "*0\r\n");
    assert_eq!(c.cmd(&["LPOP", "l", "-1"]), "-ERR value is out of range, must be positive\r\n");
    assert_eq!(c.cmd(&["LPOP", "nokey"]), "$-1\r\n");
    assert_eq!(c.cmd(&["LPOP", "nokey", "2"]), "*-1\r\n");
    assert_eq!(c.cmd(&["LPOP", "l", "1", "2"]), "-ERR wrong number of arguments for 'lpop' command\r\n");
    // Popping the last elements deletes the key.
    assert_eq!(c.cmd(&["LPOP", "l", "10"]), "*3\r\n$1\r\nz\r\n$1\r\na\r\n$1\r\nb\r\n");
    assert_eq!(c.cmd(&["EXISTS", "l"]), ":0\r\n");
}

#[test]
fn index_set_insert_remove_trim() {
    let server = Server::start(&[]);
    let mut c = server.raw();
    c.cmd(&["RPUSH", "l", "a", "1", "a", "b", "a"]);
    assert_eq!(c.cmd(&["LINDEX", "l", "-1"]), "$1\r\na\r\n");
    assert_eq!(c.cmd(&["LINDEX", "l", "1"]), "$1\r\n1\r\n");
    assert_eq!(c.cmd(&["LINDEX", "l", "99"]), "$-1\r\n");
    assert_eq!(c.cmd(&["LINDEX", "nokey", "x"]), "$-1\r\n");
    assert_eq!(c.cmd(&["LSET", "l", "1", "one"]), "+OK\r\n");
    assert_eq!(c.cmd(&["LSET", "l", "9", "x"]), "-ERR index out of range\r\n");
    assert_eq!(c.cmd(&["LSET", "nokey", "0", "x"]), "-ERR no such key\r\n");
    assert_eq!(c.cmd(&["LINSERT", "l", "BEFORE", "b", "x"]), ":6\r\n");
    assert_eq!(c.cmd(&["LINSERT", "l", "AFTER", "nope", "x"]), ":-1\r\n");
    assert_eq!(c.cmd(&["LINSERT", "nokey", "AFTER", "a", "x"]), ":0\r\n");
    assert_eq!(c.cmd(&["LINSERT", "l", "MIDDLE", "a", "x"]), "-ERR syntax error\r\n");
    assert_eq!(c.cmd(&["LREM", "l", "-1", "a"]), ":1\r\n");
    assert_eq!(range(&mut c, "l"), "*5\r\n$1\r\na\r\n$3\r\none\r\n$1\r\na\r\n$1\r\nx\r\n$1\r\nb\r\n");
    assert_eq!(c.cmd(&["LREM", "l", "0", "a"]), ":2\r\n");
    assert_eq!(c.cmd(&["LTRIM", "l", "1", "-1"]), "+OK\r\n");
    assert_eq!(range(&mut c, "l"), "*2\r\n$1\r\nx\r\n$1\r\nb\r\n");
    assert_eq!(c.cmd(&["LTRIM", "nokey", "0", "1"]), "+OK\r\n");
    assert_eq!(c.cmd(&["LTRIM", "l", "5", "1"]), "+OK\r\n");
    assert_eq!(c.cmd(&["EXISTS", "l"]), ":0\r\n");
}

#[test]
fn lpos_options() {
    let server = Server::start(&[]);
    let mut c = server.raw();
    c.cmd(&["RPUSH", "l", "a", "b", "c", "1", "2", "3", "c", "c"]);
    assert_eq!(c.cmd(&["LPOS", "l", "c"]), ":2\r\n");
    assert_eq!(c.cmd(&["LPOS", "l", "c", "RANK", "2"]), ":6\r\n");
    assert_eq!(c.cmd(&["LPOS", "l", "c", "RANK", "-1"]), ":7\r\n");
    assert_eq!(c.cmd(&["LPOS", "l", "c", "COUNT", "0"]), "*3\r\n:2\r\n:6\r\n:7\r\n");
    assert_eq!(c.cmd(&["LPOS", "l", "c", "COUNT", "2", "RANK", "-1"]), "*2\r\n:7\r\n:6\r\n");
    assert_eq!(c.cmd(&["LPOS", "l", "c", "COUNT", "0", "MAXLEN", "7"]), "*2\r\n:2\r\n:6\r\n");
    assert_eq!(c.cmd(&["LPOS", "l", "1"]), ":3\r\n");
    assert_eq!(c.cmd(&["LPOS", "l", "01"]), "$-1\r\n");
    assert_eq!(c.cmd(&["LPOS", "nokey", "c"]), "$-1\r\n");
    assert_eq!(c.cmd(&["LPOS", "nokey", "c", "COUNT", "1"]), "*0\r\n");
    assert_eq!(
        c.cmd(&["LPOS", "l", "c", "RANK", "0"]),
        "-ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list\r\n"
    );
    assert_eq!(c.cmd(&["LPOS", "l", "c", "COUNT", "-1"]), "-ERR COUNT can't be negative\r\n");
    assert_eq!(c.cmd(&["LPOS", "l", "c", "MAXLEN", "x"]), "-ERR MAXLEN can't be negative\r\n");
    assert_eq!(c.cmd(&["LPOS", "l", "c", "RANK"]), "-ERR syntax error\r\n");
}

#[test]
fn lmove_rpoplpush_lmpop() {
    let server = Server::start(&[]);
    let mut c = server.raw();
    c.cmd(&["RPUSH", "src", "a", "b", "c"]);
    assert_eq!(c.cmd(&["LMOVE", "src", "dst", "LEFT", "RIGHT"]), "$1\r\na\r\n");
    assert_eq!(c.cmd(&["RPOPLPUSH", "src", "dst"]), "$1\r\nc\r\n");
    assert_eq!(range(&mut c, "dst"), "*2\r\n$1\r\nc\r\n$1\r\na\r\n");
    // The same key rotates.
    assert_eq!(c.cmd(&["LMOVE", "dst", "dst", "LEFT", "RIGHT"]), "$1\r\nc\r\n");
    assert_eq!(range(&mut c, "dst"), "*2\r\n$1\r\na\r\n$1\r\nc\r\n");
    assert_eq!(c.cmd(&["LMOVE", "nokey", "dst", "LEFT", "LEFT"]), "$-1\r\n");
    assert_eq!(c.cmd(&["LMOVE", "src", "dst", "UP", "LEFT"]), "-ERR syntax error\r\n");
    c.cmd(&["SET", "str", "x"]);
    assert_eq!(c.cmd(&["LMOVE", "src", "str", "LEFT", "LEFT"]), WRONGTYPE);
    assert_eq!(c.cmd(&["LLEN", "src"]), ":1\r\n", "nothing moved");
    assert_eq!(c.cmd(&["RPOPLPUSH", "src", "new"]), "$1\r\nb\r\n");
    assert_eq!(c.cmd(&["EXISTS", "src"]), ":0\r\n");
    assert_eq!(c.cmd(&["LMPOP", "2", "nokey", "dst", "RIGHT", "COUNT", "5"]), "*2\r\n$3\r\ndst\r\n*2\r\n$1\r\nc\r\n$1\r\na\r\n");
    assert_eq!(c.cmd(&["LMPOP", "1", "dst", "LEFT"]), "*-1\r\n");
    assert_eq!(c.cmd(&["LMPOP", "0", "dst", "LEFT"]), "-ERR numkeys should be greater than 0\r\n");
    assert_eq!(c.cmd(&["LMPOP", "1", "new", "LEFT", "COUNT", "0"]), "-ERR count should be greater than 0\r\n");
    assert_eq!(c.cmd(&["LMPOP", "2", "new", "LEFT"]), "-ERR syntax error\r\n");
    assert_eq!(c.cmd(&["LMPOP", "1", "str", "LEFT"]), WRONGTYPE);
}

#[test]
fn other_commands_on_a_list_key() {
    let server = Server::start(&[]);
    let mut c = server.raw();
    c.cmd(&["RPUSH", "l", "a", "b"]);
    assert_eq!(c.cmd(&["TYPE", "l"]), "+list\r\n");
    assert_eq!(c.cmd(&["OBJECT", "ENCODING", "l"]), "$9\r\nquicklist\r\n");
    for cmd in [
        &["GET", "l"][..],
        &["GETSET", "l", "x"],
        &["GETDEL", "l"],
        &["GETEX", "l", "PERSIST"],
        &["SET", "l", "x", "GET"],
        &["APPEND", "l", "x"],
        &["STRLEN", "l"],
        &["SETRANGE", "l", "0", "x"],
        &["GETRANGE", "l", "0", "1"],
        &["INCR", "l"],
        &["INCRBYFLOAT", "l", "1.5"],
    ] {
        assert_eq!(c.cmd(cmd), WRONGTYPE, "{cmd:?}");
    }
    assert_eq!(c.cmd(&["MGET", "l", "nokey"]), "*2\r\n$-1\r\n$-1\r\n");
    assert_eq!(c.cmd(&["LCS", "l", "nokey"]), "-ERR The specified keys must contain string values\r\n");
    c.cmd(&["SET", "s", "x"]);
    assert_eq!(c.cmd(&["LPUSH", "s", "a"]), WRONGTYPE);
    assert_eq!(c.cmd(&["LRANGE", "s", "0", "-1"]), WRONGTYPE);
    // RENAME and COPY carry lists; SET replaces one.
    assert_eq!(c.cmd(&["COPY", "l", "l2"]), ":1\r\n");
    assert_eq!(c.cmd(&["RPUSH", "l2", "c"]), ":3\r\n");
    assert_eq!(c.cmd(&["LLEN", "l"]), ":2\r\n", "the copy is independent");
    assert_eq!(c.cmd(&["RENAME", "l2", "l3"]), "+OK\r\n");
    assert_eq!(range(&mut c, "l3"), "*3\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n");
    assert_eq!(c.cmd(&["SET", "l3", "now-a-string"]), "+OK\r\n");
    assert_eq!(c.cmd(&["TYPE", "l3"]), "+string\r\n");
}

#[test]
fn dump_and_restore_lists() {
    let server = Server::start(&[]);
    let mut c = server.raw();
    // Captured from redis-server 7.0.15: DUMP of RPUSH l a b.
    let payload = corvid_tests::from_hex("1201020d0d0000000200816102816202ff0a0068eb0a891341bbb1");
    assert_eq!(c.cmd_bytes(&[b"RESTORE".as_slice(), b"r", b"0", &payload]), "+OK\r\n");
    assert_eq!(range(&mut c, "r"), "*2\r\n$1\r\na\r\n$1\r\nb\r\n");
    let mut expected = format!("${}\r\n", payload.len()).into_bytes();
    expected.extend_from_slice(&payload);
    expected.extend_from_slice(b"\r\n");
    assert_eq!(c.cmd(&["DUMP", "r"]), expected);
    // A long list spans many nodes and survives the round trip.
    let items: Vec<String> = (0..5000).map(|i| format!("item-{i}")).collect();
    let mut push = vec!["RPUSH", "big"];
    push.extend(items.iter().map(String::as_str));
    assert_eq!(c.cmd(&push), ":5000\r\n");
    let dump = c.cmd(&["DUMP", "big"]);
    let body = &dump.as_bytes()[dump.as_bytes().iter().position(|&b| b == b'\n').unwrap() + 1..dump.as_bytes().len() - 2];
    assert_eq!(c.cmd_bytes(&[b"RESTORE".as_slice(), b"big2", b"0", body]), "+OK\r\n");
    assert_eq!(c.cmd(&["LINDEX", "big2", "4999"]), "$9\r\nitem-4999\r\n");
    assert_eq!(c.cmd(&["LLEN", "big2"]), ":5000\r\n");
    // A corrupted payload is refused, not loaded.
    let mut bad = payload.clone();
    bad[8] ^= 0x40;
    assert!(c.cmd_bytes(&[b"RESTORE".as_slice(), b"bad", b"0", &bad]).starts_with("-ERR"));
    assert_eq!(c.cmd(&["EXISTS", "bad"]), ":0\r\n");
}

#[test]
fn large_elements_get_plain_nodes() {
    let server = Server::start(&["--enable-debug-command", "yes"]);
    let mut c = server.raw();
    assert_eq!(c.cmd(&["DEBUG", "QUICKLIST-PACKED-THRESHOLD", "5gb"]), "-ERR argument must be a memory value bigger than 1 and smaller than 4gb\r\n");
    assert_eq!(c.cmd(&["DEBUG", "QUICKLIST-PACKED-THRESHOLD", "x"]), "-ERR argument must be a memory value bigger than 1 and smaller than 4gb\r\n");
    assert_eq!(c.cmd(&["DEBUG", "QUICKLIST-PACKED-THRESHOLD", "5b"]), "+OK\r\n");
    c.cmd(&["RPUSH", "l", "aa", "bb", "cc"]);
    // A large element splits the node it lands in; LSET makes another.
    assert_eq!(c.cmd(&["LINSERT", "l", "AFTER", "aa", "1234567"]), ":4\r\n");
    assert_eq!(c.cmd(&["LSET", "l", "0", "xxxxxxxx"]), "+OK\r\n");
    assert_eq!(range(&mut c, "l"), "*4\r\n$8\r\nxxxxxxxx\r\n$7\r\n1234567\r\n$2\r\nbb\r\n$2\r\ncc\r\n");
    // Captured from redis-server 7.0.15 after the same commands: two plain
    // nodes (container 1) and one packed node.
    let payload = corvid_tests::from_hex("12030108787878787878787801c287d61200020f0f00000002008262620382636303ff0a00b8ea3d4613b10ac4");
    let mut expected = format!("${}\r\n", payload.len()).into_bytes();
    expected.extend_from_slice(&payload);
    expected.extend_from_slice(b"\r\n");
    assert_eq!(c.cmd(&["DUMP", "l"]), expected);
    assert!(c.cmd(&["DEBUG", "OBJECT", "l"]).contains("ql_nodes:3 ql_avg_node:1.33 ql_listpack_max:-2 ql_compressed:0 ql_uncompressed_size:30"));
    // Small values leave plain nodes behind.
    assert_eq!(c.cmd(&["LSET", "l", "0", "a"]), "+OK\r\n");
    assert_eq!(c.cmd(&["RPOP", "l"]), "$2\r\ncc\r\n");
    assert_eq!(c.cmd(&["DEBUG", "RELOAD"]), "+OK\r\n");
    assert_eq!(range(&mut c, "l"), "*3\r\n$1\r\na\r\n$7\r\n1234567\r\n$2\r\nbb\r\n");
    assert_eq!(c.cmd(&["DEBUG", "QUICKLIST-PACKED-THRESHOLD", "0"]), "+OK\r\n");
}
